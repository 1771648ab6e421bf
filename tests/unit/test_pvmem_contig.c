// SPDX-License-Identifier: MIT
/*
 * Unit tests for DMA_ALLOC above 4 MiB (pvmem ABI 1.2,
 * devices/pvmem_contig.c): ranges of whole pageblocks below dma_bits,
 * emptied by migration when the request allows it (__GFP_DIRECT_RECLAIM),
 * through the guest's ring when the guest owns the blocks in the way, from
 * the CMA area first when there is one; and each reason for failure as its
 * own status. RAM is the fixture's: [0, 64 MiB) and [4 GiB, +16 MiB).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mm/gfp.h"
#include "mm/host/mm_port_impl.h"
#include "pvmem_fx.h"
#include "unit.h"

#define MiB	(1ull << 20)
#define DEV	2
#define ANS_GPA 0x120000ull /* struct pvmem_mig_ans[64], in the image */

static void quiet_log(const char *line)
{
}

static void contig_setup(void)
{
	mm_port_set_log_sink(quiet_log);
	fx_setup();
}

static void contig_teardown(void)
{
	fx_teardown();
	mm_port_set_log_sink(NULL);
}

/* DMA_ALLOC with @gfp; *@result gets the result field. */
static int dma_alloc_gfp(uint64_t size, unsigned bits, uint32_t gfp,
			 uint64_t *result)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_DMA_ALLOC);

	r->device_id = DEV;
	r->size = size;
	r->dma_bits = (uint8_t)bits;
	r->gfp = gfp;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	*result = r->result;
	return r->status;
}

/* A host-side owner that moves its blocks at once (copy, switch). */
static unsigned sync_moves;

static int sync_migrate(void *opaque, uint64_t dst, uint64_t src,
			unsigned order, enum migrate_mode mode)
{
	memcpy(fx_ptr(dst << 12), fx_ptr(src << 12), PAGE_SIZE << order);
	sync_moves++;
	return 0;
}

static void sync_putback(void *opaque, uint64_t pfn, unsigned order)
{
}

static const struct mm_movable_ops sync_ops = {
	.migrate = sync_migrate,
	.putback = sync_putback,
};

/*
 * Fill RAM below 4 GiB with order-0 guest frames, then free all but one in
 * every pageblock (@keep_most: all but one in four). The survivors are
 * pinned (no owner), or movable by @owner when @owner > 0.
 */
static void fragment(int owner, bool keep_most)
{
	static uint64_t pfns[32768];
	uint32_t gfp =
		(owner > 0 ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL) | __GFP_DMA32;
	unsigned n = 0, done;

	/* Hold everything first, so that no frame is handed out twice. */
	while (n + 512 <= 32768 && !fx_alloc(gfp, 0, 512, pfns + n, &done))
		n += done;
	n += done;
	for (unsigned i = 0; i < n; i++) {
		bool keep = !(pfns[i] % PAGEBLOCK_NR_PAGES) ||
			    (keep_most && pfns[i] % 4);

		if (!keep)
			ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
		else if (owner > 0)
			ck_assert_int_eq(mm_set_movable_owner(fx.mm, pfns[i], 0,
							      (uint32_t)owner),
					 0);
	}
}

/* Frames below 4 GiB that are free now. */
static uint64_t free_below_4g(void)
{
	struct mm_zone_info a, b;

	mm_zone_info(fx.mm, ZONE_DMA, &a);
	mm_zone_info(fx.mm, ZONE_DMA32, &b);
	return a.free + b.free;
}

START_TEST(test_large_dma_in_empty_ram)
{
	static const uint64_t sizes[] = {6 * MiB, 8 * MiB, 16 * MiB};
	uint64_t gpa[3], dma0 = fx_frames(FRAME_DMA);

	for (unsigned i = 0; i < 3; i++) {
		uint64_t nr = sizes[i] / PAGE_SIZE;

		ck_assert_int_eq(dma_alloc_gfp(sizes[i], 32,
					       GFP_KERNEL | __GFP_ZERO,
					       &gpa[i]),
				 0);
		ck_assert_uint_eq(gpa[i] % (2 * MiB), 0);
		ck_assert_uint_le(gpa[i] + nr * PAGE_SIZE, 4ull << 30);
		ck_assert(
			pvmem_dma_contains(fx.p, DEV, gpa[i], nr * PAGE_SIZE));
		ck_assert(!pvmem_dma_contains(fx.p, DEV + 1, gpa[i], 4096));
		ck_assert_uint_eq(
			*(uint64_t *)fx_ptr(gpa[i] + nr * PAGE_SIZE - 8), 0);
	}
	/* Above 4 MiB, whole pageblocks: 6 MiB is 1536 frames, not 2048. */
	ck_assert_uint_eq(fx_frames(FRAME_DMA) - dma0, 1536 + 2048 + 4096);
	fx_assert_consistent();
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(fx_dma_free(DEV, gpa[i]), 0);
	ck_assert_uint_eq(fx_frames(FRAME_DMA), dma0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_large_dma_error_codes)
{
	uint64_t res;

	/* Above the limit; the limit is in INFO. */
	ck_assert_int_eq(dma_alloc_gfp(PVMEM_MAX_DMA_BYTES + 1, 64, 0, &res),
			 -E2BIG);
	/* No 64 MiB range in one zone in this RAM, none of 32 below 16 MiB. */
	ck_assert_int_eq(dma_alloc_gfp(64 * MiB, 64, GFP_KERNEL, &res),
			 -EADDRNOTAVAIL);
	ck_assert_int_eq(dma_alloc_gfp(32 * MiB, 24, GFP_KERNEL, &res),
			 -EADDRNOTAVAIL);
	/* The page limit counts every frame, and takes nothing on failure. */
	pvmem_set_max_pages(fx.p, pvmem_tot_pages(fx.p) + 2047);
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 64, GFP_KERNEL, &res), -EDQUOT);
	ck_assert_int_eq(dma_alloc_gfp(5 * MiB, 64, GFP_KERNEL, &res), 0);
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	pvmem_set_max_pages(fx.p, 0 - 1ull);
	/* A pinned frame in every pageblock below 4 GiB: nothing to empty. */
	fragment(0, false);
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 32, GFP_KERNEL, &res), -EBUSY);
	/* ... while the Normal zone above 4 GiB still has a range. */
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 64, GFP_KERNEL, &res), 0);
	ck_assert_uint_ge(res, 4ull << 30);
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_large_dma_migrates_only_when_allowed)
{
	int owner = mm_register_movable_owner(fx.mm, &sync_ops, NULL);
	struct pvmem_info *info;
	struct pvmem_block *b;
	uint64_t res;

	ck_assert_int_gt(owner, 0);
	/* Every pageblock below 4 GiB holds one movable frame. */
	fragment(owner, false);
	sync_moves = 0;
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 32, GFP_NOWAIT, &res), -EBUSY);
	ck_assert_uint_eq(sync_moves, 0);
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 32, GFP_KERNEL, &res), 0);
	ck_assert_uint_eq(sync_moves, 4); /* one frame per pageblock */
	ck_assert_uint_lt(res, 4ull << 30);
	fx_assert_consistent();
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	/* The limit and the feature are in INFO. */
	b = fx_block_begin(FX_BLOCK_GPA);
	fx_block_add(b, PVMEM_OP_INFO)->addr = FX_OUT_GPA;
	b->reqs[0].size = sizeof(*info);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	info = fx_ptr(FX_OUT_GPA);
	ck_assert_uint_eq(info->max_dma_bytes, PVMEM_MAX_DMA_BYTES);
	ck_assert(info->features & PVMEM_F_CONTIG_DMA);
	ck_assert_uint_ge(info->abi_minor, 2);
}
END_TEST

START_TEST(test_stats_carry_buddyinfo)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_stats *st = fx_ptr(FX_OUT_GPA);
	struct mm_zone_info zi;

	fx_block_add(b, PVMEM_OP_STATS)->addr = FX_OUT_GPA;
	b->reqs[0].size = sizeof(*st);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_uint_eq(b->reqs[0].done, sizeof(*st));
	mm_zone_info(fx.mm, ZONE_DMA32, &zi);
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		ck_assert_uint_eq(st->nr_free[ZONE_DMA32][o], zi.nr_free[o]);
	ck_assert_uint_gt(st->nr_free[ZONE_DMA32][MAX_PAGE_ORDER], 0);
}
END_TEST

START_TEST(test_large_dma_enomem)
{
	int owner = mm_register_movable_owner(fx.mm, &sync_ops, NULL);
	uint64_t res;

	/* Three quarters of the frames below 4 GiB stay held and movable:
	 * fewer free frames than a 32 MiB range would need as targets. */
	fragment(owner, true);
	ck_assert_uint_lt(free_below_4g(), 32 * MiB / PAGE_SIZE);
	ck_assert_int_eq(dma_alloc_gfp(32 * MiB, 32, GFP_KERNEL, &res),
			 -ENOMEM);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_small_dma_falls_back_to_contig)
{
	int owner = mm_register_movable_owner(fx.mm, &sync_ops, NULL);
	uint64_t res;

	/* No free 2 MiB block below 4 GiB, but movable frames only. */
	fragment(owner, false);
	ck_assert_int_eq(dma_alloc_gfp(2 * MiB, 32, GFP_NOWAIT, &res), -ENOMEM);
	ck_assert_int_eq(dma_alloc_gfp(2 * MiB, 32, GFP_KERNEL, &res), 0);
	ck_assert(pvmem_dma_contains(fx.p, DEV, res, 2 * MiB));
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	fx_assert_consistent();
}
END_TEST

/* Lines of the file @fd that contain @what (the file is closed). */
static unsigned count_lines(int fd, const char *what)
{
	FILE *f = fdopen(fd, "r");
	char line[512];
	unsigned n = 0, all = 0;

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		all++;
		n += strstr(line, what) != NULL;
	}
	fclose(f);
	return n == all ? n : UINT32_MAX;
}

/* The guest's side: answer every request in the ring with "copied". */
static unsigned guest_drain(struct pvmem_mig_ring *ring)
{
	struct pvmem_mig_ans *ans = fx_ptr(ANS_GPA);
	struct pvmem_block *b;
	struct pvmem_req *r;
	unsigned n = 0;

	while (ring->tail != ring->head && n < 64) {
		struct pvmem_mig_req *q =
			&ring->reqs[ring->tail % PVMEM_MIG_SLOTS];

		memcpy(fx_ptr(q->dst << 12), fx_ptr(q->src << 12),
		       PAGE_SIZE << q->order);
		ans[n++] = (struct pvmem_mig_ans){
			.src = q->src, .dst = q->dst, .order = q->order};
		ring->tail++;
	}
	if (!n)
		return 0;
	b = fx_block_begin(FX_BLOCK_GPA);
	r = fx_block_add(b, PVMEM_OP_MIGRATE_ANSWER);
	r->count = n;
	r->addr = ANS_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_uint_eq(r->done, n);
	return n;
}

START_TEST(test_large_dma_guest_moves_its_blocks)
{
	static uint64_t pfns[32768];
	struct pvmem_mig_ring *ring;
	struct pvmem_block *b;
	unsigned n = 0, done, rounds = 0, moved = 0;
	char path[] = "/tmp/contig-log.XXXXXX";
	int log = mkstemp(path), saved;
	uint64_t none;
	uint64_t res;
	int st;

	b = fx_block_begin(FX_BLOCK_GPA);
	fx_block_add(b, PVMEM_OP_MIGRATE_SETUP);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(b->reqs[0].status, 0);
	ring = fx_ptr(b->reqs[0].result);
	/* Movable guest blocks (owner: the guest) in every pageblock. */
	while (!fx_alloc(GFP_HIGHUSER_MOVABLE | __GFP_DMA32, 0, 512, pfns + n,
			 &done) &&
	       n + 1024 <= 32768)
		n += done;
	n += done;
	for (unsigned i = 0; i < n; i++)
		if (pfns[i] % 256)
			ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
	/* Each answer "retry" posts a ring's worth; the guest drains. A
	 * retry is no failure: it is not logged... */
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(log, 0);
	dup2(log, STDERR_FILENO);
	while ((st = dma_alloc_gfp(8 * MiB, 32, GFP_KERNEL, &res)) == -EAGAIN) {
		ck_assert_uint_gt(res, 0);
		ck_assert_uint_le(res, PVMEM_MIG_SLOTS);
		moved += guest_drain(ring);
		ck_assert_uint_lt(++rounds, 20);
	}
	/* ... nor does it use up the log's budget: 8 failures, 8 lines. */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(dma_alloc_gfp(64 * MiB, 64, GFP_KERNEL, &none),
				 -EADDRNOTAVAIL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_uint_eq(count_lines(log, "no range that large"), 8);
	unlink(path);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_ge(rounds, 1);
	ck_assert_uint_eq(moved, 8 * MiB / PAGE_SIZE / 256);
	fx_assert_consistent();
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	/* Without __GFP_DIRECT_RECLAIM the guest is never asked. */
	ck_assert_int_eq(dma_alloc_gfp(32 * MiB, 32, GFP_NOWAIT, &res), -EBUSY);
	ck_assert_uint_eq(ring->head, ring->tail);
}
END_TEST

START_TEST(test_large_dma_from_cma_first)
{
	int owner = mm_register_movable_owner(fx.mm, &sync_ops, NULL);
	uint64_t cma_pfn, res;
	char text[4096];

	/* The device must find the area when it is created (as in a VM). */
	pvmem_destroy(fx.p);
	ck_assert_int_ge(mm_cma_reserve(fx.mm, ZONE_DMA32, 8 * MiB / PAGE_SIZE,
					&cma_pfn),
			 0);
	ck_assert_int_eq(pvmem_create(&fx.p, fx.fdb, NULL), 0);
	/* Movable frames land in the area too; outside it, pinned ones. */
	fragment(owner, false);
	sync_moves = 0;
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 32, GFP_KERNEL, &res), 0);
	ck_assert_uint_eq(res, cma_pfn << 12);
	ck_assert_int_eq(mm_get_pageblock_migratetype(fx.mm, cma_pfn),
			 MIGRATE_CMA);
	pvmem_format_stats(fx.p, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "dma_contig_cma 1\n"));
	fx_assert_consistent();
	ck_assert_int_eq(fx_dma_free(DEV, res), 0);
	ck_assert_int_eq(mm_get_pageblock_migratetype(fx.mm, cma_pfn),
			 MIGRATE_CMA);
	fx_assert_consistent();
}
END_TEST

/* A device reset releases its large buffers like its small ones. */
START_TEST(test_large_dma_released_by_reset)
{
	uint64_t a, b, dma0 = fx_frames(FRAME_DMA),
		       tot0 = pvmem_tot_pages(fx.p);

	ck_assert_int_eq(dma_alloc_gfp(16 * MiB, 32, GFP_KERNEL, &a), 0);
	ck_assert_int_eq(dma_alloc_gfp(8 * MiB, 64, GFP_KERNEL, &b), 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0 + 6144);
	ck_assert_uint_eq(pvmem_dma_release_device(fx.p, DEV), 2);
	ck_assert_uint_eq(fx_frames(FRAME_DMA), dma0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot0);
	ck_assert(!pvmem_dma_contains(fx.p, DEV, a, 4096));
	ck_assert_int_eq(fx_dma_free(DEV, a), -ENOENT);
	fx_assert_consistent();
}
END_TEST

/* Failures are logged: the first 8, then one in 1024; -EAGAIN never. */
START_TEST(test_large_dma_failures_logged_rate_limited)
{
	char path[] = "/tmp/contig-log.XXXXXX", line[512];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	unsigned lines = 0, why = 0;
	uint64_t res;
	FILE *f;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	for (unsigned i = 0; i < 1100; i++)
		dma_alloc_gfp(64 * MiB, 64, GFP_KERNEL, &res);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		why += strstr(line, "DMA_ALLOC of 67108864 bytes for device 2 "
				    "below 2^64 failed: no range that large "
				    "below dma_bits") != NULL;
	}
	fclose(f);
	unlink(path);
	/* Requests 0..7, then 1024; the 8th says what follows. */
	ck_assert_uint_eq(lines, 9);
	ck_assert_uint_eq(why, 9);
}
END_TEST

static Suite *pvmem_contig_suite(void)
{
	Suite *s = suite_create("pvmem_contig");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, contig_setup, contig_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_large_dma_in_empty_ram);
	tcase_add_test(tc, test_large_dma_error_codes);
	tcase_add_test(tc, test_large_dma_migrates_only_when_allowed);
	tcase_add_test(tc, test_large_dma_enomem);
	tcase_add_test(tc, test_stats_carry_buddyinfo);
	tcase_add_test(tc, test_small_dma_falls_back_to_contig);
	tcase_add_test(tc, test_large_dma_guest_moves_its_blocks);
	tcase_add_test(tc, test_large_dma_from_cma_first);
	tcase_add_test(tc, test_large_dma_released_by_reset);
	tcase_add_test(tc, test_large_dma_failures_logged_rate_limited);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(pvmem_contig_suite)
