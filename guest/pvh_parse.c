// SPDX-License-Identifier: MIT
/*
 * guest/pvh_parse.c - the checks of what a PVH loader hands the guest
 * (pvh_parse.h): memory map entries, virtio_mmio.device= words, MP table and
 * MADT processor entries. No C library and no guest header: the unit tests
 * build this file for the host.
 */
#include <stdbool.h>

#include "guest/pvh_parse.h"
#include "mm/errno.h"

#define PAGE_BYTES 4096ull

/* Decimal or 0x hex at *p, advancing *p; false if none or it overflows. */
static bool parse_u64(const char **p, const char *end, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *s = *p;
	bool any = false;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; s < end; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		any = true;
	}
	*p = s;
	*out = v;
	return any;
}

/* A K, M or G suffix after a size, as Linux's memparse(). */
static bool apply_suffix(const char **p, const char *end, uint64_t *v)
{
	static const char suffixes[] = "KkMmGg";
	unsigned shift = 0;

	for (unsigned i = 0; *p < end && suffixes[i]; i++)
		if (**p == suffixes[i])
			shift = 10 * (i / 2 + 1);
	if (!shift)
		return true;
	(*p)++;
	if (*v > UINT64_MAX >> shift)
		return false;
	*v <<= shift;
	return true;
}

static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int pvh_parse_virtio_mmio(const char *s, size_t len, struct boot_mmio_dev *out,
			  const char **why)
{
	const char *p = s, *end = s + len;
	uint64_t size, base, irq, id;

	if (!parse_u64(&p, end, &size) || !apply_suffix(&p, end, &size) ||
	    p == end || *p++ != '@' || !parse_u64(&p, end, &base) || p == end ||
	    *p++ != ':' || !parse_u64(&p, end, &irq))
		return refuse(why, "not SIZE@BASE:IRQ");
	if (p < end && *p == ':') {
		p++;
		if (!parse_u64(&p, end, &id)) /* a platform device id: unused */
			return refuse(why, "not SIZE@BASE:IRQ:ID");
	}
	if (p != end)
		return refuse(why, "trailing characters");
	if (size < PVH_MMIO_MIN_SIZE)
		return refuse(why, "window smaller than 512 bytes");
	if (base < PVH_HOLE_START || base >= PVH_HOLE_END ||
	    size > PVH_HOLE_END - base)
		return refuse(why,
			      "window outside the MMIO hole [3 GiB, 4 GiB)");
	if (irq >= PVH_NR_IRQS)
		return refuse(why,
			      "IRQ beyond the IOAPIC pins the guest routes");
	*out = (struct boot_mmio_dev){
		.base = base, .size = size, .irq = (uint32_t)irq};
	return 0;
}

int pvh_ram_add(struct boot_ram_range *ram, unsigned *n, unsigned max,
		uint64_t base, uint64_t size, uint64_t lo, uint64_t hi,
		const char **why)
{
	uint64_t end = base + size;
	unsigned i;

	if (end < base)
		return refuse(why, "a RAM entry wraps around");
	base = base < lo ? lo : base;
	end = end > hi ? hi : end;
	base = (base + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
	end &= ~(PAGE_BYTES - 1);
	if (end <= base)
		return 0;
	for (i = 0; i < *n; i++) {
		if (base < ram[i].base + ram[i].size && ram[i].base < end)
			return refuse(why, "RAM entries overlap");
	}
	if (*n == max) {
		*why = "more RAM entries than the guest keeps";
		return -ENOSPC;
	}
	for (i = (*n)++; i > 0 && ram[i - 1].base > base; i--)
		ram[i] = ram[i - 1];
	ram[i] = (struct boot_ram_range){base, end - base};
	return 0;
}

static bool sum_zero(const uint8_t *b, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum == 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int add_cpu(uint32_t id, bool enabled, uint32_t *seen, const char **why)
{
	if (!enabled)
		return 0;
	if (id >= PVH_MAX_CPUS)
		return refuse(why, "an APIC id beyond the guest's 32 vCPUs");
	*seen |= 1u << id;
	return 0;
}

#define MP_HEADER_BYTES	   44
#define MP_PROCESSOR	   0
#define MP_PROCESSOR_BYTES 20
#define MP_OTHER_BYTES	   8

int pvh_mp_cpus(const void *table, size_t avail, uint32_t *seen,
		const char **why)
{
	const uint8_t *t = table, *p, *end;
	size_t len;

	if (avail < MP_HEADER_BYTES || t[0] != 'P' || t[1] != 'C' ||
	    t[2] != 'M' || t[3] != 'P')
		return refuse(why, "MP table: no PCMP signature");
	len = (size_t)t[4] | (size_t)t[5] << 8;
	if (len < MP_HEADER_BYTES || len > avail)
		return refuse(why, "MP table: bad length");
	if (!sum_zero(t, len))
		return refuse(why, "MP table: bad checksum");
	/* By length, as Linux reads it: qboot leaves the entry count 0. */
	end = t + len;
	for (p = t + MP_HEADER_BYTES; p < end;) {
		size_t elen = p[0] == MP_PROCESSOR ? MP_PROCESSOR_BYTES
						   : MP_OTHER_BYTES;
		int err;

		if ((size_t)(end - p) < elen)
			return refuse(why, "MP table: an entry runs past it");
		if (p[0] == MP_PROCESSOR) {
			err = add_cpu(p[1], p[3] & 1, seen, why);
			if (err)
				return err;
		}
		p += elen;
	}
	return 0;
}

#define MADT_HEADER_BYTES 44 /* SDT header 36, LAPIC address, flags */
#define MADT_LAPIC	  0
#define MADT_IOAPIC	  1
#define MADT_X2APIC	  9

int pvh_madt_cpus(const void *madt, size_t len, uint32_t *seen,
		  void (*ioapic)(unsigned id, uint32_t addr, uint32_t gsi),
		  const char **why)
{
	const uint8_t *p = madt, *end = p + len;
	int err = 0;

	if (len < MADT_HEADER_BYTES)
		return refuse(why, "ACPI MADT: shorter than its header");
	for (p += MADT_HEADER_BYTES; p < end && !err; p += p[1]) {
		if ((size_t)(end - p) < 2 || p[1] < 2 ||
		    (size_t)(end - p) < p[1])
			return refuse(why, "ACPI MADT: an entry runs past it");
		if (p[0] == MADT_LAPIC && p[1] >= 8)
			err = add_cpu(p[3], le32(p + 4) & 1, seen, why);
		else if (p[0] == MADT_X2APIC && p[1] >= 16)
			err = add_cpu(le32(p + 4), le32(p + 8) & 1, seen, why);
		else if (p[0] == MADT_IOAPIC && p[1] >= 12 && ioapic)
			ioapic(p[2], le32(p + 4), le32(p + 8));
	}
	return err;
}

#define AML_HID_LEN	 8  /* "LNRO0005" */
#define AML_CRS_WINDOW	 64 /* _UID, _CCA, _CRS header before the descriptors */
#define RES_MEM32_FIXED	 0x86
#define RES_MEM32_LEN	 9
#define RES_EXT_IRQ	 0x89
#define RES_EXT_IRQ_LEN1 6 /* one interrupt */

static bool bytes_eq(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != (uint8_t)b[i])
			return false;
	return true;
}

/* The descriptors of one device, after its _HID at @p. */
static int dsdt_one(const uint8_t *p, const uint8_t *end,
		    struct pvh_acpi_mmio *d, const char **why)
{
	const uint8_t *lim =
		end - p > AML_CRS_WINDOW ? p + AML_CRS_WINDOW : end;

	for (; p + 3 + RES_MEM32_LEN + 3 + RES_EXT_IRQ_LEN1 <= lim; p++) {
		const uint8_t *irq = p + 3 + RES_MEM32_LEN;

		if (p[0] != RES_MEM32_FIXED || p[1] != RES_MEM32_LEN ||
		    p[2] != 0 || irq[0] != RES_EXT_IRQ ||
		    irq[1] != RES_EXT_IRQ_LEN1 || irq[2] != 0 || irq[4] != 1)
			continue;
		d->base = le32(p + 4);
		d->size = le32(p + 8);
		d->gsi = le32(irq + 5);
		if (d->size < PVH_MMIO_MIN_SIZE || d->base < PVH_HOLE_START ||
		    d->size > PVH_HOLE_END - d->base)
			return refuse(why,
				      "ACPI virtio-mmio window outside the "
				      "MMIO hole or too small");
		return 0;
	}
	return refuse(why, "ACPI virtio-mmio device without "
			   "Memory32Fixed and one interrupt");
}

int pvh_dsdt_virtio_mmio(const void *aml, size_t len, struct pvh_acpi_mmio *out,
			 unsigned max, const char **why)
{
	const uint8_t *p = aml, *end = p + len;
	unsigned n = 0;

	for (; (size_t)(end - p) >= AML_HID_LEN; p++) {
		int err;

		if (!bytes_eq(p, "LNRO0005", AML_HID_LEN))
			continue;
		if (n == max)
			return refuse(why, "more ACPI virtio-mmio devices than "
					   "the guest keeps");
		err = dsdt_one(p + AML_HID_LEN, end, &out[n], why);
		if (err)
			return err;
		n++;
	}
	return (int)n;
}

int pvh_cpu_count(uint32_t seen, const char **why)
{
	unsigned n = 0;

	while (n < PVH_MAX_CPUS && (seen >> n & 1))
		n++;
	if (n == 0)
		return refuse(why, "no enabled CPU with APIC id 0");
	if (n < PVH_MAX_CPUS && seen >> n)
		return refuse(why, "APIC ids are not 0..n-1");
	return (int)n;
}
