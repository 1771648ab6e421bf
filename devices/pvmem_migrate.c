// SPDX-License-Identifier: MIT
/*
 * devices/pvmem_migrate.c - cooperative migration of the guest's frames
 * (pvmem ABI 1.1, docs/hosted-memory.md "Migration").
 *
 * mm/ moves a block only through its owner. This file is the owner of two
 * kinds of blocks: the guest's movable blocks and ballooned frames. Their
 * migrate() cannot move anything by itself (the guest holds pointers), so
 * it posts a request into the guest's ring and says -EINPROGRESS; source
 * and target stay isolated in mm/ until the request ends, which happens
 * exactly once, by whichever comes first:
 *
 *   answer 0    the guest copied: mm_migrate_finish(commit) frees src
 *   answer < 0  the guest refused: mm_migrate_finish(cancel)
 *   FREE src    the guest let go of the block first: cancel, then free
 *   deadline    the guest did not answer in time: cancel
 *   destroy     the VM goes away: cancel
 *
 * A request is claimed (taken out of the table) under m->lock and ended
 * outside it, so two paths can never end the same request, and mm/ (which
 * calls back into the owner) is never entered with m->lock held.
 *
 * The target is charged to tot_pages while the request is in flight (the
 * guest holds both copies), so tot_pages == GUEST + DMA frames at all
 * times; ending the request takes one of the two charges back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/pvmem.h"
#include "devices/pvmem_migrate.h"
#include "vmm/seccomp.h"
#include "vmm/stat_fields.h"

_Static_assert(sizeof(struct pvmem_mig_req) == 32, "request is 32 bytes");
_Static_assert(sizeof(struct pvmem_mig_ans) == 32, "answer is 32 bytes");
_Static_assert(sizeof(struct pvmem_mig_ring) <= PVMEM_BLOCK_SIZE,
	       "the ring is one page");
_Static_assert((PVMEM_MIG_SLOTS & (PVMEM_MIG_SLOTS - 1)) == 0,
	       "slots are a power of two");
_Static_assert(PVMEM_ESTALE == -ESTALE && PVMEM_EBUSY == -EBUSY,
	       "ABI status values are Linux errnos");

/* A request in flight. */
struct mig_req {
	uint64_t src, dst;
	uint64_t deadline, notify_at; /* ns */
	uint32_t seq;
	uint8_t order, kind;
	bool used, notified;
};

struct pvmem_migrate {
	struct pvmem *p;
	struct mm *mm;
	const struct guest_mem *mem;
	struct pvmem_migrate_config cfg;
	int guest_owner, balloon_owner;

	pthread_mutex_t lock;	     /* everything below but the atomics */
	struct pvmem_mig_ring *ring; /* host view of the guest's ring */
	uint64_t ring_pfn;
	uint32_t head, log_head; /* our copies: never read back */
	struct mig_req reqs[PVMEM_MIG_SLOTS];
	atomic_bool paused;
	atomic_uint in_flight;
	atomic_uint_fast64_t next_deadline; /* UINT64_MAX: none */

	pthread_t timer;
	pthread_cond_t timer_cond;
	bool timer_running, timer_stop;

	atomic_uint_fast64_t posted, committed, refused, timed_out;
	atomic_uint_fast64_t commit_failed;
	atomic_uint_fast64_t cancelled_free, bad_answers, ring_full;
	atomic_uint_fast64_t balloon_paused, adopted, scanned;
};

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t mig_now(struct pvmem_migrate *m)
{
	struct timespec ts;

	if (m->cfg.clock_ns)
		return m->cfg.clock_ns(m->cfg.clock_opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Guest-written ring words: read once, as the untrusted values they are. */
static uint32_t ring_read(const uint32_t *word)
{
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/* Free request slots in the ring; a nonsense tail reads as none. */
static uint32_t ring_room(struct pvmem_migrate *m)
{
	uint32_t used = m->head - ring_read(&m->ring->tail);

	return used > PVMEM_MIG_SLOTS ? 0 : PVMEM_MIG_SLOTS - used;
}

static uint32_t log_room(struct pvmem_migrate *m)
{
	uint32_t used = m->log_head - ring_read(&m->ring->log_tail);

	return used > PVMEM_MIG_LOG ? 0 : PVMEM_MIG_LOG - used;
}

/* The table (m->lock held) --------------------------------------------- */

static struct mig_req *find_src(struct pvmem_migrate *m, uint64_t src)
{
	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++)
		if (m->reqs[i].used && m->reqs[i].src == src)
			return &m->reqs[i];
	return NULL;
}

static struct mig_req *free_slot(struct pvmem_migrate *m)
{
	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++)
		if (!m->reqs[i].used)
			return &m->reqs[i];
	return NULL;
}

static void update_deadline(struct pvmem_migrate *m)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++)
		if (m->reqs[i].used && m->reqs[i].deadline < next)
			next = m->reqs[i].deadline;
	atomic_store(&m->next_deadline, next);
}

/* Take @r out of the table: from here only the caller ends it. */
static struct mig_req claim(struct pvmem_migrate *m, struct mig_req *r)
{
	struct mig_req copy = *r;

	r->used = false;
	atomic_fetch_sub(&m->in_flight, 1);
	update_deadline(m);
	return copy;
}

/* Ending a request (no lock held) ---------------------------------------- */

/*
 * Cancel: the target goes back to the free lists and the source to its
 * place; the target's charge goes too. mm_migrate_finish() cannot fail to
 * cancel a pair it isolated.
 */
static void end_cancel(struct pvmem_migrate *m, const struct mig_req *r,
		       int why)
{
	mm_migrate_finish(m->mm, r->src, r->dst, why);
	pvmem_adjust_tot_pages(m->p, -(int64_t)(1ll << r->order));
}

/*
 * Commit: the guest has copied (MOVE) or swapped its list (BALLOON). mm/
 * frees src; dst takes src's state. MOVE: src's charge goes, dst's stays.
 * BALLOON: src was not charged, dst is a balloon frame now: its charge
 * goes. Either way one block's worth. Return: 0 or -ESTALE (mm/ found the
 * pair changed and cancelled instead).
 */
static int end_commit(struct pvmem_migrate *m, const struct mig_req *r)
{
	int err = mm_migrate_finish(m->mm, r->src, r->dst, 0);

	pvmem_adjust_tot_pages(m->p, -(int64_t)(1ll << r->order));
	return err ? -ESTALE : 0;
}

/* Posting (the owners' migrate()) ---------------------------------------- */

/*
 * Write a request into the ring and the table; charge the target. Return
 * -EINPROGRESS, or -EAGAIN when the ring or the table is full (mm/ then
 * puts the block back) or there is no ring.
 */
static int post(struct pvmem_migrate *m, uint64_t dst, uint64_t src,
		unsigned order, uint8_t kind)
{
	struct pvmem_mig_req *slot;
	struct mig_req *r;
	uint64_t now = mig_now(m);

	pthread_mutex_lock(&m->lock);
	r = m->ring ? free_slot(m) : NULL;
	if (!r || !ring_room(m)) {
		pthread_mutex_unlock(&m->lock);
		count(&m->ring_full, 1);
		return -EAGAIN;
	}
	*r = (struct mig_req){
		.src = src,
		.dst = dst,
		.deadline = now + m->cfg.timeout_ms * 1000000ull,
		.notify_at = now + m->cfg.timeout_ms * 500000ull,
		.seq = m->head,
		.order = (uint8_t)order,
		.kind = kind,
		.used = true,
	};
	pvmem_adjust_tot_pages(m->p, 1ll << order);
	slot = &m->ring->reqs[m->head % PVMEM_MIG_SLOTS];
	*slot = (struct pvmem_mig_req){.src = src,
				       .dst = dst,
				       .seq = m->head,
				       .order = (uint8_t)order,
				       .kind = kind};
	m->head++;
	__atomic_store_n(&m->ring->head, m->head, __ATOMIC_RELEASE);
	atomic_fetch_add(&m->in_flight, 1);
	if (r->deadline < atomic_load(&m->next_deadline))
		atomic_store(&m->next_deadline, r->deadline);
	pthread_cond_signal(&m->timer_cond);
	pthread_mutex_unlock(&m->lock);
	count(&m->posted, 1);
	return -EINPROGRESS;
}

static int guest_isolate(void *opaque, uint64_t pfn, unsigned order)
{
	struct pvmem_migrate *m = opaque;

	/* Nobody could answer a paused guest, or one without a ring. */
	if (atomic_load(&m->paused) || !pvmem_migrate_ready(m))
		return -EBUSY;
	return 0;
}

static int guest_migrate(void *opaque, uint64_t dst, uint64_t src,
			 unsigned order, enum migrate_mode mode)
{
	return post(opaque, dst, src, order, PVMEM_MIG_MOVE);
}

static void owner_putback(void *opaque, uint64_t pfn, unsigned order)
{
	/* Nothing of ours refers to an isolation that is over. */
}

static int balloon_isolate(void *opaque, uint64_t pfn, unsigned order)
{
	struct pvmem_migrate *m = opaque;
	int err = 0;

	pthread_mutex_lock(&m->lock);
	if (!m->ring || (atomic_load(&m->paused) && !log_room(m)))
		err = -EBUSY;
	pthread_mutex_unlock(&m->lock);
	return err;
}

/*
 * A paused guest runs no code: move the frame now and log it for the
 * driver, which applies the log before it next touches its list. The move
 * is finished here, before the log entry is written, so the log names only
 * moves that happened.
 */
static int balloon_move_paused(struct pvmem_migrate *m, uint64_t dst,
			       uint64_t src)
{
	struct pvmem_mig_log *e;

	pthread_mutex_lock(&m->lock);
	if (!atomic_load(&m->paused)) {
		/* Resumed meanwhile: the guest's driver does it. */
		pthread_mutex_unlock(&m->lock);
		return post(m, dst, src, 0, PVMEM_MIG_BALLOON);
	}
	if (!log_room(m)) {
		pthread_mutex_unlock(&m->lock);
		return -EAGAIN;
	}
	if (mm_migrate_finish(m->mm, src, dst, 0)) {
		pthread_mutex_unlock(&m->lock);
		return -EINPROGRESS; /* mm/ cancelled it: nothing moved */
	}
	e = &m->ring->log[m->log_head % PVMEM_MIG_LOG];
	*e = (struct pvmem_mig_log){src, dst};
	m->log_head++;
	__atomic_store_n(&m->ring->log_head, m->log_head, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	count(&m->balloon_paused, 1);
	/* Already finished: mm/ must not touch the pair again. */
	return -EINPROGRESS;
}

static int balloon_migrate(void *opaque, uint64_t dst, uint64_t src,
			   unsigned order, enum migrate_mode mode)
{
	struct pvmem_migrate *m = opaque;

	if (order != 0)
		return -EINVAL; /* the balloon holds single frames */
	if (atomic_load(&m->paused))
		return balloon_move_paused(m, dst, src);
	return post(m, dst, src, order, PVMEM_MIG_BALLOON);
}

static const struct mm_movable_ops guest_ops = {
	.isolate = guest_isolate,
	.migrate = guest_migrate,
	.putback = owner_putback,
};

static const struct mm_movable_ops balloon_ops = {
	.isolate = balloon_isolate,
	.migrate = balloon_migrate,
	.putback = owner_putback,
};

/* Answers ---------------------------------------------------------------- */

static int answer_one(struct pvmem_migrate *m, const struct pvmem_mig_ans *a)
{
	struct mig_req *r, req;

	if (a->reserved || a->order >= NR_PAGE_ORDERS || a->result > 0)
		return -EINVAL;
	if (!mm_pfn_to_page(m->mm, a->src) || !mm_pfn_to_page(m->mm, a->dst))
		return -ERANGE;
	pthread_mutex_lock(&m->lock);
	r = find_src(m, a->src);
	if (!r) {
		pthread_mutex_unlock(&m->lock);
		return -ESTALE;
	}
	if (r->dst != a->dst || r->order != a->order) {
		/* A wrong answer ends nothing: the deadline still runs. */
		pthread_mutex_unlock(&m->lock);
		return -EINVAL;
	}
	req = claim(m, r);
	pthread_mutex_unlock(&m->lock);
	if (a->result == 0) {
		if (end_commit(m, &req)) {
			count(&m->commit_failed, 1);
			return -ESTALE;
		}
		count(&m->committed, 1);
		return 0;
	}
	end_cancel(m, &req, a->result);
	count(&m->refused, 1);
	return 0;
}

unsigned pvmem_migrate_answer(struct pvmem_migrate *m,
			      struct pvmem_mig_ans *ents, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		ents[i].status = answer_one(m, &ents[i]);
		if (ents[i].status)
			count(&m->bad_answers, 1);
		else
			ok++;
	}
	return ok;
}

bool pvmem_migrate_cancel_src(struct pvmem_migrate *m, uint64_t pfn)
{
	struct mig_req *r, req;

	pthread_mutex_lock(&m->lock);
	r = find_src(m, pfn);
	if (!r) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	req = claim(m, r);
	pthread_mutex_unlock(&m->lock);
	end_cancel(m, &req, -ECANCELED);
	count(&m->cancelled_free, 1);
	return true;
}

/* Timeouts --------------------------------------------------------------- */

/* Claim every request due by @now (m->lock held); return how many. */
static unsigned claim_expired(struct pvmem_migrate *m, uint64_t now,
			      struct mig_req *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++)
		if (m->reqs[i].used && m->reqs[i].deadline <= now)
			out[n++] = claim(m, &m->reqs[i]);
	return n;
}

unsigned pvmem_migrate_expire(struct pvmem_migrate *m)
{
	struct mig_req due[PVMEM_MIG_SLOTS];
	uint64_t now;
	unsigned n;

	if (!atomic_load(&m->in_flight))
		return 0;
	now = mig_now(m);
	if (now < atomic_load(&m->next_deadline))
		return 0;
	pthread_mutex_lock(&m->lock);
	n = claim_expired(m, now, due);
	pthread_mutex_unlock(&m->lock);
	for (unsigned i = 0; i < n; i++)
		end_cancel(m, &due[i], -ETIMEDOUT);
	count(&m->timed_out, n);
	return n;
}

/* Requests due for a wake-up (m->lock held): mark them, say if any. */
static bool take_notify(struct pvmem_migrate *m, uint64_t now)
{
	bool any = false;

	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++) {
		struct mig_req *r = &m->reqs[i];

		if (r->used && !r->notified && r->notify_at <= now) {
			r->notified = true;
			any = true;
		}
	}
	return any;
}

/* The earliest deadline or wake-up still ahead (m->lock held). */
static uint64_t next_event(struct pvmem_migrate *m)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < PVMEM_MIG_SLOTS; i++) {
		const struct mig_req *r = &m->reqs[i];

		if (!r->used)
			continue;
		if (r->deadline < next)
			next = r->deadline;
		if (!r->notified && r->notify_at < next)
			next = r->notify_at;
	}
	return next;
}

static void *timer_main(void *arg)
{
	struct pvmem_migrate *m = arg;

	vmm_seccomp_enter(VMM_THREAD_MIGRATE_TIMER);
	pthread_mutex_lock(&m->lock);
	while (!m->timer_stop) {
		uint64_t next = next_event(m), now = mig_now(m);
		bool wake;

		if (next > now) {
			struct timespec ts = {0};

			if (next != UINT64_MAX) {
				ts.tv_sec = (time_t)(next / 1000000000ull);
				ts.tv_nsec = (long)(next % 1000000000ull);
				pthread_cond_timedwait(&m->timer_cond, &m->lock,
						       &ts);
			} else {
				pthread_cond_wait(&m->timer_cond, &m->lock);
			}
			continue;
		}
		wake = take_notify(m, now);
		pthread_mutex_unlock(&m->lock);
		if (wake && m->cfg.notify)
			m->cfg.notify(m->cfg.notify_opaque);
		pvmem_migrate_expire(m);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static int timer_cond_init(struct pvmem_migrate *m)
{
	pthread_condattr_t ca;
	int err;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	err = pthread_cond_init(&m->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	return -err;
}

/* Started with the ring: a VM whose guest never asks has no thread. */
static int timer_start(struct pvmem_migrate *m)
{
	int err;

	if (m->cfg.no_timer || m->timer_running)
		return 0;
	err = pthread_create(&m->timer, NULL, timer_main, m);
	if (err)
		return -err;
	m->timer_running = true;
	return 0;
}

/* Setup ------------------------------------------------------------------ */

bool pvmem_migrate_ready(struct pvmem_migrate *m)
{
	return __atomic_load_n(&m->ring, __ATOMIC_ACQUIRE) != NULL;
}

/* The ring page: GUEST -> DMA of PVMEM_MIG_RING_OWNER, pinned, zeroed. */
static int ring_alloc(struct pvmem_migrate *m, uint64_t *pfn)
{
	int err;

	if (pvmem_tot_pages(m->p) + 1 > pvmem_max_pages(m->p))
		return -EDQUOT;
	err = mm_alloc_pages(m->mm, GFP_KERNEL | __GFP_ZERO, 0, pfn);
	if (err)
		return err;
	err = mm_set_frames_state(m->mm, *pfn, 1, FRAME_GUEST, FRAME_DMA,
				  PVMEM_MIG_RING_OWNER);
	if (err) {
		mm_free_pages(m->mm, *pfn, 0);
		return err;
	}
	pvmem_adjust_tot_pages(m->p, 1);
	return 0;
}

int pvmem_migrate_setup(struct pvmem_migrate *m, uint64_t *gpa, uint32_t *slots)
{
	struct pvmem_mig_ring *ring;
	uint64_t pfn;
	int err = 0;

	/*
	 * The ring page is GUEST between its allocation and its change to DMA:
	 * frees are kept out meanwhile, as for a DMA_ALLOC, so that a FREE of
	 * it from another vCPU cannot take a page the guest was never given
	 * (and credit its quota). dma_lock before m->lock, as a FREE that
	 * cancels a move takes them.
	 */
	pvmem_block_frees(m->p);
	pthread_mutex_lock(&m->lock);
	if (!m->ring) {
		err = timer_start(m);
		if (!err)
			err = ring_alloc(m, &pfn);
		ring = err ? NULL
			   : guest_mem_ptr(m->mem, MM_PFN_TO_ADDR(pfn),
					   PVMEM_BLOCK_SIZE);
		if (!err && ring) {
			ring->magic = PVMEM_MIG_MAGIC;
			ring->nr_slots = PVMEM_MIG_SLOTS;
			ring->nr_log = PVMEM_MIG_LOG;
			ring->timeout_ms = m->cfg.timeout_ms;
			m->ring_pfn = pfn;
			__atomic_store_n(&m->ring, ring, __ATOMIC_RELEASE);
		} else if (!err) {
			err = -EFAULT; /* RAM without a mapping: a VMM bug */
		}
	}
	pthread_mutex_unlock(&m->lock);
	pvmem_unblock_frees(m->p);
	if (err)
		return err;
	*gpa = MM_PFN_TO_ADDR(m->ring_pfn);
	*slots = PVMEM_MIG_SLOTS;
	return 0;
}

int pvmem_migrate_create(struct pvmem_migrate **out, struct pvmem *p,
			 struct mm *mm, const struct guest_mem *mem,
			 const struct pvmem_migrate_config *cfg)
{
	struct pvmem_migrate *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	if (cfg)
		m->cfg = *cfg;
	if (!m->cfg.timeout_ms)
		m->cfg.timeout_ms = PVMEM_MIG_DEFAULT_TIMEOUT_MS;
	m->p = p;
	m->mm = mm;
	m->mem = mem;
	atomic_init(&m->next_deadline, UINT64_MAX);
	pthread_mutex_init(&m->lock, NULL);
	m->guest_owner = mm_register_movable_owner(mm, &guest_ops, m);
	m->balloon_owner = mm_register_movable_owner(mm, &balloon_ops, m);
	err = m->guest_owner < 0     ? m->guest_owner
	      : m->balloon_owner < 0 ? m->balloon_owner
				     : timer_cond_init(m);
	if (err) {
		/* mm/ has no unregister: the slots stay, their owner refuses. */
		pthread_mutex_destroy(&m->lock);
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void pvmem_migrate_destroy(struct pvmem_migrate *m)
{
	struct mig_req all[PVMEM_MIG_SLOTS];
	unsigned n;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->timer_stop = true;
	pthread_cond_signal(&m->timer_cond);
	pthread_mutex_unlock(&m->lock);
	if (m->timer_running)
		pthread_join(m->timer, NULL);
	pthread_mutex_lock(&m->lock);
	n = claim_expired(m, UINT64_MAX, all);
	/* Later calls of our owners find no ring and refuse. */
	__atomic_store_n(&m->ring, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	for (unsigned i = 0; i < n; i++)
		end_cancel(m, &all[i], -ESHUTDOWN);
	pthread_cond_destroy(&m->timer_cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Hooks of the device ---------------------------------------------------- */

void pvmem_migrate_adopt(struct pvmem_migrate *m, const uint64_t *pfns,
			 unsigned n, unsigned order)
{
	unsigned named = 0;

	if (!pvmem_migrate_ready(m))
		return;
	for (unsigned i = 0; i < n; i++)
		if (!mm_set_movable_owner(m->mm, pfns[i], order,
					  (uint32_t)m->guest_owner))
			named++;
	count(&m->adopted, named);
}

/*
 * The part of [*start, *end) inside RAM region @i, false if none. The
 * range comes from the guest (COMPACT's address and size): walking it pfn
 * by pfn would cost host CPU for every frame of the MMIO hole and beyond.
 */
static bool ram_span(const struct pvmem_migrate *m, unsigned i,
		     uint64_t start_pfn, uint64_t end_pfn, uint64_t *s,
		     uint64_t *e)
{
	const struct guest_mem_region *r = &m->mem->regions[i];
	uint64_t first = MM_ADDR_TO_PFN(r->gpa);
	uint64_t last = MM_ADDR_TO_PFN(r->gpa + r->size);

	*s = start_pfn > first ? start_pfn : first;
	*e = end_pfn < last ? end_pfn : last;
	return *s < *e;
}

static uint64_t adopt_balloon_span(struct pvmem_migrate *m, uint64_t start_pfn,
				   uint64_t end_pfn)
{
	uint64_t named = 0;

	for (uint64_t pfn = start_pfn; pfn < end_pfn; pfn++) {
		const struct page *pg = mm_pfn_to_page(m->mm, pfn);

		if (pg &&
		    __atomic_load_n(&pg->state, __ATOMIC_RELAXED) ==
			    FRAME_BALLOON &&
		    !pg->owner &&
		    !mm_set_movable_owner(m->mm, pfn, 0,
					  (uint32_t)m->balloon_owner))
			named++;
	}
	return named;
}

uint64_t pvmem_migrate_adopt_balloon(struct pvmem_migrate *m,
				     uint64_t start_pfn, uint64_t end_pfn)
{
	uint64_t named = 0, s, e;

	if (!pvmem_migrate_ready(m))
		return 0;
	for (unsigned i = 0; i < m->mem->nr_regions; i++)
		if (ram_span(m, i, start_pfn, end_pfn, &s, &e)) {
			named += adopt_balloon_span(m, s, e);
			count(&m->scanned, e - s);
		}
	count(&m->adopted, named);
	return named;
}

uint32_t pvmem_migrate_pending(struct pvmem_migrate *m)
{
	return atomic_load(&m->in_flight);
}

/*
 * Under the lock: a resume waits for a balloon move in progress, so the
 * guest never runs while a frame of its list is half moved.
 */
void pvmem_migrate_set_paused(struct pvmem_migrate *m, bool paused)
{
	pthread_mutex_lock(&m->lock);
	atomic_store(&m->paused, paused);
	pthread_mutex_unlock(&m->lock);
}

int pvmem_migrate_guest_owner(const struct pvmem_migrate *m)
{
	return m->guest_owner;
}

int pvmem_migrate_balloon_owner(const struct pvmem_migrate *m)
{
	return m->balloon_owner;
}

void pvmem_migrate_get_stats(struct pvmem_migrate *m,
			     struct pvmem_migrate_stats *out)
{
	*out = (struct pvmem_migrate_stats){
		.posted = atomic_load(&m->posted),
		.committed = atomic_load(&m->committed),
		.refused = atomic_load(&m->refused),
		.commit_failed = atomic_load(&m->commit_failed),
		.timed_out = atomic_load(&m->timed_out),
		.cancelled_free = atomic_load(&m->cancelled_free),
		.bad_answers = atomic_load(&m->bad_answers),
		.ring_full = atomic_load(&m->ring_full),
		.balloon_paused = atomic_load(&m->balloon_paused),
		.adopted = atomic_load(&m->adopted),
		.scanned = atomic_load(&m->scanned),
		.in_flight = atomic_load(&m->in_flight),
	};
}

static const struct stat_field pvmem_migrate_stat_fields[] = {
	STAT_FIELD(struct pvmem_migrate_stats, posted),
	STAT_FIELD(struct pvmem_migrate_stats, committed),
	STAT_FIELD(struct pvmem_migrate_stats, refused),
	STAT_FIELD(struct pvmem_migrate_stats, timed_out),
	STAT_FIELD(struct pvmem_migrate_stats, cancelled_free),
	STAT_FIELD(struct pvmem_migrate_stats, bad_answers),
	STAT_FIELD_TEXT(struct pvmem_migrate_stats, ring_full),
	STAT_FIELD(struct pvmem_migrate_stats, balloon_paused),
	STAT_FIELD(struct pvmem_migrate_stats, in_flight),
};

const struct stat_table pvmem_migrate_stat_table =
	STAT_TABLE(pvmem_migrate_stat_fields);

/* COMPACT ---------------------------------------------------------------- */

#define COMPACT_BATCH PVMEM_MIG_SLOTS

struct compact_run {
	struct pvmem_migrate *m;
	uint64_t start, end;
	bool anywhere; /* targets may lie in the range (it is all RAM) */
	struct mm_migration list[COMPACT_BATCH];
	unsigned n;
	unsigned posted, busy;
};

static bool in_range(const struct compact_run *c, uint64_t pfn)
{
	return pfn >= c->start && pfn < c->end;
}

/*
 * A target of @order for @src outside the range. Targets that fall inside
 * are held aside (so the next try gets another) and released after.
 */
static int target_outside(struct compact_run *c, uint64_t src, unsigned order,
			  uint64_t *dst)
{
	struct mm *mm = c->m->mm;
	uint64_t held[16];
	unsigned nheld = 0;
	int zone = mm_pfn_zone(mm, src), err;

	for (;;) {
		err = mm_alloc_migration_target(mm, (enum zone_type)zone, order,
						dst);
		if (err || c->anywhere || !in_range(c, *dst))
			break;
		if (nheld == 16) {
			mm_free_migration_target(mm, *dst);
			err = -ENOMEM;
			break;
		}
		held[nheld++] = *dst;
	}
	while (nheld)
		mm_free_migration_target(mm, held[--nheld]);
	return err;
}

static void compact_flush(struct compact_run *c)
{
	mm_migrate_pages(c->m->mm, c->list, c->n, MIGRATE_ASYNC);
	for (unsigned i = 0; i < c->n; i++) {
		int r = c->list[i].result;

		if (r == 0 || r == -EINPROGRESS)
			c->posted++;
		else
			c->busy++;
	}
	c->n = 0;
}

/* Isolate the block at @pfn if it is ours and movable; step past it. */
static uint64_t compact_one(struct compact_run *c, uint64_t pfn)
{
	struct pvmem_migrate *m = c->m;
	const struct page *pg = mm_pfn_to_page(m->mm, pfn);
	uint32_t owner;
	unsigned order;
	uint64_t dst;
	uint8_t flags;

	if (!pg)
		return pfn + 1;
	flags = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
	order = __atomic_load_n(&pg->order, __ATOMIC_RELAXED);
	owner = __atomic_load_n(&pg->owner, __ATOMIC_RELAXED);
	if (!(flags & PG_HEAD) || order >= NR_PAGE_ORDERS)
		return pfn + 1;
	if (owner != (uint32_t)m->guest_owner &&
	    owner != (uint32_t)m->balloon_owner)
		return pfn + (1ull << order);
	if (mm_isolate_movable(m->mm, pfn, &order)) {
		c->busy++;
		return pfn + 1;
	}
	if (target_outside(c, pfn, order, &dst)) {
		mm_putback_movable(m->mm, pfn);
		c->busy++;
		return pfn + (1ull << order);
	}
	c->list[c->n++] =
		(struct mm_migration){.src = pfn, .dst = dst, .order = order};
	if (c->n == COMPACT_BATCH)
		compact_flush(c);
	return pfn + (1ull << order);
}

int pvmem_migrate_compact_range(struct pvmem_migrate *m, uint64_t start_pfn,
				uint64_t end_pfn, unsigned *posted,
				unsigned *busy)
{
	uint64_t ram_end_pfn = MM_ADDR_TO_PFN(guest_mem_end(m->mem));
	struct compact_run *c;

	end_pfn = end_pfn < ram_end_pfn ? end_pfn : ram_end_pfn;
	*posted = *busy = 0;
	if (end_pfn <= start_pfn)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct compact_run){.m = m,
				  .start = start_pfn,
				  .end = end_pfn,
				  .anywhere = start_pfn == 0 &&
					      end_pfn == ram_end_pfn};
	pvmem_migrate_adopt_balloon(m, start_pfn, end_pfn);
	/* Only RAM: a block never crosses a region (they are mm's ranges). */
	for (unsigned i = 0; i < m->mem->nr_regions; i++) {
		uint64_t s, e;

		if (!ram_span(m, i, start_pfn, end_pfn, &s, &e))
			continue;
		for (uint64_t pfn = s; pfn < e;)
			pfn = compact_one(c, pfn);
		count(&m->scanned, e - s);
	}
	if (c->n)
		compact_flush(c);
	*posted = c->posted;
	*busy = c->busy;
	free(c);
	return 0;
}
