// SPDX-License-Identifier: MIT
/*
 * vmm/api_cmds.c - the control API's commands (api_cmds.h, docs/api.md).
 *
 * Every handler checks its arguments strictly (unknown keys, wrong types and
 * out-of-range values are -EINVAL with a message), because the socket is an
 * interface for scripts: a typo must fail loudly, not be ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"
#include "vmm/api.h"
#include "vmm/api_cmds.h"
#include "vmm/api_compact.h"
#include "abi/boot.h"
#include "vmm/cli.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define API_PAGE_SIZE 4096ull

static const char *const api_frame_state_names[FRAME_NR_STATES] = {
	[FRAME_FREE] = "free",	       [FRAME_GUEST] = "guest",
	[FRAME_DMA] = "dma",	       [FRAME_BALLOON] = "balloon",
	[FRAME_RESERVED] = "reserved",
};

int api_cmds_check_args(json_t *args, const char *const *allowed, char *msg,
			size_t msg_size)
{
	const char *key;
	json_t *value;

	json_object_foreach(args, key, value)
	{
		bool known = strcmp(key, "cmd") == 0;

		for (const char *const *a = allowed; !known && *a; a++)
			known = strcmp(key, *a) == 0;
		if (!known) {
			snprintf(msg, msg_size, "unknown argument '%.64s'",
				 key);
			return -EINVAL;
		}
	}
	return 0;
}

/* Set @key to a new reference; a NULL @value (out of memory) is skipped. */
static void api_set(json_t *obj, const char *key, json_t *value)
{
	if (value)
		json_object_set_new(obj, key, value);
}

static json_t *api_uint(uint64_t v)
{
	/* JSON numbers here are signed 64-bit; no count comes near 2^63. */
	return json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v));
}

/* Stats ------------------------------------------------------------------ */

typedef int (*api_format_fn)(struct mm *mm, char *buf, size_t size);

/* One of mm's Linux text formats as a JSON string, grown to fit. */
static json_t *api_mm_text(struct mm *mm, api_format_fn fn)
{
	size_t size = 16384;
	json_t *s = NULL;

	for (int tries = 0; tries < 8; tries++) {
		char *buf = malloc(size);
		int n = buf ? fn(mm, buf, size) : -1;

		if (n >= 0 && (size_t)n < size)
			s = json_string(buf);
		free(buf);
		if (n < 0 || (size_t)n < size)
			break;
		size = (size_t)n + 1;
	}
	return s;
}

static json_t *api_zone_json(const struct mm_zone_info *z)
{
	json_t *nr_free = json_array();
	json_t *zone;

	for (unsigned o = 0; nr_free && o < NR_PAGE_ORDERS; o++)
		json_array_append_new(nr_free, api_uint(z->nr_free[o]));
	zone = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "name", z->name, "start_pfn", (json_int_t)z->start_pfn,
			 "end_pfn", (json_int_t)z->end_pfn, "spanned",
			 (json_int_t)z->spanned, "present",
			 (json_int_t)z->present, "managed",
			 (json_int_t)z->managed, "free", (json_int_t)z->free,
			 "min", (json_int_t)z->min, "low", (json_int_t)z->low,
			 "high", (json_int_t)z->high);
	if (zone)
		api_set(zone, "nr_free", nr_free);
	else
		json_decref(nr_free);
	return zone;
}

/* Frame states, zones and the /proc-style texts of the host page database. */
static void api_stat_mm(json_t *host, struct mm *mm)
{
	json_t *frames = json_object(), *zones = json_array();
	struct mm_stats st;

	mm_get_stats(mm, &st);
	for (unsigned s = 0; frames && s < FRAME_NR_STATES; s++)
		api_set(frames, api_frame_state_names[s],
			api_uint(st.frames[s]));
	if (frames) {
		api_set(frames, "discarded", api_uint(st.discarded));
		api_set(frames, "pcp", api_uint(st.pcp_frames));
		api_set(frames, "total", api_uint(st.total));
	}
	api_set(host, "frames", frames);
	for (unsigned z = 0; zones && z < MM_NR_ZONES; z++) {
		struct mm_zone_info info;

		if (mm_zone_info(mm, (enum zone_type)z, &info) == 0 &&
		    info.populated)
			json_array_append_new(zones, api_zone_json(&info));
	}
	api_set(host, "zones", zones);
	api_set(host, "buddyinfo", api_mm_text(mm, mm_format_buddyinfo));
	api_set(host, "zoneinfo", api_mm_text(mm, mm_format_zoneinfo));
	api_set(host, "pagetypeinfo", api_mm_text(mm, mm_format_pagetypeinfo));
	api_set(host, "compaction", api_compact_stat(mm));
}

/* VmRSS and friends of this process, from /proc/self/status, in bytes. */
static json_t *api_stat_rss(const struct api_cmds_ctx *ctx)
{
	static const char *const status_keys[] = {
		"VmRSS:", "RssAnon:", "RssShmem:", "VmHWM:"};
	static const char *const json_keys[] = {"vmm_bytes", "vmm_anon_bytes",
						"vmm_shmem_bytes",
						"vmm_peak_bytes"};
	enum { NR_KEYS = sizeof(status_keys) / sizeof(status_keys[0]) };
	json_t *rss = json_object();
	uint64_t kib[NR_KEYS], resident;

	if (rss && vm_stats_proc_status(status_keys, NR_KEYS, kib) == 0)
		for (unsigned i = 0; i < NR_KEYS; i++)
			if (kib[i] != VM_STATS_NOT_FOUND)
				api_set(rss, json_keys[i],
					api_uint(kib[i] * 1024));
	if (rss && ctx->ram_resident &&
	    ctx->ram_resident(ctx->vm, &resident) == 0)
		api_set(rss, "guest_bytes", api_uint(resident));
	return rss;
}

/* The control socket's own counters (docs/api.md "Limits"). */
static json_t *api_stat_api(const struct api_cmds_ctx *ctx)
{
	struct api_server_stats st;

	if (!ctx->server)
		return json_null();
	api_server_get_stats(ctx->server, &st);
	return json_pack(
		"{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "clients",
		(int)st.clients, "max_clients", (int)st.max_clients, "accepted",
		(json_int_t)st.accepted, "refused", (json_int_t)st.refused,
		"dropped_slow", (json_int_t)st.dropped_slow, "dropped_idle",
		(json_int_t)st.dropped_idle, "too_long",
		(json_int_t)st.too_long, "requests", (json_int_t)st.requests);
}

static json_t *api_balloon_json(const struct balloon_status *b)
{
	if (!b->present)
		return json_pack("{s:b}", "present", 0);
	return json_pack(
		"{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "present", 1,
		"target_bytes", (json_int_t)(b->target_pages * API_PAGE_SIZE),
		"actual_bytes", (json_int_t)(b->actual_pages * API_PAGE_SIZE),
		"target_pages", (json_int_t)b->target_pages, "actual_pages",
		(json_int_t)b->actual_pages, "inflated_frames",
		(json_int_t)b->inflated_frames, "bad_pfns",
		(json_int_t)b->bad_pfns, "oom_deflates",
		(json_int_t)b->oom_deflates, "reported_pages",
		(json_int_t)b->reported_pages);
}

/* The guest's view: balloon statistics by name, and what it published. */
static json_t *api_stat_guest(const struct api_cmds_ctx *ctx,
			      const struct balloon_status *b)
{
	json_t *guest = json_object(), *stats = json_object();
	uint32_t n = b->nr_stats < BALLOON_MAX_STATS ? b->nr_stats
						     : BALLOON_MAX_STATS;

	for (uint32_t i = 0; stats && i < n; i++)
		api_set(stats, ctx->balloon->stat_name(b->stats[i].tag),
			api_uint(b->stats[i].val));
	api_set(guest, "balloon_stats", stats);
	api_set(guest, "balloon_stats_age_ms",
		b->stats_age_ms == UINT64_MAX ? json_null()
					      : api_uint(b->stats_age_ms));
	if (ctx->guest_stats) {
		char *text = malloc(BVM_GUEST_STATS_MAX + 1);
		size_t len =
			text ? ctx->guest_stats(text, BVM_GUEST_STATS_MAX + 1)
			     : 0;

		api_set(guest, "published",
			len ? json_string(text) : json_null());
		free(text);
	}
	return guest;
}

static void api_balloon_status(const struct api_cmds_ctx *ctx,
			       struct balloon_status *b)
{
	memset(b, 0, sizeof(*b));
	b->stats_age_ms = UINT64_MAX;
	if (ctx->balloon)
		ctx->balloon->get_status(b);
}

static const char *api_vcpu_state(struct vm *vm)
{
	if (vm_is_finished(vm))
		return "stopped";
	return vm_is_paused(vm) ? "paused" : "running";
}

static int api_cmd_stat(void *opaque, json_t *args, json_t **result, char *msg,
			size_t msg_size)
{
	static const char *const allowed[] = {NULL};
	struct api_cmds_ctx *ctx = opaque;
	struct balloon_status b;
	json_t *r, *host;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (err)
		return err;
	api_balloon_status(ctx, &b);
	r = json_pack("{s:I, s:s, s:I, s:{s:i, s:s}}", "uptime_ms",
		      (json_int_t)vm_uptime_ms(ctx->vm), "memory_model",
		      ctx->vm->cfg.memory_model == VM_MEMORY_NATIVE ? "native"
								    : "hosted",
		      "ram_bytes", (json_int_t)ctx->vm->cfg.mem_size, "vcpus",
		      "count", (int)ctx->vm->cfg.nr_vcpus, "state",
		      api_vcpu_state(ctx->vm));
	host = json_object();
	if (!r || !host) {
		json_decref(r);
		json_decref(host);
		return -ENOMEM;
	}
	api_set(r, "balloon", api_balloon_json(&b));
	api_set(r, "guest", api_stat_guest(ctx, &b));
	if (ctx->mm)
		api_stat_mm(host, ctx->mm);
	api_set(host, "pvmem",
		ctx->pvmem_stat ? ctx->pvmem_stat() : json_null());
	api_set(host, "blk", ctx->blk_stat ? ctx->blk_stat() : json_array());
	api_set(host, "rss", api_stat_rss(ctx));
	api_set(host, "api", api_stat_api(ctx));
	api_set(r, "host", host);
	*result = r;
	return 0;
}

/* Balloon ------------------------------------------------------------------ */

static int api_target_bytes(json_t *args, uint64_t *bytes, char *msg,
			    size_t msg_size)
{
	json_t *num = json_object_get(args, "target_bytes");
	json_t *str = json_object_get(args, "target");

	if (!num == !str) {
		snprintf(msg, msg_size,
			 "give exactly one of \"target_bytes\" (bytes) or "
			 "\"target\" (a size such as \"512M\")");
		return -EINVAL;
	}
	if (num) {
		if (!json_is_integer(num) || json_integer_value(num) < 0) {
			snprintf(msg, msg_size,
				 "\"target_bytes\" must be a non-negative "
				 "integer number of bytes");
			return -EINVAL;
		}
		*bytes = (uint64_t)json_integer_value(num);
		return 0;
	}
	if (!json_is_string(str) ||
	    cli_parse_size(json_string_value(str), bytes) < 0) {
		snprintf(msg, msg_size,
			 "\"target\" must be a string with a size: bytes or "
			 "a number with K, M, G or T (e.g. \"512M\")");
		return -EINVAL;
	}
	return 0;
}

int api_cmds_balloon_target(json_t *args, uint64_t ram_bytes, uint64_t *pages,
			    char *msg, size_t msg_size)
{
	uint64_t bytes;
	int err = api_target_bytes(args, &bytes, msg, msg_size);

	if (err)
		return err;
	if (bytes > ram_bytes) {
		snprintf(msg, msg_size,
			 "target %llu bytes is more than the guest's RAM "
			 "(%llu bytes)",
			 (unsigned long long)bytes,
			 (unsigned long long)ram_bytes);
		return -EINVAL;
	}
	*pages = bytes / API_PAGE_SIZE; /* rounded down, documented */
	return 0;
}

/*
 * The most the balloon can ever hold: RAM minus the reserved frames (guest
 * kernel, boot tables), which are never the guest's to give. Below it the
 * guest also keeps its own pages and the allocator's reserves (a few MiB,
 * docs/api.md), so a target within that margin stops short.
 */
static int api_balloon_check_max(const struct api_cmds_ctx *ctx, uint64_t pages,
				 char *msg, size_t msg_size)
{
	struct mm_stats st;
	uint64_t max;

	if (!ctx->mm)
		return 0;
	mm_get_stats(ctx->mm, &st);
	max = st.total - st.frames[FRAME_RESERVED];
	if (pages <= max)
		return 0;
	snprintf(msg, msg_size,
		 "target %llu bytes is more than the balloon can ever hold: "
		 "%llu bytes (RAM minus %llu reserved frames of the guest "
		 "kernel and boot data)",
		 (unsigned long long)(pages * API_PAGE_SIZE),
		 (unsigned long long)(max * API_PAGE_SIZE),
		 (unsigned long long)st.frames[FRAME_RESERVED]);
	return -EINVAL;
}

static int api_cmd_balloon(void *opaque, json_t *args, json_t **result,
			   char *msg, size_t msg_size)
{
	static const char *const allowed[] = {"target_bytes", "target", NULL};
	struct api_cmds_ctx *ctx = opaque;
	struct balloon_status before, after;
	uint64_t pages;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (!err && !ctx->balloon) {
		snprintf(msg, msg_size, "this VM has no balloon device");
		err = -ENODEV;
	}
	/* As pause and resume: a stopped VM's memory no longer changes. */
	if (!err && vm_is_finished(ctx->vm)) {
		snprintf(msg, msg_size, "the VM has already stopped");
		err = -EBUSY;
	}
	if (!err)
		err = api_cmds_balloon_target(args, ctx->vm->cfg.mem_size,
					      &pages, msg, msg_size);
	if (!err)
		err = api_balloon_check_max(ctx, pages, msg, msg_size);
	if (err)
		return err;
	api_balloon_status(ctx, &before);
	err = ctx->balloon->set_target(pages);
	if (err) {
		snprintf(msg, msg_size,
			 "the balloon refused a target of %llu pages: %s",
			 (unsigned long long)pages, strerror(-err));
		return err;
	}
	api_balloon_status(ctx, &after);
	*result = api_balloon_json(&after);
	if (*result)
		api_set(*result, "previous_target_bytes",
			api_uint(before.target_pages * API_PAGE_SIZE));
	return *result ? 0 : -ENOMEM;
}

/* vCPU state --------------------------------------------------------------- */

static int api_state_result(json_t **result, const char *state, bool was,
			    const char *was_true, const char *was_false)
{
	*result = json_pack("{s:s, s:s}", "state", state, "was",
			    was ? was_true : was_false);
	return *result ? 0 : -ENOMEM;
}

static int api_cmd_pause(void *opaque, json_t *args, json_t **result, char *msg,
			 size_t msg_size)
{
	static const char *const allowed[] = {NULL};
	struct api_cmds_ctx *ctx = opaque;
	bool was_paused;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (!err)
		err = vm_pause(ctx->vm, &was_paused);
	if (err == -ESHUTDOWN) {
		snprintf(msg, msg_size, "the VM has already stopped");
		err = -EBUSY;
	}
	if (err)
		return err;
	return api_state_result(result, "paused", was_paused, "paused",
				"running");
}

static int api_cmd_resume(void *opaque, json_t *args, json_t **result,
			  char *msg, size_t msg_size)
{
	static const char *const allowed[] = {NULL};
	struct api_cmds_ctx *ctx = opaque;
	bool was_paused;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (!err)
		err = vm_resume(ctx->vm, &was_paused);
	if (err == -ESHUTDOWN) {
		snprintf(msg, msg_size, "the VM has already stopped");
		err = -EBUSY;
	}
	if (err)
		return err;
	return api_state_result(result, "running", was_paused, "paused",
				"running");
}

/*
 * The VM stops as if the guest had reported done: `vmm run` exits 0. A VM
 * that had already decided its status keeps it (reported in the result).
 */
static int api_cmd_quit(void *opaque, json_t *args, json_t **result, char *msg,
			size_t msg_size)
{
	static const char *const allowed[] = {NULL};
	struct api_cmds_ctx *ctx = opaque;
	bool decided;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (err)
		return err;
	decided = vm_finish(ctx->vm, BVM_EXIT_OK);
	pthread_mutex_lock(&ctx->vm->lock);
	*result =
		json_pack("{s:s, s:i, s:b}", "state", "stopping", "exit_status",
			  ctx->vm->exit_status, "already_stopped", !decided);
	pthread_mutex_unlock(&ctx->vm->lock);
	return *result ? 0 : -ENOMEM;
}

int api_cmds_register(struct api_server *srv, struct api_cmds_ctx *ctx)
{
	static const struct {
		const char *name;
		api_cmd_fn fn;
	} cmds[] = {
		{"stat", api_cmd_stat},	  {"balloon", api_cmd_balloon},
		{"pause", api_cmd_pause}, {"resume", api_cmd_resume},
		{"quit", api_cmd_quit},
	};

	ctx->server = srv;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int err = api_register(srv, cmds[i].name, cmds[i].fn, ctx);

		if (err)
			return err;
	}
	return api_compact_register(srv, ctx);
}
