// SPDX-License-Identifier: MIT
/*
 * guest/native_mm.c - the guest's own buddy allocator in the native memory
 * model (native_mm.h): the same mm/ code the VMM runs for the hosted model,
 * here compiled freestanding and run at CPL 3 over the guest's RAM.
 */

#include "guest.h"
#include "mm/errno.h"
#include "mm/port.h"
#include "native_mm.h"

#define NATIVE_MAX_RANGES 8

static struct mm *native_instance;
static int native_cma = -1; /* the cma= area's id */
static struct mm_range native_ranges[NATIVE_MAX_RANGES];

/*
 * One bit per 2 MiB chunk of guest-physical space: reported to the host
 * (free page reporting) and not allocated since. Set by the reporter,
 * cleared by every allocation that touches the chunk.
 */
#define CHUNK_ORDER   PAGEBLOCK_ORDER
#define NATIVE_CHUNKS (1u << 16) /* 128 GiB */
static uint64_t chunk_reported[NATIVE_CHUNKS / 64];

/* __GFP_ZERO: the guest zeroes its own frames (identity map). */
static void native_zero(void *opaque, uint64_t pfn, uint64_t nr)
{
	memset((void *)(uintptr_t)MM_PFN_TO_ADDR(pfn), 0, nr * PAGE_SIZE);
}

static const struct mm_ops native_ops = {.zero = native_zero};

/* guest_boot.ram (sorted at boot) as whole page ranges; 0 if none. */
static unsigned native_read_ranges(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < guest_boot.nr_ram && n < NATIVE_MAX_RANGES;
	     i++) {
		uint64_t base = guest_boot.ram[i].base;
		uint64_t size = guest_boot.ram[i].size;

		if (size < PAGE_SIZE)
			continue;
		native_ranges[n++] =
			(struct mm_range){MM_ADDR_TO_PFN(base + PAGE_SIZE - 1),
					  MM_ADDR_TO_PFN(base + size)};
	}
	return n;
}

/*
 * cma=SIZE[@ZONE] on the command line (vmm run --cma passes it, as Linux's
 * cma= parameter): SIZE in MiB ("64M"), ZONE dma, dma32 (default) or
 * normal. Reserved right after the buddy exists, while all of it is free.
 */
static int native_cma_reserve(void)
{
	static const char *const zones[] = {"dma", "dma32", "normal"};
	char arg[32], *end, *at;
	unsigned long mib;
	int zone = ZONE_DMA32, id;
	uint64_t pfn;

	if (!guest_cmdline_get("cma", arg, sizeof(arg)))
		return -1;
	mib = strtoul(arg, &end, 10);
	at = strchr(arg, '@');
	for (unsigned z = 0; at && z < 3; z++)
		if (strcmp(at + 1, zones[z]) == 0)
			zone = (int)z;
	if (!mib || (*end != 'M' && *end != 'm')) {
		guest_printf("native mm: cma=%s: not SIZE in MiB (e.g. 64M)\n",
			     arg);
		return -1;
	}
	id = mm_cma_reserve(native_instance, (enum zone_type)zone,
			    (uint64_t)mib << (20 - PAGE_SHIFT), &pfn);
	if (id < 0)
		guest_printf("native mm: cma=%s: no room (%d)\n", arg, id);
	return id < 0 ? -1 : id;
}

int native_mm_cma(void)
{
	return native_cma;
}

/*
 * The Movable zone the device tree describes (vmm run --movable) as the
 * mm_config wants it: the frames of RAM at and above its start. Its start
 * is pageblock aligned, so mm_init() puts it exactly there.
 */
static uint64_t native_movable_pages(unsigned nr_ranges)
{
	uint64_t start = MM_ADDR_TO_PFN(guest_boot.movable_start), pages = 0;

	if (!guest_boot.movable_start)
		return 0;
	for (unsigned i = 0; i < nr_ranges; i++) {
		uint64_t from = MM_MAX(native_ranges[i].start_pfn, start);

		if (native_ranges[i].end_pfn > from)
			pages += native_ranges[i].end_pfn - from;
	}
	return pages;
}

int native_mm_init(void)
{
	struct mm_config cfg = {.ops = &native_ops};
	uint64_t meta, meta_size;
	int err;

	if (native_instance)
		return 0;
	cfg.nr_ranges = native_read_ranges();
	cfg.ranges = native_ranges;
	cfg.movable_pages = native_movable_pages(cfg.nr_ranges);
	meta_size = mm_meta_size(&cfg);
	if (!cfg.nr_ranges || !meta_size)
		return -EINVAL;
	meta_size = (meta_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	meta = (guest_boot.kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	/* The metadata must lie in the first RAM range, after the image. */
	if (meta + meta_size > MM_PFN_TO_ADDR(native_ranges[0].end_pfn))
		return -EINVAL;
	err = mm_init(&native_instance, &cfg, (void *)(uintptr_t)meta,
		      meta_size);
	if (err)
		return err;
	err = mm_reserve_range(native_instance, native_ranges[0].start_pfn,
			       MM_ADDR_TO_PFN(meta + meta_size) -
				       native_ranges[0].start_pfn);
	if (err)
		native_instance = NULL;
	else
		native_cma = native_cma_reserve();
	return err;
}

struct mm *native_mm(void)
{
	return native_instance;
}

/* Visit the chunks [pfn, pfn + nr) touches; false if one is beyond. */
static bool chunk_span(uint64_t pfn, uint64_t nr, uint64_t *lo, uint64_t *hi)
{
	*lo = pfn >> CHUNK_ORDER;
	*hi = (pfn + nr + (1ull << CHUNK_ORDER) - 1) >> CHUNK_ORDER;
	return nr && *hi <= NATIVE_CHUNKS;
}

static void chunks_clear(uint64_t pfn, uint64_t nr)
{
	uint64_t lo, hi;

	if (!chunk_span(pfn, nr, &lo, &hi))
		return;
	for (uint64_t c = lo; c < hi; c++)
		__atomic_fetch_and(&chunk_reported[c / 64], ~(1ull << (c % 64)),
				   __ATOMIC_RELAXED);
}

void native_mm_set_chunk_reported(uint64_t pfn, uint64_t nr)
{
	uint64_t lo, hi;

	if (!chunk_span(pfn, nr, &lo, &hi))
		return;
	for (uint64_t c = lo; c < hi; c++)
		__atomic_fetch_or(&chunk_reported[c / 64], 1ull << (c % 64),
				  __ATOMIC_RELAXED);
}

bool native_mm_chunk_reported(uint64_t pfn, uint64_t nr)
{
	uint64_t lo, hi;

	if (!chunk_span(pfn, nr, &lo, &hi))
		return false;
	for (uint64_t c = lo; c < hi; c++)
		if (!(__atomic_load_n(&chunk_reported[c / 64],
				      __ATOMIC_RELAXED) &
		      (1ull << (c % 64))))
			return false;
	return true;
}

void *native_mm_alloc(gfp_t gfp, unsigned order)
{
	uint64_t pfn;

	if (!native_instance ||
	    mm_alloc_pages(native_instance, gfp, order, &pfn) < 0)
		return NULL;
	/* The guest may write it now: its chunk needs reporting again. */
	chunks_clear(pfn, 1ull << order);
	return (void *)(uintptr_t)MM_PFN_TO_ADDR(pfn);
}

int native_mm_free(void *addr, unsigned order)
{
	if (!native_instance)
		return -EINVAL;
	return mm_free_pages(native_instance, MM_ADDR_TO_PFN((uintptr_t)addr),
			     order);
}
