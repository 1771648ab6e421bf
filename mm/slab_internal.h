/* SPDX-License-Identifier: MIT */
/*
 * mm/slab_internal.h - the slab layer's private structures and the helpers
 * its two files share: slab.c (caches, slabs, the allocation and free paths,
 * sizing, life cycle, statistics) and slab_debug.c (red zone, poison,
 * store-user, kmem_cache_check()). Nothing outside mm/ includes this.
 */
#ifndef MM_SLAB_INTERNAL_H
#define MM_SLAB_INTERNAL_H

#include "port.h"
#include "slab.h"

#define SLAB_ALIGN_UP(x, a) (((x) + (a)-1) & ~((uintptr_t)(a)-1))
/* Objects per slab never exceed this (order 3 of 8-byte objects). */
#define SLAB_MAX_OBJECTS  ((PS_PAGE_SIZE << SLAB_MAX_ORDER) / SLAB_MIN_ALIGN)
#define SLAB_BITMAP_WORDS (SLAB_MAX_OBJECTS / 64)
#define SLAB_CACHE_LINE	  64

struct slab_node {
	struct slab_node *next, *prev;
};

#define slab_container_of(ptr, type, member)                                   \
	((type *)((char *)(ptr)-offsetof(type, member)))

enum slab_list {
	SLAB_ON_NONE,
	SLAB_ON_PARTIAL,
	SLAB_ON_FULL,
	SLAB_ON_CPU,
};

struct slab {
	struct slab_node node; /* on one of the cache's lists */
	struct kmem_cache *cache;
	char *mem;	/* the block from the page source */
	char *base;	/* first object */
	void *freelist; /* free objects not owned by a CPU; under lock */
	struct slab *next_empty; /* on a CPU's empty stash */
	unsigned int inuse;
	unsigned int objects;
	unsigned char list;   /* enum slab_list */
	unsigned char leaked; /* objects cut off a corrupted freelist */
};

/*
 * The layout of an object of a debug cache (slab_calculate_sizes()):
 *
 *   [0, object_size)          the object; POISON_FREE..POISON_END when free
 *   [object_size, inuse)      red zone: RED_ACTIVE when allocated, else
 *                             RED_INACTIVE (at least 8 bytes if the object
 *                             size is a multiple of 8)
 *   [offset, offset + 8)      free pointer (== inuse for debug/ctor caches)
 *   [track_offset, +32)       SLAB_STORE_USER: alloc track, free track
 *   padding to the alignment
 */

/* SLAB_STORE_USER: who last allocated / freed an object. */
struct slab_track {
	uintptr_t addr;
	unsigned int cpu;
	unsigned int pad;
};

/*
 * One per CPU per cache, owned by the thread holding that mm_cpu_id().
 * batch[] holds objects this CPU freed that are not of its active slab: they
 * go back to their slabs SLAB_CPU_BATCH at a time under one lock (Linux's
 * SLAB array caches and SLUB's sheaves do the same), and allocation reuses
 * them first. Like the per-CPU freelist they count as allocated until
 * flushed.
 */
#define SLAB_CPU_BATCH 16

/*
 * Most pages of empty slabs one CPU keeps per cache (beyond the cache's
 * min_partial) so that a burst of frees followed by a burst of allocations
 * reuses its slabs instead of giving them back to the page source and
 * building them again (SLUB's per-CPU partial slabs serve the same purpose).
 * They are released by kmem_cache_flush_cpu/_all() and kmem_cache_shrink().
 */
#define SLAB_CPU_EMPTY_PAGES 512

/*
 * A run of frees to one slab that is not the active one (a batch freed in
 * allocation order, LIFO or FIFO) is chained locklessly into the per-CPU
 * detached freelist df_* (SLUB's build_detached_freelist idea), and goes back
 * to its slab in one splice when the run ends. A run shorter than this when
 * the next slab's object comes in takes the batch instead, so that random
 * frees do not take the lock once each.
 */
#define SLAB_DF_MIN_RUN 4

/*
 * The per-CPU object cache (a "magazine", as Bonwick's and tcmalloc's
 * per-CPU caches): a LIFO array of free objects of any slab of the cache,
 * in front of everything else. Alloc pops and free pushes a pointer, with
 * no lock, no atomic, and without touching the object or its slab, so a
 * burst of frees followed by a burst of allocations (the kmalloc random
 * pattern) never reaches the slabs. Its objects count as allocated (slab
 * inuse), like the per-CPU freelist's.
 *
 * Bounded: a cache's array starts at SLAB_MAG_MIN_OBJS when a CPU first
 * frees to it and doubles when it overflows, up to s->mag_max objects
 * (SLAB_MAG_MAX_OBJS, and SLAB_MAG_CPU_BYTES of objects), while the
 * capacity of all caches' arrays of one CPU stays within SLAB_MAG_CPU_BYTES
 * of objects. A free that finds the array full and no room to grow takes the
 * slab path below. Drained (objects back to their slabs, array freed) by
 * kmem_cache_flush_cpu/_all(), kmem_cache_shrink(), kmem_cache_destroy(),
 * slab_shrink_cpu_caches(), and when the page source fails a slab
 * allocation. Debug caches and the boot caches have none (s->mag_max 0).
 */
#define SLAB_MAG_MIN_OBJS  (PS_PAGE_SIZE / sizeof(void *))
#define SLAB_MAG_MAX_OBJS  8192u
#define SLAB_MAG_CPU_BYTES (8ul << 20)

struct kmem_cache_cpu {
	void **mag;	      /* object cache: mag[0, mag_nr) */
	unsigned int mag_nr;  /* objects in it */
	unsigned int mag_cap; /* its capacity (objects), 0: none yet */
	void *freelist;
	struct slab *slab;
	unsigned int mag_order; /* of the array's block */
	struct slab *df_slab;	/* detached freelist: objects of df_slab */
	void *df_head, *df_tail;
	unsigned int df_count;
	unsigned int nr_batch;
	unsigned int nr_empty_pages; /* in the empty stash */
	struct slab *empty;	     /* stash of empty slabs; under lock */
	void *batch[SLAB_CPU_BATCH];
	/* batch[i]'s slab, known at free: the drain need not look it up. */
	struct slab *batch_slab[SLAB_CPU_BATCH];
} __attribute__((aligned(SLAB_CACHE_LINE)));

struct kmem_cache {
	/* Read by the fast paths. */
	unsigned int size;   /* stride */
	unsigned int offset; /* of the free pointer */
	unsigned int flags;
	unsigned int object_size;
	void (*ctor)(void *);
	/* Layout and sizing (fixed after creation). */
	unsigned int inuse;	   /* end of object and red zone */
	unsigned int track_offset; /* SLAB_STORE_USER: two slab_tracks */
	unsigned int align;
	unsigned int order;
	unsigned int objects;  /* per slab */
	unsigned int hdr_size; /* descriptor at the slab's start; 0: off-slab */
	unsigned long min_partial;
	unsigned int mag_max;  /* per-CPU object cache bound; 0: none */
	unsigned int slot_tag; /* in its slabs' frame slots (slab.h) */
	gfp_t alloc_gfp;       /* added to page source requests (__GFP_DMA) */
	/* Lists, under lock. */
	struct mm_lock lock;
	struct slab_node partial, full, cpu_slabs;
	unsigned long nr_partial, nr_full, nr_cpu_slabs;
	struct slab_node cache_node; /* on slab_caches */
	char name[SLAB_NAME_LEN];
	struct kmem_cache_cpu cpu[MM_NR_CPUS];
};

static inline void *get_fp(const struct kmem_cache *s, const void *obj)
{
	return *(void *const *)((const char *)obj + s->offset);
}

static inline void set_fp(const struct kmem_cache *s, void *obj, void *next)
{
	*(void **)((char *)obj + s->offset) = next;
}

/* The slab @obj belongs to (its frame slot in @ps), or NULL. */
static inline struct slab *slab_of_obj(const struct page_source *ps,
				       const void *obj)
{
	uintptr_t *slot = page_source_slot(ps, obj);
	uintptr_t v;

	if (!slot)
		return NULL;
	v = *slot;
	if (!v || SLAB_SLOT_IS_LARGE(v))
		return NULL;
	return (struct slab *)(v & SLAB_SLOT_PTR_MASK);
}

/* Is @p the start of one of @slab's objects? */
static inline bool slab_valid_obj(const struct kmem_cache *s,
				  const struct slab *slab, const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)slab->base;

	return (uintptr_t)p >= (uintptr_t)slab->base &&
	       off < (uintptr_t)slab->objects * s->size && off % s->size == 0;
}

static inline unsigned int slab_obj_index(const struct kmem_cache *s,
					  const struct slab *slab,
					  const void *p)
{
	return (unsigned int)(((uintptr_t)p - (uintptr_t)slab->base) / s->size);
}

#ifdef MM_DEBUG
/* @obj, just popped off a CPU's object cache, is an object of @s. */
void slab_debug_check_mag_obj(const struct kmem_cache *s, const void *obj);
#else
static inline void slab_debug_check_mag_obj(const struct kmem_cache *s,
					    const void *obj)
{
}
#endif

/*
 * The object cache's fast paths, inlined by slab.c and kmalloc.c. Debug
 * caches never get an array (mag_cap stays 0), so they always fall through
 * to the caller's slow path: no flag test here.
 */
static inline void *slab_mag_pop(struct kmem_cache *s)
{
	unsigned int cpu = mm_cpu_id_peek(), n;
	struct kmem_cache_cpu *c;
	void *obj;

	if (mm_unlikely(cpu >= MM_NR_CPUS))
		return NULL;
	c = &s->cpu[cpu];
	n = c->mag_nr;
	if (mm_unlikely(!n))
		return NULL;
	obj = c->mag[--n];
	c->mag_nr = n;
	slab_debug_check_mag_obj(s, obj);
	return obj;
}

static inline bool slab_mag_push(struct kmem_cache *s, void *obj)
{
	unsigned int cpu = mm_cpu_id_peek(), n;
	struct kmem_cache_cpu *c;

	if (mm_unlikely(cpu >= MM_NR_CPUS))
		return false;
	c = &s->cpu[cpu];
	n = c->mag_nr;
	if (mm_unlikely(n >= c->mag_cap))
		return false;
	c->mag[n] = obj;
	c->mag_nr = n + 1;
	return true;
}

/* slab.c, for the debug caches' paths in slab_debug.c. */
struct slab *slab_new(struct kmem_cache *s, gfp_t gfp);
void slab_discard(struct kmem_cache *s, struct slab *slab);
void __slab_list_set(struct kmem_cache *s, struct slab *slab,
		     enum slab_list to);
struct slab *__slab_first(struct slab_node *head);
struct slab *__slab_after_free(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       struct slab *slab);

#endif /* MM_SLAB_INTERNAL_H */
