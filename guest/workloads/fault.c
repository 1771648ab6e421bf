// SPDX-License-Identifier: MIT
/*
 * Failure-path workloads for the VMM's tests:
 *   workload=fault   CPL-3 read of an unmapped address (#PF; fault.kind=ud
 *                    for ud2 instead): the exception report, exit 3
 *   workload=triple  an empty IDT loaded at CPL 0, then a fault: triple
 *                    fault, the VMM's register dump, exit 5
 *   workload=hang    idle forever, for --timeout (exit 4)
 */
#include "guest.h"

/* Beyond the identity map (which ends at max(4 GiB, end of RAM)). */
#define FAULT_UNMAPPED_ADDR (1ull << 40)

static void fault_run(void)
{
	char kind[8];

	if (guest_cmdline_get("fault.kind", kind, sizeof(kind)) &&
	    strcmp(kind, "ud") == 0)
		__asm__ volatile("ud2");
	(void)*(volatile uint64_t *)(uintptr_t)FAULT_UNMAPPED_ADDR;
	guest_fail(__FILE__, __LINE__, "the unmapped read did not fault");
}
GUEST_WORKLOAD(fault, "fault", "CPL-3 exception (exit 3)", fault_run);

static void triple_run(void)
{
	guest_triple_fault();
	guest_fail(__FILE__, __LINE__, "the triple fault did not happen");
}
GUEST_WORKLOAD(triple, "triple", "triple fault (exit 5)", triple_run);

static void hang_run(void)
{
	guest_printf("hang: idling forever\n");
	for (;;)
		guest_halt();
}
GUEST_WORKLOAD(hang, "hang", "never finish (for --timeout)", hang_run);
