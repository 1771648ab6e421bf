// SPDX-License-Identifier: MIT
/* Unit tests for mm/mempool.c: reserve under failure, refill, resize. */
#include <stdint.h>
#include <string.h>

#include "mm/kmalloc.h"
#include "mm/mempool.h"
#include "mm/slab.h"
#include "slab_fx.h"
#include "unit.h"

/* An allocator that fails on demand and records what it was asked. */
struct flaky {
	bool fail;
	int allocs, frees, calls;
	gfp_t gfp[16];
};

static void *flaky_alloc(gfp_t gfp, void *data)
{
	struct flaky *f = data;

	if (f->calls < 16)
		f->gfp[f->calls] = gfp;
	f->calls++;
	if (f->fail)
		return NULL;
	f->allocs++;
	return kmalloc(64, gfp);
}

static void flaky_free(void *e, void *data)
{
	struct flaky *f = data;

	f->frees++;
	kfree(e);
}

START_TEST(test_mempool_reserve_under_failure)
{
	struct flaky f = {0};
	struct mempool *pool = mempool_create(4, flaky_alloc, flaky_free, &f);
	void *e[6];

	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(mempool_reserve_count(pool), 4);
	ck_assert_int_eq(f.allocs, 4);
	/* The allocator works: the reserve is not touched. */
	e[0] = mempool_alloc(pool, GFP_KERNEL);
	ck_assert_int_eq(mempool_reserve_count(pool), 4);
	ck_assert(f.gfp[4] & __GFP_NORETRY);
	ck_assert(!(f.gfp[4] & __GFP_DIRECT_RECLAIM));
	mempool_free(e[0], pool); /* reserve full: back to the allocator */
	ck_assert_int_eq(f.frees, 1);
	f.fail = true;
	f.calls = 0;
	for (int i = 0; i < 4; i++) {
		e[i] = mempool_alloc(pool, GFP_NOWAIT);
		ck_assert_ptr_nonnull(e[i]);
	}
	ck_assert_int_eq(mempool_reserve_count(pool), 0);
	ck_assert_int_eq(f.calls, 4);
	/* Empty reserve, no blocking allowed: NULL after one attempt. */
	ck_assert_ptr_null(mempool_alloc(pool, GFP_NOWAIT));
	ck_assert_int_eq(f.calls, 5);
	/* Blocking allowed: one more try with the full gfp, then NULL. */
	ck_assert_ptr_null(mempool_alloc(pool, GFP_KERNEL));
	ck_assert_int_eq(f.calls, 7);
	ck_assert_uint_eq(f.gfp[6], GFP_KERNEL);
	/* Frees refill the reserve first. */
	mempool_free(e[0], pool);
	ck_assert_int_eq(mempool_reserve_count(pool), 1);
	ck_assert_int_eq(f.frees, 1);
	ck_assert_ptr_eq(mempool_alloc(pool, GFP_NOWAIT), e[0]);
	for (int i = 0; i < 4; i++)
		mempool_free(e[i], pool);
	ck_assert_int_eq(mempool_reserve_count(pool), 4);
	mempool_destroy(pool);
	ck_assert_int_eq(f.allocs, f.frees);
}
END_TEST

START_TEST(test_mempool_resize)
{
	struct flaky f = {0};
	struct mempool *pool = mempool_create(4, flaky_alloc, flaky_free, &f);
	void *e[10];

	ck_assert_int_eq(mempool_resize(pool, 10), 0);
	ck_assert_int_eq(mempool_reserve_count(pool), 10);
	ck_assert_int_eq(f.allocs, 10);
	ck_assert_int_eq(mempool_resize(pool, 2), 0);
	ck_assert_int_eq(mempool_reserve_count(pool), 2);
	ck_assert_int_eq(f.frees, 8);
	/* Growth that cannot be satisfied leaves the pool as it was. */
	f.fail = true;
	ck_assert_int_eq(mempool_resize(pool, 6), -ENOMEM);
	ck_assert_int_eq(mempool_reserve_count(pool), 2);
	ck_assert_int_eq(mempool_resize(pool, 0), -EINVAL);
	/* Still min_nr 2: a third free goes to the allocator. */
	e[0] = mempool_alloc(pool, GFP_NOWAIT);
	e[1] = mempool_alloc(pool, GFP_NOWAIT);
	ck_assert_ptr_nonnull(e[1]);
	f.fail = false;
	e[2] = mempool_alloc(pool, GFP_NOWAIT);
	for (int i = 0; i < 3; i++)
		mempool_free(e[i], pool);
	ck_assert_int_eq(mempool_reserve_count(pool), 2);
	mempool_destroy(pool);
	ck_assert_int_eq(f.allocs, f.frees);
	mempool_destroy(NULL);
	ck_assert_ptr_null(mempool_create(-1, flaky_alloc, flaky_free, &f));
	f.fail = true;
	ck_assert_ptr_null(mempool_create(3, flaky_alloc, flaky_free, &f));
}
END_TEST

START_TEST(test_mempool_page_pool_injected_failure)
{
	struct mempool *pool;
	long base;
	void *e[4];

	/* Warm the kmalloc caches that hold the pool itself. */
	mempool_destroy(mempool_create_page_pool(3, 1));
	base = host_page_source_outstanding(slab_fx_hps);
	pool = mempool_create_page_pool(3, 1);

	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(host_page_source_outstanding(slab_fx_hps) - base, 6);
	host_page_source_fail_after(slab_fx_hps, 0);
	for (int i = 0; i < 3; i++) {
		e[i] = mempool_alloc(pool, GFP_ATOMIC);
		ck_assert_ptr_nonnull(e[i]);
		ck_assert_uint_eq((uintptr_t)e[i] % (2 * PS_PAGE_SIZE), 0);
		memset(e[i], i, 2 * PS_PAGE_SIZE);
	}
	ck_assert_ptr_null(mempool_alloc(pool, GFP_ATOMIC));
	host_page_source_fail_after(slab_fx_hps, -1);
	e[3] = mempool_alloc(pool, GFP_KERNEL);
	ck_assert_ptr_nonnull(e[3]);
	ck_assert_int_eq(host_page_source_outstanding(slab_fx_hps) - base, 8);
	for (int i = 0; i < 4; i++)
		mempool_free(e[i], pool);
	ck_assert_int_eq(mempool_reserve_count(pool), 3);
	ck_assert_int_eq(host_page_source_outstanding(slab_fx_hps) - base, 6);
	mempool_destroy(pool);
	ck_assert_int_eq(host_page_source_outstanding(slab_fx_hps), base);
}
END_TEST

START_TEST(test_mempool_slab_and_kmalloc_pools)
{
	struct kmem_cache *s = kmem_cache_create("pool-objs", 200, 0, 0, NULL);
	struct mempool *sp = mempool_create_slab_pool(5, s);
	struct mempool *kp = mempool_create_kmalloc_pool(5, 300);
	struct kmem_cache_stats st;
	void *a = mempool_alloc(sp, GFP_KERNEL);
	void *b = mempool_alloc(kp, GFP_KERNEL);

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_ge(ksize(b), 300);
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 6);
	mempool_free(a, sp);
	mempool_free(b, kp);
	mempool_destroy(sp);
	mempool_destroy(kp);
	kmem_cache_flush_all(s);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

static Suite *mempool_suite(void)
{
	Suite *s = suite_create("mempool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, slab_fx_kmalloc_setup,
				  slab_fx_kmalloc_teardown);
	tcase_add_test(tc, test_mempool_reserve_under_failure);
	tcase_add_test(tc, test_mempool_resize);
	tcase_add_test(tc, test_mempool_page_pool_injected_failure);
	tcase_add_test(tc, test_mempool_slab_and_kmalloc_pools);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(mempool_suite)
