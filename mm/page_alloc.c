// SPDX-License-Identifier: MIT
/*
 * mm/page_alloc.c - the buddy allocator: frame database, free lists per
 * order and migratetype, split and merge, migratetype fallback with
 * pageblock stealing, and the allocation and free entry points.
 *
 * Every free block is a naturally aligned run of 2^order present frames
 * inside one zone and one RAM range. Its first frame (the head) carries
 * PG_HEAD, order and the list's migratetype and is linked into
 * zone->area[order].head[mt]; the other frames are FREE with no flags.
 */
#include "mm_internal.h"

static const int fallbacks[MM_PCP_TYPES][2] = {
	[MIGRATE_UNMOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},
	[MIGRATE_MOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE},
	[MIGRATE_RECLAIMABLE] = {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},
};

/* Free lists ------------------------------------------------------------ */

static void free_list_add(struct mm *mm, struct zone *zone, uint32_t idx,
			  unsigned order, int mt)
{
	struct page *p = &mm->frames[idx];
	struct free_area *a = &zone->area[order];
	uint32_t head = a->head[mt];

	p->next = head;
	p->prev = MM_NO_LINK;
	p->flags |= PG_BUDDY;
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	if (head != MM_NO_LINK)
		mm->frames[head].prev = idx;
	a->head[mt] = idx;
	a->nr_free++;
	a->nr_free_mt[mt]++;
	zone->free_pages += 1ull << order;
	if (p->flags & PG_DISCARDED)
		zone->discarded += 1ull << order;
	else
		a->nr_backed++;
}

void free_list_del(struct mm *mm, struct zone *zone, uint32_t idx)
{
	struct page *p = &mm->frames[idx];
	struct free_area *a = &zone->area[p->order];

	if (p->prev != MM_NO_LINK)
		mm->frames[p->prev].next = p->next;
	else
		a->head[p->migratetype] = p->next;
	if (p->next != MM_NO_LINK)
		mm->frames[p->next].prev = p->prev;
	p->next = p->prev = MM_NO_LINK;
	p->flags &= (uint8_t)~PG_BUDDY;
	a->nr_free--;
	a->nr_free_mt[p->migratetype]--;
	zone->free_pages -= 1ull << p->order;
	if (p->flags & PG_DISCARDED)
		zone->discarded -= 1ull << p->order;
	else
		a->nr_backed--;
}

static bool mt_mergeable(int mt)
{
	return mt < MM_PCP_TYPES;
}

/*
 * Is @p the head of a free block of @order in the buddy lists? PG_BUDDY is
 * set and cleared only under the zone lock (which the caller holds), while
 * the per-CPU paths rewrite the flags of their own frames without it: so a
 * frame between per-CPU list and guest never looks like a buddy, whatever
 * order its flag and state stores become visible in.
 */
static bool page_is_buddy(const struct page *p, unsigned order)
{
	return (__atomic_load_n(&p->flags, __ATOMIC_RELAXED) & PG_BUDDY) &&
	       mm_page_state(p) == FRAME_FREE && p->order == order;
}

/*
 * Freeing a block of 2^order frames at pfn (naturally aligned) and merging
 * it with its buddies.
 *
 * The buddy of the block [pfn, pfn + 2^order) is the other half of the
 * aligned block of twice the size that contains it; its first frame is
 * pfn ^ (1 << order) (flipping the bit that distinguishes the two halves).
 * If that buddy is itself a whole free block of the same order sitting in the
 * buddy lists (PG_HEAD, FREE, not on a per-CPU list, same order), the two
 * halves are free together: take the buddy off its list, and continue with
 * the combined block, whose head is the lower of the two (pfn & buddy_pfn)
 * and whose order is one more. Stop at MAX_PAGE_ORDER, or when the buddy is
 * missing (hole, other RAM range, other zone), allocated, on a per-CPU list,
 * or only partly free (its head has a smaller order). Each step is O(1), so a
 * free costs O(NR_PAGE_ORDERS) and no two free buddies of equal order are ever
 * left side by side: the lists always hold the maximally merged layout.
 *
 * From pageblock order up, the halves lie in different pageblocks; as in
 * Linux, blocks of CMA or ISOLATE pageblocks merge only with blocks of the
 * same type, so such a pageblock's frames never leak into another type's
 * lists. The merged block is discarded only if both halves were (one
 * discarded half would still have backing the guest could read), and goes on
 * the list of its head's pageblock type.
 */
void __buddy_free_block(struct mm *mm, struct zone *zone, uint64_t pfn,
			unsigned order, uint8_t discarded)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
	uint64_t lo = MM_MAX(r->start_pfn, zone->start_pfn);
	uint64_t hi = MM_MIN(r->end_pfn, zone->end_pfn);
	uint8_t mt = *mm_pb_slot(mm, r, pfn);

	while (order < MAX_PAGE_ORDER) {
		uint64_t buddy_pfn = pfn ^ (1ull << order);
		struct page *buddy;

		if (buddy_pfn < lo || buddy_pfn + (1ull << order) > hi)
			break;
		buddy = &mm->frames[mm_rng_idx(r, buddy_pfn)];
		if (!page_is_buddy(buddy, order))
			break;
		if (order >= PAGEBLOCK_ORDER) {
			uint8_t bmt = *mm_pb_slot(mm, r, buddy_pfn);

			if (bmt != mt &&
			    (!mt_mergeable(mt) || !mt_mergeable(bmt)))
				break;
		}
		free_list_del(mm, zone, mm_rng_idx(r, buddy_pfn));
		discarded &= buddy->flags;
		buddy->flags = 0;
		mm->frames[mm_rng_idx(r, pfn)].flags = 0;
		pfn &= buddy_pfn;
		order++;
	}
	mm->frames[mm_rng_idx(r, pfn)].flags =
		PG_HEAD | (discarded & PG_DISCARDED);
	free_list_add(mm, zone, mm_rng_idx(r, pfn), order,
		      *mm_pb_slot(mm, r, pfn));
}

/*
 * Split the free block at @idx (already off its list) from order @high down
 * to @low: the upper halves go back on @mt's lists with the block's
 * discarded flag; the head, of order @low, is the caller's.
 */
static void expand(struct mm *mm, struct zone *zone, uint32_t idx,
		   unsigned high, unsigned low, int mt, uint8_t discarded)
{
	while (high > low) {
		uint32_t half;

		high--;
		half = idx + (1u << high);
		mm->frames[half].flags = PG_HEAD | discarded;
		free_list_add(mm, zone, half, high, mt);
	}
}

/* Take the first block of @order or more from @mt's lists and split it. */
static bool rmqueue_smallest(struct mm *mm, struct zone *zone, unsigned order,
			     int mt, uint32_t *idx)
{
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		uint32_t head = zone->area[o].head[mt];
		uint8_t discarded;

		if (head == MM_NO_LINK)
			continue;
		discarded = mm->frames[head].flags & PG_DISCARDED;
		free_list_del(mm, zone, head);
		mm->frames[head].flags = discarded;
		expand(mm, zone, head, o, order, mt, discarded);
		*idx = head;
		return true;
	}
	return false;
}

/* Linux's can_steal_fallback(): take the whole pageblock for large blocks. */
static bool can_steal_fallback(unsigned order, int start_mt)
{
	return order >= PAGEBLOCK_ORDER / 2 ||
	       start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

static uint64_t pageblock_start(uint64_t pfn)
{
	return pfn & ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
}

/*
 * Move every free buddy block of @pfn's pageblock to @mt's lists. Returns
 * the free frames moved; *@movable counts frames of allocated blocks whose
 * migratetype is MOVABLE (Linux's "alike" pages for a movable steal).
 */
static uint64_t move_freepages_block(struct mm *mm, struct zone *zone,
				     uint64_t pfn, int mt, uint64_t *movable)
{
	uint64_t start = MM_MAX(pageblock_start(pfn), zone->start_pfn);
	uint64_t end = MM_MIN(pageblock_start(pfn) + PAGEBLOCK_NR_PAGES,
			      zone->end_pfn);
	uint64_t moved = 0;

	*movable = 0;
	for (pfn = start; pfn < end;) {
		const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);
		struct page *p;
		uint32_t idx;

		if (!r) {
			pfn++;
			continue;
		}
		idx = mm_rng_idx(r, pfn);
		p = &mm->frames[idx];
		if ((p->flags & (PG_HEAD | PG_PCP)) != PG_HEAD) {
			pfn++;
			continue;
		}
		if (p->flags & PG_BUDDY) {
			free_list_del(mm, zone, idx);
			free_list_add(mm, zone, idx, p->order, mt);
			moved += 1ull << p->order;
		} else if (p->migratetype == MIGRATE_MOVABLE) {
			*movable += 1ull << p->order;
		}
		pfn += 1ull << p->order;
	}
	return moved;
}

static void set_pageblock_mt(struct mm *mm, struct zone *zone, uint64_t pfn,
			     int mt)
{
	uint8_t *slot = mm_pb_slot(mm, mm_rng_of_pfn(mm, pfn), pfn);

	if (*slot != mt)
		zone->fallback_steal++;
	*slot = (uint8_t)mt;
}

/* Linux's steal_suitable_fallback(). */
static void steal_fallback(struct mm *mm, struct zone *zone, uint32_t idx,
			   int start_mt, bool whole_block)
{
	struct page *p = &mm->frames[idx];
	uint64_t pfn = mm_idx_to_pfn(mm, idx);
	unsigned order = p->order;
	uint64_t free, movable, alike;
	int old_mt = *mm_pb_slot(mm, mm_rng_of_pfn(mm, pfn), pfn);

	if (order >= PAGEBLOCK_ORDER) {
		for (uint64_t n = 0; n < (1ull << order);
		     n += PAGEBLOCK_NR_PAGES)
			set_pageblock_mt(mm, zone, pfn + n, start_mt);
		goto single;
	}
	if (!whole_block)
		goto single;
	free = move_freepages_block(mm, zone, pfn, start_mt, &movable);
	if (start_mt == MIGRATE_MOVABLE)
		alike = movable;
	else if (old_mt == MIGRATE_MOVABLE)
		alike = PAGEBLOCK_NR_PAGES - (free + movable);
	else
		alike = 0;
	if (free + alike >= PAGEBLOCK_NR_PAGES / 2)
		set_pageblock_mt(mm, zone, pfn, start_mt);
	return;
single:
	free_list_del(mm, zone, idx);
	free_list_add(mm, zone, idx, order, start_mt);
}

static int find_fallback(const struct zone *zone, unsigned order, int start_mt)
{
	for (int i = 0; i < 2; i++) {
		int fmt = fallbacks[start_mt][i];

		if (zone->area[order].head[fmt] != MM_NO_LINK)
			return fmt;
	}
	return -1;
}

/*
 * Linux's __rmqueue_fallback(): take the largest block of a fallback type
 * (a large block is the one most worth claiming for the new type), except
 * that a movable request which could not steal its pageblock takes the
 * smallest instead, so as not to break up a large block for nothing.
 */
static bool rmqueue_fallback(struct mm *mm, struct zone *zone, unsigned order,
			     int start_mt)
{
	int fmt = -1;
	unsigned o;

	for (o = NR_PAGE_ORDERS; o-- > order;) {
		fmt = find_fallback(zone, o, start_mt);
		if (fmt >= 0)
			break;
	}
	if (fmt < 0)
		return false;
	if (!can_steal_fallback(o, start_mt) && start_mt == MIGRATE_MOVABLE) {
		for (o = order; (fmt = find_fallback(zone, o, start_mt)) < 0;)
			o++;
	}
	steal_fallback(mm, zone, zone->area[o].head[fmt], start_mt,
		       can_steal_fallback(o, start_mt));
	return true;
}

/**
 * __rmqueue() - take a block of @order for migratetype @mt from @zone's
 * lists: its own type, then CMA for movable requests, then a fallback type
 * (stealing). The caller holds zone->lock and prepares the frames.
 */
int __rmqueue(struct mm *mm, struct zone *zone, unsigned order, int mt,
	      uint32_t *idx)
{
	for (;;) {
		if (rmqueue_smallest(mm, zone, order, mt, idx))
			return 0;
		if (mt == MIGRATE_MOVABLE &&
		    rmqueue_smallest(mm, zone, order, MIGRATE_CMA, idx))
			return 0;
		if (mt >= MM_PCP_TYPES ||
		    !rmqueue_fallback(mm, zone, order, mt))
			return -ENOMEM;
	}
}

/*
 * The block must lie below @limit_pfn (a straddling zone and an address-bit
 * limit): search the lists, smallest order first, for a block with a
 * suitable low part. O(free blocks) but only for straddling requests.
 */
int rmqueue_below(struct mm *mm, struct zone *zone, unsigned order, int mt,
		  uint64_t limit_pfn, uint32_t *idx)
{
	int types[4] = {mt, -1, -1, -1};
	int n = 1;

	if (mt < MM_PCP_TYPES) {
		types[n++] = fallbacks[mt][0];
		types[n++] = fallbacks[mt][1];
	}
	if (mt == MIGRATE_MOVABLE)
		types[n++] = MIGRATE_CMA;
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		for (int t = 0; t < n; t++) {
			uint32_t i = zone->area[o].head[types[t]];

			for (; i != MM_NO_LINK; i = mm->frames[i].next) {
				uint64_t pfn = mm_idx_to_pfn(mm, i);
				uint8_t d;

				if (pfn + (1ull << order) > limit_pfn)
					continue;
				d = mm->frames[i].flags & PG_DISCARDED;
				free_list_del(mm, zone, i);
				mm->frames[i].flags = d;
				expand(mm, zone, i, o, order, types[t], d);
				*idx = i;
				return 0;
			}
		}
	}
	return -ENOMEM;
}

/* Make the block at @idx an allocated GUEST block (zone lock or pcp lock). */
void buddy_prep_alloc(struct mm *mm, uint32_t idx, unsigned order, int mt)
{
	struct page *p = &mm->frames[idx];

	p->flags = PG_HEAD;
	p->order = (uint8_t)order;
	p->migratetype = (uint8_t)mt;
	p->owner = 0;
	p->next = p->prev = MM_NO_LINK;
	mm_page_set_state(p, FRAME_GUEST);
	for (uint32_t i = 1; i < (1u << order); i++) {
		p[i].flags = 0;
		p[i].owner = 0;
		mm_page_set_state(&p[i], FRAME_GUEST);
	}
}

/* Initialisation -------------------------------------------------------- */

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Coalesce touching ranges; 0 ranges or bad ones give -EINVAL. */
static int ranges_coalesce(const struct mm_config *cfg, struct mm_rng *out,
			   unsigned *nr_out, uint64_t *frames, uint64_t *pbs)
{
	unsigned n = 0;

	*frames = *pbs = 0;
	if (!cfg || !cfg->ranges || cfg->nr_ranges == 0)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->nr_ranges; i++) {
		const struct mm_range *in = &cfg->ranges[i];

		if (in->start_pfn >= in->end_pfn || in->end_pfn > (1ull << 40))
			return -EINVAL;
		if (n && in->start_pfn < out[n - 1].end_pfn)
			return -EINVAL;
		if (n && in->start_pfn == out[n - 1].end_pfn) {
			out[n - 1].end_pfn = in->end_pfn;
			continue;
		}
		if (n == MM_MAX_RANGES)
			return -EINVAL;
		out[n].start_pfn = in->start_pfn;
		out[n].end_pfn = in->end_pfn;
		n++;
	}
	for (unsigned i = 0; i < n; i++) {
		struct mm_rng *r = &out[i];

		r->base_idx = (uint32_t)*frames;
		r->pb_first = r->start_pfn >> PAGEBLOCK_ORDER;
		r->pb_base = (uint32_t)*pbs;
		*frames += r->end_pfn - r->start_pfn;
		*pbs += ((r->end_pfn - 1) >> PAGEBLOCK_ORDER) - r->pb_first + 1;
		if (*frames >= MM_NO_LINK)
			return -EINVAL;
	}
	*nr_out = n;
	return 0;
}

size_t mm_meta_size(const struct mm_config *cfg)
{
	struct mm_rng r[MM_MAX_RANGES];
	uint64_t frames, pbs;
	unsigned n;

	if (ranges_coalesce(cfg, r, &n, &frames, &pbs))
		return 0;
	return align_up(sizeof(struct mm), MM_CACHELINE) +
	       align_up(frames * sizeof(struct page), MM_CACHELINE) + pbs;
}

/* The pfn above which the top @pages present frames lie, pageblock-aligned
 * upwards (so no pageblock straddles ZONE_MOVABLE's start). */
static uint64_t movable_start(const struct mm *mm, uint64_t pages)
{
	for (unsigned i = mm->nr_ranges; i-- > 0;) {
		const struct mm_rng *r = &mm->ranges[i];
		uint64_t len = r->end_pfn - r->start_pfn;

		if (pages <= len) {
			uint64_t s = r->end_pfn - pages;

			return (s + PAGEBLOCK_NR_PAGES - 1) &
			       ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
		}
		pages -= len;
	}
	return 0;
}

static unsigned pcp_default_batch(const struct mm *mm)
{
	uint64_t managed = 0;
	unsigned batch = 1;

	for (int z = 0; z < MM_NR_ZONES; z++)
		managed = MM_MAX(managed, mm->zones[z].managed);
	/* Linux's zone_batchsize(): ~1/4096 of the zone, at most 63. */
	while (batch * 2 + 1 <= managed / 4096 && batch < 63)
		batch = batch * 2 + 1;
	return MM_MAX(batch, 7u);
}

static void init_free_all(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];

		zone->nr_state[FRAME_FREE] = (int64_t)zone->present;
		for (unsigned i = 0; zone->populated && i < mm->nr_ranges;
		     i++) {
			const struct mm_rng *r = &mm->ranges[i];
			uint64_t pfn = MM_MAX(r->start_pfn, zone->start_pfn);
			uint64_t end = MM_MIN(r->end_pfn, zone->end_pfn);

			/* Greedy aligned pieces; the merge joins the rest. */
			while (pfn < end) {
				unsigned o = 0;

				while (o + 1 < NR_PAGE_ORDERS &&
				       !(pfn & ((2ull << o) - 1)) &&
				       pfn + (2ull << o) <= end)
					o++;
				__buddy_free_block(mm, zone, pfn, o, 0);
				pfn += 1ull << o;
			}
		}
	}
}

int mm_init(struct mm **out, const struct mm_config *cfg, void *meta,
	    size_t meta_size)
{
	struct mm_rng r[MM_MAX_RANGES];
	uint64_t frames, pbs;
	struct mm *mm = meta;
	unsigned n;
	size_t need;

	if (!out || !meta || ((uintptr_t)meta & (MM_CACHELINE - 1)))
		return -EINVAL;
	if (ranges_coalesce(cfg, r, &n, &frames, &pbs))
		return -EINVAL;
	if (cfg->movable_pages >= frames)
		return -EINVAL;
	need = mm_meta_size(cfg);
	if (meta_size < need)
		return -ENOSPC;
	/*
	 * A zeroed struct page is a FREE tail frame with no flags: only the
	 * header must be cleared when the caller's memory is already zero.
	 * Links need no initial value: they are read only through list heads.
	 */
	mm_memset(meta, 0, cfg->meta_zeroed ? sizeof(*mm) : need);
	mm->nr_ranges = n;
	mm_memcpy(mm->ranges, r, sizeof(r));
	mm->nr_frames = frames;
	mm->nr_pageblocks = pbs;
	mm->frames = (struct page *)((char *)meta +
				     align_up(sizeof(*mm), MM_CACHELINE));
	mm->pb_mt = (uint8_t *)mm->frames +
		    align_up(frames * sizeof(struct page), MM_CACHELINE);
	mm_memset(mm->pb_mt, MIGRATE_MOVABLE, pbs);
	if (cfg->ops)
		mm->ops = *cfg->ops;
	mm->opaque = cfg->opaque;
	mm->movable_start_pfn = cfg->movable_pages
					? movable_start(mm, cfg->movable_pages)
					: UINT64_MAX;
	zone_setup_spans(mm);
	zone_setup_watermarks(mm);
	mm->pcp_batch = cfg->pcp_batch ? cfg->pcp_batch : pcp_default_batch(mm);
	mm->pcp_high = cfg->pcp_high ? cfg->pcp_high : mm->pcp_batch * 6;
	mm->pcp_batch = MM_MIN(mm->pcp_batch, mm->pcp_high);
	mm->pcp_disabled = cfg->pcp_disabled;
	for (unsigned c = 0; c < MM_NR_CPUS; c++) {
		for (int z = 0; z < MM_NR_ZONES; z++) {
			struct pcp *pcp = &mm->pcp[c][z];

			mm_lock_init(&pcp->lock);
			for (int t = 0; t < MM_PCP_TYPES; t++)
				pcp->head[t] = MM_NO_LINK;
		}
	}
	init_free_all(mm);
	*out = mm;
	return 0;
}

/* Lookups --------------------------------------------------------------- */

const struct page *mm_pfn_to_page(const struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? &mm->frames[mm_rng_idx(r, pfn)] : NULL;
}

int mm_pfn_zone(const struct mm *mm, uint64_t pfn)
{
	return mm_rng_of_pfn(mm, pfn) ? (int)mm_zone_of_pfn(mm, pfn) : -ERANGE;
}

int mm_get_pageblock_migratetype(const struct mm *mm, uint64_t pfn)
{
	const struct mm_rng *r = mm_rng_of_pfn(mm, pfn);

	return r ? *mm_pb_slot(mm, r, pfn) : -ERANGE;
}

unsigned mm_get_order(uint64_t size)
{
	uint64_t pages = (size >> PAGE_SHIFT) + !!(size & (PAGE_SIZE - 1));
	unsigned order = 0;

	while ((1ull << order) < pages)
		order++;
	return order;
}
