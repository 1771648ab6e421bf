// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pvmem_migrate.c: cooperative migration (pvmem ABI
 * 1.1) against a guest simulated in-process, honest and hostile. The guest
 * side is what guest/pvmem_migrate.c does: drain the ring, copy, answer in
 * one MIGRATE_ANSWER, switch only on status 0. After each test the page
 * database is consistent (mm_check) and tot_pages == GUEST + DMA frames.
 * The clock is the test's: timeouts happen when the test says.
 */
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mm/host/mm_port_impl.h"
#include "pvmem_fx.h"
#include "unit.h"

#define TIMEOUT_MS 100
#define ANS_GPA	   0x120000ull /* struct pvmem_mig_ans[128], in the image */
#define MAX_ANS	   128

static uint64_t fake_ns;
static unsigned cur_timeout_ms = TIMEOUT_MS;

static uint64_t fake_clock(void *opaque)
{
	return fake_ns;
}

static void quiet_log(const char *line)
{
}

static void mig_setup(void)
{
	struct pvmem_config cfg = {
		.mig = {.timeout_ms = TIMEOUT_MS,
			.clock_ns = fake_clock,
			.no_timer = true},
	};

	fake_ns = 1000000000ull;
	cur_timeout_ms = TIMEOUT_MS;
	mm_port_set_log_sink(quiet_log);
	fx_setup_cfg(&cfg);
}

static void mig_teardown(void)
{
	fx_teardown();
	mm_port_set_log_sink(NULL);
}

static struct pvmem_migrate *mig(void)
{
	return pvmem_migration(fx.p);
}

/* One request of @op with @count/@addr/@size on FX_BLOCK_GPA. */
static struct pvmem_req *ring_op(unsigned op, uint32_t count, uint64_t addr,
				 uint64_t size)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, op);

	r->count = count;
	r->addr = addr;
	r->size = size;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	return r;
}

static struct pvmem_mig_ring *guest_setup_ring(void)
{
	struct pvmem_req *r = ring_op(PVMEM_OP_MIGRATE_SETUP, 0, 0, 0);
	struct pvmem_mig_ring *ring;

	ck_assert_int_eq(r->status, 0);
	ck_assert_uint_eq(r->done, PVMEM_MIG_SLOTS);
	ring = fx_ptr(r->result);
	ck_assert_uint_eq(ring->magic, PVMEM_MIG_MAGIC);
	ck_assert_uint_eq(ring->nr_slots, PVMEM_MIG_SLOTS);
	ck_assert_uint_eq(ring->timeout_ms, cur_timeout_ms);
	return ring;
}

/* @n movable blocks of @order, each filled with its own pattern. */
static void alloc_movable(unsigned order, unsigned n, uint64_t *pfns)
{
	unsigned done;

	ck_assert_int_eq(fx_alloc(GFP_HIGHUSER_MOVABLE, order, n, pfns, &done),
			 0);
	ck_assert_uint_eq(done, n);
	for (unsigned i = 0; i < n; i++)
		memset(fx_ptr(MM_PFN_TO_ADDR(pfns[i])), 0x40 + (int)i,
		       PAGE_SIZE << order);
}

static int compact_all(unsigned *busy)
{
	struct pvmem_req *r = ring_op(PVMEM_OP_COMPACT, 0, 0, 0);

	ck_assert_int_eq(r->status, 0);
	if (busy)
		*busy = (unsigned)r->result;
	return (int)r->done;
}

/* Take every new request from the ring into @out; return how many. */
static unsigned guest_take(struct pvmem_mig_ring *ring,
			   struct pvmem_mig_req *out)
{
	unsigned n = 0;

	while (ring->tail != __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE))
		out[n++] = ring->reqs[ring->tail++ % PVMEM_MIG_SLOTS];
	return n;
}

/* Answer @n entries (already in the ANS_GPA array); the op's status. */
static int guest_answer(unsigned n, unsigned *done)
{
	struct pvmem_req *r = ring_op(PVMEM_OP_MIGRATE_ANSWER, n, ANS_GPA, 0);

	if (done)
		*done = r->done;
	return r->status;
}

static struct pvmem_mig_ans *ans(unsigned i)
{
	return (struct pvmem_mig_ans *)fx_ptr(ANS_GPA) + i;
}

static void set_ans(unsigned i, const struct pvmem_mig_req *q, int result)
{
	*ans(i) = (struct pvmem_mig_ans){.src = q->src,
					 .dst = q->dst,
					 .order = q->order,
					 .result = result,
					 .status = PVMEM_PENDING};
}

static uint8_t state_of(uint64_t pfn)
{
	return mm_pfn_to_page(fx.mm, pfn)->state;
}

static struct pvmem_migrate_stats mstats(void)
{
	struct pvmem_migrate_stats st;

	pvmem_migrate_get_stats(mig(), &st);
	return st;
}

/* Does @pfn's block hold the pattern of block @i? */
static bool holds_pattern(uint64_t pfn, unsigned order, unsigned i)
{
	const uint8_t *p = fx_ptr(MM_PFN_TO_ADDR(pfn));

	for (uint64_t k = 0; k < (PAGE_SIZE << order); k += 512)
		if (p[k] != (uint8_t)(0x40 + i))
			return false;
	return true;
}

START_TEST(test_info_and_setup)
{
	struct pvmem_info *info;
	struct pvmem_mig_ring *ring;
	struct pvmem_req *r;
	uint64_t tot0 = pvmem_tot_pages(fx.p);

	r = ring_op(PVMEM_OP_INFO, 0, FX_OUT_GPA, sizeof(*info));
	ck_assert_int_eq(r->status, 0);
	info = fx_ptr(FX_OUT_GPA);
	ck_assert_uint_eq(info->abi_minor, PVMEM_ABI_MINOR);
	ck_assert(info->features & PVMEM_F_MIGRATE);
	ck_assert_uint_eq(info->mig_slots, PVMEM_MIG_SLOTS);
	ck_assert_uint_eq(info->mig_timeout_ms, TIMEOUT_MS);

	ring = guest_setup_ring();
	/* The ring is pinned and charged; asking again gives the same one. */
	r = ring_op(PVMEM_OP_MIGRATE_SETUP, 0, 0, 0);
	ck_assert_ptr_eq(fx_ptr(r->result), ring);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0 + 1);
	ck_assert_uint_eq(state_of(MM_ADDR_TO_PFN(r->result)), FRAME_DMA);
	ck_assert_int_eq(fx_free1(MM_ADDR_TO_PFN(r->result), 0), -EPERM);
	ck_assert_int_ne(fx_dma_free(1, r->result), 0);
	/* Unused fields must be zero, as for every op. */
	r = ring_op(PVMEM_OP_MIGRATE_SETUP, 1, 0, 0);
	ck_assert_int_eq(r->status, -EINVAL);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_honest_moves)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[8], tot0;
	unsigned n, done, busy;

	alloc_movable(2, 8, pfns);
	tot0 = pvmem_tot_pages(fx.p);
	ck_assert_int_eq(compact_all(&busy), 8);
	ck_assert_uint_eq(busy, 0);
	/* In flight: the targets are charged, the header says so. */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0 + 8 * 4);
	ck_assert_uint_eq(
		((struct pvmem_block *)fx_ptr(FX_BLOCK_GPA))->hdr.mig_pending,
		8);
	fx_assert_consistent();
	n = guest_take(ring, q);
	ck_assert_uint_eq(n, 8);
	for (unsigned i = 0; i < n; i++) {
		unsigned k;

		ck_assert_uint_eq(q[i].kind, PVMEM_MIG_MOVE);
		ck_assert_uint_eq(q[i].order, 2);
		for (k = 0; k < 8 && pfns[k] != q[i].src; k++)
			;
		ck_assert_uint_lt(k, 8);
		/* The guest copies, then answers; it switches on status 0. */
		memcpy(fx_ptr(MM_PFN_TO_ADDR(q[i].dst)),
		       fx_ptr(MM_PFN_TO_ADDR(q[i].src)), PAGE_SIZE << 2);
		set_ans(i, &q[i], 0);
	}
	ck_assert_int_eq(guest_answer(n, &done), 0);
	ck_assert_uint_eq(done, 8);
	for (unsigned i = 0; i < n; i++) {
		const struct page *pg = mm_pfn_to_page(fx.mm, q[i].dst);

		ck_assert_int_eq(ans(i)->status, 0);
		ck_assert_uint_eq(state_of(q[i].src), FRAME_FREE);
		ck_assert_uint_eq(pg->state, FRAME_GUEST);
		ck_assert_uint_eq(pg->owner,
				  (uint32_t)pvmem_migrate_guest_owner(mig()));
		ck_assert(!(pg->flags & PG_ISOLATED));
	}
	for (unsigned k = 0; k < 8; k++) {
		unsigned i;

		for (i = 0; i < n && q[i].src != pfns[k]; i++)
			;
		ck_assert(holds_pattern(q[i].dst, 2, k));
	}
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	ck_assert_uint_eq(mstats().committed, 8);
	ck_assert_uint_eq(mstats().in_flight, 0);
	/* The new blocks are the guest's: it frees them normally. */
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(fx_free1(q[i].dst, 2), 0);
	fx_assert_consistent();
}
END_TEST

/* A guest that never answers: at the deadline everything is undone. */
/*
 * COMPACT takes its range from the guest: a range over the MMIO hole
 * [64 MiB, 4 GiB) (or beyond RAM) costs only the RAM inside it, never a
 * look at each of the hole's million frame numbers.
 */
START_TEST(test_compact_skips_the_hole)
{
	const uint64_t ram = (FX_LOW_SIZE + FX_HIGH_SIZE) / PAGE_SIZE;
	struct pvmem_migrate_stats st;
	struct pvmem_req *r;
	uint64_t pfns[4], scanned;

	guest_setup_ring();
	alloc_movable(0, 4, pfns);
	/* All of it: RAM and the hole, adoption and the walk each once. */
	ck_assert_int_eq(compact_all(NULL), 4);
	pvmem_migrate_get_stats(mig(), &st);
	ck_assert_uint_le(st.scanned, 2 * ram);
	scanned = st.scanned;
	/* Only the hole: nothing to look at. */
	r = ring_op(PVMEM_OP_COMPACT, 0, FX_LOW_SIZE,
		    FX_HIGH_GPA - FX_LOW_SIZE);
	ck_assert_int_eq(r->status, 0);
	pvmem_migrate_get_stats(mig(), &st);
	ck_assert_uint_eq(st.scanned, scanned);
	/* The last MiB of low RAM, the hole, high RAM and 1 TiB beyond. */
	r = ring_op(PVMEM_OP_COMPACT, 0, FX_LOW_SIZE - (1u << 20), 1ull << 40);
	ck_assert_int_eq(r->status, 0);
	pvmem_migrate_get_stats(mig(), &st);
	ck_assert_uint_le(st.scanned - scanned,
			  2 * ((1u << 20) + FX_HIGH_SIZE) / PAGE_SIZE);
	fx_assert_consistent();
}
END_TEST

/*
 * A FREE of a block whose move is posted cancels it at once; a FREE that
 * names a tail frame of that block, or the head with another order, is
 * refused at once, without waiting for a request it could never cancel
 * (before: each such entry spun its vCPU for a second).
 */
START_TEST(test_free_of_isolated_tail)
{
	struct pvmem_migrate_stats ms;
	struct pvmem_host_stats hs;
	uint64_t pfns[1];

	guest_setup_ring();
	alloc_movable(2, 1, pfns);
	ck_assert_int_eq(compact_all(NULL), 1);
	ck_assert_int_ne(fx_free1(pfns[0] + 1, 0), 0);
	ck_assert_int_ne(fx_free1(pfns[0] + 2, 1), 0);
	ck_assert_int_ne(fx_free1(pfns[0], 1), 0);
	pvmem_get_stats(fx.p, &hs);
	pvmem_migrate_get_stats(mig(), &ms);
	ck_assert_uint_eq(hs.free_waits, 0);
	ck_assert_uint_eq(ms.cancelled_free, 0);
	ck_assert_uint_eq(ms.in_flight, 1);
	ck_assert_int_eq(fx_free1(pfns[0], 2), 0);
	pvmem_get_stats(fx.p, &hs);
	pvmem_migrate_get_stats(mig(), &ms);
	ck_assert_uint_eq(hs.free_waits, 1);
	ck_assert_uint_eq(ms.cancelled_free, 1);
	ck_assert_uint_eq(ms.in_flight, 0);
	fx_assert_consistent();
}
END_TEST

/*
 * The target of a posted move is mm/'s (GUEST, owner MM_OWNER_TARGET,
 * isolated) until the move commits: a FREE that names it (the guest reads
 * it in the ring) is refused at once. Before: it passed the GUEST check,
 * found no request whose source it was and spun its vCPU for a second,
 * holding the frees lock, then mm_free_pages() refused it anyway (found by
 * the pvmem fuzz harness: 57% of its time).
 */
START_TEST(test_free_of_migration_target)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	struct pvmem_migrate_stats ms;
	struct pvmem_host_stats hs;
	uint64_t pfns[1];

	alloc_movable(1, 1, pfns);
	ck_assert_int_eq(compact_all(NULL), 1);
	ck_assert_uint_eq(guest_take(ring, q), 1);
	ck_assert_uint_eq(q[0].src, pfns[0]);
	ck_assert_int_eq(fx_free1(q[0].dst, q[0].order), -EPERM);
	pvmem_get_stats(fx.p, &hs);
	pvmem_migrate_get_stats(mig(), &ms);
	ck_assert_uint_eq(hs.free_waits, 0);
	ck_assert_uint_eq(ms.in_flight, 1);
	/* The source is still the guest's to free: that cancels the move. */
	ck_assert_int_eq(fx_free1(pfns[0], 1), 0);
	pvmem_migrate_get_stats(mig(), &ms);
	ck_assert_uint_eq(ms.cancelled_free, 1);
	ck_assert_uint_eq(ms.in_flight, 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_ignored_requests_time_out)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[4], tot0;

	alloc_movable(0, 4, pfns);
	tot0 = pvmem_tot_pages(fx.p);
	ck_assert_int_eq(compact_all(NULL), 4);
	/* Not yet due: a doorbell changes nothing. */
	fake_ns += (TIMEOUT_MS - 1) * 1000000ull;
	ring_op(PVMEM_OP_STATS, 0, FX_OUT_GPA, sizeof(struct pvmem_stats));
	ck_assert_uint_eq(mstats().in_flight, 4);
	fake_ns += 2000000ull;
	ck_assert_uint_eq(pvmem_migrate_expire(mig()), 4);
	ck_assert_uint_eq(mstats().timed_out, 4);
	ck_assert_uint_eq(mstats().in_flight, 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(state_of(pfns[i]), FRAME_GUEST);
		ck_assert(holds_pattern(pfns[i], 0, i));
	}
	fx_assert_consistent();
	/* A late answer is stale: the guest keeps its old frames. */
	ck_assert_uint_eq(guest_take(ring, q), 4);
	for (unsigned i = 0; i < 4; i++)
		set_ans(i, &q[i], 0);
	ck_assert_int_eq(guest_answer(4, NULL), -ESTALE);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(ans(i)->status, -ESTALE);
		ck_assert_uint_eq(state_of(q[i].dst), FRAME_FREE);
		ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
	}
	fx_assert_consistent();
}
END_TEST

/* The deadline also runs at the next doorbell, whatever it asks. */
START_TEST(test_timeout_at_doorbell)
{
	uint64_t pfns[2];

	guest_setup_ring();
	alloc_movable(1, 2, pfns);
	ck_assert_int_eq(compact_all(NULL), 2);
	fake_ns += TIMEOUT_MS * 1000000ull;
	ck_assert_int_eq(fx_free1(pfns[0], 1), 0);
	ck_assert_uint_eq(mstats().timed_out, 2);
	ck_assert_uint_eq(mstats().cancelled_free, 0);
	ck_assert_int_eq(fx_free1(pfns[1], 1), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_refused)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[3], tot0;
	unsigned done;

	alloc_movable(0, 3, pfns);
	tot0 = pvmem_tot_pages(fx.p);
	ck_assert_int_eq(compact_all(NULL), 3);
	ck_assert_uint_eq(guest_take(ring, q), 3);
	set_ans(0, &q[0], PVMEM_EBUSY);
	set_ans(1, &q[1], 0);
	set_ans(2, &q[2], -1);
	memcpy(fx_ptr(MM_PFN_TO_ADDR(q[1].dst)),
	       fx_ptr(MM_PFN_TO_ADDR(q[1].src)), PAGE_SIZE);
	ck_assert_int_eq(guest_answer(3, &done), 0);
	ck_assert_uint_eq(done, 3);
	ck_assert_uint_eq(mstats().refused, 2);
	ck_assert_uint_eq(mstats().committed, 1);
	ck_assert_uint_eq(state_of(q[0].src), FRAME_GUEST);
	ck_assert_uint_eq(state_of(q[0].dst), FRAME_FREE);
	ck_assert_uint_eq(state_of(q[1].src), FRAME_FREE);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	fx_assert_consistent();
}
END_TEST

/*
 * Lies: wrong dst, wrong order, a src never asked about, frames outside
 * RAM, a positive result, a reserved word. Each gets its error; the real
 * requests stay pending until their deadline and are then undone.
 */
START_TEST(test_wrong_frames)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[2], other[1];
	unsigned done;

	alloc_movable(1, 2, pfns);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 1, other, NULL), 0);
	ck_assert_int_eq(compact_all(NULL), 2);
	ck_assert_uint_eq(guest_take(ring, q), 2);
	set_ans(0, &q[0], 0);
	ans(0)->dst = other[0]; /* a frame it holds, not the target */
	set_ans(1, &q[1], 0);
	ans(1)->order = 0;
	set_ans(2, &q[0], 0);
	ans(2)->src = other[0]; /* never asked about */
	set_ans(3, &q[0], 0);
	ans(3)->dst = 1ull << 40; /* outside RAM */
	set_ans(4, &q[0], 1);
	set_ans(5, &q[1], 0);
	ans(5)->reserved = 1;
	set_ans(6, &q[0], 0);
	ans(6)->order = 11;
	ck_assert_int_eq(guest_answer(7, &done), -EINVAL);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(ans(0)->status, -EINVAL);
	ck_assert_int_eq(ans(1)->status, -EINVAL);
	ck_assert_int_eq(ans(2)->status, -ESTALE);
	ck_assert_int_eq(ans(3)->status, -ERANGE);
	ck_assert_int_eq(ans(4)->status, -EINVAL);
	ck_assert_int_eq(ans(5)->status, -EINVAL);
	ck_assert_int_eq(ans(6)->status, -EINVAL);
	ck_assert_uint_eq(mstats().bad_answers, 7);
	ck_assert_uint_eq(mstats().in_flight, 2);
	/* Freeing the target it was offered: not its frame. */
	ck_assert_int_ne(fx_free1(q[0].dst, 1), 0);
	fx_assert_consistent();
	fake_ns += TIMEOUT_MS * 1000000ull;
	ck_assert_uint_eq(pvmem_migrate_expire(mig()), 2);
	ck_assert_uint_eq(state_of(pfns[0]), FRAME_GUEST);
	ck_assert_uint_eq(state_of(q[0].dst), FRAME_FREE);
	fx_assert_consistent();
}
END_TEST

/* The same answer twice (in one op and in the next): one commit. */
START_TEST(test_duplicate_answers)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[1], tot0;
	unsigned done;

	alloc_movable(3, 1, pfns);
	tot0 = pvmem_tot_pages(fx.p);
	ck_assert_int_eq(compact_all(NULL), 1);
	ck_assert_uint_eq(guest_take(ring, q), 1);
	set_ans(0, &q[0], 0);
	set_ans(1, &q[0], 0);
	set_ans(2, &q[0], -5);
	ck_assert_int_eq(guest_answer(3, &done), -ESTALE);
	ck_assert_uint_eq(done, 1);
	ck_assert_int_eq(ans(0)->status, 0);
	ck_assert_int_eq(ans(1)->status, -ESTALE);
	ck_assert_int_eq(ans(2)->status, -ESTALE);
	set_ans(0, &q[0], 0);
	ck_assert_int_eq(guest_answer(1, NULL), -ESTALE);
	ck_assert_uint_eq(state_of(q[0].dst), FRAME_GUEST);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	/* Freeing the old block again: it was returned by the answer. */
	ck_assert_int_eq(fx_free1(pfns[0], 3), -EPERM);
	fx_assert_consistent();
}
END_TEST

/* Answers for frames it never held, with no request ever posted. */
START_TEST(test_frames_never_held)
{
	unsigned done;

	guest_setup_ring();
	*ans(0) = (struct pvmem_mig_ans){.src = 0x3000, .dst = 0x3001};
	*ans(1) = (struct pvmem_mig_ans){.src = 5, .dst = 6}; /* boot data */
	*ans(2) = (struct pvmem_mig_ans){.src = MM_ADDR_TO_PFN(3ull << 30),
					 .dst = 0x3000}; /* the hole */
	ck_assert_int_eq(guest_answer(3, &done), -ESTALE);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(ans(1)->status, -ESTALE);
	ck_assert_int_eq(ans(2)->status, -ERANGE);
	/* Buffers it does not hold, bad counts. */
	ck_assert_int_eq(
		ring_op(PVMEM_OP_MIGRATE_ANSWER, 1, FX_LOW_SIZE - 0x1000, 0)
			->status,
		-EFAULT);
	ck_assert_int_eq(
		ring_op(PVMEM_OP_MIGRATE_ANSWER, 0, ANS_GPA, 0)->status,
		-EINVAL);
	ck_assert_int_eq(
		ring_op(PVMEM_OP_MIGRATE_ANSWER, 513, ANS_GPA, 0)->status,
		-E2BIG);
	fx_assert_consistent();
}
END_TEST

/* The guest frees a block the host wants to move: the request goes. */
START_TEST(test_free_cancels)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[2], tot0 = pvmem_tot_pages(fx.p);

	alloc_movable(0, 2, pfns);
	ck_assert_int_eq(compact_all(NULL), 2);
	ck_assert_int_eq(fx_free1(pfns[0], 0), 0);
	ck_assert_int_eq(fx_free1(pfns[1], 0), 0);
	ck_assert_uint_eq(mstats().cancelled_free, 2);
	ck_assert_uint_eq(mstats().in_flight, 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	ck_assert_uint_eq(guest_take(ring, q), 2);
	set_ans(0, &q[0], 0);
	ck_assert_int_eq(guest_answer(1, NULL), -ESTALE);
	fx_assert_consistent();
}
END_TEST

/*
 * A FREE that lands between compaction's isolation of a block and its post
 * (another thread) has no request to cancel yet: it waits for the isolation
 * to end instead of failing with -EBUSY. Here the "compaction" thread
 * isolates, then puts the block back a little later.
 */
static void *putback_later(void *arg)
{
	uint64_t pfn = *(uint64_t *)arg;

	usleep(20000);
	ck_assert_int_eq(mm_putback_movable(fx.mm, pfn), 0);
	return NULL;
}

START_TEST(test_free_waits_for_isolation)
{
	uint64_t pfn, tot0;
	unsigned order;
	pthread_t t;

	guest_setup_ring();
	tot0 = pvmem_tot_pages(fx.p);
	alloc_movable(0, 1, &pfn);
	ck_assert_int_eq(mm_isolate_movable(fx.mm, pfn, &order), 0);
	ck_assert_uint_eq(order, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, putback_later, &pfn), 0);
	ck_assert_int_eq(fx_free1(pfn, 0), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(state_of(pfn), FRAME_FREE);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	fx_assert_consistent();
}
END_TEST

/* A guest without a ring (ABI 1.0) is never asked; its blocks are pinned. */
START_TEST(test_old_guest_never_asked)
{
	uint64_t pfns[4];
	unsigned busy;

	alloc_movable(0, 4, pfns);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfns[0])->owner, 0);
	ck_assert_int_eq(compact_all(&busy), 0);
	ck_assert_uint_eq(busy, 0);
	ck_assert_uint_eq(mstats().posted, 0);
	/* Unmovable blocks of a guest with a ring are pinned too. */
	guest_setup_ring();
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 4, pfns, NULL), 0);
	ck_assert_int_eq(compact_all(&busy), 0);
	fx_assert_consistent();
}
END_TEST

/*
 * A ring whose tail lies (more taken than posted, or far behind) reads as
 * full: nothing is posted, the blocks stay put.
 */
START_TEST(test_lying_ring_reads_full)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	uint64_t pfns[4];
	unsigned busy;

	alloc_movable(0, 4, pfns);
	ring->tail = 12345;
	ck_assert_int_eq(compact_all(&busy), 0);
	ck_assert_uint_eq(busy, 4);
	ck_assert_uint_eq(mstats().ring_full, 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(state_of(pfns[i]), FRAME_GUEST);
	fx_assert_consistent();
	/* Honest again: the blocks can move. */
	ring->tail = 0;
	ck_assert_int_eq(compact_all(NULL), 4);
	fx_assert_consistent();
}
END_TEST

/* More requests than the ring holds: the rest stay, nothing is lost. */
START_TEST(test_ring_full)
{
	static uint64_t pfns[PVMEM_MIG_SLOTS + 16];
	struct pvmem_mig_ring *ring = guest_setup_ring();
	unsigned busy;

	alloc_movable(0, PVMEM_MIG_SLOTS + 16, pfns);
	ck_assert_int_eq(compact_all(&busy), PVMEM_MIG_SLOTS);
	ck_assert_uint_eq(busy, 16);
	ck_assert_uint_eq(mstats().in_flight, PVMEM_MIG_SLOTS);
	fx_assert_consistent();
	ck_assert_uint_eq(ring->head, PVMEM_MIG_SLOTS);
	fake_ns += TIMEOUT_MS * 1000000ull;
	pvmem_migrate_expire(mig());
	fx_assert_consistent();
}
END_TEST

/* Make @n order-0 GUEST frames BALLOON, as the balloon device does. */
static void inflate(const uint64_t *pfns, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(mm_set_frames_state(fx.mm, pfns[i], 1,
						     FRAME_GUEST, FRAME_BALLOON,
						     0),
				 0);
	pvmem_adjust_tot_pages(fx.p, -(int64_t)n);
}

/* A running guest's balloon driver swaps frames in its list. */
START_TEST(test_balloon_running)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	uint64_t pfns[4], tot0;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 4, pfns, NULL), 0);
	inflate(pfns, 4);
	tot0 = pvmem_tot_pages(fx.p);
	ck_assert_int_eq(compact_all(NULL), 4);
	ck_assert_uint_eq(guest_take(ring, q), 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(q[i].kind, PVMEM_MIG_BALLOON);
		set_ans(i, &q[i], i == 3 ? PVMEM_EBUSY : 0);
	}
	ck_assert_int_eq(guest_answer(4, NULL), 0);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(state_of(q[i].dst), FRAME_BALLOON);
		ck_assert_uint_eq(state_of(q[i].src), FRAME_FREE);
	}
	ck_assert_uint_eq(state_of(q[3].src), FRAME_BALLOON);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	fx_assert_consistent();
}
END_TEST

/*
 * Paused: guest blocks refuse, balloon frames move at once and the log
 * tells the driver; a full log stops the moves.
 */
START_TEST(test_balloon_paused)
{
	struct pvmem_mig_ring *ring = guest_setup_ring();
	uint64_t pfns[6], mov[2], tot0;
	unsigned busy;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 6, pfns, NULL), 0);
	inflate(pfns, 6);
	alloc_movable(0, 2, mov);
	tot0 = pvmem_tot_pages(fx.p);
	pvmem_migrate_set_paused(mig(), true);
	ck_assert_int_eq(compact_all(&busy), 6);
	ck_assert_uint_eq(busy, 2); /* the guest's own blocks */
	ck_assert_uint_eq(mstats().balloon_paused, 6);
	ck_assert_uint_eq(mstats().in_flight, 0);
	ck_assert_uint_eq(ring->head, 0);
	ck_assert_uint_eq(ring->log_head, 6);
	for (unsigned i = 0; i < 6; i++) {
		const struct pvmem_mig_log *e = &ring->log[i];

		ck_assert_uint_eq(state_of(e->src), FRAME_FREE);
		ck_assert_uint_eq(state_of(e->dst), FRAME_BALLOON);
	}
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	ck_assert_uint_eq(state_of(mov[0]), FRAME_GUEST);
	fx_assert_consistent();
	/* A log the guest never applies (or lies about) fills: no moves. */
	ring->log_tail = 9999;
	ck_assert_int_eq(compact_all(&busy), 0);
	ck_assert_uint_eq(ring->log_head, 6);
	fx_assert_consistent();
	pvmem_migrate_set_paused(mig(), false);
	ring->log_tail = 6;
	ck_assert_int_eq(compact_all(NULL), 8);
	fx_assert_consistent();
}
END_TEST

/* The VM goes away with requests in flight: all undone, nothing lost. */
START_TEST(test_destroy_cancels)
{
	uint64_t pfns[8];
	char why[256];

	guest_setup_ring();
	alloc_movable(0, 8, pfns);
	ck_assert_int_eq(compact_all(NULL), 8);
	pvmem_destroy(fx.p);
	fx.p = NULL;
	ck_assert_msg(mm_check(fx.mm, why, sizeof(why)) == 0, "%s", why);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(state_of(pfns[i]), FRAME_GUEST);
}
END_TEST

/*
 * Random honest/hostile rounds against the database (seeded). Each round
 * compacts and checks the whole database, about 45 ms under ASan on a loaded
 * machine: 40 rounds take a timeout of their own (pvmem_migrate_suite()).
 * Not fewer under ASan: at 24 rounds some seeds answer in only one round or
 * never let a request time out.
 */
START_TEST(test_random_rounds)
{
	static uint64_t pfns[48];
	struct pvmem_mig_ring *ring = guest_setup_ring();
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	unsigned long seed = unit_seed();
	uint64_t x = seed * 2654435761u + 1;

	alloc_movable(0, 48, pfns);
	for (unsigned round = 0; round < 40; round++) {
		unsigned n;

		compact_all(NULL);
		n = guest_take(ring, q);
		for (unsigned i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			set_ans(i, &q[i], x % 4 == 0 ? PVMEM_EBUSY : 0);
			if (x % 7 == 0)
				ans(i)->dst ^= 1;
			if (x % 11 == 0)
				ans(i)->src = q[(i + 1) % n].src;
		}
		if (n && x % 5)
			guest_answer(n, NULL);
		if (x % 3 == 0)
			fake_ns += TIMEOUT_MS * 1000000ull;
		pvmem_migrate_expire(mig());
		ck_assert_msg(mstats().in_flight <= PVMEM_MIG_SLOTS, "seed %lu",
			      seed);
		fx_assert_consistent();
	}
	fake_ns += TIMEOUT_MS * 1000000ull;
	pvmem_migrate_expire(mig());
	ck_assert_uint_eq(mstats().in_flight, 0);
	fx_assert_consistent();
}
END_TEST

/*
 * The real clock and the timer thread: a guest that never rings again
 * still gets its requests cancelled, and the wake-up hook runs first (at
 * half the timeout). Waits for the state, bounded.
 */
static atomic_uint notified;

static void count_notify(void *opaque)
{
	atomic_fetch_add(&notified, 1);
}

static void wait_in_flight(unsigned want)
{
	struct timespec ts = {0, 1000000};

	for (unsigned i = 0; i < 5000 && mstats().in_flight != want; i++)
		nanosleep(&ts, NULL);
	ck_assert_uint_eq(mstats().in_flight, want);
}

START_TEST(test_timer_thread)
{
	struct pvmem_config cfg = {
		.mig = {.timeout_ms = 20, .notify = count_notify},
	};
	uint64_t pfns[4];

	fx_teardown();
	fx_setup_cfg(&cfg);
	cur_timeout_ms = 20;
	atomic_store(&notified, 0);
	guest_setup_ring();
	alloc_movable(0, 4, pfns);
	ck_assert_int_eq(compact_all(NULL), 4);
	wait_in_flight(0);
	ck_assert_uint_eq(mstats().timed_out, 4);
	ck_assert_uint_ge(atomic_load(&notified), 1);
	fx_assert_consistent();
}
END_TEST

/* Answers racing the timer: each request ends exactly once. */
struct racer {
	struct pvmem_mig_ring *ring;
	unsigned answered;
};

static void *answer_thread(void *arg)
{
	struct racer *r = arg;
	struct pvmem_mig_req q[PVMEM_MIG_SLOTS];
	struct pvmem_mig_ans a[PVMEM_MIG_SLOTS];
	unsigned n = guest_take(r->ring, q);

	for (unsigned i = 0; i < n; i++) {
		a[i] = (struct pvmem_mig_ans){
			.src = q[i].src, .dst = q[i].dst, .order = q[i].order};
		memcpy(fx_ptr(MM_PFN_TO_ADDR(q[i].dst)),
		       fx_ptr(MM_PFN_TO_ADDR(q[i].src)), PAGE_SIZE);
	}
	r->answered = pvmem_migrate_answer(mig(), a, n);
	return NULL;
}

static uint64_t ended(const struct pvmem_migrate_stats *st)
{
	return st->committed + st->refused + st->timed_out +
	       st->cancelled_free + st->commit_failed;
}

START_TEST(test_answers_race_timer)
{
	struct pvmem_config cfg = {.mig = {.timeout_ms = 1}};
	static uint64_t pfns[PVMEM_MIG_SLOTS];
	struct pvmem_migrate_stats st;

	fx_teardown();
	fx_setup_cfg(&cfg);
	cur_timeout_ms = 1;
	for (unsigned round = 0; round < 20; round++) {
		struct racer r = {.ring = NULL};
		pthread_t t;

		if (round == 0) {
			r.ring = guest_setup_ring();
			alloc_movable(0, PVMEM_MIG_SLOTS, pfns);
		} else {
			r.ring = fx_ptr(MM_PFN_TO_ADDR(
				ring_op(PVMEM_OP_MIGRATE_SETUP, 0, 0, 0)
					->result >>
				PAGE_SHIFT));
		}
		compact_all(NULL);
		pthread_create(&t, NULL, answer_thread, &r);
		pthread_join(t, NULL);
		/* Ended requests are counted once they are over: wait. */
		for (unsigned i = 0; i < 5000; i++) {
			pvmem_migrate_get_stats(mig(), &st);
			if (ended(&st) >= st.posted)
				break;
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		}
		ck_assert_uint_eq(st.posted, ended(&st));
		ck_assert_uint_eq(st.in_flight, 0);
		fx_assert_consistent();
	}
}
END_TEST

static Suite *pvmem_migrate_suite(void)
{
	Suite *s = suite_create("pvmem_migrate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, mig_setup, mig_teardown);
	tcase_add_test(tc, test_info_and_setup);
	tcase_add_test(tc, test_honest_moves);
	tcase_add_test(tc, test_compact_skips_the_hole);
	tcase_add_test(tc, test_free_of_isolated_tail);
	tcase_add_test(tc, test_free_of_migration_target);
	tcase_add_test(tc, test_ignored_requests_time_out);
	tcase_add_test(tc, test_timeout_at_doorbell);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_wrong_frames);
	tcase_add_test(tc, test_duplicate_answers);
	tcase_add_test(tc, test_frames_never_held);
	tcase_add_test(tc, test_free_cancels);
	tcase_add_test(tc, test_free_waits_for_isolation);
	tcase_add_test(tc, test_old_guest_never_asked);
	tcase_add_test(tc, test_lying_ring_reads_full);
	tcase_add_test(tc, test_ring_full);
	tcase_add_test(tc, test_balloon_running);
	tcase_add_test(tc, test_balloon_paused);
	tcase_add_test(tc, test_destroy_cancels);
	suite_add_tcase(s, tc);
	/* Seconds under ASan on a loaded machine: past Check's default 4 s. */
	tc = tcase_create("random");
	tcase_add_checked_fixture(tc, mig_setup, mig_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_random_rounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("timer");
	tcase_add_checked_fixture(tc, mig_setup, mig_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timer_thread);
	tcase_add_test(tc, test_answers_race_timer);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(pvmem_migrate_suite)
