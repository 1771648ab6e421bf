// SPDX-License-Identifier: MIT
/*
 * mm/pcp.c - per-CPU order-0 page lists (Linux's per_cpu_pages).
 *
 * Each (CPU, zone) keeps up to pcp_high free frames on one LIFO list per
 * pcp migratetype. An order-0 allocation pops one without touching the zone
 * lock; an empty list is refilled with pcp_batch frames taken from the buddy
 * lists under one zone lock acquisition (after the watermark check), and a
 * list that reaches pcp_high gives pcp_batch frames back. The list's own lock
 * is taken only by its owner (uncontended) and by remote drains.
 */
#include "mm_internal.h"

/* Give @n frames of @pcp back to the buddy lists. Caller holds pcp->lock. */
static void pcp_drain_locked(struct mm *mm, struct zone *zone, struct pcp *pcp,
			     uint32_t n)
{
	mm_lock(&zone->lock);
	for (int t = 0; n && pcp->count; t = (t + 1) % MM_PCP_TYPES) {
		uint32_t idx = pcp->head[t];
		struct page *p;

		if (idx == MM_NO_LINK)
			continue;
		p = &mm->frames[idx];
		pcp->head[t] = p->next;
		pcp->count--;
		n--;
		p->next = MM_NO_LINK;
		p->flags &= (uint8_t) ~(PG_PCP | PG_HEAD);
		__buddy_free_block(mm, zone, mm_idx_to_pfn(mm, idx), 0,
				   p->flags & PG_DISCARDED);
	}
	mm_unlock(&zone->lock);
}

/* Refill @pcp's @mt list from the buddy; 0 frames if the watermark says no. */
static uint32_t pcp_refill(struct mm *mm, struct zone *zone, struct pcp *pcp,
			   int mt, int64_t mark, enum zone_type classzone)
{
	uint64_t want = mm->pcp_batch;
	uint32_t got = 0;

	mm_lock(&zone->lock);
	if (mark >= 0) {
		uint64_t floor =
			(uint64_t)mark + zone->lowmem_reserve[classzone];

		/* Never let the batch itself take the zone below the mark. */
		if (!zone_watermark_ok(zone, 0, (uint64_t)mark, classzone))
			want = 0;
		else
			want = MM_MIN(want, zone->free_pages - floor);
	}
	while (got < want) {
		uint32_t idx;
		struct page *p;

		if (__rmqueue(mm, zone, 0, mt, &idx))
			break;
		p = &mm->frames[idx];
		p->flags |= PG_HEAD | PG_PCP;
		p->order = 0;
		p->migratetype = (uint8_t)mt;
		p->next = pcp->head[mt];
		pcp->head[mt] = idx;
		got++;
	}
	mm_unlock(&zone->lock);
	pcp->count += got;
	return got;
}

/**
 * pcp_alloc() - pop an order-0 frame of @mt from @cpu's list for @zt (the
 * caller's mm_cpu_id()),
 * refilling it first if empty (@mark < 0: ignore watermarks).
 * Return: 0 with *@idx and *@was_discarded, or -ENOMEM.
 */
int pcp_alloc(struct mm *mm, unsigned cpu, enum zone_type zt, int mt,
	      int64_t mark, enum zone_type classzone, uint32_t *idx,
	      bool *was_discarded)
{
	struct pcp *pcp = &mm->pcp[cpu][zt];
	struct page *p;
	uint32_t i;

	mm_lock(&pcp->lock);
	i = pcp->head[mt];
	if (i == MM_NO_LINK &&
	    pcp_refill(mm, &mm->zones[zt], pcp, mt, mark, classzone))
		i = pcp->head[mt];
	if (i == MM_NO_LINK) {
		mm_unlock(&pcp->lock);
		return -ENOMEM;
	}
	p = &mm->frames[i];
	pcp->head[mt] = p->next;
	pcp->count--;
	pcp->nr_state[FRAME_FREE]--;
	pcp->nr_state[FRAME_GUEST]++;
	*was_discarded = p->flags & PG_DISCARDED;
	p->flags = PG_HEAD;
	p->next = MM_NO_LINK;
	p->owner = 0;
	mm_page_set_state(p, FRAME_GUEST);
	mm_unlock(&pcp->lock);
	*idx = i;
	return 0;
}

/**
 * pcp_free() - free the order-0 block at @idx (a PG_HEAD order-0 frame, as
 * checked by the caller; @mt its pageblock's type, not ISOLATE) to @cpu's
 * list (@cpu is the caller's mm_cpu_id()). The state moves from GUEST or DMA
 * to FREE by compare-and-swap, so a concurrent second free of the same frame
 * fails here.
 * Return: 0, or -EINVAL when the frame is not (or no longer) allocated.
 */
int pcp_free(struct mm *mm, unsigned cpu, enum zone_type zt, uint32_t idx,
	     int mt)
{
	struct pcp *pcp = &mm->pcp[cpu][zt];
	struct page *p = &mm->frames[idx];
	uint8_t state = mm_page_state(p);

	if (state != FRAME_GUEST && state != FRAME_DMA)
		return -EINVAL;
	mm_lock(&pcp->lock);
	if (!mm_page_cas_state(p, state, FRAME_FREE)) {
		mm_unlock(&pcp->lock);
		return -EINVAL;
	}
	if ((p->flags & PG_HEAD) == 0 || p->order != 0) {
		/* Reallocated as part of a larger block in between. */
		mm_page_cas_state(p, FRAME_FREE, state);
		mm_unlock(&pcp->lock);
		return -EINVAL;
	}
	pcp->nr_state[state]--;
	pcp->nr_state[FRAME_FREE]++;
	p->owner = 0;
	mt = pcp_list_of_mt(mt);
	p->flags = PG_HEAD | PG_PCP;
	p->migratetype = (uint8_t)mt;
	p->next = pcp->head[mt];
	pcp->head[mt] = idx;
	if (++pcp->count >= mm->pcp_high)
		pcp_drain_locked(mm, &mm->zones[zt], pcp, mm->pcp_batch);
	mm_unlock(&pcp->lock);
	return 0;
}

void pcp_drain_zone(struct mm *mm, enum zone_type zt)
{
	for (unsigned c = 0; c < MM_NR_CPUS; c++) {
		struct pcp *pcp = &mm->pcp[c][zt];

		mm_lock(&pcp->lock);
		if (pcp->count)
			pcp_drain_locked(mm, &mm->zones[zt], pcp, pcp->count);
		mm_unlock(&pcp->lock);
	}
}

void mm_drain_pcp(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++)
		pcp_drain_zone(mm, (enum zone_type)z);
}
