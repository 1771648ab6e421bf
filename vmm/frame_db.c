// SPDX-License-Identifier: MIT
/*
 * vmm/frame_db.c - the VM's frame database (frame_db.h): an mm instance
 * built from the guest RAM layout, with zeroing and release of backing done
 * on guest RAM.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "vmm/frame_db.h"
#include "abi/boot.h"

struct frame_db {
	const struct guest_mem *mem;
	struct mm *mm;
	void *meta; /* mmap'd frame database, meta_size bytes */
	size_t meta_size;
	uint64_t ram_pages;
	atomic_uint_fast64_t zero_calls, zero_pages;
	atomic_uint_fast64_t discard_calls, discard_pages, discard_errors;
};

/*
 * Zero guest frames through their host mapping. A block never crosses a RAM
 * region (the regions are the mm's ranges), but go page by page if the whole
 * range does not resolve, so that a surprise can never leave a frame dirty.
 */
static void frame_db_zero_frames(struct frame_db *fdb, uint64_t pfn,
				 uint64_t nr)
{
	void *p = guest_mem_ptr(fdb->mem, MM_PFN_TO_ADDR(pfn), nr * PAGE_SIZE);

	if (p) {
		memset(p, 0, nr * PAGE_SIZE);
		return;
	}
	for (uint64_t i = 0; i < nr; i++) {
		p = guest_mem_ptr(fdb->mem, MM_PFN_TO_ADDR(pfn + i), PAGE_SIZE);
		if (p)
			memset(p, 0, PAGE_SIZE);
	}
}

static void frame_db_zero_cb(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct frame_db *fdb = opaque;

	atomic_fetch_add_explicit(&fdb->zero_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fdb->zero_pages, nr, memory_order_relaxed);
	frame_db_zero_frames(fdb, pfn, nr);
}

/*
 * mm marks the frames PG_DISCARDED whatever happens here and will skip
 * zeroing them later, so if the host refuses to release them they must be
 * zeroed now: otherwise a __GFP_ZERO allocation could see old data.
 */
static void frame_db_discard_cb(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct frame_db *fdb = opaque;
	int err;

	atomic_fetch_add_explicit(&fdb->discard_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fdb->discard_pages, nr,
				  memory_order_relaxed);
	err = guest_mem_discard(fdb->mem, MM_PFN_TO_ADDR(pfn), nr * PAGE_SIZE);
	if (err) {
		atomic_fetch_add_explicit(&fdb->discard_errors, 1,
					  memory_order_relaxed);
		frame_db_zero_frames(fdb, pfn, nr);
	}
}

static const struct mm_ops frame_db_ops = {
	.zero = frame_db_zero_cb,
	.discard = frame_db_discard_cb,
};

/* The mm ranges of @mem's regions: page-aligned, sorted, disjoint. */
static int frame_db_ranges(const struct guest_mem *mem, struct mm_range *ranges,
			   uint64_t *ram_pages)
{
	uint64_t prev_end = 0;

	if (mem->nr_regions == 0 || mem->nr_regions > GUEST_MEM_MAX_REGIONS)
		return -EINVAL;
	*ram_pages = 0;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if ((r->gpa | r->size) & (PAGE_SIZE - 1) || r->size == 0 ||
		    r->gpa < prev_end || r->gpa + r->size < r->gpa)
			return -EINVAL;
		ranges[i].start_pfn = MM_ADDR_TO_PFN(r->gpa);
		ranges[i].end_pfn = MM_ADDR_TO_PFN(r->gpa + r->size);
		*ram_pages += ranges[i].end_pfn - ranges[i].start_pfn;
		prev_end = r->gpa + r->size;
	}
	return 0;
}

/* Boot data, then the kernel image, become FRAME_RESERVED. */
static int frame_db_reserve_boot(struct frame_db *fdb, uint64_t kernel_end)
{
	uint64_t end_pfn = MM_ADDR_TO_PFN(kernel_end + PAGE_SIZE - 1);
	uint64_t boot_pfn = MM_ADDR_TO_PFN(BVM_BOOT_END);
	int err;

	err = mm_reserve_range(fdb->mm, 0, boot_pfn);
	if (err)
		return err;
	if (end_pfn > boot_pfn)
		err = mm_reserve_range(fdb->mm, boot_pfn, end_pfn - boot_pfn);
	return err;
}

uint64_t frame_db_movable_start(const struct guest_mem *mem,
				uint64_t movable_bytes)
{
	struct mm_range ranges[GUEST_MEM_MAX_REGIONS];
	struct mm_config mc = {
		.ranges = ranges,
		.nr_ranges = mem->nr_regions,
		.movable_pages = MM_ADDR_TO_PFN(movable_bytes),
	};
	uint64_t ram_pages, pfn;

	if (!movable_bytes || frame_db_ranges(mem, ranges, &ram_pages))
		return UINT64_MAX;
	pfn = mm_movable_start_pfn(&mc);
	return pfn == UINT64_MAX ? UINT64_MAX : MM_PFN_TO_ADDR(pfn);
}

static int frame_db_init_mm(struct frame_db *fdb,
			    const struct frame_db_config *cfg)
{
	struct mm_range ranges[GUEST_MEM_MAX_REGIONS];
	struct mm_config mc = {
		.ranges = ranges,
		.nr_ranges = fdb->mem->nr_regions,
		.movable_pages = MM_ADDR_TO_PFN(cfg->movable_bytes),
		.ops = &frame_db_ops,
		.opaque = fdb,
		.meta_zeroed = true,
	};
	size_t size;
	int err;

	err = frame_db_ranges(fdb->mem, ranges, &fdb->ram_pages);
	if (err)
		return err;
	size = mm_meta_size(&mc);
	if (size == 0)
		return -EINVAL;
	/*
	 * Fresh anonymous memory is zero and costs nothing until touched, so
	 * the frame database's RSS follows the frames the guest uses.
	 */
	size = (size + 4095) & ~(size_t)4095;
	fdb->meta = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fdb->meta == MAP_FAILED) {
		fdb->meta = NULL;
		return -ENOMEM;
	}
	fdb->meta_size = size;
	err = mm_init(&fdb->mm, &mc, fdb->meta, size);
	if (err)
		return err;
	return frame_db_reserve_boot(fdb, cfg->kernel_end);
}

int frame_db_create(struct frame_db **out, const struct guest_mem *mem,
		    const struct frame_db_config *cfg)
{
	struct frame_db *fdb;
	int err;

	fdb = calloc(1, sizeof(*fdb));
	if (!fdb)
		return -ENOMEM;
	fdb->mem = mem;
	err = frame_db_init_mm(fdb, cfg);
	if (err) {
		/* -EBUSY/-ERANGE from reserving: RAM smaller than the kernel */
		frame_db_destroy(fdb);
		return err == -ENOMEM ? err : -EINVAL;
	}
	/*
	 * A new VM's free frames are not marked unbacked
	 * (mm_mark_free_unbacked()), though new RAM reads as zero: the zeroing
	 * of a __GFP_ZERO allocation faults host memory in before the guest
	 * writes it, and without it a hosted guest's fill of 1 GiB took
	 * 170-182 ms against 69-72 (docs/hosted-memory.md).
	 */
	*out = fdb;
	return 0;
}

void frame_db_destroy(struct frame_db *fdb)
{
	if (!fdb)
		return;
	if (fdb->meta)
		munmap(fdb->meta, fdb->meta_size);
	free(fdb);
}

struct mm *frame_db_mm(struct frame_db *fdb)
{
	return fdb->mm;
}

const struct guest_mem *frame_db_guest_mem(const struct frame_db *fdb)
{
	return fdb->mem;
}

uint64_t frame_db_ram_pages(const struct frame_db *fdb)
{
	return fdb->ram_pages;
}

void frame_db_get_stats(struct frame_db *fdb, struct frame_db_stats *out)
{
	out->zero_calls = atomic_load(&fdb->zero_calls);
	out->zero_pages = atomic_load(&fdb->zero_pages);
	out->discard_calls = atomic_load(&fdb->discard_calls);
	out->discard_pages = atomic_load(&fdb->discard_pages);
	out->discard_errors = atomic_load(&fdb->discard_errors);
}

/* Take every free block of @order from the zones @gfp reaches. */
static void frame_db_take_order(struct mm *mm, gfp_t gfp, unsigned order)
{
	uint64_t pfn;

	while (mm_alloc_pages(mm, gfp, order, &pfn) == 0)
		;
}

int frame_db_give_all(struct frame_db *fdb)
{
	/*
	 * Highest zone first, so each pass leaves the lower zones to later;
	 * ZONE_MOVABLE (--movable) serves only movable requests: last.
	 */
	static const gfp_t zones[] = {0, __GFP_DMA32, __GFP_DMA, __GFP_MOVABLE};
	struct mm_stats st;

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
		for (int order = MAX_PAGE_ORDER; order >= 0; order--)
			frame_db_take_order(fdb->mm,
					    zones[z] | __GFP_MEMALLOC |
						    __GFP_NOWARN,
					    (unsigned)order);
	mm_drain_pcp(fdb->mm);
	mm_get_stats(fdb->mm, &st);
	return st.frames[FRAME_FREE] ? -ENOMEM : 0;
}
