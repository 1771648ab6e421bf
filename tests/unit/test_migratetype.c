// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_migratetype.c - the "migratetype" suite: fallback and
 * pageblock stealing, CMA and ISOLATE pageblocks, and what reads the types
 * back (free page reporting with discard and __GFP_ZERO, the statistics
 * text, the fragmentation indices).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"
#include "buddy_fx.h"
#include "unit.h"

/* 8 MiB of DMA32: two order-10 blocks, four pageblocks. */
static const struct mm_range small[] = {{MIB_PFN(16), MIB_PFN(24)}};
static const struct mm_config no_pcp = {.pcp_disabled = true};

START_TEST(test_fallback_steals_pageblocks)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, &no_pcp);
	struct mm_zone_info zi;
	struct mm_stats st;
	uint64_t pfn, pfn2;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	ck_assert_uint_eq(zi.pageblocks_mt[MIGRATE_MOVABLE], 4);
	/* Unmovable from an all-movable zone: the largest block is taken
	 * over, both its pageblocks change type. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.fallback_steal, 2);
	ck_assert_int_eq(mm_get_pageblock_migratetype(mm, pfn),
			 MIGRATE_UNMOVABLE);
	mm_zone_info(mm, ZONE_DMA32, &zi);
	ck_assert_uint_eq(zi.pageblocks_mt[MIGRATE_UNMOVABLE], 2);
	ck_assert_uint_eq(zi.nr_free_mt[MIGRATE_UNMOVABLE][9], 1);
	/* The next unmovable request uses the stolen block: no new steal. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn2), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.fallback_steal, 2);
	ck_assert_int_eq(mm_pfn_to_page(mm, pfn2)->migratetype,
			 MIGRATE_UNMOVABLE);
	/* Reclaimable steals too (from the largest free block). */
	ck_assert_int_eq(mm_alloc_pages(mm, __GFP_RECLAIMABLE, 0, &pfn2), 0);
	ck_assert_int_eq(mm_get_pageblock_migratetype(mm, pfn2),
			 MIGRATE_RECLAIMABLE);
	buddy_fx_assert_clean(mm);
	/* Freed frames go back to their pageblock's list and merge. */
	ck_assert_int_eq(mm_free_pages(mm, pfn, 0), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_steal_mostly_free_pageblock)
{
	const struct mm_range one_pb[] = {{MIB_PFN(16), MIB_PFN(18)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, one_pb, 1, &no_pcp);
	struct mm_zone_info zi;
	struct mm_stats st;
	uint64_t pfn;

	/* One movable frame splits the pageblock's order-9 block. */
	ck_assert_int_eq(mm_alloc_pages(mm,
					GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC,
					0, &pfn),
			 0);
	/* Unmovable falls back to the largest piece (order 8, below a
	 * pageblock); 511 of 512 frames are free, so the pageblock and all
	 * its free blocks change type. */
	ck_assert_int_eq(
		mm_alloc_pages(mm, GFP_KERNEL | __GFP_MEMALLOC, 0, &pfn), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.fallback_steal, 1);
	ck_assert_int_eq(mm_get_pageblock_migratetype(mm, MIB_PFN(16)),
			 MIGRATE_UNMOVABLE);
	mm_zone_info(mm, ZONE_DMA32, &zi);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		ck_assert_uint_eq(zi.nr_free_mt[MIGRATE_MOVABLE][o], 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_movable_fallback_small_single)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, &no_pcp);
	uint64_t pfn, held[4096], n = 0;
	struct mm_stats st;

	/* Make every pageblock unmovable, then leave one order-0 hole. */
	ck_assert_int_eq(mm_set_pageblock_migratetype(mm, MIB_PFN(16),
						      MIB_PFN(8),
						      MIGRATE_UNMOVABLE),
			 0);
	while (mm_alloc_pages(mm, __GFP_MEMALLOC, 0, &pfn) == 0)
		held[n++] = pfn;
	ck_assert_int_eq(mm_free_pages(mm, held[100], 0), 0);
	mm_get_stats(mm, &st);
	/* A movable order-0 request from a mostly used unmovable block:
	 * only the free block moves, the pageblock keeps its type. */
	ck_assert_int_eq(mm_alloc_pages(mm,
					GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC,
					0, &pfn),
			 0);
	ck_assert_uint_eq(pfn, held[100]);
	ck_assert_int_eq(mm_get_pageblock_migratetype(mm, pfn),
			 MIGRATE_UNMOVABLE);
	{
		struct mm_stats st2;

		mm_get_stats(mm, &st2);
		ck_assert_uint_eq(st2.fallback_steal, st.fallback_steal);
	}
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_cma_only_movable)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, NULL);
	uint64_t cma = MIB_PFN(16) + 512, pfn;
	unsigned in_cma = 0;

	ck_assert_int_eq(
		mm_set_pageblock_migratetype(mm, cma, 512, MIGRATE_CMA), 0);
	ck_assert_int_eq(
		mm_set_pageblock_migratetype(mm, cma + 1, 512, MIGRATE_CMA),
		-EINVAL);
	ck_assert_int_eq(mm_set_pageblock_migratetype(mm, 0, 512, MIGRATE_CMA),
			 -ERANGE);
	buddy_fx_assert_clean(mm);
	while (mm_alloc_pages(mm, GFP_KERNEL | __GFP_MEMALLOC, 0, &pfn) == 0)
		ck_assert(pfn < cma || pfn >= cma + 512);
	buddy_fx_assert_clean(mm);
	while (mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC, 0,
			      &pfn) == 0)
		in_cma += pfn >= cma && pfn < cma + 512;
	ck_assert_uint_eq(in_cma, 512);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_isolate_never_allocated)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, NULL);
	uint64_t iso = MIB_PFN(16) + 1024, pfn, n = 0;
	uint64_t *held = calloc(MIB_PFN(8), sizeof(*held));
	struct mm_zone_info zi;

	ck_assert_int_eq(
		mm_set_pageblock_migratetype(mm, iso, 512, MIGRATE_ISOLATE), 0);
	buddy_fx_assert_clean(mm);
	while (mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC, 0,
			      &pfn) == 0) {
		ck_assert(pfn < iso || pfn >= iso + 512);
		held[n++] = pfn;
	}
	mm_zone_info(mm, ZONE_DMA32, &zi);
	ck_assert_uint_eq(zi.free, 512);
	ck_assert_uint_eq(zi.nr_free_mt[MIGRATE_ISOLATE][9], 1);
	for (uint64_t i = 0; i < n; i++)
		ck_assert_int_eq(mm_free_pages(mm, held[i], 0), 0);
	ck_assert_int_eq(
		mm_set_pageblock_migratetype(mm, iso, 512, MIGRATE_MOVABLE), 0);
	mm_drain_pcp(mm);
	buddy_fx_assert_clean(mm);
	mm_zone_info(mm, ZONE_DMA32, &zi);
	/* Un-isolated, everything merges back to two order-10 blocks. */
	ck_assert_uint_eq(zi.nr_free[10], 2);
	free(held);
	buddy_fx_free(&fx);
}
END_TEST

struct discard_log {
	uint64_t discarded, zeroed, discard_calls, zero_calls;
};

static void rec_discard(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct discard_log *l = opaque;

	l->discarded += nr;
	l->discard_calls++;
}

static void rec_zero(void *opaque, uint64_t pfn, uint64_t nr)
{
	struct discard_log *l = opaque;

	l->zeroed += nr;
	l->zero_calls++;
}

static const struct mm_ops rec_ops = {.zero = rec_zero, .discard = rec_discard};

START_TEST(test_report_free_and_zero)
{
	struct discard_log log = {0};
	struct mm_config c = {
		.ops = &rec_ops, .opaque = &log, .pcp_disabled = true};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, &c);
	uint64_t a, b, d;
	struct mm_stats st;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL | __GFP_ZERO, 0, &a), 0);
	ck_assert_uint_eq(log.zeroed, 1); /* never discarded: zeroed */
	d = mm_report_free(mm, 9);
	ck_assert_uint_eq(d, log.discarded);
	/* Everything but a's pageblock half: 2048 - 512 frames. */
	ck_assert_uint_eq(d, 2048 - 512);
	ck_assert_uint_eq(mm_report_free(mm, 9), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.discarded, d);
	buddy_fx_assert_clean(mm);
	/* An order-9 block from a discarded block: no zeroing needed, and
	 * the frames are no longer discarded once allocated. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL | __GFP_ZERO, 9, &b), 0);
	ck_assert_uint_eq(log.zeroed, 1);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.discarded, d - 512);
	ck_assert_int_eq(mm_pfn_to_page(mm, b)->flags & PG_DISCARDED, 0);
	ck_assert_int_eq(mm_free_pages(mm, b, 9), 0);
	/* b's buddy holds a: no merge, b stays not discarded. */
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.discarded, d - 512);
	/* Discard every free frame, then free a: the merged block is not
	 * discarded (a never was), so only the other order-10 block is. */
	ck_assert_uint_eq(mm_report_free(mm, 0), 2047 - (d - 512));
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.discarded, 2047);
	ck_assert_int_eq(mm_free_pages(mm, a, 0), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.discarded, 1024);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(
			mm_alloc_pages(mm, __GFP_MEMALLOC | __GFP_ZERO, 10, &b),
			0);
	ck_assert_uint_eq(log.zeroed, 1 + 1024);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_stats_text)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, small, 1, NULL);
	char buf[8192];
	uint64_t pfn;
	int n;

	n = mm_format_buddyinfo(mm, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Node 0, zone    DMA32      0      0      0      "
			      "0      0      0      0      0      0      0"
			      "      2 \n");
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE, 3, &pfn), 0);
	mm_format_buddyinfo(mm, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Node 0, zone    DMA32      0      0      0      "
			      "1      1      1      1      1      1      1"
			      "      1 \n");
	mm_format_pagetypeinfo(mm, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "Page block order: 9\n"
					  "Pages per block:  512\n\n"));
	ck_assert_ptr_nonnull(
		strstr(buf, "Node    0, zone    DMA32, type      Movable      0"
			    "      0      0      1      1      1      1      1"
			    "      1      1      1 \n"));
	ck_assert_ptr_nonnull(
		strstr(buf, "Number of blocks type     Unmovable      Movable"
			    "  Reclaimable          CMA      Isolate \n"
			    "Node 0, zone    DMA32            0            4"
			    "            0            0            0 \n"));
	mm_format_zoneinfo(mm, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "Node 0, zone    DMA32\n"
					  "  pages free     2040\n"
					  "        min      90\n"));
	ck_assert_ptr_nonnull(strstr(buf, "        spanned  2048\n"
					  "        present  2048\n"
					  "        managed  2048\n"
					  "        protection: (0, 0, 0, 0)"));
	mm_format_frames(mm, buf, sizeof(buf));
	ck_assert_str_eq(buf, "free       2040\nguest      8\ndma        0\n"
			      "balloon    0\nreserved   0\ntotal      2048\n"
			      "discarded  0\npcp        0\n");
	/* Truncation: snprintf semantics. */
	ck_assert_int_eq(
		mm_format_frames(mm, buf, 8),
		n = (int)strlen("free       2040\nguest      8\ndma        0\n"
				"balloon    0\nreserved   0\ntotal      2048\n"
				"discarded  0\npcp        0\n"));
	ck_assert_uint_eq(strlen(buf), 7);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_fragmentation_indices)
{
	const struct mm_range one[] = {{MIB_PFN(16), MIB_PFN(20)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, one, 1, &no_pcp);
	uint64_t pfn;
	char buf[2048];

	/* One free order-10 block: nothing unusable, nothing would fail. */
	ck_assert_int_eq(mm_unusable_index(mm, ZONE_DMA32, 10), 0);
	ck_assert_int_eq(mm_extfrag_index(mm, ZONE_DMA32, 10), -1000);
	/* Take all, free every other frame: 512 isolated free frames. */
	while (mm_alloc_pages(mm, __GFP_MEMALLOC, 0, &pfn) == 0)
		;
	for (pfn = MIB_PFN(16); pfn < MIB_PFN(20); pfn += 2)
		ck_assert_int_eq(mm_free_pages(mm, pfn, 0), 0);
	ck_assert_int_eq(mm_unusable_index(mm, ZONE_DMA32, 0), 0);
	ck_assert_int_eq(mm_unusable_index(mm, ZONE_DMA32, 1), 1000);
	ck_assert_int_eq(mm_extfrag_index(mm, ZONE_DMA32, 0), -1000);
	/* 1000 - (1000 + 512 * 1000 / 2) / 512 = 1000 - 501 */
	ck_assert_int_eq(mm_extfrag_index(mm, ZONE_DMA32, 1), 499);
	/* order 10: 1000 - (1000 + 500) / 512 = 998 */
	ck_assert_int_eq(mm_extfrag_index(mm, ZONE_DMA32, 10), 998);
	mm_format_fraginfo(mm, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "unusable_index:\nNode 0, zone    "
					  "DMA32 0.000 1.000 1.000 "));
	ck_assert_ptr_nonnull(strstr(buf, "extfrag_index:\nNode 0, zone    "
					  "DMA32 -1.000 0.499 0.749 "));
	ck_assert_int_eq(mm_extfrag_index(mm, ZONE_DMA, 1), 0);
	ck_assert_int_eq(mm_unusable_index(mm, ZONE_DMA32, NR_PAGE_ORDERS),
			 -EINVAL);
	buddy_fx_free(&fx);
}
END_TEST

static Suite *migratetype_suite(void)
{
	Suite *s = suite_create("migratetype");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fallback_steals_pageblocks);
	tcase_add_test(tc, test_steal_mostly_free_pageblock);
	tcase_add_test(tc, test_movable_fallback_small_single);
	tcase_add_test(tc, test_cma_only_movable);
	tcase_add_test(tc, test_isolate_never_allocated);
	tcase_add_test(tc, test_report_free_and_zero);
	tcase_add_test(tc, test_stats_text);
	tcase_add_test(tc, test_fragmentation_indices);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(migratetype_suite)
