/* SPDX-License-Identifier: MIT */
/*
 * vmm/vcpu.h - one thread per vCPU running KVM_RUN and dispatching its exits.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>

struct vm;
struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run; /* shared with KVM: vm->vcpu_mmap_size bytes */
	pthread_t thread;
	bool started;
	unsigned nr_bus_logs; /* bus errors logged so far (rate limit) */
};

/**
 * vcpu_create() - create vCPU @index of @vm and set its boot state
 * (abi/boot.h). Return the vCPU (free with vcpu_destroy()) or NULL after
 * printing why.
 */
struct vcpu *vcpu_create(struct vm *vm, unsigned index);
void vcpu_destroy(struct vcpu *vcpu);

/* Install the (empty) signal handler used to kick vCPUs out of KVM_RUN. */
int vcpu_signals_init(void);

/** vcpu_start() - start the vCPU's thread. Return 0 or a negative errno. */
int vcpu_start(struct vcpu *vcpu);

/**
 * vcpu_kick() - make the vCPU leave KVM_RUN promptly. Call after vm_finish()
 * so the thread does not enter KVM_RUN again; then vcpu_join() it.
 */
void vcpu_kick(struct vcpu *vcpu);

/** vcpu_join() - wait for the vCPU's thread to end. */
void vcpu_join(struct vcpu *vcpu);

/** vcpu_dump() - print the vCPU's registers to stderr. */
void vcpu_dump(struct vcpu *vcpu);

#endif /* VMM_VCPU_H */
