// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/virtq.c: the split ring as a device sees it, with
 * a host buffer playing guest RAM and the test playing a (sometimes
 * hostile) driver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtq.h"
#include "virtq_ring_fx.h"
#include "unit.h"
#include "vmm/guest_mem.h"

#define F_V1	    VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_INDIRECT  VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)

#define MAX_SEGS    64

static struct tram ram;
static struct tring ring;
static struct virtq vq;
static struct virtq_seg segs[MAX_SEGS];
static struct virtq_chain chain = {.segs = segs, .max_segs = MAX_SEGS};

static void setup_ring(uint16_t size, uint64_t features)
{
	tram_init(&ram);
	tring_init(&ring, &ram, size);
	ck_assert_int_eq(tring_enable(&ring, &vq, features), 0);
	chain.max_segs = MAX_SEGS;
}

static void setup(void)
{
	setup_ring(16, F_V1 | F_INDIRECT);
}

static void teardown(void)
{
	tram_fini(&ram);
}

/* Expect virtq_pop() to fail with @err, then stay broken. */
static void expect_pop_error(int err)
{
	int ret = virtq_pop(&vq, &chain);

	ck_assert_msg(ret == err, "pop returned %d (%s), wanted %d", ret,
		      virtq_error(&vq), err);
	ck_assert_str_ne(virtq_error(&vq), "");
	ck_assert_int_eq(virtq_pop(&vq, &chain), -EIO);
	ck_assert_int_eq(virtq_push(&vq, 0, 0), -EIO);
}

START_TEST(test_simple_chain)
{
	uint64_t buf = tring_alloc(&ring, 100);

	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	tring_set_desc(&ring, 3, buf, 100, 0, 0);
	tring_post(&ring, 3);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 3);
	ck_assert_uint_eq(chain.nr_segs, 1);
	ck_assert_uint_eq(chain.nr_read, 1);
	ck_assert_ptr_eq(segs[0].host, tram_ptr(&ram, buf));
	ck_assert_uint_eq(segs[0].gpa, buf);
	ck_assert_uint_eq(segs[0].len, 100);
	ck_assert(!segs[0].write);
	ck_assert_uint_eq(chain.read_bytes, 100);
	ck_assert_uint_eq(chain.write_bytes, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_read_then_write)
{
	uint64_t hdr = tring_alloc(&ring, 16), data = tring_alloc(&ring, 512);
	uint64_t status = tring_alloc(&ring, 1);

	tring_set_desc(&ring, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 5);
	tring_set_desc(&ring, 5, data, 512,
		       VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 9);
	tring_set_desc(&ring, 9, status, 1, VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_segs, 3);
	ck_assert_uint_eq(chain.nr_read, 1);
	ck_assert(!segs[0].write && segs[1].write && segs[2].write);
	ck_assert_uint_eq(segs[2].gpa, status);
	ck_assert_uint_eq(chain.read_bytes, 16);
	ck_assert_uint_eq(chain.write_bytes, 513);
}
END_TEST

START_TEST(test_write_then_read_rejected)
{
	uint64_t a = tring_alloc(&ring, 8), b = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 0, a, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
		       1);
	tring_set_desc(&ring, 1, b, 8, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EPROTO);
}
END_TEST

START_TEST(test_next_out_of_range)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 0, a, 8, VIRTQ_DESC_F_NEXT, 16);
	tring_post(&ring, 0);
	expect_pop_error(-ERANGE);
}
END_TEST

START_TEST(test_head_out_of_range)
{
	tring_post(&ring, 40000);
	expect_pop_error(-ERANGE);
}
END_TEST

START_TEST(test_loop_detected)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 2, a, 8, VIRTQ_DESC_F_NEXT, 7);
	tring_set_desc(&ring, 7, a, 8, VIRTQ_DESC_F_NEXT, 2);
	tring_post(&ring, 2);
	expect_pop_error(-ELOOP);
}
END_TEST

START_TEST(test_chain_longer_than_queue)
{
	uint64_t a = tring_alloc(&ring, 8);

	/* 0 -> 1 -> ... -> 15 -> 0: every entry, then one more. */
	for (uint16_t i = 0; i < 16; i++)
		tring_set_desc(&ring, i, a, 8, VIRTQ_DESC_F_NEXT, (i + 1) % 16);
	tring_post(&ring, 0);
	expect_pop_error(-ELOOP);
}
END_TEST

START_TEST(test_full_length_chain_accepted)
{
	uint64_t a = tring_alloc(&ring, 8);

	for (uint16_t i = 0; i < 15; i++)
		tring_set_desc(&ring, i, a, 8, VIRTQ_DESC_F_NEXT, i + 1);
	tring_set_desc(&ring, 15, a, 8, 0, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_segs, 16);
}
END_TEST

START_TEST(test_address_outside_ram)
{
	const uint64_t end = TRAM_BASE + TRAM_SIZE;
	const uint64_t bad[][2] = {
		{end, 1},	       /* just past the end */
		{end - 4, 8},	       /* straddles the end */
		{TRAM_BASE - 1, 2},    /* straddles the start */
		{0, 64},	       /* below RAM */
		{0xC0000000ull, 4096}, /* the MMIO hole */
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtq_reset(&vq);
		ck_assert_int_eq(tring_enable(&ring, &vq, F_V1), 0);
		ring.avail->idx = 0;
		tring_set_desc(&ring, 0, bad[i][0], (uint32_t)bad[i][1], 0, 0);
		tring_post(&ring, 0);
		expect_pop_error(-EFAULT);
	}
}
END_TEST

START_TEST(test_address_wraps)
{
	tring_set_desc(&ring, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EOVERFLOW);
}
END_TEST

START_TEST(test_zero_length_skipped)
{
	uint64_t a = tring_alloc(&ring, 8), b = tring_alloc(&ring, 4);

	/* An empty descriptor names no memory, so its address is not used. */
	tring_set_desc(&ring, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, 0xdead0000000ull, 0, VIRTQ_DESC_F_NEXT, 2);
	tring_set_desc(&ring, 2, b, 4, VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.nr_segs, 2);
	ck_assert_uint_eq(chain.nr_read, 1);
	ck_assert_uint_eq(segs[1].gpa, b);
}
END_TEST

START_TEST(test_total_length_capped)
{
	uint64_t a = tring_alloc(&ring, 64);

	virtq_set_max_chain_bytes(&vq, 100);
	tring_set_desc(&ring, 0, a, 64, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, a, 64, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-E2BIG);
}
END_TEST

/*
 * RAM as usual, plus a pretend 8 GiB bank at 4 GiB with nothing behind it:
 * virtq never dereferences buffers, so it can check lengths above 1 MiB.
 */
static void *translate_big(void *opaque, uint64_t gpa, uint64_t len, bool write)
{
	static char unused;

	if (gpa >= (4ull << 30) && gpa + len <= (12ull << 30))
		return &unused;
	return tram_translate(opaque, gpa, len, write);
}

START_TEST(test_default_cap_is_4g)
{
	const uint64_t bank = 4ull << 30;

	virtq_init(&vq, translate_big, &ram);
	ck_assert_int_eq(virtq_enable(&vq, 16, ring.desc_gpa, ring.avail_gpa,
				      ring.used_gpa, F_V1),
			 0);
	/* 2^32 - 1 bytes in total is the longest legal chain... */
	tring_set_desc(&ring, 0, bank, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, bank, 0x7fffffffu, 0, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.read_bytes, 0xffffffffull);
	/* ...one byte more is not. */
	tring_set_desc(&ring, 1, bank, 0x80000000u, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-E2BIG);
}
END_TEST

START_TEST(test_too_many_segments)
{
	uint64_t a = tring_alloc(&ring, 8);

	chain.max_segs = 2;
	tring_set_desc(&ring, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, a, 8, VIRTQ_DESC_F_NEXT, 2);
	tring_set_desc(&ring, 2, a, 8, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-ENOBUFS);
}
END_TEST

/* An indirect table of @n descriptors in RAM; returns its address. */
static uint64_t make_table(struct virtq_desc **table, unsigned n)
{
	uint64_t gpa = tring_alloc(&ring, n * 16);

	*table = tram_ptr(&ram, gpa);
	return gpa;
}

START_TEST(test_indirect_valid)
{
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 3);
	uint64_t hdr = tring_alloc(&ring, 8), in = tring_alloc(&ring, 32);
	uint64_t pre = tring_alloc(&ring, 4);

	t[0] = (struct virtq_desc){hdr, 8, VIRTQ_DESC_F_NEXT, 2};
	t[2] = (struct virtq_desc){hdr, 8, VIRTQ_DESC_F_NEXT, 1};
	t[1] = (struct virtq_desc){in, 32, VIRTQ_DESC_F_WRITE, 0};
	/* A normal descriptor first, then the table (the spec allows it). */
	tring_set_desc(&ring, 4, pre, 4, VIRTQ_DESC_F_NEXT, 6);
	/* WRITE on the table's own descriptor must be ignored. */
	tring_set_desc(&ring, 6, tgpa, 48,
		       VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 4);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 4);
	ck_assert_uint_eq(chain.nr_segs, 4);
	ck_assert_uint_eq(chain.nr_read, 3);
	ck_assert_uint_eq(segs[0].gpa, pre);
	ck_assert_uint_eq(segs[3].gpa, in);
	ck_assert(segs[3].write);
	ck_assert_uint_eq(chain.read_bytes, 20);
	ck_assert_uint_eq(chain.write_bytes, 32);
}
END_TEST

START_TEST(test_indirect_not_negotiated)
{
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 1);

	virtq_reset(&vq);
	ck_assert_int_eq(tring_enable(&ring, &vq, F_V1), 0);
	t[0] = (struct virtq_desc){tring_alloc(&ring, 8), 8, 0, 0};
	tring_set_desc(&ring, 0, tgpa, 16, VIRTQ_DESC_F_INDIRECT, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EOPNOTSUPP);
}
END_TEST

START_TEST(test_indirect_nested)
{
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 2);

	t[0] = (struct virtq_desc){tring_alloc(&ring, 8), 8, VIRTQ_DESC_F_NEXT,
				   1};
	t[1] = (struct virtq_desc){tgpa, 32, VIRTQ_DESC_F_INDIRECT, 0};
	tring_set_desc(&ring, 0, tgpa, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EMLINK);
}
END_TEST

START_TEST(test_indirect_bad_length)
{
	static const uint32_t lens[] = {0, 20, 8, (VIRTQ_MAX_SIZE + 1) * 16};
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 2);

	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ck_assert_int_eq(tring_enable(&ring, &vq, F_V1 | F_INDIRECT),
				 0);
		ring.avail->idx = 0;
		tring_set_desc(&ring, 0, tgpa, lens[i], VIRTQ_DESC_F_INDIRECT,
			       0);
		tring_post(&ring, 0);
		expect_pop_error(-EMSGSIZE);
	}
}
END_TEST

START_TEST(test_indirect_with_next)
{
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 1);

	t[0] = (struct virtq_desc){tring_alloc(&ring, 8), 8, 0, 0};
	tring_set_desc(&ring, 0, tgpa, 16,
		       VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	tring_post(&ring, 0);
	expect_pop_error(-EBADMSG);
}
END_TEST

START_TEST(test_indirect_table_outside_ram)
{
	tring_set_desc(&ring, 0, TRAM_BASE + TRAM_SIZE - 16, 32,
		       VIRTQ_DESC_F_INDIRECT, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EFAULT);
}
END_TEST

START_TEST(test_indirect_loop)
{
	struct virtq_desc *t;
	uint64_t tgpa = make_table(&t, 2);
	uint64_t a = tring_alloc(&ring, 8);

	t[0] = (struct virtq_desc){a, 8, VIRTQ_DESC_F_NEXT, 1};
	t[1] = (struct virtq_desc){a, 8, VIRTQ_DESC_F_NEXT, 0};
	tring_set_desc(&ring, 0, tgpa, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tring_post(&ring, 0);
	expect_pop_error(-ELOOP);
}
END_TEST

START_TEST(test_avail_idx_jump)
{
	/* 17 new chains in a 16-entry ring cannot be real. */
	ring.avail->idx = 17;
	expect_pop_error(-EILSEQ);
}
END_TEST

START_TEST(test_avail_idx_full_ring_ok)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 0, a, 8, 0, 0);
	for (int i = 0; i < 16; i++)
		tring_post(&ring, 0);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_used_ring_written)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 7, a, 8, VIRTQ_DESC_F_WRITE, 0);
	tring_set_desc(&ring, 8, a, 8, VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 7);
	tring_post(&ring, 8);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_push(&vq, 8, 5), 0);
	ck_assert_uint_eq(ring.used->idx, 1);
	ck_assert_int_eq(virtq_push(&vq, 7, 8), 0);
	ck_assert_uint_eq(ring.used->idx, 2);
	ck_assert_uint_eq(ring.used->ring[0].id, 8);
	ck_assert_uint_eq(ring.used->ring[0].len, 5);
	ck_assert_uint_eq(ring.used->ring[1].id, 7);
	ck_assert_uint_eq(ring.used->ring[1].len, 8);
	ck_assert_int_eq(virtq_push(&vq, 16, 0), -EINVAL);
	ck_assert_uint_eq(ring.used->idx, 2);
}
END_TEST

START_TEST(test_guest_used_idx_not_trusted)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 0, a, 8, 0, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	/* The guest scribbles on the device-owned index: we ignore it. */
	ring.used->idx = 12345;
	ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	ck_assert_uint_eq(ring.used->idx, 1);
	ck_assert_uint_eq(ring.used->ring[0].id, 0);
}
END_TEST

START_TEST(test_notify_no_interrupt_flag)
{
	uint64_t a = tring_alloc(&ring, 8);

	tring_set_desc(&ring, 0, a, 8, 0, 0);
	tring_post(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	/* While the device works, the driver is asked not to kick. */
	ck_assert_uint_eq(ring.used->flags, VIRTQ_USED_F_NO_NOTIFY);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert_uint_eq(ring.used->flags, 0);
	ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	ring.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	ck_assert(!virtq_should_notify(&vq));
	ring.avail->flags = 0;
	ck_assert(virtq_should_notify(&vq));
}
END_TEST

START_TEST(test_notify_event_idx)
{
	uint64_t a;

	teardown();
	setup_ring(16, F_V1 | F_EVENT_IDX);
	a = tring_alloc(&ring, 8);
	tring_set_desc(&ring, 0, a, 8, 0, 0);
	/* The flag is ignored with EVENT_IDX; used_event decides. */
	ring.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	*tring_used_event(&ring) = 3;
	for (int i = 0; i < 6; i++)
		tring_post(&ring, 0);
	/* The first interrupt is always sent (nothing to compare with). */
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	ck_assert(virtq_should_notify(&vq));
	/* used idx 1 -> 3: entry 3 not yet written, no interrupt. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	}
	ck_assert(!virtq_should_notify(&vq));
	/* used idx 3 -> 5 writes entry 3: interrupt. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	}
	ck_assert(virtq_should_notify(&vq));
	/* 5 -> 6 is past the event already signalled: none. */
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_push(&vq, 0, 0), 0);
	ck_assert(!virtq_should_notify(&vq));
	/* Draining re-arms the driver's kicks at our consumer index. */
	ck_assert_uint_eq(ring.used->flags, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert_uint_eq(*tring_avail_event(&ring), 6);
}
END_TEST

struct batch_ctx {
	unsigned calls;
	uint32_t next_value;
};

/* Write a counter into each chain's writable buffer. */
static int write_counter(void *opaque, struct virtq *q, struct virtq_chain *c,
			 uint32_t *written)
{
	struct batch_ctx *ctx = opaque;

	ck_assert_uint_eq(c->nr_segs, 2);
	ck_assert_uint_eq(c->nr_read, 1);
	ck_assert_uint_ge(c->segs[1].len, 4);
	memcpy(c->segs[1].host, &ctx->next_value, 4);
	ctx->next_value++;
	ctx->calls++;
	*written = 4;
	return 0;
}

START_TEST(test_batch_many_chains)
{
	struct batch_ctx ctx = {0};
	uint64_t hdr, out[128];
	bool notify;

	teardown();
	setup_ring(256, F_V1);
	hdr = tring_alloc(&ring, 8);
	for (uint16_t i = 0; i < 128; i++) {
		out[i] = tring_alloc(&ring, 4);
		tring_set_desc(&ring, 2 * i, hdr, 8, VIRTQ_DESC_F_NEXT,
			       2 * i + 1);
		tring_set_desc(&ring, 2 * i + 1, out[i], 4, VIRTQ_DESC_F_WRITE,
			       0);
		tring_post(&ring, 2 * i);
	}
	ck_assert_int_eq(
		virtq_process(&vq, &chain, write_counter, &ctx, &notify), 128);
	ck_assert(notify);
	ck_assert_uint_eq(ctx.calls, 128);
	ck_assert_uint_eq(ring.used->idx, 128);
	for (uint16_t i = 0; i < 128; i++) {
		uint32_t v;

		memcpy(&v, tram_ptr(&ram, out[i]), 4);
		ck_assert_uint_eq(v, i);
		ck_assert_uint_eq(ring.used->ring[i].id, 2 * i);
		ck_assert_uint_eq(ring.used->ring[i].len, 4);
	}
	/* Nothing new: no chains, no interrupt. */
	ck_assert_int_eq(
		virtq_process(&vq, &chain, write_counter, &ctx, &notify), 0);
	ck_assert(!notify);
}
END_TEST

/* Many small batches through a tiny ring: the 16-bit indexes wrap. */
START_TEST(test_batch_index_wrap)
{
	struct batch_ctx ctx = {0};
	uint64_t hdr, out;
	unsigned total = 0;
	bool notify;

	teardown();
	setup_ring(4, F_V1 | F_EVENT_IDX);
	hdr = tring_alloc(&ring, 8);
	out = tring_alloc(&ring, 4);
	for (uint16_t i = 0; i < 2; i++) {
		tring_set_desc(&ring, 2 * i, hdr, 8, VIRTQ_DESC_F_NEXT,
			       2 * i + 1);
		tring_set_desc(&ring, 2 * i + 1, out, 4, VIRTQ_DESC_F_WRITE, 0);
	}
	for (unsigned round = 0; round < 35000; round++) {
		int n;

		tring_post(&ring, 0);
		tring_post(&ring, 2);
		*tring_used_event(&ring) = ring.used->idx;
		n = virtq_process(&vq, &chain, write_counter, &ctx, &notify);
		ck_assert_int_eq(n, 2);
		ck_assert(notify);
		total += 2;
	}
	ck_assert_uint_eq(ring.used->idx, (uint16_t)total);
	ck_assert_uint_eq(ctx.calls, total);
}
END_TEST

START_TEST(test_enable_checks)
{
	struct virtq q;

	virtq_init(&q, tram_translate, &ram);
	ck_assert_int_eq(virtq_enable(&q, 12, ring.desc_gpa, ring.avail_gpa,
				      ring.used_gpa, F_V1),
			 -EINVAL);
	ck_assert(!virtq_enabled(&q));
	ck_assert_int_eq(virtq_enable(&q, 16, ring.desc_gpa + 8, ring.avail_gpa,
				      ring.used_gpa, F_V1),
			 -EINVAL);
	ck_assert_int_eq(virtq_enable(&q, 16, ring.desc_gpa, ring.avail_gpa + 1,
				      ring.used_gpa, F_V1),
			 -EINVAL);
	ck_assert_int_eq(virtq_enable(&q, 16, ring.desc_gpa, ring.avail_gpa,
				      ring.used_gpa + 2, F_V1),
			 -EINVAL);
	/* The used ring's last bytes fall off the end of RAM. */
	ck_assert_int_eq(virtq_enable(&q, 16, ring.desc_gpa, ring.avail_gpa,
				      TRAM_BASE + TRAM_SIZE - 64, F_V1),
			 -EFAULT);
	ck_assert_int_eq(virtq_enable(&q, 16, 0xfffffffffffffff0ull,
				      ring.avail_gpa, ring.used_gpa, F_V1),
			 -EFAULT);
	ck_assert(!virtq_enabled(&q));
	ck_assert_int_eq(virtq_pop(&q, &chain), -EIO);
	ck_assert_int_eq(virtq_enable(&q, 16, ring.desc_gpa, ring.avail_gpa,
				      ring.used_gpa, F_V1),
			 0);
	ck_assert(virtq_enabled(&q));
	ck_assert_str_eq(virtq_error(&q), "");
}
END_TEST

/* The stock translate over vmm/guest_mem.h, with RAM split by a hole. */
START_TEST(test_translate_guest_ram)
{
	struct guest_mem mem = {.fd = -1, .size = TRAM_SIZE, .nr_regions = 2};
	uint64_t half = TRAM_SIZE / 2;

	mem.regions[0] =
		(struct guest_mem_region){TRAM_BASE, half, ram.host, 0};
	mem.regions[1] = (struct guest_mem_region){TRAM_BASE + TRAM_SIZE, half,
						   ram.host + half, half};
	ck_assert_ptr_eq(
		virtq_translate_guest_ram(&mem, TRAM_BASE + 16, 8, false),
		ram.host + 16);
	ck_assert_ptr_eq(virtq_translate_guest_ram(&mem, TRAM_BASE + TRAM_SIZE,
						   half, true),
			 ram.host + half);
	/* Across the hole, off either end, empty: refused. */
	ck_assert_ptr_null(virtq_translate_guest_ram(&mem, TRAM_BASE + half - 4,
						     8, false));
	ck_assert_ptr_null(virtq_translate_guest_ram(
		&mem, TRAM_BASE + TRAM_SIZE + half - 4, 8, false));
	ck_assert_ptr_null(
		virtq_translate_guest_ram(&mem, TRAM_BASE, 0, false));
	virtq_init(&vq, virtq_translate_guest_ram, &mem);
	ck_assert_int_eq(virtq_enable(&vq, 16, ring.desc_gpa, ring.avail_gpa,
				      ring.used_gpa, F_V1),
			 0);
	tring_set_desc(&ring, 0, TRAM_BASE + half - 4, 8, 0, 0);
	tring_post(&ring, 0);
	expect_pop_error(-EFAULT);
}
END_TEST

static Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("chains");
	TCase *tn = tcase_create("notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_simple_chain);
	tcase_add_test(tc, test_read_then_write);
	tcase_add_test(tc, test_write_then_read_rejected);
	tcase_add_test(tc, test_next_out_of_range);
	tcase_add_test(tc, test_head_out_of_range);
	tcase_add_test(tc, test_loop_detected);
	tcase_add_test(tc, test_chain_longer_than_queue);
	tcase_add_test(tc, test_full_length_chain_accepted);
	tcase_add_test(tc, test_address_outside_ram);
	tcase_add_test(tc, test_address_wraps);
	tcase_add_test(tc, test_zero_length_skipped);
	tcase_add_test(tc, test_total_length_capped);
	tcase_add_test(tc, test_default_cap_is_4g);
	tcase_add_test(tc, test_too_many_segments);
	tcase_add_test(tc, test_indirect_valid);
	tcase_add_test(tc, test_indirect_not_negotiated);
	tcase_add_test(tc, test_indirect_nested);
	tcase_add_test(tc, test_indirect_bad_length);
	tcase_add_test(tc, test_indirect_with_next);
	tcase_add_test(tc, test_indirect_table_outside_ram);
	tcase_add_test(tc, test_indirect_loop);
	tcase_add_test(tc, test_avail_idx_jump);
	tcase_add_test(tc, test_avail_idx_full_ring_ok);
	tcase_add_test(tc, test_used_ring_written);
	tcase_add_test(tc, test_guest_used_idx_not_trusted);
	tcase_add_test(tc, test_enable_checks);
	tcase_add_test(tc, test_translate_guest_ram);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tn, setup, teardown);
	tcase_set_timeout(tn, 60);
	tcase_add_test(tn, test_notify_no_interrupt_flag);
	tcase_add_test(tn, test_notify_event_idx);
	tcase_add_test(tn, test_batch_many_chains);
	tcase_add_test(tn, test_batch_index_wrap);
	suite_add_tcase(s, tn);
	return s;
}
UNIT_SUITE(virtq_suite)
