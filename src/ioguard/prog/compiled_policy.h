/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One policy as the enforcement programs read it: the slot of the `policies` map and the
 * keys of the `matches` map. policy/policy_compile.c builds it from a policy file;
 * prog/enforcer.c writes it into the pinned maps. It lives beside the programs' loader
 * because its limits are the maps' sizes.
 */
#ifndef IOGUARD_COMPILED_POLICY_H
#define IOGUARD_COMPILED_POLICY_H

#include <stddef.h>

#include "ioguard/enforce.h"

/*
 * Entries of the enforcement programs' `matches` hash map (bpf/enforce.bpf.c,
 * max_entries; tests/unit/test_policy_compile.c checks the two agree). Both policy
 * generations share the map: the active policy's keys stay while the next policy's are
 * written, so a policy that used more than half could be loaded once and never swapped.
 * One key per uid, gid, cgroup and exe value.
 */
#define POLICY_MATCHES_MAP_ENTRIES 4096
#define POLICY_MAX_MATCHES (POLICY_MATCHES_MAP_ENTRIES / 2)

struct compiled_policy {
	struct ioguard_policy_slot slot;
	struct ioguard_match_key *matches;	/* gen left 0: set when written */
	size_t n_matches;
	/* Criteria values that resolved to nothing (missing cgroup or executable). */
	char warnings[1024];
};

#endif /* IOGUARD_COMPILED_POLICY_H */
