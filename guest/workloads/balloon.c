// SPDX-License-Identifier: MIT
/*
 * workload=balloon: idle servicing the balloon (and printing its progress)
 * until the host quits the VM or balloon.ms passes. balloon.touch=MiB first
 * fills that much memory (a "cache" the balloon's shrinker may drop), so
 * host RSS visibly falls as the balloon inflates.
 *
 * workload=balloon-oom: wait until the host has inflated the balloon
 * (target > 0 reached), then allocate pages until the page source fails;
 * each failure deflates a batch on OOM (VIRTIO_BALLOON_F_DEFLATE_ON_OOM)
 * and retries, until the balloon is empty. Checks every deflated page was
 * then usable.
 */
#include "guest.h"
#include "guest/virtio/balloon.h"
#include "mm/gfp.h"
#include "pvmem_guest.h"

/* The touched pages, as a singly linked list through their first word. */
static void *cache_head;
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

static void cache_fill(uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t *p = page_alloc();

		if (!p)
			break;
		memset(p, 0x5a, 4096);
		p[0] = (uint64_t)(uintptr_t)cache_head;
		cache_head = p;
		cache_pages++;
	}
}

static uint64_t cache_shrink(uint64_t pages)
{
	uint64_t n = 0;

	while (cache_head && n < pages) {
		void *p = cache_head;

		cache_head = (void *)(uintptr_t)((uint64_t *)p)[0];
		page_free(p);
		n++;
	}
	cache_pages -= n;
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

/* Service until @until returns true or @ms pass (0: forever). */
static void balloon_idle(uint64_t ms, bool (*until)(void))
{
	struct gballoon_info bi;
	uint32_t last_actual = UINT32_MAX, last_target = UINT32_MAX;

	lapic_timer_periodic(1000);
	while (!ms || this_cpu()->ticks < ms) {
		gballoon_service(0);
		gballoon_get_info(&bi);
		if (bi.needs_reset)
			guest_fail(__FILE__, __LINE__, "balloon needs reset");
		if (bi.actual != last_actual || bi.target != last_target) {
			if (bi.actual == bi.target)
				print_info("at target");
			last_actual = bi.actual;
			last_target = bi.target;
		}
		if (until && until())
			break;
		guest_wait_for_interrupt();
	}
	lapic_timer_stop();
}

static void balloon_run(void)
{
	balloon_start();
	cache_fill(guest_cmdline_ulong("balloon.touch", 0) << 8);
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
	uint64_t got = 0, deflated = 0, inflated;

	balloon_start();
	balloon_idle(guest_cmdline_ulong("balloon.ms", 60000),
		     balloon_inflated);
	gballoon_get_info(&bi);
	GUEST_ASSERT(bi.actual > 0);
	inflated = bi.actual;
	print_info("inflated, exhausting memory");
	for (;;) {
		uint64_t *p = page_alloc();

		if (p) {
			p[0] = (uint64_t)(uintptr_t)cache_head;
			cache_head = p;
			cache_pages++;
			got++;
			continue;
		}
		uint64_t n = gballoon_deflate_on_oom(256);

		if (n == 0)
			break;
		deflated += n;
	}
	print_info("out of memory");
	guest_printf("balloon-oom: %llu pages allocated, %llu deflated on "
		     "OOM of %llu\n",
		     (unsigned long long)got, (unsigned long long)deflated,
		     (unsigned long long)inflated);
	GUEST_ASSERT_EQ(deflated, inflated);
	GUEST_ASSERT(got >= deflated);
	cache_shrink(cache_pages);
}
GUEST_WORKLOAD(balloon_oom, "balloon-oom",
	       "exhaust memory: the balloon deflates on OOM", oom_run);
