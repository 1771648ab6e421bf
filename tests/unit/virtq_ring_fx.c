// SPDX-License-Identifier: MIT
/* tests/unit/virtq_ring_fx.c - fake guest RAM and a tiny ring driver. */
#include <stdlib.h>
#include <string.h>

#include "virtq_ring_fx.h"
#include "unit.h"

void tram_init(struct tram *ram)
{
	ram->host = aligned_alloc(4096, TRAM_SIZE);
	ck_assert_ptr_nonnull(ram->host);
	memset(ram->host, 0, TRAM_SIZE);
	ram->translations = 0;
}

void tram_fini(struct tram *ram)
{
	free(ram->host);
	ram->host = NULL;
}

void *tram_ptr(struct tram *ram, uint64_t gpa)
{
	ck_assert(gpa >= TRAM_BASE && gpa < TRAM_BASE + TRAM_SIZE);
	return ram->host + (gpa - TRAM_BASE);
}

bool tram_contains(const struct tram *ram, const void *host, uint64_t len)
{
	uintptr_t p = (uintptr_t)host, base = (uintptr_t)ram->host;

	return p >= base && len <= TRAM_SIZE && p - base <= TRAM_SIZE - len;
}

void *tram_translate(void *opaque, uint64_t gpa, uint64_t len, bool write)
{
	struct tram *ram = opaque;

	ram->translations++;
	/* virtq promises len > 0 and no wrap; hold it to that. */
	ck_assert(len > 0 && gpa + len > gpa);
	if (gpa < TRAM_BASE || gpa - TRAM_BASE > TRAM_SIZE ||
	    len > TRAM_SIZE - (gpa - TRAM_BASE))
		return NULL;
	return ram->host + (gpa - TRAM_BASE);
}

void tring_init(struct tring *r, struct tram *ram, uint16_t size)
{
	uint64_t gpa = TRAM_BASE;

	r->ram = ram;
	r->size = size;
	r->desc_gpa = gpa;
	gpa += VIRTQ_DESC_BYTES(size);
	r->avail_gpa = gpa;
	gpa += (VIRTQ_AVAIL_BYTES(size) + 3) & ~3ull;
	r->used_gpa = gpa;
	gpa += VIRTQ_USED_BYTES(size);
	r->next_buf = (gpa + 4095) & ~4095ull;
	r->desc = tram_ptr(ram, r->desc_gpa);
	r->avail = tram_ptr(ram, r->avail_gpa);
	r->used = tram_ptr(ram, r->used_gpa);
}

int tring_enable(const struct tring *r, struct virtq *vq, uint64_t features)
{
	virtq_init(vq, tram_translate, r->ram);
	return virtq_enable(vq, r->size, r->desc_gpa, r->avail_gpa, r->used_gpa,
			    features);
}

uint64_t tring_alloc(struct tring *r, uint32_t len)
{
	uint64_t gpa = r->next_buf;

	r->next_buf = (r->next_buf + len + 15) & ~15ull;
	ck_assert(r->next_buf <= TRAM_BASE + TRAM_SIZE);
	return gpa;
}

void tring_set_desc(struct tring *r, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	r->desc[i] = (struct virtq_desc){
		.addr = addr, .len = len, .flags = flags, .next = next};
}

void tring_post(struct tring *r, uint16_t head)
{
	r->avail->ring[r->avail->idx & (r->size - 1)] = head;
	__atomic_store_n(&r->avail->idx, (uint16_t)(r->avail->idx + 1),
			 __ATOMIC_RELEASE);
}

uint16_t *tring_used_event(struct tring *r)
{
	return &r->avail->ring[r->size];
}

uint16_t *tring_avail_event(struct tring *r)
{
	return (uint16_t *)&r->used->ring[r->size];
}
