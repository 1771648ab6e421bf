// SPDX-License-Identifier: MIT
/*
 * Unit tests for the hosted-model options of `vmm run` (--mem-limit,
 * --stats, --check) and the RSS measure behind --stats.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli_fx.h"
#include "unit.h"
#include "vmm/cli.h"
#include "vmm/vm_stats.h"

START_TEST(test_mem_limit_ok)
{
	struct vm_config cfg;
	char err[256] = "";

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.mem_limit, 0);
	ck_assert(!cfg.print_stats && !cfg.check_mm);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 6, "run",
					  "--mem-limit=16M", "--stats",
					  "--check", "--mem=64M", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.mem_limit, 16ull << 20);
	ck_assert(cfg.print_stats && cfg.check_mm);
	/* Equal to --mem is allowed. */
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--mem-limit",
					  "256M", CLI_FX_GUEST),
			 0);
}
END_TEST

START_TEST(test_mem_limit_rejects)
{
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{"--mem-limit=12Q", "is not a size"},
		{"--mem-limit=0", "nonzero multiple of 4K"},
		{"--mem-limit=4097", "nonzero multiple of 4K"},
		{"--mem-limit=257M", "is more than --mem"},
		{"--mem-limit=99999999999999999999", "nonzero multiple"},
	};
	struct vm_config cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run",
						  bad[i].arg, CLI_FX_GUEST),
				 -EINVAL);
		ck_assert_msg(strstr(err, bad[i].msg), "%s: '%s'", bad[i].arg,
			      err);
	}
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 5, "run", "--memory-model",
					  "native", "--mem-limit=8M",
					  CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "hosted memory model only"));
	/* A flag takes no value. */
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 3, "run", "--stats=1",
					  CLI_FX_GUEST),
			 -EINVAL);
}
END_TEST

START_TEST(test_ram_resident_follows_touch_and_punch)
{
	const size_t size = 64 * 4096;
	struct guest_mem mem = {.nr_regions = 1, .size = size};
	uint64_t bytes = 1;
	uint8_t *p;
	int fd = memfd_create("hosted-test", 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p != MAP_FAILED);
	mem.fd = fd;
	mem.regions[0] = (struct guest_mem_region){.size = size, .hva = p};
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &bytes), 0);
	ck_assert_uint_eq(bytes, 0);
	for (size_t i = 0; i < 10; i++)
		p[i * 4096 * 6] = 1; /* pages 0, 6, .., 54 */
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &bytes), 0);
	ck_assert_uint_eq(bytes, 10 * 4096);
	ck_assert_int_eq(guest_mem_discard(&mem, 0, size / 2), 0);
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &bytes), 0);
	ck_assert_uint_eq(bytes, 4 * 4096); /* 36 .. 54 stay */
	munmap(p, size);
	close(fd);
}
END_TEST

static Suite *vmm_hosted_suite(void)
{
	Suite *s = suite_create("vmm_hosted");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_mem_limit_ok);
	tcase_add_test(tc, test_mem_limit_rejects);
	tcase_add_test(tc, test_ram_resident_follows_touch_and_punch);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vmm_hosted_suite);
