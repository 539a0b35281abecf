// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Benchmark of the IOVA interval tree (src/ioasid/iova_tree.c) at 10^4, 10^5 and 10^6 live
 * mappings, and of its peer measured in the same run: QEMU's IOVA tree algorithm (a GLib
 * GTree of ranges, free-range allocation by an in-order walk from the lowest mapping),
 * reimplemented in tests/bench/peer/gtree_iova.c. Both answer the same requests on the same
 * layout (checked after the timings: every lookup and allocation must agree), and the run ends
 * with the peer's time per operation divided by libioasid's.
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
 * The peer's allocation walk is O(n), so its allocation batches are smaller at larger n
 * (PEER_ALLOC_WORK / n, at least PEER_MIN_BATCH): about the same time per batch, not the
 * same count.
 *
 *   bench_iova [--sizes N,N,...] [--reps R]
 *   bench_iova --ops N --size S --op OP [--seq] [--impl ioasid|gtree]
 *       one batch of N operations OP on S mappings, random pattern unless --seq, on
 *       libioasid's tree (default) or the peer, instrumented for callgrind only around the
 *       batch (run with --instr-atstart=no)
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

#include "ioasid/iova_tree.h"
#include "peer/gtree_iova.h"

#define PAGE 4096ULL
#define BASE (1ULL << 32)
#define HOLE_EVERY 64	/* every 64th mapping is unmapped: a three-page hole */
#define BATCH 10000
#define MAX_SIZES 8
#define PEER_MIN_BATCH 10
#define PEER_ALLOC_WORK 10000000ULL	/* mappings walked per peer allocation batch */
#define CROSS_CHECK_N 10000
#define CROSS_CHECK_QUERIES 2000

enum op { OP_MAP, OP_LOOKUP, OP_UNMAP, OP_ALLOC, OP_ALLOC_FRAG, OP_ALLOC_BIG, OP_NR };

static const char *const op_names[OP_NR] = {
	[OP_MAP] = "map",
	[OP_LOOKUP] = "lookup",
	[OP_UNMAP] = "unmap",
	[OP_ALLOC] = "alloc",
	[OP_ALLOC_FRAG] = "alloc-frag",
	[OP_ALLOC_BIG] = "alloc-big",
};

/* One tree implementation under test; the tree is opaque to the bench. */
struct tree_impl {
	const char *name;	/* prefix of its result lines */
	bool linear_alloc;	/* allocation walks every mapping below the hole */
	void *(*new)(void);
	void (*free)(void *t);
	int (*insert)(void *t, uint64_t start, uint64_t last, void *data);
	int (*remove)(void *t, uint64_t start, uint64_t last);
	void *(*find)(const void *t, uint64_t iova);
	int (*alloc)(const void *t, uint64_t lo, uint64_t hi, uint64_t length, uint64_t align,
		     uint64_t *iova);
};

static void *ioasid_new(void) { return iova_tree_new(); }
static void ioasid_free(void *t) { iova_tree_free(t); }
static int ioasid_insert(void *t, uint64_t start, uint64_t last, void *data)
{
	return iova_tree_insert(t, start, last, data);
}
static int ioasid_remove(void *t, uint64_t start, uint64_t last)
{
	return iova_tree_remove(t, start);
}
static void *ioasid_find(const void *t, uint64_t iova)
{
	return iova_tree_find(t, iova, NULL, NULL);
}
static int ioasid_alloc(const void *t, uint64_t lo, uint64_t hi, uint64_t length,
			uint64_t align, uint64_t *iova)
{
	return iova_tree_alloc(t, lo, hi, length, align, iova);
}

static void *gtree_new(void) { return gtree_iova__new(); }
static void gtree_free(void *t) { gtree_iova__free(t); }
static int gtree_insert(void *t, uint64_t start, uint64_t last, void *data)
{
	return gtree_iova__insert(t, start, last, data);
}
static int gtree_remove(void *t, uint64_t start, uint64_t last)
{
	return gtree_iova__remove(t, start, last);
}
static void *gtree_find(const void *t, uint64_t iova)
{
	return gtree_iova__find(t, iova);
}
static int gtree_alloc(const void *t, uint64_t lo, uint64_t hi, uint64_t length,
		       uint64_t align, uint64_t *iova)
{
	return gtree_iova__alloc(t, lo, hi, length, align, iova);
}

enum impl_id { IMPL_IOASID, IMPL_GTREE, IMPL_NR };

static const struct tree_impl impls[IMPL_NR] = {
	[IMPL_IOASID] = { "iova_tree", false, ioasid_new, ioasid_free, ioasid_insert,
			  ioasid_remove, ioasid_find, ioasid_alloc },
	[IMPL_GTREE] = { "gtree_iova", true, gtree_new, gtree_free, gtree_insert, gtree_remove,
			 gtree_find, gtree_alloc },
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
static void *build(const struct tree_impl *im, uint64_t n, struct mem *mem)
{
	void *t = im->new();
	struct mallinfo2 before, after;
	uint64_t i;
	int err;

	if (!t) {
		fprintf(stderr, "bench_iova: %s: new tree: %s\n", im->name, strerror(ENOMEM));
		return NULL;
	}
	/* Give back what earlier trees freed, so that the heap grows by this tree alone. */
	malloc_trim(0);
	before = mallinfo2();
	for (i = 0; i < n; i++) {
		err = im->insert(t, page_iova(2 * i), page_iova(2 * i) + PAGE - 1, t);
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
		err = im->remove(t, page_iova(2 * i), page_iova(2 * i) + PAGE - 1);
		if (err)
			goto err_free;
	}
	return t;

err_free:
	fprintf(stderr, "bench_iova: %s: building %llu mappings: %s\n", im->name,
		(unsigned long long)n, strerror(-err));
	im->free(t);
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

static int do_map(const struct tree_impl *im, void *t, const uint64_t *iova, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		int err = im->insert(t, iova[i], iova[i] + PAGE - 1, t);

		if (err)
			return err;
	}
	return 0;
}

static int do_unmap(const struct tree_impl *im, void *t, const uint64_t *iova, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		int err = im->remove(t, iova[i], iova[i] + PAGE - 1);

		if (err)
			return err;
	}
	return 0;
}

/* Runs the measured part of a batch; the tree is left as it was found. */
static int batch_run(const struct tree_impl *im, void *t, const struct batch *b, double *ns)
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
		err = do_map(im, t, b->a, b->nr);
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		if (!err)
			err = do_unmap(im, t, b->b, b->nr);
		break;
	case OP_UNMAP:
		err = do_map(im, t, b->a, b->nr);
		if (err)
			break;
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		err = do_unmap(im, t, b->b, b->nr);
		CALLGRIND_STOP_INSTRUMENTATION;
		t1 = now_ns();
		break;
	case OP_LOOKUP:
		t0 = now_ns();
		CALLGRIND_START_INSTRUMENTATION;
		for (i = 0; i < b->nr; i++)
			sink += (uintptr_t)im->find(t, b->a[i]);
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
				err = im->alloc(t, b->a[i], b->a[i] + 16 * PAGE - 1, PAGE, PAGE,
						&iova);
			else if (b->op == OP_ALLOC_FRAG)
				err = im->alloc(t, b->a[i], b->a[i] + 256 * PAGE - 1, 2 * PAGE,
						PAGE, &iova);
			else
				err = im->alloc(t, BASE, UINT64_MAX, 512 * PAGE, 512 * PAGE,
						&iova);
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
		fprintf(stderr, "bench_iova: %s: %s: %s\n", im->name, op_names[b->op],
			strerror(-err));
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

/*
 * Operations a batch: map and unmap touch a quarter of the holes at most; the peer's
 * allocations walk O(n) mappings each, so their batches shrink as n grows.
 */
static size_t batch_size(const struct tree_impl *im, enum op op, uint64_t n)
{
	size_t nr = BATCH;

	if (op == OP_MAP || op == OP_UNMAP)
		nr = n / 4 < BATCH ? n / 4 : BATCH;
	else if (im->linear_alloc && (op == OP_ALLOC || op == OP_ALLOC_FRAG || op == OP_ALLOC_BIG))
		nr = PEER_ALLOC_WORK / n < PEER_MIN_BATCH ? PEER_MIN_BATCH
			: PEER_ALLOC_WORK / n > BATCH ? BATCH : PEER_ALLOC_WORK / n;
	return nr;
}

static int bench_size(const struct tree_impl *im, uint64_t n, int reps, double ns[2][OP_NR],
		      struct mem *mem)
{
	void *t = build(im, n, mem);
	int err = 0;

	if (!t)
		return -ENOMEM;
	for (int seq = 0; seq < 2 && !err; seq++) {
		for (enum op op = 0; op < OP_NR && !err; op++) {
			size_t nr = batch_size(im, op, n);
			double *best = &ns[seq][op];

			*best = 1e18;
			for (int r = 0; r < reps && !err; r++) {
				struct batch b;
				double x;

				err = batch_init(&b, op, seq, nr, n);
				if (!err)
					err = batch_run(im, t, &b, &x);
				batch_fini(&b);
				if (!err && x < *best)
					*best = x;
			}
			printf("%s n=%llu op=%s pattern=%s ns_per_op=%.1f batch=%zu\n", im->name,
			       (unsigned long long)n, op_names[op], pattern_name(seq), *best, nr);
			fflush(stdout);
		}
	}
	if (!err)
		printf("%s n=%llu bytes_per_mapping=%.1f heap_bytes_per_mapping=%.1f\n", im->name,
		       (unsigned long long)n, mem->used, mem->heap);
	im->free(t);
	return err;
}

/* The same figures as one table a pattern: ns per operation at each size, then the ratio. */
static void print_summary(const struct tree_impl *im, const uint64_t *sizes, int nsizes,
			  double ns[][2][OP_NR], const struct mem *mem)
{
	for (int seq = 0; seq < 2; seq++) {
		printf("\n%s summary pattern=%s: ns per operation, ratio largest/smallest\n",
		       im->name, pattern_name(seq));
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

/* The peer's time per operation divided by libioasid's, at every size and pattern. */
static void print_peer_ratios(const uint64_t *sizes, int nsizes, double ns[][IMPL_NR][2][OP_NR],
			      const struct mem mem[][IMPL_NR])
{
	for (int seq = 0; seq < 2; seq++) {
		printf("\niova_peer pattern=%s: %s ns / %s ns per operation (> 1: libioasid "
		       "ahead)\n", pattern_name(seq), impls[IMPL_GTREE].name,
		       impls[IMPL_IOASID].name);
		printf("  %-10s", "op");
		for (int i = 0; i < nsizes; i++) {
			char label[32];

			snprintf(label, sizeof(label), "n=%llu", (unsigned long long)sizes[i]);
			printf(" %10s", label);
		}
		printf("\n");
		for (enum op op = 0; op < OP_NR; op++) {
			printf("  %-10s", op_names[op]);
			for (int i = 0; i < nsizes; i++)
				printf(" %9.1fx", ns[i][IMPL_GTREE][seq][op] /
							  ns[i][IMPL_IOASID][seq][op]);
			printf("\n");
		}
	}
	printf("  %-10s", "bytes/map");
	for (int i = 0; i < nsizes; i++)
		printf(" %9.1fx", mem[i][IMPL_GTREE].used / mem[i][IMPL_IOASID].used);
	printf("   allocated\n\n");
	for (int i = 0; i < nsizes; i++)
		for (int seq = 0; seq < 2; seq++)
			for (enum op op = 0; op < OP_NR; op++)
				printf("iova_peer n=%llu op=%s pattern=%s %s_ns=%.1f %s_ns=%.1f "
				       "ratio=%.2f\n", (unsigned long long)sizes[i], op_names[op],
				       pattern_name(seq), impls[IMPL_IOASID].name,
				       ns[i][IMPL_IOASID][seq][op], impls[IMPL_GTREE].name,
				       ns[i][IMPL_GTREE][seq][op],
				       ns[i][IMPL_GTREE][seq][op] / ns[i][IMPL_IOASID][seq][op]);
}

/*
 * Both implementations on the same layout must give the same answer to every lookup and
 * allocation, or the comparison compares different work.
 */
static int cross_check(uint64_t n)
{
	void *a = build(&impls[IMPL_IOASID], n, NULL), *g = build(&impls[IMPL_GTREE], n, NULL);
	static const uint64_t windows[3] = { 16 * PAGE, 256 * PAGE, 0 };
	static const uint64_t lengths[3] = { PAGE, 2 * PAGE, 512 * PAGE };
	size_t checked = 0;
	int err = a && g ? 0 : -ENOMEM;

	for (size_t q = 0; q < CROSS_CHECK_QUERIES && !err; q++) {
		uint64_t iova = page_iova(rng() % (2 * n + 8)) + rng() % PAGE;

		if (!impls[IMPL_IOASID].find(a, iova) != !impls[IMPL_GTREE].find(g, iova)) {
			fprintf(stderr, "bench_iova: cross-check: lookup of 0x%llx differs\n",
				(unsigned long long)iova);
			err = -EUCLEAN;
		}
		for (int k = 0; k < 3 && !err; k++) {
			uint64_t lo = windows[k] ? iova & ~(PAGE - 1) : BASE;
			uint64_t hi = windows[k] ? lo + windows[k] - 1 : UINT64_MAX;
			uint64_t align = windows[k] ? PAGE : lengths[k], ra = 0, rg = 0;
			int ea = impls[IMPL_IOASID].alloc(a, lo, hi, lengths[k], align, &ra);
			int eg = impls[IMPL_GTREE].alloc(g, lo, hi, lengths[k], align, &rg);

			if (ea != eg || (!ea && ra != rg)) {
				fprintf(stderr, "bench_iova: cross-check: alloc %llu bytes in "
					"[0x%llx, 0x%llx] differs: %s 0x%llx (%d), %s 0x%llx (%d)\n",
					(unsigned long long)lengths[k], (unsigned long long)lo,
					(unsigned long long)hi, impls[IMPL_IOASID].name,
					(unsigned long long)ra, ea, impls[IMPL_GTREE].name,
					(unsigned long long)rg, eg);
				err = -EUCLEAN;
			}
			checked++;
		}
		checked++;
	}
	if (!err)
		printf("iova_peer cross-check n=%llu: %zu lookups and allocations agree\n",
		       (unsigned long long)n, checked);
	impls[IMPL_IOASID].free(a);
	impls[IMPL_GTREE].free(g);
	return err;
}

static int run_table(const uint64_t *sizes, int nsizes, int reps)
{
	static double ns[MAX_SIZES][IMPL_NR][2][OP_NR];
	double own[MAX_SIZES][2][OP_NR];
	struct mem mem[MAX_SIZES][IMPL_NR], own_mem[MAX_SIZES];
	int err = 0;

	/*
	 * The cross-check runs last: GLib 2.74 keeps a freed tree's nodes in GSlice magazines,
	 * unseen by mallinfo2, and the next tree built would reuse them uncounted.
	 */
	for (int i = 0; i < nsizes && !err; i++)
		for (enum impl_id k = 0; k < IMPL_NR && !err; k++)
			err = bench_size(&impls[k], sizes[i], reps, ns[i][k], &mem[i][k]);
	if (!err)
		err = cross_check(CROSS_CHECK_N);
	if (err || nsizes < 2)
		return err;
	for (enum impl_id k = 0; k < IMPL_NR; k++) {
		for (int i = 0; i < nsizes; i++) {
			memcpy(own[i], ns[i][k], sizeof(own[i]));
			own_mem[i] = mem[i][k];
		}
		print_summary(&impls[k], sizes, nsizes, own, own_mem);
	}
	print_peer_ratios(sizes, nsizes, ns, mem);
	for (int seq = 0; seq < 2; seq++) {
		for (enum op op = 0; op < OP_NR; op++) {
			double abs = ns[nsizes - 1][IMPL_IOASID][seq][op];
			double ratio = abs / ns[0][IMPL_IOASID][seq][op];

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

static int run_ops(const struct tree_impl *im, uint64_t ops, uint64_t size, const char *name,
		   bool seq)
{
	struct batch b;
	enum op op;
	double ns;
	void *t;
	int err;

	for (op = 0; op < OP_NR; op++)
		if (!strcmp(op_names[op], name))
			break;
	if (op == OP_NR) {
		fprintf(stderr, "bench_iova: unknown op '%s'\n", name);
		return -EINVAL;
	}
	t = build(im, size, NULL);
	if (!t)
		return -ENOMEM;
	err = batch_init(&b, op, seq, ops, size);
	if (err)
		fprintf(stderr, "bench_iova: %llu %s ops on %llu mappings: %s\n",
			(unsigned long long)ops, name, (unsigned long long)size, strerror(-err));
	else
		err = batch_run(im, t, &b, &ns);
	if (!err)
		printf("%s ops=%llu size=%llu op=%s pattern=%s ns_per_op=%.1f\n", im->name,
		       (unsigned long long)ops, (unsigned long long)size, name, pattern_name(seq),
		       ns);
	batch_fini(&b);
	im->free(t);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_iova [--sizes N,N,...] [--reps R]\n"
			"       bench_iova --ops N --size S --op {map|lookup|unmap|alloc|"
			"alloc-frag|alloc-big} [--seq] [--impl ioasid|gtree]\n");
}

int main(int argc, char **argv)
{
	uint64_t sizes[MAX_SIZES] = { 10000, 100000, 1000000 };
	const struct tree_impl *im = &impls[IMPL_IOASID];
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
		} else if (!strcmp(arg, "--impl")) {
			if (!strcmp(val, "ioasid"))
				im = &impls[IMPL_IOASID];
			else if (!strcmp(val, "gtree"))
				im = &impls[IMPL_GTREE];
			else
				err = -EINVAL;
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
	err = ops ? run_ops(im, ops, size, op, seq) : run_table(sizes, nsizes, reps);
	return err ? 1 : 0;
}
