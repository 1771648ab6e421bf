/* SPDX-License-Identifier: MIT */
/*
 * guest/include/mbuf.h - movable buffers: handle-based blocks of bulk data
 * whose frames the memory manager may move (as Linux's zsmalloc handles).
 * Workloads keep the handle, never the address: mbuf_map() gives the
 * current address and pins the buffer until mbuf_unmap(); an unmapped
 * buffer may be moved at any time the guest runs its migration code
 * (guest/guest_migrate.c: the hosted model's ring drain, the native
 * model's compaction).
 *
 * Hosted model: allocated from the host with __GFP_MOVABLE, so the host
 * may ask to move them (pvmem ABI 1.1). Native model: from the guest's own
 * buddy, registered with it as a movable owner. vCPU 0 only, as the rest
 * of the guest's memory stack.
 */
#ifndef GUEST_MBUF_H
#define GUEST_MBUF_H

#include <stdbool.h>
#include <stdint.h>

#define MBUF_MAX       1024 /* live buffers */
#define MBUF_MAX_ORDER 10   /* 4 MiB */

struct mbuf;

/**
 * mbuf_start() - all a workload of movable buffers needs: the guest's
 * memory stack, the buffers' owner and, hosted, the migration ring, so
 * that the host's requests move them. Idempotent.
 * Return: 0 or the first step's -errno.
 */
int mbuf_start(void);

/* A buffer of at least @size bytes (one block); NULL if none. */
struct mbuf *mbuf_alloc(uint64_t size);
void mbuf_free(struct mbuf *b);

/* The current address; the buffer cannot move until mbuf_unmap(). */
void *mbuf_map(struct mbuf *b);
void mbuf_unmap(struct mbuf *b);

/* Where it is now, and its block order (tests and statistics). */
uint64_t mbuf_pfn(const struct mbuf *b);
unsigned mbuf_order(const struct mbuf *b);

struct mbuf_stats {
	uint64_t live;	  /* buffers allocated now */
	uint64_t moved;	  /* buffers that changed frames */
	uint64_t refused; /* moves refused: mapped */
	uint64_t stale;	  /* copies made for a move that did not happen */
};

void mbuf_get_stats(struct mbuf_stats *st);

/*
 * For the migration code. mbuf_prepare_move(): if @src is a buffer's block
 * of @order and not mapped, copy it to @dst and lock it (it cannot be
 * mapped or freed) - 0; -EBUSY if mapped; -ENOENT if no buffer is at @src.
 * mbuf_finish_move(): the host's verdict: @moved switches the buffer to
 * @dst, else it stays at @src. Either way the lock goes.
 */
int mbuf_prepare_move(uint64_t src, uint64_t dst, unsigned order);
void mbuf_finish_move(uint64_t src, uint64_t dst, bool moved);

#endif /* GUEST_MBUF_H */
