// SPDX-License-Identifier: MIT
/*
 * devices/pvmem.c - the paravirtual memory device of the hosted memory model.
 *
 * The guest is untrusted and may rewrite its request block from another vCPU
 * while we run it, so every header, request and array entry is copied into
 * host memory once and only the copy is validated and used. Guest buffers
 * are reached only through pvmem_guest_buf(), which also demands that they
 * lie in frames the guest holds: writing results into a FREE (possibly
 * discarded) frame would un-release its backing and break "discarded reads
 * as zero".
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/pvmem.h"
#include "devices/pvmem_contig.h"
#include "devices/pvmem_ring.h"
#include "mm/fmt.h"
#include "vmm/stat_fields.h"
#include "vmm/zero_pages.h"

_Static_assert(sizeof(struct pvmem_req) == 64, "pvmem_req is 64 bytes");
_Static_assert(sizeof(struct pvmem_block_hdr) == 64, "header is 64 bytes");
_Static_assert(sizeof(struct pvmem_block) <= PVMEM_BLOCK_SIZE,
	       "a block fits one page");
_Static_assert(PVMEM_NR_ORDERS == NR_PAGE_ORDERS, "ABI and mm agree on orders");
_Static_assert((int)PVMEM_NR_FRAME_STATES == (int)FRAME_NR_STATES &&
		       (int)PVMEM_FRAME_RESERVED == (int)FRAME_RESERVED,
	       "ABI and mm agree on frame states");
_Static_assert(PVMEM_NR_ZONES == MM_NR_ZONES, "ABI and mm agree on zones");
_Static_assert(PVMEM_GFP_ALLOWED ==
		       (GFP_VALID_MASK & ~(__GFP_MEMALLOC | __GFP_NOFAIL)),
	       "guest gfp mask");

_Static_assert(PVMEM_EPERM == -EPERM && PVMEM_ENOENT == -ENOENT &&
		       PVMEM_E2BIG == -E2BIG && PVMEM_ENOMEM == -ENOMEM &&
		       PVMEM_EFAULT == -EFAULT && PVMEM_EINVAL == -EINVAL &&
		       PVMEM_ENOSPC == -ENOSPC && PVMEM_ERANGE == -ERANGE &&
		       PVMEM_ENOSYS == -ENOSYS && PVMEM_EPROTO == -EPROTO &&
		       PVMEM_EDQUOT == -EDQUOT,
	       "ABI status values are Linux errnos");
_Static_assert(PVMEM_EAGAIN == -EAGAIN && PVMEM_EBUSY == -EBUSY &&
		       PVMEM_EADDRNOTAVAIL == -EADDRNOTAVAIL,
	       "ABI 1.2 status values are Linux errnos");

/*
 * One DMA buffer: a buddy block, or (contig) a run of pageblocks from
 * pvmem_contig. The registry is sorted by pfn; buffers never overlap.
 */
struct pvmem_dma_map {
	uint64_t pfn;
	uint32_t nr; /* frames */
	uint16_t device_id;
	uint8_t order; /* buddy block: nr == 1 << order */
	bool contig;
};

/*
 * The registry's room for every mapping a guest may make (64 KiB):
 * zero_pages_alloc()'d, so only the pages of the entries in use are
 * resident.
 */
#define DMA_TABLE_BYTES (PVMEM_MAX_DMA_MAPPINGS * sizeof(struct pvmem_dma_map))

struct pvmem {
	struct frame_db *fdb;
	struct mm *mm;
	const struct guest_mem *mem;
	unsigned report_order;
	struct pvmem_migrate *mig;
	unsigned mig_timeout_ms;
	struct pvmem_contig *contig;	      /* DMA_ALLOC above 4 MiB */
	struct pvmem_rings *rings;	      /* page rings (ABI 1.3) */
	atomic_uint_fast64_t dma_fail_logged; /* rate limit of the log */

	/* Page limit: tot_pages is charged before allocating (see quota). */
	atomic_uint_fast64_t max_pages, tot_pages;

	/*
	 * dma_lock is held for writing across every change of the registry
	 * together with the frame state change it records, and for reading by
	 * FREE (which must not free a DMA block behind the registry's back)
	 * and by pvmem_dma_contains().
	 */
	pthread_rwlock_t dma_lock;
	struct pvmem_dma_map *dma; /* PVMEM_MAX_DMA_MAPPINGS entries */
	unsigned nr_dma;
	uint64_t dma_pages;

	atomic_uint_fast64_t doorbells, bad_blocks, edquot, reported;
	atomic_uint_fast64_t free_waits;
	atomic_uint_fast64_t pages_granted, pages_freed, blocks_split;
	atomic_uint_fast64_t op_ok[PVMEM_OP_MAX + 1], op_err[PVMEM_OP_MAX + 1];
};

/* The host-written tail of struct pvmem_req, stored in one copy. */
struct pvmem_res {
	int32_t status;
	uint32_t done;
	uint64_t result;
	uint64_t reserved1;
};

_Static_assert(offsetof(struct pvmem_req, status) + sizeof(struct pvmem_res) ==
		       sizeof(struct pvmem_req),
	       "result tail layout");

/* Per doorbell. */
struct pvmem_batch {
	bool freed;
};

static uint64_t pvmem_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void pvmem_count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t pvmem_read(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Guest memory ---------------------------------------------------------- */

static bool pvmem_frame_held(const struct page *pg)
{
	uint8_t state = __atomic_load_n(&pg->state, __ATOMIC_RELAXED);

	return state == FRAME_GUEST || state == FRAME_DMA ||
	       state == FRAME_RESERVED;
}

/*
 * The host address of a guest buffer [gpa, gpa + len), or NULL when any of
 * it is outside RAM or in a frame the guest does not hold (FREE, BALLOON).
 */
static void *pvmem_guest_buf(struct pvmem *p, uint64_t gpa, uint64_t len)
{
	void *ptr = guest_mem_ptr(p->mem, gpa, len);
	uint64_t last;

	if (!ptr)
		return NULL;
	last = MM_ADDR_TO_PFN(gpa + len - 1);
	for (uint64_t pfn = MM_ADDR_TO_PFN(gpa); pfn <= last; pfn++) {
		const struct page *pg = mm_pfn_to_page(p->mm, pfn);

		if (!pg || !pvmem_frame_held(pg))
			return NULL;
	}
	return ptr;
}

/* Page limit ------------------------------------------------------------- */

/*
 * Charge up to @count blocks of @order to tot_pages without passing
 * max_pages; return how many were charged. Charging before allocating keeps
 * concurrent vCPUs from overshooting the limit together.
 */
static unsigned pvmem_quota_take(struct pvmem *p, unsigned count,
				 unsigned order)
{
	uint64_t tot = atomic_load(&p->tot_pages);
	uint64_t max, room, n;

	do {
		max = atomic_load(&p->max_pages);
		room = tot < max ? max - tot : 0;
		n = pvmem_min((uint64_t)count, room >> order);
		if (n == 0)
			return 0;
	} while (!atomic_compare_exchange_weak(&p->tot_pages, &tot,
					       tot + (n << order)));
	return (unsigned)n;
}

static void pvmem_quota_give(struct pvmem *p, uint64_t pages)
{
	atomic_fetch_sub(&p->tot_pages, pages);
}

unsigned pvmem_charge(struct pvmem *p, unsigned count)
{
	return pvmem_quota_take(p, count, 0);
}

/* All @nr frames (a power of two, or whole pageblocks) or none. */
static bool pvmem_quota_take_frames(struct pvmem *p, uint64_t nr)
{
	unsigned order = nr % PAGEBLOCK_NR_PAGES ? (unsigned)__builtin_ctzll(nr)
						 : PAGEBLOCK_ORDER;
	unsigned want = (unsigned)(nr >> order);
	unsigned got = pvmem_quota_take(p, want, order);

	if (got == want)
		return true;
	pvmem_quota_give(p, (uint64_t)got << order);
	return false;
}

bool pvmem_charge_frames(struct pvmem *p, uint64_t nr)
{
	return pvmem_quota_take_frames(p, nr);
}

/* DMA registry (caller holds dma_lock) ------------------------------------ */

/* Index of the first mapping with pfn >= @pfn. */
static unsigned pvmem_dma_lower_bound(const struct pvmem *p, uint64_t pfn)
{
	unsigned lo = 0, hi = p->nr_dma;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (p->dma[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void pvmem_dma_insert(struct pvmem *p, struct pvmem_dma_map m)
{
	unsigned i = pvmem_dma_lower_bound(p, m.pfn);

	memmove(&p->dma[i + 1], &p->dma[i], (p->nr_dma - i) * sizeof(*p->dma));
	p->dma[i] = m;
	p->nr_dma++;
	p->dma_pages += m.nr;
}

static void pvmem_dma_remove(struct pvmem *p, unsigned i)
{
	p->dma_pages -= p->dma[i].nr;
	p->nr_dma--;
	memmove(&p->dma[i], &p->dma[i + 1], (p->nr_dma - i) * sizeof(*p->dma));
}

/* Allocate a block below 2^dma_bits, make it FRAME_DMA of @dev, record it. */
static int pvmem_dma_map_new(struct pvmem *p, gfp_t gfp, unsigned order,
			     unsigned dma_bits, uint32_t dev, uint64_t *pfn)
{
	int err;

	if (p->nr_dma == PVMEM_MAX_DMA_MAPPINGS)
		return -ENOSPC;
	/* 64 bits cover everything; do not make mm shift by 64. */
	if (dma_bits >= 64)
		err = mm_alloc_pages(p->mm, gfp, order, pfn);
	else
		err = mm_alloc_pages_bits(p->mm, gfp, order, dma_bits, pfn);
	if (err)
		return err;
	err = mm_set_frames_state(p->mm, *pfn, 1ull << order, FRAME_GUEST,
				  FRAME_DMA, dev);
	if (err) {
		mm_free_pages(p->mm, *pfn, order);
		return err;
	}
	pvmem_dma_insert(p, (struct pvmem_dma_map){.pfn = *pfn,
						   .nr = 1u << order,
						   .device_id = (uint16_t)dev,
						   .order = (uint8_t)order});
	return 0;
}

/*
 * Above one buddy block (or when the buddy has no block of a pageblock
 * order or more): a range of whole pageblocks from pvmem_contig.
 */
static int pvmem_dma_map_contig(struct pvmem *p, gfp_t gfp, uint64_t nr,
				unsigned dma_bits, uint32_t dev, uint64_t *pfn,
				unsigned *posted)
{
	bool cma;
	int err;

	if (p->nr_dma == PVMEM_MAX_DMA_MAPPINGS)
		return -ENOSPC;
	err = pvmem_contig_alloc(p->contig, nr, dma_bits, gfp, dev, pfn, &cma,
				 posted);
	if (err)
		return err;
	pvmem_dma_insert(p, (struct pvmem_dma_map){.pfn = *pfn,
						   .nr = (uint32_t)nr,
						   .device_id = (uint16_t)dev,
						   .contig = true});
	return 0;
}

/* Ops -------------------------------------------------------------------- */

/* Request fields an op reads; the others must be zero. */
enum {
	F_ORDER = 1 << 0,
	F_DMA_BITS = 1 << 1,
	F_GFP = 1 << 2,
	F_COUNT = 1 << 3,
	F_DEVICE = 1 << 4,
	F_ADDR = 1 << 5,
	F_SIZE = 1 << 6,
};

static bool pvmem_unused_fields_zero(const struct pvmem_req *r, unsigned used)
{
	return !((!(used & F_ORDER) && r->order) ||
		 (!(used & F_DMA_BITS) && r->dma_bits) ||
		 (!(used & F_GFP) && r->gfp) ||
		 (!(used & F_COUNT) && r->count) ||
		 (!(used & F_DEVICE) && r->device_id) ||
		 (!(used & F_ADDR) && r->addr) ||
		 (!(used & F_SIZE) && r->size) || r->reserved0);
}

static int pvmem_check_count(uint32_t count)
{
	if (count == 0)
		return -EINVAL;
	return count > PVMEM_MAX_COUNT ? -E2BIG : 0;
}

#define PVMEM_ALLOC_CHUNK 64u

/*
 * Allocate @n blocks into the guest array @out; return how many. Movable
 * blocks of a guest that can move them get its owner (from our copy of the
 * pfns: the guest may rewrite its array meanwhile).
 */
static unsigned pvmem_alloc_into(struct pvmem *p, gfp_t gfp, unsigned order,
				 unsigned n, uint8_t *out)
{
	uint64_t pfns[PVMEM_ALLOC_CHUNK];
	unsigned done = 0;

	while (done < n) {
		unsigned want =
			(unsigned)pvmem_min(PVMEM_ALLOC_CHUNK, n - done);
		int got = mm_alloc_bulk(p->mm, gfp, order, want, pfns);

		if (got <= 0)
			break;
		if (gfp & __GFP_MOVABLE)
			pvmem_migrate_adopt(p->mig, pfns, (unsigned)got, order);
		memcpy(out + done * sizeof(uint64_t), pfns,
		       (size_t)got * sizeof(uint64_t));
		done += (unsigned)got;
		if ((unsigned)got < want)
			break;
	}
	return done;
}

static void pvmem_op_alloc(struct pvmem *p, const struct pvmem_req *req,
			   struct pvmem_res *res, struct pvmem_batch *b)
{
	unsigned granted, done;
	uint8_t *out;

	res->status = pvmem_check_count(req->count);
	if (res->status)
		return;
	if (req->order >= NR_PAGE_ORDERS || req->gfp & ~PVMEM_GFP_ALLOWED) {
		res->status = -EINVAL;
		return;
	}
	out = pvmem_guest_buf(p, req->addr, req->count * sizeof(uint64_t));
	if (!out) {
		res->status = -EFAULT;
		return;
	}
	granted = pvmem_quota_take(p, req->count, req->order);
	done = pvmem_alloc_into(p, req->gfp, req->order, granted, out);
	pvmem_quota_give(p, (uint64_t)(granted - done) << req->order);
	/*
	 * Short: the page rings' frames come back first (drain on demand),
	 * unless the guest asked to fail fast (__GFP_NORETRY: a balloon
	 * trying for whole 2 MiB blocks, which then takes single pages;
	 * emptying every vCPU's supply would cost each a kick for nothing).
	 */
	if (done < req->count && !(req->gfp & __GFP_NORETRY) &&
	    pvmem_rings_reclaim(p->rings)) {
		unsigned more =
			pvmem_quota_take(p, req->count - done, req->order);
		unsigned got = pvmem_alloc_into(p, req->gfp, req->order, more,
						out + done * sizeof(uint64_t));

		pvmem_quota_give(p, (uint64_t)(more - got) << req->order);
		granted = done + more;
		done += got;
	}
	pvmem_count(&p->pages_granted, (uint64_t)done << req->order);
	res->done = done;
	if (done < granted)
		res->status = -ENOMEM;
	else if (done < req->count)
		res->status = -EDQUOT;
}

/*
 * A block on its way elsewhere: the guest let go first, so cancel its
 * migration request. Compaction isolates a block before it posts the
 * request (another thread, microseconds apart); a FREE that lands between
 * the two finds nothing to cancel yet, and mm_free_pages() would refuse the
 * isolated block with -EBUSY although the guest holds it. So wait until the
 * request is posted (then cancel it) or the isolation ends. The isolating
 * thread waits on nothing of the guest's, so this ends; the bound only keeps
 * a vCPU from spinning forever on a bug (then the FREE answers -EBUSY).
 */
#define PVMEM_FREE_ISOLATION_WAIT_NS 1000000000ull

static uint64_t pvmem_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pvmem_free_wait_isolation(struct pvmem *p, const struct page *pg,
				      const struct pvmem_free_ent *e)
{
	uint8_t flags = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	uint64_t pfn = e->pfn, deadline;

	/*
	 * Only an entry that names the isolated block itself (its head, its
	 * order) can be freed once the request is posted. The frames of an
	 * isolated block are all marked, and a request is found by its head:
	 * a tail frame or another order would find nothing to cancel and
	 * spin the vCPU for the whole bound, a second a guest could ask for
	 * with every entry, to be refused by mm_free_pages() anyway.
	 */
	if (!(flags & PG_ISOLATED) || !(flags & PG_HEAD) ||
	    __atomic_load_n(&pg->order, __ATOMIC_RELAXED) != e->order)
		return;
	pvmem_count(&p->free_waits, 1);
	deadline = pvmem_monotonic_ns() + PVMEM_FREE_ISOLATION_WAIT_NS;
	while (!pvmem_migrate_cancel_src(p->mig, pfn) &&
	       (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_ISOLATED) &&
	       pvmem_monotonic_ns() < deadline)
		sched_yield();
}

/*
 * Free one entry. Only FRAME_GUEST blocks: a DMA block goes back through
 * DMA_FREE so that the registry never names a freed frame. mm_free_pages()
 * refuses tails, wrong orders and anything not allocated.
 * Caller holds dma_lock for reading.
 */
static int pvmem_free_one(struct pvmem *p, const struct pvmem_free_ent *e)
{
	const struct page *pg;
	int err;

	if (e->order >= NR_PAGE_ORDERS || e->reserved)
		return -EINVAL;
	pg = mm_pfn_to_page(p->mm, e->pfn);
	if (!pg)
		return -ERANGE;
	if (__atomic_load_n(&pg->state, __ATOMIC_RELAXED) != FRAME_GUEST)
		return -EPERM;
	/*
	 * The target of a posted move is GUEST but mm/'s until the move
	 * commits (mm/migrate.c): the guest names it only by reading the ring,
	 * and no request has it as its source, so waiting would spin the whole
	 * bound.
	 */
	if (__atomic_load_n(&pg->owner, __ATOMIC_RELAXED) == MM_OWNER_TARGET)
		return -EPERM;
	/* Still offered in a page ring: not the guest's to give back. */
	if (pvmem_rings_holds(p->rings, e->pfn))
		return -EPERM;
	pvmem_free_wait_isolation(p, pg, e);
	err = mm_free_pages(p->mm, e->pfn, e->order);
	if (err)
		return err;
	pvmem_quota_give(p, 1ull << e->order);
	pvmem_count(&p->pages_freed, 1ull << e->order);
	return 0;
}

unsigned pvmem_free_frames(struct pvmem *p, const uint64_t *pfns, unsigned n,
			   int *status)
{
	unsigned freed = 0;

	pthread_rwlock_rdlock(&p->dma_lock);
	for (unsigned i = 0; i < n; i++) {
		struct pvmem_free_ent e = {.pfn = pfns[i]};

		status[i] = pvmem_free_one(p, &e);
		freed += !status[i];
	}
	pthread_rwlock_unlock(&p->dma_lock);
	if (freed && p->report_order < NR_PAGE_ORDERS)
		pvmem_count(&p->reported,
			    mm_report_free(p->mm, p->report_order));
	return freed;
}

void pvmem_block_frees(struct pvmem *p)
{
	pthread_rwlock_wrlock(&p->dma_lock);
}

void pvmem_unblock_frees(struct pvmem *p)
{
	pthread_rwlock_unlock(&p->dma_lock);
}

/* Entries are freed in order; the first bad one stops the request. */
static void pvmem_op_free(struct pvmem *p, const struct pvmem_req *req,
			  struct pvmem_res *res, struct pvmem_batch *b)
{
	const uint8_t *ents;
	unsigned i;
	int err = 0;

	res->status = pvmem_check_count(req->count);
	if (res->status)
		return;
	ents = pvmem_guest_buf(p, req->addr,
			       req->count * sizeof(struct pvmem_free_ent));
	if (!ents) {
		res->status = -EFAULT;
		return;
	}
	pthread_rwlock_rdlock(&p->dma_lock);
	for (i = 0; i < req->count; i++) {
		struct pvmem_free_ent e;

		memcpy(&e, ents + i * sizeof(e), sizeof(e));
		err = pvmem_free_one(p, &e);
		if (err)
			break;
	}
	pthread_rwlock_unlock(&p->dma_lock);
	res->status = err;
	res->done = i;
	res->result = i;
	if (i)
		b->freed = true;
}

/*
 * SPLIT (ABI 1.4): one entry. Only a FRAME_GUEST block: a DMA block's
 * registry entry records its order, and a ring's frames are pinned.
 * mm_split_block() checks, under the zone lock, that @pfn heads an
 * allocated block of exactly @order and that it is not isolated for
 * migration (a migration target the host took but has not given yet is).
 * A movable block keeps its owner on every piece, so that the host can
 * still ask the guest to move them, now one by one.
 * Caller holds dma_lock for reading: a DMA_ALLOC makes its fresh block DMA
 * under it for writing, so the guest cannot split a block between the
 * host's allocation and that state change.
 */
static int pvmem_split_one(struct pvmem *p, uint64_t pfn, unsigned order)
{
	uint64_t pfns[PVMEM_ALLOC_CHUNK];
	const struct page *pg = mm_pfn_to_page(p->mm, pfn);
	uint32_t owner;
	int err;

	if (!pg)
		return -ERANGE;
	if (__atomic_load_n(&pg->state, __ATOMIC_RELAXED) != FRAME_GUEST)
		return -EPERM;
	owner = __atomic_load_n(&pg->owner, __ATOMIC_RELAXED);
	err = mm_split_block(p->mm, pfn, order);
	if (err || !owner)
		return err;
	for (uint64_t i = 0; i < (1ull << order); i += PVMEM_ALLOC_CHUNK) {
		unsigned n = (unsigned)pvmem_min(PVMEM_ALLOC_CHUNK,
						 (1ull << order) - i);

		for (unsigned k = 0; k < n; k++)
			pfns[k] = pfn + i + k;
		pvmem_migrate_adopt(p->mig, pfns, n, 0);
	}
	return 0;
}

/* Entries are split in order; the first bad one stops the request. */
static void pvmem_op_split(struct pvmem *p, const struct pvmem_req *req,
			   struct pvmem_res *res, struct pvmem_batch *b)
{
	const uint8_t *pfns;
	unsigned i;
	int err = 0;

	res->status = pvmem_check_count(req->count);
	if (res->status)
		return;
	if (req->order == 0 || req->order >= NR_PAGE_ORDERS) {
		res->status = -EINVAL;
		return;
	}
	pfns = pvmem_guest_buf(p, req->addr, req->count * sizeof(uint64_t));
	if (!pfns) {
		res->status = -EFAULT;
		return;
	}
	pthread_rwlock_rdlock(&p->dma_lock);
	for (i = 0; i < req->count; i++) {
		uint64_t pfn;

		memcpy(&pfn, pfns + i * sizeof(pfn), sizeof(pfn));
		err = pvmem_split_one(p, pfn, req->order);
		if (err)
			break;
	}
	pthread_rwlock_unlock(&p->dma_lock);
	pvmem_count(&p->blocks_split, i);
	res->status = err;
	res->done = i;
	res->result = i;
}

static bool pvmem_device_valid(uint32_t device_id)
{
	return device_id >= 1 && device_id <= PVMEM_MAX_DEVICE_ID;
}

static int pvmem_check_dma_alloc(const struct pvmem_req *req)
{
	if (!pvmem_device_valid(req->device_id) || req->size == 0 ||
	    req->gfp & ~PVMEM_GFP_ALLOWED ||
	    req->dma_bits < PVMEM_MIN_DMA_BITS ||
	    req->dma_bits > PVMEM_MAX_DMA_BITS)
		return -EINVAL;
	if (req->size > PVMEM_MAX_DMA_BYTES)
		return -E2BIG;
	return 0;
}

/*
 * Why a DMA_ALLOC failed, on stderr: the first 8, then one in 1024 (a
 * guest retrying in a loop must not flood the log). -EAGAIN is not a
 * failure: the guest is asked to move its blocks and retry.
 */
static void pvmem_log_dma_fail(struct pvmem *p, const struct pvmem_req *req,
			       int err)
{
	static const struct {
		int err;
		const char *why;
	} whys[] = {
		{-EBUSY, "unmovable frames in every range below dma_bits "
			 "(or movable ones, and the request may not wait)"},
		{-ENOMEM, "no free block, or too few free frames to empty "
			  "a range"},
		{-EADDRNOTAVAIL, "no range that large below dma_bits"},
		{-E2BIG, "above the limit of 64 MiB"},
		{-EDQUOT, "page limit (--mem-limit) reached"},
		{-ENOSPC, "the DMA mapping table is full"},
	};
	const char *why = "bad request";
	uint64_t n;

	if (err == -EAGAIN)
		return;
	n = atomic_fetch_add(&p->dma_fail_logged, 1);
	if (n >= 8 && n % 1024)
		return;
	for (size_t i = 0; i < sizeof(whys) / sizeof(whys[0]); i++)
		if (whys[i].err == err)
			why = whys[i].why;
	fprintf(stderr,
		"vmm: pvmem: DMA_ALLOC of %llu bytes for device %u below "
		"2^%u failed: %s (%s)%s\n",
		(unsigned long long)req->size, req->device_id, req->dma_bits,
		why, strerror(-err),
		n == 7 ? "; logging one in 1024 from now on" : "");
}

/* A buddy block up to 4 MiB, else a contiguous range of pageblocks. */
static int pvmem_dma_alloc(struct pvmem *p, const struct pvmem_req *req,
			   uint64_t nr, uint64_t *pfn, unsigned *posted)
{
	unsigned order = mm_get_order(req->size);
	int err = -ENOMEM;

	if (order <= MAX_PAGE_ORDER)
		err = pvmem_dma_map_new(p, req->gfp, order, req->dma_bits,
					req->device_id, pfn);
	/* Up to 4 MiB, only a request that may wait empties a range. */
	if (order > MAX_PAGE_ORDER ||
	    (err == -ENOMEM && order >= PAGEBLOCK_ORDER &&
	     (req->gfp & __GFP_DIRECT_RECLAIM)))
		err = pvmem_dma_map_contig(p, req->gfp, nr, req->dma_bits,
					   req->device_id, pfn, posted);
	return err;
}

static void pvmem_op_dma_alloc(struct pvmem *p, const struct pvmem_req *req,
			       struct pvmem_res *res, struct pvmem_batch *b)
{
	unsigned order, posted = 0;
	uint64_t pfn, nr;

	res->status = pvmem_check_dma_alloc(req);
	if (res->status) {
		pvmem_log_dma_fail(p, req, res->status);
		return;
	}
	/* A buddy block up to 4 MiB; beyond, whole pageblocks. */
	order = mm_get_order(req->size);
	nr = order <= MAX_PAGE_ORDER
		     ? 1ull << order
		     : (req->size + (PAGE_SIZE << PAGEBLOCK_ORDER) -
			1) >> (PAGE_SHIFT + PAGEBLOCK_ORDER) << PAGEBLOCK_ORDER;
	if (!pvmem_quota_take_frames(p, nr) &&
	    (!pvmem_rings_reclaim(p->rings) ||
	     !pvmem_quota_take_frames(p, nr))) {
		res->status = -EDQUOT;
		pvmem_log_dma_fail(p, req, res->status);
		return;
	}
	/* Ring frames are pinned: out of the way of a range of pageblocks. */
	if (nr >= PAGEBLOCK_NR_PAGES)
		pvmem_rings_hold(p->rings);
	pthread_rwlock_wrlock(&p->dma_lock);
	res->status = pvmem_dma_alloc(p, req, nr, &pfn, &posted);
	pthread_rwlock_unlock(&p->dma_lock);
	if (nr >= PAGEBLOCK_NR_PAGES)
		pvmem_rings_unhold(p->rings);
	/* A small block: the rings may hold the last free frames. */
	if (res->status == -ENOMEM && nr < PAGEBLOCK_NR_PAGES &&
	    pvmem_rings_reclaim(p->rings)) {
		pthread_rwlock_wrlock(&p->dma_lock);
		res->status = pvmem_dma_alloc(p, req, nr, &pfn, &posted);
		pthread_rwlock_unlock(&p->dma_lock);
	}
	if (res->status) {
		pvmem_quota_give(p, nr);
		res->result = posted;
		pvmem_log_dma_fail(p, req, res->status);
		return;
	}
	pvmem_count(&p->pages_granted, nr);
	res->done = (uint32_t)nr;
	res->result = MM_PFN_TO_ADDR(pfn);
}

/* Unmap and free DMA block @i of the registry (dma_lock held for writing). */
static int pvmem_dma_unmap(struct pvmem *p, unsigned i)
{
	struct pvmem_dma_map m = p->dma[i];
	int err = m.contig ? pvmem_contig_free(p->contig, m.pfn, m.nr)
			   : mm_free_pages(p->mm, m.pfn, m.order);

	if (err)
		return err;
	pvmem_dma_remove(p, i);
	pvmem_quota_give(p, m.nr);
	pvmem_count(&p->pages_freed, m.nr);
	return 0;
}

static int pvmem_dma_free(struct pvmem *p, uint32_t dev, uint64_t gpa)
{
	uint64_t pfn = MM_ADDR_TO_PFN(gpa);
	unsigned i;
	int err;

	if (!pvmem_device_valid(dev) || gpa & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!mm_pfn_to_page(p->mm, pfn))
		return -ERANGE;
	pthread_rwlock_wrlock(&p->dma_lock);
	i = pvmem_dma_lower_bound(p, pfn);
	if (i == p->nr_dma || p->dma[i].pfn != pfn)
		err = -ENOENT;
	else if (p->dma[i].device_id != dev)
		err = -EPERM;
	else
		err = pvmem_dma_unmap(p, i);
	pthread_rwlock_unlock(&p->dma_lock);
	return err;
}

static void pvmem_op_dma_free(struct pvmem *p, const struct pvmem_req *req,
			      struct pvmem_res *res, struct pvmem_batch *b)
{
	res->status = pvmem_dma_free(p, req->device_id, req->addr);
	if (!res->status) {
		res->done = 1;
		b->freed = true;
	}
}

/* Copy @src (host) to the guest buffer of @req: at most req->size bytes. */
static void pvmem_put_struct(struct pvmem *p, const struct pvmem_req *req,
			     struct pvmem_res *res, const void *src, size_t len)
{
	uint64_t n = pvmem_min(req->size, (uint64_t)len);
	void *dst;

	if (n == 0) {
		res->status = -EINVAL;
		return;
	}
	dst = pvmem_guest_buf(p, req->addr, n);
	if (!dst) {
		res->status = -EFAULT;
		return;
	}
	memcpy(dst, src, n);
	res->done = (uint32_t)n;
}

static void pvmem_op_info(struct pvmem *p, const struct pvmem_req *req,
			  struct pvmem_res *res, struct pvmem_batch *b)
{
	struct pvmem_info info = {
		.abi_major = PVMEM_ABI_MAJOR,
		.abi_minor = PVMEM_ABI_MINOR,
		.max_reqs = PVMEM_MAX_REQS,
		.max_count = PVMEM_MAX_COUNT,
		.max_order = PVMEM_NR_ORDERS,
		.gfp_allowed = PVMEM_GFP_ALLOWED,
		.max_device_id = PVMEM_MAX_DEVICE_ID,
		.page_size = PAGE_SIZE,
		.ram_pages = frame_db_ram_pages(p->fdb),
		.max_pages = pvmem_max_pages(p),
		.features = PVMEM_F_MIGRATE | PVMEM_F_CONTIG_DMA |
			    PVMEM_F_RINGS | PVMEM_F_SPLIT,
		.mig_slots = PVMEM_MIG_SLOTS,
		.mig_timeout_ms = p->mig_timeout_ms,
		.max_dma_bytes = PVMEM_MAX_DMA_BYTES,
		.max_rings = PVMEM_MAX_RINGS,
		.ring_bytes = PVMEM_RING_BYTES,
	};

	pvmem_put_struct(p, req, res, &info, sizeof(info));
}

static void pvmem_fill_stats(struct pvmem *p, struct pvmem_stats *st)
{
	struct mm_stats ms;
	struct mm_zone_info zi;

	mm_get_stats(p->mm, &ms);
	memset(st, 0, sizeof(*st));
	for (unsigned s = 0; s < PVMEM_NR_FRAME_STATES; s++)
		st->frames[s] = ms.frames[s];
	for (unsigned z = 0; z < PVMEM_NR_ZONES; z++)
		if (mm_zone_info(p->mm, z, &zi) == 0 && zi.populated) {
			st->free_per_zone[z] = zi.free;
			for (unsigned o = 0; o < PVMEM_NR_ORDERS; o++)
				st->nr_free[z][o] = zi.nr_free[o];
		}
	st->ram_pages = ms.total;
	st->max_pages = pvmem_max_pages(p);
	st->tot_pages = pvmem_tot_pages(p);
	st->discarded = ms.discarded;
	st->pcp_frames = ms.pcp_frames;
}

static void pvmem_op_stats(struct pvmem *p, const struct pvmem_req *req,
			   struct pvmem_res *res, struct pvmem_batch *b)
{
	struct pvmem_stats st;

	pvmem_fill_stats(p, &st);
	pvmem_put_struct(p, req, res, &st, sizeof(st));
}

/* Migration (ABI 1.1, devices/pvmem_migrate.c) ---------------------------- */

static void pvmem_op_migrate_setup(struct pvmem *p, const struct pvmem_req *req,
				   struct pvmem_res *res, struct pvmem_batch *b)
{
	uint64_t gpa;
	uint32_t slots;

	res->status = pvmem_migrate_setup(p->mig, &gpa, &slots);
	if (!res->status) {
		res->result = gpa;
		res->done = slots;
	}
}

/* Answers are copied in, run, and their statuses written back. */
static void pvmem_op_migrate_answer(struct pvmem *p,
				    const struct pvmem_req *req,
				    struct pvmem_res *res,
				    struct pvmem_batch *b)
{
	struct pvmem_mig_ans ans[64];
	uint8_t *g;
	unsigned done = 0;

	res->status = pvmem_check_count(req->count);
	if (res->status)
		return;
	g = pvmem_guest_buf(p, req->addr, req->count * sizeof(ans[0]));
	if (!g) {
		res->status = -EFAULT;
		return;
	}
	for (unsigned i = 0; i < req->count; i += 64) {
		unsigned n = (unsigned)pvmem_min(64, req->count - i);

		memcpy(ans, g + i * sizeof(ans[0]), n * sizeof(ans[0]));
		done += pvmem_migrate_answer(p->mig, ans, n);
		for (unsigned k = 0; k < n; k++)
			memcpy(g + (i + k) * sizeof(ans[0]) +
				       offsetof(struct pvmem_mig_ans, status),
			       &ans[k].status, sizeof(ans[k].status));
		for (unsigned k = 0; k < n && !res->status; k++)
			res->status = ans[k].status;
	}
	res->done = done;
	if (done)
		b->freed = true;
}

static void pvmem_op_compact(struct pvmem *p, const struct pvmem_req *req,
			     struct pvmem_res *res, struct pvmem_batch *b)
{
	uint64_t start = MM_ADDR_TO_PFN(req->addr), end;
	unsigned posted, busy;

	if ((req->addr | req->size) & (PAGE_SIZE - 1)) {
		res->status = -EINVAL;
		return;
	}
	end = req->size ? start + MM_ADDR_TO_PFN(req->size) : UINT64_MAX;
	if (end < start) {
		res->status = -EINVAL;
		return;
	}
	/* Ring frames are pinned GUEST frames: give them back first. */
	pvmem_rings_reclaim(p->rings);
	res->status =
		pvmem_migrate_compact_range(p->mig, start, end, &posted, &busy);
	res->done = posted;
	res->result = busy;
}

/* Page rings (ABI 1.3, devices/pvmem_ring.c) ----------------------------- */

static void pvmem_op_ring_setup(struct pvmem *p, const struct pvmem_req *req,
				struct pvmem_res *res, struct pvmem_batch *b)
{
	uint64_t gpas[PVMEM_MAX_RINGS];
	uint8_t *out;

	res->status = req->count > PVMEM_MAX_RINGS ? -E2BIG
		      : req->count == 0		   ? -EINVAL
						   : 0;
	if (res->status)
		return;
	out = pvmem_guest_buf(p, req->addr, req->count * sizeof(uint64_t));
	if (!out) {
		res->status = -EFAULT;
		return;
	}
	res->status = pvmem_rings_setup(p->rings, req->count, gpas);
	if (res->status)
		return;
	memcpy(out, gpas, req->count * sizeof(uint64_t));
	res->done = req->count;
}

struct pvmem_op_desc {
	void (*run)(struct pvmem *p, const struct pvmem_req *req,
		    struct pvmem_res *res, struct pvmem_batch *b);
	unsigned fields; /* F_* the op reads */
	const char *name;
};

static const struct pvmem_op_desc pvmem_ops[PVMEM_OP_MAX + 1] = {
	[PVMEM_OP_INFO] = {pvmem_op_info, F_ADDR | F_SIZE, "info"},
	[PVMEM_OP_ALLOC] = {pvmem_op_alloc, F_ORDER | F_GFP | F_COUNT | F_ADDR,
			    "alloc"},
	[PVMEM_OP_FREE] = {pvmem_op_free, F_COUNT | F_ADDR, "free"},
	[PVMEM_OP_DMA_ALLOC] = {pvmem_op_dma_alloc,
				F_DMA_BITS | F_GFP | F_DEVICE | F_SIZE,
				"dma_alloc"},
	[PVMEM_OP_DMA_FREE] = {pvmem_op_dma_free, F_DEVICE | F_ADDR,
			       "dma_free"},
	[PVMEM_OP_STATS] = {pvmem_op_stats, F_ADDR | F_SIZE, "stats"},
	[PVMEM_OP_MIGRATE_SETUP] = {pvmem_op_migrate_setup, 0, "migrate_setup"},
	[PVMEM_OP_MIGRATE_ANSWER] = {pvmem_op_migrate_answer, F_COUNT | F_ADDR,
				     "migrate_answer"},
	[PVMEM_OP_COMPACT] = {pvmem_op_compact, F_ADDR | F_SIZE, "compact"},
	[PVMEM_OP_RING_SETUP] = {pvmem_op_ring_setup, F_COUNT | F_ADDR,
				 "ring_setup"},
	[PVMEM_OP_SPLIT] = {pvmem_op_split, F_ORDER | F_COUNT | F_ADDR,
			    "split"},
};

const char *pvmem_op_name(unsigned op)
{
	if (op > PVMEM_OP_MAX || !pvmem_ops[op].run)
		return "unknown";
	return pvmem_ops[op].name;
}

/* Doorbell --------------------------------------------------------------- */

static void pvmem_run_req(struct pvmem *p, struct pvmem_req *greq,
			  struct pvmem_batch *b)
{
	struct pvmem_res res = {0};
	struct pvmem_req req;
	unsigned op;

	/* From here on only the copy counts: the guest may rewrite greq. */
	memcpy(&req, greq, sizeof(req));
	op = req.op <= PVMEM_OP_MAX && pvmem_ops[req.op].run ? req.op : 0;
	if (!op)
		res.status = -ENOSYS;
	else if (!pvmem_unused_fields_zero(&req, pvmem_ops[op].fields))
		res.status = -EINVAL;
	else
		pvmem_ops[op].run(p, &req, &res, b);
	pvmem_count(res.status ? &p->op_err[op] : &p->op_ok[op], 1);
	if (res.status == -EDQUOT)
		pvmem_count(&p->edquot, 1);
	memcpy(&greq->status, &res, sizeof(res));
}

static int pvmem_check_hdr(const struct pvmem_block_hdr *hdr)
{
	if (hdr->magic != PVMEM_MAGIC || hdr->abi_major != PVMEM_ABI_MAJOR)
		return -EPROTO;
	if (hdr->nr_reqs == 0 || hdr->flags)
		return -EINVAL;
	return hdr->nr_reqs > PVMEM_MAX_REQS ? -E2BIG : 0;
}

static void pvmem_put_hdr(struct pvmem *p, struct pvmem_block_hdr *ghdr,
			  int status, uint32_t nr_done)
{
	ghdr->status = status;
	ghdr->nr_done = nr_done;
	ghdr->mig_pending = pvmem_migrate_pending(p->mig);
}

int pvmem_doorbell(struct pvmem *p, uint64_t block_gpa)
{
	struct pvmem_batch b = {0};
	struct pvmem_block_hdr hdr;
	struct pvmem_block *blk;
	int err;

	pvmem_count(&p->doorbells, 1);
	blk = block_gpa & (PVMEM_BLOCK_SIZE - 1)
		      ? NULL
		      : pvmem_guest_buf(p, block_gpa, sizeof(*blk));
	if (!blk) {
		pvmem_count(&p->bad_blocks, 1);
		return -EFAULT;
	}
	/* Guests that never ring again still time out on the timer thread. */
	pvmem_migrate_expire(p->mig);
	memcpy(&hdr, &blk->hdr, sizeof(hdr));
	err = pvmem_check_hdr(&hdr);
	if (err) {
		pvmem_count(&p->bad_blocks, 1);
		pvmem_put_hdr(p, &blk->hdr, err, 0);
		return err;
	}
	for (unsigned i = 0; i < hdr.nr_reqs; i++)
		pvmem_run_req(p, &blk->reqs[i], &b);
	/* One report per batch, not per free: it walks the free lists. */
	if (b.freed && p->report_order < NR_PAGE_ORDERS)
		pvmem_count(&p->reported,
			    mm_report_free(p->mm, p->report_order));
	pvmem_put_hdr(p, &blk->hdr, 0, hdr.nr_reqs);
	return 0;
}

int pvmem_pio_handler(void *opaque, uint64_t offset, void *data, unsigned len,
		      bool is_write)
{
	uint32_t v;

	if (offset == PVMEM_KICK_OFFSET && len == 4 && is_write) {
		memcpy(&v, data, sizeof(v));
		return pvmem_rings_kick(((struct pvmem *)opaque)->rings, v);
	}
	if (offset != 0 || len != 4)
		return -EINVAL;
	if (!is_write) {
		v = PVMEM_MAGIC;
		memcpy(data, &v, sizeof(v));
		return 0;
	}
	memcpy(&v, data, sizeof(v));
	return pvmem_doorbell(opaque, MM_PFN_TO_ADDR(v));
}

/* Host API --------------------------------------------------------------- */

int pvmem_create(struct pvmem **out, struct frame_db *fdb,
		 const struct pvmem_config *cfg)
{
	static const struct pvmem_config defaults;
	struct pvmem *p;

	if (!cfg)
		cfg = &defaults;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dma = zero_pages_alloc(DMA_TABLE_BYTES);
	if (!p->dma || pthread_rwlock_init(&p->dma_lock, NULL)) {
		zero_pages_free(p->dma, DMA_TABLE_BYTES);
		free(p);
		return -ENOMEM;
	}
	p->fdb = fdb;
	p->mm = frame_db_mm(fdb);
	p->mem = frame_db_guest_mem(fdb);
	p->report_order = cfg->report_order ? cfg->report_order
					    : PVMEM_DEFAULT_REPORT_ORDER;
	atomic_init(&p->max_pages,
		    cfg->max_pages ? cfg->max_pages : frame_db_ram_pages(fdb));
	p->mig_timeout_ms = cfg->mig.timeout_ms ? cfg->mig.timeout_ms
						: PVMEM_MIG_DEFAULT_TIMEOUT_MS;
	if (pvmem_migrate_create(&p->mig, p, p->mm, p->mem, &cfg->mig) ||
	    pvmem_contig_create(&p->contig, p->mm, p->mem, p->mig) ||
	    pvmem_rings_create(&p->rings, p, p->mm, p->mem, &cfg->rings)) {
		pvmem_contig_destroy(p->contig);
		pvmem_migrate_destroy(p->mig);
		pthread_rwlock_destroy(&p->dma_lock);
		zero_pages_free(p->dma, DMA_TABLE_BYTES);
		free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void pvmem_destroy(struct pvmem *p)
{
	if (!p)
		return;
	pvmem_rings_destroy(p->rings);
	pvmem_migrate_destroy(p->mig);
	pvmem_contig_destroy(p->contig);
	pthread_rwlock_destroy(&p->dma_lock);
	zero_pages_free(p->dma, DMA_TABLE_BYTES);
	free(p);
}

/* Does mapping @m belong to @dev and contain @pfn? */
static bool pvmem_dma_map_has(const struct pvmem_dma_map *m, uint32_t dev,
			      uint64_t pfn)
{
	return m->device_id == dev && pfn >= m->pfn && pfn < m->pfn + m->nr;
}

bool pvmem_dma_contains(struct pvmem *p, uint32_t device_id, uint64_t gpa,
			uint64_t len)
{
	uint64_t end, pfn, last;
	bool ok = false;
	unsigned i;

	if (len == 0 || __builtin_add_overflow(gpa, len - 1, &end))
		return false;
	pfn = MM_ADDR_TO_PFN(gpa);
	last = MM_ADDR_TO_PFN(end);
	pthread_rwlock_rdlock(&p->dma_lock);
	/* The candidate is the last mapping starting at or below pfn. */
	i = pvmem_dma_lower_bound(p, pfn + 1);
	if (i > 0) {
		i--;
		/* Walk blocks of the same device that follow without a gap. */
		while (i < p->nr_dma &&
		       pvmem_dma_map_has(&p->dma[i], device_id, pfn)) {
			pfn = p->dma[i].pfn + p->dma[i].nr;
			if (pfn > last) {
				ok = true;
				break;
			}
			i++;
		}
	}
	pthread_rwlock_unlock(&p->dma_lock);
	return ok;
}

uint64_t pvmem_dma_device_pages(struct pvmem *p, uint32_t device_id)
{
	uint64_t nr = 0;

	pthread_rwlock_rdlock(&p->dma_lock);
	for (unsigned i = 0; i < p->nr_dma; i++)
		if (p->dma[i].device_id == device_id)
			nr += p->dma[i].nr;
	pthread_rwlock_unlock(&p->dma_lock);
	return nr;
}

unsigned pvmem_dma_release_device(struct pvmem *p, uint32_t device_id)
{
	unsigned i = 0, freed = 0;

	pthread_rwlock_wrlock(&p->dma_lock);
	while (i < p->nr_dma) {
		if (p->dma[i].device_id == device_id &&
		    pvmem_dma_unmap(p, i) == 0)
			freed++;
		else
			i++;
	}
	pthread_rwlock_unlock(&p->dma_lock);
	if (freed && p->report_order < NR_PAGE_ORDERS)
		pvmem_count(&p->reported,
			    mm_report_free(p->mm, p->report_order));
	return freed;
}

void pvmem_set_max_pages(struct pvmem *p, uint64_t max_pages)
{
	atomic_store(&p->max_pages, max_pages);
}

struct pvmem_migrate *pvmem_migration(struct pvmem *p)
{
	return p->mig;
}

struct pvmem_rings *pvmem_rings(struct pvmem *p)
{
	return p->rings;
}

uint64_t pvmem_max_pages(struct pvmem *p)
{
	return atomic_load(&p->max_pages);
}

uint64_t pvmem_tot_pages(struct pvmem *p)
{
	return atomic_load(&p->tot_pages);
}

void pvmem_adjust_tot_pages(struct pvmem *p, int64_t delta)
{
	if (delta >= 0)
		atomic_fetch_add(&p->tot_pages, (uint64_t)delta);
	else
		atomic_fetch_sub(&p->tot_pages, (uint64_t)-delta);
}

void pvmem_get_stats(struct pvmem *p, struct pvmem_host_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->doorbells = pvmem_read(&p->doorbells);
	out->bad_blocks = pvmem_read(&p->bad_blocks);
	for (unsigned op = 0; op <= PVMEM_OP_MAX; op++) {
		out->ops[op].ok = pvmem_read(&p->op_ok[op]);
		out->ops[op].err = pvmem_read(&p->op_err[op]);
	}
	out->pages_granted = pvmem_read(&p->pages_granted);
	out->pages_freed = pvmem_read(&p->pages_freed);
	out->blocks_split = pvmem_read(&p->blocks_split);
	out->edquot = pvmem_read(&p->edquot);
	out->free_waits = pvmem_read(&p->free_waits);
	out->reported = pvmem_read(&p->reported);
	out->max_pages = pvmem_max_pages(p);
	out->tot_pages = pvmem_tot_pages(p);
	pthread_rwlock_rdlock(&p->dma_lock);
	out->dma_mappings = p->nr_dma;
	out->dma_pages = p->dma_pages;
	pthread_rwlock_unlock(&p->dma_lock);
}

/* Large DMA buffers (pvmem_contig): what they cost and why they failed. */
static const struct stat_field pvmem_contig_stat_fields[] = {
	STAT_FIELD_AS("ok", struct pvmem_contig_stats, ok),
	STAT_FIELD_AS("cma", struct pvmem_contig_stats, ok_cma),
	STAT_FIELD_AS("pages", struct pvmem_contig_stats, frames),
	STAT_FIELD(struct pvmem_contig_stats, eagain),
	STAT_FIELD(struct pvmem_contig_stats, posted),
	STAT_FIELD(struct pvmem_contig_stats, ebusy),
	STAT_FIELD(struct pvmem_contig_stats, enomem),
	STAT_FIELD(struct pvmem_contig_stats, eaddrnotavail),
};

static const struct stat_table pvmem_contig_stat_table =
	STAT_TABLE(pvmem_contig_stat_fields);

/* The page limit, DMA mappings and request counters, in --stats order. */
static const struct stat_field pvmem_host_stat_fields[] = {
	STAT_FIELD(struct pvmem_host_stats, max_pages),
	STAT_FIELD(struct pvmem_host_stats, tot_pages),
	STAT_FIELD(struct pvmem_host_stats, dma_mappings),
	STAT_FIELD(struct pvmem_host_stats, dma_pages),
	STAT_FIELD(struct pvmem_host_stats, doorbells),
	STAT_FIELD(struct pvmem_host_stats, bad_blocks),
	STAT_FIELD(struct pvmem_host_stats, edquot),
	STAT_FIELD(struct pvmem_host_stats, pages_granted),
	STAT_FIELD(struct pvmem_host_stats, pages_freed),
	STAT_FIELD(struct pvmem_host_stats, blocks_split),
	STAT_FIELD(struct pvmem_host_stats, reported),
};

static const struct stat_table pvmem_host_stat_table =
	STAT_TABLE(pvmem_host_stat_fields);

static const char *const pvmem_state_names[PVMEM_NR_FRAME_STATES] = {
	"free", "guest", "dma", "balloon", "reserved",
};

int pvmem_format_stats(struct pvmem *p, char *buf, size_t size)
{
	struct pvmem_contig_stats cs;
	struct pvmem_ring_stats rs;
	struct pvmem_host_stats hs;
	struct pvmem_migrate_stats ms;
	struct pvmem_stats st;
	struct mm_buf b;

	pvmem_fill_stats(p, &st);
	pvmem_get_stats(p, &hs);
	mm_buf_init(&b, buf, size);
	for (unsigned s = 0; s < PVMEM_NR_FRAME_STATES; s++)
		mm_buf_printf(&b, "frames_%s %llu\n", pvmem_state_names[s],
			      (unsigned long long)st.frames[s]);
	mm_buf_printf(&b, "discarded %llu\nram_pages %llu\n",
		      (unsigned long long)st.discarded,
		      (unsigned long long)st.ram_pages);
	stat_fields_format(&b, "", &pvmem_host_stat_table, &hs);
	pvmem_contig_get_stats(p->contig, &cs);
	stat_fields_format(&b, "dma_contig_", &pvmem_contig_stat_table, &cs);
	pvmem_migrate_get_stats(p->mig, &ms);
	stat_fields_format(&b, "migrate_", &pvmem_migrate_stat_table, &ms);
	pvmem_rings_get_stats(p->rings, &rs);
	stat_fields_format(&b, "ring_", &pvmem_ring_stat_table, &rs);
	for (unsigned op = 0; op <= PVMEM_OP_MAX; op++)
		mm_buf_printf(&b, "op_%s ok %llu err %llu\n", pvmem_op_name(op),
			      (unsigned long long)hs.ops[op].ok,
			      (unsigned long long)hs.ops[op].err);
	return (int)b.len;
}
