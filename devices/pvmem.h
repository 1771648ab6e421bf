/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem.h - the paravirtual memory device (hosted memory model): runs
 * the guest's batched ALLOC / FREE / DMA_ALLOC / DMA_FREE / INFO / STATS
 * requests (abi/pvmem.h) against the VM's host buddy allocator,
 * enforces the page limit, keeps the registry of DMA mappings that device
 * emulation checks descriptors against, and counts everything.
 *
 * Wiring (VMM): after frame_db_create() and pvmem_create(),
 *   bus_register(bus, BUS_MMIO, PVMEM_MMIO_BASE, PVMEM_MMIO_SIZE,
 *                pvmem_pio_handler, pvmem);
 *   bus_register(bus, BUS_PIO, PVMEM_PORT, PVMEM_PORT_SIZE,
 *                pvmem_pio_handler, pvmem);
 * Every function is thread-safe: vCPUs ring the doorbell concurrently.
 */
#ifndef DEVICES_PVMEM_H
#define DEVICES_PVMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/frame_db.h"
#include "abi/pvmem.h"
#include "devices/pvmem_migrate.h"
#include "devices/pvmem_ring.h"

struct pvmem_config {
	/* Page limit (max_pages); 0: every frame of RAM. */
	uint64_t max_pages;
	/*
	 * After a doorbell batch that freed frames, release the host backing
	 * of free blocks of at least this order (mm_report_free()).
	 * 0: PVMEM_DEFAULT_REPORT_ORDER; >= PVMEM_NR_ORDERS: never.
	 */
	unsigned report_order;
	/* Cooperative migration (ABI 1.1): timeout, clock, wake-up. */
	struct pvmem_migrate_config mig;
	/* Page rings (ABI 1.3): the refill thread, the decay clock. */
	struct pvmem_rings_config rings;
};

#define PVMEM_DEFAULT_REPORT_ORDER 9
#define PVMEM_MAX_DMA_MAPPINGS	   4096

/* Per-op counters, indexed by enum pvmem_op (index 0: unknown ops). */
struct pvmem_op_counters {
	uint64_t ok, err;
};

struct pvmem_host_stats {
	uint64_t doorbells;
	uint64_t bad_blocks; /* doorbells refused before any request ran */
	struct pvmem_op_counters ops[PVMEM_OP_MAX + 1];
	uint64_t pages_granted, pages_freed; /* ALLOC/FREE and DMA */
	uint64_t blocks_split;		     /* SPLIT (ABI 1.4) */
	uint64_t edquot; /* requests cut by the page limit */
	uint64_t max_pages, tot_pages;
	uint64_t dma_mappings, dma_pages;
	uint64_t reported;   /* frames discarded by post-batch reports */
	uint64_t free_waits; /* FREE entries that found their block isolated
			      * for migration (waited for its request) */
};

struct pvmem;

/**
 * pvmem_create() - the device for the VM whose allocator is @fdb.
 * @fdb: must outlive the device. @cfg may be NULL (defaults).
 * Return: 0 and *@out (free with pvmem_destroy()) or -ENOMEM.
 */
int pvmem_create(struct pvmem **out, struct frame_db *fdb,
		 const struct pvmem_config *cfg);

/*
 * Free the device. DMA blocks still mapped stay FRAME_DMA in the allocator
 * (the VM is going away with it). NULL is a no-op.
 */
void pvmem_destroy(struct pvmem *p);

/**
 * pvmem_doorbell() - run the request block at guest-physical @block_gpa.
 * Results are written into the block (header status, each request's status,
 * done and result). Called on the vCPU thread that rang.
 * Return: 0 if the block was run (requests may still have failed: see their
 * status), or the header-level error (-EFAULT when the block is not in RAM
 * the guest holds, so no status could be written; -EPROTO, -E2BIG, -EINVAL
 * otherwise, also written to the header).
 */
int pvmem_doorbell(struct pvmem *p, uint64_t block_gpa);

/**
 * pvmem_pio_handler() - bus_handler_fn (vmm/bus.h) for both doorbells,
 * [PVMEM_PORT, +4) and [PVMEM_MMIO_BASE, +PVMEM_MMIO_SIZE), @opaque being
 * the struct pvmem. A 4-byte write at offset 0 carries the PFN of the block
 * and runs it; a 4-byte read there returns PVMEM_MAGIC. Other sizes and
 * offsets get -EINVAL (reads of them return zeros).
 */
int pvmem_pio_handler(void *opaque, uint64_t offset, void *data, unsigned len,
		      bool is_write);

/**
 * pvmem_dma_contains() - whether guest-physical [@gpa, @gpa + @len) lies
 * entirely inside DMA blocks the guest allocated for @device_id (adjacent
 * blocks of the same device count as one). For virtqueue translation: a
 * device touches only memory the guest mapped for it. False for len 0 or a
 * wrapping range. O(log n).
 */
bool pvmem_dma_contains(struct pvmem *p, uint32_t device_id, uint64_t gpa,
			uint64_t len);

/**
 * pvmem_dma_device_pages() - the frames the registry maps for @device_id
 * (with pvmem_dma_contains() on each of the device's FRAME_DMA frames, the
 * fuzz harnesses' proof that the registry holds exactly those). O(n).
 */
uint64_t pvmem_dma_device_pages(struct pvmem *p, uint32_t device_id);

/**
 * pvmem_dma_release_device() - free every DMA block of @device_id (device
 * reset: the guest will map new rings). Return: blocks freed.
 */
unsigned pvmem_dma_release_device(struct pvmem *p, uint32_t device_id);

/*
 * Page limit. Lowering it below tot_pages takes nothing away: allocations
 * fail with -EDQUOT until the guest has freed enough (Xen's semantics).
 */
void pvmem_set_max_pages(struct pvmem *p, uint64_t max_pages);
uint64_t pvmem_max_pages(struct pvmem *p);
uint64_t pvmem_tot_pages(struct pvmem *p);

/*
 * For the balloon: frames that leave FRAME_GUEST for FRAME_BALLOON (negative
 * @delta) or come back (positive) stop or start counting towards tot_pages.
 */
void pvmem_adjust_tot_pages(struct pvmem *p, int64_t delta);

void pvmem_get_stats(struct pvmem *p, struct pvmem_host_stats *out);

/* The device's migration state (devices/pvmem_migrate.h). */
struct pvmem_migrate *pvmem_migration(struct pvmem *p);

/* The device's page rings (devices/pvmem_ring.h). */
struct pvmem_rings *pvmem_rings(struct pvmem *p);

/*
 * For the page rings. pvmem_charge(): charge up to @count frames to
 * tot_pages without passing max_pages, return how many were charged.
 * pvmem_charge_frames(): all @nr or none. pvmem_free_frames(): free @n
 * order-0 frames with FREE's checks, each on its own (status[i]: 0 or the
 * error FREE would give), then release backing once; return how many
 * were freed.
 */
unsigned pvmem_charge(struct pvmem *p, unsigned count);
bool pvmem_charge_frames(struct pvmem *p, uint64_t nr);
unsigned pvmem_free_frames(struct pvmem *p, const uint64_t *pfns, unsigned n,
			   int *status);
/*
 * Keep every free of a GUEST frame (FREE, DMA_FREE, pvmem_free_frames())
 * out until pvmem_unblock_frees(): the rings recycle returned frames
 * without a free. Not nested with the device's other locks.
 */
void pvmem_block_frees(struct pvmem *p);
void pvmem_unblock_frees(struct pvmem *p);

/*
 * The host view as text: frame states, page limit, DMA mappings and per-op
 * counters, one "key value" line each. Returns the full length, as
 * snprintf() does.
 */
int pvmem_format_stats(struct pvmem *p, char *buf, size_t size);

/* "alloc", "free", ...; "unknown" for anything else. */
const char *pvmem_op_name(unsigned op);

#endif /* DEVICES_PVMEM_H */
