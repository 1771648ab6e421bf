/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem_vm.h - the pvmem device in a running VM (hosted memory
 * model): an initcall that makes the device over the VM's frame database
 * (vmm/frame_db.h) and registers its two doorbells, and an accessor for the
 * devices that check DMA mappings. One VM per process, so the state is
 * static in pvmem_vm.c.
 *
 * devices/device_table.c line:
 *   {"pvmem", VM_LEVEL_DEVICE, pvmem_vm_dev_init, pvmem_vm_dev_exit,
 *    &pvmem_vm_stats},
 */
#ifndef DEVICES_PVMEM_VM_H
#define DEVICES_PVMEM_VM_H

#include "devices/pvmem.h"
#include "vmm/vm_stats.h"

struct vm;

/* Hosted model only (a no-op in native): the device and its doorbells. */
int pvmem_vm_dev_init(struct vm *vm);
void pvmem_vm_dev_exit(struct vm *vm);

/* The VM's device, or NULL before init / in the native model. */
struct pvmem *pvmem_vm_device(void);

/* Its --stats ("pvmem", guest_held_bytes) and --check (tot_pages). */
extern const struct vm_stats_ops pvmem_vm_stats;

#endif /* DEVICES_PVMEM_VM_H */
