// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_page_alloc.c - ns/op of the page allocator's paths.
 * Each figure is timed over a batch with CLOCK_MONOTONIC (never per op);
 * the table shows the median and the minimum of RUNS batches.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm/mm.h"
#include "mm/port.h"
#include "tests/bench/bench_goal.h"

/*
 * Many short runs (a few ms each) rather than a few long ones: the build
 * machines are shared, and a short run is likely to get a whole time slice,
 * so the median reflects the code rather than the neighbours.
 */
#define RUNS	  31
#define RAM_PAGES (256ull << (20 - PAGE_SHIFT)) /* 256 MiB */
#define BASE_PFN  (16ull << (20 - PAGE_SHIFT))	/* all of it DMA32 */

static struct mm *bench_mm(bool pcp_disabled, void **meta)
{
	static const struct mm_range r[] = {{BASE_PFN, BASE_PFN + RAM_PAGES}};
	struct mm_config c = {
		.ranges = r, .nr_ranges = 1, .pcp_disabled = pcp_disabled};
	size_t size = (mm_meta_size(&c) + 63) & ~(size_t)63;
	struct mm *mm;

	*meta = aligned_alloc(64, size);
	if (!*meta || mm_init(&mm, &c, *meta, size)) {
		fprintf(stderr, "bench: mm_init failed\n");
		exit(1);
	}
	return mm;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One row; a goal (@goal_ns > 0) is judged on the median. */
static void report(const char *name, double *runs, double goal_ns)
{
	char verdict[BENCH_GOAL_LEN] = "";

	qsort(runs, RUNS, sizeof(*runs), cmp_double);
	if (goal_ns > 0)
		bench_goal(verdict, sizeof(verdict), runs[RUNS / 2],
			   "<=", goal_ns, "ns");
	printf("%-44s %9.1f %9.1f   %s\n", name, runs[RUNS / 2], runs[0],
	       verdict);
}

static void must(int ret, const char *what)
{
	if (ret) {
		fprintf(stderr, "bench: %s failed: %d\n", what, ret);
		exit(1);
	}
}

/* One alloc+free pair, many times: the per-CPU hot path. */
static double run_hot(struct mm *mm, unsigned order, unsigned long n)
{
	uint64_t pfn;
	double t0 = now_ns();

	for (unsigned long i = 0; i < n; i++) {
		must(mm_alloc_pages(mm, GFP_KERNEL, order, &pfn), "alloc");
		must(mm_free_pages(mm, pfn, order), "free");
	}
	return (now_ns() - t0) / n;
}

/*
 * The floor under every path on this host: the order-0 fast path does one
 * locked instruction per alloc+free pair (the frame-state compare-and-swap
 * on free); its per-CPU list is the owner's and takes no lock.
 */
static double run_lock(unsigned long n)
{
	static struct mm_lock lock = MM_LOCK_INIT;
	double t0 = now_ns();

	for (unsigned long i = 0; i < n; i++) {
		mm_lock(&lock);
		mm_unlock(&lock);
	}
	return (now_ns() - t0) / n;
}

static uint64_t pfns[20000];

static double run_batch(struct mm *mm, unsigned n)
{
	double t0 = now_ns();

	for (unsigned i = 0; i < n; i++)
		must(mm_alloc_pages(mm, GFP_KERNEL, 0, &pfns[i]), "alloc");
	for (unsigned i = 0; i < n; i++)
		must(mm_free_pages(mm, pfns[i], 0), "free");
	return (now_ns() - t0) / (2.0 * n);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void shuffle(uint64_t *a, unsigned *o, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = (unsigned)(rnd() % i);
		uint64_t t = a[i - 1];
		unsigned u = o[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
		o[i - 1] = o[j];
		o[j] = u;
	}
}

static unsigned orders[20000];

/* Random orders 0..10, freed in random order; *free_ns gets the frees. */
static double run_mixed(struct mm *mm, unsigned n, double *free_ns)
{
	unsigned got = 0;
	double t0, t1, t2;

	for (unsigned i = 0; i < n; i++)
		orders[i] = (unsigned)(rnd() % NR_PAGE_ORDERS);
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		if (!mm_alloc_pages(mm, GFP_KERNEL, orders[i], &pfns[got]))
			orders[got++] = orders[i];
	t1 = now_ns();
	shuffle(pfns, orders, got);
	t2 = now_ns();
	for (unsigned i = 0; i < got; i++)
		must(mm_free_pages(mm, pfns[i], orders[i]), "free");
	*free_ns = (now_ns() - t2) / got;
	return (t1 - t0) / n;
}

struct thr {
	struct mm *mm;
	unsigned long n;
	double ns;
};

static void *thr_hot(void *p)
{
	struct thr *t = p;

	t->ns = run_hot(t->mm, 0, t->n);
	return NULL;
}

/*
 * --profile hot|worst: one short run of that row's loop and nothing else,
 * for valgrind --tool=callgrind (instructions per operation are repeatable
 * on a loaded machine where nanoseconds are not; docs/mm.md).
 */
static int profile(const char *row)
{
	void *meta;
	bool worst = strcmp(row, "worst") == 0;
	struct mm *mm = bench_mm(worst, &meta);

	if (!worst && strcmp(row, "hot") != 0) {
		fprintf(stderr, "bench: --profile hot|worst\n");
		return 2;
	}
	run_hot(mm, 0, 1000); /* the per-CPU list filled, caches warm */
	printf("P %s %.1f\n", row, run_hot(mm, 0, 100000));
	free(meta);
	return 0;
}

int main(int argc, char **argv)
{
	double a[RUNS], b[RUNS];
	void *meta, *meta2;
	struct mm *mm, *raw;

	if (argc > 2 && strcmp(argv[1], "--profile") == 0)
		return profile(argv[2]);
	mm = bench_mm(false, &meta);
	raw = bench_mm(true, &meta2);
	printf("page allocator: %llu MiB of DMA32, %d runs per row "
	       "(median, min in ns/op)\n",
	       RAM_PAGES >> (20 - PAGE_SHIFT), RUNS);
	printf("anchor: Linux order-0 alloc+free 46-53 ns (published)\n\n");
	printf("%-44s %9s %9s   %s\n", "case", "median", "min", "goal");
	for (int r = 0; r < RUNS; r++)
		a[r] = run_lock(100000);
	report("calibration: uncontended lock+unlock", a, 0);
	run_hot(mm, 0, 100000); /* warm up, fill the per-CPU list */
	for (int r = 0; r < RUNS; r++)
		a[r] = run_hot(mm, 0, 50000);
	report("order-0 alloc+free, hot (per-CPU)", a, 25);
	for (int r = 0; r < RUNS; r++)
		a[r] = run_batch(mm, 10000);
	report("order-0 10k batch alloc then free (per op)", a, 0);
	for (int r = 0; r < RUNS; r++)
		a[r] = run_mixed(mm, 2000, &b[r]);
	report("random orders 0..10: alloc", a, 0);
	report("random orders 0..10: free in random order", b, 0);
	/* Worst case: a pristine NR_PAGE_ORDERS block, 10 splits and 10 merges. */
	for (int r = 0; r < RUNS; r++)
		a[r] = run_hot(raw, 0, 20000);
	report("worst: order-0 from order-10, buddy only", a, 60);
	for (int r = 0; r < RUNS; r++) {
		struct thr t[2] = {{mm, 50000, 0}, {mm, 50000, 0}};
		pthread_t th[2];

		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, thr_hot, &t[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		/* Aggregate throughput: ns per pair across both threads. */
		a[r] = (t[0].ns + t[1].ns) / 4;
	}
	report("order-0 alloc+free, 2 threads (aggregate)", a, 0);
	{
		char why[256];

		if (mm_check(mm, why, sizeof(why)) ||
		    mm_check(raw, why, sizeof(why))) {
			fprintf(stderr, "bench: mm_check: %s\n", why);
			return 1;
		}
	}
	free(meta);
	free(meta2);
	return 0;
}
