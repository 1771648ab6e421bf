/* SPDX-License-Identifier: MIT */
/*
 * mm/slab_debug.h - what slab.c calls in slab_debug.c: the per-object debug
 * bytes and the locked paths of caches created with SLAB_DEBUG_FLAGS, and the
 * MM_DEBUG invariant checks. Internal to mm/.
 */
#ifndef MM_SLAB_DEBUG_H
#define MM_SLAB_DEBUG_H

#include <stdint.h>

#include "gfp.h"
#include "slab_internal.h"

/* A new slab's object of a debug cache: poison, red zone, empty tracks. */
void slab_debug_init_object(const struct kmem_cache *s, void *obj);
/* SLAB_STORE_USER: who last allocated @obj (0 if the cache does not know). */
uintptr_t slab_debug_alloc_caller(const struct kmem_cache *s, void *obj);
/* Allocate from a debug cache: under s->lock, checking the object. */
void *slab_alloc_debug(struct kmem_cache *s, gfp_t gfp, uintptr_t caller);
/* Free @obj of @slab to a debug cache: refuses double and bad frees. */
void slab_free_debug(struct kmem_cache *s, struct slab *slab, void *obj,
		     uintptr_t caller);

/*
 * MM_DEBUG builds check the slab layer's own invariants on its fast paths
 * (a broken one panics through MM_BUG_ON); other builds compile these to
 * nothing. They check the allocator, not its callers: what a caller can get
 * wrong is for the debug caches above to report.
 */
#ifdef MM_DEBUG
/* @obj, just popped off @c's freelist, is an object of @c's active slab. */
void slab_debug_check_cpu_obj(const struct kmem_cache *s,
			      const struct kmem_cache_cpu *c, const void *obj);
/* @slab of @s may go on list @to: full slabs have no free object, etc. */
void slab_debug_check_move(const struct kmem_cache *s, const struct slab *slab,
			   enum slab_list to);
#else
static inline void slab_debug_check_cpu_obj(const struct kmem_cache *s,
					    const struct kmem_cache_cpu *c,
					    const void *obj)
{
}

static inline void slab_debug_check_move(const struct kmem_cache *s,
					 const struct slab *slab,
					 enum slab_list to)
{
}
#endif

#endif /* MM_SLAB_DEBUG_H */
