// SPDX-License-Identifier: MIT
/*
 * Unit tests for guest/boot_fdt.c, the guest's reading of its boot device
 * tree, built for the host: the tree vmm/fdt_build.c writes reads back as
 * the VM it describes, and each way of being wrong is refused with a
 * reason instead of being trusted (the FDT fuzz harness,
 * tests/fuzz/fuzz_fdt.c, tries the rest).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>

#include "abi/boot.h"
#include "abi/layout.h"
#include "guest/boot_fdt.h"
#include "mm/mm.h"
#include "tests/unit/unit.h"
#include "vmm/fdt_build.h"
#include "vmm/vm.h"

static struct vm vm;
static uint64_t tree_buf[BVM_FDT_MAX / 8]; /* 8-byte aligned, as libfdt wants */
static void *tree = tree_buf;
static struct boot_fdt bf;
static const char *why;

/* A 6 GiB hosted VM, 4 vCPUs, console and balloon, as `vmm run` sets it. */
static void vm_setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.cfg.mem_size = 6ull << 30;
	vm.cfg.nr_vcpus = 4;
	vm.cfg.cmdline = "workload=hello console=debug";
	vm.mem.regions[0] = (struct guest_mem_region){0, BVM_LOWMEM_END, 0, 0};
	vm.mem.regions[1] = (struct guest_mem_region){
		BVM_HIGHMEM_START, (6ull << 30) - BVM_LOWMEM_END, 0, 0};
	vm.mem.nr_regions = 2;
	vm.kernel_end = 0x373000;
	vm.mmio_devs[0] =
		(struct vm_mmio_dev){VIRTIO_CONSOLE_MMIO_BASE, 0x200,
				     VIRTIO_CONSOLE_IRQ, VIRTIO_CONSOLE_DMA_ID};
	vm.mmio_devs[1] =
		(struct vm_mmio_dev){VIRTIO_BALLOON_MMIO_BASE, 0x200,
				     VIRTIO_BALLOON_IRQ, VIRTIO_BALLOON_DMA_ID};
	vm.nr_mmio_devs = 2;
}

static void build(void)
{
	int n = fdt_build(&vm, tree, BVM_FDT_MAX);

	ck_assert_int_gt(n, 0);
	/* Room for the edits below. */
	ck_assert_int_eq(fdt_open_into(tree, tree, BVM_FDT_MAX), 0);
}

static int parse(void)
{
	why = NULL;
	return boot_fdt_parse(tree, BVM_FDT_MAX, &bf, &why);
}

static void expect_refused(const char *what, const char *reason)
{
	ck_assert_msg(parse() == -EINVAL, "%s: accepted", what);
	ck_assert_msg(why && strstr(why, reason), "%s: '%s' lacks '%s'", what,
		      why ? why : "(null)", reason);
}

static int node(const char *path)
{
	int off = fdt_path_offset(tree, path);

	ck_assert_int_ge(off, 0);
	return off;
}

static void set_u64_pair(int off, const char *name, uint64_t a, uint64_t b)
{
	fdt64_t v[2] = {cpu_to_fdt64(a), cpu_to_fdt64(b)};

	ck_assert_int_eq(fdt_setprop(tree, off, name, v, sizeof(v)), 0);
}

START_TEST(test_boot_fdt_reads_the_vmm_tree)
{
	vm_setup();
	build();
	ck_assert_int_eq(parse(), 0);
	ck_assert_str_eq(bf.bootargs, vm.cfg.cmdline);
	ck_assert_uint_eq(bf.nr_cpus, 4);
	ck_assert(!bf.native);
	ck_assert_uint_eq(bf.kernel_end, 0x373000);
	ck_assert_uint_eq(bf.nr_ram, 2);
	ck_assert_uint_eq(bf.ram[1].base, BVM_HIGHMEM_START);
	ck_assert_uint_eq(bf.ram_bytes, 6ull << 30);
	ck_assert_uint_eq(bf.ram_end, BVM_HIGHMEM_START + (3ull << 30));
	ck_assert_uint_eq(bf.nr_zones, 3);
	ck_assert_str_eq(bf.zones[2].name, "Normal");
	ck_assert_uint_eq(bf.nr_mmio, 2);
	ck_assert_uint_eq(bf.mmio[1].base, VIRTIO_BALLOON_MMIO_BASE);
	ck_assert_uint_eq(bf.mmio[1].irq, VIRTIO_BALLOON_IRQ);
	ck_assert_uint_eq(bf.mmio[1].dma_id, VIRTIO_BALLOON_DMA_ID);
}
END_TEST

/*
 * The allocator's ZONE_MOVABLE for the VM's RAM, built as the frame
 * database builds it: [*@start, *@end) in frames.
 */
static void mm_movable_span(uint64_t movable_bytes, uint64_t *start,
			    uint64_t *end)
{
	struct mm_range r[2];
	struct mm_config c = {.ranges = r,
			      .nr_ranges = vm.mem.nr_regions,
			      .movable_pages = movable_bytes >> 12};
	struct mm_zone_info zi;
	struct mm *mm;
	void *meta;
	size_t size;

	for (unsigned i = 0; i < vm.mem.nr_regions; i++)
		r[i] = (struct mm_range){
			vm.mem.regions[i].gpa >> 12,
			(vm.mem.regions[i].gpa + vm.mem.regions[i].size) >> 12};
	size = (mm_meta_size(&c) + 63) & ~(size_t)63;
	meta = aligned_alloc(64, size);
	ck_assert_ptr_nonnull(meta);
	ck_assert_int_eq(mm_init(&mm, &c, meta, size), 0);
	ck_assert_int_eq(mm_zone_info(mm, ZONE_MOVABLE, &zi), 0);
	ck_assert(zi.populated);
	*start = zi.start_pfn;
	*end = zi.end_pfn;
	/* Its start may round up into a hole: the span begins at RAM. */
	ck_assert_uint_le(mm_movable_start_pfn(&c), zi.start_pfn);
	free(meta);
}

/*
 * vmm run --movable: the tree's zones end where the allocator's
 * ZONE_MOVABLE begins, and a Movable zone spans the rest, here across the
 * MMIO hole (4 GiB of a 6 GiB VM: [2 GiB, 3 GiB) and all RAM above 4 GiB).
 */
START_TEST(test_boot_fdt_movable_zone_is_the_allocators)
{
	/* The last: the start rounds up to 3 GiB, the hole; RAM from 4. */
	static const uint64_t sizes[] = {4ull << 30, 2ull << 30, 2ull << 20,
					 (3ull << 30) + (6ull << 20),
					 (3ull << 30) + (1ull << 20)};
	uint64_t start, end;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned last;

		vm_setup();
		vm.cfg.movable_bytes = sizes[i];
		build();
		ck_assert_int_eq(parse(), 0);
		last = bf.nr_zones - 1;
		ck_assert_str_eq(bf.zones[last].name, "Movable");
		mm_movable_span(sizes[i], &start, &end);
		ck_assert_uint_eq(bf.zones[last].start, start << 12);
		ck_assert_uint_eq(bf.zones[last].end, end << 12);
		ck_assert_uint_le(bf.zones[last - 1].end, start << 12);
	}
	/* The 4 GiB case: DMA, DMA32 cut at 2 GiB, no Normal, Movable. */
	vm_setup();
	vm.cfg.movable_bytes = 4ull << 30;
	build();
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(bf.nr_zones, 3);
	ck_assert_str_eq(bf.zones[1].name, "DMA32");
	ck_assert_uint_eq(bf.zones[1].end, 2ull << 30);
	ck_assert_uint_eq(bf.zones[2].start, 2ull << 30);
	ck_assert_uint_eq(bf.zones[2].end, BVM_HIGHMEM_START + (3ull << 30));
	/* The hole case: DMA32 ends at 3 GiB, Movable is all of high RAM. */
	vm_setup();
	vm.cfg.movable_bytes = (3ull << 30) + (1ull << 20);
	build();
	ck_assert_int_eq(parse(), 0);
	ck_assert_uint_eq(bf.nr_zones, 3);
	ck_assert_uint_eq(bf.zones[1].end, BVM_LOWMEM_END);
	ck_assert_uint_eq(bf.zones[2].start, BVM_HIGHMEM_START);
}
END_TEST

/* libfdt 1.6.1's fdt_check_full() reads the root's name as NULL in a tree
 * before version 16 and dereferences it: this crashed before the check. */
START_TEST(test_boot_fdt_refuses_old_versions)
{
	vm_setup();
	build();
	fdt_set_version(tree, 11);
	fdt_set_last_comp_version(tree, 2);
	expect_refused("version 11", "version 17");
	build();
	fdt_set_version(tree, 16);
	expect_refused("version 16", "version 17");
}
END_TEST

/*
 * A property length near 2^32: libfdt 1.6.1's fdt_next_tag() adds it to an
 * int offset, steps back and fdt_check_full() never returned (the Check
 * timeout fails this test without the walk in struct_block_ok()).
 */
START_TEST(test_boot_fdt_refuses_a_wrapping_property_length)
{
	uint32_t huge = cpu_to_fdt32(0xfffffff4);
	int prop;

	vm_setup();
	build();
	prop = fdt_first_property_offset(tree, 0);
	ck_assert_int_ge(prop, 0);
	memcpy((char *)tree + fdt_off_dt_struct(tree) + prop + 4, &huge, 4);
	expect_refused("length 0xfffffff4", "malformed");
}
END_TEST

START_TEST(test_boot_fdt_refuses_a_truncated_buffer)
{
	vm_setup();
	build();
	ck_assert_int_eq(fdt_pack(tree), 0);
	ck_assert_int_eq(
		boot_fdt_parse(tree, fdt_totalsize(tree) - 8, &bf, &why),
		-EINVAL);
	ck_assert_int_eq(boot_fdt_parse(tree, 16, &bf, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "header"));
}
END_TEST

START_TEST(test_boot_fdt_refuses_unterminated_strings)
{
	vm_setup();
	build();
	ck_assert_int_eq(
		fdt_setprop(tree, node("/chosen"), "bootargs", "abc", 3), 0);
	expect_refused("bootargs", "bootargs is not a string");
	build();
	ck_assert_int_eq(fdt_setprop(tree, node("/buddyvm"), "memory-model",
				     "native", 6),
			 0);
	expect_refused("memory-model", "memory-model");
	build();
	ck_assert_int_eq(fdt_setprop_string(tree, node("/buddyvm"),
					    "memory-model", "nativ"),
			 0);
	expect_refused("unknown model", "memory-model");
}
END_TEST

START_TEST(test_boot_fdt_refuses_bad_ram)
{
	vm_setup();
	build();
	set_u64_pair(node("/memory@100000000"), "reg", BVM_LOWMEM_END - 4096,
		     8192);
	expect_refused("in the hole", "MMIO hole");
	build();
	set_u64_pair(node("/memory@100000000"), "reg", 1ull << 20, 4096);
	expect_refused("overlap", "overlap");
	build();
	set_u64_pair(node("/memory@100000000"), "reg", BOOT_FDT_MAX_RAM_END,
		     4096);
	expect_refused("beyond the map", "identity map");
	build();
	set_u64_pair(node("/memory@100000000"), "reg", UINT64_MAX - 4095, 8192);
	expect_refused("wraps", "wrapping");
	build();
	for (int i = 0; i < BOOT_FDT_MAX_RAM; i++) {
		char name[32];
		int off;

		snprintf(name, sizeof(name), "memory@%llx",
			 (unsigned long long)((8ull + i) << 30));
		off = fdt_add_subnode(tree, 0, name);
		ck_assert_int_ge(off, 0);
		set_u64_pair(off, "reg", (8ull + i) << 30, 4096);
	}
	expect_refused("too many", "BOOT_FDT_MAX_RAM");
}
END_TEST

START_TEST(test_boot_fdt_refuses_bad_kernel_end_and_zones)
{
	fdt64_t v = cpu_to_fdt64(BVM_LOWMEM_END + 4096);

	vm_setup();
	build();
	ck_assert_int_eq(fdt_setprop(tree, node("/buddyvm"), "kernel-end", &v,
				     sizeof(v)),
			 0);
	expect_refused("kernel end", "kernel-end");
	build();
	set_u64_pair(node("/buddyvm"), "zones", 0,
		     BVM_HIGHMEM_START + (8ull << 30));
	expect_refused("zone past RAM", "zone");
}
END_TEST

START_TEST(test_boot_fdt_refuses_bad_virtio_nodes)
{
	uint32_t pin = cpu_to_fdt32(BOOT_FDT_NR_IRQS);
	uint32_t zero = 0;
	int dev;

	vm_setup();
	build();
	dev = fdt_path_offset(tree, "/virtio_mmio@d0000000");
	ck_assert_int_ge(dev, 0);
	set_u64_pair(dev, "reg", 0x1000000, 0x200); /* guest RAM */
	expect_refused("window in RAM", "MMIO hole");
	build();
	dev = fdt_path_offset(tree, "/virtio_mmio@d0000000");
	set_u64_pair(dev, "reg", VIRTIO_BALLOON_MMIO_BASE, 0x200);
	expect_refused("same window", "overlap");
	build();
	dev = fdt_path_offset(tree, "/virtio_mmio@d0000000");
	ck_assert_int_eq(fdt_setprop(tree, dev, "interrupts", &pin, 4), 0);
	expect_refused("pin", "IOAPIC");
	build();
	dev = fdt_path_offset(tree, "/virtio_mmio@d0000000");
	ck_assert_int_eq(fdt_setprop(tree, dev, BVM_FDT_DMA_ID_PROP, &zero, 4),
			 0);
	expect_refused("DMA id 0", BVM_FDT_DMA_ID_PROP);
}
END_TEST

static Suite *boot_fdt_suite(void)
{
	Suite *s = suite_create("boot_fdt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_boot_fdt_reads_the_vmm_tree);
	tcase_add_test(tc, test_boot_fdt_movable_zone_is_the_allocators);
	tcase_add_test(tc, test_boot_fdt_refuses_old_versions);
	tcase_add_test(tc, test_boot_fdt_refuses_a_wrapping_property_length);
	tcase_add_test(tc, test_boot_fdt_refuses_a_truncated_buffer);
	tcase_add_test(tc, test_boot_fdt_refuses_unterminated_strings);
	tcase_add_test(tc, test_boot_fdt_refuses_bad_ram);
	tcase_add_test(tc, test_boot_fdt_refuses_bad_kernel_end_and_zones);
	tcase_add_test(tc, test_boot_fdt_refuses_bad_virtio_nodes);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(boot_fdt_suite)
