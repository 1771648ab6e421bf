// SPDX-License-Identifier: MIT
/*
 * guest/cpl0.c - the only C code that runs at CPL 0: saving an exception's
 * state for the CPL-3 report. Built with -mgeneral-regs-only: the PVM
 * instruction emulator that executes CPL-0 code does not implement SSE.
 */
#include "guest.h"

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
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"(BVM_EXIT_GUEST_FAIL), "Nd"(BVM_PORT_EXIT));
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
