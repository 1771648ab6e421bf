// SPDX-License-Identifier: MIT
/*
 * devices/device_table.c - the devices of every VM, one line each: name,
 * level, init, exit and what it adds to --stats/--check (vmm/vm_stats.h).
 * A device keeps its state static in its own file; its init puts it in the
 * VM (a virtio device through devices/virtio_vm.h, which registers the bus
 * range, the FDT node and the interrupt), its exit frees it. Initcalls of
 * one level run in table order and are torn down in reverse (vmm/vm.h).
 */
#include <stddef.h>

#include "devices/pvmem_vm.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"

const struct vm_initcall vm_device_initcalls[] = {
	{"pvmem", VM_LEVEL_DEVICE, pvmem_vm_dev_init, pvmem_vm_dev_exit,
	 &pvmem_vm_stats},
	{"guest-stats", VM_LEVEL_DEVICE, guest_stats_init, guest_stats_exit,
	 NULL},
	{"virtio-console", VM_LEVEL_DEVICE, virtio_console_vm_init,
	 virtio_console_vm_exit, &virtio_console_vm_stats},
	{"virtio-balloon", VM_LEVEL_DEVICE, virtio_balloon_vm_init,
	 virtio_balloon_vm_exit, &virtio_balloon_vm_stats},
	{"virtio-blk", VM_LEVEL_DEVICE, virtio_blk_vm_init, virtio_blk_vm_exit,
	 &virtio_blk_vm_stats_ops},
	{NULL, 0, NULL, NULL, NULL},
};
