/* SPDX-License-Identifier: MIT */
/*
 * guest/include/mm_port_impl.h - the guest port of mm/ (see mm/port.h).
 * Everything here works at CPL 3: the vCPU index is read from the per-vCPU
 * area that FS points at, with no VM exit and no privileged instruction.
 */
#ifndef MM_PORT_IMPL_H
#define MM_PORT_IMPL_H

#include <stddef.h>

#define MM_NR_CPUS 32 /* BVM_MAX_VCPUS */

void *mm_memset(void *dst, int c, size_t n);
void *mm_memcpy(void *dst, const void *src, size_t n);
int mm_memcmp(const void *a, const void *b, size_t n);
void mm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void mm_panic(const char *file, int line, const char *msg);

static inline void mm_cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* Offset 8 of the per-vCPU area (struct guest_percpu.cpu). */
static inline unsigned mm_cpu_id(void)
{
	unsigned long id;

	__asm__ volatile("movq %%fs:8, %0" : "=r"(id));
	return (unsigned)id;
}

#endif
