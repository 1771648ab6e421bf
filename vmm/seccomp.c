// SPDX-License-Identifier: MIT
/*
 * vmm/seccomp.c - per-thread seccomp filters (see seccomp.h).
 *
 * Each kind of thread has a profile: the system calls it makes once setup is
 * over, found with `strace -f` over every workload, the API commands and
 * the teardown, then kept honest by running the whole integration suite
 * with the filters on. Arguments are checked where that narrows a call
 * cheaply: ioctl() only with the KVM requests the thread issues (plus
 * stdio's TCGETS), mmap()/mprotect() never executable, clone() only for a
 * thread, tgkill() only the vCPU kick and abort()'s SIGABRT, openat() only
 * read-only, write() only to stderr for threads that print nothing else,
 * fallocate() only on the descriptors that need it (guest RAM's memfd,
 * punching holes; a disk image, from its blk-io threads).
 *
 * The filters are compiled to BPF before any thread starts, so that
 * installing one is a single seccomp() call with nothing to allocate; a
 * descriptor setup opens later for fallocate() rebuilds the filters it
 * widens, still during setup (vmm_seccomp_allow_fallocate()).
 * Filters stack: a thread created by a filtered one (the vCPU's migration
 * timer) runs under both, so the creator's profile covers the child's start
 * (clone, set_robust_list, rseq).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm/seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
#define SC_SANITIZER 1
#else
#define SC_SANITIZER 0
#endif

/* Profile flags: the calls that take argument checks. */
enum {
	SC_WRITE_ANY = 1u << 0, /* write() to any fd (else stderr only) */
	SC_SPAWN = 1u << 1,	/* may create threads (clone, not clone3) */
	SC_OPEN_RO = 1u << 2,	/* openat() read-only (/proc/self/status) */
	SC_KICK = 1u << 3,	/* tgkill(SIGUSR1): vm_finish(), vm_pause() */
	SC_WRITE_STDOUT = 1u << 4, /* write() to stdout too (the console) */
	SC_FALLOC_DISK = 1u << 5,  /* fallocate() the disk images */
};

struct sc_profile {
	const char *name;
	const int *calls; /* allowed with any arguments */
	size_t nr_calls;
	const unsigned long *ioctls; /* ioctl() requests allowed */
	size_t nr_ioctls;
	unsigned flags;
};

#define SC_LIST(a) a, sizeof(a) / sizeof(a[0])

/*
 * Every thread: locks and condition variables, its own exit, malloc
 * (mmap/munmap/mremap/brk; mmap and mprotect below with their checks),
 * glibc's thread exit (madvise of the stack, signal mask), the SIGSYS
 * handler's return, clocks (vDSO normally, the system call as fallback).
 * madvise is also how guest RAM goes back to the host.
 */
static const int sc_common[] = {
	SCMP_SYS(futex),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(madvise),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(sched_yield),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(restart_syscall),
};

/*
 * The sanitizer runtime's own calls, in every thread of an ASan build: its
 * allocator, its per-thread alternate signal stack, /proc/self/maps reads,
 * a report's symbolizer (gcc's libasan reads the binary's debug info with
 * libbacktrace: open, fcntl, lseek, read), and LeakSanitizer's exit-time
 * scan, which runs on
 * the main thread after teardown: it stops the world with a tracer task
 * (clone without CLONE_THREAD, ptrace, waitpid, prctl).
 */
static const int sc_sanitizer[] = {
	SCMP_SYS(fcntl),      SCMP_SYS(lseek),	   SCMP_SYS(sigaltstack),
	SCMP_SYS(openat),     SCMP_SYS(open),	   SCMP_SYS(stat),
	SCMP_SYS(lstat),      SCMP_SYS(read),	   SCMP_SYS(close),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat),	   SCMP_SYS(readlink),
	SCMP_SYS(getppid),    SCMP_SYS(prctl),	   SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrlimit),  SCMP_SYS(prlimit64),
};
static const int sc_sanitizer_main[] = {
	SCMP_SYS(clone),	   SCMP_SYS(ptrace),   SCMP_SYS(wait4),
	SCMP_SYS(getdents64),	   SCMP_SYS(getdents), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(tgkill),   SCMP_SYS(kill),
};

/*
 * After the vCPUs start: wait for the end, kick and join them, then the
 * report (stdio on stdout: fstat; BUDDYVM_STATS reads /proc/self/status;
 * --stats asks mincore()) and the teardown (close, munmap, the socket's
 * unlink). vCPU 0's registers on --timeout.
 */
static const int sc_main[] = {
	SCMP_SYS(close),   SCMP_SYS(read),	 SCMP_SYS(lseek),
	SCMP_SYS(fstat),   SCMP_SYS(newfstatat), SCMP_SYS(unlink),
	SCMP_SYS(mincore), SCMP_SYS(writev),
};
static const unsigned long sc_main_ioctls[] = {
	KVM_GET_REGS,
	KVM_GET_SREGS,
	TCGETS,
};

/*
 * KVM_RUN and its exits: console (write to stdout), balloon, pvmem,
 * devices. The vCPU writes to no other file: not the disk image, not a
 * client's socket.
 */
static const int sc_vcpu[] = {
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
};
static const unsigned long sc_vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, TCGETS,
};

static const int sc_signal[] = {
	SCMP_SYS(rt_sigtimedwait),
};

/*
 * The control socket: accept, read requests, send answers (non-blocking,
 * with poll or epoll), close. Commands read /proc/self/status and
 * mincore() (stat), inject the balloon's config interrupt, kick vCPUs
 * (pause, quit). write() only to stderr: send() reaches sockets only, so
 * the API thread cannot write the disk image or any other file.
 */
static const int sc_api[] = {
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(close),
	SCMP_SYS(shutdown),
	SCMP_SYS(fcntl),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(lseek),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(mincore),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
};
static const unsigned long sc_irq_ioctls[] = {
	KVM_IRQ_LINE,
};

/*
 * A disk queue: the image's reads, writes, flushes, io_uring; its discards
 * and zeroing (fallocate) on the images' descriptors only (SC_FALLOC_DISK).
 */
static const int sc_blk_io[] = {
	SCMP_SYS(pread64),   SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev),   SCMP_SYS(preadv2),	 SCMP_SYS(pwritev2),
	SCMP_SYS(fdatasync), SCMP_SYS(fsync),	 SCMP_SYS(io_uring_enter),
};

static const struct sc_profile sc_profiles[VMM_NR_THREADS] = {
	[VMM_THREAD_MAIN] = {"main", SC_LIST(sc_main), SC_LIST(sc_main_ioctls),
			     SC_WRITE_ANY | SC_OPEN_RO | SC_KICK},
	[VMM_THREAD_VCPU] = {"vcpu", SC_LIST(sc_vcpu), SC_LIST(sc_vcpu_ioctls),
			     SC_WRITE_STDOUT | SC_SPAWN | SC_KICK},
	[VMM_THREAD_SIGNAL] = {"signal", SC_LIST(sc_signal), NULL, 0, SC_KICK},
	[VMM_THREAD_API] = {"api", SC_LIST(sc_api), SC_LIST(sc_irq_ioctls),
			    SC_OPEN_RO | SC_KICK},
	[VMM_THREAD_BLK_IO] = {"blk-io", SC_LIST(sc_blk_io),
			       SC_LIST(sc_irq_ioctls), SC_FALLOC_DISK},
	[VMM_THREAD_BALLOON_STATS] = {"balloon-stats", NULL, 0,
				      SC_LIST(sc_irq_ioctls), 0},
	[VMM_THREAD_MIGRATE_TIMER] = {"migrate-timer", NULL, 0,
				      SC_LIST(sc_irq_ioctls), 0},
	/* Frees and allocates frames, releases backing (madvise): common. */
	[VMM_THREAD_PVMEM_RING] = {"pvmem-ring", NULL, 0, NULL, 0, 0},
};

/*
 * Built by vmm_seccomp_init(), rebuilt by vmm_seccomp_allow_fallocate()
 * during setup; sc_lock keeps a rebuild from freeing a program a starting
 * thread is installing.
 */
static bool sc_ready, sc_enabled;
static struct sock_fprog sc_progs[VMM_NR_THREADS];
static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned sc_entered; /* kinds whose threads run filtered (bits) */

/* The descriptors fallocate() may reach (enum vmm_falloc_file). */
#define SC_MAX_FALLOC_FDS 8
static int sc_falloc_fds[2][SC_MAX_FALLOC_FDS];
static unsigned sc_nr_falloc_fds[2];
static int sc_selftest = -1; /* BUDDYVM_SECCOMP_SELFTEST's kind */
/*
 * What the hook does: a forbidden call, or in a sanitizer build a leak
 * ("leak:KIND") or a use after free ("uaf:KIND"), whose reports must come
 * through the filters whole (symbolized stacks, LeakSanitizer at exit).
 */
static enum {
	SC_TEST_SOCKET,
	SC_TEST_FALLOCATE,
	SC_TEST_LEAK,
	SC_TEST_UAF
} sc_selftest_mode;
static void *volatile sc_selftest_sink;

/* The SIGSYS handler cannot allocate: syscall names resolved up front. */
#define SC_NAMES     512
#define SC_NAME_SIZE 24
static char sc_names[SC_NAMES][SC_NAME_SIZE];
static __thread int sc_thread_kind = -1;

const char *vmm_thread_name(enum vmm_thread kind)
{
	return (unsigned)kind < VMM_NR_THREADS ? sc_profiles[kind].name : "?";
}

/* Async-signal-safe message building: no stdio in a signal handler. */
static size_t sc_append(char *buf, size_t len, size_t size, const char *s)
{
	while (*s && len + 1 < size)
		buf[len++] = *s++;
	buf[len] = '\0';
	return len;
}

static size_t sc_append_num(char *buf, size_t len, size_t size, long v)
{
	char digits[24];
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
	size_t n = sizeof(digits) - 1;

	digits[n] = '\0';
	do
		digits[--n] = (char)('0' + u % 10);
	while ((u /= 10) && n);
	if (v < 0 && n)
		digits[--n] = '-';
	return sc_append(buf, len, size, digits + n);
}

static void sc_sigsys(int sig, siginfo_t *info, void *uctx)
{
	char msg[256];
	int nr = info->si_syscall;
	size_t len = 0;

	len = sc_append(msg, len, sizeof(msg), "vmm: seccomp: the ");
	len = sc_append(msg, len, sizeof(msg),
			sc_thread_kind < 0 ? "unknown"
					   : vmm_thread_name(sc_thread_kind));
	len = sc_append(msg, len, sizeof(msg),
			" thread made a forbidden system call: ");
	if (nr >= 0 && nr < SC_NAMES && sc_names[nr][0]) {
		len = sc_append(msg, len, sizeof(msg), sc_names[nr]);
		len = sc_append(msg, len, sizeof(msg), " (");
		len = sc_append_num(msg, len, sizeof(msg), nr);
		len = sc_append(msg, len, sizeof(msg), ")");
	} else {
		len = sc_append(msg, len, sizeof(msg), "number ");
		len = sc_append_num(msg, len, sizeof(msg), nr);
	}
	len = sc_append(msg, len, sizeof(msg),
			"; exiting (--no-seccomp turns the filters off)\n");
	if (write(STDERR_FILENO, msg, len) < 0) {
		/* nothing left to tell */
	}
	_exit(BVM_EXIT_SECCOMP);
}

static void sc_resolve_names(void)
{
	for (int nr = 0; nr < SC_NAMES; nr++) {
		char *name =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			snprintf(sc_names[nr], SC_NAME_SIZE, "%s", name);
		free(name);
	}
}

static int sc_allow_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		if (err)
			return err;
	}
	return 0;
}

/* The calls of every thread that need their arguments checked. */
static int sc_add_checked(scmp_filter_ctx ctx, const struct sc_profile *p)
{
	int err = 0;

	/* malloc's arenas, thread stacks: never executable memory. */
	err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Guest RAM back to the host on the memfd backing: its fd only. */
	for (unsigned i = 0; i < sc_nr_falloc_fds[VMM_FALLOC_GUEST_RAM]; i++)
		err |= seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(fallocate), 2,
			SCMP_A0(SCMP_CMP_EQ,
				(scmp_datum_t)
					sc_falloc_fds[VMM_FALLOC_GUEST_RAM][i],
				0),
			SCMP_A1(SCMP_CMP_EQ,
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0));
	/* Discard and write-zeroes: the disk images, any mode. */
	for (unsigned i = 0; (p->flags & SC_FALLOC_DISK) &&
			     i < sc_nr_falloc_fds[VMM_FALLOC_DISK];
	     i++)
		err |= seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(fallocate), 1,
			SCMP_A0(SCMP_CMP_EQ,
				(scmp_datum_t)sc_falloc_fds[VMM_FALLOC_DISK][i],
				0));
	/* abort() raises SIGABRT on itself: let an assertion end normally. */
	err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				SCMP_A2(SCMP_CMP_EQ, SIGABRT, 0));
	if (p->flags & SC_KICK)
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill),
					1, SCMP_A2(SCMP_CMP_EQ, SIGUSR1, 0));
	if (p->flags & SC_WRITE_ANY)
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write),
					0);
	else
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
					SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO, 0));
	if (p->flags & SC_WRITE_STDOUT)
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
					SCMP_A0(SCMP_CMP_EQ, STDOUT_FILENO, 0));
	if (p->flags & SC_OPEN_RO)
		err |= seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ,
				O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, 0));
	if (p->flags & SC_SPAWN) {
		/*
		 * pthread_create(): glibc tries clone3 first, whose flags sit
		 * in memory a filter cannot read; ENOSYS makes it use clone.
		 */
		err |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					SCMP_SYS(clone3), 0);
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ,
						CLONE_THREAD, CLONE_THREAD));
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					SCMP_SYS(set_robust_list), 0);
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rseq), 0);
		/* The child names itself and installs its own filter. */
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
		err |= seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 2,
			SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0),
			SCMP_A1(SCMP_CMP_EQ, 0, 0));
	}
	for (size_t i = 0; i < p->nr_ioctls; i++)
		err |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					SCMP_A1(SCMP_CMP_EQ, p->ioctls[i], 0));
	return err ? -EINVAL : 0;
}

static bool sc_has_ioctl(const struct sc_profile *p, unsigned long req)
{
	for (size_t i = 0; i < p->nr_ioctls; i++)
		if (p->ioctls[i] == req)
			return true;
	return false;
}

static int sc_add_profile(scmp_filter_ctx ctx, enum vmm_thread kind)
{
	const struct sc_profile *p = &sc_profiles[kind];
	int err = sc_allow_list(ctx, SC_LIST(sc_common));

	if (!err && p->nr_calls)
		err = sc_allow_list(ctx, p->calls, p->nr_calls);
	if (!err)
		err = sc_add_checked(ctx, p);
	if (!err && SC_SANITIZER)
		err = sc_allow_list(ctx, SC_LIST(sc_sanitizer));
	if (!err && SC_SANITIZER && kind == VMM_THREAD_MAIN)
		err = sc_allow_list(ctx, SC_LIST(sc_sanitizer_main));
	/* A report asks isatty(2) whether to colour itself. */
	if (!err && SC_SANITIZER && !sc_has_ioctl(p, TCGETS))
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	/* The hot calls first: ioctl is every vCPU exit. */
	if (!err)
		seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	return err;
}

/* libseccomp writes BPF to a file descriptor: read it back into memory. */
static int sc_export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("vmm-seccomp", MFD_CLOEXEC);
	off_t size;
	int err;

	if (fd < 0)
		return -errno;
	err = seccomp_export_bpf(ctx, fd);
	size = err ? 0 : lseek(fd, 0, SEEK_END);
	if (!err && (size <= 0 || size % sizeof(struct sock_filter) ||
		     size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		err = -E2BIG;
	if (!err) {
		prog->filter = malloc((size_t)size);
		if (!prog->filter)
			err = -ENOMEM;
		else if (pread(fd, prog->filter, (size_t)size, 0) != size)
			err = -EIO;
		prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	}
	close(fd);
	return err;
}

/* (Re)build @kind's program; the old one is freed. Caller holds sc_lock. */
static int sc_build(enum vmm_thread kind)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sock_fprog prog = {0};
	int err;

	if (!ctx)
		return -ENOMEM;
	/* A binary tree over the syscall numbers, not a linear chain. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	err = sc_add_profile(ctx, kind);
	if (!err)
		err = sc_export(ctx, &prog);
	seccomp_release(ctx);
	if (err) {
		free(prog.filter);
		fprintf(stderr,
			"vmm: seccomp: cannot build the %s thread's filter: "
			"%s\n",
			sc_profiles[kind].name, strerror(-err));
		return err;
	}
	free(sc_progs[kind].filter);
	sc_progs[kind] = prog;
	return 0;
}

int vmm_seccomp_allow_fallocate(int fd, enum vmm_falloc_file what)
{
	int err = 0;

	if (!sc_ready || !sc_enabled)
		return 0;
	pthread_mutex_lock(&sc_lock);
	/* Building needs memfd_create(), which no filter allows. */
	if (sc_entered & (1u << VMM_THREAD_MAIN))
		err = -EPERM;
	/* Every thread may release guest RAM: none may run without it. */
	else if (what == VMM_FALLOC_GUEST_RAM && sc_entered)
		err = -EBUSY;
	else if (sc_nr_falloc_fds[what] == SC_MAX_FALLOC_FDS)
		err = -E2BIG;
	if (!err)
		sc_falloc_fds[what][sc_nr_falloc_fds[what]++] = fd;
	for (int k = 0; !err && k < VMM_NR_THREADS; k++)
		if (what == VMM_FALLOC_GUEST_RAM ||
		    (sc_profiles[k].flags & SC_FALLOC_DISK))
			err = sc_build((enum vmm_thread)k);
	pthread_mutex_unlock(&sc_lock);
	return err;
}

int vmm_seccomp_init(bool enabled)
{
	const char *selftest = getenv("BUDDYVM_SECCOMP_SELFTEST");
	struct sigaction sa = {.sa_sigaction = sc_sigsys,
			       .sa_flags = SA_SIGINFO};

	if (selftest && strncmp(selftest, "fallocate:", 10) == 0) {
		sc_selftest_mode = SC_TEST_FALLOCATE;
		selftest += 10;
	} else if (selftest && SC_SANITIZER &&
		   strncmp(selftest, "leak:", 5) == 0) {
		sc_selftest_mode = SC_TEST_LEAK;
		selftest += 5;
	} else if (selftest && SC_SANITIZER &&
		   strncmp(selftest, "uaf:", 4) == 0) {
		sc_selftest_mode = SC_TEST_UAF;
		selftest += 4;
	}
	for (int k = 0; selftest && k < VMM_NR_THREADS; k++)
		if (strcmp(selftest, sc_profiles[k].name) == 0)
			sc_selftest = k;
	sc_enabled = enabled;
	sc_ready = true;
	if (!enabled)
		return 0;
	for (int k = 0; k < VMM_NR_THREADS; k++) {
		int err;

		pthread_mutex_lock(&sc_lock);
		err = sc_build((enum vmm_thread)k);
		pthread_mutex_unlock(&sc_lock);
		if (err)
			return err;
	}
	sc_resolve_names();
	sigemptyset(&sa.sa_mask);
	/*
	 * no_new_privs is inherited: set here, it holds for every thread, and
	 * one created by a filtered thread need not call prctl() itself.
	 */
	if (sigaction(SIGSYS, &sa, NULL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int err = errno;

		fprintf(stderr, "vmm: seccomp: %s\n", strerror(err));
		return -err;
	}
	return 0;
}

/* The sanitizer build's hooks: reports that must get through. */
static void sc_selftest_sanitizer(enum vmm_thread kind)
{
	char *volatile p = malloc(64);

	if (sc_selftest_mode == SC_TEST_LEAK) {
		fprintf(stderr,
			"vmm: seccomp self-test: leaking 64 bytes in the "
			"%s thread\n",
			vmm_thread_name(kind));
		sc_selftest_sink = p;
		sc_selftest_sink = NULL;
		return;
	}
	fprintf(stderr,
		"vmm: seccomp self-test: use after free in the %s "
		"thread\n",
		vmm_thread_name(kind));
	free(p);
	p[0] = 1;
}

/* The test hook: a call no thread may make, refused or (unfiltered) not. */
static void sc_selftest_call(enum vmm_thread kind)
{
	int fd;

	if (sc_selftest_mode == SC_TEST_FALLOCATE) {
		/* Neither guest RAM nor a disk: refused by every filter. */
		int r = fallocate(-1,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				  4096);

		fprintf(stderr,
			"vmm: seccomp self-test: fallocate() in the %s thread "
			"%s\n",
			vmm_thread_name(kind),
			r < 0 && errno == EBADF ? "was allowed (EBADF)"
						: "failed");
		return;
	}
	if (sc_selftest_mode != SC_TEST_SOCKET) {
		sc_selftest_sanitizer(kind);
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	fprintf(stderr,
		"vmm: seccomp self-test: socket() in the %s thread %s\n",
		vmm_thread_name(kind),
		fd >= 0 ? "was allowed (no filter)" : "failed");
	if (fd >= 0)
		close(fd);
}

void vmm_seccomp_enter(enum vmm_thread kind)
{
	long r = 0;

	if (!sc_ready)
		return;
	/* ps -L, top -H and the tests see which thread is which. */
	if (kind != VMM_THREAD_MAIN)
		prctl(PR_SET_NAME, vmm_thread_name(kind), 0, 0, 0);
	if (sc_enabled) {
		sc_thread_kind = (int)kind;
		pthread_mutex_lock(&sc_lock);
		sc_entered |= 1u << kind;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			    &sc_progs[kind]) < 0)
			r = -errno;
		pthread_mutex_unlock(&sc_lock);
		if (r) {
			fprintf(stderr,
				"vmm: seccomp: cannot install the %s thread's "
				"filter: %s\n",
				vmm_thread_name(kind), strerror((int)-r));
			_exit(BVM_EXIT_SECCOMP);
		}
	}
	if (sc_selftest == (int)kind &&
	    __atomic_exchange_n(&sc_selftest, -1, __ATOMIC_ACQ_REL) ==
		    (int)kind)
		sc_selftest_call(kind);
}
