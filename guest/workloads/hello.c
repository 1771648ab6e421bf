// SPDX-License-Identifier: MIT
/* workload=hello: the banner (printed at boot from the FDT), then done. */
#include "guest.h"

static void hello_run(void)
{
	guest_printf("hello from vCPU %u at CPL %u\n", guest_cpu_id(), ({
			     uint16_t cs;
			     __asm__("mov %%cs, %0" : "=r"(cs));
			     cs & 3u;
		     }));
}
GUEST_WORKLOAD(hello, "hello", "banner and exit", hello_run);
