/* SPDX-License-Identifier: MIT */
/*
 * mm/mm.h - the physical memory manager: page frame database, zones, buddy
 * allocator with migratetypes and pageblocks, per-CPU page lists, watermarks,
 * statistics. Freestanding (see port.h); one instance manages one machine's
 * (one VM's) guest-physical frames.
 *
 * Memory for the instance's metadata (struct mm, the frame database, the
 * pageblock table, the per-CPU lists) comes from the caller: mm_meta_size()
 * says how much, mm_init() carves it. Nothing here allocates.
 *
 * All functions are thread-safe unless their comment says otherwise. Errors
 * are negative errno values (mm/errno.h).
 */
#ifndef MM_MM_H
#define MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "gfp.h"
#include "page_order.h"

#define MM_PFN_TO_ADDR(pfn)  ((uint64_t)(pfn) << PAGE_SHIFT)
#define MM_ADDR_TO_PFN(addr) ((uint64_t)(addr) >> PAGE_SHIFT)

/* Zones are address-width classes: a zone holds the frames below its bound. */
enum zone_type {
	ZONE_DMA,     /* [0, 16 MiB)            24 address bits */
	ZONE_DMA32,   /* [16 MiB, 4 GiB)        32 address bits */
	ZONE_NORMAL,  /* [4 GiB, end)                          */
	ZONE_MOVABLE, /* optional: the top movable_pages of RAM */
	MM_NR_ZONES,
};

#define ZONE_DMA_END_PFN   (16ull << (20 - PAGE_SHIFT))
#define ZONE_DMA32_END_PFN (4ull << (30 - PAGE_SHIFT))

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_CMA,
	MIGRATE_ISOLATE,
	MIGRATE_TYPES,
};

/* Frame states (DESIGN.md): every frame is in exactly one. */
enum frame_state {
	FRAME_FREE,	/* in the buddy allocator or on a per-CPU list */
	FRAME_GUEST,	/* held by the guest */
	FRAME_DMA,	/* contiguous, mapped to one device (owner) */
	FRAME_BALLOON,	/* given to the balloon; backing released */
	FRAME_RESERVED, /* boot data, kernel image; never allocated */
	FRAME_NR_STATES,
};

/* struct page.flags */
#define PG_HEAD	     (1u << 0) /* first frame of a free or allocated block */
#define PG_PCP	     (1u << 1) /* on a per-CPU list (state stays FREE) */
#define PG_DISCARDED (1u << 2) /* host backing released: reads as zeros */
#define PG_BUDDY     (1u << 3) /* head of a block in the buddy lists (zone lock) */

#define MM_NO_LINK   UINT32_MAX

/*
 * One per guest frame (16 bytes). Links are frame indexes relative to the
 * instance's first frame, so the database needs no pointers and can live in
 * any address space. order and migratetype are meaningful on PG_HEAD frames.
 */
struct page {
	uint32_t next;
	uint32_t prev;
	uint32_t owner; /* device id for FRAME_DMA, 0 otherwise */
	uint8_t state;	/* enum frame_state */
	uint8_t order;
	uint8_t migratetype;
	uint8_t flags;
};

struct mm_range {
	uint64_t start_pfn; /* inclusive */
	uint64_t end_pfn;   /* exclusive */
};

/* Callbacks into the owner of the memory; any may be NULL. */
struct mm_ops {
	/* __GFP_ZERO: zero frames [pfn, pfn + nr) (skipped when discarded). */
	void (*zero)(void *opaque, uint64_t pfn, uint64_t nr);
	/* Release the host backing of free frames [pfn, pfn + nr). */
	void (*discard)(void *opaque, uint64_t pfn, uint64_t nr);
};

struct mm_config {
	const struct mm_range
		*ranges; /* RAM, sorted, disjoint; holes between */
	unsigned nr_ranges;
	uint64_t movable_pages; /* top of RAM given to ZONE_MOVABLE; 0: none */
	unsigned pcp_high;	/* per-CPU list high mark; 0: default */
	unsigned pcp_batch;	/* per-CPU refill/drain batch; 0: default */
	bool pcp_disabled;	/* order 0 goes straight to the buddy lists */
	/*
	 * The metadata handed to mm_init() is already zero (fresh anonymous
	 * mmap): mm_init() then writes only the struct mm header and the
	 * heads of the initial free blocks, so the frame database takes host
	 * memory only as frames are used, as Linux's sparse vmemmap does.
	 */
	bool meta_zeroed;
	const struct mm_ops *ops;
	void *opaque;
};

struct mm;

/* Bytes of metadata mm_init() needs for @cfg; 0 if @cfg is invalid. */
size_t mm_meta_size(const struct mm_config *cfg);

/**
 * mm_init() - build an allocator over the RAM in @cfg.
 * @meta: at least mm_meta_size(cfg) bytes, 64-byte aligned, owned by the
 *        caller until the instance is no longer used.
 * Every frame in the ranges starts FREE; frames in holes do not exist.
 * Return: 0 and *@out, or -EINVAL (bad ranges) / -ENOSPC (meta too small).
 */
int mm_init(struct mm **out, const struct mm_config *cfg, void *meta,
	    size_t meta_size);

/**
 * mm_reserve_range() - take FREE frames [pfn, pfn + nr) out of the allocator
 * as FRAME_RESERVED (boot data, kernel image). Not for the hot path.
 * Precondition: mm/ is quiescent (see mm_drain_pcp()); meant for init.
 * Return: 0, -ERANGE (outside RAM) or -EBUSY (a frame is not free); on error
 * nothing changes.
 */
int mm_reserve_range(struct mm *mm, uint64_t pfn, uint64_t nr);

/**
 * mm_alloc_pages() - allocate a naturally aligned block of 2^@order frames.
 * The zone is the highest allowed by @gfp (NORMAL, or MOVABLE with
 * __GFP_MOVABLE; DMA32; DMA) with fallback to lower zones as lowmem_reserve
 * and the watermarks allow. The frames become FRAME_GUEST, owner 0.
 * Return: 0 and *@pfn, -EINVAL (order >= NR_PAGE_ORDERS, unknown gfp bits) or
 * -ENOMEM.
 */
int mm_alloc_pages(struct mm *mm, gfp_t gfp, unsigned order, uint64_t *pfn);

/**
 * mm_alloc_pages_bits() - as mm_alloc_pages(), but the whole block lies below
 * 2^@addr_bits bytes (a device's DMA mask). Zones wholly above are skipped; a
 * zone straddling the bound is searched for a block below it.
 */
int mm_alloc_pages_bits(struct mm *mm, gfp_t gfp, unsigned order,
			unsigned addr_bits, uint64_t *pfn);

/**
 * mm_alloc_bulk() - allocate up to @count blocks of @order (for batched
 * guest requests). Stops at the first failure.
 * Return: the number allocated (>= 0; pfns[0..n) filled) or -EINVAL.
 */
int mm_alloc_bulk(struct mm *mm, gfp_t gfp, unsigned order, unsigned count,
		  uint64_t *pfns);

/**
 * mm_free_pages() - return a block allocated with this @order.
 * Detected and refused, leaving every state intact: a pfn outside every
 * zone (-ERANGE), not the head of an allocated block, a block of another
 * order, or frames not in FRAME_GUEST/FRAME_DMA (-EINVAL). Refusals are
 * logged (rate-limited) and counted.
 */
int mm_free_pages(struct mm *mm, uint64_t pfn, unsigned order);

/* The smallest order whose block holds @size bytes (size 0 -> order 0). */
unsigned mm_get_order(uint64_t size);

/**
 * mm_set_frames_state() - move frames [pfn, pfn + nr) from @from to @to
 * (GUEST <-> DMA, GUEST <-> BALLOON), all or none. FREE and RESERVED are
 * reached only through the allocator and mm_reserve_range().
 * Return: 0, -ERANGE or -EINVAL (a frame is not in @from, or a bad pair).
 */
int mm_set_frames_state(struct mm *mm, uint64_t pfn, uint64_t nr,
			enum frame_state from, enum frame_state to,
			uint32_t owner);

/**
 * mm_report_free() - release the host backing (ops->discard) of free blocks
 * of at least @min_order that still have it, and mark them PG_DISCARDED.
 * Meant to be called after a batch of frees, not per free.
 * Return: frames newly discarded.
 */
uint64_t mm_report_free(struct mm *mm, unsigned min_order);

/**
 * mm_mark_discarded() - record that the host released the backing of the
 * GUEST frames [pfn, pfn + nr) (free page reporting, native model: the
 * guest still owns them and its own allocator treats them as free; they
 * read as zeros on next touch). All or nothing: every frame must be
 * FRAME_GUEST. The flag goes away when a frame changes state or its block
 * is freed. Precondition: nobody frees these frames concurrently.
 * Return: frames newly marked (>= 0), -ERANGE (not all in one RAM range)
 * or -EINVAL (a frame is not GUEST); on error nothing changes.
 */
int64_t mm_mark_discarded(struct mm *mm, uint64_t pfn, uint64_t nr);

/**
 * mm_drain_pcp() - return every per-CPU list to the buddy lists (exact
 * statistics, tests, before a reservation).
 * Precondition: mm/ is quiescent: no other thread is inside an mm_*() call
 * on this instance (VMM init, after the vCPUs stopped, tests between
 * phases). Per-CPU lists are used by their owner without a lock. While
 * threads run, frames come back on their own: a failed allocation asks
 * every CPU to drain at its next call, so an idle CPU keeps at most
 * pcp_high frames per zone.
 */
void mm_drain_pcp(struct mm *mm);

/**
 * mm_set_pageblock_migratetype() - set the migratetype of every pageblock in
 * [pfn, pfn + nr) (both PAGEBLOCK_NR_PAGES aligned) to @mt and move the free
 * blocks inside to @mt's free lists, splitting free blocks larger than a
 * pageblock that reach outside the range. MIGRATE_CMA pageblocks serve only
 * __GFP_MOVABLE requests; MIGRATE_ISOLATE pageblocks are never allocated
 * (their free frames stay put until the type changes back). Per-CPU lists are
 * drained first so that no isolated frame sits on one, hence the
 * precondition: mm/ is quiescent (see mm_drain_pcp()).
 * Return: 0, -EINVAL (unaligned, bad @mt) or -ERANGE (a pageblock outside
 * RAM or crossing a zone boundary).
 */
int mm_set_pageblock_migratetype(struct mm *mm, uint64_t pfn, uint64_t nr,
				 enum migratetype mt);

/* The migratetype of @pfn's pageblock, or -ERANGE for a pfn not in RAM. */
int mm_get_pageblock_migratetype(const struct mm *mm, uint64_t pfn);

/* The zone holding @pfn, or -ERANGE for a pfn not in RAM. */
int mm_pfn_zone(const struct mm *mm, uint64_t pfn);

/* Frame lookup: NULL for a pfn in a hole or outside RAM. Read-only view. */
const struct page *mm_pfn_to_page(const struct mm *mm, uint64_t pfn);

/* Statistics ------------------------------------------------------------ */

struct mm_zone_info {
	const char *name; /* "DMA", "DMA32", "Normal", "Movable" */
	bool populated;
	uint64_t start_pfn, end_pfn; /* span */
	uint64_t spanned, present, managed, free;
	uint64_t min, low, high; /* watermarks, pages */
	uint64_t lowmem_reserve[MM_NR_ZONES];
	uint64_t nr_free[NR_PAGE_ORDERS]; /* free blocks per order */
	uint64_t nr_free_mt[MIGRATE_TYPES][NR_PAGE_ORDERS];
	uint64_t pageblocks_mt[MIGRATE_TYPES];
};

struct mm_stats {
	uint64_t frames[FRAME_NR_STATES]; /* adds up to total */
	uint64_t total;
	uint64_t discarded;	  /* free frames without backing */
	uint64_t guest_discarded; /* GUEST frames without backing */
	uint64_t pcp_frames;
	uint64_t alloc_ok, alloc_fail, free_ok, bad_free;
	uint64_t fallback_steal; /* pageblocks taken over by another mt */
};

int mm_zone_info(struct mm *mm, enum zone_type zone, struct mm_zone_info *out);
void mm_get_stats(struct mm *mm, struct mm_stats *out);

/*
 * Linux text formats. Each writes at most @size bytes (NUL-terminated) and
 * returns the full length, as snprintf does.
 *   buddyinfo    /proc/buddyinfo
 *   pagetypeinfo /proc/pagetypeinfo (free blocks per order and migratetype,
 *                then pageblock counts)
 *   zoneinfo     the applicable /proc/zoneinfo fields
 *   fraginfo     per zone and order: unusable free space index and extfrag
 *                index (debugfs extfrag/ formats)
 *   frames       one line per frame state, plus discarded
 */
int mm_format_buddyinfo(struct mm *mm, char *buf, size_t size);
int mm_format_pagetypeinfo(struct mm *mm, char *buf, size_t size);
int mm_format_zoneinfo(struct mm *mm, char *buf, size_t size);
int mm_format_fraginfo(struct mm *mm, char *buf, size_t size);
int mm_format_frames(struct mm *mm, char *buf, size_t size);

/*
 * Fragmentation indices for a request of @order in @zone, in thousandths
 * (Linux prints them /1000 with 3 decimals). unusable: 0..1000. extfrag:
 * -1000 when the request would succeed, else 0..1000 (0: failure is due to
 * lack of memory, 1000: due to fragmentation).
 */
int mm_unusable_index(struct mm *mm, enum zone_type zone, unsigned order);
int mm_extfrag_index(struct mm *mm, enum zone_type zone, unsigned order);

/**
 * mm_check() - walk the whole database and prove the invariants: free lists
 * agree with frame states, blocks are aligned and do not overlap, buddies
 * that are both free have been merged, per-state counters add up to the total,
 * zone free counts match. Takes every lock; for tests and debugging.
 * Precondition: mm/ is quiescent (see mm_drain_pcp()): it walks the per-CPU
 * lists, which their owners change without a lock.
 * Return: 0, or -EUCLEAN with the first violation described in @why.
 */
int mm_check(struct mm *mm, char *why, size_t why_size);

#endif /* MM_MM_H */
