// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_virtio_balloon.c - the balloon device against a real page
 * database and anonymous guest RAM (the pvmem fixture), driven through its
 * MMIO registers by a tiny driver, as a guest would: PFN checks, state
 * changes, release of backing (mincore), the page limit, deflate, stats,
 * config space, free page reporting (native model) and hostile buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/layout.h"
#include "abi/pvmem_ring.h"
#include "devices/pvmem_ring.h"
#include "devices/virtio_balloon.h"
#include "pvmem_fx.h"
#include "unit.h"

#define QSIZE	   16
#define DMA_ID	   VIRTIO_BALLOON_DMA_ID
#define AREA_BYTES (64u << 10)
#define BUF_OFFSET (32u << 10) /* buffers after the four rings */
#define BAL_IRQ	   17

/* The test's driver: rings for four queues and buffers in one DMA block. */
struct tdrv {
	struct virtio_balloon *b;
	struct virtio_mmio_dev *dev;
	uint64_t area;	   /* GPA of the DMA block */
	uint16_t avail[4]; /* next avail index per queue */
	unsigned nr_queues;
	unsigned irqs;
	char last_log[256];
	unsigned logs;
};

static struct tdrv drv;

static void drv_irq(void *opaque, uint32_t irq, bool level)
{
	ck_assert_uint_eq(irq, BAL_IRQ);
	if (level)
		drv.irqs++;
}

static void drv_log(void *opaque, const char *line)
{
	snprintf(drv.last_log, sizeof(drv.last_log), "%s", line);
	drv.logs++;
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	ck_assert_int_eq(virtio_mmio_access(drv.dev, off, &v, 4, false), 0);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	ck_assert_int_eq(virtio_mmio_access(drv.dev, off, &v, 4, true), 0);
}

static uint64_t q_desc(unsigned q)
{
	return drv.area + q * 4096ull;
}

static struct virtq_desc *q_desc_ptr(unsigned q)
{
	return fx_ptr(q_desc(q));
}

static struct virtq_avail *q_avail(unsigned q)
{
	return fx_ptr(q_desc(q) + 256);
}

static struct virtq_used *q_used(unsigned q)
{
	return fx_ptr(q_desc(q) + 512);
}

static uint64_t buf_gpa(unsigned i)
{
	return drv.area + BUF_OFFSET + i * 2048ull;
}

/* Negotiate @features and bring up @nr_queues queues; DRIVER_OK. */
static void drv_start(uint64_t features, unsigned nr_queues)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	/* Reset first: it releases the device's DMA blocks. */
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(fx_dma_alloc(DMA_ID, AREA_BYTES, 32, &drv.area), 0);
	memset(fx_ptr(drv.area), 0, AREA_BYTES);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	st |= VIRTIO_STATUS_FEATURES_OK;
	wr(VIRTIO_MMIO_STATUS, st);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), st);
	for (unsigned q = 0; q < nr_queues; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_ge(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q_desc(q));
		wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q_desc(q) + 256);
		wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q_desc(q) + 512);
		wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_READY) == 1, "queue %u: %s",
			      q, drv.last_log);
	}
	drv.nr_queues = nr_queues;
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
}

static const uint64_t all_features =
	VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) |
	VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);

static void drv_create(struct pvmem *pv)
{
	struct virtio_balloon_params p = {
		.link =
			{
				.mem = &fx.mem,
				.pvmem = pv,
				.dma_device_id = DMA_ID,
				.base = VIRTIO_BALLOON_MMIO_BASE,
				.irq = BAL_IRQ,
				.irq_set = drv_irq,
				.log = drv_log,
			},
		.mm = fx.mm,
		.ram_pages = (FX_LOW_SIZE + FX_HIGH_SIZE) / PAGE_SIZE,
	};

	memset(&drv, 0, sizeof(drv));
	ck_assert_int_eq(virtio_balloon_create(&p, &drv.b), 0);
	drv.dev = virtio_balloon_mmio(drv.b);
}

static void setup_hosted(void)
{
	fx_setup();
	drv_create(fx.p);
	drv_start(all_features, 3);
}

static void teardown(void)
{
	virtio_balloon_destroy(drv.b);
	fx_teardown();
}

/* Post a one-descriptor buffer on @q and kick. */
static void drv_post(unsigned q, uint64_t gpa, uint32_t len, bool write)
{
	struct virtq_avail *av = q_avail(q);
	uint16_t head = drv.avail[q] % QSIZE;

	q_desc_ptr(q)[head] = (struct virtq_desc){
		.addr = gpa,
		.len = len,
		.flags = write ? VIRTQ_DESC_F_WRITE : 0,
	};
	av->ring[head] = head;
	__atomic_store_n(&av->idx, ++drv.avail[q], __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n(&q_used(q)->idx, __ATOMIC_ACQUIRE);
}

/* Put @n PFNs on the inflate (or deflate) queue as one buffer. */
static void drv_pfns(bool inflate, const uint64_t *pfns, unsigned n)
{
	uint32_t *arr = fx_ptr(buf_gpa(0));
	unsigned q = inflate ? 0 : 1;
	uint16_t before = used_idx(q);

	ck_assert_uint_le(n, 512);
	for (unsigned i = 0; i < n; i++)
		arr[i] = (uint32_t)pfns[i];
	drv_post(q, buf_gpa(0), n * 4, false);
	ck_assert_uint_eq(used_idx(q), (uint16_t)(before + 1));
}

/* Allocate @n order-0 frames as the guest would, and dirty them. */
static void guest_alloc(uint64_t *pfns, unsigned n)
{
	unsigned done;

	ck_assert_int_eq(fx_alloc(0, 0, n, pfns, &done), 0);
	ck_assert_uint_eq(done, n);
	for (unsigned i = 0; i < n; i++)
		memset(fx_ptr(MM_PFN_TO_ADDR(pfns[i])), 0xa5, PAGE_SIZE);
}

static bool resident(uint64_t pfn)
{
	unsigned char vec = 0;
	void *p = fx_ptr(MM_PFN_TO_ADDR(pfn));

	ck_assert_int_eq(mincore(p, PAGE_SIZE, &vec), 0);
	return vec & 1;
}

static struct balloon_status status(void)
{
	struct balloon_status st;

	virtio_balloon_dev_get_status(drv.b, &st);
	ck_assert(st.present);
	return st;
}

static uint32_t cfg_read32(unsigned off)
{
	uint32_t v = 0;

	ck_assert_int_eq(virtio_mmio_access(drv.dev, VIRTIO_MMIO_CONFIG + off,
					    &v, 4, false),
			 0);
	return v;
}

START_TEST(test_config_space)
{
	uint32_t gen = rd(VIRTIO_MMIO_CONFIG_GENERATION);
	unsigned irqs = drv.irqs;
	uint32_t v = 77;
	struct balloon_status st;

	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	ck_assert_uint_eq(cfg_read32(0), 0);
	ck_assert_int_eq(virtio_balloon_dev_set_target(drv.b, 1000), 0);
	ck_assert_uint_eq(cfg_read32(0), 1000);
	ck_assert_uint_ne(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	ck_assert_uint_gt(drv.irqs, irqs);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS) &
				  VIRTIO_MMIO_INT_CONFIG,
			  VIRTIO_MMIO_INT_CONFIG);
	/* The target is the host's: a guest write to num_pages is ignored. */
	virtio_mmio_access(drv.dev, VIRTIO_MMIO_CONFIG, &v, 4, true);
	ck_assert_uint_eq(cfg_read32(0), 1000);
	/* actual is the guest's, also by halves. */
	virtio_mmio_access(drv.dev, VIRTIO_MMIO_CONFIG + 4, &v, 4, true);
	ck_assert_uint_eq(cfg_read32(4), 77);
	v = 0x0102;
	virtio_mmio_access(drv.dev, VIRTIO_MMIO_CONFIG + 6, &v, 2, true);
	ck_assert_uint_eq(cfg_read32(4), 0x0102004d);
	st = status();
	ck_assert_uint_eq(st.target_pages, 1000);
	ck_assert_uint_eq(st.actual_pages, 0x0102004d);
	ck_assert_uint_eq(st.stats_age_ms, UINT64_MAX);
	/* Beyond RAM or the 32-bit field: refused, nothing changes. */
	ck_assert_int_eq(virtio_balloon_dev_set_target(drv.b, 1ull << 33),
			 -EINVAL);
	ck_assert_int_eq(
		virtio_balloon_dev_set_target(
			drv.b, (FX_LOW_SIZE + FX_HIGH_SIZE) / PAGE_SIZE + 1),
		-EINVAL);
	ck_assert_uint_eq(cfg_read32(0), 1000);
	/* Setting the same target again sends no interrupt. */
	irqs = drv.irqs;
	ck_assert_int_eq(virtio_balloon_dev_set_target(drv.b, 1000), 0);
	ck_assert_uint_eq(drv.irqs, irqs);
}
END_TEST

START_TEST(test_inflate_releases_backing)
{
	uint64_t pfns[256];
	uint64_t tot = pvmem_tot_pages(fx.p), max = pvmem_max_pages(fx.p);
	struct balloon_status st;

	guest_alloc(pfns, 256);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot + 256);
	for (unsigned i = 0; i < 256; i++)
		ck_assert(resident(pfns[i]));
	drv_pfns(true, pfns, 256);
	for (unsigned i = 0; i < 256; i++) {
		ck_assert_msg(!resident(pfns[i]), "pfn %#llx still resident",
			      (unsigned long long)pfns[i]);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfns[i])->state,
				  FRAME_BALLOON);
	}
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 256);
	/* The page limit and the charge move with the balloon. */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot);
	ck_assert_uint_eq(pvmem_max_pages(fx.p), max - 256);
	st = status();
	ck_assert_uint_eq(st.inflated_frames, 256);
	ck_assert_uint_eq(st.bad_pfns, 0);
	ck_assert_uint_eq(virtio_mmio_status(drv.dev) &
				  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			  0);
	fx_assert_consistent();
	/* A frame in the balloon cannot be freed behind its back. */
	ck_assert_int_ne(fx_free1(pfns[0], 0), 0);
	fx_assert_consistent();
}
END_TEST

/*
 * Host huge pages go whole: a 2 MiB block in one buffer is released as one
 * huge page; sent in two halves (two notifications), the first half is
 * released in 4 KiB runs at the end of its notification and the second
 * completes the huge page.
 */
START_TEST(test_inflate_whole_huge_pages)
{
	uint64_t blk[2], pfns[512];
	unsigned done;
	struct balloon_status st;

	ck_assert_int_eq(fx_alloc(0, 9, 2, blk, &done), 0);
	ck_assert_uint_eq(done, 2);
	ck_assert_int_eq(mm_split_block(fx.mm, blk[0], 9), 0);
	ck_assert_int_eq(mm_split_block(fx.mm, blk[1], 9), 0);
	for (unsigned i = 0; i < 512; i++)
		pfns[i] = blk[0] + i;
	drv_pfns(true, pfns, 512);
	st = status();
	ck_assert_uint_eq(st.huge_released, 1);
	ck_assert_uint_eq(st.partial_released, 0);
	for (unsigned i = 0; i < 512; i++)
		pfns[i] = blk[1] + i;
	memset(fx_ptr(MM_PFN_TO_ADDR(blk[1])), 0x5a, 2u << 20);
	drv_pfns(true, pfns, 256);
	st = status();
	ck_assert_uint_eq(st.huge_released, 1);
	ck_assert_uint_eq(st.partial_released, 1);
	ck_assert(!resident(blk[1]) && !resident(blk[1] + 255));
	ck_assert(resident(blk[1] + 256) && resident(blk[1] + 511));
	drv_pfns(true, pfns + 256, 256);
	st = status();
	ck_assert_uint_eq(st.huge_released, 2);
	ck_assert_uint_eq(st.partial_released, 1);
	/* Three inflate notifications, timed; the discards are part of it. */
	ck_assert_uint_eq(st.inflate_notifies, 3);
	ck_assert_uint_gt(st.discard_ns, 0);
	ck_assert_uint_ge(st.inflate_ns, st.discard_ns);
	ck_assert(!resident(blk[1] + 256) && !resident(blk[1] + 511));
	ck_assert_uint_eq(st.inflated_frames, 1024);
	fx_assert_consistent();
	drv_pfns(false, pfns, 512);
	for (unsigned i = 0; i < 512; i++)
		pfns[i] = blk[0] + i;
	drv_pfns(false, pfns, 512);
	for (unsigned i = 0; i < 512; i++) {
		ck_assert_int_eq(fx_free1(blk[0] + i, 0), 0);
		ck_assert_int_eq(fx_free1(blk[1] + i, 0), 0);
	}
	fx_assert_consistent();
}
END_TEST

START_TEST(test_deflate_restores)
{
	uint64_t pfns[64];
	uint64_t tot = pvmem_tot_pages(fx.p), max = pvmem_max_pages(fx.p);
	uint8_t *p;

	guest_alloc(pfns, 64);
	drv_pfns(true, pfns, 64);
	drv_pfns(false, pfns, 64);
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), tot + 64);
	ck_assert_uint_eq(pvmem_max_pages(fx.p), max);
	/* Backing comes back on touch, zero-filled. */
	p = fx_ptr(MM_PFN_TO_ADDR(pfns[7]));
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
	p[0] = 1;
	ck_assert(resident(pfns[7]));
	/* Held again: the guest can free them. */
	for (unsigned i = 0; i < 64; i++)
		ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
	ck_assert_uint_eq(status().bad_pfns, 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_bad_pfns_refused)
{
	uint64_t good[4], dma_gpa, list[12];
	unsigned n = 0;
	struct balloon_status st;

	guest_alloc(good, 4);
	ck_assert_int_eq(fx_dma_alloc(9, 4096, 32, &dma_gpa), 0);
	list[n++] = good[0];
	list[n++] = MM_ADDR_TO_PFN(FX_LOW_SIZE) + 5; /* in the hole */
	list[n++] = good[1];
	list[n++] = 0x100;		     /* kernel image: RESERVED */
	list[n++] = 0x10;		     /* boot data: RESERVED */
	list[n++] = MM_ADDR_TO_PFN(dma_gpa); /* DMA block */
	list[n++] = MM_ADDR_TO_PFN(FX_LOW_SIZE) - 1; /* FREE (top of RAM) */
	list[n++] = good[2];
	list[n++] = good[2]; /* twice in one batch */
	list[n++] = 0xffffffffu;
	list[n++] = good[3];
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, list[6])->state, FRAME_FREE);
	drv_pfns(true, list, n);
	st = status();
	ck_assert_uint_eq(st.bad_pfns, 7);
	ck_assert_uint_eq(st.inflated_frames, 4);
	ck_assert_uint_ne(drv.logs, 0);
	ck_assert_ptr_nonnull(strstr(drv.last_log, "refused"));
	/* Not a protocol error: the device stays live. */
	ck_assert_uint_eq(virtio_mmio_status(drv.dev) &
				  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			  0);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, MM_ADDR_TO_PFN(dma_gpa))->state,
			  FRAME_DMA);
	/* Deflating frames that are not in the balloon is refused too. */
	list[0] = good[0];
	list[1] = 0x100;
	list[2] = MM_ADDR_TO_PFN(dma_gpa);
	drv_pfns(false, list, 3);
	st = status();
	ck_assert_uint_eq(st.bad_pfns, 9);
	ck_assert_uint_eq(st.inflated_frames, 3);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, 0x100)->state, FRAME_RESERVED);
	fx_assert_consistent();
}
END_TEST

/*
 * Hosted model with a page ring (issue 12): a frame still in the ring's
 * supply (the guest never took it) and one the guest put in its return
 * ring are not the guest's to balloon: both refused, as FREE refuses them;
 * the frame it took and kept goes into the balloon.
 */
START_TEST(test_ring_frames_refused)
{
	struct pvmem_rings *r = pvmem_rings(fx.p);
	uint64_t gpa, offered, returned, kept, list[3];
	struct pvmem_ring *ring;
	struct balloon_status st;

	ck_assert_int_eq(pvmem_rings_setup(r, 1, &gpa), 0);
	ring = fx_ptr(gpa);
	ck_assert_int_eq(pvmem_rings_kick(r, 0), 0);
	ck_assert_uint_ge(ring->sup_prod - ring->sup_cons, 3);
	returned = pvmem_ring_take(ring);
	kept = pvmem_ring_take(ring);
	ck_assert(returned && kept);
	offered = ring->sup[ring->sup_cons & (PVMEM_RING_SUP_SLOTS - 1)];
	ck_assert(offered && pvmem_rings_holds(r, offered));
	ck_assert(pvmem_ring_put(ring, returned));
	list[0] = offered;
	list[1] = returned;
	list[2] = kept;
	drv_pfns(true, list, 3);
	st = status();
	ck_assert_uint_eq(st.bad_pfns, 2);
	ck_assert_uint_eq(st.inflated_frames, 1);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, kept)->state, FRAME_BALLOON);
	/* Still offered, still the host's to take back. */
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, offered)->state, FRAME_GUEST);
	ck_assert(pvmem_rings_holds(r, offered));
	/* Given back before the inflate: freed (or offered again). */
	ck_assert_uint_ne(mm_pfn_to_page(fx.mm, returned)->state,
			  FRAME_BALLOON);
	ck_assert(mm_pfn_to_page(fx.mm, returned)->state == FRAME_FREE ||
		  pvmem_rings_holds(r, returned));
	fx_assert_consistent();
}
END_TEST

START_TEST(test_oom_deflate_counted)
{
	uint64_t pfns[32];

	ck_assert_int_eq(virtio_balloon_dev_set_target(drv.b, 32), 0);
	guest_alloc(pfns, 32);
	drv_pfns(true, pfns, 32);
	/* At the target, the guest takes 8 back: deflate-on-OOM. */
	drv_pfns(false, pfns, 8);
	ck_assert_uint_eq(status().oom_deflates, 8);
	/* Following a lower target is not. */
	ck_assert_int_eq(virtio_balloon_dev_set_target(drv.b, 4), 0);
	drv_pfns(false, pfns + 8, 20);
	ck_assert_uint_eq(status().oom_deflates, 8);
	drv_pfns(false, pfns + 28, 4);
	ck_assert_uint_eq(status().oom_deflates, 12);
	fx_assert_consistent();
}
END_TEST

static void assert_needs_reset(void)
{
	ck_assert_uint_eq(virtio_mmio_status(drv.dev) &
				  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

START_TEST(test_bad_buffers_need_reset)
{
	uint64_t pfns[2];
	int kind = _i;

	guest_alloc(pfns, 2);
	memcpy(fx_ptr(buf_gpa(0)), (uint32_t[]){(uint32_t)pfns[0], 0}, 8);
	switch (kind) {
	case 0: /* not whole PFNs */
		drv_post(0, buf_gpa(0), 6, false);
		break;
	case 1: /* a device-writable PFN array */
		drv_post(0, buf_gpa(0), 8, true);
		break;
	case 2: /* outside the device's DMA mappings (a guest frame) */
		drv_post(0, MM_PFN_TO_ADDR(pfns[1]), 8, false);
		break;
	case 3: /* outside RAM */
		drv_post(0, 0xd0000000ull, 8, false);
		break;
	default: /* a loop */
		q_desc_ptr(0)[0] = (struct virtq_desc){
			.addr = buf_gpa(0), .len = 4, .flags = 1, .next = 0};
		q_avail(0)->ring[0] = 0;
		q_avail(0)->idx = ++drv.avail[0];
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		break;
	}
	assert_needs_reset();
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 0);
	/* Further kicks are ignored; a reset brings the device back. */
	drv_post(0, buf_gpa(0), 4, false);
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert(!pvmem_dma_contains(fx.p, DMA_ID, drv.area, 4096));
	memset(drv.avail, 0, sizeof(drv.avail));
	drv_start(all_features, 3);
	drv_pfns(true, pfns, 1);
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 1);
	fx_assert_consistent();
}
END_TEST

static void stats_fill(uint64_t gpa, uint64_t memfree)
{
	struct virtio_balloon_stat s[3] = {
		{VIRTIO_BALLOON_S_MEMFREE, memfree},
		{VIRTIO_BALLOON_S_MEMTOT, 64ull << 20},
		{VIRTIO_BALLOON_S_CACHES, 12345},
	};

	memcpy(fx_ptr(gpa), s, sizeof(s));
}

START_TEST(test_stats)
{
	struct balloon_status st;
	unsigned irqs;

	stats_fill(buf_gpa(1), 1000);
	drv_post(2, buf_gpa(1), 30, false);
	/* The device holds the buffer: nothing used yet. */
	ck_assert_uint_eq(used_idx(2), 0);
	st = status();
	ck_assert_uint_eq(st.nr_stats, 3);
	ck_assert_uint_eq(st.stats[0].tag, VIRTIO_BALLOON_S_MEMFREE);
	ck_assert_uint_eq(st.stats[0].val, 1000);
	ck_assert_uint_eq(st.stats[2].val, 12345);
	ck_assert_uint_lt(st.stats_age_ms, 10000);
	ck_assert_str_eq(virtio_balloon_stat_name(st.stats[1].tag),
			 "total_memory");
	ck_assert_str_eq(virtio_balloon_stat_name(999), "unknown");
	/* Asking for new stats gives the buffer back with an interrupt. */
	irqs = drv.irqs;
	ck_assert_int_eq(virtio_balloon_dev_request_stats(drv.b), 0);
	ck_assert_uint_eq(used_idx(2), 1);
	ck_assert_uint_gt(drv.irqs, irqs);
	ck_assert_int_eq(virtio_balloon_dev_request_stats(drv.b), -EAGAIN);
	/* The driver refills and re-queues it. */
	stats_fill(buf_gpa(1), 2000);
	drv_post(2, buf_gpa(1), 30, false);
	ck_assert_uint_eq(status().stats[0].val, 2000);
	/* A longer buffer is cut at BALLOON_MAX_STATS, a short one rounds. */
	drv_post(2, buf_gpa(1), 7, false);
	ck_assert_uint_eq(status().nr_stats, 0);
	ck_assert_uint_eq(used_idx(2), 2); /* the superseded one came back */
}
END_TEST

/* mm_check() only: the native tests bypass pvmem's page accounting. */
static void assert_mm_clean(void)
{
	char why[256] = "";

	ck_assert_msg(mm_check(fx.mm, why, sizeof(why)) == 0, "mm_check: %s",
		      why);
}

/* Native model: no pvmem; the guest owns its frames from the start. */
static void setup_native(void)
{
	fx_setup();
	drv_create(NULL);
}

START_TEST(test_native_reporting)
{
	uint64_t features =
		all_features | VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING);
	uint64_t pfn, pfns[8];
	struct mm_stats st;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) &
		  (1u << VIRTIO_BALLOON_F_REPORTING));
	drv_start(features, 4);
	/* A guest-held 2 MiB block the guest reports free. */
	ck_assert_int_eq(mm_alloc_pages(fx.mm, 0, 9, &pfn), 0);
	memset(fx_ptr(MM_PFN_TO_ADDR(pfn)), 1, 2u << 20);
	drv_post(3, MM_PFN_TO_ADDR(pfn), 2u << 20, true);
	ck_assert_uint_eq(used_idx(3), 1);
	ck_assert(!resident(pfn));
	ck_assert(!resident(pfn + 511));
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn)->state, FRAME_GUEST);
	ck_assert(mm_pfn_to_page(fx.mm, pfn + 300)->flags & PG_DISCARDED);
	ck_assert_uint_eq(status().reported_pages, 512);
	mm_get_stats(fx.mm, &st);
	ck_assert_uint_eq(st.guest_discarded, 512);
	assert_mm_clean();
	/* Inflate works the same without the page limit. */
	guest_alloc(pfns, 8);
	drv_pfns(true, pfns, 8);
	ck_assert_uint_eq(fx_frames(FRAME_BALLOON), 8);
	/* Reporting a frame the guest does not hold is a protocol error. */
	drv_post(3, FX_LOW_SIZE - PAGE_SIZE, PAGE_SIZE, true);
	assert_needs_reset();
	ck_assert_uint_eq(
		mm_pfn_to_page(fx.mm, MM_ADDR_TO_PFN(FX_LOW_SIZE) - 1)->state,
		FRAME_FREE);
	assert_mm_clean();
}
END_TEST

/* Malformed reports: nothing is discarded, the device needs a reset. */
START_TEST(test_native_bad_reports)
{
	uint64_t features =
		all_features | VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING);
	uint64_t pfn, gpa;

	ck_assert_int_eq(mm_alloc_pages(fx.mm, 0, 9, &pfn), 0);
	gpa = MM_PFN_TO_ADDR(pfn);
	memset(fx_ptr(gpa), 1, 2u << 20);
	switch (_i) {
	case 0: /* device-readable: not how reports travel */
		drv_start(features, 4);
		drv_post(3, gpa, 2u << 20, false);
		break;
	case 1: /* not whole pages */
		drv_start(features, 4);
		drv_post(3, gpa + 8, PAGE_SIZE, true);
		break;
	case 2: /* runs past the guest's block into free frames */
		drv_start(features, 4);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn + 512)->state,
				  FRAME_FREE);
		drv_post(3, gpa, (2u << 20) + PAGE_SIZE, true);
		break;
	}
	assert_needs_reset();
	ck_assert(resident(pfn));
	ck_assert(resident(pfn + 511));
	ck_assert_uint_eq(status().reported_pages, 0);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn + 1)->flags, 0);
	assert_mm_clean();
}
END_TEST

START_TEST(test_hosted_offers_no_reporting)
{
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES) &
				  (1u << VIRTIO_BALLOON_F_REPORTING),
			  0);
}
END_TEST

/* Random inflate/deflate batches (with junk) against a model. */
START_TEST(test_random_vs_model)
{
	enum { N = 512 };
	uint64_t pfns[N], batch[256];
	bool in[N] = {false};
	unsigned seed = (unsigned)unit_seed(), rounds = 200, nr_in = 0;
	uint64_t bad = 0, max0 = pvmem_max_pages(fx.p);

	srand(seed);
	guest_alloc(pfns, N);
	for (unsigned r = 0; r < rounds; r++) {
		bool inflate = rand() & 1;
		unsigned n = 1 + (unsigned)rand() % 256, expect_bad = 0;
		bool seen[N] = {false};

		for (unsigned i = 0; i < n; i++) {
			unsigned k = (unsigned)rand() % N;

			if (rand() % 16 == 0) {
				batch[i] = 0x20000000u + (unsigned)rand();
				expect_bad++;
				continue;
			}
			batch[i] = pfns[k];
			if (in[k] != inflate && !seen[k]) {
				seen[k] = true;
				in[k] = inflate;
				nr_in += inflate ? 1 : -1u;
			} else {
				expect_bad++;
			}
		}
		drv_pfns(inflate, batch, n);
		bad += expect_bad;
		ck_assert_msg(status().bad_pfns == bad &&
				      fx_frames(FRAME_BALLOON) == nr_in,
			      "round %u (seed %u): bad %llu/%llu balloon "
			      "%llu/%u",
			      r, seed, (unsigned long long)status().bad_pfns,
			      (unsigned long long)bad,
			      (unsigned long long)fx_frames(FRAME_BALLOON),
			      nr_in);
		ck_assert_uint_eq(pvmem_max_pages(fx.p), max0 - nr_in);
	}
	fx_assert_consistent();
}
END_TEST

static Suite *virtio_balloon_suite(void)
{
	Suite *s = suite_create("virtio_balloon");
	TCase *tc = tcase_create("hosted");
	TCase *tn = tcase_create("native");

	tcase_add_checked_fixture(tc, setup_hosted, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config_space);
	tcase_add_test(tc, test_inflate_releases_backing);
	tcase_add_test(tc, test_inflate_whole_huge_pages);
	tcase_add_test(tc, test_deflate_restores);
	tcase_add_test(tc, test_bad_pfns_refused);
	tcase_add_test(tc, test_ring_frames_refused);
	tcase_add_test(tc, test_oom_deflate_counted);
	tcase_add_loop_test(tc, test_bad_buffers_need_reset, 0, 5);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_hosted_offers_no_reporting);
	tcase_add_test(tc, test_random_vs_model);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, setup_native, teardown);
	tcase_set_timeout(tn, 60);
	tcase_add_test(tn, test_native_reporting);
	tcase_add_loop_test(tn, test_native_bad_reports, 0, 3);
	suite_add_tcase(s, tn);
	return s;
}
UNIT_SUITE(virtio_balloon_suite)
