/* SPDX-License-Identifier: MIT */
/*
 * vmm/seccomp.h - least privilege for `vmm run`: once setup is over, every
 * VMM thread runs under a seccomp filter that allows only the system calls
 * its kind of thread needs from then on (docs/vmm.md "Least privilege").
 *
 * vmm_seccomp_init() builds one BPF program per thread kind (libseccomp)
 * before the first thread starts; each thread installs its own with
 * vmm_seccomp_enter() where its steady state begins, so a filter is never
 * wider than its thread. A forbidden call raises SIGSYS: the handler names
 * the thread and the call on stderr and exits with BVM_EXIT_SECCOMP.
 */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <stdbool.h>

/* 128 + SIGSYS, what a shell reports for a process SIGSYS killed. */
#define BVM_EXIT_SECCOMP 159

enum vmm_thread {
	VMM_THREAD_MAIN,	  /* vm_run() once the vCPUs run, teardown */
	VMM_THREAD_VCPU,	  /* KVM_RUN and the exit handlers */
	VMM_THREAD_SIGNAL,	  /* sigwait() for SIGTERM/SIGINT */
	VMM_THREAD_API,		  /* the control socket's server */
	VMM_THREAD_BLK_IO,	  /* a virtio-blk queue's I/O */
	VMM_THREAD_BALLOON_STATS, /* the balloon's periodic stats request */
	VMM_THREAD_MIGRATE_TIMER, /* pvmem migration deadlines */
	VMM_THREAD_PVMEM_RING,	  /* pvmem page rings: returns, idle decay */
	VMM_NR_THREADS,
};

/**
 * vmm_seccomp_init() - build the filters and install the SIGSYS handler.
 * Call once from main() before any thread starts. With @enabled false
 * (--no-seccomp) nothing is built and vmm_seccomp_enter() only runs the
 * self-test hook. Without this call (unit tests) vmm_seccomp_enter() does
 * nothing.
 * Return: 0, or a negative errno (libseccomp failed: printed).
 */
int vmm_seccomp_init(bool enabled);

/**
 * vmm_seccomp_enter() - install the filter of @kind on the calling thread
 * (and the threads it creates from now on). A thread that cannot install
 * its filter stops the VMM at once (BVM_EXIT_SECCOMP, message on stderr):
 * running unfiltered is not an option.
 *
 * Test hook: with BUDDYVM_SECCOMP_SELFTEST=<kind name> in the environment
 * at vmm_seccomp_init(), the first thread of that kind then calls socket(),
 * which no thread may (tests/integration/seccomp.tests.sh);
 * "fallocate:<kind>" calls fallocate() on a descriptor that is neither
 * guest RAM nor a disk (-1). In a sanitizer build, "leak:<kind>" leaks 64
 * bytes there and "uaf:<kind>" writes to freed memory: their reports must
 * come through the filters.
 */
void vmm_seccomp_enter(enum vmm_thread kind);

/* The files fallocate() may reach (vmm_seccomp_allow_fallocate()). */
enum vmm_falloc_file {
	VMM_FALLOC_GUEST_RAM, /* every thread: punch holes (KEEP_SIZE) only */
	VMM_FALLOC_DISK,      /* the blk-io threads: any mode */
};

/**
 * vmm_seccomp_allow_fallocate() - let fallocate() reach @fd, which setup
 * opened after vmm_seccomp_init(): guest RAM's memfd or a writable disk
 * image. No other descriptor may be fallocate()d. The filters this widens
 * are rebuilt now: call from the setup thread before any thread that needs
 * @fd starts (guest RAM: before any thread enters its filter, else -EBUSY).
 * Without vmm_seccomp_init() or with the filters off it does nothing.
 * Return: 0, -EBUSY, -E2BIG (too many files), -EPERM (the main thread is
 * filtered already) or a libseccomp error (printed).
 */
int vmm_seccomp_allow_fallocate(int fd, enum vmm_falloc_file what);

/* The kind's name as the messages and the test hook spell it. */
const char *vmm_thread_name(enum vmm_thread kind);

#endif /* VMM_SECCOMP_H */
