/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bytes as lowercase hex, the way ioguard shows a policy file's SHA-256 everywhere. */
#ifndef IOGUARD_HEX_H
#define IOGUARD_HEX_H

#include <stddef.h>
#include <stdint.h>

/* hex_encode() - @n bytes of @bytes as lowercase hex into @hex: 2 * @n + 1 bytes, NUL-ended. */
void hex_encode(const uint8_t *bytes, size_t n, char *hex);

#endif /* IOGUARD_HEX_H */
