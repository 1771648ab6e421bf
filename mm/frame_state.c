// SPDX-License-Identifier: MIT
/*
 * mm/frame_state.c - state changes of ranges of frames outside allocation
 * and free: reserving boot data (FREE -> RESERVED), and moving allocated
 * frames between GUEST, DMA and BALLOON.
 */
#include "mm_internal.h"

int mm_reserve_range(struct mm *mm, uint64_t pfn, uint64_t nr)
{
	const struct mm_rng *r = mm_range_present(mm, pfn, nr);
	uint64_t end = pfn + nr, p;
	unsigned mask, order;
	int64_t head;

	if (!r)
		return -ERANGE;
	mm_drain_pcp(mm);
	mask = mm_lock_zones_range(mm, pfn, nr);
	for (p = pfn; p < end; p++) {
		if (__find_free_block(mm, p, &order) < 0) {
			mm_unlock_zones(mm, mask);
			return -EBUSY;
		}
	}
	for (p = pfn; p < end;) {
		struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, p)];
		struct page *hp;
		uint8_t d;

		head = __find_free_block(mm, p, &order);
		hp = &mm->frames[mm_rng_idx(r, (uint64_t)head)];
		d = hp->flags & PG_DISCARDED;
		__free_list_del(mm, zone, mm_rng_idx(r, (uint64_t)head));
		hp->flags = 0;
		/* Keep what lies outside the range; reserve the rest. */
		__free_range(mm, zone, (uint64_t)head,
			     MM_MAX((uint64_t)head, pfn), d);
		__free_range(mm, zone, end, (uint64_t)head + (1ull << order),
			     d);
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
	mm_unlock_zones(mm, mask);
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
	int err = -EINVAL;

	if ((unsigned)from >= FRAME_NR_STATES ||
	    (unsigned)to >= FRAME_NR_STATES || !state_pair_ok(from, to))
		return -EINVAL;
	if (nr == 0)
		return 0;
	r = mm_range_present(mm, pfn, nr);
	if (!r)
		return -ERANGE;
	mask = mm_lock_zones_range(mm, pfn, nr);
	/*
	 * Per-frame compare-and-swap: an order-0 free of one of these frames
	 * (which takes no zone lock) either sees the new state or wins.
	 */
	for (i = 0; i < nr; i++) {
		struct page *p = &mm->frames[mm_rng_idx(r, pfn + i)];

		/* Isolated for migration (migrate.c): it must stay as is. */
		if (__atomic_load_n(&p->flags, __ATOMIC_RELAXED) &
		    PG_ISOLATED) {
			err = -EBUSY;
			break;
		}
		if (!mm_page_cas_state(p, from, to))
			break;
	}
	if (i < nr) {
		while (i-- > 0)
			mm_page_cas_state(&mm->frames[mm_rng_idx(r, pfn + i)],
					  to, from);
		mm_unlock_zones(mm, mask);
		return err;
	}
	for (i = 0; i < nr; i++) {
		struct zone *zone = &mm->zones[mm_zone_of_pfn(mm, pfn + i)];
		struct page *p = &mm->frames[mm_rng_idx(r, pfn + i)];

		p->owner = to == FRAME_DMA ? owner : 0;
		zone->nr_state[from]--;
		zone->nr_state[to]++;
		/*
		 * Only GUEST frames carry the flag; BALLOON gets discarded
		 * anyway, DMA must be backed. It is set on a GUEST frame only
		 * under the zone lock held here (mm_mark_discarded()), so a
		 * plain load tells, and the locked clear (the balloon's
		 * inflate spent half of this loop in it) runs only when set.
		 */
		if (from == FRAME_GUEST &&
		    (__atomic_load_n(&p->flags, __ATOMIC_RELAXED) &
		     PG_DISCARDED)) {
			__atomic_fetch_and(&p->flags, (uint8_t)~PG_DISCARDED,
					   __ATOMIC_RELAXED);
			__atomic_fetch_sub(&zone->guest_discarded, 1,
					   __ATOMIC_RELAXED);
		}
	}
	mm_unlock_zones(mm, mask);
	return 0;
}
