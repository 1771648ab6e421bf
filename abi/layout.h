/* SPDX-License-Identifier: MIT */
/*
 * abi/layout.h - where the guest finds the VM's devices: the guest-physical
 * map above RAM, every device's MMIO window, IOAPIC pin and pvmem DMA device
 * id, and the device-tree names the VMM writes for them. One table, so that a
 * new device's row sits next to the others and cannot collide unseen.
 *
 * The guest learns a virtio device's window, pin and DMA id from the FDT
 * (vmm/fdt_build.c writes them from the VMM's device list); it needs the
 * constants below only for the fixed devices (debug channels, pvmem) and
 * for tests that poke at the hole on purpose. Plain C, no libc, no casts:
 * assembly and the linker script may include it.
 */
#ifndef ABI_LAYOUT_H
#define ABI_LAYOUT_H

/* Guest-physical RAM around the MMIO hole. */
#define BVM_LOWMEM_END	  0xC0000000ull	 /* RAM below the hole ends at 3 GiB */
#define BVM_HIGHMEM_START 0x100000000ull /* and continues at 4 GiB */

/* The MMIO hole [3 GiB, 4 GiB). */
#define BVM_DEBUG_MMIO_BASE 0xC0000000ull /* debug channels (abi/boot.h) */
#define BVM_DEBUG_MMIO_SIZE 0x1000ull
#define PVMEM_MMIO_BASE	    0xC0001000ull /* pvmem doorbell (abi/pvmem.h) */
#define PVMEM_MMIO_SIZE	    0x1000ull	  /* only offset 0 is a register */
#define BVM_MMIO_BASE	    0xD0000000ull /* virtio-mmio windows */
#define BVM_MMIO_WINDOW	    0x1000ull
#define BVM_IOAPIC_ADDR	    0xFEC00000ull
#define BVM_LAPIC_ADDR	    0xFEE00000ull

/*
 * The virtio-mmio devices: window N at BVM_MMIO_BASE + N * BVM_MMIO_WINDOW,
 * IOAPIC pins from 16 up (above the ISA pins, so only the IOAPIC sees them),
 * pvmem DMA device ids 1..63 (abi/pvmem.h), by custom the virtio device id
 * (which the guest also falls back to when the FDT has none). One row per
 * device.
 */
#define BVM_VIRTIO_MMIO_BASE(n)	 (BVM_MMIO_BASE + (n)*BVM_MMIO_WINDOW)
#define BVM_VIRTIO_IRQ_BASE	 16

#define VIRTIO_CONSOLE_MMIO_BASE BVM_VIRTIO_MMIO_BASE(0)
#define VIRTIO_CONSOLE_IRQ	 (BVM_VIRTIO_IRQ_BASE + 0)
#define VIRTIO_CONSOLE_DMA_ID	 3

#define VIRTIO_BALLOON_MMIO_BASE BVM_VIRTIO_MMIO_BASE(1)
#define VIRTIO_BALLOON_IRQ	 (BVM_VIRTIO_IRQ_BASE + 1)
#define VIRTIO_BALLOON_DMA_ID	 5

/*
 * virtio-blk: one slot per --disk, in command-line order (disk i: window
 * 2 + i, pin 18 + i, DMA id below):
 *   disk 0: window 2, pin 18, DMA id 2
 *   disk 1: window 3, pin 19, DMA id 6
 *   disk 2: window 4, pin 20, DMA id 7
 *   disk 3: window 5, pin 21, DMA id 8
 */
#define VIRTIO_BLK_MAX_DISKS	4
#define VIRTIO_BLK_MMIO_BASE(i) BVM_VIRTIO_MMIO_BASE(2 + (i))
#define VIRTIO_BLK_IRQ(i)	(BVM_VIRTIO_IRQ_BASE + 2 + (i))
#define VIRTIO_BLK_DMA_ID(i)	((i) == 0 ? 2 : 5 + (i))

/*
 * pvmem (hosted model, ABI 1.1): the migration wake-up, pulsed when
 * migration requests have waited half their timeout (abi/pvmem.h). A
 * fixed pin, like the doorbell: routed by a guest that set up its ring.
 */
#define PVMEM_MIG_IRQ 22

/*
 * Device-tree names of a virtio device's node, /virtio_mmio@BASE:
 * compatible = BVM_FDT_VIRTIO_COMPAT, reg = <BASE SIZE>, interrupts = <pin>,
 * and BVM_FDT_DMA_ID_PROP = <u32>: which pvmem DMA blocks the device accepts
 * descriptors in (hosted model; the native model checks nothing).
 */
#define BVM_FDT_VIRTIO_COMPAT "virtio,mmio"
#define BVM_FDT_DMA_ID_PROP   "buddyvm,dma-device-id"

#endif /* ABI_LAYOUT_H */
