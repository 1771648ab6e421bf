// SPDX-License-Identifier: MIT
/*
 * mm/slab.c - SLUB-style object caches: slabs and the cache's lists, the
 * allocation and free paths with their per-CPU freelists, batches and
 * stashes, sizing, the cache life cycle and statistics. Freestanding (see
 * port.h). The red zone, poison, store-user and validation code is in
 * slab_debug.c; the structures both share are in slab_internal.h.
 *
 * A slab is a naturally aligned block of 2^order pages cut into objects of
 * s->size bytes; free objects are chained through a free pointer stored at
 * s->offset inside (or, for debug and ctor caches, after) each object. The
 * slab's descriptor, struct slab, lives in the "kmem_slab" boot cache (only
 * kmem_slab's own slabs carry their descriptor in their first bytes), so that
 * objects per slab come out as SLUB's: a kmalloc-4k slab holds 8 objects, not
 * 7. Every frame of a slab has its frame slot (page_source.h) pointing at the
 * descriptor, which is how a free finds its slab.
 *
 * Every slab is on exactly one list of its cache, under s->lock:
 *   cpu      some CPU's active ("frozen") slab. The CPU owns the slab's
 *            objects that were free when it took the slab, as the lockless
 *            per-CPU freelist c->freelist, which only it touches;
 *            slab->freelist then collects frees from other CPUs (and from
 *            this CPU when they are not for its active slab).
 *   partial  some objects free (on slab->freelist), not active anywhere.
 *   full     no free object.
 * slab->inuse counts the objects NOT on slab->freelist (allocated, or on the
 * owning CPU's freelist); it changes only under s->lock.
 *
 * In front of all this each CPU has an object cache per cache (see
 * slab_internal.h): a bounded LIFO array of free objects, whose objects
 * count in their slab's inuse like those on a CPU's freelist.
 *
 * Debug caches (red zone, poison, store user) keep no active slabs and no
 * object caches: every alloc and free takes the lock, so every object's
 * state can be checked (slab_alloc_debug(), slab_free_debug()).
 */
#include "slab_debug.h"
#include "slab_internal.h"

#define SLAB_VALID_FLAGS                                                       \
	(SLAB_DEBUG_FLAGS | SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA)
/* Most leaked objects kmem_cache_destroy() lists one by one. */
#define SLAB_LEAKS_LISTED 8

static const struct page_source *slab_ps;
static unsigned int slab_nr_cpus;
static bool slab_ready;
static struct mm_lock slab_caches_lock = MM_LOCK_INIT;
static struct slab_node slab_caches;
/* The bootstrap caches (Linux's boot_kmem_cache): static, never freed. */
static struct kmem_cache boot_kmem_cache; /* "kmem_cache" */
static struct kmem_cache boot_kmem_slab;  /* "kmem_slab" */
/* Capacity of each CPU's object caches, in bytes of objects (all caches). */
static atomic_ulong slab_mag_bytes[MM_NR_CPUS];

static inline struct slab *slab_of(const void *obj)
{
	return slab_of_obj(slab_ps, obj);
}

/* ---- small helpers ---- */

static void node_init(struct slab_node *head)
{
	head->next = head;
	head->prev = head;
}

static void node_add(struct slab_node *n, struct slab_node *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static void node_del(struct slab_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

static bool node_empty(const struct slab_node *head)
{
	return head->next == head;
}

static unsigned int slab_fls(unsigned long x)
{
	return x ? 64 - (unsigned int)__builtin_clzl(x) : 0;
}

/* Smallest order whose block holds @size bytes. */
static unsigned int slab_get_order(unsigned long size)
{
	return size <= PS_PAGE_SIZE ? 0 : slab_fls((size - 1) >> PS_PAGE_SHIFT);
}

/* The head and counter of list @l of @s. */
static struct slab_node *slab_list_head(struct kmem_cache *s, enum slab_list l,
					unsigned long **counter)
{
	switch (l) {
	case SLAB_ON_PARTIAL:
		*counter = &s->nr_partial;
		return &s->partial;
	case SLAB_ON_FULL:
		*counter = &s->nr_full;
		return &s->full;
	default:
		*counter = &s->nr_cpu_slabs;
		return &s->cpu_slabs;
	}
}

/* Move @slab to list @to (SLAB_ON_NONE: off every list). Caller holds lock. */
void __slab_list_set(struct kmem_cache *s, struct slab *slab, enum slab_list to)
{
	unsigned long *counter;
	struct slab_node *head;

	slab_debug_check_move(s, slab, to);
	if (slab->list != SLAB_ON_NONE) {
		slab_list_head(s, (enum slab_list)slab->list, &counter);
		node_del(&slab->node);
		(*counter)--;
	}
	slab->list = (unsigned char)to;
	if (to != SLAB_ON_NONE) {
		head = slab_list_head(s, to, &counter);
		node_add(&slab->node, head);
		(*counter)++;
	}
}

static void slab_setup_object(const struct kmem_cache *s, void *obj)
{
	if (s->flags & SLAB_DEBUG_FLAGS)
		slab_debug_init_object(s, obj);
	if (s->ctor)
		s->ctor(obj);
}

/* ---- slabs ---- */

struct slab *slab_new(struct kmem_cache *s, gfp_t gfp)
{
	char *mem = page_source_alloc(slab_ps, gfp | s->alloc_gfp, s->order);
	struct slab *slab;
	char *obj;

	if (!mem)
		return NULL;
	if (s->hdr_size) {
		slab = (struct slab *)mem;
	} else {
		slab = kmem_cache_alloc_caller(&boot_kmem_slab, gfp, 0);
		if (!slab) {
			page_source_free(slab_ps, mem, s->order);
			return NULL;
		}
	}
	*slab = (struct slab){
		.cache = s,
		.mem = mem,
		.base = mem + s->hdr_size,
		.objects = s->objects,
		.freelist = mem + s->hdr_size,
	};
	node_init(&slab->node);
	obj = slab->base;
	for (unsigned int i = 0; i < s->objects; i++, obj += s->size) {
		slab_setup_object(s, obj);
		set_fp(s, obj, i + 1 < s->objects ? obj + s->size : NULL);
	}
	MM_BUG_ON((uintptr_t)slab & ~SLAB_SLOT_PTR_MASK);
	for (unsigned long i = 0; i < (1ul << s->order); i++) {
		uintptr_t *slot =
			page_source_slot(slab_ps, mem + i * PS_PAGE_SIZE);

		MM_BUG_ON(!slot);
		*slot = (uintptr_t)slab | ((uintptr_t)s->slot_tag << 1);
	}
	return slab;
}

/* Give an empty slab, already off every list, back to the page source. */
void slab_discard(struct kmem_cache *s, struct slab *slab)
{
	char *mem = slab->mem;

	for (unsigned long i = 0; i < (1ul << s->order); i++)
		*page_source_slot(slab_ps, mem + i * PS_PAGE_SIZE) = 0;
	if (!s->hdr_size)
		kmem_cache_free_caller(&boot_kmem_slab, slab, 0);
	page_source_free(slab_ps, mem, s->order);
}

/*
 * Put the empty @slab on @c's stash if it has room (it stays on the cpu list,
 * so the statistics count it). Caller holds s->lock.
 */
static bool __slab_stash_empty(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       struct slab *slab)
{
	if (!c || c->nr_empty_pages + (1u << s->order) > SLAB_CPU_EMPTY_PAGES)
		return false;
	__slab_list_set(s, slab, SLAB_ON_CPU);
	slab->next_empty = c->empty;
	c->empty = slab;
	c->nr_empty_pages += 1u << s->order;
	return true;
}

/* Take a slab off @c's empty stash, or NULL. Caller holds s->lock. */
static struct slab *__slab_unstash(struct kmem_cache *s,
				   struct kmem_cache_cpu *c)
{
	struct slab *slab = c->empty;

	if (slab) {
		c->empty = slab->next_empty;
		c->nr_empty_pages -= 1u << s->order;
		slab->next_empty = NULL;
	}
	return slab;
}

/*
 * One object of @slab (not an active slab) was just freed: move the slab from
 * full to partial; if it is empty and the cache already keeps min_partial
 * partial slabs, stash it on @c (NULL: no stash) or return it for
 * discarding. Caller holds s->lock.
 */
struct slab *__slab_after_free(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       struct slab *slab)
{
	if (slab->list == SLAB_ON_CPU)
		return NULL;
	if (slab->inuse == 0 && s->nr_partial >= s->min_partial) {
		if (__slab_stash_empty(s, c, slab))
			return NULL;
		__slab_list_set(s, slab, SLAB_ON_NONE);
		return slab;
	}
	if (slab->list == SLAB_ON_FULL)
		__slab_list_set(s, slab, SLAB_ON_PARTIAL);
	return NULL;
}

/* Make @slab the active slab of @c; returns its first free object. */
static void *__slab_freeze(struct kmem_cache *s, struct kmem_cache_cpu *c,
			   struct slab *slab)
{
	void *obj = slab->freelist;

	__slab_list_set(s, slab, SLAB_ON_CPU);
	slab->freelist = NULL;
	slab->inuse = slab->objects;
	c->slab = slab;
	c->freelist = get_fp(s, obj);
	return obj;
}

/*
 * Return @c's active slab and its per-CPU freelist to the cache. Returns the
 * slab if it should be discarded. Caller holds s->lock and owns @c (or the
 * cache is quiescent).
 */
static struct slab *__slab_deactivate(struct kmem_cache *s,
				      struct kmem_cache_cpu *c)
{
	struct slab *slab = c->slab;
	void *p, *tail = NULL;
	unsigned int n = 0;

	if (!slab)
		return NULL;
	for (p = c->freelist; p && n <= slab->objects; p = get_fp(s, p)) {
		tail = p;
		n++;
	}
	c->slab = NULL;
	if (n > slab->objects) {
		/* A double free looped the freelist: leak the slab. */
		mm_log("BUG %s: per-CPU freelist of slab %p is corrupted "
		       "(double free?); slab leaked",
		       s->name, (void *)slab->mem);
		slab->freelist = NULL;
		slab->inuse = slab->objects;
		n = 0;
	} else if (tail) {
		set_fp(s, tail, slab->freelist);
		slab->freelist = c->freelist;
	}
	c->freelist = NULL;
	slab->inuse -= n;
	if (slab->inuse == 0 && s->nr_partial >= s->min_partial) {
		__slab_list_set(s, slab, SLAB_ON_NONE);
		return slab;
	}
	__slab_list_set(s, slab,
			slab->inuse == slab->objects ? SLAB_ON_FULL
						     : SLAB_ON_PARTIAL);
	return NULL;
}

struct slab *__slab_first(struct slab_node *head)
{
	return node_empty(head)
		       ? NULL
		       : slab_container_of(head->next, struct slab, node);
}

/* ---- per-CPU object caches (see slab_internal.h) ---- */

static unsigned int slab_mag_order(unsigned int cap)
{
	return slab_get_order((unsigned long)cap * sizeof(void *));
}

/*
 * @c's object cache is full: make room for more objects, doubling it up to
 * s->mag_max and this CPU's SLAB_MAG_CPU_BYTES. Returns whether there is
 * room now. Runs in the free path, so it asks the page source not to wait.
 */
static bool slab_mag_grow(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	atomic_ulong *budget = &slab_mag_bytes[c - s->cpu];
	unsigned long used = atomic_load_explicit(budget, memory_order_relaxed);
	unsigned int cap, order;
	void **mag;

	if (c->mag_cap >= s->mag_max || used >= SLAB_MAG_CPU_BYTES)
		return false;
	cap = MM_MIN(MM_MAX(2 * c->mag_cap, (unsigned int)SLAB_MAG_MIN_OBJS),
		     s->mag_max);
	cap = (unsigned int)MM_MIN((unsigned long)cap,
				   c->mag_cap + (SLAB_MAG_CPU_BYTES - used) /
							s->size);
	if (cap <= c->mag_cap)
		return false;
	order = slab_mag_order(cap);
	if (!c->mag || order != c->mag_order) {
		mag = page_source_alloc(slab_ps, GFP_NOWAIT | __GFP_NOWARN,
					order);
		if (!mag)
			return false;
		if (c->mag) {
			mm_memcpy(mag, c->mag, c->mag_nr * sizeof(void *));
			page_source_free(slab_ps, c->mag, c->mag_order);
		}
		c->mag = mag;
		c->mag_order = order;
	}
	atomic_fetch_add_explicit(budget,
				  (unsigned long)(cap - c->mag_cap) * s->size,
				  memory_order_relaxed);
	c->mag_cap = cap;
	return true;
}

/* Free @c's (drained) object cache array and give its budget back. */
static void slab_mag_release(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	if (!c->mag)
		return;
	MM_BUG_ON(c->mag_nr);
	atomic_fetch_sub_explicit(&slab_mag_bytes[c - s->cpu],
				  (unsigned long)c->mag_cap * s->size,
				  memory_order_relaxed);
	page_source_free(slab_ps, c->mag, c->mag_order);
	c->mag = NULL;
	c->mag_cap = 0;
	c->mag_order = 0;
}

/* ---- allocation and free ---- */

/*
 * The per-CPU freelist is empty: take the frees other CPUs made to the active
 * slab, else a partial slab, else a new one.
 */
static void *slab_alloc_refill(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       gfp_t gfp, bool retried)
{
	struct slab *slab;
	void *obj;

	mm_lock(&s->lock);
	slab = c->slab;
	if (slab) {
		obj = slab->freelist;
		if (obj) {
			slab->freelist = NULL;
			slab->inuse = slab->objects;
			c->freelist = get_fp(s, obj);
			mm_unlock(&s->lock);
			return obj;
		}
		__slab_list_set(s, slab, SLAB_ON_FULL);
		c->slab = NULL;
	}
	slab = __slab_first(&s->partial);
	if (!slab)
		slab = __slab_unstash(s, c);
	if (slab) {
		obj = __slab_freeze(s, c, slab);
		mm_unlock(&s->lock);
		return obj;
	}
	mm_unlock(&s->lock);
	/* No lock while the page source works; @c is ours alone anyway. */
	slab = slab_new(s, gfp);
	if (!slab) {
		/*
		 * Memory pressure: objects in this CPU's object caches may
		 * free whole slabs (or fill this cache's partial list).
		 */
		if (retried || !slab_shrink_cpu_caches())
			return NULL;
		return slab_alloc_refill(s, c, gfp, true);
	}
	mm_lock(&s->lock);
	obj = __slab_freeze(s, c, slab);
	mm_unlock(&s->lock);
	return obj;
}

/* The per-CPU freelist is empty: batched frees first, then refill. */
static __attribute__((noinline)) void *
slab_alloc_slow(struct kmem_cache *s, struct kmem_cache_cpu *c, gfp_t gfp)
{
	void *obj;

	if (c->nr_batch)
		return c->batch[--c->nr_batch];
	if (c->df_count) {
		obj = c->df_head;
		c->df_head = get_fp(s, obj);
		if (--c->df_count == 0) {
			c->df_slab = NULL;
			c->df_tail = NULL;
		}
		return obj;
	}
	return slab_alloc_refill(s, c, gfp, false);
}

/* Debug caches and __GFP_ZERO: kept out of the fast path's frame. */
static __attribute__((noinline)) void *
slab_alloc_special(struct kmem_cache *s, gfp_t gfp, uintptr_t caller)
{
	void *obj;

	if (s->flags & SLAB_DEBUG_FLAGS)
		obj = slab_alloc_debug(s, gfp & ~__GFP_ZERO, caller);
	else
		obj = kmem_cache_alloc_caller(s, gfp & ~__GFP_ZERO, caller);
	if (obj && (gfp & __GFP_ZERO))
		mm_memset(obj, 0, s->object_size);
	return obj;
}

void *kmem_cache_alloc_caller(struct kmem_cache *s, gfp_t gfp, uintptr_t caller)
{
	struct kmem_cache_cpu *c;
	unsigned int n;
	void *obj;

	if (mm_unlikely((s->flags & SLAB_DEBUG_FLAGS) | (gfp & __GFP_ZERO)))
		return slab_alloc_special(s, gfp, caller);
	c = &s->cpu[mm_cpu_id()];
	n = c->mag_nr;
	if (mm_likely(n)) {
		obj = c->mag[--n];
		c->mag_nr = n;
		slab_debug_check_mag_obj(s, obj);
		return obj;
	}
	obj = c->freelist;
	if (mm_unlikely(!obj))
		return slab_alloc_slow(s, c, gfp);
	slab_debug_check_cpu_obj(s, c, obj);
	c->freelist = get_fp(s, obj);
	/*
	 * Objects freed in random order chain the freelist across the slab:
	 * start the next pop's cache miss now (SLUB's prefetch_freepointer).
	 */
	__builtin_prefetch((char *)c->freelist + s->offset);
	return obj;
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return kmem_cache_alloc_caller(s, gfp,
				       (uintptr_t)__builtin_return_address(0));
}

void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t gfp)
{
	return kmem_cache_alloc_caller(s, gfp | __GFP_ZERO,
				       (uintptr_t)__builtin_return_address(0));
}

/*
 * Free @obj to its (non-debug) @slab: onto slab->freelist; an emptied slab
 * beyond min_partial goes onto @discard. Caller holds s->lock.
 */
static void __slab_free_chain(struct kmem_cache *s, struct kmem_cache_cpu *c,
			      struct slab *slab, void *head, void *tail,
			      unsigned int n, struct slab_node *discard)
{
	set_fp(s, tail, slab->freelist);
	slab->freelist = head;
	slab->inuse -= n;
	/* Most drained frees leave a partial or active slab where it is. */
	if (slab->list == SLAB_ON_CPU ||
	    (slab->list == SLAB_ON_PARTIAL && slab->inuse))
		return;
	slab = __slab_after_free(s, c, slab);
	if (slab)
		node_add(&slab->node, discard);
}

static void __slab_free_one(struct kmem_cache *s, struct kmem_cache_cpu *c,
			    struct slab *slab, void *obj,
			    struct slab_node *discard)
{
	__slab_free_chain(s, c, slab, obj, obj, 1, discard);
}

/* Splice @c's detached freelist back into its slab. Caller holds s->lock. */
static void __slab_flush_df(struct kmem_cache *s, struct kmem_cache_cpu *c,
			    struct slab_node *discard)
{
	if (c->df_count)
		__slab_free_chain(s, c, c->df_slab, c->df_head, c->df_tail,
				  c->df_count, discard);
	c->df_slab = NULL;
	c->df_head = NULL;
	c->df_tail = NULL;
	c->df_count = 0;
}

/* Return @c's batched frees to their slabs. Caller holds s->lock. */
static void __slab_drain_batch(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       struct slab_node *discard)
{
	while (c->nr_batch) {
		unsigned int i = --c->nr_batch;

		__slab_free_one(s, c, c->batch_slab[i], c->batch[i], discard);
	}
}

/*
 * Give the objects in @c's object cache back to their slabs (emptied slabs
 * onto @discard or @c's stash). The array stays; slab_mag_release() frees
 * it. Caller holds s->lock and owns @c (or the cache is quiescent).
 */
static void __slab_drain_mag(struct kmem_cache *s, struct kmem_cache_cpu *c,
			     struct slab_node *discard)
{
	while (c->mag_nr) {
		void *obj = c->mag[--c->mag_nr];

		__slab_free_one(s, c, slab_of(obj), obj, discard);
	}
}

static int slab_discard_list(struct kmem_cache *s, struct slab_node *list);

/* The batch is full: drain it, the detached freelist and @obj under one lock. */
static __attribute__((noinline)) void slab_free_batch(struct kmem_cache *s,
						      struct kmem_cache_cpu *c,
						      struct slab *slab,
						      void *obj)
{
	struct slab_node discard;

	node_init(&discard);
	mm_lock(&s->lock);
	__slab_drain_batch(s, c, &discard);
	__slab_flush_df(s, c, &discard);
	__slab_free_one(s, c, slab, obj, &discard);
	mm_unlock(&s->lock);
	slab_discard_list(s, &discard);
}

/* A run on the detached freelist ended: give it back, start one for @slab. */
static __attribute__((noinline)) void
slab_free_new_run(struct kmem_cache *s, struct kmem_cache_cpu *c,
		  struct slab *slab, void *obj)
{
	struct slab_node discard;

	node_init(&discard);
	mm_lock(&s->lock);
	__slab_flush_df(s, c, &discard);
	mm_unlock(&s->lock);
	slab_discard_list(s, &discard);
	set_fp(s, obj, NULL);
	c->df_slab = slab;
	c->df_head = obj;
	c->df_tail = obj;
	c->df_count = 1;
}

/* Free @obj of @slab, neither @c's active slab nor a debug cache's. */
static inline void slab_free_nonlocal(struct kmem_cache *s,
				      struct kmem_cache_cpu *c,
				      struct slab *slab, void *obj)
{
	if (slab == c->df_slab) {
		set_fp(s, obj, c->df_head);
		c->df_head = obj;
		c->df_count++;
	} else if (!c->df_count) {
		set_fp(s, obj, NULL);
		c->df_slab = slab;
		c->df_head = obj;
		c->df_tail = obj;
		c->df_count = 1;
	} else if (c->df_count >= SLAB_DF_MIN_RUN) {
		slab_free_new_run(s, c, slab, obj);
	} else if (mm_likely(c->nr_batch < SLAB_CPU_BATCH)) {
		/* The drain writes the free pointer: fetch the line now. */
		__builtin_prefetch((char *)obj + s->offset, 1);
		c->batch_slab[c->nr_batch] = slab;
		c->batch[c->nr_batch++] = obj;
	} else {
		slab_free_batch(s, c, slab, obj);
	}
}

static __attribute__((noinline)) void
slab_report_foreign(struct kmem_cache *s, const struct slab *slab, void *obj,
		    uintptr_t caller)
{
	mm_log("BUG %s: invalid free of %p (caller %p): %s%s; free refused",
	       s->name, obj, (void *)caller,
	       slab ? "object of cache " : "not a slab object",
	       slab ? slab->cache->name : "");
}

/*
 * @c's object cache is full (or not there yet): grow it if s->mag_max and
 * this CPU's budget allow, else free @obj to its slab.
 */
static __attribute__((noinline)) void
slab_free_mag_full(struct kmem_cache *s, struct kmem_cache_cpu *c,
		   struct slab *slab, void *obj)
{
	if (slab_mag_grow(s, c)) {
		c->mag[c->mag_nr++] = obj;
	} else if (slab == c->slab) {
		set_fp(s, obj, c->freelist);
		c->freelist = obj;
	} else {
		slab_free_nonlocal(s, c, slab, obj);
	}
}

/* Free @obj, known to be an object of @slab of @s. */
static inline void slab_free(struct kmem_cache *s, struct slab *slab, void *obj,
			     uintptr_t caller)
{
	if (mm_unlikely(s->flags & SLAB_DEBUG_FLAGS)) {
		slab_free_debug(s, slab, obj, caller);
		return;
	}
	if (mm_likely(slab_mag_push(s, obj)))
		return;
	slab_free_mag_full(s, &s->cpu[mm_cpu_id()], slab, obj);
}

void kmem_cache_free_caller(struct kmem_cache *s, void *obj, uintptr_t caller)
{
	struct slab *slab;

	if (mm_unlikely(!obj))
		return;
	slab = slab_of(obj);
	if (mm_unlikely(!slab || slab->cache != s)) {
		slab_report_foreign(s, slab, obj, caller);
		return;
	}
	slab_free(s, slab, obj, caller);
}

void kmem_slot_free(uintptr_t slot, void *obj, uintptr_t caller)
{
	struct slab *slab = (struct slab *)(slot & SLAB_SLOT_PTR_MASK);

	slab_free(slab->cache, slab, obj, caller);
}

void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	kmem_cache_free_caller(s, obj, (uintptr_t)__builtin_return_address(0));
}

struct kmem_cache *kmem_slot_cache(uintptr_t slot)
{
	if (!slot || SLAB_SLOT_IS_LARGE(slot))
		return NULL;
	return ((struct slab *)(slot & SLAB_SLOT_PTR_MASK))->cache;
}

int kmem_cache_set_slot_tag(struct kmem_cache *s, unsigned int tag)
{
	int err = 0;

	if (tag == 0 || tag > SLAB_SLOT_TAG_MAX)
		return -EINVAL;
	mm_lock(&s->lock);
	if (s->nr_partial || s->nr_full || s->nr_cpu_slabs)
		err = -EINVAL;
	else
		s->slot_tag = tag;
	mm_unlock(&s->lock);
	return err;
}

/* ---- flushing and shrinking ---- */

/*
 * Give @c's stashed empty slabs to the partial list up to min_partial, the
 * rest onto @discard. Caller holds s->lock.
 */
static void __slab_release_stash(struct kmem_cache *s, struct kmem_cache_cpu *c,
				 struct slab_node *discard)
{
	struct slab *slab;

	while ((slab = __slab_unstash(s, c))) {
		if (s->nr_partial < s->min_partial) {
			__slab_list_set(s, slab, SLAB_ON_PARTIAL);
		} else {
			__slab_list_set(s, slab, SLAB_ON_NONE);
			node_add(&slab->node, discard);
		}
	}
}

static void slab_flush_one(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct slab_node discard;
	struct slab *empty;

	node_init(&discard);
	mm_lock(&s->lock);
	__slab_drain_mag(s, c, &discard);
	__slab_drain_batch(s, c, &discard);
	__slab_flush_df(s, c, &discard);
	empty = __slab_deactivate(s, c);
	if (empty)
		node_add(&empty->node, &discard);
	__slab_release_stash(s, c, &discard);
	mm_unlock(&s->lock);
	slab_mag_release(s, c);
	slab_discard_list(s, &discard);
}

void kmem_cache_flush_cpu(struct kmem_cache *s)
{
	slab_flush_one(s, &s->cpu[mm_cpu_id()]);
}

void kmem_cache_flush_all(struct kmem_cache *s)
{
	for (unsigned int i = 0; i < MM_NR_CPUS; i++)
		slab_flush_one(s, &s->cpu[i]);
}

/* Take every empty slab off the partial list (@all: every slab there). */
static void __slab_take_partial(struct kmem_cache *s, struct slab_node *out,
				bool all)
{
	struct slab_node *n, *next;

	for (n = s->partial.next; n != &s->partial; n = next) {
		struct slab *slab = slab_container_of(n, struct slab, node);

		next = n->next;
		if (slab->inuse && !all)
			continue;
		__slab_list_set(s, slab, SLAB_ON_NONE);
		node_add(&slab->node, out);
	}
}

static int slab_discard_list(struct kmem_cache *s, struct slab_node *list)
{
	int n = 0;

	while (!node_empty(list)) {
		struct slab *slab = __slab_first(list);

		node_del(&slab->node);
		slab_discard(s, slab);
		n++;
	}
	return n;
}

int kmem_cache_shrink(struct kmem_cache *s)
{
	struct slab_node empty;

	node_init(&empty);
	kmem_cache_flush_cpu(s);
	mm_lock(&s->lock);
	__slab_take_partial(s, &empty, false);
	mm_unlock(&s->lock);
	return slab_discard_list(s, &empty);
}

int slab_shrink_cpu_caches(void)
{
	int n = 0;

	if (!slab_ready)
		return 0;
	mm_lock(&slab_caches_lock);
	for (struct slab_node *p = slab_caches.next; p != &slab_caches;
	     p = p->next) {
		struct kmem_cache *s =
			slab_container_of(p, struct kmem_cache, cache_node);
		struct kmem_cache_cpu *c = &s->cpu[mm_cpu_id()];

		n += (int)(c->mag_nr + c->nr_batch + c->df_count);
		n += kmem_cache_shrink(s);
	}
	mm_unlock(&slab_caches_lock);
	return n;
}

/* ---- sizing (SLUB's calculate_sizes / calculate_order) ---- */

static unsigned int slab_order_objects(unsigned int order, unsigned int size,
				       unsigned int hdr)
{
	return (unsigned int)(((PS_PAGE_SIZE << order) - hdr) / size);
}

/*
 * Smallest order from the one that fits @min_objects whose leftover is at
 * most 1/@fract of the slab.
 */
static unsigned int slab_calc_order(unsigned int size, unsigned int min_objects,
				    unsigned int max_order, unsigned int fract,
				    unsigned int hdr)
{
	unsigned int order;

	for (order = slab_get_order((unsigned long)min_objects * size + hdr);
	     order <= max_order; order++) {
		unsigned long slab_size = PS_PAGE_SIZE << order;

		if ((slab_size - hdr) % size <= slab_size / fract)
			break;
	}
	return order;
}

/*
 * As SLUB: aim for at least 4 * (fls(nr_cpus) + 1) objects per slab (fewer
 * per-CPU refills), accepting 1/16, then 1/8, then 1/4 of waste, then fewer
 * objects; up to order 3, and beyond only for objects that need it.
 */
static int slab_calculate_order(unsigned int size, unsigned int hdr)
{
	unsigned int min_objects = 4 * (slab_fls(slab_nr_cpus) + 1);
	unsigned int max_objects =
		slab_order_objects(SLAB_MAX_ORDER, size, hdr);
	unsigned int order;

	if (size + hdr <= (PS_PAGE_SIZE << SLAB_MAX_ORDER))
		min_objects = MM_MIN(min_objects, max_objects);
	else
		min_objects = 0;
	for (; min_objects > 1; min_objects--) {
		for (unsigned int fract = 16; fract >= 4; fract /= 2) {
			order = slab_calc_order(size, min_objects,
						SLAB_MAX_ORDER, fract, hdr);
			if (order <= SLAB_MAX_ORDER)
				return (int)order;
		}
	}
	order = slab_calc_order(size, 1, SLAB_MAX_ORDER, 1, hdr);
	if (order <= SLAB_MAX_ORDER)
		return (int)order;
	order = slab_calc_order(size, 1, MAX_PAGE_ORDER, 1, hdr);
	return order <= MAX_PAGE_ORDER ? (int)order : -EINVAL;
}

static unsigned int slab_hwcache_align(unsigned int size)
{
	unsigned int ralign = SLAB_CACHE_LINE;

	while (size <= ralign / 2)
		ralign /= 2;
	return ralign;
}

/* Lay out an object (see the debug layout in slab_internal.h). */
static void slab_calculate_sizes(struct kmem_cache *s, unsigned int align)
{
	unsigned int size = SLAB_ALIGN_UP(s->object_size, sizeof(void *));

	if ((s->flags & SLAB_RED_ZONE) && size == s->object_size)
		size += sizeof(void *);
	s->inuse = size;
	/* Keep the free pointer out of objects whose contents must survive. */
	if ((s->flags & SLAB_DEBUG_FLAGS) || s->ctor) {
		s->offset = size;
		size += sizeof(void *);
	} else {
		s->offset = 0;
	}
	if (s->flags & SLAB_STORE_USER) {
		s->track_offset = size;
		size += 2 * sizeof(struct slab_track);
	}
	align = MM_MAX(align, SLAB_MIN_ALIGN);
	if (s->flags & SLAB_HWCACHE_ALIGN)
		align = MM_MAX(align, slab_hwcache_align(s->object_size));
	s->align = align;
	s->size = SLAB_ALIGN_UP(size, align);
}

static void slab_copy_name(char *dst, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < SLAB_NAME_LEN && name[i]; i++)
		dst[i] = name[i];
	dst[i] = '\0';
}

static int slab_cache_setup(struct kmem_cache *s, const char *name, size_t size,
			    size_t align, unsigned int flags,
			    void (*ctor)(void *), bool on_slab_hdr)
{
	int order;

	mm_memset(s, 0, sizeof(*s));
	slab_copy_name(s->name, name);
	s->object_size = (unsigned int)size;
	s->flags = flags;
	s->ctor = ctor;
	slab_calculate_sizes(s, (unsigned int)align);
	if (on_slab_hdr)
		s->hdr_size = SLAB_ALIGN_UP(sizeof(struct slab), s->align);
	order = slab_calculate_order(s->size, s->hdr_size);
	if (order < 0)
		return order;
	s->order = (unsigned int)order;
	s->objects = slab_order_objects(s->order, s->size, s->hdr_size);
	MM_BUG_ON(s->objects == 0 || s->objects > SLAB_MAX_OBJECTS);
	/* SLUB: keep ilog2(size) / 2 empty slabs around, 5..10. */
	s->min_partial = MM_MIN(MM_MAX(slab_fls(s->size) / 2, 5u), 10u);
	if (flags & SLAB_CACHE_DMA)
		s->alloc_gfp = __GFP_DMA;
	mm_lock_init(&s->lock);
	node_init(&s->partial);
	node_init(&s->full);
	node_init(&s->cpu_slabs);
	mm_lock(&slab_caches_lock);
	node_add(&s->cache_node, &slab_caches);
	mm_unlock(&slab_caches_lock);
	return 0;
}

/* ---- cache life cycle ---- */

int slab_init(const struct page_source *ps, unsigned int nr_cpus)
{
	int err;

	if (slab_ready)
		return -EBUSY;
	if (!ps || !ps->ops || !ps->ops->alloc_pages || !ps->ops->free_pages ||
	    !ps->ops->frame_slot)
		return -EINVAL;
	slab_ps = ps;
	slab_nr_cpus = nr_cpus ? nr_cpus : MM_NR_CPUS;
	node_init(&slab_caches);
	/* 32-byte aligned descriptors: a frame slot's bits 1..4 are a tag. */
	err = slab_cache_setup(&boot_kmem_slab, "kmem_slab",
			       sizeof(struct slab), 32, 0, NULL, true);
	if (!err)
		err = slab_cache_setup(&boot_kmem_cache, "kmem_cache",
				       sizeof(struct kmem_cache),
				       _Alignof(struct kmem_cache), 0, NULL,
				       false);
	if (err) {
		slab_ps = NULL;
		return err;
	}
	slab_ready = true;
	return 0;
}

const struct page_source *slab_page_source(void)
{
	return slab_ps;
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, unsigned int flags,
				     void (*ctor)(void *))
{
	struct kmem_cache *s;

	if (!slab_ready || !name || size == 0 ||
	    size > (PS_PAGE_SIZE << MAX_PAGE_ORDER) / 2 ||
	    (align & (align - 1)) || align > PS_PAGE_SIZE ||
	    (flags & ~SLAB_VALID_FLAGS)) {
		mm_log("kmem_cache_create(%s): invalid arguments (size %zu, "
		       "align %zu, flags 0x%x)",
		       name ? name : "(null)", size, align, flags);
		return NULL;
	}
	s = kmem_cache_alloc(&boot_kmem_cache, GFP_KERNEL);
	if (!s) {
		mm_log("kmem_cache_create(%s): out of memory", name);
		return NULL;
	}
	if (slab_cache_setup(s, name, size, align, flags, ctor, false)) {
		kmem_cache_free(&boot_kmem_cache, s);
		return NULL;
	}
	/* Debug caches check every object under the lock: no object cache. */
	if (!(flags & SLAB_DEBUG_FLAGS))
		s->mag_max = (unsigned int)MM_MIN(SLAB_MAG_MAX_OBJS,
						  SLAB_MAG_CPU_BYTES / s->size);
	return s;
}

/* Log the objects still allocated in @s. Caller holds s->lock. */
static void __slab_report_leaks(struct kmem_cache *s, unsigned long count)
{
	struct slab_node *lists[] = {&s->partial, &s->full};
	uint64_t free_map[SLAB_BITMAP_WORDS];
	unsigned int listed = 0;

	mm_log("kmem_cache_destroy %s: %lu objects remaining; cache kept",
	       s->name, count);
	for (unsigned int l = 0; l < MM_ARRAY_SIZE(lists); l++) {
		for (struct slab_node *n = lists[l]->next; n != lists[l];
		     n = n->next) {
			struct slab *slab =
				slab_container_of(n, struct slab, node);
			unsigned int k = 0;

			mm_memset(free_map, 0, sizeof(free_map));
			for (void *p = slab->freelist; p && k++ < slab->objects;
			     p = get_fp(s, p)) {
				unsigned int i = slab_obj_index(s, slab, p);

				free_map[i / 64] |= 1ull << (i % 64);
			}
			for (unsigned int i = 0; i < slab->objects; i++) {
				void *obj = slab->base + (size_t)i * s->size;
				uintptr_t by;

				if (free_map[i / 64] & (1ull << (i % 64)))
					continue;
				if (listed++ == SLAB_LEAKS_LISTED)
					return;
				by = slab_debug_alloc_caller(s, obj);
				mm_log("  %s: object %p allocated by %p",
				       s->name, obj, (void *)by);
			}
		}
	}
}

static unsigned long __slab_count_inuse(struct kmem_cache *s)
{
	struct slab_node *lists[] = {&s->partial, &s->full, &s->cpu_slabs};
	unsigned long inuse = 0;

	for (unsigned int l = 0; l < MM_ARRAY_SIZE(lists); l++)
		for (struct slab_node *n = lists[l]->next; n != lists[l];
		     n = n->next)
			inuse += slab_container_of(n, struct slab, node)->inuse;
	return inuse;
}

int kmem_cache_destroy(struct kmem_cache *s)
{
	struct slab_node empty;
	unsigned long inuse;

	if (!s)
		return 0;
	kmem_cache_flush_all(s);
	node_init(&empty);
	mm_lock(&s->lock);
	inuse = __slab_count_inuse(s);
	if (inuse) {
		__slab_report_leaks(s, inuse);
		mm_unlock(&s->lock);
		return -EBUSY;
	}
	__slab_take_partial(s, &empty, true);
	mm_unlock(&s->lock);
	slab_discard_list(s, &empty);
	mm_lock(&slab_caches_lock);
	node_del(&s->cache_node);
	mm_unlock(&slab_caches_lock);
	if (s != &boot_kmem_cache && s != &boot_kmem_slab)
		kmem_cache_free(&boot_kmem_cache, s);
	return 0;
}

int slab_exit(void)
{
	int busy = 0, err;

	if (!slab_ready)
		return 0;
	mm_lock(&slab_caches_lock);
	for (struct slab_node *n = slab_caches.next; n != &slab_caches;
	     n = n->next) {
		struct kmem_cache *s =
			slab_container_of(n, struct kmem_cache, cache_node);

		if (s == &boot_kmem_cache || s == &boot_kmem_slab)
			continue;
		mm_log("slab_exit: cache %s still exists", s->name);
		busy = 1;
	}
	mm_unlock(&slab_caches_lock);
	if (busy)
		return -EBUSY;
	/* kmem_cache's slab descriptors live in kmem_slab: destroy it first. */
	err = kmem_cache_destroy(&boot_kmem_cache);
	MM_BUG_ON(err);
	err = kmem_cache_destroy(&boot_kmem_slab);
	MM_BUG_ON(err);
	slab_ready = false;
	slab_ps = NULL;
	return 0;
}

/* ---- statistics, slabinfo, consistency ---- */

void kmem_cache_get_stats(struct kmem_cache *s, struct kmem_cache_stats *st)
{
	mm_lock(&s->lock);
	st->nr_partial = s->nr_partial;
	st->nr_full = s->nr_full;
	st->nr_cpu_slabs = s->nr_cpu_slabs;
	st->num_slabs = s->nr_partial + s->nr_full + s->nr_cpu_slabs;
	st->active_objs = __slab_count_inuse(s);
	mm_unlock(&s->lock);
	/* Other CPUs' counts change under us: a snapshot, as Linux's. */
	st->cpu_cached = 0;
	st->cpu_cache_pages = 0;
	for (unsigned int i = 0; i < MM_NR_CPUS; i++) {
		struct kmem_cache_cpu *c = &s->cpu[i];

		st->cpu_cached += __atomic_load_n(&c->mag_nr, __ATOMIC_RELAXED);
		if (__atomic_load_n(&c->mag, __ATOMIC_RELAXED))
			st->cpu_cache_pages +=
				1ul << __atomic_load_n(&c->mag_order,
						       __ATOMIC_RELAXED);
	}
	st->cpu_cache_limit = s->mag_max;
	st->num_objs = st->num_slabs * s->objects;
	st->object_size = s->object_size;
	st->size = s->size;
	st->objperslab = s->objects;
	st->pagesperslab = 1u << s->order;
}

const char *kmem_cache_name(const struct kmem_cache *s)
{
	return s->name;
}

size_t kmem_cache_size(const struct kmem_cache *s)
{
	return s->object_size;
}

int slabinfo_format(struct mm_buf *b)
{
	struct kmem_cache_stats st;

	mm_buf_printf(b, "slabinfo - version: 2.1\n");
	mm_buf_printf(b, "# name            <active_objs> <num_objs> <objsize> "
			 "<objperslab> <pagesperslab> : tunables <limit> "
			 "<batchcount> <sharedfactor> : slabdata "
			 "<active_slabs> <num_slabs> <sharedavail>\n");
	mm_lock(&slab_caches_lock);
	for (struct slab_node *n = slab_caches.prev; n != &slab_caches;
	     n = n->prev) {
		struct kmem_cache *s =
			slab_container_of(n, struct kmem_cache, cache_node);

		kmem_cache_get_stats(s, &st);
		mm_buf_printf(b, "%-17s %6lu %6lu %6u %4u %4u", s->name,
			      st.active_objs, st.num_objs, st.size,
			      st.objperslab, st.pagesperslab);
		/* SLAB's <limit>: the per-CPU object cache's bound. */
		mm_buf_printf(b, " : tunables %4u %4u %4u", st.cpu_cache_limit,
			      0u, 0u);
		mm_buf_printf(b, " : slabdata %6lu %6lu %6lu\n", st.num_slabs,
			      st.num_slabs, 0ul);
	}
	mm_unlock(&slab_caches_lock);
	return mm_buf_truncated(b) ? -ENOSPC : 0;
}
