// SPDX-License-Identifier: MIT
/*
 * vmm/vm.c - VM lifetime: named init levels run in order (core steps and
 * device initcalls merged by level), torn down in reverse; the run loop that
 * waits for the guest's verdict or the timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm/bus.h"
#include "vmm/debug_ports.h"
#include "vmm/elf_load.h"
#include "vmm/fdt_build.h"
#include "vmm/frame_db.h"
#include "vmm/seccomp.h"
#include "vmm/vm_compaction.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "vmm/x86_boot.h"

/* KVM's private pages for the real-mode TSS and identity map: in the hole. */
#define VM_KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define VM_KVM_TSS_ADDR		 0xfeffd000ull

static const struct {
	int cap;
	const char *name;
} vm_required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};

static int vm_check_kvm(int kvm_fd)
{
	int version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);

	if (version < 0) {
		int err = errno;

		fprintf(stderr,
			"vmm: /dev/kvm does not answer KVM_GET_API_VERSION "
			"(%s):"
			" it is not the KVM device; is the kvm module "
			"loaded?\n",
			strerror(err));
		return -err;
	}
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "vmm: KVM API version %d, need %d\n", version,
			KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0;
	     i < sizeof(vm_required_caps) / sizeof(vm_required_caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION,
			  vm_required_caps[i].cap) <= 0) {
			fprintf(stderr,
				"vmm: this KVM lacks %s, which the VMM needs\n",
				vm_required_caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int vm_get_cpuid(struct vm *vm)
{
	for (unsigned nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			vm->has_1g_pages = x86_cpuid_has_1g_pages(c);
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -errno;
	}
	return -E2BIG;
}

static int vm_kvm_fail(const char *what)
{
	int r = -errno;

	fprintf(stderr, "vmm: %s: %s\n", what, strerror(errno));
	return r;
}

static void vm_add_region(struct vm *vm, uint8_t *base, uint64_t gpa,
			  uint64_t size, uint64_t fd_offset)
{
	vm->mem.regions[vm->mem.nr_regions++] = (struct guest_mem_region){
		.gpa = gpa,
		.size = size,
		.hva = base + fd_offset,
		.fd_offset = fd_offset,
	};
}

/* Each RAM region becomes one KVM memory slot. */
static int vm_register_memory(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region kr = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0)
			return vm_kvm_fail("KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

/*
 * All of RAM is one mapping (vmm/guest_mem.c: anonymous THP memory unless
 * --mem-backing says otherwise), 2 MiB aligned; the regions below and above
 * the MMIO hole are consecutive pieces of it. Pages are only backed when
 * touched, so host RSS follows what the guest uses.
 */
static int vm_init_memory(struct vm *vm)
{
	uint64_t size = vm->cfg.mem_size;
	uint64_t low = size < BVM_LOWMEM_END ? size : BVM_LOWMEM_END;
	uint8_t *base;
	char err[256];
	int r;

	r = guest_mem_map(&vm->mem, vm->cfg.mem_backing, size, &base, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		return r;
	}
	vm_add_region(vm, base, 0, low, 0);
	if (size > low)
		vm_add_region(vm, base, BVM_HIGHMEM_START, size - low, low);
	return 0;
}

static void vm_exit_memory(struct vm *vm)
{
	guest_mem_unmap(&vm->mem,
			vm->mem.nr_regions ? vm->mem.regions[0].hva : NULL);
	vm->mem.nr_regions = 0;
}

/* The VM itself: its private pages, the in-kernel irqchip, RAM slots. */
static int vm_create_kvm_vm(struct vm *vm)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_kvm_fail("KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR,
		  &(uint64_t){VM_KVM_IDENTITY_MAP_ADDR}) < 0)
		return vm_kvm_fail("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_KVM_TSS_ADDR) < 0)
		return vm_kvm_fail("KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_kvm_fail("KVM_CREATE_IRQCHIP");
	return vm_register_memory(vm);
}

static int vm_init_kvm(struct vm *vm)
{
	int r;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return vm_kvm_fail("cannot open /dev/kvm (is KVM enabled "
				   "and accessible?)");
	r = vm_check_kvm(vm->kvm_fd);
	if (r < 0)
		goto fail_kvm;
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		r = vm_kvm_fail("KVM_GET_VCPU_MMAP_SIZE");
		goto fail_kvm;
	}
	r = vm_get_cpuid(vm);
	if (r < 0) {
		fprintf(stderr, "vmm: KVM_GET_SUPPORTED_CPUID: %s\n",
			strerror(-r));
		goto fail_kvm;
	}
	r = vm_create_kvm_vm(vm);
	if (r < 0)
		goto fail_vm;
	vm->bus = bus_create();
	if (!vm->bus) {
		r = -ENOMEM;
		goto fail_vm;
	}
	return 0;

fail_vm:
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
	free(vm->cpuid);
	vm->cpuid = NULL;
fail_kvm:
	close(vm->kvm_fd);
	vm->kvm_fd = -1;
	return r;
}

static void vm_exit_kvm(struct vm *vm)
{
	bus_destroy(vm->bus);
	free(vm->cpuid);
	close(vm->vm_fd);
	close(vm->kvm_fd);
}

static int vm_init_loader(struct vm *vm)
{
	struct elf_image img;
	char err[256];
	int r = elf_load_file(vm->cfg.guest_path, &vm->mem, &img, err,
			      sizeof(err));

	if (r < 0) {
		fprintf(stderr, "vmm: guest '%s': %s\n", vm->cfg.guest_path,
			err);
		return r;
	}
	vm->entry = img.entry;
	vm->kernel_end = img.end;
	return 0;
}

static int vm_init_boot(struct vm *vm)
{
	void *fdt = guest_mem_ptr(&vm->mem, BVM_FDT_ADDR, BVM_FDT_MAX);
	int r;

	r = x86_boot_build_tables(&vm->mem, vm->cfg.nr_vcpus, vm->has_1g_pages);
	if (r < 0) {
		fprintf(stderr, "vmm: boot page tables: %s\n", strerror(-r));
		return r;
	}
	r = fdt ? fdt_build(vm, fdt, BVM_FDT_MAX) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "vmm: device tree: %s\n", strerror(-r));
		return r;
	}
	return 0;
}

/*
 * The frame database over guest RAM, boot data and kernel image reserved;
 * in the native model every other frame is the guest's from the start.
 */
static int vm_init_frame_db(struct vm *vm)
{
	struct frame_db_config fc = {.kernel_end = vm->kernel_end,
				     .movable_bytes = vm->cfg.movable_bytes};
	int err = frame_db_create(&vm->frame_db, &vm->mem, &fc);

	if (err) {
		fprintf(stderr,
			"vmm: frame database over guest RAM: %s (is RAM "
			"larger than the kernel image?)\n",
			strerror(-err));
		return err;
	}
	if (vm->cfg.memory_model == VM_MEMORY_NATIVE) {
		err = frame_db_give_all(vm->frame_db);
		if (err) {
			fprintf(stderr, "vmm: native model: not every frame "
					"could be given to the guest\n");
			frame_db_destroy(vm->frame_db);
			vm->frame_db = NULL;
		}
	}
	return err;
}

static void vm_exit_frame_db(struct vm *vm)
{
	frame_db_destroy(vm->frame_db);
	vm->frame_db = NULL;
}

static void vm_free_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < BVM_MAX_VCPUS; i++) {
		vcpu_destroy(vm->vcpus[i]);
		vm->vcpus[i] = NULL;
	}
}

static int vm_init_vcpus(struct vm *vm)
{
	int r = 0;

	for (unsigned i = 0; r == 0 && i < vm->cfg.nr_vcpus; i++) {
		vm->vcpus[i] = vcpu_create(vm, i);
		if (!vm->vcpus[i])
			r = -EIO;
	}
	if (r == 0)
		r = vcpu_signals_init();
	if (r < 0)
		vm_free_vcpus(vm);
	return r;
}

static const struct vm_initcall vm_core_initcalls[] = {
	{"memory", VM_LEVEL_MEMORY, vm_init_memory, vm_exit_memory, NULL},
	{"loader", VM_LEVEL_LOADER, vm_init_loader, NULL, NULL},
	{"kvm", VM_LEVEL_KVM, vm_init_kvm, vm_exit_kvm, NULL},
	{"frame-db", VM_LEVEL_MM, vm_init_frame_db, vm_exit_frame_db, NULL},
	{"compaction", VM_LEVEL_MM, vm_compaction_init, vm_compaction_exit,
	 &vm_compaction_stats},
	{"debug-ports", VM_LEVEL_DEVICE, debug_ports_init, NULL, NULL},
	{"boot", VM_LEVEL_BOOT, vm_init_boot, NULL, NULL},
	{"vcpus", VM_LEVEL_VCPU, vm_init_vcpus, vm_free_vcpus, NULL},
	{NULL, 0, NULL, NULL, NULL},
};

/* The rule (vm.h): a step is recorded only once its init has succeeded. */
static int vm_run_initcall(struct vm *vm, const struct vm_initcall *call)
{
	int r;

	if (vm->nr_done == sizeof(vm->done) / sizeof(vm->done[0])) {
		fprintf(stderr, "vmm: too many initcalls\n");
		return -ENOSPC;
	}
	r = call->init(vm);
	if (r < 0) {
		fprintf(stderr, "vmm: init of '%s' failed\n", call->name);
		return r;
	}
	vm->done[vm->nr_done++] = call;
	return 0;
}

static int vm_run_level(struct vm *vm, const struct vm_initcall *table,
			enum vm_init_level level)
{
	for (const struct vm_initcall *c = table; c->name; c++) {
		if (c->level != level)
			continue;
		int r = vm_run_initcall(vm, c);

		if (r < 0)
			return r;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	/* Core steps first within each level, then the devices'. */
	static const struct vm_initcall *const tables[] = {
		vm_core_initcalls,
		vm_device_initcalls,
	};

	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->mem.fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->console_lock, NULL);
	{
		pthread_condattr_t attr;

		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->finished_cond, &attr);
		pthread_cond_init(&vm->pause_cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	return vm_run_initcalls(vm, tables, 2);
}

int vm_run_initcalls(struct vm *vm, const struct vm_initcall *const tables[],
		     unsigned nr_tables)
{
	int r = 0;

	for (int level = 0; r == 0 && level < VM_NR_LEVELS; level++)
		for (unsigned t = 0; r == 0 && t < nr_tables; t++)
			r = vm_run_level(vm, tables[t], level);
	if (r < 0)
		vm_destroy(vm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	while (vm->nr_done) {
		const struct vm_initcall *c = vm->done[--vm->nr_done];

		if (c->exit)
			c->exit(vm);
	}
}

bool vm_finish(struct vm *vm, int status)
{
	bool decided = false;

	pthread_mutex_lock(&vm->lock);
	if (!vm->finished) {
		vm->finished = true;
		vm->exit_status = status;
		decided = true;
		pthread_cond_broadcast(&vm->finished_cond);
		pthread_cond_broadcast(
			&vm->pause_cond); /* parked vCPUs leave */
	}
	pthread_mutex_unlock(&vm->lock);
	return decided;
}

bool vm_is_finished(struct vm *vm)
{
	bool finished;

	pthread_mutex_lock(&vm->lock);
	finished = vm->finished;
	pthread_mutex_unlock(&vm->lock);
	return finished;
}

static uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vm_uptime_ms(struct vm *vm)
{
	uint64_t start = __atomic_load_n(&vm->start_ns, __ATOMIC_RELAXED);

	return start ? (vm_now_ns() - start) / 1000000 : 0;
}

bool vm_is_paused(struct vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->lock);
	paused = vm->pause_requested;
	pthread_mutex_unlock(&vm->lock);
	return paused;
}

int vm_pause(struct vm *vm, bool *was_paused)
{
	unsigned started;

	pthread_mutex_lock(&vm->lock);
	*was_paused = vm->pause_requested;
	if (vm->finished) {
		pthread_mutex_unlock(&vm->lock);
		return -ESHUTDOWN;
	}
	vm->pause_requested = true;
	started = vm->nr_started;
	pthread_mutex_unlock(&vm->lock);
	if (*was_paused)
		return 0;
	/* Set before the kicks: a vCPU that misses one parks on its own. */
	for (unsigned i = 0; i < started; i++)
		vcpu_kick(vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (vm->nr_paused < vm->nr_started && !vm->finished)
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	if (vm->pause_hook)
		vm->pause_hook(vm->pause_hook_opaque, true);
	return 0;
}

void vm_set_pause_hook(struct vm *vm, void (*fn)(void *opaque, bool paused),
		       void *opaque)
{
	vm->pause_hook = fn;
	vm->pause_hook_opaque = opaque;
}

int vm_resume(struct vm *vm, bool *was_paused)
{
	int err = 0;

	/* Before any vCPU runs: the hook may wait for work in progress. */
	if (vm->pause_hook)
		vm->pause_hook(vm->pause_hook_opaque, false);
	pthread_mutex_lock(&vm->lock);
	*was_paused = vm->pause_requested;
	if (vm->finished)
		err = -ESHUTDOWN;
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
	return err;
}

void vm_vcpu_pause_point(struct vm *vm, uint8_t *immediate_exit)
{
	bool parked = false;

	pthread_mutex_lock(&vm->lock);
	while (vm->pause_requested && !vm->finished) {
		if (!parked) {
			parked = true;
			vm->nr_paused++;
			pthread_cond_broadcast(&vm->pause_cond);
		}
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	}
	if (parked)
		vm->nr_paused--;
	/*
	 * A pause kick left immediate_exit set; clear it so KVM_RUN runs
	 * again. Not once finished: the stop kick must keep it set (vm_finish
	 * takes this lock before any stop kick, so the order is safe).
	 */
	if (!vm->finished)
		__atomic_store_n(immediate_exit, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->lock);
}

/* Wait for vm_finish(); return false if the timeout expired first. */
static bool vm_wait_finished(struct vm *vm)
{
	struct timespec deadline;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += vm->cfg.timeout_s;
	pthread_mutex_lock(&vm->lock);
	while (!vm->finished && r != ETIMEDOUT) {
		if (vm->cfg.timeout_s)
			r = pthread_cond_timedwait(&vm->finished_cond,
						   &vm->lock, &deadline);
		else
			pthread_cond_wait(&vm->finished_cond, &vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	return r != ETIMEDOUT;
}

int vm_run(struct vm *vm)
{
	unsigned started = 0;

	__atomic_store_n(&vm->start_ns, vm_now_ns(), __ATOMIC_RELAXED);
	for (; started < vm->cfg.nr_vcpus; started++) {
		int r;

		pthread_mutex_lock(&vm->lock);
		vm->nr_started = started + 1; /* before it can park */
		pthread_mutex_unlock(&vm->lock);
		r = vcpu_start(vm->vcpus[started]);

		if (r < 0) {
			fprintf(stderr, "vmm: cannot start vCPU %u: %s\n",
				started, strerror(-r));
			vm_finish(vm, BVM_EXIT_VMM_ERROR);
			break;
		}
	}
	/* Every thread exists now: from here to the exit, waiting, teardown. */
	vmm_seccomp_enter(VMM_THREAD_MAIN);
	bool timed_out =
		!vm_wait_finished(vm) && vm_finish(vm, BVM_EXIT_TIMEOUT);

	/* Kick all before joining any: a halted vCPU can take ms to wake. */
	for (unsigned i = 0; i < started; i++)
		vcpu_kick(vm->vcpus[i]);
	for (unsigned i = 0; i < started; i++)
		vcpu_join(vm->vcpus[i]);
	if (timed_out) {
		fprintf(stderr, "vmm: guest did not finish within %u s\n",
			vm->cfg.timeout_s);
		/* Where it was stuck: vCPU 0 drives every workload. */
		if (started)
			vcpu_dump(vm->vcpus[0]);
	}
	return vm->exit_status;
}

int vm_add_mmio_dev(struct vm *vm, uint64_t base, uint64_t size, unsigned irq,
		    uint32_t dma_device_id)
{
	if (vm->nr_mmio_devs == VM_MAX_MMIO_DEVS)
		return -ENOSPC;
	vm->mmio_devs[vm->nr_mmio_devs++] = (struct vm_mmio_dev){
		.base = base,
		.size = size,
		.irq = irq,
		.dma_device_id = dma_device_id,
	};
	return 0;
}

int vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level line = {.irq = irq, .level = level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return -errno;
	return 0;
}

void vm_console_write(struct vm *vm, const void *buf, size_t len)
{
	const char *p = buf;

	pthread_mutex_lock(&vm->console_lock);
	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&vm->console_lock);
}
