/* SPDX-License-Identifier: MIT */
/*
 * vmm/vm.h - one KVM virtual machine: configuration, the pieces every
 * subsystem shares (KVM fds, guest RAM, the exit bus), named init levels, and
 * the single place where the VM's exit status is decided.
 *
 * Devices do not get a field in struct vm: each keeps its state static in its
 * own .c file and registers an initcall in devices/device_table.c.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/boot.h"
#include "vmm/guest_mem.h"

struct bus;
struct frame_db;
struct vcpu;
struct vm_stats_ops;
struct kvm_cpuid2;

enum vm_memory_model {
	VM_MEMORY_HOSTED, /* the host buddy allocator is the guest's */
	VM_MEMORY_NATIVE, /* the guest owns all RAM named in the FDT */
};

/* --disk PATH[,readonly][,direct]: a virtio-blk disk (devices/virtio_blk.c). */
#define VM_MAX_DISKS	 4
#define VM_DISK_PATH_MAX 1024

struct vm_disk_config {
	char path[VM_DISK_PATH_MAX]; /* a raw image file */
	bool readonly;		     /* the guest cannot write it */
	bool direct;		     /* O_DIRECT: bypass the host page cache */
};

struct vm_config {
	uint64_t mem_size;   /* bytes of guest RAM */
	unsigned nr_vcpus;   /* 1 .. BVM_MAX_VCPUS */
	const char *cmdline; /* /chosen/bootargs */
	unsigned timeout_s;  /* 0: wait forever */
	enum vm_memory_model memory_model;
	const char *guest_path; /* the guest ELF */
	uint64_t mem_limit;	/* hosted: page limit in bytes; 0: all RAM */
	bool print_stats;	/* --stats: host and guest views at exit */
	bool check_mm;		/* --check: mm_check() at exit must pass */
	const char *api_path;	/* --api: control socket; NULL: none */
	struct vm_disk_config disks[VM_MAX_DISKS]; /* --disk, in order */
	unsigned nr_disks;
	uint64_t cma_bytes;	/* --cma: CMA area (vmm/vm_cma.h); 0: none */
	int cma_zone;		/* its zone, or VM_CMA_ZONE_FIT */
	uint64_t movable_bytes; /* --movable: top of RAM as ZONE_MOVABLE */
	enum guest_mem_backing mem_backing; /* --mem-backing (default anon) */
	bool no_seccomp; /* --no-seccomp: no system call filters */
};

/*
 * Init levels run in this order. Core levels are vmm/'s own; devices use
 * VM_LEVEL_DEVICE.
 *
 * The initcall rule: a step is recorded only after its init succeeded. An
 * init that fails undoes what it did itself (a goto ladder) and its exit is
 * never called; the recorded steps are then torn down in reverse, each exit
 * exactly once. So an exit may assume its init completed.
 */
enum vm_init_level {
	VM_LEVEL_MEMORY, /* guest RAM (vmm/guest_mem.c mapping) */
	VM_LEVEL_LOADER, /* guest image into RAM: bad images fail before KVM */
	VM_LEVEL_KVM,	 /* /dev/kvm, VM, irqchip, RAM as memory slots */
	VM_LEVEL_MM,	 /* the frame database over guest RAM */
	VM_LEVEL_DEVICE, /* devices: bus ranges, FDT nodes, IRQs */
	VM_LEVEL_BOOT,	 /* FDT, boot page tables, GDT */
	VM_LEVEL_VCPU,	 /* vCPUs created, registers set */
	VM_NR_LEVELS,
};

struct vm;

struct vm_initcall {
	const char *name;
	enum vm_init_level level;
	int (*init)(struct vm *vm);  /* 0 or negative errno (logs why) */
	void (*exit)(struct vm *vm); /* may be NULL */
	/* What the step adds to --stats and --check (vm_stats.h); or NULL. */
	const struct vm_stats_ops *stats;
};

/* Device initcalls, terminated by an entry with a NULL name. */
extern const struct vm_initcall vm_device_initcalls[];

/* A virtio-mmio device the FDT builder describes to the guest. */
struct vm_mmio_dev {
	uint64_t base;
	uint64_t size;
	unsigned irq; /* IOAPIC pin (GSI) */
	/* pvmem DMA device id: FDT "buddyvm,dma-device-id" (hosted model). */
	uint32_t dma_device_id;
};

#define VM_MAX_MMIO_DEVS 16

struct vm {
	struct vm_config cfg;

	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, malloc'd */
	bool has_1g_pages;

	struct guest_mem mem;
	struct bus *bus;
	/* What each guest frame is, both models (vmm/frame_db.h). */
	struct frame_db *frame_db;

	uint64_t entry;	     /* guest entry point */
	uint64_t kernel_end; /* end of the guest image, page-aligned */

	struct vm_mmio_dev mmio_devs[VM_MAX_MMIO_DEVS];
	unsigned nr_mmio_devs;

	struct vcpu *vcpus[BVM_MAX_VCPUS];

	/* The exit status is decided once; see vm_finish(). */
	pthread_mutex_t lock;
	pthread_cond_t finished_cond;
	bool finished;
	int exit_status;

	/*
	 * Pause (vm_pause()): vCPUs park on pause_cond at the top of their
	 * loop while pause_requested; nr_paused counts the parked ones, and
	 * the pauser waits on the same condition until all are.
	 */
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned nr_paused, nr_started;
	/* vm_set_pause_hook(): told once all are parked, and before resume. */
	void (*pause_hook)(void *opaque, bool paused);
	void *pause_hook_opaque;
	uint64_t start_ns; /* CLOCK_MONOTONIC at vm_run(), for uptime */

	/* Serializes console writes so lines of different vCPUs never mix. */
	pthread_mutex_t console_lock;

	/* Initcalls that succeeded, for teardown in reverse. */
	const struct vm_initcall *done[64];
	unsigned nr_done;
};

/**
 * vm_create() - run every initcall, level by level, to build a VM from @cfg.
 * @vm: zeroed by the caller; the config is copied in.
 *
 * Return: 0, or the failing step's negative errno (it has printed why) after
 * the steps that succeeded were torn down (the initcall rule above).
 */
int vm_create(struct vm *vm, const struct vm_config *cfg);

/**
 * vm_run_initcalls() - what vm_create() does after setting up @vm: run the
 * initcalls of @tables (each ends with a NULL name) level by level, and
 * within a level table by table in table order, under the initcall rule.
 * Return: 0, or the first failure's negative errno after vm_destroy().
 */
int vm_run_initcalls(struct vm *vm, const struct vm_initcall *const tables[],
		     unsigned nr_tables);

/**
 * vm_run() - start every vCPU thread, wait until the guest finishes, fails or
 * times out, stop all vCPUs and return the exit status (BVM_EXIT_*).
 */
int vm_run(struct vm *vm);

/** vm_destroy() - run the exits of the recorded steps, in reverse. */
void vm_destroy(struct vm *vm);

/**
 * vm_finish() - decide the VM's exit status. The first call wins; later ones
 * are ignored. Wakes vm_run(), which stops the vCPUs. Safe from any thread.
 * Return true for the call that decided (it may then print why).
 */
bool vm_finish(struct vm *vm, int status);

/** vm_is_finished() - true once an exit status has been decided. */
bool vm_is_finished(struct vm *vm);

/**
 * vm_pause() - stop every running vCPU: kick it out of KVM_RUN and wait until
 * it has parked. Idempotent. Safe from any thread but the vCPUs'.
 * Return: 0 (*@was_paused tells whether it already was) or -ESHUTDOWN when
 * the VM has finished.
 */
int vm_pause(struct vm *vm, bool *was_paused);

/**
 * vm_set_pause_hook() - a device that acts only on a stopped guest (pvmem
 * moves ballooned frames alone while paused) is told: @fn(@opaque, true)
 * by vm_pause() once every vCPU is parked, @fn(@opaque, false) by
 * vm_resume() before any vCPU runs again (it may wait for work in
 * progress). One hook per VM; NULL removes it. Set it during init.
 */
void vm_set_pause_hook(struct vm *vm, void (*fn)(void *opaque, bool paused),
		       void *opaque);

/** vm_resume() - let parked vCPUs run again. Idempotent, as vm_pause(). */
int vm_resume(struct vm *vm, bool *was_paused);

/** vm_is_paused() - true between vm_pause() and vm_resume(). */
bool vm_is_paused(struct vm *vm);

/**
 * vm_vcpu_pause_point() - called by each vCPU thread before KVM_RUN: parks
 * while a pause is requested and re-arms KVM_RUN (@immediate_exit) after a
 * kick that a pause or resume made stale.
 */
void vm_vcpu_pause_point(struct vm *vm, uint8_t *immediate_exit);

/** vm_uptime_ms() - milliseconds since vm_run() started the vCPUs. */
uint64_t vm_uptime_ms(struct vm *vm);

/**
 * vm_add_mmio_dev() - describe a virtio-mmio window to the guest (FDT
 * "virtio,mmio" node with reg, interrupts and buddyvm,dma-device-id, the
 * pvmem DMA id the device's descriptors must lie in). Call from a
 * VM_LEVEL_DEVICE initcall. Return 0 or -ENOSPC.
 */
int vm_add_mmio_dev(struct vm *vm, uint64_t base, uint64_t size, unsigned irq,
		    uint32_t dma_device_id);

/**
 * vm_irq_line() - set IOAPIC pin @irq to @level (edge devices pulse 1, 0).
 * Return 0 or a negative errno.
 */
int vm_irq_line(struct vm *vm, unsigned irq, int level);

/** vm_console_write() - write @len bytes to stdout as one write(). */
void vm_console_write(struct vm *vm, const void *buf, size_t len);

#endif /* VMM_VM_H */
