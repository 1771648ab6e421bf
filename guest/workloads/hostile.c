// SPDX-License-Identifier: MIT
/*
 * workload=hostile: a malicious driver. Sends the pvmem device malformed
 * requests - bad header, unknown op, out-of-range arguments, buffers and
 * pfns outside RAM, frames it does not hold, double and wrong-order frees,
 * another device's DMA block, the kernel image's frames - and expects each
 * to be refused with its specific error code and nothing else to change.
 * Done only if every case was refused correctly and the host's tot_pages is
 * back where it started (the VMM's --check then proves the page database).
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

/* Far outside any RAM the VMM accepts (64 GiB max): 1 TiB. */
#define HOSTILE_NOWHERE (1ull << 40)

static uint64_t hostile_out[PVMEM_MAX_COUNT + 1];
static struct pvmem_free_ent hostile_ents[4];

/* A fresh batch with one request of @op, and its result. */
static struct pvmem_req *h_req(struct pvmem_block **b, unsigned op)
{
	*b = pv_batch_begin();
	return pv_batch_add(*b, (enum pvmem_op)op);
}

static int h_ring(struct pvmem_block *b, const struct pvmem_req *r)
{
	int err = pv_batch_ring(b);

	return err ? err : r->status;
}

static int h_alloc_raw(unsigned order, unsigned count, uint32_t gfp,
		       uint64_t addr)
{
	struct pvmem_block *b;
	struct pvmem_req *r = h_req(&b, PVMEM_OP_ALLOC);

	r->order = (uint8_t)order;
	r->count = count;
	r->gfp = gfp;
	r->addr = addr;
	return h_ring(b, r);
}

static int h_free_one(uint64_t pfn, uint32_t order, uint32_t reserved)
{
	hostile_ents[0] = (struct pvmem_free_ent){pfn, order, reserved};
	return pv_free(hostile_ents, 1, NULL);
}

static uint64_t h_page(unsigned order)
{
	void *p = pv_alloc_block(GFP_KERNEL, order);

	GUEST_ASSERT(p);
	return virt_to_pfn(p);
}

/* --- the header -------------------------------------------------------- */

static int h_bad_magic(void)
{
	struct pvmem_block *b;

	h_req(&b, PVMEM_OP_STATS);
	b->hdr.magic = 0xdeadbeef;
	return pv_batch_ring(b);
}

static int h_bad_version(void)
{
	struct pvmem_block *b;

	h_req(&b, PVMEM_OP_STATS);
	b->hdr.abi_major = PVMEM_ABI_MAJOR + 1;
	return pv_batch_ring(b);
}

static int h_no_requests(void)
{
	return pv_batch_ring(pv_batch_begin());
}

static int h_too_many_requests(void)
{
	struct pvmem_block *b = pv_batch_begin();

	b->hdr.nr_reqs = PVMEM_MAX_REQS + 1;
	return pv_batch_ring(b);
}

static int h_header_flags(void)
{
	struct pvmem_block *b;

	h_req(&b, PVMEM_OP_STATS);
	b->hdr.flags = 1;
	return pv_batch_ring(b);
}

/* --- requests ------------------------------------------------------------ */

static int h_unknown_op(void)
{
	struct pvmem_block *b;
	struct pvmem_req *r = h_req(&b, 99);

	return h_ring(b, r);
}

static int h_order_11(void)
{
	return h_alloc_raw(11, 1, GFP_KERNEL, (uintptr_t)hostile_out);
}

static int h_count_huge(void)
{
	return h_alloc_raw(0, PVMEM_MAX_COUNT + 1, GFP_KERNEL,
			   (uintptr_t)hostile_out);
}

static int h_count_zero(void)
{
	return h_alloc_raw(0, 0, GFP_KERNEL, (uintptr_t)hostile_out);
}

static int h_gfp_nofail(void)
{
	return h_alloc_raw(0, 1, GFP_KERNEL | __GFP_NOFAIL,
			   (uintptr_t)hostile_out);
}

static int h_reserved_field(void)
{
	struct pvmem_block *b;
	struct pvmem_req *r = h_req(&b, PVMEM_OP_ALLOC);

	r->count = 1;
	r->addr = (uintptr_t)hostile_out;
	r->reserved0 = 1;
	return h_ring(b, r);
}

static int h_array_outside_ram(void)
{
	return h_alloc_raw(0, 1, GFP_KERNEL, HOSTILE_NOWHERE);
}

static int h_array_in_hole(void)
{
	return h_alloc_raw(0, 1, GFP_KERNEL, BVM_LOWMEM_END + 0x1000);
}

static int h_stats_outside_ram(void)
{
	struct pvmem_block *b;
	struct pvmem_req *r = h_req(&b, PVMEM_OP_STATS);

	r->addr = HOSTILE_NOWHERE;
	r->size = sizeof(struct pvmem_stats);
	return h_ring(b, r);
}

/* --- frees ---------------------------------------------------------------- */

static int h_free_array_outside(void)
{
	struct pvmem_block *b;
	struct pvmem_req *r = h_req(&b, PVMEM_OP_FREE);

	r->count = 1;
	r->addr = HOSTILE_NOWHERE;
	return h_ring(b, r);
}

static int h_pfn_outside_ram(void)
{
	return h_free_one(HOSTILE_NOWHERE >> 12, 0, 0);
}

static int h_kernel_image(void)
{
	return h_free_one(BVM_KERNEL_BASE >> 12, 0, 0);
}

static int h_boot_data(void)
{
	return h_free_one(0, 0, 0);
}

static int h_double_free(void)
{
	uint64_t pfn = h_page(0);

	GUEST_ASSERT_EQ(h_free_one(pfn, 0, 0), 0);
	return h_free_one(pfn, 0, 0);
}

static int h_wrong_order(void)
{
	uint64_t pfn = h_page(2);
	int err = h_free_one(pfn, 1, 0);

	GUEST_ASSERT_EQ(h_free_one(pfn, 2, 0), 0);
	return err;
}

static int h_tail_pfn(void)
{
	uint64_t pfn = h_page(2);
	int err = h_free_one(pfn + 1, 0, 0);

	GUEST_ASSERT_EQ(h_free_one(pfn, 2, 0), 0);
	return err;
}

static int h_free_entry_reserved(void)
{
	uint64_t pfn = h_page(0);
	int err = h_free_one(pfn, 0, 7);

	GUEST_ASSERT_EQ(h_free_one(pfn, 0, 0), 0);
	return err;
}

/* [good, kernel frame, good]: stops at entry 1, the third stays held. */
static int h_free_stops_at_bad(void)
{
	uint64_t a = h_page(0), c = h_page(0);
	unsigned freed;
	int err;

	hostile_ents[0] = (struct pvmem_free_ent){.pfn = a};
	hostile_ents[1] = (struct pvmem_free_ent){.pfn = BVM_KERNEL_BASE >> 12};
	hostile_ents[2] = (struct pvmem_free_ent){.pfn = c};
	err = pv_free(hostile_ents, 3, &freed);
	GUEST_ASSERT_EQ(freed, 1);
	GUEST_ASSERT_EQ(pv_batch_begin()->reqs[0].result, 1);
	GUEST_ASSERT_EQ(h_free_one(c, 0, 0), 0);
	return err;
}

/* --- DMA ----------------------------------------------------------------- */

static int h_free_dma_as_guest(void)
{
	uint64_t gpa;
	int err;

	GUEST_ASSERT_EQ(pv_dma_alloc(1, PS_PAGE_SIZE, 32, 0, &gpa), 0);
	err = h_free_one(gpa >> 12, 0, 0);
	GUEST_ASSERT_EQ(pv_dma_free(1, gpa), 0);
	return err;
}

static int h_dma_free_other_device(void)
{
	uint64_t gpa;
	int err;

	GUEST_ASSERT_EQ(pv_dma_alloc(1, 2 * PS_PAGE_SIZE, 32, 0, &gpa), 0);
	err = pv_dma_free(2, gpa);
	GUEST_ASSERT_EQ(pv_dma_free(1, gpa), 0);
	return err;
}

static int h_dma_free_no_block(void)
{
	uint64_t pfn = h_page(0);
	int err = pv_dma_free(1, pfn << 12);

	GUEST_ASSERT_EQ(h_free_one(pfn, 0, 0), 0);
	return err;
}

static int h_dma_free_unaligned(void)
{
	return pv_dma_free(1, 0x1000123);
}

static int h_dma_device_0(void)
{
	uint64_t gpa;

	return pv_dma_alloc(0, PS_PAGE_SIZE, 32, 0, &gpa);
}

static int h_dma_device_64(void)
{
	uint64_t gpa;

	return pv_dma_alloc(PVMEM_MAX_DEVICE_ID + 1, PS_PAGE_SIZE, 32, 0, &gpa);
}

static int h_dma_bits(void)
{
	uint64_t gpa;

	return pv_dma_alloc(1, PS_PAGE_SIZE, 5, 0, &gpa);
}

static int h_dma_too_big(void)
{
	uint64_t gpa;

	/* ABI 1.2: one byte beyond the largest buffer (64 MiB). */
	return pv_dma_alloc(1, PVMEM_MAX_DMA_BYTES + 1, 32, 0, &gpa);
}

/* --- the doorbell itself ----------------------------------------------- */

/*
 * Blocks the host cannot read (beyond RAM, in the hole, the doorbell's own
 * page) and accesses of the wrong size: the host refuses them without
 * writing anything, and the device keeps working.
 */
static int h_bad_doorbells(void)
{
	struct pvmem_stats st;

	pv_ring_pfn((uint32_t)(HOSTILE_NOWHERE >> 12));
	pv_ring_pfn((uint32_t)(PVMEM_MMIO_BASE >> 12));
	pv_ring_pfn(0xffffffffu);
	*(volatile uint8_t *)(uintptr_t)PVMEM_MMIO_BASE = 1;
	*(volatile uint32_t *)(uintptr_t)(PVMEM_MMIO_BASE + 4) = 1;
	return pv_stats(&st);
}

struct hostile_case {
	const char *name;
	int (*run)(void);
	int want;
};

static const struct hostile_case hostile_cases[] = {
	{"bad magic", h_bad_magic, PVMEM_EPROTO},
	{"bad ABI major", h_bad_version, PVMEM_EPROTO},
	{"no requests", h_no_requests, -EINVAL},
	{"64 requests", h_too_many_requests, -E2BIG},
	{"header flags", h_header_flags, -EINVAL},
	{"unknown op", h_unknown_op, -ENOSYS},
	{"order 11", h_order_11, -EINVAL},
	{"count 513", h_count_huge, -E2BIG},
	{"count 0", h_count_zero, -EINVAL},
	{"__GFP_NOFAIL", h_gfp_nofail, -EINVAL},
	{"reserved field set", h_reserved_field, -EINVAL},
	{"pfn array outside RAM", h_array_outside_ram, -EFAULT},
	{"pfn array in the MMIO hole", h_array_in_hole, -EFAULT},
	{"STATS output outside RAM", h_stats_outside_ram, -EFAULT},
	{"FREE array outside RAM", h_free_array_outside, -EFAULT},
	{"free pfn outside RAM", h_pfn_outside_ram, -ERANGE},
	{"free kernel image frame", h_kernel_image, -EPERM},
	{"free boot data frame", h_boot_data, -EPERM},
	{"double free", h_double_free, -EPERM},
	{"free with wrong order", h_wrong_order, -EINVAL},
	{"free a tail pfn", h_tail_pfn, -EINVAL},
	{"free entry reserved set", h_free_entry_reserved, -EINVAL},
	{"free stops at bad entry", h_free_stops_at_bad, -EPERM},
	{"FREE of a DMA block", h_free_dma_as_guest, -EPERM},
	{"DMA free by another device", h_dma_free_other_device, -EPERM},
	{"DMA free where no block", h_dma_free_no_block, -ENOENT},
	{"DMA free unaligned", h_dma_free_unaligned, -EINVAL},
	{"DMA device 0", h_dma_device_0, -EINVAL},
	{"DMA device 64", h_dma_device_64, -EINVAL},
	{"DMA bits 5", h_dma_bits, -EINVAL},
	{"DMA size 64 MiB + 1", h_dma_too_big, -E2BIG},
	{"bad doorbells, then STATS", h_bad_doorbells, 0},
};

static void hostile_run(void)
{
	struct pvmem_stats st0, st1;
	unsigned wrong = 0;
	int err;

	guest_require_hosted("hostile");
	err = guest_mm_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	GUEST_ASSERT_EQ(pv_stats(&st0), 0);
	for (unsigned i = 0; i < MM_ARRAY_SIZE(hostile_cases); i++) {
		const struct hostile_case *c = &hostile_cases[i];
		int got = c->run();

		guest_printf("hostile: %-28s want %4d got %4d %s\n", c->name,
			     c->want, got, got == c->want ? "ok" : "WRONG");
		wrong += got != c->want;
	}
	GUEST_ASSERT_EQ(pv_stats(&st1), 0);
	GUEST_ASSERT_EQ(st1.tot_pages, st0.tot_pages);
	/* Every DMA block of the cases was freed (the console's stay). */
	GUEST_ASSERT_EQ(st1.frames[PVMEM_FRAME_DMA],
			st0.frames[PVMEM_FRAME_DMA]);
	if (wrong)
		guest_fail(__FILE__, __LINE__,
			   "%u of %zu hostile requests "
			   "were not refused as expected",
			   wrong, MM_ARRAY_SIZE(hostile_cases));
	guest_printf("hostile: all %zu malformed requests refused with the "
		     "right code\n",
		     MM_ARRAY_SIZE(hostile_cases));
	guest_mm_publish();
}
GUEST_WORKLOAD(hostile, "hostile",
	       "malformed pvmem requests, each refused with its error code",
	       hostile_run);
