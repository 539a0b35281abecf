// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which pinned enforcement sets a load swaps into, replaces without a gap, or refuses:
 * pinned_layout__judge() over what the loader observed in the pin directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prog/pinned_layout.h"
#include "ioguard/enforce.h"

/* The observation a set of @version (0: no marker) with this ioguard's maps gives. */
static struct pinned_observation set_of(__u32 version)
{
	struct pinned_observation o = {
		.links = true,
		.marker = version != 0,
		.version = version,
		.policies = true,
		.slot_size = sizeof(struct ioguard_policy_slot),
		.holders = true,
	};

	return o;
}

/* Returns pinned_layout__judge()'s code; the verdict and reason through the pointers. */
static int _judge(const struct pinned_observation *o, struct pinned_verdict *v,
		  struct errbuf *eb)
{
	eb->msg[0] = '\0';
	return pinned_layout__judge(o, v, eb);
}

static void judge(const struct pinned_observation *o, enum pinned_layout_kind kind,
		  __u32 version)
{
	struct errbuf eb = { .note = NULL };
	struct pinned_verdict v;

	assert_int_equal(_judge(o, &v, &eb), 0);
	assert_int_equal(v.kind, kind);
	assert_int_equal(v.version, version);
	assert_string_equal(eb.msg, "");
}

static void judge_err(const struct pinned_observation *o, enum pinned_layout_kind kind,
		      const char *reason)
{
	struct errbuf eb = { .note = NULL };
	struct pinned_verdict v;

	assert_int_equal(_judge(o, &v, &eb), -EPROTO);
	assert_int_equal(v.kind, kind);
	assert_non_null(strstr(eb.msg, reason));
	assert_null(strchr(eb.msg, '\n'));
}

static void test_nothing_pinned(void **state)
{
	struct pinned_observation o = { 0 };

	judge(&o, PINNED_NONE, 0);
	/* Maps left by an interrupted first load, without programs: a first load. */
	o = set_of(PINNED_LAYOUT_VERSION);
	o.links = false;
	judge(&o, PINNED_NONE, 0);
}

static void test_own_layout_swaps(void **state)
{
	struct pinned_observation o = set_of(PINNED_LAYOUT_VERSION);
	struct errbuf eb = { .note = NULL };
	struct pinned_verdict v;

	judge(&o, PINNED_CURRENT, PINNED_LAYOUT_VERSION);
	assert_int_equal(_judge(&o, &v, &eb), 0);
	assert_true(v.same_accounting);
}

/* b9c57cc pinned no marker: its slot size and its holders map identify it. */
static void test_version_1_is_replaced(void **state)
{
	struct pinned_observation o = set_of(0);
	struct errbuf eb = { .note = NULL };
	struct pinned_verdict v;

	o.slot_size = 9096;	/* b9c57cc's slot, before exe_sha256 */
	judge(&o, PINNED_OLDER, 1);
	assert_int_equal(_judge(&o, &v, &eb), 0);
	assert_true(v.same_accounting);
	o = set_of(1);
	judge(&o, PINNED_OLDER, 1);
}

static void test_unmarked_foreign_set_refused(void **state)
{
	struct pinned_observation o = set_of(0);

	o.slot_size = 1234;
	judge_err(&o, PINNED_UNKNOWN, "no layout marker");
	o = set_of(0);
	o.holders = false;
	judge_err(&o, PINNED_UNKNOWN, "no holders");
	o = set_of(0);
	o.policies = false;
	judge_err(&o, PINNED_UNKNOWN, "no layout marker");
}

static void test_newer_layout_refused(void **state)
{
	struct pinned_observation o = set_of(PINNED_LAYOUT_VERSION + 1);

	judge_err(&o, PINNED_NEWER, "newer than this ioguard's");
	o = set_of(99);
	judge_err(&o, PINNED_NEWER, "layout 99");
}

static void test_unknown_older_layout_refused(void **state)
{
	struct pinned_observation o = set_of(0);

	o.marker = true;
	o.version = 0;
	judge_err(&o, PINNED_UNKNOWN, "does not know");
}

/* A marker of this version on maps of another layout is not trusted. */
static void test_own_marker_on_other_maps_refused(void **state)
{
	struct pinned_observation o = set_of(PINNED_LAYOUT_VERSION);

	o.slot_size = 9000;
	judge_err(&o, PINNED_UNKNOWN, "policy slot or holders differ");
	o = set_of(PINNED_LAYOUT_VERSION);
	o.holders = false;
	judge_err(&o, PINNED_UNKNOWN, "policy slot or holders differ");
}

/* The staged marker decides while it is there, whatever the mixture in place says. */
static void test_unfinished_upgrade(void **state)
{
	struct pinned_observation o = set_of(0);

	o.staging_marker = true;
	o.staging_version = PINNED_LAYOUT_VERSION;
	judge(&o, PINNED_INTERRUPTED, PINNED_LAYOUT_VERSION);
	o.slot_size = 1234;
	judge(&o, PINNED_INTERRUPTED, PINNED_LAYOUT_VERSION);
	o.staging_version = PINNED_LAYOUT_VERSION + 1;
	judge_err(&o, PINNED_NEWER, "an unfinished upgrade");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_pinned),
		cmocka_unit_test(test_own_layout_swaps),
		cmocka_unit_test(test_version_1_is_replaced),
		cmocka_unit_test(test_unmarked_foreign_set_refused),
		cmocka_unit_test(test_newer_layout_refused),
		cmocka_unit_test(test_unknown_older_layout_refused),
		cmocka_unit_test(test_own_marker_on_other_maps_refused),
		cmocka_unit_test(test_unfinished_upgrade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
