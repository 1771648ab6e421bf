// SPDX-License-Identifier: MIT
/*
 * guest/dma.c - coherent DMA buffers for device drivers (dma.h): pvmem
 * DMA_ALLOC in the hosted model, the guest's own buddy in the native model
 * (a buddy block up to MAX_PAGE_ORDER, a contiguous range of frames above),
 * and a record of every live buffer per device.
 */
#include "dma.h"
#include "guest.h"
#include "guest_migrate.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm/mm.h"
#include "mm/page_order.h"
#include "mm/port.h"
#include "native_mm.h"
#include "pvmem_guest.h"

/*
 * Native model before native_mm_init(): the console probes right after the
 * banner, when the guest's buddy does not exist yet. Bump-allocated from
 * the image, never reused.
 */
#define DMA_POOL_BYTES (256u << 10)
static uint8_t dma_pool[DMA_POOL_BYTES] __attribute__((aligned(4096)));
static size_t dma_pool_used;

enum dma_source {
	DMA_FROM_HOST,	 /* pvmem DMA_ALLOC */
	DMA_FROM_BUDDY,	 /* native: one buddy block */
	DMA_FROM_CONTIG, /* native: mm_alloc_contig_pages() */
	DMA_FROM_CMA,	 /* native: the cma= area, mm_cma_alloc() */
	DMA_FROM_POOL,	 /* native, early boot: the image */
};

/* Native: the largest buffer (hosted, the host decides: -E2BIG above). */
#define DMA_NATIVE_MAX_BYTES (64ull << 20)
/*
 * Hosted: each -EAGAIN round moves up to a ring of guest blocks (64) out of
 * the way; give up after this many rounds that moved nothing, or rounds in
 * all (a 64 MiB range of single pages is 256 rounds).
 */
#define DMA_EAGAIN_TRIES  8
#define DMA_EAGAIN_ROUNDS 1024

/* One live buffer. A free slot has bytes == 0. */
struct dma_rec {
	uint64_t addr;
	uint64_t bytes; /* a block: PAGE_SIZE << order; beyond: whole pages */
	uint16_t dev;
	uint8_t source; /* enum dma_source */
};

#define DMA_MAX_RECS 1024
static struct dma_rec dma_recs[DMA_MAX_RECS];
static struct mm_lock dma_lock;

static bool dma_dev_valid(const struct dma_dev *dev)
{
	return dev && dev->id >= 1 && dev->id <= PVMEM_MAX_DEVICE_ID &&
	       dev->dma_bits >= PVMEM_MIN_DMA_BITS &&
	       dev->dma_bits <= PVMEM_MAX_DMA_BITS;
}

uint64_t dma_max_coherent(const struct dma_dev *dev)
{
	const struct pvmem_info *info;

	/* Native: contiguous ranges of our own buddy beyond a block. */
	if (guest_boot.native)
		return DMA_NATIVE_MAX_BYTES;
	/*
	 * Hosted: what the host says (pvmem ABI 1.2: INFO max_dma_bytes),
	 * else one buddy block. The allocation itself always leaves the
	 * decision to the host, which answers -E2BIG.
	 */
	if (pv_init() != 0)
		return 0;
	info = pv_info();
	if (info->features & PVMEM_F_CONTIG_DMA && info->max_dma_bytes)
		return info->max_dma_bytes;
	return PAGE_SIZE << MAX_PAGE_ORDER;
}

/*
 * What a request of @size takes: a power-of-two block up to one buddy
 * block, whole pages beyond (contiguous ranges are not rounded up).
 */
static uint64_t dma_round(uint64_t size)
{
	if (size <= PAGE_SIZE << MAX_PAGE_ORDER)
		return PAGE_SIZE << mm_get_order(size);
	return (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* Record a buffer; false if the table is full. Caller holds dma_lock. */
static bool __dma_record(const struct dma_rec *r)
{
	for (unsigned i = 0; i < DMA_MAX_RECS; i++) {
		if (dma_recs[i].bytes)
			continue;
		dma_recs[i] = *r;
		return true;
	}
	return false;
}

static int dma_alloc_pool(size_t bytes, uint64_t *addr)
{
	if (bytes > DMA_POOL_BYTES - dma_pool_used)
		return -ENOMEM;
	*addr = (uint64_t)(uintptr_t)(dma_pool + dma_pool_used);
	dma_pool_used += bytes;
	memset((void *)(uintptr_t)*addr, 0, bytes);
	return 0;
}

/* Native: the cma= area first, if it lies wholly below 2^@bits. */
static int dma_alloc_cma(struct mm *mm, uint64_t nr, unsigned bits,
			 uint64_t *pfn)
{
	struct mm_cma_info ci;
	int id = native_mm_cma();

	if (id < 0 || mm_cma_info(mm, id, &ci) ||
	    (bits < 64 &&
	     MM_PFN_TO_ADDR(ci.base_pfn + ci.count) > 1ull << bits))
		return -ENOMEM;
	return mm_cma_alloc(mm, id, nr, PAGEBLOCK_NR_PAGES, pfn);
}

/* Native: a contiguous range below dma_bits, the cma= area first. */
static int dma_alloc_range(struct mm *mm, struct dma_rec *r, unsigned bits,
			   uint64_t *pfn)
{
	int err = dma_alloc_cma(mm, r->bytes / PAGE_SIZE, bits, pfn);

	r->source = err ? DMA_FROM_CONTIG : DMA_FROM_CMA;
	if (err)
		err = mm_alloc_contig_pages(mm, r->bytes / PAGE_SIZE,
					    GFP_KERNEL, 0, bits, pfn);
	if (!err)
		memset((void *)(uintptr_t)MM_PFN_TO_ADDR(*pfn), 0, r->bytes);
	return err;
}

/*
 * Native: frames of our own buddy below dma_bits, zeroed. A block of 2 or
 * 4 MiB the buddy does not have is a range too (as the host does).
 */
static int dma_alloc_frames(const struct dma_dev *dev, struct dma_rec *r)
{
	struct mm *mm = native_mm();
	unsigned bits = dev->dma_bits;
	uint64_t pfn;
	int err = -ENOMEM;

	if (r->source == DMA_FROM_BUDDY) {
		gfp_t gfp = GFP_KERNEL | __GFP_ZERO;
		unsigned order = mm_get_order(r->bytes);

		/* 64 bits cover everything; do not make mm shift by 64. */
		err = bits >= 64
			      ? mm_alloc_pages(mm, gfp, order, &pfn)
			      : mm_alloc_pages_bits(mm, gfp, order, bits, &pfn);
		if (err == -ENOMEM && order >= PAGEBLOCK_ORDER)
			err = dma_alloc_range(mm, r, bits, &pfn);
	} else {
		err = dma_alloc_range(mm, r, bits, &pfn);
	}
	if (err)
		return err;
	r->addr = MM_PFN_TO_ADDR(pfn);
	return 0;
}

/* Native: frames back to our buddy the way they came. */
static int dma_free_frames(const struct dma_rec *r)
{
	struct mm *mm = native_mm();
	uint64_t pfn = MM_ADDR_TO_PFN(r->addr);

	if (r->source == DMA_FROM_BUDDY)
		return mm_free_pages(mm, pfn, mm_get_order(r->bytes));
	if (r->source == DMA_FROM_CMA)
		return mm_cma_release(mm, native_mm_cma(), pfn,
				      r->bytes / PAGE_SIZE);
	return mm_free_contig_range(mm, pfn, r->bytes / PAGE_SIZE);
}

/*
 * Native: the frames, then FRAME_DMA of the device in the guest's frame
 * database, as the host marks a hosted DMA block in its own.
 */
static int dma_alloc_native(const struct dma_dev *dev, struct dma_rec *r)
{
	struct mm *mm = native_mm();
	int err;

	if (r->bytes > DMA_NATIVE_MAX_BYTES)
		return -E2BIG;
	if (!mm) {
		r->source = DMA_FROM_POOL;
		/* The image lies below 4 GiB: fine for any dma_bits >= 32. */
		return dev->dma_bits < 32 ? -ENOMEM
					  : dma_alloc_pool(r->bytes, &r->addr);
	}
	r->source = r->bytes <= PAGE_SIZE << MAX_PAGE_ORDER ? DMA_FROM_BUDDY
							    : DMA_FROM_CONTIG;
	err = dma_alloc_frames(dev, r);
	if (err)
		return err;
	err = mm_set_frames_state(mm, MM_ADDR_TO_PFN(r->addr),
				  r->bytes / PAGE_SIZE, FRAME_GUEST, FRAME_DMA,
				  dev->id);
	if (err)
		dma_free_frames(r);
	return err;
}

/*
 * Hosted: one DMA_ALLOC. Beyond one block the host may first need movable
 * guest blocks out of the way: it posts migration requests and answers
 * -EAGAIN; the guest moves them (gmig_drain()) and asks again.
 */
static int dma_alloc_host(const struct dma_dev *dev, struct dma_rec *r)
{
	int err = pv_init();

	r->source = DMA_FROM_HOST;
	for (unsigned round = 1, idle = 0; !err; round++) {
		/*
		 * GFP_KERNEL, as Linux's drivers ask: the host may move the
		 * guest's movable blocks out of the way (it needs
		 * __GFP_DIRECT_RECLAIM for that), and zeroes the buffer.
		 */
		err = pv_dma_alloc(dev->id, r->bytes, dev->dma_bits,
				   GFP_KERNEL | __GFP_ZERO, &r->addr);
		if (err != -EAGAIN || round == DMA_EAGAIN_ROUNDS)
			break;
		idle = gmig_drain() ? 0 : idle + 1;
		if (idle == DMA_EAGAIN_TRIES)
			break;
		err = 0;
	}
	return err;
}

static int dma_free_block(const struct dma_rec *r)
{
	uint64_t pfn = MM_ADDR_TO_PFN(r->addr);
	int err;

	switch (r->source) {
	case DMA_FROM_HOST:
		return pv_dma_free(r->dev, r->addr);
	case DMA_FROM_BUDDY:
	case DMA_FROM_CONTIG:
	case DMA_FROM_CMA:
		err = mm_set_frames_state(native_mm(), pfn,
					  r->bytes / PAGE_SIZE, FRAME_DMA,
					  FRAME_GUEST, 0);
		return err ? err : dma_free_frames(r);
	default:
		return 0; /* the pool is never reused */
	}
}

int dma_alloc_coherent(const struct dma_dev *dev, size_t size, void **cpu,
		       uint64_t *dma_addr)
{
	struct dma_rec r;
	int err;

	if (!dma_dev_valid(dev) || size == 0)
		return -EINVAL;
	r = (struct dma_rec){.bytes = dma_round(size),
			     .dev = (uint16_t)dev->id};
	if (r.bytes < size) /* rounding wrapped */
		return -E2BIG;
	mm_lock(&dma_lock);
	err = guest_boot.native ? dma_alloc_native(dev, &r)
				: dma_alloc_host(dev, &r);
	if (!err && !__dma_record(&r)) {
		dma_free_block(&r);
		err = -ENOSPC;
	}
	mm_unlock(&dma_lock);
	if (err)
		return err;
	*cpu = (void *)(uintptr_t)r.addr;
	*dma_addr = r.addr;
	return 0;
}

int dma_free_coherent(const struct dma_dev *dev, size_t size, void *cpu,
		      uint64_t dma_addr)
{
	uint64_t addr = (uint64_t)(uintptr_t)cpu;
	int err = -EINVAL;

	if (!dma_dev_valid(dev) || size == 0 || addr != dma_addr)
		return -EINVAL;
	mm_lock(&dma_lock);
	for (unsigned i = 0; i < DMA_MAX_RECS; i++) {
		struct dma_rec *r = &dma_recs[i];

		if (r->bytes && r->addr == addr && r->dev == dev->id) {
			if (r->bytes != dma_round(size))
				break;
			err = dma_free_block(r);
			r->bytes = 0;
			break;
		}
	}
	mm_unlock(&dma_lock);
	return err;
}

/* Hosted: every DMA_FREE of @dev's blocks, batched 63 to a doorbell. */
static void dma_free_all_host(const struct dma_dev *dev)
{
	struct pvmem_block *b = NULL;

	for (unsigned i = 0; i < DMA_MAX_RECS; i++) {
		struct dma_rec *r = &dma_recs[i];
		struct pvmem_req *req;

		if (!r->bytes || r->dev != dev->id)
			continue;
		if (!b)
			b = pv_batch_begin();
		req = pv_batch_add(b, PVMEM_OP_DMA_FREE);
		if (!req) {
			pv_batch_ring(b);
			b = pv_batch_begin();
			req = pv_batch_add(b, PVMEM_OP_DMA_FREE);
		}
		req->device_id = r->dev;
		req->addr = r->addr;
		r->bytes = 0;
	}
	if (b)
		pv_batch_ring(b);
}

void dma_free_all(const struct dma_dev *dev)
{
	if (!dma_dev_valid(dev))
		return;
	mm_lock(&dma_lock);
	if (!guest_boot.native) {
		dma_free_all_host(dev);
	} else {
		for (unsigned i = 0; i < DMA_MAX_RECS; i++) {
			struct dma_rec *r = &dma_recs[i];

			if (r->bytes && r->dev == dev->id) {
				dma_free_block(r);
				r->bytes = 0;
			}
		}
	}
	mm_unlock(&dma_lock);
}

void dma_forget_all(const struct dma_dev *dev)
{
	mm_lock(&dma_lock);
	for (unsigned i = 0; i < DMA_MAX_RECS; i++)
		if (dma_recs[i].bytes && dma_recs[i].dev == dev->id)
			dma_recs[i].bytes = 0;
	mm_unlock(&dma_lock);
}

uint64_t dma_bytes_held(const struct dma_dev *dev)
{
	uint64_t sum = 0;

	mm_lock(&dma_lock);
	for (unsigned i = 0; i < DMA_MAX_RECS; i++)
		if (dma_recs[i].bytes && dma_recs[i].dev == dev->id)
			sum += dma_recs[i].bytes;
	mm_unlock(&dma_lock);
	return sum;
}
