/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A PCI device's address as the kernel names it (sysfs, `lspci -D`): the one grammar
 * that a policy's `bdf` and `ioguard trace --device` both read.
 */
#ifndef IOGUARD_PCI_ADDRESS_H
#define IOGUARD_PCI_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

struct pci_address {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev;	/* 0x00-0x1f */
	uint8_t fn;	/* 0-7 */
};

/*
 * pci_address_parse() - [DOMAIN:]BUS:DEVICE.FUNCTION in hex digits of either case:
 * DOMAIN 4 to 8 digits (VMD domains have 5; without it, 0000), BUS and DEVICE 2, FUNCTION 1.
 * Return: 0; -EINVAL for text of another shape; -ERANGE for a DEVICE above 0x1f or a
 * FUNCTION above 7, with @out filled so that a message can say which.
 */
int pci_address_parse(const char *s, struct pci_address *out);

/*
 * pci_address_name() - the kernel's name of @a ("0000:00:03.0") into @buf. Return: 0, or
 * -ENAMETOOLONG when it does not fit @len bytes (@buf then holds nothing usable).
 */
int pci_address_name(const struct pci_address *a, char *buf, size_t len);

#endif /* IOGUARD_PCI_ADDRESS_H */
