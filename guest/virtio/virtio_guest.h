/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/virtio_guest.h - the guest's virtio-mmio driver library:
 * probe virtio,mmio nodes of the device tree, negotiate features, set up
 * split rings in DMA memory (guest/include/dma.h, for the node's DMA device
 * id, below 4 GiB), add buffers, notify (with VIRTIO_RING_F_EVENT_IDX when
 * negotiated), and take interrupts at CPL 3.
 *
 * Not thread-safe by itself: each driver serialises its own queues.
 */
#ifndef GUEST_VIRTIO_GUEST_H
#define GUEST_VIRTIO_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/virtio.h"
#include "dma.h"

#define GV_MAX_QUEUES 8
/* 256 entries: each ring part still fits its own page. */
#define GV_MAX_QSIZE 256

/* A driver's split virtqueue. */
struct gv_queue {
	unsigned index;
	uint16_t size;
	uint16_t nr_free;
	uint16_t free_head;
	uint16_t avail_idx; /* our copy: the next avail->idx */
	uint16_t last_used;
	uint16_t kicked_idx; /* avail_idx at the last notification */
	bool event_idx;	     /* VIRTIO_RING_F_EVENT_IDX negotiated */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	void *tokens[GV_MAX_QSIZE];
	uint16_t chain_len[GV_MAX_QSIZE];
};

struct gv_dev {
	volatile uint32_t *regs;
	uint64_t base;
	uint32_t device_id;
	unsigned irq;
	struct dma_dev dma; /* its DMA id (FDT) and address width (32) */
	uint64_t features;
	struct gv_queue vqs[GV_MAX_QUEUES];
};

/* One buffer of a chain. */
struct gv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/**
 * gv_probe() - find the virtio,mmio node with DeviceID @device_id (magic and
 * version 2 checked), reset the device, set ACKNOWLEDGE | DRIVER, and offer
 * @wanted & the device's features (VERSION_1 always). FEATURES_OK must stick.
 * Return: 0 with @dev filled (dev->features negotiated), -ENOENT (no such
 * device), -ENODEV (bad magic/version), -EIO (features refused).
 */
int gv_probe(struct gv_dev *dev, uint32_t device_id, uint64_t wanted);

/*
 * gv_probe() of the @instance-th (from 0, in device-tree order) node with
 * DeviceID @device_id: a VM may have several disks.
 */
int gv_probe_instance(struct gv_dev *dev, uint32_t device_id, unsigned instance,
		      uint64_t wanted);

/*
 * Contiguous memory the device may reach, zeroed: dma_alloc_coherent() for
 * the device, below 4 GiB. NULL if none is left. Hosted, a reset (the next
 * gv_probe()) releases it; native, it stays the driver's.
 */
void *gv_dma_alloc(struct gv_dev *dev, size_t bytes);

/* Set up queue @index with up to @size entries (rounded down to QueueNumMax). */
int gv_setup_queue(struct gv_dev *dev, unsigned index, uint16_t size);

/*
 * Reset the device (Status 0). Hosted, that releases its DMA blocks on the
 * host, so the guest forgets them too (dma_forget_all()); native, they stay
 * the driver's to free or reuse.
 */
void gv_reset(struct gv_dev *dev);

/* DRIVER_OK, and route the device's pin (edge) to vCPU 0. */
void gv_driver_ok(struct gv_dev *dev);

/* Status register; NEEDS_RESET is bit 0x40. */
uint32_t gv_status(struct gv_dev *dev);

/* Read InterruptStatus and acknowledge what was read; returns the bits. */
uint32_t gv_ack_interrupt(struct gv_dev *dev);

/**
 * gv_add() - make a chain of @n buffers (readable ones first) available on
 * @q with @token. Does not notify. Return 0 or -ENOSPC (ring full).
 */
int gv_add(struct gv_queue *q, const struct gv_buf *bufs, unsigned n,
	   void *token);

/*
 * Notify the device of the buffers added to @q since the last kick: one VM
 * exit, unless the device said it does not need one (VIRTQ_USED_F_NO_NOTIFY,
 * or with EVENT_IDX an avail_event the new buffers did not pass). Return
 * true if it notified.
 */
bool gv_kick(struct gv_dev *dev, struct gv_queue *q);

/*
 * Used-buffer interrupts for @q: gv_enable_interrupts() asks for one when
 * @n more chains are used (n >= 1; without EVENT_IDX, on every chain), and
 * returns true if a used chain is already there (look again before
 * halting: the device may have finished before it saw the request).
 * gv_disable_interrupts() suppresses them (a hint: the device may still
 * send one already under way). No VM exit: both write the rings.
 */
bool gv_enable_interrupts(struct gv_queue *q, uint16_t n);
void gv_disable_interrupts(struct gv_queue *q);

/* Is a used chain waiting on @q (without taking it)? How many are? */
bool gv_has_used(const struct gv_queue *q);
uint16_t gv_nr_used(const struct gv_queue *q);

/* The next used chain's token (and *len written), or NULL if none. */
void *gv_get_used(struct gv_queue *q, uint32_t *len);

/* Config space, 32-bit little-endian fields. */
uint32_t gv_config_read32(struct gv_dev *dev, unsigned offset);
void gv_config_write32(struct gv_dev *dev, unsigned offset, uint32_t v);
uint32_t gv_config_generation(struct gv_dev *dev);

/* Guest physical address of an identity-mapped pointer. */
static inline uint64_t gv_gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif /* GUEST_VIRTIO_GUEST_H */
