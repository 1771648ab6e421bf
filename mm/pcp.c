// SPDX-License-Identifier: MIT
/*
 * mm/pcp.c - per-CPU order-0 page lists (Linux's per_cpu_pages).
 *
 * Each (CPU, zone) keeps up to pcp_high free frames on one LIFO list per
 * pcp migratetype. An order-0 allocation pops one without touching the zone
 * lock; an empty list is refilled with pcp_batch frames taken from the buddy
 * lists under one zone lock acquisition (after the watermark check), and a
 * list that reaches pcp_high gives pcp_batch frames back.
 *
 * The owner (the thread holding that mm_cpu_id()) uses its lists with no
 * lock and no locked instruction: the only one left on an alloc+free pair is
 * the compare-and-swap of the frame state in pcp_free(), which makes two
 * concurrent frees of one frame (an untrusted guest on two vCPUs) safe.
 * Others never touch a list an owner may be using; they ask the owner to
 * drain it (drain_req, checked on every entry: the line is already in
 * cache) or drain it directly only when mm/ is quiescent (mm_drain_pcp()).
 * So at most pcp_high frames per (CPU slot, zone) can sit on an idle CPU's
 * list until its owner runs again.
 */
#include "mm_internal.h"

/* Owner-only update of a field others may read: a plain store, not a RMW. */
#define pcp_store(field, val)                                                  \
	atomic_store_explicit(&(field), (val), memory_order_relaxed)
#define pcp_load(field) atomic_load_explicit(&(field), memory_order_relaxed)

/*
 * Give @n frames of @pcp back to the buddy lists. Caller is the owner, or
 * holds pcp->lock with mm/ quiescent.
 */
static void pcp_drain_n(struct mm *mm, struct zone *zone, struct pcp *pcp,
			uint32_t n)
{
	uint32_t count = pcp_load(pcp->count);

	mm_lock(&zone->lock);
	for (int t = 0; n && count; t = (t + 1) % MM_PCP_TYPES) {
		uint32_t idx = pcp->head[t];
		struct page *p;

		if (idx == MM_NO_LINK)
			continue;
		p = &mm->frames[idx];
		pcp->head[t] = p->next;
		count--;
		n--;
		p->next = MM_NO_LINK;
		p->flags &= (uint8_t) ~(PG_PCP | PG_HEAD);
		__buddy_free_block(mm, zone, mm_idx_to_pfn(mm, idx), 0,
				   p->flags & PG_DISCARDED);
	}
	mm_unlock(&zone->lock);
	pcp_store(pcp->count, count);
}

/* Someone asked for this list back (a failed allocation elsewhere). */
static void pcp_honour_drain_req(struct mm *mm, struct zone *zone,
				 struct pcp *pcp)
{
	/* Clear first: a request made during the drain is not lost. */
	pcp_store(pcp->drain_req, false);
	if (pcp_load(pcp->count))
		pcp_drain_n(mm, zone, pcp, pcp_load(pcp->count));
}

/*
 * @cpu's lists may hold frames from now on: pcp_request_drain_all() looks
 * only at such CPU slots. Called when a list goes from empty to not, so the
 * shared word is read there and written once per slot, never per frame.
 */
static void pcp_mark_used(struct mm *mm, unsigned cpu)
{
	uint64_t bit = 1ull << cpu;

	if (!(atomic_load_explicit(&mm->pcp_used, memory_order_relaxed) & bit))
		atomic_fetch_or_explicit(&mm->pcp_used, bit,
					 memory_order_relaxed);
}

/* Refill @pcp's @mt list from the buddy; 0 frames if the watermark says no. */
static uint32_t pcp_refill(struct mm *mm, unsigned cpu, struct zone *zone,
			   struct pcp *pcp, int mt, int64_t mark,
			   enum zone_type classzone)
{
	uint64_t want = mm->pcp_batch;
	uint32_t got = 0;

	mm_lock(&zone->lock);
	if (mark >= 0) {
		uint64_t floor =
			(uint64_t)mark + zone->lowmem_reserve[classzone];

		/* Never let the batch itself take the zone below the mark. */
		if (!__zone_watermark_ok(zone, 0, (uint64_t)mark, classzone))
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
	if (got)
		pcp_mark_used(mm, cpu);
	pcp_store(pcp->count, pcp_load(pcp->count) + got);
	return got;
}

/**
 * pcp_alloc() - pop an order-0 frame of @mt from @cpu's list for @zt (@cpu
 * must be the caller's mm_cpu_id()), refilling it first if empty (@mark < 0:
 * ignore watermarks).
 * Return: 0 with *@idx and *@was_discarded, or -ENOMEM.
 */
int pcp_alloc(struct mm *mm, unsigned cpu, enum zone_type zt, int mt,
	      int64_t mark, enum zone_type classzone, uint32_t *idx,
	      bool *was_discarded)
{
	struct pcp *pcp = &mm->pcp[cpu][zt];

	if (mm_unlikely(pcp_load(pcp->drain_req)))
		pcp_honour_drain_req(mm, &mm->zones[zt], pcp);
	if (pcp->head[mt] == MM_NO_LINK)
		pcp_refill(mm, cpu, &mm->zones[zt], pcp, mt, mark, classzone);
	return __pcp_pop(mm, pcp, mt, idx, was_discarded) ? 0 : -ENOMEM;
}

/**
 * pcp_free() - free the order-0 block at @idx (a PG_HEAD order-0 frame, as
 * checked by the caller; @mt its pageblock's type, not ISOLATE) to @cpu's
 * list (@cpu must be the caller's mm_cpu_id()). The state moves from GUEST
 * or DMA to FREE by compare-and-swap, so a concurrent second free of the
 * same frame (on this or another CPU) fails here.
 * Return: 0, -EINVAL when the frame is not (or no longer) allocated, or
 * -EBUSY when it is isolated for migration (nothing changed).
 */
int pcp_free(struct mm *mm, unsigned cpu, enum zone_type zt, uint32_t idx,
	     int mt)
{
	struct pcp *pcp = &mm->pcp[cpu][zt];
	struct page *p = &mm->frames[idx];
	uint8_t state = mm_page_state(p);
	uint32_t count;

	if (state != FRAME_GUEST && state != FRAME_DMA)
		return -EINVAL;
	if (!mm_page_cas_state(p, state, FRAME_FREE))
		return -EINVAL;
	if ((p->flags & PG_HEAD) == 0 || p->order != 0) {
		/* Reallocated as part of a larger block in between. */
		mm_page_cas_state(p, FRAME_FREE, state);
		return -EINVAL;
	}
	if (__atomic_load_n(&p->flags, __ATOMIC_SEQ_CST) & PG_ISOLATED) {
		/* Isolated for migration meanwhile (see migrate.c): undo. */
		mm_page_cas_state(p, FRAME_FREE, state);
		return -EBUSY;
	}
	if (mm_unlikely(pcp_load(pcp->drain_req)))
		pcp_honour_drain_req(mm, &mm->zones[zt], pcp);
	if (state == FRAME_GUEST)
		pcp_store(pcp->nr_guest, pcp_load(pcp->nr_guest) - 1);
	else
		pcp_store(pcp->nr_dma, pcp_load(pcp->nr_dma) - 1);
	p->owner = 0;
	mt = pcp_list_of_mt(mt);
	p->flags = PG_HEAD | PG_PCP;
	p->migratetype = (uint8_t)mt;
	p->next = pcp->head[mt];
	pcp->head[mt] = idx;
	count = pcp_load(pcp->count) + 1;
	pcp_store(pcp->count, count);
	if (mm_unlikely(count == 1))
		pcp_mark_used(mm, cpu);
	if (count >= mm->pcp_high)
		pcp_drain_n(mm, &mm->zones[zt], pcp, mm->pcp_batch);
	return 0;
}

/* Drain every list of @cpu (the caller's own mm_cpu_id()); frames given. */
uint64_t pcp_drain_own(struct mm *mm, unsigned cpu)
{
	uint64_t n = 0;

	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct pcp *pcp = &mm->pcp[cpu][z];
		uint32_t count = pcp_load(pcp->count);

		if (count)
			pcp_drain_n(mm, &mm->zones[z], pcp, count);
		n += count;
	}
	return n;
}

/*
 * Ask every other CPU slot holding frames to drain at its next entry.
 * Return: the frames they held (what a retry might find once they ran).
 */
uint64_t pcp_request_drain_all(struct mm *mm, unsigned cpu)
{
	uint64_t used =
		atomic_load_explicit(&mm->pcp_used, memory_order_relaxed);
	uint64_t n = 0;

	used &= ~(1ull << cpu);
	for (; used; used &= used - 1) {
		unsigned c = (unsigned)__builtin_ctzll(used);

		for (int z = 0; z < MM_NR_ZONES; z++) {
			struct pcp *pcp = &mm->pcp[c][z];
			uint32_t count = pcp_load(pcp->count);

			/* Read first: do not dirty lines for nothing. */
			if (count && !pcp_load(pcp->drain_req))
				pcp_store(pcp->drain_req, true);
			n += count;
		}
	}
	return n;
}

/* Drain @zt's lists of every CPU slot: mm/ must be quiescent (see mm.h). */
void pcp_drain_zone(struct mm *mm, enum zone_type zt)
{
	for (unsigned c = 0; c < MM_NR_CPUS; c++) {
		struct pcp *pcp = &mm->pcp[c][zt];

		mm_lock(&pcp->lock);
		pcp_store(pcp->drain_req, false);
		if (pcp_load(pcp->count))
			pcp_drain_n(mm, &mm->zones[zt], pcp,
				    pcp_load(pcp->count));
		mm_unlock(&pcp->lock);
	}
}

void mm_drain_pcp(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++)
		pcp_drain_zone(mm, (enum zone_type)z);
}

uint64_t mm_drain_own_pcp(struct mm *mm)
{
	return mm->pcp_disabled ? 0 : pcp_drain_own(mm, mm_cpu_id());
}
