// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_mmio.c - the virtio-mmio transport (devices/virtio_mmio.c)
 * under arbitrary register accesses, with a real device behind it.
 *
 * Each input is a fresh hosted VM with a virtio-balloon (the transport's
 * callbacks are the device's own) and a 64 KiB DMA block mapped for it,
 * whose bytes come from the input, so queue notifications run the device
 * over whatever the rings hold. The rest of the input is a sequence of
 * accesses (read or write, offset, size 1-8, value); values may be made
 * addresses inside the DMA block so queues can come up; between accesses
 * the driver may put a buffer on a ready queue.
 *
 * After every access, against what the driver has done so far:
 *   - registers outside [0, 0x100) other than 32-bit aligned ones and
 *     config accesses outside the config size fail with -EINVAL and read
 *     as zero; MAGIC, VERSION, DEVICE_ID and VENDOR_ID read their values;
 *   - STATUS: DRIVER_OK only with FEATURES_OK; FEATURES_OK only with
 *     negotiated features offered by the device and including VERSION_1;
 *     DEVICE_NEEDS_RESET sticky until the driver writes 0; a write of 0
 *     clears status, interrupts and every queue and unmaps the device's
 *     DMA blocks;
 *   - INTERRUPT_STATUS holds only the two defined bits;
 *   - a ready queue is frozen (its registers answer -EBUSY) and was made
 *     ready after FEATURES_OK; negotiated features are frozen too;
 *   - the VM: counters each access, fuzz_vm_check() at the end.
 */
#include <errno.h>
#include <string.h>

#include "abi/layout.h"
#include "devices/virtio_balloon.h"
#include "tests/fuzz/fuzz_vm.h"

#define LOW_BYTES   (20ull << 20)
#define AREA_BYTES  (64u << 10)
#define MAX_STEPS   192
#define CONFIG_SIZE 8u /* struct virtio_balloon_config */

static struct fuzz_vm vm;
static struct virtio_balloon *bal;
static struct virtio_mmio_dev *dev;
static uint64_t area;
static unsigned irqs;

/* What the harness knows the driver did. */
static bool needs_reset; /* seen DEVICE_NEEDS_RESET since the last reset */
static uint32_t queue_sel, dfsel;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_vm_init(&vm, LOW_BYTES, 0);
	return 0;
}

static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC_VALUE,      VIRTIO_MMIO_VERSION,
	VIRTIO_MMIO_DEVICE_ID,	      VIRTIO_MMIO_VENDOR_ID,
	VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_DRIVER_FEATURES,  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
	VIRTIO_MMIO_QUEUE_SEL,	      VIRTIO_MMIO_QUEUE_NUM_MAX,
	VIRTIO_MMIO_QUEUE_NUM,	      VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY,     VIRTIO_MMIO_INTERRUPT_STATUS,
	VIRTIO_MMIO_INTERRUPT_ACK,    VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW,   VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	VIRTIO_MMIO_SHM_SEL,	      VIRTIO_MMIO_SHM_LEN_LOW,
	VIRTIO_MMIO_QUEUE_RESET,      VIRTIO_MMIO_CONFIG_GENERATION,
	VIRTIO_MMIO_CONFIG,	      VIRTIO_MMIO_CONFIG + 4,
};

static bool is_queue_reg(uint64_t off)
{
	return off == VIRTIO_MMIO_QUEUE_NUM ||
	       (off >= VIRTIO_MMIO_QUEUE_DESC_LOW &&
		off <= VIRTIO_MMIO_QUEUE_DEVICE_HIGH && !(off & 8) &&
		off != 0x088 && off != 0x098);
}

static uint32_t reg(uint64_t off)
{
	uint32_t v = 0;

	FUZZ_ASSERT(fuzz_mmio_read(dev, off, &v) == 0, "read %#llx failed",
		    (unsigned long long)off);
	return v;
}

/* The transport's invariants, read through its registers. */
static void check_regs(void)
{
	uint32_t st = reg(VIRTIO_MMIO_STATUS);
	uint32_t isr = reg(VIRTIO_MMIO_INTERRUPT_STATUS);
	uint64_t f = __virtio_mmio_features(dev);

	FUZZ_ASSERT(reg(VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC &&
			    reg(VIRTIO_MMIO_VERSION) == VIRTIO_MMIO_VERSION_2 &&
			    reg(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BALLOON &&
			    reg(VIRTIO_MMIO_VENDOR_ID) == VIRTIO_VENDOR_BUDDYVM,
		    "identity registers changed");
	FUZZ_ASSERT(!(isr & ~3u), "interrupt status %#x", isr);
	FUZZ_ASSERT(!(st & VIRTIO_STATUS_DRIVER_OK) ||
			    (st & VIRTIO_STATUS_FEATURES_OK),
		    "DRIVER_OK without FEATURES_OK (%#x)", st);
	if (st & VIRTIO_STATUS_FEATURES_OK) {
		uint64_t offered;

		/* Probe both words, then put back the driver's selector. */
		fuzz_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
		offered = reg(VIRTIO_MMIO_DEVICE_FEATURES);
		fuzz_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		offered |= (uint64_t)reg(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
		fuzz_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, dfsel);
		FUZZ_ASSERT(!(f & ~offered) &&
				    (f & VIRTIO_BIT(VIRTIO_F_VERSION_1)),
			    "negotiated %#llx of offered %#llx",
			    (unsigned long long)f, (unsigned long long)offered);
	} else {
		FUZZ_ASSERT(f == 0, "features %#llx without FEATURES_OK",
			    (unsigned long long)f);
	}
	if (needs_reset)
		FUZZ_ASSERT(st & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			    "DEVICE_NEEDS_RESET cleared without a reset");
	needs_reset = st & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		struct virtq *vq = __virtio_mmio_queue(dev, q);

		if (vq && virtq_enabled(vq))
			FUZZ_ASSERT(st & VIRTIO_STATUS_FEATURES_OK,
				    "queue %u ready without FEATURES_OK", q);
	}
}

/* After a write of 0 to STATUS: everything as after create. */
static void check_reset(void)
{
	FUZZ_ASSERT(reg(VIRTIO_MMIO_STATUS) == 0 &&
			    reg(VIRTIO_MMIO_INTERRUPT_STATUS) == 0,
		    "reset left status %#x, interrupts %#x",
		    reg(VIRTIO_MMIO_STATUS), reg(VIRTIO_MMIO_INTERRUPT_STATUS));
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		struct virtq *vq = __virtio_mmio_queue(dev, q);

		FUZZ_ASSERT(!vq || !virtq_enabled(vq),
			    "queue %u ready after reset", q);
	}
	FUZZ_ASSERT(!pvmem_dma_contains(vm.pv, VIRTIO_BALLOON_DMA_ID, area, 1),
		    "reset kept the device's DMA block");
	needs_reset = false;
	queue_sel = dfsel = 0;
}

/*
 * The driver puts a buffer (a PFN array in its DMA block, @val says where
 * and how long) on a ready queue, as a guest does between its register
 * accesses: the notifications that follow then have work, and interrupts.
 */
static void post(unsigned q, uint32_t val)
{
	struct virtq *vq = __virtio_mmio_queue(dev, q);
	uint16_t slot;

	if (!vq || !virtq_enabled(vq))
		return;
	slot = vq->avail->idx & (vq->size - 1);
	vq->desc[slot] = (struct virtq_desc){
		.addr = area + (val & 0xfff0),
		.len = 4 * (1 + ((val >> 16) & 63)),
		.flags = (uint16_t)(val >> 30 & VIRTQ_DESC_F_WRITE)};
	vq->avail->ring[slot] = slot;
	__atomic_store_n(&vq->avail->idx, (uint16_t)(vq->avail->idx + 1),
			 __ATOMIC_RELEASE);
}

/* One access; the expected verdict from the register map. */
static void step(struct fuzz_in *in)
{
	uint8_t op = fuzz_u8(in), sel = fuzz_u8(in);
	uint32_t val = fuzz_u32(in);
	static const unsigned sizes[] = {4, 4, 4, 1, 2, 8, 3, 16};
	unsigned len = sizes[(op >> 1) & 7];
	bool write = op & 1;
	uint64_t off;
	uint64_t data = val;
	struct virtq *vq = __virtio_mmio_queue(dev, queue_sel);
	bool frozen_q = vq && virtq_enabled(vq);
	bool frozen_f = reg(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
	int ret;

	if (op == 0xff) {
		post(sel % 4, val);
		return;
	}
	if (op & 0x10)
		off = regs[sel % (sizeof(regs) / sizeof(regs[0]))] +
		      (op & 0x20 ? (sel >> 6) : 0);
	else
		off = (uint64_t)sel * 4 + (op >> 6) * 0x100 / 2;
	if (op & 0x20 && !(op & 0x10))
		data = (uint32_t)(area + (val & (AREA_BYTES - 1)));
	if (len > 8)
		len = 8;
	ret = virtio_mmio_access(dev, off, &data, len, write);
	if (off >= VIRTIO_MMIO_SIZE || len > VIRTIO_MMIO_SIZE - off ||
	    (off < VIRTIO_MMIO_CONFIG && (len != 4 || (off & 3))) ||
	    (off >= VIRTIO_MMIO_CONFIG &&
	     ((len != 1 && len != 2 && len != 4 && len != 8) ||
	      off - VIRTIO_MMIO_CONFIG + len > CONFIG_SIZE))) {
		FUZZ_ASSERT(ret == -EINVAL, "access %#llx/%u answered %d",
			    (unsigned long long)off, len, ret);
		/* Only the @len bytes read are the device's to zero. */
		if (len < 8)
			data &= (1ull << (8 * len)) - 1;
		FUZZ_ASSERT(write || data == 0, "a refused read returned %#llx",
			    (unsigned long long)data);
		return;
	}
	if (!write)
		return;
	if (off == VIRTIO_MMIO_QUEUE_SEL)
		queue_sel = (uint32_t)data;
	if (off == VIRTIO_MMIO_DEVICE_FEATURES_SEL)
		dfsel = (uint32_t)data;
	if (is_queue_reg(off) && frozen_q)
		FUZZ_ASSERT(ret == -EBUSY, "ready queue's %#llx answered %d",
			    (unsigned long long)off, ret);
	if (off == VIRTIO_MMIO_DRIVER_FEATURES && frozen_f)
		FUZZ_ASSERT(ret == -EBUSY, "features after FEATURES_OK: %d",
			    ret);
	if (off == VIRTIO_MMIO_STATUS && (uint32_t)data == 0) {
		FUZZ_ASSERT(ret == 0, "reset answered %d", ret);
		check_reset();
		/* The driver maps its block again after a reset. */
		fuzz_vm_dma_alloc(&vm, VIRTIO_BALLOON_DMA_ID, AREA_BYTES,
				  &area);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_balloon_params p = {
		.link = {.mem = &vm.mem,
			 .dma_device_id = VIRTIO_BALLOON_DMA_ID,
			 .base = VIRTIO_BALLOON_MMIO_BASE,
			 .irq = VIRTIO_BALLOON_IRQ,
			 .irq_set = fuzz_vm_irq,
			 .irq_opaque = &irqs,
			 .log = fuzz_vm_log},
	};
	struct fuzz_in in;
	uint16_t fill;

	fuzz_in_init(&in, data, size);
	fuzz_vm_start(&vm, true, NULL);
	p.link.pvmem = vm.pv;
	p.mm = vm.mm;
	p.ram_pages = vm.ram_pages;
	FUZZ_ASSERT(virtio_balloon_create(&p, &bal) == 0,
		    "virtio_balloon_create");
	dev = virtio_balloon_mmio(bal);
	FUZZ_ASSERT(fuzz_vm_dma_alloc(&vm, VIRTIO_BALLOON_DMA_ID, AREA_BYTES,
				      &area) == 0,
		    "DMA block for the rings");
	/* The rings' bytes: a few hundred from the input, spread out. */
	fill = fuzz_u16(&in) % 1024;
	for (unsigned i = 0; i < fill && fuzz_in_left(&in); i += 16)
		fuzz_bytes(
			&in,
			fuzz_ram_ptr(&vm.mem, area + (i * 64) % AREA_BYTES, 16),
			16);
	needs_reset = false;
	queue_sel = dfsel = 0;
	for (unsigned i = 0; i < MAX_STEPS && fuzz_in_left(&in); i++) {
		step(&in);
		check_regs();
	}
	fuzz_vm_check(&vm, "end");
	virtio_balloon_destroy(bal);
	fuzz_vm_stop(&vm);
	return 0;
}
