// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The names of the ABI enums' values: complete, unique, safe as Prometheus label values,
 * a defined fallback out of range, and the same lists the documentation gives. Runs from
 * the top of the tree (the documents are read as docs/...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "output/abi_names.h"

struct name_table {
	const char *what;
	const char *(*name)(__u32 value);
	__u32 count;
	/* Printed unquoted or as label values: [a-z0-9_] only. */
	bool identifiers;
};

static const struct name_table tables[] = {
	{ "op", abi_op_name, IOGUARD_OP_COUNT, true },
	{ "hook", abi_hook_name, IOGUARD_HOOK_COUNT, true },
	{ "decision", abi_decision_name, IOGUARD_DECISION_COUNT, true },
	{ "reason", abi_reason_name, IOGUARD_REASON_COUNT, true },
	{ "file kind", abi_file_kind_name, IOGUARD_FILE_KIND_COUNT, false },
	{ "result", abi_result_name, IOGUARD_RESULT_COUNT, true },
	{ "lost reason", abi_lost_reason_name, IOGUARD_LOST_REASON_COUNT, true },
	{ "invalidation kind", abi_inval_kind_name, IOGUARD_INVAL_KIND_COUNT, true },
	{ "invalidation cause", abi_inval_cause_name, IOGUARD_INVAL_CAUSE_COUNT, true },
	{ "DMA fault kind", abi_dma_fault_kind_name, IOGUARD_DMA_FAULT_KIND_COUNT, true },
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static void test_every_value_has_a_name(void **state)
{
	size_t t;
	__u32 v;

	for (t = 0; t < N_TABLES; t++) {
		for (v = 0; v < tables[t].count; v++) {
			const char *name = tables[t].name(v);

			if (!name || !*name || !strcmp(name, ABI_NAME_UNKNOWN))
				fail_msg("%s %u has no name", tables[t].what, v);
			if (tables[t].identifiers && strspn(name, "abcdefghijklmnopqrstuvwxyz"
							    "0123456789_") != strlen(name))
				fail_msg("%s %u: '%s' is not a plain identifier", tables[t].what,
					 v, name);
			/* event.c's JSON record is sized for names shorter than 32 bytes. */
			if (strlen(name) >= 32)
				fail_msg("%s %u: '%s' is 32 bytes or longer", tables[t].what, v,
					 name);
		}
	}
}

static void test_names_are_unique_per_table(void **state)
{
	size_t t;
	__u32 a, b;

	for (t = 0; t < N_TABLES; t++) {
		for (a = 0; a < tables[t].count; a++) {
			for (b = a + 1; b < tables[t].count; b++) {
				if (!strcmp(tables[t].name(a), tables[t].name(b)))
					fail_msg("%s %u and %u are both '%s'", tables[t].what, a,
						 b, tables[t].name(a));
			}
		}
	}
}

static void test_out_of_range_is_unknown(void **state)
{
	size_t t;

	for (t = 0; t < N_TABLES; t++) {
		assert_string_equal(tables[t].name(tables[t].count), ABI_NAME_UNKNOWN);
		assert_string_equal(tables[t].name(tables[t].count + 1), ABI_NAME_UNKNOWN);
		assert_string_equal(tables[t].name(UINT32_MAX), ABI_NAME_UNKNOWN);
	}
}

/* What the programs do: anything but audit denies (bpf/enforce.bpf.c). */
static void test_mode_names_follow_the_programs(void **state)
{
	assert_string_equal(abi_mode_name(IOGUARD_MODE_ENFORCE), "enforce");
	assert_string_equal(abi_mode_name(IOGUARD_MODE_AUDIT), "audit");
	assert_string_equal(abi_mode_name(7), "enforce");
}

static void test_op_parse_round_trip(void **state)
{
	int op;

	for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++)
		assert_int_equal(abi_op_parse(abi_op_name(op)), op);
	/* "none" is no op a filter can ask for. */
	assert_int_equal(abi_op_parse("none"), -EINVAL);
	assert_int_equal(abi_op_parse(ABI_NAME_UNKNOWN), -EINVAL);
	assert_int_equal(abi_op_parse("bogus"), -EINVAL);
	assert_int_equal(abi_op_parse(""), -EINVAL);
}

/* ---- the documents ---------------------------------------------------------------- */

static char *read_doc(const char *path)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");
	ssize_t n;

	if (!f)
		fail_msg("cannot open %s (run from the top of the tree): %s", path,
			 strerror(errno));
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0)
		fail_msg("cannot read %s", path);
	return text;
}

/*
 * The `quoted` words of @path between @from (included) and the first @to after it, as
 * one string "a b c " (each followed by a space), with @skip words dropped first.
 */
static void doc_words(const char *path, const char *from, const char *to, int skip,
		      char *out, size_t len)
{
	char *text = read_doc(path), *start, *end, *p, *q;
	size_t used = 0;

	start = strstr(text, from);
	if (!start)
		fail_msg("%s: no '%s'", path, from);
	end = strstr(start + strlen(from), to);
	if (!end)
		fail_msg("%s: no '%s' after '%s'", path, to, from);
	out[0] = '\0';
	for (p = start; (p = memchr(p, '`', end - p)); p = q + 1) {
		q = memchr(p + 1, '`', end - p - 1);
		if (!q)
			break;
		if (skip > 0) {
			skip--;
			continue;
		}
		used += snprintf(out + used, len - used, "%.*s ", (int)(q - p - 1), p + 1);
		assert_true(used < len);
	}
	free(text);
}

/* @word is one of @words ("a b c "). */
static bool has_word(const char *words, const char *word)
{
	size_t len = strlen(word);
	const char *p;

	for (p = strstr(words, word); p; p = strstr(p + 1, word)) {
		if ((p == words || p[-1] == ' ') && p[len] == ' ')
			return true;
	}
	return false;
}

/* Removes the first @word from @words. */
static void drop_word(char *words, const char *word)
{
	size_t len = strlen(word);
	char *p;

	for (p = strstr(words, word); p; p = strstr(p + 1, word)) {
		if ((p == words || p[-1] == ' ') && p[len] == ' ') {
			memmove(p, p + len + 1, strlen(p + len + 1) + 1);
			return;
		}
	}
	fail_msg("no '%s' in %s", word, words);
}

/* @words (doc_words()) are exactly the names of @t from value @first on, in any order. */
static void expect_names(const char *words, const struct name_table *t, __u32 first)
{
	size_t n_words = 0;
	const char *p;
	__u32 v;

	for (p = words; *p; p++)
		n_words += *p == ' ';
	for (v = first; v < t->count; v++) {
		if (!has_word(words, t->name(v)))
			fail_msg("the documented %s names lack '%s': %s", t->what, t->name(v),
				 words);
	}
	if (n_words != t->count - first)
		fail_msg("%zu %s names documented, %u in the table: %s", n_words, t->what,
			 t->count - first, words);
}

static const struct name_table *table(const char *what)
{
	size_t t;

	for (t = 0; t < N_TABLES; t++) {
		if (!strcmp(tables[t].what, what))
			return &tables[t];
	}
	fail_msg("no table %s", what);
	return NULL;
}

static void test_docs_list_the_ops(void **state)
{
	char words[2048];

	doc_words("docs/metrics.md", "`op` is one of", "(the names", 1, words, sizeof(words));
	expect_names(words, table("op"), IOGUARD_OP_NONE + 1);
}

/* The trace's JSON field table lists them unquoted: "| op | string | a, b, ...; ...". */
static void test_trace_doc_lists_the_ops(void **state)
{
	char *text = read_doc("docs/trace.md"), *start, *end, words[2048], *p;
	size_t used = 0;

	start = strstr(text, "| op | string | ");
	assert_non_null(start);
	start += strlen("| op | string | ");
	end = strchr(start, ';');
	assert_non_null(end);
	for (p = start; p < end; p++) {
		if (*p == ',')
			continue;
		words[used++] = *p;
		assert_true(used < sizeof(words) - 2);
	}
	words[used++] = ' ';
	words[used] = '\0';
	expect_names(words, table("op"), IOGUARD_OP_NONE + 1);
	free(text);
}

static void test_docs_list_the_enforcement_names(void **state)
{
	char words[2048];

	doc_words("docs/enforcement.md", "Reasons: ", "\n\n", 0, words, sizeof(words));
	expect_names(words, table("reason"), IOGUARD_REASON_NONE + 1);
	/* The `ioctl` hook is explained with a `;` ioctl: that word is no hook. */
	doc_words("docs/enforcement.md", "metrics): `open`", "Decisions:", 0, words,
		  sizeof(words));
	drop_word(words, ";");
	expect_names(words, table("hook"), 0);
	doc_words("docs/enforcement.md", "Decisions: ", "\n\n", 0, words, sizeof(words));
	expect_names(words, table("decision"), 0);
}

static void test_docs_list_the_metrics_labels(void **state)
{
	char words[2048];

	doc_words("docs/metrics.md", "| `ioguard_events_lost_total` |", "\n", 2, words,
		  sizeof(words));
	expect_names(words, table("lost reason"), 0);
	doc_words("docs/metrics.md", "`result` is `ok`", "\n", 1, words, sizeof(words));
	expect_names(words, table("result"), 0);
	doc_words("docs/metrics.md", "- **`kind`** is the descriptor type:", "\n- **", 1, words,
		  sizeof(words));
	expect_names(words, table("invalidation kind"), 0);
	doc_words("docs/trace.md", "in JSON `kind` (", ")", 1, words, sizeof(words));
	expect_names(words, table("DMA fault kind"), 0);
}

/* `cause="unmap"` ... `cause="none"`: the values the cause paragraph names. */
static void test_docs_list_the_invalidation_causes(void **state)
{
	char words[2048], values[512] = "", value[64], *p, *q;
	size_t used = 0;

	doc_words("docs/metrics.md", "- **`cause` and `group`.**", "\n- **", 2, words,
		  sizeof(words));
	for (p = strstr(words, "cause=\""); p; p = strstr(q, "cause=\"")) {
		p += strlen("cause=\"");
		q = strchr(p, '"');
		assert_non_null(q);
		snprintf(value, sizeof(value), "%.*s", (int)(q - p), p);
		if (!has_word(values, value))
			used += snprintf(values + used, sizeof(values) - used, "%s ", value);
		assert_true(used < sizeof(values));
	}
	expect_names(values, table("invalidation cause"), 0);
}

/* The cardinality paragraph counts what the tables hold. */
static void test_docs_count_the_label_values(void **state)
{
	char *text = read_doc("docs/metrics.md"), *p, want[64];
	const struct {
		const char *label;
		__u32 count;
	} counts[] = {
		{ "`op` (%u values)", IOGUARD_OP_COUNT - 1 },
		{ "`result` (%u)", IOGUARD_RESULT_COUNT },
		{ "`reason` (%u)", IOGUARD_LOST_REASON_COUNT },
		{ "`cause` (%u)", IOGUARD_INVAL_CAUSE_COUNT },
		{ "`kind` (%u) of invalidations", IOGUARD_INVAL_KIND_COUNT },
	};
	size_t i;

	/* One line: the paragraph wraps anywhere. */
	for (p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	p = strstr(text, "Every label has a bounded set of values");
	assert_non_null(p);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		snprintf(want, sizeof(want), counts[i].label, counts[i].count);
		if (!strstr(p, want))
			fail_msg("docs/metrics.md does not say %s", want);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value_has_a_name),
		cmocka_unit_test(test_names_are_unique_per_table),
		cmocka_unit_test(test_out_of_range_is_unknown),
		cmocka_unit_test(test_mode_names_follow_the_programs),
		cmocka_unit_test(test_op_parse_round_trip),
		cmocka_unit_test(test_docs_list_the_ops),
		cmocka_unit_test(test_trace_doc_lists_the_ops),
		cmocka_unit_test(test_docs_list_the_enforcement_names),
		cmocka_unit_test(test_docs_list_the_metrics_labels),
		cmocka_unit_test(test_docs_list_the_invalidation_causes),
		cmocka_unit_test(test_docs_count_the_label_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
