/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem_vm.h - the hosted memory model in a running VM: initcalls
 * that build the VM's mm instance (VM_LEVEL_MM) and the pvmem device with its
 * two doorbells (VM_LEVEL_DEVICE), and accessors for the devices and the
 * control API. One VM per process, so the state is static in pvmem_vm.c.
 *
 * devices/device_table.c lines:
 *   {"hosted-mm", VM_LEVEL_MM, pvmem_vm_mm_init, pvmem_vm_mm_exit},
 *   {"pvmem", VM_LEVEL_DEVICE, pvmem_vm_dev_init, pvmem_vm_dev_exit},
 */
#ifndef DEVICES_PVMEM_VM_H
#define DEVICES_PVMEM_VM_H

#include "devices/pvmem.h"

struct vm;

/* Build the mm over vm->mem, reserving [0, vm->kernel_end). */
int pvmem_vm_mm_init(struct vm *vm);
void pvmem_vm_mm_exit(struct vm *vm);

/* Hosted model only (a no-op in native): the device and its doorbells. */
int pvmem_vm_dev_init(struct vm *vm);
void pvmem_vm_dev_exit(struct vm *vm);

/* The VM's instances, or NULL before init / in the native model. */
struct hosted_mem *pvmem_vm_hosted_mem(void);
struct pvmem *pvmem_vm_device(void);

#endif /* DEVICES_PVMEM_VM_H */
