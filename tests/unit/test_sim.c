// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the object model (src/ioasid/ctx.c, device.c, ioas.c) on the sim backend
 * (src/ioasid/sim.c): every conformance scenario of tests/conformance/ on the q35
 * snapshot with both e1000 and edu on vfio-pci, plus sim-only checks (non-viable
 * groups, error injection with nothing leaked).
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
#include "../conformance/scenarios.h"

/* Fixture: a topology and a sim backend on it. */
struct fix {
	struct ioasid_topology *topo;
	struct ioasid_backend *be;
};

static struct fix *fix_open(const char *snapshot, const struct ioasid_backend_opts *opts)
{
	static char path[2 * PATH_MAX];
	struct ioasid_error err;
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(path, sizeof(path), "%s/%s", fixtures, snapshot);
	if (ioasid_topology__load(path, &f->topo, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ioasid_backend__open(f->topo, opts, &f->be), 0);
	return f;
}

static void fix_close(struct fix *f)
{
	ioasid_backend__close(f->be);
	ioasid_topology__free(f->topo);
	free(f);
}

static int setup_both_vfio(void **state)
{
	*state = fix_open("q35-both-vfio", NULL);
	return 0;
}

static int teardown_fix(void **state)
{
	fix_close(*state);
	return 0;
}

/* Sim user addresses are never touched: any page-aligned number serves. */
#define SIM_BUF 0x7f0000000000ULL

static void run_scenario(void **state)
{
	const struct sc_case *c = *state;
	struct fix *f = fix_open("q35-both-vfio", NULL);
	struct sc_env env = {
		.be = f->be,
		.single = "0000:00:03.0",
		.pair = { "0000:01:01.0", "0000:01:02.0" },
		.buf = SIM_BUF,
		.buf_size = SC_BUF_SIZE,
		.log = stderr,
	};
	int ret = c->run(&env);

	fix_close(f);
	if (ret)
		fail_msg("scenario %s failed", c->name);
}

/* Helpers in threes for bind. */
static int _do_bind_dev(struct ioasid_ctx *ctx, const char *name, uint32_t *id)
{
	return ioasid_device__bind(ctx, name, id);
}

static uint32_t do_bind_dev(struct ioasid_ctx *ctx, const char *name)
{
	uint32_t id = 0;
	int ret = _do_bind_dev(ctx, name, &id);

	if (ret)
		fail_msg("bind %s: %s", name, ioasid_ctx__last_error(ctx)->msg);
	return id;
}

static void do_bind_dev_err(int expect, struct ioasid_ctx *ctx, const char *name,
			    const char *msg_part)
{
	uint32_t id;

	assert_int_equal(_do_bind_dev(ctx, name, &id), -expect);
	assert_int_equal(errno, expect);
	if (!strstr(ioasid_ctx__last_error(ctx)->msg, msg_part))
		fail_msg("message '%s' lacks '%s'", ioasid_ctx__last_error(ctx)->msg, msg_part);
}

/* Group 1 with 01:02.0 still on e1000: nobody can claim it; 01:02.0 has no VFIO device. */
static void test_bind_non_viable(void **state)
{
	struct fix *f = fix_open("q35-one-vfio", NULL);
	struct ioasid_ctx *ctx;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	do_bind_dev_err(EPERM, ctx, "0000:01:01.0",
			"0000:01:02.0 is bound to e1000, which uses the kernel DMA API");
	do_bind_dev_err(ENODEV, ctx, "0000:01:02.0", "not bound to a VFIO driver (driver: e1000)");
	do_bind_dev_err(ENODEV, ctx, "0000:00:02.0", "not bound to a VFIO driver (driver: none)");
	do_bind_dev_err(ENODEV, ctx, "0000:42:00.0", "no such device");
	do_bind_dev(ctx, "0000:00:03.0");
	/* What-if: unbind 01:02.0 from e1000 and the group can be claimed. */
	assert_int_equal(ioasid_topology__set_driver(f->topo, "0000:01:02.0", NULL), 0);
	do_bind_dev(ctx, "0000:01:01.0");
	/* A bound device cannot change driver under the model. */
	assert_int_equal(ioasid_topology__set_driver(f->topo, "0000:01:01.0", "e1000"), -EBUSY);
	ioasid_ctx__free(ctx);
	fix_close(f);
}

/* Strict mode refuses attach while an endpoint of the group is not on a VFIO driver. */
static void test_strict_unbound_endpoint(void **state)
{
	struct ioasid_ctx_opts opts = { .sz = sizeof(opts), .strict = true };
	struct fix *f = fix_open("q35-one-unbound", NULL);
	struct ioasid_ctx *ctx, *lax;
	uint32_t dev, ioas;

	assert_int_equal(ioasid_ctx__new(f->be, &opts, &ctx), 0);
	dev = do_bind_dev(ctx, "0000:01:01.0");
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, ioas), -EPERM);
	assert_non_null(strstr(ioasid_ctx__last_error(ctx)->msg,
			       "0000:01:02.0 is an endpoint bound to no driver"));
	ioasid_ctx__free(ctx);
	/* The kernel rule alone lets it attach. */
	assert_int_equal(ioasid_ctx__new(f->be, NULL, &lax), 0);
	dev = do_bind_dev(lax, "0000:01:01.0");
	assert_int_equal(ioasid_ioas__alloc(lax, &ioas), 0);
	assert_int_equal(ioasid_device__attach(lax, dev, ioas), 0);
	ioasid_ctx__free(lax);
	fix_close(f);
}

/* Reserved regions of the attached group narrow the ranges: the MSI window is a hole. */
static void test_msi_hole(void **state)
{
	struct fix *f = *state;
	struct ioasid_iova_range r[4];
	struct ioasid_ctx *ctx;
	uint32_t dev, ioas, nr = 4;
	uint64_t align;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	dev = do_bind_dev(ctx, "0000:00:03.0");
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, ioas), 0);
	assert_int_equal(ioasid_ioas__iova_ranges(ctx, ioas, r, &nr, &align), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(align, 4096);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffffULL);
	assert_int_equal(r[1].start, 0xfef00000ULL);
	assert_int_equal(r[1].last, (1ULL << 39) - 1);
	ioasid_ctx__free(ctx);
}

/* The automatic IOVA of a 3-page map is 4-page aligned, capped at 2 MiB; never 0. */
static void test_auto_iova_values(void **state)
{
	struct fix *f = *state;
	struct ioasid_ctx *ctx;
	uint32_t dev, ioas;
	uint64_t iova;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	dev = do_bind_dev(ctx, "0000:00:03.0");
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_device__attach(ctx, dev, ioas), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 4096, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova, 4096);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 3 * 4096, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova, 4 * 4096);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF, 8 << 20, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova, 2 << 20);
	/* The user address caps the alignment: 8 KiB aligned address, 64 KiB length. */
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF + 8192, 65536, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova % 8192, 0);
	assert_int_equal(iova, 8 * 4096);
	ioasid_ctx__free(ctx);
}

/* Without a domain a sub-page user address keeps its page offset in the IOVA. */
static void test_auto_iova_page_offset(void **state)
{
	struct fix *f = *state;
	struct ioasid_ctx *ctx;
	uint32_t ioas;
	uint64_t iova;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &ioas), 0);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF + 0x10, 0x100, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova, 4096 + 0x10);
	assert_int_equal(ioasid_ioas__map(ctx, ioas, SIM_BUF + 0x10, 0x100, &iova, IOASID_MAP_READ), 0);
	assert_int_equal(iova % 16, 0);
	assert_true(iova > 4096 + 0x10);
	ioasid_ctx__free(ctx);
}

/*
 * Error injection: the Nth raw operation fails. Whatever fails, closing the context
 * leaves the backend as new: nothing pinned, every device bindable again.
 */
static void test_fail_nth(void **state)
{
	unsigned int nth;

	for (nth = 1; nth <= 12; nth++) {
		struct ioasid_backend_opts opts = { .sz = sizeof(opts), .fail_nth = nth };
		struct fix *f = fix_open("q35-both-vfio", &opts);
		struct ioasid_account acct = { .sz = sizeof(acct) };
		struct ioasid_ctx *ctx, *again;
		uint32_t dev = 0, ioas = 0, ioas2 = 0, id;
		uint64_t iova = 0, iova2 = 0;
		int err = 0;

		assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
		err = err ?: ioasid_device__bind(ctx, "0000:00:03.0", &dev);
		err = err ?: ioasid_ioas__alloc(ctx, &ioas);
		err = err ?: ioasid_ioas__map(ctx, ioas, SIM_BUF, 4 * 4096, &iova, IOASID_MAP_READ);
		err = err ?: ioasid_device__attach(ctx, dev, ioas);
		err = err ?: ioasid_ioas__map(ctx, ioas, SIM_BUF, 4 * 4096, &iova2, IOASID_MAP_READ);
		err = err ?: ioasid_ioas__alloc(ctx, &ioas2);
		err = err ?: ioasid_ioas__copy(ctx, ioas2, ioas, iova, 4 * 4096, &iova2, IOASID_MAP_READ);
		err = err ?: ioasid_device__attach(ctx, dev, ioas2);
		assert_true(err == 0 || err == -ENOMEM);
		assert_int_equal(ioasid_ctx__account(ctx, &acct), 0);
		/* Pins match what is mapped in the IOAS the device is attached to. */
		assert_true(acct.pinned_pages <= 8);
		ioasid_ctx__free(ctx);

		/* The injected failure fires once; if phase one did not reach it, it is here. */
		assert_int_equal(ioasid_ctx__new(f->be, NULL, &again), 0);
		err = ioasid_device__bind(again, "0000:00:03.0", &id);
		if (err == -ENOMEM)
			err = ioasid_device__bind(again, "0000:00:03.0", &id);
		assert_int_equal(err, 0);
		assert_int_equal(ioasid_ctx__account(again, &acct), 0);
		assert_int_equal(acct.pinned_pages, 0);
		assert_int_equal(acct.nr_groups, 1);
		ioasid_ctx__free(again);
		fix_close(f);
	}
}

/* Ids are allocated lowest-free from 1 in one space shared by devices and IOAS. */
static void test_ids(void **state)
{
	struct fix *f = *state;
	struct ioasid_ctx *ctx;
	uint32_t a, b, c, d;

	assert_int_equal(ioasid_ctx__new(f->be, NULL, &ctx), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &a), 0);
	b = do_bind_dev(ctx, "0000:00:03.0");
	assert_int_equal(ioasid_ioas__alloc(ctx, &c), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 3);
	assert_int_equal(ioasid_ioas__destroy(ctx, a), 0);
	assert_int_equal(ioasid_ioas__alloc(ctx, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(ioasid_ioas__destroy(ctx, 0), -ENOENT);
	assert_int_equal(ioasid_ioas__destroy(ctx, 1000), -ENOENT);
	ioasid_ctx__free(ctx);
}

static void test_backend_open(void **state)
{
	struct ioasid_backend_opts opts = { .sz = sizeof(opts), .name = "nonesuch" };
	struct fix *f = *state;
	struct ioasid_backend *be;

	assert_int_equal(ioasid_backend__open(f->topo, &opts, &be), -EOPNOTSUPP);
	opts.name = NULL;
	opts.max_alignment = 3;
	assert_int_equal(ioasid_backend__open(f->topo, &opts, &be), -EINVAL);
	assert_string_equal(ioasid_backend__name(f->be), "sim");
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_bind_non_viable),
		cmocka_unit_test(test_strict_unbound_endpoint),
		cmocka_unit_test_setup_teardown(test_msi_hole, setup_both_vfio, teardown_fix),
		cmocka_unit_test_setup_teardown(test_auto_iova_values, setup_both_vfio, teardown_fix),
		cmocka_unit_test_setup_teardown(test_auto_iova_page_offset, setup_both_vfio, teardown_fix),
		cmocka_unit_test(test_fail_nth),
		cmocka_unit_test_setup_teardown(test_ids, setup_both_vfio, teardown_fix),
		cmocka_unit_test_setup_teardown(test_backend_open, setup_both_vfio, teardown_fix),
	};
	size_t nf = sizeof(fixed) / sizeof(fixed[0]), i;
	struct CMUnitTest *tests;
	int ret;

	if (find_fixtures()) {
		printf("SKIP: tests/fixtures/sysfs not found (run from the repository or set IOGUARD_FIXTURES)\n");
		return 77;
	}
	tests = calloc(nf + sc_nr_cases, sizeof(*tests));
	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < sc_nr_cases; i++) {
		tests[nf + i] = (struct CMUnitTest){
			.name = sc_cases[i].name,
			.test_func = run_scenario,
			.initial_state = (void *)&sc_cases[i],
		};
	}
	ret = _cmocka_run_group_tests("test_sim", tests, nf + sc_nr_cases, NULL, NULL);
	free(tests);
	return ret;
}
