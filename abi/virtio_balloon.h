/* SPDX-License-Identifier: MIT */
/*
 * abi/virtio_balloon.h - virtio-balloon (virtio 1.x 5.5) constants shared
 * by the VMM device and the guest driver. Plain C with <stdint.h> only (the
 * freestanding guest includes it). Window, pin and DMA id: abi/layout.h.
 */
#ifndef ABI_VIRTIO_BALLOON_H
#define ABI_VIRTIO_BALLOON_H

#include <stdint.h>

/* Feature bits (virtio 1.x 5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ	1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON	4
#define VIRTIO_BALLOON_F_REPORTING	5

/* Balloon PFNs are always 4 KiB units, whatever the guest's page size. */
#define VIRTIO_BALLOON_PFN_SHIFT 12

/*
 * Queue indexes: inflateq 0, deflateq 1, then the optional queues in spec
 * order, numbered only when their feature is negotiated (as Linux and QEMU
 * do): statsq (STATS_VQ), reporting_vq (REPORTING). FREE_PAGE_HINT is not
 * offered, so its queue never exists.
 */
#define VIRTIO_BALLOON_Q_INFLATE 0
#define VIRTIO_BALLOON_Q_DEFLATE 1

/* Device configuration layout (virtio 1.x 5.5.4), little-endian. */
struct virtio_balloon_config {
	uint32_t num_pages; /* target, written by the device */
	uint32_t actual;    /* pages in the balloon, written by the driver */
};

/* Memory statistics (virtio 1.x 5.5.6.3): 10-byte packed tag/value pairs. */
#define VIRTIO_BALLOON_S_SWAP_IN      0
#define VIRTIO_BALLOON_S_SWAP_OUT     1
#define VIRTIO_BALLOON_S_MAJFLT	      2
#define VIRTIO_BALLOON_S_MINFLT	      3
#define VIRTIO_BALLOON_S_MEMFREE      4
#define VIRTIO_BALLOON_S_MEMTOT	      5
#define VIRTIO_BALLOON_S_AVAIL	      6
#define VIRTIO_BALLOON_S_CACHES	      7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC 8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL  9
#define VIRTIO_BALLOON_S_NR	      10

struct virtio_balloon_stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

#endif /* ABI_VIRTIO_BALLOON_H */
