/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Hex digits: bytes shown as ioguard shows a policy file's SHA-256, and fields read back. */
#ifndef IOGUARD_HEX_H
#define IOGUARD_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hex_encode() - @n bytes of @bytes as lowercase hex into @hex: 2 * @n + 1 bytes, NUL-ended. */
void hex_encode(const uint8_t *bytes, size_t n, char *hex);

/* hex_parse() - exactly @n hex digits (either case) at @s into @out; false if one is not. */
bool hex_parse(const char *s, size_t n, uint32_t *out);

#endif /* IOGUARD_HEX_H */
