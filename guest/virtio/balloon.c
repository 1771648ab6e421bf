// SPDX-License-Identifier: MIT
/*
 * guest/virtio/balloon.c - virtio-balloon driver (virtio 1.x 5.5.6).
 *
 * One notification carries one buffer of up to 8192 PFNs: a VM exit costs
 * 5-30 us here, so 8192 pages (32 MiB) move per exit and one more exit
 * updates `actual`. Each batch is sorted, so the host sees long runs of
 * consecutive PFNs (one state change and one discard per run). In the
 * hosted model pages come in bulk: first what the vCPU's page cache holds,
 * then one pvmem ALLOC for the rest (with a 1.4 host whole 2 MiB blocks
 * first, which the host splits), and deflated pages go back in one
 * pvmem FREE per batch rather than through the page cache 64 at a time. The device handles a notification synchronously on the
 * exiting vCPU, so the used ring is normally complete when the kick
 * returns; the driver still waits for it properly.
 */
#include "abi/virtio_balloon.h"
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "guest_migrate.h"
#include "mm/mm.h"
#include "native_mm.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define BATCH_PAGES 8192
#define Q_SIZE	    64

static struct gv_dev bdev;
static bool ready;
static struct gv_queue *inflateq, *deflateq, *statsq, *reportq;
/* PFN buffers and the stats buffer: DMA memory the device may read. */
static uint32_t *pfn_bufs;
static struct virtio_balloon_stat *stats_buf;
/*
 * Every page in the balloon, as a stack: deflate takes the newest. Pfns are
 * 4 bytes, in chunks of one 4 MiB block each (the largest block the page
 * source gives): 4 GiB of balloon a chunk, 16 for the largest --mem (64G).
 */
#define HELD_CHUNK	(((uint64_t)4 << 20) / 4)
#define HELD_MAX_CHUNKS 16
static uint32_t *held[HELD_MAX_CHUNKS];
static uint64_t nr_held, max_held;
static uint32_t target;
static gballoon_shrink_fn shrinker;
static struct gballoon_info info;
/*
 * Set while the driver moves pages: its own allocations (inflate) go
 * through the page source, whose OOM path calls gballoon_deflate_on_oom();
 * that must not deflate in the middle of an inflate.
 */
static bool busy;

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Inflate profile (gballoon_info.prof): the cycles since the last lap go
 * to @phase. Only inflate batches lap (prof_on); deflate and migration
 * share send_pfns() but are not counted.
 */
static bool prof_on;
static uint64_t prof_t;

const char *gballoon_prof_name(unsigned phase)
{
	static const char *const names[GBALLOON_PROF_NR] = {
		"blocks", "pages", "shrink", "sort",   "fill",
		"kick",	  "wait",  "adopt",  "actual",
	};

	return phase < GBALLOON_PROF_NR ? names[phase] : "?";
}

static void prof_lap(enum gballoon_prof_phase phase)
{
	uint64_t now;

	if (!prof_on)
		return;
	now = rdtsc();
	info.prof[phase] += now - prof_t;
	prof_t = now;
}

/*
 * Native: balloon pages are movable (compaction may swap them, as Linux's
 * balloon allocates with GFP_HIGHUSER_MOVABLE), so they sit in movable
 * pageblocks and do not spread unmovable ones.
 */
static void *page_get(void)
{
	return guest_page_source.ops->alloc_pages(guest_page_source.opaque,
						  GFP_HIGHUSER_MOVABLE, 0);
}

static void page_put(uint32_t pfn)
{
	guest_page_source.ops->free_pages(guest_page_source.opaque,
					  pfn_to_virt(pfn), 0);
}

/* Pages a shrinker frees at once: they fit in the page cache undrained. */
#define SHRINK_CHUNK PAGE_CACHE_HIGH

/*
 * Native: whole 2 MiB blocks first (the host releases a huge page only
 * when all of it is in the balloon, docs/ballooning.md), split into pages
 * so that deflate, migration and the OOM path still move single pages.
 * No compaction for them: a fragmented buddy just gives pages.
 */
#define BLOCK_ORDER PAGEBLOCK_ORDER
#define BLOCK_GFP                                                              \
	((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY |      \
	 __GFP_NOWARN)
/* Hosted: unmovable, as the order-0 pages (see take_hosted_blocks()). */
#define BLOCK_GFP_HOSTED                                                       \
	((GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY | __GFP_NOWARN)

/*
 * Set when the buddy (or, hosted, the host) had no whole block for this
 * batch: asking again before the shrinker has freed more would only fail
 * again (hosted, at the cost of a doorbell). BLOCK_GFP has no direct
 * reclaim, so a failed request does not drain the per-CPU lists.
 */
static bool blocks_dry;

static unsigned take_blocks(uint32_t *pfns, unsigned want)
{
	unsigned n = 0;

	while (!blocks_dry && want - n >= (1u << BLOCK_ORDER)) {
		void *p = native_mm_alloc(BLOCK_GFP, BLOCK_ORDER);
		uint64_t pfn;

		if (!p) {
			blocks_dry = true;
			break;
		}
		pfn = virt_to_pfn(p);
		if (mm_split_block(native_mm(), pfn, BLOCK_ORDER)) {
			/* Not ours to split after all: give it back whole. */
			native_mm_free(p, BLOCK_ORDER);
			break;
		}
		for (unsigned i = 0; i < (1u << BLOCK_ORDER); i++)
			pfns[n++] = (uint32_t)(pfn + i);
		info.blocks++;
	}
	return n;
}

/*
 * Hosted model: the host frees a block only whole, and deflate returns
 * pages one by one, so blocks come split. With a 1.4 host, whole 2 MiB
 * blocks first, as native: one doorbell asks for the batch's whole blocks
 * (ALLOC order 9 without reclaim and __GFP_NORETRY: the host neither
 * compacts nor empties the page rings for them), has the host split them
 * (SPLIT), and asks for the rest of the batch in order-0 pages (at least
 * one). If the host had fewer blocks: the pages the page cache holds (no
 * exit), then one ALLOC of order-0 pages for the rest, unless the first
 * doorbell's pages fell short already (the host is dry: the balloon of a
 * guest whose memory is all in use asks once per batch, not twice).
 */
static uint64_t hosted_got[BATCH_PAGES];

static unsigned take_hosted_blocks(unsigned want, bool *dry)
{
	static uint64_t blocks[BATCH_PAGES >> BLOCK_ORDER], probe;
	unsigned want_nb = want >> BLOCK_ORDER, nb, n = 0, got;
	unsigned rest = want - (want_nb << BLOCK_ORDER);
	/*
	 * The rest of the batch in pages, or one page: whether the host has
	 * pages at all when it has no whole block, without a second exit.
	 */
	unsigned ask = rest ? rest : 1;
	uint64_t *pages = rest ? hosted_got + want - rest : &probe;
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *a, *r;

	a = pv_batch_alloc_split(b, BLOCK_GFP_HOSTED, BLOCK_ORDER, want_nb,
				 blocks);
	if (!a) {
		blocks_dry = true; /* a host without SPLIT */
		return 0;
	}
	r = pv_batch_add(b, PVMEM_OP_ALLOC);
	r->gfp = GFP_KERNEL;
	r->count = ask;
	r->addr = (uint64_t)(uintptr_t)pages;
	if (pv_batch_ring(b))
		return 0;
	got = r->done;
	*dry = got < ask;
	nb = pv_split_granted(a); /* may ring again: results read first */
	blocks_dry = nb < want_nb;
	for (unsigned i = 0; i < nb; i++)
		for (unsigned k = 0; k < (1u << BLOCK_ORDER); k++)
			hosted_got[n++] = blocks[i] + k;
	info.blocks += nb;
	if (rest) { /* the order-0 pages follow the blocks */
		memmove(hosted_got + n, pages, got * sizeof(*hosted_got));
		return n + got;
	}
	/* The probe page: in the batch if there is room, else the cache's. */
	if (got && nb < want_nb)
		hosted_got[n++] = probe;
	else if (got)
		page_cache_put(pfn_to_virt(probe));
	return n;
}

static unsigned take_hosted(uint32_t *pfns, unsigned want, bool ask_host)
{
	unsigned n = 0, granted = 0;
	bool dry = false;

	if (ask_host && !blocks_dry && want >= (1u << BLOCK_ORDER))
		n = take_hosted_blocks(want, &dry);
	n += page_cache_take(hosted_got + n, want - n);
	if (n < want && ask_host && !dry)
		pv_alloc(GFP_KERNEL, 0, want - n, hosted_got + n, &granted);
	n += granted;
	for (unsigned i = 0; i < n; i++)
		pfns[i] = (uint32_t)hosted_got[i];
	return n;
}

/*
 * As many of @want pages as the page source has now, without shrinking;
 * hosted, after a shrink (!@ask_host), only what the page cache holds: the
 * host would refuse more (page limit) and the refusal costs an exit.
 */
static unsigned take_pages(uint32_t *pfns, unsigned want, bool ask_host)
{
	unsigned n;

	if (!guest_boot.native) {
		n = take_hosted(pfns, want, ask_host);
		prof_lap(GBALLOON_PROF_PAGES);
		return n;
	}
	n = take_blocks(pfns, want);
	prof_lap(GBALLOON_PROF_BLOCKS);
	while (n < want) {
		void *p = page_get();

		if (!p)
			break;
		pfns[n++] = (uint32_t)virt_to_pfn(p);
	}
	prof_lap(GBALLOON_PROF_PAGES);
	return n;
}

/*
 * Pages for the balloon, making room when the source is dry. Hosted, the
 * shrinker frees SHRINK_CHUNK at a time, which stay in the page cache and
 * are taken from there without a round trip to the host. Native, it frees
 * all that is missing at once into the guest's buddy, where consecutive
 * pages merge again: the batch takes them back as whole 2 MiB blocks.
 */
static uint64_t shrink(unsigned missing)
{
	if (!guest_boot.native)
		return shrinker(min_u64(missing, SHRINK_CHUNK));
	blocks_dry = false; /* the freed pages may make whole blocks */
	return shrinker(missing);
}

static unsigned collect_pages(uint32_t *pfns, unsigned want)
{
	unsigned n = take_pages(pfns, want, true);

	while (n < want && shrinker && shrink(want - n) != 0) {
		prof_lap(GBALLOON_PROF_SHRINK);
		n += take_pages(pfns + n, want - n, false);
	}
	prof_lap(GBALLOON_PROF_SHRINK);
	if (n < want) {
		page_cache_drain(); /* pages held back in the cache */
		n += take_pages(pfns + n, want - n, true);
	}
	if (n < want)
		info.alloc_failures++;
	return n;
}

/*
 * Sort a batch ascending. A native batch is mostly whole blocks of 512
 * consecutive PFNs (take_blocks()), so the runs are sorted, not the pages:
 * find them (one pass), heapsort them by first PFN, and write them back.
 * PFNs are distinct, so runs never overlap and sorted runs are sorted
 * pages. A batch of single pages is n runs of 1: a heapsort, as before.
 */
struct pfn_run {
	uint32_t start, len;
};

static void sift_down(struct pfn_run *a, unsigned root, unsigned n)
{
	for (unsigned child; (child = 2 * root + 1) < n; root = child) {
		struct pfn_run t;

		if (child + 1 < n && a[child + 1].start > a[child].start)
			child++;
		if (a[root].start >= a[child].start)
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
	}
}

static void sort_runs(struct pfn_run *a, unsigned n)
{
	for (unsigned i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (unsigned end = n; end-- > 1;) {
		struct pfn_run t = a[0];

		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end);
	}
}

static void sort_pfns(uint32_t *pfns, unsigned n)
{
	static struct pfn_run runs[BATCH_PAGES];
	unsigned nr = 0, k = 0;
	bool sorted = true, down = false;

	for (unsigned i = 0; i < n; i++) {
		struct pfn_run *r = nr ? &runs[nr - 1] : NULL;

		/* Ascending, or (pages freed newest first) descending. */
		if (r && !down && pfns[i] == r->start + r->len) {
			r->len++;
			continue;
		}
		if (r && (down || r->len == 1) && pfns[i] + 1 == r->start) {
			r->start--;
			r->len++;
			sorted = false; /* written back ascending */
			down = true;
			continue;
		}
		if (r && pfns[i] < r->start)
			sorted = false;
		runs[nr++] = (struct pfn_run){pfns[i], 1};
		down = false;
	}
	if (prof_on)
		info.prof_runs += nr;
	if (sorted)
		return;
	sort_runs(runs, nr);
	for (unsigned r = 0; r < nr; r++)
		for (uint32_t j = 0; j < runs[r].len; j++)
			pfns[k++] = runs[r].start + j;
}

/*
 * Send @n PFNs on @q as one buffer, one kick; wait for it. One buffer, not
 * Linux's 256 PFNs each: the device moves a run of consecutive PFNs (and
 * releases its whole 2 MiB host pages) at once, and a run ends with its
 * buffer.
 */
static void send_pfns(struct gv_queue *q, const uint32_t *pfns, unsigned n)
{
	struct gv_buf b = {gv_gpa(pfn_bufs), n * 4, false};

	memcpy(pfn_bufs, pfns, n * 4);
	GUEST_ASSERT_EQ(gv_add(q, &b, 1, pfn_bufs), 0);
	prof_lap(GBALLOON_PROF_FILL);
	if (gv_kick(&bdev, q) && prof_on)
		info.prof_kicks++;
	prof_lap(GBALLOON_PROF_KICK);
	while (!gv_get_used(q, NULL)) {
		if (gv_status(&bdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
			info.needs_reset = true;
			return;
		}
		__builtin_ia32_pause();
	}
	prof_lap(GBALLOON_PROF_WAIT);
}

/* Hosted model: deflated pages go home in one FREE, not via the cache. */
static void free_hosted(const uint32_t *pfns, unsigned n)
{
	static struct pvmem_free_ent ents[BATCH_PAGES];
	unsigned freed = 0;
	int err;

	for (unsigned i = 0; i < n; i++)
		ents[i] = (struct pvmem_free_ent){.pfn = pfns[i]};
	err = pv_free(ents, n, &freed);
	/* Only pages the host gave us and took back: a refusal is a bug. */
	if (err)
		guest_fail(__FILE__, __LINE__,
			   "balloon: host refused to free deflated pages: %d",
			   err);
}

/* Tell the host `actual` (a config write: one VM exit); @prof: time it. */
static void set_actual(bool prof)
{
	prof_on = prof;
	prof_t = rdtsc();
	info.actual = (uint32_t)nr_held;
	gv_config_write32(&bdev, offsetof(struct virtio_balloon_config, actual),
			  (uint32_t)nr_held);
	prof_lap(GBALLOON_PROF_ACTUAL);
	prof_on = false;
}

/*
 * Balloon page migration (docs/hosted-memory.md "Migration"): a page in
 * the balloon holds no data, so moving it is swapping its pfn in held[].
 * Hosted, the host asks through the migration ring (gmig_balloon_has/swap,
 * called by the ring drain) and, for a paused guest, logs moves it made
 * alone (applied by the drain before every inflate and deflate). Native,
 * the driver owns its pages in the guest's own mm: compaction's migrate()
 * tells the host as Linux's balloon_page_migrate() does (inflate the new
 * page, deflate the old) before mm/ commits the move.
 */
static uint32_t *held_at(uint64_t i)
{
	return &held[i / HELD_CHUNK][i % HELD_CHUNK];
}

static int held_index(uint64_t pfn)
{
	for (uint64_t i = 0; i < nr_held; i++)
		if (*held_at(i) == pfn)
			return (int)i;
	return -1;
}

bool gmig_balloon_has(uint64_t src)
{
	return ready && held_index(src) >= 0;
}

bool gmig_balloon_swap(uint64_t src, uint64_t dst)
{
	int i = ready ? held_index(src) : -1;

	if (i < 0)
		return false;
	*held_at(i) = (uint32_t)dst;
	info.migrated++;
	return true;
}

static int mig_owner; /* native: the driver's id in the guest's mm */

static int mig_isolate(void *opaque, uint64_t pfn, unsigned order)
{
	return !busy && order == 0 && held_index(pfn) >= 0 ? 0 : -EBUSY;
}

/*
 * Synchronous, as compaction and alloc_contig_range() want it: the host
 * learns first (inflate the new page, deflate the old: two notifications),
 * then the list names dst and mm/ frees src.
 */
static int mig_migrate(void *opaque, uint64_t dst, uint64_t src, unsigned order,
		       enum migrate_mode mode)
{
	uint32_t d = (uint32_t)dst, s = (uint32_t)src;

	if (busy || info.needs_reset)
		return -EAGAIN;
	busy = true;
	send_pfns(inflateq, &d, 1);
	send_pfns(deflateq, &s, 1);
	busy = false;
	if (info.needs_reset)
		return -EIO;
	return gmig_balloon_swap(src, dst) ? 0 : -ENOENT;
}

static void mig_putback(void *opaque, uint64_t pfn, unsigned order)
{
}

static const struct mm_movable_ops mig_ops = {
	.isolate = mig_isolate,
	.migrate = mig_migrate,
	.putback = mig_putback,
};

/* Native: pages entering the balloon become the driver's movable pages. */
static void mig_adopt(const uint32_t *pfns, unsigned n)
{
	if (!mig_owner)
		return;
	for (unsigned i = 0; i < n; i++)
		mm_set_movable_owner(native_mm(), pfns[i], 0,
				     (uint32_t)mig_owner);
}

static void mig_init(void)
{
	int id;

	if (!guest_boot.native || mig_owner)
		return;
	id = mm_register_movable_owner(native_mm(), &mig_ops, NULL);
	mig_owner = id > 0 ? id : 0;
}

static uint64_t inflate(uint64_t want)
{
	static uint32_t pfns[BATCH_PAGES];
	unsigned n;

	want = min_u64(min_u64(want, BATCH_PAGES), max_held - nr_held);
	/* A batch stays inside one chunk of the held list. */
	want = min_u64(want, HELD_CHUNK - nr_held % HELD_CHUNK);
	blocks_dry = false;
	prof_on = true;
	prof_t = rdtsc();
	n = collect_pages(pfns, (unsigned)want);
	if (n == 0) {
		prof_on = false;
		return 0;
	}
	sort_pfns(pfns, n);
	prof_lap(GBALLOON_PROF_SORT);
	send_pfns(inflateq, pfns, n);
	memcpy(held_at(nr_held), pfns, n * 4);
	nr_held += n;
	info.inflated += n;
	mig_adopt(pfns, n);
	prof_lap(GBALLOON_PROF_ADOPT);
	prof_on = false;
	info.prof_batches++;
	return n;
}

/* Tell the host first, then reuse the pages (MUST_TELL_HOST or not). */
static uint64_t deflate(uint64_t want)
{
	uint64_t in_chunk =
		nr_held % HELD_CHUNK ? nr_held % HELD_CHUNK : HELD_CHUNK;
	unsigned n = (unsigned)min_u64(min_u64(want, BATCH_PAGES),
				       min_u64(nr_held, in_chunk));
	const uint32_t *pfns;

	if (n == 0)
		return 0;
	pfns = held_at(nr_held - n);
	send_pfns(deflateq, pfns, n);
	if (guest_boot.native)
		for (unsigned i = 0; i < n; i++)
			page_put(pfns[i]);
	else
		free_hosted(pfns, n);
	nr_held -= n;
	info.deflated += n;
	return n;
}

/* Answer a stats request: refill the buffer and give it back. */
static void stats_send(void)
{
	struct pvmem_stats st;
	struct page_cache_stats pc;
	uint64_t free = 0, total = guest_boot.ram_bytes;
	struct gv_buf b;

	if (!guest_boot.native && pv_stats(&st) == 0) {
		total = st.max_pages << 12;
		free = st.max_pages > st.tot_pages
			       ? (st.max_pages - st.tot_pages) << 12
			       : 0;
	} else if (guest_boot.native && native_mm()) {
		/* Native: the guest's own buddy knows (MEMFREE was 0 here). */
		struct mm_stats ms;

		mm_get_stats(native_mm(), &ms);
		free = ms.frames[FRAME_FREE] << 12;
	}
	page_cache_get_stats(&pc);
	stats_buf[0] =
		(struct virtio_balloon_stat){VIRTIO_BALLOON_S_MEMTOT, total};
	stats_buf[1] =
		(struct virtio_balloon_stat){VIRTIO_BALLOON_S_MEMFREE, free};
	stats_buf[2] = (struct virtio_balloon_stat){VIRTIO_BALLOON_S_CACHES,
						    pc.count << 12};
	stats_buf[3] = (struct virtio_balloon_stat){VIRTIO_BALLOON_S_AVAIL,
						    free + (pc.count << 12)};
	b = (struct gv_buf){gv_gpa(stats_buf), 4 * sizeof(*stats_buf), false};
	GUEST_ASSERT_EQ(gv_add(statsq, &b, 1, stats_buf), 0);
	gv_kick(&bdev, statsq);
	info.stats_sent++;
}

static void take_interrupts(void)
{
	uint32_t bits;

	if (!guest_take_device_irq(bdev.irq))
		return;
	bits = gv_ack_interrupt(&bdev);
	if (bits & VIRTIO_MMIO_INT_CONFIG) {
		target = gv_config_read32(&bdev, 0);
		info.needs_reset =
			gv_status(&bdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	}
	if (statsq && gv_get_used(statsq, NULL))
		stats_send();
}

/*
 * `actual` every ACTUAL_EVERY batches (128 MiB) and when the loop ends: it
 * is one VM exit, as the batch's notification is.
 */
#define ACTUAL_EVERY 4

bool gballoon_service(uint64_t max_pages)
{
	uint64_t moved = 0;
	unsigned unsent = 0;
	bool inflating = false;

	if (!ready || busy)
		return !ready;
	busy = true;
	gmig_drain(); /* hosted: no pending move names a page we pass on */
	take_interrupts();
	while (!info.needs_reset && nr_held != target &&
	       (!max_pages || moved < max_pages)) {
		uint64_t n;

		inflating = nr_held < target;
		n = inflating ? inflate(target - nr_held)
			      : deflate(nr_held - target);
		if (n == 0)
			break;
		moved += n;
		if (++unsent == ACTUAL_EVERY) {
			set_actual(inflating);
			unsent = 0;
		}
		take_interrupts();
	}
	if (unsent)
		set_actual(inflating);
	info.target = target;
	busy = false;
	return nr_held == target;
}

uint64_t gballoon_deflate_on_oom(uint64_t pages)
{
	uint64_t n;

	/* The driver runs on vCPU 0 only; the others just fail. */
	if (!ready || busy || guest_cpu_id() != 0 ||
	    !(bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)))
		return 0;
	/*
	 * No ring drain here: this runs inside a failed allocation, and a
	 * deflate of a frame the host wants to move cancels that move.
	 */
	busy = true;
	n = deflate(pages);
	if (n) {
		info.oom_deflated += n;
		set_actual(false);
	}
	busy = false;
	return n;
}

/*
 * Free page reporting (native model, VIRTIO_BALLOON_F_REPORTING): free
 * blocks of the guest's own buddy are isolated by allocating them, handed
 * to the device REPORT_CHAIN at a time as device-writable buffers (virtio
 * 1.2 5.5.6.7, as Linux does), and freed back once the device has used
 * them: the host has dropped their backing and they read as zeros.
 * Blocks stay isolated for the whole pass, so a pass sees each free block
 * once; a block whose 2 MiB chunks were all reported and not allocated
 * since (native_mm_chunk_reported()) is held but not sent again.
 */
#define REPORT_ORDER	PAGEBLOCK_ORDER /* 2 MiB, as Linux */
#define REPORT_CHAIN	32		/* blocks per notification */
#define REPORT_MAX_HELD 4096		/* blocks per pass: 8 GiB at order 9 */
#define REPORT_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)

static uint64_t report_held[REPORT_MAX_HELD];
static uint8_t report_orders[REPORT_MAX_HELD];

/* Send @n blocks starting at held[@first] in one chain; wait for it. */
static void report_send(unsigned first, unsigned n)
{
	struct gv_buf bufs[REPORT_CHAIN];

	for (unsigned i = 0; i < n; i++)
		bufs[i] = (struct gv_buf){
			MM_PFN_TO_ADDR(report_held[first + i]),
			(uint32_t)(PAGE_SIZE << report_orders[first + i]),
			true};
	GUEST_ASSERT_EQ(gv_add(reportq, bufs, n, bufs), 0);
	gv_kick(&bdev, reportq);
	while (!gv_get_used(reportq, NULL)) {
		if (gv_status(&bdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
			info.needs_reset = true;
			return;
		}
		__builtin_ia32_pause();
	}
	info.report_chains++;
}

/* Isolate the next free block (largest order first); false if none. */
static bool report_isolate(unsigned idx, bool *fresh)
{
	struct mm *mm = native_mm();

	for (unsigned o = MAX_PAGE_ORDER; o >= REPORT_ORDER; o--) {
		uint64_t pfn;

		if (mm_alloc_pages(mm, REPORT_GFP, o, &pfn) < 0)
			continue;
		report_held[idx] = pfn;
		report_orders[idx] = (uint8_t)o;
		*fresh = !native_mm_chunk_reported(pfn, 1ull << o);
		return true;
	}
	return false;
}

uint64_t gballoon_report_free(void)
{
	unsigned nheld = 0, batch = 0;
	uint64_t pages = 0;
	bool fresh;

	if (!reportq || busy || guest_cpu_id() != 0 || info.needs_reset)
		return 0;
	busy = true;
	while (nheld < REPORT_MAX_HELD && report_isolate(nheld, &fresh)) {
		if (!fresh) {
			/* Keep it out of the way, unsent, behind the batch. */
			uint64_t pfn = report_held[nheld];
			uint8_t o = report_orders[nheld];

			report_held[nheld] = report_held[nheld - batch];
			report_orders[nheld] = report_orders[nheld - batch];
			report_held[nheld - batch] = pfn;
			report_orders[nheld - batch] = o;
			nheld++;
			continue;
		}
		pages += 1ull << report_orders[nheld];
		nheld++;
		if (++batch == REPORT_CHAIN) {
			report_send(nheld - batch, batch);
			batch = 0;
		}
	}
	if (batch)
		report_send(nheld - batch, batch);
	for (unsigned i = 0; i < nheld; i++) {
		if (!info.needs_reset)
			native_mm_set_chunk_reported(report_held[i],
						     1ull << report_orders[i]);
		GUEST_ASSERT_EQ(mm_free_pages(native_mm(), report_held[i],
					      report_orders[i]),
				0);
	}
	info.reported_pages += info.needs_reset ? 0 : pages;
	info.report_passes++;
	busy = false;
	return pages;
}

static int setup_buffers(void)
{
	uint64_t ram_pages = guest_boot.ram_bytes >> 12;

	pfn_bufs = gv_dma_alloc(&bdev, BATCH_PAGES * 4);
	stats_buf = gv_dma_alloc(&bdev, 4096);
	/* The held list: 4 bytes a page of RAM (0.1%), so any target fits. */
	max_held = min_u64(ram_pages, HELD_MAX_CHUNKS * HELD_CHUNK);
	if (!pfn_bufs || !stats_buf)
		return -ENOMEM;
	for (uint64_t c = 0; c * HELD_CHUNK < max_held; c++) {
		uint64_t n = min_u64(HELD_CHUNK, max_held - c * HELD_CHUNK);

		held[c] = guest_page_source.ops->alloc_pages(
			guest_page_source.opaque, GFP_KERNEL,
			mm_get_order(n * 4));
		if (!held[c])
			return -ENOMEM;
	}
	return 0;
}

int gballoon_init(void)
{
	uint64_t wanted = VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) |
			  VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);

	/* Hosted, free memory goes back through pvmem: nothing to report. */
	if (guest_boot.native)
		wanted |= VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING);
	unsigned q = 2;
	int err;

	err = gv_probe(&bdev, VIRTIO_ID_BALLOON, wanted);
	if (err)
		return err;
	err = setup_buffers();
	if (!err)
		err = gv_setup_queue(&bdev, 0, Q_SIZE);
	if (!err)
		err = gv_setup_queue(&bdev, 1, Q_SIZE);
	if (!err && (bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ)))
		err = gv_setup_queue(&bdev, q++, 4);
	if (!err && (bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING)))
		err = gv_setup_queue(&bdev, q++, REPORT_CHAIN);
	if (err)
		return err;
	inflateq = &bdev.vqs[0];
	deflateq = &bdev.vqs[1];
	q = 2;
	statsq = (bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ))
			 ? &bdev.vqs[q++]
			 : NULL;
	reportq = (bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING))
			  ? &bdev.vqs[q]
			  : NULL;
	gv_driver_ok(&bdev);
	info.features = bdev.features;
	target = gv_config_read32(&bdev, 0);
	ready = true;
	mig_init();
	/* The first stats buffer goes out at once (virtio 1.x 5.5.6.3). */
	if (statsq)
		stats_send();
	return 0;
}

void gballoon_set_shrinker(gballoon_shrink_fn fn)
{
	shrinker = fn;
}

unsigned gballoon_irq(void)
{
	return bdev.irq;
}

void gballoon_get_info(struct gballoon_info *out)
{
	*out = info;
	out->target = target;
	out->actual = (uint32_t)nr_held;
}
