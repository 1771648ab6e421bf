/* SPDX-License-Identifier: MIT */
/*
 * devices/hosted_mem.h - the VM's physical memory manager instance for the
 * hosted memory model: an mm/ allocator over the guest RAM layout, whose
 * zero and discard callbacks act on guest RAM through vmm/guest_mem.h.
 */
#ifndef DEVICES_HOSTED_MEM_H
#define DEVICES_HOSTED_MEM_H

#include <stdint.h>

#include "mm/mm.h"
#include "vmm/guest_mem.h"

struct hosted_mem_config {
	/*
	 * End of the kernel image (GPA, rounded up to a page). [0, 1 MiB) is
	 * always reserved as boot data and [1 MiB, kernel_end) as the kernel;
	 * a value <= 1 MiB reserves only the boot data.
	 */
	uint64_t kernel_end;
	uint64_t movable_bytes; /* top of RAM as ZONE_MOVABLE; 0: none */
};

/* What the callbacks did (tests check that zeroing is skipped, etc.). */
struct hosted_mem_stats {
	uint64_t zero_calls, zero_pages;
	uint64_t discard_calls, discard_pages;
	uint64_t discard_errors; /* fell back to zeroing in place */
};

struct hosted_mem;

/**
 * hosted_mem_create() - build the mm instance for the RAM in @mem.
 * @mem: must outlive the instance; its regions become the mm's ranges.
 * Every frame starts FREE except the boot data and kernel image, which are
 * FRAME_RESERVED.
 * Return: 0 and *@out (free with hosted_mem_destroy()), -EINVAL (bad layout,
 * RAM smaller than the kernel) or -ENOMEM.
 */
int hosted_mem_create(struct hosted_mem **out, const struct guest_mem *mem,
		      const struct hosted_mem_config *cfg);

/* Free the instance and its metadata; NULL is a no-op. */
void hosted_mem_destroy(struct hosted_mem *hm);

/* The allocator; valid until hosted_mem_destroy(). */
struct mm *hosted_mem_mm(struct hosted_mem *hm);

const struct guest_mem *hosted_mem_guest_mem(const struct hosted_mem *hm);

/* Frames of RAM (every state). */
uint64_t hosted_mem_ram_pages(const struct hosted_mem *hm);

void hosted_mem_get_stats(struct hosted_mem *hm, struct hosted_mem_stats *out);

/**
 * hosted_mem_give_all() - the native memory model: every FREE frame becomes
 * FRAME_GUEST (the guest owns all its RAM and runs its own allocator;
 * RESERVED frames stay reserved). Call once, before the guest runs.
 * Return: 0, or -ENOMEM if some frame could not be taken (a bug).
 */
int hosted_mem_give_all(struct hosted_mem *hm);

#endif /* DEVICES_HOSTED_MEM_H */
