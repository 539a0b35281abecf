/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Compiles a parsed policy into what the enforcement programs read. */
#ifndef IOGUARD_POLICY_COMPILE_H
#define IOGUARD_POLICY_COMPILE_H

#include <linux/types.h>
#include <stddef.h>

#include "output/errbuf.h"
#include "prog/compiled_policy.h"
#include "policy.h"

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
