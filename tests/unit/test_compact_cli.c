// SPDX-License-Identifier: MIT
/*
 * Unit tests of the compaction controls: `vmm run --cma SIZE[@ZONE]`,
 * `vmm compact` argument parsing and its request, and the API's "compact"
 * command and stat's host.compaction against a real page database (the
 * pvmem fixture's RAM, fragmented by a movable owner of the test's).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fx.h"
#include "devices/pvmem_ring.h"
#include "mm/gfp.h"
#include "pvmem_fx.h"
#include "unit.h"
#include "vmm/api_compact.h"
#include "vmm/cli_compact.h"
#include "vmm/vm.h"
#include "vmm/vm_compaction.h"

#define MiB (1ull << 20)

START_TEST(test_cma_option)
{
	struct vm_config cfg;
	char err[256];
	uint64_t bytes;
	int zone;

	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 2, "run", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.cma_bytes, 0);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 4, "run", "--cma", "64M",
					  CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.cma_bytes, 64 * MiB);
	ck_assert_int_eq(cfg.cma_zone, VM_CMA_ZONE_FIT);
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 5, "run", "--mem", "1G",
					  "--cma=3M@DMA32", CLI_FX_GUEST),
			 0);
	ck_assert_uint_eq(cfg.cma_bytes, 4 * MiB); /* whole pageblocks */
	ck_assert_int_eq(cfg.cma_zone, ZONE_DMA32);
	ck_assert_int_eq(
		vm_cma_parse("8M@normal", &bytes, &zone, err, sizeof(err)), 0);
	ck_assert_int_eq(zone, ZONE_NORMAL);
	ck_assert_int_eq(
		vm_cma_parse("8M@dma", &bytes, &zone, err, sizeof(err)), 0);
	ck_assert_int_eq(zone, ZONE_DMA);
	ck_assert_int_eq(
		vm_cma_parse("8M@movable", &bytes, &zone, err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown zone 'movable'"));
	ck_assert_int_eq(vm_cma_parse("0", &bytes, &zone, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(
		vm_cma_parse("@dma32", &bytes, &zone, err, sizeof(err)),
		-EINVAL);
	ck_assert_int_eq(vm_cma_parse("12X", &bytes, &zone, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'12X' is not a size"));
	/* Not less than the RAM: refused with both sizes named. */
	ck_assert_int_eq(cli_fx_parse_run(&cfg, err, 6, "run", "--mem", "256M",
					  "--cma", "256M", CLI_FX_GUEST),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--cma: 256 MiB is not less than"));
}
END_TEST

/* @req as compact JSON with sorted keys, compared to @want; frees both. */
static void assert_json(json_t *req, const char *want)
{
	char *text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_str_eq(text, want);
	free(text);
	json_decref(req);
}

static int compact_parse(struct cli_compact_opts *o, char *err, int argc, ...)
{
	char *argv[8] = {"compact"};
	va_list ap;

	va_start(ap, argc);
	for (int i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	err[0] = '\0';
	return cli_compact_parse(argc + 1, argv, o, err, 256);
}

START_TEST(test_compact_cli_parse)
{
	struct cli_compact_opts o;
	char err[256];

	ck_assert_int_eq(compact_parse(&o, err, 2, "--api", "/tmp/s"), 0);
	ck_assert_str_eq(o.api_path, "/tmp/s");
	ck_assert_ptr_null(o.zone);
	ck_assert_int_eq(o.order, -1);
	assert_json(cli_compact_request(&o), "{\"cmd\":\"compact\"}");
	ck_assert_int_eq(compact_parse(&o, err, 5, "--api=/s", "--zone",
				       "dma32", "--order=9", "--json"),
			 0);
	ck_assert_str_eq(o.zone, "DMA32");
	ck_assert_int_eq(o.order, 9);
	ck_assert(o.json);
	assert_json(cli_compact_request(&o),
		    "{\"cmd\":\"compact\",\"order\":9,\"zone\":\"DMA32\"}");
	ck_assert_int_eq(compact_parse(&o, err, 1, "--help"), 1);
	ck_assert_int_eq(compact_parse(&o, err, 1, "--zone=DMA"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--api PATH is required"));
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--order=11"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'11' is not an order"));
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--zone=HIGH"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'HIGH' is not DMA"));
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--bogus"),
			 -EINVAL);
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--order"),
			 -EINVAL);
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "extra"),
			 -EINVAL);
	/* Issue 12: arguments are quoted escaped, one line, no controls. */
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--order=9\n"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'9\\n' is not an order"));
	ck_assert_int_eq(
		compact_parse(&o, err, 3, "--api", "s", "--zone=\x1b[2J"),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'\\x1b[2J' is not DMA"));
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "--bo\ngus"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown option '--bo\\ngus'"));
	ck_assert_int_eq(compact_parse(&o, err, 3, "--api", "s", "ex\rtra"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unexpected argument 'ex\\rtra'"));
}
END_TEST

/* A movable owner that moves at once: what compaction may move. */
static int sync_migrate(void *opaque, uint64_t dst, uint64_t src,
			unsigned order, enum migrate_mode mode)
{
	memcpy(fx_ptr(dst << 12), fx_ptr(src << 12), PAGE_SIZE << order);
	return 0;
}

static void sync_putback(void *opaque, uint64_t pfn, unsigned order)
{
}

static const struct mm_movable_ops sync_ops = {
	.migrate = sync_migrate,
	.putback = sync_putback,
};

/* One movable frame in every other 64 KiB below 4 GiB: no free 2 MiB. */
static void fragment_movable(void)
{
	static uint64_t pfns[32768];
	int owner = mm_register_movable_owner(fx.mm, &sync_ops, NULL);
	unsigned n = 0, done;

	ck_assert_int_gt(owner, 0);
	while (n + 512 <= 32768 && !fx_alloc(GFP_HIGHUSER_MOVABLE | __GFP_DMA32,
					     0, 512, pfns + n, &done))
		n += done;
	n += done;
	for (unsigned i = 0; i < n; i++) {
		if (pfns[i] % 16)
			ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
		else
			ck_assert_int_eq(mm_set_movable_owner(fx.mm, pfns[i], 0,
							      (uint32_t)owner),
					 0);
	}
}

static json_int_t zone_int(json_t *r, const char *key)
{
	json_t *z = json_array_get(json_object_get(r, "zones"), 0);

	return json_integer_value(json_object_get(z, key));
}

START_TEST(test_compact_command)
{
	json_t *args, *r = NULL;
	char msg[256];

	fragment_movable();
	args = json_pack("{s:s, s:s, s:i}", "cmd", "compact", "zone", "dma32",
			 "order", 9);
	ck_assert_int_eq(
		api_compact_run(fx.mm, NULL, args, &r, msg, sizeof(msg)), 0);
	json_decref(args);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "zones")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(r, "zones"), 0),
				 "result")),
			 "success");
	ck_assert_int_eq(zone_int(r, "blocks_before"), 0);
	ck_assert_int_ge(zone_int(r, "blocks_after"), 1);
	ck_assert_int_gt(zone_int(r, "migrated"), 0);
	ck_assert_int_gt(zone_int(r, "migrate_scanned"), 0);
	ck_assert_int_gt(zone_int(r, "score_before"),
			 zone_int(r, "score_after"));
	json_decref(r);
	/* Every zone, to the end. */
	args = json_pack("{s:s}", "cmd", "compact");
	ck_assert_int_eq(
		api_compact_run(fx.mm, NULL, args, &r, msg, sizeof(msg)), 0);
	json_decref(args);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "zones")), 3);
	json_decref(r);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_compact_command_errors)
{
	static const char *const bad[] = {
		"{\"zone\": \"bogus\"}",   "{\"zone\": 3}",
		"{\"zone\": \"Movable\"}", /* not populated here */
		"{\"order\": 11}",	   "{\"order\": -2}",
		"{\"order\": \"9\"}",	   "{\"level\": 1}",
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *args = json_loads(bad[i], 0, NULL), *r = NULL;

		ck_assert_int_eq(api_compact_run(fx.mm, NULL, args, &r, msg,
						 sizeof(msg)),
				 -EINVAL);
		ck_assert_ptr_null(r);
		json_decref(args);
	}
}
END_TEST

START_TEST(test_stat_compaction)
{
	json_t *s, *z, *v;

	fragment_movable();
	s = api_compact_stat(fx.mm);
	ck_assert_ptr_nonnull(s);
	v = json_object_get(s, "vmstat");
	ck_assert(json_is_integer(json_object_get(v, "compact_stall")));
	ck_assert(json_is_integer(json_object_get(v, "pgmigrate_success")));
	ck_assert(json_is_integer(json_object_get(v, "cma_total")));
	z = json_array_get(json_object_get(s, "zones"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(z, "name")),
			 "DMA32");
	/* Free memory all in pieces below 2 MiB: a high score, and order 9
	 * is unusable and fails for fragmentation. */
	ck_assert_int_gt(
		json_integer_value(json_object_get(z, "fragmentation_score")),
		90);
	ck_assert_uint_eq(json_array_size(json_object_get(z, "unusable_index")),
			  NR_PAGE_ORDERS);
	ck_assert_int_gt(json_integer_value(json_array_get(
				 json_object_get(z, "unusable_index"), 9)),
			 900);
	ck_assert_int_gt(json_integer_value(json_array_get(
				 json_object_get(z, "extfrag_index"), 9)),
			 500);
	/* vmm stat prints it in Linux's formats. */
	{
		char text[4096] = "";
		FILE *f = fmemopen(text, sizeof(text) - 1, "w");

		cli_compact_print_stat(f, s);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(text, "== compaction ==\n"));
		ck_assert_ptr_nonnull(strstr(text, "\ncompact_stall 0\n"));
		ck_assert_ptr_nonnull(
			strstr(text, "\nunusable_index DMA32   0.000 "));
		ck_assert_ptr_nonnull(strstr(text, "\nextfrag_index  DMA32   "
						   "-1.000 "));
		ck_assert_ptr_nonnull(
			strstr(text, "\nfragmentation_score DMA32 "));
	}
	json_decref(s);
}
END_TEST

static uint64_t drain_fx_rings(void)
{
	return pvmem_rings_reclaim(pvmem_rings(fx.p));
}

/*
 * Hosted model (issue 12): "compact" first takes back the free frames the
 * page rings hold (free but pinned: neither targets nor mergeable), as
 * Linux drains its per-CPU lists: no supply holds a frame afterwards, they
 * are free and uncharged, and "drained" counts them.
 */
START_TEST(test_compact_drains_rings)
{
	struct pvmem_rings *r = pvmem_rings(fx.p);
	uint64_t gpa, tot, free_before;
	unsigned target, level;
	json_t *args, *res = NULL;
	struct mm_stats st;
	char msg[256];

	ck_assert_int_eq(pvmem_rings_setup(r, 1, &gpa), 0);
	ck_assert_int_eq(pvmem_rings_kick(r, 0), 0);
	ck_assert_int_eq(pvmem_rings_ring_info(r, 0, &target, &level), 0);
	ck_assert_uint_gt(level, 0);
	tot = pvmem_tot_pages(fx.p);
	mm_get_stats(fx.mm, &st);
	free_before = st.frames[FRAME_FREE];
	args = json_pack("{s:s}", "cmd", "compact");
	ck_assert_int_eq(api_compact_run(fx.mm, drain_fx_rings, args, &res, msg,
					 sizeof(msg)),
			 0);
	json_decref(args);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "drained")),
			 level);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot - level);
	mm_get_stats(fx.mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_FREE], free_before + level);
	ck_assert_int_eq(pvmem_rings_ring_info(r, 0, &target, &level), 0);
	ck_assert_uint_eq(level, 0);
	ck_assert_uint_gt(target, 0); /* refilled at the next kick */
	json_decref(res);
	fx_assert_consistent();
}
END_TEST

static Suite *compact_cli_suite(void)
{
	Suite *s = suite_create("compact_cli");
	TCase *tc = tcase_create("cli");
	TCase *api = tcase_create("api");

	tcase_add_test(tc, test_cma_option);
	tcase_add_test(tc, test_compact_cli_parse);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(api, fx_setup, fx_teardown);
	tcase_set_timeout(api, 60);
	tcase_add_test(api, test_compact_command);
	tcase_add_test(api, test_compact_command_errors);
	tcase_add_test(api, test_stat_compaction);
	tcase_add_test(api, test_compact_drains_rings);
	suite_add_tcase(s, api);
	return s;
}

UNIT_SUITE(compact_cli_suite)
