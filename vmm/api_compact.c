// SPDX-License-Identifier: MIT
/* vmm/api_compact.c - "compact" and stat's host.compaction (api_compact.h). */
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "mm/mm.h"
#include "vmm/api.h"
#include "vmm/api_cmds.h"
#include "vmm/api_compact.h"
#include "vmm/stat_fields.h"

static const char *const compact_result_names[] = {
	[COMPACT_NOT_SUITABLE_ZONE] = "not_suitable_zone",
	[COMPACT_SKIPPED] = "skipped",
	[COMPACT_DEFERRED] = "deferred",
	[COMPACT_CONTINUE] = "continue",
	[COMPACT_COMPLETE] = "complete",
	[COMPACT_PARTIAL_SKIPPED] = "partial_skipped",
	[COMPACT_SUCCESS] = "success",
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Free blocks of @order, counting larger ones as 2^(o - order) each. */
static uint64_t blocks_of_order(const struct mm_zone_info *zi, unsigned order)
{
	uint64_t n = 0;

	for (unsigned o = order; o < NR_PAGE_ORDERS; o++)
		n += zi->nr_free[o] << (o - order);
	return n;
}

/* Compact one zone; NULL if it is not populated. */
static json_t *compact_one(struct mm *mm, enum zone_type z, int order)
{
	unsigned counted = order < 0 ? PAGEBLOCK_ORDER : (unsigned)order;
	struct mm_compact_result res = {0};
	struct mm_zone_info before, after;
	unsigned score_before;
	uint64_t t0, t1;
	int err;

	if (mm_zone_info(mm, z, &before) || !before.populated)
		return NULL;
	score_before = mm_fragmentation_score(mm, z);
	t0 = now_us();
	err = mm_compact_zone(mm, z, order, MIGRATE_SYNC, &res);
	t1 = now_us();
	mm_zone_info(mm, z, &after);
	return json_pack(
		"{s:s, s:i, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I, "
		"s:I, s:i, s:i, s:I}",
		"zone", before.name, "order", order, "result",
		err ? "busy" : compact_result_names[res.result],
		"counted_order", (int)counted, "migrate_scanned",
		(json_int_t)res.migrate_scanned, "free_scanned",
		(json_int_t)res.free_scanned, "isolated",
		(json_int_t)res.isolated, "migrated", (json_int_t)res.migrated,
		"failed", (json_int_t)res.failed, "pending",
		(json_int_t)res.pending, "error", err, "blocks_before",
		(json_int_t)blocks_of_order(&before, counted), "blocks_after",
		(json_int_t)blocks_of_order(&after, counted), "score_before",
		(int)score_before, "score_after",
		(int)mm_fragmentation_score(mm, z), "time_us",
		(json_int_t)(t1 - t0));
}

/* "zone": a zone name (any case) -> *@zone; absent: -1 (every zone). */
static int compact_zone_arg(struct mm *mm, json_t *args, int *zone, char *msg,
			    size_t msg_size)
{
	json_t *v = json_object_get(args, "zone");
	struct mm_zone_info zi;

	*zone = -1;
	if (!v)
		return 0;
	for (int z = 0; json_is_string(v) && z < MM_NR_ZONES; z++) {
		if (mm_zone_info(mm, (enum zone_type)z, &zi) == 0 &&
		    strcasecmp(zi.name, json_string_value(v)) == 0) {
			if (!zi.populated)
				break;
			*zone = z;
			return 0;
		}
	}
	snprintf(msg, msg_size,
		 "zone: not a populated zone of this VM (DMA, DMA32, Normal, "
		 "Movable: see stat's host.zones)");
	return -EINVAL;
}

static int compact_order_arg(json_t *args, int *order, char *msg,
			     size_t msg_size)
{
	json_t *v = json_object_get(args, "order");

	*order = -1;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < -1 ||
	    json_integer_value(v) > MAX_PAGE_ORDER) {
		snprintf(msg, msg_size,
			 "order: an integer in -1 .. %d (-1: compact the "
			 "whole zone)",
			 MAX_PAGE_ORDER);
		return -EINVAL;
	}
	*order = (int)json_integer_value(v);
	return 0;
}

int api_compact_run(struct mm *mm, uint64_t (*drain)(void), json_t *args,
		    json_t **result, char *msg, size_t msg_size)
{
	static const char *const allowed[] = {"zone", "order", NULL};
	json_t *zones, *r;
	uint64_t t0 = now_us(), drained;
	int zone, order;
	int err = api_cmds_check_args(args, allowed, msg, msg_size);

	if (!err)
		err = compact_zone_arg(mm, args, &zone, msg, msg_size);
	if (!err)
		err = compact_order_arg(args, &order, msg, msg_size);
	if (err)
		return err;
	/*
	 * Frames in the page rings' supplies are free but pinned GUEST
	 * frames: neither targets nor mergeable. Linux drains its per-CPU
	 * lists for the same reason (compact_zone(), alloc_contig_range());
	 * the rings refill at the guest's next kick.
	 */
	drained = drain ? drain() : 0;
	zones = json_array();
	for (int z = 0; zones && z < MM_NR_ZONES; z++) {
		json_t *one;

		if (zone >= 0 && z != zone)
			continue;
		one = compact_one(mm, (enum zone_type)z, order);
		if (one)
			json_array_append_new(zones, one);
	}
	r = json_pack("{s:o, s:I, s:I}", "zones", zones, "drained",
		      (json_int_t)drained, "time_us",
		      (json_int_t)(now_us() - t0));
	if (!r)
		return -ENOMEM;
	*result = r;
	return 0;
}

static int api_cmd_compact(void *opaque, json_t *args, json_t **result,
			   char *msg, size_t msg_size)
{
	struct api_cmds_ctx *ctx = opaque;

	if (!ctx->mm) {
		snprintf(msg, msg_size, "this VM has no page database");
		return -ENODEV;
	}
	return api_compact_run(ctx->mm, ctx->drain_rings, args, result, msg,
			       msg_size);
}

int api_compact_register(struct api_server *srv, struct api_cmds_ctx *ctx)
{
	return api_register(srv, "compact", api_cmd_compact, ctx);
}

static json_t *zone_indices(struct mm *mm, enum zone_type z,
			    const struct mm_zone_info *zi)
{
	json_t *unusable = json_array(), *extfrag = json_array();

	for (unsigned o = 0; unusable && extfrag && o < NR_PAGE_ORDERS; o++) {
		json_array_append_new(
			unusable, json_integer(mm_unusable_index(mm, z, o)));
		json_array_append_new(extfrag,
				      json_integer(mm_extfrag_index(mm, z, o)));
	}
	return json_pack("{s:s, s:i, s:o, s:o}", "name", zi->name,
			 "fragmentation_score",
			 (int)mm_fragmentation_score(mm, z), "unusable_index",
			 unusable, "extfrag_index", extfrag);
}

/* stat's host.compaction.vmstat, by Linux's /proc/vmstat names. */
static const struct stat_field compact_vmstat_fields[] = {
	STAT_FIELD(struct mm_stats, compact_migrate_scanned),
	STAT_FIELD(struct mm_stats, compact_free_scanned),
	STAT_FIELD(struct mm_stats, compact_isolated),
	STAT_FIELD(struct mm_stats, compact_stall),
	STAT_FIELD(struct mm_stats, compact_fail),
	STAT_FIELD(struct mm_stats, compact_success),
	STAT_FIELD(struct mm_stats, compact_daemon_wake),
	STAT_FIELD(struct mm_stats, pgmigrate_success),
	STAT_FIELD(struct mm_stats, pgmigrate_fail),
	STAT_FIELD(struct mm_stats, cma_total),
	STAT_FIELD(struct mm_stats, cma_allocated),
};

static const struct stat_table compact_vmstat_table =
	STAT_TABLE(compact_vmstat_fields);

json_t *api_compact_stat(struct mm *mm)
{
	json_t *zones = json_array();
	struct mm_stats st;

	mm_get_stats(mm, &st);
	for (int z = 0; zones && z < MM_NR_ZONES; z++) {
		struct mm_zone_info zi;

		if (mm_zone_info(mm, (enum zone_type)z, &zi) == 0 &&
		    zi.populated)
			json_array_append_new(
				zones,
				zone_indices(mm, (enum zone_type)z, &zi));
	}
	return json_pack("{s:o, s:o}", "zones", zones, "vmstat",
			 stat_fields_json(&compact_vmstat_table, &st));
}
