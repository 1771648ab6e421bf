/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/pci_caps.h - reading a modern virtio-pci function's
 * configuration space (virtio 1.x 4.1.4): the vendor-specific capabilities
 * that place the common, notify, ISR and device structures in its BARs,
 * and the MSI-X capability.
 *
 * The device (or whoever emulates it) is untrusted: every pointer, length
 * and BAR number is checked, the capability walk is bounded, and anything
 * unusable is refused with an error rather than followed. Built by the
 * guest and, with the host compiler, by the unit tests (no guest headers).
 */
#ifndef GUEST_VIRTIO_PCI_CAPS_H
#define GUEST_VIRTIO_PCI_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* PCI configuration header (type 0) offsets used here. */
#define PCI_CFG_VENDOR_ID	 0x00
#define PCI_CFG_DEVICE_ID	 0x02
#define PCI_CFG_COMMAND		 0x04
#define PCI_CFG_STATUS		 0x06
#define PCI_CFG_HEADER_TYPE	 0x0e
#define PCI_CFG_BAR0		 0x10
#define PCI_CFG_SUBSYS_ID	 0x2e
#define PCI_CFG_CAP_PTR		 0x34
#define PCI_CFG_INT_PIN		 0x3d
#define PCI_CFG_SECONDARY_BUS	 0x19 /* type 1 (bridge) header */
#define PCI_CFG_SPACE_BYTES	 256  /* capabilities live in the first 256 */
#define PCI_STATUS_CAP_LIST	 0x10
#define PCI_COMMAND_MEMORY	 0x0002
#define PCI_COMMAND_MASTER	 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_NR_BARS		 6

#define PCI_CAP_ID_VNDR		 0x09
#define PCI_CAP_ID_MSIX		 0x11
#define PCI_MSIX_ENABLE		 0x8000 /* message control bits */
#define PCI_MSIX_FN_MASK	 0x4000

#define PCI_VENDOR_VIRTIO	 0x1af4
#define PCI_DEVICE_VIRTIO_MODERN 0x1040 /* + virtio device id */
#define PCI_DEVICE_VIRTIO_TRANS	 0x1000 /* .. 0x103f: transitional */

/* virtio_pci_cap.cfg_type (virtio 1.x 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* Capability lengths: struct virtio_pci_cap, + notify_off_multiplier. */
#define VIRTIO_PCI_CAP_LEN	  16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20

/* struct virtio_pci_common_cfg (virtio 1.x 4.1.4.3). */
#define VPCI_DEVICE_FEATURE_SELECT 0x00 /* 32 bits each, to 0x0c */
#define VPCI_DEVICE_FEATURE	   0x04
#define VPCI_DRIVER_FEATURE_SELECT 0x08
#define VPCI_DRIVER_FEATURE	   0x0c
#define VPCI_MSIX_CONFIG	   0x10 /* 16 bits */
#define VPCI_NUM_QUEUES		   0x12 /* 16 */
#define VPCI_DEVICE_STATUS	   0x14 /* 8 */
#define VPCI_CONFIG_GENERATION	   0x15 /* 8 */
#define VPCI_QUEUE_SELECT	   0x16 /* 16 */
#define VPCI_QUEUE_SIZE		   0x18 /* 16 */
#define VPCI_QUEUE_MSIX_VECTOR	   0x1a /* 16 */
#define VPCI_QUEUE_ENABLE	   0x1c /* 16 */
#define VPCI_QUEUE_NOTIFY_OFF	   0x1e /* 16 */
#define VPCI_QUEUE_DESC		   0x20 /* 64, as two 32-bit halves */
#define VPCI_QUEUE_DRIVER	   0x28
#define VPCI_QUEUE_DEVICE	   0x30
#define VPCI_COMMON_CFG_LEN	   0x38 /* what this driver uses */
#define VPCI_NO_VECTOR		   0xffff

/* One structure: which BAR, where in it, how long. */
struct vpci_region {
	bool present;
	uint8_t bar;
	uint32_t offset;
	uint32_t length;
};

struct vpci_caps {
	struct vpci_region common, notify, isr, device;
	uint32_t notify_off_multiplier;
	/* MSI-X: capability offset (0: none), table size, table place. */
	uint8_t msix_cap;
	uint16_t msix_entries;
	uint8_t msix_bar;
	uint32_t msix_offset;
};

/* Reads a 32-bit aligned word of a function's configuration space. */
typedef uint32_t (*vpci_cfg_read32_fn)(const void *ctx, unsigned offset);

/**
 * vpci_parse_caps() - walk the capability list of the function whose
 * configuration space @read reads (with @ctx) and fill @out. The first
 * capability of each virtio type with a BAR in 0..5 and a long enough
 * body counts (the spec lets devices offer alternatives after it); the
 * walk stops after 48 capabilities (all that fit in 192 bytes), so a loop
 * in the list ends it.
 * Return: 0, or -ENODEV (no capability list, a pointer outside
 * [0x40, 0x100), no common or notify structure, a common structure shorter
 * than VPCI_COMMON_CFG_LEN, an MSI-X table BAR above 5).
 */
int vpci_parse_caps(vpci_cfg_read32_fn read, const void *ctx,
		    struct vpci_caps *out);

/*
 * Is @r inside a BAR of @bar_size bytes (offset + length without
 * overflow)? @min_len is the least length the driver needs.
 */
bool vpci_region_fits(const struct vpci_region *r, uint64_t bar_size,
		      uint32_t min_len);

/* Byte, 16-bit field of a configuration space read 32 bits at a time. */
uint8_t vpci_cfg_read8(vpci_cfg_read32_fn read, const void *ctx,
		       unsigned offset);
uint16_t vpci_cfg_read16(vpci_cfg_read32_fn read, const void *ctx,
			 unsigned offset);

#endif /* GUEST_VIRTIO_PCI_CAPS_H */
