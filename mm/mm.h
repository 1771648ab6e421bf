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
/* Every frame of a block isolated for migration (source or target). */
#define PG_ISOLATED (1u << 4)

#define MM_NO_LINK  UINT32_MAX

/*
 * One per guest frame (16 bytes). Links are frame indexes relative to the
 * instance's first frame, so the database needs no pointers and can live in
 * any address space. order and migratetype are meaningful on PG_HEAD frames.
 */
struct page {
	uint32_t next;
	uint32_t prev;
	/*
	 * FRAME_DMA: the device id. GUEST/BALLOON heads: the movable owner
	 * (mm_set_movable_owner()), MM_OWNER_TARGET for a migration target,
	 * 0 (pinned) otherwise.
	 */
	uint32_t owner;
	/*
	 * The last four bytes are also one word, so the buddy allocator's
	 * merge tests state, order and PG_BUDDY with one load (mm/buddy.c).
	 */
	union {
		struct {
			uint8_t state; /* enum frame_state */
			uint8_t order;
			uint8_t migratetype;
			uint8_t flags;
		};
		uint32_t state_word;
	};
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

/*
 * The first frame of the ZONE_MOVABLE mm_init() makes for @cfg: its top
 * movable_pages present frames, the start rounded up to a pageblock. Those
 * who describe the zones to others (the VMM's device tree) use it, so they
 * say what the allocator does. UINT64_MAX: no such zone (none asked for, or
 * @cfg invalid, or movable_pages not less than every frame).
 */
uint64_t mm_movable_start_pfn(const struct mm_config *cfg);

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
 * mm_free_pages() - return a block allocated with this @order. A block
 * isolated for migration is refused with -EBUSY (nothing logged): its
 * migration ends first.
 * Detected and refused, leaving every state intact: a pfn outside every
 * zone (-ERANGE), not the head of an allocated block, a block of another
 * order, or frames not in FRAME_GUEST/FRAME_DMA (-EINVAL). Refusals are
 * logged (rate-limited) and counted.
 */
int mm_free_pages(struct mm *mm, uint64_t pfn, unsigned order);

/**
 * mm_split_block() - make the allocated block at @pfn (the head of a GUEST
 * or DMA block of @order) into 2^@order allocated order-0 blocks, each
 * freed, moved or ballooned on its own afterwards (Linux's split_page()).
 * Every frame keeps its state and the block's migratetype; a movable
 * owner is forgotten (the caller sets one per page if it wants).
 * Return: 0, -ERANGE (not RAM), -EINVAL (not the head of such a block) or
 * -EBUSY (isolated for migration).
 */
int mm_split_block(struct mm *mm, uint64_t pfn, unsigned order);

/**
 * mm_count_frames_state() - how many of the frames [pfn, pfn + nr) are in
 * @state now (frames outside RAM count as not). A snapshot: without the
 * caller's own exclusion the answer may be stale when it returns.
 */
uint64_t mm_count_frames_state(const struct mm *mm, uint64_t pfn, uint64_t nr,
			       enum frame_state state);

/* The smallest order whose block holds @size bytes (size 0 -> order 0). */
unsigned mm_get_order(uint64_t size);

/**
 * mm_set_frames_state() - move frames [pfn, pfn + nr) from @from to @to
 * (GUEST <-> DMA, GUEST <-> BALLOON), all or none. FREE and RESERVED are
 * reached only through the allocator and mm_reserve_range(). A movable
 * block's owner (mm_set_movable_owner()) is forgotten.
 * Return: 0, -ERANGE, -EINVAL (a frame is not in @from, or a bad pair) or
 * -EBUSY (a frame is isolated for migration).
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
 * mm_mark_free_unbacked() - record that no free block has host backing yet
 * (memory the host never wrote: a new mapping reads as zeros), marking
 * every free block PG_DISCARDED without calling ops->discard. A __GFP_ZERO
 * allocation then skips zeroing them, as after mm_report_free().
 * Return: frames newly marked.
 */
uint64_t mm_mark_free_unbacked(struct mm *mm);

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
 * mm_drain_own_pcp() - return the calling thread's own per-CPU lists to the
 * buddy lists, while other threads run: after a burst of order-0 frees
 * whose frames should merge now (before mm_report_free()), not whenever
 * the list next overflows.
 * Return: frames given back.
 */
uint64_t mm_drain_own_pcp(struct mm *mm);

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
	/* Compaction and migration: Linux's /proc/vmstat names and meaning. */
	uint64_t compact_migrate_scanned, compact_free_scanned;
	uint64_t compact_isolated; /* frames isolated (sources + targets) */
	uint64_t compact_stall;	   /* direct compactions */
	uint64_t compact_fail, compact_success; /* of direct compactions */
	uint64_t compact_daemon_wake;		/* proactive rounds that ran */
	uint64_t pgmigrate_success, pgmigrate_fail; /* frames */
	uint64_t isolated; /* frames isolated for migration right now */
	uint64_t cma_total, cma_allocated; /* frames in CMA areas; handed out */
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
/*   vmstat       the /proc/vmstat lines of this instance: nr_free_pages,
 *                nr_free_cma, compact_*, pgmigrate_* (docs/compaction.md) */
int mm_format_vmstat(struct mm *mm, char *buf, size_t size);

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

/* Migration, compaction, contiguous allocation ---------------------------
 *
 * mm/migrate.c, mm/page_isolation.c, mm/compaction.c, mm/cma.c. A frame
 * moves only when an owner that can move it says so: an allocated GUEST or
 * BALLOON block whose head names a registered movable owner
 * (mm_set_movable_owner()). Everything else (owner 0, DMA, RESERVED) is
 * pinned where it is. docs/compaction.md explains the algorithm.
 */

#define MM_MAX_MOVABLE_OWNERS 8
#define MM_PFN_NONE	      UINT64_MAX

/* struct page.owner of an isolated migration target (held by mm/). */
#define MM_OWNER_TARGET UINT32_MAX

enum migrate_mode {
	MIGRATE_ASYNC, /* never wait: an owner that would wait says -EAGAIN */
	MIGRATE_SYNC,  /* the owner may wait; -EAGAIN is retried */
};

/*
 * The owner of movable blocks (Linux's movable_operations). Called without
 * any mm/ lock held; a callback may call mm_*() except the compaction and
 * contiguous-allocation entry points. @pfn/@src/@dst are block heads of
 * 2^@order frames.
 *
 *  isolate()  may this block move? 0: yes, and until putback() or a
 *             successful migrate() the owner neither frees it nor changes
 *             its state; negative: no (it stays, nothing else happens).
 *  migrate()  copy the contents of @src to @dst and switch every reference
 *             from @src to @dst. Return 0 when done (mm/ then frees @src and
 *             @dst is the owner's block), -EAGAIN when busy (retried in
 *             MIGRATE_SYNC, skipped in MIGRATE_ASYNC), -EINPROGRESS when the
 *             owner will finish later (it, or whoever waits for it, calls
 *             mm_migrate_finish() exactly once: this is how a guest moves its
 *             frames in the hosted model), any other negative errno when it
 *             cannot (the block stays at @src). Until it returns 0 or the
 *             migration is finished, @src's contents stay valid.
 *  putback()  the isolation is over and the block stays at @pfn.
 *  prefetch() optional hint: @pfn's block is the next one this owner will
 *             be asked to migrate, after the migrate() that follows; an
 *             owner that copies may start bringing it into the cache (a
 *             cold frame copies at half the speed of a warm one).
 */
struct mm_movable_ops {
	int (*isolate)(void *opaque, uint64_t pfn, unsigned order);
	int (*migrate)(void *opaque, uint64_t dst, uint64_t src, unsigned order,
		       enum migrate_mode mode);
	void (*putback)(void *opaque, uint64_t pfn, unsigned order);
	void (*prefetch)(void *opaque, uint64_t pfn, unsigned order);
};

/**
 * mm_register_movable_owner() - register an owner of movable blocks.
 * @ops: copied; migrate and putback are required, isolate is optional.
 * Return: the owner id (1..MM_MAX_MOVABLE_OWNERS) or -ENOSPC / -EINVAL.
 */
int mm_register_movable_owner(struct mm *mm, const struct mm_movable_ops *ops,
			      void *opaque);

/**
 * mm_set_movable_owner() - say that the allocated block at @pfn (its head,
 * of @order, GUEST or BALLOON) belongs to movable owner @owner, or to none
 * (@owner 0: pinned). A state change (mm_set_frames_state()) clears it.
 * Return: 0, -ERANGE, -EINVAL (not such a block, unknown owner) or -EBUSY
 * (the block is isolated).
 */
int mm_set_movable_owner(struct mm *mm, uint64_t pfn, unsigned order,
			 uint32_t owner);

/**
 * mm_isolate_movable() - isolate the movable block headed at @pfn for
 * migration: mm_free_pages() and mm_set_frames_state() refuse it (-EBUSY)
 * until it is migrated or put back. Calls the owner's isolate().
 * Return: 0 and *@order, -EINVAL (not a movable block head), -EBUSY
 * (already isolated, or the owner refused).
 */
int mm_isolate_movable(struct mm *mm, uint64_t pfn, unsigned *order);

/** mm_putback_movable() - end the isolation of @pfn's block (owner's putback()). */
int mm_putback_movable(struct mm *mm, uint64_t pfn);

/**
 * mm_alloc_migration_target() - take a free block of @order from @zone's
 * MOVABLE (then CMA, then fallback) lists, never from an isolated pageblock,
 * as an isolated migration target (GUEST, owner MM_OWNER_TARGET). It is
 * released by mm_migrate_pages() or mm_free_migration_target().
 */
int mm_alloc_migration_target(struct mm *mm, enum zone_type zone,
			      unsigned order, uint64_t *pfn);
int mm_free_migration_target(struct mm *mm, uint64_t pfn);

/* One block to migrate: @src isolated; @dst a target or MM_PFN_NONE. */
struct mm_migration {
	uint64_t src;
	uint64_t dst; /* in: a target or MM_PFN_NONE (mm/ picks); out */
	unsigned order;
	int result; /* out: 0, -EINPROGRESS, or why it stayed */
};

/**
 * mm_migrate_pages() - migrate @n isolated blocks (Linux's migrate_pages()).
 * Each entry ends in one of three ways, whatever the owners return: moved
 * (result 0: the old block is free, the new one the owner's), pending
 * (-EINPROGRESS: source and target stay isolated until mm_migrate_finish()),
 * or not moved (other result: the source is put back at @src, the target
 * released). -EAGAIN is retried up to 3 passes in MIGRATE_SYNC.
 * Return: the number of entries not moved and not pending, or -EINVAL.
 */
int mm_migrate_pages(struct mm *mm, struct mm_migration *list, unsigned n,
		     enum migrate_mode mode);

/**
 * mm_migrate_finish() - finish a migration its owner left pending
 * (-EINPROGRESS): @result 0 commits it (@src is freed, @dst becomes the
 * owner's), anything else cancels it (@dst released, @src put back). The
 * caller (trusted host code that paired @src with @dst) calls it once per
 * pending migration, also on timeout.
 * Return: 0 (as asked), -EINVAL (not a pending pair: nothing changed),
 * -ESTALE (asked to commit, but the source or target changed meanwhile:
 * cancelled instead).
 */
int mm_migrate_finish(struct mm *mm, uint64_t src, uint64_t dst, int result);

/**
 * mm_start_isolate_page_range() - make the pageblocks of [start, end)
 * (pageblock aligned) MIGRATE_ISOLATE without a quiescent mm/: free frames
 * there stay put, frees land there, nothing is allocated there. Fails with
 * -EBUSY, changing nothing, when a pageblock holds a frame no owner can
 * move (pinned), or is already isolated. Per-CPU lists are asked to drain.
 * Return: 0, -EINVAL, -ERANGE (not present or crossing a zone) or -EBUSY.
 */
int mm_start_isolate_page_range(struct mm *mm, uint64_t start, uint64_t end);

/**
 * mm_undo_isolate_page_range() - give the pageblocks of [start, end) type
 * @mt (the type they had: MOVABLE, or CMA) back; their free frames join
 * that type's lists and merge.
 */
int mm_undo_isolate_page_range(struct mm *mm, uint64_t start, uint64_t end,
			       enum migratetype mt);

/* Is every frame of [start, end) free in an isolated pageblock? 0 or -EBUSY */
int mm_test_pages_isolated(struct mm *mm, uint64_t start, uint64_t end);

/* Compaction ------------------------------------------------------------ */

enum compact_result {
	COMPACT_NOT_SUITABLE_ZONE, /* zone empty or order invalid */
	COMPACT_SKIPPED,	   /* too little free memory to bother */
	COMPACT_DEFERRED,	   /* failed recently; not tried */
	COMPACT_CONTINUE,	   /* (internal) */
	COMPACT_COMPLETE,	   /* the scanners met */
	COMPACT_PARTIAL_SKIPPED,   /* the scanners met, some blocks skipped */
	COMPACT_SUCCESS,	   /* a free block of the order exists now */
};

struct mm_compact_result {
	enum compact_result result;
	uint64_t migrate_scanned, free_scanned; /* frames looked at */
	uint64_t isolated; /* frames isolated (sources and targets) */
	uint64_t migrated, failed, pending; /* frames */
};

/**
 * mm_compact_zone() - compact @zone now (Linux's compact_zone()): the
 * migrate scanner walks pageblocks up from the bottom, the free scanner
 * down from the top, movable blocks move to the top, until a free block of
 * @order exists (@order -1: until the scanners meet, as
 * /proc/sys/vm/compact_memory). Ignores deferral; honours and updates skip
 * hints (MIGRATE_SYNC at @order -1 ignores them).
 * Return: 0 and *@res (may be NULL), or -EINVAL / -EBUSY (another
 * compaction of this instance is running).
 */
int mm_compact_zone(struct mm *mm, enum zone_type zone, int order,
		    enum migrate_mode mode, struct mm_compact_result *res);

/** mm_compact_memory() - mm_compact_zone(-1, MIGRATE_SYNC) on every zone. */
int mm_compact_memory(struct mm *mm);

/**
 * mm_compaction_suitable() - Linux's compaction_suitable() for @order in
 * @zone: COMPACT_SUCCESS (a block is there), COMPACT_SKIPPED (not enough
 * free frames above the low watermark plus 2^(order+1), or the extfrag index
 * says failure is due to lack of memory) or COMPACT_CONTINUE.
 */
enum compact_result mm_compaction_suitable(struct mm *mm, enum zone_type zone,
					   unsigned order);

/**
 * mm_fragmentation_score() - Linux's fragmentation_score_zone(): the
 * percentage (0..100) of @zone's free frames that are not in free blocks of
 * pageblock order or more.
 */
unsigned mm_fragmentation_score(struct mm *mm, enum zone_type zone);

/**
 * mm_set_compaction_proactiveness() - Linux's vm.compaction_proactiveness
 * (0..100, default 20; 0 turns proactive compaction off): the score
 * watermarks are low = 100 - proactiveness (at least 5), high = low + 10.
 */
int mm_set_compaction_proactiveness(struct mm *mm, unsigned value);

/**
 * mm_compact_proactive() - one kcompactd round, for the VMM to call
 * periodically: for each zone whose fragmentation score is above the high
 * watermark, compact (MIGRATE_ASYNC... then MIGRATE_SYNC) until it is at or
 * below the low watermark; a zone where that made no progress is left alone
 * for the next 64 rounds. Counts compact_daemon_wake when it works.
 * Return: frames migrated (>= 0).
 */
int64_t mm_compact_proactive(struct mm *mm);

/* Contiguous allocation and CMA ---------------------------------------- */

/**
 * mm_alloc_contig_range() - allocate exactly the frames [start, end) (any
 * alignment, one zone) as GUEST frames, migrating the movable blocks out
 * (Linux's alloc_contig_range()). The range is handed out as maximal
 * aligned blocks; free it with mm_free_contig_range().
 * Return: 0, -EINVAL, -ERANGE (not in one RAM range and zone) or -EBUSY
 * (a pinned frame is in the way, or a migration failed, found no target
 * frame or is still pending): the range is not allocated, the isolation is
 * undone, the blocks already migrated stay where they went.
 */
int mm_alloc_contig_range(struct mm *mm, uint64_t start, uint64_t end);

/**
 * mm_alloc_contig_pages() - find and allocate @nr contiguous frames aligned
 * to @align frames (a power of two; 0: 1) in the zones @gfp allows, below
 * 2^@addr_bits bytes (64: no limit), for sizes beyond MAX_PAGE_ORDER
 * (Linux's alloc_contig_pages()). Candidate ranges are tried bottom-up,
 * skipping quickly those with a pinned frame.
 * Return: 0 and *@pfn, -EINVAL or -ENOMEM.
 */
int mm_alloc_contig_pages(struct mm *mm, uint64_t nr, gfp_t gfp, uint64_t align,
			  unsigned addr_bits, uint64_t *pfn);

/** mm_free_contig_range() - free [pfn, pfn + nr) from mm_alloc_contig_*(). */
int mm_free_contig_range(struct mm *mm, uint64_t pfn, uint64_t nr);

#define MM_MAX_CMA_AREAS 8

/**
 * mm_cma_declare() - make [pfn, pfn + nr) (pageblock aligned, one zone,
 * every frame free) a CMA area: its pageblocks become MIGRATE_CMA, serving
 * only movable allocations until mm_cma_alloc() takes them.
 * Precondition: mm/ is quiescent (init).
 * Return: the area id (>= 0), -EINVAL, -ERANGE, -EBUSY or -ENOSPC.
 */
int mm_cma_declare(struct mm *mm, uint64_t pfn, uint64_t nr);

/**
 * mm_cma_reserve() - mm_cma_declare() @nr frames (rounded up to whole
 * pageblocks) at the top of @zone that are free.
 * Return: the area id and *@pfn, or as mm_cma_declare() / -ENOMEM.
 */
int mm_cma_reserve(struct mm *mm, enum zone_type zone, uint64_t nr,
		   uint64_t *pfn);

/**
 * mm_cma_alloc() - allocate @nr contiguous frames aligned to @align frames
 * (power of two; 0: 1) from CMA area @id, migrating movable frames out.
 * Return: 0 and *@pfn, -EINVAL or -ENOMEM.
 */
int mm_cma_alloc(struct mm *mm, int id, uint64_t nr, uint64_t align,
		 uint64_t *pfn);

/** mm_cma_release() - give back [pfn, pfn + nr) from mm_cma_alloc(). */
int mm_cma_release(struct mm *mm, int id, uint64_t pfn, uint64_t nr);

struct mm_cma_info {
	uint64_t base_pfn, count; /* the area */
	uint64_t allocated;	  /* frames handed out by mm_cma_alloc() */
	uint64_t free;		  /* frames free in the buddy lists */
};

int mm_cma_info(struct mm *mm, int id, struct mm_cma_info *out);

#endif /* MM_MM_H */
