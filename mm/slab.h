/* SPDX-License-Identifier: MIT */
/*
 * mm/slab.h - SLUB-style object caches over a page source (page_source.h).
 *
 * Each cache hands out objects of one size from slabs (naturally aligned
 * blocks of 2^order pages). Every CPU (mm_cpu_id()) has a bounded object
 * cache (an array of free objects: alloc pops, free pushes) in front of an
 * active slab whose freelist only it touches, so the fast paths take no
 * lock and no atomic; frees that find the object cache full and are not for
 * the active slab go to the slab's own freelist under the cache lock.
 * Slabs that are not active sit on the cache's partial or full list.
 *
 * Not interrupt-safe: a CPU must not re-enter the allocator for the same cache
 * from an interrupt handler (the guest runs no allocator at interrupt level).
 * Freestanding; errors are negative errno values. See docs/slab.md.
 */
#ifndef MM_SLAB_H
#define MM_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "fmt.h"
#include "gfp.h"
#include "page_source.h"

/* kmem_cache_create() flags. */
#define SLAB_RED_ZONE	   (1u << 0) /* guard bytes after each object */
#define SLAB_POISON	   (1u << 1) /* fill free objects, check at alloc */
#define SLAB_STORE_USER	   (1u << 2) /* remember last alloc/free caller */
#define SLAB_HWCACHE_ALIGN (1u << 3) /* align objects to cache lines */
#define SLAB_CACHE_DMA	   (1u << 4) /* slabs from __GFP_DMA pages */
#define SLAB_DEBUG_FLAGS   (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)

#define SLAB_MIN_ALIGN	   8  /* ARCH_SLAB_MINALIGN */
#define SLAB_MAX_ORDER	   3  /* slub_max_order */
#define SLAB_NAME_LEN	   32 /* names are copied, truncated to this */

/* Poison and red zone bytes, as Linux's (so dumps read the same). */
#define SLAB_POISON_FREE  0x6b
#define SLAB_POISON_END	  0xa5
#define SLAB_RED_INACTIVE 0xbb
#define SLAB_RED_ACTIVE	  0xcc

struct kmem_cache;

struct kmem_cache_stats {
	unsigned long
		active_objs;	/* objects allocated (cpu slabs: see below) */
	unsigned long num_objs; /* objects in all slabs */
	unsigned long num_slabs;
	unsigned long nr_partial;
	unsigned long nr_full;
	unsigned long nr_cpu_slabs;
	/*
	 * Objects in the CPUs' object caches (counted in active_objs; other
	 * CPUs' counts are a snapshot) and the per-CPU bound (0: none).
	 */
	unsigned long cpu_cached;
	unsigned long cpu_cache_pages; /* of their pointer arrays */
	unsigned int cpu_cache_limit;
	unsigned int object_size; /* as requested */
	unsigned int size;	  /* stride, with metadata and alignment */
	unsigned int objperslab;
	unsigned int pagesperslab;
};

/**
 * slab_init() - set up the slab layer over @ps.
 * @ps: the page source; must outlive the slab layer (until slab_exit()).
 * @nr_cpus: CPUs that will use the caches (sizes slabs as SLUB does from
 *           nr_cpu_ids); 0 means MM_NR_CPUS.
 * Creates the boot caches "kmem_cache" and "kmem_slab".
 * Return: 0, -EBUSY if already initialised, -EINVAL on a bad @ps.
 */
int slab_init(const struct page_source *ps, unsigned int nr_cpus);

/**
 * slab_exit() - tear the slab layer down, returning every page to the source.
 * Precondition: no other thread uses any cache.
 * Return: 0, or -EBUSY (logged) if a cache other than the boot caches still
 * exists; then nothing is torn down.
 */
int slab_exit(void);

/* The page source given to slab_init(), or NULL before it. */
const struct page_source *slab_page_source(void);

/**
 * kmem_cache_create() - create a cache of @size-byte objects.
 * @name: copied (truncated to SLAB_NAME_LEN - 1 characters).
 * @align: 0 or a power of two <= page size; objects are aligned to at least
 *         SLAB_MIN_ALIGN.
 * @flags: SLAB_* above.
 * @ctor: called on every object when its slab is created (not on each
 *        alloc): freed objects must be returned in their constructed state.
 * Return: the cache (free it with kmem_cache_destroy()), or NULL (logged) on
 * bad arguments or no memory.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, unsigned int flags,
				     void (*ctor)(void *));

/**
 * kmem_cache_destroy() - destroy a cache. NULL is a no-op.
 * Precondition: no other thread uses the cache.
 * Return: 0, or -EBUSY if objects are still allocated: they are reported by
 * cache name and count (and the first addresses), and the cache stays alive
 * so that they may still be freed and the destroy retried.
 */
int kmem_cache_destroy(struct kmem_cache *s);

/**
 * kmem_cache_alloc() - allocate one object.
 * @gfp: passed to the page source when a new slab is needed; __GFP_ZERO
 *       zeroes the object.
 * Return: the object (give it back with kmem_cache_free()), or NULL.
 */
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t gfp);

/**
 * kmem_cache_free() - give back an object from kmem_cache_alloc(@s). Any
 * thread may free any object. A pointer that is not an allocated object of @s
 * (NULL excepted, a no-op) is reported and the free refused; debug caches
 * also catch double frees and misaligned pointers.
 */
void kmem_cache_free(struct kmem_cache *s, void *obj);

/**
 * kmem_cache_shrink() - drain this CPU's object cache, deactivate its slab
 * and give every empty slab on the partial list back to the page source.
 * Safe at any time.
 * Return: the number of slabs released.
 */
int kmem_cache_shrink(struct kmem_cache *s);

/*
 * Drain the calling CPU's object cache (objects back to their slabs, array
 * freed) and deactivate its active slab (its objects become counted).
 */
void kmem_cache_flush_cpu(struct kmem_cache *s);

/**
 * kmem_cache_flush_all() - kmem_cache_flush_cpu() for every CPU, so that
 * statistics are exact. Precondition: no other thread uses @s (as for
 * Linux's flush_all() by IPI: here there is nobody to interrupt).
 */
void kmem_cache_flush_all(struct kmem_cache *s);

/**
 * slab_shrink_cpu_caches() - memory pressure: kmem_cache_shrink() every
 * cache for the calling CPU (its object caches, batches and stashes drained,
 * empty slabs back to the page source). The slab layer calls it itself when
 * the page source fails a new slab, then retries once.
 * Return: objects drained plus slabs released (0: nothing to give back).
 */
int slab_shrink_cpu_caches(void);

/**
 * kmem_cache_check() - verify the cache's invariants: list membership and
 * counts, every freelist (within its slab, on object boundaries, no cycle),
 * frame slots, and for debug caches the poison and red zones of each object.
 * The calling CPU's active freelist is checked; other CPUs' are not (they
 * belong to running threads). Problems are logged.
 * Return: 0 or -EUCLEAN.
 */
int kmem_cache_check(struct kmem_cache *s);

/*
 * Statistics as /proc/slabinfo shows them: objects of active (per-CPU) slabs
 * count as allocated except those freed by other CPUs; exact after
 * kmem_cache_flush_all().
 */
void kmem_cache_get_stats(struct kmem_cache *s, struct kmem_cache_stats *st);
const char *kmem_cache_name(const struct kmem_cache *s);
size_t kmem_cache_size(const struct kmem_cache *s); /* object size */

/**
 * slabinfo_format() - append /proc/slabinfo (version 2.1) for every cache.
 * Return: 0, or -ENOSPC if @b was truncated.
 */
int slabinfo_format(struct mm_buf *b);

/* For kmalloc (mm-internal). */
void *kmem_cache_alloc_caller(struct kmem_cache *s, gfp_t gfp,
			      uintptr_t caller);
void kmem_cache_free_caller(struct kmem_cache *s, void *obj, uintptr_t caller);
/* The cache of the slab whose frame slot holds @slot, or NULL. */
struct kmem_cache *kmem_slot_cache(uintptr_t slot);
/* Free @obj of the slab whose frame slot holds @slot (a slab pointer). */
void kmem_slot_free(uintptr_t slot, void *obj, uintptr_t caller);

/*
 * Frame slot values: a slab pointer (32-byte aligned, low bit 0) whose bits
 * 1..4 carry its cache's slot tag (0: none; kmalloc tags its normal classes
 * with their index, so that kfree finds the cache without loading the slab
 * descriptor), 0 for a frame the slab layer does not hold, or
 * SLAB_SLOT_LARGE(order) on the first frame of a kmalloc allocation served
 * straight from the page source.
 */
#define SLAB_SLOT_LARGE(order) (((uintptr_t)(order) << 1) | 1u)
#define SLAB_SLOT_IS_LARGE(v)  (((v)&1u) != 0)
#define SLAB_SLOT_ORDER(v)     ((unsigned int)((v) >> 1))
#define SLAB_SLOT_TAG_MAX      15u
#define SLAB_SLOT_TAG(v)       ((unsigned int)((v) >> 1) & SLAB_SLOT_TAG_MAX)
#define SLAB_SLOT_PTR_MASK     (~(uintptr_t)31)

/*
 * kmalloc: tag @s's slabs' frame slots with @tag (1..SLAB_SLOT_TAG_MAX), so
 * that a slot names the cache by itself. Only before @s has a slab.
 * Return: 0, or -EINVAL (bad tag, or @s already has slabs).
 */
int kmem_cache_set_slot_tag(struct kmem_cache *s, unsigned int tag);

#endif /* MM_SLAB_H */
