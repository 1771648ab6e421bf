// SPDX-License-Identifier: MIT
/*
 * workload=blk: write the seeded pattern (abi/blk_pattern.h) over a disk
 * with mixed request sizes (4 KiB .. 4 MiB, many in flight), FLUSH, read it
 * all back and compare every byte. With several vCPUs and VIRTIO_BLK_F_MQ,
 * each vCPU takes a slice of the disk on its own queue. Before that, the
 * first MiB gets WRITE_ZEROES (read back as zeros) and DISCARD when the
 * device offers them; the pattern pass then overwrites it, so the image
 * holds exactly the pattern afterwards for the host to check.
 *
 * Options: blk.disk=N (Nth virtio-blk device, default 0), blk.seed=N
 * (pattern seed, default BLK_PATTERN_SEED_DEFAULT), blk.mib=N (only the
 * first N MiB), blk.qd=N (requests in flight per queue, default 32),
 * blk.dma_mib=N (data buffers per queue, default 16 MiB), blk.features=MASK
 * (negotiate only these, e.g. without EVENT_IDX or MQ), blk.poll_us=N (poll
 * the used ring that long before halting, default 50). For the host's
 * tests: blk.hold=1 idles forever after "blk: flush complete" (the test
 * kills the VMM there); blk.expect_ioerr=1 counts IOERR answers instead of
 * failing (a full host disk), then checks one read still works. A
 * read-only disk (VIRTIO_BLK_F_RO) is only verified (the host wrote the
 * pattern), then one write must be refused with IOERR.
 *
 * workload=blk-bench: sequential and random reads and writes of 4 KiB,
 * 64 KiB and 1 MiB on queue 0, for blk-bench.secs (default 2) each, over
 * the first blk-bench.mib MiB (default: the disk, at most 1 GiB); random
 * 4 KiB at queue depth 32, the others at 4 (blk-bench.qd=N: all at N;
 * blk-bench.rw=randread and blk-bench.bs=4096 pick cases). One line per
 * case:
 *   blk-bench: rw=randread bs=4096 qd=32 iops=N mbps=N.N notifies=N halts=N
 * Writes write buffers filled once (the pattern of other offsets), so the
 * I/O path is measured, not the guest making data; the image afterwards
 * is not the pattern.
 */
#include "abi/blk_pattern.h"
#include "guest.h"
#include "guest/virtio/blk.h"
#include "mm/errno.h"
#include "mm/fmt.h"
#include "mm/port.h"
#include "mm_stack.h"
#include "prng.h"

#define BLK_MAX_BUFS 64
#define BLK_MAX_QD   128
#define BLK_MIB	     (1ull << 20)
#define BLK_TIMEOUT  10000 /* ms without any completion: a dead device */

/* One request of a pass and the buffer it sits in. */
struct blk_io {
	struct gblk_req req;
	uint64_t off; /* disk byte offset */
	unsigned buf;
};

/* One vCPU's share of a pass: [start, end) of the disk on queue q. */
struct blk_job {
	struct gblk_disk *d;
	unsigned q;
	uint64_t start, end;
	bool verify;
	uint64_t seed;
	struct guest_rng rng;
	unsigned qd;
	/* Data buffers, filled in turn: a ring of DMA blocks. */
	uint8_t *bufs[BLK_MAX_BUFS];
	unsigned refs[BLK_MAX_BUFS];
	unsigned nbufs;
	uint64_t buf_bytes;
	unsigned cur;
	uint64_t cur_off;
	struct blk_io ios[BLK_MAX_QD];
	struct blk_io *free_ios[BLK_MAX_QD];
	unsigned nr_free_ios;
	uint64_t bytes, requests, ioerrs;
	bool expect_ioerr;
	int err;
};

static struct blk_job blk_jobs[GV_MAX_QUEUES];
static unsigned blk_jobs_done;

/* The pattern, 8 bytes at a time: requests are sector-aligned. */
static void blk_fill(uint8_t *buf, uint64_t off, uint64_t len, uint64_t seed)
{
	uint64_t *w = (uint64_t *)buf, first = off / 8;

	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = blk_pattern_word(seed, first + i);
}

/* First wrong byte of @buf as disk bytes [off, off + len), or len. */
static uint64_t blk_check(const uint8_t *buf, uint64_t off, uint64_t len,
			  uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)buf;
	uint64_t first = off / 8;

	for (uint64_t i = 0; i < len / 8; i++)
		if (w[i] != blk_pattern_word(seed, first + i))
			return i * 8 + blk_pattern_check(buf + i * 8,
							 off + i * 8, 8, seed);
	return len;
}

/* A reproducible sequence: the workloads' xorshift, seeded from @seed. */
static void blk_rng_seed(struct guest_rng *r, uint64_t seed)
{
	r->state = blk_pattern_mix(seed) | 1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Mixed sizes, 4 KiB .. 4 MiB, small ones more often (as a file system). */
static uint64_t blk_next_size(struct blk_job *j, uint64_t left)
{
	static const uint64_t sizes[] = {
		4096,	4096,	8192,	16384,	 32768,	  65536,   65536,
		131072, 262144, 524288, 1048576, 2097152, 4194304, 4194304,
	};
	uint64_t s = sizes[guest_rng_below(&j->rng, MM_ARRAY_SIZE(sizes))];

	s = min_u64(s, gblk_info(j->d)->max_transfer);
	s = min_u64(s, j->buf_bytes);
	return min_u64(s, left);
}

/* Room for @len bytes in the buffer ring, or NULL while it is all busy. */
static uint8_t *blk_take_buf(struct blk_job *j, uint64_t len, unsigned *buf)
{
	if (j->cur_off + len > j->buf_bytes) {
		unsigned next = (j->cur + 1) % j->nbufs;

		if (j->refs[next])
			return NULL;
		j->cur = next;
		j->cur_off = 0;
	}
	if (j->refs[j->cur] && j->cur_off == 0)
		return NULL;
	*buf = j->cur;
	j->refs[j->cur]++;
	j->cur_off += len;
	return j->bufs[*buf] + j->cur_off - len;
}

static int blk_alloc_bufs(struct blk_job *j, uint64_t dma_bytes)
{
	const struct gblk_info *in = gblk_info(j->d);

	j->buf_bytes = min_u64(4 * BLK_MIB, in->max_transfer);
	j->nbufs = (unsigned)min_u64(dma_bytes / j->buf_bytes, BLK_MAX_BUFS);
	if (j->nbufs < 2)
		j->nbufs = 2;
	for (unsigned i = 0; i < j->nbufs; i++) {
		int err = gblk_dma_alloc(j->d, j->buf_bytes,
					 (void **)&j->bufs[i]);

		if (err) {
			guest_printf("blk: DMA buffer %u of %llu bytes: %d\n",
				     i, (unsigned long long)j->buf_bytes, err);
			if (i < 2)
				return err;
			j->nbufs = i;
			break;
		}
	}
	return 0;
}

static void blk_free_bufs(struct blk_job *j)
{
	for (unsigned i = 0; i < j->nbufs; i++)
		gblk_dma_free(j->d, j->buf_bytes, j->bufs[i]);
	j->nbufs = 0;
}

/* A completed request: its status, and in a verify pass its bytes. */
static void blk_complete(struct blk_job *j, struct blk_io *io)
{
	struct gblk_req *r = &io->req;

	if (r->status == VIRTIO_BLK_S_IOERR && j->expect_ioerr) {
		j->ioerrs++;
		j->refs[io->buf]--;
		j->free_ios[j->nr_free_ios++] = io;
		return;
	}
	if (r->status != VIRTIO_BLK_S_OK)
		guest_fail(__FILE__, __LINE__,
			   "blk: %s of %u bytes at %llu: status %u",
			   r->type == VIRTIO_BLK_T_IN ? "read" : "write",
			   r->len, (unsigned long long)io->off, r->status);
	if (j->verify) {
		uint64_t bad = blk_check(r->buf, io->off, r->len, j->seed);

		if (bad != r->len)
			guest_fail(__FILE__, __LINE__,
				   "blk: disk byte %llu is 0x%02x, the pattern "
				   "says 0x%02x (read of %u bytes at %llu)",
				   (unsigned long long)(io->off + bad),
				   ((uint8_t *)r->buf)[bad],
				   blk_pattern_byte(j->seed, io->off + bad),
				   r->len, (unsigned long long)io->off);
	}
	j->refs[io->buf]--;
	j->bytes += r->len;
	j->requests++;
	j->free_ios[j->nr_free_ios++] = io;
}

/* Submit requests until the queue depth, the buffers or the range end. */
static uint64_t blk_submit_more(struct blk_job *j, uint64_t off)
{
	while (off < j->end && j->nr_free_ios) {
		uint64_t len = blk_next_size(j, j->end - off);
		struct blk_io *io = j->free_ios[j->nr_free_ios - 1];
		uint8_t *p = blk_take_buf(j, len, &io->buf);
		int err;

		if (!p)
			break;
		io->off = off;
		io->req = (struct gblk_req){
			.type = j->verify ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
			.sector = off >> VIRTIO_BLK_SECTOR_SHIFT,
			.buf = p,
			.len = (uint32_t)len,
			.priv = io,
		};
		if (!j->verify)
			blk_fill(p, off, len, j->seed);
		err = gblk_submit(j->d, j->q, &io->req);
		if (err == -ENOSPC) {
			j->refs[io->buf]--;
			j->cur_off -= len;
			break;
		}
		if (err)
			guest_fail(__FILE__, __LINE__, "blk: submit: %d", err);
		j->nr_free_ios--;
		off += len;
	}
	gblk_kick(j->d, j->q);
	return off;
}

/* One pass over the job's range: all requests written or verified. */
static void blk_pass(struct blk_job *j)
{
	struct gblk_req *done[BLK_MAX_QD];
	uint64_t off = j->start;

	j->nr_free_ios = j->qd;
	for (unsigned i = 0; i < j->qd; i++)
		j->free_ios[i] = &j->ios[i];
	j->cur = 0;
	j->cur_off = 0;
	memset(j->refs, 0, sizeof(j->refs));
	j->bytes = j->requests = j->ioerrs = 0;
	blk_rng_seed(&j->rng, j->seed ^ (j->verify ? 0x5a5a : 0) ^ j->q);
	while (off < j->end || gblk_inflight(j->d, j->q)) {
		unsigned n, inflight;

		off = blk_submit_more(j, off);
		inflight = gblk_inflight(j->d, j->q);
		/* Half the queue back before refilling: fewer wakeups. */
		j->err = gblk_wait(j->d, j->q, inflight > 1 ? inflight / 2 : 1,
				   BLK_TIMEOUT);
		if (j->err)
			return;
		n = gblk_reap(j->d, j->q, done, BLK_MAX_QD);
		for (unsigned i = 0; i < n; i++)
			blk_complete(j, done[i]->priv);
	}
}

static void blk_job_run(void *arg)
{
	struct blk_job *j = arg;

	blk_pass(j);
	if (guest_cpu_id() != 0)
		smp_signal_done(&blk_jobs_done);
}

/* Run every job's pass, each on its queue's vCPU; return total bytes. */
static uint64_t blk_run_jobs(unsigned nr_jobs, bool verify, uint64_t *ioerrs)
{
	uint64_t bytes = 0;

	__atomic_store_n(&blk_jobs_done, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < nr_jobs; i++) {
		blk_jobs[i].verify = verify;
		if (i)
			smp_run_on(i, blk_job_run, &blk_jobs[i]);
	}
	blk_job_run(&blk_jobs[0]);
	if (nr_jobs > 1 && !smp_wait_count(&blk_jobs_done, nr_jobs - 1, 600000))
		guest_fail(__FILE__, __LINE__, "blk: a vCPU did not finish");
	for (unsigned i = 0; i < nr_jobs; i++) {
		if (blk_jobs[i].err)
			guest_fail(__FILE__, __LINE__, "blk: queue %u: %d", i,
				   blk_jobs[i].err);
		bytes += blk_jobs[i].bytes;
		*ioerrs += blk_jobs[i].ioerrs;
	}
	return bytes;
}

static uint64_t blk_ms(uint64_t t0)
{
	return (rdtsc() - t0) / guest_tsc_khz();
}

/*
 * What the disk offers. Without SIZE_MAX (QEMU's device offers none) a
 * segment may be as large as a descriptor, so the request size the driver
 * computes is no real limit: say so instead of printing it.
 */
static void blk_print_info(const char *prefix, unsigned disk,
			   const struct gblk_info *in)
{
	char max[48] = "no device limit";

	if (in->size_max)
		mm_snprintf(max, sizeof(max), "%llu bytes",
			    (unsigned long long)in->max_transfer);
	guest_printf("%s: disk %u: %llu sectors, features 0x%llx, %u "
		     "queue(s) of %u, max request %s, seg_max %u, "
		     "size_max %u%s\n",
		     prefix, disk, (unsigned long long)in->capacity,
		     (unsigned long long)in->features, in->nr_queues,
		     in->queue_size, max, in->seg_max, in->size_max,
		     in->read_only ? ", read-only" : "");
}

/* "N.N" MB/s (10^6 bytes) for @bytes in @ms. */
static void blk_print_rate(const char *what, uint64_t bytes, uint64_t ms)
{
	uint64_t tenths = ms ? bytes / 100 / ms : 0;

	guest_printf("blk: %s: %llu bytes in %llu ms, %llu.%llu MB/s\n", what,
		     (unsigned long long)bytes, (unsigned long long)ms,
		     (unsigned long long)(tenths / 10),
		     (unsigned long long)(tenths % 10));
}

static struct gblk_disk *blk_open(const char *prefix)
{
	struct gblk_disk *d;
	char key[32];
	unsigned disk;
	int err;

	err = guest_mm_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	mm_snprintf(key, sizeof(key), "%s.disk", prefix);
	disk = (unsigned)guest_cmdline_ulong(key, 0);
	/* Fewer features than offered, to test the other paths (0: all). */
	mm_snprintf(key, sizeof(key), "%s.features", prefix);
	err = gblk_open(disk, guest_cmdline_ulong(key, 0), &d);
	mm_snprintf(key, sizeof(key), "%s.poll_us", prefix);
	if (!err && guest_cmdline_ulong(key, ~0ul) != ~0ul)
		gblk_set_poll_us(d, (unsigned)guest_cmdline_ulong(key, 0));
	if (err)
		guest_fail(__FILE__, __LINE__,
			   "%s: no virtio-blk disk %u (%d): run the VMM with "
			   "--disk IMAGE",
			   prefix, disk, err);
	blk_print_info(prefix, disk, gblk_info(d));
	return d;
}

/* One request on queue 0 that must succeed (or, for @raw, get @want). */
static void blk_one(struct gblk_disk *d, uint32_t type, void *buf, uint32_t len,
		    bool raw, int want, const char *what)
{
	struct gblk_req r = {.type = type, .buf = buf, .len = len, .raw = raw};
	int st = gblk_rw(d, 0, &r);

	if (st != want)
		guest_fail(__FILE__, __LINE__, "blk: %s: status %d, want %d",
			   what, st, want);
}

/* WRITE_ZEROES or DISCARD (@type) of disk bytes [0, @len): must succeed. */
static void blk_one_range(struct gblk_disk *d, uint32_t type, void *buf,
			  uint64_t len, const char *what)
{
	struct virtio_blk_discard *rng = buf;

	*rng = (struct virtio_blk_discard){0, (uint32_t)(len / 512), 0};
	blk_one(d, type, rng, sizeof(*rng), false, VIRTIO_BLK_S_OK, what);
}

/* GET_ID, and WRITE_ZEROES / DISCARD of the first MiB when offered. */
static void blk_exercise(struct gblk_disk *d, uint64_t region)
{
	const struct gblk_info *in = gblk_info(d);
	uint64_t len = min_u64(BLK_MIB, region);
	struct gblk_req r;
	uint8_t *buf;
	int st;

	GUEST_ASSERT_EQ(gblk_dma_alloc(d, BLK_MIB, (void **)&buf), 0);
	r = (struct gblk_req){.type = VIRTIO_BLK_T_GET_ID,
			      .buf = buf,
			      .len = VIRTIO_BLK_ID_BYTES};
	st = gblk_rw(d, 0, &r);
	buf[VIRTIO_BLK_ID_BYTES] = 0;
	guest_printf("blk: GET_ID status %d, id '%s'\n", st,
		     st == VIRTIO_BLK_S_OK ? (char *)buf : "");
	if (in->features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) &&
	    len / 512 <= in->max_write_zeroes_sectors) {
		blk_one_range(d, VIRTIO_BLK_T_WRITE_ZEROES, buf, len,
			      "WRITE_ZEROES");
		memset(buf, 0xa5, len);
		blk_one(d, VIRTIO_BLK_T_IN, buf, (uint32_t)len, false,
			VIRTIO_BLK_S_OK, "read after WRITE_ZEROES");
		for (uint64_t i = 0; i < len; i++)
			if (buf[i])
				guest_fail(__FILE__, __LINE__,
					   "blk: byte %llu not zero after "
					   "WRITE_ZEROES",
					   (unsigned long long)i);
		guest_printf("blk: WRITE_ZEROES of %llu bytes read back as "
			     "zeros\n",
			     (unsigned long long)len);
	}
	if (in->features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) &&
	    len / 512 <= in->max_discard_sectors) {
		blk_one_range(d, VIRTIO_BLK_T_DISCARD, buf, len, "DISCARD");
		guest_printf("blk: DISCARD of %llu bytes ok\n",
			     (unsigned long long)len);
	}
	gblk_dma_free(d, BLK_MIB, buf);
}

/*
 * The largest DMA buffer (beyond one buddy block: a contiguous range) is
 * granted while RAM is plentiful. (blk-hostile checks that more is -E2BIG.)
 */
static void blk_dma_largest(struct gblk_disk *d)
{
	uint64_t max = dma_max_coherent(&gblk_gv(d)->dma);
	void *p;
	int err;

	if (guest_boot.ram_bytes < 4 * max)
		return;
	/* Memory may be short (--mem-limit): say so, go on. */
	err = gblk_dma_alloc(d, max, &p);
	if (err == 0) {
		memset(p, 0x5a, max);
		GUEST_ASSERT_EQ(gblk_dma_free(d, max, p), 0);
	}
	guest_printf("blk: one DMA buffer of %llu MiB: %s (%d)\n",
		     (unsigned long long)(max >> 20), err ? "refused" : "ok",
		     err);
	if (err && err != -ENOMEM && err != -EDQUOT && err != -EBUSY)
		guest_fail(__FILE__, __LINE__,
			   "blk: DMA buffer of %llu MiB: %d",
			   (unsigned long long)(max >> 20), err);
}

/*
 * After close the disk holds no DMA memory but, native, its rings (the
 * library keeps them for the next probe): nothing leaked.
 */
static void blk_check_dma_released(struct gblk_disk *d, unsigned nq)
{
	uint64_t held = dma_bytes_held(&gblk_gv(d)->dma);
	uint64_t rings = guest_boot.native ? nq * 16384ull : 0;

	if (held != rings)
		guest_fail(__FILE__, __LINE__,
			   "blk: %llu bytes of DMA memory still held after "
			   "close, want %llu",
			   (unsigned long long)held, (unsigned long long)rings);
}

/* Split [0, region) over the queues, in whole MiB where possible. */
static unsigned blk_setup_jobs(struct gblk_disk *d, uint64_t region,
			       uint64_t seed)
{
	unsigned nq = gblk_info(d)->nr_queues;
	uint64_t share = region / nq & ~(BLK_MIB - 1);
	uint64_t dma = guest_cmdline_ulong("blk.dma_mib", 16) * BLK_MIB;
	unsigned qd = (unsigned)guest_cmdline_ulong("blk.qd", 32);
	bool expect_ioerr = guest_cmdline_ulong("blk.expect_ioerr", 0);

	if (share == 0)
		nq = 1;
	if (qd < 1 || qd > BLK_MAX_QD)
		guest_fail(__FILE__, __LINE__, "blk.qd=%u: 1 .. %u", qd,
			   BLK_MAX_QD);
	for (unsigned i = 0; i < nq; i++) {
		struct blk_job *j = &blk_jobs[i];

		*j = (struct blk_job){.d = d,
				      .q = i,
				      .seed = seed,
				      .qd = qd,
				      .expect_ioerr = expect_ioerr};
		j->start = i * share;
		j->end = i + 1 == nq ? region : (i + 1) * share;
		if (blk_alloc_bufs(j, dma / nq))
			guest_fail(__FILE__, __LINE__,
				   "blk: no DMA buffers for queue %u", i);
	}
	return nq;
}

/*
 * A read-only disk: the host wrote the pattern; read it all back, then one
 * write (past the driver's own check) must come back IOERR.
 */
static void blk_run_read_only(struct gblk_disk *d, unsigned nq, uint64_t region)
{
	uint64_t t0 = rdtsc(), ioerrs = 0, bytes;
	uint8_t *buf = blk_jobs[0].bufs[0];

	bytes = blk_run_jobs(nq, true, &ioerrs);
	GUEST_ASSERT_EQ(bytes, region);
	blk_print_rate("verify ok", bytes, blk_ms(t0));
	blk_one(d, VIRTIO_BLK_T_OUT, buf, 4096, true, VIRTIO_BLK_S_IOERR,
		"write to the read-only disk");
	guest_printf("blk: read-only: write refused\n");
}

/* After IOERRs (a full host disk): say how many; one read still works. */
static void blk_report_ioerrs(struct gblk_disk *d, uint64_t ioerrs)
{
	guest_printf("blk: %llu requests got IOERR\n",
		     (unsigned long long)ioerrs);
	blk_one(d, VIRTIO_BLK_T_IN, blk_jobs[0].bufs[0], 4096, false,
		VIRTIO_BLK_S_OK, "read after IOERR");
	guest_printf("blk: read after IOERR ok\n");
}

static void blk_flush(struct gblk_disk *d, uint64_t *ioerrs)
{
	struct gblk_req flush = {.type = VIRTIO_BLK_T_FLUSH};
	uint64_t t0 = rdtsc();
	int st;

	if (!(gblk_info(d)->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))) {
		guest_printf("blk: no FLUSH offered: write-through disk\n");
		return;
	}
	st = gblk_rw(d, 0, &flush);
	if (st == VIRTIO_BLK_S_IOERR && blk_jobs[0].expect_ioerr) {
		++*ioerrs;
		guest_printf("blk: flush got IOERR\n");
		return;
	}
	GUEST_ASSERT_EQ(st, VIRTIO_BLK_S_OK);
	guest_printf("blk: flush complete (%llu ms)\n",
		     (unsigned long long)blk_ms(t0));
}

static void blk_print_stats(struct gblk_disk *d)
{
	struct gblk_stats st;

	gblk_get_stats(d, &st);
	guest_printf(
		"blk: %llu requests, %llu kicks, %llu notifies, %llu "
		"waits, %llu halts\n",
		(unsigned long long)st.completed, (unsigned long long)st.kicks,
		(unsigned long long)st.notifies, (unsigned long long)st.waits,
		(unsigned long long)st.halts);
}

static void blk_run(void)
{
	struct gblk_disk *d = blk_open("blk");
	const struct gblk_info *in = gblk_info(d);
	uint64_t seed =
		guest_cmdline_ulong("blk.seed", BLK_PATTERN_SEED_DEFAULT);
	uint64_t region = in->capacity << VIRTIO_BLK_SECTOR_SHIFT;
	uint64_t mib = guest_cmdline_ulong("blk.mib", 0), bytes = 0, t0;
	uint64_t ioerrs = 0;
	unsigned nq;

	if (mib && mib * BLK_MIB < region)
		region = mib * BLK_MIB;
	region &= ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
	guest_printf("blk: seed 0x%llx, %llu bytes\n", (unsigned long long)seed,
		     (unsigned long long)region);
	blk_dma_largest(d);
	if (!in->read_only)
		blk_exercise(d, region);
	nq = blk_setup_jobs(d, region, seed);
	if (in->read_only) {
		blk_run_read_only(d, nq, region);
	} else {
		t0 = rdtsc();
		bytes = blk_run_jobs(nq, false, &ioerrs);
		blk_print_rate("write done", bytes, blk_ms(t0));
		blk_flush(d, &ioerrs);
		if (guest_cmdline_ulong("blk.hold", 0)) {
			guest_printf("blk: holding (blk.hold=1)\n");
			for (;;)
				guest_wait_for_interrupt();
		}
	}
	if (ioerrs) {
		blk_report_ioerrs(d, ioerrs);
	} else if (!in->read_only) {
		GUEST_ASSERT_EQ(bytes, region);
		t0 = rdtsc();
		bytes = blk_run_jobs(nq, true, &ioerrs);
		GUEST_ASSERT_EQ(bytes, region);
		blk_print_rate("verify ok", bytes, blk_ms(t0));
	}
	blk_print_stats(d);
	for (unsigned i = 0; i < nq; i++)
		blk_free_bufs(&blk_jobs[i]);
	gblk_close(d);
	blk_check_dma_released(d, nq);
	guest_printf("blk: done\n");
}
GUEST_WORKLOAD(blk, "blk",
	       "seeded pattern over a virtio-blk disk, flush, read back, "
	       "compare",
	       blk_run);

/* --- blk-bench ------------------------------------------------------------ */

struct bench_case {
	const char *rw;
	bool write, random;
	uint32_t bs;
	unsigned qd;
};

static const struct bench_case bench_cases[] = {
	{"read", false, false, 4096, 4},
	{"write", true, false, 4096, 4},
	{"randread", false, true, 4096, 32},
	{"randwrite", true, true, 4096, 32},
	{"read", false, false, 65536, 4},
	{"write", true, false, 65536, 4},
	{"randread", false, true, 65536, 4},
	{"randwrite", true, true, 65536, 4},
	{"read", false, false, 1048576, 4},
	{"write", true, false, 1048576, 4},
	{"randread", false, true, 1048576, 4},
	{"randwrite", true, true, 1048576, 4},
};

struct bench_state {
	struct gblk_disk *d;
	const struct bench_case *c;
	unsigned qd;	/* the case's, or blk-bench.qd */
	unsigned batch; /* completions to wait for (0: half the depth) */
	uint64_t region, next, seed;
	struct guest_rng rng;
	struct gblk_req reqs[BLK_MAX_QD];
	uint8_t *bufs[BLK_MAX_QD];
};

/* The offset of the next request: in turn, or uniform over the region. */
static uint64_t bench_offset(struct bench_state *b)
{
	uint64_t slots = b->region / b->c->bs, off;

	if (b->c->random)
		return guest_rng_below(&b->rng, slots) * b->c->bs;
	off = b->next;
	b->next = (b->next + b->c->bs) % (slots * b->c->bs);
	return off;
}

static void bench_submit(struct bench_state *b, struct gblk_req *r)
{
	uint64_t off = bench_offset(b);

	r->type = b->c->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r->sector = off >> VIRTIO_BLK_SECTOR_SHIFT;
	r->len = b->c->bs;
	GUEST_ASSERT_EQ(gblk_submit(b->d, 0, r), 0);
}

static void bench_run_case(struct bench_state *b, uint64_t secs)
{
	const struct bench_case *c = b->c;
	uint64_t t0, end, ops = 0, ms, tenths;
	unsigned batch;
	struct gblk_stats st0, st;
	struct gblk_req *done[BLK_MAX_QD];

	for (unsigned i = 0; i < b->qd; i++) {
		GUEST_ASSERT_EQ(
			gblk_dma_alloc(b->d, c->bs, (void **)&b->bufs[i]), 0);
		b->reqs[i] = (struct gblk_req){.buf = b->bufs[i]};
		/* Data once, not per request: the guest's CPU is not measured. */
		blk_fill(b->bufs[i], (uint64_t)i * c->bs, c->bs, b->seed);
	}
	b->next = 0;
	t0 = rdtsc();
	end = t0 + secs * 1000 * guest_tsc_khz();
	batch = b->batch ? b->batch : (b->qd + 1) / 2;
	gblk_get_stats(b->d, &st0);
	for (unsigned i = 0; i < b->qd; i++)
		bench_submit(b, &b->reqs[i]);
	gblk_kick(b->d, 0);
	while (gblk_inflight(b->d, 0)) {
		unsigned n;
		bool more = rdtsc() < end;

		GUEST_ASSERT_EQ(
			gblk_wait(b->d, 0, more ? batch : b->qd, BLK_TIMEOUT),
			0);
		n = gblk_reap(b->d, 0, done, BLK_MAX_QD);
		for (unsigned i = 0; i < n; i++) {
			if (done[i]->status != VIRTIO_BLK_S_OK)
				guest_fail(__FILE__, __LINE__,
					   "blk-bench: %s: status %u", c->rw,
					   done[i]->status);
			ops++;
			if (more)
				bench_submit(b, done[i]);
		}
		if (more)
			gblk_kick(b->d, 0);
	}
	ms = blk_ms(t0);
	tenths = ms ? ops * c->bs / 100 / ms : 0;
	gblk_get_stats(b->d, &st);
	/* Then what it cost: notifications (exits) and halts per request. */
	guest_printf("blk-bench: rw=%s bs=%u qd=%u iops=%llu mbps=%llu.%llu "
		     "notifies=%llu halts=%llu\n",
		     c->rw, c->bs, b->qd,
		     (unsigned long long)(ms ? ops * 1000 / ms : 0),
		     (unsigned long long)(tenths / 10),
		     (unsigned long long)(tenths % 10),
		     (unsigned long long)(st.notifies - st0.notifies),
		     (unsigned long long)(st.halts - st0.halts));
	for (unsigned i = 0; i < b->qd; i++)
		gblk_dma_free(b->d, c->bs, b->bufs[i]);
}

static void blk_bench_run(void)
{
	static struct bench_state b;
	const struct gblk_info *in;
	uint64_t secs = guest_cmdline_ulong("blk-bench.secs", 2);
	uint64_t mib = guest_cmdline_ulong("blk-bench.mib", 1024);
	/* One case, or another depth: for comparisons (fio, tuning). */
	char rw[16];
	bool only_rw = guest_cmdline_get("blk-bench.rw", rw, sizeof(rw));
	uint64_t only_bs = guest_cmdline_ulong("blk-bench.bs", 0);
	unsigned qd = (unsigned)guest_cmdline_ulong("blk-bench.qd", 0);

	if (qd > BLK_MAX_QD)
		guest_fail(__FILE__, __LINE__, "blk-bench.qd=%u: at most %u",
			   qd, BLK_MAX_QD);
	b.batch = (unsigned)guest_cmdline_ulong("blk-bench.batch", 0);

	b.d = blk_open("blk-bench");
	in = gblk_info(b.d);
	b.seed =
		guest_cmdline_ulong("blk-bench.seed", BLK_PATTERN_SEED_DEFAULT);
	b.region =
		min_u64(in->capacity << VIRTIO_BLK_SECTOR_SHIFT, mib * BLK_MIB);
	blk_rng_seed(&b.rng, b.seed);
	guest_printf("blk-bench: %llu MiB region, %llu s per case\n",
		     (unsigned long long)(b.region >> 20),
		     (unsigned long long)secs);
	for (unsigned i = 0; i < MM_ARRAY_SIZE(bench_cases); i++) {
		b.c = &bench_cases[i];
		if (b.c->write && in->read_only)
			continue;
		if (b.region < b.c->bs || b.c->bs > in->max_transfer)
			continue;
		if ((only_rw && strcmp(rw, b.c->rw) != 0) ||
		    (only_bs && only_bs != b.c->bs))
			continue;
		b.qd = qd ? qd : b.c->qd;
		bench_run_case(&b, secs);
	}
	gblk_close(b.d);
	guest_printf("blk-bench: done\n");
}
GUEST_WORKLOAD(blk_bench, "blk-bench",
	       "virtio-blk throughput and IOPS: sequential and random, 4 KiB "
	       "to 1 MiB",
	       blk_bench_run);
