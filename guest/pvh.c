// SPDX-License-Identifier: MIT
/*
 * guest/pvh.c - booting under a PVH loader (QEMU microvm, q35), at CPL 3 on
 * vCPU 0: what buddyvm's FDT says, read from where QEMU says it. The command
 * line and memory map come from struct hvm_start_info, the CPUs from the ACPI
 * MADT (or the MP table), the virtio-mmio devices from the
 * `virtio_mmio.device=SIZE@BASE:IRQ` words QEMU microvm appends to the
 * command line without ACPI (as Linux's virtio_mmio module reads them), or
 * from its DSDT with ACPI. The checks themselves are in pvh_parse.c. The
 * guest owns its RAM there: the native memory model. Then the APs:
 * INIT-SIPI-SIPI into the real-mode trampoline of pvh_entry.S.
 */
#include "acpi.h"
#include "guest.h"
#include "guest/pvh_parse.h"
#include "mm/page_order.h"
#include "mm/port.h"
#include "pvh.h"

#define PVH_CMDLINE_MAX 4096
#define PVH_MAP_MAX	(512ull << 30) /* one PDPT */
#define PTE_TABLE	0x07ull	       /* present, writable, user */
#define PTE_2M		0x87ull	       /* ... a 2 MiB page */
#define MiB		(1ull << 20)

/* pvh_entry.S and the linker script. */
extern const char pvh_trampoline[], pvh_trampoline_end[];
extern uint64_t pvh_pdpt[512];
extern char __guest_end[];

static char pvh_cmdline[PVH_CMDLINE_MAX];
static unsigned pvh_aps_online;
/* The loader's RAM ranges, unclipped: the trampoline page must be one. */
static struct guest_ram_range pvh_e820_ram[GUEST_MAX_RAM_RANGES * 2];
static unsigned pvh_nr_e820_ram;

#define pvh_fail(...) guest_fail(__FILE__, __LINE__, __VA_ARGS__)

/* A physical range the identity map of pvh_entry.S covers, or NULL. */
static const void *pvh_phys(uint64_t pa, uint64_t len)
{
	if (pa == 0 || len > PVH_MAPPED_END || pa > PVH_MAPPED_END - len)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

static void pvh_copy_cmdline(const struct hvm_start_info *si)
{
	const char *src;
	size_t len;

	guest_boot.bootargs = pvh_cmdline;
	if (!si->cmdline_paddr)
		return;
	src = pvh_phys(si->cmdline_paddr, 1);
	if (!src)
		pvh_fail("start_info: command line at 0x%llx is not mapped",
			 (unsigned long long)si->cmdline_paddr);
	/* Bounded by the map too: the string may end near 4 GiB. */
	len = strnlen(src, MM_MIN(sizeof(pvh_cmdline),
				  PVH_MAPPED_END - si->cmdline_paddr));
	if (len >= sizeof(pvh_cmdline))
		pvh_fail("start_info: command line longer than %zu bytes",
			 sizeof(pvh_cmdline) - 1);
	memcpy(pvh_cmdline, src, len);
	pvh_cmdline[len] = '\0';
}

/*
 * One E820 RAM entry into guest_boot.ram: [0, 1 MiB) is firmware,
 * start_info and the trampoline, never RAM to hand out (as under buddyvm,
 * where it is the boot area); above 512 GiB one PDPT does not reach.
 */
static void pvh_add_ram(uint64_t base, uint64_t size)
{
	struct boot_ram_range ram[GUEST_MAX_RAM_RANGES];
	const char *why;
	unsigned n = guest_boot.nr_ram;

	if (base + size > PVH_MAP_MAX && base + size > base)
		guest_printf("  memory above 512 GiB: not mapped, not used\n");
	for (unsigned i = 0; i < n; i++)
		ram[i] = (struct boot_ram_range){guest_boot.ram[i].base,
						 guest_boot.ram[i].size};
	if (pvh_ram_add(ram, &n, GUEST_MAX_RAM_RANGES, base, size,
			BVM_KERNEL_BASE, PVH_MAP_MAX, &why) < 0)
		pvh_fail("memory map: [0x%llx, +0x%llx): %s",
			 (unsigned long long)base, (unsigned long long)size,
			 why);
	guest_boot.ram_bytes = guest_boot.ram_end = 0;
	for (unsigned i = 0; i < n; i++) {
		guest_boot.ram[i] =
			(struct guest_ram_range){ram[i].base, ram[i].size};
		guest_boot.ram_bytes += ram[i].size;
		guest_boot.ram_end = ram[i].base + ram[i].size;
	}
	guest_boot.nr_ram = n;
}

/*
 * Map RAM above 4 GiB (pvh_entry.S maps [0, 4 GiB)) with 2 MiB pages, in
 * page directories taken from the top of the highest RAM range below 4 GiB,
 * which the map already covers. At CPL 3 (the tables are user-writable),
 * before anything uses that memory; the PDPT entries were not present, so
 * no TLB holds them. Not 1 GiB pages: this PVM host's CPUID offers
 * pdpe1gb under QEMU -cpu host, yet a 1 GiB mapping faults with the
 * reserved-bit error code (measured), so CPUID cannot be trusted for it.
 */
static void pvh_map_high(void)
{
	uint64_t end = guest_boot.ram_end, gib = (end + (1ull << 30) - 1) >> 30;
	struct guest_ram_range *low = NULL;
	uint64_t *pd;

	if (end <= PVH_MAPPED_END)
		return;
	for (unsigned i = 0; i < guest_boot.nr_ram; i++)
		if (guest_boot.ram[i].base + guest_boot.ram[i].size <=
		    PVH_MAPPED_END)
			low = &guest_boot.ram[i];
	if (!low || low->size < (gib - 4) * PAGE_SIZE + 16 * MiB)
		pvh_fail("no room below 4 GiB for the page directories of "
			 "RAM up to 0x%llx",
			 (unsigned long long)end);
	low->size -= (gib - 4) * PAGE_SIZE;
	guest_boot.ram_bytes -= (gib - 4) * PAGE_SIZE;
	pd = (uint64_t *)(uintptr_t)(low->base + low->size);
	for (uint64_t g = 4; g < gib; g++, pd += 512) {
		for (uint64_t m = 0; m < 512; m++)
			pd[m] = g << 30 | m << 21 | PTE_2M;
		pvh_pdpt[g] = (uint64_t)(uintptr_t)pd | PTE_TABLE;
	}
}

static void pvh_read_memmap(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *e;
	uint64_t kend = (uint64_t)(uintptr_t)__guest_end;

	if (si->version < 1 || !si->memmap_entries)
		pvh_fail("start_info version %u has no memory map: the loader "
			 "must pass one (QEMU >= 4.0 does)",
			 si->version);
	e = pvh_phys(si->memmap_paddr,
		     (uint64_t)si->memmap_entries * sizeof(*e));
	if (!e)
		pvh_fail("start_info: memory map at 0x%llx is not mapped",
			 (unsigned long long)si->memmap_paddr);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		if (e[i].type != HVM_MEMMAP_TYPE_RAM)
			continue;
		if (pvh_nr_e820_ram < GUEST_MAX_RAM_RANGES * 2)
			pvh_e820_ram[pvh_nr_e820_ram++] =
				(struct guest_ram_range){e[i].addr, e[i].size};
		pvh_add_ram(e[i].addr, e[i].size);
	}
	if (!guest_boot.nr_ram || guest_boot.ram[0].base != BVM_KERNEL_BASE ||
	    guest_boot.ram[0].size < kend - BVM_KERNEL_BASE)
		pvh_fail("memory map: no RAM range holds the kernel "
			 "[0x%llx, 0x%llx)",
			 BVM_KERNEL_BASE, (unsigned long long)kend);
	guest_boot.kernel_end = kend;
	pvh_map_high();
}

static bool pvh_is_e820_ram(uint64_t base, uint64_t len)
{
	for (unsigned i = 0; i < pvh_nr_e820_ram; i++) {
		const struct guest_ram_range *r = &pvh_e820_ram[i];

		if (base >= r->base && base + len <= r->base + r->size)
			return true;
	}
	return false;
}

/* The RSDP, for guest/acpi.c (which reads the MADT for us). */
struct acpi_rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum;
	uint8_t reserved[3];
} __attribute__((packed));

static bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static const struct acpi_rsdp *acpi_rsdp_at(uint64_t pa)
{
	const struct acpi_rsdp *r = pvh_phys(pa, sizeof(*r));

	if (!r || memcmp(r->sig, "RSD PTR ", 8) != 0 ||
	    !acpi_checksum_ok(r, 20))
		return NULL;
	return r;
}

/* start_info's RSDP, else the BIOS area search of the ACPI spec (5.2.5.1). */
static const struct acpi_rsdp *acpi_find_rsdp(uint64_t hint)
{
	if (hint)
		return acpi_rsdp_at(hint);
	for (uint64_t pa = 0xe0000; pa < 0x100000; pa += 16) {
		const struct acpi_rsdp *r = acpi_rsdp_at(pa);

		if (r)
			return r;
	}
	return NULL;
}

/*
 * The MultiProcessor Specification 1.4's tables, which QEMU microvm's
 * firmware (qboot) writes when ACPI is off: a floating pointer "_MP_" in the
 * last KiB of base memory or the BIOS area, pointing at a "PCMP" table whose
 * processor entries carry the APIC ids.
 */
struct mp_floating {
	char sig[4];
	uint32_t config;
	uint8_t length; /* 16-byte units */
	uint8_t revision;
	uint8_t checksum;
	uint8_t features[5];
} __attribute__((packed));

static const struct mp_floating *mp_find_in(uint64_t start, uint64_t end)
{
	for (uint64_t pa = start; pa + 16 <= end; pa += 16) {
		const struct mp_floating *f = pvh_phys(pa, sizeof(*f));

		if (memcmp(f->sig, "_MP_", 4) == 0 && f->length == 1 &&
		    acpi_checksum_ok(f, sizeof(*f)))
			return f;
	}
	return NULL;
}

/* The processors of the MP table into *seen; false if there is none. */
static bool mp_find_cpus(uint32_t *seen)
{
	const struct mp_floating *f = mp_find_in(0x9fc00, 0xa0000);
	const void *c;
	const char *why;

	if (!f)
		f = mp_find_in(0xf0000, 0x100000);
	if (!f)
		return false;
	/* The table's own length is checked against what is mapped. */
	c = pvh_phys(f->config, 1);
	if (!c || pvh_mp_cpus(c, PVH_MAPPED_END - f->config, seen, &why) < 0)
		pvh_fail("MP table at 0x%x: %s", f->config,
			 c ? why : "not mapped");
	return true;
}

/* The MADT's IOAPICs, for devices on GSIs beyond the first one's pins. */
#define PVH_MAX_IOAPICS 4
static struct pvh_ioapic {
	uint32_t id, addr, gsi_base;
} pvh_ioapics[PVH_MAX_IOAPICS];
static unsigned pvh_nr_ioapics;

static void pvh_note_ioapic(unsigned id, uint32_t addr, uint32_t gsi)
{
	if (pvh_nr_ioapics < PVH_MAX_IOAPICS)
		pvh_ioapics[pvh_nr_ioapics++] =
			(struct pvh_ioapic){id, addr, gsi};
}

/*
 * The enabled processors of the ACPI MADT, else of the MP table (QEMU
 * microvm with acpi=off), else just this one. The vCPU index is the APIC
 * id, so the ids must be 0..n-1 (QEMU's for a plain -smp N).
 */
static void pvh_find_cpus(void)
{
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	const char *why, *source = "ACPI MADT";
	uint32_t seen = 0;
	int n;

	if (madt) {
		if (pvh_madt_cpus(madt, madt->length, &seen, pvh_note_ioapic,
				  &why) < 0)
			pvh_fail("ACPI MADT: %s", why);
	} else if (mp_find_cpus(&seen)) {
		source = "MP table";
	} else {
		guest_printf("  neither ACPI MADT nor MP table: 1 vCPU\n");
		seen = 1;
	}
	n = pvh_cpu_count(seen, &why);
	if (n < 0)
		pvh_fail("%s: APIC ids 0x%x: %s", source, seen, why);
	guest_boot.nr_cpus = (unsigned)n;
}

/*
 * One `virtio_mmio.device=SIZE@BASE:IRQ[:ID]` value (Linux's syntax, which
 * QEMU microvm writes for each transport with a device behind it).
 */
static void pvh_add_virtio(const char *arg, size_t len)
{
	struct boot_mmio_dev d;
	const char *why;

	if (pvh_parse_virtio_mmio(arg, len, &d, &why) < 0)
		pvh_fail("virtio_mmio.device=%.*s: %s", (int)len, arg, why);
	if (guest_boot.nr_mmio == BOOT_FDT_MAX_MMIO)
		pvh_fail("more than %u virtio_mmio.device= entries",
			 BOOT_FDT_MAX_MMIO);
	guest_boot.mmio[guest_boot.nr_mmio++] = d;
}

static void pvh_find_virtio(const char *cmdline)
{
	static const char key[] = "virtio_mmio.device=";

	for (const char *p = cmdline; *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > sizeof(key) - 1 && !strncmp(p, key, sizeof(key) - 1))
			pvh_add_virtio(p + sizeof(key) - 1,
				       len - (sizeof(key) - 1));
		p += len;
		while (*p == ' ')
			p++;
	}
}

#define IOAPIC_WINDOW_IDX 4 /* data window at +0x10, in 32-bit words */
#define IOAPIC_VERSION	  1
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))

static uint32_t ioapic_reg(volatile uint32_t *io, unsigned reg)
{
	io[0] = reg;
	return io[IOAPIC_WINDOW_IDX];
}

/*
 * Route @gsi, on whichever IOAPIC has it, edge-triggered to vCPU 0 on the
 * vector of device bit @bit (GUEST_VEC_DEVICE + bit), as irq.c's
 * ioapic_route_edge_to() does for the first IOAPIC's pins.
 */
static void pvh_route_gsi(uint32_t gsi, unsigned bit)
{
	for (unsigned i = 0; i < pvh_nr_ioapics; i++) {
		volatile uint32_t *io =
			(volatile uint32_t *)(uintptr_t)pvh_ioapics[i].addr;
		uint32_t pins, pin = gsi - pvh_ioapics[i].gsi_base;

		if (gsi < pvh_ioapics[i].gsi_base ||
		    !pvh_phys(pvh_ioapics[i].addr, 0x20))
			continue;
		pins = (ioapic_reg(io, IOAPIC_VERSION) >> 16 & 0xff) + 1;
		if (pin >= pins)
			continue;
		io[0] = IOAPIC_REDIR(pin) + 1;
		io[IOAPIC_WINDOW_IDX] = 0; /* APIC id 0 */
		io[0] = IOAPIC_REDIR(pin);
		io[IOAPIC_WINDOW_IDX] = GUEST_VEC_DEVICE + bit;
		return;
	}
	pvh_fail("ACPI: no IOAPIC has GSI %u", gsi);
}

/*
 * QEMU microvm with ACPI: its virtio-mmio devices are only in the DSDT
 * (pvh_dsdt_virtio_mmio() reads their descriptors), on GSIs of the second
 * IOAPIC (24-47). The drivers take a device's interrupt as bit `irq` of
 * the pending set (vector GUEST_VEC_DEVICE + irq, below 24), so such a
 * GSI is routed here to a free bit from 16 up (the first IOAPIC's PCI
 * pins, which microvm does not use); the driver's own routing of that pin
 * on the first IOAPIC then changes nothing.
 */
static void pvh_find_acpi_virtio(void)
{
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
	struct pvh_acpi_mmio devs[BOOT_FDT_MAX_MMIO];
	const struct acpi_sdt_header *dsdt;
	uint64_t pa = 0;
	uint32_t pa32;
	unsigned bit = 16;
	const char *why;
	int n;

	if (!fadt || fadt->length < 44)
		return;
	memcpy(&pa32, (const char *)fadt + 40, 4); /* DSDT */
	if (fadt->length >= 148)
		memcpy(&pa, (const char *)fadt + 140, 8); /* X_DSDT */
	pa = pa ? pa : pa32;
	dsdt = pvh_phys(pa, sizeof(*dsdt));
	if (!dsdt || !pvh_phys(pa, dsdt->length) ||
	    memcmp(dsdt->signature, "DSDT", 4) != 0)
		pvh_fail("ACPI: no DSDT at 0x%llx", (unsigned long long)pa);
	n = pvh_dsdt_virtio_mmio(dsdt, dsdt->length, devs, BOOT_FDT_MAX_MMIO,
				 &why);
	if (n < 0)
		pvh_fail("ACPI DSDT: %s", why);
	for (int i = 0; i < n; i++) {
		struct boot_mmio_dev *d = &guest_boot.mmio[guest_boot.nr_mmio];

		*d = (struct boot_mmio_dev){.base = devs[i].base,
					    .size = devs[i].size,
					    .irq = devs[i].gsi};
		if (devs[i].gsi >= GUEST_NR_DEVICE_IRQS) {
			if (bit >= GUEST_NR_DEVICE_IRQS)
				pvh_fail("ACPI: more virtio-mmio devices on "
					 "high GSIs than free vectors");
			d->irq = bit++;
			pvh_route_gsi(devs[i].gsi, d->irq);
		}
		guest_boot.nr_mmio++;
		guest_printf("  ACPI virtio-mmio at 0x%llx: GSI %u\n",
			     (unsigned long long)d->base, devs[i].gsi);
	}
}

void pvh_ap_online(void)
{
	smp_signal_done(&pvh_aps_online);
}

#define LAPIC_ID       0x20
#define LAPIC_ICR_LOW  0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT       0x4500 /* INIT, level assert */
#define ICR_STARTUP    0x4600 /* SIPI, vector in the low byte */
#define PVH_INIT_WAIT  10     /* ms: the MP spec's INIT to SIPI delay */
#define PVH_AP_TIMEOUT 5000   /* ms */

static void pvh_ipi_all_aps(uint32_t icr)
{
	for (unsigned cpu = 1; cpu < guest_boot.nr_cpus; cpu++) {
		lapic_write(LAPIC_ICR_HIGH, cpu << 24);
		lapic_write(LAPIC_ICR_LOW, icr);
	}
}

/*
 * INIT, SIPI, SIPI (the second only if some AP has not come: KVM starts an
 * AP on the first and ignores SIPIs to a running one), then wait until every
 * AP counted itself in (pvh_ap_online(), from guest_main()).
 */
static void pvh_start_aps(void)
{
	size_t len = (size_t)(pvh_trampoline_end - pvh_trampoline);
	unsigned aps = guest_boot.nr_cpus - 1;
	unsigned never = 0;

	if (!aps)
		return;
	if (!pvh_is_e820_ram(PVH_TRAMPOLINE_ADDR, PVH_TRAMPOLINE_MAX))
		pvh_fail("memory map: the AP trampoline page 0x%x is not RAM",
			 PVH_TRAMPOLINE_ADDR);
	memcpy((void *)(uintptr_t)PVH_TRAMPOLINE_ADDR, pvh_trampoline, len);
	pvh_ipi_all_aps(ICR_INIT);
	smp_wait_count(&never, 1, PVH_INIT_WAIT);
	pvh_ipi_all_aps(ICR_STARTUP | PVH_TRAMPOLINE_ADDR >> 12);
	if (!smp_wait_count(&pvh_aps_online, aps, 1))
		pvh_ipi_all_aps(ICR_STARTUP | PVH_TRAMPOLINE_ADDR >> 12);
	if (!smp_wait_count(&pvh_aps_online, aps, PVH_AP_TIMEOUT))
		pvh_fail("only %u of %u APs came up within %u ms",
			 __atomic_load_n(&pvh_aps_online, __ATOMIC_ACQUIRE),
			 aps, PVH_AP_TIMEOUT);
}

void pvh_boot(const struct hvm_start_info *si)
{
	const struct acpi_rsdp *rsdp;

	if (!pvh_phys((uint64_t)(uintptr_t)si, sizeof(*si)) ||
	    si->magic != XEN_HVM_START_MAGIC_VALUE)
		pvh_fail("PVH entry without a start_info (ebx 0x%llx)",
			 (unsigned long long)(uintptr_t)si);
	if (lapic_read(LAPIC_ID) >> 24 != 0)
		pvh_fail("the boot CPU's APIC id is %u, not 0",
			 lapic_read(LAPIC_ID) >> 24);
	pvh_copy_cmdline(si);
	guest_boot.native = true;
	rsdp = acpi_find_rsdp(si->rsdp_paddr);
	guest_boot.rsdp = (uint64_t)(uintptr_t)rsdp;
	pvh_find_cpus();
	guest_printf("buddyvm guest: %u vCPU%s, cmdline '%s'\n",
		     guest_boot.nr_cpus, guest_boot.nr_cpus > 1 ? "s" : "",
		     guest_boot.bootargs);
	guest_printf("  PVH entry: start_info 0x%llx, ACPI RSDP 0x%llx\n",
		     (unsigned long long)(uintptr_t)si,
		     (unsigned long long)guest_boot.rsdp);
	for (unsigned i = 0; i < pvh_nr_ioapics; i++)
		guest_printf("  IOAPIC %u at 0x%x, GSI base %u\n",
			     pvh_ioapics[i].id, pvh_ioapics[i].addr,
			     pvh_ioapics[i].gsi_base);
	pvh_read_memmap(si);
	for (unsigned i = 0; i < guest_boot.nr_ram; i++)
		guest_printf("  memory [0x%llx, 0x%llx)\n",
			     (unsigned long long)guest_boot.ram[i].base,
			     (unsigned long long)(guest_boot.ram[i].base +
						  guest_boot.ram[i].size));
	pvh_find_virtio(guest_boot.bootargs);
	/* QEMU microvm with ACPI names its devices only in the DSDT. */
	if (!guest_boot.nr_mmio)
		pvh_find_acpi_virtio();
	for (unsigned i = 0; i < guest_boot.nr_mmio; i++)
		guest_printf("  virtio-mmio [0x%llx, 0x%llx) irq %u\n",
			     (unsigned long long)guest_boot.mmio[i].base,
			     (unsigned long long)(guest_boot.mmio[i].base +
						  guest_boot.mmio[i].size),
			     guest_boot.mmio[i].irq);
	guest_printf("  %llu MiB RAM, memory model native, kernel ends at "
		     "0x%llx\n",
		     (unsigned long long)(guest_boot.ram_bytes / MiB),
		     (unsigned long long)guest_boot.kernel_end);
	pvh_start_aps();
}
