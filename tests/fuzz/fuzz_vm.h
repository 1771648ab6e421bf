/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vm.h - a VM without KVM for the device harnesses: guest
 * RAM between guard pages (fuzz_common.h), the page database, the pvmem
 * device in the hosted model (or every frame the guest's in the native
 * model), a "guest" that asks pvmem for frames, and a small virtio driver
 * that brings a virtio-mmio device up and posts chains, as the guest's
 * drivers do.
 *
 * Layout: RAM [0, low) and [4 GiB, 4 GiB + high); [0, 2 MiB) is reserved
 * (boot data and kernel image), so the guest holds it: the pvmem request
 * block is at FUZZ_VM_BLOCK_GPA and the harness's own buffers from
 * FUZZ_VM_SCRATCH_GPA.
 */
#ifndef TESTS_FUZZ_FUZZ_VM_H
#define TESTS_FUZZ_FUZZ_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pvmem.h"
#include "devices/virtio_mmio.h"
#include "tests/fuzz/fuzz_common.h"
#include "vmm/frame_db.h"

#define FUZZ_VM_KERNEL_END  (2ull << 20)
#define FUZZ_VM_BLOCK_GPA   0x100000ull
#define FUZZ_VM_ARRAY_GPA   0x101000ull /* pvmem ALLOC/FREE arrays, 8 KiB */
#define FUZZ_VM_SCRATCH_GPA 0x104000ull /* up to FUZZ_VM_KERNEL_END */

struct fuzz_vm {
	struct guest_mem mem;
	struct frame_db *fdb;
	struct pvmem *pv; /* NULL: native model */
	struct mm *mm;
	uint64_t ram_pages;
	/*
	 * The page database is built once per process; every byte of it (the
	 * mm instance lives wholly in its metadata) is saved as
	 * frame_db_create() left it ([0]) and after frame_db_give_all() ([1]),
	 * and copied back when an input starts.
	 */
	void *fresh[2];
	size_t meta_bytes;
	struct mm_stats fresh_stats[2];
};

/*
 * Map RAM and build the page database once per process
 * (LLVMFuzzerInitialize).
 */
void fuzz_vm_init(struct fuzz_vm *vm, uint64_t low_bytes, uint64_t high_bytes);

/*
 * A fresh VM on zeroed RAM: hosted (pvmem with @cfg, may be NULL) or
 * native (the guest holds every frame, as after frame_db_give_all()). The
 * state is the same whatever earlier inputs did: the database's bytes are
 * those of a new one (its counters checked against it), no RAM page is
 * resident (so every byte of RAM reads zero), and pvmem is new.
 */
void fuzz_vm_start(struct fuzz_vm *vm, bool hosted,
		   const struct pvmem_config *cfg);
void fuzz_vm_stop(struct fuzz_vm *vm);

/*
 * The page database back to new (@native: after frame_db_give_all()) and
 * RAM to zero, checked; fuzz_vm_start() without pvmem, for harnesses that
 * create pvmem themselves.
 */
void fuzz_vm_restore(struct fuzz_vm *vm, bool native);

/*
 * The guest's pvmem requests (hosted only), one per doorbell. alloc returns
 * the blocks granted (pfns into @pfns, at most 512); free and dma_free
 * return the request's status; dma_alloc the status and *@gpa.
 */
unsigned fuzz_vm_alloc(struct fuzz_vm *vm, uint32_t gfp, unsigned order,
		       unsigned count, uint64_t *pfns);
int fuzz_vm_free(struct fuzz_vm *vm, uint64_t pfn, unsigned order);
int fuzz_vm_dma_alloc(struct fuzz_vm *vm, uint32_t device_id, uint64_t size,
		      uint64_t *gpa);

/*
 * The invariants every device harness checks after each step: mm_check(),
 * frame states adding up, every discarded or ballooned frame reading as
 * zero and, in
 * the hosted model, tot_pages == GUEST + DMA frames and pages granted
 * minus freed == tot_pages + BALLOON frames (the balloon takes frames from
 * the guest without a FREE).
 */
void fuzz_vm_check(struct fuzz_vm *vm, const char *what);

/*
 * pvmem's registry for @device_id maps exactly the frames that are
 * FRAME_DMA of @device_id: each of those is in it, and it maps no more
 * frames than there are (a lookup per DMA frame, a walk of the frame
 * table). Hosted only (a no-op without pvmem).
 */
void fuzz_vm_check_dma(struct fuzz_vm *vm, uint32_t device_id);

/* The driver ---------------------------------------------------------- */

/* Per queue: descriptors at +0, avail ring at +4 KiB, used ring at +8 KiB. */
#define FUZZ_VDRV_QUEUE_BYTES 12288u

struct fuzz_vdrv {
	struct fuzz_vm *vm;
	struct virtio_mmio_dev *dev;
	uint64_t
		area; /* rings of queue q at area + q * FUZZ_VDRV_QUEUE_BYTES */
	uint16_t qsize;
	unsigned nr_queues;
	uint16_t avail[VIRTIO_MMIO_MAX_QUEUES]; /* our avail->idx */
	uint16_t next[VIRTIO_MMIO_MAX_QUEUES];	/* next free descriptor */
};

/* A buffer of a chain. */
struct fuzz_vbuf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* A virtio_mmio_irq_fn that counts raised lines into *(unsigned *)opaque. */
void fuzz_vm_irq(void *opaque, uint32_t irq, bool level);

/* A virtio_mmio_log_fn that drops the line (guests fail on purpose). */
void fuzz_vm_log(void *opaque, const char *line);

/* A 32-bit register access; the return value of virtio_mmio_access(). */
int fuzz_mmio_read(struct virtio_mmio_dev *dev, uint64_t off, uint32_t *val);
int fuzz_mmio_write(struct virtio_mmio_dev *dev, uint64_t off, uint32_t val);

/*
 * Reset the device, negotiate @features, set up @nr_queues queues of
 * @qsize (<= 256) with rings at @area (the caller maps it: a DMA block of
 * the device in the hosted model), DRIVER_OK. Return 0, or -EIO when the
 * device refused a step (status read back without the bit, a queue not
 * ready).
 */
int fuzz_vdrv_start(struct fuzz_vdrv *d, struct fuzz_vm *vm,
		    struct virtio_mmio_dev *dev, uint64_t area,
		    uint64_t features, unsigned nr_queues, uint16_t qsize);

/* Put a chain of @n buffers on queue @q (no kick). Return its head. */
uint16_t fuzz_vdrv_post(struct fuzz_vdrv *d, unsigned q,
			const struct fuzz_vbuf *bufs, unsigned n);
void fuzz_vdrv_kick(struct fuzz_vdrv *d, unsigned q);

/* The used ring of queue @q (guest view). */
struct virtq_used *fuzz_vdrv_used(struct fuzz_vdrv *d, unsigned q);
uint16_t fuzz_vdrv_used_idx(struct fuzz_vdrv *d, unsigned q);

#endif /* TESTS_FUZZ_FUZZ_VM_H */
