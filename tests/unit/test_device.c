// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioasid/device.c on the sim backend: why a bind is refused (no such device,
 * no IOMMU group, no VFIO driver, bound twice, a group another context owns), each with
 * its errno and the context's message; attach, detach and unbind with bad ids;
 * attaching to the IOAS a device is already on changes nothing, attaching elsewhere
 * moves it, and unbind detaches first. The conformance scenarios (test_sim) cover the
 * errnos shared with the kernel backends; the messages are libioasid's own.
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

struct dev_fix {
	struct sim_fix *sim;
	struct ioasid_ctx *ctx;
};

static int setup(void **state)
{
	struct dev_fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sim = sim_fix_open("q35-both-vfio");
	assert_int_equal(ioasid_ctx__new(f->sim->be, NULL, &f->ctx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct dev_fix *f = *state;

	ioasid_ctx__free(f->ctx);
	sim_fix_close(f->sim);
	free(f);
	return 0;
}

static void test_bind_refusals(void **state)
{
	struct dev_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint32_t id;

	assert_int_equal(ioasid_device__bind(NULL, SIM_SINGLE, &id), -EINVAL);
	assert_int_equal(ioasid_device__bind(ctx, NULL, &id), -EINVAL);
	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, NULL), -EINVAL);
	assert_failed_with(ctx, ioasid_device__bind(ctx, "0000:09:00.0", &id), -ENODEV,
			   "bind 0000:09:00.0: no such device");
	assert_int_equal(errno, ENODEV);
	assert_failed_with(ctx, ioasid_device__bind(ctx, "0000:00:1f.0", &id), -ENODEV,
			   "bind 0000:00:1f.0: not bound to a VFIO driver (driver: lpc_ich)");
	assert_failed_with(ctx, ioasid_device__bind(ctx, "0000:00:02.0", &id), -ENODEV,
			   "bind 0000:00:02.0: not bound to a VFIO driver (driver: none)");
	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &id), 0);
	assert_failed_with(ctx, ioasid_device__bind(ctx, SIM_SINGLE, &id), -EINVAL,
			   "bind 0000:00:03.0: the device is already bound");
}

static void test_bind_without_group(void **state)
{
	struct sim_fix *sim = sim_fix_open("odd-empty-group");
	struct ioasid_ctx *ctx;
	uint32_t id;

	assert_int_equal(ioasid_ctx__new(sim->be, NULL, &ctx), 0);
	assert_failed_with(ctx, ioasid_device__bind(ctx, "0000:00:04.0", &id), -ENODEV,
			   "bind 0000:00:04.0: the device has no IOMMU group");
	ioasid_ctx__free(ctx);
	sim_fix_close(sim);
}

static void test_group_of_another_owner(void **state)
{
	struct dev_fix *f = *state;
	struct ioasid_ctx *other;
	uint32_t a, b;

	assert_int_equal(ioasid_device__bind(f->ctx, SIM_PAIR_A, &a), 0);
	assert_int_equal(ioasid_ctx__new(f->sim->be, NULL, &other), 0);
	assert_failed_with(other, ioasid_device__bind(other, SIM_PAIR_B, &b), -EPERM,
			   "bind 0000:01:02.0: group 1 is claimed by another owner");
	/* Once the first owner lets go, the group is free. */
	assert_int_equal(ioasid_device__unbind(f->ctx, a), 0);
	assert_int_equal(ioasid_device__bind(other, SIM_PAIR_B, &b), 0);
	ioasid_ctx__free(other);
}

static void test_bad_ids(void **state)
{
	struct dev_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	uint32_t dev, ioas;

	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &dev), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(NULL, dev, ioas), -EINVAL);
	assert_int_equal(ioasid_device__detach(NULL, dev), -EINVAL);
	assert_int_equal(ioasid_device__unbind(NULL, dev), -EINVAL);
	assert_failed_with(ctx, ioasid_device__attach(ctx, 77, ioas), -ENOENT,
			   "attach: no device with id 77");
	assert_failed_with(ctx, ioasid_device__attach(ctx, dev, 78), -ENOENT,
			   "attach 0000:00:03.0: no IOAS with id 78");
	/* An IOAS id is no device id, and the other way round. */
	assert_failed_with(ctx, ioasid_device__attach(ctx, ioas, dev), -ENOENT,
			   "attach: no device with id 2");
	assert_failed_with(ctx, ioasid_device__detach(ctx, 77), -ENOENT,
			   "detach: no device with id 77");
	assert_failed_with(ctx, ioasid_device__unbind(ctx, 77), -ENOENT,
			   "unbind: no device with id 77");
}

static void test_attach_same_then_move_then_unbind(void **state)
{
	struct dev_fix *f = *state;
	struct ioasid_ctx *ctx = f->ctx;
	struct ioasid_account acct = { .sz = sizeof(acct) };
	uint32_t dev, first, second;

	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &dev), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &first), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &second), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, first), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, first), 0);
	assert_int_equal(ioasid_ioas__destroy(ctx, first), -EBUSY);
	/* Attaching elsewhere moves the device: the first IOAS is free again. */
	assert_int_equal(ioasid_device__attach(ctx, dev, second), 0);
	assert_int_equal(ioasid_ioas__destroy(ctx, first), 0);
	/* Unbind detaches first. */
	assert_int_equal(ioasid_device__unbind(ctx, dev), 0);
	assert_int_equal(ioasid_ioas__destroy(ctx, second), 0);
	assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
	assert_int_equal(acct.nr_devices, 0);
	assert_int_equal(acct.nr_ioas, 0);
	assert_failed_with(ctx, ioasid_device__detach(ctx, dev), -ENOENT,
			   "detach: no device with id 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_refusals, setup, teardown),
		cmocka_unit_test(test_bind_without_group),
		cmocka_unit_test_setup_teardown(test_group_of_another_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_same_then_move_then_unbind, setup,
						teardown),
	};

	if (find_fixtures() || fixture_make_empty_dirs()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set "
		       "IOGUARD_FIXTURES)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
