// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/policy_watch.c with real inotify on a temporary directory: every
 * way a policy file gets changed must be noticed (in place, rename over, a symlink's
 * target in another directory, a Kubernetes ConfigMap `..data` swap, repeatedly), and a
 * file next to it that changes must not be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/ioguard/policy_watch.h"

struct fixture {
	char dir[64];
	char path[PATH_MAX];		/* what the daemon was given */
	struct policy_watch *w;
};

static void at(const struct fixture *f, char *out, const char *name)
{
	assert_true(strlen(f->dir) + 1 + strlen(name) < PATH_MAX);
	strcpy(out, f->dir);
	strcat(out, "/");
	strcat(out, name);
}

static void put(const struct fixture *f, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *fp;

	at(f, p, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* An editor's save: a new file renamed over the old name. */
static void replace(const struct fixture *f, const char *name, const char *text)
{
	char tmp_name[PATH_MAX], tmp[PATH_MAX], p[PATH_MAX];

	snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", name);
	put(f, tmp_name, text);
	at(f, tmp, tmp_name);
	at(f, p, name);
	assert_int_equal(rename(tmp, p), 0);
}

static void mk(const struct fixture *f, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void ln(const struct fixture *f, const char *target, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(symlink(target, p), 0);
}

static void watch(struct fixture *f, const char *name)
{
	at(f, f->path, name);
	assert_int_equal(policy_watch__new(f->path, &f->w), 0);
	if (policy_watch__polling(f->w))
		skip();
	/* Nothing happened yet. */
	assert_false(policy_watch__changed(f->w));
}

static void expect_changed(struct fixture *f, const char *what)
{
	if (!policy_watch__changed(f->w))
		fail_msg("%s was not noticed", what);
	/* Reported once. */
	assert_false(policy_watch__changed(f->w));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ioguard-test-watch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	policy_watch__free(f->w);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void test_in_place_and_rename(void **state)
{
	struct fixture *f = *state;

	put(f, "policy.yaml", "name: a\n");
	watch(f, "policy.yaml");
	put(f, "policy.yaml", "name: bb\n");
	expect_changed(f, "a write in place");
	replace(f, "policy.yaml", "name: ccc\n");
	expect_changed(f, "a rename over the file");
	/* Another file of the directory is not the policy. */
	put(f, "other.yaml", "name: x\n");
	assert_false(policy_watch__changed(f->w));
}

/* Finding 14: the path is a symlink to a file in another directory, edited there. */
static void test_symlink_target_in_another_directory(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];

	mk(f, "etc");
	mk(f, "srv");
	put(f, "srv/real.yaml", "name: a\n");
	at(f, target, "srv/real.yaml");
	ln(f, target, "etc/policy.yaml");
	watch(f, "etc/policy.yaml");
	put(f, "srv/real.yaml", "name: bb\n");
	expect_changed(f, "a write to the symlink's target");
	replace(f, "srv/real.yaml", "name: ccc\n");
	expect_changed(f, "a rename over the symlink's target");
	put(f, "srv/unrelated.yaml", "name: x\n");
	assert_false(policy_watch__changed(f->w));
}

/* A ConfigMap update as the kubelet does it (AtomicWriter). */
static void configmap_update(const struct fixture *f, const char *version, const char *old,
			     const char *text)
{
	char name[PATH_MAX], from[PATH_MAX], to[PATH_MAX];

	mk(f, version);
	snprintf(name, sizeof(name), "%s/policy.yaml", version);
	put(f, name, text);
	ln(f, version, "..data_tmp");
	at(f, from, "..data_tmp");
	at(f, to, "..data");
	assert_int_equal(rename(from, to), 0);
	snprintf(name, sizeof(name), "%s/policy.yaml", old);
	at(f, from, name);
	assert_int_equal(unlink(from), 0);
	at(f, from, old);
	assert_int_equal(rmdir(from), 0);
}

/* Finding 14: dir/policy.yaml -> ..data/policy.yaml, ..data -> ..v1, swapped twice. */
static void test_configmap_data_swap(void **state)
{
	struct fixture *f = *state;

	mk(f, "..v1");
	put(f, "..v1/policy.yaml", "name: a\n");
	ln(f, "..v1", "..data");
	ln(f, "..data/policy.yaml", "policy.yaml");
	watch(f, "policy.yaml");
	configmap_update(f, "..v2", "..v1", "name: bb\n");
	expect_changed(f, "a ConfigMap update");
	/* The watch followed the swap: the next update is seen too. */
	configmap_update(f, "..v3", "..v2", "name: ccc\n");
	expect_changed(f, "a second ConfigMap update");
}

/* A missing file is an error for the loader, not for the watch: it waits for it. */
static void test_file_created_later(void **state)
{
	struct fixture *f = *state;

	watch(f, "policy.yaml");
	put(f, "policy.yaml", "name: a\n");
	expect_changed(f, "the file's creation");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_in_place_and_rename),
		T(test_symlink_target_in_another_directory),
		T(test_configmap_data_swap),
		T(test_file_created_later),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
