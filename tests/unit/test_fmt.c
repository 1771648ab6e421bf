// SPDX-License-Identifier: MIT
/* Unit tests for mm/fmt.c, checked against the host's snprintf. */
#include <stdio.h>
#include <string.h>

#include "mm/fmt.h"
#include "unit.h"

#define CHECK_SAME(...)                                                        \
	do {                                                                   \
		char ours[128], libc[128];                                     \
		int n1 = mm_snprintf(ours, sizeof(ours), __VA_ARGS__);         \
		int n2 = snprintf(libc, sizeof(libc), __VA_ARGS__);            \
		ck_assert_str_eq(ours, libc);                                  \
		ck_assert_int_eq(n1, n2);                                      \
	} while (0)

START_TEST(test_fmt_matches_libc)
{
	CHECK_SAME("%d %i %u", -42, 7, 4000000000u);
	CHECK_SAME("%5d|%-5d|%05d", 42, 42, -42);
	CHECK_SAME("%x %X %08lx %llu", 0xbeefu, 0xbeefu, 0x1234ul,
		   18446744073709551615ull);
	CHECK_SAME("%s|%10s|%-10s|%.3s", "abc", "right", "left", "truncate");
	CHECK_SAME("%c%%%zu", 'z', (size_t)99);
	CHECK_SAME("%ld %lld %hhu", -9000000000l, -1ll, 300);
	CHECK_SAME("%*d|%-*d", 6, 1, 6, 2);
}
END_TEST

START_TEST(test_fmt_truncates_and_counts)
{
	char buf[8];
	int n = mm_snprintf(buf, sizeof(buf), "%s", "0123456789");

	ck_assert_int_eq(n, 10);
	ck_assert_str_eq(buf, "0123456");
	ck_assert_int_eq(mm_snprintf(NULL, 0, "%d", 12345), 5);
}
END_TEST

START_TEST(test_buf_appends_and_remembers_truncation)
{
	char data[16];
	struct mm_buf b;

	mm_buf_init(&b, data, sizeof(data));
	mm_buf_printf(&b, "%s", "Node 0, ");
	mm_buf_printf(&b, "zone %s", "DMA");
	ck_assert_str_eq(data, "Node 0, zone DM");
	ck_assert(mm_buf_truncated(&b));
	mm_buf_init(&b, data, sizeof(data));
	mm_buf_printf(&b, "%d", 1);
	ck_assert(!mm_buf_truncated(&b));
	ck_assert_str_eq(data, "1");
}
END_TEST

static Suite *fmt_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fmt_matches_libc);
	tcase_add_test(tc, test_fmt_truncates_and_counts);
	tcase_add_test(tc, test_buf_appends_and_remembers_truncation);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(fmt_suite)
