/* SPDX-License-Identifier: MIT */
/*
 * vmm/fdt_build.h - the flattened device tree that tells the guest its RAM,
 * zones, CPUs, memory model, command line and virtio-mmio devices.
 *
 * Tree (cells: #address-cells = 2, #size-cells = 2 at the root):
 *   /chosen            bootargs
 *   /memory@ADDR       device_type = "memory", reg = <ADDR SIZE> per region
 *   /cpus/cpu@N        device_type = "cpu", reg = <N>
 *   /buddyvm           compatible = "buddyvm,vm", memory-model = "hosted" |
 *                      "native", zones = <start end>... (u64 pairs),
 *                      zone-names = "DMA", "DMA32", "Normal" (populated ones),
 *                      kernel-end = <u64>, boot-end = <u64>
 *   /virtio_mmio@ADDR  compatible = "virtio,mmio", reg, interrupts = <GSI>
 */
#ifndef VMM_FDT_BUILD_H
#define VMM_FDT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vm.h"

/* Zone boundaries (address-width classes, as in DESIGN.md). */
#define FDT_ZONE_DMA_END   (16ull << 20)
#define FDT_ZONE_DMA32_END (4ull << 30)

/**
 * fdt_build() - write the device tree for @vm into @buf (@size bytes).
 * Reads vm->cfg, vm->mem, vm->kernel_end and vm->mmio_devs. Return the
 * total size of the tree, or -ENOSPC if it does not fit, or -EINVAL.
 */
int fdt_build(const struct vm *vm, void *buf, size_t size);

#endif /* VMM_FDT_BUILD_H */
