// SPDX-License-Identifier: MIT
/* mm/mempool.c - reserved-element pools (see mempool.h). */
#include "mempool.h"

#include "errno.h"
#include "kmalloc.h"
#include "page_source.h"
#include "slab.h"

/* Fill the reserve up to min_nr; -ENOMEM if the allocator runs dry. */
static int mempool_fill(struct mempool *pool)
{
	while (pool->curr_nr < pool->min_nr) {
		void *e = pool->alloc(GFP_KERNEL, pool->pool_data);

		if (!e)
			return -ENOMEM;
		pool->elements[pool->curr_nr++] = e;
	}
	return 0;
}

struct mempool *mempool_create(int min_nr, mempool_alloc_t *alloc_fn,
			       mempool_free_t *free_fn, void *pool_data)
{
	struct mempool *pool;

	if (min_nr < 0 || !alloc_fn || !free_fn)
		return NULL;
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return NULL;
	/* At least one slot, so that a later resize has an array to swap. */
	pool->elements = kmalloc_array((size_t)MM_MAX(min_nr, 1),
				       sizeof(void *), GFP_KERNEL);
	if (!pool->elements) {
		kfree(pool);
		return NULL;
	}
	mm_lock_init(&pool->lock);
	pool->min_nr = min_nr;
	pool->pool_data = pool_data;
	pool->alloc = alloc_fn;
	pool->free = free_fn;
	if (mempool_fill(pool)) {
		mempool_destroy(pool);
		return NULL;
	}
	return pool;
}

void mempool_destroy(struct mempool *pool)
{
	if (!pool)
		return;
	while (pool->curr_nr)
		pool->free(pool->elements[--pool->curr_nr], pool->pool_data);
	kfree(pool->elements);
	kfree(pool);
}

static void *mempool_take_reserved(struct mempool *pool)
{
	void *e = NULL;

	mm_lock(&pool->lock);
	if (pool->curr_nr)
		e = pool->elements[--pool->curr_nr];
	mm_unlock(&pool->lock);
	return e;
}

void *mempool_alloc(struct mempool *pool, gfp_t gfp)
{
	/*
	 * As Linux: the first attempt must not dig deep or warn, since the
	 * reserve is there for exactly this case.
	 */
	gfp_t light =
		(gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY | __GFP_NOWARN;
	void *e = pool->alloc(light, pool->pool_data);

	if (e)
		return e;
	e = mempool_take_reserved(pool);
	if (e)
		return e;
	/* Linux would sleep here until an element is freed; we cannot. */
	if (gfp & __GFP_DIRECT_RECLAIM)
		return pool->alloc(gfp, pool->pool_data);
	return NULL;
}

void mempool_free(void *element, struct mempool *pool)
{
	if (!element)
		return;
	mm_lock(&pool->lock);
	if (pool->curr_nr < pool->min_nr) {
		pool->elements[pool->curr_nr++] = element;
		element = NULL;
	}
	mm_unlock(&pool->lock);
	if (element)
		pool->free(element, pool->pool_data);
}

int mempool_reserve_count(struct mempool *pool)
{
	int n;

	mm_lock(&pool->lock);
	n = pool->curr_nr;
	mm_unlock(&pool->lock);
	return n;
}

static void mempool_shrink(struct mempool *pool, int new_min_nr)
{
	void *surplus[16];
	int n;

	/* Free outside the lock, a batch at a time. */
	do {
		n = 0;
		mm_lock(&pool->lock);
		pool->min_nr = new_min_nr;
		while (pool->curr_nr > new_min_nr &&
		       n < (int)MM_ARRAY_SIZE(surplus))
			surplus[n++] = pool->elements[--pool->curr_nr];
		mm_unlock(&pool->lock);
		while (n)
			pool->free(surplus[--n], pool->pool_data);
	} while (mempool_reserve_count(pool) > new_min_nr);
}

int mempool_resize(struct mempool *pool, int new_min_nr)
{
	void **grown, **old;
	int err = 0;

	if (new_min_nr <= 0)
		return -EINVAL;
	if (new_min_nr <= pool->min_nr) {
		mempool_shrink(pool, new_min_nr);
		return 0;
	}
	grown = kmalloc_array((size_t)new_min_nr, sizeof(void *), GFP_KERNEL);
	if (!grown)
		return -ENOMEM;
	mm_lock(&pool->lock);
	mm_memcpy(grown, pool->elements,
		  (size_t)pool->curr_nr * sizeof(void *));
	old = pool->elements;
	pool->elements = grown;
	mm_unlock(&pool->lock);
	kfree(old);
	/* Fill one at a time outside the lock: alloc may take its own. */
	while (!err) {
		void *e;

		mm_lock(&pool->lock);
		if (pool->curr_nr >= new_min_nr) {
			pool->min_nr = new_min_nr;
			mm_unlock(&pool->lock);
			return 0;
		}
		mm_unlock(&pool->lock);
		e = pool->alloc(GFP_KERNEL, pool->pool_data);
		if (!e) {
			err = -ENOMEM;
			break;
		}
		mm_lock(&pool->lock);
		pool->elements[pool->curr_nr++] = e;
		mm_unlock(&pool->lock);
	}
	/* Leave the pool as it was: free what the growth added. */
	mempool_shrink(pool, pool->min_nr);
	return err;
}

void *mempool_alloc_slab(gfp_t gfp, void *pool_data)
{
	return kmem_cache_alloc(pool_data, gfp);
}

void mempool_free_slab(void *element, void *pool_data)
{
	kmem_cache_free(pool_data, element);
}

void *mempool_kmalloc(gfp_t gfp, void *pool_data)
{
	return kmalloc((size_t)(uintptr_t)pool_data, gfp);
}

void mempool_kfree(void *element, void *pool_data)
{
	kfree(element);
}

void *mempool_alloc_pages(gfp_t gfp, void *pool_data)
{
	const struct page_source *ps = slab_page_source();

	return ps ? page_source_alloc(ps, gfp,
				      (unsigned int)(uintptr_t)pool_data)
		  : NULL;
}

void mempool_free_pages(void *element, void *pool_data)
{
	page_source_free(slab_page_source(), element,
			 (unsigned int)(uintptr_t)pool_data);
}

struct mempool *mempool_create_slab_pool(int min_nr, struct kmem_cache *cache)
{
	return mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab,
			      cache);
}

struct mempool *mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	return mempool_create(min_nr, mempool_kmalloc, mempool_kfree,
			      (void *)(uintptr_t)size);
}

struct mempool *mempool_create_page_pool(int min_nr, unsigned int order)
{
	if (order > MAX_PAGE_ORDER)
		return NULL;
	return mempool_create(min_nr, mempool_alloc_pages, mempool_free_pages,
			      (void *)(uintptr_t)order);
}
