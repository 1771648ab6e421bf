// SPDX-License-Identifier: MIT
/*
 * vmm/guest_mem.c - guest RAM on the host: how it is mapped (one of four
 * backings), bounds-checked access, and release of backing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/guest_mem.h"
#include "vmm/seccomp.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26) /* log2(2 MiB) << MAP_HUGE_SHIFT */
#endif

#define GUEST_MEM_HUGETLB_FREE                                                 \
	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

static const char *const backing_names[GUEST_MEM_NR_BACKINGS] = {
	[GUEST_MEM_ANON] = "anon",
	[GUEST_MEM_ANON_4K] = "anon-4k",
	[GUEST_MEM_MEMFD] = "memfd",
	[GUEST_MEM_HUGETLBFS] = "hugetlbfs",
};

static const struct guest_mem_region *region_of(const struct guest_mem *mem,
						uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = region_of(mem, gpa, len);

	return r ? r->hva + (gpa - r->gpa) : NULL;
}

uint64_t guest_mem_end(const struct guest_mem *mem)
{
	const struct guest_mem_region *last;

	if (!mem->nr_regions)
		return 0;
	last = &mem->regions[mem->nr_regions - 1];
	return last->gpa + last->size;
}

/*
 * hugetlbfs pages cannot be split: release the whole 2 MiB pages inside
 * [p, p + len) and zero the partial ends, which stay backed (their other
 * frames may hold guest data).
 */
static int guest_mem_discard_hugetlb(uint8_t *p, uint64_t len)
{
	uintptr_t start = (uintptr_t)p, end = start + len;
	uintptr_t hs =
		(start + GUEST_MEM_HUGE_SIZE - 1) & ~(GUEST_MEM_HUGE_SIZE - 1);
	uintptr_t he = end & ~(GUEST_MEM_HUGE_SIZE - 1);

	if (hs >= he) {
		memset(p, 0, len);
		return 0;
	}
	memset(p, 0, hs - start);
	memset((void *)he, 0, end - he);
	if (madvise((void *)hs, he - hs, MADV_DONTNEED) < 0)
		return -errno;
	return 0;
}

int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = region_of(mem, gpa, len);
	uint64_t off;

	if (!r || (gpa | len) & 4095)
		return -EINVAL;
	off = gpa - r->gpa;
	/*
	 * Punching the memfd frees the pages for every mapping of it. Private
	 * anonymous memory is released with MADV_DONTNEED, which reads back
	 * as zeros; on a transparent huge page it splits off only the range.
	 */
	if (mem->fd >= 0) {
		if (fallocate(mem->fd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(r->fd_offset + off), (off_t)len) < 0)
			return -errno;
		return 0;
	}
	if (mem->backing == GUEST_MEM_HUGETLBFS)
		return guest_mem_discard_hugetlb(r->hva + off, len);
	if (madvise(r->hva + off, len, MADV_DONTNEED) < 0)
		return -errno;
	return 0;
}

int guest_mem_populate(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = region_of(mem, gpa, len);

	if (!r || (gpa | len) & 4095)
		return -EINVAL;
	/*
	 * As if the range were written, without writing it: what is there
	 * stays, what is not becomes zeros (a huge page where the backing
	 * gives one). Kernels before 5.14 answer -EINVAL.
	 */
	if (madvise(r->hva + (gpa - r->gpa), len, MADV_POPULATE_WRITE) < 0)
		return -errno;
	return 0;
}

int guest_mem_parse_backing(const char *name, enum guest_mem_backing *out)
{
	for (unsigned b = 0; b < GUEST_MEM_NR_BACKINGS; b++) {
		if (strcmp(name, backing_names[b]) == 0) {
			*out = (enum guest_mem_backing)b;
			return 0;
		}
	}
	return -EINVAL;
}

const char *guest_mem_backing_name(enum guest_mem_backing b)
{
	return (unsigned)b < GUEST_MEM_NR_BACKINGS ? backing_names[b] : "?";
}

int guest_mem_hugetlb_check(uint64_t size, uint64_t free_pages, char *err,
			    size_t errlen)
{
	uint64_t need = (size + GUEST_MEM_HUGE_SIZE - 1) / GUEST_MEM_HUGE_SIZE;

	if (free_pages >= need)
		return 0;
	snprintf(err, errlen,
		 "--mem-backing hugetlbfs: the host's pool of 2 MiB huge "
		 "pages has %llu free, the guest needs %llu (as root: "
		 "echo %llu > /proc/sys/vm/nr_hugepages), or use "
		 "--mem-backing anon",
		 (unsigned long long)free_pages, (unsigned long long)need,
		 (unsigned long long)need);
	return -ENOMEM;
}

/* Free 2 MiB pages in the host's hugetlb pool (0 if it has none). */
static uint64_t guest_mem_hugetlb_free(void)
{
	char buf[32], *end;
	unsigned long long n;
	FILE *f = fopen(GUEST_MEM_HUGETLB_FREE, "re");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	n = strtoull(buf, &end, 10);
	return end == buf ? 0 : n;
}

/*
 * Reserve @size bytes of address space starting on a 2 MiB boundary (the
 * surplus around it is unmapped): anonymous memory, backed when touched.
 */
static uint8_t *guest_mem_reserve_aligned(uint64_t size)
{
	uint64_t span = size + GUEST_MEM_HUGE_SIZE;
	uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t start, end;

	if (raw == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)raw + GUEST_MEM_HUGE_SIZE - 1) &
		~(GUEST_MEM_HUGE_SIZE - 1);
	end = start + size;
	if (start > (uintptr_t)raw)
		munmap(raw, start - (uintptr_t)raw);
	if ((uintptr_t)raw + span > end)
		munmap((void *)end, (uintptr_t)raw + span - end);
	return (uint8_t *)start;
}

static int guest_mem_map_anon(uint64_t size, int advice, uint8_t **base,
			      char *err, size_t errlen)
{
	uint8_t *p = guest_mem_reserve_aligned(size);

	if (!p) {
		snprintf(err, errlen, "mmap of %llu MiB of guest RAM: %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		return -ENOMEM;
	}
	/* Not fatal: a kernel without THP gives 4 KiB pages. */
	if (madvise(p, size, advice) < 0 && advice == MADV_HUGEPAGE)
		fprintf(stderr,
			"vmm: --mem-backing anon: no transparent huge pages "
			"(madvise: %s); guest RAM uses 4 KiB pages\n",
			strerror(errno));
	*base = p;
	return 0;
}

static int guest_mem_map_memfd(struct guest_mem *mem, uint64_t size,
			       uint8_t **base, char *err, size_t errlen)
{
	uint8_t *p;
	int r;

	mem->fd = memfd_create("buddyvm-ram", MFD_CLOEXEC);
	if (mem->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "memfd_create: %s", strerror(-r));
		return r;
	}
	if (ftruncate(mem->fd, (off_t)size) < 0)
		goto fail;
	p = guest_mem_reserve_aligned(size);
	if (!p)
		goto fail;
	if (mmap(p, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE | MAP_FIXED, mem->fd,
		 0) == MAP_FAILED) {
		r = -errno;
		munmap(p, size);
		errno = -r;
		goto fail;
	}
	/* Releasing guest RAM punches this file: the filters must allow it. */
	r = vmm_seccomp_allow_fallocate(mem->fd, VMM_FALLOC_GUEST_RAM);
	if (r) {
		munmap(p, size);
		errno = -r;
		goto fail;
	}
	*base = p;
	return 0;

fail:
	r = -errno;
	snprintf(err, errlen, "memfd guest RAM of %llu MiB: %s",
		 (unsigned long long)(size >> 20), strerror(-r));
	close(mem->fd);
	mem->fd = -1;
	return r;
}

/*
 * hugetlbfs: the mapping reserves its pool pages at mmap() (no
 * MAP_NORESERVE), so a pool that runs short fails here, not with SIGBUS
 * in the guest.
 */
static int guest_mem_map_hugetlb(uint64_t size, uint8_t **base, char *err,
				 size_t errlen)
{
	uint8_t *p;
	int r = guest_mem_hugetlb_check(size, guest_mem_hugetlb_free(), err,
					errlen);

	if (r)
		return r;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1,
		 0);
	if (p == MAP_FAILED) {
		r = -errno;
		snprintf(err, errlen,
			 "--mem-backing hugetlbfs: mmap of %llu MiB from the "
			 "huge page pool: %s (is the pool big enough?)",
			 (unsigned long long)(size >> 20), strerror(-r));
		return r;
	}
	*base = p;
	return 0;
}

int guest_mem_map(struct guest_mem *mem, enum guest_mem_backing backing,
		  uint64_t size, uint8_t **base, char *err, size_t errlen)
{
	int r;

	mem->fd = -1;
	if (!size || size % GUEST_MEM_HUGE_SIZE) {
		snprintf(err, errlen,
			 "guest RAM size %llu is not a multiple "
			 "of 2 MiB",
			 (unsigned long long)size);
		return -EINVAL;
	}
	switch (backing) {
	case GUEST_MEM_ANON:
		r = guest_mem_map_anon(size, MADV_HUGEPAGE, base, err, errlen);
		break;
	case GUEST_MEM_ANON_4K:
		r = guest_mem_map_anon(size, MADV_NOHUGEPAGE, base, err,
				       errlen);
		break;
	case GUEST_MEM_MEMFD:
		r = guest_mem_map_memfd(mem, size, base, err, errlen);
		break;
	case GUEST_MEM_HUGETLBFS:
		r = guest_mem_map_hugetlb(size, base, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unknown guest RAM backing %d",
			 (int)backing);
		return -EINVAL;
	}
	if (r)
		return r;
	mem->size = size;
	mem->backing = backing;
	return 0;
}

void guest_mem_unmap(struct guest_mem *mem, uint8_t *base)
{
	if (base)
		munmap(base, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	mem->fd = -1;
}
