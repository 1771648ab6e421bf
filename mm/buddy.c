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
 * The list operations are inlined into the split and merge loops: the
 * worst case (an order-0 block from an order-10 one and back) runs each ten
 * times per allocation and free. list_link() and list_unlink() keep every
 * counter but zone->free_pages, which the loops change once per call.
 */
#define MM_INLINE static inline __attribute__((always_inline))

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
	a->nr_free++;
	a->nr_free_mt[mt]++;
	if (p->flags & PG_DISCARDED)
		zone->discarded += 1ull << order;
	else
		a->nr_backed++;
}

/*
 * Take the block at @idx (of @order) off its list and out of the counts,
 * leaving its links and flags as they were: the merge loop, which rewrites
 * both, uses it directly.
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
	MM_DEBUG_BUG_ON(!a->nr_free || !a->nr_free_mt[mt]);
	if (prev != MM_NO_LINK)
		mm->frames[prev].next = next;
	else
		a->head[mt] = next;
	if (next != MM_NO_LINK)
		mm->frames[next].prev = prev;
	a->nr_free--;
	a->nr_free_mt[mt]--;
	if (p->flags & PG_DISCARDED)
		zone->discarded -= 1ull << order;
	else
		a->nr_backed--;
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
	return (__atomic_load_n(&p->flags, __ATOMIC_RELAXED) & PG_BUDDY) &&
	       mm_page_state(p) == FRAME_FREE && p->order == order;
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
void __buddy_free_block(struct mm *mm, struct zone *zone, uint64_t pfn,
			unsigned order, uint8_t discarded)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	uint64_t lo = MM_MAX(r->start_pfn, zone->start_pfn);
	uint64_t hi = MM_MIN(r->end_pfn, zone->end_pfn);
	uint8_t mt = *mm_pb_slot(mm, r, pfn);
	uint64_t freed = 1ull << order;
	/*
	 * The frame index of a pfn of @r is (uint32_t)pfn + off, modulo 2^32
	 * (mm_rng_idx() without the subtraction: pfn - start_pfn < 2^32).
	 */
	const uint32_t off = r->base_idx - (uint32_t)r->start_pfn;
	struct page *const frames = mm->frames;

	MM_DEBUG_BUG_ON(order >= NR_PAGE_ORDERS ||
			(pfn & ((1ull << order) - 1)));
	MM_DEBUG_BUG_ON(pfn < lo || pfn + (1ull << order) > hi);
	while (order < MAX_PAGE_ORDER) {
		uint64_t size = 1ull << order, buddy_pfn = pfn ^ size;
		uint32_t bidx = (uint32_t)buddy_pfn + off;
		struct page *buddy;

		if (buddy_pfn < lo || buddy_pfn + size > hi)
			break;
		buddy = &frames[bidx];
		if (!page_is_buddy(buddy, order))
			break;
		if (mm_unlikely(order >= PAGEBLOCK_ORDER)) {
			uint8_t bmt = *mm_pb_slot(mm, r, buddy_pfn);

			if (bmt != mt &&
			    (!mt_mergeable(mt) || !mt_mergeable(bmt)))
				break;
		}
		/*
		 * Links and flags need no reset here: the upper half becomes
		 * a tail (flags 0 below; tails' links are never read), the
		 * lower one the head, whose links and flags list_link() or
		 * the next level rewrite.
		 */
		list_unlink_only(mm, zone, bidx, order);
		discarded &= buddy->flags;
		frames[(uint32_t)(pfn | size) + off].flags = 0;
		pfn &= ~size;
		order++;
	}
	frames[(uint32_t)pfn + off].flags =
		PG_HEAD | (discarded & PG_DISCARDED);
	list_link(mm, zone, (uint32_t)pfn + off, order,
		  *mm_pb_slot(mm, r, pfn));
	/* The buddies taken off were free already: only the block is new. */
	zone->free_pages += freed;
}

/*
 * Split the free block at @idx (already off its list) from order @high down
 * to @low: the upper halves go back on @mt's lists with the block's
 * discarded flag; the head, of order @low, is the caller's.
 */
static void expand(struct mm *mm, struct zone *zone, uint32_t idx,
		   unsigned high, unsigned low, int mt, uint8_t discarded)
{
	zone->free_pages += (1ull << high) - (1ull << low);
	while (high > low) {
		uint32_t half;

		high--;
		half = idx + (1u << high);
		mm->frames[half].flags = PG_HEAD | discarded;
		list_link(mm, zone, half, high, mt);
	}
}

/* Take the first block of @order or more from @mt's lists and split it. */
static bool __rmqueue_smallest(struct mm *mm, struct zone *zone, unsigned order,
			       int mt, uint32_t *idx)
{
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		uint32_t head = zone->area[o].head[mt];
		uint8_t discarded;

		if (head == MM_NO_LINK)
			continue;
		discarded = mm->frames[head].flags & PG_DISCARDED;
		free_list_del(mm, zone, head);
		mm->frames[head].flags = discarded;
		expand(mm, zone, head, o, order, mt, discarded);
		*idx = head;
		return true;
	}
	return false;
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
		     __rmqueue_smallest(mm, zone, order, MIGRATE_CMA, idx))) {
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
				expand(mm, zone, i, o, order, types[t], d);
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
