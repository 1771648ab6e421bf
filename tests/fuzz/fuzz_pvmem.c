// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_pvmem.c - the pvmem request block (devices/pvmem*.c) of
 * the hosted memory model, driven by a hostile guest.
 *
 * Each input is a VM as new (28 MiB of guest RAM: DMA, DMA32 and, above the
 * MMIO hole, Normal) and a sequence of steps: request batches built from
 * the input (ALLOC, FREE of blocks the guest holds or of anything,
 * DMA_ALLOC/DMA_FREE, INFO, STATS, migration set-up, answers, COMPACT and
 * SPLIT of blocks the guest holds or of anything),
 * raw blocks copied byte for byte, doorbells at any address, page-limit
 * changes and clock ticks. Like a guest, the harness writes into every
 * block it was granted, so a frame handed out again unzeroed, or discarded
 * while still held, shows. After every step:
 *   - mm_check() and the frame-state counters adding up;
 *   - tot_pages == GUEST + DMA frames, and pages granted minus pages freed
 *     (plus the migration ring page) == tot_pages;
 *   - every frame flagged discarded reads as zero;
 *   - every block granted to an ALLOC with __GFP_ZERO read as zero.
 */
#include <string.h>

#include "devices/pvmem.h"
#include "devices/pvmem_migrate.h"
#include "mm/gfp.h"
#include "tests/fuzz/fuzz_vm.h"

#define LOW_BYTES  (24ull << 20) /* DMA [0, 16 MiB) and DMA32 */
#define HIGH_BYTES (4ull << 20)	 /* Normal, at 4 GiB */
#define KERNEL_END (2ull << 20)

/* Guest buffers, in the reserved kernel image [1 MiB, 2 MiB). */
#define BLOCK_GPA    0x100000ull
#define SCRATCH_GPA  0x101000ull
#define SCRATCH_END  KERNEL_END

#define MAX_STEPS    64
#define MAX_BATCH    8
#define MAX_HELD     256
#define MAX_DMA_HELD 32

struct held {
	uint64_t pfn;
	unsigned order;
};

/* RAM and the page database, reset per input (fuzz_vm.h). */
static struct fuzz_vm vm;
static struct pvmem *pv;
static struct mm *mm;
static uint64_t now_ns;
static uint64_t ring_gpa; /* migration ring, 0 before MIGRATE_SETUP */

/* What the guest believes it holds (for building FREE lists). */
static struct held held[MAX_HELD];
static unsigned nr_held;
static uint64_t dma_held[MAX_DMA_HELD];
static uint32_t dma_dev[MAX_DMA_HELD];
static unsigned nr_dma;

static uint64_t fake_clock(void *opaque)
{
	return now_ns;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_vm_init(&vm, LOW_BYTES, HIGH_BYTES);
	/*
	 * The VMM's default backing: an ALLOC of large blocks zeroes them in
	 * a few host faults, not one per frame (~1.3x the inputs per second).
	 */
	fuzz_ram_hugepage(&vm.mem);
	return 0;
}

static void vm_create(void)
{
	struct pvmem_config pc = {
		.mig = {.timeout_ms = 50,
			.clock_ns = fake_clock,
			.no_timer = true},
	};

	fuzz_vm_start(&vm, true, &pc);
	pv = vm.pv;
	mm = vm.mm;
	now_ns = 1000000000ull;
	ring_gpa = 0;
	nr_held = nr_dma = 0;
}

static void vm_destroy(void)
{
	fuzz_vm_stop(&vm);
	pv = NULL;
}

/* Invariants ------------------------------------------------------------ */

/*
 * Frames of migration targets in flight: the host charges them to
 * tot_pages while the guest holds both copies, and they are neither
 * granted nor freed.
 */
static uint64_t target_frames(void)
{
	struct pvmem_migrate_stats ms;
	uint64_t nr = 0;

	pvmem_migrate_get_stats(pvmem_migration(pv), &ms);
	if (!ms.in_flight)
		return 0;
	for (unsigned r = 0; r < vm.mem.nr_regions; r++) {
		uint64_t first = vm.mem.regions[r].gpa >> 12;
		const struct page *pg = mm_pfn_to_page(mm, first);

		for (uint64_t i = 0; i < vm.mem.regions[r].size >> 12; i++) {
			if (pg[i].state == FRAME_GUEST &&
			    (pg[i].flags & PG_HEAD) &&
			    pg[i].owner == MM_OWNER_TARGET)
				nr += 1ull << pg[i].order;
		}
	}
	return nr;
}

/* After every step: the counters (cheap). */
static void check_counters(const char *what)
{
	struct pvmem_host_stats hs;
	struct mm_stats st;
	uint64_t sum = 0;

	mm_get_stats(mm, &st);
	pvmem_get_stats(pv, &hs);
	for (unsigned s = 0; s < FRAME_NR_STATES; s++)
		sum += st.frames[s];
	FUZZ_ASSERT(sum == st.total, "%s: frame states add up to %llu of %llu",
		    what, (unsigned long long)sum,
		    (unsigned long long)st.total);
	FUZZ_ASSERT(hs.tot_pages ==
			    st.frames[FRAME_GUEST] + st.frames[FRAME_DMA],
		    "%s: tot_pages %llu != GUEST %llu + DMA %llu", what,
		    (unsigned long long)hs.tot_pages,
		    (unsigned long long)st.frames[FRAME_GUEST],
		    (unsigned long long)st.frames[FRAME_DMA]);
}

/* After every input: the whole database and every frame. */
static void check_all(const char *what)
{
	struct pvmem_host_stats hs;
	struct mm_stats st;
	/* The device's word: a raw block may have set the ring up too. */
	uint64_t ring = pvmem_migrate_ready(pvmem_migration(pv)), targets;

	fuzz_check_mm(mm, what);
	mm_get_stats(mm, &st);
	pvmem_get_stats(pv, &hs);
	FUZZ_ASSERT(hs.tot_pages ==
			    st.frames[FRAME_GUEST] + st.frames[FRAME_DMA],
		    "%s: tot_pages %llu != GUEST %llu + DMA %llu", what,
		    (unsigned long long)hs.tot_pages,
		    (unsigned long long)st.frames[FRAME_GUEST],
		    (unsigned long long)st.frames[FRAME_DMA]);
	targets = target_frames();
	FUZZ_ASSERT(hs.pages_granted - hs.pages_freed + ring + targets ==
			    hs.tot_pages,
		    "%s: granted %llu - freed %llu + ring %llu + migration "
		    "targets %llu != tot %llu",
		    what, (unsigned long long)hs.pages_granted,
		    (unsigned long long)hs.pages_freed,
		    (unsigned long long)ring, (unsigned long long)targets,
		    (unsigned long long)hs.tot_pages);
	fuzz_check_discarded_zero(mm, &vm.mem);
}

/* The guest's model ---------------------------------------------------- */

static void held_add(uint64_t pfn, unsigned order)
{
	if (nr_held < MAX_HELD)
		held[nr_held++] = (struct held){pfn, order};
}

static void held_remove(uint64_t pfn)
{
	for (unsigned i = 0; i < nr_held; i++) {
		if (held[i].pfn == pfn) {
			held[i] = held[--nr_held];
			return;
		}
	}
}

static void dma_add(uint32_t dev, uint64_t gpa)
{
	if (nr_dma < MAX_DMA_HELD) {
		dma_dev[nr_dma] = dev;
		dma_held[nr_dma++] = gpa;
	}
}

static void dma_remove(uint64_t gpa)
{
	for (unsigned i = 0; i < nr_dma; i++) {
		if (dma_held[i] == gpa) {
			dma_dev[i] = dma_dev[--nr_dma];
			dma_held[i] = dma_held[nr_dma];
			return;
		}
	}
}

/*
 * A guest writes into what it holds. Touching every frame of a 4 MiB block
 * costs 1024 page faults per input, so the guest writes two words into the
 * frames at the block's ends, its middle and every power-of-two index:
 * each half, quarter ... of a block that comes back split has a written
 * frame at its start or end.
 */
static bool dirty_frame(uint64_t i, uint64_t nr)
{
	return i == nr - 1 || i == nr / 2 - 1 || (i & (i - 1)) == 0;
}

/*
 * Only frames still in @state: a block freed and another, smaller one
 * granted at the same pfn in one batch leaves the old grant's head in that
 * state, and the rest of it free (maybe discarded), which the guest no
 * longer owns.
 */
static void guest_dirty(uint64_t pfn, uint64_t nr, uint8_t tag,
			enum frame_state state)
{
	for (uint64_t i = 0; i < nr; i++) {
		const struct page *pg = mm_pfn_to_page(mm, pfn + i);
		uint8_t *p;

		if (!dirty_frame(i, nr) || !pg || pg->state != state)
			continue;
		p = guest_mem_ptr(&vm.mem, (pfn + i) << 12, 4096);
		if (!p)
			continue;
		memset(p, 0xa0 | (tag & 15), 8);
		memset(p + 4088, 0x5a, 8);
	}
}

/* Requests ----------------------------------------------------------- */

/* A request as the harness built it, for the checks after the batch. */
struct built {
	uint16_t op;
	uint32_t gfp;
	unsigned order;
	uint64_t out_gpa, out_len; /* what the host writes for this request */
};

static uint64_t scratch_gpa(uint32_t arg, uint64_t len)
{
	uint64_t room = SCRATCH_END - SCRATCH_GPA;
	uint64_t off = len >= room ? 0 : (arg % (room - len)) & ~7ull;

	return SCRATCH_GPA + off;
}

/*
 * Any pfn of guest RAM or a little past its end, the hole below 4 GiB
 * skipped as the guest's own view of RAM skips it.
 */
static uint64_t any_pfn(struct fuzz_in *in)
{
	uint64_t pfn = fuzz_u32(in) % (vm.mem.size / 4096 + 64);

	if (pfn >= LOW_BYTES / 4096)
		pfn += (4ull << 30) / 4096 - LOW_BYTES / 4096;
	return pfn;
}

/* FREE entries at a scratch address: the guest's blocks, maybe mangled. */
static uint64_t build_free_list(struct fuzz_in *in, uint32_t count,
				uint32_t arg, uint8_t mode)
{
	uint64_t len = (uint64_t)count * sizeof(struct pvmem_free_ent);
	uint64_t gpa = scratch_gpa(arg, len);
	struct pvmem_free_ent *e = fuzz_ram_ptr(&vm.mem, gpa, len ? len : 1);

	for (uint32_t i = 0; i < count; i++) {
		e[i] = (struct pvmem_free_ent){0};
		if (nr_held && !(mode & 0x20)) {
			const struct held *h = &held[(arg + i) % nr_held];

			e[i].pfn = h->pfn;
			e[i].order = h->order;
		} else {
			e[i].pfn = any_pfn(in);
		}
		if (mode & 0x40) /* wrong order, tail pfn, reserved bits */
			e[i].order ^= fuzz_u8(in) & 3;
		if (mode & 0x10)
			e[i].pfn += fuzz_u8(in) & 7;
	}
	return gpa;
}

/*
 * SPLIT's pfn array at a scratch address: the guest's blocks from the one
 * at @arg on (their orders may differ: the first other order stops the
 * request), or anything, maybe tails.
 */
static uint64_t build_pfn_list(struct fuzz_in *in, uint32_t count, uint32_t arg,
			       uint8_t mode)
{
	uint64_t len = (uint64_t)count * sizeof(uint64_t);
	uint64_t gpa = scratch_gpa(arg, len);
	uint64_t *pfns = fuzz_ram_ptr(&vm.mem, gpa, len ? len : 1);

	for (uint32_t i = 0; i < count; i++) {
		if (nr_held && !(mode & 0x20)) {
			pfns[i] = held[(arg + i) % nr_held].pfn;
		} else {
			pfns[i] = any_pfn(in);
		}
		if (mode & 0x10) /* a tail */
			pfns[i] += fuzz_u8(in) & 7;
	}
	return gpa;
}

/* Where a request's buffer goes (addr modes). */
static uint64_t pick_addr(struct fuzz_in *in, uint8_t mode, uint32_t arg,
			  uint64_t len)
{
	switch (mode & 3) {
	case 0: /* the guest's own scratch buffer */
		return scratch_gpa(arg, len);
	case 1: /* anywhere */
		return (uint64_t)arg << 4;
	case 2: /* inside a block the guest holds */
		return nr_held ? (held[arg % nr_held].pfn << 12) +
					 ((arg >> 8) & 0xff8)
			       : (uint64_t)arg << 12;
	default: /* a DMA block, or the migration ring */
		return nr_dma ? dma_held[arg % nr_dma] : ring_gpa;
	}
}

static void build_req(struct fuzz_in *in, struct pvmem_req *r, struct built *bt)
{
	uint8_t op = fuzz_u8(in), order = fuzz_u8(in), dma_bits = fuzz_u8(in),
		mode = fuzz_u8(in);
	uint32_t gfp = fuzz_u32(in), count = fuzz_u16(in);
	uint8_t dev = fuzz_u8(in);
	uint32_t arg = fuzz_u32(in);

	memset(r, 0, sizeof(*r));
	r->status = PVMEM_PENDING;
	r->op = op % (PVMEM_OP_MAX + 2); /* includes one unknown op */
	if (!(mode & 0x80))
		gfp &= PVMEM_GFP_ALLOWED;
	*bt = (struct built){.op = r->op, .gfp = gfp, .order = order};
	switch (r->op) {
	case PVMEM_OP_ALLOC:
		r->order = order % (PVMEM_NR_ORDERS + 1);
		r->gfp = gfp;
		r->count = count % (PVMEM_MAX_COUNT + 2);
		r->addr = pick_addr(in, mode, arg, r->count * 8ull);
		bt->order = r->order;
		bt->out_gpa = r->addr;
		bt->out_len = r->count * 8ull;
		break;
	case PVMEM_OP_FREE:
		r->count = count % (PVMEM_MAX_COUNT + 2);
		r->addr = (mode & 3) == 0
				  ? build_free_list(in, r->count, arg, mode)
				  : pick_addr(in, mode, arg, r->count * 16ull);
		break;
	case PVMEM_OP_DMA_ALLOC:
		r->dma_bits = dma_bits % 70;
		r->gfp = gfp;
		r->device_id = dev % (PVMEM_MAX_DEVICE_ID + 2);
		r->size = mode & 0x10 ? (uint64_t)arg << 8 : arg % (1u << 23);
		break;
	case PVMEM_OP_DMA_FREE:
		r->device_id = nr_dma && !(mode & 0x20)
				       ? dma_dev[arg % nr_dma]
				       : dev % (PVMEM_MAX_DEVICE_ID + 2);
		r->addr = pick_addr(in, (uint8_t)(mode | 3), arg, 1);
		if (mode & 0x40)
			r->addr += (uint64_t)(dma_bits & 3) << 12;
		break;
	case PVMEM_OP_INFO:
	case PVMEM_OP_STATS:
		r->size = count % 1024;
		r->addr = pick_addr(in, mode, arg, r->size);
		bt->out_gpa = r->addr;
		bt->out_len = r->size;
		break;
	case PVMEM_OP_MIGRATE_ANSWER:
		r->count = count % 70;
		r->addr = pick_addr(in, mode, arg, r->count * 32ull);
		bt->out_gpa = r->addr;
		bt->out_len = r->count * 32ull;
		break;
	case PVMEM_OP_SPLIT:
		/* The order of the first block named, or any (0 and 11 too). */
		r->order = nr_held && !(mode & 0x40)
				   ? (uint8_t)held[arg % nr_held].order
				   : order % (PVMEM_NR_ORDERS + 1);
		r->count = count % (PVMEM_MAX_COUNT + 2);
		r->addr = (mode & 3) == 0
				  ? build_pfn_list(in, r->count, arg, mode)
				  : pick_addr(in, mode, arg, r->count * 8ull);
		break;
	case PVMEM_OP_COMPACT:
		r->addr = ((uint64_t)(arg & 0x1fff) << 12) |
			  (mode & 0x40 ? 1 : 0);
		if (arg & 0x80000000u)
			r->addr += 4ull << 30;
		r->size = (uint64_t)count << 12;
		break;
	default:
		break;
	}
	if (mode & 0x80) { /* nonzero fields the op does not use */
		r->reserved0 = dev & 1;
		r->device_id |= dev & 0x80 ? 1 : 0;
	}
}

/* Did the host write into [gpa, gpa + len) after request @from - 1? */
static bool overwritten(const struct built *bt, unsigned from, unsigned n,
			uint64_t gpa, uint64_t len)
{
	for (unsigned k = from; k < n; k++) {
		if (bt[k].out_len && bt[k].out_gpa < gpa + len &&
		    gpa < bt[k].out_gpa + bt[k].out_len)
			return true;
	}
	/* The migration ring: the host posts into it during the batch. */
	if (ring_gpa && gpa < ring_gpa + 4096 && ring_gpa < gpa + len)
		return true;
	return gpa < BLOCK_GPA + 4096 && BLOCK_GPA < gpa + len;
}

/*
 * Blocks the batch granted, recorded before the guest writes into any of
 * them: one request's output array may lie in a block another request of
 * the same batch granted.
 */
struct grant {
	uint64_t pfn;
	uint64_t frames;
	bool held; /* an ALLOC block (not DMA): the guest may FREE it */
	unsigned order;
};

static struct grant grants[MAX_BATCH * PVMEM_MAX_COUNT];
static unsigned nr_grants;

/* After the batch: the granted blocks and their zeroing. */
static void after_alloc(const struct pvmem_req *r, const struct built *bt,
			unsigned idx, unsigned n)
{
	const uint8_t *out;

	if (!r->done || r->done > r->count)
		return;
	out = guest_mem_ptr(&vm.mem, r->addr, r->done * 8ull);
	if (!out || overwritten(bt, idx + 1, n, r->addr, r->done * 8ull))
		return;
	for (uint32_t i = 0; i < r->done; i++) {
		uint64_t len = 4096ull << r->order, pfn;
		const struct page *pg;
		void *p;

		/* The guest's addr need not be aligned (the device copies). */
		memcpy(&pfn, out + i * 8ull, sizeof(pfn));
		pg = mm_pfn_to_page(mm, pfn);
		p = guest_mem_ptr(&vm.mem, pfn << 12, len);
		FUZZ_ASSERT(pg && p, "ALLOC granted pfn %#llx outside RAM",
			    (unsigned long long)pfn);
		if (pg->state != FRAME_GUEST)
			continue; /* freed again by a later request */
		if ((r->gfp & __GFP_ZERO) &&
		    !overwritten(bt, idx + 1, n, pfn << 12, len))
			FUZZ_ASSERT(fuzz_is_zero(p, len),
				    "__GFP_ZERO block %#llx order %u not zero",
				    (unsigned long long)pfn, r->order);
		grants[nr_grants++] =
			(struct grant){pfn, 1ull << r->order, true, r->order};
	}
}

static void after_batch(struct pvmem_block *blk, const struct built *bt,
			unsigned n, uint8_t tag)
{
	nr_grants = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct pvmem_req *r = &blk->reqs[i];

		if (r->op == PVMEM_OP_ALLOC)
			after_alloc(r, bt, i, n);
		else if (r->op == PVMEM_OP_DMA_ALLOC && r->status == 0) {
			dma_add(r->device_id, r->result);
			grants[nr_grants++] = (struct grant){r->result >> 12,
							     r->done, false, 0};
		} else if (r->op == PVMEM_OP_DMA_FREE && r->status == 0)
			dma_remove(r->addr);
		else if (r->op == PVMEM_OP_MIGRATE_SETUP && r->status == 0)
			ring_gpa = r->result;
	}
	/*
	 * Now the guest uses what it got: it writes into every block it
	 * still holds (a later request of the batch may have freed it).
	 */
	for (unsigned i = 0; i < nr_grants; i++) {
		const struct page *pg = mm_pfn_to_page(mm, grants[i].pfn);
		enum frame_state state =
			grants[i].held ? FRAME_GUEST : FRAME_DMA;

		if (!pg || pg->state != state)
			continue;
		if (grants[i].held)
			held_add(grants[i].pfn, grants[i].order);
		guest_dirty(grants[i].pfn, grants[i].frames, tag, state);
	}
	/* Forget blocks that are no longer the guest's (freed, moved). */
	for (unsigned i = 0; i < nr_held;) {
		const struct page *pg = mm_pfn_to_page(mm, held[i].pfn);

		if (!pg || pg->state != FRAME_GUEST || !(pg->flags & PG_HEAD)) {
			held_remove(held[i].pfn);
			continue;
		}
		held[i++].order = pg->order; /* split (SPLIT): now order 0 */
	}
}

static void step_batch(struct fuzz_in *in, uint8_t tag)
{
	struct pvmem_block *blk =
		fuzz_ram_ptr(&vm.mem, BLOCK_GPA, sizeof(struct pvmem_block));
	struct built bt[MAX_BATCH];
	unsigned n = 1 + fuzz_u8(in) % MAX_BATCH;

	memset(blk, 0, sizeof(blk->hdr));
	blk->hdr.magic = PVMEM_MAGIC;
	blk->hdr.abi_major = PVMEM_ABI_MAJOR;
	blk->hdr.abi_minor = PVMEM_ABI_MINOR;
	blk->hdr.nr_reqs = (uint16_t)n;
	for (unsigned i = 0; i < n; i++)
		build_req(in, &blk->reqs[i], &bt[i]);
	if (pvmem_doorbell(pv, BLOCK_GPA) == 0)
		after_batch(blk, bt, n, tag);
}

/* A block copied byte for byte from the input (header validation). */
static void step_raw(struct fuzz_in *in)
{
	uint8_t *blk = fuzz_ram_ptr(&vm.mem, BLOCK_GPA, 4096);
	size_t len = 64 + 64 * (size_t)(fuzz_u8(in) % 8);

	memset(blk, 0, 4096);
	fuzz_bytes(in, blk, len);
	pvmem_doorbell(pv, BLOCK_GPA);
	nr_held = 0; /* what a raw ALLOC granted is not tracked */
}

/* Drain the migration ring and answer, as a guest would (or would not). */
static void step_answer(struct fuzz_in *in)
{
	struct pvmem_mig_ring *ring;
	struct pvmem_mig_ans *ans =
		fuzz_ram_ptr(&vm.mem, SCRATCH_GPA, 64 * sizeof(*ans));
	struct pvmem_block *blk =
		fuzz_ram_ptr(&vm.mem, BLOCK_GPA, sizeof(struct pvmem_block));
	uint8_t how = fuzz_u8(in);
	unsigned n = 0;

	if (!ring_gpa)
		return;
	ring = fuzz_ram_ptr(&vm.mem, ring_gpa, sizeof(*ring));
	while (ring->tail != ring->head && n < 64) {
		const struct pvmem_mig_req *q =
			&ring->reqs[ring->tail % PVMEM_MIG_SLOTS];

		ans[n] = (struct pvmem_mig_ans){
			.src = q->src, .dst = q->dst, .order = q->order};
		if (how & 1)
			ans[n].result = -16;
		if (how & 2)
			ans[n].dst ^= fuzz_u8(in) & 1;
		n++;
		ring->tail++;
	}
	if (!n || (how & 4)) /* a guest that takes requests and never answers */
		return;
	memset(blk, 0, sizeof(blk->hdr) + sizeof(blk->reqs[0]));
	blk->hdr.magic = PVMEM_MAGIC;
	blk->hdr.abi_major = PVMEM_ABI_MAJOR;
	blk->hdr.nr_reqs = 1;
	blk->reqs[0].op = PVMEM_OP_MIGRATE_ANSWER;
	blk->reqs[0].count = n;
	blk->reqs[0].addr = SCRATCH_GPA;
	pvmem_doorbell(pv, BLOCK_GPA);
	for (unsigned i = 0; i < n; i++) {
		if (ans[i].status == 0 && ans[i].result == 0) {
			held_remove(ans[i].src);
			held_add(ans[i].dst, ans[i].order);
		}
	}
}

static void run_step(struct fuzz_in *in, unsigned i)
{
	uint8_t kind = fuzz_u8(in);

	switch (kind % 8) {
	case 0:
	case 1:
	case 2:
		step_batch(in, (uint8_t)i);
		break;
	case 3:
		step_raw(in);
		break;
	case 4: /* a doorbell at any address: not a held page, not RAM */
		pvmem_doorbell(pv, fuzz_u64(in) & 0x1ffffffffull);
		break;
	case 5:
		pvmem_set_max_pages(pv, fuzz_u16(in));
		break;
	case 6: /* time passes: migration requests expire */
		now_ns += (uint64_t)fuzz_u16(in) * 1000000ull;
		break;
	default:
		step_answer(in);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;

	fuzz_in_init(&in, data, size);
	vm_create();
	check_all("create");
	for (unsigned i = 0; i < MAX_STEPS && fuzz_in_left(&in); i++) {
		run_step(&in, i);
		check_counters("step");
	}
	check_all("end");
	vm_destroy();
	return 0;
}
