// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/metrics/snapshot.c, the metrics snapshot, apart from the text the
 * exposition makes of it (test_exposition checks the rendering and the adders' refusal
 * of out-of-range keys): the sort order of every array, which is the order scrapes list
 * series in; decisions with equal labels summed and nothing else merged; strings
 * copied up to exactly their limit; a failed set_build() changing nothing; reset()
 * emptying everything but keeping the allocations for the next collection.
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

#include "metrics/snapshot.h"

/* Adders that must succeed, for the sort tests. */
static void hist(struct metrics_snapshot *s, __s32 group, __u32 op, __u32 kind)
{
	struct ioguard_hist h = { .count = 1 };

	assert_int_equal(metrics_snapshot__add_hist(s, group, op, kind, &h), 0);
}

static void calls(struct metrics_snapshot *s, __s32 group, __u32 op, __u32 result, __u64 n)
{
	assert_int_equal(metrics_snapshot__add_calls(s, group, op, result, n, 0), 0);
}

static void inval(struct metrics_snapshot *s, __s32 group, __u32 cause, __u64 descriptors)
{
	assert_int_equal(metrics_snapshot__add_inval(s, group, cause, IOGUARD_INVAL_IOTLB,
						     descriptors, NULL), 0);
}

static void test_sort_numeric_keys(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();

	assert_non_null(s);
	/* Group first (signed: an unknown group, -1, sorts first), then op, then kind. */
	hist(s, 7, IOGUARD_OP_UNMAP, IOGUARD_HIST_SIZE);
	hist(s, 7, IOGUARD_OP_MAP, IOGUARD_HIST_SIZE);
	hist(s, 7, IOGUARD_OP_MAP, IOGUARD_HIST_LATENCY);
	hist(s, IOGUARD_GROUP_UNKNOWN, IOGUARD_OP_UNMAP, IOGUARD_HIST_SIZE);
	calls(s, 3, IOGUARD_OP_MAP, IOGUARD_RESULT_ERROR, 1);
	calls(s, 3, IOGUARD_OP_MAP, IOGUARD_RESULT_OK, 2);
	calls(s, 2, IOGUARD_OP_UNMAP, IOGUARD_RESULT_OK, 3);
	inval(s, 5, IOGUARD_INVAL_CAUSE_MAP, 1);
	inval(s, 5, IOGUARD_INVAL_CAUSE_UNMAP, 2);
	inval(s, 4, IOGUARD_INVAL_CAUSE_MAP, 3);
	assert_int_equal(metrics_snapshot__add_group(s, 12, "DMA", 2, true, false), 0);
	assert_int_equal(metrics_snapshot__add_group(s, -1, NULL, 1, false, false), 0);
	assert_int_equal(metrics_snapshot__add_group(s, 3, "identity", 1, true, true), 0);
	metrics_snapshot__sort(s);

	assert_int_equal(s->hists.n, 4);
	assert_int_equal(s->hists.v[0].group, -1);
	assert_int_equal(s->hists.v[1].op, IOGUARD_OP_MAP);
	assert_int_equal(s->hists.v[1].kind, IOGUARD_HIST_LATENCY);
	assert_int_equal(s->hists.v[2].op, IOGUARD_OP_MAP);
	assert_int_equal(s->hists.v[2].kind, IOGUARD_HIST_SIZE);
	assert_int_equal(s->hists.v[3].op, IOGUARD_OP_UNMAP);
	assert_int_equal(s->calls.v[0].calls, 3);
	assert_int_equal(s->calls.v[1].calls, 2);
	assert_int_equal(s->calls.v[2].calls, 1);
	assert_int_equal(s->invals.v[0].descriptors, 3);
	assert_int_equal(s->invals.v[1].descriptors, 2);
	assert_int_equal(s->invals.v[2].descriptors, 1);
	assert_int_equal(s->groups.v[0].group, -1);
	assert_string_equal(s->groups.v[0].type, "");
	assert_int_equal(s->groups.v[1].group, 3);
	assert_true(s->groups.v[1].viable_strict);
	assert_int_equal(s->groups.v[2].group, 12);
	assert_string_equal(s->groups.v[2].type, "DMA");
	metrics_snapshot__free(s);
}

static void test_sort_string_keys(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();

	/* Devices bytewise, then group; then kind and reason for DMA faults. */
	assert_int_equal(metrics_snapshot__add_fault(s, "0000:01:00.0", 2, 1), 0);
	assert_int_equal(metrics_snapshot__add_fault(s, "0000:00:03.0", 9, 2), 0);
	assert_int_equal(metrics_snapshot__add_fault(s, "0000:00:03.0", 4, 3), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 4, 1, 5, 1), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 4, 0, 255, 2), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 4, 0, 6, 3), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "ioguard_map", 1, 1), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "ioguard_attach", 2, 2), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "Ioguard_z", 3, 3), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "mmap", "deny", "tenant", "b", 1), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "tenant", "b", 2), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "allow", "owner", "b", 3), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "allow", "owner", "a", 4), 0);
	metrics_snapshot__sort(s);

	assert_int_equal(s->faults.v[0].faults, 3);
	assert_int_equal(s->faults.v[1].faults, 2);
	assert_int_equal(s->faults.v[2].faults, 1);
	assert_int_equal(s->dma_faults.v[0].faults, 3);
	assert_int_equal(s->dma_faults.v[1].faults, 2);
	assert_int_equal(s->dma_faults.v[2].faults, 1);
	/* Bytewise: upper case before lower case. */
	assert_string_equal(s->progs.v[0].name, "Ioguard_z");
	assert_string_equal(s->progs.v[1].name, "ioguard_attach");
	assert_string_equal(s->progs.v[2].name, "ioguard_map");
	assert_int_equal(s->decisions.v[0].count, 4);
	assert_int_equal(s->decisions.v[1].count, 3);
	assert_int_equal(s->decisions.v[2].count, 2);
	assert_int_equal(s->decisions.v[3].count, 1);
	metrics_snapshot__free(s);
}

static void test_decisions_summed_others_kept(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();

	/* Two policies' counts under the same labels are one series. */
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "tenant", "t", 2), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "tenant", "u", 1), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "tenant", "t", 5), 0);
	assert_int_equal(s->decisions.n, 2);
	assert_int_equal(s->decisions.v[0].count, 7);
	assert_int_equal(s->decisions.v[1].count, 1);
	/* The other adders copy what they are given: their callers' keys are unique. */
	assert_int_equal(metrics_snapshot__add_prog(s, "p", 1, 1), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "p", 2, 2), 0);
	assert_int_equal(s->progs.n, 2);
	/* Lost counts add up per reason. */
	assert_int_equal(metrics_snapshot__add_lost(s, IOGUARD_LOST_RINGBUF_FULL, 3), 0);
	assert_int_equal(metrics_snapshot__add_lost(s, IOGUARD_LOST_RINGBUF_FULL, 4), 0);
	assert_int_equal(s->lost[IOGUARD_LOST_RINGBUF_FULL], 7);
	assert_int_equal(s->lost[IOGUARD_LOST_CALL_TABLE_FULL], 0);
	metrics_snapshot__free(s);
}

static void test_string_limits(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char dev[IOGUARD_DEV_NAME_LEN + 1], type[METRICS_GROUP_TYPE_LEN + 1];
	char str[METRICS_POLICY_STR_LEN + 1], build[METRICS_BUILD_STR_LEN + 1];

	/* The longest string that fits, its NUL included, then one byte more. */
	memset(dev, 'd', sizeof(dev) - 2);
	dev[sizeof(dev) - 2] = '\0';
	assert_int_equal(metrics_snapshot__add_fault(s, dev, 1, 1), 0);
	assert_string_equal(s->faults.v[0].device, dev);
	memset(dev, 'd', sizeof(dev) - 1);
	dev[sizeof(dev) - 1] = '\0';
	assert_int_equal(metrics_snapshot__add_fault(s, dev, 1, 1), -ENAMETOOLONG);
	assert_int_equal(s->faults.n, 1);

	memset(type, 't', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	assert_int_equal(metrics_snapshot__add_group(s, 1, type, 1, true, true), -ENAMETOOLONG);
	type[sizeof(type) - 2] = '\0';
	assert_int_equal(metrics_snapshot__add_group(s, 1, type, 1, true, true), 0);
	assert_int_equal(metrics_snapshot__add_group(s, 2, "", 1, true, true), 0);
	assert_string_equal(s->groups.v[1].type, "");

	memset(str, 's', sizeof(str) - 1);
	str[sizeof(str) - 1] = '\0';
	assert_int_equal(metrics_snapshot__add_decision(s, str, "deny", "r", "t", 1),
			 -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "", "r", "t", 1), -EINVAL);
	str[sizeof(str) - 2] = '\0';
	assert_int_equal(metrics_snapshot__add_decision(s, str, "deny", "r", str, 1), 0);
	assert_int_equal(s->decisions.n, 1);

	memset(build, 'v', sizeof(build) - 1);
	build[sizeof(build) - 1] = '\0';
	assert_int_equal(metrics_snapshot__set_build(s, "1.2.3", "fentry"), 0);
	/* A refused version or mode leaves the build as it was. */
	assert_int_equal(metrics_snapshot__set_build(s, build, "tp_btf"), -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__set_build(s, "2.0", build), -ENAMETOOLONG);
	assert_string_equal(s->version, "1.2.3");
	assert_string_equal(s->mode, "fentry");
	assert_int_equal(metrics_snapshot__set_build(s, "2.0", NULL), 0);
	assert_string_equal(s->version, "2.0");
	assert_string_equal(s->mode, "");
	metrics_snapshot__free(s);
}

static void test_many_entries_then_reset(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { .count = 1 };
	size_t cap;
	int g;

	/* Past the first allocations, in reverse order: sort restores it. */
	for (g = 999; g >= 0; g--) {
		assert_int_equal(metrics_snapshot__add_hist(s, g, IOGUARD_OP_MAP,
							    IOGUARD_HIST_LATENCY, &h), 0);
		assert_int_equal(metrics_snapshot__add_group(s, g, "DMA", 1, true, true), 0);
	}
	metrics_snapshot__sort(s);
	assert_int_equal(s->hists.n, 1000);
	for (g = 0; g < 1000; g++) {
		assert_int_equal(s->hists.v[g].group, g);
		assert_int_equal(s->groups.v[g].group, g);
	}
	assert_int_equal(metrics_snapshot__add_lost(s, IOGUARD_LOST_FAULT_TABLE_FULL, 1), 0);
	assert_int_equal(metrics_snapshot__set_build(s, "1", "fentry"), 0);
	s->bpf_stats_enabled = true;
	s->posture.read = true;

	cap = s->hists.cap;
	metrics_snapshot__reset(s);
	assert_int_equal(s->hists.n + s->groups.n, 0);
	assert_int_equal(s->hists.cap, cap);
	assert_int_equal(s->lost[IOGUARD_LOST_FAULT_TABLE_FULL], 0);
	assert_string_equal(s->version, "");
	assert_string_equal(s->mode, "");
	assert_false(s->bpf_stats_enabled);
	assert_false(s->posture.read);
	/* Entries added after a reset start from zero, not from the old ones. */
	assert_int_equal(metrics_snapshot__add_calls(s, 1, IOGUARD_OP_MAP, IOGUARD_RESULT_OK, 1,
						     4096), 0);
	assert_int_equal(s->calls.v[0].bytes, 4096);
	metrics_snapshot__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_numeric_keys),
		cmocka_unit_test(test_sort_string_keys),
		cmocka_unit_test(test_decisions_summed_others_kept),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_many_entries_then_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
