// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_pvmem.c - host-side cost of the paravirtual memory
 * device per page: ALLOC and FREE batches of 1, 16 and 256 order-0 blocks
 * through request blocks, no KVM (the VM exit itself is measured in the
 * guest). Goal: <= 100 ns per page amortised. Then the same pages through
 * a page ring (ABI 1.3): the guest's take and put played in-process, the
 * host's kick (drain the returns, refill the supply) on the same thread,
 * beside the doorbell batch of 256 of the same run.
 *
 * Usage: bench_pvmem [iterations-scale]   (default 1)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "abi/pvmem_ring.h"
#include "vmm/frame_db.h"
#include "devices/pvmem.h"

#define LOW_SIZE   (256ull << 20)
#define HIGH_GPA   (4ull << 30)
#define HIGH_SIZE  (256ull << 20)
#define KERNEL_END (2ull << 20)
#define BLOCK_GPA  0x100000ull
#define PFNS_GPA   0x101000ull
#define FREE_GPA   0x103000ull
#define GPAS_GPA   0x1f0000ull

struct bench_vm {
	struct guest_mem mem;
	struct frame_db *fdb;
	struct pvmem *p;
};

static void *map_ram(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int bench_vm_create(struct bench_vm *vm, unsigned report_order)
{
	struct pvmem_config pc = {.report_order = report_order};
	struct frame_db_config hc = {.kernel_end = KERNEL_END};
	int err;

	vm->mem = (struct guest_mem){
		.fd = -1, .size = LOW_SIZE + HIGH_SIZE, .nr_regions = 2};
	vm->mem.regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = LOW_SIZE, .hva = map_ram(LOW_SIZE)};
	vm->mem.regions[1] =
		(struct guest_mem_region){.gpa = HIGH_GPA,
					  .size = HIGH_SIZE,
					  .hva = map_ram(HIGH_SIZE),
					  .fd_offset = LOW_SIZE};
	if (!vm->mem.regions[0].hva || !vm->mem.regions[1].hva)
		return -1;
	err = frame_db_create(&vm->fdb, &vm->mem, &hc);
	if (err)
		return err;
	return pvmem_create(&vm->p, vm->fdb, &pc);
}

static void *gptr(struct bench_vm *vm, uint64_t gpa)
{
	return guest_mem_ptr(&vm->mem, gpa, 1);
}

static struct pvmem_req *one_req(struct bench_vm *vm, unsigned op)
{
	struct pvmem_block *b = gptr(vm, BLOCK_GPA);

	b->hdr = (struct pvmem_block_hdr){.magic = PVMEM_MAGIC,
					  .abi_major = PVMEM_ABI_MAJOR,
					  .nr_reqs = 1};
	b->reqs[0] = (struct pvmem_req){.op = (uint16_t)op};
	return &b->reqs[0];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One ALLOC doorbell of @batch pages; the pfns go to the FREE array. */
static int alloc_batch(struct bench_vm *vm, unsigned batch)
{
	struct pvmem_req *r = one_req(vm, PVMEM_OP_ALLOC);
	struct pvmem_free_ent *e = gptr(vm, FREE_GPA);
	const uint64_t *pfns = gptr(vm, PFNS_GPA);

	r->gfp = GFP_KERNEL;
	r->count = batch;
	r->addr = PFNS_GPA;
	if (pvmem_doorbell(vm->p, BLOCK_GPA) || r->status)
		return -1;
	/* The guest's bookkeeping, outside the timed host part. */
	for (unsigned i = 0; i < batch; i++)
		e[i] = (struct pvmem_free_ent){.pfn = pfns[i]};
	return 0;
}

static int free_batch(struct bench_vm *vm, unsigned batch)
{
	struct pvmem_req *r = one_req(vm, PVMEM_OP_FREE);

	r->count = batch;
	r->addr = FREE_GPA;
	return pvmem_doorbell(vm->p, BLOCK_GPA) || r->status ? -1 : 0;
}

static int bench_batch(struct bench_vm *vm, unsigned batch, unsigned pages,
		       bool print)
{
	uint64_t t_alloc = 0, t_free = 0, t0;
	unsigned rounds = pages / batch;

	for (unsigned i = 0; i < rounds; i++) {
		t0 = now_ns();
		if (alloc_batch(vm, batch))
			return -1;
		t_alloc += now_ns() - t0;
		t0 = now_ns();
		if (free_batch(vm, batch))
			return -1;
		t_free += now_ns() - t0;
	}
	if (!print)
		return 0;
	printf("%-6u %10u %12.1f %12.1f %12.1f\n", batch, rounds * batch,
	       (double)t_alloc / (rounds * batch),
	       (double)t_free / (rounds * batch),
	       (double)(t_alloc + t_free) / (rounds * batch));
	return 0;
}

static void bench_vm_destroy(struct bench_vm *vm)
{
	pvmem_destroy(vm->p);
	frame_db_destroy(vm->fdb);
	for (unsigned i = 0; i < vm->mem.nr_regions; i++)
		if (vm->mem.regions[i].hva)
			munmap(vm->mem.regions[i].hva, vm->mem.regions[i].size);
}

/* One table for a VM whose device reports free blocks >= @report_order. */
static int bench_table(unsigned report_order, unsigned scale)
{
	static const unsigned batches[] = {1, 16, 256};
	struct bench_vm vm;
	int err = 0;

	if (bench_vm_create(&vm, report_order)) {
		fprintf(stderr, "bench_pvmem: cannot build the VM\n");
		return -1;
	}
	/* Warm up: touch the metadata and fill the per-CPU lists. */
	err = bench_batch(&vm, 256, 256 * 64, false);
	if (report_order < NR_PAGE_ORDERS)
		printf("post-batch release of free blocks >= order %u\n",
		       report_order);
	else
		printf("no post-batch release (report_order off)\n");
	printf("%-6s %10s %12s %12s %12s\n", "batch", "pages", "alloc", "free",
	       "alloc+free");
	for (unsigned i = 0; !err && i < sizeof(batches) / sizeof(batches[0]);
	     i++)
		err = bench_batch(&vm, batches[i], scale << 18, true);
	if (err)
		fprintf(stderr, "bench_pvmem: a request failed\n");
	bench_vm_destroy(&vm);
	return err;
}

static int ring_kick(struct bench_vm *vm)
{
	uint32_t v = 0;

	return pvmem_pio_handler(vm->p, PVMEM_KICK_OFFSET, &v, 4, true);
}

/* Waves of @wave pages taken from ring 0 and put back; kicks counted. */
static int bench_ring_wave(struct bench_vm *vm, struct pvmem_ring *r,
			   unsigned wave, unsigned pages, uint64_t *pfns)
{
	unsigned rounds = pages / wave, kicks = 0;
	uint64_t t0 = now_ns(), t;

	for (unsigned k = 0; k < rounds; k++) {
		for (unsigned i = 0; i < wave; i++) {
			while (!(pfns[i] = pvmem_ring_take(r))) {
				if (ring_kick(vm))
					return -1;
				kicks++;
			}
		}
		for (unsigned i = 0; i < wave; i++) {
			while (!pvmem_ring_put(r, pfns[i])) {
				if (ring_kick(vm))
					return -1;
				kicks++;
			}
		}
	}
	t = now_ns() - t0;
	printf("ring   %10u %12s %12s %12.1f  wave %u, %.2f kicks/1000 pages\n",
	       rounds * wave, "-", "-", (double)t / (rounds * wave), wave,
	       1000.0 * kicks / (rounds * wave));
	return r->err_count ? -1 : 0;
}

static int bench_rings(unsigned scale)
{
	static uint64_t pfns[4096];
	struct bench_vm vm;
	struct pvmem_req *req;
	struct pvmem_ring *r;
	int err;

	if (bench_vm_create(&vm, PVMEM_DEFAULT_REPORT_ORDER)) {
		fprintf(stderr, "bench_pvmem: cannot build the VM\n");
		return -1;
	}
	req = one_req(&vm, PVMEM_OP_RING_SETUP);
	req->count = 1;
	req->addr = GPAS_GPA;
	if (pvmem_doorbell(vm.p, BLOCK_GPA) || req->status) {
		fprintf(stderr, "bench_pvmem: RING_SETUP failed\n");
		bench_vm_destroy(&vm);
		return -1;
	}
	r = gptr(&vm, *(uint64_t *)gptr(&vm, GPAS_GPA));
	printf("page ring: the guest's take + put and the host's kicks, one "
	       "thread (ns/page)\n");
	err = bench_ring_wave(&vm, r, 4096, 4096 * 16, pfns) ||
	      bench_batch(&vm, 256, scale << 18, true) ||
	      bench_ring_wave(&vm, r, 256, scale << 18, pfns) ||
	      bench_ring_wave(&vm, r, 4096, scale << 18, pfns);
	if (err)
		fprintf(stderr, "bench_pvmem: the ring failed\n");
	bench_vm_destroy(&vm);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1;

	if (scale == 0)
		scale = 1;
	printf("pvmem host-side cost per page (order 0, ns), no VM exit; "
	       "RAM 512 MiB\n");
	if (bench_table(PVMEM_DEFAULT_REPORT_ORDER, scale))
		return 1;
	printf("\n");
	if (bench_table(NR_PAGE_ORDERS, scale))
		return 1;
	printf("\n");
	return bench_rings(scale) ? 1 : 0;
}
