// SPDX-License-Identifier: MIT
/*
 * guest/pvmem.c - the guest driver of the paravirtual memory device: one
 * request block per vCPU, every call one doorbell (one VM exit); and, with
 * a 1.3 host, one page ring per vCPU (take, put and kick below).
 */
#include "abi/pvmem_ring.h"
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "pvmem_guest.h"

/*
 * The request block of the very first doorbell: a page of the kernel image,
 * which the host reserved for us, so it counts as held. It asks for the real
 * per-vCPU blocks.
 */
static struct pvmem_block pv_boot_block __attribute__((aligned(4096)));
static uint64_t pv_boot_pfns[BVM_MAX_VCPUS];
static struct pvmem_free_ent pv_boot_ents[BVM_MAX_VCPUS];

static struct pvmem_block *pv_blocks[BVM_MAX_VCPUS];
static struct pvmem_info pv_host_info;
static bool pv_ready;
static uint64_t pv_doorbells, pv_kicks;
static struct pvmem_ring *pv_rings[BVM_MAX_VCPUS];
static uint64_t pv_ring_gpas[BVM_MAX_VCPUS]; /* in the image: held */

_Static_assert(sizeof(struct pvmem_block) == PVMEM_BLOCK_SIZE,
	       "a request block is one page");

void pv_ring_pfn(uint32_t pfn)
{
	/* The block must be complete before the exit, and read after it. */
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(uintptr_t)PVMEM_MMIO_BASE = pfn;
	__asm__ volatile("" ::: "memory");
	__atomic_fetch_add(&pv_doorbells, 1, __ATOMIC_RELAXED);
}

uint64_t pv_doorbell_count(void)
{
	return __atomic_load_n(&pv_doorbells, __ATOMIC_RELAXED);
}

uint64_t pv_kick_count(void)
{
	return __atomic_load_n(&pv_kicks, __ATOMIC_RELAXED);
}

uint64_t pv_exit_count(void)
{
	return pv_doorbell_count() + pv_kick_count();
}

/* Page rings -------------------------------------------------------------- */

struct pvmem_ring *pv_ring(void)
{
	return pv_rings[guest_cpu_id()];
}

void pv_ring_kick(struct pvmem_ring *r, uint32_t flags)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(uintptr_t)(PVMEM_MMIO_BASE + PVMEM_KICK_OFFSET) =
		r->index | flags;
	__asm__ volatile("" ::: "memory");
	__atomic_fetch_add(&pv_kicks, 1, __ATOMIC_RELAXED);
}

uint64_t pv_ring_take(struct pvmem_ring *r)
{
	return pvmem_ring_take(r);
}

bool pv_ring_put(struct pvmem_ring *r, uint64_t pfn)
{
	return pvmem_ring_put(r, pfn);
}

/* One ring per vCPU, if the host has them and the command line allows. */
static void pv_setup_rings(unsigned nr_cpus)
{
	struct pvmem_block *b;
	struct pvmem_req *r;

	if (!(pv_host_info.features & PVMEM_F_RINGS) ||
	    !guest_cmdline_ulong("pvmem.rings", 1))
		return;
	b = pv_batch_begin();
	r = pv_batch_add(b, PVMEM_OP_RING_SETUP);
	r->count = nr_cpus;
	r->addr = (uint64_t)(uintptr_t)pv_ring_gpas;
	if (pv_batch_ring(b) || r->status) {
		guest_printf("pvmem: no page rings (%d): one exit per batch\n",
			     r->status);
		return;
	}
	for (unsigned i = 0; i < nr_cpus; i++)
		pv_rings[i] = pfn_to_virt(pv_ring_gpas[i] >> PVMEM_PAGE_SHIFT);
}

static struct pvmem_block *pv_this_block(void)
{
	struct pvmem_block *b = pv_blocks[guest_cpu_id()];

	return b ? b : &pv_boot_block;
}

struct pvmem_block *pv_batch_begin(void)
{
	struct pvmem_block *b = pv_this_block();

	b->hdr = (struct pvmem_block_hdr){
		.magic = PVMEM_MAGIC,
		.abi_major = PVMEM_ABI_MAJOR,
		.abi_minor = PVMEM_ABI_MINOR,
		.status = PVMEM_PENDING,
	};
	return b;
}

struct pvmem_req *pv_batch_add(struct pvmem_block *b, enum pvmem_op op)
{
	struct pvmem_req *r;

	if (b->hdr.nr_reqs >= PVMEM_MAX_REQS)
		return NULL;
	r = &b->reqs[b->hdr.nr_reqs++];
	*r = (struct pvmem_req){.op = (uint16_t)op, .status = PVMEM_PENDING};
	return r;
}

int pv_batch_ring(struct pvmem_block *b)
{
	pv_ring_pfn((uint32_t)virt_to_pfn(b));
	/* Still pending: the host could not even read the block. */
	return b->hdr.status == PVMEM_PENDING ? -EFAULT : b->hdr.status;
}

/* One request of @op in a fresh batch. */
static struct pvmem_req *pv_single(enum pvmem_op op)
{
	return pv_batch_add(pv_batch_begin(), op);
}

static int pv_ring_single(struct pvmem_req *r)
{
	int err = pv_batch_ring(pv_this_block());

	return err ? err : r->status;
}

int pv_alloc(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
	     unsigned *granted)
{
	struct pvmem_block *b = pv_batch_begin();
	unsigned queued = 0;
	int err;

	*granted = 0;
	if (count == 0 || count > PVMEM_MAX_REQS * PVMEM_MAX_COUNT)
		return -EINVAL;
	while (queued < count) {
		struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_ALLOC);
		unsigned n = MM_MIN(count - queued, PVMEM_MAX_COUNT);

		r->gfp = gfp;
		r->order = (uint8_t)order;
		r->count = n;
		r->addr = (uint64_t)(uintptr_t)(pfns + queued);
		queued += n;
	}
	err = pv_batch_ring(b);
	if (err)
		return err;
	/*
	 * Requests are independent: once one is cut short (page limit), the
	 * later ones may still be granted. Keep the grants contiguous in
	 * @pfns by moving later grants down behind the partial one.
	 */
	for (unsigned i = 0, at = 0; i < b->hdr.nr_reqs; i++) {
		const struct pvmem_req *r = &b->reqs[i];
		uint64_t *src = pfns + (uint64_t)i * PVMEM_MAX_COUNT;

		if (src != pfns + at)
			memmove(pfns + at, src, r->done * sizeof(*pfns));
		at += r->done;
		*granted = at;
		if (r->status && !err)
			err = r->status;
	}
	return err;
}

int pv_free(const struct pvmem_free_ent *ents, unsigned count, unsigned *freed)
{
	struct pvmem_block *b = pv_batch_begin();
	unsigned queued = 0, done = 0;
	int err;

	if (freed)
		*freed = 0;
	if (count == 0 || count > PVMEM_MAX_REQS * PVMEM_MAX_COUNT)
		return -EINVAL;
	while (queued < count) {
		struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_FREE);
		unsigned n = MM_MIN(count - queued, PVMEM_MAX_COUNT);

		r->count = n;
		r->addr = (uint64_t)(uintptr_t)(ents + queued);
		queued += n;
	}
	err = pv_batch_ring(b);
	/* Each request of 512 entries ran on its own: add up, first error. */
	for (unsigned i = 0; !err && i < b->hdr.nr_reqs; i++)
		done += b->reqs[i].done;
	for (unsigned i = 0; !err && i < b->hdr.nr_reqs; i++)
		err = b->reqs[i].status;
	if (freed)
		*freed = done;
	return err;
}

struct pvmem_req *pv_batch_alloc_split(struct pvmem_block *b, uint32_t gfp,
				       unsigned order, unsigned count,
				       uint64_t *pfns)
{
	struct pvmem_req *a, *s;

	if (!(pv_host_info.features & PVMEM_F_SPLIT) || order == 0 ||
	    count == 0 || count > PVMEM_MAX_COUNT ||
	    b->hdr.nr_reqs + 2u > PVMEM_MAX_REQS)
		return NULL;
	/* An entry ALLOC leaves unfilled must stop SPLIT: pfn 0 is reserved. */
	memset(pfns, 0, count * sizeof(*pfns));
	a = pv_batch_add(b, PVMEM_OP_ALLOC);
	a->gfp = gfp;
	a->order = (uint8_t)order;
	a->count = count;
	a->addr = (uint64_t)(uintptr_t)pfns;
	s = pv_batch_add(b, PVMEM_OP_SPLIT);
	s->order = (uint8_t)order;
	s->count = count;
	s->addr = a->addr;
	return a;
}

unsigned pv_split_granted(struct pvmem_req *alloc)
{
	const struct pvmem_req *split = alloc + 1;
	const uint64_t *pfns = (const uint64_t *)(uintptr_t)alloc->addr;
	unsigned granted = alloc->done, nsplit = MM_MIN(split->done, granted);
	unsigned order = alloc->order;
	int why = split->status;

	/* Granted, not split (a host bug): give those back whole. */
	for (unsigned i = nsplit; i < granted; i++) {
		int err = pv_free_block(pfn_to_virt(pfns[i]), order);

		if (err)
			guest_fail(__FILE__, __LINE__,
				   "pvmem: SPLIT refused a block ALLOC just "
				   "granted (%d), and FREE refused it back: %d",
				   why, err);
	}
	return nsplit;
}

int pv_alloc_split(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
		   unsigned *granted)
{
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *a;
	int err;

	*granted = 0;
	a = pv_batch_alloc_split(b, gfp, order, count, pfns);
	if (!a)
		return (pv_host_info.features & PVMEM_F_SPLIT) ? -EINVAL
							       : -ENOSYS;
	err = pv_batch_ring(b);
	if (err)
		return err;
	err = a->status;
	*granted = pv_split_granted(a);
	return err;
}

void *pv_alloc_block(uint32_t gfp, unsigned order)
{
	/* In the image (held RAM), one per vCPU: the host writes it. */
	static uint64_t pfn_out[BVM_MAX_VCPUS];
	uint64_t *pfn = &pfn_out[guest_cpu_id()];
	unsigned granted;

	if (pv_alloc(gfp, order, 1, pfn, &granted) || granted != 1)
		return NULL;
	return pfn_to_virt(*pfn);
}

int pv_free_block(void *addr, unsigned order)
{
	static struct pvmem_free_ent ent_out[BVM_MAX_VCPUS];
	struct pvmem_free_ent *e = &ent_out[guest_cpu_id()];

	*e = (struct pvmem_free_ent){.pfn = virt_to_pfn(addr), .order = order};
	return pv_free(e, 1, NULL);
}

int pv_dma_alloc(unsigned dev, uint64_t size, unsigned dma_bits, uint32_t gfp,
		 uint64_t *gpa)
{
	struct pvmem_req *r = pv_single(PVMEM_OP_DMA_ALLOC);
	int err;

	r->device_id = dev;
	r->size = size;
	r->dma_bits = (uint8_t)dma_bits;
	r->gfp = gfp;
	err = pv_ring_single(r);
	if (!err)
		*gpa = r->result;
	return err;
}

int pv_dma_free(unsigned dev, uint64_t gpa)
{
	struct pvmem_req *r = pv_single(PVMEM_OP_DMA_FREE);

	r->device_id = dev;
	r->addr = gpa;
	return pv_ring_single(r);
}

/* INFO and STATS: the host writes into @out, which must be held memory. */
static int pv_query(enum pvmem_op op, void *out, uint64_t size)
{
	struct pvmem_req *r = pv_single(op);

	r->addr = (uint64_t)(uintptr_t)out;
	r->size = size;
	return pv_ring_single(r);
}

int pv_stats(struct pvmem_stats *st)
{
	/* The caller's struct may be on its stack: in the image, so held. */
	return pv_query(PVMEM_OP_STATS, st, sizeof(*st));
}

const struct pvmem_info *pv_info(void)
{
	return &pv_host_info;
}

/* One ALLOC through the boot block: a page per vCPU for its own block. */
static int pv_alloc_blocks(unsigned nr_cpus)
{
	unsigned granted;
	int err = pv_alloc(GFP_KERNEL | __GFP_ZERO, 0, nr_cpus, pv_boot_pfns,
			   &granted);

	if (err) {
		for (unsigned i = 0; i < granted; i++)
			pv_boot_ents[i] =
				(struct pvmem_free_ent){.pfn = pv_boot_pfns[i]};
		if (granted)
			pv_free(pv_boot_ents, granted, NULL);
		return err;
	}
	for (unsigned i = 0; i < nr_cpus; i++)
		pv_blocks[i] = pfn_to_virt(pv_boot_pfns[i]);
	return 0;
}

int pv_init(void)
{
	int err;

	if (pv_ready)
		return 0;
	if (guest_boot.native ||
	    *(volatile uint32_t *)(uintptr_t)PVMEM_MMIO_BASE != PVMEM_MAGIC)
		return -GUEST_ENODEV;
	err = pv_query(PVMEM_OP_INFO, &pv_host_info, sizeof(pv_host_info));
	if (err)
		return err;
	if (pv_host_info.abi_major != PVMEM_ABI_MAJOR)
		return PVMEM_EPROTO;
	err = pv_alloc_blocks(guest_boot.nr_cpus);
	if (err)
		return err;
	pv_setup_rings(guest_boot.nr_cpus);
	pv_ready = true;
	return 0;
}
