/* SPDX-License-Identifier: MIT */
/*
 * mm/compaction_internal.h - private state of migration, compaction and
 * CMA (migrate.c, page_isolation.c, compaction.c, cma.c), embedded in
 * struct mm by mm_internal.h. Nothing outside mm/ includes this.
 *
 * Isolated blocks carry PG_ISOLATED on every frame: a source (an allocated
 * GUEST or BALLOON block of a movable owner, which keeps its state and
 * owner), or a target (a block taken from the free lists, GUEST with owner
 * MM_OWNER_TARGET: held by mm/ for data on its way). Both are set and
 * cleared under the zone lock; mm_free_pages() and mm_set_frames_state()
 * refuse them.
 */
#ifndef MM_COMPACTION_INTERNAL_H
#define MM_COMPACTION_INTERNAL_H

#include "port.h"
#include "mm.h"

#define COMPACT_MAX_DEFER_SHIFT	  6
#define COMPACT_CLUSTER_MAX	  32 /* blocks isolated per migrate batch */
#define COMPACT_FREE_POOL	  64 /* target blocks held at once */
#define PAGE_ALLOC_COSTLY_ORDER	  3
#define COMPACT_EXTFRAG_THRESHOLD 500
#define COMPACT_PROACTIVE_DEFAULT 20

struct mm_movable_owner {
	struct mm_movable_ops ops;
	void *opaque;
	bool used;
};

/* Per-zone compaction state (Linux keeps the same in struct zone). */
struct zone_compact {
	uint64_t cached_migrate_pfn; /* where the migrate scanner resumes */
	uint64_t cached_free_pfn;    /* where the free scanner resumes */
	unsigned considered;	     /* defer: attempts since the failure */
	unsigned defer_shift;	     /* defer: skip up to 2^shift attempts */
	unsigned order_failed;	     /* defer: orders >= this are deferred */
	bool blockskip_flush;	     /* clear the skip hints next time */
	unsigned proactive_defer;    /* rounds to leave it alone */
};

struct mm_cma_area {
	uint64_t base_pfn, count;
	_Atomic uint64_t allocated;
	bool used;
};

struct mm_compaction {
	/* One compaction or contiguous allocation at a time. */
	struct mm_lock run_lock;
	/* The owner table and the CMA areas (registration only). */
	struct mm_lock reg_lock;
	struct mm_movable_owner owners[MM_MAX_MOVABLE_OWNERS + 1];
	struct zone_compact zc[MM_NR_ZONES];
	struct mm_cma_area cma[MM_MAX_CMA_AREAS];
	unsigned proactiveness;
	unsigned extfrag_threshold;
	/* vmstat counters, Linux's names. */
	_Atomic uint64_t compact_migrate_scanned, compact_free_scanned;
	_Atomic uint64_t compact_isolated, compact_stall, compact_fail;
	_Atomic uint64_t compact_success, compact_daemon_wake;
	_Atomic uint64_t pgmigrate_success, pgmigrate_fail;
	_Atomic int64_t nr_isolated; /* frames isolated now */
	/* Skip hints: one bit per pageblock (Linux's PB_migrate_skip). */
	uint8_t *pb_skip;
};

struct mm;
struct zone;
struct mm_rng;

static inline void mm_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* migrate.c ------------------------------------------------------------- */

/* Is @owner a registered movable owner id? */
bool mm_owner_valid(struct mm *mm, uint32_t owner);
/*
 * Isolate the movable block headed at @pfn if it is one, and call its
 * owner's isolate(). Takes the zone lock.
 * Return: 0 and *@order, or negative.
 */
int isolate_movable_block(struct mm *mm, uint64_t pfn, unsigned *order);
/*
 * The same in two steps, for batches: mark the block headed at @pfn
 * isolated (caller holds the zone lock; returns its order or negative),
 * then, without the lock and after isolated_add(), ask the owner (which
 * undoes the isolation if it refuses: -EBUSY).
 */
int __isolate_source(struct mm *mm, uint64_t pfn);
int isolate_source_ask_owner(struct mm *mm, uint64_t pfn, unsigned order);
/* Frames isolated now (sources and targets): the count mm_check() checks. */
void isolated_add(struct mm *mm, int64_t n);
/*
 * Take the free buddy block at @idx (@order, off no list yet) as an
 * isolated target. Caller holds the zone lock.
 */
void __isolate_free_block(struct mm *mm, struct zone *zone, uint32_t idx,
			  unsigned order);
/* Give an isolated target of @order back to the buddy lists (zone lock). */
void __release_target(struct mm *mm, struct zone *zone, uint64_t pfn,
		      unsigned order);
/* Split an isolated target into two of @order - 1 (zone lock). */
void __split_target(struct mm *mm, uint64_t pfn, unsigned order);

/* Where migrate_pages_cb() finds targets. */
struct migrate_target_ops {
	/* A target of @order for @src, or -ENOMEM. */
	int (*get)(void *ctx, uint64_t src, unsigned order, uint64_t *dst);
	/* An unused target back. */
	void (*put)(void *ctx, uint64_t dst, unsigned order);
};

/*
 * mm_migrate_pages() with the caller's target source (compaction);
 * @trusted: the caller isolated every source itself (no re-check).
 */
int migrate_pages_cb(struct mm *mm, struct mm_migration *list, unsigned n,
		     enum migrate_mode mode, const struct migrate_target_ops *t,
		     void *ctx, bool trusted);

/* migrate.c (also used by page_isolation.c) ---------------------------- */

/* Is the block headed at @p one mm/ may move (zone lock or racy read)? */
bool page_movable(struct mm *mm, const struct page *p);

/* page_isolation.c ------------------------------------------------------ */

/*
 * Isolate the pageblocks [start, end) (aligned), refusing (-EBUSY) only if
 * [chk_start, chk_end) holds a pinned frame or a pageblock is isolated.
 */
int isolate_range(struct mm *mm, uint64_t start, uint64_t end,
		  uint64_t chk_start, uint64_t chk_end);
/* Does [start, end) hold a frame nobody can move? Takes the zone locks. */
bool range_has_pinned(struct mm *mm, uint64_t start, uint64_t end);

/* compaction.c ---------------------------------------------------------- */

void compaction_init(struct mm *mm);
/*
 * Direct compaction for a failed allocation of @order (page_alloc.c): when
 * @gfp allows it, compact the zones (asynchronously, then synchronously
 * unless __GFP_NORETRY) and call @retry after each pass.
 * Return: what the last @retry returned, or -ENOMEM.
 */
int compaction_direct(struct mm *mm, gfp_t gfp, unsigned order,
		      const enum zone_type *zones, int nr_zones,
		      int (*retry)(void *ctx), void *ctx);
/* The compaction and CMA fields of struct mm_stats. */
void compaction_get_stats(struct mm *mm, struct mm_stats *out);

#endif /* MM_COMPACTION_INTERNAL_H */
