// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_virtio_console.c - virtio-console port 0 over the pvmem
 * fixture: transmit batching (one write per notification), receive buffers
 * held, descriptors outside the device's DMA mappings refused.
 */
#include <stdio.h>
#include <string.h>

#include "abi/layout.h"
#include "abi/virtio_console.h"
#include "devices/virtio_console.h"
#include "pvmem_fx.h"
#include "unit.h"

#define QSIZE  8
#define CON_ID VIRTIO_CONSOLE_DMA_ID

static struct {
	struct virtio_console *c;
	struct virtio_mmio_dev *dev;
	uint64_t area;
	uint16_t avail[2];
	unsigned writes;
	char out[16384];
	size_t out_len;
} con;

static void con_out(void *opaque, const void *buf, size_t len)
{
	ck_assert_uint_le(con.out_len + len, sizeof(con.out));
	memcpy(con.out + con.out_len, buf, len);
	con.out_len += len;
	con.writes++;
}

static void con_irq(void *opaque, uint32_t irq, bool level)
{
}

static void con_log(void *opaque, const char *line)
{
}

static void wr(uint64_t off, uint32_t v)
{
	ck_assert_int_eq(virtio_mmio_access(con.dev, off, &v, 4, true), 0);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	ck_assert_int_eq(virtio_mmio_access(con.dev, off, &v, 4, false), 0);
	return v;
}

static uint64_t ring(unsigned q)
{
	return con.area + q * 1024ull;
}

static void setup(void)
{
	struct virtio_console_params p = {
		.link =
			{
				.dma_device_id = CON_ID,
				.base = 0xd0000000ull,
				.irq = 16,
				.irq_set = con_irq,
				.log = con_log,
			},
		.out = con_out,
	};
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	fx_setup();
	memset(&con, 0, sizeof(con));
	p.link.mem = &fx.mem;
	p.link.pvmem = fx.p;
	ck_assert_int_eq(virtio_console_create(&p, &con.c), 0);
	con.dev = virtio_console_mmio(con.c);
	ck_assert_int_eq(fx_dma_alloc(CON_ID, 16384, 32, &con.area), 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	st |= VIRTIO_STATUS_FEATURES_OK;
	wr(VIRTIO_MMIO_STATUS, st);
	for (unsigned q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)ring(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)ring(q) + 128);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)ring(q) + 256);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	}
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
}

static void teardown(void)
{
	virtio_console_destroy(con.c);
	fx_teardown();
}

/* Make a one-descriptor buffer available on @q (no kick). */
static void post(unsigned q, uint64_t gpa, uint32_t len, bool write)
{
	struct virtq_desc *d = fx_ptr(ring(q));
	struct virtq_avail *av = fx_ptr(ring(q) + 128);
	uint16_t head = con.avail[q] % QSIZE;

	d[head] = (struct virtq_desc){.addr = gpa,
				      .len = len,
				      .flags = write ? VIRTQ_DESC_F_WRITE : 0};
	av->ring[head] = head;
	av->idx = ++con.avail[q];
}

static uint16_t used_idx(unsigned q)
{
	return ((struct virtq_used *)fx_ptr(ring(q) + 256))->idx;
}

START_TEST(test_tx_batched)
{
	uint64_t b0 = con.area + 4096, b1 = con.area + 8192;

	memcpy(fx_ptr(b0), "hello, ", 7);
	memcpy(fx_ptr(b1), "world\n", 6);
	post(VIRTIO_CONSOLE_Q_TX, b0, 7, false);
	post(VIRTIO_CONSOLE_Q_TX, b1, 6, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_Q_TX);
	ck_assert_uint_eq(con.writes, 1);
	ck_assert_uint_eq(con.out_len, 13);
	ck_assert(memcmp(con.out, "hello, world\n", 13) == 0);
	ck_assert_uint_eq(used_idx(VIRTIO_CONSOLE_Q_TX), 2);
	ck_assert_uint_eq(virtio_console_bytes_out(con.c), 13);
	/* Receive buffers are held: no input ever arrives. */
	post(VIRTIO_CONSOLE_Q_RX, b0, 64, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_Q_RX);
	ck_assert_uint_eq(used_idx(VIRTIO_CONSOLE_Q_RX), 0);
}
END_TEST

START_TEST(test_tx_outside_dma_refused)
{
	uint64_t pfn;
	unsigned done;

	ck_assert_int_eq(fx_alloc(0, 0, 1, &pfn, &done), 0);
	memcpy(fx_ptr(MM_PFN_TO_ADDR(pfn)), "secret", 6);
	post(VIRTIO_CONSOLE_Q_TX, MM_PFN_TO_ADDR(pfn), 6, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_Q_TX);
	ck_assert_uint_eq(con.out_len, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) &
				  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* A reset gives the device's DMA blocks back. */
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert(!pvmem_dma_contains(fx.p, CON_ID, con.area, 1));
	fx_assert_consistent();
}
END_TEST

START_TEST(test_tx_large_output)
{
	uint64_t b = con.area + 4096;
	char *p = fx_ptr(b);

	/* 8 chains of 1 KiB: more than the device's buffer, still all out. */
	for (unsigned i = 0; i < 8; i++) {
		memset(p + i * 1024, 'a' + (int)i, 1024);
		post(VIRTIO_CONSOLE_Q_TX, b + i * 1024, 1024, false);
	}
	con.out_len = 0;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_Q_TX);
	ck_assert_uint_eq(con.out_len, 4096 + 4096);
}
END_TEST

static Suite *virtio_console_suite(void)
{
	Suite *s = suite_create("virtio_console");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tx_batched);
	tcase_add_test(tc, test_tx_outside_dma_refused);
	tcase_add_test(tc, test_tx_large_output);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(virtio_console_suite)
