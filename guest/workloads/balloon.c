// SPDX-License-Identifier: MIT
/*
 * workload=balloon: idle servicing the balloon (and printing its progress)
 * until the host quits the VM or balloon.ms passes. balloon.touch=MiB first
 * fills that much memory (a "cache" the balloon's shrinker may drop), so
 * host RSS visibly falls as the balloon inflates; balloon.touch_one=1
 * writes one word per page instead of all of it (the host's touch in
 * tests/bench/host_touch.c). balloon.drop=1 frees
 * that memory again at once, and balloon.report_ms=N runs a free page
 * reporting pass every N ms (native model): host RSS falls with the
 * balloon empty.
 *
 * workload=balloon-oom: wait until the host has inflated the balloon
 * (target > 0 reached), then allocate pages until the page source fails;
 * the page source itself deflates a batch on OOM (DEFLATE_ON_OOM) and
 * retries, so allocation fails only once the balloon is empty. Checks every deflated page was
 * then usable.
 */
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "mm/gfp.h"
#include "mm_stack.h"

/*
 * The touched pages ("the cache"), newest last, as their addresses in
 * index pages: a stack of pages, each holding the one below and
 * CACHE_SLOTS page addresses. Dropping a page reads only its slot, as a
 * real page cache's reclaim reads its dense metadata, not the page: a
 * list through the pages' own first word cost a cache miss per dropped
 * page, most of the shrinker's time (docs/ballooning.md).
 */
#define CACHE_SLOTS ((PS_PAGE_SIZE - 16) / sizeof(void *))

struct cache_index {
	struct cache_index *below;
	uint64_t nr;
	void *slot[CACHE_SLOTS];
};

static struct cache_index *cache_top;
static uint64_t cache_pages;

static void *page_alloc(void)
{
	return guest_page_source.ops->alloc_pages(guest_page_source.opaque,
						  GFP_KERNEL, 0);
}

static void page_free(void *p)
{
	guest_page_source.ops->free_pages(guest_page_source.opaque, p, 0);
}

/*
 * Keep page @p in the cache. A full index takes a new page; when memory is
 * so short that there is none, @p itself becomes the index.
 */
static void cache_push(void *p)
{
	struct cache_index *ix = cache_top;

	if (!ix || ix->nr == CACHE_SLOTS) {
		ix = page_alloc();
		if (!ix) {
			ix = p;
			p = NULL;
		}
		ix->below = cache_top;
		ix->nr = 0;
		cache_top = ix;
		if (!p)
			return;
	}
	ix->slot[ix->nr++] = p;
	cache_pages++;
}

/*
 * Allocate and write @pages pages (all of each, or with @one only its
 * first word); say how long it took (guest TSC), the guest's own touch
 * speed on the host's backing of its RAM.
 */
static void cache_fill(uint64_t pages, bool one)
{
	uint64_t khz, t0, ms, before = cache_pages;

	if (!pages)
		return;
	khz = guest_tsc_khz(); /* calibrate before the clock starts */
	t0 = rdtsc();
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t *p = page_alloc();

		if (!p)
			break;
		if (!one)
			memset(p, 0x5a, 4096);
		p[0] = (uint64_t)(uintptr_t)p;
		cache_push(p);
	}
	ms = (rdtsc() - t0) / khz;
	guest_printf("balloon: touched %llu MiB in %llu ms\n",
		     (unsigned long long)((cache_pages - before) >> 8),
		     (unsigned long long)ms);
}

/* Free up to @pages pages, newest first (an emptied index page too). */
static uint64_t cache_shrink(uint64_t pages)
{
	uint64_t n = 0;

	while (cache_top && n < pages) {
		struct cache_index *ix = cache_top;

		if (ix->nr) {
			page_free(ix->slot[--ix->nr]);
			cache_pages--;
		} else {
			cache_top = ix->below;
			page_free(ix);
		}
		n++;
	}
	return n;
}

static void balloon_start(void)
{
	int err = guest_mm_init();

	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	err = gballoon_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "no balloon: %d", err);
	gballoon_set_shrinker(cache_shrink);
}

static void print_info(const char *why)
{
	struct gballoon_info bi;

	gballoon_get_info(&bi);
	guest_printf("balloon: %s: target %u actual %u pages (inflated %llu "
		     "deflated %llu oom %llu stats %llu cache %llu)\n",
		     why, bi.target, bi.actual, (unsigned long long)bi.inflated,
		     (unsigned long long)bi.deflated,
		     (unsigned long long)bi.oom_deflated,
		     (unsigned long long)bi.stats_sent,
		     (unsigned long long)cache_pages);
}

/*
 * balloon.prof=1: the driver's inflate profile so far, in microseconds per
 * phase (docs/ballooning.md "Where the time goes").
 */
static void print_prof(void)
{
	struct gballoon_info bi;
	uint64_t khz = guest_tsc_khz(), sum = 0;

	gballoon_get_info(&bi);
	guest_printf("balloon: prof batches %llu kicks %llu runs %llu us",
		     (unsigned long long)bi.prof_batches,
		     (unsigned long long)bi.prof_kicks,
		     (unsigned long long)bi.prof_runs);
	for (unsigned i = 0; i < GBALLOON_PROF_NR; i++) {
		sum += bi.prof[i];
		guest_printf(" %s %llu", gballoon_prof_name(i),
			     (unsigned long long)(bi.prof[i] * 1000 / khz));
	}
	guest_printf(" total %llu\n", (unsigned long long)(sum * 1000 / khz));
}

/* balloon.report_ms=N: a free page reporting pass every N ms (native). */
static void report_tick(uint64_t every_ms, uint64_t *next_ms)
{
	uint64_t now = this_cpu()->ticks, pages;

	if (!every_ms || now < *next_ms)
		return;
	*next_ms = now + every_ms;
	pages = gballoon_report_free();
	if (pages)
		guest_printf("balloon: reported %llu pages free\n",
			     (unsigned long long)pages);
}

/* Service until @until returns true or @ms pass (0: forever). */
static void balloon_idle(uint64_t ms, bool (*until)(void))
{
	struct gballoon_info bi;
	uint32_t last_actual = UINT32_MAX, last_target = UINT32_MAX;
	uint64_t report_ms = guest_cmdline_ulong("balloon.report_ms", 0);
	uint64_t next_report = report_ms; /* first pass after one period */
	bool prof = guest_cmdline_ulong("balloon.prof", 0);
	/*
	 * A tick only for a deadline: under PVM each one is a VM exit and
	 * emulated CPL-0 work that slows the inflate it interrupts; the
	 * balloon itself wakes the vCPU with its own interrupts.
	 */
	bool tick = ms || report_ms;

	if (tick)
		lapic_timer_periodic(1000);
	while (!ms || this_cpu()->ticks < ms) {
		gballoon_service(0);
		report_tick(report_ms, &next_report);
		gballoon_get_info(&bi);
		if (bi.needs_reset)
			guest_fail(__FILE__, __LINE__, "balloon needs reset");
		if (bi.actual != last_actual || bi.target != last_target) {
			if (bi.actual == bi.target) {
				print_info("at target");
				if (prof)
					print_prof();
			}
			last_actual = bi.actual;
			last_target = bi.target;
		}
		if (until && until())
			break;
		guest_wait_for_interrupt();
	}
	if (tick)
		lapic_timer_stop();
}

static void balloon_run(void)
{
	balloon_start();
	cache_fill(guest_cmdline_ulong("balloon.touch", 0) << 8,
		   guest_cmdline_ulong("balloon.touch_one", 0));
	/* balloon.drop=1: free it again (left for free page reporting). */
	if (guest_cmdline_ulong("balloon.drop", 0))
		cache_shrink(UINT64_MAX);
	print_info("ready");
	balloon_idle(guest_cmdline_ulong("balloon.ms", 0), NULL);
	print_info("done");
}
GUEST_WORKLOAD(balloon, "balloon", "service the balloon until quit",
	       balloon_run);

static bool balloon_inflated(void)
{
	struct gballoon_info bi;

	gballoon_get_info(&bi);
	return bi.target > 0 && bi.actual == bi.target;
}

static void oom_run(void)
{
	struct gballoon_info bi;
	uint64_t got = 0, inflated;

	balloon_start();
	balloon_idle(guest_cmdline_ulong("balloon.ms", 60000),
		     balloon_inflated);
	gballoon_get_info(&bi);
	GUEST_ASSERT(bi.actual > 0);
	inflated = bi.actual;
	print_info("inflated, exhausting memory");
	/*
	 * The page source itself deflates a batch when it runs dry
	 * (mm_stack.c): allocation fails only once the balloon is empty.
	 */
	for (;;) {
		uint64_t *p = page_alloc();

		if (!p)
			break;
		cache_push(p);
		got++;
	}
	print_info("out of memory");
	gballoon_get_info(&bi);
	guest_printf("balloon-oom: %llu pages allocated, %llu deflated on "
		     "OOM of %llu\n",
		     (unsigned long long)got,
		     (unsigned long long)bi.oom_deflated,
		     (unsigned long long)inflated);
	GUEST_ASSERT_EQ(bi.oom_deflated, inflated);
	GUEST_ASSERT_EQ(bi.actual, 0);
	GUEST_ASSERT(got >= bi.oom_deflated);
	cache_shrink(UINT64_MAX);
}
GUEST_WORKLOAD(balloon_oom, "balloon-oom",
	       "exhaust memory: the balloon deflates on OOM", oom_run);
