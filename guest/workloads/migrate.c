// SPDX-License-Identifier: MIT
/*
 * workload=migrate: movable buffers survive compaction, in both memory
 * models. Allocate migrate.bufs buffers (orders 0-3) with a pattern each,
 * free every other one (holes), pin every eighth, then compact: hosted,
 * the host moves them (COMPACT, then the guest drains its ring and answers
 * in one doorbell per drain); native, the guest's own mm/ compaction does.
 * Every pattern must be intact, pinned buffers must not have moved, and
 * some buffers must have moved.
 */
#include "guest.h"
#include "guest_migrate.h"
#include "mbuf.h"
#include "mm/errno.h"
#include "abi/layout.h"
#include "mm/page_order.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define MG_MAX 512

static struct mbuf *bufs[MG_MAX];
static uint64_t before[MG_MAX];

static uint8_t mg_byte(unsigned i)
{
	return (uint8_t)(i * 37 + 11);
}

static bool mg_intact(struct mbuf *b, unsigned i)
{
	const uint8_t *p = mbuf_map(b);
	uint64_t len = PAGE_SIZE << mbuf_order(b);
	bool ok = true;

	for (uint64_t k = 0; k < len && ok; k += 64)
		ok = p[k] == mg_byte(i) && p[k + 63] == mg_byte(i);
	mbuf_unmap(b);
	return ok;
}

/*
 * migrate.wait_irq=1: halt (no timer armed) until the host's migration
 * wake-up arrives, as an idle guest would; only then drain. A guest that
 * never woke would hang here and the test's --timeout would fail it.
 */
static void mg_wait_wakeup(void)
{
	uint64_t bits = 0, t0 = rdtsc(), khz = guest_tsc_khz();

	while (!(bits & (1ull << PVMEM_MIG_IRQ))) {
		guest_wait_for_interrupt();
		bits |= guest_take_device_irqs();
	}
	guest_printf("migrate: woken by the migration interrupt after %llu "
		     "ms\n",
		     (unsigned long long)((rdtsc() - t0) / khz));
}

/* Hosted: the host posts, we drain until every request is answered. */
static unsigned mg_compact_hosted(void)
{
	struct pvmem_block *b = pv_batch_begin();
	struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_COMPACT);
	unsigned posted, handled = 0;

	GUEST_ASSERT_EQ(pv_batch_ring(b), 0);
	GUEST_ASSERT_EQ(r->status, 0);
	posted = r->done;
	guest_printf("migrate: host posted %u requests (%llu busy)\n", posted,
		     (unsigned long long)r->result);
	if (guest_cmdline_ulong("migrate.wait_irq", 0))
		mg_wait_wakeup();
	while (handled < posted) {
		unsigned n = gmig_drain();

		GUEST_ASSERT(n > 0 || gmig_poll() == 0);
		if (!n)
			break;
		handled += n;
	}
	GUEST_ASSERT_EQ(handled, posted);
	return posted;
}

/*
 * migrate.host=1: the operator compacts (vmm compact); drain what comes
 * (woken by the 1 ms tick or the migration interrupt) until some buffer
 * moved and nothing waits.
 */
static void mg_wait_host(void)
{
	struct mbuf_stats ms;

	lapic_timer_periodic(1000);
	guest_printf("migrate: waiting for the host\n");
	for (;;) {
		gmig_drain();
		mbuf_get_stats(&ms);
		if (ms.moved > 0 && !gmig_poll())
			break;
		guest_wait_for_interrupt();
	}
	lapic_timer_stop();
}

static void migrate_run(void)
{
	unsigned n = (unsigned)guest_cmdline_ulong("migrate.bufs", 256);
	unsigned moved = 0, pinned = 0, live = 0;
	uint64_t native_moved = 0, bytes = 0, t0, t1, d0, exits;
	struct mbuf_stats ms;
	int err;

	GUEST_ASSERT(n >= 8 && n <= MG_MAX);
	err = mbuf_start();
	if (err)
		guest_fail(__FILE__, __LINE__, "migrate: init: %d", err);
	for (unsigned i = 0; i < n; i++) {
		bufs[i] = mbuf_alloc(PAGE_SIZE << (i * 7 % 4));
		GUEST_ASSERT(bufs[i] != NULL);
		memset(mbuf_map(bufs[i]), mg_byte(i),
		       PAGE_SIZE << mbuf_order(bufs[i]));
		mbuf_unmap(bufs[i]);
	}
	for (unsigned i = 1; i < n; i += 2) {
		mbuf_free(bufs[i]);
		bufs[i] = NULL;
	}
	for (unsigned i = 0; i < n; i += 2) {
		before[i] = mbuf_pfn(bufs[i]);
		if (i % 16 == 0) {
			mbuf_map(bufs[i]);
			pinned++;
		}
	}
	t0 = rdtsc();
	d0 = pv_doorbell_count();
	if (guest_boot.native) {
		err = gmig_compact(&native_moved);
		GUEST_ASSERT_EQ(err, 0);
		guest_printf("migrate: native compaction moved %llu frames\n",
			     (unsigned long long)native_moved);
	} else if (guest_cmdline_ulong("migrate.host", 0)) {
		mg_wait_host();
	} else {
		mg_compact_hosted();
	}
	t1 = rdtsc();
	exits = pv_doorbell_count() - d0;
	for (unsigned i = 0; i < n; i += 2) {
		bool was_pinned = i % 16 == 0;

		if (was_pinned) {
			mbuf_unmap(bufs[i]);
			GUEST_ASSERT_EQ(mbuf_pfn(bufs[i]), before[i]);
		}
		if (!mg_intact(bufs[i], i))
			guest_fail(__FILE__, __LINE__,
				   "migrate: buffer %u lost its data", i);
		if (mbuf_pfn(bufs[i]) != before[i]) {
			moved++;
			bytes += PAGE_SIZE << mbuf_order(bufs[i]);
		}
		live++;
	}
	mbuf_get_stats(&ms);
	guest_printf("migrate: %u of %u buffers moved, %u pinned, %llu "
		     "refused, %llu stale\n",
		     moved, live, pinned, (unsigned long long)ms.refused,
		     (unsigned long long)ms.stale);
	if (!guest_cmdline_ulong("migrate.host", 0) &&
	    !guest_cmdline_ulong("migrate.wait_irq", 0))
		guest_printf("migrate: %llu KiB moved in %llu us, %llu "
			     "doorbells\n",
			     (unsigned long long)(bytes >> 10),
			     (unsigned long long)((t1 - t0) * 1000 /
						  guest_tsc_khz()),
			     (unsigned long long)exits);
	/* Woken late on a loaded host, the answers may all be stale. */
	GUEST_ASSERT(moved > 0 || (guest_cmdline_ulong("migrate.wait_irq", 0) &&
				   ms.stale > 0));
	GUEST_ASSERT_EQ(moved, ms.moved);
	for (unsigned i = 0; i < n; i += 2)
		mbuf_free(bufs[i]);
	guest_printf("migrate: ok\n");
	/* migrate.host=1: the host reads its counters, then quits. */
	while (guest_cmdline_ulong("migrate.host", 0))
		guest_wait_for_interrupt();
}

GUEST_WORKLOAD(migrate, "migrate",
	       "movable buffers moved by compaction (both models)",
	       migrate_run);
