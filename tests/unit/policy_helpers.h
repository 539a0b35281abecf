/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Test helper: a policy parsed from text (owner check off), or the test fails. */
#ifndef IOGUARD_TEST_POLICY_HELPERS_H
#define IOGUARD_TEST_POLICY_HELPERS_H

#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

static inline struct policy *parse_policy_text(const char *text)
{
	struct policy_load_opts opts = { .sz = sizeof(opts), .skip_owner_check = true };
	struct policy_error perr = POLICY_ERROR_INIT;
	char path[] = "/tmp/ioguard-test-policy-XXXXXX";
	struct policy *p = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (policy__load(path, &opts, &p, &perr))
		fail_msg("policy did not parse: %s", perr.msg);
	unlink(path);
	return p;
}

#endif /* IOGUARD_TEST_POLICY_HELPERS_H */
