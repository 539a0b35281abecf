// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: the policy parser on arbitrary bytes. A refusal must carry a message;
 * a policy that parses goes on through policy_compile() and the group-viability check
 * against the q35-one-vfio sysfs fixture, whose refusals must carry a message too.
 * FUZZ_SYSFS (compile time) or IOGUARD_FUZZ_SYSFS (run time) names the fixture.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_topology.h"

static struct ioasid_topology *topo;

static void __attribute__((noreturn)) die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_policy: %s%s%s\n", what, detail ? ": " : "", detail ?: "");
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = getenv("IOGUARD_FUZZ_SYSFS") ?: FUZZ_SYSFS;
	struct ioasid_error e = { 0 };

	if (ioasid_topology__load(root, &topo, &e)) {
		fprintf(stderr, "fuzz_policy: cannot load the topology at %s\n", root);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_error perr = POLICY_ERROR_INIT;
	struct compiled_policy *c = NULL;
	struct errbuf eb = { .note = NULL };	/* the warnings are not checked */
	struct policy *p = NULL;
	int ret;

	ret = policy__load_buffer("fuzz.yaml", data, size, &p, &perr);
	if (ret) {
		if (p)
			die("a refused policy came back", perr.msg);
		if (!perr.msg[0] || !perr.cause[0] || perr.err != ret)
			die("a refusal without a message", NULL);
		return 0;
	}
	if (!p || !p->name)
		die("a parsed policy without a name", NULL);

	eb.msg[0] = '\0';
	ret = policy_compile(p, "/nonexistent", &c, &eb);
	if (ret && !eb.msg[0])
		die("a compile refusal without a message", NULL);
	if (!ret && c->n_matches > POLICY_MAX_MATCHES)
		die("a compiled policy above the match table limit", NULL);
	compiled_policy__free(c);

	eb.msg[0] = '\0';
	ret = policy_topology_check(p, topo, &eb);
	if (ret && !eb.msg[0])
		die("a topology refusal without a message", NULL);
	policy__free(p);
	return 0;
}
