/* SPDX-License-Identifier: MIT */
/* tests/unit/buddy_fx.h - fixtures shared by the page allocator tests. */
#ifndef TESTS_UNIT_BUDDY_FX_H
#define TESTS_UNIT_BUDDY_FX_H

#include <stdint.h>

#include "mm/mm.h"

#define MIB_PFN(x) ((uint64_t)(x) << (20 - PAGE_SHIFT))

struct buddy_fx {
	struct mm *mm;
	void *meta;
};

/* Build an instance over @ranges; @cfg may be NULL (defaults). Asserts. */
struct mm *buddy_fx_new(struct buddy_fx *fx, const struct mm_range *ranges,
			unsigned nr, const struct mm_config *cfg);
void buddy_fx_free(struct buddy_fx *fx);

/* ck_assert that mm_check() passes, printing its reason if not. */
void buddy_fx_assert_clean(struct mm *mm);

#endif
