/* SPDX-License-Identifier: MIT */
/*
 * mm/fmt.h - a small freestanding vsnprintf, shared by mm/'s statistics and
 * the guest's console. Supports %d %i %u %x %X %o %c %s %p %% with the flags
 * '-', '0', width, precision for %s, and the length modifiers hh h l ll z.
 * Returns the length the output would have had (as C's snprintf does).
 */
#ifndef MM_FMT_H
#define MM_FMT_H

#include <stdarg.h>
#include <stddef.h>

int mm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int mm_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A bounded output buffer that formats append to; overflow truncates and is
 * remembered, so formatting code need not check every call.
 */
struct mm_buf {
	char *data;
	size_t size;
	size_t len; /* would-be length; > size - 1 means truncated */
};

void mm_buf_init(struct mm_buf *b, char *data, size_t size);
void mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int mm_buf_truncated(const struct mm_buf *b)
{
	return b->size == 0 || b->len > b->size - 1;
}

#endif /* MM_FMT_H */
