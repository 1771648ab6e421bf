/* SPDX-License-Identifier: MIT */
/*
 * guest/pvh_entry.S - the PVH entry (QEMU microvm and q35 load guest.elf through
 * it) and the AP trampoline, with the boot state both need: page tables, GDT,
 * all static data of the image that the assembler fills in, so that the CPL-0
 * part (emulated, ~0.75 us per instruction on PVM hosts) is a few dozen
 * instructions without a loop. guest/include/pvh.h says why and what.
 *
 * After the mode switch both paths join entry.S's boot_common with the same
 * selectors, FS base, IDT and LAPIC set-up as buddyvm's direct entry, and
 * %r14 = GUEST_PLATFORM_PVH.
 */
#include "guest.h"
#include "pvh.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER		 0xc0000080
#define EFER_LME		 0x100
#define CR0_LONG		 0x80010033 /* PG | WP | NE | ET | MP | PE */
#define CR4_LONG		 0x6a0	    /* OSXMMEXCPT | OSFXSR | PGE | PAE */
#define LAPIC_ID_ADDR		 0xfee00020
#define PTE_TABLE		 0x07 /* present, writable, user */
#define PTE_2M			 0x87 /* ... and a 2 MiB page */
#define PTE_2M_UC		 0x9f /* ... uncached (PCD | PWT): the hole */

/*
 * The note a PVH loader looks for. QEMU reads the entry as a native-width
 * word (8 bytes in an ELF64) at the 4-byte aligned descriptor: Linux uses a
 * quad too.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4		/* namesz: "Xen\0" */
	.long 8		/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start32
	.balign 4

/*
 * vCPU 0 under a PVH loader: 32-bit protected mode, flat segments, paging
 * off, interrupts off, %ebx = physical address of struct hvm_start_info, no
 * stack. Switch to long mode with the static tables below.
 */
	.section .text.entry, "ax"
	.code32
	.globl pvh_start32
	.type pvh_start32, @function
pvh_start32:
	cld
	/*
	 * Mask both 8259 PICs: SeaBIOS (q35) leaves the PIT's IRQ 0 unmasked
	 * and delivered through LINT0 as ExtINT, which would hit the IDT
	 * before vCPU 0 has filled it (a triple fault under KVM). qboot
	 * (microvm) arms nothing; masking costs three instructions.
	 */
	mov	$0xff, %al
	out	%al, $0x21
	out	%al, $0xa1
	lgdt	pvh_gdtr
	mov	$CR4_LONG, %eax
	mov	%eax, %cr4
	mov	$pvh_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	$CR0_LONG, %eax
	mov	%eax, %cr0
	ljmp	$BVM_SEL_KCODE, $pvh_bsp64
	.size pvh_start32, . - pvh_start32

	.code64
pvh_bsp64:
	mov	%ebx, %ebx /* start_info; the upper halves are undefined */
	xor	%esi, %esi /* vCPU 0 */
	jmp	pvh_common64

/* An AP, from the trampoline, in long mode: its vCPU index is its APIC id. */
pvh_ap64:
	mov	$LAPIC_ID_ADDR, %eax
	mov	(%rax), %esi
	shr	$24, %esi
	xor	%ebx, %ebx

/*
 * rsi = vCPU index (< BVM_MAX_VCPUS: vCPU 0 starts only APs it has a slot
 * for), rbx = start_info or 0. Segments, a CPL-0 stack, the TSS, then the
 * common path with rdi = start_info.
 */
pvh_common64:
	mov	$BVM_SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	lea	1(%rsi), %rsp
	shl	$12, %rsp /* PVH_KSTACK_SIZE */
	add	$pvh_kstacks, %rsp
	mov	%rsi, %r13
	mov	%esi, %edi
	call	pvh_cpu_setup
	ltr	%ax
	mov	%rbx, %rdi
	mov	%r13, %rsi
	mov	$GUEST_PLATFORM_PVH, %r14d
	jmp	boot_common

/*
 * The AP trampoline, copied by vCPU 0 (at CPL 3) to PVH_TRAMPOLINE_ADDR; a
 * SIPI with vector PVH_TRAMPOLINE_ADDR >> 12 starts an AP here in real mode
 * with CS = 0x800, IP = 0. It goes straight to long mode (PE and PG set
 * together, then a far jump to the 64-bit code segment), with the tables vCPU
 * 0 uses; only the GDT register has to come from inside this page.
 */
	.section .rodata
	.code16
	.balign 16
	.globl pvh_trampoline, pvh_trampoline_end
pvh_trampoline:
	cli
	cld
	lgdtl	%cs:(pvh_tramp_gdtr - pvh_trampoline)
	mov	$CR4_LONG, %eax
	mov	%eax, %cr4
	mov	$pvh_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	$CR0_LONG, %eax
	mov	%eax, %cr0
	ljmpl	$BVM_SEL_KCODE, $pvh_ap64
	.balign 8
pvh_tramp_gdtr:
	.word	pvh_gdt_end - pvh_gdt - 1
	.long	pvh_gdt
pvh_trampoline_end:
	.code64

/*
 * The GDT: buddyvm's selectors (abi/boot.h, vmm/x86_boot.c), then one TSS
 * descriptor per vCPU, which each vCPU fills for itself (pvh_cpu_setup()).
 */
	.data
	.balign 16
	.globl pvh_gdt
pvh_gdt:
	.quad	0
	.quad	0x00af9b000000ffff /* BVM_SEL_KCODE: 64-bit code, DPL 0 */
	.quad	0x00cf93000000ffff /* BVM_SEL_KDATA */
	.quad	0x00cff3000000ffff /* BVM_SEL_UDATA: DPL 3 */
	.quad	0x00affb000000ffff /* BVM_SEL_UCODE: 64-bit code, DPL 3 */
	.fill	2 * BVM_MAX_VCPUS, 8, 0
pvh_gdt_end:
	.balign 8
	.word	0
	.word	0
	.word	0
pvh_gdtr: /* 6 bytes read in 32-bit mode: limit, base (below 4 GiB) */
	.word	pvh_gdt_end - pvh_gdt - 1
	.quad	pvh_gdt

/*
 * Identity map of [0, 4 GiB) in 2 MiB pages, present, writable and
 * user-accessible (everything but the entry paths runs at CPL 3), the
 * [3 GiB, 4 GiB) hole uncached: 2048 entries the assembler writes, so CPL 0
 * only loads CR3. RAM above 4 GiB is mapped at CPL 3 (pvh.c).
 */
	.section .data.pvh_pagetables, "aw"
	.balign 4096
	.globl pvh_pml4, pvh_pdpt, pvh_pd
pvh_pml4:
	.quad	pvh_pdpt + PTE_TABLE
	.fill	511, 8, 0
pvh_pdpt:
	.quad	pvh_pd + PTE_TABLE
	.quad	pvh_pd + 0x1000 + PTE_TABLE
	.quad	pvh_pd + 0x2000 + PTE_TABLE
	.quad	pvh_pd + 0x3000 + PTE_TABLE
	.fill	508, 8, 0
pvh_pd:
	.set	pvh_addr, 0
	.rept	1536
	.quad	pvh_addr + PTE_2M
	.set	pvh_addr, pvh_addr + 0x200000
	.endr
	.rept	512
	.quad	pvh_addr + PTE_2M_UC
	.set	pvh_addr, pvh_addr + 0x200000
	.endr

	.section .note.GNU-stack, "", @progbits
