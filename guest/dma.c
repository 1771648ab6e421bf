// SPDX-License-Identifier: MIT
/*
 * guest/dma.c - coherent DMA buffers for device drivers (dma.h): pvmem
 * DMA_ALLOC in the hosted model, the guest's own buddy in the native model,
 * and a record of every live buffer per device.
 */
#include "dma.h"
#include "guest.h"
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

enum dma_source { DMA_FROM_HOST, DMA_FROM_BUDDY, DMA_FROM_POOL };

/* One live buffer. A free slot has bytes == 0. */
struct dma_rec {
	uint64_t addr;
	uint64_t bytes; /* the whole block: PAGE_SIZE << order */
	uint16_t dev;
	uint8_t order;
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
	/*
	 * One buddy block, on either side. Issue 9 (contiguous allocation
	 * beyond MAX_PAGE_ORDER) raises this: the hosted path already asks
	 * the host, which answers -E2BIG above its own limit.
	 */
	return PAGE_SIZE << MAX_PAGE_ORDER;
}

/* Record a block; false if the table is full. Caller holds dma_lock. */
static bool __dma_record(const struct dma_dev *dev, uint64_t addr,
			 unsigned order, enum dma_source src)
{
	for (unsigned i = 0; i < DMA_MAX_RECS; i++) {
		if (dma_recs[i].bytes)
			continue;
		dma_recs[i] = (struct dma_rec){addr, PAGE_SIZE << order,
					       (uint16_t)dev->id,
					       (uint8_t)order, (uint8_t)src};
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

/* Native: a zeroed block of our own buddy, then FRAME_DMA of the device. */
static int dma_alloc_buddy(const struct dma_dev *dev, unsigned order,
			   uint64_t *addr)
{
	struct mm *mm = native_mm();
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO;
	uint64_t pfn;
	int err;

	if (dev->dma_bits >= 64)
		err = mm_alloc_pages(mm, gfp, order, &pfn);
	else
		err = mm_alloc_pages_bits(mm, gfp, order, dev->dma_bits, &pfn);
	if (err)
		return err;
	err = mm_set_frames_state(mm, pfn, 1ull << order, FRAME_GUEST,
				  FRAME_DMA, dev->id);
	if (err) {
		mm_free_pages(mm, pfn, order);
		return err;
	}
	*addr = MM_PFN_TO_ADDR(pfn);
	return 0;
}

static int dma_free_buddy(const struct dma_rec *r)
{
	struct mm *mm = native_mm();
	uint64_t pfn = MM_ADDR_TO_PFN(r->addr);
	int err = mm_set_frames_state(mm, pfn, 1ull << r->order, FRAME_DMA,
				      FRAME_GUEST, 0);

	return err ? err : mm_free_pages(mm, pfn, r->order);
}

static int dma_alloc_block(const struct dma_dev *dev, unsigned order,
			   enum dma_source *src, uint64_t *addr)
{
	int err;

	if (!guest_boot.native) {
		*src = DMA_FROM_HOST;
		err = pv_init();
		if (!err)
			err = pv_dma_alloc(dev->id, PAGE_SIZE << order,
					   dev->dma_bits, __GFP_ZERO, addr);
		return err;
	}
	if (order > MAX_PAGE_ORDER)
		return -E2BIG;
	if (!native_mm()) {
		*src = DMA_FROM_POOL;
		/* The image lies below 4 GiB: fine for any dma_bits >= 32. */
		return dev->dma_bits < 32
			       ? -ENOMEM
			       : dma_alloc_pool(PAGE_SIZE << order, addr);
	}
	*src = DMA_FROM_BUDDY;
	return dma_alloc_buddy(dev, order, addr);
}

static int dma_free_block(const struct dma_rec *r)
{
	switch (r->source) {
	case DMA_FROM_HOST:
		return pv_dma_free(r->dev, r->addr);
	case DMA_FROM_BUDDY:
		return dma_free_buddy(r);
	default:
		return 0; /* the pool is never reused */
	}
}

int dma_alloc_coherent(const struct dma_dev *dev, size_t size, void **cpu,
		       uint64_t *dma_addr)
{
	enum dma_source src;
	unsigned order;
	uint64_t addr;
	int err;

	if (!dma_dev_valid(dev) || size == 0)
		return -EINVAL;
	/* Native sizes beyond one block are refused here; hosted, by the host. */
	order = mm_get_order(size);
	mm_lock(&dma_lock);
	err = dma_alloc_block(dev, order, &src, &addr);
	if (!err && !__dma_record(dev, addr, order, src)) {
		struct dma_rec r = {addr, PAGE_SIZE << order, (uint16_t)dev->id,
				    (uint8_t)order, (uint8_t)src};

		dma_free_block(&r);
		err = -ENOSPC;
	}
	mm_unlock(&dma_lock);
	if (err)
		return err;
	*cpu = (void *)(uintptr_t)addr;
	*dma_addr = addr;
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
			if (r->order != mm_get_order(size))
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
