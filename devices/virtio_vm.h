/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_vm.h - the one place where a virtio-mmio device meets the
 * VM: which guest memory its descriptors may name (RAM, and in the hosted
 * memory model only the pvmem DMA blocks of its DMA device id), its MMIO
 * window on the exit bus, its FDT node and its interrupt pin. A device
 * writes none of that itself, so none can forget the DMA-mapping check.
 *
 * A device in three steps:
 *
 *   1. Its instance layer takes a struct virtio_vm_link (keep it in the
 *      device's state: the transport points at it) and makes its transport
 *      with virtio_vm_mmio_create() instead of virtio_mmio_create(). Unit
 *      tests fill the link by hand (a fake RAM, a pvmem or none, an irq_set
 *      that records).
 *   2. Its VM_LEVEL_DEVICE initcall gets the link from virtio_vm_link(),
 *      with the window, pin and DMA id of its row in abi/layout.h, creates
 *      the instance and calls virtio_vm_attach(); if that fails it destroys
 *      the instance and returns the error (its exit is then not called,
 *      vmm/vm.h). Its exit destroys the instance (the bus and FDT go with
 *      the VM).
 *   3. One line in devices/device_table.c names the initcall pair and, if
 *      the device has counters, its struct vm_stats_ops (vmm/vm_stats.h).
 *
 * For example (devices/virtio_console.c):
 *
 *	int virtio_console_vm_init(struct vm *vm)
 *	{
 *		struct virtio_console_params p = {
 *			.link = virtio_vm_link(vm, VIRTIO_CONSOLE_MMIO_BASE,
 *					       VIRTIO_CONSOLE_IRQ,
 *					       VIRTIO_CONSOLE_DMA_ID),
 *			...
 *		};
 *		int err = virtio_console_create(&p, &vm_console);
 *
 *		if (!err)
 *			err = virtio_vm_attach(vm, &vm_console->p.link,
 *					       vm_console->dev);
 *		if (err) ... destroy, log, return err;
 *	}
 */
#ifndef DEVICES_VIRTIO_VM_H
#define DEVICES_VIRTIO_VM_H

#include <stdint.h>

#include "devices/virtio_mmio.h"

struct guest_mem;
struct mm;
struct pvmem;
struct vm;

/* What ties a virtio device to its VM (or to a unit test's stand-in). */
struct virtio_vm_link {
	const struct guest_mem *mem; /* guest RAM: must outlive the device */
	struct pvmem *pvmem;	     /* hosted model; NULL: native */
	/* Native model: no descriptor may name a frame in the balloon. */
	const struct mm *mm;	/* the host's frame database; NULL: no check */
	uint32_t dma_device_id; /* hosted: descriptors must be its DMA */
	uint64_t base;		/* MMIO window (abi/layout.h) */
	uint32_t irq;		/* IOAPIC pin (abi/layout.h) */
	virtio_mmio_irq_fn irq_set;
	void *irq_opaque;
	virtio_mmio_log_fn log; /* NULL: stderr */
	void *log_opaque;
};

/**
 * virtio_vm_mmio_create() - virtio_mmio_create() for a device at @link.
 * @mp: the device's own parameters (name, ids, features, queues, config,
 *      ops, priv); base, irq, irq_set, log and the guest-address translation
 *      are filled in here from @link.
 * @link: must outlive the device (keep it in the device's state).
 *
 * The transport's translate checks RAM bounds and, with a pvmem, that the
 * range lies in one DMA block of @link->dma_device_id; without one (native
 * model), with @link->mm, that no frame of the range is in the balloon (the
 * guest gave it away: a device must not write it back to life). A device
 * reset releases that device id's DMA blocks.
 * Return: as virtio_mmio_create(); -EINVAL also without @link->mem.
 */
int virtio_vm_mmio_create(struct virtio_mmio_params *mp,
			  const struct virtio_vm_link *link,
			  struct virtio_mmio_dev **out);

/**
 * virtio_vm_link() - the link of a device in @vm at @base, pin @irq and DMA
 * device id @dma_device_id: the VM's RAM, its pvmem device (hosted model),
 * its frame database, and an edge pulse on the IOAPIC pin for each
 * interrupt.
 */
struct virtio_vm_link virtio_vm_link(struct vm *vm, uint64_t base, uint32_t irq,
				     uint32_t dma_device_id);

/**
 * virtio_vm_attach() - put @dev, made by virtio_vm_mmio_create() with
 * @link (from virtio_vm_link()), in @vm: its register window on the exit
 * bus and its FDT node (window, pin, DMA id). Call from a VM_LEVEL_DEVICE
 * initcall. A failed attach leaves neither behind; after a successful one
 * there is nothing to undo: bus and FDT go with the VM.
 * Return: 0, -ENOSPC (too many devices) or an error from bus_register().
 */
int virtio_vm_attach(struct vm *vm, const struct virtio_vm_link *link,
		     struct virtio_mmio_dev *dev);

#endif /* DEVICES_VIRTIO_VM_H */
