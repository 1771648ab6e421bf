// SPDX-License-Identifier: MIT
/* Unit tests for vmm/cli.c: sizes, counts and `vmm run` arguments. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_fx.h"
#include "unit.h"
#include "vmm/cli.h"

START_TEST(test_size_units)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
		{"4096", 4096},
		{"1536K", 1536ull << 10},
		{"256M", 256ull << 20},
		{"256m", 256ull << 20},
		{"1G", 1ull << 30},
		{"1GiB", 1ull << 30},
		{"2gb", 2ull << 30},
		{"1T", 1ull << 40},
		{"0", 0},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1;

		ck_assert_msg(cli_parse_size(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_uint_eq(v, ok[i].bytes);
	}
}
END_TEST

START_TEST(test_size_rejects)
{
	static const char *const bad[] = {
		"", "M", "-1", "12X", "1.5G", "1 G", "1GG", "1Gx", " 1", "1iB",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cli_parse_size(bad[i], &v) == -EINVAL, "'%s'",
			      bad[i]);
	ck_assert_int_eq(cli_parse_size("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(cli_parse_size("17179869184G", &v), -ERANGE);
	ck_assert_int_eq(cli_parse_size("16777215T", &v), 0);
}
END_TEST

START_TEST(test_uint_range)
{
	unsigned v;

	ck_assert_int_eq(cli_parse_uint("8", 1, 32, &v), 0);
	ck_assert_uint_eq(v, 8);
	ck_assert_int_eq(cli_parse_uint("0", 1, 32, &v), -ERANGE);
	ck_assert_int_eq(cli_parse_uint("33", 1, 32, &v), -ERANGE);
	ck_assert_int_eq(cli_parse_uint("99999999999", 1, 32, &v), -ERANGE);
	ck_assert_int_eq(cli_parse_uint("4x", 1, 32, &v), -EINVAL);
	ck_assert_int_eq(cli_parse_uint("", 1, 32, &v), -EINVAL);
	ck_assert_int_eq(cli_parse_uint("-1", 0, 32, &v), -EINVAL);
}
END_TEST

START_TEST(test_run_defaults_and_options)
{
	struct vm_config cfg;
	char err[256];

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.mem_size, 256ull << 20);
	ck_assert_uint_eq(cfg.nr_vcpus, 1);
	ck_assert_str_eq(cfg.cmdline, "");
	ck_assert_uint_eq(cfg.timeout_s, 0);
	ck_assert_int_eq(cfg.memory_model, VM_MEMORY_HOSTED);
	ck_assert_str_eq(cfg.guest_path, CLI_FX_GUEST);

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 11, "run", "--mem", "1G",
					  "--vcpus=8", "--cmdline",
					  "workload=smp", "--timeout", "5",
					  "--memory-model", "native",
					  CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.mem_size, 1ull << 30);
	ck_assert_uint_eq(cfg.nr_vcpus, 8);
	ck_assert_str_eq(cfg.cmdline, "workload=smp");
	ck_assert_uint_eq(cfg.timeout_s, 5);
	ck_assert_int_eq(cfg.memory_model, VM_MEMORY_NATIVE);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", "--help"), 1);
}
END_TEST

/* The seccomp filters are on unless --no-seccomp (a flag: no value). */
START_TEST(test_run_no_seccomp)
{
	struct vm_config cfg;
	char err[256];

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert(!cfg.no_seccomp);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run", "--no-seccomp",
					  CLI_FX_GUEST),
			 0);
	ck_assert(cfg.no_seccomp);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run", "--no-seccomp=1",
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_str_eq(err, "unknown option '--no-seccomp=1'");
}
END_TEST

/*
 * Case @i: `run` with up to @max of @args (NULL ends them early) fails with
 * -EINVAL and a message in @err that contains @message.
 */
static void assert_run_rejects(size_t i, const char *const *args, int max,
			       const char *message, char *err, size_t len)
{
	char *argv[8] = {"run"};
	struct vm_config cfg;
	int argc = 1;

	for (int j = 0; j < max && args[j]; j++)
		argv[argc++] = (char *)args[j];
	ck_assert_int_eq(cli_parse_run(argc, argv, &cfg, err, len), -EINVAL);
	ck_assert_msg(strstr(err, message), "case %zu: '%s' lacks '%s'", i, err,
		      message);
}

START_TEST(test_run_errors)
{
	static const struct {
		const char *args[6];
		const char *message;
	} cases[] = {
		{{"--mem", "12X", CLI_FX_GUEST}, "'12X' is not a size"},
		{{"--mem", "8M", CLI_FX_GUEST}, "out of range"},
		{{"--mem", "65G", CLI_FX_GUEST}, "out of range"},
		{{"--mem", "17M", CLI_FX_GUEST}, "multiple of 2M"},
		{{"--vcpus", "0", CLI_FX_GUEST},
		 "'0' is not a number in 1 .. 32"},
		{{"--vcpus", "33", CLI_FX_GUEST}, "'33'"},
		{{"--bogus", CLI_FX_GUEST}, "unknown option '--bogus'"},
		{{CLI_FX_GUEST, "--mem"}, "'--mem' needs a value"},
		{{CLI_FX_GUEST, "extra"}, "unexpected argument 'extra'"},
		{{"--timeout", "-1", CLI_FX_GUEST}, "--timeout"},
		{{"--memory-model", "x", CLI_FX_GUEST}, "'x' is neither"},
		{{"/nonexistent/guest.elf"}, "cannot read guest"},
		{{"--vcpus", "2"}, "missing GUEST.elf"},
		{{"--mem-backing", "thp", CLI_FX_GUEST},
		 "'thp' is not one of anon, anon-4k, memfd, hugetlbfs"},
		{{"--mem-backing", "", CLI_FX_GUEST}, "'' is not one of"},
		{{CLI_FX_GUEST, "--mem-backing"},
		 "'--mem-backing' needs a value"},
		{{"--movable", "lots", CLI_FX_GUEST},
		 "--movable: 'lots' is not a size"},
		{{"--movable", "0", CLI_FX_GUEST}, "nonzero multiple of 2M"},
		{{"--movable", "3M", CLI_FX_GUEST}, "nonzero multiple of 2M"},
		{{"--movable", "192M", CLI_FX_GUEST},
		 "--movable: 192 MiB leaves less than 65 MiB of --mem (256 "
		 "MiB) below it"},
		{{"--movable", "64M", "--mem", "64M", CLI_FX_GUEST},
		 "leaves less than 64 MiB"},
		{{"--movable", "2M", "--mem", "64M", CLI_FX_GUEST},
		 "leaves less than 64 MiB"},
		{{"--mem", "64G", "--movable", "65218M", CLI_FX_GUEST},
		 "leaves less than 320 MiB"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";

		assert_run_rejects(i, cases[i].args, 6, cases[i].message, err,
				   sizeof(err));
	}
}
END_TEST

/*
 * --movable: a nonzero multiple of 2M, leaving 64M and 1/256 of --mem below
 * it (checked once --mem is known, in either order; the refusals are in
 * test_run_errors).
 */
START_TEST(test_run_movable)
{
	struct vm_config cfg;
	char err[256];

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.movable_bytes, 0);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run", "--movable=190M",
					  CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.movable_bytes, 190ull << 20);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 6, "run", "--movable",
					  "65216M", "--mem", "64G",
					  CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.movable_bytes, 65216ull << 20);
}
END_TEST

/* No byte of @s is a control character (C0, DEL) or starts a C1 one. */
static bool cli_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return false;
	return true;
}

/* cli_quote(): what passes as it is, what is escaped, how it is cut. */
START_TEST(test_quote)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"", ""},
		{"256M", "256M"},
		{"/tmp/a b.sock", "/tmp/a b.sock"},
		{"a\nb", "a\\nb"},
		{"\t\r", "\\t\\r"},
		{"\x1b[2J", "\\x1b[2J"},
		{"x\x7fy", "x\\x7fy"},
		{"it's", "it\\'s"},
		{"back\\slash", "back\\\\slash"},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
		{"\xc2\x9b"
		 "31m",
		 "\\xc2\\x9b31m"},			      /* C1 CSI */
		{"\xc3", "\\xc3"},			      /* cut sequence */
		{"\xc0\xaf", "\\xc0\\xaf"},		      /* overlong '/' */
		{"\xed\xa0\x80", "\\xed\\xa0\\x80"},	      /* surrogate */
		{"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* > U+10FFFF */
		{"\xff", "\\xff"},
	};
	char buf[CLI_QUOTE_SIZE], small[12];
	char longer[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(cli_quote(cases[i].in, buf, sizeof(buf)),
				 cases[i].out);
	/* Too long: cut at a whole character, "..." says so. */
	ck_assert_str_eq(cli_quote("abcdefghijkl", small, sizeof(small)),
			 "abcdefgh...");
	ck_assert_str_eq(cli_quote("abcdefghijk", small, sizeof(small)),
			 "abcdefghijk");
	ck_assert_str_eq(cli_quote("abcdef\n\n", small, sizeof(small)),
			 "abcdef\\n\\n");
	ck_assert_str_eq(cli_quote("abcdef\n\n\n", small, sizeof(small)),
			 "abcdef\\n...");
	ck_assert_str_eq(cli_quote("abcdefg\n\n\n", small, sizeof(small)),
			 "abcdefg...");
	ck_assert_str_eq(cli_quote("abcde\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
				   small, sizeof(small)),
			 "abcde\xe2\x82\xac...");
	memset(longer, '\n', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cli_quote(longer, buf, sizeof(buf));
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
	ck_assert(cli_printable(buf));
}
END_TEST

/*
 * Issue 12: an argument is quoted escaped in every message, so one with a
 * newline or an escape sequence gives one line and no control character.
 */
START_TEST(test_run_errors_escaped)
{
	static const struct {
		const char *args[3];
		const char *message;
	} cases[] = {
		{{"--mem", "1\nG", CLI_FX_GUEST},
		 "--mem: '1\\nG' is not a size"},
		{{"--mem-limit", "\x1b]0;x\x07", CLI_FX_GUEST},
		 "--mem-limit: '\\x1b]0;x\\x07' is not a size"},
		{{"--vcpus", "4\r", CLI_FX_GUEST}, "--vcpus: '4\\r' is not"},
		{{"--timeout",
		  "\x9b"
		  "1",
		  CLI_FX_GUEST},
		 "--timeout: '\\x9b1' is not"},
		{{"--memory-model", "host\ned", CLI_FX_GUEST},
		 "--memory-model: 'host\\ned' is neither"},
		{{"--mem-backing", "a'b", CLI_FX_GUEST}, "'a\\'b' is not one"},
		{{"--cma", "1\nG", CLI_FX_GUEST},
		 "--cma: '1\\nG' is not a size"},
		{{"--cma", "1G@dm\x1b", CLI_FX_GUEST},
		 "--cma: unknown zone 'dm\\x1b'"},
		{{"--disk", "img,ro\nx", CLI_FX_GUEST},
		 "--disk: unknown flag 'ro\\nx'"},
		{{"--disk", "/nonexistent/\n", CLI_FX_GUEST},
		 "cannot open '/nonexistent/\\n'"},
		{{"--bo\ngus", CLI_FX_GUEST}, "unknown option '--bo\\ngus'"},
		{{CLI_FX_GUEST, "ex\ntra"}, "unexpected argument 'ex\\ntra'"},
		{{"/nonexistent/\x1b[31m"},
		 "cannot read guest '/nonexistent/\\x1b[31m'"},
		{{"--mem", "caf\xc3\xa9", CLI_FX_GUEST},
		 "--mem: 'caf\xc3\xa9' is not a size"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";

		assert_run_rejects(i, cases[i].args, 3, cases[i].message, err,
				   sizeof(err));
		ck_assert_msg(cli_printable(err), "case %zu: control byte", i);
	}
}
END_TEST

/* A long argument is cut in the message, which keeps its reason. */
START_TEST(test_run_errors_long_argument)
{
	char arg[4000], err[256] = "";
	struct vm_config cfg;

	memset(arg, 'x', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--mem", arg,
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_msg(strstr(err, "...' is not a size"), "%s", err);
}
END_TEST

/* --mem-backing: anonymous THP memory unless told otherwise; every name. */
START_TEST(test_run_mem_backing)
{
	static const struct {
		const char *name;
		enum guest_mem_backing backing;
	} ok[] = {
		{"anon", GUEST_MEM_ANON},
		{"anon-4k", GUEST_MEM_ANON_4K},
		{"memfd", GUEST_MEM_MEMFD},
		{"hugetlbfs", GUEST_MEM_HUGETLBFS},
	};
	struct vm_config cfg;
	char err[256] = "";

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert_int_eq(cfg.mem_backing, GUEST_MEM_ANON);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--mem-backing=%s", ok[i].name);
		cfg.mem_backing = GUEST_MEM_NR_BACKINGS;
		ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run", opt,
						  CLI_FX_GUEST),
				 0);
		ck_assert_int_eq(cfg.mem_backing, ok[i].backing);
		ck_assert_str_eq(guest_mem_backing_name(ok[i].backing),
				 ok[i].name);
		cfg.mem_backing = GUEST_MEM_NR_BACKINGS;
		ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run",
						  "--mem-backing", ok[i].name,
						  CLI_FX_GUEST),
				 0);
		ck_assert_int_eq(cfg.mem_backing, ok[i].backing);
	}
	ck_assert_str_eq(guest_mem_backing_name(GUEST_MEM_NR_BACKINGS), "?");
}
END_TEST

/* A temporary file of @bytes bytes at @path (a mkstemp template). */
static void cli_make_file(char *path, off_t bytes)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, bytes), 0);
	close(fd);
}

START_TEST(test_run_disks)
{
	char img[] = "/tmp/cli-disk.XXXXXX", small[] = "/tmp/cli-small.XXXXXX";
	char a[64], ro[64], err[256];
	struct vm_config cfg;

	cli_make_file(img, 4096);
	cli_make_file(small, 1000);
	snprintf(a, sizeof(a), "--disk=%s,direct", img);
	snprintf(ro, sizeof(ro), "%s,readonly,direct", img);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 5, "run", a, "--disk", ro,
					  CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.nr_disks, 2);
	ck_assert_str_eq(cfg.disks[0].path, img);
	ck_assert(!cfg.disks[0].readonly && cfg.disks[0].direct);
	ck_assert_str_eq(cfg.disks[1].path, img);
	ck_assert(cfg.disks[1].readonly && cfg.disks[1].direct);

	snprintf(a, sizeof(a), "%s,readonly,fast", img);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--disk", a,
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_msg(strstr(err, "unknown flag 'fast'"), "%s", err);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--disk",
					  "/nonexistent.img", CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_msg(strstr(err, "cannot open '/nonexistent.img' read-write"),
		      "%s", err);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--disk", small,
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_msg(strstr(err, "is not a raw image"), "%s", err);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--disk",
					  ",readonly", CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 12, "run", "--disk", img,
					  "--disk", img, "--disk", img,
					  "--disk", img, "--disk", img,
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_msg(strstr(err, "at most 4 disks"), "%s", err);
	unlink(img);
	unlink(small);
}
END_TEST

static Suite *vmm_cli_suite(void)
{
	Suite *s = suite_create("vmm_cli");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_size_units);
	tcase_add_test(tc, test_size_rejects);
	tcase_add_test(tc, test_uint_range);
	tcase_add_test(tc, test_run_no_seccomp);
	tcase_add_test(tc, test_run_defaults_and_options);
	tcase_add_test(tc, test_run_errors);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_run_errors_escaped);
	tcase_add_test(tc, test_run_errors_long_argument);
	tcase_add_test(tc, test_run_disks);
	tcase_add_test(tc, test_run_mem_backing);
	tcase_add_test(tc, test_run_movable);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vmm_cli_suite)
