// SPDX-License-Identifier: MIT
/*
 * workload=slab: caches for kernel-like objects (task_struct 3.5 KiB, inode
 * 600 B, dentry 192 B) over the hosted page source, churned in random order.
 * Each cache has a constructor, so a fresh object must arrive constructed
 * and the workload returns it constructed; every live object carries a
 * pattern derived from its slot and generation, checked before it is freed.
 * Options: slab.ops=N (default 200000), slab.seed=N.
 */
#include "guest.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm_stack.h"
#include "prng.h"
#include "pvmem_guest.h"

#define SLAB_CTOR_MAGIC 0xc7011eaf5eedull

struct slab_kind {
	const char *name;
	size_t size;
	unsigned slots;
	struct kmem_cache *cache;
	void **objs;
	uint64_t *gens;
	unsigned live;
};

static struct slab_kind slab_kinds[] = {
	{.name = "task_struct", .size = 3584, .slots = 256},
	{.name = "inode_cache", .size = 600, .slots = 2048},
	{.name = "dentry", .size = 192, .slots = 8192},
};

/* The constructed state: a magic first word, the rest zero. */
static void slab_ctor(void *obj, size_t size)
{
	memset(obj, 0, size);
	*(uint64_t *)obj = SLAB_CTOR_MAGIC;
}

static void slab_ctor_task(void *obj)
{
	slab_ctor(obj, 3584);
}

static void slab_ctor_inode(void *obj)
{
	slab_ctor(obj, 600);
}

static void slab_ctor_dentry(void *obj)
{
	slab_ctor(obj, 192);
}

static void (*const slab_ctors[])(void *) = {
	slab_ctor_task,
	slab_ctor_inode,
	slab_ctor_dentry,
};

static uint64_t slab_pattern(uint64_t gen, size_t i)
{
	return (gen * 0x9e3779b97f4a7c15ull) ^ (i * 0x100000001b3ull);
}

/* Words after the first: the first keeps the constructor's magic. */
static void slab_fill(struct slab_kind *k, unsigned slot)
{
	uint64_t *w = k->objs[slot];

	for (size_t i = 1; i < k->size / 8; i++)
		w[i] = slab_pattern(k->gens[slot], i);
}

static void slab_verify_and_reset(struct slab_kind *k, unsigned slot)
{
	uint64_t *w = k->objs[slot];

	GUEST_ASSERT_EQ(w[0], SLAB_CTOR_MAGIC);
	for (size_t i = 1; i < k->size / 8; i++) {
		if (w[i] != slab_pattern(k->gens[slot], i))
			guest_fail(__FILE__, __LINE__,
				   "%s object %p word %zu corrupted", k->name,
				   (void *)w, i);
		w[i] = 0; /* back to the constructed state */
	}
}

static void slab_check_constructed(struct slab_kind *k, const uint64_t *w)
{
	GUEST_ASSERT_EQ(w[0], SLAB_CTOR_MAGIC);
	for (size_t i = 1; i < k->size / 8; i++)
		GUEST_ASSERT_EQ(w[i], 0);
}

static void slab_step(struct slab_kind *k, struct guest_rng *rng, uint64_t gen)
{
	unsigned slot = (unsigned)guest_rng_below(rng, k->slots);

	if (k->objs[slot]) {
		slab_verify_and_reset(k, slot);
		kmem_cache_free(k->cache, k->objs[slot]);
		k->objs[slot] = NULL;
		k->live--;
		return;
	}
	k->objs[slot] = kmem_cache_alloc(k->cache, GFP_KERNEL);
	GUEST_ASSERT(k->objs[slot]);
	slab_check_constructed(k, k->objs[slot]);
	k->gens[slot] = gen;
	slab_fill(k, slot);
	k->live++;
}

static void slab_setup(void)
{
	for (unsigned i = 0; i < MM_ARRAY_SIZE(slab_kinds); i++) {
		struct slab_kind *k = &slab_kinds[i];

		k->cache = kmem_cache_create(k->name, k->size, 0,
					     SLAB_HWCACHE_ALIGN, slab_ctors[i]);
		k->objs = kcalloc(k->slots, sizeof(*k->objs), GFP_KERNEL);
		k->gens = kcalloc(k->slots, sizeof(*k->gens), GFP_KERNEL);
		GUEST_ASSERT(k->cache && k->objs && k->gens);
	}
}

static void slab_teardown(void)
{
	for (unsigned i = 0; i < MM_ARRAY_SIZE(slab_kinds); i++) {
		struct slab_kind *k = &slab_kinds[i];

		for (unsigned s = 0; s < k->slots; s++) {
			if (!k->objs[s])
				continue;
			slab_verify_and_reset(k, s);
			kmem_cache_free(k->cache, k->objs[s]);
		}
		GUEST_ASSERT_EQ(kmem_cache_check(k->cache), 0);
		GUEST_ASSERT_EQ(kmem_cache_destroy(k->cache), 0);
		kfree(k->objs);
		kfree(k->gens);
	}
}

static void slab_run(void)
{
	unsigned long ops = guest_cmdline_ulong("slab.ops", 200000);
	struct guest_rng rng;
	uint64_t t0;
	int err = guest_mm_init();

	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	guest_rng_init(&rng, "slab");
	slab_setup();
	t0 = rdtsc();
	for (unsigned long op = 0; op < ops; op++) {
		struct slab_kind *k = &slab_kinds[guest_rng_below(
			&rng, MM_ARRAY_SIZE(slab_kinds))];

		slab_step(k, &rng, op + 1);
	}
	for (unsigned i = 0; i < MM_ARRAY_SIZE(slab_kinds); i++) {
		GUEST_ASSERT_EQ(kmem_cache_check(slab_kinds[i].cache), 0);
		guest_printf("slab: %s: %u live objects\n", slab_kinds[i].name,
			     slab_kinds[i].live);
	}
	guest_printf("slab: %lu ops in %llu Mcycles, %llu doorbells\n", ops,
		     (unsigned long long)((rdtsc() - t0) >> 20),
		     (unsigned long long)pv_doorbell_count());
	guest_mm_print_slabinfo();
	guest_mm_publish();
	slab_teardown();
	guest_printf("slab: every object checked, caches destroyed\n");
}
GUEST_WORKLOAD(slab, "slab", "kernel-like slab caches churned at random",
	       slab_run);
