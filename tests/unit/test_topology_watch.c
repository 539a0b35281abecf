// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/host/topology_watch.c on sysfs fixtures. The watched root is a symlink
 * the test points at one fixture, then another: the watch's thread must queue what
 * changed and make its fd readable by its next rescan (TOPOLOGY_WATCH_RESCAN_MS; a
 * test cannot forge the kernel's uevents, which only a sender of port 0 may send), and
 * report a root it can no longer read as a note, not as changes. Setting up on an
 * unreadable root fails with its cause. So the test waits up to two rescans.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture_helpers.h"
#include "host/topology_watch.h"

/* A rescan, and time to spare on a loaded machine or under valgrind. */
#define WAIT_MS (TOPOLOGY_WATCH_RESCAN_MS + 5000)

struct tmp {
	char dir[64];
	char root[128];		/* the symlink the watch reads */
	char broken[128];	/* a root whose sys/kernel/iommu_groups is a file */
};

static void make_tmp(struct tmp *t)
{
	char path[256];
	FILE *f;

	strcpy(t->dir, "/tmp/ioguard-test-topology-watch-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->root, sizeof(t->root), "%s/root", t->dir);
	snprintf(t->broken, sizeof(t->broken), "%s/broken", t->dir);
	assert_int_equal(mkdir(t->broken, 0700), 0);
	snprintf(path, sizeof(path), "%s/sys", t->broken);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel", t->broken);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", t->broken);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void remove_tmp(struct tmp *t)
{
	char path[256];

	unlink(t->root);
	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", t->broken);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/kernel", t->broken);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", t->broken);
	rmdir(path);
	rmdir(t->broken);
	rmdir(t->dir);
}

/* Points the watched root at @target, atomically (the thread may be reading). */
static void point_root(const struct tmp *t, const char *target)
{
	char next[160];

	snprintf(next, sizeof(next), "%s.next", t->root);
	unlink(next);
	assert_int_equal(symlink(target, next), 0);
	assert_int_equal(rename(next, t->root), 0);
}

static void fixture_path(const char *name, char *out)
{
	char rel[PATH_MAX + 128];

	snprintf(rel, sizeof(rel), "%s/%s", fixtures, name);
	assert_non_null(realpath(rel, out));
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static void test_unreadable_root(void **state)
{
	struct topology_watch *w = (void *)1;
	char note[256];
	struct tmp t;

	make_tmp(&t);
	assert_int_equal(topology_watch__new(t.broken, &w, note, sizeof(note)), -ENOTDIR);
	assert_null(w);
	assert_string_equal(note, "cannot read the IOMMU groups: Not a directory");
	remove_tmp(&t);
	topology_watch__free(NULL);
}

static void test_changes_then_note(void **state)
{
	char one[PATH_MAX], both[PATH_MAX], note[256];
	struct topology_change *changes;
	struct topology_watch *w;
	struct tmp t;

	make_tmp(&t);
	fixture_path("q35-one-vfio", one);
	fixture_path("q35-both-vfio", both);
	point_root(&t, one);
	assert_int_equal(topology_watch__new(t.root, &w, note, sizeof(note)), 0);
	/* Without a uevent socket the note says why; with one it is empty. */
	if (topology_watch__uevents(w))
		assert_string_equal(note, "");
	else
		print_message("rescans alone here: %s\n", note);

	/* Nothing changed since the first read. */
	assert_false(readable(topology_watch__fd(w), 0));
	assert_int_equal(topology_watch__take(w, &changes, note, sizeof(note)), 0);
	assert_null(changes);
	assert_string_equal(note, "");

	/* e1000 of group 1 goes to vfio-pci: one change, by the next rescan. */
	point_root(&t, both);
	assert_true(readable(topology_watch__fd(w), WAIT_MS));
	assert_int_equal(topology_watch__take(w, &changes, note, sizeof(note)), 1);
	assert_string_equal(note, "");
	assert_int_equal(changes[0].kind, TOPOLOGY_DRIVER_CHANGED);
	assert_int_equal(changes[0].group, 1);
	assert_string_equal(changes[0].device, "0000:01:02.0");
	assert_string_equal(changes[0].from, "e1000");
	assert_string_equal(changes[0].to, "vfio-pci");
	free(changes);
	/* take() drained the fd and the queue. */
	assert_false(readable(topology_watch__fd(w), 0));
	assert_int_equal(topology_watch__take(w, &changes, note, sizeof(note)), 0);
	assert_null(changes);

	/* A root that cannot be read any more: a note, and no change is made up. */
	point_root(&t, t.broken);
	assert_true(readable(topology_watch__fd(w), WAIT_MS));
	assert_int_equal(topology_watch__take(w, &changes, note, sizeof(note)), 0);
	assert_null(changes);
	assert_string_equal(note, "cannot reread the IOMMU groups: Not a directory");
	/* The note is handed over once. */
	assert_int_equal(topology_watch__take(w, &changes, note, sizeof(note)), 0);
	assert_string_equal(note, "");

	topology_watch__free(w);
	remove_tmp(&t);
}

static int setup(void **state)
{
	return find_fixtures();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreadable_root),
		cmocka_unit_test(test_changes_then_note),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
