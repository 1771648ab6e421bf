// SPDX-License-Identifier: MIT
/*
 * guest/trap.c - the exception report, at CPL 3: guest/cpl0.c saved the
 * frame and entry.S dropped to CPL 3 on a fresh stack to print it.
 */
#include "guest.h"

_Noreturn void trap_report(void);

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
