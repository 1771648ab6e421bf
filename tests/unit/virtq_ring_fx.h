/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/virtq_ring_fx.h - a host buffer that plays guest RAM, and a
 * minimal "driver" that lays out split rings in it, for the virtq and
 * virtio-mmio tests.
 */
#ifndef TESTS_UNIT_VIRTQ_RING_FX_H
#define TESTS_UNIT_VIRTQ_RING_FX_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtq.h"

/* Guest RAM starts away from 0 so gpa/host confusions show up. */
#define TRAM_BASE 0x100000ull
#define TRAM_SIZE (1ull << 20)

struct tram {
	uint8_t *host; /* TRAM_SIZE bytes, page-aligned */
	unsigned long translations;
};

struct tring {
	struct tram *ram;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t next_buf; /* bump allocator for buffers */
};

void tram_init(struct tram *ram);
void tram_fini(struct tram *ram);
void *tram_ptr(struct tram *ram, uint64_t gpa);
bool tram_contains(const struct tram *ram, const void *host, uint64_t len);

/* A virtq_translate_fn over a struct tram. */
void *tram_translate(void *opaque, uint64_t gpa, uint64_t len, bool write);

/* Lay out rings of @size at the start of RAM; buffers go after them. */
void tring_init(struct tring *r, struct tram *ram, uint16_t size);
int tring_enable(const struct tring *r, struct virtq *vq, uint64_t features);
uint64_t tring_alloc(struct tring *r, uint32_t len);
void tring_set_desc(struct tring *r, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next);
/* Make the chain at @head available (bumps avail->idx). */
void tring_post(struct tring *r, uint16_t head);
uint16_t *tring_used_event(struct tring *r);
uint16_t *tring_avail_event(struct tring *r);

#endif
