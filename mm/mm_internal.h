/* SPDX-License-Identifier: MIT */
/*
 * mm/mm_internal.h - private state of the page allocator, shared by the
 * files of mm/ that implement it (buddy.c, page_alloc.c, pcp.c, mm_init.c,
 * frame_state.c, page_isolation.c, page_reporting.c, mm_stats.c,
 * mm_check.c). Nothing outside mm/ includes this.
 *
 * Locking: each zone has a spinlock over its free lists, its counters and the
 * struct page fields of its free frames. Each (CPU, zone) per-CPU list is
 * owned by the thread holding that mm_cpu_id(), which uses it WITHOUT a lock
 * (a locked instruction costs more than the rest of the fast path). Other
 * threads reach it in two ways only: they set its drain_req flag, which the
 * owner honours at its next entry; or, when the caller guarantees that no
 * other thread is inside mm/ (init, exit, tests: see mm_drain_pcp()), they
 * drain it directly under its lock, which then only serialises such drains
 * and readers (mm_lock_all()). Lock order: pcp lock, then zone lock.
 *
 * Names say who takes the lock, as in Linux: `__name()` runs with the zone
 * lock(s) of the frames it touches held by its caller; `name()` takes them
 * itself. (Static helpers say so in their comment; buddy.c is all
 * lock-held.)
 *
 * A frame's state byte is changed with compare-and-swap where a guest-driven
 * request races with another (frees, mm_set_frames_state), so that two
 * concurrent frees of one frame cannot both succeed.
 */
#ifndef MM_MM_INTERNAL_H
#define MM_MM_INTERNAL_H

#include "port.h"
#include "mm.h"
#include "compaction_internal.h"

#define MM_MAX_RANGES 16
#define MM_PCP_TYPES  3 /* UNMOVABLE, MOVABLE, RECLAIMABLE */
#define MM_CACHELINE  64

_Static_assert(MM_NR_CPUS <= 64, "mm->pcp_used has one bit per CPU slot");

/* A RAM range after coalescing: frames [start_pfn, end_pfn) are present. */
struct mm_rng {
	uint64_t start_pfn;
	uint64_t end_pfn;
	uint32_t base_idx; /* frame index of start_pfn */
	uint32_t pb_base;  /* pageblock table index of start_pfn's block */
	uint64_t pb_first; /* start_pfn >> PAGEBLOCK_ORDER */
};

/*
 * The free lists of one order. The split and merge loops touch one area per
 * order and the worst case (an order-0 block from an order-10 one and back)
 * all eleven, so an area keeps only the counters they cannot do without:
 * the blocks of all types (free_area_nr_free()) and the backed ones are
 * sums and differences, computed where read, not kept per list operation.
 */
struct free_area {
	uint32_t head[MIGRATE_TYPES];
	uint64_t nr_free_mt[MIGRATE_TYPES];
	/*
	 * Blocks with PG_DISCARDED. The others are still backed by host
	 * memory: what mm_report_free() has left to do at this order (it is
	 * called after every batch of guest frees and usually finds
	 * nothing). Changed only where a block's discarded flag is set, so
	 * the common list operation on a backed block leaves it alone.
	 */
	uint64_t nr_discarded;
};

/* Free blocks of this order, all types. */
static inline uint64_t free_area_nr_free(const struct free_area *a)
{
	uint64_t n = 0;

	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		n += a->nr_free_mt[mt];
	return n;
}

/* Free blocks of this order an allocation may take (not isolated). */
static inline uint64_t free_area_nr_usable(const struct free_area *a)
{
	return free_area_nr_free(a) - a->nr_free_mt[MIGRATE_ISOLATE];
}

/* Free blocks of this order still backed by host memory. */
static inline uint64_t free_area_nr_backed(const struct free_area *a)
{
	return free_area_nr_free(a) - a->nr_discarded;
}

struct zone {
	struct mm_lock lock;
	const char *name;
	bool populated;
	uint64_t start_pfn, end_pfn; /* span; blocks never cross it */
	uint64_t spanned, present, managed;
	uint64_t wmark_min, wmark_low, wmark_high;
	uint64_t lowmem_reserve[MM_NR_ZONES];
	uint64_t free_pages; /* in the buddy lists (pcp frames excluded) */
	uint64_t discarded;  /* free buddy frames with PG_DISCARDED */
	/* GUEST frames with PG_DISCARDED (mm_mark_discarded()); atomic. */
	uint64_t guest_discarded;
	uint64_t fallback_steal;
	int64_t nr_state[FRAME_NR_STATES]; /* plus the pcp deltas */
	struct free_area area[NR_PAGE_ORDERS];
} __attribute__((aligned(MM_CACHELINE)));

/*
 * One per (CPU, zone). Frames on the lists are FREE with PG_PCP and PG_HEAD,
 * order 0; page->migratetype is the list they are on. nr_guest and nr_dma
 * hold the state changes made through this list (alloc: FREE -> GUEST, +1
 * guest; free: GUEST or DMA -> FREE, -1 guest or dma); its FREE change is
 * minus their sum. So each operation changes ONE word, and a reader that
 * does not stop the owner (mm_get_stats() while vCPUs run) still sees
 * per-state totals that add up. count, nr_guest and nr_dma are written by
 * the owner only (plain loads and stores, see pcp_store()).
 */
struct pcp {
	struct mm_lock lock; /* remote drains and readers only, not the owner */
	_Atomic uint32_t count;
	_Atomic bool drain_req; /* set by others, honoured by the owner */
	uint32_t head[MM_PCP_TYPES];
	_Atomic int64_t nr_guest, nr_dma;
} __attribute__((aligned(MM_CACHELINE)));

/* Counters written only by the CPU slot's owner (plain loads and stores). */
struct mm_cpu_stats {
	_Atomic uint64_t alloc_ok, alloc_fail, free_ok;
} __attribute__((aligned(MM_CACHELINE)));

struct mm {
	struct mm_ops ops; /* copied; NULL members mean "no callback" */
	void *opaque;
	unsigned nr_ranges;
	struct mm_rng ranges[MM_MAX_RANGES];
	uint64_t nr_frames; /* present frames, all ranges */
	uint64_t nr_pageblocks;
	uint64_t movable_start_pfn; /* UINT64_MAX: no ZONE_MOVABLE */
	unsigned pcp_high, pcp_batch;
	bool pcp_disabled;
	/* Populated zones, preferred first: [0] without, [1] with MOVABLE. */
	enum zone_type zonelist[2][MM_NR_ZONES];
	int nr_zonelist[2];
	struct page *frames; /* nr_frames entries, by frame index */
	uint8_t *pb_mt;	     /* per pageblock migratetype */
	_Atomic uint64_t bad_free;
	struct zone zones[MM_NR_ZONES];
	/* CPU slots whose lists ever held frames (bit per slot). */
	_Atomic uint64_t pcp_used __attribute__((aligned(MM_CACHELINE)));
	struct pcp pcp[MM_NR_CPUS][MM_NR_ZONES];
	struct mm_cpu_stats cpu_stats[MM_NR_CPUS];
	struct mm_compaction compaction; /* compaction_internal.h */
};

/* Frame lookup ---------------------------------------------------------- */

static inline const struct mm_rng *mm_rng_of_pfn(const struct mm *mm,
						 uint64_t pfn)
{
	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		const struct mm_rng *r = &mm->ranges[i];

		if (pfn < r->start_pfn)
			return NULL;
		if (pfn < r->end_pfn)
			return r;
	}
	return NULL;
}

static inline const struct mm_rng *mm_rng_of_idx(const struct mm *mm,
						 uint32_t idx)
{
	for (unsigned i = mm->nr_ranges; i-- > 0;) {
		if (idx >= mm->ranges[i].base_idx)
			return &mm->ranges[i];
	}
	return &mm->ranges[0];
}

static inline uint64_t mm_idx_to_pfn(const struct mm *mm, uint32_t idx)
{
	const struct mm_rng *r = mm_rng_of_idx(mm, idx);

	return r->start_pfn + (idx - r->base_idx);
}

static inline uint32_t mm_rng_idx(const struct mm_rng *r, uint64_t pfn)
{
	return r->base_idx + (uint32_t)(pfn - r->start_pfn);
}

static inline uint8_t *mm_pb_slot(const struct mm *mm, const struct mm_rng *r,
				  uint64_t pfn)
{
	return &mm->pb_mt[r->pb_base +
			  ((pfn >> PAGEBLOCK_ORDER) - r->pb_first)];
}

/* The free lists an allocation with @gfp takes from. */
static inline int gfp_migratetype(gfp_t gfp)
{
	if (gfp & __GFP_MOVABLE)
		return MIGRATE_MOVABLE;
	if (gfp & __GFP_RECLAIMABLE)
		return MIGRATE_RECLAIMABLE;
	return MIGRATE_UNMOVABLE;
}

/* The first frame of @pfn's pageblock; @pfn rounded up to a pageblock. */
static inline uint64_t pageblock_start(uint64_t pfn)
{
	return pfn & ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
}

static inline uint64_t pageblock_round_up(uint64_t pfn)
{
	return pageblock_start(pfn + PAGEBLOCK_NR_PAGES - 1);
}

static inline enum zone_type mm_zone_of_pfn(const struct mm *mm, uint64_t pfn)
{
	if (pfn >= mm->movable_start_pfn)
		return ZONE_MOVABLE;
	if (pfn < ZONE_DMA_END_PFN)
		return ZONE_DMA;
	if (pfn < ZONE_DMA32_END_PFN)
		return ZONE_DMA32;
	return ZONE_NORMAL;
}

static inline uint8_t mm_page_state(const struct page *p)
{
	return __atomic_load_n(&p->state, __ATOMIC_RELAXED);
}

static inline void mm_page_set_state(struct page *p, uint8_t state)
{
	__atomic_store_n(&p->state, state, __ATOMIC_RELAXED);
}

static inline bool mm_page_cas_state(struct page *p, uint8_t from, uint8_t to)
{
	return __atomic_compare_exchange_n(&p->state, &from, to, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Is every frame of [pfn, pfn + nr) present (one RAM range)? */
static inline const struct mm_rng *mm_range_present(const struct mm *mm,
						    uint64_t pfn, uint64_t nr)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	if (!r || nr == 0 || nr > r->end_pfn - pfn)
		return NULL;
	return r;
}

/* buddy.c (caller holds zone->lock) ------------------------------------- */

void __buddy_free_block(struct mm *mm, struct zone *zone, uint64_t pfn,
			unsigned order, uint8_t discarded);
/* As __buddy_free_block(), for a caller that has looked up @pfn's range. */
void __buddy_free_block_rng(struct mm *mm, struct zone *zone,
			    const struct mm_rng *r, uint64_t pfn,
			    unsigned order, uint8_t discarded);
void __free_range(struct mm *mm, struct zone *zone, uint64_t pfn, uint64_t end,
		  uint8_t discarded);
void __free_list_del(struct mm *mm, struct zone *zone, uint32_t idx);
int64_t __find_free_block(const struct mm *mm, uint64_t pfn, unsigned *order);
int __rmqueue(struct mm *mm, struct zone *zone, unsigned order, int mt,
	      uint32_t *idx);
int __rmqueue_below(struct mm *mm, struct zone *zone, unsigned order, int mt,
		    uint64_t limit_pfn, uint32_t *idx);

/* buddy.c: the zone locks ----------------------------------------------- */

unsigned mm_lock_zones_range(struct mm *mm, uint64_t pfn, uint64_t nr);
void mm_unlock_zones(struct mm *mm, unsigned mask);
void mm_lock_all(struct mm *mm);
void mm_unlock_all(struct mm *mm);

/* page_alloc.c ---------------------------------------------------------- */

/*
 * May @zone give 2^@order frames and stay above @mark for @classzone? Caller
 * holds zone->lock.
 */
bool __zone_watermark_ok(const struct zone *zone, unsigned order, uint64_t mark,
			 enum zone_type classzone);

/* mm_init.c ------------------------------------------------------------- */

void zone_setup_watermarks(struct mm *mm);

/* page_reporting.c ------------------------------------------------------ */

/*
 * Forget that GUEST frames [pfn, pfn + nr) of one range and zone were
 * discarded (they are changing state or being freed). Atomic flags and
 * counter: no lock needed (mm_free_pages() calls it before taking one).
 */
void mm_forget_discarded(struct mm *mm, struct zone *zone,
			 const struct mm_rng *r, uint64_t pfn, uint64_t nr);

/* pcp.c ----------------------------------------------------------------- */

int pcp_alloc(struct mm *mm, unsigned cpu, enum zone_type zt, int mt,
	      int64_t mark, enum zone_type classzone, uint32_t *idx,
	      bool *was_discarded);
int pcp_free(struct mm *mm, unsigned cpu, enum zone_type zt, uint32_t idx,
	     int mt);
void pcp_drain_zone(struct mm *mm, enum zone_type zt);
uint64_t pcp_drain_own(struct mm *mm, unsigned cpu);
uint64_t pcp_request_drain_all(struct mm *mm, unsigned cpu);

/* Add @pcp's per-state changes to @v[FRAME_NR_STATES] (one snapshot). */
static inline void pcp_add_states(const struct pcp *pcp, int64_t *v)
{
	int64_t g = atomic_load_explicit(&pcp->nr_guest, memory_order_relaxed);
	int64_t d = atomic_load_explicit(&pcp->nr_dma, memory_order_relaxed);

	v[FRAME_GUEST] += g;
	v[FRAME_DMA] += d;
	v[FRAME_FREE] -= g + d;
}
static inline int pcp_list_of_mt(int mt)
{
	return mt == MIGRATE_CMA ? MIGRATE_MOVABLE : mt;
}

/*
 * The order-0 fast path's pop (page_alloc.c, pcp_alloc()): take the first
 * frame of @mt's list of @pcp, the caller's own, as an allocated GUEST
 * frame. False when the list is empty or another CPU asked for a drain:
 * pcp_alloc() then refills or drains first.
 */
static inline bool __pcp_pop(struct mm *mm, struct pcp *pcp, int mt,
			     uint32_t *idx, bool *was_discarded)
{
	uint32_t i = pcp->head[mt];
	struct page *p;

	if (i == MM_NO_LINK ||
	    atomic_load_explicit(&pcp->drain_req, memory_order_relaxed))
		return false;
	p = &mm->frames[i];
	pcp->head[mt] = p->next;
	/* Owner-only fields others may read: plain loads and stores. */
	atomic_store_explicit(
		&pcp->count,
		atomic_load_explicit(&pcp->count, memory_order_relaxed) - 1,
		memory_order_relaxed);
	atomic_store_explicit(
		&pcp->nr_guest,
		atomic_load_explicit(&pcp->nr_guest, memory_order_relaxed) + 1,
		memory_order_relaxed);
	*was_discarded = p->flags & PG_DISCARDED;
	p->flags = PG_HEAD;
	p->next = MM_NO_LINK;
	p->owner = 0;
	mm_page_set_state(p, FRAME_GUEST);
	*idx = i;
	return true;
}

/* Per-CPU statistics ---------------------------------------------------- */

static inline int64_t mm_counter_add(_Atomic uint64_t *c, uint64_t n)
{
	/* One writer (the CPU slot's owner): a plain load and store suffice. */
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + n, memory_order_relaxed);
	return (int64_t)v;
}

#endif /* MM_MM_INTERNAL_H */
