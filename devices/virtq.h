/* SPDX-License-Identifier: MIT */
/*
 * devices/virtq.h - the device side of a split virtqueue (virtio 1.x 2.7).
 *
 * The guest (driver) owns the descriptor table and the available ring; the
 * VMM (device) owns the used ring. Everything the guest wrote is untrusted:
 * virtq_pop() validates each chain completely before the device sees any
 * of it, and keeps its own copies of the ring indexes (last_avail_idx,
 * used_idx), never trusting the guest-writable ones for anything but "how
 * much new work is there".
 *
 * Locking: a virtq is not locked; its owner (the transport's device lock)
 * serialises pop/push/reset.
 *
 * Errors from virtq_pop() (each a distinct negative errno; virtq_error()
 * gives a one-line reason naming the descriptor):
 *   -EILSEQ     avail->idx ran more than the queue size ahead of the device
 *   -ERANGE     a head, next or indirect index beyond its table
 *   -ELOOP      a chain longer than its table (a loop)
 *   -EFAULT     a buffer or indirect table outside guest RAM / the device's
 *               DMA mappings (the translate callback said no)
 *   -EOVERFLOW  addr + len wraps around 2^64
 *   -E2BIG      the chain's total length exceeds the per-queue cap
 *   -EPROTO     a device-readable descriptor after a device-writable one
 *   -EOPNOTSUPP INDIRECT used but VIRTIO_RING_F_INDIRECT_DESC not negotiated
 *   -EMLINK     INDIRECT inside an indirect table (nesting)
 *   -EBADMSG    INDIRECT and NEXT in the same descriptor
 *   -EMSGSIZE   indirect table length 0, not a multiple of 16, or too long
 *   -ENOBUFS    more non-empty descriptors than the caller's segment array
 *   -EIO        the queue already failed; it stays failed until reset
 */
#ifndef DEVICES_VIRTQ_H
#define DEVICES_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/virtio.h"

/*
 * Turn guest-physical [gpa, gpa + len) into a host pointer the device may
 * access (for writing when @write), or NULL when any byte of it is outside
 * guest RAM or outside what the guest mapped for this device. @len > 0 and
 * gpa + len does not wrap (virtq checks both first).
 */
typedef void *(*virtq_translate_fn)(void *opaque, uint64_t gpa, uint64_t len,
				    bool write);

/**
 * virtq_translate_guest_ram() - a virtq_translate_fn over all of guest RAM:
 * @opaque is a const struct guest_mem * (vmm/guest_mem.h). For devices that
 * may touch any RAM (native memory model); the hosted model additionally
 * checks the device's DMA mappings in its own translate.
 */
void *virtq_translate_guest_ram(void *opaque, uint64_t gpa, uint64_t len,
				bool write);

/* One buffer of a chain, translated. */
struct virtq_seg {
	void *host;   /* host pointer to the whole buffer */
	uint64_t gpa; /* where the guest put it */
	uint32_t len; /* > 0: empty descriptors produce no segment */
	bool write;   /* device-writable */
};

/*
 * A popped chain. The caller provides segs[max_segs]; virtq_pop() fills the
 * rest. Readable segments come first: segs[0, nr_read) are device-readable,
 * segs[nr_read, nr_segs) device-writable.
 */
struct virtq_chain {
	struct virtq_seg *segs;
	unsigned max_segs;
	unsigned nr_segs;
	unsigned nr_read;
	uint16_t head;	      /* what virtq_push() gives back */
	uint64_t read_bytes;  /* sum of the readable lengths */
	uint64_t write_bytes; /* sum of the writable lengths */
};

/* Default cap on one chain's total length: the used ring's len is 32-bit. */
#define VIRTQ_CHAIN_BYTES_MAX 0xffffffffull

#define VIRTQ_ERROR_MAX	      120

/*
 * A device-side split virtqueue. Fields are private to virtq.c (the struct is
 * here so that transports can embed it); use the functions.
 */
struct virtq {
	virtq_translate_fn translate;
	void *opaque;
	uint64_t max_chain_bytes;
	uint64_t features; /* negotiated, fixed at virtq_enable() */
	uint16_t size;
	bool enabled;
	bool broken;
	bool suppressing; /* VIRTQ_USED_F_NO_NOTIFY currently set by us */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail_idx;   /* next avail entry to read: ours alone */
	uint16_t shadow_avail_idx; /* last avail->idx read (validated) */
	uint16_t used_idx;	   /* next used entry: ours alone */
	uint16_t signalled_used;   /* used_idx at the last interrupt */
	bool signalled_used_valid;
	char error[VIRTQ_ERROR_MAX];
};

/**
 * virtq_init() - set up a disabled queue that translates through @translate.
 * @vq: the queue (caller-owned storage; nothing to free).
 * @translate: guest address -> host pointer, bounded (see virtq_translate_fn).
 * @opaque: passed to @translate.
 */
void virtq_init(struct virtq *vq, virtq_translate_fn translate, void *opaque);

/**
 * virtq_set_max_chain_bytes() - cap one chain's total length (default and
 * maximum VIRTQ_CHAIN_BYTES_MAX); a longer chain fails with -E2BIG.
 */
void virtq_set_max_chain_bytes(struct virtq *vq, uint64_t max_bytes);

/**
 * virtq_enable() - start using the rings the driver described.
 * @size: queue size, a power of two in [1, VIRTQ_MAX_SIZE] (the transport
 *        has already checked it against the device's maximum).
 * @desc_gpa, @avail_gpa, @used_gpa: the three ring parts; each must be
 *        aligned as the spec says and lie wholly inside what translate
 *        accepts. They are translated once here; guest RAM stays mapped for
 *        the VM's life, so the host pointers stay valid.
 * @features: the negotiated feature bits (INDIRECT_DESC, EVENT_IDX matter).
 *
 * Return: 0; -EINVAL (bad size or alignment) or -EFAULT (ring outside
 * memory), with virtq_error() saying which. The queue stays disabled then.
 */
int virtq_enable(struct virtq *vq, uint16_t size, uint64_t desc_gpa,
		 uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);

/*
 * virtq_reset() - disable and forget the rings and indexes (device reset);
 * the translate callback and the chain-length cap stay.
 */
void virtq_reset(struct virtq *vq);

/* virtq_enabled() - true between a successful virtq_enable() and a reset. */
bool virtq_enabled(const struct virtq *vq);

/* virtq_error() - the reason for the last failure ("" when none). */
const char *virtq_error(const struct virtq *vq);

/**
 * virtq_pop() - take the next available chain, validated and translated.
 * @chain: caller-provided; segs/max_segs set, the rest is filled in.
 *
 * Notifications from the driver are suppressed (VIRTQ_USED_F_NO_NOTIFY, or
 * by leaving avail_event behind with EVENT_IDX) from a successful pop until
 * a pop finds the ring empty, which re-arms them and re-checks the ring, so
 * a device that drains the queue never misses work.
 *
 * Return: 1 with @chain filled, 0 when nothing is available, or a negative
 * errno (see the table at the top of this file); after an error the queue
 * is broken and returns -EIO until virtq_reset().
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/**
 * virtq_push() - return chain @head to the driver with @len bytes written,
 * and publish it (release: the data and the element are visible before the
 * new used->idx). Return 0, -EINVAL (head out of range) or -EIO (disabled
 * or broken queue).
 */
int virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/**
 * virtq_should_notify() - does the driver want an interrupt for what was
 * pushed since the last call? Honours VIRTQ_AVAIL_F_NO_INTERRUPT, or with
 * EVENT_IDX, used_event. Call once per batch, after the pushes.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Handle one chain: read segs[0, nr_read), write segs[nr_read, nr_segs),
 * and set *written to the number of bytes written. Return 0 or a negative
 * errno (processing stops; the chain is not pushed).
 */
typedef int (*virtq_handle_fn)(void *opaque, struct virtq *vq,
			       struct virtq_chain *chain, uint32_t *written);

/**
 * virtq_process() - pop every available chain, hand each to @handle, push
 * it, and decide once at the end whether the driver wants an interrupt
 * (*notify): one interrupt per batch, not per chain.
 * @chain: scratch chain with segs/max_segs set, reused for every chain.
 *
 * Return: the number of chains processed, or a negative errno from
 * virtq_pop() or @handle (*notify still tells whether chains pushed before
 * the error need an interrupt).
 */
int virtq_process(struct virtq *vq, struct virtq_chain *chain,
		  virtq_handle_fn handle, void *opaque, bool *notify);

#endif /* DEVICES_VIRTQ_H */
