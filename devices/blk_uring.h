/* SPDX-License-Identifier: MIT */
/*
 * devices/blk_uring.h - a minimal io_uring (raw system calls, no liburing)
 * for the virtio-blk I/O threads: queue a batch of readv/writev, submit it
 * with one io_uring_enter() and wait for all of it. One ring per I/O
 * thread; not thread-safe.
 *
 * Used for `--disk PATH,direct` images, where a request waits for the
 * device and keeping the whole batch in flight pays (docs/virtio.md,
 * "virtio-blk: I/O thread or io_uring").
 */
#ifndef DEVICES_BLK_URING_H
#define DEVICES_BLK_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct blk_uring {
	int fd;
	unsigned entries;
	unsigned queued; /* SQEs written since the last submit */
	void *sq_map, *cq_map, *sqes_map;
	size_t sq_len, cq_len, sqes_len;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

/**
 * blk_uring_init() - a ring of @entries (a power of two) submission slots.
 * The ring accepts only IORING_OP_READV and IORING_OP_WRITEV (registered
 * restrictions: the kernel runs SQEs outside the thread's seccomp filter).
 * Return: 0, or a negative errno (-ENOSYS: the kernel has no io_uring, or
 * it is disabled: callers fall back to synchronous I/O).
 */
int blk_uring_init(struct blk_uring *u, unsigned entries);
void blk_uring_exit(struct blk_uring *u);

/**
 * blk_uring_queue_rw() - queue preadv/pwritev2(@fd, @iov, @nr, @off,
 * @rw_flags) with @user_data. @iov must stay valid until the completion.
 * Return: 0, or -EBUSY when @entries requests are already queued.
 */
int blk_uring_queue_rw(struct blk_uring *u, int fd, const struct iovec *iov,
		       unsigned nr, off_t off, bool write, int rw_flags,
		       uint64_t user_data);

/*
 * Called for each completion: @res is the byte count or a negative errno.
 */
typedef void (*blk_uring_done_fn)(void *opaque, uint64_t user_data,
				  int32_t res);

/**
 * blk_uring_run() - submit everything queued and wait until all of it has
 * completed, calling @done for each completion.
 * Return: 0, or a negative errno from io_uring_enter() (the requests not
 * yet completed are then reported to @done with that errno).
 */
int blk_uring_run(struct blk_uring *u, blk_uring_done_fn done, void *opaque);

#endif /* DEVICES_BLK_URING_H */
