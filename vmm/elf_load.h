/* SPDX-License-Identifier: MIT */
/*
 * vmm/elf_load.h - load the guest kernel: an ELF64 x86-64 executable whose
 * PT_LOAD segments are identity-mapped (p_vaddr == p_paddr) at or above
 * BVM_KERNEL_BASE, inside guest RAM. The file is untrusted input: every
 * header field is checked before anything is copied.
 */
#ifndef VMM_ELF_LOAD_H
#define VMM_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

#define ELF_MAX_PHNUM	  64
#define ELF_MAX_FILE_SIZE (256ull << 20)

struct elf_image {
	uint64_t entry; /* guest-physical entry point */
	uint64_t start; /* lowest loaded address */
	uint64_t end;	/* end of the highest segment, rounded up to 4 KiB */
};

/**
 * elf_check() - validate the ELF image @file of @size bytes against @mem
 * without writing anything. Return 0 and fill @img, or -ENOEXEC with a
 * one-line reason (no newline) in @err.
 */
int elf_check(const void *file, size_t size, const struct guest_mem *mem,
	      struct elf_image *img, char *err, size_t errlen);

/**
 * elf_load() - elf_check(), then copy each PT_LOAD segment into guest RAM and
 * zero its tail (p_memsz beyond p_filesz). Return 0 or -ENOEXEC (@err says
 * why); guest RAM is untouched on failure.
 */
int elf_load(const void *file, size_t size, const struct guest_mem *mem,
	     struct elf_image *img, char *err, size_t errlen);

/**
 * elf_load_file() - map the file at @path read-only and elf_load() it.
 * Return 0, -ENOEXEC (bad image) or a negative errno from open/mmap; @err
 * says why either way.
 */
int elf_load_file(const char *path, const struct guest_mem *mem,
		  struct elf_image *img, char *err, size_t errlen);

#endif /* VMM_ELF_LOAD_H */
