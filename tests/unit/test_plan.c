// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of src/ioguard/policy/plan.c: the --assign syntax, the device checks and the
 * decision for every touched group (viability under both rules, split groups, what must
 * move or be unbound, the sim's verdict per tenant) on the q35 and lab sysfs fixtures:
 * bridge 00:02.0 with e1000 01:01.0 and 01:02.0 in group 1, edu 00:03.0 alone in group 2,
 * the LPC, AHCI and SMBus functions in group 3.
 */
#include <errno.h>
#include <ftw.h>
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

#include "fixture_helpers.h"

#include "policy/plan.h"

#define E1 "0000:01:01.0"
#define E2 "0000:01:02.0"
#define BRIDGE "0000:00:02.0"
#define EDU "0000:00:03.0"

/* One plan on one fixture; freed by the teardown, plan first (its sim points at topo). */
struct fx {
	struct plan *plan;
	struct ioasid_topology *topo;
	struct errbuf eb;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->plan = plan__new();
	*state = f;
	return f->plan ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	plan__free(f->plan);
	ioasid_topology__free(f->topo);
	free(f);
	return 0;
}

static void load(struct fx *f, const char *name)
{
	char path[2 * PATH_MAX];
	struct ioasid_error err;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	if (ioasid_topology__load(path, &f->topo, &err))
		fail_msg("%s: %s", name, err.msg);
}

/* Helpers in threes: the code, success asserted, a given failure asserted. */
static int _do_assign(struct fx *f, const char *spec)
{
	f->eb.msg[0] = '\0';
	return plan__assign(f->plan, spec, &f->eb);
}

static void do_assign(struct fx *f, const char *spec)
{
	int ret = _do_assign(f, spec);

	if (ret)
		fail_msg("plan__assign(%s) = %d (%s): %s", spec, ret, strerror(-ret), f->eb.msg);
}

static void do_assign_err(int e, struct fx *f, const char *spec, const char *msg)
{
	assert_int_equal(_do_assign(f, spec), -e);
	assert_string_equal(f->eb.msg, msg);
}

/* Loads @fixture, assigns the NULL-terminated specs, evaluates. */
static int _do_plan(struct fx *f, const char *fixture, ...)
{
	const char *spec;
	va_list ap;

	load(f, fixture);
	va_start(ap, fixture);
	while ((spec = va_arg(ap, const char *)))
		do_assign(f, spec);
	va_end(ap);
	f->eb.msg[0] = '\0';
	return plan__evaluate(f->plan, f->topo, &f->eb);
}

#define do_plan(f, ...)								\
	do {									\
		int _r = _do_plan(f, __VA_ARGS__, NULL);			\
		if (_r)								\
			fail_msg("plan = %d (%s): %s", _r, strerror(-_r), (f)->eb.msg); \
	} while (0)

#define do_plan_err(e, text, f, ...)						\
	do {									\
		assert_int_equal(_do_plan(f, __VA_ARGS__, NULL), -(e));		\
		assert_non_null(strstr((f)->eb.msg, text));			\
	} while (0)

static const struct plan_group *only_group(const struct fx *f, unsigned int id)
{
	assert_int_equal(plan__nr_groups(f->plan), 1);
	assert_int_equal(plan__group(f->plan, 0)->id, id);
	assert_int_equal(plan__group(f->plan, 0)->err, 0);
	return plan__group(f->plan, 0);
}

static const struct plan_member *member(const struct plan_group *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nr_members; i++)
		if (!strcmp(g->members[i].name, name))
			return &g->members[i];
	fail_msg("group %u has no member %s", g->id, name);
	return NULL;
}

/* The advice given for the reason of @rule naming @dev, or -1 when there is none. */
static int advice(const struct plan_group *g, enum ioasid_rule rule, const char *dev)
{
	size_t i;

	for (i = 0; i < g->nr_reasons; i++)
		if (g->reasons[i].why->rule == rule &&
		    !strcmp(ioasid_device__name(g->reasons[i].why->dev), dev))
			return g->reasons[i].advice;
	return -1;
}

static size_t nr_advised(const struct plan_group *g, enum plan_advice a)
{
	size_t i, n = 0;

	for (i = 0; i < g->nr_reasons; i++)
		n += g->reasons[i].advice == a;
	return n;
}

static void expect_viable(const struct fx *f, bool kernel, bool strict)
{
	assert_int_equal(plan__viable(f->plan, IOASID_RULE_KERNEL), kernel);
	assert_int_equal(plan__viable(f->plan, IOASID_RULE_STRICT), strict);
}

static void test_assign_syntax(void **state)
{
	struct fx *f = *state;
	const struct plan_tenant *t;

	do_assign(f, "vm1=" E1 ",," E2);
	do_assign(f, "vm2=" EDU);
	do_assign(f, "vm1=0000:00:1f.0");
	assert_int_equal(plan__nr_tenants(f->plan), 2);
	t = plan__tenant(f->plan, 0);
	assert_string_equal(t->name, "vm1");
	assert_int_equal(t->nr_devices, 3);
	assert_string_equal(t->devices[1], E2);
	assert_string_equal(t->devices[2], "0000:00:1f.0");
	assert_string_equal(plan__tenant(f->plan, 1)->name, "vm2");
	assert_null(plan__tenant(f->plan, 2));
	do_assign_err(EINVAL, f, "=" EDU, "=" EDU ": expected TENANT=BDF[,BDF...]");
	do_assign_err(EINVAL, f, "vm3", "vm3: expected TENANT=BDF[,BDF...]");
	do_assign_err(EINVAL, f, "vm3=", "vm3=: expected TENANT=BDF[,BDF...]");
	assert_int_equal(plan__nr_tenants(f->plan), 2);
}

static void test_whole_group_is_viable(void **state)
{
	struct fx *f = *state;
	const struct plan_group *g;

	do_plan(f, "q35-host", "vm1=" E1 "," E2);
	g = only_group(f, 1);
	assert_true(g->kernel_viable);
	assert_true(g->strict_viable);
	assert_false(g->split);
	assert_string_equal(g->tenant, "vm1");
	assert_int_equal(g->nr_reasons, 0);
	assert_true(member(g, BRIDGE)->bridge);
	assert_null(member(g, BRIDGE)->tenant);
	assert_string_equal(member(g, E2)->tenant, "vm1");
	assert_false(member(g, E1)->must_move);
	assert_int_equal(plan__tenant(f->plan, 0)->sim_err, 0);
	/* The what-if rebinds the e1000s in the plan's topology only. */
	assert_string_equal(ioasid_device__driver(ioasid_topology__find_device(f->topo, E2)),
			    "vfio-pci");
	expect_viable(f, true, true);
}

/* A sibling on a kernel-DMA-API driver: unbind it or take it; the sim cannot bind. */
static void test_dma_api_sibling_must_be_unbound(void **state)
{
	struct fx *f = *state;
	const struct plan_tenant *t;
	const struct plan_group *g;

	do_plan(f, "q35-host", "vm1=" E1);
	g = only_group(f, 1);
	assert_false(g->kernel_viable);
	assert_false(g->strict_viable);
	assert_false(g->split);
	assert_int_equal(advice(g, IOASID_RULE_KERNEL, E2), PLAN_ADVICE_UNBIND);
	/* Told once: the strict rule's copy of the kernel reason gets no advice. */
	assert_int_equal(advice(g, IOASID_RULE_STRICT, E2), PLAN_ADVICE_NONE);
	assert_int_equal(nr_advised(g, PLAN_ADVICE_UNBIND), 1);
	assert_true(member(g, E1)->must_move);
	assert_true(member(g, E2)->must_move);
	assert_false(member(g, BRIDGE)->must_move);
	t = plan__tenant(f->plan, 0);
	assert_int_equal(t->sim_err, -EPERM);
	assert_non_null(strstr(t->sim_msg, "0000:01:02.0 is bound to e1000"));
	expect_viable(f, false, false);
}

/* One group, two tenants: split, whatever each verdict says. */
static void test_split_group(void **state)
{
	struct fx *f = *state;
	const struct plan_group *g;

	do_plan(f, "q35-both-vfio", "vm1=" E1, "vm2=" E2);
	g = only_group(f, 1);
	assert_true(g->split);
	assert_false(g->kernel_viable);
	assert_false(g->strict_viable);
	assert_string_equal(g->tenant, "vm1");
	assert_int_equal(advice(g, IOASID_RULE_STRICT, E2), PLAN_ADVICE_ASSIGN);
	assert_int_equal(nr_advised(g, PLAN_ADVICE_UNBIND), 0);
	assert_true(member(g, E1)->must_move);
	assert_true(member(g, E2)->must_move);
	assert_int_equal(plan__tenant(f->plan, 0)->sim_err, 0);
	assert_int_equal(plan__tenant(f->plan, 1)->sim_err, -EPERM);
	assert_non_null(strstr(plan__tenant(f->plan, 1)->sim_msg, "claimed by another owner"));
	expect_viable(f, false, false);
}

/* An unbound sibling: the kernel allows it, the strict rule wants it assigned. */
static void test_unbound_sibling_is_kernel_only(void **state)
{
	struct fx *f = *state;
	const struct plan_group *g;

	do_plan(f, "q35-one-unbound", "vm1=" E1);
	g = only_group(f, 1);
	assert_true(g->kernel_viable);
	assert_false(g->strict_viable);
	assert_false(g->split);
	assert_int_equal(advice(g, IOASID_RULE_STRICT, E2), PLAN_ADVICE_ASSIGN);
	assert_int_equal(nr_advised(g, PLAN_ADVICE_UNBIND), 0);
	assert_true(member(g, E2)->must_move);
	assert_null(member(g, E2)->tenant);
	expect_viable(f, true, false);
}

/* Only the groups holding an assigned device are decided, in group id order. */
static void test_untouched_groups_are_left_out(void **state)
{
	struct fx *f = *state;
	const struct plan_group *g;

	do_plan(f, "q35-host", "vm2=0000:00:1f.0,0000:00:1f.2,0000:00:1f.3", "vm1=" EDU);
	assert_int_equal(plan__nr_groups(f->plan), 2);
	g = plan__group(f->plan, 0);
	assert_int_equal(g->id, 2);
	assert_string_equal(g->tenant, "vm1");
	g = plan__group(f->plan, 1);
	assert_int_equal(g->id, 3);
	assert_string_equal(g->tenant, "vm2");
	assert_true(g->kernel_viable && g->strict_viable);
	assert_null(plan__group(f->plan, 2));
	expect_viable(f, true, true);
}

/* A real capture: edu alone in group 3 on the iommufd lab kernel. */
static void test_lab_capture(void **state)
{
	struct fx *f = *state;
	const struct plan_group *g;

	do_plan(f, "lab-iommufd-one-vfio", "lab=" EDU);
	g = only_group(f, 3);
	assert_true(g->kernel_viable && g->strict_viable);
	assert_int_equal(g->nr_members, 1);
	expect_viable(f, true, true);
}

static void test_unknown_device(void **state)
{
	struct fx *f = *state;

	do_plan_err(ENODEV, "0000:09:00.0: no such device in ", f, "q35-host", "vm1=0000:09:00.0");
	assert_non_null(strstr(f->eb.msg, "q35-host"));
	assert_int_equal(plan__nr_groups(f->plan), 0);
}

static void test_device_assigned_twice(void **state)
{
	struct fx *f = *state;

	do_plan_err(EINVAL, EDU " is assigned more than once", f, "q35-host", "vm1=" EDU,
		    "vm2=" E1 "," EDU);
}

/* Devices are checked in the order given: the first bad one is the one named. */
static void test_first_bad_device_is_named(void **state)
{
	struct fx *f = *state;

	do_plan_err(ENODEV, "0000:09:00.0: no such device", f, "q35-host", "vm1=" EDU,
		    "vm2=0000:09:00.0," E1, "vm3=" E1);
}

/* A device given twice is found at its first place, before a later unknown one. */
static void test_twice_found_at_first_place(void **state)
{
	struct fx *f = *state;

	do_plan_err(EINVAL, E1 " is assigned more than once", f, "q35-host", "vm1=" E1,
		    "vm2=0000:09:00.0," E1);
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A device outside every IOMMU group (no iommu_group link): DMA is not translated. */
static void test_device_without_group(void **state)
{
	static const char *const dirs[] = {
		"sys", "sys/kernel", "sys/kernel/iommu_groups", "sys/bus", "sys/bus/pci",
		"sys/bus/pci/devices", "sys/devices", "sys/devices/pci0000:00",
		"sys/devices/pci0000:00/0000:00:05.0",
	};
	char root[] = "/tmp/ioguard-plan-XXXXXX", p[PATH_MAX];
	struct fx *f = *state;
	struct ioasid_error ierr;
	size_t i;
	int ret;

	assert_non_null(mkdtemp(root));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:05.0/vendor", root);
	put(p, "0x8086\n");
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:05.0/device", root);
	put(p, "0x100e\n");
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:05.0/class", root);
	put(p, "0x020000\n");
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:00:05.0", root);
	assert_int_equal(symlink("../../../devices/pci0000:00/0000:00:05.0", p), 0);
	if (ioasid_topology__load(root, &f->topo, &ierr))
		fail_msg("%s", ierr.msg);
	do_assign(f, "vm1=0000:00:05.0");
	ret = plan__evaluate(f->plan, f->topo, &f->eb);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(ret, -ENODEV);
	assert_string_equal(f->eb.msg, "0000:00:05.0: the device has no IOMMU group; it cannot be "
			    "assigned safely");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_assign_syntax),
		T(test_whole_group_is_viable),
		T(test_dma_api_sibling_must_be_unbound),
		T(test_split_group),
		T(test_unbound_sibling_is_kernel_only),
		T(test_untouched_groups_are_left_out),
		T(test_lab_capture),
		T(test_unknown_device),
		T(test_device_assigned_twice),
		T(test_first_bad_device_is_named),
		T(test_twice_found_at_first_place),
		T(test_device_without_group),
	};

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set IOGUARD_FIXTURES)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
