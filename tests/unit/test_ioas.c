// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioasid/ioas.c on the sim backend: the argument checks of every public
 * IOAS call, each with its errno (set in errno too) and the message the context keeps,
 * which the conformance scenarios (test_sim, on every backend) do not look at; copies
 * refused for read-only sources, bad ids and flags; allowed ranges validated before
 * anything changes; destroy refused while a device is attached.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim_helpers.h"

#define P 4096ULL
#define RW (IOASID_MAP_READ | IOASID_MAP_WRITE)

struct ioas_fix {
	struct sim_fix *sim;
	struct ioasid_ctx *ctx;
	uint32_t ioas;
};

static int setup(void **state)
{
	struct ioas_fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sim = sim_fix_open("q35-both-vfio");
	assert_int_equal(ioasid_ctx__new(f->sim->be, NULL, &f->ctx), 0);
	assert_int_equal(ioasid_ioas__alloc(f->ctx, &f->ioas), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct ioas_fix *f = *state;

	ioasid_ctx__free(f->ctx);
	sim_fix_close(f->sim);
	free(f);
	return 0;
}

static void test_null_context(void **state)
{
	uint64_t iova = 0, n;
	uint32_t id;

	errno = 0;
	assert_int_equal(ioasid_ioas__alloc(NULL, &id), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioasid_ioas__destroy(NULL, 1), -EINVAL);
	assert_int_equal(ioasid_ioas__map(NULL, 1, SIM_BUF, P, &iova, RW), -EINVAL);
	assert_int_equal(ioasid_ioas__unmap(NULL, 1, 0, P, &n), -EINVAL);
	assert_int_equal(ioasid_ioas__unmap_all(NULL, 1, &n), -EINVAL);
	assert_int_equal(ioasid_ioas__copy(NULL, 1, 1, 0, P, &iova, RW), -EINVAL);
	assert_int_equal(ioasid_ioas__iova_ranges(NULL, 1, NULL, &id, NULL), -EINVAL);
	assert_int_equal(ioasid_ioas__allow_iovas(NULL, 1, NULL, 0), -EINVAL);
}

static void test_bad_ids(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint64_t iova = 0, n;
	uint32_t nr = 0;

	assert_failed_with(ctx, ioasid_ioas__destroy(ctx, 99), -ENOENT,
			   "IOAS destroy: no IOAS with id 99");
	assert_int_equal(errno, ENOENT);
	assert_failed_with(ctx, ioasid_ioas__map(ctx, 99, SIM_BUF, P, &iova, RW), -ENOENT,
			   "map: no IOAS with id 99");
	assert_failed_with(ctx, ioasid_ioas__unmap(ctx, 99, 0, P, &n), -ENOENT,
			   "unmap: no IOAS with id 99");
	assert_failed_with(ctx, ioasid_ioas__unmap_all(ctx, 99, &n), -ENOENT,
			   "unmap: no IOAS with id 99");
	assert_failed_with(ctx, ioasid_ioas__copy(ctx, f->ioas, 99, 0, P, &iova, RW), -ENOENT,
			   "copy: no IOAS with id 99");
	assert_failed_with(ctx, ioasid_ioas__iova_ranges(ctx, 99, NULL, &nr, NULL), -ENOENT,
			   "IOVA ranges: no IOAS with id 99");
	assert_failed_with(ctx, ioasid_ioas__allow_iovas(ctx, 99, NULL, 0), -ENOENT,
			   "allow IOVAs: no IOAS with id 99");
}

static void test_map_arguments(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint64_t iova = 0;

	assert_failed_with(ctx, ioasid_ioas__map(ctx, f->ioas, SIM_BUF, P, &iova, RW | 0x80),
			   -EOPNOTSUPP, "map: unknown flags 0x80");
	assert_failed_with(ctx, ioasid_ioas__map(ctx, f->ioas, SIM_BUF, UINT64_MAX, &iova, RW),
			   -EOVERFLOW, "map: IOVA or length out of range");
	assert_failed_with(ctx, ioasid_ioas__map(ctx, f->ioas, SIM_BUF, P, &iova, 0), -EINVAL,
			   "map: neither READ nor WRITE requested");
	assert_failed_with(ctx, ioasid_ioas__map(ctx, f->ioas, UINT64_MAX - P + 1, 2 * P, &iova,
						 RW),
			   -EOVERFLOW, "map: user address + length overflows");
	assert_failed_with(ctx, ioasid_ioas__map(ctx, f->ioas, SIM_BUF, 0, &iova, RW), -EINVAL,
			   "map: length 0 is zero");
}

static void test_unmap_arguments(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint64_t n = 7;

	assert_failed_with(ctx, ioasid_ioas__unmap(ctx, f->ioas, 0, 0, &n), -EINVAL,
			   "unmap: zero length");
	assert_failed_with(ctx, ioasid_ioas__unmap(ctx, f->ioas, UINT64_MAX, P, &n), -EOVERFLOW,
			   "unmap: IOVA or length out of range");
	assert_failed_with(ctx, ioasid_ioas__unmap(ctx, f->ioas, UINT64_MAX - P, 2 * P, &n),
			   -EOVERFLOW, "unmap: IOVA + length overflows");
	assert_failed_with(ctx, ioasid_ioas__unmap(ctx, f->ioas, 0x100000, P, &n), -ENOENT,
			   "unmap IOAS 1 0x100000-0x100fff: nothing is mapped there");
	/* An empty IOAS unmaps all without complaint. */
	assert_int_equal(ioasid_ioas__unmap_all(ctx, f->ioas, &n), 0);
	assert_int_equal(n, 0);
}

static void test_copy(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint64_t src = 0x100000, dst = 0;
	uint32_t other;

	assert_int_equal(ioasid_ioas__alloc(ctx, &other), 0);
	assert_int_equal(ioasid_ioas__map(ctx, f->ioas, SIM_BUF, 2 * P, &src,
					  IOASID_MAP_READ | IOASID_MAP_FIXED_IOVA), 0);
	assert_failed_with(ctx, ioasid_ioas__copy(ctx, other, f->ioas, src, P, &dst, RW | 0x100),
			   -EOPNOTSUPP, "copy: unknown flags 0x100");
	assert_failed_with(ctx, ioasid_ioas__copy(ctx, other, f->ioas, src, P, &dst, 0), -EINVAL,
			   "copy: neither READ nor WRITE requested");
	assert_failed_with(ctx, ioasid_ioas__copy(ctx, other, f->ioas, UINT64_MAX, P, &dst, RW),
			   -EOVERFLOW, "copy: IOVA or length out of range");
	assert_failed_with(ctx, ioasid_ioas__copy(ctx, 98, f->ioas, src, P, &dst, RW), -ENOENT,
			   "copy: no IOAS with id 98");
	/* The source is read-only: a writable copy of it is refused. */
	assert_int_equal(ioasid_ioas__copy(ctx, other, f->ioas, src, P, &dst, RW), -EPERM);
	assert_int_equal(ioasid_ioas__copy(ctx, other, f->ioas, src, 2 * P, &dst,
					   IOASID_MAP_READ), 0);
	assert_int_equal(ioasid_ioas__unmap_all(ctx, other, NULL), 0);
}

static void test_allowed_ranges_checked_first(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	struct ioasid_iova_range bad_order[] = { { 0x2000, 0x1000 } };
	struct ioasid_iova_range overlap[] = { { 0x1000, 0x4fff }, { 0x3000, 0x8fff } };
	struct ioasid_iova_range good[] = { { 0x100000, 0x1fffff } };
	uint64_t iova = 0;

	assert_failed_with(ctx, ioasid_ioas__allow_iovas(ctx, f->ioas, bad_order, 1), -EINVAL,
			   "allow IOVAs: range 0 has start >= last");
	assert_failed_with(ctx, ioasid_ioas__allow_iovas(ctx, f->ioas, overlap, 2), -EINVAL,
			   "allow IOVAs: ranges overlap");
	/* Nothing was applied: any IOVA may still be used. */
	iova = 0x10000000;
	assert_int_equal(ioasid_ioas__map(ctx, f->ioas, SIM_BUF, P, &iova,
					  RW | IOASID_MAP_FIXED_IOVA), 0);
	assert_int_equal(ioasid_ioas__unmap_all(ctx, f->ioas, NULL), 0);
	assert_int_equal(ioasid_ioas__allow_iovas(ctx, f->ioas, good, 1), 0);
	/* Automatic IOVAs come from the allowed range only. */
	assert_int_equal(ioasid_ioas__map(ctx, f->ioas, SIM_BUF, P, &iova, RW), 0);
	assert_true(iova >= 0x100000 && iova + P - 1 <= 0x1fffff);
}

static void test_destroy_busy_then_gone(void **state)
{
	struct ioas_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint32_t dev;

	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &dev), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, f->ioas), 0);
	assert_failed_with(ctx, ioasid_ioas__destroy(ctx, f->ioas), -EBUSY,
			   "IOAS destroy 1: 1 device(s) attached");
	assert_int_equal(ioasid_device__detach(ctx, dev), 0);
	assert_int_equal(ioasid_ioas__destroy(ctx, f->ioas), 0);
	assert_failed_with(ctx, ioasid_ioas__destroy(ctx, f->ioas), -ENOENT,
			   "IOAS destroy: no IOAS with id 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_context),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_ranges_checked_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_busy_then_gone, setup, teardown),
	};

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set "
		       "IOGUARD_FIXTURES)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
