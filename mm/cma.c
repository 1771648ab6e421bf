// SPDX-License-Identifier: MIT
/*
 * mm/cma.c - contiguous allocations beyond MAX_PAGE_ORDER (Linux's
 * alloc_contig_range() and alloc_contig_pages() in mm/page_alloc.c) and
 * CMA areas (Linux's mm/cma.c).
 *
 * alloc_contig_range(): isolate the pageblocks around the range (nothing is
 * allocated there from then on, frees land on the ISOLATE lists), migrate
 * the movable blocks out (migrate.c, targets from the same zone), check that
 * every frame of the range is free, take the range as GUEST blocks, and
 * give the pageblocks their type back. Any failure undoes the isolation;
 * the frames already migrated stay where they went.
 *
 * A CMA area is a run of MIGRATE_CMA pageblocks: the allocator serves only
 * movable requests from it (page_alloc.c's fallback order), so whatever
 * sits there can be migrated out when mm_cma_alloc() needs the range.
 */
#include "mm_internal.h"

#define CONTIG_MIGRATE_PASSES 5

/* Migrating the range out ------------------------------------------------ */

/*
 * Isolate and migrate the movable blocks overlapping [start, end), batch by
 * batch. Return: 0 when none is left, -EBUSY if some would not move.
 */
static int migrate_range_out(struct mm *mm, uint64_t start, uint64_t end)
{
	struct mm_migration list[COMPACT_CLUSTER_MAX];
	bool stuck = false;

	for (int pass = 0; pass < CONTIG_MIGRATE_PASSES; pass++) {
		/* A block as large as MAX_PAGE_ORDER may start before. */
		uint64_t pfn = start & ~((1ull << MAX_PAGE_ORDER) - 1);
		unsigned n = 0;

		stuck = false;
		while (pfn < end) {
			const struct page *p = mm_pfn_to_page(mm, pfn);
			unsigned order;

			if (!p) {
				pfn++;
				continue;
			}
			order = (p->flags & PG_HEAD) ? p->order : 0;
			if (pfn + (1ull << order) <= start ||
			    !page_movable(mm, p)) {
				pfn += 1ull << order;
				continue;
			}
			if (!isolate_movable_block(mm, pfn, &order)) {
				list[n].src = pfn;
				list[n].dst = MM_PFN_NONE;
				list[n].order = order;
				n++;
			} else {
				stuck = true;
			}
			pfn += 1ull << order;
			if (n == COMPACT_CLUSTER_MAX || pfn >= end) {
				if (mm_migrate_pages(mm, list, n, MIGRATE_SYNC))
					stuck = true;
				n = 0;
			}
		}
		if (n && mm_migrate_pages(mm, list, n, MIGRATE_SYNC))
			stuck = true;
		if (!stuck)
			return 0;
	}
	return -EBUSY;
}

/* Taking the range ------------------------------------------------------ */

static void __prep_contig_block(struct mm *mm, struct zone *zone, uint64_t pfn,
				unsigned order)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	struct page *p = &mm->frames[mm_rng_idx(r, pfn)];

	for (uint32_t i = 0; i < (1u << order); i++) {
		p[i].flags = 0;
		p[i].owner = 0;
		p[i].next = p[i].prev = MM_NO_LINK;
		mm_page_set_state(&p[i], FRAME_GUEST);
	}
	p->flags = PG_HEAD;
	p->order = (uint8_t)order;
	p->migratetype = MIGRATE_MOVABLE;
	zone->nr_state[FRAME_FREE] -= 1ll << order;
	zone->nr_state[FRAME_GUEST] += 1ll << order;
}

/*
 * Every frame of [start, end) is free on an ISOLATE list (checked, zone
 * lock held): take the free blocks off, give back what lies outside, and
 * make the range maximal aligned GUEST blocks.
 */
static void __take_range(struct mm *mm, struct zone *zone, uint64_t start,
			 uint64_t end)
{
	for (uint64_t pfn = start; pfn < end;) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		unsigned order;
		int64_t head = __find_free_block(mm, pfn, &order);
		uint64_t h = (uint64_t)head, hend = h + (1ull << order);
		uint8_t d = mm->frames[mm_rng_idx(r, h)].flags & PG_DISCARDED;

		__free_list_del(mm, zone, mm_rng_idx(r, h));
		mm->frames[mm_rng_idx(r, h)].flags = 0;
		__free_range(mm, zone, h, MM_MAX(h, start), d);
		__free_range(mm, zone, MM_MIN(end, hend), hend, d);
		for (uint64_t q = MM_MAX(h, start); q < MM_MIN(end, hend);) {
			unsigned o = 0;

			while (o < MAX_PAGE_ORDER && !(q & ((2ull << o) - 1)) &&
			       q + (2ull << o) <= MM_MIN(end, hend))
				o++;
			__prep_contig_block(mm, zone, q, o);
			q += 1ull << o;
		}
		pfn = hend;
	}
}

/*
 * alloc_contig_range() with the pageblock type to restore (MOVABLE, or CMA
 * inside a CMA area). Caller holds run_lock.
 */
static int contig_range(struct mm *mm, uint64_t start, uint64_t end,
			enum migratetype restore)
{
	uint64_t ostart = pageblock_start(start),
		 oend = pageblock_round_up(end);
	struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, start)];
	unsigned mask;
	int ret;

	ret = isolate_range(mm, ostart, oend, start, end);
	if (ret)
		return ret;
	ret = migrate_range_out(mm, start, end);
	if (!ret)
		ret = mm_test_pages_isolated(mm, start, end);
	if (!ret) {
		mask = mm_lock_zones_range(mm, start, end - start);
		__take_range(mm, zone, start, end);
		mm_unlock_zones(mm, mask);
	}
	mm_undo_isolate_page_range(mm, ostart, oend, restore);
	return ret;
}

/* [start, end) in one RAM range and one zone, its pageblocks present. */
static int contig_range_ok(struct mm *mm, uint64_t start, uint64_t end)
{
	const struct zone *zone;

	if (start >= end)
		return -EINVAL;
	if (!mm_range_present(mm, start, end - start) ||
	    mm_zone_of_pfn(mm, start) != mm_zone_of_pfn(mm, end - 1))
		return -ERANGE;
	zone = &mm->zones[mm_zone_of_pfn(mm, start)];
	if (pageblock_start(start) < zone->start_pfn ||
	    pageblock_round_up(end) > zone->end_pfn)
		return -ERANGE;
	return 0;
}

/* MIGRATE_CMA if every pageblock of the range is CMA, MOVABLE if none, or
 * -EINVAL for a range half in a CMA area. */
static int range_restore_type(struct mm *mm, uint64_t start, uint64_t end)
{
	int cma = 0, other = 0;

	for (uint64_t pb = pageblock_start(start); pb < end;
	     pb += PAGEBLOCK_NR_PAGES) {
		int mt = mm_get_pageblock_migratetype(mm, MM_MAX(pb, start));

		if (mt == MIGRATE_CMA)
			cma++;
		else
			other++;
	}
	if (cma && other)
		return -EINVAL;
	return cma ? MIGRATE_CMA : MIGRATE_MOVABLE;
}

int mm_alloc_contig_range(struct mm *mm, uint64_t start, uint64_t end)
{
	int ret = contig_range_ok(mm, start, end);
	int mt;

	if (ret)
		return ret;
	mt = range_restore_type(mm, start, end);
	if (mt < 0)
		return mt;
	mm_lock(&mm->compaction.run_lock);
	ret = contig_range(mm, start, end, (enum migratetype)mt);
	mm_unlock(&mm->compaction.run_lock);
	return ret;
}

int mm_free_contig_range(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	uint64_t end = pfn + nr;

	if (!nr || !mm_range_present(mm, pfn, nr))
		return -EINVAL;
	while (pfn < end) {
		const struct page *p = mm_pfn_to_page(mm, pfn);
		unsigned order = p->order;
		int ret;

		if (!(p->flags & PG_HEAD) || pfn + (1ull << order) > end)
			return -EINVAL;
		ret = mm_free_pages(mm, pfn, order);
		if (ret)
			return ret;
		pfn += 1ull << order;
	}
	return 0;
}

/* Searching for a range ------------------------------------------------- */

/* Zones @gfp allows, highest first (as page_alloc.c's zone list). */
static int contig_zones(const struct mm *mm, gfp_t gfp, enum zone_type *out)
{
	static const enum zone_type order_of_zones[MM_NR_ZONES] = {
		ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32, ZONE_DMA};
	int n = 0;

	for (int i = 0; i < MM_NR_ZONES; i++) {
		enum zone_type zt = order_of_zones[i];

		if (!mm->zones[zt].populated)
			continue;
		if (zt == ZONE_MOVABLE &&
		    (!(gfp & __GFP_MOVABLE) || (gfp & GFP_ZONEMASK)))
			continue;
		if ((gfp & __GFP_DMA) && zt != ZONE_DMA)
			continue;
		if ((gfp & __GFP_DMA32) && zt != ZONE_DMA32 && zt != ZONE_DMA)
			continue;
		out[n++] = zt;
	}
	return n;
}

/* Does [start, end) touch a CMA pageblock? */
static bool range_has_cma(struct mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t pb = pageblock_start(start); pb < end;
	     pb += PAGEBLOCK_NR_PAGES)
		if (mm_get_pageblock_migratetype(mm, MM_MAX(pb, start)) ==
		    MIGRATE_CMA)
			return true;
	return false;
}

/* Try every @align-aligned candidate in [lo, hi) bottom-up. */
static int contig_search(struct mm *mm, uint64_t lo, uint64_t hi, uint64_t nr,
			 uint64_t align, enum migratetype restore,
			 uint64_t *pfn)
{
	uint64_t step = MM_MAX(align, (uint64_t)PAGEBLOCK_NR_PAGES);
	uint64_t s = (lo + align - 1) & ~(align - 1);

	for (; s + nr <= hi && s + nr > s; s += step) {
		if (contig_range_ok(mm, s, s + nr))
			continue;
		if (restore != MIGRATE_CMA && range_has_cma(mm, s, s + nr))
			continue;
		if (range_has_pinned(mm, s, s + nr))
			continue;
		if (!contig_range(mm, s, s + nr, restore)) {
			*pfn = s;
			return 0;
		}
	}
	return -ENOMEM;
}

int mm_alloc_contig_pages(struct mm *mm, uint64_t nr, gfp_t gfp, uint64_t align,
			  unsigned addr_bits, uint64_t *pfn)
{
	enum zone_type zones[MM_NR_ZONES];
	uint64_t limit = addr_bits >= 64 ? UINT64_MAX
					 : (1ull << addr_bits) >> PAGE_SHIFT;
	int n, ret = -ENOMEM;

	if (!nr || !pfn || (align & (align - 1)) || (gfp & ~GFP_VALID_MASK))
		return -EINVAL;
	align = align ? align : 1;
	n = contig_zones(mm, gfp, zones);
	mm_lock(&mm->compaction.run_lock);
	for (int i = 0; i < n && ret; i++) {
		const struct zone *zone = &mm->zones[zones[i]];

		ret = contig_search(mm, zone->start_pfn,
				    MM_MIN(zone->end_pfn, limit), nr, align,
				    MIGRATE_MOVABLE, pfn);
	}
	mm_unlock(&mm->compaction.run_lock);
	return ret;
}

/* CMA areas ------------------------------------------------------------- */

int mm_cma_declare(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	struct mm_compaction *c = &mm->compaction;
	int id = -ENOSPC, ret;

	if (!nr || (pfn | nr) & (PAGEBLOCK_NR_PAGES - 1))
		return -EINVAL;
	ret = contig_range_ok(mm, pfn, pfn + nr);
	if (ret)
		return ret;
	if (range_has_cma(mm, pfn, pfn + nr) ||
	    range_has_pinned(mm, pfn, pfn + nr))
		return -EBUSY;
	mm_lock(&c->reg_lock);
	for (int i = 0; i < MM_MAX_CMA_AREAS; i++) {
		if (c->cma[i].used)
			continue;
		c->cma[i].used = true;
		c->cma[i].base_pfn = pfn;
		c->cma[i].count = nr;
		atomic_store(&c->cma[i].allocated, 0);
		id = i;
		break;
	}
	mm_unlock(&c->reg_lock);
	if (id < 0)
		return id;
	ret = mm_set_pageblock_migratetype(mm, pfn, nr, MIGRATE_CMA);
	if (ret) {
		c->cma[id].used = false;
		return ret;
	}
	return id;
}

int mm_cma_reserve(struct mm *mm, enum zone_type zt, uint64_t nr, uint64_t *pfn)
{
	const struct zone *zone;

	if ((unsigned)zt >= MM_NR_ZONES || !nr || !pfn)
		return -EINVAL;
	zone = &mm->zones[zt];
	if (!zone->populated)
		return -ENOMEM;
	nr = pageblock_round_up(nr);
	for (uint64_t s = pageblock_start(zone->end_pfn) - nr;
	     s >= zone->start_pfn && s < zone->end_pfn;
	     s -= PAGEBLOCK_NR_PAGES) {
		int id;

		if (contig_range_ok(mm, s, s + nr))
			continue;
		id = mm_cma_declare(mm, s, nr);
		if (id >= 0) {
			*pfn = s;
			return id;
		}
		if (id != -EBUSY)
			return id;
	}
	return -ENOMEM;
}

static struct mm_cma_area *cma_area(struct mm *mm, int id)
{
	if (id < 0 || id >= MM_MAX_CMA_AREAS || !mm->compaction.cma[id].used)
		return NULL;
	return &mm->compaction.cma[id];
}

int mm_cma_alloc(struct mm *mm, int id, uint64_t nr, uint64_t align,
		 uint64_t *pfn)
{
	struct mm_cma_area *a = cma_area(mm, id);
	int ret;

	if (!a || !nr || !pfn || (align & (align - 1)))
		return -EINVAL;
	align = align ? align : 1;
	mm_lock(&mm->compaction.run_lock);
	ret = -ENOMEM;
	for (uint64_t s = (a->base_pfn + align - 1) & ~(align - 1);
	     ret && s + nr <= a->base_pfn + a->count; s += align) {
		if (range_has_pinned(mm, s, s + nr))
			continue;
		ret = contig_range(mm, s, s + nr, MIGRATE_CMA);
		if (!ret)
			*pfn = s;
	}
	mm_unlock(&mm->compaction.run_lock);
	if (!ret)
		atomic_fetch_add(&a->allocated, nr);
	return ret;
}

int mm_cma_release(struct mm *mm, int id, uint64_t pfn, uint64_t nr)
{
	struct mm_cma_area *a = cma_area(mm, id);
	int ret;

	if (!a || !nr || pfn < a->base_pfn || pfn + nr > a->base_pfn + a->count)
		return -EINVAL;
	ret = mm_free_contig_range(mm, pfn, nr);
	if (!ret)
		atomic_fetch_sub(&a->allocated, nr);
	return ret;
}

int mm_cma_info(struct mm *mm, int id, struct mm_cma_info *out)
{
	struct mm_cma_area *a = cma_area(mm, id);
	uint64_t end;
	unsigned mask;

	if (!a || !out)
		return -EINVAL;
	out->base_pfn = a->base_pfn;
	out->count = a->count;
	out->allocated = atomic_load(&a->allocated);
	out->free = 0;
	end = a->base_pfn + a->count;
	mask = mm_lock_zones_range(mm, a->base_pfn, a->count);
	for (uint64_t pfn = a->base_pfn; pfn < end;) {
		unsigned order;
		int64_t head = __find_free_block(mm, pfn, &order);

		if (head < 0) {
			pfn++;
			continue;
		}
		out->free +=
			MM_MIN(end, (uint64_t)head + (1ull << order)) - pfn;
		pfn = (uint64_t)head + (1ull << order);
	}
	mm_unlock_zones(mm, mask);
	return 0;
}
