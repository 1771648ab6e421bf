/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/host_page_source.h - a page source (mm/page_source.h) for host
 * tests and benchmarks: an mmap'ed arena carved by a small buddy allocator
 * (blocks naturally aligned), with a flat frame-slot array, a DMA zone (the
 * arena's first dma_pages), failure injection and outstanding-page counts.
 */
#ifndef TESTS_HOST_PAGE_SOURCE_H
#define TESTS_HOST_PAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "mm/page_source.h"

struct host_page_source;

/**
 * host_page_source_create() - an arena of @nr_pages pages (rounded up to a
 * whole number of 2^MAX_PAGE_ORDER blocks), the first @dma_pages of which
 * (rounded likewise) form the DMA zone that __GFP_DMA requests use.
 * Return: the source (free with host_page_source_destroy()) or NULL.
 */
struct host_page_source *host_page_source_create(size_t nr_pages,
						 size_t dma_pages);
void host_page_source_destroy(struct host_page_source *hps);

/* The page_source to hand to slab_init(); valid until destroy. */
const struct page_source *host_page_source_ps(struct host_page_source *hps);

/* Pages allocated and not yet freed. */
long host_page_source_outstanding(struct host_page_source *hps);

/*
 * Failure injection: after @n more successful allocations every allocation
 * fails; n < 0 turns injection off.
 */
void host_page_source_fail_after(struct host_page_source *hps, long n);

/* Allocations refused so far (injected or out of memory). */
unsigned long host_page_source_failures(struct host_page_source *hps);

/* Does @addr lie in the DMA zone? */
bool host_page_source_is_dma(struct host_page_source *hps, const void *addr);

#endif
