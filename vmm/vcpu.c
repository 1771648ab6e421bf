// SPDX-License-Identifier: MIT
/*
 * vmm/vcpu.c - the vCPU loop: KVM_RUN, then one handler per exit reason.
 *
 * Stopping: vm_finish() decides the status; vm_run() then sets each vCPU's
 * immediate_exit and sends it SIGUSR1. A thread about to enter KVM_RUN sees
 * immediate_exit and returns -EINTR at once; one inside KVM_RUN (even halted)
 * is interrupted by the signal. Either way it checks vm_is_finished() and
 * leaves the loop.
 *
 * Pausing (vm_pause()) uses the same kick; the thread then parks in
 * vm_vcpu_pause_point() before its next KVM_RUN until vm_resume().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "abi/boot.h"
#include "vmm/bus.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "vmm/x86_boot.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signals_init(void)
{
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};

	/* No SA_RESTART: KVM_RUN must return -EINTR when kicked. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

struct vcpu *vcpu_create(struct vm *vm, unsigned index)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
	int r;

	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		fprintf(stderr, "vmm: KVM_CREATE_VCPU %u: %s\n", index,
			strerror(errno));
		free(vcpu);
		return NULL;
	}
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		fprintf(stderr, "vmm: mmap of vCPU %u: %s\n", index,
			strerror(errno));
		vcpu->run = NULL;
		vcpu_destroy(vcpu);
		return NULL;
	}
	r = x86_vcpu_setup(vcpu->fd, vm->cpuid, index, vm->entry, BVM_FDT_ADDR);
	if (r < 0) {
		fprintf(stderr, "vmm: boot state of vCPU %u: %s\n", index,
			strerror(-r));
		vcpu_destroy(vcpu);
		return NULL;
	}
	return vcpu;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}

static void vcpu_dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr,
		"  %-3s sel=0x%04x base=0x%016llx limit=0x%08x type=%u "
		"p=%u dpl=%u db=%u s=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit,
		s->type, s->present, s->dpl, s->db, s->s, s->l, s->g);
}

void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "vmm: vCPU %u: cannot read registers: %s\n",
			vcpu->index, strerror(errno));
		return;
	}
	fprintf(stderr,
		"vCPU %u registers:\n"
		"  rip=0x%016llx rflags=0x%016llx\n"
		"  rax=0x%016llx rbx=0x%016llx rcx=0x%016llx rdx=0x%016llx\n"
		"  rsi=0x%016llx rdi=0x%016llx rbp=0x%016llx rsp=0x%016llx\n"
		"  r8 =0x%016llx r9 =0x%016llx r10=0x%016llx r11=0x%016llx\n"
		"  r12=0x%016llx r13=0x%016llx r14=0x%016llx r15=0x%016llx\n"
		"  cr0=0x%016llx cr2=0x%016llx cr3=0x%016llx cr4=0x%016llx\n"
		"  efer=0x%016llx gdt=0x%016llx/0x%x idt=0x%016llx/0x%x\n",
		vcpu->index, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
		r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base,
		s.gdt.limit, s.idt.base, s.idt.limit);
	vcpu_dump_segment("cs", &s.cs);
	vcpu_dump_segment("ss", &s.ss);
	vcpu_dump_segment("ds", &s.ds);
	vcpu_dump_segment("fs", &s.fs);
	vcpu_dump_segment("gs", &s.gs);
	vcpu_dump_segment("tr", &s.tr);
}

/* The guest crashed: the first vCPU to decide prints why and its state. */
static void vcpu_crash(struct vcpu *vcpu, const char *why)
{
	struct vm *vm = vcpu->vm;

	if (!vm_finish(vm, BVM_EXIT_GUEST_CRASH))
		return;
	pthread_mutex_lock(&vm->console_lock);
	fprintf(stderr, "vmm: guest crashed on vCPU %u: %s\n", vcpu->index,
		why);
	vcpu_dump(vcpu);
	pthread_mutex_unlock(&vm->console_lock);
}

/*
 * A device handler's error, or an access nothing claims: logged (the first
 * few per vCPU, so a guest cannot flood the terminal), then ignored.
 */
#define VCPU_MAX_BUS_LOGS 8

static void vcpu_log_bus_error(struct vcpu *vcpu, const char *space,
			       uint64_t addr, unsigned len, bool is_write,
			       int err)
{
	if (vcpu->nr_bus_logs >= VCPU_MAX_BUS_LOGS)
		return;
	vcpu->nr_bus_logs++;
	fprintf(stderr, "vmm: vCPU %u: %s %s of %u bytes at 0x%llx: %s%s\n",
		vcpu->index, space, is_write ? "write" : "read", len,
		(unsigned long long)addr,
		err == -ENOENT ? "nothing there" : strerror(-err),
		vcpu->nr_bus_logs == VCPU_MAX_BUS_LOGS
			? " (further errors not shown)"
			: "");
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O repeats the access count times over consecutive data. */
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *p = data + (size_t)i * run->io.size;
		int r = bus_dispatch(vcpu->vm->bus, BUS_PIO, run->io.port, p,
				     run->io.size, is_write);

		if (r == -ENOENT && !is_write)
			memset(p, 0xff, run->io.size); /* nothing there */
		if (r < 0)
			vcpu_log_bus_error(vcpu, "port", run->io.port,
					   run->io.size, is_write, r);
	}
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned len = run->mmio.len;
	int r;

	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0, len);
	r = bus_dispatch(vcpu->vm->bus, BUS_MMIO, run->mmio.phys_addr,
			 run->mmio.data, len, run->mmio.is_write);
	if (r == -ENOENT && !run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
	if (r < 0)
		vcpu_log_bus_error(vcpu, "MMIO", run->mmio.phys_addr, len,
				   run->mmio.is_write, r);
}

static void vcpu_handle_internal_error(struct vcpu *vcpu)
{
	char why[160];
	int n = snprintf(why, sizeof(why), "KVM internal error, suberror %u",
			 vcpu->run->internal.suberror);

	for (uint32_t i = 0;
	     i < vcpu->run->internal.ndata && i < 4 && n < (int)sizeof(why);
	     i++)
		n += snprintf(why + n, sizeof(why) - (size_t)n, " 0x%llx",
			      vcpu->run->internal.data[i]);
	vcpu_crash(vcpu, why);
}

static void vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char why[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		break;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_handle_internal_error(vcpu);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, reason 0x%llx",
			 run->fail_entry.hardware_entry_failure_reason);
		vcpu_crash(vcpu, why);
		break;
	default:
		snprintf(why, sizeof(why), "unhandled exit reason %u",
			 run->exit_reason);
		vcpu_crash(vcpu, why);
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char why[96];

	vmm_seccomp_enter(VMM_THREAD_VCPU);
	while (!vm_is_finished(vcpu->vm)) {
		vm_vcpu_pause_point(vcpu->vm, &vcpu->run->immediate_exit);
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "KVM_RUN failed: %s",
				 strerror(errno));
			vcpu_crash(vcpu, why);
			break;
		}
		vcpu_handle_exit(vcpu);
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (r)
		return -r;
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
