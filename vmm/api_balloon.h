/* SPDX-License-Identifier: MIT */
/*
 * vmm/api_balloon.h - what the control API asks of a balloon device: a
 * status snapshot and three thread-safe operations. The device fills them
 * (devices/virtio_balloon.c) and registers them with api_vm_set_balloon()
 * from its init, so vmm/ needs no device header.
 */
#ifndef VMM_API_BALLOON_H
#define VMM_API_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#define BALLOON_MAX_STATS 16

struct balloon_status {
	bool present;
	uint64_t target_pages, actual_pages; /* 4 KiB pages */
	uint64_t inflated_frames;	     /* host DB BALLOON count */
	/*
	 * The device's own count: pages it took in inflate notifications
	 * minus those given back in deflates. Equal to inflated_frames unless
	 * the two disagree (a bug: fuzz_balloon checks it).
	 */
	uint64_t held_pages;
	uint32_t nr_stats;
	struct {
		uint16_t tag;
		uint64_t val;
	} stats[BALLOON_MAX_STATS];
	uint64_t stats_age_ms; /* UINT64_MAX: never */
	uint64_t bad_pfns, oom_deflates, reported_pages;
	uint64_t stats_updates;	  /* stats buffers the guest returned */
	uint64_t device_failures; /* DEVICE_NEEDS_RESET protocol errors */
	/* Host huge pages released whole, in part, or kept (hugetlbfs). */
	uint64_t huge_released, partial_released, partial_kept;
	/*
	 * The host's share of inflating (--stats, docs/ballooning.md "Where
	 * the time goes"): inflate notifications handled, and the time spent
	 * handling them, of which releasing backing (guest_mem_discard()).
	 */
	uint64_t inflate_notifies, inflate_ns, discard_ns;
};

struct api_balloon_ops {
	/* 0, -ENODEV (no balloon) or -EINVAL (more than RAM or 32 bits). */
	int (*set_target)(uint64_t pages);
	void (*get_status)(struct balloon_status *out);
	/* The name of a guest statistic tag ("free_memory", ...). */
	const char *(*stat_name)(uint16_t tag);
};

#endif /* VMM_API_BALLOON_H */
