// SPDX-License-Identifier: MIT
/*
 * devices/virtio_blk.c - virtio-blk over a raw image file.
 *
 * Threads. A QueueNotify runs on a vCPU thread with the device lock held;
 * all it does is wake the queue's I/O thread. That thread takes the lock to
 * pop a batch of chains (validated and translated by virtq_pop()), drops it
 * to run the system calls straight into and out of the guest's buffers,
 * then takes it again to write the status bytes, push the chains and send
 * one interrupt for the batch. So a vCPU never waits for the disk, and
 * several queues (one per vCPU) run their I/O in parallel.
 *
 * Reset. While a batch is in flight its guest buffers are being read and
 * written without the device lock. A driver reset (status 0) may give those
 * buffers back (the hosted model frees the device's DMA blocks), so the
 * reset op waits, under the device lock, for every queue's in-flight batch
 * to finish its system calls, and bumps the queue's generation: a batch that
 * completes under an older generation is dropped, never pushed into the new
 * rings. The I/O thread never takes the device lock while a batch is busy,
 * so the wait cannot deadlock.
 *
 * Durability. FLUSH is fdatasync() of the image, issued after it was
 * popped, so it covers every write that had completed before the driver
 * sent it (virtio 1.x 5.2.6: a write is stable once a later FLUSH
 * completed). A driver that does not negotiate FLUSH gets write-through:
 * each write is RWF_DSYNC before it completes (the spec's case 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "abi/layout.h"
#include "abi/virtio_blk.h"
#include "devices/blk_uring.h"
#include "devices/virtio_blk.h"
#include "vmm/api_vm.h"
#include "vmm/cli.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"
#include "vmm/stat_fields.h"
#include "vmm/vm_stats.h"

#define BLK_MAX_SEGS (VIRTIO_BLK_SEG_MAX + 2) /* + header + status */
/*
 * Chains an I/O thread takes per round. Half of 32 in flight: the driver
 * refills one half while the thread serves the other (4 KiB random reads,
 * 32 in flight, medians of 5 alternating runs: 112k IOPS against 98k with
 * 32 per round).
 */
#define BLK_BATCH 16
/*
 * A round also stops once it holds this many bytes: large requests complete
 * a few at a time, so the driver refills while the thread copies the next ones
 * (64 KiB and 1 MiB writes, 5 alternating runs: medians +10..20%).
 */
#define BLK_BATCH_BYTES (256u << 10)
#define BLK_HDR_SIZE	sizeof(struct virtio_blk_outhdr)

/* One popped request and what the I/O thread found out about it. */
struct blk_req {
	struct virtq_chain chain;
	struct virtq_seg segs[BLK_MAX_SEGS];
	struct virtio_blk_outhdr hdr; /* copied once out of guest memory */
	uint8_t *status_ptr;	      /* the chain's last writable byte */
	uint8_t status;
	uint32_t written;
	/* IN/OUT, set by blk_rw_prepare(). */
	bool write;
	bool in_ring; /* queued on the io_uring, result pending */
	int fd;
	int rw_flags;
	unsigned nr_iov;
	uint64_t bytes;
	int32_t res; /* io_uring result: bytes or -errno */
	struct iovec iov[BLK_MAX_SEGS];
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	pthread_t thread;
	bool started;
	/* qlock protects the fields below; lock order: device, then qlock. */
	pthread_mutex_t qlock;
	pthread_cond_t cond;
	bool kicked;
	bool stop;
	bool busy;	     /* a batch is in its system calls */
	uint64_t generation; /* bumped by reset; also read under dev lock */
	bool uring;	     /* direct disk: IN/OUT batches on the io_uring */
	struct blk_uring ring;
	struct blk_req reqs[BLK_BATCH];
};

struct virtio_blk {
	struct virtio_blk_params p;
	char name[16];
	char *path;
	struct virtio_mmio_dev *dev;
	int fd;		   /* buffered (and FLUSH, fallocate) */
	int fd_direct;	   /* O_DIRECT, or -1 */
	uint64_t capacity; /* sectors */
	bool failed;	   /* we failed the device: no pops until reset */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config cfg;
	struct virtio_blk_stats st; /* updated with atomic adds */
	struct blk_queue q[VIRTIO_MMIO_MAX_QUEUES];
};

static void blk_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void blk_log(struct virtio_blk *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void blk_log(struct virtio_blk *b, const char *fmt, ...)
{
	char line[256];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "virtio-blk %s: ", b->name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (b->p.link.log)
		b->p.link.log(b->p.link.log_opaque, line);
	else
		fprintf(stderr, "%s\n", line);
}

/*
 * A host I/O error: counted, and logged rate-limited (the first 8, then one
 * in 1024) so a guest hammering a full disk cannot flood the log.
 */
static uint8_t blk_host_error(struct virtio_blk *b, const char *what,
			      uint64_t sector, uint64_t bytes, int err)
{
	uint64_t n = __atomic_add_fetch(&b->st.io_errors, 1, __ATOMIC_RELAXED);

	if (n <= 8 || n % 1024 == 0)
		blk_log(b,
			"%s of %llu bytes at sector %llu: %s (host I/O error "
			"%llu, the guest sees IOERR)",
			what, (unsigned long long)bytes,
			(unsigned long long)sector, strerror(err),
			(unsigned long long)n);
	return VIRTIO_BLK_S_IOERR;
}

static uint8_t blk_bad_request(struct virtio_blk *b)
{
	blk_count(&b->st.bad_requests, 1);
	return VIRTIO_BLK_S_IOERR;
}

static uint8_t blk_unsupported(struct virtio_blk *b)
{
	blk_count(&b->st.unsupported, 1);
	return VIRTIO_BLK_S_UNSUPP;
}

/* Request parsing ----------------------------------------------------------- */

/*
 * Describe bytes [skip, skip + len) of segments @segs[0, nr) as iovecs.
 * The spec lets a driver frame a request any way it likes (virtio 1.x
 * 2.6.4), so header, data and status may share or split descriptors.
 * Return the number of iovecs.
 */
static unsigned blk_iov_range(const struct virtq_seg *segs, unsigned nr,
			      uint64_t skip, uint64_t len, struct iovec *iov)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr && len; i++) {
		uint64_t take = segs[i].len;

		if (skip >= take) {
			skip -= take;
			continue;
		}
		take -= skip;
		if (take > len)
			take = len;
		iov[n].iov_base = (char *)segs[i].host + skip;
		iov[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

/* Copy @len bytes out of (or into) an iovec array. */
static void blk_iov_copy(const struct iovec *iov, unsigned n, void *buf,
			 size_t len, bool to_iov)
{
	char *p = buf;

	for (unsigned i = 0; i < n && len; i++) {
		size_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

		if (to_iov)
			memcpy(iov[i].iov_base, p, take);
		else
			memcpy(p, iov[i].iov_base, take);
		p += take;
		len -= take;
	}
}

/*
 * Check a chain's framing under the device lock, right after the pop: a
 * header of 16 readable bytes and a writable status byte last. Without them
 * there is no request to answer (no status to write), which the spec leaves
 * to the device: we fail the device (NEEDS_RESET). Copies the header once.
 */
static int blk_frame(struct virtio_blk *b, struct blk_req *r, char *why,
		     size_t whylen)
{
	struct virtq_chain *c = &r->chain;
	struct virtq_seg *last;
	unsigned n;

	if (c->read_bytes < BLK_HDR_SIZE) {
		snprintf(why, whylen,
			 "request header of %llu readable bytes, need %zu",
			 (unsigned long long)c->read_bytes, BLK_HDR_SIZE);
		return -EMSGSIZE;
	}
	if (c->write_bytes == 0) {
		snprintf(why, whylen,
			 "no device-writable status byte (the chain ends in a "
			 "read-only buffer)");
		return -EPROTO;
	}
	n = blk_iov_range(c->segs, c->nr_read, 0, BLK_HDR_SIZE, r->iov);
	blk_iov_copy(r->iov, n, &r->hdr, BLK_HDR_SIZE, false);
	last = &c->segs[c->nr_segs - 1];
	r->status_ptr = (uint8_t *)last->host + last->len - 1;
	r->written = 0;
	return 0;
}

/* The byte range of sectors [sector, sector + bytes / 512) on the disk. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector,
			 uint64_t bytes)
{
	uint64_t end;

	if (bytes % VIRTIO_BLK_SECTOR_SIZE)
		return false;
	if (__builtin_add_overflow(sector, bytes >> VIRTIO_BLK_SECTOR_SHIFT,
				   &end))
		return false;
	return end <= b->capacity;
}

/* Data segments: each within size_max; at most seg_max of them. */
static bool blk_segs_ok(const struct iovec *iov, unsigned n)
{
	if (n > VIRTIO_BLK_SEG_MAX)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (iov[i].iov_len > VIRTIO_BLK_SIZE_MAX)
			return false;
	return true;
}

/* O_DIRECT needs 512-aligned memory and lengths; else use the cache. */
static int blk_pick_fd(const struct virtio_blk *b, const struct iovec *iov,
		       unsigned n)
{
	if (b->fd_direct < 0)
		return b->fd;
	for (unsigned i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) &
		    (VIRTIO_BLK_SECTOR_SIZE - 1))
			return b->fd;
	return b->fd_direct;
}

/* Step an iovec array past @done bytes; return the new count. */
static unsigned blk_iov_advance(struct iovec **iovp, unsigned n, size_t done)
{
	struct iovec *iov = *iovp;

	while (n && done >= iov->iov_len) {
		done -= iov->iov_len;
		iov++;
		n--;
	}
	if (n) {
		iov->iov_base = (char *)iov->iov_base + done;
		iov->iov_len -= done;
	}
	*iovp = iov;
	return n;
}

/*
 * The whole transfer, resuming after short transfers and EINTR. A read that
 * hits end of file (the image shrank under us) is an I/O error.
 * Return 0 or a positive errno.
 */
static int blk_rw(int fd, struct iovec *iov, unsigned n, off_t off, bool write,
		  int flags)
{
	while (n) {
		ssize_t done = write ? pwritev2(fd, iov, (int)n, off, flags)
				     : preadv(fd, iov, (int)n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return errno;
		if (done == 0)
			return write ? ENOSPC : EIO;
		off += done;
		n = blk_iov_advance(&iov, n, (size_t)done);
	}
	return 0;
}

/*
 * An IN or OUT request, checked: its data as r->iov[0, r->nr_iov), the file
 * and offset, the flags. Return VIRTIO_BLK_S_OK when it may go ahead.
 */
static uint8_t blk_rw_prepare(struct virtio_blk *b, struct blk_req *r,
			      bool write, uint64_t features)
{
	struct virtq_chain *c = &r->chain;

	r->write = write;
	if (write) {
		r->bytes = c->read_bytes - BLK_HDR_SIZE;
		r->nr_iov = blk_iov_range(c->segs, c->nr_read, BLK_HDR_SIZE,
					  r->bytes, r->iov);
	} else {
		r->bytes = c->write_bytes - 1;
		r->nr_iov = blk_iov_range(c->segs + c->nr_read,
					  c->nr_segs - c->nr_read, 0, r->bytes,
					  r->iov);
	}
	if (write && b->p.readonly)
		return blk_bad_request(b);
	if (!blk_range_ok(b, r->hdr.sector, r->bytes) ||
	    !blk_segs_ok(r->iov, r->nr_iov))
		return blk_bad_request(b);
	r->fd = blk_pick_fd(b, r->iov, r->nr_iov);
	/* Without FLUSH negotiated, a completed write must be stable. */
	r->rw_flags = write && !(features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))
			      ? RWF_DSYNC
			      : 0;
	return VIRTIO_BLK_S_OK;
}

static off_t blk_rw_offset(const struct blk_req *r)
{
	return (off_t)(r->hdr.sector << VIRTIO_BLK_SECTOR_SHIFT);
}

/* Count a finished transfer (@err: 0 or a positive errno). */
static uint8_t blk_rw_finish(struct virtio_blk *b, struct blk_req *r, int err)
{
	if (err)
		return blk_host_error(b, r->write ? "write" : "read",
				      r->hdr.sector, r->bytes, err);
	if (r->write) {
		blk_count(&b->st.writes, 1);
		blk_count(&b->st.bytes_written, r->bytes);
	} else {
		blk_count(&b->st.reads, 1);
		blk_count(&b->st.bytes_read, r->bytes);
		r->written = (uint32_t)r->bytes;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * O_DIRECT refused the request (EINVAL: the filesystem wants a larger
 * alignment than 512 bytes, which it checks before moving any data): do it
 * through the page cache instead. Return 0 or a positive errno.
 */
static int blk_rw_buffered(struct virtio_blk *b, struct blk_req *r,
			   uint64_t features)
{
	blk_rw_prepare(b, r, r->write, features); /* the iovecs afresh */
	r->fd = b->fd;
	return blk_rw(r->fd, r->iov, r->nr_iov, blk_rw_offset(r), r->write,
		      r->rw_flags);
}

static uint8_t blk_do_rw(struct virtio_blk *b, struct blk_req *r, bool write,
			 uint64_t features)
{
	uint8_t status = blk_rw_prepare(b, r, write, features);
	int err;

	if (status != VIRTIO_BLK_S_OK)
		return status;
	err = blk_rw(r->fd, r->iov, r->nr_iov, blk_rw_offset(r), write,
		     r->rw_flags);
	if (err == EINVAL && r->fd == b->fd_direct)
		err = blk_rw_buffered(b, r, features);
	return blk_rw_finish(b, r, err);
}

static uint8_t blk_do_flush(struct virtio_blk *b)
{
	int err = 0;

	while (fdatasync(b->fd) < 0) {
		if (errno != EINTR) {
			err = errno;
			break;
		}
	}
	if (err)
		return blk_host_error(b, "flush", 0, 0, err);
	blk_count(&b->st.flushes, 1);
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_do_get_id(struct virtio_blk *b, struct blk_req *r)
{
	struct virtq_chain *c = &r->chain;
	uint64_t len = c->write_bytes - 1;
	unsigned n;

	if (len > VIRTIO_BLK_ID_BYTES)
		len = VIRTIO_BLK_ID_BYTES;
	n = blk_iov_range(c->segs + c->nr_read, c->nr_segs - c->nr_read, 0, len,
			  r->iov);
	blk_iov_copy(r->iov, n, b->id, len, true);
	r->written = (uint32_t)len;
	blk_count(&b->st.get_ids, 1);
	return VIRTIO_BLK_S_OK;
}

/* Write zeros without fallocate (a filesystem without ZERO_RANGE). */
static int blk_write_zeros(struct virtio_blk *b, off_t off, uint64_t len)
{
	/*
	 * Never written, but not const: in .bss it costs no RSS (reads map
	 * the zero page); in .rodata it would be 64 KiB of the binary that
	 * every VMM's start-up faults in around its neighbours.
	 */
	static char zeros[65536];
	struct iovec iov;
	int err;

	while (len) {
		iov.iov_base = zeros;
		iov.iov_len = len < sizeof(zeros) ? len : sizeof(zeros);
		err = blk_rw(b->fd, &iov, 1, off, true, 0);
		if (err)
			return err;
		off += (off_t)iov.iov_len;
		len -= iov.iov_len;
	}
	return 0;
}

static int blk_fallocate(int fd, int mode, off_t off, uint64_t len)
{
	while (fallocate(fd, mode, off, (off_t)len) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/* One range: DISCARD punches a hole; WRITE_ZEROES makes it read as zeros. */
static int blk_zero_range(struct virtio_blk *b, bool discard,
			  const struct virtio_blk_discard *d)
{
	off_t off = (off_t)(d->sector << VIRTIO_BLK_SECTOR_SHIFT);
	uint64_t len = (uint64_t)d->num_sectors << VIRTIO_BLK_SECTOR_SHIFT;
	int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int err;

	if (discard) {
		err = blk_fallocate(b->fd, punch, off, len);
		/* A discard is a hint: a filesystem without holes ignores it. */
		return err == EOPNOTSUPP ? 0 : err;
	}
	err = EOPNOTSUPP;
	if (d->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
		err = blk_fallocate(b->fd, punch, off, len);
	if (err == EOPNOTSUPP)
		err = blk_fallocate(b->fd,
				    FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				    off, len);
	if (err == EOPNOTSUPP)
		err = blk_write_zeros(b, off, len);
	return err;
}

/*
 * DISCARD and WRITE_ZEROES: an array of ranges after the header. Every range
 * is checked before any is carried out, so a bad one changes nothing.
 */
static uint8_t blk_do_discard(struct virtio_blk *b, struct blk_req *r,
			      bool discard, uint64_t features)
{
	struct virtq_chain *c = &r->chain;
	struct virtio_blk_discard ranges[VIRTIO_BLK_DWZ_MAX_SEG];
	uint64_t bytes = c->read_bytes - BLK_HDR_SIZE;
	unsigned feature =
		discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	uint32_t bad_flags =
		discard ? ~0u : ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	unsigned nr, n;
	int err;

	if (!(features & VIRTIO_BIT(feature)))
		return blk_unsupported(b);
	if (b->p.readonly)
		return blk_bad_request(b);
	if (bytes == 0 || bytes % sizeof(ranges[0]) ||
	    bytes / sizeof(ranges[0]) > VIRTIO_BLK_DWZ_MAX_SEG)
		return blk_bad_request(b);
	nr = (unsigned)(bytes / sizeof(ranges[0]));
	n = blk_iov_range(c->segs, c->nr_read, BLK_HDR_SIZE, bytes, r->iov);
	blk_iov_copy(r->iov, n, ranges, bytes, false);
	for (unsigned i = 0; i < nr; i++) {
		/* Spec: unknown flags, or UNMAP on a discard, are UNSUPP. */
		if (ranges[i].flags & bad_flags)
			return blk_unsupported(b);
		if (ranges[i].num_sectors > VIRTIO_BLK_DWZ_MAX_SECTORS ||
		    !blk_range_ok(b, ranges[i].sector,
				  (uint64_t)ranges[i].num_sectors
					  << VIRTIO_BLK_SECTOR_SHIFT))
			return blk_bad_request(b);
	}
	for (unsigned i = 0; i < nr; i++) {
		err = blk_zero_range(b, discard, &ranges[i]);
		if (err)
			return blk_host_error(
				b, discard ? "discard" : "write-zeroes",
				ranges[i].sector,
				(uint64_t)ranges[i].num_sectors
					<< VIRTIO_BLK_SECTOR_SHIFT,
				err);
	}
	if (!discard && !(features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) &&
	    blk_do_flush(b) != VIRTIO_BLK_S_OK)
		return VIRTIO_BLK_S_IOERR;
	blk_count(discard ? &b->st.discards : &b->st.write_zeroes, 1);
	return VIRTIO_BLK_S_OK;
}

/* Carry out one framed request (no lock held); set r->status, r->written. */
static void blk_execute(struct virtio_blk *b, struct blk_req *r,
			uint64_t features)
{
	switch (r->hdr.type) {
	case VIRTIO_BLK_T_IN:
		r->status = blk_do_rw(b, r, false, features);
		break;
	case VIRTIO_BLK_T_OUT:
		r->status = blk_do_rw(b, r, true, features);
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->status = blk_do_flush(b);
		break;
	case VIRTIO_BLK_T_GET_ID:
		r->status = blk_do_get_id(b, r);
		break;
	case VIRTIO_BLK_T_DISCARD:
		r->status = blk_do_discard(b, r, true, features);
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r->status = blk_do_discard(b, r, false, features);
		break;
	default:
		r->status = blk_unsupported(b);
		break;
	}
	if (r->status != VIRTIO_BLK_S_OK)
		r->written = 0;
}

/* The I/O threads ------------------------------------------------------------ */

/* The guest broke the protocol: NEEDS_RESET, no more pops until reset. */
static void __blk_fail(struct virtio_blk *b, unsigned q, int err,
		       const char *why)
{
	char reason[200];

	snprintf(reason, sizeof(reason), "queue %u: %s", q, why);
	b->failed = true;
	__virtio_mmio_fail(b->dev, err, reason);
}

/*
 * Pop up to BLK_BATCH framed requests, BLK_BATCH_BYTES of them (device lock
 * held), and mark the queue busy, so that a reset waits for them. Return
 * how many.
 */
static unsigned __blk_pop_batch(struct blk_queue *q, uint64_t *generation)
{
	struct virtio_blk *b = q->blk;
	struct virtq *vq = __virtio_mmio_queue(b->dev, q->index);
	char why[160];
	uint64_t bytes = 0;
	unsigned n = 0;
	int err;

	if (b->failed || !vq || !virtq_enabled(vq))
		return 0;
	while (n < BLK_BATCH && bytes < BLK_BATCH_BYTES) {
		struct blk_req *r = &q->reqs[n];

		err = virtq_pop(vq, &r->chain);
		if (err == 0)
			break;
		if (err < 0) {
			__blk_fail(b, q->index, err, virtq_error(vq));
			break;
		}
		err = blk_frame(b, r, why, sizeof(why));
		if (err) {
			__blk_fail(b, q->index, err, why);
			break;
		}
		bytes += r->chain.read_bytes + r->chain.write_bytes;
		n++;
	}
	pthread_mutex_lock(&q->qlock);
	q->busy = n > 0;
	*generation = q->generation;
	pthread_mutex_unlock(&q->qlock);
	return n;
}

/*
 * Status bytes, used ring, one interrupt (device lock held). A batch from
 * before a reset is dropped: its rings and buffers are no longer the
 * driver's.
 */
static void __blk_complete_batch(struct blk_queue *q, unsigned n,
				 uint64_t generation)
{
	struct virtio_blk *b = q->blk;
	struct virtq *vq = __virtio_mmio_queue(b->dev, q->index);
	unsigned pushed = 0;

	if (generation != q->generation)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = &q->reqs[i];

		*r->status_ptr = r->status;
		if (virtq_push(vq, r->chain.head, r->written + 1) == 0)
			pushed++;
	}
	if (pushed && virtq_should_notify(vq))
		__virtio_mmio_interrupt(b->dev, VIRTIO_MMIO_INT_VRING);
}

static void blk_uring_done(void *opaque, uint64_t user_data, int32_t res)
{
	struct blk_queue *q = opaque;

	if (user_data < BLK_BATCH)
		q->reqs[user_data].res = res;
}

/* What the ring did, completed synchronously where it stopped short. */
static int blk_uring_rest(struct virtio_blk *b, struct blk_req *r,
			  uint64_t features)
{
	struct iovec *iov = r->iov;
	unsigned n;

	if (r->res == -EINVAL && r->fd == b->fd_direct)
		return blk_rw_buffered(b, r, features);
	if (r->res < 0)
		return -r->res;
	if ((uint64_t)r->res >= r->bytes)
		return 0;
	n = blk_iov_advance(&iov, r->nr_iov, (size_t)r->res);
	return blk_rw(r->fd, iov, n, blk_rw_offset(r) + r->res, r->write,
		      r->rw_flags);
}

/*
 * A direct disk's batch: every IN and OUT in flight at once on the queue's
 * io_uring, the other requests run synchronously meanwhile. They were all
 * available together, so none had completed when another was sent: a FLUSH
 * need not cover the writes of its own batch (virtio 1.x 5.2.6).
 */
static void blk_execute_uring(struct blk_queue *q, unsigned n,
			      uint64_t features)
{
	struct virtio_blk *b = q->blk;
	int err;

	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = &q->reqs[i];
		uint32_t type = r->hdr.type;

		r->in_ring = false;
		if (type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_OUT) {
			blk_execute(b, r, features);
			continue;
		}
		r->status = blk_rw_prepare(b, r, type == VIRTIO_BLK_T_OUT,
					   features);
		if (r->status != VIRTIO_BLK_S_OK)
			continue;
		r->res = -EIO; /* unless the ring reports otherwise */
		r->in_ring = blk_uring_queue_rw(&q->ring, r->fd, r->iov,
						r->nr_iov, blk_rw_offset(r),
						r->write, r->rw_flags, i) == 0;
		if (!r->in_ring)
			r->status = blk_do_rw(b, r, r->write, features);
	}
	err = blk_uring_run(&q->ring, blk_uring_done, q);
	if (err)
		blk_log(b, "queue %u: io_uring_enter: %s", q->index,
			strerror(-err));
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = &q->reqs[i];

		if (r->in_ring)
			r->status = blk_rw_finish(
				b, r, blk_uring_rest(b, r, features));
	}
}

static void blk_execute_batch(struct blk_queue *q, unsigned n,
			      uint64_t features)
{
	if (q->uring) {
		blk_execute_uring(q, n, features);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		blk_execute(q->blk, &q->reqs[i], features);
}

/* Sleep until kicked or stopped; return false to stop. */
static bool blk_queue_wait(struct blk_queue *q)
{
	bool run;

	pthread_mutex_lock(&q->qlock);
	while (!q->kicked && !q->stop)
		pthread_cond_wait(&q->cond, &q->qlock);
	q->kicked = false;
	run = !q->stop;
	pthread_mutex_unlock(&q->qlock);
	return run;
}

static void blk_queue_idle(struct blk_queue *q)
{
	pthread_mutex_lock(&q->qlock);
	q->busy = false;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->qlock);
}

static void *blk_io_thread(void *arg)
{
	struct blk_queue *q = arg;
	struct virtio_blk *b = q->blk;
	uint64_t generation, features;
	unsigned n;

	vmm_seccomp_enter(VMM_THREAD_BLK_IO);
	while (blk_queue_wait(q)) {
		for (;;) {
			virtio_mmio_lock(b->dev);
			n = __blk_pop_batch(q, &generation);
			features = __virtio_mmio_features(b->dev);
			virtio_mmio_unlock(b->dev);
			if (!n)
				break;
			blk_execute_batch(q, n, features);
			blk_queue_idle(q);
			virtio_mmio_lock(b->dev);
			__blk_complete_batch(q, n, generation);
			virtio_mmio_unlock(b->dev);
		}
	}
	return NULL;
}

/* Transport callbacks (device lock held) ------------------------------------ */

static void blk_notify(struct virtio_mmio_dev *dev, unsigned queue)
{
	struct virtio_blk *b = virtio_mmio_priv(dev);
	struct blk_queue *q = &b->q[queue];

	pthread_mutex_lock(&q->qlock);
	q->kicked = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->qlock);
}

static void blk_reset(struct virtio_mmio_dev *dev)
{
	struct virtio_blk *b = virtio_mmio_priv(dev);

	for (unsigned i = 0; i < b->p.nr_queues; i++) {
		struct blk_queue *q = &b->q[i];

		pthread_mutex_lock(&q->qlock);
		while (q->busy)
			pthread_cond_wait(&q->cond, &q->qlock);
		q->generation++;
		q->kicked = false;
		pthread_mutex_unlock(&q->qlock);
	}
	/* The transport releases the DMA blocks after this returns. */
	b->failed = false;
}

static void blk_config_read(struct virtio_mmio_dev *dev, uint32_t offset,
			    void *data, unsigned len)
{
	struct virtio_blk *b = virtio_mmio_priv(dev);

	memcpy(data, (const char *)&b->cfg + offset, len);
}

static const struct virtio_mmio_ops blk_ops = {
	.notify = blk_notify,
	.reset = blk_reset,
	.config_read = blk_config_read,
};

/* Setup ---------------------------------------------------------------------- */

static int blk_error(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int blk_error(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* An OFD lock: shared for a read-only disk, exclusive for read-write. */
static int blk_lock_image(struct virtio_blk *b, char *err, size_t errlen)
{
	struct flock fl = {
		.l_type = b->p.readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (fcntl(b->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return blk_error(err, errlen, -EBUSY,
				 "disk '%s' is locked by another process "
				 "(another vmm using it%s?)",
				 CLI_Q(b->path),
				 b->p.readonly ? " read-write" : "");
	return blk_error(err, errlen, -errno, "disk '%s': cannot lock: %s",
			 CLI_Q(b->path), strerror(errno));
}

static int blk_open_image(struct virtio_blk *b, char *err, size_t errlen)
{
	int flags = (b->p.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	const char *base;
	struct stat sb;
	int ret;

	b->fd = open(b->path, flags);
	if (b->fd < 0)
		return blk_error(err, errlen, -errno,
				 "cannot open disk '%s': %s", CLI_Q(b->path),
				 strerror(errno));
	if (fstat(b->fd, &sb) < 0)
		return blk_error(err, errlen, -errno, "disk '%s': %s",
				 CLI_Q(b->path), strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return blk_error(err, errlen, -EINVAL,
				 "disk '%s' is not a regular file (raw images "
				 "only)",
				 CLI_Q(b->path));
	if (sb.st_size < (off_t)VIRTIO_BLK_SECTOR_SIZE ||
	    sb.st_size % VIRTIO_BLK_SECTOR_SIZE)
		return blk_error(err, errlen, -EINVAL,
				 "disk '%s' is %lld bytes: a raw image must be "
				 "a nonzero multiple of 512 bytes",
				 CLI_Q(b->path), (long long)sb.st_size);
	ret = blk_lock_image(b, err, errlen);
	if (ret)
		return ret;
	/* Discard and write-zeroes fallocate() the image from blk-io. */
	ret = b->p.readonly
		      ? 0
		      : vmm_seccomp_allow_fallocate(b->fd, VMM_FALLOC_DISK);
	if (ret)
		return blk_error(err, errlen, ret,
				 "disk '%s': seccomp filter for fallocate: %s",
				 CLI_Q(b->path), strerror(-ret));
	b->capacity = (uint64_t)sb.st_size >> VIRTIO_BLK_SECTOR_SHIFT;
	/* The id: the image's name, as a serial number would be. */
	base = strrchr(b->path, '/') ? strrchr(b->path, '/') + 1 : b->path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));
	if (!b->p.direct)
		return 0;
	b->fd_direct = open(b->path, flags | O_DIRECT);
	if (b->fd_direct < 0)
		return blk_error(err, errlen, -errno,
				 "disk '%s': direct: cannot open with O_DIRECT "
				 "(%s)",
				 CLI_Q(b->path), strerror(errno));
	return 0;
}

static void blk_fill_config(struct virtio_blk *b)
{
	b->cfg = (struct virtio_blk_config){
		.capacity = b->capacity,
		.size_max = VIRTIO_BLK_SIZE_MAX,
		.seg_max = VIRTIO_BLK_SEG_MAX,
		.blk_size = VIRTIO_BLK_SECTOR_SIZE,
		.num_queues = (uint16_t)b->p.nr_queues,
		.max_discard_sectors = VIRTIO_BLK_DWZ_MAX_SECTORS,
		.max_discard_seg = VIRTIO_BLK_DWZ_MAX_SEG,
		.discard_sector_alignment = VIRTIO_BLK_DISCARD_ALIGN,
		.max_write_zeroes_sectors = VIRTIO_BLK_DWZ_MAX_SECTORS,
		.max_write_zeroes_seg = VIRTIO_BLK_DWZ_MAX_SEG,
		.write_zeroes_may_unmap = 1,
	};
	b->st.capacity = b->capacity;
}

static uint64_t blk_features(const struct virtio_blk *b)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
		     VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		     VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		     VIRTIO_BIT(VIRTIO_BLK_F_MQ);

	/* A read-only disk has nothing to discard or zero. */
	if (b->p.readonly)
		return f | VIRTIO_BIT(VIRTIO_BLK_F_RO);
	return f | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
	       VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
}

/*
 * A direct disk's requests wait for the device: the io_uring keeps a whole
 * batch in flight. Without io_uring (old kernel, disabled by sysctl), the
 * I/O thread runs them one by one.
 */
static void blk_queue_init_uring(struct blk_queue *q)
{
	int err = blk_uring_init(&q->ring, BLK_BATCH);

	q->uring = err == 0;
	if (err && q->index == 0)
		blk_log(q->blk,
			"io_uring unavailable (%s): direct I/O one "
			"request at a time",
			strerror(-err));
}

static int blk_start_queues(struct virtio_blk *b)
{
	int err;

	for (unsigned i = 0; i < b->p.nr_queues; i++) {
		struct blk_queue *q = &b->q[i];

		for (unsigned r = 0; r < BLK_BATCH; r++)
			q->reqs[r].chain =
				(struct virtq_chain){.segs = q->reqs[r].segs,
						     .max_segs = BLK_MAX_SEGS};
		if (b->p.direct)
			blk_queue_init_uring(q);
		err = pthread_create(&q->thread, NULL, blk_io_thread, q);
		if (err)
			return -err;
		q->started = true;
	}
	return 0;
}

static int blk_create_mmio(struct virtio_blk *b)
{
	struct virtio_mmio_params mp = {
		.name = b->name,
		.device_id = VIRTIO_ID_BLOCK,
		.features = blk_features(b),
		.nr_queues = b->p.nr_queues,
		.config_size = sizeof(struct virtio_blk_config),
		.ops = &blk_ops,
		.priv = b,
	};

	for (unsigned i = 0; i < b->p.nr_queues; i++)
		mp.queue_max[i] = VIRTIO_BLK_QUEUE_SIZE;
	return virtio_vm_mmio_create(&mp, &b->p.link, &b->dev);
}

static struct virtio_blk *blk_alloc(const struct virtio_blk_params *p)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->p = *p;
	b->fd = b->fd_direct = -1;
	snprintf(b->name, sizeof(b->name), "%s", p->name ? p->name : "blk");
	b->path = strdup(p->path);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		b->q[i].blk = b;
		b->q[i].index = i;
		pthread_mutex_init(&b->q[i].qlock, NULL);
		pthread_cond_init(&b->q[i].cond, NULL);
	}
	if (!b->path) {
		virtio_blk_destroy(b);
		return NULL;
	}
	b->p.path = b->path;
	b->p.name = b->name;
	return b;
}

int virtio_blk_create(const struct virtio_blk_params *p,
		      struct virtio_blk **out, char *err, size_t errlen)
{
	struct virtio_blk *b;
	int ret;

	if (!p->path || !p->link.mem || !p->link.irq_set || p->nr_queues == 0 ||
	    p->nr_queues > VIRTIO_MMIO_MAX_QUEUES)
		return blk_error(err, errlen, -EINVAL, "bad disk parameters");
	b = blk_alloc(p);
	if (!b)
		return blk_error(err, errlen, -ENOMEM, "out of memory");
	ret = blk_open_image(b, err, errlen);
	if (!ret) {
		blk_fill_config(b);
		ret = blk_create_mmio(b);
		if (ret)
			blk_error(err, errlen, ret, "disk '%s': %s",
				  CLI_Q(b->path), strerror(-ret));
	}
	if (!ret) {
		ret = blk_start_queues(b);
		if (ret)
			blk_error(err, errlen, ret, "disk '%s': I/O thread: %s",
				  CLI_Q(b->path), strerror(-ret));
	}
	if (ret) {
		virtio_blk_destroy(b);
		return ret;
	}
	*out = b;
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		struct blk_queue *q = &b->q[i];

		if (q->started) {
			pthread_mutex_lock(&q->qlock);
			q->stop = true;
			pthread_cond_signal(&q->cond);
			pthread_mutex_unlock(&q->qlock);
			pthread_join(q->thread, NULL);
		}
		if (q->uring)
			blk_uring_exit(&q->ring);
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->qlock);
	}
	virtio_mmio_destroy(b->dev);
	if (b->fd_direct >= 0)
		close(b->fd_direct);
	if (b->fd >= 0)
		close(b->fd); /* drops the OFD lock */
	free(b->path);
	free(b);
}

struct virtio_mmio_dev *virtio_blk_mmio(struct virtio_blk *b)
{
	return b->dev;
}

static uint64_t blk_read_counter(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *st)
{
	st->reads = blk_read_counter(&b->st.reads);
	st->writes = blk_read_counter(&b->st.writes);
	st->flushes = blk_read_counter(&b->st.flushes);
	st->discards = blk_read_counter(&b->st.discards);
	st->write_zeroes = blk_read_counter(&b->st.write_zeroes);
	st->get_ids = blk_read_counter(&b->st.get_ids);
	st->bytes_read = blk_read_counter(&b->st.bytes_read);
	st->bytes_written = blk_read_counter(&b->st.bytes_written);
	st->io_errors = blk_read_counter(&b->st.io_errors);
	st->bad_requests = blk_read_counter(&b->st.bad_requests);
	st->unsupported = blk_read_counter(&b->st.unsupported);
	st->failures = virtio_mmio_failures(b->dev);
	st->capacity = b->capacity;
}

/* The VM's disks ------------------------------------------------------------- */

_Static_assert(VM_MAX_DISKS <= VIRTIO_BLK_MAX_DISKS,
	       "abi/layout.h has a slot for every --disk");

static struct virtio_blk *vm_disks[VM_MAX_DISKS];

static int virtio_blk_vm_add(struct vm *vm, unsigned i)
{
	const struct vm_disk_config *d = &vm->cfg.disks[i];
	char name[16], err[PATH_MAX + 128] = "";
	struct virtio_blk_params p = {
		.name = name,
		.path = d->path,
		.readonly = d->readonly,
		.direct = d->direct,
		/* One queue per vCPU, as far as the transport has queues. */
		.nr_queues = vm->cfg.nr_vcpus < VIRTIO_MMIO_MAX_QUEUES
				     ? vm->cfg.nr_vcpus
				     : VIRTIO_MMIO_MAX_QUEUES,
		.link = virtio_vm_link(vm, VIRTIO_BLK_MMIO_BASE(i),
				       VIRTIO_BLK_IRQ(i), VIRTIO_BLK_DMA_ID(i)),
	};
	int ret;

	snprintf(name, sizeof(name), "blk%u", i);
	ret = virtio_blk_create(&p, &vm_disks[i], err, sizeof(err));
	if (ret) {
		fprintf(stderr, "vmm: %s\n", err);
		return ret;
	}
	ret = virtio_vm_attach(vm, &vm_disks[i]->p.link, vm_disks[i]->dev);
	if (ret)
		fprintf(stderr, "vmm: virtio-blk %s: %s\n", name,
			strerror(-ret));
	return ret;
}

/* A disk's counters in --stats (blkN_<name>) and the API's host.blk. */
static const struct stat_field virtio_blk_stat_fields[] = {
	STAT_FIELD_AS("capacity_sectors", struct virtio_blk_stats, capacity),
	STAT_FIELD(struct virtio_blk_stats, reads),
	STAT_FIELD(struct virtio_blk_stats, writes),
	STAT_FIELD(struct virtio_blk_stats, flushes),
	STAT_FIELD(struct virtio_blk_stats, discards),
	STAT_FIELD(struct virtio_blk_stats, write_zeroes),
	STAT_FIELD(struct virtio_blk_stats, bytes_read),
	STAT_FIELD(struct virtio_blk_stats, bytes_written),
	STAT_FIELD(struct virtio_blk_stats, io_errors),
	STAT_FIELD(struct virtio_blk_stats, bad_requests),
	STAT_FIELD(struct virtio_blk_stats, unsupported),
	STAT_FIELD(struct virtio_blk_stats, failures),
};

static const struct stat_table virtio_blk_stat_table =
	STAT_TABLE(virtio_blk_stat_fields);

/* One disk's object in host.blk: its image, then its counters. */
static json_t *virtio_blk_vm_api_disk(unsigned i,
				      const struct virtio_blk_stats *st)
{
	json_t *disk = json_pack("{s:s, s:b}", "path", vm_disks[i]->path,
				 "readonly", vm_disks[i]->p.readonly);

	if (disk && stat_fields_json_set(disk, &virtio_blk_stat_table, st)) {
		json_decref(disk);
		disk = NULL;
	}
	return disk;
}

/* The API's host.blk: one object per disk, the --stats counters. */
static json_t *virtio_blk_vm_api_stat(void)
{
	json_t *disks = json_array();
	struct virtio_blk_stats st;

	for (unsigned i = 0; disks && virtio_blk_vm_stats(i, &st); i++)
		json_array_append_new(disks, virtio_blk_vm_api_disk(i, &st));
	return disks;
}

int virtio_blk_vm_init(struct vm *vm)
{
	int ret = 0;

	for (unsigned i = 0; i < vm->cfg.nr_disks && !ret; i++)
		ret = virtio_blk_vm_add(vm, i);
	if (ret) {
		virtio_blk_vm_exit(vm);
		return ret;
	}
	if (vm->cfg.nr_disks)
		api_vm_set_blk_stat(virtio_blk_vm_api_stat);
	return 0;
}

void virtio_blk_vm_exit(struct vm *vm)
{
	api_vm_set_blk_stat(NULL);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		virtio_blk_destroy(vm_disks[i]);
		vm_disks[i] = NULL;
	}
}

bool virtio_blk_vm_stats(unsigned i, struct virtio_blk_stats *st)
{
	if (i >= VM_MAX_DISKS || !vm_disks[i])
		return false;
	virtio_blk_get_stats(vm_disks[i], st);
	return true;
}

/* --stats: each disk's counters, prefixed blkN_. */
static void virtio_blk_vm_print(struct vm *vm, enum vm_stats_place place,
				FILE *out)
{
	struct virtio_blk_stats st;

	if (place != VM_STATS_VIRTIO)
		return;
	for (unsigned i = 0; virtio_blk_vm_stats(i, &st); i++) {
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "blk%u_", i);
		stat_fields_print(out, prefix, &virtio_blk_stat_table, &st);
	}
}

const struct vm_stats_ops virtio_blk_vm_stats_ops = {
	.print = virtio_blk_vm_print,
};
