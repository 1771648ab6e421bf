// SPDX-License-Identifier: MIT
/*
 * mm/mm_init.c - building an allocator: the RAM ranges and the metadata
 * layout (struct mm, frame database, pageblock types), zone spans and zone
 * lists, watermarks and lowmem_reserve (computed the way Linux's
 * page_alloc.c and mm_init.c do), and the first free of every frame.
 */
#include "mm_internal.h"

static const char *const zone_names[MM_NR_ZONES] = {
	[ZONE_DMA] = "DMA",
	[ZONE_DMA32] = "DMA32",
	[ZONE_NORMAL] = "Normal",
	[ZONE_MOVABLE] = "Movable",
};

/*
 * Linux's sysctl_lowmem_reserve_ratio: an allocation that could have used a
 * higher zone may take from zone i only while zone i keeps
 * (managed pages of the zones above it up to the request's zone) / ratio[i]
 * free. Protects DMA from being exhausted by requests that did not need it.
 */
static const unsigned lowmem_reserve_ratio[MM_NR_ZONES] = {
	[ZONE_DMA] = 256,
	[ZONE_DMA32] = 256,
	[ZONE_NORMAL] = 32,
	[ZONE_MOVABLE] = 0,
};

static uint64_t present_in(const struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		uint64_t s = MM_MAX(start, mm->ranges[i].start_pfn);
		uint64_t e = MM_MIN(end, mm->ranges[i].end_pfn);

		if (s < e)
			n += e - s;
	}
	return n;
}

/* The first and last present frame in [start, end), if any. */
static bool present_bounds(const struct mm *mm, uint64_t start, uint64_t end,
			   uint64_t *first, uint64_t *last_excl)
{
	bool any = false;

	for (unsigned i = 0; i < mm->nr_ranges; i++) {
		uint64_t s = MM_MAX(start, mm->ranges[i].start_pfn);
		uint64_t e = MM_MIN(end, mm->ranges[i].end_pfn);

		if (s >= e)
			continue;
		if (!any)
			*first = s;
		*last_excl = e;
		any = true;
	}
	return any;
}

/* The zone lists of requests without an address limit, highest first. */
static void zone_setup_zonelists(struct mm *mm)
{
	static const enum zone_type order_of_zones[MM_NR_ZONES] = {
		ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32, ZONE_DMA};

	for (int movable = 0; movable < 2; movable++) {
		mm->nr_zonelist[movable] = 0;
		for (int i = 0; i < MM_NR_ZONES; i++) {
			enum zone_type zt = order_of_zones[i];

			if (!mm->zones[zt].populated ||
			    (zt == ZONE_MOVABLE && !movable))
				continue;
			mm->zonelist[movable][mm->nr_zonelist[movable]++] = zt;
		}
	}
}

/*
 * Zone spans: DMA [0, 16 MiB), DMA32 [16 MiB, 4 GiB), NORMAL [4 GiB, ...),
 * each cut at movable_start_pfn, above which everything is ZONE_MOVABLE. A
 * span is trimmed to the present frames it holds (as Linux's
 * zone_start_pfn/spanned_pages are).
 */
static void zone_setup_spans(struct mm *mm)
{
	const uint64_t bound[MM_NR_ZONES][2] = {
		[ZONE_DMA] = {0, ZONE_DMA_END_PFN},
		[ZONE_DMA32] = {ZONE_DMA_END_PFN, ZONE_DMA32_END_PFN},
		[ZONE_NORMAL] = {ZONE_DMA32_END_PFN, UINT64_MAX},
		[ZONE_MOVABLE] = {mm->movable_start_pfn, UINT64_MAX},
	};

	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];
		uint64_t start = bound[z][0], end = bound[z][1];

		if (z != ZONE_MOVABLE)
			end = MM_MIN(end, mm->movable_start_pfn);
		mm_lock_init(&zone->lock);
		zone->name = zone_names[z];
		for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
			for (int mt = 0; mt < MIGRATE_TYPES; mt++)
				zone->area[o].head[mt] = MM_NO_LINK;
		if (start >= end ||
		    !present_bounds(mm, start, end, &zone->start_pfn,
				    &zone->end_pfn)) {
			zone->populated = false;
			zone->start_pfn = zone->end_pfn = 0;
			continue;
		}
		zone->populated = true;
		zone->spanned = zone->end_pfn - zone->start_pfn;
		zone->present = present_in(mm, zone->start_pfn, zone->end_pfn);
		zone->managed = zone->present;
	}
	zone_setup_zonelists(mm);
}

static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/*
 * Linux's init_per_zone_wmark_min() and __setup_per_zone_wmarks():
 * min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 262144], is
 * split across the zones in proportion to their managed pages; low and high
 * are min * 5/4 and min * 3/2. x86-64 has no highmem, so every zone counts.
 * Caller holds every zone lock.
 */
static void __zone_setup_wmarks(struct mm *mm)
{
	uint64_t managed_total = 0, min_kbytes, pages_min;

	for (int z = 0; z < MM_NR_ZONES; z++)
		managed_total += mm->zones[z].managed;
	min_kbytes = int_sqrt(managed_total * (PAGE_SIZE >> 10) * 16);
	min_kbytes = MM_MAX(min_kbytes, 128);
	min_kbytes = MM_MIN(min_kbytes, 262144);
	pages_min = min_kbytes >> (PAGE_SHIFT - 10);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct zone *zone = &mm->zones[z];
		uint64_t min = 0;

		if (managed_total)
			min = pages_min * zone->managed / managed_total;
		zone->wmark_min = min;
		zone->wmark_low = min * 5 / 4;
		zone->wmark_high = min * 3 / 2;
	}
}

/* Linux's setup_per_zone_lowmem_reserve(). Caller holds every zone lock. */
static void __zone_setup_lowmem_reserve(struct mm *mm)
{
	for (int i = 0; i < MM_NR_ZONES; i++) {
		struct zone *zone = &mm->zones[i];
		unsigned ratio = lowmem_reserve_ratio[i];
		uint64_t above = 0;

		for (int j = 0; j < MM_NR_ZONES; j++)
			zone->lowmem_reserve[j] = 0;
		for (int j = i + 1; j < MM_NR_ZONES; j++) {
			above += mm->zones[j].managed;
			if (ratio && zone->populated)
				zone->lowmem_reserve[j] = above / ratio;
		}
	}
}

/* At init, and again whenever managed pages change (mm_reserve_range()). */
void zone_setup_watermarks(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++)
		mm_lock(&mm->zones[z].lock);
	__zone_setup_wmarks(mm);
	__zone_setup_lowmem_reserve(mm);
	for (int z = MM_NR_ZONES; z-- > 0;)
		mm_unlock(&mm->zones[z].lock);
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
	/* Per pageblock: the migratetype, then compaction's skip hint. */
	return align_up(sizeof(struct mm), MM_CACHELINE) +
	       align_up(frames * sizeof(struct page), MM_CACHELINE) + 2 * pbs;
}

/* The pfn above which the top @pages present frames of @r[0..@n) lie,
 * pageblock-aligned upwards (so no pageblock straddles ZONE_MOVABLE's
 * start). */
static uint64_t movable_start(const struct mm_rng *r, unsigned n,
			      uint64_t pages)
{
	for (unsigned i = n; i-- > 0;) {
		uint64_t len = r[i].end_pfn - r[i].start_pfn;

		if (pages <= len)
			return pageblock_round_up(r[i].end_pfn - pages);
		pages -= len;
	}
	return 0;
}

uint64_t mm_movable_start_pfn(const struct mm_config *cfg)
{
	struct mm_rng r[MM_MAX_RANGES];
	uint64_t frames, pbs;
	unsigned n;

	if (!cfg || !cfg->movable_pages ||
	    ranges_coalesce(cfg, r, &n, &frames, &pbs) ||
	    cfg->movable_pages >= frames)
		return UINT64_MAX;
	return movable_start(r, n, cfg->movable_pages);
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
			__free_range(mm, zone, pfn, end, 0);
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
	mm->compaction.pb_skip = mm->pb_mt + pbs;
	if (cfg->ops)
		mm->ops = *cfg->ops;
	mm->opaque = cfg->opaque;
	mm->movable_start_pfn =
		cfg->movable_pages ? movable_start(r, n, cfg->movable_pages)
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
	compaction_init(mm);
	*out = mm;
	return 0;
}
