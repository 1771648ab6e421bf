// SPDX-License-Identifier: MIT
/*
 * Unit tests for the slab debug features: each detection is asserted on the
 * captured log, and the cache must pass kmem_cache_check() afterwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mm/slab.h"
#include "slab_fx.h"
#include "unit.h"

#define DEBUG_ALL (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)

static void assert_consistent(struct kmem_cache *s, unsigned long active)
{
	struct kmem_cache_stats st;

	ck_assert_int_eq(kmem_cache_check(s), 0);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, active);
}

START_TEST(test_debug_redzone_overflow)
{
	struct kmem_cache *s =
		kmem_cache_create("dbg-rz", 24, 0, SLAB_RED_ZONE, NULL);
	char *p = kmem_cache_alloc(s, GFP_KERNEL);
	char *q = kmem_cache_alloc(s, GFP_KERNEL);
	char want[128];

	memset(p, 1, 24); /* in bounds: silent */
	p[24] = 'X';	  /* one past the end */
	slab_fx_log_clear();
	kmem_cache_free(s, p);
	snprintf(want, sizeof(want),
		 "BUG dbg-rz: Redzone overwritten at offset 24 (0x58, "
		 "expected 0xcc): object %p (size 24)",
		 (void *)p);
	ck_assert_msg(slab_fx_log_has(want), "log: %s", slab_fx_log());
	assert_consistent(s, 1);
	/* Repaired: the object is reusable and reported only once. */
	slab_fx_log_clear();
	p = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, p);
	kmem_cache_free(s, q);
	ck_assert_str_eq(slab_fx_log(), "");
	assert_consistent(s, 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_debug_poison_use_after_free)
{
	struct kmem_cache *s =
		kmem_cache_create("dbg-poison", 32, 0, SLAB_POISON, NULL);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL), *again;
	char want[128];

	kmem_cache_free(s, p);
	ck_assert_int_eq(p[0], SLAB_POISON_FREE);
	ck_assert_int_eq(p[31], SLAB_POISON_END);
	p[5] = 0x42; /* use after free */
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_check(s), -EUCLEAN);
	ck_assert(slab_fx_log_has("poison overwritten"));
	again = kmem_cache_alloc(s, GFP_KERNEL);
	ck_assert_ptr_eq(again, p); /* LIFO: the poisoned one comes back */
	snprintf(want, sizeof(want),
		 "BUG dbg-poison: Poison overwritten (use after free) at "
		 "offset 5 (0x42): object %p",
		 (void *)p);
	ck_assert_msg(slab_fx_log_has(want), "log: %s", slab_fx_log());
	assert_consistent(s, 1);
	kmem_cache_free(s, again);
	assert_consistent(s, 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

/* Free every object the last leak report of @s listed. */
static int free_listed_leaks(struct kmem_cache *s, const char *key)
{
	const char *at = slab_fx_log();
	int n = 0;
	void *obj;

	while ((at = strstr(at, key)) != NULL) {
		at += strlen(key);
		if (sscanf(at, "%p", &obj) == 1) {
			kmem_cache_free(s, obj);
			n++;
		}
	}
	return n;
}

START_TEST(test_debug_double_free)
{
	unsigned int flags[] = {DEBUG_ALL, SLAB_STORE_USER, SLAB_RED_ZONE};

	for (unsigned int f = 0; f < 3; f++) {
		struct kmem_cache *s =
			kmem_cache_create("dbg-double", 40, 0, flags[f], NULL);
		void *p = kmem_cache_alloc(s, GFP_KERNEL);
		void *q = kmem_cache_alloc(s, GFP_KERNEL);

		kmem_cache_free(s, p);
		slab_fx_log_clear();
		kmem_cache_free(s, p);
		ck_assert_msg(
			slab_fx_log_has("BUG dbg-double: double free; free "
					"refused"),
			"flags 0x%x log: %s", flags[f], slab_fx_log());
		assert_consistent(s, 1);
		/* The freelist holds p once: two allocs give two objects. */
		p = kmem_cache_alloc(s, GFP_KERNEL);
		ck_assert_ptr_ne(p, kmem_cache_alloc(s, GFP_KERNEL));
		assert_consistent(s, 3);
		kmem_cache_flush_all(s);
		slab_fx_log_clear();
		ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
		ck_assert(slab_fx_log_has("3 objects remaining"));
		kmem_cache_free(s, p);
		kmem_cache_free(s, q);
		/* The unnamed third object: found through the leak report. */
		slab_fx_log_clear();
		ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
		ck_assert(slab_fx_log_has("1 objects remaining"));
		ck_assert_int_eq(free_listed_leaks(s, "dbg-double: object "),
				 1);
		ck_assert_int_eq(kmem_cache_destroy(s), 0);
	}
}
END_TEST

START_TEST(test_debug_wrong_cache_and_bad_pointers)
{
	struct kmem_cache *a = kmem_cache_create("dbg-a", 64, 0, 0, NULL);
	struct kmem_cache *b =
		kmem_cache_create("dbg-b", 64, 0, DEBUG_ALL, NULL);
	char *pa = kmem_cache_alloc(a, GFP_KERNEL);
	char *pb = kmem_cache_alloc(b, GFP_KERNEL);
	char want[160];
	int on_stack;

	slab_fx_log_clear();
	kmem_cache_free(b, pa);
	snprintf(want, sizeof(want), "BUG dbg-b: invalid free of %p (caller 0x",
		 (void *)pa);
	ck_assert_msg(slab_fx_log_has(want), "log: %s", slab_fx_log());
	ck_assert(slab_fx_log_has("object of cache dbg-a; free refused"));
	kmem_cache_free(a, pb);
	ck_assert(slab_fx_log_has("object of cache dbg-b; free refused"));
	kmem_cache_free(a, &on_stack);
	ck_assert(slab_fx_log_has("not a slab object; free refused"));
	/* Inside an object of the right cache, but not its start. */
	kmem_cache_free(b, pb + 8);
	snprintf(want, sizeof(want),
		 "BUG dbg-b: invalid free of %p: not at an object boundary",
		 (void *)(pb + 8));
	ck_assert_msg(slab_fx_log_has(want), "log: %s", slab_fx_log());
	ck_assert_int_eq(kmem_cache_check(a), 0);
	ck_assert_int_eq(kmem_cache_check(b), 0);
	kmem_cache_free(a, pa);
	kmem_cache_free(b, pb);
	assert_consistent(b, 0);
	ck_assert_int_eq(kmem_cache_destroy(a), 0);
	ck_assert_int_eq(kmem_cache_destroy(b), 0);
}
END_TEST

static __attribute__((noinline)) void *alloc_site(struct kmem_cache *s)
{
	void *p = kmem_cache_alloc(s, GFP_KERNEL);

	__asm__ volatile("" ::: "memory"); /* no tail call */
	return p;
}

static __attribute__((noinline)) void free_site(struct kmem_cache *s, void *p)
{
	kmem_cache_free(s, p);
	__asm__ volatile("" ::: "memory");
}

/* The address after @key in the log, or 0. */
static uintptr_t log_addr_after(const char *key)
{
	const char *at = strstr(slab_fx_log(), key);
	void *addr = NULL;

	if (!at || sscanf(at + strlen(key), "%p", &addr) != 1)
		return 0;
	return (uintptr_t)addr;
}

START_TEST(test_debug_store_user_shows_callers)
{
	struct kmem_cache *s =
		kmem_cache_create("dbg-user", 48, 0, DEBUG_ALL, NULL);
	void *p = alloc_site(s);
	uintptr_t a, f;

	free_site(s, p);
	slab_fx_log_clear();
	free_site(s, p); /* double free: the report shows both tracks */
	a = log_addr_after("last alloc by ");
	f = log_addr_after("last free by ");
	ck_assert_msg(a > (uintptr_t)alloc_site &&
			      a < (uintptr_t)alloc_site + 256,
		      "alloc track %p not in alloc_site %p; log %s", (void *)a,
		      (void *)alloc_site, slab_fx_log());
	ck_assert_msg(f > (uintptr_t)free_site &&
			      f < (uintptr_t)free_site + 256,
		      "free track %p not in free_site %p", (void *)f,
		      (void *)free_site);
	assert_consistent(s, 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

START_TEST(test_debug_corrupted_freelist_pointer)
{
	/* 8000 + 8 red zone + 8 free pointer: 4 objects per order-3 slab. */
	struct kmem_cache *s =
		kmem_cache_create("dbg-fp", 8000, 0, SLAB_RED_ZONE, NULL);
	char *p = kmem_cache_alloc(s, GFP_KERNEL);
	char *q = kmem_cache_alloc(s, GFP_KERNEL);
	struct kmem_cache_stats st;

	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.objperslab, 4);
	kmem_cache_free(s, p);
	/* A wild write past p: its red zone and free pointer (at 8008). */
	memset(p + 8000, 0x41, 16);
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_check(s), -EUCLEAN);
	/* The alloc notices the bad next pointer instead of following it. */
	ck_assert_ptr_eq(kmem_cache_alloc(s, GFP_KERNEL), p);
	ck_assert_msg(slab_fx_log_has("BUG dbg-fp: freelist pointer corrupted; "
				      "slab leaked"),
		      "log: %s", slab_fx_log());
	ck_assert(slab_fx_log_has(
		"BUG dbg-fp: Redzone overwritten at offset 8000"));
	ck_assert_int_eq(kmem_cache_check(s), 0);
	kmem_cache_free(s, p);
	kmem_cache_free(s, q);
	ck_assert_int_eq(kmem_cache_check(s), 0);
	/* The two objects cut off the freelist stay "allocated": leaks. */
	slab_fx_log_clear();
	ck_assert_int_eq(kmem_cache_destroy(s), -EBUSY);
	ck_assert(slab_fx_log_has("dbg-fp: 2 objects remaining"));
	ck_assert_int_eq(free_listed_leaks(s, "dbg-fp: object "), 2);
	ck_assert_int_eq(kmem_cache_check(s), 0);
	ck_assert_int_eq(kmem_cache_destroy(s), 0);
}
END_TEST

static Suite *slab_debug_suite(void)
{
	Suite *s = suite_create("slab_debug");
	TCase *tc = tcase_create("detect");

	tcase_add_checked_fixture(tc, slab_fx_setup, slab_fx_teardown);
	tcase_add_test(tc, test_debug_redzone_overflow);
	tcase_add_test(tc, test_debug_poison_use_after_free);
	tcase_add_test(tc, test_debug_double_free);
	tcase_add_test(tc, test_debug_wrong_cache_and_bad_pointers);
	tcase_add_test(tc, test_debug_store_user_shows_callers);
	tcase_add_test(tc, test_debug_corrupted_freelist_pointer);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(slab_debug_suite)
