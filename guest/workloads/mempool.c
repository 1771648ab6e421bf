// SPDX-License-Identifier: MIT
/*
 * workload=mempool: with a page limit small enough (--mem-limit 16M), take
 * every page the host will grant until it refuses (-EDQUOT), then show that
 * mempools still serve their reserved elements: a page pool (order-0 pages
 * through the page cache) and a slab pool (256-byte "bio" objects, after the
 * cache itself has run dry). Giving elements back refills the reserves;
 * once the hog is released, the allocator serves again.
 * Options: mempool.pages=N (page pool reserve, default 16),
 * mempool.objs=N (slab pool reserve, default 32).
 */
#include "guest.h"
#include "mm/errno.h"
#include "mm/gfp.h"
#include "mm/kmalloc.h"
#include "mm/mempool.h"
#include "mm/slab.h"
#include "mm_stack.h"
#include "pvmem_guest.h"

#define HOG_ORDER    5 /* pfn array of 128 KiB: up to 64 MiB hogged */
#define HOG_MAX	     ((PS_PAGE_SIZE << HOG_ORDER) / sizeof(uint64_t))
#define BIO_SIZE     256
#define BIO_MAX_HELD 4096

struct mp_hog {
	uint64_t *pfns;
	struct pvmem_free_ent *ents; /* taken before the hog: for release */
	unsigned nr;
	int why; /* the host's refusal */
};

/* Take order-0 pages 512 at a time until the host refuses. */
static void mp_hog_take(struct mp_hog *h)
{
	h->pfns = pv_alloc_block(GFP_KERNEL, HOG_ORDER);
	h->ents = kmalloc_array(512, sizeof(*h->ents), GFP_KERNEL);
	GUEST_ASSERT(h->pfns && h->ents);
	page_cache_drain(); /* the cache must not hide pages from the hog */
	while (h->nr < HOG_MAX) {
		unsigned want = (unsigned)MM_MIN(HOG_MAX - h->nr, 512), got;

		h->why = pv_alloc(GFP_KERNEL, 0, want, h->pfns + h->nr, &got);
		h->nr += got;
		if (h->why)
			return;
	}
	guest_fail(__FILE__, __LINE__,
		   "took %u pages and the host still grants more: run with "
		   "a smaller --mem-limit",
		   h->nr);
}

static void mp_hog_release(struct mp_hog *h)
{
	struct pvmem_free_ent *ents = h->ents;

	for (unsigned done = 0; done < h->nr;) {
		unsigned n = (unsigned)MM_MIN(h->nr - done, 512);

		for (unsigned i = 0; i < n; i++)
			ents[i] = (struct pvmem_free_ent){
				.pfn = h->pfns[done + i]};
		GUEST_ASSERT_EQ(pv_free(ents, n, NULL), 0);
		done += n;
	}
	kfree(ents);
	GUEST_ASSERT_EQ(pv_free_block(h->pfns, HOG_ORDER), 0);
}

/* Drain the pool's reserve through mempool_alloc: each must come from it. */
static unsigned mp_take_reserve(struct mempool *pool, void **out, int min_nr,
				size_t fill)
{
	unsigned n = 0;

	for (int want = min_nr; want > 0; want--) {
		out[n] = mempool_alloc(pool, GFP_KERNEL);
		GUEST_ASSERT(out[n]);
		GUEST_ASSERT_EQ(mempool_reserve_count(pool), want - 1);
		memset(out[n], 0x5a, fill);
		n++;
	}
	/* Reserve empty, allocator dry: nothing left to give. */
	GUEST_ASSERT(mempool_alloc(pool, GFP_KERNEL) == NULL);
	return n;
}

static void mp_give_back(struct mempool *pool, void **els, unsigned n,
			 size_t fill)
{
	for (unsigned i = 0; i < n; i++) {
		for (size_t b = 0; b < fill; b++)
			GUEST_ASSERT_EQ(((uint8_t *)els[i])[b], 0x5a);
		mempool_free(els[i], pool);
	}
	GUEST_ASSERT_EQ(mempool_reserve_count(pool), (int)n);
}

/* Take every "bio" object the cache can give without new pages. */
static unsigned bio_exhaust(struct kmem_cache *bio, void **held)
{
	unsigned n = 0;

	while (n < BIO_MAX_HELD && (held[n] = kmem_cache_alloc(bio, 0)))
		n++;
	GUEST_ASSERT(n < BIO_MAX_HELD);
	return n;
}

static void mempool_run(void)
{
	int min_pages = (int)guest_cmdline_ulong("mempool.pages", 16);
	int min_objs = (int)guest_cmdline_ulong("mempool.objs", 32);
	struct mp_hog hog = {0};
	struct kmem_cache *bio;
	struct mempool *pages, *objs;
	void **els, **held;
	unsigned n_pages, n_objs, n_held;
	int err;

	guest_require_hosted("mempool");
	err = guest_mm_init();
	if (err)
		guest_fail(__FILE__, __LINE__, "guest_mm_init: %d", err);
	bio = kmem_cache_create("bio", BIO_SIZE, 0, 0, NULL);
	pages = mempool_create_page_pool(min_pages, 0);
	objs = mempool_create_slab_pool(min_objs, bio);
	els = kcalloc((size_t)(min_pages + min_objs), sizeof(void *),
		      GFP_KERNEL);
	held = kcalloc(BIO_MAX_HELD, sizeof(void *), GFP_KERNEL);
	GUEST_ASSERT(bio && pages && objs && els && held);

	mp_hog_take(&hog);
	guest_printf("mempool: the host refused page %u with %d (%s)\n", hog.nr,
		     hog.why,
		     hog.why == -EDQUOT ? "EDQUOT, page limit" : "other");
	GUEST_ASSERT(hog.why == -EDQUOT || hog.why == -ENOMEM);
	GUEST_ASSERT(page_cache_get() == NULL);
	n_held = bio_exhaust(bio, held);
	n_pages = mp_take_reserve(pages, els, min_pages, PS_PAGE_SIZE);
	n_objs = mp_take_reserve(objs, els + n_pages, min_objs, BIO_SIZE);
	guest_printf("mempool: allocator dry (bio cache gave %u objects), "
		     "served %u pages and %u objects from the reserves\n",
		     n_held, n_pages, n_objs);

	mp_give_back(pages, els, n_pages, PS_PAGE_SIZE);
	mp_give_back(objs, els + n_pages, n_objs, BIO_SIZE);
	mp_hog_release(&hog);
	els[0] = mempool_alloc(pages, GFP_KERNEL);
	GUEST_ASSERT(els[0]);
	GUEST_ASSERT_EQ(mempool_reserve_count(pages), min_pages);
	mempool_free(els[0], pages);
	guest_printf("mempool: reserves refilled; after the hog left, the "
		     "allocator serves again\n");

	guest_mm_print_slabinfo();
	guest_mm_publish();
	for (unsigned i = 0; i < n_held; i++)
		kmem_cache_free(bio, held[i]);
	mempool_destroy(objs);
	mempool_destroy(pages);
	GUEST_ASSERT_EQ(kmem_cache_destroy(bio), 0);
	kfree(held);
	kfree(els);
}
GUEST_WORKLOAD(mempool, "mempool",
	       "mempool reserves when the page limit is reached (--mem-limit)",
	       mempool_run);
