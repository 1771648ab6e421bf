// SPDX-License-Identifier: MIT
/* vmm/fdt_build.c - the guest's device tree, built with libfdt's
 * sequential-write API (fdt_create ... fdt_finish). */
#include <errno.h>
#include <stdio.h>
#include <libfdt.h>

#include "abi/layout.h"
#include "mm/port.h"
#include "vmm/fdt_build.h"
#include "vmm/frame_db.h"

/* Collapse libfdt's error codes into errno values for our callers. */
static int fdt_errno(int err)
{
	if (err >= 0)
		return err;
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static int fdt_prop_u64_pair(void *fdt, const char *name, uint64_t a,
			     uint64_t b)
{
	fdt64_t cells[2] = {cpu_to_fdt64(a), cpu_to_fdt64(b)};

	return fdt_property(fdt, name, cells, sizeof(cells));
}

static int fdt_build_chosen(void *fdt, const struct vm *vm)
{
	const char *cmdline = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	int r = fdt_begin_node(fdt, "chosen");

	if (r == 0)
		r = fdt_property_string(fdt, "bootargs", cmdline);
	if (r == 0)
		r = fdt_end_node(fdt);
	return r;
}

static int fdt_build_memory(void *fdt, const struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *reg = &vm->mem.regions[i];
		char name[40];
		int r;

		snprintf(name, sizeof(name), "memory@%llx",
			 (unsigned long long)reg->gpa);
		r = fdt_begin_node(fdt, name);
		if (r == 0)
			r = fdt_property_string(fdt, "device_type", "memory");
		if (r == 0)
			r = fdt_prop_u64_pair(fdt, "reg", reg->gpa, reg->size);
		if (r == 0)
			r = fdt_end_node(fdt);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fdt_build_cpus(void *fdt, const struct vm *vm)
{
	int r = fdt_begin_node(fdt, "cpus");

	if (r == 0)
		r = fdt_property_u32(fdt, "#address-cells", 1);
	if (r == 0)
		r = fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; r == 0 && i < vm->cfg.nr_vcpus; i++) {
		char name[16];

		snprintf(name, sizeof(name), "cpu@%u", i);
		r = fdt_begin_node(fdt, name);
		if (r == 0)
			r = fdt_property_string(fdt, "device_type", "cpu");
		if (r == 0)
			r = fdt_property_u32(fdt, "reg", i);
		if (r == 0)
			r = fdt_end_node(fdt);
	}
	if (r == 0)
		r = fdt_end_node(fdt);
	return r;
}

/* The part of guest RAM inside [lo, hi), as one span (RAM regions are
 * ordered and the zones are wide enough that each holds at most the pieces
 * of contiguous spans). Returns false if there is none. */
static bool fdt_zone_span(const struct vm *vm, uint64_t lo, uint64_t hi,
			  uint64_t *start, uint64_t *end)
{
	*start = UINT64_MAX;
	*end = 0;
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *reg = &vm->mem.regions[i];
		uint64_t s = reg->gpa > lo ? reg->gpa : lo;
		uint64_t e =
			reg->gpa + reg->size < hi ? reg->gpa + reg->size : hi;

		if (s >= e)
			continue;
		if (s < *start)
			*start = s;
		if (e > *end)
			*end = e;
	}
	return *start < *end;
}

/*
 * The zones as the frame database makes them: the address-width classes,
 * cut where --movable's ZONE_MOVABLE starts, then that zone.
 */
static int fdt_build_zones(void *fdt, const struct vm *vm)
{
	uint64_t movable =
		frame_db_movable_start(&vm->mem, vm->cfg.movable_bytes);
	const struct {
		const char *name;
		uint64_t lo, hi;
	} zones[] = {
		{"DMA", 0, MM_MIN(FDT_ZONE_DMA_END, movable)},
		{"DMA32", FDT_ZONE_DMA_END,
		 MM_MIN(FDT_ZONE_DMA32_END, movable)},
		{"Normal", FDT_ZONE_DMA32_END, movable},
		{"Movable", movable, UINT64_MAX},
	};
	fdt64_t cells[2 * 4];
	char names[40];
	int nr = 0, names_len = 0;

	for (unsigned z = 0; z < 4; z++) {
		uint64_t start, end;

		if (!fdt_zone_span(vm, zones[z].lo, zones[z].hi, &start, &end))
			continue;
		cells[2 * nr] = cpu_to_fdt64(start);
		cells[2 * nr + 1] = cpu_to_fdt64(end);
		names_len += snprintf(names + names_len,
				      sizeof(names) - (size_t)names_len, "%s",
				      zones[z].name) +
			     1;
		nr++;
	}
	if (nr == 0)
		return -FDT_ERR_BADVALUE;
	int r = fdt_property(fdt, "zones", cells, nr * 2 * sizeof(cells[0]));

	if (r == 0)
		r = fdt_property(fdt, "zone-names", names, names_len);
	return r;
}

static int fdt_build_buddyvm(void *fdt, const struct vm *vm)
{
	const char *model =
		vm->cfg.memory_model == VM_MEMORY_NATIVE ? "native" : "hosted";
	int r = fdt_begin_node(fdt, "buddyvm");

	if (r == 0)
		r = fdt_property_string(fdt, "compatible", "buddyvm,vm");
	if (r == 0)
		r = fdt_property_string(fdt, "memory-model", model);
	if (r == 0)
		r = fdt_build_zones(fdt, vm);
	if (r == 0)
		r = fdt_property_u64(fdt, "kernel-end", vm->kernel_end);
	if (r == 0)
		r = fdt_property_u64(fdt, "boot-end", BVM_BOOT_END);
	if (r == 0)
		r = fdt_end_node(fdt);
	return r;
}

static int fdt_build_virtio(void *fdt, const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_mmio_devs; i++) {
		const struct vm_mmio_dev *dev = &vm->mmio_devs[i];
		char name[40];
		int r;

		snprintf(name, sizeof(name), "virtio_mmio@%llx",
			 (unsigned long long)dev->base);
		r = fdt_begin_node(fdt, name);
		if (r == 0)
			r = fdt_property_string(fdt, "compatible",
						BVM_FDT_VIRTIO_COMPAT);
		if (r == 0)
			r = fdt_prop_u64_pair(fdt, "reg", dev->base, dev->size);
		if (r == 0)
			r = fdt_property_u32(fdt, "interrupts", dev->irq);
		/* Which pvmem DMA blocks the device accepts descriptors in. */
		if (r == 0)
			r = fdt_property_u32(fdt, BVM_FDT_DMA_ID_PROP,
					     dev->dma_device_id);
		if (r == 0)
			r = fdt_end_node(fdt);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fdt_build_root(void *fdt, const struct vm *vm)
{
	int r = fdt_begin_node(fdt, "");

	if (r == 0)
		r = fdt_property_u32(fdt, "#address-cells", 2);
	if (r == 0)
		r = fdt_property_u32(fdt, "#size-cells", 2);
	if (r == 0)
		r = fdt_property_string(fdt, "compatible", "buddyvm,vm");
	if (r == 0)
		r = fdt_property_string(fdt, "model", "buddyvm");
	if (r == 0)
		r = fdt_build_chosen(fdt, vm);
	if (r == 0)
		r = fdt_build_memory(fdt, vm);
	if (r == 0)
		r = fdt_build_cpus(fdt, vm);
	if (r == 0)
		r = fdt_build_buddyvm(fdt, vm);
	if (r == 0)
		r = fdt_build_virtio(fdt, vm);
	if (r == 0)
		r = fdt_end_node(fdt);
	return r;
}

int fdt_build(const struct vm *vm, void *buf, size_t size)
{
	int r;

	if (size > INT32_MAX)
		return -EINVAL;
	r = fdt_create(buf, (int)size);
	if (r == 0)
		r = fdt_finish_reservemap(buf);
	if (r == 0)
		r = fdt_build_root(buf, vm);
	if (r == 0)
		r = fdt_finish(buf);
	if (r < 0)
		return fdt_errno(r);
	return (int)fdt_totalsize(buf);
}
