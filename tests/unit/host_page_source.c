// SPDX-License-Identifier: MIT
/*
 * tests/unit/host_page_source.c - an arena page source for host tests and
 * benchmarks: a small buddy allocator over an mmap'ed, 2^MAX_PAGE_ORDER-page
 * aligned arena, so that blocks come out naturally aligned as the slab layer
 * requires. Two zones: DMA (the first dma_pages) and NORMAL; plain requests
 * fall back to DMA when NORMAL is exhausted, as in Linux.
 *
 * Misuse by the code under test (freeing what was not allocated, wrong
 * order) is a bug in that code: the source prints it and aborts so the test
 * fails loudly.
 */
#include "host_page_source.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HPS_BLOCK_PAGES (1ul << MAX_PAGE_ORDER)
#define HPS_NONE	UINT32_MAX

enum hps_state { HPS_INTERIOR, HPS_FREE_HEAD, HPS_USED_HEAD };

struct hps_zone {
	uint32_t start, end; /* page indexes, multiples of HPS_BLOCK_PAGES */
	uint32_t head[MAX_PAGE_ORDER + 1];
};

struct host_page_source {
	struct page_source ps;
	pthread_mutex_t lock;
	void *map;
	size_t map_len;
	char *arena;
	size_t nr_pages;
	uintptr_t *slots;
	uint32_t *next, *prev; /* free lists, by page index */
	uint8_t *order;
	uint8_t *state;
	struct hps_zone zones[2]; /* 0: DMA, 1: NORMAL */
	long outstanding;
	long fail_after;
	unsigned long failures;
};

static void hps_push(struct host_page_source *h, struct hps_zone *z,
		     uint32_t idx, unsigned int order)
{
	h->order[idx] = (uint8_t)order;
	h->state[idx] = HPS_FREE_HEAD;
	h->prev[idx] = HPS_NONE;
	h->next[idx] = z->head[order];
	if (z->head[order] != HPS_NONE)
		h->prev[z->head[order]] = idx;
	z->head[order] = idx;
}

static void hps_unlink(struct host_page_source *h, struct hps_zone *z,
		       uint32_t idx)
{
	if (h->prev[idx] != HPS_NONE)
		h->next[h->prev[idx]] = h->next[idx];
	else
		z->head[h->order[idx]] = h->next[idx];
	if (h->next[idx] != HPS_NONE)
		h->prev[h->next[idx]] = h->prev[idx];
	h->state[idx] = HPS_INTERIOR;
}

static uint32_t hps_zone_alloc(struct host_page_source *h, struct hps_zone *z,
			       unsigned int order)
{
	unsigned int o;
	uint32_t idx;

	for (o = order; o <= MAX_PAGE_ORDER && z->head[o] == HPS_NONE; o++)
		;
	if (o > MAX_PAGE_ORDER)
		return HPS_NONE;
	idx = z->head[o];
	hps_unlink(h, z, idx);
	while (o > order) {
		o--;
		hps_push(h, z, idx + (1u << o), o);
	}
	h->order[idx] = (uint8_t)order;
	h->state[idx] = HPS_USED_HEAD;
	return idx;
}

static void hps_zone_free(struct host_page_source *h, struct hps_zone *z,
			  uint32_t idx, unsigned int order)
{
	while (order < MAX_PAGE_ORDER) {
		uint32_t buddy = idx ^ (1u << order);

		if (buddy < z->start || buddy >= z->end ||
		    h->state[buddy] != HPS_FREE_HEAD ||
		    h->order[buddy] != order)
			break;
		hps_unlink(h, z, buddy);
		h->state[idx] = HPS_INTERIOR;
		idx = idx < buddy ? idx : buddy;
		order++;
	}
	hps_push(h, z, idx, order);
}

static void *hps_alloc_pages(void *opaque, gfp_t gfp, unsigned int order)
{
	struct host_page_source *h = opaque;
	uint32_t idx = HPS_NONE;

	if (order > MAX_PAGE_ORDER)
		return NULL;
	pthread_mutex_lock(&h->lock);
	if (h->fail_after == 0) {
		h->failures++;
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	if (!(gfp & __GFP_DMA))
		idx = hps_zone_alloc(h, &h->zones[1], order);
	if (idx == HPS_NONE)
		idx = hps_zone_alloc(h, &h->zones[0], order);
	if (idx == HPS_NONE) {
		h->failures++;
	} else {
		h->outstanding += 1l << order;
		if (h->fail_after > 0)
			h->fail_after--;
	}
	pthread_mutex_unlock(&h->lock);
	return idx == HPS_NONE ? NULL : h->arena + (size_t)idx * PS_PAGE_SIZE;
}

static void hps_free_pages(void *opaque, void *addr, unsigned int order)
{
	struct host_page_source *h = opaque;
	uintptr_t off = (uintptr_t)addr - (uintptr_t)h->arena;
	uint32_t idx = (uint32_t)(off / PS_PAGE_SIZE);

	pthread_mutex_lock(&h->lock);
	if (off >= h->nr_pages * PS_PAGE_SIZE || off % PS_PAGE_SIZE ||
	    h->state[idx] != HPS_USED_HEAD || h->order[idx] != order) {
		fprintf(stderr,
			"host_page_source: bad free of %p order %u (state %d "
			"order %d)\n",
			addr, order,
			off < h->nr_pages * PS_PAGE_SIZE ? h->state[idx] : -1,
			off < h->nr_pages * PS_PAGE_SIZE ? h->order[idx] : -1);
		abort();
	}
	for (unsigned long i = 0; i < (1ul << order); i++)
		if (h->slots[idx + i]) {
			fprintf(stderr,
				"host_page_source: %p freed with its frame "
				"slot still set\n",
				addr);
			abort();
		}
	h->outstanding -= 1l << order;
	hps_zone_free(h, &h->zones[idx < h->zones[0].end ? 0 : 1], idx, order);
	pthread_mutex_unlock(&h->lock);
}

static uintptr_t *hps_frame_slot(void *opaque, const void *addr)
{
	struct host_page_source *h = opaque;
	uintptr_t off = (uintptr_t)addr - (uintptr_t)h->arena;

	return off < h->nr_pages * PS_PAGE_SIZE ? &h->slots[off / PS_PAGE_SIZE]
						: NULL;
}

static const struct page_source_ops hps_ops = {
	.alloc_pages = hps_alloc_pages,
	.free_pages = hps_free_pages,
	.frame_slot = hps_frame_slot,
};

static void hps_zone_init(struct host_page_source *h, struct hps_zone *z,
			  size_t start, size_t end)
{
	z->start = (uint32_t)start;
	z->end = (uint32_t)end;
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER; o++)
		z->head[o] = HPS_NONE;
	for (size_t i = start; i < end; i += HPS_BLOCK_PAGES)
		hps_push(h, z, (uint32_t)i, MAX_PAGE_ORDER);
}

static size_t hps_round(size_t pages)
{
	return (pages + HPS_BLOCK_PAGES - 1) / HPS_BLOCK_PAGES *
	       HPS_BLOCK_PAGES;
}

struct host_page_source *host_page_source_create(size_t nr_pages,
						 size_t dma_pages)
{
	struct host_page_source *h = calloc(1, sizeof(*h));
	size_t align = HPS_BLOCK_PAGES * PS_PAGE_SIZE;

	if (!h)
		return NULL;
	dma_pages = hps_round(dma_pages);
	h->nr_pages = hps_round(nr_pages);
	if (h->nr_pages < dma_pages)
		h->nr_pages = dma_pages;
	h->map_len = h->nr_pages * PS_PAGE_SIZE + align;
	h->map = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	h->slots = calloc(h->nr_pages, sizeof(*h->slots));
	h->next = calloc(h->nr_pages, sizeof(*h->next));
	h->prev = calloc(h->nr_pages, sizeof(*h->prev));
	h->order = calloc(h->nr_pages, 1);
	h->state = calloc(h->nr_pages, 1);
	if (h->map == MAP_FAILED || !h->slots || !h->next || !h->prev ||
	    !h->order || !h->state) {
		if (h->map == MAP_FAILED)
			h->map = NULL;
		host_page_source_destroy(h);
		return NULL;
	}
	h->arena = (char *)(((uintptr_t)h->map + align - 1) & ~(align - 1));
	pthread_mutex_init(&h->lock, NULL);
	hps_zone_init(h, &h->zones[0], 0, dma_pages);
	hps_zone_init(h, &h->zones[1], dma_pages, h->nr_pages);
	h->fail_after = -1;
	h->ps = (struct page_source){
		.ops = &hps_ops,
		.opaque = h,
		.slot_table = h->slots,
		.slot_base = (uintptr_t)h->arena,
		.slot_frames = h->nr_pages,
	};
	return h;
}

void host_page_source_destroy(struct host_page_source *hps)
{
	if (!hps)
		return;
	if (hps->map)
		munmap(hps->map, hps->map_len);
	free(hps->slots);
	free(hps->next);
	free(hps->prev);
	free(hps->order);
	free(hps->state);
	free(hps);
}

const struct page_source *host_page_source_ps(struct host_page_source *hps)
{
	return &hps->ps;
}

long host_page_source_outstanding(struct host_page_source *hps)
{
	long n;

	pthread_mutex_lock(&hps->lock);
	n = hps->outstanding;
	pthread_mutex_unlock(&hps->lock);
	return n;
}

void host_page_source_fail_after(struct host_page_source *hps, long n)
{
	pthread_mutex_lock(&hps->lock);
	hps->fail_after = n;
	pthread_mutex_unlock(&hps->lock);
}

unsigned long host_page_source_failures(struct host_page_source *hps)
{
	unsigned long n;

	pthread_mutex_lock(&hps->lock);
	n = hps->failures;
	pthread_mutex_unlock(&hps->lock);
	return n;
}

bool host_page_source_is_dma(struct host_page_source *hps, const void *addr)
{
	uintptr_t off = (uintptr_t)addr - (uintptr_t)hps->arena;

	return off < (uintptr_t)hps->zones[0].end * PS_PAGE_SIZE;
}
