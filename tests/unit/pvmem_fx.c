// SPDX-License-Identifier: MIT
/* tests/unit/pvmem_fx.c - the fixture of the pvmem suites. */
#include <string.h>
#include <sys/mman.h>

#include "pvmem_fx.h"
#include "unit.h"

struct fx fx;

static uint8_t *fx_map(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "mmap guest RAM");
	return p;
}

void fx_setup_cfg(const struct pvmem_config *cfg)
{
	struct frame_db_config hc = {.kernel_end = FX_KERNEL_END};
	int err;

	memset(&fx, 0, sizeof(fx));
	fx.mem.fd = -1;
	fx.mem.size = FX_LOW_SIZE + FX_HIGH_SIZE;
	fx.mem.nr_regions = 2;
	fx.mem.regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = FX_LOW_SIZE, .hva = fx_map(FX_LOW_SIZE)};
	fx.mem.regions[1] =
		(struct guest_mem_region){.gpa = FX_HIGH_GPA,
					  .size = FX_HIGH_SIZE,
					  .hva = fx_map(FX_HIGH_SIZE),
					  .fd_offset = FX_LOW_SIZE};
	err = frame_db_create(&fx.fdb, &fx.mem, &hc);
	ck_assert_int_eq(err, 0);
	err = pvmem_create(&fx.p, fx.fdb, cfg);
	ck_assert_int_eq(err, 0);
	fx.mm = frame_db_mm(fx.fdb);
}

void fx_setup(void)
{
	fx_setup_cfg(NULL);
}

void fx_teardown(void)
{
	pvmem_destroy(fx.p);
	frame_db_destroy(fx.fdb);
	for (unsigned i = 0; i < fx.mem.nr_regions; i++)
		munmap(fx.mem.regions[i].hva, fx.mem.regions[i].size);
	memset(&fx, 0, sizeof(fx));
}

void *fx_ptr(uint64_t gpa)
{
	void *p = guest_mem_ptr(&fx.mem, gpa, 1);

	ck_assert_msg(p != NULL, "gpa %#llx not in RAM",
		      (unsigned long long)gpa);
	return p;
}

struct pvmem_block *fx_block_begin(uint64_t gpa)
{
	struct pvmem_block *b = fx_ptr(gpa);

	memset(b, 0, sizeof(*b));
	b->hdr.magic = PVMEM_MAGIC;
	b->hdr.abi_major = PVMEM_ABI_MAJOR;
	b->hdr.abi_minor = PVMEM_ABI_MINOR;
	b->hdr.status = PVMEM_PENDING;
	return b;
}

struct pvmem_req *fx_block_add(struct pvmem_block *b, unsigned op)
{
	struct pvmem_req *r = &b->reqs[b->hdr.nr_reqs++];

	memset(r, 0, sizeof(*r));
	r->op = (uint16_t)op;
	r->status = PVMEM_PENDING;
	return r;
}

int fx_ring(uint64_t gpa)
{
	return pvmem_doorbell(fx.p, gpa);
}

/* Ring the default block and return its only request's status. */
static int fx_ring1(struct pvmem_req *r)
{
	int err = fx_ring(FX_BLOCK_GPA);

	ck_assert_int_eq(err, 0);
	ck_assert_int_ne(r->status, PVMEM_PENDING);
	return r->status;
}

int fx_alloc(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
	     unsigned *done)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_ALLOC);
	int status;

	r->gfp = gfp;
	r->order = (uint8_t)order;
	r->count = count;
	r->addr = FX_PFNS_GPA;
	status = fx_ring1(r);
	if (done)
		*done = r->done;
	if (pfns)
		memcpy(pfns, fx_ptr(FX_PFNS_GPA), r->done * sizeof(*pfns));
	return status;
}

int fx_free(const uint64_t *pfns, const unsigned *orders, unsigned count,
	    unsigned *done)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_FREE);
	struct pvmem_free_ent *e = fx_ptr(FX_FREE_GPA);
	int status;

	for (unsigned i = 0; i < count; i++)
		e[i] = (struct pvmem_free_ent){.pfn = pfns[i],
					       .order = orders[i]};
	r->count = count;
	r->addr = FX_FREE_GPA;
	status = fx_ring1(r);
	ck_assert_uint_eq(r->result, r->done);
	if (done)
		*done = r->done;
	return status;
}

int fx_free1(uint64_t pfn, unsigned order)
{
	return fx_free(&pfn, &order, 1, NULL);
}

int fx_dma_alloc(uint32_t dev, uint64_t size, unsigned dma_bits, uint64_t *gpa)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_DMA_ALLOC);
	int status;

	r->device_id = dev;
	r->size = size;
	r->dma_bits = (uint8_t)dma_bits;
	status = fx_ring1(r);
	if (gpa)
		*gpa = r->result;
	return status;
}

int fx_dma_free(uint32_t dev, uint64_t gpa)
{
	struct pvmem_block *b = fx_block_begin(FX_BLOCK_GPA);
	struct pvmem_req *r = fx_block_add(b, PVMEM_OP_DMA_FREE);

	r->device_id = dev;
	r->addr = gpa;
	return fx_ring1(r);
}

uint64_t fx_frames(unsigned state)
{
	struct mm_stats st;

	mm_get_stats(fx.mm, &st);
	return st.frames[state];
}

uint64_t fx_discarded(void)
{
	struct mm_stats st;

	mm_get_stats(fx.mm, &st);
	return st.discarded;
}

void fx_assert_consistent(void)
{
	char why[256] = "";
	struct mm_stats st;
	int err = mm_check(fx.mm, why, sizeof(why));

	ck_assert_msg(err == 0, "mm_check: %d %s", err, why);
	err = pvmem_rings_check(pvmem_rings(fx.p), why, sizeof(why));
	ck_assert_msg(err == 0, "pvmem_rings_check: %d %s", err, why);
	mm_get_stats(fx.mm, &st);
	ck_assert_uint_eq(pvmem_tot_pages(fx.p),
			  st.frames[FRAME_GUEST] + st.frames[FRAME_DMA]);
}
