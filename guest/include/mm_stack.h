/* SPDX-License-Identifier: MIT */
/*
 * guest/include/mm_stack.h - the guest's memory stack (guest/mm_stack.c):
 * the slab layer's page source, slab and kmalloc, and the statistics the
 * guest publishes, in both memory models.
 */
#ifndef GUEST_MM_STACK_H
#define GUEST_MM_STACK_H

#include "mm/page_source.h"

/**
 * guest_mm_init() - build the guest's memory stack bottom-up: in the hosted
 * model pv_init() and page_cache_init(), in the native model
 * native_mm_init(); then the frame slot table covering RAM (size from the
 * FDT /memory nodes), the statistics block, slab_init() and kmalloc_init()
 * over guest_page_source. Idempotent; on vCPU 0.
 * Return: 0 or a negative error from the first layer that failed.
 */
int guest_mm_init(void);

/* The slab layer's page source (valid after guest_mm_init()). */
extern struct page_source guest_page_source;

/**
 * guest_mm_publish() - send slabinfo 2.1, kmalloc class usage and the page
 * cache counters to the VMM (BVM_DEBUG_GUEST_STATS), which keeps the latest
 * copy for --stats and the control API. One VM exit.
 */
void guest_mm_publish(void);

/* Print the slab caches that hold objects (slabinfo 2.1 lines). */
void guest_mm_print_slabinfo(void);

#endif /* GUEST_MM_STACK_H */
