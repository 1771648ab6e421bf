// SPDX-License-Identifier: MIT
/*
 * guest/smp.c - application processors idle in a halt loop and run work that
 * vCPU 0 posts to their mailbox, woken by an IPI (no busy polling: vCPUs
 * outnumber the host's cores).
 */
#include "guest.h"

void smp_run_on(unsigned cpu, guest_work_fn fn, void *arg)
{
	struct guest_percpu *p = &guest_percpu_area[cpu];

	GUEST_ASSERT(cpu < guest_boot.nr_cpus && cpu != guest_cpu_id());
	/* One job at a time per vCPU: wait until the last one was taken. */
	while (__atomic_load_n(&p->work_fn, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	p->work_arg = arg;
	__atomic_store_n(&p->work_fn, fn, __ATOMIC_RELEASE);
	lapic_send_ipi(cpu, GUEST_VEC_WAKE);
}

void smp_ap_loop(void)
{
	struct guest_percpu *p = this_cpu();

	for (;;) {
		guest_work_fn fn =
			__atomic_load_n(&p->work_fn, __ATOMIC_ACQUIRE);
		void *arg;

		if (!fn) {
			guest_wait_for_interrupt();
			continue;
		}
		/* Read the argument before freeing the mailbox for the next. */
		arg = p->work_arg;
		__atomic_store_n(&p->work_fn, NULL, __ATOMIC_RELEASE);
		fn(arg);
	}
}

/* Count one finished job and wake vCPU 0, which may be halted waiting. */
void smp_signal_done(unsigned *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELEASE);
	lapic_send_ipi(0, GUEST_VEC_WAKE);
}

/*
 * Halt until *counter reaches @target, or @timeout_ms passes. The bound is
 * kept in timer ticks (a 1 ms periodic LAPIC timer), so it needs no TSC
 * frequency and the waiting vCPU leaves the host CPU to the others.
 */
bool smp_wait_count(unsigned *counter, unsigned target, unsigned timeout_ms)
{
	struct guest_percpu *p = this_cpu();
	uint64_t start = p->ticks;
	bool reached;

	lapic_timer_periodic(1000);
	for (;;) {
		reached = __atomic_load_n(counter, __ATOMIC_ACQUIRE) >= target;
		if (reached || p->ticks - start >= timeout_ms)
			break;
		guest_wait_for_interrupt();
	}
	lapic_timer_stop();
	return reached;
}
