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
#define PVMEM_ABI_MINOR                                                        \
	4 /* 1.1: cooperative migration (MIGRATE_*);
			    * 1.2: DMA_ALLOC up to PVMEM_MAX_DMA_BYTES;
			    * 1.3: per-vCPU page rings (RING_SETUP, kick);
			    * 1.4: SPLIT */

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
 * ABI 1.2: the largest DMA_ALLOC (also INFO max_dma_bytes). Up to 4 MiB a
 * buffer is one buddy block; above, whole 2 MiB pageblocks the host empties
 * (contiguous allocation, docs/hosted-memory.md "Large DMA buffers").
 */
#define PVMEM_MAX_DMA_BYTES (64ull << 20)

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
	/* ABI 1.1: cooperative migration (docs/hosted-memory.md). */
	PVMEM_OP_MIGRATE_SETUP = 7,  /* -> the migration ring's GPA */
	PVMEM_OP_MIGRATE_ANSWER = 8, /* struct pvmem_mig_ans[count] */
	PVMEM_OP_COMPACT = 9,	     /* move the movable blocks of a range */
	/* ABI 1.3: exit-free page supply (struct pvmem_ring). */
	PVMEM_OP_RING_SETUP = 10, /* one ring per vCPU -> their GPAs */
	/* ABI 1.4: held blocks into order-0 blocks (PVMEM_F_SPLIT). */
	PVMEM_OP_SPLIT = 11, /* u64 pfns[count] of blocks of one order */
	PVMEM_OP_MAX = PVMEM_OP_SPLIT,
};

/*
 * Status values: 0 or a negative Linux errno. Listed here with their numbers
 * so the guest needs no errno header.
 */
#define PVMEM_OK      0
#define PVMEM_PENDING 1	    /* guest's marker before ringing; never host's */
#define PVMEM_EPERM   (-1)  /* frame/block not held by the guest/device */
#define PVMEM_ENOENT  (-2)  /* DMA_FREE: no DMA block starts there */
#define PVMEM_E2BIG   (-7)  /* count or size above the limit */
#define PVMEM_ENOMEM  (-12) /* allocator out of frames (partial grant) */
#define PVMEM_EFAULT  (-14) /* a guest buffer outside held RAM */
#define PVMEM_EINVAL  (-22) /* bad argument, nonzero reserved field */
#define PVMEM_ENOSPC  (-28) /* too many DMA mappings */
#define PVMEM_ERANGE  (-34) /* pfn outside RAM */
#define PVMEM_ENOSYS  (-38) /* unknown op */
#define PVMEM_EPROTO  (-71) /* bad magic or unsupported ABI major */
/* ABI 1.2, DMA_ALLOC above 4 MiB (why no contiguous range was found): */
#define PVMEM_EAGAIN                                                           \
	(-11) /* movable guest blocks in the way: the
				   * host posted migration requests (result);
				   * drain the ring, ask again */
#define PVMEM_EADDRNOTAVAIL                                                    \
	(-99) /* RAM below dma_bits has no range of
				   * that size at all */
/* also: PVMEM_EBUSY (pinned frames in every range), PVMEM_ENOMEM (too few
 * free frames to move the blocks in the way to), PVMEM_E2BIG (above
 * PVMEM_MAX_DMA_BYTES) */
#define PVMEM_EDQUOT (-122) /* page limit reached (partial grant) */
/* ABI 1.1, migration answers (struct pvmem_mig_ans.status): */
#define PVMEM_EBUSY (-16) /* refused by the guest, or blocks pinned */
#define PVMEM_ESTALE                                                           \
	(-116) /* no such request pending (timed out, done,
				* cancelled, never asked): keep using src */

/* 64 bytes. Fields an op does not use must be zero (-EINVAL otherwise). */
struct pvmem_req {
	/* Written by the guest. */
	uint16_t op;	    /* enum pvmem_op */
	uint8_t order;	    /* ALLOC, SPLIT: block order */
	uint8_t dma_bits;   /* DMA_ALLOC: device address width */
	uint32_t gfp;	    /* ALLOC, DMA_ALLOC: PVMEM_GFP_ALLOWED bits */
	uint32_t count;	    /* ALLOC, FREE, SPLIT: entries at addr */
	uint32_t device_id; /* DMA_ALLOC, DMA_FREE: 1 .. PVMEM_MAX_DEVICE_ID */
	uint64_t addr;	    /* ALLOC: GPA of uint64_t pfns[count] (out);
			     * FREE: GPA of struct pvmem_free_ent[count];
			     * SPLIT: GPA of uint64_t pfns[count] (in);
			     * DMA_FREE: GPA of the block;
			     * INFO, STATS: GPA of the output struct */
	uint64_t size;	    /* DMA_ALLOC: bytes (1 .. PVMEM_MAX_DMA_BYTES);
			     * INFO, STATS: output bytes */
	uint64_t reserved0;
	/* Written by the host. */
	int32_t status;	 /* PVMEM_OK or a negative PVMEM_E* */
	uint32_t done;	 /* ALLOC: blocks granted; FREE: entries freed;
			 * SPLIT: blocks split;
			 * DMA_ALLOC: frames; INFO, STATS: bytes written */
	uint64_t result; /* DMA_ALLOC: block GPA (-EAGAIN: requests waiting
			  * in the migration ring); FREE, SPLIT: index of
			  * the entry that stopped the request (== done) */
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
	/*
	 * ABI 1.1: migration requests waiting in this guest's ring when the
	 * doorbell returned (0 without a ring): the doorbell-reply flag that
	 * tells a guest which only polls at doorbells to drain its ring.
	 */
	uint32_t mig_pending;
	uint32_t reserved[10];
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
	/* ABI 1.1 (a 1.0 host writes only the fields above). */
	uint64_t features;	 /* PVMEM_F_* */
	uint32_t mig_slots;	 /* request slots of the migration ring */
	uint32_t mig_timeout_ms; /* a request not answered by then is
				   * cancelled */
	/* ABI 1.2. */
	uint64_t max_dma_bytes; /* largest DMA_ALLOC: PVMEM_MAX_DMA_BYTES */
	/* ABI 1.3. */
	uint32_t max_rings;  /* RING_SETUP count: PVMEM_MAX_RINGS */
	uint32_t ring_bytes; /* one ring: PVMEM_RING_BYTES */
};

/* INFO features. */
#define PVMEM_F_MIGRATE	   (1ull << 0) /* MIGRATE_SETUP/ANSWER, COMPACT */
#define PVMEM_F_CONTIG_DMA (1ull << 1) /* DMA_ALLOC above 4 MiB (1.2) */
#define PVMEM_F_RINGS	   (1ull << 2) /* RING_SETUP and the kick (1.3) */
#define PVMEM_F_SPLIT	   (1ull << 3) /* SPLIT (1.4) */

/*
 * SPLIT (ABI 1.4): each of the count pfns at addr names the head of a
 * block of 2^order frames (order 1 .. PVMEM_NR_ORDERS - 1) that the guest
 * holds as FRAME_GUEST, allocated with that order; it becomes 2^order
 * order-0 blocks the guest holds, each then freed (FREE order 0), ballooned
 * or moved on its own (Linux's split_page()). Nothing else changes: not
 * the frames' state, zone, migratetype, contents or the page limit. So a
 * guest can take whole 2 MiB blocks (ALLOC order 9) for its balloon and
 * still deflate and free them page by page. The array has ALLOC's output
 * format: ALLOC then SPLIT of the same array in one block costs one exit
 * (zero the array first: an entry ALLOC did not fill then stops SPLIT).
 * Entries run in array order and the first bad one stops the request, as
 * in FREE: done = result = its index, status its error (-ERANGE not RAM,
 * -EPERM not held as GUEST: free, DMA, ballooned, reserved; -EINVAL not
 * the head of a block of that order; -EBUSY isolated for migration).
 */

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
	/* ABI 1.2: free blocks per zone and order (the host's buddyinfo). */
	uint64_t nr_free[PVMEM_NR_ZONES][PVMEM_NR_ORDERS];
};

/*
 * Cooperative migration (ABI 1.1, docs/hosted-memory.md "Migration").
 *
 * The host owns the frames but the guest holds pointers to them, so a
 * GUEST block moves only when its guest owner does the move. A guest that
 * can move some of its blocks says so twice: MIGRATE_SETUP (the host
 * allocates the ring page, pinned: FREE and DMA_FREE refuse it), then
 * __GFP_MOVABLE on the ALLOCs of blocks it can move. Only those blocks
 * (and ballooned frames, whose owner is the balloon driver) are ever asked
 * for; a 1.0 guest is never asked anything.
 *
 * The host posts requests into the ring (shared memory, no exit); the
 * guest drains it when it likes (polling its head costs nothing; the block
 * header's mig_pending says after any doorbell that requests wait), and
 * answers a batch of requests with one MIGRATE_ANSWER (one exit). For each
 * request the host has taken a free target block (dst) and isolated src:
 * the guest copies src to dst WITHOUT yet using dst, answers result 0, and
 * only when that entry's status comes back 0 switches its references to
 * dst: src has then been returned (freed) and dst is the guest's. Any
 * other status (-ESTALE: the host timed out or cancelled first) means
 * "keep using src". result < 0 refuses (src stays, dst goes back). A
 * request not answered within mig_timeout_ms is cancelled the same way.
 */
#define PVMEM_MIG_MAGIC 0x4749474du /* "MGIG" */
#define PVMEM_MIG_SLOTS 64u	    /* request slots (a power of two) */
#define PVMEM_MIG_LOG	120u	    /* balloon-move log entries */
/* The ring is a FRAME_DMA page of this owner id (no guest device id). */
#define PVMEM_MIG_RING_OWNER 0x100u

/* Request kinds. */
#define PVMEM_MIG_MOVE 1 /* a movable GUEST block: copy src -> dst */
#define PVMEM_MIG_BALLOON                                                      \
	2 /* a ballooned frame: put dst in src's place
			     * in the balloon list (no data to copy) */

/* One request (32 bytes), written by the host only. */
struct pvmem_mig_req {
	uint64_t src; /* pfn of the block to move (head) */
	uint64_t dst; /* pfn of its new place (head, same order) */
	uint32_t seq; /* the request's number (== ring index) */
	uint8_t order;
	uint8_t kind; /* PVMEM_MIG_MOVE / PVMEM_MIG_BALLOON */
	uint16_t reserved;
	uint64_t reserved1;
};

/*
 * Balloon moves the host made alone while the guest was paused (16
 * bytes): frame src of the balloon list is now dst. The guest applies
 * every new entry before its next inflate, deflate or answer.
 */
struct pvmem_mig_log {
	uint64_t src, dst;
};

/*
 * The ring: one page. Free-running u32 counters; slot i is at i %
 * PVMEM_MIG_SLOTS. The host writes a slot, then head (release); the guest
 * reads head (acquire), takes slots tail .. head - 1 and advances tail.
 * The host reads only tail and log_tail, and treats values that make no
 * sense (more than the ring holds) as "full": a lying guest only stops
 * receiving requests.
 */
struct pvmem_mig_ring {
	uint32_t magic;	     /* host: PVMEM_MIG_MAGIC */
	uint32_t nr_slots;   /* host: PVMEM_MIG_SLOTS */
	uint32_t head;	     /* host: requests posted */
	uint32_t tail;	     /* guest: requests taken */
	uint32_t log_head;   /* host: balloon moves logged */
	uint32_t log_tail;   /* guest: balloon moves applied */
	uint32_t nr_log;     /* host: PVMEM_MIG_LOG */
	uint32_t timeout_ms; /* host: as INFO mig_timeout_ms */
	uint32_t reserved[8];
	struct pvmem_mig_req reqs[PVMEM_MIG_SLOTS];
	struct pvmem_mig_log log[PVMEM_MIG_LOG];
};

/* MIGRATE_ANSWER entry (32 bytes): one per request taken from the ring. */
struct pvmem_mig_ans {
	uint64_t src; /* guest: the request's src, dst, order */
	uint64_t dst;
	uint32_t order;
	int32_t result;	   /* guest: 0 copied (commit), < 0 refused */
	int32_t status;	   /* host: 0 done as asked, else PVMEM_E* */
	uint32_t reserved; /* 0 */
};

/*
 * Page rings (ABI 1.3, docs/hosted-memory.md "Page rings").
 *
 * A doorbell is a VM exit (~30 us under PVM), a hundred times the host's
 * cost of a page. So each vCPU gets a ring in shared memory: the host keeps
 * its supply filled with free order-0 frames (GFP_KERNEL, any zone) and
 * drains its returns of frames the guest gives back, both without an exit
 * on the guest's side. The guest kicks (an MMIO write, one exit)
 * only when the supply falls below sup_low or the returns reach ret_high,
 * and not even then while the host says a thread of its own does that work
 * (PVMEM_RING_F_POLL_SUP, PVMEM_RING_F_POLL_RET).
 *
 * RING_SETUP (op 10): count = vCPUs (1 .. PVMEM_MAX_RINGS), addr = GPA of
 * uint64_t gpas[count] (out). The host allocates every ring (FRAME_DMA of
 * owner PVMEM_RING_OWNER, zeroed, charged to the page limit: FREE and
 * DMA_FREE refuse them) and writes their GPAs; done = count. Once per VM:
 * a second RING_SETUP gets -EBUSY.
 *
 * Supply (host -> guest): sup[] slots hold pfns or 0. The host writes slot
 * sup_prod % PVMEM_RING_SUP_SLOTS, then sup_prod (release). The guest takes
 * slot sup_cons % SLOTS with an atomic exchange against 0 and then advances
 * sup_cons: a nonzero value is its frame (it holds it, as if ALLOCed); 0
 * means the host took the frame back (a drain): skip it. The exchange
 * decides every race between a take and a drain: exactly one side gets the
 * pfn. The host keeps its own copy of what it wrote; a slot whose value
 * changed counts as taken, and nothing the guest writes into sup[] is ever
 * read as a pfn.
 *
 * Return (guest -> host): the guest writes a pfn (order 0, a frame it
 * holds) into ret[ret_prod % PVMEM_RING_RET_SLOTS], then ret_prod (release),
 * never more than PVMEM_RING_RET_SLOTS ahead of ret_cons. The host copies
 * each entry once, frees it with FREE's checks, and advances ret_cons. A
 * bad entry (not held, not an order-0 head, still in a supply ring) is
 * skipped and stays the guest's; the host counts it in err_count with its
 * status and pfn in last_err / last_err_pfn.
 *
 * Kick: a 32-bit write to PVMEM_MMIO_BASE + PVMEM_KICK_OFFSET of the ring
 * index. When the write returns the host has drained the return ring and
 * refilled the supply (to sup_target, as far as the page limit allows;
 * last_err -EDQUOT or -ENOMEM says why not). With PVMEM_KICK_DRAIN the host
 * instead takes back every frame still in the supply and sets sup_target
 * to 0 until the next kick (the guest gives back all it does not hold).
 *
 * Counters are free-running u32s; indices are taken modulo the slots. A
 * host-written field the guest overwrites is rewritten, never read back; a
 * guest index that makes no sense (sup_cons past sup_prod, ret_prod more
 * than the ring ahead of ret_cons) is an error (-ERANGE) and nothing moves.
 */
#define PVMEM_RING_MAGIC     0x474e4952u /* "RING" */
#define PVMEM_RING_OWNER     0x101u	 /* FRAME_DMA owner of ring pages */
#define PVMEM_MAX_RINGS	     64u
#define PVMEM_RING_ORDER     4u /* a ring is 16 pages */
#define PVMEM_RING_BYTES     (PVMEM_BLOCK_SIZE << PVMEM_RING_ORDER)
#define PVMEM_RING_SUP_SLOTS 4096u	/* a power of two */
#define PVMEM_RING_RET_SLOTS 2048u	/* a power of two */
#define PVMEM_KICK_OFFSET    4u		/* MMIO register: write32 ring index */
#define PVMEM_KICK_DRAIN     (1u << 31) /* | index: take the supply back */

/* flags (host): */
#define PVMEM_RING_F_POLL_SUP                                                  \
	(1u << 0) /* a host thread refills: no kick
					 * at sup_low, only when empty */
#define PVMEM_RING_F_POLL_RET                                                  \
	(1u << 1) /* a host thread drains: no kick
					 * at ret_high, only when full */

struct pvmem_ring {
	/* Host-written (rewritten, never read back). */
	uint32_t magic;	     /* PVMEM_RING_MAGIC */
	uint32_t index;	     /* the ring's number (vCPU) */
	uint32_t sup_slots;  /* PVMEM_RING_SUP_SLOTS */
	uint32_t ret_slots;  /* PVMEM_RING_RET_SLOTS */
	uint32_t sup_target; /* frames the host keeps in the supply now
			      * (autotuned to the demand) */
	uint32_t sup_low;    /* kick when fewer are left */
	uint32_t ret_high;   /* kick when this many returns wait */
	uint32_t flags;	     /* PVMEM_RING_F_* */
	uint32_t err_count;  /* bad guest input found in this ring */
	int32_t last_err;    /* its status (PVMEM_E*), or why the last
			      * refill fell short (EDQUOT, ENOMEM) */
	uint64_t last_err_pfn;
	uint32_t reserved0[4];
	/* Host-written indices, a cache line of their own. */
	uint32_t sup_prod; /* frames placed in sup[] */
	uint32_t ret_cons; /* entries of ret[] taken */
	uint32_t reserved1[14];
	/* Guest-written indices. */
	uint32_t sup_cons; /* slots of sup[] taken (or skipped) */
	uint32_t ret_prod; /* entries placed in ret[] */
	uint32_t reserved2[14];
	uint8_t pad[4096 - 192];
	uint64_t ret[PVMEM_RING_RET_SLOTS]; /* at 4096 */
	uint64_t sup[PVMEM_RING_SUP_SLOTS]; /* at 20480 */
	uint8_t tail_pad[PVMEM_RING_BYTES - 4096 -
			 8 * (PVMEM_RING_RET_SLOTS + PVMEM_RING_SUP_SLOTS)];
};

#endif /* ABI_PVMEM_H */
