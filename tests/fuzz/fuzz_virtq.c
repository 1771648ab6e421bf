// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_virtq.c - split virtqueues (devices/virtq.c) against a
 * hostile driver.
 *
 * Guest RAM is 1 MiB between guard pages; the queue's translate accepts only
 * a window of it that the input picks (as the hosted model accepts only a
 * device's DMA mappings). The input lays out the rings (size, features,
 * where each part is, the chain byte cap), then runs steps: write a
 * descriptor or an indirect table, post a head, set avail->idx or the
 * flags/used_event, pop with a segment cap, push a popped (or any) head,
 * ask whether to notify, re-enable.
 *
 * Every pop is checked against a reference walk written here from the
 * virtio spec (2.7.5-2.7.7): same verdict and, on success, the same
 * segments (gpa, length, direction, in order, readable before writable,
 * each host pointer the window's translation of its gpa and inside guest
 * RAM), the chain within its byte and segment caps, its head < size; after
 * a failure the queue stays broken. Every push is checked on the used
 * ring: used->idx advanced by one and the element names the head and
 * length, nothing else changed; a bad head changes nothing.
 */
#include <errno.h>
#include <string.h>

#include "devices/virtq.h"
#include "tests/fuzz/fuzz_common.h"

#define RAM_BYTES (1ull << 20)
#define MAX_SIZE  256u /* largest queue the harness builds */
#define MAX_SEGS  16u
#define MAX_STEPS 96
#define MAX_OUT	  MAX_SIZE

static struct guest_mem mem;

/* The window translate accepts: [win_lo, win_hi). */
static uint64_t win_lo, win_hi;

static struct virtq vq;
static uint16_t size;
static uint64_t features, desc_gpa, avail_gpa, used_gpa, max_bytes;
static bool enabled;
static uint16_t out_heads[MAX_OUT]; /* popped, not pushed */
static unsigned nr_out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_ram_init(&mem, RAM_BYTES, 0);
	return 0;
}

static bool in_window(uint64_t gpa, uint64_t len)
{
	return len && gpa >= win_lo && gpa <= win_hi && len <= win_hi - gpa;
}

static void *win_translate(void *opaque, uint64_t gpa, uint64_t len, bool write)
{
	return in_window(gpa, len) ? guest_mem_ptr(&mem, gpa, len) : NULL;
}

/* The reference walk ------------------------------------------------------ */

struct ref {
	struct virtq_seg segs[MAX_SEGS];
	unsigned nr;
	uint64_t total;
	bool seen_write;
};

static bool ref_table(struct ref *r, const struct virtq_desc *table,
		      uint32_t nr, uint16_t first, bool indirect,
		      unsigned max_segs);

static bool ref_seg(struct ref *r, const struct virtq_desc *d,
		    unsigned max_segs)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;

	if (!write && r->seen_write)
		return false;
	r->seen_write |= write;
	if (d->len == 0)
		return true;
	if (d->addr + d->len < d->addr)
		return false;
	r->total += d->len;
	if (r->total > max_bytes || r->nr == max_segs)
		return false;
	if (!in_window(d->addr, d->len) ||
	    !guest_mem_ptr(&mem, d->addr, d->len))
		return false;
	r->segs[r->nr++] = (struct virtq_seg){
		.gpa = d->addr, .len = d->len, .write = write};
	return true;
}

static bool ref_indirect(struct ref *r, const struct virtq_desc *d,
			 bool indirect, unsigned max_segs)
{
	const struct virtq_desc *t;

	if (indirect || !(features & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)))
		return false;
	if ((d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 || d->len % 16 ||
	    d->len / 16 > VIRTQ_MAX_SIZE || d->addr + d->len < d->addr ||
	    !in_window(d->addr, d->len))
		return false;
	t = guest_mem_ptr(&mem, d->addr, d->len);
	return t && ref_table(r, t, d->len / 16, 0, true, max_segs);
}

static bool ref_table(struct ref *r, const struct virtq_desc *table,
		      uint32_t nr, uint16_t first, bool indirect,
		      unsigned max_segs)
{
	uint32_t idx = first;

	for (uint32_t steps = 1; idx < nr && steps <= nr; steps++) {
		struct virtq_desc d;

		memcpy(&d, &table[idx], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return ref_indirect(r, &d, indirect, max_segs);
		if (!ref_seg(r, &d, max_segs))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		idx = d.next;
	}
	return false; /* index beyond the table, or a loop */
}

/* Steps --------------------------------------------------------------- */

static struct virtq_desc *desc_table(void)
{
	return fuzz_ram_ptr(&mem, desc_gpa, VIRTQ_DESC_BYTES(size));
}

static struct virtq_avail *avail_ring(void)
{
	return fuzz_ram_ptr(&mem, avail_gpa, VIRTQ_AVAIL_BYTES(size));
}

static struct virtq_used *used_ring(void)
{
	return fuzz_ram_ptr(&mem, used_gpa, VIRTQ_USED_BYTES(size));
}

/* A descriptor from the input: a 32-bit address (or a wrapping one). */
static void read_desc(struct fuzz_in *in, struct virtq_desc *d)
{
	uint32_t addr = fuzz_u32(in), len = fuzz_u32(in);
	uint8_t flags = fuzz_u8(in), aux = fuzz_u8(in);

	d->addr = addr | (aux & 1 ? 0xffffffff00000000ull : 0);
	d->len = aux & 2 ? len : len % 0x4000;
	d->flags = flags & (aux & 4 ? 0xff : 7);
	d->next = fuzz_u16(in);
	if (!(aux & 8))
		d->next %= size;
}

static void step_desc(struct fuzz_in *in)
{
	uint16_t i = fuzz_u16(in) % size;

	read_desc(in, &desc_table()[i]);
}

static void step_indirect(struct fuzz_in *in)
{
	uint64_t gpa = (fuzz_u16(in) * 16ull) % RAM_BYTES;
	unsigned n = 1 + fuzz_u8(in) % 16;

	for (unsigned i = 0; i < n && gpa + 16 <= RAM_BYTES; i++, gpa += 16)
		read_desc(in, fuzz_ram_ptr(&mem, gpa, 16));
}

static void step_post(struct fuzz_in *in)
{
	struct virtq_avail *a = avail_ring();
	uint16_t head = fuzz_u16(in);

	a->ring[a->idx % size] = head & 0x100 ? head : head % size;
	a->idx++;
}

static void step_avail_fields(struct fuzz_in *in)
{
	struct virtq_avail *a = avail_ring();
	uint8_t what = fuzz_u8(in);
	uint16_t v = fuzz_u16(in);

	if (what % 3 == 0)
		a->idx = v;
	else if (what % 3 == 1)
		a->flags = v;
	else
		a->ring[size] = v; /* used_event */
}

static void check_seg(const struct virtq_seg *s, const struct virtq_seg *r,
		      unsigned i)
{
	FUZZ_ASSERT(s->gpa == r->gpa && s->len == r->len &&
			    s->write == r->write,
		    "pop seg %u: %#llx+%u w%d, reference %#llx+%u w%d", i,
		    (unsigned long long)s->gpa, s->len, s->write,
		    (unsigned long long)r->gpa, r->len, r->write);
	FUZZ_ASSERT(s->host == guest_mem_ptr(&mem, s->gpa, s->len) &&
			    in_window(s->gpa, s->len),
		    "pop seg %u: host pointer is not the window's gpa", i);
}

static void step_pop(struct fuzz_in *in)
{
	struct virtq_seg segs[MAX_SEGS];
	struct virtq_chain chain = {.segs = segs,
				    .max_segs = 1 + fuzz_u8(in) % MAX_SEGS};
	bool was_broken = vq.broken || !vq.enabled;
	uint16_t last = vq.last_avail_idx;
	/* The device reads avail->idx again only when it has used up what
	 * it read last time. */
	uint16_t avail_idx = vq.shadow_avail_idx != last ? vq.shadow_avail_idx
			     : enabled			 ? avail_ring()->idx
							 : 0;
	struct ref r = {0};
	bool ok = false;
	int ret;

	/*
	 * The reference walks first: the pop writes used->flags after its
	 * walk, and a guest may have put the used ring over its descriptors.
	 */
	if (!was_broken && avail_idx != last &&
	    (uint16_t)(avail_idx - last) <= size)
		ok = ref_table(&r, desc_table(), size,
			       avail_ring()->ring[last & (size - 1)], false,
			       chain.max_segs);
	ret = virtq_pop(&vq, &chain);
	if (was_broken) {
		FUZZ_ASSERT(ret == -EIO, "pop on a broken queue: %d", ret);
		return;
	}
	if ((uint16_t)(avail_idx - last) > size) {
		FUZZ_ASSERT(ret < 0 && vq.broken,
			    "avail idx %u ran %u ahead, pop %d", avail_idx,
			    (uint16_t)(avail_idx - last), ret);
		return;
	}
	if (avail_idx == last) {
		FUZZ_ASSERT(ret == 0, "empty ring, pop %d", ret);
		return;
	}
	FUZZ_ASSERT((ret == 1) == ok, "pop %d (%s), reference says %s", ret,
		    virtq_error(&vq), ok ? "valid" : "invalid");
	if (ret != 1) {
		FUZZ_ASSERT(ret < 0 && vq.broken && vq.last_avail_idx == last,
			    "failed pop %d left the queue usable", ret);
		return;
	}
	FUZZ_ASSERT(chain.head < size && chain.nr_segs == r.nr &&
			    chain.nr_read <= chain.nr_segs &&
			    vq.last_avail_idx == (uint16_t)(last + 1),
		    "pop: head %u, %u segs (ref %u), %u read", chain.head,
		    chain.nr_segs, r.nr, chain.nr_read);
	uint64_t rd = 0, wr = 0;
	for (unsigned i = 0; i < chain.nr_segs; i++) {
		check_seg(&segs[i], &r.segs[i], i);
		FUZZ_ASSERT(segs[i].write == (i >= chain.nr_read),
			    "seg %u on the wrong side of nr_read %u", i,
			    chain.nr_read);
		*(segs[i].write ? &wr : &rd) += segs[i].len;
	}
	FUZZ_ASSERT(rd == chain.read_bytes && wr == chain.write_bytes &&
			    rd + wr <= max_bytes,
		    "pop: bytes %llu/%llu, chain says %llu/%llu",
		    (unsigned long long)rd, (unsigned long long)wr,
		    (unsigned long long)chain.read_bytes,
		    (unsigned long long)chain.write_bytes);
	if (nr_out < MAX_OUT)
		out_heads[nr_out++] = chain.head;
}

static void step_push(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	uint16_t head = fuzz_u16(in);
	uint32_t len = fuzz_u32(in);
	struct virtq_used *u;
	uint16_t idx_before, pos;
	struct virtq_used_elem before = {0};
	bool usable = vq.enabled && !vq.broken;
	int ret;

	if (nr_out && !(how & 1)) {
		unsigned k = head % nr_out;

		head = out_heads[k];
		out_heads[k] = out_heads[--nr_out];
	}
	if (!enabled) {
		FUZZ_ASSERT(virtq_push(&vq, head, len) == -EIO,
			    "push on a disabled queue");
		return;
	}
	u = used_ring();
	idx_before = vq.used_idx; /* ours: used->idx is guest-writable */
	pos = vq.used_idx & (size - 1);
	before = u->ring[pos];
	ret = virtq_push(&vq, head, len);
	if (!usable || head >= size) {
		FUZZ_ASSERT(
			ret == (usable ? -EINVAL : -EIO) &&
				vq.used_idx == idx_before &&
				!memcmp(&u->ring[pos], &before, sizeof(before)),
			"bad push %u answered %d and changed the ring", head,
			ret);
		return;
	}
	FUZZ_ASSERT(ret == 0 && u->idx == (uint16_t)(idx_before + 1) &&
			    u->idx == vq.used_idx && u->ring[pos].id == head &&
			    u->ring[pos].len == len,
		    "push %u/%u: ret %d, used idx %u -> %u, elem %u/%u", head,
		    len, ret, idx_before, u->idx, u->ring[pos].id,
		    u->ring[pos].len);
}

static void step_enable(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);

	if (how & 1) {
		virtq_reset(&vq);
		enabled = false;
		FUZZ_ASSERT(!virtq_enabled(&vq), "reset left it enabled");
		return;
	}
	enabled = virtq_enable(&vq, size, desc_gpa, avail_gpa, used_gpa,
			       features) == 0;
	nr_out = 0;
	if (enabled)
		FUZZ_ASSERT(used_ring()->idx == 0 && vq.used_idx == 0 &&
				    vq.last_avail_idx == 0,
			    "enable did not start from zero");
}

static void run_step(struct fuzz_in *in)
{
	uint8_t kind = fuzz_u8(in);

	if (!enabled && kind % 8 < 4) { /* ring contents need a queue */
		step_enable(in);
		return;
	}
	switch (kind % 8) {
	case 0:
		step_desc(in);
		break;
	case 1:
		step_indirect(in);
		break;
	case 2:
		step_post(in);
		break;
	case 3:
		step_avail_fields(in);
		break;
	case 4:
	case 5:
		step_pop(in);
		break;
	case 6:
		step_push(in);
		if (enabled && (kind & 0x80))
			virtq_should_notify(&vq);
		break;
	default:
		step_enable(in);
		break;
	}
}

/*
 * The layout: size, features, the three ring parts (aligned offsets by
 * default, any byte with the high bit of @place), the chain cap and the
 * translate window.
 */
static void setup(struct fuzz_in *in)
{
	uint8_t sz = fuzz_u8(in), feat = fuzz_u8(in), place = fuzz_u8(in);
	uint16_t d = fuzz_u16(in), a = fuzz_u16(in), u = fuzz_u16(in);
	uint32_t cap = fuzz_u32(in);
	uint16_t lo = fuzz_u16(in), hi = fuzz_u16(in);

	size = (uint16_t)(1u << (sz % 9));
	features = (feat & 1 ? VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) : 0) |
		   (feat & 2 ? VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) : 0);
	if (place & 0x80) {
		desc_gpa = d * 16ull + (place & 15);
		avail_gpa = a * 16ull + ((place >> 4) & 1);
		used_gpa = u * 16ull + ((place >> 5) & 3);
	} else {
		desc_gpa = 0;
		avail_gpa = VIRTQ_DESC_BYTES(size);
		used_gpa =
			(avail_gpa + VIRTQ_AVAIL_BYTES(size) + 4095) & ~4095ull;
	}
	max_bytes = cap ? cap : VIRTQ_CHAIN_BYTES_MAX;
	if (place & 0x40) {
		win_lo = lo * 16ull;
		win_hi = hi * 16ull;
	} else {
		win_lo = 0;
		win_hi = RAM_BYTES;
	}
	virtq_init(&vq, win_translate, NULL);
	virtq_set_max_chain_bytes(&vq, cap);
	enabled = false;
	nr_out = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size_in)
{
	struct fuzz_in in;

	fuzz_in_init(&in, data, size_in);
	fuzz_ram_wipe(&mem);
	setup(&in);
	for (unsigned i = 0; i < MAX_STEPS && fuzz_in_left(&in); i++)
		run_step(&in);
	return 0;
}
