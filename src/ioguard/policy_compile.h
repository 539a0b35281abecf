/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Compiles a parsed policy into what the enforcement programs read. */
#ifndef IOGUARD_POLICY_COMPILE_H
#define IOGUARD_POLICY_COMPILE_H

#include <linux/types.h>
#include <stddef.h>

#include "ioguard/enforce.h"
#include "policy.h"

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
 * what the programs hold (and says which limit in @err), the errno of
 * file_identity__resolve() for an executable that exists but cannot be resolved (with
 * the file and the cause in @err), or -ENOMEM.
 */
int policy_compile(const struct policy *p, const char *cgroup_root,
		   struct compiled_policy **out, char *err, size_t err_len);
void compiled_policy__free(struct compiled_policy *c);

#endif /* IOGUARD_POLICY_COMPILE_H */
