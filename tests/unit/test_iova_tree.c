// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for src/ioasid/iova_tree.c: edge cases, node-boundary cases of the B+tree,
 * then randomized differential tests against a sorted-array model with
 * iova_tree__validate() after every step.
 *
 * Every test runs twice (fixture variants): on the library as built, 31 intervals a
 * leaf and 31 children an inner node, and on the same source built with tiny nodes
 * (IOVA_TREE_SMALL_NODES: 3 and 3; tests/unit/iova_tree_small.h), where every few
 * operations split, borrow or merge and a few hundred intervals make a tree ten levels
 * tall.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ioasid/iova_tree.h"
#include "iova_tree_small.h"

struct tree_impl {
	const char *name;
	uint64_t leaf_max;	/* intervals a leaf holds: the sizes of the boundary tests */
	struct iova_tree *(*tree_new)(void);
	void (*tree_free)(struct iova_tree *t);
	int (*insert)(struct iova_tree *t, uint64_t start, uint64_t last, void *data);
	int (*remove)(struct iova_tree *t, uint64_t start);
	void *(*find)(const struct iova_tree *t, uint64_t iova, uint64_t *start, uint64_t *last);
	void *(*first_overlap)(const struct iova_tree *t, uint64_t start, uint64_t last,
			       uint64_t *ostart, uint64_t *olast);
	void *(*next)(const struct iova_tree *t, uint64_t after_start, uint64_t *ostart,
		      uint64_t *olast);
	int (*alloc)(const struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		     uint64_t align, uint64_t *iova);
	size_t (*count)(const struct iova_tree *t);
	int (*validate)(const struct iova_tree *t);
};

static const struct tree_impl impl_lib = {
	.name = "31 a node", .leaf_max = 31,
	.tree_new = iova_tree_new, .tree_free = iova_tree_free, .insert = iova_tree_insert,
	.remove = iova_tree_remove, .find = iova_tree_find,
	.first_overlap = iova_tree_first_overlap, .next = iova_tree_next,
	.alloc = iova_tree_alloc, .count = iova_tree_count, .validate = iova_tree__validate,
};

static const struct tree_impl impl_small = {
	.name = "3 a node", .leaf_max = SMALL_TREE_LEAF_MAX,
	.tree_new = small_tree_new, .tree_free = small_tree_free, .insert = small_tree_insert,
	.remove = small_tree_remove, .find = small_tree_find,
	.first_overlap = small_tree_first_overlap, .next = small_tree_next,
	.alloc = small_tree_alloc, .count = small_tree_count, .validate = small_tree__validate,
};

/* The variant under test, set by the group setup. */
static const struct tree_impl *impl;

static int setup_lib(void **state)
{
	impl = &impl_lib;
	return 0;
}

static int setup_small(void **state)
{
	impl = &impl_small;
	return 0;
}

#define PAGE 0x1000ULL
/* Distinct non-NULL data per start, including 0 and UINT64_MAX. */
#define TAG(x) ((void *)(uintptr_t)((x) ^ 0xa5a5a5a5a5a5a5a5ULL))

static int setup_tree(void **state)
{
	*state = impl->tree_new();
	return *state ? 0 : -1;
}

static int teardown_tree(void **state)
{
	struct iova_tree *t = *state;

	assert_int_equal(impl->validate(t), 0);
	impl->tree_free(t);
	return 0;
}

static int _do_insert(struct iova_tree *t, uint64_t start, uint64_t last)
{
	int err = impl->insert(t, start, last, TAG(start));

	assert_int_equal(impl->validate(t), 0);
	return err;
}

static void do_insert(struct iova_tree *t, uint64_t start, uint64_t last)
{
	assert_int_equal(_do_insert(t, start, last), 0);
}

static void do_insert_err(int err, struct iova_tree *t, uint64_t start, uint64_t last)
{
	size_t count = impl->count(t);

	assert_int_equal(_do_insert(t, start, last), err);
	assert_int_equal(impl->count(t), count);
}

static int _do_remove(struct iova_tree *t, uint64_t start)
{
	int err = impl->remove(t, start);

	assert_int_equal(impl->validate(t), 0);
	return err;
}

static void do_remove(struct iova_tree *t, uint64_t start)
{
	assert_int_equal(_do_remove(t, start), 0);
}

static void do_remove_err(int err, struct iova_tree *t, uint64_t start)
{
	assert_int_equal(_do_remove(t, start), err);
}

static int _do_alloc(struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
		     uint64_t align, uint64_t *iova)
{
	return impl->alloc(t, lo, hi, length, align, iova);
}

static uint64_t do_alloc(struct iova_tree *t, uint64_t lo, uint64_t hi, uint64_t length,
			 uint64_t align)
{
	uint64_t iova = 0;

	assert_int_equal(_do_alloc(t, lo, hi, length, align, &iova), 0);
	return iova;
}

static void do_alloc_err(int err, struct iova_tree *t, uint64_t lo, uint64_t hi,
			 uint64_t length, uint64_t align)
{
	uint64_t iova = 0x5a5a;

	assert_int_equal(_do_alloc(t, lo, hi, length, align, &iova), err);
	assert_int_equal(iova, 0x5a5a);
}

/* Asserts that iova lies in [start, last] and nothing else is returned. */
static void assert_found(struct iova_tree *t, uint64_t iova, uint64_t start, uint64_t last)
{
	uint64_t s = 0, l = 0;

	assert_ptr_equal(impl->find(t, iova, &s, &l), TAG(start));
	assert_int_equal(s, start);
	assert_int_equal(l, last);
}

static void test_new_free(void **state)
{
	struct iova_tree *t = *state;

	assert_int_equal(impl->count(t), 0);
	assert_null(impl->find(t, 0, NULL, NULL));
	assert_null(impl->find(t, UINT64_MAX, NULL, NULL));
	assert_null(impl->next(t, 0, NULL, NULL));
	assert_null(impl->first_overlap(t, 0, UINT64_MAX, NULL, NULL));
	impl->tree_free(NULL);
}

static void test_insert_invalid(void **state)
{
	struct iova_tree *t = *state;

	do_insert_err(-EINVAL, t, 0x2000, 0x1fff);
	do_insert_err(-EINVAL, t, UINT64_MAX, 0);
	do_insert(t, 0x2000, 0x2000);
	assert_found(t, 0x2000, 0x2000, 0x2000);
}

static void test_adjacent(void **state)
{
	struct iova_tree *t = *state;

	do_insert(t, 0x2000, 0x2fff);
	do_insert(t, 0x3000, 0x3fff);
	do_insert(t, 0x1000, 0x1fff);
	assert_int_equal(impl->count(t), 3);
	assert_found(t, 0x1fff, 0x1000, 0x1fff);
	assert_found(t, 0x2000, 0x2000, 0x2fff);
	assert_found(t, 0x3fff, 0x3000, 0x3fff);
	assert_null(impl->find(t, 0xfff, NULL, NULL));
	assert_null(impl->find(t, 0x4000, NULL, NULL));
}

static void test_overlap(void **state)
{
	struct iova_tree *t = *state;

	do_insert(t, 0x2000, 0x3fff);
	do_insert_err(-EEXIST, t, 0x2000, 0x3fff);	/* identical */
	do_insert_err(-EEXIST, t, 0x1000, 0x2000);	/* left edge */
	do_insert_err(-EEXIST, t, 0x3fff, 0x4fff);	/* right edge */
	do_insert_err(-EEXIST, t, 0x2800, 0x2fff);	/* contained */
	do_insert_err(-EEXIST, t, 0x1000, 0x4fff);	/* containing */
	do_insert_err(-EEXIST, t, 0, UINT64_MAX);
	do_insert(t, 0x1000, 0x1fff);
	do_insert(t, 0x4000, 0x4fff);
	do_insert_err(-EEXIST, t, 0x1fff, 0x4000);	/* across three */
	assert_int_equal(impl->count(t), 3);
}

static void test_full_range(void **state)
{
	struct iova_tree *t = *state;
	uint64_t s, l;

	do_insert(t, 0, UINT64_MAX);
	assert_found(t, 0, 0, UINT64_MAX);
	assert_found(t, UINT64_MAX, 0, UINT64_MAX);
	do_insert_err(-EEXIST, t, UINT64_MAX, UINT64_MAX);
	do_insert_err(-EEXIST, t, 0, 0);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, 1, 1);
	assert_ptr_equal(impl->first_overlap(t, UINT64_MAX, UINT64_MAX, &s, &l), TAG(0));
	assert_int_equal(s, 0);
	assert_int_equal(l, UINT64_MAX);
	assert_null(impl->next(t, 0, NULL, NULL));
	do_remove(t, 0);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, UINT64_MAX, 1), 0);
	/* Only the last byte is free: the tail gap. */
	do_insert(t, 0, UINT64_MAX - 1);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 1, 1), UINT64_MAX);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, 1, 2);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, 2, 1);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX - 1, 1, 1);
}

static void test_bounds(void **state)
{
	struct iova_tree *t = *state;

	do_insert(t, UINT64_MAX, UINT64_MAX);
	do_insert(t, 0, 0);
	assert_found(t, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	assert_found(t, 0, 0, 0);
	assert_null(impl->find(t, 1, NULL, NULL));
	assert_null(impl->next(t, UINT64_MAX, NULL, NULL));
	assert_ptr_equal(impl->next(t, 0, NULL, NULL), TAG(UINT64_MAX));

	/* The only free range is [1, UINT64_MAX - 1]: length 2^64 - 2. */
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, UINT64_MAX - 1, 1), 1);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, UINT64_MAX, 1);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, UINT64_MAX - 1, 2);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, UINT64_MAX - 2, 2), 2);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 1ULL << 62, 1ULL << 63), 1ULL << 63);
	assert_int_equal(do_alloc(t, UINT64_MAX - 1, UINT64_MAX, 1, 1), UINT64_MAX - 1);
	do_alloc_err(-ENOSPC, t, UINT64_MAX - 1, UINT64_MAX, 2, 1);
	/* Aligning up from the window start would overflow. */
	do_alloc_err(-ENOSPC, t, UINT64_MAX - 10, UINT64_MAX, 1, PAGE);
	do_alloc_err(-ENOSPC, t, UINT64_MAX - 1, UINT64_MAX, 1, 1ULL << 63);

	do_remove(t, UINT64_MAX);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, UINT64_MAX, 1), 1);
	do_insert(t, 1, UINT64_MAX);
	do_alloc_err(-ENOSPC, t, 0, UINT64_MAX, 1, 1);
}

static void test_alloc_invalid(void **state)
{
	struct iova_tree *t = *state;

	do_alloc_err(-EINVAL, t, 0, UINT64_MAX, 0, 1);
	do_alloc_err(-EINVAL, t, 0, UINT64_MAX, 1, 0);
	do_alloc_err(-EINVAL, t, 0, UINT64_MAX, 1, 3);
	do_alloc_err(-EINVAL, t, 0, UINT64_MAX, 1, (1ULL << 63) + 1);
	do_alloc_err(-ENOSPC, t, 0x2000, 0x1000, 1, 1);	/* lo > hi */
	do_alloc_err(-ENOSPC, t, 0x1000, 0x1fff, 0x1001, 1);	/* window too small */
	assert_int_equal(do_alloc(t, 0x1000, 0x1fff, 0x1000, 0x1000), 0x1000);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, 1ULL << 63), 0);
	assert_int_equal(do_alloc(t, 1, UINT64_MAX, PAGE, 1ULL << 63), 1ULL << 63);
}

static void test_alloc_alignment(void **state)
{
	struct iova_tree *t = *state;

	/* Holes [0x1000, 0x2fff] (8 KiB at 4 KiB) and [0x4000, 0x7fff] (16 KiB at 16 KiB). */
	do_insert(t, 0, 0xfff);
	do_insert(t, 0x3000, 0x3fff);
	do_insert(t, 0x8000, 0x8fff);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 0x2000, PAGE), 0x1000);
	/* 8 KiB aligned to 8 KiB does not fit the first hole at 0x1000. */
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 0x2000, 0x2000), 0x4000);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 0x4000, 0x4000), 0x4000);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 0x4000, 0x8000), 0x10000);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 1, 1), 0x1000);
	assert_int_equal(do_alloc(t, 0x1001, UINT64_MAX, 1, 2), 0x1002);
	assert_int_equal(do_alloc(t, 0x1001, UINT64_MAX, 0x1fff, 1), 0x1001);
	assert_int_equal(do_alloc(t, 0x1001, UINT64_MAX, 0x2000, 1), 0x4000);
}

/* Every other page mapped, then holes of other sizes. */
static void test_alloc_fragmented(void **state)
{
	struct iova_tree *t = *state;
	uint64_t i, iova;

	for (i = 0; i < 512; i++)
		do_insert(t, 2 * i * PAGE, (2 * i + 1) * PAGE - 1);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, PAGE), 1023 * PAGE);
	/* Unmapping page 100 joins the holes at 99 and 101. */
	do_remove(t, 200 * PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, PAGE), 199 * PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 3 * PAGE, PAGE), 199 * PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, 2 * PAGE), 200 * PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 4 * PAGE, PAGE), 1023 * PAGE);
	do_remove(t, 900 * PAGE);
	assert_int_equal(do_alloc(t, 201 * PAGE, UINT64_MAX, 2 * PAGE, PAGE), 899 * PAGE);

	/* Fill the single-page holes below the first large one, lowest first. */
	for (i = 0; i < 99; i++) {
		iova = do_alloc(t, 0, UINT64_MAX, PAGE, PAGE);
		assert_int_equal(iova, (2 * i + 1) * PAGE);
		do_insert(t, iova, iova + PAGE - 1);
	}
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), 199 * PAGE);
}

static void test_alloc_window(void **state)
{
	struct iova_tree *t = *state;

	/* Free: [0, 0xfff], [0x3000, 0x5fff], [0x8000, ...]. */
	do_insert(t, 0x1000, 0x2fff);
	do_insert(t, 0x6000, 0x7fff);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), 0);
	assert_int_equal(do_alloc(t, 0x800, UINT64_MAX, PAGE, PAGE), 0x3000);
	assert_int_equal(do_alloc(t, 0x800, UINT64_MAX, 0x800, 1), 0x800);
	/* Window cuts the hole at its start and at its end. */
	assert_int_equal(do_alloc(t, 0x3800, 0x57ff, 0x2000, 1), 0x3800);
	do_alloc_err(-ENOSPC, t, 0x3800, 0x57ff, 0x2001, 1);
	do_alloc_err(-ENOSPC, t, 0x3800, 0x57ff, 0x2000, PAGE);
	assert_int_equal(do_alloc(t, 0x3800, 0x57ff, PAGE, PAGE), 0x4000);
	/* Windows inside a mapping, or reaching only the tail. */
	do_alloc_err(-ENOSPC, t, 0x1000, 0x2fff, 1, 1);
	assert_int_equal(do_alloc(t, 0x6000, UINT64_MAX, PAGE, PAGE), 0x8000);
	assert_int_equal(do_alloc(t, 0x6000, 0x8fff, PAGE, PAGE), 0x8000);
	do_alloc_err(-ENOSPC, t, 0x6000, 0x8ffe, PAGE, PAGE);
	assert_int_equal(do_alloc(t, 0x2fff, 0x3000, 1, 1), 0x3000);
}

static void test_overlap_iter(void **state)
{
	struct iova_tree *t = *state;
	uint64_t s, l, seen[4];
	int n = 0;

	do_insert(t, 0x1000, 0x1fff);
	do_insert(t, 0x3000, 0x3fff);
	do_insert(t, 0x5000, 0x5fff);
	do_insert(t, 0x7000, 0x7fff);
	for (void *d = impl->first_overlap(t, 0x1fff, 0x5000, &s, &l); d && s <= 0x5000;
	     d = impl->next(t, s, &s, &l))
		seen[n++] = s;
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0x1000);
	assert_int_equal(seen[1], 0x3000);
	assert_int_equal(seen[2], 0x5000);
	assert_null(impl->first_overlap(t, 0x2000, 0x2fff, NULL, NULL));
	assert_null(impl->first_overlap(t, 0x8000, UINT64_MAX, NULL, NULL));
	assert_null(impl->first_overlap(t, 0x5000, 0x4000, NULL, NULL));
	assert_ptr_equal(impl->first_overlap(t, 0, UINT64_MAX, NULL, NULL), TAG(0x1000));
	assert_ptr_equal(impl->first_overlap(t, 0x2000, 0x3000, NULL, NULL), TAG(0x3000));
	assert_ptr_equal(impl->next(t, 0x2fff, NULL, NULL), TAG(0x3000));
	assert_ptr_equal(impl->next(t, 0x3000, NULL, NULL), TAG(0x5000));
}

static void test_remove_reinsert(void **state)
{
	struct iova_tree *t = *state;

	do_insert(t, 0x1000, 0x1fff);
	do_insert(t, 0x2000, 0x2fff);
	do_remove_err(-ENOENT, t, 0x1001);
	do_remove_err(-ENOENT, t, 0x3000);
	do_remove(t, 0x1000);
	do_remove_err(-ENOENT, t, 0x1000);
	assert_null(impl->find(t, 0x1000, NULL, NULL));
	assert_int_equal(do_alloc(t, 0x1000, UINT64_MAX, PAGE, PAGE), 0x1000);
	do_insert(t, 0x800, 0x1fff);
	assert_found(t, 0x1fff, 0x800, 0x1fff);
	do_remove(t, 0x2000);
	do_remove(t, 0x800);
	assert_int_equal(impl->count(t), 0);
	do_insert(t, 0x2000, 0x2fff);
	assert_int_equal(impl->count(t), 1);
}

/* The reference model: intervals sorted by start in an array, every query O(n). */
struct ref_iv {
	uint64_t start, last;
};

struct ref {
	struct ref_iv *iv;
	size_t n, cap;
};

static size_t ref_lower(const struct ref *r, uint64_t start)
{
	size_t i = 0;

	while (i < r->n && r->iv[i].start < start)
		i++;
	return i;
}

static int ref_insert(struct ref *r, uint64_t start, uint64_t last)
{
	size_t i;

	if (last < start)
		return -EINVAL;
	for (i = 0; i < r->n; i++)
		if (r->iv[i].start <= last && start <= r->iv[i].last)
			return -EEXIST;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->iv = realloc(r->iv, r->cap * sizeof(*r->iv));
		assert_non_null(r->iv);
	}
	i = ref_lower(r, start);
	memmove(&r->iv[i + 1], &r->iv[i], (r->n - i) * sizeof(*r->iv));
	r->iv[i] = (struct ref_iv){ start, last };
	r->n++;
	return 0;
}

static int ref_remove(struct ref *r, uint64_t start)
{
	size_t i = ref_lower(r, start);

	if (i == r->n || r->iv[i].start != start)
		return -ENOENT;
	memmove(&r->iv[i], &r->iv[i + 1], (r->n - i - 1) * sizeof(*r->iv));
	r->n--;
	return 0;
}

static const struct ref_iv *ref_find(const struct ref *r, uint64_t iova)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->iv[i].start <= iova && iova <= r->iv[i].last)
			return &r->iv[i];
	return NULL;
}

/* Written with 128-bit arithmetic, independently of the tree's overflow checks. */
static bool ref_fit(unsigned __int128 s, unsigned __int128 e, uint64_t lo, uint64_t hi,
		    uint64_t length, uint64_t align, uint64_t *iova)
{
	unsigned __int128 a;

	if (s < lo)
		s = lo;
	if (e > hi)
		e = hi;
	if (s > e)
		return false;
	a = (s + align - 1) / align * align;
	if (a + length - 1 > e)
		return false;
	*iova = (uint64_t)a;
	return true;
}

static int ref_alloc(const struct ref *r, uint64_t lo, uint64_t hi, uint64_t length,
		     uint64_t align, uint64_t *iova)
{
	unsigned __int128 free_start = 0;

	if (!length || !align || (align & (align - 1)))
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->iv[i].start > free_start &&
		    ref_fit(free_start, r->iv[i].start - 1, lo, hi, length, align, iova))
			return 0;
		free_start = (unsigned __int128)r->iv[i].last + 1;
	}
	if (free_start <= UINT64_MAX && ref_fit(free_start, UINT64_MAX, lo, hi, length, align, iova))
		return 0;
	return -ENOSPC;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Fixture variants: where in the 64-bit space the intervals live and their granularity. */
struct universe {
	const char *name;
	uint64_t base;	/* lowest address used */
	uint64_t slots;	/* addresses are base + k * unit, k < slots */
	uint64_t unit;
	uint64_t max_len;	/* in units */
	int grow;	/* insert-only steps first, to start from a tall tree */
	int steps;	/* mixed steps after that */
};

static const struct universe u_low = { "low bytes", 0, 1024, 1, 16, 0, 40000 };
static const struct universe u_pages = { "pages", 0x7f0000000000ULL, 4096, PAGE, 64, 0, 40000 };
static const struct universe u_top = { "top bytes", UINT64_MAX - 1023, 1024, 1, 16, 0, 40000 };
static const struct universe u_huge = { "huge ranges", 0, 64, 1ULL << 58, 8, 0, 20000 };
/* Thousands of intervals: two inner levels with 31 a node, then shrinking back. */
static const struct universe u_dense = { "dense pages", 1ULL << 32, 16384, PAGE, 3, 6000, 30000 };

static uint64_t uaddr(const struct universe *u, uint64_t k)
{
	return u->base + k * u->unit;
}

static uint64_t rand_len(const struct universe *u)
{
	return (1 + rng() % u->max_len) * u->unit;
}

static void check_same_alloc(struct iova_tree *t, const struct ref *r, uint64_t lo, uint64_t hi,
			     uint64_t length, uint64_t align)
{
	uint64_t got = 1, want = 2;
	int gerr = impl->alloc(t, lo, hi, length, align, &got);
	int werr = ref_alloc(r, lo, hi, length, align, &want);

	if (gerr != werr || (!gerr && got != want))
		fail_msg("alloc [%#llx, %#llx] len %#llx align %#llx: tree %d %#llx, model %d %#llx",
			 (unsigned long long)lo, (unsigned long long)hi,
			 (unsigned long long)length, (unsigned long long)align, gerr,
			 (unsigned long long)got, werr, (unsigned long long)want);
}

static void random_step(struct iova_tree *t, struct ref *r, const struct universe *u, bool grow)
{
	uint64_t k = rng() % u->slots, a = uaddr(u, k), s, l, len, align, lo, hi;
	const struct ref_iv *want;
	size_t i;
	void *d;

	switch (grow ? 0 : rng() % 8) {
	case 0:
	case 1: /* insert, often overlapping something, sometimes reaching the space's end */
		len = rand_len(u);
		l = a + len - 1 < a ? UINT64_MAX : a + len - 1;
		if (rng() % 16 == 0)
			l = a - 1;	/* last < start, or wraps */
		assert_int_equal(impl->insert(t, a, l, TAG(a)), ref_insert(r, a, l));
		break;
	case 2:
	case 3: /* remove an existing interval, or a start that is not one */
		if (r->n && rng() % 4)
			a = r->iv[rng() % r->n].start;
		assert_int_equal(impl->remove(t, a), ref_remove(r, a));
		break;
	case 4: /* find */
		a += rng() % u->unit;
		want = ref_find(r, a);
		d = impl->find(t, a, &s, &l);
		if (!want) {
			assert_null(d);
			break;
		}
		assert_ptr_equal(d, TAG(want->start));
		assert_int_equal(s, want->start);
		assert_int_equal(l, want->last);
		break;
	case 5: /* overlap iteration */
		len = rand_len(u) * 4;
		l = a + len - 1 < a ? UINT64_MAX : a + len - 1;
		i = 0;
		while (i < r->n && r->iv[i].last < a)
			i++;
		for (d = impl->first_overlap(t, a, l, &s, NULL); d && s <= l;
		     d = impl->next(t, s, &s, NULL), i++) {
			assert_true(i < r->n);
			assert_int_equal(s, r->iv[i].start);
		}
		assert_true(i == r->n || r->iv[i].start > l);
		break;
	default: /* alloc: random window, length and alignment */
		len = rng() % 4 ? rand_len(u) : 1 + rng() % (2 * u->unit);
		align = 1ULL << (rng() % 4 ? rng() % 13 : rng() % 64);
		if (rng() % 3 == 0) {
			lo = 0;
			hi = UINT64_MAX;
		} else {
			lo = uaddr(u, rng() % u->slots) + rng() % u->unit;
			hi = uaddr(u, rng() % u->slots) + rng() % u->unit;
			if (rng() % 8 == 0)
				hi = UINT64_MAX;
		}
		check_same_alloc(t, r, lo, hi, len, align);
		break;
	}
	assert_int_equal(impl->count(t), r->n);
	assert_int_equal(impl->validate(t), 0);
}

static void test_random_vs_model(void **state)
{
	const struct universe *u = *state;
	struct iova_tree *t = impl->tree_new();
	struct ref r = { 0 };

	assert_non_null(t);
	rng_state = 0x9e3779b97f4a7c15ULL ^ u->base ^ u->unit;
	for (int i = 0; i < u->grow; i++)
		random_step(t, &r, u, true);
	for (int i = 0; i < u->steps; i++)
		random_step(t, &r, u, false);
	/* Drain in random order: exercises every removal case down to the empty tree. */
	while (r.n) {
		uint64_t a = r.iv[rng() % r.n].start;

		assert_int_equal(impl->remove(t, a), ref_remove(&r, a));
		assert_int_equal(impl->validate(t), 0);
	}
	assert_int_equal(impl->count(t), 0);
	check_same_alloc(t, &r, 0, UINT64_MAX, UINT64_MAX, 1);
	free(r.iv);
	impl->tree_free(t);
}

/* Sequential fill and drain: the shapes that force the most rotations. */
static void test_sequential(void **state)
{
	struct iova_tree *t = *state;
	uint64_t i;

	for (i = 0; i < 2000; i++)
		do_insert(t, i * 2 * PAGE, i * 2 * PAGE + PAGE - 1);
	for (i = 2000; i-- > 0;)
		do_insert(t, (i * 2 + 1) * PAGE, (i * 2 + 2) * PAGE - 1);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), 4000 * PAGE);
	for (i = 0; i < 4000; i += 2)
		do_remove(t, i * PAGE);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), 0);
	for (i = 4000; i-- > 0;)
		if (i & 1)
			do_remove(t, i * PAGE);
	assert_int_equal(impl->count(t), 0);
}

/*
 * B+tree node boundaries. Sizes around the node capacity L: one leaf, the first leaf
 * split, several leaves, and 40 L (two inner levels with 31 a node, a dozen with 3).
 */
static uint64_t boundary_size(int k)
{
	const uint64_t sizes[] = { 1, 2, impl->leaf_max, impl->leaf_max + 1,
				   3 * impl->leaf_max, 40 * impl->leaf_max };

	return sizes[k];
}
#define NR_BOUNDARY_SIZES 6

/* Interval i is the page at 2i: a one-page hole after each. */
static uint64_t pg(uint64_t i)
{
	return 2 * i * PAGE;
}

/* Checks every interval, every hole and the order, across all leaves. */
static void check_pages(struct iova_tree *t, const bool *present, uint64_t n)
{
	uint64_t s = 0, l = 0, i, prev = UINT64_MAX;
	size_t count = 0;
	void *d;

	for (i = 0; i < n; i++) {
		if (present[i]) {
			assert_found(t, pg(i), pg(i), pg(i) + PAGE - 1);
			assert_found(t, pg(i) + PAGE - 1, pg(i), pg(i) + PAGE - 1);
			count++;
		} else {
			assert_null(impl->find(t, pg(i), NULL, NULL));
		}
		assert_null(impl->find(t, pg(i) + PAGE, NULL, NULL));
	}
	assert_int_equal(impl->count(t), count);
	/* Walk with next(): every present interval once, in order. */
	for (d = impl->first_overlap(t, 0, UINT64_MAX, &s, &l); d; d = impl->next(t, s, &s, &l)) {
		i = s / (2 * PAGE);
		assert_true(i < n && present[i]);
		assert_true(prev == UINT64_MAX || i > prev);
		assert_ptr_equal(d, TAG(s));
		prev = i;
		count--;
	}
	assert_int_equal(count, 0);
	/* Lowest free page: page 0 if interval 0 is absent, else the hole after it. */
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), present[0] ? PAGE : 0);
}

enum order { ASCENDING, DESCENDING, OUTSIDE_IN, STRIDED, NR_ORDERS };

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* The k-th of n positions in the given order; each visits every position once. */
static uint64_t order_pos(enum order o, uint64_t k, uint64_t n)
{
	uint64_t stride = 7;

	switch (o) {
	case ASCENDING:
		return k;
	case DESCENDING:
		return n - 1 - k;
	case OUTSIDE_IN:
		return k % 2 ? n - 1 - k / 2 : k / 2;
	default:
		while (gcd(stride, n) != 1)
			stride += 2;
		return k * stride % n;
	}
}

/* Every build order against every removal order, every size, checked after each step. */
static void test_node_boundaries(void **state)
{
	struct iova_tree *t = *state;

	for (int k = 0; k < NR_BOUNDARY_SIZES; k++) {
		uint64_t n = boundary_size(k);
		bool *present = calloc(n, sizeof(*present));

		assert_non_null(present);
		for (enum order in = 0; in < NR_ORDERS; in++) {
			enum order out = (in + 1 + k) % NR_ORDERS;

			for (uint64_t j = 0; j < n; j++) {
				uint64_t i = order_pos(in, j, n);

				do_insert(t, pg(i), pg(i) + PAGE - 1);
				present[i] = true;
				if (n < 100 || j % 97 == 0 || j == n - 1)
					check_pages(t, present, n);
			}
			do_insert_err(-EEXIST, t, pg(n / 2), pg(n / 2));
			do_insert_err(-EEXIST, t, pg(n / 2) + PAGE - 1, pg(n / 2) + PAGE);
			for (uint64_t j = 0; j < n; j++) {
				uint64_t i = order_pos(out, j, n);

				do_remove_err(-ENOENT, t, pg(i) + 1);
				do_remove(t, pg(i));
				present[i] = false;
				if (n < 100 || j % 97 == 0)
					check_pages(t, present, n);
			}
			assert_int_equal(impl->count(t), 0);
		}
		free(present);
	}
}

/*
 * Removals that thin every leaf below the minimum: three of every four intervals in
 * ascending order (the first leaves borrow from their full right siblings, later ones
 * merge), then the rest from the middle outwards, then from the front. The model checks
 * allocations after every step.
 */
static void test_remove_underflow(void **state)
{
	struct iova_tree *t = *state;
	uint64_t n = 40 * impl->leaf_max, i, mid;
	struct ref r = { 0 };

	for (i = 0; i < n; i++) {
		do_insert(t, i * PAGE, (i + 1) * PAGE - 1);
		assert_int_equal(ref_insert(&r, i * PAGE, (i + 1) * PAGE - 1), 0);
	}
	for (i = 0; i < n; i++) {
		if (i % 4 == 0)
			continue;
		do_remove(t, i * PAGE);
		assert_int_equal(ref_remove(&r, i * PAGE), 0);
		check_same_alloc(t, &r, 0, UINT64_MAX, PAGE, PAGE);
		check_same_alloc(t, &r, i * PAGE / 2, UINT64_MAX, 3 * PAGE, PAGE);
	}
	mid = n / 2 & ~3ULL;
	for (uint64_t k = 0; k <= n / 2; k += 4) {
		uint64_t a = k % 8 ? mid + k : mid - k;

		if (a >= n || ref_remove(&r, a * PAGE))
			continue;
		do_remove(t, a * PAGE);
		check_same_alloc(t, &r, 0, UINT64_MAX, 7 * PAGE, PAGE);
		check_same_alloc(t, &r, a * PAGE, (a + 16) * PAGE, PAGE, 2 * PAGE);
	}
	while (r.n) {
		uint64_t a = r.iv[0].start;

		do_remove(t, a);
		assert_int_equal(ref_remove(&r, a), 0);
		check_same_alloc(t, &r, 0, UINT64_MAX, 16 * PAGE, 16 * PAGE);
	}
	free(r.iv);
}

/*
 * n adjacent pages and one hole, at every position in turn: at a leaf boundary the hole
 * belongs to no leaf but to the inner node above (the range between two children).
 */
static void test_alloc_boundary_gaps(void **state)
{
	struct iova_tree *t = *state;
	uint64_t n = 40 * impl->leaf_max, i;

	for (i = 0; i < n; i++)
		do_insert(t, i * PAGE, (i + 1) * PAGE - 1);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), n * PAGE);
	for (i = 0; i < n; i++) {
		do_remove(t, i * PAGE);
		assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), i * PAGE);
		assert_int_equal(do_alloc(t, 0, UINT64_MAX, 1, 1), i * PAGE);
		assert_int_equal(do_alloc(t, i * PAGE + 1, UINT64_MAX, PAGE - 1, 1), i * PAGE + 1);
		/* Too small once the window cuts it, or needing two pages: the tail. */
		assert_int_equal(do_alloc(t, i * PAGE + 1, UINT64_MAX, PAGE, PAGE), n * PAGE);
		assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, 1),
				 i == n - 1 ? i * PAGE : n * PAGE);
		do_alloc_err(-ENOSPC, t, 0, (i + 1) * PAGE - 2, PAGE, 1);
		do_alloc_err(-ENOSPC, t, (i + 1) * PAGE, n * PAGE - 1, 1, 1);
		if (i + 1 < n) {
			/* Two pages across whatever boundary lies between i and i + 1. */
			do_remove(t, (i + 1) * PAGE);
			assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, 2 * PAGE),
					 i % 2 ? n * PAGE : i * PAGE);
			assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, PAGE), i * PAGE);
			do_insert(t, (i + 1) * PAGE, (i + 2) * PAGE - 1);
		}
		do_insert(t, i * PAGE, (i + 1) * PAGE - 1);
	}
}

/* A tree too large to validate at every step: many levels, checked at intervals. */
static void test_tall_tree(void **state)
{
	struct iova_tree *t = *state;
	const uint64_t n = 50000, stride = 7919;	/* a prime: visits every i once */
	uint64_t i, k;

	for (k = 0; k < n; k++) {
		i = k * stride % n;
		assert_int_equal(impl->insert(t, pg(i), pg(i) + PAGE - 1, TAG(pg(i))), 0);
		if (k % 4999 == 0)
			assert_int_equal(impl->validate(t), 0);
	}
	assert_int_equal(impl->validate(t), 0);
	assert_int_equal(impl->count(t), n);
	for (i = 0; i < n; i += 1009)
		assert_found(t, pg(i) + 5, pg(i), pg(i) + PAGE - 1);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, PAGE, PAGE), PAGE);
	/* The hole after the last interval runs into the free tail. */
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, 2 * PAGE, PAGE), pg(n) - PAGE);
	assert_int_equal(do_alloc(t, pg(n / 2), UINT64_MAX, PAGE, PAGE), pg(n / 2) + PAGE);
	/* Drain in another order; the removed half leaves three-page holes. */
	for (k = 0; k < n; k++) {
		i = (k * 104729 + 17) % n;
		assert_int_equal(impl->remove(t, pg(i)), 0);
		if (k % 4999 == 0) {
			assert_int_equal(impl->validate(t), 0);
			assert_int_equal(impl->count(t), n - k - 1);
		}
	}
	assert_int_equal(impl->count(t), 0);
	assert_int_equal(do_alloc(t, 0, UINT64_MAX, UINT64_MAX, 1), 0);
}

#define TREE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_tree, teardown_tree)
#define RANDOM_TEST(u) { .name = "test_random_vs_model/" #u, \
			.test_func = test_random_vs_model, .initial_state = (void *)&(u) }

int main(void)
{
	const struct CMUnitTest tests[] = {
		TREE_TEST(test_new_free),
		TREE_TEST(test_insert_invalid),
		TREE_TEST(test_adjacent),
		TREE_TEST(test_overlap),
		TREE_TEST(test_full_range),
		TREE_TEST(test_bounds),
		TREE_TEST(test_alloc_invalid),
		TREE_TEST(test_alloc_alignment),
		TREE_TEST(test_alloc_fragmented),
		TREE_TEST(test_alloc_window),
		TREE_TEST(test_overlap_iter),
		TREE_TEST(test_remove_reinsert),
		TREE_TEST(test_sequential),
		TREE_TEST(test_node_boundaries),
		TREE_TEST(test_remove_underflow),
		TREE_TEST(test_alloc_boundary_gaps),
		TREE_TEST(test_tall_tree),
		RANDOM_TEST(u_low),
		RANDOM_TEST(u_pages),
		RANDOM_TEST(u_top),
		RANDOM_TEST(u_huge),
		RANDOM_TEST(u_dense),
	};
	int failed;

	failed = cmocka_run_group_tests_name("iova_tree/31 a node", tests, setup_lib, NULL);
	failed += cmocka_run_group_tests_name("iova_tree/3 a node", tests, setup_small, NULL);
	return failed;
}
