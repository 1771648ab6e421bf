/* SPDX-License-Identifier: MIT */
/*
 * mm/port.h - the only thing mm/ depends on.
 *
 * mm/ is compiled twice from the same sources: into the VMM (host) and into
 * the guest kernel. It includes no libc header; the freestanding compiler
 * headers (stdint, stddef, stdbool, stdatomic) are allowed. Everything else it
 * needs comes from a port implementation selected by the include path:
 *   host:  mm/host/mm_port_impl.h   (-DMM_PORT_HOST -Imm/host)
 *   guest: guest/include/mm_port_impl.h (-DMM_PORT_GUEST -Iguest/include)
 *
 * A port implementation must provide:
 *   void *mm_memset(void *dst, int c, size_t n);
 *   void *mm_memcpy(void *dst, const void *src, size_t n);
 *   int   mm_memcmp(const void *a, const void *b, size_t n);
 *   void  mm_cpu_relax(void);             spin-wait hint (pause)
 *   unsigned mm_cpu_id(void);             index < MM_NR_CPUS that no two
 *                                         concurrently running threads share
 *                                         (guest: the vCPU index; host: a slot
 *                                         per live thread). Per-CPU data is
 *                                         owned by the thread holding the id;
 *                                         others touch it only under a lock.
 *   void  mm_log(const char *fmt, ...);   one line of diagnostics, no newline
 *   _Noreturn void mm_panic(const char *file, int line, const char *msg);
 * and may define MM_NR_CPUS (default 64), and MM_HAVE_CPU_ID_PEEK with
 *   unsigned mm_cpu_id_peek(void);        mm_cpu_id(), or a value >=
 *                                         MM_NR_CPUS while the calling thread
 *                                         has no id yet (then the caller takes
 *                                         its slow path, which calls
 *                                         mm_cpu_id()): a fast path with no
 *                                         call in it needs no stack frame.
 */
#ifndef MM_PORT_H
#define MM_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm_port_impl.h>

#ifndef MM_NR_CPUS
#define MM_NR_CPUS 64
#endif

#ifndef MM_HAVE_CPU_ID_PEEK
static inline unsigned mm_cpu_id_peek(void)
{
	return mm_cpu_id();
}
#endif

#define MM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MM_MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MM_MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define mm_likely(x)	 __builtin_expect(!!(x), 1)
#define mm_unlikely(x)	 __builtin_expect(!!(x), 0)

/* An invariant that, if broken, means the allocator itself is wrong. */
#define MM_BUG_ON(cond)                                                        \
	do {                                                                   \
		if (mm_unlikely(cond))                                         \
			mm_panic(__FILE__, __LINE__, "BUG_ON(" #cond ")");     \
	} while (0)

/*
 * An invariant checked only in builds with -DMM_DEBUG (meant for the
 * sanitizer tree), for checks too costly for the fast paths. Without
 * MM_DEBUG the condition is still compiled (so it cannot rot) but never
 * evaluated: it must have no side effect.
 */
#ifdef MM_DEBUG
#define MM_DEBUG_BUG_ON(cond) MM_BUG_ON(cond)
#else
#define MM_DEBUG_BUG_ON(cond) ((void)sizeof(!(cond)))
#endif

/*
 * A test-and-test-and-set spinlock. Critical sections in mm/ are short (a few
 * list operations), so spinning beats sleeping; mm_cpu_relax() lets the host
 * port yield when threads outnumber cores.
 */
struct mm_lock {
	atomic_flag held;
};

#define MM_LOCK_INIT                                                           \
	{                                                                      \
		ATOMIC_FLAG_INIT                                               \
	}

static inline void mm_lock_init(struct mm_lock *lock)
{
	atomic_flag_clear_explicit(&lock->held, memory_order_relaxed);
}

static inline bool mm_trylock(struct mm_lock *lock)
{
	return !atomic_flag_test_and_set_explicit(&lock->held,
						  memory_order_acquire);
}

static inline void mm_lock(struct mm_lock *lock)
{
	while (!mm_trylock(lock))
		mm_cpu_relax();
}

static inline void mm_unlock(struct mm_lock *lock)
{
	atomic_flag_clear_explicit(&lock->held, memory_order_release);
}

#endif /* MM_PORT_H */
