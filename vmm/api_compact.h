/* SPDX-License-Identifier: MIT */
/*
 * vmm/api_compact.h - the control API's "compact" command and the
 * compaction part of "stat" (docs/api.md).
 *
 *   {"cmd": "compact"}                          every zone, until the
 *                                               scanners meet
 *   {"cmd": "compact", "zone": "DMA32", "order": 9}
 *
 * runs mm_compact_zone() (MIGRATE_SYNC) on the host page database now and
 * answers what it did per zone (after taking back the frames the hosted
 * model's page rings hold: free, but pinned until then, neither targets
 * nor mergeable): frames scanned by each scanner, isolated,
 * migrated, failed, pending (hosted model: requests the guest still has to
 * answer), free blocks of the order before and after, the fragmentation
 * score before and after, and the time taken.
 */
#ifndef VMM_API_COMPACT_H
#define VMM_API_COMPACT_H

#include <jansson.h>
#include <stddef.h>

struct api_cmds_ctx;
struct api_server;
struct mm;

/* Register "compact" on @srv; @ctx as for api_cmds_register(). */
int api_compact_register(struct api_server *srv, struct api_cmds_ctx *ctx);

/**
 * api_compact_run() - the command's work on @mm, for tests: @args as the
 * request ("zone": name, "order": -1 .. 10, both optional). @drain (may be
 * NULL) runs first, once the arguments are good: the frames it frees
 * (the hosted model's page rings) are the result's "drained".
 * Return: 0 and *@result, or -EINVAL with a message in @msg.
 */
int api_compact_run(struct mm *mm, uint64_t (*drain)(void), json_t *args,
		    json_t **result, char *msg, size_t msg_size);

/*
 * "stat"'s host.compaction: the vmstat counters by Linux's names, and per
 * populated zone its fragmentation score and the unusable and extfrag
 * indices per order (thousandths; extfrag -1000: a block is there).
 */
json_t *api_compact_stat(struct mm *mm);

#endif /* VMM_API_COMPACT_H */
