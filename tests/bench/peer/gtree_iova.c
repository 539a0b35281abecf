// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* QEMU's IOVA tree algorithm on GLib's GTree, as the IOVA benchmark's peer: see the header. */
#include <errno.h>
#include <stdbool.h>

#include <glib.h>

#include "gtree_iova.h"

struct gtree_iova {
	GTree *tree;
};

/* One mapping; it is both key and value in the tree, and owned by it. */
struct gtree_range {
	uint64_t start;
	uint64_t last;
	void *data;
};

/* Overlapping ranges compare equal: a lookup with [x, x] finds the mapping holding x. */
static gint range_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct gtree_range *x = a, *y = b;

	if (x->start > y->last)
		return 1;
	if (x->last < y->start)
		return -1;
	return 0;
}

struct gtree_iova *gtree_iova__new(void)
{
	struct gtree_iova *t = g_try_new0(struct gtree_iova, 1);

	if (!t)
		return NULL;
	t->tree = g_tree_new_full(range_cmp, NULL, g_free, NULL);
	return t;
}

void gtree_iova__free(struct gtree_iova *t)
{
	if (!t)
		return;
	g_tree_destroy(t->tree);
	g_free(t);
}

int gtree_iova__insert(struct gtree_iova *t, uint64_t start, uint64_t last, void *data)
{
	struct gtree_range key = { .start = start, .last = last }, *r;

	if (last < start)
		return -EINVAL;
	if (g_tree_lookup(t->tree, &key))
		return -EEXIST;
	r = g_try_new(struct gtree_range, 1);
	if (!r)
		return -ENOMEM;
	*r = (struct gtree_range){ .start = start, .last = last, .data = data };
	g_tree_insert(t->tree, r, r);
	return 0;
}

int gtree_iova__remove(struct gtree_iova *t, uint64_t start, uint64_t last)
{
	struct gtree_range key = { .start = start, .last = last };
	const struct gtree_range *hit;
	int removed = 0;

	while ((hit = g_tree_lookup(t->tree, &key))) {
		g_tree_remove(t->tree, hit);
		removed++;
	}
	return removed ? 0 : -ENOENT;
}

void *gtree_iova__find(const struct gtree_iova *t, uint64_t iova)
{
	struct gtree_range key = { .start = iova, .last = iova };
	const struct gtree_range *hit = g_tree_lookup(t->tree, &key);

	return hit ? hit->data : NULL;
}

/* The walk's state: the hole between prev and the mapping visited (QEMU's alloc args). */
struct gtree_alloc_walk {
	uint64_t lo, length, align;
	const struct gtree_range *prev;
	uint64_t found;
	bool has_found;
};

/*
 * The hole [start, end) below @next (end is @next's start; with no @next, the top of the
 * space): true and *iova if [iova, iova + length - 1] fits in it at or above lo.
 */
static bool hole_fits(struct gtree_alloc_walk *w, const struct gtree_range *next)
{
	uint64_t start = w->prev ? w->prev->last + 1 : 0, iova;

	if (next && next->last < w->lo)
		return false;
	if (start < w->lo)
		start = w->lo;
	iova = (start + w->align - 1) & ~(w->align - 1);
	if (iova < start)
		return false;
	if (next) {
		if (iova >= next->start || next->start - iova < w->length)
			return false;
	} else if (UINT64_MAX - iova < w->length - 1) {
		return false;
	}
	w->found = iova;
	w->has_found = true;
	return true;
}

static gboolean alloc_visit(gpointer key, gpointer value, gpointer data)
{
	struct gtree_alloc_walk *w = data;
	bool stop = hole_fits(w, value);

	w->prev = value;
	return stop;
}

int gtree_iova__alloc(const struct gtree_iova *t, uint64_t lo, uint64_t hi, uint64_t length,
		      uint64_t align, uint64_t *iova)
{
	struct gtree_alloc_walk w = { .lo = lo, .length = length, .align = align };

	if (!length || !align || (align & (align - 1)))
		return -EINVAL;
	if (lo > hi)
		return -ENOSPC;
	/* QEMU's walk: every mapping from the lowest, then the hole above the highest. */
	g_tree_foreach(t->tree, alloc_visit, &w);
	if (!w.has_found)
		hole_fits(&w, NULL);
	if (!w.has_found || w.found > hi || hi - w.found < length - 1)
		return -ENOSPC;
	*iova = w.found;
	return 0;
}
