// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Benchmark of the IOVA interval tree (src/ioasid/iova_tree.c) at 10^4, 10^5 and 10^6 live
 * mappings.
 *
 * Layout for n mappings: one 4 KiB page mapped at every other page from BASE, so every
 * mapping has a one-page hole after it, and every 64th mapping unmapped again, which
 * leaves a three-page hole there (fragmentation that larger allocations must skip to).
 * Each operation is measured on a batch of BATCH operations at random positions (fixed
 * seed, parameters generated before the clock starts) while about n mappings are live:
 *   map        insert a page into a random one-page hole
 *   lookup     find a random address in the mapped range
 *   unmap      remove the pages the map batch inserted, in another random order
 *   alloc      lowest free page in a random 64 KiB window (lands in a one-page hole)
 *   alloc-frag lowest free 8 KiB in a random 1 MiB window: skips the one-page holes
 *              (the gap summaries prune them) to a three-page hole
 *   alloc-big  2 MiB at 2 MiB alignment above BASE: no hole fits, so past every mapping
 * Every operation is also measured on consecutive positions from a random point, in
 * ascending order (pattern=seq: a VMM mapping guest memory in order, streaming DMA
 * lookups). The gap between the two at 10^6 is cache and TLB misses, not tree work; the
 * callgrind mode counts the tree work itself. Each figure is the best of REPS batches, in
 * ns per operation. Memory per mapping is measured while the n mappings are inserted, in
 * two ways from glibc's mallinfo2: the growth of the bytes allocated (in-use chunks,
 * headers included) and the growth of the heap itself (arena plus mmapped chunks), which
 * also counts what alignment padding and fragmentation leave unusable around them.
 *
 *   bench_iova [--sizes N,N,...] [--reps R]
 *   bench_iova --ops N --size S --op OP [--seq]
 *       one batch of N operations OP on S mappings, random pattern unless --seq,
 *       instrumented for callgrind only around the batch (run with --instr-atstart=no)
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <valgrind/callgrind.h>

#include "../../src/ioasid/iova_tree.h"

#define PAGE 4096ULL
#define BASE (1ULL << 32)
#define HOLE_EVERY 64	/* every 64th mapping is unmapped: a three-page hole */
#define BATCH 10000
#define MAX_SIZES 8

enum op { OP_MAP, OP_LOOKUP, OP_UNMAP, OP_ALLOC, OP_ALLOC_FRAG, OP_ALLOC_BIG, OP_NR };

static const char *const op_names[OP_NR] = {
	[OP_MAP] = "map",
	[OP_LOOKUP] = "lookup",
	[OP_UNMAP] = "unmap",
	[OP_ALLOC] = "alloc",
	[OP_ALLOC_FRAG] = "alloc-frag",
	[OP_ALLOC_BIG] = "alloc-big",
};

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t page_iova(uint64_t page)
{
	return BASE + page * PAGE;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Bytes per mapping: allocated (in-use chunks) and heap (what the process holds). */
struct mem {
	double used, heap;
};

/* Mapping i sits at page 2i; the ones with i % HOLE_EVERY == HOLE_EVERY - 1 are unmapped. */
static struct iova_tree *build(uint64_t n, struct mem *mem)
{
	struct iova_tree *t = iova_tree_new();
	struct mallinfo2 before, after;
	uint64_t i;
	int err;

	if (!t) {
		fprintf(stderr, "bench_iova: iova_tree_new: %s\n", strerror(ENOMEM));
		return NULL;
	}
	/* Give back what earlier trees freed, so that the heap grows by this tree alone. */
	malloc_trim(0);
	before = mallinfo2();
	for (i = 0; i < n; i++) {
		err = iova_tree_insert(t, page_iova(2 * i), page_iova(2 * i) + PAGE - 1, t);
		if (err)
			goto err_free;
	}
	after = mallinfo2();
	if (mem) {
		mem->used = ((double)after.uordblks + after.hblkhd - before.uordblks -
			     before.hblkhd) / n;
		mem->heap = ((double)after.arena + after.hblkhd - before.arena - before.hblkhd) / n;
	}
	for (i = HOLE_EVERY - 1; i < n; i += HOLE_EVERY) {
		err = iova_tree_remove(t, page_iova(2 * i));
		if (err)
			goto err_free;
	}
	return t;

err_free:
	fprintf(stderr, "bench_iova: building %llu mappings: %s\n", (unsigned long long)n,
		strerror(-err));
	iova_tree_free(t);
	return NULL;
}

/* Parameters of one batch, drawn before the measured region. */
struct batch {
	enum op op;
	bool seq;
	size_t nr;
	uint64_t *a;	/* iova, or window start */
	uint64_t *b;	/* unmap order */
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* nr <= n distinct one-page holes (odd pages below 2n), spread by a stride coprime to n. */
static void draw_holes(uint64_t *out, size_t nr, uint64_t n)
{
	uint64_t j = rng() % n, stride = rng() % n | 1;

	while (gcd(stride, n) != 1)
		stride = (stride + 2) % n;
	for (size_t i = 0; i < nr; i++, j = (j + stride) % n)
		out[i] = page_iova(2 * j + 1);
}

static void shuffle(uint64_t *v, size_t nr)
{
	for (size_t i = nr; i > 1; i--) {
		size_t j = rng() % i;
		uint64_t x = v[i - 1];

		v[i - 1] = v[j];
		v[j] = x;
	}
}

/*
 * random: positions all over the tree. seq: consecutive mappings (or holes, or windows)
 * from a random point, in ascending order.
 */
static int batch_init(struct batch *b, enum op op, bool seq, size_t nr, uint64_t n)
{
	uint64_t j0 = rng() % n;
	size_t i;

	b->op = op;
	b->seq = seq;
	b->nr = nr;
	b->a = calloc(nr, sizeof(*b->a));
	b->b = calloc(nr, sizeof(*b->b));
	if (!b->a || !b->b)
		return -ENOMEM;
	switch (op) {
	case OP_MAP:
	case OP_UNMAP:
		if (nr > n / 4)
			return -EINVAL;
		if (seq) {
			for (i = 0; i < nr; i++)
				b->a[i] = page_iova(2 * ((j0 + i) % n) + 1);
			memcpy(b->b, b->a, nr * sizeof(*b->a));
			break;
		}
		draw_holes(b->a, nr, n);
		shuffle(b->a, nr);
		memcpy(b->b, b->a, nr * sizeof(*b->a));
		shuffle(b->b, nr);
		break;
	case OP_LOOKUP:
		for (i = 0; i < nr; i++)
			b->a[i] = page_iova(seq ? 2 * ((j0 + i) % n) : rng() % (2 * n)) +
				  rng() % PAGE;
		break;
	case OP_ALLOC:
	case OP_ALLOC_FRAG:
		for (i = 0; i < nr; i++)
			b->a[i] = page_iova(seq ? 2 * ((j0 + i) % n) : rng() % (2 * n));
		break;
	default:
		break;
	}
	return 0;
}

static void batch_fini(struct batch *b)
{
	free(b->a);
	free(b->b);
}

static int do_map(struct iova_tree *t, const uint64_t *iova, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		int err = iova_tree_insert(t, iova[i], iova[i] + PAGE - 1, t);

		if (err)
			return err;
	}
	return 0;
}

static int do_unmap(struct iova_tree *t, const uint64_t *iova, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		int err = iova_tree_remove(t, iova[i]);

		if (err)
			return err;
	}
	return 0;
}

/* Runs the measured part of a batch; the tree is left as it was found. */
static int batch_run(struct iova_tree *t, const struct batch *b, double *ns)
{
	volatile uint64_t sink = 0;
	uint64_t iova;
	double t0 = 0, t1 = 0;
	size_t i;
	int err = 0;

	switch (b->op) {
	case OP_MAP:
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		err = do_map(t, b->a, b->nr);
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		if (!err)
			err = do_unmap(t, b->b, b->nr);
		break;
	case OP_UNMAP:
		err = do_map(t, b->a, b->nr);
		if (err)
			break;
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		err = do_unmap(t, b->b, b->nr);
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		break;
	case OP_LOOKUP:
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		for (i = 0; i < b->nr; i++)
			sink += (uintptr_t)iova_tree_find(t, b->a[i], NULL, NULL);
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		break;
	case OP_ALLOC:
	case OP_ALLOC_FRAG:
	case OP_ALLOC_BIG:
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		for (i = 0; i < b->nr && !err; i++) {
			if (b->op == OP_ALLOC)
				err = iova_tree_alloc(t, b->a[i], b->a[i] + 16 * PAGE - 1, PAGE,
						      PAGE, &iova);
			else if (b->op == OP_ALLOC_FRAG)
				err = iova_tree_alloc(t, b->a[i], b->a[i] + 256 * PAGE - 1,
						      2 * PAGE, PAGE, &iova);
			else
				err = iova_tree_alloc(t, BASE, UINT64_MAX, 512 * PAGE,
						      512 * PAGE, &iova);
			sink += iova;
		}
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		break;
	default:
		err = -EINVAL;
	}
	(void)sink;
	if (err)
		fprintf(stderr, "bench_iova: %s: %s\n", op_names[b->op], strerror(-err));
	*ns = (t1 - t0) / b->nr;
	return err;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || !*v)
		return -EINVAL;
	return 0;
}

static const char *pattern_name(bool seq)
{
	return seq ? "seq" : "random";
}

static int bench_size(uint64_t n, int reps, double ns[2][OP_NR], struct mem *mem)
{
	struct iova_tree *t = build(n, mem);
	int err = 0;

	if (!t)
		return -ENOMEM;
	for (int seq = 0; seq < 2 && !err; seq++) {
		for (enum op op = 0; op < OP_NR && !err; op++) {
			size_t nr = op == OP_MAP || op == OP_UNMAP ? (n / 4 < BATCH ? n / 4 : BATCH)
								   : BATCH;
			double *best = &ns[seq][op];

			*best = 1e18;
			for (int r = 0; r < reps && !err; r++) {
				struct batch b;
				double x;

				err = batch_init(&b, op, seq, nr, n);
				if (!err)
					err = batch_run(t, &b, &x);
				batch_fini(&b);
				if (!err && x < *best)
					*best = x;
			}
			printf("iova_tree n=%llu op=%s pattern=%s ns_per_op=%.1f\n",
			       (unsigned long long)n, op_names[op], pattern_name(seq), *best);
			fflush(stdout);
		}
	}
	if (!err)
		printf("iova_tree n=%llu bytes_per_mapping=%.1f heap_bytes_per_mapping=%.1f\n",
		       (unsigned long long)n, mem->used, mem->heap);
	iova_tree_free(t);
	return err;
}

/* The same figures as one table a pattern: ns per operation at each size, then the ratio. */
static void print_summary(const uint64_t *sizes, int nsizes, double ns[][2][OP_NR],
			  const struct mem *mem)
{
	for (int seq = 0; seq < 2; seq++) {
		printf("\niova_tree summary pattern=%s: ns per operation, ratio largest/smallest\n",
		       pattern_name(seq));
		printf("  %-10s", "op");
		for (int i = 0; i < nsizes; i++) {
			char label[32];

			snprintf(label, sizeof(label), "n=%llu", (unsigned long long)sizes[i]);
			printf(" %13s", label);
		}
		printf(" %7s\n", "ratio");
		for (enum op op = 0; op < OP_NR; op++) {
			printf("  %-10s", op_names[op]);
			for (int i = 0; i < nsizes; i++)
				printf(" %13.1f", ns[i][seq][op]);
			printf(" %7.2f\n", ns[nsizes - 1][seq][op] / ns[0][seq][op]);
		}
	}
	printf("  %-10s", "bytes/map");
	for (int i = 0; i < nsizes; i++)
		printf(" %6.1f (%4.1f)", mem[i].used, mem[i].heap);
	printf("   allocated (heap)\n\n");
}

static int run_table(const uint64_t *sizes, int nsizes, int reps)
{
	double ns[MAX_SIZES][2][OP_NR];
	struct mem mem[MAX_SIZES];
	int err = 0;

	for (int i = 0; i < nsizes && !err; i++)
		err = bench_size(sizes[i], reps, ns[i], &mem[i]);
	if (err || nsizes < 2)
		return err;
	print_summary(sizes, nsizes, ns, mem);
	for (int seq = 0; seq < 2; seq++) {
		for (enum op op = 0; op < OP_NR; op++) {
			double abs = ns[nsizes - 1][seq][op], ratio = abs / ns[0][seq][op];

			printf("iova_tree ratio op=%s pattern=%s n=%llu/n=%llu cost_ratio=%.2f "
			       "(target <= 2.0: %s) ns_per_op=%.1f (target < 1000: %s)\n",
			       op_names[op], pattern_name(seq),
			       (unsigned long long)sizes[nsizes - 1], (unsigned long long)sizes[0],
			       ratio, ratio <= 2.0 ? "met" : "missed", abs,
			       abs < 1000 ? "met" : "missed");
		}
	}
	return 0;
}

static int run_ops(uint64_t ops, uint64_t size, const char *name, bool seq)
{
	struct iova_tree *t;
	struct batch b;
	enum op op;
	double ns;
	int err;

	for (op = 0; op < OP_NR; op++)
		if (!strcmp(op_names[op], name))
			break;
	if (op == OP_NR) {
		fprintf(stderr, "bench_iova: unknown op '%s'\n", name);
		return -EINVAL;
	}
	t = build(size, NULL);
	if (!t)
		return -ENOMEM;
	err = batch_init(&b, op, seq, ops, size);
	if (err)
		fprintf(stderr, "bench_iova: %llu %s ops on %llu mappings: %s\n",
			(unsigned long long)ops, name, (unsigned long long)size, strerror(-err));
	else
		err = batch_run(t, &b, &ns);
	if (!err)
		printf("iova_tree ops=%llu size=%llu op=%s pattern=%s ns_per_op=%.1f\n",
		       (unsigned long long)ops, (unsigned long long)size, name, pattern_name(seq),
		       ns);
	batch_fini(&b);
	iova_tree_free(t);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_iova [--sizes N,N,...] [--reps R]\n"
			"       bench_iova --ops N --size S --op {map|lookup|unmap|alloc|"
			"alloc-frag|alloc-big} [--seq]\n");
}

int main(int argc, char **argv)
{
	uint64_t sizes[MAX_SIZES] = { 10000, 100000, 1000000 };
	uint64_t ops = 0, size = 0, v;
	const char *op = NULL;
	int nsizes = 3, reps = 5, err = 0;
	bool seq = false;

	for (int i = 1; i < argc && !err; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--seq")) {
			seq = true;
			continue;
		}
		if (!val) {
			err = -EINVAL;
		} else if (!strcmp(arg, "--sizes")) {
			char *copy = strdup(val), *tok, *save = NULL;

			nsizes = 0;
			for (tok = strtok_r(copy, ",", &save); tok && !err;
			     tok = strtok_r(NULL, ",", &save)) {
				if (nsizes == MAX_SIZES || parse_u64(tok, &v) || v < 4)
					err = -EINVAL;
				else
					sizes[nsizes++] = v;
			}
			free(copy);
		} else if (!strcmp(arg, "--reps")) {
			err = parse_u64(val, &v);
			reps = v < 100 ? v : 100;
		} else if (!strcmp(arg, "--ops")) {
			err = parse_u64(val, &ops);
		} else if (!strcmp(arg, "--size")) {
			err = parse_u64(val, &size);
		} else if (!strcmp(arg, "--op")) {
			op = val;
		} else {
			err = -EINVAL;
		}
		i++;
	}
	if (!err && !nsizes)
		err = -EINVAL;
	if (!err && (ops || size || op) && !(ops && size && op))
		err = -EINVAL;
	if (err) {
		usage();
		return 2;
	}
	err = ops ? run_ops(ops, size, op, seq) : run_table(sizes, nsizes, reps);
	return err ? 1 : 0;
}
