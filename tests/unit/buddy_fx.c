// SPDX-License-Identifier: MIT
/* tests/unit/buddy_fx.c - fixtures for the page allocator tests. */
#include <stdlib.h>

#include "buddy_fx.h"
#include "unit.h"

struct mm *buddy_fx_new(struct buddy_fx *fx, const struct mm_range *ranges,
			unsigned nr, const struct mm_config *cfg)
{
	struct mm_config c = {0};
	size_t size;

	if (cfg)
		c = *cfg;
	c.ranges = ranges;
	c.nr_ranges = nr;
	size = mm_meta_size(&c);
	ck_assert_uint_gt(size, 0);
	fx->meta = aligned_alloc(64, (size + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(fx->meta);
	ck_assert_int_eq(mm_init(&fx->mm, &c, fx->meta, size), 0);
	buddy_fx_assert_clean(fx->mm);
	return fx->mm;
}

void buddy_fx_free(struct buddy_fx *fx)
{
	free(fx->meta);
	fx->meta = NULL;
	fx->mm = NULL;
}

void buddy_fx_assert_clean(struct mm *mm)
{
	char why[256];
	int ret = mm_check(mm, why, sizeof(why));

	ck_assert_msg(ret == 0, "mm_check: %s", why);
}
