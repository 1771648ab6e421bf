/* SPDX-License-Identifier: MIT */
/*
 * abi/virtio.h - virtio 1.x constants and ring layouts shared by the
 * device side (VMM) and the guest drivers: device status bits, feature bits,
 * virtio-mmio (version 2) register offsets, device ids, split-ring structures.
 *
 * Plain C with only <stdint.h>: the freestanding guest includes it too. All
 * fields are little-endian (virtio 1.x); both sides are x86-64, so they are
 * used as native integers.
 */
#ifndef ABI_VIRTIO_H
#define ABI_VIRTIO_H

#include <stdint.h>

/* Device status (virtio 1.x 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	 0x01u
#define VIRTIO_STATUS_DRIVER		 0x02u
#define VIRTIO_STATUS_DRIVER_OK		 0x04u
#define VIRTIO_STATUS_FEATURES_OK	 0x08u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED		 0x80u

/* Feature bits independent of the device type (virtio 1.x 6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED	    34
#define VIRTIO_F_IN_ORDER	    35
#define VIRTIO_F_NOTIFICATION_DATA  38

#define VIRTIO_BIT(feature)	    (1ull << (feature))

/* Device ids (virtio 1.x 5). */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4
#define VIRTIO_ID_BALLOON 5

/* Our vendor id ("BVM" in the low bytes); drivers do not match on it. */
#define VIRTIO_VENDOR_BUDDYVM 0x004d5642u

/* virtio-mmio registers, version 2 (virtio 1.x 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000 /* R: 0x74726976 "virt" */
#define VIRTIO_MMIO_VERSION		0x004 /* R: 2 */
#define VIRTIO_MMIO_DEVICE_ID		0x008 /* R */
#define VIRTIO_MMIO_VENDOR_ID		0x00c /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010 /* R: 32 bits of the set ... */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W: ... selected here */
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020 /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL		0x030 /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034 /* R: 0 = no such queue */
#define VIRTIO_MMIO_QUEUE_NUM		0x038 /* W */
#define VIRTIO_MMIO_QUEUE_READY		0x044 /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050 /* W: queue index */
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060 /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064 /* W */
#define VIRTIO_MMIO_STATUS		0x070 /* RW */
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080 /* W */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084 /* W */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090 /* W: the available ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094 /* W */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0 /* W: the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4 /* W */
#define VIRTIO_MMIO_SHM_SEL		0x0ac /* W */
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0 /* R: all ones = no region */
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4 /* R */
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8 /* R */
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc /* R */
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0 /* RW (VIRTIO_F_RING_RESET) */
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc /* R */
#define VIRTIO_MMIO_CONFIG		0x100 /* device config space */

#define VIRTIO_MMIO_MAGIC		0x74726976u
#define VIRTIO_MMIO_VERSION_2		2u
#define VIRTIO_MMIO_SIZE		0x200u /* registers + 256 config bytes */
#define VIRTIO_MMIO_CONFIG_MAX		(VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING  0x1u /* a used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 0x2u /* configuration (or status) change */

/* Split virtqueue (virtio 1.x 2.7). */
#define VIRTQ_MAX_SIZE		   32768u

#define VIRTQ_DESC_F_NEXT	   1u
#define VIRTQ_DESC_F_WRITE	   2u
#define VIRTQ_DESC_F_INDIRECT	   4u

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY	   1u

struct virtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Followed by ring[size] and, with EVENT_IDX, used_event. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;  /* head of the chain, widened to 32 bits */
	uint32_t len; /* bytes the device wrote into the chain */
};

/* Followed by ring[size] and, with EVENT_IDX, avail_event. */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* Byte sizes and alignments of the three ring parts (virtio 1.x 2.7). */
#define VIRTQ_DESC_BYTES(size)	(16ull * (size))
#define VIRTQ_AVAIL_BYTES(size) (6ull + 2ull * (size))
#define VIRTQ_USED_BYTES(size)	(6ull + 8ull * (size))
#define VIRTQ_DESC_ALIGN	16u
#define VIRTQ_AVAIL_ALIGN	2u
#define VIRTQ_USED_ALIGN	4u

/*
 * The event-index test (virtio 1.x 2.7.10): notify when the index moved from
 * old to new_idx past event, all modulo 2^16.
 */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx,
				   uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* ABI_VIRTIO_H */
