// SPDX-License-Identifier: MIT
/*
 * mm/buddy.c - the buddy core: the free lists per order and migratetype,
 * merging on free, splitting on allocation, migratetype fallback with
 * pageblock stealing, and the zone locks.
 *
 * Every free block is a naturally aligned run of 2^order present frames
 * inside one zone and one RAM range. Its first frame (the head) carries
 * PG_HEAD, order and the list's migratetype and is linked into
 * zone->area[order].head[mt]; the other frames are FREE with no flags.
 *
 * Every function in this file except the lock helpers runs under the zone
 * lock of the zone it is given; those called from other files say so with
 * Linux's `__name()` prefix (mm_internal.h).
 */
#include "mm_internal.h"

static const int fallbacks[MM_PCP_TYPES][2] = {
	[MIGRATE_UNMOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},
	[MIGRATE_MOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE},
	[MIGRATE_RECLAIMABLE] = {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},
};

/*
 * MM_DEBUG: is the block of 2^@order frames at @idx whole and free? Naturally
 * aligned, inside @zone and one RAM range, every frame FREE, no tail frame
 * marked as a head, and the head's PG_HEAD, PG_BUDDY and PG_PCP exactly
 * @head_flags: PG_HEAD going on the lists, PG_HEAD | PG_BUDDY on them, none
 * once taken off for an allocation.
 */
static bool __free_block_ok(const struct mm *mm, const struct zone *zone,
			    uint32_t idx, unsigned order, uint8_t head_flags)
{
	uint64_t pfn = mm_idx_to_pfn(mm, idx), n = 1ull << order;
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	const struct page *p = &mm->frames[idx];

	if (order >= NR_PAGE_ORDERS || (pfn & (n - 1)) || !r ||
	    pfn + n > r->end_pfn || pfn < zone->start_pfn ||
	    pfn + n > zone->end_pfn)
		return false;
	if ((p->flags & (PG_HEAD | PG_BUDDY | PG_PCP)) != head_flags)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		if (mm_page_state(&p[i]) != FRAME_FREE)
			return false;
		if (i && (p[i].flags & (PG_HEAD | PG_BUDDY | PG_PCP)))
			return false;
	}
	return true;
}

/* Free lists ------------------------------------------------------------ */

/*
 * The list operations are inline. The split (expand()) and the merge
 * (merge_step()) have their own copies, unrolled per order: the worst case
 * (an order-0 block from an order-10 one and back) runs ten levels of each
 * per allocation and free, and each level's order, offset and free area
 * are then constants (callgrind, bench/page_alloc --profile worst: docs/
 * testing.md "Benchmarks"). list_link() and list_unlink() keep every
 * counter but zone->free_pages, which their callers change once per call.
 */
#define MM_INLINE static inline __attribute__((always_inline))

/* page->order and page->migratetype, adjacent bytes, in one store. */
MM_INLINE void page_set_order_mt(struct page *p, unsigned order, int mt)
{
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
			       offsetof(struct page, migratetype) ==
				       offsetof(struct page, order) + 1,
		       "order, then migratetype, in one little-endian word");
	uint16_t v = (uint16_t)(order | (unsigned)mt << 8);

	__builtin_memcpy(&p->order, &v, sizeof(v));
}

MM_INLINE void list_link(struct mm *mm, struct zone *zone, uint32_t idx,
			 unsigned order, int mt)
{
	struct page *p = &mm->frames[idx];
	struct free_area *a = &zone->area[order];
	uint32_t head = a->head[mt];

	MM_DEBUG_BUG_ON((unsigned)mt >= MIGRATE_TYPES);
	MM_DEBUG_BUG_ON(!__free_block_ok(mm, zone, idx, order, PG_HEAD));
	p->next = head;
	p->prev = MM_NO_LINK;
	p->flags |= PG_BUDDY;
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	if (head != MM_NO_LINK)
		mm->frames[head].prev = idx;
	a->head[mt] = idx;
	a->nr_free_mt[mt]++;
	if (p->flags & PG_DISCARDED) {
		zone->discarded += 1ull << order;
		a->nr_discarded++;
	}
}

/*
 * Take the block at @idx (of @order) off its list and out of the counts,
 * leaving its links and flags as they were.
 */
MM_INLINE void list_unlink_only(struct mm *mm, struct zone *zone, uint32_t idx,
				unsigned order)
{
	struct page *p = &mm->frames[idx];
	unsigned mt = p->migratetype;
	struct free_area *a = &zone->area[order];
	uint32_t next = p->next, prev = p->prev;

	MM_DEBUG_BUG_ON(
		!__free_block_ok(mm, zone, idx, order, PG_HEAD | PG_BUDDY));
	MM_DEBUG_BUG_ON(p->order != order);
	MM_DEBUG_BUG_ON(!a->nr_free_mt[mt]);
	if (prev != MM_NO_LINK)
		mm->frames[prev].next = next;
	else
		a->head[mt] = next;
	if (next != MM_NO_LINK)
		mm->frames[next].prev = prev;
	a->nr_free_mt[mt]--;
	if (p->flags & PG_DISCARDED) {
		zone->discarded -= 1ull << order;
		a->nr_discarded--;
	}
}

MM_INLINE void list_unlink(struct mm *mm, struct zone *zone, uint32_t idx)
{
	struct page *p = &mm->frames[idx];

	list_unlink_only(mm, zone, idx, p->order);
	p->next = p->prev = MM_NO_LINK;
	p->flags &= (uint8_t)~PG_BUDDY;
}

MM_INLINE void __free_list_add(struct mm *mm, struct zone *zone, uint32_t idx,
			       unsigned order, int mt)
{
	list_link(mm, zone, idx, order, mt);
	zone->free_pages += 1ull << order;
}

MM_INLINE void free_list_del(struct mm *mm, struct zone *zone, uint32_t idx)
{
	zone->free_pages -= 1ull << mm->frames[idx].order;
	list_unlink(mm, zone, idx);
}

void __free_list_del(struct mm *mm, struct zone *zone, uint32_t idx)
{
	free_list_del(mm, zone, idx);
}

static bool mt_mergeable(int mt)
{
	return mt < MM_PCP_TYPES;
}

/*
 * Is @p the head of a free block of @order in the buddy lists? PG_BUDDY is
 * set and cleared only under the zone lock (which the caller holds), while
 * the per-CPU paths rewrite the flags of their own frames without it: so a
 * frame between per-CPU list and guest never looks like a buddy, whatever
 * order its flag and state stores become visible in.
 */
static bool page_is_buddy(const struct page *p, unsigned order)
{
	/* state, order, flags & PG_BUDDY of struct page's state_word. */
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
			       offsetof(struct page, order) ==
				       offsetof(struct page, state) + 1 &&
			       offsetof(struct page, flags) ==
				       offsetof(struct page, state) + 3,
		       "state, order, migratetype, flags: one LE word");
	const uint32_t mask = 0xffu | 0xffu << 8 | (uint32_t)PG_BUDDY << 24;
	uint32_t w = __atomic_load_n(&p->state_word, __ATOMIC_RELAXED);

	return (w & mask) ==
	       ((uint32_t)FRAME_FREE | order << 8 | (uint32_t)PG_BUDDY << 24);
}

/*
 * The highest order a block of @order at @pfn may merge to inside [lo, hi)
 * (its range and zone): the order below the first aligned block around it
 * that leaves them. Zones and ranges usually start and end on
 * MAX_PAGE_ORDER boundaries, which allow every order.
 */
static unsigned merge_limit(uint64_t pfn, unsigned order, uint64_t lo,
			    uint64_t hi)
{
	if (mm_likely(!((lo | hi) & ((1ull << MAX_PAGE_ORDER) - 1))))
		return MAX_PAGE_ORDER;
	for (; order < MAX_PAGE_ORDER; order++) {
		uint64_t size = 1ull << order, buddy_pfn = pfn ^ size;

		if (buddy_pfn < lo || buddy_pfn + size > hi)
			break;
		pfn &= ~size;
	}
	return order;
}

/*
 * One level of the merge: if the buddy of the block at *@head (2^order =
 * @size frames, at @pfn) is a free block of the same order, take it off its
 * list (@a, the area of that order), make the upper half a tail and point
 * *@head at the lower half. The buddy is the other half of the aligned block
 * of twice the size: below the block if @pfn has the @size bit set, above it
 * otherwise. A discarded buddy is rare: counted in *@nr_discarded, so the
 * common step keeps no discarded state.
 */
MM_INLINE bool merge_step(struct mm *mm, struct page *const frames,
			  struct zone *zone, struct free_area *a,
			  struct page **head, uint64_t pfn, uint64_t size,
			  unsigned *nr_discarded)
{
	const bool upper = pfn & size;
	struct page *buddy = upper ? *head - size : *head + size;
	struct page *lower = upper ? buddy : *head, *tail;
	uint32_t next, prev;
	uint8_t bmt;

	if (!page_is_buddy(buddy, (unsigned)__builtin_ctzll(size)))
		return false;
	MM_DEBUG_BUG_ON(!__free_block_ok(mm, zone, (uint32_t)(buddy - frames),
					 (unsigned)__builtin_ctzll(size),
					 PG_HEAD | PG_BUDDY));
	MM_DEBUG_BUG_ON(!a->nr_free_mt[buddy->migratetype]);
	if (mm_unlikely(buddy->flags & PG_DISCARDED)) {
		zone->discarded -= size;
		a->nr_discarded--;
		++*nr_discarded;
	}
	/*
	 * Take the buddy off its list. Its links and flags need no reset:
	 * the upper half becomes a tail (flags 0 below; tails' links are
	 * never read), the lower one the head, which the next level or the
	 * final link rewrites.
	 */
	next = buddy->next;
	prev = buddy->prev;
	bmt = buddy->migratetype;
	if (prev != MM_NO_LINK)
		frames[prev].next = next;
	else
		a->head[bmt] = next;
	if (next != MM_NO_LINK)
		frames[next].prev = prev;
	a->nr_free_mt[bmt]--;
	/* Branch-free: either half is the buddy, as likely as not. */
	tail = (struct page *)((uintptr_t)*head ^ (uintptr_t)buddy ^
			       (uintptr_t)lower);
	tail->flags = 0;
	*head = lower;
	return true;
}

/*
 * Freeing a block of 2^order frames at pfn (naturally aligned) and merging
 * it with its buddies.
 *
 * The buddy of the block [pfn, pfn + 2^order) is the other half of the
 * aligned block of twice the size that contains it; its first frame is
 * pfn ^ (1 << order) (flipping the bit that distinguishes the two halves).
 * If that buddy is itself a whole free block of the same order sitting in the
 * buddy lists (PG_HEAD, FREE, not on a per-CPU list, same order), the two
 * halves are free together: take the buddy off its list, and continue with
 * the combined block, whose head is the lower of the two (pfn & buddy_pfn)
 * and whose order is one more. Stop at MAX_PAGE_ORDER, or when the buddy is
 * missing (hole, other RAM range, other zone), allocated, on a per-CPU list,
 * or only partly free (its head has a smaller order). Each step is O(1), so a
 * free costs O(NR_PAGE_ORDERS) and no two free buddies of equal order are ever
 * left side by side: the lists always hold the maximally merged layout.
 *
 * From pageblock order up, the halves lie in different pageblocks; as in
 * Linux, blocks of CMA or ISOLATE pageblocks merge only with blocks of the
 * same type, so such a pageblock's frames never leak into another type's
 * lists. The merged block is discarded only if both halves were (one
 * discarded half would still have backing the guest could read), and goes on
 * the list of its head's pageblock type.
 */
void __buddy_free_block_rng(struct mm *mm, struct zone *zone,
			    const struct mm_rng *r, uint64_t pfn,
			    unsigned order, uint8_t discarded)
{
	const uint64_t lo = MM_MAX(r->start_pfn, zone->start_pfn);
	const uint64_t hi = MM_MIN(r->end_pfn, zone->end_pfn);
	const uint64_t freed = 1ull << order;
	const uint64_t limit = 1ull << merge_limit(pfn, order, lo, hi);
	/* Below pageblock order both halves share one pageblock. */
	const uint64_t same_pb = MM_MIN(limit, (uint64_t)PAGEBLOCK_NR_PAGES);
	/* @pfn's pageblock type; a block's other pageblocks are at +-n. */
	const uint8_t *const pb = mm_pb_slot(mm, r, pfn);
	struct page *const frames = mm->frames;
	struct page *head = &frames[mm_rng_idx(r, pfn)];
	struct free_area *a = &zone->area[order];
	uint64_t size = freed; /* 2^order: the loops count in sizes */
	/* Buddies with PG_DISCARDED: the block is if they all were. */
	unsigned nr_discarded = 0;
	uint32_t idx, first;
	int mt;

	MM_DEBUG_BUG_ON(order >= NR_PAGE_ORDERS || (pfn & (freed - 1)));
	MM_DEBUG_BUG_ON(pfn < lo || pfn + freed > hi);
	if (mm_likely(same_pb == PAGEBLOCK_NR_PAGES)) {
		/*
		 * Unrolled (the worst case runs every level on every free):
		 * each level's size, order and area are constants.
		 */
#pragma GCC unroll 16
		for (unsigned o = 0; o < PAGEBLOCK_ORDER; o++) {
			if (o < order)
				continue;
			if (!merge_step(mm, frames, zone, &zone->area[o], &head,
					pfn, 1ull << o, &nr_discarded)) {
				size = 1ull << o;
				goto done;
			}
		}
		size = MM_MAX(freed, (uint64_t)PAGEBLOCK_NR_PAGES);
	} else {
		for (; size < same_pb; size <<= 1, a++)
			if (!merge_step(mm, frames, zone, a, &head, pfn, size,
					&nr_discarded))
				goto done;
	}
	a = &zone->area[__builtin_ctzll(size)];
	for (; size < limit; size <<= 1, a++) {
		int64_t d = (int64_t)((pfn ^ size) >> PAGEBLOCK_ORDER) -
			    (int64_t)(pfn >> PAGEBLOCK_ORDER);
		uint8_t bmt = pb[d];

		if (bmt != *pb && (!mt_mergeable(*pb) || !mt_mergeable(bmt)))
			break;
		if (!merge_step(mm, frames, zone, a, &head, pfn, size,
				&nr_discarded))
			break;
	}
done:
	order = (unsigned)__builtin_ctzll(size);
	a = &zone->area[order];
	if (nr_discarded != (unsigned)__builtin_ctzll(size / freed))
		discarded = 0;
	/*
	 * The merged block goes on the list of its head's pageblock type,
	 * linked once here (list_link(), inline).
	 */
	mt = pb[-(int64_t)((pfn >> PAGEBLOCK_ORDER) -
			   ((pfn & ~(size - 1)) >> PAGEBLOCK_ORDER))];
	idx = (uint32_t)(head - frames);
	first = a->head[mt];
	MM_DEBUG_BUG_ON(order != (unsigned)(a - zone->area));
	head->next = first;
	head->prev = MM_NO_LINK;
	page_set_order_mt(head, order, mt);
	head->flags = PG_HEAD | PG_BUDDY | (discarded & PG_DISCARDED);
	MM_DEBUG_BUG_ON(
		!__free_block_ok(mm, zone, idx, order, PG_HEAD | PG_BUDDY));
	if (first != MM_NO_LINK)
		frames[first].prev = idx;
	a->head[mt] = idx;
	a->nr_free_mt[mt]++;
	if (mm_unlikely(discarded & PG_DISCARDED)) {
		zone->discarded += size;
		a->nr_discarded++;
	}
	/* The buddies taken off were free already: only the block is new. */
	zone->free_pages += freed;
}

void __buddy_free_block(struct mm *mm, struct zone *zone, uint64_t pfn,
			unsigned order, uint8_t discarded)
{
	__buddy_free_block_rng(mm, zone, mm_rng_of_pfn(mm, pfn), pfn, order,
			       discarded);
}

/*
 * Split the free block at @idx (already off its list) from order @high down
 * to @low: the upper halves go back on @mt's lists with the block's
 * discarded flag; the head, of order @low, is the caller's. The halves of
 * one split lie at fixed offsets (idx + 2^k for k in [low, high)): each is
 * written once, flags, order, type and links together.
 *
 * @lists_empty: the caller knows @mt's lists of orders [low, high) are empty
 * (__rmqueue_smallest() took the block from the first non-empty one), so
 * each half is its list's only entry: no head to read or link back to.
 */
MM_INLINE void expand(struct mm *mm, struct zone *zone, uint32_t idx,
		      unsigned high, unsigned low, int mt, uint8_t discarded,
		      bool lists_empty)
{
	struct page *const frames = mm->frames;
	const uint8_t flags = PG_HEAD | PG_BUDDY | discarded;
	const uint64_t frames_split = (1ull << high) - (1ull << low);

	zone->free_pages += frames_split;
	if (discarded) {
		zone->discarded += frames_split;
		for (unsigned o = low; o < high; o++)
			zone->area[o].nr_discarded++;
	}
	/*
	 * The half of order k is 2^k frames in. Unrolled, as the merge: each
	 * level's offset, order and area are constants.
	 */
#pragma GCC unroll 16
	for (int k = MAX_PAGE_ORDER - 1; k >= 0; k--) {
		struct free_area *a = &zone->area[k];
		uint32_t half = idx + (1u << k), head;
		struct page *p = &frames[half];

		if ((unsigned)k >= high)
			continue;
		if ((unsigned)k < low)
			break;
		head = lists_empty ? MM_NO_LINK : a->head[mt];
		MM_DEBUG_BUG_ON(lists_empty && a->head[mt] != MM_NO_LINK);
		p->next = head;
		p->prev = MM_NO_LINK;
		page_set_order_mt(p, (unsigned)k, mt);
		p->flags = flags;
		MM_DEBUG_BUG_ON(!__free_block_ok(mm, zone, half, (unsigned)k,
						 PG_HEAD | PG_BUDDY));
		if (!lists_empty && head != MM_NO_LINK)
			frames[head].prev = half;
		a->head[mt] = half;
		a->nr_free_mt[mt]++;
	}
}

/* Take the first block of @order or more from @mt's lists and split it. */
MM_INLINE bool __rmqueue_smallest(struct mm *mm, struct zone *zone,
				  unsigned order, int mt, uint32_t *idx)
{
	unsigned o = NR_PAGE_ORDERS;
	uint32_t head = MM_NO_LINK;
	uint8_t discarded;

	/* Unrolled: one compare per order, at a constant offset. */
#pragma GCC unroll 16
	for (unsigned k = 0; k < NR_PAGE_ORDERS; k++) {
		if (k >= order && zone->area[k].head[mt] != MM_NO_LINK) {
			o = k;
			head = zone->area[k].head[mt];
			break;
		}
	}
	if (o == NR_PAGE_ORDERS)
		return false;
	discarded = mm->frames[head].flags & PG_DISCARDED;
	free_list_del(mm, zone, head);
	mm->frames[head].flags = discarded;
	expand(mm, zone, head, o, order, mt, discarded, true);
	*idx = head;
	return true;
}

/* The CMA lists, which movable requests try next: off the hot path. */
static __attribute__((noinline)) bool __rmqueue_smallest_cma(struct mm *mm,
							     struct zone *zone,
							     unsigned order,
							     uint32_t *idx)
{
	return __rmqueue_smallest(mm, zone, order, MIGRATE_CMA, idx);
}

/* Linux's can_steal_fallback(): take the whole pageblock for large blocks. */
static bool can_steal_fallback(unsigned order, int start_mt)
{
	return order >= PAGEBLOCK_ORDER / 2 ||
	       start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

/*
 * Move every free buddy block of @pfn's pageblock to @mt's lists. Returns
 * the free frames moved; *@movable counts frames of allocated blocks whose
 * migratetype is MOVABLE (Linux's "alike" pages for a movable steal).
 */
static uint64_t move_freepages_block(struct mm *mm, struct zone *zone,
				     uint64_t pfn, int mt, uint64_t *movable)
{
	uint64_t start = MM_MAX(pageblock_start(pfn), zone->start_pfn);
	uint64_t end = MM_MIN(pageblock_start(pfn) + PAGEBLOCK_NR_PAGES,
			      zone->end_pfn);
	uint64_t moved = 0;

	*movable = 0;
	for (pfn = start; pfn < end;) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		struct page *p;
		uint32_t idx;

		if (!r) {
			pfn++;
			continue;
		}
		idx = mm_rng_idx(r, pfn);
		p = &mm->frames[idx];
		if ((p->flags & (PG_HEAD | PG_PCP)) != PG_HEAD) {
			pfn++;
			continue;
		}
		if (p->flags & PG_BUDDY) {
			__free_list_del(mm, zone, idx);
			__free_list_add(mm, zone, idx, p->order, mt);
			moved += 1ull << p->order;
		} else if (p->migratetype == MIGRATE_MOVABLE) {
			*movable += 1ull << p->order;
		}
		pfn += 1ull << p->order;
	}
	return moved;
}

static void set_pageblock_mt(struct mm *mm, struct zone *zone, uint64_t pfn,
			     int mt)
{
	uint8_t *slot = mm_pb_slot(mm, mm_rng_of_pfn(mm, pfn), pfn);

	if (*slot != mt)
		zone->fallback_steal++;
	*slot = (uint8_t)mt;
}

/* Linux's steal_suitable_fallback(). */
static void steal_fallback(struct mm *mm, struct zone *zone, uint32_t idx,
			   int start_mt, bool whole_block)
{
	struct page *p = &mm->frames[idx];
	uint64_t pfn = mm_idx_to_pfn(mm, idx);
	unsigned order = p->order;
	uint64_t free, movable, alike;
	int old_mt = *mm_pb_slot(mm, mm_rng_of_pfn(mm, pfn), pfn);

	if (order >= PAGEBLOCK_ORDER) {
		for (uint64_t n = 0; n < (1ull << order);
		     n += PAGEBLOCK_NR_PAGES)
			set_pageblock_mt(mm, zone, pfn + n, start_mt);
		goto single;
	}
	if (!whole_block)
		goto single;
	free = move_freepages_block(mm, zone, pfn, start_mt, &movable);
	if (start_mt == MIGRATE_MOVABLE)
		alike = movable;
	else if (old_mt == MIGRATE_MOVABLE)
		alike = PAGEBLOCK_NR_PAGES - (free + movable);
	else
		alike = 0;
	if (free + alike >= PAGEBLOCK_NR_PAGES / 2)
		set_pageblock_mt(mm, zone, pfn, start_mt);
	return;
single:
	__free_list_del(mm, zone, idx);
	__free_list_add(mm, zone, idx, order, start_mt);
}

static int find_fallback(const struct zone *zone, unsigned order, int start_mt)
{
	for (int i = 0; i < 2; i++) {
		int fmt = fallbacks[start_mt][i];

		if (zone->area[order].head[fmt] != MM_NO_LINK)
			return fmt;
	}
	return -1;
}

/*
 * Linux's __rmqueue_fallback(): take the largest block of a fallback type
 * (a large block is the one most worth claiming for the new type), except
 * that a movable request which could not steal its pageblock takes the
 * smallest instead, so as not to break up a large block for nothing.
 */
static bool __rmqueue_fallback(struct mm *mm, struct zone *zone, unsigned order,
			       int start_mt)
{
	int fmt = -1;
	unsigned o;

	for (o = NR_PAGE_ORDERS; o-- > order;) {
		fmt = find_fallback(zone, o, start_mt);
		if (fmt >= 0)
			break;
	}
	if (fmt < 0)
		return false;
	if (!can_steal_fallback(o, start_mt) && start_mt == MIGRATE_MOVABLE) {
		for (o = order; (fmt = find_fallback(zone, o, start_mt)) < 0;)
			o++;
	}
	steal_fallback(mm, zone, zone->area[o].head[fmt], start_mt,
		       can_steal_fallback(o, start_mt));
	return true;
}

/**
 * __rmqueue() - take a block of @order for migratetype @mt from @zone's
 * lists: its own type, then CMA for movable requests, then a fallback type
 * (stealing). The caller holds zone->lock and prepares the frames.
 */
int __rmqueue(struct mm *mm, struct zone *zone, unsigned order, int mt,
	      uint32_t *idx)
{
	for (;;) {
		if (__rmqueue_smallest(mm, zone, order, mt, idx) ||
		    (mt == MIGRATE_MOVABLE &&
		     __rmqueue_smallest_cma(mm, zone, order, idx))) {
			MM_DEBUG_BUG_ON(
				!__free_block_ok(mm, zone, *idx, order, 0));
			return 0;
		}
		if (mt >= MM_PCP_TYPES ||
		    !__rmqueue_fallback(mm, zone, order, mt))
			return -ENOMEM;
	}
}

/**
 * __rmqueue_below() - as __rmqueue(), for a block that must lie below
 * @limit_pfn (a zone straddling an address-bit limit): search the lists,
 * smallest order first, for a block with a suitable low part. O(free blocks)
 * but only for straddling requests. The caller holds zone->lock.
 */
int __rmqueue_below(struct mm *mm, struct zone *zone, unsigned order, int mt,
		    uint64_t limit_pfn, uint32_t *idx)
{
	int types[4] = {mt, -1, -1, -1};
	int n = 1;

	if (mt < MM_PCP_TYPES) {
		types[n++] = fallbacks[mt][0];
		types[n++] = fallbacks[mt][1];
	}
	if (mt == MIGRATE_MOVABLE)
		types[n++] = MIGRATE_CMA;
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		for (int t = 0; t < n; t++) {
			uint32_t i = zone->area[o].head[types[t]];

			for (; i != MM_NO_LINK; i = mm->frames[i].next) {
				uint64_t pfn = mm_idx_to_pfn(mm, i);
				uint8_t d;

				if (pfn + (1ull << order) > limit_pfn)
					continue;
				d = mm->frames[i].flags & PG_DISCARDED;
				__free_list_del(mm, zone, i);
				mm->frames[i].flags = d;
				expand(mm, zone, i, o, order, types[t], d,
				       false);
				MM_DEBUG_BUG_ON(!__free_block_ok(mm, zone, i,
								 order, 0));
				*idx = i;
				return 0;
			}
		}
	}
	return -ENOMEM;
}

/* Give [pfn, end) back to @zone's lists as maximal aligned pieces. */
void __free_range(struct mm *mm, struct zone *zone, uint64_t pfn, uint64_t end,
		  uint8_t discarded)
{
	while (pfn < end) {
		unsigned o = 0;

		while (o + 1 < NR_PAGE_ORDERS && !(pfn & ((2ull << o) - 1)) &&
		       pfn + (2ull << o) <= end)
			o++;
		__buddy_free_block(mm, zone, pfn, o, discarded);
		pfn += 1ull << o;
	}
}

/*
 * The free buddy block containing @pfn (a present frame): its head has
 * PG_BUDDY, is FREE, and its order covers @pfn. -1 if there is none.
 */
int64_t __find_free_block(const struct mm *mm, uint64_t pfn, unsigned *order)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t head = pfn & ~((1ull << o) - 1);
		const struct page *p;

		if (head < r->start_pfn)
			break;
		p = &mm->frames[mm_rng_idx(r, head)];
		if ((p->flags & PG_BUDDY) && mm_page_state(p) == FRAME_FREE &&
		    p->order == o) {
			*order = o;
			return (int64_t)head;
		}
	}
	return -1;
}

/* Zone locks ------------------------------------------------------------ */

/* Lock the zones [pfn, pfn + nr) touches, in ascending order: their mask. */
unsigned mm_lock_zones_range(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	unsigned mask = 0;

	for (int z = 0; z < MM_NR_ZONES; z++) {
		const struct zone *zone = &mm->zones[z];

		if (zone->populated && pfn < zone->end_pfn &&
		    pfn + nr > zone->start_pfn)
			mask |= 1u << z;
	}
	for (int z = 0; z < MM_NR_ZONES; z++)
		if (mask & (1u << z))
			mm_lock(&mm->zones[z].lock);
	return mask;
}

void mm_unlock_zones(struct mm *mm, unsigned mask)
{
	for (int z = MM_NR_ZONES; z-- > 0;)
		if (mask & (1u << z))
			mm_unlock(&mm->zones[z].lock);
}

/* Every pcp lock, then every zone lock (the documented lock order). */
void mm_lock_all(struct mm *mm)
{
	for (unsigned c = 0; c < MM_NR_CPUS; c++)
		for (int z = 0; z < MM_NR_ZONES; z++)
			mm_lock(&mm->pcp[c][z].lock);
	for (int z = 0; z < MM_NR_ZONES; z++)
		mm_lock(&mm->zones[z].lock);
}

void mm_unlock_all(struct mm *mm)
{
	for (int z = MM_NR_ZONES; z-- > 0;)
		mm_unlock(&mm->zones[z].lock);
	for (unsigned c = MM_NR_CPUS; c-- > 0;)
		for (int z = MM_NR_ZONES; z-- > 0;)
			mm_unlock(&mm->pcp[c][z].lock);
}
