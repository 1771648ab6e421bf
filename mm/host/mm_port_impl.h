/* SPDX-License-Identifier: MIT */
/* mm/host/mm_port_impl.h - the host (VMM, unit tests, benches) port of mm/. */
#ifndef MM_PORT_IMPL_H
#define MM_PORT_IMPL_H

#include <stddef.h>

/* Live host threads using mm/ at once (each holds its own slot). */
#ifndef MM_NR_CPUS /* a build may take fewer (the fuzz harnesses) */
#define MM_NR_CPUS 64
#endif

void *mm_memset(void *dst, int c, size_t n);
void *mm_memcpy(void *dst, const void *src, size_t n);
int mm_memcmp(const void *a, const void *b, size_t n);
void mm_cpu_relax(void);
void mm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void mm_panic(const char *file, int line, const char *msg);

/*
 * mm_cpu_id() is on every allocator fast path, so it is an inline read of a
 * thread-local slot (initial-exec TLS: one %fs-relative load); only a
 * thread's first call takes the slow path that assigns it a slot.
 */
extern _Thread_local unsigned mm_port_slot_plus_one
	__attribute__((tls_model("initial-exec")));
unsigned mm_port_slot_take(void);

static inline unsigned mm_cpu_id(void)
{
	unsigned slot_plus_one = mm_port_slot_plus_one;

	if (__builtin_expect(slot_plus_one == 0, 0))
		return mm_port_slot_take();
	return slot_plus_one - 1;
}

/* UINT_MAX (>= MM_NR_CPUS) before the thread's first mm_cpu_id(). */
#define MM_HAVE_CPU_ID_PEEK 1
static inline unsigned mm_cpu_id_peek(void)
{
	return mm_port_slot_plus_one - 1u;
}

/*
 * Tests that provoke a panic on purpose install a handler that longjmps out;
 * NULL restores the default (print and abort).
 */
typedef void (*mm_panic_handler_fn)(const char *file, int line,
				    const char *msg);
void mm_port_set_panic_handler(mm_panic_handler_fn fn);

/* Tests capture diagnostics; NULL restores the default (stderr). */
typedef void (*mm_log_sink_fn)(const char *line);
void mm_port_set_log_sink(mm_log_sink_fn fn);

#endif
