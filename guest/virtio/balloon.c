// SPDX-License-Identifier: MIT
/*
 * guest/virtio/balloon.c - virtio-balloon driver (virtio 1.x 5.5.6).
 *
 * One notification carries up to BATCH_BUFS buffers of 256 PFNs: a VM exit
 * costs 5-20 us here, so 2048 pages (8 MiB) move per exit and one more exit
 * updates `actual`. The device handles a notification synchronously on the
 * exiting vCPU, so the used ring is normally complete when the kick
 * returns; the driver still waits for it properly.
 */
#include "devices/virtio_balloon_abi.h"
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "pvmem_guest.h"

#define PFNS_PER_BUF 256
#define BATCH_BUFS   8
#define BATCH_PAGES  (PFNS_PER_BUF * BATCH_BUFS)
#define Q_SIZE	     64

static struct gv_dev bdev;
static bool ready;
static struct gv_queue *inflateq, *deflateq, *statsq;
/* PFN buffers and the stats buffer: DMA memory the device may read. */
static uint32_t *pfn_bufs;
static struct virtio_balloon_stat *stats_buf;
/* Every page in the balloon, as a stack: deflate takes the newest. */
static uint32_t *held;
static uint64_t nr_held, max_held;
static uint32_t target;
static gballoon_shrink_fn shrinker;
static struct gballoon_info info;

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static unsigned order_of(uint64_t bytes)
{
	unsigned o = 0;

	while ((4096ull << o) < bytes)
		o++;
	return o;
}

static void *page_get(void)
{
	return guest_page_source.ops->alloc_pages(guest_page_source.opaque,
						  GFP_KERNEL, 0);
}

static void page_put(uint32_t pfn)
{
	guest_page_source.ops->free_pages(guest_page_source.opaque,
					  pfn_to_virt(pfn), 0);
}

/* Pages for the balloon, making room first when the source is dry. */
static unsigned collect_pages(uint32_t *pfns, unsigned want)
{
	unsigned n = 0;
	bool shrunk = false;

	while (n < want) {
		void *p = page_get();

		if (!p && !shrunk) {
			shrunk = true;
			if (shrinker)
				shrinker(want - n);
			page_cache_drain();
			continue;
		}
		if (!p)
			break;
		pfns[n++] = (uint32_t)virt_to_pfn(p);
	}
	if (n < want)
		info.alloc_failures++;
	return n;
}

/* Send @n PFNs on @q in buffers of PFNS_PER_BUF, one kick; wait for all. */
static void send_pfns(struct gv_queue *q, const uint32_t *pfns, unsigned n)
{
	unsigned bufs = 0;

	for (unsigned off = 0; off < n; off += PFNS_PER_BUF, bufs++) {
		uint32_t *buf = pfn_bufs + bufs * PFNS_PER_BUF;
		unsigned k = (unsigned)min_u64(PFNS_PER_BUF, n - off);
		struct gv_buf b = {gv_gpa(buf), k * 4, false};

		memcpy(buf, pfns + off, k * 4);
		GUEST_ASSERT_EQ(gv_add(q, &b, 1, buf), 0);
	}
	gv_kick(&bdev, q);
	while (bufs) {
		if (gv_get_used(q, NULL)) {
			bufs--;
			continue;
		}
		if (gv_status(&bdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
			info.needs_reset = true;
			return;
		}
		__builtin_ia32_pause();
	}
}

static void set_actual(void)
{
	info.actual = (uint32_t)nr_held;
	gv_config_write32(&bdev, offsetof(struct virtio_balloon_config, actual),
			  (uint32_t)nr_held);
}

static uint64_t inflate(uint64_t want)
{
	static uint32_t pfns[BATCH_PAGES];
	unsigned n;

	want = min_u64(min_u64(want, BATCH_PAGES), max_held - nr_held);
	n = collect_pages(pfns, (unsigned)want);
	if (n == 0)
		return 0;
	send_pfns(inflateq, pfns, n);
	memcpy(held + nr_held, pfns, n * 4);
	nr_held += n;
	info.inflated += n;
	return n;
}

/* Tell the host first, then reuse the pages (MUST_TELL_HOST or not). */
static uint64_t deflate(uint64_t want)
{
	unsigned n = (unsigned)min_u64(min_u64(want, BATCH_PAGES), nr_held);
	const uint32_t *pfns = held + nr_held - n;

	if (n == 0)
		return 0;
	send_pfns(deflateq, pfns, n);
	for (unsigned i = 0; i < n; i++)
		page_put(pfns[i]);
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

	if (!(guest_take_device_irqs() & (1ull << bdev.irq)))
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

bool gballoon_service(uint64_t max_pages)
{
	uint64_t moved = 0;

	if (!ready)
		return true;
	take_interrupts();
	while (!info.needs_reset && nr_held != target &&
	       (!max_pages || moved < max_pages)) {
		uint64_t n = nr_held < target ? inflate(target - nr_held)
					      : deflate(nr_held - target);

		if (n == 0)
			break;
		moved += n;
		set_actual();
		take_interrupts();
	}
	info.target = target;
	return nr_held == target;
}

uint64_t gballoon_deflate_on_oom(uint64_t pages)
{
	uint64_t n;

	if (!ready ||
	    !(bdev.features & VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)))
		return 0;
	n = deflate(pages);
	if (n) {
		info.oom_deflated += n;
		set_actual();
	}
	return n;
}

static int setup_buffers(void)
{
	uint64_t ram_pages = guest_boot.ram_bytes >> 12;

	pfn_bufs = gv_dma_alloc(&bdev, BATCH_PAGES * 4);
	stats_buf = gv_dma_alloc(&bdev, 4096);
	/* The held list: 4 bytes a page, up to the largest block (4 MiB). */
	max_held = min_u64(ram_pages, (4u << 20) / 4);
	held = guest_page_source.ops->alloc_pages(
		guest_page_source.opaque, GFP_KERNEL, order_of(max_held * 4));
	if (!pfn_bufs || !stats_buf || !held)
		return -ENOMEM;
	return 0;
}

int gballoon_init(void)
{
	uint64_t wanted = VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) |
			  VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
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
	if (err)
		return err;
	inflateq = &bdev.vqs[0];
	deflateq = &bdev.vqs[1];
	statsq = q > 2 ? &bdev.vqs[2] : NULL;
	gv_driver_ok(&bdev);
	info.features = bdev.features;
	target = gv_config_read32(&bdev, 0);
	ready = true;
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
