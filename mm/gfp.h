/* SPDX-License-Identifier: MIT */
/*
 * mm/gfp.h - Get Free Pages flags, with Linux's meanings.
 *
 * Low bits pick the zone (an address-width class), the migratetype and how
 * hard the allocator may try; the GFP_* combinations are the ones callers use.
 */
#ifndef MM_GFP_H
#define MM_GFP_H

#include <stdint.h>

typedef uint32_t gfp_t;

/* Zone modifiers: the highest zone the request may be served from. */
#define __GFP_DMA   (1u << 0) /* below 16 MiB  (24 address bits) */
#define __GFP_DMA32 (1u << 1) /* below 4 GiB   (32 address bits) */
/* Migratetype modifiers (neither: UNMOVABLE). */
#define __GFP_MOVABLE	  (1u << 2)
#define __GFP_RECLAIMABLE (1u << 3)
/* Watermark access. */
#define __GFP_HIGH     (1u << 4) /* may dip below min/2 (min/2 reserve) */
#define __GFP_MEMALLOC (1u << 5) /* may ignore watermarks entirely */
/* Reclaim and I/O: what the caller allows the allocator to do. */
#define __GFP_IO	     (1u << 6)
#define __GFP_FS	     (1u << 7)
#define __GFP_DIRECT_RECLAIM (1u << 8) /* may block */
#define __GFP_KSWAPD_RECLAIM (1u << 9) /* may wake background reclaim */
/* Behaviour. */
#define __GFP_ZERO	     (1u << 10) /* return zeroed memory */
#define __GFP_NORETRY	     (1u << 11) /* fail fast, no compaction retry */
#define __GFP_NOWARN	     (1u << 12) /* no log line on failure */
#define __GFP_HARDWALL	     (1u << 13)
#define __GFP_COMP	     (1u << 14)
#define __GFP_NOFAIL	     (1u << 15)

#define __GFP_RECLAIM	     (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_ZONEMASK	     (__GFP_DMA | __GFP_DMA32)
#define GFP_MOVABLE_MASK     (__GFP_MOVABLE | __GFP_RECLAIMABLE)

#define GFP_ATOMIC	     (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL	     (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT	     (__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO	     (__GFP_RECLAIM)
#define GFP_NOFS	     (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER	     (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA		     (__GFP_DMA)
#define GFP_DMA32	     (__GFP_DMA32)
#define GFP_HIGHUSER	     (GFP_USER)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)

/* All bits the allocator understands; anything else is a caller error. */
#define GFP_VALID_MASK ((1u << 16) - 1)

#endif /* MM_GFP_H */
