// SPDX-License-Identifier: MIT
/*
 * guest/cpl0.c - the only C code that runs at CPL 0: building the IDT (once,
 * on vCPU 0) and saving an exception's state for the CPL-3 report. Built
 * with -mgeneral-regs-only: the PVM instruction emulator that executes CPL-0
 * code does not implement SSE instructions.
 */
#include "guest.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[256] __attribute__((aligned(16)));
struct idt_ptr idt_descriptor = {sizeof(idt) - 1, (uint64_t)idt};

/* Set by vCPU 0 once the IDT is complete; CPL-3 code of APs waits for it. */
volatile int guest_idt_ready;

extern const uint64_t exc_stubs[32];
void irq_timer(void);
void irq_wake(void);
void irq_spurious(void);
void idt_init(void);
uint64_t trap_save(const struct trap_frame *f);

static void idt_set(unsigned vec, uint64_t handler, uint8_t attr)
{
	idt[vec] = (struct idt_gate){
		.offset_low = (uint16_t)handler,
		.selector = BVM_SEL_KCODE,
		.type_attr = attr,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_high = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, exc_stubs[v], GATE_INTERRUPT);
	idt_set(GUEST_VEC_TIMER, (uint64_t)irq_timer, GATE_INTERRUPT);
	idt_set(GUEST_VEC_WAKE, (uint64_t)irq_wake, GATE_INTERRUPT);
	idt_set(GUEST_VEC_SPURIOUS, (uint64_t)irq_spurious, GATE_INTERRUPT);
	guest_idt_ready = 1;
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

	if (f->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	p->trap = *f;
	p->trap_cr2 = cr2;
	/* Top of the stack, less the slot a call would have pushed. */
	return (uint64_t)(uintptr_t)guest_user_stacks +
	       (p->cpu + 1) * USTACK_SIZE - 8;
}
