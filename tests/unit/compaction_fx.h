/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/compaction_fx.h - a movable-block owner for the compaction,
 * migration and CMA tests and the compaction benchmark: it holds blocks
 * through handles (as a zsmalloc-like user would), keeps their contents in
 * a host buffer that stands for guest RAM, copies them on migrate() and
 * switches the handle, and misbehaves on request. No Check dependency.
 */
#ifndef TESTS_UNIT_COMPACTION_FX_H
#define TESTS_UNIT_COMPACTION_FX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mm/mm.h"

struct cfx_handle {
	uint64_t pfn;
	unsigned order;
	uint32_t tag;
	bool live;
};

struct cfx_pending {
	uint64_t src, dst;
};

struct cfx_owner {
	struct mm *mm;
	int id;
	uint8_t *mem; /* contents of [base_pfn, base_pfn + nr_frames) */
	uint64_t base_pfn, nr_frames;
	uint32_t *slot; /* per frame: handle + 1 of the block headed there */
	struct cfx_handle *h;
	unsigned nr_h, max_h;
	unsigned free_hint; /* no free handle below this one */
	bool touch_all; /* fill and check whole frames (bench: full copies) */
	bool no_copy;	/* migrate() switches without copying (bench) */
	uint64_t next_src; /* prefetch() hint, MM_PFN_NONE if none */
	unsigned next_order;
	struct cfx_pending *log; /* if set: every (src, dst) migrated */
	size_t nr_log, max_log;
	/* Misbehaviour. */
	int fail_rc;	       /* what a failing migrate() returns */
	unsigned fail_every;   /* one migrate() in N fails (0: none) */
	unsigned refuse_every; /* one isolate() in N refuses (0: none) */
	uint64_t seed;	       /* 0: deterministic "every N"; else random */
	struct cfx_pending *pending;
	unsigned nr_pending, max_pending;
	/* Threads: callbacks take mu; users call cfx_lock() around theirs. */
	bool threaded;
	pthread_mutex_t mu;
	/* What happened. */
	uint64_t isolates, putbacks, migrations, calls;
};

/* The next number of a xorshift64* sequence; *@seed nonzero. */
uint64_t cfx_rand(uint64_t *seed);

/* @bytes of anonymous memory, 2 MiB aligned, on transparent huge pages
 * (as the VMM maps guest RAM); cfx_ram_free() with the same size. */
void *cfx_ram_alloc(size_t bytes);
void cfx_ram_free(void *mem, size_t bytes);

/* An owner over [base_pfn, base_pfn + nr_frames), registered with @mm. */
void cfx_init(struct cfx_owner *o, struct mm *mm, uint64_t base_pfn,
	      uint64_t nr_frames, unsigned max_handles);
void cfx_destroy(struct cfx_owner *o);

/*
 * A test's end: free every live handle, drain the per-CPU lists, check that
 * o->mm is whole again (mm_check(), every frame free, none isolated), then
 * cfx_destroy(). Return: 0, or -1 with what is wrong in @why.
 */
int cfx_teardown(struct cfx_owner *o, char *why, size_t size);

/* o->mu when o->threaded (around cfx_alloc/cfx_free from other threads). */
void cfx_lock(struct cfx_owner *o);
void cfx_unlock(struct cfx_owner *o);

/* Allocate a movable block and fill it. Return: handle or -errno. */
int cfx_alloc(struct cfx_owner *o, gfp_t gfp, unsigned order);
int cfx_free(struct cfx_owner *o, unsigned handle);

/*
 * Finish the pending migrations: commit (copy, mm_migrate_finish(0),
 * switch) or cancel (mm_migrate_finish(-ETIMEDOUT)). Return: how many
 * mm_migrate_finish() calls did not return 0.
 */
unsigned cfx_finish_pending(struct cfx_owner *o, bool commit);

/*
 * Every live handle's block is where mm/ says (GUEST head of its order,
 * owner o->id) and holds its pattern. Return: NULL or what is wrong.
 */
const char *cfx_verify(struct cfx_owner *o);

#endif
