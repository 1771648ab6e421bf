// SPDX-License-Identifier: MIT
/*
 * devices/virtio_balloon.c - virtio-balloon over the host page database.
 *
 * Every PFN the guest puts in the balloon is checked against the page
 * database, never trusted: it must name a frame of RAM the guest holds
 * (FRAME_GUEST: not free, not a DMA block, not reserved, not already in the
 * balloon). Good frames move GUEST -> BALLOON in contiguous runs (one state
 * change and one discard per run); a bad PFN is refused, counted and logged
 * (rate-limited) and the rest of the buffer is still processed: one wrong
 * PFN in 256 must not cost the guest its balloon. A malformed *buffer* (a
 * length that is not whole PFNs, a device-writable PFN array) is a protocol
 * error: the device needs a reset.
 *
 * Locking: all state is behind the transport's device lock (every ops
 * callback runs with it held; the control interface takes it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/layout.h"
#include "devices/pvmem.h"
#include "devices/pvmem_ring.h"
#include "devices/pvmem_vm.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_vm.h"
#include "mm/mm.h"
#include "vmm/guest_mem.h"
#include "vmm/api_vm.h"
#include "vmm/seccomp.h"
#include "vmm/stat_fields.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define BALLOON_QUEUE_SIZE 128
#define BALLOON_MAX_SEGS   64
#define BALLOON_NR_QUEUES  4 /* inflate, deflate, stats, reporting */
#define BALLOON_LOG_FIRST  8 /* bad PFNs logged one by one, then 1 in 1024 */
/* Frames per host huge page, and part-ballooned huge pages remembered. */
#define BALLOON_HUGE_FRAMES (GUEST_MEM_HUGE_SIZE / PAGE_SIZE)
#define BALLOON_PENDING_MAX 64

enum balloon_role {
	ROLE_NONE,
	ROLE_INFLATE,
	ROLE_DEFLATE,
	ROLE_STATS,
	ROLE_REPORT,
};

struct virtio_balloon {
	struct virtio_balloon_params p;
	struct virtio_mmio_dev *dev;
	struct virtq_seg segs[BALLOON_MAX_SEGS];
	struct virtq_chain chain;
	enum balloon_role roles[BALLOON_NR_QUEUES]; /* fixed at FEATURES_OK */
	uint32_t num_pages;			    /* target */
	uint32_t actual;			    /* as the driver wrote it */
	/* The stats buffer the device holds until it wants fresh numbers. */
	bool stats_held;
	uint16_t stats_head;
	unsigned stats_queue;
	uint32_t nr_stats;
	struct virtio_balloon_stat stats[BALLOON_MAX_STATS];
	uint64_t stats_time_ms; /* UINT64_MAX: never */
	uint64_t inflated, deflated, bad_pfns, oom_deflates, reported_pages;
	uint64_t stats_updates;
	/*
	 * Host huge pages that an inflate run covered in part (index: pfn /
	 * BALLOON_HUGE_FRAMES), released at the end of the notification
	 * (balloon_flush_partial()) unless the rest of them comes first.
	 */
	uint64_t partial[BALLOON_PENDING_MAX];
	unsigned nr_partial;
	uint64_t huge_released, partial_released, partial_kept;
	uint64_t inflate_notifies, inflate_ns, discard_ns;
};

static const uint64_t balloon_features =
	VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) |
	VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);

static uint64_t balloon_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t balloon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t balloon_now_ms(void)
{
	return balloon_now_ns() / 1000000u;
}

static void balloon_log(struct virtio_balloon *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void balloon_log(struct virtio_balloon *b, const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->p.link.log)
		b->p.link.log(b->p.link.log_opaque, line);
	else
		fprintf(stderr, "virtio-balloon: %s\n", line);
}

/* Refuse one PFN: count it, and say so for the first few and then rarely. */
static void balloon_bad_pfn(struct virtio_balloon *b, const char *what,
			    uint64_t pfn, int err)
{
	b->bad_pfns++;
	if (b->bad_pfns <= BALLOON_LOG_FIRST || !(b->bad_pfns & 1023))
		balloon_log(b,
			    "%s: pfn 0x%llx refused (%s; %llu refused so far)",
			    what, (unsigned long long)pfn,
			    err == -ERANGE ? "not guest RAM"
					   : "frame not in the right state",
			    (unsigned long long)b->bad_pfns);
}

/*
 * Hosted model: frames in the balloon are not charged to the guest, and the
 * page limit moves with them, so what the balloon took cannot be allocated
 * again through the memory interface.
 */
static void balloon_charge(struct virtio_balloon *b, int64_t delta)
{
	if (!b->p.link.pvmem)
		return;
	pvmem_adjust_tot_pages(b->p.link.pvmem, delta);
	pvmem_set_max_pages(b->p.link.pvmem,
			    pvmem_max_pages(b->p.link.pvmem) + (uint64_t)delta);
}

/* Drop the host backing of frames [pfn, pfn + nr), all in the balloon. */
static void balloon_discard(struct virtio_balloon *b, uint64_t pfn, uint64_t nr)
{
	uint64_t t0 = balloon_now_ns();
	int err = guest_mem_discard(b->p.link.mem, MM_PFN_TO_ADDR(pfn),
				    nr * PAGE_SIZE);

	b->discard_ns += balloon_now_ns() - t0;
	if (err)
		balloon_log(b, "discard of [0x%llx, +%llu pages) failed: %s",
			    (unsigned long long)pfn, (unsigned long long)nr,
			    strerror(-err));
}

/* Is all of host huge page @hp in the balloon? */
static bool balloon_huge_full(const struct virtio_balloon *b, uint64_t hp)
{
	return mm_count_frames_state(b->p.mm, hp * BALLOON_HUGE_FRAMES,
				     BALLOON_HUGE_FRAMES,
				     FRAME_BALLOON) == BALLOON_HUGE_FRAMES;
}

static void balloon_release_huge(struct virtio_balloon *b, uint64_t hp)
{
	balloon_discard(b, hp * BALLOON_HUGE_FRAMES, BALLOON_HUGE_FRAMES);
	b->huge_released++;
}

/*
 * A huge page still part-ballooned at the end of a notification. Anonymous
 * memory and the memfd release its ballooned 4 KiB runs now (RSS falls;
 * a transparent huge page is split). hugetlbfs cannot release part of a
 * page: it stays backed until the rest of it is ballooned.
 */
static void balloon_release_part(struct virtio_balloon *b, uint64_t hp)
{
	uint64_t pfn = hp * BALLOON_HUGE_FRAMES,
		 end = pfn + BALLOON_HUGE_FRAMES;

	if (b->p.link.mem->backing == GUEST_MEM_HUGETLBFS) {
		b->partial_kept++;
		return;
	}
	while (pfn < end) {
		uint64_t run = 0;

		while (pfn + run < end &&
		       mm_count_frames_state(b->p.mm, pfn + run, 1,
					     FRAME_BALLOON))
			run++;
		if (run)
			balloon_discard(b, pfn, run);
		pfn += run + 1;
	}
	b->partial_released++;
}

/* Release or keep every remembered huge page (see balloon_edge()). */
static void balloon_flush_partial(struct virtio_balloon *b)
{
	for (unsigned i = 0; i < b->nr_partial; i++) {
		if (balloon_huge_full(b, b->partial[i]))
			balloon_release_huge(b, b->partial[i]);
		else
			balloon_release_part(b, b->partial[i]);
	}
	b->nr_partial = 0;
}

/*
 * Host huge page @hp is partly covered by an inflate run: release it whole
 * if the rest of it is in the balloon already, else remember it. The
 * guest sends a 2 MiB block as two buffers of 256 PFNs, so the first half
 * waits here for the second rather than splitting the page.
 */
static void balloon_edge(struct virtio_balloon *b, uint64_t hp)
{
	unsigned i;

	for (i = 0; i < b->nr_partial && b->partial[i] != hp; i++)
		;
	if (balloon_huge_full(b, hp)) {
		balloon_release_huge(b, hp);
		if (i < b->nr_partial)
			b->partial[i] = b->partial[--b->nr_partial];
		return;
	}
	if (i < b->nr_partial)
		return;
	if (b->nr_partial == BALLOON_PENDING_MAX)
		balloon_flush_partial(b);
	b->partial[b->nr_partial++] = hp;
}

/*
 * Drop the backing of a run just ballooned in whole host huge pages: the
 * ones inside the run at once (one call), the ones at its ends when the
 * rest of them is ballooned too (balloon_edge()).
 */
static void balloon_release(struct virtio_balloon *b, uint64_t pfn, uint64_t nr)
{
	uint64_t end = pfn + nr, hp = BALLOON_HUGE_FRAMES;
	uint64_t hs = (pfn + hp - 1) / hp, he = end / hp;

	if (hs < he) {
		balloon_discard(b, hs * hp, (he - hs) * hp);
		b->huge_released += he - hs;
		if (pfn < hs * hp)
			balloon_edge(b, pfn / hp);
		if (he * hp < end)
			balloon_edge(b, he);
		return;
	}
	balloon_edge(b, pfn / hp);
	if ((end - 1) / hp != pfn / hp)
		balloon_edge(b, (end - 1) / hp);
}

/* GUEST -> BALLOON for a run already in that state; then drop the backing. */
static void balloon_inflated(struct virtio_balloon *b, uint64_t pfn,
			     uint64_t nr)
{
	balloon_release(b, pfn, nr);
	b->inflated += nr;
	balloon_charge(b, -(int64_t)nr);
	/* A guest that can swap its balloon pages gets asked to (ABI 1.1). */
	if (b->p.link.pvmem)
		pvmem_migrate_adopt_balloon(pvmem_migration(b->p.link.pvmem),
					    pfn, pfn + nr);
}

static void balloon_deflated(struct virtio_balloon *b, uint64_t nr)
{
	uint64_t left = b->inflated - b->deflated - nr;

	/* Below the target the guest is taking pages back on OOM. */
	if (left < b->num_pages)
		b->oom_deflates += balloon_min(nr, b->num_pages - left);
	b->deflated += nr;
	balloon_charge(b, (int64_t)nr);
}

/*
 * Hosted model: a frame the host placed in a page ring's supply is the
 * host's until the guest takes it, and one the guest put in a return ring
 * is the host's already (devices/pvmem_ring.h): neither is the guest's to
 * balloon. The returns are drained before each inflate notification
 * (balloon_notify()), which frees what the guest gave back before it asked;
 * a frame still in a supply is refused here.
 */
static bool balloon_ring_holds(const struct virtio_balloon *b, uint64_t pfn,
			       uint64_t nr)
{
	return b->p.link.pvmem &&
	       pvmem_rings_hold_any(pvmem_rings(b->p.link.pvmem), pfn, nr);
}

/*
 * Move a run of consecutive PFNs. The whole run in one state change is the
 * common case; if any frame is bad, go frame by frame so the good ones
 * still move and exactly the bad ones are refused.
 */
static void balloon_move_run(struct virtio_balloon *b, bool inflate,
			     uint64_t pfn, uint64_t nr)
{
	enum frame_state from = inflate ? FRAME_GUEST : FRAME_BALLOON;
	enum frame_state to = inflate ? FRAME_BALLOON : FRAME_GUEST;
	const char *what = inflate ? "inflate" : "deflate";

	if (nr == 0)
		return;
	if (!(inflate && balloon_ring_holds(b, pfn, nr)) &&
	    mm_set_frames_state(b->p.mm, pfn, nr, from, to, 0) == 0) {
		if (inflate)
			balloon_inflated(b, pfn, nr);
		else
			balloon_deflated(b, nr);
		return;
	}
	for (uint64_t i = 0; i < nr; i++) {
		int err = inflate && balloon_ring_holds(b, pfn + i, 1)
				  ? -EPERM
				  : mm_set_frames_state(b->p.mm, pfn + i, 1,
							from, to, 0);

		/* Deflating a frame the host asked to move: that move is off. */
		if (err == -EBUSY && !inflate && b->p.link.pvmem &&
		    pvmem_migrate_cancel_src(pvmem_migration(b->p.link.pvmem),
					     pfn + i))
			err = mm_set_frames_state(b->p.mm, pfn + i, 1, from, to,
						  0);

		if (err)
			balloon_bad_pfn(b, what, pfn + i, err);
		else if (inflate)
			balloon_inflated(b, pfn + i, 1);
		else
			balloon_deflated(b, 1);
	}
}

/* One inflate or deflate buffer: little-endian u32 PFNs (4 KiB units). */
static int balloon_handle_pfns(struct virtio_balloon *b, struct virtq_chain *c,
			       bool inflate)
{
	uint64_t run_start = 0, run_len = 0;

	if (c->nr_segs != c->nr_read)
		return -EPROTO; /* the PFN array is device-readable */
	for (unsigned s = 0; s < c->nr_read; s++) {
		const uint8_t *p = c->segs[s].host;

		if (c->segs[s].len % 4)
			return -EINVAL; /* not whole PFNs */
		for (uint32_t off = 0; off < c->segs[s].len; off += 4) {
			uint32_t pfn;

			memcpy(&pfn, p + off, sizeof(pfn)); /* read once */
			if (run_len && pfn == run_start + run_len) {
				run_len++;
				continue;
			}
			balloon_move_run(b, inflate, run_start, run_len);
			run_start = pfn;
			run_len = 1;
		}
	}
	balloon_move_run(b, inflate, run_start, run_len);
	return 0;
}

static int balloon_inflate_cb(void *opaque, struct virtq *vq,
			      struct virtq_chain *c, uint32_t *written)
{
	*written = 0;
	return balloon_handle_pfns(opaque, c, true);
}

static int balloon_deflate_cb(void *opaque, struct virtq *vq,
			      struct virtq_chain *c, uint32_t *written)
{
	*written = 0;
	return balloon_handle_pfns(opaque, c, false);
}

/*
 * Free page reporting (native model). The driver hands over free blocks of
 * its own allocator as device-writable buffers (virtio 1.2 5.5.6.7; Linux
 * adds them with virtqueue_add_inbuf(), QEMU reads in_sg), which the device
 * never writes: it drops their backing and gives them back. The frames stay
 * the guest's (FRAME_GUEST) and read as zeros on next touch; the database
 * records it with PG_DISCARDED. Every frame must be one the guest holds: a
 * report cannot discard a DMA block, the balloon's or the kernel's frames.
 * The whole buffer is checked before anything is discarded.
 */
static int balloon_report_check(struct virtio_balloon *b,
				const struct virtq_chain *c)
{
	if (c->nr_read)
		return -EPROTO; /* the blocks are device-writable */
	for (unsigned s = 0; s < c->nr_segs; s++) {
		uint64_t gpa = c->segs[s].gpa, len = c->segs[s].len;

		if ((gpa | len) & (PAGE_SIZE - 1))
			return -EINVAL;
		for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
			const struct page *pg = mm_pfn_to_page(
				b->p.mm, MM_ADDR_TO_PFN(gpa + off));

			if (!pg || pg->state != FRAME_GUEST)
				return -EPERM;
		}
	}
	return 0;
}

static int balloon_report_cb(void *opaque, struct virtq *vq,
			     struct virtq_chain *c, uint32_t *written)
{
	struct virtio_balloon *b = opaque;
	int err = balloon_report_check(b, c);

	*written = 0;
	if (err)
		return err;
	for (unsigned s = 0; s < c->nr_segs; s++) {
		uint64_t gpa = c->segs[s].gpa, len = c->segs[s].len;
		int64_t marked;

		if (!len)
			continue;
		marked = mm_mark_discarded(b->p.mm, MM_ADDR_TO_PFN(gpa),
					   len / PAGE_SIZE);
		if (marked < 0)
			return (int)marked; /* checked above: cannot happen */
		err = guest_mem_discard(b->p.link.mem, gpa, len);
		if (err)
			balloon_log(b,
				    "report: discard of [0x%llx, +%llu) "
				    "failed: %s",
				    (unsigned long long)gpa,
				    (unsigned long long)len, strerror(-err));
		b->reported_pages += len / PAGE_SIZE;
	}
	return 0;
}

/* Keep what the guest sent: at most BALLOON_MAX_STATS tag/value pairs. */
static void balloon_parse_stats(struct virtio_balloon *b,
				const struct virtq_chain *c)
{
	uint8_t buf[sizeof(struct virtio_balloon_stat) * BALLOON_MAX_STATS];
	uint64_t n = 0;

	for (unsigned s = 0; s < c->nr_read && n < sizeof(buf); s++) {
		uint64_t take =
			balloon_min((uint64_t)c->segs[s].len, sizeof(buf) - n);

		memcpy(buf + n, c->segs[s].host, take);
		n += take;
	}
	b->nr_stats = (uint32_t)(n / sizeof(struct virtio_balloon_stat));
	memcpy(b->stats, buf, b->nr_stats * sizeof(b->stats[0]));
	b->stats_time_ms = balloon_now_ms();
	b->stats_updates++;
}

/*
 * The stats queue is driven the other way round: the guest's buffer is
 * held by the device and given back (used) only to ask for new numbers.
 */
static void balloon_stats_notify(struct virtio_mmio_dev *dev,
				 struct virtio_balloon *b, unsigned q)
{
	struct virtq *vq = __virtio_mmio_queue(dev, q);
	int r;

	while ((r = virtq_pop(vq, &b->chain)) == 1) {
		if (b->stats_held)
			virtq_push(vq, b->stats_head, 0); /* superseded */
		balloon_parse_stats(b, &b->chain);
		b->stats_held = true;
		b->stats_head = b->chain.head;
		b->stats_queue = q;
	}
	if (virtq_should_notify(vq))
		__virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (r < 0) {
		b->stats_held = false;
		__virtio_mmio_fail(dev, r, virtq_error(vq));
	}
}

static void balloon_notify(struct virtio_mmio_dev *dev, unsigned q)
{
	struct virtio_balloon *b = virtio_mmio_priv(dev);
	virtq_handle_fn fn = NULL;
	uint64_t t0;

	if (q >= BALLOON_NR_QUEUES)
		return;
	switch (b->roles[q]) {
	case ROLE_INFLATE:
		fn = balloon_inflate_cb;
		/* What the guest returned before it asked is not its own. */
		if (b->p.link.pvmem)
			pvmem_rings_drain_returns(pvmem_rings(b->p.link.pvmem));
		break;
	case ROLE_DEFLATE:
		fn = balloon_deflate_cb;
		break;
	case ROLE_REPORT:
		fn = balloon_report_cb;
		break;
	case ROLE_STATS:
		balloon_stats_notify(dev, b, q);
		return;
	case ROLE_NONE:
		return;
	}
	if (b->roles[q] != ROLE_INFLATE) {
		__virtio_mmio_process_queue(dev, q, &b->chain, fn, b);
		return;
	}
	t0 = balloon_now_ns();
	__virtio_mmio_process_queue(dev, q, &b->chain, fn, b);
	balloon_flush_partial(b);
	b->inflate_notifies++;
	b->inflate_ns += balloon_now_ns() - t0;
}

static int balloon_features_ok(struct virtio_mmio_dev *dev, uint64_t features)
{
	struct virtio_balloon *b = virtio_mmio_priv(dev);
	unsigned q = 0;

	memset(b->roles, 0, sizeof(b->roles));
	b->roles[q++] = ROLE_INFLATE;
	b->roles[q++] = ROLE_DEFLATE;
	if (features & VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ))
		b->roles[q++] = ROLE_STATS;
	if (features & VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING))
		b->roles[q++] = ROLE_REPORT;
	return 0;
}

static void balloon_reset(struct virtio_mmio_dev *dev)
{
	struct virtio_balloon *b = virtio_mmio_priv(dev);

	memset(b->roles, 0, sizeof(b->roles));
	b->stats_held = false;
	balloon_flush_partial(b);
}

static void balloon_config_read(struct virtio_mmio_dev *dev, uint32_t offset,
				void *data, unsigned len)
{
	struct virtio_balloon *b = virtio_mmio_priv(dev);
	struct virtio_balloon_config cfg = {
		.num_pages = b->num_pages,
		.actual = b->actual,
	};

	memcpy(data, (const uint8_t *)&cfg + offset, len);
}

/* Only `actual` is the driver's to write; the target is the host's. */
static void balloon_config_write(struct virtio_mmio_dev *dev, uint32_t offset,
				 const void *data, unsigned len)
{
	struct virtio_balloon *b = virtio_mmio_priv(dev);
	uint32_t at = offsetof(struct virtio_balloon_config, actual);
	struct virtio_balloon_config cfg = {.actual = b->actual};

	if (offset < at)
		return;
	memcpy((uint8_t *)&cfg + offset, data, len);
	b->actual = cfg.actual;
}

static const struct virtio_mmio_ops balloon_ops = {
	.notify = balloon_notify,
	.reset = balloon_reset,
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.features_ok = balloon_features_ok,
};

static int balloon_check_target(const struct virtio_balloon *b, uint64_t pages)
{
	if (pages > UINT32_MAX || pages > b->p.ram_pages)
		return -EINVAL;
	return 0;
}

int virtio_balloon_create(const struct virtio_balloon_params *p,
			  struct virtio_balloon **out)
{
	struct virtio_mmio_params mp = {
		.name = "balloon",
		.device_id = VIRTIO_ID_BALLOON,
		.features = balloon_features,
		.nr_queues = BALLOON_NR_QUEUES,
		.queue_max = {BALLOON_QUEUE_SIZE, BALLOON_QUEUE_SIZE,
			      BALLOON_QUEUE_SIZE, BALLOON_QUEUE_SIZE},
		.config_size = sizeof(struct virtio_balloon_config),
		.ops = &balloon_ops,
	};
	struct virtio_balloon *b;
	int err;

	if (!p->mm || p->ram_pages == 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->p = *p;
	if (balloon_check_target(b, p->initial_target)) {
		free(b);
		return -EINVAL;
	}
	b->num_pages = (uint32_t)p->initial_target;
	b->stats_time_ms = UINT64_MAX;
	b->chain = (struct virtq_chain){.segs = b->segs,
					.max_segs = BALLOON_MAX_SEGS};
	/* Reporting hands over free guest pages, never DMA: native only. */
	if (!p->link.pvmem)
		mp.features |= VIRTIO_BIT(VIRTIO_BALLOON_F_REPORTING);
	mp.priv = b;
	err = virtio_vm_mmio_create(&mp, &b->p.link, &b->dev);
	if (err) {
		free(b);
		return err;
	}
	*out = b;
	return 0;
}

void virtio_balloon_destroy(struct virtio_balloon *b)
{
	if (!b)
		return;
	virtio_mmio_destroy(b->dev);
	free(b);
}

struct virtio_mmio_dev *virtio_balloon_mmio(struct virtio_balloon *b)
{
	return b->dev;
}

int virtio_balloon_dev_set_target(struct virtio_balloon *b, uint64_t pages)
{
	int err = balloon_check_target(b, pages);

	if (err)
		return err;
	virtio_mmio_lock(b->dev);
	if (b->num_pages != pages) {
		b->num_pages = (uint32_t)pages;
		__virtio_mmio_config_changed(b->dev);
	}
	virtio_mmio_unlock(b->dev);
	return 0;
}

static int __balloon_request_stats(struct virtio_balloon *b)
{
	struct virtq *vq;

	if (!b->stats_held)
		return -EAGAIN;
	vq = __virtio_mmio_queue(b->dev, b->stats_queue);
	b->stats_held = false;
	if (virtq_push(vq, b->stats_head, 0))
		return -EAGAIN;
	if (virtq_should_notify(vq))
		__virtio_mmio_interrupt(b->dev, VIRTIO_MMIO_INT_VRING);
	return 0;
}

int virtio_balloon_dev_request_stats(struct virtio_balloon *b)
{
	int err;

	virtio_mmio_lock(b->dev);
	err = __balloon_request_stats(b);
	virtio_mmio_unlock(b->dev);
	return err;
}

void virtio_balloon_dev_get_status(struct virtio_balloon *b,
				   struct balloon_status *out)
{
	struct mm_stats ms;
	uint64_t now = balloon_now_ms();

	memset(out, 0, sizeof(*out));
	mm_get_stats(b->p.mm, &ms);
	virtio_mmio_lock(b->dev);
	out->present = true;
	out->target_pages = b->num_pages;
	out->actual_pages = b->actual;
	out->inflated_frames = ms.frames[FRAME_BALLOON];
	out->held_pages = b->inflated - b->deflated;
	out->nr_stats = b->nr_stats;
	for (uint32_t i = 0; i < b->nr_stats; i++) {
		out->stats[i].tag = b->stats[i].tag;
		out->stats[i].val = b->stats[i].val;
	}
	out->stats_age_ms = b->stats_time_ms == UINT64_MAX
				    ? UINT64_MAX
				    : now - b->stats_time_ms;
	out->bad_pfns = b->bad_pfns;
	out->oom_deflates = b->oom_deflates;
	out->reported_pages = b->reported_pages;
	out->stats_updates = b->stats_updates;
	out->device_failures = __virtio_mmio_failures(b->dev);
	out->huge_released = b->huge_released;
	out->partial_released = b->partial_released;
	out->partial_kept = b->partial_kept;
	out->inflate_notifies = b->inflate_notifies;
	out->inflate_ns = b->inflate_ns;
	out->discard_ns = b->discard_ns;
	/* Stale numbers: ask for fresh ones, for the next caller. */
	if (b->p.stats_interval_ms && out->stats_age_ms != UINT64_MAX &&
	    out->stats_age_ms >= b->p.stats_interval_ms)
		__balloon_request_stats(b);
	virtio_mmio_unlock(b->dev);
}

const char *virtio_balloon_stat_name(uint16_t tag)
{
	static const char *const names[VIRTIO_BALLOON_S_NR] = {
		[VIRTIO_BALLOON_S_SWAP_IN] = "swap_in",
		[VIRTIO_BALLOON_S_SWAP_OUT] = "swap_out",
		[VIRTIO_BALLOON_S_MAJFLT] = "major_faults",
		[VIRTIO_BALLOON_S_MINFLT] = "minor_faults",
		[VIRTIO_BALLOON_S_MEMFREE] = "free_memory",
		[VIRTIO_BALLOON_S_MEMTOT] = "total_memory",
		[VIRTIO_BALLOON_S_AVAIL] = "available_memory",
		[VIRTIO_BALLOON_S_CACHES] = "disk_caches",
		[VIRTIO_BALLOON_S_HTLB_PGALLOC] = "hugetlb_allocations",
		[VIRTIO_BALLOON_S_HTLB_PGFAIL] = "hugetlb_failures",
	};

	return tag < VIRTIO_BALLOON_S_NR ? names[tag] : "unknown";
}

/* The VM's balloon ---------------------------------------------------------- */

/*
 * One VM per process. vm_balloon_lock guards the pointer only, so that the
 * API thread never sees a balloon being destroyed; the device has its own.
 */
static pthread_mutex_t vm_balloon_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virtio_balloon *vm_balloon;

/*
 * Periodic statistics: one small thread per VM (there is one balloon)
 * gives the guest's stats buffer back every stats_interval_ms, so the
 * numbers stay fresh without anyone polling `stat`. It sleeps on a
 * condition so that teardown wakes it at once.
 */
static pthread_cond_t vm_stats_cond = PTHREAD_COND_INITIALIZER;
static pthread_t vm_stats_thread;
static bool vm_stats_running, vm_stats_stop;

static void *balloon_stats_loop(void *arg)
{
	unsigned interval_ms = *(const unsigned *)arg;
	struct timespec t;

	vmm_seccomp_enter(VMM_THREAD_BALLOON_STATS);
	pthread_mutex_lock(&vm_balloon_lock);
	clock_gettime(CLOCK_REALTIME, &t);
	while (!vm_stats_stop) {
		t.tv_nsec += (long)(interval_ms % 1000) * 1000000;
		t.tv_sec += interval_ms / 1000 + t.tv_nsec / 1000000000;
		t.tv_nsec %= 1000000000;
		if (pthread_cond_timedwait(&vm_stats_cond, &vm_balloon_lock,
					   &t) == ETIMEDOUT &&
		    vm_balloon)
			virtio_balloon_dev_request_stats(vm_balloon);
	}
	pthread_mutex_unlock(&vm_balloon_lock);
	return NULL;
}

static void balloon_stats_start(const unsigned *interval_ms)
{
	vm_stats_stop = false;
	vm_stats_running =
		*interval_ms &&
		pthread_create(&vm_stats_thread, NULL, balloon_stats_loop,
			       (void *)interval_ms) == 0;
}

static void balloon_stats_stop(void)
{
	if (!vm_stats_running)
		return;
	pthread_mutex_lock(&vm_balloon_lock);
	vm_stats_stop = true;
	pthread_cond_signal(&vm_stats_cond);
	pthread_mutex_unlock(&vm_balloon_lock);
	pthread_join(vm_stats_thread, NULL);
	vm_stats_running = false;
}

/* The control API's view of the VM's balloon (vmm/api_balloon.h). */
static const struct api_balloon_ops balloon_api_ops = {
	.set_target = virtio_balloon_set_target,
	.get_status = virtio_balloon_get_status,
	.stat_name = virtio_balloon_stat_name,
};

int virtio_balloon_vm_init(struct vm *vm)
{
	struct frame_db *fdb = vm->frame_db;
	struct virtio_balloon_params p = {
		.link = virtio_vm_link(vm, VIRTIO_BALLOON_MMIO_BASE,
				       VIRTIO_BALLOON_IRQ,
				       VIRTIO_BALLOON_DMA_ID),
		.stats_interval_ms = 1000,
	};
	struct virtio_balloon *b = NULL;
	int err;

	p.mm = frame_db_mm(fdb);
	p.ram_pages = frame_db_ram_pages(fdb);
	err = virtio_balloon_create(&p, &b);
	if (!err)
		err = virtio_vm_attach(vm, &b->p.link, b->dev);
	if (err) {
		fprintf(stderr, "vmm: virtio-balloon: %s\n", strerror(-err));
		virtio_balloon_destroy(b);
		return err;
	}
	pthread_mutex_lock(&vm_balloon_lock);
	vm_balloon = b;
	pthread_mutex_unlock(&vm_balloon_lock);
	balloon_stats_start(&b->p.stats_interval_ms);
	api_vm_set_balloon(&balloon_api_ops);
	return 0;
}

void virtio_balloon_vm_exit(struct vm *vm)
{
	struct virtio_balloon *b;

	api_vm_set_balloon(NULL);
	balloon_stats_stop();
	pthread_mutex_lock(&vm_balloon_lock);
	b = vm_balloon;
	vm_balloon = NULL;
	pthread_mutex_unlock(&vm_balloon_lock);
	virtio_balloon_destroy(b);
}

int virtio_balloon_set_target(uint64_t pages)
{
	int err = -ENODEV;

	pthread_mutex_lock(&vm_balloon_lock);
	if (vm_balloon)
		err = virtio_balloon_dev_set_target(vm_balloon, pages);
	pthread_mutex_unlock(&vm_balloon_lock);
	return err;
}

void virtio_balloon_get_status(struct balloon_status *out)
{
	pthread_mutex_lock(&vm_balloon_lock);
	if (vm_balloon) {
		virtio_balloon_dev_get_status(vm_balloon, out);
	} else {
		memset(out, 0, sizeof(*out));
		out->stats_age_ms = UINT64_MAX;
	}
	pthread_mutex_unlock(&vm_balloon_lock);
}

/* --stats: the balloon's size and counters, as balloon_<name>. */
static const struct stat_field balloon_vm_stat_fields[] = {
	STAT_FIELD(struct balloon_status, target_pages),
	STAT_FIELD(struct balloon_status, actual_pages),
	STAT_FIELD(struct balloon_status, bad_pfns),
	STAT_FIELD(struct balloon_status, oom_deflates),
	STAT_FIELD(struct balloon_status, reported_pages),
	STAT_FIELD(struct balloon_status, stats_updates),
	STAT_FIELD_AS("failures", struct balloon_status, device_failures),
	STAT_FIELD(struct balloon_status, huge_released),
	STAT_FIELD(struct balloon_status, partial_released),
	STAT_FIELD(struct balloon_status, partial_kept),
	STAT_FIELD(struct balloon_status, inflate_notifies),
	STAT_FIELD(struct balloon_status, inflate_ns),
	STAT_FIELD(struct balloon_status, discard_ns),
};

static const struct stat_table balloon_vm_stat_table =
	STAT_TABLE(balloon_vm_stat_fields);

/* A snapshot under the balloon's lock, printed from the table. */
static void balloon_vm_print(struct vm *vm, enum vm_stats_place place,
			     FILE *out)
{
	struct balloon_status st;

	if (place != VM_STATS_VIRTIO)
		return;
	virtio_balloon_get_status(&st);
	if (st.present)
		stat_fields_print(out, "balloon_", &balloon_vm_stat_table, &st);
}

const struct vm_stats_ops virtio_balloon_vm_stats = {
	.print = balloon_vm_print,
};
