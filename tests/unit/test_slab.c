// SPDX-License-Identifier: MIT
/* Unit tests for mm/slab.c: caches, sizing, per-CPU and remote frees. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/slab.h"
#include "slab_fx.h"
#include "unit.h"

#define NOBJ 1000

static void assert_clean(struct kmem_cache *s)
{
	ck_assert_int_eq(kmem_cache_check(s), 0);
}

START_TEST(test_slab_alloc_free_destroy)
{
	struct kmem_cache *s = kmem_cache_create("test-64", 64, 0, 0, NULL);
	struct kmem_cache_stats st;
	static char *objs[NOBJ];

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(kmem_cache_name(s), "test-64");
	for (int i = 0; i < NOBJ; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		ck_assert_ptr_nonnull(objs[i]);
		ck_assert_uint_eq((uintptr_t)objs[i] % 64, 0);
		memset(objs[i], i & 0xff, 64);
	}
	for (int i = 0; i < NOBJ; i++)
		for (int j = 0; j < 64; j++)
			ck_assert_int_eq((unsigned char)objs[i][j], i & 0xff);
	assert_clean(s);
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, NOBJ);
	ck_assert_uint_eq(st.objperslab, 64);
	ck_assert_uint_eq(st.num_slabs, (NOBJ + 63) / 64);
	ck_assert_uint_eq(st.num_objs, st.num_slabs * 64);
	for (int i = 0; i < NOBJ; i += 2)
		kmem_cache_free(s, objs[i]);
	assert_clean(s);
	for (int i = 1; i < NOBJ; i += 2)
		kmem_cache_free(s, objs[i]);
	assert_clean(s);
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	ck_assert_uint_le(st.num_slabs, 5); /* min_partial for 64 bytes */
	kmem_cache_shrink(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.num_slabs, 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_zalloc_and_reuse)
{
	struct kmem_cache *s = kmem_cache_create("test-zero", 40, 0, 0, NULL);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	memset(p, 0x5a, 40);
	kmem_cache_free(s, p);
	/* LIFO: the per-CPU freelist hands back the same object. */
	p = kmem_cache_zalloc(s, GFP_KERNEL);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(p[i], 0);
	kmem_cache_free(s, p);
	kmem_cache_free(s, NULL);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_alignment)
{
	static const struct {
		size_t size, align;
		unsigned int flags;
		uintptr_t want;
	} cases[] = {
		{3, 0, 0, 8},
		{24, 64, 0, 64},
		{100, 128, 0, 128},
		{200, 0, SLAB_HWCACHE_ALIGN, 64},
		{20, 0, SLAB_HWCACHE_ALIGN, 32},
		{4000, 4096, 0, 4096},
		{24, 32, SLAB_RED_ZONE | SLAB_STORE_USER, 32},
	};

	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct kmem_cache *s =
			kmem_cache_create("test-align", cases[c].size,
					  cases[c].align, cases[c].flags, NULL);
		void *p[50];

		ck_assert_ptr_nonnull(s);
		for (int i = 0; i < 50; i++) {
			p[i] = kmem_cache_alloc(s, GFP_KERNEL);
			ck_assert_ptr_nonnull(p[i]);
			ck_assert_msg((uintptr_t)p[i] % cases[c].want == 0,
				      "case %u: %p not aligned to %lu", c, p[i],
				      (unsigned long)cases[c].want);
		}
		for (int i = 0; i < 50; i++)
			kmem_cache_free(s, p[i]);
		assert_clean(s);
		ck_assert_int_eq(kmem_cache_destroy(s), 0);
	}
	/* Not a power of two, too large, unknown flag: refused. */
	ck_assert_ptr_null(kmem_cache_create("bad", 64, 24, 0, NULL));
	ck_assert_ptr_null(kmem_cache_create("bad", 64, 8192, 0, NULL));
	ck_assert_ptr_null(kmem_cache_create("bad", 0, 0, 0, NULL));
	ck_assert_ptr_null(kmem_cache_create("bad", 64, 0, 1u << 30, NULL));
	ck_assert(slab_fx_log_has("kmem_cache_create(bad): invalid arguments"));
}
END_TEST

static int ctor_calls;

static void ctor_fill(void *obj)
{
	ctor_calls++;
	memset(obj, 0xc7, 48);
}

START_TEST(test_slab_ctor_runs_once_per_object)
{
	struct kmem_cache *s =
		kmem_cache_create("test-ctor", 48, 0, 0, ctor_fill);
	struct kmem_cache_stats st;
	unsigned char *p[100];

	ctor_calls = 0;
	for (int i = 0; i < 100; i++) {
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
		for (int j = 0; j < 48; j++)
			ck_assert_int_eq(p[i][j], 0xc7);
	}
	kmem_cache_get_stats(s, &st);
	ck_assert_int_eq(ctor_calls, (int)(st.num_slabs * st.objperslab));
	/* Objects go back constructed; the free pointer must not clobber. */
	for (int i = 0; i < 100; i++)
		kmem_cache_free(s, p[i]);
	for (int i = 0; i < 100; i++) {
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
		for (int j = 0; j < 48; j++)
			ck_assert_int_eq(p[i][j], 0xc7);
	}
	ck_assert_int_eq(ctor_calls, (int)(st.num_slabs * st.objperslab));
	for (int i = 0; i < 100; i++)
		kmem_cache_free(s, p[i]);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/*
 * Objects per slab and order, worked out by hand from SLUB's calculate_order
 * for 2 CPUs: min_objects = 4 * (fls(2) + 1) = 12, waste <= 1/16.
 */
START_TEST(test_slab_order_selection)
{
	static const struct {
		unsigned int size, objects, pages;
	} cases[] = {
		{8, 512, 1},  {16, 256, 1}, {32, 128, 1},  {64, 64, 1},
		{96, 42, 1},  {128, 32, 1}, {192, 21, 1},  {256, 16, 1},
		{512, 16, 2}, {700, 23, 4}, {1024, 16, 4}, {2048, 16, 8},
		{4096, 8, 8}, {8192, 4, 8}, {3000, 10, 8}, {40000, 1, 16},
	};
	struct kmem_cache_stats st;

	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct kmem_cache *s = kmem_cache_create(
			"test-order", cases[c].size, 0, 0, NULL);

		ck_assert_ptr_nonnull(s);
		kmem_cache_get_stats(s, &st);
		ck_assert_msg(st.objperslab == cases[c].objects &&
				      st.pagesperslab == cases[c].pages,
			      "size %u: %u objects / %u pages, want %u / %u",
			      cases[c].size, st.objperslab, st.pagesperslab,
			      cases[c].objects, cases[c].pages);
		ck_assert_int_eq(kmem_cache_destroy(s), 0);
	}
}
END_TEST

START_TEST(test_slab_destroy_reports_leaks)
{
	struct kmem_cache *s =
		kmem_cache_create("test-leak", 32, 0, SLAB_STORE_USER, NULL);
	void *p[3];

	for (int i = 0; i < 3; i++)
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
	ck_assert_msg(slab_fx_log_has("kmem_cache_destroy test-leak: 3 objects "
				      "remaining"),
		      "log: %s", slab_fx_log());
	ck_assert(slab_fx_log_has("test-leak: object 0x"));
	ck_assert(slab_fx_log_has("allocated by 0x"));
	/* The cache survived: the objects can still go back. */
	for (int i = 0; i < 3; i++)
		kmem_cache_free(s, p[i]);
	assert_clean(s);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_exhaustion)
{
	struct kmem_cache *s = kmem_cache_create("test-oom", 512, 0, 0, NULL);
	struct kmem_cache_stats st;
	void *p[64];
	int n;

	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.objperslab, 16);
	/* One slab's worth, then the page source says no. */
	host_page_source_fail_after(slab_fx_hps, 1);
	for (n = 0; n < 64; n++) {
		p[n] = kmem_cache_alloc(s, GFP_KERNEL);
		if (!p[n])
			break;
	}
	ck_assert_int_eq(n, 16);
	ck_assert_uint_ge(host_page_source_failures(slab_fx_hps), 1);
	assert_clean(s);
	/* A free makes room again without the page source. */
	kmem_cache_free(s, p[3]);
	p[3] = kmem_cache_alloc(s, GFP_KERNEL);
	ck_assert_ptr_nonnull(p[3]);
	host_page_source_fail_after(slab_fx_hps, -1);
	p[n] = kmem_cache_alloc(s, GFP_KERNEL);
	ck_assert_ptr_nonnull(p[n]);
	for (int i = 0; i <= n; i++)
		kmem_cache_free(s, p[i]);
	assert_clean(s);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_shrink_returns_pages)
{
	struct kmem_cache *s =
		kmem_cache_create("test-shrink", 256, 0, 0, NULL);
	static void *p[2000];
	long before = host_page_source_outstanding(slab_fx_hps), peak;

	for (int i = 0; i < 2000; i++)
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
	peak = host_page_source_outstanding(slab_fx_hps);
	ck_assert_int_ge(peak - before, 2000 / 16);
	for (int i = 0; i < 2000; i++)
		kmem_cache_free(s, p[i]);
	ck_assert_int_gt(kmem_cache_shrink(s), 0);
	assert_clean(s);
	/*
	 * Only the kmem_slab descriptors' pages may remain: 125 descriptors,
	 * 42 per page (96 bytes: 32-byte aligned for the slot tag).
	 */
	ck_assert_int_le(host_page_source_outstanding(slab_fx_hps) - before, 3);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_check_detects_corruption)
{
	struct kmem_cache *s =
		kmem_cache_create("test-corrupt", 64, 0, 0, NULL);
	void **a = kmem_cache_alloc(s, GFP_KERNEL);
	void **b = kmem_cache_alloc(s, GFP_KERNEL);
	void *saved;

	/* Off the CPU: the next free goes to slab->freelist, pointer at 0. */
	kmem_cache_flush_cpu(s);
	kmem_cache_free(s, a);
	kmem_cache_flush_cpu(s); /* drains the per-CPU free batch */
	assert_clean(s);
	saved = a[0];
	a[0] = (char *)b + 3;
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_check(s), -EUCLEAN);
	ck_assert(slab_fx_log_has("free pointer outside the slab"));
	a[0] = saved;
	assert_clean(s);
	kmem_cache_free(s, b);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_slabinfo)
{
	struct kmem_cache *s = kmem_cache_create("test-info", 100, 0, 0, NULL);
	char text[4096], line[256];
	struct mm_buf b;
	void *p[50];

	for (int i = 0; i < 50; i++)
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_flush_all(s);
	mm_buf_init(&b, text, sizeof(text));
	ck_assert_int_eq(slabinfo_format(&b), 0);
	ck_assert(strncmp(text, "slabinfo - version: 2.1\n# name", 30) == 0);
	ck_assert_ptr_nonnull(strstr(text, "<active_objs> <num_objs> <objsize> "
					   "<objperslab> <pagesperslab> : "
					   "tunables <limit> <batchcount> "
					   "<sharedfactor> : slabdata "
					   "<active_slabs> <num_slabs> "
					   "<sharedavail>\n"));
	/* 104-byte stride, 39 per page (waste 40 <= 256), 2 slabs. */
	snprintf(line, sizeof(line),
		 "%-17s %6d %6d %6d %4d %4d : tunables %4d %4d %4d : slabdata "
		 "%6d %6d %6d\n",
		 "test-info", 50, 78, 104, 39, 1, 8192, 0, 0, 2, 2, 0);
	ck_assert_msg(strstr(text, line), "want %s in\n%s", line, text);
	ck_assert_ptr_nonnull(strstr(text, "\nkmem_cache "));
	ck_assert_ptr_nonnull(strstr(text, "\nkmem_slab "));
	mm_buf_init(&b, text, 64);
	ck_assert_int_eq(slabinfo_format(&b), -ENOSPC);
	for (int i = 0; i < 50; i++)
		kmem_cache_free(s, p[i]);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_slab_exit_refuses_with_caches)
{
	struct kmem_cache *s = kmem_cache_create("test-left", 16, 0, 0, NULL);

	ck_assert_int_eq(slab_exit(), -EBUSY);
	ck_assert(slab_fx_log_has("slab_exit: cache test-left still exists"));
	ck_assert_int_eq(slab_init(host_page_source_ps(slab_fx_hps), 2),
			 -EBUSY);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/* ---- threads: remote frees ---- */

struct handoff {
	struct kmem_cache *s;
	void *objs[NOBJ];
};

static void *thread_alloc(void *arg)
{
	struct handoff *h = arg;

	for (int i = 0; i < NOBJ; i++) {
		h->objs[i] = kmem_cache_alloc(h->s, GFP_KERNEL);
		if (h->objs[i])
			memset(h->objs[i], 0x11, 128);
	}
	return NULL;
}

static void *thread_free(void *arg)
{
	struct handoff *h = arg;

	for (int i = 0; i < NOBJ; i++)
		kmem_cache_free(h->s, h->objs[i]);
	return NULL;
}

START_TEST(test_slab_remote_free)
{
	static struct handoff h;
	struct kmem_cache_stats st;
	pthread_t t;
	void *mine;

	h.s = kmem_cache_create("test-remote", 128, 0, 0, NULL);
	/* This thread's active slab receives frees from another thread. */
	mine = kmem_cache_alloc(h.s, GFP_KERNEL);
	pthread_create(&t, NULL, thread_alloc, &h);
	pthread_join(t, NULL);
	for (int i = 0; i < NOBJ; i++)
		ck_assert_ptr_nonnull(h.objs[i]);
	pthread_create(&t, NULL, thread_free, &h);
	pthread_join(t, NULL);
	assert_clean(h.s);
	thread_alloc(&h); /* objects of the other thread's slabs */
	pthread_create(&t, NULL, thread_free, &h);
	pthread_join(t, NULL);
	assert_clean(h.s);
	kmem_cache_free(h.s, mine);
	kmem_cache_flush_all(h.s);
	kmem_cache_get_stats(h.s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	ck_assert_uint_eq(st.nr_cpu_slabs, 0);
	assert_clean(h.s);
	ck_assert_int_eq(kmem_cache_destroy(h.s), 0);
}
END_TEST

#define STRESS_THREADS 4
#define STRESS_SLOTS   4096

struct stress {
	struct kmem_cache *s;
	_Atomic(uint32_t *) slots[STRESS_SLOTS];
	unsigned long seed;
	long iters;
	atomic_int errors;
};

/*
 * Each thread swaps a fresh object into a random shared slot and frees what
 * it took out -- usually another thread's object. Each object carries its
 * own address as a stamp, checked before the free.
 */
static void *thread_stress(void *arg)
{
	struct stress *st = ((void **)arg)[0];
	unsigned long rnd = (uintptr_t)((void **)arg)[1];

	for (long i = 0; i < st->iters; i++) {
		uint32_t *p = kmem_cache_alloc(st->s, GFP_KERNEL), *old;

		rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;
		if (!p) {
			atomic_fetch_add(&st->errors, 1);
			continue;
		}
		for (int w = 0; w < 24; w++)
			p[w] = (uint32_t)(uintptr_t)p + (uint32_t)w;
		old = atomic_exchange(&st->slots[(rnd >> 33) % STRESS_SLOTS],
				      p);
		if (!old)
			continue;
		for (int w = 0; w < 24; w++)
			if (old[w] != (uint32_t)(uintptr_t)old + (uint32_t)w)
				atomic_fetch_add(&st->errors, 1);
		kmem_cache_free(st->s, old);
	}
	return NULL;
}

START_TEST(test_slab_stress_threads)
{
	static struct stress st;
	pthread_t t[STRESS_THREADS];
	void *args[STRESS_THREADS][2];
	struct kmem_cache_stats stats;

	st.s = kmem_cache_create("test-stress", 96, 0, 0, NULL);
	st.seed = unit_seed();
	st.iters = unit_sanitized() ? 50000 : 300000;
	for (int i = 0; i < STRESS_THREADS; i++) {
		args[i][0] = &st;
		args[i][1] = (void *)(uintptr_t)(st.seed + 977u * (unsigned)i);
		pthread_create(&t[i], NULL, thread_stress, args[i]);
	}
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_msg(atomic_load(&st.errors) == 0,
		      "%d corrupted objects (seed %lu)",
		      atomic_load(&st.errors), st.seed);
	assert_clean(st.s);
	for (int i = 0; i < STRESS_SLOTS; i++)
		kmem_cache_free(st.s, atomic_load(&st.slots[i]));
	kmem_cache_flush_all(st.s);
	kmem_cache_get_stats(st.s, &stats);
	ck_assert_uint_eq(stats.active_objs, 0);
	assert_clean(st.s);
	ck_assert_int_eq(kmem_cache_destroy(st.s), 0);
}
END_TEST

/*
 * Batches freed in allocation order, reverse order and random order: the
 * second round reuses the first round's slabs (kept on the per-CPU empty
 * stash, not rebuilt), every step passes the checker (detached freelist and
 * batch included), and a flush brings the cache back to min_partial slabs.
 */
START_TEST(test_slab_batch_reuses_slabs)
{
	struct kmem_cache *s = kmem_cache_create("test-batch", 64, 0, 0, NULL);
	static void *p[4000];
	struct kmem_cache_stats st;
	unsigned int seed = (unsigned int)unit_seed();
	long peak;

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 4000; i++) {
			p[i] = kmem_cache_alloc(s, GFP_KERNEL);
			ck_assert_ptr_nonnull(p[i]);
			memset(p[i], round, 64);
		}
		/* The object cache's array is not a slab page. */
		kmem_cache_get_stats(s, &st);
		if (round == 0)
			peak = host_page_source_outstanding(slab_fx_hps) -
			       (long)st.cpu_cache_pages;
		else
			ck_assert_int_le(
				host_page_source_outstanding(slab_fx_hps) -
					(long)st.cpu_cache_pages,
				peak);
		for (int i = 0; i < 4000; i++) {
			int j = round % 3 == 0	 ? 3999 - i
				: round % 3 == 1 ? i
						 : (int)(rand_r(&seed) % 4000);

			if (!p[j])
				continue;
			ck_assert_int_eq(((char *)p[j])[63], (char)round);
			kmem_cache_free(s, p[j]);
			p[j] = NULL;
			if (i % 997 == 0)
				ck_assert_msg(kmem_cache_check(s) == 0,
					      "round %d seed %lu", round,
					      unit_seed());
		}
		for (int i = 0; i < 4000; i++)
			if (p[i])
				kmem_cache_free(s, p[i]);
		assert_clean(s);
	}
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	ck_assert_uint_le(st.num_slabs, 5); /* min_partial for 64 bytes */
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/* ---- the per-CPU object cache ---- */

/*
 * Frees fill this CPU's object cache up to the cache's bound, the objects
 * count as allocated, the rest go to their slabs; a flush drains it and
 * frees its array, and a shrink then gives every page back.
 */
START_TEST(test_slab_cpu_cache_bound_and_drain)
{
	struct kmem_cache *s = kmem_cache_create("test-cc", 8192, 0, 0, NULL);
	enum { N = 1100 };
	static void *p[N];
	struct kmem_cache_stats st;
	long base = host_page_source_outstanding(slab_fx_hps);

	kmem_cache_get_stats(s, &st);
	/* 8 MiB of 8 KiB objects. */
	ck_assert_uint_eq(st.cpu_cache_limit, 1024);
	ck_assert_uint_eq(st.cpu_cached, 0);
	for (int i = 0; i < N; i++) {
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], 0x5a, 8192);
	}
	for (int i = 0; i < N; i++)
		kmem_cache_free(s, p[i]);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.cpu_cached, 1024);
	ck_assert_uint_ge(st.active_objs, 1024);
	ck_assert_uint_gt(st.cpu_cache_pages, 0);
	/* LIFO: the last object freed into the cache comes back first. */
	ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), p[1023]);
	kmem_cache_free(s, p[1023]);
	assert_clean(s);
	kmem_cache_flush_cpu(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	ck_assert_uint_eq(st.cpu_cache_pages, 0);
	ck_assert_uint_eq(st.active_objs, 0);
	assert_clean(s);
	kmem_cache_shrink(s);
	/* Beyond the boot cache kmem_slab's empty slabs (min_partial). */
	ck_assert_int_le(host_page_source_outstanding(slab_fx_hps), base + 10);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/*
 * All caches' object caches of one CPU share SLAB_MAG_CPU_BYTES (8 MiB):
 * once one holds it all, another caches nothing until the first drains.
 */
START_TEST(test_slab_cpu_cache_cpu_budget)
{
	struct kmem_cache *a = kmem_cache_create("test-cc-a", 8192, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("test-cc-b", 64, 0, 0, NULL);
	enum { NA = 1024, NB = 100 };
	static void *pa[NA], *pb[NB];
	struct kmem_cache_stats st;

	for (int i = 0; i < NA; i++)
		ck_assert_ptr_nonnull(pa[i] = kmem_cache_alloc(a, GFP_KERNEL));
	for (int i = 0; i < NB; i++)
		ck_assert_ptr_nonnull(pb[i] = kmem_cache_alloc(b, GFP_KERNEL));
	for (int i = 0; i < NA; i++)
		kmem_cache_free(a, pa[i]);
	for (int i = 0; i < NB; i++)
		kmem_cache_free(b, pb[i]);
	kmem_cache_get_stats(a, &st);
	ck_assert_uint_eq(st.cpu_cached, NA);
	kmem_cache_get_stats(b, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	assert_clean(a);
	assert_clean(b);
	kmem_cache_flush_cpu(a);
	for (int i = 0; i < NB; i++)
		ck_assert_ptr_nonnull(pb[i] = kmem_cache_alloc(b, GFP_KERNEL));
	for (int i = 0; i < NB; i++)
		kmem_cache_free(b, pb[i]);
	kmem_cache_get_stats(b, &st);
	ck_assert_uint_eq(st.cpu_cached, NB);
	ck_assert_int_eq(kmem_cache_destroy(a), 0);
	ck_assert_int_eq(kmem_cache_destroy(b), 0);
}
END_TEST

/*
 * Memory pressure: when the page source cannot give a new slab, the slab
 * layer drains this CPU's object caches (their emptied slabs go back) and
 * retries, so objects parked in a cache do not make allocations fail.
 */
START_TEST(test_slab_cpu_cache_drained_under_pressure)
{
	/* Order-3 slabs both: B needs a block the dry source cannot give. */
	struct kmem_cache *a = kmem_cache_create("test-cc-a", 4096, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("test-cc-b", 4096, 0, 0, NULL);
	/*
	 * The exhaustion's last failure drains A's cache and frees its
	 * array; the frees after it grow one of a page (512 slots) again.
	 */
	enum { NA = 500, MAX = 20000 };
	static void *pa[NA], *fill[MAX];
	struct kmem_cache_stats st;
	int nfill = 0;
	void *q;

	/* Grow A's object cache while there is memory for its array. */
	for (int i = 0; i < NA; i++)
		ck_assert_ptr_nonnull(pa[i] = kmem_cache_alloc(a, GFP_KERNEL));
	for (int i = 0; i < NA; i++)
		kmem_cache_free(a, pa[i]);
	for (int i = 0; i < NA; i++)
		ck_assert_ptr_nonnull(pa[i] = kmem_cache_alloc(a, GFP_KERNEL));
	/* Exhaust the source. */
	while (nfill < MAX &&
	       (fill[nfill] = kmem_cache_alloc(a, GFP_KERNEL | __GFP_NOWARN)))
		nfill++;
	ck_assert_int_lt(nfill, MAX);
	for (int i = 0; i < NA; i++)
		kmem_cache_free(a, pa[i]);
	kmem_cache_get_stats(a, &st);
	ck_assert_uint_eq(st.cpu_cached, NA);
	/* B has no slab and the source is dry: A's cache must give way. */
	q = kmem_cache_alloc(b, GFP_KERNEL);
	ck_assert_ptr_nonnull(q);
	kmem_cache_get_stats(a, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	assert_clean(a);
	assert_clean(b);
	kmem_cache_free(b, q);
	for (int i = 0; i < nfill; i++)
		kmem_cache_free(a, fill[i]);
	ck_assert_int_eq(kmem_cache_destroy(a), 0);
	ck_assert_int_eq(kmem_cache_destroy(b), 0);
}
END_TEST

/*
 * A non-debug cache takes a double free into its object cache without a
 * word (as SLUB without slub_debug); kmem_cache_check() finds it there.
 * Debug caches have no object cache and refuse it at once.
 */
START_TEST(test_slab_cpu_cache_double_free)
{
	struct kmem_cache *s = kmem_cache_create("test-cc", 96, 0, 0, NULL);
	struct kmem_cache *d = kmem_cache_create(
		"test-cc-dbg", 96, 0, SLAB_RED_ZONE | SLAB_POISON, NULL);
	struct kmem_cache_stats st;
	void *p[64], *x;

	for (int i = 0; i < 64; i++)
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 64; i++)
		kmem_cache_free(s, p[i]);
	x = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, x);
	kmem_cache_free(s, x);
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_check(s), -EUCLEAN);
	ck_assert(slab_fx_log_has("object twice in the object cache"));
	/* Take both copies back out, give one back: clean again. */
	ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), x);
	ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), x);
	kmem_cache_free(s, x);
	assert_clean(s);

	kmem_cache_get_stats(d, &st);
	ck_assert_uint_eq(st.cpu_cache_limit, 0);
	for (int i = 0; i < 64; i++)
		p[i] = kmem_cache_alloc(d, GFP_KERNEL);
	for (int i = 0; i < 64; i++)
		kmem_cache_free(d, p[i]);
	slab_fx_log_clear();
	kmem_cache_free(d, p[17]);
	ck_assert(slab_fx_log_has("BUG test-cc-dbg: double free"));
	kmem_cache_get_stats(d, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	ck_assert_uint_eq(st.active_objs, 0);
	assert_clean(d);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
	ck_assert_int_eq(kmem_cache_destroy(d), 0);
}
END_TEST

/*
 * Cross-CPU frees: objects one thread allocated go into the object cache of
 * the thread that frees them, which then allocates them itself; the checker
 * sees them as allocated, the statistics count them until flush_all, and
 * destroy drains every CPU's cache.
 */
START_TEST(test_slab_cpu_cache_cross_cpu)
{
	static struct handoff h, again;
	struct kmem_cache_stats st;
	pthread_t t;

	h.s = kmem_cache_create("test-cc-x", 128, 0, 0, NULL);
	again.s = h.s;
	pthread_create(&t, NULL, thread_alloc, &h);
	pthread_join(t, NULL);
	for (int i = 0; i < NOBJ; i++)
		ck_assert_ptr_nonnull(h.objs[i]);
	/* This thread frees them all into its cache, then reuses them. */
	thread_free(&h);
	kmem_cache_get_stats(h.s, &st);
	ck_assert_uint_eq(st.cpu_cached, NOBJ);
	ck_assert_uint_ge(st.active_objs, NOBJ);
	assert_clean(h.s);
	thread_alloc(&again);
	for (int i = 0; i < NOBJ; i++)
		ck_assert_ptr_eq(again.objs[i], h.objs[NOBJ - 1 - i]);
	/* Another thread frees them: they stay in its (dead) slot's cache. */
	pthread_create(&t, NULL, thread_free, &again);
	pthread_join(t, NULL);
	kmem_cache_get_stats(h.s, &st);
	ck_assert_uint_eq(st.cpu_cached, NOBJ);
	assert_clean(h.s);
	kmem_cache_flush_all(h.s);
	kmem_cache_get_stats(h.s, &st);
	ck_assert_uint_eq(st.cpu_cached, 0);
	ck_assert_uint_eq(st.active_objs, 0);
	assert_clean(h.s);
	ck_assert_int_eq(kmem_cache_destroy(h.s), 0);
}
END_TEST

/* destroy drains the object caches: no leak reported, every page back. */
START_TEST(test_slab_cpu_cache_destroy_drains)
{
	struct kmem_cache *s = kmem_cache_create("test-cc", 256, 0, 0, NULL);
	/* The cache's own struct: its boot-cache slab stays afterwards. */
	long base = host_page_source_outstanding(slab_fx_hps);
	void *p[700];

	for (int i = 0; i < 700; i++)
		p[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 700; i++)
		kmem_cache_free(s, p[i]);
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
	ck_assert(!slab_fx_log_has("remaining"));
	/* kmem_slab's empty descriptor slabs too: nothing beyond @base. */
	ck_assert_int_gt(slab_shrink_cpu_caches(), 0);
	ck_assert_int_le(host_page_source_outstanding(slab_fx_hps), base);
}
END_TEST

/* The frame-slot tag (kmalloc's classes): set once, before any slab. */
START_TEST(test_slab_slot_tag)
{
	struct kmem_cache *s = kmem_cache_create("test-tag", 64, 0, 0, NULL);
	uintptr_t *slot;
	void *p;

	ck_assert_int_eq(kmem_cache_set_slot_tag(s, 0), -EINVAL);
	ck_assert_int_eq(kmem_cache_set_slot_tag(s, SLAB_SLOT_TAG_MAX + 1),
			 -EINVAL);
	ck_assert_int_eq(kmem_cache_set_slot_tag(s, 7), 0);
	p = kmem_cache_alloc(s, GFP_KERNEL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(kmem_cache_set_slot_tag(s, 3), -EINVAL);
	slot = page_source_slot(host_page_source_ps(slab_fx_hps), p);
	ck_assert_uint_eq(SLAB_SLOT_TAG(*slot), 7);
	ck_assert(!SLAB_SLOT_IS_LARGE(*slot));
	ck_assert_ptr_eq(kmem_slot_cache(*slot), s);
	assert_clean(s);
	kmem_cache_free(s, p);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

static Suite *slab_suite(void)
{
	Suite *s = suite_create("slab");
	TCase *tc = tcase_create("core");
	TCase *threads = tcase_create("threads");
	TCase *cc = tcase_create("cpu_cache");

	tcase_add_checked_fixture(tc, slab_fx_setup, slab_fx_teardown);
	tcase_add_test(tc, test_slab_alloc_free_destroy);
	tcase_add_test(tc, test_slab_zalloc_and_reuse);
	tcase_add_test(tc, test_slab_alignment);
	tcase_add_test(tc, test_slab_ctor_runs_once_per_object);
	tcase_add_test(tc, test_slab_order_selection);
	tcase_add_test(tc, test_slab_destroy_reports_leaks);
	tcase_add_test(tc, test_slab_exhaustion);
	tcase_add_test(tc, test_slab_shrink_returns_pages);
	tcase_add_test(tc, test_slab_batch_reuses_slabs);
	tcase_add_test(tc, test_slab_check_detects_corruption);
	tcase_add_test(tc, test_slab_slabinfo);
	tcase_add_test(tc, test_slab_slot_tag);
	tcase_add_test(tc, test_slab_exit_refuses_with_caches);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(threads, slab_fx_setup, slab_fx_teardown);
	tcase_set_timeout(threads, 120);
	tcase_add_test(threads, test_slab_remote_free);
	tcase_add_test(threads, test_slab_stress_threads);
	suite_add_tcase(s, threads);
	tcase_add_checked_fixture(cc, slab_fx_setup, slab_fx_teardown);
	tcase_set_timeout(cc, 120);
	tcase_add_test(cc, test_slab_cpu_cache_bound_and_drain);
	tcase_add_test(cc, test_slab_cpu_cache_cpu_budget);
	tcase_add_test(cc, test_slab_cpu_cache_drained_under_pressure);
	tcase_add_test(cc, test_slab_cpu_cache_double_free);
	tcase_add_test(cc, test_slab_cpu_cache_cross_cpu);
	tcase_add_test(cc, test_slab_cpu_cache_destroy_drains);
	suite_add_tcase(s, cc);
	return s;
}
UNIT_SUITE(slab_suite)
