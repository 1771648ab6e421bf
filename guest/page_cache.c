// SPDX-License-Identifier: MIT
/*
 * guest/page_cache.c - per-vCPU cache of order-0 pages between the slab
 * layer and the host. A doorbell costs a VM exit (5-20 us on PVM), hundreds
 * of times the host's cost per page, so pages come in and go out
 * PAGE_CACHE_BATCH at a time: the cache refills with one ALLOC when empty
 * and drains one FREE batch when it grows past PAGE_CACHE_HIGH (Linux's
 * per-CPU page lists, with the host as the buddy allocator).
 *
 * With a 1.3 host the batches go through the vCPU's page ring instead
 * (abi/pvmem.h "Page rings"): an empty cache takes one frame from the
 * ring's supply, a full one puts its coldest batch into the ring's
 * returns, neither with an exit. The vCPU kicks the host (one exit) only
 * when the supply falls below the host's low mark or the returns reach its
 * high mark; while a host thread does either for it (PVMEM_RING_F_POLL_SUP,
 * _RET) only when the supply is empty or the returns full.
 *
 * Each vCPU touches only its own cache, so there is no lock. The state of a
 * vCPU's cache is one page from the host, so the pfn arrays the host reads
 * and writes lie in memory the guest holds.
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "pvmem_guest.h"

#define PAGE_CACHE_MAX (PAGE_CACHE_HIGH_MAX + PAGE_CACHE_BATCH)
/* The state of a vCPU's cache: a block of 2^this pages from the host. */
#define PAGE_CACHE_STATE_ORDER 2

struct page_cache_cpu {
	uint64_t count;
	uint64_t high;	  /* drain above this: autotuned */
	uint64_t churned; /* pages sent back since the cache last ran dry */
	uint64_t hits, refills, drains;
	uint64_t ring_takes, ring_puts, kicks;
	uint64_t pfns[PAGE_CACHE_MAX]; /* hot end at [count - 1] */
	struct pvmem_free_ent ents[PAGE_CACHE_BATCH];
	/* page_cache_put_home() without a ring: pages on their way home. */
	uint64_t nr_home;
	struct pvmem_free_ent home[PAGE_CACHE_HOME_BATCH];
};

_Static_assert(sizeof(struct page_cache_cpu) <=
		       PVMEM_BLOCK_SIZE << PAGE_CACHE_STATE_ORDER,
	       "a vCPU's cache fits its state block");

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
	err = pv_alloc(GFP_KERNEL | __GFP_ZERO, PAGE_CACHE_STATE_ORDER, n, pfns,
		       &granted);
	if (err) {
		for (unsigned i = 0; i < granted; i++)
			pv_free_block(pfn_to_virt(pfns[i]),
				      PAGE_CACHE_STATE_ORDER);
		return err;
	}
	for (unsigned i = 0; i < n; i++) {
		page_caches[i] = pfn_to_virt(pfns[i]);
		page_caches[i]->high = PAGE_CACHE_HIGH;
	}
	return 0;
}

static struct page_cache_cpu *page_cache_this(void)
{
	return page_caches[guest_cpu_id()];
}

/*
 * How long a vCPU waits for a polling host before it kicks: a few
 * microseconds of pause instructions, far below the cost of an exit.
 */
#define RING_SPIN 64

static bool ring_polled(const struct pvmem_ring *r, uint32_t flag)
{
	return __atomic_load_n(&r->flags, __ATOMIC_ACQUIRE) & flag;
}

static uint32_t ring_supply(const struct pvmem_ring *r)
{
	return __atomic_load_n(&r->sup_prod, __ATOMIC_ACQUIRE) - r->sup_cons;
}

static void ring_kick(struct page_cache_cpu *c, struct pvmem_ring *r,
		      uint32_t flags)
{
	pv_ring_kick(r, flags);
	c->kicks++;
}

/* A frame from the ring's supply; 0 only if the host has none for us. */
static uint64_t ring_get(struct page_cache_cpu *c, struct pvmem_ring *r)
{
	uint64_t pfn = pv_ring_take(r);

	if (mm_likely(pfn)) {
		if (ring_supply(r) < r->sup_low &&
		    !ring_polled(r, PVMEM_RING_F_POLL_SUP))
			ring_kick(c, r, 0);
	} else {
		for (unsigned i = 0; !pfn && i < RING_SPIN &&
				     ring_polled(r, PVMEM_RING_F_POLL_SUP);
		     i++) {
			__asm__ volatile("pause");
			if (ring_supply(r))
				pfn = pv_ring_take(r);
		}
		if (!pfn) {
			ring_kick(c, r, 0);
			pfn = pv_ring_take(r);
		}
	}
	c->ring_takes += pfn != 0;
	return pfn;
}

void *page_cache_get(void)
{
	struct page_cache_cpu *c = page_cache_this();
	struct pvmem_ring *r;
	unsigned granted;
	uint64_t pfn;

	if (mm_unlikely(!c))
		return NULL;
	/*
	 * Ran dry after sending pages back: the vCPU frees and allocates in
	 * waves larger than the cache. Keep more (Linux's pcp->high
	 * autotuning), so that the waves stay here instead of crossing to
	 * the host and back.
	 */
	if (mm_unlikely(!c->count) && c->churned) {
		c->high =
			MM_MIN(c->high + PAGE_CACHE_BATCH, PAGE_CACHE_HIGH_MAX);
		c->churned = 0;
	}
	if (mm_unlikely(!c->count) && (r = pv_ring())) {
		pfn = ring_get(c, r);
		if (mm_likely(pfn))
			return pfn_to_virt(pfn);
		/* None after a kick: ask by doorbell, as without a ring. */
		c->high = PAGE_CACHE_HIGH; /* and hold less: memory is short */
	}
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
	c->churned += n;
}

static uint32_t ring_returns(const struct pvmem_ring *r)
{
	return r->ret_prod - __atomic_load_n(&r->ret_cons, __ATOMIC_ACQUIRE);
}

/* Put one frame into the returns, waiting for or kicking the host. */
static void ring_put_one(struct page_cache_cpu *c, struct pvmem_ring *r,
			 uint64_t pfn)
{
	for (unsigned i = 0;
	     i < RING_SPIN && ring_polled(r, PVMEM_RING_F_POLL_RET); i++) {
		if (pv_ring_put(r, pfn))
			return;
		__asm__ volatile("pause");
	}
	if (pv_ring_put(r, pfn))
		return;
	ring_kick(c, r, 0);
	if (!pv_ring_put(r, pfn))
		guest_fail(__FILE__, __LINE__,
			   "page ring %u: returns still full after a kick",
			   r->index);
}

/* The @n coldest pages into the ring's returns: no exit, as a rule. */
static void page_cache_return_cold(struct page_cache_cpu *c,
				   struct pvmem_ring *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ring_put_one(c, r, c->pfns[i]);
	c->ring_puts += n;
	memmove(c->pfns, c->pfns + n, (c->count - n) * sizeof(c->pfns[0]));
	c->count -= n;
	c->drains++;
	c->churned += n;
	if (ring_returns(r) >= r->ret_high &&
	    !ring_polled(r, PVMEM_RING_F_POLL_RET))
		ring_kick(c, r, 0);
}

void page_cache_put(void *page)
{
	struct page_cache_cpu *c = page_cache_this();
	struct pvmem_ring *r;

	c->pfns[c->count++] = virt_to_pfn(page);
	if (mm_likely(c->count <= c->high))
		return;
	r = pv_ring();
	if (r)
		page_cache_return_cold(c, r, PAGE_CACHE_BATCH);
	else
		page_cache_free_cold(c, PAGE_CACHE_BATCH);
}

/* Send the pages page_cache_put_home() batched home in one FREE. */
static void page_cache_flush_home(struct page_cache_cpu *c)
{
	unsigned freed;
	int err;

	if (!c->nr_home)
		return;
	err = pv_free(c->home, (unsigned)c->nr_home, &freed);
	/* Only pages the host gave us get here: a refusal is a guest bug. */
	if (err)
		guest_fail(__FILE__, __LINE__,
			   "page cache: host refused pfn 0x%llx: %d",
			   (unsigned long long)c->home[freed].pfn, err);
	c->nr_home = 0;
	c->drains++;
}

void page_cache_put_home(void *page)
{
	struct page_cache_cpu *c = page_cache_this();
	struct pvmem_ring *r = pv_ring();
	uint64_t pfn = virt_to_pfn(page);

	if (mm_unlikely(!c)) { /* before page_cache_init() */
		if (pv_free_block(page, 0))
			guest_fail(__FILE__, __LINE__,
				   "host refused pfn 0x%llx",
				   (unsigned long long)pfn);
		return;
	}
	if (r) {
		ring_put_one(c, r, pfn);
		c->ring_puts++;
		if (ring_returns(r) >= r->ret_high &&
		    !ring_polled(r, PVMEM_RING_F_POLL_RET))
			ring_kick(c, r, 0);
		return;
	}
	c->home[c->nr_home++] = (struct pvmem_free_ent){.pfn = pfn};
	if (c->nr_home == PAGE_CACHE_HOME_BATCH)
		page_cache_flush_home(c);
}

void page_cache_drain(void)
{
	struct page_cache_cpu *c = page_cache_this();
	struct pvmem_ring *r = pv_ring();

	if (c) {
		c->high = PAGE_CACHE_HIGH;
		page_cache_flush_home(c);
	}
	if (c && r) {
		/* Everything back, and the host takes its supply back. */
		page_cache_return_cold(c, r, (unsigned)c->count);
		ring_kick(c, r, PVMEM_KICK_DRAIN);
		return;
	}
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
		st->ring_takes += c->ring_takes;
		st->ring_puts += c->ring_puts;
		st->kicks += c->kicks;
	}
}
