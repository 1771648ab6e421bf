// SPDX-License-Identifier: MIT
/* Unit tests for mm/kmalloc.c: classes, large, krealloc, DMA, model, threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "slab_fx.h"
#include "unit.h"

START_TEST(test_kmalloc_class_boundaries)
{
	static const struct {
		size_t size, ksize;
		const char *cache;
	} cases[] = {
		{1, 8, "kmalloc-8"},	    {8, 8, "kmalloc-8"},
		{9, 16, "kmalloc-16"},	    {24, 32, "kmalloc-32"},
		{64, 64, "kmalloc-64"},	    {65, 96, "kmalloc-96"},
		{96, 96, "kmalloc-96"},	    {97, 128, "kmalloc-128"},
		{128, 128, "kmalloc-128"},  {129, 192, "kmalloc-192"},
		{192, 192, "kmalloc-192"},  {193, 256, "kmalloc-256"},
		{1000, 1024, "kmalloc-1k"}, {4096, 4096, "kmalloc-4k"},
		{8192, 8192, "kmalloc-8k"}, {8193, 16384, NULL},
		{40000, 65536, NULL},
	};

	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t size = cases[c].size;
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		struct kmem_cache *s = kmalloc_cache(size, GFP_KERNEL);

		ck_assert_ptr_nonnull(p);
		ck_assert_msg(ksize(p) == cases[c].ksize,
			      "size %zu: ksize %zu, want %zu", size, ksize(p),
			      cases[c].ksize);
		if (cases[c].cache)
			ck_assert_str_eq(kmem_cache_name(s), cases[c].cache);
		else
			ck_assert_ptr_null(s);
		/* Power-of-two classes are aligned to their size. */
		if ((cases[c].ksize & (cases[c].ksize - 1)) == 0)
			ck_assert_uint_eq((uintptr_t)p %
						  (cases[c].ksize < 4096
							   ? cases[c].ksize
							   : 4096),
					  0);
		memset(p, 0xab, ksize(p));
		kfree(p);
	}
}
END_TEST

/* Every size up to 2 KiB gets the smallest class that holds it. */
START_TEST(test_kmalloc_every_small_size)
{
	static const size_t classes[] = {8,   16,  32,	64,   96,  128,
					 192, 256, 512, 1024, 2048};

	for (size_t size = 1; size <= 2048; size++) {
		void *p = kmalloc(size, GFP_KERNEL);
		size_t want = 0;

		for (unsigned int c = 0; !want; c++)
			if (classes[c] >= size)
				want = classes[c];
		ck_assert_ptr_nonnull(p);
		ck_assert_msg(ksize(p) == want, "size %zu: ksize %zu, want %zu",
			      size, ksize(p), want);
		kfree(p);
	}
}
END_TEST

START_TEST(test_kmalloc_zero_null_and_bad_pointers)
{
	char *p = kmalloc(100, GFP_KERNEL), *big = kmalloc(20000, GFP_KERNEL);
	int on_stack;

	ck_assert_ptr_eq(kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	ck_assert_uint_eq(ksize(ZERO_SIZE_PTR), 0);
	kfree(NULL);
	kfree(ZERO_SIZE_PTR);
	ck_assert_str_eq(slab_fx_log(), "");
	ck_assert_ptr_null(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL));
	ck_assert_ptr_null(kmalloc(64, 1u << 20)); /* unknown gfp bit */
	slab_fx_log_clear();
	kfree(&on_stack);
	ck_assert(slab_fx_log_has("was not returned by kmalloc; refused"));
	slab_fx_log_clear();
	kfree(big + 4096); /* second page of a large allocation */
	ck_assert(slab_fx_log_has("was not returned by kmalloc; refused"));
	slab_fx_log_clear();
	kfree(big + 8);
	ck_assert(slab_fx_log_has("was not returned by kmalloc; refused"));
	ck_assert_uint_eq(ksize(big), 32768);
	kfree(big);
	kfree(p);
}
END_TEST

START_TEST(test_kmalloc_zalloc_calloc_array_dup)
{
	unsigned char *p = kzalloc(300, GFP_KERNEL), *d;
	unsigned int *a;

	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(p[i], 0);
	a = kcalloc(1000, sizeof(*a), GFP_KERNEL);
	ck_assert_uint_eq(ksize(a), 4096);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(a[i], 0);
	ck_assert_ptr_null(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));
	ck_assert_ptr_null(kmalloc_array(1ul << 62, 8, GFP_KERNEL));
	ck_assert_ptr_null(kmalloc_array(SIZE_MAX, SIZE_MAX, GFP_KERNEL));
	memset(p, 0x3c, 300);
	d = kmemdup(p, 300, GFP_KERNEL);
	ck_assert_ptr_ne(d, p);
	ck_assert_int_eq(memcmp(d, p, 300), 0);
	kfree(d);
	kfree(a);
	kfree(p);
}
END_TEST

START_TEST(test_kmalloc_krealloc)
{
	unsigned char *p = kmalloc(50, GFP_KERNEL), *q;

	for (int i = 0; i < 50; i++)
		p[i] = (unsigned char)i;
	/* Grows within ksize (64): in place. */
	ck_assert_ptr_eq(krealloc(p, 64, GFP_KERNEL), p);
	/* Grows past it: moves, contents kept. */
	q = krealloc(p, 100, GFP_KERNEL);
	ck_assert_ptr_ne(q, p);
	ck_assert_uint_eq(ksize(q), 128);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(q[i], i);
	/* Shrinks: in place. */
	ck_assert_ptr_eq(krealloc(q, 10, GFP_KERNEL), q);
	/* Into a large allocation and back. */
	p = krealloc(q, 20000, GFP_KERNEL | __GFP_ZERO);
	ck_assert_uint_eq(ksize(p), 32768);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(p[i], i);
	for (int i = 128; i < 20000; i++)
		ck_assert_int_eq(p[i], 0);
	/* Failure leaves the object alone. */
	ck_assert_ptr_null(krealloc(p, KMALLOC_MAX_SIZE + 1, GFP_KERNEL));
	ck_assert_int_eq(p[49], 49);
	ck_assert_ptr_eq(krealloc(p, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	p = krealloc(NULL, 24, GFP_KERNEL);
	ck_assert_uint_eq(ksize(p), 32);
	kfree(p);
}
END_TEST

START_TEST(test_kmalloc_dma)
{
	void *d = kmalloc(100, GFP_DMA), *n = kmalloc(100, GFP_KERNEL);
	void *big = kmalloc(20000, GFP_DMA | __GFP_ZERO);
	char text[4096];
	struct mm_buf b;

	ck_assert_ptr_nonnull(d);
	ck_assert(host_page_source_is_dma(slab_fx_hps, d));
	ck_assert(!host_page_source_is_dma(slab_fx_hps, n));
	ck_assert(host_page_source_is_dma(slab_fx_hps, big));
	ck_assert_str_eq(kmem_cache_name(kmalloc_cache(100, GFP_DMA)),
			 "dma-kmalloc-128");
	ck_assert_ptr_ne(kmalloc_cache(100, GFP_DMA),
			 kmalloc_cache(100, GFP_KERNEL));
	mm_buf_init(&b, text, sizeof(text));
	ck_assert_int_eq(kmalloc_usage_format(&b), 0);
	ck_assert_ptr_nonnull(strstr(text, "\ndma-kmalloc-128        128"));
	ck_assert_ptr_nonnull(
		strstr(text, "\nlarge                    -         1"));
	kfree(big);
	kfree(d);
	kfree(n);
}
END_TEST

START_TEST(test_kmalloc_usage_report)
{
	void *p[10];
	char text[4096], want[128];
	struct mm_buf b;

	for (int i = 0; i < 10; i++)
		p[i] = kmalloc(60, GFP_KERNEL);
	kmem_cache_flush_all(kmalloc_cache(60, GFP_KERNEL));
	mm_buf_init(&b, text, sizeof(text));
	ck_assert_int_eq(kmalloc_usage_format(&b), 0);
	snprintf(want, sizeof(want), "\n%-18s %7u %9lu %9lu %7lu %10lu %8lu\n",
		 "kmalloc-64", 64u, 10ul, 64ul, 1ul, 4096ul, 0ul);
	ck_assert_msg(strstr(text, want), "want %s in %s", want, text);
	ck_assert_ptr_nonnull(strstr(text, " cached\n"));
	/* Freed into this CPU's object cache: still active, and cached. */
	for (int i = 0; i < 10; i++)
		kfree(p[i]);
	mm_buf_init(&b, text, sizeof(text));
	ck_assert_int_eq(kmalloc_usage_format(&b), 0);
	snprintf(want, sizeof(want), "\n%-18s %7u %9lu %9lu %7lu %10lu %8lu\n",
		 "kmalloc-64", 64u, 10ul, 64ul, 1ul, 4096ul, 10ul);
	ck_assert_msg(strstr(text, want), "want %s in %s", want, text);
}
END_TEST

/* ---- randomized model ---- */

#define MODEL_SLOTS 2048

struct model_obj {
	unsigned char *p;
	size_t size;
	unsigned char seed;
};

static unsigned long model_rand(unsigned long *s)
{
	*s = *s * 6364136223846793005ul + 1442695040888963407ul;
	return *s >> 33;
}

/* Mostly small, like a kernel: 70% <= 256, 25% <= 8k, 5% up to 40k. */
static size_t model_size(unsigned long *rnd)
{
	unsigned long r = model_rand(rnd) % 100;

	if (r < 70)
		return 1 + model_rand(rnd) % 256;
	if (r < 95)
		return 1 + model_rand(rnd) % 8192;
	return 1 + model_rand(rnd) % 40000;
}

static void model_fill(struct model_obj *o)
{
	for (size_t i = 0; i < o->size; i++)
		o->p[i] = (unsigned char)(o->seed + i * 31);
}

static size_t model_bad_byte(const struct model_obj *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (o->p[i] != (unsigned char)(o->seed + i * 31))
			return i;
	return SIZE_MAX;
}

static void run_model(long ops)
{
	static struct model_obj objs[MODEL_SLOTS];
	unsigned long seed = unit_seed(), rnd = seed;

	memset(objs, 0, sizeof(objs));
	for (long op = 0; op < ops; op++) {
		struct model_obj *o = &objs[model_rand(&rnd) % MODEL_SLOTS];
		size_t bad;

		if (!o->p) {
			o->size = model_size(&rnd);
			o->seed = (unsigned char)model_rand(&rnd);
			o->p = kmalloc(o->size, GFP_KERNEL);
			ck_assert_msg(o->p,
				      "op %ld: kmalloc(%zu) failed (seed "
				      "%lu)",
				      op, o->size, seed);
			ck_assert_uint_ge(ksize(o->p), o->size);
			model_fill(o);
			continue;
		}
		bad = model_bad_byte(o, o->size);
		ck_assert_msg(bad == SIZE_MAX,
			      "op %ld: %p size %zu corrupted at %zu (seed %lu)",
			      op, o->p, o->size, bad, seed);
		if (model_rand(&rnd) % 3 == 0) {
			size_t n = model_size(&rnd);
			unsigned char *q = krealloc(o->p, n, GFP_KERNEL);

			ck_assert_msg(q, "op %ld: krealloc failed (seed %lu)",
				      op, seed);
			o->p = q;
			bad = model_bad_byte(o, (n < o->size ? n : o->size));
			ck_assert_msg(bad == SIZE_MAX,
				      "op %ld: krealloc lost byte %zu (seed "
				      "%lu)",
				      op, bad, seed);
			o->size = n;
			model_fill(o);
		} else {
			kfree(o->p);
			o->p = NULL;
		}
	}
	for (int i = 0; i < MODEL_SLOTS; i++) {
		if (objs[i].p)
			ck_assert_uint_eq(
				model_bad_byte(&objs[i], objs[i].size),
				SIZE_MAX);
		kfree(objs[i].p);
	}
}

static void check_all_classes(void)
{
	static const size_t sizes[] = {8,   16,	 32,   64,   96,   128, 192,
				       256, 512, 1024, 2048, 4096, 8192};

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		ck_assert_int_eq(kmem_cache_check(kmalloc_cache(sizes[i], 0)),
				 0);
}

START_TEST(test_kmalloc_random_model)
{
	run_model(unit_sanitized() ? 100000 : 400000);
	check_all_classes();
	ck_assert_str_eq(slab_fx_log(), "");
	/* Teardown (kmalloc_exit) proves nothing leaked. */
}
END_TEST

START_TEST(test_kmalloc_random_model_debug)
{
	/* The same workload with every debug check on every kmalloc cache. */
	ck_assert_int_eq(kmalloc_exit(), 0);
	ck_assert_int_eq(
		kmalloc_init(host_page_source_ps(slab_fx_hps),
			     SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER),
		0);
	run_model(unit_sanitized() ? 20000 : 100000);
	check_all_classes();
	ck_assert_msg(!slab_fx_log_has("BUG"), "log: %s", slab_fx_log());
}
END_TEST

/* ---- threads ---- */

#define KSTRESS_THREADS 4
#define KSTRESS_SLOTS	2048

struct kstress {
	_Atomic(uint64_t *) slots[KSTRESS_SLOTS];
	long iters;
	atomic_int errors;
};

static struct kstress kstress;

/* First word: size in words; the rest: the address xor the word index. */
static bool kstress_valid(const uint64_t *p)
{
	for (uint64_t w = 1; w < p[0]; w++)
		if (p[w] != ((uintptr_t)p ^ w))
			return false;
	return true;
}

static void *thread_kstress(void *arg)
{
	unsigned long rnd = (uintptr_t)arg;

	for (long i = 0; i < kstress.iters; i++) {
		size_t words = 1 + model_rand(&rnd) % 96;
		uint64_t *p = kmalloc(words * 8, GFP_KERNEL), *old;

		if (!p) {
			atomic_fetch_add(&kstress.errors, 1);
			continue;
		}
		p[0] = words;
		for (uint64_t w = 1; w < words; w++)
			p[w] = (uintptr_t)p ^ w;
		old = atomic_exchange(
			&kstress.slots[model_rand(&rnd) % KSTRESS_SLOTS], p);
		if (!old)
			continue;
		if (!kstress_valid(old))
			atomic_fetch_add(&kstress.errors, 1);
		kfree(old);
	}
	return NULL;
}

START_TEST(test_kmalloc_threads_cross_free)
{
	pthread_t t[KSTRESS_THREADS];
	unsigned long seed = unit_seed();

	kstress.iters = unit_sanitized() ? 40000 : 250000;
	for (int i = 0; i < KSTRESS_THREADS; i++)
		pthread_create(&t[i], NULL, thread_kstress,
			       (void *)(uintptr_t)(seed * 31 + (unsigned)i));
	for (int i = 0; i < KSTRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_msg(atomic_load(&kstress.errors) == 0,
		      "%d bad objects (seed %lu)", atomic_load(&kstress.errors),
		      seed);
	for (int i = 0; i < KSTRESS_SLOTS; i++) {
		uint64_t *p = atomic_load(&kstress.slots[i]);

		if (p)
			ck_assert(kstress_valid(p));
		kfree(p);
	}
	check_all_classes();
}
END_TEST

/*
 * A thread whose first call into mm/ is a kfree (no CPU id yet: the inline
 * fast path must step aside) frees objects another thread allocated; they
 * land in its object cache, count as allocated, and drain on flush.
 */
#define XFREE_N 300
static void *xfree_objs[XFREE_N];

static void *thread_kfree_first(void *arg)
{
	(void)arg;
	for (int i = 0; i < XFREE_N; i++)
		kfree(xfree_objs[i]);
	return NULL;
}

START_TEST(test_kmalloc_cpu_cache_first_call_is_kfree)
{
	struct kmem_cache *s = kmalloc_cache(200, 0);
	struct kmem_cache_stats st;
	pthread_t t;

	for (int i = 0; i < XFREE_N; i++) {
		xfree_objs[i] = kmalloc(200, GFP_KERNEL);
		ck_assert_ptr_nonnull(xfree_objs[i]);
		memset(xfree_objs[i], 0x3c, 200);
	}
	pthread_create(&t, NULL, thread_kfree_first, NULL);
	pthread_join(t, NULL);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.cpu_cached, XFREE_N);
	ck_assert_uint_ge(st.active_objs, XFREE_N);
	check_all_classes();
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	ck_assert_uint_eq(st.active_objs, 0);
}
END_TEST

/* kmalloc's debug classes keep no object cache: a double kfree is refused. */
START_TEST(test_kmalloc_debug_double_free)
{
	struct kmem_cache_stats st;
	void *p[64];

	ck_assert_int_eq(kmalloc_exit(), 0);
	ck_assert_int_eq(kmalloc_init(host_page_source_ps(slab_fx_hps),
				      SLAB_RED_ZONE | SLAB_POISON),
			 0);
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(100, GFP_KERNEL);
	for (int i = 0; i < 64; i++)
		kfree(p[i]);
	kmem_cache_get_stats(kmalloc_cache(100, 0), &st);
	ck_assert_uint_eq(st.cpu_cache_limit, 0);
	ck_assert_uint_eq(st.cpu_cached, 0);
	slab_fx_log_clear();
	kfree(p[5]);
	ck_assert(slab_fx_log_has("BUG kmalloc-128: double free"));
	check_all_classes();
}
END_TEST

/*
 * kfree of an object of a cache kmalloc did not create (its frame slot
 * carries no class tag: the descriptor names the cache) and of a kmalloc
 * class object (the tag does): both into this CPU's object cache.
 */
START_TEST(test_kmalloc_kfree_tagged_and_untagged)
{
	struct kmem_cache *plain =
		kmem_cache_create("test-plain", 64, 0, 0, NULL);
	struct kmem_cache *k64 = kmalloc_cache(64, 0);
	struct kmem_cache_stats st;
	void *a = kmem_cache_alloc(plain, GFP_KERNEL);
	void *b = kmalloc(64, GFP_KERNEL);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	kfree(a);
	kfree(b);
	kmem_cache_get_stats(plain, &st);
	ck_assert_uint_eq(st.cpu_cached, 1);
	kmem_cache_get_stats(k64, &st);
	ck_assert_uint_ge(st.cpu_cached, 1);
	ck_assert_ptr_eq(kmem_cache_alloc(plain, GFP_KERNEL), a);
	ck_assert_ptr_eq(kmalloc(64, GFP_KERNEL), b);
	kfree(a);
	kfree(b);
	ck_assert_int_eq(kmem_cache_check(plain), 0);
	check_all_classes();
	ck_assert_int_eq(kmem_cache_destroy(plain), 0);
}
END_TEST

static Suite *kmalloc_suite(void)
{
	Suite *s = suite_create("kmalloc");
	TCase *tc = tcase_create("core");
	TCase *model = tcase_create("model");

	tcase_add_checked_fixture(tc, slab_fx_kmalloc_setup,
				  slab_fx_kmalloc_teardown);
	tcase_add_test(tc, test_kmalloc_class_boundaries);
	tcase_add_test(tc, test_kmalloc_every_small_size);
	tcase_add_test(tc, test_kmalloc_zero_null_and_bad_pointers);
	tcase_add_test(tc, test_kmalloc_zalloc_calloc_array_dup);
	tcase_add_test(tc, test_kmalloc_krealloc);
	tcase_add_test(tc, test_kmalloc_dma);
	tcase_add_test(tc, test_kmalloc_usage_report);
	tcase_add_test(tc, test_kmalloc_cpu_cache_first_call_is_kfree);
	tcase_add_test(tc, test_kmalloc_debug_double_free);
	tcase_add_test(tc, test_kmalloc_kfree_tagged_and_untagged);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(model, slab_fx_kmalloc_setup,
				  slab_fx_kmalloc_teardown);
	tcase_set_timeout(model, 240);
	tcase_add_test(model, test_kmalloc_random_model);
	tcase_add_test(model, test_kmalloc_random_model_debug);
	tcase_add_test(model, test_kmalloc_threads_cross_free);
	suite_add_tcase(s, model);
	return s;
}
UNIT_SUITE(kmalloc_suite)
