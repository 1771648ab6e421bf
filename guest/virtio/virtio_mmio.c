// SPDX-License-Identifier: MIT
/*
 * guest/virtio/virtio_mmio.c - the virtio-mmio (version 2) transport of the
 * guest's virtio library: devices are the windows boot found
 * (guest_boot.mmio: base, IOAPIC pin, buddyvm's DMA id), registers one
 * 32-bit MMIO access each, the interrupt an IOAPIC pin routed
 * edge-triggered.
 *
 * Every register access is an MMIO exit (5-20 us on PVM hosts), so the
 * library touches registers only for setup, one QueueNotify per batch and
 * one InterruptStatus read + ACK per interrupt.
 */
#include "abi/layout.h"
#include "guest.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"

static uint32_t rd(struct gv_dev *dev, unsigned off)
{
	return dev->regs[off / 4];
}

static void wr(struct gv_dev *dev, unsigned off, uint32_t v)
{
	dev->regs[off / 4] = v;
}

/* Fill @dev from a boot-time window; true if it is a device of @id. */
static bool mmio_match(struct gv_dev *dev, const struct boot_mmio_dev *m,
		       uint32_t id)
{
	dev->base = m->base;
	dev->regs = (volatile uint32_t *)(uintptr_t)dev->base;
	dev->irq = m->irq;
	if (dev->irq >= GUEST_NR_DEVICE_IRQS)
		return false;
	if (rd(dev, VIRTIO_MMIO_DEVICE_ID) != id)
		return false;
	/* DMA device id: the node's property, else the virtio device id. */
	dev->dma.id = m->dma_id ? m->dma_id : id;
	/* The rings' high address words are written as 0. */
	dev->dma.dma_bits = 32;
	return true;
}

/*
 * The windows boot found (buddyvm: the FDT's virtio,mmio nodes; PVH: QEMU
 * microvm's virtio_mmio.device= words), in their order.
 */
int gv_mmio_find(struct gv_dev *dev, uint32_t device_id, unsigned *instance)
{
	for (unsigned i = 0; i < guest_boot.nr_mmio; i++) {
		if (!mmio_match(dev, &guest_boot.mmio[i], device_id))
			continue;
		if ((*instance)-- != 0)
			continue;
		if (rd(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
		    rd(dev, VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_2)
			return -GV_ENODEV;
		dev->ops = &gv_mmio_transport;
		return 0;
	}
	return -ENOENT;
}

static void mmio_reset(struct gv_dev *dev)
{
	wr(dev, VIRTIO_MMIO_STATUS, 0);
}

static uint32_t mmio_get_status(struct gv_dev *dev)
{
	return rd(dev, VIRTIO_MMIO_STATUS);
}

static void mmio_set_status(struct gv_dev *dev, uint32_t status)
{
	wr(dev, VIRTIO_MMIO_STATUS, status);
}

static uint64_t mmio_get_features(struct gv_dev *dev)
{
	uint64_t f;

	wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(dev, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void mmio_set_features(struct gv_dev *dev, uint64_t f)
{
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint32_t mmio_queue_max(struct gv_dev *dev, unsigned index)
{
	wr(dev, VIRTIO_MMIO_QUEUE_SEL, index);
	return rd(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

/* The queue is still selected by mmio_queue_max(). */
static int mmio_queue_setup(struct gv_dev *dev, struct gv_queue *q)
{
	wr(dev, VIRTIO_MMIO_QUEUE_NUM, q->size);
	wr(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)gv_gpa(q->desc));
	wr(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)gv_gpa(q->avail));
	wr(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)gv_gpa(q->used));
	wr(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(dev, VIRTIO_MMIO_QUEUE_READY) == 1 ? 0 : -EIO;
}

static void mmio_notify(struct gv_dev *dev, struct gv_queue *q)
{
	wr(dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

static void mmio_route_irq(struct gv_dev *dev)
{
	ioapic_route_edge(dev->irq, 0);
}

static uint32_t mmio_ack_interrupt(struct gv_dev *dev)
{
	uint32_t bits = rd(dev, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (bits)
		wr(dev, VIRTIO_MMIO_INTERRUPT_ACK, bits);
	return bits;
}

static uint32_t mmio_config_read32(struct gv_dev *dev, unsigned offset)
{
	return rd(dev, VIRTIO_MMIO_CONFIG + offset);
}

static void mmio_config_write32(struct gv_dev *dev, unsigned offset, uint32_t v)
{
	wr(dev, VIRTIO_MMIO_CONFIG + offset, v);
}

static uint32_t mmio_config_generation(struct gv_dev *dev)
{
	return rd(dev, VIRTIO_MMIO_CONFIG_GENERATION);
}

const struct gv_transport gv_mmio_transport = {
	.name = "virtio-mmio",
	.reset = mmio_reset,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.queue_max = mmio_queue_max,
	.queue_setup = mmio_queue_setup,
	.notify = mmio_notify,
	.route_irq = mmio_route_irq,
	.ack_interrupt = mmio_ack_interrupt,
	.config_read32 = mmio_config_read32,
	.config_write32 = mmio_config_write32,
	.config_generation = mmio_config_generation,
};
