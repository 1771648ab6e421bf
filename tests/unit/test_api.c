// SPDX-License-Identifier: MIT
/* Unit tests for the control API (vmm/api.c): protocol and socket. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "vmm/api.h"

static int echo_cmd(void *opaque, json_t *args, json_t **result, char *msg,
		    size_t msg_size)
{
	json_t *value = json_object_get(args, "value");
	int *calls = opaque;

	(*calls)++;
	if (!json_is_integer(value)) {
		snprintf(msg, msg_size, "'value' must be an integer");
		return -EINVAL;
	}
	*result = json_pack("{s:I}", "value", json_integer_value(value) * 2);
	return 0;
}

static int fail_cmd(void *opaque, json_t *args, json_t **result, char *msg,
		    size_t msg_size)
{
	return -EDQUOT; /* no message: the server falls back to strerror */
}

static char sock_dir[64];
static char sock_path[128];
static int echo_calls;

static struct api_server *make_server(void)
{
	struct api_server *srv;

	strcpy(sock_dir, "/tmp/bvm-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sock_dir));
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", sock_dir);
	ck_assert_int_eq(api_server_create(&srv, sock_path), 0);
	ck_assert_int_eq(api_register(srv, "echo", echo_cmd, &echo_calls), 0);
	ck_assert_int_eq(api_register(srv, "fail", fail_cmd, NULL), 0);
	return srv;
}

static void drop_server(struct api_server *srv)
{
	api_server_destroy(srv);
	ck_assert_int_ne(access(sock_path, F_OK), 0); /* unlinked */
	rmdir(sock_dir);
}

static json_t *handle(struct api_server *srv, const char *line)
{
	char *out = api_handle_line(srv, line, strlen(line));
	json_t *resp;

	ck_assert_ptr_nonnull(out);
	resp = json_loads(out, 0, NULL);
	free(out);
	ck_assert_ptr_nonnull(resp);
	return resp;
}

static void assert_error(json_t *resp, const char *code, const char *needle)
{
	json_t *err = json_object_get(resp, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));

	ck_assert(json_is_false(json_object_get(resp, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")), code);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, needle), "message '%s' lacks '%s'", msg,
		      needle);
	json_decref(resp);
}

START_TEST(test_api_protocol_errors)
{
	struct api_server *srv = make_server();

	assert_error(handle(srv, "{not json"), "EINVAL", "not valid JSON");
	assert_error(handle(srv, "[1,2]"), "EINVAL", "\"cmd\"");
	assert_error(handle(srv, "{\"cmd\": 7}"), "EINVAL", "\"cmd\"");
	assert_error(handle(srv, "{\"cmd\":\"x\",\"cmd\":\"y\"}"), "EINVAL",
		     "not valid JSON");
	assert_error(handle(srv, "{\"cmd\": \"nope\"}"), "EINVAL",
		     "known: echo, fail");
	assert_error(handle(srv, "{\"cmd\": \"echo\"}"), "EINVAL",
		     "must be an integer");
	assert_error(handle(srv, "{\"cmd\": \"fail\"}"), "EDQUOT", "quota");
	drop_server(srv);
}
END_TEST

/* No socket needed to parse and dispatch (the fuzz harness's way in). */
START_TEST(test_api_server_without_socket)
{
	struct api_server *srv;
	json_t *resp;

	ck_assert_int_eq(api_server_new(&srv), 0);
	ck_assert_int_eq(api_register(srv, "echo", echo_cmd, &echo_calls), 0);
	resp = handle(srv, "{\"cmd\": \"echo\", \"value\": 4}");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(resp, "result"), "value")),
			 8);
	json_decref(resp);
	assert_error(handle(srv, "{\"cmd\": \"nope\"}"), "EINVAL",
		     "known: echo");
	ck_assert_int_eq(api_server_start(srv), -EINVAL);
	api_server_destroy(srv);
}
END_TEST

START_TEST(test_api_success)
{
	struct api_server *srv = make_server();
	json_t *resp = handle(srv, "{\"cmd\": \"echo\", \"value\": 21}");

	ck_assert(json_is_true(json_object_get(resp, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(resp, "result"), "value")),
			 42);
	json_decref(resp);
	drop_server(srv);
}
END_TEST

START_TEST(test_api_socket_clients_in_turn)
{
	struct api_server *srv = make_server();
	struct stat st;

	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(api_server_start(srv), 0);
	for (int i = 0; i < 5; i++) {
		json_t *req =
			json_pack("{s:s, s:i}", "cmd", "echo", "value", i);
		json_t *resp = NULL;

		ck_assert_int_eq(api_call(sock_path, req, &resp), 0);
		ck_assert_int_eq(
			json_integer_value(json_object_get(
				json_object_get(resp, "result"), "value")),
			2 * i);
		json_decref(req);
		json_decref(resp);
	}
	drop_server(srv);
}
END_TEST

static int raw_connect(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(addr.sun_path, sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}

static size_t read_reply(int fd, char *buf, size_t size, int lines)
{
	size_t len = 0;

	while (lines > 0 && len < size - 1) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines -= buf[len + i] == '\n';
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

START_TEST(test_api_pipelined_and_oversized)
{
	struct api_server *srv = make_server();
	static char big[API_MAX_LINE + 64];
	const char *two = "{\"cmd\":\"echo\",\"value\":1}\r\n\n"
			  "{\"cmd\":\"echo\",\"value\":2}\n";
	char reply[1024];
	int fd;

	ck_assert_int_eq(api_server_start(srv), 0);
	fd = raw_connect();
	ck_assert_int_eq(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
	read_reply(fd, reply, sizeof(reply), 3); /* the empty line: an error */
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":2}"));
	ck_assert_ptr_nonnull(strstr(reply, "empty request line"));
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":4}"));
	close(fd);

	memset(big, ' ', sizeof(big));
	fd = raw_connect();
	send(fd, big, sizeof(big), MSG_NOSIGNAL);
	read_reply(fd, reply, sizeof(reply), 1);
	ck_assert_ptr_nonnull(strstr(reply, "E2BIG"));
	close(fd);

	/* The server is still there for the next client. */
	fd = raw_connect();
	send(fd, two, strlen(two), 0);
	read_reply(fd, reply, sizeof(reply), 3);
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":4}"));
	close(fd);
	drop_server(srv);
}
END_TEST

/* A reply must parse as JSON: the checks above need valid UTF-8. */
static void assert_error_line(struct api_server *srv, const char *line,
			      const char *needle)
{
	assert_error(handle(srv, line), "EINVAL", needle);
}

/* "é" (2 bytes) @n times, inside @before and @after. */
static const char *with_accents(char *buf, const char *before, int n,
				const char *after)
{
	strcpy(buf, before);
	for (int i = 0; i < n; i++)
		strcat(buf, "\xc3\xa9");
	return strcat(buf, after);
}

/*
 * Issue 12 defect 10: a long multi-byte name, broken JSON near invalid
 * UTF-8, and an empty line each get an error reply (the texts quote and
 * cut client bytes), and over a socket the next line is still served.
 */
START_TEST(test_api_multibyte_and_invalid_utf8)
{
	struct api_server *srv = make_server();
	const char *next = "{\"cmd\":\"echo\",\"value\":5}\n";
	char line[512], reply[4096];
	int fd;

	for (int n = 30; n < 36; n++) /* each cut position of "%.64s" */
		assert_error_line(srv,
				  with_accents(line, "{\"cmd\":\"a", n, "\"}"),
				  "unknown command 'a\xc3\xa9");
	assert_error_line(srv, "{\"cmd\":\"\xff\xfe\"}", "not valid JSON");
	assert_error_line(srv, "{\"cmd\" \xc3\xa9\xe9", "not valid JSON");
	assert_error_line(srv, "\xed\xa0\x80{", "not valid JSON");
	assert_error_line(srv, "", "empty request line");

	ck_assert_int_eq(api_server_start(srv), 0);
	fd = raw_connect();
	with_accents(line, "{\"cmd\":\"a", 31, "\"}\n");
	strcat(line, "{\"cmd\":\"\xff\n\n");
	strcat(line, next);
	send(fd, line, strlen(line), 0);
	read_reply(fd, reply, sizeof(reply), 4);
	ck_assert_ptr_nonnull(strstr(reply, "unknown command"));
	ck_assert_ptr_nonnull(strstr(reply, "not valid JSON"));
	ck_assert_ptr_nonnull(strstr(reply, "empty request line"));
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":10}"));
	close(fd);
	drop_server(srv);
}
END_TEST

START_TEST(test_api_utf8_sanitize)
{
	char s[64];

	strcpy(s, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	api_utf8_sanitize(s);
	ck_assert_str_eq(s, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	strcpy(s, "cut \xc3"); /* a character cut at the end */
	api_utf8_sanitize(s);
	ck_assert_str_eq(s, "cut ?");
	strcpy(s, "\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82x");
	api_utf8_sanitize(s); /* invalid, overlong, surrogate, > U+10FFFF */
	ck_assert_str_eq(s, "????????????x");
}
END_TEST

START_TEST(test_api_socket_path_rules)
{
	struct api_server *srv = make_server(), *other;
	char long_path[200];
	FILE *f;

	/* A live VMM's socket is not stolen. */
	ck_assert_int_eq(api_server_create(&other, sock_path), -EADDRINUSE);
	/* A stale one (nobody listening) is replaced. */
	api_server_destroy(srv);
	{
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un addr = {.sun_family = AF_UNIX};

		strcpy(addr.sun_path, sock_path);
		ck_assert_int_eq(
			bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
		close(fd); /* leaves the socket file behind, unbound */
	}
	ck_assert_int_eq(api_server_create(&other, sock_path), 0);
	api_server_destroy(other);
	/* Something that is not a socket is never deleted. */
	f = fopen(sock_path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(api_server_create(&other, sock_path), -EEXIST);
	ck_assert_int_eq(access(sock_path, F_OK), 0);
	unlink(sock_path);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	ck_assert_int_eq(api_server_create(&other, long_path), -ENAMETOOLONG);
	{
		json_t *req = json_pack("{s:s}", "cmd", "echo"), *resp = NULL;

		ck_assert_int_eq(api_call("/nonexistent/bvm.sock", req, &resp),
				 -ENOENT);
		json_decref(req);
	}
	rmdir(sock_dir);
}
END_TEST

/* The event loop (issue 12 defect 1) ------------------------------------- */

/* A reply of 64 KiB: a few of them fill a socket that nobody reads. */
static int big_cmd(void *opaque, json_t *args, json_t **result, char *msg,
		   size_t msg_size)
{
	static char text[64 * 1024];

	memset(text, 'b', sizeof(text) - 1);
	*result = json_pack("{s:s}", "text", text);
	return 0;
}

/*
 * "order": records the order in which tags are served; the first call
 * waits until the test says the other client's line is in its socket.
 */
static char order_log[256];
static unsigned order_len;
static volatile bool order_go;

static int order_cmd(void *opaque, json_t *args, json_t **result, char *msg,
		     size_t msg_size)
{
	const char *tag = json_string_value(json_object_get(args, "tag"));

	for (int i = 0; order_len == 0 && !order_go && i < 1000; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	if (tag && order_len < sizeof(order_log) - 1)
		order_log[order_len++] = tag[0];
	return 0;
}

static struct api_server *make_loop_server(const struct api_limits *limits)
{
	struct api_server *srv = make_server();

	ck_assert_int_eq(api_register(srv, "big", big_cmd, NULL), 0);
	ck_assert_int_eq(api_register(srv, "order", order_cmd, NULL), 0);
	if (limits)
		ck_assert_int_eq(api_server_set_limits(srv, limits), 0);
	ck_assert_int_eq(api_server_start(srv), 0);
	return srv;
}

static void send_lines(int fd, const char *line, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(send(fd, line, strlen(line), MSG_NOSIGNAL),
				 (ssize_t)strlen(line));
}

/* Poll @srv's counters until @field reaches @want (bounded: 20 s). */
#define wait_stat(srv, field, want)                                            \
	do {                                                                   \
		struct api_server_stats st_;                                   \
		int i_;                                                        \
		for (i_ = 0; i_ < 2000; i_++) {                                \
			api_server_get_stats(srv, &st_);                       \
			if (st_.field >= (want))                               \
				break;                                         \
			nanosleep(&(struct timespec){0, 10000000}, NULL);      \
		}                                                              \
		ck_assert_msg(i_ < 2000, #field " stayed at %lu, wanted %lu",  \
			      st_.field, (unsigned long)(want));               \
	} while (0)

/* One echo over a new connection answers (the server is not stalled). */
static void assert_echo_answers(int value)
{
	json_t *req = json_pack("{s:s, s:i}", "cmd", "echo", "value", value);
	json_t *resp = NULL;

	ck_assert_int_eq(api_call_timed(sock_path, req, 10000, &resp, NULL), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(resp, "result"), "value")),
			 2 * value);
	json_decref(req);
	json_decref(resp);
}

/* The peer closed @fd (read until EOF, bounded by SO_RCVTIMEO 20 s). */
static bool closed_by_server(int fd)
{
	struct timeval tv = {.tv_sec = 20};
	char buf[65536];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/*
 * A client that sends requests and never reads their answers: before,
 * the API thread blocked in send(), every other client waited, and
 * api_server_destroy() (the end of `vmm run`) never returned.
 */
START_TEST(test_api_client_that_never_reads)
{
	struct api_limits lim = {.max_clients = 8,
				 .idle_ms = 60000,
				 .send_timeout_ms = 60000,
				 .out_high = 4096};
	struct api_server *srv = make_loop_server(&lim);
	struct api_server_stats st;
	int hog = raw_connect();

	send_lines(hog, "{\"cmd\":\"big\"}\n", 40); /* 2.5 MiB of replies */
	wait_stat(srv, requests, 3);
	/* Its replies fill its socket; others are still answered. */
	for (int i = 0; i < 5; i++)
		assert_echo_answers(i);
	api_server_get_stats(srv, &st);
	/* Backpressure: its requests wait unread, the VMM holds a bound. */
	ck_assert_uint_lt(st.requests, 40 + 5);
	drop_server(srv); /* returns: exit never waits on a client */
	close(hog);
}
END_TEST

/* A client that takes no reply within the send timeout is dropped. */
START_TEST(test_api_slow_client_dropped)
{
	struct api_limits lim = {.max_clients = 8,
				 .idle_ms = 60000,
				 .send_timeout_ms = 100,
				 .out_high = 4096};
	struct api_server *srv = make_loop_server(&lim);
	int hog = raw_connect();

	send_lines(hog, "{\"cmd\":\"big\"}\n", 40);
	wait_stat(srv, dropped_slow, 1);
	ck_assert(closed_by_server(hog));
	assert_echo_answers(3);
	close(hog);
	drop_server(srv);
}
END_TEST

/* Half a line and then silence: closed after the idle time. */
START_TEST(test_api_half_line_dropped)
{
	struct api_limits lim = {.max_clients = 8,
				 .idle_ms = 100,
				 .send_timeout_ms = 60000,
				 .out_high = 4096};
	struct api_server *srv = make_loop_server(&lim);
	int fd = raw_connect();

	send_lines(fd, "{\"cmd\":\"ec", 1);
	ck_assert(closed_by_server(fd));
	wait_stat(srv, dropped_idle, 1);
	close(fd);
	drop_server(srv);
}
END_TEST

/* Read one line from @fd (bounded by SO_RCVTIMEO 20 s) into @buf. */
static void read_line(int fd, char *buf, size_t size)
{
	struct timeval tv = {.tv_sec = 20};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_uint_gt(read_reply(fd, buf, size, 1), 0);
}

/* Beyond the maximum: one JSON refusal line, then the connection closes. */
START_TEST(test_api_max_clients_refused)
{
	struct api_limits lim = {.max_clients = 4,
				 .idle_ms = 60000,
				 .send_timeout_ms = 60000,
				 .out_high = 4096};
	struct api_server *srv = make_loop_server(&lim);
	const char *echo = "{\"cmd\":\"echo\",\"value\":1}\n";
	int fds[4], extra;
	char reply[512];
	json_t *resp;

	for (int i = 0; i < 4; i++) { /* each one is being served */
		fds[i] = raw_connect();
		send_lines(fds[i], echo, 1);
		read_line(fds[i], reply, sizeof(reply));
		ck_assert_ptr_nonnull(strstr(reply, "\"value\":2"));
	}
	extra = raw_connect();
	read_line(extra, reply, sizeof(reply));
	resp = json_loads(reply, 0, NULL);
	ck_assert_ptr_nonnull(resp);
	assert_error(resp, "EUSERS", "serving 4 clients, its maximum");
	ck_assert(closed_by_server(extra));
	close(extra);
	wait_stat(srv, refused, 1);
	/* The others are still served; a freed slot takes a new client. */
	send_lines(fds[3], echo, 1);
	read_line(fds[3], reply, sizeof(reply));
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":2"));
	close(fds[0]);
	for (int i = 0;; i++) { /* the server sees the close in a moment */
		struct api_server_stats st;

		api_server_get_stats(srv, &st);
		extra = raw_connect();
		send_lines(extra, echo, 1);
		read_line(extra, reply, sizeof(reply));
		close(extra);
		if (strstr(reply, "\"value\":2"))
			break;
		ck_assert_int_lt(i, 2000);
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	drop_server(srv);
}
END_TEST

/*
 * Fairness: a client with 50 requests queued does not make another wait
 * for all of them; each round answers one line per client.
 */
START_TEST(test_api_flood_does_not_starve)
{
	struct api_server *srv;
	char reply[512];
	int flood, other;

	order_len = 0;
	order_go = false;
	srv = make_loop_server(NULL);
	flood = raw_connect();
	send_lines(flood, "{\"cmd\":\"order\",\"tag\":\"a\"}\n", 50);
	wait_stat(srv, accepted, 1);
	other = raw_connect(); /* while the first "a" is being served */
	send_lines(other, "{\"cmd\":\"order\",\"tag\":\"b\"}\n", 1);
	order_go = true;
	read_line(other, reply, sizeof(reply));
	ck_assert_ptr_nonnull(strstr(reply, "\"ok\":true"));
	order_log[order_len] = '\0';
	ck_assert_msg(strchr(order_log, 'b') &&
			      strchr(order_log, 'b') - order_log <= 5,
		      "'b' served after %s", order_log);
	close(flood);
	close(other);
	drop_server(srv);
}
END_TEST

/* A client that disconnects in the middle of a large reply. */
START_TEST(test_api_disconnect_mid_reply)
{
	struct api_server *srv = make_loop_server(NULL);
	char buf[1000];

	for (int i = 0; i < 20; i++) {
		int fd = raw_connect();

		send_lines(fd, "{\"cmd\":\"big\"}\n{\"cmd\":\"big\"}\n", 1);
		ck_assert_int_gt(recv(fd, buf, sizeof(buf), 0), 0);
		close(fd);
	}
	assert_echo_answers(9);
	drop_server(srv);
}
END_TEST

/* A last request without its newline is answered when the client shuts
 * down its sending side (`printf '{"cmd":"stat"}' | socat ...`). */
START_TEST(test_api_last_line_without_newline)
{
	struct api_server *srv = make_loop_server(NULL);
	const char *req = "{\"cmd\":\"echo\",\"value\":1}\n"
			  "{\"cmd\":\"echo\",\"value\":3}";
	char reply[512];
	int fd = raw_connect();

	send_lines(fd, req, 1);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	read_reply(fd, reply, sizeof(reply), 2);
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":2}"));
	ck_assert_ptr_nonnull(strstr(reply, "\"value\":6}"));
	ck_assert(closed_by_server(fd));
	close(fd);
	drop_server(srv);
}
END_TEST

/* The client's timeouts say which step did not finish. */
START_TEST(test_api_call_timeouts)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	json_t *req = json_pack("{s:s}", "cmd", "echo"), *resp = NULL;
	enum api_call_step step;
	int lfd, filler;

	strcpy(sock_dir, "/tmp/bvm-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sock_dir));
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", sock_dir);
	strcpy(addr.sun_path, sock_path);
	/* A "VMM" that accepts nobody: its backlog of 1 taken by @filler. */
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	filler = raw_connect();
	ck_assert_int_eq(api_call_timed(sock_path, req, 200, &resp, &step),
			 -ETIMEDOUT);
	ck_assert_int_eq(step, API_CALL_CONNECT);
	ck_assert_str_eq(api_call_step_name(step), "connecting to");
	/* Room in the backlog, but nobody answers. */
	close(filler);
	close(lfd);
	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(api_call_timed(sock_path, req, 200, &resp, &step),
			 -ETIMEDOUT);
	ck_assert_int_eq(step, API_CALL_RECV);
	ck_assert_str_eq(api_call_step_name(step),
			 "waiting for the reply from");
	close(lfd);
	unlink(sock_path);
	rmdir(sock_dir);
	json_decref(req);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_api_protocol_errors);
	tcase_add_test(tc, test_api_success);
	tcase_add_test(tc, test_api_server_without_socket);
	tcase_add_test(tc, test_api_socket_clients_in_turn);
	tcase_add_test(tc, test_api_pipelined_and_oversized);
	tcase_add_test(tc, test_api_socket_path_rules);
	tcase_add_test(tc, test_api_multibyte_and_invalid_utf8);
	tcase_add_test(tc, test_api_utf8_sanitize);
	suite_add_tcase(s, tc);
	tc = tcase_create("event_loop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_api_client_that_never_reads);
	tcase_add_test(tc, test_api_slow_client_dropped);
	tcase_add_test(tc, test_api_half_line_dropped);
	tcase_add_test(tc, test_api_max_clients_refused);
	tcase_add_test(tc, test_api_flood_does_not_starve);
	tcase_add_test(tc, test_api_disconnect_mid_reply);
	tcase_add_test(tc, test_api_call_timeouts);
	tcase_add_test(tc, test_api_last_line_without_newline);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(api_suite)
