// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioasid/ctx.c on the sim backend: opening backends and contexts with bad
 * or older (smaller) options, the accounting of a context's objects and pins (an older,
 * smaller struct ioasid_account gets only its fields), the pin limit, and freeing: a
 * context frees what it still holds (devices before the IOAS they are on) and lets go of
 * its groups, and closing a backend frees its contexts. Leaks fail the test under
 * valgrind and ASan.
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

static void test_backend_options(void **state)
{
	struct sim_fix *f = sim_fix_open("q35-both-vfio");
	struct ioasid_backend_opts opts = { .sz = sizeof(opts) };
	struct ioasid_backend *be = NULL;

	assert_int_equal(ioasid_backend__open(NULL, NULL, &be), -EINVAL);
	assert_int_equal(ioasid_backend__open(f->topo, NULL, NULL), -EINVAL);
	opts.sz = sizeof(size_t) - 1;
	assert_int_equal(ioasid_backend__open(f->topo, &opts, &be), -EINVAL);
	assert_int_equal(errno, EINVAL);
	/* Options from before @name existed: the default backend. */
	opts.sz = sizeof(size_t);
	assert_int_equal(ioasid_backend__open(f->topo, &opts, &be), 0);
	assert_string_equal(ioasid_backend__name(be), "sim");
	ioasid_backend__close(be);
	ioasid_backend__close(NULL);
	sim_fix_close(f);
}

static void test_context_options(void **state)
{
	struct sim_fix *f = sim_fix_open("q35-both-vfio");
	struct ioasid_ctx_opts opts = { .sz = sizeof(size_t) - 1 };
	struct ioasid_ctx *ctx = NULL;

	assert_int_equal(ioasid_ctx__new(NULL, NULL, &ctx), -EINVAL);
	assert_int_equal(ioasid_ctx__new(f->be, NULL, NULL), -EINVAL);
	assert_int_equal(ioasid_ctx__new(f->be, &opts, &ctx), -EINVAL);
	assert_null(ctx);
	opts.sz = sizeof(opts);
	assert_int_equal(ioasid_ctx__new(f->be, &opts, &ctx), 0);
	assert_string_equal(ioasid_ctx__last_error(ctx)->msg, "");
	ioasid_ctx__free(ctx);
	ioasid_ctx__free(NULL);
	sim_fix_close(f);
}

static void test_account(void **state)
{
	struct sim_fix *f = sim_fix_open("q35-both-vfio");
	struct ioasid_account acct = { .sz = sizeof(acct) }, old;
	struct ioasid_ctx *ctx;
	uint32_t a, b, single, ioas;
	uint64_t iova = 0;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	assert_int_equal(ioasid_ctx__account(NULL, &acct), -EINVAL);
	assert_int_equal(ioasid_ctx__account(ctx, NULL), -EINVAL);
	assert_int_equal(ioasid_device__bind(ctx, SIM_PAIR_A, &a), 0);
	assert_int_equal(ioasid_device__bind(ctx, SIM_PAIR_B, &b), 0);
	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &single), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, single, ioas), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 3 * P, &iova, RW), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, P, &iova, RW), 0);

	assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
	assert_int_equal(acct.sz, sizeof(acct));
	assert_int_equal(acct.nr_devices, 3);
	assert_int_equal(acct.nr_groups, 2);
	assert_int_equal(acct.nr_ioas, 1);
	assert_int_equal(acct.nr_areas, 2);
	assert_int_equal(acct.mapped_bytes, 4 * P);
	assert_int_equal(acct.pinned_pages, 4);

	/* A caller built before pinned_pages existed gets the fields it has, no more. */
	memset(&old, 0xff, sizeof(old));
	old.sz = offsetof(struct ioasid_account, pinned_pages);
	assert_int_equal(ioasid_ctx__account(ctx, &old), 0);
	assert_int_equal(old.mapped_bytes, 4 * P);
	assert_int_equal(old.pinned_pages, UINT64_MAX);
	old.sz = offsetof(struct ioasid_account, pinned_pages) - 1;
	assert_int_equal(ioasid_ctx__account(ctx, &old), -EINVAL);

	/* Unbinding one device of a group keeps the group; the last one releases it. */
	assert_int_equal(ioasid_device__unbind(ctx, a), 0);
	assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
	assert_int_equal(acct.nr_groups, 2);
	assert_int_equal(ioasid_device__unbind(ctx, b), 0);
	assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
	assert_int_equal(acct.nr_groups, 1);
	ioasid_ctx__free(ctx);
	sim_fix_close(f);
}

static void test_pin_limit(void **state)
{
	struct sim_fix *f = sim_fix_open("q35-both-vfio");
	struct ioasid_ctx_opts opts = { .sz = sizeof(opts), .pin_limit_pages = 4 };
	struct ioasid_account acct = { .sz = sizeof(acct) };
	struct ioasid_ctx *ctx;
	uint32_t dev, ioas;
	uint64_t iova = 0;

	assert_int_equal(ioasid_ctx__new(f->be, &opts, &ctx), 0);
	assert_int_equal(ioasid_device__bind(ctx, SIM_SINGLE, &dev), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, ioas), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 3 * P, &iova, RW), 0);
	assert_failed_with(ctx, ioasid_ioas__map(ctx, ioas, SIM_BUF, 2 * P, &iova, RW), -ENOMEM,
			   "map IOAS 2: pinning would exceed the limit, or out of memory");
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, P, &iova, RW), 0);
	assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
	assert_int_equal(acct.pinned_pages, 4);
	/* Unmapping gives the pages back. */
	assert_int_equal(ioasid_ioas__unmap_all(ctx, ioas, NULL), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 4 * P, &iova, RW), 0);
	ioasid_ctx__free(ctx);
	sim_fix_close(f);
}

static void test_free_what_is_held(void **state)
{
	struct sim_fix *f = sim_fix_open("q35-both-vfio");
	struct ioasid_ctx *ctx, *other, *left;
	uint32_t dev, ioas;
	uint64_t iova = 0;

	/* A context freed with a device attached and memory mapped. */
	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	assert_int_equal(ioasid_device__bind(ctx, SIM_PAIR_A, &dev), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, ioas), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, P, &iova, RW), 0);
	ioasid_ctx__free(ctx);
	/* Its group is free for the next owner. */
	assert_int_equal(ioasid_ctx__new(f->be, NULL, &other), 0);
	assert_int_equal(ioasid_device__bind(other, SIM_PAIR_B, &dev), 0);
	/* Closing the backend frees the contexts still open on it. */
	assert_int_equal(ioasid_ctx__new(f->be, NULL, &left), 0);
	assert_int_equal(ioasid_ioas__alloc(left, &ioas), 0);
	sim_fix_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_options),
		cmocka_unit_test(test_context_options),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_pin_limit),
		cmocka_unit_test(test_free_what_is_held),
	};

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set "
		       "IOGUARD_FIXTURES)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
