/* SPDX-License-Identifier: MIT */
/*
 * vmm/zero_pages.h - a large zeroed array that costs RSS only for the pages
 * written, for tables sized by the worst case and mostly never used (a byte
 * per guest frame, a slot per possible DMA mapping).
 *
 * calloc() cannot promise that: below the mmap threshold (128 KiB) it carves
 * the block from its heap and memsets all of it, so a 64 KiB table is 16
 * resident pages from the start. A private anonymous mapping is zero and
 * unbacked until written.
 */
#ifndef VMM_ZERO_PAGES_H
#define VMM_ZERO_PAGES_H

#include <stddef.h>
#include <sys/mman.h>

/* @size bytes of zeroes, page-aligned; NULL on failure. */
static inline void *zero_pages_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Frees what zero_pages_alloc(@size) returned; @p may be NULL. */
static inline void zero_pages_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

#endif
