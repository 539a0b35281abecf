/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef IOGUARD_ARRAY_SIZE_H
#define IOGUARD_ARRAY_SIZE_H

/* Elements of an array (not a pointer: that would divide a pointer's size). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* IOGUARD_ARRAY_SIZE_H */
