// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host benchmark of /metrics rendering (issue 5, item 6): a snapshot of 256 IOMMU groups
 * with every histogram populated, rendered into a buffer as a scrape would. Target:
 * at most 1 ms per render.
 *
 * Three shapes, each with its own verdict:
 *   issue    what the issue calls "all histograms": per group, latency of map, unmap,
 *            map_sg, attach (attach_device, attach_group, iommufd_attach) and ownership
 *            claim (claim_device, claim_group), and size of the map ops among them (map,
 *            unmap, map_sg): 11 histograms per group
 *   traced   every histogram the BPF side can fill (bpf/trace.bpf.c): latency for the
 *            ops timed fentry to fexit (all but io_page_fault and iommufd_unbind, which
 *            is recorded at entry only), size for map, unmap, unmap_fast and map_sg:
 *            19 per group
 *   all      every op x kind (17 ops x latency and size = 34 per group): the worst case
 *            the snapshot can hold, more than the kernel side ever fills
 * Every slot of every histogram is non-zero, so every line carries a multi-digit count,
 * and every group has its calls counters for every op. Each figure is the best and the
 * median of REPS renders into a reused buffer (what the server does), after one warm-up;
 * sort is metrics_snapshot__sort() on a freshly filled snapshot (hash-map order), which
 * a scrape also pays.
 *
 *   bench_exposition [--groups N] [--reps R]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/exposition.h"

#define TARGET_NS 1000000.0
#define DEFAULT_GROUPS 256
#define DEFAULT_REPS 50

static __u64 rng = 0x9e3779b97f4a7c15ULL;

static __u64 next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static bool op_sized(__u32 op)
{
	return op == IOGUARD_OP_MAP || op == IOGUARD_OP_UNMAP || op == IOGUARD_OP_UNMAP_FAST ||
	       op == IOGUARD_OP_MAP_SG;
}

static bool shape_issue(__u32 op, __u32 kind)
{
	switch (op) {
	case IOGUARD_OP_MAP:
	case IOGUARD_OP_UNMAP:
	case IOGUARD_OP_MAP_SG:
		return true;
	case IOGUARD_OP_ATTACH_DEVICE:
	case IOGUARD_OP_ATTACH_GROUP:
	case IOGUARD_OP_IOMMUFD_ATTACH:
	case IOGUARD_OP_CLAIM_DEVICE:
	case IOGUARD_OP_CLAIM_GROUP:
		return kind == IOGUARD_HIST_LATENCY;
	default:
		return false;
	}
}

static bool shape_traced(__u32 op, __u32 kind)
{
	if (kind == IOGUARD_HIST_SIZE)
		return op_sized(op);
	return op != IOGUARD_OP_IO_PAGE_FAULT && op != IOGUARD_OP_IOMMUFD_UNBIND;
}

static bool shape_all(__u32 op, __u32 kind)
{
	return true;
}

struct shape {
	const char *name;
	bool (*has_hist)(__u32 op, __u32 kind);
};

static const struct shape shapes[] = {
	{ "issue", shape_issue },
	{ "traced", shape_traced },
	{ "all", shape_all },
};

/* Fills @s in a shuffled order, as a hash-map walk would. */
static int fill(struct metrics_snapshot *s, int groups, const struct shape *shape)
{
	struct metrics_hist_entry *e;
	size_t i, j;
	__u32 op, kind, slot;
	int g, err;

	for (g = 0; g < groups; g++) {
		for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++) {
			for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
				struct ioguard_hist h = { 0 };

				if (!shape->has_hist(op, kind))
					continue;
				for (slot = 0; slot < IOGUARD_HIST_SLOTS; slot++) {
					h.slots[slot] = 1 + next_rand() % 100000;
					h.count += h.slots[slot];
					h.sum += h.slots[slot] << (slot < 30 ? slot : 30);
				}
				err = metrics_snapshot__add_hist(s, g, op, kind, &h);
				if (err)
					return err;
			}
			err = metrics_snapshot__add_calls(s, g, op, IOGUARD_RESULT_OK,
							  next_rand() % 1000000, next_rand());
			if (!err)
				err = metrics_snapshot__add_calls(s, g, op, IOGUARD_RESULT_ERROR,
								  next_rand() % 100, next_rand());
			if (err)
				return err;
		}
		err = metrics_snapshot__add_group(s, g, "DMA-FQ", 1 + g % 4, true, g % 3 == 0);
		if (err)
			return err;
	}
	for (i = s->hists.n; i > 1; i--) {
		struct metrics_hist_entry tmp;

		j = next_rand() % i;
		e = &s->hists.v[i - 1];
		tmp = *e;
		*e = s->hists.v[j];
		s->hists.v[j] = tmp;
	}
	return metrics_snapshot__set_build(s, "bench", "fentry");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t count_lines(const struct buf *b)
{
	size_t n = 0, i;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

static int run(const struct shape *shape, int groups, int reps)
{
	struct metrics_snapshot *s = metrics_snapshot__new();
	double *t = calloc(reps, sizeof(*t)), t0, sort_ns;
	struct buf out = { 0 };
	int i, err;

	if (!s || !t) {
		err = -ENOMEM;
		goto out;
	}
	err = fill(s, groups, shape);
	if (err)
		goto out;
	t0 = now_ns();
	metrics_snapshot__sort(s);
	sort_ns = now_ns() - t0;

	err = exposition_render(s, &out);	/* warm-up: grows the buffer once */
	for (i = 0; i < reps && !err; i++) {
		buf__reset(&out);
		t0 = now_ns();
		err = exposition_render(s, &out);
		t[i] = now_ns() - t0;
	}
	if (err)
		goto out;
	qsort(t, reps, sizeof(*t), cmp_double);
	printf("bench_exposition shape=%s groups=%d histograms=%zu lines=%zu bytes=%zu\n",
	       shape->name, groups, s->hists.n, count_lines(&out), out.len);
	printf("bench_exposition shape=%s render_ms best=%.3f median=%.3f sort_ms=%.3f "
	       "MB_per_s=%.0f\n", shape->name, t[0] / 1e6, t[reps / 2] / 1e6, sort_ns / 1e6,
	       out.len / (t[reps / 2] / 1e9) / 1e6);
	printf("bench_exposition shape=%s ratio median/target=%.2f (target <= 1 ms: %s)\n",
	       shape->name, t[reps / 2] / TARGET_NS, t[reps / 2] <= TARGET_NS ? "met" : "missed");
out:
	if (err)
		fprintf(stderr, "bench_exposition: %s\n", strerror(-err));
	buf__release(&out);
	metrics_snapshot__free(s);
	free(t);
	return err;
}

int main(int argc, char **argv)
{
	int groups = DEFAULT_GROUPS, reps = DEFAULT_REPS, err = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--groups") && i + 1 < argc) {
			groups = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--groups N] [--reps R]\n", argv[0]);
			return 2;
		}
	}
	if (groups < 1 || reps < 1) {
		fprintf(stderr, "bench_exposition: --groups and --reps must be positive\n");
		return 2;
	}
	for (i = 0; i < (int)(sizeof(shapes) / sizeof(shapes[0])); i++) {
		if (run(&shapes[i], groups, reps))
			err = 1;
	}
	return err;
}
