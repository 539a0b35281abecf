// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/policy/policy_parse.c, the policy parser's engine, on its own: a small
 * schema of this test's (a mapping of a name, a size, a gid, an allow/deny switch, a path
 * and a list of mappings) drives parse_mapping(), parse_seq_of_mappings() and the
 * scalar parsers through policy_parse.h, with no policy format involved (that is
 * test_policy_schema's). Every refusal is checked with its exact message and position:
 * the text pre-scan (NUL, UTF-8, control characters), YAML syntax, anchors, aliases and
 * tags, unknown, duplicate and missing keys, and each scalar type's limits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_parse.h"
/* The parser's fail() is policy_parse.c's; this file uses cmocka's. */
#undef fail
#include <cmocka.h>

#define MAX_ITEMS 8

struct doc {
	char *name;
	uint64_t size;
	uint64_t gid;
	int deny;
	char *path;
	char **items;
	size_t n_items;
};

static int key_name(struct parser *ps, void *obj, const struct key *k)
{
	return parse_scalar_name(ps, k->name, &((struct doc *)obj)->name);
}

static int key_size(struct parser *ps, void *obj, const struct key *k)
{
	return parse_scalar_size(ps, k->name, &((struct doc *)obj)->size);
}

static int key_gid(struct parser *ps, void *obj, const struct key *k)
{
	return parse_scalar_uint(ps, k->name, "gid", 65535, &((struct doc *)obj)->gid);
}

static int key_mode(struct parser *ps, void *obj, const struct key *k)
{
	return parse_scalar_enum(ps, k->name, "allow", "deny", &((struct doc *)obj)->deny);
}

static int key_path(struct parser *ps, void *obj, const struct key *k)
{
	int err = parse_want_scalar(ps, k->name, "a path");

	return err ? err : parse_scalar_path(ps, "path", &((struct doc *)obj)->path);
}

static int item_key_name(struct parser *ps, void *obj, const struct key *k)
{
	struct doc *d = obj;

	return parse_scalar_name(ps, k->name, &d->items[d->n_items - 1]);
}

static int parse_item(struct parser *ps, void *obj)
{
	static const struct key item_keys[] = { { "name", true, item_key_name } };
	struct doc *d = obj;

	if (PUSH(d->items, d->n_items))
		return parse_oom(ps);
	return parse_mapping(ps, "an item", item_keys, 1, obj);
}

static int key_items(struct parser *ps, void *obj, const struct key *k)
{
	return parse_seq_of_mappings(ps, k->name, "a list of items",
				     "each item must be a mapping with a name, ",
				     "'items' is empty (leave it out instead)", parse_item, obj);
}

static const struct key doc_keys[] = {
	{ "name", true, key_name },
	{ "size", false, key_size },
	{ "gid", false, key_gid },
	{ "mode", false, key_mode },
	{ "path", false, key_path },
	{ "items", false, key_items },
};

static void doc_free(struct doc *d)
{
	size_t i;

	for (i = 0; i < d->n_items; i++)
		free(d->items[i]);
	free(d->items);
	free(d->name);
	free(d->path);
	memset(d, 0, sizeof(*d));
}

/* Parses @text, a document whose top level is doc_keys' mapping, as load_buffer() would. */
static int parse_doc(const char *text, size_t len, struct doc *d, struct policy_error *err)
{
	struct parser ps = { .path = "t.yaml", .err = err, .buf = (const unsigned char *)text,
			     .len = len };
	int ret;

	memset(d, 0, sizeof(*d));
	ret = parse_scan_text(&ps);
	if (ret)
		return ret;
	assert_true(yaml_parser_initialize(&ps.yaml));
	yaml_parser_set_input_string(&ps.yaml, ps.buf, ps.len);
	ret = parse_next_event(&ps);				/* STREAM_START */
	if (!ret)
		ret = parse_next_event(&ps);			/* DOCUMENT_START */
	if (!ret)
		ret = parse_next_event(&ps);
	if (!ret)
		ret = parse_want_start(&ps, YAML_MAPPING_START_EVENT, "document", "a mapping");
	if (!ret)
		ret = parse_mapping(&ps, "the test document", doc_keys, 6, d);
	if (ps.have_ev)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.yaml);
	return ret;
}

/* @text must be refused with @code and exactly @msg; nothing is left to free. */
static void refused(const char *text, int code, const char *msg)
{
	struct policy_error err = POLICY_ERROR_INIT;
	struct doc d;
	int ret = parse_doc(text, strlen(text), &d, &err);

	doc_free(&d);
	assert_int_equal(ret, code);
	assert_int_equal(err.err, code);
	assert_string_equal(err.msg, msg);
}

static void test_accepts_every_type(void **state)
{
	struct policy_error err = POLICY_ERROR_INIT;
	const char *text = "name: tenant-a\n"
			   "size: 64 MiB\n"
			   "gid: 0x2a\n"
			   "mode: deny\n"
			   "path: /sys/fs/cgroup/a.slice\n"
			   "items:\n"
			   "  - name: one\n"
			   "  - {name: two}\n"
			   "  - name: three\n";
	struct doc d;

	assert_int_equal(parse_doc(text, strlen(text), &d, &err), 0);
	assert_string_equal(d.name, "tenant-a");
	assert_int_equal(d.size, 64ULL << 20);
	assert_int_equal(d.gid, 42);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.path, "/sys/fs/cgroup/a.slice");
	assert_int_equal(d.n_items, 3);
	assert_string_equal(d.items[0], "one");
	assert_string_equal(d.items[1], "two");
	assert_string_equal(d.items[2], "three");
	assert_string_equal(err.msg, "");
	doc_free(&d);

	/* A flow mapping, a byte order mark, unit without space, the largest values. */
	text = "\xef\xbb\xbf{name: b, size: 16383PiB, gid: 65535, mode: allow, path: /}";
	assert_int_equal(parse_doc(text, strlen(text), &d, &err), 0);
	assert_int_equal(d.size, 16383ULL << 50);
	assert_int_equal(d.gid, 65535);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.path, "/");
	doc_free(&d);
}

static void test_text_prescan(void **state)
{
	struct policy_error err = POLICY_ERROR_INIT;
	struct doc d;

	/* Positions count characters: "é" is one column. */
	assert_int_equal(parse_doc("name: a\n# é\0x", 14, &d, &err), -EINVAL);
	assert_string_equal(err.msg, "t.yaml:2:4: error: binary data (NUL byte); policy files "
			    "must be UTF-8 text");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 4);
	refused("name: a\n# \xc3\x28", -EINVAL,
		"t.yaml:2:3: error: invalid UTF-8 (byte 0xc3); policy files must be UTF-8 text");
	refused("# overlong \xc0\xaf\n", -EINVAL,
		"t.yaml:1:12: error: invalid UTF-8 (byte 0xc0); policy files must be UTF-8 text");
	refused("# surrogate \xed\xa0\x80\n", -EINVAL,
		"t.yaml:1:13: error: invalid UTF-8 (byte 0xed); policy files must be UTF-8 text");
	refused("# cut \xe2\x82", -EINVAL,
		"t.yaml:1:7: error: invalid UTF-8 (byte 0xe2); policy files must be UTF-8 text");
	refused("name: a\r\nmode: \x1b[0m\n", -EINVAL,
		"t.yaml:2:7: error: control character U+001B; policy files must be text");
	refused("# \xc2\x85\n", -EINVAL,
		"t.yaml:1:3: error: control character U+0085; policy files must be text");
}

static void test_yaml_syntax(void **state)
{
	refused("name: a: b\n", -EINVAL,
		"t.yaml:1:8: error: YAML syntax error: mapping values are not allowed in this "
		"context");
	refused("name: 'a\n", -EINVAL,
		"t.yaml:2:1: error: YAML syntax error: found unexpected end of stream (while "
		"scanning a quoted scalar that starts at line 1, column 7)");
	refused("name: a\nitems: [{name: b}\n", -EINVAL,
		"t.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' (while "
		"parsing a flow sequence that starts at line 2, column 8)");
}

static void test_anchors_aliases_tags(void **state)
{
	refused("name: &n a\n", -EINVAL,
		"t.yaml:1:7: error: YAML anchor '&n': aliases and anchors are not allowed in "
		"policy files");
	refused("items: [&i {name: a}, *i]\n", -EINVAL,
		"t.yaml:1:9: error: YAML anchor '&i': aliases and anchors are not allowed in "
		"policy files");
	refused("name: !!str a\n", -EINVAL,
		"t.yaml:1:7: error: YAML tag 'tag:yaml.org,2002:str': tags are not allowed in "
		"policy files");
	refused("name: \"a\\0b\"\n", -EINVAL, "t.yaml:1:7: error: string contains a NUL character");
}

static void test_mapping_keys(void **state)
{
	refused("name: a\ncolour: red\n", -EINVAL,
		"t.yaml:2:1: error: unknown key 'colour' in the test document (expected one of: "
		"name, size, gid, mode, path, items)");
	refused("name: a\nsize: 1\nsize: 2\n", -EINVAL,
		"t.yaml:3:1: error: duplicate key 'size' in the test document (first at line 2, "
		"column 1)");
	refused("size: 1\n", -EINVAL,
		"t.yaml:1:1: error: missing required key 'name' in the test document");
	refused("{[a]: 1}\n", -EINVAL,
		"t.yaml:1:2: error: key in the test document must be a name, found a list");
	refused("- name: a\n", -EINVAL,
		"t.yaml:1:1: error: 'document' must be a mapping, found a list");
	refused("", -EINVAL, "t.yaml:1:1: error: 'document' must be a mapping, found nothing");
}

static void test_list_of_mappings(void **state)
{
	refused("name: a\nitems: []\n", -EINVAL,
		"t.yaml:2:8: error: 'items' is empty (leave it out instead)");
	refused("name: a\nitems:\n  - one\n", -EINVAL,
		"t.yaml:3:5: error: each item must be a mapping with a name, found 'one'");
	refused("name: a\nitems: {name: one}\n", -EINVAL,
		"t.yaml:2:8: error: 'items' must be a list of items, found a mapping");
	refused("name: a\nitems:\n", -EINVAL,
		"t.yaml:2:7: error: 'items' has no value (expected a list of items)");
	refused("name: a\nitems:\n  - {name: one, size: 1}\n", -EINVAL,
		"t.yaml:3:17: error: unknown key 'size' in an item (expected one of: name)");
	refused("name: a\nitems:\n  - {}\n", -EINVAL,
		"t.yaml:3:5: error: missing required key 'name' in an item");
}

static void test_scalar_types(void **state)
{
	refused("name:\n", -EINVAL, "t.yaml:1:6: error: 'name' has no value (expected a name)");
	refused("name: ~\n", -EINVAL, "t.yaml:1:7: error: 'name' has no value (expected a name)");
	refused("name: [a]\n", -EINVAL, "t.yaml:1:7: error: 'name' must be a name, found a list");
	refused("name: \"\"\n", -EINVAL, "t.yaml:1:7: error: 'name' is empty");
	refused("name: -a\n", -EINVAL,
		"t.yaml:1:7: error: bad name '-a' (expected letters, digits, '.', '_' and '-', "
		"starting with a letter or digit)");
	refused("name: a/b\n", -EINVAL,
		"t.yaml:1:7: error: bad name 'a/b' (expected letters, digits, '.', '_' and '-', "
		"starting with a letter or digit)");
	refused("name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", -EINVAL,
		"t.yaml:1:7: error: name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is "
		"longer than 63 characters");
	refused("name: a\nmode: maybe\n", -EINVAL,
		"t.yaml:2:7: error: bad value 'maybe' for 'mode' (expected allow or deny)");
	refused("name: a\ngid: 65536\n", -EINVAL,
		"t.yaml:2:6: error: gid '65536' is out of range (0 to 65535)");
	refused("name: a\ngid: 99999999999999999999\n", -EINVAL,
		"t.yaml:2:6: error: gid '99999999999999999999' is out of range (0 to 65535)");
	refused("name: a\ngid: -1\n", -EINVAL,
		"t.yaml:2:6: error: bad gid '-1' (expected an integer from 0 to 65535, decimal "
		"or 0x hex)");
	refused("name: a\ngid: 1KiB\n", -EINVAL,
		"t.yaml:2:6: error: bad gid '1KiB' (expected an integer from 0 to 65535, decimal "
		"or 0x hex)");
}

static void test_sizes(void **state)
{
	refused("name: a\nsize: 012\n", -EINVAL,
		"t.yaml:2:7: error: bad number '012' for 'size' (expected an integer, decimal or "
		"0x hex, with an optional unit like 64MiB)");
	refused("name: a\nsize: 0x\n", -EINVAL,
		"t.yaml:2:7: error: bad number '0x' for 'size' (expected an integer, decimal or 0x "
		"hex, with an optional unit like 64MiB)");
	refused("name: a\nsize: 64MB\n", -EINVAL,
		"t.yaml:2:7: error: unknown unit 'MB' in '64MB' for 'size' (expected KiB, MiB, "
		"GiB, TiB, PiB or EiB; units are binary)");
	refused("name: a\nsize: 18446744073709551616\n", -EINVAL,
		"t.yaml:2:7: error: '18446744073709551616' for 'size' does not fit in 64 bits");
	refused("name: a\nsize: 16EiB\n", -EINVAL,
		"t.yaml:2:7: error: '16EiB' for 'size' does not fit in 64 bits");
	refused("name: a\nsize: 1  KiB\n", -EINVAL,
		"t.yaml:2:7: error: bad number '1  KiB' for 'size' (expected an integer, decimal "
		"or 0x hex, with an optional unit like 64MiB)");
}

static void test_paths(void **state)
{
	refused("name: a\npath: a/b\n", -EINVAL,
		"t.yaml:2:7: error: bad path 'a/b' (expected an absolute path)");
	refused("name: a\npath: /a//b\n", -EINVAL,
		"t.yaml:2:7: error: path '/a//b' is not normalised (no '.', '..' or empty "
		"components, no trailing '/')");
	refused("name: a\npath: /a/../b\n", -EINVAL,
		"t.yaml:2:7: error: path '/a/../b' is not normalised (no '.', '..' or empty "
		"components, no trailing '/')");
	refused("name: a\npath: /a/\n", -EINVAL,
		"t.yaml:2:7: error: path '/a/' is not normalised (no '.', '..' or empty "
		"components, no trailing '/')");
	refused("name: a\npath: 7\n", -EINVAL,
		"t.yaml:2:7: error: bad path '7' (expected an absolute path)");
}

static void test_quote(void **state)
{
	char s[80];
	struct qbuf q;

	assert_string_equal(parse_quote(&q, "a\tb\x7f"), "a?b?");
	memset(s, 'x', 60);
	s[60] = '\0';
	assert_int_equal(strlen(parse_quote(&q, s)), 48 + 3);
	assert_string_equal(q.s + 48, "...");
	/* A cut never splits a character: "é" straddling byte 48 is kept whole. */
	memset(s, 'x', 47);
	strcpy(s + 47, "\xc3\xa9yz");
	assert_string_equal(parse_quote(&q, s) + 47, "\xc3\xa9...");
	assert_string_equal(parse_quote_found(&q, "v"), "'v'");
}

static void test_fail_at(void **state)
{
	struct policy_error err = POLICY_ERROR_INIT;
	struct policy_error small = { .sz = sizeof(small) - 1 };

	assert_int_equal(parse_fail_at(&err, "p.yaml", -ENOENT, 0, 9, "cannot open: %s", "gone"),
			 -ENOENT);
	assert_string_equal(err.msg, "p.yaml: error: cannot open: gone");
	assert_string_equal(err.cause, "cannot open: gone");
	assert_int_equal(err.line, 0);
	assert_int_equal(err.column, 0);
	assert_int_equal(parse_fail_at(&err, "p.yaml", -EINVAL, 3, 5, "%s", "bad"), -EINVAL);
	assert_string_equal(err.msg, "p.yaml:3:5: error: bad");
	assert_int_equal(err.err, -EINVAL);
	/* A caller's struct from an older, smaller layout is never written. */
	assert_int_equal(parse_fail_at(&small, "p.yaml", -EINVAL, 1, 1, "x"), -EINVAL);
	assert_int_equal(small.err, 0);
	assert_string_equal(small.msg, "");
	assert_int_equal(parse_fail_at(NULL, "p.yaml", -EIO, 1, 1, "x"), -EIO);
}

static void test_push_grows_by_powers_of_two(void **state)
{
	uint64_t *arr = NULL;
	size_t n = 0, i;

	for (i = 0; i < 100; i++) {
		assert_int_equal(PUSH(arr, n), 0);
		assert_int_equal(arr[n - 1], 0);
		arr[n - 1] = i + 1;
	}
	assert_int_equal(n, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(arr[i], i + 1);
	/* Below a power of two, parse_grow() hands the array back as it is: room is left. */
	assert_ptr_equal(parse_grow(arr, 100, sizeof(*arr)), arr);
	free(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_every_type),
		cmocka_unit_test(test_text_prescan),
		cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_anchors_aliases_tags),
		cmocka_unit_test(test_mapping_keys),
		cmocka_unit_test(test_list_of_mappings),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_fail_at),
		cmocka_unit_test(test_push_grows_by_powers_of_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
