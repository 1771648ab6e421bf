/* SPDX-License-Identifier: MIT */
/*
 * abi/pvmem.h - the paravirtual memory interface of the hosted memory
 * model: how the guest asks the host buddy allocator for frames. Shared by the
 * VMM and the guest kernel; plain C with fixed-width types only, so that it
 * compiles freestanding. docs/hosted-memory.md is the prose version.
 *
 * A request block is one guest page (page-aligned, in memory the guest holds)
 * holding a header and up to PVMEM_MAX_REQS requests. The guest fills it and
 * rings the doorbell: a 32-bit write of block GPA >> 12 to PVMEM_MMIO_BASE
 * (or out32 to PVMEM_PORT from CPL 0). That single VM exit
 * serves the whole batch; when the out instruction returns, the host has
 * written every result. Each vCPU uses its own block.
 */
#ifndef ABI_PVMEM_H
#define ABI_PVMEM_H

#include <stdint.h>

#include "abi/layout.h"

/*
 * Doorbell: a 32-bit write of the block's PFN (so blocks above 4 GiB are
 * reachable), either to the MMIO register or to the port. CPL-3 guest code
 * uses the MMIO form: PVM hosts do not grant IOPL 3, so port I/O from CPL 3
 * raises #GP there; the port works from CPL 0. A 32-bit read of either
 * returns PVMEM_MAGIC if the device exists (a cheap probe). The MMIO
 * register is at PVMEM_MMIO_BASE (abi/layout.h).
 */
#define PVMEM_PORT	0x0f8
#define PVMEM_PORT_SIZE 4

#define PVMEM_MAGIC	0x4d4d5650u /* "PVMM" little-endian */
#define PVMEM_ABI_MAJOR 1
#define PVMEM_ABI_MINOR 0

/* Limits of ABI 1.0 (also reported by PVMEM_OP_INFO). */
#define PVMEM_PAGE_SHIFT    12
#define PVMEM_BLOCK_SIZE    4096u
#define PVMEM_MAX_REQS	    63u	 /* requests per block: fills one page */
#define PVMEM_MAX_COUNT	    512u /* array entries per ALLOC / FREE request */
#define PVMEM_NR_ORDERS	    11u	 /* orders 0 .. 10: 4 KiB .. 4 MiB */
#define PVMEM_MIN_DMA_BITS  12u
#define PVMEM_MAX_DMA_BITS  64u
#define PVMEM_MAX_DEVICE_ID 63u /* DMA device ids are 1 .. 63 */

/*
 * GFP bits (mm/gfp.h values) a guest may pass. __GFP_MEMALLOC (ignore the
 * watermarks) and __GFP_NOFAIL (block the vCPU until memory appears) are the
 * host's to use, not the guest's: a request carrying them gets -EINVAL.
 */
#define PVMEM_GFP_ALLOWED 0x7fdfu

enum pvmem_op {
	PVMEM_OP_INFO = 1,  /* ABI version and limits -> struct pvmem_info */
	PVMEM_OP_ALLOC = 2, /* blocks of 2^order frames -> pfn array */
	PVMEM_OP_FREE = 3,  /* give back (pfn, order) entries */
	PVMEM_OP_DMA_ALLOC = 4, /* one contiguous block owned by a device */
	PVMEM_OP_DMA_FREE = 5,	/* give back a DMA block */
	PVMEM_OP_STATS = 6,	/* host statistics -> struct pvmem_stats */
	PVMEM_OP_MAX = PVMEM_OP_STATS,
};

/*
 * Status values: 0 or a negative Linux errno. Listed here with their numbers
 * so the guest needs no errno header.
 */
#define PVMEM_OK      0
#define PVMEM_PENDING 1	     /* guest's marker before ringing; never host's */
#define PVMEM_EPERM   (-1)   /* frame/block not held by the guest/device */
#define PVMEM_ENOENT  (-2)   /* DMA_FREE: no DMA block starts there */
#define PVMEM_E2BIG   (-7)   /* count or size above the limit */
#define PVMEM_ENOMEM  (-12)  /* allocator out of frames (partial grant) */
#define PVMEM_EFAULT  (-14)  /* a guest buffer outside held RAM */
#define PVMEM_EINVAL  (-22)  /* bad argument, nonzero reserved field */
#define PVMEM_ENOSPC  (-28)  /* too many DMA mappings */
#define PVMEM_ERANGE  (-34)  /* pfn outside RAM */
#define PVMEM_ENOSYS  (-38)  /* unknown op */
#define PVMEM_EPROTO  (-71)  /* bad magic or unsupported ABI major */
#define PVMEM_EDQUOT  (-122) /* page limit reached (partial grant) */

/* 64 bytes. Fields an op does not use must be zero (-EINVAL otherwise). */
struct pvmem_req {
	/* Written by the guest. */
	uint16_t op;	    /* enum pvmem_op */
	uint8_t order;	    /* ALLOC: block order */
	uint8_t dma_bits;   /* DMA_ALLOC: device address width */
	uint32_t gfp;	    /* ALLOC, DMA_ALLOC: PVMEM_GFP_ALLOWED bits */
	uint32_t count;	    /* ALLOC, FREE: entries in the array at addr */
	uint32_t device_id; /* DMA_ALLOC, DMA_FREE: 1 .. PVMEM_MAX_DEVICE_ID */
	uint64_t addr;	    /* ALLOC: GPA of uint64_t pfns[count] (out);
			     * FREE: GPA of struct pvmem_free_ent[count];
			     * DMA_FREE: GPA of the block;
			     * INFO, STATS: GPA of the output struct */
	uint64_t size;	    /* DMA_ALLOC: bytes; INFO, STATS: output bytes */
	uint64_t reserved0;
	/* Written by the host. */
	int32_t status;	 /* PVMEM_OK or a negative PVMEM_E* */
	uint32_t done;	 /* ALLOC: blocks granted; FREE: entries freed;
			 * DMA_ALLOC: frames; INFO, STATS: bytes written */
	uint64_t result; /* DMA_ALLOC: block GPA; FREE: index of the entry
			  * that stopped the request (== done) */
	uint64_t reserved1;
};

/* 64 bytes, followed by nr_reqs struct pvmem_req. */
struct pvmem_block_hdr {
	/* Written by the guest. */
	uint32_t magic;	    /* PVMEM_MAGIC */
	uint16_t abi_major; /* PVMEM_ABI_MAJOR: must match the host's */
	uint16_t abi_minor; /* any: newer ops get -ENOSYS from older hosts */
	uint16_t nr_reqs;   /* 1 .. PVMEM_MAX_REQS */
	uint16_t flags;	    /* 0 */
	/* Written by the host. */
	int32_t status;	  /* 0, or why no request was run */
	uint32_t nr_done; /* requests run (each has its own status) */
	uint32_t reserved[11];
};

struct pvmem_block {
	struct pvmem_block_hdr hdr;
	struct pvmem_req reqs[PVMEM_MAX_REQS];
};

/* FREE array entry. */
struct pvmem_free_ent {
	uint64_t pfn;
	uint32_t order;
	uint32_t reserved; /* 0 */
};

struct pvmem_info {
	uint16_t abi_major, abi_minor;
	uint32_t max_reqs;
	uint32_t max_count;
	uint32_t max_order;
	uint32_t gfp_allowed;
	uint32_t max_device_id;
	uint64_t page_size;
	uint64_t ram_pages; /* frames of RAM (all states) */
	uint64_t max_pages; /* current page limit */
};

/* Frame states, in the order of mm/mm.h's enum frame_state. */
enum pvmem_frame_state {
	PVMEM_FRAME_FREE,
	PVMEM_FRAME_GUEST,
	PVMEM_FRAME_DMA,
	PVMEM_FRAME_BALLOON,
	PVMEM_FRAME_RESERVED,
	PVMEM_NR_FRAME_STATES,
};

/* Zones, in the order of mm/mm.h's enum zone_type. */
#define PVMEM_NR_ZONES 4

/* Written truncated to the request's size: new fields only go at the end. */
struct pvmem_stats {
	uint64_t frames[PVMEM_NR_FRAME_STATES];
	/* Free frames in each zone's buddy lists: DMA, DMA32, Normal, Movable */
	uint64_t free_per_zone[PVMEM_NR_ZONES];
	uint64_t ram_pages;
	uint64_t max_pages;  /* page limit */
	uint64_t tot_pages;  /* GUEST + DMA frames charged to the limit */
	uint64_t discarded;  /* frames whose host backing is released */
	uint64_t pcp_frames; /* FREE frames on per-CPU lists, not in a zone's */
};

#endif /* ABI_PVMEM_H */
