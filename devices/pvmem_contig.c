// SPDX-License-Identifier: MIT
/*
 * devices/pvmem_contig.c - large DMA buffers for the hosted model
 * (pvmem_contig.h).
 *
 * Why not mm_alloc_contig_pages() as it is: in the hosted model most
 * movable blocks belong to the guest, whose owner answers "in progress"
 * (the guest moves them later, through its ring). alloc_contig_pages()
 * would then try candidate after candidate, posting requests for each.
 * Instead we pick one range, post requests only for it (as many as the
 * ring holds), and tell the guest to drain its ring and ask again; the
 * next call finds the same range (a per-device hint) with fewer blocks in
 * the way, and takes it with mm_alloc_contig_range() once it is free.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pvmem_contig.h"
#include "mm/gfp.h"

enum pb_class { PB_ABSENT, PB_OK, PB_PINNED };

/* What one pageblock holds, from a lock-free look at the frames. */
struct pb_info {
	uint8_t cls;	  /* enum pb_class */
	int8_t zone;	  /* of its first frame */
	bool cma;	  /* MIGRATE_CMA */
	uint32_t movable; /* frames of movable blocks */
	uint32_t coop;	  /* of those, frames only the guest can move */
};

struct contig_hint {
	uint64_t start, nr;
};

struct pvmem_contig {
	struct mm *mm;
	const struct guest_mem *mem;
	struct pvmem_migrate *mig;
	int cma_id; /* -1: none */
	struct mm_cma_info cma;
	struct contig_hint hint[PVMEM_MAX_DEVICE_ID + 1];
	pthread_mutex_t lock; /* hint and stats */
	struct pvmem_contig_stats st;
};

/* A window of pageblocks [first, first + n) of the scan. */
struct window {
	uint64_t start, nr;
	uint64_t movable, coop;
	int zone;
	bool cma;
};

int pvmem_contig_create(struct pvmem_contig **out, struct mm *mm,
			const struct guest_mem *mem, struct pvmem_migrate *mig)
{
	struct pvmem_contig *c = calloc(1, sizeof(*c));

	if (!c || pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return -ENOMEM;
	}
	c->mm = mm;
	c->mem = mem;
	c->mig = mig;
	c->cma_id = -1;
	for (int id = 0; id < MM_MAX_CMA_AREAS; id++) {
		if (mm_cma_info(mm, id, &c->cma) == 0) {
			c->cma_id = id;
			break;
		}
	}
	*out = c;
	return 0;
}

void pvmem_contig_destroy(struct pvmem_contig *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Scanning ---------------------------------------------------------------- */

/* Can a movable-owner head of this state move? (GUEST or BALLOON, owned.) */
static bool frame_movable(uint8_t state, uint32_t owner)
{
	return (state == FRAME_GUEST || state == FRAME_BALLOON) && owner &&
	       owner != MM_OWNER_TARGET;
}

/* What a block of frames is, for account(). */
enum frame_kind { F_FREE, F_MOVABLE, F_PINNED };

/* Add @n frames at @pfn of one kind to the pageblocks they cover. */
static void account(struct pb_info *pb, uint64_t lo, uint64_t hi, uint64_t pfn,
		    uint64_t n, enum frame_kind kind, bool coop)
{
	uint64_t s = pfn < lo ? lo : pfn, e = pfn + n > hi ? hi : pfn + n;

	for (uint64_t q = s; q < e;) {
		uint64_t i = (q - lo) / PAGEBLOCK_NR_PAGES;
		uint64_t pb_end = lo + (i + 1) * PAGEBLOCK_NR_PAGES;
		uint64_t cnt = (e < pb_end ? e : pb_end) - q;

		if (kind == F_PINNED)
			pb[i].cls = PB_PINNED;
		else if (kind == F_MOVABLE) {
			pb[i].movable += (uint32_t)cnt;
			pb[i].coop += coop ? (uint32_t)cnt : 0;
		}
		q += cnt;
	}
}

/*
 * Classify the pageblocks of [lo, hi) (pageblock aligned) into @pb. Blocks
 * may start before @lo (up to MAX_PAGE_ORDER), so the walk starts there.
 */
static void scan(struct pvmem_contig *c, uint64_t lo, uint64_t hi,
		 struct pb_info *pb)
{
	int guest_owner = c->mig ? pvmem_migrate_guest_owner(c->mig) : -1;
	int balloon_owner = c->mig ? pvmem_migrate_balloon_owner(c->mig) : -1;
	uint64_t n = (hi - lo) / PAGEBLOCK_NR_PAGES;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = lo + i * PAGEBLOCK_NR_PAGES;
		bool present =
			mm_pfn_to_page(c->mm, pfn) &&
			mm_pfn_to_page(c->mm, pfn + PAGEBLOCK_NR_PAGES - 1);

		pb[i] = (struct pb_info){
			.cls = present ? PB_OK : PB_ABSENT,
			.zone = (int8_t)(present ? mm_pfn_zone(c->mm, pfn)
						 : -1),
			.cma = present && mm_get_pageblock_migratetype(
						  c->mm, pfn) == MIGRATE_CMA};
	}
	for (uint64_t pfn = lo & ~((1ull << MAX_PAGE_ORDER) - 1); pfn < hi;) {
		const struct page *pg = mm_pfn_to_page(c->mm, pfn);
		uint8_t state, flags, order;
		uint32_t owner;

		if (!pg) {
			pfn = (pfn | (PAGEBLOCK_NR_PAGES - 1)) + 1;
			continue;
		}
		state = __atomic_load_n(&pg->state, __ATOMIC_RELAXED);
		flags = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
		order = __atomic_load_n(&pg->order, __ATOMIC_RELAXED);
		owner = __atomic_load_n(&pg->owner, __ATOMIC_RELAXED);
		if (!(flags & PG_HEAD) || order >= NR_PAGE_ORDERS ||
		    (pfn & ((1ull << order) - 1)))
			order = 0;
		if (state == FRAME_FREE)
			account(pb, lo, hi, pfn, 1ull << order, F_FREE, false);
		else if ((flags & PG_HEAD) && frame_movable(state, owner))
			account(pb, lo, hi, pfn, 1ull << order, F_MOVABLE,
				(int)owner == guest_owner ||
					(int)owner == balloon_owner);
		else
			account(pb, lo, hi, pfn, 1ull << order, F_PINNED,
				false);
		pfn += 1ull << order;
	}
}

/*
 * The best window of @k pageblocks in @pb (of @n, starting at pfn @lo)
 * whose pageblocks are all CMA (@cma) or all not: fewest movable frames,
 * lowest address first. *@exists: some window of the right zone and type
 * would qualify but for pinned frames.
 */
static bool best_window(const struct pb_info *pb, uint64_t n, uint64_t lo,
			uint64_t k, bool cma, struct window *w, bool *exists)
{
	bool found = false;

	for (uint64_t i = 0; i + k <= n; i++) {
		uint64_t mov = 0, coop = 0;
		bool shape = true, clean = true;

		for (uint64_t j = i; j < i + k && shape; j++) {
			shape = pb[j].cls != PB_ABSENT && pb[j].cma == cma &&
				pb[j].zone == pb[i].zone;
			clean = clean && pb[j].cls == PB_OK;
			mov += pb[j].movable;
			coop += pb[j].coop;
		}
		if (!shape)
			continue;
		*exists = true;
		if (!clean || (found && mov >= w->movable))
			continue;
		*w = (struct window){.start = lo + i * PAGEBLOCK_NR_PAGES,
				     .nr = k * PAGEBLOCK_NR_PAGES,
				     .movable = mov,
				     .coop = coop,
				     .zone = pb[i].zone,
				     .cma = cma};
		found = true;
		if (!mov)
			break;
	}
	return found;
}

/* Search [lo, hi) for the best window of @nr frames. */
static int search(struct pvmem_contig *c, uint64_t lo, uint64_t hi, uint64_t nr,
		  bool cma, struct window *w, bool *exists)
{
	uint64_t n, k = nr / PAGEBLOCK_NR_PAGES;
	struct pb_info *pb;
	bool found;

	lo = (lo + PAGEBLOCK_NR_PAGES - 1) &
	     ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
	hi &= ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);
	if (hi <= lo || hi - lo < nr)
		return -EADDRNOTAVAIL;
	n = (hi - lo) / PAGEBLOCK_NR_PAGES;
	pb = malloc(n * sizeof(*pb));
	if (!pb)
		return -ENOMEM;
	scan(c, lo, hi, pb);
	found = best_window(pb, n, lo, k, cma, w, exists);
	free(pb);
	return found ? 0 : -EBUSY;
}

/*
 * Choose the window: the device's hint if it still qualifies, else the CMA
 * area (when it lies below the limit), else all RAM below the limit.
 */
static int choose(struct pvmem_contig *c, uint64_t nr, uint64_t limit,
		  uint32_t dev, struct window *w)
{
	struct contig_hint h = c->hint[dev];
	bool exists = false;
	int err = -EADDRNOTAVAIL;

	if (h.nr == nr && h.start + nr <= limit &&
	    search(c, h.start, h.start + nr, nr,
		   c->cma_id >= 0 && h.start >= c->cma.base_pfn &&
			   h.start < c->cma.base_pfn + c->cma.count,
		   w, &exists) == 0)
		return 0;
	if (c->cma_id >= 0 && c->cma.base_pfn < limit) {
		uint64_t e = c->cma.base_pfn + c->cma.count;

		err = search(c, c->cma.base_pfn, e < limit ? e : limit, nr,
			     true, w, &exists);
		if (!err)
			return 0;
	}
	err = search(c, 0, limit, nr, false, w, &exists);
	if (err == -EBUSY && !exists)
		err = -EADDRNOTAVAIL;
	return err;
}

/* Emptying the window ------------------------------------------------------ */

/*
 * Ask the guest to move its blocks out of @w: the window is isolated while
 * targets are chosen (so none lies inside), one pageblock at a time until
 * the ring is full. Return: requests posted or moves done.
 */
static unsigned post_moves(struct pvmem_contig *c, const struct window *w)
{
	uint64_t e = w->start + w->nr;
	unsigned total = 0;

	if (mm_start_isolate_page_range(c->mm, w->start, e))
		return 0;
	for (uint64_t a = w->start;
	     a < e && pvmem_migrate_pending(c->mig) < PVMEM_MIG_SLOTS;
	     a += PAGEBLOCK_NR_PAGES) {
		unsigned posted = 0, busy = 0;

		pvmem_migrate_compact_range(c->mig, a, a + PAGEBLOCK_NR_PAGES,
					    &posted, &busy);
		total += posted;
	}
	mm_undo_isolate_page_range(c->mm, w->start, e,
				   w->cma ? MIGRATE_CMA : MIGRATE_MOVABLE);
	return total;
}

/* Free frames of @zone outside the window: enough to move its blocks? */
static bool targets_exist(struct pvmem_contig *c, const struct window *w)
{
	struct mm_zone_info zi;

	if (mm_zone_info(c->mm, (enum zone_type)w->zone, &zi))
		return false;
	/* w->nr - w->movable of the zone's free frames are inside. */
	return zi.free >= w->nr;
}

/*
 * Zero by releasing the backing: it reads as zeros, and the pages come
 * back only where the device or the guest touches them. A memset of 64
 * MiB would fault in every page now (milliseconds on these hosts).
 */
static void zero_range(struct pvmem_contig *c, uint64_t pfn, uint64_t nr)
{
	uint64_t gpa = MM_PFN_TO_ADDR(pfn), len = nr << PAGE_SHIFT;
	void *p;

	if (!guest_mem_discard(c->mem, gpa, len))
		return;
	p = guest_mem_ptr(c->mem, gpa, len);
	if (p)
		memset(p, 0, len);
}

/* Take the (now empty or host-movable) window as FRAME_DMA of @dev. */
static int take(struct pvmem_contig *c, const struct window *w, uint32_t gfp,
		uint32_t dev)
{
	int err = mm_alloc_contig_range(c->mm, w->start, w->start + w->nr);

	if (err)
		return err == -EBUSY || err == -ENOMEM ? err : -EBUSY;
	err = mm_set_frames_state(c->mm, w->start, w->nr, FRAME_GUEST,
				  FRAME_DMA, dev);
	if (err) {
		mm_free_contig_range(c->mm, w->start, w->nr);
		return -EBUSY;
	}
	if (gfp & __GFP_ZERO)
		zero_range(c, w->start, w->nr);
	return 0;
}

static void count(struct pvmem_contig *c, uint64_t *ctr, uint64_t n)
{
	pthread_mutex_lock(&c->lock);
	*ctr += n;
	pthread_mutex_unlock(&c->lock);
}

static int empty_and_take(struct pvmem_contig *c, const struct window *w,
			  uint32_t gfp, uint32_t dev, unsigned *posted)
{
	if (w->movable && !(gfp & __GFP_DIRECT_RECLAIM))
		return -EBUSY;
	if (w->movable && !targets_exist(c, w))
		return -ENOMEM;
	if (w->coop && c->mig) {
		unsigned n = post_moves(c, w);
		unsigned pending = pvmem_migrate_pending(c->mig);

		count(c, &c->st.posted, n);
		/* Paused guest: balloon frames moved at once, nothing waits. */
		if (pending) {
			*posted = pending;
			return -EAGAIN;
		}
		if (!n)
			return -EBUSY; /* the guest's blocks refuse to move */
	}
	return take(c, w, gfp, dev);
}

int pvmem_contig_alloc(struct pvmem_contig *c, uint64_t nr, unsigned dma_bits,
		       uint32_t gfp, uint32_t dev, uint64_t *pfn, bool *cma,
		       unsigned *posted)
{
	uint64_t limit = MM_ADDR_TO_PFN(guest_mem_end(c->mem));
	struct window w;
	int err;

	*posted = 0;
	if (!nr || nr % PAGEBLOCK_NR_PAGES || dev > PVMEM_MAX_DEVICE_ID)
		return -EINVAL;
	if (dma_bits < 64 && ((1ull << dma_bits) >> PAGE_SHIFT) < limit)
		limit = (1ull << dma_bits) >> PAGE_SHIFT;
	err = choose(c, nr, limit, dev, &w);
	if (!err) {
		c->hint[dev] = (struct contig_hint){w.start, nr};
		err = empty_and_take(c, &w, gfp, dev, posted);
	}
	pthread_mutex_lock(&c->lock);
	if (!err) {
		c->hint[dev] = (struct contig_hint){0, 0};
		c->st.ok++;
		c->st.ok_cma += w.cma;
		c->st.frames += nr;
		*pfn = w.start;
		*cma = w.cma;
	} else if (err == -EAGAIN) {
		c->st.eagain++;
	} else if (err == -EBUSY) {
		c->st.ebusy++;
	} else if (err == -ENOMEM) {
		c->st.enomem++;
	} else if (err == -EADDRNOTAVAIL) {
		c->st.eaddrnotavail++;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

int pvmem_contig_free(struct pvmem_contig *c, uint64_t pfn, uint64_t nr)
{
	return mm_free_contig_range(c->mm, pfn, nr);
}

void pvmem_contig_get_stats(struct pvmem_contig *c,
			    struct pvmem_contig_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	pthread_mutex_unlock(&c->lock);
}
