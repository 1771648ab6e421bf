/* SPDX-License-Identifier: MIT */
/*
 * vmm/x86_boot.h - x86-64 boot state per abi/boot.h: the identity-map
 * page tables, the GDT with one TSS per vCPU, and each vCPU's CPUID,
 * registers and segment state for a direct start in 64-bit long mode.
 */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

struct kvm_cpuid2;

/*
 * x86_boot_build_tables() - write the page tables (2 MiB pages, or 1 GiB
 * pages when @use_1g_pages), the GDT and @nr_vcpus TSSes into the boot data
 * area of @mem. Return 0 or -ENOMEM if RAM does not cover the boot area or
 * the page-table area is too small for the RAM size.
 */
int x86_boot_build_tables(const struct guest_mem *mem, unsigned nr_vcpus,
			  bool use_1g_pages);

/* Top of the identity map: max(4 GiB, end of RAM), rounded up to 1 GiB. */
uint64_t x86_boot_map_end(const struct guest_mem *mem);

/* True when KVM's supported CPUID offers 1 GiB pages (pdpe1gb). */
bool x86_cpuid_has_1g_pages(const struct kvm_cpuid2 *cpuid);

/*
 * x86_vcpu_setup() - set CPUID (APIC id = @index), FPU, sregs, regs and MP
 * state of the vCPU @vcpu_fd so that it starts at @entry with rdi = @fdt_gpa
 * and rsi = @index. @cpuid is the supported set (not modified). Return 0 or
 * a negative errno naming nothing: the caller says which vCPU failed.
 */
int x86_vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *cpuid, unsigned index,
		   uint64_t entry, uint64_t fdt_gpa);

#endif /* VMM_X86_BOOT_H */
