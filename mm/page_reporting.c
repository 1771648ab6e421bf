// SPDX-License-Identifier: MIT
/*
 * mm/page_reporting.c - free page reporting: handing the backing of free
 * blocks back to the host (mm_report_free(), PG_DISCARDED on the free lists),
 * and the native model's GUEST frames that the guest reported free
 * (mm_mark_discarded(), zone->guest_discarded).
 */
#include "mm_internal.h"

void mm_forget_discarded(struct mm *mm, struct zone *zone,
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
	const struct mm_rng *r = mm_range_present(mm, pfn, nr);
	int64_t marked = 0;
	unsigned mask;

	if (!r)
		return -ERANGE;
	mask = mm_lock_zones_range(mm, pfn, nr);
	if (!range_all_guest(mm, r, pfn, nr)) {
		mm_unlock_zones(mm, mask);
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
	mm_unlock_zones(mm, mask);
	return marked;
}

/*
 * Mark the still-backed blocks of one order PG_DISCARDED, and with @release
 * have the host drop their backing first. Freshly merged blocks go on
 * the head of their list, so the walk usually ends after the first few
 * entries: it stops as soon as it has seen all the backed ones
 * (free_area_nr_backed(), isolated ones included, which it skips).
 */
static uint64_t report_order(struct mm *mm, struct zone *zone, unsigned order,
			     bool release)
{
	struct free_area *area = &zone->area[order];
	uint64_t backed = free_area_nr_backed(area), done = 0;

	for (int mt = 0; mt < MIGRATE_TYPES && backed; mt++) {
		if (mt == MIGRATE_ISOLATE)
			continue;
		for (uint32_t i = area->head[mt]; i != MM_NO_LINK && backed;
		     i = mm->frames[i].next) {
			struct page *p = &mm->frames[i];

			if (p->flags & PG_DISCARDED)
				continue;
			if (release)
				mm->ops.discard(mm->opaque,
						mm_idx_to_pfn(mm, i),
						1ull << order);
			p->flags |= PG_DISCARDED;
			zone->discarded += 1ull << order;
			area->nr_discarded++;
			backed--;
			done += 1ull << order;
		}
	}
	return done;
}

static uint64_t mark_free(struct mm *mm, unsigned min_order, bool release)
{
	uint64_t done = 0;

	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];

		if (!zone->populated)
			continue;
		mm_lock(&zone->lock);
		for (unsigned o = min_order; o < NR_PAGE_ORDERS; o++)
			done += report_order(mm, zone, o, release);
		mm_unlock(&zone->lock);
	}
	return done;
}

uint64_t mm_report_free(struct mm *mm, unsigned min_order)
{
	return mm->ops.discard ? mark_free(mm, min_order, true) : 0;
}

uint64_t mm_mark_free_unbacked(struct mm *mm)
{
	return mark_free(mm, 0, false);
}
