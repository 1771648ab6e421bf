// SPDX-License-Identifier: MIT
/*
 * mm/slab_debug.c - the slab layer's debugging: the red zone, poison and
 * store-user bytes of every object of a debug cache (SLAB_DEBUG_FLAGS; see the
 * layout in slab_internal.h), the locked allocation and free paths those
 * caches take so that every object is checked as it changes hands,
 * kmem_cache_check(), which validates any cache, and the slab layer's own
 * invariant checks of MM_DEBUG builds.
 *
 * A corruption is reported with mm_log(), repaired where that is possible
 * (a red zone) and contained where it is not (a corrupted freelist leaks its
 * slab, a bad free is refused), so that one bug is reported once and the
 * allocator carries on, as SLUB does.
 */
#include "slab_debug.h"
#include "slab_internal.h"

static struct slab_track *slab_track(const struct kmem_cache *s, void *obj,
				     int which)
{
	return (struct slab_track *)((char *)obj + s->track_offset) + which;
}

static void slab_set_track(const struct kmem_cache *s, void *obj, int which,
			   uintptr_t caller)
{
	struct slab_track *t;

	if (!(s->flags & SLAB_STORE_USER))
		return;
	t = slab_track(s, obj, which);
	t->addr = caller;
	t->cpu = mm_cpu_id();
}

static bool slab_poisons(const struct kmem_cache *s)
{
	return (s->flags & SLAB_POISON) && !s->ctor;
}

static void slab_poison(const struct kmem_cache *s, void *obj)
{
	unsigned char *p = obj;

	mm_memset(p, SLAB_POISON_FREE, s->object_size - 1);
	p[s->object_size - 1] = SLAB_POISON_END;
}

static void slab_set_redzone(const struct kmem_cache *s, void *obj, int val)
{
	if (s->flags & SLAB_RED_ZONE)
		mm_memset((char *)obj + s->object_size, val,
			  s->inuse - s->object_size);
}

static void slab_report(const struct kmem_cache *s, void *obj, const char *what,
			uintptr_t caller)
{
	struct slab_track *t;

	mm_log("BUG %s: %s: object %p (size %u) by caller %p", s->name, what,
	       obj, s->object_size, (void *)caller);
	if (!(s->flags & SLAB_STORE_USER) || !obj)
		return;
	t = slab_track(s, obj, 0);
	mm_log("  last alloc by %p cpu %u; last free by %p cpu %u",
	       (void *)t[0].addr, t[0].cpu, (void *)t[1].addr, t[1].cpu);
}

/* First byte in [from, to) of @obj that is not @val, or -1. */
static long slab_find_mismatch(const void *obj, unsigned int from,
			       unsigned int to, int val)
{
	const unsigned char *p = obj;

	for (unsigned int i = from; i < to; i++)
		if (p[i] != (unsigned char)val)
			return (long)i;
	return -1;
}

static long slab_poison_mismatch(const struct kmem_cache *s, const void *obj)
{
	long bad = slab_find_mismatch(obj, 0, s->object_size - 1,
				      SLAB_POISON_FREE);

	if (bad < 0 &&
	    ((const unsigned char *)obj)[s->object_size - 1] != SLAB_POISON_END)
		bad = s->object_size - 1;
	return bad;
}

/*
 * Check the red zone of @obj holds @val; report and repair it if not, so that
 * one overflow is reported once and the allocator carries on.
 */
static bool slab_check_redzone(const struct kmem_cache *s, void *obj, int val,
			       uintptr_t caller)
{
	char what[80];
	long bad;

	if (!(s->flags & SLAB_RED_ZONE))
		return true;
	bad = slab_find_mismatch(obj, s->object_size, s->inuse, val);
	if (bad < 0)
		return true;
	mm_snprintf(
		what, sizeof(what),
		"Redzone overwritten at offset %ld (0x%02x, expected 0x%02x)",
		bad, ((unsigned char *)obj)[bad], val);
	slab_report(s, obj, what, caller);
	slab_set_redzone(s, obj, val);
	return false;
}

/* A free object is about to be handed out: it must be untouched. */
static void slab_check_free_object(const struct kmem_cache *s, void *obj,
				   uintptr_t caller)
{
	char what[96];
	long bad;

	slab_check_redzone(s, obj, SLAB_RED_INACTIVE, caller);
	if (!slab_poisons(s))
		return;
	bad = slab_poison_mismatch(s, obj);
	if (bad < 0)
		return;
	mm_snprintf(
		what, sizeof(what),
		"Poison overwritten (use after free) at offset %ld (0x%02x)",
		bad, ((unsigned char *)obj)[bad]);
	slab_report(s, obj, what, caller);
}

void slab_debug_init_object(const struct kmem_cache *s, void *obj)
{
	if (slab_poisons(s))
		slab_poison(s, obj);
	slab_set_redzone(s, obj, SLAB_RED_INACTIVE);
	if (s->flags & SLAB_STORE_USER)
		mm_memset(slab_track(s, obj, 0), 0,
			  2 * sizeof(struct slab_track));
}

uintptr_t slab_debug_alloc_caller(const struct kmem_cache *s, void *obj)
{
	return s->flags & SLAB_STORE_USER ? slab_track(s, obj, 0)->addr : 0;
}

void *slab_alloc_debug(struct kmem_cache *s, gfp_t gfp, uintptr_t caller)
{
	struct slab *slab;
	void *obj;

	mm_lock(&s->lock);
	for (;;) {
		slab = __slab_first(&s->partial);
		if (!slab) {
			mm_unlock(&s->lock);
			slab = slab_new(s, gfp);
			if (!slab)
				return NULL;
			mm_lock(&s->lock);
			__slab_list_set(s, slab, SLAB_ON_PARTIAL);
			continue;
		}
		obj = slab->freelist;
		if (slab_valid_obj(s, slab, obj))
			break;
		/* Overwritten free pointer: leak the rest, as SLUB does. */
		slab_report(s, NULL, "freelist pointer corrupted; slab leaked",
			    caller);
		slab->freelist = NULL;
		slab->inuse = slab->objects;
		slab->leaked = 1;
		__slab_list_set(s, slab, SLAB_ON_FULL);
	}
	slab->freelist = get_fp(s, obj);
	if (slab->freelist && !slab_valid_obj(s, slab, slab->freelist)) {
		/* Overwritten free pointer: leak the rest, as SLUB does. */
		slab_report(s, obj, "freelist pointer corrupted; slab leaked",
			    caller);
		slab->freelist = NULL;
		slab->inuse = slab->objects - 1;
		slab->leaked = 1;
	}
	if (++slab->inuse == slab->objects)
		__slab_list_set(s, slab, SLAB_ON_FULL);
	slab_check_free_object(s, obj, caller);
	slab_set_redzone(s, obj, SLAB_RED_ACTIVE);
	slab_set_track(s, obj, 0, caller);
	mm_unlock(&s->lock);
	return obj;
}

/* Is @obj on @list, a freelist of @slab's objects? */
static bool __slab_on_freelist_head(const struct kmem_cache *s, void *list,
				    const struct slab *slab, const void *obj)
{
	unsigned int n = 0;

	for (void *p = list; p && n <= slab->objects; p = get_fp(s, p), n++)
		if (p == obj)
			return true;
	return false;
}

/* Is @obj on @slab->freelist? Caller holds s->lock. */
static bool __slab_on_freelist(const struct kmem_cache *s,
			       const struct slab *slab, const void *obj)
{
	return __slab_on_freelist_head(s, slab->freelist, slab, obj);
}

void slab_free_debug(struct kmem_cache *s, struct slab *slab, void *obj,
		     uintptr_t caller)
{
	struct slab *discard;

	mm_lock(&s->lock);
	if (!slab_valid_obj(s, slab, obj)) {
		mm_unlock(&s->lock);
		mm_log("BUG %s: invalid free of %p: not at an object boundary "
		       "(caller %p); free refused",
		       s->name, obj, (void *)caller);
		return;
	}
	if (__slab_on_freelist(s, slab, obj)) {
		slab_report(s, obj, "double free; free refused", caller);
		mm_unlock(&s->lock);
		return;
	}
	slab_check_redzone(s, obj, SLAB_RED_ACTIVE, caller);
	slab_set_track(s, obj, 1, caller);
	if (slab_poisons(s))
		slab_poison(s, obj);
	slab_set_redzone(s, obj, SLAB_RED_INACTIVE);
	set_fp(s, obj, slab->freelist);
	slab->freelist = obj;
	slab->inuse--;
	discard = __slab_after_free(s, NULL, slab);
	mm_unlock(&s->lock);
	if (discard)
		slab_discard(s, discard);
}

#ifdef MM_DEBUG
void slab_debug_check_cpu_obj(const struct kmem_cache *s,
			      const struct kmem_cache_cpu *c, const void *obj)
{
	MM_BUG_ON(!c->slab || c->slab->cache != s);
	MM_BUG_ON(!slab_valid_obj(s, c->slab, obj));
}

void slab_debug_check_move(const struct kmem_cache *s, const struct slab *slab,
			   enum slab_list to)
{
	MM_BUG_ON(slab->cache != s || slab->inuse > slab->objects);
	if (to == SLAB_ON_FULL)
		MM_BUG_ON(slab->freelist || slab->inuse != slab->objects);
	if (to == SLAB_ON_PARTIAL)
		MM_BUG_ON(!slab->freelist || slab->inuse == slab->objects);
}

void slab_debug_check_mag_obj(const struct kmem_cache *s, const void *obj)
{
	const struct slab *slab = slab_of_obj(slab_page_source(), obj);

	MM_BUG_ON(!slab || slab->cache != s || !slab_valid_obj(s, slab, obj) ||
		  slab->inuse == 0);
}
#endif

/* Validation ----------------------------------------------------------- */

struct slab_checker {
	struct kmem_cache *s;
	unsigned int errors;
	uint64_t free_map[SLAB_BITMAP_WORDS];
};

static void check_fail(struct slab_checker *ck, const struct slab *slab,
		       const char *what)
{
	if (ck->errors++ < 8)
		mm_log("kmem_cache_check %s: slab %p: %s", ck->s->name,
		       slab ? (void *)slab->mem : NULL, what);
}

/* Mark the objects of @list free in ck->free_map; returns how many. */
static unsigned int check_freelist(struct slab_checker *ck,
				   const struct slab *slab, void *list)
{
	struct kmem_cache *s = ck->s;
	unsigned int n = 0;

	for (void *p = list; p; p = get_fp(s, p)) {
		unsigned int i;

		if (!slab_valid_obj(s, slab, p)) {
			check_fail(ck, slab, "free pointer outside the slab");
			break;
		}
		i = slab_obj_index(s, slab, p);
		if (ck->free_map[i / 64] & (1ull << (i % 64))) {
			check_fail(ck, slab, "object twice on a freelist");
			break;
		}
		ck->free_map[i / 64] |= 1ull << (i % 64);
		n++;
	}
	return n;
}

/* Debug caches: every object's poison and red zone match its state. */
static void check_objects(struct slab_checker *ck, const struct slab *slab)
{
	struct kmem_cache *s = ck->s;

	if (!(s->flags & (SLAB_RED_ZONE | SLAB_POISON)))
		return;
	for (unsigned int i = 0; i < slab->objects; i++) {
		char *obj = slab->base + (size_t)i * s->size;
		bool is_free = ck->free_map[i / 64] & (1ull << (i % 64));
		int rz = is_free ? SLAB_RED_INACTIVE : SLAB_RED_ACTIVE;

		/* Objects cut off a corrupted freelist look free. */
		if (slab->leaked && !is_free &&
		    slab_find_mismatch(obj, s->object_size, s->inuse,
				       SLAB_RED_INACTIVE) < 0)
			continue;
		if ((s->flags & SLAB_RED_ZONE) &&
		    slab_find_mismatch(obj, s->object_size, s->inuse, rz) >= 0)
			check_fail(ck, slab, "red zone overwritten");
		if (is_free && slab_poisons(s) &&
		    slab_poison_mismatch(s, obj) >= 0)
			check_fail(ck, slab, "poison overwritten");
	}
}

static void check_slab(struct slab_checker *ck, struct slab *slab,
		       enum slab_list list)
{
	struct kmem_cache *s = ck->s;
	struct kmem_cache_cpu *c = &s->cpu[mm_cpu_id()];
	unsigned int nfree;

	if (slab->cache != s || slab->objects != s->objects ||
	    slab->list != list) {
		check_fail(ck, slab,
			   "descriptor does not match its cache/list");
		return;
	}
	for (unsigned long i = 0; i < (1ul << s->order); i++)
		if (*page_source_slot(slab_page_source(),
				      slab->mem + i * PS_PAGE_SIZE) !=
		    ((uintptr_t)slab | ((uintptr_t)s->slot_tag << 1)))
			check_fail(ck, slab, "frame slot does not point here");
	mm_memset(ck->free_map, 0, sizeof(ck->free_map));
	nfree = check_freelist(ck, slab, slab->freelist);
	if (slab->inuse + nfree != slab->objects)
		check_fail(ck, slab, "inuse + free != objects");
	if (list == SLAB_ON_FULL && nfree)
		check_fail(ck, slab, "full slab with free objects");
	if (list == SLAB_ON_PARTIAL && !nfree)
		check_fail(ck, slab, "partial slab without free objects");
	if (list == SLAB_ON_CPU && c->slab == slab &&
	    nfree + check_freelist(ck, slab, c->freelist) > slab->objects)
		check_fail(ck, slab, "per-CPU freelist too long");
	if (list != SLAB_ON_CPU)
		check_objects(ck, slab);
}

/* This CPU's detached freelist: a chain of df_count objects of df_slab. */
static void check_df(struct slab_checker *ck, struct kmem_cache_cpu *c)
{
	unsigned int n = 0;
	void *p, *last = NULL;

	for (p = c->df_head; p && n <= c->df_count; p = get_fp(ck->s, p)) {
		if (!c->df_slab || !slab_valid_obj(ck->s, c->df_slab, p) ||
		    __slab_on_freelist(ck->s, c->df_slab, p)) {
			check_fail(ck, c->df_slab,
				   "bad object on the detached freelist");
			return;
		}
		last = p;
		n++;
	}
	if (n != c->df_count || last != c->df_tail)
		check_fail(ck, c->df_slab, "detached freelist count or tail");
}

/* Sort @v[0, n) by address, in place (heapsort: no memory, O(n log n)). */
static void check_sort_ptrs(void **v, unsigned int n)
{
	for (unsigned int end = n, start = n / 2; end > 1;) {
		unsigned int root, child;
		void *tmp;

		if (start > 0) {
			root = --start;
		} else {
			tmp = v[--end];
			v[end] = v[0];
			v[0] = tmp;
			root = 0;
		}
		while ((child = 2 * root + 1) < end) {
			if (child + 1 < end &&
			    (uintptr_t)v[child] < (uintptr_t)v[child + 1])
				child++;
			if ((uintptr_t)v[root] >= (uintptr_t)v[child])
				break;
			tmp = v[root];
			v[root] = v[child];
			v[child] = tmp;
			root = child;
		}
	}
}

/*
 * This CPU's object cache: allocated objects of this cache (inuse in their
 * slab, on no freelist), each once. Sorts the array: its order is only a
 * hint of which objects are warm.
 */
static void check_mag(struct slab_checker *ck, struct kmem_cache_cpu *c)
{
	struct kmem_cache *s = ck->s;

	if (c->mag_nr > c->mag_cap || (c->mag_cap && !c->mag) ||
	    c->mag_cap > s->mag_max) {
		check_fail(ck, NULL, "object cache count or capacity");
		return;
	}
	check_sort_ptrs(c->mag, c->mag_nr);
	for (unsigned int i = 0; i < c->mag_nr; i++) {
		void *p = c->mag[i];
		struct slab *slab = slab_of_obj(slab_page_source(), p);

		if (!slab || slab->cache != s || !slab_valid_obj(s, slab, p) ||
		    slab->list == SLAB_ON_NONE ||
		    __slab_on_freelist(s, slab, p) ||
		    (slab == c->slab &&
		     __slab_on_freelist_head(s, c->freelist, slab, p)))
			check_fail(ck, slab, "bad object in the object cache");
		else if (i && c->mag[i - 1] == p)
			check_fail(ck, slab,
				   "object twice in the object cache");
	}
}

/* This CPU's batched frees: allocated objects of this cache. */
static void check_batch(struct slab_checker *ck)
{
	struct kmem_cache_cpu *c = &ck->s->cpu[mm_cpu_id()];

	check_mag(ck, c);
	check_df(ck, c);

	for (unsigned int i = 0; i < c->nr_batch; i++) {
		struct slab *slab =
			slab_of_obj(slab_page_source(), c->batch[i]);

		if (!slab || slab->cache != ck->s || slab != c->batch_slab[i] ||
		    !slab_valid_obj(ck->s, slab, c->batch[i]) ||
		    __slab_on_freelist(ck->s, slab, c->batch[i]))
			check_fail(ck, slab, "bad object in the per-CPU batch");
	}
}

int kmem_cache_check(struct kmem_cache *s)
{
	struct slab_checker ck = {.s = s};
	struct slab_node *heads[] = {
		[SLAB_ON_PARTIAL] = &s->partial,
		[SLAB_ON_FULL] = &s->full,
		[SLAB_ON_CPU] = &s->cpu_slabs,
	};
	unsigned long counts[MM_ARRAY_SIZE(heads)] = {0};

	mm_lock(&s->lock);
	for (unsigned int l = SLAB_ON_PARTIAL; l <= SLAB_ON_CPU; l++)
		for (struct slab_node *n = heads[l]->next; n != heads[l];
		     n = n->next) {
			check_slab(&ck, slab_container_of(n, struct slab, node),
				   (enum slab_list)l);
			counts[l]++;
		}
	check_batch(&ck);
	if (counts[SLAB_ON_PARTIAL] != s->nr_partial ||
	    counts[SLAB_ON_FULL] != s->nr_full ||
	    counts[SLAB_ON_CPU] != s->nr_cpu_slabs)
		check_fail(&ck, NULL, "list counters do not match the lists");
	mm_unlock(&s->lock);
	return ck.errors ? -EUCLEAN : 0;
}
