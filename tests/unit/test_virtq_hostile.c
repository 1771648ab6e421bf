// SPDX-License-Identifier: MIT
/*
 * Randomized "hostile driver" tests for devices/virtq.c: random descriptor
 * tables, available rings and indirect tables, rewritten between pops and
 * (in the threaded case) while the device is popping. virtq must never
 * crash, never touch host memory outside the test RAM (ASan watches), and
 * every segment it hands out must lie inside the RAM.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtq.h"
#include "virtq_ring_fx.h"
#include "unit.h"

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	/* xorshift64*: enough for fuzzing, reproducible from the seed. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static void rng_fill(struct rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rng_next(r);
}

/* Mostly plausible values, so chains get deep before something breaks. */
static uint64_t random_addr(struct rng *r)
{
	switch (rng_below(r, 8)) {
	case 0:
		return rng_next(r);
	case 1:
		return TRAM_BASE + TRAM_SIZE - rng_below(r, 64);
	case 2:
		return UINT64_MAX - rng_below(r, 4096);
	case 3:
		return TRAM_BASE - rng_below(r, 64);
	default:
		return TRAM_BASE + rng_below(r, TRAM_SIZE);
	}
}

static uint32_t random_len(struct rng *r)
{
	switch (rng_below(r, 8)) {
	case 0:
		return (uint32_t)rng_next(r);
	case 1:
		return 0;
	case 2:
		return 16 * (uint32_t)rng_below(r, 20);
	default:
		return (uint32_t)rng_below(r, 4096);
	}
}

static void random_desc(struct rng *r, struct virtq_desc *d, uint16_t size)
{
	d->addr = random_addr(r);
	d->len = random_len(r);
	d->flags = rng_below(r, 8) ? (uint16_t)rng_below(r, 8)
				   : (uint16_t)rng_next(r);
	d->next = rng_below(r, 8) ? (uint16_t)rng_below(r, size + 1u)
				  : (uint16_t)rng_next(r);
}

/* Write random indirect tables somewhere in RAM (past the rings). */
static void scribble_tables(struct rng *r, struct tram *ram, uint64_t from)
{
	for (int n = 0; n < 4; n++) {
		uint64_t gpa =
			from + rng_below(r, TRAM_BASE + TRAM_SIZE - from - 256);
		struct virtq_desc d;

		for (int i = 0; i < 16; i++) {
			random_desc(r, &d, 16);
			memcpy(tram_ptr(ram, gpa + 16 * i), &d, sizeof(d));
		}
	}
}

static void check_chain(const struct tram *ram, const struct virtq_chain *c,
			unsigned long seed, unsigned iter)
{
	uint64_t rd = 0, wr = 0;

	ck_assert_uint_le(c->nr_segs, c->max_segs);
	ck_assert_uint_le(c->nr_read, c->nr_segs);
	for (unsigned i = 0; i < c->nr_segs; i++) {
		const struct virtq_seg *s = &c->segs[i];

		ck_assert_msg(tram_contains(ram, s->host, s->len),
			      "seed %lu iter %u: segment %u outside RAM", seed,
			      iter, i);
		ck_assert_msg(s->host == ram->host + (s->gpa - TRAM_BASE),
			      "seed %lu iter %u: segment %u host/gpa mismatch",
			      seed, iter, i);
		ck_assert(s->len > 0);
		ck_assert(s->write == (i >= c->nr_read));
		if (s->write)
			wr += s->len;
		else
			rd += s->len;
	}
	ck_assert_uint_eq(rd, c->read_bytes);
	ck_assert_uint_eq(wr, c->write_bytes);
	ck_assert_uint_le(rd + wr, VIRTQ_CHAIN_BYTES_MAX);
}

/* Outcomes seen: [0] chains popped, [e] pops failing with -e. */
static unsigned long outcomes[256];

/* One random ring, popped until it is empty or the device gives up. */
static void hostile_round(struct rng *r, struct tram *ram, unsigned long seed,
			  unsigned iter)
{
	static struct virtq_seg segs[128];
	struct virtq_chain c = {.segs = segs, .max_segs = 1 + iter % 128};
	uint16_t size = (uint16_t)(1u << rng_below(r, 9));
	uint64_t features =
		rng_next(r) & (VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) |
			       VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	struct tring ring;
	struct virtq vq;
	int ret;

	tring_init(&ring, ram, size);
	ck_assert_int_eq(tring_enable(&ring, &vq, features), 0);
	for (uint16_t i = 0; i < size; i++)
		random_desc(r, &ring.desc[i], size);
	for (uint16_t i = 0; i <= size; i++)
		ring.avail->ring[i] = rng_below(r, 8)
					      ? (uint16_t)rng_below(r, size)
					      : (uint16_t)rng_next(r);
	ring.avail->flags = (uint16_t)rng_next(r);
	ring.avail->idx = rng_below(r, 8) ? (uint16_t)rng_below(r, size + 1u)
					  : (uint16_t)rng_next(r);
	scribble_tables(r, ram, ring.next_buf);
	for (unsigned n = 0; n < 2u * size + 2; n++) {
		ret = virtq_pop(&vq, &c);
		if (ret < 0 && -ret < 256)
			outcomes[-ret]++;
		if (ret <= 0)
			break;
		outcomes[0]++;
		check_chain(ram, &c, seed, iter);
		ck_assert_int_eq(
			virtq_push(&vq, c.head, (uint32_t)rng_below(r, 100)),
			0);
		virtq_should_notify(&vq);
		/* The guest rewrites a descriptor between our pops. */
		random_desc(r, &ring.desc[rng_below(r, size)], size);
	}
	if (ret < 0) {
		ck_assert_msg(virtq_error(&vq)[0] != '\0',
			      "seed %lu iter %u: error %d without a reason",
			      seed, iter, ret);
		ck_assert_int_eq(virtq_pop(&vq, &c), -EIO);
	}
}

START_TEST(test_hostile_rings)
{
	unsigned long seed = unit_seed();
	unsigned iters = unit_sanitized() ? 3000 : 20000;
	struct rng r = {.s = seed * 0x9E3779B97F4A7C15ull + 1};
	unsigned kinds = 0;
	struct tram ram;

	tram_init(&ram);
	rng_fill(&r, ram.host, TRAM_SIZE);
	memset(outcomes, 0, sizeof(outcomes));
	for (unsigned i = 0; i < iters; i++)
		hostile_round(&r, &ram, seed, i);
	tram_fini(&ram);
	/* A fuzzer that never gets past the first check proves little. */
	for (int e = 1; e < 256; e++)
		kinds += outcomes[e] != 0;
	ck_assert_msg(outcomes[0] > iters / 20 && kinds >= 8,
		      "seed %lu: only %lu chains popped, %u kinds of error",
		      seed, outcomes[0], kinds);
}
END_TEST

struct scribbler {
	struct tram *ram;
	uint64_t from, to; /* the guest rewrites [from, to) */
	atomic_bool stop;
	unsigned long seed;
};

/* A guest vCPU rewriting descriptors while the device reads them. */
static void *scribble_thread(void *arg)
{
	struct scribbler *s = arg;
	struct rng r = {.s = s->seed ^ 0xabcdef12345ull};

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint64_t gpa =
			s->from + 16 * rng_below(&r, (s->to - s->from) / 16);
		struct virtq_desc d;

		random_desc(&r, &d, 64);
		/* Racy by design: this is guest memory. */
		memcpy(tram_ptr(s->ram, gpa), &d, sizeof(d));
	}
	return NULL;
}

START_TEST(test_hostile_concurrent_writer)
{
	static struct virtq_seg segs[64];
	struct virtq_chain c = {.segs = segs, .max_segs = 64};
	unsigned long seed = unit_seed();
	unsigned iters = unit_sanitized() ? 20000 : 200000;
	struct rng r = {.s = seed + 7};
	struct scribbler s = {.seed = seed};
	struct tring ring;
	struct virtq vq;
	struct tram ram;
	pthread_t tid;

	tram_init(&ram);
	rng_fill(&r, ram.host, TRAM_SIZE);
	tring_init(&ring, &ram, 64);
	s.ram = &ram;
	s.from = ring.desc_gpa;
	s.to = ring.desc_gpa + VIRTQ_DESC_BYTES(64);
	ck_assert_int_eq(pthread_create(&tid, NULL, scribble_thread, &s), 0);
	for (unsigned i = 0; i < iters; i++) {
		int ret;

		if (i % 64 == 0) {
			ck_assert_int_eq(
				tring_enable(
					&ring, &vq,
					VIRTIO_BIT(
						VIRTIO_RING_F_INDIRECT_DESC)),
				0);
			ring.avail->idx = 0;
		}
		ring.avail->ring[ring.avail->idx & 63] =
			(uint16_t)rng_below(&r, 64);
		__atomic_store_n(&ring.avail->idx,
				 (uint16_t)(ring.avail->idx + 1),
				 __ATOMIC_RELEASE);
		ret = virtq_pop(&vq, &c);
		if (ret == 1) {
			check_chain(&ram, &c, seed, i);
			virtq_push(&vq, c.head, 0);
		}
	}
	atomic_store(&s.stop, true);
	pthread_join(tid, NULL);
	tram_fini(&ram);
}
END_TEST

static Suite *virtq_hostile_suite(void)
{
	Suite *s = suite_create("virtq_hostile");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_hostile_rings);
	tcase_add_test(tc, test_hostile_concurrent_writer);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(virtq_hostile_suite)
