// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/metrics/exposition.c and src/ioguard/metrics/snapshot.c, and of the slot function
 * in include/ioguard/hist.h that the BPF side shares: exact text, exact le bounds, values
 * at bucket edges, escaping, and `promtool check metrics` when promtool is installed.
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

#include <linux/types.h>

#include "ioguard/hist.h"
#include "metrics/exposition.h"

/* The bounds as the exposition must print them; each is checked to parse exactly. */
static const char *const le_seconds[IOGUARD_HIST_SLOTS] = {
	"1e-09", "2e-09", "4e-09", "8e-09", "1.6e-08", "3.2e-08", "6.4e-08", "1.28e-07",
	"2.56e-07", "5.12e-07", "1.024e-06", "2.048e-06", "4.096e-06", "8.192e-06",
	"1.6384e-05", "3.2768e-05", "6.5536e-05", "0.000131072", "0.000262144",
	"0.000524288", "0.001048576", "0.002097152", "0.004194304", "0.008388608",
	"0.016777216", "0.033554432", "0.067108864", "0.134217728", "0.268435456",
	"0.536870912", "1.073741824", "+Inf",
};

static const char *const le_bytes[IOGUARD_HIST_SLOTS] = {
	"1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "2048", "4096",
	"8192", "16384", "32768", "65536", "131072", "262144", "524288", "1.048576e+06",
	"2.097152e+06", "4.194304e+06", "8.388608e+06", "1.6777216e+07", "3.3554432e+07",
	"6.7108864e+07", "1.34217728e+08", "2.68435456e+08", "5.36870912e+08",
	"1.073741824e+09", "+Inf",
};

/* The slot as the issue specifies it, with the builtin the BPF side cannot use. */
static __u32 slot_reference(__u64 v)
{
	__u32 s = v <= 1 ? 0 : 64 - __builtin_clzll(v - 1);

	return s < IOGUARD_HIST_SLOTS - 1 ? s : IOGUARD_HIST_SLOTS - 1;
}

static void hist_add_value(struct ioguard_hist *h, __u64 v)
{
	h->slots[ioguard_hist_slot(v)]++;
	h->count++;
	h->sum += v;
}

static char *render(const struct metrics_snapshot *s)
{
	struct buf b = { 0 };

	assert_int_equal(exposition_render(s, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(strlen(b.data), b.len);
	return b.data;
}

/*
 * The exported window, written out: latency from 2^6 ns (64 ns), sizes from 2^12 bytes
 * (4 KiB), both up to 2^30, then +Inf. docs/metrics.md gives the same numbers.
 */
#define FIRST_LATENCY 6
#define FIRST_SIZE 12
#define LAST_FINITE 30

static int first_slot(__u32 kind)
{
	return kind == IOGUARD_HIST_LATENCY ? FIRST_LATENCY : FIRST_SIZE;
}

/*
 * Expected lines of one histogram, from the literal bound tables above: the first
 * exported bucket holds every slot up to it, +Inf every slot.
 */
static void expect_hist(struct buf *b, const char *name, const char *labels, __u32 kind,
			const __u64 slots[], const char *sum)
{
	const char *const *le = kind == IOGUARD_HIST_LATENCY ? le_seconds : le_bytes;
	__u64 cum = 0;
	int s;

	for (s = 0; s < IOGUARD_HIST_SLOTS; s++) {
		cum += slots[s];
		if (s >= first_slot(kind) && (s <= LAST_FINITE || s == IOGUARD_HIST_SLOTS - 1))
			buf__printf(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, le[s],
				    (unsigned long long)cum);
	}
	buf__printf(b, "%s_sum{%s} %s\n%s_count{%s} %llu\n", name, labels, sum, name, labels,
		    (unsigned long long)cum);
}

/* ---- slots ------------------------------------------------------------------------ */

static void test_slot_edges(void **state)
{
	__u32 s;

	assert_int_equal(ioguard_hist_slot(0), 0);
	assert_int_equal(ioguard_hist_slot(1), 0);
	assert_int_equal(ioguard_hist_slot(2), 1);
	assert_int_equal(ioguard_hist_slot(3), 2);
	for (s = 1; s <= 30; s++) {
		__u64 p = 1ULL << s;

		/* 2^s is the top of slot s; one more is the bottom of slot s + 1. */
		assert_int_equal(ioguard_hist_slot(p), s);
		assert_int_equal(ioguard_hist_slot(p + 1), s + 1);
		if (s >= 2)
			assert_int_equal(ioguard_hist_slot(p - 1), s);
	}
	/* Above the last finite bound: clamped into the +Inf slot. */
	assert_int_equal(ioguard_hist_slot((1ULL << 30) + 1), 31);
	assert_int_equal(ioguard_hist_slot(1ULL << 31), 31);
	assert_int_equal(ioguard_hist_slot(1ULL << 32), 31);
	assert_int_equal(ioguard_hist_slot(UINT64_MAX), 31);
}

static void test_slot_matches_clz_formula(void **state)
{
	__u64 x = 0x9e3779b97f4a7c15ULL;
	int i, s;

	for (s = 0; s < 64; s++) {
		__u64 p = 1ULL << s;

		assert_int_equal(ioguard_hist_slot(p), slot_reference(p));
		assert_int_equal(ioguard_hist_slot(p - 1), slot_reference(p - 1));
		assert_int_equal(ioguard_hist_slot(p + 1), slot_reference(p + 1));
	}
	for (i = 0; i < 100000; i++) {
		/* xorshift64, shifted right by a varying amount to cover every magnitude */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		assert_int_equal(ioguard_hist_slot(x >> (i % 64)), slot_reference(x >> (i % 64)));
	}
}

/* ---- le bounds -------------------------------------------------------------------- */

static void test_le_strings_are_exact(void **state)
{
	char le[EXPOSITION_LE_LEN];
	int s;

	for (s = 0; s < IOGUARD_HIST_SLOTS; s++) {
		assert_string_equal(exposition_le(IOGUARD_HIST_LATENCY, s, le), le_seconds[s]);
		assert_string_equal(exposition_le(IOGUARD_HIST_SIZE, s, le), le_bytes[s]);
		if (s == IOGUARD_HIST_SLOTS - 1)
			break;
		/*
		 * The decimal text is exactly 2^s * 10^-9, so it parses to the double nearest
		 * that value, as does the correctly rounded division.
		 */
		assert_true(strtod(le_seconds[s], NULL) == (double)(1ULL << s) / 1e9);
		assert_true(strtod(le_bytes[s], NULL) == (double)(1ULL << s));
		if (s > 0)
			assert_true(strtod(le_seconds[s], NULL) > strtod(le_seconds[s - 1], NULL));
	}
}

/*
 * For values at, just below and just above every bound: place the value as the BPF side
 * does, render, read every _bucket line back, and check that a bucket counts the value
 * exactly when value <= le, comparing integers (le parsed back to nanoseconds/bytes).
 */
static void check_value_in_buckets(__u32 kind, __u64 v)
{
	const char *name = kind == IOGUARD_HIST_LATENCY ? "ioguard_iommu_op_latency_seconds" :
							  "ioguard_iommu_op_size_bytes";
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };
	char prefix[128], *text, *line;
	int buckets = 0;

	hist_add_value(&h, v);
	assert_int_equal(metrics_snapshot__add_hist(s, 5, IOGUARD_OP_MAP, kind, &h), 0);
	text = render(s);
	snprintf(prefix, sizeof(prefix), "%s_bucket{group=\"5\",op=\"map\",le=\"", name);
	for (line = strstr(text, prefix); line; line = strstr(line + 1, prefix)) {
		char *le = line + strlen(prefix), *end = strchr(le, '"');
		unsigned long long count = strtoull(end + 3, NULL, 10);

		buckets++;
		if (!strncmp(le, "+Inf", 4)) {
			assert_int_equal(count, 1);
			continue;
		}
		{
			double bound = strtod(le, NULL) * (kind == IOGUARD_HIST_LATENCY ? 1e9 : 1);
			__u64 b = (__u64)(bound + 0.5);

			/* The bound is an exact power of two of the unit. */
			assert_true(b && !(b & (b - 1)));
			if (v <= b)
				assert_int_equal(count, 1);
			else
				assert_int_equal(count, 0);
		}
	}
	/* The window, and +Inf. */
	assert_int_equal(buckets, LAST_FINITE - first_slot(kind) + 2);
	free(text);
	metrics_snapshot__free(s);
}

static void test_boundary_values_land_in_their_bucket(void **state)
{
	__u32 kind, s;

	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
		check_value_in_buckets(kind, 0);
		for (s = 0; s <= 31; s++) {
			__u64 p = 1ULL << s;

			check_value_in_buckets(kind, p);
			check_value_in_buckets(kind, p + 1);
			if (p > 1)
				check_value_in_buckets(kind, p - 1);
		}
		check_value_in_buckets(kind, UINT64_MAX);
	}
}

/* ---- the exported window --------------------------------------------------------- */

static const char *hist_name(__u32 kind)
{
	return kind == IOGUARD_HIST_LATENCY ? "ioguard_iommu_op_latency_seconds" :
					      "ioguard_iommu_op_size_bytes";
}

/* Renders one histogram of @kind (group 5, op map) holding @values. */
static char *render_values(__u32 kind, const __u64 *values, size_t n)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };
	char *text;
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		hist_add_value(&h, values[i]);
	assert_int_equal(metrics_snapshot__add_hist(s, 5, IOGUARD_OP_MAP, kind, &h), 0);
	text = render(s);
	metrics_snapshot__free(s);
	return text;
}

/* Asserts that @text holds the bucket line le=@le of @kind with exactly @count. */
static void expect_bucket(const char *text, __u32 kind, const char *le, __u64 count)
{
	char line[160];

	snprintf(line, sizeof(line), "\n%s_bucket{group=\"5\",op=\"map\",le=\"%s\"} %llu\n",
		 hist_name(kind), le, (unsigned long long)count);
	if (!strstr(text, line))
		fail_msg("no line '%s' in:\n%s", line + 1, text);
}

static void expect_no_bucket(const char *text, __u32 kind, const char *le)
{
	char line[160];

	snprintf(line, sizeof(line), "%s_bucket{group=\"5\",op=\"map\",le=\"%s\"}",
		 hist_name(kind), le);
	if (strstr(text, line))
		fail_msg("'%s' is outside the exported window but was printed", line);
}

/* The numbers docs/metrics.md and these tests state are the ones the exposition uses. */
static void test_window_is_documented_one(void **state)
{
	assert_int_equal(exposition_first_slot(IOGUARD_HIST_LATENCY), FIRST_LATENCY);
	assert_int_equal(exposition_first_slot(IOGUARD_HIST_SIZE), FIRST_SIZE);
	assert_int_equal(EXPOSITION_LAST_SLOT, LAST_FINITE);
	assert_string_equal(le_seconds[FIRST_LATENCY], "6.4e-08");
	assert_string_equal(le_bytes[FIRST_SIZE], "4096");
}

/* Exactly the window's bounds, in order, then +Inf; nothing below the first bound. */
static void test_window_bounds_in_order(void **state)
{
	__u32 kind;

	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
		const char *const *want = kind == IOGUARD_HIST_LATENCY ? le_seconds : le_bytes;
		__u64 v = 1ULL << 20;
		char *text = render_values(kind, &v, 1), *line, prefix[128];
		int s = first_slot(kind);

		snprintf(prefix, sizeof(prefix), "%s_bucket{group=\"5\",op=\"map\",le=\"",
			 hist_name(kind));
		for (line = strstr(text, prefix); line; line = strstr(line + 1, prefix)) {
			const char *le = line + strlen(prefix);
			const char *bound = s <= LAST_FINITE ? want[s] : "+Inf";

			assert_true(s < IOGUARD_HIST_SLOTS);
			if (strncmp(le, bound, strlen(bound)) || le[strlen(bound)] != '"')
				fail_msg("bucket %d of kind %u: want le=\"%s\", got %.20s", s, kind,
					 bound, le);
			s++;
		}
		/* first .. 30 and +Inf: 26 latency buckets, 20 size buckets */
		assert_int_equal(s, LAST_FINITE + 2);
		for (s = 0; s < first_slot(kind); s++)
			expect_no_bucket(text, kind, want[s]);
		free(text);
	}
}

/*
 * The lowest exported bound: a value exactly at it is in its bucket, one above is not,
 * and everything below it (down to 0) is folded into it, never lost.
 */
static void test_window_lowest_bound(void **state)
{
	__u32 kind;

	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
		const char *const *le = kind == IOGUARD_HIST_LATENCY ? le_seconds : le_bytes;
		int f = first_slot(kind);
		__u64 bound = 1ULL << f;
		__u64 at = bound, above = bound + 1;
		__u64 below[] = { 0, 1, 2, 3, bound / 2, bound / 2 + 1, bound - 1 };
		char *text;

		text = render_values(kind, &at, 1);
		expect_bucket(text, kind, le[f], 1);
		expect_bucket(text, kind, le[f + 1], 1);
		expect_bucket(text, kind, "+Inf", 1);
		free(text);

		text = render_values(kind, &above, 1);
		expect_bucket(text, kind, le[f], 0);
		expect_bucket(text, kind, le[f + 1], 1);
		expect_bucket(text, kind, "+Inf", 1);
		free(text);

		text = render_values(kind, below, sizeof(below) / sizeof(below[0]));
		expect_bucket(text, kind, le[f], sizeof(below) / sizeof(below[0]));
		expect_bucket(text, kind, le[LAST_FINITE], sizeof(below) / sizeof(below[0]));
		expect_no_bucket(text, kind, le[f - 1]);
		expect_no_bucket(text, kind, le[0]);
		free(text);
	}
}

/*
 * The highest finite bound, 2^30: a value at it is in its bucket; one above and every
 * larger value (clamped into the last slot) only in +Inf and _count.
 */
static void test_window_highest_bound(void **state)
{
	__u32 kind;

	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
		const char *const *le = kind == IOGUARD_HIST_LATENCY ? le_seconds : le_bytes;
		__u64 top = 1ULL << LAST_FINITE;
		__u64 at = top;
		__u64 above[] = { top + 1, top * 2, 1ULL << 40, UINT64_MAX };
		char *text, count[128];

		text = render_values(kind, &at, 1);
		expect_bucket(text, kind, le[LAST_FINITE - 1], 0);
		expect_bucket(text, kind, le[LAST_FINITE], 1);
		expect_bucket(text, kind, "+Inf", 1);
		free(text);

		text = render_values(kind, above, sizeof(above) / sizeof(above[0]));
		expect_bucket(text, kind, le[first_slot(kind)], 0);
		expect_bucket(text, kind, le[LAST_FINITE], 0);
		expect_bucket(text, kind, "+Inf", 4);
		snprintf(count, sizeof(count), "\n%s_count{group=\"5\",op=\"map\"} 4\n",
			 hist_name(kind));
		assert_non_null(strstr(text, count));
		free(text);
	}
}

/*
 * One of each at once: below the window, at and above its lowest bound, at and above
 * its highest. The buckets count 2, 3 (le of the second slot), 4 (2^30), then 5.
 */
static void test_window_mixed(void **state)
{
	__u32 kind;

	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
		const char *const *le = kind == IOGUARD_HIST_LATENCY ? le_seconds : le_bytes;
		int f = first_slot(kind);
		__u64 v[] = { 1, 1ULL << f, (1ULL << f) + 1, 1ULL << LAST_FINITE,
			      (1ULL << LAST_FINITE) + 1 };
		char *text = render_values(kind, v, sizeof(v) / sizeof(v[0]));

		expect_bucket(text, kind, le[f], 2);
		expect_bucket(text, kind, le[f + 1], 3);
		expect_bucket(text, kind, le[LAST_FINITE - 1], 3);
		expect_bucket(text, kind, le[LAST_FINITE], 4);
		expect_bucket(text, kind, "+Inf", 5);
		free(text);
	}
}

/*
 * What the lab asserts (tests/vm/host/metrics-scrape.sh): with an IOMMU whose smallest
 * page is 4 KiB, le="4096" alone counts the 4 KiB maps; type1's 8 KiB probe is not in it.
 */
static void test_window_counts_4k_maps(void **state)
{
	__u64 v[] = { 4096, 4096, 4096, 8192 };
	char *text = render_values(IOGUARD_HIST_SIZE, v, sizeof(v) / sizeof(v[0]));

	expect_bucket(text, IOGUARD_HIST_SIZE, "4096", 3);
	expect_bucket(text, IOGUARD_HIST_SIZE, "8192", 4);
	free(text);
}

/* ---- whole texts ------------------------------------------------------------------ */

#define HDR_BUILD \
	"# HELP ioguard_build_info Build of the running ioguard; mode is the attach mode " \
	"of the BPF programs (fentry, tp_btf, or none when no program is loaded). Always 1.\n" \
	"# TYPE ioguard_build_info gauge\n"
#define HDR_LATENCY \
	"# HELP ioguard_iommu_op_latency_seconds Time spent in IOMMU attach, ownership and " \
	"map operations (fentry to fexit), by IOMMU group and op. Bucket bounds are powers " \
	"of two nanoseconds.\n" \
	"# TYPE ioguard_iommu_op_latency_seconds histogram\n"
#define HDR_SIZE \
	"# HELP ioguard_iommu_op_size_bytes Size requested by IOMMU map and unmap " \
	"operations, by IOMMU group and op. Bucket bounds are powers of two bytes.\n" \
	"# TYPE ioguard_iommu_op_size_bytes histogram\n"
#define HDR_CALLS \
	"# HELP ioguard_iommu_calls_total IOMMU operations finished, by IOMMU group, op and " \
	"result (ok or error).\n" \
	"# TYPE ioguard_iommu_calls_total counter\n"
#define HDR_BYTES \
	"# HELP ioguard_iommu_bytes_total Bytes requested by IOMMU map and unmap " \
	"operations, by IOMMU group, op and result.\n" \
	"# TYPE ioguard_iommu_bytes_total counter\n"
#define HDR_FAULTS \
	"# HELP ioguard_io_page_faults_total IO page faults reported by the IOMMU " \
	"(iommu:io_page_fault), by device and IOMMU group.\n" \
	"# TYPE ioguard_io_page_faults_total counter\n"
#define HDR_DMA_FAULTS \
	"# HELP ioguard_dma_faults_total DMA-remapping faults the IOMMU recorded (VT-d fault " \
	"records), by requesting device, its IOMMU group, kind (read, write or interrupt) " \
	"and fault reason code.\n" \
	"# TYPE ioguard_dma_faults_total counter\n"
#define HDR_INVALS \
	"# HELP ioguard_iotlb_invalidations_total Invalidation descriptors the IOMMU driver " \
	"submitted (Intel VT-d queued invalidation), by IOMMU group, cause (the driver " \
	"flush: unmap, map, flush_all, or none) and kind (iotlb, dev_tlb, context, ...). " \
	"Group unknown: no flush of a known domain submitted it.\n" \
	"# TYPE ioguard_iotlb_invalidations_total counter\n"
#define HDR_INVAL_DURATION \
	"# HELP ioguard_iotlb_invalidation_duration_seconds Time to submit invalidations " \
	"and see them completed (qi_submit_sync(), entry to return): one observation per " \
	"submission of one or more descriptors, labelled by its first descriptor. Bucket " \
	"bounds are powers of two nanoseconds.\n" \
	"# TYPE ioguard_iotlb_invalidation_duration_seconds histogram\n"
#define HDR_DECISIONS \
	"# HELP ioguard_policy_decisions_total Policy decisions taken by the enforcement " \
	"hooks, by hook, decision, reason and tenant.\n" \
	"# TYPE ioguard_policy_decisions_total counter\n"
#define HDR_GROUPS \
	"# HELP ioguard_group_info IOMMU groups of the host; type is the default domain " \
	"type (DMA, DMA-FQ, identity, ...). Always 1.\n" \
	"# TYPE ioguard_group_info gauge\n"
#define HDR_DEVICES \
	"# HELP ioguard_group_devices Devices in the IOMMU group.\n" \
	"# TYPE ioguard_group_devices gauge\n"
#define HDR_VIABLE \
	"# HELP ioguard_group_viable 1 when the IOMMU group is viable for user-space DMA " \
	"under the rule: kernel (what VFIO_GROUP_FLAGS_VIABLE reports) or strict (every " \
	"endpoint bound to VFIO and claimed by one owner).\n" \
	"# TYPE ioguard_group_viable gauge\n"
#define HDR_LOST \
	"# HELP ioguard_events_lost_total Trace events lost in the kernel, by reason: " \
	"ringbuf_full (the ring buffer was full), call_table_full (no room to time a " \
	"call) or fault_table_full (a fault of a new device, kind or reason found its " \
	"table full and was not counted). The other families still count these " \
	"operations; call_table_full loses only their latency.\n" \
	"# TYPE ioguard_events_lost_total counter\n"
#define HDR_STATS \
	"# HELP ioguard_bpf_stats_enabled 1 when kernel.bpf_stats_enabled is on; while it " \
	"is 0 the kernel does not count program runs and the ioguard_bpf_program_* " \
	"counters stand still.\n" \
	"# TYPE ioguard_bpf_stats_enabled gauge\n"
#define HDR_RUNS_OFF \
	"# HELP ioguard_bpf_program_runs_total Runs of each ioguard BPF program (kernel " \
	"bpf_stats). Not counting now: kernel.bpf_stats_enabled is 0.\n" \
	"# TYPE ioguard_bpf_program_runs_total counter\n"
#define HDR_RUNS_ON \
	"# HELP ioguard_bpf_program_runs_total Runs of each ioguard BPF program (kernel " \
	"bpf_stats).\n" \
	"# TYPE ioguard_bpf_program_runs_total counter\n"
#define HDR_RUNTIME_OFF \
	"# HELP ioguard_bpf_program_run_seconds_total Time spent running each ioguard BPF " \
	"program (kernel bpf_stats). Not counting now: kernel.bpf_stats_enabled is 0.\n" \
	"# TYPE ioguard_bpf_program_run_seconds_total counter\n"
#define HDR_RUNTIME_ON \
	"# HELP ioguard_bpf_program_run_seconds_total Time spent running each ioguard BPF " \
	"program (kernel bpf_stats).\n" \
	"# TYPE ioguard_bpf_program_run_seconds_total counter\n"

static void test_empty_snapshot(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char *text;

	assert_non_null(s);
	text = render(s);
	assert_string_equal(text,
		HDR_BUILD
		"ioguard_build_info{version=\"unknown\",mode=\"none\"} 1\n"
		HDR_LATENCY HDR_SIZE HDR_CALLS HDR_BYTES HDR_FAULTS HDR_DMA_FAULTS HDR_INVALS
		HDR_INVAL_DURATION HDR_DECISIONS HDR_GROUPS
		HDR_DEVICES HDR_VIABLE
		HDR_LOST
		"ioguard_events_lost_total{reason=\"ringbuf_full\"} 0\n"
		"ioguard_events_lost_total{reason=\"call_table_full\"} 0\n"
		"ioguard_events_lost_total{reason=\"fault_table_full\"} 0\n"
		HDR_STATS
		"ioguard_bpf_stats_enabled 0\n"
		HDR_RUNS_OFF HDR_RUNTIME_OFF);
	free(text);
	metrics_snapshot__free(s);
}

/* A small snapshot with one of everything; filled out of order, then sorted. */
static struct metrics_snapshot *small_snapshot(void)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist lat = { 0 }, size = { 0 }, inval = { 0 };

	assert_non_null(s);
	/* 1500 ns, 2048 ns (top of slot 11) and 2049 ns (bottom of slot 12). */
	hist_add_value(&lat, 1500);
	hist_add_value(&lat, 2048);
	hist_add_value(&lat, 2049);
	hist_add_value(&size, 4096);
	hist_add_value(&size, 4096);
	hist_add_value(&size, 2 << 20);
	assert_int_equal(metrics_snapshot__add_hist(s, 12, IOGUARD_OP_MAP, IOGUARD_HIST_SIZE,
						    &size), 0);
	assert_int_equal(metrics_snapshot__add_hist(s, 12, IOGUARD_OP_MAP,
						    IOGUARD_HIST_LATENCY, &lat), 0);
	assert_int_equal(metrics_snapshot__add_calls(s, 12, IOGUARD_OP_MAP, IOGUARD_RESULT_OK,
						     3, 12288 + (2 << 20) - 4096), 0);
	assert_int_equal(metrics_snapshot__add_calls(s, 12, IOGUARD_OP_ATTACH_GROUP,
						     IOGUARD_RESULT_ERROR, 1, 0), 0);
	assert_int_equal(metrics_snapshot__add_calls(s, 12, IOGUARD_OP_MAP,
						     IOGUARD_RESULT_ERROR, 1, 4096), 0);
	assert_int_equal(metrics_snapshot__add_fault(s, "0000:00:03.0", 12, 2), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 12,
							 IOGUARD_DMA_FAULT_WRITE, 0x05, 4), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 12,
							 IOGUARD_DMA_FAULT_READ, 0x06, 1), 0);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:02.0",
							 IOGUARD_GROUP_UNKNOWN,
							 IOGUARD_DMA_FAULT_INTERRUPT, 0x25, 9), 0);
	/* Two single-descriptor submissions after unmaps, 3000 and 5000 ns; one untimed. */
	hist_add_value(&inval, 3000);
	hist_add_value(&inval, 5000);
	assert_int_equal(metrics_snapshot__add_inval(s, IOGUARD_GROUP_UNKNOWN,
						     IOGUARD_INVAL_CAUSE_NONE, IOGUARD_INVAL_IEC,
						     1, NULL), 0);
	assert_int_equal(metrics_snapshot__add_inval(s, 12, IOGUARD_INVAL_CAUSE_UNMAP,
						     IOGUARD_INVAL_IOTLB, 2, &inval), 0);
	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "not_viable",
							"tenant-a", 4), 0);
	assert_int_equal(metrics_snapshot__add_group(s, 12, "DMA-FQ", 2, true, false), 0);
	assert_int_equal(metrics_snapshot__add_group(s, 3, NULL, 1, true, true), 0);
	assert_int_equal(metrics_snapshot__add_lost(s, IOGUARD_LOST_RINGBUF_FULL, 7), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "fexit_iommu_map", 10, 1234567), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "fentry_iommu_map", 10, 2000000000), 0);
	s->bpf_stats_enabled = true;
	assert_int_equal(metrics_snapshot__set_build(s, "0.1.0", "fentry"), 0);
	metrics_snapshot__sort(s);
	return s;
}

static void test_small_snapshot_exact(void **state)
{
	struct metrics_snapshot *s = small_snapshot();
	__u64 lat_slots[IOGUARD_HIST_SLOTS] = { [11] = 2, [12] = 1 };
	__u64 size_slots[IOGUARD_HIST_SLOTS] = { [12] = 2, [21] = 1 };
	__u64 inval_slots[IOGUARD_HIST_SLOTS] = { [12] = 1, [13] = 1 };
	struct buf want = { 0 };
	char *text;

	buf__puts(&want, HDR_BUILD "ioguard_build_info{version=\"0.1.0\",mode=\"fentry\"} 1\n"
		  HDR_LATENCY);
	/* 1500 + 2048 + 2049 = 5597 ns */
	expect_hist(&want, "ioguard_iommu_op_latency_seconds", "group=\"12\",op=\"map\"",
		    IOGUARD_HIST_LATENCY, lat_slots, "0.000005597");
	buf__puts(&want, HDR_SIZE);
	expect_hist(&want, "ioguard_iommu_op_size_bytes", "group=\"12\",op=\"map\"",
		    IOGUARD_HIST_SIZE, size_slots, "2105344");
	buf__puts(&want,
		HDR_CALLS
		"ioguard_iommu_calls_total{group=\"12\",op=\"attach_group\",result=\"error\"} 1\n"
		"ioguard_iommu_calls_total{group=\"12\",op=\"map\",result=\"ok\"} 3\n"
		"ioguard_iommu_calls_total{group=\"12\",op=\"map\",result=\"error\"} 1\n"
		HDR_BYTES
		"ioguard_iommu_bytes_total{group=\"12\",op=\"map\",result=\"ok\"} 2105344\n"
		"ioguard_iommu_bytes_total{group=\"12\",op=\"map\",result=\"error\"} 4096\n"
		HDR_FAULTS
		"ioguard_io_page_faults_total{device=\"0000:00:03.0\",group=\"12\"} 2\n"
		HDR_DMA_FAULTS
		"ioguard_dma_faults_total{device=\"0000:00:02.0\",group=\"unknown\","
		"kind=\"interrupt\",reason=\"0x25\"} 9\n"
		"ioguard_dma_faults_total{device=\"0000:00:03.0\",group=\"12\",kind=\"write\","
		"reason=\"0x05\"} 4\n"
		"ioguard_dma_faults_total{device=\"0000:00:03.0\",group=\"12\",kind=\"read\","
		"reason=\"0x06\"} 1\n"
		HDR_INVALS
		"ioguard_iotlb_invalidations_total{group=\"unknown\",cause=\"none\","
		"kind=\"interrupt_entry\"} 1\n"
		"ioguard_iotlb_invalidations_total{group=\"12\",cause=\"unmap\",kind=\"iotlb\"} 2\n"
		HDR_INVAL_DURATION);
	expect_hist(&want, "ioguard_iotlb_invalidation_duration_seconds",
		    "group=\"12\",cause=\"unmap\",kind=\"iotlb\"", IOGUARD_HIST_LATENCY,
		    inval_slots, "0.000008");
	buf__puts(&want,
		HDR_DECISIONS
		"ioguard_policy_decisions_total{hook=\"attach\",decision=\"deny\","
		"reason=\"not_viable\",tenant=\"tenant-a\"} 4\n"
		HDR_GROUPS
		"ioguard_group_info{group=\"3\",type=\"unknown\"} 1\n"
		"ioguard_group_info{group=\"12\",type=\"DMA-FQ\"} 1\n"
		HDR_DEVICES
		"ioguard_group_devices{group=\"3\"} 1\n"
		"ioguard_group_devices{group=\"12\"} 2\n"
		HDR_VIABLE
		"ioguard_group_viable{group=\"3\",rule=\"kernel\"} 1\n"
		"ioguard_group_viable{group=\"3\",rule=\"strict\"} 1\n"
		"ioguard_group_viable{group=\"12\",rule=\"kernel\"} 1\n"
		"ioguard_group_viable{group=\"12\",rule=\"strict\"} 0\n"
		HDR_LOST
		"ioguard_events_lost_total{reason=\"ringbuf_full\"} 7\n"
		"ioguard_events_lost_total{reason=\"call_table_full\"} 0\n"
		"ioguard_events_lost_total{reason=\"fault_table_full\"} 0\n"
		HDR_STATS
		"ioguard_bpf_stats_enabled 1\n"
		HDR_RUNS_ON
		"ioguard_bpf_program_runs_total{program=\"fentry_iommu_map\"} 10\n"
		"ioguard_bpf_program_runs_total{program=\"fexit_iommu_map\"} 10\n"
		HDR_RUNTIME_ON
		"ioguard_bpf_program_run_seconds_total{program=\"fentry_iommu_map\"} 2\n"
		"ioguard_bpf_program_run_seconds_total{program=\"fexit_iommu_map\"} 0.001234567\n");
	assert_int_equal(want.err, 0);
	text = render(s);
	assert_string_equal(text, want.data);
	free(text);
	buf__release(&want);
	metrics_snapshot__free(s);
}

static void test_unknown_group(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };
	char *text;

	hist_add_value(&h, 100);
	assert_int_equal(metrics_snapshot__add_hist(s, IOGUARD_GROUP_UNKNOWN, IOGUARD_OP_UNMAP,
						    IOGUARD_HIST_LATENCY, &h), 0);
	assert_int_equal(metrics_snapshot__add_calls(s, IOGUARD_GROUP_UNKNOWN,
						     IOGUARD_OP_UNMAP_FAST, IOGUARD_RESULT_OK,
						     5, 20480), 0);
	assert_int_equal(metrics_snapshot__add_fault(s, "0000:00:04.0", IOGUARD_GROUP_UNKNOWN,
						     1), 0);
	text = render(s);
	assert_non_null(strstr(text, "ioguard_iommu_op_latency_seconds_count{group=\"unknown\","
				     "op=\"unmap\"} 1\n"));
	assert_non_null(strstr(text, "ioguard_iommu_op_latency_seconds_sum{group=\"unknown\","
				     "op=\"unmap\"} 0.0000001\n"));
	assert_non_null(strstr(text, "ioguard_iommu_calls_total{group=\"unknown\","
				     "op=\"unmap_fast\",result=\"ok\"} 5\n"));
	assert_non_null(strstr(text, "ioguard_iommu_bytes_total{group=\"unknown\","
				     "op=\"unmap_fast\",result=\"ok\"} 20480\n"));
	assert_non_null(strstr(text, "ioguard_io_page_faults_total{device=\"0000:00:04.0\","
				     "group=\"unknown\"} 1\n"));
	assert_null(strstr(text, "\"-1\""));
	free(text);
	metrics_snapshot__free(s);
}

static void test_label_escaping(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct buf b = { 0 };
	char *text;

	exposition_escape(&b, "a\\b\"c\nd\xc3\xa9");
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd\xc3\xa9");
	buf__release(&b);

	assert_int_equal(metrics_snapshot__add_decision(s, "attach", "deny", "line\nbreak",
							"te\"nant\\", 1), 0);
	assert_int_equal(metrics_snapshot__add_prog(s, "p\"q", 1, 1), 0);
	text = render(s);
	assert_non_null(strstr(text, "ioguard_policy_decisions_total{hook=\"attach\","
				     "decision=\"deny\",reason=\"line\\nbreak\","
				     "tenant=\"te\\\"nant\\\\\"} 1\n"));
	assert_non_null(strstr(text, "{program=\"p\\\"q\"} 1\n"));
	free(text);
	metrics_snapshot__free(s);
}

/* _count and +Inf are the sum of the slots even when the count read was a step behind. */
static void test_count_is_sum_of_slots(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { .slots = { [3] = 2, [31] = 1 }, .count = 2, .sum = 7 };
	char *text;

	assert_int_equal(metrics_snapshot__add_hist(s, 1, IOGUARD_OP_MAP_SG, IOGUARD_HIST_SIZE,
						    &h), 0);
	text = render(s);
	assert_non_null(strstr(text, "ioguard_iommu_op_size_bytes_bucket{group=\"1\","
				     "op=\"map_sg\",le=\"1.073741824e+09\"} 2\n"));
	assert_non_null(strstr(text, "ioguard_iommu_op_size_bytes_bucket{group=\"1\","
				     "op=\"map_sg\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "ioguard_iommu_op_size_bytes_count{group=\"1\","
				     "op=\"map_sg\"} 3\n"));
	free(text);
	metrics_snapshot__free(s);
}

/*
 * Integers are formatted by hand (digit count from the bit length, four digits per
 * division): check _count and _sum against printf at every power-of-ten edge, where a
 * wrong digit count would show, and at the ends of the range.
 */
static void check_number(__u64 v)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { .slots = { [IOGUARD_HIST_SLOTS - 1] = v }, .sum = v };
	char want[160], *text;

	assert_int_equal(metrics_snapshot__add_hist(s, 7, IOGUARD_OP_MAP, IOGUARD_HIST_SIZE,
						    &h), 0);
	assert_int_equal(metrics_snapshot__add_hist(s, 7, IOGUARD_OP_MAP,
						    IOGUARD_HIST_LATENCY, &h), 0);
	metrics_snapshot__sort(s);
	text = render(s);
	snprintf(want, sizeof(want), "\nioguard_iommu_op_size_bytes_count{group=\"7\",op=\"map\"} "
		 "%llu\n", (unsigned long long)v);
	if (!strstr(text, want))
		fail_msg("no '%s'", want + 1);
	snprintf(want, sizeof(want), "\nioguard_iommu_op_size_bytes_sum{group=\"7\",op=\"map\"} "
		 "%llu\n", (unsigned long long)v);
	if (!strstr(text, want))
		fail_msg("no '%s'", want + 1);
	snprintf(want, sizeof(want), "\nioguard_iommu_op_latency_seconds_bucket{group=\"7\","
		 "op=\"map\",le=\"+Inf\"} %llu\n", (unsigned long long)v);
	if (!strstr(text, want))
		fail_msg("no '%s'", want + 1);
	free(text);
	metrics_snapshot__free(s);
}

static void test_numbers_at_digit_boundaries(void **state)
{
	__u64 p = 1;
	int i;

	check_number(0);
	for (i = 0; i < 20; i++) {
		check_number(p);
		check_number(p - 1);
		check_number(p + 1);
		if (i < 19)
			p *= 10;
	}
	for (i = 0; i < 64; i++) {
		check_number(1ULL << i);
		check_number((1ULL << i) - 1);
	}
	check_number(UINT64_MAX);
	check_number(UINT64_MAX - 1);
}

/* Bytes are exported only for the ops that carry a size. */
static void test_bytes_only_for_map_ops(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char *text;

	assert_int_equal(metrics_snapshot__add_calls(s, 2, IOGUARD_OP_CLAIM_GROUP,
						     IOGUARD_RESULT_OK, 1, 0), 0);
	text = render(s);
	assert_non_null(strstr(text, "ioguard_iommu_calls_total{group=\"2\",op=\"claim_group\","
				     "result=\"ok\"} 1\n"));
	assert_null(strstr(text, "ioguard_iommu_bytes_total{"));
	free(text);
	metrics_snapshot__free(s);
}

static void test_adders_refuse_bad_input(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };
	char longname[128];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(metrics_snapshot__add_hist(s, 1, IOGUARD_OP_COUNT,
						    IOGUARD_HIST_LATENCY, &h), -EINVAL);
	assert_int_equal(metrics_snapshot__add_hist(s, 1, IOGUARD_OP_MAP,
						    IOGUARD_HIST_KIND_COUNT, &h), -EINVAL);
	assert_int_equal(metrics_snapshot__add_calls(s, 1, IOGUARD_OP_MAP, IOGUARD_RESULT_COUNT,
						     1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_fault(s, longname, 1, 1), -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__add_fault(s, "", 1, 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "", 1, 0, 5, 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, longname, 1, 0, 5, 1),
			 -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 1,
							 IOGUARD_DMA_FAULT_KIND_COUNT, 5, 1),
			 -EINVAL);
	assert_int_equal(metrics_snapshot__add_dma_fault(s, "0000:00:03.0", 1, 0, 256, 1),
			 -EINVAL);
	assert_int_equal(metrics_snapshot__add_decision(s, "a", "b", NULL, "d", 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_decision(s, "a", "b", "c", longname, 1),
			 -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__add_prog(s, longname, 1, 1), -ENAMETOOLONG);
	assert_int_equal(metrics_snapshot__add_lost(s, IOGUARD_LOST_REASON_COUNT, 1), -EINVAL);
	assert_int_equal(metrics_snapshot__set_build(s, NULL, "fentry"), -EINVAL);
	assert_int_equal(s->hists.n + s->calls.n + s->faults.n + s->decisions.n + s->progs.n,
			 0);
	metrics_snapshot__free(s);
	metrics_snapshot__free(NULL);
}

static void test_inval_adder_refuses_bad_input(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };

	assert_int_equal(metrics_snapshot__add_inval(s, 1, IOGUARD_INVAL_CAUSE_COUNT,
						     IOGUARD_INVAL_IOTLB, 1, &h), -EINVAL);
	assert_int_equal(metrics_snapshot__add_inval(s, 1, IOGUARD_INVAL_CAUSE_UNMAP,
						     IOGUARD_INVAL_KIND_COUNT, 1, &h), -EINVAL);
	assert_int_equal(s->invals.n, 0);
	metrics_snapshot__free(s);
}

/* A key timed but with no descriptor left (a newer object, a race) has only its histogram. */
static void test_inval_without_descriptors(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct ioguard_hist h = { 0 };
	char *text;

	hist_add_value(&h, 100);
	assert_int_equal(metrics_snapshot__add_inval(s, 4, IOGUARD_INVAL_CAUSE_FLUSH_ALL,
						     IOGUARD_INVAL_DEV_TLB, 0, &h), 0);
	text = render(s);
	assert_null(strstr(text, "ioguard_iotlb_invalidations_total{"));
	assert_non_null(strstr(text, "ioguard_iotlb_invalidation_duration_seconds_count{group=\"4\","
				     "cause=\"flush_all\",kind=\"dev_tlb\"} 1\n"));
	free(text);
	metrics_snapshot__free(s);
}

static void test_reset_keeps_nothing(void **state)
{
	struct metrics_snapshot *s = small_snapshot();
	struct metrics_snapshot *empty = metrics_snapshot__new();
	char *a, *b;

	metrics_snapshot__reset(s);
	a = render(s);
	b = render(empty);
	assert_string_equal(a, b);
	free(a);
	free(b);
	metrics_snapshot__free(s);
	metrics_snapshot__free(empty);
}

/*
 * The families of `ioguard run`, byte for byte: the lab scenarios, the alert rules and
 * the dashboard read this text, so it must not drift.
 */
#define DAEMON_FAMILIES \
	"# HELP ioguard_policy_reloads_total Policy reloads by the ioguard daemon (SIGHUP or " \
	"a change of the file), by result: ok (the new policy is in force), error (refused; " \
	"the previous policy stays in force) or timeout (the file was not read, checked and " \
	"compiled within the deadline; the previous policy stays in force).\n" \
	"# TYPE ioguard_policy_reloads_total counter\n" \
	"ioguard_policy_reloads_total{result=\"ok\"} 3\n" \
	"ioguard_policy_reloads_total{result=\"error\"} 0\n" \
	"ioguard_policy_reloads_total{result=\"timeout\"} 18446744073709551615\n" \
	"# HELP ioguard_policy_file_refused 1 while the daemon's policy file is not the " \
	"policy in force because its last reload was refused or timed out; 0 once a reload " \
	"puts it in force or finds it back to the policy in force.\n" \
	"# TYPE ioguard_policy_file_refused gauge\n" \
	"ioguard_policy_file_refused 1\n" \
	"# HELP ioguard_topology_changes_total Changes of the IOMMU topology the daemon saw: " \
	"a device joined or left a group, or a device of a group the policy in force names " \
	"changed driver.\n" \
	"# TYPE ioguard_topology_changes_total counter\n" \
	"ioguard_topology_changes_total{kind=\"device_joined\"} 2\n" \
	"ioguard_topology_changes_total{kind=\"device_left\"} 0\n" \
	"ioguard_topology_changes_total{kind=\"driver_changed\"} 1\n"

static void add_daemon_families(struct metrics_snapshot *s)
{
	assert_int_equal(metrics_snapshot__add_reloads(s, "ok", 3), 0);
	assert_int_equal(metrics_snapshot__add_reloads(s, "error", 0), 0);
	assert_int_equal(metrics_snapshot__add_reloads(s, "timeout", UINT64_MAX), 0);
	metrics_snapshot__set_policy_file_refused(s, true);
	assert_int_equal(metrics_snapshot__add_topology_changes(s, "device_joined", 2), 0);
	assert_int_equal(metrics_snapshot__add_topology_changes(s, "device_left", 0), 0);
	assert_int_equal(metrics_snapshot__add_topology_changes(s, "driver_changed", 1), 0);
}

/* They come last, in the order added (sorting leaves them), after everything else. */
static void test_daemon_families_exact(void **state)
{
	struct metrics_snapshot *s = small_snapshot();
	char *without = render(s), *with;

	add_daemon_families(s);
	metrics_snapshot__sort(s);
	with = render(s);
	assert_int_equal(strncmp(with, without, strlen(without)), 0);
	assert_string_equal(with + strlen(without), DAEMON_FAMILIES);
	metrics_snapshot__reset(s);
	assert_false(s->daemon.present);
	free(with);
	with = render(s);
	assert_null(strstr(with, "ioguard_policy_reloads_total"));
	assert_null(strstr(with, "ioguard_policy_file_refused"));
	assert_null(strstr(with, "ioguard_topology_changes_total"));
	free(with);
	free(without);
	metrics_snapshot__free(s);
}

/* Any one of them makes all three families appear, HELP and TYPE included. */
static void test_daemon_families_without_series(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char *text;

	assert_non_null(s);
	metrics_snapshot__set_policy_file_refused(s, false);
	text = render(s);
	assert_non_null(strstr(text, "# TYPE ioguard_policy_reloads_total counter\n"
				     "# HELP ioguard_policy_file_refused "));
	assert_non_null(strstr(text, "\nioguard_policy_file_refused 0\n"));
	assert_non_null(strstr(text, "# TYPE ioguard_topology_changes_total counter\n"));
	free(text);
	metrics_snapshot__free(s);
}

static void test_daemon_adders_refuse_bad_input(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char long_label[METRICS_DAEMON_LABEL_LEN + 1];

	assert_non_null(s);
	memset(long_label, 'k', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	assert_int_equal(metrics_snapshot__add_reloads(s, NULL, 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_reloads(s, "", 1), -EINVAL);
	assert_int_equal(metrics_snapshot__add_topology_changes(s, long_label, 1), -ENAMETOOLONG);
	long_label[sizeof(long_label) - 2] = '\0';
	assert_int_equal(metrics_snapshot__add_topology_changes(s, long_label, 1), 0);
	assert_int_equal(s->daemon.reloads.n, 0);
	assert_int_equal(s->daemon.topology_changes.n, 1);
	metrics_snapshot__free(s);
}

/* ---- promtool --------------------------------------------------------------------- */

static struct metrics_snapshot *big_snapshot(int groups)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	__u32 op, kind;
	int g;

	for (g = 0; g < groups; g++) {
		for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++) {
			for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
				struct ioguard_hist h = { 0 };

				hist_add_value(&h, 4096 + g * 13 + op);
				hist_add_value(&h, 1ULL << (op + 5));
				assert_int_equal(metrics_snapshot__add_hist(s, g, op, kind, &h), 0);
			}
			assert_int_equal(metrics_snapshot__add_calls(s, g, op, IOGUARD_RESULT_OK,
								     2, 8192), 0);
		}
		assert_int_equal(metrics_snapshot__add_group(s, g, "DMA", 1, true, g % 2), 0);
		for (kind = 0; kind < IOGUARD_INVAL_KIND_COUNT; kind++) {
			struct ioguard_hist h = { 0 };

			hist_add_value(&h, 2000 + g + kind);
			assert_int_equal(metrics_snapshot__add_inval(s, g, g % IOGUARD_INVAL_CAUSE_COUNT,
								     kind, 1 + kind, &h), 0);
		}
	}
	assert_int_equal(metrics_snapshot__add_hist(s, IOGUARD_GROUP_UNKNOWN, IOGUARD_OP_MAP,
						    IOGUARD_HIST_LATENCY,
						    &(struct ioguard_hist){ .slots = { 1 } }), 0);
	metrics_snapshot__sort(s);
	return s;
}

/* Runs `promtool check metrics` on @text; skips (not passes) when promtool is absent. */
static void promtool_check(const char *text)
{
	char path[] = "/tmp/ioguard-test-exposition-XXXXXX", cmd[256], out[4096];
	size_t n, len = strlen(text);
	FILE *p;
	int fd, status;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("SKIP promtool check: promtool is not installed (Debian package "
		       "'prometheus'; scripts/deps.sh installs it)\n");
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	if (status != 0 || n != 0)
		fail_msg("promtool check metrics (exit status %d) says:\n%s", status, out);
}

static void test_promtool_small(void **state)
{
	struct metrics_snapshot *s = small_snapshot();
	char *text = render(s);

	promtool_check(text);
	free(text);
	metrics_snapshot__free(s);
}

static void test_promtool_empty(void **state)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	char *text = render(s);

	promtool_check(text);
	free(text);
	metrics_snapshot__free(s);
}

static void test_promtool_daemon_families(void **state)
{
	struct metrics_snapshot *s = small_snapshot();
	char *text;

	add_daemon_families(s);
	text = render(s);
	promtool_check(text);
	free(text);
	metrics_snapshot__free(s);
}

static void test_promtool_many_groups(void **state)
{
	struct metrics_snapshot *s = big_snapshot(8);
	char *text = render(s);

	promtool_check(text);
	free(text);
	metrics_snapshot__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_edges),
		cmocka_unit_test(test_slot_matches_clz_formula),
		cmocka_unit_test(test_le_strings_are_exact),
		cmocka_unit_test(test_boundary_values_land_in_their_bucket),
		cmocka_unit_test(test_window_is_documented_one),
		cmocka_unit_test(test_window_bounds_in_order),
		cmocka_unit_test(test_window_lowest_bound),
		cmocka_unit_test(test_window_highest_bound),
		cmocka_unit_test(test_window_mixed),
		cmocka_unit_test(test_window_counts_4k_maps),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_small_snapshot_exact),
		cmocka_unit_test(test_unknown_group),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_count_is_sum_of_slots),
		cmocka_unit_test(test_numbers_at_digit_boundaries),
		cmocka_unit_test(test_bytes_only_for_map_ops),
		cmocka_unit_test(test_adders_refuse_bad_input),
		cmocka_unit_test(test_inval_adder_refuses_bad_input),
		cmocka_unit_test(test_inval_without_descriptors),
		cmocka_unit_test(test_reset_keeps_nothing),
		cmocka_unit_test(test_daemon_families_exact),
		cmocka_unit_test(test_daemon_families_without_series),
		cmocka_unit_test(test_daemon_adders_refuse_bad_input),
		cmocka_unit_test(test_promtool_empty),
		cmocka_unit_test(test_promtool_small),
		cmocka_unit_test(test_promtool_daemon_families),
		cmocka_unit_test(test_promtool_many_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
