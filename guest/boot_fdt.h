/* SPDX-License-Identifier: MIT */
/*
 * guest/boot_fdt.h - the guest's reading of the device tree the VMM hands it
 * at boot (vmm/fdt_build.h says what the VMM writes): RAM, zones, CPUs,
 * memory model, command line, kernel end and the virtio-mmio devices.
 *
 * boot_fdt_parse() checks everything before the guest trusts any of it, and
 * builds with the host compiler too (no guest headers, only libfdt, abi/ and
 * mm/errno.h), so that tests/fuzz/fuzz_fdt.c runs the code the guest runs.
 */
#ifndef GUEST_BOOT_FDT_H
#define GUEST_BOOT_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_FDT_MAX_RAM   8  /* /memory@ nodes */
#define BOOT_FDT_MAX_ZONES 4  /* DMA, DMA32, Normal, Movable */
#define BOOT_FDT_MAX_MMIO  16 /* virtio,mmio nodes */
/* The boot page tables map at most one PDPT's worth: 512 GiB. */
#define BOOT_FDT_MAX_RAM_END (512ull << 30)
/* A virtio-mmio window holds the registers (0x100) and config space. */
#define BOOT_FDT_MMIO_MIN_SIZE 0x200ull

struct boot_ram_range {
	uint64_t base;
	uint64_t size;
};

struct boot_zone {
	const char *name; /* NUL-terminated inside the tree; "?" if unnamed */
	uint64_t start, end;
};

struct boot_mmio_dev {
	uint64_t base, size; /* inside the MMIO hole, 4 KiB aligned */
	uint32_t irq;	     /* IOAPIC pin, < BOOT_FDT_NR_IRQS */
	uint32_t dma_id;     /* pvmem DMA device id, 0: none given */
};

/* The IOAPIC pins the guest routes (GUEST_NR_DEVICE_IRQS). */
#define BOOT_FDT_NR_IRQS 24

struct boot_fdt {
	const char *bootargs; /* NUL-terminated inside the tree; "" if none */
	unsigned nr_cpus;     /* 1 .. BVM_MAX_VCPUS */
	bool native;	      /* memory-model "native" (else "hosted") */
	uint64_t kernel_end;  /* inside the RAM range that holds the kernel */
	/* RAM: sorted by base, disjoint, none in the MMIO hole. */
	struct boot_ram_range ram[BOOT_FDT_MAX_RAM];
	unsigned nr_ram;    /* 1 .. BOOT_FDT_MAX_RAM */
	uint64_t ram_bytes; /* sum of the sizes */
	uint64_t ram_end;   /* end of the highest range */
	/* Zones: sorted, disjoint, inside [ram[0].base, ram_end). */
	struct boot_zone zones[BOOT_FDT_MAX_ZONES];
	unsigned nr_zones; /* 1 .. BOOT_FDT_MAX_ZONES */
	/* virtio,mmio nodes in tree order, windows disjoint. */
	struct boot_mmio_dev mmio[BOOT_FDT_MAX_MMIO];
	unsigned nr_mmio;
};

/**
 * boot_fdt_parse() - check the device tree at @fdt, which lies in a buffer
 * of @max_size bytes, and fill @out. Strings in @out point into the tree.
 * Return: 0, or -EINVAL with a one-line reason in *@why (a static string)
 * and @out unspecified.
 */
int boot_fdt_parse(const void *fdt, size_t max_size, struct boot_fdt *out,
		   const char **why);

#endif /* GUEST_BOOT_FDT_H */
