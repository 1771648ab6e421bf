/* SPDX-License-Identifier: MIT */
/*
 * abi/pvmem_ring.h - the guest's half of a pvmem page ring (ABI 1.3):
 * taking a frame from the supply and putting one into the returns. It is
 * here, not in guest/, so that the host-side unit tests and benchmarks
 * drive the rings with exactly the code the guest runs.
 */
#ifndef ABI_PVMEM_RING_H
#define ABI_PVMEM_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/pvmem.h"

/*
 * A frame from the supply, or 0 when it is empty. The exchange settles the
 * race with the host taking a frame back: whoever swaps the slot to 0 owns
 * it, and a 0 found in a slot is skipped.
 */
static inline uint64_t pvmem_ring_take(struct pvmem_ring *r)
{
	uint32_t c = r->sup_cons;
	uint32_t p = __atomic_load_n(&r->sup_prod, __ATOMIC_ACQUIRE);

	/* More than a ring ahead is not a state an honest host makes. */
	if (p - c > PVMEM_RING_SUP_SLOTS)
		return 0;
	while (c != p) {
		uint64_t pfn = __atomic_exchange_n(
			&r->sup[c & (PVMEM_RING_SUP_SLOTS - 1)], 0,
			__ATOMIC_ACQ_REL);

		c++;
		if (pfn) {
			__atomic_store_n(&r->sup_cons, c, __ATOMIC_RELEASE);
			return pfn;
		}
	}
	__atomic_store_n(&r->sup_cons, c, __ATOMIC_RELEASE);
	return 0;
}

/* An order-0 frame into the returns; false when they are full. */
static inline bool pvmem_ring_put(struct pvmem_ring *r, uint64_t pfn)
{
	uint32_t p = r->ret_prod;

	if (p - __atomic_load_n(&r->ret_cons, __ATOMIC_ACQUIRE) >=
	    PVMEM_RING_RET_SLOTS)
		return false;
	r->ret[p & (PVMEM_RING_RET_SLOTS - 1)] = pfn;
	__atomic_store_n(&r->ret_prod, p + 1, __ATOMIC_RELEASE);
	return true;
}

#endif
