// SPDX-License-Identifier: MIT
/*
 * guest/mbuf.c - movable buffers (guest/include/mbuf.h). The handle table
 * lives in the kernel image (never moves); each handle names one block.
 * A move is two steps so that the hosted model can wait for the host's
 * verdict: prepare (copy, lock) and finish (switch or not). The native
 * model's owner callbacks do both at once.
 */
#include "guest.h"
#include "guest_migrate.h"
#include "mbuf.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm/mm.h"
#include "mm_stack.h"
#include "native_mm.h"
#include "pvmem_guest.h"

struct mbuf {
	uint64_t pfn;
	uint8_t order;
	bool used, moving;
	uint16_t mapped;
};

static struct mbuf mbufs[MBUF_MAX];
static struct mbuf_stats stats;
static int native_owner; /* id in the guest's mm; 0: hosted or not yet */
static bool ready;

#define MBUF_GFP (GFP_HIGHUSER_MOVABLE)

static struct mbuf *find_pfn(uint64_t pfn)
{
	for (unsigned i = 0; i < MBUF_MAX; i++)
		if (mbufs[i].used && mbufs[i].pfn == pfn)
			return &mbufs[i];
	return NULL;
}

static void copy_block(uint64_t dst, uint64_t src, unsigned order)
{
	memcpy(pfn_to_virt(dst), pfn_to_virt(src), PAGE_SIZE << order);
}

/*
 * May @b (the buffer a pfn names, or NULL) move as a block of @order now?
 * -ENOENT: no buffer's block, or one already moving; -EBUSY: mapped, counted
 * as refused. Native isolation and the hosted ring ask the same question.
 */
static int may_move(const struct mbuf *b, unsigned order)
{
	if (!b || b->order != order || b->moving)
		return -ENOENT;
	if (b->mapped) {
		stats.refused++;
		return -EBUSY;
	}
	return 0;
}

int mbuf_prepare_move(uint64_t src, uint64_t dst, unsigned order)
{
	struct mbuf *b = find_pfn(src);
	int err = may_move(b, order);

	if (err)
		return err;
	copy_block(dst, src, order);
	b->moving = true;
	return 0;
}

void mbuf_finish_move(uint64_t src, uint64_t dst, bool moved)
{
	struct mbuf *b = find_pfn(src);

	if (!b || !b->moving)
		return;
	b->moving = false;
	if (moved) {
		b->pfn = dst;
		stats.moved++;
	} else {
		stats.stale++;
	}
}

/* Native model: the owner callbacks of the guest's own mm. */
static int native_isolate(void *opaque, uint64_t pfn, unsigned order)
{
	return may_move(find_pfn(pfn), order);
}

static int native_migrate(void *opaque, uint64_t dst, uint64_t src,
			  unsigned order, enum migrate_mode mode)
{
	int err = mbuf_prepare_move(src, dst, order);

	if (err)
		return err;
	mbuf_finish_move(src, dst, true);
	return 0;
}

static void native_putback(void *opaque, uint64_t pfn, unsigned order)
{
}

static const struct mm_movable_ops native_ops = {
	.isolate = native_isolate,
	.migrate = native_migrate,
	.putback = native_putback,
};

/* Register the owner (native: with the guest's mm). Idempotent. */
static int mbuf_init(void)
{
	int id;

	if (ready)
		return 0;
	if (guest_boot.native) {
		id = mm_register_movable_owner(native_mm(), &native_ops, NULL);
		if (id < 0)
			return id;
		native_owner = id;
	}
	ready = true;
	return 0;
}

int mbuf_start(void)
{
	int err = guest_mm_init();

	if (!err)
		err = mbuf_init();
	if (!err && !guest_boot.native)
		err = gmig_init();
	return err;
}

static int block_alloc(unsigned order, uint64_t *pfn)
{
	static uint64_t out; /* in the image: memory the host may write */
	unsigned granted;
	void *p;
	int err;

	if (guest_boot.native) {
		p = native_mm_alloc(MBUF_GFP, order);
		if (!p)
			return -ENOMEM;
		*pfn = virt_to_pfn(p);
		return mm_set_movable_owner(native_mm(), *pfn, order,
					    (uint32_t)native_owner);
	}
	err = pv_alloc(MBUF_GFP, order, 1, &out, &granted);
	if (err)
		return err;
	*pfn = out;
	return 0;
}

static void block_free(uint64_t pfn, unsigned order)
{
	int err = guest_boot.native ? native_mm_free(pfn_to_virt(pfn), order)
				    : pv_free_block(pfn_to_virt(pfn), order);

	if (err)
		guest_fail(__FILE__, __LINE__,
			   "mbuf: block 0x%llx order %u refused: %d",
			   (unsigned long long)pfn, order, err);
}

struct mbuf *mbuf_alloc(uint64_t size)
{
	unsigned order = mm_get_order(size);
	uint64_t pfn;

	if (!ready || order > MBUF_MAX_ORDER)
		return NULL;
	for (unsigned i = 0; i < MBUF_MAX; i++) {
		struct mbuf *b = &mbufs[i];

		if (b->used)
			continue;
		if (block_alloc(order, &pfn))
			return NULL;
		*b = (struct mbuf){
			.pfn = pfn, .order = (uint8_t)order, .used = true};
		stats.live++;
		return b;
	}
	return NULL;
}

void mbuf_free(struct mbuf *b)
{
	GUEST_ASSERT(b->used && !b->mapped && !b->moving);
	block_free(b->pfn, b->order);
	b->used = false;
	stats.live--;
}

void *mbuf_map(struct mbuf *b)
{
	GUEST_ASSERT(b->used && !b->moving);
	b->mapped++;
	return pfn_to_virt(b->pfn);
}

void mbuf_unmap(struct mbuf *b)
{
	GUEST_ASSERT(b->mapped > 0);
	b->mapped--;
}

uint64_t mbuf_pfn(const struct mbuf *b)
{
	return b->pfn;
}

unsigned mbuf_order(const struct mbuf *b)
{
	return b->order;
}

void mbuf_get_stats(struct mbuf_stats *st)
{
	*st = stats;
}
