// SPDX-License-Identifier: MIT
/*
 * vmm/api_buf.c - the control API's per-client input and output buffers
 * (api_buf.h). Both grow on demand up to their bound, so an idle client
 * costs a few bytes and a client that sent a large line or was sent a large
 * reply gives the memory back once it is consumed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api_buf.h"

#define API_BUF_MIN	 4096
#define API_BUF_KEEP_MAX (64 * 1024) /* an empty buffer above this is freed */

void api_inbuf_init(struct api_inbuf *b, size_t max_line)
{
	*b = (struct api_inbuf){.max_line = max_line};
}

void api_inbuf_free(struct api_inbuf *b)
{
	free(b->data);
	api_inbuf_init(b, b->max_line);
}

/* A line and its newline: the most the buffer ever holds. */
static size_t api_inbuf_limit(const struct api_inbuf *b)
{
	return b->max_line + 1;
}

long api_inbuf_space(struct api_inbuf *b, char **dst)
{
	size_t limit = api_inbuf_limit(b);

	if (b->head) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	if (b->len >= limit)
		return 0;
	if (b->cap - b->len < API_BUF_MIN && b->cap < limit) {
		size_t cap = b->cap ? b->cap * 2 : API_BUF_MIN;
		char *data;

		if (cap > limit)
			cap = limit;
		data = realloc(b->data, cap);
		if (!data)
			return -ENOMEM;
		b->data = data;
		b->cap = cap;
	}
	*dst = b->data + b->len;
	return (long)((b->cap < limit ? b->cap : limit) - b->len);
}

void api_inbuf_commit(struct api_inbuf *b, size_t n)
{
	b->len += n;
}

/* Offset of the next newline from head, or -1 (remembering how far). */
static long api_inbuf_find(struct api_inbuf *b)
{
	const char *start = b->data + b->head;
	const char *nl;

	if (b->scanned >= b->len)
		return -1;
	nl = memchr(start + b->scanned, '\n', b->len - b->scanned);
	if (!nl) {
		b->scanned = b->len;
		return -1;
	}
	return nl - start;
}

bool api_inbuf_has_line(struct api_inbuf *b)
{
	return api_inbuf_find(b) >= 0 || b->len > b->max_line;
}

int api_inbuf_next_line(struct api_inbuf *b, const char **line, size_t *len)
{
	long nl = api_inbuf_find(b);

	if (nl < 0)
		return b->len > b->max_line ? -E2BIG : 0;
	*line = b->data + b->head;
	*len = (size_t)nl;
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	b->head += (size_t)nl + 1;
	b->len -= (size_t)nl + 1;
	b->scanned = 0;
	return 1;
}

int api_inbuf_take_rest(struct api_inbuf *b, const char **line, size_t *len)
{
	if (!b->len)
		return 0;
	*line = b->data + b->head;
	*len = b->len;
	if ((*line)[*len - 1] == '\r')
		(*len)--;
	b->head += b->len;
	b->len = 0;
	b->scanned = 0;
	return 1;
}

void api_outbuf_init(struct api_outbuf *b, size_t high, size_t max)
{
	*b = (struct api_outbuf){.high = high, .max = max};
}

void api_outbuf_free(struct api_outbuf *b)
{
	free(b->data);
	api_outbuf_init(b, b->high, b->max);
}

int api_outbuf_append_line(struct api_outbuf *b, const char *line, size_t len)
{
	size_t need = len + 1;

	if (need > b->max || b->len > b->max - need)
		return -ENOBUFS;
	if (b->len + need > b->cap) {
		/*
		 * A new buffer rather than realloc(): only the unsent bytes
		 * move, and a large block is never mremap()ed (a call the
		 * API thread's seccomp filter need not allow).
		 */
		size_t cap = b->cap ? b->cap : API_BUF_MIN;
		char *data;

		while (cap < b->len + need)
			cap *= 2;
		data = malloc(cap);
		if (!data)
			return -ENOMEM;
		if (b->len)
			memcpy(data, b->data + b->head, b->len);
		free(b->data);
		b->data = data;
		b->cap = cap;
		b->head = 0;
	} else if (b->head + b->len + need > b->cap) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	memcpy(b->data + b->head + b->len, line, len);
	b->data[b->head + b->len + len] = '\n';
	b->len += need;
	return 0;
}

const char *api_outbuf_pending(const struct api_outbuf *b, size_t *len)
{
	*len = b->len;
	return b->len ? b->data + b->head : NULL;
}

void api_outbuf_consume(struct api_outbuf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->head += n;
	b->len -= n;
	if (b->len)
		return;
	b->head = 0;
	if (b->cap > API_BUF_KEEP_MAX) /* a large reply has gone: let go */
		api_outbuf_free(b);
}
