// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_blk_uring.c - the disk's io_uring (devices/blk_uring.c):
 * a read and a write go through it, and every other operation is refused
 * by the ring's registered restrictions (the kernel runs SQEs outside the
 * I/O thread's seccomp filter, so the ring must not be a way around it).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/blk_uring.h"
#include "tests/unit/unit.h"

struct done {
	unsigned n;
	uint64_t user_data;
	int32_t res;
};

static void record(void *opaque, uint64_t user_data, int32_t res)
{
	struct done *d = opaque;

	d->n++;
	d->user_data = user_data;
	d->res = res;
}

/* A ring, or skip the test where the kernel has no io_uring. */
static bool ring_or_skip(struct blk_uring *u)
{
	int err = blk_uring_init(u, 4);

	if (err == -ENOSYS)
		return false;
	ck_assert_int_eq(err, 0);
	return true;
}

/* Queue one raw SQE of @opcode, as a hostile thread could. */
static void queue_raw(struct blk_uring *u, uint8_t opcode, int fd,
		      uint64_t addr, uint64_t user_data)
{
	unsigned slot = (*u->sq_tail + u->queued) & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[slot];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->fd = fd;
	sqe->addr = addr;
	sqe->user_data = user_data;
	u->sq_array[slot] = slot;
	u->queued++;
}

START_TEST(test_uring_read_write)
{
	char path[] = "/tmp/buddyvm-uring-XXXXXX", buf[512], back[512];
	struct iovec iov = {buf, sizeof(buf)}, iov2 = {back, sizeof(back)};
	struct done d = {0};
	struct blk_uring u;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	if (!ring_or_skip(&u)) {
		close(fd);
		return;
	}
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(blk_uring_queue_rw(&u, fd, &iov, 1, 0, true, 0, 1), 0);
	ck_assert_int_eq(blk_uring_run(&u, record, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.res, (int32_t)sizeof(buf));
	ck_assert_int_eq(blk_uring_queue_rw(&u, fd, &iov2, 1, 0, false, 0, 2),
			 0);
	ck_assert_int_eq(blk_uring_run(&u, record, &d), 0);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_int_eq(d.res, (int32_t)sizeof(back));
	ck_assert_mem_eq(buf, back, sizeof(buf));
	blk_uring_exit(&u);
	close(fd);
}
END_TEST

/*
 * openat, a socket's connect, a NOP and a plain read are not READV/WRITEV:
 * each completes with -EACCES and nothing is opened.
 */
START_TEST(test_uring_refuses_other_ops)
{
	static const uint8_t ops[] = {IORING_OP_OPENAT, IORING_OP_CONNECT,
				      IORING_OP_NOP, IORING_OP_READ};
	struct done d = {0};
	struct blk_uring u;

	if (!ring_or_skip(&u))
		return;
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		queue_raw(&u, ops[i], AT_FDCWD,
			  (uint64_t)(uintptr_t) "/etc/passwd", 10 + i);
		ck_assert_int_eq(blk_uring_run(&u, record, &d), 0);
		ck_assert_uint_eq(d.n, i + 1);
		ck_assert_uint_eq(d.user_data, 10 + i);
		ck_assert_int_eq(d.res, -EACCES);
	}
	blk_uring_exit(&u);
}
END_TEST

static Suite *blk_uring_suite(void)
{
	Suite *s = suite_create("blk_uring");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_uring_read_write);
	tcase_add_test(tc, test_uring_refuses_other_ops);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(blk_uring_suite)
