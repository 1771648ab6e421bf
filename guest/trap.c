// SPDX-License-Identifier: MIT
/*
 * guest/trap.c - the IDT, and the exception report. Both run at CPL 3: the
 * CPL-0 exception entry (entry.S, cpl0.c) saves the frame and drops to CPL 3
 * on a fresh stack to print it.
 */
#include "guest.h"

void idt_init(void);
_Noreturn void trap_report(void);

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
/* Loaded by every vCPU at boot (entry.S), before the table is filled. */
struct idt_ptr idt_descriptor = {sizeof(idt) - 1, (uint64_t)idt};

/* Set by vCPU 0 once the IDT is complete; CPL-3 code of APs waits for it. */
volatile int guest_idt_ready;

extern const uint64_t exc_stubs[32];
extern const uint64_t irq_dev_stubs[GUEST_NR_DEVICE_IRQS];
void irq_timer(void);
void irq_wake(void);
void irq_spurious(void);

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

/*
 * Fill the IDT at CPL 3 (the identity map is user-writable): natively this
 * takes microseconds, where CPL 0 would emulate every store. Nothing can
 * raise an interrupt before it is done: no timer is armed and no IPI is sent
 * until vCPU 0 runs a workload; an exception this early would be a bug.
 */
void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, exc_stubs[v], GATE_INTERRUPT);
	idt_set(GUEST_VEC_TIMER, (uint64_t)irq_timer, GATE_INTERRUPT);
	idt_set(GUEST_VEC_WAKE, (uint64_t)irq_wake, GATE_INTERRUPT);
	idt_set(GUEST_VEC_SPURIOUS, (uint64_t)irq_spurious, GATE_INTERRUPT);
	for (unsigned pin = 0; pin < GUEST_NR_DEVICE_IRQS; pin++)
		idt_set(GUEST_VEC_DEVICE + pin, irq_dev_stubs[pin],
			GATE_INTERRUPT);
	__atomic_store_n(&guest_idt_ready, 1, __ATOMIC_RELEASE);
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

_Noreturn void trap_report(void)
{
	const struct trap_frame *f = &this_cpu()->trap;
	uint64_t cr2 = this_cpu()->trap_cr2;
	const char *name = exc_names[f->vector & 31];

	/* The console driver may be what faulted: report on the debug one. */
	guest_console_panic_mode();
	guest_printf("exception %s vector %llu error 0x%llx at RIP 0x%llx "
		     "(CPL %llu) CR2 0x%llx RSP 0x%llx on vCPU %u\n",
		     name, (unsigned long long)f->vector,
		     (unsigned long long)f->error, (unsigned long long)f->rip,
		     (unsigned long long)(f->cs & 3), (unsigned long long)cr2,
		     (unsigned long long)f->rsp, guest_cpu_id());
	guest_fail(__FILE__, __LINE__,
		   "exception %s vector %llu at RIP 0x%llx CR2 0x%llx", name,
		   (unsigned long long)f->vector, (unsigned long long)f->rip,
		   (unsigned long long)cr2);
}
