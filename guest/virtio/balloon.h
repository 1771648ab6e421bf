/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/balloon.h - the guest's virtio-balloon driver: follows the
 * host's target in batches (256 PFNs per buffer, several buffers per
 * notification), answers statistics requests, and gives pages back on OOM
 * when VIRTIO_BALLOON_F_DEFLATE_ON_OOM was negotiated.
 *
 * Pages come from the guest's page source (guest_mm_init() first). When it
 * runs dry, the driver drains the per-vCPU page cache and calls the
 * shrinker a workload registered (its caches), then tries once more.
 * vCPU 0 only.
 */
#ifndef GUEST_VIRTIO_BALLOON_H
#define GUEST_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

/* Free up to @pages pages to the page source; return how many were freed. */
typedef uint64_t (*gballoon_shrink_fn)(uint64_t pages);

enum gballoon_prof_phase {
	GBALLOON_PROF_BLOCKS, /* order-9 blocks from the buddy, split */
	GBALLOON_PROF_PAGES,  /* single pages from the page source */
	GBALLOON_PROF_SHRINK, /* the workload's shrinker */
	GBALLOON_PROF_SORT,   /* sorting the batch */
	GBALLOON_PROF_FILL,   /* PFN buffers filled, descriptors added */
	GBALLOON_PROF_KICK,   /* the notify (VM exit; the host handles it) */
	GBALLOON_PROF_WAIT,   /* waiting for the used buffers after it */
	GBALLOON_PROF_ADOPT,  /* held list, movable owner (native) */
	GBALLOON_PROF_ACTUAL, /* config write of `actual` (VM exit) */
	GBALLOON_PROF_NR,
};

struct gballoon_info {
	uint32_t target, actual; /* pages */
	uint64_t inflated, deflated, oom_deflated, stats_sent;
	uint64_t alloc_failures; /* inflate batches cut short */
	uint64_t reported_pages, report_passes, report_chains;
	uint64_t features;
	uint64_t migrated; /* pages swapped by balloon page migration */
	uint64_t blocks;   /* native: whole 2 MiB blocks inflated */
	bool needs_reset;
	/*
	 * Inflate profile: guest TSC cycles spent in each phase, summed over
	 * every inflate batch since boot (gballoon_prof_name() names them), and
	 * the batches, kicks, and runs of consecutive PFNs the batches held
	 * before sorting. A few rdtsc per batch of 8192 pages.
	 */
	uint64_t prof[GBALLOON_PROF_NR];
	uint64_t prof_batches, prof_kicks, prof_runs;
};

/* Probe and start the device. Return 0, -ENOENT (no balloon) or an error. */
int gballoon_init(void);
void gballoon_set_shrinker(gballoon_shrink_fn fn);

/*
 * Take the device's interrupts (config change, stats request) and move
 * towards the target: at most @max_pages pages per call (0: no bound), so
 * a caller can interleave other work. Return true when actual == target.
 */
bool gballoon_service(uint64_t max_pages);

/* The device interrupt pin (for workloads that check irq bits). */
unsigned gballoon_irq(void);

/**
 * gballoon_deflate_on_oom() - an allocation failed: if the balloon holds
 * pages and DEFLATE_ON_OOM was negotiated, give back up to @pages of them
 * to the page source. Return pages given back (0: none).
 */
uint64_t gballoon_deflate_on_oom(uint64_t pages);

/**
 * gballoon_report_free() - one free page reporting pass (native model, if
 * VIRTIO_BALLOON_F_REPORTING was negotiated): isolate every free block of
 * at least 2 MiB in the guest's buddy, send those not reported since they
 * were last allocated, 32 per notification, and free them all back.
 * vCPU 0; while it runs, the guest's free memory is held. Return pages
 * reported (0 when there is nothing new or no reporting).
 */
uint64_t gballoon_report_free(void);

void gballoon_get_info(struct gballoon_info *out);
/* The name of profile phase @phase ("blocks", "pages", ...). */
const char *gballoon_prof_name(unsigned phase);

#endif /* GUEST_VIRTIO_BALLOON_H */
