// SPDX-License-Identifier: MIT
/*
 * mm/zone.c - zone layout (address-width classes), watermarks and
 * lowmem_reserve, computed the way Linux's page_alloc.c does.
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
void zone_setup_spans(struct mm *mm)
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
 */
static void zone_setup_wmarks_locked(struct mm *mm)
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

/* Linux's setup_per_zone_lowmem_reserve(). */
static void zone_setup_lowmem_reserve_locked(struct mm *mm)
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

void zone_setup_watermarks(struct mm *mm)
{
	for (int z = 0; z < MM_NR_ZONES; z++)
		mm_lock(&mm->zones[z].lock);
	zone_setup_wmarks_locked(mm);
	zone_setup_lowmem_reserve_locked(mm);
	for (int z = MM_NR_ZONES; z-- > 0;)
		mm_unlock(&mm->zones[z].lock);
}

/*
 * Linux's __zone_watermark_ok(): after taking 2^order frames the zone must
 * keep more than mark + lowmem_reserve[classzone] free, and for order > 0 a
 * free block of at least that order must exist.
 */
bool zone_watermark_ok(const struct zone *zone, unsigned order, uint64_t mark,
		       enum zone_type classzone)
{
	int64_t free = (int64_t)zone->free_pages - ((1 << order) - 1);

	if (free <= (int64_t)(mark + zone->lowmem_reserve[classzone]))
		return false;
	if (order == 0)
		return true;
	for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *a = &zone->area[o];

		if (a->nr_free - a->nr_free_mt[MIGRATE_ISOLATE] > 0)
			return true;
	}
	return false;
}
