// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `ioguard doctor`'s verdicts (src/ioguard/host/host_check.c) on fake hosts: the trees under
 * tests/fixtures/host/ (a Debian 12 host with everything in place, then one fault each),
 * with the live probes replaced by functions that succeed or refuse as asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/host_check.h"
#include "fixture_helpers.h"

/* Probes that answer as the test says, and count their calls. */
static int fentry_ret, lsm_ret, fentry_calls, lsm_calls;

static int fake_fentry(struct errbuf *eb)
{
	fentry_calls++;
	if (fentry_ret)
		errbuf_set(eb, fentry_ret, "load: %s", strerror(-fentry_ret));
	return fentry_ret;
}

static int fake_lsm(struct errbuf *eb)
{
	lsm_calls++;
	if (lsm_ret)
		errbuf_set(eb, lsm_ret, "attach: %s", strerror(-lsm_ret));
	return lsm_ret;
}

/* ioguard's tracer: fentry mode where the kernel's is, unless told it fell back or failed. */
static int trace_ret;
static bool trace_fell_back;

static int fake_trace(bool *fentry, char *desc, size_t len)
{
	if (fentry_ret)
		trace_fell_back = true;
	*fentry = !trace_fell_back;
	if (trace_ret)
		snprintf(desc, len, "the iommu tracepoints cannot be attached either: %s",
			 strerror(-trace_ret));
	else
		snprintf(desc, len, "mode %s", trace_fell_back ? "tp_btf: (fentry/fexit "
			 "refused: Permission denied)" : "fentry: 15 programs attached");
	return trace_ret;
}

static int reset(void **state)
{
	fentry_ret = lsm_ret = fentry_calls = lsm_calls = trace_ret = 0;
	trace_fell_back = false;
	return 0;
}

static int _run(const char *root, bool probe, bool unprivileged, struct host_report **r)
{
	char path[PATH_MAX + 64];
	struct host_check_opts opts = {
		.sz = sizeof(opts),
		.root = path,
		.probe_fentry = probe ? fake_fentry : NULL,
		.probe_lsm = probe ? fake_lsm : NULL,
		.probe_trace = probe ? fake_trace : NULL,
		.unprivileged = unprivileged,
	};

	if (root[0] == '/')
		snprintf(path, sizeof(path), "%s", root);
	else
		snprintf(path, sizeof(path), "%.3500s/%s", fixtures, root);
	return host_check_run(&opts, r);
}

/* The report for fixture @root, probed with the fakes. */
static struct host_report *run(const char *root, bool probe)
{
	struct host_report *r = NULL;

	assert_int_equal(_run(root, probe, false, &r), 0);
	assert_non_null(r);
	return r;
}

static const struct host_check *check(const struct host_report *r, const char *name)
{
	const struct host_check *c = host_report__find(r, name);

	if (!c)
		fail_msg("no check %s", name);
	return c;
}

static void expect(const struct host_report *r, const char *name, enum host_status status,
		   const char *in_reason)
{
	const struct host_check *c = check(r, name);

	if (c->status != status)
		fail_msg("%s: %s, want %s: %s", name, host_status__str(c->status),
			 host_status__str(status), c->reason);
	if (in_reason && !strstr(c->reason, in_reason))
		fail_msg("%s: '%s' not in its reason: %s", name, in_reason, c->reason);
}

static void expect_fix(const struct host_report *r, const char *name, const char *in_fix)
{
	const struct host_check *c = check(r, name);

	if (!strstr(c->fix, in_fix))
		fail_msg("%s: '%s' not in its fix: %s", name, in_fix, c->fix);
}

static void test_lsm_ok(void **state)
{
	struct host_report *r = run("lsm-ok", true);

	assert_string_equal(r->kernel_release, "6.1.0-18-amd64");
	assert_string_equal(r->distribution, "Debian GNU/Linux 12 (bookworm)");
	expect(r, "kernel_btf", HOST_OK, "/sys/kernel/btf/vmlinux");
	expect(r, "module_btf.vfio", HOST_OK, "/sys/kernel/btf/vfio");
	expect(r, "module_btf.iommufd", HOST_INFO, "CONFIG_IOMMUFD is not set");
	expect(r, "fentry", HOST_OK, NULL);
	expect(r, "config_bpf_lsm", HOST_OK, "/boot/config-6.1.0-18-amd64");
	expect(r, "bpf_lsm", HOST_OK, "loaded and attached");
	expect(r, "bpffs", HOST_OK, "/sys/fs/bpf");
	expect(r, "kallsyms", HOST_OK, "kptr_restrict = 1");
	expect(r, "ia32_emulation", HOST_INFO, "file_ioctl_compat");
	expect(r, "iommu", HOST_OK, "intel_iommu=on");
	expect(r, "iommu_domains", HOST_OK, "DMA 1, DMA-FQ 2");
	expect(r, "acs_override", HOST_OK, NULL);
	expect(r, "noiommu", HOST_OK, "= N");
	expect(r, "feature.trace", HOST_OK, "fentry");
	expect(r, "feature.enforce", HOST_OK, NULL);
	expect(r, "feature.exe_sha256", HOST_OK, "sha256");
	expect(r, "feature.iommufd", HOST_INFO, "/dev/iommu");
	expect(r, "feature.vfio_type1", HOST_OK, "/dev/vfio/vfio");
	assert_int_equal(fentry_calls, 1);
	assert_int_equal(lsm_calls, 1);
	assert_true(host_report__enforcement_ok(r));
	assert_int_equal(r->counts[HOST_FAIL], 0);
	host_report__free(r);
}

/* Without probes nothing is loaded: fentry is unknown, which is no failure. */
static void test_not_probed(void **state)
{
	struct host_report *r = run("lsm-ok", false);

	expect(r, "fentry", HOST_INFO, "not probed");
	expect(r, "bpf_lsm", HOST_OK, "not probed");
	expect(r, "feature.enforce", HOST_INFO, "fentry");
	assert_true(host_report__enforcement_ok(r));
	host_report__free(r);
}

/* A kernel that refuses fentry: trace falls back, enforcement cannot run. */
static void test_fentry_refused(void **state)
{
	struct host_report *r;

	fentry_ret = -EOPNOTSUPP;
	r = run("lsm-ok", true);
	expect(r, "fentry", HOST_FAIL, "load: Operation not supported");
	expect(r, "fentry", HOST_FAIL, "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y");
	expect(r, "feature.trace", HOST_WARN, "tp_btf");
	expect(r, "feature.enforce", HOST_FAIL, "fentry");
	assert_false(host_report__enforcement_ok(r));
	host_report__free(r);
}

/* EPERM as a user is the user's; as root it is the kernel's refusal. */
static void test_fentry_eperm(void **state)
{
	struct host_report *r = NULL;

	fentry_ret = -EPERM;
	assert_int_equal(_run("lsm-ok", true, true, &r), 0);
	expect_fix(r, "fentry", "as root");
	host_report__free(r);
	r = run("lsm-ok", true);
	expect_fix(r, "fentry", "even to root");
	host_report__free(r);
}

/*
 * A kernel that attaches fentry but whose verifier refuses ioguard's trace programs
 * (6.1 before its fix): trace falls back, and doctor says why, not "fentry mode".
 */
static void test_trace_programs_refused(void **state)
{
	struct host_report *r;

	trace_fell_back = true;
	r = run("lsm-ok", true);
	expect(r, "fentry", HOST_OK, NULL);
	expect(r, "feature.trace", HOST_WARN, "Permission denied");
	expect(r, "feature.trace", HOST_WARN, "--mode fentry --verbose");
	expect(r, "feature.metrics", HOST_WARN, "tp_btf");
	expect(r, "feature.enforce", HOST_OK, NULL);
	host_report__free(r);

	trace_ret = -ENOENT;
	r = run("lsm-ok", true);
	expect(r, "feature.trace", HOST_FAIL, "cannot be attached either");
	expect(r, "feature.metrics", HOST_FAIL, NULL);
	host_report__free(r);
}

/* The lsm= to add is the active list with bpf appended, set the Debian way. */
static void test_no_bpf_lsm(void **state)
{
	struct host_report *r = run("no-bpf-lsm", true);

	expect(r, "bpf_lsm", HOST_FAIL, "(lockdown,capability,landlock,yama,apparmor)");
	expect_fix(r, "bpf_lsm", "lsm=lockdown,capability,landlock,yama,apparmor,bpf ");
	expect_fix(r, "bpf_lsm", "GRUB_CMDLINE_LINUX of /etc/default/grub");
	expect_fix(r, "bpf_lsm", "update-grub");
	expect(r, "feature.enforce", HOST_FAIL, "bpf_lsm");
	assert_int_equal(lsm_calls, 0);
	assert_false(host_report__enforcement_ok(r));
	host_report__free(r);
}

static void test_lsm_probe_refused(void **state)
{
	struct host_report *r;

	lsm_ret = -EINVAL;
	r = run("lsm-ok", true);
	expect(r, "bpf_lsm", HOST_FAIL, "attach: Invalid argument");
	assert_false(host_report__enforcement_ok(r));
	host_report__free(r);
}

/* identity matters where user space may get the device; elsewhere it is only counted. */
static void test_identity_domain(void **state)
{
	struct host_report *r = run("identity-domain", true);

	expect(r, "iommu_domains", HOST_INFO, "identity 2");
	expect(r, "iommu_domains", HOST_INFO, "iommu=pt");
	expect(r, "iommu_group.1", HOST_WARN, "0000:01:00.0 on vfio-pci");
	expect_fix(r, "iommu_group.1", "echo DMA > /sys/kernel/iommu_groups/1/type");
	assert_null(host_report__find(r, "iommu_group.0"));
	assert_null(host_report__find(r, "iommu_group.2"));
	assert_true(host_report__enforcement_ok(r));
	host_report__free(r);
}

static void test_acs_override(void **state)
{
	struct host_report *r = run("acs-override", true);

	expect(r, "acs_override", HOST_FAIL, "pcie_acs_override=downstream,multifunction");
	expect_fix(r, "acs_override", "update-grub");
	expect(r, "iommu", HOST_OK, "amd_iommu=on");
	expect(r, "feature.enforce", HOST_OK, NULL);
	assert_false(host_report__enforcement_ok(r));
	host_report__free(r);
}

/* No IOMMU, noiommu on, addresses hidden, on a non-Debian host: generic fixes. */
static void test_noiommu(void **state)
{
	struct host_report *r = run("noiommu", true);

	assert_string_equal(r->distribution, "Fedora Linux 40 (Server Edition)");
	expect(r, "noiommu", HOST_FAIL, "enable_unsafe_noiommu_mode = Y");
	expect(r, "iommu", HOST_FAIL, "no IOMMU");
	expect(r, "kallsyms", HOST_FAIL, "kptr_restrict = 2");
	expect_fix(r, "kallsyms", "kernel.kptr_restrict=1");
	expect_fix(r, "bpf_lsm", "lsm=capability,selinux,bpf on the kernel command line");
	assert_null(strstr(check(r, "bpf_lsm")->fix, "update-grub"));
	assert_false(host_report__enforcement_ok(r));
	host_report__free(r);
}

/* Nothing readable: verdicts, not errors. */
static void test_empty_root(void **state)
{
	struct host_report *r = run("/nonexistent-ioguard-root", true);

	expect(r, "kernel_btf", HOST_FAIL, NULL);
	expect(r, "bpf_lsm", HOST_FAIL, "cannot read /sys/kernel/security/lsm");
	expect(r, "kallsyms", HOST_FAIL, "cannot read /proc/kallsyms");
	expect(r, "config_bpf_lsm", HOST_INFO, "not readable");
	expect(r, "feature.trace", HOST_FAIL, "BTF");
	assert_string_equal(r->distribution, "unknown");
	host_report__free(r);
}

static void put(const char *root, const char *path, const char *text)
{
	char full[PATH_MAX], *p;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	for (p = strchr(full + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(full, 0755);
		*p = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* 32-bit syscalls without file_ioctl_compat: the enforcer's own check refuses it. */
static void test_compat_without_hook(void **state)
{
	char root[] = "/tmp/ioguard-test-host-XXXXXX", cmd[128];
	struct host_report *r;

	assert_non_null(mkdtemp(root));
	put(root, "/proc/kallsyms", "ffffffff81a01000 T vfio_group_fops_unl_ioctl\n"
	    "ffffffff816f5710 T __ia32_compat_sys_ioctl\n");
	put(root, "/proc/cmdline", "ro ia32_emulation=1\n");
	r = run(root, false);
	expect(r, "ia32_emulation", HOST_FAIL, "file_ioctl_compat");
	expect(r, "feature.enforce", HOST_FAIL, "ia32_emulation");
	host_report__free(r);

	/* With the hook, and switched off at boot (6.7+): no path to guard. */
	put(root, "/proc/kallsyms", "ffffffff81a01000 T vfio_group_fops_unl_ioctl\n"
	    "ffffffff816f5710 T __ia32_compat_sys_ioctl\n"
	    "ffffffff815727d0 T bpf_lsm_file_ioctl_compat\n");
	put(root, "/proc/cmdline", "ro ia32_emulation=0\n");
	r = run(root, false);
	expect(r, "ia32_emulation", HOST_OK, "ia32_emulation=0");
	host_report__free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/*
 * /dev/vfio/vfio without VFIO's container code in kallsyms is iommufd's emulation, even
 * where no kernel config can be read (the lab's built kernels).
 */
static void test_iommufd_serves_container(void **state)
{
	char root[] = "/tmp/ioguard-test-host-XXXXXX", cmd[128];
	struct host_report *r;

	assert_non_null(mkdtemp(root));
	put(root, "/proc/kallsyms", "ffffffff81a03000 T iommufd_fops_ioctl\n");
	put(root, "/dev/vfio/vfio", "");
	put(root, "/dev/iommu", "");
	r = run(root, false);
	expect(r, "feature.iommufd_vfio_compat", HOST_OK, "iommufd serves it");
	expect(r, "feature.vfio_type1", HOST_INFO, "iommufd's emulation");
	expect(r, "feature.iommufd", HOST_OK, NULL);
	host_report__free(r);

	put(root, "/proc/kallsyms", "ffffffffc0a04000 t vfio_fops_unl_ioctl\t[vfio]\n");
	r = run(root, false);
	expect(r, "feature.iommufd_vfio_compat", HOST_INFO, NULL);
	expect(r, "feature.vfio_type1", HOST_OK, "VFIO's own container");
	host_report__free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/*
 * posture-odd: vfio_iommu_type1.allow_unsafe_interrupts=1 on the command line, with IR-
 * chips in /proc/interrupts (INFO); the same without remapping is a WARN. Its odd group
 * types are counted, not mislabeled.
 */
static void test_unsafe_interrupts(void **state)
{
	struct host_report *r = run("posture-odd", false);

	(void)state;
	expect(r, "interrupts", HOST_INFO, "vfio_iommu_type1");
	expect(r, "interrupts", HOST_INFO, "IRQ remapping is on");
	expect(r, "iommu_domains", HOST_INFO, "identity 1, other 4");
	expect(r, "acs_override", HOST_FAIL, "downstream,multifunction");
	expect(r, "noiommu", HOST_FAIL, "= Y");
	host_report__free(r);
	r = run("lsm-ok", false);
	expect(r, "interrupts", HOST_OK, "IRQ remapping unknown");
	host_report__free(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, reset)
	const struct CMUnitTest tests[] = {
		T(test_lsm_ok),
		T(test_not_probed),
		T(test_fentry_refused),
		T(test_fentry_eperm),
		T(test_trace_programs_refused),
		T(test_no_bpf_lsm),
		T(test_lsm_probe_refused),
		T(test_identity_domain),
		T(test_acs_override),
		T(test_noiommu),
		T(test_empty_root),
		T(test_compat_without_hook),
		T(test_iommufd_serves_container),
		T(test_unsafe_interrupts),
	};
#undef T

	if (find_fixture_tree("host", "lsm-ok")) {
		printf("SKIP: no tests/fixtures/host beside the source tree or the binary\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
