// SPDX-License-Identifier: MIT
/*
 * devices/virtio_vm.c - a virtio-mmio device's guest-address translation,
 * interrupt, bus window and FDT node (virtio_vm.h).
 */
#include <errno.h>

#include "devices/pvmem.h"
#include "devices/pvmem_vm.h"
#include "devices/virtio_vm.h"
#include "mm/mm.h"
#include "vmm/bus.h"
#include "vmm/frame_db.h"
#include "vmm/guest_mem.h"
#include "vmm/vm.h"

/*
 * The transport's translate for every device: in the hosted model a
 * descriptor may name only memory the guest mapped for this device (its
 * pvmem DMA blocks), so a guest cannot make one device read or write frames
 * it holds for something else; in the native model, any RAM the guest
 * holds: not a frame it gave to the balloon, whose backing the host
 * released (a device write would bring it back behind the balloon's
 * accounting, a read would see zeros).
 */
static void *virtio_vm_translate(void *opaque, uint64_t gpa, uint64_t len,
				 bool write)
{
	const struct virtio_vm_link *link = opaque;
	void *host;

	if (link->pvmem &&
	    !pvmem_dma_contains(link->pvmem, link->dma_device_id, gpa, len))
		return NULL;
	host = guest_mem_ptr(link->mem, gpa, len);
	/* In RAM (checked above), so the frame count cannot overflow. */
	if (host && !link->pvmem && link->mm && len &&
	    mm_count_frames_state(link->mm, MM_ADDR_TO_PFN(gpa),
				  MM_ADDR_TO_PFN(gpa + len - 1) -
					  MM_ADDR_TO_PFN(gpa) + 1,
				  FRAME_BALLOON))
		return NULL;
	return host;
}

/* The rings and buffers the driver mapped for the device go with a reset. */
static void virtio_vm_translate_reset(void *opaque)
{
	const struct virtio_vm_link *link = opaque;

	if (link->pvmem)
		pvmem_dma_release_device(link->pvmem, link->dma_device_id);
}

int virtio_vm_mmio_create(struct virtio_mmio_params *mp,
			  const struct virtio_vm_link *link,
			  struct virtio_mmio_dev **out)
{
	if (!link->mem)
		return -EINVAL;
	mp->base = link->base;
	mp->irq = link->irq;
	mp->translate = virtio_vm_translate;
	mp->translate_reset = virtio_vm_translate_reset;
	mp->translate_opaque = (void *)link;
	mp->irq_set = link->irq_set;
	mp->irq_opaque = link->irq_opaque;
	mp->log = link->log;
	mp->log_opaque = link->log_opaque;
	return virtio_mmio_create(mp, out);
}

/* Edge-triggered IOAPIC pin (the guest's CPL-0 entry EOIs at once): pulse. */
static void virtio_vm_irq(void *opaque, uint32_t irq, bool level)
{
	struct vm *vm = opaque;

	if (!level)
		return;
	vm_irq_line(vm, irq, 1);
	vm_irq_line(vm, irq, 0);
}

struct virtio_vm_link virtio_vm_link(struct vm *vm, uint64_t base, uint32_t irq,
				     uint32_t dma_device_id)
{
	return (struct virtio_vm_link){
		.mem = &vm->mem,
		.pvmem = pvmem_vm_device(),
		.mm = frame_db_mm(vm->frame_db),
		.dma_device_id = dma_device_id,
		.base = base,
		.irq = irq,
		.irq_set = virtio_vm_irq,
		.irq_opaque = vm,
	};
}

int virtio_vm_attach(struct vm *vm, const struct virtio_vm_link *link,
		     struct virtio_mmio_dev *dev)
{
	int err;

	/* The FDT slot first: the bus cannot take a range back. */
	if (vm->nr_mmio_devs == VM_MAX_MMIO_DEVS)
		return -ENOSPC;
	err = bus_register(vm->bus, BUS_MMIO, link->base, VIRTIO_MMIO_SIZE,
			   virtio_mmio_access, dev);
	if (err)
		return err;
	return vm_add_mmio_dev(vm, link->base, VIRTIO_MMIO_SIZE, link->irq,
			       link->dma_device_id);
}
