// SPDX-License-Identifier: MIT
/*
 * mm/mm_stats.c - statistics in Linux's text formats (/proc/buddyinfo,
 * /proc/pagetypeinfo, /proc/zoneinfo, debugfs extfrag/) and the
 * fragmentation indices of mm/vmstat.c.
 */
#include "fmt.h"
#include "mm_internal.h"

static const char *const mt_names[MIGRATE_TYPES] = {
	[MIGRATE_UNMOVABLE] = "Unmovable",     [MIGRATE_MOVABLE] = "Movable",
	[MIGRATE_RECLAIMABLE] = "Reclaimable", [MIGRATE_CMA] = "CMA",
	[MIGRATE_ISOLATE] = "Isolate",
};

static const char *const state_names[FRAME_NR_STATES] = {
	[FRAME_FREE] = "free",	       [FRAME_GUEST] = "guest",
	[FRAME_DMA] = "dma",	       [FRAME_BALLOON] = "balloon",
	[FRAME_RESERVED] = "reserved",
};

/* Caller holds the zone's lock. */
static void __zone_info(const struct mm *mm, enum zone_type zt,
			struct mm_zone_info *out)
{
	const struct zone *zone = &mm->zones[zt];

	mm_memset(out, 0, sizeof(*out));
	out->name = zone->name;
	out->populated = zone->populated;
	out->start_pfn = zone->start_pfn;
	out->end_pfn = zone->end_pfn;
	out->spanned = zone->spanned;
	out->present = zone->present;
	out->managed = zone->managed;
	out->free = zone->free_pages;
	out->min = zone->wmark_min;
	out->low = zone->wmark_low;
	out->high = zone->wmark_high;
	for (int z = 0; z < MM_NR_ZONES; z++)
		out->lowmem_reserve[z] = zone->lowmem_reserve[z];
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		out->nr_free[o] = free_area_nr_free(&zone->area[o]);
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			out->nr_free_mt[mt][o] = zone->area[o].nr_free_mt[mt];
	}
	for (uint64_t pb = zone->start_pfn >> PAGEBLOCK_ORDER;
	     zone->populated && pb <= (zone->end_pfn - 1) >> PAGEBLOCK_ORDER;
	     pb++) {
		uint64_t pfn = MM_MAX(pb << PAGEBLOCK_ORDER, zone->start_pfn);
		const struct mm_rng *r;

		/* Count each pageblock once, by its first present frame. */
		for (; pfn < (pb + 1) << PAGEBLOCK_ORDER; pfn++) {
			r = mm_rng_of_pfn(mm, pfn);
			if (r) {
				out->pageblocks_mt[*mm_pb_slot(mm, r, pfn)]++;
				break;
			}
			if (pfn >= zone->end_pfn)
				break;
		}
	}
}

int mm_zone_info(struct mm *mm, enum zone_type zone, struct mm_zone_info *out)
{
	if ((unsigned)zone >= MM_NR_ZONES || !out)
		return -EINVAL;
	mm_lock(&mm->zones[zone].lock);
	__zone_info(mm, zone, out);
	mm_unlock(&mm->zones[zone].lock);
	return 0;
}

void mm_get_stats(struct mm *mm, struct mm_stats *out)
{
	mm_memset(out, 0, sizeof(*out));
	mm_lock_all(mm);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		const struct zone *zone = &mm->zones[z];

		int64_t v[FRAME_NR_STATES];

		for (int s = 0; s < FRAME_NR_STATES; s++)
			v[s] = zone->nr_state[s];
		for (unsigned c = 0; c < MM_NR_CPUS; c++)
			pcp_add_states(&mm->pcp[c][z], v);
		for (int s = 0; s < FRAME_NR_STATES; s++)
			out->frames[s] += (uint64_t)v[s];
		for (unsigned c = 0; c < MM_NR_CPUS; c++)
			out->pcp_frames += mm->pcp[c][z].count;
		out->discarded += zone->discarded;
		out->guest_discarded += __atomic_load_n(&zone->guest_discarded,
							__ATOMIC_RELAXED);
		out->fallback_steal += zone->fallback_steal;
	}
	mm_unlock_all(mm);
	for (unsigned c = 0; c < MM_NR_CPUS; c++) {
		const struct mm_cpu_stats *st = &mm->cpu_stats[c];

		out->alloc_ok += atomic_load_explicit(&st->alloc_ok,
						      memory_order_relaxed);
		out->alloc_fail += atomic_load_explicit(&st->alloc_fail,
							memory_order_relaxed);
		out->free_ok += atomic_load_explicit(&st->free_ok,
						     memory_order_relaxed);
	}
	out->bad_free =
		atomic_load_explicit(&mm->bad_free, memory_order_relaxed);
	out->total = mm->nr_frames;
	compaction_get_stats(mm, out);
}

/* Fragmentation (mm/vmstat.c) ------------------------------------------- */

struct contig_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};

static void contig_info(const struct mm_zone_info *zi, unsigned order,
			struct contig_info *ci)
{
	ci->free_pages = ci->free_blocks_total = ci->free_blocks_suitable = 0;
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t blocks = zi->nr_free[o];

		ci->free_blocks_total += blocks;
		ci->free_pages += blocks << o;
		if (o >= order)
			ci->free_blocks_suitable += blocks << (o - order);
	}
}

/* Linux's unusable_free_index(). */
static int unusable_index(const struct mm_zone_info *zi, unsigned order)
{
	struct contig_info ci;

	contig_info(zi, order, &ci);
	if (ci.free_pages == 0)
		return 1000;
	return (int)((ci.free_pages - (ci.free_blocks_suitable << order)) *
		     1000 / ci.free_pages);
}

/* Linux's __fragmentation_index(). */
static int extfrag_index(const struct mm_zone_info *zi, unsigned order)
{
	struct contig_info ci;
	uint64_t requested = 1ull << order;

	contig_info(zi, order, &ci);
	if (!ci.free_blocks_total)
		return 0;
	if (ci.free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + ci.free_pages * 1000 / requested) /
			    ci.free_blocks_total);
}

int mm_unusable_index(struct mm *mm, enum zone_type zone, unsigned order)
{
	struct mm_zone_info zi;

	if (order >= NR_PAGE_ORDERS || mm_zone_info(mm, zone, &zi))
		return -EINVAL;
	return unusable_index(&zi, order);
}

int mm_extfrag_index(struct mm *mm, enum zone_type zone, unsigned order)
{
	struct mm_zone_info zi;

	if (order >= NR_PAGE_ORDERS || mm_zone_info(mm, zone, &zi))
		return -EINVAL;
	return extfrag_index(&zi, order);
}

/* Text formats ---------------------------------------------------------- */

static int buf_result(const struct mm_buf *b)
{
	return (int)b->len;
}

/* The first populated zone from *@z on, in *@zi; false past the last. */
static bool next_populated_zone(struct mm *mm, int *z, struct mm_zone_info *zi)
{
	for (; *z < MM_NR_ZONES; (*z)++) {
		mm_zone_info(mm, (enum zone_type) * z, zi);
		if (zi->populated)
			return true;
	}
	return false;
}

#define for_each_populated_zone(mm, z, zi)                                     \
	for (int z = 0; next_populated_zone(mm, &z, zi); z++)

/* The rest of a table row: @n values, each right-aligned in @width. */
static void format_row(struct mm_buf *b, const uint64_t *v, unsigned n,
		       int width)
{
	for (unsigned i = 0; i < n; i++)
		mm_buf_printf(b, "%*llu ", width, (unsigned long long)v[i]);
	mm_buf_printf(b, "\n");
}

int mm_format_buddyinfo(struct mm *mm, char *buf, size_t size)
{
	struct mm_zone_info zi;
	struct mm_buf b;

	mm_buf_init(&b, buf, size);
	for_each_populated_zone (mm, z, &zi) {
		mm_buf_printf(&b, "Node 0, zone %8s ", zi.name);
		format_row(&b, zi.nr_free, NR_PAGE_ORDERS, 6);
	}
	return buf_result(&b);
}

int mm_format_pagetypeinfo(struct mm *mm, char *buf, size_t size)
{
	struct mm_zone_info zi;
	struct mm_buf b;

	mm_buf_init(&b, buf, size);
	mm_buf_printf(&b, "Page block order: %d\n", PAGEBLOCK_ORDER);
	mm_buf_printf(&b, "Pages per block:  %u\n\n", PAGEBLOCK_NR_PAGES);
	mm_buf_printf(&b, "%-43s ",
		      "Free pages count per migrate type at order");
	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		mm_buf_printf(&b, "%6u ", o);
	mm_buf_printf(&b, "\n");
	for_each_populated_zone (mm, z, &zi) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			mm_buf_printf(&b, "Node %4d, zone %8s, type %12s ", 0,
				      zi.name, mt_names[mt]);
			format_row(&b, zi.nr_free_mt[mt], NR_PAGE_ORDERS, 6);
		}
	}
	mm_buf_printf(&b, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		mm_buf_printf(&b, "%12s ", mt_names[mt]);
	mm_buf_printf(&b, "\n");
	for_each_populated_zone (mm, z, &zi) {
		mm_buf_printf(&b, "Node 0, zone %8s ", zi.name);
		format_row(&b, zi.pageblocks_mt, MIGRATE_TYPES, 12);
	}
	return buf_result(&b);
}

static void format_pagesets(struct mm *mm, struct mm_buf *b, int z)
{
	mm_buf_printf(b, "\n  pagesets");
	for (unsigned c = 0; c < MM_NR_CPUS; c++) {
		struct pcp *pcp = &mm->pcp[c][z];
		uint32_t count;

		mm_lock(&pcp->lock);
		count = pcp->count;
		mm_unlock(&pcp->lock);
		/* Only CPU slots that hold frames: 64 idle slots are noise. */
		if (!count)
			continue;
		mm_buf_printf(b,
			      "\n    cpu: %u\n              count: %u"
			      "\n              high:  %u"
			      "\n              batch: %u",
			      c, count, mm->pcp_high, mm->pcp_batch);
	}
}

/* Linux's cma (frames in CMA pageblocks) and nr_free_cma lines. */
static void format_zone_cma(struct mm_buf *b, const struct mm_zone_info *zi)
{
	uint64_t free_cma = 0;

	for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
		free_cma += zi->nr_free_mt[MIGRATE_CMA][o] << o;
	mm_buf_printf(b, "\n        cma      %llu",
		      (unsigned long long)zi->pageblocks_mt[MIGRATE_CMA] *
			      PAGEBLOCK_NR_PAGES);
	mm_buf_printf(b, "\n      nr_free_cma  %llu",
		      (unsigned long long)free_cma);
}

int mm_format_zoneinfo(struct mm *mm, char *buf, size_t size)
{
	struct mm_zone_info zi;
	struct mm_buf b;

	mm_buf_init(&b, buf, size);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		mm_zone_info(mm, (enum zone_type)z, &zi);
		mm_buf_printf(&b, "Node 0, zone %8s", zi.name);
		mm_buf_printf(
			&b,
			"\n  pages free     %llu"
			"\n        min      %llu"
			"\n        low      %llu"
			"\n        high     %llu"
			"\n        spanned  %llu"
			"\n        present  %llu"
			"\n        managed  %llu",
			(unsigned long long)zi.free, (unsigned long long)zi.min,
			(unsigned long long)zi.low, (unsigned long long)zi.high,
			(unsigned long long)zi.spanned,
			(unsigned long long)zi.present,
			(unsigned long long)zi.managed);
		mm_buf_printf(&b, "\n        protection: (%llu",
			      (unsigned long long)zi.lowmem_reserve[0]);
		for (int j = 1; j < MM_NR_ZONES; j++)
			mm_buf_printf(&b, ", %llu",
				      (unsigned long long)zi.lowmem_reserve[j]);
		mm_buf_printf(&b, ")");
		format_zone_cma(&b, &zi);
		if (zi.populated)
			format_pagesets(mm, &b, z);
		mm_buf_printf(&b, "\n  start_pfn:           %llu\n",
			      (unsigned long long)zi.start_pfn);
	}
	return buf_result(&b);
}

static void format_index(struct mm_buf *b, int v)
{
	if (v < 0)
		mm_buf_printf(b, "-%d.%03d ", -v / 1000, -v % 1000);
	else
		mm_buf_printf(b, "%d.%03d ", v / 1000, v % 1000);
}

int mm_format_fraginfo(struct mm *mm, char *buf, size_t size)
{
	struct mm_zone_info zi;
	struct mm_buf b;

	mm_buf_init(&b, buf, size);
	for (int pass = 0; pass < 2; pass++) {
		mm_buf_printf(&b, "%s:\n",
			      pass ? "extfrag_index" : "unusable_index");
		for (int z = 0; z < MM_NR_ZONES; z++) {
			mm_zone_info(mm, (enum zone_type)z, &zi);
			if (!zi.populated)
				continue;
			mm_buf_printf(&b, "Node 0, zone %8s ", zi.name);
			for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
				format_index(&b, pass ? extfrag_index(&zi, o)
						      : unusable_index(&zi, o));
			mm_buf_printf(&b, "\n");
		}
	}
	return buf_result(&b);
}

int mm_format_frames(struct mm *mm, char *buf, size_t size)
{
	struct mm_stats st;
	struct mm_buf b;

	mm_get_stats(mm, &st);
	mm_buf_init(&b, buf, size);
	for (int s = 0; s < FRAME_NR_STATES; s++)
		mm_buf_printf(&b, "%-10s %llu\n", state_names[s],
			      (unsigned long long)st.frames[s]);
	mm_buf_printf(&b, "%-10s %llu\n", "total",
		      (unsigned long long)st.total);
	mm_buf_printf(&b, "%-10s %llu\n", "discarded",
		      (unsigned long long)st.discarded);
	mm_buf_printf(&b, "%-10s %llu\n", "pcp",
		      (unsigned long long)st.pcp_frames);
	return buf_result(&b);
}
