// SPDX-License-Identifier: MIT
/*
 * guest/irq.c - interrupts as CPL-3 code sees them: a per-vCPU pending count
 * the CPL-0 entry bumps, an idle call that halts only when nothing is
 * pending, and the xAPIC, which is identity-mapped and user-accessible.
 */
#include "guest.h"

#define LAPIC_ICR_LOW	 0x300
#define LAPIC_ICR_HIGH	 0x310
#define LAPIC_ICR_ASSERT 0x4000

uint64_t guest_take_pending(void)
{
	/* xchg with the CPL-0 increment: interrupts are per vCPU, so a plain
	 * exchange on our own area is atomic with respect to them. */
	return __atomic_exchange_n(&this_cpu()->pending, 0, __ATOMIC_SEQ_CST);
}

uint64_t guest_take_device_irqs(void)
{
	return __atomic_exchange_n(&this_cpu()->irqs, 0, __ATOMIC_SEQ_CST);
}

/* One driver's bit only: a driver that took every bit would swallow the
 * interrupts of devices whose waits it knows nothing about. */
bool guest_take_device_irq(unsigned bit)
{
	uint64_t mask = 1ull << bit;

	return __atomic_fetch_and(&this_cpu()->irqs, ~mask, __ATOMIC_SEQ_CST) &
	       mask;
}

void guest_wait_for_interrupt(void)
{
	if (guest_take_pending() == 0)
		guest_halt();
}

void lapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(BVM_LAPIC_ADDR + reg) = v;
}

uint32_t lapic_read(unsigned reg)
{
	return *(volatile uint32_t *)(uintptr_t)(BVM_LAPIC_ADDR + reg);
}

/* The VMM gives vCPU i APIC id i. */
void lapic_send_ipi(unsigned cpu, unsigned vector)
{
	lapic_write(LAPIC_ICR_HIGH, cpu << 24);
	lapic_write(LAPIC_ICR_LOW, LAPIC_ICR_ASSERT | vector);
}

#define LAPIC_LVT_TIMER	   0x320
#define LAPIC_TIMER_INIT   0x380
#define LAPIC_TIMER_DIV	   0x3e0
#define LAPIC_LVT_MASKED   (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)
#define LAPIC_DIV_BY_1	   0xb
/* KVM's LAPIC timer counts at 1 GHz with divide-by-1. */
#define LAPIC_TICKS_PER_US 1000u

static void lapic_timer_arm(unsigned us, uint32_t mode)
{
	lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV_BY_1);
	lapic_write(LAPIC_LVT_TIMER, mode | GUEST_VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, us * LAPIC_TICKS_PER_US);
}

void lapic_timer_oneshot(unsigned us)
{
	lapic_timer_arm(us, 0);
}

void lapic_timer_periodic(unsigned us)
{
	lapic_timer_arm(us, LAPIC_LVT_PERIODIC);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | GUEST_VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0);
}

/*
 * The IOAPIC, through its MMIO window (index register, then data window).
 * Edge-triggered only: the CPL-0 entry sends EOI at once, which for a
 * level-triggered pin still asserted would re-deliver it immediately.
 */
#define IOAPIC_REGSEL	  0x00
#define IOAPIC_WINDOW	  0x10
#define IOAPIC_REDIR(gsi) (0x10 + 2 * (gsi))

static void ioapic_write(unsigned reg, uint32_t v)
{
	volatile uint32_t *base =
		(volatile uint32_t *)(uintptr_t)BVM_IOAPIC_ADDR;

	base[IOAPIC_REGSEL / 4] = reg;
	base[IOAPIC_WINDOW / 4] = v;
}

uint32_t ioapic_read(unsigned reg)
{
	volatile uint32_t *base =
		(volatile uint32_t *)(uintptr_t)BVM_IOAPIC_ADDR;

	base[IOAPIC_REGSEL / 4] = reg;
	return base[IOAPIC_WINDOW / 4];
}

void ioapic_route_edge_to(unsigned gsi, unsigned cpu, unsigned irq)
{
	GUEST_ASSERT(gsi < GUEST_NR_DEVICE_IRQS);
	GUEST_ASSERT(irq < GUEST_NR_DEVICE_IRQS);
	/* Physical destination = APIC id = vCPU index; fixed delivery. */
	ioapic_write(IOAPIC_REDIR(gsi) + 1, cpu << 24);
	ioapic_write(IOAPIC_REDIR(gsi), GUEST_VEC_DEVICE + irq);
}

void ioapic_route_edge(unsigned gsi, unsigned cpu)
{
	ioapic_route_edge_to(gsi, cpu, gsi);
}

#define LAPIC_TIMER_CUR	 0x390
#define CAL_WINDOW_TICKS 50000000u /* 50 ms at 1 GHz */

/*
 * 50 ms of the LAPIC timer's current count against the TSC, so the two VM
 * exits of the reads cost under 0.1%. Measured once.
 */
uint64_t guest_tsc_khz(void)
{
	static uint64_t khz;
	uint32_t c0, c1;
	uint64_t t0, t1;

	if (khz)
		return khz;
	lapic_timer_oneshot(1000000); /* 1 s: stopped long before it fires */
	t0 = rdtsc();
	c0 = lapic_read(LAPIC_TIMER_CUR);
	do
		c1 = lapic_read(LAPIC_TIMER_CUR);
	while (c0 - c1 < CAL_WINDOW_TICKS);
	t1 = rdtsc();
	lapic_timer_stop();
	/* ticks are ns: kHz = tsc / ns * 1e6 */
	khz = (t1 - t0) * 1000000ull / (c0 - c1);
	return khz;
}
