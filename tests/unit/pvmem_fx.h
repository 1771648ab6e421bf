/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/pvmem_fx.h - a hosted-model VM without KVM for the pvmem
 * suites: guest RAM from anonymous memory ([0, 64 MiB) and [4 GiB,
 * 4 GiB + 16 MiB), so the MMIO hole is real), its mm instance, the device,
 * and helpers that fill request blocks the way a guest driver would.
 *
 * Guest buffers live in the "kernel image" [1 MiB, 2 MiB), which the fixture
 * reserves and so the guest holds.
 */
#ifndef TESTS_UNIT_PVMEM_FX_H
#define TESTS_UNIT_PVMEM_FX_H

#include <stdint.h>

#include "vmm/frame_db.h"
#include "devices/pvmem.h"

#define FX_LOW_SIZE   (64ull << 20)
#define FX_HIGH_GPA   (4ull << 30)
#define FX_HIGH_SIZE  (16ull << 20)
#define FX_KERNEL_END (2ull << 20)

/* Guest buffers (GPAs inside the reserved kernel image). */
#define FX_BLOCK_GPA   0x100000ull /* request block */
#define FX_BLOCK2_GPA  0x101000ull /* a second vCPU's block */
#define FX_PFNS_GPA    0x102000ull /* uint64_t[512]: ALLOC output */
#define FX_FREE_GPA    0x104000ull /* struct pvmem_free_ent[512] */
#define FX_OUT_GPA     0x108000ull /* INFO/STATS output */
#define FX_SCRATCH_GPA 0x110000ull /* per-thread areas, 64 KiB apart */

struct fx {
	struct guest_mem mem;
	struct frame_db *fdb;
	struct pvmem *p;
	struct mm *mm;
};

extern struct fx fx;

/* Build the VM; @cfg may be NULL. Fails the test on error. */
void fx_setup_cfg(const struct pvmem_config *cfg);
void fx_setup(void);
void fx_teardown(void);

/* Host pointer of a guest address (must be in RAM). */
void *fx_ptr(uint64_t gpa);

/* Request block at @gpa: reset with a valid header; add requests. */
struct pvmem_block *fx_block_begin(uint64_t gpa);
struct pvmem_req *fx_block_add(struct pvmem_block *b, unsigned op);
int fx_ring(uint64_t gpa);

/*
 * One-request conveniences on FX_BLOCK_GPA. fx_alloc fills @pfns (may be
 * NULL) with the granted blocks and returns the status; *@done gets the
 * number granted.
 */
int fx_alloc(uint32_t gfp, unsigned order, unsigned count, uint64_t *pfns,
	     unsigned *done);
int fx_free(const uint64_t *pfns, const unsigned *orders, unsigned count,
	    unsigned *done);
int fx_free1(uint64_t pfn, unsigned order);
int fx_dma_alloc(uint32_t dev, uint64_t size, unsigned dma_bits, uint64_t *gpa);
int fx_dma_free(uint32_t dev, uint64_t gpa);

/* mm_check() clean and tot_pages == GUEST + DMA frames. */
void fx_assert_consistent(void);
uint64_t fx_frames(unsigned state);
uint64_t fx_discarded(void);

#endif
