// SPDX-License-Identifier: MIT
/*
 * guest/mm_stack.c - the guest's memory stack, in both memory models: the
 * slab layer's page source (hosted: the per-vCPU page cache over the pvmem
 * device; native: the guest's own buddy allocator, native_mm.c; either way
 * deflating the balloon when the source runs dry), the frame slot table,
 * slab and kmalloc initialisation, and the statistics the guest publishes.
 */

#include "guest.h"
#include "guest/virtio/balloon.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "native_mm.h"
#include "mm_stack.h"
#include "pvh.h"
#include "pvmem_guest.h"

/*
 * The slot table: one uintptr_t per frame of [0, end of RAM), in chunks of
 * at most 4 MiB (the largest block the host hands out) each covering 2 GiB.
 * With a single chunk the slab fast paths index it inline (slot_table).
 */
#define SLOT_CHUNK_ORDER  10
#define SLOT_CHUNK_SHIFT  (SLOT_CHUNK_ORDER + PS_PAGE_SHIFT - 3)
#define SLOT_CHUNK_FRAMES (1ull << SLOT_CHUNK_SHIFT)
#define SLOT_MAX_CHUNKS	  64 /* 128 GiB of address space */

static uintptr_t *slot_chunks[SLOT_MAX_CHUNKS];
static uint64_t slot_frames;

/* The published statistics: a 64 KiB block from the host. */
#define STATS_ORDER 4
static struct bvm_guest_stats *stats_buf;
static size_t stats_text_max;
static bool guest_mm_ready;

static void *gps_source_alloc(gfp_t gfp, unsigned int order)
{
	if (guest_boot.native)
		return native_mm_alloc(gfp, order);
	/* Zone-limited requests bypass the cache: it holds any-zone pages. */
	if (order == 0 && !(gfp & GFP_ZONEMASK))
		return page_cache_get();
	return pv_alloc_block(gfp & PVMEM_GFP_ALLOWED, order);
}

/* Pages deflated per OOM retry: Linux's VIRTIO_BALLOON_OOM_NR_PAGES. */
#define GPS_OOM_DEFLATE_PAGES 256

/*
 * The source is dry (hosted: the page cache is empty and the host refused;
 * native: the guest's buddy is empty): take one batch back from the balloon
 * (DEFLATE_ON_OOM) and retry once. The balloon refuses while it is itself
 * moving pages, so its own allocations never recurse into a deflate;
 * __GFP_NORETRY callers (free page reporting) just fail.
 */
static void *gps_alloc_pages(void *opaque, gfp_t gfp, unsigned int order)
{
	void *p = gps_source_alloc(gfp, order);

	if (mm_likely(p) || (gfp & __GFP_NORETRY))
		return p;
	if (gballoon_deflate_on_oom(GPS_OOM_DEFLATE_PAGES) == 0)
		return NULL;
	return gps_source_alloc(gfp, order);
}

/*
 * Pages below 16 MiB go home soon, not into the cache: ZONE_DMA is scarce.
 * Not one doorbell each (a shrinker freeing the cache's newest pages, the
 * DMA-zone ones the host hands out last, paid ~1,200 exits per GiB): the
 * ring's returns or a batch (page_cache_put_home()).
 */
#define GPS_DMA_PFN_END (16ull << 20 >> PS_PAGE_SHIFT)

static void gps_free_pages(void *opaque, void *addr, unsigned int order)
{
	int err;

	if (guest_boot.native) {
		err = native_mm_free(addr, order);
		if (err)
			guest_fail(__FILE__, __LINE__,
				   "native buddy refused to free %p order %u: "
				   "%d",
				   addr, order, err);
		return;
	}
	if (order == 0) {
		if (virt_to_pfn(addr) >= GPS_DMA_PFN_END)
			page_cache_put(addr);
		else
			page_cache_put_home(addr);
		return;
	}
	err = pv_free_block(addr, order);
	if (err)
		guest_fail(__FILE__, __LINE__,
			   "host refused to free %p order %u: %d", addr, order,
			   err);
}

static uintptr_t *gps_frame_slot(void *opaque, const void *addr)
{
	uint64_t idx = (uintptr_t)addr >> PS_PAGE_SHIFT;

	if (idx >= slot_frames)
		return NULL;
	return &slot_chunks[idx >> SLOT_CHUNK_SHIFT]
			   [idx & (SLOT_CHUNK_FRAMES - 1)];
}

static const struct page_source_ops guest_page_source_ops = {
	.alloc_pages = gps_alloc_pages,
	.free_pages = gps_free_pages,
	.frame_slot = gps_frame_slot,
};

struct page_source guest_page_source = {.ops = &guest_page_source_ops};

/* A block for the stack's own tables: from the host, or the native buddy. */
static void *guest_mm_block(gfp_t gfp, unsigned order)
{
	if (guest_boot.native)
		return native_mm_alloc(gfp, order);
	return pv_alloc_block(gfp & PVMEM_GFP_ALLOWED, order);
}

static int slot_table_init(void)
{
	uint64_t frames = guest_boot.ram_end >> PS_PAGE_SHIFT;
	uint64_t nr = (frames + SLOT_CHUNK_FRAMES - 1) / SLOT_CHUNK_FRAMES;

	if (!frames || nr > SLOT_MAX_CHUNKS)
		return -EINVAL;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t n = MM_MIN(frames - i * SLOT_CHUNK_FRAMES,
				    SLOT_CHUNK_FRAMES);

		/* Zeroed by the host: slots of frames not in a slab read 0. */
		slot_chunks[i] = guest_mm_block(GFP_KERNEL | __GFP_ZERO,
						mm_get_order(n * 8));
		if (!slot_chunks[i])
			return -ENOMEM;
	}
	slot_frames = frames;
	if (nr == 1) {
		guest_page_source.slot_table = slot_chunks[0];
		guest_page_source.slot_base = 0;
		guest_page_source.slot_frames = frames;
	}
	return 0;
}

int guest_mm_init(void)
{
	int err;

	if (guest_mm_ready)
		return 0;
	/* Native: the guest's own buddy; no pvmem device, no page cache. */
	err = guest_boot.native ? native_mm_init() : pv_init();
	if (!err && !guest_boot.native)
		err = page_cache_init();
	if (!err)
		err = slot_table_init();
	if (!err) {
		stats_buf = guest_mm_block(GFP_KERNEL, STATS_ORDER);
		stats_text_max =
			(PS_PAGE_SIZE << STATS_ORDER) - sizeof(*stats_buf);
		err = stats_buf ? 0 : -ENOMEM;
	}
	if (!err)
		err = slab_init(&guest_page_source, guest_boot.nr_cpus);
	if (!err)
		err = kmalloc_init(&guest_page_source, 0);
	if (err)
		return err;
	guest_mm_ready = true;
	return 0;
}

/* Everything the guest publishes, as text, into the stats block. */
static size_t guest_mm_format(char *text, size_t size)
{
	struct page_cache_stats pc;
	struct mm_buf b;

	page_cache_get_stats(&pc);
	mm_buf_init(&b, text, size);
	mm_buf_printf(&b, "== slabinfo ==\n");
	slabinfo_format(&b);
	mm_buf_printf(&b, "== kmalloc ==\n");
	kmalloc_usage_format(&b);
	mm_buf_printf(&b, "== page cache ==\n");
	mm_buf_printf(
		&b,
		"cached %llu\nhits %llu\nrefills %llu\ndrains %llu\n"
		"doorbells %llu\nring_takes %llu\nring_puts %llu\n"
		"kicks %llu\n",
		(unsigned long long)pc.count, (unsigned long long)pc.hits,
		(unsigned long long)pc.refills, (unsigned long long)pc.drains,
		(unsigned long long)pv_doorbell_count(),
		(unsigned long long)pc.ring_takes,
		(unsigned long long)pc.ring_puts, (unsigned long long)pc.kicks);
	return MM_MIN(b.len, size - 1);
}

void guest_mm_publish(void)
{
	if (!guest_mm_ready)
		return;
	stats_buf->len =
		(unsigned)guest_mm_format(stats_buf->text, stats_text_max);
	/* QEMU has no such channel (pvh.h): the text stays in the block. */
	if (guest_boot.platform == GUEST_PLATFORM_BUDDYVM)
		debug_write32(BVM_DEBUG_GUEST_STATS,
			      (uint32_t)(uintptr_t)stats_buf);
}

/* A slabinfo data line with no objects (third column, num_objs, is 0). */
static bool slabinfo_line_empty(const char *line)
{
	char *p = strchr(line, ' ');

	if (!p || line[0] == '#' || strncmp(line, "slabinfo", 8) == 0)
		return false;
	strtoul(p, &p, 10);
	return strtoul(p, NULL, 10) == 0;
}

void guest_mm_print_slabinfo(void)
{
	char *text = stats_buf->text, *line;
	struct mm_buf b;

	if (!guest_mm_ready)
		return;
	/* The stats block is scratch space until the next publish. */
	mm_buf_init(&b, text, stats_text_max);
	slabinfo_format(&b);
	for (line = text; *line;) {
		char *nl = strchr(line, '\n');

		if (!nl)
			break;
		*nl = '\0';
		if (!slabinfo_line_empty(line))
			guest_printf("%s\n", line);
		line = nl + 1;
	}
}
