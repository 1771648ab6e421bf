// SPDX-License-Identifier: MIT
/*
 * Unit tests for guest/pvh_parse.c: what the guest accepts from a PVH loader
 * (QEMU): virtio_mmio.device= words as QEMU microvm writes them and as they
 * could be broken, memory map entries, and the CPUs of MP tables and MADTs
 * laid out as qboot and QEMU lay them out.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "guest/pvh_parse.h"
#include "unit.h"

static int mmio(const char *s, struct boot_mmio_dev *d)
{
	const char *why = NULL;
	int r = pvh_parse_virtio_mmio(s, strlen(s), d, &why);

	if (r)
		ck_assert_ptr_nonnull(why);
	return r;
}

START_TEST(test_pvh_virtio_mmio_qemu_words)
{
	struct boot_mmio_dev d;

	/* What QEMU 7.2 microvm appends with acpi=off. */
	ck_assert_int_eq(mmio("512@0xfeb00e00:12", &d), 0);
	ck_assert_uint_eq(d.base, 0xfeb00e00);
	ck_assert_uint_eq(d.size, 512);
	ck_assert_uint_eq(d.irq, 12);
	ck_assert_uint_eq(d.dma_id, 0);
	/* Linux's other forms: a size suffix, hex size, a platform id. */
	ck_assert_int_eq(mmio("4K@0xd0000000:16:3", &d), 0);
	ck_assert_uint_eq(d.size, 4096);
	ck_assert_uint_eq(d.irq, 16);
	ck_assert_int_eq(mmio("0x200@3489660928:5", &d), 0);
	ck_assert_uint_eq(d.base, 0xd0000000);
	/* The last window of the hole still fits. */
	ck_assert_int_eq(mmio("512@0xfffffe00:23", &d), 0);
}
END_TEST

START_TEST(test_pvh_virtio_mmio_refused)
{
	static const char *const bad[] = {
		"",
		"512",
		"512@",
		"512@0xfeb00000",
		"512@0xfeb00000:",
		"@0xfeb00000:5",
		"512@0xfeb00000:5x",
		"512@0xfeb00000:5:",
		"512 @0xfeb00000:5",
		"256@0xfeb00000:5",  /* smaller than the registers */
		"512@0xbffffe00:5",  /* below the hole */
		"512@0x100000000:5", /* above it */
		"1K@0xfffffe00:5",   /* runs past 4 GiB */
		"512@0xfeb00000:24", /* a pin the guest does not route */
		"512@0xfeb00000:4294967301",	     /* 2^32 + 5 */
		"99999999999999999999@0xfeb00000:5", /* overflows 64 bits */
		"17179869184G@0xfeb00000:5",	     /* overflows when scaled */
		"512@0x:5",
	};
	struct boot_mmio_dev d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mmio(bad[i], &d) == -EINVAL, "accepted '%s'",
			      bad[i]);
}
END_TEST

START_TEST(test_pvh_virtio_mmio_bounded_by_len)
{
	struct boot_mmio_dev d;
	const char *why;
	/* The word ends where the next starts: no reading past len. */
	const char line[] = "512@0xfeb00e00:12 virtio_mmio.device=1";

	ck_assert_int_eq(pvh_parse_virtio_mmio(line, 17, &d, &why), 0);
	ck_assert_uint_eq(d.irq, 12);
	ck_assert_int_eq(pvh_parse_virtio_mmio(line, 18, &d, &why), -EINVAL);
	ck_assert_int_eq(pvh_parse_virtio_mmio(line, 16, &d, &why), 0);
	ck_assert_uint_eq(d.irq, 1);
}
END_TEST

#define MiB (1ull << 20)
#define GiB (1ull << 30)

START_TEST(test_pvh_ram_qemu_map)
{
	struct boot_ram_range ram[4];
	unsigned n = 0;
	const char *why;

	/* microvm, -m 4G: [0, 640K) reserved BIOS data, [1M, 3G), [4G, 5G),
	 * in the loader's order; the guest keeps [1 MiB, ...). */
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 4, 4 * GiB, GiB, MiB, 512 * GiB, &why), 0);
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 4, 0, 0x9fc00, MiB, 512 * GiB, &why), 0);
	ck_assert_uint_eq(n, 1); /* nothing above 1 MiB in it */
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 4, 0, 3 * GiB, MiB, 512 * GiB, &why), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ram[0].base, MiB);
	ck_assert_uint_eq(ram[0].size, 3 * GiB - MiB);
	ck_assert_uint_eq(ram[1].base, 4 * GiB);
	ck_assert_uint_eq(ram[1].size, GiB);
}
END_TEST

START_TEST(test_pvh_ram_clip_and_refuse)
{
	struct boot_ram_range ram[2];
	unsigned n = 0;
	const char *why;

	/* Cut inward to whole pages and to [lo, hi). */
	ck_assert_int_eq(pvh_ram_add(ram, &n, 2, MiB + 1, 2 * MiB - 2, MiB,
				     8 * MiB, &why),
			 0);
	ck_assert_uint_eq(ram[0].base, MiB + 4096);
	ck_assert_uint_eq(ram[0].size, 2 * MiB - 8192);
	/* Overlaps are refused, wrapping entries too. */
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 2, 2 * MiB, MiB, MiB, 8 * MiB, &why),
		-EINVAL);
	ck_assert_int_eq(pvh_ram_add(ram, &n, 2, UINT64_MAX - 4095, 8192, 0,
				     UINT64_MAX, &why),
			 -EINVAL);
	/* Above hi: nothing. */
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 2, 9 * MiB, MiB, MiB, 8 * MiB, &why), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 2, 4 * MiB, MiB, MiB, 8 * MiB, &why), 0);
	ck_assert_int_eq(
		pvh_ram_add(ram, &n, 2, 6 * MiB, MiB, MiB, 8 * MiB, &why),
		-ENOSPC);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* Set an MP table's length to @len and fix its checksum. */
static void mp_seal(uint8_t *t, size_t len)
{
	uint8_t sum = 0;

	t[4] = (uint8_t)len;
	t[5] = (uint8_t)(len >> 8);
	t[7] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[7] = (uint8_t)-sum;
}

/* An MP table as qboot writes it: entry count 0, walked by length. */
static size_t mp_table(uint8_t *t, unsigned cpus, uint8_t disabled_id)
{
	size_t len = 44;

	memset(t, 0, 512);
	memcpy(t, "PCMP", 4);
	t[6] = 4; /* spec revision 1.4 */
	for (unsigned i = 0; i < cpus; i++, len += 20) {
		t[len] = 0;			       /* processor */
		t[len + 1] = (uint8_t)i;	       /* APIC id */
		t[len + 3] = i == disabled_id ? 0 : 1; /* enabled */
	}
	t[len] = 1; /* a bus entry */
	len += 8;
	t[len] = 2; /* an IOAPIC entry */
	len += 8;
	mp_seal(t, len);
	return len;
}

START_TEST(test_pvh_mp_table)
{
	uint8_t t[512];
	uint32_t seen = 0;
	const char *why;
	size_t len = mp_table(t, 4, 0xff);

	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), 0);
	ck_assert_uint_eq(seen, 0xf);
	ck_assert_int_eq(pvh_cpu_count(seen, &why), 4);
	/* A disabled processor does not count; a hole in the ids fails. */
	len = mp_table(t, 4, 2);
	seen = 0;
	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), 0);
	ck_assert_uint_eq(seen, 0xb);
	ck_assert_int_eq(pvh_cpu_count(seen, &why), -EINVAL);
	/* Broken: checksum, length beyond what is readable, signature, an
	 * entry cut short. */
	len = mp_table(t, 2, 0xff);
	t[44 + 1] ^= 1;
	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), -EINVAL);
	len = mp_table(t, 2, 0xff);
	ck_assert_int_eq(pvh_mp_cpus(t, len - 1, &seen, &why), -EINVAL);
	t[0] = 'X';
	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), -EINVAL);
	len = mp_table(t, 2, 0xff);
	mp_seal(t, 44 + 20 + 10); /* ends inside the second processor */
	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), -EINVAL);
	/* APIC id 32 does not fit the guest. */
	len = mp_table(t, 1, 0xff);
	t[45] = 32;
	mp_seal(t, len);
	ck_assert_int_eq(pvh_mp_cpus(t, len, &seen, &why), -EINVAL);
}
END_TEST

static unsigned ioapics;

static void count_ioapic(unsigned id, uint32_t addr, uint32_t gsi)
{
	ck_assert_uint_eq(addr, 0xfec00000u + 0x10000u * id);
	ck_assert_uint_eq(gsi, 24u * id);
	ioapics++;
}

START_TEST(test_pvh_madt)
{
	uint8_t m[128] = {0};
	size_t len = 44;
	uint32_t seen = 0;
	const char *why;

	/* Two local APICs (the second disabled), an x2APIC, two IOAPICs. */
	m[len] = 0, m[len + 1] = 8, m[len + 3] = 0, m[len + 4] = 1;
	len += 8;
	m[len] = 0, m[len + 1] = 8, m[len + 3] = 5, m[len + 4] = 0;
	len += 8;
	m[len] = 9, m[len + 1] = 16, m[len + 4] = 1, m[len + 8] = 1;
	len += 16;
	for (unsigned i = 0; i < 2; i++, len += 12) {
		uint32_t addr = 0xfec00000u + 0x10000u * i, gsi = 24 * i;

		m[len] = 1, m[len + 1] = 12, m[len + 2] = (uint8_t)i;
		memcpy(m + len + 4, &addr, 4);
		memcpy(m + len + 8, &gsi, 4);
	}
	ioapics = 0;
	ck_assert_int_eq(pvh_madt_cpus(m, len, &seen, count_ioapic, &why), 0);
	ck_assert_uint_eq(seen, 0x3);
	ck_assert_uint_eq(ioapics, 2);
	ck_assert_int_eq(pvh_cpu_count(seen, &why), 2);
	/* An entry whose length runs past the table, or is 0 (a loop). */
	ck_assert_int_eq(pvh_madt_cpus(m, len - 1, &seen, NULL, &why), -EINVAL);
	m[45] = 0;
	ck_assert_int_eq(pvh_madt_cpus(m, len, &seen, NULL, &why), -EINVAL);
	ck_assert_int_eq(pvh_madt_cpus(m, 40, &seen, NULL, &why), -EINVAL);
	ck_assert_int_eq(pvh_cpu_count(0, &why), -EINVAL);
	ck_assert_int_eq(pvh_cpu_count(0xffffffffu, &why), 32);
}
END_TEST

/*
 * A device of QEMU 7.2 microvm's DSDT, as dumped from a guest: _HID
 * "LNRO0005", _UID, _CCA, then _CRS with Memory32Fixed and one Extended
 * Interrupt (GSI @gsi).
 */
static size_t aml_dev(uint8_t *p, uint32_t base, uint32_t gsi)
{
	static const uint8_t tmpl[] = {
		'L',  'N',  'R',  'O',	'0',  '0',  '0',  '5',	0x00,
		0x08, 0x5f, 0x55, 0x49, 0x44, 0x0a, 0x17, 0x08, 0x5f,
		0x43, 0x43, 0x41, 0x01, 0x08, 0x5f, 0x43, 0x52, 0x53,
		0x11, 0x1a, 0x0a, 0x17, 0x86, 0x09, 0x00, 0x01, 0x00,
		0x2e, 0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00, 0x89, 0x06,
		0x00, 0x01, 0x01, 0x2f, 0x00, 0x00, 0x00, 0x79, 0x00,
	};

	memcpy(p, tmpl, sizeof(tmpl));
	memcpy(p + 35, &base, 4);
	memcpy(p + 48, &gsi, 4);
	return sizeof(tmpl);
}

START_TEST(test_pvh_dsdt_qemu_microvm)
{
	uint8_t aml[256] = "DSDT";
	struct pvh_acpi_mmio d[2];
	const char *why;
	size_t len = 36;

	len += aml_dev(aml + len, 0xfeb02e00, 47);
	len += aml_dev(aml + len, 0xfeb02c00, 46);
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len, d, 2, &why), 2);
	ck_assert_uint_eq(d[0].base, 0xfeb02e00);
	ck_assert_uint_eq(d[0].size, 0x200);
	ck_assert_uint_eq(d[0].gsi, 47);
	ck_assert_uint_eq(d[1].base, 0xfeb02c00);
	ck_assert_uint_eq(d[1].gsi, 46);
	/* No room for a third; none at all in a table without devices. */
	len += aml_dev(aml + len, 0xfeb02a00, 45);
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len, d, 2, &why), -EINVAL);
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, 36, d, 2, &why), 0);
}
END_TEST

START_TEST(test_pvh_dsdt_refused)
{
	uint8_t aml[128] = "DSDT";
	struct pvh_acpi_mmio d[1];
	const char *why;
	size_t len = 36 + aml_dev(aml + 36, 0xfeb02e00, 47);

	/* Cut inside the interrupt descriptor. */
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len - 5, d, 1, &why),
			 -EINVAL);
	/* A window below the hole, or too small. */
	aml_dev(aml + 36, 0x10000000, 47);
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len, d, 1, &why), -EINVAL);
	aml_dev(aml + 36, 0xfeb02e00, 47);
	aml[36 + 39] = 0x00; /* length 0x100 */
	aml[36 + 40] = 0x01;
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len, d, 1, &why), -EINVAL);
	/* Two interrupts instead of one: not this shape. */
	aml_dev(aml + 36, 0xfeb02e00, 47);
	aml[36 + 47] = 2;
	ck_assert_int_eq(pvh_dsdt_virtio_mmio(aml, len, d, 1, &why), -EINVAL);
}
END_TEST

static Suite *pvh_parse_suite(void)
{
	Suite *s = suite_create("pvh_parse");
	TCase *tc = tcase_create("pvh");

	tcase_add_test(tc, test_pvh_virtio_mmio_qemu_words);
	tcase_add_test(tc, test_pvh_virtio_mmio_refused);
	tcase_add_test(tc, test_pvh_virtio_mmio_bounded_by_len);
	tcase_add_test(tc, test_pvh_ram_qemu_map);
	tcase_add_test(tc, test_pvh_ram_clip_and_refuse);
	tcase_add_test(tc, test_pvh_mp_table);
	tcase_add_test(tc, test_pvh_madt);
	tcase_add_test(tc, test_pvh_dsdt_qemu_microvm);
	tcase_add_test(tc, test_pvh_dsdt_refused);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(pvh_parse_suite)
