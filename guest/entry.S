/* SPDX-License-Identifier: MIT */
/*
 * guest/entry.S - everything the guest runs at CPL 0, kept to a few
 * instructions per path because on PVM hosts each CPL-0 instruction is
 * emulated (~0.75 us): boot entry, interrupt entries, the halt path and the
 * exception entry (a failure path, where speed does not matter).
 */
#include "guest.h"

#define MSR_FS_BASE 0xc0000100
#define RFLAGS_USER 0x3202 /* IF | IOPL 3 | reserved bit 1 */
#define RFLAGS_USER_NOIRQ 0x3002
#define LAPIC_SVR_ADDR (BVM_LAPIC_ADDR + 0xf0)
#define LAPIC_EOI_ADDR (BVM_LAPIC_ADDR + LAPIC_EOI)

	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
/*
 * Boot entry, per abi/boot.h: rdi = FDT, rsi = vCPU index, rsp = this
 * vCPU's CPL-0 stack, interrupts off. Point FS at the per-vCPU area, load the
 * IDT register (vCPU 0 fills the table at CPL 3), enable the LAPIC and drop
 * to CPL 3.
 */
_start:
	xor	%r14d, %r14d /* GUEST_PLATFORM_BUDDYVM */
/* guest/pvh_entry.S joins here: rdi = start_info, rsi = vCPU index, r14 = 1. */
	.globl boot_common
boot_common:
	mov	%rdi, %r12
	mov	%rsi, %r13
	imul	$GUEST_PERCPU_BYTES, %rsi, %rax
	add	$guest_percpu_area, %rax
	mov	%rax, PERCPU_SELF(%rax)
	mov	%r13, PERCPU_CPU(%rax)
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_FS_BASE, %ecx
	wrmsr
	lidt	idt_descriptor /* filled at CPL 3 by vCPU 0 */
	mov	$LAPIC_SVR_ADDR, %eax
	movl	$(0x100 | GUEST_VEC_SPURIOUS), (%rax)
	/* iretq frame: ss, rsp, rflags, cs, rip */
	lea	1(%r13), %rax
	imul	$USTACK_SIZE, %rax, %rax
	add	$guest_user_stacks, %rax
	pushq	$BVM_SEL_UDATA
	pushq	%rax
	pushq	$RFLAGS_USER
	pushq	$BVM_SEL_UCODE
	pushq	$guest_user_entry
	mov	%r12, %rdi
	mov	%r13, %rsi
	mov	%r14, %rdx
	iretq
	.size _start, . - _start

	.text
/* First CPL-3 code: guest_main(boot data, vCPU, platform), with the ABI's
 * stack alignment. */
	.globl guest_user_entry
guest_user_entry:
	call	guest_main
	ud2

/* LAPIC timer: count, mark pending, acknowledge. CPL 3 does the work. */
	.globl irq_timer
irq_timer:
	incq	%fs:PERCPU_TICKS
	incq	%fs:PERCPU_PENDING
	push	%rax
	mov	$LAPIC_EOI_ADDR, %eax
	movl	$0, (%rax)
	pop	%rax
	iretq

/* Wake-up IPI: mark pending, acknowledge. */
	.globl irq_wake
irq_wake:
	incq	%fs:PERCPU_PENDING
	push	%rax
	mov	$LAPIC_EOI_ADDR, %eax
	movl	$0, (%rax)
	pop	%rax
	iretq

/* Device interrupts (IOAPIC pins, edge): note the pin, mark pending, EOI. */
.macro IRQ_DEV_STUB n
	.align 16
irq_dev_\n:
	lock btsq $\n, %fs:PERCPU_IRQS
	incq	%fs:PERCPU_PENDING
	push	%rax
	mov	$LAPIC_EOI_ADDR, %eax
	movl	$0, (%rax)
	pop	%rax
	iretq
.endm
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
	IRQ_DEV_STUB \n
.endr

/* Spurious interrupts need no EOI. */
	.globl irq_spurious
irq_spurious:
	iretq

/*
 * Calls from CPL 3 into CPL 0 are a ud2 at a known address: on PVM hosts
 * `int $n` at CPL 3 raises #UD and syscall does not change privilege, but an
 * exception always reaches our IDT at CPL 0. The #UD entry recognises the
 * two call sites and otherwise reports the exception.
 */
	.globl guest_halt
guest_halt:
guest_halt_ud2:
	ud2
	ret

	.globl guest_triple_fault
guest_triple_fault:
guest_triple_ud2:
	ud2
	ret

/*
 * QEMU's debug devices are ports, and port I/O needs CPL 0 on PVM hosts:
 * guest_debugcon_write(buf, len) writes len bytes to isa-debugcon (0xe9)
 * with one rep outsb (one exit per call, KVM batches string I/O);
 * guest_isa_debug_exit(status) writes isa-debug-exit (0xf4, QEMU exits with
 * status * 2 + 1). Buddyvm's debug ports are the same two (abi/boot.h).
 */
	.globl guest_debugcon_write
guest_debugcon_write:
guest_debugcon_ud2:
	ud2
	ret

	.globl guest_isa_debug_exit
guest_isa_debug_exit:
guest_exit_ud2:
	ud2
	ret

/*
 * #UD (no error code: the saved rip is at 0(%rsp)). For the halt call: the
 * interrupt gate cleared IF, so an interrupt arriving after the pending check
 * is held until `sti; hlt` (sti's one-instruction shadow makes the pair
 * atomic): no wake-up is lost; the interrupt returns to after hlt.
 */
exc_ud:
	cmpq	$guest_halt_ud2, (%rsp)
	je	1f
	cmpq	$guest_triple_ud2, (%rsp)
	je	3f
	cmpq	$guest_debugcon_ud2, (%rsp)
	je	4f
	cmpq	$guest_exit_ud2, (%rsp)
	je	5f
	pushq	$0
	pushq	$6
	jmp	exc_common
1:	addq	$2, (%rsp)
	cmpq	$0, %fs:PERCPU_PENDING
	jne	2f
	sti
	hlt
2:	iretq
3:	lidt	null_idt_descriptor
	ud2	/* #UD without an IDT: #GP, #DF, then shutdown */
4:	addq	$2, (%rsp) /* rdi = buf, esi = len; the C caller saved rcx, rdx, rsi */
	mov	%esi, %ecx
	mov	%rdi, %rsi
	mov	$BVM_PORT_CONSOLE_BYTE, %edx
	rep outsb
	iretq
5:	addq	$2, (%rsp)
	mov	%edi, %eax
	mov	$BVM_PORT_EXIT, %edx
	outl	%eax, %dx
	iretq

/* Exceptions: push a uniform frame, save it, report at CPL 3 (no return). */
.macro EXC_STUB vec, has_error
	.align 16
exc_stub_\vec:
	.if \has_error == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
.endm

.irp v, 0,1,2,3,4,5,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	EXC_STUB \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	EXC_STUB \v, 1
.endr

exc_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	and	$-16, %rsp
	call	trap_save
	/* Report from CPL 3 on a fresh stack (rax), interrupts off. */
	pushq	$BVM_SEL_UDATA
	pushq	%rax
	pushq	$RFLAGS_USER_NOIRQ
	pushq	$BVM_SEL_UCODE
	pushq	$trap_report
	iretq

	.section .rodata
	.align 8
	.globl exc_stubs
exc_stubs:
.irp v, 0,1,2,3,4,5
	.quad exc_stub_\v
.endr
	.quad exc_ud
.irp v, 7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_stub_\v
.endr

	.globl irq_dev_stubs
irq_dev_stubs:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
	.quad irq_dev_\n
.endr

	.align 8
null_idt_descriptor:
	.word 0
	.quad 0

	.section .note.GNU-stack, "", @progbits
