// SPDX-License-Identifier: MIT
/*
 * guest/virtio/virtio_pci.c - the modern virtio-pci transport (virtio 1.x
 * 4.1) of the guest's virtio library, at CPL 3: functions found by
 * guest/pci.c over ECAM, structures placed by the vendor capabilities
 * (pci_caps.c), BARs mapped (placed by us if the firmware did not),
 * interrupts by MSI-X straight to the LAPIC, or INTx through the IOAPIC
 * for devices without MSI-X (QEMU's virtio-balloon-pci has none).
 *
 * Interrupts reuse the CPL-0 entry the IOAPIC pins have: MSI-X vector
 * GUEST_VEC_DEVICE + slot, one slot per device counted down from 15, sets
 * bit slot of guest_take_device_irqs() exactly as pin slot would. Config
 * changes and every queue share the device's one vector (entry 0).
 *
 * The device is untrusted: capabilities, BAR sizes and notify offsets are
 * checked before anything is dereferenced.
 */
#include "abi/layout.h"
#include "guest.h"
#include "guest/virtio/pci_caps.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"
#include "pci.h"

#define MSIX_ENTRY_BYTES     16
#define MSI_ADDR_BASE	     0xFEE00000u /* + destination APIC id << 12 */
#define MSIX_VEC_CTRL_MASKED 1u
#define VPCI_RESET_POLLS     1000000

static volatile uint8_t *common8(struct gv_dev *dev, unsigned off)
{
	return dev->pci.common + off;
}

static volatile uint16_t *common16(struct gv_dev *dev, unsigned off)
{
	return (volatile uint16_t *)(dev->pci.common + off);
}

static volatile uint32_t *common32(struct gv_dev *dev, unsigned off)
{
	return (volatile uint32_t *)(dev->pci.common + off);
}

static uint32_t ecam_read32(const void *ctx, unsigned off)
{
	return pci_cfg_read32(ctx, off);
}

/* The virtio device id of a virtio function, 0 if it is none. */
static uint32_t vpci_device_id(const struct pci_func *f)
{
	if (f->vendor != PCI_VENDOR_VIRTIO)
		return 0;
	if (f->device >= PCI_DEVICE_VIRTIO_MODERN &&
	    f->device <= PCI_DEVICE_VIRTIO_MODERN + 0x3f)
		return f->device - PCI_DEVICE_VIRTIO_MODERN;
	/* Transitional: the subsystem id says which; we use its modern half. */
	if (f->device >= PCI_DEVICE_VIRTIO_TRANS &&
	    f->device < PCI_DEVICE_VIRTIO_MODERN)
		return pci_cfg_read16(f, PCI_CFG_SUBSYS_ID);
	return 0;
}

struct vpci_bars {
	uint64_t addr[PCI_NR_BARS], size[PCI_NR_BARS];
	bool mapped[PCI_NR_BARS];
};

/* Map the BAR of @r once; the address of the structure, NULL if unusable. */
static volatile uint8_t *vpci_region(struct pci_func *f, struct vpci_bars *b,
				     const struct vpci_region *r,
				     uint32_t min_len)
{
	if (!r->present)
		return NULL;
	if (!b->mapped[r->bar]) {
		if (pci_bar_map(f, r->bar, &b->addr[r->bar],
				&b->size[r->bar]) != 0)
			return NULL;
		b->mapped[r->bar] = true;
	}
	if (!vpci_region_fits(r, b->size[r->bar], min_len))
		return NULL;
	return (volatile uint8_t *)(uintptr_t)(b->addr[r->bar] + r->offset);
}

/* MSI-X entry 0 -> vCPU 0's LAPIC, vector of device bit @slot; enabled. */
static int vpci_msix_setup(struct pci_func *f, struct vpci_bars *b,
			   const struct vpci_caps *c, unsigned slot)
{
	struct vpci_region table = {
		.present = true,
		.bar = c->msix_bar,
		.offset = c->msix_offset,
		.length = MSIX_ENTRY_BYTES * c->msix_entries,
	};
	volatile uint32_t *e = (volatile uint32_t *)vpci_region(
		f, b, &table, MSIX_ENTRY_BYTES);
	uint16_t ctl;

	if (!e)
		return -GV_ENODEV;
	e[0] = MSI_ADDR_BASE; /* destination APIC id 0, physical */
	e[1] = 0;
	e[2] = GUEST_VEC_DEVICE + slot; /* fixed delivery, edge */
	e[3] = 0;			/* unmasked */
	ctl = pci_cfg_read16(f, c->msix_cap + 2);
	pci_cfg_write16(
		f, c->msix_cap + 2,
		(uint16_t)((ctl | PCI_MSIX_ENABLE) & ~PCI_MSIX_FN_MASK));
	pci_cfg_write16(f, PCI_CFG_COMMAND,
			pci_cfg_read16(f, PCI_CFG_COMMAND) |
				PCI_COMMAND_INTX_DISABLE);
	return 0;
}

static int vpci_setup(struct gv_dev *dev, struct pci_func *f, uint32_t id,
		      unsigned slot)
{
	struct vpci_caps c;
	struct vpci_bars b = {0};
	int err = vpci_parse_caps(ecam_read32, f, &c);

	if (err)
		return err;
	dev->pci.common = vpci_region(f, &b, &c.common, VPCI_COMMON_CFG_LEN);
	dev->pci.notify = vpci_region(f, &b, &c.notify, 2);
	dev->pci.isr = vpci_region(f, &b, &c.isr, 1);
	dev->pci.device = vpci_region(f, &b, &c.device, 0);
	if (!dev->pci.common || !dev->pci.notify)
		return -GV_ENODEV;
	dev->pci.notify_mult = c.notify_off_multiplier;
	dev->pci.notify_len = c.notify.length;
	dev->pci.device_len = dev->pci.device ? c.device.length : 0;
	if (c.msix_cap && c.msix_entries >= 1 &&
	    vpci_msix_setup(f, &b, &c, slot) == 0) {
		dev->pci.msix = true;
		dev->irq = slot;
	} else if (dev->pci.isr && f->int_pin) {
		pci_cfg_write16(f, PCI_CFG_COMMAND,
				pci_cfg_read16(f, PCI_CFG_COMMAND) &
					(uint16_t)~PCI_COMMAND_INTX_DISABLE);
		dev->irq = PCI_INTX_IRQ;
	} else {
		return -GV_ENODEV; /* no way to interrupt us */
	}
	dev->ops = &gv_pci_transport;
	dev->base = (uint64_t)(uintptr_t)f->cfg;
	dev->dma.id = id;
	dev->dma.dma_bits = 32; /* rings below 4 GiB, as on mmio */
	guest_printf("virtio-pci: %02x:%02x.%x device %u, %s vector 0x%x\n",
		     f->bus, f->dev, f->fn, id,
		     dev->pci.msix ? "MSI-X" : "INTx",
		     GUEST_VEC_DEVICE + dev->irq);
	return 0;
}

int gv_pci_find(struct gv_dev *dev, uint32_t device_id, unsigned *instance)
{
	unsigned n = pci_init(), nvirtio = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pci_func *f = pci_func_get(i);
		uint32_t id = vpci_device_id(f);

		if (!id)
			continue;
		/* Slots follow bus order, so a device keeps its across probes. */
		if (nvirtio++ > PCI_MSIX_FIRST_SLOT)
			break;
		if (id != device_id || (*instance)-- != 0)
			continue;
		return vpci_setup(dev, f, id,
				  PCI_MSIX_FIRST_SLOT - (nvirtio - 1));
	}
	return -ENOENT;
}

static uint32_t pci_get_status(struct gv_dev *dev)
{
	return *common8(dev, VPCI_DEVICE_STATUS);
}

static void pci_set_status(struct gv_dev *dev, uint32_t status)
{
	*common8(dev, VPCI_DEVICE_STATUS) = (uint8_t)status;
}

/* The reset is done when status reads 0 (virtio 1.x 4.1.4.3.2). */
static void pci_reset(struct gv_dev *dev)
{
	pci_set_status(dev, 0);
	for (unsigned i = 0; i < VPCI_RESET_POLLS; i++)
		if (pci_get_status(dev) == 0)
			return;
	guest_fail(__FILE__, __LINE__, "virtio-pci: device %u never reset",
		   dev->device_id);
}

static uint64_t pci_get_features(struct gv_dev *dev)
{
	uint64_t f;

	*common32(dev, VPCI_DEVICE_FEATURE_SELECT) = 0;
	f = *common32(dev, VPCI_DEVICE_FEATURE);
	*common32(dev, VPCI_DEVICE_FEATURE_SELECT) = 1;
	return f | (uint64_t)*common32(dev, VPCI_DEVICE_FEATURE) << 32;
}

static void pci_set_features(struct gv_dev *dev, uint64_t f)
{
	*common32(dev, VPCI_DRIVER_FEATURE_SELECT) = 0;
	*common32(dev, VPCI_DRIVER_FEATURE) = (uint32_t)f;
	*common32(dev, VPCI_DRIVER_FEATURE_SELECT) = 1;
	*common32(dev, VPCI_DRIVER_FEATURE) = (uint32_t)(f >> 32);
}

static uint32_t pci_queue_max(struct gv_dev *dev, unsigned index)
{
	if (index >= *common16(dev, VPCI_NUM_QUEUES))
		return 0;
	*common16(dev, VPCI_QUEUE_SELECT) = (uint16_t)index;
	return *common16(dev, VPCI_QUEUE_SIZE);
}

static void write64(struct gv_dev *dev, unsigned off, uint64_t v)
{
	*common32(dev, off) = (uint32_t)v;
	*common32(dev, off + 4) = (uint32_t)(v >> 32);
}

/* The queue is still selected by pci_queue_max(). */
static int pci_queue_setup(struct gv_dev *dev, struct gv_queue *q)
{
	uint64_t off;

	*common16(dev, VPCI_QUEUE_SIZE) = q->size;
	if (dev->pci.msix) {
		*common16(dev, VPCI_QUEUE_MSIX_VECTOR) = 0;
		if (*common16(dev, VPCI_QUEUE_MSIX_VECTOR) != 0)
			return -EIO; /* the device could not take the vector */
	}
	off = (uint64_t)*common16(dev, VPCI_QUEUE_NOTIFY_OFF) *
	      dev->pci.notify_mult;
	if (off + 2 > dev->pci.notify_len)
		return -EIO;
	q->notify = (volatile uint16_t *)(dev->pci.notify + off);
	write64(dev, VPCI_QUEUE_DESC, gv_gpa(q->desc));
	write64(dev, VPCI_QUEUE_DRIVER, gv_gpa(q->avail));
	write64(dev, VPCI_QUEUE_DEVICE, gv_gpa(q->used));
	*common16(dev, VPCI_QUEUE_ENABLE) = 1;
	return *common16(dev, VPCI_QUEUE_ENABLE) == 1 ? 0 : -EIO;
}

static void pci_notify(struct gv_dev *dev, struct gv_queue *q)
{
	(void)dev;
	*q->notify = (uint16_t)q->index;
}

static void pci_route_irq(struct gv_dev *dev)
{
	if (dev->pci.msix) {
		/* A reset dropped the config vector; queues have theirs. */
		*common16(dev, VPCI_MSIX_CONFIG) = 0;
		return;
	}
	for (unsigned gsi = PCI_INTX_GSI_FIRST; gsi <= PCI_INTX_GSI_LAST; gsi++)
		ioapic_route_edge_to(gsi, 0, PCI_INTX_IRQ);
	/* A line raised before the route would never give an edge. */
	(void)*dev->pci.isr;
}

static uint32_t pci_ack_interrupt(struct gv_dev *dev)
{
	if (dev->pci.msix)
		return VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	/* Reading ISR acknowledges it and lowers the line. */
	return *dev->pci.isr & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
}

/* Outside the device's config structure: reads 0, writes are dropped. */
static bool config_ok(struct gv_dev *dev, unsigned offset)
{
	return dev->pci.device && offset % 4 == 0 &&
	       offset + 4 <= dev->pci.device_len;
}

static uint32_t pci_config_read32(struct gv_dev *dev, unsigned offset)
{
	if (!config_ok(dev, offset))
		return 0;
	return *(volatile uint32_t *)(dev->pci.device + offset);
}

static void pci_config_write32(struct gv_dev *dev, unsigned offset, uint32_t v)
{
	if (config_ok(dev, offset))
		*(volatile uint32_t *)(dev->pci.device + offset) = v;
}

static uint32_t pci_config_generation(struct gv_dev *dev)
{
	return *common8(dev, VPCI_CONFIG_GENERATION);
}

const struct gv_transport gv_pci_transport = {
	.name = "virtio-pci",
	.reset = pci_reset,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.queue_max = pci_queue_max,
	.queue_setup = pci_queue_setup,
	.notify = pci_notify,
	.route_irq = pci_route_irq,
	.ack_interrupt = pci_ack_interrupt,
	.config_read32 = pci_config_read32,
	.config_write32 = pci_config_write32,
	.config_generation = pci_config_generation,
};
