// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pvmem.c against a hostile guest: malformed blocks
 * and requests, frames it does not hold, a request block rewritten while the
 * host runs it, several vCPUs at once, and random batches checked against a
 * reference model of what the guest holds. After each: the page database is
 * consistent (mm_check) and the counters add up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/host/mm_port_impl.h"
#include "pvmem_fx.h"
#include "unit.h"

#define GiB (1ull << 30)

/* One request on FX_BLOCK_GPA, as given; returns its status. */
static int ring_req(const struct pvmem_req *tmpl)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, tmpl->op);

	*r = *tmpl;
	r->status = PVMEM_PENDING;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	return r->status;
}

static struct pvmem_req alloc_req(unsigned order, uint32_t count, uint64_t addr)
{
	return (struct pvmem_req){.op = PVMEM_OP_ALLOC,
				  .gfp = GFP_KERNEL,
				  .order = (uint8_t)order,
				  .count = count,
				  .addr = addr};
}

/* mm logs each refused free (rate-limited); count instead of printing. */
static atomic_uint mm_log_lines;

static void count_log(const char *line)
{
	atomic_fetch_add(&mm_log_lines, 1);
}

static void hostile_setup(void)
{
	atomic_store(&mm_log_lines, 0);
	mm_port_set_log_sink(count_log);
	fx_setup();
}

static void hostile_teardown(void)
{
	fx_teardown();
	mm_port_set_log_sink(NULL);
}

static uint64_t op_errors(void)
{
	struct pvmem_host_stats hs;
	uint64_t n = 0;

	pvmem_get_stats(fx.p, &hs);
	for (unsigned op = 0; op <= PVMEM_OP_MAX; op++)
		n += hs.ops[op].err;
	return n;
}

START_TEST(test_bad_block_header)
{
	struct pvmem_block *b;
	struct pvmem_host_stats hs;
	uint32_t v;

	b = fx_block_begin(FX_BLOCK_GPA);
	fx_block_add(b, PVMEM_OP_INFO);
	b->hdr.magic ^= 1;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -EPROTO);
	ck_assert_int_eq(b->hdr.status, -EPROTO);
	ck_assert_int_eq(b->reqs[0].status, PVMEM_PENDING); /* not run */

	b = fx_block_begin(FX_BLOCK_GPA);
	fx_block_add(b, PVMEM_OP_INFO);
	b->hdr.abi_major = PVMEM_ABI_MAJOR + 1;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -EPROTO);

	b = fx_block_begin(FX_BLOCK_GPA); /* no requests */
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -EINVAL);
	b->hdr.nr_reqs = PVMEM_MAX_REQS + 1;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -E2BIG);
	b->hdr.nr_reqs = 0xffff;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -E2BIG);
	b->hdr.nr_reqs = 1;
	b->hdr.flags = 1;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), -EINVAL);
	ck_assert_uint_eq(b->hdr.nr_done, 0);

	/* A newer minor is fine: its unknown ops get -ENOSYS. */
	b = fx_block_begin(FX_BLOCK_GPA);
	b->hdr.abi_minor = 99;
	fx_block_add(b, 77);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(b->reqs[0].status, -ENOSYS);

	/* Blocks outside RAM, in the hole, unaligned, in frames not held. */
	ck_assert_int_eq(fx_ring(3 * GiB + 0x1000), -EFAULT);
	ck_assert_int_eq(fx_ring(1ull << 50), -EFAULT);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA + 64), -EFAULT);
	ck_assert_int_eq(fx_ring(FX_LOW_SIZE - 0x800), -EFAULT); /* straddles */
	ck_assert_int_eq(fx_ring(FX_LOW_SIZE - 0x1000), -EFAULT); /* FREE */
	ck_assert_int_eq(fx_ring(FX_HIGH_GPA), -EFAULT);
	v = 0xffffffff;
	ck_assert_int_eq(pvmem_pio_handler(fx.p, 0, &v, 4, true), -EFAULT);
	ck_assert_int_eq(pvmem_pio_handler(fx.p, 0, &v, 2, true), -EINVAL);
	ck_assert_int_eq(pvmem_pio_handler(fx.p, 2, &v, 4, true), -EINVAL);

	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.bad_blocks, 13);
	ck_assert_uint_eq(hs.doorbells, 14);
	ck_assert_uint_eq(hs.ops[0].err, 1);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_bad_ops_and_fields)
{
	struct pvmem_req r;
	uint64_t errs0 = op_errors();

	r = (struct pvmem_req){.op = 0};
	ck_assert_int_eq(ring_req(&r), -ENOSYS);
	r.op = PVMEM_OP_MAX + 1;
	ck_assert_int_eq(ring_req(&r), -ENOSYS);
	r.op = 0xffff;
	ck_assert_int_eq(ring_req(&r), -ENOSYS);

	r = alloc_req(11, 1, FX_PFNS_GPA);
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r.order = 255;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = alloc_req(0, 0, FX_PFNS_GPA);
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r.count = PVMEM_MAX_COUNT + 1;
	ck_assert_int_eq(ring_req(&r), -E2BIG);
	r.count = UINT32_MAX;
	ck_assert_int_eq(ring_req(&r), -E2BIG);
	r = alloc_req(0, 1, FX_PFNS_GPA);
	r.gfp = __GFP_MEMALLOC;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r.gfp = __GFP_NOFAIL;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r.gfp = 1u << 20;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = alloc_req(0, 1, FX_PFNS_GPA);
	r.reserved0 = 1;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = alloc_req(0, 1, FX_PFNS_GPA);
	r.device_id = 1; /* a field ALLOC does not use */
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = (struct pvmem_req){.op = PVMEM_OP_INFO, .addr = FX_OUT_GPA};
	ck_assert_int_eq(ring_req(&r), -EINVAL); /* size 0 */
	r.size = 64;
	r.addr = 3 * GiB;
	ck_assert_int_eq(ring_req(&r), -EFAULT);
	r = (struct pvmem_req){
		.op = PVMEM_OP_STATS, .addr = UINT64_MAX - 8, .size = 64};
	ck_assert_int_eq(ring_req(&r), -EFAULT);

	ck_assert_uint_eq(op_errors() - errs0, 16);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	fx_assert_consistent();
}
END_TEST

/* Output arrays outside RAM, wrapping, straddling RAM's end, not held. */
START_TEST(test_alloc_bad_arrays)
{
	static const uint64_t bad[] = {
		3 * GiB,	   /* the MMIO hole */
		UINT64_MAX - 4095, /* wraps */
		FX_LOW_SIZE - 8,   /* straddles the end of low RAM */
		FX_HIGH_GPA - 8,   /* starts in the hole */
		FX_HIGH_GPA + FX_HIGH_SIZE - 16, /* straddles the end */
		FX_KERNEL_END,			 /* FREE frames */
		FX_KERNEL_END - 8,		 /* half held, half FREE */
	};
	struct pvmem_req r;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = alloc_req(0, 512, bad[i]);
		ck_assert_msg(ring_req(&r) == -EFAULT, "array %#llx",
			      (unsigned long long)bad[i]);
	}
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	ck_assert_uint_eq(fx_frames(FRAME_GUEST), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_free_hostile_entries)
{
	uint64_t pfns[8], dma;
	unsigned done;
	uint64_t reserved_pfn = 0x100;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 1, 8, pfns, &done), 0);
	ck_assert_int_eq(fx_dma_alloc(4, 8192, 64, &dma), 0);

	ck_assert_int_eq(fx_free1((3 * GiB) >> 12, 0), -ERANGE);
	ck_assert_int_eq(fx_free1(1ull << 50, 0), -ERANGE);
	ck_assert_int_eq(fx_free1(UINT64_MAX, 0), -ERANGE);
	ck_assert_int_eq(fx_free1(FX_KERNEL_END >> 12, 0), -EPERM); /* FREE */
	ck_assert_int_eq(fx_free1(reserved_pfn, 0), -EPERM);
	ck_assert_int_eq(fx_free1(dma >> 12, 1), -EPERM); /* DMA via FREE */
	ck_assert_int_eq(fx_free1(pfns[0], 0), -EINVAL);  /* wrong order */
	ck_assert_int_eq(fx_free1(pfns[0], 2), -EINVAL);
	ck_assert_int_eq(fx_free1(pfns[0] + 1, 0), -EINVAL); /* tail */
	ck_assert_int_eq(fx_free1(pfns[0], 11), -EINVAL);
	ck_assert_int_eq(fx_free1(pfns[0], 0xffffffff), -EINVAL);
	ck_assert_uint_ge(atomic_load(&mm_log_lines), 3); /* mm refused */
	ck_assert_int_eq(fx_free1(pfns[0], 1), 0);
	ck_assert_int_eq(fx_free1(pfns[0], 1), -EPERM); /* double free */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 7 * 2 + 2);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, dma >> 12)->state, FRAME_DMA);
	fx_assert_consistent();

	/* A bad entry stops the request: before it freed, after it kept. */
	{
		uint64_t list[5] = {pfns[1], pfns[2], pfns[1], pfns[3],
				    pfns[4]};
		unsigned orders[5] = {1, 1, 1, 1, 1};

		ck_assert_int_eq(fx_free(list, orders, 5, &done), -EPERM);
		ck_assert_uint_eq(done, 2);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfns[3])->state,
				  FRAME_GUEST);
		ck_assert_uint_eq(pvmem_tot_pages(fx.p), 5 * 2 + 2);
	}
	/* A nonzero reserved field is refused like any bad entry. */
	{
		struct pvmem_free_ent *e = fx_ptr(FX_FREE_GPA);
		struct pvmem_req r = {
			.op = PVMEM_OP_FREE, .count = 1, .addr = FX_FREE_GPA};

		e[0] = (struct pvmem_free_ent){pfns[3], 1, 1};
		ck_assert_int_eq(ring_req(&r), -EINVAL);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfns[3])->state,
				  FRAME_GUEST);
	}
	fx_assert_consistent();
}
END_TEST

START_TEST(test_dma_hostile)
{
	uint64_t a;
	struct pvmem_req r;

	ck_assert_int_eq(fx_dma_alloc(1, 4096, 32, &a), 0);
	ck_assert_int_eq(fx_dma_free(2, a), -EPERM); /* another device */
	ck_assert(pvmem_dma_contains(fx.p, 1, a, 4096));
	ck_assert_int_eq(fx_dma_free(0, a), -EINVAL);
	ck_assert_int_eq(fx_dma_free(PVMEM_MAX_DEVICE_ID + 1, a), -EINVAL);
	ck_assert_int_eq(fx_dma_free(1, a + 8), -EINVAL);
	ck_assert_int_eq(fx_dma_free(1, a + 4096), -ENOENT);
	ck_assert_int_eq(fx_dma_free(1, 3 * GiB), -ERANGE);
	ck_assert_int_eq(fx_dma_free(1, 0), -ENOENT); /* reserved frame */
	ck_assert_int_eq(fx_dma_alloc(0, 4096, 32, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(64, 4096, 32, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(1, 0, 32, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(1, PVMEM_MAX_DMA_BYTES + 1, 32, NULL),
			 -E2BIG);
	ck_assert_int_eq(fx_dma_alloc(1, UINT64_MAX, 32, NULL), -E2BIG);
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 0, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 11, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 65, NULL), -EINVAL);
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 255, NULL), -EINVAL);
	/* Below 1 MiB everything is reserved boot data. */
	ck_assert_int_eq(fx_dma_alloc(1, 4096, 20, NULL), -ENOMEM);
	r = (struct pvmem_req){.op = PVMEM_OP_DMA_ALLOC,
			       .device_id = 1,
			       .size = 4096,
			       .dma_bits = 32,
			       .count = 1};
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 1);
	ck_assert_int_eq(fx_dma_free(1, a), 0);
	ck_assert_int_eq(fx_dma_free(1, a), -ENOENT); /* double free */
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	fx_assert_consistent();
}
END_TEST

/* The request ring_req() ran, with the host's results. */
static const struct pvmem_req *last_req(void)
{
	return &((struct pvmem_block *)fx_ptr(FX_BLOCK_GPA))->reqs[0];
}

static struct pvmem_req split_req(unsigned order, uint32_t count, uint64_t addr)
{
	return (struct pvmem_req){.op = PVMEM_OP_SPLIT,
				  .order = (uint8_t)order,
				  .count = count,
				  .addr = addr};
}

/* SPLIT of one entry @pfn at @order; returns the status. */
static int split1(uint64_t pfn, unsigned order)
{
	struct pvmem_req r = split_req(order, 1, FX_PFNS_GPA + 4096);

	*(uint64_t *)fx_ptr(FX_PFNS_GPA + 4096) = pfn;
	return ring_req(&r);
}

/*
 * SPLIT (ABI 1.4) refuses everything but the head of a FRAME_GUEST block
 * of the order given, changes nothing when it refuses, and never gives a
 * frame: the page limit, the counters and mm_check() hold throughout.
 */
START_TEST(test_split_hostile)
{
	uint64_t pfns[4], dma, tgt, ring_gpa, reserved_pfn = 0x100;
	struct pvmem_host_stats hs;
	struct pvmem_req r;
	unsigned done;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 2, 4, pfns, &done), 0);
	ck_assert_int_eq(fx_dma_alloc(4, 4 * 4096, 64, &dma), 0);
	r = (struct pvmem_req){.op = PVMEM_OP_MIGRATE_SETUP};
	ck_assert_int_eq(ring_req(&r), 0);
	ring_gpa = last_req()->result;
	ck_assert_int_eq(mm_alloc_migration_target(fx.mm, ZONE_DMA32, 2, &tgt),
			 0);

	/* Bad arguments. */
	ck_assert_int_eq(split1(pfns[0], 0), -EINVAL);
	ck_assert_int_eq(split1(pfns[0], 11), -EINVAL);
	ck_assert_int_eq(split1(pfns[0], 255), -EINVAL);
	r = split_req(2, 0, FX_PFNS_GPA);
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = split_req(2, PVMEM_MAX_COUNT + 1, FX_PFNS_GPA);
	ck_assert_int_eq(ring_req(&r), -E2BIG);
	r = split_req(2, 1, FX_PFNS_GPA);
	r.gfp = GFP_KERNEL; /* fields SPLIT does not read */
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = split_req(2, 1, FX_PFNS_GPA);
	r.size = 1;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	r = split_req(2, 1, FX_PFNS_GPA);
	r.device_id = 1;
	ck_assert_int_eq(ring_req(&r), -EINVAL);
	/* The array must lie in held RAM. */
	r = split_req(2, 1, FX_KERNEL_END); /* a FREE frame */
	ck_assert_int_eq(ring_req(&r), -EFAULT);
	r = split_req(2, 1, 3 * GiB); /* the hole */
	ck_assert_int_eq(ring_req(&r), -EFAULT);
	r = split_req(2, 2, FX_KERNEL_END - 8); /* straddles into FREE */
	ck_assert_int_eq(ring_req(&r), -EFAULT);
	r = split_req(2, 1, UINT64_MAX - 3);
	ck_assert_int_eq(ring_req(&r), -EFAULT);

	/* Frames the guest does not hold as GUEST blocks of that order. */
	ck_assert_int_eq(split1((3 * GiB) >> 12, 2), -ERANGE);
	ck_assert_int_eq(split1(1ull << 50, 2), -ERANGE);
	ck_assert_int_eq(split1(UINT64_MAX, 2), -ERANGE);
	ck_assert_int_eq(split1(FX_KERNEL_END >> 12, 2), -EPERM); /* FREE */
	ck_assert_int_eq(split1(reserved_pfn, 1), -EPERM);
	ck_assert_int_eq(split1(0, 1), -EPERM);
	ck_assert_int_eq(split1(dma >> 12, 2), -EPERM);	     /* DMA */
	ck_assert_int_eq(split1(ring_gpa >> 12, 1), -EPERM); /* mig ring */
	ck_assert_int_eq(split1(pfns[0], 1), -EINVAL);	     /* wrong order */
	ck_assert_int_eq(split1(pfns[0], 3), -EINVAL);
	ck_assert_int_eq(split1(pfns[0] + 1, 2), -EINVAL); /* tail */
	ck_assert_int_eq(split1(pfns[0] + 2, 1), -EINVAL);
	ck_assert_int_eq(split1(tgt, 2), -EBUSY); /* isolated target */
	/* A frame in the balloon. */
	ck_assert_int_eq(mm_set_frames_state(fx.mm, pfns[3], 4, FRAME_GUEST,
					     FRAME_BALLOON, 0),
			 0);
	ck_assert_int_eq(split1(pfns[3], 2), -EPERM);
	ck_assert_int_eq(mm_set_frames_state(fx.mm, pfns[3], 4, FRAME_BALLOON,
					     FRAME_GUEST, 0),
			 0);
	ck_assert_int_eq(mm_free_migration_target(fx.mm, tgt), 0);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.blocks_split, 0);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_SPLIT].ok, 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 4 * 4 + 4 + 1);
	ck_assert_uint_eq(hs.pages_granted, 4 * 4 + 4);
	fx_assert_consistent();
	/* Nothing was split: each block still frees whole. */
	ck_assert_int_eq(fx_free1(pfns[2], 2), 0);

	/* The first bad entry stops: before it split, after it untouched. */
	{
		uint64_t *a = fx_ptr(FX_PFNS_GPA);

		a[0] = pfns[0];
		a[1] = pfns[2]; /* freed just now */
		a[2] = pfns[1];
		r = split_req(2, 3, FX_PFNS_GPA);
		ck_assert_int_eq(ring_req(&r), -EPERM);
		ck_assert_uint_eq(last_req()->done, 1);
		ck_assert_uint_eq(last_req()->result, 1);
	}
	ck_assert_int_eq(split1(pfns[0], 2), -EINVAL); /* split twice */
	ck_assert_int_eq(fx_free1(pfns[1], 2), 0);     /* still whole */
	for (unsigned k = 0; k < 4; k++)
		ck_assert_int_eq(fx_free1(pfns[0] + k, 0), 0);
	ck_assert_int_eq(fx_free1(pfns[3], 2), 0);
	ck_assert_int_eq(fx_dma_free(4, dma), 0);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.blocks_split, 1);
	ck_assert_uint_eq(hs.pages_granted, hs.pages_freed);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 1); /* the migration ring */
	mm_drain_pcp(fx.mm);
	fx_assert_consistent();
}
END_TEST

/* Counters: every request is counted once, as ok or err, under its op. */
START_TEST(test_counters_add_up)
{
	struct pvmem_host_stats hs;
	uint64_t pfns[4];
	unsigned orders[4] = {0, 0, 0, 0}, done;
	uint64_t total = 0;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 4, pfns, &done), 0);
	ck_assert_int_eq(fx_free(pfns, orders, 4, &done), 0);
	ck_assert_int_eq(fx_free(pfns, orders, 4, &done), -EPERM);
	ck_assert_int_eq(fx_dma_free(9, 1ull << 40), -ERANGE);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_ALLOC].ok, 1);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_FREE].ok, 1);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_FREE].err, 1);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_DMA_FREE].err, 1);
	for (unsigned op = 0; op <= PVMEM_OP_MAX; op++)
		total += hs.ops[op].ok + hs.ops[op].err;
	ck_assert_uint_eq(total, 4);
	ck_assert_uint_eq(hs.doorbells, 4);
	ck_assert_uint_eq(hs.pages_granted, 4);
	ck_assert_uint_eq(hs.pages_freed, 4);
}
END_TEST

/*
 * Another vCPU scribbles over the request block, arrays and FREE entries
 * while this one rings: whatever the host reads, it must keep the page
 * database and the accounting sound.
 */
struct scribbler {
	atomic_bool stop;
	unsigned seed;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint8_t *blk = fx_ptr(FX_BLOCK_GPA);
	uint32_t *ents = fx_ptr(FX_FREE_GPA);
	unsigned seed = s->seed;

	while (!atomic_load(&s->stop)) {
		unsigned i = (unsigned)rand_r(&seed);

		/* Flip request fields (op, order, count, addr) and entries. */
		blk[64 + (i % (4 * 64))] ^= (uint8_t)(1u << (i >> 29));
		ents[(i >> 8) % 64] = (uint32_t)rand_r(&seed);
	}
	return NULL;
}

START_TEST(test_block_rewritten_while_running)
{
	struct scribbler s = {.seed = (unsigned)unit_seed()};
	unsigned iters = unit_sanitized() ? 2000 : 10000;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, scribble, &s), 0);
	for (unsigned n = 0; n < iters; n++) {
		struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
		struct pvmem_req *r;

		r = fx_block_add(b, PVMEM_OP_ALLOC);
		r->gfp = GFP_KERNEL;
		r->order = 1;
		r->count = 8;
		r->addr = FX_PFNS_GPA;
		r = fx_block_add(b, PVMEM_OP_SPLIT);
		r->order = 1;
		r->count = 8;
		r->addr = FX_PFNS_GPA;
		r = fx_block_add(b, PVMEM_OP_FREE);
		r->count = 8;
		r->addr = FX_FREE_GPA;
		memcpy(fx_ptr(FX_FREE_GPA), fx_ptr(FX_PFNS_GPA), 64);
		r = fx_block_add(b, PVMEM_OP_DMA_ALLOC);
		r->device_id = 1;
		r->size = 4096;
		r->dma_bits = 32;
		r = fx_block_add(b, PVMEM_OP_DMA_FREE);
		r->device_id = 1;
		r->addr = 0;
		fx_ring(FX_BLOCK_GPA); /* any outcome; it must not crash */
	}
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	fx_assert_consistent();
	ck_assert_uint_le(pvmem_tot_pages(fx.p), pvmem_max_pages(fx.p));
}
END_TEST

/* Each vCPU rings its own block at once: alloc, touch, free loops. */
struct vcpu_arg {
	unsigned idx;
	unsigned iters;
	int failures;
};

static uint64_t vcpu_gpa(unsigned idx, unsigned part)
{
	return FX_SCRATCH_GPA + idx * 0x10000ull + part * 0x2000ull;
}

static void *vcpu_loop(void *arg)
{
	struct vcpu_arg *a = arg;
	uint64_t blk_gpa = vcpu_gpa(a->idx, 0);
	struct pvmem_block *b = fx_ptr(blk_gpa);
	uint64_t *pfns = fx_ptr(vcpu_gpa(a->idx, 1));
	struct pvmem_free_ent *e = fx_ptr(vcpu_gpa(a->idx, 2));

	for (unsigned n = 0; n < a->iters; n++) {
		unsigned order = n % 3, count = 1 + n % 32;

		memset(b, 0, sizeof(*b));
		b->hdr = (struct pvmem_block_hdr){.magic = PVMEM_MAGIC,
						  .abi_major = PVMEM_ABI_MAJOR,
						  .nr_reqs = 1};
		b->reqs[0] = (struct pvmem_req){.op = PVMEM_OP_ALLOC,
						.gfp = GFP_KERNEL,
						.order = (uint8_t)order,
						.count = count,
						.addr = vcpu_gpa(a->idx, 1)};
		if (pvmem_doorbell(fx.p, blk_gpa) || b->reqs[0].status)
			a->failures++;
		count = b->reqs[0].done;
		/* Every other round the blocks come back split, page by page. */
		if (order && n % 2) {
			b->reqs[0] =
				(struct pvmem_req){.op = PVMEM_OP_SPLIT,
						   .order = (uint8_t)order,
						   .count = count,
						   .addr = vcpu_gpa(a->idx, 1)};
			if (pvmem_doorbell(fx.p, blk_gpa) ||
			    b->reqs[0].status || b->reqs[0].done != count)
				a->failures++;
		}
		for (unsigned i = 0; i < count; i++) {
			*(uint64_t *)fx_ptr(pfns[i] << 12) = pfns[i];
			if (!(order && n % 2)) {
				e[i] = (struct pvmem_free_ent){pfns[i], order,
							       0};
				continue;
			}
			for (unsigned k = 0; k < (1u << order); k++)
				e[(i << order) + k] = (struct pvmem_free_ent){
					pfns[i] + k, 0, 0};
		}
		b->reqs[0] = (struct pvmem_req){
			.op = PVMEM_OP_FREE,
			.count = order && n % 2 ? count << order : count,
			.addr = vcpu_gpa(a->idx, 2)};
		for (unsigned i = 0; i < count; i++)
			if (*(uint64_t *)fx_ptr(pfns[i] << 12) != pfns[i])
				a->failures++; /* someone else got our frame */
		if (pvmem_doorbell(fx.p, blk_gpa) || b->reqs[0].status)
			a->failures++;
	}
	return NULL;
}

START_TEST(test_concurrent_vcpus)
{
	enum { NR = 4 };
	struct vcpu_arg args[NR];
	pthread_t t[NR];

	for (unsigned i = 0; i < NR; i++) {
		args[i] = (struct vcpu_arg){
			.idx = i, .iters = unit_sanitized() ? 300 : 2000};
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, vcpu_loop, &args[i]), 0);
	}
	for (unsigned i = 0; i < NR; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	mm_drain_pcp(fx.mm);
	fx_assert_consistent();
}
END_TEST

/* Reference model: the blocks the guest holds. */
struct held {
	uint64_t pfn;
	unsigned order;
	uint32_t dev; /* 0: ALLOC block; else DMA block of that device */
};

#define MODEL_MAX 8192

struct model {
	struct held h[MODEL_MAX];
	unsigned n;
	uint64_t pages;
	unsigned seed;
};

static void model_add(struct model *m, uint64_t pfn, unsigned order,
		      uint32_t dev)
{
	ck_assert_uint_lt(m->n, MODEL_MAX);
	m->h[m->n++] = (struct held){pfn, order, dev};
	m->pages += 1ull << order;
}

static void model_del(struct model *m, unsigned i)
{
	m->pages -= 1ull << m->h[i].order;
	m->h[i] = m->h[--m->n];
}

static unsigned rnd(unsigned *seed, unsigned n)
{
	return (unsigned)rand_r(seed) % n;
}

/* Pick up to 8 held ALLOC blocks to free, maybe with one bad entry. */
static unsigned build_free(struct model *m, unsigned *idx, int *bad_at)
{
	struct pvmem_free_ent *e = fx_ptr(FX_FREE_GPA);
	unsigned n = 0;

	for (unsigned k = 0; k < m->n && n < 8; k++) {
		unsigned i = rnd(&m->seed, m->n);
		bool dup = false;

		for (unsigned j = 0; j < n; j++)
			dup |= idx[j] == i;
		if (dup || m->h[i].dev)
			continue;
		idx[n] = i;
		e[n++] = (struct pvmem_free_ent){m->h[i].pfn, m->h[i].order, 0};
	}
	*bad_at = -1;
	if (n && rnd(&m->seed, 4) == 0) {
		*bad_at = (int)rnd(&m->seed, n);
		e[*bad_at].order += 1 + rnd(&m->seed, 3); /* wrong order */
	}
	return n;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_pfn(const void *a, const void *b)
{
	uint64_t x = ((const struct held *)a)->pfn;
	uint64_t y = ((const struct held *)b)->pfn;

	return x < y ? -1 : x > y;
}

/* No frame is granted twice: sorted blocks do not overlap. */
static void model_check_disjoint(const struct model *m)
{
	static struct held sorted[MODEL_MAX];

	memcpy(sorted, m->h, m->n * sizeof(sorted[0]));
	qsort(sorted, m->n, sizeof(sorted[0]), cmp_pfn);
	for (unsigned i = 1; i < m->n; i++)
		ck_assert_msg(sorted[i - 1].pfn +
					      (1ull << sorted[i - 1].order) <=
				      sorted[i].pfn,
			      "seed %u: pfn %#llx granted twice", m->seed,
			      (unsigned long long)sorted[i].pfn);
}

/*
 * SPLIT one held ALLOC block of order >= 1, and with half a chance a
 * second entry naming another held block with the wrong order, which
 * must stop the request after the first.
 */
static void random_split(struct model *m)
{
	uint64_t *a = fx_ptr(FX_PFNS_GPA);
	unsigned i = m->n ? rnd(&m->seed, m->n) : 0, order, j;
	struct pvmem_block *b;
	struct pvmem_req *r;
	uint64_t pfn;

	if (!m->n || m->h[i].dev || m->h[i].order == 0)
		return;
	pfn = m->h[i].pfn;
	order = m->h[i].order;
	a[0] = pfn;
	j = rnd(&m->seed, m->n);
	a[1] = m->h[j].pfn;
	b = fx_block_begin(FX_BLOCK_GPA);
	r = fx_block_add(b, PVMEM_OP_SPLIT);
	r->order = (uint8_t)order;
	r->count = j != i && m->h[j].order != order ? 2 : 1;
	r->addr = FX_PFNS_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_msg(r->done == 1 && (r->count == 1) == (r->status == 0) &&
			      (r->status == 0 || r->status == -EINVAL ||
			       r->status == -EPERM),
		      "seed %u: split of %u entries: status %d done %u",
		      m->seed, r->count, r->status, r->done);
	model_del(m, i);
	for (unsigned k = 0; k < (1u << order); k++)
		model_add(m, pfn + k, 0, 0);
}

static void random_round(struct model *m)
{
	unsigned order = rnd(&m->seed, 4), count = 1 + rnd(&m->seed, 16);
	unsigned idx[8], nfree;
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *ra, *rf, *rd;
	uint64_t *out = fx_ptr(FX_PFNS_GPA);
	int bad_at;

	ra = fx_block_add(b, PVMEM_OP_ALLOC);
	ra->gfp = rnd(&m->seed, 2) ? GFP_KERNEL : GFP_DMA32;
	ra->order = (uint8_t)(rnd(&m->seed, 10) ? order : 11); /* invalid */
	ra->count = count;
	ra->addr = FX_PFNS_GPA;
	nfree = build_free(m, idx, &bad_at);
	rf = fx_block_add(b, PVMEM_OP_FREE);
	rf->count = nfree;
	rf->addr = FX_FREE_GPA;
	rd = fx_block_add(b, PVMEM_OP_DMA_ALLOC);
	rd->device_id = 1 + rnd(&m->seed, 3);
	rd->size = 1 + rnd(&m->seed, 5 * 4096);
	rd->dma_bits = (uint8_t)(rnd(&m->seed, 2) ? 32 : 64);
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);

	/* Requests run in order: ALLOC, FREE, DMA_ALLOC. */
	if (ra->order >= NR_PAGE_ORDERS)
		ck_assert_int_eq(ra->status, -EINVAL);
	for (unsigned i = 0; i < ra->done; i++)
		model_add(m, out[i], ra->order, 0);
	if (nfree == 0) {
		ck_assert_int_eq(rf->status, -EINVAL);
	} else if (bad_at >= 0) {
		ck_assert_msg(rf->status == -EINVAL &&
				      rf->done == (unsigned)bad_at,
			      "seed %u: bad entry %d: status %d done %u",
			      m->seed, bad_at, rf->status, rf->done);
	} else {
		ck_assert_int_eq(rf->status, 0);
		ck_assert_uint_eq(rf->done, nfree);
	}
	/* Delete freed entries, highest index first (model_del swaps). */
	qsort(idx, rf->done, sizeof(idx[0]), cmp_desc);
	for (unsigned k = 0; k < rf->done; k++)
		model_del(m, idx[k]);
	if (rd->status == 0)
		model_add(m, rd->result >> 12, mm_get_order(rd->size),
			  rd->device_id);
	/* Now and then a block is split, maybe with a bad entry after it. */
	if (rnd(&m->seed, 3) == 0)
		random_split(m);
	/* Now and then a device gives its DMA block back. */
	for (unsigned i = 0; i < m->n; i++)
		if (m->h[i].dev && rnd(&m->seed, 3) == 0) {
			ck_assert_int_eq(
				fx_dma_free(m->h[i].dev, m->h[i].pfn << 12), 0);
			model_del(m, i);
			break;
		}
}

START_TEST(test_random_batches_vs_model)
{
	static struct model m;
	unsigned rounds = unit_sanitized() ? 300 : 1500;

	memset(&m, 0, sizeof(m));
	m.seed = (unsigned)unit_seed();
	pvmem_set_max_pages(fx.p, 6000); /* EDQUOT happens too */
	for (unsigned r = 0; r < rounds; r++) {
		random_round(&m);
		ck_assert_msg(pvmem_tot_pages(fx.p) == m.pages,
			      "seed %u round %u: tot %llu model %llu", m.seed,
			      r, (unsigned long long)pvmem_tot_pages(fx.p),
			      (unsigned long long)m.pages);
		if (r % 100 == 0) {
			model_check_disjoint(&m);
			fx_assert_consistent();
		}
	}
	for (unsigned i = 0; i < m.n; i++) {
		const struct page *pg = mm_pfn_to_page(fx.mm, m.h[i].pfn);

		ck_assert_uint_eq(pg->state,
				  m.h[i].dev ? FRAME_DMA : FRAME_GUEST);
	}
	ck_assert_uint_eq(fx_frames(FRAME_GUEST) + fx_frames(FRAME_DMA),
			  m.pages);
	fx_assert_consistent();
}
END_TEST

static Suite *pvmem_hostile_suite(void)
{
	Suite *s = suite_create("pvmem_hostile");
	TCase *tc = tcase_create("hostile");
	TCase *tr = tcase_create("race_random");

	tcase_add_checked_fixture(tc, hostile_setup, hostile_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bad_block_header);
	tcase_add_test(tc, test_bad_ops_and_fields);
	tcase_add_test(tc, test_alloc_bad_arrays);
	tcase_add_test(tc, test_free_hostile_entries);
	tcase_add_test(tc, test_dma_hostile);
	tcase_add_test(tc, test_counters_add_up);
	tcase_add_test(tc, test_split_hostile);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tr, hostile_setup, hostile_teardown);
	tcase_set_timeout(tr, 300);
	tcase_add_test(tr, test_block_rewritten_while_running);
	tcase_add_test(tr, test_concurrent_vcpus);
	tcase_add_test(tr, test_random_batches_vs_model);
	suite_add_tcase(s, tr);
	return s;
}

UNIT_SUITE(pvmem_hostile_suite)
