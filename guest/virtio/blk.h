/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/blk.h - the guest's virtio-blk driver (virtio 1.x 5.2) on the
 * virtio library: one request queue per vCPU with VIRTIO_BLK_F_MQ, many
 * requests in flight, one notification per batch (EVENT_IDX), completion
 * by the used ring (polled, then an interrupt with EVENT_IDX's used_event).
 *
 * Data buffers come from the disk's DMA memory (gblk_dma_alloc()): one
 * contiguous buffer is one descriptor, split only where the device's
 * size_max asks. Queue q is used only by vCPU q, so no locks: each vCPU
 * submits, kicks, reaps and waits on its own queue.
 */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/virtio_blk.h"
#include "guest/virtio/virtio_guest.h"

/* req->status while the request is in flight. */
#define GBLK_S_PENDING 0xffu

struct gblk_req {
	/* Set by the caller. */
	uint32_t type;	 /* VIRTIO_BLK_T_* */
	uint64_t sector; /* IN, OUT: first 512-byte sector */
	void *buf;	 /* DMA memory of the disk, or NULL for FLUSH */
	uint32_t len;	 /* bytes; IN/OUT: a multiple of 512 */
	void *priv;	 /* the caller's */
	bool raw;	 /* skip the driver's checks: the device judges */
	/* Set by the driver when the device returns it. */
	uint8_t status;	  /* VIRTIO_BLK_S_*, GBLK_S_PENDING in flight */
	uint32_t written; /* bytes the device wrote (the used length) */
};

struct gblk_info {
	uint64_t capacity; /* 512-byte sectors */
	uint64_t features; /* negotiated */
	uint32_t blk_size;
	uint32_t size_max; /* bytes per data descriptor (0: no limit) */
	uint32_t seg_max;  /* data descriptors per request */
	uint32_t max_discard_sectors, max_discard_seg;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	unsigned nr_queues;
	unsigned queue_size;
	uint64_t max_transfer; /* bytes of one IN/OUT request */
	bool read_only;
};

struct gblk_stats {
	uint64_t submitted, completed, kicks, notifies, waits, halts;
};

struct gblk_disk;

/**
 * gblk_open() - probe the @instance-th virtio-blk device (FDT order),
 * negotiate the features in @wanted (0: all the driver knows), set up
 * min(num_queues, vCPUs) queues and DRIVER_OK. The guest's memory stack
 * must be up (guest_mm_init()). vCPU 0.
 * Return: 0 and *@out, -ENOENT (no such disk), or the probe's error.
 */
int gblk_open(unsigned instance, uint64_t wanted, struct gblk_disk **out);

/**
 * gblk_close() - reset the device, then give back the request slots. Hosted,
 * the reset released every DMA block of the disk on the host (rings,
 * slots, and any buffer still held); native, the slots go back to the
 * guest's buddy and the library keeps the rings for the next probe.
 * Requests in flight are lost; free your gblk_dma_alloc() buffers first.
 */
void gblk_close(struct gblk_disk *d);

const struct gblk_info *gblk_info(const struct gblk_disk *d);
struct gv_dev *gblk_gv(struct gblk_disk *d); /* for blk-hostile */
void gblk_get_stats(const struct gblk_disk *d, struct gblk_stats *out);

/* Data buffers the device may reach: dma_alloc_coherent() of the disk. */
int gblk_dma_alloc(struct gblk_disk *d, uint64_t bytes, void **buf);
int gblk_dma_free(struct gblk_disk *d, uint64_t bytes, void *buf);

/**
 * gblk_submit() - put @r on queue @q (no notification: gblk_kick()).
 * Return: 0; -ENOSPC (queue full: reap first); -EINVAL (bad type, length,
 * buffer); -EOPNOTSUPP (type not negotiated); -EROFS (write to a read-only
 * disk); -E2BIG (more segments than seg_max).
 */
int gblk_submit(struct gblk_disk *d, unsigned q, struct gblk_req *r);

/* Notify the device of what was submitted on @q, if it wants to know. */
void gblk_kick(struct gblk_disk *d, unsigned q);

/**
 * gblk_reap() - take up to @max completed requests of @q into @done, each
 * with its status and written set. No VM exit.
 * Return: how many.
 */
unsigned gblk_reap(struct gblk_disk *d, unsigned q, struct gblk_req **done,
		   unsigned max);

/* Requests of @q in flight (submitted, not yet reaped). */
unsigned gblk_inflight(const struct gblk_disk *d, unsigned q);

/**
 * gblk_wait() - wait until at least min(@n, in flight) requests of @q can
 * be reaped: poll the used ring a while, then ask for an interrupt once @n
 * are used and halt. Return 0, -EIO (the device needs a reset: the
 * requests will not come back) or -ETIMEDOUT (nothing for @timeout_ms).
 */
int gblk_wait(struct gblk_disk *d, unsigned q, unsigned n, unsigned timeout_ms);

/**
 * gblk_rw() - one synchronous request on @q: submit, kick, wait, reap.
 * Return: the status byte (VIRTIO_BLK_S_*), or a negative error of
 * gblk_submit()/gblk_wait().
 */
int gblk_rw(struct gblk_disk *d, unsigned q, struct gblk_req *r);

/**
 * gblk_set_poll_us() - how long gblk_wait() polls the used ring before it
 * halts (default 50 us).
 * Polling saves a halt and a wakeup interrupt (VM exits) when the device
 * answers quickly, and takes a host CPU from the device's I/O thread
 * meanwhile: on a busy host, less is better.
 */
void gblk_set_poll_us(struct gblk_disk *d, unsigned us);

/* Is DEVICE_NEEDS_RESET set? One VM exit. */
bool gblk_needs_reset(struct gblk_disk *d);

#endif /* GUEST_VIRTIO_BLK_H */
