// SPDX-License-Identifier: MIT
/*
 * guest/virtio/blk.c - virtio-blk driver (virtio 1.x 5.2), see blk.h.
 *
 * A request is one chain: its header and status byte live in a per-queue
 * slot array of DMA memory (slot = token), its data is the caller's DMA
 * buffer, one descriptor per size_max bytes. VM exits cost 5-30 us here,
 * so the driver touches a register only to notify (when EVENT_IDX's
 * avail_event says the device is not already looking) and never to take an
 * interrupt: completion is read from the used ring. A waiter first polls;
 * then it sets used_event so that the device interrupts once the requests
 * it waits for are done, and halts. The device's pin goes to vCPU 0; a
 * waiter on another vCPU halts on a periodic LAPIC timer instead.
 */
#include "guest/virtio/blk.h"
#include "guest.h"
#include "mm/errno.h"

#define GBLK_MAX_DISKS 4
#define GBLK_Q_SIZE    256u
#define GBLK_EROFS     30
#define GBLK_ETIMEDOUT 110

/* What the driver knows how to use. */
#define GBLK_FEATURES                                                          \
	(VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |                                   \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |                                    \
	 VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |  \
	 VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |      \
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) | \
	 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX))

/* Halting waiters: vCPU 0 wakes by the device, the others by this timer. */
#define GBLK_WATCHDOG_US 10000u /* vCPU 0: only to notice a dead device */
#define GBLK_AP_TICK_US	 100u
#define GBLK_SPIN_US	 50u /* poll this long before halting */

/* The device-visible part of a request: header, then the status byte. */
struct gblk_slot {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
	uint8_t pad[15];
};

struct gblk_queue {
	struct gv_queue *vq;
	struct gblk_slot *slots; /* DMA, GBLK_Q_SIZE of them */
	struct gblk_req *reqs[GBLK_Q_SIZE];
	uint16_t free_slots[GBLK_Q_SIZE];
	unsigned nr_free_slots;
	unsigned inflight;
	unsigned timer_us; /* the periodic timer this queue's vCPU runs, or 0 */
	struct gv_buf bufs[GBLK_Q_SIZE]; /* scratch for one chain */
	struct gblk_stats stats;
};

struct gblk_disk {
	struct gv_dev gv;
	struct gblk_info info;
	struct gblk_queue qs[GV_MAX_QUEUES];
	uint64_t spin_cycles;
	bool open;
};

static struct gblk_disk gblk_disks[GBLK_MAX_DISKS];

static void gblk_timer_stop(struct gblk_queue *q);

static uint32_t cfg32(struct gblk_disk *d, unsigned off)
{
	return gv_config_read32(&d->gv, off);
}

#define CFG(field) offsetof(struct virtio_blk_config, field)

static bool has(const struct gblk_disk *d, unsigned feature)
{
	return d->info.features & VIRTIO_BIT(feature);
}

/* Config space, read once at open; the 64-bit capacity under generation. */
static void gblk_read_config(struct gblk_disk *d)
{
	struct gblk_info *in = &d->info;
	uint32_t gen, lo, hi;

	do {
		gen = gv_config_generation(&d->gv);
		lo = cfg32(d, CFG(capacity));
		hi = cfg32(d, CFG(capacity) + 4);
	} while (gen != gv_config_generation(&d->gv));
	in->capacity = (uint64_t)hi << 32 | lo;
	in->size_max =
		has(d, VIRTIO_BLK_F_SIZE_MAX) ? cfg32(d, CFG(size_max)) : 0;
	in->seg_max = has(d, VIRTIO_BLK_F_SEG_MAX) ? cfg32(d, CFG(seg_max)) : 0;
	in->blk_size = has(d, VIRTIO_BLK_F_BLK_SIZE) ? cfg32(d, CFG(blk_size))
						     : VIRTIO_BLK_SECTOR_SIZE;
	in->read_only = has(d, VIRTIO_BLK_F_RO);
	if (has(d, VIRTIO_BLK_F_DISCARD)) {
		in->max_discard_sectors = cfg32(d, CFG(max_discard_sectors));
		in->max_discard_seg = cfg32(d, CFG(max_discard_seg));
	}
	if (has(d, VIRTIO_BLK_F_WRITE_ZEROES)) {
		in->max_write_zeroes_sectors =
			cfg32(d, CFG(max_write_zeroes_sectors));
		in->max_write_zeroes_seg = cfg32(d, CFG(max_write_zeroes_seg));
	}
	in->nr_queues = 1;
	if (has(d, VIRTIO_BLK_F_MQ)) {
		/* num_queues is the high half of the word at 32. */
		unsigned n = cfg32(d, CFG(writeback)) >> 16;

		n = n < guest_boot.nr_cpus ? n : guest_boot.nr_cpus;
		n = n < GV_MAX_QUEUES ? n : GV_MAX_QUEUES;
		in->nr_queues = n ? n : 1;
	}
}

/* Segments and bytes one request may carry, from size_max and seg_max. */
static void gblk_limits(struct gblk_disk *d)
{
	struct gblk_info *in = &d->info;
	/* Header and status take two descriptors. */
	uint64_t segs = in->queue_size - 2, seg_bytes = 1u << 30;

	if (in->seg_max && in->seg_max < segs)
		segs = in->seg_max;
	if (in->size_max && in->size_max < seg_bytes)
		seg_bytes = in->size_max;
	in->max_transfer = segs * seg_bytes & ~(uint64_t)511;
}

static int gblk_setup_queue(struct gblk_disk *d, unsigned i)
{
	struct gblk_queue *q = &d->qs[i];
	int err = gv_setup_queue(&d->gv, i, GBLK_Q_SIZE);

	if (err)
		return err;
	q->vq = &d->gv.vqs[i];
	q->slots = gv_dma_alloc(&d->gv, q->vq->size * sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->nr_free_slots = q->vq->size;
	for (unsigned s = 0; s < q->vq->size; s++)
		q->free_slots[s] = (uint16_t)(q->vq->size - 1 - s);
	q->inflight = 0;
	q->timer_us = 0;
	/* Polled until a waiter asks for an interrupt. */
	gv_disable_interrupts(q->vq);
	return 0;
}

int gblk_open(unsigned instance, uint64_t wanted, struct gblk_disk **out)
{
	struct gblk_disk *d;
	int err;

	if (instance >= GBLK_MAX_DISKS)
		return -ENOENT;
	d = &gblk_disks[instance];
	if (d->open)
		gblk_close(d);
	memset(d, 0, sizeof(*d));
	err = gv_probe_instance(&d->gv, VIRTIO_ID_BLOCK, instance,
				wanted ? wanted & GBLK_FEATURES
				       : GBLK_FEATURES);
	if (err)
		return err;
	d->info.features = d->gv.features;
	gblk_read_config(d);
	for (unsigned i = 0; i < d->info.nr_queues; i++) {
		err = gblk_setup_queue(d, i);
		if (err) {
			gv_reset(&d->gv);
			return err;
		}
	}
	d->info.queue_size = d->qs[0].vq->size;
	gblk_limits(d);
	d->spin_cycles = guest_tsc_khz() * GBLK_SPIN_US / 1000;
	gv_driver_ok(&d->gv);
	d->open = true;
	*out = d;
	return 0;
}

void gblk_close(struct gblk_disk *d)
{
	if (!d->open)
		return;
	/*
	 * Reset first: the device may still be writing status bytes. Hosted,
	 * the reset released the slots on the host (and the guest forgot
	 * them); native, they are ours to free.
	 */
	gv_reset(&d->gv);
	for (unsigned i = 0; i < d->info.nr_queues; i++) {
		struct gblk_queue *q = &d->qs[i];

		if (i == guest_cpu_id()) /* a timer is per vCPU */
			gblk_timer_stop(q);
		if (q->slots && guest_boot.native)
			dma_free_coherent(&d->gv.dma,
					  q->vq->size * sizeof(*q->slots),
					  q->slots, gv_gpa(q->slots));
		q->slots = NULL;
	}
	d->open = false;
}

const struct gblk_info *gblk_info(const struct gblk_disk *d)
{
	return &d->info;
}

struct gv_dev *gblk_gv(struct gblk_disk *d)
{
	return &d->gv;
}

void gblk_get_stats(const struct gblk_disk *d, struct gblk_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < d->info.nr_queues; i++) {
		const struct gblk_stats *s = &d->qs[i].stats;

		out->submitted += s->submitted;
		out->completed += s->completed;
		out->kicks += s->kicks;
		out->notifies += s->notifies;
		out->waits += s->waits;
		out->halts += s->halts;
	}
}

int gblk_dma_alloc(struct gblk_disk *d, uint64_t bytes, void **buf)
{
	uint64_t addr;

	return dma_alloc_coherent(&d->gv.dma, bytes, buf, &addr);
}

int gblk_dma_free(struct gblk_disk *d, uint64_t bytes, void *buf)
{
	return dma_free_coherent(&d->gv.dma, bytes, buf, gv_gpa(buf));
}

/* Is @type's data written by the device (IN, GET_ID, unknown types)? */
static bool data_is_written(uint32_t type)
{
	return type != VIRTIO_BLK_T_OUT && type != VIRTIO_BLK_T_DISCARD &&
	       type != VIRTIO_BLK_T_WRITE_ZEROES;
}

/* The driver's own checks; unknown types go through (the device: UNSUPP). */
static int gblk_check(const struct gblk_disk *d, const struct gblk_req *r)
{
	bool has_data = r->buf && r->len;

	switch (r->type) {
	case VIRTIO_BLK_T_OUT:
		if (d->info.read_only)
			return -GBLK_EROFS;
		/* fall through */
	case VIRTIO_BLK_T_IN:
		if (!has_data || r->len % VIRTIO_BLK_SECTOR_SIZE)
			return -EINVAL;
		return r->len <= d->info.max_transfer ? 0 : -E2BIG;
	case VIRTIO_BLK_T_FLUSH:
		if (!has(d, VIRTIO_BLK_F_FLUSH))
			return -EOPNOTSUPP;
		return has_data ? -EINVAL : 0;
	case VIRTIO_BLK_T_GET_ID:
		return has_data ? 0 : -EINVAL;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!has(d, r->type == VIRTIO_BLK_T_DISCARD
				    ? VIRTIO_BLK_F_DISCARD
				    : VIRTIO_BLK_F_WRITE_ZEROES))
			return -EOPNOTSUPP;
		if (d->info.read_only)
			return -GBLK_EROFS;
		if (!has_data || r->len % sizeof(struct virtio_blk_discard))
			return -EINVAL;
		return 0;
	default:
		return 0;
	}
}

/* The data as descriptors of at most size_max bytes; -E2BIG if too many. */
static int gblk_map_data(const struct gblk_disk *d, struct gblk_queue *q,
			 const struct gblk_req *r, unsigned *n)
{
	uint64_t seg = d->info.size_max ? d->info.size_max : 1u << 30;
	uint64_t gpa = gv_gpa(r->buf), left = r->buf ? r->len : 0;
	bool write = data_is_written(r->type);

	while (left) {
		uint32_t len = (uint32_t)(left < seg ? left : seg);

		if (*n + 1 >= GBLK_Q_SIZE)
			return -E2BIG;
		q->bufs[(*n)++] = (struct gv_buf){gpa, len, write};
		gpa += len;
		left -= len;
	}
	return 0;
}

int gblk_submit(struct gblk_disk *d, unsigned qi, struct gblk_req *r)
{
	struct gblk_queue *q = &d->qs[qi];
	struct gblk_slot *s;
	unsigned n = 1, slot;
	int err = r->raw ? 0 : gblk_check(d, r);

	if (err)
		return err;
	if (!q->nr_free_slots)
		return -ENOSPC;
	slot = q->free_slots[q->nr_free_slots - 1];
	s = &q->slots[slot];
	err = gblk_map_data(d, q, r, &n);
	if (err)
		return err;
	if (d->info.seg_max && n - 1 > d->info.seg_max)
		return -E2BIG;
	s->hdr = (struct virtio_blk_outhdr){.type = r->type,
					    .sector = r->sector};
	s->status = GBLK_S_PENDING;
	q->bufs[0] = (struct gv_buf){gv_gpa(&s->hdr), sizeof(s->hdr), false};
	q->bufs[n++] = (struct gv_buf){gv_gpa(&s->status), 1, true};
	if (n > q->vq->nr_free)
		return -ENOSPC;
	r->status = GBLK_S_PENDING;
	r->written = 0;
	q->reqs[slot] = r;
	err = gv_add(q->vq, q->bufs, n, (void *)(uintptr_t)(slot + 1));
	if (err)
		return err;
	q->nr_free_slots--;
	q->inflight++;
	q->stats.submitted++;
	return 0;
}

void gblk_kick(struct gblk_disk *d, unsigned qi)
{
	struct gblk_queue *q = &d->qs[qi];

	q->stats.kicks++;
	if (gv_kick(&d->gv, q->vq))
		q->stats.notifies++;
}

unsigned gblk_reap(struct gblk_disk *d, unsigned qi, struct gblk_req **done,
		   unsigned max)
{
	struct gblk_queue *q = &d->qs[qi];
	unsigned n = 0;
	uint32_t len;
	void *tok;

	while (n < max && (tok = gv_get_used(q->vq, &len)) != NULL) {
		unsigned slot = (unsigned)(uintptr_t)tok - 1;
		struct gblk_req *r = q->reqs[slot];

		/* gv_get_used() read the used index with acquire. */
		r->status = q->slots[slot].status;
		r->written = len;
		q->reqs[slot] = NULL;
		q->free_slots[q->nr_free_slots++] = (uint16_t)slot;
		q->inflight--;
		q->stats.completed++;
		done[n++] = r;
	}
	return n;
}

unsigned gblk_inflight(const struct gblk_disk *d, unsigned qi)
{
	return d->qs[qi].inflight;
}

void gblk_set_poll_us(struct gblk_disk *d, unsigned us)
{
	d->spin_cycles = guest_tsc_khz() * us / 1000;
}

bool gblk_needs_reset(struct gblk_disk *d)
{
	return gv_status(&d->gv) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

/* Used chains not yet reaped. */
static unsigned gblk_ready(const struct gblk_queue *q)
{
	return gv_nr_used(q->vq);
}

static bool gblk_spin(const struct gblk_disk *d, const struct gblk_queue *q,
		      unsigned n)
{
	uint64_t end = rdtsc() + d->spin_cycles;

	do {
		if (gblk_ready(q) >= n)
			return true;
		__builtin_ia32_pause();
	} while (rdtsc() < end);
	return false;
}

/*
 * The vCPU that takes the device's interrupt needs the timer only as a
 * watchdog; the others wake by it.
 */
static void gblk_timer_start(struct gblk_queue *q)
{
	unsigned us = guest_cpu_id() == 0 ? GBLK_WATCHDOG_US : GBLK_AP_TICK_US;

	if (q->timer_us == us)
		return;
	lapic_timer_periodic(us);
	q->timer_us = us;
}

static void gblk_timer_stop(struct gblk_queue *q)
{
	if (!q->timer_us)
		return;
	lapic_timer_stop();
	q->timer_us = 0;
}

/* Look at Status (one VM exit) this often while a wait makes no progress. */
#define GBLK_CHECK_US 10000u

/* Halt until the device or the timer wakes us; add the time waited. */
static void gblk_halt(struct gblk_queue *q, uint64_t *waited_us)
{
	uint64_t ticks = this_cpu()->ticks;

	q->stats.halts++;
	guest_wait_for_interrupt();
	*waited_us += (this_cpu()->ticks - ticks) * q->timer_us;
}

int gblk_wait(struct gblk_disk *d, unsigned qi, unsigned n, unsigned timeout_ms)
{
	struct gblk_queue *q = &d->qs[qi];
	uint64_t waited_us = 0, check_us = GBLK_CHECK_US;
	int err = 0;

	if (n > q->inflight)
		n = q->inflight;
	if (n == 0 || gblk_ready(q) >= n)
		return 0;
	q->stats.waits++;
	if (gblk_spin(d, q, n))
		return 0;
	gblk_timer_start(q);
	while (gblk_ready(q) < n) {
		/* Interrupt when the n-th chain from last_used is used. */
		if (gv_enable_interrupts(q->vq, (uint16_t)n) &&
		    gblk_ready(q) >= n)
			break;
		gblk_halt(q, &waited_us);
		if (gblk_ready(q) >= n)
			break;
		/*
		 * No progress for a while: a device in DEVICE_NEEDS_RESET
		 * will not return the requests. Not on every wakeup: without
		 * EVENT_IDX every used chain interrupts, and an AP wakes on
		 * every tick of its timer.
		 */
		if (waited_us >= check_us) {
			if (gblk_needs_reset(d)) {
				err = -EIO;
				break;
			}
			check_us = waited_us + GBLK_CHECK_US;
		}
		if (waited_us / 1000 >= timeout_ms) {
			err = -GBLK_ETIMEDOUT;
			break;
		}
	}
	gv_disable_interrupts(q->vq);
	/* Keep the timer while more requests are out: the next wait. */
	if (err || gblk_ready(q) >= q->inflight)
		gblk_timer_stop(q);
	return err;
}

int gblk_rw(struct gblk_disk *d, unsigned qi, struct gblk_req *r)
{
	struct gblk_req *done;
	int err = gblk_submit(d, qi, r);

	if (err)
		return err;
	gblk_kick(d, qi);
	while (r->status == GBLK_S_PENDING) {
		err = gblk_wait(d, qi, 1, 5000);
		if (err)
			return err;
		gblk_reap(d, qi, &done, 1);
	}
	return r->status;
}
