/* SPDX-License-Identifier: MIT */
/*
 * devices/pvmem_ring.h - the host side of the pvmem page rings (ABI 1.3,
 * abi/pvmem.h "Page rings", docs/hosted-memory.md "Page rings"): one ring
 * per vCPU whose supply the host keeps filled with free order-0 frames and
 * whose returns it drains, so that the guest's common allocation and free
 * take no VM exit.
 *
 * Every frame in a supply ring is accounted like a frame on a per-CPU
 * list: it is FRAME_GUEST and charged to tot_pages from the moment the host
 * places it (the guest may take it at any time without telling us), it is
 * marked in a bitmap so that FREE, the return ring and the balloon cannot
 * free it behind the ring's back, the host keeps its own copy of every slot
 * and never reads a pfn out of guest memory, and it can be taken back at
 * any time (an atomic exchange on the slot decides each race with the
 * guest): on a kick with PVMEM_KICK_DRAIN, when an allocation meets the
 * page limit or an empty allocator, before compaction and contiguous DMA,
 * and when the VM stops.
 *
 * Part of the pvmem device (devices/pvmem.c creates it). Thread-safe: the
 * vCPUs' kicks and doorbells, the refill thread and the control API call
 * it concurrently. Lock order: the device's dma_lock, then one ring lock at
 * a time (only pvmem_rings_check() holds them all, in index order).
 */
#ifndef DEVICES_PVMEM_RING_H
#define DEVICES_PVMEM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/pvmem.h"
#include "mm/mm.h"
#include "vmm/guest_mem.h"

struct pvmem;
struct pvmem_rings;
struct stat_table;

/* Autotuning of the supply (as Linux's pcp->high, per ring). */
#define PVMEM_RING_MIN_TARGET 32u /* first refill, and the floor */

struct pvmem_rings_config {
	/*
	 * Run a thread that drains the returns of active rings
	 * (PVMEM_RING_F_POLL_RET: guests then kick for returns only when a
	 * ring is full) and shrinks idle supplies. false: rings move only at
	 * kicks and doorbells (tests; the default of pvmem_create()).
	 */
	bool thread;
	/*
	 * The thread also refills supplies ahead (PVMEM_RING_F_POLL_SUP).
	 * Off in a VM: the low-watermark kick already refills ahead, one exit
	 * per 3/4 of a supply, and asynchronous refills interleave unmovable
	 * allocations with the guest's own at times no one chose, which made
	 * the 64 MiB contiguous-DMA experiment (compact-dma64-hosted) fail
	 * one run in five (docs/hosted-memory.md "Page rings").
	 */
	bool refill_ahead;
	/*
	 * The thread gives the 2 MiB host pages under the next frames of each
	 * supply (a window just ahead of the guest's take index) their
	 * backing (guest_mem_populate()) before the guest takes them, so that
	 * the guest's first write takes no host page fault on its vCPU: the
	 * host zeroes a huge page on another CPU while the guest runs. Changes
	 * no frame's state, charge or contents. Needs thread.
	 */
	bool populate;
	/* Clock in ns for the idle decay (tests); NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock_ns)(void *opaque);
	void *clock_opaque;
};

struct pvmem_ring_stats {
	uint64_t rings;		  /* set up */
	uint64_t supply_frames;	  /* frames in supply rings now (charged) */
	uint64_t supply_target;	  /* sum of the rings' targets now */
	uint64_t returns_waiting; /* entries in return rings not drained */
	uint64_t kicks;		  /* kick exits */
	uint64_t kicks_empty;	  /* kicks that found the supply empty */
	uint64_t supplied;	  /* frames placed in supply rings */
	uint64_t taken;		  /* of them taken by the guest */
	uint64_t reclaimed;	  /* of them taken back (drains) */
	uint64_t returned;	  /* frames accepted from return rings */
	uint64_t recycled;	  /* of them put straight back in a supply */
	uint64_t drains;	  /* take-backs of whole supplies */
	uint64_t grows, shrinks;  /* target doubled / halved */
	uint64_t polls;		  /* refill-thread passes that moved frames */
	uint64_t short_refills;	  /* refills cut by the page limit / memory */
	uint64_t populated;	  /* 2 MiB host pages populated ahead */
	uint64_t populate_failed; /* populates the host refused */
	uint64_t errors;	  /* bad guest input, all kinds */
	uint64_t bad_index;	  /* indices out of range (-ERANGE) */
	uint64_t bad_return;	  /* returned frames refused */
	uint64_t bad_kick;	  /* kicks naming no ring */
	uint64_t lied_cons;	  /* slots passed but not taken */
};

/* pvmem_format_stats() / the API: "ring_" + these. */
extern const struct stat_table pvmem_ring_stat_table;

/**
 * pvmem_rings_create() - the ring state of device @p. No ring exists until
 * the guest's RING_SETUP. @cfg may be NULL (no thread).
 * Return: 0 and *@out, or -ENOMEM.
 */
int pvmem_rings_create(struct pvmem_rings **out, struct pvmem *p, struct mm *mm,
		       const struct guest_mem *mem,
		       const struct pvmem_rings_config *cfg);

/*
 * Stop the thread and take back every frame still in a supply ring
 * (freed, uncharged). Ring pages stay FRAME_DMA. NULL is a no-op.
 */
void pvmem_rings_destroy(struct pvmem_rings *r);

/*
 * The VM has stopped: end the thread (for good) and take every supply
 * back, so that the figures at exit (--stats, --check) are the guest's own
 * and nothing changes under them. Return frames taken back.
 */
uint64_t pvmem_rings_quiesce(struct pvmem_rings *r);

/**
 * pvmem_rings_setup() - RING_SETUP: allocate @count rings (1 ..
 * PVMEM_MAX_RINGS), once. @gpas receives their addresses.
 * Return: 0, -EINVAL, -E2BIG, -EBUSY (already set up), -EDQUOT, -ENOMEM.
 */
int pvmem_rings_setup(struct pvmem_rings *r, unsigned count, uint64_t *gpas);

/**
 * pvmem_rings_kick() - the kick register (@value: ring index, maybe
 * | PVMEM_KICK_DRAIN), on the vCPU that wrote it. Drains the ring's
 * returns, then refills its supply (or takes it all back).
 * Return: 0 or -EINVAL (no such ring: counted in bad_kick).
 */
int pvmem_rings_kick(struct pvmem_rings *r, uint32_t value);

/*
 * Drain every return ring and refill every supply below target, as the
 * thread does. Return frames moved.
 */
uint64_t pvmem_rings_service(struct pvmem_rings *r);

/*
 * Drain on demand (the page limit, compaction, contiguous DMA, the end):
 * free what waits in every return ring and take back every frame the
 * guest has not taken from any supply ring. Targets stay; the next kick or
 * thread pass refills. Return frames freed.
 */
uint64_t pvmem_rings_reclaim(struct pvmem_rings *r);

/*
 * Take every supply back and place nothing new until the matching
 * pvmem_rings_unhold(): while a range of pageblocks is emptied for a large
 * DMA buffer, a refill must not pin free frames inside it. Nests.
 * Return frames taken back.
 */
uint64_t pvmem_rings_hold(struct pvmem_rings *r);
void pvmem_rings_unhold(struct pvmem_rings *r);

/*
 * Whether @pfn sits in a supply ring, not taken by the guest. A frame the
 * guest took moments ago is first found taken (the rings are reaped), so
 * for an honest guest this is false for every frame it holds. FREE and
 * every path that frees or re-states a GUEST frame on the guest's word
 * must refuse a frame for which this is true.
 */
bool pvmem_rings_holds(struct pvmem_rings *r, uint64_t pfn);

/*
 * pvmem_rings_hold_any() - pvmem_rings_holds() for any frame of [@pfn,
 * @pfn + @nr): one byte load per frame while none is marked.
 */
bool pvmem_rings_hold_any(struct pvmem_rings *r, uint64_t pfn, uint64_t nr);

/*
 * Free what waits in every return ring (the guest gave those frames back:
 * they are the host's already, though still GUEST until drained); the
 * supplies stay. Paths that act on the guest's word about a frame it holds
 * (the balloon's inflate) drain first, so a frame the guest returned is
 * not the guest's any more. Return frames freed or recycled.
 */
uint64_t pvmem_rings_drain_returns(struct pvmem_rings *r);

/*
 * The idle decay (the thread calls it): a ring from which nothing was
 * taken for @idle_ns gets its target halved and the excess taken back.
 * Return frames taken back.
 */
uint64_t pvmem_rings_decay(struct pvmem_rings *r, uint64_t idle_ns);

/*
 * Populate ahead (the thread calls it with config populate): the 2 MiB
 * host pages holding each supply's next frames (up to 1024 past the
 * guest's take index) not populated yet, in the order the guest will
 * take them, a bounded number per ring. Return
 * 2 MiB pages populated (0 without config populate, or once the host
 * refused with -EINVAL: a kernel without MADV_POPULATE_WRITE).
 */
uint64_t pvmem_rings_populate(struct pvmem_rings *r);

/**
 * pvmem_rings_check() - the invariants: each supply slot the host filled
 * and the guest has not taken names a distinct FRAME_GUEST order-0 head
 * whose bit is set, the bitmap has no other bit, and the counters agree.
 * Return: 0, or -EUCLEAN with the reason in @why.
 */
int pvmem_rings_check(struct pvmem_rings *r, char *why, size_t why_size);

void pvmem_rings_get_stats(struct pvmem_rings *r, struct pvmem_ring_stats *out);

/* Ring @i's host state for tests: target, frames in its supply. */
int pvmem_rings_ring_info(struct pvmem_rings *r, unsigned i, unsigned *target,
			  unsigned *level);

#endif /* DEVICES_PVMEM_RING_H */
