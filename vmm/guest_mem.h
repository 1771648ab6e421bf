/* SPDX-License-Identifier: MIT */
/*
 * vmm/guest_mem.h - guest RAM as the VMM sees it: one host mapping (private
 * anonymous memory on transparent huge pages by default, see
 * enum guest_mem_backing), split into regions around the [3 GiB, 4 GiB) MMIO
 * hole.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2
#define GUEST_MEM_HUGE_SIZE   (2ull << 20) /* host huge page: 2 MiB */

/*
 * What holds guest RAM on the host (vmm run --mem-backing). The mapping
 * starts on a 2 MiB boundary in every case, so guest-physical 2 MiB blocks
 * (the host buddy's order-9 blocks) are whole host huge pages.
 */
enum guest_mem_backing {
	GUEST_MEM_ANON,	     /* "anon": private anonymous, MADV_HUGEPAGE */
	GUEST_MEM_ANON_4K,   /* "anon-4k": private anonymous, MADV_NOHUGEPAGE */
	GUEST_MEM_MEMFD,     /* "memfd": shmem mapped MAP_SHARED (no THP) */
	GUEST_MEM_HUGETLBFS, /* "hugetlbfs": MAP_HUGETLB 2 MiB pool pages */
	GUEST_MEM_NR_BACKINGS,
};

struct guest_mem_region {
	uint64_t gpa;	    /* guest-physical start */
	uint64_t size;	    /* bytes */
	uint8_t *hva;	    /* host mapping */
	uint64_t fd_offset; /* offset of this region in the memfd */
};

struct guest_mem {
	int fd;	       /* the memfd (GUEST_MEM_MEMFD), else -1 */
	uint64_t size; /* total RAM bytes */
	enum guest_mem_backing backing;
	unsigned nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/*
 * The host address of guest-physical [gpa, gpa + len), or NULL when any part
 * of it is outside RAM (or len is 0 or wraps). The only way devices and the
 * loader turn a guest address into a pointer: a guest cannot name memory
 * outside its RAM.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/**
 * guest_mem_end() - one past the last guest-physical byte of RAM (the end of
 * the highest region; regions are kept in ascending order), 0 without RAM.
 */
uint64_t guest_mem_end(const struct guest_mem *mem);

/**
 * guest_mem_discard() - release the host backing of [gpa, gpa + len)
 * (page-aligned, inside one region): it reads as zeros afterwards. Only
 * that range is touched, whatever host page holds it: part of a transparent
 * huge page is split off (the rest keeps its data); on hugetlbfs only whole
 * 2 MiB pages are released and the partial ends are zeroed. Callers pass
 * only frames that hold no guest data (free, ballooned, reported).
 * Return: 0 or a negative errno.
 */
int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/**
 * guest_mem_populate() - give [gpa, gpa + len) (page-aligned, inside one
 * region) its host backing now (MADV_POPULATE_WRITE), so that the guest's
 * first write there takes no host page fault. Contents do not change:
 * backed pages keep their data, the rest read as zeros as before, so it is
 * safe on frames the guest holds. Costs host memory like a guest write.
 * Return: 0 or a negative errno (-EINVAL: bad range, or a kernel before
 * 5.14; -ENOMEM, -EFAULT: see madvise(2)).
 */
int guest_mem_populate(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/**
 * guest_mem_parse_backing() - the backing named @name ("anon", "anon-4k",
 * "memfd" or "hugetlbfs") into *@out.
 * Return: 0, or -EINVAL for any other name.
 */
int guest_mem_parse_backing(const char *name, enum guest_mem_backing *out);

/** guest_mem_backing_name() - the --mem-backing name of @b. */
const char *guest_mem_backing_name(enum guest_mem_backing b);

/**
 * guest_mem_hugetlb_check() - can a pool with @free_pages free 2 MiB huge
 * pages hold @size bytes? If not, write to @err what to do.
 * Return: 0, or -ENOMEM.
 */
int guest_mem_hugetlb_check(uint64_t size, uint64_t free_pages, char *err,
			    size_t errlen);

/**
 * guest_mem_map() - map @size bytes (a multiple of 2 MiB) of guest RAM with
 * @backing, starting on a 2 MiB boundary, and return the start in *@base;
 * @mem gets fd, size and backing (its regions are the caller's). Pages are
 * backed only when touched. On failure @err says why.
 * Return: 0 or a negative errno.
 */
int guest_mem_map(struct guest_mem *mem, enum guest_mem_backing backing,
		  uint64_t size, uint8_t **base, char *err, size_t errlen);

/**
 * guest_mem_unmap() - undo guest_mem_map() (@base is what it returned);
 * mem->fd becomes -1.
 */
void guest_mem_unmap(struct guest_mem *mem, uint8_t *base);

#endif /* VMM_GUEST_MEM_H */
