/* SPDX-License-Identifier: MIT */
/*
 * guest/include/dma.h - coherent DMA buffers for the guest's device drivers,
 * in the style of Linux's dma_alloc_coherent()/dma_free_coherent().
 *
 * A buffer is one physically contiguous, zeroed range below the device's
 * address width, so it is one descriptor however large it is. Up to 4 MiB
 * it is one buddy block (the size rounded up to a power of two), beyond
 * that whole pages of a contiguous range. Where it comes from depends on
 * the memory model (docs/dma.md):
 *
 *   hosted: a pvmem DMA_ALLOC for the device's DMA id. The host marks the
 *           frames FRAME_DMA of that device, and the device emulation
 *           accepts only descriptors inside such blocks. Above 4 MiB the
 *           host may ask the guest to move blocks first (-EAGAIN): the
 *           guest drains its migration ring and asks again.
 *   native: the guest's own buddy (mm_alloc_pages_bits(), or
 *           mm_alloc_contig_pages() above 4 MiB), the frames then marked
 *           FRAME_DMA of the device in the guest's page database, as the
 *           host does in the hosted model. Before the native memory stack
 *           exists (the console at boot) a small static pool in the kernel
 *           image serves instead; it is never freed.
 *
 * Every live buffer is recorded per device, so a free must name a buffer
 * that was allocated for that device with its size (-EINVAL otherwise), and
 * a driver can drop all of a device's buffers at once around a reset.
 * Safe on any vCPU (one lock); each call costs at most one VM exit
 * (hosted) or none (native).
 */
#ifndef GUEST_DMA_H
#define GUEST_DMA_H

#include <stddef.h>
#include <stdint.h>

/* A device as the DMA API sees it. */
struct dma_dev {
	unsigned id;	   /* DMA device id (FDT buddyvm,dma-device-id) */
	unsigned dma_bits; /* buffers lie wholly below 2^dma_bits */
};

/**
 * dma_alloc_coherent() - a zeroed, contiguous buffer of at least @size bytes
 * for @dev (up to 4 MiB rounded up to a power-of-two number of pages,
 * beyond to whole pages).
 * @cpu: receives the pointer the guest uses.
 * @dma_addr: receives the address the device uses (identity map: the same).
 * Return: 0, -EINVAL (@size 0, bad device), -E2BIG (above the limit: the
 * host's in the hosted model, dma_max_coherent() in the native one),
 * -ENOMEM, -EDQUOT (hosted page limit), -ENOSPC (the host's mapping table
 * is full); beyond 4 MiB also -EBUSY (pinned frames in every range) and
 * the host's other reasons (-EADDRNOTAVAIL: no range that large below
 * dma_bits). Hosted, one VM exit (more if blocks must move first).
 */
int dma_alloc_coherent(const struct dma_dev *dev, size_t size, void **cpu,
		       uint64_t *dma_addr);

/**
 * dma_free_coherent() - give back a buffer from dma_alloc_coherent(), with
 * the same @dev and @size. The device must no longer use it.
 * Return: 0, -EINVAL (no such buffer of @dev and @size), or the host's
 * error (the record is dropped whatever the host said).
 */
int dma_free_coherent(const struct dma_dev *dev, size_t size, void *cpu,
		      uint64_t dma_addr);

/**
 * dma_max_coherent() - the largest buffer one call can return, in bytes:
 * native 64 MiB (a contiguous range of the guest's buddy); hosted, the
 * host's INFO max_dma_bytes (pvmem ABI 1.2: 64 MiB), else one 4 MiB block.
 */
uint64_t dma_max_coherent(const struct dma_dev *dev);

/**
 * dma_free_all() - free every buffer of @dev (hosted: one doorbell per 63
 * buffers). Call it while the device is stopped but before a reset:
 * hosted, a reset makes the host release the device's blocks itself, and
 * the guest's records of them are dropped (gv_reset()).
 */
void dma_free_all(const struct dma_dev *dev);

/**
 * dma_forget_all() - forget @dev's buffers without telling anyone: hosted,
 * after a reset that already released them on the host; native, their
 * frames would stay FRAME_DMA (leaked), so use dma_free_all() there.
 */
void dma_forget_all(const struct dma_dev *dev);

/* Bytes of DMA memory @dev holds now, as dma_alloc_coherent() rounded. */
uint64_t dma_bytes_held(const struct dma_dev *dev);

#endif /* GUEST_DMA_H */
