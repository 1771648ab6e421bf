/* SPDX-License-Identifier: MIT */
/*
 * mm/slab_debug.h - what slab.c calls in slab_debug.c: the per-object debug
 * bytes and the locked paths of caches created with SLAB_DEBUG_FLAGS.
 * Internal to mm/.
 */
#ifndef MM_SLAB_DEBUG_H
#define MM_SLAB_DEBUG_H

#include <stdint.h>

#include "gfp.h"

struct kmem_cache;
struct slab;

/* A new slab's object of a debug cache: poison, red zone, empty tracks. */
void slab_debug_init_object(const struct kmem_cache *s, void *obj);
/* SLAB_STORE_USER: who last allocated @obj (0 if the cache does not know). */
uintptr_t slab_debug_alloc_caller(const struct kmem_cache *s, void *obj);
/* Allocate from a debug cache: under s->lock, checking the object. */
void *slab_alloc_debug(struct kmem_cache *s, gfp_t gfp, uintptr_t caller);
/* Free @obj of @slab to a debug cache: refuses double and bad frees. */
void slab_free_debug(struct kmem_cache *s, struct slab *slab, void *obj,
		     uintptr_t caller);

#endif /* MM_SLAB_DEBUG_H */
