/* SPDX-License-Identifier: MIT */
/*
 * vmm/guest_mem.h - guest RAM as the VMM sees it: a memfd mapped MAP_SHARED,
 * split into regions around the [3 GiB, 4 GiB) MMIO hole.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;	    /* guest-physical start */
	uint64_t size;	    /* bytes */
	uint8_t *hva;	    /* host mapping */
	uint64_t fd_offset; /* offset of this region in the memfd */
};

struct guest_mem {
	int fd;	       /* the memfd */
	uint64_t size; /* total RAM bytes */
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

/*
 * Release the host backing of [gpa, gpa + len) (page-aligned, inside one
 * region): it reads as zeros afterwards. Return 0 or a negative errno.
 */
int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

#endif /* VMM_GUEST_MEM_H */
