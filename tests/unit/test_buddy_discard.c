// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_buddy_discard.c - PG_DISCARDED on GUEST frames (free page
 * reporting in the native model): mm_mark_discarded(), its statistics, when
 * the flag goes away, and what mm_check() accepts and rejects.
 */
#include <check.h>
#include <string.h>

#include "buddy_fx.h"
#include "unit.h"

static const struct mm_range two[] = {
	{0, MIB_PFN(32)},
	{MIB_PFN(64), MIB_PFN(96)},
};

static uint64_t guest_discarded(struct mm *mm)
{
	struct mm_stats st;

	mm_get_stats(mm, &st);
	return st.guest_discarded;
}

/* The database is read-only to callers: tests corrupt it on purpose. */
static struct page *page_rw(struct mm *mm, uint64_t pfn)
{
	return (struct page *)mm_pfn_to_page(mm, pfn);
}

static void assert_unclean(struct mm *mm, const char *what)
{
	char why[160];

	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), -EUCLEAN);
	ck_assert_msg(strstr(why, what), "mm_check said '%s'", why);
}

START_TEST(test_mark_guest_frames)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, two, 2, NULL);
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 9, &pfn), 0);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn, 512), 512);
	ck_assert(mm_pfn_to_page(mm, pfn + 7)->flags & PG_DISCARDED);
	ck_assert(mm_pfn_to_page(mm, pfn)->flags & PG_HEAD);
	ck_assert_uint_eq(guest_discarded(mm), 512);
	buddy_fx_assert_clean(mm);
	/* Marking again is idempotent: nothing newly marked. */
	ck_assert_int_eq(mm_mark_discarded(mm, pfn + 100, 10), 0);
	ck_assert_uint_eq(guest_discarded(mm), 512);
	/* Freeing the block forgets the flag and the count. */
	ck_assert_int_eq(mm_free_pages(mm, pfn, 9), 0);
	ck_assert_uint_eq(guest_discarded(mm), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_mark_all_or_nothing)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, two, 2, NULL);
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 2, &pfn), 0);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn + 3, 1, FRAME_GUEST, FRAME_DMA, 5),
		0);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn, 4), -EINVAL);
	for (int i = 0; i < 4; i++)
		ck_assert(!(mm_pfn_to_page(mm, pfn + i)->flags & PG_DISCARDED));
	ck_assert_uint_eq(guest_discarded(mm), 0);
	/* Free, reserved, hole, outside RAM, empty range. */
	ck_assert_int_eq(mm_pfn_to_page(mm, MIB_PFN(80))->state, FRAME_FREE);
	ck_assert_int_eq(mm_mark_discarded(mm, MIB_PFN(80), 1), -EINVAL);
	ck_assert_int_eq(mm_mark_discarded(mm, MIB_PFN(40), 1), -ERANGE);
	ck_assert_int_eq(mm_mark_discarded(mm, MIB_PFN(32) - 1, 2), -ERANGE);
	ck_assert_int_eq(mm_mark_discarded(mm, MIB_PFN(4000), 1), -ERANGE);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn, 0), -ERANGE);
	ck_assert_int_eq(mm_reserve_range(mm, MIB_PFN(90), 4), 0);
	ck_assert_int_eq(mm_mark_discarded(mm, MIB_PFN(90), 4), -EINVAL);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn + 3, 1, FRAME_DMA, FRAME_GUEST, 0),
		0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_state_change_clears_flag)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, two, 2, NULL);
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 4, &pfn), 0);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn, 16), 16);
	/* Balloon inflate of discarded frames: released anyway. */
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 4, 4, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	ck_assert_uint_eq(guest_discarded(mm), 12);
	ck_assert(!(mm_pfn_to_page(mm, pfn + 5)->flags & PG_DISCARDED));
	buddy_fx_assert_clean(mm);
	/* A DMA frame must be backed: the flag goes. */
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 1, FRAME_GUEST, FRAME_DMA, 3), 0);
	ck_assert_uint_eq(guest_discarded(mm), 11);
	ck_assert_uint_eq(mm_pfn_to_page(mm, pfn)->flags, PG_HEAD);
	buddy_fx_assert_clean(mm);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 1, FRAME_DMA, FRAME_GUEST, 0), 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 4, 4, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	ck_assert_int_eq(mm_free_pages(mm, pfn, 4), 0);
	ck_assert_uint_eq(guest_discarded(mm), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_order0_free_forgets)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, two, 2, NULL);
	uint64_t pfn;

	/* Order 0 frees go through the per-CPU lists. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn, 1), 1);
	ck_assert_int_eq(mm_free_pages(mm, pfn, 0), 0);
	ck_assert_uint_eq(guest_discarded(mm), 0);
	mm_drain_pcp(mm);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_check_rejects_bad_flags)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, two, 2, NULL);
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 3, &pfn), 0);
	ck_assert_int_eq(mm_mark_discarded(mm, pfn + 2, 2), 2);
	buddy_fx_assert_clean(mm);
	/* A flag the counter does not know about. */
	page_rw(mm, pfn + 6)->flags |= PG_DISCARDED;
	assert_unclean(mm, "GUEST discarded count disagrees");
	page_rw(mm, pfn + 6)->flags = 0;
	buddy_fx_assert_clean(mm);
	/* Any other flag on a tail frame is still corruption. */
	page_rw(mm, pfn + 3)->flags |= PG_PCP;
	assert_unclean(mm, "allocated block has a bad frame");
	page_rw(mm, pfn + 3)->flags = PG_DISCARDED;
	buddy_fx_assert_clean(mm);
	/* A DMA frame without backing (set behind mm's back). */
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn + 4, 1, FRAME_GUEST, FRAME_DMA, 9),
		0);
	page_rw(mm, pfn + 4)->flags |= PG_DISCARDED;
	assert_unclean(mm, "PG_DISCARDED on a frame that is not GUEST");
	page_rw(mm, pfn + 4)->flags = 0;
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn + 4, 1, FRAME_DMA, FRAME_GUEST, 0),
		0);
	buddy_fx_assert_clean(mm);
	ck_assert_int_eq(mm_free_pages(mm, pfn, 3), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

static Suite *buddy_discard_suite(void)
{
	Suite *s = suite_create("buddy_discard");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mark_guest_frames);
	tcase_add_test(tc, test_mark_all_or_nothing);
	tcase_add_test(tc, test_state_change_clears_flag);
	tcase_add_test(tc, test_order0_free_forgets);
	tcase_add_test(tc, test_check_rejects_bad_flags);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(buddy_discard_suite)
