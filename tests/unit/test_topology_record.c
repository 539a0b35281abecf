// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The topology a policy was checked against (src/ioguard/host/topology_record.c): reading the
 * sysfs fixtures, the changes between two reads (joined, left, moved, driver changed in
 * a named group or not), and the stamp's round trip, with damaged stamps refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host/topology_record.h"
#include "fixture_helpers.h"

static void read_fixture(const char *name, struct topology_record *r)
{
	char root[PATH_MAX + 128];

	snprintf(root, sizeof(root), "%s/%s", fixtures, name);
	assert_int_equal(topology_record__read(root, r), 0);
}

static const struct topology_entry *find(const struct topology_record *r, const char *dev)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->entries[i].device, dev))
			return &r->entries[i];
	return NULL;
}

static void test_read(void **state)
{
	struct topology_record r = { 0 };
	const struct topology_entry *e;
	size_t i;

	(void)state;
	read_fixture("q35-one-vfio", &r);
	assert_int_equal(r.n, 8);
	for (i = 1; i < r.n; i++)
		assert_true(strcmp(r.entries[i - 1].device, r.entries[i].device) < 0);
	e = find(&r, "0000:01:02.0");
	assert_non_null(e);
	assert_int_equal(e->group, 1);
	assert_string_equal(e->driver, "e1000");
	e = find(&r, "0000:00:02.0");
	assert_string_equal(e->driver, "");
	topology_record__fini(&r);

	/* No groups directory: an empty record, not an error. */
	assert_int_equal(topology_record__read("/nonexistent-root", &r), 0);
	assert_int_equal(r.n, 0);
	topology_record__fini(&r);
}

static void test_diff_fixtures(void **state)
{
	struct topology_record a = { 0 }, b = { 0 }, named = { 0 };
	struct topology_change *c = NULL;
	unsigned int g1 = 1, g2 = 2;
	char line[256];

	(void)state;
	read_fixture("q35-one-vfio", &a);
	read_fixture("q35-both-vfio", &b);
	assert_int_equal(topology_record__diff(&a, &a, NULL, &c), 0);
	free(c);
	assert_int_equal(topology_record__diff(&a, &b, NULL, &c), 1);
	assert_int_equal(c[0].kind, TOPOLOGY_DRIVER_CHANGED);
	assert_int_equal(c[0].group, 1);
	assert_string_equal(c[0].device, "0000:01:02.0");
	assert_string_equal(c[0].from, "e1000");
	assert_string_equal(c[0].to, "vfio-pci");
	topology_change__describe(&c[0], line, sizeof(line));
	assert_string_equal(line, "driver of 0000:01:02.0 (group 1): e1000 -> vfio-pci");
	free(c);
	/* Only the named groups' driver changes count. */
	named.named = &g2;
	named.n_named = 1;
	assert_int_equal(topology_record__diff(&a, &b, &named, &c), 0);
	free(c);
	named.named = &g1;
	assert_int_equal(topology_record__diff(&a, &b, &named, &c), 1);
	free(c);
	topology_record__fini(&a);
	topology_record__fini(&b);
}

static void set(struct topology_record *r, size_t i, unsigned int group, const char *dev,
		const char *drv)
{
	r->entries[i].group = group;
	snprintf(r->entries[i].device, sizeof(r->entries[i].device), "%s", dev);
	snprintf(r->entries[i].driver, sizeof(r->entries[i].driver), "%s", drv);
}

static void test_diff_membership(void **state)
{
	struct topology_entry ea[3], eb[3];
	struct topology_record a = { .entries = ea, .n = 3 }, b = { .entries = eb, .n = 3 };
	struct topology_change *c = NULL;
	char line[256];

	(void)state;
	set(&a, 0, 1, "0000:00:01.0", "e1000");
	set(&a, 1, 1, "0000:00:02.0", "e1000");
	set(&a, 2, 2, "0000:00:03.0", "");
	/* 00:01.0 left, 00:03.0 moved to group 5, 00:04.0 joined group 1 */
	set(&b, 0, 1, "0000:00:02.0", "e1000");
	set(&b, 1, 5, "0000:00:03.0", "");
	set(&b, 2, 1, "0000:00:04.0", "igb");
	assert_int_equal(topology_record__diff(&a, &b, NULL, &c), 4);
	assert_int_equal(c[0].kind, TOPOLOGY_DEVICE_LEFT);
	assert_string_equal(c[0].device, "0000:00:01.0");
	assert_int_equal(c[1].kind, TOPOLOGY_DEVICE_LEFT);
	assert_int_equal(c[1].group, 2);
	assert_int_equal(c[2].kind, TOPOLOGY_DEVICE_JOINED);
	assert_int_equal(c[2].group, 5);
	assert_int_equal(c[3].kind, TOPOLOGY_DEVICE_JOINED);
	assert_string_equal(c[3].device, "0000:00:04.0");
	topology_change__describe(&c[3], line, sizeof(line));
	assert_string_equal(line, "device 0000:00:04.0 joined group 1");
	free(c);
	assert_string_equal(topology_change_kind__str(TOPOLOGY_DEVICE_LEFT), "device_left");
	assert_string_equal(topology_change_kind__str(TOPOLOGY_CHANGE_KIND_COUNT), "unknown");
}

static void test_stamp(void **state)
{
	struct topology_record live = { 0 }, back = { 0 };
	struct topology_change *c = NULL;
	char dir[] = "/tmp/ioguard-stamp-XXXXXX", path[256], hash[65];
	unsigned int named[] = { 2, 1 };
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/policy-topology", dir);
	memset(hash, 'c', 64);
	hash[64] = '\0';
	read_fixture("q35-one-vfio", &live);
	assert_int_equal(topology_stamp_write(path, &live, hash, named, 2), 0);
	assert_int_equal(topology_stamp_read(path, &back), 0);
	assert_string_equal(back.policy_sha256, hash);
	assert_int_equal(back.n, live.n);
	assert_int_equal(back.n_named, 2);
	assert_true(topology_record__named(&back, 1));
	assert_true(topology_record__named(&back, 2));
	assert_false(topology_record__named(&back, 3));
	assert_int_equal(topology_record__diff(&back, &live, &back, &c), 0);
	free(c);

	/* Damaged: refused, never half read. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "ioguard-policy-topology 1\nsha256 %s\nnamed 1\ndevice one\n", hash);
	fclose(fp);
	assert_int_equal(topology_stamp_read(path, &back), -EBADMSG);
	assert_int_equal(back.n, 0);
	fp = fopen(path, "w");
	fprintf(fp, "something else\n");
	fclose(fp);
	assert_int_equal(topology_stamp_read(path, &back), -EBADMSG);
	unlink(path);
	assert_int_equal(topology_stamp_read(path, &back), -ENOENT);
	topology_record__fini(&live);
	snprintf(path, sizeof(path), "%s/run", dir);
	rmdir(path);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	return find_fixtures();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_diff_fixtures),
		cmocka_unit_test(test_diff_membership),
		cmocka_unit_test(test_stamp),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
