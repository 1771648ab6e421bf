// SPDX-License-Identifier: MIT
/* mm/kmalloc.c - kmalloc size classes over the slab layer (see kmalloc.h). */
#include "kmalloc.h"

#include "errno.h"
#include "port.h"
#include "slab.h"
#include "slab_internal.h"

enum kmalloc_type { KMALLOC_NORMAL, KMALLOC_DMA, KMALLOC_NR_TYPES };

/*
 * Linux's size_index, extended to 512 bytes: the class of sizes up to 512 in
 * steps of 8, so that the common small sizes take one table load instead of
 * a branch and a fls (65..96 and 129..192 get their own classes instead of
 * rounding up to a power of two). Index 1 is kmalloc-96, 2 is kmalloc-192,
 * n >= 3 is 2^n.
 */
#define KMALLOC_TABLE_MAX 512
static const unsigned char kmalloc_size_index[KMALLOC_TABLE_MAX / 8] = {
	3, 4, 5, 5, 6, 6, 6, 6,				/* 8..64 */
	1, 1, 1, 1, 7, 7, 7, 7,				/* 72..128 */
	2, 2, 2, 2, 2, 2, 2, 2,				/* 136..192 */
	8, 8, 8, 8, 8, 8, 8, 8,				/* 200..256 */
	9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, /* 264..384 */
	9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, /* 392..512 */
};

_Static_assert(KMALLOC_NR_CLASSES - 1 <= SLAB_SLOT_TAG_MAX,
	       "a normal class's index is its frame-slot tag");

static _Atomic(struct kmem_cache *) kmalloc_caches[KMALLOC_NR_TYPES]
						  [KMALLOC_NR_CLASSES];
static struct mm_lock kmalloc_dma_lock = MM_LOCK_INIT;
static const struct page_source *kmalloc_ps;
static unsigned int kmalloc_flags;
static bool kmalloc_owns_slab;
/*
 * The page source's flat slot array, copied at init so that kfree's fast
 * path loads the slot without going through kmalloc_ps first (frames 0: the
 * source has none, every kfree takes the slow path).
 */
static uintptr_t *kmalloc_slot_table;
static uintptr_t kmalloc_slot_base;
static uintptr_t kmalloc_slot_frames;
static atomic_ulong kmalloc_large_allocs;
static atomic_ulong kmalloc_large_pages;

static unsigned int kmalloc_fls(unsigned long x)
{
	return x ? 64 - (unsigned int)__builtin_clzl(x) : 0;
}

/* The class index of @size (1 <= size <= KMALLOC_MAX_CACHE_SIZE). */
static unsigned int kmalloc_index(size_t size)
{
	if (mm_likely(size <= KMALLOC_TABLE_MAX))
		return kmalloc_size_index[(size - 1) / 8];
	return kmalloc_fls(size - 1);
}

static unsigned int kmalloc_class_size(unsigned int index)
{
	return index == 1 ? 96 : index == 2 ? 192 : 1u << index;
}

static void kmalloc_class_name(char *buf, size_t len, enum kmalloc_type type,
			       unsigned int index)
{
	unsigned int size = kmalloc_class_size(index);
	const char *prefix = type == KMALLOC_DMA ? "dma-" : "";

	if (size >= 1024)
		mm_snprintf(buf, len, "%skmalloc-%uk", prefix, size / 1024);
	else
		mm_snprintf(buf, len, "%skmalloc-%u", prefix, size);
}

static struct kmem_cache *kmalloc_create_class(enum kmalloc_type type,
					       unsigned int index)
{
	unsigned int flags = kmalloc_flags;
	char name[SLAB_NAME_LEN];

	if (type == KMALLOC_DMA)
		flags |= SLAB_CACHE_DMA;
	kmalloc_class_name(name, sizeof(name), type, index);
	return kmem_cache_create(name, kmalloc_class_size(index), 0, flags,
				 NULL);
}

/* DMA classes are rarely used: create each on its first request. */
static struct kmem_cache *kmalloc_dma_cache(unsigned int index)
{
	struct kmem_cache *s;

	mm_lock(&kmalloc_dma_lock);
	s = atomic_load_explicit(&kmalloc_caches[KMALLOC_DMA][index],
				 memory_order_relaxed);
	if (!s) {
		s = kmalloc_create_class(KMALLOC_DMA, index);
		atomic_store_explicit(&kmalloc_caches[KMALLOC_DMA][index], s,
				      memory_order_release);
	}
	mm_unlock(&kmalloc_dma_lock);
	return s;
}

struct kmem_cache *kmalloc_cache(size_t size, gfp_t gfp)
{
	unsigned int index;
	struct kmem_cache *s;

	if (size == 0 || size > KMALLOC_MAX_CACHE_SIZE)
		return NULL;
	index = kmalloc_index(size);
	if (mm_likely(!(gfp & __GFP_DMA)))
		return atomic_load_explicit(
			&kmalloc_caches[KMALLOC_NORMAL][index],
			memory_order_relaxed);
	s = atomic_load_explicit(&kmalloc_caches[KMALLOC_DMA][index],
				 memory_order_acquire);
	return s ? s : kmalloc_dma_cache(index);
}

static unsigned int kmalloc_order(size_t size)
{
	return size <= PS_PAGE_SIZE ? 0
				    : kmalloc_fls((size - 1) >> PS_PAGE_SHIFT);
}

static void *kmalloc_large(size_t size, gfp_t gfp)
{
	unsigned int order = kmalloc_order(size);
	void *p;

	if (size > KMALLOC_MAX_SIZE)
		return NULL;
	p = page_source_alloc(kmalloc_ps, gfp, order);
	/* Memory pressure: the CPU's object caches may free whole slabs. */
	if (!p && slab_shrink_cpu_caches())
		p = page_source_alloc(kmalloc_ps, gfp, order);
	if (!p)
		return NULL;
	if (gfp & __GFP_ZERO)
		mm_memset(p, 0, PS_PAGE_SIZE << order);
	*page_source_slot(kmalloc_ps, p) = SLAB_SLOT_LARGE(order);
	atomic_fetch_add_explicit(&kmalloc_large_allocs, 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&kmalloc_large_pages, 1ul << order,
				  memory_order_relaxed);
	return p;
}

static __attribute__((noinline)) void *kmalloc_caller(size_t size, gfp_t gfp,
						      uintptr_t caller)
{
	struct kmem_cache *s;

	if (mm_unlikely(gfp & ~GFP_VALID_MASK))
		return NULL;
	if (mm_unlikely(size == 0))
		return ZERO_SIZE_PTR;
	if (mm_unlikely(size > KMALLOC_MAX_CACHE_SIZE))
		return kmalloc_large(size, gfp);
	s = kmalloc_cache(size, gfp);
	if (mm_unlikely(!s))
		return NULL;
	return kmem_cache_alloc_caller(s, gfp, caller);
}

void *kmalloc(size_t size, gfp_t gfp)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);
	struct kmem_cache *s;

	/*
	 * The common case inline: a normal class, no unusual gfp bit, an
	 * object in this CPU's object cache.
	 */
	if (mm_likely(size - 1 < KMALLOC_MAX_CACHE_SIZE &&
		      !(gfp & (__GFP_DMA | __GFP_ZERO | ~GFP_VALID_MASK)))) {
		void *obj;

		s = atomic_load_explicit(
			&kmalloc_caches[KMALLOC_NORMAL][kmalloc_index(size)],
			memory_order_relaxed);
		if (mm_unlikely(!s))
			return kmalloc_caller(size, gfp, caller);
		obj = slab_mag_pop(s);
		if (mm_likely(obj))
			return obj;
		return kmem_cache_alloc_caller(s, gfp, caller);
	}
	return kmalloc_caller(size, gfp, caller);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc_caller(size, gfp | __GFP_ZERO,
			      (uintptr_t)__builtin_return_address(0));
}

void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc_caller(bytes, gfp,
			      (uintptr_t)__builtin_return_address(0));
}

void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc_caller(bytes, gfp | __GFP_ZERO,
			      (uintptr_t)__builtin_return_address(0));
}

/* The slot value of @p's first frame, or 0 (logged) if @p is not ours. */
static uintptr_t kmalloc_slot(const void *p, const char *who)
{
	uintptr_t *slot = page_source_slot(kmalloc_ps, p);
	uintptr_t v = slot ? *slot : 0;

	if (mm_unlikely(!v || (SLAB_SLOT_IS_LARGE(v) &&
			       (uintptr_t)p % PS_PAGE_SIZE))) {
		mm_log("%s: %p was not returned by kmalloc; refused", who, p);
		return 0;
	}
	return v;
}

static __attribute__((noinline)) void kfree_large(const void *p, uintptr_t v)
{
	unsigned int order = SLAB_SLOT_ORDER(v);

	*page_source_slot(kmalloc_ps, p) = 0;
	atomic_fetch_sub_explicit(&kmalloc_large_allocs, 1,
				  memory_order_relaxed);
	atomic_fetch_sub_explicit(&kmalloc_large_pages, 1ul << order,
				  memory_order_relaxed);
	page_source_free(kmalloc_ps, (void *)p, order);
}

static __attribute__((noinline)) void kfree_slow(const void *p,
						 uintptr_t caller)
{
	uintptr_t v;

	if (ZERO_OR_NULL_PTR(p))
		return;
	v = kmalloc_slot(p, "kfree");
	if (!v)
		return;
	if (SLAB_SLOT_IS_LARGE(v))
		kfree_large(p, v);
	else
		kmem_slot_free(v, (void *)p, caller);
}

static inline void kfree_caller(const void *p, uintptr_t caller)
{
	uintptr_t idx, v;

	/*
	 * The common case inline: a slab object of a flat-slot source, freed
	 * into this CPU's object cache. (NULL and ZERO_SIZE_PTR are below
	 * any frame of the table, or beyond it after the subtraction wraps.)
	 */
	idx = ((uintptr_t)p - kmalloc_slot_base) >> PS_PAGE_SHIFT;
	if (mm_likely(idx < kmalloc_slot_frames && !ZERO_OR_NULL_PTR(p))) {
		v = kmalloc_slot_table[idx];
		if (mm_likely(v && !SLAB_SLOT_IS_LARGE(v))) {
			unsigned int tag = SLAB_SLOT_TAG(v);
			struct kmem_cache *s;

			/* A normal class: no load of the slab descriptor. */
			if (mm_likely(tag))
				s = atomic_load_explicit(
					&kmalloc_caches[KMALLOC_NORMAL][tag],
					memory_order_relaxed);
			else
				s = ((struct slab *)(v & SLAB_SLOT_PTR_MASK))
					    ->cache;
			if (!slab_mag_push(s, (void *)p))
				kmem_slot_free(v, (void *)p, caller);
			return;
		}
	}
	kfree_slow(p, caller);
}

void kfree(const void *p)
{
	kfree_caller(p, (uintptr_t)__builtin_return_address(0));
}

size_t ksize(const void *p)
{
	uintptr_t v;

	if (ZERO_OR_NULL_PTR(p))
		return 0;
	v = kmalloc_slot(p, "ksize");
	if (!v)
		return 0;
	if (SLAB_SLOT_IS_LARGE(v))
		return PS_PAGE_SIZE << SLAB_SLOT_ORDER(v);
	return kmem_cache_size(kmem_slot_cache(v));
}

void *krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);
	size_t old_size;
	void *n;

	if (ZERO_OR_NULL_PTR(p))
		return kmalloc_caller(new_size, gfp, caller);
	if (new_size == 0) {
		kfree_caller(p, caller);
		return ZERO_SIZE_PTR;
	}
	old_size = ksize(p);
	if (!old_size)
		return NULL;
	if (new_size <= old_size)
		return (void *)p;
	n = kmalloc_caller(new_size, gfp, caller);
	if (!n)
		return NULL;
	mm_memcpy(n, p, old_size);
	kfree_caller(p, caller);
	return n;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kmalloc_caller(len, gfp & ~__GFP_ZERO,
				 (uintptr_t)__builtin_return_address(0));

	if (p && len)
		mm_memcpy(p, src, len);
	return p;
}

static struct kmem_cache *kmalloc_get(enum kmalloc_type type,
				      unsigned int index)
{
	return atomic_load_explicit(&kmalloc_caches[type][index],
				    memory_order_acquire);
}

int kmalloc_init(const struct page_source *ps, unsigned int slab_flags)
{
	const struct page_source *cur = slab_page_source();
	int err;

	if (kmalloc_ps)
		return -EBUSY;
	if (cur && cur != ps)
		return -EINVAL;
	if (!cur) {
		err = slab_init(ps, 0);
		if (err)
			return err;
	}
	kmalloc_owns_slab = !cur;
	kmalloc_ps = ps;
	if (ps->slot_table) {
		kmalloc_slot_table = ps->slot_table;
		kmalloc_slot_base = ps->slot_base;
		kmalloc_slot_frames = ps->slot_frames;
	}
	kmalloc_flags = slab_flags & SLAB_DEBUG_FLAGS;
	for (unsigned int i = 1; i < KMALLOC_NR_CLASSES; i++) {
		struct kmem_cache *s = kmalloc_create_class(KMALLOC_NORMAL, i);

		atomic_store(&kmalloc_caches[KMALLOC_NORMAL][i], s);
		if (!s) {
			kmalloc_exit();
			return -ENOMEM;
		}
		/* kfree's fast path: the frame slot names the class. */
		err = kmem_cache_set_slot_tag(s, i);
		MM_BUG_ON(err);
	}
	return 0;
}

int kmalloc_exit(void)
{
	struct kmem_cache_stats st;
	int busy = 0;

	if (!kmalloc_ps)
		return 0;
	for (unsigned int t = 0; t < KMALLOC_NR_TYPES; t++)
		for (unsigned int i = 1; i < KMALLOC_NR_CLASSES; i++) {
			struct kmem_cache *s = kmalloc_get(t, i);

			if (!s)
				continue;
			kmem_cache_flush_all(s);
			kmem_cache_get_stats(s, &st);
			if (!st.active_objs)
				continue;
			mm_log("kmalloc_exit: %s: %lu objects still allocated",
			       kmem_cache_name(s), st.active_objs);
			busy = 1;
		}
	if (atomic_load(&kmalloc_large_allocs)) {
		mm_log("kmalloc_exit: %lu large allocations outstanding",
		       atomic_load(&kmalloc_large_allocs));
		busy = 1;
	}
	if (busy)
		return -EBUSY;
	for (unsigned int t = 0; t < KMALLOC_NR_TYPES; t++)
		for (unsigned int i = 1; i < KMALLOC_NR_CLASSES; i++) {
			/* Every class is empty: checked above. */
			int err = kmem_cache_destroy(kmalloc_get(t, i));

			MM_BUG_ON(err);
			atomic_store(&kmalloc_caches[t][i], NULL);
		}
	kmalloc_ps = NULL;
	kmalloc_slot_frames = 0;
	kmalloc_slot_table = NULL;
	return kmalloc_owns_slab ? slab_exit() : 0;
}

int kmalloc_usage_format(struct mm_buf *b)
{
	struct kmem_cache_stats st;

	/* cached: of active, the objects in the CPUs' object caches. */
	mm_buf_printf(b, "%-18s %7s %9s %9s %7s %10s %8s\n", "class", "objsize",
		      "active", "total", "slabs", "bytes", "cached");
	for (unsigned int t = 0; t < KMALLOC_NR_TYPES; t++)
		for (unsigned int i = 1; i < KMALLOC_NR_CLASSES; i++) {
			struct kmem_cache *s = kmalloc_get(t, i);

			if (!s)
				continue;
			kmem_cache_get_stats(s, &st);
			mm_buf_printf(
				b, "%-18s %7u %9lu %9lu %7lu %10lu %8lu\n",
				kmem_cache_name(s), st.object_size,
				st.active_objs, st.num_objs, st.num_slabs,
				st.num_slabs * st.pagesperslab * PS_PAGE_SIZE,
				st.cpu_cached);
		}
	mm_buf_printf(b, "%-18s %7s %9lu %9s %7s %10lu %8s\n", "large", "-",
		      atomic_load(&kmalloc_large_allocs), "-", "-",
		      atomic_load(&kmalloc_large_pages) * PS_PAGE_SIZE, "-");
	return mm_buf_truncated(b) ? -ENOSPC : 0;
}
