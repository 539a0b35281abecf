// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of src/ioasid/topology.c on the snapshots in tests/fixtures/sysfs/ (made by
 * tests/fixtures/sysfs/make-synthetic.py) and on a huge group generated at run time.
 * Fixtures are found from the current directory or from the test binary's location;
 * IOGUARD_FIXTURES overrides.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <ftw.h>
#include <cmocka.h>

#include "fixture_helpers.h"

#include "ioasid/ioasid.h"

static const char *fixture(const char *name)
{
	static char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

/* Helpers in threes: the code, success asserted, a given failure asserted. */
static int _do_load(const char *root, struct ioasid_topology **topo, struct ioasid_error *err)
{
	return ioasid_topology__load(root, topo, err);
}

static struct ioasid_topology *do_load(const char *name)
{
	struct ioasid_topology *topo = NULL;
	struct ioasid_error err;
	int ret;

	ret = _do_load(fixture(name), &topo, &err);
	if (ret)
		print_error("loading %s: %s\n", name, err.msg);
	assert_int_equal(ret, 0);
	assert_non_null(topo);
	return topo;
}

static void do_load_err(int expect, const char *name, const char *msg_part)
{
	struct ioasid_topology *topo = NULL;
	struct ioasid_error err;
	int ret;

	ret = _do_load(fixture(name), &topo, &err);
	assert_int_equal(ret, -expect);
	assert_int_equal(errno, expect);
	assert_null(topo);
	if (!strstr(err.msg, msg_part))
		print_error("message '%s' lacks '%s'\n", err.msg, msg_part);
	assert_non_null(strstr(err.msg, msg_part));
}

static const struct ioasid_device *dev(const struct ioasid_topology *t, const char *name)
{
	const struct ioasid_device *d = ioasid_topology__find_device(t, name);

	assert_non_null(d);
	return d;
}

static void test_q35_host(void **state)
{
	struct ioasid_topology *t = do_load("q35-host");
	const struct ioasid_group *g;
	const struct ioasid_resv_region *r;
	const struct ioasid_device *d;

	assert_int_equal(ioasid_topology__nr_groups(t), 4);
	assert_int_equal(ioasid_topology__nr_devices(t), 8);

	g = ioasid_topology__find_group(t, 1);
	assert_non_null(g);
	assert_int_equal(ioasid_group__id(g), 1);
	assert_string_equal(ioasid_group__type(g), "DMA-FQ");
	assert_int_equal(ioasid_group__nr_devices(g), 3);
	assert_string_equal(ioasid_device__name(ioasid_group__device(g, 0)), "0000:00:02.0");
	assert_string_equal(ioasid_device__name(ioasid_group__device(g, 1)), "0000:01:01.0");
	assert_string_equal(ioasid_device__name(ioasid_group__device(g, 2)), "0000:01:02.0");
	assert_null(ioasid_group__device(g, 3));
	assert_int_equal(ioasid_group__nr_resv(g), 1);
	r = ioasid_group__resv(g, 0);
	assert_int_equal(r->start, 0xfee00000ULL);
	assert_int_equal(r->last, 0xfeefffffULL);
	assert_int_equal(r->type, IOASID_RESV_MSI);
	assert_string_equal(ioasid_resv_type__name(r->type), "msi");

	d = dev(t, "0000:00:02.0");
	assert_true(ioasid_device__is_bridge(d));
	assert_null(ioasid_device__driver(d));
	assert_ptr_equal(ioasid_device__group(d), g);
	d = dev(t, "0000:01:02.0");
	assert_false(ioasid_device__is_bridge(d));
	assert_true(ioasid_device__is_pci(d));
	assert_string_equal(ioasid_device__driver(d), "e1000");
	assert_int_equal(ioasid_device__vendor(d), 0x8086);
	assert_int_equal(ioasid_device__device_id(d), 0x100e);
	assert_int_equal(ioasid_device__class(d), 0x020000);

	d = dev(t, "0000:00:03.0");
	assert_int_equal(ioasid_device__vendor(d), 0x1234);
	assert_int_equal(ioasid_device__device_id(d), 0x11e8);
	assert_null(ioasid_device__driver(d));
	assert_int_equal(ioasid_group__id(ioasid_device__group(d)), 2);
	assert_int_equal(ioasid_group__nr_devices(ioasid_device__group(d)), 1);

	/* Host bridge (0x0600) and ISA bridge (0x0601) are not PCI-to-PCI bridges. */
	assert_false(ioasid_device__is_bridge(dev(t, "0000:00:00.0")));
	assert_false(ioasid_device__is_bridge(dev(t, "0000:00:1f.0")));
	assert_null(ioasid_topology__find_device(t, "0000:09:00.0"));
	assert_null(ioasid_topology__find_group(t, 4));
	/* Groups by index come in increasing number. */
	assert_int_equal(ioasid_group__id(ioasid_topology__group(t, 3)), 3);
	assert_null(ioasid_topology__group(t, 4));
	ioasid_topology__free(t);
}

/* Variants of the lab's driver states: the driver each e1000 and edu is on. */
static const struct {
	const char *name;
	const char *e1, *e2, *edu;
} states[] = {
	{ "q35-host", "e1000", "e1000", NULL },
	{ "q35-one-vfio", "vfio-pci", "e1000", "vfio-pci" },
	{ "q35-both-vfio", "vfio-pci", "vfio-pci", "vfio-pci" },
	{ "q35-one-unbound", "vfio-pci", NULL, "vfio-pci" },
};

static void assert_driver(const struct ioasid_device *d, const char *want)
{
	if (!want)
		assert_null(ioasid_device__driver(d));
	else
		assert_string_equal(ioasid_device__driver(d), want);
}

static void test_q35_states(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct ioasid_topology *t = do_load(states[i].name);

		assert_driver(dev(t, "0000:01:01.0"), states[i].e1);
		assert_driver(dev(t, "0000:01:02.0"), states[i].e2);
		assert_driver(dev(t, "0000:00:03.0"), states[i].edu);
		ioasid_topology__free(t);
	}
}

static void test_empty_group_and_groupless_device(void **state)
{
	struct ioasid_topology *t = do_load("odd-empty-group");
	const struct ioasid_group *g = ioasid_topology__find_group(t, 7);

	assert_non_null(g);
	assert_int_equal(ioasid_group__nr_devices(g), 0);
	assert_int_equal(ioasid_group__nr_resv(g), 0);
	assert_string_equal(ioasid_group__type(g), "blocked");
	assert_null(ioasid_device__group(dev(t, "0000:00:04.0")));
	assert_int_equal(ioasid_topology__nr_devices(t), 2);
	ioasid_topology__free(t);
}

static void test_missing_files(void **state)
{
	do_load_err(ENOENT, "odd-missing-vendor", "0000:00:03.0/vendor: No such file or directory");
	do_load_err(ENOENT, "odd-missing-resv", "iommu_groups/2/reserved_regions: No such file");
	do_load_err(ENOENT, "does-not-exist", "does-not-exist: No such file or directory");
}

static void test_garbage(void **state)
{
	do_load_err(EINVAL, "odd-garbage-class", "0000:00:03.0/class: malformed content '\\x01\\x02zz'");
	do_load_err(EINVAL, "odd-garbage-resv", "reserved_regions: line 2: malformed region '0xfee00000 msi'");
	do_load_err(EINVAL, "odd-garbage-type", "iommu_groups/2/type: malformed domain type 'DM A'");
	do_load_err(EINVAL, "odd-wrong-group", "iommu_group: points to group 9 but the device is listed in group 2");
}

/* Links that escape on the host resolve inside the snapshot, to the snapshot's device. */
static void test_links_stay_inside(void **state)
{
	const char *names[] = { "odd-absolute-link", "odd-climbing-link" };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct ioasid_topology *t = do_load(names[i]);
		const struct ioasid_device *d = dev(t, "0000:00:03.0");

		assert_int_equal(ioasid_device__vendor(d), 0x1234);
		assert_int_equal(ioasid_device__device_id(d), 0x11e8);
		assert_string_equal(ioasid_device__driver(d), "vfio-pci");
		ioasid_topology__free(t);
	}
}

/* The live system loads or fails with a message; it never crashes. */
static void test_live_system(void **state)
{
	struct ioasid_topology *t = NULL;
	struct ioasid_error err = { "" };
	int ret;

	ret = _do_load(NULL, &t, &err);
	if (ret) {
		assert_true(ret < 0);
		assert_true(err.msg[0] != '\0');
		return;
	}
	assert_string_equal(ioasid_topology__root(t), "/");
	ioasid_topology__free(t);
}

static void test_set_driver(void **state)
{
	struct ioasid_topology *t = do_load("q35-host");

	assert_int_equal(ioasid_topology__set_driver(t, "0000:01:02.0", "vfio-pci"), 0);
	assert_driver(dev(t, "0000:01:02.0"), "vfio-pci");
	assert_int_equal(ioasid_topology__set_driver(t, "0000:01:02.0", NULL), 0);
	assert_driver(dev(t, "0000:01:02.0"), NULL);
	assert_int_equal(ioasid_topology__set_driver(t, "0000:09:00.0", NULL), -ENODEV);
	assert_int_equal(ioasid_topology__set_driver(t, "0000:01:02.0", ""), -EINVAL);
	assert_int_equal(ioasid_topology__set_driver(t, "0000:01:02.0", "a/b"), -EINVAL);
	ioasid_topology__free(t);
}

/* ---- a huge group, generated into a temporary directory ---- */

#define HUGE_DEVS 2048

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void mk(const char *path)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void test_huge_group(void **state)
{
	char root[] = "/tmp/ioasid-huge-XXXXXX", p[PATH_MAX], q[PATH_MAX + 64], bdf[32];
	struct ioasid_topology *t = NULL;
	struct ioasid_error err;
	const struct ioasid_group *g;
	int i, ret;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/0/devices", root);
	mk(p);
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/0/type", root);
	put(p, "DMA\n");
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/0/reserved_regions", root);
	put(p, "0x00000000fee00000 0x00000000feefffff msi\n");
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices", root);
	mk(p);
	for (i = 0; i < HUGE_DEVS; i++) {
		snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.%x", 1 + i / 256, (i / 8) % 32, i % 8);
		snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/%s", root, bdf);
		mk(p);
		snprintf(q, sizeof(q), "%s/vendor", p);
		put(q, "0x8086\n");
		snprintf(q, sizeof(q), "%s/device", p);
		put(q, "0x100e\n");
		snprintf(q, sizeof(q), "%s/class", p);
		put(q, "0x020000\n");
		snprintf(q, sizeof(q), "%s/driver", p);
		assert_int_equal(symlink(i % 2 ? "../../../bus/pci/drivers/vfio-pci" : "../../../bus/pci/drivers/e1000", q), 0);
		snprintf(q, sizeof(q), "%s/iommu_group", p);
		assert_int_equal(symlink("../../../kernel/iommu_groups/0", q), 0);
		snprintf(p, sizeof(p), "../../../devices/pci0000:00/%s", bdf);
		snprintf(q, sizeof(q), "%s/sys/bus/pci/devices/%s", root, bdf);
		assert_int_equal(symlink(p, q), 0);
		snprintf(p, sizeof(p), "../../../../devices/pci0000:00/%s", bdf);
		snprintf(q, sizeof(q), "%s/sys/kernel/iommu_groups/0/devices/%s", root, bdf);
		assert_int_equal(symlink(p, q), 0);
	}
	ret = _do_load(root, &t, &err);
	if (ret)
		print_error("%s\n", err.msg);
	assert_int_equal(ret, 0);
	g = ioasid_topology__find_group(t, 0);
	assert_int_equal(ioasid_group__nr_devices(g), HUGE_DEVS);
	assert_string_equal(ioasid_device__name(ioasid_group__device(g, 0)), "0000:01:00.0");
	assert_string_equal(ioasid_device__driver(ioasid_group__device(g, 1)), "vfio-pci");
	ioasid_topology__free(t);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Real captures of the lab guests (tests/vm/utilities/capture-sysfs.sh) on both kernels,
 * in both states of the multi-device group: edu (1234:11e8) alone in its group, the
 * pci-bridge and two e1000 (8086:100e) in one group, MSI window reserved everywhere.
 */
static const struct {
	const char *name;
	const char *e2;			/* driver of 0000:01:02.0 */
} lab_captures[] = {
	{ "lab-debian-one-vfio", "e1000" },
	{ "lab-debian-both-vfio", "vfio-pci" },
	{ "lab-iommufd-one-vfio", "e1000" },
	{ "lab-iommufd-both-vfio", "vfio-pci" },
};

static void assert_msi_window(const struct ioasid_group *g)
{
	const struct ioasid_resv_region *r;
	size_t i;

	for (i = 0; (r = ioasid_group__resv(g, i)); i++)
		if (r->type == IOASID_RESV_MSI && r->start == 0xfee00000ULL &&
		    r->last == 0xfeefffffULL)
			return;
	fail_msg("group %u has no MSI window 0xfee00000-0xfeefffff", ioasid_group__id(g));
}

static void test_lab_captures(void **state)
{
	size_t i, k;

	for (i = 0; i < sizeof(lab_captures) / sizeof(lab_captures[0]); i++) {
		struct ioasid_topology *t = do_load(lab_captures[i].name);
		const struct ioasid_device *edu = dev(t, "0000:00:03.0");
		const struct ioasid_device *br = dev(t, "0000:00:02.0");
		const struct ioasid_device *e1 = dev(t, "0000:01:01.0");
		const struct ioasid_device *e2 = dev(t, "0000:01:02.0");
		const struct ioasid_group *g = ioasid_device__group(e1);

		assert_int_equal(ioasid_device__vendor(edu), 0x1234);
		assert_int_equal(ioasid_device__device_id(edu), 0x11e8);
		assert_string_equal(ioasid_device__driver(edu), "vfio-pci");
		assert_int_equal(ioasid_group__nr_devices(ioasid_device__group(edu)), 1);
		assert_msi_window(ioasid_device__group(edu));

		assert_non_null(g);
		assert_int_equal(ioasid_group__nr_devices(g), 3);
		assert_ptr_equal(ioasid_device__group(e2), g);
		assert_ptr_equal(ioasid_device__group(br), g);
		assert_true(ioasid_device__is_bridge(br));
		assert_null(ioasid_device__driver(br));
		for (k = 0; k < 2; k++) {
			const struct ioasid_device *e = k ? e2 : e1;

			assert_int_equal(ioasid_device__vendor(e), 0x8086);
			assert_int_equal(ioasid_device__device_id(e), 0x100e);
			assert_false(ioasid_device__is_bridge(e));
		}
		assert_string_equal(ioasid_device__driver(e1), "vfio-pci");
		assert_string_equal(ioasid_device__driver(e2), lab_captures[i].e2);
		assert_msi_window(g);
		assert_true(ioasid_topology__nr_groups(t) >= 2);
		ioasid_topology__free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q35_host),
		cmocka_unit_test(test_q35_states),
		cmocka_unit_test(test_empty_group_and_groupless_device),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_links_stay_inside),
		cmocka_unit_test(test_live_system),
		cmocka_unit_test(test_set_driver),
		cmocka_unit_test(test_huge_group),
		cmocka_unit_test(test_lab_captures),
	};

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set IOGUARD_FIXTURES)\n");
		return 77;
	}
	if (fixture_make_empty_dirs())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
