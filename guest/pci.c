// SPDX-License-Identifier: MIT
/*
 * guest/pci.c - ECAM configuration access, enumeration and BAR placement
 * at CPL 3 (see guest/include/pci.h). Every configuration access is an
 * MMIO exit, so the walk reads what it needs once: about 40 accesses per
 * bus scanned, a handful per function found.
 */
#include "acpi.h"
#include "guest.h"
#include "guest/virtio/pci_caps.h"
#include "mm/errno.h"
#include "pci.h"
#include "pvh.h"

#define PCI_MAX_BUSES	    256
#define PCI_HOLE_TOP	    0xFEC00000ull /* IOAPIC, LAPIC, flash above */
#define PCI_MAPPED_END	    0x100000000ull
#define PCI_BAR_MEM_64	    0x4
#define PCI_BAR_IO	    0x1
#define PCI_HEADER_BRIDGE   0x01
#define PCI_HEADER_MULTI_FN 0x80

struct acpi_mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
} __attribute__((packed));

static struct {
	bool done;
	uint64_t ecam;
	unsigned start_bus, end_bus;
	unsigned nr;
	struct pci_func funcs[PCI_MAX_FUNCS];
	uint8_t bus_seen[PCI_MAX_BUSES / 8];
	uint64_t low_water; /* lowest firmware BAR in the hole */
	uint64_t next_free; /* our own placements go down from here */
	/* pci.place=1: place every BAR we map as if the firmware had not (the
	 * path a loader without PCI firmware takes; the tests run it on q35). */
	bool place_all;
} pci;

static volatile uint32_t *ecam_at(unsigned bus, unsigned dev, unsigned fn)
{
	return (volatile uint32_t *)(uintptr_t)(pci.ecam +
						((uint64_t)bus << 20 |
						 dev << 15 | fn << 12));
}

uint32_t pci_cfg_read32(const struct pci_func *f, unsigned off)
{
	return f->cfg[off / 4];
}

void pci_cfg_write32(const struct pci_func *f, unsigned off, uint32_t v)
{
	f->cfg[off / 4] = v;
}

uint16_t pci_cfg_read16(const struct pci_func *f, unsigned off)
{
	return ((volatile uint16_t *)f->cfg)[off / 2];
}

void pci_cfg_write16(const struct pci_func *f, unsigned off, uint16_t v)
{
	((volatile uint16_t *)f->cfg)[off / 2] = v;
}

/* The MCFG's segment-0 entry; false if ACPI has none. */
static bool ecam_from_mcfg(const struct acpi_sdt_header *mcfg)
{
	const uint8_t *p = (const uint8_t *)mcfg + sizeof(*mcfg) + 8;
	const uint8_t *end = (const uint8_t *)mcfg + mcfg->length;
	struct acpi_mcfg_entry e;

	for (; p + sizeof(e) <= end; p += sizeof(e)) {
		memcpy(&e, p, sizeof(e));
		if (e.segment != 0 || e.start_bus > e.end_bus)
			continue;
		/* ECAM must lie in the identity map: 1 MiB per bus. */
		if (e.base >= PCI_MAPPED_END ||
		    ((uint64_t)e.end_bus + 1) << 20 > PCI_MAPPED_END - e.base)
			continue;
		pci.ecam = e.base;
		pci.start_bus = e.start_bus;
		pci.end_bus = e.end_bus;
		return true;
	}
	return false;
}

static bool ecam_find(void)
{
	const struct acpi_sdt_header *mcfg;
	uint32_t id;

	if (guest_boot.platform != GUEST_PLATFORM_PVH)
		return false; /* buddyvm: virtio-mmio only */
	if (guest_boot.rsdp) {
		mcfg = acpi_find_table("MCFG");
		return mcfg && ecam_from_mcfg(mcfg);
	}
	pci.ecam = PCI_ECAM_Q35_DEFAULT;
	pci.start_bus = 0;
	pci.end_bus = PCI_MAX_BUSES - 1;
	id = ecam_at(0, 0, 0)[0];
	return id != 0xffffffffu && id != 0;
}

static void scan_bus(unsigned bus, unsigned depth);

/* Record one function; follow it if it is a bridge. */
static void scan_func(unsigned bus, unsigned dev, unsigned fn, unsigned depth)
{
	volatile uint32_t *cfg = ecam_at(bus, dev, fn);
	uint32_t id = cfg[0], hdr = cfg[PCI_CFG_HEADER_TYPE / 4];
	struct pci_func *f;

	if (pci.nr == PCI_MAX_FUNCS) {
		guest_printf("pci: more than %u functions, %02x:%02x.%x and "
			     "later ignored\n",
			     PCI_MAX_FUNCS, bus, dev, fn);
		return;
	}
	f = &pci.funcs[pci.nr++];
	*f = (struct pci_func){
		.bus = (uint8_t)bus,
		.dev = (uint8_t)dev,
		.fn = (uint8_t)fn,
		.vendor = (uint16_t)id,
		.device = (uint16_t)(id >> 16),
		.cfg = cfg,
	};
	f->int_pin = (uint8_t)(cfg[0x3c / 4] >> 8);
	if (f->int_pin > 4)
		f->int_pin = 0;
	if (((hdr >> 16) & 0x7f) == PCI_HEADER_BRIDGE) {
		unsigned sec = (cfg[0x18 / 4] >> 8) & 0xff;

		if (sec > bus && sec <= pci.end_bus && depth < 8)
			scan_bus(sec, depth + 1);
	}
}

static void scan_bus(unsigned bus, unsigned depth)
{
	if (pci.bus_seen[bus / 8] & (1u << (bus % 8)))
		return; /* two bridges claiming one bus: once is enough */
	pci.bus_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	for (unsigned dev = 0; dev < 32; dev++) {
		volatile uint32_t *cfg = ecam_at(bus, dev, 0);
		uint32_t id = cfg[0];
		unsigned nfn;

		if ((uint16_t)id == 0xffff || id == 0)
			continue;
		nfn = (cfg[PCI_CFG_HEADER_TYPE / 4] >> 16) & PCI_HEADER_MULTI_FN
			      ? 8
			      : 1;
		scan_func(bus, dev, 0, depth);
		for (unsigned fn = 1; fn < nfn; fn++) {
			id = ecam_at(bus, dev, fn)[0];
			if ((uint16_t)id != 0xffff && id != 0)
				scan_func(bus, dev, fn, depth);
		}
	}
}

/* The lowest memory BAR the firmware placed in the hole (not sized). */
static void note_firmware_bars(void)
{
	uint64_t floor = pci.ecam + ((uint64_t)(pci.end_bus + 1) << 20);

	pci.low_water = PCI_HOLE_TOP;
	for (unsigned i = 0; i < pci.nr; i++) {
		struct pci_func *f = &pci.funcs[i];
		unsigned nbars =
			((pci_cfg_read32(f, PCI_CFG_HEADER_TYPE & ~3u) >> 16) &
			 0x7f) == PCI_HEADER_BRIDGE
				? 2
				: PCI_NR_BARS;

		for (unsigned b = 0; b < nbars; b++) {
			uint32_t v = pci_cfg_read32(f, PCI_CFG_BAR0 + 4 * b);
			uint64_t a = v & ~0xfull;

			if (v & PCI_BAR_IO)
				continue;
			if (v & PCI_BAR_MEM_64)
				a |= (uint64_t)pci_cfg_read32(
					     f, PCI_CFG_BAR0 + 4 * ++b)
				     << 32;
			if (a >= floor && a < pci.low_water)
				pci.low_water = a;
		}
	}
	pci.next_free = pci.low_water;
}

unsigned pci_init(void)
{
	if (pci.done)
		return pci.nr;
	pci.done = true;
	if (!ecam_find())
		return 0;
	pci.place_all = guest_cmdline_ulong("pci.place", 0) != 0;
	scan_bus(pci.start_bus, 0);
	note_firmware_bars();
	guest_printf("pci: ECAM at 0x%llx (buses %u-%u, %s), %u functions\n",
		     (unsigned long long)pci.ecam, pci.start_bus, pci.end_bus,
		     guest_boot.rsdp ? "ACPI MCFG" : "q35 default", pci.nr);
	return pci.nr;
}

struct pci_func *pci_func_get(unsigned i)
{
	return i < pci.nr ? &pci.funcs[i] : NULL;
}

/* Write all ones, read the mask back, restore; decoding is off. */
static uint64_t bar_size(struct pci_func *f, unsigned off, bool is64,
			 uint64_t *cur)
{
	uint32_t lo = pci_cfg_read32(f, off), hi = 0, mlo, mhi = 0xffffffffu;
	uint64_t mask;

	pci_cfg_write32(f, off, 0xffffffffu);
	mlo = pci_cfg_read32(f, off);
	pci_cfg_write32(f, off, lo);
	if (is64) {
		hi = pci_cfg_read32(f, off + 4);
		pci_cfg_write32(f, off + 4, 0xffffffffu);
		mhi = pci_cfg_read32(f, off + 4);
		pci_cfg_write32(f, off + 4, hi);
	}
	*cur = ((uint64_t)hi << 32 | lo) & ~0xfull;
	mask = ((uint64_t)mhi << 32 | mlo) & ~0xfull;
	return mask ? ~mask + 1 : 0;
}

/* Our own placement: below everything else in the hole. */
static int bar_place(struct pci_func *f, unsigned off, bool is64, uint64_t size,
		     uint64_t *addr)
{
	uint64_t floor = pci.ecam + ((uint64_t)(pci.end_bus + 1) << 20);
	uint64_t a;

	if (guest_boot.ram_end > floor && guest_boot.ram_end < PCI_HOLE_TOP)
		floor = guest_boot.ram_end;
	for (unsigned i = 0; i < guest_boot.nr_ram; i++) {
		uint64_t end = guest_boot.ram[i].base + guest_boot.ram[i].size;

		if (end > floor && end <= PCI_MAPPED_END)
			floor = end;
	}
	if (size > pci.next_free)
		return -ENOSPC;
	a = (pci.next_free - size) & ~(size - 1);
	if (a < floor)
		return -ENOSPC;
	pci.next_free = a;
	pci_cfg_write32(f, off, (uint32_t)a);
	if (is64)
		pci_cfg_write32(f, off + 4, 0);
	guest_printf("pci: %02x:%02x.%x BAR at 0x%llx (+0x%llx) placed by "
		     "the guest\n",
		     f->bus, f->dev, f->fn, (unsigned long long)a,
		     (unsigned long long)size);
	*addr = a;
	return 0;
}

/* A driver probing again (after a reset) finds its BAR where we put it. */
static bool placed_by_us(uint64_t addr, uint64_t size)
{
	return addr >= pci.next_free && addr < pci.low_water &&
	       size <= pci.low_water - addr;
}

int pci_bar_map(struct pci_func *f, unsigned bar, uint64_t *addr,
		uint64_t *size)
{
	unsigned off = PCI_CFG_BAR0 + 4 * bar;
	uint16_t cmd = pci_cfg_read16(f, PCI_CFG_COMMAND);
	uint32_t v;
	bool is64;
	uint64_t cur;
	int err = 0;

	if (bar >= PCI_NR_BARS)
		return -ENOENT;
	v = pci_cfg_read32(f, off);
	is64 = v & PCI_BAR_MEM_64;
	if ((v & PCI_BAR_IO) || (is64 && bar + 1 >= PCI_NR_BARS))
		return -ENOENT;
	pci_cfg_write16(f, PCI_CFG_COMMAND,
			(uint16_t)(cmd & ~PCI_COMMAND_MEMORY));
	*size = bar_size(f, off, is64, &cur);
	if (*size == 0 || (*size & (*size - 1)))
		err = -ENOENT;
	else if (cur == 0 || cur >= PCI_MAPPED_END ||
		 *size > PCI_MAPPED_END - cur ||
		 (pci.place_all && !placed_by_us(cur, *size)))
		err = bar_place(f, off, is64, *size, &cur);
	*addr = cur;
	pci_cfg_write16(
		f, PCI_CFG_COMMAND,
		(uint16_t)(cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	return err;
}
