/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem_migrate.h - the host side of cooperative migration (pvmem
 * ABI 1.1, docs/hosted-memory.md "Migration"): the guest's request ring,
 * the table of requests in flight with their deadlines, the two movable
 * owners the device registers with mm/ (guest blocks, ballooned frames),
 * and the answer / cancel / timeout paths. Whatever the guest does, every
 * request ends exactly once: committed (the guest returned src and holds
 * dst), or cancelled (dst freed, src put back), and nothing is lost.
 *
 * Part of the pvmem device: devices/pvmem.c creates it and calls the hooks
 * below from its ops. Thread-safe: vCPUs, the timer thread and host
 * compaction call it concurrently.
 */
#ifndef DEVICES_PVMEM_MIGRATE_H
#define DEVICES_PVMEM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/pvmem.h"
#include "mm/mm.h"
#include "vmm/guest_mem.h"

#define PVMEM_MIG_DEFAULT_TIMEOUT_MS 200

struct pvmem_migrate_config {
	/* A request not answered after this is cancelled; 0: the default. */
	unsigned timeout_ms;
	/* Clock in ns (tests inject one); NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock_ns)(void *opaque);
	void *clock_opaque;
	/* No timer thread: timeouts run only at doorbells (tests). */
	bool no_timer;
	/*
	 * Wake the guest (an interrupt) when requests have waited half their
	 * timeout; NULL: the guest polls and reads mig_pending.
	 */
	void (*notify)(void *opaque);
	void *notify_opaque;
};

struct pvmem_migrate_stats {
	uint64_t posted;	 /* requests written into the ring */
	uint64_t committed;	 /* answered 0 and moved */
	uint64_t refused;	 /* answered < 0 */
	uint64_t commit_failed;	 /* answered 0, but mm/ found the pair
				  * changed and cancelled it */
	uint64_t timed_out;	 /* cancelled at their deadline */
	uint64_t cancelled_free; /* cancelled: the guest freed src first */
	uint64_t bad_answers;	 /* answers with an error status */
	uint64_t ring_full;	 /* not posted: ring or table full */
	uint64_t balloon_paused; /* balloon frames moved while paused */
	uint64_t adopted;	 /* blocks named movable (ALLOC, balloon) */
	uint64_t in_flight;	 /* requests pending now */
	uint64_t scanned;	 /* frame numbers COMPACT and balloon
				  * adoption looked at (only RAM's) */
};

struct pvmem;
struct pvmem_migrate;

/**
 * pvmem_migrate_create() - the migration state of device @p over @mm.
 * Registers the guest and balloon owners with @mm. @cfg may be NULL.
 * Return: 0 and *@out, -ENOMEM, or mm's error (-ENOSPC: no owner slot).
 */
int pvmem_migrate_create(struct pvmem_migrate **out, struct pvmem *p,
			 struct mm *mm, const struct guest_mem *mem,
			 const struct pvmem_migrate_config *cfg);

/*
 * Stop the timer and cancel every request in flight (targets freed,
 * sources put back). The ring page stays FRAME_DMA (the VM is going away).
 * NULL is a no-op.
 */
void pvmem_migrate_destroy(struct pvmem_migrate *m);

/**
 * pvmem_migrate_setup() - MIGRATE_SETUP: allocate the ring page (once) and
 * charge it to the page limit.
 * Return: 0 and *@gpa, *@slots; -EDQUOT, -ENOMEM.
 */
int pvmem_migrate_setup(struct pvmem_migrate *m, uint64_t *gpa,
			uint32_t *slots);

/**
 * pvmem_migrate_answer() - MIGRATE_ANSWER over @n entries the device has
 * copied into host memory; each gets its status. Every entry is processed.
 * Return: the number with status 0 (done as asked).
 */
unsigned pvmem_migrate_answer(struct pvmem_migrate *m,
			      struct pvmem_mig_ans *ents, unsigned n);

/**
 * pvmem_migrate_compact_range() - COMPACT: move every movable block with
 * its head in [start_pfn, end_pfn) to free frames outside the range.
 * Guest blocks (and balloon frames of a running guest) become requests;
 * balloon frames of a paused guest move at once.
 * Return: 0, *@posted (requests posted or moves done), *@busy (movable
 * blocks that could not be isolated or had no target), or -EINVAL.
 */
int pvmem_migrate_compact_range(struct pvmem_migrate *m, uint64_t start_pfn,
				uint64_t end_pfn, unsigned *posted,
				unsigned *busy);

/* Ballooned frames in [start_pfn, end_pfn) get the balloon owner. */
uint64_t pvmem_migrate_adopt_balloon(struct pvmem_migrate *m,
				     uint64_t start_pfn, uint64_t end_pfn);

/* Has the guest set up its ring? */
bool pvmem_migrate_ready(struct pvmem_migrate *m);

/*
 * ALLOC with __GFP_MOVABLE from a guest with a ring: name the guest owner
 * on each of the @n granted blocks of @order.
 */
void pvmem_migrate_adopt(struct pvmem_migrate *m, const uint64_t *pfns,
			 unsigned n, unsigned order);

/*
 * The guest frees (or deflates) @pfn while a request to move it is in
 * flight: cancel the request first. Return: whether one was cancelled.
 */
bool pvmem_migrate_cancel_src(struct pvmem_migrate *m, uint64_t pfn);

/* Requests in flight (the block header's mig_pending). */
uint32_t pvmem_migrate_pending(struct pvmem_migrate *m);

/* Cancel the requests whose deadline has passed. Return: how many. */
unsigned pvmem_migrate_expire(struct pvmem_migrate *m);

/*
 * The VM is paused (true) or runs again: while paused guest blocks refuse
 * isolation and ballooned frames move without the guest, logged. Call it
 * with true once every vCPU is parked, and with false before any runs
 * again: it waits for a move in progress.
 */
void pvmem_migrate_set_paused(struct pvmem_migrate *m, bool paused);

void pvmem_migrate_get_stats(struct pvmem_migrate *m,
			     struct pvmem_migrate_stats *out);

struct stat_table;

/*
 * The counters --stats prints (as migrate_<name>) and the API's
 * host.pvmem.migrate lists (vmm/stat_fields.h), in their order.
 */
extern const struct stat_table pvmem_migrate_stat_table;

/* mm/ owner ids (tests): the guest's blocks, ballooned frames. */
int pvmem_migrate_guest_owner(const struct pvmem_migrate *m);
int pvmem_migrate_balloon_owner(const struct pvmem_migrate *m);

#endif /* DEVICES_PVMEM_MIGRATE_H */
