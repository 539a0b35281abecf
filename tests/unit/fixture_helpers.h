/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Test helper for the fixture trees under tests/fixtures/ (sysfs, host). */
#ifndef IOGUARD_TEST_FIXTURE_HELPERS_H
#define IOGUARD_TEST_FIXTURE_HELPERS_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Root of the fixtures: the tree in use, set by find_fixture_tree(). */
static char fixtures[PATH_MAX + 64];

/*
 * find_fixture_tree() - tests/fixtures/@tree from the source tree (the first choice when
 * @probe, an entry of it, is there) or beside build/tests* where the binary runs.
 */
static inline int find_fixture_tree(const char *tree, const char *probe)
{
	char exe[PATH_MAX], path[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "tests/fixtures/%s/%s", tree, probe);
	if (!access(path, F_OK)) {
		snprintf(fixtures, sizeof(fixtures), "tests/fixtures/%s", tree);
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
	snprintf(fixtures, sizeof(fixtures), "%.3000s/../../tests/fixtures/%s", exe, tree);
	return access(fixtures, F_OK) ? -ENOENT : 0;
}

/* The sysfs fixtures: $IOGUARD_FIXTURES, or tests/fixtures/sysfs found as above. */
static inline int find_fixtures(void)
{
	const char *env = getenv("IOGUARD_FIXTURES");

	if (env) {
		snprintf(fixtures, sizeof(fixtures), "%s", env);
		return 0;
	}
	return find_fixture_tree("sysfs", "q35-host");
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
