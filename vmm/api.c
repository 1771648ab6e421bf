// SPDX-License-Identifier: MIT
/*
 * vmm/api.c - the control API server and client (see api.h, docs/api.md).
 *
 * One thread serves every client through an epoll loop over non-blocking
 * sockets. It blocks nowhere but in epoll_wait(): a reply goes into the
 * client's output buffer and out as the client takes it; a client whose
 * unsent replies reach the high-water mark is not read (its requests wait
 * in its socket) and is dropped if it takes nothing for the send timeout.
 * Each round answers at most one request line per client, starting with a
 * different client each time, so a flood from one client delays another
 * by at most one request per round. The socket is created mode 0600 (umask
 * around bind(), so there is no window in which another user could
 * connect). Everything a client sends is bounded: line length, idle time,
 * connections; a malformed request gets an error response, never a crash
 * or a dropped VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api.h"
#include "vmm/seccomp.h"
#include "vmm/api_buf.h"

#define API_EVENTS	    64	/* epoll events taken per wait */
#define API_ACCEPT_BATCH    64	/* connections accepted per wait */
#define API_LISTEN_RETRY_MS 100 /* after EMFILE and the like */
#define API_LISTEN_BACKLOG  128

/* One connected client: its socket, buffers and deadlines. */
struct api_client {
	int fd;
	unsigned slot;	      /* index in api_server.clients */
	uint32_t events;      /* what epoll watches for it now */
	bool registered;      /* in the epoll set */
	bool eof;	      /* it shut its sending side: answer, then close */
	bool gone;	      /* it cannot take replies: they are dropped */
	bool closing;	      /* close once the replies are out (E2BIG) */
	uint64_t idle_since;  /* ms: connected, or its last request line */
	uint64_t stuck_since; /* ms: replies pending and none taken since */
	struct api_inbuf in;
	struct api_outbuf out;
};

struct api_command {
	char name[32];
	api_cmd_fn fn;
	void *opaque;
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int wake_fd; /* eventfd: written by destroy to stop the thread */
	int epoll_fd;
	pthread_t thread;
	bool started;
	bool stopping;	       /* set by destroy: a round ends early */
	bool listen_paused;    /* accept() ran out of descriptors */
	uint64_t listen_retry; /* ms: when to try accepting again */
	struct api_limits limits;
	unsigned nr_clients;
	unsigned first;		       /* the client slot a round starts at */
	struct api_client **clients;   /* limits.max_clients slots */
	struct api_server_stats stats; /* written by the thread only */
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
	{EUSERS, "EUSERS"},
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

/* Server: the event loop ------------------------------------------------ */

static uint64_t api_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Every request gets an answer, even when building it failed. */
static const char api_no_reply[] =
	"{\"ok\":false,\"error\":{\"code\":\"ENOMEM\",\"errno\":12,"
	"\"message\":\"the VMM could not build the reply\"}}";

static void api_set_events(struct api_server *srv, struct api_client *c,
			   uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->gone || (c->registered && c->events == events))
		return;
	if (epoll_ctl(srv->epoll_fd,
		      c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
		      &ev) == 0) {
		c->registered = true;
		c->events = events;
	}
}

static void api_client_close(struct api_server *srv, struct api_client *c)
{
	close(c->fd); /* also takes it out of the epoll set */
	api_inbuf_free(&c->in);
	api_outbuf_free(&c->out);
	srv->clients[c->slot] = NULL;
	srv->nr_clients--;
	free(c);
}

/*
 * The client hung up or its socket failed: nothing more can reach it, so
 * its replies are dropped. The lines already read are still carried out
 * (a request that arrived is a request), one per round as for anyone.
 */
static void api_client_gone(struct api_server *srv, struct api_client *c)
{
	if (c->gone)
		return;
	if (c->registered)
		epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	c->registered = false;
	c->gone = true;
	api_outbuf_free(&c->out);
}

/* Send what the client takes now, without waiting. */
static void api_client_flush(struct api_server *srv, struct api_client *c)
{
	size_t len;
	const char *p;

	while (!c->gone && (p = api_outbuf_pending(&c->out, &len))) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			api_client_gone(srv, c);
			return;
		}
		api_outbuf_consume(&c->out, (size_t)n);
		c->stuck_since = api_now_ms();
	}
}

/* One read of what fits in the input buffer. */
static void api_client_read(struct api_server *srv, struct api_client *c)
{
	char *dst;
	long room = api_inbuf_space(&c->in, &dst);
	ssize_t n;

	if (room < 0) {
		api_client_gone(srv, c);
		return;
	}
	if (room == 0 || c->eof)
		return;
	do
		n = recv(c->fd, dst, (size_t)room, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		api_inbuf_commit(&c->in, (size_t)n);
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK)
		api_client_gone(srv, c);
}

/* Queue @line (consumed; NULL: building it failed) and send what fits. */
static void api_client_reply(struct api_server *srv, struct api_client *c,
			     char *line)
{
	const char *text = line ? line : api_no_reply;
	bool was_empty = c->out.len == 0;
	int err;

	if (c->gone) {
		free(line);
		return;
	}
	err = api_outbuf_append_line(&c->out, text, strlen(text));
	free(line);
	if (err) {
		line = response_error(err, err == -ENOBUFS
						   ? "the reply is larger than "
						     "the API's output bound"
						   : NULL);
		text = line ? line : api_no_reply;
		err = api_outbuf_append_line(&c->out, text, strlen(text));
		free(line);
		if (err) {
			api_client_gone(srv, c);
			return;
		}
	}
	if (was_empty)
		c->stuck_since = api_now_ms();
	api_client_flush(srv, c);
}

/*
 * A request line waits: a complete one, one too long, or, once the client
 * has shut its sending side, the last line that never got its newline.
 */
static bool api_client_has_line(struct api_client *c)
{
	return api_inbuf_has_line(&c->in) || (c->eof && c->in.len);
}

/* Can the client's next line be answered in this round? */
static bool api_client_ready(struct api_client *c)
{
	return !c->closing && (c->gone || !api_outbuf_full(&c->out)) &&
	       api_client_has_line(c);
}

/* Answer the client's next request line (it is ready). */
static void api_client_serve(struct api_server *srv, struct api_client *c)
{
	const char *line;
	size_t len;
	int r = api_inbuf_next_line(&c->in, &line, &len);

	if (r == 0 && c->eof)
		r = api_inbuf_take_rest(&c->in, &line, &len);
	if (r == -E2BIG) {
		char msg[96];

		snprintf(msg, sizeof(msg),
			 "request line longer than %d bytes: closing the "
			 "connection",
			 API_MAX_LINE);
		c->closing = true;
		srv->stats.too_long++;
		api_client_reply(srv, c, response_error(-E2BIG, msg));
		return;
	}
	if (r != 1)
		return;
	c->idle_since = api_now_ms();
	srv->stats.requests++;
	api_client_reply(srv, c, api_handle_line(srv, line, len));
}

/*
 * After anything happened to @c: close it if it is done, or watch for what
 * it waits on. Reading stops while a line is pending (it is answered in a
 * round first) and while its replies are at the high-water mark: that is
 * the backpressure that bounds what a client makes the VMM hold.
 */
static void api_client_update(struct api_server *srv, struct api_client *c)
{
	bool line = api_client_has_line(c);
	uint32_t events = 0;

	if ((c->gone && (!line || c->closing)) || (c->closing && !c->out.len) ||
	    (c->eof && !line && !c->out.len)) {
		api_client_close(srv, c);
		return;
	}
	if (!c->eof && !c->closing && !line && !api_outbuf_full(&c->out))
		events |= EPOLLIN | EPOLLRDHUP;
	if (c->out.len)
		events |= EPOLLOUT;
	api_set_events(srv, c, events);
}

static void api_client_event(struct api_server *srv, struct api_client *c,
			     uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		api_client_read(srv, c);
	if (events & EPOLLOUT)
		api_client_flush(srv, c);
	if (events & (EPOLLHUP | EPOLLERR))
		api_client_gone(srv, c);
	api_client_update(srv, c);
}

/*
 * Over the maximum: one refusal line into its empty socket, then close.
 * EUSERS ("too many users") is this refusal's own code: no command answers
 * it, so a client knows that nothing was done and may try again.
 */
static void api_refuse(struct api_server *srv, int fd)
{
	char msg[160];
	char *line;

	snprintf(msg, sizeof(msg),
		 "the VMM is serving %u clients, its maximum: try again later",
		 srv->limits.max_clients);
	line = response_error(-EUSERS, msg);
	if (line) {
		size_t len = strlen(line);

		if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
		    (ssize_t)len)
			send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(line);
	}
	close(fd);
	srv->stats.refused++;
}

static int api_client_add(struct api_server *srv, int fd)
{
	struct api_client *c;
	unsigned slot = 0;

	while (srv->clients[slot])
		slot++;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->slot = slot;
	c->idle_since = api_now_ms();
	api_inbuf_init(&c->in, API_MAX_LINE);
	api_outbuf_init(&c->out, srv->limits.out_high,
			srv->limits.out_high + API_MAX_RESPONSE);
	api_set_events(srv, c, EPOLLIN | EPOLLRDHUP);
	if (!c->registered) {
		free(c); /* the caller refuses and closes @fd */
		return -ENOMEM;
	}
	srv->clients[slot] = c;
	srv->nr_clients++;
	srv->stats.accepted++;
	return 0;
}

static void api_pause_listen(struct api_server *srv, bool pause)
{
	struct epoll_event ev = {.events = pause ? 0 : EPOLLIN,
				 .data.ptr = &srv->listen_fd};

	if (srv->listen_paused == pause)
		return;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->listen_fd, &ev);
	srv->listen_paused = pause;
	srv->listen_retry = api_now_ms() + API_LISTEN_RETRY_MS;
}

static void api_accept(struct api_server *srv)
{
	for (unsigned i = 0; i < API_ACCEPT_BATCH; i++) {
		int fd = accept4(srv->listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors or memory: retry soon, not spin. */
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				api_pause_listen(srv, true);
			return;
		}
		if (srv->nr_clients >= srv->limits.max_clients ||
		    api_client_add(srv, fd) < 0)
			api_refuse(srv, fd);
	}
}

/* One round: at most one request line per client, a new first each time. */
static void api_round(struct api_server *srv)
{
	unsigned max = srv->limits.max_clients;
	unsigned first = srv->first;

	srv->first = (first + 1) % max;
	for (unsigned i = 0; i < max; i++) {
		struct api_client *c = srv->clients[(first + i) % max];

		/* Handlers take time (stat of a large VM): exit in between. */
		if (__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE))
			return;

		if (c && api_client_ready(c)) {
			api_client_serve(srv, c);
			api_client_update(srv, c);
		}
	}
}

/* When @c runs out of time (ms, monotonic). */
static uint64_t api_client_deadline(const struct api_server *srv,
				    const struct api_client *c)
{
	if (c->out.len)
		return c->stuck_since + srv->limits.send_timeout_ms;
	return c->idle_since + srv->limits.idle_ms;
}

/* Drop clients past their deadline; resume accepting when it is time. */
static void api_expire(struct api_server *srv)
{
	uint64_t now = api_now_ms();

	for (unsigned i = 0; i < srv->limits.max_clients; i++) {
		struct api_client *c = srv->clients[i];

		if (!c || api_client_ready(c) ||
		    now < api_client_deadline(srv, c))
			continue;
		if (c->out.len)
			srv->stats.dropped_slow++;
		else
			srv->stats.dropped_idle++;
		api_client_close(srv, c);
	}
	if (srv->listen_paused &&
	    (now >= srv->listen_retry ||
	     srv->nr_clients < srv->limits.max_clients / 2))
		api_pause_listen(srv, false);
}

/* How long epoll_wait() may sleep: 0 when a line waits for a round. */
static int api_wait_ms(const struct api_server *srv)
{
	uint64_t now = api_now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < srv->limits.max_clients; i++) {
		struct api_client *c = srv->clients[i];
		uint64_t d;

		if (!c)
			continue;
		if (api_client_ready(c))
			return 0;
		d = api_client_deadline(srv, c);
		next = d < next ? d : next;
	}
	if (srv->listen_paused && srv->listen_retry < next)
		next = srv->listen_retry;
	if (next == UINT64_MAX)
		return -1;
	return next <= now
		       ? 0
		       : (int)(next - now < INT32_MAX ? next - now : INT32_MAX);
}

/* Handle one epoll_wait() batch; true when the server is being stopped. */
static bool api_events(struct api_server *srv, struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		if (ev[i].data.ptr == &srv->wake_fd)
			return true; /* before anything else: exit on time */
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == &srv->listen_fd)
			api_accept(srv);
		else
			api_client_event(srv, ev[i].data.ptr, ev[i].events);
	}
	return false;
}

static void *api_thread(void *arg)
{
	struct api_server *srv = arg;
	struct epoll_event ev[API_EVENTS];

	vmm_seccomp_enter(VMM_THREAD_API);
	for (;;) {
		int n = epoll_wait(srv->epoll_fd, ev, API_EVENTS,
				   api_wait_ms(srv));

		if (n < 0 && errno != EINTR) {
			perror("api: epoll_wait");
			break;
		}
		if (n > 0 && api_events(srv, ev, n))
			break;
		api_round(srv);
		api_expire(srv);
	}
	for (unsigned i = 0; i < srv->limits.max_clients; i++)
		if (srv->clients[i])
			api_client_close(srv, srv->clients[i]);
	return NULL;
}

/* Server: setup ---------------------------------------------------------- */

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

	srv->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return -errno;
	old_umask = umask(0177);
	if (bind(srv->listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) <
	    0)
		err = -errno;
	umask(old_umask);
	if (!err && listen(srv->listen_fd, API_LISTEN_BACKLOG) < 0)
		err = -errno;
	return err;
}

/* The epoll set with the wake eventfd and the listening socket in it. */
static int api_setup_loop(struct api_server *srv)
{
	struct epoll_event wake = {.events = EPOLLIN,
				   .data.ptr = &srv->wake_fd};
	struct epoll_event lsn = {.events = EPOLLIN,
				  .data.ptr = &srv->listen_fd};

	srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->wake_fd < 0)
		return -errno;
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epoll_fd < 0)
		return -errno;
	if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->wake_fd, &wake) < 0 ||
	    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &lsn) < 0)
		return -errno;
	return 0;
}

int api_server_new(struct api_server **out)
{
	struct api_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return -ENOMEM;
	srv->listen_fd = srv->wake_fd = srv->epoll_fd = -1;
	srv->limits = (struct api_limits){
		.max_clients = API_MAX_CLIENTS,
		.idle_ms = API_CLIENT_TIMEOUT_MS,
		.send_timeout_ms = API_SEND_TIMEOUT_MS,
		.out_high = API_OUT_HIGH,
	};
	*out = srv;
	return 0;
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
	err = api_server_new(&srv);
	if (err)
		return err;
	strcpy(srv->path, path);
	err = listen_at(srv, &addr);
	if (!err)
		err = api_setup_loop(srv);
	if (err) {
		api_server_destroy(srv);
		return err;
	}
	*out = srv;
	return 0;
}

int api_server_set_limits(struct api_server *srv,
			  const struct api_limits *limits)
{
	if (srv->started)
		return -EBUSY;
	if (!limits->max_clients || !limits->idle_ms ||
	    !limits->send_timeout_ms || !limits->out_high)
		return -EINVAL;
	srv->limits = *limits;
	return 0;
}

void api_server_get_stats(struct api_server *srv,
			  struct api_server_stats *stats)
{
	/* Word-sized counters written by one thread: a torn read is harmless. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	*stats = srv->stats;
	stats->clients = srv->nr_clients;
	stats->max_clients = srv->limits.max_clients;
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
	int err;

	if (srv->listen_fd < 0 || srv->started)
		return -EINVAL; /* api_server_new(): a parser, not a server */
	srv->clients = calloc(srv->limits.max_clients, sizeof(*srv->clients));
	if (!srv->clients)
		return -ENOMEM;
	err = pthread_create(&srv->thread, NULL, api_thread, srv);
	if (err) {
		free(srv->clients);
		srv->clients = NULL;
		return -err;
	}
	srv->started = true;
	return 0;
}

void api_server_destroy(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->started) {
		uint64_t one = 1;

		__atomic_store_n(&srv->stopping, true, __ATOMIC_RELEASE);
		if (write(srv->wake_fd, &one, sizeof(one)) < 0)
			perror("api: waking the API thread");
		pthread_join(srv->thread, NULL);
	}
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->path);
	}
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	free(srv->clients);
	free(srv);
}

/* Client ---------------------------------------------------------------- */

/* Milliseconds left until @deadline (0: none left). */
static int api_left_ms(uint64_t deadline)
{
	uint64_t now = api_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/*
 * A UNIX socket connect() waits while the server's backlog is full, for as
 * long as SO_SNDTIMEO allows, then fails with EAGAIN.
 */
static int connect_to(const char *path, uint64_t deadline)
{
	struct sockaddr_un addr;
	struct timeval tv;
	int fd, err, left;

	err = fill_addr(&addr, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	left = api_left_ms(deadline);
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000 + (left ? 0 : 1000);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do
		err = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	while (err < 0 && errno == EINTR && api_left_ms(deadline));
	if (err < 0) {
		err = errno == EAGAIN || errno == EINPROGRESS || errno == EINTR
			      ? -ETIMEDOUT
			      : -errno;
		close(fd);
		return err;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Wait until @fd has @events or @deadline passes: 0 or -ETIMEDOUT. */
static int api_wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int left = api_left_ms(deadline);
		int n;

		if (!left)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return 0; /* also POLLHUP/POLLERR: the next call says */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err = api_wait_fd(fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		if (n <= 0)
			return errno == EPIPE ? -ECONNRESET : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line (bounded by API_MAX_RESPONSE) into a malloc'd string. */
static int recv_line(int fd, char **out, uint64_t deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;
		char *nl;
		int err;

		if (len + 1 >= cap) {
			char *bigger = cap >= API_MAX_RESPONSE + 2
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
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err = api_wait_fd(fd, POLLIN, deadline);
			if (err) {
				free(buf);
				return err;
			}
			continue;
		}
		if (n <= 0) {
			/* The VMM went away (exited, or was killed). */
			err = n == 0 || errno == ECONNRESET ? -ECONNRESET
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

const char *api_call_step_name(enum api_call_step step)
{
	switch (step) {
	case API_CALL_CONNECT:
		return "connecting to";
	case API_CALL_SEND:
		return "sending the request to";
	case API_CALL_RECV:
		break;
	}
	return "waiting for the reply from";
}

int api_call_timed(const char *path, json_t *request, unsigned timeout_ms,
		   json_t **response, enum api_call_step *step)
{
	uint64_t deadline = api_now_ms() + timeout_ms;
	enum api_call_step dummy;
	char *line = json_dumps(request, JSON_COMPACT);
	json_error_t jerr;
	char *reply = NULL;
	int fd, err;

	if (!step)
		step = &dummy;
	*step = API_CALL_CONNECT;
	if (!line)
		return -EINVAL;
	fd = connect_to(path, deadline);
	if (fd < 0) {
		free(line);
		return fd;
	}
	*step = API_CALL_SEND;
	err = send_all(fd, line, strlen(line), deadline);
	if (!err)
		err = send_all(fd, "\n", 1, deadline);
	free(line);
	/*
	 * A VMM at its maximum of clients writes its EUSERS refusal and
	 * closes without reading, maybe before the request went out: then
	 * the send fails, and the refusal is still there to read.
	 */
	if (!err || err == -ECONNRESET) {
		int send_err = err;

		if (!send_err)
			*step = API_CALL_RECV;
		err = recv_line(fd, &reply, deadline);
		if (err && send_err)
			err = send_err;
	}
	close(fd);
	if (err)
		return err;
	*response = json_loads(reply, 0, &jerr);
	free(reply);
	return *response && json_is_object(*response) ? 0 : -EPROTO;
}

int api_call(const char *path, json_t *request, json_t **response)
{
	return api_call_timed(path, request, API_CALL_TIMEOUT_MS, response,
			      NULL);
}
