// SPDX-License-Identifier: MIT
/*
 * Unit tests for the page allocator core: init over ranges with holes,
 * exhaustion and recovery, coalescing, zone choice, watermarks,
 * lowmem_reserve, reserve_range, set_frames_state, bad frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/host/mm_port_impl.h"
#include "mm/mm.h"
#include "buddy_fx.h"
#include "unit.h"

/* DMA, some DMA32 on both sides of 1 GiB, the 3-4 GiB hole, some NORMAL. */
static const struct mm_range sparse[] = {
	{0, MIB_PFN(32)},
	{MIB_PFN(3072 - 16), MIB_PFN(3072)},
	{MIB_PFN(4096), MIB_PFN(4096 + 32)},
};

static const struct mm_config no_pcp = {.pcp_disabled = true};

static uint64_t zone_free(struct mm *mm, enum zone_type z)
{
	struct mm_zone_info zi;

	ck_assert_int_eq(mm_zone_info(mm, z, &zi), 0);
	return zi.free;
}

START_TEST(test_init_with_hole)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	struct mm_zone_info zi;
	struct mm_stats st;

	ck_assert_ptr_null(mm_pfn_to_page(mm, MIB_PFN(3072)));
	ck_assert_ptr_null(mm_pfn_to_page(mm, MIB_PFN(4096) - 1));
	ck_assert_ptr_null(mm_pfn_to_page(mm, MIB_PFN(32)));
	ck_assert_ptr_nonnull(mm_pfn_to_page(mm, MIB_PFN(4096)));
	ck_assert_int_eq(mm_pfn_zone(mm, 0), ZONE_DMA);
	ck_assert_int_eq(mm_pfn_zone(mm, MIB_PFN(3000)), -ERANGE);
	mm_zone_info(mm, ZONE_DMA, &zi);
	ck_assert(zi.populated);
	ck_assert_uint_eq(zi.present, MIB_PFN(16));
	ck_assert_uint_eq(zi.nr_free[MAX_PAGE_ORDER], 4);
	mm_zone_info(mm, ZONE_DMA32, &zi);
	ck_assert_uint_eq(zi.start_pfn, MIB_PFN(16));
	ck_assert_uint_eq(zi.end_pfn, MIB_PFN(3072));
	ck_assert_uint_eq(zi.present, MIB_PFN(32));
	ck_assert_uint_eq(zi.spanned, MIB_PFN(3072 - 16));
	mm_zone_info(mm, ZONE_MOVABLE, &zi);
	ck_assert(!zi.populated);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.total, MIB_PFN(80));
	ck_assert_uint_eq(st.frames[FRAME_FREE], st.total);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_init_rejects_bad_ranges)
{
	const struct mm_range overlap[] = {{0, 100}, {50, 200}};
	const struct mm_range empty[] = {{10, 10}};
	const struct mm_range touching[] = {{0, 512}, {512, 1024}};
	struct mm_config c = {.ranges = overlap, .nr_ranges = 2};
	struct buddy_fx fx;
	struct mm *mm;
	char meta[64] __attribute__((aligned(64)));

	ck_assert_uint_eq(mm_meta_size(&c), 0);
	c.ranges = empty;
	c.nr_ranges = 1;
	ck_assert_uint_eq(mm_meta_size(&c), 0);
	c.ranges = touching;
	c.nr_ranges = 2;
	ck_assert_int_eq(mm_init(&mm, &c, meta, sizeof(meta)), -ENOSPC);
	mm = buddy_fx_new(&fx, touching, 2, NULL);
	/* Touching ranges coalesce: one order-10 block. */
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA), 1024);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_exhaustion_and_recovery)
{
	const struct mm_range r[] = {{MIB_PFN(16), MIB_PFN(16 + 8)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, NULL);
	uint64_t *pfns = calloc(MIB_PFN(8), sizeof(*pfns));
	uint64_t n = 0, pfn;
	char before[512], after[512];
	struct mm_stats st;

	mm_format_buddyinfo(mm, before, sizeof(before));
	while (mm_alloc_pages(mm, GFP_KERNEL | __GFP_MEMALLOC, 0, &pfn) == 0)
		pfns[n++] = pfn;
	ck_assert_uint_eq(n, MIB_PFN(8));
	ck_assert_int_eq(
		mm_alloc_pages(mm, GFP_KERNEL | __GFP_MEMALLOC, 0, &pfn),
		-ENOMEM);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_GUEST], n);
	ck_assert_uint_ge(st.alloc_fail, 1);
	buddy_fx_assert_clean(mm);
	for (uint64_t i = 0; i < n; i++)
		ck_assert_int_eq(mm_free_pages(mm, pfns[i], 0), 0);
	mm_drain_pcp(mm);
	buddy_fx_assert_clean(mm);
	mm_format_buddyinfo(mm, after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 10, &pfn), 0);
	free(pfns);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_coalesce_random_order)
{
	const struct mm_range r[] = {{MIB_PFN(16), MIB_PFN(16 + 16)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &no_pcp);
	uint64_t n = 0, pfns[4096], pfn;
	unsigned seed = (unsigned)unit_seed();

	/* Mixed orders so frees meet buddies of every size. */
	for (unsigned o = 0;
	     mm_alloc_pages(mm, __GFP_MEMALLOC, o % 4, &pfn) == 0; o++)
		pfns[n++] = pfn << 4 | (o % 4);
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA32) < 8, 1);
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = (uint64_t)rand_r(&seed) % i, t = pfns[i - 1];

		pfns[i - 1] = pfns[j];
		pfns[j] = t;
	}
	for (uint64_t i = 0; i < n; i++) {
		ck_assert_int_eq(mm_free_pages(mm, pfns[i] >> 4, pfns[i] & 15),
				 0);
		if (i % 512 == 0)
			buddy_fx_assert_clean(mm);
	}
	buddy_fx_assert_clean(mm);
	{
		struct mm_zone_info zi;

		mm_zone_info(mm, ZONE_DMA32, &zi);
		ck_assert_uint_eq(zi.nr_free[MAX_PAGE_ORDER], 4);
		ck_assert_uint_eq(zi.free, MIB_PFN(16));
	}
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_zone_choice)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 3, &pfn), 0);
	ck_assert_uint_ge(pfn, MIB_PFN(4096));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_uint_ge(pfn, MIB_PFN(4096));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_DMA32, 2, &pfn), 0);
	ck_assert_uint_ge(pfn, MIB_PFN(16));
	ck_assert_uint_lt(pfn + 4, MIB_PFN(4096));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_DMA, 5, &pfn), 0);
	ck_assert_uint_lt(pfn + 32, MIB_PFN(16) + 1);
	/* GFP_DMA is the 24-bit class: the same as addr_bits 24. */
	ck_assert_int_eq(mm_alloc_pages_bits(mm, GFP_KERNEL, 0, 24, &pfn), 0);
	ck_assert_uint_lt(pfn, MIB_PFN(16));
	/* 30 bits: DMA32 straddles 1 GiB, only its low part qualifies. */
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(
			mm_alloc_pages_bits(mm, GFP_KERNEL, 4, 30, &pfn), 0);
		ck_assert_uint_le(pfn + 16, MIB_PFN(1024));
	}
	ck_assert_int_eq(mm_alloc_pages_bits(mm, GFP_KERNEL, 0, 11, &pfn),
			 -ENOMEM);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_DMA | GFP_DMA32, 0, &pfn),
			 -EINVAL);
	ck_assert_int_eq(mm_alloc_pages(mm, 1u << 20, 0, &pfn), -EINVAL);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, NR_PAGE_ORDERS, &pfn),
			 -EINVAL);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_movable_zone)
{
	const struct mm_range r[] = {{0, MIB_PFN(64)}};
	struct mm_config c = {.movable_pages = MIB_PFN(16)};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &c);
	struct mm_zone_info zi;
	uint64_t pfn;

	mm_zone_info(mm, ZONE_MOVABLE, &zi);
	ck_assert(zi.populated);
	ck_assert_uint_eq(zi.start_pfn, MIB_PFN(48));
	mm_zone_info(mm, ZONE_DMA32, &zi);
	ck_assert_uint_eq(zi.end_pfn, MIB_PFN(48));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE, 0, &pfn), 0);
	ck_assert_uint_ge(pfn, MIB_PFN(48));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_uint_lt(pfn, MIB_PFN(48));
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_DMA32 | __GFP_MOVABLE, 0, &pfn),
			 0);
	ck_assert_uint_lt(pfn, MIB_PFN(48));
	buddy_fx_free(&fx);
}
END_TEST

/* Take order-0 frames ignoring watermarks until @zone has @left free. */
static void drain_zone_to(struct mm *mm, gfp_t gfp, enum zone_type zone,
			  uint64_t left)
{
	uint64_t pfn;

	while (zone_free(mm, zone) > left)
		ck_assert_int_eq(
			mm_alloc_pages(mm, gfp | __GFP_MEMALLOC, 0, &pfn), 0);
}

START_TEST(test_watermarks)
{
	const struct mm_range r[] = {{MIB_PFN(16), MIB_PFN(16 + 64)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &no_pcp);
	struct mm_zone_info zi;
	uint64_t pfn;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	/* 64 MiB: min_free_kbytes = sqrt(65536 * 16) = 1024 KiB. */
	ck_assert_uint_eq(zi.min, 256);
	ck_assert_uint_eq(zi.low, 320);
	ck_assert_uint_eq(zi.high, 384);
	drain_zone_to(mm, GFP_KERNEL, ZONE_DMA32, zi.min + 1);
	/* Leaves exactly min: allowed. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA32), zi.min);
	/* Would drop below min: refused, __GFP_HIGH may go to min/2. */
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), -ENOMEM);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_ATOMIC, 0, &pfn), 0);
	drain_zone_to(mm, GFP_KERNEL, ZONE_DMA32, zi.min / 2 + 1);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_ATOMIC, 0, &pfn), 0);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_ATOMIC, 0, &pfn), -ENOMEM);
	ck_assert_int_eq(mm_alloc_pages(mm, __GFP_MEMALLOC, 0, &pfn), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_watermarks_pcp_refill)
{
	const struct mm_range r[] = {{MIB_PFN(16), MIB_PFN(16 + 64)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, NULL);
	struct mm_zone_info zi;
	uint64_t pfn, n = 0;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	while (mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn) == 0)
		n++;
	/* The per-CPU refill stopped exactly at min. */
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA32), zi.min);
	ck_assert_uint_eq(n, zi.present - zi.min);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_lowmem_reserve)
{
	const struct mm_range r[] = {{0, MIB_PFN(16 + 64)}};
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, &no_pcp);
	struct mm_zone_info dma, dma32;
	uint64_t pfn;

	mm_zone_info(mm, ZONE_DMA, &dma);
	mm_zone_info(mm, ZONE_DMA32, &dma32);
	ck_assert_uint_eq(dma.lowmem_reserve[ZONE_DMA32], dma32.managed / 256);
	ck_assert_uint_eq(dma.lowmem_reserve[ZONE_DMA], 0);
	drain_zone_to(mm, GFP_DMA32, ZONE_DMA32, 0);
	/* GFP_KERNEL falls back to DMA but leaves min + reserve there. */
	while (mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn) == 0)
		ck_assert_uint_lt(pfn, MIB_PFN(16));
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA),
			  dma.min + dma.lowmem_reserve[ZONE_DMA32]);
	/* A GFP_DMA request may go on down to min. */
	while (mm_alloc_pages(mm, GFP_DMA, 0, &pfn) == 0)
		;
	ck_assert_uint_eq(zone_free(mm, ZONE_DMA), dma.min);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

static void assert_bad_free(struct mm *mm, uint64_t pfn, unsigned order,
			    int err)
{
	struct mm_stats before, after;
	char a[1024], b[1024];

	mm_get_stats(mm, &before);
	mm_format_buddyinfo(mm, a, sizeof(a));
	ck_assert_int_eq(mm_free_pages(mm, pfn, order), err);
	mm_get_stats(mm, &after);
	mm_format_buddyinfo(mm, b, sizeof(b));
	ck_assert_uint_eq(after.bad_free, before.bad_free + 1);
	ck_assert_mem_eq(after.frames, before.frames, sizeof(after.frames));
	ck_assert_str_eq(a, b);
	buddy_fx_assert_clean(mm);
}

static void check_bad_frees(const struct mm_config *cfg)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, cfg);
	uint64_t p0, p3, pb;

	ck_assert_int_eq(mm_reserve_range(mm, 0, 16), 0);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &p0), 0);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 3, &p3), 0);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 2, &pb), 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pb + 1, 1, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	assert_bad_free(mm, MIB_PFN(3500), 0, -ERANGE);	   /* hole */
	assert_bad_free(mm, MIB_PFN(1) << 20, 0, -ERANGE); /* beyond RAM */
	assert_bad_free(mm, p3 + 1, 0, -EINVAL);	   /* a tail */
	assert_bad_free(mm, p3, 2, -EINVAL);		   /* wrong order */
	assert_bad_free(mm, p3, 4, -EINVAL); /* wrong order, bigger */
	assert_bad_free(mm, p3, NR_PAGE_ORDERS, -EINVAL);
	assert_bad_free(mm, 3, 0, -EINVAL);	      /* reserved */
	assert_bad_free(mm, MIB_PFN(20), 0, -EINVAL); /* free */
	assert_bad_free(mm, pb, 2, -EINVAL);	      /* a frame ballooned */
	assert_bad_free(mm, pb + 1, 0, -EINVAL);      /* balloon tail */
	ck_assert_int_eq(mm_free_pages(mm, p0, 0), 0);
	assert_bad_free(mm, p0, 0, -EINVAL); /* double free */
	ck_assert_int_eq(mm_free_pages(mm, p3, 3), 0);
	assert_bad_free(mm, p3, 3, -EINVAL); /* double free */
	buddy_fx_free(&fx);
}

START_TEST(test_bad_frees)
{
	check_bad_frees(NULL);
	check_bad_frees(&no_pcp);
}
END_TEST

static unsigned log_lines;

static void count_log(const char *line)
{
	ck_assert_ptr_nonnull(strstr(line, "bad free"));
	log_lines++;
}

START_TEST(test_bad_free_log_rate_limited)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	struct mm_stats st;

	log_lines = 0;
	mm_port_set_log_sink(count_log);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(mm_free_pages(mm, MIB_PFN(20), 0), -EINVAL);
	mm_port_set_log_sink(NULL);
	/* The first 10, then the 16th, 32nd and 64th. */
	ck_assert_uint_eq(log_lines, 13);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.bad_free, 100);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_reserve_range)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	struct mm_zone_info before, after;
	struct mm_stats st;
	uint64_t pfn;

	mm_zone_info(mm, ZONE_DMA, &before);
	ck_assert_int_eq(mm_reserve_range(mm, 0, 256 + 3), 0);
	ck_assert_int_eq(mm_reserve_range(mm, 1000, 10), 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_RESERVED], 269);
	ck_assert_int_eq(mm_pfn_to_page(mm, 258)->state, FRAME_RESERVED);
	ck_assert_int_eq(mm_pfn_to_page(mm, 259)->state, FRAME_FREE);
	mm_zone_info(mm, ZONE_DMA, &after);
	ck_assert_uint_eq(after.managed, before.managed - 269);
	ck_assert_uint_eq(after.free, before.free - 269);
	ck_assert_int_eq(mm_reserve_range(mm, 250, 20), -EBUSY);
	ck_assert_int_eq(mm_reserve_range(mm, MIB_PFN(32) - 1, 2), -ERANGE);
	ck_assert_int_eq(mm_reserve_range(mm, MIB_PFN(3500), 1), -ERANGE);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfn), 0);
	ck_assert_int_eq(mm_reserve_range(mm, pfn, 1), -EBUSY);
	buddy_fx_assert_clean(mm);
	while (mm_alloc_pages(mm, GFP_DMA | __GFP_MEMALLOC, 0, &pfn) == 0)
		ck_assert(pfn >= 259 && (pfn < 1000 || pfn >= 1010));
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_set_frames_state)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	struct mm_stats st;
	uint64_t pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_DMA32, 2, &pfn), 0);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 4, FRAME_GUEST, FRAME_DMA, 7), 0);
	ck_assert_uint_eq(mm_pfn_to_page(mm, pfn + 3)->owner, 7);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_DMA], 4);
	/* All or none: the frame after the block is FREE. */
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 5, FRAME_DMA, FRAME_GUEST, 0),
		-EINVAL);
	ck_assert_int_eq(mm_pfn_to_page(mm, pfn)->state, FRAME_DMA);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 4, FRAME_GUEST, FRAME_BALLOON, 0),
		-EINVAL);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 4, FRAME_DMA, FRAME_BALLOON, 0),
		-EINVAL);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 4, FRAME_FREE, FRAME_GUEST, 0),
		-EINVAL);
	ck_assert_int_eq(mm_set_frames_state(mm, MIB_PFN(3500), 1, FRAME_GUEST,
					     FRAME_DMA, 0),
			 -ERANGE);
	ck_assert_int_eq(
		mm_set_frames_state(mm, pfn, 4, FRAME_DMA, FRAME_GUEST, 0), 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 2, 2, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_BALLOON], 2);
	ck_assert_uint_eq(st.frames[FRAME_DMA], 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 2, 2, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	ck_assert_int_eq(mm_free_pages(mm, pfn, 2), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

START_TEST(test_get_order_and_bulk)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	uint64_t pfns[64];

	ck_assert_uint_eq(mm_get_order(0), 0);
	ck_assert_uint_eq(mm_get_order(1), 0);
	ck_assert_uint_eq(mm_get_order(4096), 0);
	ck_assert_uint_eq(mm_get_order(4097), 1);
	ck_assert_uint_eq(mm_get_order(4u << 20), 10);
	ck_assert_int_eq(mm_alloc_bulk(mm, GFP_KERNEL, 1, 64, pfns), 64);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(mm_free_pages(mm, pfns[i], 1), 0);
	ck_assert_int_eq(mm_alloc_bulk(mm, GFP_KERNEL, NR_PAGE_ORDERS, 1, pfns),
			 -EINVAL);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

/* An order-9 block split in order-0 pages, which go back one by one. */
START_TEST(test_split_block)
{
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, sparse, 3, NULL);
	char why[128];
	uint64_t pfn, free_pfn;

	ck_assert_int_eq(mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE, 9, &pfn), 0);
	/* Not a head, the wrong order, not RAM: refused, nothing changes. */
	ck_assert_int_eq(mm_split_block(mm, pfn + 1, 0), -EINVAL);
	ck_assert_int_eq(mm_split_block(mm, pfn, 8), -EINVAL);
	ck_assert_int_eq(mm_split_block(mm, pfn, NR_PAGE_ORDERS), -EINVAL);
	ck_assert_int_eq(mm_split_block(mm, MIB_PFN(3500), 0), -ERANGE);
	ck_assert_int_eq(mm_alloc_pages(mm, GFP_KERNEL, 0, &free_pfn), 0);
	ck_assert_int_eq(mm_free_pages(mm, free_pfn, 0), 0);
	ck_assert_int_eq(mm_split_block(mm, free_pfn, 0), -EINVAL);
	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), 0);
	ck_assert_int_eq(mm_split_block(mm, pfn, 9), 0);
	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), 0);
	ck_assert_uint_eq(mm_pfn_to_page(mm, pfn + 511)->order, 0);
	ck_assert_uint_eq(mm_pfn_to_page(mm, pfn + 511)->migratetype,
			  MIGRATE_MOVABLE);
	/* The whole block is gone: only pages now. */
	ck_assert_int_eq(mm_free_pages(mm, pfn, 9), -EINVAL);
	/* Some pages change state on their own, then all go home. */
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 7, 1, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	ck_assert_int_eq(mm_set_frames_state(mm, pfn + 7, 1, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	for (uint64_t i = 0; i < 512; i += 2)
		ck_assert_int_eq(mm_free_pages(mm, pfn + i, 0), 0);
	ck_assert_int_eq(mm_check(mm, why, sizeof(why)), 0);
	for (uint64_t i = 1; i < 512; i += 2)
		ck_assert_int_eq(mm_free_pages(mm, pfn + i, 0), 0);
	buddy_fx_assert_clean(mm);
	buddy_fx_free(&fx);
}
END_TEST

static Suite *buddy_suite(void)
{
	Suite *s = suite_create("buddy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_init_with_hole);
	tcase_add_test(tc, test_init_rejects_bad_ranges);
	tcase_add_test(tc, test_exhaustion_and_recovery);
	tcase_add_test(tc, test_coalesce_random_order);
	tcase_add_test(tc, test_zone_choice);
	tcase_add_test(tc, test_movable_zone);
	tcase_add_test(tc, test_watermarks);
	tcase_add_test(tc, test_watermarks_pcp_refill);
	tcase_add_test(tc, test_lowmem_reserve);
	tcase_add_test(tc, test_bad_frees);
	tcase_add_test(tc, test_bad_free_log_rate_limited);
	tcase_add_test(tc, test_reserve_range);
	tcase_add_test(tc, test_set_frames_state);
	tcase_add_test(tc, test_get_order_and_bulk);
	tcase_add_test(tc, test_split_block);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(buddy_suite)
