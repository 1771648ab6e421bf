// SPDX-License-Identifier: MIT
/*
 * mm/frame_state.c - operations on ranges of frames: reserving boot data,
 * moving allocated frames between GUEST, DMA and BALLOON, free page
 * reporting (discard of free frames, and of GUEST frames the guest reported
 * free in the native model), and setting pageblock migratetypes (CMA, ISOLATE).
 */
#include "mm_internal.h"

/* The zones [pfn, pfn + nr) touches, locked in ascending order. */
static unsigned zones_lock_range(struct mm *mm, uint64_t pfn, uint64_t nr)
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

static void zones_unlock(struct mm *mm, unsigned mask)
{
	for (int z = MM_NR_ZONES; z-- > 0;)
		if (mask & (1u << z))
			mm_unlock(&mm->zones[z].lock);
}

/* Is every frame of [pfn, pfn + nr) present (one RAM range)? */
static const struct mm_rng *range_present(const struct mm *mm, uint64_t pfn,
					  uint64_t nr)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	if (!r || nr == 0 || nr > r->end_pfn - pfn)
		return NULL;
	return r;
}

/*
 * The free buddy block containing @pfn: its head has PG_BUDDY, is FREE, and
 * its order covers @pfn. -1 if there is none. Caller holds the zone lock.
 */
static int64_t free_block_of(const struct mm *mm, uint64_t pfn, unsigned *order)
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

/* Give [pfn, end) back to @zone's lists as maximal aligned pieces. */
static void free_pieces(struct mm *mm, struct zone *zone, uint64_t pfn,
			uint64_t end, uint8_t discarded)
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

int mm_reserve_range(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	const struct mm_rng *r = range_present(mm, pfn, nr);
	uint64_t end = pfn + nr, p;
	unsigned mask, order;
	int64_t head;

	if (!r)
		return -ERANGE;
	mm_drain_pcp(mm);
	mask = zones_lock_range(mm, pfn, nr);
	for (p = pfn; p < end; p++) {
		if (free_block_of(mm, p, &order) < 0) {
			zones_unlock(mm, mask);
			return -EBUSY;
		}
	}
	for (p = pfn; p < end;) {
		struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, p)];
		struct page *hp;
		uint8_t d;

		head = free_block_of(mm, p, &order);
		hp = &mm->frames[mm_rng_idx(r, (uint64_t)head)];
		d = hp->flags & PG_DISCARDED;
		free_list_del(mm, zone, mm_rng_idx(r, (uint64_t)head));
		hp->flags = 0;
		/* Keep what lies outside the range; reserve the rest. */
		free_pieces(mm, zone, (uint64_t)head,
			    MM_MAX((uint64_t)head, pfn), d);
		free_pieces(mm, zone, end, (uint64_t)head + (1ull << order), d);
		for (uint64_t q = MM_MAX((uint64_t)head, pfn);
		     q < MM_MIN(end, (uint64_t)head + (1ull << order)); q++) {
			struct page *qp = &mm->frames[mm_rng_idx(r, q)];

			mm_page_set_state(qp, FRAME_RESERVED);
			qp->flags = 0;
			zone->nr_state[FRAME_FREE]--;
			zone->nr_state[FRAME_RESERVED]++;
			zone->managed--;
		}
		p = (uint64_t)head + (1ull << order);
	}
	zones_unlock(mm, mask);
	/* managed changed: recompute watermarks and lowmem_reserve. */
	zone_setup_watermarks(mm);
	return 0;
}

static bool state_pair_ok(enum frame_state from, enum frame_state to)
{
	if (from == FRAME_GUEST)
		return to == FRAME_DMA || to == FRAME_BALLOON;
	return to == FRAME_GUEST &&
	       (from == FRAME_DMA || from == FRAME_BALLOON);
}

int mm_set_frames_state(struct mm *mm, uint64_t pfn, uint64_t nr,
			enum frame_state from, enum frame_state to,
			uint32_t owner)
{
	const struct mm_rng *r;
	unsigned mask;
	uint64_t i;

	if ((unsigned)from >= FRAME_NR_STATES ||
	    (unsigned)to >= FRAME_NR_STATES || !state_pair_ok(from, to))
		return -EINVAL;
	if (nr == 0)
		return 0;
	r = range_present(mm, pfn, nr);
	if (!r)
		return -ERANGE;
	mask = zones_lock_range(mm, pfn, nr);
	/*
	 * Per-frame compare-and-swap: an order-0 free of one of these frames
	 * (which takes no zone lock) either sees the new state or wins.
	 */
	for (i = 0; i < nr; i++) {
		struct page *p = &mm->frames[mm_rng_idx(r, pfn + i)];

		if (!mm_page_cas_state(p, from, to))
			break;
	}
	if (i < nr) {
		while (i-- > 0)
			mm_page_cas_state(&mm->frames[mm_rng_idx(r, pfn + i)],
					  to, from);
		zones_unlock(mm, mask);
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, pfn + i)];

		mm->frames[mm_rng_idx(r, pfn + i)].owner =
			to == FRAME_DMA ? owner : 0;
		zone->nr_state[from]--;
		zone->nr_state[to]++;
		/* Only GUEST frames carry the flag; BALLOON gets discarded
		 * anyway, DMA must be backed. */
		if (from == FRAME_GUEST &&
		    (__atomic_fetch_and(
			     &mm->frames[mm_rng_idx(r, pfn + i)].flags,
			     (uint8_t)~PG_DISCARDED, __ATOMIC_RELAXED) &
		     PG_DISCARDED))
			__atomic_fetch_sub(&zone->guest_discarded, 1,
					   __ATOMIC_RELAXED);
	}
	zones_unlock(mm, mask);
	return 0;
}

void __mm_forget_discarded(struct mm *mm, struct zone *zone,
			   const struct mm_rng *r, uint64_t pfn, uint64_t nr)
{
	uint64_t cleared = 0;

	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = &mm->frames[mm_rng_idx(r, pfn + i)];

		if (mm_page_state(p) == FRAME_GUEST &&
		    (__atomic_fetch_and(&p->flags, (uint8_t)~PG_DISCARDED,
					__ATOMIC_RELAXED) &
		     PG_DISCARDED))
			cleared++;
	}
	if (cleared)
		__atomic_fetch_sub(&zone->guest_discarded, cleared,
				   __ATOMIC_RELAXED);
}

/* Is every frame of [pfn, pfn + nr) GUEST? Caller holds the zone locks. */
static bool range_all_guest(const struct mm *mm, const struct mm_rng *r,
			    uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++)
		if (mm_page_state(&mm->frames[mm_rng_idx(r, pfn + i)]) !=
		    FRAME_GUEST)
			return false;
	return true;
}

int64_t mm_mark_discarded(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	const struct mm_rng *r = range_present(mm, pfn, nr);
	int64_t marked = 0;
	unsigned mask;

	if (!r)
		return -ERANGE;
	mask = zones_lock_range(mm, pfn, nr);
	if (!range_all_guest(mm, r, pfn, nr)) {
		zones_unlock(mm, mask);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = &mm->frames[mm_rng_idx(r, pfn + i)];
		struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, pfn + i)];

		if (__atomic_fetch_or(&p->flags, PG_DISCARDED,
				      __ATOMIC_RELAXED) &
		    PG_DISCARDED)
			continue;
		__atomic_fetch_add(&zone->guest_discarded, 1, __ATOMIC_RELAXED);
		marked++;
	}
	zones_unlock(mm, mask);
	return marked;
}

/*
 * Discard the still-backed blocks of one order. Freshly merged blocks go on
 * the head of their list, so the walk usually ends after the first few
 * entries: it stops as soon as it has seen all area->nr_backed of them.
 */
static uint64_t report_order(struct mm *mm, struct zone *zone, unsigned order)
{
	struct free_area *area = &zone->area[order];
	uint64_t done = 0;

	for (int mt = 0; mt < MIGRATE_TYPES && area->nr_backed; mt++) {
		if (mt == MIGRATE_ISOLATE)
			continue;
		for (uint32_t i = area->head[mt];
		     i != MM_NO_LINK && area->nr_backed;
		     i = mm->frames[i].next) {
			struct page *p = &mm->frames[i];

			if (p->flags & PG_DISCARDED)
				continue;
			mm->ops.discard(mm->opaque, mm_idx_to_pfn(mm, i),
					1ull << order);
			p->flags |= PG_DISCARDED;
			zone->discarded += 1ull << order;
			area->nr_backed--;
			done += 1ull << order;
		}
	}
	return done;
}

uint64_t mm_report_free(struct mm *mm, unsigned min_order)
{
	uint64_t done = 0;

	if (!mm->ops.discard)
		return 0;
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];

		if (!zone->populated)
			continue;
		mm_lock(&zone->lock);
		for (unsigned o = min_order; o < NR_PAGE_ORDERS; o++)
			done += report_order(mm, zone, o);
		mm_unlock(&zone->lock);
	}
	return done;
}

/* Does a present frame lie in [pfn, pfn + nr)? */
static bool any_present(const struct mm *mm, uint64_t pfn, uint64_t nr)
{
	for (unsigned i = 0; i < mm->nr_ranges; i++)
		if (mm->ranges[i].start_pfn < pfn + nr &&
		    mm->ranges[i].end_pfn > pfn)
			return true;
	return false;
}

/* A pageblock split by a hole has a slot in each range: set them all. */
static void pageblock_set_type(struct mm *mm, uint64_t pb, int mt)
{
	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		const struct mm_rng *r = &mm->ranges[i];

		if (r->start_pfn < pb + PAGEBLOCK_NR_PAGES && r->end_pfn > pb)
			*mm_pb_slot(mm, r, MM_MAX(pb, r->start_pfn)) =
				(uint8_t)mt;
	}
}

/*
 * Take every free block overlapping the pageblocks off the lists, set the
 * types, and free the pieces back through the merge path, which then joins
 * them as the new types allow (blocks larger than a pageblock are cut into
 * pageblocks first, so no block ends up spanning two incompatible types).
 */
static void pageblocks_retype(struct mm *mm, uint64_t pfn, uint64_t nr, int mt)
{
	uint64_t end = pfn + nr;
	uint64_t lo = pfn & ~((1ull << MAX_PAGE_ORDER) - 1);
	uint64_t hi = (end + (1ull << MAX_PAGE_ORDER) - 1) &
		      ~((1ull << MAX_PAGE_ORDER) - 1);

	for (uint64_t pb = lo; pb < hi; pb += PAGEBLOCK_NR_PAGES) {
		const struct mm_rng *r;
		struct page *p;
		struct zone *zone;
		unsigned order;
		int64_t head;

		for (uint64_t q = pb; q < pb + PAGEBLOCK_NR_PAGES; q++) {
			r = mm_rng_of_pfn(mm, q);
			if (!r)
				continue;
			head = free_block_of(mm, q, &order);
			if (head < 0)
				continue;
			p = &mm->frames[mm_rng_idx(r, (uint64_t)head)];
			zone = &mm->zones[mm_zone_of_pfn(mm, q)];
			free_list_del(mm, zone, mm_rng_idx(r, (uint64_t)head));
			/*
			 * Park it off-list, marked PG_PCP without PG_HEAD (a
			 * combination no listed or per-CPU frame has; the
			 * zone locks are held), until the types are set.
			 */
			p->flags = (p->flags & PG_DISCARDED) | PG_PCP;
			p->order = (uint8_t)order;
			q = (uint64_t)head + (1ull << order) - 1;
		}
	}
	for (uint64_t pb = pfn; pb < end; pb += PAGEBLOCK_NR_PAGES)
		pageblock_set_type(mm, pb, mt);
	for (uint64_t q = lo; q < hi; q++) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, q);
		struct page *p;
		uint8_t d;
		unsigned order;

		if (!r)
			continue;
		p = &mm->frames[mm_rng_idx(r, q)];
		if ((p->flags & (PG_HEAD | PG_PCP)) != PG_PCP ||
		    mm_page_state(p) != FRAME_FREE)
			continue;
		d = p->flags & PG_DISCARDED;
		order = p->order;
		p->flags = 0;
		for (uint64_t s = q; s < q + (1ull << order);
		     s += MM_MIN(1ull << order, PAGEBLOCK_NR_PAGES))
			__buddy_free_block(mm,
					   &mm->zones[mm_zone_of_pfn(mm, s)], s,
					   MM_MIN(order, PAGEBLOCK_ORDER), d);
		q += (1ull << order) - 1;
	}
}

int mm_set_pageblock_migratetype(struct mm *mm, uint64_t pfn, uint64_t nr,
				 enum migratetype mt)
{
	unsigned mask;
	uint64_t lo, hi;

	if ((unsigned)mt >= MIGRATE_TYPES || nr == 0 ||
	    (pfn | nr) & (PAGEBLOCK_NR_PAGES - 1) || pfn + nr < pfn)
		return -EINVAL;
	for (uint64_t pb = pfn; pb < pfn + nr; pb += PAGEBLOCK_NR_PAGES)
		if (!any_present(mm, pb, PAGEBLOCK_NR_PAGES))
			return -ERANGE;
	mm_drain_pcp(mm);
	lo = pfn & ~((1ull << MAX_PAGE_ORDER) - 1);
	hi = (pfn + nr + (1ull << MAX_PAGE_ORDER) - 1) &
	     ~((1ull << MAX_PAGE_ORDER) - 1);
	mask = zones_lock_range(mm, lo, hi - lo);
	pageblocks_retype(mm, pfn, nr, mt);
	zones_unlock(mm, mask);
	return 0;
}
