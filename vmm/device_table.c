// SPDX-License-Identifier: MIT
/*
 * vmm/device_table.c - the devices of every VM, one line each. A device keeps
 * its state static in its own file and needs nothing else from vmm/: its
 * init registers bus ranges (vmm/bus.h), FDT nodes (vm_add_mmio_dev()) and
 * IRQs; its exit undoes that. Initcalls of one level run in table order and
 * are torn down in reverse.
 */
#include <stddef.h>

#include "devices/pvmem_vm.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_console.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"

const struct vm_initcall vm_device_initcalls[] = {
	{"hosted-mm", VM_LEVEL_MM, pvmem_vm_mm_init, pvmem_vm_mm_exit},
	{"pvmem", VM_LEVEL_DEVICE, pvmem_vm_dev_init, pvmem_vm_dev_exit},
	{"guest-stats", VM_LEVEL_DEVICE, guest_stats_init, guest_stats_exit},
	{"virtio-console", VM_LEVEL_DEVICE, virtio_console_vm_init,
	 virtio_console_vm_exit},
	{"virtio-balloon", VM_LEVEL_DEVICE, virtio_balloon_vm_init,
	 virtio_balloon_vm_exit},
	{NULL, 0, NULL, NULL},
};
