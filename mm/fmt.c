// SPDX-License-Identifier: MIT
/* mm/fmt.c - freestanding vsnprintf (see fmt.h for what it supports). */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

struct fmt_spec {
	bool left;
	bool zero;
	int width;
	int precision; /* -1: none */
	int length; /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_str(struct fmt_out *o, const struct fmt_spec *s,
		    const char *str)
{
	int n = 0;

	if (!str)
		str = "(null)";
	while (str[n] && (s->precision < 0 || n < s->precision))
		n++;
	if (!s->left)
		out_pad(o, ' ', s->width - n);
	for (int i = 0; i < n; i++)
		out_char(o, str[i]);
	if (s->left)
		out_pad(o, ' ', s->width - n);
}

static void out_num(struct fmt_out *o, const struct fmt_spec *s,
		    unsigned long long v, bool negative, unsigned base,
		    bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (negative ? 1 : 0);
	if (!s->left && !s->zero)
		out_pad(o, ' ', s->width - len);
	if (negative)
		out_char(o, '-');
	if (!s->left && s->zero)
		out_pad(o, '0', s->width - len);
	while (n)
		out_char(o, tmp[--n]);
	if (s->left)
		out_pad(o, ' ', s->width - len);
}

static const char *parse_spec(const char *f, struct fmt_spec *s, va_list *ap)
{
	*s = (struct fmt_spec){.precision = -1};
	for (;; f++) {
		if (*f == '-')
			s->left = true;
		else if (*f == '0')
			s->zero = true;
		else
			break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		s->width = s->width * 10 + (*f++ - '0');
	if (*f == '.') {
		s->precision = 0;
		f++;
		if (*f == '*') {
			s->precision = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			s->precision = s->precision * 10 + (*f++ - '0');
	}
	for (; *f == 'l' || *f == 'h' || *f == 'z'; f++) {
		if (*f == 'l')
			s->length = s->length == 1 ? 2 : 1;
		else if (*f == 'h')
			s->length = s->length == -1 ? -2 : -1;
		else
			s->length = 3;
	}
	return f;
}

static long long arg_signed(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case 1:
		return va_arg(*ap, long);
	case 2:
		return va_arg(*ap, long long);
	case 3:
		return (long long)va_arg(*ap, size_t);
	case -1:
		return (short)va_arg(*ap, int);
	case -2:
		return (signed char)va_arg(*ap, int);
	default:
		return va_arg(*ap, int);
	}
}

static unsigned long long arg_unsigned(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case 1:
		return va_arg(*ap, unsigned long);
	case 2:
		return va_arg(*ap, unsigned long long);
	case 3:
		return va_arg(*ap, size_t);
	case -1:
		return (unsigned short)va_arg(*ap, unsigned int);
	case -2:
		return (unsigned char)va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static void format_one(struct fmt_out *o, struct fmt_spec *s, char conv,
		       va_list *ap)
{
	long long sv;

	switch (conv) {
	case 'd':
	case 'i':
		sv = arg_signed(s, ap);
		out_num(o, s,
			sv < 0 ? 0ull - (unsigned long long)sv
			       : (unsigned long long)sv,
			sv < 0, 10, false);
		break;
	case 'u':
		out_num(o, s, arg_unsigned(s, ap), false, 10, false);
		break;
	case 'x':
	case 'X':
		out_num(o, s, arg_unsigned(s, ap), false, 16, conv == 'X');
		break;
	case 'o':
		out_num(o, s, arg_unsigned(s, ap), false, 8, false);
		break;
	case 'p':
		out_char(o, '0');
		out_char(o, 'x');
		out_num(o, s, (uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 'c':
		out_char(o, (char)va_arg(*ap, int));
		break;
	case 's':
		out_str(o, s, va_arg(*ap, const char *));
		break;
	default: /* '%' and anything unknown print as themselves */
		out_char(o, conv);
		break;
	}
}

int mm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {.buf = buf, .size = size};
	struct fmt_spec spec;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &spec, &args);
		if (!*fmt)
			break;
		format_one(&o, &spec, *fmt++, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int mm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mm_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void mm_buf_init(struct mm_buf *b, char *data, size_t size)
{
	b->data = data;
	b->size = size;
	b->len = 0;
	if (size)
		data[0] = '\0';
}

void mm_buf_printf(struct mm_buf *b, const char *fmt, ...)
{
	size_t room = b->len < b->size ? b->size - b->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mm_vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
