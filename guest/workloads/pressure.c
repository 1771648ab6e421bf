// SPDX-License-Identifier: MIT
/*
 * workload=pressure: allocate from the host until it refuses - 2 MiB blocks
 * first, then 64 KiB, then single pages - so every order meets the failure
 * path (-EDQUOT under --mem-limit, -ENOMEM when the host allocator runs dry).
 * Check that the host's tot_pages is exactly what we hold, write and check a
 * pattern in every page, free everything, and check through STATS that the
 * host got it all back: FREE frames back to the starting count, tot_pages
 * back, and the freed frames' host backing released (discarded) again.
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define PR_SCRATCH_ORDER 7  /* ALLOC output: 64 Ki pfns */
#define PR_ENTS_ORDER	 10 /* held blocks: 256 Ki entries */
#define PR_MAX_BLOCKS	 ((PS_PAGE_SIZE << PR_ENTS_ORDER) / 16)
#define PR_BATCH	 (PVMEM_MAX_REQS * PVMEM_MAX_COUNT)
#define PR_4G		 (1ull << 32)

static const unsigned pr_orders[] = {9, 4, 0};

struct pr_state {
	uint64_t *scratch;
	struct pvmem_free_ent *held;
	unsigned nr;	/* blocks held */
	uint64_t pages; /* frames held */
	int refusal[3]; /* why each order stopped */
};

static uint64_t pr_word(uint64_t pfn)
{
	return pfn * 0x9e3779b97f4a7c15ull ^ 0x5afe;
}

/* One phase: blocks of 2^order until the host refuses. */
static void pr_take(struct pr_state *s, unsigned phase)
{
	unsigned order = pr_orders[phase];

	for (;;) {
		unsigned want =
			(unsigned)MM_MIN(PR_BATCH, PR_MAX_BLOCKS - s->nr);
		unsigned got;
		int err;

		GUEST_ASSERT(want > 0);
		err = pv_alloc(GFP_KERNEL, order, want, s->scratch, &got);
		for (unsigned i = 0; i < got; i++)
			s->held[s->nr++] = (struct pvmem_free_ent){
				.pfn = s->scratch[i], .order = order};
		s->pages += (uint64_t)got << order;
		if (err) {
			GUEST_ASSERT(got < want);
			s->refusal[phase] = err;
			return;
		}
	}
}

/* One word at each end of every page: every frame gets host backing. */
static void pr_touch(const struct pr_state *s, bool check)
{
	for (unsigned b = 0; b < s->nr; b++) {
		uint64_t first = s->held[b].pfn;

		for (uint64_t pfn = first;
		     pfn < first + (1ull << s->held[b].order); pfn++) {
			uint64_t *w = pfn_to_virt(pfn);

			if (!check) {
				w[0] = w[511] = pr_word(pfn);
			} else if (w[0] != pr_word(pfn) ||
				   w[511] != pr_word(pfn)) {
				guest_fail(__FILE__, __LINE__,
					   "page 0x%llx lost its pattern",
					   (unsigned long long)pfn);
			}
		}
	}
}

static void pr_free_all(struct pr_state *s)
{
	for (unsigned done = 0; done < s->nr;) {
		unsigned n = (unsigned)MM_MIN(PR_BATCH, s->nr - done);
		unsigned freed;

		GUEST_ASSERT_EQ(pv_free(s->held + done, n, &freed), 0);
		GUEST_ASSERT_EQ(freed, n);
		done += n;
	}
}

static void pr_print_stats(const char *when, const struct pvmem_stats *st)
{
	guest_printf("pressure: %-6s free %llu guest %llu tot_pages %llu "
		     "max_pages %llu discarded %llu\n",
		     when, (unsigned long long)st->frames[PVMEM_FRAME_FREE],
		     (unsigned long long)st->frames[PVMEM_FRAME_GUEST],
		     (unsigned long long)st->tot_pages,
		     (unsigned long long)st->max_pages,
		     (unsigned long long)st->discarded);
}

/*
 * Holding everything: tot_pages is ours, and no more GFP_KERNEL pages are
 * granted. A DMA page below 4 GiB is refused too, unless RAM reaches above
 * 4 GiB and the host ran dry (not a quota): then DMA32 and DMA keep their
 * lowmem_reserve (Linux's sysctl_lowmem_reserve_ratio: pages that requests
 * able to use Normal may not take), and a request that can only use them
 * may be served from it, as it must be: it lies below 4 GiB.
 */
static void pr_check_full(const struct pr_state *s,
			  const struct pvmem_stats *st0,
			  const struct pvmem_stats *full)
{
	bool reserve = s->refusal[2] == -ENOMEM && guest_boot.ram_end > PR_4G;
	uint64_t gpa, pfn;
	unsigned got;
	int err;

	GUEST_ASSERT_EQ(full->tot_pages, st0->tot_pages + s->pages);
	if (s->refusal[2] == -EDQUOT)
		GUEST_ASSERT_EQ(full->tot_pages, full->max_pages);
	GUEST_ASSERT(pv_alloc(GFP_KERNEL, 0, 1, &pfn, &got) == s->refusal[2]);
	GUEST_ASSERT_EQ(got, 0);
	err = pv_dma_alloc(1, PS_PAGE_SIZE, 32, 0, &gpa);
	if (err == 0) {
		GUEST_ASSERT(reserve && gpa + PS_PAGE_SIZE <= PR_4G);
		GUEST_ASSERT_EQ(pv_dma_free(1, gpa), 0);
	}
	guest_printf("pressure: a DMA32 page %s\n",
		     err ? "refused too" : "served from the lowmem reserve");
}

static void pressure_run(void)
{
	struct pr_state s = {0};
	struct pvmem_stats st0, full, st1;
	uint64_t released;
	int err;

	guest_require_hosted("pressure");
	err = guest_mm_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	s.scratch = pv_alloc_block(GFP_KERNEL, PR_SCRATCH_ORDER);
	s.held = pv_alloc_block(GFP_KERNEL, PR_ENTS_ORDER);
	GUEST_ASSERT(s.scratch && s.held);
	page_cache_drain();
	GUEST_ASSERT_EQ(pv_stats(&st0), 0);
	pr_print_stats("start", &st0);
	for (unsigned p = 0; p < MM_ARRAY_SIZE(pr_orders); p++) {
		pr_take(&s, p);
		guest_printf("pressure: order %u refused with %d after %llu "
			     "pages\n",
			     pr_orders[p], s.refusal[p],
			     (unsigned long long)s.pages);
		GUEST_ASSERT(s.refusal[p] == -EDQUOT ||
			     s.refusal[p] == -ENOMEM);
	}
	pr_touch(&s, false);
	GUEST_ASSERT_EQ(pv_stats(&full), 0);
	pr_print_stats("full", &full);
	pr_check_full(&s, &st0, &full);
	pr_touch(&s, true);
	pr_free_all(&s);
	page_cache_drain();
	GUEST_ASSERT_EQ(pv_stats(&st1), 0);
	pr_print_stats("end", &st1);
	GUEST_ASSERT_EQ(st1.frames[PVMEM_FRAME_FREE],
			st0.frames[PVMEM_FRAME_FREE]);
	GUEST_ASSERT_EQ(st1.tot_pages, st0.tot_pages);
	/* Touched frames had backing; freed and merged, it is released. */
	released = st1.discarded - full.discarded;
	GUEST_ASSERT(st1.discarded >= full.discarded &&
		     released * 10 >= s.pages * 9);
	guest_printf("pressure: held %llu pages (%llu MiB), all returned, "
		     "host released the backing of %llu\n",
		     (unsigned long long)s.pages,
		     (unsigned long long)(s.pages >> 8),
		     (unsigned long long)released);
	GUEST_ASSERT_EQ(pv_free_block(s.held, PR_ENTS_ORDER), 0);
	GUEST_ASSERT_EQ(pv_free_block(s.scratch, PR_SCRATCH_ORDER), 0);
	guest_mm_print_slabinfo();
	guest_mm_publish();
}
GUEST_WORKLOAD(pressure, "pressure",
	       "allocate to the page limit, check failures, free, check return",
	       pressure_run);
