/* SPDX-License-Identifier: MIT */
/*
 * guest/include/pvmem_guest.h - the guest's driver for the paravirtual memory
 * device (abi/pvmem.h, docs/hosted-memory.md) and the per-vCPU page cache
 * built on it (the hosted model). The memory stack over it is mm_stack.h.
 *
 * Every call that talks to the host costs one VM exit (5-20 us on PVM
 * hosts), so each function here rings the doorbell at most once: requests
 * are batched into the calling vCPU's request block. All of it runs at CPL 3
 * (the doorbell is an MMIO write). Not interrupt-safe: a vCPU must not
 * re-enter it from an interrupt handler (the guest allocates nothing at
 * interrupt level).
 */
#ifndef GUEST_PVMEM_GUEST_H
#define GUEST_PVMEM_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/pvmem.h"
#include "mm/port.h"

#define GUEST_ENODEV 19 /* no pvmem device (native model, old VMM) */

/* Identity map: a frame's address is its pfn << 12. */
static inline void *pfn_to_virt(uint64_t pfn)
{
	return (void *)(uintptr_t)(pfn << PVMEM_PAGE_SHIFT);
}

static inline uint64_t virt_to_pfn(const void *p)
{
	return (uint64_t)(uintptr_t)p >> PVMEM_PAGE_SHIFT;
}

/**
 * pv_init() - probe the device (an MMIO read must return PVMEM_MAGIC), ask
 * for INFO and allocate one request block per vCPU from the host (that first
 * ALLOC goes through a static page in the kernel image, which the host
 * treats as held). Idempotent; vCPU 0 only, before other vCPUs use pv_*.
 * Return: 0, -GUEST_ENODEV, or the host's error.
 */
int pv_init(void);

/* The host's INFO answer (valid after pv_init()). */
const struct pvmem_info *pv_info(void);

/* Doorbells this guest rang since boot, on all vCPUs. */
uint64_t pv_doorbell_count(void);
/* Ring kicks since boot, and all exits to the device (doorbells + kicks). */
uint64_t pv_kick_count(void);
uint64_t pv_exit_count(void);

/*
 * Page rings (ABI 1.3, abi/pvmem.h): the calling vCPU's ring, or NULL (a
 * host without rings, or pvmem.rings=0 on the command line).
 * pv_ring_take(): a frame from the supply, or 0 when it is empty (no
 * exit). pv_ring_put(): an order-0 frame into the returns; false when
 * full (no exit). pv_ring_kick(): one exit: the host drains the returns
 * and refills the supply (flags PVMEM_KICK_DRAIN: takes the supply back).
 */
struct pvmem_ring *pv_ring(void);
uint64_t pv_ring_take(struct pvmem_ring *r);
bool pv_ring_put(struct pvmem_ring *r, uint64_t pfn);
void pv_ring_kick(struct pvmem_ring *r, uint32_t flags);

/*
 * Batches: pv_batch_begin() empties the calling vCPU's block and returns it;
 * pv_batch_add() appends a zeroed request marked PVMEM_PENDING (NULL when the
 * block is full); pv_batch_ring() rings once and returns the header status
 * (0 if the requests ran: each has its own status). The block stays valid,
 * with the results, until the vCPU's next pv_* call.
 */
struct pvmem_block *pv_batch_begin(void);
struct pvmem_req *pv_batch_add(struct pvmem_block *b, enum pvmem_op op);
int pv_batch_ring(struct pvmem_block *b);

/*
 * The raw doorbell, for the hostile workload: ring with any PFN, header and
 * requests as the caller left them.
 */
void pv_ring_pfn(uint32_t pfn);

/**
 * pv_alloc() - @count blocks of 2^@order frames in one doorbell (requests of
 * up to PVMEM_MAX_COUNT each, so @count <= 63 * 512).
 * @pfns: receives the granted blocks' first pfns; must lie in memory the
 *        guest holds (its image or allocated pages).
 * @granted: blocks granted (a partial grant is the first *@granted entries).
 * Return: 0 if all were granted, else the status that stopped it (-EDQUOT:
 * page limit; -ENOMEM: host allocator dry; -EINVAL ...).
 */
int pv_alloc(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
	     unsigned *granted);

/**
 * pv_free() - give back @count blocks (pfn, order) in one doorbell. The
 * entries go in requests of PVMEM_MAX_COUNT; within one, the first bad entry
 * stops it (see the ABI), the other requests still run. @ents must lie in
 * held memory.
 * @freed: entries freed in all requests (may be NULL).
 * Return: 0 or the status of the entry that stopped it.
 */
int pv_free(const struct pvmem_free_ent *ents, unsigned count, unsigned *freed);

/**
 * pv_batch_alloc_split() - add to batch @b an ALLOC of @count (1 ..
 * PVMEM_MAX_COUNT) blocks of 2^@order (>= 1) frames into @pfns and a SPLIT
 * of the same array (ABI 1.4): after pv_batch_ring() each granted block is
 * 2^@order order-0 pages the guest holds, freed or ballooned one by one.
 * Zeroes @pfns (held memory) so that SPLIT stops where ALLOC did.
 * Return: the ALLOC request (SPLIT is the next one), or NULL when the host
 * has no SPLIT (PVMEM_F_SPLIT), the arguments are out of range or @b has
 * no room for two more requests (nothing added).
 */
struct pvmem_req *pv_batch_alloc_split(struct pvmem_block *b, uint32_t gfp,
				       unsigned order, unsigned count,
				       uint64_t *pfns);

/**
 * pv_split_granted() - after the batch rang: how many blocks of @alloc
 * (from pv_batch_alloc_split()) the guest now holds split; they are the
 * first entries of its array. Rings a FREE (reusing this vCPU's block: read
 * the batch's other results first) only if SPLIT refused a granted block,
 * which goes back whole.
 */
unsigned pv_split_granted(struct pvmem_req *alloc);

/**
 * pv_alloc_split() - pv_batch_alloc_split() alone in one doorbell.
 * @granted: blocks granted and split.
 * Return: 0 if all were granted, the ALLOC status that cut it short
 * (-ENOMEM, -EDQUOT), -ENOSYS for a host without SPLIT (no doorbell) or
 * -EINVAL.
 */
int pv_alloc_split(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
		   unsigned *granted);

/* One block: pv_alloc()/pv_free() of a single entry. */
void *pv_alloc_block(uint32_t gfp, unsigned order);
int pv_free_block(void *addr, unsigned order);

/**
 * pv_dma_alloc() - one contiguous block of at least @size bytes for device
 * @dev (1 .. PVMEM_MAX_DEVICE_ID), below 2^@dma_bits.
 * Return: 0 and *@gpa, or the host's error.
 */
int pv_dma_alloc(unsigned dev, uint64_t size, unsigned dma_bits, uint32_t gfp,
		 uint64_t *gpa);
int pv_dma_free(unsigned dev, uint64_t gpa);

/* The host's frame and page-limit statistics. Return 0 or an error. */
int pv_stats(struct pvmem_stats *st);

/* Per-vCPU page cache (guest/page_cache.c). */
#define PAGE_CACHE_BATCH 64  /* pages per refill or drain doorbell */
#define PAGE_CACHE_HIGH	 256 /* drain a batch above this many */
/* ... which grows by a batch each time the cache runs dry after sending
 * pages back (autotuning, as Linux's pcp->high), up to: */
#define PAGE_CACHE_HIGH_MAX   1536
#define PAGE_CACHE_HOME_BATCH 32 /* page_cache_put_home() without a ring */

struct page_cache_stats {
	uint64_t count; /* pages cached now, all vCPUs */
	uint64_t hits, refills, drains;
	/* With page rings: frames taken / returned without an exit, kicks. */
	uint64_t ring_takes, ring_puts, kicks;
};

/**
 * page_cache_init() - give every vCPU an empty cache (one page of state
 * each, from the host). vCPU 0, after pv_init(). Return 0 or an error.
 */
int page_cache_init(void);

/*
 * An order-0 page (GFP_KERNEL-like: any zone) from this vCPU's cache,
 * refilled with one ALLOC of PAGE_CACHE_BATCH when empty; NULL if the host
 * grants none (page limit or out of memory).
 */
void *page_cache_get(void);
/*
 * Up to @max pages already in this vCPU's cache, into @pfns, without a
 * doorbell (the balloon takes what a shrinker just freed). Return how many.
 */
unsigned page_cache_take(uint64_t *pfns, unsigned max);
/* Back to this vCPU's cache; above PAGE_CACHE_HIGH one FREE drains a batch. */
void page_cache_put(void *page);
/*
 * An order-0 page the host should have back soon (ZONE_DMA is scarce), not
 * kept in the cache: into the vCPU's ring returns (no exit as a rule; the
 * host takes returns back whenever it runs short), without a ring into a
 * batch of PAGE_CACHE_HOME_BATCH that one FREE sends home.
 */
void page_cache_put_home(void *page);
/* Give this vCPU's cached pages back to the host (one doorbell per batch). */
void page_cache_drain(void);
void page_cache_get_stats(struct page_cache_stats *st);

#endif /* GUEST_PVMEM_GUEST_H */
