// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_elf.c - the guest kernel loader (vmm/elf_load.c) on
 * arbitrary file bytes.
 *
 * Each input is the whole file, loaded into guest RAM laid out as the VMM
 * lays it out (4 MiB at 0 and 64 KiB above the MMIO hole, at 4 GiB), each
 * region between PROT_NONE guard pages and wiped to unbacked zero pages
 * before the load. After every input:
 *   - rejected: the status is -ENOEXEC with a one-line reason, and no page
 *     of guest RAM was written (none became resident, mincore());
 *   - accepted: every PT_LOAD segment lies at or above the kernel base in
 *     one RAM region, holds its file bytes then zeros, and no page outside
 *     the segments was written; the entry point is in an executable
 *     segment; the frame database the VMM builds next over that RAM
 *     (kernel_end = the image's end) comes up with mm_check() clean, every
 *     frame of [0, end) reserved and every segment frame among them.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/boot.h"
#include "tests/fuzz/fuzz_common.h"
#include "vmm/elf_load.h"
#include "vmm/frame_db.h"

#define LOW_BYTES  (4ull << 20) /* the real guest.elf fits */
#define HIGH_BYTES (64ull << 10)
#define PAGE	   4096ull

/* The checks' loops are not code under test: no coverage feedback. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

static struct guest_mem mem;
static unsigned char *resident; /* mincore() vector, one byte a page */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_ram_init(&mem, LOW_BYTES, HIGH_BYTES);
	resident = malloc(LOW_BYTES / PAGE);
	FUZZ_ASSERT(resident, "malloc");
	return 0;
}

/* The loaded segments of a file elf_load() accepted (so headers are sane). */
static const Elf64_Phdr *load_phdrs(const uint8_t *data, unsigned *nr)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;

	*nr = eh->e_phnum;
	return (const Elf64_Phdr *)(data + eh->e_phoff);
}

static bool is_load(const Elf64_Phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_memsz > 0;
}

/* Does guest page @gpa overlap a loaded segment? */
NO_COVERAGE static bool page_in_segment(const uint8_t *data, uint64_t gpa,
					bool accepted)
{
	const Elf64_Phdr *ph;
	unsigned nr;

	if (!accepted)
		return false;
	ph = load_phdrs(data, &nr);
	for (unsigned i = 0; i < nr; i++)
		if (is_load(&ph[i]) && gpa < ph[i].p_paddr + ph[i].p_memsz &&
		    ph[i].p_paddr < gpa + PAGE)
			return true;
	return false;
}

/* No page of RAM written except those of the segments. */
NO_COVERAGE static void check_untouched(const uint8_t *data, bool accepted)
{
	for (unsigned r = 0; r < mem.nr_regions; r++) {
		const struct guest_mem_region *reg = &mem.regions[r];
		uint64_t pages = reg->size / PAGE;

		FUZZ_ASSERT(mincore(reg->hva, reg->size, resident) == 0,
			    "mincore");
		if (fuzz_is_zero(resident, pages))
			continue;
		for (uint64_t p = 0; p < pages; p++) {
			uint64_t gpa = reg->gpa + p * PAGE;

			FUZZ_ASSERT(
				!(resident[p] & 1) ||
					page_in_segment(data, gpa, accepted),
				"%s image wrote guest page %#llx",
				accepted ? "accepted" : "rejected",
				(unsigned long long)gpa);
		}
	}
}

NO_COVERAGE static void check_segments(const uint8_t *data,
				       const struct elf_image *img)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;
	const Elf64_Phdr *ph;
	bool entry_ok = false;
	unsigned nr;

	ph = load_phdrs(data, &nr);
	FUZZ_ASSERT(img->start >= BVM_KERNEL_BASE && img->start < img->end &&
			    img->end % PAGE == 0,
		    "image [%#llx, %#llx)", (unsigned long long)img->start,
		    (unsigned long long)img->end);
	for (unsigned i = 0; i < nr; i++) {
		const uint8_t *ram;

		if (!is_load(&ph[i]))
			continue;
		FUZZ_ASSERT(ph[i].p_paddr >= BVM_KERNEL_BASE &&
				    ph[i].p_paddr >= img->start &&
				    ph[i].p_paddr + ph[i].p_memsz <= img->end,
			    "segment %u at %#llx outside the image or below "
			    "the kernel base",
			    i, (unsigned long long)ph[i].p_paddr);
		/* Aborts unless the whole segment is in one region. */
		ram = fuzz_ram_ptr(&mem, ph[i].p_paddr, ph[i].p_memsz);
		FUZZ_ASSERT(
			memcmp(ram, data + ph[i].p_offset, ph[i].p_filesz) == 0,
			"segment %u: RAM differs from the file", i);
		FUZZ_ASSERT(fuzz_is_zero(ram + ph[i].p_filesz,
					 ph[i].p_memsz - ph[i].p_filesz),
			    "segment %u: tail not zeroed", i);
		if ((ph[i].p_flags & PF_X) && eh->e_entry >= ph[i].p_paddr &&
		    eh->e_entry - ph[i].p_paddr < ph[i].p_filesz)
			entry_ok = true;
	}
	FUZZ_ASSERT(entry_ok && img->entry == eh->e_entry,
		    "entry %#llx not in an executable segment",
		    (unsigned long long)img->entry);
}

/* What vm.c does next: the frame database with the image reserved. */
NO_COVERAGE static void check_frame_db(const uint8_t *data,
				       const struct elf_image *img)
{
	struct frame_db_config fc = {.kernel_end = img->end};
	uint64_t end_pfn = img->end / PAGE;
	const Elf64_Phdr *ph;
	struct frame_db *fdb;
	struct mm *mm;
	unsigned nr;
	int err = frame_db_create(&fdb, &mem, &fc);

	FUZZ_ASSERT(err == 0,
		    "accepted image ending at %#llx: frame database "
		    "failed (%d)",
		    (unsigned long long)img->end, err);
	mm = frame_db_mm(fdb);
	fuzz_check_mm(mm, "frame database after load");
	FUZZ_ASSERT(mm_count_frames_state(mm, 0, end_pfn, FRAME_RESERVED) ==
			    end_pfn,
		    "not every frame below the image end is reserved");
	ph = load_phdrs(data, &nr);
	for (unsigned i = 0; i < nr; i++) {
		uint64_t first, last;

		if (!is_load(&ph[i]))
			continue;
		first = ph[i].p_paddr / PAGE;
		last = (ph[i].p_paddr + ph[i].p_memsz - 1) / PAGE;
		FUZZ_ASSERT(mm_count_frames_state(mm, first, last - first + 1,
						  FRAME_RESERVED) ==
				    last - first + 1,
			    "segment %u frames not reserved", i);
	}
	frame_db_destroy(fdb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	char err[256];
	int r;

	memset(err, 0, sizeof(err));
	r = elf_load(data, size, &mem, &img, err, sizeof(err));
	if (r < 0) {
		FUZZ_ASSERT(r == -ENOEXEC, "elf_load returned %d", r);
		FUZZ_ASSERT(err[0] && memchr(err, '\0', sizeof(err)) &&
				    !strchr(err, '\n'),
			    "rejection without a one-line reason");
		check_untouched(data, false);
		return 0;
	}
	FUZZ_ASSERT(r == 0, "elf_load returned %d", r);
	check_segments(data, &img);
	check_untouched(data, true);
	check_frame_db(data, &img);
	fuzz_ram_wipe(&mem);
	return 0;
}
