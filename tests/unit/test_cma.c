// SPDX-License-Identifier: MIT
/*
 * Contiguous allocation beyond MAX_PAGE_ORDER (mm/cma.c): exact ranges with
 * the movable blocks migrated out, failures that leave everything as it
 * was (isolation undone), the search of alloc_contig_pages(), and CMA
 * areas that lend their frames to movable allocations until cma_alloc().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy_fx.h"
#include "compaction_fx.h"
#include "unit.h"

#define BASE   MIB_PFN(16)
#define FRAMES MIB_PFN(64)

static const struct mm_range one_zone[] = {{BASE, BASE + FRAMES}};

struct cma_fx {
	struct buddy_fx fx;
	struct mm *mm;
	struct cfx_owner o;
};

static void cma_setup(struct cma_fx *f, bool pcp)
{
	struct mm_config cfg = {.pcp_disabled = !pcp};

	f->mm = buddy_fx_new(&f->fx, one_zone, 1, &cfg);
	cfx_init(&f->o, f->mm, BASE, FRAMES, FRAMES);
}

static void cma_teardown(struct cma_fx *f)
{
	char why[256];

	ck_assert_msg(cfx_teardown(&f->o, why, sizeof(why)) == 0, "%s", why);
	buddy_fx_free(&f->fx);
}

/* Movable frames everywhere, @keep of every 16 frames kept. */
static void fragment(struct cma_fx *f, unsigned keep)
{
	while (cfx_alloc(&f->o, GFP_HIGHUSER_MOVABLE, 0) >= 0)
		;
	for (unsigned i = 0; i < f->o.nr_h; i++)
		if (f->o.h[i].live && (f->o.h[i].pfn - BASE) % 16 >= keep)
			ck_assert_int_eq(cfx_free(&f->o, i), 0);
}

static uint64_t pageblocks_of(struct mm *mm, enum migratetype mt)
{
	struct mm_zone_info zi;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	return zi.pageblocks_mt[mt];
}

static void assert_range_guest(struct mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t pfn = start; pfn < end; pfn++) {
		const struct page *p = mm_pfn_to_page(mm, pfn);

		ck_assert_int_eq(p->state, FRAME_GUEST);
		ck_assert_uint_eq(p->owner, 0);
	}
}

START_TEST(test_contig_range_migrates_movable_out)
{
	struct cma_fx f;
	uint64_t start = BASE + 1000, end = start + 5000;

	cma_setup(&f, true);
	fragment(&f, 8);
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, start, end), 0);
	assert_range_guest(f.mm, start, end);
	ck_assert_ptr_null(cfx_verify(&f.o));
	for (unsigned i = 0; i < f.o.nr_h; i++)
		if (f.o.h[i].live)
			ck_assert(f.o.h[i].pfn < start || f.o.h[i].pfn >= end);
	ck_assert_uint_gt(f.o.migrations, 2000);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_ISOLATE), 0);
	mm_drain_pcp(f.mm);
	buddy_fx_assert_clean(f.mm);
	/* Freed as the blocks it was handed out in. */
	ck_assert_int_eq(mm_free_contig_range(f.mm, start, end - start), 0);
	ck_assert_int_eq(mm_free_contig_range(f.mm, start, end - start),
			 -EINVAL);
	cma_teardown(&f);
}
END_TEST

START_TEST(test_contig_range_failure_undoes_isolation)
{
	uint64_t start = BASE + MIB_PFN(8), end = start + MIB_PFN(8),
		 pinned = 0;
	struct cma_fx f;
	struct mm_stats st;

	cma_setup(&f, true);
	fragment(&f, 4);
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, end, start), -EINVAL);
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, BASE - 1, BASE + 4),
			 -ERANGE);
	/* A pinned frame in the way: nothing moves, nothing stays isolated. */
	for (unsigned i = 0; i < f.o.nr_h; i++) {
		if (f.o.h[i].live && f.o.h[i].pfn >= start + 700 &&
		    f.o.h[i].pfn < end) {
			pinned = f.o.h[i].pfn;
			ck_assert_int_eq(
				mm_set_movable_owner(f.mm, pinned, 0, 0), 0);
			f.o.slot[pinned - BASE] = 0;
			f.o.h[i].live = false;
			break;
		}
	}
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, start, end), -EBUSY);
	ck_assert_uint_eq(f.o.calls, 0);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_ISOLATE), 0);
	buddy_fx_assert_clean(f.mm);
	/* The owner will not move: undone, its blocks put back intact. */
	ck_assert_int_eq(mm_free_pages(f.mm, pinned, 0), 0);
	f.o.fail_rc = -EIO;
	f.o.fail_every = 1;
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, start, end), -EBUSY);
	ck_assert_uint_gt(f.o.putbacks, 0);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_ISOLATE), 0);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_MOVABLE),
			  FRAMES / PAGEBLOCK_NR_PAGES);
	ck_assert_ptr_null(cfx_verify(&f.o));
	mm_get_stats(f.mm, &st);
	ck_assert_uint_eq(st.isolated, 0);
	mm_drain_pcp(f.mm);
	buddy_fx_assert_clean(f.mm);
	/* Once it cooperates, the same range works. */
	f.o.fail_every = 0;
	ck_assert_int_eq(mm_alloc_contig_range(f.mm, start, end), 0);
	assert_range_guest(f.mm, start, end);
	ck_assert_int_eq(mm_free_contig_range(f.mm, start, end - start), 0);
	cma_teardown(&f);
}
END_TEST

START_TEST(test_contig_pages_searches_past_pinned)
{
	uint64_t nr = 3 * (1u << MAX_PAGE_ORDER), pfn, pins[8];
	struct cma_fx f;

	cma_setup(&f, false);
	fragment(&f, 4);
	/* Pin one frame in each 4 MiB of the lower half. */
	for (unsigned k = 0; k < 8; k++) {
		uint64_t target = BASE + k * 1024 + 2;
		unsigned h = f.o.slot[target - BASE] - 1;

		ck_assert_uint_lt(h, f.o.nr_h);
		ck_assert_int_eq(mm_set_movable_owner(f.mm, target, 0, 0), 0);
		f.o.slot[target - BASE] = 0;
		f.o.h[h].live = false;
		pins[k] = target;
	}
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, nr, GFP_KERNEL, 1024, 64, &pfn), 0);
	ck_assert_uint_eq(pfn % 1024, 0);
	ck_assert_uint_ge(pfn, BASE + 8 * 1024);
	assert_range_guest(f.mm, pfn, pfn + nr);
	ck_assert_ptr_null(cfx_verify(&f.o));
	ck_assert_int_eq(mm_free_contig_range(f.mm, pfn, nr), 0);
	/* Below 32 MiB only [16, 32) MiB: the pins leave no 12 MiB. */
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, nr, GFP_DMA32, 1024, 25, &pfn),
		-ENOMEM);
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, 2048, GFP_DMA32, 0, 25, &pfn),
		-ENOMEM);
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, 1000, GFP_DMA32, 0, 26, &pfn), 0);
	ck_assert_uint_le(pfn + 1000, MIB_PFN(64));
	ck_assert_int_eq(mm_free_contig_range(f.mm, pfn, 1000), 0);
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, FRAMES, GFP_KERNEL, 0, 64, &pfn),
		-ENOMEM);
	ck_assert_int_eq(
		mm_alloc_contig_pages(f.mm, 16, GFP_KERNEL, 3, 64, &pfn),
		-EINVAL);
	for (unsigned k = 0; k < 8; k++)
		ck_assert_int_eq(mm_free_pages(f.mm, pins[k], 0), 0);
	buddy_fx_assert_clean(f.mm);
	cma_teardown(&f);
}
END_TEST

START_TEST(test_cma_lends_to_movable_and_takes_back)
{
	uint64_t area, pfn, cma_nr = MIB_PFN(16), got;
	struct mm_cma_info info;
	struct mm_stats st;
	char buf[8192];
	struct cma_fx f;
	int id;

	cma_setup(&f, false);
	id = mm_cma_reserve(f.mm, ZONE_DMA32, cma_nr, &area);
	ck_assert_int_eq(id, 0);
	ck_assert_uint_eq(area, BASE + FRAMES - cma_nr);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_CMA), 8);
	mm_format_zoneinfo(f.mm, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "nr_free_cma  4096"));
	ck_assert_ptr_nonnull(strstr(buf, "        cma      4096"));
	mm_format_vmstat(f.mm, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "nr_free_cma 4096\n"));
	/* Unmovable allocations never get CMA frames. */
	for (got = 0; !mm_alloc_pages(f.mm, GFP_KERNEL, 0, &pfn); got++)
		ck_assert_uint_lt(pfn, area);
	ck_assert_uint_gt(got, FRAMES - cma_nr - 512);
	/* Give three quarters back; movable allocations take CMA too. */
	for (pfn = BASE; pfn < area; pfn++)
		if (mm_pfn_to_page(f.mm, pfn)->state == FRAME_GUEST && pfn % 4)
			ck_assert_int_eq(mm_free_pages(f.mm, pfn, 0), 0);
	while (cfx_alloc(&f.o, GFP_HIGHUSER_MOVABLE, 0) >= 0)
		;
	ck_assert_int_eq(mm_cma_info(f.mm, id, &info), 0);
	ck_assert_uint_lt(info.free, 64);
	for (unsigned i = 0; i < f.o.nr_h; i++)
		if (f.o.h[i].pfn < area && i % 2)
			cfx_free(&f.o, i);
	/* cma_alloc() migrates the movable frames out of half the area. */
	ck_assert_int_eq(mm_cma_alloc(f.mm, id, cma_nr / 2, 512, &pfn), 0);
	ck_assert_uint_ge(pfn, area);
	ck_assert_uint_le(pfn + cma_nr / 2, area + cma_nr);
	assert_range_guest(f.mm, pfn, pfn + cma_nr / 2);
	ck_assert_ptr_null(cfx_verify(&f.o));
	ck_assert_uint_gt(f.o.migrations, 0);
	ck_assert_int_eq(mm_cma_info(f.mm, id, &info), 0);
	ck_assert_uint_eq(info.allocated, cma_nr / 2);
	mm_get_stats(f.mm, &st);
	ck_assert_uint_eq(st.cma_total, cma_nr);
	ck_assert_uint_eq(st.cma_allocated, cma_nr / 2);
	ck_assert_uint_eq(pageblocks_of(f.mm, MIGRATE_CMA), 8);
	buddy_fx_assert_clean(f.mm);
	/* Errors, then the release. */
	ck_assert_int_eq(mm_cma_alloc(f.mm, id, cma_nr, 0, &pfn), -ENOMEM);
	ck_assert_int_eq(mm_cma_alloc(f.mm, 5, 16, 0, &pfn), -EINVAL);
	ck_assert_int_eq(mm_cma_release(f.mm, id, BASE, 16), -EINVAL);
	ck_assert_int_eq(mm_cma_alloc(f.mm, id, 16, 0, &got), 0);
	ck_assert_int_eq(mm_cma_release(f.mm, id, got, 16), 0);
	ck_assert_int_eq(mm_cma_release(f.mm, id, pfn, cma_nr / 2), 0);
	ck_assert_int_eq(mm_cma_info(f.mm, id, &info), 0);
	ck_assert_uint_eq(info.allocated, 0);
	for (pfn = BASE; pfn < area; pfn++)
		if (mm_pfn_to_page(f.mm, pfn)->state == FRAME_GUEST &&
		    (mm_pfn_to_page(f.mm, pfn)->flags & PG_HEAD) &&
		    !f.o.slot[pfn - BASE])
			ck_assert_int_eq(mm_free_pages(f.mm, pfn, 0), 0);
	cma_teardown(&f);
}
END_TEST

START_TEST(test_cma_declare_checks)
{
	struct cma_fx f;
	uint64_t pfn;

	cma_setup(&f, false);
	ck_assert_int_eq(mm_cma_declare(f.mm, BASE + 1, 512), -EINVAL);
	ck_assert_int_eq(mm_cma_declare(f.mm, BASE, 0), -EINVAL);
	ck_assert_int_eq(mm_alloc_pages(f.mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_int_eq(mm_cma_declare(f.mm, pfn & ~511ull, 1024), -EBUSY);
	ck_assert_int_eq(mm_cma_declare(f.mm, BASE + MIB_PFN(32), 1024), 0);
	ck_assert_int_eq(mm_cma_declare(f.mm, BASE + MIB_PFN(32), 1024),
			 -EBUSY);
	ck_assert_int_eq(mm_free_pages(f.mm, pfn, 0), 0);
	buddy_fx_assert_clean(f.mm);
	cma_teardown(&f);
}
END_TEST

static Suite *cma_suite(void)
{
	Suite *s = suite_create("cma");
	TCase *tc = tcase_create("cma");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_contig_range_migrates_movable_out);
	tcase_add_test(tc, test_contig_range_failure_undoes_isolation);
	tcase_add_test(tc, test_contig_pages_searches_past_pinned);
	tcase_add_test(tc, test_cma_lends_to_movable_and_takes_back);
	tcase_add_test(tc, test_cma_declare_checks);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(cma_suite)
