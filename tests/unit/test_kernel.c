// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of src/ioasid/kernel.c: a group's domain geometry from the IOVA ranges a
 * kernel reports, checked against the group's reserved regions (what both kernel
 * backends do on a first bind), without a kernel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ioasid/ioasid_private.h"

#define MSI_START 0xfee00000ULL
#define MSI_LAST 0xfeefffffULL
#define TOP ((1ULL << 39) - 1)		/* a 39-bit aperture, as VT-d's 3-level tables */
#define PGSIZES 0x40201000ULL		/* 4 KiB, 2 MiB, 1 GiB */

/* A group reserving @nr regions. */
static struct ioasid_group group_of(struct ioasid_resv_region *resv, size_t nr)
{
	return (struct ioasid_group){ .id = 1, .resv = resv, .nr_resv = nr };
}

/* Helpers in threes: the code, success asserted, a given failure asserted. */
static int _do_geometry(const struct ioasid_group *g, const struct ioasid_iova_range *r,
			uint32_t nr, struct ioasid_geometry *geo)
{
	return kernel_geometry_from_ranges(g, r, nr, PGSIZES, geo);
}

static void do_geometry(const struct ioasid_group *g, const struct ioasid_iova_range *r,
			uint32_t nr, struct ioasid_geometry *geo)
{
	assert_int_equal(_do_geometry(g, r, nr, geo), 0);
}

static void do_geometry_err(int e, const struct ioasid_group *g,
			    const struct ioasid_iova_range *r, uint32_t nr)
{
	struct ioasid_geometry geo;

	assert_int_equal(_do_geometry(g, r, nr, &geo), -e);
}

/* The MSI window is the one hole: the aperture spans both ranges. */
static void test_msi_hole(void **state)
{
	struct ioasid_resv_region msi = { MSI_START, MSI_LAST, IOASID_RESV_MSI };
	struct ioasid_group g = group_of(&msi, 1);
	const struct ioasid_iova_range r[] = { { 0, MSI_START - 1 }, { MSI_LAST + 1, TOP } };
	struct ioasid_geometry geo;

	do_geometry(&g, r, 2, &geo);
	assert_int_equal(geo.aperture_start, 0);
	assert_int_equal(geo.aperture_last, TOP);
	assert_int_equal(geo.pgsize_bitmap, PGSIZES);
}

/* The kernel leaves direct-relaxable regions mappable; so does the check. */
static void test_direct_relaxable_is_no_hole(void **state)
{
	struct ioasid_resv_region resv[] = {
		{ MSI_START, MSI_LAST, IOASID_RESV_MSI },
		{ 0x100000, 0x1fffff, IOASID_RESV_DIRECT_RELAXABLE },
	};
	struct ioasid_group g = group_of(resv, 2);
	const struct ioasid_iova_range r[] = { { 0, MSI_START - 1 }, { MSI_LAST + 1, TOP } };
	struct ioasid_geometry geo;

	do_geometry(&g, r, 2, &geo);
}

/* Unsorted regions, one overlapping another and one above the aperture the kernel reports. */
static void test_overlapping_and_top_regions(void **state)
{
	struct ioasid_resv_region resv[] = {
		{ TOP - 0xfff, TOP, IOASID_RESV_RESERVED },
		{ MSI_START, MSI_LAST, IOASID_RESV_MSI },
		{ MSI_START + 0x1000, MSI_LAST + 0x1000, IOASID_RESV_RESERVED },
	};
	struct ioasid_group g = group_of(resv, 3);
	const struct ioasid_iova_range r[] = {
		{ 0, MSI_START - 1 }, { MSI_LAST + 0x1001, TOP - 0x1000 },
	};
	struct ioasid_geometry geo;

	do_geometry(&g, r, 2, &geo);
	assert_int_equal(geo.aperture_last, TOP - 0x1000);
}

/* A hole sysfs does not predict, or a predicted hole the kernel lacks: the model would
 * disagree with the kernel. */
static void test_unpredicted_holes(void **state)
{
	struct ioasid_resv_region msi = { MSI_START, MSI_LAST, IOASID_RESV_MSI };
	struct ioasid_group with_msi = group_of(&msi, 1), bare = group_of(NULL, 0);
	const struct ioasid_iova_range split[] = { { 0, MSI_START - 1 }, { MSI_LAST + 1, TOP } };
	const struct ioasid_iova_range whole[] = { { 0, TOP } };
	const struct ioasid_iova_range wider[] = { { 0, MSI_START + 0xfff }, { MSI_LAST + 1, TOP } };

	do_geometry_err(EPROTO, &bare, split, 2);
	do_geometry_err(EPROTO, &with_msi, whole, 1);
	do_geometry_err(EPROTO, &with_msi, wider, 2);
}

static void test_no_ranges(void **state)
{
	struct ioasid_group g = group_of(NULL, 0);
	const struct ioasid_iova_range r[] = { { 0, TOP } };
	struct ioasid_geometry geo;

	do_geometry_err(EINVAL, &g, r, 0);
	assert_int_equal(kernel_geometry_from_ranges(&g, r, 1, 0, &geo), -EINVAL);
}

/* Whatever this host runs: a power of two, at least the page size. */
static void test_max_alignment(void **state)
{
	uint64_t a = kernel_max_alignment();

	assert_true(a >= IOASID_PAGE_SIZE);
	assert_int_equal(a & (a - 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msi_hole),
		cmocka_unit_test(test_direct_relaxable_is_no_hole),
		cmocka_unit_test(test_overlapping_and_top_regions),
		cmocka_unit_test(test_unpredicted_holes),
		cmocka_unit_test(test_no_ranges),
		cmocka_unit_test(test_max_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
