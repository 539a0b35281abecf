/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * IOVA interval tree: the set of disjoint mapped IOVA ranges of one IOAS, and allocation
 * of free IOVA space in it (the userspace model of iommufd's io_pagetable area tree).
 *
 * Intervals are closed, [start, last], so the whole 64-bit space [0, UINT64_MAX] is
 * representable. Every operation is O(log n) in the number of intervals; iova_tree_alloc()
 * is O(log n) whenever holes of at least @length are usable at @align (always the case when
 * @align divides every interval boundary, e.g. page-granular mappings and page alignment),
 * see iova_tree.c for the bound otherwise.
 *
 * The tree owns its nodes, never the data pointers. No locking: the caller serialises.
 */
#ifndef IOASID_IOVA_TREE_H
#define IOASID_IOVA_TREE_H

#include <stddef.h>
#include <stdint.h>

struct iova_tree;

/* Returns NULL on allocation failure. */
struct iova_tree *iova_tree_new(void);
/* Frees the tree and its nodes, not the data pointers. Accepts NULL. */
void iova_tree_free(struct iova_tree *t);

/*
 * Adds [start, last] with @data. -EINVAL if last < start, -EEXIST if it overlaps an
 * interval already in the tree (touching edges, last + 1 == other start, do not overlap),
 * -ENOMEM.
 */
int iova_tree_insert(struct iova_tree *t, uint64_t start, uint64_t last, void *data);
/* Removes the interval that starts exactly at @start; -ENOENT if there is none. */
int iova_tree_remove(struct iova_tree *t, uint64_t start);

/*
 * The interval containing @iova: returns its data and sets *@start and *@last (either
 * pointer may be NULL). NULL if no interval contains @iova; an interval whose data is NULL
 * is indistinguishable from none, so callers store non-NULL data.
 */
void *iova_tree_find(const struct iova_tree *t, uint64_t iova, uint64_t *start, uint64_t *last);
/*
 * The interval with the lowest start that overlaps [start, last], NULL if none (or if
 * last < start). Iterate over the rest with iova_tree_next(t, *ostart, ...) while the
 * returned start is <= last.
 */
void *iova_tree_first_overlap(const struct iova_tree *t, uint64_t start, uint64_t last,
			      uint64_t *ostart, uint64_t *olast);
/* The interval with the smallest start > @after_start, NULL if none. */
void *iova_tree_next(const struct iova_tree *t, uint64_t after_start, uint64_t *ostart,
		     uint64_t *olast);

/*
 * Finds the lowest @iova such that [iova, iova + length - 1] lies inside [lo, hi],
 * overlaps no interval and iova is a multiple of @align. The tree is not changed: insert
 * the range to claim it. -EINVAL if @length is 0 or @align is not a power of two (1 is
 * allowed), -ENOSPC if no such range exists (including lo > hi).
 */
int iova_tree_alloc(const struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		    uint64_t align, uint64_t *iova);

size_t iova_tree_count(const struct iova_tree *t);

/*
 * Debug: checks every invariant (order and disjointness, node fill, search-array padding,
 * every parent's child summaries: first, last and largest gap, and the count). Returns 0,
 * or -EUCLEAN and prints the first broken invariant to stderr. O(n).
 */
int iova_tree__validate(const struct iova_tree *t);

#endif /* IOASID_IOVA_TREE_H */
