/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Time measured for deadlines and intervals: CLOCK_MONOTONIC, never the wall clock. */
#ifndef IOGUARD_CLOCK_H
#define IOGUARD_CLOCK_H

#include <time.h>

/* Milliseconds since @since, a CLOCK_MONOTONIC reading. */
static inline long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

#endif /* IOGUARD_CLOCK_H */
