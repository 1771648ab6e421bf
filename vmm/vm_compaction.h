/* SPDX-License-Identifier: MIT */
/*
 * vmm/vm_compaction.h - `vmm run --cma SIZE[@ZONE]`: a CMA area for the VM's
 * contiguous DMA buffers (docs/compaction.md "CMA"). Its pageblocks are
 * MIGRATE_CMA: they serve movable allocations until a large DMA buffer
 * needs them, then the movable frames are migrated out.
 *
 * Hosted model: the area is reserved in the VM's frame database
 * (mm_cma_reserve()), and the pvmem device serves large DMA_ALLOCs from it
 * first. Native model: the guest owns its RAM and runs its own buddy, so
 * the VMM passes "cma=SIZE[@ZONE]" on the guest's command line (as Linux's
 * cma= parameter) and the guest reserves the area in its own allocator.
 */
#ifndef VMM_VM_COMPACTION_H
#define VMM_VM_COMPACTION_H

#include <stddef.h>
#include <stdint.h>

struct mm;
struct vm;
struct vm_stats_ops;

#define VM_CMA_ZONE_FIT (-1) /* no @ZONE: DMA32, else Normal, else DMA */

/**
 * vm_cma_parse() - parse SIZE[@ZONE]: SIZE a size (K, M, G suffixes),
 * rounded up to whole 2 MiB pageblocks, 2M .. 64G; ZONE dma, dma32 or
 * normal (case-insensitive).
 * Return: 0 and *@bytes, *@zone (enum zone_type or VM_CMA_ZONE_FIT), or
 * -EINVAL with the reason in @err.
 */
int vm_cma_parse(const char *arg, uint64_t *bytes, int *zone, char *err,
		 size_t errlen);

/* Core initcall (VM_LEVEL_MM, after the frame database). */
int vm_compaction_init(struct vm *vm);
void vm_compaction_exit(struct vm *vm);

/*
 * --stats: "== compaction ==": the vmstat counters (compact_*, pgmigrate_*,
 * nr_free_cma), each zone's fragmentation score, the unusable and extfrag
 * indices (debugfs extfrag/ formats), and the CMA area.
 */
extern const struct vm_stats_ops vm_compaction_stats;

/*
 * The same text (the control API's "stat" has it too): snprintf-like,
 * returns the full length.
 */
int vm_compaction_format(struct mm *mm, char *buf, size_t size);

#endif /* VMM_VM_COMPACTION_H */
