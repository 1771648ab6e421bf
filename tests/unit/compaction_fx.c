// SPDX-License-Identifier: MIT
/* tests/unit/compaction_fx.c - the movable-block owner of compaction_fx.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <emmintrin.h>

#include "compaction_fx.h"

uint64_t cfx_rand(uint64_t *seed)
{
	*seed ^= *seed >> 12;
	*seed ^= *seed << 25;
	*seed ^= *seed >> 27;
	return *seed * 2685821657736338717ull;
}

/* One in @every calls (counted by @n, or drawn when seeded). */
static bool one_in(struct cfx_owner *o, unsigned every, uint64_t n)
{
	if (!every)
		return false;
	return o->seed ? cfx_rand(&o->seed) % every == 0 : n % every == 0;
}

static uint8_t *frame_mem(struct cfx_owner *o, uint64_t pfn)
{
	return o->mem + ((pfn - o->base_pfn) << PAGE_SHIFT);
}

static bool in_range(const struct cfx_owner *o, uint64_t pfn, unsigned order)
{
	return pfn >= o->base_pfn &&
	       pfn + (1ull << order) <= o->base_pfn + o->nr_frames;
}

static uint64_t word_of(uint32_t tag, uint64_t i)
{
	return ((uint64_t)tag << 32) ^ (i * 0x9e3779b97f4a7c15ull);
}

static void fill(struct cfx_owner *o, const struct cfx_handle *h)
{
	for (uint64_t f = 0; f < (1ull << h->order); f++) {
		uint64_t *w = (uint64_t *)frame_mem(o, h->pfn + f);
		size_t n = o->touch_all ? PAGE_SIZE / 8 : 1;

		for (size_t i = 0; i < n; i++)
			w[i] = word_of(h->tag, f * 512 + i);
	}
}

static bool check(struct cfx_owner *o, const struct cfx_handle *h)
{
	for (uint64_t f = 0; f < (1ull << h->order); f++) {
		const uint64_t *w = (const uint64_t *)frame_mem(o, h->pfn + f);
		size_t n = o->touch_all ? PAGE_SIZE / 8 : 1;

		for (size_t i = 0; i < n; i++)
			if (w[i] != word_of(h->tag, f * 512 + i))
				return false;
	}
	return true;
}

static int fx_isolate(void *opaque, uint64_t pfn, unsigned order)
{
	struct cfx_owner *o = opaque;

	if (one_in(o, o->refuse_every, o->isolates + 1))
		return -EBUSY;
	o->isolates++;
	return 0;
}

static void fx_putback(void *opaque, uint64_t pfn, unsigned order)
{
	struct cfx_owner *o = opaque;

	o->putbacks++;
}

/*
 * Copy whole frames as a page-moving owner would: the new frame will not be
 * read again soon, so non-temporal stores (no read-for-ownership of the
 * target's lines, no cache pollution), and the next block to move (the
 * prefetch() hint) brought into the cache meanwhile: a cold 4 KiB frame
 * copies at about half the speed of a warm one on the build machines.
 */
static void copy_frames(uint8_t *dst, const uint8_t *src, size_t bytes,
			const uint8_t *next, size_t next_bytes)
{
	__m128i *d = (__m128i *)dst;
	const __m128i *s = (const __m128i *)src;

	for (size_t i = 0; i < bytes / 16; i += 4) {
		/* Warm the next block while this one streams out. */
		if (next && i * 16 < next_bytes)
			_mm_prefetch((const char *)next + i * 16, _MM_HINT_T0);
		_mm_stream_si128(d + i, _mm_load_si128(s + i));
		_mm_stream_si128(d + i + 1, _mm_load_si128(s + i + 1));
		_mm_stream_si128(d + i + 2, _mm_load_si128(s + i + 2));
		_mm_stream_si128(d + i + 3, _mm_load_si128(s + i + 3));
	}
	_mm_sfence();
}

/* Copy @src to @dst and point the handle at @dst. */
static void move_block(struct cfx_owner *o, uint64_t dst, uint64_t src,
		       unsigned order)
{
	uint32_t s = o->slot[src - o->base_pfn];

	if (o->log && o->nr_log < o->max_log) {
		o->log[o->nr_log].src = src;
		o->log[o->nr_log++].dst = dst;
	}
	if (!o->no_copy)
		copy_frames(frame_mem(o, dst), frame_mem(o, src),
			    PAGE_SIZE << order,
			    o->next_src == MM_PFN_NONE
				    ? NULL
				    : frame_mem(o, o->next_src),
			    PAGE_SIZE << o->next_order);
	o->next_src = MM_PFN_NONE;
	o->slot[dst - o->base_pfn] = s;
	o->slot[src - o->base_pfn] = 0;
	o->h[s - 1].pfn = dst;
}

static int fx_migrate(void *opaque, uint64_t dst, uint64_t src, unsigned order,
		      enum migrate_mode mode)
{
	struct cfx_owner *o = opaque;
	uint32_t s;

	o->calls++;
	if (!in_range(o, src, order) || !in_range(o, dst, order))
		return -EFAULT;
	s = o->slot[src - o->base_pfn];
	if (!s || o->h[s - 1].pfn != src || o->h[s - 1].order != order)
		return -EINVAL;
	if (one_in(o, o->fail_every, o->calls)) {
		if (o->fail_rc != -EINPROGRESS)
			return o->fail_rc;
		if (o->nr_pending == o->max_pending)
			return -EAGAIN;
		o->pending[o->nr_pending].src = src;
		o->pending[o->nr_pending].dst = dst;
		o->nr_pending++;
		return -EINPROGRESS;
	}
	move_block(o, dst, src, order);
	o->migrations++;
	return 0;
}

/* Guest RAM as the VMM maps it: anonymous memory on transparent huge
 * pages (DESIGN.md, "Host backing of guest RAM"). */
void *cfx_ram_alloc(size_t bytes)
{
	size_t huge = 2u << 20;
	uint8_t *p = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *aligned;

	if (p == MAP_FAILED)
		return NULL;
	aligned =
		(uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	/* Keep exactly [aligned, aligned + bytes) mapped. */
	if (aligned != p)
		munmap(p, (size_t)(aligned - p));
	munmap(aligned + bytes, huge - (size_t)(aligned - p));
	madvise(aligned, bytes, MADV_HUGEPAGE);
	return aligned;
}

void cfx_ram_free(void *mem, size_t bytes)
{
	if (mem)
		munmap(mem, bytes);
}

static void fx_prefetch(void *opaque, uint64_t pfn, unsigned order)
{
	struct cfx_owner *o = opaque;

	if (in_range(o, pfn, order)) {
		o->next_src = pfn;
		o->next_order = order;
	}
}

/* With o->threaded, every callback runs under o->mu (see cfx_lock()). */
static int fx_isolate_mt(void *opaque, uint64_t pfn, unsigned order)
{
	int ret;

	cfx_lock(opaque);
	ret = fx_isolate(opaque, pfn, order);
	cfx_unlock(opaque);
	return ret;
}

static int fx_migrate_mt(void *opaque, uint64_t dst, uint64_t src,
			 unsigned order, enum migrate_mode mode)
{
	int ret;

	cfx_lock(opaque);
	ret = fx_migrate(opaque, dst, src, order, mode);
	cfx_unlock(opaque);
	return ret;
}

static void fx_putback_mt(void *opaque, uint64_t pfn, unsigned order)
{
	cfx_lock(opaque);
	fx_putback(opaque, pfn, order);
	cfx_unlock(opaque);
}

static void fx_prefetch_mt(void *opaque, uint64_t pfn, unsigned order)
{
	cfx_lock(opaque);
	fx_prefetch(opaque, pfn, order);
	cfx_unlock(opaque);
}

void cfx_lock(struct cfx_owner *o)
{
	if (o->threaded)
		pthread_mutex_lock(&o->mu);
}

void cfx_unlock(struct cfx_owner *o)
{
	if (o->threaded)
		pthread_mutex_unlock(&o->mu);
}

static const struct mm_movable_ops fx_ops = {
	.isolate = fx_isolate_mt,
	.migrate = fx_migrate_mt,
	.putback = fx_putback_mt,
	.prefetch = fx_prefetch_mt,
};

void cfx_init(struct cfx_owner *o, struct mm *mm, uint64_t base_pfn,
	      uint64_t nr_frames, unsigned max_handles)
{
	memset(o, 0, sizeof(*o));
	o->mm = mm;
	o->base_pfn = base_pfn;
	o->nr_frames = nr_frames;
	o->mem = cfx_ram_alloc(nr_frames * PAGE_SIZE);
	o->slot = calloc(nr_frames, sizeof(*o->slot));
	o->h = calloc(max_handles, sizeof(*o->h));
	o->max_h = max_handles;
	o->max_pending = 4096;
	o->pending = calloc(o->max_pending, sizeof(*o->pending));
	o->fail_rc = -EAGAIN;
	o->next_src = MM_PFN_NONE;
	pthread_mutex_init(&o->mu, NULL);
	if (!o->mem || !o->slot || !o->h || !o->pending)
		abort();
	o->id = mm_register_movable_owner(mm, &fx_ops, o);
}

void cfx_destroy(struct cfx_owner *o)
{
	cfx_ram_free(o->mem, o->nr_frames * PAGE_SIZE);
	free(o->slot);
	free(o->h);
	free(o->pending);
	memset(o, 0, sizeof(*o));
}

static int cfx_free_all(struct cfx_owner *o, char *why, size_t size)
{
	for (unsigned i = 0; i < o->nr_h; i++) {
		int ret = o->h[i].live ? cfx_free(o, i) : 0;

		if (ret) {
			snprintf(why, size, "cfx_free(%u): %d", i, ret);
			return -1;
		}
	}
	return 0;
}

int cfx_teardown(struct cfx_owner *o, char *why, size_t size)
{
	struct mm *mm = o->mm;
	struct mm_stats st;
	int ret = cfx_free_all(o, why, size);

	cfx_destroy(o);
	if (ret)
		return ret;
	mm_drain_pcp(mm);
	if (mm_check(mm, why, size))
		return -1;
	mm_get_stats(mm, &st);
	if (st.frames[FRAME_FREE] != st.total || st.isolated) {
		snprintf(why, size, "%llu of %llu frames free, %llu isolated",
			 (unsigned long long)st.frames[FRAME_FREE],
			 (unsigned long long)st.total,
			 (unsigned long long)st.isolated);
		return -1;
	}
	return 0;
}

int cfx_alloc(struct cfx_owner *o, gfp_t gfp, unsigned order)
{
	struct cfx_handle *h;
	uint64_t pfn;
	unsigned i;
	int ret;

	for (i = o->free_hint; i < o->nr_h && o->h[i].live; i++)
		;
	o->free_hint = i;
	if (i == o->max_h)
		return -ENOSPC;
	ret = mm_alloc_pages(o->mm, gfp, order, &pfn);
	if (ret)
		return ret;
	if (!in_range(o, pfn, order)) {
		mm_free_pages(o->mm, pfn, order);
		return -ERANGE;
	}
	ret = mm_set_movable_owner(o->mm, pfn, order, (uint32_t)o->id);
	if (ret) {
		mm_free_pages(o->mm, pfn, order);
		return ret;
	}
	h = &o->h[i];
	h->pfn = pfn;
	h->order = order;
	h->tag = (uint32_t)(i * 2654435761u + (uint32_t)pfn);
	h->live = true;
	if (i == o->nr_h)
		o->nr_h++;
	o->slot[pfn - o->base_pfn] = i + 1;
	fill(o, h);
	return (int)i;
}

int cfx_free(struct cfx_owner *o, unsigned handle)
{
	struct cfx_handle *h = &o->h[handle];
	int ret;

	if (handle >= o->nr_h || !h->live)
		return -EINVAL;
	ret = mm_free_pages(o->mm, h->pfn, h->order);
	if (ret)
		return ret;
	o->slot[h->pfn - o->base_pfn] = 0;
	h->live = false;
	if (handle < o->free_hint)
		o->free_hint = handle;
	return 0;
}

unsigned cfx_finish_pending(struct cfx_owner *o, bool commit)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < o->nr_pending; i++) {
		struct cfx_pending *p = &o->pending[i];
		uint32_t s = o->slot[p->src - o->base_pfn];
		unsigned order = s ? o->h[s - 1].order : 0;

		if (!commit) {
			bad += mm_migrate_finish(o->mm, p->src, p->dst,
						 -ETIMEDOUT) != 0;
			continue;
		}
		/* Copy first (the source is still ours), then switch. */
		memcpy(frame_mem(o, p->dst), frame_mem(o, p->src),
		       PAGE_SIZE << order);
		if (mm_migrate_finish(o->mm, p->src, p->dst, 0)) {
			bad++;
			continue;
		}
		o->slot[p->dst - o->base_pfn] = s;
		o->slot[p->src - o->base_pfn] = 0;
		o->h[s - 1].pfn = p->dst;
		o->migrations++;
	}
	o->nr_pending = 0;
	return bad;
}

const char *cfx_verify(struct cfx_owner *o)
{
	for (unsigned i = 0; i < o->nr_h; i++) {
		const struct cfx_handle *h = &o->h[i];
		const struct page *p;

		if (!h->live)
			continue;
		p = mm_pfn_to_page(o->mm, h->pfn);
		if (!p || !(p->flags & PG_HEAD) || p->order != h->order ||
		    p->state != FRAME_GUEST)
			return "a handle's block is not a GUEST block there";
		if (!(p->flags & PG_ISOLATED) && p->owner != (uint32_t)o->id)
			return "a handle's block lost its owner";
		if (o->slot[h->pfn - o->base_pfn] != i + 1)
			return "slot table disagrees with a handle";
		if (!check(o, h))
			return "a block's contents were not moved intact";
	}
	return NULL;
}
