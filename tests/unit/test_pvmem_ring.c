// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pvmem_ring.c: the per-vCPU page rings (pvmem ABI
 * 1.3) against a guest simulated in-process, honest and hostile. The honest
 * guest does what guest/pvmem.c does: take a supply slot with an atomic
 * exchange against 0, put returns and advance ret_prod, kick through the
 * MMIO register. After each test the page database is consistent
 * (mm_check), tot_pages == GUEST + DMA frames, and pvmem_rings_check()
 * finds every supply frame a marked, distinct GUEST order-0 head. The
 * clock of the idle decay is the test's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The honest guest: pvmem_ring_take()/put(), the code the guest runs. */
#include "abi/pvmem_ring.h"
#include "mm/host/mm_port_impl.h"
#include "pvmem_fx.h"
#include "unit.h"

#define NR_RINGS  2
#define GPAS_GPA  0x1f0000ull /* uint64_t[64], in the image */
#define RING_MASK (PVMEM_RING_SUP_SLOTS - 1)
#define RET_MASK  (PVMEM_RING_RET_SLOTS - 1)

static uint64_t fake_ns;

static uint64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_ns;
}

static void quiet_log(const char *line)
{
	(void)line;
}

static void ring_fx_setup_limit(uint64_t max_pages)
{
	struct pvmem_config cfg = {
		.max_pages = max_pages,
		.rings = {.clock_ns = fake_clock},
	};

	fake_ns = 1000000000ull;
	mm_port_set_log_sink(quiet_log);
	fx_setup_cfg(&cfg);
}

static void ring_fx_setup(void)
{
	ring_fx_setup_limit(0);
}

static void ring_fx_teardown(void)
{
	fx_teardown();
	mm_port_set_log_sink(NULL);
}

static struct pvmem_rings *rings(void)
{
	return pvmem_rings(fx.p);
}

/* RING_SETUP of @n rings; the status. */
static int setup_rings(unsigned n)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_RING_SETUP);

	r->count = n;
	r->addr = GPAS_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	if (!r->status)
		ck_assert_uint_eq(r->done, n);
	return r->status;
}

static uint64_t ring_gpa(unsigned i)
{
	return ((uint64_t *)fx_ptr(GPAS_GPA))[i];
}

static struct pvmem_ring *ring(unsigned i)
{
	return fx_ptr(ring_gpa(i));
}

static struct pvmem_ring *setup_ring0(void)
{
	ck_assert_int_eq(setup_rings(NR_RINGS), 0);
	return ring(0);
}

/* The kick register, as the vCPU's MMIO write reaches it. */
static int kick(uint32_t v)
{
	return pvmem_pio_handler(fx.p, PVMEM_KICK_OFFSET, &v, 4, true);
}

static unsigned level(unsigned i)
{
	unsigned t, l;

	ck_assert_int_eq(pvmem_rings_ring_info(rings(), i, &t, &l), 0);
	return l;
}

static unsigned target(unsigned i)
{
	unsigned t, l;

	ck_assert_int_eq(pvmem_rings_ring_info(rings(), i, &t, &l), 0);
	return t;
}

static struct pvmem_ring_stats ring_stats(void)
{
	struct pvmem_ring_stats st;

	pvmem_rings_get_stats(rings(), &st);
	return st;
}

static unsigned frame_state(uint64_t pfn)
{
	return mm_pfn_to_page(fx.mm, pfn)->state;
}

/* Rings pages: 2^PVMEM_RING_ORDER frames each, charged. */
#define RING_PAGES ((uint64_t)NR_RINGS << PVMEM_RING_ORDER)

START_TEST(test_setup)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	const struct pvmem_info *info;
	const struct page *pg;
	uint64_t gpas[NR_RINGS];

	fx_block_add(b, PVMEM_OP_INFO)->addr = FX_OUT_GPA;
	b->reqs[0].size = sizeof(*info);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	info = fx_ptr(FX_OUT_GPA);
	ck_assert(info->features & PVMEM_F_RINGS);
	ck_assert_uint_ge(info->abi_minor, 3);
	ck_assert_uint_eq(info->max_rings, PVMEM_MAX_RINGS);
	ck_assert_uint_eq(info->ring_bytes, PVMEM_RING_BYTES);

	ck_assert_int_eq(setup_rings(0), -EINVAL);
	ck_assert_int_eq(setup_rings(PVMEM_MAX_RINGS + 1), -E2BIG);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	ck_assert_int_eq(setup_rings(NR_RINGS), 0);
	for (unsigned i = 0; i < NR_RINGS; i++) {
		struct pvmem_ring *r = ring(i);

		gpas[i] = ring_gpa(i);
		ck_assert_uint_eq(gpas[i] % PVMEM_RING_BYTES, 0);
		ck_assert_uint_eq(r->magic, PVMEM_RING_MAGIC);
		ck_assert_uint_eq(r->index, i);
		ck_assert_uint_eq(r->sup_slots, PVMEM_RING_SUP_SLOTS);
		ck_assert_uint_eq(r->ret_slots, PVMEM_RING_RET_SLOTS);
		ck_assert_uint_eq(r->sup_prod, 0);
		pg = mm_pfn_to_page(fx.mm, gpas[i] >> 12);
		ck_assert_uint_eq(pg->state, FRAME_DMA);
		ck_assert_uint_eq(pg->owner, PVMEM_RING_OWNER);
	}
	ck_assert_uint_ne(gpas[0], gpas[1]);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), RING_PAGES);
	/* Once per VM; and the guest cannot free a ring. */
	ck_assert_int_eq(setup_rings(1), -EBUSY);
	ck_assert_int_eq(fx_free1(gpas[0] >> 12, PVMEM_RING_ORDER), -EPERM);
	ck_assert_int_eq(fx_dma_free(1, gpas[0]), -ENOENT);
	ck_assert_uint_eq(ring_stats().rings, NR_RINGS);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_take_and_return)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t pfns[PVMEM_RING_MIN_TARGET], free0;
	struct pvmem_ring_stats st;

	/* Nothing is offered before the first kick. */
	ck_assert_uint_eq(pvmem_ring_take(r), 0);
	free0 = fx_frames(FRAME_FREE);
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(level(0), PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(r->sup_target, PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(r->sup_prod, PVMEM_RING_MIN_TARGET);
	/* Offered frames are GUEST and charged: a per-CPU list of the guest. */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p),
			  RING_PAGES + PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(fx_frames(FRAME_FREE), free0 - PVMEM_RING_MIN_TARGET);
	fx_assert_consistent();
	for (unsigned i = 0; i < PVMEM_RING_MIN_TARGET; i++) {
		pfns[i] = pvmem_ring_take(r);
		ck_assert_uint_ne(pfns[i], 0);
		ck_assert_uint_eq(frame_state(pfns[i]), FRAME_GUEST);
		for (unsigned k = 0; k < i; k++)
			ck_assert_uint_ne(pfns[k], pfns[i]);
	}
	ck_assert_uint_eq(pvmem_ring_take(r), 0);
	fx_assert_consistent();
	for (unsigned i = 0; i < PVMEM_RING_MIN_TARGET; i++)
		ck_assert(pvmem_ring_put(r, pfns[i]));
	/* A kick drains the returns, finds the supply empty and grows. */
	ck_assert_int_eq(kick(0), 0);
	for (unsigned i = 0; i < PVMEM_RING_MIN_TARGET; i++)
		ck_assert(frame_state(pfns[i]) != FRAME_GUEST ||
			  pvmem_rings_holds(rings(), pfns[i]));
	ck_assert_uint_eq(r->ret_cons, PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(target(0), 2 * PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(level(0), 2 * PVMEM_RING_MIN_TARGET);
	st = ring_stats();
	ck_assert_uint_eq(st.returned, PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(st.taken, PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(st.kicks, 2);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(r->err_count, 0);
	fx_assert_consistent();
	/* A taken frame may also go back by doorbell FREE. */
	pfns[0] = pvmem_ring_take(r);
	ck_assert_int_eq(fx_free1(pfns[0], 0), 0);
	fx_assert_consistent();
}
END_TEST

/* Returns go straight back into a supply with room: no free, no alloc. */
START_TEST(test_returns_recycled)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t pfns[8], tot, free0;
	struct pvmem_ring_stats st;

	ck_assert_int_eq(kick(0), 0);
	for (unsigned i = 0; i < 8; i++)
		pfns[i] = pvmem_ring_take(r);
	tot = pvmem_tot_pages(fx.p);
	free0 = fx_frames(FRAME_FREE);
	for (unsigned i = 0; i < 8; i++)
		ck_assert(pvmem_ring_put(r, pfns[i]));
	/* The thread's pass (no kick: the target does not move). */
	pvmem_rings_service(rings());
	st = ring_stats();
	ck_assert_uint_eq(st.returned, 8);
	ck_assert_uint_eq(st.recycled, 8);
	ck_assert_uint_eq(level(0), PVMEM_RING_MIN_TARGET);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot);
	ck_assert_uint_eq(fx_frames(FRAME_FREE), free0);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert(pvmem_rings_holds(rings(), pfns[i]));
		ck_assert_int_eq(fx_free1(pfns[i], 0), -EPERM);
	}
	fx_assert_consistent();
	/* A full supply: returns are freed instead. */
	for (unsigned i = 0; i < 8; i++)
		pfns[i] = pvmem_ring_take(r);
	pvmem_rings_service(rings());
	for (unsigned i = 0; i < 8; i++)
		ck_assert(pvmem_ring_put(r, pfns[i]));
	pvmem_rings_service(rings());
	ck_assert_uint_eq(ring_stats().recycled, 8);
	ck_assert_uint_eq(ring_stats().returned, 16);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(frame_state(pfns[i]), FRAME_FREE);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_supply_frame_not_the_guests)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t pfn;

	ck_assert_int_eq(kick(0), 0);
	pfn = r->sup[0];
	/* Offered, not taken: FREE and the return ring refuse it. */
	ck_assert(pvmem_rings_holds(rings(), pfn));
	ck_assert_int_eq(fx_free1(pfn, 0), -EPERM);
	ck_assert(pvmem_ring_put(r, pfn));
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(r->err_count, 1);
	ck_assert_int_eq(r->last_err, -EPERM);
	ck_assert_uint_eq(r->last_err_pfn, pfn);
	ck_assert_uint_eq(frame_state(pfn), FRAME_GUEST);
	ck_assert_uint_eq(ring_stats().bad_return, 1);
	fx_assert_consistent();
	/* Taken, it is the guest's to give back. */
	ck_assert_uint_eq(pvmem_ring_take(r), pfn);
	ck_assert(!pvmem_rings_holds(rings(), pfn));
	ck_assert_int_eq(fx_free1(pfn, 0), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_autotune)
{
	struct pvmem_ring *r = setup_ring0();
	unsigned t = PVMEM_RING_MIN_TARGET;

	/* Each kick that finds the supply nearly gone doubles the target. */
	ck_assert_int_eq(kick(0), 0);
	while (t < PVMEM_RING_SUP_SLOTS) {
		uint64_t pfn;

		while ((pfn = pvmem_ring_take(r)))
			ck_assert_int_eq(fx_free1(pfn, 0), 0);
		ck_assert_int_eq(kick(0), 0);
		t *= 2;
		ck_assert_uint_eq(target(0), t);
		ck_assert_uint_eq(level(0), t);
		ck_assert_uint_eq(r->sup_target, t);
		ck_assert_uint_eq(r->sup_low, t / 4);
		fx_assert_consistent();
	}
	/* Capped at the ring. */
	while (pvmem_ring_take(r))
		;
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(target(0), PVMEM_RING_SUP_SLOTS);
	/* A kick with plenty left (for the returns) does not grow it. */
	pvmem_ring_take(r);
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(target(0), PVMEM_RING_SUP_SLOTS);
	/* Idle: halved and the excess taken back, down to nothing. */
	fake_ns += 100000000ull;
	ck_assert_uint_eq(pvmem_rings_decay(rings(), 200000000ull), 0);
	fake_ns += 200000000ull;
	ck_assert_uint_eq(pvmem_rings_decay(rings(), 200000000ull),
			  PVMEM_RING_SUP_SLOTS / 2);
	ck_assert_uint_eq(target(0), PVMEM_RING_SUP_SLOTS / 2);
	ck_assert_uint_eq(level(0), PVMEM_RING_SUP_SLOTS / 2);
	fx_assert_consistent();
	for (unsigned i = 0; i < 8; i++) {
		fake_ns += 200000000ull;
		pvmem_rings_decay(rings(), 200000000ull);
	}
	ck_assert_uint_eq(target(0), 0);
	ck_assert_uint_eq(level(0), 0);
	ck_assert_uint_ge(ring_stats().shrinks, 5);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p),
			  RING_PAGES + fx_frames(FRAME_GUEST) - 0);
	fx_assert_consistent();
	/* The guest skips the slots taken back and finds the supply empty. */
	ck_assert_uint_eq(pvmem_ring_take(r), 0);
	ck_assert_uint_eq(r->sup_cons, r->sup_prod);
}
END_TEST

START_TEST(test_drain_kick)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t held, free0 = fx_frames(FRAME_FREE);

	ck_assert_int_eq(kick(0), 0);
	held = pvmem_ring_take(r);
	ck_assert_int_eq(kick(0 | PVMEM_KICK_DRAIN), 0);
	ck_assert_uint_eq(level(0), 0);
	ck_assert_uint_eq(target(0), 0);
	ck_assert_uint_eq(r->sup_target, 0);
	/* Only the frame the guest took is still charged. */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), RING_PAGES + 1);
	ck_assert_uint_eq(fx_frames(FRAME_FREE), free0 - 1);
	ck_assert_uint_eq(frame_state(held), FRAME_GUEST);
	ck_assert_uint_eq(ring_stats().reclaimed, PVMEM_RING_MIN_TARGET - 1);
	ck_assert_uint_eq(ring_stats().drains, 1);
	ck_assert_uint_eq(pvmem_ring_take(r), 0);
	fx_assert_consistent();
	/* The next kick starts again from the minimum. */
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(target(0), PVMEM_RING_MIN_TARGET);
	ck_assert_uint_ne(pvmem_ring_take(r), 0);
	fx_assert_consistent();
}
END_TEST

/* The page limit holds; a doorbell ALLOC gets the rings' frames first. */
START_TEST(test_limit_and_edquot)
{
	const uint64_t limit = 1024;
	struct pvmem_ring *r0, *r1;
	uint64_t got = 0;
	unsigned done;
	int st;

	ring_fx_teardown();
	ring_fx_setup_limit(limit);
	r0 = setup_ring0();
	r1 = ring(1);
	ck_assert_int_eq(kick(0), 0);
	ck_assert_int_eq(kick(1), 0);
	ck_assert_uint_eq(level(0) + level(1), 2 * PVMEM_RING_MIN_TARGET);
	/* Grow ring 0 as far as it goes: never past the limit. */
	for (unsigned i = 0; i < 8; i++) {
		while (pvmem_ring_take(r0))
			got++;
		ck_assert_int_eq(kick(0), 0);
		ck_assert_uint_le(pvmem_tot_pages(fx.p), limit);
	}
	fx_assert_consistent();
	/* Take the rest by doorbell: the rings give back what they hold. */
	do {
		st = fx_alloc(GFP_KERNEL, 0, 512, NULL, &done);
		got += done;
		ck_assert_uint_le(pvmem_tot_pages(fx.p), limit);
	} while (st == 0);
	ck_assert_int_eq(st, -EDQUOT);
	ck_assert_uint_eq(level(0) + level(1), 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), limit);
	ck_assert_uint_eq(got, limit - RING_PAGES);
	/* Full: a kick places nothing and says why. */
	ck_assert_int_eq(kick(1), 0);
	ck_assert_uint_eq(pvmem_ring_take(r1), 0);
	ck_assert_int_eq(r1->last_err, -EDQUOT);
	ck_assert_uint_ge(ring_stats().short_refills, 1);
	fx_assert_consistent();
}
END_TEST

/*
 * __GFP_NORETRY (a balloon trying for whole blocks): a short ALLOC fails
 * fast and leaves the rings' frames where they are; a plain one takes
 * them back.
 */
START_TEST(test_noretry_alloc_leaves_rings)
{
	const uint64_t limit = 1024;
	uint64_t held;
	unsigned done;
	int st;

	ring_fx_teardown();
	ring_fx_setup_limit(limit);
	setup_ring0();
	ck_assert_int_eq(kick(0), 0);
	ck_assert_int_eq(kick(1), 0);
	held = level(0) + level(1);
	ck_assert_uint_eq(held, 2 * PVMEM_RING_MIN_TARGET);
	do
		st = fx_alloc(GFP_KERNEL | __GFP_NORETRY, 0, 512, NULL, &done);
	while (st == 0);
	ck_assert_int_eq(st, -EDQUOT);
	ck_assert_uint_eq(level(0) + level(1), held);
	ck_assert_uint_eq(ring_stats().reclaimed, 0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL | __GFP_NORETRY, PAGEBLOCK_ORDER,
				  1, NULL, &done),
			 -EDQUOT);
	ck_assert_uint_eq(level(0) + level(1), held);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 1, NULL, &done), 0);
	ck_assert_uint_eq(level(0) + level(1), 0);
	ck_assert_uint_eq(ring_stats().reclaimed, held);
	fx_assert_consistent();
}
END_TEST

/* A kick on an empty ring takes the other rings' frames when short. */
START_TEST(test_empty_ring_takes_from_others)
{
	const uint64_t limit = RING_PAGES + 2 * PVMEM_RING_MIN_TARGET + 16;
	struct pvmem_ring *r0;
	unsigned done;

	ring_fx_teardown();
	ring_fx_setup_limit(limit);
	r0 = setup_ring0();
	ck_assert_int_eq(kick(1), 0);
	ck_assert_uint_eq(level(1), PVMEM_RING_MIN_TARGET);
	/* The guest holds all but what ring 1 offers. */
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, PVMEM_RING_MIN_TARGET + 16,
				  NULL, &done),
			 0);
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(level(1), 0);
	ck_assert_uint_eq(level(0), PVMEM_RING_MIN_TARGET);
	ck_assert_uint_ne(pvmem_ring_take(r0), 0);
	fx_assert_consistent();
}
END_TEST

/* Hostile ---------------------------------------------------------------- */

START_TEST(test_bad_indices)
{
	struct pvmem_ring *r = setup_ring0();
	struct pvmem_ring_stats st;
	uint64_t tot;

	ck_assert_int_eq(kick(0), 0);
	tot = pvmem_tot_pages(fx.p);
	/* sup_cons past sup_prod, behind what it was, wrapped. */
	static const uint32_t bad_cons[] = {PVMEM_RING_MIN_TARGET + 1,
					    UINT32_MAX, 0x80000000u};
	for (unsigned i = 0; i < 3; i++) {
		r->sup_cons = bad_cons[i];
		ck_assert_int_eq(kick(0), 0);
		ck_assert_int_eq(r->last_err, -ERANGE);
		ck_assert_uint_eq(level(0), PVMEM_RING_MIN_TARGET);
		ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot);
		fx_assert_consistent();
	}
	r->sup_cons = 0;
	/* ret_prod more than a ring ahead, or behind (wrapped). */
	static const uint32_t bad_prod[] = {PVMEM_RING_RET_SLOTS + 1,
					    UINT32_MAX, 0x80000000u};
	for (unsigned i = 0; i < 3; i++) {
		r->ret_prod = bad_prod[i];
		ck_assert_int_eq(kick(0), 0);
		ck_assert_int_eq(r->last_err, -ERANGE);
		ck_assert_uint_eq(ring_stats().returned, 0);
		ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot);
		fx_assert_consistent();
	}
	r->ret_prod = 0;
	/* Kicks naming no ring. */
	ck_assert_int_eq(kick(NR_RINGS), -EINVAL);
	ck_assert_int_eq(kick(12345), -EINVAL);
	ck_assert_int_eq(kick(NR_RINGS | PVMEM_KICK_DRAIN), -EINVAL);
	st = ring_stats();
	ck_assert_uint_eq(st.bad_index, 6);
	ck_assert_uint_eq(st.bad_kick, 3);
	ck_assert_uint_eq(st.errors, 9);
	ck_assert_uint_eq(r->err_count, 6);
	/* Back to sense, the ring works again. */
	ck_assert_uint_ne(pvmem_ring_take(r), 0);
	ck_assert_int_eq(kick(0), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_returns_not_given)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t order1, dma_gpa, bad[8], free0, guest0, dma0;
	unsigned n = 0, done;

	ck_assert_int_eq(kick(0), 0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 1, 1, &order1, &done), 0);
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 64, &dma_gpa), 0);
	/* A FREE frame: the highest of low RAM is free in this fixture. */
	bad[n++] = (FX_LOW_SIZE >> 12) - 1;
	ck_assert_uint_eq(frame_state(bad[0]), FRAME_FREE);
	bad[n++] = 0x100;		     /* reserved (image) */
	bad[n++] = (FX_LOW_SIZE >> 12) + 10; /* the MMIO hole */
	bad[n++] = ring_gpa(1) >> 12;	     /* another ring's page */
	bad[n++] = dma_gpa >> 12;	     /* a device's frame */
	bad[n++] = r->sup[3];		     /* offered, not taken */
	bad[n++] = order1;		     /* an order-1 head */
	bad[n++] = 0;			     /* pfn 0 */
	free0 = fx_frames(FRAME_FREE);
	guest0 = fx_frames(FRAME_GUEST);
	dma0 = fx_frames(FRAME_DMA);
	for (unsigned i = 0; i < n; i++)
		ck_assert(pvmem_ring_put(r, bad[i]));
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(r->ret_cons, n);
	ck_assert_uint_eq(r->err_count, n);
	ck_assert_uint_eq(ring_stats().bad_return, n);
	ck_assert_uint_eq(ring_stats().returned, 0);
	/* Nothing changed hands. */
	ck_assert_uint_eq(fx_frames(FRAME_FREE), free0);
	ck_assert_uint_eq(fx_frames(FRAME_GUEST), guest0);
	ck_assert_uint_eq(fx_frames(FRAME_DMA), dma0);
	fx_assert_consistent();
	/* A frame returned twice: the second is refused. */
	bad[0] = pvmem_ring_take(r);
	ck_assert(pvmem_ring_put(r, bad[0]) && pvmem_ring_put(r, bad[0]));
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(ring_stats().returned, 1);
	ck_assert_uint_eq(r->err_count, n + 1);
	ck_assert_int_eq(r->last_err, -EPERM);
	fx_assert_consistent();
}
END_TEST

/* Slots passed without taking them, scribbled slots, a scribbled header. */
START_TEST(test_lies_in_the_supply)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t s0, s1, s2, fake = (FX_LOW_SIZE >> 12) - 1, tot;

	ck_assert_int_eq(kick(0), 0);
	s0 = r->sup[0];
	s1 = r->sup[1];
	s2 = r->sup[2];
	/* Passed, never taken: the host takes them back. */
	r->sup_cons = 2;
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(ring_stats().lied_cons, 2);
	/* Free again, or offered anew (the refill reuses hot frames). */
	ck_assert(frame_state(s0) == FRAME_FREE ||
		  pvmem_rings_holds(rings(), s0));
	ck_assert(frame_state(s1) == FRAME_FREE ||
		  pvmem_rings_holds(rings(), s1));
	ck_assert_uint_eq(r->sup[0], 0);
	fx_assert_consistent();
	/* A slot rewritten with a frame the guest was not given. */
	ck_assert_uint_eq(frame_state(fake), FRAME_FREE);
	r->sup[2] = fake;
	ck_assert_uint_eq(pvmem_ring_take(r), fake);
	fx_assert_consistent();
	/* s2 counts as given (it was offered); fake stays free. */
	ck_assert_uint_eq(frame_state(fake), FRAME_FREE);
	ck_assert_uint_eq(frame_state(s2), FRAME_GUEST);
	ck_assert(!pvmem_rings_holds(rings(), s2));
	ck_assert_int_eq(fx_free1(fake, 0), -EPERM);
	ck_assert_int_eq(fx_free1(s2, 0), 0);
	/* The host's header fields: rewritten, never believed. */
	tot = pvmem_tot_pages(fx.p);
	r->sup_prod = 5000;
	r->ret_cons = 77;
	r->sup_target = 1u << 30;
	r->magic = 0;
	r->flags = 0xffffffffu;
	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(r->magic, PVMEM_RING_MAGIC);
	ck_assert_uint_eq(r->ret_cons, 0);
	ck_assert_uint_le(r->sup_target, PVMEM_RING_SUP_SLOTS);
	ck_assert_uint_eq(r->flags, 0);
	ck_assert_uint_le(pvmem_tot_pages(fx.p), tot + PVMEM_RING_SUP_SLOTS);
	fx_assert_consistent();
}
END_TEST

/*
 * Free every GUEST block that is not a ring page by doorbell, then take
 * the rings back: all frames must be FREE again but the rings' own pages
 * (nothing leaked, nothing held twice).
 */
static void free_all_and_check(void)
{
	uint64_t end = (FX_HIGH_GPA + FX_HIGH_SIZE) >> 12;

	pvmem_rings_quiesce(rings());
	for (uint64_t pfn = 0; pfn < end; pfn++) {
		const struct page *pg = mm_pfn_to_page(fx.mm, pfn);

		if (pg && pg->state == FRAME_GUEST && (pg->flags & PG_HEAD))
			ck_assert_int_eq(fx_free1(pfn, pg->order), 0);
	}
	ck_assert_uint_eq(fx_frames(FRAME_GUEST), 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), RING_PAGES);
	fx_assert_consistent();
}

struct scribbler {
	struct pvmem_ring *r;
	atomic_bool stop;
	unsigned seed;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint64_t end = (FX_HIGH_GPA + FX_HIGH_SIZE) >> 12;

	while (!atomic_load(&s->stop)) {
		unsigned what = (unsigned)rand_r(&s->seed) % 6;
		uint32_t v = (uint32_t)rand_r(&s->seed);
		unsigned slot = v % PVMEM_RING_SUP_SLOTS;

		if (what == 0)
			s->r->sup_cons += v % 8;
		else if (what == 1)
			s->r->ret_prod = s->r->ret_cons + v % 600;
		else if (what == 2)
			s->r->ret[v % PVMEM_RING_RET_SLOTS] = v % end;
		else if (what == 3)
			__atomic_exchange_n(&s->r->sup[slot], 0,
					    __ATOMIC_ACQ_REL);
		else if (what == 4)
			s->r->sup[slot] = v % end;
		else
			s->r->ret[v % PVMEM_RING_RET_SLOTS] = s->r->sup[slot];
	}
	return NULL;
}

/* A thread scribbles over a ring while kicks and doorbells run. */
START_TEST(test_concurrent_scribbling)
{
	struct scribbler s = {.r = setup_ring0(),
			      .seed = (unsigned)unit_seed()};
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, scribble, &s), 0);
	for (unsigned i = 0; i < 3000; i++) {
		unsigned done;

		ck_assert_int_ge(kick(i % 7 ? 0 : PVMEM_KICK_DRAIN), -EINVAL);
		if (i % 5 == 0)
			fx_alloc(GFP_KERNEL, 0, 8, NULL, &done);
		if (i % 11 == 0)
			pvmem_rings_reclaim(rings());
		if (i % 97 == 0) {
			pvmem_rings_service(rings());
			fx_assert_consistent();
		}
	}
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	ck_assert_uint_gt(ring_stats().errors, 0);
	fx_assert_consistent();
	free_all_and_check();
}
END_TEST

struct honest_guest {
	struct pvmem_ring *r;
	unsigned rounds;
	uint8_t *held; /* a byte per pfn */
	uint64_t end;
	unsigned double_takes, kicks;
};

/* Take frames, check none is held twice, return them; kick when dry. */
static void *honest(void *arg)
{
	struct honest_guest *g = arg;
	uint64_t pfns[64];

	for (unsigned i = 0; i < g->rounds; i++) {
		unsigned n = 0;

		while (n < 64) {
			uint64_t pfn = pvmem_ring_take(g->r);

			if (!pfn) {
				kick(0);
				g->kicks++;
				continue;
			}
			ck_assert_uint_lt(pfn, g->end);
			if (g->held[pfn]++)
				g->double_takes++;
			pfns[n++] = pfn;
		}
		for (unsigned k = 0; k < n; k++) {
			g->held[pfns[k]]--;
			while (!pvmem_ring_put(g->r, pfns[k]))
				kick(0);
		}
	}
	return NULL;
}

/*
 * The exchange decides every race between a take and a take-back: an
 * honest guest taking and returning frames while the host reclaims,
 * decays and services from another thread never gets a frame twice, and
 * every frame it returns is accepted.
 */
START_TEST(test_take_races_reclaim)
{
	struct honest_guest g = {.rounds = 2000};
	pthread_t t;

	g.r = setup_ring0();
	g.end = (FX_HIGH_GPA + FX_HIGH_SIZE) >> 12;
	g.held = calloc(g.end, 1);
	ck_assert_ptr_nonnull(g.held);
	ck_assert_int_eq(pthread_create(&t, NULL, honest, &g), 0);
	for (unsigned i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			pvmem_rings_reclaim(rings());
		else
			pvmem_rings_service(rings());
		if (i % 1000 == 0) {
			fake_ns += 300000000ull;
			pvmem_rings_decay(rings(), 200000000ull);
		}
	}
	pthread_join(t, NULL);
	ck_assert_uint_eq(g.double_takes, 0);
	kick(0);
	ck_assert_uint_eq(ring_stats().bad_return, 0);
	ck_assert_uint_eq(ring_stats().lied_cons, 0);
	ck_assert_uint_eq(ring(0)->err_count, 0);
	ck_assert_uint_eq(ring_stats().returned, 64ull * g.rounds);
	free(g.held);
	fx_assert_consistent();
	free_all_and_check();
}
END_TEST

#define RACE_N 64

struct freer {
	atomic_bool stop;
	uint64_t pfns[RACE_N]; /* written by the guest thread, atomically */
	unsigned freed;
};

/* Another vCPU: FREE by doorbell of frames the guest is returning. */
static void *race_freer(void *arg)
{
	struct freer *f = arg;
	const uint64_t blk = FX_SCRATCH_GPA, ents = FX_SCRATCH_GPA + 0x1000;
	unsigned i = 0;

	while (!atomic_load(&f->stop)) {
		struct pvmem_block *b = fx_ptr(blk);
		struct pvmem_free_ent *e = fx_ptr(ents);

		memset(&b->hdr, 0, sizeof(b->hdr));
		b->hdr.magic = PVMEM_MAGIC;
		b->hdr.abi_major = PVMEM_ABI_MAJOR;
		b->hdr.nr_reqs = 1;
		memset(&b->reqs[0], 0, sizeof(b->reqs[0]));
		b->reqs[0].op = PVMEM_OP_FREE;
		b->reqs[0].count = 1;
		b->reqs[0].addr = ents;
		e[0] = (struct pvmem_free_ent){
			.pfn = __atomic_load_n(&f->pfns[i++ % RACE_N],
					       __ATOMIC_RELAXED)};
		if (pvmem_doorbell(fx.p, blk) == 0 && b->reqs[0].status == 0)
			f->freed++;
	}
	return NULL;
}

/* What the guest can still take must be GUEST frames: nothing freed. */
static void assert_supply_guest(struct pvmem_ring *r)
{
	for (uint32_t pos = r->sup_cons; pos != r->sup_prod; pos++) {
		uint64_t pfn = __atomic_load_n(&r->sup[pos & RING_MASK],
					       __ATOMIC_ACQUIRE);

		if (pfn)
			ck_assert_uint_eq(frame_state(pfn), FRAME_GUEST);
	}
}

/*
 * A returned frame is recycled into the supply or freed, never both: a
 * hostile guest returns frames through the ring while another vCPU FREEs
 * the same frames by doorbell.
 */
START_TEST(test_recycle_races_free)
{
	struct freer f = {0};
	struct pvmem_ring *r = setup_ring0();
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, race_freer, &f), 0);
	for (unsigned round = 0; round < 400; round++) {
		for (unsigned i = 0; i < RACE_N; i++) {
			uint64_t pfn;

			while (!(pfn = pvmem_ring_take(r)))
				ck_assert_int_eq(kick(0), 0);
			__atomic_store_n(&f.pfns[i], pfn, __ATOMIC_RELAXED);
		}
		for (unsigned i = 0; i < RACE_N; i++)
			while (!pvmem_ring_put(r, f.pfns[i]))
				ck_assert_int_eq(kick(0), 0);
		pvmem_rings_service(rings());
		assert_supply_guest(r);
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	ck_assert_uint_gt(ring_stats().recycled, 0);
	assert_supply_guest(r);
	fx_assert_consistent();
	free_all_and_check();
}
END_TEST

START_TEST(test_stats_text)
{
	char buf[16384];
	struct pvmem_ring *r = setup_ring0();

	ck_assert_int_eq(kick(0), 0);
	pvmem_ring_take(r);
	ck_assert_int_lt(pvmem_format_stats(fx.p, buf, sizeof(buf)),
			 (int)sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "ring_rings 2\n"));
	ck_assert_ptr_nonnull(strstr(buf, "ring_supply_target 32\n"));
	ck_assert_ptr_nonnull(strstr(buf, "ring_kicks 1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "op_ring_setup ok 1 err 0\n"));
	/* Taken at the last look, not before. */
	ck_assert_ptr_nonnull(strstr(buf, "ring_supply_frames 32\n"));
	fx_assert_consistent();
	ck_assert_uint_eq(ring_stats().supply_frames, 31);
}
END_TEST

/* Populate ahead ---------------------------------------------------------- */

static void ring_fx_setup_populate(void)
{
	struct pvmem_config cfg = {
		.rings = {.clock_ns = fake_clock, .populate = true},
	};

	fake_ns = 1000000000ull;
	mm_port_set_log_sink(quiet_log);
	fx_setup_cfg(&cfg);
}

/* Has the host backed frame @pfn? (mincore: no read, nothing faulted.) */
static bool backed(uint64_t pfn)
{
	unsigned char v = 0;

	ck_assert_int_eq(mincore(fx_ptr(MM_PFN_TO_ADDR(pfn)), 4096, &v), 0);
	return v & 1;
}

#define POP_FRAMES 512 /* frames per 2 MiB host page */

/*
 * pvmem_rings_populate() backs the 2 MiB host pages of the frames placed in
 * a supply since its last call, once each, and changes nothing else: no
 * frame's state, charge or contents; a host page with no supply frame
 * stays unbacked.
 */
START_TEST(test_populate_ahead)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t tot, free0, pfn = 0, far = 0, populated, *first;
	unsigned lvl, n;

	ck_assert_int_eq(kick(0), 0);
	lvl = level(0);
	ck_assert_uint_eq(lvl, PVMEM_RING_MIN_TARGET);
	/* A free host page in RAM far from every supply frame. */
	for (uint64_t c = 4; c < FX_LOW_SIZE / GUEST_MEM_HUGE_SIZE && !far;
	     c++) {
		bool near = false;

		for (unsigned i = 0; i < lvl; i++)
			near |= r->sup[i] / POP_FRAMES == c;
		if (!near && !backed(c * POP_FRAMES))
			far = c * POP_FRAMES;
	}
	ck_assert_uint_ne(far, 0);
	for (unsigned i = 0; i < lvl; i++)
		ck_assert_msg(!backed(r->sup[i]), "supply pfn %#llx backed",
			      (unsigned long long)r->sup[i]);
	tot = pvmem_tot_pages(fx.p);
	free0 = fx_frames(FRAME_FREE);
	n = (unsigned)pvmem_rings_populate(rings());
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_eq(ring_stats().populated, n);
	for (unsigned i = 0; i < lvl; i++)
		ck_assert(backed(r->sup[i]));
	ck_assert(!backed(far));
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot);
	ck_assert_uint_eq(fx_frames(FRAME_FREE), free0);
	ck_assert_uint_eq(level(0), lvl);
	/* Nothing new in the supply: nothing to do. */
	ck_assert_uint_eq(pvmem_rings_populate(rings()), 0);
	/*
	 * The guest's data in a frame it took stays through a populate of
	 * its host page: take frames (kicking, not populating) up to the
	 * first in a host page not populated yet, write it, then populate
	 * the rest of that page's supply frames.
	 */
	populated = r->sup[0] / POP_FRAMES;
	for (unsigned k = 0; k < 4 * POP_FRAMES; k++) {
		pfn = pvmem_ring_take(r);
		if (pfn && pfn / POP_FRAMES != populated)
			break;
		if (!pfn)
			ck_assert_int_eq(kick(0), 0);
	}
	ck_assert_uint_ne(pfn, 0);
	ck_assert_uint_ne(pfn / POP_FRAMES, populated);
	first = fx_ptr(MM_PFN_TO_ADDR(pfn));
	memset(first, 0xa5, 4096);
	if (level(0) < 2)
		ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(r->sup[r->sup_cons & RING_MASK] / POP_FRAMES,
			  pfn / POP_FRAMES);
	n = (unsigned)ring_stats().populated;
	ck_assert_uint_ge(pvmem_rings_populate(rings()), 1);
	ck_assert_uint_gt(ring_stats().populated, n);
	for (unsigned i = 0; i < 4096 / 8; i++)
		ck_assert_uint_eq(first[i], 0xa5a5a5a5a5a5a5a5ull);
	ck_assert_uint_eq(ring_stats().populate_failed, 0);
	fx_assert_consistent();
}
END_TEST

/*
 * Supply frames populated ahead and then taken back (a drain) lose their
 * backing again with their free block: host RSS follows what the guest
 * holds, not what the host offered it.
 */
START_TEST(test_populate_released_on_drain)
{
	struct pvmem_ring *r = setup_ring0();
	uint64_t chunk = 0, pfns[PVMEM_RING_SUP_SLOTS], held[64];
	unsigned n = 0, nheld = 0;

	held[nheld++] = ring_gpa(0) >> 21;
	held[nheld++] = ring_gpa(1) >> 21;
	/*
	 * Take frames until the next one in the supply lies in a host page
	 * that holds nothing else (no ring, nothing the guest took).
	 */
	for (unsigned k = 0; k < 4 * PVMEM_RING_SUP_SLOTS && !chunk; k++) {
		uint64_t next;
		bool mine = false;

		if (r->sup_cons == r->sup_prod)
			ck_assert_int_eq(kick(0), 0);
		next = r->sup[r->sup_cons & RING_MASK] / POP_FRAMES;
		for (unsigned i = 0; i < nheld; i++)
			mine |= held[i] == next;
		if (!mine) {
			chunk = next;
			break;
		}
		ck_assert_uint_ne(pvmem_ring_take(r), 0);
		if (held[nheld - 1] != next) {
			ck_assert_uint_lt(nheld, 64);
			held[nheld++] = next;
		}
	}
	ck_assert_uint_ne(chunk, 0);
	ck_assert_int_eq(kick(0), 0);
	for (uint32_t pos = r->sup_cons; pos != r->sup_prod; pos++)
		if (r->sup[pos & RING_MASK] / POP_FRAMES == chunk)
			pfns[n++] = r->sup[pos & RING_MASK];
	ck_assert_uint_ge(n, 1);
	pvmem_rings_populate(rings());
	for (unsigned i = 0; i < n; i++)
		ck_assert(backed(pfns[i]));
	ck_assert_int_eq(kick(0 | PVMEM_KICK_DRAIN), 0);
	ck_assert_uint_eq(level(0), 0);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(frame_state(pfns[i]), FRAME_FREE);
		ck_assert_msg(!backed(pfns[i]), "pfn %#llx still backed",
			      (unsigned long long)pfns[i]);
	}
	fx_assert_consistent();
}
END_TEST

/* Without config populate the call does nothing. */
START_TEST(test_populate_off)
{
	struct pvmem_ring *r = setup_ring0();

	ck_assert_int_eq(kick(0), 0);
	ck_assert_uint_eq(pvmem_rings_populate(rings()), 0);
	ck_assert(!backed(r->sup[0]));
	ck_assert_uint_eq(ring_stats().populated, 0);
}
END_TEST

static Suite *pvmem_ring_suite(void)
{
	Suite *s = suite_create("pvmem_ring");
	TCase *tc = tcase_create("core");
	TCase *th = tcase_create("hostile");
	TCase *tp = tcase_create("populate");

	tcase_add_checked_fixture(tc, ring_fx_setup, ring_fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_setup);
	tcase_add_test(tc, test_take_and_return);
	tcase_add_test(tc, test_supply_frame_not_the_guests);
	tcase_add_test(tc, test_returns_recycled);
	tcase_add_test(tc, test_autotune);
	tcase_add_test(tc, test_drain_kick);
	tcase_add_test(tc, test_limit_and_edquot);
	tcase_add_test(tc, test_noretry_alloc_leaves_rings);
	tcase_add_test(tc, test_empty_ring_takes_from_others);
	tcase_add_test(tc, test_stats_text);
	tcase_add_test(tc, test_populate_off);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(th, ring_fx_setup, ring_fx_teardown);
	tcase_set_timeout(th, 300);
	tcase_add_test(th, test_bad_indices);
	tcase_add_test(th, test_returns_not_given);
	tcase_add_test(th, test_lies_in_the_supply);
	tcase_add_test(th, test_concurrent_scribbling);
	tcase_add_test(th, test_take_races_reclaim);
	tcase_add_test(th, test_recycle_races_free);
	suite_add_tcase(s, th);

	tcase_add_checked_fixture(tp, ring_fx_setup_populate, ring_fx_teardown);
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, test_populate_ahead);
	tcase_add_test(tp, test_populate_released_on_drain);
	suite_add_tcase(s, tp);
	return s;
}

UNIT_SUITE(pvmem_ring_suite)
