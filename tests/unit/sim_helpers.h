/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Test helper for libioasid's object model on the sim backend: a sysfs fixture loaded as
 * a topology and a sim backend opened on it, or the test fails. The q35-both-vfio
 * fixture has 0000:00:03.0 alone in group 2 and 0000:01:01.0, 0000:01:02.0 in group 1,
 * all on vfio-pci; 0000:00:1f.0 is on lpc_ich. Needs fixture_helpers.h's find_fixtures().
 */
#ifndef IOGUARD_TEST_SIM_HELPERS_H
#define IOGUARD_TEST_SIM_HELPERS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture_helpers.h"
#include "ioasid/ioasid.h"

#define SIM_SINGLE "0000:00:03.0"
#define SIM_PAIR_A "0000:01:01.0"
#define SIM_PAIR_B "0000:01:02.0"
/* Sim user addresses are never touched: any page-aligned number serves. */
#define SIM_BUF 0x7f0000000000ULL

struct sim_fix {
	struct ioasid_topology *topo;
	struct ioasid_backend *be;
};

static inline struct sim_fix *sim_fix_open(const char *snapshot)
{
	static char path[2 * PATH_MAX];
	struct ioasid_error err;
	struct sim_fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(path, sizeof(path), "%s/%s", fixtures, snapshot);
	if (ioasid_topology__load(path, &f->topo, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ioasid_backend__open(f->topo, NULL, &f->be), 0);
	return f;
}

static inline void sim_fix_close(struct sim_fix *f)
{
	ioasid_backend__close(f->be);
	ioasid_topology__free(f->topo);
	free(f);
}

/* The context's last error message after a call that failed with @err. */
#define assert_failed_with(ctx, call, err, expected) do {				\
	assert_int_equal((call), (err));						\
	assert_string_equal(ioasid_ctx__last_error(ctx)->msg, (expected));		\
} while (0)

#endif /* IOGUARD_TEST_SIM_HELPERS_H */
