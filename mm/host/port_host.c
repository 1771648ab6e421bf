// SPDX-License-Identifier: MIT
/* mm/host/port_host.c - libc-backed port of mm/ for the host. */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
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
 * Each thread takes a free slot on first use and gives it back when it exits,
 * so no two live threads share an id (the contract in port.h). A slot keeps
 * whatever per-CPU caches its last owner left, as a CPU would.
 */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char slot_used[MM_NR_CPUS];
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
_Thread_local unsigned mm_port_slot_plus_one;

static void slot_release(void *arg)
{
	unsigned slot = (unsigned)(uintptr_t)arg - 1;

	pthread_mutex_lock(&slot_lock);
	slot_used[slot] = 0;
	pthread_mutex_unlock(&slot_lock);
}

static void slot_key_create(void)
{
	pthread_key_create(&slot_key, slot_release);
}

/* A thread's first mm_cpu_id(): take a free slot (see mm_port_impl.h). */
unsigned mm_port_slot_take(void)
{
	unsigned slot;

	pthread_once(&slot_key_once, slot_key_create);
	pthread_mutex_lock(&slot_lock);
	for (slot = 0; slot < MM_NR_CPUS && slot_used[slot]; slot++)
		;
	if (slot < MM_NR_CPUS)
		slot_used[slot] = 1;
	pthread_mutex_unlock(&slot_lock);
	if (slot == MM_NR_CPUS)
		mm_panic(__FILE__, __LINE__,
			 "more than MM_NR_CPUS live threads use mm/");
	pthread_setspecific(slot_key, (void *)(uintptr_t)(slot + 1));
	mm_port_slot_plus_one = slot + 1;
	return slot;
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
