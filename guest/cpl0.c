// SPDX-License-Identifier: MIT
/*
 * guest/cpl0.c - the only C code that runs at CPL 0: saving an exception's
 * state for the CPL-3 report, and a vCPU's TSS under a PVH loader. Built
 * with -mgeneral-regs-only: the PVM instruction emulator that executes CPL-0
 * code does not implement SSE.
 */
#include "guest.h"
#include "pvh.h"

uint64_t trap_save(const struct trap_frame *f);

/*
 * An exception while reporting one: the CPL-3 report path is broken, so say
 * so a byte at a time through the port (CPL 0 may use port I/O) and exit 3.
 */
static _Noreturn void trap_nested(void)
{
	static const char msg[] = "guest: exception while reporting an "
				  "exception\n";

	for (const char *c = msg; *c; c++)
		__asm__ volatile("outb %0, %1"
				 :
				 : "a"(*c), "Nd"(BVM_PORT_CONSOLE_BYTE));
	/* The same port is QEMU's isa-debug-exit (pvh.h). */
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"(guest_boot.platform == GUEST_PLATFORM_PVH
				       ? PVH_EXIT_BASE + BVM_EXIT_GUEST_FAIL
				       : BVM_EXIT_GUEST_FAIL),
			   "Nd"(BVM_PORT_EXIT));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * Called by exc_common with the saved frame: record what the report needs in
 * the per-vCPU area and return the top of this vCPU's user stack, where
 * entry.S continues at CPL 3 in trap_report() (which never returns).
 */
uint64_t trap_save(const struct trap_frame *f)
{
	struct guest_percpu *p = this_cpu();
	uint64_t cr2 = 0;

	if (p->trap_nesting++)
		trap_nested();
	if (f->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	p->trap = *f;
	p->trap_cr2 = cr2;
	/* Top of the stack, less the slot a call would have pushed. */
	return (uint64_t)(uintptr_t)guest_user_stacks +
	       (p->cpu + 1) * USTACK_SIZE - 8;
}

/*
 * Under a PVH loader the guest brings its own TSSes and CPL-0 stacks
 * (guest/pvh_entry.S); buddyvm puts them in the boot area instead (abi/boot.h).
 */
struct pvh_tss {
	uint32_t reserved0;
	uint64_t rsp0;
	uint8_t unused[90];
	uint16_t iopb; /* beyond the limit: no I/O bitmap */
} __attribute__((packed, aligned(BVM_TSS_STRIDE)));

_Static_assert(__builtin_offsetof(struct pvh_tss, rsp0) == 4 &&
		       __builtin_offsetof(struct pvh_tss, iopb) == 102,
	       "the 64-bit TSS layout");

#define PVH_TSS_LIMIT 0x67
#define PVH_TSS_AVAIL 0x89 /* present, 64-bit TSS (available) */

static struct pvh_tss pvh_tss[BVM_MAX_VCPUS];
uint8_t pvh_kstacks[BVM_MAX_VCPUS][PVH_KSTACK_SIZE]
	__attribute__((aligned(PVH_KSTACK_SIZE)));
extern uint64_t pvh_gdt[];

/*
 * vCPU @cpu's TSS (rsp0: the top of its CPL-0 stack) and its GDT descriptor,
 * at CPL 0 before `ltr`; returns the selector. About twenty instructions.
 */
unsigned pvh_cpu_setup(unsigned cpu)
{
	struct pvh_tss *t = &pvh_tss[cpu];
	uint64_t base = (uint64_t)(uintptr_t)t;
	uint64_t *desc = &pvh_gdt[BVM_SEL_TSS(cpu) / 8];

	t->rsp0 = (uint64_t)(uintptr_t)pvh_kstacks[cpu] + PVH_KSTACK_SIZE;
	t->iopb = PVH_TSS_LIMIT + 1;
	desc[0] = PVH_TSS_LIMIT | (base & 0xffffff) << 16 |
		  (uint64_t)PVH_TSS_AVAIL << 40 | ((base >> 24) & 0xff) << 56;
	desc[1] = base >> 32;
	return BVM_SEL_TSS(cpu);
}
