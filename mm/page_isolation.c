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
	mask = mm_lock_zones_range(mm, lo, hi - lo);
	pageblocks_retype(mm, pfn, nr, mt);
	mm_unlock_zones(mm, mask);
	return 0;
}
