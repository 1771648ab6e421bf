// SPDX-License-Identifier: MIT
/*
 * devices/hosted_mem.c - the mm instance of a hosted-model VM, built from its
 * guest RAM layout, with zeroing and release of backing done on guest RAM.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "devices/hosted_mem.h"
#include "abi/boot.h"

struct hosted_mem {
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
static void hosted_mem_zero_frames(struct hosted_mem *hm, uint64_t pfn,
				   uint64_t nr)
{
	void *p = guest_mem_ptr(hm->mem, MM_PFN_TO_ADDR(pfn), nr * PAGE_SIZE);

	if (p) {
		memset(p, 0, nr * PAGE_SIZE);
		return;
	}
	for (uint64_t i = 0; i < nr; i++) {
		p = guest_mem_ptr(hm->mem, MM_PFN_TO_ADDR(pfn + i), PAGE_SIZE);
		if (p)
			memset(p, 0, PAGE_SIZE);
	}
}

static void hosted_mem_zero_cb(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct hosted_mem *hm = opaque;

	atomic_fetch_add_explicit(&hm->zero_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hm->zero_pages, nr, memory_order_relaxed);
	hosted_mem_zero_frames(hm, pfn, nr);
}

/*
 * mm marks the frames PG_DISCARDED whatever happens here and will skip
 * zeroing them later, so if the host refuses to release them they must be
 * zeroed now: otherwise a __GFP_ZERO allocation could see old data.
 */
static void hosted_mem_discard_cb(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct hosted_mem *hm = opaque;
	int err;

	atomic_fetch_add_explicit(&hm->discard_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hm->discard_pages, nr, memory_order_relaxed);
	err = guest_mem_discard(hm->mem, MM_PFN_TO_ADDR(pfn), nr * PAGE_SIZE);
	if (err) {
		atomic_fetch_add_explicit(&hm->discard_errors, 1,
					  memory_order_relaxed);
		hosted_mem_zero_frames(hm, pfn, nr);
	}
}

static const struct mm_ops hosted_mem_ops = {
	.zero = hosted_mem_zero_cb,
	.discard = hosted_mem_discard_cb,
};

/* The mm ranges of @mem's regions: page-aligned, sorted, disjoint. */
static int hosted_mem_ranges(const struct guest_mem *mem,
			     struct mm_range *ranges, uint64_t *ram_pages)
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
static int hosted_mem_reserve_boot(struct hosted_mem *hm, uint64_t kernel_end)
{
	uint64_t end_pfn = MM_ADDR_TO_PFN(kernel_end + PAGE_SIZE - 1);
	uint64_t boot_pfn = MM_ADDR_TO_PFN(BVM_BOOT_END);
	int err;

	err = mm_reserve_range(hm->mm, 0, boot_pfn);
	if (err)
		return err;
	if (end_pfn > boot_pfn)
		err = mm_reserve_range(hm->mm, boot_pfn, end_pfn - boot_pfn);
	return err;
}

static int hosted_mem_init_mm(struct hosted_mem *hm,
			      const struct hosted_mem_config *cfg)
{
	struct mm_range ranges[GUEST_MEM_MAX_REGIONS];
	struct mm_config mc = {
		.ranges = ranges,
		.nr_ranges = hm->mem->nr_regions,
		.movable_pages = MM_ADDR_TO_PFN(cfg->movable_bytes),
		.ops = &hosted_mem_ops,
		.opaque = hm,
		.meta_zeroed = true,
	};
	size_t size;
	int err;

	err = hosted_mem_ranges(hm->mem, ranges, &hm->ram_pages);
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
	hm->meta = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hm->meta == MAP_FAILED) {
		hm->meta = NULL;
		return -ENOMEM;
	}
	hm->meta_size = size;
	err = mm_init(&hm->mm, &mc, hm->meta, size);
	if (err)
		return err;
	return hosted_mem_reserve_boot(hm, cfg->kernel_end);
}

int hosted_mem_create(struct hosted_mem **out, const struct guest_mem *mem,
		      const struct hosted_mem_config *cfg)
{
	struct hosted_mem *hm;
	int err;

	hm = calloc(1, sizeof(*hm));
	if (!hm)
		return -ENOMEM;
	hm->mem = mem;
	err = hosted_mem_init_mm(hm, cfg);
	if (err) {
		/* -EBUSY/-ERANGE from reserving: RAM smaller than the kernel */
		hosted_mem_destroy(hm);
		return err == -ENOMEM ? err : -EINVAL;
	}
	*out = hm;
	return 0;
}

void hosted_mem_destroy(struct hosted_mem *hm)
{
	if (!hm)
		return;
	if (hm->meta)
		munmap(hm->meta, hm->meta_size);
	free(hm);
}

struct mm *hosted_mem_mm(struct hosted_mem *hm)
{
	return hm->mm;
}

const struct guest_mem *hosted_mem_guest_mem(const struct hosted_mem *hm)
{
	return hm->mem;
}

uint64_t hosted_mem_ram_pages(const struct hosted_mem *hm)
{
	return hm->ram_pages;
}

void hosted_mem_get_stats(struct hosted_mem *hm, struct hosted_mem_stats *out)
{
	out->zero_calls = atomic_load(&hm->zero_calls);
	out->zero_pages = atomic_load(&hm->zero_pages);
	out->discard_calls = atomic_load(&hm->discard_calls);
	out->discard_pages = atomic_load(&hm->discard_pages);
	out->discard_errors = atomic_load(&hm->discard_errors);
}

/* Take every free block of @order from the zones @gfp reaches. */
static void hosted_mem_take_order(struct mm *mm, gfp_t gfp, unsigned order)
{
	uint64_t pfn;

	while (mm_alloc_pages(mm, gfp, order, &pfn) == 0)
		;
}

int hosted_mem_give_all(struct hosted_mem *hm)
{
	/* Highest zone first, so each pass leaves the lower zones to later. */
	static const gfp_t zones[] = {0, __GFP_DMA32, __GFP_DMA};
	struct mm_stats st;

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
		for (int order = MAX_PAGE_ORDER; order >= 0; order--)
			hosted_mem_take_order(hm->mm,
					      zones[z] | __GFP_MEMALLOC |
						      __GFP_NOWARN,
					      (unsigned)order);
	mm_drain_pcp(hm->mm);
	mm_get_stats(hm->mm, &st);
	return st.frames[FRAME_FREE] ? -ENOMEM : 0;
}
