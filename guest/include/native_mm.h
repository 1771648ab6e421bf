/* SPDX-License-Identifier: MIT */
/*
 * guest/include/native_mm.h - the native memory model in the guest: the
 * guest owns all RAM its FDT /memory nodes name and runs mm/'s buddy
 * allocator over it itself, as a Linux guest would. The slab layer's page
 * source (guest/mm_stack.c) draws from here instead of the pvmem device.
 */
#ifndef GUEST_NATIVE_MM_H
#define GUEST_NATIVE_MM_H

#include <stdint.h>

#include "mm/gfp.h"
#include "mm/mm.h"

/**
 * native_mm_init() - build the guest's mm instance over its RAM: metadata
 * carved from RAM right after the kernel image; [0, end of metadata) is
 * FRAME_RESERVED (boot data, image, metadata), everything else FREE.
 * Idempotent; vCPU 0, before any other allocation.
 * Return: 0, -EINVAL (no usable /memory node) or mm_init()'s error.
 */
int native_mm_init(void);

/* The instance (NULL before native_mm_init()). */
struct mm *native_mm(void);

/*
 * The CMA area native_mm_init() reserved for cma=SIZE[@ZONE] (vmm run
 * --cma), for large DMA buffers (guest/dma.c); -1: none.
 */
int native_mm_cma(void);

/*
 * A naturally aligned block of 2^@order frames honouring @gfp's zone bits
 * and __GFP_ZERO, identity-mapped; NULL when the buddy has none.
 */
void *native_mm_alloc(gfp_t gfp, unsigned order);

/*
 * Free page reporting bookkeeping, per 2 MiB chunk: mark [pfn, pfn + nr)
 * reported; are all its chunks still reported (none allocated since)?
 * Atomic bits: allocations on any vCPU clear them.
 */
void native_mm_set_chunk_reported(uint64_t pfn, uint64_t nr);
bool native_mm_chunk_reported(uint64_t pfn, uint64_t nr);

/* Give back a block from native_mm_alloc() with its order; 0 or -errno. */
int native_mm_free(void *addr, unsigned order);

#endif /* GUEST_NATIVE_MM_H */
