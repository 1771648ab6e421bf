/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_balloon.h - the virtio-balloon device (virtio 1.x 5.5) over
 * the VM's host page database: inflated frames go GUEST -> BALLOON and lose
 * their host backing, deflated ones come back GUEST (zero-filled on touch);
 * in the hosted memory model the page limit follows the balloon. Also keeps
 * the guest's last memory statistics and discards reported free pages.
 *
 * Two layers:
 *  - an instance (struct virtio_balloon) built from explicit parameters, so
 *    unit tests can drive it without KVM;
 *  - the VM's one balloon (initcalls for devices/device_table.c and the
 *    thread-safe control interface the API calls).
 */
#ifndef DEVICES_VIRTIO_BALLOON_H
#define DEVICES_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/virtio_balloon.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_vm.h"
#include "vmm/api_balloon.h"

struct mm;
struct vm;
struct vm_stats_ops;

/*
 * The VM's balloon (thread-safe; the API thread calls these through the
 * struct api_balloon_ops its init registers, vmm/api_balloon.h).
 */

/**
 * virtio_balloon_set_target() - ask the guest to hold @pages 4 KiB pages in
 * the balloon: updates num_pages and sends a config interrupt.
 * Return: 0, -ENODEV (no balloon in this VM) or -EINVAL (@pages more than
 * the guest's RAM or than the 32-bit config field holds).
 */
int virtio_balloon_set_target(uint64_t pages);

/* A snapshot of the VM's balloon; present == false when there is none. */
void virtio_balloon_get_status(struct balloon_status *out);

/* "swap_in", "memfree", ... for VIRTIO_BALLOON_S_*; "unknown" otherwise. */
const char *virtio_balloon_stat_name(uint16_t tag);

/* Initcalls (devices/device_table.c, VM_LEVEL_DEVICE) and --stats lines. */
int virtio_balloon_vm_init(struct vm *vm);
void virtio_balloon_vm_exit(struct vm *vm);
extern const struct vm_stats_ops virtio_balloon_vm_stats;

/* The instance layer ------------------------------------------------------ */

struct virtio_balloon_params {
	/* RAM (discard, translate), pvmem (hosted; NULL: native), window. */
	struct virtio_vm_link link;
	struct mm *mm;		    /* the VM's page database */
	uint64_t ram_pages;	    /* bound for the target */
	uint64_t initial_target;    /* pages, set before the guest boots */
	unsigned stats_interval_ms; /* 0: only on demand */
};

struct virtio_balloon;

/**
 * virtio_balloon_create() - a balloon device in its reset state.
 * @p: copied; mm, link.mem (and link.pvmem) must outlive the device.
 * Return: 0 and *@out (free with virtio_balloon_destroy()), -EINVAL or
 * -ENOMEM. Frames still in the balloon when it is destroyed stay BALLOON.
 */
int virtio_balloon_create(const struct virtio_balloon_params *p,
			  struct virtio_balloon **out);
void virtio_balloon_destroy(struct virtio_balloon *b);

/* The transport instance: its virtio_mmio_access() is the bus handler. */
struct virtio_mmio_dev *virtio_balloon_mmio(struct virtio_balloon *b);

int virtio_balloon_dev_set_target(struct virtio_balloon *b, uint64_t pages);
void virtio_balloon_dev_get_status(struct virtio_balloon *b,
				   struct balloon_status *out);

/**
 * virtio_balloon_dev_request_stats() - give the guest's stats buffer back
 * (used-buffer interrupt), which asks it for fresh statistics (virtio 1.x
 * 5.5.6.3). Return 0, or -EAGAIN when the guest has no buffer queued.
 */
int virtio_balloon_dev_request_stats(struct virtio_balloon *b);

#endif /* DEVICES_VIRTIO_BALLOON_H */
