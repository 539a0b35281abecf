// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pin directory: where it is, pin and link names, listing the link pins. Plain files
 * in a temporary directory stand for pins; opening a real pin needs bpffs and root.
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
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "prog/pins.h"

#define BPF_FS_MAGIC 0xcafe4a11

struct fixture {
	char dir[64];
};

static void touch(const struct fixture *f, const char *name)
{
	char path[256];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ioguard-test-pins-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	setenv("IOGUARD_PIN_DIR", f->dir, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	unsetenv("IOGUARD_PIN_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

static void test_dir_from_the_environment(void **state)
{
	unsetenv("IOGUARD_PIN_DIR");
	assert_string_equal(pins_dir(), PINS_DEFAULT_DIR);
	assert_string_equal(PINS_DEFAULT_DIR, "/sys/fs/bpf/ioguard");
	/* Empty is unset: a unit file's IOGUARD_PIN_DIR= must not pin into the cwd. */
	setenv("IOGUARD_PIN_DIR", "", 1);
	assert_string_equal(pins_dir(), PINS_DEFAULT_DIR);
	setenv("IOGUARD_PIN_DIR", "/sys/fs/bpf/other", 1);
	assert_string_equal(pins_dir(), "/sys/fs/bpf/other");
	unsetenv("IOGUARD_PIN_DIR");
}

static void test_path_of_a_pin(void **state)
{
	struct fixture *f = *state;
	char path[256], want[256], small[8];

	assert_int_equal(pins_path(path, sizeof(path), "policies"), 0);
	snprintf(want, sizeof(want), "%s/policies", f->dir);
	assert_string_equal(path, want);
	assert_int_equal(pins_path(path, sizeof(path), "upgrade/layout"), 0);
	snprintf(want, sizeof(want), "%s/upgrade/layout", f->dir);
	assert_string_equal(path, want);
	assert_int_equal(pins_path(small, sizeof(small), "policies"), -ENAMETOOLONG);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_link_names(void **state)
{
	char name[32], small[8];

	assert_int_equal(pins_link_name(name, sizeof(name), "ioguard_file_open"), 0);
	assert_string_equal(name, "link_ioguard_file_open");
	assert_string_equal(pins_link_program(name), "ioguard_file_open");
	assert_int_equal(pins_link_name(small, sizeof(small), "ioguard_file_open"),
			 -ENAMETOOLONG);
	assert_null(pins_link_program("layout"));
	assert_null(pins_link_program("policies"));
	assert_null(pins_link_program("link"));
	assert_null(pins_link_program("linkage"));
	assert_null(pins_link_program("upgrade"));
}

struct seen {
	char progs[512];
	char pins[512];
	int calls;
	int stop_at;	/* the call that returns 7; 0: none */
};

static int remember(void *ctx, const char *prog_name, const char *pin_name)
{
	struct seen *s = ctx;

	s->calls++;
	/* Directory order is the file system's: keep them sorted to compare. */
	snprintf(s->progs + strlen(s->progs), sizeof(s->progs) - strlen(s->progs), "%s ",
		 prog_name);
	snprintf(s->pins + strlen(s->pins), sizeof(s->pins) - strlen(s->pins), "%s ",
		 pin_name);
	return s->calls == s->stop_at ? 7 : 0;
}

static bool has_word(const char *words, const char *word)
{
	for (const char *p = words; (p = strstr(p, word)); p++) {
		if ((p == words || p[-1] == ' ') && p[strlen(word)] == ' ')
			return true;
	}
	return false;
}

static void test_each_link_and_nothing_else(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	char path[256];

	touch(f, "link_ioguard_file_open");
	touch(f, "link_ioguard_map_dma_exit");
	touch(f, "policies");
	touch(f, "layout");
	touch(f, "linkage");
	snprintf(path, sizeof(path), "%s/upgrade", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	touch(f, "upgrade/link_ioguard_file_ioctl");

	assert_int_equal(pins_for_each_link(remember, &s), 0);
	assert_int_equal(s.calls, 2);
	assert_true(has_word(s.progs, "ioguard_file_open"));
	assert_true(has_word(s.progs, "ioguard_map_dma_exit"));
	assert_true(has_word(s.pins, "link_ioguard_file_open"));
	assert_true(has_word(s.pins, "link_ioguard_map_dma_exit"));
}

static void test_each_link_stops_when_asked(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .stop_at = 1 };

	touch(f, "link_a");
	touch(f, "link_b");
	touch(f, "link_c");
	assert_int_equal(pins_for_each_link(remember, &s), 7);
	assert_int_equal(s.calls, 1);
}

static void test_each_link_of_an_empty_dir(void **state)
{
	struct seen s = { 0 };

	assert_int_equal(pins_for_each_link(remember, &s), 0);
	assert_int_equal(s.calls, 0);
}

/* Nothing pinned (-ENOENT) and a pin directory that is not one are told apart. */
static void test_each_link_without_a_dir(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "%s/missing", f->dir);
	setenv("IOGUARD_PIN_DIR", path, 1);
	assert_int_equal(pins_for_each_link(remember, &s), -ENOENT);
	assert_int_equal(errno, ENOENT);
	touch(f, "file");
	snprintf(path, sizeof(path), "%s/file", f->dir);
	setenv("IOGUARD_PIN_DIR", path, 1);
	assert_int_equal(pins_for_each_link(remember, &s), -ENOTDIR);
	assert_int_equal(s.calls, 0);
}

static void test_open_a_missing_pin(void **state)
{
	errno = 0;
	assert_int_equal(pins_open("policies"), -ENOENT);
	assert_int_equal(errno, ENOENT);
}

static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

/* A map pinned in a bpffs directory opens by name and is the same map. */
static void test_open_a_real_pin(void **state)
{
	char dir[] = "/sys/fs/bpf/ioguard-test-pins-XXXXXX", path[128];
	struct bpf_map_info a = { 0 }, b = { 0 };
	__u32 len = sizeof(a);
	struct statfs fs;
	int map_fd, fd;

	if (under_valgrind()) {
		printf("SKIP: real BPF maps under valgrind (it misreads libbpf's bpf(2) attrs); "
		       "the sanitizer build runs this test\n");
		skip();
	}
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		printf("SKIP: opening a real pin needs bpffs at /sys/fs/bpf, which is not "
		       "mounted here\n");
		skip();
	}
	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pins_test", 4, 4, 1, NULL);
	if (map_fd < 0) {
		printf("SKIP: cannot create a BPF map here (%s): needs root or CAP_BPF\n",
		       strerror(errno));
		skip();
	}
	assert_non_null(mkdtemp(dir));
	setenv("IOGUARD_PIN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/policies", dir);
	assert_int_equal(bpf_obj_pin(map_fd, path), 0);
	fd = pins_open("policies");
	unlink(path);
	rmdir(dir);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(map_fd, &a, &len), 0);
	len = sizeof(b);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &b, &len), 0);
	assert_int_equal(a.id, b.id);
	close(fd);
	close(map_fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_from_the_environment),
		T(test_path_of_a_pin),
		cmocka_unit_test(test_link_names),
		T(test_each_link_and_nothing_else),
		T(test_each_link_stops_when_asked),
		T(test_each_link_of_an_empty_dir),
		T(test_each_link_without_a_dir),
		T(test_open_a_missing_pin),
		T(test_open_a_real_pin),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
