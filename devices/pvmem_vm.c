// SPDX-License-Identifier: MIT
/* devices/pvmem_vm.c - the hosted memory model's initcalls (pvmem_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/pvmem_vm.h"
#include "vmm/bus.h"
#include "vmm/vm.h"

static struct hosted_mem *vm_hosted_mem;
static struct pvmem *vm_pvmem;

int pvmem_vm_mm_init(struct vm *vm)
{
	struct hosted_mem_config hc = {.kernel_end = vm->kernel_end};
	int err = hosted_mem_create(&vm_hosted_mem, &vm->mem, &hc);

	if (err) {
		fprintf(stderr,
			"vmm: page allocator over guest RAM: %s (is RAM "
			"larger than the kernel image?)\n",
			strerror(-err));
		return err;
	}
	/* Native: the guest owns all its RAM from the start. */
	if (vm->cfg.memory_model == VM_MEMORY_NATIVE) {
		err = hosted_mem_give_all(vm_hosted_mem);
		if (err)
			fprintf(stderr,
				"vmm: native model: not every frame could be "
				"given to the guest\n");
	}
	return err;
}

void pvmem_vm_mm_exit(struct vm *vm)
{
	hosted_mem_destroy(vm_hosted_mem);
	vm_hosted_mem = NULL;
}

int pvmem_vm_dev_init(struct vm *vm)
{
	/* --mem-limit (bytes, 0: all RAM) is the page limit max_pages. */
	struct pvmem_config cfg = {.max_pages = vm->cfg.mem_limit >> 12};
	int err;

	if (vm->cfg.memory_model != VM_MEMORY_HOSTED)
		return 0;
	err = pvmem_create(&vm_pvmem, vm_hosted_mem, &cfg);
	if (!err)
		err = bus_register(vm->bus, BUS_MMIO, PVMEM_MMIO_BASE,
				   PVMEM_MMIO_SIZE, pvmem_pio_handler,
				   vm_pvmem);
	if (!err)
		err = bus_register(vm->bus, BUS_PIO, PVMEM_PORT,
				   PVMEM_PORT_SIZE, pvmem_pio_handler,
				   vm_pvmem);
	if (err) {
		/* A failed initcall gets no exit call: undo it here. */
		fprintf(stderr, "vmm: pvmem device: %s\n", strerror(-err));
		pvmem_vm_dev_exit(vm);
	}
	return err;
}

/* The bus has no unregister: it goes away with the VM, after the device. */
void pvmem_vm_dev_exit(struct vm *vm)
{
	pvmem_destroy(vm_pvmem);
	vm_pvmem = NULL;
}

struct hosted_mem *pvmem_vm_hosted_mem(void)
{
	return vm_hosted_mem;
}

struct pvmem *pvmem_vm_device(void)
{
	return vm_pvmem;
}
