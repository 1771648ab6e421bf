// SPDX-License-Identifier: MIT
/*
 * workload=migrate-hostile (hosted): a guest that lies to the migration
 * protocol. It takes the host's requests and answers with a wrong target,
 * a wrong order, a frame it never held, a frame outside RAM, a duplicate
 * and a positive result, refuses one, commits one, ignores the rest, and
 * lies about its ring's tail. Each lie must get its own error; the ignored
 * requests must be cancelled by the host's timeout; afterwards every block
 * it held is still its own, with its data, and frees normally. The VMM's
 * --check then proves the host lost nothing.
 */
#include "guest.h"
#include "guest_migrate.h"
#include "mm/errno.h"
#include "mm/page_order.h"
#include "mm/gfp.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define MH_N 8

static uint64_t mh_pfns[MH_N];
static struct pvmem_mig_ans mh_ans[8];
static struct pvmem_mig_req mh_q[MH_N];

static int mh_compact(unsigned *posted)
{
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_COMPACT);

	GUEST_ASSERT_EQ(pv_batch_ring(b), 0);
	*posted = r->done;
	return r->status;
}

static int mh_answer(unsigned n)
{
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_MIGRATE_ANSWER);

	r->count = n;
	r->addr = (uint64_t)(uintptr_t)mh_ans;
	GUEST_ASSERT_EQ(pv_batch_ring(b), 0);
	return r->status;
}

static struct pvmem_mig_ans mh_of(const struct pvmem_mig_req *q, int result)
{
	return (struct pvmem_mig_ans){.src = q->src,
				      .dst = q->dst,
				      .order = q->order,
				      .result = result,
				      .status = PVMEM_PENDING};
}

static unsigned mh_index(uint64_t src)
{
	for (unsigned i = 0; i < MH_N; i++)
		if (mh_pfns[i] == src)
			return i;
	guest_fail(__FILE__, __LINE__, "request for a block never moved");
	return 0;
}

static bool mh_intact(uint64_t pfn, unsigned i)
{
	const uint8_t *p = pfn_to_virt(pfn);

	return p[0] == 0xa0 + i && p[4095] == 0xa0 + i;
}

/* Requests in flight as the host says after a doorbell. */
static uint32_t mh_pending(void)
{
	static struct pvmem_stats st; /* in the image: held */
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_STATS);

	r->addr = (uint64_t)(uintptr_t)&st;
	r->size = sizeof(st);
	GUEST_ASSERT_EQ(pv_batch_ring(b), 0);
	return b->hdr.mig_pending;
}

/* Wait (bounded by the TSC) for the host's timeout to cancel the rest. */
static void mh_wait_cancelled(void)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc();
	uint32_t left;

	while ((left = mh_pending()) != 0) {
		uint64_t t = rdtsc();

		if ((t - t0) / khz > 10000)
			guest_fail(__FILE__, __LINE__,
				   "%u requests never timed out", left);
		while (rdtsc() - t < khz * 5)
			__builtin_ia32_pause();
	}
	guest_printf("migrate-hostile: ignored requests cancelled after "
		     "%llu ms\n",
		     (unsigned long long)((rdtsc() - t0) / khz));
}

static void mh_check(unsigned k, int got, int want)
{
	if (got != want)
		guest_fail(__FILE__, __LINE__, "answer %u: status %d, want %d",
			   k, got, want);
}

static void mh_run(void)
{
	struct pvmem_mig_ring *ring;
	unsigned granted, posted, committed;
	int err = guest_mm_init();

	if (!err)
		err = gmig_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "migrate-hostile: init: %d",
			   err);
	ring = gmig_ring();
	err = pv_alloc(GFP_HIGHUSER_MOVABLE, 0, MH_N, mh_pfns, &granted);
	GUEST_ASSERT_EQ(err, 0);
	for (unsigned i = 0; i < MH_N; i++)
		memset(pfn_to_virt(mh_pfns[i]), 0xa0 + (int)i, PAGE_SIZE);

	/* A tail that lies reads as a full ring: nothing is posted. */
	ring->tail = ring->head + 1000;
	GUEST_ASSERT_EQ(mh_compact(&posted), 0);
	GUEST_ASSERT_EQ(posted, 0);
	ring->tail = ring->head;

	GUEST_ASSERT_EQ(mh_compact(&posted), 0);
	GUEST_ASSERT_EQ(posted, MH_N);
	for (unsigned i = 0; i < MH_N; i++)
		mh_q[i] = ring->reqs[ring->tail++ % PVMEM_MIG_SLOTS];
	committed = mh_index(mh_q[3].src);
	mh_ans[0] = mh_of(&mh_q[0], 0);
	mh_ans[0].dst = mh_q[1].dst; /* wrong target */
	mh_ans[1] = mh_of(&mh_q[1], 0);
	mh_ans[1].order = 2; /* wrong order */
	mh_ans[2] = mh_of(&mh_q[0], 0);
	mh_ans[2].src = 0x100; /* never held: image */
	mh_ans[3] = mh_of(&mh_q[0], 0);
	mh_ans[3].src = 1ull << 40;		  /* outside RAM */
	mh_ans[4] = mh_of(&mh_q[2], PVMEM_EBUSY); /* refused */
	memcpy(pfn_to_virt(mh_q[3].dst), pfn_to_virt(mh_q[3].src), PAGE_SIZE);
	mh_ans[5] = mh_of(&mh_q[3], 0); /* honest */
	mh_ans[6] = mh_of(&mh_q[3], 0); /* duplicate */
	mh_ans[7] = mh_of(&mh_q[4], 1); /* not an answer */
	GUEST_ASSERT(mh_answer(8) != 0);
	mh_check(0, mh_ans[0].status, PVMEM_EINVAL);
	mh_check(1, mh_ans[1].status, PVMEM_EINVAL);
	mh_check(2, mh_ans[2].status, PVMEM_ESTALE);
	mh_check(3, mh_ans[3].status, PVMEM_ERANGE);
	mh_check(4, mh_ans[4].status, 0);
	mh_check(5, mh_ans[5].status, 0);
	mh_check(6, mh_ans[6].status, PVMEM_ESTALE);
	mh_check(7, mh_ans[7].status, PVMEM_EINVAL);
	guest_printf("migrate-hostile: 8 answers, each its own status\n");

	/* q0, q1 (answered wrongly) and q4..q7 (ignored) must time out. */
	GUEST_ASSERT_EQ(mh_pending(), MH_N - 2);
	mh_wait_cancelled();
	/* A late answer is stale: the block stays where it was. */
	mh_ans[0] = mh_of(&mh_q[5], 0);
	GUEST_ASSERT_EQ(mh_answer(1), PVMEM_ESTALE);

	/* Everything is still ours, intact, and frees; the moved one moved. */
	mh_pfns[committed] = mh_q[3].dst;
	for (unsigned i = 0; i < MH_N; i++) {
		if (!mh_intact(mh_pfns[i], i))
			guest_fail(__FILE__, __LINE__, "block %u lost data", i);
		GUEST_ASSERT_EQ(pv_free_block(pfn_to_virt(mh_pfns[i]), 0), 0);
	}
	GUEST_ASSERT_EQ(pv_free_block(pfn_to_virt(mh_q[3].src), 0),
			PVMEM_EPERM);
	guest_printf("migrate-hostile: ok\n");
}

GUEST_WORKLOAD(migrate_hostile, "migrate-hostile",
	       "lies to the migration protocol; the host must lose nothing",
	       mh_run);
