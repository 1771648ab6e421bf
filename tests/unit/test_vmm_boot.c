// SPDX-License-Identifier: MIT
/*
 * Unit tests for the VMM's boot-time pieces that need no KVM: the exit bus,
 * the device tree (built, then read back with libfdt), the boot page tables
 * and GDT, the sanitizing of guest failure reports, the initcall rule, and
 * that a virtio device's attach to the VM is all or nothing.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <libfdt.h>

#include "abi/layout.h"
#include "devices/virtio_vm.h"
#include "unit.h"
#include "vmm/bus.h"
#include "vmm/debug_ports.h"
#include "vmm/fdt_build.h"
#include "vmm/x86_boot.h"

/* ---- bus ---- */

static int bus_calls;

static int bus_echo(void *opaque, uint64_t offset, void *data, unsigned len,
		    bool is_write)
{
	bus_calls++;
	if (!is_write)
		memcpy(data, &offset, len);
	return (int)(uintptr_t)opaque;
}

START_TEST(test_bus_register_and_dispatch)
{
	struct bus *bus = bus_create();
	uint64_t v = 0;

	ck_assert_ptr_nonnull(bus);
	ck_assert_int_eq(
		bus_register(bus, BUS_MMIO, 0x2000, 0x100, bus_echo, (void *)2),
		0);
	ck_assert_int_eq(
		bus_register(bus, BUS_MMIO, 0x1000, 0x100, bus_echo, (void *)1),
		0);
	ck_assert_int_eq(
		bus_register(bus, BUS_PIO, 0x1000, 4, bus_echo, (void *)3), 0);
	/* Overlaps on either side, and containment, are refused. */
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x10ff, 2, bus_echo, 0),
			 -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0x1fff, 2, bus_echo, 0),
			 -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 0, 0x10000, bus_echo, 0),
			 -EEXIST);
	ck_assert_int_eq(bus_register(bus, BUS_MMIO, 5, 0, bus_echo, 0),
			 -EINVAL);
	ck_assert_int_eq(
		bus_register(bus, BUS_MMIO, UINT64_MAX, 2, bus_echo, 0),
		-EINVAL);
	/* Adjacent is fine. */
	ck_assert_int_eq(
		bus_register(bus, BUS_MMIO, 0x1100, 0x100, bus_echo, (void *)4),
		0);

	ck_assert_int_eq(bus_dispatch(bus, BUS_MMIO, 0x1010, &v, 4, false), 1);
	ck_assert_uint_eq(v, 0x10);
	ck_assert_int_eq(bus_dispatch(bus, BUS_MMIO, 0x20f8, &v, 8, false), 2);
	ck_assert_uint_eq(v, 0xf8);
	ck_assert_int_eq(bus_dispatch(bus, BUS_MMIO, 0x1100, &v, 1, true), 4);
	ck_assert_int_eq(bus_dispatch(bus, BUS_PIO, 0x1002, &v, 2, true), 3);
	/* Outside every range, or straddling a range's end. */
	bus_calls = 0;
	ck_assert_int_eq(bus_dispatch(bus, BUS_MMIO, 0x1200, &v, 4, true),
			 -ENOENT);
	ck_assert_int_eq(bus_dispatch(bus, BUS_MMIO, 0x20fe, &v, 4, true),
			 -ENOENT);
	ck_assert_int_eq(bus_dispatch(bus, BUS_PIO, 0x2000, &v, 1, true),
			 -ENOENT);
	ck_assert_int_eq(
		bus_dispatch(bus, BUS_MMIO, UINT64_MAX - 1, &v, 4, true),
		-EINVAL);
	ck_assert_int_eq(bus_calls, 0);
	bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_many_ranges_sorted)
{
	struct bus *bus = bus_create();
	int r = 0, n = 0;

	/* Registered in a scrambled order; each must dispatch to itself. */
	for (unsigned i = 0; i < 64; i++) {
		unsigned slot = (i * 37) % 64;

		r = bus_register(bus, BUS_PIO, slot * 16, 16, bus_echo,
				 (void *)(uintptr_t)(slot + 1));
		ck_assert_int_eq(r, 0);
		n++;
	}
	ck_assert_int_eq(bus_register(bus, BUS_PIO, 0x10000, 1, bus_echo, 0),
			 -ENOSPC);
	for (unsigned slot = 0; slot < 64; slot++) {
		uint8_t b = 0;

		ck_assert_int_eq(bus_dispatch(bus, BUS_PIO, slot * 16 + 15, &b,
					      1, false),
				 (int)slot + 1);
		ck_assert_uint_eq(b, 15);
	}
	bus_destroy(bus);
}
END_TEST

/* ---- device tree ---- */

static struct vm vm;
static uint8_t fdt[BVM_FDT_MAX];

static void vm_fake(uint64_t mem_size, unsigned nr_vcpus)
{
	uint64_t low = mem_size < BVM_LOWMEM_END ? mem_size : BVM_LOWMEM_END;

	memset(&vm, 0, sizeof(vm));
	vm.cfg.mem_size = mem_size;
	vm.cfg.nr_vcpus = nr_vcpus;
	vm.cfg.cmdline = "workload=smp timer.count=3";
	vm.cfg.memory_model = VM_MEMORY_NATIVE;
	vm.kernel_end = 0x1a2000;
	vm.mem.nr_regions = 1;
	vm.mem.regions[0] = (struct guest_mem_region){0, low, NULL, 0};
	if (mem_size > low) {
		vm.mem.nr_regions = 2;
		vm.mem.regions[1] = (struct guest_mem_region){
			BVM_HIGHMEM_START, mem_size - low, NULL, low};
	}
}

static uint64_t prop_u64(int node, const char *name, int index)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);
	fdt64_t v;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(len, (index + 1) * 8);
	/* FDT properties are only 4-byte aligned. */
	memcpy(&v, p + 8 * index, sizeof(v));
	return fdt64_to_cpu(v);
}

START_TEST(test_fdt_describes_vm)
{
	int node, len, n = 0;

	vm_fake(5ull << 30, 3);
	ck_assert_int_eq(vm_add_mmio_dev(&vm, BVM_MMIO_BASE, 0x200, 5, 9), 0);
	ck_assert_int_gt(fdt_build(&vm, fdt, sizeof(fdt)), 0);
	ck_assert_int_eq(fdt_check_header(fdt), 0);

	node = fdt_path_offset(fdt, "/chosen");
	ck_assert_str_eq(fdt_getprop(fdt, node, "bootargs", NULL),
			 "workload=smp timer.count=3");
	node = fdt_path_offset(fdt, "/memory@0");
	ck_assert_int_ge(node, 0);
	ck_assert_uint_eq(prop_u64(node, "reg", 1), 3ull << 30);
	node = fdt_path_offset(fdt, "/memory@100000000");
	ck_assert_uint_eq(prop_u64(node, "reg", 0), 4ull << 30);
	ck_assert_uint_eq(prop_u64(node, "reg", 1), 2ull << 30);

	node = fdt_path_offset(fdt, "/cpus");
	fdt_for_each_subnode(len, fdt, node) n++;
	ck_assert_int_eq(n, 3);
	ck_assert_int_ge(fdt_path_offset(fdt, "/cpus/cpu@2"), 0);

	node = fdt_path_offset(fdt, "/buddyvm");
	ck_assert_str_eq(fdt_getprop(fdt, node, "memory-model", NULL),
			 "native");
	ck_assert_uint_eq(prop_u64(node, "kernel-end", 0), 0x1a2000);
	fdt_getprop(fdt, node, "zones", &len);
	ck_assert_int_eq(len, 3 * 16);
	ck_assert_uint_eq(prop_u64(node, "zones", 0), 0);
	ck_assert_uint_eq(prop_u64(node, "zones", 1), 16 << 20);
	ck_assert_uint_eq(prop_u64(node, "zones", 2), 16 << 20);
	ck_assert_uint_eq(prop_u64(node, "zones", 3), 3ull << 30);
	ck_assert_uint_eq(prop_u64(node, "zones", 4), 4ull << 30);
	ck_assert_uint_eq(prop_u64(node, "zones", 5), 6ull << 30);
	ck_assert_str_eq(fdt_stringlist_get(fdt, node, "zone-names", 2, NULL),
			 "Normal");

	node = fdt_node_offset_by_compatible(fdt, -1, BVM_FDT_VIRTIO_COMPAT);
	ck_assert_int_ge(node, 0);
	ck_assert_uint_eq(prop_u64(node, "reg", 0), BVM_MMIO_BASE);
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, node, "interrupts", &len)),
			  5);
	ck_assert_int_eq(len, 4);
	/* The guest library reads this to pick the pvmem DMA id. */
	ck_assert_uint_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				  fdt, node, BVM_FDT_DMA_ID_PROP, &len)),
			  9);
	ck_assert_int_eq(len, 4);
}
END_TEST

/* virtio_vm_attach(): bus window and FDT node together, or neither. */
START_TEST(test_virtio_attach_all_or_nothing)
{
	struct virtio_vm_link link = {
		.base = BVM_VIRTIO_MMIO_BASE(0),
		.irq = 16,
		.dma_device_id = 3,
	};
	/* The bus only keeps the pointer: nothing here dispatches to it. */
	struct virtio_mmio_dev *dev = (struct virtio_mmio_dev *)&link;

	vm_fake(256ull << 20, 1);
	vm.bus = bus_create();
	ck_assert_ptr_nonnull(vm.bus);
	ck_assert_int_eq(virtio_vm_attach(&vm, &link, dev), 0);
	ck_assert_uint_eq(vm.nr_mmio_devs, 1);
	ck_assert_uint_eq(vm.mmio_devs[0].base, link.base);
	ck_assert_uint_eq(vm.mmio_devs[0].size, VIRTIO_MMIO_SIZE);
	ck_assert_uint_eq(vm.mmio_devs[0].irq, 16);
	ck_assert_uint_eq(vm.mmio_devs[0].dma_device_id, 3);
	ck_assert_int_eq(
		bus_register(vm.bus, BUS_MMIO, link.base, 4, bus_echo, NULL),
		-EEXIST);

	/* The window is taken: no second FDT node. */
	ck_assert_int_eq(virtio_vm_attach(&vm, &link, dev), -EEXIST);
	ck_assert_uint_eq(vm.nr_mmio_devs, 1);

	/* No FDT slot left: the window stays free on the bus. */
	vm.nr_mmio_devs = VM_MAX_MMIO_DEVS;
	link.base = BVM_VIRTIO_MMIO_BASE(1);
	ck_assert_int_eq(virtio_vm_attach(&vm, &link, dev), -ENOSPC);
	ck_assert_int_eq(
		bus_register(vm.bus, BUS_MMIO, link.base, 4, bus_echo, NULL),
		0);
	bus_destroy(vm.bus);
}
END_TEST

START_TEST(test_fdt_small_vm_and_no_space)
{
	int node, len;

	vm_fake(16ull << 20, 1);
	ck_assert_int_gt(fdt_build(&vm, fdt, sizeof(fdt)), 0);
	node = fdt_path_offset(fdt, "/buddyvm");
	fdt_getprop(fdt, node, "zones", &len);
	ck_assert_int_eq(len, 16); /* DMA only */
	ck_assert_int_lt(fdt_path_offset(fdt, "/memory@100000000"), 0);
	ck_assert_int_eq(fdt_build(&vm, fdt, 200), -ENOSPC);

	vm_fake(256ull << 20, BVM_MAX_VCPUS);
	for (unsigned i = 0; i < VM_MAX_MMIO_DEVS; i++)
		ck_assert_int_eq(vm_add_mmio_dev(&vm,
						 BVM_MMIO_BASE + i * 0x1000,
						 0x200, 5 + i, i),
				 0);
	ck_assert_int_eq(vm_add_mmio_dev(&vm, 0, 1, 1, 0), -ENOSPC);
	ck_assert_int_gt(fdt_build(&vm, fdt, sizeof(fdt)), 0);
}
END_TEST

/* ---- boot page tables and GDT ---- */

#define PT_RAM (64ull << 20)

START_TEST(test_x86_tables)
{
	uint8_t *ram = mmap(NULL, PT_RAM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guest_mem mem = {.fd = -1, .size = PT_RAM, .nr_regions = 1};
	uint64_t *pml4, *pdpt, *pd, *gdt;

	ck_assert_ptr_ne(ram, MAP_FAILED);
	mem.regions[0] = (struct guest_mem_region){0, PT_RAM, ram, 0};
	ck_assert_uint_eq(x86_boot_map_end(&mem), 4ull << 30);
	ck_assert_int_eq(x86_boot_build_tables(&mem, 4, false), 0);
	pml4 = (uint64_t *)(ram + BVM_PML4_ADDR);
	pdpt = (uint64_t *)(ram + (pml4[0] & ~0xfffull));
	ck_assert_uint_eq(pml4[0] & 7, 7); /* present, writable, user */
	ck_assert_uint_eq(pml4[1], 0);
	for (unsigned g = 0; g < 4; g++) {
		ck_assert_uint_eq(pdpt[g] & 7, 7);
		pd = (uint64_t *)(ram + (pdpt[g] & ~0xfffull));
		for (unsigned m = 0; m < 512; m += 97) {
			uint64_t addr = (uint64_t)g << 30 | (uint64_t)m << 21;
			uint64_t want = addr | 0x87 | (g == 3 ? 0x18 : 0);

			ck_assert_uint_eq(pd[m], want);
		}
	}
	ck_assert_uint_eq(pdpt[4], 0);
	ck_assert_int_eq(x86_boot_build_tables(&mem, 4, true), 0);
	ck_assert_uint_eq(pdpt[2], (2ull << 30) | 0x87);

	gdt = (uint64_t *)(ram + BVM_GDT_ADDR);
	ck_assert_uint_eq(gdt[0], 0);
	ck_assert_uint_eq((gdt[BVM_SEL_KCODE / 8] >> 45) & 3, 0); /* DPL */
	ck_assert_uint_eq((gdt[BVM_SEL_UCODE / 8] >> 45) & 3, 3);
	ck_assert_uint_eq((gdt[BVM_SEL_UCODE / 8] >> 53) & 1, 1); /* L */
	for (unsigned i = 0; i < 4; i++) {
		uint64_t *d = gdt + BVM_SEL_TSS(i) / 8;
		uint64_t base = ((d[0] >> 16) & 0xffffff) |
				((d[0] >> 56) << 24) | (d[1] << 32);
		uint64_t rsp0;

		ck_assert_uint_eq(base, BVM_TSS_ADDR + i * BVM_TSS_STRIDE);
		memcpy(&rsp0, ram + base + 4, 8);
		ck_assert_uint_eq(rsp0, BVM_KSTACK_TOP(i));
	}
	munmap(ram, PT_RAM);
}
END_TEST

/* ---- failure reports ---- */

START_TEST(test_report_sanitized)
{
	struct bvm_report rep;
	char line[400];

	memset(&rep, 'A', sizeof(rep)); /* no NUL anywhere */
	rep.file[3] = '\n';
	rep.msg[0] = '\x1b';
	rep.line = 42;
	debug_report_describe(&rep, line, sizeof(line));
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert_ptr_null(strchr(line, '\x1b'));
	ck_assert_ptr_nonnull(strstr(line, "AAA?AAAA"));
	ck_assert_ptr_nonnull(strstr(line, ":42: ?AAA"));
	/* Bounded by the struct's fields, whatever follows them. */
	ck_assert_uint_le(strlen(line),
			  sizeof(rep.file) + sizeof(rep.msg) + 32);
}
END_TEST

/* ---- the initcall rule (vmm/vm.h) ---- */

/* Every init and exit appends its letter: inits lower case, exits upper. */
static char steps[32];
static unsigned nr_steps;

static void step(char c)
{
	ck_assert_uint_lt(nr_steps, sizeof(steps) - 1);
	steps[nr_steps++] = c;
}

/* A step that succeeds: its init logs its name, its exit the upper case. */
#define OK_STEP(name, upper)                                                   \
	static int init_##name(struct vm *v)                                   \
	{                                                                      \
		step(#name[0]);                                                \
		return 0;                                                      \
	}                                                                      \
	static void exit_##name(struct vm *v)                                  \
	{                                                                      \
		step(upper);                                                   \
	}

OK_STEP(a, 'A')
OK_STEP(b, 'B')
OK_STEP(d, 'D')
OK_STEP(e, 'E')

static int init_n(struct vm *v) /* its exit is NULL */
{
	step('n');
	return 0;
}

static void exit_c(struct vm *v)
{
	step('C');
}

/* Fails halfway: it did something ('c'), so it undoes that ('x') itself. */
static int init_c(struct vm *v)
{
	step('c');
	step('x');
	return -EIO;
}

START_TEST(test_initcall_failure_unwinds)
{
	/* Two tables, merged by level as vm_create() merges core and devices. */
	static const struct vm_initcall core[] = {
		{"a", VM_LEVEL_MEMORY, init_a, exit_a, NULL},
		{"c", VM_LEVEL_DEVICE, init_c, exit_c, NULL},
		{"d", VM_LEVEL_DEVICE, init_d, exit_d, NULL},
		{NULL, 0, NULL, NULL, NULL},
	};
	static const struct vm_initcall devs[] = {
		{"n", VM_LEVEL_LOADER, init_n, NULL, NULL},
		{"b", VM_LEVEL_KVM, init_b, exit_b, NULL},
		{"e", VM_LEVEL_BOOT, init_e, exit_e, NULL},
		{NULL, 0, NULL, NULL, NULL},
	};
	const struct vm_initcall *const tables[] = {core, devs};

	memset(&vm, 0, sizeof(vm));
	nr_steps = 0;
	memset(steps, 0, sizeof(steps));
	ck_assert_int_eq(vm_run_initcalls(&vm, tables, 2), -EIO);
	/*
	 * Completed steps torn down in reverse, once each; the failed step's
	 * exit never runs, and nothing after it starts.
	 */
	ck_assert_str_eq(steps, "anbcxBA");
	ck_assert_uint_eq(vm.nr_done, 0);
	vm_destroy(&vm);
	ck_assert_str_eq(steps, "anbcxBA");
}
END_TEST

static Suite *vmm_boot_suite(void)
{
	Suite *s = suite_create("vmm_boot");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bus_register_and_dispatch);
	tcase_add_test(tc, test_bus_many_ranges_sorted);
	tcase_add_test(tc, test_fdt_describes_vm);
	tcase_add_test(tc, test_virtio_attach_all_or_nothing);
	tcase_add_test(tc, test_fdt_small_vm_and_no_space);
	tcase_add_test(tc, test_x86_tables);
	tcase_add_test(tc, test_report_sanitized);
	tcase_add_test(tc, test_initcall_failure_unwinds);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(vmm_boot_suite)
