// SPDX-License-Identifier: MIT
/* vmm/elf_load.c - checked loading of the guest kernel ELF image. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/boot.h"
#include "vmm/elf_load.h"

static int elf_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int elf_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

static int elf_check_ehdr(const Elf64_Ehdr *eh, size_t size, char *err,
			  size_t errlen)
{
	uint64_t ph_bytes, ph_end;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return elf_error(err, errlen, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return elf_error(err, errlen, "not a 64-bit ELF (class %u)",
				 eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return elf_error(err, errlen, "not a little-endian ELF");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT ||
	    eh->e_version != EV_CURRENT)
		return elf_error(err, errlen, "unknown ELF version");
	if (eh->e_machine != EM_X86_64)
		return elf_error(err, errlen,
				 "wrong machine %u (need x86-64, %u)",
				 eh->e_machine, EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return elf_error(err, errlen,
				 "ELF type %u is not an executable (ET_EXEC)",
				 eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return elf_error(err, errlen, "bad program header size %u",
				 eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHNUM)
		return elf_error(err, errlen,
				 "%u program headers (need 1 .. %d)",
				 eh->e_phnum, ELF_MAX_PHNUM);
	ph_bytes = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (__builtin_add_overflow(eh->e_phoff, ph_bytes, &ph_end) ||
	    ph_end > size)
		return elf_error(err, errlen,
				 "program headers lie outside the file "
				 "(truncated?)");
	return 0;
}

static int elf_check_segment(const Elf64_Phdr *ph, unsigned idx, size_t size,
			     const struct guest_mem *mem, char *err,
			     size_t errlen)
{
	uint64_t file_end, mem_end;

	if (ph->p_filesz > ph->p_memsz)
		return elf_error(err, errlen,
				 "segment %u: file size 0x%llx exceeds memory "
				 "size 0x%llx",
				 idx, (unsigned long long)ph->p_filesz,
				 (unsigned long long)ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &file_end) ||
	    file_end > size)
		return elf_error(err, errlen,
				 "segment %u: data lies outside the file "
				 "(truncated?)",
				 idx);
	if (ph->p_vaddr != ph->p_paddr)
		return elf_error(
			err, errlen,
			"segment %u: virtual 0x%llx != physical 0x%llx "
			"(the guest runs identity-mapped)",
			idx, (unsigned long long)ph->p_vaddr,
			(unsigned long long)ph->p_paddr);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &mem_end))
		return elf_error(err, errlen, "segment %u: address wraps", idx);
	if (ph->p_paddr < BVM_KERNEL_BASE)
		return elf_error(
			err, errlen,
			"segment %u at 0x%llx is below 0x%llx (1 MiB): "
			"it would overwrite the boot data",
			idx, (unsigned long long)ph->p_paddr, BVM_KERNEL_BASE);
	if (!guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz))
		return elf_error(err, errlen,
				 "segment %u [0x%llx, 0x%llx) is not inside "
				 "guest RAM (beyond RAM or in the MMIO hole)",
				 idx, (unsigned long long)ph->p_paddr,
				 (unsigned long long)mem_end);
	return 0;
}

static bool elf_overlaps(const Elf64_Phdr *a, const Elf64_Phdr *b)
{
	return a->p_paddr < b->p_paddr + b->p_memsz &&
	       b->p_paddr < a->p_paddr + a->p_memsz;
}

static bool elf_is_load(const Elf64_Phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_memsz > 0;
}

/* Every loaded segment checked, none overlapping; fills start/end. */
static int elf_check_segments(const Elf64_Phdr *phdrs, unsigned phnum,
			      size_t size, const struct guest_mem *mem,
			      struct elf_image *img, char *err, size_t errlen)
{
	unsigned nr_load = 0;

	img->start = UINT64_MAX;
	img->end = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];
		int r;

		if (!elf_is_load(ph))
			continue;
		r = elf_check_segment(ph, i, size, mem, err, errlen);
		if (r < 0)
			return r;
		for (unsigned j = 0; j < i; j++) {
			if (elf_is_load(&phdrs[j]) &&
			    elf_overlaps(ph, &phdrs[j]))
				return elf_error(err, errlen,
						 "segments %u and %u overlap",
						 j, i);
		}
		if (ph->p_paddr < img->start)
			img->start = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > img->end)
			img->end = ph->p_paddr + ph->p_memsz;
		nr_load++;
	}
	if (nr_load == 0)
		return elf_error(err, errlen, "no loadable segment");
	img->end = (img->end + 4095) & ~4095ull;
	/*
	 * The frame database reserves [1 MiB, end) as the kernel and the guest
	 * finds its free RAM past kernel-end: the span must be RAM of one
	 * region, so a segment above the MMIO hole cannot be loaded.
	 */
	if (!guest_mem_ptr(mem, BVM_KERNEL_BASE, img->end - BVM_KERNEL_BASE))
		return elf_error(err, errlen,
				 "image [0x%llx, 0x%llx) is not one stretch of "
				 "RAM from 1 MiB (a segment above the MMIO "
				 "hole?)",
				 BVM_KERNEL_BASE, (unsigned long long)img->end);
	return 0;
}

static int elf_check_entry(const Elf64_Phdr *phdrs, unsigned phnum,
			   uint64_t entry, char *err, size_t errlen)
{
	for (unsigned i = 0; i < phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];

		if (elf_is_load(ph) && (ph->p_flags & PF_X) &&
		    entry >= ph->p_paddr && entry < ph->p_paddr + ph->p_filesz)
			return 0;
	}
	return elf_error(err, errlen,
			 "entry point 0x%llx is not inside an executable "
			 "segment",
			 (unsigned long long)entry);
}

int elf_check(const void *file, size_t size, const struct guest_mem *mem,
	      struct elf_image *img, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = file;
	const Elf64_Phdr *phdrs;
	int r;

	if (size < sizeof(*eh))
		return elf_error(err, errlen,
				 "file too small for an ELF header (%zu bytes)",
				 size);
	r = elf_check_ehdr(eh, size, err, errlen);
	if (r < 0)
		return r;
	/* Checked above: [e_phoff, +phnum * phentsize) is inside the file. */
	phdrs = (const Elf64_Phdr *)((const char *)file + eh->e_phoff);
	if ((uintptr_t)phdrs % _Alignof(Elf64_Phdr))
		return elf_error(err, errlen, "misaligned program headers");
	r = elf_check_segments(phdrs, eh->e_phnum, size, mem, img, err, errlen);
	if (r < 0)
		return r;
	r = elf_check_entry(phdrs, eh->e_phnum, eh->e_entry, err, errlen);
	if (r < 0)
		return r;
	img->entry = eh->e_entry;
	return 0;
}

int elf_load(const void *file, size_t size, const struct guest_mem *mem,
	     struct elf_image *img, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = file;
	const Elf64_Phdr *phdrs;
	int r = elf_check(file, size, mem, img, err, errlen);

	if (r < 0)
		return r;
	phdrs = (const Elf64_Phdr *)((const char *)file + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];
		uint8_t *dst;

		if (!elf_is_load(ph))
			continue;
		/* elf_check() proved the whole segment lies in one region. */
		dst = guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz);
		memcpy(dst, (const char *)file + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	return 0;
}

int elf_load_file(const char *path, const struct guest_mem *mem,
		  struct elf_image *img, char *err, size_t errlen)
{
	struct stat st;
	void *file;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uint64_t)st.st_size > ELF_MAX_FILE_SIZE) {
		close(fd);
		return elf_error(err, errlen,
				 "not a regular file of 1 byte .. 256 MiB");
	}
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	r = file == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot map: %s", strerror(-r));
		return r;
	}
	r = elf_load(file, (size_t)st.st_size, mem, img, err, errlen);
	munmap(file, (size_t)st.st_size);
	return r;
}
