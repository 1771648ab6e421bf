/* SPDX-License-Identifier: MIT */
/*
 * guest/pvh_parse.h - the guest's reading of what a PVH loader (QEMU) hands
 * it, as pure functions over bytes: the memory map's RAM ranges, the
 * `virtio_mmio.device=` words of the command line, and the CPUs of an MP
 * table or ACPI MADT. guest/pvh.c calls them at boot; they build with the
 * host compiler too (no guest headers, no C library), so the unit tests
 * (tests/unit/test_pvh_parse.c) run the code the guest runs.
 *
 * Each checks what it reads and says why it refuses (a static string).
 */
#ifndef GUEST_PVH_PARSE_H
#define GUEST_PVH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "guest/boot_fdt.h"

/* virtio-mmio windows QEMU microvm gives: at least the registers (0x100)
 * and a config space; inside the MMIO hole [3 GiB, 4 GiB). */
#define PVH_MMIO_MIN_SIZE 0x200ull
#define PVH_HOLE_START	  0xC0000000ull
#define PVH_HOLE_END	  0x100000000ull
#define PVH_NR_IRQS	  24 /* IOAPIC pins the guest routes */
#define PVH_MAX_CPUS	  32 /* BVM_MAX_VCPUS: vCPU index = APIC id */

/**
 * pvh_parse_virtio_mmio() - one `virtio_mmio.device=` value, @len bytes at
 * @s: `SIZE[K|M|G]@BASE:IRQ[:ID]` (Linux's syntax; numbers decimal or 0x
 * hex). Return 0 with @out filled (dma_id 0), or -EINVAL: not that syntax,
 * a number that overflows, a window outside the hole or under
 * PVH_MMIO_MIN_SIZE, an IRQ the guest does not route.
 */
int pvh_parse_virtio_mmio(const char *s, size_t len, struct boot_mmio_dev *out,
			  const char **why);

/**
 * pvh_ram_add() - add an E820 RAM entry [@base, @base + @size) to @ram
 * (sorted by base, *@n entries, room for @max), cut to [@lo, @hi) and to
 * whole 4 KiB pages. Nothing left: 0, nothing added. Return 0, -EINVAL
 * (it wraps, or overlaps a range already there) or -ENOSPC (@max reached).
 */
int pvh_ram_add(struct boot_ram_range *ram, unsigned *n, unsigned max,
		uint64_t base, uint64_t size, uint64_t lo, uint64_t hi,
		const char **why);

/**
 * pvh_mp_cpus() - the enabled processors of an MP configuration table
 * ("PCMP", MultiProcessor Specification 1.4) at @table, of which @avail
 * bytes may be read: bit i of *@seen set for APIC id i. The entries are
 * walked by the table's length (qboot leaves the entry count 0). Return 0,
 * or -EINVAL (signature, length, checksum, an entry past the end, an APIC
 * id >= PVH_MAX_CPUS).
 */
int pvh_mp_cpus(const void *table, size_t avail, uint32_t *seen,
		const char **why);

/**
 * pvh_madt_cpus() - the same for an ACPI MADT whose header and checksum the
 * caller checked (@len = its length): local APIC (type 0) and x2APIC
 * (type 9) entries with the enabled flag. @ioapic, if not NULL, is called
 * for each IOAPIC entry (id, address, GSI base).
 */
int pvh_madt_cpus(const void *madt, size_t len, uint32_t *seen,
		  void (*ioapic)(unsigned id, uint32_t addr, uint32_t gsi),
		  const char **why);

/* A virtio-mmio device as QEMU microvm's DSDT describes it. */
struct pvh_acpi_mmio {
	uint64_t base, size;
	uint32_t gsi;
};

/**
 * pvh_dsdt_virtio_mmio() - QEMU microvm's virtio-mmio devices in the AML of
 * its DSDT (@aml, @len bytes, header included): each device whose _HID is
 * the string "LNRO0005" (as Linux's virtio_mmio ACPI match) has a _CRS of
 * one Memory32Fixed descriptor and one Extended Interrupt descriptor with a
 * single GSI, within the next 64 bytes. This reads those descriptors, not
 * AML in general. Fills up to @max entries of @out in table order; returns
 * how many, or -EINVAL (a device whose _CRS is not that, or whose window is
 * outside the hole or under PVH_MMIO_MIN_SIZE, or more than @max).
 */
int pvh_dsdt_virtio_mmio(const void *aml, size_t len, struct pvh_acpi_mmio *out,
			 unsigned max, const char **why);

/**
 * pvh_cpu_count() - from the APIC ids in @seen, the number of vCPUs: the
 * ids must be 0..n-1 (the guest's vCPU index is the APIC id). Return n >= 1,
 * or -EINVAL.
 */
int pvh_cpu_count(uint32_t seen, const char **why);

#endif /* GUEST_PVH_PARSE_H */
