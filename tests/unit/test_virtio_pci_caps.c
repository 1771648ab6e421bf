// SPDX-License-Identifier: MIT
/*
 * Unit tests for guest/virtio/pci_caps.c: the guest's walk of a virtio-pci
 * function's capability list, over synthetic configuration spaces laid out
 * as QEMU's virtio-pci lays them out (and broken in the ways a hostile or
 * buggy device could break them).
 */
#include <stdint.h>
#include <string.h>

#include "guest/virtio/pci_caps.h"
#include "unit.h"

struct space {
	uint8_t b[PCI_CFG_SPACE_BYTES];
	unsigned reads;
};

static uint32_t space_read32(const void *ctx, unsigned off)
{
	struct space *s = (struct space *)ctx;

	ck_assert_uint_eq(off % 4, 0); /* ECAM is read a word at a time */
	ck_assert_uint_lt(off, sizeof(s->b));
	s->reads++;
	return (uint32_t)s->b[off] | (uint32_t)s->b[off + 1] << 8 |
	       (uint32_t)s->b[off + 2] << 16 | (uint32_t)s->b[off + 3] << 24;
}

static void put16(struct space *s, unsigned off, uint16_t v)
{
	s->b[off] = (uint8_t)v;
	s->b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(struct space *s, unsigned off, uint32_t v)
{
	put16(s, off, (uint16_t)v);
	put16(s, off + 2, (uint16_t)(v >> 16));
}

/* A virtio vendor capability at @pos; returns where the next may go. */
static unsigned put_vcap(struct space *s, unsigned pos, unsigned next,
			 uint8_t type, uint8_t bar, uint32_t off, uint32_t len)
{
	unsigned caplen = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;

	s->b[pos] = PCI_CAP_ID_VNDR;
	s->b[pos + 1] = (uint8_t)next;
	s->b[pos + 2] = (uint8_t)caplen;
	s->b[pos + 3] = type;
	s->b[pos + 4] = bar;
	put32(s, pos + 8, off);
	put32(s, pos + 12, len);
	return pos + caplen;
}

/*
 * Laid out as QEMU 7.2's virtio-blk-pci, modern: MSI-X first (table in
 * BAR 1), then common, ISR, device and notify (multiplier 4), all in BAR
 * 4, and a PCI cfg access capability (type 5) last.
 */
static void qemu_like(struct space *s)
{
	memset(s, 0, sizeof(*s));
	put16(s, PCI_CFG_VENDOR_ID, PCI_VENDOR_VIRTIO);
	put16(s, PCI_CFG_DEVICE_ID, PCI_DEVICE_VIRTIO_MODERN + 2);
	put16(s, PCI_CFG_STATUS, PCI_STATUS_CAP_LIST);
	s->b[PCI_CFG_CAP_PTR] = 0x98;
	s->b[0x98] = PCI_CAP_ID_MSIX;
	s->b[0x99] = 0x84;
	put16(s, 0x9a, 2 - 1);	   /* 2 entries */
	put32(s, 0x9c, 0 | 1);	   /* table at BAR 1 + 0 */
	put32(s, 0xa0, 0x800 | 1); /* PBA */
	put_vcap(s, 0x84, 0x74, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
	put_vcap(s, 0x74, 0x64, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
	put_vcap(s, 0x64, 0x50, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
	put_vcap(s, 0x50, 0x40, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
	put32(s, 0x50 + 16, 4);
	put_vcap(s, 0x40, 0x00, 5, 0, 0, 0);
}

START_TEST(test_pci_caps_qemu_layout)
{
	struct space s;
	struct vpci_caps c;

	qemu_like(&s);
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), 0);
	ck_assert(c.common.present && c.notify.present && c.isr.present &&
		  c.device.present);
	ck_assert_uint_eq(c.common.bar, 4);
	ck_assert_uint_eq(c.common.offset, 0);
	ck_assert_uint_eq(c.common.length, 0x1000);
	ck_assert_uint_eq(c.isr.offset, 0x1000);
	ck_assert_uint_eq(c.device.offset, 0x2000);
	ck_assert_uint_eq(c.notify.offset, 0x3000);
	ck_assert_uint_eq(c.notify_off_multiplier, 4);
	ck_assert_uint_eq(c.msix_cap, 0x98);
	ck_assert_uint_eq(c.msix_entries, 2);
	ck_assert_uint_eq(c.msix_bar, 1);
	ck_assert_uint_eq(c.msix_offset, 0);
	/* Each structure inside a 16 KiB BAR, none in a 12 KiB one's end. */
	ck_assert(vpci_region_fits(&c.notify, 0x4000, 2));
	ck_assert(!vpci_region_fits(&c.notify, 0x3800, 2));
	ck_assert(!vpci_region_fits(&c.common, 0x4000, 0x2000));
	/* Word reads only, and few of them: each is a VM exit in the guest. */
	ck_assert_uint_le(s.reads, 64);
}
END_TEST

START_TEST(test_pci_caps_first_of_each_type_wins)
{
	struct space s;
	struct vpci_caps c;

	qemu_like(&s);
	/* A second notify capability after the first: ignored. */
	s.b[0x41] = 0xc0;
	put_vcap(&s, 0xc0, 0, VIRTIO_PCI_CAP_NOTIFY_CFG, 2, 0x5000, 0x100);
	put32(&s, 0xc0 + 16, 8);
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), 0);
	ck_assert_uint_eq(c.notify.bar, 4);
	ck_assert_uint_eq(c.notify_off_multiplier, 4);
}
END_TEST

START_TEST(test_pci_caps_skips_reserved_bar_and_short_caps)
{
	struct space s;
	struct vpci_caps c;

	qemu_like(&s);
	/* The first common capability names BAR 6 (reserved): skipped, and a
	 * later good one is used. */
	s.b[0x84 + 4] = 6;
	s.b[0x41] = 0xc0;
	put_vcap(&s, 0xc0, 0xe0, VIRTIO_PCI_CAP_COMMON_CFG, 2, 0x100, 0x100);
	/* A notify capability 16 bytes long has no multiplier: skipped. */
	put_vcap(&s, 0xe0, 0, VIRTIO_PCI_CAP_NOTIFY_CFG, 3, 0, 0x100);
	s.b[0xe2] = 16;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), 0);
	ck_assert_uint_eq(c.common.bar, 2);
	ck_assert_uint_eq(c.common.offset, 0x100);
	ck_assert_uint_eq(c.notify.bar, 4);
}
END_TEST

START_TEST(test_pci_caps_refuses_broken_lists)
{
	struct space s;
	struct vpci_caps c;

	/* No capability list bit. */
	qemu_like(&s);
	put16(&s, PCI_CFG_STATUS, 0);
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
	/* A pointer into the header. */
	qemu_like(&s);
	s.b[0x75] = 0x20;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
	/* No notify structure. */
	qemu_like(&s);
	s.b[0x50 + 3] = 0x77;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
	/* A common structure too short for the fields we use. */
	qemu_like(&s);
	put32(&s, 0x84 + 12, VPCI_COMMON_CFG_LEN - 1);
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
	/* An MSI-X table in BAR 7. */
	qemu_like(&s);
	put32(&s, 0x9c, 7);
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
	/* A capability whose body runs past the 256 bytes: ignored. */
	qemu_like(&s);
	s.b[0x41] = 0xfc;
	s.b[0xfc] = PCI_CAP_ID_VNDR;
	s.b[0xfe] = 16;
	s.b[0xff] = VIRTIO_PCI_CAP_ISR_CFG;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), 0);
	ck_assert_uint_eq(c.isr.bar, 4);
}
END_TEST

START_TEST(test_pci_caps_loop_ends)
{
	struct space s;
	struct vpci_caps c;
	unsigned before;

	/* The list loops back on itself after the structures: the walk stops
	 * after a bounded number of capabilities and still succeeds. */
	qemu_like(&s);
	s.b[0x41] = 0x98;
	s.reads = 0;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), 0);
	before = s.reads;
	ck_assert_uint_lt(before, 48 * 8);
	/* A capability pointing at itself. */
	qemu_like(&s);
	s.b[0x99] = 0x98;
	ck_assert_int_eq(vpci_parse_caps(space_read32, &s, &c), -19);
}
END_TEST

START_TEST(test_pci_caps_region_overflow)
{
	struct vpci_region r = {true, 0, 0xfffffff0u, 0x20};

	/* offset + length wraps 32 bits: computed in 64, so it does not fit. */
	ck_assert(!vpci_region_fits(&r, 0x100000000ull, 1));
	r = (struct vpci_region){true, 0, 0, 0};
	ck_assert(vpci_region_fits(&r, 0x1000, 0));
	ck_assert(!vpci_region_fits(&r, 0x1000, 1));
	r.present = false;
	ck_assert(!vpci_region_fits(&r, 0x1000, 0));
}
END_TEST

static Suite *virtio_pci_caps_suite(void)
{
	Suite *s = suite_create("virtio_pci_caps");
	TCase *tc = tcase_create("caps");

	tcase_add_test(tc, test_pci_caps_qemu_layout);
	tcase_add_test(tc, test_pci_caps_first_of_each_type_wins);
	tcase_add_test(tc, test_pci_caps_skips_reserved_bar_and_short_caps);
	tcase_add_test(tc, test_pci_caps_refuses_broken_lists);
	tcase_add_test(tc, test_pci_caps_loop_ends);
	tcase_add_test(tc, test_pci_caps_region_overflow);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(virtio_pci_caps_suite)
