/* SPDX-License-Identifier: MIT */
/*
 * abi/virtio_blk.h - virtio-blk (virtio 1.x 5.2) constants and layouts shared
 * by the VMM's device (devices/virtio_blk.c) and the guest driver.
 *
 * Plain C with <stdint.h> only: the freestanding guest includes it. All
 * fields are little-endian (virtio 1.x); both sides are x86-64, so they are
 * used as native integers.
 *
 * A request is one chain: a device-readable struct virtio_blk_outhdr, then
 * the data (device-readable for OUT, DISCARD and WRITE_ZEROES, writable for
 * IN and GET_ID; none for FLUSH), then one device-writable status byte, the
 * last byte of the chain.
 */
#ifndef ABI_VIRTIO_BLK_H
#define ABI_VIRTIO_BLK_H

#include <stdint.h>

/* Sectors are always 512 bytes, whatever blk_size says (virtio 1.x 5.2.5). */
#define VIRTIO_BLK_SECTOR_SHIFT 9
#define VIRTIO_BLK_SECTOR_SIZE	(1u << VIRTIO_BLK_SECTOR_SHIFT)

/* Feature bits (virtio 1.x 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1 /* config size_max: max bytes per segment */
#define VIRTIO_BLK_F_SEG_MAX	  2 /* config seg_max: max data segments */
#define VIRTIO_BLK_F_GEOMETRY	  4 /* not offered */
#define VIRTIO_BLK_F_RO		  5 /* the disk is read-only */
#define VIRTIO_BLK_F_BLK_SIZE	  6 /* config blk_size */
#define VIRTIO_BLK_F_FLUSH	  9 /* VIRTIO_BLK_T_FLUSH */
#define VIRTIO_BLK_F_TOPOLOGY	  10 /* not offered */
#define VIRTIO_BLK_F_CONFIG_WCE	  11 /* not offered */
#define VIRTIO_BLK_F_MQ		  12 /* config num_queues */
#define VIRTIO_BLK_F_DISCARD	  13 /* VIRTIO_BLK_T_DISCARD */
#define VIRTIO_BLK_F_WRITE_ZEROES 14 /* VIRTIO_BLK_T_WRITE_ZEROES */
#define VIRTIO_BLK_F_LIFETIME	  15 /* not offered */
#define VIRTIO_BLK_F_SECURE_ERASE 16 /* not offered */

/* Request types (struct virtio_blk_outhdr.type). */
#define VIRTIO_BLK_T_IN		  0  /* read sectors */
#define VIRTIO_BLK_T_OUT	  1  /* write sectors */
#define VIRTIO_BLK_T_FLUSH	  4  /* completed writes to stable storage */
#define VIRTIO_BLK_T_GET_ID	  8  /* device id string, VIRTIO_BLK_ID_BYTES */
#define VIRTIO_BLK_T_GET_LIFETIME 10 /* not supported: UNSUPP */
#define VIRTIO_BLK_T_DISCARD	  11 /* segments of struct virtio_blk_discard */
#define VIRTIO_BLK_T_WRITE_ZEROES 13 /* segments of struct virtio_blk_discard */
#define VIRTIO_BLK_T_SECURE_ERASE 14 /* not supported: UNSUPP */

/* Status byte, the last byte of every request (device-writable). */
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* GET_ID answers this many bytes, NUL-padded (no NUL if exactly 20). */
#define VIRTIO_BLK_ID_BYTES 20

/* struct virtio_blk_discard.flags: WRITE_ZEROES may deallocate. */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

/* Device configuration layout (virtio 1.x 5.2.4), 72 bytes. */
struct virtio_blk_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp; /* physical block = blk_size << exp */
	uint8_t alignment_offset;   /* in logical blocks */
	uint16_t min_io_size;	    /* in logical blocks */
	uint32_t opt_io_size;	    /* in logical blocks */
};

struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max; /* SIZE_MAX: max bytes in one data segment */
	uint32_t seg_max;  /* SEG_MAX: max data segments in a request */
	struct virtio_blk_geometry geometry;
	uint32_t blk_size; /* BLK_SIZE: optimal (logical) block size */
	struct virtio_blk_topology topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues; /* MQ: number of request queues */
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
};

/* The request header, device-readable, first in every chain (16 bytes). */
struct virtio_blk_outhdr {
	uint32_t type;	   /* VIRTIO_BLK_T_* */
	uint32_t reserved; /* was ioprio; ignored */
	uint64_t sector;   /* IN/OUT: first 512-byte sector; 0 otherwise */
};

/* One DISCARD / WRITE_ZEROES range (16 bytes); a request carries an array. */
struct virtio_blk_discard {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags; /* VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP; other bits 0 */
};

/*
 * Queue indexes: request queue i is queue i, 0 .. num_queues - 1 (one per
 * vCPU in buddyvm). Without MQ there is one queue, 0.
 */
#define VIRTIO_BLK_Q_REQUEST0 0

_Static_assert(sizeof(struct virtio_blk_config) == 72, "virtio_blk_config");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr");
_Static_assert(sizeof(struct virtio_blk_discard) == 16, "virtio_blk_discard");

#endif /* ABI_VIRTIO_BLK_H */
