// SPDX-License-Identifier: MIT
/*
 * Unit tests for vmm/elf_load.c: a well-formed synthetic image loads; each
 * way of being malformed is rejected with a message naming the problem and
 * leaves guest RAM untouched; random corruption never crashes the checker.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "unit.h"
#include "abi/boot.h"
#include "vmm/elf_load.h"

#define RAM_SIZE  (32ull << 20)
#define TEXT_ADDR 0x100000ull
#define DATA_ADDR 0x200000ull

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t text[64];
	uint8_t data[32];
};

static struct guest_mem mem;
static struct image img;

static void ram_setup(void)
{
	void *p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	mem = (struct guest_mem){.fd = -1, .size = RAM_SIZE, .nr_regions = 1};
	mem.regions[0] = (struct guest_mem_region){0, RAM_SIZE, p, 0};
}

static void ram_teardown(void)
{
	munmap(mem.regions[0].hva, RAM_SIZE);
}

/* text: R+X at 1 MiB, 64 bytes; data: R+W at 2 MiB, 32 in file, 4 KiB. */
static void image_init(void)
{
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = TEXT_ADDR + 16;
	img.eh.e_phoff = offsetof(struct image, ph);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 2;
	img.ph[0] = (Elf64_Phdr){
		PT_LOAD,	  PF_R | PF_X, offsetof(struct image, text),
		TEXT_ADDR,	  TEXT_ADDR,   sizeof(img.text),
		sizeof(img.text), 4096};
	img.ph[1] = (Elf64_Phdr){
		PT_LOAD,   PF_R | PF_W, offsetof(struct image, data),
		DATA_ADDR, DATA_ADDR,	sizeof(img.data),
		4096,	   4096};
	memset(img.text, 0x90, sizeof(img.text));
	memset(img.data, 0xab, sizeof(img.data));
}

static int load(char *err)
{
	struct elf_image out;

	err[0] = '\0';
	return elf_load(&img, sizeof(img), &mem, &out, err, 256);
}

START_TEST(test_elf_loads_segments)
{
	struct elf_image out;
	char err[256];
	uint8_t *ram = mem.regions[0].hva;

	image_init();
	memset(ram + DATA_ADDR, 0x55, 8192); /* stale data: must become 0 */
	ck_assert_int_eq(
		elf_load(&img, sizeof(img), &mem, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.entry, TEXT_ADDR + 16);
	ck_assert_uint_eq(out.start, TEXT_ADDR);
	ck_assert_uint_eq(out.end, DATA_ADDR + 4096);
	ck_assert_int_eq(memcmp(ram + TEXT_ADDR, img.text, sizeof(img.text)),
			 0);
	ck_assert_int_eq(memcmp(ram + DATA_ADDR, img.data, sizeof(img.data)),
			 0);
	for (size_t i = sizeof(img.data); i < 4096; i++)
		ck_assert_uint_eq(ram[DATA_ADDR + i], 0);
	ck_assert_uint_eq(ram[DATA_ADDR + 4096], 0x55); /* past memsz */
}
END_TEST

static void expect_reject(const char *what, const char *message)
{
	char err[256];
	uint8_t *ram = mem.regions[0].hva;

	memset(ram + TEXT_ADDR, 0x11, 64);
	ck_assert_msg(load(err) == -ENOEXEC, "%s: accepted", what);
	ck_assert_msg(strstr(err, message), "%s: '%s' lacks '%s'", what, err,
		      message);
	ck_assert_msg(ram[TEXT_ADDR] == 0x11, "%s: RAM written", what);
}

START_TEST(test_elf_rejects_bad_headers)
{
	image_init();
	img.eh.e_ident[0] = 0x7e;
	expect_reject("magic", "bad magic");
	image_init();
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject("class", "not a 64-bit ELF");
	image_init();
	img.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_reject("endianness", "little-endian");
	image_init();
	img.eh.e_machine = EM_AARCH64;
	expect_reject("machine", "wrong machine 183");
	image_init();
	img.eh.e_type = ET_DYN;
	expect_reject("type", "not an executable");
	image_init();
	img.eh.e_phentsize = 32;
	expect_reject("phentsize", "program header size");
	image_init();
	img.eh.e_phnum = 0;
	expect_reject("phnum 0", "program headers");
	image_init();
	img.eh.e_phnum = 1000;
	expect_reject("phnum 1000", "program headers");
	image_init();
	img.eh.e_phoff = sizeof(img) - 8;
	expect_reject("phoff", "outside the file");
	image_init();
	img.eh.e_phoff = UINT64_MAX - 8;
	expect_reject("phoff wraps", "outside the file");
}
END_TEST

START_TEST(test_elf_rejects_bad_segments)
{
	image_init();
	img.ph[0].p_filesz = img.ph[0].p_memsz + 1;
	expect_reject("filesz > memsz", "exceeds memory size");
	image_init();
	img.ph[1].p_offset = sizeof(img);
	expect_reject("offset past end", "outside the file");
	image_init();
	img.ph[1].p_offset = UINT64_MAX;
	expect_reject("offset wraps", "outside the file");
	image_init();
	img.ph[0].p_vaddr = img.ph[0].p_paddr = 0x1000;
	img.eh.e_entry = 0x1010;
	expect_reject("below 1 MiB", "below 0x100000");
	image_init();
	img.ph[1].p_vaddr = img.ph[1].p_paddr = RAM_SIZE - 2048;
	expect_reject("past RAM", "not inside guest RAM");
	image_init();
	img.ph[1].p_vaddr = img.ph[1].p_paddr = BVM_LOWMEM_END + 4096;
	expect_reject("in the hole", "not inside guest RAM");
	image_init();
	img.ph[1].p_vaddr = img.ph[1].p_paddr = UINT64_MAX - 100;
	expect_reject("wraps", "wraps");
	image_init();
	img.ph[1].p_vaddr = img.ph[1].p_paddr = TEXT_ADDR + 32;
	expect_reject("overlap", "overlap");
	image_init();
	img.ph[1].p_vaddr = DATA_ADDR + 4096;
	expect_reject("vaddr != paddr", "identity-mapped");
	image_init();
	img.ph[0].p_type = PT_NOTE;
	img.ph[1].p_type = PT_NOTE;
	expect_reject("no PT_LOAD", "no loadable segment");
}
END_TEST

/*
 * RAM above the MMIO hole is RAM, but the kernel image is [1 MiB, end) for
 * the frame database: a segment there used to load, then `vmm run` failed
 * in the frame database ("is RAM larger than the kernel image?").
 */
START_TEST(test_elf_rejects_segment_above_hole)
{
	void *high = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(high, MAP_FAILED);
	mem.regions[1] = (struct guest_mem_region){BVM_HIGHMEM_START, 1 << 20,
						   high, RAM_SIZE};
	mem.nr_regions = 2;
	image_init();
	img.ph[1].p_vaddr = img.ph[1].p_paddr = BVM_HIGHMEM_START;
	expect_reject("above the hole", "above the MMIO hole");
	ck_assert_uint_eq(((uint8_t *)high)[0], 0);
	mem.nr_regions = 1;
	munmap(high, 1 << 20);
}
END_TEST

START_TEST(test_elf_rejects_bad_entry)
{
	image_init();
	img.eh.e_entry = DATA_ADDR; /* loaded, but not executable */
	expect_reject("entry in data", "not inside an executable segment");
	image_init();
	img.eh.e_entry = TEXT_ADDR + sizeof(img.text);
	expect_reject("entry at end", "not inside an executable segment");
	image_init();
	img.eh.e_entry = 0;
	expect_reject("entry 0", "not inside an executable segment");
}
END_TEST

START_TEST(test_elf_truncations_never_crash)
{
	char err[256];
	struct elf_image out;

	image_init();
	for (size_t n = 0; n < sizeof(img); n++) {
		void *copy = malloc(n ? n : 1);

		memcpy(copy, &img, n);
		ck_assert_int_eq(
			elf_check(copy, n, &mem, &out, err, sizeof(err)),
			-ENOEXEC);
		free(copy);
	}
}
END_TEST

/* Random bytes flipped in the headers: accepted or rejected, never a crash
 * and never an accepted segment outside RAM or below 1 MiB. */
START_TEST(test_elf_random_corruption)
{
	unsigned long seed = unit_seed();
	unsigned iters = unit_sanitized() ? 20000 : 100000;
	char err[256];
	struct elf_image out;

	srandom((unsigned)seed);
	for (unsigned i = 0; i < iters; i++) {
		uint8_t *bytes = (uint8_t *)&img;
		size_t hdr = offsetof(struct image, text);

		image_init();
		for (int k = 0; k < 1 + (int)(random() % 4); k++)
			bytes[random() % hdr] = (uint8_t)random();
		if (elf_check(&img, sizeof(img), &mem, &out, err, sizeof(err)) <
		    0)
			continue;
		ck_assert_msg(out.start >= BVM_KERNEL_BASE &&
				      out.end <= RAM_SIZE,
			      "seed %lu iter %u: accepted [0x%llx, 0x%llx)",
			      seed, i, (unsigned long long)out.start,
			      (unsigned long long)out.end);
	}
}
END_TEST

static Suite *vmm_elf_suite(void)
{
	Suite *s = suite_create("vmm_elf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, ram_setup, ram_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_elf_loads_segments);
	tcase_add_test(tc, test_elf_rejects_bad_headers);
	tcase_add_test(tc, test_elf_rejects_bad_segments);
	tcase_add_test(tc, test_elf_rejects_segment_above_hole);
	tcase_add_test(tc, test_elf_rejects_bad_entry);
	tcase_add_test(tc, test_elf_truncations_never_crash);
	tcase_add_test(tc, test_elf_random_corruption);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vmm_elf_suite)
