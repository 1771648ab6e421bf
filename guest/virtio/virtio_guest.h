/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/virtio_guest.h - the guest's virtio driver library: find a
 * device on one of two transports (virtio-mmio nodes of the device tree,
 * guest/virtio/virtio_mmio.c; modern virtio-pci, guest/virtio/virtio_pci.c),
 * negotiate features, set up split rings in DMA memory (guest/include/dma.h,
 * for the device's DMA id, below 4 GiB), add buffers, notify (with
 * VIRTIO_RING_F_EVENT_IDX when negotiated), and take interrupts at CPL 3.
 * The drivers (console, balloon, blk) see only this API; the transport is a
 * const ops table behind struct gv_dev.
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

/* ENODEV (Linux's value), which mm/errno.h does not name. */
#define GV_ENODEV     19

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
	uint16_t kicked_idx;	   /* avail_idx at the last notification */
	bool event_idx;		   /* VIRTIO_RING_F_EVENT_IDX negotiated */
	volatile uint16_t *notify; /* virtio-pci: this queue's notify address */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	void *tokens[GV_MAX_QSIZE];
	uint16_t chain_len[GV_MAX_QSIZE];
};

struct gv_dev;

/*
 * What differs between transports: register access. Every call but
 * queue_setup and probe-time ones is at most one or two MMIO exits, as
 * the mmio library always did; the rings never go through here.
 */
struct gv_transport {
	const char *name;
	void (*reset)(struct gv_dev *dev);
	uint32_t (*get_status)(struct gv_dev *dev);
	void (*set_status)(struct gv_dev *dev, uint32_t status);
	uint64_t (*get_features)(struct gv_dev *dev);
	void (*set_features)(struct gv_dev *dev, uint64_t features);
	/* Largest size of queue @index, 0 if there is no such queue. */
	uint32_t (*queue_max)(struct gv_dev *dev, unsigned index);
	/* Give the device the queue's size and rings and enable it. */
	int (*queue_setup)(struct gv_dev *dev, struct gv_queue *q);
	void (*notify)(struct gv_dev *dev, struct gv_queue *q);
	/* Route the device's interrupt to vCPU 0 (before DRIVER_OK). */
	void (*route_irq)(struct gv_dev *dev);
	/* VIRTIO_MMIO_INT_* bits of an interrupt, acknowledged. */
	uint32_t (*ack_interrupt)(struct gv_dev *dev);
	uint32_t (*config_read32)(struct gv_dev *dev, unsigned offset);
	void (*config_write32)(struct gv_dev *dev, unsigned offset, uint32_t v);
	uint32_t (*config_generation)(struct gv_dev *dev);
};

/* virtio-pci: where the capabilities put the structures (identity-mapped). */
struct gv_pci {
	volatile uint8_t *common; /* struct virtio_pci_common_cfg */
	volatile uint8_t *notify; /* + queue_notify_off * notify_mult */
	volatile uint8_t *isr;
	volatile uint8_t *device; /* device-specific config */
	uint32_t notify_mult;
	uint32_t notify_len;
	uint32_t device_len;
	bool msix; /* MSI-X vector 0 for config and queues, else INTx */
};

struct gv_dev {
	const struct gv_transport *ops;
	volatile uint32_t *regs; /* virtio-mmio registers */
	uint64_t base; /* mmio window, or ECAM address of the function */
	uint32_t device_id;
	/* Bit of guest_take_device_irqs() (vector GUEST_VEC_DEVICE + irq). */
	unsigned irq;
	struct dma_dev dma; /* its DMA id (FDT) and address width (32) */
	uint64_t features;
	struct gv_pci pci;
	struct gv_queue vqs[GV_MAX_QUEUES];
};

/* One buffer of a chain. */
struct gv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/**
 * gv_probe() - find the device with DeviceID @device_id (virtio-mmio nodes
 * first, magic and version 2 checked; then modern virtio-pci functions),
 * reset it, set ACKNOWLEDGE | DRIVER, and offer @wanted & the device's
 * features (VERSION_1 always). FEATURES_OK must stick.
 * Return: 0 with @dev filled (dev->features negotiated), -ENOENT (no such
 * device), -ENODEV (bad magic/version, no VERSION_1, bad capabilities),
 * -EIO (features refused).
 */
int gv_probe(struct gv_dev *dev, uint32_t device_id, uint64_t wanted);

/*
 * gv_probe() of the @instance-th (from 0: device-tree order, then PCI bus
 * order) device with DeviceID @device_id: a VM may have several disks.
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

/* Route the device's interrupt (edge) to vCPU 0, then DRIVER_OK. */
void gv_driver_ok(struct gv_dev *dev);

/* Status register; NEEDS_RESET is bit 0x40. */
uint32_t gv_status(struct gv_dev *dev);

/*
 * What the interrupt that set the device's bit was for, as
 * VIRTIO_MMIO_INT_* bits: virtio-mmio reads InterruptStatus and
 * acknowledges it; virtio-pci with INTx reads (and so clears) ISR; with
 * MSI-X, where the spec says not to read ISR, both bits without an exit.
 */
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

/* Transports (virtio_mmio.c, virtio_pci.c): find the @instance-th device of
 * @device_id, fill dev->ops, regs/pci, irq and dma; -ENOENT if none. On
 * -ENOENT *instance is decremented by the matches seen, so the next
 * transport continues the count. */
int gv_mmio_find(struct gv_dev *dev, uint32_t device_id, unsigned *instance);
int gv_pci_find(struct gv_dev *dev, uint32_t device_id, unsigned *instance);
extern const struct gv_transport gv_mmio_transport;
extern const struct gv_transport gv_pci_transport;

#endif /* GUEST_VIRTIO_GUEST_H */
