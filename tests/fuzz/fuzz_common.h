/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_common.h - what every libFuzzer harness shares: guest RAM
 * mapped between PROT_NONE guard pages (any host access outside guest RAM
 * faults at once, ASan or not), a reader that turns the fuzzer's bytes into
 * values, and the invariant checks harnesses run after every input.
 *
 * A failed check prints what broke and abort()s, which libFuzzer reports as
 * a crash and saves the input: a harness never just returns on a broken
 * invariant.
 */
#ifndef TESTS_FUZZ_FUZZ_COMMON_H
#define TESTS_FUZZ_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/mm.h"
#include "vmm/guest_mem.h"

/* libFuzzer's entry points (the harness defines the first, maybe the second). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Guest RAM ------------------------------------------------------------- */

/*
 * Guest RAM of @low_bytes at GPA 0 and, when @high_bytes is not 0,
 * @high_bytes at 4 GiB (above the MMIO hole, as the VMM lays it out). Each
 * region is its own mapping with a PROT_NONE page before and after it.
 * Sizes are multiples of 4 KiB. Aborts on failure (harness set-up only).
 */
void fuzz_ram_init(struct guest_mem *mem, uint64_t low_bytes,
		   uint64_t high_bytes);
void fuzz_ram_fini(struct guest_mem *mem);

/*
 * Back RAM with transparent huge pages where the host gives them
 * (MADV_HUGEPAGE, the VMM's default "anon" backing): a 2 MiB block is one
 * host fault, not 512, and releasing part of one splits it, as in a VM.
 */
void fuzz_ram_hugepage(struct guest_mem *mem);

/* Every byte of guest RAM back to zero (MADV_DONTNEED), for the next input. */
void fuzz_ram_wipe(struct guest_mem *mem);

/* How many pages of guest RAM are resident (mincore()). */
uint64_t fuzz_ram_resident(const struct guest_mem *mem);

/* Host pointer of [gpa, gpa + len) in RAM; aborts if it is not RAM. */
void *fuzz_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Input reader ------------------------------------------------------------ */

/* Values past the end of the input read as zero; fuzz_in_left() says 0. */
struct fuzz_in {
	const uint8_t *data;
	size_t size, pos;
};

void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size);
size_t fuzz_in_left(const struct fuzz_in *in);
uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* Copy up to @len bytes (fewer at the end); return how many. */
size_t fuzz_bytes(struct fuzz_in *in, void *out, size_t len);

/* Invariants -------------------------------------------------------------- */

/* Print "fuzz invariant: <what>" and abort(). */
void fuzz_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#define FUZZ_ASSERT(cond, ...)                                                 \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__VA_ARGS__);                                \
	} while (0)

/*
 * mm_check() clean and the per-state frame counters adding up to the total;
 * aborts otherwise. @what names the step in the message.
 */
void fuzz_check_mm(struct mm *mm, const char *what);

/*
 * Every frame of @mem flagged PG_DISCARDED (host backing released) reads as
 * zero. Frames the host no longer backs (mincore()) are zero by
 * construction and are not read, so the check costs only resident frames.
 */
void fuzz_check_discarded_zero(struct mm *mm, const struct guest_mem *mem);

/*
 * The same for discarded frames and FRAME_BALLOON frames (the balloon
 * releases their backing before its notification returns).
 */
void fuzz_check_released_zero(struct mm *mm, const struct guest_mem *mem);

/*
 * Every frame for which @pick() is true reads as zero (the same mincore()
 * shortcut); @what names them in the message.
 */
void fuzz_check_frames_zero(struct mm *mm, const struct guest_mem *mem,
			    bool (*pick)(const struct page *pg),
			    const char *what);

/* Whether the @len bytes at @p are all zero. */
bool fuzz_is_zero(const void *p, size_t len);

#endif /* TESTS_FUZZ_FUZZ_COMMON_H */
