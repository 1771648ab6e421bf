// SPDX-License-Identifier: MIT
/* workload=smp: every application processor reports in through a shared
 * counter; vCPU 0 waits for all of them (bounded), then checks who came. */
#include "guest.h"

#define SMP_TIMEOUT_MS 5000

static unsigned smp_arrived;
static uint32_t smp_seen; /* bit per vCPU */

static void smp_checkin(void *arg)
{
	__atomic_fetch_or(&smp_seen, 1u << guest_cpu_id(), __ATOMIC_RELAXED);
	smp_signal_done(&smp_arrived);
}

static void smp_run(void)
{
	unsigned n = guest_boot.nr_cpus;
	uint32_t all = n == 32 ? ~0u : (1u << n) - 1;

	smp_seen = 1; /* vCPU 0 */
	for (unsigned cpu = 1; cpu < n; cpu++)
		smp_run_on(cpu, smp_checkin, NULL);
	if (!smp_wait_count(&smp_arrived, n - 1, SMP_TIMEOUT_MS))
		guest_fail(__FILE__, __LINE__,
			   "only %u of %u APs reported in within %u ms (seen "
			   "0x%x)",
			   __atomic_load_n(&smp_arrived, __ATOMIC_ACQUIRE),
			   n - 1, SMP_TIMEOUT_MS, smp_seen);
	GUEST_ASSERT_EQ(__atomic_load_n(&smp_seen, __ATOMIC_ACQUIRE), all);
	guest_printf("smp: all %u vCPUs reported in\n", n);
}
GUEST_WORKLOAD(smp, "smp", "every vCPU reports in", smp_run);
