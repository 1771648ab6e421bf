// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_blk.c - virtio-blk requests (devices/virtio_blk.c) from a
 * hostile driver, against a 1 MiB image in a memfd.
 *
 * Each input is a fresh VM, hosted (the rings and buffers in a DMA block
 * mapped for the disk; two GUEST frames filled with a canary beside it) or
 * native, and a fresh disk on a zeroed image. Steps build requests: the
 * type (IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES, unsupported or any
 * number), the sector, up to four data segments anywhere in the buffer
 * area (or in the canary frames, or anywhere), header and status
 * descriptors of the right or wrong size and direction, the data
 * direction flipped; several requests per kick; resets; config reads.
 * The harness waits (bounded) until every posted chain is used or the
 * device needs a reset.
 *
 * After every step:
 *   - fuzz_vm_check(): mm_check(), frame states, discarded frames zero,
 *     hosted accounting;
 *   - every FRAME_DMA frame of the disk's id is in pvmem's registry for
 *     it and every frame in the registry is such a frame;
 *   - the canary frames are untouched (the device wrote nothing outside
 *     the memory mapped for it);
 *   - a request's status byte (where the chain has one) is OK, IOERR or
 *     UNSUPP; the used length never exceeds the chain's writable bytes;
 *   - a reference image: an OUT answered OK wrote its data, a
 *     WRITE_ZEROES answered OK zeroed its ranges, an IN answered OK
 *     returned what the reference holds; sectors of a failed or DISCARD
 *     request become unknown. At the end of the input the image matches
 *     the reference on every known sector.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "abi/layout.h"
#include "abi/virtio_blk.h"
#include "devices/virtio_blk.h"
#include "tests/fuzz/fuzz_vm.h"

#define LOW_BYTES   (20ull << 20)
#define IMG_BYTES   (1u << 20)
#define IMG_SECTORS (IMG_BYTES / 512)
#define BLK_ID	    VIRTIO_BLK_DMA_ID(0)
#define QSIZE	    32
#define NR_QUEUES   2
#define AREA_BYTES  (128u << 10)
#define DATA_OFF    (NR_QUEUES * FUZZ_VDRV_QUEUE_BYTES)
#define SLOTS_OFF   (AREA_BYTES - 4096) /* each request's header and status */
/* Each request of a batch has its own data region: no two overlap. */
#define REGION_BYTES ((SLOTS_OFF - DATA_OFF) / 4)
#define NATIVE_AREA  0x120000ull /* reserved: never the guest's to free */
#define MAX_STEPS    24
#define MAX_BATCH    4
#define WAIT_NS	     (20ull * 1000000000ull)

static struct fuzz_vm vm;
static struct virtio_blk *blk;
static struct fuzz_vdrv drv;
static bool up;
static uint64_t area, canary[2];
static int img_fd = -1;
static char img_path[64];
/* Interrupts the device raised; wait_done() sleeps on them. */
static pthread_mutex_t irq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t irq_cond = PTHREAD_COND_INITIALIZER;
static unsigned irqs;

/* The reference image and which sectors it knows. */
static uint8_t ref[IMG_BYTES];
static bool known[IMG_SECTORS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_vm_init(&vm, LOW_BYTES, 0);
	img_fd = memfd_create("fuzz-blk", 0);
	FUZZ_ASSERT(img_fd >= 0, "memfd_create");
	snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
	return 0;
}

static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	return fuzz_ram_ptr(&vm.mem, gpa, len);
}

/* A request as built, for the checks after it completes. */
struct req {
	uint16_t head;
	unsigned q;
	uint32_t type;
	uint64_t sector;
	bool well_formed;     /* header, data, status as the spec says */
	uint64_t status_gpa;  /* 0: no proper status byte */
	uint64_t write_bytes; /* writable bytes in the chain */
	struct fuzz_vbuf data[4];
	unsigned nr_data;
	uint64_t data_bytes;
};

static struct req reqs[MAX_BATCH];
static unsigned nr_reqs;
static uint16_t used_seen[NR_QUEUES];

/* Set-up ------------------------------------------------------------- */

static void driver_start(void)
{
	uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			    VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
			    VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
			    VIRTIO_BIT(VIRTIO_BLK_F_MQ) |
			    VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			    VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX);

	up = false;
	fuzz_mmio_write(virtio_blk_mmio(blk), VIRTIO_MMIO_STATUS, 0);
	if (vm.pv) {
		if (fuzz_vm_dma_alloc(&vm, BLK_ID, AREA_BYTES, &area))
			return;
	} else {
		area = NATIVE_AREA;
	}
	up = fuzz_vdrv_start(&drv, &vm, virtio_blk_mmio(blk), area, features,
			     NR_QUEUES, QSIZE) == 0;
	memset(used_seen, 0, sizeof(used_seen));
}

/* The device's interrupt line (its I/O threads): wake wait_done(). */
static void blk_irq(void *opaque, uint32_t irq, bool level)
{
	if (!level)
		return;
	pthread_mutex_lock(&irq_lock);
	irqs++;
	pthread_cond_broadcast(&irq_cond);
	pthread_mutex_unlock(&irq_lock);
}

static void vm_start(uint8_t how)
{
	struct virtio_blk_params p = {
		.name = "blk0",
		.path = img_path,
		.nr_queues = NR_QUEUES,
		.link = {.mem = &vm.mem,
			 .dma_device_id = BLK_ID,
			 .base = VIRTIO_BLK_MMIO_BASE(0),
			 .irq = VIRTIO_BLK_IRQ(0),
			 .irq_set = blk_irq,
			 .log = fuzz_vm_log},
	};
	char err[256] = "";
	uint64_t pfns[2];

	FUZZ_ASSERT(ftruncate(img_fd, 0) == 0 &&
			    ftruncate(img_fd, IMG_BYTES) == 0,
		    "image");
	memset(ref, 0, sizeof(ref));
	memset(known, 1, sizeof(known));
	fuzz_vm_start(&vm, !(how & 1), NULL);
	p.link.pvmem = vm.pv;
	p.readonly = how & 2;
	FUZZ_ASSERT(virtio_blk_create(&p, &blk, err, sizeof(err)) == 0,
		    "virtio_blk_create: %s", err);
	canary[0] = canary[1] = 0;
	if (vm.pv && fuzz_vm_alloc(&vm, 0, 0, 2, pfns) == 2) {
		for (unsigned i = 0; i < 2; i++) {
			canary[i] = pfns[i] << 12;
			memset(gp(canary[i], 4096), 0xc5, 4096);
		}
	}
	driver_start();
}

static void vm_stop(void)
{
	virtio_blk_destroy(blk);
	blk = NULL;
	fuzz_vm_stop(&vm);
}

/* Checks ---------------------------------------------------------------- */

static void check_canaries(const char *what)
{
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *p;

		if (!canary[i])
			continue;
		p = gp(canary[i], 4096);
		FUZZ_ASSERT(p[0] == 0xc5 && !memcmp(p, p + 1, 4095),
			    "%s: the device wrote into guest frame %#llx it "
			    "was not given",
			    what, (unsigned long long)canary[i] >> 12);
	}
}

static void forget(uint64_t sector, uint64_t nr)
{
	for (uint64_t s = sector; s < sector + nr && s < IMG_SECTORS; s++)
		known[s] = false;
}

/* Gather @len bytes of the request's data segments into @out. */
static void gather(const struct req *r, uint8_t *out, uint64_t len)
{
	uint64_t at = 0;

	for (unsigned i = 0; i < r->nr_data && at < len; i++) {
		uint64_t n = r->data[i].len;

		const uint8_t *p;

		if (n > len - at)
			n = len - at;
		p = n ? guest_mem_ptr(&vm.mem, r->data[i].gpa, n) : NULL;
		if (p)
			memcpy(out + at, p, n);
		at += n;
	}
}

static void check_zeroes(const struct req *r, bool ok, bool exact)
{
	static struct virtio_blk_discard rng[64];
	uint64_t n = r->data_bytes / sizeof(rng[0]);

	if (n > 64)
		n = 64;
	gather(r, (uint8_t *)rng, n * sizeof(rng[0]));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t s = rng[i].sector, nr = rng[i].num_sectors;

		if (s >= IMG_SECTORS)
			continue;
		if (nr > IMG_SECTORS - s)
			nr = IMG_SECTORS - s;
		if (ok && exact && r->type == VIRTIO_BLK_T_WRITE_ZEROES) {
			memset(ref + s * 512, 0, nr * 512);
			for (uint64_t k = s; k < s + nr; k++)
				known[k] = true;
		} else {
			forget(s, nr);
		}
	}
}

static void check_io(const struct req *r, bool ok, bool exact)
{
	static uint8_t buf[IMG_BYTES];
	uint64_t len = r->data_bytes, nr = len / 512;

	if (r->sector >= IMG_SECTORS)
		return;
	if (nr > IMG_SECTORS - r->sector)
		nr = IMG_SECTORS - r->sector;
	if (!ok) {
		if (r->type == VIRTIO_BLK_T_OUT)
			forget(r->sector, nr + 1);
		return;
	}
	FUZZ_ASSERT(len % 512 == 0 && r->sector + len / 512 <= IMG_SECTORS,
		    "%s of %llu bytes at sector %llu answered OK",
		    r->type ? "OUT" : "IN", (unsigned long long)len,
		    (unsigned long long)r->sector);
	if (!exact) { /* order against the batch's other requests unknown */
		if (r->type == VIRTIO_BLK_T_OUT)
			forget(r->sector, nr);
		return;
	}
	gather(r, buf, len);
	if (r->type == VIRTIO_BLK_T_OUT) {
		memcpy(ref + r->sector * 512, buf, len);
		for (uint64_t s = r->sector; s < r->sector + nr; s++)
			known[s] = true;
		return;
	}
	for (uint64_t s = 0; s < nr; s++)
		FUZZ_ASSERT(!known[r->sector + s] ||
				    !memcmp(buf + s * 512,
					    ref + (r->sector + s) * 512, 512),
			    "IN sector %llu differs from what was written",
			    (unsigned long long)(r->sector + s));
}

/* One completed request: its status and what it did to the image. */
static void check_done(const struct req *r, uint32_t used_len, bool exact)
{
	uint8_t st = r->status_gpa ? *gp(r->status_gpa, 1) : 0xff;
	bool ok;

	FUZZ_ASSERT(used_len <= r->write_bytes,
		    "used len %u of a chain with %llu writable bytes", used_len,
		    (unsigned long long)r->write_bytes);
	if (!r->status_gpa)
		return;
	FUZZ_ASSERT(st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_IOERR ||
			    st == VIRTIO_BLK_S_UNSUPP,
		    "status byte %#x (type %u)", st, r->type);
	ok = st == VIRTIO_BLK_S_OK && r->well_formed;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		check_io(r, ok, exact);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		check_zeroes(r, ok, exact);
		break;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/*
 * Wait (bounded) until the posted chains are used or the device failed:
 * asleep until the next interrupt, or 1 ms (a completion that raises none
 * is still seen), not spinning against the I/O threads for the CPU.
 */
static void wait_done(void)
{
	uint64_t t0 = mono_ns();
	uint32_t st = 0;

	for (;;) {
		bool all = true;
		unsigned seen;
		struct timespec until;

		pthread_mutex_lock(&irq_lock);
		seen = irqs;
		pthread_mutex_unlock(&irq_lock);
		for (unsigned q = 0; q < NR_QUEUES; q++)
			all &= fuzz_vdrv_used_idx(&drv, q) == drv.avail[q];
		fuzz_mmio_read(virtio_blk_mmio(blk), VIRTIO_MMIO_STATUS, &st);
		if (all || (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
			break;
		FUZZ_ASSERT(mono_ns() - t0 < WAIT_NS,
			    "requests not completed after 20 s");
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&irq_lock);
		while (irqs == seen &&
		       pthread_cond_timedwait(&irq_cond, &irq_lock, &until) !=
			       ETIMEDOUT)
			;
		pthread_mutex_unlock(&irq_lock);
	}
}

/*
 * Match the new used elements to the batch's requests and check each. A
 * batch of several requests may run in any order (two queues, io_uring):
 * only a lone request is held to the reference; the others' writes only
 * make their sectors unknown.
 */
static void collect(void)
{
	bool exact = nr_reqs == 1;

	for (unsigned q = 0; q < NR_QUEUES; q++) {
		struct virtq_used *u = fuzz_vdrv_used(&drv, q);
		uint16_t idx = fuzz_vdrv_used_idx(&drv, q);

		for (; used_seen[q] != idx; used_seen[q]++) {
			const struct virtq_used_elem *e =
				&u->ring[used_seen[q] % QSIZE];

			for (unsigned k = 0; k < nr_reqs; k++) {
				if (reqs[k].q != q || reqs[k].head != e->id ||
				    reqs[k].type == UINT32_MAX)
					continue;
				check_done(&reqs[k], e->len, exact);
				reqs[k].type = UINT32_MAX;
				break;
			}
		}
	}
	/* Requests never completed (the device failed): unknown sectors. */
	for (unsigned k = 0; k < nr_reqs; k++)
		if (reqs[k].type == VIRTIO_BLK_T_OUT)
			forget(reqs[k].sector, reqs[k].data_bytes / 512 + 1);
		else if (reqs[k].type == VIRTIO_BLK_T_DISCARD ||
			 reqs[k].type == VIRTIO_BLK_T_WRITE_ZEROES)
			check_zeroes(&reqs[k], false, false);
	nr_reqs = 0;
}

/* Requests -------------------------------------------------------------- */

static const uint32_t types[] = {
	VIRTIO_BLK_T_IN,	   VIRTIO_BLK_T_OUT,
	VIRTIO_BLK_T_OUT,	   VIRTIO_BLK_T_IN,
	VIRTIO_BLK_T_FLUSH,	   VIRTIO_BLK_T_GET_ID,
	VIRTIO_BLK_T_DISCARD,	   VIRTIO_BLK_T_WRITE_ZEROES,
	VIRTIO_BLK_T_GET_LIFETIME, VIRTIO_BLK_T_SECURE_ERASE,
};

/*
 * Where a buffer goes: the request's region of the data area (bumped, so
 * its segments do not overlap), the canaries, or anywhere. *@over is set
 * when the region is full and the buffer wraps over earlier ones.
 */
static uint64_t buf_gpa(unsigned k, uint8_t sel, uint16_t off, uint32_t len,
			uint64_t *bump, bool *over)
{
	uint64_t base = area + DATA_OFF + k * (uint64_t)REGION_BYTES, gpa;

	if (sel >= 0xf0 && vm.pv && canary[0])
		return sel < 0xf8 ? canary[sel & 1] + (off & 0xfff)
				  : (uint64_t)off << 8;
	gpa = *bump + (off & 0x1ff);
	if (gpa + len > REGION_BYTES) {
		*over = true;
		gpa = 0;
	}
	if (len > REGION_BYTES)
		len = REGION_BYTES;
	*bump = gpa + len;
	return base + gpa;
}

static void build(struct fuzz_in *in, struct req *r, unsigned k)
{
	uint8_t tsel = fuzz_u8(in), shape = fuzz_u8(in), nd = fuzz_u8(in);
	uint32_t sector = fuzz_u32(in);
	struct fuzz_vbuf v[8];
	unsigned n = 0;
	bool dev_writes;
	uint64_t hdr = area + SLOTS_OFF + k * 64ull, status, bump = 0;
	bool over = false;
	struct virtio_blk_outhdr *h = (void *)gp(hdr, 16);

	memset(r, 0, sizeof(*r));
	r->type = tsel < 0xf0 ? types[tsel % 10] : fuzz_u32(in);
	r->sector = shape & 0x80 ? sector : sector % (IMG_SECTORS + 8);
	h->type = r->type;
	h->reserved = 0;
	h->sector = r->sector;
	dev_writes =
		r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_GET_ID;
	if (shape & 0x40)
		dev_writes = !dev_writes;
	/* Header: 16 readable bytes, or short, or split, or writable. */
	switch (shape & 3) {
	case 0:
	case 1:
		v[n++] = (struct fuzz_vbuf){hdr, 16, false};
		break;
	case 2:
		v[n++] = (struct fuzz_vbuf){hdr, 8, false};
		v[n++] = (struct fuzz_vbuf){hdr + 8, 8, false};
		break;
	default:
		v[n++] = (struct fuzz_vbuf){hdr, 8 + (shape >> 4 & 3) * 8,
					    (shape & 4) != 0};
		break;
	}
	r->nr_data = nd % 5;
	for (unsigned i = 0; i < r->nr_data; i++) {
		uint8_t sel = fuzz_u8(in), *p;
		uint16_t off = fuzz_u16(in);
		uint32_t len = fuzz_u16(in);

		len = sel & 1 ? len % 6000 : (len % 8 + 1) * 512;
		r->data[i] = (struct fuzz_vbuf){
			buf_gpa(k, sel, off, len, &bump, &over), len,
			dev_writes};
		r->data_bytes += len;
		v[n++] = r->data[i];
		/* What an OUT or a range list carries, in the data area
		 * (not in the canaries, not outside RAM). */
		p = guest_mem_ptr(&vm.mem, r->data[i].gpa, len < 64 ? len : 64);
		if (!dev_writes && p && len && r->data[i].gpa >= area &&
		    r->data[i].gpa < area + AREA_BYTES)
			fuzz_bytes(in, p, len < 64 ? len : 64);
	}
	/* Status: one writable byte, or none, or readable, or longer. */
	status = hdr + 32;
	*gp(status, 1) = 0xee;
	switch ((shape >> 2) & 3) {
	case 0:
	case 1:
		v[n++] = (struct fuzz_vbuf){status, 1, true};
		r->status_gpa = status;
		break;
	case 2:
		v[n++] = (struct fuzz_vbuf){status, 1, false};
		break;
	default:
		v[n++] = (struct fuzz_vbuf){status, 4, true};
		r->status_gpa = status + 3;
		*gp(status + 3, 1) = 0xee;
		break;
	}
	r->well_formed = (shape & 3) < 2 && !(shape & 0x40) &&
			 ((shape >> 2) & 3) < 2 && !over;
	for (unsigned i = 0; i < n; i++)
		if (v[i].write)
			r->write_bytes += v[i].len;
	r->q = (shape >> 5) & 1;
	r->head = fuzz_vdrv_post(&drv, r->q, v, n);
}

/* One batch: up to MAX_BATCH requests, one kick per queue, wait, check. */
static void step_batch(struct fuzz_in *in)
{
	unsigned n = 1 + fuzz_u8(in) % MAX_BATCH;

	nr_reqs = 0;
	for (unsigned i = 0; i < n && fuzz_in_left(in); i++) {
		build(in, &reqs[nr_reqs], nr_reqs);
		nr_reqs++;
	}
	for (unsigned q = 0; q < NR_QUEUES; q++)
		fuzz_vdrv_kick(&drv, q);
	wait_done();
	collect();
}

static void run_step(struct fuzz_in *in)
{
	uint8_t kind = fuzz_u8(in);
	uint64_t cfg = 0;

	uint32_t st = 0;

	/*
	 * A driver whose device needs a reset resets it before posting more:
	 * the other queue's thread may still complete a chain of the failed
	 * batch, which must not be taken for one of the next.
	 */
	fuzz_mmio_read(virtio_blk_mmio(blk), VIRTIO_MMIO_STATUS, &st);
	if ((!up || (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) && kind % 8 != 7)
		return;
	switch (kind % 8) {
	case 6:
		virtio_mmio_access(virtio_blk_mmio(blk),
				   VIRTIO_MMIO_CONFIG + fuzz_u8(in) % 64, &cfg,
				   1u << (fuzz_u8(in) % 4), false);
		break;
	case 7:
		driver_start();
		break;
	default:
		step_batch(in);
		break;
	}
}

static void check_step(const char *what)
{
	check_canaries(what);
	fuzz_vm_check_dma(&vm, BLK_ID);
}

/*
 * The image's data into @img, holes as zeros: only the ranges written are
 * read (SEEK_DATA/SEEK_HOLE), not a megabyte of mostly holes per input.
 */
static void read_image(uint8_t *img)
{
	off_t data = 0, hole;

	memset(img, 0, IMG_BYTES);
	while ((data = lseek(img_fd, data, SEEK_DATA)) >= 0 &&
	       data < IMG_BYTES) {
		hole = lseek(img_fd, data, SEEK_HOLE);
		FUZZ_ASSERT(hole > data, "SEEK_HOLE after %lld",
			    (long long)data);
		if (hole > IMG_BYTES)
			hole = IMG_BYTES;
		FUZZ_ASSERT(pread(img_fd, img + data, (size_t)(hole - data),
				  data) == hole - data,
			    "read the image at %lld", (long long)data);
		data = hole;
	}
	FUZZ_ASSERT(data >= 0 || errno == ENXIO, "SEEK_DATA: %s",
		    strerror(errno));
}

static void check_image(void)
{
	static uint8_t img[IMG_BYTES];

	read_image(img);
	for (unsigned s = 0; s < IMG_SECTORS; s++)
		FUZZ_ASSERT(!known[s] ||
				    !memcmp(img + s * 512, ref + s * 512, 512),
			    "image sector %u differs from the reference", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;

	fuzz_in_init(&in, data, size);
	vm_start(fuzz_u8(&in));
	for (unsigned i = 0; i < MAX_STEPS && fuzz_in_left(&in); i++) {
		run_step(&in);
		check_step("step");
	}
	/* Stop the I/O threads before looking at the image and the VM. */
	fuzz_mmio_write(virtio_blk_mmio(blk), VIRTIO_MMIO_STATUS, 0);
	check_image();
	fuzz_vm_check_dma(&vm, BLK_ID);
	fuzz_vm_check(&vm, "end");
	vm_stop();
	return 0;
}
