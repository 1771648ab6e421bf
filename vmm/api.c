// SPDX-License-Identifier: MIT
/*
 * vmm/api.c - the control API server and client (see api.h, docs/api.md).
 *
 * One thread accepts clients one after another and answers their request
 * lines in order. The socket is created mode 0600 (umask around bind(), so
 * there is no window in which another user could connect). Everything a
 * client sends is bounded: line length, idle time; a malformed request gets
 * an error response, never a crash or a dropped VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/api.h"

/* Responses can carry whole statistics dumps; requests cannot. */
#define API_MAX_RESPONSE (4 * 1024 * 1024)

struct api_command {
	char name[32];
	api_cmd_fn fn;
	void *opaque;
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int wake_pipe[2]; /* written by destroy to stop the thread */
	pthread_t thread;
	bool started;
	unsigned nr_commands;
	struct api_command commands[API_MAX_COMMANDS];
};

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{EPERM, "EPERM"},
	{ENOENT, "ENOENT"},
	{EIO, "EIO"},
	{E2BIG, "E2BIG"},
	{EAGAIN, "EAGAIN"},
	{ENOMEM, "ENOMEM"},
	{EFAULT, "EFAULT"},
	{EBUSY, "EBUSY"},
	{EEXIST, "EEXIST"},
	{EINVAL, "EINVAL"},
	{ENOSPC, "ENOSPC"},
	{ERANGE, "ERANGE"},
	{ENOSYS, "ENOSYS"},
	{EPROTO, "EPROTO"},
	{EOVERFLOW, "EOVERFLOW"},
	{EOPNOTSUPP, "EOPNOTSUPP"},
	{ETIMEDOUT, "ETIMEDOUT"},
	{EDQUOT, "EDQUOT"},
	{ECANCELED, "ECANCELED"},
	{EALREADY, "EALREADY"},
	{ENODEV, "ENODEV"},
	{EADDRINUSE, "EADDRINUSE"},
	{ENAMETOOLONG, "ENAMETOOLONG"},
	{ECONNREFUSED, "ECONNREFUSED"},
};

const char *api_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]);
	     i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return "E?";
}

/* Bytes in the UTF-8 sequence at @s (lead byte checked, rest to check). */
static size_t utf8_sequence_len(const unsigned char *s, unsigned *min_next,
				unsigned *max_next)
{
	*min_next = 0x80;
	*max_next = 0xbf;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return 2;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		*min_next = s[0] == 0xe0 ? 0xa0 : 0x80; /* no overlongs */
		*max_next = s[0] == 0xed ? 0x9f : 0xbf; /* no surrogates */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		*min_next = s[0] == 0xf0 ? 0x90 : 0x80;
		*max_next = s[0] == 0xf4 ? 0x8f : 0xbf; /* <= U+10FFFF */
		return 4;
	}
	return 0; /* a continuation byte, C0, C1 or F5..FF */
}

/* Length of a valid UTF-8 sequence at @s, 0 if it is not one. */
static size_t utf8_valid_len(const unsigned char *s)
{
	unsigned lo, hi;
	size_t n = utf8_sequence_len(s, &lo, &hi);

	for (size_t i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0; /* also stops at the terminating NUL */
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * Make @s valid UTF-8 in place: every byte that does not start a valid
 * sequence becomes '?'. Error texts quote the client's bytes (jansson's
 * "near '...'") and cut them at a length ("%.64s"), possibly inside a
 * character; JSON strings must be valid UTF-8 or the reply cannot be built.
 */
void api_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_valid_len(p);

		if (n) {
			p += n;
		} else {
			*p++ = '?';
		}
	}
}

static char *response_error(int err, const char *msg)
{
	char text[1024];
	json_t *resp;
	char *line;

	snprintf(text, sizeof(text), "%s",
		 msg && *msg ? msg : strerror(err < 0 ? -err : err));
	api_utf8_sanitize(text);
	resp = json_pack("{s:b, s:{s:s, s:i, s:s}}", "ok", 0, "error", "code",
			 api_errno_name(err), "errno", err < 0 ? -err : err,
			 "message", text);
	line = resp ? json_dumps(resp, JSON_COMPACT) : NULL;

	json_decref(resp);
	return line;
}

static char *response_ok(json_t *result)
{
	json_t *resp = json_pack("{s:b, s:o}", "ok", 1, "result",
				 result ? result : json_object());
	char *line = resp ? json_dumps(resp, JSON_COMPACT) : NULL;

	json_decref(resp);
	return line;
}

static const struct api_command *find_command(const struct api_server *srv,
					      const char *name)
{
	for (unsigned i = 0; i < srv->nr_commands; i++)
		if (strcmp(srv->commands[i].name, name) == 0)
			return &srv->commands[i];
	return NULL;
}

static void list_commands(const struct api_server *srv, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < srv->nr_commands && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", srv->commands[i].name);
}

char *api_handle_line(struct api_server *srv, const char *line, size_t len)
{
	char msg[512] = "";
	const struct api_command *cmd;
	json_t *req, *result = NULL, *name;
	json_error_t jerr;
	char known[256];
	int err;

	if (!len)
		return response_error(-EINVAL, "empty request line (one JSON "
					       "object per line)");
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		snprintf(msg, sizeof(msg),
			 "request is not valid JSON: %s (column %d)", jerr.text,
			 jerr.column);
		return response_error(-EINVAL, msg);
	}
	name = json_object_get(req, "cmd");
	if (!json_is_object(req) || !json_is_string(name)) {
		json_decref(req);
		return response_error(
			-EINVAL,
			"request must be an object with a string \"cmd\"");
	}
	cmd = find_command(srv, json_string_value(name));
	if (!cmd) {
		list_commands(srv, known, sizeof(known));
		snprintf(msg, sizeof(msg),
			 "unknown command '%.64s' (known: %s)",
			 json_string_value(name), known);
		json_decref(req);
		return response_error(-EINVAL, msg);
	}
	err = cmd->fn(cmd->opaque, req, &result, msg, sizeof(msg));
	json_decref(req);
	if (err < 0) {
		json_decref(result);
		return response_error(err, msg);
	}
	return response_ok(result);
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_line(int fd, char *line)
{
	/* Every request gets an answer, even when building it failed. */
	static const char no_reply[] =
		"{\"ok\":false,\"error\":{\"code\":\"ENOMEM\",\"errno\":12,"
		"\"message\":\"the VMM could not build the reply\"}}";
	int err;

	err = send_all(fd, line ? line : no_reply,
		       line ? strlen(line) : strlen(no_reply));
	if (!err)
		err = send_all(fd, "\n", 1);
	free(line);
	return err;
}

/*
 * Wait until @fd is readable: 1 readable, 0 timed out, -ECANCELED when the
 * server is being destroyed, other negative errno on error.
 */
static int wait_readable(struct api_server *srv, int fd, int timeout_ms)
{
	struct pollfd pfd[2] = {
		{.fd = fd, .events = POLLIN},
		{.fd = srv->wake_pipe[0], .events = POLLIN},
	};
	int n;

	do
		n = poll(pfd, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (pfd[1].revents)
		return -ECANCELED;
	return n > 0;
}

/* Answer every complete line in buf[0, *len); keep the partial tail. */
static int answer_lines(struct api_server *srv, int fd, char *buf, size_t *len)
{
	char *start = buf, *nl;
	int err = 0;

	while (!err &&
	       (nl = memchr(start, '\n', *len - (size_t)(start - buf)))) {
		size_t line_len = (size_t)(nl - start);

		if (line_len && start[line_len - 1] == '\r')
			line_len--;
		err = send_line(fd, api_handle_line(srv, start, line_len));
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	return err;
}

static void serve_client(struct api_server *srv, int fd, char *buf)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (wait_readable(srv, fd, API_CLIENT_TIMEOUT_MS) <= 0)
			return;
		n = recv(fd, buf + len, API_MAX_LINE + 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		if (answer_lines(srv, fd, buf, &len) < 0)
			return;
		if (len > API_MAX_LINE) {
			send_line(fd,
				  response_error(-E2BIG, "request line longer "
							 "than 65536 bytes"));
			return;
		}
	}
}

static void *api_thread(void *arg)
{
	struct api_server *srv = arg;
	char *buf = malloc(API_MAX_LINE + 1);

	while (buf && wait_readable(srv, srv->listen_fd, -1) > 0) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		serve_client(srv, fd, buf);
		close(fd);
	}
	free(buf);
	return NULL;
}

static int fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/* Remove a socket at @path that no VMM listens on any more. */
static int remove_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, err;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* never delete something that is not ours */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (err == 0)
		return -EADDRINUSE;
	return unlink(addr->sun_path) < 0 ? -errno : 0;
}

static int listen_at(struct api_server *srv, const struct sockaddr_un *addr)
{
	mode_t old_umask;
	int err = 0;

	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0)
		return -errno;
	old_umask = umask(0177);
	if (bind(srv->listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) <
	    0)
		err = -errno;
	umask(old_umask);
	if (!err && listen(srv->listen_fd, 8) < 0)
		err = -errno;
	return err;
}

int api_server_create(struct api_server **out, const char *path)
{
	struct sockaddr_un addr;
	struct api_server *srv;
	int err;

	err = fill_addr(&addr, path);
	if (err)
		return err;
	err = remove_stale_socket(&addr);
	if (err)
		return err;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->listen_fd = -1;
	strcpy(srv->path, path);
	if (pipe2(srv->wake_pipe, O_CLOEXEC) < 0) {
		err = -errno;
		free(srv);
		return err;
	}
	err = listen_at(srv, &addr);
	if (err) {
		api_server_destroy(srv);
		return err;
	}
	*out = srv;
	return 0;
}

int api_register(struct api_server *srv, const char *name, api_cmd_fn fn,
		 void *opaque)
{
	struct api_command *cmd;

	if (!name || !fn || strlen(name) >= sizeof(cmd->name) || srv->started)
		return -EINVAL;
	if (find_command(srv, name))
		return -EEXIST;
	if (srv->nr_commands == API_MAX_COMMANDS)
		return -ENOSPC;
	cmd = &srv->commands[srv->nr_commands++];
	strcpy(cmd->name, name);
	cmd->fn = fn;
	cmd->opaque = opaque;
	return 0;
}

int api_server_start(struct api_server *srv)
{
	int err = pthread_create(&srv->thread, NULL, api_thread, srv);

	if (err)
		return -err;
	srv->started = true;
	return 0;
}

void api_server_destroy(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->started) {
		if (write(srv->wake_pipe[1], "x", 1) < 0)
			perror("api: waking the API thread");
		pthread_join(srv->thread, NULL);
	}
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->path);
	}
	close(srv->wake_pipe[0]);
	close(srv->wake_pipe[1]);
	free(srv);
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr;
	int fd, err;

	err = fill_addr(&addr, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Read one line (bounded by API_MAX_RESPONSE) into a malloc'd string. */
static int recv_line(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;
		char *nl;

		if (len + 1 >= cap) {
			char *bigger = cap >= API_MAX_RESPONSE
					       ? NULL
					       : realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The VMM went away (exited, or was killed). */
			int err = n == 0 || errno == ECONNRESET ? -ECONNRESET
								: -errno;

			free(buf);
			return err;
		}
		len += (size_t)n;
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			*out = buf;
			return 0;
		}
	}
	free(buf);
	return -EPROTO;
}

const char *api_call_strerror(int err)
{
	if (err == -ECONNRESET)
		return "the VMM closed the connection before answering";
	return strerror(err < 0 ? -err : err);
}

int api_call(const char *path, json_t *request, json_t **response)
{
	char *line = json_dumps(request, JSON_COMPACT);
	json_error_t jerr;
	char *reply = NULL;
	int fd, err;

	if (!line)
		return -EINVAL;
	fd = connect_to(path);
	if (fd < 0) {
		free(line);
		return fd;
	}
	err = send_all(fd, line, strlen(line));
	if (!err)
		err = send_all(fd, "\n", 1);
	free(line);
	if (err == -EPIPE)
		err = -ECONNRESET;
	if (!err)
		err = recv_line(fd, &reply);
	close(fd);
	if (err)
		return err;
	*response = json_loads(reply, 0, &jerr);
	free(reply);
	return *response && json_is_object(*response) ? 0 : -EPROTO;
}
