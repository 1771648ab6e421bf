// SPDX-License-Identifier: MIT
/*
 * devices/virtq.c - device side of a split virtqueue, with every chain
 * validated before the device touches it.
 *
 * The guest can rewrite the descriptor table and the available ring at any
 * moment, including while we read them. So each descriptor and each ring
 * entry is read exactly once into a local copy, and only the copy is
 * checked and used: no check-then-reread (TOCTOU) window. The guest's
 * avail->idx is used only to learn how much work is new, and only after
 * checking it did not run more than a ring's worth ahead; the indexes that
 * decide where we read and write (last_avail_idx, used_idx) are ours.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtq.h"
#include "vmm/guest_mem.h"

static int virtq_fail(struct virtq *vq, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record why the queue failed and break it until reset. */
static int virtq_fail(struct virtq *vq, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return err;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * Copy one descriptor out of guest memory. The memory clobber makes the
 * compiler materialise the copy here rather than re-read the guest's
 * (changeable) table later. memcpy also copes with an indirect table that
 * the guest did not align.
 */
static void virtq_read_desc(const struct virtq_desc *src, struct virtq_desc *d)
{
	memcpy(d, src, sizeof(*d));
	__asm__ volatile("" ::: "memory");
}

static bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

static bool has_feature(const struct virtq *vq, unsigned bit)
{
	return vq->features & VIRTIO_BIT(bit);
}

void *virtq_translate_guest_ram(void *opaque, uint64_t gpa, uint64_t len,
				bool write)
{
	return guest_mem_ptr(opaque, gpa, len);
}

void virtq_init(struct virtq *vq, virtq_translate_fn translate, void *opaque)
{
	memset(vq, 0, sizeof(*vq));
	vq->translate = translate;
	vq->opaque = opaque;
	vq->max_chain_bytes = VIRTQ_CHAIN_BYTES_MAX;
}

void virtq_set_max_chain_bytes(struct virtq *vq, uint64_t max_bytes)
{
	if (max_bytes == 0 || max_bytes > VIRTQ_CHAIN_BYTES_MAX)
		max_bytes = VIRTQ_CHAIN_BYTES_MAX;
	vq->max_chain_bytes = max_bytes;
}

void virtq_reset(struct virtq *vq)
{
	uint64_t max_bytes = vq->max_chain_bytes;

	virtq_init(vq, vq->translate, vq->opaque);
	vq->max_chain_bytes = max_bytes;
}

bool virtq_enabled(const struct virtq *vq)
{
	return vq->enabled;
}

const char *virtq_error(const struct virtq *vq)
{
	return vq->error;
}

/* Where avail_event lives: just after the used ring's elements. */
static uint16_t *virtq_avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

/* Where used_event lives: just after the available ring's entries. */
static uint16_t *virtq_used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

/* Translate one ring part: aligned, not wrapping, wholly inside memory. */
static void *virtq_map_part(struct virtq *vq, const char *what, uint64_t gpa,
			    uint64_t len, unsigned align, bool write, int *err)
{
	uint64_t end;
	void *p;

	if (gpa & (align - 1)) {
		*err = virtq_fail(vq, -EINVAL, "%s at 0x%llx not %u-aligned",
				  what, (unsigned long long)gpa, align);
		return NULL;
	}
	if (__builtin_add_overflow(gpa, len, &end)) {
		*err = virtq_fail(vq, -EFAULT, "%s at 0x%llx wraps", what,
				  (unsigned long long)gpa);
		return NULL;
	}
	p = vq->translate(vq->opaque, gpa, len, write);
	if (!p) {
		*err = virtq_fail(
			vq, -EFAULT, "%s [0x%llx, +%llu) outside guest memory",
			what, (unsigned long long)gpa, (unsigned long long)len);
		return NULL;
	}
	/* Atomic 16/32-bit accesses below need the host side aligned too. */
	if ((uintptr_t)p & (align - 1)) {
		*err = virtq_fail(vq, -EINVAL,
				  "%s maps to a misaligned host address", what);
		return NULL;
	}
	return p;
}

int virtq_enable(struct virtq *vq, uint16_t size, uint64_t desc_gpa,
		 uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	int err = 0;

	virtq_reset(vq);
	if (!is_pow2(size) || size > VIRTQ_MAX_SIZE)
		return virtq_fail(vq, -EINVAL,
				  "queue size %u is not a power of two <= %u",
				  size, VIRTQ_MAX_SIZE);
	vq->desc = virtq_map_part(vq, "descriptor table", desc_gpa,
				  VIRTQ_DESC_BYTES(size), VIRTQ_DESC_ALIGN,
				  false, &err);
	if (!vq->desc)
		return err;
	vq->avail = virtq_map_part(vq, "available ring", avail_gpa,
				   VIRTQ_AVAIL_BYTES(size), VIRTQ_AVAIL_ALIGN,
				   false, &err);
	if (!vq->avail)
		return err;
	vq->used = virtq_map_part(vq, "used ring", used_gpa,
				  VIRTQ_USED_BYTES(size), VIRTQ_USED_ALIGN,
				  true, &err);
	if (!vq->used)
		return err;
	vq->size = size;
	vq->features = features;
	vq->broken = false;
	vq->enabled = true;
	vq->error[0] = '\0';
	/*
	 * The driver may have left stale indexes in the rings; ours start at
	 * zero (virtio 1.x: both sides start counting from 0 after enable).
	 */
	__atomic_store_n(&vq->used->idx, 0, __ATOMIC_RELEASE);
	store16(&vq->used->flags, 0);
	if (has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		store16(virtq_avail_event(vq), 0);
	return 0;
}

/*
 * Read avail->idx and check it. A driver can only have made `size` chains
 * available beyond what we consumed; a bigger jump means a corrupt or
 * hostile index, and following it would make us re-read stale entries.
 */
static int virtq_load_avail_idx(struct virtq *vq)
{
	uint16_t idx = load16(&vq->avail->idx);
	uint16_t pending = (uint16_t)(idx - vq->last_avail_idx);

	if (pending > vq->size)
		return virtq_fail(
			vq, -EILSEQ,
			"avail idx %u is %u ahead of %u (queue size %u)", idx,
			pending, vq->last_avail_idx, vq->size);
	vq->shadow_avail_idx = idx;
	return pending;
}

/* Tell the driver to stop kicking us: we are about to drain the ring. */
static void virtq_suppress_kicks(struct virtq *vq)
{
	if (vq->suppressing || has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return;
	store16(&vq->used->flags, VIRTQ_USED_F_NO_NOTIFY);
	vq->suppressing = true;
}

/*
 * The ring looked empty: ask for kicks again, then look once more. The full
 * fence orders our flag/avail_event store before the avail->idx load; the
 * driver orders its avail->idx store before its flag/avail_event load, so
 * at least one side sees the other and no buffer is left unnoticed.
 * Return the number of new chains, or a negative errno.
 */
static int virtq_rearm_kicks(struct virtq *vq)
{
	if (has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		store16(virtq_avail_event(vq), vq->last_avail_idx);
	else if (vq->suppressing)
		store16(&vq->used->flags, 0);
	vq->suppressing = false;
	atomic_thread_fence(memory_order_seq_cst);
	return virtq_load_avail_idx(vq);
}

struct virtq_walk {
	struct virtq *vq;
	struct virtq_chain *chain;
	uint64_t total;
	bool seen_write;
};

/* Check one (non-indirect) descriptor and append it as a segment. */
static int virtq_add_seg(struct virtq_walk *w, const struct virtq_desc *d,
			 unsigned idx, bool indirect)
{
	struct virtq *vq = w->vq;
	struct virtq_chain *c = w->chain;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	const char *where = indirect ? "indirect desc" : "desc";
	uint64_t end;
	void *host;

	if (write)
		w->seen_write = true;
	else if (w->seen_write)
		return virtq_fail(vq, -EPROTO,
				  "%s %u: readable after a writable descriptor",
				  where, idx);
	/* Zero-length buffers carry nothing: no address to check or use. */
	if (d->len == 0)
		return 0;
	if (__builtin_add_overflow(d->addr, (uint64_t)d->len, &end))
		return virtq_fail(vq, -EOVERFLOW, "%s %u: 0x%llx + %u wraps",
				  where, idx, (unsigned long long)d->addr,
				  d->len);
	w->total += d->len;
	if (w->total > vq->max_chain_bytes)
		return virtq_fail(vq, -E2BIG,
				  "%s %u: chain longer than %llu bytes", where,
				  idx, (unsigned long long)vq->max_chain_bytes);
	if (c->nr_segs == c->max_segs)
		return virtq_fail(vq, -ENOBUFS,
				  "%s %u: chain has more than %u buffers",
				  where, idx, c->max_segs);
	host = vq->translate(vq->opaque, d->addr, d->len, write);
	if (!host)
		return virtq_fail(vq, -EFAULT,
				  "%s %u: [0x%llx, +%u) outside guest memory",
				  where, idx, (unsigned long long)d->addr,
				  d->len);
	c->segs[c->nr_segs++] = (struct virtq_seg){
		.host = host, .gpa = d->addr, .len = d->len, .write = write};
	if (write)
		c->write_bytes += d->len;
	else
		c->read_bytes += d->len;
	return 0;
}

static int virtq_walk_table(struct virtq_walk *w,
			    const struct virtq_desc *table, uint32_t nr,
			    uint16_t first, bool indirect);

/* Check the descriptor naming an indirect table, then walk that table. */
static int virtq_walk_indirect(struct virtq_walk *w, const struct virtq_desc *d,
			       unsigned idx, bool indirect)
{
	struct virtq *vq = w->vq;
	const struct virtq_desc *table;
	uint64_t end;

	if (indirect)
		return virtq_fail(vq, -EMLINK,
				  "indirect desc %u: nested indirect table",
				  idx);
	if (!has_feature(vq, VIRTIO_RING_F_INDIRECT_DESC))
		return virtq_fail(vq, -EOPNOTSUPP,
				  "desc %u: INDIRECT not negotiated", idx);
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return virtq_fail(vq, -EBADMSG,
				  "desc %u: INDIRECT together with NEXT", idx);
	if (d->len == 0 || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
		return virtq_fail(vq, -EMSGSIZE,
				  "desc %u: indirect table of %u bytes", idx,
				  d->len);
	if (__builtin_add_overflow(d->addr, (uint64_t)d->len, &end))
		return virtq_fail(vq, -EOVERFLOW,
				  "desc %u: indirect table 0x%llx + %u wraps",
				  idx, (unsigned long long)d->addr, d->len);
	/* The WRITE flag of this descriptor is ignored, as the spec says. */
	table = vq->translate(vq->opaque, d->addr, d->len, false);
	if (!table)
		return virtq_fail(
			vq, -EFAULT,
			"desc %u: indirect table [0x%llx, +%u) outside "
			"guest memory",
			idx, (unsigned long long)d->addr, d->len);
	return virtq_walk_table(w, table, d->len / sizeof(struct virtq_desc), 0,
				true);
}

/*
 * Follow a chain through @table (@nr entries) from @first. A chain without
 * loops visits each entry at most once, so more than @nr steps is a loop
 * (or a chain longer than the queue, which the spec forbids as well).
 */
static int virtq_walk_table(struct virtq_walk *w,
			    const struct virtq_desc *table, uint32_t nr,
			    uint16_t first, bool indirect)
{
	struct virtq *vq = w->vq;
	const char *where = indirect ? "indirect desc" : "desc";
	uint32_t idx = first;
	struct virtq_desc d;
	int err;

	for (uint32_t steps = 1;; steps++) {
		if (idx >= nr)
			return virtq_fail(vq, -ERANGE,
					  "%s index %u beyond table of %u",
					  where, idx, nr);
		if (steps > nr)
			return virtq_fail(vq, -ELOOP,
					  "%s %u: chain longer than %u "
					  "descriptors (loop)",
					  where, first, nr);
		virtq_read_desc(&table[idx], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return virtq_walk_indirect(w, &d, idx, indirect);
		err = virtq_add_seg(w, &d, idx, indirect);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	struct virtq_walk w = {.vq = vq, .chain = chain};
	uint16_t head;
	int err;

	if (!vq->enabled || vq->broken)
		return -EIO;
	if (vq->shadow_avail_idx == vq->last_avail_idx) {
		err = virtq_load_avail_idx(vq);
		if (err == 0)
			err = virtq_rearm_kicks(vq);
		if (err <= 0)
			return err;
	}
	/* Ring entries and descriptors are read after avail->idx (spec). */
	atomic_thread_fence(memory_order_acquire);
	head = load16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)]);
	chain->nr_segs = 0;
	chain->nr_read = 0;
	chain->read_bytes = 0;
	chain->write_bytes = 0;
	chain->head = head;
	err = virtq_walk_table(&w, vq->desc, vq->size, head, false);
	if (err)
		return err;
	chain->nr_read = chain->nr_segs;
	for (unsigned i = 0; i < chain->nr_segs; i++) {
		if (chain->segs[i].write) {
			chain->nr_read = i;
			break;
		}
	}
	vq->last_avail_idx++;
	virtq_suppress_kicks(vq);
	return 1;
}

int virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *elem;

	if (!vq->enabled || vq->broken)
		return -EIO;
	if (head >= vq->size)
		return -EINVAL;
	elem = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&elem->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&elem->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* The buffer contents and the element are visible before the index. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_used_valid;

	if (!vq->enabled)
		return false;
	/* Our used->idx store must be visible before we read the driver's. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return !(load16(&vq->avail->flags) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	return virtq_need_event(load16(virtq_used_event(vq)), vq->used_idx,
				old);
}

int virtq_process(struct virtq *vq, struct virtq_chain *chain,
		  virtq_handle_fn handle, void *opaque, bool *notify)
{
	uint32_t written;
	int done = 0;
	int err;

	for (;;) {
		err = virtq_pop(vq, chain);
		if (err <= 0)
			break;
		written = 0;
		err = handle(opaque, vq, chain, &written);
		if (err < 0)
			break;
		/* A device never claims more than the chain can hold. */
		if (written > chain->write_bytes)
			written = (uint32_t)chain->write_bytes;
		err = virtq_push(vq, chain->head, written);
		if (err < 0)
			break;
		done++;
	}
	*notify = done > 0 && virtq_should_notify(vq);
	return err < 0 ? err : done;
}
