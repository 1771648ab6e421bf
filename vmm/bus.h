/* SPDX-License-Identifier: MIT */
/*
 * vmm/bus.h - the exit bus: devices register port-I/O or MMIO ranges; the
 * vCPU loop dispatches each KVM_EXIT_IO / KVM_EXIT_MMIO to the one handler
 * whose range holds the access.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space {
	BUS_PIO,
	BUS_MMIO,
};

/*
 * An access of @len bytes (1, 2, 4 or 8) at @offset from the start of the
 * registered range. For a write, @data holds the value; for a read, the
 * handler fills it (unhandled bytes read as zero). Handlers run on the vCPU
 * thread that exited; a device shared between vCPUs locks its own state.
 * Return 0, or a negative errno: the VMM logs it and carries on (a guest
 * cannot stop the VMM by poking a device).
 */
typedef int (*bus_handler_fn)(void *opaque, uint64_t offset, void *data,
			      unsigned len, bool is_write);

struct bus;

/* A new empty bus, or NULL (out of memory). Free with bus_destroy(). */
struct bus *bus_create(void);
void bus_destroy(struct bus *bus);

/*
 * Register [base, base + len) in @space. Ranges may not overlap. Register
 * during VM setup, before vCPUs run: dispatch takes no lock.
 * Return 0, -EEXIST (overlap), -EINVAL (empty or wrapping range) or -ENOSPC.
 */
int bus_register(struct bus *bus, enum bus_space space, uint64_t base,
		 uint64_t len, bus_handler_fn fn, void *opaque);

/* Dispatch one access; -ENOENT if nothing is registered there. */
int bus_dispatch(struct bus *bus, enum bus_space space, uint64_t addr,
		 void *data, unsigned len, bool is_write);

#endif /* VMM_BUS_H */
