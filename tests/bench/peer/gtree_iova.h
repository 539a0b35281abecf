/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The benchmark's peer for src/ioasid/iova_tree.c: QEMU's IOVA tree algorithm
 * (util/iova-tree.c), reimplemented on GLib's GTree for comparison only.
 *
 * The algorithm, as QEMU has it: a balanced tree (GTree, an AVL tree with threaded
 * in-order links) of ranges, keyed by a comparator under which overlapping ranges compare
 * equal, so a lookup finds any overlapping mapping. Insert is a lookup for an overlap and
 * then a second descent to insert; remove repeats lookup-and-remove until nothing
 * overlaps; free-range allocation walks every mapping in address order from the lowest
 * (g_tree_foreach) until the hole after the previous one fits, so it is O(position of the
 * hole), O(n) when the space is past every mapping.
 *
 * Two differences from QEMU, neither changing the cost: a window start that lies inside a
 * mapping is skipped instead of wrapping the hole size (QEMU assumes its start is below
 * every mapping), and the hole's start is rounded up to @align (QEMU has no alignment),
 * so both implementations return the same address for the same request.
 */
#ifndef BENCH_GTREE_IOVA_H
#define BENCH_GTREE_IOVA_H

#include <stdint.h>

struct gtree_iova;

/* Returns NULL on allocation failure. */
struct gtree_iova *gtree_iova__new(void);
/* Frees the tree and its ranges, not the data pointers. Accepts NULL. */
void gtree_iova__free(struct gtree_iova *t);
/* Adds [start, last]; -EINVAL if last < start, -EEXIST if it overlaps a mapping. */
int gtree_iova__insert(struct gtree_iova *t, uint64_t start, uint64_t last, void *data);
/* Removes every mapping overlapping [start, last]; -ENOENT if there was none. */
int gtree_iova__remove(struct gtree_iova *t, uint64_t start, uint64_t last);
/* The data of the mapping containing @iova, NULL if none. */
void *gtree_iova__find(const struct gtree_iova *t, uint64_t iova);
/*
 * The lowest @align-aligned @iova with [iova, iova + length - 1] free and inside [lo, hi],
 * found by QEMU's in-order walk; -EINVAL for a zero length or an align that is not a
 * power of two, -ENOSPC if the first fitting hole at or above @lo ends past @hi.
 */
int gtree_iova__alloc(const struct gtree_iova *t, uint64_t lo, uint64_t hi, uint64_t length,
		      uint64_t align, uint64_t *iova);

#endif /* BENCH_GTREE_IOVA_H */
