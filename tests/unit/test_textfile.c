// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/metrics/textfile.c: atomic replacement, mode, clear errors for paths that
 * cannot be written (chosen to fail for root too), and no partial or temporary file left
 * behind after a failure at any step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/textfile.h"

struct dir_fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct dir_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ioguard-test-textfile-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ioguard.prom", f->dir);
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct dir_fixture *f = *state;

	chmod(f->dir, 0755);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, fp), n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Entries of @dir other than . and .., as "a b c" in readdir order. */
static int count_entries(const char *dir, char *names, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	names[0] = '\0';
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		strncat(names, de->d_name, size - strlen(names) - 2);
		strcat(names, " ");
	}
	closedir(d);
	return n;
}

/* write_ok() asserts success; write_err() a given errno and message. */
static void write_ok(const char *path, const char *text)
{
	struct errbuf eb = { .note = NULL };

	if (textfile_write(path, text, strlen(text), &eb))
		fail_msg("textfile_write(%s): %s", path, eb.msg);
}

static void write_err(int err, const char *path, const char *want_msg)
{
	struct errbuf eb = { .note = NULL };

	assert_int_equal(textfile_write(path, "x 1\n", 4, &eb), err);
	if (!strstr(eb.msg, want_msg))
		fail_msg("message '%s' lacks '%s'", eb.msg, want_msg);
}

static void test_write_and_replace(void **state)
{
	struct dir_fixture *f = *state;
	char names[256], *text;
	struct stat st;
	mode_t old = umask(0077);

	write_ok(f->path, "a 1\n");
	umask(old);
	text = slurp(f->path);
	assert_string_equal(text, "a 1\n");
	free(text);
	/* 0644 whatever the umask: node_exporter reads it as another user. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	write_ok(f->path, "b 2\nc 3\n");
	text = slurp(f->path);
	assert_string_equal(text, "b 2\nc 3\n");
	free(text);
	/* No temporary file left next to it. */
	assert_int_equal(count_entries(f->dir, names, sizeof(names)), 1);
	assert_string_equal(names, "ioguard.prom ");
}

/* A reader holding the old file keeps the old content: it was replaced, not rewritten. */
static void test_replace_is_atomic_for_readers(void **state)
{
	struct dir_fixture *f = *state;
	char buf[16] = "";
	struct stat before, after;
	int fd;

	write_ok(f->path, "old 1\n");
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &before), 0);
	write_ok(f->path, "new 2\n");
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
	assert_string_equal(buf, "old 1\n");
	close(fd);
}

static void test_empty_content(void **state)
{
	struct dir_fixture *f = *state;
	struct stat st;

	write_ok(f->path, "");
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_directory_missing(void **state)
{
	struct dir_fixture *f = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/nope/ioguard.prom", f->dir);
	write_err(-ENOENT, path, "cannot write ");
	write_err(-ENOENT, path, "/nope/ioguard.prom: directory ");
	write_err(-ENOENT, path, "/nope does not exist");
}

/* The parent is a regular file: fails for root as for anyone. */
static void test_parent_is_a_file(void **state)
{
	struct dir_fixture *f = *state;
	char path[256], want[512];

	write_ok(f->path, "a 1\n");
	snprintf(path, sizeof(path), "%s/x.prom", f->path);
	snprintf(want, sizeof(want), "cannot write %s: %s is not a directory", path, f->path);
	write_err(-ENOTDIR, path, want);
}

static void test_path_is_a_directory(void **state)
{
	struct dir_fixture *f = *state;
	char want[256];

	snprintf(want, sizeof(want), "cannot write %s: it is a directory", f->dir);
	write_err(-EISDIR, f->dir, want);
	write_err(-EISDIR, "/tmp/", "the path names a directory, not a file");
}

/*
 * A directory without write permission. Root ignores permission bits, so as root this
 * uses the sysfs root, where nobody may create files; otherwise a 0555 directory.
 */
static void test_directory_not_writable(void **state)
{
	struct dir_fixture *f = *state;
	char path[256], want[512];

	if (geteuid() == 0) {
		write_err(-EACCES, "/sys/ioguard-test.prom",
			  "cannot write /sys/ioguard-test.prom: directory /sys is not writable: "
			  "Permission denied");
		return;
	}
	snprintf(path, sizeof(path), "%s/ro", f->dir);
	assert_int_equal(mkdir(path, 0555), 0);
	strcat(path, "/ioguard.prom");
	snprintf(want, sizeof(want), "cannot write %s: directory %s/ro is not writable: "
		 "Permission denied", path, f->dir);
	write_err(-EACCES, path, want);
}

/* procfs refuses with ENOENT although /proc exists: the message must not say it is missing. */
static void test_directory_refusing_files(void **state)
{
	write_err(-ENOENT, "/proc/ioguard-test.prom",
		  "cannot write /proc/ioguard-test.prom: cannot create a file in directory "
		  "/proc: No such file or directory");
	assert_int_equal(access("/proc/ioguard-test.prom", F_OK), -1);
}

/*
 * A failure in the middle of writing (RLIMIT_FSIZE stands in for a full disk, and works
 * for root): the old file stays whole and no temporary file is left.
 */
static void test_failed_write_leaves_old_file(void **state)
{
	struct dir_fixture *f = *state;
	struct rlimit old, small = { .rlim_cur = 64, .rlim_max = RLIM_INFINITY };
	size_t big = 64 * 1024;
	char *data = malloc(big), names[256], *text;
	struct errbuf eb = { .note = NULL };
	void (*prev)(int);
	int err;

	assert_non_null(data);
	memset(data, 'z', big);
	write_ok(f->path, "old 1\n");
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	err = textfile_write(f->path, data, big, &eb);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	free(data);

	assert_int_equal(err, -EFBIG);
	assert_non_null(strstr(eb.msg, "cannot write "));
	assert_non_null(strstr(eb.msg, ": writing "));
	assert_non_null(strstr(eb.msg, "File too large"));
	text = slurp(f->path);
	assert_string_equal(text, "old 1\n");
	free(text);
	assert_int_equal(count_entries(f->dir, names, sizeof(names)), 1);
}

/* A failure at the rename, after the temporary file is complete: removed all the same. */
static void test_failed_rename_leaves_no_temporary(void **state)
{
	struct dir_fixture *f = *state;
	char path[200], sub[256], names[256];
	struct errbuf eb = { .note = NULL };
	int err;

	/* A non-empty directory where the file should go: the rename fails. */
	snprintf(path, sizeof(path), "%s/target.prom", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/keep", path);
	assert_int_equal(mkdir(sub, 0755), 0);
	err = textfile_write(path, "x 1\n", 4, &eb);
	assert_int_equal(err, -EISDIR);
	assert_int_equal(count_entries(f->dir, names, sizeof(names)), 1);
	assert_string_equal(names, "target.prom ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_is_atomic_for_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_is_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_is_a_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_not_writable, setup, teardown),
		cmocka_unit_test(test_directory_refusing_files),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_old_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_rename_leaves_no_temporary, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
