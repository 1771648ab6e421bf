/* SPDX-License-Identifier: MIT */
/*
 * vmm/api.h - the control API: a UNIX socket speaking JSON lines.
 *
 * Protocol (docs/api.md): a client connects and sends one JSON object per
 * line, {"cmd": "<name>", ...arguments}; for each request the server answers
 * one line, {"ok": true, "result": {...}} or
 * {"ok": false, "error": {"code": "EINVAL", "errno": 22, "message": "..."}}.
 * One thread serves every client through a non-blocking event loop (epoll):
 * each round answers at most one request line per client, so no client can
 * starve another, and nothing a client does (never reading, half a line, a
 * flood, a crowd) can block the thread or keep the VMM from exiting. Every
 * client is bounded (docs/api.md "Limits", struct api_limits).
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <jansson.h>
#include <stddef.h>

#define API_MAX_LINE	 (64 * 1024) /* request line, without its newline */
#define API_MAX_RESPONSE (4 * 1024 * 1024) /* one reply line */
#define API_MAX_COMMANDS 32

/* The server's defaults (docs/api.md "Limits"). */
#define API_MAX_CLIENTS	      64
#define API_CLIENT_TIMEOUT_MS 10000 /* no complete request line: closed */
#define API_SEND_TIMEOUT_MS   5000  /* replies pending, none taken: dropped */
#define API_OUT_HIGH	      (256 * 1024) /* unsent replies: stop reading */

/* A client's default bound on one call: connect, send and receive. */
#define API_CALL_TIMEOUT_MS 5000

/* How much a server lets its clients hold (api_server_set_limits()). */
struct api_limits {
	unsigned max_clients;	  /* connected at once; more are refused */
	unsigned idle_ms;	  /* no complete request line for this long */
	unsigned send_timeout_ms; /* replies pending, no byte taken this long */
	size_t out_high;	  /* unsent reply bytes that stop reading */
};

/* What the server did to its clients (stat's host.api, tests). */
struct api_server_stats {
	unsigned clients;	    /* connected now */
	unsigned max_clients;	    /* the limit */
	unsigned long accepted;	    /* connections served */
	unsigned long refused;	    /* over max_clients: refusal line, closed */
	unsigned long dropped_slow; /* did not take replies in send_timeout */
	unsigned long dropped_idle; /* no request line within idle_ms */
	unsigned long too_long;	    /* line over API_MAX_LINE: E2BIG, closed */
	unsigned long requests;	    /* request lines answered */
};

/*
 * A command handler. @args is the whole request object (borrowed). On
 * success it stores a new reference in *@result (an object, or NULL for
 * "{}") and returns 0; on failure it returns a negative errno and may write a
 * message for the operator into @msg (NUL-terminated, at most @msg_size).
 * Handlers run on the API thread, one at a time.
 */
typedef int (*api_cmd_fn)(void *opaque, json_t *args, json_t **result,
			  char *msg, size_t msg_size);

struct api_server;

/**
 * api_server_create() - create and listen on a socket at @path, mode 0600.
 * A stale socket left by a dead VMM is replaced; a live one is not
 * (-EADDRINUSE). No thread runs until api_server_start().
 * Return: 0 and *@out, or a negative errno.
 */
int api_server_create(struct api_server **out, const char *path);

/**
 * api_server_new() - a server without a socket: commands can be registered
 * and api_handle_line() called (unit tests, the fuzz harness), but it
 * cannot be started (-EINVAL). Free it with api_server_destroy().
 * Return: 0 and *@out, or -ENOMEM.
 */
int api_server_new(struct api_server **out);

/* Register @name before api_server_start(). -EEXIST, -ENOSPC, -EINVAL. */
int api_register(struct api_server *srv, const char *name, api_cmd_fn fn,
		 void *opaque);

/*
 * Replace the defaults (API_MAX_CLIENTS etc.) before api_server_start().
 * -EINVAL for a zero field, -EBUSY once started.
 */
int api_server_set_limits(struct api_server *srv,
			  const struct api_limits *limits);

/*
 * A snapshot of @srv's counters: exact from a command handler (the API
 * thread), a word-sized-torn-free snapshot from any other thread.
 */
void api_server_get_stats(struct api_server *srv,
			  struct api_server_stats *stats);

/* Start the thread that serves clients. */
int api_server_start(struct api_server *srv);

/*
 * Stop serving, join the thread, unlink the socket, free @srv (NULL ok).
 * Never waits on a client: the thread is woken through an eventfd and ends
 * within one round, closing every connection.
 */
void api_server_destroy(struct api_server *srv);

/**
 * api_handle_line() - the request parser and dispatcher, without a socket:
 * handle one request line (@len bytes, no newline; any bytes) and return
 * the response line (malloc'd, no newline), or NULL only when the reply
 * could not be built (the socket thread then sends a fixed ENOMEM line).
 * The event loop calls it; tests and the fuzz harness call it directly,
 * e.g. on a server from api_server_new().
 */
char *api_handle_line(struct api_server *srv, const char *line, size_t len);

/**
 * api_utf8_sanitize() - make @s valid UTF-8 in place: each byte that does
 * not start a valid sequence (invalid, overlong, surrogate, or cut short)
 * becomes '?'. Error messages quote client bytes; replies must be UTF-8.
 */
void api_utf8_sanitize(char *s);

/* Client side ----------------------------------------------------------- */

/* The steps of a call, to say which one failed or timed out. */
enum api_call_step {
	API_CALL_CONNECT,
	API_CALL_SEND,
	API_CALL_RECV,
};

/**
 * api_call_timed() - connect to @path, send @request (one JSON object,
 * compact), and read one response line, all within @timeout_ms.
 * *@step (NULL: not wanted) is set to the step that failed or timed out.
 * Return: 0 and a new reference in *@response, or a negative errno
 * (-ENOENT no socket, -ECONNREFUSED no VMM behind it, -ENAMETOOLONG path
 * too long for a socket, -ETIMEDOUT @timeout_ms passed, -ECONNRESET the
 * VMM closed the connection before a whole reply, -EPROTO bad reply).
 */
int api_call_timed(const char *path, json_t *request, unsigned timeout_ms,
		   json_t **response, enum api_call_step *step);

/* api_call_timed() with API_CALL_TIMEOUT_MS. */
int api_call(const char *path, json_t *request, json_t **response);

/* "connecting to", "sending the request to", "waiting for the reply from" */
const char *api_call_step_name(enum api_call_step step);

/**
 * api_call_strerror() - what a client prints for an api_call() error:
 * strerror(), except that -ECONNRESET says the VMM closed the connection.
 */
const char *api_call_strerror(int err);

/* "EINVAL" for -EINVAL etc.; "E?" for values it does not know. */
const char *api_errno_name(int err);

#endif /* VMM_API_H */
