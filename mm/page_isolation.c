// SPDX-License-Identifier: MIT
/*
 * mm/page_isolation.c - pageblock migratetypes set from outside the
 * allocator: MIGRATE_CMA ranges, and MIGRATE_ISOLATE ranges, whose free
 * frames no allocation can take (the buddy core merges them only with their
 * own type, and the per-CPU lists never hold them).
 */
#include "mm_internal.h"

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

/* Lock the zones a retype of [start, end) touches (whole max-order blocks). */
static unsigned lock_retype_span(struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t lo = start & ~((1ull << MAX_PAGE_ORDER) - 1);
	uint64_t hi = (end + (1ull << MAX_PAGE_ORDER) - 1) &
		      ~((1ull << MAX_PAGE_ORDER) - 1);

	return mm_lock_zones_range(mm, lo, hi - lo);
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
			head = __find_free_block(mm, q, &order);
			if (head < 0)
				continue;
			p = &mm->frames[mm_rng_idx(r, (uint64_t)head)];
			zone = &mm->zones[mm_zone_of_pfn(mm, q)];
			__free_list_del(mm, zone,
					mm_rng_idx(r, (uint64_t)head));
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

	if ((unsigned)mt >= MIGRATE_TYPES || nr == 0 ||
	    (pfn | nr) & (PAGEBLOCK_NR_PAGES - 1) || pfn + nr < pfn)
		return -EINVAL;
	for (uint64_t pb = pfn; pb < pfn + nr; pb += PAGEBLOCK_NR_PAGES)
		if (!any_present(mm, pb, PAGEBLOCK_NR_PAGES))
			return -ERANGE;
	mm_drain_pcp(mm);
	mask = lock_retype_span(mm, pfn, pfn + nr);
	pageblocks_retype(mm, pfn, nr, mt);
	mm_unlock_zones(mm, mask);
	return 0;
}

/* Isolation of ranges for contiguous allocation --------------------------
 *
 * Linux's start_isolate_page_range() / undo_isolate_page_range(): unlike
 * mm_set_pageblock_migratetype(), these run while mm/ is in use. Frames on
 * per-CPU lists are not moved: their owners are asked to drain, and a drain
 * frees into the pageblock's (now ISOLATE) lists.
 */

/* Is the frame at @pfn something that can never leave (RESERVED, DMA,
 * an allocated block without an owner that can move it, or one already
 * isolated by someone else)? Returns the frames to step over, 0 if so. */
static uint64_t frame_pinned_step(struct mm *mm, const struct mm_rng *r,
				  uint64_t pfn)
{
	const struct page *p = &mm->frames[mm_rng_idx(r, pfn)];
	uint8_t s = mm_page_state(p);

	if (p->flags & PG_BUDDY)
		return 1ull << p->order;
	if (s == FRAME_FREE)
		return 1; /* a per-CPU frame, or the tail of a free block */
	if (s == FRAME_RESERVED || s == FRAME_DMA)
		return 0;
	if (p->flags & PG_HEAD)
		return page_movable(mm, p) ? 1ull << p->order : 0;
	/* The tail of an allocated block whose head lies before @pfn. */
	for (unsigned o = 1; o < NR_PAGE_ORDERS; o++) {
		uint64_t head = pfn & ~((1ull << o) - 1);
		const struct page *h;

		if (head < r->start_pfn)
			break;
		h = &mm->frames[mm_rng_idx(r, head)];
		if ((h->flags & PG_HEAD) && h->order == o)
			return page_movable(mm, h) ? head + (1ull << o) - pfn
						   : 0;
	}
	return 0;
}

/* Does [pfn, end) hold a frame that cannot be moved out? Zone lock held. */
static bool __range_has_pinned(struct mm *mm, uint64_t pfn, uint64_t end)
{
	while (pfn < end) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		uint64_t step;

		if (!r) {
			pfn++;
			continue;
		}
		step = frame_pinned_step(mm, r, pfn);
		if (!step)
			return true;
		pfn += step;
	}
	return false;
}

/* The type of pageblock @pb (present somewhere in it). */
static int pageblock_type(const struct mm *mm, uint64_t pb)
{
	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		const struct mm_rng *r = &mm->ranges[i];

		if (r->start_pfn < pb + PAGEBLOCK_NR_PAGES && r->end_pfn > pb)
			return *mm_pb_slot(mm, r, MM_MAX(pb, r->start_pfn));
	}
	return -ERANGE;
}

/* [start, end) pageblock aligned, present at each pageblock, one zone. */
static int isolation_range_ok(const struct mm *mm, uint64_t start, uint64_t end)
{
	if (start >= end || (start | end) & (PAGEBLOCK_NR_PAGES - 1))
		return -EINVAL;
	for (uint64_t pb = start; pb < end; pb += PAGEBLOCK_NR_PAGES)
		if (!any_present(mm, pb, PAGEBLOCK_NR_PAGES))
			return -ERANGE;
	if (mm_zone_of_pfn(mm, start) != mm_zone_of_pfn(mm, end - 1))
		return -ERANGE;
	return 0;
}

int isolate_range(struct mm *mm, uint64_t start, uint64_t end,
		  uint64_t chk_start, uint64_t chk_end)
{
	unsigned mask, cpu = mm_cpu_id();
	int ret = isolation_range_ok(mm, start, end);

	if (ret)
		return ret;
	mask = lock_retype_span(mm, start, end);
	for (uint64_t pb = start; pb < end; pb += PAGEBLOCK_NR_PAGES) {
		if (pageblock_type(mm, pb) == MIGRATE_ISOLATE ||
		    __range_has_pinned(
			    mm, MM_MAX(pb, chk_start),
			    MM_MIN(pb + PAGEBLOCK_NR_PAGES, chk_end))) {
			mm_unlock_zones(mm, mask);
			return -EBUSY;
		}
	}
	pageblocks_retype(mm, start, end - start, MIGRATE_ISOLATE);
	mm_unlock_zones(mm, mask);
	pcp_request_drain_all(mm, cpu);
	pcp_drain_own(mm, cpu);
	return 0;
}

int mm_start_isolate_page_range(struct mm *mm, uint64_t start, uint64_t end)
{
	return isolate_range(mm, start, end, start, end);
}

bool range_has_pinned(struct mm *mm, uint64_t start, uint64_t end)
{
	unsigned mask = mm_lock_zones_range(mm, start, end - start);
	bool pinned = __range_has_pinned(mm, start, end);

	mm_unlock_zones(mm, mask);
	return pinned;
}

int mm_undo_isolate_page_range(struct mm *mm, uint64_t start, uint64_t end,
			       enum migratetype mt)
{
	unsigned mask;
	int ret = isolation_range_ok(mm, start, end);

	if (ret)
		return ret;
	if ((unsigned)mt >= MIGRATE_TYPES || mt == MIGRATE_ISOLATE)
		return -EINVAL;
	mask = lock_retype_span(mm, start, end);
	pageblocks_retype(mm, start, end - start, mt);
	mm_unlock_zones(mm, mask);
	return 0;
}

int mm_test_pages_isolated(struct mm *mm, uint64_t start, uint64_t end)
{
	unsigned mask;
	int ret = 0;

	if (start >= end)
		return -EINVAL;
	mask = mm_lock_zones_range(mm, start, end - start);
	for (uint64_t pfn = start; pfn < end && !ret;) {
		unsigned order;
		int64_t head;

		if (!mm_rng_of_pfn(mm, pfn)) {
			pfn++;
			continue;
		}
		head = __find_free_block(mm, pfn, &order);
		if (head < 0 ||
		    mm_get_pageblock_migratetype(mm, pfn) != MIGRATE_ISOLATE)
			ret = -EBUSY;
		else
			pfn = (uint64_t)head + (1ull << order);
	}
	mm_unlock_zones(mm, mask);
	return ret;
}
