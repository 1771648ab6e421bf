// SPDX-License-Identifier: MIT
/*
 * vmm/cli_api.c - `vmm stat|balloon|pause|resume|quit`: one request to the
 * control socket of a running `vmm run --api PATH` (cli_api.h), or, for
 * `balloon --wait`, a request and then `stat` polls until the balloon's
 * actual size reaches the target.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "vmm/api.h"
#include "abi/boot.h"
#include "vmm/cli.h"
#include "vmm/cli_api.h"
#include "vmm/cli_compact.h"

#define CLI_API_TIMEOUT_HELP                                                   \
	"  --timeout S         give up after S seconds (default 5), saying\n"  \
	"                      whether connecting, sending or waiting for\n"   \
	"                      the reply timed out; exit status 1\n"
#define CLI_API_COMMON_HELP                                                    \
	"  --api PATH          the control socket of `vmm run --api PATH`\n"   \
	"  -h, --help          show this help\n"                               \
	"\n"                                                                   \
	"exit status: 0 done; 1 no VMM at PATH, the VMM did not answer "       \
	"within\n"                                                             \
	"--timeout, or it answered with an error (its code and message are\n"  \
	"printed); 2 bad arguments\n"

static const struct cli_api_cmd {
	const char *name;
	const char *help;
} cli_api_cmds[] = {
	{"stat",
	 "usage: vmm stat --api PATH [--json] [--timeout S]\n\n"
	 "Show a running VM's memory: balloon target and actual, the guest's\n"
	 "statistics, the host page database (frame states, buddyinfo,\n"
	 "zoneinfo), pvmem counters, host RSS of the VMM and of guest RAM.\n\n"
	 "options:\n"
	 "  --json              print the raw JSON result "
	 "(docs/api.md)\n" CLI_API_TIMEOUT_HELP CLI_API_COMMON_HELP},
	{"balloon",
	 "usage: vmm balloon --api PATH --target SIZE [--wait] [--timeout "
	 "S]\n\n"
	 "Set the balloon target: how much of the guest's RAM the balloon\n"
	 "should hold (0 deflates it completely). SIZE is bytes or a number\n"
	 "with K, M, G or T (powers of 1024), rounded down to 4 KiB pages.\n\n"
	 "options:\n"
	 "  --target SIZE       the balloon size to reach (required)\n"
	 "  --wait              poll until the actual size equals the target,\n"
	 "                      printing progress\n"
	 "  --timeout S         give up after S seconds, exit status 1\n"
	 "                      (default 5; with --wait the whole wait,\n"
	 "                      default 60)\n" CLI_API_COMMON_HELP},
	{"pause",
	 "usage: vmm pause --api PATH [--timeout S]\n\n"
	 "Stop every vCPU of the VM (idempotent). Devices and the control API\n"
	 "keep running.\n\noptions:\n" CLI_API_TIMEOUT_HELP
		 CLI_API_COMMON_HELP},
	{"resume", "usage: vmm resume --api PATH [--timeout S]\n\n"
		   "Let the vCPUs of a paused VM run again (idempotent).\n\n"
		   "options:\n" CLI_API_TIMEOUT_HELP CLI_API_COMMON_HELP},
	{"quit",
	 "usage: vmm quit --api PATH [--timeout S]\n\n"
	 "Stop the VM: `vmm run` exits with status 0 (unless the guest had\n"
	 "already decided another status). A quit that times out may still\n"
	 "take effect.\n\noptions:\n" CLI_API_TIMEOUT_HELP CLI_API_COMMON_HELP},
};

static const struct cli_api_cmd *cli_api_find(const char *cmd)
{
	for (size_t i = 0; i < sizeof(cli_api_cmds) / sizeof(cli_api_cmds[0]);
	     i++)
		if (strcmp(cli_api_cmds[i].name, cmd) == 0)
			return &cli_api_cmds[i];
	return NULL;
}

const char *cli_api_help(const char *cmd)
{
	const struct cli_api_cmd *c = cli_api_find(cmd);

	return c ? c->help : NULL;
}

static int cli_api_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cli_api_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cli_api_check_path(const char *path, char *err, size_t errlen)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (!path || !*path || strlen(path) > max)
		return cli_api_error(err, errlen,
				     "--api: the socket path must have 1 .. "
				     "%zu bytes",
				     max);
	return 0;
}

/* An option's value: "--name value" or "--name=value"; NULL if missing. */
static const char *cli_api_value(int argc, char **argv, int *i,
				 const char *name)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (arg[n] == '=')
		return arg + n + 1;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static bool cli_api_is(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int cli_api_balloon_option(struct cli_api_opts *o, int argc, char **argv,
				  int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i], *v;

	if (strcmp(arg, "--wait") == 0) {
		o->wait = true;
		return 0;
	}
	if (cli_api_is(arg, "--target")) {
		v = cli_api_value(argc, argv, i, "--target");
		if (!v || cli_parse_size(v, &o->target_bytes) < 0)
			return cli_api_error(err, errlen,
					     "--target: '%s' is not a size "
					     "(use e.g. 512M, 1G or bytes)",
					     CLI_Q(v ? v : ""));
		o->has_target = true;
		return 0;
	}
	return cli_api_error(err, errlen, "unknown option '%s'", CLI_Q(arg));
}

int cli_api_parse_timeout(const char *v, unsigned *timeout_s, char *err,
			  size_t errlen)
{
	if (!v || cli_parse_uint(v, 1, CLI_TIMEOUT_MAX, timeout_s) < 0)
		return cli_api_error(err, errlen,
				     "--timeout: '%s' is not a number of "
				     "seconds in 1 .. %u",
				     CLI_Q(v ? v : ""), CLI_TIMEOUT_MAX);
	return 0;
}

static int cli_api_option(const char *cmd, struct cli_api_opts *o, int argc,
			  char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i];

	if (cli_api_is(arg, "--timeout")) {
		o->has_timeout = true;
		return cli_api_parse_timeout(
			cli_api_value(argc, argv, i, "--timeout"),
			&o->timeout_s, err, errlen);
	}
	if (cli_api_is(arg, "--api")) {
		o->api_path = cli_api_value(argc, argv, i, "--api");
		if (!o->api_path || !*o->api_path)
			return cli_api_error(err, errlen,
					     "--api needs a socket path");
		return cli_api_check_path(o->api_path, err, errlen);
	}
	if (strcmp(cmd, "stat") == 0 && strcmp(arg, "--json") == 0) {
		o->json = true;
		return 0;
	}
	if (strcmp(cmd, "balloon") == 0)
		return cli_api_balloon_option(o, argc, argv, i, err, errlen);
	return cli_api_error(err, errlen, "unknown option '%s'", CLI_Q(arg));
}

int cli_api_parse(const char *cmd, int argc, char **argv,
		  struct cli_api_opts *o, char *err, size_t errlen)
{
	*o = (struct cli_api_opts){0};
	if (!cli_api_find(cmd))
		return cli_api_error(err, errlen, "unknown command '%s'",
				     CLI_Q(cmd));
	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
		if (argv[i][0] != '-')
			return cli_api_error(err, errlen,
					     "unexpected argument '%s'",
					     CLI_Q(argv[i]));
		r = cli_api_option(cmd, o, argc, argv, &i, err, errlen);
		if (r < 0)
			return r;
	}
	if (!o->api_path)
		return cli_api_error(err, errlen,
				     "--api PATH is required (the socket of "
				     "`vmm run --api PATH`)");
	if (strcmp(cmd, "balloon") == 0 && !o->has_target)
		return cli_api_error(err, errlen, "--target SIZE is required");
	if (!o->has_timeout)
		o->timeout_s = o->wait ? CLI_API_WAIT_DEFAULT_S
				       : CLI_API_TIMEOUT_DEFAULT_S;
	return 0;
}

/* Printing ---------------------------------------------------------------- */

void cli_api_format_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

static uint64_t cli_api_u64(json_t *obj, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(obj, key));

	return v > 0 ? (uint64_t)v : 0;
}

static void cli_api_print_balloon(FILE *out, json_t *b)
{
	char target[32], actual[32];

	if (!json_is_true(json_object_get(b, "present"))) {
		fprintf(out, "balloon: none\n");
		return;
	}
	cli_api_format_bytes(cli_api_u64(b, "target_bytes"), target,
			     sizeof(target));
	cli_api_format_bytes(cli_api_u64(b, "actual_bytes"), actual,
			     sizeof(actual));
	fprintf(out,
		"balloon: target %s (%" PRIu64 " pages), actual %s (%" PRIu64
		" pages), host BALLOON frames %" PRIu64 "\n",
		target, cli_api_u64(b, "target_pages"), actual,
		cli_api_u64(b, "actual_pages"),
		cli_api_u64(b, "inflated_frames"));
}

static void cli_api_print_guest(FILE *out, json_t *g)
{
	json_t *stats = json_object_get(g, "balloon_stats");
	json_t *age = json_object_get(g, "balloon_stats_age_ms");
	json_t *published = json_object_get(g, "published");
	const char *key;
	json_t *v;

	if (json_object_size(stats)) {
		fprintf(out,
			"guest stats (virtio-balloon, %" PRIu64 " ms old):\n",
			(uint64_t)json_integer_value(age));
		json_object_foreach(stats, key, v)
			fprintf(out, "  %-16s %" JSON_INTEGER_FORMAT "\n", key,
				json_integer_value(v));
	} else {
		fprintf(out, "guest stats: none reported by a balloon\n");
	}
	if (json_is_string(published))
		fprintf(out, "== guest (published) ==\n%s%s",
			json_string_value(published),
			json_string_length(published) &&
					json_string_value(
						published)[json_string_length(
								   published) -
							   1] != '\n'
				? "\n"
				: "");
}

static void cli_api_print_frames(FILE *out, json_t *frames)
{
	static const char *const keys[] = {"free",    "guest",	  "dma",
					   "balloon", "reserved", "discarded",
					   "total"};
	char size[32];

	fprintf(out, "host frames:\n");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t n = cli_api_u64(frames, keys[i]);

		cli_api_format_bytes(n * 4096, size, sizeof(size));
		fprintf(out, "  %-10s %10" PRIu64 " pages %12s\n", keys[i], n,
			size);
	}
}

static void cli_api_print_host(FILE *out, json_t *host)
{
	json_t *rss = json_object_get(host, "rss");
	json_t *pvmem = json_object_get(host, "pvmem");
	json_t *api = json_object_get(host, "api");
	char vmm[32], guest[32];

	cli_api_format_bytes(cli_api_u64(rss, "vmm_bytes"), vmm, sizeof(vmm));
	cli_api_format_bytes(cli_api_u64(rss, "guest_bytes"), guest,
			     sizeof(guest));
	fprintf(out, "host RSS: VMM %s, guest RAM backed %s\n", vmm, guest);
	if (json_is_object(api))
		fprintf(out,
			"control API: %" PRIu64 " of %" PRIu64
			" clients, %" PRIu64 " requests; refused %" PRIu64
			", dropped %" PRIu64 " slow, %" PRIu64 " idle\n",
			cli_api_u64(api, "clients"),
			cli_api_u64(api, "max_clients"),
			cli_api_u64(api, "requests"),
			cli_api_u64(api, "refused"),
			cli_api_u64(api, "dropped_slow"),
			cli_api_u64(api, "dropped_idle"));
	if (json_is_object(pvmem))
		fprintf(out,
			"pvmem: tot_pages %" PRIu64 " of max_pages %" PRIu64
			"\n",
			cli_api_u64(pvmem, "tot_pages"),
			cli_api_u64(pvmem, "max_pages"));
	if (json_is_object(pvmem)) {
		json_t *ring = json_object_get(pvmem, "ring");

		if (cli_api_u64(ring, "rings"))
			fprintf(out,
				"pvmem rings: %" PRIu64 ", supply %" PRIu64
				" frames (target %" PRIu64 "), %" PRIu64
				" returns waiting; %" PRIu64 " kicks, %" PRIu64
				" taken, %" PRIu64 " returned (%" PRIu64
				" recycled), %" PRIu64 " errors\n",
				cli_api_u64(ring, "rings"),
				cli_api_u64(ring, "supply_frames"),
				cli_api_u64(ring, "supply_target"),
				cli_api_u64(ring, "returns_waiting"),
				cli_api_u64(ring, "kicks"),
				cli_api_u64(ring, "taken"),
				cli_api_u64(ring, "returned"),
				cli_api_u64(ring, "recycled"),
				cli_api_u64(ring, "errors"));
	}
	if (json_is_object(json_object_get(host, "frames")))
		cli_api_print_frames(out, json_object_get(host, "frames"));
	if (json_is_string(json_object_get(host, "buddyinfo")))
		fprintf(out, "== buddyinfo ==\n%s== zoneinfo ==\n%s",
			json_string_value(json_object_get(host, "buddyinfo")),
			json_string_value(json_object_get(host, "zoneinfo")));
	cli_compact_print_stat(out, json_object_get(host, "compaction"));
}

void cli_api_print_stat(FILE *out, json_t *r)
{
	json_t *vcpus = json_object_get(r, "vcpus");
	char ram[32];

	cli_api_format_bytes(cli_api_u64(r, "ram_bytes"), ram, sizeof(ram));
	fprintf(out,
		"VM: %s memory model, %s RAM, %" PRIu64
		" vCPU(s) %s, up %.1f s\n",
		json_string_value(json_object_get(r, "memory_model")), ram,
		cli_api_u64(vcpus, "count"),
		json_string_value(json_object_get(vcpus, "state")),
		(double)cli_api_u64(r, "uptime_ms") / 1000.0);
	cli_api_print_balloon(out, json_object_get(r, "balloon"));
	cli_api_print_guest(out, json_object_get(r, "guest"));
	cli_api_print_host(out, json_object_get(r, "host"));
}

/* Talking to the VMM ------------------------------------------------------- */

static double cli_api_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * cli_api_request() with a deadline (CLOCK_MONOTONIC seconds) that may be
 * shared by several requests; @timeout_s is what the user gave, for the
 * message.
 */
/* The VMM refused the connection: it serves its maximum of clients. */
static bool cli_api_refused(json_t *resp)
{
	json_t *e = json_object_get(resp, "error");

	return json_is_false(json_object_get(resp, "ok")) &&
	       json_is_string(json_object_get(e, "code")) &&
	       strcmp(json_string_value(json_object_get(e, "code")),
		      "EUSERS") == 0;
}

/*
 * One call; a refusal (the VMM serves its maximum of clients, nothing was
 * done) is tried again every CLI_API_POLL_MS until @deadline.
 */
static int cli_api_call_until(const char *path, json_t *request,
			      double deadline, json_t **resp,
			      enum api_call_step *step)
{
	for (;;) {
		double left = deadline - cli_api_now();
		int err = api_call_timed(
			path, request,
			left > 0 ? (unsigned)(left * 1000) + 1 : 1, resp, step);

		if (err || !cli_api_refused(*resp) ||
		    deadline - cli_api_now() < CLI_API_POLL_MS / 1000.0)
			return err;
		json_decref(*resp);
		*resp = NULL;
		nanosleep(&(struct timespec){0, CLI_API_POLL_MS * 1000000L},
			  NULL);
	}
}

/*
 * cli_api_request() with a deadline (CLOCK_MONOTONIC seconds) that may be
 * shared by several requests; @timeout_s is what the user gave, for the
 * message.
 */
static json_t *cli_api_request_until(const char *cmd, const char *path,
				     unsigned timeout_s, double deadline,
				     json_t *request)
{
	enum api_call_step step;
	json_t *resp = NULL, *result;
	int err = request ? cli_api_call_until(path, request, deadline, &resp,
					       &step)
			  : -EINVAL;

	json_decref(request);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "vmm %s: no VMM at %s: %s\n", cmd, CLI_Q(path),
			err == -ENOENT ? "no such socket"
				       : "connection refused");
		return NULL;
	}
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "vmm %s: timed out after %u s %s %s\n", cmd,
			timeout_s, api_call_step_name(step), CLI_Q(path));
		return NULL;
	}
	if (err) {
		fprintf(stderr, "vmm %s: %s: %s\n", cmd, CLI_Q(path),
			api_call_strerror(err));
		return NULL;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		json_t *e = json_object_get(resp, "error");

		fprintf(stderr, "vmm %s: %s: %s\n", cmd,
			json_string_value(json_object_get(e, "code"))
				?: "error",
			json_string_value(json_object_get(e, "message"))
				?: "(no message)");
		json_decref(resp);
		return NULL;
	}
	result = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	return result;
}

json_t *cli_api_request(const char *cmd, const char *path, unsigned timeout_s,
			json_t *request)
{
	return cli_api_request_until(cmd, path, timeout_s,
				     cli_api_now() + timeout_s, request);
}

/* Poll stat until actual == target; print each change. */
static int cli_api_wait(const struct cli_api_opts *o, uint64_t target_pages,
			double start)
{
	uint64_t last = UINT64_MAX;
	char a[32], t[32];

	cli_api_format_bytes(target_pages * 4096, t, sizeof(t));
	for (;;) {
		json_t *r = cli_api_request_until(
			"balloon", o->api_path, o->timeout_s,
			start + o->timeout_s,
			json_pack("{s:s}", "cmd", "stat"));
		uint64_t actual;

		if (!r)
			return BVM_EXIT_VMM_ERROR;
		actual = cli_api_u64(json_object_get(r, "balloon"),
				     "actual_pages");
		json_decref(r);
		cli_api_format_bytes(actual * 4096, a, sizeof(a));
		if (actual == target_pages) {
			printf("balloon: actual %s reached the target in "
			       "%.2f s\n",
			       a, cli_api_now() - start);
			return BVM_EXIT_OK;
		}
		if (actual != last)
			printf("balloon: actual %s, target %s\n", a, t);
		fflush(stdout);
		last = actual;
		if (cli_api_now() - start > o->timeout_s) {
			fprintf(stderr,
				"vmm balloon: actual %s did not reach the "
				"target %s within %u s\n",
				a, t, o->timeout_s);
			return BVM_EXIT_VMM_ERROR;
		}
		nanosleep(&(struct timespec){0, CLI_API_POLL_MS * 1000000L},
			  NULL);
	}
}

static int cli_api_balloon(const struct cli_api_opts *o)
{
	double start = cli_api_now();
	json_t *r = cli_api_request_until(
		"balloon", o->api_path, o->timeout_s, start + o->timeout_s,
		json_pack("{s:s, s:I}", "cmd", "balloon", "target_bytes",
			  (json_int_t)(o->target_bytes > INT64_MAX
					       ? INT64_MAX
					       : o->target_bytes)));
	uint64_t target;
	char t[32];

	if (!r)
		return BVM_EXIT_VMM_ERROR;
	target = cli_api_u64(r, "target_pages");
	json_decref(r);
	cli_api_format_bytes(target * 4096, t, sizeof(t));
	printf("balloon: target set to %s (%" PRIu64 " pages)\n", t, target);
	return o->wait ? cli_api_wait(o, target, start) : BVM_EXIT_OK;
}

static int cli_api_simple(const char *cmd, const struct cli_api_opts *o)
{
	json_t *r = cli_api_request(cmd, o->api_path, o->timeout_s,
				    json_pack("{s:s}", "cmd", cmd));

	if (!r)
		return BVM_EXIT_VMM_ERROR;
	if (o->json) {
		json_dumpf(r, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (strcmp(cmd, "stat") == 0) {
		cli_api_print_stat(stdout, r);
	} else if (strcmp(cmd, "quit") == 0) {
		printf("quit: the VM is stopping, exit status %" PRIu64 "\n",
		       cli_api_u64(r, "exit_status"));
	} else {
		printf("%s: %s (was %s)\n", cmd,
		       json_string_value(json_object_get(r, "state")),
		       json_string_value(json_object_get(r, "was")));
	}
	json_decref(r);
	return BVM_EXIT_OK;
}

int cli_api_main(int argc, char **argv)
{
	struct cli_api_opts o;
	char err[256];
	int r = cli_api_parse(argv[0], argc, argv, &o, err, sizeof(err));

	if (r == 1) {
		fputs(cli_api_help(argv[0]), stdout);
		return BVM_EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "vmm %s: %s\ntry 'vmm %s --help'\n", argv[0],
			err, argv[0]);
		return BVM_EXIT_USAGE;
	}
	if (strcmp(argv[0], "balloon") == 0)
		return cli_api_balloon(&o);
	return cli_api_simple(argv[0], &o);
}
