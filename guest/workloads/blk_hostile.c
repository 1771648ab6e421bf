// SPDX-License-Identifier: MIT
/*
 * workload=blk-hostile: a malicious virtio-blk driver. Requests the device
 * can answer get their status byte (IOERR for sectors beyond the disk, a
 * length that is not whole sectors, a write to a read-only disk; UNSUPP
 * for unknown types and DISCARD / WRITE_ZEROES flags) and the device keeps
 * working. Chains it cannot answer (a short header, the status byte in a
 * read-only buffer, buffers in the MMIO hole, beyond RAM or - hosted -
 * outside the disk's DMA mappings, a bad `next`, more data segments than
 * seg_max)
 * put it in DEVICE_NEEDS_RESET; a reset and a new probe recover it, checked
 * by a good write and read each time. Option: blk-hostile.disk=N.
 */
#include "abi/blk_pattern.h"
#include "abi/layout.h"
#include "guest.h"
#include "guest/virtio/blk.h"
#include "mm/errno.h"
#include "mm/port.h"
#include "mm_stack.h"

#define H_TIMEOUT_MS 5000

enum expect { EXPECT_IOERR, EXPECT_UNSUPP, EXPECT_RESET };

static struct gblk_disk *hd;
static unsigned h_disk;
/* Header at 0, status at 16, data from 4096: DMA memory of the disk. */
static uint8_t *h_buf;
#define H_BUF_BYTES (64u << 10)
#define H_DATA	    4096u

static const char *expect_name(enum expect e)
{
	return e == EXPECT_IOERR    ? "IOERR"
	       : e == EXPECT_UNSUPP ? "UNSUPP"
				    : "NEEDS_RESET";
}

static void h_open(void)
{
	int err = gblk_open(h_disk, 0, &hd);

	if (err)
		guest_fail(__FILE__, __LINE__,
			   "blk-hostile: no virtio-blk disk %u (%d)", h_disk,
			   err);
	/*
	 * The device is reset now. Hosted, that released the old buffer
	 * (its address may already be a new ring); native, it is ours.
	 */
	if (h_buf && guest_boot.native)
		GUEST_ASSERT_EQ(gblk_dma_free(hd, H_BUF_BYTES, h_buf), 0);
	GUEST_ASSERT_EQ(gblk_dma_alloc(hd, H_BUF_BYTES, (void **)&h_buf), 0);
}

/*
 * Wait for the chain just made available on queue 0: its status byte, or
 * -EIO when the device stopped (NEEDS_RESET), -ETIMEDOUT. Polls the used
 * ring; the status register (an exit) once a millisecond.
 */
static int h_result(uint8_t *status)
{
	struct gv_queue *vq = &gblk_gv(hd)->vqs[0];
	uint64_t ms_cycles = guest_tsc_khz(), next = rdtsc() + ms_cycles;

	gv_kick(gblk_gv(hd), vq);
	for (unsigned ms = 0; ms < H_TIMEOUT_MS;) {
		if (gv_get_used(vq, NULL))
			return *status;
		if (rdtsc() >= next) {
			if (gblk_needs_reset(hd))
				return -EIO;
			next += ms_cycles;
			ms++;
		}
		__builtin_ia32_pause();
	}
	return -110;
}

/* Send a chain of @n raw buffers; the header and status are in h_buf. */
static int h_send(const struct gv_buf *bufs, unsigned n)
{
	h_buf[16] = GBLK_S_PENDING;
	GUEST_ASSERT_EQ(gv_add(&gblk_gv(hd)->vqs[0], bufs, n, h_buf), 0);
	return h_result(&h_buf[16]);
}

static void h_header(uint32_t type, uint64_t sector)
{
	*(struct virtio_blk_outhdr *)h_buf =
		(struct virtio_blk_outhdr){.type = type, .sector = sector};
}

static struct gv_buf hdr_buf(void)
{
	return (struct gv_buf){gv_gpa(h_buf), 16, false};
}

static struct gv_buf status_buf(void)
{
	return (struct gv_buf){gv_gpa(h_buf + 16), 1, true};
}

/* A good 4 KiB write and read-back on the (recovered) device. */
static void h_check_works(const char *after)
{
	uint8_t *p = h_buf + H_DATA;
	struct gblk_req r = {.type = VIRTIO_BLK_T_IN, .buf = p, .len = 4096};

	if (!gblk_info(hd)->read_only) {
		blk_pattern_fill(p, 0, 4096, 7);
		r.type = VIRTIO_BLK_T_OUT;
		if (gblk_rw(hd, 0, &r) != VIRTIO_BLK_S_OK)
			guest_fail(__FILE__, __LINE__,
				   "blk-hostile: after %s: write failed",
				   after);
		memset(p, 0, 4096);
		r.type = VIRTIO_BLK_T_IN;
	}
	if (gblk_rw(hd, 0, &r) != VIRTIO_BLK_S_OK)
		guest_fail(__FILE__, __LINE__,
			   "blk-hostile: after %s: read failed", after);
	if (!gblk_info(hd)->read_only &&
	    blk_pattern_check(p, 0, 4096, 7) != 4096)
		guest_fail(__FILE__, __LINE__,
			   "blk-hostile: after %s: read back wrong data",
			   after);
}

/* Judge one case's outcome; recover from NEEDS_RESET. */
static void h_judge(const char *what, int got, enum expect want)
{
	bool ok;

	if (want == EXPECT_RESET)
		ok = got == -EIO;
	else
		ok = got == (want == EXPECT_IOERR ? VIRTIO_BLK_S_IOERR
						  : VIRTIO_BLK_S_UNSUPP);
	if (!ok)
		guest_fail(__FILE__, __LINE__,
			   "blk-hostile: %s: got %d, want %s", what, got,
			   expect_name(want));
	if (want == EXPECT_RESET) {
		h_open();
		h_check_works(what);
		guest_printf("blk-hostile: %s: NEEDS_RESET, reset recovers\n",
			     what);
	} else {
		GUEST_ASSERT(!gblk_needs_reset(hd));
		h_check_works(what);
		guest_printf("blk-hostile: %s: %s, device fine\n", what,
			     expect_name(want));
	}
}

/* A well-framed request with @len data bytes at h_buf + H_DATA. */
static int h_request(uint32_t type, uint64_t sector, uint32_t len,
		     bool data_written)
{
	struct gv_buf b[3];
	unsigned n = 0;

	h_header(type, sector);
	b[n++] = hdr_buf();
	if (len)
		b[n++] = (struct gv_buf){gv_gpa(h_buf + H_DATA), len,
					 data_written};
	b[n++] = status_buf();
	return h_send(b, n);
}

static int h_range(uint32_t type, uint64_t sector, uint32_t sectors,
		   uint32_t flags)
{
	*(struct virtio_blk_discard *)(h_buf + H_DATA) =
		(struct virtio_blk_discard){sector, sectors, flags};
	return h_request(type, 0, sizeof(struct virtio_blk_discard), false);
}

/* Cases the device answers with a status byte. */
static unsigned h_status_cases(void)
{
	const struct gblk_info *in = gblk_info(hd);
	uint64_t cap = in->capacity;
	unsigned n = 0;

	h_judge("read at the capacity",
		h_request(VIRTIO_BLK_T_IN, cap, 4096, true), EXPECT_IOERR);
	h_judge("read across the end",
		h_request(VIRTIO_BLK_T_IN, cap - 1, 4096, true), EXPECT_IOERR);
	h_judge("read at sector 2^64 - 1",
		h_request(VIRTIO_BLK_T_IN, ~0ull, 512, true), EXPECT_IOERR);
	h_judge("read of 100 bytes (not whole sectors)",
		h_request(VIRTIO_BLK_T_IN, 0, 100, true), EXPECT_IOERR);
	n += 4;
	if (!in->read_only) {
		h_judge("write across the end",
			h_request(VIRTIO_BLK_T_OUT, cap - 1, 4096, false),
			EXPECT_IOERR);
		n++;
	}
	h_judge("unknown request type 99", h_request(99, 0, 0, false),
		EXPECT_UNSUPP);
	h_judge("GET_LIFETIME (not offered)",
		h_request(VIRTIO_BLK_T_GET_LIFETIME, 0, 16, true),
		EXPECT_UNSUPP);
	n += 2;
	if (!in->read_only && in->features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)) {
		h_judge("DISCARD with an unknown flag",
			h_range(VIRTIO_BLK_T_DISCARD, 0, 8, 0x80),
			EXPECT_UNSUPP);
		h_judge("DISCARD beyond the end",
			h_range(VIRTIO_BLK_T_DISCARD, cap, 8, 0), EXPECT_IOERR);
		n += 2;
	}
	if (!in->read_only &&
	    in->features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)) {
		h_judge("WRITE_ZEROES with an unknown flag",
			h_range(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0x80),
			EXPECT_UNSUPP);
		n++;
	}
	if (in->read_only) {
		uint8_t before[512];
		struct gblk_req r = {.type = VIRTIO_BLK_T_IN,
				     .buf = h_buf + H_DATA,
				     .len = 512};

		GUEST_ASSERT_EQ(gblk_rw(hd, 0, &r), VIRTIO_BLK_S_OK);
		memcpy(before, h_buf + H_DATA, 512);
		memset(h_buf + H_DATA, 0xee, 512);
		h_judge("write to a read-only disk",
			h_request(VIRTIO_BLK_T_OUT, 0, 512, false),
			EXPECT_IOERR);
		GUEST_ASSERT_EQ(gblk_rw(hd, 0, &r), VIRTIO_BLK_S_OK);
		GUEST_ASSERT_EQ(memcmp(before, h_buf + H_DATA, 512), 0);
		n++;
	}
	return n;
}

/* Write raw descriptors at the head of queue 0 and publish one chain. */
static int h_raw(const struct virtq_desc *d, unsigned n)
{
	struct gv_queue *q = &gblk_gv(hd)->vqs[0];

	for (unsigned i = 0; i < n; i++)
		q->desc[i] = d[i];
	q->avail->ring[q->avail_idx % q->size] = 0;
	__atomic_store_n(&q->avail->idx, ++q->avail_idx, __ATOMIC_RELEASE);
	return h_result(&h_buf[16]);
}

/*
 * Through the driver instead of raw chains: gblk_wait() must notice the
 * device stopped (DEVICE_NEEDS_RESET) and return -EIO, not hang.
 */
static int h_driver_wait(uint64_t data_gpa)
{
	struct gblk_req r = {.type = VIRTIO_BLK_T_IN,
			     .buf = (void *)(uintptr_t)data_gpa,
			     .len = 4096,
			     .raw = true};
	int err = gblk_submit(hd, 0, &r);

	if (err)
		return err;
	gblk_kick(hd, 0);
	return gblk_wait(hd, 0, 1, H_TIMEOUT_MS);
}

/* Chains the device cannot answer: NEEDS_RESET each. */
static unsigned h_reset_cases(void)
{
	const struct gblk_info *in = gblk_info(hd);
	static uint8_t image_buf[4096] __attribute__((aligned(4096)));
	const uint64_t hole = BVM_MMIO_BASE + 0x10000, beyond = 1ull << 40;
	struct gv_buf b[3];
	unsigned n = 0;

	h_header(VIRTIO_BLK_T_IN, 0);
	b[0] = (struct gv_buf){gv_gpa(h_buf), 8, false};
	b[1] = status_buf();
	h_judge("header of 8 bytes", h_send(b, 2), EXPECT_RESET);
	b[0] = hdr_buf();
	/* An OUT whose last byte is read-only: nowhere to put a status. */
	h_header(VIRTIO_BLK_T_OUT, 0);
	b[1] = (struct gv_buf){gv_gpa(h_buf + H_DATA), 512, false};
	b[2] = (struct gv_buf){gv_gpa(h_buf + 16), 1, false};
	h_judge("status byte in a read-only buffer", h_send(b, 3),
		EXPECT_RESET);
	h_header(VIRTIO_BLK_T_IN, 0);
	b[1] = (struct gv_buf){hole, 4096, true};
	b[2] = status_buf();
	h_judge("data buffer in the MMIO hole", h_send(b, 3), EXPECT_RESET);
	h_header(VIRTIO_BLK_T_IN, 0);
	b[1] = (struct gv_buf){beyond, 4096, true};
	h_judge("data buffer beyond RAM", h_send(b, 3), EXPECT_RESET);
	h_header(VIRTIO_BLK_T_IN, 0);
	b[0] = (struct gv_buf){hole, 16, false};
	b[1] = status_buf();
	h_judge("header in the MMIO hole", h_send(b, 2), EXPECT_RESET);
	h_judge("the driver's own wait: data beyond RAM", h_driver_wait(beyond),
		EXPECT_RESET);
	n += 6;
	{
		const struct virtq_desc bad_next[2] = {
			{gv_gpa(h_buf), 16, VIRTQ_DESC_F_NEXT, 999},
			{gv_gpa(h_buf + 16), 1, VIRTQ_DESC_F_WRITE, 0},
		};

		h_header(VIRTIO_BLK_T_IN, 0);
		h_judge("next beyond the table", h_raw(bad_next, 2),
			EXPECT_RESET);
		n++;
	}
	if (in->seg_max && in->seg_max + 2 < in->queue_size) {
		/*
		 * seg_max + 1 data segments of one sector each: more than
		 * the device holds; the transport refuses the chain.
		 */
		static struct gv_buf segs[GV_MAX_QSIZE];
		unsigned k = 0;

		h_header(VIRTIO_BLK_T_IN, 0);
		segs[k++] = hdr_buf();
		for (unsigned i = 0; i <= in->seg_max; i++, k++)
			segs[k] = (struct gv_buf){gv_gpa(h_buf + H_DATA), 512,
						  true};
		segs[k++] = status_buf();
		h_judge("more data segments than seg_max", h_send(segs, k),
			EXPECT_RESET);
		n++;
	}
	if (!guest_boot.native) {
		/* Guest RAM, but not DMA memory mapped for the disk. */
		h_header(VIRTIO_BLK_T_IN, 0);
		b[0] = hdr_buf();
		b[1] = (struct gv_buf){gv_gpa(image_buf), 4096, true};
		b[2] = status_buf();
		h_judge("data buffer outside the disk's DMA", h_send(b, 3),
			EXPECT_RESET);
		n++;
	}
	return n;
}

/*
 * The DMA API's limit: twice the largest buffer is refused with -E2BIG
 * (too big), not -ENOMEM (out of memory), in either model.
 */
static void h_dma_too_big(void)
{
	uint64_t max = dma_max_coherent(&gblk_gv(hd)->dma);
	void *p;
	int err = gblk_dma_alloc(hd, 2 * max, &p);

	if (err == 0)
		gblk_dma_free(hd, 2 * max, p);
	if (err != -E2BIG)
		guest_fail(__FILE__, __LINE__,
			   "blk-hostile: DMA buffer of %llu bytes: %d, want "
			   "-E2BIG",
			   (unsigned long long)(2 * max), err);
	guest_printf("blk-hostile: DMA buffer of %llu MiB: -E2BIG (limit %llu "
		     "MiB)\n",
		     (unsigned long long)(2 * max >> 20),
		     (unsigned long long)(max >> 20));
}

static void blk_hostile_run(void)
{
	unsigned n;
	int err = guest_mm_init();

	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	h_disk = (unsigned)guest_cmdline_ulong("blk-hostile.disk", 0);
	h_open();
	h_dma_too_big();
	n = h_status_cases();
	guest_printf("blk-hostile: %u bad requests answered with a status, "
		     "device fine\n",
		     n);
	n = h_reset_cases();
	guest_printf("blk-hostile: %u bad chains: NEEDS_RESET each, reset "
		     "recovers\n",
		     n);
	gblk_close(hd);
	guest_printf("blk-hostile: done\n");
}
GUEST_WORKLOAD(blk_hostile, "blk-hostile",
	       "bad virtio-blk requests and chains; reset recovers",
	       blk_hostile_run);
