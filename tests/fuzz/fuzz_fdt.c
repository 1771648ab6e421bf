// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_fdt.c - the guest's reading of its boot device tree
 * (guest/boot_fdt.c, built unchanged for the host), two ways:
 *
 *   first byte even: the rest of the input is the tree, any bytes. It lies
 *   in a buffer whose end touches a PROT_NONE page (the length rounded up
 *   to 8 with zeros: libfdt wants 8-byte alignment), so a read past it
 *   faults even in libfdt, which is not instrumented. A rejected tree gets
 *   a reason; an accepted one must give a sane result: 1..32 CPUs, 1..8
 *   RAM ranges sorted, disjoint, outside the MMIO hole and under the boot
 *   map, the kernel end in the kernel's RAM range, zones inside RAM,
 *   virtio windows in the hole with IOAPIC pins, every string
 *   NUL-terminated inside the tree. Parsed twice over differently
 *   poisoned output, the results must agree (nothing left unset).
 *
 *   first byte odd: the rest describes a VM as `vmm run` would set it up
 *   (RAM size, vCPUs, memory model, kernel end, up to six virtio devices
 *   in their fixed slots, the command line); vmm/fdt_build.c writes its
 *   tree and the guest must read back exactly that VM.
 *
 * FUZZ_FDT_SEEDS=DIR writes seeds of both kinds into DIR and exits
 * (tests/fuzz/corpus/fdt/ was made so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libfdt.h>

#include "abi/boot.h"
#include "abi/layout.h"
#include "abi/pvmem.h"
#include "guest/boot_fdt.h"
#include "tests/fuzz/fuzz_common.h"
#include "vmm/fdt_build.h"
#include "vmm/frame_db.h"
#include "vmm/vm.h"

#define PAGE	    4096ull
#define BLOB_MAX    (64ull << 10) /* BVM_FDT_MAX; inputs are smaller */
#define MAX_CMDLINE 4096
#define GIB	    (1ull << 30)

static uint8_t *blob_area; /* BLOB_MAX bytes, then a PROT_NONE page */
static uint8_t *build_buf; /* fdt_build()'s output, BVM_FDT_MAX bytes */

/* Raw trees ------------------------------------------------------------- */

static bool in_blob(const void *p, const uint8_t *blob, size_t size)
{
	return (const uint8_t *)p >= blob && (const uint8_t *)p < blob + size;
}

static void check_string(const char *s, const uint8_t *blob, size_t size,
			 const char *what)
{
	FUZZ_ASSERT(in_blob(s, blob, size) &&
			    memchr(s, '\0',
				   (size_t)(blob + size - (const uint8_t *)s)),
		    "%s is not a string inside the tree", what);
}

static void check_ram(const struct boot_fdt *bf)
{
	uint64_t sum = 0, kernel_range_end = 0;

	FUZZ_ASSERT(bf->nr_ram >= 1 && bf->nr_ram <= BOOT_FDT_MAX_RAM,
		    "%u RAM ranges", bf->nr_ram);
	for (unsigned i = 0; i < bf->nr_ram; i++) {
		uint64_t b = bf->ram[i].base, e = b + bf->ram[i].size;

		FUZZ_ASSERT(bf->ram[i].size && e > b &&
				    e <= BOOT_FDT_MAX_RAM_END,
			    "RAM range %u empty, wrapping or unmapped", i);
		FUZZ_ASSERT(e <= BVM_LOWMEM_END || b >= BVM_HIGHMEM_START,
			    "RAM range %u in the MMIO hole", i);
		FUZZ_ASSERT(i == 0 || b >= bf->ram[i - 1].base +
						      bf->ram[i - 1].size,
			    "RAM ranges %u, %u unsorted or overlapping", i - 1,
			    i);
		if (b <= BVM_KERNEL_BASE && BVM_KERNEL_BASE < e)
			kernel_range_end = e;
		sum += bf->ram[i].size;
	}
	FUZZ_ASSERT(sum == bf->ram_bytes, "ram_bytes is not the sum");
	FUZZ_ASSERT(bf->ram_end == bf->ram[bf->nr_ram - 1].base +
					   bf->ram[bf->nr_ram - 1].size,
		    "ram_end is not the end of the last range");
	FUZZ_ASSERT(bf->kernel_end > BVM_KERNEL_BASE &&
			    bf->kernel_end <= kernel_range_end,
		    "kernel end %#llx outside the kernel's RAM range",
		    (unsigned long long)bf->kernel_end);
}

static void check_zones(const struct boot_fdt *bf, const uint8_t *blob,
			size_t size)
{
	FUZZ_ASSERT(bf->nr_zones >= 1 && bf->nr_zones <= BOOT_FDT_MAX_ZONES,
		    "%u zones", bf->nr_zones);
	for (unsigned i = 0; i < bf->nr_zones; i++) {
		const struct boot_zone *z = &bf->zones[i];

		FUZZ_ASSERT(z->start < z->end && z->start >= bf->ram[0].base &&
				    z->end <= bf->ram_end,
			    "zone %u outside RAM", i);
		FUZZ_ASSERT(i == 0 || z->start >= bf->zones[i - 1].end,
			    "zones %u, %u overlap", i - 1, i);
		if (in_blob(z->name, blob, size))
			check_string(z->name, blob, size, "zone name");
		else
			FUZZ_ASSERT(strcmp(z->name, "?") == 0,
				    "zone name outside the tree");
	}
}

static void check_mmio(const struct boot_fdt *bf)
{
	FUZZ_ASSERT(bf->nr_mmio <= BOOT_FDT_MAX_MMIO, "%u virtio devices",
		    bf->nr_mmio);
	for (unsigned i = 0; i < bf->nr_mmio; i++) {
		const struct boot_mmio_dev *d = &bf->mmio[i];

		FUZZ_ASSERT(d->base >= BVM_MMIO_BASE && d->base % PAGE == 0 &&
				    d->size >= BOOT_FDT_MMIO_MIN_SIZE &&
				    d->size <= BVM_IOAPIC_ADDR - d->base,
			    "virtio window %u [%#llx +%#llx) not in the hole",
			    i, (unsigned long long)d->base,
			    (unsigned long long)d->size);
		FUZZ_ASSERT(d->irq < BOOT_FDT_NR_IRQS &&
				    d->dma_id <= PVMEM_MAX_DEVICE_ID,
			    "virtio device %u: pin %u, DMA id %u", i, d->irq,
			    d->dma_id);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(d->base >= bf->mmio[j].base +
							    bf->mmio[j].size ||
					    bf->mmio[j].base >=
						    d->base + d->size,
				    "virtio windows %u, %u overlap", j, i);
	}
}

static void check_parsed(const struct boot_fdt *bf, const uint8_t *blob,
			 size_t size)
{
	if (in_blob(bf->bootargs, blob, size)) {
		int node = fdt_path_offset(blob, "/chosen"), len = 0;
		const char *p =
			node >= 0 ? fdt_getprop(blob, node, "bootargs", &len)
				  : NULL;

		/* Terminated inside its own property, not just the tree. */
		FUZZ_ASSERT(p == bf->bootargs && len > 0 &&
				    memchr(p, '\0', (size_t)len),
			    "bootargs is not /chosen's NUL-terminated string");
	} else {
		FUZZ_ASSERT(!*bf->bootargs, "bootargs outside the tree");
	}
	FUZZ_ASSERT(bf->nr_cpus >= 1 && bf->nr_cpus <= BVM_MAX_VCPUS, "%u CPUs",
		    bf->nr_cpus);
	check_ram(bf);
	check_zones(bf, blob, size);
	check_mmio(bf);
}

/* Parse into @bf poisoned with @poison; return the status. */
static int parse(const uint8_t *blob, size_t size, struct boot_fdt *bf,
		 int poison)
{
	const char *why = NULL;
	int r;

	memset(bf, poison, sizeof(*bf));
	r = boot_fdt_parse(blob, size, bf, &why);
	if (r < 0)
		FUZZ_ASSERT(r == -EINVAL && why && *why,
			    "rejection %d without a reason", r);
	return r;
}

/* Fields the parser set, in a canonical form (unused slots cleared). */
static void canonical(struct boot_fdt *bf)
{
	unsigned n = bf->nr_ram, z = bf->nr_zones, m = bf->nr_mmio;

	memset(bf->ram + n, 0, sizeof(bf->ram) - n * sizeof(bf->ram[0]));
	memset(bf->zones + z, 0, sizeof(bf->zones) - z * sizeof(bf->zones[0]));
	memset(bf->mmio + m, 0, sizeof(bf->mmio) - m * sizeof(bf->mmio[0]));
}

static bool same_result(struct boot_fdt *a, struct boot_fdt *b)
{
	canonical(a);
	canonical(b);
	return a->bootargs == b->bootargs && a->nr_cpus == b->nr_cpus &&
	       a->native == b->native && a->kernel_end == b->kernel_end &&
	       a->nr_ram == b->nr_ram && a->ram_bytes == b->ram_bytes &&
	       a->ram_end == b->ram_end && a->nr_zones == b->nr_zones &&
	       a->nr_mmio == b->nr_mmio &&
	       !memcmp(a->ram, b->ram, sizeof(a->ram)) &&
	       !memcmp(a->zones, b->zones, sizeof(a->zones)) &&
	       !memcmp(a->mmio, b->mmio, sizeof(a->mmio));
}

static void fuzz_raw(const uint8_t *data, size_t size)
{
	static struct boot_fdt a, b;
	size_t padded = (size + 7) & ~(size_t)7;
	uint8_t *blob;
	int ra, rb;

	if (padded > BLOB_MAX)
		return;
	blob = blob_area + BLOB_MAX - padded;
	memcpy(blob, data, size);
	memset(blob + size, 0, padded - size);
	ra = parse(blob, padded, &a, 0xa5);
	rb = parse(blob, padded, &b, 0x5a);
	FUZZ_ASSERT(ra == rb, "two parses disagree (%d, %d)", ra, rb);
	if (ra < 0)
		return;
	FUZZ_ASSERT(same_result(&a, &b), "result depends on stale output");
	check_parsed(&a, blob, padded);
}

/* A VM as `vmm run` sets it up --------------------------------------------- */

/* The virtio devices in their fixed slots (abi/layout.h), in attach order. */
static const struct {
	unsigned window, irq;
	uint32_t dma_id;
} slots[] = {
	{0, VIRTIO_CONSOLE_IRQ, VIRTIO_CONSOLE_DMA_ID},
	{1, VIRTIO_BALLOON_IRQ, VIRTIO_BALLOON_DMA_ID},
	{2, VIRTIO_BLK_IRQ(0), VIRTIO_BLK_DMA_ID(0)},
	{3, VIRTIO_BLK_IRQ(1), VIRTIO_BLK_DMA_ID(1)},
	{4, VIRTIO_BLK_IRQ(2), VIRTIO_BLK_DMA_ID(2)},
	{5, VIRTIO_BLK_IRQ(3), VIRTIO_BLK_DMA_ID(3)},
};
#define NR_SLOTS (sizeof(slots) / sizeof(slots[0]))

/*
 * Input: u16 RAM in 2 MiB units (16 MiB .. 64 GiB), u8 vCPUs, u8 flags
 * (bit 0 native, bits 1-3 devices, bit 4 a Movable zone), u32 kernel end,
 * with bit 4 a u32 of pages for --movable, then the command line (up to a
 * NUL).
 */
static void vm_from_input(struct vm *vm, char *cmdline, const uint8_t *data,
			  size_t size)
{
	struct fuzz_in in;
	uint64_t low, ram = 0;
	uint8_t flags;
	unsigned nr_dev;
	size_t n;

	fuzz_in_init(&in, data, size);
	memset(vm, 0, sizeof(*vm));
	ram = ((uint64_t)fuzz_u16(&in) % 32761 + 8) << 21;
	vm->cfg.mem_size = ram;
	vm->cfg.nr_vcpus = fuzz_u8(&in) % BVM_MAX_VCPUS + 1;
	flags = fuzz_u8(&in);
	vm->cfg.memory_model = flags & 1 ? VM_MEMORY_NATIVE : VM_MEMORY_HOSTED;
	/* As vm_init_memory() splits RAM around the hole. */
	low = ram < BVM_LOWMEM_END ? ram : BVM_LOWMEM_END;
	vm->mem.regions[0] = (struct guest_mem_region){0, low, NULL, 0};
	vm->mem.nr_regions = 1;
	if (ram > low) {
		vm->mem.regions[1] = (struct guest_mem_region){
			BVM_HIGHMEM_START, ram - low, NULL, low};
		vm->mem.nr_regions = 2;
	}
	vm->mem.size = ram;
	/* elf_load's image: past 1 MiB, page-aligned, inside low RAM. */
	vm->kernel_end = BVM_KERNEL_BASE +
			 ((fuzz_u32(&in) % (low - BVM_KERNEL_BASE)) | 1);
	vm->kernel_end = (vm->kernel_end + PAGE - 1) & ~(PAGE - 1);
	if (flags & 0x10)
		vm->cfg.movable_bytes =
			(uint64_t)fuzz_u32(&in) % (ram / PAGE) * PAGE;
	nr_dev = (flags >> 1) & 7;
	if (nr_dev > NR_SLOTS)
		nr_dev = NR_SLOTS;
	for (unsigned i = 0; i < nr_dev; i++)
		vm->mmio_devs[vm->nr_mmio_devs++] = (struct vm_mmio_dev){
			BVM_VIRTIO_MMIO_BASE(slots[i].window), 0x200,
			slots[i].irq, slots[i].dma_id};
	n = fuzz_bytes(&in, cmdline, MAX_CMDLINE);
	cmdline[n] = '\0';
	vm->cfg.cmdline = cmdline;
}

/*
 * A Movable zone, last, exactly where the frame database puts ZONE_MOVABLE
 * (frame_db_movable_start()), to the end of RAM, the zone below ending
 * there; none when the VM has none.
 */
static void check_same_zones(const struct vm *vm, const struct boot_fdt *bf)
{
	uint64_t start =
		frame_db_movable_start(&vm->mem, vm->cfg.movable_bytes);
	const struct boot_zone *last = &bf->zones[bf->nr_zones - 1];
	bool has = !strcmp(last->name, "Movable");

	/* A start rounded up into the MMIO hole: the zone's RAM begins
	 * above it (the allocator trims its span to present frames too). */
	if (vm->mem.nr_regions == 2 && start >= vm->mem.regions[0].size &&
	    start < vm->mem.regions[1].gpa)
		start = vm->mem.regions[1].gpa;

	for (unsigned i = 0; i + 1 < bf->nr_zones; i++)
		FUZZ_ASSERT(strcmp(bf->zones[i].name, "Movable"),
			    "Movable zone %u of %u", i, bf->nr_zones);
	FUZZ_ASSERT(has == (start < bf->ram_end),
		    "Movable zone %s, frame database's starts at %#llx",
		    has ? "present" : "absent", (unsigned long long)start);
	if (!has)
		return;
	FUZZ_ASSERT(last->start == start && last->end == bf->ram_end,
		    "Movable zone [%#llx, %#llx), frame database's from %#llx",
		    (unsigned long long)last->start,
		    (unsigned long long)last->end, (unsigned long long)start);
	FUZZ_ASSERT(bf->nr_zones == 1 ||
			    bf->zones[bf->nr_zones - 2].end <= start,
		    "a zone overlaps the Movable zone");
}

static void check_same_vm(const struct vm *vm, const struct boot_fdt *bf)
{
	FUZZ_ASSERT(strcmp(bf->bootargs, vm->cfg.cmdline) == 0,
		    "bootargs differ");
	FUZZ_ASSERT(bf->nr_cpus == vm->cfg.nr_vcpus, "%u CPUs, VM has %u",
		    bf->nr_cpus, vm->cfg.nr_vcpus);
	FUZZ_ASSERT(bf->native == (vm->cfg.memory_model == VM_MEMORY_NATIVE),
		    "memory model differs");
	FUZZ_ASSERT(bf->kernel_end == vm->kernel_end, "kernel end differs");
	FUZZ_ASSERT(bf->nr_ram == vm->mem.nr_regions &&
			    bf->ram_bytes == vm->cfg.mem_size,
		    "RAM differs");
	for (unsigned i = 0; i < bf->nr_ram; i++)
		FUZZ_ASSERT(bf->ram[i].base == vm->mem.regions[i].gpa &&
				    bf->ram[i].size == vm->mem.regions[i].size,
			    "RAM range %u differs", i);
	check_same_zones(vm, bf);
	FUZZ_ASSERT(bf->nr_mmio == vm->nr_mmio_devs, "%u devices, VM has %u",
		    bf->nr_mmio, vm->nr_mmio_devs);
	for (unsigned i = 0; i < bf->nr_mmio; i++) {
		const struct vm_mmio_dev *d = &vm->mmio_devs[i];

		FUZZ_ASSERT(bf->mmio[i].base == d->base &&
				    bf->mmio[i].size == d->size &&
				    bf->mmio[i].irq == d->irq,
			    "device %u differs", i);
		FUZZ_ASSERT(bf->mmio[i].dma_id == d->dma_device_id,
			    "device %u DMA id %u, VM has %u", i,
			    bf->mmio[i].dma_id, d->dma_device_id);
	}
}

static void fuzz_vm(const uint8_t *data, size_t size)
{
	static char cmdline[MAX_CMDLINE + 1];
	static struct boot_fdt bf;
	static struct vm vm;
	const char *why = "";
	int n, r;

	vm_from_input(&vm, cmdline, data, size);
	n = fdt_build(&vm, build_buf, BVM_FDT_MAX);
	FUZZ_ASSERT(n > 0 && (uint64_t)n <= BVM_FDT_MAX, "fdt_build: %d", n);
	r = boot_fdt_parse(build_buf, BVM_FDT_MAX, &bf, &why);
	FUZZ_ASSERT(r == 0, "the guest rejects the VMM's tree: %s", why);
	check_parsed(&bf, build_buf, (size_t)n);
	check_same_vm(&vm, &bf);
}

/* Seeds ------------------------------------------------------------------- */

static void write_seed(const char *dir, const char *name, uint8_t kind,
		       const void *body, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	FUZZ_ASSERT(f && fputc(kind, f) == kind &&
			    fwrite(body, 1, len, f) == len && fclose(f) == 0,
		    "cannot write %s", path);
}

/* Per seed: RAM (2 MiB units), vCPUs, flags, kernel end, command line. */
static const struct {
	const char *name;
	uint16_t ram_2m;
	uint8_t vcpus, flags;
	uint32_t kend;
	const char *cmdline;
	uint32_t movable_pages; /* with flags bit 4 */
} seed_vms[] = {
	{"256m-hosted", 128 - 8, 0, 2 << 1, 0x272fff, "", 0},
	{"256m-native-hello", 128 - 8, 0, 1 | 2 << 1, 0x272fff,
	 "workload=hello", 0},
	{"6g-4cpu-disks", 3072 - 8, 3, 6 << 1, 0x272fff,
	 "workload=blk console=debug", 0},
	{"3g-boundary", 1536 - 8, 1, 1 << 1, 0x10000, "a=b c", 0},
	{"16m-min", 0, 31, 0, 0, "workload=smp", 0},
	/* --movable 128M of 256M; 4G of 6G, across the hole */
	{"256m-movable", 128 - 8, 0, 1 | 0x10, 0x272fff, "", 32768},
	{"6g-movable-hole", 3072 - 8, 1, 0x10 | 2 << 1, 0x272fff, "", 1048576},
};

static void write_seeds(const char *dir)
{
	for (size_t i = 0; i < sizeof(seed_vms) / sizeof(seed_vms[0]); i++) {
		uint8_t in[12 + MAX_CMDLINE];
		size_t len = strlen(seed_vms[i].cmdline), at = 8;
		char name[64], cmdline[MAX_CMDLINE + 1];
		struct vm vm;
		int n;

		memcpy(in, &seed_vms[i].ram_2m, 2); /* little-endian host */
		in[2] = seed_vms[i].vcpus;
		in[3] = seed_vms[i].flags;
		memcpy(in + 4, &seed_vms[i].kend, 4);
		if (seed_vms[i].flags & 0x10) {
			memcpy(in + 8, &seed_vms[i].movable_pages, 4);
			at = 12;
		}
		memcpy(in + at, seed_vms[i].cmdline, len);
		snprintf(name, sizeof(name), "vm-%s", seed_vms[i].name);
		write_seed(dir, name, 1, in, at + len);
		/* The tree `vmm run` would write for it, as a raw seed. */
		vm_from_input(&vm, cmdline, in, at + len);
		n = fdt_build(&vm, build_buf, BVM_FDT_MAX);
		FUZZ_ASSERT(n > 0, "fdt_build");
		snprintf(name, sizeof(name), "dtb-%s", seed_vms[i].name);
		write_seed(dir, name, 0, build_buf, (size_t)n);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("FUZZ_FDT_SEEDS");
	uint8_t *p = mmap(NULL, BLOB_MAX + PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	FUZZ_ASSERT(p != MAP_FAILED &&
			    mprotect(p, BLOB_MAX, PROT_READ | PROT_WRITE) == 0,
		    "mmap the tree buffer");
	blob_area = p;
	build_buf = malloc(BVM_FDT_MAX);
	FUZZ_ASSERT(build_buf, "malloc");
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_vm(data + 1, size - 1);
	else
		fuzz_raw(data + 1, size - 1);
	return 0;
}
