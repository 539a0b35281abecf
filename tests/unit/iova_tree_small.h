/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * src/ioasid/iova_tree.c built a second time with tiny nodes (IOVA_TREE_SMALL_NODES: 3
 * intervals a leaf, 3 children an inner node) for test_iova_tree, where every few
 * operations split, borrow or merge. Its public functions are renamed small_tree_* so
 * both builds link into one binary.
 *
 * The Makefile compiles that object with -DIOVA_TREE_SMALL_NODES -include this header, so
 * the renames apply to iova_tree.h and iova_tree.c alike; the test includes it for the
 * prototypes only.
 */
#ifndef IOGUARD_TESTS_IOVA_TREE_SMALL_H
#define IOGUARD_TESTS_IOVA_TREE_SMALL_H

#include <stddef.h>
#include <stdint.h>

/* LEAF_MAX of iova_tree.c under IOVA_TREE_SMALL_NODES: the sizes of the boundary tests. */
#define SMALL_TREE_LEAF_MAX 3

#ifdef IOVA_TREE_SMALL_NODES
#define iova_tree_new small_tree_new
#define iova_tree_free small_tree_free
#define iova_tree_insert small_tree_insert
#define iova_tree_remove small_tree_remove
#define iova_tree_find small_tree_find
#define iova_tree_first_overlap small_tree_first_overlap
#define iova_tree_next small_tree_next
#define iova_tree_alloc small_tree_alloc
#define iova_tree_count small_tree_count
#define iova_tree__validate small_tree__validate
#endif

struct iova_tree;

struct iova_tree *small_tree_new(void);
void small_tree_free(struct iova_tree *t);
int small_tree_insert(struct iova_tree *t, uint64_t start, uint64_t last, void *data);
int small_tree_remove(struct iova_tree *t, uint64_t start);
void *small_tree_find(const struct iova_tree *t, uint64_t iova, uint64_t *start, uint64_t *last);
void *small_tree_first_overlap(const struct iova_tree *t, uint64_t start, uint64_t last,
			       uint64_t *ostart, uint64_t *olast);
void *small_tree_next(const struct iova_tree *t, uint64_t after_start, uint64_t *ostart,
		      uint64_t *olast);
int small_tree_alloc(const struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		     uint64_t align, uint64_t *iova);
size_t small_tree_count(const struct iova_tree *t);
int small_tree__validate(const struct iova_tree *t);

#endif /* IOGUARD_TESTS_IOVA_TREE_SMALL_H */
