// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "hex.h"

void hex_encode(const uint8_t *bytes, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	hex[2 * n] = '\0';
}
