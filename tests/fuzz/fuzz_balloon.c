// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_balloon.c - virtio-balloon (devices/virtio_balloon.c):
 * PFN lists, free page reports and statistics from a hostile driver.
 *
 * Each input is a fresh VM, hosted (pvmem; the guest's frames come from
 * ALLOC) or native (the guest holds every frame; free page reporting is
 * offered), with the balloon brought up by the driver of fuzz_vm.h. Steps:
 * the guest takes frames and writes into them; inflate and deflate buffers
 * (PFNs the guest holds, in the balloon, or anything; split over several
 * descriptors; lengths that are not whole PFNs; device-writable arrays);
 * free page reports (page ranges the guest holds or not, readable or
 * writable); statistics buffers; host target changes and stats requests;
 * config writes; device resets. After every step (the walks over every
 * frame marked * at the start and end of each input):
 *   - fuzz_vm_check()*: mm_check(), frame states adding up, discarded and
 *     BALLOON frames zero (their backing was released), hosted
 *     accounting (tot_pages == GUEST + DMA, granted - freed ==
 *     tot_pages + BALLOON frames);
 *   - the device's own count (pages inflated minus pages deflated) ==
 *     BALLOON frames in the page database, and in the hosted
 *     model the page limit == RAM - BALLOON frames;
 *   - every frame the guest still holds keeps what the guest wrote into it
 *     (nothing the guest holds is discarded), unless it reported it, and
 *     every frame deflated reads as zero.
 */
#include <string.h>

#include "abi/layout.h"
#include "devices/virtio_balloon.h"
#include "mm/gfp.h"
#include "tests/fuzz/fuzz_vm.h"

#define LOW_BYTES  (24ull << 20)
#define HIGH_BYTES (4ull << 20)
#define QSIZE	   32
#define NR_QUEUES  4
#define MAX_STEPS  48
#define MAX_FRAMES 1024
#define AREA_BYTES (NR_QUEUES * FUZZ_VDRV_QUEUE_BYTES + (16u << 10))
/*
 * The rings in the native model: in the reserved kernel image, which no
 * balloon or report can take. A guest that balloons its own rings has the
 * device write into its ballooned frames, as its CPU could (native memory
 * is all the guest's); the zero checks could not tell that from a bug.
 */
#define NATIVE_AREA_GPA 0x110000ull

static struct fuzz_vm vm;
static struct virtio_balloon *bal;
static struct fuzz_vdrv drv;
static bool up; /* the driver reached DRIVER_OK */
static uint64_t features, area, bufs;

/* Frames the guest holds and wrote a tag into (0: reported, unknown). */
static uint64_t frames[MAX_FRAMES];
static uint8_t tags[MAX_FRAMES];
/* Each frame's bytes and database entry: fixed while the process runs. */
static uint8_t *frame_bytes[MAX_FRAMES];
static const struct page *frame_pages[MAX_FRAMES];
static unsigned nr_frames;
/* Index + 1 in frames[] of each frame of RAM (ram_idx()), 0 if none. */
static uint16_t slot_of[(LOW_BYTES + HIGH_BYTES) / 4096];
/* Frames the guest put in the balloon (to deflate). */
static uint64_t ballooned[MAX_FRAMES];
static unsigned nr_ballooned;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_vm_init(&vm, LOW_BYTES, HIGH_BYTES);
	return 0;
}

static uint8_t *frame_ptr(uint64_t pfn)
{
	return guest_mem_ptr(&vm.mem, pfn << 12, 4096);
}

static const struct page *frame_page(uint64_t pfn)
{
	return mm_pfn_to_page(vm.mm, pfn);
}

/* A frame of RAM's index in [0, RAM pages): low RAM, then high. */
static uint64_t ram_idx(uint64_t pfn)
{
	return pfn < LOW_BYTES / 4096
		       ? pfn
		       : pfn - (4ull << 30) / 4096 + LOW_BYTES / 4096;
}

/* The frame of RAM at index @idx (ram_idx()'s inverse). */
static uint64_t ram_pfn(uint64_t idx)
{
	return idx < LOW_BYTES / 4096
		       ? idx
		       : idx + (4ull << 30) / 4096 - LOW_BYTES / 4096;
}

/* The guest writes into a frame it holds and remembers what. */
static void frame_take(uint64_t pfn, uint8_t tag)
{
	uint8_t *p = frame_ptr(pfn);
	unsigned i;

	if (!p)
		return;
	i = slot_of[ram_idx(pfn)] ? slot_of[ram_idx(pfn)] - 1u : nr_frames;
	if (i == MAX_FRAMES)
		return;
	tag |= 1;
	p[0] = tag;
	p[4095] = tag;
	frames[i] = pfn;
	tags[i] = tag;
	frame_bytes[i] = p;
	frame_pages[i] = frame_page(pfn);
	if (i == nr_frames)
		slot_of[ram_idx(pfn)] = (uint16_t)++nr_frames;
}

/* Forget frames[i]: the last one takes its place. */
static void frame_forget(unsigned i)
{
	slot_of[ram_idx(frames[i])] = 0;
	if (i != --nr_frames) {
		frames[i] = frames[nr_frames];
		tags[i] = tags[nr_frames];
		frame_bytes[i] = frame_bytes[nr_frames];
		frame_pages[i] = frame_pages[nr_frames];
		slot_of[ram_idx(frames[i])] = (uint16_t)(i + 1);
	}
}

/*
 * Frames that went into the balloon move to its list; frames the guest
 * reported (or holds no tag in) are forgotten, as are balloon frames that
 * came back.
 */
static void frames_prune(void)
{
	for (unsigned i = 0; i < nr_frames;) {
		const struct page *pg = frame_pages[i];

		if (pg->state == FRAME_GUEST && !(pg->flags & PG_DISCARDED)) {
			i++;
			continue;
		}
		if (pg->state == FRAME_BALLOON && nr_ballooned < MAX_FRAMES)
			ballooned[nr_ballooned++] = frames[i];
		frame_forget(i);
	}
	for (unsigned i = 0; i < nr_ballooned;) {
		const struct page *pg = frame_page(ballooned[i]);

		if (pg->state == FRAME_BALLOON) {
			i++;
			continue;
		}
		/* Deflated: its backing went when it was inflated. */
		FUZZ_ASSERT(pg->state != FRAME_GUEST ||
				    fuzz_is_zero(frame_ptr(ballooned[i]), 4096),
			    "deflated frame %#llx is not zero",
			    (unsigned long long)ballooned[i]);
		ballooned[i] = ballooned[--nr_ballooned];
	}
}

/*
 * After every step: the counters and the guest's data. With @full (the
 * start and end of the input) also fuzz_vm_check(), which walks every
 * frame: too slow for every step, and what it checks stays broken once
 * broken (a frame deflated in between is checked in frames_prune()).
 */
static void check_all(const char *what, bool full)
{
	struct balloon_status st;
	struct mm_stats ms;

	if (full)
		fuzz_vm_check(&vm, what);
	mm_get_stats(vm.mm, &ms);
	virtio_balloon_dev_get_status(bal, &st);
	FUZZ_ASSERT(st.held_pages == ms.frames[FRAME_BALLOON],
		    "%s: balloon says %llu frames, the database %llu", what,
		    (unsigned long long)st.held_pages,
		    (unsigned long long)ms.frames[FRAME_BALLOON]);
	if (vm.pv)
		FUZZ_ASSERT(pvmem_max_pages(vm.pv) ==
				    vm.ram_pages - ms.frames[FRAME_BALLOON],
			    "%s: page limit %llu, RAM %llu - BALLOON %llu",
			    what, (unsigned long long)pvmem_max_pages(vm.pv),
			    (unsigned long long)vm.ram_pages,
			    (unsigned long long)ms.frames[FRAME_BALLOON]);
	for (unsigned i = 0; i < nr_frames; i++) {
		const struct page *pg = frame_pages[i];
		const uint8_t *p = frame_bytes[i];

		if (pg->state != FRAME_GUEST || (pg->flags & PG_DISCARDED))
			continue; /* inflated or reported by this step */
		FUZZ_ASSERT(p[0] == tags[i] && p[4095] == tags[i],
			    "%s: guest frame %#llx lost its data (%#x %#x, "
			    "wrote %#x)",
			    what, (unsigned long long)frames[i], p[0], p[4095],
			    tags[i]);
	}
}

/* Bring the device up: rings in a DMA block (hosted) or in RAM (native). */
static void driver_start(void)
{
	up = false;
	fuzz_mmio_write(virtio_balloon_mmio(bal), VIRTIO_MMIO_STATUS, 0);
	if (vm.pv) {
		if (fuzz_vm_dma_alloc(&vm, VIRTIO_BALLOON_DMA_ID, AREA_BYTES,
				      &area))
			return;
	} else {
		area = NATIVE_AREA_GPA;
	}
	bufs = area + NR_QUEUES * FUZZ_VDRV_QUEUE_BYTES;
	up = fuzz_vdrv_start(&drv, &vm, virtio_balloon_mmio(bal), area,
			     features, NR_QUEUES, QSIZE) == 0;
}

static void vm_start(uint8_t how)
{
	struct virtio_balloon_params p = {
		.link = {.mem = &vm.mem,
			 .dma_device_id = VIRTIO_BALLOON_DMA_ID,
			 .base = VIRTIO_BALLOON_MMIO_BASE,
			 .irq = VIRTIO_BALLOON_IRQ,
			 .irq_set = fuzz_vm_irq,
			 .log = fuzz_vm_log},
	};
	bool hosted = !(how & 1);

	fuzz_vm_start(&vm, hosted, NULL);
	p.link.pvmem = vm.pv;
	p.mm = vm.mm;
	p.ram_pages = vm.ram_pages;
	FUZZ_ASSERT(virtio_balloon_create(&p, &bal) == 0,
		    "virtio_balloon_create");
	features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		   (how & 2 ? VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) : 0) |
		   (how & 4 ? VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) : 0);
	if (!hosted && (how & 8))
		features |= VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING);
	while (nr_frames)
		frame_forget(nr_frames - 1);
	nr_ballooned = 0;
	driver_start();
}

static void vm_stop(void)
{
	virtio_balloon_destroy(bal);
	bal = NULL;
	fuzz_vm_stop(&vm);
}

/* Steps ------------------------------------------------------------------ */

/* Hosted: ALLOC; native: frames the guest already holds (any of RAM). */
static void step_take(struct fuzz_in *in, uint8_t tag)
{
	unsigned order = fuzz_u8(in) % 4, count = 1 + fuzz_u8(in) % 16;
	uint64_t pfns[16];

	if (vm.pv) {
		unsigned got =
			fuzz_vm_alloc(&vm, fuzz_u8(in) & 1 ? __GFP_DMA32 : 0,
				      order, count, pfns);

		for (unsigned i = 0; i < got; i++)
			for (unsigned f = 0; f < (1u << order); f++)
				frame_take(pfns[i] + f, tag);
		return;
	}
	for (unsigned i = 0; i < count; i++) {
		uint64_t pfn = ram_pfn(fuzz_u16(in) % vm.ram_pages);
		const struct page *pg = frame_page(pfn);
		if (pg && pg->state == FRAME_GUEST &&
		    !(pg->flags & PG_DISCARDED))
			frame_take(pfn, tag);
	}
}

/* A PFN for a list: one the guest holds, one in the balloon, or any. */
static uint32_t pick_pfn(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);

	if (sel < 0x60 && nr_frames)
		return (uint32_t)frames[(sel + fuzz_u8(in)) % nr_frames] +
		       (sel & 0x40 ? 1 : 0);
	if (sel < 0xc0 && nr_ballooned)
		return (uint32_t)ballooned[(sel + fuzz_u8(in)) % nr_ballooned];
	return fuzz_u32(in);
}

/* A PFN array in the buffer area, posted as up to three descriptors. */
static void step_pfns(struct fuzz_in *in, unsigned q)
{
	uint8_t shape = fuzz_u8(in);
	unsigned n = 1 + fuzz_u8(in) % 128;
	uint32_t *arr = fuzz_ram_ptr(&vm.mem, bufs, 4 * n);
	struct fuzz_vbuf v[3];
	unsigned nv = 1 + shape % 3, bytes = 4 * n, at = 0;

	for (unsigned i = 0; i < n; i++)
		arr[i] = pick_pfn(in);
	for (unsigned i = 0; i < nv; i++) {
		unsigned len = i + 1 == nv ? bytes - at : bytes / nv;

		v[i] = (struct fuzz_vbuf){.gpa = bufs + at,
					  .len = len,
					  .write = (shape & 0x10) &&
						   i == nv - 1};
		at += len;
	}
	if (shape & 0x20) /* not whole PFNs */
		v[0].len += 1 + (shape >> 6);
	if (shape & 0x08) /* outside the device's memory */
		v[0].gpa = frames[0] << 12;
	fuzz_vdrv_post(&drv, q, v, nv);
	fuzz_vdrv_kick(&drv, q);
}

/* Free page report: page ranges, readable by mistake or not. */
static void step_report(struct fuzz_in *in)
{
	struct fuzz_vbuf v[4];
	unsigned n = 1 + fuzz_u8(in) % 4;

	for (unsigned i = 0; i < n; i++) {
		uint8_t shape = fuzz_u8(in);
		uint64_t pfn = nr_frames && !(shape & 0x80)
				       ? frames[fuzz_u8(in) % nr_frames]
				       : fuzz_u16(in);

		v[i] = (struct fuzz_vbuf){.gpa = (pfn << 12) +
						 (shape & 0x40 ? 0x10 : 0),
					  .len = (1u + (shape & 3)) << 12,
					  .write = !(shape & 0x20)};
	}
	fuzz_vdrv_post(&drv, 3, v, n);
	fuzz_vdrv_kick(&drv, 3);
}

static void step_stats(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	unsigned len = fuzz_u8(in);
	struct fuzz_vbuf v = {.gpa = bufs, .len = len, .write = how & 1};

	if (how & 2) {
		virtio_balloon_dev_request_stats(bal);
		return;
	}
	fuzz_bytes(in, fuzz_ram_ptr(&vm.mem, bufs, 256), len);
	fuzz_vdrv_post(&drv, 2, &v, 1);
	fuzz_vdrv_kick(&drv, 2);
}

static void step_config(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	uint64_t val = fuzz_u32(in);
	unsigned len = 1u << (how & 3);

	if (how & 4)
		virtio_balloon_dev_set_target(bal, val % (vm.ram_pages + 2));
	else
		virtio_mmio_access(virtio_balloon_mmio(bal),
				   VIRTIO_MMIO_CONFIG + (how >> 4), &val, len,
				   !(how & 8));
}

static void run_step(struct fuzz_in *in, uint8_t tag)
{
	uint8_t kind = fuzz_u8(in);

	if (!up && kind % 8 != 7)
		return;
	switch (kind % 8) {
	case 0:
		step_take(in, tag);
		break;
	case 1:
	case 2:
		step_pfns(in, VIRTIO_BALLOON_Q_INFLATE);
		break;
	case 3:
		step_pfns(in, VIRTIO_BALLOON_Q_DEFLATE);
		break;
	case 4:
		if (features & VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING))
			step_report(in);
		else
			step_config(in);
		break;
	case 5:
		if (features & VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ))
			step_stats(in);
		break;
	case 6:
		step_config(in);
		break;
	default:
		driver_start();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;

	fuzz_in_init(&in, data, size);
	vm_start(fuzz_u8(&in));
	check_all("start", true);
	for (unsigned i = 0; i < MAX_STEPS && fuzz_in_left(&in); i++) {
		run_step(&in, (uint8_t)(0x10 + i));
		check_all("step", false);
		frames_prune();
	}
	check_all("end", true);
	vm_stop();
	return 0;
}
