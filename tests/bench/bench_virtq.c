// SPDX-License-Identifier: MIT
/*
 * tests/bench/bench_virtq.c - what the device side of a virtqueue costs:
 * host nanoseconds per chain for validate + translate + pop + push, and how
 * many interrupts a batch needs, for the chain shapes our devices see.
 * A host buffer plays guest RAM; no KVM involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/virtq.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE (8ull << 20)
#define QSIZE	 256

static uint8_t *ram;

static void *bench_translate(void *opaque, uint64_t gpa, uint64_t len,
			     bool write)
{
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (gpa - RAM_BASE))
		return NULL;
	return ram + (gpa - RAM_BASE);
}

static void *host(uint64_t gpa)
{
	return ram + (gpa - RAM_BASE);
}

struct shape {
	const char *name;
	unsigned nr_desc; /* descriptors per chain */
	bool indirect;
	uint64_t features;
	unsigned batch; /* chains posted per kick */
};

struct layout {
	uint64_t desc, avail, used, tables, bufs;
};

static struct layout layout(void)
{
	struct layout l = {.desc = RAM_BASE};

	l.avail = l.desc + VIRTQ_DESC_BYTES(QSIZE);
	l.used = (l.avail + VIRTQ_AVAIL_BYTES(QSIZE) + 3) & ~3ull;
	l.tables = (l.used + VIRTQ_USED_BYTES(QSIZE) + 4095) & ~4095ull;
	l.bufs = l.tables + QSIZE * 16 * 16;
	return l;
}

/* Build QSIZE/nr_desc chains (or QSIZE indirect ones) once. */
static unsigned build_chains(const struct shape *s, const struct layout *l,
			     uint16_t *heads)
{
	struct virtq_desc *desc = host(l->desc);
	unsigned per = s->indirect ? 1 : s->nr_desc, n = QSIZE / per;

	for (unsigned c = 0; c < n; c++) {
		struct virtq_desc *t = desc + c * per;

		if (s->indirect) {
			uint64_t tgpa = l->tables + c * 16 * 16;

			*t = (struct virtq_desc){tgpa, s->nr_desc * 16,
						 VIRTQ_DESC_F_INDIRECT, 0};
			t = host(tgpa);
		}
		for (unsigned i = 0; i < s->nr_desc; i++) {
			uint16_t next = s->indirect ? i + 1 : c * per + i + 1;
			bool last = i == s->nr_desc - 1;

			t[i] = (struct virtq_desc){
				.addr = l->bufs + (c * 16 + i) * 512,
				.len = 512,
				.flags = (uint16_t)((last ? 0
							  : VIRTQ_DESC_F_NEXT) |
						    (last ? VIRTQ_DESC_F_WRITE
							  : 0)),
				.next = last ? 0 : next};
		}
		heads[c] = (uint16_t)(c * per);
	}
	return n;
}

static int handle_status(void *opaque, struct virtq *vq,
			 struct virtq_chain *chain, uint32_t *written)
{
	*(uint8_t *)chain->segs[chain->nr_segs - 1].host = 0;
	*written = 1;
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_shape(const struct shape *s, unsigned long total)
{
	struct layout l = layout();
	struct virtq_avail *avail = host(l.avail);
	struct virtq_used *used = host(l.used);
	struct virtq_seg segs[32];
	struct virtq_chain chain = {.segs = segs, .max_segs = 32};
	uint16_t heads[QSIZE];
	unsigned long done = 0, irqs = 0;
	unsigned n, next = 0;
	struct virtq vq;
	double t0, t1;
	bool notify;

	memset(ram, 0, RAM_SIZE);
	n = build_chains(s, &l, heads);
	virtq_init(&vq, bench_translate, NULL);
	if (virtq_enable(&vq, QSIZE, l.desc, l.avail, l.used, s->features)) {
		fprintf(stderr, "bench_virtq: enable: %s\n", virtq_error(&vq));
		return -1;
	}
	t0 = now_ns();
	while (done < total) {
		unsigned batch = s->batch < n ? s->batch : n;
		int got;

		/* The driver: post a batch, ask for an interrupt per batch. */
		for (unsigned i = 0; i < batch; i++)
			avail->ring[(avail->idx + i) % QSIZE] =
				heads[next++ % n];
		__atomic_store_n(&avail->idx, (uint16_t)(avail->idx + batch),
				 __ATOMIC_RELEASE);
		if (s->features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX))
			avail->ring[QSIZE] = (uint16_t)(used->idx + batch -
							1); /* used_event */
		got = virtq_process(&vq, &chain, handle_status, NULL, &notify);
		if (got != (int)batch) {
			fprintf(stderr,
				"bench_virtq: %s: processed %d of %u: %s\n",
				s->name, got, batch, virtq_error(&vq));
			return -1;
		}
		irqs += notify;
		done += batch;
	}
	t1 = now_ns();
	printf("%-28s %6u %6u %10.1f %10.3f\n", s->name, s->nr_desc, s->batch,
	       (t1 - t0) / done, (double)irqs / done);
	return 0;
}

int main(void)
{
	const uint64_t v1 = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	const uint64_t ind = VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
	const uint64_t evt = VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	const struct shape shapes[] = {
		{"1 desc, kick per chain", 1, false, v1, 1},
		{"1 desc, batch 64", 1, false, v1, 64},
		{"3 desc (blk-like), batch 1", 3, false, v1, 1},
		{"3 desc (blk-like), batch 64", 3, false, v1, 64},
		{"3 desc, EVENT_IDX, batch 64", 3, false, v1 | evt, 64},
		{"8 desc indirect, batch 64", 8, true, v1 | ind, 64},
		{"16 desc indirect, batch 16", 16, true, v1 | ind, 16},
	};
	unsigned long total = 2000000;

	ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram)
		return 1;
	printf("virtq device side: pop (validate + translate) + push, host ns "
	       "per chain\n");
	printf("%-28s %6s %6s %10s %10s\n", "shape", "descs", "batch",
	       "ns/chain", "irq/chain");
	for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (run_shape(&shapes[i], total))
			return 1;
	}
	free(ram);
	return 0;
}
