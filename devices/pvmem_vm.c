// SPDX-License-Identifier: MIT
/* devices/pvmem_vm.c - the pvmem device in a running VM (pvmem_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/pvmem_vm.h"
#include "vmm/bus.h"
#include "vmm/vm.h"

static struct pvmem *vm_pvmem;

int pvmem_vm_dev_init(struct vm *vm)
{
	/* --mem-limit (bytes, 0: all RAM) is the page limit max_pages. */
	struct pvmem_config cfg = {.max_pages = vm->cfg.mem_limit >> 12};
	struct pvmem *p;
	int err;

	if (vm->cfg.memory_model != VM_MEMORY_HOSTED)
		return 0;
	err = pvmem_create(&p, vm->frame_db, &cfg);
	if (err)
		goto fail;
	err = bus_register(vm->bus, BUS_MMIO, PVMEM_MMIO_BASE, PVMEM_MMIO_SIZE,
			   pvmem_pio_handler, p);
	if (err)
		goto fail_destroy;
	err = bus_register(vm->bus, BUS_PIO, PVMEM_PORT, PVMEM_PORT_SIZE,
			   pvmem_pio_handler, p);
	if (err)
		goto fail_destroy;
	vm_pvmem = p;
	return 0;

	/*
	 * The bus cannot take a range back; a failed init ends the VM before
	 * any vCPU runs, and the bus goes with it.
	 */
fail_destroy:
	pvmem_destroy(p);
fail:
	fprintf(stderr, "vmm: pvmem device: %s\n", strerror(-err));
	return err;
}

/* The bus has no unregister: it goes away with the VM, after the device. */
void pvmem_vm_dev_exit(struct vm *vm)
{
	pvmem_destroy(vm_pvmem);
	vm_pvmem = NULL;
}

struct pvmem *pvmem_vm_device(void)
{
	return vm_pvmem;
}
