/* SPDX-License-Identifier: MIT */
/*
 * guest/include/pci.h - PCI Express configuration through ECAM (MMIO, so
 * it works at CPL 3, where PVM forbids the CF8/CFC ports), enumeration of
 * the functions behind the host bridge and its bridges, and BAR sizing and
 * placement. Only under a PVH loader on a PC machine (QEMU q35): buddyvm
 * has no PCI.
 *
 * Where ECAM is: the ACPI MCFG table's segment-0 entry when the loader
 * gave an RSDP (no MCFG there, as on microvm: no PCI). Without an RSDP,
 * q35's default 0xB0000000 (buses 0-255, where SeaBIOS programs
 * PCIEXBAR), used only if function 00:00.0 answers there.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_ECAM_Q35_DEFAULT 0xB0000000ull
#define PCI_MAX_FUNCS	     64

struct pci_func {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t int_pin;	/* 1..4 = INTA..INTD, 0 none */
	volatile uint32_t *cfg; /* its 4 KiB of ECAM */
};

/*
 * pci_init() - find ECAM and list every function once (later calls return
 * the first result). Return: the number of functions (0: no PCI here).
 */
unsigned pci_init(void);
struct pci_func *pci_func_get(unsigned i);

uint32_t pci_cfg_read32(const struct pci_func *f, unsigned off);
void pci_cfg_write32(const struct pci_func *f, unsigned off, uint32_t v);
uint16_t pci_cfg_read16(const struct pci_func *f, unsigned off);
void pci_cfg_write16(const struct pci_func *f, unsigned off, uint16_t v);

/**
 * pci_bar_map() - size memory BAR @bar of @f (decoding off meanwhile) and
 * return where it is, placing it if the firmware left it unassigned or
 * above 4 GiB (the identity map's end): downward from the lowest address
 * the firmware used below the IOAPIC, not below the end of ECAM or of RAM
 * under 4 GiB. Enables memory decoding and bus mastering.
 * Return: 0 with *@addr and *@size, -ENOENT (no such memory BAR),
 * -ENOSPC (no room to place it).
 */
int pci_bar_map(struct pci_func *f, unsigned bar, uint64_t *addr,
		uint64_t *size);

/*
 * PCI INTx on a PC arrives at IOAPIC inputs 16-23, which input depending
 * on the chipset's routing (ACPI _PRT, AML we do not interpret): all eight
 * go to one vector, GUEST_VEC_DEVICE + PCI_INTX_IRQ, and every INTx
 * device reads its ISR when that bit is set, as drivers of a shared line.
 */
#define PCI_INTX_GSI_FIRST 16
#define PCI_INTX_GSI_LAST  23
#define PCI_INTX_IRQ	   16
/* MSI-X: vector GUEST_VEC_DEVICE + slot, slots 15 down to 0. */
#define PCI_MSIX_FIRST_SLOT 15

#endif /* GUEST_PCI_H */
