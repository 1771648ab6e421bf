/* SPDX-License-Identifier: MIT */
/*
 * vmm/api_buf.h - the control API's per-client buffers (docs/api.md
 * "Limits"): an input buffer that hands out one request line at a time and
 * never holds more than one line's bound, and an output buffer of reply
 * lines with a high-water mark (the server stops reading a client whose
 * replies pile up) and a hard bound. No sockets here: the server moves bytes
 * between these and the socket, and unit tests drive them directly.
 */
#ifndef VMM_API_BUF_H
#define VMM_API_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct api_inbuf {
	char *data;
	size_t head;	 /* first byte not handed out yet */
	size_t len;	 /* bytes from head on */
	size_t cap;	 /* allocated */
	size_t scanned;	 /* bytes from head on known to hold no newline */
	size_t max_line; /* longest line, without its newline */
};

/* An empty buffer for lines of at most @max_line bytes; allocates lazily. */
void api_inbuf_init(struct api_inbuf *b, size_t max_line);
void api_inbuf_free(struct api_inbuf *b);

/**
 * api_inbuf_space() - where the next bytes from the client go.
 * The buffer never holds more than max_line + 1 bytes, so a client that
 * sends many lines at once is read one buffer at a time (the rest waits in
 * the socket).
 * Return: room in bytes at *@dst (0: full, read nothing now), or -ENOMEM.
 */
long api_inbuf_space(struct api_inbuf *b, char **dst);

/* @n bytes were written at the space api_inbuf_space() returned. */
void api_inbuf_commit(struct api_inbuf *b, size_t n);

/**
 * api_inbuf_next_line() - take the next complete line.
 * *@line (not NUL-terminated; valid until the next call on @b) and *@len
 * exclude the newline and one '\r' before it.
 * Return: 1 a line; 0 no complete line yet; -E2BIG the pending line is
 * already longer than max_line (the caller answers and closes).
 */
int api_inbuf_next_line(struct api_inbuf *b, const char **line, size_t *len);

/**
 * api_inbuf_take_rest() - at the end of the client's input, the bytes after
 * its last newline as one last line (a request whose newline never came).
 * Return: 1 a line (as api_inbuf_next_line()), 0 nothing is left.
 */
int api_inbuf_take_rest(struct api_inbuf *b, const char **line, size_t *len);

/* True if api_inbuf_next_line() would return a line or -E2BIG. */
bool api_inbuf_has_line(struct api_inbuf *b);

struct api_outbuf {
	char *data;
	size_t head; /* first unsent byte */
	size_t len;  /* unsent bytes from head on */
	size_t cap;
	size_t high; /* at or above: take no more requests from this client */
	size_t max;  /* hard bound: a reply that would pass it is refused */
};

void api_outbuf_init(struct api_outbuf *b, size_t high, size_t max);
void api_outbuf_free(struct api_outbuf *b);

/**
 * api_outbuf_append_line() - queue @len bytes of @line and a newline.
 * Return: 0, -ENOBUFS when it would pass the hard bound (nothing queued),
 * -ENOMEM.
 */
int api_outbuf_append_line(struct api_outbuf *b, const char *line, size_t len);

/* The unsent bytes (*@len of them; NULL and 0 when empty). */
const char *api_outbuf_pending(const struct api_outbuf *b, size_t *len);

/* @n of the pending bytes were sent. */
void api_outbuf_consume(struct api_outbuf *b, size_t n);

/* At or above the high-water mark: stop taking this client's requests. */
static inline bool api_outbuf_full(const struct api_outbuf *b)
{
	return b->len >= b->high;
}

#endif /* VMM_API_BUF_H */
