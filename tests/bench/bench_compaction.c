// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_compaction.c - compaction on the host side
 * (docs/compaction.md):
 *
 *  1. throughput: MiB of memory migrated per second by a full compaction
 *     of a fragmented 256 MiB zone whose owner copies every byte of every
 *     frame it moves (a host buffer stands for guest RAM), beside a plain
 *     memcpy() of the same bytes as the limit (goal: >= 50% of it);
 *  2. order-9 blocks after a fragmenting workload (movable page-cache-like
 *     blocks interleaved with unmovable slab-like frames, then random
 *     frees), as a percentage of the theoretical maximum: free frames / 512
 *     minus the pageblocks pinned by unmovable frames (goal: >= 95%); the
 *     same through direct compaction (allocation after allocation), which
 *     the watermarks stop a few blocks short;
 *  3. a 64 MiB mm_alloc_contig_pages() in such a fragmented zone.
 *
 * Runs are repeated (fresh instance each) and the median is printed; each
 * ratio is taken run by run (a compaction against the memcpy() measured
 * right after it), as the build machines are shared and noisy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/bench/bench_goal.h"
#include "mm/mm.h"
#include "tests/unit/compaction_fx.h"

#define RUNS	  9
#define RAM_PAGES (256ull << (20 - PAGE_SHIFT)) /* 256 MiB */
#define BASE_PFN  (16ull << (20 - PAGE_SHIFT))	/* all of it DMA32 */

struct bench {
	struct mm *mm;
	void *meta;
	struct cfx_owner o;
	uint64_t seed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench_init(struct bench *b, bool touch_all, uint64_t seed)
{
	static const struct mm_range r[] = {{BASE_PFN, BASE_PFN + RAM_PAGES}};
	struct mm_config c = {.ranges = r, .nr_ranges = 1};
	size_t size = (mm_meta_size(&c) + 63) & ~(size_t)63;

	memset(b, 0, sizeof(*b));
	b->meta = aligned_alloc(64, size);
	if (!b->meta || mm_init(&b->mm, &c, b->meta, size)) {
		fprintf(stderr, "bench: mm_init failed\n");
		exit(1);
	}
	cfx_init(&b->o, b->mm, BASE_PFN, RAM_PAGES, RAM_PAGES);
	b->o.touch_all = touch_all;
	b->seed = seed;
}

static void bench_fini(struct bench *b)
{
	cfx_destroy(&b->o);
	free(b->meta);
}

/* Movable order-0 frames everywhere, then 3 in 4 of them freed at random. */
static void fragment_movable(struct bench *b)
{
	while (cfx_alloc(&b->o, GFP_HIGHUSER_MOVABLE, 0) >= 0)
		;
	for (unsigned i = 0; i < b->o.nr_h; i++)
		if (cfx_rand(&b->seed) % 4)
			cfx_free(&b->o, i);
}

/*
 * A page cache and a slab growing together: movable blocks of order 0-2
 * and, one allocation in 24, an unmovable frame; then 60% of the movable
 * blocks and a third of the unmovable frames go away at random.
 */
static unsigned fragment_mixed(struct bench *b, uint64_t *unmov, unsigned max)
{
	unsigned n = 0;

	for (;;) {
		if (cfx_rand(&b->seed) % 24 == 0 && n < max) {
			if (mm_alloc_pages(b->mm, GFP_KERNEL, 0, &unmov[n]))
				break;
			n++;
		} else if (cfx_alloc(&b->o, GFP_HIGHUSER_MOVABLE,
				     (unsigned)(cfx_rand(&b->seed) % 3)) < 0) {
			break;
		}
	}
	for (unsigned i = 0; i < b->o.nr_h; i++)
		if (cfx_rand(&b->seed) % 10 < 6)
			cfx_free(&b->o, i);
	for (unsigned i = 0; i < n;) {
		if (cfx_rand(&b->seed) % 3 == 0) {
			mm_free_pages(b->mm, unmov[i], 0);
			unmov[i] = unmov[--n];
		} else {
			i++;
		}
	}
	mm_drain_pcp(b->mm);
	return n;
}

static uint64_t zone_free(struct mm *mm, uint64_t *order9)
{
	struct mm_zone_info zi;

	mm_zone_info(mm, ZONE_DMA32, &zi);
	*order9 = 0;
	for (unsigned o = PAGEBLOCK_ORDER; o < NR_PAGE_ORDERS; o++)
		*order9 += zi.nr_free[o] << (o - PAGEBLOCK_ORDER);
	return zi.free;
}

/* Pageblocks holding at least one of the @n unmovable frames. */
static uint64_t pinned_blocks(const uint64_t *unmov, unsigned n)
{
	static uint8_t seen[RAM_PAGES / PAGEBLOCK_NR_PAGES];
	uint64_t blocks = 0;

	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++) {
		uint64_t pb = (unmov[i] - BASE_PFN) / PAGEBLOCK_NR_PAGES;

		blocks += !seen[pb];
		seen[pb] = 1;
	}
	return blocks;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void check_owner(struct bench *b)
{
	const char *why = cfx_verify(&b->o);
	char buf[256];

	if (why || mm_check(b->mm, buf, sizeof(buf))) {
		fprintf(stderr, "bench: %s\n", why ? why : buf);
		exit(1);
	}
}

/* The same compaction with an owner that does not copy: the bookkeeping. */
static double compaction_nocopy_mib_s(void)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++) {
		struct mm_compact_result res;
		struct bench b;
		double t;

		bench_init(&b, false, 42 + (uint64_t)r);
		fragment_movable(&b);
		b.o.no_copy = true;
		t = now_s();
		mm_compact_zone(b.mm, ZONE_DMA32, -1, MIGRATE_SYNC, &res);
		t = now_s() - t;
		v[r] = res.migrated * PAGE_SIZE / 1048576.0 / t;
		bench_fini(&b);
	}
	return median(v, RUNS);
}

/*
 * The copies alone: memcpy() of the same frames, page by page, from the
 * same sources to the same targets, in the same order.
 */
static double replay_copies(struct bench *b)
{
	double t = now_s();

	for (size_t i = 0; i < b->o.nr_log; i++)
		memcpy(b->o.mem + ((b->o.log[i].dst - BASE_PFN) << PAGE_SHIFT),
		       b->o.mem + ((b->o.log[i].src - BASE_PFN) << PAGE_SHIFT),
		       PAGE_SIZE);
	return now_s() - t;
}

static void bench_throughput(void)
{
	double cmp[RUNS], cpy[RUNS], pages[RUNS], ratio[RUNS], pratio[RUNS];
	double moved_mib = 0;
	size_t half = RAM_PAGES * PAGE_SIZE / 2;
	uint8_t *src = cfx_ram_alloc(half), *dst = cfx_ram_alloc(half);
	struct cfx_pending *log = calloc(RAM_PAGES, sizeof(*log));

	if (!src || !dst || !log)
		exit(1);
	memset(src, 1, half);
	memset(dst, 2, half);
	for (int r = 0; r < RUNS; r++) {
		struct mm_compact_result res;
		struct bench b;
		uint64_t bytes;
		double t;

		bench_init(&b, true, 42 + (uint64_t)r);
		fragment_movable(&b);
		b.o.log = log;
		b.o.max_log = RAM_PAGES;
		t = now_s();
		mm_compact_zone(b.mm, ZONE_DMA32, -1, MIGRATE_SYNC, &res);
		t = now_s() - t;
		bytes = res.migrated * PAGE_SIZE;
		moved_mib = bytes / 1048576.0;
		cmp[r] = moved_mib / t;
		check_owner(&b);
		pages[r] = moved_mib / replay_copies(&b);
		bench_fini(&b);
		/* The limit: one memcpy() of the same number of bytes. */
		t = now_s();
		memcpy(dst, src, bytes);
		t = now_s() - t;
		cpy[r] = moved_mib / t;
		/* Each run against its own limit, measured right after it. */
		ratio[r] = cmp[r] / cpy[r];
		pratio[r] = cmp[r] / pages[r];
	}
	double c = median(cmp, RUNS), m = median(cpy, RUNS);
	double p = median(pages, RUNS);
	/* Sorted by median(): the last is each one's best run. */
	double best = cmp[RUNS - 1] / cpy[RUNS - 1];

	printf("%-52s %10.0f MiB/s\n",
	       "compaction, full copy (256 MiB zone, 3/4 free)", c);
	printf("%-52s %10.0f MiB/s\n", "memcpy() of the same bytes (the limit)",
	       m);
	printf("%-52s %10.0f MiB/s\n",
	       "memcpy() of the same frames, page by page", p);
	printf("%-52s %10.0f MiB/s\n", "compaction, owner does not copy",
	       compaction_nocopy_mib_s());
	double rmed = 100.0 * median(ratio, RUNS);
	char verdict[BENCH_GOAL_LEN];

	printf("%-52s %10.0f %%     %s (%.0f MiB moved)\n",
	       "compaction / memcpy", rmed,
	       bench_goal(verdict, sizeof(verdict), rmed, ">=", 50, "%"),
	       moved_mib);
	printf("%-52s %10.0f %%\n", "compaction / memcpy, best runs of each",
	       100.0 * best);
	printf("%-52s %10.0f %%\n", "compaction / page-by-page memcpy",
	       100.0 * median(pratio, RUNS));
	cfx_ram_free(src, half);
	cfx_ram_free(dst, half);
	free(log);
}

static void bench_order9(void)
{
	static uint64_t unmov[RAM_PAGES / 16], pfns[RAM_PAGES / 512];
	double made[RUNS], direct[RUNS], contig_ms[RUNS];
	uint64_t theory_sum = 0, before_sum = 0;

	for (int r = 0; r < RUNS; r++) {
		struct bench b;
		uint64_t free, blocks, theory, got = 0, pfn;
		unsigned n;
		double t;

		/* Compaction of the whole zone (compact_memory). */
		bench_init(&b, false, 7 + (uint64_t)r);
		n = fragment_mixed(&b, unmov, RAM_PAGES / 16);
		free = zone_free(b.mm, &blocks);
		theory = free / PAGEBLOCK_NR_PAGES - pinned_blocks(unmov, n);
		theory_sum += theory;
		before_sum += blocks;
		mm_compact_memory(b.mm);
		zone_free(b.mm, &blocks);
		made[r] = 100.0 * (double)blocks / (double)theory;
		check_owner(&b);
		bench_fini(&b);

		/* The same workload, served by direct compaction. */
		bench_init(&b, false, 7 + (uint64_t)r);
		n = fragment_mixed(&b, unmov, RAM_PAGES / 16);
		while (!mm_alloc_pages(b.mm, GFP_HIGHUSER_MOVABLE, 9,
				       &pfns[got]))
			got++;
		direct[r] = 100.0 * (double)got / (double)theory;
		while (got--)
			mm_free_pages(b.mm, pfns[got], 9);
		check_owner(&b);
		bench_fini(&b);

		/* And 64 MiB contiguous in it. */
		bench_init(&b, false, 7 + (uint64_t)r);
		n = fragment_mixed(&b, unmov, RAM_PAGES / 16);
		t = now_s();
		if (mm_alloc_contig_pages(b.mm, 64ull << (20 - PAGE_SHIFT),
					  GFP_KERNEL, 0, 64, &pfn))
			contig_ms[r] = -1;
		else
			contig_ms[r] = (now_s() - t) * 1e3;
		check_owner(&b);
		bench_fini(&b);
	}
	printf("%-52s %10llu       of %llu theoretical\n",
	       "order-9 blocks free after the workload",
	       (unsigned long long)(before_sum / RUNS),
	       (unsigned long long)(theory_sum / RUNS));
	double mmed = median(made, RUNS);
	char verdict[BENCH_GOAL_LEN];

	printf("%-52s %10.1f %%     %s\n",
	       "order-9 blocks made by compaction / theoretical", mmed,
	       bench_goal(verdict, sizeof(verdict), mmed, ">=", 95, "%"));
	printf("%-52s %10.1f %%\n",
	       "order-9 allocations with direct compaction / theor.",
	       median(direct, RUNS));
	printf("%-52s %10.1f ms    (-1: failed)\n",
	       "64 MiB alloc_contig_pages in the fragmented zone",
	       median(contig_ms, RUNS));
}

int main(int argc, char **argv)
{
	/* "throughput", "order9" or "nocopy" runs one part (profiling). */
	const char *only = argc > 1 ? argv[1] : "";

	printf("bench_compaction: host-side compaction (median of %d runs)\n",
	       RUNS);
	if (!strcmp(only, "nocopy")) {
		printf("%.0f MiB/s\n", compaction_nocopy_mib_s());
		return 0;
	}
	if (strcmp(only, "order9"))
		bench_throughput();
	if (strcmp(only, "throughput"))
		bench_order9();
	return 0;
}
