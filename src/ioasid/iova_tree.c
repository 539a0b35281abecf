// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * IOVA interval tree: a B+tree of disjoint closed intervals, augmented for O(log n)
 * allocation of free IOVA space.
 *
 * Why a B+tree. The red-black tree this replaces (libbsd's sys/tree.h) did the same
 * O(log n) work, but at 10^6 mappings a random operation chased ~20 pointers through
 * 80 MB of 80-byte nodes and paid a cache and TLB miss at nearly every level: 5-12x its
 * cost at 10^4 and over 1 us. Here a leaf holds up to LEAF_MAX intervals in three arrays
 * (24 bytes an interval, no per-interval pointers) and an inner node up to INNER_MAX
 * children, so an operation at 10^6 visits 5 nodes, the upper ones cached, and pays
 * about one memory latency for the leaf. The search inside a node has no data-dependent
 * branch, so independent lookups overlap their misses. No packaged library fits: Judy
 * arrays (libjudy) map keys to values but cannot carry the gap summaries that make
 * allocation O(log n), Debian's B-trees are Go, Java or Python, and libiitii's interval
 * tree is static.
 *
 * Layout. The tree has `height` inner levels above the leaves (0: the root is a leaf);
 * every leaf is at depth `height`. Each inner node keeps, per child, a summary of the
 * child's subtree:
 *   first  the start of its lowest interval (also the search key: a key x goes to the
 *          last child with first <= x, or to child 0)
 *   hi     the last of its highest interval
 *   gap    the largest free range strictly between two intervals of the subtree,
 *          counted in addresses (start - prev_last - 1)
 * The free range between two neighbouring children, hi[i-1] + 1 .. first[i] - 1, belongs
 * to neither child's gap but to the parent's: a summary depends only on its own subtree,
 * so an update changes the summaries on one root-to-leaf path and nothing beside it. The
 * free space below the lowest interval and above the highest are checked at the top.
 *
 * Invariants (iova_tree__validate() checks all of them): intervals ascend and are
 * disjoint across the whole tree; a node other than the root holds at least LEAF_MIN
 * (leaf) or INNER_MIN (inner) entries, an inner root at least 2; every parent summary
 * equals the summary recomputed from the child; the search arrays (leaf start[], inner
 * first[]) hold UINT64_MAX from n on, so a search can count over the whole fixed-size
 * array without a data-dependent branch; count is the number of intervals.
 *
 * Balance. Minimum fill is a quarter, not a half: fewer merges and borrows on mixed
 * workloads, and a split of a full leaf on an append (ascending inserts, the usual way
 * guest memory is mapped) keeps the left node three quarters full instead of half. The
 * height is still O(log n).
 *
 * Memory: a leaf is 768 bytes (64-byte aligned, so that a search array is four whole
 * cache lines) for 31 intervals; an inner node 1 KiB for 31 children. Ascending inserts
 * leave leaves 24/31 full: 34.6 bytes a mapping with glibc's chunk headers and the inner
 * nodes (bench_iova), ~4 more of heap around the aligned chunks. Random inserts fill
 * about 70% (~37 bytes); the floor, every leaf at the quarter minimum, is ~100 bytes.
 * The red-black tree took 80.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iova_tree.h"

/*
 * Node capacities. A node's search array (leaf start[], inner first[]) has SLOTS = MAX + 1
 * entries, a power of two >= 4, the last always UINT64_MAX: the search reads it in four
 * blocks. The unit test also builds this file with tiny nodes (IOVA_TREE_SMALL_NODES) to
 * split, borrow and merge every few operations and grow trees many levels tall.
 */
#ifndef IOVA_TREE_SMALL_NODES
#define LEAF_MAX 31
#define LEAF_MIN 8
#define INNER_MAX 31
#define INNER_MIN 8
/* Height h holds at least 2 * INNER_MIN^(h-1) * LEAF_MIN intervals: 2^64 fit below 21. */
#define MAX_HEIGHT 24
#else
#define LEAF_MAX 3
#define LEAF_MIN 1
#define INNER_MAX 3
#define INNER_MIN 2
#define MAX_HEIGHT 64
#endif
#define LEAF_SLOTS (LEAF_MAX + 1)
#define INNER_SLOTS (INNER_MAX + 1)
#define NODE_ALIGN 64
#define CACHE_LINE 64

_Static_assert(LEAF_SLOTS >= 4 && (LEAF_SLOTS & (LEAF_SLOTS - 1)) == 0 && INNER_SLOTS >= 4 &&
	       (INNER_SLOTS & (INNER_SLOTS - 1)) == 0, "search arrays: a power of two >= 4");
/* A merge of an underflowing node and a sibling at the minimum must fit in one node. */
_Static_assert(2 * LEAF_MIN - 1 <= LEAF_MAX && 2 * INNER_MIN - 1 <= INNER_MAX && LEAF_MIN >= 1 &&
	       INNER_MIN >= 2, "minimum fill");

/*
 * The search array comes first and the count right after it, so a search reads
 * SLOTS / 8 + 1 whole cache lines, all prefetched at once when the node is entered.
 */
struct iova_leaf {
	uint64_t start[LEAF_SLOTS];	/* ascending; UINT64_MAX from n on */
	uint32_t n;
	uint64_t last[LEAF_MAX];
	void *data[LEAF_MAX];
};

struct iova_inner {
	uint64_t first[INNER_SLOTS];	/* ascending; UINT64_MAX from n on */
	uint32_t n;
	uint64_t hi[INNER_MAX];
	uint64_t gap[INNER_MAX];
	void *child[INNER_MAX];
};

#define NODE_SIZE(type) ((sizeof(type) + NODE_ALIGN - 1) & ~(size_t)(NODE_ALIGN - 1))
#ifndef IOVA_TREE_SMALL_NODES
_Static_assert(NODE_SIZE(struct iova_leaf) == 768, "leaf grew: update the memory note above");
#endif

struct iova_tree {
	void *root;		/* a leaf when height == 0; never NULL */
	unsigned int height;
	size_t count;
};

/* One entry of either node kind: (start, last, -, data) or (first, hi, gap, child). */
struct iova_ent {
	uint64_t a, b, gap;
	void *p;
};

/* Summary of a subtree, as its parent stores it. */
struct iova_sum {
	uint64_t first, hi, gap;
};

/* The position of one descent: the inner node at each level and the child taken. */
struct iova_path {
	struct iova_inner *node;
	unsigned int idx;
};

static inline uint32_t *node_np(unsigned int level, void *node)
{
	return level ? &((struct iova_inner *)node)->n : &((struct iova_leaf *)node)->n;
}

static inline uint32_t node_n(unsigned int level, const void *node)
{
	return *node_np(level, (void *)node);
}

static inline void node_set_n(unsigned int level, void *node, uint32_t n)
{
	*node_np(level, node) = n;
}

/* The search array: leaf start[] or inner first[]. */
static inline uint64_t *node_keys(unsigned int level, void *node)
{
	return level ? ((struct iova_inner *)node)->first : ((struct iova_leaf *)node)->start;
}

/*
 * Index of the last of the first n entries of a (sorted, UINT64_MAX-padded to SLOTS) that
 * is <= x, or -1. Two rounds without a data-dependent branch: three probes pick one of
 * four blocks, then a count over that block. The loads of a round are independent and
 * the caller prefetched the array, so a node that misses the cache costs about one miss.
 */
static inline int iova_search(const uint64_t *a, unsigned int SLOTS, uint32_t n, uint64_t x)
{
	const unsigned int B = SLOTS / 4;
	unsigned int c = B * ((a[B - 1] <= x) + (a[2 * B - 1] <= x) + (a[3 * B - 1] <= x));
	const uint64_t *blk = a + c;

#pragma GCC unroll 16
	for (unsigned int j = 0; j < B; j++)
		c += blk[j] <= x;
	/* Only x == UINT64_MAX also counts the padding. */
	return (int)(c < n ? c : n) - 1;
}

/*
 * Starts loading the search array and the count of a node, or with @whole all of it (an
 * update reads and shifts the other arrays too).
 */
static inline void node_prefetch(const void *node, unsigned int level, bool whole)
{
	size_t end = level ? offsetof(struct iova_inner, n) : offsetof(struct iova_leaf, n);

	if (whole)
		end = level ? sizeof(struct iova_inner) - 1 : sizeof(struct iova_leaf) - 1;
	for (size_t off = 0; off <= end; off += CACHE_LINE)
		__builtin_prefetch((const char *)node + off);
}

static void *node_new(unsigned int level)
{
	if (!level) {
		struct iova_leaf *l = aligned_alloc(NODE_ALIGN, NODE_SIZE(struct iova_leaf));

		if (!l)
			return NULL;
		l->n = 0;
		memset(l->start, 0xff, sizeof(l->start));
		return l;
	} else {
		struct iova_inner *p = aligned_alloc(NODE_ALIGN, NODE_SIZE(struct iova_inner));

		if (!p)
			return NULL;
		p->n = 0;
		memset(p->first, 0xff, sizeof(p->first));
		return p;
	}
}

static unsigned int node_max(unsigned int level)
{
	return level ? INNER_MAX : LEAF_MAX;
}

static unsigned int node_min(unsigned int level)
{
	return level ? INNER_MIN : LEAF_MIN;
}

/* Copies cnt entries from src[si..] to dst[di..]; the ranges may overlap. */
static void node_move(unsigned int level, void *dst, unsigned int di, const void *src,
		      unsigned int si, unsigned int cnt)
{
	if (!level) {
		struct iova_leaf *d = dst;
		const struct iova_leaf *s = src;

		memmove(&d->start[di], &s->start[si], cnt * sizeof(d->start[0]));
		memmove(&d->last[di], &s->last[si], cnt * sizeof(d->last[0]));
		memmove(&d->data[di], &s->data[si], cnt * sizeof(d->data[0]));
	} else {
		struct iova_inner *d = dst;
		const struct iova_inner *s = src;

		memmove(&d->first[di], &s->first[si], cnt * sizeof(d->first[0]));
		memmove(&d->hi[di], &s->hi[si], cnt * sizeof(d->hi[0]));
		memmove(&d->gap[di], &s->gap[si], cnt * sizeof(d->gap[0]));
		memmove(&d->child[di], &s->child[si], cnt * sizeof(d->child[0]));
	}
}

/* Sets the count to n and restores the UINT64_MAX padding of the search array. */
static void node_truncate(unsigned int level, void *node, uint32_t n)
{
	uint32_t old = node_n(level, node);
	uint64_t *keys = node_keys(level, node);

	for (uint32_t j = n; j < old; j++)
		keys[j] = UINT64_MAX;
	node_set_n(level, node, n);
}

static void node_put(unsigned int level, void *node, unsigned int i, const struct iova_ent *e)
{
	if (!level) {
		struct iova_leaf *l = node;

		l->start[i] = e->a;
		l->last[i] = e->b;
		l->data[i] = e->p;
	} else {
		struct iova_inner *p = node;

		p->first[i] = e->a;
		p->hi[i] = e->b;
		p->gap[i] = e->gap;
		p->child[i] = e->p;
	}
}

/* Inserts e at position pos of a node that has room. */
static void node_insert(unsigned int level, void *node, unsigned int pos, const struct iova_ent *e)
{
	uint32_t n = node_n(level, node);

	node_move(level, node, pos + 1, node, pos, n - pos);
	node_put(level, node, pos, e);
	node_set_n(level, node, n + 1);
}

/* Removes the entry at pos. */
static void node_erase(unsigned int level, void *node, unsigned int pos)
{
	uint32_t n = node_n(level, node);

	node_move(level, node, pos, node, pos + 1, n - pos - 1);
	node_truncate(level, node, n - 1);
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The summary of a non-empty node. */
static struct iova_sum node_sum(unsigned int level, const void *node)
{
	uint32_t n = node_n(level, node);
	struct iova_sum s;

	if (!level) {
		const struct iova_leaf *l = node;

		s.first = l->start[0];
		s.hi = l->last[n - 1];
		s.gap = 0;
		for (uint32_t j = 1; j < n; j++)
			s.gap = max_u64(s.gap, l->start[j] - l->last[j - 1] - 1);
	} else {
		const struct iova_inner *p = node;

		s.first = p->first[0];
		s.hi = p->hi[n - 1];
		s.gap = p->gap[0];
		for (uint32_t j = 1; j < n; j++)
			s.gap = max_u64(s.gap, max_u64(p->gap[j], p->first[j] - p->hi[j - 1] - 1));
	}
	return s;
}

/* Stores the summary of child i; returns whether it changed. */
static bool inner_set(struct iova_inner *p, unsigned int i, const struct iova_sum *s)
{
	bool changed = p->first[i] != s->first || p->hi[i] != s->hi || p->gap[i] != s->gap;

	p->first[i] = s->first;
	p->hi[i] = s->hi;
	p->gap[i] = s->gap;
	return changed;
}

static struct iova_ent inner_ent(void *child, unsigned int child_level)
{
	struct iova_sum s = node_sum(child_level, child);

	return (struct iova_ent){ .a = s.first, .b = s.hi, .gap = s.gap, .p = child };
}

/*
 * Inserts e at pos into the full node x and moves the upper part into the empty node r.
 * x keeps k of the max + 1 entries: most of them when e is appended (ascending inserts
 * leave x three quarters full, not half), few when e goes first, half otherwise.
 */
static void node_split_insert(unsigned int level, void *x, void *r, unsigned int pos,
			      const struct iova_ent *e)
{
	unsigned int max = node_max(level), min = node_min(level), k;

	if (pos == max)
		k = max + 1 - min;
	else if (pos == 0)
		k = min;
	else
		k = (max + 1) / 2;
	if (pos < k) {
		node_move(level, r, 0, x, k - 1, max - k + 1);
		node_set_n(level, r, max - k + 1);
		node_truncate(level, x, k - 1);
		node_insert(level, x, pos, e);
	} else {
		node_move(level, r, 0, x, k, max - k);
		node_set_n(level, r, max - k);
		node_truncate(level, x, k);
		node_insert(level, r, pos - k, e);
	}
}

/*
 * Descends towards key x and records the path. Returns the leaf. *succ gets the first of
 * the nearest subtree right of the path (the smallest start beyond the leaf), *has_succ
 * whether there is one.
 */
static struct iova_leaf *iova_descend(const struct iova_tree *t, uint64_t x,
				      struct iova_path *path, uint64_t *succ, bool *has_succ)
{
	void *node = t->root;

	*has_succ = false;
	for (unsigned int h = t->height; h; h--) {
		struct iova_inner *p = node;
		int i = iova_search(p->first, INNER_SLOTS, p->n, x);
		unsigned int ci = i < 0 ? 0 : (unsigned int)i;

		if (ci + 1 < p->n) {
			*succ = p->first[ci + 1];
			*has_succ = true;
		}
		path[h].node = p;
		path[h].idx = ci;
		node = p->child[ci];
		node_prefetch(node, h - 1, true);
	}
	return node;
}

/* The leaf where key x belongs, without recording anything. */
static const struct iova_leaf *iova_leaf_for(const struct iova_tree *t, uint64_t x)
{
	const void *node = t->root;

	for (unsigned int h = t->height; h; h--) {
		const struct iova_inner *p = node;
		int i = iova_search(p->first, INNER_SLOTS, p->n, x);

		node = p->child[i < 0 ? 0 : i];
		node_prefetch(node, h - 1, false);
	}
	return node;
}

static void *iova_out(const struct iova_leaf *l, int i, uint64_t *start, uint64_t *last)
{
	if (start)
		*start = l->start[i];
	if (last)
		*last = l->last[i];
	return l->data[i];
}

struct iova_tree *iova_tree_new(void)
{
	struct iova_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->root = node_new(0);
	if (!t->root) {
		free(t);
		return NULL;
	}
	return t;
}

static void node_free_all(void *node, unsigned int level)
{
	if (level) {
		struct iova_inner *p = node;

		for (uint32_t i = 0; i < p->n; i++)
			node_free_all(p->child[i], level - 1);
	}
	free(node);
}

void iova_tree_free(struct iova_tree *t)
{
	if (!t)
		return;
	node_free_all(t->root, t->height);
	free(t);
}

/*
 * Every node the splits of an insert into @leaf need, allocated before anything changes:
 * one per full node from the leaf up, and a new root if they reach it. spare[k] serves
 * level k. Returns how many (0 when @leaf has room), or -ENOMEM with none kept.
 */
static int alloc_split_nodes(const struct iova_tree *t, const struct iova_leaf *leaf,
			     const struct iova_path *path, void **spare)
{
	unsigned int need = 0, h, n;

	if (leaf->n == LEAF_MAX) {
		need = 1;
		for (h = 1; h <= t->height && path[h].node->n == INNER_MAX; h++)
			need++;
		if (h > t->height)
			need++;
	}
	if (need > MAX_HEIGHT)
		return -ENOMEM;	/* unreachable with real memory, see MAX_HEIGHT */
	for (n = 0; n < need; n++) {
		spare[n] = node_new(n);
		if (!spare[n]) {
			while (n--)
				free(spare[n]);
			return -ENOMEM;
		}
	}
	return need;
}

/*
 * After an insert into the leaf @node (split into @split, spare[0], when it was full):
 * the path's sums brought up to date, each split entered into its parent (splitting a
 * full parent into the next spare), and a new root when the old one split. Stops where
 * a sum did not change and nothing split.
 */
static void insert_fix_path(struct iova_tree *t, const struct iova_path *path, void *node,
			    void *split, void **spare)
{
	unsigned int h;

	for (h = 1; h <= t->height; h++) {
		struct iova_inner *p = path[h].node;
		unsigned int ci = path[h].idx;
		struct iova_sum s = node_sum(h - 1, node);
		bool changed = inner_set(p, ci, &s);

		if (split) {
			struct iova_ent se = inner_ent(split, h - 1);

			if (p->n < INNER_MAX) {
				node_insert(h, p, ci + 1, &se);
				split = NULL;
			} else {
				split = spare[h];
				node_split_insert(h, p, split, ci + 1, &se);
			}
		} else if (!changed) {
			break;
		}
		node = p;
	}
	if (split) {
		struct iova_inner *root = spare[t->height + 1];
		struct iova_ent l = inner_ent(t->root, t->height), r = inner_ent(split, t->height);

		node_insert(t->height + 1, root, 0, &l);
		node_insert(t->height + 1, root, 1, &r);
		t->root = root;
		t->height++;
	}
}

int iova_tree_insert(struct iova_tree *t, uint64_t start, uint64_t last, void *data)
{
	struct iova_path path[MAX_HEIGHT + 1];
	void *spare[MAX_HEIGHT + 1];
	struct iova_ent e = { .a = start, .b = last, .p = data };
	struct iova_leaf *leaf;
	void *split = NULL;
	uint64_t succ = 0;
	bool has_succ;
	int i, nspare;

	if (last < start)
		return -EINVAL;
	leaf = iova_descend(t, start, path, &succ, &has_succ);
	/* i: the interval with the largest start <= start; -1 only in the lowest leaf. */
	i = iova_search(leaf->start, LEAF_SLOTS, leaf->n, start);
	if (i >= 0 && leaf->last[i] >= start)
		return -EEXIST;
	if ((uint32_t)(i + 1) < leaf->n) {
		succ = leaf->start[i + 1];
		has_succ = true;
	}
	if (has_succ && succ <= last)
		return -EEXIST;

	nspare = alloc_split_nodes(t, leaf, path, spare);
	if (nspare < 0)
		return nspare;
	if (leaf->n < LEAF_MAX) {
		node_insert(0, leaf, i + 1, &e);
	} else {
		split = spare[0];
		node_split_insert(0, leaf, split, i + 1, &e);
	}
	insert_fix_path(t, path, leaf, split, spare);
	t->count++;
	return 0;
}

/*
 * Child ci of p (at child_level) has fewer than the minimum entries: borrow from a
 * sibling so that both end up with about half of their sum, or, when the sibling has
 * nothing to spare, merge the two into the left one and drop the right from p.
 */
static void iova_rebalance(struct iova_inner *p, unsigned int ci, unsigned int child_level)
{
	unsigned int li = ci + 1 < p->n ? ci : ci - 1, min = node_min(child_level);
	void *l = p->child[li], *r = p->child[li + 1];
	uint32_t ln = node_n(child_level, l), rn = node_n(child_level, r);
	uint32_t total = ln + rn, want = total / 2;
	struct iova_sum s;

	if ((ci == li ? rn : ln) <= min) {
		node_move(child_level, l, ln, r, 0, rn);
		node_set_n(child_level, l, total);
		free(r);
		node_erase(child_level + 1, p, li + 1);
	} else if (ln < want) {
		node_move(child_level, l, ln, r, 0, want - ln);
		node_set_n(child_level, l, want);
		node_move(child_level, r, 0, r, want - ln, total - want);
		node_truncate(child_level, r, total - want);
		s = node_sum(child_level, r);
		inner_set(p, li + 1, &s);
	} else {
		/* Make room at the front of r for ln - want entries from the end of l. */
		node_move(child_level, r, ln - want, r, 0, rn);
		node_move(child_level, r, 0, l, want, ln - want);
		node_set_n(child_level, r, total - want);
		node_truncate(child_level, l, want);
		s = node_sum(child_level, r);
		inner_set(p, li + 1, &s);
	}
	s = node_sum(child_level, l);
	inner_set(p, li, &s);
}

int iova_tree_remove(struct iova_tree *t, uint64_t start)
{
	struct iova_path path[MAX_HEIGHT + 1];
	struct iova_leaf *leaf;
	uint64_t succ;
	bool has_succ;
	void *node;
	unsigned int h;
	int i;

	leaf = iova_descend(t, start, path, &succ, &has_succ);
	i = iova_search(leaf->start, LEAF_SLOTS, leaf->n, start);
	if (i < 0 || leaf->start[i] != start)
		return -ENOENT;
	node_erase(0, leaf, i);
	t->count--;

	node = leaf;
	for (h = 1; h <= t->height; h++) {
		struct iova_inner *p = path[h].node;
		unsigned int ci = path[h].idx;

		if (node_n(h - 1, node) < node_min(h - 1)) {
			iova_rebalance(p, ci, h - 1);
		} else {
			struct iova_sum s = node_sum(h - 1, node);

			if (!inner_set(p, ci, &s))
				return 0;
		}
		node = p;
	}
	/* An inner root left with one child hands the root to it. */
	while (t->height && node_n(t->height, t->root) == 1) {
		struct iova_inner *old = t->root;

		t->root = old->child[0];
		t->height--;
		free(old);
	}
	return 0;
}

void *iova_tree_find(const struct iova_tree *t, uint64_t iova, uint64_t *start, uint64_t *last)
{
	const struct iova_leaf *l = iova_leaf_for(t, iova);
	int i = iova_search(l->start, LEAF_SLOTS, l->n, iova);
	unsigned int k = i < 0 ? 0 : (unsigned int)i;
	uintptr_t hit = (i >= 0) & (l->last[k] >= iova);

	/*
	 * No branch on whether iova is mapped when the caller wants only the data: the next
	 * lookup can start while this one still waits for its leaf.
	 */
	if (start || last)
		return hit ? iova_out(l, k, start, last) : NULL;
	return (void *)((uintptr_t)l->data[k] & -hit);
}

/* The interval with the smallest start > x: false if none, else its leaf and index. */
static bool iova_gt(const struct iova_tree *t, uint64_t x, const struct iova_leaf **lp, int *ip)
{
	const void *node = t->root, *right = NULL;
	unsigned int right_h = 0;
	const struct iova_leaf *l;
	int i;

	for (unsigned int h = t->height; h; h--) {
		const struct iova_inner *p = node;
		int ci = iova_search(p->first, INNER_SLOTS, p->n, x);

		if (ci < 0)
			ci = 0;
		if ((uint32_t)ci + 1 < p->n) {
			right = p->child[ci + 1];
			right_h = h - 1;
		}
		node = p->child[ci];
	}
	l = node;
	i = iova_search(l->start, LEAF_SLOTS, l->n, x) + 1;
	if ((uint32_t)i >= l->n) {
		if (!right)
			return false;
		/* The lowest interval of the nearest subtree to the right. */
		for (node = right; right_h; right_h--)
			node = ((const struct iova_inner *)node)->child[0];
		l = node;
		i = 0;
	}
	*lp = l;
	*ip = i;
	return true;
}

void *iova_tree_first_overlap(const struct iova_tree *t, uint64_t start, uint64_t last,
			      uint64_t *ostart, uint64_t *olast)
{
	const struct iova_leaf *l;
	int i;

	if (last < start)
		return NULL;
	l = iova_leaf_for(t, start);
	i = iova_search(l->start, LEAF_SLOTS, l->n, start);
	if (i >= 0 && l->last[i] >= start)
		return iova_out(l, i, ostart, olast);
	if (!iova_gt(t, start, &l, &i) || l->start[i] > last)
		return NULL;
	return iova_out(l, i, ostart, olast);
}

void *iova_tree_next(const struct iova_tree *t, uint64_t after_start, uint64_t *ostart,
		     uint64_t *olast)
{
	const struct iova_leaf *l;
	int i;

	return iova_gt(t, after_start, &l, &i) ? iova_out(l, i, ostart, olast) : NULL;
}

size_t iova_tree_count(const struct iova_tree *t)
{
	return t->count;
}

struct iova_req {
	uint64_t lo, hi, length, align;
};

/* Places the request in the free range [gs, ge] clipped to the window. */
static bool iova_gap_fit(uint64_t gs, uint64_t ge, const struct iova_req *req, uint64_t *iova)
{
	uint64_t s = gs > req->lo ? gs : req->lo;
	uint64_t e = ge < req->hi ? ge : req->hi;
	uint64_t a;

	if (s > e || s > UINT64_MAX - (req->align - 1))
		return false;
	a = (s + req->align - 1) & ~(req->align - 1);
	if (a > e || e - a < req->length - 1)
		return false;
	*iova = a;
	return true;
}

/*
 * Lowest fit among the free ranges strictly inside the subtree at node, in address
 * order. The caller has checked that the subtree's gap can hold the request and that
 * its span reaches into the window.
 *
 * Cost: the search starts at the child (or interval) where lo falls and stops at the
 * first range that lies above hi. A child whose span lies inside the window and whose
 * gap >= length always succeeds when alignment cannot reject a large enough range, so
 * only the at most two children per level that straddle lo or hi can fail: O(log n)
 * nodes, each scanned in O(INNER_MAX) or O(LEAF_MAX). When a range of at least length
 * fails only because of alignment (interval boundaries not multiples of align), each
 * such range below the result costs O(log n) more; a range >= length + align - 1 always
 * fits, so the search never passes one.
 */
static bool iova_alloc_search(const void *node, unsigned int level, const struct iova_req *req,
			      uint64_t *iova)
{
	if (!level) {
		const struct iova_leaf *l = node;
		int j0 = iova_search(l->start, LEAF_SLOTS, l->n, req->lo);

		for (uint32_t j = j0 < 0 ? 0 : j0; j + 1 < l->n; j++) {
			uint64_t gs = l->last[j] + 1, ge = l->start[j + 1] - 1;

			if (gs > req->hi)
				return false;
			if (l->start[j + 1] - gs >= req->length && iova_gap_fit(gs, ge, req, iova))
				return true;
		}
		return false;
	} else {
		const struct iova_inner *p = node;
		int i0 = iova_search(p->first, INNER_SLOTS, p->n, req->lo);

		/* Children before i0, and the ranges between them, lie below lo. */
		for (uint32_t i = i0 < 0 ? 0 : i0; i < p->n; i++) {
			if ((int)i > i0 && i > 0) {
				uint64_t gs = p->hi[i - 1] + 1, ge = p->first[i] - 1;

				if (gs > req->hi)
					return false;
				if (p->first[i] - gs >= req->length &&
				    iova_gap_fit(gs, ge, req, iova))
					return true;
			}
			/* Child i's own ranges lie in [first + 1, hi - 1]. */
			if (p->first[i] >= req->hi)
				return false;
			if (p->gap[i] >= req->length && p->hi[i] > req->lo &&
			    iova_alloc_search(p->child[i], level - 1, req, iova))
				return true;
		}
		return false;
	}
}

int iova_tree_alloc(const struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		    uint64_t align, uint64_t *iova)
{
	const struct iova_req req = { .lo = lo, .hi = hi, .length = length, .align = align };
	struct iova_sum s;

	if (!length || !align || (align & (align - 1)))
		return -EINVAL;
	if (lo > hi || hi - lo < length - 1)
		return -ENOSPC;
	if (!t->count)
		return iova_gap_fit(0, UINT64_MAX, &req, iova) ? 0 : -ENOSPC;

	s = node_sum(t->height, t->root);
	/* Below the lowest interval, between intervals, above the highest. */
	if (s.first > 0 && s.first >= length && iova_gap_fit(0, s.first - 1, &req, iova))
		return 0;
	if (s.gap >= length && s.first < hi && s.hi > lo &&
	    iova_alloc_search(t->root, t->height, &req, iova))
		return 0;
	if (s.hi < UINT64_MAX && iova_gap_fit(s.hi + 1, UINT64_MAX, &req, iova))
		return 0;
	return -ENOSPC;
}

static int iova_bad(unsigned int level, const void *node, const char *what)
{
	fprintf(stderr, "iova_tree: %s node %p at level %u: %s\n", level ? "inner" : "leaf", node,
		level, what);
	return -EUCLEAN;
}

struct iova_walk {
	uint64_t prev_last;
	bool has_prev;
	size_t count;
};

/* Checks the subtree at node in address order and returns its summary in *s. */
static int iova_validate_node(const void *node, unsigned int level, bool root,
			      struct iova_walk *w, struct iova_sum *s)
{
	uint32_t n = node_n(level, node);
	const uint64_t *keys;
	int err;

	if (n > node_max(level))
		return iova_bad(level, node, "more entries than fit");
	if (!root && n < node_min(level))
		return iova_bad(level, node, "fewer entries than the minimum");
	if (root && level && n < 2)
		return iova_bad(level, node, "inner root with fewer than two children");
	keys = node_keys(level, (void *)node);
	for (uint32_t j = n; j <= node_max(level); j++)
		if (keys[j] != UINT64_MAX)
			return iova_bad(level, node, "search array not padded with UINT64_MAX");

	if (!level) {
		const struct iova_leaf *l = node;

		for (uint32_t j = 0; j < n; j++) {
			if (l->last[j] < l->start[j])
				return iova_bad(level, node, "interval with last < start");
			if (w->has_prev && w->prev_last >= l->start[j])
				return iova_bad(level, node, "interval overlaps its predecessor");
			w->prev_last = l->last[j];
			w->has_prev = true;
			w->count++;
		}
	} else {
		const struct iova_inner *p = node;

		for (uint32_t i = 0; i < n; i++) {
			struct iova_sum cs;

			err = iova_validate_node(p->child[i], level - 1, false, w, &cs);
			if (err)
				return err;
			if (p->first[i] != cs.first || p->hi[i] != cs.hi || p->gap[i] != cs.gap)
				return iova_bad(level, node, "child summary is stale");
		}
	}
	if (n)
		*s = node_sum(level, node);
	return 0;
}

int iova_tree__validate(const struct iova_tree *t)
{
	struct iova_walk w = { 0 };
	struct iova_sum s;
	int err;

	if (!t->root)
		return iova_bad(0, NULL, "no root");
	if (t->height > MAX_HEIGHT)
		return iova_bad(t->height, t->root, "taller than MAX_HEIGHT");
	err = iova_validate_node(t->root, t->height, true, &w, &s);
	if (err)
		return err;
	if (w.count != t->count)
		return iova_bad(t->height, t->root, "count does not match the intervals");
	return 0;
}
