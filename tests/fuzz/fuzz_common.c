// SPDX-License-Identifier: MIT
/* tests/fuzz/fuzz_common.c - guard-paged guest RAM and invariant checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_common.h"

#define FUZZ_PAGE 4096ull

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Guest RAM ------------------------------------------------------------- */

#define FUZZ_HUGE (2ull << 20)

/*
 * @bytes of read-write memory with an inaccessible page on each side,
 * starting on a 2 MiB boundary (so that fuzz_ram_hugepage() can back it
 * with transparent huge pages, as the VMM's default backing does).
 */
static uint8_t *fuzz_map_guarded(uint64_t bytes)
{
	uint64_t span = bytes + 2 * FUZZ_HUGE;
	uint8_t *p = mmap(NULL, span, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *ram;

	FUZZ_ASSERT(p != MAP_FAILED, "mmap %llu bytes of guest RAM",
		    (unsigned long long)bytes);
	ram = (uint8_t *)(((uintptr_t)p + FUZZ_HUGE) & ~(FUZZ_HUGE - 1));
	FUZZ_ASSERT(mprotect(ram, bytes, PROT_READ | PROT_WRITE) == 0,
		    "mprotect guest RAM");
	return ram;
}

void fuzz_ram_init(struct guest_mem *mem, uint64_t low_bytes,
		   uint64_t high_bytes)
{
	FUZZ_ASSERT(low_bytes && !((low_bytes | high_bytes) & (FUZZ_PAGE - 1)),
		    "RAM sizes must be whole pages");
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	mem->backing = GUEST_MEM_ANON_4K;
	mem->size = low_bytes + high_bytes;
	mem->regions[0] =
		(struct guest_mem_region){.gpa = 0,
					  .size = low_bytes,
					  .hva = fuzz_map_guarded(low_bytes)};
	mem->nr_regions = 1;
	if (high_bytes) {
		mem->regions[1] = (struct guest_mem_region){
			.gpa = 4ull << 30,
			.size = high_bytes,
			.hva = fuzz_map_guarded(high_bytes),
			.fd_offset = low_bytes};
		mem->nr_regions = 2;
	}
}

void fuzz_ram_fini(struct guest_mem *mem)
{
	/* The PROT_NONE rest of each mapping stays reserved: no matter. */
	for (unsigned i = 0; i < mem->nr_regions; i++)
		munmap(mem->regions[i].hva, mem->regions[i].size);
	memset(mem, 0, sizeof(*mem));
}

void fuzz_ram_hugepage(struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++)
		FUZZ_ASSERT(madvise(mem->regions[i].hva, mem->regions[i].size,
				    MADV_HUGEPAGE) == 0,
			    "madvise(MADV_HUGEPAGE) guest RAM");
	mem->backing = GUEST_MEM_ANON;
}

void fuzz_ram_wipe(struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++)
		FUZZ_ASSERT(madvise(mem->regions[i].hva, mem->regions[i].size,
				    MADV_DONTNEED) == 0,
			    "madvise guest RAM");
}

uint64_t fuzz_ram_resident(const struct guest_mem *mem)
{
	static unsigned char *vec;
	static size_t vec_len;
	uint64_t nr = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		size_t pages = r->size / FUZZ_PAGE;

		if (vec_len < pages) {
			free(vec);
			vec = malloc(pages);
			FUZZ_ASSERT(vec, "malloc mincore vector");
			vec_len = pages;
		}
		FUZZ_ASSERT(mincore(r->hva, r->size, vec) == 0, "mincore");
		for (size_t k = 0; k < pages; k++)
			nr += vec[k] & 1;
	}
	return nr;
}

void *fuzz_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	FUZZ_ASSERT(p, "gpa %#llx+%#llx is not guest RAM",
		    (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

/* Input reader ------------------------------------------------------------ */

void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->data = data;
	in->size = size;
	in->pos = 0;
}

size_t fuzz_in_left(const struct fuzz_in *in)
{
	return in->size - in->pos;
}

size_t fuzz_bytes(struct fuzz_in *in, void *out, size_t len)
{
	size_t n = len < fuzz_in_left(in) ? len : fuzz_in_left(in);

	memcpy(out, in->data + in->pos, n);
	in->pos += n;
	return n;
}

/* Little-endian; missing bytes are zero. */
static uint64_t fuzz_le(struct fuzz_in *in, unsigned bytes)
{
	uint8_t b[8] = {0};
	uint64_t v = 0;

	fuzz_bytes(in, b, bytes);
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_le(in, 1);
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_le(in, 2);
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_le(in, 4);
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_le(in, 8);
}

/* Invariants -------------------------------------------------------------- */

bool fuzz_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	return len == 0 || (b[0] == 0 && memcmp(b, b + 1, len - 1) == 0);
}

void fuzz_check_mm(struct mm *mm, const char *what)
{
	char why[256] = "";
	struct mm_stats st;
	uint64_t sum = 0;
	int err = mm_check(mm, why, sizeof(why));

	FUZZ_ASSERT(err == 0, "%s: mm_check %d: %s", what, err, why);
	mm_get_stats(mm, &st);
	for (unsigned s = 0; s < FRAME_NR_STATES; s++)
		sum += st.frames[s];
	FUZZ_ASSERT(sum == st.total, "%s: frame states add up to %llu of %llu",
		    what, (unsigned long long)sum,
		    (unsigned long long)st.total);
}

/*
 * Without swap a private anonymous page that is not resident has never been
 * written since it was last released: it reads as zero. With swap it may
 * be swapped out, so every discarded frame is read.
 */
static bool fuzz_trust_mincore(void)
{
	static int trust = -1;
	struct sysinfo si;

	if (trust < 0)
		trust = sysinfo(&si) == 0 && si.totalswap == 0;
	return trust;
}

static bool fuzz_discarded(const struct page *pg)
{
	return pg->flags & PG_DISCARDED;
}

static void fuzz_check_region_zero(struct mm *mm,
				   const struct guest_mem_region *r,
				   bool (*pick)(const struct page *pg),
				   const char *what)
{
	static unsigned char *vec;
	static size_t vec_len;
	uint64_t nr = r->size / FUZZ_PAGE, first = r->gpa / FUZZ_PAGE;
	bool use_vec = fuzz_trust_mincore();
	/* A region is one mm range: its frames are consecutive. */
	const struct page *base = mm_pfn_to_page(mm, first);

	FUZZ_ASSERT(base, "RAM region at pfn %#llx has no frames",
		    (unsigned long long)first);
	if (use_vec && vec_len < nr) {
		free(vec);
		vec = malloc(nr);
		FUZZ_ASSERT(vec, "malloc mincore vector");
		vec_len = nr;
	}
	if (use_vec)
		FUZZ_ASSERT(mincore(r->hva, r->size, vec) == 0, "mincore");
	for (uint64_t i = 0; i < nr; i++) {
		if (!pick(&base[i]) || (use_vec && !(vec[i] & 1)))
			continue;
		FUZZ_ASSERT(fuzz_is_zero(r->hva + i * FUZZ_PAGE, FUZZ_PAGE),
			    "%s frame %#llx (state %u) is not zero", what,
			    (unsigned long long)(first + i), base[i].state);
	}
}

void fuzz_check_frames_zero(struct mm *mm, const struct guest_mem *mem,
			    bool (*pick)(const struct page *pg),
			    const char *what)
{
	for (unsigned i = 0; i < mem->nr_regions; i++)
		fuzz_check_region_zero(mm, &mem->regions[i], pick, what);
}

void fuzz_check_discarded_zero(struct mm *mm, const struct guest_mem *mem)
{
	fuzz_check_frames_zero(mm, mem, fuzz_discarded, "discarded");
}

/* Released: discarded, or in the balloon (whose backing goes at once). */
static bool fuzz_released(const struct page *pg)
{
	return (pg->flags & PG_DISCARDED) || pg->state == FRAME_BALLOON;
}

void fuzz_check_released_zero(struct mm *mm, const struct guest_mem *mem)
{
	fuzz_check_frames_zero(mm, mem, fuzz_released,
			       "discarded or ballooned");
}
