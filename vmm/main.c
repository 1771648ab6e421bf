// SPDX-License-Identifier: MIT
/*
 * vmm/main.c - the `vmm` command: a table of subcommands. Only main() and the
 * subcommands it calls decide the process exit status.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api_vm.h"
#include "abi/boot.h"
#include "vmm/cli.h"
#include "vmm/cli_api.h"
#include "vmm/cli_compact.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define VMM_VERSION "0.1"
/* vmm run stopped by SIGTERM or SIGINT: 128 + the signal (the shell's). */
#define BVM_EXIT_SIGNAL_BASE 128

struct vmm_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static int vmm_usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "vmm %s: %s\ntry 'vmm %s --help'\n", cmd, msg, cmd);
	return BVM_EXIT_USAGE;
}

/*
 * With BUDDYVM_STATS set, print the VMM's own memory use at the end of a run
 * (for tests/bench/boot_bench), and the resident guest RAM (mincore) with
 * its backing: guest RAM is in RssAnon (anon, anon-4k) or RssShmem (memfd),
 * so VmRSS - guest_ram is what the VMM itself costs (hugetlbfs pages are
 * outside VmRSS).
 */
static void vmm_print_stats(const struct vm *vm)
{
	static const char *const keys[] = {
		"VmHWM:", "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"};
	enum { NR_KEYS = sizeof(keys) / sizeof(keys[0]) };
	uint64_t kib[NR_KEYS], ram = 0;

	if (vm_stats_proc_status(keys, NR_KEYS, kib) < 0)
		return;
	fprintf(stderr, "vmm-stats:");
	for (unsigned i = 0; i < NR_KEYS; i++)
		if (kib[i] != VM_STATS_NOT_FOUND)
			fprintf(stderr, " %.*s_kib=%llu",
				(int)strlen(keys[i]) - 1, keys[i],
				(unsigned long long)kib[i]);
	if (vm_stats_ram_resident(&vm->mem, &ram) == 0)
		fprintf(stderr, " guest_ram_kib=%llu",
			(unsigned long long)(ram >> 10));
	fprintf(stderr, " mem_backing=%s\n",
		guest_mem_backing_name(vm->mem.backing));
}

/*
 * SIGTERM and SIGINT stop the VM as `quit` does, with status 128 + the
 * signal's number (143, 130) unless the guest had already decided one: the
 * report, --stats, --check and the socket's removal all run. They are
 * blocked in every thread (set before the first thread starts, inherited)
 * and taken by one thread with sigwait(), so no async handler does work.
 * A second signal exits at once, for a stop that hangs; so does a stop that
 * has not ended VMM_STOP_LIMIT_S after the first (a client that stalls the
 * API thread must not keep the VMM alive: SIGTERM alone has to end it).
 */
#define VMM_STOP_LIMIT_S 10

static void vmm_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* Set before vm_destroy(): from then on a signal only exits. */
static bool vmm_vm_gone;

static const char *vmm_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

static void *vmm_signal_thread(void *arg)
{
	static const struct timespec stop_limit = {VMM_STOP_LIMIT_S, 0};
	struct vm *vm = arg;
	sigset_t set;
	int first, sig;

	vmm_seccomp_enter(VMM_THREAD_SIGNAL);
	vmm_stop_signals(&set);
	while (sigwait(&set, &first) != 0)
		;
	if (!__atomic_load_n(&vmm_vm_gone, __ATOMIC_ACQUIRE)) {
		fprintf(stderr,
			"vmm: %s: stopping the VM (a second signal exits at "
			"once)\n",
			vmm_signal_name(first));
		vm_finish(vm, BVM_EXIT_SIGNAL_BASE + first);
		do
			sig = sigtimedwait(&set, NULL, &stop_limit);
		while (sig < 0 && errno == EINTR);
		if (sig < 0) /* the stop hangs: a stuck client, a full pipe */
			fprintf(stderr, "vmm: the VM did not stop within %d s",
				VMM_STOP_LIMIT_S);
		else
			fprintf(stderr, "vmm: %s", vmm_signal_name(sig));
	} else {
		fprintf(stderr, "vmm: %s", vmm_signal_name(first));
	}
	fprintf(stderr, ": exiting now\n");
	_exit(BVM_EXIT_SIGNAL_BASE + first);
	return NULL;
}

/* Before any thread starts: every thread inherits the blocked set. */
static int vmm_block_stop_signals(void)
{
	sigset_t set;

	vmm_stop_signals(&set);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int vmm_start_signal_thread(struct vm *vm)
{
	pthread_t thread;
	int err = pthread_create(&thread, NULL, vmm_signal_thread, vm);

	if (err) {
		fprintf(stderr, "vmm: signal thread: %s\n", strerror(err));
		return -err;
	}
	pthread_detach(thread); /* lives until the process exits */
	return 0;
}

static int vmm_cmd_run(int argc, char **argv)
{
	static struct vm vm; /* large; static keeps it off the stack */
	struct api_server *api = NULL;
	struct vm_config cfg;
	char err[256];
	int r = cli_parse_run(argc, argv, &cfg, err, sizeof(err));

	if (r == 1) {
		fputs(cli_run_help, stdout);
		return BVM_EXIT_OK;
	}
	if (r < 0)
		return vmm_usage_error("run", err);
	/* Filters are built before the first thread (a disk's) starts. */
	if (vmm_block_stop_signals() < 0 ||
	    vmm_seccomp_init(!cfg.no_seccomp) < 0 || vm_create(&vm, &cfg) < 0)
		return BVM_EXIT_VMM_ERROR;
	if (vmm_start_signal_thread(&vm) < 0) {
		vm_destroy(&vm);
		return BVM_EXIT_VMM_ERROR;
	}
	if (cfg.api_path && api_vm_start(&vm, &api) < 0) {
		vm_destroy(&vm);
		return BVM_EXIT_VMM_ERROR;
	}
	r = vm_run(&vm);
	api_vm_stop(api);
	if (cfg.print_stats)
		vm_stats_print(&vm, stdout);
	/* A broken page database outranks what the guest said. */
	if (cfg.check_mm && vm_stats_check(&vm) < 0)
		r = BVM_EXIT_VMM_ERROR;
	if (getenv("BUDDYVM_STATS"))
		vmm_print_stats(&vm);
	__atomic_store_n(&vmm_vm_gone, true, __ATOMIC_RELEASE);
	vm_destroy(&vm);
	return r;
}

static const struct vmm_command vmm_commands[] = {
	{"run", "boot a guest kernel in a new VM", vmm_cmd_run},
	{"stat", "show a running VM's memory statistics (--api)", cli_api_main},
	{"balloon", "set a running VM's balloon target (--api)", cli_api_main},
	{"pause", "stop a running VM's vCPUs (--api)", cli_api_main},
	{"resume", "restart a paused VM's vCPUs (--api)", cli_api_main},
	{"quit", "stop a running VM; vmm run exits 0 (--api)", cli_api_main},
	{"compact", "run compaction in a running VM now (--api)",
	 cli_compact_main},
};

static void vmm_help(FILE *out)
{
	fprintf(out, "usage: vmm COMMAND [OPTIONS]\n"
		     "       vmm --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(vmm_commands) / sizeof(vmm_commands[0]);
	     i++)
		fprintf(out, "  %-10s %s\n", vmm_commands[i].name,
			vmm_commands[i].summary);
	fprintf(out, "\n'vmm COMMAND --help' describes a command's options, "
		     "defaults and exit statuses.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		vmm_help(stderr);
		return BVM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		vmm_help(stdout);
		return BVM_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("vmm (buddyvm) %s\n", VMM_VERSION);
		return BVM_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(vmm_commands) / sizeof(vmm_commands[0]);
	     i++) {
		if (strcmp(argv[1], vmm_commands[i].name) == 0)
			return vmm_commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "vmm: unknown command '%s'\ntry 'vmm --help'\n",
		CLI_Q(argv[1]));
	return BVM_EXIT_USAGE;
}
