/* SPDX-License-Identifier: MIT */
/*
 * mm/page_source.h - where the slab layer (slab, kmalloc, mempool) gets its
 * pages from.
 *
 * The slab layer never sees struct page: in the hosted model the guest has no
 * frame database of its own, it only holds blocks the host's buddy allocator
 * handed it (through the per-vCPU page cache). So the slab layer talks to an
 * ops table that any page allocator can implement:
 *
 *   - alloc_pages() returns a block of 2^order frames, NATURALLY ALIGNED to
 *     its size (buddy blocks are) and identity-mapped (the returned pointer is
 *     the block's address; in the guest, virtual == physical). NULL on
 *     failure. It must honour the zone bits of @gfp (__GFP_DMA, __GFP_DMA32);
 *     __GFP_ZERO is never passed (the slab layer zeroes what it needs).
 *   - free_pages() takes back exactly a block alloc_pages() returned, with
 *     the same order. The slab layer frees every block it allocated.
 *   - frame_slot() returns the address of one uintptr_t per frame that the
 *     slab layer owns, like struct page's slab pointer in Linux: it is how
 *     kfree() and kmem_cache_free() find the slab an object lives in. It
 *     returns NULL for an address the source does not manage. Slots of
 *     frames the slab layer does not hold read 0: the source zeroes all slots
 *     once at creation, and the slab layer writes 0 back before free_pages().
 *
 * A source whose slots are one flat array may also fill slot_table,
 * slot_base and slot_frames: the slab fast paths then index the array inline
 * instead of calling frame_slot() (the result must be the same).
 *
 * Thread safety: alloc_pages() and free_pages() may be called concurrently
 * from any thread; frame_slot() must be safe to call concurrently with them.
 */
#ifndef MM_PAGE_SOURCE_H
#define MM_PAGE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "gfp.h"
#include "page_order.h" /* MAX_PAGE_ORDER: the largest block the slab asks for */

#define PS_PAGE_SHIFT 12
#define PS_PAGE_SIZE  (1ul << PS_PAGE_SHIFT)

struct page_source_ops {
	void *(*alloc_pages)(void *opaque, gfp_t gfp, unsigned int order);
	void (*free_pages)(void *opaque, void *addr, unsigned int order);
	uintptr_t *(*frame_slot)(void *opaque, const void *addr);
};

struct page_source {
	const struct page_source_ops *ops;
	void *opaque;
	/* Optional flat slot array covering [slot_base, + slot_frames pages). */
	uintptr_t *slot_table;
	uintptr_t slot_base;
	size_t slot_frames;
};

/* The slot of the frame holding @addr, or NULL if @ps does not manage it. */
static inline uintptr_t *page_source_slot(const struct page_source *ps,
					  const void *addr)
{
	uintptr_t idx;

	if (ps->slot_table) {
		idx = ((uintptr_t)addr - ps->slot_base) >> PS_PAGE_SHIFT;
		return idx < ps->slot_frames ? &ps->slot_table[idx] : NULL;
	}
	return ps->ops->frame_slot(ps->opaque, addr);
}

static inline void *page_source_alloc(const struct page_source *ps, gfp_t gfp,
				      unsigned int order)
{
	return ps->ops->alloc_pages(ps->opaque, gfp & ~__GFP_ZERO, order);
}

static inline void page_source_free(const struct page_source *ps, void *addr,
				    unsigned int order)
{
	ps->ops->free_pages(ps->opaque, addr, order);
}

#endif /* MM_PAGE_SOURCE_H */
