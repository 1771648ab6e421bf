// SPDX-License-Identifier: MIT
/*
 * Unit tests for the hosted-model options of `vmm run` (--mem-limit,
 * --stats, --check), the RSS measure behind --stats, and guest RAM's
 * backings (vmm/guest_mem.c: mapping and release).
 */
#include <errno.h>
#include <stdbool.h>
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

#define MiB (1ull << 20)

/* Is every byte of [p, p + len) equal to @v? */
static bool bytes_are(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * guest_mem_discard() on each mappable backing: the released range reads
 * zeros and is no longer resident, and every byte around it (the rest of
 * its 2 MiB page too) keeps its data. The mapping starts 2 MiB aligned.
 */
static void check_release(enum guest_mem_backing backing)
{
	const uint64_t size = 8 * MiB;
	struct guest_mem mem = {.nr_regions = 1};
	uint64_t before, after;
	uint8_t *p;
	char err[256] = "";

	ck_assert_msg(
		guest_mem_map(&mem, backing, size, &p, err, sizeof(err)) == 0,
		"%s", err);
	ck_assert_int_eq(mem.backing, backing);
	ck_assert_uint_eq((uintptr_t)p % (2 * MiB), 0);
	ck_assert_int_eq(mem.fd >= 0, backing == GUEST_MEM_MEMFD);
	mem.regions[0] = (struct guest_mem_region){.size = size, .hva = p};
	memset(p, 0xa5, size);
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &before), 0);
	ck_assert_uint_eq(before, size);
	/* One frame inside the first 2 MiB page, then a whole 2 MiB page. */
	ck_assert_int_eq(guest_mem_discard(&mem, 1 * MiB, 4096), 0);
	ck_assert_int_eq(guest_mem_discard(&mem, 4 * MiB, 2 * MiB), 0);
	/* (Before reading: mincore counts a read-mapped zero page.) */
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &after), 0);
	ck_assert_uint_eq(after, size - 2 * MiB - 4096);
	ck_assert(bytes_are(p + 1 * MiB, 4096, 0));
	ck_assert(bytes_are(p + 4 * MiB, 2 * MiB, 0));
	ck_assert(bytes_are(p, 1 * MiB, 0xa5));
	ck_assert(bytes_are(p + 1 * MiB + 4096, 3 * MiB - 4096, 0xa5));
	ck_assert(bytes_are(p + 6 * MiB, 2 * MiB, 0xa5));
	/* Outside RAM, unaligned or empty: refused, nothing released. */
	ck_assert_int_eq(guest_mem_discard(&mem, size, 4096), -EINVAL);
	ck_assert_int_eq(guest_mem_discard(&mem, 4096 + 1, 4096), -EINVAL);
	ck_assert_int_eq(guest_mem_discard(&mem, 0, 0), -EINVAL);
	ck_assert(bytes_are(p, 4096, 0xa5));
	guest_mem_unmap(&mem, p);
	ck_assert_int_eq(mem.fd, -1);
}

START_TEST(test_release_anon_reads_zeros)
{
	check_release(GUEST_MEM_ANON);
}
END_TEST

START_TEST(test_release_anon_4k_reads_zeros)
{
	check_release(GUEST_MEM_ANON_4K);
}
END_TEST

START_TEST(test_release_memfd_reads_zeros)
{
	check_release(GUEST_MEM_MEMFD);
}
END_TEST

/*
 * hugetlbfs needs the host's pool to hold all of guest RAM: without one the
 * request fails at once and says what to do (on a host with a pool, the
 * mapping works and releases as the others do).
 */
START_TEST(test_hugetlbfs_without_pool_fails_clearly)
{
	struct guest_mem mem = {.nr_regions = 1};
	char err[256] = "";
	uint8_t *p = NULL;
	int r;

	ck_assert_int_eq(
		guest_mem_hugetlb_check(64 * MiB, 31, err, sizeof(err)),
		-ENOMEM);
	ck_assert_msg(strstr(err, "has 31 free, the guest needs 32") &&
			      strstr(err, "nr_hugepages") &&
			      strstr(err, "--mem-backing anon"),
		      "%s", err);
	ck_assert_int_eq(
		guest_mem_hugetlb_check(64 * MiB, 32, err, sizeof(err)), 0);
	r = guest_mem_map(&mem, GUEST_MEM_HUGETLBFS, 8 * MiB, &p, err,
			  sizeof(err));
	if (r == 0) {
		guest_mem_unmap(&mem, p);
		check_release(GUEST_MEM_HUGETLBFS);
		return;
	}
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_msg(strstr(err, "--mem-backing hugetlbfs:"), "%s", err);
	ck_assert_int_eq(mem.fd, -1);
}
END_TEST

/*
 * guest_mem_populate() on each mappable backing: the range becomes
 * resident at once, data already there stays, the rest reads zeros, and
 * nothing outside it is backed; bad ranges are refused.
 */
static void check_populate(enum guest_mem_backing backing)
{
	const uint64_t size = 8 * MiB;
	struct guest_mem mem = {.nr_regions = 1};
	uint64_t res;
	uint8_t *p;
	char err[256] = "";

	ck_assert_msg(
		guest_mem_map(&mem, backing, size, &p, err, sizeof(err)) == 0,
		"%s", err);
	mem.regions[0] = (struct guest_mem_region){.size = size, .hva = p};
	memset(p + 2 * MiB + 8192, 0xa5, 4096);
	ck_assert_int_eq(guest_mem_populate(&mem, 2 * MiB, 2 * MiB), 0);
	ck_assert_int_eq(guest_mem_populate(&mem, 6 * MiB, 2 * MiB), 0);
	/* Refused: outside RAM, unaligned, empty. */
	ck_assert_int_eq(guest_mem_populate(&mem, size, 4096), -EINVAL);
	ck_assert_int_eq(guest_mem_populate(&mem, 4096 + 1, 4096), -EINVAL);
	ck_assert_int_eq(guest_mem_populate(&mem, 0, 0), -EINVAL);
	ck_assert_int_eq(vm_stats_ram_resident(&mem, &res), 0);
	ck_assert_uint_eq(res, 4 * MiB);
	ck_assert(bytes_are(p + 2 * MiB + 8192, 4096, 0xa5));
	ck_assert(bytes_are(p + 2 * MiB, 8192, 0));
	ck_assert(bytes_are(p + 2 * MiB + 12288, 2 * MiB - 12288, 0));
	ck_assert(bytes_are(p + 6 * MiB, 2 * MiB, 0));
	guest_mem_unmap(&mem, p);
}

START_TEST(test_populate_anon)
{
	check_populate(GUEST_MEM_ANON);
}
END_TEST

START_TEST(test_populate_anon_4k)
{
	check_populate(GUEST_MEM_ANON_4K);
}
END_TEST

START_TEST(test_populate_memfd)
{
	check_populate(GUEST_MEM_MEMFD);
}
END_TEST

START_TEST(test_map_rejects_unaligned_size)
{
	struct guest_mem mem = {.nr_regions = 1};
	char err[256] = "";
	uint8_t *p;

	ck_assert_int_eq(guest_mem_map(&mem, GUEST_MEM_ANON, 3 * MiB / 2, &p,
				       err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "multiple of 2 MiB"), "%s", err);
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
	tcase_add_test(tc, test_release_anon_reads_zeros);
	tcase_add_test(tc, test_release_anon_4k_reads_zeros);
	tcase_add_test(tc, test_release_memfd_reads_zeros);
	tcase_add_test(tc, test_hugetlbfs_without_pool_fails_clearly);
	tcase_add_test(tc, test_map_rejects_unaligned_size);
	tcase_add_test(tc, test_populate_anon);
	tcase_add_test(tc, test_populate_anon_4k);
	tcase_add_test(tc, test_populate_memfd);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vmm_hosted_suite);
