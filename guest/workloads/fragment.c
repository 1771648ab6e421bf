// SPDX-License-Identifier: MIT
/*
 * workload=fragment: fragment memory as a page cache and slab would, then
 * ask for contiguous DMA buffers of 2, 4, 8, 16, 32 and 64 MiB (both
 * memory models; docs/compaction.md explains one run).
 *
 * 1. Page cache and slab, interleaved: fragment.cache_mib of movable
 *    buffers (guest/mbuf.c, fragment.order each, 512 KiB by default), and
 *    after each one fragment.slab objects of 1 KiB from kmalloc.
 * 2. The rest of RAM: unmovable order-0 pages ("kernel pages") until the
 *    allocator says no.
 * 3. Free every other movable buffer (holes in the page cache), 7 of 8
 *    slab objects, and every kernel page but one per 2 MiB pageblock: the
 *    survivors pin their pageblocks, as slab pages do in Linux.
 * 4. For each size, fragment.reps buffers (held until the size is done):
 *    the time of each request, its status, and the frames migrated for it.
 *
 * fragment.hold=1 then keeps the guest fragmented, serving the host's
 * migration requests (vmm compact), until the host quits.
 *
 * fragment.mode: on (default) - dma_alloc_coherent() (GFP_KERNEL: the
 * allocator may migrate movable frames out of the way); off - the same
 * request without __GFP_DIRECT_RECLAIM (no migration: only ranges that are
 * already free); cma - as on, under vmm run --cma: the DMA API takes the
 * CMA area first (hosted: the host's; native: the guest's, reserved from
 * cma=SIZE[@ZONE] on its command line). Prints one line per request and per size
 * ("fragment: dma ..." / "fragment: size ..."), the buddyinfo before and
 * after the DMA phase (hosted: the host's, from pvmem STATS), and checks
 * at the end that every movable buffer kept its data.
 */
#include "dma.h"
#include "guest.h"
#include "guest_migrate.h"
#include "mbuf.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/page_order.h"
#include "mm_stack.h"
#include "native_mm.h"
#include "pvmem_guest.h"

#define FR_DEV	    63 /* the experiment's DMA device id */
#define FR_SLAB_MAX 16384
#define FR_KEEP_MAX 65536 /* kernel pages kept: one per pageblock */
#define FR_REPS_MAX 8
#define FR_NR_SIZES 6

/* fragment.sizes=MIB,MIB,... (default all six), in this order. */
static unsigned fr_sizes_mib[FR_NR_SIZES] = {2, 4, 8, 16, 32, 64};
static unsigned fr_nr_sizes = FR_NR_SIZES;

static void fr_parse_sizes(void)
{
	char arg[64], *p = arg;

	if (!guest_cmdline_get("fragment.sizes", arg, sizeof(arg)))
		return;
	fr_nr_sizes = 0;
	while (*p && fr_nr_sizes < FR_NR_SIZES) {
		unsigned long mib = strtoul(p, &p, 10);

		GUEST_ASSERT(mib >= 1 && mib <= 64 && (!*p || *p == ','));
		fr_sizes_mib[fr_nr_sizes++] = (unsigned)mib;
		p += *p == ',';
	}
	GUEST_ASSERT(fr_nr_sizes > 0);
}

enum fr_mode { FR_ON, FR_OFF, FR_CMA };

static struct {
	enum fr_mode mode;
	unsigned order, reps, slab_per;
	struct mbuf *bufs[MBUF_MAX];
	unsigned nr_bufs;
	void *slab[FR_SLAB_MAX];
	unsigned nr_slab;
	uint64_t keep[FR_KEEP_MAX];
	unsigned nr_keep;
	uint8_t pinned[FR_KEEP_MAX / 8]; /* pageblocks with a kept page */
	int cma_id; /* native: the guest's CMA area, or -1 */
	struct dma_dev dev;
} fr;

static uint8_t fr_byte(unsigned i)
{
	return (uint8_t)(i * 29 + 7);
}

/* Kernel pages -------------------------------------------------------------- */

/* Hosted: through the per-vCPU page cache, one doorbell per 64 pages. */
static void *fr_page_alloc(void)
{
	return guest_boot.native ? native_mm_alloc(GFP_KERNEL, 0)
				 : page_cache_get();
}

/*
 * Fill RAM with unmovable pages; the pfns go into index pages (themselves
 * such pages), 511 to a page plus the link. Return the first index page.
 */
static uint64_t *fr_fill(uint64_t *nr_pages)
{
	uint64_t *head = NULL, *idx = NULL;
	unsigned n = 511;
	void *p;

	*nr_pages = 0;
	while ((p = fr_page_alloc())) {
		if (n == 511) {
			uint64_t *next = p;

			next[511] = 0;
			if (idx)
				idx[511] = (uint64_t)(uintptr_t)next;
			else
				head = next;
			idx = next;
			n = 0;
			continue;
		}
		idx[n++] = virt_to_pfn(p);
		(*nr_pages)++;
	}
	if (idx && n < 511)
		idx[n] = 0; /* end marker */
	return head;
}

/* Hosted: frees batched into one doorbell per 256. */
static struct pvmem_free_ent *fr_ents;
static unsigned fr_nr_ents;

static void fr_flush_frees(void)
{
	unsigned freed;

	if (fr_nr_ents)
		GUEST_ASSERT_EQ(pv_free(fr_ents, fr_nr_ents, &freed), 0);
	fr_nr_ents = 0;
}

static void fr_page_free(uint64_t pfn)
{
	if (guest_boot.native) {
		GUEST_ASSERT_EQ(native_mm_free(pfn_to_virt(pfn), 0), 0);
		return;
	}
	fr_ents[fr_nr_ents++] = (struct pvmem_free_ent){.pfn = pfn};
	if (fr_nr_ents == PAGE_SIZE / sizeof(*fr_ents))
		fr_flush_frees();
}

/* Keep @pfn if it is the first kernel page seen in its pageblock. */
static bool fr_keep(uint64_t pfn)
{
	uint64_t pb = pfn / PAGEBLOCK_NR_PAGES;

	if (pb >= FR_KEEP_MAX || fr.pinned[pb / 8] & (1u << (pb % 8)))
		return false;
	fr.pinned[pb / 8] |= (uint8_t)(1u << (pb % 8));
	fr.keep[fr.nr_keep++] = pfn;
	return true;
}

/* Free all kernel pages but one in each pageblock; free the index. */
static void fr_thin(uint64_t *idx)
{
	while (idx) {
		uint64_t *next = (uint64_t *)(uintptr_t)idx[511];

		for (unsigned i = 0; i < 511 && idx[i]; i++)
			if (!fr_keep(idx[i]))
				fr_page_free(idx[i]);
		fr_page_free(virt_to_pfn(idx));
		idx = next;
	}
	if (!guest_boot.native)
		fr_flush_frees();
}

/* Page cache and slab ------------------------------------------------------- */

static void fr_cache_and_slab(unsigned nr)
{
	for (unsigned i = 0; i < nr && i < MBUF_MAX; i++) {
		struct mbuf *b = mbuf_alloc(PAGE_SIZE << fr.order);
		uint8_t *p;

		if (!b)
			break;
		/* Page cache pages hold data: all of it is written. */
		p = mbuf_map(b);
		memset(p, fr_byte(i), PAGE_SIZE << fr.order);
		mbuf_unmap(b);
		fr.bufs[fr.nr_bufs++] = b;
		for (unsigned k = 0;
		     k < fr.slab_per && fr.nr_slab < FR_SLAB_MAX; k++) {
			void *o = kmalloc(1024, GFP_KERNEL);

			if (!o)
				break;
			fr.slab[fr.nr_slab++] = o;
		}
	}
}

static void fr_punch_holes(void)
{
	for (unsigned i = 1; i < fr.nr_bufs; i += 2) {
		mbuf_free(fr.bufs[i]);
		fr.bufs[i] = NULL;
	}
	for (unsigned i = 0; i < fr.nr_slab; i++) {
		if (i % 8) {
			kfree(fr.slab[i]);
			fr.slab[i] = NULL;
		}
	}
}

static bool fr_buf_intact(unsigned i)
{
	const uint8_t *p = mbuf_map(fr.bufs[i]);
	uint64_t len = PAGE_SIZE << fr.order;
	bool ok = p[0] == fr_byte(i) && p[63] == fr_byte(i) &&
		  p[len - 64] == fr_byte(i) && p[len - 1] == fr_byte(i);

	mbuf_unmap(fr.bufs[i]);
	return ok;
}

/* Buddyinfo ----------------------------------------------------------------- */

static const char *const fr_zone_names[MM_NR_ZONES] = {"DMA", "DMA32", "Normal",
						       "Movable"};

/* "fragment: buddyinfo WHEN zone NAME n0 .. n10", one line per zone. */
static void fr_print_buddyinfo(const char *when)
{
	static struct pvmem_stats st;

	if (!guest_boot.native)
		GUEST_ASSERT_EQ(pv_stats(&st), 0);
	for (unsigned z = 0; z < MM_NR_ZONES; z++) {
		struct mm_zone_info zi;
		uint64_t nr[NR_PAGE_ORDERS], sum = 0;

		if (guest_boot.native) {
			if (mm_zone_info(native_mm(), (enum zone_type)z, &zi) ||
			    !zi.populated)
				continue;
			memcpy(nr, zi.nr_free, sizeof(nr));
		} else {
			memcpy(nr, st.nr_free[z], sizeof(nr));
		}
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			sum += nr[o];
		if (!sum && !guest_boot.native)
			continue;
		guest_printf("fragment: buddyinfo %s zone %s", when,
			     fr_zone_names[z]);
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			guest_printf(" %llu", (unsigned long long)nr[o]);
		guest_printf("\n");
	}
}

/* DMA ------------------------------------------------------------------------ */

/* Native, no migration: the first all-free range of @nr frames. */
static int fr_native_free_range(uint64_t nr, uint64_t *pfn)
{
	struct mm *mm = native_mm();
	uint64_t limit = MM_ADDR_TO_PFN(guest_boot.ram_end), run = 0;

	if (fr.dev.dma_bits < 64 &&
	    (1ull << fr.dev.dma_bits) < guest_boot.ram_end)
		limit = MM_ADDR_TO_PFN(1ull << fr.dev.dma_bits);
	for (uint64_t p = 0; p < limit; p++) {
		const struct page *pg = mm_pfn_to_page(mm, p);

		if (!pg || pg->state != FRAME_FREE ||
		    (!run && p % PAGEBLOCK_NR_PAGES)) {
			run = 0;
			continue;
		}
		if (++run == nr &&
		    !mm_alloc_contig_range(mm, p + 1 - nr, p + 1)) {
			*pfn = p + 1 - nr;
			return 0;
		}
		if (run == nr)
			run = 0;
	}
	return -ENOMEM;
}

struct fr_buf {
	uint64_t addr, bytes;
	bool api; /* from dma_alloc_coherent() */
};

/* Native, off: a free range of our own buddy, then FRAME_DMA. */
static int fr_native_alloc(struct fr_buf *b)
{
	struct mm *mm = native_mm();
	uint64_t nr = b->bytes / PAGE_SIZE, pfn;
	int err = fr_native_free_range(nr, &pfn);

	if (err)
		return err;
	GUEST_ASSERT_EQ(mm_set_frames_state(mm, pfn, nr, FRAME_GUEST, FRAME_DMA,
					    FR_DEV),
			0);
	memset(pfn_to_virt(pfn), 0, b->bytes);
	b->addr = MM_PFN_TO_ADDR(pfn);
	return 0;
}

static int fr_alloc(struct fr_buf *b)
{
	void *cpu;

	b->api = false;
	if (fr.mode != FR_OFF) {
		b->api = true;
		return dma_alloc_coherent(&fr.dev, b->bytes, &cpu, &b->addr);
	}
	if (!guest_boot.native)
		return pv_dma_alloc(FR_DEV, b->bytes, fr.dev.dma_bits,
				    GFP_NOWAIT | __GFP_ZERO, &b->addr);
	return fr_native_alloc(b);
}

static void fr_free(const struct fr_buf *b)
{
	struct mm *mm = native_mm();
	uint64_t pfn = MM_ADDR_TO_PFN(b->addr), nr = b->bytes / PAGE_SIZE;

	if (b->api) {
		GUEST_ASSERT_EQ(dma_free_coherent(&fr.dev, b->bytes,
						  (void *)(uintptr_t)b->addr,
						  b->addr),
				0);
		return;
	}
	if (!guest_boot.native) {
		GUEST_ASSERT_EQ(pv_dma_free(FR_DEV, b->addr), 0);
		return;
	}
	GUEST_ASSERT_EQ(
		mm_set_frames_state(mm, pfn, nr, FRAME_DMA, FRAME_GUEST, 0), 0);
	GUEST_ASSERT_EQ(mm_free_contig_range(mm, pfn, nr), 0);
}

/* Every size, fr.reps tries each, held until the size is done. */
static unsigned fr_dma_phase(void)
{
	uint64_t khz = guest_tsc_khz();
	unsigned total_ok = 0;

	for (unsigned s = 0; s < fr_nr_sizes; s++) {
		struct fr_buf bufs[FR_REPS_MAX];
		uint64_t us_sum = 0, us_max = 0, mig_sum = 0;
		unsigned ok = 0;

		for (unsigned r = 0; r < fr.reps; r++) {
			struct mbuf_stats m0, m1;
			uint64_t t0, us, migrated;
			int err;

			bufs[r] = (struct fr_buf){
				.bytes = (uint64_t)fr_sizes_mib[s] << 20};
			mbuf_get_stats(&m0);
			t0 = rdtsc();
			err = fr_alloc(&bufs[r]);
			us = (rdtsc() - t0) * 1000 / khz;
			mbuf_get_stats(&m1);
			migrated = (m1.moved - m0.moved) << fr.order;
			if (err)
				bufs[r].bytes = 0;
			else
				ok++;
			us_sum += us;
			us_max = us > us_max ? us : us_max;
			mig_sum += migrated;
			guest_printf(
				"fragment: dma size_mib %u try %u status %d "
				"us %llu migrated_frames %llu addr 0x%llx\n",
				fr_sizes_mib[s], r, err, (unsigned long long)us,
				(unsigned long long)migrated,
				(unsigned long long)bufs[r].addr);
		}
		guest_printf(
			"fragment: size %u MiB ok %u/%u mean_us %llu max_us "
			"%llu migrated_frames %llu\n",
			fr_sizes_mib[s], ok, fr.reps,
			(unsigned long long)(us_sum / fr.reps),
			(unsigned long long)us_max,
			(unsigned long long)mig_sum);
		for (unsigned r = 0; r < fr.reps; r++)
			if (bufs[r].bytes)
				fr_free(&bufs[r]);
		total_ok += ok;
	}
	return total_ok;
}

/*
 * fragment.hold=1: stay fragmented and serve the host's migration requests
 * (vmm compact) until the host quits: a timer tick polls the ring.
 */
static _Noreturn void fr_hold(void)
{
	guest_printf("fragment: holding\n");
	lapic_timer_periodic(1000);
	for (;;) {
		if (!guest_boot.native)
			gmig_drain();
		guest_wait_for_interrupt();
		guest_take_device_irqs();
	}
}

/* Setup ---------------------------------------------------------------------- */

static enum fr_mode fr_parse_mode(void)
{
	char m[8];

	if (!guest_cmdline_get("fragment.mode", m, sizeof(m)) ||
	    strcmp(m, "on") == 0)
		return FR_ON;
	if (strcmp(m, "off") == 0)
		return FR_OFF;
	if (strcmp(m, "cma") == 0)
		return FR_CMA;
	guest_fail(__FILE__, __LINE__, "fragment.mode: '%s' (on, off, cma)", m);
}

static void fragment_run(void)
{
	uint64_t cache_mib, nr_pages, *idx;
	unsigned nr_bufs, total_ok, moved_bufs = 0;
	struct mbuf_stats ms;
	int err;

	fr.mode = fr_parse_mode();
	fr_parse_sizes();
	fr.order = (unsigned)guest_cmdline_ulong("fragment.order", 7);
	fr.reps = (unsigned)guest_cmdline_ulong("fragment.reps", 4);
	fr.slab_per = (unsigned)guest_cmdline_ulong("fragment.slab", 16);
	fr.dev = (struct dma_dev){.id = FR_DEV, .dma_bits = 32};
	fr.cma_id = -1;
	GUEST_ASSERT(fr.order <= MBUF_MAX_ORDER && fr.reps >= 1 &&
		     fr.reps <= FR_REPS_MAX);
	err = mbuf_start();
	if (err)
		guest_fail(__FILE__, __LINE__, "fragment: init: %d", err);
	if (guest_boot.native)
		fr.cma_id = native_mm_cma();
	/* Default: a quarter of RAM, as many buffers as the table holds. */
	cache_mib = guest_cmdline_ulong("fragment.cache_mib",
					guest_boot.ram_bytes >> 22);
	nr_bufs = (unsigned)((cache_mib << 20) / (PAGE_SIZE << fr.order));
	fr_ents = fr_page_alloc();
	GUEST_ASSERT(fr_ents != NULL);
	fr_cache_and_slab(nr_bufs);
	idx = fr_fill(&nr_pages);
	fr_punch_holes();
	fr_thin(idx);
	guest_printf("fragment: fragmented: %u movable buffers of %u KiB "
		     "(every other freed), %u slab objects (7 of 8 freed), "
		     "%llu kernel pages (%u kept, one per pageblock), mode %s, "
		     "cma area %d\n",
		     fr.nr_bufs, (unsigned)((PAGE_SIZE << fr.order) >> 10),
		     fr.nr_slab, (unsigned long long)nr_pages, fr.nr_keep,
		     fr.mode == FR_ON	 ? "on"
		     : fr.mode == FR_OFF ? "off"
					 : "cma",
		     fr.cma_id);
	if (fr.cma_id >= 0) {
		struct mm_cma_info ci;

		GUEST_ASSERT_EQ(mm_cma_info(native_mm(), fr.cma_id, &ci), 0);
		guest_printf("fragment: cma area base 0x%llx end 0x%llx\n",
			     (unsigned long long)MM_PFN_TO_ADDR(ci.base_pfn),
			     (unsigned long long)MM_PFN_TO_ADDR(ci.base_pfn +
								ci.count));
	}
	fr_print_buddyinfo("before");
	total_ok = fr_dma_phase();
	fr_print_buddyinfo("after");
	if (guest_cmdline_ulong("fragment.hold", 0))
		fr_hold();
	for (unsigned i = 0; i < fr.nr_bufs; i += 2) {
		if (!fr_buf_intact(i))
			guest_fail(__FILE__, __LINE__,
				   "fragment: movable buffer %u lost its data",
				   i);
		mbuf_free(fr.bufs[i]);
		moved_bufs++;
	}
	mbuf_get_stats(&ms);
	for (unsigned i = 0; i < fr.nr_slab; i++)
		kfree(fr.slab[i]);
	for (unsigned i = 0; i < fr.nr_keep; i++)
		fr_page_free(fr.keep[i]);
	if (!guest_boot.native)
		fr_flush_frees();
	guest_printf("fragment: %u buffers granted, %llu movable buffers "
		     "moved, %u intact\n",
		     total_ok, (unsigned long long)ms.moved, moved_bufs);
	guest_printf("fragment: ok\n");
}

GUEST_WORKLOAD(fragment, "fragment",
	       "fragment memory, then ask for 2..64 MiB contiguous DMA buffers",
	       fragment_run);
