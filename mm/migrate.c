// SPDX-License-Identifier: MIT
/*
 * mm/migrate.c - movable blocks and their migration (Linux's mm/migrate.c
 * and movable_operations, in this allocator's terms).
 *
 * A block moves only through its owner: an allocated GUEST or BALLOON block
 * whose head names a registered owner (mm_set_movable_owner()). Migration
 * has three steps, each leaving every frame accounted for:
 *
 *   isolate   PG_ISOLATED on every frame of the source (zone lock), then the
 *             owner's isolate(): from here the source cannot be freed or
 *             change state; the target is a free block taken off the lists
 *             as GUEST with owner MM_OWNER_TARGET and PG_ISOLATED.
 *   migrate   the owner copies and switches its references (no mm/ lock
 *             held), now or later (-EINPROGRESS, then mm_migrate_finish()).
 *   commit    under the zone locks: the target takes the source's state,
 *             owner and migratetype; the source goes back to the buddy
 *             lists. Or cancel: the target goes back to the buddy lists and
 *             the source to its owner (putback()).
 *
 * Owners are untrusted in the sense that matters here: whatever they return,
 * commit re-checks both blocks under the lock and cancels if either changed,
 * so no frame is lost, freed twice or left isolated.
 */
#include "mm_internal.h"

/* Owners ---------------------------------------------------------------- */

bool mm_owner_valid(struct mm *mm, uint32_t owner)
{
	return owner >= 1 && owner <= MM_MAX_MOVABLE_OWNERS &&
	       __atomic_load_n(&mm->compaction.owners[owner].used,
			       __ATOMIC_ACQUIRE);
}

int mm_register_movable_owner(struct mm *mm, const struct mm_movable_ops *ops,
			      void *opaque)
{
	struct mm_compaction *c = &mm->compaction;
	int id = -ENOSPC;

	if (!ops || !ops->migrate || !ops->putback)
		return -EINVAL;
	mm_lock(&c->reg_lock);
	for (int i = 1; i <= MM_MAX_MOVABLE_OWNERS; i++) {
		if (c->owners[i].used)
			continue;
		c->owners[i].ops = *ops;
		c->owners[i].opaque = opaque;
		__atomic_store_n(&c->owners[i].used, true, __ATOMIC_RELEASE);
		id = i;
		break;
	}
	mm_unlock(&c->reg_lock);
	return id;
}

static const struct mm_movable_owner *owner_of(struct mm *mm, uint32_t owner)
{
	return mm_owner_valid(mm, owner) ? &mm->compaction.owners[owner] : NULL;
}

/* Frame lookups --------------------------------------------------------- */

static struct page *pfn_page(struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? &mm->frames[mm_rng_idx(r, pfn)] : NULL;
}

static struct zone *pfn_zone(struct mm *mm, uint64_t pfn)
{
	return &mm->zones[mm_zone_of_pfn(mm, pfn)];
}

static bool state_movable(uint8_t s)
{
	return s == FRAME_GUEST || s == FRAME_BALLOON;
}

/* Every frame of the block has PG_ISOLATED (on) or not (off). */
static void block_mark_isolated(struct page *p, unsigned order, bool on)
{
	for (uint32_t i = 0; i < (1u << order); i++) {
		if (on)
			__atomic_fetch_or(&p[i].flags, PG_ISOLATED,
					  __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_and(&p[i].flags, (uint8_t)~PG_ISOLATED,
					   __ATOMIC_SEQ_CST);
	}
}

void isolated_add(struct mm *mm, int64_t n)
{
	atomic_fetch_add_explicit(&mm->compaction.nr_isolated, n,
				  memory_order_relaxed);
}

bool page_movable(struct mm *mm, const struct page *p)
{
	uint8_t flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);

	return (flags & (PG_HEAD | PG_PCP | PG_BUDDY | PG_ISOLATED)) ==
		       PG_HEAD &&
	       state_movable(mm_page_state(p)) && mm_owner_valid(mm, p->owner);
}

/* Is the block at @pfn of @order inside one range and zone, all @state? */
static bool block_uniform(struct mm *mm, uint64_t pfn, unsigned order,
			  uint8_t state)
{
	const struct mm_rng *r;
	const struct zone *zone;
	const struct page *p;

	if (order == 0)
		return true; /* a present frame, in its zone by definition */
	r = mm_range_present(mm, pfn, 1ull << order);
	zone = pfn_zone(mm, pfn);

	if (!r || pfn + (1ull << order) > zone->end_pfn ||
	    (pfn & ((1ull << order) - 1)))
		return false;
	p = &mm->frames[mm_rng_idx(r, pfn)];
	for (uint32_t i = 1; i < (1u << order); i++)
		if (mm_page_state(&p[i]) != state)
			return false;
	return true;
}

int mm_set_movable_owner(struct mm *mm, uint64_t pfn, unsigned order,
			 uint32_t owner)
{
	struct page *p = pfn_page(mm, pfn);
	struct zone *zone;
	int ret = 0;

	if (!p)
		return -ERANGE;
	if ((owner && !mm_owner_valid(mm, owner)) || order >= NR_PAGE_ORDERS)
		return -EINVAL;
	zone = pfn_zone(mm, pfn);
	mm_lock(&zone->lock);
	if ((p->flags & (PG_HEAD | PG_PCP | PG_BUDDY)) != PG_HEAD ||
	    p->order != order || !state_movable(mm_page_state(p)) ||
	    p->owner == MM_OWNER_TARGET)
		ret = -EINVAL;
	else if (p->flags & PG_ISOLATED)
		ret = -EBUSY;
	else
		p->owner = owner;
	mm_unlock(&zone->lock);
	return ret;
}

/* Isolation of sources -------------------------------------------------- */

int __isolate_source(struct mm *mm, uint64_t pfn)
{
	struct page *p = pfn_page(mm, pfn);
	unsigned ord = p->order;
	uint8_t state = mm_page_state(p);

	if (!page_movable(mm, p) || !block_uniform(mm, pfn, ord, state))
		return -EINVAL;
	block_mark_isolated(p, ord, true);
	/*
	 * An order-0 free takes no zone lock: it moves the state first and
	 * then looks for PG_ISOLATED (undoing itself if set), we set the flag
	 * first and then look at the state. One of us sees the other.
	 */
	if (!state_movable(mm_page_state(p))) {
		block_mark_isolated(p, ord, false);
		return -EBUSY;
	}
	return (int)ord;
}

int isolate_source_ask_owner(struct mm *mm, uint64_t pfn, unsigned order)
{
	struct page *p = pfn_page(mm, pfn);
	const struct mm_movable_owner *o = owner_of(mm, p->owner);
	struct zone *zone;

	if (!o->ops.isolate || !o->ops.isolate(o->opaque, pfn, order))
		return 0;
	zone = pfn_zone(mm, pfn);
	mm_lock(&zone->lock);
	block_mark_isolated(p, order, false);
	mm_unlock(&zone->lock);
	isolated_add(mm, -(1ll << order));
	return -EBUSY;
}

int isolate_movable_block(struct mm *mm, uint64_t pfn, unsigned *order)
{
	struct zone *zone;
	int ord;

	if (!pfn_page(mm, pfn))
		return -ERANGE;
	zone = pfn_zone(mm, pfn);
	mm_lock(&zone->lock);
	ord = __isolate_source(mm, pfn);
	mm_unlock(&zone->lock);
	if (ord < 0)
		return ord;
	isolated_add(mm, 1ll << ord);
	if (isolate_source_ask_owner(mm, pfn, (unsigned)ord))
		return -EBUSY;
	*order = (unsigned)ord;
	return 0;
}

int mm_isolate_movable(struct mm *mm, uint64_t pfn, unsigned *order)
{
	return order ? isolate_movable_block(mm, pfn, order) : -EINVAL;
}

/* Is @pfn the head of an isolated source? *@order, *@owner. Zone lock. */
static bool isolated_source(struct mm *mm, uint64_t pfn, unsigned *order,
			    uint32_t *owner)
{
	struct page *p = pfn_page(mm, pfn);

	if (!p ||
	    (p->flags & (PG_HEAD | PG_ISOLATED | PG_BUDDY | PG_PCP)) !=
		    (PG_HEAD | PG_ISOLATED) ||
	    p->owner == MM_OWNER_TARGET)
		return false;
	*order = p->order;
	*owner = p->owner;
	return true;
}

/* End the isolation of a source and tell its owner. */
static void putback_source(struct mm *mm, uint64_t pfn, unsigned order,
			   uint32_t owner)
{
	struct zone *zone = pfn_zone(mm, pfn);
	const struct mm_movable_owner *o = owner_of(mm, owner);

	mm_lock(&zone->lock);
	block_mark_isolated(pfn_page(mm, pfn), order, false);
	mm_unlock(&zone->lock);
	isolated_add(mm, -(1ll << order));
	if (o)
		o->ops.putback(o->opaque, pfn, order);
}

int mm_putback_movable(struct mm *mm, uint64_t pfn)
{
	struct zone *zone;
	unsigned order;
	uint32_t owner;
	bool ok;

	if (!mm_rng_of_pfn(mm, pfn))
		return -ERANGE;
	zone = pfn_zone(mm, pfn);
	mm_lock(&zone->lock);
	ok = isolated_source(mm, pfn, &order, &owner);
	mm_unlock(&zone->lock);
	if (!ok)
		return -EINVAL;
	putback_source(mm, pfn, order, owner);
	return 0;
}

/* Targets --------------------------------------------------------------- */

/* The block at @idx (off every list) becomes an isolated target. */
static void __prep_target(struct mm *mm, struct zone *zone, uint32_t idx,
			  unsigned order)
{
	struct page *p = &mm->frames[idx];
	uint64_t pfn = mm_idx_to_pfn(mm, idx);

	p->order = (uint8_t)order;
	p->owner = MM_OWNER_TARGET;
	p->migratetype = *mm_pb_slot(mm, mm_rng_of_pfn(mm, pfn), pfn);
	p->next = p->prev = MM_NO_LINK;
	p->flags = PG_HEAD | PG_ISOLATED;
	mm_page_set_state(p, FRAME_GUEST);
	for (uint32_t i = 1; i < (1u << order); i++) {
		p[i].flags = PG_ISOLATED;
		p[i].owner = 0;
		mm_page_set_state(&p[i], FRAME_GUEST);
	}
	zone->nr_state[FRAME_FREE] -= 1ll << order;
	zone->nr_state[FRAME_GUEST] += 1ll << order;
	isolated_add(mm, 1ll << order);
}

void __isolate_free_block(struct mm *mm, struct zone *zone, uint32_t idx,
			  unsigned order)
{
	__free_list_del(mm, zone, idx);
	__prep_target(mm, zone, idx, order);
}

void __release_target(struct mm *mm, struct zone *zone, uint64_t pfn,
		      unsigned order)
{
	struct page *p = pfn_page(mm, pfn);

	for (uint32_t i = 0; i < (1u << order); i++) {
		p[i].flags = 0;
		p[i].owner = 0;
		mm_page_set_state(&p[i], FRAME_FREE);
	}
	zone->nr_state[FRAME_GUEST] -= 1ll << order;
	zone->nr_state[FRAME_FREE] += 1ll << order;
	isolated_add(mm, -(1ll << order));
	__buddy_free_block(mm, zone, pfn, order, 0);
}

void __split_target(struct mm *mm, uint64_t pfn, unsigned order)
{
	struct page *p = pfn_page(mm, pfn);
	struct page *q = p + (1u << (order - 1));

	p->order = (uint8_t)(order - 1);
	q->order = (uint8_t)(order - 1);
	q->owner = MM_OWNER_TARGET;
	q->migratetype = p->migratetype;
	q->next = q->prev = MM_NO_LINK;
	q->flags = PG_HEAD | PG_ISOLATED;
}

/* Is @pfn the head of an isolated target of @order? Zone lock. */
static bool is_target(struct mm *mm, uint64_t pfn, unsigned order)
{
	struct page *p = pfn_page(mm, pfn);

	return p &&
	       (p->flags & (PG_HEAD | PG_ISOLATED)) ==
		       (PG_HEAD | PG_ISOLATED) &&
	       p->owner == MM_OWNER_TARGET && p->order == order &&
	       mm_page_state(p) == FRAME_GUEST;
}

int mm_alloc_migration_target(struct mm *mm, enum zone_type zt, unsigned order,
			      uint64_t *pfn)
{
	struct zone *zone;
	uint32_t idx;
	int ret = -ENOMEM;

	if ((unsigned)zt >= MM_NR_ZONES || order >= NR_PAGE_ORDERS || !pfn)
		return -EINVAL;
	zone = &mm->zones[zt];
	if (!zone->populated)
		return -ENOMEM;
	mm_lock(&zone->lock);
	if (__zone_watermark_ok(zone, order, zone->wmark_min, zt) &&
	    !__rmqueue(mm, zone, order, MIGRATE_MOVABLE, &idx)) {
		__prep_target(mm, zone, idx, order);
		*pfn = mm_idx_to_pfn(mm, idx);
		ret = 0;
	}
	mm_unlock(&zone->lock);
	return ret;
}

int mm_free_migration_target(struct mm *mm, uint64_t pfn)
{
	struct page *p = pfn_page(mm, pfn);
	struct zone *zone;
	int ret = -EINVAL;

	if (!p)
		return -ERANGE;
	zone = pfn_zone(mm, pfn);
	mm_lock(&zone->lock);
	if (is_target(mm, pfn, p->order)) {
		__release_target(mm, zone, pfn, p->order);
		ret = 0;
	}
	mm_unlock(&zone->lock);
	return ret;
}

/* Commit and cancel ----------------------------------------------------- */

/* Lock the zones of two pfns in ascending order; the mask to unlock. */
static unsigned lock_two(struct mm *mm, uint64_t a, uint64_t b)
{
	unsigned za = mm_zone_of_pfn(mm, a), zb = mm_zone_of_pfn(mm, b);
	unsigned mask = (1u << za) | (1u << zb);

	if (za == zb) {
		mm_lock(&mm->zones[za].lock);
		return mask;
	}
	for (int z = 0; z < MM_NR_ZONES; z++)
		if (mask & (1u << z))
			mm_lock(&mm->zones[z].lock);
	return mask;
}

/*
 * The state of an isolated order-0 source, waiting out a racing free
 * that is undoing itself (it saw PG_ISOLATED after moving the state).
 */
static uint8_t source_state(const struct page *p)
{
	uint8_t s;

	while ((s = mm_page_state(p)) == FRAME_FREE)
		mm_cpu_relax();
	return s;
}

/*
 * The owner moved @src to @dst: make it so, if both are still what they
 * were (isolated, same order, the source uniform and still @owner's).
 * Return: 0, or -ESTALE with nothing changed.
 */
static int __commit_migration(struct mm *mm, uint64_t src, uint64_t dst,
			      unsigned order, uint32_t owner, uint8_t *state)
{
	struct zone *zs = pfn_zone(mm, src), *zd = pfn_zone(mm, dst);
	const struct mm_rng *rs = mm_rng_of_pfn(mm, src);
	struct page *ps = pfn_page(mm, src), *pd = pfn_page(mm, dst);
	uint64_t n = 1ull << order;
	unsigned o;
	uint32_t own;
	uint8_t st;

	st = source_state(ps);
	if (!isolated_source(mm, src, &o, &own) || o != order || own != owner ||
	    !state_movable(st) || !block_uniform(mm, src, order, st) ||
	    !is_target(mm, dst, order))
		return -ESTALE;
	for (uint64_t i = 0; i < n; i++) {
		pd[i].flags = 0;
		mm_page_set_state(&pd[i], st);
	}
	pd->flags = PG_HEAD;
	pd->owner = owner;
	pd->migratetype = ps->migratetype;
	zd->nr_state[FRAME_GUEST] -= (int64_t)n;
	zd->nr_state[st] += (int64_t)n;
	/* The old block: back to the buddy lists, backed as far as we know. */
	if (__atomic_load_n(&zs->guest_discarded, __ATOMIC_RELAXED))
		mm_forget_discarded(mm, zs, rs, src, n);
	for (uint64_t i = 0; i < n; i++) {
		ps[i].flags = 0;
		ps[i].owner = 0;
		mm_page_set_state(&ps[i], FRAME_FREE);
	}
	zs->nr_state[st] -= (int64_t)n;
	zs->nr_state[FRAME_FREE] += (int64_t)n;
	__buddy_free_block(mm, zs, src, order, 0);
	*state = st;
	return 0;
}

/* After the commit, outside the locks: a balloon frame holds nothing. */
static void committed(struct mm *mm, uint64_t dst, unsigned order, uint8_t st)
{
	isolated_add(mm, -(2ll << order));
	if (st == FRAME_BALLOON && mm->ops.discard)
		mm->ops.discard(mm->opaque, dst, 1ull << order);
}

static int commit_migration(struct mm *mm, uint64_t src, uint64_t dst,
			    unsigned order, uint32_t owner)
{
	unsigned mask = lock_two(mm, src, dst);
	uint8_t st;
	int ret = __commit_migration(mm, src, dst, order, owner, &st);

	mm_unlock_zones(mm, mask);
	if (!ret)
		committed(mm, dst, order, st);
	return ret;
}

static void release_target(struct mm *mm, uint64_t dst, unsigned order)
{
	struct zone *zone = pfn_zone(mm, dst);

	mm_lock(&zone->lock);
	if (is_target(mm, dst, order))
		__release_target(mm, zone, dst, order);
	mm_unlock(&zone->lock);
}

static void cancel_migration(struct mm *mm, uint64_t src, uint64_t dst,
			     unsigned order, uint32_t owner)
{
	if (dst != MM_PFN_NONE)
		release_target(mm, dst, order);
	putback_source(mm, src, order, owner);
	mm_stat_add(&mm->compaction.pgmigrate_fail, 1ull << order);
}

int mm_migrate_finish(struct mm *mm, uint64_t src, uint64_t dst, int result)
{
	unsigned order;
	uint32_t owner;
	bool ok;
	int ret;

	if (!mm_rng_of_pfn(mm, src) || !mm_rng_of_pfn(mm, dst))
		return -EINVAL;
	mm_lock(&pfn_zone(mm, src)->lock);
	ok = isolated_source(mm, src, &order, &owner);
	mm_unlock(&pfn_zone(mm, src)->lock);
	if (ok) {
		mm_lock(&pfn_zone(mm, dst)->lock);
		ok = is_target(mm, dst, order);
		mm_unlock(&pfn_zone(mm, dst)->lock);
	}
	if (!ok)
		return -EINVAL;
	if (result == 0) {
		ret = commit_migration(mm, src, dst, order, owner);
		if (!ret) {
			mm_stat_add(&mm->compaction.pgmigrate_success,
				    1ull << order);
			return 0;
		}
	} else {
		ret = 0;
	}
	cancel_migration(mm, src, dst, order, owner);
	return ret;
}

/* Migrating a list ------------------------------------------------------ */

/* migrate_one()'s results for a block its owner moved (internal). */
#define MOVED_UNCOMMITTED 1
#define MOVED_COMMITTED	  2

/*
 * Commit the entries of @list[0..n) (n <= COMPACT_CLUSTER_MAX) that their
 * owners moved, under one acquisition of the zone locks they need (a
 * compaction batch is one zone).
 */
static void commit_chunk(struct mm *mm, struct mm_migration *list, unsigned n)
{
	uint8_t st[COMPACT_CLUSTER_MAX];
	unsigned mask = 0;

	for (unsigned i = 0; i < n; i++)
		if (list[i].result == MOVED_UNCOMMITTED)
			mask |= (1u << mm_zone_of_pfn(mm, list[i].src)) |
				(1u << mm_zone_of_pfn(mm, list[i].dst));
	if (!mask)
		return;
	for (int z = 0; z < MM_NR_ZONES; z++)
		if (mask & (1u << z))
			mm_lock(&mm->zones[z].lock);
	for (unsigned i = 0; i < n; i++) {
		struct mm_migration *e = &list[i];
		uint32_t owner;

		if (e->result != MOVED_UNCOMMITTED)
			continue;
		owner = pfn_page(mm, e->src)->owner;
		e->result = __commit_migration(mm, e->src, e->dst, e->order,
					       owner, &st[i]);
		/* Committed now: not to be committed again below. */
		if (!e->result)
			e->result = MOVED_COMMITTED;
	}
	mm_unlock_zones(mm, mask);
	for (unsigned i = 0; i < n; i++) {
		if (list[i].result != MOVED_COMMITTED)
			continue;
		list[i].result = 0;
		committed(mm, list[i].dst, list[i].order, st[i]);
	}
}

static void commit_moved(struct mm *mm, struct mm_migration *list, unsigned n)
{
	for (unsigned base = 0; base < n; base += COMPACT_CLUSTER_MAX)
		commit_chunk(mm, list + base,
			     MM_MIN(n - base, (unsigned)COMPACT_CLUSTER_MAX));
}

/* Tell @next's owner that its block comes after the current one. */
static void hint_next(struct mm *mm, const struct mm_migration *next)
{
	const struct mm_movable_owner *o;

	if (!next)
		return;
	o = owner_of(mm, pfn_page(mm, next->src)->owner);
	if (o && o->ops.prefetch)
		o->ops.prefetch(o->opaque, next->src, next->order);
}

/* One attempt at one entry; e->result says what became of it. */
static void migrate_one(struct mm *mm, struct mm_migration *e,
			const struct mm_migration *next, enum migrate_mode mode,
			const struct migrate_target_ops *t, void *ctx)
{
	const struct page *p = pfn_page(mm, e->src);
	uint32_t owner = p->owner;
	const struct mm_movable_owner *o = owner_of(mm, owner);
	int rc;

	if (e->dst == MM_PFN_NONE && t->get(ctx, e->src, e->order, &e->dst)) {
		e->dst = MM_PFN_NONE;
		e->result = -ENOMEM;
		return;
	}
	hint_next(mm, next);
	rc = o ? o->ops.migrate(o->opaque, e->dst, e->src, e->order, mode)
	       : -EINVAL;
	if (rc == 0)
		rc = MOVED_UNCOMMITTED;
	else if (rc > 0)
		rc = -EIO; /* not a documented answer: it did not move */
	e->result = rc;
}

/* Check an entry before anything is done to it. */
static bool entry_valid(struct mm *mm, const struct mm_migration *e)
{
	struct zone *zone;
	unsigned order;
	uint32_t owner;
	bool ok;

	if (!mm_rng_of_pfn(mm, e->src))
		return false;
	zone = pfn_zone(mm, e->src);
	mm_lock(&zone->lock);
	ok = isolated_source(mm, e->src, &order, &owner) && order == e->order;
	mm_unlock(&zone->lock);
	if (ok && e->dst != MM_PFN_NONE) {
		if (!mm_rng_of_pfn(mm, e->dst))
			return false;
		zone = pfn_zone(mm, e->dst);
		mm_lock(&zone->lock);
		ok = is_target(mm, e->dst, order);
		mm_unlock(&zone->lock);
	}
	return ok;
}

int migrate_pages_cb(struct mm *mm, struct mm_migration *list, unsigned n,
		     enum migrate_mode mode, const struct migrate_target_ops *t,
		     void *ctx, bool trusted)
{
	int passes = mode == MIGRATE_SYNC ? 3 : 1;
	uint64_t moved = 0;
	int failed = 0;

	for (unsigned i = 0; i < n; i++)
		list[i].result = trusted || entry_valid(mm, &list[i]) ? -EAGAIN
								      : -EINVAL;
	for (int pass = 0; pass < passes; pass++) {
		bool again = false;

		for (unsigned i = 0; i < n; i++) {
			unsigned j = i + 1;

			if (list[i].result != -EAGAIN)
				continue;
			while (j < n && list[j].result != -EAGAIN)
				j++;
			migrate_one(mm, &list[i], j < n ? &list[j] : NULL, mode,
				    t, ctx);
			again |= list[i].result == -EAGAIN;
		}
		if (!again)
			break;
	}
	commit_moved(mm, list, n);
	for (unsigned i = 0; i < n; i++) {
		struct mm_migration *e = &list[i];
		const struct page *p;

		if (e->result == 0)
			moved += 1ull << e->order;
		if (e->result == 0 || e->result == -EINPROGRESS)
			continue;
		failed++;
		if (e->result == -EINVAL)
			continue; /* not ours to put back */
		if (e->dst != MM_PFN_NONE) {
			t->put(ctx, e->dst, e->order);
			e->dst = MM_PFN_NONE;
		}
		p = pfn_page(mm, e->src);
		putback_source(mm, e->src, e->order, p->owner);
		mm_stat_add(&mm->compaction.pgmigrate_fail, 1ull << e->order);
	}
	if (moved)
		mm_stat_add(&mm->compaction.pgmigrate_success, moved);
	return failed;
}

static int default_target_get(void *ctx, uint64_t src, unsigned order,
			      uint64_t *dst)
{
	struct mm *mm = ctx;

	return mm_alloc_migration_target(mm, mm_zone_of_pfn(mm, src), order,
					 dst);
}

static void default_target_put(void *ctx, uint64_t dst, unsigned order)
{
	release_target(ctx, dst, order);
}

static const struct migrate_target_ops default_targets = {
	.get = default_target_get,
	.put = default_target_put,
};

int mm_migrate_pages(struct mm *mm, struct mm_migration *list, unsigned n,
		     enum migrate_mode mode)
{
	if (!list && n)
		return -EINVAL;
	return migrate_pages_cb(mm, list, n, mode, &default_targets, mm, false);
}
