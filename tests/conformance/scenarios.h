/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Conformance scenarios of libioasid's object model. Each scenario takes the backend as a
 * parameter, so the same sequence of calls and the same expected errnos run on sim (unit
 * tests, tests/unit/test_sim.c) and on iommufd / vfio in the lab VM. Categories follow
 * the kernel's iommufd selftests (tools/testing/selftests/iommu/iommufd.c): area
 * map/unmap, split refusal, IOVA alignment, reserved/allowed ranges, copy, limits; plus
 * ownership (strict attach, second owner, double bind) and use after destroy.
 *
 * No test framework: a scenario returns 0, or -1 after printing what failed to env->log.
 * Scenarios leave no context behind.
 */
#ifndef IOGUARD_CONFORMANCE_SCENARIOS_H
#define IOGUARD_CONFORMANCE_SCENARIOS_H

#include <stdint.h>
#include <stdio.h>

#include "ioasid/ioasid.h"

/**
 * struct sc_env - what the scenarios run on
 * @be: backend.
 * @single: an endpoint alone in its group, bound to a VFIO driver (the lab's edu).
 * @pair: two endpoints of one group, both bound to a VFIO driver (the lab's e1000s).
 * @buf: page-aligned user address of @buf_size bytes the scenarios may map.
 * @buf_size: at least SC_BUF_SIZE.
 * @log: where failures are described.
 * @max_alignment: the backend's cap of automatic IOVA alignment (opts.max_alignment;
 *	0 means the sim's default, 2 MiB).
 */
struct sc_env {
	struct ioasid_backend *be;
	const char *single;
	const char *pair[2];
	uint64_t buf;
	uint64_t buf_size;
	FILE *log;
	uint64_t max_alignment;
};

#define SC_PAGE 4096ULL
#define SC_BUF_SIZE (1024 * SC_PAGE)

struct sc_case {
	const char *name;
	int (*run)(struct sc_env *env);
};

extern const struct sc_case sc_cases[];
extern const unsigned int sc_nr_cases;

/*
 * When set, receives the result of every int-returning libioasid call the scenarios make,
 * in order (ioasid_ctx__new, ioasid_device__*, ioasid_ioas__* and ioasid_ctx__account):
 * tests/vm/tools/conformance prints them so that runs on two backends compare call by
 * call. NULL (nothing recorded) unless a runner sets it; scenarios run one at a time.
 */
extern void (*sc_on_call)(int ret);

#endif /* IOGUARD_CONFORMANCE_SCENARIOS_H */
