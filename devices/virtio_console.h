/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_console.h - virtio-console (virtio 1.x 5.3), port 0 only:
 * what the guest puts on the transmit queue goes to the VMM's stdout, every
 * chain available at a notification in one write. The receive queue exists
 * (the spec requires it) but no input is delivered: its buffers stay with
 * the device. The MMIO debug channel remains for early boot and panics.
 */
#ifndef DEVICES_VIRTIO_CONSOLE_H
#define DEVICES_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio_mmio.h"
#include "devices/virtio_vm.h"

struct vm;
struct vm_stats_ops;

/* Where output goes: @len bytes, called with the device lock held. */
typedef void (*virtio_console_out_fn)(void *opaque, const void *buf,
				      size_t len);

struct virtio_console_params {
	struct virtio_vm_link link; /* memory, window, pin (virtio_vm.h) */
	virtio_console_out_fn out;
	void *out_opaque;
};

struct virtio_console;

/**
 * virtio_console_create() - a console device in its reset state.
 * @p: copied; link.mem (and link.pvmem) must outlive the device.
 * Return: 0 and *@out (free with virtio_console_destroy()), -EINVAL or
 * -ENOMEM.
 */
int virtio_console_create(const struct virtio_console_params *p,
			  struct virtio_console **out);
void virtio_console_destroy(struct virtio_console *c);
struct virtio_mmio_dev *virtio_console_mmio(struct virtio_console *c);

/* Bytes written out since creation. */
uint64_t virtio_console_bytes_out(struct virtio_console *c);

/* Initcalls (devices/device_table.c, VM_LEVEL_DEVICE) and --stats lines. */
int virtio_console_vm_init(struct vm *vm);
void virtio_console_vm_exit(struct vm *vm);
extern const struct vm_stats_ops virtio_console_vm_stats;

#endif /* DEVICES_VIRTIO_CONSOLE_H */
