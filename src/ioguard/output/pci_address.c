// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci_address.h"

/* Exactly @n hex digits at @s into @out. */
static bool hex_digits(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v << 4 | (isdigit((unsigned char)s[i]) ? s[i] - '0' :
			      tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = v;
	return true;
}

int pci_address_parse(const char *s, struct pci_address *out)
{
	const char *bus = s, *colon = strchr(s, ':');
	uint32_t domain = 0, b, dev, fn;
	size_t domain_len;

	if (colon && strchr(colon + 1, ':')) {
		domain_len = colon - s;
		if (domain_len < 4 || domain_len > 8 || !hex_digits(s, domain_len, &domain))
			return -EINVAL;
		bus = colon + 1;
	}
	if (strlen(bus) != 7 || bus[2] != ':' || bus[5] != '.' || !hex_digits(bus, 2, &b) ||
	    !hex_digits(bus + 3, 2, &dev) || !hex_digits(bus + 6, 1, &fn))
		return -EINVAL;
	*out = (struct pci_address){ .domain = domain, .bus = b, .dev = dev, .fn = fn };
	return dev > 0x1f || fn > 7 ? -ERANGE : 0;
}

int pci_address_name(const struct pci_address *a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->fn);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
