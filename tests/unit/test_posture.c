// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host's isolation posture (src/ioguard/host/posture.c) on the fake hosts of
 * tests/fixtures/host, odd values included (posture-odd: every domain type the kernel
 * writes, "unknown", garbage and a missing type file; no-IOMMU groups seen twice; an
 * unsafe-interrupts option on the command line only), and its exposition
 * (exposition_posture.c): bounded labels whatever the files said.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics/exposition.h"
#include "host/posture.h"
#include "metrics/snapshot.h"
#include "fixture_helpers.h"
#include "ioguard/enforce.h"

static void read_fixture(const char *name, struct host_posture *p)
{
	char root[PATH_MAX + 128];

	snprintf(root, sizeof(root), "%s/%s", fixtures, name);
	host_posture_read(root, p);
}

static void test_lsm_ok(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("lsm-ok", &p);
	assert_true(p.iommu_enabled);
	assert_int_equal(p.n_groups, 3);
	assert_int_equal(p.domains[POSTURE_DOMAIN_DMA], 1);
	assert_int_equal(p.domains[POSTURE_DOMAIN_DMA_FQ], 2);
	assert_int_equal(p.domains[POSTURE_DOMAIN_IDENTITY], 0);
	assert_false(p.acs_override);
	assert_string_equal(p.acs_override_value, "");
	assert_int_equal(p.noiommu_mode, POSTURE_OFF);
	assert_int_equal(p.n_noiommu_groups, 0);
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_VFIO_TYPE1], POSTURE_OFF);
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_IOMMUFD], POSTURE_OFF);
	/* No /proc/interrupts in the tree: not known, never guessed. */
	assert_int_equal(p.irq_remapping, POSTURE_UNKNOWN);
	assert_int_equal(p.bpf_lsm, POSTURE_ON);
}

static void test_acs_override(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("acs-override", &p);
	assert_true(p.acs_override);
	assert_string_equal(p.acs_override_value, "downstream,multifunction");
}

static void test_noiommu(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("noiommu", &p);
	assert_false(p.iommu_enabled);
	assert_int_equal(p.n_groups, 0);
	assert_int_equal(p.noiommu_mode, POSTURE_ON);
}

/* No IOMMU, but VFIO's no-IOMMU mode made a group: a group is no proof of an IOMMU. */
static void test_noiommu_groups(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("noiommu-groups", &p);
	assert_false(p.iommu_enabled);
	assert_int_equal(p.n_iommus, 0);
	assert_int_equal(p.n_groups, 1);
	assert_int_equal(p.n_noiommu_groups, 1);
	assert_int_equal(p.noiommu_mode, POSTURE_ON);
}

static void test_odd(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("posture-odd", &p);
	assert_true(p.iommu_enabled);
	assert_int_equal(p.n_iommus, 1);
	assert_int_equal(p.n_groups, 7);
	assert_int_equal(p.domains[POSTURE_DOMAIN_DMA], 1);
	assert_int_equal(p.domains[POSTURE_DOMAIN_DMA_FQ], 1);
	assert_int_equal(p.domains[POSTURE_DOMAIN_IDENTITY], 1);
	assert_int_equal(p.domains[POSTURE_DOMAIN_BLOCKED], 1);
	assert_int_equal(p.domains[POSTURE_DOMAIN_UNMANAGED], 0);
	/* "unknown" (no default domain) and garbage */
	assert_int_equal(p.domains[POSTURE_DOMAIN_OTHER], 2);
	/* group 6 has no type file */
	assert_int_equal(p.domains[POSTURE_DOMAIN_UNREADABLE], 1);
	assert_true(p.acs_override);
	assert_int_equal(p.noiommu_mode, POSTURE_ON);
	/* group 3 (named vfio-noiommu, and /dev/vfio/noiommu-3) once, noiommu-9; not -x */
	assert_int_equal(p.n_noiommu_groups, 2);
	assert_true(host_posture_group_noiommu(fixtures, 0) == false);
	/* module not loaded: the command line's option is what it will get */
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_VFIO_TYPE1], POSTURE_ON);
	/* module loaded with N: the command line does not matter */
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_IOMMUFD], POSTURE_OFF);
	assert_int_equal(p.irq_remapping, POSTURE_ON);
	assert_int_equal(p.bpf_lsm, POSTURE_OFF);
}

/* A root with nothing under it: no IOMMU, nothing on, nothing known. */
static void test_empty_root(void **state)
{
	struct host_posture p;

	(void)state;
	read_fixture("does-not-exist", &p);
	assert_false(p.iommu_enabled);
	assert_int_equal(p.n_groups, 0);
	assert_false(p.acs_override);
	assert_int_equal(p.noiommu_mode, POSTURE_OFF);
	assert_int_equal(p.irq_remapping, POSTURE_UNKNOWN);
	assert_int_equal(p.bpf_lsm, POSTURE_UNKNOWN);
}

/* Module options as the kernel reads them: a bare bool name is true, '-' is '_', "on" is y. */
static void test_module_options_on_cmdline(void **state)
{
	char dir[] = "/tmp/ioguard-posture-XXXXXX", path[PATH_MAX];
	struct host_posture p;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/proc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/cmdline", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("ro vfio.enable-unsafe-noiommu-mode iommufd.allow_unsafe_interrupts=on "
	      "vfio_iommu_type1.allow_unsafe_interrupts=off\n", f);
	fclose(f);
	host_posture_read(dir, &p);
	assert_int_equal(p.noiommu_mode, POSTURE_ON);
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_IOMMUFD], POSTURE_ON);
	assert_int_equal(p.unsafe_interrupts[POSTURE_IRQ_VFIO_TYPE1], POSTURE_OFF);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_domain_of(void **state)
{
	(void)state;
	assert_int_equal(posture_domain_of("DMA"), POSTURE_DOMAIN_DMA);
	assert_int_equal(posture_domain_of("DMA-FQ"), POSTURE_DOMAIN_DMA_FQ);
	assert_int_equal(posture_domain_of("identity"), POSTURE_DOMAIN_IDENTITY);
	assert_int_equal(posture_domain_of("blocked"), POSTURE_DOMAIN_BLOCKED);
	assert_int_equal(posture_domain_of("unmanaged"), POSTURE_DOMAIN_UNMANAGED);
	assert_int_equal(posture_domain_of("unknown"), POSTURE_DOMAIN_OTHER);
	assert_int_equal(posture_domain_of(""), POSTURE_DOMAIN_OTHER);
	assert_int_equal(posture_domain_of("dma"), POSTURE_DOMAIN_OTHER);
	assert_int_equal(posture_domain_of("identity "), POSTURE_DOMAIN_OTHER);
	assert_int_equal(posture_domain_of("other"), POSTURE_DOMAIN_OTHER);
	assert_string_equal(posture_domain__str(POSTURE_DOMAIN_COUNT), "unknown");
	assert_string_equal(posture_state__str(POSTURE_STATE_COUNT), "unknown");
}

static void test_cmdline_param(void **state)
{
	char buf[64];

	(void)state;
	assert_null(posture_cmdline_param("quiet ro", "pcie_acs_override", buf, sizeof(buf)));
	/* bare: no value, not the option */
	assert_null(posture_cmdline_param("pcie_acs_override ro", "pcie_acs_override", buf,
					  sizeof(buf)));
	/* a longer name is not a prefix match */
	assert_null(posture_cmdline_param("pcie_acs_override_x=1", "pcie_acs_override", buf,
					  sizeof(buf)));
	assert_string_equal(posture_cmdline_param("a=1 pcie_acs_override=id:1 b\tpcie_acs_override=downstream\n",
						  "pcie_acs_override", buf, sizeof(buf)),
			    "downstream");
	assert_string_equal(posture_cmdline_param("x=", "x", buf, sizeof(buf)), "");
	assert_true(posture_param_on("Y"));
	assert_true(posture_param_on("1"));
	assert_true(posture_param_on("on"));
	assert_false(posture_param_on("off"));
	assert_false(posture_param_on("N"));
	assert_false(posture_param_on(""));
}

/* Each label value of @family in @text is one of @allowed; returns how many samples. */
static int count_bounded(const char *text, const char *family, const char *label,
			 const char *const *allowed)
{
	char want[128];
	const char *p = text;
	int n = 0;

	snprintf(want, sizeof(want), "\n%s{%s=\"", family, label);
	while ((p = strstr(p, want))) {
		const char *v = p + strlen(want);
		size_t len = strcspn(v, "\"");
		bool ok = false;
		int i;

		for (i = 0; allowed[i]; i++)
			ok |= strlen(allowed[i]) == len && !strncmp(allowed[i], v, len);
		if (!ok)
			fail_msg("%s: label %s=\"%.*s\" is not a bounded value", family, label,
				 (int)len, v);
		n++;
		p = v;
	}
	return n;
}

static void test_exposition(void **state)
{
	static const char *const domains[] = { "DMA", "DMA-FQ", "identity", "blocked",
					       "unmanaged", "other", "unknown", NULL };
	static const char *const states[] = { "on", "off", "unknown", NULL };
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct buf out = { 0 };

	(void)state;
	assert_non_null(s);
	read_fixture("posture-odd", &s->posture.host);
	s->posture.read = true;
	s->posture.enforcement_known = true;
	s->posture.enforcing = true;
	snprintf(s->posture.policy_name, sizeof(s->posture.policy_name), "lab \"q\"");
	memset(s->posture.policy_sha256, 'a', 64);
	assert_int_equal(exposition_render(s, &out), 0);
	assert_int_equal(count_bounded(out.data, "ioguard_host_iommu_groups", "domain", domains), 7);
	assert_int_equal(count_bounded(out.data, "ioguard_host_irq_remapping", "state", states), 3);
	assert_int_equal(count_bounded(out.data, "ioguard_host_bpf_lsm", "state", states), 3);
	assert_non_null(strstr(out.data, "\nioguard_host_iommu_groups{domain=\"other\"} 2\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_iommu_groups{domain=\"unknown\"} 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_iommu_enabled 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_acs_override 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_vfio_noiommu_mode 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_vfio_noiommu_groups 2\n"));
	assert_non_null(strstr(out.data,
			       "\nioguard_host_vfio_unsafe_interrupts{module=\"vfio_iommu_type1\"} 1\n"));
	assert_non_null(strstr(out.data,
			       "\nioguard_host_vfio_unsafe_interrupts{module=\"iommufd\"} 0\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_irq_remapping{state=\"on\"} 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_host_bpf_lsm{state=\"off\"} 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_enforcement_active 1\n"));
	assert_non_null(strstr(out.data, "\nioguard_enforcement_policy_info{name=\"lab \\\"q\\\"\","
				       "mode=\"enforce\",sha256=\"aaaa"));
	assert_non_null(strstr(out.data, "\nioguard_enforcement_read_error 0\n"));
	buf__release(&out);

	/* An audit-mode policy says so: "in force" is not "enforcing" to an operator. */
	s->posture.policy_mode = IOGUARD_MODE_AUDIT;
	assert_int_equal(exposition_render(s, &out), 0);
	assert_non_null(strstr(out.data, "\nioguard_enforcement_policy_info{name=\"lab \\\"q\\\"\","
				       "mode=\"audit\",sha256=\"aaaa"));
	buf__release(&out);

	/* Unreadable pins: unknown, neither active nor inactive. */
	s->posture.enforcement_error = -EACCES;
	assert_int_equal(exposition_render(s, &out), 0);
	assert_non_null(strstr(out.data, "\nioguard_enforcement_read_error 1\n"));
	assert_null(strstr(out.data, "ioguard_enforcement_active"));
	assert_null(strstr(out.data, "ioguard_enforcement_policy_info"));
	assert_non_null(strstr(out.data, "\nioguard_host_iommu_enabled 1\n"));
	buf__release(&out);
	s->posture.enforcement_error = 0;

	/* Nothing collected: no host family, no enforcement family. */
	metrics_snapshot__reset(s);
	assert_int_equal(exposition_render(s, &out), 0);
	assert_null(strstr(out.data, "ioguard_host_"));
	assert_null(strstr(out.data, "ioguard_enforcement_"));
	buf__release(&out);
	metrics_snapshot__free(s);
}

static int setup(void **state)
{
	(void)state;
	return find_fixture_tree("host", "posture-odd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsm_ok),
		cmocka_unit_test(test_acs_override),
		cmocka_unit_test(test_noiommu),
		cmocka_unit_test(test_noiommu_groups),
		cmocka_unit_test(test_module_options_on_cmdline),
		cmocka_unit_test(test_odd),
		cmocka_unit_test(test_empty_root),
		cmocka_unit_test(test_domain_of),
		cmocka_unit_test(test_cmdline_param),
		cmocka_unit_test(test_exposition),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
