/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Compiles a parsed policy into what the enforcement programs read. */
#ifndef IOGUARD_POLICY_COMPILE_H
#define IOGUARD_POLICY_COMPILE_H

#include <linux/types.h>
#include <stddef.h>

#include "errbuf.h"
#include "ioguard/enforce.h"
#include "policy.h"

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

/*
 * policy_compile() - build the slot and the match keys of @p. Cgroup paths resolve to
 * cgroup ids under @cgroup_root (/sys/fs/cgroup), executables to the (s_dev, i_ino) the
 * kernel gives the file (file_identity__resolve(), not stat()'s st_dev). A cgroup or
 * executable that does not exist matches no process and is listed in warnings, as is
 * an executable that is not a regular file. Returns 0, -E2BIG when the policy exceeds
 * what the programs hold (tenants, selectors, windows, exe_sha256 digests, or more than
 * POLICY_MAX_MATCHES match criteria; @eb says which limit), the errno of
 * file_identity__resolve() for an executable that exists but cannot be resolved (with
 * the file and the cause in @eb), or -ENOMEM; @eb's message names no policy file.
 */
int policy_compile(const struct policy *p, const char *cgroup_root,
		   struct compiled_policy **out, struct errbuf *eb);
void compiled_policy__free(struct compiled_policy *c);

/*
 * policy_compile_check_limits() - what policy_compile() refuses with -E2BIG, without
 * compiling (no cgroup or executable is resolved), so that `ioguard policy check` refuses
 * what `load` would. Returns 0 or -E2BIG with the limit in @eb.
 */
int policy_compile_check_limits(const struct policy *p, struct errbuf *eb);

#endif /* IOGUARD_POLICY_COMPILE_H */
