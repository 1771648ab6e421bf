/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_blk.h - virtio-blk (virtio 1.x 5.2) over a raw image file.
 *
 * One device per image. The guest's requests are served off the vCPU
 * threads: a notification only wakes the queue's I/O thread, which pops the
 * available chains, runs their preadv/pwritev/fdatasync/fallocate directly
 * on the guest's buffers (no bounce copy) and completes them with one
 * interrupt per batch. Layouts and constants: abi/virtio_blk.h.
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio_mmio.h"
#include "devices/virtio_vm.h"

/* Limits the device advertises (config space). */
#define VIRTIO_BLK_QUEUE_SIZE	   256u
#define VIRTIO_BLK_SEG_MAX	   126u	      /* data segments per request */
#define VIRTIO_BLK_SIZE_MAX	   (4u << 20) /* bytes per data segment */
#define VIRTIO_BLK_DWZ_MAX_SECTORS (1u << 22) /* per discard/zeroes range */
#define VIRTIO_BLK_DWZ_MAX_SEG	   32u	      /* ranges per request */
#define VIRTIO_BLK_DISCARD_ALIGN   8u	      /* sectors (4 KiB) */

struct virtio_blk_params {
	const char *name; /* "blk0": log prefix */
	const char *path; /* the raw image */
	bool readonly;	  /* open O_RDONLY, offer VIRTIO_BLK_F_RO */
	bool direct;	  /* O_DIRECT for aligned requests (bypass the cache) */
	unsigned nr_queues; /* 1 .. VIRTIO_MMIO_MAX_QUEUES (one per vCPU) */
	/*
	 * RAM, DMA id, window, pin, interrupt and log (devices/virtio_vm.h);
	 * copied into the device, which the transport points at.
	 */
	struct virtio_vm_link link;
};

/* What a disk counted since it was created. */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t io_errors;    /* host I/O errors (EIO, ENOSPC...) -> IOERR */
	uint64_t bad_requests; /* guest errors answered IOERR */
	uint64_t unsupported;  /* answered UNSUPP */
	uint64_t failures;     /* protocol errors: NEEDS_RESET */
	uint64_t capacity;     /* sectors */
};

struct virtio_blk;

/**
 * virtio_blk_create() - open and lock the image, and start the device (one
 * I/O thread per queue) in its reset state.
 * @p: copied (strings too).
 * @err: on failure, one line saying what is wrong with the image.
 *
 * The image must be a regular file of a nonzero multiple of 512 bytes. It is
 * locked with an OFD lock, shared when @p->readonly, exclusive otherwise, so
 * two VMMs cannot open one image read-write.
 *
 * Return: 0 and *@out (free with virtio_blk_destroy()); -ENOENT, -EACCES
 * (cannot open), -EINVAL (not a usable image, bad params), -EBUSY (locked
 * by another process), -ENOMEM.
 */
int virtio_blk_create(const struct virtio_blk_params *p,
		      struct virtio_blk **out, char *err, size_t errlen);

/* Stop the I/O threads (after their current request), close the image. */
void virtio_blk_destroy(struct virtio_blk *b);

struct virtio_mmio_dev *virtio_blk_mmio(struct virtio_blk *b);

/* A consistent-enough snapshot of the counters (each read atomically). */
void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *st);

struct vm;
struct vm_stats_ops;

/* The VM's disks (vm->cfg.disks): initcalls (VM_LEVEL_DEVICE). */
int virtio_blk_vm_init(struct vm *vm);
void virtio_blk_vm_exit(struct vm *vm);

/* Disk @i of the VM's --disk list: false when there is none. */
bool virtio_blk_vm_stats(unsigned i, struct virtio_blk_stats *st);

/* The disks' blkN_* lines in --stats ("== virtio =="). */
extern const struct vm_stats_ops virtio_blk_vm_stats_ops;

#endif /* DEVICES_VIRTIO_BLK_H */
