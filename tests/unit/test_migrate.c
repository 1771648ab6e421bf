// SPDX-License-Identifier: MIT
/*
 * Migration of movable blocks (mm/migrate.c): the owner interface, what
 * mm_migrate_pages() does with every answer an owner can give, pending
 * (asynchronous) migrations, and a seeded model test of random allocations,
 * frees, migrations with misbehaving owners, compactions and contiguous
 * allocations with mm_check() after every step.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "buddy_fx.h"
#include "compaction_fx.h"
#include "unit.h"

#define BASE   MIB_PFN(16)
#define FRAMES MIB_PFN(64)

static const struct mm_range one_zone[] = {{BASE, BASE + FRAMES}};

struct mig_fx {
	struct buddy_fx fx;
	struct mm *mm;
	struct cfx_owner o;
};

static void mig_setup(struct mig_fx *f, bool pcp)
{
	struct mm_config cfg = {.pcp_disabled = !pcp};

	f->mm = buddy_fx_new(&f->fx, one_zone, 1, &cfg);
	cfx_init(&f->o, f->mm, BASE, FRAMES, 1u << 15);
	ck_assert_int_eq(f->o.id, 1);
}

static void mig_teardown(struct mig_fx *f)
{
	char why[256];

	ck_assert_msg(cfx_teardown(&f->o, why, sizeof(why)) == 0, "%s", why);
	buddy_fx_free(&f->fx);
}

static void assert_owner_ok(struct cfx_owner *o)
{
	const char *why = cfx_verify(o);

	ck_assert_msg(why == NULL, "owner: %s", why);
}

/* Isolate @n handles from @first into @list. */
static unsigned isolate_handles(struct mig_fx *f, unsigned first, unsigned n,
				struct mm_migration *list)
{
	for (unsigned i = 0; i < n; i++) {
		struct cfx_handle *h = &f->o.h[first + i];
		unsigned order;

		ck_assert_int_eq(mm_isolate_movable(f->mm, h->pfn, &order), 0);
		ck_assert_uint_eq(order, h->order);
		list[i].src = h->pfn;
		list[i].dst = MM_PFN_NONE;
		list[i].order = order;
	}
	return n;
}

START_TEST(test_migrate_moves_contents_and_frees_old)
{
	struct mm_migration list[40];
	uint64_t old[40];
	struct mm_stats st;
	struct mig_fx f;

	mig_setup(&f, false);
	for (unsigned i = 0; i < 40; i++)
		ck_assert_int_eq(cfx_alloc(&f.o, GFP_HIGHUSER_MOVABLE, i % 3),
				 (int)i);
	isolate_handles(&f, 0, 40, list);
	for (unsigned i = 0; i < 40; i++)
		old[i] = list[i].src;
	mm_get_stats(f.mm, &st);
	ck_assert_uint_gt(st.isolated, 0);
	buddy_fx_assert_clean(f.mm);
	ck_assert_int_eq(mm_migrate_pages(f.mm, list, 40, MIGRATE_SYNC), 0);
	for (unsigned i = 0; i < 40; i++) {
		ck_assert_int_eq(list[i].result, 0);
		ck_assert_uint_eq(f.o.h[i].pfn, list[i].dst);
		ck_assert_uint_ne(list[i].dst, old[i]);
	}
	assert_owner_ok(&f.o);
	ck_assert_uint_eq(f.o.isolates, 40);
	ck_assert_uint_eq(f.o.putbacks, 0);
	buddy_fx_assert_clean(f.mm);
	mm_get_stats(f.mm, &st);
	ck_assert_uint_eq(st.isolated, 0);
	ck_assert_uint_eq(st.pgmigrate_success, 14 * 1 + 13 * 2 + 13 * 4);
	mig_teardown(&f);
}
END_TEST

/* Every failing answer: the sources go back, targets are released. */
START_TEST(test_migrate_failures_put_back)
{
	static const int rcs[] = {-EIO, -EAGAIN, -ENOMEM, 7};
	struct mm_migration list[16];
	struct mig_fx f;

	mig_setup(&f, true);
	for (unsigned i = 0; i < 16; i++)
		cfx_alloc(&f.o, GFP_HIGHUSER_MOVABLE, i % 2);
	for (unsigned r = 0; r < 4; r++) {
		for (int mode = 0; mode < 2; mode++) {
			uint64_t calls = f.o.calls, puts = f.o.putbacks;

			f.o.fail_rc = rcs[r];
			f.o.fail_every = 1;
			isolate_handles(&f, 0, 16, list);
			ck_assert_int_eq(
				mm_migrate_pages(f.mm, list, 16,
						 (enum migrate_mode)mode),
				16);
			for (unsigned i = 0; i < 16; i++) {
				ck_assert_int_ne(list[i].result, 0);
				ck_assert_uint_eq(list[i].src, f.o.h[i].pfn);
			}
			/* Busy owners are retried only in sync mode. */
			ck_assert_uint_eq(f.o.calls - calls,
					  rcs[r] == -EAGAIN && mode ? 48 : 16);
			ck_assert_uint_eq(f.o.putbacks - puts, 16);
			assert_owner_ok(&f.o);
			mm_drain_pcp(f.mm);
			buddy_fx_assert_clean(f.mm);
		}
	}
	mig_teardown(&f);
}
END_TEST

START_TEST(test_isolated_blocks_are_held)
{
	struct mm_migration list[8];
	struct mig_fx f;
	uint64_t pinned;
	unsigned order;

	mig_setup(&f, true);
	for (unsigned i = 0; i < 8; i++)
		cfx_alloc(&f.o, GFP_HIGHUSER_MOVABLE, 0);
	/* A block without an owner never moves. */
	ck_assert_int_eq(mm_alloc_pages(f.mm, GFP_KERNEL, 0, &pinned), 0);
	ck_assert_int_eq(mm_isolate_movable(f.mm, pinned, &order), -EINVAL);
	/* The owner may say no. */
	f.o.refuse_every = 1;
	ck_assert_int_eq(mm_isolate_movable(f.mm, f.o.h[0].pfn, &order),
			 -EBUSY);
	ck_assert_int_eq(
		mm_pfn_to_page(f.mm, f.o.h[0].pfn)->flags & PG_ISOLATED, 0);
	f.o.refuse_every = 0;
	isolate_handles(&f, 0, 8, list);
	/* Twice is refused; an isolated block cannot be freed or retyped. */
	ck_assert_int_eq(mm_isolate_movable(f.mm, list[0].src, &order),
			 -EINVAL);
	ck_assert_int_eq(mm_free_pages(f.mm, list[0].src, 0), -EBUSY);
	ck_assert_int_eq(mm_set_frames_state(f.mm, list[1].src, 1, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 -EBUSY);
	ck_assert_int_eq(mm_set_movable_owner(f.mm, list[1].src, 0, 0), -EBUSY);
	/* Put back: usable again. */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(mm_putback_movable(f.mm, list[i].src), 0);
	ck_assert_int_eq(mm_putback_movable(f.mm, list[0].src), -EINVAL);
	ck_assert_uint_eq(f.o.putbacks, 8);
	ck_assert_int_eq(mm_free_pages(f.mm, pinned, 0), 0);
	mm_drain_pcp(f.mm);
	buddy_fx_assert_clean(f.mm);
	mig_teardown(&f);
}
END_TEST

/* Pending migrations: the owner finishes them later, or they time out. */
START_TEST(test_migrate_pending_finish_and_cancel)
{
	struct mm_migration list[32];
	struct mm_stats st;
	struct mig_fx f;
	uint64_t tgt;

	mig_setup(&f, false);
	for (unsigned i = 0; i < 32; i++)
		cfx_alloc(&f.o, GFP_HIGHUSER_MOVABLE, i % 4);
	f.o.fail_rc = -EINPROGRESS;
	f.o.fail_every = 2;
	isolate_handles(&f, 0, 32, list);
	ck_assert_int_eq(mm_migrate_pages(f.mm, list, 32, MIGRATE_ASYNC), 0);
	ck_assert_uint_eq(f.o.nr_pending, 16);
	/* While pending: both blocks held, nothing can free them. */
	for (unsigned i = 0; i < 32; i++) {
		if (list[i].result == 0)
			continue;
		ck_assert_int_eq(list[i].result, -EINPROGRESS);
		ck_assert_int_eq(
			mm_free_pages(f.mm, list[i].src, list[i].order),
			-EBUSY);
		ck_assert_int_eq(
			mm_free_pages(f.mm, list[i].dst, list[i].order),
			-EBUSY);
	}
	mm_get_stats(f.mm, &st);
	ck_assert_uint_gt(st.isolated, 0);
	buddy_fx_assert_clean(f.mm);
	/* A pair that is not one is refused and changes nothing. */
	ck_assert_int_eq(mm_migrate_finish(f.mm, list[1].src, list[3].dst, 0),
			 -EINVAL);
	ck_assert_int_eq(mm_alloc_migration_target(f.mm, ZONE_DMA32, 0, &tgt),
			 0);
	ck_assert_int_eq(mm_migrate_finish(f.mm, f.o.h[0].pfn, tgt, 0),
			 -EINVAL);
	ck_assert_int_eq(mm_free_migration_target(f.mm, tgt), 0);
	/* Half commit, half time out. */
	f.o.nr_pending = 8;
	ck_assert_uint_eq(cfx_finish_pending(&f.o, true), 0);
	f.o.nr_pending = 8;
	for (unsigned i = 0; i < 8; i++)
		f.o.pending[i] = f.o.pending[i + 8];
	ck_assert_uint_eq(cfx_finish_pending(&f.o, false), 0);
	assert_owner_ok(&f.o);
	mm_get_stats(f.mm, &st);
	ck_assert_uint_eq(st.isolated, 0);
	ck_assert_uint_eq(f.o.migrations, 24);
	buddy_fx_assert_clean(f.mm);
	mig_teardown(&f);
}
END_TEST

/* The model test ------------------------------------------------------- */

struct model {
	struct mig_fx f;
	uint64_t seed;
	uint64_t pinned[512];
	unsigned pinned_order[512];
	unsigned nr_pinned;
	uint64_t contig[16], contig_nr[16];
	unsigned nr_contig;
};

static uint64_t mrand(struct model *m)
{
	m->seed ^= m->seed >> 12;
	m->seed ^= m->seed << 25;
	m->seed ^= m->seed >> 27;
	return m->seed * 2685821657736338717ull;
}

static unsigned live_handle(struct model *m)
{
	struct cfx_owner *o = &m->f.o;

	if (!o->nr_h)
		return UINT32_MAX;
	for (unsigned tries = 0; tries < 8; tries++) {
		unsigned i = (unsigned)(mrand(m) % o->nr_h);

		if (o->h[i].live)
			return i;
	}
	return UINT32_MAX;
}

static void model_migrate(struct model *m)
{
	struct mm_migration list[8];
	struct cfx_owner *o = &m->f.o;
	unsigned n = 0;
	static const int rcs[] = {-EAGAIN, -EIO, -EINPROGRESS, -ENOMEM, 3};

	for (unsigned k = 0; k < 8; k++) {
		unsigned i = live_handle(m), order;

		if (i == UINT32_MAX ||
		    mm_isolate_movable(m->f.mm, o->h[i].pfn, &order))
			continue;
		list[n].src = o->h[i].pfn;
		list[n].dst = MM_PFN_NONE;
		list[n].order = order;
		n++;
	}
	o->fail_every = (unsigned)(mrand(m) % 4);
	o->fail_rc = rcs[mrand(m) % 5];
	mm_migrate_pages(m->f.mm, list, n, (enum migrate_mode)(mrand(m) % 2));
	for (unsigned i = 0; i < n; i++)
		ck_assert(list[i].result == 0 ||
			  list[i].result == -EINPROGRESS ||
			  list[i].dst == MM_PFN_NONE);
}

static void model_step(struct model *m)
{
	struct mm *mm = m->f.mm;
	struct cfx_owner *o = &m->f.o;
	unsigned r = (unsigned)(mrand(m) % 100), i;
	uint64_t pfn;

	o->fail_every = (unsigned)(mrand(m) % 3);
	o->fail_rc = -EAGAIN;
	o->refuse_every = (unsigned)(mrand(m) % 8);
	if (r < 30) {
		cfx_alloc(o, GFP_HIGHUSER_MOVABLE, (unsigned)(mrand(m) % 4));
	} else if (r < 36 && m->nr_pinned < 512) {
		unsigned order = (unsigned)(mrand(m) % 3);

		if (!mm_alloc_pages(mm, GFP_KERNEL, order, &pfn)) {
			m->pinned[m->nr_pinned] = pfn;
			m->pinned_order[m->nr_pinned++] = order;
		}
	} else if (r < 55) {
		i = live_handle(m);
		if (i != UINT32_MAX)
			cfx_free(o, i); /* -EBUSY while pending: fine */
	} else if (r < 58 && m->nr_pinned) {
		i = (unsigned)(mrand(m) % m->nr_pinned);
		ck_assert_int_eq(
			mm_free_pages(mm, m->pinned[i], m->pinned_order[i]), 0);
		m->pinned[i] = m->pinned[--m->nr_pinned];
		m->pinned_order[i] = m->pinned_order[m->nr_pinned];
	} else if (r < 75) {
		model_migrate(m);
	} else if (r < 80) {
		ck_assert_uint_eq(cfx_finish_pending(o, mrand(m) % 2), 0);
	} else if (r < 86) {
		mm_compact_zone(mm, ZONE_DMA32, (int)(mrand(m) % 12) - 1,
				(enum migrate_mode)(mrand(m) % 2), NULL);
	} else if (r < 90 && m->nr_contig < 16) {
		uint64_t nr = 1 + mrand(m) % 2048;
		uint64_t start = BASE + mrand(m) % (FRAMES - nr);

		if (!mm_alloc_contig_range(mm, start, start + nr)) {
			m->contig[m->nr_contig] = start;
			m->contig_nr[m->nr_contig++] = nr;
		}
	} else if (r < 94 && m->nr_contig) {
		i = (unsigned)(mrand(m) % m->nr_contig);
		ck_assert_int_eq(
			mm_free_contig_range(mm, m->contig[i], m->contig_nr[i]),
			0);
		m->contig[i] = m->contig[--m->nr_contig];
		m->contig_nr[i] = m->contig_nr[m->nr_contig];
	} else if (!mm_alloc_pages(mm, GFP_HIGHUSER_MOVABLE, 9, &pfn)) {
		/* Direct compaction may have made this one. */
		ck_assert_int_eq(mm_free_pages(mm, pfn, 9), 0);
	}
}

START_TEST(test_migration_model)
{
	struct model *m = calloc(1, sizeof(*m));
	unsigned steps = unit_sanitized() ? 600 : 2500;
	struct mm_stats st;

	ck_assert_ptr_nonnull(m);
	m->seed = unit_seed() * 2 + 1 + (uint64_t)_i * 7919;
	mig_setup(&m->f, _i == 1);
	m->f.o.seed = m->seed ^ 0x5bd1e995;
	for (unsigned s = 0; s < steps; s++) {
		model_step(m);
		if (_i == 1)
			mm_drain_pcp(m->f.mm);
		buddy_fx_assert_clean(m->f.mm);
		assert_owner_ok(&m->f.o);
	}
	ck_assert_uint_eq(cfx_finish_pending(&m->f.o, true), 0);
	while (m->nr_pinned--)
		ck_assert_int_eq(mm_free_pages(m->f.mm, m->pinned[m->nr_pinned],
					       m->pinned_order[m->nr_pinned]),
				 0);
	while (m->nr_contig--)
		ck_assert_int_eq(
			mm_free_contig_range(m->f.mm, m->contig[m->nr_contig],
					     m->contig_nr[m->nr_contig]),
			0);
	mm_get_stats(m->f.mm, &st);
	ck_assert_uint_gt(st.pgmigrate_success, 0);
	ck_assert_uint_gt(st.pgmigrate_fail, 0);
	mig_teardown(&m->f);
	free(m);
}
END_TEST

/* Threads: compaction and contiguous allocation against allocs and frees --- */

struct race {
	struct mig_fx f;
	atomic_bool stop;
	uint64_t seed;
	unsigned busy_frees; /* frees refused while the block was isolated */
};

static uint64_t race_rand(uint64_t *seed)
{
	*seed ^= *seed >> 12;
	*seed ^= *seed << 25;
	*seed ^= *seed >> 27;
	return *seed * 2685821657736338717ull;
}

/* The guest: allocates and frees movable blocks and pinned frames. */
static void *race_user(void *arg)
{
	struct race *r = arg;
	struct cfx_owner *o = &r->f.o;
	uint64_t pinned[256], seed = r->seed;
	unsigned nr_pinned = 0;

	while (!atomic_load(&r->stop)) {
		unsigned op = (unsigned)(race_rand(&seed) % 8);

		if (op < 3) {
			cfx_lock(o);
			cfx_alloc(o, GFP_HIGHUSER_MOVABLE,
				  (unsigned)(race_rand(&seed) % 2));
			cfx_unlock(o);
		} else if (op < 6) {
			unsigned i;
			int ret;

			cfx_lock(o);
			i = o->nr_h ? (unsigned)(race_rand(&seed) % o->nr_h)
				    : 0;
			if (o->nr_h && o->h[i].live) {
				ret = cfx_free(o, i);
				ck_assert(ret == 0 || ret == -EBUSY);
				r->busy_frees += ret == -EBUSY;
			}
			cfx_unlock(o);
		} else if (op == 6 && nr_pinned < 256) {
			if (!mm_alloc_pages(r->f.mm, GFP_KERNEL, 0,
					    &pinned[nr_pinned]))
				nr_pinned++;
		} else if (nr_pinned) {
			ck_assert_int_eq(
				mm_free_pages(r->f.mm, pinned[--nr_pinned], 0),
				0);
		}
	}
	while (nr_pinned)
		ck_assert_int_eq(mm_free_pages(r->f.mm, pinned[--nr_pinned], 0),
				 0);
	return NULL;
}

START_TEST(test_compaction_races_allocs_and_frees)
{
	struct race *r = calloc(1, sizeof(*r));
	unsigned rounds = unit_sanitized() ? 100 : 400, contig = 0;
	uint64_t seed = unit_seed() * 3 + 1;
	struct mm_stats st;
	pthread_t t;

	ck_assert_ptr_nonnull(r);
	mig_setup(&r->f, true);
	r->f.o.threaded = true;
	r->seed = seed ^ 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < FRAMES / 2; i++)
		cfx_alloc(&r->f.o, GFP_HIGHUSER_MOVABLE, 0);
	for (unsigned i = 0; i < r->f.o.nr_h; i += 2)
		cfx_free(&r->f.o, i);
	ck_assert_int_eq(pthread_create(&t, NULL, race_user, r), 0);
	for (unsigned k = 0; k < rounds; k++) {
		uint64_t start = BASE + race_rand(&seed) % (FRAMES - 4096);

		mm_compact_zone(
			r->f.mm, ZONE_DMA32, (int)(race_rand(&seed) % 11) - 1,
			(enum migrate_mode)(race_rand(&seed) % 2), NULL);
		if (!mm_alloc_contig_range(r->f.mm, start, start + 600)) {
			contig++;
			ck_assert_int_eq(
				mm_free_contig_range(r->f.mm, start, 600), 0);
		}
	}
	atomic_store(&r->stop, true);
	pthread_join(t, NULL);
	mm_drain_pcp(r->f.mm);
	buddy_fx_assert_clean(r->f.mm);
	assert_owner_ok(&r->f.o);
	mm_get_stats(r->f.mm, &st);
	ck_assert_uint_eq(st.isolated, 0);
	ck_assert_uint_gt(st.pgmigrate_success, 0);
	ck_assert_uint_gt(contig, 0);
	r->f.o.threaded = false;
	mig_teardown(&r->f);
	free(r);
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("migrate");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_migrate_moves_contents_and_frees_old);
	tcase_add_test(tc, test_migrate_failures_put_back);
	tcase_add_test(tc, test_isolated_blocks_are_held);
	tcase_add_test(tc, test_migrate_pending_finish_and_cancel);
	tcase_add_loop_test(tc, test_migration_model, 0, 2);
	tcase_add_test(tc, test_compaction_races_allocs_and_frees);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(migrate_suite)
