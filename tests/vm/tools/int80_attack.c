// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * int80_attack: the 64-bit twin of lab32/compat_attack. The source is shared on purpose:
 * both must issue byte-identical ioctls, one from an IA-32 process and one through
 * `int $0x80` from a 64-bit process, so a difference in how they are judged can only
 * come from the way in. See tests/vm/tools32/compat_attack.c.
 */
#include "../tools32/compat_attack.c"
