/* SPDX-License-Identifier: MIT */
/*
 * abi/boot.h - the contract between the VMM and the guest kernel at boot
 * and for the debug channels. Included by both sides; plain C, no libc.
 *
 * Entry: every vCPU starts in 64-bit long mode, CPL 0, at the ELF entry point,
 * with
 *   rdi = guest-physical address of the FDT
 *   rsi = vCPU index (0 .. nr_vcpus - 1)
 *   rsp = top of that vCPU's boot stack (BVM_KSTACK_TOP(index)), which is also
 *         its TSS.rsp0 (the CPL-0 stack used by interrupts from CPL 3)
 *   rflags = 0x2 (interrupts off)
 *   cr0 = PE|MP|ET|NE|WP|PG, cr4 = PAE|PGE|OSFXSR|OSXMMEXCPT, efer = LME|LMA|NXE|SCE
 *   cs = BVM_SEL_KCODE, ds/es/ss = BVM_SEL_KDATA, fs/gs = 0, tr = BVM_SEL_TSS(index)
 *   GDT at BVM_GDT_ADDR, page tables at BVM_PML4_ADDR: an identity map of
 *   [0, max(4 GiB, end of RAM)) with 2 MiB pages (1 GiB where CPUID offers
 *   them), every entry present, writable and user-accessible; the
 *   [3 GiB, 4 GiB) MMIO hole is mapped uncached (PCD|PWT).
 * The guest builds its own IDT and loads it; the VMM leaves IDTR empty.
 */
#ifndef ABI_BOOT_H
#define ABI_BOOT_H

#include "abi/layout.h"

#define BVM_MAX_VCPUS 32

/* Guest-physical layout of the boot data area [0, 1 MiB). Reserved RAM. */
#define BVM_GDT_ADDR	  0x1000ull /* GDT: fixed selectors + one TSS per vCPU */
#define BVM_TSS_ADDR	  0x3000ull /* TSSes, BVM_TSS_STRIDE bytes apart */
#define BVM_TSS_STRIDE	  0x80ull
#define BVM_PML4_ADDR	  0x5000ull /* PML4, then PDPTs and PDs after it */
#define BVM_PT_END	  0x50000ull /* page tables end here (max 64 GiB mapped) */
#define BVM_FDT_ADDR	  0x50000ull /* flattened device tree */
#define BVM_FDT_MAX	  0x10000ull
#define BVM_KSTACK_BASE	  0x80000ull /* CPL-0 stacks, one per vCPU */
#define BVM_KSTACK_SIZE	  0x4000ull
#define BVM_KSTACK_TOP(i) (BVM_KSTACK_BASE + ((i) + 1) * BVM_KSTACK_SIZE)
#define BVM_BOOT_END	  0x100000ull /* 1 MiB: the kernel image starts here */
#define BVM_KERNEL_BASE	  0x100000ull

/* GDT selectors. User selectors carry RPL 3. */
#define BVM_SEL_KCODE  0x08
#define BVM_SEL_KDATA  0x10
#define BVM_SEL_UDATA  0x1b		 /* 0x18 | 3 */
#define BVM_SEL_UCODE  0x23		 /* 0x20 | 3 */
#define BVM_SEL_TSS(i) (0x28 + 16 * (i)) /* 16-byte system descriptors */

/*
 * Debug channels (port I/O). Every out is a VM exit (5-20 us on PVM hosts), so
 * text goes out a buffer at a time, never a byte at a time, except for early
 * boot and panics.
 */
#define BVM_PORT_CONSOLE_BYTE 0x00e9 /* out8: one character */
#define BVM_PORT_CONSOLE_BUF  0x00ea /* out32: GPA of struct bvm_console_buf */
#define BVM_PORT_REPORT	      0x00f0 /* out32: GPA of struct bvm_report */
#define BVM_PORT_EXIT	      0x00f4 /* out32: the VMM exits with this status */
#define BVM_PORT_GUEST_STATS  0x00e4 /* out32: GPA of bvm_guest_stats */

/*
 * The same channels as 32-bit MMIO writes in the hole. PVM hosts do not give
 * the guest IOPL 3 (RFLAGS.IOPL reads 0 at CPL 3 whatever the guest sets), so
 * CPL-3 code uses these; port I/O still works from CPL 0. Offsets from
 * BVM_DEBUG_MMIO_BASE (abi/layout.h).
 */
#define BVM_DEBUG_CONSOLE_BYTE 0x00 /* write8: one character */
#define BVM_DEBUG_CONSOLE_BUF  0x08 /* write32: GPA of bvm_console_buf */
#define BVM_DEBUG_REPORT       0x10 /* write32: GPA of bvm_report */
#define BVM_DEBUG_EXIT	       0x18 /* write32: exit status */
#define BVM_DEBUG_GUEST_STATS  0x20 /* write32: GPA of bvm_guest_stats */

#define BVM_CONSOLE_BUF_MAX    4096

#ifndef __ASSEMBLY__
struct bvm_console_buf {
	unsigned int len; /* bytes in data, <= BVM_CONSOLE_BUF_MAX */
	unsigned int reserved;
	char data[];
};

/*
 * The guest's own statistics (slabinfo, kmalloc usage), published as text:
 * the VMM copies up to BVM_GUEST_STATS_MAX bytes and keeps the latest copy
 * for --stats and the control API. Page-aligned is not required; the whole
 * struct must lie in guest RAM.
 */
#define BVM_GUEST_STATS_MAX 65536
struct bvm_guest_stats {
	unsigned int len; /* bytes in text, <= BVM_GUEST_STATS_MAX */
	unsigned int reserved;
	char text[];
};

/* Reports, in the style of KVM selftests' ucalls. */
enum bvm_report_kind {
	BVM_REPORT_STAGE = 1, /* progress: stage number in value */
	BVM_REPORT_DONE = 2,  /* the workload passed: VMM exits 0 */
	BVM_REPORT_FAIL = 3,  /* assertion failed at file:line: VMM exits 3 */
};

struct bvm_report {
	unsigned int kind; /* enum bvm_report_kind */
	unsigned int line;
	unsigned long long value;
	char file[64]; /* NUL-terminated (VMM bounds it regardless) */
	char msg[128]; /* NUL-terminated (VMM bounds it regardless) */
};
#endif /* __ASSEMBLY__ */

/* Exit statuses of `vmm run`. */
#define BVM_EXIT_OK	     0 /* guest reported done, or wrote 0 to EXIT */
#define BVM_EXIT_VMM_ERROR   1 /* host-side failure (KVM, bad ELF, ...) */
#define BVM_EXIT_USAGE	     2 /* bad command line */
#define BVM_EXIT_GUEST_FAIL  3 /* guest assertion failure or exception */
#define BVM_EXIT_TIMEOUT     4 /* --timeout expired */
#define BVM_EXIT_GUEST_CRASH 5 /* triple fault, internal error, bad exit */

#endif /* ABI_BOOT_H */
