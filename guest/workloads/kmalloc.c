// SPDX-License-Identifier: MIT
/*
 * workload=kmalloc: mixed sizes (8 B .. 8 KiB classes, and large blocks up
 * to 256 KiB straight from the host) with random lifetimes, krealloc that
 * must keep contents, kzalloc that must be zero. Each live buffer is filled
 * with a pattern of its own and checked when it is resized or freed.
 * Options: kmalloc.ops=N (default 100000), kmalloc.seed=N.
 */
#include "guest.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/port.h"
#include "mm/slab.h"
#include "mm_stack.h"
#include "prng.h"

#define KM_SLOTS 4096

struct km_slot {
	uint8_t *p;
	size_t size;
	uint8_t tag;
};

static struct km_slot *km_slots;

/* Mostly small, some medium, 2% large (above the 8 KiB classes). */
static size_t km_random_size(struct guest_rng *rng)
{
	uint64_t r = guest_rng_below(rng, 100);

	if (r < 70)
		return 1 + guest_rng_below(rng, 256);
	if (r < 98)
		return 257 + guest_rng_below(rng, KMALLOC_MAX_CACHE_SIZE - 256);
	return KMALLOC_MAX_CACHE_SIZE + 1 + guest_rng_below(rng, 256 << 10);
}

static uint8_t km_byte(uint8_t tag, size_t i)
{
	return (uint8_t)(tag + i * 31);
}

static void km_fill(struct km_slot *s, size_t from)
{
	for (size_t i = from; i < s->size; i++)
		s->p[i] = km_byte(s->tag, i);
}

static void km_verify(const struct km_slot *s, size_t upto)
{
	for (size_t i = 0; i < upto; i++) {
		if (s->p[i] != km_byte(s->tag, i))
			guest_fail(__FILE__, __LINE__,
				   "buffer %p (%zu bytes) byte %zu corrupted",
				   (void *)s->p, s->size, i);
	}
}

static void km_alloc(struct km_slot *s, struct guest_rng *rng)
{
	bool zero = guest_rng_below(rng, 8) == 0;

	s->size = km_random_size(rng);
	s->tag = (uint8_t)guest_rng_next(rng);
	s->p = zero ? kzalloc(s->size, GFP_KERNEL)
		    : kmalloc(s->size, GFP_KERNEL);
	GUEST_ASSERT(s->p);
	GUEST_ASSERT(ksize(s->p) >= s->size);
	if (zero)
		for (size_t i = 0; i < s->size; i++)
			GUEST_ASSERT_EQ(s->p[i], 0);
	km_fill(s, 0);
}

/* krealloc keeps min(old, new) bytes; the rest is filled anew. */
static void km_realloc(struct km_slot *s, struct guest_rng *rng)
{
	size_t new_size = km_random_size(rng);
	size_t keep = MM_MIN(new_size, s->size);
	uint8_t *p = krealloc(s->p, new_size, GFP_KERNEL);

	GUEST_ASSERT(p);
	s->p = p;
	s->size = new_size;
	km_verify(s, keep);
	km_fill(s, keep);
}

static void km_step(struct guest_rng *rng, unsigned long *reallocs)
{
	struct km_slot *s = &km_slots[guest_rng_below(rng, KM_SLOTS)];

	if (!s->p) {
		km_alloc(s, rng);
	} else if (guest_rng_below(rng, 4) == 0) {
		km_realloc(s, rng);
		(*reallocs)++;
	} else {
		km_verify(s, s->size);
		kfree(s->p);
		s->p = NULL;
	}
}

static void kmalloc_run(void)
{
	unsigned long ops = guest_cmdline_ulong("kmalloc.ops", 100000);
	unsigned long reallocs = 0, live = 0;
	struct guest_rng rng;
	int err = guest_mm_init();

	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	guest_rng_init(&rng, "kmalloc");
	km_slots = kcalloc(KM_SLOTS, sizeof(*km_slots), GFP_KERNEL);
	GUEST_ASSERT(km_slots);
	GUEST_ASSERT(kmalloc(0, GFP_KERNEL) == ZERO_SIZE_PTR);
	GUEST_ASSERT(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL) == NULL);
	for (unsigned long op = 0; op < ops; op++)
		km_step(&rng, &reallocs);
	for (unsigned i = 0; i < KM_SLOTS; i++)
		live += km_slots[i].p != NULL;
	guest_printf("kmalloc: %lu ops (%lu krealloc), %lu buffers live\n", ops,
		     reallocs, live);
	guest_mm_print_slabinfo();
	guest_mm_publish();
	for (unsigned i = 0; i < KM_SLOTS; i++) {
		if (!km_slots[i].p)
			continue;
		km_verify(&km_slots[i], km_slots[i].size);
		kfree(km_slots[i].p);
	}
	kfree(km_slots);
	for (unsigned i = 1; i <= KMALLOC_SHIFT_HIGH; i++) {
		struct kmem_cache *c = kmalloc_cache(1ul << i, GFP_KERNEL);

		if (c)
			GUEST_ASSERT_EQ(kmem_cache_check(c), 0);
	}
	guest_printf("kmalloc: every buffer checked and freed\n");
}
GUEST_WORKLOAD(kmalloc, "kmalloc",
	       "mixed kmalloc sizes and lifetimes, krealloc, large blocks",
	       kmalloc_run);
