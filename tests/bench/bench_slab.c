// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_slab.c - our slab/kmalloc against malloc on the same
 * patterns, host-native:
 *   (a) hot:    alloc + free of one 64-byte object, repeated
 *   (b) lifo:   10k 64-byte objects allocated, then freed last-first
 *   (c) random: 10k objects of random sizes 16-512 allocated, then freed in
 *               random order (kmalloc only: a slab cache has one size)
 * Figures are ns per alloc+free pair, the median of several repetitions.
 *
 * Peers replace malloc by interposition, so each needs its own process: run
 * without arguments, the binary re-runs itself once per peer (plain glibc,
 * then LD_PRELOAD of jemalloc, mimalloc, tcmalloc) with --worker, and prints
 * one table. Each worker measures ours and malloc in the same process, so a
 * ratio compares runs under the same machine load.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "tests/bench/bench_goal.h"
#include "tests/unit/host_page_source.h"

#define BATCH	     10000
#define HOT_OPS	     2000000
#define BATCH_ROUNDS 40
#define REPS	     15
#define NR_PATTERNS  5

static struct kmem_cache *bench_cache;
static void *ptrs[BATCH];
static size_t sizes[BATCH];
static unsigned int order[BATCH];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * One set of pattern functions per allocator; the allocator calls are
 * inlined macros so that no indirect call is measured. Each object gets one
 * byte written, so that no compiler can drop an alloc/free pair.
 */
#define DEFINE_PATTERNS(name, ALLOC, FREE)                                     \
	static double name##_hot(void)                                         \
	{                                                                      \
		double t = now_ns();                                           \
		for (long i = 0; i < HOT_OPS; i++) {                           \
			char *p = ALLOC(64);                                   \
			*(volatile char *)p = (char)i;                         \
			FREE(p);                                               \
		}                                                              \
		return (now_ns() - t) / HOT_OPS;                               \
	}                                                                      \
	static double name##_lifo(void)                                        \
	{                                                                      \
		double t = now_ns();                                           \
		for (int r = 0; r < BATCH_ROUNDS; r++) {                       \
			for (int i = 0; i < BATCH; i++) {                      \
				ptrs[i] = ALLOC(64);                           \
				*(volatile char *)ptrs[i] = (char)i;           \
			}                                                      \
			for (int i = BATCH - 1; i >= 0; i--)                   \
				FREE(ptrs[i]);                                 \
		}                                                              \
		return (now_ns() - t) / ((double)BATCH * BATCH_ROUNDS);        \
	}                                                                      \
	static __attribute__((unused)) double name##_random(void)              \
	{                                                                      \
		double t = now_ns();                                           \
		for (int r = 0; r < BATCH_ROUNDS; r++) {                       \
			for (int i = 0; i < BATCH; i++) {                      \
				ptrs[i] = ALLOC(sizes[i]);                     \
				*(volatile char *)ptrs[i] = (char)i;           \
			}                                                      \
			for (int i = 0; i < BATCH; i++)                        \
				FREE(ptrs[order[i]]);                          \
		}                                                              \
		return (now_ns() - t) / ((double)BATCH * BATCH_ROUNDS);        \
	}

#define SLAB_ALLOC(sz) ((char *)kmem_cache_alloc(bench_cache, GFP_KERNEL))
#define SLAB_FREE(p)   kmem_cache_free(bench_cache, (p))
#define KM_ALLOC(sz)   ((char *)kmalloc((sz), GFP_KERNEL))
#define KM_FREE(p)     kfree(p)
#define LIBC_ALLOC(sz) ((char *)malloc(sz))
#define LIBC_FREE(p)   free(p)

DEFINE_PATTERNS(slab, SLAB_ALLOC, SLAB_FREE)
DEFINE_PATTERNS(kmalloc, KM_ALLOC, KM_FREE)
DEFINE_PATTERNS(libc, LIBC_ALLOC, LIBC_FREE)

struct pattern {
	const char *name;
	double (*ours)(void);
	double (*peer)(void);
};

static const struct pattern patterns[NR_PATTERNS] = {
	{"slab-64 hot", slab_hot, libc_hot},
	{"slab-64 lifo 10k", slab_lifo, libc_lifo},
	{"kmalloc-64 hot", kmalloc_hot, libc_hot},
	{"kmalloc-64 lifo 10k", kmalloc_lifo, libc_lifo},
	{"kmalloc 16-512 random 10k", kmalloc_random, libc_random},
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Medians of REPS runs of ours and of the peer, after one warm-up run of
 * each. The runs alternate, so that both sides see the same machine load
 * (on a shared 2-CPU machine the load changes within a second: measured
 * one after the other, a single burst moved one side's median by 3x).
 */
static void medians_of(const struct pattern *p, double *ours, double *peer)
{
	double o[REPS], q[REPS];

	p->ours();
	p->peer();
	for (int i = 0; i < REPS; i++) {
		o[i] = p->ours();
		q[i] = p->peer();
	}
	qsort(o, REPS, sizeof(o[0]), cmp_double);
	qsort(q, REPS, sizeof(q[0]), cmp_double);
	*ours = o[REPS / 2];
	*peer = q[REPS / 2];
}

static void setup_random(void)
{
	unsigned long rnd = 12345;

	for (int i = 0; i < BATCH; i++) {
		rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;
		sizes[i] = 16 + (rnd >> 33) % 497;
		order[i] = (unsigned int)i;
	}
	for (int i = BATCH - 1; i > 0; i--) {
		unsigned int j, tmp;

		rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;
		j = (unsigned int)((rnd >> 33) % (unsigned long)(i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

/*
 * Prints "R <index> <ours ns> <peer ns>" per pattern; with @profile >= 0,
 * runs only pattern @profile's "ours" side (@of_peer: malloc's, e.g. under
 * LD_PRELOAD of tcmalloc) once, without warm-up (for valgrind
 * --tool=callgrind, whose instruction counts need a short run).
 */
static int run_worker(int profile, bool of_peer)
{
	struct host_page_source *hps =
		host_page_source_create(256ul << (20 - PS_PAGE_SHIFT), 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int err;

	if (!hps) {
		fprintf(stderr, "bench_slab: cannot map the arena\n");
		return 1;
	}
	err = slab_init(host_page_source_ps(hps),
			cpus > 0 ? (unsigned)cpus : 1);
	if (!err)
		err = kmalloc_init(host_page_source_ps(hps), 0);
	bench_cache = kmem_cache_create("bench-64", 64, 0, 0, NULL);
	if (err || !bench_cache) {
		fprintf(stderr, "bench_slab: setup failed (%d)\n", err);
		return 1;
	}
	setup_random();
	if (profile >= 0)
		printf("P %d %.2f\n", profile,
		       of_peer ? patterns[profile].peer()
			       : patterns[profile].ours());
	for (int i = 0; i < NR_PATTERNS && profile < 0; i++) {
		double ours, peer;

		medians_of(&patterns[i], &ours, &peer);

		printf("R %d %.2f %.2f\n", i, ours, peer);
	}
	kmem_cache_destroy(bench_cache);
	kmalloc_exit();
	slab_exit();
	host_page_source_destroy(hps);
	return 0;
}

/*
 * Worker processes per peer. Each process is bimodal on this shared
 * machine: one side of a process can run 3-5x slower for all its
 * repetitions (where its memory landed, not the load of the moment, since
 * the sides alternate), so one process's ratio ranged 0.2-1.6 between runs.
 * The figures are medians over the processes.
 */
#define WORKER_RUNS 3

struct peer {
	const char *name;
	const char *preload; /* NULL: glibc */
	/* Medians over WORKER_RUNS processes (ratio: of each one's ratio). */
	double ours[NR_PATTERNS], peer[NR_PATTERNS], ratio[NR_PATTERNS];
	int ok;
};

static double median3(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

static struct peer peers[] = {
	{.name = "glibc"},
	{.name = "jemalloc",
	 .preload = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"},
	{.name = "mimalloc",
	 .preload = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"},
	{.name = "tcmalloc",
	 .preload = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"},
};

/* One worker process: fills column @run of the three arrays. */
static bool run_worker_process(const struct peer *p, const char *self, int run,
			       double o[][WORKER_RUNS], double q[][WORKER_RUNS],
			       double r[][WORKER_RUNS])
{
	char cmd[8192], line[128];
	int idx, got = 0;
	double ours, peer;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s%s %s --worker",
		 p->preload ? "LD_PRELOAD=" : "", p->preload ? p->preload : "",
		 self);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "R %d %lf %lf", &idx, &ours, &peer) == 3 &&
		    idx >= 0 && idx < NR_PATTERNS && peer > 0) {
			o[idx][run] = ours;
			q[idx][run] = peer;
			r[idx][run] = ours / peer;
			got++;
		}
	return pclose(f) == 0 && got == NR_PATTERNS;
}

static void run_peer(struct peer *p, const char *self)
{
	double o[NR_PATTERNS][WORKER_RUNS], q[NR_PATTERNS][WORKER_RUNS],
		r[NR_PATTERNS][WORKER_RUNS];

	if (p->preload && access(p->preload, R_OK)) {
		fprintf(stderr, "bench_slab: %s not installed (%s), skipped\n",
			p->name, p->preload);
		return;
	}
	for (int run = 0; run < WORKER_RUNS; run++)
		if (!run_worker_process(p, self, run, o, q, r)) {
			fprintf(stderr, "bench_slab: worker for %s failed\n",
				p->name);
			return;
		}
	for (int i = 0; i < NR_PATTERNS; i++) {
		p->ours[i] = median3(o[i], WORKER_RUNS);
		p->peer[i] = median3(q[i], WORKER_RUNS);
		p->ratio[i] = median3(r[i], WORKER_RUNS);
	}
	p->ok = 1;
}

static void print_table(void)
{
	printf("ns per alloc+free (median of %d runs, ours and the peer "
	       "alternating, in each of %d processes per peer: the medians);\n"
	       "ratio = ours / peer in the same process, the median of the %d "
	       "processes\n",
	       REPS, WORKER_RUNS, WORKER_RUNS);
	printf("%-26s", "pattern");
	for (unsigned int k = 0; k < sizeof(peers) / sizeof(peers[0]); k++)
		printf(" | %-8s %6s %5s", peers[k].name, "ours", "ratio");
	printf("\n");
	for (int i = 0; i < NR_PATTERNS; i++) {
		printf("%-26s", patterns[i].name);
		for (unsigned int k = 0; k < sizeof(peers) / sizeof(peers[0]);
		     k++) {
			struct peer *p = &peers[k];

			if (!p->ok)
				printf(" | %8s %6s %5s", "-", "-", "-");
			else
				printf(" | %8.2f %6.2f %5.2f", p->peer[i],
				       p->ours[i], p->ratio[i]);
		}
		printf("\n");
	}
}

/*
 * The goal row: random kmalloc sizes within 1.2x of the faster of mimalloc
 * and tcmalloc, against that peer's own process (same load).
 */
#define GOAL_PATTERN 4
#define GOAL_RATIO   1.2

static void print_goal(void)
{
	const struct peer *best = NULL;
	char verdict[BENCH_GOAL_LEN];

	for (unsigned int k = 0; k < sizeof(peers) / sizeof(peers[0]); k++) {
		const struct peer *p = &peers[k];

		if (p->ok &&
		    (!strcmp(p->name, "mimalloc") ||
		     !strcmp(p->name, "tcmalloc")) &&
		    (!best || p->peer[GOAL_PATTERN] < best->peer[GOAL_PATTERN]))
			best = p;
	}
	if (!best) {
		printf("\n%s vs mimalloc/tcmalloc: neither installed, goal "
		       "<= %gx not judged\n",
		       patterns[GOAL_PATTERN].name, GOAL_RATIO);
		return;
	}
	printf("\n%s vs the faster of mimalloc and tcmalloc (%s): "
	       "%.2f / %.2f ns, ratio %.2fx   %s\n",
	       patterns[GOAL_PATTERN].name, best->name,
	       best->ours[GOAL_PATTERN], best->peer[GOAL_PATTERN],
	       best->ratio[GOAL_PATTERN],
	       bench_goal(verdict, sizeof(verdict), best->ratio[GOAL_PATTERN],
			  "<=", GOAL_RATIO, "x"));
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;
	int failed = 0;

	if (argc > 1 && !strcmp(argv[1], "--worker"))
		return run_worker(-1, false);
	if (argc > 2 && (!strcmp(argv[1], "--profile") ||
			 !strcmp(argv[1], "--profile-peer"))) {
		int idx = atoi(argv[2]);

		if (idx < 0 || idx >= NR_PATTERNS) {
			fprintf(stderr, "bench_slab: %s 0..%d\n", argv[1],
				NR_PATTERNS - 1);
			return 2;
		}
		return run_worker(idx, !strcmp(argv[1], "--profile-peer"));
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "bench_slab: readlink: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	for (unsigned int k = 0; k < sizeof(peers) / sizeof(peers[0]); k++) {
		run_peer(&peers[k], self);
		failed |= peers[k].ok == 0 && !peers[k].preload;
	}
	print_table();
	print_goal();
	return failed;
}
