/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Test helper for the sysfs fixtures under tests/fixtures/sysfs. */
#ifndef IOGUARD_TEST_FIXTURE_HELPERS_H
#define IOGUARD_TEST_FIXTURE_HELPERS_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Root of the fixtures: $IOGUARD_FIXTURES, ./tests/fixtures/sysfs, or beside the binary. */
static char fixtures[PATH_MAX + 64];

static inline int find_fixtures(void)
{
	const char *env = getenv("IOGUARD_FIXTURES");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env) {
		snprintf(fixtures, sizeof(fixtures), "%s", env);
		return 0;
	}
	if (!access("tests/fixtures/sysfs/q35-host", F_OK)) {
		snprintf(fixtures, sizeof(fixtures), "tests/fixtures/sysfs");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* build/tests/test_x or build/tests-san/test_x */
	snprintf(fixtures, sizeof(fixtures), "%s/../../tests/fixtures/sysfs", exe);
	return access(fixtures, F_OK) ? -ENOENT : 0;
}


/*
 * Git keeps no empty directory, so the one a fixture needs empty (a group without
 * devices) is made here, under the root find_fixtures() found, before any test reads it.
 * Returns 0 or -errno.
 */
static inline int fixture_make_empty_dirs(void)
{
	static const char *const dirs[] = {
		"odd-empty-group/sys/kernel/iommu_groups/7/devices",
	};
	char path[PATH_MAX + 128];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fixtures, dirs[i]);
		if (mkdir(path, 0755) && errno != EEXIST) {
			fprintf(stderr, "cannot create %s: %m\n", path);
			return -errno;
		}
	}
	return 0;
}

#endif /* IOGUARD_TEST_FIXTURE_HELPERS_H */
