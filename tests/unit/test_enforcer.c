// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The enforcer's checks of the kernel before a load, on fake kallsyms files: a kernel
 * with compat syscalls and no file_ioctl_compat hook is refused with a one-line reason
 * (issue 9); with the hook, or without compat syscalls, the checks pass.
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

#include "../../src/ioguard/enforcer.h"

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
	char err[1024];
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
	f->err[0] = '\0';
	return enforcer_check_kallsyms(f->path, f->err, sizeof(f->err));
}

static void check_kallsyms(struct fixture *f, const char *text)
{
	int ret = _check_kallsyms(f, text);

	if (ret)
		fail_msg("refused (%d): %s", ret, f->err);
}

static void check_kallsyms_err(struct fixture *f, int want, const char *text)
{
	assert_int_equal(_check_kallsyms(f, text), want);
	assert_non_null(f->err[0] ? f->err : NULL);
	assert_null(strchr(f->err, '\n'));
}

static void test_compat_syscalls_without_hook_refused(void **state)
{
	struct fixture *f = *state;

	check_kallsyms_err(f, -EOPNOTSUPP, HANDLERS COMPAT_SYSCALLS);
	/* The hook that is missing, and why its absence matters. */
	assert_non_null(strstr(f->err, "no file_ioctl_compat LSM hook"));
	assert_non_null(strstr(f->err, "32-bit VFIO ioctls would go unjudged"));
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
	assert_non_null(strstr(f->err, "CAP_SYSLOG"));
}

/* Module symbols end with a tab and [module]; hidden ones there are refused too. */
static void test_hidden_module_addresses(void **state)
{
	struct fixture *f = *state;

	check_kallsyms_err(f, -EPERM,
			   "0000000000000000 t vfio_group_fops_unl_ioctl\t[vfio]\n"
			   "0000000000000000 t iommufd_fops_ioctl\t[iommufd]\n" COMPAT_SYSCALLS);
	assert_non_null(strstr(f->err, "CAP_SYSLOG"));
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
	assert_int_equal(enforcer_check_kallsyms(f->path, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, f->path));
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
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
