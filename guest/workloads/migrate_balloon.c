// SPDX-License-Identifier: MIT
/*
 * workload=migrate-balloon: balloon page migration in both memory models.
 * The host inflates the balloon (vmm balloon --target); the guest then
 * compacts: hosted, the host moves the ballooned frames through the
 * migration ring and the driver swaps them in its list; native, the
 * guest's own compaction moves them and tells the host (inflate new,
 * deflate old). Then the host deflates everything: every pfn the driver
 * names must still be one the host holds as BALLOON (balloon_bad_pfns 0).
 */
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "guest_migrate.h"
#include "mbuf.h"
#include "mm/errno.h"
#include "mm/mm.h"
#include "native_mm.h"
#include "pvmem_guest.h"

int guest_mm_init(void);

/* Service the balloon until @done says so (interrupt-driven, 1 ms tick). */
static void mb_service_until(bool (*done)(const struct gballoon_info *))
{
	struct gballoon_info bi;

	for (;;) {
		gballoon_service(0);
		gballoon_get_info(&bi);
		if (bi.needs_reset)
			guest_fail(__FILE__, __LINE__, "balloon needs reset");
		if (done(&bi))
			return;
		guest_wait_for_interrupt();
	}
}

static bool mb_inflated(const struct gballoon_info *bi)
{
	return bi->target > 0 && bi->actual == bi->target;
}

static bool mb_never(const struct gballoon_info *bi)
{
	return false;
}

/*
 * Movable pageblocks that are partly used, so host compaction has targets
 * that are not whole free pageblocks (which it leaves alone, as Linux):
 * the even-numbered of MBUF_MAX order-1 buffers stay (order 0 would be
 * freed to the host's per-CPU lists, which compaction does not scan).
 */
static void mb_fragment(void)
{
	static struct mbuf *bufs[MBUF_MAX];

	for (unsigned i = 0; i < MBUF_MAX; i++) {
		bufs[i] = mbuf_alloc(2 * PAGE_SIZE);
		GUEST_ASSERT(bufs[i] != NULL);
	}
	for (unsigned i = 1; i < MBUF_MAX; i += 2)
		mbuf_free(bufs[i]);
}

static bool mb_deflated(const struct gballoon_info *bi)
{
	return bi->target == 0 && bi->actual == 0;
}

/* Hosted: three rounds of COMPACT, each drained to the last request. */
static void mb_compact_hosted(void)
{
	for (unsigned round = 0; round < 3; round++) {
		struct pvmem_block *b = pv_batch_begin();
		struct pvmem_req *r = pv_batch_add(b, PVMEM_OP_COMPACT);
		unsigned posted, handled = 0, n;

		GUEST_ASSERT_EQ(pv_batch_ring(b), 0);
		GUEST_ASSERT_EQ(r->status, 0);
		posted = r->done;
		while (handled < posted && (n = gmig_drain()) != 0)
			handled += n;
		GUEST_ASSERT_EQ(handled, posted);
	}
}

/*
 * Native: also take a whole pageblock that holds balloon pages with
 * alloc_contig_range() (what a large DMA buffer does): its balloon pages
 * must move out. Tries the pageblocks with balloon pages from the bottom
 * until one has no pinned frame. Return: pages moved.
 */
static uint64_t mb_contig_native(void)
{
	struct mm *mm = native_mm();
	struct gballoon_info bi;
	uint64_t before, last_pb = UINT64_MAX;
	unsigned tries = 0;

	gballoon_get_info(&bi);
	before = bi.migrated;
	for (uint64_t pfn = 0; tries < 64; pfn++) {
		const struct page *p = mm_pfn_to_page(mm, pfn);
		uint64_t pb = pfn & ~(uint64_t)(PAGEBLOCK_NR_PAGES - 1);

		if (pfn >= (guest_boot.ram_bytes >> 12) + (1ull << 20))
			break;
		if (!p || pb == last_pb || !(p->flags & PG_HEAD) ||
		    p->state != FRAME_GUEST || !p->owner ||
		    p->owner == MM_OWNER_TARGET)
			continue;
		last_pb = pb;
		tries++;
		if (mm_alloc_contig_range(mm, pb, pb + PAGEBLOCK_NR_PAGES))
			continue;
		GUEST_ASSERT_EQ(
			mm_free_contig_range(mm, pb, PAGEBLOCK_NR_PAGES), 0);
		break;
	}
	gballoon_get_info(&bi);
	guest_printf("migrate-balloon: alloc_contig_range moved %llu balloon "
		     "pages (%u pageblocks tried)\n",
		     (unsigned long long)(bi.migrated - before), tries);
	return bi.migrated - before;
}

static void mb_run(void)
{
	struct gballoon_info bi;
	uint64_t frames = 0;
	int err = guest_mm_init();

	if (!err)
		err = gballoon_init();
	if (!err)
		err = mbuf_start();
	if (err)
		guest_fail(__FILE__, __LINE__, "migrate-balloon: init: %d",
			   err);
	lapic_timer_periodic(1000);
	guest_printf("migrate-balloon: ready\n");
	mb_service_until(mb_inflated);
	gballoon_get_info(&bi);
	guest_printf("migrate-balloon: inflated %u pages\n", bi.actual);
	if (guest_boot.native) {
		GUEST_ASSERT_EQ(gmig_compact(&frames), 0);
		mb_contig_native();
	} else if (guest_cmdline_ulong("migrate-balloon.host", 0)) {
		/*
		 * The operator pauses the VM, compacts and resumes: the host
		 * may move ballooned frames alone and log them; the driver
		 * applies the log before its next inflate or deflate. Then
		 * the host deflates everything.
		 */
		mb_fragment();
		guest_printf("migrate-balloon: waiting for the host\n");
		mb_service_until(mb_deflated);
		gballoon_get_info(&bi);
		guest_printf("migrate-balloon: %llu balloon pages moved while "
			     "paused\n",
			     (unsigned long long)bi.migrated);
	} else {
		mb_compact_hosted();
	}
	if (!guest_cmdline_ulong("migrate-balloon.host", 0)) {
		gballoon_get_info(&bi);
		guest_printf("migrate-balloon: %llu balloon pages moved\n",
			     (unsigned long long)bi.migrated);
		GUEST_ASSERT(bi.migrated > 0);
		mb_service_until(mb_deflated);
	}
	guest_printf("migrate-balloon: done\n");
	/* Idle (serving stats) until the host quits: it checks first. */
	mb_service_until(mb_never);
}

GUEST_WORKLOAD(migrate_balloon, "migrate-balloon",
	       "balloon pages moved by compaction (both models)", mb_run);
