// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_api_cmds.c - the control API's commands without KVM: a
 * VM with no vCPUs, a real page database over host memory, a fake balloon;
 * requests go through api_handle_line() as the socket thread sends them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mm/mm.h"
#include "tests/unit/unit.h"
#include "vmm/api.h"
#include "vmm/api_cmds.h"
#include "vmm/vm.h"

#define FX_RAM_PAGES 16384ull /* 64 MiB */

static struct {
	uint64_t target, actual;
	int set_calls;
	int set_err;
} fake;

static int fake_set_target(uint64_t pages)
{
	fake.set_calls++;
	if (fake.set_err)
		return fake.set_err;
	fake.target = pages;
	return 0;
}

static void fake_get_status(struct balloon_status *out)
{
	memset(out, 0, sizeof(*out));
	out->present = true;
	out->target_pages = fake.target;
	out->actual_pages = fake.actual;
	out->inflated_frames = fake.actual;
	out->nr_stats = 2;
	out->stats[0].tag = 4; /* memfree */
	out->stats[0].val = 12345;
	out->stats[1].tag = 5;
	out->stats[1].val = 67890;
	out->stats_age_ms = 42;
}

static const char *fake_stat_name(uint16_t tag)
{
	return tag == 4 ? "memfree" : tag == 5 ? "memtot" : "unknown";
}

static const struct api_balloon_ops fake_balloon = {
	.set_target = fake_set_target,
	.get_status = fake_get_status,
	.stat_name = fake_stat_name,
};

static size_t fake_guest_stats(char *buf, size_t size)
{
	return (size_t)snprintf(buf, size, "slabinfo - version: 2.1\n");
}

static struct vm fx_vm;
static struct mm *fx_mm;
static void *fx_meta;
static struct api_cmds_ctx fx_ctx;
static struct api_server *fx_srv;
static char fx_dir[64];
static char fx_path[128];

static void fx_mm_init(void)
{
	static const struct mm_range range = {0, FX_RAM_PAGES};
	struct mm_config mc = {.ranges = &range, .nr_ranges = 1};
	size_t size = (mm_meta_size(&mc) + 63) & ~(size_t)63;

	fx_meta = aligned_alloc(64, size);
	ck_assert_ptr_nonnull(fx_meta);
	ck_assert_int_eq(mm_init(&fx_mm, &mc, fx_meta, size), 0);
	ck_assert_int_eq(mm_reserve_range(fx_mm, 0, 256), 0);
}

static void setup(void)
{
	memset(&fx_vm, 0, sizeof(fx_vm));
	memset(&fake, 0, sizeof(fake));
	fx_vm.cfg.mem_size = FX_RAM_PAGES * 4096;
	fx_vm.cfg.nr_vcpus = 2; /* described, never started */
	pthread_mutex_init(&fx_vm.lock, NULL);
	pthread_cond_init(&fx_vm.finished_cond, NULL);
	pthread_cond_init(&fx_vm.pause_cond, NULL);
	fx_mm_init();
	fx_ctx = (struct api_cmds_ctx){
		.vm = &fx_vm,
		.mm = fx_mm,
		.balloon = &fake_balloon,
		.guest_stats = fake_guest_stats,
	};
	strcpy(fx_dir, "/tmp/api-cmds-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx_dir));
	snprintf(fx_path, sizeof(fx_path), "%s/sock", fx_dir);
	ck_assert_int_eq(api_server_create(&fx_srv, fx_path), 0);
	ck_assert_int_eq(api_cmds_register(fx_srv, &fx_ctx), 0);
}

static void teardown(void)
{
	api_server_destroy(fx_srv);
	rmdir(fx_dir);
	free(fx_meta);
	pthread_cond_destroy(&fx_vm.pause_cond);
	pthread_cond_destroy(&fx_vm.finished_cond);
	pthread_mutex_destroy(&fx_vm.lock);
}

/* Send @line, return the parsed response (caller decrefs). */
static json_t *call(const char *line)
{
	char *out = api_handle_line(fx_srv, line, strlen(line));
	json_t *resp;

	ck_assert_ptr_nonnull(out);
	resp = json_loads(out, 0, NULL);
	free(out);
	ck_assert_ptr_nonnull(resp);
	return resp;
}

/* The result of a request that must succeed (borrowed from *@resp). */
static json_t *call_ok(const char *line, json_t **resp)
{
	*resp = call(line);
	ck_assert_msg(json_is_true(json_object_get(*resp, "ok")),
		      "%s failed: %s", line, json_dumps(*resp, JSON_COMPACT));
	return json_object_get(*resp, "result");
}

static void assert_error(const char *line, const char *code, const char *needle)
{
	json_t *resp = call(line);
	json_t *err = json_object_get(resp, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));

	ck_assert(json_is_false(json_object_get(resp, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")), code);
	ck_assert_msg(msg && strstr(msg, needle), "message '%s' lacks '%s'",
		      msg ? msg : "(null)", needle);
	json_decref(resp);
}

static json_int_t ival(json_t *obj, const char *path1, const char *path2)
{
	json_t *v = json_object_get(obj, path1);

	if (path2)
		v = json_object_get(v, path2);
	ck_assert_msg(json_is_integer(v), "%s.%s is not an integer", path1,
		      path2 ? path2 : "");
	return json_integer_value(v);
}

START_TEST(stat_has_documented_fields)
{
	json_t *resp, *r = call_ok("{\"cmd\":\"stat\"}", &resp);
	json_t *host = json_object_get(r, "host");
	json_t *zones = json_object_get(host, "zones");
	json_t *z0 = json_array_get(zones, 0);

	ck_assert_str_eq(json_string_value(json_object_get(r, "memory_model")),
			 "hosted");
	ck_assert_int_eq(ival(r, "ram_bytes", NULL), FX_RAM_PAGES * 4096);
	ck_assert_int_eq(ival(r, "vcpus", "count"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(r, "vcpus"), "state")),
			 "running");
	ck_assert_int_ge(ival(r, "uptime_ms", NULL), 0);
	ck_assert_int_eq(ival(host, "frames", "total"), FX_RAM_PAGES);
	ck_assert_int_eq(ival(host, "frames", "reserved"), 256);
	ck_assert_int_eq(ival(host, "frames", "free"), FX_RAM_PAGES - 256);
	ck_assert_int_eq(json_array_size(zones), 2); /* DMA, DMA32 */
	ck_assert_str_eq(json_string_value(json_object_get(z0, "name")), "DMA");
	ck_assert_int_eq(json_array_size(json_object_get(z0, "nr_free")),
			 NR_PAGE_ORDERS);
	ck_assert_int_gt(ival(z0, "high", NULL), ival(z0, "low", NULL));
	ck_assert_int_gt(ival(z0, "low", NULL), ival(z0, "min", NULL));
	ck_assert_int_le(ival(z0, "free", NULL), ival(z0, "managed", NULL));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(host, "buddyinfo")),
		       "Node 0, zone      DMA"));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(host, "zoneinfo")),
		       "pages free"));
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_object_get(host, "pagetypeinfo")),
		       "Page block order: 9"));
	ck_assert(json_is_null(json_object_get(host, "pvmem")));
	ck_assert_int_eq(json_array_size(json_object_get(host, "blk")), 0);
	ck_assert_int_gt(ival(host, "rss", "vmm_bytes"), 0);
	/* The socket's counters: no client has connected (direct calls). */
	ck_assert_int_eq(ival(host, "api", "max_clients"), API_MAX_CLIENTS);
	ck_assert_int_eq(ival(host, "api", "clients"), 0);
	ck_assert_int_eq(ival(host, "api", "refused"), 0);
	ck_assert_int_eq(ival(host, "api", "dropped_slow"), 0);
	json_decref(resp);
}
END_TEST

START_TEST(stat_reports_balloon_target_and_actual_separately)
{
	json_t *resp, *r, *b, *g;

	fake.target = 1000;
	fake.actual = 600;
	r = call_ok("{\"cmd\":\"stat\"}", &resp);
	b = json_object_get(r, "balloon");
	g = json_object_get(r, "guest");
	ck_assert(json_is_true(json_object_get(b, "present")));
	ck_assert_int_eq(ival(b, "target_pages", NULL), 1000);
	ck_assert_int_eq(ival(b, "actual_pages", NULL), 600);
	ck_assert_int_eq(ival(b, "target_bytes", NULL), 1000 * 4096);
	ck_assert_int_eq(ival(b, "actual_bytes", NULL), 600 * 4096);
	ck_assert_int_eq(ival(g, "balloon_stats", "memfree"), 12345);
	ck_assert_int_eq(ival(g, "balloon_stats", "memtot"), 67890);
	ck_assert_int_eq(ival(g, "balloon_stats_age_ms", NULL), 42);
	ck_assert_str_eq(json_string_value(json_object_get(g, "published")),
			 "slabinfo - version: 2.1\n");
	json_decref(resp);
}
END_TEST

START_TEST(stat_without_balloon_or_mm)
{
	json_t *resp, *r;

	fx_ctx.balloon = NULL;
	fx_ctx.mm = NULL;
	fx_ctx.guest_stats = NULL;
	r = call_ok("{\"cmd\":\"stat\"}", &resp);
	ck_assert(json_is_false(
		json_object_get(json_object_get(r, "balloon"), "present")));
	ck_assert_ptr_null(
		json_object_get(json_object_get(r, "host"), "frames"));
	ck_assert(json_is_null(json_object_get(json_object_get(r, "guest"),
					       "balloon_stats_age_ms")));
	json_decref(resp);
}
END_TEST

START_TEST(stat_rejects_arguments)
{
	assert_error("{\"cmd\":\"stat\",\"verbose\":true}", "EINVAL",
		     "unknown argument 'verbose'");
}
END_TEST

START_TEST(balloon_sets_target_in_bytes_and_units)
{
	json_t *resp, *r;

	r = call_ok("{\"cmd\":\"balloon\",\"target_bytes\":8388608}", &resp);
	ck_assert_int_eq(fake.target, 2048);
	ck_assert_int_eq(ival(r, "target_pages", NULL), 2048);
	ck_assert_int_eq(ival(r, "target_bytes", NULL), 8388608);
	ck_assert_int_eq(ival(r, "previous_target_bytes", NULL), 0);
	json_decref(resp);
	r = call_ok("{\"cmd\":\"balloon\",\"target\":\"16M\"}", &resp);
	ck_assert_int_eq(fake.target, 4096);
	ck_assert_int_eq(ival(r, "previous_target_bytes", NULL), 8388608);
	json_decref(resp);
	r = call_ok("{\"cmd\":\"balloon\",\"target\":\"0\"}", &resp);
	ck_assert_int_eq(fake.target, 0);
	json_decref(resp);
}
END_TEST

START_TEST(balloon_rounds_down_to_pages)
{
	json_t *resp;

	call_ok("{\"cmd\":\"balloon\",\"target_bytes\":8191}", &resp);
	ck_assert_int_eq(fake.target, 1);
	json_decref(resp);
	call_ok("{\"cmd\":\"balloon\",\"target_bytes\":4095}", &resp);
	ck_assert_int_eq(fake.target, 0);
	json_decref(resp);
}
END_TEST

START_TEST(balloon_rejects_bad_targets)
{
	assert_error("{\"cmd\":\"balloon\"}", "EINVAL", "exactly one");
	assert_error("{\"cmd\":\"balloon\",\"target\":\"1M\","
		     "\"target_bytes\":1}",
		     "EINVAL", "exactly one");
	assert_error("{\"cmd\":\"balloon\",\"target_bytes\":-4096}", "EINVAL",
		     "non-negative");
	assert_error("{\"cmd\":\"balloon\",\"target_bytes\":1.5}", "EINVAL",
		     "non-negative integer");
	assert_error("{\"cmd\":\"balloon\",\"target_bytes\":\"1M\"}", "EINVAL",
		     "integer");
	assert_error("{\"cmd\":\"balloon\",\"target\":\"12X\"}", "EINVAL",
		     "\"target\" must be a string with a size");
	assert_error("{\"cmd\":\"balloon\",\"target\":-1}", "EINVAL",
		     "must be a string");
	assert_error("{\"cmd\":\"balloon\",\"target\":\"65M\"}", "EINVAL",
		     "more than the guest's RAM");
	assert_error("{\"cmd\":\"balloon\",\"target\":\"99999999999T\"}",
		     "EINVAL", "must be a string with a size");
	assert_error("{\"cmd\":\"balloon\",\"target\":\"1M\",\"wait\":1}",
		     "EINVAL", "unknown argument 'wait'");
	ck_assert_int_eq(fake.set_calls, 0);
}
END_TEST

START_TEST(balloon_errors_from_device_and_absence)
{
	fake.set_err = -EINVAL;
	assert_error("{\"cmd\":\"balloon\",\"target\":\"1M\"}", "EINVAL",
		     "the balloon refused a target of 256 pages");
	fx_ctx.balloon = NULL;
	assert_error("{\"cmd\":\"balloon\",\"target\":\"1M\"}", "ENODEV",
		     "no balloon device");
}
END_TEST

START_TEST(balloon_target_parser)
{
	json_t *args = json_pack("{s:s}", "target", "1G");
	uint64_t pages = 0;
	char msg[128];

	ck_assert_int_eq(api_cmds_balloon_target(args, 1ull << 30, &pages, msg,
						 sizeof(msg)),
			 0);
	ck_assert_int_eq(pages, 262144);
	ck_assert_int_eq(api_cmds_balloon_target(args, (1ull << 30) - 1, &pages,
						 msg, sizeof(msg)),
			 -EINVAL);
	json_decref(args);
}
END_TEST

static const char *state_of(const char *cmd, const char *key)
{
	static char buf[32];
	char line[64];
	json_t *resp, *r;

	snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", cmd);
	r = call_ok(line, &resp);
	snprintf(buf, sizeof(buf), "%s",
		 json_string_value(json_object_get(r, key)));
	json_decref(resp);
	return buf;
}

START_TEST(pause_resume_idempotent)
{
	ck_assert_str_eq(state_of("pause", "was"), "running");
	ck_assert(vm_is_paused(&fx_vm));
	ck_assert_str_eq(state_of("pause", "was"), "paused");
	ck_assert_str_eq(state_of("pause", "state"), "paused");
	{
		json_t *resp, *r = call_ok("{\"cmd\":\"stat\"}", &resp);

		ck_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(r, "vcpus"), "state")),
				 "paused");
		json_decref(resp);
	}
	ck_assert_str_eq(state_of("resume", "was"), "paused");
	ck_assert(!vm_is_paused(&fx_vm));
	ck_assert_str_eq(state_of("resume", "was"), "running");
	ck_assert_str_eq(state_of("resume", "state"), "running");
	assert_error("{\"cmd\":\"pause\",\"now\":1}", "EINVAL",
		     "unknown argument");
}
END_TEST

START_TEST(quit_finishes_with_status_0)
{
	json_t *resp, *r = call_ok("{\"cmd\":\"quit\"}", &resp);

	ck_assert(vm_is_finished(&fx_vm));
	ck_assert_int_eq(fx_vm.exit_status, 0);
	ck_assert(json_is_false(json_object_get(r, "already_stopped")));
	json_decref(resp);
	r = call_ok("{\"cmd\":\"quit\"}", &resp);
	ck_assert(json_is_true(json_object_get(r, "already_stopped")));
	json_decref(resp);
	assert_error("{\"cmd\":\"pause\"}", "EBUSY", "already stopped");
	assert_error("{\"cmd\":\"resume\"}", "EBUSY", "already stopped");
}
END_TEST

static unsigned fake_drains;

static uint64_t fake_drain_rings(void)
{
	fake_drains++;
	return 7;
}

/*
 * Issue 12: "compact" drains the page rings (ctx->drain_rings) once, before
 * compacting, and says how many frames that freed.
 */
START_TEST(compact_drains_rings_first)
{
	json_t *resp, *r;

	fake_drains = 0;
	fx_ctx.drain_rings = fake_drain_rings;
	r = call_ok("{\"cmd\":\"compact\"}", &resp);
	ck_assert_uint_eq(fake_drains, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "drained")), 7);
	json_decref(resp);
	/* A bad request drains nothing. */
	assert_error("{\"cmd\":\"compact\",\"zone\":\"x\"}", "EINVAL", "zone");
	ck_assert_uint_eq(fake_drains, 1);
	fx_ctx.drain_rings = NULL;
	r = call_ok("{\"cmd\":\"compact\"}", &resp);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "drained")), 0);
	json_decref(resp);
}
END_TEST

/*
 * Issue 12 defect 4: a target the balloon can never reach (all of RAM, the
 * reserved frames included) is refused with the real maximum.
 */
START_TEST(balloon_refuses_more_than_it_can_hold)
{
	json_t *resp;

	assert_error("{\"cmd\":\"balloon\",\"target\":\"64M\"}", "EINVAL",
		     "more than the balloon can ever hold: 66060288 bytes "
		     "(RAM minus 256 reserved frames");
	ck_assert_int_eq(fake.set_calls, 0);
	call_ok("{\"cmd\":\"balloon\",\"target_bytes\":66060288}", &resp);
	ck_assert_int_eq(fake.target, FX_RAM_PAGES - 256);
	json_decref(resp);
}
END_TEST

/* Issue 12 defect 10: a long multi-byte unknown key still gets an answer. */
START_TEST(unknown_multibyte_key_gets_an_error)
{
	char line[256] = "{\"cmd\":\"stat\",\"k";

	for (int i = 0; i < 40; i++)
		strcat(line, "\xc3\xa9");
	strcat(line, "\":1}");
	assert_error(line, "EINVAL", "unknown argument 'k\xc3\xa9");
}
END_TEST

/* Issue 12 defect 6: a stopped VM's balloon target no longer changes. */
START_TEST(balloon_after_quit_is_busy)
{
	json_t *resp;

	call_ok("{\"cmd\":\"balloon\",\"target\":\"4M\"}", &resp);
	json_decref(resp);
	call_ok("{\"cmd\":\"quit\"}", &resp);
	json_decref(resp);
	assert_error("{\"cmd\":\"balloon\",\"target\":\"8M\"}", "EBUSY",
		     "already stopped");
	ck_assert_int_eq(fake.target, 1024);
}
END_TEST

START_TEST(quit_keeps_an_earlier_status)
{
	json_t *resp, *r;

	vm_finish(&fx_vm, 3);
	r = call_ok("{\"cmd\":\"quit\"}", &resp);
	ck_assert_int_eq(ival(r, "exit_status", NULL), 3);
	ck_assert_int_eq(fx_vm.exit_status, 3);
	json_decref(resp);
}
END_TEST

static Suite *api_cmds_suite(void)
{
	Suite *s = suite_create("api_cmds");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, stat_has_documented_fields);
	tcase_add_test(tc, stat_reports_balloon_target_and_actual_separately);
	tcase_add_test(tc, stat_without_balloon_or_mm);
	tcase_add_test(tc, stat_rejects_arguments);
	tcase_add_test(tc, balloon_sets_target_in_bytes_and_units);
	tcase_add_test(tc, balloon_rounds_down_to_pages);
	tcase_add_test(tc, balloon_rejects_bad_targets);
	tcase_add_test(tc, balloon_errors_from_device_and_absence);
	tcase_add_test(tc, balloon_after_quit_is_busy);
	tcase_add_test(tc, unknown_multibyte_key_gets_an_error);
	tcase_add_test(tc, balloon_refuses_more_than_it_can_hold);
	tcase_add_test(tc, balloon_target_parser);
	tcase_add_test(tc, pause_resume_idempotent);
	tcase_add_test(tc, quit_finishes_with_status_0);
	tcase_add_test(tc, compact_drains_rings_first);
	tcase_add_test(tc, quit_keeps_an_earlier_status);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(api_cmds_suite)
