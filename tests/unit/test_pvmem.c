// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pvmem.c and vmm/frame_db.c: the paravirtual
 * memory device driven through request blocks written as a guest would.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pvmem_fx.h"
#include "unit.h"
#include "abi/boot.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static uint64_t pfn_gpa(uint64_t pfn)
{
	return pfn << PAGE_SHIFT;
}

static unsigned page_state(uint64_t pfn)
{
	const struct page *pg = mm_pfn_to_page(fx.mm, pfn);

	ck_assert_ptr_nonnull(pg);
	return pg->state;
}

START_TEST(test_frame_db_layout)
{
	uint64_t ram = (FX_LOW_SIZE + FX_HIGH_SIZE) >> PAGE_SHIFT;
	struct mm_zone_info zi;

	ck_assert_uint_eq(frame_db_ram_pages(fx.fdb), ram);
	ck_assert_uint_eq(fx_frames(FRAME_RESERVED), FX_KERNEL_END >> 12);
	ck_assert_uint_eq(fx_frames(FRAME_FREE), ram - (FX_KERNEL_END >> 12));
	ck_assert_uint_eq(page_state(0), FRAME_RESERVED);
	ck_assert_uint_eq(page_state((FX_KERNEL_END >> 12) - 1),
			  FRAME_RESERVED);
	ck_assert_uint_eq(page_state(FX_KERNEL_END >> 12), FRAME_FREE);
	/* The hole has no frames. */
	ck_assert_ptr_null(mm_pfn_to_page(fx.mm, (3 * GiB) >> 12));
	ck_assert_ptr_null(mm_pfn_to_page(fx.mm, FX_LOW_SIZE >> 12));
	ck_assert_int_eq(mm_zone_info(fx.mm, ZONE_NORMAL, &zi), 0);
	ck_assert(zi.populated);
	ck_assert_uint_eq(zi.present, FX_HIGH_SIZE >> 12);
	ck_assert_uint_eq(pvmem_max_pages(fx.p), ram);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_frame_db_rejects_bad_layouts)
{
	struct frame_db_config hc = {.kernel_end = 128 * MiB};
	struct guest_mem mem = fx.mem;
	struct frame_db *fdb;

	/* RAM smaller than the kernel image. */
	ck_assert_int_eq(frame_db_create(&fdb, &fx.mem, &hc), -EINVAL);
	hc.kernel_end = FX_KERNEL_END;
	/* Unsorted, unaligned, empty. */
	mem.regions[0] = fx.mem.regions[1];
	mem.regions[1] = fx.mem.regions[0];
	ck_assert_int_eq(frame_db_create(&fdb, &mem, &hc), -EINVAL);
	mem = fx.mem;
	mem.regions[1].size = 100;
	ck_assert_int_eq(frame_db_create(&fdb, &mem, &hc), -EINVAL);
	mem.nr_regions = 0;
	ck_assert_int_eq(frame_db_create(&fdb, &mem, &hc), -EINVAL);
}
END_TEST

START_TEST(test_info_and_pio)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_INFO);
	struct pvmem_info *info = fx_ptr(FX_OUT_GPA);
	uint32_t v = 0;

	ck_assert_int_eq(pvmem_pio_handler(fx.p, 0, &v, 4, false), 0);
	ck_assert_uint_eq(v, PVMEM_MAGIC);
	r->addr = FX_OUT_GPA;
	r->size = sizeof(*info);
	/* The doorbell value is the block's PFN. */
	v = FX_BLOCK_GPA >> PAGE_SHIFT;
	ck_assert_int_eq(pvmem_pio_handler(fx.p, 0, &v, 4, true), 0);
	ck_assert_int_eq(b->hdr.status, 0);
	ck_assert_uint_eq(b->hdr.nr_done, 1);
	ck_assert_int_eq(r->status, 0);
	ck_assert_uint_eq(r->done, sizeof(*info));
	ck_assert_uint_eq(info->abi_major, PVMEM_ABI_MAJOR);
	ck_assert_uint_eq(info->max_reqs, PVMEM_MAX_REQS);
	ck_assert_uint_eq(info->max_count, PVMEM_MAX_COUNT);
	ck_assert_uint_eq(info->max_order, NR_PAGE_ORDERS);
	ck_assert_uint_eq(info->page_size, PAGE_SIZE);
	ck_assert_uint_eq(info->ram_pages, frame_db_ram_pages(fx.fdb));
	/* A short buffer gets a truncated struct (forward compatibility). */
	memset(info, 0xee, sizeof(*info));
	fx_block_begin(FX_BLOCK_GPA);
	r = fx_block_add(b, PVMEM_OP_INFO);
	r->addr = FX_OUT_GPA;
	r->size = 4;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_uint_eq(r->done, 4);
	ck_assert_uint_eq(info->max_reqs, 0xeeeeeeee);
}
END_TEST

START_TEST(test_alloc_free_batch)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	uint64_t *out = fx_ptr(FX_PFNS_GPA);
	struct pvmem_free_ent *fe = fx_ptr(FX_FREE_GPA);
	struct pvmem_req *r0, *r1, *r2;

	/* Two allocations in one exit: 16 pages, then 4 order-2 blocks. */
	r0 = fx_block_add(b, PVMEM_OP_ALLOC);
	r0->gfp = GFP_KERNEL;
	r0->count = 16;
	r0->addr = FX_PFNS_GPA;
	r1 = fx_block_add(b, PVMEM_OP_ALLOC);
	r1->gfp = GFP_KERNEL;
	r1->order = 2;
	r1->count = 4;
	r1->addr = FX_PFNS_GPA + 16 * 8;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(b->hdr.status, 0);
	ck_assert_uint_eq(b->hdr.nr_done, 2);
	ck_assert_int_eq(r0->status, 0);
	ck_assert_uint_eq(r0->done, 16);
	ck_assert_int_eq(r1->status, 0);
	ck_assert_uint_eq(r1->done, 4);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 16 + 16);
	for (unsigned i = 0; i < 20; i++) {
		unsigned order = i < 16 ? 0 : 2;

		ck_assert_uint_eq(out[i] & ((1u << order) - 1), 0);
		for (unsigned j = 0; j < (1u << order); j++)
			ck_assert_uint_eq(page_state(out[i] + j), FRAME_GUEST);
		fe[i] = (struct pvmem_free_ent){out[i], order, 0};
	}
	fx_assert_consistent();

	/* All 20 back in one FREE request. */
	b = fx_block_begin(FX_BLOCK_GPA);
	r2 = fx_block_add(b, PVMEM_OP_FREE);
	r2->count = 20;
	r2->addr = FX_FREE_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(r2->status, 0);
	ck_assert_uint_eq(r2->done, 20);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	ck_assert_uint_eq(fx_frames(FRAME_GUEST), 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_zone_choice_by_gfp)
{
	uint64_t pfn;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 1, &pfn, NULL), 0);
	ck_assert_uint_ge(pfn_gpa(pfn), FX_HIGH_GPA);
	ck_assert_int_eq(fx_alloc(GFP_DMA32, 0, 1, &pfn, NULL), 0);
	ck_assert_uint_lt(pfn_gpa(pfn), 4 * GiB);
	ck_assert_uint_ge(pfn_gpa(pfn), 16 * MiB);
	ck_assert_int_eq(fx_alloc(GFP_DMA, 3, 1, &pfn, NULL), 0);
	ck_assert_uint_lt(pfn_gpa(pfn), 16 * MiB);
	ck_assert_uint_ge(pfn_gpa(pfn), FX_KERNEL_END);
	ck_assert_int_eq(fx_alloc(GFP_HIGHUSER_MOVABLE, 9, 1, &pfn, NULL), 0);
	ck_assert_uint_eq(pfn & 511, 0);
	fx_assert_consistent();
}
END_TEST

START_TEST(test_dma_alloc_by_bits_and_registry)
{
	uint64_t a, b, c;

	/* 24 bits: below 16 MiB; 32: below 4 GiB; 64: anywhere. */
	ck_assert_int_eq(fx_dma_alloc(3, 3 * PAGE_SIZE, 24, &a), 0);
	ck_assert_uint_lt(a + 4 * PAGE_SIZE, 16 * MiB + 1);
	ck_assert_uint_eq(a & (4 * PAGE_SIZE - 1), 0);
	ck_assert_int_eq(fx_dma_alloc(3, 64 * 1024, 32, &b), 0);
	ck_assert_uint_lt(b, 4 * GiB);
	ck_assert_int_eq(fx_dma_alloc(5, 1, 64, &c), 0);
	ck_assert_uint_eq(page_state(a >> 12), FRAME_DMA);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, a >> 12)->owner, 3);
	ck_assert_uint_eq(mm_pfn_to_page(fx.mm, c >> 12)->owner, 5);
	ck_assert_uint_eq(fx_frames(FRAME_DMA), 4 + 16 + 1);
	fx_assert_consistent();

	/* Only the owner, only inside its blocks. */
	ck_assert(pvmem_dma_contains(fx.p, 3, a, 4 * PAGE_SIZE));
	ck_assert(pvmem_dma_contains(fx.p, 3, a + 100, 16));
	ck_assert(!pvmem_dma_contains(fx.p, 3, a, 4 * PAGE_SIZE + 1));
	ck_assert(!pvmem_dma_contains(fx.p, 5, a, 1));
	ck_assert(!pvmem_dma_contains(fx.p, 3, a - 1, 2));
	ck_assert(!pvmem_dma_contains(fx.p, 3, a, 0));
	ck_assert(!pvmem_dma_contains(fx.p, 3, UINT64_MAX - 2, 8));
	ck_assert(pvmem_dma_contains(fx.p, 5, c, PAGE_SIZE));
	ck_assert(!pvmem_dma_contains(fx.p, 3, c, 1));

	/* Freed: gone from the registry and the allocator. */
	ck_assert_int_eq(fx_dma_free(3, a), 0);
	ck_assert(!pvmem_dma_contains(fx.p, 3, a, 1));
	ck_assert_uint_eq(page_state(a >> 12), FRAME_FREE);
	ck_assert_uint_eq(pvmem_dma_release_device(fx.p, 3), 1);
	ck_assert(!pvmem_dma_contains(fx.p, 3, b, 1));
	ck_assert(pvmem_dma_contains(fx.p, 5, c, 1));
	ck_assert_uint_eq(fx_frames(FRAME_DMA), 1);
	fx_assert_consistent();
}
END_TEST

/* Adjacent blocks of one device form one range for pvmem_dma_contains(). */
START_TEST(test_dma_contains_adjacent_blocks)
{
	uint64_t g[32];
	unsigned n = 0;
	bool found = false;

	for (n = 0; n < 32; n++)
		ck_assert_int_eq(fx_dma_alloc(7, PAGE_SIZE, 64, &g[n]), 0);
	for (unsigned i = 0; i < n && !found; i++)
		for (unsigned j = 0; j < n; j++)
			if (g[j] == g[i] + PAGE_SIZE) {
				ck_assert(pvmem_dma_contains(fx.p, 7, g[i],
							     2 * PAGE_SIZE));
				found = true;
				break;
			}
	ck_assert_msg(found, "no two adjacent pages among 32 allocations");
	fx_assert_consistent();
}
END_TEST

START_TEST(test_page_limit_partial_grant)
{
	uint64_t pfns[512];
	unsigned orders[512], done;
	struct pvmem_host_stats hs;

	pvmem_set_max_pages(fx.p, 100);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 150, pfns, &done), -EDQUOT);
	ck_assert_uint_eq(done, 100);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 100);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 1, NULL, &done), -EDQUOT);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(fx_dma_alloc(1, PAGE_SIZE, 64, NULL), -EDQUOT);
	fx_assert_consistent();

	/* Free 12: one order-3 block fits, the second does not. */
	for (unsigned i = 0; i < 12; i++)
		orders[i] = 0;
	ck_assert_int_eq(fx_free(pfns, orders, 12, &done), 0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 3, 2, NULL, &done), -EDQUOT);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 96);

	/* Lowering the limit below tot_pages takes nothing away. */
	pvmem_set_max_pages(fx.p, 10);
	ck_assert_uint_eq(fx_frames(FRAME_GUEST), 96);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 0, 1, NULL, &done), -EDQUOT);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.edquot, 5);
	fx_assert_consistent();
}
END_TEST

/* The allocator runs dry: a partial grant, and the unused charge returns. */
START_TEST(test_enomem_partial_grant)
{
	uint64_t pfns[512];
	unsigned done;

	/* [2 MiB, 16 MiB) holds three aligned 4 MiB blocks. */
	ck_assert_int_eq(fx_alloc(GFP_DMA, 10, 512, pfns, &done), -ENOMEM);
	ck_assert_uint_eq(done, 3);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 3 * 1024);
	for (unsigned i = 0; i < done; i++)
		ck_assert_uint_lt(pfn_gpa(pfns[i]), 16 * MiB);
	fx_assert_consistent();
}
END_TEST

static bool page_is(const uint8_t *p, uint8_t v)
{
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * __GFP_ZERO: discarded frames are not zeroed again (they already read as
 * zero); dirty frames that come back are.
 */
START_TEST(test_gfp_zero)
{
	struct pvmem_config cfg = {.report_order =
					   NR_PAGE_ORDERS}; /* no reports */
	struct frame_db_stats s0, s1;
	uint64_t pfns[64], again[64];
	unsigned done, dirty_again = 0;

	fx_teardown();
	fx_setup_cfg(&cfg);
	/* Release everything free: the next allocations need no zeroing. */
	mm_drain_pcp(fx.mm);
	mm_report_free(fx.mm, 0);
	frame_db_get_stats(fx.fdb, &s0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL | __GFP_ZERO, 0, 64, pfns, &done),
			 0);
	frame_db_get_stats(fx.fdb, &s1);
	ck_assert_uint_eq(s1.zero_pages, s0.zero_pages);
	for (unsigned i = 0; i < 64; i++) {
		uint8_t *p = fx_ptr(pfn_gpa(pfns[i]));

		ck_assert(page_is(p, 0));
		memset(p, 0xaa, PAGE_SIZE);
	}
	/* Dirty pages go back without a report; ZERO must clean them. */
	for (unsigned i = 0; i < 64; i++)
		ck_assert_int_eq(fx_free1(pfns[i], 0), 0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL | __GFP_ZERO, 0, 64, again, &done),
			 0);
	frame_db_get_stats(fx.fdb, &s0);
	for (unsigned i = 0; i < 64; i++) {
		ck_assert_msg(page_is(fx_ptr(pfn_gpa(again[i])), 0),
			      "pfn %#llx not zeroed",
			      (unsigned long long)again[i]);
		for (unsigned j = 0; j < 64; j++)
			dirty_again += again[i] == pfns[j];
	}
	ck_assert_uint_ge(s0.zero_pages - s1.zero_pages, dirty_again);
	ck_assert_uint_gt(dirty_again, 0);
	fx_assert_consistent();
}
END_TEST

static unsigned resident_pages(const void *addr, size_t len)
{
	unsigned char vec[1024];
	size_t n = len / PAGE_SIZE;
	unsigned res = 0;

	ck_assert_uint_le(n, sizeof(vec));
	ck_assert_int_eq(mincore((void *)addr, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	return res;
}

/*
 * mm_mark_free_unbacked(): free frames known to read as zero (new RAM) are
 * PG_DISCARDED, host.frames.discarded counts them, and their first
 * __GFP_ZERO allocation zeroes nothing, so host memory stays untouched
 * until the guest writes. A new VM does not call it (frame_db_create():
 * the zeroing faults host memory in ahead of the guest's writes); the fuzz
 * harnesses do, on RAM they wipe before each input.
 */
START_TEST(test_unbacked_free_frames_need_no_zeroing)
{
	struct frame_db_stats s0, s1;
	struct mm_stats st;
	uint64_t pfns[64], marked;
	unsigned done;

	mm_get_stats(fx.mm, &st);
	ck_assert_uint_gt(st.frames[FRAME_FREE], 0);
	ck_assert_uint_eq(st.discarded, 0);
	mm_drain_pcp(fx.mm);
	marked = mm_mark_free_unbacked(fx.mm);
	mm_get_stats(fx.mm, &st);
	ck_assert_uint_eq(marked, st.frames[FRAME_FREE]);
	ck_assert_uint_eq(st.discarded, st.frames[FRAME_FREE]);
	frame_db_get_stats(fx.fdb, &s0);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL | __GFP_ZERO, 2, 64, pfns, &done),
			 0);
	ck_assert_uint_eq(done, 64);
	frame_db_get_stats(fx.fdb, &s1);
	ck_assert_uint_eq(s1.zero_pages, s0.zero_pages);
	ck_assert_uint_eq(s1.discard_calls, s0.discard_calls);
	for (unsigned i = 0; i < 64; i++) {
		const uint8_t *p = fx_ptr(pfn_gpa(pfns[i]));

		ck_assert_uint_eq(resident_pages(p, 4 * PAGE_SIZE), 0);
		for (unsigned k = 0; k < 4; k++)
			ck_assert(page_is(p + k * PAGE_SIZE, 0));
	}
	fx_assert_consistent();
}
END_TEST

/* Freed order >= 9 blocks lose their host backing after the batch. */
START_TEST(test_backing_released_after_free)
{
	struct frame_db_stats s0, s1;
	uint64_t pfns[4];
	unsigned orders[4] = {9, 9, 9, 9}, done;
	struct pvmem_host_stats hs;

	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 9, 4, pfns, &done), 0);
	for (unsigned i = 0; i < 4; i++) {
		uint8_t *p = fx_ptr(pfn_gpa(pfns[i]));

		memset(p, 0x5a, 512 * PAGE_SIZE);
		ck_assert_uint_eq(resident_pages(p, 512 * PAGE_SIZE), 512);
	}
	frame_db_get_stats(fx.fdb, &s0);
	ck_assert_int_eq(fx_free(pfns, orders, 4, &done), 0);
	frame_db_get_stats(fx.fdb, &s1);
	ck_assert_uint_ge(s1.discard_pages - s0.discard_pages, 4 * 512);
	ck_assert_uint_eq(s1.discard_errors, 0);
	for (unsigned i = 0; i < 4; i++) {
		uint8_t *p = fx_ptr(pfn_gpa(pfns[i]));

		ck_assert_uint_eq(resident_pages(p, 512 * PAGE_SIZE), 0);
		ck_assert(page_is(p, 0));
	}
	ck_assert_uint_ge(fx_discarded(), 4 * 512);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_ge(hs.reported, 4 * 512);
	fx_assert_consistent();
}
END_TEST

/* The same with a memfd: the hole is punched in the file. */
START_TEST(test_backing_released_memfd)
{
	struct frame_db_config hc = {.kernel_end = FX_KERNEL_END};
	struct guest_mem mem = {.fd = -1, .size = 32 * MiB, .nr_regions = 1};
	struct frame_db *fdb;
	struct pvmem *p;
	uint64_t pfn, blocks;
	unsigned done;
	int fd = memfd_create("pvmem-test", 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 32 * MiB), 0);
	mem.fd = fd;
	mem.regions[0].size = 32 * MiB;
	mem.regions[0].hva =
		mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(mem.regions[0].hva != MAP_FAILED);
	ck_assert_int_eq(frame_db_create(&fdb, &mem, &hc), 0);
	ck_assert_int_eq(pvmem_create(&p, fdb, NULL), 0);
	/* Drive this VM through the common fixture's helpers. */
	fx_teardown();
	fx.mem = mem;
	fx.fdb = fdb;
	fx.p = p;
	fx.mm = frame_db_mm(fdb);
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, 10, 1, &pfn, &done), 0);
	memset(fx_ptr(pfn_gpa(pfn)), 1, 1024 * PAGE_SIZE);
	blocks = resident_pages(fx_ptr(pfn_gpa(pfn)), 1024 * PAGE_SIZE);
	ck_assert_uint_eq(blocks, 1024);
	ck_assert_int_eq(fx_free1(pfn, 10), 0);
	ck_assert_uint_eq(
		resident_pages(fx_ptr(pfn_gpa(pfn)), 1024 * PAGE_SIZE), 0);
	ck_assert(page_is(fx_ptr(pfn_gpa(pfn)), 0));
	fx_assert_consistent();
	pvmem_destroy(p);
	frame_db_destroy(fdb);
	munmap(mem.regions[0].hva, 32 * MiB);
	close(fd);
	memset(&fx, 0, sizeof(fx));
}
END_TEST

START_TEST(test_stats_op_and_text)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_stats *st = fx_ptr(FX_OUT_GPA);
	struct pvmem_req *r;
	char text[2048];
	uint64_t dma;
	int len;

	ck_assert_int_eq(fx_alloc(GFP_DMA32, 1, 3, NULL, NULL), 0);
	ck_assert_int_eq(fx_dma_alloc(2, PAGE_SIZE, 32, &dma), 0);
	b = fx_block_begin(FX_BLOCK_GPA);
	r = fx_block_add(b, PVMEM_OP_STATS);
	r->addr = FX_OUT_GPA;
	r->size = 4096; /* larger than the struct: only the struct is written */
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(r->status, 0);
	ck_assert_uint_eq(r->done, sizeof(*st));
	ck_assert_uint_eq(st->frames[PVMEM_FRAME_GUEST], 6);
	ck_assert_uint_eq(st->frames[PVMEM_FRAME_DMA], 1);
	ck_assert_uint_eq(st->frames[PVMEM_FRAME_RESERVED],
			  FX_KERNEL_END >> 12);
	ck_assert_uint_eq(st->tot_pages, 7);
	ck_assert_uint_eq(st->ram_pages, frame_db_ram_pages(fx.fdb));
	ck_assert_uint_eq(
		st->free_per_zone[ZONE_DMA] + st->free_per_zone[ZONE_DMA32] +
			st->free_per_zone[ZONE_NORMAL] +
			st->free_per_zone[ZONE_MOVABLE] + st->pcp_frames,
		st->frames[PVMEM_FRAME_FREE]);

	len = pvmem_format_stats(fx.p, text, sizeof(text));
	ck_assert_int_lt(len, (int)sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "frames_guest 6\n"));
	ck_assert_ptr_nonnull(strstr(text, "tot_pages 7\n"));
	ck_assert_ptr_nonnull(strstr(text, "dma_mappings 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "op_alloc ok 1 err 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "op_dma_alloc ok 1 err 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "op_stats ok 1 err 0\n"));
	ck_assert_int_eq(pvmem_format_stats(fx.p, text, 8), len);
	ck_assert_uint_eq(strlen(text), 7);
}
END_TEST

/* SPLIT (ABI 1.4) -------------------------------------------------------- */

/* ALLOC then SPLIT of the same array in one block. */
static void alloc_split(unsigned order, unsigned count, struct pvmem_req **ra,
			struct pvmem_req **rs)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);

	memset(fx_ptr(FX_PFNS_GPA), 0, count * sizeof(uint64_t));
	*ra = fx_block_add(b, PVMEM_OP_ALLOC);
	(*ra)->gfp = GFP_KERNEL | __GFP_NORETRY;
	(*ra)->order = (uint8_t)order;
	(*ra)->count = count;
	(*ra)->addr = FX_PFNS_GPA;
	*rs = fx_block_add(b, PVMEM_OP_SPLIT);
	(*rs)->order = (uint8_t)order;
	(*rs)->count = count;
	(*rs)->addr = FX_PFNS_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
}

static void assert_order0_head(uint64_t pfn)
{
	const struct page *pg = mm_pfn_to_page(fx.mm, pfn);

	ck_assert_uint_eq(pg->state, FRAME_GUEST);
	ck_assert_uint_eq(pg->order, 0);
	ck_assert(pg->flags & PG_HEAD);
}

/*
 * Two whole 2 MiB blocks, split in the same exit, come back page by page
 * (as a balloon deflates them), and the host merges them whole again.
 */
START_TEST(test_split_blocks_free_page_by_page)
{
	uint64_t *out = fx_ptr(FX_PFNS_GPA), blk[2];
	struct pvmem_free_ent *fe = fx_ptr(FX_FREE_GPA);
	struct pvmem_info *info = fx_ptr(FX_OUT_GPA);
	struct pvmem_host_stats hs;
	struct pvmem_req *ra, *rs;
	unsigned done;

	{
		struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
		struct pvmem_req *r = fx_block_add(b, PVMEM_OP_INFO);

		r->addr = FX_OUT_GPA;
		r->size = sizeof(*info);
		ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
		ck_assert_int_eq(r->status, 0);
		ck_assert(info->features & PVMEM_F_SPLIT);
		ck_assert_uint_ge(info->abi_minor, 4);
	}
	alloc_split(PAGEBLOCK_ORDER, 2, &ra, &rs);
	ck_assert_int_eq(ra->status, 0);
	ck_assert_uint_eq(ra->done, 2);
	ck_assert_int_eq(rs->status, 0);
	ck_assert_uint_eq(rs->done, 2);
	blk[0] = out[0];
	blk[1] = out[1];
	for (unsigned i = 0; i < 2; i++)
		for (unsigned k = 0; k < PAGEBLOCK_NR_PAGES; k++)
			assert_order0_head(blk[i] + k);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 2 * PAGEBLOCK_NR_PAGES);
	fx_assert_consistent();

	/* The whole block no longer frees as one: it is pages now. */
	ck_assert_int_eq(fx_free1(blk[0], PAGEBLOCK_ORDER), -EINVAL);
	/* Page by page, in two FREEs of 512 entries, odd pages first. */
	for (unsigned i = 0; i < 2; i++) {
		for (unsigned k = 0; k < PAGEBLOCK_NR_PAGES; k++) {
			unsigned half = PAGEBLOCK_NR_PAGES / 2;
			unsigned j = k < half ? 2 * k + 1 : 2 * (k - half);

			fe[k] = (struct pvmem_free_ent){blk[i] + j, 0, 0};
		}
		{
			struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
			struct pvmem_req *r = fx_block_add(b, PVMEM_OP_FREE);

			r->count = PAGEBLOCK_NR_PAGES;
			r->addr = FX_FREE_GPA;
			ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
			ck_assert_int_eq(r->status, 0);
			ck_assert_uint_eq(r->done, PAGEBLOCK_NR_PAGES);
		}
	}
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 0);
	pvmem_get_stats(fx.p, &hs);
	ck_assert_uint_eq(hs.pages_granted, 2 * PAGEBLOCK_NR_PAGES);
	ck_assert_uint_eq(hs.pages_freed, 2 * PAGEBLOCK_NR_PAGES);
	ck_assert_uint_eq(hs.blocks_split, 2);
	ck_assert_uint_eq(hs.ops[PVMEM_OP_SPLIT].ok, 1);
	mm_drain_pcp(fx.mm);
	fx_assert_consistent();
	/* Merged whole again: the same blocks come back at order 9. */
	ck_assert_int_eq(fx_alloc(GFP_KERNEL, PAGEBLOCK_ORDER, 1, out, &done),
			 0);
	ck_assert(out[0] == blk[0] || out[0] == blk[1]);
}
END_TEST

/*
 * ALLOC cut short by the page limit: SPLIT of the zeroed array splits what
 * was granted and stops at the first unfilled entry (pfn 0, reserved).
 */
START_TEST(test_split_stops_where_alloc_stopped)
{
	uint64_t *out = fx_ptr(FX_PFNS_GPA);
	struct pvmem_req *ra, *rs;

	pvmem_set_max_pages(fx.p, PAGEBLOCK_NR_PAGES + 100);
	alloc_split(PAGEBLOCK_ORDER, 3, &ra, &rs);
	ck_assert_int_eq(ra->status, -EDQUOT);
	ck_assert_uint_eq(ra->done, 1);
	ck_assert_int_eq(rs->status, -EPERM);
	ck_assert_uint_eq(rs->done, 1);
	ck_assert_uint_eq(rs->result, 1);
	for (unsigned k = 0; k < PAGEBLOCK_NR_PAGES; k++)
		assert_order0_head(out[0] + k);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), PAGEBLOCK_NR_PAGES);
	fx_assert_consistent();
}
END_TEST

/* A movable block's pieces stay movable: the host may move them alone. */
START_TEST(test_split_movable_keeps_owner)
{
	uint64_t pfn;
	uint32_t owner;
	unsigned done;
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_MIGRATE_SETUP);

	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(r->status, 0);
	ck_assert_int_eq(fx_alloc(GFP_HIGHUSER_MOVABLE, 3, 1, &pfn, &done), 0);
	owner = mm_pfn_to_page(fx.mm, pfn)->owner;
	ck_assert_uint_ne(owner, 0);
	*(uint64_t *)fx_ptr(FX_PFNS_GPA) = pfn;
	b = fx_block_begin(FX_BLOCK_GPA);
	r = fx_block_add(b, PVMEM_OP_SPLIT);
	r->order = 3;
	r->count = 1;
	r->addr = FX_PFNS_GPA;
	ck_assert_int_eq(fx_ring(FX_BLOCK_GPA), 0);
	ck_assert_int_eq(r->status, 0);
	for (unsigned k = 0; k < 8; k++) {
		assert_order0_head(pfn + k);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn + k)->owner, owner);
		ck_assert_uint_eq(mm_pfn_to_page(fx.mm, pfn + k)->migratetype,
				  MIGRATE_MOVABLE);
	}
	fx_assert_consistent();
	for (unsigned k = 0; k < 8; k++)
		ck_assert_int_eq(fx_free1(pfn + k, 0), 0);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p), 1); /* the migration ring */
	fx_assert_consistent();
}
END_TEST

static Suite *pvmem_suite(void)
{
	Suite *s = suite_create("pvmem");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_frame_db_layout);
	tcase_add_test(tc, test_frame_db_rejects_bad_layouts);
	tcase_add_test(tc, test_info_and_pio);
	tcase_add_test(tc, test_alloc_free_batch);
	tcase_add_test(tc, test_zone_choice_by_gfp);
	tcase_add_test(tc, test_dma_alloc_by_bits_and_registry);
	tcase_add_test(tc, test_dma_contains_adjacent_blocks);
	tcase_add_test(tc, test_page_limit_partial_grant);
	tcase_add_test(tc, test_enomem_partial_grant);
	tcase_add_test(tc, test_gfp_zero);
	tcase_add_test(tc, test_unbacked_free_frames_need_no_zeroing);
	tcase_add_test(tc, test_backing_released_after_free);
	tcase_add_test(tc, test_backing_released_memfd);
	tcase_add_test(tc, test_stats_op_and_text);
	tcase_add_test(tc, test_split_blocks_free_page_by_page);
	tcase_add_test(tc, test_split_stops_where_alloc_stopped);
	tcase_add_test(tc, test_split_movable_keeps_owner);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(pvmem_suite)
