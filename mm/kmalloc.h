/* SPDX-License-Identifier: MIT */
/*
 * mm/kmalloc.h - general-purpose allocation on top of the slab layer.
 *
 * Sizes up to 8 KiB come from the size classes kmalloc-8 ... kmalloc-8k
 * (with kmalloc-96 and kmalloc-192, chosen as Linux's size_index table
 * does); GFP_DMA requests from the matching dma-kmalloc-* cache, created on
 * first use, whose slabs are __GFP_DMA pages. Larger sizes are a block
 * straight from the page source, whose order is kept in the first frame's
 * slot so kfree() knows. Power-of-two sizes are aligned to their size (up to
 * the page size); every object to at least 8 bytes.
 *
 * kmalloc(0) returns ZERO_SIZE_PTR (not NULL, not dereferenceable), which
 * kfree() and krealloc() accept, as in Linux.
 */
#ifndef MM_KMALLOC_H
#define MM_KMALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "gfp.h"
#include "page_source.h"

#define KMALLOC_SHIFT_HIGH     13
#define KMALLOC_MAX_CACHE_SIZE (1ul << KMALLOC_SHIFT_HIGH) /* 8 KiB */
#define KMALLOC_MAX_SIZE       (PS_PAGE_SIZE << MAX_PAGE_ORDER)
#define KMALLOC_NR_CLASSES     (KMALLOC_SHIFT_HIGH + 1) /* index 0 unused */

#define ZERO_SIZE_PTR	       ((void *)16)
#define ZERO_OR_NULL_PTR(x)    ((uintptr_t)(x) <= (uintptr_t)ZERO_SIZE_PTR)

struct kmem_cache;

/**
 * kmalloc_init() - create the kmalloc caches over @ps.
 * @ps: must be the slab layer's page source; if the slab layer is not yet
 *      set up, kmalloc_init() does it (slab_init(@ps, 0)) and kmalloc_exit()
 *      undoes it.
 * @slab_flags: added to every kmalloc cache (SLAB_RED_ZONE, SLAB_POISON,
 *              SLAB_STORE_USER: Linux's slub_debug boot option).
 * Return: 0, -EBUSY (already set up), -EINVAL (another page source) or
 * -ENOMEM.
 */
int kmalloc_init(const struct page_source *ps, unsigned int slab_flags);

/**
 * kmalloc_exit() - destroy the kmalloc caches.
 * Precondition: no other thread uses kmalloc.
 * Return: 0, or -EBUSY if allocations are outstanding (each class with
 * objects left is logged); then nothing is destroyed.
 */
int kmalloc_exit(void);

/**
 * kmalloc() - allocate @size bytes.
 * @gfp: zone bits pick the DMA caches / pages; __GFP_ZERO zeroes.
 * Return: memory to give back with kfree(); ZERO_SIZE_PTR for size 0; NULL
 * if out of memory, @size > KMALLOC_MAX_SIZE or @gfp has unknown bits.
 */
void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);

/* kmalloc(@n * @size); NULL if the product overflows. */
void *kmalloc_array(size_t n, size_t size, gfp_t gfp);
/* As kmalloc_array(), zeroed. */
void *kcalloc(size_t n, size_t size, gfp_t gfp);

/**
 * krealloc() - resize @p to @new_size bytes, keeping its contents (up to the
 * smaller size). In place when ksize(@p) suffices; otherwise a new object,
 * and @p is freed. @p NULL: as kmalloc(). @new_size 0: frees @p and returns
 * ZERO_SIZE_PTR.
 * Return: the object, or NULL on failure (then @p is untouched and still
 * owned by the caller).
 */
void *krealloc(const void *p, size_t new_size, gfp_t gfp);

/* A kmalloc'ed copy of @len bytes at @src, or NULL. */
void *kmemdup(const void *src, size_t len, gfp_t gfp);

/* Usable size of @p (>= what was asked); 0 for NULL/ZERO_SIZE_PTR or a
 * pointer kmalloc did not return (logged). */
size_t ksize(const void *p);

/*
 * kfree() - free memory from kmalloc() (or any slab cache). NULL and
 * ZERO_SIZE_PTR are no-ops; a pointer that is not one is logged and refused.
 */
void kfree(const void *p);

/* The cache kmalloc(@size, @gfp) would use; NULL above 8 KiB. */
struct kmem_cache *kmalloc_cache(size_t size, gfp_t gfp);

/**
 * kmalloc_usage_format() - a per-class report for the guest's statistics:
 * for every class (and created DMA class) its object size, objects in use,
 * objects in slabs, slabs and bytes of pages; and the large allocations.
 * Return: 0, or -ENOSPC if @b was truncated.
 */
int kmalloc_usage_format(struct mm_buf *b);

#endif /* MM_KMALLOC_H */
