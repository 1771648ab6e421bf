// SPDX-License-Identifier: MIT
/*
 * vmm/x86_boot.c - long-mode boot state built by the VMM so that the guest
 * executes no real-mode or protected-mode code at all (on PVM hosts every
 * CPL-0 instruction is emulated, so a conventional boot path would be slow).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "abi/boot.h"
#include "vmm/x86_boot.h"

#define PTE_P		0x001ull
#define PTE_RW		0x002ull
#define PTE_US		0x004ull
#define PTE_PWT		0x008ull
#define PTE_PCD		0x010ull
#define PTE_PS		0x080ull
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_US)

#define CR0_PE		(1ull << 0)
#define CR0_MP		(1ull << 1)
#define CR0_ET		(1ull << 4)
#define CR0_NE		(1ull << 5)
#define CR0_WP		(1ull << 16)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define CR4_PGE		(1ull << 7)
#define CR4_OSFXSR	(1ull << 9)
#define CR4_OSXMMEXCPT	(1ull << 10)
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)

#define GiB		(1ull << 30)
#define PAGE_TABLE_SIZE 4096ull
#define PDPT_ADDR	(BVM_PML4_ADDR + PAGE_TABLE_SIZE)
#define PD_ADDR		(PDPT_ADDR + PAGE_TABLE_SIZE)

/* Flat descriptors: base 0, limit 4 GiB, 64-bit code or writable data. */
#define GDT_KCODE     0x00af9b000000ffffull
#define GDT_KDATA     0x00cf93000000ffffull
#define GDT_UDATA     0x00cff3000000ffffull
#define GDT_UCODE     0x00affb000000ffffull
#define TSS_LIMIT     0x67u
#define TSS_TYPE_BUSY 0xbu

uint64_t x86_boot_map_end(const struct guest_mem *mem)
{
	uint64_t end = 4 * GiB;

	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	return (end + GiB - 1) & ~(GiB - 1);
}

/* The MMIO hole is device memory: never cache it. */
static uint64_t x86_pte_cache_bits(uint64_t addr)
{
	return addr >= BVM_LOWMEM_END && addr < BVM_HIGHMEM_START
		       ? PTE_PCD | PTE_PWT
		       : 0;
}

static int x86_build_page_tables(const struct guest_mem *mem, bool use_1g)
{
	uint64_t nr_gib = x86_boot_map_end(mem) / GiB;
	uint64_t pd_bytes = use_1g ? 0 : nr_gib * PAGE_TABLE_SIZE;
	uint64_t *pml4, *pdpt, *pd;

	if (PD_ADDR + pd_bytes > BVM_PT_END || nr_gib > 512)
		return -ENOMEM;
	pml4 = guest_mem_ptr(mem, BVM_PML4_ADDR, BVM_PT_END - BVM_PML4_ADDR);
	if (!pml4)
		return -ENOMEM;
	memset(pml4, 0, PD_ADDR + pd_bytes - BVM_PML4_ADDR);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = PDPT_ADDR | PTE_TABLE;
	for (uint64_t g = 0; g < nr_gib; g++) {
		uint64_t addr = g * GiB;

		if (use_1g) {
			pdpt[g] = addr | PTE_TABLE | PTE_PS |
				  x86_pte_cache_bits(addr);
			continue;
		}
		pdpt[g] = (PD_ADDR + g * PAGE_TABLE_SIZE) | PTE_TABLE;
		for (uint64_t m = 0; m < 512; m++) {
			uint64_t a = addr + (m << 21);

			pd[g * 512 + m] =
				a | PTE_TABLE | PTE_PS | x86_pte_cache_bits(a);
		}
	}
	return 0;
}

static uint64_t x86_tss_addr(unsigned index)
{
	return BVM_TSS_ADDR + index * BVM_TSS_STRIDE;
}

/* A 64-bit TSS: only rsp0 matters; the I/O bitmap lies beyond the limit. */
static void x86_build_tss(uint8_t *tss, unsigned index)
{
	uint64_t rsp0 = BVM_KSTACK_TOP(index);
	uint16_t iopb = TSS_LIMIT + 1;

	memset(tss, 0, BVM_TSS_STRIDE);
	memcpy(tss + 4, &rsp0, sizeof(rsp0));
	memcpy(tss + 102, &iopb, sizeof(iopb));
}

static void x86_gdt_set_tss(uint64_t *gdt, unsigned index)
{
	uint64_t base = x86_tss_addr(index);
	uint64_t *desc = gdt + BVM_SEL_TSS(index) / 8;

	desc[0] = TSS_LIMIT | (base & 0xffffff) << 16 |
		  (uint64_t)(TSS_TYPE_BUSY | 0x80) << 40 |
		  ((base >> 24) & 0xff) << 56;
	desc[1] = base >> 32;
}

static int x86_build_gdt(const struct guest_mem *mem, unsigned nr_vcpus)
{
	uint64_t gdt_bytes = BVM_SEL_TSS(BVM_MAX_VCPUS);
	uint64_t *gdt = guest_mem_ptr(mem, BVM_GDT_ADDR, gdt_bytes);
	uint8_t *tss = guest_mem_ptr(mem, BVM_TSS_ADDR,
				     BVM_MAX_VCPUS * BVM_TSS_STRIDE);

	if (!gdt || !tss || nr_vcpus > BVM_MAX_VCPUS)
		return -ENOMEM;
	memset(gdt, 0, gdt_bytes);
	gdt[BVM_SEL_KCODE / 8] = GDT_KCODE;
	gdt[BVM_SEL_KDATA / 8] = GDT_KDATA;
	gdt[BVM_SEL_UDATA / 8] = GDT_UDATA;
	gdt[BVM_SEL_UCODE / 8] = GDT_UCODE;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		x86_build_tss(tss + i * BVM_TSS_STRIDE, i);
		x86_gdt_set_tss(gdt, i);
	}
	return 0;
}

int x86_boot_build_tables(const struct guest_mem *mem, unsigned nr_vcpus,
			  bool use_1g_pages)
{
	int r = x86_build_page_tables(mem, use_1g_pages);

	if (r < 0)
		return r;
	return x86_build_gdt(mem, nr_vcpus);
}

static struct kvm_cpuid_entry2 *
x86_cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

bool x86_cpuid_has_1g_pages(const struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *e =
		x86_cpuid_find((struct kvm_cpuid2 *)cpuid, 0x80000001, 0);

	return e && (e->edx & (1u << 26));
}

/* The supported set, with this vCPU's APIC id and the hypervisor bit. */
static int x86_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported,
			 unsigned index)
{
	size_t bytes = sizeof(*supported) +
		       supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(bytes);
	int r = 0;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, bytes);
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffu) | index << 24;
			e->ecx |= 1u << 31; /* running under a hypervisor */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = index; /* x2APIC id */
		}
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		r = -errno;
	free(cpuid);
	return r;
}

static struct kvm_segment x86_segment(uint16_t selector, uint8_t type,
				      uint8_t dpl, bool code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = dpl,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

static int x86_set_sregs(int vcpu_fd, unsigned index)
{
	struct kvm_sregs sregs;
	struct kvm_segment data = x86_segment(BVM_SEL_KDATA, 3, 0, false);

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = x86_segment(BVM_SEL_KCODE, 11, 0, true);
	sregs.ds = sregs.es = sregs.ss = data;
	/* fs/gs hold the null selector; the guest sets FS base by MSR. */
	sregs.fs = sregs.gs = data;
	sregs.fs.selector = sregs.gs.selector = 0;
	sregs.tr = (struct kvm_segment){
		.base = x86_tss_addr(index),
		.limit = TSS_LIMIT,
		.selector = BVM_SEL_TSS(index),
		.type = TSS_TYPE_BUSY,
		.present = 1,
	};
	sregs.gdt.base = BVM_GDT_ADDR;
	sregs.gdt.limit = BVM_SEL_TSS(BVM_MAX_VCPUS) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = BVM_PML4_ADDR;
	sregs.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return 0;
}

static int x86_set_regs(int vcpu_fd, unsigned index, uint64_t entry,
			uint64_t fdt_gpa)
{
	struct kvm_regs regs = {
		.rip = entry,
		.rdi = fdt_gpa,
		.rsi = index,
		.rsp = BVM_KSTACK_TOP(index),
		.rflags = 0x2,
	};

	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static int x86_set_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu = {
		.fcw = 0x37f,
		.mxcsr = 0x1f80,
	};

	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

/*
 * Application processors wait for INIT/SIPI by default; this VMM starts every
 * vCPU directly at the entry point instead.
 */
static int x86_set_runnable(int vcpu_fd)
{
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};

	if (ioctl(vcpu_fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	return 0;
}

int x86_vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *cpuid, unsigned index,
		   uint64_t entry, uint64_t fdt_gpa)
{
	int r = x86_set_cpuid(vcpu_fd, cpuid, index);

	if (r == 0)
		r = x86_set_sregs(vcpu_fd, index);
	if (r == 0)
		r = x86_set_regs(vcpu_fd, index, entry, fdt_gpa);
	if (r == 0)
		r = x86_set_fpu(vcpu_fd);
	if (r == 0)
		r = x86_set_runnable(vcpu_fd);
	return r;
}
