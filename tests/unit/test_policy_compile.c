// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the enforcement programs read: slots, selectors and match keys of a policy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy_helpers.h"

#include "policy/file_identity.h"
#include "policy/policy_compile.h"
#include "enforce.skel.h"

static struct compiled_policy *compile_ok(struct policy *p, const char *cgroup_root)
{
	struct compiled_policy *c = NULL;
	struct errbuf eb = { .note = NULL };

	if (policy_compile(p, cgroup_root, &c, &eb))
		fail_msg("compile failed: %s", eb.msg);
	return c;
}

static size_t count_matches(const struct compiled_policy *c, __u32 tenant, __u32 kind)
{
	size_t i, n = 0;

	for (i = 0; i < c->n_matches; i++)
		n += c->matches[i].tenant == tenant && c->matches[i].kind == kind;
	return n;
}

static void test_settings_and_identity(void **state)
{
	struct policy *p = parse_policy_text("name: lab\nmode: audit\ndefault: allow\nviability: strict\n");
	struct compiled_policy *c = compile_ok(p, "/nonexistent");

	assert_int_equal(c->slot.loaded, 1);
	assert_int_equal(c->slot.mode, IOGUARD_MODE_AUDIT);
	assert_int_equal(c->slot.default_allow, 1);
	assert_int_equal(c->slot.strict, 1);
	assert_string_equal(c->slot.name, "lab");
	assert_memory_equal(c->slot.hash, p->hash, sizeof(c->slot.hash));
	assert_memory_equal(&c->slot.policy_id, p->hash, sizeof(c->slot.policy_id));
	assert_true(c->slot.load_time_ns > 0);
	compiled_policy__free(c);
	policy__free(p);
}

static void test_selectors_in_tenant_then_file_order(void **state)
{
	struct policy *p = parse_policy_text("name: s\nmode: enforce\ndefault: deny\ntenants:\n"
		"  - name: a\n    match: { uid: 1 }\n    devices:\n"
		"      - { bdf: 3b:00.1 }\n      - { id: \"8086:*\" }\n"
		"  - name: b\n    match: { uid: 2 }\n    devices:\n"
		"      - { class: \"0x020000/0xff0000\" }\n      - { group: 7 }\n"
		"      - { id: \"*:10d3\" }\n      - { bdf: \"fedcba9:01:1f.7\" }\n");
	struct compiled_policy *c = compile_ok(p, "/nonexistent");
	const struct ioguard_selector *s = c->slot.selectors;

	assert_int_equal(c->slot.n_selectors, 6);
	assert_int_equal(s[0].kind, IOGUARD_SEL_BDF);
	assert_int_equal(s[0].tenant, 0);
	/* The kernel's own spelling of the name, NUL-padded for a 16-byte compare. */
	assert_string_equal(s[0].bdf, "0000:3b:00.1");
	assert_int_equal(s[1].kind, IOGUARD_SEL_ID);
	assert_int_equal(s[1].mask, 0xffff0000);
	assert_int_equal(s[1].value, 0x80860000);
	assert_int_equal(s[2].kind, IOGUARD_SEL_CLASS);
	assert_int_equal(s[2].tenant, 1);
	assert_int_equal(s[2].value, 0x020000);
	assert_int_equal(s[2].mask, 0xff0000);
	assert_int_equal(s[3].kind, IOGUARD_SEL_GROUP);
	assert_int_equal(s[3].value, 7);
	assert_int_equal(s[4].mask, 0x0000ffff);
	assert_int_equal(s[4].value, 0x10d3);
	/* The longest name that fits: a 7-digit domain keeps its function. */
	assert_string_equal(s[5].bdf, "fedcba9:01:1f.7");
	assert_int_equal(s[5].bdf[IOGUARD_BDF_LEN - 1], 0);
	compiled_policy__free(c);
	policy__free(p);
}

static void test_match_keys_and_resolution(void **state)
{
	char root[] = "/tmp/test_policy_compile-cg-XXXXXX", dir[256];
	struct compiled_policy *c;
	struct policy *p;
	struct file_identity exe;
	struct stat cg;
	struct errbuf why = { .note = NULL };
	size_t i;
	bool found_cg = false, found_exe = false;

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/tenant-a", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(stat(dir, &cg), 0);
	assert_int_equal(file_identity__resolve("/bin/sh", NULL, &exe, &why), 0);
	p = parse_policy_text("name: m\nmode: enforce\ndefault: deny\ntenants:\n"
		  "  - name: a\n    match:\n      uid: [1, 2]\n      gid: 3\n"
		  "      cgroup: [/tenant-a, /missing]\n      exe: [/bin/sh, /no/such/exe, /tmp]\n"
		  "    devices: [ { group: 1 } ]\n    max_dma_bytes: 64KiB\n"
		  "    iova_windows: [ { start: 0x1000, end: 0x1fff }, { base: 0x10000, size: 4KiB } ]\n");
	c = compile_ok(p, root);

	assert_int_equal(c->slot.tenants[0].match_kinds, 0xf);
	assert_int_equal(c->slot.tenants[0].max_dma_bytes, 65536);
	assert_int_equal(c->slot.tenants[0].n_windows, 2);
	assert_int_equal(c->slot.tenants[0].windows[1].start, 0x10000);
	assert_int_equal(c->slot.tenants[0].windows[1].last, 0x10fff);
	assert_int_equal(count_matches(c, 0, IOGUARD_MATCH_UID), 2);
	assert_int_equal(count_matches(c, 0, IOGUARD_MATCH_GID), 1);
	/* Values that resolve to nothing match nobody, and say so. */
	assert_int_equal(count_matches(c, 0, IOGUARD_MATCH_CGROUP), 1);
	assert_int_equal(count_matches(c, 0, IOGUARD_MATCH_EXE), 1);
	assert_non_null(strstr(c->warnings, "cgroup /missing of tenant a does not exist"));
	assert_non_null(strstr(c->warnings, "executable /no/such/exe of tenant a does not exist"));
	assert_non_null(strstr(c->warnings, "executable /tmp of tenant a is not a regular file"));
	for (i = 0; i < c->n_matches; i++) {
		const struct ioguard_match_key *k = &c->matches[i];

		assert_int_equal(k->gen, 0);
		if (k->kind == IOGUARD_MATCH_CGROUP)
			found_cg = k->value == cg.st_ino;
		if (k->kind == IOGUARD_MATCH_EXE)
			/* What the kernel gives the inode, not stat()'s st_dev: file_identity.c. */
			found_exe = k->value == exe.ino && k->aux == exe.dev;
	}
	assert_true(found_cg);
	assert_true(found_exe);
	compiled_policy__free(c);
	policy__free(p);
	rmdir(dir);
	rmdir(root);
}

/* An executable that exists but cannot be resolved refuses the policy, naming it. */
static void test_unresolvable_exe_is_refused(void **state)
{
	char loop[] = "/tmp/test_policy_compile-loop-XXXXXX", text[512];
	struct errbuf eb = { .note = NULL };
	struct compiled_policy *c = NULL;
	struct policy *p;
	int fd = mkstemp(loop);

	assert_true(fd >= 0);
	close(fd);
	unlink(loop);
	assert_int_equal(symlink(loop, loop), 0);
	snprintf(text, sizeof(text), "name: l\nmode: enforce\ndefault: deny\ntenants:\n"
		 "  - { name: vmm, match: { exe: %s }, devices: [ { group: 1 } ] }\n", loop);
	p = parse_policy_text(text);
	assert_int_equal(policy_compile(p, "/nonexistent", &c, &eb), -ELOOP);
	assert_null(c);
	snprintf(text, sizeof(text), "cannot resolve executable %s of tenant vmm: cannot open it: "
		 "Too many levels of symbolic links", loop);
	assert_string_equal(eb.msg, text);
	policy__free(p);
	unlink(loop);
}

static void test_limits_of_the_programs(void **state)
{
	char text[8192] = "name: big\nmode: enforce\ndefault: deny\ntenants:\n";
	struct compiled_policy *c = NULL;
	struct policy *p;
	struct errbuf eb = { .note = NULL };
	int i;

	for (i = 0; i < IOGUARD_MAX_TENANTS + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "  - { name: t%d, match: { uid: %d }, devices: [ { group: %d } ] }\n",
			 i, i, i);
	p = parse_policy_text(text);
	assert_int_equal(policy_compile(p, "/nonexistent", &c, &eb), -E2BIG);
	assert_null(c);
	assert_string_equal(eb.msg, "33 tenants; the enforcement programs hold at most 32");
	policy__free(p);
}

/* Builds a policy with one tenant and @n uids, @m gids. */
static struct policy *many_criteria(size_t n, size_t m)
{
	size_t cap = 64 * (n + m) + 256, len, i;
	char *text = malloc(cap);
	struct policy *p;

	assert_non_null(text);
	len = snprintf(text, cap, "name: many\nmode: enforce\ndefault: deny\ntenants:\n"
		       "  - name: t\n    devices: [ { group: 1 } ]\n    match:\n      uid: [");
	for (i = 0; i < n; i++)
		len += snprintf(text + len, cap - len, "%s%zu", i ? ", " : "", i);
	len += snprintf(text + len, cap - len, "]\n      gid: [");
	for (i = 0; i < m; i++)
		len += snprintf(text + len, cap - len, "%s%zu", i ? ", " : "", i);
	snprintf(text + len, cap - len, "]\n");
	p = parse_policy_text(text);
	free(text);
	return p;
}

/*
 * More criteria than half the shared match table: refused at compile, naming the limit
 * (review #12), instead of loading once and failing every later swap.
 */
static void test_match_table_limit(void **state)
{
	struct compiled_policy *c = NULL;
	struct policy *p;
	struct errbuf eb = { .note = NULL };

	p = many_criteria(POLICY_MAX_MATCHES - 1, 1);
	c = compile_ok(p, "/nonexistent");
	assert_int_equal(c->n_matches, POLICY_MAX_MATCHES);
	compiled_policy__free(c);
	policy__free(p);

	c = NULL;
	p = many_criteria(POLICY_MAX_MATCHES, 1);
	assert_int_equal(policy_compile(p, "/nonexistent", &c, &eb), -E2BIG);
	assert_null(c);
	assert_string_equal(eb.msg, "2049 match criteria (uid, gid, cgroup and exe values together); "
			    "a policy holds at most 2048, half of the enforcement programs' "
			    "4096-entry match table, which the loaded policy and the next one share");
	policy__free(p);
}

/* Digests go into the slot by tenant, in file order; past the slot's room, refused. */
static void test_exe_sha256_digests(void **state)
{
	const char *d1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	size_t cap = 128 * (IOGUARD_MAX_EXE_DIGESTS + 1) + 512, len, i;
	struct errbuf eb = { .note = NULL };
	char *text = malloc(cap);
	struct compiled_policy *c;
	struct policy *p;

	assert_non_null(text);
	len = snprintf(text, cap, "name: d\nmode: enforce\ndefault: deny\ntenants:\n"
		       "  - { name: a, match: { uid: 1 }, devices: [ { group: 1 } ] }\n"
		       "  - name: b\n    match:\n      exe_sha256: [%s, %.62s01]\n"
		       "    devices: [ { group: 2 } ]\n", d1, d1);
	p = parse_policy_text(text);
	c = compile_ok(p, "/nonexistent");
	assert_int_equal(c->slot.tenants[0].match_kinds, 1U << IOGUARD_MATCH_UID);
	assert_int_equal(c->slot.tenants[1].match_kinds, 1U << IOGUARD_MATCH_EXE_SHA256);
	assert_int_equal(c->slot.n_exe_digests, 2);
	assert_int_equal(c->slot.exe_digests[0].tenant, 1);
	assert_int_equal(c->slot.exe_digests[0].sha256[0], 0x00);
	assert_int_equal(c->slot.exe_digests[0].sha256[1], 0x11);
	assert_int_equal(c->slot.exe_digests[0].sha256[31], 0xff);
	assert_int_equal(c->slot.exe_digests[1].tenant, 1);
	assert_int_equal(c->slot.exe_digests[1].sha256[31], 0x01);
	/* Digests are not keys of the match table. */
	assert_int_equal(c->n_matches, 1);
	compiled_policy__free(c);
	policy__free(p);

	len = snprintf(text, cap, "name: d\nmode: enforce\ndefault: deny\ntenants:\n"
		       "  - name: b\n    match:\n      exe_sha256:\n");
	for (i = 0; i <= IOGUARD_MAX_EXE_DIGESTS; i++)
		len += snprintf(text + len, cap - len, "        - %.60s%04zx\n", d1, i);
	snprintf(text + len, cap - len, "    devices: [ { group: 2 } ]\n");
	p = parse_policy_text(text);
	c = NULL;
	assert_int_equal(policy_compile(p, "/nonexistent", &c, &eb), -E2BIG);
	assert_null(c);
	assert_string_equal(eb.msg, "65 exe_sha256 digests; the enforcement programs hold at most "
			    "64, all tenants together");
	policy__free(p);
	free(text);
}

/* The limit is half of the map the programs declare; opening needs no privilege. */
static void test_match_table_size_is_the_maps(void **state)
{
	struct enforce_bpf *skel = enforce_bpf__open();

	assert_non_null(skel);
	assert_int_equal(bpf_map__max_entries(skel->maps.matches), POLICY_MATCHES_MAP_ENTRIES);
	enforce_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_and_identity),
		cmocka_unit_test(test_selectors_in_tenant_then_file_order),
		cmocka_unit_test(test_match_keys_and_resolution),
		cmocka_unit_test(test_unresolvable_exe_is_refused),
		cmocka_unit_test(test_limits_of_the_programs),
		cmocka_unit_test(test_match_table_limit),
		cmocka_unit_test(test_exe_sha256_digests),
		cmocka_unit_test(test_match_table_size_is_the_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
