// SPDX-License-Identifier: MIT
/*
 * guest/page_cache.c - per-vCPU cache of order-0 pages between the slab
 * layer and the host. A doorbell costs a VM exit (5-20 us on PVM), hundreds
 * of times the host's cost per page, so pages come in and go out
 * PAGE_CACHE_BATCH at a time: the cache refills with one ALLOC when empty
 * and drains one FREE batch when it grows past PAGE_CACHE_HIGH (Linux's
 * per-CPU page lists, with the host as the buddy allocator).
 *
 * Each vCPU touches only its own cache, so there is no lock. The state of a
 * vCPU's cache is one page from the host, so the pfn arrays the host reads
 * and writes lie in memory the guest holds.
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "pvmem_guest.h"

#define PAGE_CACHE_MAX (PAGE_CACHE_HIGH + PAGE_CACHE_BATCH)

struct page_cache_cpu {
	uint64_t count;
	uint64_t hits, refills, drains;
	uint64_t pfns[PAGE_CACHE_MAX]; /* hot end at [count - 1] */
	struct pvmem_free_ent ents[PAGE_CACHE_BATCH];
};

_Static_assert(sizeof(struct page_cache_cpu) <= PVMEM_BLOCK_SIZE,
	       "a vCPU's cache is one page");

static struct page_cache_cpu *page_caches[BVM_MAX_VCPUS];

/* Refills ask the host for pages of any zone, unmovable. */
#define PAGE_CACHE_GFP GFP_KERNEL

int page_cache_init(void)
{
	static uint64_t pfns[BVM_MAX_VCPUS];
	unsigned n = guest_boot.nr_cpus, granted;
	int err;

	if (page_caches[0])
		return 0;
	err = pv_alloc(GFP_KERNEL | __GFP_ZERO, 0, n, pfns, &granted);
	if (err) {
		for (unsigned i = 0; i < granted; i++)
			pv_free_block(pfn_to_virt(pfns[i]), 0);
		return err;
	}
	for (unsigned i = 0; i < n; i++)
		page_caches[i] = pfn_to_virt(pfns[i]);
	return 0;
}

static struct page_cache_cpu *page_cache_this(void)
{
	return page_caches[guest_cpu_id()];
}

void *page_cache_get(void)
{
	struct page_cache_cpu *c = page_cache_this();
	unsigned granted;

	if (mm_unlikely(!c))
		return NULL;
	if (mm_unlikely(!c->count)) {
		/* A partial grant (page limit) still fills what it can. */
		pv_alloc(PAGE_CACHE_GFP, 0, PAGE_CACHE_BATCH, c->pfns,
			 &granted);
		c->count = granted;
		c->refills++;
		if (!granted)
			return NULL;
	} else {
		c->hits++;
	}
	return pfn_to_virt(c->pfns[--c->count]);
}

unsigned page_cache_take(uint64_t *pfns, unsigned max)
{
	struct page_cache_cpu *c = page_cache_this();
	unsigned n = 0;

	while (c && c->count && n < max)
		pfns[n++] = c->pfns[--c->count];
	return n;
}

/* Free the @n coldest pages (the bottom of the stack) in one doorbell. */
static void page_cache_free_cold(struct page_cache_cpu *c, unsigned n)
{
	unsigned freed;
	int err;

	for (unsigned i = 0; i < n; i++)
		c->ents[i] = (struct pvmem_free_ent){.pfn = c->pfns[i]};
	err = pv_free(c->ents, n, &freed);
	/* Only pages the host gave us get here: a refusal is a guest bug. */
	if (err)
		guest_fail(__FILE__, __LINE__,
			   "page cache: host refused pfn 0x%llx: %d",
			   (unsigned long long)c->pfns[freed], err);
	memmove(c->pfns, c->pfns + n, (c->count - n) * sizeof(c->pfns[0]));
	c->count -= n;
	c->drains++;
}

void page_cache_put(void *page)
{
	struct page_cache_cpu *c = page_cache_this();

	c->pfns[c->count++] = virt_to_pfn(page);
	if (mm_unlikely(c->count > PAGE_CACHE_HIGH))
		page_cache_free_cold(c, PAGE_CACHE_BATCH);
}

void page_cache_drain(void)
{
	struct page_cache_cpu *c = page_cache_this();

	while (c && c->count)
		page_cache_free_cold(
			c, (unsigned)MM_MIN(c->count, PAGE_CACHE_BATCH));
}

/* Counters of other vCPUs are read racily: statistics only. */
void page_cache_get_stats(struct page_cache_stats *st)
{
	*st = (struct page_cache_stats){0};
	for (unsigned i = 0; i < BVM_MAX_VCPUS; i++) {
		const struct page_cache_cpu *c = page_caches[i];

		if (!c)
			continue;
		st->count += c->count;
		st->hits += c->hits;
		st->refills += c->refills;
		st->drains += c->drains;
	}
}
