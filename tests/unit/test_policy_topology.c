// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Group viability of policies on the q35 fixture: bridge 00:02.0 with e1000 01:01.0 and
 * 01:02.0 in one group, edu 00:03.0 alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy_helpers.h"

#include "policy/policy_topology.h"
#include "host/topology_record.h"

#define FIXTURE "tests/fixtures/sysfs/q35-host"
#define HEADER "name: t\nmode: enforce\n"

struct result {
	int ret;
	char err[1024];
	char warn[2048];
};

/* Each warning note of the check as one line of r->warn. */
static void collect_warning(void *ctx, enum errbuf_level level, const char *msg)
{
	struct result *r = ctx;

	assert_int_equal(level, ERRBUF_WARN);
	snprintf(r->warn + strlen(r->warn), sizeof(r->warn) - strlen(r->warn), "%s\n", msg);
}

static struct result check(const char *text)
{
	struct ioasid_topology *topo = NULL;
	struct ioasid_error ierr = { 0 };
	struct policy *p = parse_policy_text(text);
	struct result r = { 0 };
	struct errbuf eb = { .note = collect_warning, .note_ctx = &r };

	if (ioasid_topology__load(FIXTURE, &topo, &ierr))
		fail_msg("fixture: %s", ierr.msg);
	r.ret = policy_topology_check(p, topo, &eb);
	snprintf(r.err, sizeof(r.err), "%.*s", (int)sizeof(r.err) - 1, eb.msg);
	ioasid_topology__free(topo);
	policy__free(p);
	return r;
}

static void test_group_split_between_tenants_is_refused(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { bdf: 0000:01:01.0 } ] }\n"
		"  - { name: b, match: { uid: 2 }, devices: [ { bdf: 0000:01:02.0 } ] }\n");

	assert_int_equal(r.ret, -EPERM);
	assert_non_null(strstr(r.err, "IOMMU group 1 is split: 0000:01:01.0 belongs to a but "
				      "0000:01:02.0 belongs to b"));
}

/* The review's case: an exact BDF in one tenant, a vendor wildcard in another. */
static void test_device_reached_by_two_tenants_is_refused(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - { name: exact, match: { uid: 1 }, devices: [ { bdf: 0000:00:03.0 } ] }\n"
		"  - { name: wildcard, match: { uid: 2 }, devices: [ { id: \"1234:*\" } ] }\n");

	assert_int_equal(r.ret, -EPERM);
	assert_non_null(strstr(r.err, "device 0000:00:03.0 is reached by tenant exact and"));
	assert_non_null(strstr(r.err, "by tenant wildcard: a device has one owner"));
}

static void test_whole_group_to_one_tenant_is_viable(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { group: 1 } ] }\n"
		"  - { name: b, match: { uid: 2 }, devices: [ { id: \"1234:11e8\" } ] }\n");

	assert_int_equal(r.ret, 0);
	assert_string_equal(r.warn, "");
}

static void test_owned_and_unowned_under_default_allow_is_refused(void **state)
{
	struct result r = check(HEADER "default: allow\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { bdf: 0000:01:02.0 } ] }\n");

	assert_int_equal(r.ret, -EPERM);
	assert_non_null(strstr(r.err, "0000:01:01.0 belongs to no tenant but 0000:01:02.0 "
				      "belongs to a (usable by anyone: default is allow)"));
}

static void test_owned_and_unowned_under_default_deny_is_viable(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { bdf: 0000:01:02.0 } ] }\n");

	assert_int_equal(r.ret, 0);
}

static void test_wildcard_reaching_both_endpoints_keeps_the_group(void **state)
{
	struct result r = check(HEADER "default: allow\ntenants:\n"
		"  - { name: nics, match: { uid: 1 }, devices: [ { id: \"8086:*\" } ] }\n");

	/* 8086:* also reaches the q35 chipset functions, all in group 3: still one owner. */
	assert_int_equal(r.ret, 0);
}

static void test_bdf_and_class_reaching_one_device_is_refused(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { bdf: 0000:01:01.0 } ] }\n"
		"  - { name: b, match: { uid: 2 }, devices: [ { class: \"0x020000\" } ] }\n");

	/* Both reach 01:01.0: no first match decides, the policy is refused. */
	assert_int_equal(r.ret, -EPERM);
	assert_non_null(strstr(r.err, "device 0000:01:01.0 is reached by tenant a and"));
}

static void test_selector_reaching_nothing_is_a_warning(void **state)
{
	struct result r = check(HEADER "default: deny\ntenants:\n"
		"  - name: a\n    match: { uid: 1 }\n    devices:\n"
		"      - { bdf: 0000:3b:00.0 }\n      - { group: 99 }\n");

	assert_int_equal(r.ret, 0);
	assert_string_equal(r.warn,
		"8:16: the device selector of tenant a matches no device on this system\n"
		"9:18: the device selector of tenant a matches no device on this system\n");
}

/*
 * The stamp is written once a policy is in force, seconds after its check: a topology
 * that fails the check by then is not stamped as the one it was checked against, and no
 * earlier policy's stamp is left in its place.
 */
static void test_stamp_refuses_a_topology_the_policy_fails_now(void **state)
{
	char dir[] = "/tmp/ioguard-stamp-XXXXXX", path[4096];
	struct errbuf eb = { .note = NULL };
	struct topology_record rec = { 0 };
	struct policy *split, *whole;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(setenv("IOGUARD_RUN_DIR", dir, 1), 0);
	assert_int_equal(topology_stamp_path(path, sizeof(path)), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("an earlier policy's stamp\n", f);
	fclose(f);

	split = parse_policy_text(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { bdf: 0000:01:01.0 } ] }\n"
		"  - { name: b, match: { uid: 2 }, devices: [ { bdf: 0000:01:02.0 } ] }\n");
	assert_int_equal(policy_topology_stamp(split, FIXTURE, &eb), -ESTALE);
	assert_non_null(strstr(eb.msg, "the topology changed during the load and fails the "
				    "policy's check now (IOMMU group 1 is split"));
	assert_int_equal(access(path, F_OK), -1);

	whole = parse_policy_text(HEADER "default: deny\ntenants:\n"
		"  - { name: a, match: { uid: 1 }, devices: [ { group: 1 } ] }\n");
	assert_int_equal(policy_topology_stamp(whole, FIXTURE, &eb), 0);
	assert_int_equal(topology_stamp_read(path, &rec), 0);
	assert_true(topology_record__named(&rec, 1));
	assert_false(topology_record__named(&rec, 2));

	topology_record__fini(&rec);
	policy__free(whole);
	policy__free(split);
	unlink(path);
	rmdir(dir);
	unsetenv("IOGUARD_RUN_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_split_between_tenants_is_refused),
		cmocka_unit_test(test_device_reached_by_two_tenants_is_refused),
		cmocka_unit_test(test_whole_group_to_one_tenant_is_viable),
		cmocka_unit_test(test_owned_and_unowned_under_default_allow_is_refused),
		cmocka_unit_test(test_owned_and_unowned_under_default_deny_is_viable),
		cmocka_unit_test(test_wildcard_reaching_both_endpoints_keeps_the_group),
		cmocka_unit_test(test_bdf_and_class_reaching_one_device_is_refused),
		cmocka_unit_test(test_selector_reaching_nothing_is_a_warning),
		cmocka_unit_test(test_stamp_refuses_a_topology_the_policy_fails_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
