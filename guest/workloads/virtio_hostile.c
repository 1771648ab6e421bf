// SPDX-License-Identifier: MIT
/*
 * workload=balloon-hostile and workload=virtio-hostile: a malicious virtio
 * driver. Each case hands a device something wrong, checks what a guest
 * can see (the buffer still comes back, DEVICE_NEEDS_RESET where the spec
 * says, `actual` untouched), recovers with a reset and a fresh probe, and
 * checks the device works again. The host's side (bad_pfns, failures, a
 * clean page database) is checked by the integration tests via --stats and
 * --check.
 */
#include "abi/virtio_balloon.h"
#include "abi/virtio_console.h"
#include "guest.h"
#include "guest/virtio/console.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/gfp.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

static struct gv_dev hdev;
static uint32_t *pfn_buf; /* one page of DMA memory for the device */

static bool needs_reset(void)
{
	return gv_status(&hdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

/* Probe @id again (a reset) and make queues [0, @nr_queues) ready. */
static void hostile_probe(uint32_t id, unsigned nr_queues)
{
	GUEST_ASSERT_EQ(gv_probe(&hdev, id, 0), 0);
	for (unsigned q = 0; q < nr_queues; q++)
		GUEST_ASSERT_EQ(gv_setup_queue(&hdev, q, 16), 0);
	pfn_buf = gv_dma_alloc(&hdev, 4096);
	GUEST_ASSERT(pfn_buf);
	gv_driver_ok(&hdev);
}

/* Send one buffer on @q; true if the device gave it back. */
static bool send_buf(unsigned q, const struct gv_buf *b)
{
	struct gv_queue *vq = &hdev.vqs[q];

	GUEST_ASSERT_EQ(gv_add(vq, b, 1, pfn_buf), 0);
	gv_kick(&hdev, vq);
	return gv_get_used(vq, NULL) != NULL;
}

static bool send_pfns(unsigned q, const uint32_t *pfns, unsigned n)
{
	struct gv_buf b = {gv_gpa(pfn_buf), n * 4, false};

	memcpy(pfn_buf, pfns, n * 4);
	return send_buf(q, &b);
}

/* --- balloon-hostile ---------------------------------------------------- */

/*
 * Bad PFNs are refused one by one (bad_pfns counts them) and the buffer
 * comes back: no reset needed. Returns how many PFNs were bad.
 */
static unsigned balloon_bad_pfns(uint32_t good)
{
	static uint8_t image_page[4096] __attribute__((aligned(4096)));
	uint32_t ram_end = (uint32_t)(guest_boot.ram_bytes >> 12);
	/*
	 * Hosted, the host knows the device's DMA page (FRAME_DMA). Native,
	 * DMA memory is the guest's own business (docs/dma.md), so the
	 * kernel image's .bss stands in: RESERVED on the host.
	 */
	uint64_t held =
		guest_boot.native ? gv_gpa(image_page) : gv_gpa(pfn_buf);
	uint32_t bad[] = {
		0xfffffff0u,			 /* outside RAM */
		(uint32_t)(BVM_MMIO_BASE >> 12), /* MMIO hole */
		0,				 /* boot data */
		0x100,				 /* kernel image */
		(uint32_t)(held >> 12),		 /* DMA (hosted) / .bss */
		ram_end,			 /* one past RAM */
	};
	unsigned n = MM_ARRAY_SIZE(bad);

	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_INFLATE, bad, n));
	GUEST_ASSERT(!needs_reset());
	/* Inflate a good page, then again (already ballooned). */
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_INFLATE, &good, 1));
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_INFLATE, &good, 1));
	/* Deflate a page never inflated (the DMA page), then the good one. */
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_DEFLATE, &bad[4], 1));
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_DEFLATE, &good, 1));
	GUEST_ASSERT(!needs_reset());
	guest_printf("balloon-hostile: %u bad PFNs refused, device fine\n",
		     n + 2);
	return n + 2;
}

/* A malformed buffer: the device needs a reset; a reset recovers it. */
static void balloon_malformed(const char *what, const struct gv_buf *b,
			      uint32_t good)
{
	send_buf(VIRTIO_BALLOON_Q_INFLATE, b);
	if (!needs_reset())
		guest_fail(__FILE__, __LINE__, "%s: no NEEDS_RESET", what);
	GUEST_ASSERT_EQ(gv_config_read32(&hdev, 4), 0); /* actual */
	hostile_probe(VIRTIO_ID_BALLOON, 2);
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_INFLATE, &good, 1));
	GUEST_ASSERT(send_pfns(VIRTIO_BALLOON_Q_DEFLATE, &good, 1));
	GUEST_ASSERT(!needs_reset());
	guest_printf("balloon-hostile: %s: NEEDS_RESET, reset recovers\n",
		     what);
}

static void balloon_hostile_run(void)
{
	void *page;
	uint32_t good;
	struct gv_buf b;

	GUEST_ASSERT_EQ(guest_mm_init(), 0);
	page = guest_page_source.ops->alloc_pages(guest_page_source.opaque,
						  GFP_KERNEL, 0);
	GUEST_ASSERT(page);
	good = (uint32_t)virt_to_pfn(page);
	hostile_probe(VIRTIO_ID_BALLOON, 2);
	balloon_bad_pfns(good);
	b = (struct gv_buf){gv_gpa(pfn_buf), 6, false};
	balloon_malformed("partial PFN", &b, good);
	b = (struct gv_buf){gv_gpa(pfn_buf), 4, true};
	balloon_malformed("device-writable PFN array", &b, good);
	b = (struct gv_buf){BVM_MMIO_BASE, 4, false};
	balloon_malformed("PFN array in the MMIO hole", &b, good);
	GUEST_ASSERT_EQ(gv_config_read32(&hdev, 4), 0);
	gv_probe(&hdev, VIRTIO_ID_BALLOON, 0); /* leave it reset */
	guest_page_source.ops->free_pages(guest_page_source.opaque, page, 0);
	guest_printf("balloon-hostile: done\n");
}
GUEST_WORKLOAD(balloon_hostile, "balloon-hostile",
	       "bad balloon PFNs and buffers; reset recovers",
	       balloon_hostile_run);

/* --- virtio-hostile (the console's transmitq) ----------------------------- */

/* A descriptor address meaning "the device's own DMA buffer". */
#define DESC_DMA 1ull

/* Write @n raw descriptors at the head of the transmitq and publish one. */
static void raw_chain(const struct virtq_desc *d, unsigned n)
{
	struct gv_queue *q = &hdev.vqs[VIRTIO_CONSOLE_Q_TX];

	for (unsigned i = 0; i < n; i++) {
		q->desc[i] = d[i];
		if (d[i].addr == DESC_DMA)
			q->desc[i].addr = gv_gpa(pfn_buf);
	}
	q->avail->ring[q->avail_idx % q->size] = 0;
	__atomic_store_n(&q->avail->idx, ++q->avail_idx, __ATOMIC_RELEASE);
	gv_kick(&hdev, q);
}

static void console_case(const char *what, const struct virtq_desc *d,
			 unsigned n)
{
	static const char msg[] = "ok\n";
	struct gv_buf b;

	hostile_probe(VIRTIO_ID_CONSOLE, 2);
	raw_chain(d, n);
	if (!needs_reset())
		guest_fail(__FILE__, __LINE__, "%s: no NEEDS_RESET", what);
	/* Reset and probe again: the device takes a good buffer. */
	hostile_probe(VIRTIO_ID_CONSOLE, 2);
	memcpy(pfn_buf, msg, sizeof(msg) - 1);
	b = (struct gv_buf){gv_gpa(pfn_buf), sizeof(msg) - 1, false};
	GUEST_ASSERT(send_buf(VIRTIO_CONSOLE_Q_TX, &b));
	GUEST_ASSERT(!needs_reset());
}

static void virtio_hostile_run(void)
{
	static uint8_t image_buf[64];
	const uint64_t hole = BVM_MMIO_BASE + 0x10000;
	const struct virtq_desc loop[2] = {
		{DESC_DMA, 8, VIRTQ_DESC_F_NEXT, 1},
		{DESC_DMA, 8, VIRTQ_DESC_F_NEXT, 0},
	};
	struct {
		const char *what;
		struct virtq_desc d;
	} cases[] = {
		{"buffer in the MMIO hole", {hole, 16, 0, 0}},
		{"buffer beyond RAM", {1ull << 40, 16, 0, 0}},
		{"length wraps 2^64", {~0ull - 8, 4096, 0, 0}},
		{"next beyond the table",
		 {DESC_DMA, 8, VIRTQ_DESC_F_NEXT, 999}},
		{"huge length", {DESC_DMA, 0xffffffffu, 0, 0}},
		{"indirect not negotiated",
		 {DESC_DMA, 16, VIRTQ_DESC_F_INDIRECT, 0}},
	};
	unsigned n = MM_ARRAY_SIZE(cases);

	GUEST_ASSERT_EQ(guest_mm_init(), 0);
	gvcon_release();
	for (unsigned i = 0; i < n; i++)
		console_case(cases[i].what, &cases[i].d, 1);
	console_case("descriptor loop", loop, 2);
	n++;
	if (!guest_boot.native) {
		/* Guest RAM, but not DMA memory mapped for the console. */
		struct virtq_desc d = {gv_gpa(image_buf), 16, 0, 0};

		console_case("buffer outside its DMA", &d, 1);
		n++;
	}
	GUEST_ASSERT_EQ(gvcon_init(), 0);
	guest_printf("virtio-hostile: %u bad chains: NEEDS_RESET each, reset "
		     "recovers\n",
		     n);
	guest_printf("virtio-hostile: done\n");
}
GUEST_WORKLOAD(virtio_hostile, "virtio-hostile",
	       "bad descriptors on the console; reset recovers",
	       virtio_hostile_run);
