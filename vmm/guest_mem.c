// SPDX-License-Identifier: MIT
/* vmm/guest_mem.c - bounds-checked access to guest RAM. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "vmm/guest_mem.h"

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

int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = region_of(mem, gpa, len);
	uint64_t off;

	if (!r || (gpa | len) & 4095)
		return -EINVAL;
	off = gpa - r->gpa;
	/*
	 * Punching the memfd frees the pages for every mapping of it; a region
	 * without a file behind it (tests use anonymous memory) is released
	 * with MADV_DONTNEED, which also reads back as zeros for private
	 * anonymous memory.
	 */
	if (mem->fd >= 0) {
		if (fallocate(mem->fd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(r->fd_offset + off), (off_t)len) < 0)
			return -errno;
		return 0;
	}
	if (madvise(r->hva + off, len, MADV_DONTNEED) < 0)
		return -errno;
	return 0;
}
