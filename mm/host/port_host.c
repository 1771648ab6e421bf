// SPDX-License-Identifier: MIT
/* mm/host/port_host.c - libc-backed port of mm/ for the host. */
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_port_impl.h"

static mm_panic_handler_fn panic_handler;
static mm_log_sink_fn log_sink;

void *mm_memset(void *dst, int c, size_t n)
{
	return memset(dst, c, n);
}

void *mm_memcpy(void *dst, const void *src, size_t n)
{
	return memcpy(dst, src, n);
}

int mm_memcmp(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

void mm_cpu_relax(void)
{
	/*
	 * Host threads may outnumber cores (2 on the CI machines); a spinning
	 * thread must let the lock holder run.
	 */
	__builtin_ia32_pause();
	sched_yield();
}

/*
 * Each thread gets the next slot on first use. Slots wrap, so two threads may
 * share one; the per-CPU structures in mm/ are therefore locked (an
 * uncontended lock is cheap), never assumed exclusive.
 */
unsigned mm_cpu_id(void)
{
	static atomic_uint next_slot;
	static _Thread_local unsigned slot_plus_one;

	if (__builtin_expect(slot_plus_one == 0, 0))
		slot_plus_one = atomic_fetch_add(&next_slot, 1) % MM_NR_CPUS + 1;
	return slot_plus_one - 1;
}

void mm_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(line);
	else
		fprintf(stderr, "mm: %s\n", line);
}

_Noreturn void mm_panic(const char *file, int line, const char *msg)
{
	if (panic_handler)
		panic_handler(file, line, msg);
	fprintf(stderr, "mm: panic at %s:%d: %s\n", file, line, msg);
	abort();
}

void mm_port_set_panic_handler(mm_panic_handler_fn fn)
{
	panic_handler = fn;
}

void mm_port_set_log_sink(mm_log_sink_fn fn)
{
	log_sink = fn;
}
