// SPDX-License-Identifier: MIT
/*
 * devices/blk_uring.c - io_uring through its three system calls.
 *
 * The kernel and we share two rings: we write submission entries (SQEs) and
 * advance the SQ tail, the kernel consumes them and posts completions
 * (CQEs) at the CQ tail, which we consume by advancing the CQ head. The
 * tails we publish are stored with release semantics (the entry is
 * complete before the kernel can see the new tail), the kernel's tails are
 * loaded with acquire (its entry is complete before we read it).
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices/blk_uring.h"

static int uring_setup(unsigned entries, struct io_uring_params *p)
{
	long fd = syscall(__NR_io_uring_setup, entries, p);

	return fd < 0 ? -errno : (int)fd;
}

static int uring_enter(int fd, unsigned to_submit, unsigned min_complete,
		       unsigned flags)
{
	long n = syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			 flags, NULL, 0);

	return n < 0 ? -errno : (int)n;
}

static void *uring_map(int fd, size_t len, off_t offset)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, offset);

	return p == MAP_FAILED ? NULL : p;
}

static int uring_map_rings(struct blk_uring *u, const struct io_uring_params *p)
{
	u->sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	u->cq_len =
		p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	u->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
	u->sq_map = uring_map(u->fd, u->sq_len, IORING_OFF_SQ_RING);
	u->cq_map = uring_map(u->fd, u->cq_len, IORING_OFF_CQ_RING);
	u->sqes_map = uring_map(u->fd, u->sqes_len, IORING_OFF_SQES);
	if (!u->sq_map || !u->cq_map || !u->sqes_map)
		return -ENOMEM;
	u->sq_head = (unsigned *)((char *)u->sq_map + p->sq_off.head);
	u->sq_tail = (unsigned *)((char *)u->sq_map + p->sq_off.tail);
	u->sq_mask = (unsigned *)((char *)u->sq_map + p->sq_off.ring_mask);
	u->sq_array = (unsigned *)((char *)u->sq_map + p->sq_off.array);
	u->cq_head = (unsigned *)((char *)u->cq_map + p->cq_off.head);
	u->cq_tail = (unsigned *)((char *)u->cq_map + p->cq_off.tail);
	u->cq_mask = (unsigned *)((char *)u->cq_map + p->cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_map + p->cq_off.cqes);
	u->sqes = u->sqes_map;
	return 0;
}

/*
 * The kernel runs a ring's requests itself, so the I/O thread's seccomp
 * filter (vmm/seccomp.c) never sees them: without restrictions a thread
 * that may call io_uring_enter() could open, connect or send anything
 * through an SQE. The ring is created disabled, restricted to the two
 * operations this file issues (IORING_OP_READV, IORING_OP_WRITEV) with no
 * SQE flags and no further io_uring_register() call, then enabled; any
 * other SQE completes with -EACCES.
 */
static int uring_restrict(int fd)
{
	struct io_uring_restriction res[2];
	long r;

	memset(res, 0, sizeof(res));
	res[0].opcode = IORING_RESTRICTION_SQE_OP;
	res[0].sqe_op = IORING_OP_READV;
	res[1].opcode = IORING_RESTRICTION_SQE_OP;
	res[1].sqe_op = IORING_OP_WRITEV;
	r = syscall(__NR_io_uring_register, fd, IORING_REGISTER_RESTRICTIONS,
		    res, 2);
	if (r == 0)
		r = syscall(__NR_io_uring_register, fd,
			    IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r < 0 ? -errno : 0;
}

int blk_uring_init(struct blk_uring *u, unsigned entries)
{
	struct io_uring_params p;
	int err;

	memset(u, 0, sizeof(*u));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	u->fd = uring_setup(entries, &p);
	if (u->fd < 0) {
		err = u->fd;
		u->fd = -1;
		/* Disabled by sysctl or seccomp: the same as absent. */
		return err == -EPERM ? -ENOSYS : err;
	}
	u->entries = p.sq_entries;
	err = uring_restrict(u->fd);
	if (!err)
		err = uring_map_rings(u, &p);
	if (err)
		blk_uring_exit(u);
	return err;
}

void blk_uring_exit(struct blk_uring *u)
{
	if (u->sqes_map)
		munmap(u->sqes_map, u->sqes_len);
	if (u->cq_map)
		munmap(u->cq_map, u->cq_len);
	if (u->sq_map)
		munmap(u->sq_map, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

int blk_uring_queue_rw(struct blk_uring *u, int fd, const struct iovec *iov,
		       unsigned nr, off_t off, bool write, int rw_flags,
		       uint64_t user_data)
{
	unsigned tail = *u->sq_tail + u->queued;
	unsigned slot = tail & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[slot];

	if (u->queued == u->entries)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = write ? IORING_OP_WRITEV : IORING_OP_READV;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)iov;
	sqe->len = nr;
	sqe->off = (uint64_t)off;
	sqe->rw_flags = rw_flags;
	sqe->user_data = user_data;
	u->sq_array[slot] = slot;
	u->queued++;
	return 0;
}

/* Consume every posted completion; return how many. */
static unsigned uring_reap(struct blk_uring *u, blk_uring_done_fn done,
			   void *opaque)
{
	unsigned head = *u->cq_head;
	unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	for (; head != tail; head++, n++) {
		const struct io_uring_cqe *cqe = &u->cqes[head & *u->cq_mask];

		done(opaque, cqe->user_data, cqe->res);
	}
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	return n;
}

int blk_uring_run(struct blk_uring *u, blk_uring_done_fn done, void *opaque)
{
	unsigned pending = u->queued;
	unsigned to_submit = u->queued;
	int n;

	if (!pending)
		return 0;
	/* The entries are written before the kernel sees the new tail. */
	__atomic_store_n(u->sq_tail, *u->sq_tail + u->queued, __ATOMIC_RELEASE);
	u->queued = 0;
	while (pending) {
		n = uring_enter(u->fd, to_submit, 1, IORING_ENTER_GETEVENTS);
		if (n < 0 && n != -EINTR && n != -EAGAIN && n != -EBUSY)
			return n;
		if (n > 0)
			to_submit -= (unsigned)n < to_submit ? (unsigned)n
							     : to_submit;
		pending -= uring_reap(u, done, opaque);
	}
	return 0;
}
