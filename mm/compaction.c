// SPDX-License-Identifier: MIT
/*
 * mm/compaction.c - memory compaction, Linux's algorithm (mm/compaction.c)
 * over this allocator's zones.
 *
 * Two scanners walk a zone pageblock by pageblock: the migrate scanner up
 * from the bottom, isolating movable blocks (migrate.c), the free scanner
 * down from the top, isolating free blocks as targets. The movable blocks
 * move up into the targets, so the bottom of the zone empties into large
 * free blocks. It stops as soon as a free block of the requested order
 * exists (__compact_finished()) or the scanners meet. The scanners resume
 * where they stopped at the next compaction of the zone (cached pfns), and
 * pageblocks that gave nothing are skipped until the scanners have met
 * (skip hints). A failed direct compaction defers the next ones (Linux's
 * defer_shift). Proactive compaction keeps a per-zone fragmentation score
 * below the watermark compaction_proactiveness sets.
 *
 * Modes: MIGRATE_ASYNC scans only MOVABLE and CMA pageblocks and never
 * waits for an owner; MIGRATE_SYNC scans every pageblock (an unmovable
 * pageblock may hold movable blocks) and retries busy owners.
 *
 * One compaction (or contiguous allocation, cma.c) runs at a time per
 * instance (run_lock); owners' callbacks run with no zone lock held.
 */
#include "fmt.h"
#include "mm_internal.h"

#define POOL_MAX (COMPACT_FREE_POOL + 2 * NR_PAGE_ORDERS)

/* A target block in the pool: FIFO lists per order through @next. */
struct free_target {
	uint64_t pfn;
	int next;
};

#define POOL_NONE (-1)

struct compact_control {
	struct mm *mm;
	struct zone *zone;
	enum zone_type zt;
	int order; /* -1: the whole zone */
	int migratetype;
	enum migrate_mode mode;
	bool ignore_skip_hint;
	bool proactive;
	uint64_t migrate_pfn; /* next frame the migrate scanner looks at */
	uint64_t free_pfn;    /* pageblock the free scanner looks at next */
	struct mm_migration mig[COMPACT_CLUSTER_MAX];
	unsigned nr_mig;
	uint64_t mig_frames;
	struct free_target pool[POOL_MAX];
	int pool_head[NR_PAGE_ORDERS], pool_tail[NR_PAGE_ORDERS];
	int pool_free; /* unused entries, through next */
	unsigned nr_pool;
	uint64_t pool_frames;
	struct mm_compact_result res;
};

/* Skip hints ------------------------------------------------------------ */

static uint8_t *skip_slot(struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? mm->compaction.pb_skip + (mm_pb_slot(mm, r, pfn) - mm->pb_mt)
		 : NULL;
}

/* The first present frame of pageblock @pb, or UINT64_MAX. */
static uint64_t pb_first_present(const struct mm *mm, uint64_t pb)
{
	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		const struct mm_rng *r = &mm->ranges[i];

		if (r->start_pfn < pb + PAGEBLOCK_NR_PAGES && r->end_pfn > pb)
			return MM_MAX(pb, r->start_pfn);
	}
	return UINT64_MAX;
}

static bool skip_get(struct mm *mm, uint64_t pb)
{
	uint64_t pfn = pb_first_present(mm, pb);

	return pfn != UINT64_MAX &&
	       __atomic_load_n(skip_slot(mm, pfn), __ATOMIC_RELAXED);
}

static void skip_set(struct mm *mm, uint64_t pb)
{
	uint64_t pfn = pb_first_present(mm, pb);

	if (pfn != UINT64_MAX)
		__atomic_store_n(skip_slot(mm, pfn), 1, __ATOMIC_RELAXED);
}

static void skip_reset_zone(struct mm *mm, const struct zone *zone)
{
	for (uint64_t pfn = zone->start_pfn; pfn < zone->end_pfn;
	     pfn = pageblock_start(pfn) + PAGEBLOCK_NR_PAGES) {
		uint8_t *s = skip_slot(mm, pfn);

		if (s)
			__atomic_store_n(s, 0, __ATOMIC_RELAXED);
	}
}

/* Deferred compaction (Linux's defer_compaction() and friends) ---------- */

static void defer_compaction(struct zone_compact *zc, unsigned order)
{
	zc->considered = 0;
	if (++zc->defer_shift > COMPACT_MAX_DEFER_SHIFT)
		zc->defer_shift = COMPACT_MAX_DEFER_SHIFT;
	if (order < zc->order_failed)
		zc->order_failed = order;
}

/* Should this attempt be skipped? Each call counts as one considered. */
static bool compaction_deferred(struct zone_compact *zc, unsigned order)
{
	unsigned limit = 1u << zc->defer_shift;

	if (order < zc->order_failed)
		return false;
	if (++zc->considered >= limit) {
		zc->considered = limit;
		return false;
	}
	return true;
}

static void compaction_defer_reset(struct zone_compact *zc, unsigned order,
				   bool alloc_success)
{
	if (alloc_success) {
		zc->considered = 0;
		zc->defer_shift = 0;
	}
	if (order >= zc->order_failed)
		zc->order_failed = order + 1;
}

/* Fragmentation score and suitability ----------------------------------- */

/* Free frames, and those in blocks of @order or more, of @zone (locked). */
static void __free_split(const struct zone *zone, unsigned order,
			 uint64_t *free, uint64_t *in_large)
{
	*free = *in_large = 0;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *a = &zone->area[o];
		uint64_t n = free_area_nr_usable(a) << o;

		*free += n;
		if (o >= order)
			*in_large += n;
	}
}

static unsigned zone_score(struct mm *mm, struct zone *zone)
{
	uint64_t free, large;

	if (!zone->populated)
		return 0;
	mm_lock(&zone->lock);
	__free_split(zone, PAGEBLOCK_ORDER, &free, &large);
	mm_unlock(&zone->lock);
	return free ? (unsigned)((free - large) * 100 / free) : 0;
}

unsigned mm_fragmentation_score(struct mm *mm, enum zone_type zt)
{
	if ((unsigned)zt >= MM_NR_ZONES)
		return 0;
	return zone_score(mm, &mm->zones[zt]);
}

/* Linux weighs a zone's score by its share of the node's present frames. */
static unsigned zone_score_weighted(struct mm *mm, struct zone *zone)
{
	return (unsigned)(zone_score(mm, zone) * zone->present /
			  MM_MAX(mm->nr_frames, 1));
}

static unsigned score_wmark(const struct mm *mm, bool low)
{
	unsigned wmark_low = 100 - mm->compaction.proactiveness;

	wmark_low = MM_MAX(wmark_low, 5u);
	return low ? wmark_low : MM_MIN(wmark_low + 10, 100u);
}

/*
 * Linux's __fragmentation_index() for @order from @zone's free lists
 * (locked), in thousandths: -1000 if a block is free, else 0 (failure for
 * lack of memory) .. 1000 (failure for fragmentation).
 */
static int __frag_index(const struct zone *zone, unsigned order)
{
	uint64_t pages = 0, blocks = 0, suitable = 0;

	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t n = free_area_nr_free(&zone->area[o]);

		blocks += n;
		pages += n << o;
		if (o >= order)
			suitable += n << (o - order);
	}
	if (!blocks)
		return 0;
	if (suitable)
		return -1000;
	return 1000 - (int)((1000 + pages * 1000 / (1ull << order)) / blocks);
}

enum compact_result mm_compaction_suitable(struct mm *mm, enum zone_type zt,
					   unsigned order)
{
	struct zone *zone;
	uint64_t mark;
	bool ok, ready;
	int frag;

	if ((unsigned)zt >= MM_NR_ZONES || order >= NR_PAGE_ORDERS ||
	    !mm->zones[zt].populated)
		return COMPACT_NOT_SUITABLE_ZONE;
	zone = &mm->zones[zt];
	/*
	 * Migration needs room: as Linux's compact_gap(), twice the request
	 * above the watermark (low for costly orders, min otherwise).
	 */
	mark = (order > PAGE_ALLOC_COSTLY_ORDER ? zone->wmark_low
						: zone->wmark_min) +
	       (2ull << order);
	mm_lock(&zone->lock);
	ready = __zone_watermark_ok(zone, order, zone->wmark_low, zt);
	ok = __zone_watermark_ok(zone, 0, mark, zt);
	frag = ready || !ok ? 0 : __frag_index(zone, order);
	mm_unlock(&zone->lock);
	if (ready)
		return COMPACT_SUCCESS;
	if (!ok)
		return COMPACT_SKIPPED;
	/* Failure for lack of memory, not fragmentation: do not bother. */
	if (order > PAGE_ALLOC_COSTLY_ORDER && frag >= 0 &&
	    frag <= (int)mm->compaction.extfrag_threshold)
		return COMPACT_SKIPPED;
	return COMPACT_CONTINUE;
}

/* The free scanner: targets ------------------------------------------- */

/*
 * cc->free_pfn is the pageblock the free scanner looks at next. It may look
 * at it only while it lies above the migrate scanner's pageblock; the
 * migrate scanner may go up to and including it. The scanners have met
 * when the migrate scanner has passed it.
 */
static bool free_scanner_done(const struct compact_control *cc)
{
	return (cc->free_pfn >> PAGEBLOCK_ORDER) <=
	       (cc->migrate_pfn >> PAGEBLOCK_ORDER);
}

static bool scanners_met(const struct compact_control *cc)
{
	return (cc->migrate_pfn >> PAGEBLOCK_ORDER) >
	       (cc->free_pfn >> PAGEBLOCK_ORDER);
}

/* Linux's suitable_migration_target(): MOVABLE or CMA, not a big free one. */
static bool target_pageblock_ok(struct mm *mm, uint64_t pb)
{
	uint64_t pfn = pb_first_present(mm, pb);
	int mt;

	if (pfn == UINT64_MAX)
		return false;
	mt = mm_get_pageblock_migratetype(mm, pfn);
	return mt == MIGRATE_MOVABLE || mt == MIGRATE_CMA;
}

static void pool_init(struct compact_control *cc)
{
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		cc->pool_head[o] = cc->pool_tail[o] = POOL_NONE;
	for (int i = 0; i < POOL_MAX; i++)
		cc->pool[i].next = i + 1 < POOL_MAX ? i + 1 : POOL_NONE;
	cc->pool_free = 0;
}

/*
 * At the tail of its order's list: targets are used in the order found.
 * The caller knows there is a free slot (pool_keep() otherwise).
 */
static void pool_push(struct compact_control *cc, uint64_t pfn, unsigned order)
{
	int i = cc->pool_free;

	MM_BUG_ON(i == POOL_NONE);
	cc->pool_free = cc->pool[i].next;
	cc->pool[i].pfn = pfn;
	cc->pool[i].next = POOL_NONE;
	if (cc->pool_tail[order] == POOL_NONE)
		cc->pool_head[order] = i;
	else
		cc->pool[cc->pool_tail[order]].next = i;
	cc->pool_tail[order] = i;
	cc->nr_pool++;
	cc->pool_frames += 1ull << order;
}

static uint64_t pool_pop(struct compact_control *cc, unsigned order)
{
	int i = cc->pool_head[order];

	cc->pool_head[order] = cc->pool[i].next;
	if (cc->pool_head[order] == POOL_NONE)
		cc->pool_tail[order] = POOL_NONE;
	cc->pool[i].next = cc->pool_free;
	cc->pool_free = i;
	cc->nr_pool--;
	cc->pool_frames -= 1ull << order;
	return cc->pool[i].pfn;
}

/* The smallest order >= @order with a target in the pool, or -1. */
static int pool_fit(const struct compact_control *cc, unsigned order)
{
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++)
		if (cc->pool_head[o] != POOL_NONE)
			return (int)o;
	return -1;
}

/* Isolate the free blocks of pageblock @pb; false if the pool filled up. */
static bool isolate_freepages_block(struct compact_control *cc, uint64_t pb,
				    unsigned *got)
{
	struct mm *mm = cc->mm;
	struct zone *zone = cc->zone;
	uint64_t end = MM_MIN(pb + PAGEBLOCK_NR_PAGES, zone->end_pfn);
	uint64_t pfn = MM_MAX(pb, zone->start_pfn), scanned = 0;
	bool room = true;

	mm_lock(&zone->lock);
	while (pfn < end) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		struct page *p;

		if (!r) {
			pfn++;
			continue;
		}
		p = &mm->frames[mm_rng_idx(r, pfn)];
		scanned++;
		if (!(p->flags & PG_BUDDY) || mm_page_state(p) != FRAME_FREE) {
			pfn++;
			continue;
		}
		/* A whole free pageblock is what we are making: keep it. */
		if (p->order >= PAGEBLOCK_ORDER)
			break;
		if (cc->nr_pool >= COMPACT_FREE_POOL) {
			room = false;
			break;
		}
		cc->res.isolated += 1ull << p->order;
		__isolate_free_block(mm, zone, mm_rng_idx(r, pfn), p->order);
		pool_push(cc, pfn, p->order);
		(*got)++;
		pfn += 1ull << p->order;
	}
	mm_unlock(&zone->lock);
	cc->res.free_scanned += scanned;
	return room;
}

/* Fill the pool with free blocks from the top until it holds @need frames. */
static void isolate_freepages(struct compact_control *cc, uint64_t need)
{
	struct mm *mm = cc->mm;

	while (cc->pool_frames < need && cc->nr_pool < COMPACT_FREE_POOL &&
	       !free_scanner_done(cc)) {
		uint64_t pb = cc->free_pfn;
		unsigned got = 0;

		if ((cc->ignore_skip_hint || !skip_get(mm, pb)) &&
		    target_pageblock_ok(mm, pb)) {
			if (!isolate_freepages_block(cc, pb, &got))
				break; /* pool full: resume in this block */
			if (!got)
				skip_set(mm, pb);
		}
		cc->free_pfn -= PAGEBLOCK_NR_PAGES;
	}
}

/*
 * A target back in the pool, or to the free lists if every slot is taken.
 * The scanner fills the pool only to COMPACT_FREE_POOL, but a split leaves
 * its upper halves in it and a move that fails puts its target back: moves
 * that keep failing (an owner that answers -EAGAIN) leave more pieces than
 * there were blocks, so the pool can fill up. Zone lock not held.
 */
static void pool_keep(struct compact_control *cc, uint64_t pfn, unsigned order)
{
	if (cc->pool_free != POOL_NONE) {
		pool_push(cc, pfn, order);
		return;
	}
	mm_lock(&cc->zone->lock);
	__release_target(cc->mm, cc->zone, pfn, order);
	mm_unlock(&cc->zone->lock);
}

/* migrate_pages_cb() target source: the smallest pool block that fits. */
static int pool_get(void *ctx, uint64_t src, unsigned order, uint64_t *dst)
{
	struct compact_control *cc = ctx;
	int o = pool_fit(cc, order);
	uint64_t pfn;

	if (o < 0) {
		isolate_freepages(cc, cc->pool_frames + (1ull << order));
		o = pool_fit(cc, order);
		if (o < 0)
			return -ENOMEM;
	}
	pfn = pool_pop(cc, (unsigned)o);
	/* Split down to @order; the upper halves stay in the pool. */
	for (; (unsigned)o > order; o--) {
		__split_target(cc->mm, pfn, (unsigned)o);
		pool_keep(cc, pfn + (1ull << (o - 1)), (unsigned)o - 1);
	}
	*dst = pfn;
	return 0;
}

static void pool_put(void *ctx, uint64_t dst, unsigned order)
{
	pool_keep(ctx, dst, order);
}

static const struct migrate_target_ops pool_targets = {
	.get = pool_get,
	.put = pool_put,
};

static void release_pool(struct compact_control *cc)
{
	mm_lock(&cc->zone->lock);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		while (cc->pool_head[o] != POOL_NONE)
			__release_target(cc->mm, cc->zone, pool_pop(cc, o), o);
	mm_unlock(&cc->zone->lock);
}

/* The migrate scanner: sources ---------------------------------------- */

/* Linux's migrate_async_suitable() for ASYNC; SYNC takes all but ISOLATE. */
static bool source_pageblock_ok(struct compact_control *cc, uint64_t pb)
{
	uint64_t pfn = pb_first_present(cc->mm, pb);
	int mt;

	if (pfn == UINT64_MAX)
		return false;
	mt = mm_get_pageblock_migratetype(cc->mm, pfn);
	if (mt == MIGRATE_ISOLATE)
		return false;
	return cc->mode == MIGRATE_SYNC || mt == MIGRATE_MOVABLE ||
	       mt == MIGRATE_CMA;
}

/*
 * Scan from cc->migrate_pfn to the end of its pageblock, isolating movable
 * blocks below pageblock order until the batch is full.
 */
static void isolate_migratepages_block(struct compact_control *cc, uint64_t end)
{
	struct mm *mm = cc->mm;
	uint64_t pfn = cc->migrate_pfn, frames = 0;
	unsigned first = cc->nr_mig, kept = first;

	/* One zone lock for the scan, as Linux holds the LRU lock. */
	mm_lock(&cc->zone->lock);
	while (pfn < end && cc->nr_mig < COMPACT_CLUSTER_MAX) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		const struct page *p;
		unsigned order;
		uint8_t flags;
		int ord;

		if (!r) {
			pfn++;
			continue;
		}
		p = &mm->frames[mm_rng_idx(r, pfn)];
		flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
		cc->res.migrate_scanned++;
		order = p->order < NR_PAGE_ORDERS ? p->order : 0;
		if (!(flags & PG_HEAD) || (flags & PG_PCP)) {
			pfn++;
			continue;
		}
		if ((flags & PG_BUDDY) || order >= PAGEBLOCK_ORDER ||
		    (ord = __isolate_source(mm, pfn)) < 0) {
			pfn += 1ull << order;
			continue;
		}
		cc->mig[cc->nr_mig].src = pfn;
		cc->mig[cc->nr_mig].dst = MM_PFN_NONE;
		cc->mig[cc->nr_mig].order = (unsigned)ord;
		cc->nr_mig++;
		frames += 1ull << ord;
		pfn += 1ull << ord;
	}
	mm_unlock(&cc->zone->lock);
	cc->migrate_pfn = pfn;
	isolated_add(mm, (int64_t)frames);
	/* The owners' say, without the lock; keep those that agree. */
	for (unsigned i = first; i < cc->nr_mig; i++) {
		struct mm_migration *e = &cc->mig[i];

		if (isolate_source_ask_owner(mm, e->src, e->order))
			continue;
		cc->res.isolated += 1ull << e->order;
		cc->mig_frames += 1ull << e->order;
		cc->mig[kept++] = *e;
	}
	cc->nr_mig = kept;
}

/* Isolate the next batch; moves cc->migrate_pfn on. */
static void isolate_migratepages(struct compact_control *cc)
{
	struct mm *mm = cc->mm;

	while (cc->nr_mig == 0 && !scanners_met(cc)) {
		uint64_t pb = pageblock_start(cc->migrate_pfn);
		uint64_t end =
			MM_MIN(pb + PAGEBLOCK_NR_PAGES, cc->zone->end_pfn);
		bool fresh = cc->migrate_pfn == MM_MAX(pb, cc->zone->start_pfn);

		if ((!cc->ignore_skip_hint && fresh && skip_get(mm, pb)) ||
		    !source_pageblock_ok(cc, pb)) {
			cc->migrate_pfn = end;
			continue;
		}
		isolate_migratepages_block(cc, end);
		if (fresh && cc->migrate_pfn >= end && cc->nr_mig == 0)
			skip_set(mm, pb);
	}
}

/* Ending ---------------------------------------------------------------- */

/* Is a free block of cc->order for cc->migratetype there (or stealable)? */
static bool order_ready(struct compact_control *cc)
{
	struct zone *zone = cc->zone;
	int mt = cc->migratetype;
	bool ready = false;

	mm_lock(&zone->lock);
	for (unsigned o = (unsigned)cc->order; o < NR_PAGE_ORDERS && !ready;
	     o++) {
		const struct free_area *a = &zone->area[o];

		if (a->nr_free_mt[mt] ||
		    (mt == MIGRATE_MOVABLE && a->nr_free_mt[MIGRATE_CMA]))
			ready = true;
		/* A fallback type's block this large would be claimed whole. */
		else if (o >= PAGEBLOCK_ORDER / 2 || mt != MIGRATE_MOVABLE)
			for (int f = 0; f < MM_PCP_TYPES; f++)
				if (f != mt && a->nr_free_mt[f])
					ready = true;
	}
	mm_unlock(&zone->lock);
	return ready;
}

/* Linux's __compact_finished(). */
static enum compact_result compact_finished(struct compact_control *cc)
{
	if (scanners_met(cc))
		return COMPACT_COMPLETE;
	if (cc->proactive)
		return zone_score_weighted(cc->mm, cc->zone) >
				       score_wmark(cc->mm, true)
			       ? COMPACT_CONTINUE
			       : COMPACT_SUCCESS;
	if (cc->order < 0)
		return COMPACT_CONTINUE;
	return order_ready(cc) ? COMPACT_SUCCESS : COMPACT_CONTINUE;
}

static void account(struct compact_control *cc)
{
	struct mm_compaction *c = &cc->mm->compaction;

	mm_stat_add(&c->compact_migrate_scanned, cc->res.migrate_scanned);
	mm_stat_add(&c->compact_free_scanned, cc->res.free_scanned);
	mm_stat_add(&c->compact_isolated, cc->res.isolated);
}

/* Linux's compact_zone(). Caller holds run_lock. */
static enum compact_result compact_zone(struct compact_control *cc)
{
	struct mm *mm = cc->mm;
	struct zone *zone = cc->zone;
	struct zone_compact *zc = &mm->compaction.zc[cc->zt];
	enum compact_result ret;
	uint64_t last_pb = pageblock_start(zone->end_pfn - 1);
	unsigned cpu = mm_cpu_id();

	if (cc->order >= 0 && !cc->proactive) {
		/* SUCCESS: a block is free already; SKIPPED: too little free. */
		ret = mm_compaction_suitable(mm, cc->zt, (unsigned)cc->order);
		if (ret != COMPACT_CONTINUE) {
			cc->res.result = ret;
			return ret;
		}
	}
	if (zc->blockskip_flush) {
		skip_reset_zone(mm, zone);
		zc->blockskip_flush = false;
	}
	/* Free frames on per-CPU lists are neither targets nor mergeable. */
	pcp_request_drain_all(mm, cpu);
	pcp_drain_own(mm, cpu);
	cc->migrate_pfn = zc->cached_migrate_pfn;
	cc->free_pfn = zc->cached_free_pfn;
	if (cc->migrate_pfn < zone->start_pfn ||
	    cc->migrate_pfn >= zone->end_pfn)
		cc->migrate_pfn = zone->start_pfn;
	if (cc->free_pfn < zone->start_pfn || cc->free_pfn > last_pb)
		cc->free_pfn = last_pb;
	while ((ret = compact_finished(cc)) == COMPACT_CONTINUE) {
		isolate_migratepages(cc);
		if (!cc->nr_mig)
			continue;
		migrate_pages_cb(mm, cc->mig, cc->nr_mig, cc->mode,
				 &pool_targets, cc, true);
		for (unsigned i = 0; i < cc->nr_mig; i++) {
			uint64_t n = 1ull << cc->mig[i].order;

			if (cc->mig[i].result == 0)
				cc->res.migrated += n;
			else if (cc->mig[i].result == -EINPROGRESS)
				cc->res.pending += n;
			else
				cc->res.failed += n;
		}
		cc->nr_mig = 0;
		cc->mig_frames = 0;
	}
	release_pool(cc);
	if (scanners_met(cc)) {
		zc->cached_migrate_pfn = zone->start_pfn;
		zc->cached_free_pfn = last_pb;
		zc->blockskip_flush = true;
		ret = COMPACT_COMPLETE;
	} else {
		zc->cached_migrate_pfn = cc->migrate_pfn;
		zc->cached_free_pfn = cc->free_pfn;
	}
	account(cc);
	cc->res.result = ret;
	return ret;
}

static void cc_init(struct compact_control *cc, struct mm *mm,
		    enum zone_type zt, int order, enum migrate_mode mode)
{
	mm_memset(cc, 0, sizeof(*cc));
	cc->mm = mm;
	cc->zt = zt;
	cc->zone = &mm->zones[zt];
	cc->order = order;
	cc->mode = mode;
	cc->migratetype = MIGRATE_MOVABLE;
	pool_init(cc);
}

/* Entry points ---------------------------------------------------------- */

void compaction_init(struct mm *mm)
{
	struct mm_compaction *c = &mm->compaction;

	mm_lock_init(&c->run_lock);
	mm_lock_init(&c->reg_lock);
	c->proactiveness = COMPACT_PROACTIVE_DEFAULT;
	c->extfrag_threshold = COMPACT_EXTFRAG_THRESHOLD;
	for (int z = 0; z < MM_NR_ZONES; z++) {
		c->zc[z].cached_migrate_pfn = mm->zones[z].start_pfn;
		c->zc[z].cached_free_pfn = UINT64_MAX;
	}
}

int mm_compact_zone(struct mm *mm, enum zone_type zt, int order,
		    enum migrate_mode mode, struct mm_compact_result *res)
{
	struct compact_control cc;

	if ((unsigned)zt >= MM_NR_ZONES || order < -1 ||
	    order >= NR_PAGE_ORDERS ||
	    (mode != MIGRATE_ASYNC && mode != MIGRATE_SYNC))
		return -EINVAL;
	if (!mm->zones[zt].populated) {
		if (res) {
			mm_memset(res, 0, sizeof(*res));
			res->result = COMPACT_NOT_SUITABLE_ZONE;
		}
		return 0;
	}
	if (!mm_trylock(&mm->compaction.run_lock))
		return -EBUSY;
	cc_init(&cc, mm, zt, order, mode);
	/* A full synchronous pass looks at everything, as compact_memory. */
	cc.ignore_skip_hint = order < 0 && mode == MIGRATE_SYNC;
	compact_zone(&cc);
	mm_unlock(&mm->compaction.run_lock);
	if (res)
		*res = cc.res;
	return 0;
}

int mm_compact_memory(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++) {
		int ret = mm_compact_zone(mm, (enum zone_type)z, -1,
					  MIGRATE_SYNC, NULL);

		if (ret)
			return ret;
	}
	return 0;
}

/*
 * One pass of direct compaction over the zones not deferred (@skip, a mask),
 * retrying the allocation after each zone.
 */
static int direct_pass(struct mm *mm, gfp_t gfp, unsigned order,
		       const enum zone_type *zones, int nr_zones, unsigned skip,
		       enum migrate_mode mode, int (*retry)(void *ctx),
		       void *ctx)
{
	for (int i = 0; i < nr_zones; i++) {
		struct zone_compact *zc = &mm->compaction.zc[zones[i]];
		struct compact_control cc;
		enum compact_result r;

		if (skip & (1u << i))
			continue;
		cc_init(&cc, mm, zones[i], (int)order, mode);
		cc.migratetype = gfp_migratetype(gfp);
		r = compact_zone(&cc);
		if (r == COMPACT_SKIPPED || r == COMPACT_NOT_SUITABLE_ZONE)
			continue;
		if (!retry(ctx)) {
			compaction_defer_reset(zc, order, true);
			return 0;
		}
		/* A synchronous pass over the whole zone did not do it. */
		if (mode == MIGRATE_SYNC && r == COMPACT_COMPLETE)
			defer_compaction(zc, order);
	}
	return -ENOMEM;
}

int compaction_direct(struct mm *mm, gfp_t gfp, unsigned order,
		      const enum zone_type *zones, int nr_zones,
		      int (*retry)(void *ctx), void *ctx)
{
	struct mm_compaction *c = &mm->compaction;
	unsigned skip = 0, skipped = 0;
	int ret;

	if (order <= PAGE_ALLOC_COSTLY_ORDER || !(gfp & __GFP_DIRECT_RECLAIM))
		return -ENOMEM;
	/*
	 * Linux's try_to_compact_pages(): a zone deferred (each attempt
	 * counts once) or where compaction cannot help (too little free
	 * memory, failure not due to fragmentation) is not compacted; when
	 * no zone is worth it there is no stall at all, and a failing
	 * allocation pays two watermark checks per zone, not a scan.
	 */
	for (int i = 0; i < nr_zones; i++) {
		const struct zone *zone = &mm->zones[zones[i]];
		enum compact_result r;

		/* Plainly too full (a racy read is enough to say so). */
		if (__atomic_load_n(&zone->free_pages, __ATOMIC_RELAXED) <=
		    zone->wmark_low + (2ull << order)) {
			skip |= 1u << i;
			skipped |= 1u << i;
			continue;
		}
		if (compaction_deferred(&c->zc[zones[i]], order)) {
			skip |= 1u << i;
			continue;
		}
		r = mm_compaction_suitable(mm, zones[i], order);
		if (r != COMPACT_CONTINUE) {
			skip |= 1u << i;
			skipped |= 1u << i;
		}
	}
	if (skipped == (1u << nr_zones) - 1)
		return -ENOMEM;
	/* Someone is compacting already (maybe an owner's callback: us). */
	if (!mm_trylock(&c->run_lock))
		return -ENOMEM;
	mm_stat_add(&c->compact_stall, 1);
	ret = direct_pass(mm, gfp, order, zones, nr_zones, skip, MIGRATE_ASYNC,
			  retry, ctx);
	if (ret && !(gfp & __GFP_NORETRY))
		ret = direct_pass(mm, gfp, order, zones, nr_zones, skip,
				  MIGRATE_SYNC, retry, ctx);
	mm_unlock(&c->run_lock);
	mm_stat_add(ret ? &c->compact_fail : &c->compact_success, 1);
	return ret;
}

/* Proactive compaction (Linux's kcompactd proactive mode) ---------------- */

int mm_set_compaction_proactiveness(struct mm *mm, unsigned value)
{
	if (value > 100)
		return -EINVAL;
	mm->compaction.proactiveness = value;
	return 0;
}

int64_t mm_compact_proactive(struct mm *mm)
{
	struct mm_compaction *c = &mm->compaction;
	unsigned node_score = 0;
	int64_t moved = 0;

	if (!c->proactiveness)
		return 0;
	for (int z = 0; z < MM_NR_ZONES; z++)
		node_score += zone_score_weighted(mm, &mm->zones[z]);
	if (node_score <= score_wmark(mm, false))
		return 0;
	if (!mm_trylock(&c->run_lock))
		return 0;
	mm_stat_add(&c->compact_daemon_wake, 1);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];
		struct zone_compact *zc = &c->zc[z];
		struct compact_control cc;
		unsigned before;

		if (!zone->populated)
			continue;
		if (zc->proactive_defer) {
			zc->proactive_defer--;
			continue;
		}
		before = zone_score_weighted(mm, zone);
		if (before <= score_wmark(mm, true))
			continue;
		cc_init(&cc, mm, (enum zone_type)z, -1, MIGRATE_SYNC);
		cc.proactive = true;
		compact_zone(&cc);
		moved += (int64_t)cc.res.migrated;
		/* No progress: leave the zone alone for a while. */
		if (zone_score_weighted(mm, zone) >= before)
			zc->proactive_defer = 1u << COMPACT_MAX_DEFER_SHIFT;
	}
	mm_unlock(&c->run_lock);
	return moved;
}

/* Statistics ------------------------------------------------------------ */

static uint64_t load(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void compaction_get_stats(struct mm *mm, struct mm_stats *out)
{
	struct mm_compaction *c = &mm->compaction;
	int64_t iso =
		atomic_load_explicit(&c->nr_isolated, memory_order_relaxed);

	out->compact_migrate_scanned = load(&c->compact_migrate_scanned);
	out->compact_free_scanned = load(&c->compact_free_scanned);
	out->compact_isolated = load(&c->compact_isolated);
	out->compact_stall = load(&c->compact_stall);
	out->compact_fail = load(&c->compact_fail);
	out->compact_success = load(&c->compact_success);
	out->compact_daemon_wake = load(&c->compact_daemon_wake);
	out->pgmigrate_success = load(&c->pgmigrate_success);
	out->pgmigrate_fail = load(&c->pgmigrate_fail);
	out->isolated = iso > 0 ? (uint64_t)iso : 0;
	out->cma_total = out->cma_allocated = 0;
	for (int i = 0; i < MM_MAX_CMA_AREAS; i++) {
		if (!c->cma[i].used)
			continue;
		out->cma_total += c->cma[i].count;
		out->cma_allocated += load(&c->cma[i].allocated);
	}
}

int mm_format_vmstat(struct mm *mm, char *buf, size_t size)
{
	const struct {
		const char *name;
		size_t off;
	} lines[] = {
#define VMSTAT_LINE(f) {#f, __builtin_offsetof(struct mm_stats, f)}
		VMSTAT_LINE(pgmigrate_success),
		VMSTAT_LINE(pgmigrate_fail),
		VMSTAT_LINE(compact_migrate_scanned),
		VMSTAT_LINE(compact_free_scanned),
		VMSTAT_LINE(compact_isolated),
		VMSTAT_LINE(compact_stall),
		VMSTAT_LINE(compact_fail),
		VMSTAT_LINE(compact_success),
		VMSTAT_LINE(compact_daemon_wake),
#undef VMSTAT_LINE
	};
	struct mm_zone_info zi;
	struct mm_stats st;
	uint64_t free = 0, free_cma = 0;
	struct mm_buf b;

	mm_get_stats(mm, &st);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		mm_zone_info(mm, (enum zone_type)z, &zi);
		free += zi.free;
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			free_cma += zi.nr_free_mt[MIGRATE_CMA][o] << o;
	}
	mm_buf_init(&b, buf, size);
	mm_buf_printf(&b, "nr_free_pages %llu\n", (unsigned long long)free);
	mm_buf_printf(&b, "nr_free_cma %llu\n", (unsigned long long)free_cma);
	mm_buf_printf(&b, "nr_isolated %llu\n",
		      (unsigned long long)st.isolated);
	for (size_t i = 0; i < MM_ARRAY_SIZE(lines); i++)
		mm_buf_printf(&b, "%s %llu\n", lines[i].name,
			      (unsigned long long)*(
				      const uint64_t *)((const char *)&st +
							lines[i].off));
	return (int)b.len;
}
