// SPDX-License-Identifier: MIT
/*
 * mm/page_alloc.c - the page allocator's entry points: allocation (GFP
 * decoding, the zone list with address-bit limits, the watermark check with
 * lowmem_reserve, the per-CPU fast path, __GFP_ZERO), bulk allocation, free
 * (with the checks that make a bad free from an untrusted guest harmless),
 * and frame lookups. The buddy lists themselves are in buddy.c.
 */
#include "mm_internal.h"

struct alloc_req {
	unsigned order;
	int mt;
	uint64_t limit_pfn; /* the block must end at or below this */
	bool high, memalloc, zero;
	enum zone_type zones[MM_NR_ZONES]; /* eligible, preferred first */
	int nr_zones;
};

/*
 * GFP zone modifiers are address-bit limits (DMA: 24, DMA32: 32), combined
 * with the caller's @addr_bits; the zone list is every populated zone that
 * has room for a block below the limit, highest first. ZONE_MOVABLE is
 * eligible only for __GFP_MOVABLE requests without a zone modifier.
 */
static int alloc_req_init(const struct mm *mm, struct alloc_req *req, gfp_t gfp,
			  unsigned order, unsigned addr_bits)
{
	static const enum zone_type order_of_zones[MM_NR_ZONES] = {
		ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32, ZONE_DMA};

	if ((gfp & ~GFP_VALID_MASK) || order >= NR_PAGE_ORDERS ||
	    (gfp & GFP_ZONEMASK) == GFP_ZONEMASK ||
	    (gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK)
		return -EINVAL;
	if (gfp & __GFP_DMA)
		addr_bits = MM_MIN(addr_bits, 24u);
	if (gfp & __GFP_DMA32)
		addr_bits = MM_MIN(addr_bits, 32u);
	req->order = order;
	req->mt = gfp_migratetype(gfp);
	req->limit_pfn = addr_bits >= 64 ? UINT64_MAX
					 : (1ull << addr_bits) >> PAGE_SHIFT;
	req->high = gfp & __GFP_HIGH;
	req->memalloc = gfp & __GFP_MEMALLOC;
	req->zero = gfp & __GFP_ZERO;
	req->nr_zones = 0;
	if (req->limit_pfn == UINT64_MAX) {
		/* No address limit: the zone list built at init. */
		bool movable = (gfp & __GFP_MOVABLE) && !(gfp & GFP_ZONEMASK);

		req->nr_zones = mm->nr_zonelist[movable];
		for (int i = 0; i < req->nr_zones; i++)
			req->zones[i] = mm->zonelist[movable][i];
		return 0;
	}
	for (int i = 0; i < MM_NR_ZONES; i++) {
		enum zone_type zt = order_of_zones[i];
		const struct zone *zone = &mm->zones[zt];
		uint64_t first = (zone->start_pfn + (1ull << order) - 1) &
				 ~((1ull << order) - 1);

		if (zt == ZONE_MOVABLE &&
		    (!(gfp & __GFP_MOVABLE) || (gfp & GFP_ZONEMASK)))
			continue;
		if (!zone->populated ||
		    first + (1ull << order) > req->limit_pfn)
			continue;
		req->zones[req->nr_zones++] = zt;
	}
	return 0;
}

/* The watermark for this pass: -1 means none (__GFP_MEMALLOC). */
static int64_t alloc_mark(const struct alloc_req *req, const struct zone *zone,
			  bool low_pass)
{
	uint64_t mark = low_pass ? zone->wmark_low : zone->wmark_min;

	if (req->memalloc)
		return -1;
	if (req->high)
		mark -= mark / 2;
	return (int64_t)mark;
}

/*
 * Linux's __zone_watermark_ok(): after taking 2^order frames the zone must
 * keep more than mark + lowmem_reserve[classzone] free, and for order > 0 a
 * free block of at least that order must exist. Caller holds zone->lock.
 */
bool __zone_watermark_ok(const struct zone *zone, unsigned order, uint64_t mark,
			 enum zone_type classzone)
{
	int64_t free = (int64_t)zone->free_pages - ((1 << order) - 1);

	if (free <= (int64_t)(mark + zone->lowmem_reserve[classzone]))
		return false;
	if (order == 0)
		return true;
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *a = &zone->area[o];

		if (free_area_nr_usable(a) > 0)
			return true;
	}
	return false;
}

/* Make the block at @idx (off every list: the caller's) an allocated GUEST block. */
static inline __attribute__((always_inline)) void
prep_new_block(struct mm *mm, uint32_t idx, unsigned order, int mt)
{
	struct page *p = &mm->frames[idx];

	p->flags = PG_HEAD;
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	p->owner = 0;
	p->next = p->prev = MM_NO_LINK;
	mm_page_set_state(p, FRAME_GUEST);
	for (uint32_t i = 1; i < (1u << order); i++) {
		p[i].flags = 0;
		p[i].owner = 0;
		mm_page_set_state(&p[i], FRAME_GUEST);
	}
}

/*
 * __zone_watermark_ok() with its first test inline: an order-0 request
 * needs nothing else.
 */
static inline bool __zone_watermark_fast(const struct zone *zone,
					 unsigned order, uint64_t mark,
					 enum zone_type classzone)
{
	if (order)
		return __zone_watermark_ok(zone, order, mark, classzone);
	return (int64_t)zone->free_pages >
	       (int64_t)(mark + zone->lowmem_reserve[classzone]);
}

/*
 * Take a block of @order for @mt from @zone's buddy lists (ending at or
 * below @limit_pfn) against @mark (-1: none) for @classzone, as an
 * allocated GUEST block. Takes the zone lock. Inlined into the fast path,
 * whose constant @limit_pfn and @classzone drop the tests they decide.
 */
static inline __attribute__((always_inline)) int
zone_alloc_block(struct mm *mm, struct zone *zone, unsigned order, int mt,
		 uint64_t limit_pfn, enum zone_type classzone, int64_t mark,
		 uint32_t *idx, bool *discarded)
{
	uint64_t n = 1ull << order;
	int ret = -ENOMEM;

	mm_lock(&zone->lock);
	if (mark >= 0 &&
	    !__zone_watermark_fast(zone, order, (uint64_t)mark, classzone))
		goto out;
	if (zone->end_pfn > limit_pfn)
		ret = __rmqueue_below(mm, zone, order, mt, limit_pfn, idx);
	else
		ret = __rmqueue(mm, zone, order, mt, idx);
	if (ret)
		goto out;
	*discarded = mm->frames[*idx].flags & PG_DISCARDED;
	prep_new_block(mm, *idx, order, mt);
	zone->nr_state[FRAME_FREE] -= (int64_t)n;
	zone->nr_state[FRAME_GUEST] += (int64_t)n;
out:
	mm_unlock(&zone->lock);
	return ret;
}

static int alloc_from_buddy(struct mm *mm, const struct alloc_req *req,
			    enum zone_type zt, int64_t mark, uint32_t *idx,
			    bool *discarded)
{
	return zone_alloc_block(mm, &mm->zones[zt], req->order, req->mt,
				req->limit_pfn, req->zones[0], mark, idx,
				discarded);
}

/*
 * Two passes over the zone list, as Linux's fast and slow paths do: first
 * against the low watermark (prefer a lower zone over draining a higher one
 * towards min), then against min.
 */
static int alloc_block(struct mm *mm, unsigned cpu, const struct alloc_req *req,
		       uint32_t *idx, bool *discarded)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < req->nr_zones; i++) {
			enum zone_type zt = req->zones[i];
			const struct zone *zone = &mm->zones[zt];
			int64_t mark = alloc_mark(req, zone, pass == 0);
			bool straddles = zone->end_pfn > req->limit_pfn;

			if (req->order == 0 && !straddles &&
			    !mm->pcp_disabled) {
				if (!pcp_alloc(mm, cpu, zt, req->mt, mark,
					       req->zones[0], idx, discarded))
					return 0;
			} else if (!alloc_from_buddy(mm, req, zt, mark, idx,
						     discarded)) {
				return 0;
			}
		}
		if (req->memalloc)
			break;
	}
	return -ENOMEM;
}

/* alloc_block() again, after direct compaction made room (compaction.c). */
struct alloc_retry {
	struct mm *mm;
	unsigned cpu;
	const struct alloc_req *req;
	uint32_t *idx;
	bool *discarded;
};

static int alloc_retry(void *ctx)
{
	struct alloc_retry *a = ctx;

	return alloc_block(a->mm, a->cpu, a->req, a->idx, a->discarded);
}

/* GFP bits the fast path leaves to the general one. */
#define GFP_NOT_FAST                                                           \
	(~GFP_VALID_MASK | GFP_ZONEMASK | __GFP_ZERO | __GFP_HIGH |            \
	 __GFP_MEMALLOC)

/*
 * The common request (no address limit, zone modifier, zeroing or reserve
 * access): what alloc_block()'s first step would do, without building the
 * request and the zone list. Order 0 pops the preferred zone's per-CPU
 * list when it has a frame; a larger order (or per-CPU lists disabled)
 * tries the preferred zone's buddy lists against its low watermark. Any
 * failure (an empty list, a drain to honour, the watermark) takes the
 * general path, which tries again and goes on from there.
 */
static inline __attribute__((always_inline)) bool
alloc_fast(struct mm *mm, gfp_t gfp, unsigned order, unsigned addr_bits,
	   uint64_t *pfn)
{
	bool movable = gfp & __GFP_MOVABLE, discarded;
	enum zone_type zt;
	unsigned cpu;
	uint32_t idx;

	if ((gfp & GFP_NOT_FAST) || addr_bits < 64 || order >= NR_PAGE_ORDERS ||
	    (gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK ||
	    !mm->nr_zonelist[movable])
		return false;
	zt = mm->zonelist[movable][0];
	cpu = mm_cpu_id();
	if (order == 0 && !mm->pcp_disabled) {
		if (!__pcp_pop(mm, &mm->pcp[cpu][zt], gfp_migratetype(gfp),
			       &idx, &discarded))
			return false;
	} else if (zone_alloc_block(mm, &mm->zones[zt], order,
				    gfp_migratetype(gfp), UINT64_MAX, zt,
				    (int64_t)mm->zones[zt].wmark_low, &idx,
				    &discarded)) {
		return false;
	}
	mm_counter_add(&mm->cpu_stats[cpu].alloc_ok, 1);
	*pfn = mm_idx_to_pfn(mm, idx);
	return true;
}

/* Everything alloc_fast() does not serve: the zone list, drains, compaction. */
static int alloc_slow(struct mm *mm, gfp_t gfp, unsigned order,
		      unsigned addr_bits, uint64_t *pfn)
{
	struct mm_cpu_stats *st;
	struct alloc_req req;
	unsigned cpu;
	bool discarded = false;
	uint32_t idx;
	int ret;

	ret = alloc_req_init(mm, &req, gfp, order, addr_bits);
	if (ret)
		return ret;
	cpu = mm_cpu_id();
	st = &mm->cpu_stats[cpu];
	ret = alloc_block(mm, cpu, &req, &idx, &discarded);
	if (ret && !mm->pcp_disabled && (gfp & __GFP_DIRECT_RECLAIM)) {
		/*
		 * Frames may sit on per-CPU lists: ask the other CPUs for
		 * theirs (they drain at their next entry; an idle one keeps
		 * at most pcp_high per zone), give ours back, retry once.
		 * As Linux's drain_all_pages(), which runs in direct reclaim:
		 * only a request that may block pays for it (once, with
		 * __GFP_NORETRY too); GFP_NOWAIT, GFP_ATOMIC and the
		 * optimistic first tries of mempools and the balloon
		 * (__GFP_NORETRY without __GFP_DIRECT_RECLAIM) fail at once.
		 */
		uint64_t held = pcp_request_drain_all(mm, cpu);

		if (pcp_drain_own(mm, cpu) + held)
			ret = alloc_block(mm, cpu, &req, &idx, &discarded);
	}
	if (ret) {
		struct alloc_retry a = {mm, cpu, &req, &idx, &discarded};

		ret = compaction_direct(mm, gfp, order, req.zones, req.nr_zones,
					alloc_retry, &a);
	}
	if (ret) {
		mm_counter_add(&st->alloc_fail, 1);
		return ret;
	}
	mm_counter_add(&st->alloc_ok, 1);
	*pfn = mm_idx_to_pfn(mm, idx);
	/* A discarded block reads as zeros already: skip the work. */
	if (req.zero && !discarded && mm->ops.zero)
		mm->ops.zero(mm->opaque, *pfn, 1ull << order);
	return 0;
}

int mm_alloc_pages_bits(struct mm *mm, gfp_t gfp, unsigned order,
			unsigned addr_bits, uint64_t *pfn)
{
	if (!pfn)
		return -EINVAL;
	if (mm_likely(alloc_fast(mm, gfp, order, addr_bits, pfn)))
		return 0;
	return alloc_slow(mm, gfp, order, addr_bits, pfn);
}

/* The same as mm_alloc_pages_bits(..., 64, ...), one call shorter. */
int mm_alloc_pages(struct mm *mm, gfp_t gfp, unsigned order, uint64_t *pfn)
{
	if (!pfn)
		return -EINVAL;
	if (mm_likely(alloc_fast(mm, gfp, order, 64, pfn)))
		return 0;
	return alloc_slow(mm, gfp, order, 64, pfn);
}

int mm_alloc_bulk(struct mm *mm, gfp_t gfp, unsigned order, unsigned count,
		  uint64_t *pfns)
{
	unsigned n;

	if (!pfns && count)
		return -EINVAL;
	for (n = 0; n < count; n++) {
		int ret = mm_alloc_pages(mm, gfp, order, &pfns[n]);

		if (ret == -EINVAL)
			return ret;
		if (ret)
			break;
	}
	return (int)n;
}

/* Free ------------------------------------------------------------------ */

static int bad_free(struct mm *mm, uint64_t pfn, unsigned order, int err,
		    const char *why)
{
	uint64_t n = atomic_fetch_add_explicit(&mm->bad_free, 1,
					       memory_order_relaxed) +
		     1;

	/* Rate limit: a misbehaving guest must not flood the log. */
	if (n <= 10 || (n & (n - 1)) == 0)
		mm_log("bad free #%llu: pfn 0x%llx order %u: %s",
		       (unsigned long long)n, (unsigned long long)pfn, order,
		       why);
	return err;
}

static bool state_allocated(uint8_t state)
{
	return state == FRAME_GUEST || state == FRAME_DMA;
}

/* Check the whole block under the zone lock; NULL if it may be freed. */
static inline __attribute__((always_inline)) const char *
free_check_block(struct mm *mm, const struct page *p, unsigned order)
{
	if (!state_allocated(mm_page_state(p)))
		return "frame is not allocated (double free?)";
	if ((p->flags & (PG_HEAD | PG_PCP | PG_BUDDY)) != PG_HEAD)
		return "not the head of an allocated block";
	if (p->order != order)
		return "block was allocated with another order";
	for (uint32_t i = 1; i < (1u << order); i++) {
		if (!state_allocated(mm_page_state(&p[i])))
			return "part of the block is not allocated";
	}
	return NULL;
}

static int free_to_buddy(struct mm *mm, struct zone *zone,
			 const struct mm_rng *r, uint64_t pfn, uint32_t idx,
			 unsigned order)
{
	struct page *p = &mm->frames[idx];
	int64_t dma = 0;
	const char *why;
	uint8_t state;

	mm_lock(&zone->lock);
	/*
	 * Isolated since mm_free_pages() looked (isolation takes this lock):
	 * refused with -EBUSY as there, not a bad free.
	 */
	if (p->flags & PG_ISOLATED) {
		mm_unlock(&zone->lock);
		return -EBUSY;
	}
	why = free_check_block(mm, p, order);
	state = mm_page_state(p);
	/* The head's CAS excludes a racing order-0 free of the same frame. */
	if (!why && !mm_page_cas_state(p, state, FRAME_FREE))
		why = "frame changed state during the free";
	if (why) {
		mm_unlock(&zone->lock);
		return bad_free(mm, pfn, order, -EINVAL, why);
	}
	zone->nr_state[state]--;
	zone->nr_state[FRAME_FREE] += 1ll << order;
	/*
	 * The tail frames are GUEST or DMA (checked above): count the DMA
	 * ones in a register rather than a dependent counter update each.
	 */
	if (order) {
		for (uint32_t i = 1; i < (1u << order); i++) {
			dma += mm_page_state(&p[i]) == FRAME_DMA;
			mm_page_set_state(&p[i], FRAME_FREE);
			p[i].owner = 0;
		}
		zone->nr_state[FRAME_DMA] -= dma;
		zone->nr_state[FRAME_GUEST] -=
			(int64_t)(1ll << order) - 1 - dma;
	}
	p->owner = 0;
	__buddy_free_block_rng(mm, zone, r, pfn, order, 0);
	mm_unlock(&zone->lock);
	return 0;
}

int mm_free_pages(struct mm *mm, uint64_t pfn, unsigned order)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	enum zone_type zt;
	struct page *p;
	unsigned cpu;
	uint32_t idx;
	int ret, mt;

	if (!r)
		return bad_free(mm, pfn, order, -ERANGE, "pfn is not in RAM");
	if (order >= NR_PAGE_ORDERS || (pfn & ((1ull << order) - 1)))
		return bad_free(mm, pfn, order, -EINVAL,
				"order too large or pfn not aligned to it");
	zt = mm_zone_of_pfn(mm, pfn);
	if (pfn + (1ull << order) > MM_MIN(r->end_pfn, mm->zones[zt].end_pfn))
		return bad_free(mm, pfn, order, -EINVAL,
				"block reaches outside its zone");
	/* Freed frames are backed or not as the free lists say: forget. */
	if (mm_unlikely(__atomic_load_n(&mm->zones[zt].guest_discarded,
					__ATOMIC_RELAXED)))
		mm_forget_discarded(mm, &mm->zones[zt], r, pfn, 1ull << order);
	idx = mm_rng_idx(r, pfn);
	p = &mm->frames[idx];
	cpu = mm_cpu_id();
	mt = *mm_pb_slot(mm, r, pfn);
	/* Isolated for migration (migrate.c): not the caller's to free now. */
	if (__atomic_load_n(&p->flags, __ATOMIC_SEQ_CST) & PG_ISOLATED)
		return -EBUSY;
	if (order == 0 && !mm->pcp_disabled && mt != MIGRATE_ISOLATE) {
		if ((p->flags & (PG_HEAD | PG_PCP | PG_BUDDY)) != PG_HEAD ||
		    p->order)
			ret = bad_free(mm, pfn, order, -EINVAL,
				       "not the head of an order-0 block");
		else if ((ret = pcp_free(mm, cpu, zt, idx, mt)) != 0 &&
			 ret != -EBUSY)
			ret = bad_free(mm, pfn, order, -EINVAL,
				       "frame is not allocated (double free?)");
	} else {
		ret = free_to_buddy(mm, &mm->zones[zt], r, pfn, idx, order);
	}
	if (!ret)
		mm_counter_add(&mm->cpu_stats[cpu].free_ok, 1);
	return ret;
}

int mm_split_block(struct mm *mm, uint64_t pfn, unsigned order)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	struct zone *zone;
	struct page *p;
	int ret = 0;

	if (!r)
		return -ERANGE;
	if (order >= NR_PAGE_ORDERS || (pfn & ((1ull << order) - 1)) ||
	    pfn + (1ull << order) > r->end_pfn)
		return -EINVAL;
	zone = &mm->zones[mm_zone_of_pfn(mm, pfn)];
	p = &mm->frames[mm_rng_idx(r, pfn)];
	mm_lock(&zone->lock);
	if (p->flags & PG_ISOLATED)
		ret = -EBUSY;
	else if (free_check_block(mm, p, order))
		ret = -EINVAL;
	for (uint32_t i = 0; !ret && i < (1u << order); i++) {
		/* Tails carry no flags but PG_DISCARDED (mm_check()). */
		p[i].flags = (uint8_t)(PG_HEAD | (p[i].flags & PG_DISCARDED));
		p[i].order = 0;
		p[i].migratetype = p->migratetype;
		p[i].owner = mm_page_state(p) == FRAME_DMA ? p->owner : 0;
	}
	mm_unlock(&zone->lock);
	return ret;
}

/* Lookups --------------------------------------------------------------- */

const struct page *mm_pfn_to_page(const struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? &mm->frames[mm_rng_idx(r, pfn)] : NULL;
}

uint64_t mm_count_frames_state(const struct mm *mm, uint64_t pfn, uint64_t nr,
			       enum frame_state state)
{
	uint64_t n = 0, end = pfn + nr;

	while (pfn < end) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		uint64_t stop;

		if (!r) {
			pfn++;
			continue;
		}
		/* One range lookup per run of frames inside it. */
		stop = MM_MIN(end, r->end_pfn);
		for (const struct page *p = &mm->frames[mm_rng_idx(r, pfn)];
		     pfn < stop; pfn++, p++)
			n += mm_page_state(p) == state;
	}
	return n;
}

int mm_pfn_zone(const struct mm *mm, uint64_t pfn)
{
	return mm_rng_of_pfn(mm, pfn) ? (int)mm_zone_of_pfn(mm, pfn) : -ERANGE;
}

int mm_get_pageblock_migratetype(const struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? *mm_pb_slot(mm, r, pfn) : -ERANGE;
}

unsigned mm_get_order(uint64_t size)
{
	uint64_t pages = (size >> PAGE_SHIFT) + !!(size & (PAGE_SIZE - 1));
	unsigned order = 0;

	while ((1ull << order) < pages)
		order++;
	return order;
}
