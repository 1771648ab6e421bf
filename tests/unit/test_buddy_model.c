// SPDX-License-Identifier: MIT
/*
 * A randomized model-based test of the page allocator (random allocations,
 * frees, bad frees, state changes, drains and reports against a reference
 * model of who holds each frame) and a multi-threaded stress test.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"
#include "buddy_fx.h"
#include "unit.h"

static const struct mm_range model_ranges[] = {
	{256, MIB_PFN(24)},
	{MIB_PFN(1024 - 8), MIB_PFN(1024 + 8)},
	{MIB_PFN(4096), MIB_PFN(4096 + 16) + 300},
};

#define MODEL_FRAMES (MIB_PFN(24) - 256 + MIB_PFN(16) + MIB_PFN(16) + 300)
#define MAX_HELD     8192

enum { M_FREE, M_GUEST, M_DMA, M_BALLOON };

struct held {
	uint64_t pfn;
	unsigned order;
	bool ballooned; /* one frame of it moved to BALLOON */
	bool dma;
};

struct model {
	struct mm *mm;
	uint8_t frame[MODEL_FRAMES];
	struct held held[MAX_HELD];
	unsigned nr_held;
	uint64_t seed;
	uint64_t nr_guest, nr_dma, nr_balloon;
};

static uint64_t rnd(struct model *m)
{
	/* xorshift64*: reproducible from the seed, independent of libc. */
	m->seed ^= m->seed >> 12;
	m->seed ^= m->seed << 25;
	m->seed ^= m->seed >> 27;
	return m->seed * 2685821657736338717ull;
}

static long model_idx(uint64_t pfn)
{
	long base = 0;

	for (unsigned i = 0; i < 3; i++) {
		const struct mm_range *r = &model_ranges[i];

		if (pfn >= r->start_pfn && pfn < r->end_pfn)
			return base + (long)(pfn - r->start_pfn);
		base += (long)(r->end_pfn - r->start_pfn);
	}
	return -1;
}

static const gfp_t model_gfps[] = {
	GFP_KERNEL,
	GFP_HIGHUSER_MOVABLE,
	GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_DMA,
	GFP_DMA32,
	GFP_ATOMIC,
	GFP_KERNEL | __GFP_MEMALLOC,
	GFP_HIGHUSER_MOVABLE | __GFP_ZERO,
};

static void model_alloc(struct model *m, unsigned long op)
{
	gfp_t gfp = model_gfps[rnd(m) %
			       (sizeof(model_gfps) / sizeof(model_gfps[0]))];
	unsigned order =
		(rnd(m) % 8 == 0) ? rnd(m) % NR_PAGE_ORDERS : rnd(m) % 3;
	unsigned bits = rnd(m) % 6 == 0 ? 25 + rnd(m) % 8 : 64;
	uint64_t pfn, limit = UINT64_MAX;
	struct held *h;
	int ret;

	if (m->nr_held == MAX_HELD)
		return;
	ret = mm_alloc_pages_bits(m->mm, gfp, order, bits, &pfn);
	if (ret == -ENOMEM)
		return;
	ck_assert_msg(ret == 0, "op %lu: alloc returned %d", op, ret);
	if (gfp & __GFP_DMA)
		bits = bits < 24 ? bits : 24;
	if (gfp & __GFP_DMA32)
		bits = bits < 32 ? bits : 32;
	if (bits < 64)
		limit = (1ull << bits) >> PAGE_SHIFT;
	ck_assert_msg(pfn % (1ull << order) == 0 &&
			      pfn + (1ull << order) <= limit,
		      "op %lu: block 0x%lx order %u misplaced (bits %u)", op,
		      (unsigned long)pfn, order, bits);
	for (uint64_t i = 0; i < (1ull << order); i++) {
		long idx = model_idx(pfn + i);

		ck_assert_msg(idx >= 0 && m->frame[idx] == M_FREE,
			      "op %lu: pfn 0x%lx handed out twice", op,
			      (unsigned long)(pfn + i));
		m->frame[idx] = M_GUEST;
	}
	m->nr_guest += 1ull << order;
	h = &m->held[m->nr_held++];
	*h = (struct held){.pfn = pfn, .order = order};
}

static void model_forget(struct model *m, unsigned i)
{
	struct held *h = &m->held[i];

	for (uint64_t k = 0; k < (1ull << h->order); k++)
		m->frame[model_idx(h->pfn + k)] = M_FREE;
	if (h->dma)
		m->nr_dma -= 1ull << h->order;
	else
		m->nr_guest -= 1ull << h->order;
	m->held[i] = m->held[--m->nr_held];
}

static void model_free(struct model *m, unsigned long op)
{
	unsigned i;
	struct held *h;
	int ret;

	if (!m->nr_held)
		return;
	i = (unsigned)(rnd(m) % m->nr_held);
	h = &m->held[i];
	ret = mm_free_pages(m->mm, h->pfn, h->order);
	if (h->ballooned) {
		ck_assert_msg(ret == -EINVAL, "op %lu: freed a ballooned block",
			      op);
		return;
	}
	ck_assert_msg(ret == 0, "op %lu: free 0x%lx/%u returned %d", op,
		      (unsigned long)h->pfn, h->order, ret);
	model_forget(m, i);
}

/* A free the model says must fail: a random pfn/order that is not a head. */
static void model_bad_free(struct model *m, unsigned long op)
{
	uint64_t pfn;
	unsigned order = rnd(m) % (NR_PAGE_ORDERS + 1);
	int ret;

	if (rnd(m) % 4 == 0 && m->nr_held) {
		struct held *h = &m->held[rnd(m) % m->nr_held];

		pfn = h->pfn + (rnd(m) % (1ull << h->order));
	} else {
		pfn = rnd(m) % (MIB_PFN(4096 + 32));
	}
	for (unsigned i = 0; i < m->nr_held; i++)
		if (m->held[i].pfn == pfn && m->held[i].order == order &&
		    !m->held[i].ballooned)
			return; /* a good free after all */
	ret = mm_free_pages(m->mm, pfn, order);
	ck_assert_msg(ret == -EINVAL || ret == -ERANGE,
		      "op %lu: bad free 0x%lx/%u returned %d", op,
		      (unsigned long)pfn, order, ret);
	if (model_idx(pfn) < 0)
		ck_assert_int_eq(ret, -ERANGE);
}

/* Every ballooned frame of @h back to GUEST. */
static void model_deflate(struct model *m, struct held *h)
{
	for (uint64_t k = 0; k < (1ull << h->order); k++) {
		long idx = model_idx(h->pfn + k);

		if (m->frame[idx] != M_BALLOON)
			continue;
		ck_assert_int_eq(mm_set_frames_state(m->mm, h->pfn + k, 1,
						     FRAME_BALLOON, FRAME_GUEST,
						     0),
				 0);
		m->frame[idx] = M_GUEST;
		m->nr_balloon--;
		m->nr_guest++;
	}
	h->ballooned = false;
}

static void model_state(struct model *m, unsigned long op)
{
	struct held *h;
	uint64_t frame;

	if (!m->nr_held)
		return;
	h = &m->held[rnd(m) % m->nr_held];
	frame = h->pfn + rnd(m) % (1ull << h->order);
	if (h->ballooned) {
		model_deflate(m, h);
	} else if (!h->dma && rnd(m) % 2) {
		ck_assert_int_eq(mm_set_frames_state(m->mm, frame, 1,
						     FRAME_GUEST, FRAME_BALLOON,
						     0),
				 0);
		m->frame[model_idx(frame)] = M_BALLOON;
		h->ballooned = true;
		m->nr_guest--;
		m->nr_balloon++;
	} else {
		enum frame_state from = h->dma ? FRAME_DMA : FRAME_GUEST;
		enum frame_state to = h->dma ? FRAME_GUEST : FRAME_DMA;

		ck_assert_msg(mm_set_frames_state(m->mm, h->pfn,
						  1ull << h->order, from, to,
						  3) == 0,
			      "op %lu: state change failed", op);
		/* A wrong 'from' must be refused with nothing changed. */
		ck_assert_int_eq(
			mm_set_frames_state(m->mm, h->pfn, 1, from, to, 3),
			-EINVAL);
		if (h->dma) {
			m->nr_dma -= 1ull << h->order;
			m->nr_guest += 1ull << h->order;
		} else {
			m->nr_guest -= 1ull << h->order;
			m->nr_dma += 1ull << h->order;
		}
		h->dma = !h->dma;
	}
}

static void model_verify(struct model *m, unsigned long op)
{
	struct mm_stats st;
	char why[256];

	ck_assert_msg(mm_check(m->mm, why, sizeof(why)) == 0,
		      "op %lu (seed %lu): mm_check: %s", op, unit_seed(), why);
	mm_get_stats(m->mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_GUEST], m->nr_guest);
	ck_assert_uint_eq(st.frames[FRAME_DMA], m->nr_dma);
	ck_assert_uint_eq(st.frames[FRAME_BALLOON], m->nr_balloon);
	ck_assert_uint_eq(st.total, MODEL_FRAMES);
}

static void discard_nop(void *opaque, uint64_t pfn, uint64_t nr)
{
	uint64_t *n = opaque;

	*n += nr;
}

START_TEST(test_model_random_ops)
{
	static struct model m;
	uint64_t discarded = 0;
	const struct mm_ops ops = {.discard = discard_nop};
	struct mm_config c = {.ops = &ops,
			      .opaque = &discarded,
			      .movable_pages = MIB_PFN(4),
			      .pcp_disabled = _i == 1};
	unsigned long ops_total = unit_sanitized() ? 200000 : 1000000;
	struct buddy_fx fx;

	memset(&m, 0, sizeof(m));
	m.seed = unit_seed() * 2 + 1 + (uint64_t)_i;
	m.mm = buddy_fx_new(&fx, model_ranges, 3, &c);
	ck_assert_int_eq(mm_set_pageblock_migratetype(m.mm, MIB_PFN(8), 512,
						      MIGRATE_CMA),
			 0);
	for (unsigned long op = 0; op < ops_total; op++) {
		unsigned r = (unsigned)(rnd(&m) % 100);

		if (r < 45)
			model_alloc(&m, op);
		else if (r < 88)
			model_free(&m, op);
		else if (r < 93)
			model_bad_free(&m, op);
		else if (r < 98)
			model_state(&m, op);
		else if (r < 99)
			mm_drain_pcp(m.mm);
		else
			mm_report_free(m.mm,
				       (unsigned)(rnd(&m) % NR_PAGE_ORDERS));
		if (op % 20000 == 0)
			model_verify(&m, op);
	}
	model_verify(&m, ops_total);
	/* Give everything back: the allocator returns to whole blocks. */
	while (m.nr_held) {
		if (m.held[0].ballooned)
			model_deflate(&m, &m.held[0]);
		ck_assert_int_eq(
			mm_free_pages(m.mm, m.held[0].pfn, m.held[0].order), 0);
		model_forget(&m, 0);
	}
	mm_drain_pcp(m.mm);
	model_verify(&m, ops_total);
	buddy_fx_free(&fx);
}
END_TEST

/* Stress: threads churn, stamping each frame they hold in a backing array. */
#define STRESS_BASE   MIB_PFN(16)
#define STRESS_FRAMES MIB_PFN(64)

struct stress {
	struct mm *mm;
	uint64_t *backing; /* one word per frame: owner's stamp */
	unsigned long iters;
	_Atomic unsigned long corrupt;
};

struct stress_arg {
	struct stress *s;
	unsigned id;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct stress *s = a->s;
	uint64_t held[256], seed = unit_seed() + a->id * 7919 + 1;
	unsigned orders[256], n = 0;

	for (unsigned long i = 0; i < s->iters; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (n < 256 && ((seed >> 33) % 3 || n == 0)) {
			unsigned order =
				(seed >> 40) % 8 == 0 ? (seed >> 45) % 4 : 0;
			uint64_t pfn, stamp = ((uint64_t)a->id << 48) | i;

			if (mm_alloc_pages(s->mm, GFP_KERNEL, order, &pfn))
				continue;
			for (uint64_t k = 0; k < (1ull << order); k++)
				s->backing[pfn + k - STRESS_BASE] = stamp;
			held[n] = pfn;
			orders[n++] = order;
		} else {
			unsigned j = (unsigned)((seed >> 20) % n);
			uint64_t pfn = held[j];
			uint64_t stamp = s->backing[pfn - STRESS_BASE];

			for (uint64_t k = 1; k < (1ull << orders[j]); k++)
				if (s->backing[pfn + k - STRESS_BASE] != stamp)
					s->corrupt++;
			if ((stamp >> 48) != a->id)
				s->corrupt++;
			if (mm_free_pages(s->mm, pfn, orders[j]))
				s->corrupt++;
			held[j] = held[--n];
			orders[j] = orders[n];
		}
	}
	for (unsigned j = 0; j < n; j++)
		if (mm_free_pages(s->mm, held[j], orders[j]))
			s->corrupt++;
	return NULL;
}

START_TEST(test_stress_threads)
{
	const struct mm_range r[] = {
		{STRESS_BASE, STRESS_BASE + STRESS_FRAMES}};
	struct stress s = {.iters = unit_sanitized() ? 100000 : 500000};
	struct stress_arg args[4];
	pthread_t t[4];
	struct buddy_fx fx;
	struct mm_stats st;

	s.mm = buddy_fx_new(&fx, r, 1, NULL);
	s.backing = calloc(STRESS_FRAMES, sizeof(*s.backing));
	for (unsigned i = 0; i < 4; i++) {
		args[i] = (struct stress_arg){.s = &s, .id = i + 1};
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, stress_thread, &args[i]),
			0);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(s.corrupt, 0);
	buddy_fx_assert_clean(s.mm);
	mm_get_stats(s.mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_FREE], STRESS_FRAMES);
	ck_assert_uint_eq(st.bad_free, 0);
	mm_drain_pcp(s.mm);
	buddy_fx_assert_clean(s.mm);
	free(s.backing);
	buddy_fx_free(&fx);
}
END_TEST

/* Two threads free the same frames at once: each frame is freed once. */
struct racer {
	struct mm *mm;
	const uint64_t *pfns;
	unsigned n, order;
	unsigned ok;
};

static void *racer_thread(void *p)
{
	struct racer *r = p;

	for (unsigned i = 0; i < r->n; i++)
		r->ok += mm_free_pages(r->mm, r->pfns[i], r->order) == 0;
	return NULL;
}

START_TEST(test_racing_double_frees)
{
	const struct mm_range r[] = {{STRESS_BASE, STRESS_BASE + MIB_PFN(16)}};
	static uint64_t pfns[2048];
	struct buddy_fx fx;
	struct mm *mm = buddy_fx_new(&fx, r, 1, NULL);
	unsigned order = (unsigned)_i;
	struct mm_stats st;

	for (int round = 0; round < 20; round++) {
		struct racer a = {mm, pfns, 0, order, 0}, b;
		pthread_t ta, tb;

		while (a.n < 2048 &&
		       mm_alloc_pages(mm, GFP_KERNEL, order, &pfns[a.n]) == 0)
			a.n++;
		b = a;
		pthread_create(&ta, NULL, racer_thread, &a);
		pthread_create(&tb, NULL, racer_thread, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		ck_assert_uint_eq(a.ok + b.ok, a.n);
		buddy_fx_assert_clean(mm);
	}
	mm_get_stats(mm, &st);
	ck_assert_uint_eq(st.frames[FRAME_FREE], st.total);
	buddy_fx_free(&fx);
}
END_TEST

static Suite *buddy_model_suite(void)
{
	Suite *s = suite_create("buddy_model");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_model_random_ops, 0, 2);
	tcase_add_test(tc, test_stress_threads);
	tcase_add_loop_test(tc, test_racing_double_frees, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(buddy_model_suite)
