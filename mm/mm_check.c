// SPDX-License-Identifier: MIT
/*
 * mm/mm_check.c - prove the allocator's invariants by walking everything:
 * the frame database, every free list, every per-CPU list and the counters.
 * Slow (O(frames)); for tests and debugging.
 */
#include "fmt.h"
#include "mm_internal.h"

struct check {
	struct mm *mm;
	char *why;
	size_t why_size;
	/* What the frame walk found, per zone. */
	uint64_t heads[MM_NR_ZONES][NR_PAGE_ORDERS][MIGRATE_TYPES];
	uint64_t pcp_frames[MM_NR_ZONES];
	uint64_t free_pages[MM_NR_ZONES];
	uint64_t discarded[MM_NR_ZONES];
	uint64_t guest_discarded[MM_NR_ZONES];
	uint64_t backed[MM_NR_ZONES][NR_PAGE_ORDERS];
	uint64_t states[MM_NR_ZONES][FRAME_NR_STATES];
	uint64_t isolated; /* frames with PG_ISOLATED */
};

static int fail(struct check *c, const char *msg, uint64_t pfn)
{
	mm_snprintf(c->why, c->why_size, "%s (pfn 0x%llx)", msg,
		    (unsigned long long)pfn);
	return -EUCLEAN;
}

static bool pb_types_ok(const struct mm *mm, uint64_t pfn, unsigned order,
			int list_mt)
{
	for (uint64_t q = pfn; q < pfn + (1ull << order);
	     q += PAGEBLOCK_NR_PAGES) {
		int pmt = mm_get_pageblock_migratetype(mm, q);
		bool special = pmt >= MM_PCP_TYPES || list_mt >= MM_PCP_TYPES;

		if (special && pmt != list_mt)
			return false;
	}
	return true;
}

/* A free buddy block at @pfn: its frames, its buddy, its pageblocks. */
static int check_free_block(struct check *c, int z, const struct mm_rng *r,
			    uint64_t pfn)
{
	struct mm *mm = c->mm;
	const struct zone *zone = &mm->zones[z];
	const struct page *p = &mm->frames[mm_rng_idx(r, pfn)];
	unsigned o = p->order;
	uint64_t size = 1ull << o, buddy_pfn = pfn ^ size;

	if (o >= NR_PAGE_ORDERS || (pfn & (size - 1)))
		return fail(c, "free block misaligned or bad order", pfn);
	if (pfn + size > MM_MIN(r->end_pfn, zone->end_pfn))
		return fail(c, "free block leaves its zone or range", pfn);
	if (p->migratetype >= MIGRATE_TYPES)
		return fail(c, "free block with invalid migratetype", pfn);
	if (!pb_types_ok(mm, pfn, o, p->migratetype))
		return fail(c, "free block on a list its pageblocks forbid",
			    pfn);
	for (uint64_t i = 1; i < size; i++) {
		const struct page *t = p + i;

		if (mm_page_state(t) != FRAME_FREE || t->flags)
			return fail(c, "free block overlaps another frame",
				    pfn + i);
	}
	if (o + 1 < NR_PAGE_ORDERS &&
	    buddy_pfn >= MM_MAX(r->start_pfn, zone->start_pfn) &&
	    buddy_pfn + size <= MM_MIN(r->end_pfn, zone->end_pfn)) {
		const struct page *b = &mm->frames[mm_rng_idx(r, buddy_pfn)];
		int mt = mm_get_pageblock_migratetype(mm, pfn);
		int bmt = mm_get_pageblock_migratetype(mm, buddy_pfn);
		bool mergeable = o < PAGEBLOCK_ORDER || mt == bmt ||
				 (mt < MM_PCP_TYPES && bmt < MM_PCP_TYPES);

		if ((b->flags & PG_BUDDY) && mm_page_state(b) == FRAME_FREE &&
		    b->order == o && mergeable)
			return fail(c, "two free buddies left unmerged", pfn);
	}
	c->heads[z][o][p->migratetype]++;
	c->free_pages[z] += size;
	if (p->flags & PG_DISCARDED)
		c->discarded[z] += size;
	else
		c->backed[z][o]++;
	c->states[z][FRAME_FREE] += size;
	return (int)size;
}

static int check_alloc_block(struct check *c, int z, const struct mm_rng *r,
			     uint64_t pfn)
{
	const struct page *p = &c->mm->frames[mm_rng_idx(r, pfn)];
	uint64_t size = 1ull << p->order;

	if (p->order >= NR_PAGE_ORDERS || (pfn & (size - 1)) ||
	    pfn + size > MM_MIN(r->end_pfn, c->mm->zones[z].end_pfn))
		return fail(c, "allocated block misaligned or too long", pfn);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t s = mm_page_state(p + i);
		uint8_t flags =
			p[i].flags & (uint8_t) ~(PG_DISCARDED | PG_ISOLATED);

		if (s == FRAME_FREE || s == FRAME_RESERVED || (i && flags))
			return fail(c, "allocated block has a bad frame",
				    pfn + i);
		/* Isolation (migrate.c) is all the block or none of it. */
		if ((p[i].flags ^ p->flags) & PG_ISOLATED)
			return fail(c, "PG_ISOLATED on part of a block",
				    pfn + i);
		c->isolated += (p[i].flags & PG_ISOLATED) != 0;
		/*
		 * Only a frame the guest holds may lack backing (reported
		 * free in the native model); DMA must be backed, BALLOON
		 * frames are discarded by definition and carry no flag.
		 */
		if (p[i].flags & PG_DISCARDED) {
			if (s != FRAME_GUEST)
				return fail(c,
					    "PG_DISCARDED on a frame "
					    "that is not GUEST",
					    pfn + i);
			c->guest_discarded[z]++;
		}
		c->states[z][s]++;
	}
	if (p->owner == MM_OWNER_TARGET &&
	    (!(p->flags & PG_ISOLATED) || mm_page_state(p) != FRAME_GUEST))
		return fail(c, "migration target not isolated GUEST", pfn);
	return (int)size;
}

/* One frame (or block) of the walk; returns how many frames it covered. */
static int check_frame(struct check *c, int z, const struct mm_rng *r,
		       uint64_t pfn)
{
	const struct page *p = &c->mm->frames[mm_rng_idx(r, pfn)];
	uint8_t s = mm_page_state(p);

	if (s >= FRAME_NR_STATES)
		return fail(c, "invalid frame state", pfn);
	if (p->flags & PG_PCP) {
		if (s != FRAME_FREE || !(p->flags & PG_HEAD) || p->order ||
		    (p->flags & PG_BUDDY))
			return fail(c, "per-CPU frame not FREE order-0", pfn);
		c->pcp_frames[z]++;
		c->states[z][FRAME_FREE]++;
		return 1;
	}
	if ((p->flags & PG_BUDDY) && (s != FRAME_FREE || !(p->flags & PG_HEAD)))
		return fail(c, "PG_BUDDY on a frame that is not a free head",
			    pfn);
	if (p->flags & PG_HEAD) {
		if (s == FRAME_FREE && !(p->flags & PG_BUDDY))
			return fail(c, "free head in no list", pfn);
		return s == FRAME_FREE ? check_free_block(c, z, r, pfn)
				       : check_alloc_block(c, z, r, pfn);
	}
	if (s == FRAME_FREE)
		return fail(c, "free frame in no free block", pfn);
	if (s != FRAME_RESERVED)
		return fail(c, "allocated frame outside any block", pfn);
	if (p->flags & PG_DISCARDED)
		return fail(c, "stray PG_DISCARDED", pfn);
	c->states[z][s]++;
	return 1;
}

static int check_walk(struct check *c)
{
	struct mm *mm = c->mm;

	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		const struct mm_rng *r = &mm->ranges[i];

		for (uint64_t pfn = r->start_pfn; pfn < r->end_pfn;) {
			int z = mm_zone_of_pfn(mm, pfn);
			int n = check_frame(c, z, r, pfn);

			if (n < 0)
				return n;
			pfn += (uint64_t)n;
		}
	}
	return 0;
}

static int check_lists(struct check *c, int z)
{
	struct mm *mm = c->mm;
	const struct zone *zone = &mm->zones[z];

	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *a = &zone->area[o];
		uint64_t total = 0;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			uint32_t prev = MM_NO_LINK, n = 0;

			for (uint32_t i = a->head[mt]; i != MM_NO_LINK;
			     i = mm->frames[i].next) {
				const struct page *p = &mm->frames[i];
				uint64_t pfn = mm_idx_to_pfn(mm, i);

				if (i >= mm->nr_frames || n++ > mm->nr_frames)
					return fail(c, "free list corrupt", 0);
				if (p->prev != prev || p->order != o ||
				    p->migratetype != mt ||
				    (p->flags &
				     (PG_HEAD | PG_PCP | PG_BUDDY)) !=
					    (PG_HEAD | PG_BUDDY) ||
				    mm_page_state(p) != FRAME_FREE ||
				    mm_zone_of_pfn(mm, pfn) != (unsigned)z)
					return fail(c, "bad free list entry",
						    pfn);
				prev = i;
			}
			if (n != a->nr_free_mt[mt] || n != c->heads[z][o][mt])
				return fail(c, "nr_free per type disagrees", o);
			total += n;
		}
		if (total != free_area_nr_free(a))
			return fail(c, "nr_free disagrees with the lists", o);
		if (free_area_nr_backed(a) != c->backed[z][o])
			return fail(c, "nr_discarded disagrees with the lists",
				    o);
	}
	if (zone->free_pages != c->free_pages[z])
		return fail(c, "zone free_pages disagrees", z);
	if (zone->discarded != c->discarded[z])
		return fail(c, "zone discarded count disagrees", z);
	if (zone->guest_discarded != c->guest_discarded[z])
		return fail(c, "zone GUEST discarded count disagrees", z);
	return 0;
}

static int check_pcp(struct check *c, int z)
{
	struct mm *mm = c->mm;
	uint64_t found = 0;

	for (unsigned cpu = 0; cpu < MM_NR_CPUS; cpu++) {
		const struct pcp *pcp = &mm->pcp[cpu][z];
		uint32_t n = 0;

		for (int t = 0; t < MM_PCP_TYPES; t++) {
			for (uint32_t i = pcp->head[t]; i != MM_NO_LINK;
			     i = mm->frames[i].next) {
				const struct page *p = &mm->frames[i];
				uint64_t pfn = mm_idx_to_pfn(mm, i);

				if (i >= mm->nr_frames || n++ > mm->nr_frames ||
				    !(p->flags & PG_PCP) ||
				    mm_page_state(p) != FRAME_FREE ||
				    p->migratetype != t ||
				    mm_zone_of_pfn(mm, pfn) != (unsigned)z)
					return fail(c, "bad per-CPU list entry",
						    pfn);
			}
		}
		if (n != pcp->count)
			return fail(c, "per-CPU count disagrees", cpu);
		found += n;
	}
	if (found != c->pcp_frames[z])
		return fail(c, "PG_PCP frames not on any per-CPU list", z);
	return 0;
}

static int check_counters(struct check *c)
{
	struct mm *mm = c->mm;
	uint64_t total = 0;

	for (int z = 0; z < MM_NR_ZONES; z++) {
		int64_t v[FRAME_NR_STATES];

		for (int s = 0; s < FRAME_NR_STATES; s++)
			v[s] = mm->zones[z].nr_state[s];
		for (unsigned cpu = 0; cpu < MM_NR_CPUS; cpu++)
			pcp_add_states(&mm->pcp[cpu][z], v);
		for (int s = 0; s < FRAME_NR_STATES; s++) {
			if (v[s] != (int64_t)c->states[z][s])
				return fail(c, "per-state counter disagrees",
					    (uint64_t)s);
			total += (uint64_t)v[s];
		}
	}
	if (total != mm->nr_frames)
		return fail(c, "per-state counters do not add up", total);
	for (uint64_t i = 0; i < mm->nr_pageblocks; i++)
		if (mm->pb_mt[i] >= MIGRATE_TYPES)
			return fail(c, "invalid pageblock migratetype", i);
	if ((int64_t)c->isolated !=
	    atomic_load_explicit(&mm->compaction.nr_isolated,
				 memory_order_relaxed))
		return fail(c, "isolated frames disagree with the count",
			    c->isolated);
	return 0;
}

int mm_check(struct mm *mm, char *why, size_t why_size)
{
	struct check c = {.mm = mm, .why = why, .why_size = why_size};
	int ret;

	if (why && why_size)
		why[0] = 0;
	mm_lock_all(mm);
	ret = check_walk(&c);
	for (int z = 0; !ret && z < MM_NR_ZONES; z++) {
		ret = check_lists(&c, z);
		if (!ret)
			ret = check_pcp(&c, z);
	}
	if (!ret)
		ret = check_counters(&c);
	mm_unlock_all(mm);
	return ret;
}
