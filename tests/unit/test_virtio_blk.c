// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_virtio_blk.c - virtio-blk over a temporary raw image, on
 * the pvmem fixture (buffers must lie in the device's DMA blocks): the
 * request parser and every error path, checked against the image's bytes.
 *
 * The device completes requests on its I/O threads; the tests wait for the
 * used index to reach the expected value (a state, with a deadline).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abi/blk_pattern.h"
#include "abi/virtio_blk.h"
#include "devices/pvmem.h"
#include "devices/virtio_blk.h"
#include "pvmem_fx.h"
#include "unit.h"
#include "vmm/guest_mem.h"

#define BLK_ID	    7
#define QSIZE	    128
#define NR_QUEUES   2
#define IMG_SECTORS 2048 /* 1 MiB */
#define IMG_BYTES   (IMG_SECTORS * 512ull)
#define AREA_BYTES  (4ull << 20)
#define DATA_OFF    (64ull << 10) /* data buffers after the rings */
#define SEED	    42

static struct {
	char path[PATH_MAX];
	struct virtio_blk *b;
	struct virtio_mmio_dev *dev;
	uint64_t area;
	uint16_t avail[NR_QUEUES];
	uint16_t next_desc[NR_QUEUES];
	unsigned irqs;
	unsigned logs;
	char last_log[256];
} t;

static void blk_irq(void *opaque, uint32_t irq, bool level)
{
	if (level)
		__atomic_fetch_add(&t.irqs, 1, __ATOMIC_RELAXED);
}

static void blk_logline(void *opaque, const char *line)
{
	t.logs++;
	snprintf(t.last_log, sizeof(t.last_log), "%s", line);
}

static void wr(uint64_t off, uint32_t v)
{
	ck_assert_int_eq(virtio_mmio_access(t.dev, off, &v, 4, true), 0);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	ck_assert_int_eq(virtio_mmio_access(t.dev, off, &v, 4, false), 0);
	return v;
}

static uint64_t ring(unsigned q)
{
	return t.area + q * 16384ull;
}

static void *gp(uint64_t gpa)
{
	return fx_ptr(gpa);
}

static uint64_t data(uint64_t off)
{
	return t.area + DATA_OFF + off;
}

static void make_image(const char *path, uint64_t bytes)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)bytes), 0);
	close(fd);
}

static uint64_t device_features(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* The driver's side of the handshake; @want is masked by what is offered. */
static void driver_init(uint64_t want)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t f = want & device_features();

	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	st |= VIRTIO_STATUS_FEATURES_OK;
	wr(VIRTIO_MMIO_STATUS, st);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), st);
	memset(gp(t.area), 0, DATA_OFF);
	for (unsigned q = 0; q < NR_QUEUES; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)ring(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)ring(q) + 4096);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)ring(q) + 8192);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
		t.avail[q] = 0;
		t.next_desc[q] = 0;
	}
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
}

#define WANT_FEATURES                                                          \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |     \
	 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |                                    \
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX))

static bool create_direct; /* the next create_disk() opens O_DIRECT */
static bool create_native; /* ... and without pvmem: any RAM is DMA */

static int create_disk(const char *path, bool readonly, struct virtio_blk **b,
		       char *err, size_t errlen)
{
	struct virtio_blk_params p = {
		.name = "blk0",
		.path = path,
		.readonly = readonly,
		.direct = create_direct,
		.nr_queues = NR_QUEUES,
		.link = {.mem = &fx.mem,
			 .pvmem = create_native ? NULL : fx.p,
			 .mm = fx.mm,
			 .dma_device_id = BLK_ID,
			 .base = 0xd0002000ull,
			 .irq = 18,
			 .irq_set = blk_irq,
			 .log = blk_logline},
	};

	return virtio_blk_create(&p, b, err, errlen);
}

static void start(bool readonly)
{
	char err[256] = "";

	ck_assert_msg(create_disk(t.path, readonly, &t.b, err, sizeof(err)) ==
			      0,
		      "%s", err);
	t.dev = virtio_blk_mmio(t.b);
	ck_assert_int_eq(fx_dma_alloc(BLK_ID, AREA_BYTES, 32, &t.area), 0);
	driver_init(WANT_FEATURES);
}

static void setup(void)
{
	int fd;

	fx_setup();
	memset(&t, 0, sizeof(t));
	create_direct = false;
	create_native = false;
	/* $TMPDIR: e.g. a filesystem with 4 KiB O_DIRECT alignment. */
	snprintf(t.path, sizeof(t.path), "%s/test-virtio-blk.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(t.path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	make_image(t.path, IMG_BYTES);
	start(false);
}

static void teardown(void)
{
	virtio_blk_destroy(t.b);
	unlink(t.path);
	fx_teardown();
}

/* One descriptor of a chain being built on queue @q. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Post a chain of @n descriptors on @q (no kick); return its head. */
static uint16_t post(unsigned q, const struct seg *s, unsigned n)
{
	struct virtq_desc *d = gp(ring(q));
	struct virtq_avail *av = gp(ring(q) + 4096);
	uint16_t head = t.next_desc[q];

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);

		d[idx] = (struct virtq_desc){
			.addr = s[i].gpa,
			.len = s[i].len,
			.flags =
				(uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE
						       : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % QSIZE),
		};
	}
	t.next_desc[q] = (uint16_t)((head + n) % QSIZE);
	av->ring[t.avail[q] % QSIZE] = head;
	__atomic_store_n(&av->idx, ++t.avail[q], __ATOMIC_RELEASE);
	return head;
}

static uint16_t used_idx(unsigned q)
{
	struct virtq_used *u = gp(ring(q) + 8192);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

static struct virtq_used_elem used_elem(unsigned q, uint16_t i)
{
	struct virtq_used *u = gp(ring(q) + 8192);

	return u->ring[i % QSIZE];
}

/* Kick @q and wait (up to 10 s) until its used index reaches @want. */
static void kick_wait(unsigned q, uint16_t want)
{
	struct timespec t0, now;

	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (used_idx(q) != want) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - t0.tv_sec < 10,
			      "queue %u: used idx %u, waited for %u", q,
			      used_idx(q), want);
		sched_yield();
	}
}

/* Wait (up to 10 s) until the device asks for a reset. */
static void wait_needs_reset(void)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - t0.tv_sec < 10, "no NEEDS_RESET");
		sched_yield();
	}
}

/* Header at data(0), status at data(16), payload at data(4096). */
#define HDR_GPA	   data(0)
#define STATUS_GPA data(16)
#define BUF_GPA	   data(4096)

static uint8_t *status_byte(void)
{
	return gp(STATUS_GPA);
}

/*
 * One request with a payload of @len bytes at BUF_GPA (none when 0) on queue
 * @q; wait for it and return the status byte; *@written gets the used len.
 */
static uint8_t request_q(unsigned q, uint32_t type, uint64_t sector,
			 uint32_t len, bool payload_write, uint32_t *written)
{
	struct virtio_blk_outhdr *h = gp(HDR_GPA);
	struct seg s[3];
	unsigned n = 0;
	uint16_t want = (uint16_t)(used_idx(q) + 1);
	struct virtq_used_elem e;

	*h = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	*status_byte() = 0xee;
	s[n++] = (struct seg){HDR_GPA, sizeof(*h), false};
	if (len)
		s[n++] = (struct seg){BUF_GPA, len, payload_write};
	s[n++] = (struct seg){STATUS_GPA, 1, true};
	post(q, s, n);
	kick_wait(q, want);
	e = used_elem(q, (uint16_t)(want - 1));
	if (written)
		*written = e.len;
	return *status_byte();
}

static uint8_t request(uint32_t type, uint64_t sector, uint32_t len,
		       bool payload_write)
{
	return request_q(0, type, sector, len, payload_write, NULL);
}

static void host_pread(uint64_t off, void *buf, size_t len)
{
	int fd = open(t.path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static struct virtio_blk_stats stats(void)
{
	struct virtio_blk_stats st;

	virtio_blk_get_stats(t.b, &st);
	return st;
}

START_TEST(test_config_and_features)
{
	struct virtio_blk_config cfg;
	uint64_t f = device_features();

	for (unsigned off = 0; off < sizeof(cfg); off += 4)
		ck_assert_int_eq(
			virtio_mmio_access(t.dev, VIRTIO_MMIO_CONFIG + off,
					   (char *)&cfg + off, 4, false),
			0);
	ck_assert_uint_eq(cfg.capacity, IMG_SECTORS);
	ck_assert_uint_eq(cfg.seg_max, VIRTIO_BLK_SEG_MAX);
	ck_assert_uint_eq(cfg.size_max, VIRTIO_BLK_SIZE_MAX);
	ck_assert_uint_eq(cfg.blk_size, 512);
	ck_assert_uint_eq(cfg.num_queues, NR_QUEUES);
	ck_assert_uint_eq(cfg.max_discard_seg, VIRTIO_BLK_DWZ_MAX_SEG);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	ck_assert(f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
	/* Config space ends at the struct: beyond it reads are refused. */
	ck_assert_int_eq(virtio_mmio_access(t.dev,
					    VIRTIO_MMIO_CONFIG + sizeof(cfg),
					    &cfg, 4, false),
			 -EINVAL);
}
END_TEST

START_TEST(test_write_read_roundtrip)
{
	uint8_t *buf = gp(BUF_GPA);
	uint8_t host[8192];
	uint32_t written;

	blk_pattern_fill(buf, 100 * 512, 8192, SEED);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 100, 8192, false),
			  VIRTIO_BLK_S_OK);
	host_pread(100 * 512, host, sizeof(host));
	ck_assert_uint_eq(blk_pattern_check(host, 100 * 512, 8192, SEED), 8192);
	memset(buf, 0, 8192);
	ck_assert_uint_eq(
		request_q(0, VIRTIO_BLK_T_IN, 100, 8192, true, &written),
		VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(written, 8192 + 1);
	ck_assert_uint_eq(blk_pattern_check(buf, 100 * 512, 8192, SEED), 8192);
	ck_assert_uint_eq(stats().reads, 1);
	ck_assert_uint_eq(stats().writes, 1);
	ck_assert_uint_eq(stats().bytes_written, 8192);
	ck_assert_uint_ge(t.irqs, 2);
}
END_TEST

/* Header, data and status may be framed any way: here in one buffer each. */
START_TEST(test_any_framing)
{
	struct virtio_blk_outhdr *h = gp(data(8192));
	uint8_t host[1024];
	struct seg s[2];

	*h = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT, .sector = 7};
	blk_pattern_fill((char *)h + 16, 7 * 512, 1024, SEED);
	s[0] = (struct seg){data(8192), 16 + 1024, false};
	s[1] = (struct seg){data(16384), 1, true};
	*(uint8_t *)gp(data(16384)) = 0xee;
	post(0, s, 2);
	kick_wait(0, 1);
	ck_assert_uint_eq(*(uint8_t *)gp(data(16384)), VIRTIO_BLK_S_OK);
	host_pread(7 * 512, host, sizeof(host));
	ck_assert_uint_eq(blk_pattern_check(host, 7 * 512, 1024, SEED), 1024);
}
END_TEST

START_TEST(test_read_beyond_end)
{
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, IMG_SECTORS, 512, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 1024, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 512, true),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().bad_requests, 3);
	ck_assert_uint_eq(
		rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
}
END_TEST

START_TEST(test_misaligned_length)
{
	uint8_t host[512], zero[512] = {0};

	memset(gp(BUF_GPA), 0xab, 512);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 100, false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 513, true),
			  VIRTIO_BLK_S_IOERR);
	host_pread(0, host, sizeof(host));
	ck_assert(memcmp(host, zero, sizeof(host)) == 0);
}
END_TEST

START_TEST(test_flush)
{
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 1, 512, false),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().flushes, 1);
}
END_TEST

START_TEST(test_get_id)
{
	uint32_t written;
	const char *base = strrchr(t.path, '/') + 1;

	memset(gp(BUF_GPA), 0xff, VIRTIO_BLK_ID_BYTES);
	ck_assert_uint_eq(request_q(0, VIRTIO_BLK_T_GET_ID, 0,
				    VIRTIO_BLK_ID_BYTES, true, &written),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(written, VIRTIO_BLK_ID_BYTES + 1);
	/* The image's name, NUL-padded or cut at 20 bytes without a NUL. */
	ck_assert(strncmp(gp(BUF_GPA), base, VIRTIO_BLK_ID_BYTES) == 0);
}
END_TEST

START_TEST(test_unsupported_type)
{
	uint32_t written;

	ck_assert_uint_eq(request_q(0, 99, 0, 512, true, &written),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(written, 1);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_LIFETIME, 0, 16, true),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(stats().unsupported, 2);
}
END_TEST

static void put_ranges(const struct virtio_blk_discard *r, unsigned n)
{
	memcpy(gp(BUF_GPA), r, n * sizeof(*r));
}

START_TEST(test_discard_and_write_zeroes)
{
	struct virtio_blk_discard r = {.sector = 8, .num_sectors = 16};
	uint8_t host[16 * 512], zero[16 * 512] = {0};
	struct stat sb;

	/* Make sectors [0, 64) real data, then drop [8, 24). */
	blk_pattern_fill(gp(BUF_GPA), 0, 64 * 512, SEED);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 64 * 512, false),
			  VIRTIO_BLK_S_OK);
	put_ranges(&r, 1);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, sizeof(r), false),
			  VIRTIO_BLK_S_OK);
	host_pread(8 * 512, host, sizeof(host));
	ck_assert(memcmp(host, zero, sizeof(host)) == 0);
	host_pread(24 * 512, host, 512);
	ck_assert_uint_eq(blk_pattern_check(host, 24 * 512, 512, SEED), 512);
	ck_assert_int_eq(stat(t.path, &sb), 0);
	ck_assert_int_eq(sb.st_size, (off_t)IMG_BYTES);
	/* WRITE_ZEROES with and without UNMAP. */
	r = (struct virtio_blk_discard){.sector = 32, .num_sectors = 8};
	put_ranges(&r, 1);
	ck_assert_uint_eq(
		request(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(r), false),
		VIRTIO_BLK_S_OK);
	r = (struct virtio_blk_discard){
		.sector = 40,
		.num_sectors = 8,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP};
	put_ranges(&r, 1);
	ck_assert_uint_eq(
		request(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(r), false),
		VIRTIO_BLK_S_OK);
	host_pread(32 * 512, host, sizeof(host));
	ck_assert(memcmp(host, zero, sizeof(host)) == 0);
	host_pread(48 * 512, host, 512);
	ck_assert_uint_eq(blk_pattern_check(host, 48 * 512, 512, SEED), 512);
	ck_assert_uint_eq(stats().discards, 1);
	ck_assert_uint_eq(stats().write_zeroes, 2);
}
END_TEST

START_TEST(test_discard_bad_ranges)
{
	struct virtio_blk_discard r[2] = {
		{.sector = 0, .num_sectors = 8},
		{.sector = IMG_SECTORS - 4, .num_sectors = 8},
	};
	uint8_t host[512];

	memset(gp(BUF_GPA), 0x5a, 512);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, false),
			  VIRTIO_BLK_S_OK);
	/* A range beyond the end: IOERR, and the good range untouched. */
	put_ranges(r, 2);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, sizeof(r), false),
			  VIRTIO_BLK_S_IOERR);
	host_pread(0, host, 512);
	ck_assert_uint_eq(host[0], 0x5a);
	/* UNMAP on a discard, unknown flags on write zeroes: UNSUPP. */
	r[0].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	put_ranges(r, 1);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, sizeof(r[0]), false),
			  VIRTIO_BLK_S_UNSUPP);
	r[0].flags = 2;
	put_ranges(r, 1);
	ck_assert_uint_eq(
		request(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(r[0]), false),
		VIRTIO_BLK_S_UNSUPP);
	/* Not a whole number of ranges; too many sectors in one range. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 10, false),
			  VIRTIO_BLK_S_IOERR);
	r[0] = (struct virtio_blk_discard){
		.num_sectors = VIRTIO_BLK_DWZ_MAX_SECTORS + 1};
	put_ranges(r, 1);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, sizeof(r[0]), false),
			  VIRTIO_BLK_S_IOERR);
	host_pread(0, host, 512);
	ck_assert_uint_eq(host[0], 0x5a);
}
END_TEST

/* Each protocol error: NEEDS_RESET; then a reset and a new init recover. */
static void expect_needs_reset_then_recover(void)
{
	wait_needs_reset();
	ck_assert_uint_eq(stats().failures, 1);
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert(!pvmem_dma_contains(fx.p, BLK_ID, t.area, 1));
	ck_assert_int_eq(fx_dma_alloc(BLK_ID, AREA_BYTES, 32, &t.area), 0);
	driver_init(WANT_FEATURES);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true),
			  VIRTIO_BLK_S_OK);
	fx_assert_consistent();
}

START_TEST(test_header_too_short)
{
	struct seg s[2] = {{HDR_GPA, 8, false}, {STATUS_GPA, 1, true}};

	post(0, s, 2);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	expect_needs_reset_then_recover();
	ck_assert(strstr(t.last_log, "header of 8 readable bytes"));
}
END_TEST

START_TEST(test_status_read_only)
{
	struct seg s[3] = {{HDR_GPA, 16, false},
			   {BUF_GPA, 512, false},
			   {STATUS_GPA, 1, false}};

	*(struct virtio_blk_outhdr *)gp(HDR_GPA) =
		(struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT};
	post(0, s, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	expect_needs_reset_then_recover();
	ck_assert(strstr(t.last_log, "no device-writable status byte"));
}
END_TEST

START_TEST(test_outside_dma_mappings)
{
	uint64_t pfn;
	unsigned done;
	struct seg s[3] = {
		{HDR_GPA, 16, false}, {0, 512, true}, {STATUS_GPA, 1, true}};

	/* Guest RAM the guest holds, but not mapped for this device. */
	ck_assert_int_eq(fx_alloc(0, 0, 1, &pfn, &done), 0);
	s[1].gpa = MM_PFN_TO_ADDR(pfn);
	*(struct virtio_blk_outhdr *)gp(HDR_GPA) =
		(struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	*status_byte() = 0xee;
	post(0, s, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_needs_reset();
	ck_assert_uint_eq(*status_byte(), 0xee);
	ck_assert_uint_eq(used_idx(0), 0);
	expect_needs_reset_then_recover();
}
END_TEST

START_TEST(test_readonly_disk)
{
	uint8_t host[512], zero[512] = {0};
	struct virtio_blk *rw;
	char err[256];

	virtio_blk_destroy(t.b);
	pvmem_dma_release_device(fx.p, BLK_ID);
	start(true);
	ck_assert(device_features() & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	ck_assert(!(device_features() & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)));
	memset(gp(BUF_GPA), 0x77, 512);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 16, false),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, true),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false),
			  VIRTIO_BLK_S_OK);
	host_pread(0, host, sizeof(host));
	ck_assert(memcmp(host, zero, sizeof(host)) == 0);
	/* A read-only user shares its lock with readers, not with writers. */
	ck_assert_int_eq(create_disk(t.path, false, &rw, err, sizeof(err)),
			 -EBUSY);
	ck_assert_int_eq(create_disk(t.path, true, &rw, err, sizeof(err)), 0);
	virtio_blk_destroy(rw);
}
END_TEST

START_TEST(test_locked_image)
{
	struct virtio_blk *other;
	char err[256] = "";

	ck_assert_int_eq(create_disk(t.path, false, &other, err, sizeof(err)),
			 -EBUSY);
	ck_assert_msg(strstr(err, "is locked by another process"), "%s", err);
	ck_assert_int_eq(create_disk(t.path, true, &other, err, sizeof(err)),
			 -EBUSY);
	/* Closing the first user drops its lock. */
	virtio_blk_destroy(t.b);
	t.b = NULL;
	ck_assert_int_eq(create_disk(t.path, false, &other, err, sizeof(err)),
			 0);
	virtio_blk_destroy(other);
}
END_TEST

START_TEST(test_bad_images)
{
	struct virtio_blk *b;
	char err[256] = "", path[PATH_MAX + 8];

	ck_assert_int_eq(create_disk("/nonexistent/disk.img", false, &b, err,
				     sizeof(err)),
			 -ENOENT);
	ck_assert_msg(strstr(err, "cannot open disk '/nonexistent/disk.img'"),
		      "%s", err);
	/* A path is quoted escaped: no line break or terminal control. */
	ck_assert_int_eq(create_disk("/nonexistent/a\nb\x1b[31m.img", false, &b,
				     err, sizeof(err)),
			 -ENOENT);
	ck_assert_msg(strstr(err, "cannot open disk "
				  "'/nonexistent/a\\nb\\x1b[31m.img'"),
		      "%s", err);
	ck_assert(!strchr(err, '\n') && !strchr(err, '\x1b'));
	snprintf(path, sizeof(path), "%s.small", t.path);
	make_image(path, 100);
	ck_assert_int_eq(create_disk(path, false, &b, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "is 100 bytes: a raw image must be"), "%s",
		      err);
	make_image(path, 1000);
	ck_assert_int_eq(create_disk(path, false, &b, err, sizeof(err)),
			 -EINVAL);
	make_image(path, 0);
	ck_assert_int_eq(create_disk(path, false, &b, err, sizeof(err)),
			 -EINVAL);
	unlink(path);
	ck_assert_int_eq(create_disk("/tmp", false, &b, err, sizeof(err)),
			 -EISDIR);
}
END_TEST

/*
 * A host I/O error: the image's descriptor is swapped for /dev/full, so a
 * write fails with ENOSPC as on a full filesystem. The guest gets IOERR,
 * the error is counted and logged, and the device keeps working.
 */
START_TEST(test_host_enospc)
{
	char link[64], target[PATH_MAX];
	int full = open("/dev/full", O_RDWR), swapped = 0;

	ck_assert_int_ge(full, 0);
	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, t.path) == 0) {
			ck_assert_int_eq(dup2(full, fd), fd);
			swapped++;
		}
	}
	close(full);
	ck_assert_int_eq(swapped, 1);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 4096, false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(stats().io_errors, 1);
	ck_assert_msg(strstr(t.last_log, "No space left on device"), "%s",
		      t.last_log);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 4096, true),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(
		rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
}
END_TEST

/* 32 requests in flight on both queues, one kick each. */
static void many_in_flight(void)
{
	enum { N = 32, BS = 4096 };
	uint8_t host[BS];

	for (unsigned q = 0; q < NR_QUEUES; q++) {
		for (unsigned i = 0; i < N; i++) {
			uint64_t off = q * 256 * 1024ull + i * 8192ull;
			uint64_t sector = (q * N + i) * (BS / 512);
			struct virtio_blk_outhdr *h = gp(data(off));
			struct seg s[3] = {{data(off), 16, false},
					   {data(off + 4096), BS, false},
					   {data(off + 16), 1, true}};

			*h = (struct virtio_blk_outhdr){
				.type = VIRTIO_BLK_T_OUT, .sector = sector};
			blk_pattern_fill(gp(data(off + 4096)), sector * 512, BS,
					 SEED);
			post(q, s, 3);
		}
	}
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	kick_wait(0, N);
	kick_wait(1, N);
	for (unsigned i = 0; i < NR_QUEUES * N; i++) {
		host_pread(i * BS, host, BS);
		ck_assert_uint_eq(blk_pattern_check(host, i * BS, BS, SEED),
				  BS);
	}
	ck_assert_uint_eq(stats().writes, NR_QUEUES * N);
}

START_TEST(test_many_in_flight_mq)
{
	many_in_flight();
}
END_TEST

/*
 * A direct disk: aligned requests go O_DIRECT, a batch at a time on the
 * io_uring (or one by one without it); a buffer the device cannot DMA
 * directly (not 512-aligned) takes the page cache. Same bytes either way.
 */
START_TEST(test_direct)
{
	uint8_t host[1024];
	uint16_t want;
	struct seg s[3] = {{HDR_GPA, 16, false},
			   {BUF_GPA + 100, 1024, false},
			   {STATUS_GPA, 1, true}};

	virtio_blk_destroy(t.b);
	pvmem_dma_release_device(fx.p, BLK_ID);
	create_direct = true;
	start(false);
	many_in_flight();
	*(struct virtio_blk_outhdr *)gp(HDR_GPA) = (struct virtio_blk_outhdr){
		.type = VIRTIO_BLK_T_OUT, .sector = 1000};
	blk_pattern_fill(gp(BUF_GPA + 100), 1000 * 512, 1024, SEED);
	*status_byte() = 0xee;
	want = (uint16_t)(used_idx(0) + 1);
	post(0, s, 3);
	kick_wait(0, want);
	ck_assert_uint_eq(*status_byte(), VIRTIO_BLK_S_OK);
	host_pread(1000 * 512, host, sizeof(host));
	ck_assert_uint_eq(blk_pattern_check(host, 1000 * 512, 1024, SEED),
			  1024);
	/*
	 * 512-aligned but not 4 KiB-aligned: O_DIRECT on a filesystem that
	 * wants 4 KiB refuses it (EINVAL), and the page cache takes it.
	 */
	blk_pattern_fill(gp(BUF_GPA), 1001 * 512, 1024, SEED);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 1001, 1024, false),
			  VIRTIO_BLK_S_OK);
	memset(gp(BUF_GPA), 0, 1024);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 1001, 1024, true),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(
		blk_pattern_check(gp(BUF_GPA), 1001 * 512, 1024, SEED), 1024);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, IMG_SECTORS, 512, true),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().io_errors, 0);
}
END_TEST

/*
 * size_max: a data segment of 4 MiB is fine, one of 4 MiB + 512 (inside the
 * disk) is refused with IOERR and nothing is written. Native-model link (no
 * DMA registry), so one descriptor can be that large.
 */
START_TEST(test_segment_above_size_max)
{
	struct seg s[3] = {{HDR_GPA, 16, false},
			   {8ull << 20, VIRTIO_BLK_SIZE_MAX + 512, false},
			   {STATUS_GPA, 1, true}};
	uint8_t host[512], zero[512] = {0};

	virtio_blk_destroy(t.b);
	pvmem_dma_release_device(fx.p, BLK_ID);
	make_image(t.path, 16ull << 20);
	create_native = true;
	start(false);
	memset(gp(8ull << 20), 0x3c, VIRTIO_BLK_SIZE_MAX + 512);
	*(struct virtio_blk_outhdr *)gp(HDR_GPA) =
		(struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT};
	*status_byte() = 0xee;
	post(0, s, 3);
	kick_wait(0, 1);
	ck_assert_uint_eq(*status_byte(), VIRTIO_BLK_S_IOERR);
	host_pread(0, host, sizeof(host));
	ck_assert(memcmp(host, zero, sizeof(host)) == 0);
	s[1].len = VIRTIO_BLK_SIZE_MAX;
	post(0, s, 3);
	kick_wait(0, 2);
	ck_assert_uint_eq(*status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(stats().bytes_written, VIRTIO_BLK_SIZE_MAX);
	ck_assert_uint_eq(stats().bad_requests, 1);
}
END_TEST

/*
 * Native model (issue 12): a descriptor naming a frame the guest gave to the
 * balloon is refused (NEEDS_RESET): the device neither writes it back to
 * life nor reads it. The same read into a frame the guest holds works.
 */
START_TEST(test_native_refuses_ballooned_frames)
{
	struct seg s[3] = {{HDR_GPA, 16, false},
			   {0, PAGE_SIZE, true},
			   {STATUS_GPA, 1, true}};
	uint8_t sector[512];
	uint64_t pfn;
	int fd;

	virtio_blk_destroy(t.b);
	pvmem_dma_release_device(fx.p, BLK_ID);
	create_native = true;
	start(false);
	memset(sector, 0x5a, sizeof(sector));
	fd = open(t.path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, sector, sizeof(sector), 0), 512);
	close(fd);
	/* Two frames: the first stays the guest's, the second is ballooned. */
	ck_assert_int_eq(mm_alloc_pages(fx.mm, 0, 1, &pfn), 0);
	ck_assert_int_eq(mm_split_block(fx.mm, pfn, 1), 0);
	ck_assert_int_eq(mm_set_frames_state(fx.mm, pfn + 1, 1, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	memset(gp(MM_PFN_TO_ADDR(pfn)), 0, 2 * PAGE_SIZE);
	*(struct virtio_blk_outhdr *)gp(HDR_GPA) =
		(struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	*status_byte() = 0xee;
	/* The ballooned frame, and a range that ends in it. */
	s[1].gpa = MM_PFN_TO_ADDR(pfn + 1);
	post(0, s, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_needs_reset();
	ck_assert_uint_eq(*(uint8_t *)gp(MM_PFN_TO_ADDR(pfn + 1)), 0);
	ck_assert_uint_eq(*status_byte(), 0xee);
	ck_assert_uint_eq(stats().bytes_read, 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	driver_init(WANT_FEATURES);
	s[1] = (struct seg){MM_PFN_TO_ADDR(pfn) + 512, PAGE_SIZE, true};
	post(0, s, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wait_needs_reset();
	ck_assert_uint_eq(*(uint8_t *)gp(MM_PFN_TO_ADDR(pfn) + 512), 0);
	ck_assert_uint_eq(stats().bytes_read, 0);
	/* The guest's own frame: the read lands. */
	wr(VIRTIO_MMIO_STATUS, 0);
	driver_init(WANT_FEATURES);
	s[1] = (struct seg){MM_PFN_TO_ADDR(pfn), 512, true};
	post(0, s, 3);
	kick_wait(0, 1);
	ck_assert_uint_eq(*status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)gp(MM_PFN_TO_ADDR(pfn)), 0x5a);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn + 1)->state, FRAME_BALLOON);
	ck_assert_int_eq(mm_set_frames_state(fx.mm, pfn + 1, 1, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	ck_assert_int_eq(mm_free_pages(fx.mm, pfn, 0), 0);
	ck_assert_int_eq(mm_free_pages(fx.mm, pfn + 1, 0), 0);
}
END_TEST

/*
 * A reset while a batch is in its system calls: the reset waits for the
 * batch, which is then dropped (its status bytes and used entries never
 * written), so nothing touches the buffers once the reset has returned.
 * The I/O threads are joined (destroy) before the buffers are checked.
 */
START_TEST(test_reset_in_flight)
{
	enum { N = 24, BS = 1 << 20 };
	uint8_t *buf = gp(data(256 * 1024));
	int fd = open(t.path, O_WRONLY);
	struct timespec t0, now;

	/* The image holds data, so a read visibly lands in the buffers. */
	ck_assert_int_ge(fd, 0);
	blk_pattern_fill(buf, 0, BS, SEED);
	ck_assert_int_eq(pwrite(fd, buf, BS, 0), BS);
	close(fd);
	memset(buf, 0xa5, 3 * BS);
	for (unsigned i = 0; i < N; i++) {
		uint64_t off = i * 64ull;
		struct seg s[3] = {{data(off), 16, false},
				   {data(256 * 1024) + (i % 3) * BS, BS, true},
				   {data(off + 32), 1, true}};

		*(struct virtio_blk_outhdr *)gp(data(off)) =
			(struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
		post(0, s, 3);
	}
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* Wait until the batch is in its system calls: data arrives. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&buf[0], __ATOMIC_RELAXED) == 0xa5) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - t0.tv_sec < 10, "no data arrived");
		sched_yield();
	}
	wr(VIRTIO_MMIO_STATUS, 0);
	/* After the reset: mark every byte the requests could write. */
	memset(buf, 0xa5, 3 * BS);
	for (unsigned i = 0; i < N; i++)
		*(uint8_t *)gp(data(i * 64ull + 32)) = 0xa5;
	memset(gp(ring(0) + 8192), 0xa5, 64);
	virtio_blk_destroy(t.b);
	t.b = NULL;
	for (unsigned i = 0; i < 3 * BS; i++)
		ck_assert_uint_eq(buf[i], 0xa5);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(*(uint8_t *)gp(data(i * 64ull + 32)), 0xa5);
	for (unsigned i = 0; i < 64; i++)
		ck_assert_uint_eq(((uint8_t *)gp(ring(0) + 8192))[i], 0xa5);
}
END_TEST

static Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config_and_features);
	tcase_add_test(tc, test_write_read_roundtrip);
	tcase_add_test(tc, test_any_framing);
	tcase_add_test(tc, test_read_beyond_end);
	tcase_add_test(tc, test_misaligned_length);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_get_id);
	tcase_add_test(tc, test_unsupported_type);
	tcase_add_test(tc, test_discard_and_write_zeroes);
	tcase_add_test(tc, test_discard_bad_ranges);
	tcase_add_test(tc, test_header_too_short);
	tcase_add_test(tc, test_status_read_only);
	tcase_add_test(tc, test_outside_dma_mappings);
	tcase_add_test(tc, test_readonly_disk);
	tcase_add_test(tc, test_locked_image);
	tcase_add_test(tc, test_bad_images);
	tcase_add_test(tc, test_host_enospc);
	tcase_add_test(tc, test_many_in_flight_mq);
	tcase_add_test(tc, test_direct);
	tcase_add_test(tc, test_reset_in_flight);
	tcase_add_test(tc, test_segment_above_size_max);
	tcase_add_test(tc, test_native_refuses_ballooned_frames);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(virtio_blk_suite)
