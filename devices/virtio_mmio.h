/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_mmio.h - the virtio-mmio transport (version 2 registers,
 * virtio 1.x 4.2). A device (console, balloon, ...) fills a const ops table
 * and a parameter block; the transport owns the registers, the status and
 * feature handshake, the virtqueues and the interrupt status, and calls the
 * device back.
 *
 * Locking: every transport entry point takes the device's lock, and every
 * ops callback runs with it held. Functions named __virtio_mmio_* expect the
 * caller to hold the lock (an ops callback, or code between
 * virtio_mmio_lock() and virtio_mmio_unlock()); the others take it.
 */
#ifndef DEVICES_VIRTIO_MMIO_H
#define DEVICES_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/virtio.h"
#include "devices/virtq.h"

#define VIRTIO_MMIO_MAX_QUEUES 8

struct virtio_mmio_dev;

/* What a device implements. All callbacks run with the device lock held. */
struct virtio_mmio_ops {
	/* The driver kicked @queue (ready, DRIVER_OK, no NEEDS_RESET). */
	void (*notify)(struct virtio_mmio_dev *dev, unsigned queue);
	/* The driver reset the device (status 0); queues are already reset. */
	void (*reset)(struct virtio_mmio_dev *dev);
	/*
	 * Config space access; [offset, offset + len) is already checked to be
	 * inside config_size, len is 1, 2, 4 or 8. NULL config_read reads
	 * zeros; NULL config_write ignores writes.
	 */
	void (*config_read)(struct virtio_mmio_dev *dev, uint32_t offset,
			    void *data, unsigned len);
	void (*config_write)(struct virtio_mmio_dev *dev, uint32_t offset,
			     const void *data, unsigned len);
	/*
	 * The driver set FEATURES_OK with @features (already a subset of the
	 * device's, with VIRTIO_F_VERSION_1). Return 0 to accept or a negative
	 * errno to refuse (FEATURES_OK then stays clear). NULL accepts.
	 */
	int (*features_ok)(struct virtio_mmio_dev *dev, uint64_t features);
	/* The driver set DRIVER_OK: the device is live. May be NULL. */
	void (*driver_ok)(struct virtio_mmio_dev *dev);
};

/*
 * Drive the device's interrupt line: @level true when InterruptStatus has
 * bits set (called again for every new event, so an edge-triggered irqfd
 * sees each one), false when the driver has acknowledged them all.
 */
typedef void (*virtio_mmio_irq_fn)(void *opaque, uint32_t irq, bool level);

/* One line of diagnostics, no newline. */
typedef void (*virtio_mmio_log_fn)(void *opaque, const char *line);

struct virtio_mmio_params {
	const char *name;   /* for logs, e.g. "balloon" (must outlive dev) */
	uint32_t device_id; /* VIRTIO_ID_* */
	uint32_t vendor_id; /* 0: VIRTIO_VENDOR_BUDDYVM */
	uint64_t features;  /* offered; must include VIRTIO_F_VERSION_1 */
	unsigned nr_queues; /* 1 .. VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max[VIRTIO_MMIO_MAX_QUEUES]; /* power of two each */
	uint32_t config_size; /* bytes, <= VIRTIO_MMIO_CONFIG_MAX */
	const struct virtio_mmio_ops *ops;
	void *priv;    /* the device's state: virtio_mmio_priv() */
	uint64_t base; /* guest-physical MMIO base (for the FDT) */
	uint32_t irq;  /* interrupt line (for the FDT and irq_set) */
	/*
	 * Guest memory the device may touch (RAM bounds, DMA mappings); a
	 * VM's devices get it from devices/virtio_vm.h. translate_reset (may
	 * be NULL) runs at every device reset, after ops->reset: what the
	 * driver had mapped for the device is gone.
	 */
	virtq_translate_fn translate;
	void (*translate_reset)(void *translate_opaque);
	void *translate_opaque;
	virtio_mmio_irq_fn irq_set;
	void *irq_opaque;
	virtio_mmio_log_fn log; /* NULL: stderr */
	void *log_opaque;
};

/* What the FDT builder needs to describe the device (virtio,mmio node). */
struct virtio_mmio_info {
	const char *name;
	uint64_t base;
	uint64_t size; /* VIRTIO_MMIO_SIZE */
	uint32_t irq;
	uint32_t device_id;
};

/**
 * virtio_mmio_create() - make a device instance in its reset state.
 * @params: copied; params->name and params->ops must outlive the device.
 * @out: receives the device; free it with virtio_mmio_destroy().
 *
 * Return: 0, -EINVAL (bad parameters: no VERSION_1, queue counts or sizes,
 * config size, missing ops/translate/irq_set) or -ENOMEM.
 */
int virtio_mmio_create(const struct virtio_mmio_params *params,
		       struct virtio_mmio_dev **out);

/* virtio_mmio_destroy() - free @dev (NULL is fine). Not the device's priv. */
void virtio_mmio_destroy(struct virtio_mmio_dev *dev);

/**
 * virtio_mmio_access() - the bus handler for the register window (a
 * bus_handler_fn): bus_register(bus, BUS_MMIO, base, VIRTIO_MMIO_SIZE,
 * virtio_mmio_access, dev).
 *
 * Registers take aligned 32-bit accesses only; config space takes 1, 2, 4 or
 * 8 bytes inside config_size. Anything else reads as zero, is not written,
 * and returns -EINVAL (the VMM logs it and carries on); so do reads of
 * write-only and writes of read-only registers.
 */
int virtio_mmio_access(void *opaque, uint64_t offset, void *data, unsigned len,
		       bool is_write);

/**
 * virtio_mmio_kick() - deliver a queue notification as a QueueNotify write
 * would (for an ioeventfd thread). Ignored unless the queue is ready, the
 * driver is OK and the device does not need a reset.
 */
void virtio_mmio_kick(struct virtio_mmio_dev *dev, unsigned queue);

void virtio_mmio_get_info(const struct virtio_mmio_dev *dev,
			  struct virtio_mmio_info *info);

void *virtio_mmio_priv(const struct virtio_mmio_dev *dev);

void virtio_mmio_lock(struct virtio_mmio_dev *dev);
void virtio_mmio_unlock(struct virtio_mmio_dev *dev);

/* The device status register (a snapshot). */
uint32_t virtio_mmio_status(struct virtio_mmio_dev *dev);

/* Protocol errors that set DEVICE_NEEDS_RESET since creation (locks). */
uint64_t virtio_mmio_failures(struct virtio_mmio_dev *dev);
uint64_t __virtio_mmio_failures(const struct virtio_mmio_dev *dev);

/* The last device error ("" when none); valid until the next one. */
const char *__virtio_mmio_last_error(const struct virtio_mmio_dev *dev);

/* Negotiated features (0 before FEATURES_OK). */
uint64_t __virtio_mmio_features(const struct virtio_mmio_dev *dev);

/* Queue @queue (NULL when out of range); pop/push it with the lock held. */
struct virtq *__virtio_mmio_queue(struct virtio_mmio_dev *dev, unsigned queue);

/* Set @bits (VIRTIO_MMIO_INT_*) in InterruptStatus and raise the line. */
void __virtio_mmio_interrupt(struct virtio_mmio_dev *dev, uint32_t bits);
void virtio_mmio_interrupt(struct virtio_mmio_dev *dev, uint32_t bits);

/**
 * __virtio_mmio_config_changed() - the device changed its config space:
 * bump ConfigGeneration and, once the driver is OK, send a config interrupt.
 */
void __virtio_mmio_config_changed(struct virtio_mmio_dev *dev);
void virtio_mmio_config_changed(struct virtio_mmio_dev *dev);

/**
 * __virtio_mmio_fail() - the guest broke the protocol (a bad chain, a bad
 * request): log @reason, set DEVICE_NEEDS_RESET and, if DRIVER_OK is set,
 * send a config-change interrupt (virtio 1.x 2.1.2). Until the driver resets
 * the device, notifications are ignored.
 */
void __virtio_mmio_fail(struct virtio_mmio_dev *dev, int err,
			const char *reason);

/**
 * __virtio_mmio_process_queue() - virtq_process() on @queue, then at most one
 * used-buffer interrupt for the whole batch; a bad chain or a handler error
 * fails the device (__virtio_mmio_fail).
 * @chain: scratch chain with segs/max_segs set.
 *
 * Return: chains processed, or the negative errno that failed the device
 * (-ENOENT if the queue is not ready).
 */
int __virtio_mmio_process_queue(struct virtio_mmio_dev *dev, unsigned queue,
				struct virtq_chain *chain,
				virtq_handle_fn handle, void *opaque);

#endif /* DEVICES_VIRTIO_MMIO_H */
