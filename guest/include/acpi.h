/* SPDX-License-Identifier: MIT */
/*
 * guest/include/acpi.h - finding ACPI tables under a PVH loader (QEMU
 * passes the RSDP in start_info). Under buddyvm there is none: the FDT
 * says everything.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

/* The header every ACPI system description table starts with. */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/**
 * acpi_find_table() - the first table with @sig in the XSDT (ACPI 2+) or
 * RSDT of the RSDP at guest_boot.rsdp (PVH start_info; 0: none), with a
 * valid checksum and length, lying below 4 GiB (what the
 * identity map covers). NULL if there is no RSDP, no such table, or the
 * tables are malformed (the firmware's word is checked, not trusted).
 */
const struct acpi_sdt_header *acpi_find_table(const char sig[4]);

#endif /* GUEST_ACPI_H */
