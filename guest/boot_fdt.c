// SPDX-License-Identifier: MIT
/*
 * guest/boot_fdt.c - read the boot device tree (see boot_fdt.h).
 *
 * The whole tree is checked with fdt_check_full() against the size of the
 * buffer it lies in before any other libfdt call (after checks of our own
 * where libfdt 1.6.1 itself trips: old versions, property lengths that
 * wrap its offsets): libfdt's read functions
 * trust the header's block offsets, and a string property is only a string
 * once its last byte is known to be NUL. Then every value the guest will act
 * on is checked against what the guest can use: RAM it can map, outside the
 * MMIO hole, disjoint; a kernel end inside the RAM that holds the kernel;
 * device windows inside the hole and pins the IOAPIC has. Built for the
 * guest and, unchanged, for the host fuzz harness.
 */
#include <libfdt.h>

#include "abi/boot.h"
#include "abi/layout.h"
#include "abi/pvmem.h"
#include "guest/boot_fdt.h"
#include "mm/errno.h"

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

static uint64_t rd_u64(const void *p)
{
	fdt64_t v;

	memcpy(&v, p, sizeof(v));
	return fdt64_to_cpu(v);
}

static uint32_t rd_u32(const void *p)
{
	fdt32_t v;

	memcpy(&v, p, sizeof(v));
	return fdt32_to_cpu(v);
}

/* The property @name of @node if it is exactly @len bytes, else NULL. */
static const char *prop_sized(const void *fdt, int node, const char *name,
			      int len)
{
	int got;
	const char *p = fdt_getprop(fdt, node, name, &got);

	return p && got == len ? p : NULL;
}

/* The property @name of @node if it is a NUL-terminated string. */
static const char *prop_string(const void *fdt, int node, const char *name)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);

	return p && len > 0 && p[len - 1] == '\0' ? p : NULL;
}

static bool prop_string_is(const char *s, const char *want, size_t want_len)
{
	return strnlen(s, want_len + 1) == want_len &&
	       memcmp(s, want, want_len) == 0;
}

static bool node_name_starts(const void *fdt, int node, const char *prefix,
			     int prefix_len)
{
	int len;
	const char *name = fdt_get_name(fdt, node, &len);

	return name && len >= prefix_len &&
	       memcmp(name, prefix, (size_t)prefix_len) == 0;
}

static bool ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b,
			   uint64_t b_end)
{
	return a < b_end && b < a_end;
}

static int parse_cpus(const void *fdt, struct boot_fdt *out, const char **why)
{
	int node = fdt_path_offset(fdt, "/cpus");
	int cpu;

	if (node < 0)
		return fail(why, "no /cpus node");
	out->nr_cpus = 0;
	fdt_for_each_subnode(cpu, fdt, node)
	{
		if (++out->nr_cpus > BVM_MAX_VCPUS)
			return fail(why, "more /cpus nodes than BVM_MAX_VCPUS");
	}
	if (cpu != -FDT_ERR_NOTFOUND)
		return fail(why, "cannot walk /cpus");
	if (out->nr_cpus == 0)
		return fail(why, "no cpu under /cpus");
	return 0;
}

/* One /memory@ range, checked on its own and inserted by base. */
static int add_ram(struct boot_fdt *out, uint64_t base, uint64_t size,
		   const char **why)
{
	uint64_t end = base + size;
	unsigned i;

	if (size == 0 || end < base)
		return fail(why, "memory range empty or wrapping");
	if (end > BOOT_FDT_MAX_RAM_END)
		return fail(why, "memory range beyond the boot identity map");
	if (ranges_overlap(base, end, BVM_LOWMEM_END, BVM_HIGHMEM_START))
		return fail(why, "memory range in the MMIO hole");
	if (out->nr_ram == BOOT_FDT_MAX_RAM)
		return fail(why, "more /memory nodes than BOOT_FDT_MAX_RAM");
	i = out->nr_ram++;
	while (i > 0 && out->ram[i - 1].base > base) {
		out->ram[i] = out->ram[i - 1];
		i--;
	}
	out->ram[i] = (struct boot_ram_range){base, size};
	return 0;
}

/* Every /memory@ node directly under the root; disjoint, at least one. */
static int parse_memory(const void *fdt, struct boot_fdt *out, const char **why)
{
	int node, err;

	out->nr_ram = 0;
	fdt_for_each_subnode(node, fdt, 0)
	{
		const char *reg;

		if (!node_name_starts(fdt, node, "memory@", 7))
			continue;
		reg = prop_sized(fdt, node, "reg", 16);
		if (!reg)
			return fail(why, "/memory node without a 16-byte reg");
		err = add_ram(out, rd_u64(reg), rd_u64(reg + 8), why);
		if (err)
			return err;
	}
	if (node != -FDT_ERR_NOTFOUND)
		return fail(why, "cannot walk the root node");
	if (out->nr_ram == 0)
		return fail(why, "no /memory node");
	out->ram_bytes = 0;
	for (unsigned i = 0; i < out->nr_ram; i++) {
		const struct boot_ram_range *r = &out->ram[i];

		if (i > 0 &&
		    r->base < out->ram[i - 1].base + out->ram[i - 1].size)
			return fail(why, "memory ranges overlap");
		out->ram_bytes += r->size;
	}
	out->ram_end =
		out->ram[out->nr_ram - 1].base + out->ram[out->nr_ram - 1].size;
	return 0;
}

/* The kernel image starts at BVM_KERNEL_BASE and ends inside that range. */
static int check_kernel_end(struct boot_fdt *out, const char **why)
{
	for (unsigned i = 0; i < out->nr_ram; i++) {
		const struct boot_ram_range *r = &out->ram[i];

		if (r->base > BVM_KERNEL_BASE ||
		    BVM_KERNEL_BASE >= r->base + r->size)
			continue;
		if (out->kernel_end <= BVM_KERNEL_BASE ||
		    out->kernel_end > r->base + r->size)
			return fail(why, "kernel-end outside the RAM range of "
					 "the kernel");
		return 0;
	}
	return fail(why, "no RAM at the kernel base (1 MiB)");
}

static int parse_zones(const void *fdt, int node, struct boot_fdt *out,
		       const char **why)
{
	const char *zones;
	int len;

	zones = fdt_getprop(fdt, node, "zones", &len);
	if (!zones || len <= 0 || len % 16 != 0)
		return fail(why, "/buddyvm zones is not a list of u64 pairs");
	if (len / 16 > BOOT_FDT_MAX_ZONES)
		return fail(why, "more zones than BOOT_FDT_MAX_ZONES");
	if (!fdt_getprop(fdt, node, "zone-names", NULL))
		return fail(why, "/buddyvm has no zone-names");
	out->nr_zones = (unsigned)(len / 16);
	for (unsigned i = 0; i < out->nr_zones; i++) {
		struct boot_zone *z = &out->zones[i];
		const char *name = fdt_stringlist_get(fdt, node, "zone-names",
						      (int)i, NULL);

		z->name = name ? name : "?";
		z->start = rd_u64(zones + 16 * i);
		z->end = rd_u64(zones + 16 * i + 8);
		if (z->start >= z->end || z->start < out->ram[0].base ||
		    z->end > out->ram_end)
			return fail(why, "zone empty or outside RAM");
		if (i > 0 && z->start < out->zones[i - 1].end)
			return fail(why, "zones out of order or overlapping");
	}
	return 0;
}

static int parse_buddyvm(const void *fdt, struct boot_fdt *out,
			 const char **why)
{
	int node = fdt_path_offset(fdt, "/buddyvm");
	const char *model;
	const char *kend;
	int err;

	if (node < 0)
		return fail(why, "no /buddyvm node");
	model = prop_string(fdt, node, "memory-model");
	if (model && prop_string_is(model, "native", 6))
		out->native = true;
	else if (model && prop_string_is(model, "hosted", 6))
		out->native = false;
	else
		return fail(why,
			    "memory-model is not \"hosted\" or \"native\"");
	kend = prop_sized(fdt, node, "kernel-end", 8);
	if (!kend)
		return fail(why, "/buddyvm has no 8-byte kernel-end");
	out->kernel_end = rd_u64(kend);
	err = check_kernel_end(out, why);
	if (!err)
		err = parse_zones(fdt, node, out, why);
	return err;
}

static int parse_mmio_node(const void *fdt, int node, struct boot_mmio_dev *d,
			   const char **why)
{
	const char *reg = prop_sized(fdt, node, "reg", 16);
	const char *irq = prop_sized(fdt, node, "interrupts", 4);
	const void *dma;
	int len;

	if (!reg || !irq)
		return fail(why, "virtio,mmio node without a 16-byte reg and "
				 "a 4-byte interrupts");
	d->base = rd_u64(reg);
	d->size = rd_u64(reg + 8);
	d->irq = rd_u32(irq);
	if (d->base % 4096 || d->size < BOOT_FDT_MMIO_MIN_SIZE ||
	    d->base < BVM_MMIO_BASE || d->size > BVM_IOAPIC_ADDR - d->base)
		return fail(why, "virtio,mmio window not a 4 KiB-aligned "
				 "window of the MMIO hole");
	if (d->irq >= BOOT_FDT_NR_IRQS)
		return fail(why, "virtio,mmio interrupt beyond the IOAPIC");
	dma = fdt_getprop(fdt, node, BVM_FDT_DMA_ID_PROP, &len);
	d->dma_id = 0;
	if (dma) {
		d->dma_id = len == 4 ? rd_u32(dma) : 0;
		if (d->dma_id == 0 || d->dma_id > PVMEM_MAX_DEVICE_ID)
			return fail(why, "bad " BVM_FDT_DMA_ID_PROP);
	}
	return 0;
}

/* The virtio,mmio nodes directly under the root, in tree order. */
static int parse_mmio(const void *fdt, struct boot_fdt *out, const char **why)
{
	int node, err;

	out->nr_mmio = 0;
	fdt_for_each_subnode(node, fdt, 0)
	{
		struct boot_mmio_dev *d = &out->mmio[out->nr_mmio];

		if (fdt_node_check_compatible(fdt, node,
					      BVM_FDT_VIRTIO_COMPAT) != 0)
			continue;
		if (out->nr_mmio == BOOT_FDT_MAX_MMIO)
			return fail(why, "more virtio,mmio nodes than "
					 "BOOT_FDT_MAX_MMIO");
		err = parse_mmio_node(fdt, node, d, why);
		if (err)
			return err;
		for (unsigned i = 0; i < out->nr_mmio; i++)
			if (ranges_overlap(d->base, d->base + d->size,
					   out->mmio[i].base,
					   out->mmio[i].base +
						   out->mmio[i].size))
				return fail(why, "virtio,mmio windows overlap");
		out->nr_mmio++;
	}
	if (node != -FDT_ERR_NOTFOUND)
		return fail(why, "cannot walk the root node");
	return 0;
}

/*
 * Walk the structure block's tags with 64-bit arithmetic: every node name
 * NUL-terminated and every property inside the block, then FDT_END.
 * libfdt 1.6.1's fdt_next_tag() adds a property's length to an int offset
 * unchecked, so a length near 2^32 steps back and fdt_check_full() (or any
 * walk) loops for ever. The header is checked (v17, blocks in the tree).
 */
static bool struct_block_ok(const void *fdt)
{
	const uint8_t *b = (const uint8_t *)fdt + fdt_off_dt_struct(fdt);
	uint64_t size = fdt_size_dt_struct(fdt), pos = 0;

	while (size - pos >= 4) {
		uint32_t tag = rd_u32(b + pos);
		const uint8_t *nul;

		pos += 4;
		switch (tag) {
		case FDT_BEGIN_NODE:
			nul = memchr(b + pos, '\0', size - pos);
			if (!nul)
				return false;
			pos = (((uint64_t)(nul - b)) + 1 + 3) & ~3ull;
			break;
		case FDT_PROP:
			if (size - pos < 8 || rd_u32(b + pos) > size - pos - 8)
				return false;
			pos += 8 + (((uint64_t)rd_u32(b + pos) + 3) & ~3ull);
			break;
		case FDT_END_NODE:
		case FDT_NOP:
			break;
		case FDT_END:
			return true;
		default:
			return false;
		}
		if (pos > size)
			return false;
	}
	return false;
}

int boot_fdt_parse(const void *fdt, size_t max_size, struct boot_fdt *out,
		   const char **why)
{
	int node, err;

	/* fdt_check_header() reads the whole v17 header before it compares
	 * totalsize with anything. */
	if (max_size < sizeof(struct fdt_header))
		return fail(why, "buffer smaller than a device tree header");
	/* libfdt 1.6.1's fdt_check_full() dereferences a NULL root name in
	 * trees before version 16; the VMM writes version 17. */
	if (fdt_magic(fdt) != FDT_MAGIC || fdt_version(fdt) < 17)
		return fail(why, "not a version 17 device tree");
	if (fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > max_size ||
	    !struct_block_ok(fdt) || fdt_check_full(fdt, max_size) != 0)
		return fail(why, "malformed device tree");
	/* No /chosen or no bootargs: an empty command line. */
	out->bootargs = "";
	node = fdt_path_offset(fdt, "/chosen");
	if (node >= 0 && fdt_getprop(fdt, node, "bootargs", NULL)) {
		out->bootargs = prop_string(fdt, node, "bootargs");
		if (!out->bootargs)
			return fail(why, "bootargs is not a string");
	}
	err = parse_cpus(fdt, out, why);
	if (!err)
		err = parse_memory(fdt, out, why);
	if (!err)
		err = parse_buddyvm(fdt, out, why);
	if (!err)
		err = parse_mmio(fdt, out, why);
	return err;
}
