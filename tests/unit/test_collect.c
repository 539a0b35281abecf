// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metrics collector: each part against a fake or fixture source. The aggregation
 * maps are real per-CPU hash maps created here (skipped without the rights to), filled
 * with known per-CPU values, so the summing over CPUs is checked end to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "metrics/collect.h"
#include "ioguard_version.h"

#define FIXTURES "tests/fixtures/sysfs/"

static const struct metrics_group_entry *find_group(const struct metrics_snapshot *s, int g)
{
	size_t i;

	for (i = 0; i < s->groups.n; i++)
		if (s->groups.v[i].group == g)
			return &s->groups.v[i];
	return NULL;
}

static void test_groups_from_fixture(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	const struct metrics_group_entry *edu, *multi;

	assert_int_equal(collect_groups(s, FIXTURES "q35-one-vfio"), 0);
	assert_int_equal(s->groups.n, 4);
	edu = find_group(s, 2);
	multi = find_group(s, 1);
	assert_non_null(edu);
	assert_non_null(multi);
	assert_int_equal(edu->devices, 1);
	assert_string_equal(edu->type, "DMA-FQ");
	assert_true(edu->viable_kernel);
	assert_true(edu->viable_strict);
	/* Bridge + two e1000: one on vfio-pci, one on its host driver. */
	assert_int_equal(multi->devices, 3);
	assert_false(multi->viable_kernel);
	assert_false(multi->viable_strict);
	metrics_snapshot__free(s);
}

static void test_groups_absent_is_empty(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();

	/* No sys/kernel/iommu_groups at all: a machine without an IOMMU. */
	assert_int_equal(collect_groups(s, "/nonexistent-ioguard-root"), 0);
	assert_int_equal(s->groups.n, 0);
	metrics_snapshot__free(s);
}

#define ACTIVE_POLICY 0x1111ULL
#define EARLIER_POLICY 0x2222ULL
#define COUNTER(policy_, hook_, decision_, reason_, tenant_, n_) \
	{ { .policy_id = (policy_), .hook = (hook_), .decision = (decision_), \
	    .reason = (reason_), .tenant = (tenant_) }, (n_) }

static struct enforcer_status fake_status(struct enforcer_counter *c, size_t n, bool active)
{
	struct enforcer_status st = { .pinned = true, .policy_active = active };

	st.slot.loaded = 1;
	st.slot.policy_id = ACTIVE_POLICY;
	st.slot.n_tenants = 2;
	strcpy(st.slot.tenants[0].name, "tenant-a");
	strcpy(st.slot.tenants[1].name, "tenant-b");
	st.counters = c;
	st.n_counters = n;
	return st;
}

static void test_decisions_are_named(void **state)
{
	struct enforcer_counter c[] = {
		COUNTER(ACTIVE_POLICY, IOGUARD_HOOK_MAP_DMA, IOGUARD_DECISION_DENY,
			IOGUARD_REASON_IOVA_WINDOW, 1, 3),
		COUNTER(ACTIVE_POLICY, IOGUARD_HOOK_OPEN, IOGUARD_DECISION_ALLOW,
			IOGUARD_REASON_NONE, 0, 7),
		COUNTER(ACTIVE_POLICY, IOGUARD_HOOK_OPEN, IOGUARD_DECISION_DENY,
			IOGUARD_REASON_NO_TENANT, -1, 1),
		/* Counted under an earlier policy: its index means nothing in this one. */
		COUNTER(EARLIER_POLICY, IOGUARD_HOOK_IOAS_MAP, IOGUARD_DECISION_AUDIT,
			IOGUARD_REASON_DMA_LIMIT, 1, 2),
		/* The same labels from two earlier tenants make one series. */
		COUNTER(EARLIER_POLICY, IOGUARD_HOOK_IOAS_MAP, IOGUARD_DECISION_AUDIT,
			IOGUARD_REASON_DMA_LIMIT, 0, 4),
	};
	struct enforcer_status st = fake_status(c, 5, true);
	struct metrics_snapshot *s = metrics_snapshot__new();
	const struct metrics_decision_entry *e;

	assert_int_equal(collect_decisions(s, &st), 0);
	assert_int_equal(s->decisions.n, 4);
	e = &s->decisions.v[0];
	assert_string_equal(e->hook, "map_dma");
	assert_string_equal(e->decision, "deny");
	assert_string_equal(e->reason, "iova_window");
	assert_string_equal(e->tenant, "tenant-b");
	assert_int_equal(e->count, 3);
	assert_string_equal(s->decisions.v[1].tenant, "tenant-a");
	assert_string_equal(s->decisions.v[2].tenant, COLLECT_NO_TENANT);
	assert_string_equal(s->decisions.v[3].tenant, "(earlier policy)");
	assert_string_equal(s->decisions.v[3].decision, "audit");
	assert_int_equal(s->decisions.v[3].count, 6);
	metrics_snapshot__free(s);
}

static void test_decisions_without_active_policy(void **state)
{
	struct enforcer_counter c[] = {
		COUNTER(ACTIVE_POLICY, IOGUARD_HOOK_OPEN, IOGUARD_DECISION_ALLOW,
			IOGUARD_REASON_NONE, 0, 5),
	};
	struct enforcer_status st = fake_status(c, 1, false);
	struct metrics_snapshot *s = metrics_snapshot__new();

	assert_int_equal(collect_decisions(s, &st), 0);
	assert_string_equal(s->decisions.v[0].tenant, "(earlier policy)");
	metrics_snapshot__free(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_bpf_stats_enabled(void **state)
{
	char path[] = "/tmp/ioguard-test-bpfstats-XXXXXX";
	bool on = true;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "0\n");
	assert_int_equal(collect_bpf_stats_enabled(path, &on), 0);
	assert_false(on);
	write_file(path, "1\n");
	assert_int_equal(collect_bpf_stats_enabled(path, &on), 0);
	assert_true(on);
	write_file(path, "garbage\n");
	assert_int_equal(collect_bpf_stats_enabled(path, &on), -EINVAL);
	unlink(path);
	assert_int_equal(collect_bpf_stats_enabled(path, &on), -ENOENT);
}

/* ---- the aggregation maps, real per-CPU hashes ---------------------------------- */

/*
 * Valgrind's model of bpf(2) checks every byte of the attr union, while libbpf (like the
 * kernel) zeroes only the command's part: each call is reported as uninitialised. The
 * ASan/UBSan build runs these tests; under valgrind they are skipped, and said so.
 */
static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

struct maps_fixture {
	struct tracer_maps maps;
	int ncpu;
};

static int percpu_map(size_t key, size_t value)
{
	return bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "ioguard_test", key, value, 64, NULL);
}

static int maps_setup(void **state)
{
	struct maps_fixture *f = calloc(1, sizeof(*f));

	*state = f;
	f->maps = (struct tracer_maps){ -1, -1, -1, -1 };
	if (under_valgrind())
		return 0;
	f->ncpu = libbpf_num_possible_cpus();
	f->maps.aggs_fd = percpu_map(sizeof(struct ioguard_agg_key), sizeof(struct ioguard_agg));
	f->maps.faults_fd = percpu_map(sizeof(struct ioguard_fault_key), sizeof(__u64));
	f->maps.dma_faults_fd = percpu_map(sizeof(struct ioguard_dma_fault_key), sizeof(__u64));
	f->maps.invals_fd = percpu_map(sizeof(struct ioguard_inval_key),
				       sizeof(struct ioguard_inval));
	return 0;
}

static int maps_teardown(void **state)
{
	struct maps_fixture *f = *state;

	if (f->maps.aggs_fd >= 0)
		close(f->maps.aggs_fd);
	if (f->maps.faults_fd >= 0)
		close(f->maps.faults_fd);
	if (f->maps.dma_faults_fd >= 0)
		close(f->maps.dma_faults_fd);
	if (f->maps.invals_fd >= 0)
		close(f->maps.invals_fd);
	free(f);
	return 0;
}

static void need_maps(const struct maps_fixture *f)
{
	if (under_valgrind()) {
		printf("SKIP: real BPF maps under valgrind (it misreads libbpf's bpf(2) attrs); "
		       "the sanitizer build runs this test\n");
		skip();
	}
	if (f->maps.aggs_fd < 0 || f->maps.faults_fd < 0 || f->maps.dma_faults_fd < 0 ||
	    f->maps.invals_fd < 0) {
		printf("SKIP: cannot create BPF maps here (%s): needs root or CAP_BPF\n",
		       strerror(errno));
		skip();
	}
}

static void test_aggregates_sum_over_cpus(void **state)
{
	struct maps_fixture *f = *state;
	struct ioguard_agg_key ak = { .group = 2, .op = IOGUARD_OP_MAP };
	struct ioguard_fault_key fk = { .group = 2 };
	struct metrics_snapshot *s;
	struct ioguard_agg *a;
	__u64 *faults;
	int cpu;

	need_maps(f);
	a = calloc(f->ncpu, sizeof(*a));
	faults = calloc(f->ncpu, sizeof(*faults));
	for (cpu = 0; cpu < f->ncpu; cpu++) {
		struct ioguard_hist *h = &a[cpu].hist[IOGUARD_HIST_LATENCY];

		h->slots[12] = cpu + 1;	/* 4096 ns */
		h->slots[31] = 1;		/* clamped */
		h->count = cpu + 2;
		h->sum = 1000 * (cpu + 1);
		a[cpu].calls[IOGUARD_RESULT_OK] = 10;
		a[cpu].bytes[IOGUARD_RESULT_OK] = 4096 * 10;
		faults[cpu] = cpu;
	}
	/* On one CPU only: a histogram and a result that any CPU filled are exported. */
	a[f->ncpu - 1].hist[IOGUARD_HIST_SIZE].slots[12] = 3;
	a[f->ncpu - 1].hist[IOGUARD_HIST_SIZE].count = 3;
	a[f->ncpu - 1].hist[IOGUARD_HIST_SIZE].sum = 3 * 4096;
	a[f->ncpu - 1].calls[IOGUARD_RESULT_ERROR] = 2;
	strcpy(fk.device, "0000:00:03.0");
	assert_int_equal(bpf_map_update_elem(f->maps.aggs_fd, &ak, a, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(f->maps.faults_fd, &fk, faults, BPF_ANY), 0);

	s = metrics_snapshot__new();
	assert_int_equal(collect_aggregates(s, &f->maps), 0);
	assert_int_equal(s->hists.n, 2);
	assert_int_equal(s->hists.v[0].group, 2);
	assert_int_equal(s->hists.v[0].op, IOGUARD_OP_MAP);
	assert_int_equal(s->hists.v[0].kind, IOGUARD_HIST_LATENCY);
	assert_int_equal(s->hists.v[0].hist.slots[12], f->ncpu * (f->ncpu + 1) / 2);
	assert_int_equal(s->hists.v[0].hist.slots[31], f->ncpu);
	assert_int_equal(s->hists.v[0].hist.sum, 1000ULL * f->ncpu * (f->ncpu + 1) / 2);
	assert_int_equal(s->hists.v[1].kind, IOGUARD_HIST_SIZE);
	assert_int_equal(s->hists.v[1].hist.slots[12], 3);
	assert_int_equal(s->hists.v[1].hist.sum, 3 * 4096);
	assert_int_equal(s->calls.n, 2);
	assert_int_equal(s->calls.v[0].result, IOGUARD_RESULT_OK);
	assert_int_equal(s->calls.v[0].calls, 10ULL * f->ncpu);
	assert_int_equal(s->calls.v[0].bytes, 40960ULL * f->ncpu);
	assert_int_equal(s->calls.v[1].result, IOGUARD_RESULT_ERROR);
	assert_int_equal(s->calls.v[1].calls, 2);
	assert_int_equal(s->calls.v[1].bytes, 0);
	assert_int_equal(s->faults.n, 1);
	assert_string_equal(s->faults.v[0].device, "0000:00:03.0");
	assert_int_equal(s->faults.v[0].faults, (__u64)f->ncpu * (f->ncpu - 1) / 2);
	metrics_snapshot__free(s);
	free(a);
	free(faults);
}

/*
 * DMA fault counts are keyed by requester id: the collector names the device and, from
 * sysfs, its group; a requester that matches no device keeps the group unknown.
 */
static void test_dma_faults_named_and_grouped(void **state)
{
	struct maps_fixture *f = *state;
	struct ioguard_dma_fault_key edu = {
		.source_id = 0x18, .kind = IOGUARD_DMA_FAULT_WRITE, .reason = 0x05,
	};
	struct ioguard_dma_fault_key gone = {
		.segment = 1, .source_id = 0x0801, .kind = IOGUARD_DMA_FAULT_READ, .reason = 0x06,
	};
	/* A kind of a newer object: left out, the others still collected. */
	struct ioguard_dma_fault_key newer = {
		.source_id = 0x10, .kind = IOGUARD_DMA_FAULT_KIND_COUNT, .reason = 0x05,
	};
	struct metrics_snapshot *s;
	__u64 *counts;
	int cpu;

	need_maps(f);
	counts = calloc(f->ncpu, sizeof(*counts));
	for (cpu = 0; cpu < f->ncpu; cpu++)
		counts[cpu] = cpu + 1;
	assert_int_equal(bpf_map_update_elem(f->maps.dma_faults_fd, &edu, counts, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(f->maps.dma_faults_fd, &gone, counts, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(f->maps.dma_faults_fd, &newer, counts, BPF_ANY), 0);

	s = metrics_snapshot__new();
	assert_int_equal(collect_aggregates(s, &f->maps), 0);
	collect_dma_fault_groups(s, FIXTURES "lab-debian-both-vfio");
	metrics_snapshot__sort(s);
	assert_int_equal(s->dma_faults.n, 2);
	assert_string_equal(s->dma_faults.v[0].device, "0000:00:03.0");
	assert_int_equal(s->dma_faults.v[0].group, 3);
	assert_int_equal(s->dma_faults.v[0].kind, IOGUARD_DMA_FAULT_WRITE);
	assert_int_equal(s->dma_faults.v[0].reason, 0x05);
	assert_int_equal(s->dma_faults.v[0].faults, (__u64)f->ncpu * (f->ncpu + 1) / 2);
	assert_string_equal(s->dma_faults.v[1].device, "0001:08:00.1");
	assert_int_equal(s->dma_faults.v[1].group, IOGUARD_GROUP_UNKNOWN);
	assert_int_equal(s->dma_faults.v[1].kind, IOGUARD_DMA_FAULT_READ);
	metrics_snapshot__free(s);
	free(counts);
}

static void test_aggregates_skip_unknown_ops(void **state)
{
	struct maps_fixture *f = *state;
	struct ioguard_agg_key ak = { .group = 1, .op = IOGUARD_OP_COUNT + 3 };
	struct ioguard_agg *a;
	struct metrics_snapshot *s;

	need_maps(f);
	a = calloc(f->ncpu, sizeof(*a));
	a[0].calls[IOGUARD_RESULT_OK] = 1;
	assert_int_equal(bpf_map_update_elem(f->maps.aggs_fd, &ak, a, BPF_ANY), 0);
	s = metrics_snapshot__new();
	assert_int_equal(collect_aggregates(s, &f->maps), 0);
	assert_int_equal(s->calls.n, 0);
	assert_int_equal(s->hists.n, 0);
	metrics_snapshot__free(s);
	free(a);
}

/* Descriptors and the latency histogram are summed over CPUs; unknown keys are left out. */
static void test_invalidations_sum_over_cpus(void **state)
{
	struct maps_fixture *f = *state;
	struct ioguard_inval_key key = {
		.group = 2, .cause = IOGUARD_INVAL_CAUSE_UNMAP, .kind = IOGUARD_INVAL_IOTLB,
	};
	struct ioguard_inval_key newer = {
		.group = 2, .cause = IOGUARD_INVAL_CAUSE_COUNT, .kind = IOGUARD_INVAL_IOTLB,
	};
	struct metrics_snapshot *s;
	struct ioguard_inval *v;
	int cpu;

	need_maps(f);
	v = calloc(f->ncpu, sizeof(*v));
	for (cpu = 0; cpu < f->ncpu; cpu++) {
		v[cpu].descriptors = cpu + 1;
		v[cpu].latency.slots[13] = cpu + 1;	/* 8192 ns */
		v[cpu].latency.count = cpu + 1;
		v[cpu].latency.sum = 8000ULL * (cpu + 1);
	}
	assert_int_equal(bpf_map_update_elem(f->maps.invals_fd, &key, v, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(f->maps.invals_fd, &newer, v, BPF_ANY), 0);

	s = metrics_snapshot__new();
	assert_int_equal(collect_aggregates(s, &f->maps), 0);
	assert_int_equal(s->invals.n, 1);
	assert_int_equal(s->invals.v[0].group, 2);
	assert_int_equal(s->invals.v[0].cause, IOGUARD_INVAL_CAUSE_UNMAP);
	assert_int_equal(s->invals.v[0].kind, IOGUARD_INVAL_IOTLB);
	assert_int_equal(s->invals.v[0].descriptors, (__u64)f->ncpu * (f->ncpu + 1) / 2);
	assert_int_equal(s->invals.v[0].latency.slots[13], (__u64)f->ncpu * (f->ncpu + 1) / 2);
	assert_int_equal(s->invals.v[0].latency.count, (__u64)f->ncpu * (f->ncpu + 1) / 2);
	assert_int_equal(s->invals.v[0].latency.sum, 8000ULL * f->ncpu * (f->ncpu + 1) / 2);
	metrics_snapshot__free(s);
	free(v);
}

static void test_aggregates_empty_and_absent_maps(void **state)
{
	struct maps_fixture *f = *state;
	struct tracer_maps none = { -1, -1, -1, -1 };
	struct metrics_snapshot *s;

	need_maps(f);
	s = metrics_snapshot__new();
	assert_int_equal(collect_aggregates(s, &f->maps), 0);
	assert_int_equal(collect_aggregates(s, &none), 0);
	assert_int_equal(s->hists.n + s->calls.n + s->faults.n + s->invals.n, 0);
	metrics_snapshot__free(s);
}

static void test_collect_without_tracer(void **state)
{
	struct collect_ctx ctx = {
		.sz = sizeof(ctx),
		.sysfs_root = FIXTURES "q35-host",
		.no_enforcement = true,
		.bpf_stats_path = "/nonexistent",
	};
	struct metrics_snapshot *s = metrics_snapshot__new();

	assert_int_equal(collect_metrics(&ctx, s), 0);
	assert_string_equal(s->version, IOGUARD_VERSION);
	assert_string_equal(s->mode, "");
	assert_false(s->bpf_stats_enabled);
	assert_true(s->groups.n > 0);
	assert_int_equal(s->hists.n + s->calls.n + s->progs.n + s->decisions.n, 0);
	metrics_snapshot__free(s);
}

/*
 * Pins that cannot be read (here the pin directory is a file): the page is still
 * collected, the host's posture with it, and the enforcement is marked unknown.
 */
static void test_collect_unreadable_pins(void **state)
{
	struct collect_ctx ctx = {
		.sz = sizeof(ctx),
		.sysfs_root = FIXTURES "q35-host",
		.bpf_stats_path = "/nonexistent",
	};
	struct metrics_snapshot *s = metrics_snapshot__new();

	(void)state;
	setenv("IOGUARD_PIN_DIR", "/proc/self/status", 1);
	assert_int_equal(collect_metrics(&ctx, s), 0);
	unsetenv("IOGUARD_PIN_DIR");
	assert_int_equal(s->posture.enforcement_error, -ENOTDIR);
	assert_true(s->posture.read);
	assert_false(s->posture.enforcing);
	assert_true(s->groups.n > 0);
	metrics_snapshot__free(s);
}

int main(void)
{
#define M(fn) cmocka_unit_test_setup_teardown(fn, maps_setup, maps_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_from_fixture),
		cmocka_unit_test(test_groups_absent_is_empty),
		cmocka_unit_test(test_decisions_are_named),
		cmocka_unit_test(test_decisions_without_active_policy),
		cmocka_unit_test(test_bpf_stats_enabled),
		M(test_aggregates_sum_over_cpus),
		M(test_dma_faults_named_and_grouped),
		M(test_aggregates_skip_unknown_ops),
		M(test_invalidations_sum_over_cpus),
		M(test_aggregates_empty_and_absent_maps),
		cmocka_unit_test(test_collect_without_tracer),
		cmocka_unit_test(test_collect_unreadable_pins),
	};
#undef M

	return cmocka_run_group_tests(tests, NULL, NULL);
}
