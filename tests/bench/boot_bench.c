// SPDX-License-Identifier: MIT
/*
 * tests/bench/boot_bench.c - how fast `vmm run` boots the guest, and what the
 * VMM costs in memory beyond guest RAM.
 *
 * Each run spawns `vmm run --mem 256M --vcpus 2 guest.elf` (workload hello)
 * and measures, from just before the spawn: the first byte of guest output
 * on stdout, and the process's exit. With BUDDYVM_STATS=1 the VMM prints its
 * /proc/self/status memory figures and its resident guest RAM (guest_ram_kib,
 * by mincore) at the end of the run; VmRSS - guest_ram is the VMM's own
 * footprint: its heap, stacks and the pages of its binary and shared
 * libraries it touched. Guest RAM is anonymous memory by default (RssAnon),
 * so RssAnon - guest_ram is the VMM's private part.
 *
 * usage: boot_bench [RUNS]   (VMM and guest from $BUILD, default: the
 *                             build directory this program lives in)
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench_goal.h"

#define DEFAULT_RUNS 20
#define WARMUP_RUNS  2
#define MAX_RUNS     1000

extern char **environ;

struct boot_sample {
	double first_output_ms;
	double exit_ms;
	long rss_beyond_guest_kib; /* VmRSS - guest_ram */
	long anon_kib;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long stat_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* One boot; 0 on success. */
static int boot_once(const char *vmm, const char *guest, struct boot_sample *s)
{
	char *argv[] = {(char *)vmm,   "run", "--mem",	   "256M",
			"--vcpus",     "2",   "--timeout", "30",
			(char *)guest, NULL};
	char errpath[] = "/tmp/boot_bench.XXXXXX";
	char buf[4096], stats[4096] = "";
	posix_spawn_file_actions_t fa;
	int out[2], errfd, status;
	double t0;
	pid_t pid;
	ssize_t n;
	long guest_kib;

	errfd = mkstemp(errpath);
	if (errfd < 0 || pipe(out) < 0)
		return -errno;
	unlink(errpath);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	t0 = now_ms();
	if (posix_spawn(&pid, vmm, &fa, NULL, argv, environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	s->first_output_ms = -1;
	while ((n = read(out[0], buf, sizeof(buf))) > 0) {
		if (s->first_output_ms < 0)
			s->first_output_ms = now_ms() - t0;
	}
	close(out[0]);
	waitpid(pid, &status, 0);
	s->exit_ms = now_ms() - t0;
	n = pread(errfd, stats, sizeof(stats) - 1, 0);
	close(errfd);
	stats[n > 0 ? n : 0] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "boot_bench: vmm failed (status 0x%x): %s\n",
			status, stats);
		return -1;
	}
	guest_kib = stat_field(stats, "guest_ram_kib=");
	if (guest_kib < 0) {
		fprintf(stderr, "boot_bench: vmm printed no guest_ram_kib\n");
		return -1;
	}
	s->rss_beyond_guest_kib = stat_field(stats, "VmRSS_kib=") - guest_kib;
	/* Only anonymous guest RAM is in RssAnon. */
	s->anon_kib = stat_field(stats, "RssAnon_kib=") -
		      (strstr(stats, "mem_backing=anon") ? guest_kib : 0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @v in place; returns the median. */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void build_dir(const char *argv0, char *out, size_t size)
{
	const char *env = getenv("BUILD");
	char path[PATH_MAX];

	if (env) {
		snprintf(out, size, "%s", env);
		return;
	}
	/* argv0 is BUILD/bench/boot (tests/tests.mk BENCHES) */
	snprintf(path, sizeof(path), "%s", argv0);
	snprintf(out, size, "%s", dirname(dirname(path)));
}

int main(int argc, char **argv)
{
	static double first[MAX_RUNS], total[MAX_RUNS], rss[MAX_RUNS],
		anon[MAX_RUNS];
	char dir[PATH_MAX], vmm[PATH_MAX + 8], guest[PATH_MAX + 16];
	int runs = argc > 1 ? atoi(argv[1]) : DEFAULT_RUNS;
	struct boot_sample s = {0};
	double med_first, med_total, med_rss, med_anon;

	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: boot_bench [RUNS 1..%d]\n", MAX_RUNS);
		return 2;
	}
	build_dir(argv[0], dir, sizeof(dir));
	snprintf(vmm, sizeof(vmm), "%s/vmm", dir);
	snprintf(guest, sizeof(guest), "%s/guest.elf", dir);
	setenv("BUDDYVM_STATS", "1", 1);
	for (int i = 0; i < WARMUP_RUNS + runs; i++) {
		if (boot_once(vmm, guest, &s) < 0)
			return 1;
		if (i < WARMUP_RUNS)
			continue;
		first[i - WARMUP_RUNS] = s.first_output_ms;
		total[i - WARMUP_RUNS] = s.exit_ms;
		rss[i - WARMUP_RUNS] = (double)s.rss_beyond_guest_kib;
		anon[i - WARMUP_RUNS] = (double)s.anon_kib;
	}
	/* median() sorts, so the minimum is element 0 afterwards. */
	med_first = median(first, runs);
	med_total = median(total, runs);
	med_rss = median(rss, runs);
	med_anon = median(anon, runs);
	char verdict[BENCH_GOAL_LEN];

	printf("boot: vmm run --mem 256M --vcpus 2 (workload=hello), %d runs "
	       "after %d warm-up\n\n",
	       runs, WARMUP_RUNS);
	printf("%-36s %9s %9s  %-26s  %s\n", "metric", "median", "min",
	       "goal (on the median)", "anchor");
	printf("%-36s %9.2f %9.2f  %-26s  %s\n",
	       "exec -> first guest output (ms)", med_first, first[0], "-",
	       "-");
	printf("%-36s %9.2f %9.2f  %-26s  %s\n", "exec -> exit (ms)", med_total,
	       total[0],
	       bench_goal(verdict, sizeof(verdict), med_total, "<=", 30, "ms"),
	       "Firecracker starts in ~12 ms");
	printf("%-36s %9.0f %9.0f  %-26s  %s\n",
	       "VMM RSS beyond guest RAM (KiB)", med_rss, rss[0],
	       bench_goal(verdict, sizeof(verdict), med_rss, "<=", 2048, "KiB"),
	       "Firecracker adds <= 5 MiB");
	printf("%-36s %9.0f %9.0f  %-26s  %s\n",
	       "  of which private (RssAnon, KiB)", med_anon, anon[0], "-",
	       "-");
	printf("\nRSS beyond guest RAM = VmRSS - resident guest RAM (mincore) "
	       "at the end of the run;\nit counts the VMM's heap and stacks "
	       "plus the touched pages of its binary and shared libraries.\n");
	return 0;
}
