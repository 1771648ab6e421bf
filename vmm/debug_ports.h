/* SPDX-License-Identifier: MIT */
/*
 * vmm/debug_ports.h - the guest's debug channels (abi/boot.h): console
 * byte and buffer, stage/done/fail reports, and the exit port.
 */
#ifndef VMM_DEBUG_PORTS_H
#define VMM_DEBUG_PORTS_H

#include <stddef.h>

#include "abi/boot.h"

struct vm;

/** debug_ports_init() - register the ports on @vm's bus. 0 or -errno. */
int debug_ports_init(struct vm *vm);

/**
 * debug_report_describe() - format the FAIL report @rep (untrusted: its
 * strings may lack a NUL or hold control bytes) as one printable line
 * "guest assertion failed at FILE:LINE: MSG" in @out.
 */
void debug_report_describe(const struct bvm_report *rep, char *out,
			   size_t size);

#endif /* VMM_DEBUG_PORTS_H */
