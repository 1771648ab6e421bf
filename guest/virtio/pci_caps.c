// SPDX-License-Identifier: MIT
/*
 * guest/virtio/pci_caps.c - the capability walk of a virtio-pci function
 * (see pci_caps.h). Pure: it reads configuration space through a callback,
 * so the unit tests run it over synthetic spaces and the guest over ECAM.
 */
#include "guest/virtio/pci_caps.h"

#include "mm/errno.h"

#ifndef ENODEV
#define ENODEV 19
#endif

/* 192 bytes of capabilities, 4 bytes at least each. */
#define VPCI_MAX_CAPS 48

uint8_t vpci_cfg_read8(vpci_cfg_read32_fn read, const void *ctx,
		       unsigned offset)
{
	return (uint8_t)(read(ctx, offset & ~3u) >> ((offset & 3) * 8));
}

uint16_t vpci_cfg_read16(vpci_cfg_read32_fn read, const void *ctx,
			 unsigned offset)
{
	/* Two byte reads: a field at offset 3 mod 4 spans two words. */
	return (uint16_t)(vpci_cfg_read8(read, ctx, offset) |
			  vpci_cfg_read8(read, ctx, offset + 1) << 8);
}

static uint32_t read32_at(vpci_cfg_read32_fn read, const void *ctx,
			  unsigned offset)
{
	if ((offset & 3) == 0)
		return read(ctx, offset);
	return (uint32_t)vpci_cfg_read16(read, ctx, offset) |
	       (uint32_t)vpci_cfg_read16(read, ctx, offset + 2) << 16;
}

/* A virtio vendor capability at @pos of length @len; first of each kind. */
static void parse_vendor(vpci_cfg_read32_fn read, const void *ctx, unsigned pos,
			 unsigned len, struct vpci_caps *out)
{
	struct vpci_region r = {.present = true};
	struct vpci_region *slot;
	uint8_t type;

	if (len < VIRTIO_PCI_CAP_LEN || pos + len > PCI_CFG_SPACE_BYTES)
		return;
	type = vpci_cfg_read8(read, ctx, pos + 3);
	r.bar = vpci_cfg_read8(read, ctx, pos + 4);
	if (r.bar >= PCI_NR_BARS)
		return; /* reserved BAR numbers: skip, as the spec says */
	r.offset = read32_at(read, ctx, pos + 8);
	r.length = read32_at(read, ctx, pos + 12);
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		slot = &out->common;
		break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		if (len < VIRTIO_PCI_NOTIFY_CAP_LEN)
			return;
		slot = &out->notify;
		if (!slot->present)
			out->notify_off_multiplier =
				read32_at(read, ctx, pos + 16);
		break;
	case VIRTIO_PCI_CAP_ISR_CFG:
		slot = &out->isr;
		break;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		slot = &out->device;
		break;
	default:
		return; /* PCI cfg access, shared memory, vendor data */
	}
	if (!slot->present)
		*slot = r;
}

static int parse_msix(vpci_cfg_read32_fn read, const void *ctx, unsigned pos,
		      struct vpci_caps *out)
{
	uint32_t table;

	if (out->msix_cap || pos + 12 > PCI_CFG_SPACE_BYTES)
		return 0;
	table = read32_at(read, ctx, pos + 4);
	if ((table & 7) >= PCI_NR_BARS)
		return -ENODEV;
	out->msix_cap = (uint8_t)pos;
	out->msix_entries =
		(uint16_t)((vpci_cfg_read16(read, ctx, pos + 2) & 0x7ff) + 1);
	out->msix_bar = (uint8_t)(table & 7);
	out->msix_offset = table & ~7u;
	return 0;
}

int vpci_parse_caps(vpci_cfg_read32_fn read, const void *ctx,
		    struct vpci_caps *out)
{
	unsigned pos, n;
	int err;

	*out = (struct vpci_caps){0};
	if (!(vpci_cfg_read16(read, ctx, PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
		return -ENODEV;
	pos = vpci_cfg_read8(read, ctx, PCI_CFG_CAP_PTR) & ~3u;
	for (n = 0; pos && n < VPCI_MAX_CAPS; n++) {
		uint8_t id, next;

		if (pos < 0x40 || pos > PCI_CFG_SPACE_BYTES - 4)
			return -ENODEV;
		id = vpci_cfg_read8(read, ctx, pos);
		next = vpci_cfg_read8(read, ctx, pos + 1);
		if (id == PCI_CAP_ID_VNDR)
			parse_vendor(read, ctx, pos,
				     vpci_cfg_read8(read, ctx, pos + 2), out);
		else if (id == PCI_CAP_ID_MSIX) {
			err = parse_msix(read, ctx, pos, out);
			if (err)
				return err;
		}
		pos = next & ~3u;
	}
	if (!out->common.present || !out->notify.present ||
	    out->common.length < VPCI_COMMON_CFG_LEN)
		return -ENODEV;
	return 0;
}

bool vpci_region_fits(const struct vpci_region *r, uint64_t bar_size,
		      uint32_t min_len)
{
	return r->present && r->length >= min_len &&
	       (uint64_t)r->offset + r->length <= bar_size;
}
