/* SPDX-License-Identifier: MIT */
/*
 * mm/mempool.h - a reserve of pre-allocated elements that guarantees
 * forward progress when the underlying allocator fails (Linux's mempool).
 *
 * mempool_alloc() first asks the allocator (without letting it try hard);
 * if that fails it hands out a reserved element. mempool_free() refills the
 * reserve before giving elements back to the allocator.
 *
 * There is no sleeping in this kernel: where Linux would wait for an element
 * to be freed when the reserve is empty and @gfp allows blocking
 * (__GFP_DIRECT_RECLAIM), mempool_alloc() retries the allocator once with
 * the caller's full @gfp and then returns NULL. Callers that must not fail
 * size min_nr for their worst case.
 *
 * Thread-safe. The pool structure and its element array come from kmalloc,
 * so kmalloc_init() must have run.
 */
#ifndef MM_MEMPOOL_H
#define MM_MEMPOOL_H

#include <stddef.h>

#include "gfp.h"
#include "port.h"

struct kmem_cache;

typedef void *(mempool_alloc_t)(gfp_t gfp, void *pool_data);
typedef void(mempool_free_t)(void *element, void *pool_data);

struct mempool {
	struct mm_lock lock;
	int min_nr;  /* reserve target */
	int curr_nr; /* elements in the reserve now */
	void **elements;
	void *pool_data;
	mempool_alloc_t *alloc;
	mempool_free_t *free;
};

/**
 * mempool_create() - a pool whose reserve is filled with @min_nr elements
 * from @alloc_fn (called with GFP_KERNEL).
 * Return: the pool (free with mempool_destroy()), or NULL if @min_nr < 0, a
 * callback is NULL, or memory runs out while filling the reserve.
 */
struct mempool *mempool_create(int min_nr, mempool_alloc_t *alloc_fn,
			       mempool_free_t *free_fn, void *pool_data);

/**
 * mempool_destroy() - free the reserved elements (through free_fn), the
 * element array and the pool. NULL is a no-op.
 * Precondition: every element taken from the pool was given back with
 * mempool_free() (elements still out are the caller's to free with the
 * allocator directly; the pool cannot tell them apart).
 */
void mempool_destroy(struct mempool *pool);

/**
 * mempool_alloc() - an element: from the allocator, else from the reserve.
 * Return: the element (give it back with mempool_free()) or NULL (see the
 * note on blocking above).
 */
void *mempool_alloc(struct mempool *pool, gfp_t gfp);

/* Give back @element: into the reserve if it is short, else to free_fn. */
void mempool_free(void *element, struct mempool *pool);

/**
 * mempool_resize() - change the reserve target to @new_min_nr. Shrinking
 * frees surplus reserved elements; growing allocates the missing ones now
 * (GFP_KERNEL).
 * Return: 0, -EINVAL (@new_min_nr <= 0) or -ENOMEM (the pool is unchanged).
 */
int mempool_resize(struct mempool *pool, int new_min_nr);

/* Elements in the reserve now. */
int mempool_reserve_count(struct mempool *pool);

/* Backends: pool_data is the cache, the size, or the page order. */
void *mempool_alloc_slab(gfp_t gfp, void *pool_data);
void mempool_free_slab(void *element, void *pool_data);
void *mempool_kmalloc(gfp_t gfp, void *pool_data);
void mempool_kfree(void *element, void *pool_data);
void *mempool_alloc_pages(gfp_t gfp, void *pool_data);
void mempool_free_pages(void *element, void *pool_data);

struct mempool *mempool_create_slab_pool(int min_nr, struct kmem_cache *cache);
struct mempool *mempool_create_kmalloc_pool(int min_nr, size_t size);
/* Blocks of 2^@order pages from the slab layer's page source. */
struct mempool *mempool_create_page_pool(int min_nr, unsigned int order);

#endif /* MM_MEMPOOL_H */
