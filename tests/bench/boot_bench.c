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
 * The peer, in the same run: each buddyvm boot is followed by a boot of the
 * same guest.elf under QEMU microvm (its PVH entry, virtio-mmio; the command
 * line `scripts/qemu-run --print --mem 256M --vcpus 2` prints, spawned
 * directly so no shell is timed), exec -> exit, and the ratio buddyvm / QEMU
 * of the medians. QEMU exits the moment the guest writes isa-debug-exit, so
 * the memory beyond guest RAM is compared for both at a state instead: the
 * guest with workload=balloon (no touch) has printed "balloon: ready" and
 * waits; then VmRSS - Rss of the process's largest mapping (its guest RAM)
 * from /proc/PID/smaps, the same reading for both processes.
 *
 * usage: boot_bench [RUNS]   (VMM and guest from $BUILD, default: the
 *                             build directory this program lives in;
 *                             scripts/qemu-run from the working directory
 *                             or $QEMU_RUN)
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

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

/*
 * Spawns @argv with stdout on a pipe, stderr to /dev/null; returns the pid,
 * the pipe's read end in *@fd.
 */
static pid_t spawn_piped(char **argv, int *fd)
{
	posix_spawn_file_actions_t fa;
	int out[2];
	pid_t pid;

	if (pipe(out) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	/* QEMU's argv[0] is a name on $PATH. */
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	*fd = out[0];
	if (pid < 0)
		close(out[0]);
	return pid;
}

/* A QEMU boot of the guest, exec -> exit (ms); < 0 on failure. */
static double qemu_boot_once(char **argv)
{
	char buf[4096];
	double t0 = now_ms();
	int fd, status;
	pid_t pid = spawn_piped(argv, &fd);

	if (pid < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	waitpid(pid, &status, 0);
	/* isa-debug-exit: QEMU exits 65 + 2 * status; 65 is "done". */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 65) {
		fprintf(stderr, "boot_bench: QEMU boot failed (status 0x%x)\n",
			status);
		return -1;
	}
	return now_ms() - t0;
}

/* VmRSS - Rss of the largest mapping (guest RAM) of @pid, KiB; < 0 if unread. */
static long rss_beyond_largest_mapping(pid_t pid)
{
	char path[64], line[256];
	long size = -1, cur = 0, big = 0, total = 0, v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %ld kB", &v) == 1) {
			cur = v;
		} else if (sscanf(line, "Rss: %ld kB", &v) == 1) {
			total += v;
			if (cur > size) {
				size = cur;
				big = v;
			}
		}
	}
	fclose(f);
	return size < 0 ? -1 : total - big;
}

/*
 * Spawns @argv (a guest with workload=balloon), waits for its "balloon:
 * ready" line (bounded by the VM's own timeout: EOF ends the wait), reads
 * its memory beyond guest RAM, kills it. KiB, or < 0.
 */
static long mem_at_ready(char **argv)
{
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	long kib = -1;
	int fd, status;
	pid_t pid = spawn_piped(argv, &fd);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	double deadline = now_ms() + 60e3;

	if (pid < 0)
		return -1;
	/* Bounded: 60 s for the line, whatever the VMM does. */
	while (poll(&pfd, 1, (int)(deadline - now_ms())) > 0 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "balloon: ready")) {
			kib = rss_beyond_largest_mapping(pid);
			break;
		}
		if (len == sizeof(buf) - 1) /* keep the tail */
			len = 0;
	}
	kill(pid, SIGKILL);
	close(fd);
	waitpid(pid, &status, 0);
	if (kib < 0)
		fprintf(stderr, "boot_bench: %s never said it was ready\n",
			argv[0]);
	return kib;
}

/*
 * The QEMU command line for @guest and @cmdline from scripts/qemu-run
 * --print, split into words; NULL (and why on stderr) if unavailable.
 */
static char **qemu_argv(wordexp_t *we, const char *guest, const char *cmdline)
{
	const char *run =
		getenv("QEMU_RUN") ? getenv("QEMU_RUN") : "scripts/qemu-run";
	char cmd[PATH_MAX * 2 + 256], line[8192];
	size_t n;
	FILE *p;

	if (access(run, X_OK) != 0) {
		fprintf(stderr,
			"boot_bench: no %s (run from the source tree "
			"or set QEMU_RUN): no QEMU rows\n",
			run);
		return NULL;
	}
	snprintf(cmd, sizeof(cmd),
		 "'%s' --print --mem 256M --vcpus 2 --cmdline '%s' '%s'", run,
		 cmdline, guest);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	n = fread(line, 1, sizeof(line) - 1, p);
	/* wordexp() refuses a newline (WRDE_BADCHAR): drop the last one. */
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	line[n] = '\0';
	if (pclose(p) != 0 || n == 0 || n == sizeof(line) - 1 ||
	    wordexp(line, we, WRDE_NOCMD | WRDE_UNDEF) != 0) {
		fprintf(stderr,
			"boot_bench: %s --print failed: no QEMU "
			"rows\n",
			run);
		return NULL;
	}
	return we->we_wordv;
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
		anon[MAX_RUNS], qtotal[MAX_RUNS];
	char dir[PATH_MAX], vmm[PATH_MAX + 8], guest[PATH_MAX + 16];
	int runs = argc > 1 ? atoi(argv[1]) : DEFAULT_RUNS;
	struct boot_sample s = {0};
	double med_first, med_total, med_rss, med_anon, med_qtotal = -1;
	wordexp_t qwe, qwe_ready;
	char **qemu = NULL, **qemu_ready = NULL;
	long mem_vmm = -1, mem_qemu = -1;

	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: boot_bench [RUNS 1..%d]\n", MAX_RUNS);
		return 2;
	}
	build_dir(argv[0], dir, sizeof(dir));
	snprintf(vmm, sizeof(vmm), "%s/vmm", dir);
	snprintf(guest, sizeof(guest), "%s/guest.elf", dir);
	setenv("BUDDYVM_STATS", "1", 1);
	qemu = qemu_argv(&qwe, guest, "");
	if (qemu)
		qemu_ready = qemu_argv(&qwe_ready, guest, "workload=balloon");
	for (int i = 0; i < WARMUP_RUNS + runs; i++) {
		double q = 0;

		if (boot_once(vmm, guest, &s) < 0)
			return 1;
		/* The peer right after: both see the same load. */
		if (qemu && (q = qemu_boot_once(qemu)) < 0)
			return 1;
		if (i < WARMUP_RUNS)
			continue;
		qtotal[i - WARMUP_RUNS] = q;
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
	if (qemu) {
		char *vargv[] = {vmm,	      "run",
				 "--mem",     "256M",
				 "--vcpus",   "2",
				 "--timeout", "60",
				 "--cmdline", "workload=balloon",
				 guest,	      NULL};

		med_qtotal = median(qtotal, runs);
		mem_vmm = mem_at_ready(vargv);
		mem_qemu = qemu_ready ? mem_at_ready(qemu_ready) : -1;
	}
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
	if (!qemu) {
		printf("\npeer: QEMU rows not run (see above)\n");
		return 1;
	}
	printf("\npeer, same run: QEMU 7.2 microvm (%s), the same guest.elf "
	       "through its PVH entry\n\n",
	       qemu[0]);
	printf("%-40s %10s %10s %16s\n", "metric (median)", "buddyvm", "QEMU",
	       "buddyvm / QEMU");
	printf("%-40s %10.2f %10.2f %16.3f\n", "exec -> guest done (ms)",
	       med_total, med_qtotal, med_total / med_qtotal);
	printf("%-40s %10ld %10ld %16.3f\n",
	       "memory beyond guest RAM at ready (KiB)", mem_vmm, mem_qemu,
	       mem_qemu > 0 ? (double)mem_vmm / (double)mem_qemu : -1.0);
	printf("\nmemory beyond guest RAM at ready = VmRSS - Rss of the "
	       "process's largest mapping\n(its guest RAM), /proc/PID/smaps, "
	       "once the guest (workload=balloon) said \"balloon: ready\".\n");
	wordfree(&qwe);
	if (qemu_ready)
		wordfree(&qwe_ready);
	return mem_vmm < 0 || mem_qemu < 0;
}
