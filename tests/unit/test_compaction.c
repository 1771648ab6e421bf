// SPDX-License-Identifier: MIT
/*
 * Compaction (mm/compaction.c) on synthetic layouts: the scanners make
 * every order-9 block the layout allows, never move a block without an
 * owner, stop as soon as the requested order exists; direct compaction on a
 * failed costly allocation, deferral after failure, proactive compaction
 * toward the fragmentation score, and the vmstat counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy_fx.h"
#include "compaction_fx.h"
#include "unit.h"

#define BASE	  MIB_PFN(16)
#define FRAMES	  MIB_PFN(64)
#define NR_BLOCKS (FRAMES / PAGEBLOCK_NR_PAGES)

static const struct mm_range one_zone[] = {{BASE, BASE + FRAMES}};

struct cmp_fx {
	struct buddy_fx fx;
	struct mm *mm;
	struct cfx_owner o;
	uint64_t pinned[NR_BLOCKS * 4];
	unsigned nr_pinned;
};

/* A new fixture: one zone of FRAMES frames, its owner, no per-CPU lists. */
static struct cmp_fx *cmp_new(void)
{
	struct mm_config cfg = {.pcp_disabled = true};
	struct cmp_fx *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->mm = buddy_fx_new(&f->fx, one_zone, 1, &cfg);
	cfx_init(&f->o, f->mm, BASE, FRAMES, FRAMES);
	return f;
}

/* Free what the test holds, check the zone is whole, free @f. */
static void cmp_done(struct cmp_fx *f)
{
	char why[256];

	for (unsigned i = 0; i < f->nr_pinned; i++)
		ck_assert_int_eq(mm_free_pages(f->mm, f->pinned[i], 0), 0);
	ck_assert_msg(cfx_teardown(&f->o, why, sizeof(why)) == 0, "%s", why);
	buddy_fx_free(&f->fx);
	free(f);
}

/* Take the handle's block from its owner: pinned where it is from now. */
static void pin(struct cmp_fx *f, unsigned handle)
{
	struct cfx_handle *h = &f->o.h[handle];

	ck_assert_int_eq(mm_set_movable_owner(f->mm, h->pfn, 0, 0), 0);
	f->o.slot[h->pfn - BASE] = 0;
	h->live = false;
	f->pinned[f->nr_pinned++] = h->pfn;
}

/*
 * Fill the zone with order-0 movable frames, then free all but @keep of
 * every 16 frames; the first frame of each pageblock in [pin_lo, pin_hi)
 * is pinned instead of freed.
 */
static void layout(struct cmp_fx *f, unsigned keep, unsigned pin_lo,
		   unsigned pin_hi)
{
	while (cfx_alloc(&f->o, GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC, 0) >= 0)
		;
	ck_assert_uint_eq(f->o.nr_h, FRAMES);
	for (unsigned i = 0; i < f->o.nr_h; i++) {
		uint64_t off = f->o.h[i].pfn - BASE;
		unsigned block = (unsigned)(off / PAGEBLOCK_NR_PAGES);

		if (off % PAGEBLOCK_NR_PAGES == 0 && block >= pin_lo &&
		    block < pin_hi)
			pin(f, i);
		else if (off % 16 >= keep)
			ck_assert_int_eq(cfx_free(&f->o, i), 0);
	}
	buddy_fx_assert_clean(f->mm);
}

static uint64_t order9_blocks(struct mm *mm)
{
	struct mm_zone_info zi;
	uint64_t n = 0;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	for (unsigned o = PAGEBLOCK_ORDER; o < NR_PAGE_ORDERS; o++)
		n += zi.nr_free[o] << (o - PAGEBLOCK_ORDER);
	return n;
}

static uint64_t zone_free(struct mm *mm)
{
	struct mm_zone_info zi;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	return zi.free;
}

/* The layouts: frames kept of 16, pinned pageblocks [lo, hi). */
static const unsigned layouts[][3] = {
	{1, 0, 0},  /* sparse: almost everything can be freed */
	{8, 0, 0},  /* half full */
	{12, 0, 0}, /* three quarters full: 8 blocks possible */
	{4, NR_BLOCKS - 8, NR_BLOCKS}, /* pinned at the top */
	{2, NR_BLOCKS / 2, NR_BLOCKS}, /* half the blocks pinned */
	{15, 0, 0},		       /* nearly full: 2 blocks */
};

START_TEST(test_scanners_make_every_achievable_block)
{
	const unsigned *l = layouts[_i];
	struct cmp_fx *f = cmp_new();
	struct mm_compact_result res;
	uint64_t nfree, expect, unpinned;
	struct mm_stats st;

	layout(f, l[0], l[1], l[2]);
	ck_assert_uint_eq(order9_blocks(f->mm), 0);
	nfree = zone_free(f->mm);
	unpinned = NR_BLOCKS - (l[2] - l[1]);
	expect = nfree / PAGEBLOCK_NR_PAGES;
	if (expect > unpinned)
		expect = unpinned;
	ck_assert_int_eq(
		mm_compact_zone(f->mm, ZONE_DMA32, -1, MIGRATE_SYNC, &res), 0);
	ck_assert_int_eq(res.result, COMPACT_COMPLETE);
	ck_assert_uint_eq(zone_free(f->mm), nfree);
	ck_assert_uint_eq(order9_blocks(f->mm), expect);
	/* Nothing without an owner moved; every moved block is intact. */
	for (unsigned i = 0; i < f->nr_pinned; i++) {
		const struct page *p = mm_pfn_to_page(f->mm, f->pinned[i]);

		ck_assert_int_eq(p->state, FRAME_GUEST);
		ck_assert_uint_eq(p->owner, 0);
	}
	ck_assert_ptr_null(cfx_verify(&f->o));
	ck_assert_uint_eq(f->o.putbacks, 0);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.pgmigrate_fail, 0);
	ck_assert_uint_eq(st.pgmigrate_success, res.migrated);
	ck_assert_uint_gt(st.compact_migrate_scanned, 0);
	ck_assert_uint_gt(st.compact_free_scanned, 0);
	ck_assert_uint_ge(st.compact_isolated, 2 * res.migrated);
	ck_assert_uint_eq(st.isolated, 0);
	buddy_fx_assert_clean(f->mm);
	/* Again: nothing left to gain, nothing moves. */
	mm_compact_zone(f->mm, ZONE_DMA32, -1, MIGRATE_SYNC, &res);
	ck_assert_uint_eq(order9_blocks(f->mm), expect);
	cmp_done(f);
}
END_TEST

/* Async looks only at MOVABLE/CMA pageblocks; sync at every pageblock. */
START_TEST(test_async_skips_unmovable_pageblocks)
{
	struct cmp_fx *f = cmp_new();
	enum migrate_mode mode = _i ? MIGRATE_SYNC : MIGRATE_ASYNC;
	struct mm_compact_result res;
	unsigned moved_low = 0;

	layout(f, 4, 0, 0);
	/* Make the lower half UNMOVABLE pageblocks (their frames stay). */
	for (uint64_t pb = BASE; pb < BASE + FRAMES / 2;
	     pb += PAGEBLOCK_NR_PAGES)
		ck_assert_int_eq(mm_set_pageblock_migratetype(
					 f->mm, pb, PAGEBLOCK_NR_PAGES,
					 MIGRATE_UNMOVABLE),
				 0);
	for (unsigned i = 0; i < f->o.nr_h; i++)
		f->o.h[i].tag = f->o.h[i].pfn < BASE + FRAMES / 2;
	mm_compact_zone(f->mm, ZONE_DMA32, -1, mode, &res);
	ck_assert_uint_gt(res.migrated, 0);
	for (unsigned i = 0; i < f->o.nr_h; i++) {
		const struct cfx_handle *h = &f->o.h[i];

		if (h->live && h->tag == 1 && h->pfn >= BASE + FRAMES / 2)
			moved_low++;
		f->o.h[i].tag = 0;
	}
	if (mode == MIGRATE_ASYNC)
		ck_assert_uint_eq(moved_low, 0);
	else
		ck_assert_uint_gt(moved_low, 0);
	buddy_fx_assert_clean(f->mm);
	cmp_done(f);
}
END_TEST

/* Compaction for an order stops once a block of it is free. */
START_TEST(test_stops_when_order_is_free)
{
	struct cmp_fx *f = cmp_new();
	struct mm_compact_result res;
	uint64_t pfn;

	layout(f, 2, 0, 0);
	ck_assert_int_eq(mm_compaction_suitable(f->mm, ZONE_DMA32, 9),
			 COMPACT_CONTINUE);
	mm_compact_zone(f->mm, ZONE_DMA32, 9, MIGRATE_SYNC, &res);
	ck_assert_int_eq(res.result, COMPACT_SUCCESS);
	ck_assert_uint_ge(order9_blocks(f->mm), 1);
	/* About one pageblock's worth moved, not the whole zone's. */
	ck_assert_uint_le(res.migrated, 2 * PAGEBLOCK_NR_PAGES / 8);
	ck_assert_int_eq(mm_compaction_suitable(f->mm, ZONE_DMA32, 9),
			 COMPACT_SUCCESS);
	ck_assert_int_eq(
		mm_alloc_pages(f->mm, GFP_NOWAIT | __GFP_MOVABLE, 9, &pfn), 0);
	ck_assert_int_eq(mm_free_pages(f->mm, pfn, 9), 0);
	cmp_done(f);
}
END_TEST

/*
 * When the suitability check answers before any scanning, the result says
 * what it answered: a block of the order already free is a success, too
 * little free memory to bother is skipped; nothing is scanned either way.
 */
START_TEST(test_suitability_answer_is_the_result)
{
	struct cmp_fx *f = cmp_new();
	struct mm_compact_result res;

	ck_assert_int_eq(mm_compaction_suitable(f->mm, ZONE_DMA32, 9),
			 COMPACT_SUCCESS);
	memset(&res, 0xff, sizeof(res));
	ck_assert_int_eq(
		mm_compact_zone(f->mm, ZONE_DMA32, 9, MIGRATE_SYNC, &res), 0);
	ck_assert_int_eq(res.result, COMPACT_SUCCESS);
	ck_assert_uint_eq(res.migrate_scanned + res.free_scanned, 0);
	ck_assert_uint_eq(res.migrated + res.failed + res.pending, 0);
	/* Too little free memory (every frame kept): compaction would not help. */
	layout(f, 16, 0, 0);
	ck_assert_int_eq(mm_compaction_suitable(f->mm, ZONE_DMA32, 9),
			 COMPACT_SKIPPED);
	memset(&res, 0xff, sizeof(res));
	ck_assert_int_eq(
		mm_compact_zone(f->mm, ZONE_DMA32, 9, MIGRATE_ASYNC, &res), 0);
	ck_assert_int_eq(res.result, COMPACT_SKIPPED);
	ck_assert_uint_eq(res.migrate_scanned + res.free_scanned, 0);
	ck_assert_uint_eq(res.migrated + res.failed + res.pending, 0);
	cmp_done(f);
}
END_TEST

START_TEST(test_direct_compaction_on_costly_alloc)
{
	struct cmp_fx *f = cmp_new();
	uint64_t pfns[64], got = 0;
	struct mm_stats st;

	layout(f, 2, 0, 0);
	/* No reclaim allowed: no compaction, the allocation fails. */
	ck_assert_int_eq(
		mm_alloc_pages(f->mm, GFP_NOWAIT | __GFP_MOVABLE, 9, &pfns[0]),
		-ENOMEM);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_stall, 0);
	/* Not costly: no compaction either. */
	ck_assert_int_eq(
		mm_alloc_pages(f->mm, GFP_HIGHUSER_MOVABLE, 3, &pfns[0]), 0);
	ck_assert_int_eq(mm_free_pages(f->mm, pfns[0], 3), 0);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_stall, 0);
	/* GFP_HIGHUSER_MOVABLE may: each order-9 request compacts. */
	while (got < 64 &&
	       !mm_alloc_pages(f->mm, GFP_HIGHUSER_MOVABLE, 9, &pfns[got]))
		got++;
	mm_get_stats(f->mm, &st);
	ck_assert_uint_ge(got, NR_BLOCKS - NR_BLOCKS / 8 - 2);
	ck_assert_uint_ge(st.compact_stall, got);
	ck_assert_uint_ge(st.compact_success, got - 1);
	ck_assert_uint_eq(st.compact_stall,
			  st.compact_success + st.compact_fail);
	ck_assert_ptr_null(cfx_verify(&f->o));
	buddy_fx_assert_clean(f->mm);
	while (got--)
		ck_assert_int_eq(mm_free_pages(f->mm, pfns[got], 9), 0);
	cmp_done(f);
}
END_TEST

/*
 * __GFP_NORETRY: only the asynchronous pass, which leaves UNMOVABLE
 * pageblocks alone; without it the synchronous pass gets the block there.
 */
START_TEST(test_noretry_compacts_async_only)
{
	struct cmp_fx *f = cmp_new();
	struct mm_stats st;
	uint64_t pfn;

	while (cfx_alloc(&f->o, GFP_HIGHUSER_MOVABLE | __GFP_MEMALLOC, 0) >= 0)
		;
	/* Lower half: 16 frames kept per pageblock; upper: 2 holes each. */
	for (unsigned i = 0; i < f->o.nr_h; i++) {
		uint64_t off = f->o.h[i].pfn - BASE;
		uint64_t in_pb = off % PAGEBLOCK_NR_PAGES;

		if (off < FRAMES / 2 ? in_pb >= 16
				     : in_pb == 100 || in_pb == 200)
			ck_assert_int_eq(cfx_free(&f->o, i), 0);
	}
	for (uint64_t pb = BASE; pb < BASE + FRAMES / 2;
	     pb += PAGEBLOCK_NR_PAGES)
		ck_assert_int_eq(mm_set_pageblock_migratetype(
					 f->mm, pb, PAGEBLOCK_NR_PAGES,
					 MIGRATE_UNMOVABLE),
				 0);
	ck_assert_uint_eq(order9_blocks(f->mm), 0);
	ck_assert_int_eq(mm_alloc_pages(f->mm,
					GFP_HIGHUSER_MOVABLE | __GFP_NORETRY, 9,
					&pfn),
			 -ENOMEM);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_stall, 1);
	ck_assert_uint_eq(st.compact_fail, 1);
	ck_assert_uint_eq(order9_blocks(f->mm), 0);
	ck_assert_int_eq(mm_alloc_pages(f->mm, GFP_HIGHUSER_MOVABLE, 9, &pfn),
			 0);
	ck_assert_uint_lt(pfn, BASE + FRAMES / 2);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_stall, 2);
	ck_assert_uint_eq(st.compact_success, 1);
	ck_assert_uint_gt(st.pgmigrate_success, 0);
	ck_assert_ptr_null(cfx_verify(&f->o));
	ck_assert_int_eq(mm_free_pages(f->mm, pfn, 9), 0);
	buddy_fx_assert_clean(f->mm);
	cmp_done(f);
}
END_TEST

/* After a failure, the next attempts skip compaction: 1, 2, 4... */
START_TEST(test_deferred_after_failure)
{
	struct cmp_fx *f = cmp_new();
	uint64_t scanned[16], pfn;
	struct mm_stats st;
	unsigned runs = 0;

	/* One pinned frame per pageblock: no order-9 block can be made. */
	layout(f, 0, 0, NR_BLOCKS);
	for (unsigned a = 0; a < 16; a++) {
		ck_assert_int_eq(
			mm_alloc_pages(f->mm, GFP_HIGHUSER_MOVABLE, 9, &pfn),
			-ENOMEM);
		mm_get_stats(f->mm, &st);
		scanned[a] = st.compact_migrate_scanned;
	}
	for (unsigned a = 0; a < 16; a++) {
		bool ran = scanned[a] != (a ? scanned[a - 1] : 0);

		/* Attempts 0, 2, 6 and 14 run; the rest are deferred. */
		ck_assert_msg(ran == (a == 0 || a == 2 || a == 6 || a == 14),
			      "attempt %u ran=%d", a, ran);
		runs += ran;
	}
	ck_assert_uint_eq(st.compact_stall, 16);
	ck_assert_uint_eq(st.compact_fail, 16);
	ck_assert_uint_eq(runs, 4);
	/* A success resets the deferral. */
	ck_assert_int_eq(mm_free_pages(f->mm, f->pinned[0], 0), 0);
	f->pinned[0] = f->pinned[--f->nr_pinned];
	buddy_fx_assert_clean(f->mm);
	cmp_done(f);
}
END_TEST

START_TEST(test_proactive_compaction)
{
	struct cmp_fx *f = cmp_new();
	struct mm_stats st;
	unsigned before;
	int64_t moved;

	layout(f, 2, 0, 0);
	before = mm_fragmentation_score(f->mm, ZONE_DMA32);
	ck_assert_uint_eq(before, 100);
	/* Off: nothing happens. */
	ck_assert_int_eq(mm_set_compaction_proactiveness(f->mm, 0), 0);
	ck_assert_int_eq(mm_compact_proactive(f->mm), 0);
	ck_assert_int_eq(mm_set_compaction_proactiveness(f->mm, 101), -EINVAL);
	/* 20 (default): the score must fall to at most 80. */
	ck_assert_int_eq(mm_set_compaction_proactiveness(f->mm, 20), 0);
	moved = mm_compact_proactive(f->mm);
	ck_assert_int_gt(moved, 0);
	ck_assert_uint_le(mm_fragmentation_score(f->mm, ZONE_DMA32), 80);
	ck_assert_uint_gt(mm_fragmentation_score(f->mm, ZONE_DMA32), 40);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_daemon_wake, 1);
	/* Below the high watermark now: the next round does nothing. */
	ck_assert_int_eq(mm_compact_proactive(f->mm), 0);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.compact_daemon_wake, 1);
	/* 100: as far as it goes. */
	mm_set_compaction_proactiveness(f->mm, 100);
	mm_compact_proactive(f->mm);
	ck_assert_uint_le(mm_fragmentation_score(f->mm, ZONE_DMA32), 5);
	ck_assert_ptr_null(cfx_verify(&f->o));
	buddy_fx_assert_clean(f->mm);
	cmp_done(f);
}
END_TEST

START_TEST(test_vmstat_format)
{
	struct cmp_fx *f = cmp_new();
	char buf[2048];

	layout(f, 2, 0, 0);
	mm_compact_memory(f->mm);
	ck_assert_int_gt(mm_format_vmstat(f->mm, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "nr_free_cma 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "compact_migrate_scanned "));
	ck_assert_ptr_nonnull(strstr(buf, "compact_daemon_wake 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "pgmigrate_success "));
	ck_assert_ptr_null(strstr(buf, "pgmigrate_success 0\n"));
	cmp_done(f);
}
END_TEST

/* An owner that will not move (or never answers): everything stays. */
START_TEST(test_failing_owner_leaves_everything_in_place)
{
	static const int rcs[] = {-EIO, -EAGAIN, -EINPROGRESS};
	struct cmp_fx *f = cmp_new();
	struct mm_compact_result res;
	struct mm_stats st;
	uint64_t *where;

	layout(f, 2, 0, 0);
	where = calloc(f->o.nr_h, sizeof(*where));
	for (unsigned i = 0; i < f->o.nr_h; i++)
		where[i] = f->o.h[i].pfn;
	f->o.fail_rc = rcs[_i];
	f->o.fail_every = 1;
	mm_compact_zone(f->mm, ZONE_DMA32, -1, MIGRATE_SYNC, &res);
	ck_assert_uint_eq(res.migrated, 0);
	ck_assert_uint_eq(order9_blocks(f->mm), 0);
	if (rcs[_i] == -EINPROGRESS) {
		/* Pending: held until the owner is given up on. */
		ck_assert_uint_gt(res.pending, 0);
		mm_get_stats(f->mm, &st);
		ck_assert_uint_eq(st.isolated, 2 * res.pending);
		buddy_fx_assert_clean(f->mm);
		ck_assert_uint_eq(cfx_finish_pending(&f->o, false), 0);
	} else {
		ck_assert_uint_gt(res.failed, 0);
	}
	for (unsigned i = 0; i < f->o.nr_h; i++)
		if (f->o.h[i].live)
			ck_assert_uint_eq(f->o.h[i].pfn, where[i]);
	ck_assert_uint_eq(f->o.putbacks, f->o.isolates);
	mm_get_stats(f->mm, &st);
	ck_assert_uint_eq(st.isolated, 0);
	ck_assert_uint_eq(st.pgmigrate_success, 0);
	ck_assert_ptr_null(cfx_verify(&f->o));
	buddy_fx_assert_clean(f->mm);
	free(where);
	cmp_done(f);
}
END_TEST

static Suite *compaction_suite(void)
{
	Suite *s = suite_create("compaction");
	TCase *tc = tcase_create("compaction");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_scanners_make_every_achievable_block, 0,
			    (int)(sizeof(layouts) / sizeof(layouts[0])));
	tcase_add_loop_test(tc, test_async_skips_unmovable_pageblocks, 0, 2);
	tcase_add_test(tc, test_stops_when_order_is_free);
	tcase_add_test(tc, test_suitability_answer_is_the_result);
	tcase_add_test(tc, test_direct_compaction_on_costly_alloc);
	tcase_add_test(tc, test_noretry_compacts_async_only);
	tcase_add_test(tc, test_deferred_after_failure);
	tcase_add_test(tc, test_proactive_compaction);
	tcase_add_test(tc, test_vmstat_format);
	tcase_add_loop_test(tc, test_failing_owner_leaves_everything_in_place,
			    0, 3);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(compaction_suite)
