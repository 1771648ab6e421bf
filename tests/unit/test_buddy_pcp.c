// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_buddy_pcp.c - the per-CPU lists' remote-drain protocol:
 * owners use their lists without a lock, so frames on another thread's list
 * come back only when that owner honours a drain request, and a failed
 * allocation drains the caller's own lists and retries.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "buddy_fx.h"
#include "unit.h"

#define PCP_BASE   MIB_PFN(16)
#define PCP_FRAMES MIB_PFN(16)

static const struct mm_config pcp_cfg = {.pcp_high = 512, .pcp_batch = 64};

struct owner {
	struct mm *mm;
	_Atomic int ready, stop;
	unsigned long ops;
};

/*
 * Fill this thread's list with ~400 frames, then keep entering the
 * allocator (alloc+free of one frame) until told to stop.
 */
static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	static uint64_t held[400];

	for (unsigned i = 0; i < 400; i++)
		ck_assert_int_eq(mm_alloc_pages(o->mm, GFP_KERNEL, 0, &held[i]),
				 0);
	for (unsigned i = 0; i < 400; i++)
		ck_assert_int_eq(mm_free_pages(o->mm, held[i], 0), 0);
	o->ready = 1;
	while (!o->stop) {
		uint64_t pfn;

		if (!mm_alloc_pages(o->mm, GFP_KERNEL, 0, &pfn))
			ck_assert_int_eq(mm_free_pages(o->mm, pfn, 0), 0);
		o->ops++;
		sched_yield();
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Another thread, still active, holds hundreds of frames on its list. A
 * thread that runs out asks it to drain; the owner gives them back at its
 * next entry, so the starved thread ends up with all but the one frame the
 * owner may hold between its alloc and free (and one on its list after
 * that free, until its next entry).
 */
START_TEST(test_drain_requested_from_active_owner)
{
	const struct mm_range r[] = {{PCP_BASE, PCP_BASE + PCP_FRAMES}};
	static uint64_t got[PCP_FRAMES];
	struct owner o = {0};
	struct buddy_fx fx;
	struct mm_stats st;
	pthread_t t;
	unsigned long n = 0;
	double deadline;

	o.mm = buddy_fx_new(&fx, r, 1, &pcp_cfg);
	ck_assert_int_eq(pthread_create(&t, NULL, owner_thread, &o), 0);
	while (!o.ready)
		sched_yield();
	mm_get_stats(o.mm, &st);
	ck_assert_uint_ge(st.pcp_frames, 300);
	deadline = now_s() + 30;
	while (n < PCP_FRAMES - 2 && now_s() < deadline) {
		if (mm_alloc_pages(o.mm, GFP_KERNEL | __GFP_MEMALLOC, 0,
				   &got[n]) == 0)
			n++;
		else
			sched_yield();
	}
	o.stop = 1;
	pthread_join(t, NULL);
	ck_assert_msg(n >= PCP_FRAMES - 2,
		      "got %lu of %llu frames: the owner kept its list", n,
		      (unsigned long long)PCP_FRAMES);
	ck_assert_uint_gt(o.ops, 0);
	for (unsigned long i = 0; i < n; i++)
		ck_assert_int_eq(mm_free_pages(o.mm, got[i], 0), 0);
	buddy_fx_assert_clean(o.mm);
	mm_get_stats(o.mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_FREE], st.total);
	buddy_fx_free(&fx);
}
END_TEST

/*
 * The caller's own list breaks up high-order blocks: every order-10 block
 * must still be allocatable, because a failure drains the caller's list
 * and retries.
 */
START_TEST(test_failure_drains_own_list_and_retries)
{
	const struct mm_range r[] = {{PCP_BASE, PCP_BASE + PCP_FRAMES}};
	static uint64_t pfns[PCP_FRAMES];
	const gfp_t gfp = GFP_KERNEL | __GFP_MEMALLOC;
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &pcp_cfg);
	struct mm_stats st;
	unsigned n = 0, blocks = 0;

	while (n < PCP_FRAMES && mm_alloc_pages(mm, gfp, 0, &pfns[n]) == 0)
		n++;
	ck_assert_uint_eq(n, PCP_FRAMES);
	/* Free in a scattered order so the list holds frames of many blocks. */
	for (unsigned step = 0; step < 7; step++)
		for (unsigned i = step; i < n; i += 7)
			ck_assert_int_eq(mm_free_pages(mm, pfns[i], 0), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_gt(st.pcp_frames, 0);
	while (mm_alloc_pages(mm, gfp, MAX_PAGE_ORDER, &pfns[blocks]) == 0)
		blocks++;
	ck_assert_uint_eq(blocks, PCP_FRAMES >> MAX_PAGE_ORDER);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.pcp_frames, 0);
	for (unsigned i = 0; i < blocks; i++)
		ck_assert_int_eq(mm_free_pages(mm, pfns[i], MAX_PAGE_ORDER), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

/*
 * The drain is direct reclaim's (Linux's drain_all_pages()): a request that
 * may not block (no __GFP_DIRECT_RECLAIM: GFP_NOWAIT, GFP_ATOMIC, the
 * balloon's and mempools' __GFP_NORETRY first tries) fails without taking
 * the lists apart; one that may block drains once, __GFP_NORETRY or not.
 */
START_TEST(test_nonblocking_failure_keeps_lists)
{
	const struct mm_range r[] = {{PCP_BASE, PCP_BASE + PCP_FRAMES}};
	static uint64_t pfns[PCP_FRAMES];
	const gfp_t nowait =
		(GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY;
	const unsigned per_block = 1u << MAX_PAGE_ORDER;
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &pcp_cfg);
	struct mm_zone_info zi;
	struct mm_stats st;
	uint64_t held, pfn;
	unsigned n = 0;

	while (n < PCP_FRAMES && mm_alloc_pages(mm, GFP_KERNEL | __GFP_MEMALLOC,
						0, &pfns[n]) == 0)
		n++;
	ck_assert_uint_eq(n, PCP_FRAMES);
	/*
	 * Freed round robin across the order-10 blocks: the last frames
	 * freed, which stay on this thread's list, hold every block apart.
	 */
	for (unsigned i = 0; i < per_block; i++)
		for (unsigned b = 0; b < n / per_block; b++)
			ck_assert_int_eq(
				mm_free_pages(mm, pfns[b * per_block + i], 0),
				0);
	mm_get_stats(mm, &st);
	held = st.pcp_frames;
	ck_assert_uint_gt(held, 0);
	ck_assert_int_eq(mm_zone_info(mm, ZONE_DMA32, &zi), 0);
	ck_assert_uint_eq(zi.nr_free[MAX_PAGE_ORDER], 0);
	ck_assert_int_eq(mm_alloc_pages(mm, nowait, MAX_PAGE_ORDER, &pfn),
			 -ENOMEM);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_NOWAIT | __GFP_MEMALLOC,
					MAX_PAGE_ORDER, &pfn),
			 -ENOMEM);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.pcp_frames, held);
	/* May block: drains once and gets its block, __GFP_NORETRY too. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL | __GFP_NORETRY,
					MAX_PAGE_ORDER, &pfn),
			 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.pcp_frames, 0);
	ck_assert_int_eq(mm_free_pages(mm, pfn, MAX_PAGE_ORDER), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

/*
 * A thread that exits leaves its list to its CPU slot: the frames stay
 * accounted as FREE, and mm_drain_pcp() (quiescent) returns them.
 */
static void *fill_and_exit(void *arg)
{
	struct mm *mm = arg;
	uint64_t pfn[100];

	for (unsigned i = 0; i < 100; i++)
		ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn[i]), 0);
	for (unsigned i = 0; i < 100; i++)
		ck_assert_int_eq(mm_free_pages(mm, pfn[i], 0), 0);
	return NULL;
}

START_TEST(test_quiescent_drain_of_exited_thread)
{
	const struct mm_range r[] = {{PCP_BASE, PCP_BASE + PCP_FRAMES}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &pcp_cfg);
	struct mm_stats st;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, fill_and_exit, mm), 0);
	pthread_join(t, NULL);
	mm_get_stats(mm, &st);
	ck_assert_uint_ge(st.pcp_frames, 100);
	ck_assert_uint_eq(st.frames[FRAME_FREE], st.total);
	buddy_fx_assert_clean(mm);
	mm_drain_pcp(mm);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.pcp_frames, 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

static Suite *buddy_pcp_suite(void)
{
	Suite *s = suite_create("buddy_pcp");
	TCase *tc = tcase_create("pcp");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_drain_requested_from_active_owner);
	tcase_add_test(tc, test_failure_drains_own_list_and_retries);
	tcase_add_test(tc, test_nonblocking_failure_keeps_lists);
	tcase_add_test(tc, test_quiescent_drain_of_exited_thread);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(buddy_pcp_suite)
