/* SPDX-License-Identifier: MIT */
/*
 * guest/include/pvh.h - the guest under a PVH loader (QEMU microvm, q35):
 * the boot state the guest builds itself there (guest/pvh_entry.S), the start_info
 * structure the loader passes (Xen's public arch-x86/hvm/start_info.h,
 * version 1), and what the CPL-3 boot code learns from it (guest/pvh.c).
 *
 * Under buddyvm the VMM builds page tables, GDT and TSS (abi/boot.h) and the
 * guest is entered in long mode; under a PVH loader the guest is entered in
 * 32-bit protected mode with paging off and %ebx pointing at start_info.
 * pvh_entry.S then loads page tables, a GDT and a TSS that are all static data of
 * the image, filled in by the assembler and linker (no loop at CPL 0, where
 * every instruction is emulated on PVM hosts), and joins the common long-mode
 * path of entry.S with the same selectors as buddyvm's.
 */
#ifndef GUEST_PVH_H
#define GUEST_PVH_H

#include "abi/boot.h"

/* Which host booted us: guest_main()'s third argument (entry.S %r14). */
#define GUEST_PLATFORM_BUDDYVM 0 /* direct long-mode entry, FDT */
#define GUEST_PLATFORM_PVH     1 /* PVH entry, start_info, ACPI/cmdline */

/* CPL-0 stacks under PVH: in .bss, one per vCPU (the deepest CPL-0 path,
 * an exception report, uses a few hundred bytes). */
#define PVH_KSTACK_SIZE 0x1000

/* The AP trampoline: one page below 1 MiB, SIPI vector = page number. */
#define PVH_TRAMPOLINE_ADDR 0x8000
#define PVH_TRAMPOLINE_MAX  0x1000

/* Identity map built by the linker: [0, 4 GiB) in 2 MiB pages. */
#define PVH_MAPPED_END		  0x100000000ull

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

#ifndef __ASSEMBLY__
#include <stdint.h>

struct hvm_start_info {
	uint32_t magic; /* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr; /* NUL-terminated, 0 if none */
	uint64_t rsdp_paddr;	/* ACPI RSDP, 0 if none */
	uint64_t memmap_paddr;	/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 types: 1 RAM */
	uint32_t reserved;
};

#define HVM_MEMMAP_TYPE_RAM 1

/*
 * pvh_boot() - vCPU 0 at CPL 3 under a PVH loader: check @start_info, copy
 * the command line and the memory map into guest_boot, find the CPUs
 * (ACPI MADT) and the virtio-mmio devices (virtio_mmio.device= on the
 * command line, as QEMU microvm writes them), and start the APs
 * (INIT-SIPI-SIPI through the trampoline). Fails the guest (debug console,
 * exit 3) on anything it cannot use.
 */
void pvh_boot(const struct hvm_start_info *start_info);

/* An AP under PVH, first thing at CPL 3: counts itself in for pvh_boot(). */
void pvh_ap_online(void);

/*
 * Calls into CPL 0 for the QEMU debug devices (guest/entry.S): isa-debugcon
 * at port 0xe9, isa-debug-exit at 0xf4, on which QEMU exits with status
 * value * 2 + 1. The guest writes PVH_EXIT_BASE + its exit status
 * (abi/boot.h), so QEMU's status is 65 + 2 * status (done: 65, assertion
 * failure: 71), apart from QEMU's own 0 and 1.
 */
#define PVH_EXIT_BASE	   0x20
#define PVH_QEMU_STATUS(s) (((PVH_EXIT_BASE + (s)) << 1) | 1)
void guest_debugcon_write(const char *buf, unsigned len);
void guest_isa_debug_exit(unsigned value);

/* CPL 0: fill vCPU @cpu's TSS and its GDT descriptor (guest/cpl0.c). */
unsigned pvh_cpu_setup(unsigned cpu);
#endif /* __ASSEMBLY__ */

#endif /* GUEST_PVH_H */
