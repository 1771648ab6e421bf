// SPDX-License-Identifier: MIT
/*
 * Unit tests for the control API's per-client buffers (vmm/api_buf.c):
 * lines handed out one at a time, the line bound, the input buffer never
 * holding more than one line's bound, the output buffer's high-water mark
 * and hard bound.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "vmm/api_buf.h"

/* Copy @s into @b as a client's recv() would, in one piece. */
static void feed(struct api_inbuf *b, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		char *dst;
		long room = api_inbuf_space(b, &dst);
		size_t n;

		ck_assert_int_gt(room, 0);
		n = len < (size_t)room ? len : (size_t)room;
		memcpy(dst, s, n);
		api_inbuf_commit(b, n);
		s += n;
		len -= n;
	}
}

static void assert_line(struct api_inbuf *b, const char *want)
{
	const char *line;
	size_t len;

	ck_assert(api_inbuf_has_line(b));
	ck_assert_int_eq(api_inbuf_next_line(b, &line, &len), 1);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(line, want, len) == 0);
}

START_TEST(test_inbuf_lines_one_at_a_time)
{
	struct api_inbuf b;
	const char *line;
	size_t len;

	api_inbuf_init(&b, 64);
	ck_assert(!api_inbuf_has_line(&b));
	ck_assert_int_eq(api_inbuf_next_line(&b, &line, &len), 0);
	feed(&b, "first\r\n\nthi");
	assert_line(&b, "first"); /* one '\r' before the newline goes */
	assert_line(&b, "");	  /* an empty line is a line (EINVAL later) */
	ck_assert(!api_inbuf_has_line(&b));
	ck_assert_int_eq(api_inbuf_next_line(&b, &line, &len), 0);
	feed(&b, "rd\r\r\n");
	assert_line(&b, "third\r");
	ck_assert(!api_inbuf_has_line(&b));
	/* At the end of input, a last line without its newline. */
	ck_assert_int_eq(api_inbuf_take_rest(&b, &line, &len), 0);
	feed(&b, "last\r");
	ck_assert_int_eq(api_inbuf_take_rest(&b, &line, &len), 1);
	ck_assert(len == 4 && memcmp(line, "last", 4) == 0);
	ck_assert_int_eq(api_inbuf_take_rest(&b, &line, &len), 0);
	api_inbuf_free(&b);
}
END_TEST

START_TEST(test_inbuf_bounds)
{
	struct api_inbuf b;
	char line[80], *dst;
	const char *got;
	size_t len;

	api_inbuf_init(&b, 64);
	/* A line of exactly the bound, then its newline, is a line. */
	memset(line, 'x', 64);
	line[64] = '\0';
	feed(&b, line);
	ck_assert(!api_inbuf_has_line(&b));
	ck_assert_int_eq(api_inbuf_space(&b, &dst), 1); /* room: the newline */
	feed(&b, "\n");
	ck_assert_int_eq(api_inbuf_space(&b, &dst), 0); /* full: stop reading */
	assert_line(&b, line);
	/* Consumed: the room is back, a line's bound and no more. */
	ck_assert_int_eq(api_inbuf_space(&b, &dst), 65);

	/* Many short lines in one read: never more than the bound held. */
	feed(&b, "a\nb\nc\n");
	ck_assert_int_eq(api_inbuf_space(&b, &dst), 65 - 6);
	assert_line(&b, "a");
	assert_line(&b, "b");
	assert_line(&b, "c");

	/* One byte over the bound without a newline: E2BIG, at once. */
	memset(line, 'y', 65);
	line[65] = '\0';
	feed(&b, line);
	ck_assert(api_inbuf_has_line(&b));
	ck_assert_int_eq(api_inbuf_next_line(&b, &got, &len), -E2BIG);
	ck_assert_int_eq(api_inbuf_space(&b, &dst), 0);
	api_inbuf_free(&b);
}
END_TEST

START_TEST(test_outbuf_high_water_and_bound)
{
	struct api_outbuf o;
	const char *p;
	size_t len;
	char big[100];

	api_outbuf_init(&o, 10, 40);
	ck_assert_ptr_null(api_outbuf_pending(&o, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(api_outbuf_append_line(&o, "abc", 3), 0);
	ck_assert(!api_outbuf_full(&o));
	p = api_outbuf_pending(&o, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert(memcmp(p, "abc\n", 4) == 0);
	/* Over the high-water mark: full, though a reply still fits. */
	ck_assert_int_eq(api_outbuf_append_line(&o, "defghij", 7), 0);
	ck_assert(api_outbuf_full(&o));
	/* A reply that would pass the hard bound is refused, whole. */
	memset(big, 'z', sizeof(big));
	ck_assert_int_eq(api_outbuf_append_line(&o, big, 28), -ENOBUFS);
	ck_assert_uint_eq(o.len, 12);
	ck_assert_int_eq(api_outbuf_append_line(&o, big, 27), 0);
	ck_assert_uint_eq(o.len, 40);
	ck_assert_int_eq(api_outbuf_append_line(&o, "", 0), -ENOBUFS);
	/* Partial sends keep the order. */
	api_outbuf_consume(&o, 2);
	p = api_outbuf_pending(&o, &len);
	ck_assert_uint_eq(len, 38);
	ck_assert(memcmp(p, "c\ndefghij\n", 10) == 0);
	api_outbuf_consume(&o, 10);
	ck_assert(api_outbuf_full(&o)); /* 27 + 1 left */
	api_outbuf_consume(&o, 28);
	ck_assert(!api_outbuf_full(&o));
	ck_assert_ptr_null(api_outbuf_pending(&o, &len));
	ck_assert_int_eq(api_outbuf_append_line(&o, "x", 1), 0);
	p = api_outbuf_pending(&o, &len);
	ck_assert(len == 2 && memcmp(p, "x\n", 2) == 0);
	api_outbuf_free(&o);
}
END_TEST

static Suite *api_buf_suite(void)
{
	Suite *s = suite_create("api_buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_inbuf_lines_one_at_a_time);
	tcase_add_test(tc, test_inbuf_bounds);
	tcase_add_test(tc, test_outbuf_high_water_and_bound);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(api_buf_suite)
