// SPDX-License-Identifier: MIT
/*
 * guest/acpi.c - RSDP -> XSDT/RSDT -> a table by signature, at CPL 3.
 * Reads plain memory (the tables are in RAM the loader reserved), every
 * length and checksum checked, nothing above the 4 GiB identity map.
 */
#include "acpi.h"
#include "guest.h"

#define ACPI_MAPPED_END 0x100000000ull /* both hosts map [0, 4 GiB) */
#define ACPI_MAX_TABLE	(1u << 20)     /* no table we read is this large */

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (RSDT only), 2: XSDT */
	uint32_t rsdt;
	uint32_t length; /* revision >= 2 */
	uint64_t xsdt;
	uint8_t xchecksum; /* of all @length bytes */
	uint8_t reserved[3];
} __attribute__((packed));

static uint8_t acpi_sum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return s;
}

static bool acpi_mapped(uint64_t addr, uint64_t len)
{
	return addr && addr < ACPI_MAPPED_END && len <= ACPI_MAPPED_END - addr;
}

/* A table at @addr whose header, length and checksum hold. */
static const struct acpi_sdt_header *acpi_table_at(uint64_t addr)
{
	const struct acpi_sdt_header *h;

	if (!acpi_mapped(addr, sizeof(*h)))
		return NULL;
	h = (const void *)(uintptr_t)addr;
	if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE ||
	    !acpi_mapped(addr, h->length) || acpi_sum(h, h->length) != 0)
		return NULL;
	return h;
}

const struct acpi_sdt_header *acpi_find_table(const char sig[4])
{
	const struct acpi_rsdp *rsdp;
	const struct acpi_sdt_header *root, *t;
	unsigned entry_bytes, n;
	const uint8_t *entries;

	if (!acpi_mapped(guest_boot.rsdp, sizeof(*rsdp)))
		return NULL;
	rsdp = (const void *)(uintptr_t)guest_boot.rsdp;
	if (memcmp(rsdp->signature, "RSD PTR ", 8) != 0 ||
	    acpi_sum(rsdp, 20) != 0)
		return NULL;
	if (rsdp->revision >= 2 && rsdp->length >= sizeof(*rsdp) &&
	    acpi_sum(rsdp, sizeof(*rsdp)) == 0 && rsdp->xsdt) {
		root = acpi_table_at(rsdp->xsdt);
		entry_bytes = 8;
	} else {
		root = acpi_table_at(rsdp->rsdt);
		entry_bytes = 4;
	}
	if (!root)
		return NULL;
	entries = (const uint8_t *)root + sizeof(*root);
	n = (root->length - (unsigned)sizeof(*root)) / entry_bytes;
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr = 0;

		memcpy(&addr, entries + (size_t)i * entry_bytes, entry_bytes);
		t = acpi_table_at(addr);
		if (t && memcmp(t->signature, sig, 4) == 0)
			return t;
	}
	return NULL;
}
