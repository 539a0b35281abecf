// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The enforcer's checks of the kernel before a load, on fake kallsyms files: a kernel
 * with compat syscalls and no file_ioctl_compat hook is refused with a one-line reason
 * (issue 9); with the hook, or without compat syscalls, the checks pass. Then what
 * "a policy in force" means (enforcer_status__in_force(), shared by the metrics and the
 * daemon's /readyz), and enforcer_status() on pin directories that are absent (nothing
 * pinned) or unreadable (an error, never "nothing pinned").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include "prog/enforcer.h"

/* What every kernel ioguard supports has: the handlers that identify the files. */
#define HANDLERS \
	"ffffffff81a01000 T vfio_group_fops_unl_ioctl\n" \
	"ffffffff81a02000 T vfio_device_fops_unl_ioctl\n" \
	"ffffffff81a03000 T iommufd_fops_ioctl\n" \
	"ffffffff815727b0 T bpf_lsm_file_ioctl\n"
#define COMPAT_SYSCALLS \
	"ffffffff816f5700 T __pfx___ia32_compat_sys_ioctl\n" \
	"ffffffff816f5710 T __ia32_compat_sys_ioctl\n"
#define COMPAT_HOOK "ffffffff815727d0 T bpf_lsm_file_ioctl_compat\n"

struct fixture {
	char path[64];
	struct errbuf eb;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	strcpy(f->path, "/tmp/ioguard-test-kallsyms-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	free(f);
	return 0;
}

static void put(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int _check_kallsyms(struct fixture *f, const char *text)
{
	put(f, text);
	f->eb.msg[0] = '\0';
	return enforcer_check_kallsyms(f->path, &f->eb);
}

static void check_kallsyms(struct fixture *f, const char *text)
{
	int ret = _check_kallsyms(f, text);

	if (ret)
		fail_msg("refused (%d): %s", ret, f->eb.msg);
}

static void check_kallsyms_err(struct fixture *f, int want, const char *text)
{
	assert_int_equal(_check_kallsyms(f, text), want);
	assert_non_null(f->eb.msg[0] ? f->eb.msg : NULL);
	assert_null(strchr(f->eb.msg, '\n'));
}

static void test_compat_syscalls_without_hook_refused(void **state)
{
	struct fixture *f = *state;

	check_kallsyms_err(f, -EOPNOTSUPP, HANDLERS COMPAT_SYSCALLS);
	/* The hook that is missing, and why its absence matters. */
	assert_non_null(strstr(f->eb.msg, "no file_ioctl_compat LSM hook"));
	assert_non_null(strstr(f->eb.msg, "32-bit VFIO ioctls would go unjudged"));
}

static void test_compat_syscalls_with_hook(void **state)
{
	check_kallsyms(*state, HANDLERS COMPAT_SYSCALLS COMPAT_HOOK);
}

/* A kernel without IA32_EMULATION (no compat syscalls) needs no compat hook. */
static void test_no_compat_syscalls(void **state)
{
	check_kallsyms(*state, HANDLERS);
}

/* Only text symbols count: a data symbol of that name is not the hook. */
static void test_hook_must_be_text(void **state)
{
	check_kallsyms_err(*state, -EOPNOTSUPP, HANDLERS COMPAT_SYSCALLS
			   "ffffffff82000000 D bpf_lsm_file_ioctl_compat\n");
}

/* Addresses hidden (no CAP_SYSLOG) are refused first, whatever the hooks. */
static void test_hidden_addresses(void **state)
{
	struct fixture *f = *state;

	check_kallsyms_err(f, -EPERM,
			   "0000000000000000 T vfio_group_fops_unl_ioctl\n"
			   "0000000000000000 T iommufd_fops_ioctl\n" COMPAT_SYSCALLS);
	assert_non_null(strstr(f->eb.msg, "CAP_SYSLOG"));
}

/* Module symbols end with a tab and [module]; hidden ones there are refused too. */
static void test_hidden_module_addresses(void **state)
{
	struct fixture *f = *state;

	check_kallsyms_err(f, -EPERM,
			   "0000000000000000 t vfio_group_fops_unl_ioctl\t[vfio]\n"
			   "0000000000000000 t iommufd_fops_ioctl\t[iommufd]\n" COMPAT_SYSCALLS);
	assert_non_null(strstr(f->eb.msg, "CAP_SYSLOG"));
}

/* A line of another shape is skipped, not read as a symbol. */
static void test_odd_lines_skipped(void **state)
{
	check_kallsyms(*state, HANDLERS "\n" "garbage\n" "ffffffff81000000 T\n"
		       "ffffffff81000000  T two_blanks\n" COMPAT_SYSCALLS COMPAT_HOOK);
}

static void test_unreadable_kallsyms(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	assert_int_equal(enforcer_check_kallsyms(f->path, &f->eb), -ENOENT);
	assert_non_null(strstr(f->eb.msg, f->path));
}

static struct enforcer_status pinned_status(bool active, __u32 mode)
{
	struct enforcer_status st = { .pinned = true, .policy_active = active, .n_links = 3 };
	size_t i;

	st.slot.loaded = 1;
	st.slot.mode = mode;
	strcpy(st.slot.name, "lab");
	for (i = 0; i < sizeof(st.slot.hash); i++)
		st.slot.hash[i] = i;
	return st;
}

static void test_in_force(void **state)
{
	struct enforcer_status st = pinned_status(true, IOGUARD_MODE_ENFORCE);
	struct enforcer_in_force f;

	(void)state;
	enforcer_status__in_force(&st, &f);
	assert_true(f.active);
	assert_string_equal(f.name, "lab");
	assert_memory_equal(f.hash, st.slot.hash, sizeof(f.hash));
	assert_string_equal(f.sha256, "000102030405060708090a0b0c0d0e0f"
				      "101112131415161718191a1b1c1d1e1f");
	assert_int_equal(f.mode, IOGUARD_MODE_ENFORCE);
	st.slot.mode = IOGUARD_MODE_AUDIT;
	enforcer_status__in_force(&st, &f);
	assert_int_equal(f.mode, IOGUARD_MODE_AUDIT);
}

/* A name that fills the slot's field has no NUL there: it is still read whole. */
static void test_in_force_longest_name(void **state)
{
	struct enforcer_status st = pinned_status(true, IOGUARD_MODE_ENFORCE);
	struct enforcer_in_force f;

	(void)state;
	memset(st.slot.name, 'n', sizeof(st.slot.name));
	enforcer_status__in_force(&st, &f);
	assert_int_equal(strlen(f.name), sizeof(st.slot.name));
}

static void test_not_in_force(void **state)
{
	struct enforcer_status st = pinned_status(false, IOGUARD_MODE_ENFORCE);
	struct enforcer_in_force f;

	(void)state;
	enforcer_status__in_force(&st, &f);
	assert_false(f.active);
	assert_string_equal(f.name, "");
	assert_string_equal(f.sha256, "");
	st = pinned_status(true, IOGUARD_MODE_ENFORCE);
	st.pinned = false;
	enforcer_status__in_force(&st, &f);
	assert_false(f.active);
}

static void add_link(struct enforcer_status *st, const char *name, __u32 prog_id)
{
	snprintf(st->links[st->n_links], sizeof(st->links[0]), "%s", name);
	st->prog_ids[st->n_links++] = prog_id;
}

/* Every required LSM program must have a live link; the compat hook is optional. */
static void test_missing_hook(void **state)
{
	static const char *const required[] = {
		"ioguard_file_open", "ioguard_file_ioctl", "ioguard_mmap_file",
		"ioguard_file_permission", "ioguard_file_receive",
	};
	struct enforcer_status st = { .pinned = true };
	size_t i, skip;

	(void)state;
	assert_string_equal(enforcer_missing_hook(&st), "ioguard_file_open");
	for (skip = 0; skip < 5; skip++) {
		st.n_links = 0;
		add_link(&st, "ioguard_task_alloc", 7);
		for (i = 0; i < 5; i++)
			if (i != skip)
				add_link(&st, required[i], 10 + i);
		assert_string_equal(enforcer_missing_hook(&st), required[skip]);
		/* A pin whose link could not be read (no program id) is no link. */
		add_link(&st, required[skip], 0);
		assert_string_equal(enforcer_missing_hook(&st), required[skip]);
		add_link(&st, required[skip], 99);
		assert_null(enforcer_missing_hook(&st));
	}
}

static void test_status_nothing_pinned(void **state)
{
	struct enforcer_status st;
	struct errbuf eb = { .note = NULL };

	(void)state;
	setenv("IOGUARD_PIN_DIR", "/nonexistent-ioguard-pins", 1);
	assert_int_equal(enforcer_status(&st, &eb), 0);
	assert_false(st.pinned);
	assert_false(st.policy_active);
	unsetenv("IOGUARD_PIN_DIR");
}

/* A pin directory that cannot be read is an error that names it, not "nothing pinned". */
static void test_status_unreadable_pin_dir(void **state)
{
	struct fixture *f = *state;
	struct enforcer_status st;

	put(f, "not a directory\n");
	setenv("IOGUARD_PIN_DIR", f->path, 1);
	assert_int_equal(enforcer_status(&st, &f->eb), -ENOTDIR);
	assert_non_null(strstr(f->eb.msg, "cannot read the pin directory"));
	assert_non_null(strstr(f->eb.msg, f->path));
	unsetenv("IOGUARD_PIN_DIR");
}

/*
 * An `active` that is there but is no pinned map (here a regular file outside bpffs) is
 * an error: whatever the kernel says about it (EINVAL, EPERM...), it is not ENOENT.
 */
static void test_status_unopenable_active_map(void **state)
{
	struct errbuf eb = { .note = NULL };
	char dir[] = "/tmp/ioguard-test-pins-XXXXXX", path[64];
	struct enforcer_status st;
	FILE *file;
	int ret;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/active", dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
	setenv("IOGUARD_PIN_DIR", dir, 1);
	ret = enforcer_status(&st, &eb);
	unsetenv("IOGUARD_PIN_DIR");
	unlink(path);
	rmdir(dir);
	assert_true(ret < 0 && ret != -ENOENT);
	assert_non_null(strstr(eb.msg, "cannot open the pinned map"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_compat_syscalls_without_hook_refused),
		T(test_compat_syscalls_with_hook),
		T(test_no_compat_syscalls),
		T(test_hook_must_be_text),
		T(test_hidden_addresses),
		T(test_hidden_module_addresses),
		T(test_odd_lines_skipped),
		T(test_unreadable_kallsyms),
		cmocka_unit_test(test_in_force),
		cmocka_unit_test(test_in_force_longest_name),
		cmocka_unit_test(test_not_in_force),
		cmocka_unit_test(test_missing_hook),
		cmocka_unit_test(test_status_nothing_pinned),
		T(test_status_unreadable_pin_dir),
		cmocka_unit_test(test_status_unopenable_active_map),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
