// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * IOVA interval tree on libbsd's red-black tree (<bsd/sys/tree.h>), augmented for O(log n)
 * allocation of free IOVA space.
 *
 * Every node stores the free gap in front of it: gap = start - (predecessor's last + 1),
 * or start for the lowest node, so the gaps of all nodes plus the tail gap after the
 * highest node are exactly the free space. max_gap is the largest gap in the node's
 * subtree (the layout Linux used for VMAs before the maple tree, rb_subtree_gap).
 * iova_tree_alloc() descends into the leftmost subtree whose max_gap can hold the request.
 *
 * Keeping max_gap exact. libbsd 0.11 calls RB_AUGMENT only on the nodes it relinks (the
 * new leaf's parent, the two rotated nodes and the parent above them, the splice points
 * of a removal), never up to the root, so its hook alone leaves ancestors stale after an
 * insert or a one-child removal. Call a node consistent when max_gap == max(gap, max_gap of its
 * children) and its children are consistent. libbsd's RB_AUGMENT(x) is defined below as a
 * local recompute of x from its children, O(1). Lemma: if every inconsistent node lies on
 * Path(y) = {y and its ancestors} for some set of nodes y, a rotation keeps it so: the two
 * rotated nodes are recomputed lower one first (RB_ROTATE_* calls RB_AUGMENT(elm) after
 * elm's new children are in place, then RB_AUGMENT(tmp)), and a node that ends up on no
 * path has only consistent subtrees below it; nodes above the rotation keep their subtree
 * contents. Any extra local recompute (libbsd 0.11's RB_INSERT and RB_REMOVE call some)
 * keeps it so too. So each update records the nodes y where it changed the structure or a
 * gap, lets libbsd rebalance, then recomputes Path(y) bottom-up (iova_node_fixup()):
 *  - insert of x: the successor's gap shrinks before RB_INSERT; a new leaf's successor is
 *    one of its ancestors, so y = x covers both.
 *  - remove of x: the structure changes at x's parent, or, when x has two children, at
 *    the old parent of its successor (libbsd moves the successor into x's place; the
 *    successor itself when it was x's right child); then the successor's gap grows by x
 *    and x's gap. Two paths, walked once where they share nodes. This depends on
 *    RB_REMOVE replacing a two-child node with its successor, as libbsd 0.11 (FreeBSD's
 *    tree.h) does; iova_tree__validate() in the randomized unit test would catch a change.
 * Each update costs one more walk to the root than plain libbsd. Neighbours come from the
 * descents (the last node where the search went left), never from RB_PREV/RB_NEXT.
 *
 * Memory: 72 bytes a node (libbsd's RB_ENTRY is three pointers and an int colour),
 * 80 bytes a mapping with glibc malloc's chunk header and rounding.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "iova_tree.h"

struct iova_node;
static void iova_node_augment(struct iova_node *n);

#define RB_AUGMENT(x) iova_node_augment(x)
#include <bsd/sys/tree.h>

struct iova_node {
	RB_ENTRY(iova_node) rb;
	uint64_t start;
	uint64_t last;
	uint64_t gap;		/* free bytes between the predecessor (or 0) and start */
	uint64_t max_gap;	/* largest gap in this subtree */
	void *data;
};

_Static_assert(sizeof(struct iova_node) == 72, "iova_node grew: update the memory note above");

RB_HEAD(iova_rb, iova_node);

struct iova_tree {
	struct iova_rb root;
	size_t count;
};

static int iova_node_cmp(const struct iova_node *a, const struct iova_node *b)
{
	return (a->start > b->start) - (a->start < b->start);
}

static void iova_node_augment(struct iova_node *n)
{
	const struct iova_node *l = RB_LEFT(n, rb), *r = RB_RIGHT(n, rb);
	uint64_t max = n->gap;

	if (l && l->max_gap > max)
		max = l->max_gap;
	if (r && r->max_gap > max)
		max = r->max_gap;
	n->max_gap = max;
}

/* RB_GENERATE_STATIC needs __unused, which libbsd leaves undefined (Debian #522773). */
RB_GENERATE_INTERNAL(iova_rb, iova_node, rb, iova_node_cmp, __attribute__((__unused__)) static)

/* Recomputes n and its ancestors, bottom-up. */
static void iova_node_fixup(struct iova_node *n)
{
	for (; n; n = RB_PARENT(n, rb))
		iova_node_augment(n);
}

/* The node with the largest start <= x; *succ (if asked) gets the one after it. */
static struct iova_node *iova_node_le(const struct iova_tree *t, uint64_t x,
				      struct iova_node **succ)
{
	struct iova_node *n = RB_ROOT(&t->root), *best = NULL, *above = NULL;

	while (n) {
		if (n->start <= x) {
			best = n;
			n = RB_RIGHT(n, rb);
		} else {
			above = n;
			n = RB_LEFT(n, rb);
		}
	}
	if (succ)
		*succ = above;
	return best;
}

/* The node with the smallest start > x. */
static struct iova_node *iova_node_gt(const struct iova_tree *t, uint64_t x)
{
	struct iova_node *n = RB_ROOT(&t->root), *best = NULL;

	while (n) {
		if (n->start > x) {
			best = n;
			n = RB_LEFT(n, rb);
		} else {
			n = RB_RIGHT(n, rb);
		}
	}
	return best;
}

static void *iova_node_out(const struct iova_node *n, uint64_t *start, uint64_t *last)
{
	if (!n)
		return NULL;
	if (start)
		*start = n->start;
	if (last)
		*last = n->last;
	return n->data;
}

struct iova_tree *iova_tree_new(void)
{
	struct iova_tree *t = calloc(1, sizeof(*t));

	if (t)
		RB_INIT(&t->root);
	return t;
}

static void iova_node_free_all(struct iova_node *n)
{
	while (n) {
		struct iova_node *r = RB_RIGHT(n, rb);

		iova_node_free_all(RB_LEFT(n, rb));
		free(n);
		n = r;
	}
}

void iova_tree_free(struct iova_tree *t)
{
	if (!t)
		return;
	iova_node_free_all(RB_ROOT(&t->root));
	free(t);
}

int iova_tree_insert(struct iova_tree *t, uint64_t start, uint64_t last, void *data)
{
	struct iova_node *n, *pred, *succ;

	if (last < start)
		return -EINVAL;
	/* Only the interval with the largest start <= last can overlap [start, last]. */
	pred = iova_node_le(t, last, &succ);
	if (pred && pred->last >= start)
		return -EEXIST;

	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->start = start;
	n->last = last;
	n->gap = pred ? start - pred->last - 1 : start;
	n->max_gap = n->gap;
	n->data = data;

	if (succ)
		succ->gap = succ->start - last - 1;

	iova_rb_RB_INSERT(&t->root, n);
	/* succ is an ancestor of the new leaf: one path covers both changes. */
	iova_node_fixup(n);
	t->count++;
	return 0;
}

int iova_tree_remove(struct iova_tree *t, uint64_t start)
{
	struct iova_node *n = RB_ROOT(&t->root), *succ = NULL, *changed, *p;

	while (n && n->start != start) {
		if (start < n->start) {
			succ = n;	/* the successor, unless n has a right subtree */
			n = RB_LEFT(n, rb);
		} else {
			n = RB_RIGHT(n, rb);
		}
	}
	if (!n)
		return -ENOENT;
	if (RB_RIGHT(n, rb))
		for (succ = RB_RIGHT(n, rb); RB_LEFT(succ, rb); succ = RB_LEFT(succ, rb))
			;

	if (RB_LEFT(n, rb) && RB_RIGHT(n, rb)) {
		/* RB_REMOVE moves succ (the leftmost node on the right) into n's place. */
		changed = RB_PARENT(succ, rb) == n ? succ : RB_PARENT(succ, rb);
	} else {
		changed = RB_PARENT(n, rb);
	}
	RB_REMOVE(iova_rb, &t->root, n);
	/* succ's gap swallows n and n's gap: it now reaches back to n's predecessor. */
	if (succ)
		succ->gap += n->gap + (n->last - n->start + 1);

	/* Recompute Path(changed), then Path(succ) unless the first walk passed succ. */
	for (p = changed; p && p != succ; p = RB_PARENT(p, rb))
		iova_node_augment(p);
	iova_node_fixup(p ? p : succ);
	free(n);
	t->count--;
	return 0;
}

void *iova_tree_find(const struct iova_tree *t, uint64_t iova, uint64_t *start, uint64_t *last)
{
	const struct iova_node *n = iova_node_le(t, iova, NULL);

	return n && n->last >= iova ? iova_node_out(n, start, last) : NULL;
}

void *iova_tree_first_overlap(const struct iova_tree *t, uint64_t start, uint64_t last,
			      uint64_t *ostart, uint64_t *olast)
{
	const struct iova_node *n;

	if (last < start)
		return NULL;
	n = iova_node_le(t, start, NULL);
	if (n && n->last >= start)
		return iova_node_out(n, ostart, olast);
	n = iova_node_gt(t, start);
	return n && n->start <= last ? iova_node_out(n, ostart, olast) : NULL;
}

void *iova_tree_next(const struct iova_tree *t, uint64_t after_start, uint64_t *ostart,
		     uint64_t *olast)
{
	return iova_node_out(iova_node_gt(t, after_start), ostart, olast);
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
 * Lowest fit among the gaps of the subtree at n, in address order: the left subtree, n's
 * own gap, the right subtree. All those gaps lie inside [rlo, rhi], which prunes subtrees
 * outside the window; max_gap prunes subtrees without a large enough gap.
 *
 * Cost: a subtree whose range lies inside the window and whose max_gap >= length always
 * succeeds when alignment cannot reject a large enough gap, so only the at most two
 * subtrees per level that straddle lo or hi can fail: O(log n). When a gap of at least
 * length fails only because of alignment (interval boundaries not multiples of align),
 * each such gap below the result costs O(log n) more; a gap >= length + align - 1 always
 * fits, so the search never passes one.
 */
static bool iova_alloc_search(const struct iova_node *n, uint64_t rlo, uint64_t rhi,
			      const struct iova_req *req, uint64_t *iova)
{
	while (n && n->max_gap >= req->length && rlo <= req->hi && rhi >= req->lo) {
		const struct iova_node *l = RB_LEFT(n, rb);
		/* With a left subtree there is a predecessor, ending at start - gap - 1. */
		uint64_t pred_last = n->start - n->gap - 1;

		if (l && l->max_gap >= req->length && pred_last >= req->lo &&
		    iova_alloc_search(l, rlo, pred_last, req, iova))
			return true;
		if (n->gap >= req->length && n->start > req->lo &&
		    iova_gap_fit(n->start - n->gap, n->start - 1, req, iova))
			return true;
		if (!RB_RIGHT(n, rb))
			break;
		/* A right subtree means n->last < UINT64_MAX. */
		rlo = n->last + 1;
		n = RB_RIGHT(n, rb);
	}
	return false;
}

int iova_tree_alloc(const struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		    uint64_t align, uint64_t *iova)
{
	const struct iova_req req = { .lo = lo, .hi = hi, .length = length, .align = align };
	const struct iova_node *max;

	if (!length || !align || (align & (align - 1)))
		return -EINVAL;
	if (lo > hi || hi - lo < length - 1)
		return -ENOSPC;
	if (iova_alloc_search(RB_ROOT(&t->root), 0, UINT64_MAX, &req, iova))
		return 0;

	/* The tail gap after the highest interval, or everything if the tree is empty. */
	max = RB_MAX(iova_rb, (struct iova_rb *)&t->root);
	if (!max)
		return iova_gap_fit(0, UINT64_MAX, &req, iova) ? 0 : -ENOSPC;
	if (max->last < UINT64_MAX && iova_gap_fit(max->last + 1, UINT64_MAX, &req, iova))
		return 0;
	return -ENOSPC;
}

static int iova_bad(const struct iova_node *n, const char *what)
{
	if (n)
		fprintf(stderr, "iova_tree: [%#llx, %#llx]: %s\n", (unsigned long long)n->start,
			(unsigned long long)n->last, what);
	else
		fprintf(stderr, "iova_tree: %s\n", what);
	return -EUCLEAN;
}

/* Checks the subtree at n; returns its black height, or -EUCLEAN. */
static int iova_validate_subtree(const struct iova_node *n, const struct iova_node *parent)
{
	const struct iova_node *l, *r;
	uint64_t max;
	int lh, rh;

	if (!n)
		return 1;
	l = RB_LEFT(n, rb);
	r = RB_RIGHT(n, rb);
	if (RB_PARENT(n, rb) != parent)
		return iova_bad(n, "wrong parent link");
	if (RB_COLOR(n, rb) == RB_RED &&
	    ((l && RB_COLOR(l, rb) == RB_RED) || (r && RB_COLOR(r, rb) == RB_RED)))
		return iova_bad(n, "red node with a red child");
	if ((l && l->start >= n->start) || (r && r->start <= n->start))
		return iova_bad(n, "children out of order");
	max = n->gap;
	if (l && l->max_gap > max)
		max = l->max_gap;
	if (r && r->max_gap > max)
		max = r->max_gap;
	if (n->max_gap != max)
		return iova_bad(n, "max_gap is not the subtree maximum");

	lh = iova_validate_subtree(l, n);
	if (lh < 0)
		return lh;
	rh = iova_validate_subtree(r, n);
	if (rh < 0)
		return rh;
	if (lh != rh)
		return iova_bad(n, "black heights differ");
	return lh + (RB_COLOR(n, rb) == RB_BLACK);
}

int iova_tree__validate(const struct iova_tree *t)
{
	struct iova_rb *root = (struct iova_rb *)&t->root;
	const struct iova_node *prev = NULL;
	struct iova_node *n;
	size_t count = 0;
	int err;

	if (RB_ROOT(root) && RB_COLOR(RB_ROOT(root), rb) != RB_BLACK)
		return iova_bad(NULL, "red root");
	err = iova_validate_subtree(RB_ROOT(root), NULL);
	if (err < 0)
		return err;

	RB_FOREACH(n, iova_rb, root) {
		if (n->last < n->start)
			return iova_bad(n, "last < start");
		if (prev && prev->last >= n->start)
			return iova_bad(n, "overlaps or is not above its predecessor");
		if (n->gap != (prev ? n->start - prev->last - 1 : n->start))
			return iova_bad(n, "gap does not match the predecessor");
		prev = n;
		count++;
	}
	if (count != t->count)
		return iova_bad(NULL, "count does not match the nodes");
	return 0;
}
