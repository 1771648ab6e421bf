/* SPDX-License-Identifier: MIT */
/*
 * vmm/frame_db.h - the VM's frame database, in both memory models: an mm/
 * instance over the guest RAM layout that knows what every guest frame is
 * (FREE, GUEST, DMA, BALLOON, RESERVED). In the hosted model its allocator
 * is the guest's page allocator (served through devices/pvmem); in the
 * native model every frame is the guest's from boot (frame_db_give_all())
 * and the database follows the balloon and the reported free pages. Its
 * zero and discard callbacks act on guest RAM through vmm/guest_mem.h.
 * A VM builds it as a core VM_LEVEL_MM step (vm->frame_db).
 */
#ifndef VMM_FRAME_DB_H
#define VMM_FRAME_DB_H

#include <stdint.h>

#include "mm/mm.h"
#include "vmm/guest_mem.h"

struct frame_db_config {
	/*
	 * End of the kernel image (GPA, rounded up to a page). [0, 1 MiB) is
	 * always reserved as boot data and [1 MiB, kernel_end) as the kernel;
	 * a value <= 1 MiB reserves only the boot data.
	 */
	uint64_t kernel_end;
	uint64_t movable_bytes; /* top of RAM as ZONE_MOVABLE; 0: none */
};

/* What the callbacks did (tests check that zeroing is skipped, etc.). */
struct frame_db_stats {
	uint64_t zero_calls, zero_pages;
	uint64_t discard_calls, discard_pages;
	uint64_t discard_errors; /* fell back to zeroing in place */
};

struct frame_db;

/**
 * frame_db_create() - build the mm instance for the RAM in @mem.
 * @mem: must outlive the instance; its regions become the mm's ranges.
 * Every frame starts FREE except the boot data and kernel image, which are
 * FRAME_RESERVED.
 * Return: 0 and *@out (free with frame_db_destroy()), -EINVAL (bad layout,
 * RAM smaller than the kernel) or -ENOMEM.
 */
int frame_db_create(struct frame_db **out, const struct guest_mem *mem,
		    const struct frame_db_config *cfg);

/*
 * Where the ZONE_MOVABLE of @movable_bytes starts in @mem's RAM (a GPA,
 * pageblock aligned), as frame_db_create() and the native guest's
 * allocator place it; UINT64_MAX: none (0 bytes, or not less than RAM).
 */
uint64_t frame_db_movable_start(const struct guest_mem *mem,
				uint64_t movable_bytes);

/* Free the instance and its metadata; NULL is a no-op. */
void frame_db_destroy(struct frame_db *fdb);

/* The allocator; valid until frame_db_destroy(). */
struct mm *frame_db_mm(struct frame_db *fdb);

const struct guest_mem *frame_db_guest_mem(const struct frame_db *fdb);

/* Frames of RAM (every state). */
uint64_t frame_db_ram_pages(const struct frame_db *fdb);

void frame_db_get_stats(struct frame_db *fdb, struct frame_db_stats *out);

/**
 * frame_db_give_all() - the native memory model: every FREE frame becomes
 * FRAME_GUEST (the guest owns all its RAM and runs its own allocator;
 * RESERVED frames stay reserved). Call once, before the guest runs.
 * Return: 0, or -ENOMEM if some frame could not be taken (a bug).
 */
int frame_db_give_all(struct frame_db *fdb);

#endif /* VMM_FRAME_DB_H */
