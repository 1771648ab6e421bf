// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_api_cmds_cli.c - argument parsing and output of the
 * control API's command-line clients (vmm stat|balloon|pause|resume|quit),
 * and their behaviour when no VMM listens.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/cli_api.h"

static struct cli_api_opts opts;
static char err[256];

/* Parse a NULL-terminated argument list; argv[0] is the command. */
static int parse(const char *cmd, ...)
{
	char *argv[16] = {(char *)cmd};
	int argc = 1;
	va_list ap;

	va_start(ap, cmd);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	err[0] = '\0';
	return cli_api_parse(cmd, argc, argv, &opts, err, sizeof(err));
}

static void assert_usage(int r, const char *needle)
{
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(err, needle), "'%s' lacks '%s'", err, needle);
}

START_TEST(parse_common)
{
	ck_assert_int_eq(parse("stat", "--api", "/tmp/x", NULL), 0);
	ck_assert_str_eq(opts.api_path, "/tmp/x");
	ck_assert(!opts.json);
	ck_assert_int_eq(parse("stat", "--api=/tmp/y", "--json", NULL), 0);
	ck_assert_str_eq(opts.api_path, "/tmp/y");
	ck_assert(opts.json);
	ck_assert_int_eq(parse("pause", "--help", NULL), 1);
	ck_assert_int_eq(parse("quit", "--api", "/s", "-h", NULL), 1);
	assert_usage(parse("stat", NULL), "--api PATH is required");
	assert_usage(parse("stat", "--api", NULL), "--api needs a socket path");
	assert_usage(parse("stat", "--api=", NULL),
		     "--api needs a socket path");
	assert_usage(parse("pause", "--api", "/s", "--json", NULL),
		     "unknown option '--json'");
	assert_usage(parse("resume", "--api", "/s", "extra", NULL),
		     "unexpected argument 'extra'");
	assert_usage(parse("frob", "--api", "/s", NULL),
		     "unknown command 'frob'");
	/* Issue 12: arguments are quoted escaped, one line, no controls. */
	assert_usage(parse("fr\nob", "--api", "/s", NULL),
		     "unknown command 'fr\\nob'");
	assert_usage(parse("stat", "--api", "/s", "--js\x1bon", NULL),
		     "unknown option '--js\\x1bon'");
	assert_usage(parse("stat", "--api", "/s", "ex\ntra", NULL),
		     "unexpected argument 'ex\\ntra'");
	assert_usage(parse("balloon", "--api", "/s", "--target", "1\nG", NULL),
		     "--target: '1\\nG' is not a size");
	assert_usage(parse("stat", "--api", "/s", "--timeout", "\r5", NULL),
		     "--timeout: '\\r5' is not");
}
END_TEST

START_TEST(parse_balloon)
{
	ck_assert_int_eq(
		parse("balloon", "--api", "/s", "--target", "512M", NULL), 0);
	ck_assert(opts.has_target);
	ck_assert_int_eq(opts.target_bytes, 512ull << 20);
	ck_assert(!opts.wait);
	ck_assert_int_eq(opts.timeout_s, CLI_API_TIMEOUT_DEFAULT_S);
	ck_assert_int_eq(
		parse("balloon", "--api", "/s", "--target=0", "--wait", NULL),
		0);
	ck_assert_int_eq(opts.timeout_s, CLI_API_WAIT_DEFAULT_S);
	ck_assert_int_eq(parse("balloon", "--api", "/s", "--target=0", "--wait",
			       "--timeout", "5", NULL),
			 0);
	ck_assert_int_eq(opts.target_bytes, 0);
	ck_assert(opts.wait);
	ck_assert_int_eq(opts.timeout_s, 5);
	assert_usage(parse("balloon", "--api", "/s", NULL),
		     "--target SIZE is required");
	assert_usage(parse("balloon", "--api", "/s", "--target", "lots", NULL),
		     "--target: 'lots' is not a size");
	assert_usage(parse("balloon", "--api", "/s", "--target", NULL),
		     "--target: '' is not a size");
	assert_usage(parse("balloon", "--api", "/s", "--target", "1G",
			   "--timeout", "0", NULL),
		     "--timeout: '0' is not a number");
	assert_usage(parse("balloon", "--api", "/s", "--target", "1G",
			   "--timeout", "x", NULL),
		     "--timeout: 'x'");
	assert_usage(parse("stat", "--api", "/s", "--target", "1G", NULL),
		     "unknown option '--target'");
	/*
	 * Issue 12 defect 7: --timeout without --wait was silently ignored;
	 * it now bounds the request, as in every client.
	 */
	ck_assert_int_eq(parse("balloon", "--api", "/s", "--target", "1G",
			       "--timeout", "7", NULL),
			 0);
	ck_assert(opts.has_timeout && !opts.wait);
	ck_assert_int_eq(opts.timeout_s, 7);
}
END_TEST

/* Issue 12 defect 7: a path no socket can have is a usage error (exit 2). */
START_TEST(parse_long_socket_path)
{
	static const char *const cmds[] = {"stat", "balloon", "pause", "resume",
					   "quit"};
	char path[109];

	memset(path, 'a', 108);
	path[108] = '\0';
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_usage(
			parse(cmds[i], "--api", path, "--target", "1G", NULL),
			"socket path must have 1 .. 107 bytes");
	path[107] = '\0';
	ck_assert_int_eq(parse("stat", "--api", path, NULL), 0);
}
END_TEST

START_TEST(help_texts)
{
	static const char *const cmds[] = {"stat", "balloon", "pause", "resume",
					   "quit"};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *h = cli_api_help(cmds[i]);

		ck_assert_ptr_nonnull(h);
		ck_assert_ptr_nonnull(strstr(h, "--api PATH"));
		ck_assert_ptr_nonnull(strstr(h, "exit status"));
	}
	ck_assert_ptr_nonnull(strstr(cli_api_help("balloon"), "--wait"));
	ck_assert_ptr_null(cli_api_help("run"));
}
END_TEST

START_TEST(format_bytes)
{
	char buf[32];

	cli_api_format_bytes(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 B");
	cli_api_format_bytes(1023, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1023 B");
	cli_api_format_bytes(4096, buf, sizeof(buf));
	ck_assert_str_eq(buf, "4.0 KiB");
	cli_api_format_bytes(512ull << 20, buf, sizeof(buf));
	ck_assert_str_eq(buf, "512.0 MiB");
	cli_api_format_bytes(3ull << 29, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.5 GiB");
}
END_TEST

static char *print_stat(const char *json)
{
	json_t *r = json_loads(json, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(r);
	cli_api_print_stat(f, r);
	fclose(f);
	json_decref(r);
	return text;
}

START_TEST(print_stat_shows_units)
{
	char *t = print_stat(
		"{\"uptime_ms\":1500,\"memory_model\":\"native\","
		"\"ram_bytes\":1073741824,\"vcpus\":{\"count\":2,\"state\":"
		"\"paused\"},\"balloon\":{\"present\":true,\"target_bytes\":"
		"268435456,\"actual_bytes\":134217728,\"target_pages\":65536,"
		"\"actual_pages\":32768,\"inflated_frames\":32768},"
		"\"guest\":{\"balloon_stats\":{\"memfree\":7},"
		"\"balloon_stats_age_ms\":3,\"published\":\"kmalloc-64 1\"},"
		"\"host\":{\"frames\":{\"free\":10,\"total\":20},"
		"\"buddyinfo\":\"Node 0\\n\",\"zoneinfo\":\"zone\\n\","
		"\"pvmem\":null,\"rss\":{\"vmm_bytes\":2097152,"
		"\"guest_bytes\":1048576},\"api\":{\"clients\":2,"
		"\"max_clients\":64,\"requests\":9,\"refused\":3,"
		"\"dropped_slow\":1,\"dropped_idle\":0}}}");

	ck_assert_ptr_nonnull(strstr(t, "native memory model, 1.0 GiB RAM, "
					"2 vCPU(s) paused, up 1.5 s"));
	ck_assert_ptr_nonnull(strstr(t, "target 256.0 MiB (65536 pages), "
					"actual 128.0 MiB (32768 pages)"));
	ck_assert_ptr_nonnull(strstr(t, "memfree"));
	ck_assert_ptr_nonnull(strstr(t, "kmalloc-64 1\n"));
	ck_assert_ptr_nonnull(
		strstr(t, "VMM 2.0 MiB, guest RAM backed 1.0 MiB"));
	ck_assert_ptr_nonnull(strstr(t, "== buddyinfo ==\nNode 0\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "control API: 2 of 64 clients, 9 requests; refused 3, "
		   "dropped 1 slow, 0 idle\n"));
	ck_assert_ptr_null(strstr(t, "pvmem:"));
	free(t);
	t = print_stat("{\"host\":{\"pvmem\":{\"tot_pages\":40,"
		       "\"max_pages\":100,\"ring\":{\"rings\":2,"
		       "\"supply_frames\":30,\"supply_target\":64,"
		       "\"returns_waiting\":1,\"kicks\":5,\"taken\":700,"
		       "\"returned\":600,\"recycled\":200,\"errors\":0}}}}");
	ck_assert_ptr_nonnull(
		strstr(t, "pvmem: tot_pages 40 of max_pages 100\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "pvmem rings: 2, supply 30 frames (target 64), 1 returns "
		   "waiting; 5 kicks, 700 taken, 600 returned (200 recycled), "
		   "0 errors\n"));
	free(t);
	t = print_stat("{\"balloon\":{\"present\":false}}");
	ck_assert_ptr_nonnull(strstr(t, "balloon: none"));
	free(t);
}
END_TEST

/* No VMM: a missing socket and a dead one both exit 1, no crash. */
START_TEST(no_vmm_exits_1)
{
	char dir[] = "/tmp/api-cli-test.XXXXXX";
	char path[128];
	char *argv[] = {"stat", "--api", path, NULL};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	ck_assert_int_eq(cli_api_main(3, argv), 1);
	/* A socket nobody listens on: bound, then closed. */
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	ck_assert_int_eq(cli_api_main(3, argv), 1);
	unlink(path);
	rmdir(dir);
	argv[1] = "--bogus";
	ck_assert_int_eq(cli_api_main(2, argv), 2);
}
END_TEST

static Suite *api_cmds_cli_suite(void)
{
	Suite *s = suite_create("api_cmds_cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_common);
	tcase_add_test(tc, parse_balloon);
	tcase_add_test(tc, parse_long_socket_path);
	tcase_add_test(tc, help_texts);
	tcase_add_test(tc, format_bytes);
	tcase_add_test(tc, print_stat_shows_units);
	tcase_add_test(tc, no_vmm_exits_1);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(api_cmds_cli_suite)
