// SPDX-License-Identifier: MIT
/*
 * devices/pvmem_ring.c - the pvmem page rings (devices/pvmem_ring.h).
 *
 * The host never reads a pfn out of guest memory: each ring has a host
 * copy (shadow) of every supply slot it filled. A slot is "taken" when its
 * value in guest memory no longer equals the shadow (the guest exchanged it
 * for 0, or scribbled on it): that frame is the guest's. A slot is taken
 * back with an atomic exchange against 0: if the exchange returns the
 * shadow the guest never took it. Return entries are copied once and go
 * through FREE's checks. So whatever the guest writes, the frames it ends
 * up holding are frames the host placed in its ring, each exactly once.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/pvmem.h"
#include "devices/pvmem_ring.h"
#include "vmm/seccomp.h"
#include "vmm/stat_fields.h"
#include "vmm/zero_pages.h"

_Static_assert(sizeof(struct pvmem_ring) == PVMEM_RING_BYTES,
	       "a ring is PVMEM_RING_BYTES");
_Static_assert(offsetof(struct pvmem_ring, sup_prod) == 64 &&
		       offsetof(struct pvmem_ring, sup_cons) == 128 &&
		       offsetof(struct pvmem_ring, ret) == 4096 &&
		       offsetof(struct pvmem_ring, sup) == 20480,
	       "ring layout");
_Static_assert((PVMEM_RING_SUP_SLOTS & (PVMEM_RING_SUP_SLOTS - 1)) == 0 &&
		       (PVMEM_RING_RET_SLOTS & (PVMEM_RING_RET_SLOTS - 1)) == 0,
	       "ring sizes are powers of two");

#define SUP_MASK (PVMEM_RING_SUP_SLOTS - 1)
#define RET_MASK (PVMEM_RING_RET_SLOTS - 1)

/* The refill thread: poll interval while busy, and how long it stays. */
#define RING_POLL_NS	    20000ull
#define RING_POLL_LINGER_NS 5000000ull
/* After a large DMA_ALLOC, refills stay small this long (retries). */
#define RING_QUIET_NS 1000000000ull
/* A ring from which nothing was taken this long shrinks (thread). */
#define RING_DECAY_NS 200000000ull

struct ring_host {
	pthread_mutex_t lock;
	struct pvmem_ring *g; /* guest memory */
	uint64_t pfn;
	unsigned index;
	/* Host copy of the supply: shadow[pos & SUP_MASK], 0 = empty. */
	uint64_t shadow[PVMEM_RING_SUP_SLOTS];
	uint32_t sup_prod;  /* slots filled */
	uint32_t cons_seen; /* the guest's sup_cons, last valid value */
	uint32_t ret_cons;  /* return entries taken */
	atomic_uint level;  /* shadow entries != 0 */
	atomic_uint target;
	uint64_t last_take_ns; /* the last time the guest took a frame */
	/* Populate ahead: slots before pop_pos were looked at; the last
	 * 2 MiB page populated, + 1 (0: none). */
	uint32_t pop_pos;
	uint64_t pop_last;
	/* The last bad index reported (each bad value counts once). */
	bool bad_cons, bad_prod;
	uint32_t bad_cons_val, bad_prod_val;
	/* Rewritten into the header at every publish. */
	uint32_t flags, err_count;
	int32_t last_err;
	uint64_t last_err_pfn;
};

struct pvmem_rings {
	struct pvmem *p;
	struct mm *mm;
	const struct guest_mem *mem;
	struct pvmem_rings_config cfg;

	pthread_mutex_t setup_lock;
	struct ring_host *rings;      /* PVMEM_MAX_RINGS, once set up */
	unsigned nr_locks;	      /* rings[i].lock initialised below */
	atomic_uint nr;		      /* published after the rings are ready */
	atomic_uint held;	      /* refills stopped (pvmem_rings_hold()) */
	_Atomic uint64_t quiet_until; /* and small until then (ns) */

	/*
	 * A byte per pfn: 1 while the frame sits in a supply ring (shadow !=
	 * 0). Bytes, not bits: each is written by one ring at a time, under
	 * its lock, with a plain store; a word of bits would need a locked
	 * read-modify-write per frame, shared by every ring. Allocated, like
	 * rings, at the first RING_SETUP (a VM whose guest never sets rings
	 * up pays nothing): NULL before, published with a release store.
	 */
	uint8_t *bits;
	uint64_t nr_pfns;

	/* The refill thread. */
	pthread_t thread;
	bool thread_running, stop, wanted;
	pthread_mutex_t tlock;
	pthread_cond_t tcond;

	atomic_uint_fast64_t kicks, kicks_empty, supplied, taken, reclaimed;
	atomic_uint_fast64_t returned, drains, grows, shrinks, polls;
	atomic_uint_fast64_t short_refills, bad_index, bad_return, bad_kick;
	atomic_uint_fast64_t lied_cons, recycled;
	atomic_uint_fast64_t populated, populate_failed;
	atomic_bool populate_off; /* the host has no MADV_POPULATE_WRITE */
};

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t now_ns(const struct pvmem_rings *r)
{
	struct timespec ts;

	if (r->cfg.clock_ns)
		return r->cfg.clock_ns(r->cfg.clock_opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bitmap ----------------------------------------------------------------- */

static void bit_set(struct pvmem_rings *r, uint64_t pfn)
{
	__atomic_store_n(&r->bits[pfn], 1, __ATOMIC_RELEASE);
}

static void bit_clear(struct pvmem_rings *r, uint64_t pfn)
{
	__atomic_store_n(&r->bits[pfn], 0, __ATOMIC_RELEASE);
}

static bool bit_test(struct pvmem_rings *r, uint64_t pfn)
{
	const uint8_t *bits = __atomic_load_n(&r->bits, __ATOMIC_ACQUIRE);

	return bits && pfn < r->nr_pfns &&
	       __atomic_load_n(&bits[pfn], __ATOMIC_ACQUIRE);
}

/* Header ----------------------------------------------------------------- */

/*
 * Everything the host owns in the header, written again each time: the
 * guest may have overwritten any of it, and the host never reads it back.
 */
static void ring_publish(struct ring_host *h)
{
	struct pvmem_ring *g = h->g;
	unsigned target = atomic_load(&h->target);

	g->magic = PVMEM_RING_MAGIC;
	g->index = h->index;
	g->sup_slots = PVMEM_RING_SUP_SLOTS;
	g->ret_slots = PVMEM_RING_RET_SLOTS;
	g->sup_target = target;
	g->sup_low = target / 4;
	g->ret_high = PVMEM_RING_RET_SLOTS / 2;
	g->err_count = h->err_count;
	g->last_err = h->last_err;
	g->last_err_pfn = h->last_err_pfn;
	__atomic_store_n(&g->ret_cons, h->ret_cons, __ATOMIC_RELEASE);
	__atomic_store_n(&g->sup_prod, h->sup_prod, __ATOMIC_RELEASE);
	__atomic_store_n(&g->flags, h->flags, __ATOMIC_RELEASE);
}

/* Bad guest input: counted, and told to the guest in its header. */
static void ring_error(struct pvmem_rings *r, struct ring_host *h, int err,
		       uint64_t pfn, atomic_uint_fast64_t *kind)
{
	h->err_count++;
	h->last_err = err;
	h->last_err_pfn = pfn;
	count(kind, 1);
}

/* Supply: reap, take back, refill (ring lock held) ------------------------ */

/* Slot @pos is no longer in the ring: it was taken, or taken back. */
static void slot_forget(struct pvmem_rings *r, struct ring_host *h,
			uint32_t pos)
{
	bit_clear(r, h->shadow[pos & SUP_MASK]);
	h->shadow[pos & SUP_MASK] = 0;
	/* Written under the ring lock only: no locked instruction needed. */
	atomic_store_explicit(
		&h->level,
		atomic_load_explicit(&h->level, memory_order_relaxed) - 1,
		memory_order_relaxed);
}

/*
 * Take slot @pos back from the guest if it has not taken it. Return true
 * if the frame came back (it is then free and uncharged).
 */
static bool slot_reclaim(struct pvmem_rings *r, struct ring_host *h,
			 uint32_t pos)
{
	uint64_t pfn = h->shadow[pos & SUP_MASK];
	uint64_t v = __atomic_exchange_n(&h->g->sup[pos & SUP_MASK], 0,
					 __ATOMIC_ACQ_REL);
	bool back = v == pfn && mm_free_pages(r->mm, pfn, 0) == 0;

	slot_forget(r, h, pos);
	if (back) {
		pvmem_adjust_tot_pages(r->p, -1);
		count(&r->reclaimed, 1);
	} else {
		count(&r->taken, 1);
	}
	return back;
}

/*
 * The guest says it has passed the slots up to its sup_cons: those it took
 * are its frames; a slot it passed without taking (an honest guest always
 * exchanges first) is taken back. A sup_cons outside [cons_seen, sup_prod]
 * is an error and moves nothing.
 */
static void ring_reap(struct pvmem_rings *r, struct ring_host *h)
{
	uint32_t gc = __atomic_load_n(&h->g->sup_cons, __ATOMIC_ACQUIRE);
	uint32_t pos;

	if (gc - h->cons_seen > h->sup_prod - h->cons_seen) {
		/* One error per bad value, not one per look at it. */
		if (!h->bad_cons || gc != h->bad_cons_val)
			ring_error(r, h, -ERANGE, gc, &r->bad_index);
		h->bad_cons = true;
		h->bad_cons_val = gc;
		return;
	}
	h->bad_cons = false;
	unsigned taken = 0;

	for (pos = h->cons_seen; pos != gc; pos++) {
		uint64_t pfn = h->shadow[pos & SUP_MASK];

		if (!pfn)
			continue; /* taken back earlier */
		/* An honest guest exchanged it for 0: a load tells. */
		if (__atomic_load_n(&h->g->sup[pos & SUP_MASK],
				    __ATOMIC_ACQUIRE) != pfn) {
			slot_forget(r, h, pos);
			taken++;
		} else if (slot_reclaim(r, h, pos)) {
			count(&r->lied_cons, 1);
		}
	}
	h->cons_seen = gc;
	if (taken) {
		count(&r->taken, taken);
		h->last_take_ns = now_ns(r);
	}
}

/*
 * Without trusting sup_cons: every slot whose value changed (or whose
 * frame is no longer GUEST: the guest ballooned it) is the guest's. Loads
 * only: a frame still in its slot stays offered.
 */
static void ring_reap_all(struct pvmem_rings *r, struct ring_host *h)
{
	ring_reap(r, h);
	for (uint32_t pos = h->cons_seen; pos != h->sup_prod; pos++) {
		uint64_t pfn = h->shadow[pos & SUP_MASK];
		const struct page *pg;

		if (!pfn)
			continue;
		pg = mm_pfn_to_page(r->mm, pfn);
		if (__atomic_load_n(&h->g->sup[pos & SUP_MASK],
				    __ATOMIC_ACQUIRE) == pfn &&
		    pg &&
		    __atomic_load_n(&pg->state, __ATOMIC_RELAXED) ==
			    FRAME_GUEST)
			continue;
		slot_forget(r, h, pos);
		count(&r->taken, 1);
		h->last_take_ns = now_ns(r);
	}
}

/* Take back the newest slots until @keep frames are left. */
static uint64_t ring_reclaim_to(struct pvmem_rings *r, struct ring_host *h,
				unsigned keep)
{
	uint64_t back = 0;

	ring_reap(r, h);
	for (uint32_t pos = h->sup_prod;
	     pos != h->cons_seen && atomic_load(&h->level) > keep;) {
		pos--;
		if (h->shadow[pos & SUP_MASK])
			back += slot_reclaim(r, h, pos);
	}
	return back;
}

/* Put @pfn (charged, GUEST, order 0, unmarked) into the next slot. */
static void slot_place(struct pvmem_rings *r, struct ring_host *h, uint64_t pfn)
{
	uint32_t s = h->sup_prod & SUP_MASK;

	h->shadow[s] = pfn;
	bit_set(r, pfn);
	__atomic_store_n(&h->g->sup[s], pfn, __ATOMIC_RELAXED);
	h->sup_prod++;
	atomic_store_explicit(
		&h->level,
		atomic_load_explicit(&h->level, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

/*
 * How many frames the supply takes now: up to its target, within the
 * slots the guest has passed (below cons_seen + slots, so an honest guest
 * never sees more than a ring's worth); none while held.
 */
static unsigned ring_room(struct pvmem_rings *r, struct ring_host *h)
{
	unsigned level = atomic_load(&h->level),
		 target = atomic_load(&h->target);
	uint32_t space = h->cons_seen + PVMEM_RING_SUP_SLOTS - h->sup_prod;

	if (atomic_load(&r->held))
		return 0;
	/*
	 * Shortly after a large DMA buffer was asked for (its -EAGAIN retries
	 * come within milliseconds), refill only what the guest asks for right
	 * now, a little at a time: a full supply taken ahead could pin free
	 * frames in the range being emptied for the retry.
	 */
	if (now_ns(r) < atomic_load(&r->quiet_until) &&
	    target > PVMEM_RING_MIN_TARGET)
		target = PVMEM_RING_MIN_TARGET;
	if (level >= target)
		return 0;
	return target - level < space ? target - level : space;
}

/* Place up to @want new frames (charged first, as ALLOC). */
static unsigned ring_fill(struct pvmem_rings *r, struct ring_host *h,
			  unsigned want, int *why)
{
	uint64_t pfns[64];
	unsigned placed = 0;

	while (placed < want) {
		unsigned n = want - placed < 64 ? want - placed : 64;
		unsigned charged = pvmem_charge(r->p, n);
		int got;

		if (!charged) {
			*why = -EDQUOT;
			break;
		}
		got = mm_alloc_bulk(r->mm, GFP_KERNEL, 0, charged, pfns);
		if (got < 0)
			got = 0;
		if ((unsigned)got < charged)
			pvmem_adjust_tot_pages(
				r->p, -(int64_t)(charged - (unsigned)got));
		for (int i = 0; i < got; i++)
			slot_place(r, h, pfns[i]);
		placed += (unsigned)got;
		if ((unsigned)got < n) {
			*why = (unsigned)got < charged ? -ENOMEM : -EDQUOT;
			break;
		}
	}
	count(&r->supplied, placed);
	return placed;
}

/*
 * Top the supply up to its target (reaped first by the caller), in the
 * room ring_room() gives. At most half of what the page limit still allows
 * goes into one ring (all of it when the ring is empty), so that rings
 * never take the last pages from a guest that asks by doorbell.
 */
static unsigned ring_refill(struct pvmem_rings *r, struct ring_host *h)
{
	unsigned level = atomic_load(&h->level), want = ring_room(r, h), placed;
	uint64_t max = pvmem_max_pages(r->p), tot = pvmem_tot_pages(r->p);
	uint64_t room = tot < max ? max - tot : 0;
	int why = 0;

	if (level && want > room / 2)
		want = (unsigned)(room / 2);
	if (!want)
		return 0;
	placed = ring_fill(r, h, want, &why);
	if (placed < want) {
		count(&r->short_refills, 1);
		h->last_err = why;
	}
	return placed;
}

/* Returns (ring lock taken and dropped) ---------------------------------- */

/*
 * A returned frame may go straight back into the supply (no free, no
 * allocation, no change of charge: a per-CPU list's recycling) if it is
 * what FREE would accept and the supply would hold: a GUEST order-0 head,
 * pinned (owner 0: no migration can be under way), not isolated, not in
 * any supply.
 */
static bool frame_recyclable(struct pvmem_rings *r, uint64_t pfn)
{
	const struct page *pg = mm_pfn_to_page(r->mm, pfn);

	return pg &&
	       __atomic_load_n(&pg->state, __ATOMIC_RELAXED) == FRAME_GUEST &&
	       (pg->flags & PG_HEAD) && !(pg->flags & PG_ISOLATED) &&
	       pg->order == 0 && pg->owner == 0 && !bit_test(r, pfn);
}

/*
 * Move what the supply has room for from @pfns into it; recycled[i] says
 * which. Frees are kept out meanwhile (pvmem_block_frees()): a FREE of the
 * same frame from another vCPU cannot slip between the check and the
 * placing.
 */
static unsigned ring_recycle(struct pvmem_rings *r, struct ring_host *h,
			     const uint64_t *pfns, bool *recycled, unsigned n)
{
	unsigned done = 0, room;

	pvmem_block_frees(r->p);
	pthread_mutex_lock(&h->lock);
	room = ring_room(r, h);
	for (unsigned i = 0; i < n; i++) {
		recycled[i] = done < room && frame_recyclable(r, pfns[i]);
		if (recycled[i]) {
			slot_place(r, h, pfns[i]);
			done++;
		}
	}
	if (done)
		ring_publish(h);
	pthread_mutex_unlock(&h->lock);
	pvmem_unblock_frees(r->p);
	count(&r->recycled, done);
	return done;
}

/*
 * Copy the waiting return entries out, advance ret_cons, then free them
 * with FREE's checks outside the ring lock (a free may reap every ring).
 */
static unsigned ring_drain_returns(struct pvmem_rings *r, struct ring_host *h)
{
	uint64_t pfns[PVMEM_RING_RET_SLOTS], rest[PVMEM_RING_RET_SLOTS];
	int status[PVMEM_RING_RET_SLOTS];
	bool recycled[PVMEM_RING_RET_SLOTS];
	unsigned n, m = 0, freed, back;
	uint32_t gp;

	pthread_mutex_lock(&h->lock);
	gp = __atomic_load_n(&h->g->ret_prod, __ATOMIC_ACQUIRE);
	n = gp - h->ret_cons;
	if (n > PVMEM_RING_RET_SLOTS) {
		if (!h->bad_prod || gp != h->bad_prod_val)
			ring_error(r, h, -ERANGE, gp, &r->bad_index);
		h->bad_prod = true;
		h->bad_prod_val = gp;
		ring_publish(h);
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	h->bad_prod = false;
	for (unsigned i = 0; i < n; i++)
		pfns[i] = __atomic_load_n(
			&h->g->ret[(h->ret_cons + i) & RET_MASK],
			__ATOMIC_RELAXED);
	h->ret_cons = gp;
	if (n)
		ring_reap(r, h); /* frames taken, then returned */
	ring_publish(h);
	pthread_mutex_unlock(&h->lock);
	if (!n)
		return 0;
	back = ring_recycle(r, h, pfns, recycled, n);
	for (unsigned i = 0; i < n; i++)
		if (!recycled[i])
			rest[m++] = pfns[i];
	freed = m ? pvmem_free_frames(r->p, rest, m, status) : 0;
	count(&r->returned, back + freed);
	if (freed == m)
		return n;
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < m; i++)
		if (status[i])
			ring_error(r, h, status[i], rest[i], &r->bad_return);
	ring_publish(h);
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Rings ------------------------------------------------------------------ */

static unsigned rings_nr(struct pvmem_rings *r)
{
	return atomic_load_explicit(&r->nr, memory_order_acquire);
}

static void set_target(struct pvmem_rings *r, struct ring_host *h,
		       unsigned target)
{
	unsigned old = atomic_load(&h->target);

	if (target > old)
		count(&r->grows, 1);
	else if (target < old)
		count(&r->shrinks, 1);
	atomic_store(&h->target, target);
}

/*
 * A kick means the guest had to exit: the supply fell below sup_low (or
 * ran dry). So the demand outpaced the target: double it, as Linux raises
 * pcp->high for a CPU whose lists keep running empty.
 */
static void ring_grow(struct pvmem_rings *r, struct ring_host *h)
{
	unsigned t = atomic_load(&h->target);

	if (t < PVMEM_RING_MIN_TARGET)
		t = PVMEM_RING_MIN_TARGET;
	else if (atomic_load(&h->level) < t / 4 + 1)
		t = t * 2 > PVMEM_RING_SUP_SLOTS ? PVMEM_RING_SUP_SLOTS : t * 2;
	set_target(r, h, t);
}

/*
 * Supply frames taken back are free again, and with populate ahead they
 * may be backed although the guest never touched them: release the
 * backing of free blocks as a FREE batch does (the device's default
 * order), so host RSS still follows what the guest holds. The frames just
 * freed sit on this thread's per-CPU list, the last of them exactly the
 * populated ones (freed newest slot first): give them to the buddy lists
 * first, or their 2 MiB blocks never merge. The thread does the same for
 * the returns it freed when it goes idle and when it ends. Called with no
 * ring lock held.
 */
static void rings_release(struct pvmem_rings *r, uint64_t reclaimed)
{
	if (!reclaimed || !r->cfg.populate)
		return;
	mm_drain_own_pcp(r->mm);
	mm_report_free(r->mm, PVMEM_DEFAULT_REPORT_ORDER);
}

/*
 * Drain on demand: every ring's returns (frames the guest gave back but
 * the host has not freed yet are still GUEST: pinned, charged), then every
 * supply but @skip's.
 */
static uint64_t rings_reclaim_except(struct pvmem_rings *r, unsigned skip)
{
	uint64_t back = 0, sup = 0;
	unsigned nr = rings_nr(r);

	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];

		back += ring_drain_returns(r, h);
		if (i == skip)
			continue;
		pthread_mutex_lock(&h->lock);
		sup += ring_reclaim_to(r, h, 0);
		ring_publish(h);
		pthread_mutex_unlock(&h->lock);
	}
	rings_release(r, sup);
	return back + sup;
}

static void thread_wake(struct pvmem_rings *r)
{
	if (!r->thread_running)
		return;
	pthread_mutex_lock(&r->tlock);
	if (!r->wanted) {
		r->wanted = true;
		pthread_cond_signal(&r->tcond);
	}
	pthread_mutex_unlock(&r->tlock);
}

int pvmem_rings_kick(struct pvmem_rings *r, uint32_t value)
{
	unsigned i = value & ~PVMEM_KICK_DRAIN;
	struct ring_host *h;
	uint64_t back;
	bool empty;

	if (i >= rings_nr(r)) {
		count(&r->bad_kick, 1);
		return -EINVAL;
	}
	h = &r->rings[i];
	count(&r->kicks, 1);
	pthread_mutex_lock(&h->lock);
	if (value & PVMEM_KICK_DRAIN) {
		/* Target 0 first: no return is recycled into the supply. */
		set_target(r, h, 0);
		pthread_mutex_unlock(&h->lock);
		ring_drain_returns(r, h);
		pthread_mutex_lock(&h->lock);
		back = ring_reclaim_to(r, h, 0);
		count(&r->drains, 1);
		ring_publish(h);
		pthread_mutex_unlock(&h->lock);
		rings_release(r, back);
		return 0;
	}
	/* The demand as the guest met it: before the returns come back. */
	ring_reap(r, h);
	h->last_take_ns = now_ns(r); /* a kick is demand: no decay now */
	empty = atomic_load(&h->level) == 0;
	if (empty)
		count(&r->kicks_empty, 1);
	ring_grow(r, h);
	pthread_mutex_unlock(&h->lock);
	ring_drain_returns(r, h);
	pthread_mutex_lock(&h->lock);
	ring_refill(r, h);
	if (empty && !atomic_load(&h->level)) {
		/* The limit or the allocator: take the other rings' back. */
		pthread_mutex_unlock(&h->lock);
		rings_reclaim_except(r, i);
		pthread_mutex_lock(&h->lock);
		ring_refill(r, h);
	}
	ring_publish(h);
	pthread_mutex_unlock(&h->lock);
	thread_wake(r);
	return 0;
}

/* One pass: every ring's returns, and with @refill its supply. */
static uint64_t rings_pass(struct pvmem_rings *r, bool refill)
{
	unsigned nr = rings_nr(r);
	uint64_t moved = 0;

	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];
		unsigned t;

		moved += ring_drain_returns(r, h);
		if (!refill)
			continue;
		pthread_mutex_lock(&h->lock);
		ring_reap(r, h);
		/* Most of the supply went since the last pass: grow. */
		t = atomic_load(&h->target);
		if (t && atomic_load(&h->level) < t / 4)
			ring_grow(r, h);
		moved += ring_refill(r, h);
		ring_publish(h);
		pthread_mutex_unlock(&h->lock);
	}
	return moved;
}

uint64_t pvmem_rings_service(struct pvmem_rings *r)
{
	return rings_pass(r, true);
}

uint64_t pvmem_rings_reclaim(struct pvmem_rings *r)
{
	return rings_reclaim_except(r, UINT32_MAX);
}

uint64_t pvmem_rings_hold(struct pvmem_rings *r)
{
	atomic_fetch_add(&r->held, 1);
	return pvmem_rings_reclaim(r);
}

void pvmem_rings_unhold(struct pvmem_rings *r)
{
	atomic_store(&r->quiet_until, now_ns(r) + RING_QUIET_NS);
	atomic_fetch_sub(&r->held, 1);
}

bool pvmem_rings_holds(struct pvmem_rings *r, uint64_t pfn)
{
	unsigned nr;

	if (!r || !bit_test(r, pfn))
		return false;
	nr = rings_nr(r);
	for (unsigned i = 0; i < nr && bit_test(r, pfn); i++) {
		struct ring_host *h = &r->rings[i];

		pthread_mutex_lock(&h->lock);
		ring_reap_all(r, h);
		pthread_mutex_unlock(&h->lock);
	}
	return bit_test(r, pfn);
}

bool pvmem_rings_hold_any(struct pvmem_rings *r, uint64_t pfn, uint64_t nr)
{
	if (!r || !rings_nr(r))
		return false;
	for (uint64_t i = 0; i < nr && pfn + i < r->nr_pfns; i++)
		if (bit_test(r, pfn + i) && pvmem_rings_holds(r, pfn + i))
			return true;
	return false;
}

uint64_t pvmem_rings_drain_returns(struct pvmem_rings *r)
{
	return r ? rings_pass(r, false) : 0;
}

uint64_t pvmem_rings_decay(struct pvmem_rings *r, uint64_t idle_ns)
{
	unsigned nr = rings_nr(r);
	uint64_t back = 0;

	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];
		uint64_t now;
		unsigned t;

		pthread_mutex_lock(&h->lock);
		ring_reap(r, h);
		now = now_ns(r);
		t = atomic_load(&h->target);
		if (t && now >= h->last_take_ns &&
		    now - h->last_take_ns >= idle_ns) {
			t = t / 2 < PVMEM_RING_MIN_TARGET ? 0 : t / 2;
			set_target(r, h, t);
			back += ring_reclaim_to(r, h, t);
			h->last_take_ns = now;
			ring_publish(h);
		}
		pthread_mutex_unlock(&h->lock);
	}
	rings_release(r, back);
	return back;
}

/* Populate ahead ---------------------------------------------------------- */

/*
 * How far ahead of the guest's take index the host populates: two host
 * huge pages of frames, ~0.4 ms of a guest touching memory as fast as it
 * can, about what the thread zeroes in that time. No further: frames the
 * guest never takes (the rest of a supply when a burst ends) stay as cheap
 * as they were, unbacked.
 */
#define POP_AHEAD  1024u
#define POP_MAX	   8 /* host pages per ring and call */
#define POP_FRAMES (GUEST_MEM_HUGE_SIZE / PAGE_SIZE)

/*
 * The 2 MiB pages of the slots up to POP_AHEAD past the guest's take
 * index not looked at yet (ring lock held), in slot order, which is the
 * order the guest takes them; each once while consecutive slots share
 * it. The guest's own sup_cons says only where to look: a lie moves the
 * window within the slots the host filled, nothing else.
 */
static unsigned ring_pop_collect(struct ring_host *h, uint64_t *pages)
{
	uint32_t gc = __atomic_load_n(&h->g->sup_cons, __ATOMIC_RELAXED);
	uint32_t pos = h->pop_pos, avail = h->sup_prod - h->cons_seen, end;
	unsigned n = 0;

	if (gc - h->cons_seen > avail)
		gc = h->cons_seen;
	if (pos - h->cons_seen > avail ||
	    pos - h->cons_seen < gc - h->cons_seen)
		pos = gc;
	end = h->sup_prod - gc > POP_AHEAD ? gc + POP_AHEAD : h->sup_prod;
	for (; pos != end && n < POP_MAX; pos++) {
		uint64_t pfn = h->shadow[pos & SUP_MASK];

		if (!pfn || pfn / POP_FRAMES + 1 == h->pop_last)
			continue;
		h->pop_last = pfn / POP_FRAMES + 1;
		pages[n++] = pfn / POP_FRAMES;
	}
	h->pop_pos = pos;
	return n;
}

/*
 * Without the ring lock: a vCPU's kick never waits for a huge page to be
 * zeroed. So a frame may leave the supply meanwhile; populating it anyway
 * is harmless: its contents do not change (a free frame still reads as
 * zeros), it only costs host memory until the host next releases it.
 */
uint64_t pvmem_rings_populate(struct pvmem_rings *r)
{
	unsigned nr = rings_nr(r);
	uint64_t done = 0, pages[POP_MAX];

	if (!r->cfg.populate || atomic_load(&r->populate_off))
		return 0;
	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];
		unsigned n;

		pthread_mutex_lock(&h->lock);
		n = ring_pop_collect(h, pages);
		pthread_mutex_unlock(&h->lock);
		for (unsigned k = 0; k < n; k++) {
			int err = guest_mem_populate(
				r->mem, pages[k] * GUEST_MEM_HUGE_SIZE,
				GUEST_MEM_HUGE_SIZE);

			if (!err) {
				done++;
				continue;
			}
			count(&r->populate_failed, 1);
			if (err == -EINVAL) {
				atomic_store(&r->populate_off, true);
				return done;
			}
		}
	}
	count(&r->populated, done);
	return done;
}

/* Refill thread ---------------------------------------------------------- */

static void rings_set_polling(struct pvmem_rings *r, bool on)
{
	unsigned nr = rings_nr(r);

	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];

		pthread_mutex_lock(&h->lock);
		h->flags = !on			 ? 0
			   : r->cfg.refill_ahead ? PVMEM_RING_F_POLL_SUP |
							   PVMEM_RING_F_POLL_RET
						 : PVMEM_RING_F_POLL_RET;
		ring_publish(h);
		pthread_mutex_unlock(&h->lock);
	}
}

static bool rings_hold_frames(struct pvmem_rings *r)
{
	unsigned nr = rings_nr(r);

	for (unsigned i = 0; i < nr; i++)
		if (atomic_load(&r->rings[i].level))
			return true;
	return false;
}

/*
 * Woken by a kick, the thread polls every ring each RING_POLL_NS while
 * frames move (draining returns; refilling too with refill_ahead), and
 * says so in each header (PVMEM_RING_F_POLL_*) so the guest stops kicking
 * at that watermark; RING_POLL_LINGER_NS after the last movement it clears
 * the flags and sleeps until the next kick (waking for the idle decay
 * while rings hold frames).
 */
static void *rings_thread(void *arg)
{
	struct pvmem_rings *r = arg;
	uint64_t last_move = 0, last_decay = now_ns(r);
	bool polling = false;

	vmm_seccomp_enter(VMM_THREAD_PVMEM_RING);
	pthread_mutex_lock(&r->tlock);
	while (!r->stop) {
		uint64_t now;

		if (!r->wanted && !polling) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(RING_DECAY_NS / 2);
			ts.tv_sec += ts.tv_nsec / 1000000000l;
			ts.tv_nsec %= 1000000000l;
			if (rings_hold_frames(r))
				pthread_cond_timedwait(&r->tcond, &r->tlock,
						       &ts);
			else
				pthread_cond_wait(&r->tcond, &r->tlock);
		}
		if (r->stop)
			break;
		if (r->wanted) {
			r->wanted = false;
			last_move = now_ns(r);
			if (!polling)
				rings_set_polling(r, polling = true);
		}
		pthread_mutex_unlock(&r->tlock);
		now = now_ns(r);
		if (rings_pass(r, r->cfg.refill_ahead)) {
			count(&r->polls, 1);
			last_move = now;
		}
		if (pvmem_rings_populate(r))
			last_move = now;
		if (polling && now - last_move > RING_POLL_LINGER_NS) {
			rings_set_polling(r, polling = false);
			rings_release(r, 1); /* the returns it freed */
		}
		if (now - last_decay > RING_DECAY_NS / 2) {
			pvmem_rings_decay(r, RING_DECAY_NS);
			last_decay = now;
		}
		/* Frames moved: the guest is busy, look again at once. */
		if (polling && last_move == now) {
			sched_yield();
		} else if (polling) {
			struct timespec ts = {0, (long)RING_POLL_NS};

			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&r->tlock);
	}
	pthread_mutex_unlock(&r->tlock);
	rings_release(r, 1);
	return NULL;
}

/* Setup ------------------------------------------------------------------ */

/* One ring: 2 pages, GUEST -> DMA of PVMEM_RING_OWNER, zeroed. */
static int ring_alloc(struct pvmem_rings *r, struct ring_host *h, unsigned i)
{
	uint64_t pfn;
	int err;

	/*
	 * Until it is DMA the fresh block is a GUEST block: a vCPU that
	 * guesses its pfn could FREE or SPLIT it in between. Both take the
	 * frees lock for reading, as DMA_ALLOC does for writing here.
	 */
	pvmem_block_frees(r->p);
	err = mm_alloc_pages(r->mm, GFP_KERNEL | __GFP_ZERO, PVMEM_RING_ORDER,
			     &pfn);
	if (!err) {
		err = mm_set_frames_state(r->mm, pfn, 1u << PVMEM_RING_ORDER,
					  FRAME_GUEST, FRAME_DMA,
					  PVMEM_RING_OWNER);
		if (err)
			mm_free_pages(r->mm, pfn, PVMEM_RING_ORDER);
	}
	pvmem_unblock_frees(r->p);
	if (err)
		return err;
	h->g = guest_mem_ptr(r->mem, MM_PFN_TO_ADDR(pfn), PVMEM_RING_BYTES);
	h->pfn = pfn;
	h->index = i;
	ring_publish(h);
	return 0;
}

static void ring_free(struct pvmem_rings *r, struct ring_host *h)
{
	/* Back to GUEST, then free: mm frees only GUEST or DMA blocks. */
	mm_set_frames_state(r->mm, h->pfn, 1u << PVMEM_RING_ORDER, FRAME_DMA,
			    FRAME_GUEST, 0);
	mm_free_pages(r->mm, h->pfn, PVMEM_RING_ORDER);
}

static int rings_alloc(struct pvmem_rings *r, unsigned count, uint64_t *gpas)
{
	unsigned i;
	int err = 0;

	if (!pvmem_charge_frames(r->p, (uint64_t)count << PVMEM_RING_ORDER))
		return -EDQUOT;
	/*
	 * Only the locks of rings set up: each sits on its own 32 KiB
	 * ring_host, so initialising all PVMEM_MAX_RINGS would touch 64
	 * pages (256 KiB of RSS) for the one or two rings a guest uses.
	 */
	for (; r->nr_locks < count; r->nr_locks++)
		pthread_mutex_init(&r->rings[r->nr_locks].lock, NULL);
	for (i = 0; i < count && !err; i++) {
		err = ring_alloc(r, &r->rings[i], i);
		gpas[i] = MM_PFN_TO_ADDR(r->rings[i].pfn);
	}
	if (!err)
		return 0;
	for (unsigned k = 0; k + 1 < i; k++)
		ring_free(r, &r->rings[k]);
	pvmem_adjust_tot_pages(r->p,
			       -(int64_t)((uint64_t)count << PVMEM_RING_ORDER));
	return err;
}

static int thread_start(struct pvmem_rings *r)
{
	int err;

	if (!r->cfg.thread || r->thread_running || r->stop)
		return 0;
	err = pthread_create(&r->thread, NULL, rings_thread, r);
	if (err)
		return -err;
	r->thread_running = true;
	return 0;
}

/*
 * The host side of the rings and the bitmap, at the first setup (under
 * setup_lock): 2 MiB of ring state and a byte per pfn that a guest without
 * rings never needs. Both are fresh zero mappings (calloc mmaps the 2 MiB)
 * that stay unbacked but for the rings set up (rings_alloc()) and the
 * frames marked. Readers reach rings only below rings_nr(), published
 * after this; bit_test() loads bits with acquire.
 */
static int rings_host_alloc(struct pvmem_rings *r)
{
	struct ring_host *rings;
	uint8_t *bits;

	if (r->rings)
		return 0;
	bits = zero_pages_alloc(r->nr_pfns);
	rings = calloc(PVMEM_MAX_RINGS, sizeof(*rings));
	if (!bits || !rings) {
		zero_pages_free(bits, r->nr_pfns);
		free(rings);
		return -ENOMEM;
	}
	r->rings = rings;
	__atomic_store_n(&r->bits, bits, __ATOMIC_RELEASE);
	return 0;
}

int pvmem_rings_setup(struct pvmem_rings *r, unsigned count, uint64_t *gpas)
{
	int err;

	if (count == 0)
		return -EINVAL;
	if (count > PVMEM_MAX_RINGS)
		return -E2BIG;
	pthread_mutex_lock(&r->setup_lock);
	if (rings_nr(r)) {
		err = -EBUSY;
	} else {
		err = rings_host_alloc(r);
		if (!err)
			err = rings_alloc(r, count, gpas);
		if (!err)
			err = thread_start(r);
		if (!err)
			atomic_store_explicit(&r->nr, count,
					      memory_order_release);
	}
	pthread_mutex_unlock(&r->setup_lock);
	return err;
}

int pvmem_rings_create(struct pvmem_rings **out, struct pvmem *p, struct mm *mm,
		       const struct guest_mem *mem,
		       const struct pvmem_rings_config *cfg)
{
	struct pvmem_rings *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	r->p = p;
	r->mm = mm;
	r->mem = mem;
	r->nr_pfns = MM_ADDR_TO_PFN(guest_mem_end(mem));
	pthread_mutex_init(&r->setup_lock, NULL);
	pthread_mutex_init(&r->tlock, NULL);
	pthread_cond_init(&r->tcond, NULL);
	*out = r;
	return 0;
}

uint64_t pvmem_rings_quiesce(struct pvmem_rings *r)
{
	pthread_mutex_lock(&r->setup_lock);
	if (r->thread_running) {
		pthread_mutex_lock(&r->tlock);
		r->stop = true;
		pthread_cond_signal(&r->tcond);
		pthread_mutex_unlock(&r->tlock);
		pthread_join(r->thread, NULL);
		r->thread_running = false;
	}
	pthread_mutex_unlock(&r->setup_lock);
	return pvmem_rings_reclaim(r);
}

void pvmem_rings_destroy(struct pvmem_rings *r)
{
	if (!r)
		return;
	pvmem_rings_quiesce(r);
	for (unsigned i = 0; i < r->nr_locks; i++)
		pthread_mutex_destroy(&r->rings[i].lock);
	pthread_mutex_destroy(&r->setup_lock);
	pthread_mutex_destroy(&r->tlock);
	pthread_cond_destroy(&r->tcond);
	zero_pages_free(r->bits, r->nr_pfns);
	free(r->rings);
	free(r);
}

/* Check and stats -------------------------------------------------------- */

static int check_ring(struct pvmem_rings *r, struct ring_host *h, char *why,
		      size_t n, uint64_t *frames)
{
	unsigned level = 0;

	ring_reap_all(r, h);
	for (uint32_t pos = h->cons_seen; pos != h->sup_prod; pos++) {
		uint64_t pfn = h->shadow[pos & SUP_MASK];
		const struct page *pg = pfn ? mm_pfn_to_page(r->mm, pfn) : NULL;

		if (!pfn)
			continue;
		level++;
		if (!pg || pg->state != FRAME_GUEST || !(pg->flags & PG_HEAD) ||
		    pg->order != 0 || !bit_test(r, pfn)) {
			snprintf(why, n,
				 "ring %u: supply pfn %#llx is not a marked "
				 "GUEST order-0 head",
				 h->index, (unsigned long long)pfn);
			return -EUCLEAN;
		}
	}
	if (level != atomic_load(&h->level)) {
		snprintf(why, n, "ring %u: %u frames in the supply, counted %u",
			 h->index, level, atomic_load(&h->level));
		return -EUCLEAN;
	}
	*frames += level;
	return 0;
}

int pvmem_rings_check(struct pvmem_rings *r, char *why, size_t why_size)
{
	unsigned nr = rings_nr(r);
	const uint8_t *map = __atomic_load_n(&r->bits, __ATOMIC_ACQUIRE);
	uint64_t frames = 0, bits = 0;
	int err = 0;

	for (unsigned i = 0; i < nr; i++)
		pthread_mutex_lock(&r->rings[i].lock);
	for (unsigned i = 0; i < nr && !err; i++)
		err = check_ring(r, &r->rings[i], why, why_size, &frames);
	for (uint64_t pfn = 0; map && pfn < r->nr_pfns; pfn++)
		bits += __atomic_load_n(&map[pfn], __ATOMIC_RELAXED) != 0;
	if (!err && bits != frames) {
		snprintf(why, why_size,
			 "rings: %llu frames marked, %llu in "
			 "supplies",
			 (unsigned long long)bits, (unsigned long long)frames);
		err = -EUCLEAN;
	}
	for (unsigned i = nr; i-- > 0;)
		pthread_mutex_unlock(&r->rings[i].lock);
	return err;
}

void pvmem_rings_get_stats(struct pvmem_rings *r, struct pvmem_ring_stats *out)
{
	unsigned nr = rings_nr(r);

	*out = (struct pvmem_ring_stats){
		.rings = nr,
		.kicks = atomic_load(&r->kicks),
		.kicks_empty = atomic_load(&r->kicks_empty),
		.supplied = atomic_load(&r->supplied),
		.taken = atomic_load(&r->taken),
		.reclaimed = atomic_load(&r->reclaimed),
		.returned = atomic_load(&r->returned),
		.drains = atomic_load(&r->drains),
		.grows = atomic_load(&r->grows),
		.shrinks = atomic_load(&r->shrinks),
		.polls = atomic_load(&r->polls),
		.short_refills = atomic_load(&r->short_refills),
		.bad_index = atomic_load(&r->bad_index),
		.bad_return = atomic_load(&r->bad_return),
		.bad_kick = atomic_load(&r->bad_kick),
		.lied_cons = atomic_load(&r->lied_cons),
		.recycled = atomic_load(&r->recycled),
		.populated = atomic_load(&r->populated),
		.populate_failed = atomic_load(&r->populate_failed),
	};
	out->errors = out->bad_index + out->bad_return + out->bad_kick +
		      out->lied_cons;
	for (unsigned i = 0; i < nr; i++) {
		struct ring_host *h = &r->rings[i];
		uint32_t waiting =
			__atomic_load_n(&h->g->ret_prod, __ATOMIC_RELAXED) -
			__atomic_load_n(&h->ret_cons, __ATOMIC_RELAXED);

		out->supply_frames += atomic_load(&h->level);
		out->supply_target += atomic_load(&h->target);
		/* The guest's index: a lie reads as at most a full ring. */
		out->returns_waiting += waiting > PVMEM_RING_RET_SLOTS
						? PVMEM_RING_RET_SLOTS
						: waiting;
	}
}

int pvmem_rings_ring_info(struct pvmem_rings *r, unsigned i, unsigned *target,
			  unsigned *level)
{
	if (i >= rings_nr(r))
		return -EINVAL;
	*target = atomic_load(&r->rings[i].target);
	*level = atomic_load(&r->rings[i].level);
	return 0;
}

static const struct stat_field pvmem_ring_stat_fields[] = {
	STAT_FIELD(struct pvmem_ring_stats, rings),
	STAT_FIELD(struct pvmem_ring_stats, supply_frames),
	STAT_FIELD(struct pvmem_ring_stats, supply_target),
	STAT_FIELD(struct pvmem_ring_stats, returns_waiting),
	STAT_FIELD(struct pvmem_ring_stats, kicks),
	STAT_FIELD(struct pvmem_ring_stats, kicks_empty),
	STAT_FIELD(struct pvmem_ring_stats, supplied),
	STAT_FIELD(struct pvmem_ring_stats, taken),
	STAT_FIELD(struct pvmem_ring_stats, reclaimed),
	STAT_FIELD(struct pvmem_ring_stats, returned),
	STAT_FIELD(struct pvmem_ring_stats, recycled),
	STAT_FIELD(struct pvmem_ring_stats, drains),
	STAT_FIELD(struct pvmem_ring_stats, grows),
	STAT_FIELD(struct pvmem_ring_stats, shrinks),
	STAT_FIELD(struct pvmem_ring_stats, polls),
	STAT_FIELD(struct pvmem_ring_stats, short_refills),
	STAT_FIELD(struct pvmem_ring_stats, populated),
	STAT_FIELD(struct pvmem_ring_stats, populate_failed),
	STAT_FIELD(struct pvmem_ring_stats, errors),
	STAT_FIELD(struct pvmem_ring_stats, bad_index),
	STAT_FIELD(struct pvmem_ring_stats, bad_return),
	STAT_FIELD(struct pvmem_ring_stats, bad_kick),
	STAT_FIELD(struct pvmem_ring_stats, lied_cons),
};

const struct stat_table pvmem_ring_stat_table =
	STAT_TABLE(pvmem_ring_stat_fields);
