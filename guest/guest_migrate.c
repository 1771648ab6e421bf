// SPDX-License-Identifier: MIT
/*
 * guest/guest_migrate.c - the guest's side of migration
 * (guest/include/guest_migrate.h, docs/hosted-memory.md "Migration").
 *
 * Hosted: the ring is shared memory the host writes; reading its head is a
 * plain load, so polling costs nothing. A drain answers everything it took
 * in one MIGRATE_ANSWER doorbell (one VM exit) and only then lets the
 * owners switch: a buffer moves to dst only when the host said the move
 * happened (status 0), else it stays where it always was, valid.
 */
#include "guest.h"
#include "guest_migrate.h"
#include "mbuf.h"
#include "mm/errno.h"
#include "mm/mm.h"
#include "native_mm.h"
#include "pvmem_guest.h"

static struct pvmem_mig_ring *ring;
/* Answers: in the image, memory the host may read and write. */
static struct pvmem_mig_ans answers[PVMEM_MIG_SLOTS];
static uint8_t kinds[PVMEM_MIG_SLOTS];

__attribute__((weak)) bool gmig_balloon_has(uint64_t src)
{
	return false;
}

__attribute__((weak)) bool gmig_balloon_swap(uint64_t src, uint64_t dst)
{
	return false;
}

int gmig_init(void)
{
	struct pvmem_block *b;
	struct pvmem_req *r;
	int err;

	if (ring)
		return 0;
	if (guest_boot.native || !(pv_info()->features & PVMEM_F_MIGRATE))
		return -GUEST_ENODEV;
	b = pv_batch_begin();
	r = pv_batch_add(b, PVMEM_OP_MIGRATE_SETUP);
	err = pv_batch_ring(b);
	if (!err)
		err = r->status;
	if (err)
		return err;
	ring = pfn_to_virt(r->result >> PVMEM_PAGE_SHIFT);
	GUEST_ASSERT_EQ(ring->magic, PVMEM_MIG_MAGIC);
	/* The wake-up: it only ends a halt; whoever wakes polls the ring. */
	ioapic_route_edge(PVMEM_MIG_IRQ, 0);
	return 0;
}

struct pvmem_mig_ring *gmig_ring(void)
{
	return ring;
}

unsigned gmig_poll(void)
{
	if (!ring)
		return 0;
	return __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) - ring->tail;
}

unsigned gmig_apply_log(bool (*swap)(uint64_t src, uint64_t dst))
{
	uint32_t head, n = 0;

	if (!ring)
		return 0;
	head = __atomic_load_n(&ring->log_head, __ATOMIC_ACQUIRE);
	while (ring->log_tail != head) {
		const struct pvmem_mig_log *e =
			&ring->log[ring->log_tail % PVMEM_MIG_LOG];

		swap(e->src, e->dst);
		__atomic_store_n(&ring->log_tail, ring->log_tail + 1,
				 __ATOMIC_RELEASE);
		n++;
	}
	return n;
}

/* What the owner of @q's source says: 0 (ready to switch) or why not. */
static int take_one(const struct pvmem_mig_req *q)
{
	if (q->kind == PVMEM_MIG_MOVE)
		return mbuf_prepare_move(q->src, q->dst, q->order);
	if (q->kind == PVMEM_MIG_BALLOON)
		return gmig_balloon_has(q->src) ? 0 : -ENOENT;
	return -EINVAL;
}

/* One MIGRATE_ANSWER for answers[0 .. n). */
static void send_answers(unsigned n)
{
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_MIGRATE_ANSWER);

	r->count = n;
	r->addr = (uint64_t)(uintptr_t)answers;
	if (pv_batch_ring(b) != 0 || r->status == PVMEM_PENDING)
		for (unsigned i = 0; i < n; i++)
			answers[i].status = PVMEM_ESTALE; /* nothing ran */
}

/* The host's verdict, to the owner that prepared the move. */
static void apply_verdict(unsigned i)
{
	const struct pvmem_mig_ans *a = &answers[i];
	bool moved = a->result == 0 && a->status == 0;

	if (a->result != 0)
		return; /* nothing was prepared */
	if (kinds[i] == PVMEM_MIG_MOVE)
		mbuf_finish_move(a->src, a->dst, moved);
	else if (moved)
		gmig_balloon_swap(a->src, a->dst);
}

unsigned gmig_drain(void)
{
	uint32_t head;
	unsigned n = 0;

	if (!ring)
		return 0;
	gmig_apply_log(gmig_balloon_swap);
	head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	while (ring->tail != head && n < PVMEM_MIG_SLOTS) {
		struct pvmem_mig_req q =
			ring->reqs[ring->tail % PVMEM_MIG_SLOTS];

		answers[n] = (struct pvmem_mig_ans){.src = q.src,
						    .dst = q.dst,
						    .order = q.order,
						    .result = take_one(&q),
						    .status = PVMEM_PENDING};
		kinds[n++] = q.kind;
		__atomic_store_n(&ring->tail, ring->tail + 1, __ATOMIC_RELEASE);
	}
	if (!n)
		return 0;
	send_answers(n);
	for (unsigned i = 0; i < n; i++)
		apply_verdict(i);
	return n;
}

int gmig_compact(uint64_t *migrated)
{
	struct mm *mm = native_mm();

	*migrated = 0;
	if (!guest_boot.native || !mm)
		return -GUEST_ENODEV;
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct mm_compact_result res;
		int err = mm_compact_zone(mm, (enum zone_type)z, -1,
					  MIGRATE_SYNC, &res);

		if (err && err != -EINVAL)
			return err;
		if (!err)
			*migrated += res.migrated;
	}
	return 0;
}
