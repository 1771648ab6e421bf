/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_balloon_abi.h - virtio-balloon (virtio 1.x 5.5) and
 * virtio-console (5.3) constants shared by the VMM devices and the guest
 * drivers. Plain C with <stdint.h> only (the freestanding guest includes it).
 */
#ifndef DEVICES_VIRTIO_BALLOON_ABI_H
#define DEVICES_VIRTIO_BALLOON_ABI_H

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

/* The device-tree property naming a virtio device's pvmem DMA device id. */
#define VIRTIO_FDT_DMA_ID_PROP "buddyvm,dma-device-id"

/* virtio-console (virtio 1.x 5.3): port 0 receiveq 0, transmitq 1. */
#define VIRTIO_CONSOLE_Q_RX 0
#define VIRTIO_CONSOLE_Q_TX 1

/* pvmem DMA device ids of the VMM's virtio devices (1..63). */
#define VIRTIO_CONSOLE_DMA_ID 3
#define VIRTIO_BALLOON_DMA_ID 5

#endif /* DEVICES_VIRTIO_BALLOON_ABI_H */
