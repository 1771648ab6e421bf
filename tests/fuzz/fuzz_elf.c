// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_elf.c - the guest kernel loader (vmm/elf_load.c) on
 * arbitrary file bytes.
 *
 * Each input is the whole file, loaded into guest RAM laid out as the VMM
 * lays it out (4 MiB at 0 and 64 KiB above the MMIO hole, at 4 GiB), each
 * region between PROT_NONE guard pages. RAM is read-only to the loader
 * except, for an image elf_check() accepts, the pages its segments cover:
 * a write anywhere else faults. After every input:
 *   - elf_load() agrees with elf_check() (same verdict, same image);
 *   - rejected: the status is -ENOEXEC with a one-line reason (and nothing
 *     was written: all of RAM was read-only);
 *   - accepted: every PT_LOAD segment lies at or above the kernel base in
 *     one RAM region, holds its file bytes then zeros, and the bytes of its
 *     first and last pages outside every segment are as they were (the
 *     rest of RAM was read-only); the entry point is in an executable
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

/* The first and last page of each segment, as they were before the load. */
#define MAX_EDGE_PAGES (2 * ELF_MAX_PHNUM)

static struct guest_mem mem;
static uint8_t edge_before[MAX_EDGE_PAGES][PAGE];
static uint8_t *edge_hva[MAX_EDGE_PAGES];
static unsigned nr_edges;

static void ram_protect_all(int prot)
{
	for (unsigned r = 0; r < mem.nr_regions; r++)
		FUZZ_ASSERT(mprotect(mem.regions[r].hva, mem.regions[r].size,
				     prot) == 0,
			    "mprotect guest RAM");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_ram_init(&mem, LOW_BYTES, HIGH_BYTES);
	ram_protect_all(PROT_READ);
	return 0;
}

/* The program headers of a file elf_check() accepted (so they are sane). */
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

/* Host pages [first, last] of segment @ph (inside one region: checked). */
static void segment_pages(const Elf64_Phdr *ph, uint8_t **first, uint8_t **last)
{
	uint8_t *p = fuzz_ram_ptr(&mem, ph->p_paddr, ph->p_memsz);

	*first = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1));
	*last = (uint8_t *)((uintptr_t)(p + ph->p_memsz - 1) &
			    ~(uintptr_t)(PAGE - 1));
}

NO_COVERAGE static void edge_save(uint8_t *page)
{
	for (unsigned i = 0; i < nr_edges; i++)
		if (edge_hva[i] == page)
			return;
	edge_hva[nr_edges] = page;
	memcpy(edge_before[nr_edges++], page, PAGE);
}

/* Make the segments' pages writable and remember their edge pages. */
NO_COVERAGE static void open_segments(const uint8_t *data)
{
	const Elf64_Phdr *ph;
	unsigned nr;

	nr_edges = 0;
	ph = load_phdrs(data, &nr);
	for (unsigned i = 0; i < nr; i++) {
		uint8_t *first, *last;

		if (!is_load(&ph[i]))
			continue;
		segment_pages(&ph[i], &first, &last);
		FUZZ_ASSERT(mprotect(first, (size_t)(last - first) + PAGE,
				     PROT_READ | PROT_WRITE) == 0,
			    "mprotect segment %u", i);
		edge_save(first);
		edge_save(last);
	}
}

/* Bytes of the edge pages that no segment covers are unchanged. */
NO_COVERAGE static void check_edges(const uint8_t *data)
{
	const Elf64_Phdr *ph;
	unsigned nr;

	ph = load_phdrs(data, &nr);
	for (unsigned e = 0; e < nr_edges; e++) {
		uint8_t *page = edge_hva[e];

		/* Take the segments' own bytes as the expected ones. */
		for (unsigned i = 0; i < nr; i++) {
			uint8_t *seg, *lo, *hi;

			if (!is_load(&ph[i]))
				continue;
			seg = fuzz_ram_ptr(&mem, ph[i].p_paddr, ph[i].p_memsz);
			lo = seg > page ? seg : page;
			hi = seg + ph[i].p_memsz < page + PAGE
				     ? seg + ph[i].p_memsz
				     : page + PAGE;
			if (lo < hi)
				memcpy(edge_before[e] + (lo - page), lo,
				       (size_t)(hi - lo));
		}
		FUZZ_ASSERT(memcmp(edge_before[e], page, PAGE) == 0,
			    "the loader wrote outside its segments near %p",
			    (void *)page);
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
	struct elf_image want, img;
	char err[256];
	int r, r0;

	r0 = elf_check(data, size, &mem, &want, err, sizeof(err));
	if (r0 == 0)
		open_segments(data);
	memset(err, 0, sizeof(err));
	r = elf_load(data, size, &mem, &img, err, sizeof(err));
	FUZZ_ASSERT(r == r0, "elf_load %d, elf_check %d", r, r0);
	if (r < 0) {
		FUZZ_ASSERT(r == -ENOEXEC, "elf_load returned %d", r);
		FUZZ_ASSERT(err[0] && memchr(err, '\0', sizeof(err)) &&
				    !strchr(err, '\n'),
			    "rejection without a one-line reason");
		return 0;
	}
	FUZZ_ASSERT(!memcmp(&img, &want, sizeof(img)),
		    "elf_load and elf_check see different images");
	check_segments(data, &img);
	check_edges(data);
	check_frame_db(data, &img);
	ram_protect_all(PROT_READ);
	return 0;
}
