/* SPDX-License-Identifier: MIT */
/*
 * vmm/api.h - the control API: a UNIX socket speaking JSON lines.
 *
 * Protocol (docs/api.md): a client connects and sends one JSON object per
 * line, {"cmd": "<name>", ...arguments}; for each request the server answers
 * one line, {"ok": true, "result": {...}} or
 * {"ok": false, "error": {"code": "EINVAL", "errno": 22, "message": "..."}}.
 * Clients are served one after another; a connection may carry any number of
 * requests. Lines are bounded (API_MAX_LINE); an idle client is dropped after
 * API_CLIENT_TIMEOUT_MS so it cannot hold the socket.
 */
#ifndef VMM_API_H
#define VMM_API_H

#include <jansson.h>
#include <stddef.h>

#define API_MAX_LINE	      (64 * 1024)
#define API_CLIENT_TIMEOUT_MS 10000
#define API_MAX_COMMANDS      32

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

/* Register @name before api_server_start(). -EEXIST, -ENOSPC, -EINVAL. */
int api_register(struct api_server *srv, const char *name, api_cmd_fn fn,
		 void *opaque);

/* Start the thread that serves clients. */
int api_server_start(struct api_server *srv);

/* Stop serving, join the thread, unlink the socket, free @srv (NULL ok). */
void api_server_destroy(struct api_server *srv);

/*
 * Handle one request line and return the response line (malloc'd, no
 * newline); the socket thread uses it, and tests call it directly.
 */
char *api_handle_line(struct api_server *srv, const char *line, size_t len);

/**
 * api_utf8_sanitize() - make @s valid UTF-8 in place: each byte that does
 * not start a valid sequence (invalid, overlong, surrogate, or cut short)
 * becomes '?'. Error messages quote client bytes; replies must be UTF-8.
 */
void api_utf8_sanitize(char *s);

/* Client side ----------------------------------------------------------- */

/**
 * api_call() - connect to @path, send @request (one JSON object, compact),
 * and read one response line.
 * Return: 0 and a new reference in *@response, or a negative errno
 * (-ENOENT no socket, -ECONNREFUSED no VMM behind it, -ENAMETOOLONG path
 * too long for a socket, -ECONNRESET the VMM closed the connection before
 * a whole reply, -EPROTO bad reply).
 */
int api_call(const char *path, json_t *request, json_t **response);

/**
 * api_call_strerror() - what a client prints for an api_call() error:
 * strerror(), except that -ECONNRESET says the VMM closed the connection.
 */
const char *api_call_strerror(int err);

/* "EINVAL" for -EINVAL etc.; "E?" for values it does not know. */
const char *api_errno_name(int err);

#endif /* VMM_API_H */
