// SPDX-License-Identifier: MIT
/*
 * workload=pvbench: pages per second through the paravirtual memory
 * interface, measured in the guest. Each round ALLOCs a batch of order-0
 * pages and FREEs it again (2 doorbells per round); batches of 1, 64, 512
 * and 63 x 512 (one full request block) show how the VM-exit cost is
 * amortised; a last case runs the per-vCPU page cache (get/put) that the
 * slab layer uses. Then it touches pvbench.touch_mib MiB (default 128) of
 * pages, frees them and drains the cache, so that the VMM's --stats can
 * compare host RSS with what the guest still holds.
 *
 * Time is rdtsc, converted with the TSC rate the guest calibrates against
 * the LAPIC timer, which KVM counts at 1 GHz (divide-by-1): 50 ms of the
 * timer's current count against the TSC, so the two VM exits of the
 * reads cost under 0.1%.
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define BENCH_MAX_BATCH (PVMEM_MAX_REQS * PVMEM_MAX_COUNT)

static uint64_t *bench_pfns;
static struct pvmem_free_ent *bench_ents;

/* One ALLOC and one FREE of @batch pages; adds the FREE's cycles. */
static void bench_round(unsigned batch, uint64_t *free_cycles)
{
	unsigned got;
	uint64_t t;

	GUEST_ASSERT_EQ(pv_alloc(GFP_KERNEL, 0, batch, bench_pfns, &got), 0);
	for (unsigned i = 0; i < batch; i++)
		bench_ents[i] = (struct pvmem_free_ent){.pfn = bench_pfns[i]};
	t = rdtsc();
	GUEST_ASSERT_EQ(pv_free(bench_ents, batch, NULL), 0);
	*free_cycles += rdtsc() - t;
}

static uint64_t bench_ps_per_page(uint64_t cycles, uint64_t pages, uint64_t khz)
{
	return cycles * 1000000000ull / khz / pages;
}

/* One line the bench script parses: total, and the FREE part of it. */
static void bench_report(const char *what, unsigned batch, uint64_t pages,
			 uint64_t cycles, uint64_t free_cycles,
			 uint64_t doorbells, uint64_t khz)
{
	uint64_t ps = bench_ps_per_page(cycles, pages, khz);
	uint64_t free_ps = bench_ps_per_page(free_cycles, pages, khz);

	guest_printf("pvbench: %-10s batch %5u: %6llu.%llu ns/page "
		     "(alloc+free; free %llu.%llu), %llu.%03llu "
		     "doorbells/page\n",
		     what, batch, (unsigned long long)(ps / 1000),
		     (unsigned long long)(ps % 1000 / 100),
		     (unsigned long long)(free_ps / 1000),
		     (unsigned long long)(free_ps % 1000 / 100),
		     (unsigned long long)(doorbells / pages),
		     (unsigned long long)(doorbells * 1000 / pages % 1000));
}

static void bench_interface(unsigned batch, uint64_t pages, uint64_t khz)
{
	uint64_t rounds = (pages + batch - 1) / batch, d0, t0, t1;
	uint64_t free_cycles = 0;

	bench_round(batch, &free_cycles); /* warm up */
	free_cycles = 0;
	d0 = pv_doorbell_count();
	t0 = rdtsc();
	for (uint64_t r = 0; r < rounds; r++)
		bench_round(batch, &free_cycles);
	t1 = rdtsc();
	bench_report("interface", batch, rounds * batch, t1 - t0, free_cycles,
		     pv_doorbell_count() - d0, khz);
}

/* One wave: get @wave pages from the cache, put them back; put cycles. */
static uint64_t bench_wave(void **held, unsigned wave)
{
	uint64_t tf;

	for (unsigned i = 0; i < wave; i++) {
		held[i] = page_cache_get();
		GUEST_ASSERT(held[i]);
	}
	tf = rdtsc();
	for (unsigned i = 0; i < wave; i++)
		page_cache_put(held[i]);
	return rdtsc() - tf;
}

/*
 * The slab layer's path at steady state: waves of @wave pages got from the
 * per-vCPU cache and put back. 512 stays within the (autotuned) cache;
 * 4096 is more than it keeps, so most pages cross to the host and back:
 * through the page ring (no exit but kicks), or with pvmem.rings=0 one
 * doorbell per batch of 64. Exits counted: doorbells + kicks.
 */
static void bench_page_cache(unsigned wave, uint64_t pages, uint64_t khz)
{
	void **held = (void **)bench_pfns;
	uint64_t rounds = pages / wave, e0, k0, t0, t1, put = 0, ps, put_ps;
	uint64_t exits;

	for (unsigned w = 0; w < 8; w++) /* warm up: reach steady state */
		bench_wave(held, wave);
	e0 = pv_exit_count();
	k0 = pv_kick_count();
	t0 = rdtsc();
	for (uint64_t r = 0; r < rounds; r++)
		put += bench_wave(held, wave);
	t1 = rdtsc();
	exits = pv_exit_count() - e0;
	ps = bench_ps_per_page(t1 - t0, rounds * wave, khz);
	put_ps = bench_ps_per_page(put, rounds * wave, khz);
	guest_printf("pvbench: page cache wave %5u: %6llu.%llu ns/page "
		     "(get+put; put %llu.%llu), %llu.%llu exits/1000 pages "
		     "(%llu kicks), ring %s\n",
		     wave, (unsigned long long)(ps / 1000),
		     (unsigned long long)(ps % 1000 / 100),
		     (unsigned long long)(put_ps / 1000),
		     (unsigned long long)(put_ps % 1000 / 100),
		     (unsigned long long)(exits * 1000 / (rounds * wave)),
		     (unsigned long long)(exits * 10000 / (rounds * wave) % 10),
		     (unsigned long long)(pv_kick_count() - k0),
		     pv_ring() ? "on" : "off");
}

/* Touch @mib of pages (2 MiB blocks), free them: backing must go too. */
static void bench_touch_and_free(unsigned long mib)
{
	unsigned blocks = (unsigned)MM_MIN(mib / 2, BENCH_MAX_BATCH), got;
	struct pvmem_stats st;

	GUEST_ASSERT_EQ(pv_alloc(GFP_KERNEL, 9, blocks, bench_pfns, &got), 0);
	for (unsigned b = 0; b < got; b++) {
		uint8_t *p = pfn_to_virt(bench_pfns[b]);

		for (unsigned off = 0; off < (2u << 20); off += PS_PAGE_SIZE)
			p[off] = 1;
		bench_ents[b] = (struct pvmem_free_ent){.pfn = bench_pfns[b],
							.order = 9};
	}
	GUEST_ASSERT_EQ(pv_free(bench_ents, got, NULL), 0);
	page_cache_drain();
	GUEST_ASSERT_EQ(pv_stats(&st), 0);
	guest_printf("pvbench: touched and freed %u MiB; guest holds %llu "
		     "pages, host discarded %llu\n",
		     got * 2, (unsigned long long)st.tot_pages,
		     (unsigned long long)st.discarded);
}

static void pvbench_run(void)
{
	static const unsigned batches[] = {1, 64, 512, BENCH_MAX_BATCH};
	uint64_t pages = guest_cmdline_ulong("pvbench.pages", 262144);
	uint64_t khz;
	int err;

	guest_require_hosted("pvbench");
	err = guest_mm_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	bench_pfns = pv_alloc_block(GFP_KERNEL, 7); /* 64 Ki pfns */
	bench_ents = pv_alloc_block(GFP_KERNEL, 8); /* 64 Ki entries */
	GUEST_ASSERT(bench_pfns && bench_ents);
	khz = guest_tsc_khz();
	guest_printf("pvbench: TSC %llu kHz (calibrated on the LAPIC timer)\n",
		     (unsigned long long)khz);
	for (unsigned i = 0; i < MM_ARRAY_SIZE(batches); i++) {
		/* Batch 1 costs two exits a page: keep it short. */
		uint64_t n = batches[i] == 1 ? 2000 : pages;

		bench_interface(batches[i], n, khz);
	}
	bench_page_cache(512, pages, khz);
	bench_page_cache(4096, pages, khz);
	bench_touch_and_free(guest_cmdline_ulong("pvbench.touch_mib", 128));
	GUEST_ASSERT_EQ(pv_free_block(bench_ents, 8), 0);
	GUEST_ASSERT_EQ(pv_free_block(bench_pfns, 7), 0);
	guest_mm_publish();
}
GUEST_WORKLOAD(pvbench, "pvbench",
	       "ns per page through the pvmem interface; RSS after frees",
	       pvbench_run);
