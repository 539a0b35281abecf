// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "pci_address.h"

int pci_address_parse(const char *s, struct pci_address *out)
{
	const char *bus = s, *colon = strchr(s, ':');
	uint32_t domain = 0, b, dev, fn;
	size_t domain_len;

	if (colon && strchr(colon + 1, ':')) {
		domain_len = colon - s;
		if (domain_len < 4 || domain_len > 8 || !hex_parse(s, domain_len, &domain))
			return -EINVAL;
		bus = colon + 1;
	}
	if (strlen(bus) != 7 || bus[2] != ':' || bus[5] != '.' || !hex_parse(bus, 2, &b) ||
	    !hex_parse(bus + 3, 2, &dev) || !hex_parse(bus + 6, 1, &fn))
		return -EINVAL;
	*out = (struct pci_address){ .domain = domain, .bus = b, .dev = dev, .fn = fn };
	return dev > 0x1f || fn > 7 ? -ERANGE : 0;
}

int pci_address_name(const struct pci_address *a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->fn);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
