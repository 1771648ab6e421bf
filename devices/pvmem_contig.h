/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem_contig.h - DMA_ALLOC beyond one buddy block (pvmem ABI 1.2,
 * docs/hosted-memory.md "Large DMA buffers"): find a range of guest RAM
 * below the device's dma_bits that can be emptied, empty it (mm/'s
 * alloc_contig_range(); the guest's movable blocks through the migration
 * ring, synchronously for everything the host can move alone), and say why
 * when that is impossible.
 *
 * The search works on pageblocks (2 MiB): a window of whole pageblocks
 * qualifies when it lies in one zone, below dma_bits, and holds no pinned
 * frame (anything that is neither free nor a movable block). Among those
 * the one with the fewest movable frames wins. When a CMA area lies below
 * dma_bits, windows inside it are tried first; outside it CMA pageblocks
 * are never used. Part of the pvmem device: devices/pvmem.c calls it with
 * the DMA lock held for writing.
 */
#ifndef DEVICES_PVMEM_CONTIG_H
#define DEVICES_PVMEM_CONTIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/pvmem.h"
#include "devices/pvmem_migrate.h"
#include "mm/mm.h"
#include "vmm/guest_mem.h"

struct pvmem_contig_stats {
	uint64_t ok, ok_cma;	/* ranges handed out (and from a CMA area) */
	uint64_t frames;	/* frames handed out */
	uint64_t eagain;	/* answers "retry": migrations posted */
	uint64_t posted;	/* migration requests posted for ranges */
	uint64_t ebusy;		/* pinned frames in every range */
	uint64_t enomem;	/* not enough free frames to empty one */
	uint64_t eaddrnotavail; /* no range that size below dma_bits */
};

struct pvmem_contig;

/**
 * pvmem_contig_create() - the large-DMA state over @mm; @mig may be NULL
 * (no guest cooperation: guest blocks are pinned). Finds @mm's CMA area
 * (the first declared) by itself.
 * Return: 0 and *@out, or -ENOMEM.
 */
int pvmem_contig_create(struct pvmem_contig **out, struct mm *mm,
			const struct guest_mem *mem, struct pvmem_migrate *mig);

void pvmem_contig_destroy(struct pvmem_contig *c);

/**
 * pvmem_contig_alloc() - @nr contiguous frames (a multiple of
 * PAGEBLOCK_NR_PAGES) below 2^@dma_bits bytes, pageblock aligned, as
 * FRAME_DMA of @dev, zeroed when @gfp has __GFP_ZERO. Migration is allowed
 * only when @gfp has __GFP_DIRECT_RECLAIM.
 * Return: 0 and *@pfn (*@cma: it lies in the CMA area), or
 *   -EAGAIN  the guest's movable blocks are in the way of the best range:
 *            *@posted migration requests are in its ring; drain, retry;
 *   -EBUSY   every range below dma_bits holds pinned frames (or movable
 *            ones, and migration was not allowed);
 *   -ENOMEM  too few free frames outside the range to move its blocks to;
 *   -EADDRNOTAVAIL  RAM below dma_bits has no range of that size.
 */
int pvmem_contig_alloc(struct pvmem_contig *c, uint64_t nr, unsigned dma_bits,
		       uint32_t gfp, uint32_t dev, uint64_t *pfn, bool *cma,
		       unsigned *posted);

/** pvmem_contig_free() - give back [pfn, pfn + nr) (FRAME_DMA of a device). */
int pvmem_contig_free(struct pvmem_contig *c, uint64_t pfn, uint64_t nr);

void pvmem_contig_get_stats(struct pvmem_contig *c,
			    struct pvmem_contig_stats *out);

#endif /* DEVICES_PVMEM_CONTIG_H */
