/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Test helper for the sysfs fixtures under tests/fixtures/sysfs. */
#ifndef IOGUARD_TEST_FIXTURE_HELPERS_H
#define IOGUARD_TEST_FIXTURE_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/*
 * Git keeps no empty directory, so the one a fixture needs empty (a group without
 * devices) is made here, before any test reads it. Returns 0 or -errno.
 */
static inline int fixture_make_empty_dirs(void)
{
	static const char *const dirs[] = {
		"tests/fixtures/sysfs/odd-empty-group/sys/kernel/iommu_groups/7/devices",
	};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (mkdir(dirs[i], 0755) && errno != EEXIST) {
			fprintf(stderr, "cannot create %s: %m (run the tests from the repo root)\n",
				dirs[i]);
			return -errno;
		}
	}
	return 0;
}

#endif /* IOGUARD_TEST_FIXTURE_HELPERS_H */
