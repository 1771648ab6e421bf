// SPDX-License-Identifier: MIT
/*
 * workload=timer: every vCPU arms its LAPIC timer (one-shot, timer.us
 * microseconds, default 1000) timer.count times (default 10) and halts until
 * each interrupt; each must see exactly that many timer interrupts.
 */
#include "guest.h"

#define TIMER_TIMEOUT_MS 10000

static unsigned timer_count, timer_us, timer_finished;
static uint64_t timer_ticks[BVM_MAX_VCPUS];

static void timer_local(void *arg)
{
	struct guest_percpu *p = this_cpu();
	uint64_t start = p->ticks;

	for (unsigned i = 0; i < timer_count; i++) {
		uint64_t before = p->ticks;

		lapic_timer_oneshot(timer_us);
		while (p->ticks == before)
			guest_wait_for_interrupt();
	}
	timer_ticks[guest_cpu_id()] = p->ticks - start;
	if (guest_cpu_id() != 0)
		smp_signal_done(&timer_finished);
}

static void timer_run(void)
{
	unsigned n = guest_boot.nr_cpus;

	timer_count = (unsigned)guest_cmdline_ulong("timer.count", 10);
	timer_us = (unsigned)guest_cmdline_ulong("timer.us", 1000);
	GUEST_ASSERT(timer_count > 0 && timer_us > 0 && timer_us <= 1000000);
	for (unsigned cpu = 1; cpu < n; cpu++)
		smp_run_on(cpu, timer_local, NULL);
	timer_local(NULL);
	if (!smp_wait_count(&timer_finished, n - 1, TIMER_TIMEOUT_MS))
		guest_fail(__FILE__, __LINE__,
			   "only %u of %u APs finished their timer ticks",
			   __atomic_load_n(&timer_finished, __ATOMIC_ACQUIRE),
			   n - 1);
	for (unsigned cpu = 0; cpu < n; cpu++)
		GUEST_ASSERT_EQ(timer_ticks[cpu], timer_count);
	guest_printf("timer: %u vCPU%s took %u ticks of %u us each\n", n,
		     n > 1 ? "s" : "", timer_count, timer_us);
}
GUEST_WORKLOAD(timer, "timer", "LAPIC timer interrupts on every vCPU",
	       timer_run);
