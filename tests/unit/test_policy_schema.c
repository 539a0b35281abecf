// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/policy/policy_schema.c, the policy format, against docs/policy.md: a table
 * with, for every key the document lists (policy, tenant, match, device selector, IOVA
 * window), values it accepts and values it refuses, each refusal with its exact message.
 * Accepted values are then read back from the parsed policy (policy_helpers.h). The
 * files of tests/policies/ (test_policy) stay the catalogue of whole documents; this is
 * the key-by-key view the schema's tables must keep.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy_helpers.h"

/* Lines 1-3: the required policy keys. */
#define HEAD "name: p\nmode: enforce\ndefault: deny\n"
/*
 * One tenant: MATCH's value starts at 6:12, DEVICES' at 7:14; EXTRA holds tenant keys,
 * from line 8.
 */
#define TENANT(match, devices, extra) \
	HEAD "tenants:\n  - name: t\n    match: " match "\n    devices: " devices "\n" extra
/* A tenant with one selector (its first key at 7:16) or one window (first key at 8:21). */
#define SELECTOR(sel) TENANT("{uid: 1}", "[{" sel "}]", "")
#define WINDOW(win) TENANT("{uid: 1}", "[{group: 1}]", "    iova_windows: [{" win "}]\n")

struct schema_case {
	const char *key;	/* as docs/policy.md names it */
	const char *text;
	const char *error;	/* NULL: accepted */
};

static const struct schema_case cases[] = {
	/* Policy */
	{ "name", HEAD, NULL },
	{ "name", "mode: enforce\ndefault: deny\n",
	  "s.yaml:1:1: error: missing required key 'name' in policy" },
	{ "name", "name: p q\nmode: enforce\ndefault: deny\n",
	  "s.yaml:1:7: error: bad name 'p q' (expected letters, digits, '.', '_' and '-', "
	  "starting with a letter or digit)" },
	{ "mode", "name: p\nmode: audit\ndefault: deny\n", NULL },
	{ "mode", "name: p\ndefault: deny\n",
	  "s.yaml:1:1: error: missing required key 'mode' in policy" },
	{ "mode", "name: p\nmode: permissive\ndefault: deny\n",
	  "s.yaml:2:7: error: bad value 'permissive' for 'mode' (expected enforce or audit)" },
	{ "default", "name: p\nmode: enforce\ndefault: allow\n", NULL },
	{ "default", "name: p\nmode: enforce\n",
	  "s.yaml:1:1: error: missing required key 'default' in policy" },
	{ "default", "name: p\nmode: enforce\ndefault: reject\n",
	  "s.yaml:3:10: error: bad value 'reject' for 'default' (expected deny or allow)" },
	{ "viability", HEAD "viability: strict\n", NULL },
	{ "viability", HEAD "viability: loose\n",
	  "s.yaml:4:12: error: bad value 'loose' for 'viability' (expected kernel or strict)" },
	{ "tenants", HEAD "tenants: []\n", NULL },
	{ "tenants", HEAD "tenants: {name: t}\n",
	  "s.yaml:4:10: error: 'tenants' must be a list of tenants, found a mapping" },
	{ "tenants", HEAD "tenants: [t]\n",
	  "s.yaml:4:11: error: tenant must be a mapping, found 't'" },
	{ "(other)", HEAD "version: 2\n",
	  "s.yaml:4:1: error: unknown key 'version' in policy (expected one of: name, mode, "
	  "default, viability, tenants)" },

	/* Tenant */
	{ "tenant name", TENANT("{uid: 1}", "[{group: 1}]", ""), NULL },
	{ "tenant name", HEAD "tenants:\n  - match: {uid: 1}\n    devices: [{group: 1}]\n",
	  "s.yaml:5:5: error: missing required key 'name' in tenant" },
	{ "tenant name", HEAD "tenants:\n  - {name: t, match: {uid: 1}, devices: [{group: 1}]}\n"
	  "  - {name: t, match: {uid: 2}, devices: [{group: 2}]}\n",
	  "s.yaml:6:12: error: duplicate tenant name 't' (first at line 5, column 5)" },
	{ "devices", HEAD "tenants:\n  - {name: t, match: {uid: 1}, devices: [{group: 1}]}\n"
	  "  - {name: u, match: {uid: 2}, devices: [{bdf: 00:01.0}, {group: 1}]}\n",
	  "s.yaml:6:66: error: IOMMU group 1 is already owned by tenant 't' (line 5, column 50); "
	  "a group has one owner" },
	{ "devices", TENANT("{uid: 1}", "[{bdf: 00:01.0}, {bdf: 0000:00:01.0}]", ""),
	  "s.yaml:7:37: error: device 0000:00:01.0 is listed twice in tenant 't' (first at "
	  "line 7, column 21)" },
	{ "match", HEAD "tenants:\n  - name: t\n    devices: [{group: 1}]\n",
	  "s.yaml:5:5: error: missing required key 'match' in tenant" },
	{ "match", TENANT("{}", "[{group: 1}]", ""),
	  "s.yaml:6:12: error: 'match' is empty (expected at least one of: uid, gid, cgroup, "
	  "exe, exe_sha256)" },
	{ "match", TENANT("[uid]", "[{group: 1}]", ""),
	  "s.yaml:6:12: error: 'match' must be a mapping with uid, gid, cgroup, exe or "
	  "exe_sha256, found a list" },
	{ "devices", HEAD "tenants:\n  - name: t\n    match: {uid: 1}\n",
	  "s.yaml:5:5: error: missing required key 'devices' in tenant" },
	{ "devices", TENANT("{uid: 1}", "[]", ""),
	  "s.yaml:7:14: error: 'devices' is empty: a tenant owns at least one device" },
	{ "devices", TENANT("{uid: 1}", "[group]", ""),
	  "s.yaml:7:15: error: device selector must be a mapping with one of: bdf, id, class, "
	  "group; found 'group'" },
	{ "max_dma_bytes", TENANT("{uid: 1}", "[{group: 1}]", "    max_dma_bytes: 32GiB\n"), NULL },
	{ "max_dma_bytes", TENANT("{uid: 1}", "[{group: 1}]", "    max_dma_bytes: 32GB\n"),
	  "s.yaml:8:20: error: unknown unit 'GB' in '32GB' for 'max_dma_bytes' (expected KiB, "
	  "MiB, GiB, TiB, PiB or EiB; units are binary)" },
	{ "iova_windows", TENANT("{uid: 1}", "[{group: 1}]", "    iova_windows: []\n"),
	  "s.yaml:8:19: error: 'iova_windows' is empty (leave the key out to allow any IOVA)" },
	{ "(other)", TENANT("{uid: 1}", "[{group: 1}]", "    priority: 1\n"),
	  "s.yaml:8:5: error: unknown key 'priority' in tenant (expected one of: name, match, "
	  "devices, max_dma_bytes, iova_windows)" },

	/* match */
	{ "uid", TENANT("{uid: [0, 4294967294]}", "[{group: 1}]", ""), NULL },
	{ "uid", TENANT("{uid: 4294967295}", "[{group: 1}]", ""),
	  "s.yaml:6:18: error: uid '4294967295' is out of range (0 to 4294967294)" },
	{ "uid", TENANT("{uid: root}", "[{group: 1}]", ""),
	  "s.yaml:6:18: error: bad uid 'root' (expected an integer from 0 to 4294967294, "
	  "decimal or 0x hex)" },
	{ "uid", TENANT("{uid: []}", "[{group: 1}]", ""),
	  "s.yaml:6:18: error: 'uid' is an empty list (leave the key out to match any)" },
	{ "uid", TENANT("{uid: [[1]]}", "[{group: 1}]", ""),
	  "s.yaml:6:19: error: items of 'uid' must be scalars, found a list" },
	{ "gid", TENANT("{gid: 4294967294}", "[{group: 1}]", ""), NULL },
	{ "gid", TENANT("{gid: -1}", "[{group: 1}]", ""),
	  "s.yaml:6:18: error: bad gid '-1' (expected an integer from 0 to 4294967294, decimal "
	  "or 0x hex)" },
	{ "cgroup", TENANT("{cgroup: /}", "[{group: 1}]", ""), NULL },
	{ "cgroup", TENANT("{cgroup: machine.slice}", "[{group: 1}]", ""),
	  "s.yaml:6:21: error: bad cgroup path 'machine.slice' (expected an absolute path)" },
	{ "cgroup", TENANT("{cgroup: /a/../b}", "[{group: 1}]", ""),
	  "s.yaml:6:21: error: cgroup path '/a/../b' is not normalised (no '.', '..' or empty "
	  "components, no trailing '/')" },
	{ "exe", TENANT("{exe: [/usr/bin/qemu, /usr/libexec/qemu-kvm]}", "[{group: 1}]", ""),
	  NULL },
	{ "exe", TENANT("{exe: /usr/bin/}", "[{group: 1}]", ""),
	  "s.yaml:6:18: error: executable path '/usr/bin/' is not normalised (no '.', '..' or "
	  "empty components, no trailing '/')" },
	{ "exe_sha256", TENANT("{exe_sha256: "
			       "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855}",
			       "[{group: 1}]", ""), NULL },
	{ "exe_sha256", TENANT("{exe_sha256: e3b0c442}", "[{group: 1}]", ""),
	  "s.yaml:6:25: error: bad exe_sha256 'e3b0c442' (expected a SHA-256 digest: 64 "
	  "hexadecimal digits, as sha256sum prints it)" },
	{ "(other)", TENANT("{user: 1}", "[{group: 1}]", ""),
	  "s.yaml:6:13: error: unknown key 'user' in match (expected one of: uid, gid, cgroup, "
	  "exe, exe_sha256)" },

	/* Device selector */
	{ "bdf", SELECTOR("bdf: 0000:3b:00.0"), NULL },
	{ "bdf", SELECTOR("bdf: 3B:1f.7"), NULL },
	{ "bdf", SELECTOR("bdf: 10000:00:01.0"), NULL },
	{ "bdf", SELECTOR("bdf: 00:20.0"),
	  "s.yaml:7:21: error: bad PCI address '00:20.0': device 0x20 is out of range (0x00 to "
	  "0x1f)" },
	{ "bdf", SELECTOR("bdf: 00:01.8"),
	  "s.yaml:7:21: error: bad PCI address '00:01.8': function 8 is out of range (0 to 7)" },
	{ "bdf", SELECTOR("bdf: 0fffffff:00:01.0"), NULL },
	{ "bdf", SELECTOR("bdf: 10000000:00:01.0"),
	  "s.yaml:7:21: error: PCI address '10000000:00:01.0' is not supported: the enforcement "
	  "programs compare device names in 15 characters, which cut the function off a domain "
	  "of 8 digits (select the device by group or id)" },
	{ "bdf", SELECTOR("bdf: 0:00:01.0"),
	  "s.yaml:7:21: error: bad PCI address '0:00:01.0' (expected [DOMAIN:]BUS:DEVICE.FUNCTION "
	  "in hex, like 0000:01:00.0)" },
	{ "id", SELECTOR("id: \"*:10d3\""), NULL },
	{ "id", SELECTOR("id: 8086:10d"),
	  "s.yaml:7:20: error: bad vendor:device ID '8086:10d' (expected VVVV:DDDD, 4 hex digits "
	  "or * each, like 8086:10d3 or 8086:*)" },
	{ "class", SELECTOR("class: 0x020000/0xff0000"), NULL },
	{ "class", SELECTOR("class: 0x0200"),
	  "s.yaml:7:23: error: bad PCI class '0x0200' (expected 0xCCSSPP with 6 hex digits, "
	  "optionally /0xMMMMMM as a mask, like 0x020000 or 0x020000/0xff0000)" },
	{ "class", SELECTOR("class: 0x020100/0xff0000"),
	  "s.yaml:7:23: error: PCI class '0x020100/0xff0000' sets bits outside its mask "
	  "(0x000100)" },
	{ "group", SELECTOR("group: 2147483647"), NULL },
	{ "group", SELECTOR("group: 2147483648"),
	  "s.yaml:7:23: error: IOMMU group '2147483648' is out of range (0 to 2147483647)" },
	{ "(two)", SELECTOR("bdf: 00:01.0, group: 1"),
	  "s.yaml:7:37: error: device selector has both 'bdf' and 'group' (write one selector per "
	  "list item)" },
	{ "(none)", SELECTOR(""),
	  "s.yaml:7:15: error: empty device selector (expected one of: bdf, id, class, group)" },
	{ "(other)", SELECTOR("vendor: 8086"),
	  "s.yaml:7:16: error: unknown key 'vendor' in device selector (expected one of: bdf, id, "
	  "class, group)" },

	/* IOVA window */
	{ "start, end", WINDOW("start: 0x1000, end: 0x1000"), NULL },
	{ "start, end", WINDOW("start: 0x2000, end: 0x1fff"),
	  "s.yaml:8:41: error: IOVA window end 0x1fff is below its start 0x2000" },
	{ "start, end", WINDOW("start: 0x1000"),
	  "s.yaml:8:20: error: incomplete IOVA window (expected start and end, or base and "
	  "size)" },
	{ "base, size", WINDOW("base: 0xffffffffffff0000, size: 64KiB"), NULL },
	{ "base, size", WINDOW("base: 0x1000, size: 0"),
	  "s.yaml:8:41: error: IOVA window is empty (size 0)" },
	{ "base, size", WINDOW("base: 0xffffffffffff0000, size: 0x10001"),
	  "s.yaml:8:53: error: IOVA window 0xffffffffffff0000 + 0x10001 goes past the end of the "
	  "64-bit IOVA space" },
	{ "(mixed)", WINDOW("start: 0x1000, size: 1"),
	  "s.yaml:8:42: error: IOVA window mixes 'size' with 'start' (use start and end, or base "
	  "and size)" },
	{ "(overlap)", TENANT("{uid: 1}", "[{group: 1}]",
			      "    iova_windows: [{start: 0, end: 0x1fff}, "
			      "{base: 0x1000, size: 1}]\n"),
	  "s.yaml:8:45: error: IOVA window 0x1000-0x1000 overlaps window 0x0-0x1fff (line 8, "
	  "column 20)" },
	{ "(other)", WINDOW("start: 0, last: 1"),
	  "s.yaml:8:31: error: unknown key 'last' in IOVA window (expected one of: start, end, "
	  "base, size)" },
};

/* Every row is tried and every mismatch printed, then the test fails if any did. */
static void test_each_key(void **state)
{
	const struct schema_case *c;
	unsigned int wrong = 0;
	struct policy *p;
	int ret;

	for (c = cases; c < cases + sizeof(cases) / sizeof(cases[0]); c++) {
		struct policy_error err = POLICY_ERROR_INIT;

		ret = policy__load_buffer("s.yaml", c->text, strlen(c->text), &p, &err);
		policy__free(p);
		if (!c->error && ret)
			print_message("%s: refused: %s\n%s", c->key, err.msg, c->text);
		else if (c->error && !ret)
			print_message("%s: accepted, expected: %s\n%s", c->key, c->error, c->text);
		else if (c->error && (ret != -EINVAL || strcmp(err.msg, c->error)))
			print_message("%s: %d\n  got      %s\n  expected %s\n%s", c->key, ret,
				      err.msg, c->error, c->text);
		else
			continue;
		wrong++;
	}
	assert_int_equal(wrong, 0);
}

/* What the accepted values of the table mean, read back from the parsed policy. */
static void test_values_and_defaults(void **state)
{
	struct policy *p = parse_policy_text(HEAD);

	assert_string_equal(p->name, "p");
	assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
	assert_int_equal(p->dflt, POLICY_DEFAULT_DENY);
	assert_int_equal(p->viability, POLICY_VIABILITY_KERNEL);
	assert_int_equal(p->n_tenants, 0);
	policy__free(p);

	p = parse_policy_text("name: p\nmode: audit\ndefault: allow\nviability: strict\n");
	assert_int_equal(p->mode, POLICY_MODE_AUDIT);
	assert_int_equal(p->dflt, POLICY_DEFAULT_ALLOW);
	assert_int_equal(p->viability, POLICY_VIABILITY_STRICT);
	policy__free(p);

	p = parse_policy_text(TENANT("{uid: [0, 4294967294], gid: 7, cgroup: /, exe: /bin/qemu}",
				     "[{group: 1}]", ""));
	assert_int_equal(p->n_tenants, 1);
	assert_int_equal(p->tenants[0].n_uids, 2);
	assert_int_equal(p->tenants[0].uids[1], 4294967294u);
	assert_int_equal(p->tenants[0].gids[0], 7);
	assert_string_equal(p->tenants[0].cgroups[0], "/");
	assert_string_equal(p->tenants[0].exes[0], "/bin/qemu");
	assert_int_equal(p->tenants[0].max_dma_bytes, POLICY_DMA_UNLIMITED);
	assert_int_equal(p->tenants[0].n_windows, 0);
	policy__free(p);
}

static void test_selectors(void **state)
{
	struct policy *p = parse_policy_text(TENANT("{uid: 1}",
		"[{bdf: 3B:1f.7}, {bdf: 10000:00:01.0}, {id: \"*:10d3\"}, {id: 8086:*},"
		" {class: 0x020000/0xff0000}, {class: 0x010802}, {group: 2147483647}]", ""));
	const struct policy_device *d = p->tenants[0].devices;

	assert_int_equal(p->tenants[0].n_devices, 7);
	assert_int_equal(d[0].kind, POLICY_DEV_BDF);
	assert_int_equal(d[0].bdf.domain, 0);
	assert_int_equal(d[0].bdf.bus, 0x3b);
	assert_int_equal(d[0].bdf.dev, 0x1f);
	assert_int_equal(d[0].bdf.fn, 7);
	assert_int_equal(d[1].bdf.domain, 0x10000);
	assert_int_equal(d[2].kind, POLICY_DEV_ID);
	assert_int_equal(d[2].id.vendor, POLICY_PCI_ID_ANY);
	assert_int_equal(d[2].id.device, 0x10d3);
	assert_int_equal(d[3].id.vendor, 0x8086);
	assert_int_equal(d[3].id.device, POLICY_PCI_ID_ANY);
	assert_int_equal(d[4].kind, POLICY_DEV_CLASS);
	assert_int_equal(d[4].class.value, 0x020000);
	assert_int_equal(d[4].class.mask, 0xff0000);
	assert_int_equal(d[5].class.mask, 0xffffff);
	assert_int_equal(d[6].kind, POLICY_DEV_GROUP);
	assert_int_equal(d[6].group, 2147483647);
	policy__free(p);
}

static void test_windows_sorted_inclusive(void **state)
{
	struct policy *p = parse_policy_text(TENANT("{uid: 1}", "[{group: 1}]",
		"    max_dma_bytes: 32GiB\n"
		"    iova_windows: [{base: 0x100000000, size: 64GiB}, "
		"{start: 0, end: 0xfedfffff}]\n"));
	const struct policy_tenant *t = &p->tenants[0];

	assert_int_equal(t->max_dma_bytes, 32ULL << 30);
	assert_int_equal(t->n_windows, 2);
	assert_int_equal(t->windows[0].start, 0);
	assert_int_equal(t->windows[0].last, 0xfedfffff);
	assert_int_equal(t->windows[1].start, 0x100000000ULL);
	assert_int_equal(t->windows[1].last, 0x100000000ULL + (64ULL << 30) - 1);
	policy__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_key),
		cmocka_unit_test(test_values_and_defaults),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_windows_sorted_inclusive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
