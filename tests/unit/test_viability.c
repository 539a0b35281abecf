// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of src/ioasid/viability.c: the driver table, both rules per group and per
 * device with their reasons, on the q35 snapshots, without and with owners (sim).
 */
#include <errno.h>
#include <limits.h>
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

#include "ioasid/ioasid.h"

static struct ioasid_topology *load(const char *name)
{
	static char path[2 * PATH_MAX];
	struct ioasid_topology *t = NULL;
	struct ioasid_error err;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	if (ioasid_topology__load(path, &t, &err))
		fail_msg("%s", err.msg);
	return t;
}

/* Helpers in threes: the code, success asserted, a given failure asserted. */
static int _do_check(const struct ioasid_topology *t, unsigned int group,
		     const struct ioasid_ctx *owner, struct ioasid_verdict **v)
{
	return ioasid_group__check(ioasid_topology__find_group(t, group), owner, v);
}

static struct ioasid_verdict *do_check(const struct ioasid_topology *t, unsigned int group,
				       const struct ioasid_ctx *owner)
{
	struct ioasid_verdict *v = NULL;

	assert_int_equal(_do_check(t, group, owner, &v), 0);
	assert_non_null(v);
	return v;
}

static void do_check_err(int expect, const struct ioasid_topology *t, unsigned int group,
			 const struct ioasid_ctx *owner)
{
	struct ioasid_verdict *v = NULL;

	assert_int_equal(_do_check(t, group, owner, &v), -expect);
	assert_null(v);
}

/* The reason of @rule naming @dev, or NULL. */
static const struct ioasid_reason *reason(const struct ioasid_verdict *v, enum ioasid_rule rule,
					  const char *dev)
{
	const struct ioasid_reason *r;
	size_t i;

	for (i = 0; (r = ioasid_verdict__reason(v, i)); i++)
		if (r->rule == rule && !strcmp(ioasid_device__name(r->dev), dev))
			return r;
	return NULL;
}

static void expect_reason(const struct ioasid_verdict *v, enum ioasid_rule rule,
			  const char *dev, enum ioasid_cause cause, const char *msg)
{
	const struct ioasid_reason *r = reason(v, rule, dev);

	if (!r)
		fail_msg("no %s reason for %s", rule == IOASID_RULE_KERNEL ? "kernel" : "strict", dev);
	assert_int_equal(r->cause, cause);
	assert_string_equal(r->msg, msg);
}

static void test_driver_table(void **state)
{
	static const char *const vfio[] = {
		"vfio-pci", "mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci",
		"virtio_vfio_pci", "nvgrace_gpu_vfio_pci", "qat_vfio_pci", "vfio-platform",
		"vfio-amba", "vfio-fsl-mc", "vfio-cdx",
	};
	size_t i;

	for (i = 0; i < sizeof(vfio) / sizeof(vfio[0]); i++)
		assert_int_equal(ioasid_driver__kind(vfio[i]), IOASID_DRIVER_VFIO);
	assert_int_equal(ioasid_driver__kind("pci-stub"), IOASID_DRIVER_DMA_SAFE);
	assert_int_equal(ioasid_driver__kind("pcieport"), IOASID_DRIVER_DMA_SAFE);
	assert_int_equal(ioasid_driver__kind(NULL), IOASID_DRIVER_NONE);
	assert_int_equal(ioasid_driver__kind("e1000"), IOASID_DRIVER_DMA_API);
	assert_int_equal(ioasid_driver__kind("shpchp"), IOASID_DRIVER_DMA_API);
	/* Module names with '-' are not driver names: KBUILD_MODNAME uses '_'. */
	assert_int_equal(ioasid_driver__kind("mlx5-vfio-pci"), IOASID_DRIVER_DMA_API);
	assert_int_equal(ioasid_driver__kind("vfio_pci"), IOASID_DRIVER_DMA_API);
}

static void test_host_state(void **state)
{
	struct ioasid_topology *t = load("q35-host");
	const struct ioasid_group *g1 = ioasid_topology__find_group(t, 1);
	struct ioasid_verdict *v = do_check(t, 1, NULL);

	assert_false(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	assert_false(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	expect_reason(v, IOASID_RULE_KERNEL, "0000:01:01.0", IOASID_CAUSE_DMA_API_DRIVER,
		      "0000:01:01.0 is bound to e1000, which uses the kernel DMA API");
	expect_reason(v, IOASID_RULE_KERNEL, "0000:01:02.0", IOASID_CAUSE_DMA_API_DRIVER,
		      "0000:01:02.0 is bound to e1000, which uses the kernel DMA API");
	expect_reason(v, IOASID_RULE_STRICT, "0000:01:02.0", IOASID_CAUSE_DMA_API_DRIVER,
		      "0000:01:02.0 is bound to e1000, which uses the kernel DMA API");
	/* The bridge without a driver breaks neither rule. */
	assert_true(ioasid_verdict__device_ok(v, ioasid_group__device(g1, 0), IOASID_RULE_KERNEL));
	assert_true(ioasid_verdict__device_ok(v, ioasid_group__device(g1, 0), IOASID_RULE_STRICT));
	assert_int_equal(ioasid_verdict__nr_reasons(v), 4);
	ioasid_verdict__free(v);

	/* edu without a driver: the kernel lets the group be used; strict does not. */
	v = do_check(t, 2, NULL);
	assert_true(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	assert_false(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	expect_reason(v, IOASID_RULE_STRICT, "0000:00:03.0", IOASID_CAUSE_NOT_VFIO,
		      "0000:00:03.0 is an endpoint bound to no driver, not to a VFIO driver");
	ioasid_verdict__free(v);

	v = do_check(t, 3, NULL);
	assert_false(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	expect_reason(v, IOASID_RULE_KERNEL, "0000:00:1f.2", IOASID_CAUSE_DMA_API_DRIVER,
		      "0000:00:1f.2 is bound to ahci, which uses the kernel DMA API");
	ioasid_verdict__free(v);
	do_check_err(EINVAL, t, 42, NULL);
	ioasid_topology__free(t);
}

/* Variants: the lab's states of group 1 and their two verdicts. */
static const struct {
	const char *snapshot;
	bool kernel, strict;
	const char *blocker;		/* device with a reason, or NULL */
} variants[] = {
	{ "q35-host", false, false, "0000:01:01.0" },
	{ "q35-one-vfio", false, false, "0000:01:02.0" },
	{ "q35-both-vfio", true, true, NULL },
	{ "q35-one-unbound", true, false, "0000:01:02.0" },
};

static void test_group1_variants(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct ioasid_topology *t = load(variants[i].snapshot);
		struct ioasid_verdict *v = do_check(t, 1, NULL);

		assert_int_equal(ioasid_verdict__viable(v, IOASID_RULE_KERNEL), variants[i].kernel);
		assert_int_equal(ioasid_verdict__viable(v, IOASID_RULE_STRICT), variants[i].strict);
		if (variants[i].blocker)
			assert_false(ioasid_verdict__device_ok(v,
				ioasid_topology__find_device(t, variants[i].blocker), IOASID_RULE_STRICT));
		else
			assert_int_equal(ioasid_verdict__nr_reasons(v), 0);
		ioasid_verdict__free(v);
		ioasid_topology__free(t);
	}
	/* 01:01.0 on vfio-pci is fine by itself in q35-one-vfio. */
	{
		struct ioasid_topology *t = load("q35-one-vfio");
		struct ioasid_verdict *v = do_check(t, 1, NULL);

		assert_true(ioasid_verdict__device_ok(v, ioasid_topology__find_device(t, "0000:01:01.0"),
						      IOASID_RULE_KERNEL));
		ioasid_verdict__free(v);
		ioasid_topology__free(t);
	}
}

static void test_empty_group(void **state)
{
	struct ioasid_topology *t = load("odd-empty-group");
	struct ioasid_verdict *v = do_check(t, 7, NULL);

	assert_true(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	assert_true(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	assert_int_equal(ioasid_verdict__nr_reasons(v), 0);
	ioasid_verdict__free(v);
	ioasid_topology__free(t);
}

/* With owners: claimed by this owner, by another, or not yet. */
static void test_owners(void **state)
{
	struct ioasid_topology *t = load("q35-both-vfio");
	struct ioasid_ctx *a, *b;
	struct ioasid_backend *be;
	struct ioasid_verdict *v;
	uint32_t id;

	assert_int_equal(ioasid_backend__open(t, NULL, &be), 0);
	assert_int_equal(ioasid_ctx__new(be, NULL, &a), 0);
	assert_int_equal(ioasid_ctx__new(be, NULL, &b), 0);
	assert_int_equal(ioasid_device__bind(a, "0000:01:01.0", &id), 0);

	v = do_check(t, 1, a);
	assert_true(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	assert_false(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	expect_reason(v, IOASID_RULE_STRICT, "0000:01:02.0", IOASID_CAUSE_NOT_CLAIMED,
		      "0000:01:02.0 is not claimed by this owner");
	ioasid_verdict__free(v);

	v = do_check(t, 1, b);
	assert_false(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	expect_reason(v, IOASID_RULE_KERNEL, "0000:01:01.0", IOASID_CAUSE_OTHER_OWNER,
		      "0000:01:01.0 is claimed by another owner");
	ioasid_verdict__free(v);

	assert_int_equal(ioasid_device__bind(a, "0000:01:02.0", &id), 0);
	v = do_check(t, 1, a);
	assert_true(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	ioasid_verdict__free(v);

	ioasid_backend__close(be);
	ioasid_topology__free(t);
}

/*
 * Verdicts on the real lab captures (tests/fixtures/sysfs/lab-*), the same the lab's
 * groups-kernel scenario checks against VFIO_GROUP_GET_STATUS: one e1000 on its driver
 * makes the group not viable under both rules, naming it; both on vfio-pci is viable.
 */
static void test_lab_verdicts(void **state)
{
	static const struct {
		const char *name;
		bool viable;
	} caps[] = {
		{ "lab-debian-one-vfio", false },
		{ "lab-debian-both-vfio", true },
		{ "lab-iommufd-one-vfio", false },
		{ "lab-iommufd-both-vfio", true },
	};
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		struct ioasid_topology *t = load(caps[i].name);
		const struct ioasid_device *e1 = ioasid_topology__find_device(t, "0000:01:01.0");
		const struct ioasid_device *edu = ioasid_topology__find_device(t, "0000:00:03.0");
		struct ioasid_verdict *v;

		assert_non_null(e1);
		assert_non_null(edu);
		v = do_check(t, ioasid_group__id(ioasid_device__group(e1)), NULL);
		assert_int_equal(ioasid_verdict__viable(v, IOASID_RULE_KERNEL), caps[i].viable);
		assert_int_equal(ioasid_verdict__viable(v, IOASID_RULE_STRICT), caps[i].viable);
		assert_true(ioasid_verdict__device_ok(v, e1, IOASID_RULE_KERNEL));
		if (caps[i].viable) {
			assert_int_equal(ioasid_verdict__nr_reasons(v), 0);
		} else {
			/* One device, both rules: the kernel reason and its strict copy. */
			assert_int_equal(ioasid_verdict__nr_reasons(v), 2);
			expect_reason(v, IOASID_RULE_KERNEL, "0000:01:02.0", IOASID_CAUSE_DMA_API_DRIVER,
				      "0000:01:02.0 is bound to e1000, which uses the kernel DMA API");
			expect_reason(v, IOASID_RULE_STRICT, "0000:01:02.0", IOASID_CAUSE_DMA_API_DRIVER,
				      "0000:01:02.0 is bound to e1000, which uses the kernel DMA API");
		}
		ioasid_verdict__free(v);
		v = do_check(t, ioasid_group__id(ioasid_device__group(edu)), NULL);
		assert_true(ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
		assert_true(ioasid_verdict__viable(v, IOASID_RULE_STRICT));
		ioasid_verdict__free(v);
		ioasid_topology__free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_table),
		cmocka_unit_test(test_host_state),
		cmocka_unit_test(test_group1_variants),
		cmocka_unit_test(test_empty_group),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_lab_verdicts),
	};

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set IOGUARD_FIXTURES)\n");
		return 77;
	}
	if (fixture_make_empty_dirs())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
