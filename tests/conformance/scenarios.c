// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Conformance scenarios; see scenarios.h. Every expected errno is iommufd's (the comment
 * of the public call in include/ioasid/ioasid.h names the kernel function).
 *
 * Each scenario sets up a fixture like the selftests' iommufd_ioas/mock_domain: a context,
 * an IOAS and env->single bound and attached, base_iova inside the first usable range.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "scenarios.h"

void (*sc_on_call)(int ret);

static int sc_rec(int ret)
{
	if (sc_on_call)
		sc_on_call(ret);
	return ret;
}

/* Function-like macros do not expand recursively: the inner name is the real call. */
#define ioasid_ctx__new(...)		sc_rec(ioasid_ctx__new(__VA_ARGS__))
#define ioasid_ctx__account(...)	sc_rec(ioasid_ctx__account(__VA_ARGS__))
#define ioasid_device__bind(...)	sc_rec(ioasid_device__bind(__VA_ARGS__))
#define ioasid_device__unbind(...)	sc_rec(ioasid_device__unbind(__VA_ARGS__))
#define ioasid_device__attach(...)	sc_rec(ioasid_device__attach(__VA_ARGS__))
#define ioasid_device__detach(...)	sc_rec(ioasid_device__detach(__VA_ARGS__))
#define ioasid_ioas__alloc(...)		sc_rec(ioasid_ioas__alloc(__VA_ARGS__))
#define ioasid_ioas__destroy(...)	sc_rec(ioasid_ioas__destroy(__VA_ARGS__))
#define ioasid_ioas__map(...)		sc_rec(ioasid_ioas__map(__VA_ARGS__))
#define ioasid_ioas__unmap(...)		sc_rec(ioasid_ioas__unmap(__VA_ARGS__))
#define ioasid_ioas__unmap_all(...)	sc_rec(ioasid_ioas__unmap_all(__VA_ARGS__))
#define ioasid_ioas__copy(...)		sc_rec(ioasid_ioas__copy(__VA_ARGS__))
#define ioasid_ioas__iova_ranges(...)	sc_rec(ioasid_ioas__iova_ranges(__VA_ARGS__))
#define ioasid_ioas__allow_iovas(...)	sc_rec(ioasid_ioas__allow_iovas(__VA_ARGS__))

struct sc {
	struct sc_env *env;
	struct ioasid_ctx *ctx;
	uint32_t ioas;
	uint32_t dev;
	uint64_t base;			/* base IOVA, 2 MiB aligned, with 64 MiB free above */
};

static void sc_fail(struct sc *s, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sc_fail(struct sc *s, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->env->log, "scenarios.c:%d: ", line);
	va_start(ap, fmt);
	vfprintf(s->env->log, fmt, ap);
	va_end(ap);
	if (s->ctx && ioasid_ctx__last_error(s->ctx)->msg[0])
		fprintf(s->env->log, " (last error: %s)", ioasid_ctx__last_error(s->ctx)->msg);
	fputc('\n', s->env->log);
}

#define EXPECT(cond)								\
	do {									\
		if (!(cond)) {							\
			sc_fail(s, __LINE__, "expected %s", #cond);		\
			goto out;						\
		}								\
	} while (0)

#define EXPECT_OK(call)								\
	do {									\
		int _r = (call);						\
		if (_r) {							\
			sc_fail(s, __LINE__, "%s = %d (%s), expected 0", #call,	\
				_r, strerror(-_r));				\
			goto out;						\
		}								\
	} while (0)

#define EXPECT_ERR(e, call)							\
	do {									\
		int _r = (call);						\
		if (_r != -(e)) {						\
			sc_fail(s, __LINE__, "%s = %d (%s), expected -%s", #call, \
				_r, strerror(-_r), #e);				\
			goto out;						\
		}								\
	} while (0)

/* Helpers in threes: _do_x() returns the code, do_x() expects 0, do_x_err(e, ...) e. */
static int _do_map(struct sc *s, uint32_t ioas, uint64_t off, uint64_t len, uint64_t *iova,
		   uint32_t flags)
{
	return ioasid_ioas__map(s->ctx, ioas, s->env->buf + off, len, iova,
				flags | IOASID_MAP_READ | IOASID_MAP_WRITE);
}
#define do_map(ioas, off, len, iova, fl) EXPECT_OK(_do_map(s, ioas, off, len, iova, fl))
#define do_map_err(e, ioas, off, len, iova, fl) EXPECT_ERR(e, _do_map(s, ioas, off, len, iova, fl))

static int _do_map_fixed(struct sc *s, uint32_t ioas, uint64_t iova, uint64_t len)
{
	return _do_map(s, ioas, 0, len, &iova, IOASID_MAP_FIXED_IOVA);
}
#define do_map_fixed(iova, len) EXPECT_OK(_do_map_fixed(s, s->ioas, iova, len))
#define do_map_fixed_err(e, iova, len) EXPECT_ERR(e, _do_map_fixed(s, s->ioas, iova, len))

static int _do_unmap(struct sc *s, uint32_t ioas, uint64_t iova, uint64_t len,
		     uint64_t *unmapped)
{
	return ioasid_ioas__unmap(s->ctx, ioas, iova, len, unmapped);
}
#define do_unmap(iova, len) EXPECT_OK(_do_unmap(s, s->ioas, iova, len, NULL))
#define do_unmap_err(e, iova, len) EXPECT_ERR(e, _do_unmap(s, s->ioas, iova, len, NULL))

static int _do_bind(struct ioasid_ctx *ctx, const char *name, uint32_t *id)
{
	return ioasid_device__bind(ctx, name, id);
}
#define do_bind(ctx, name, id) EXPECT_OK(_do_bind(ctx, name, id))
#define do_bind_err(e, ctx, name, id) EXPECT_ERR(e, _do_bind(ctx, name, id))

static int _do_attach(struct ioasid_ctx *ctx, uint32_t dev, uint32_t ioas)
{
	return ioasid_device__attach(ctx, dev, ioas);
}
#define do_attach(ctx, dev, ioas) EXPECT_OK(_do_attach(ctx, dev, ioas))
#define do_attach_err(e, ctx, dev, ioas) EXPECT_ERR(e, _do_attach(ctx, dev, ioas))

static uint64_t pinned(struct ioasid_ctx *ctx)
{
	struct ioasid_account a = { .sz = sizeof(a) };

	return ioasid_ctx__account(ctx, &a) ? UINT64_MAX : a.pinned_pages;
}

/* Usable ranges of an IOAS: returns the count (up to 16 stored), or -1. */
static int ranges(struct sc *s, uint32_t ioas, struct ioasid_iova_range *r, uint64_t *align)
{
	uint32_t nr = 16;

	return ioasid_ioas__iova_ranges(s->ctx, ioas, r, &nr, align) ? -1 : (int)nr;
}

static int setup(struct sc *s, struct sc_env *env, const struct ioasid_ctx_opts *opts,
		 bool attach)
{
	struct ioasid_iova_range r[16];
	uint64_t base;
	int n, i;

	memset(s, 0, sizeof(*s));
	s->env = env;
	EXPECT_OK(ioasid_ctx__new(env->be, opts, &s->ctx));
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &s->ioas));
	if (attach) {
		do_bind(s->ctx, env->single, &s->dev);
		do_attach(s->ctx, s->dev, s->ioas);
	}
	n = ranges(s, s->ioas, r, NULL);
	EXPECT(n > 0);
	for (i = 0; i < n && i < 16; i++) {
		base = r[i].start < (1ULL << 21) ? 1ULL << 21 : (r[i].start + (1ULL << 21) - 1) & ~((1ULL << 21) - 1);
		if (base < r[i].last && r[i].last - base >= (64ULL << 20)) {
			s->base = base;
			return 0;
		}
	}
	sc_fail(s, __LINE__, "no usable range of 64 MiB");
out:
	return -1;
}

/*
 * The alignment an automatic IOVA of @len is guaranteed: its lowest set bit, capped at
 * max_alignment (iopt_alloc_iova(); PAGE_SIZE on kernels without transparent huge pages).
 */
static uint64_t auto_align(const struct sc *s, uint64_t len)
{
	uint64_t cap = s->env->max_alignment ? s->env->max_alignment : 2ULL << 20;

	return (len & -len) < cap ? (len & -len) : cap;
}

static void teardown(struct sc *s)
{
	ioasid_ctx__free(s->ctx);
	s->ctx = NULL;
}

#define P SC_PAGE

/* selftest "area": unmap of nothing, page-wise map/unmap. */
static int sc_area_map_unmap(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	int ret = -1, i;

	if (setup(s, env, NULL, true))
		goto out;
	for (i = 0; i < 10; i++)
		do_unmap_err(ENOENT, s->base + i * P, P);
	for (i = 0; i < 10; i++)
		do_map_fixed(s->base + i * P, P);
	for (i = 0; i < 10; i++)
		do_unmap(s->base + i * P, P);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "area": split and over-map refused; unmap-all. */
static int sc_split_refusal(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	uint64_t unmapped = 0;
	int ret = -1;

	if (setup(s, env, NULL, true))
		goto out;
	do_map_fixed(s->base + 16 * P, 2 * P);
	do_unmap_err(ENOENT, s->base + 16 * P, P);
	do_unmap_err(ENOENT, s->base + 17 * P, P);
	do_map_fixed_err(EEXIST, s->base + 16 * P, 2 * P);
	do_map_fixed_err(EEXIST, s->base + 16 * P, P);
	do_map_fixed_err(EEXIST, s->base + 17 * P, P);
	do_map_fixed_err(EEXIST, s->base + 15 * P, 2 * P);
	do_map_fixed_err(EEXIST, s->base + 15 * P, 3 * P);
	EXPECT_OK(ioasid_ioas__unmap(s->ctx, s->ioas, 0, UINT64_MAX, &unmapped));
	EXPECT(unmapped == 2 * P);
	EXPECT_OK(ioasid_ioas__unmap(s->ctx, s->ioas, 0, UINT64_MAX, &unmapped));
	EXPECT(unmapped == 0);
	EXPECT_OK(ioasid_ioas__unmap_all(s->ctx, s->ioas, &unmapped));
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "unmap_fully_contained_areas"; a failing unmap keeps what precedes it undone. */
static int sc_unmap_contained(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	uint64_t unmapped = 0, b;
	int ret = -1, i;

	if (setup(s, env, NULL, true))
		goto out;
	b = s->base + 4 * P;
	for (i = 0; i < 4; i++)
		do_map_fixed(b + i * 16 * P, 8 * P);
	do_unmap_err(ENOENT, b - 4 * P, 8 * P);
	do_unmap_err(ENOENT, b + 3 * 16 * P + 8 * P - 4 * P, 8 * P);
	EXPECT_OK(_do_unmap(s, s->ioas, b - 4 * P, 3 * 16 * P + 8 * P + 4 * P, &unmapped));
	EXPECT(unmapped == 32 * P);
	/* Two whole areas then a partial one: -ENOENT, and the first two are gone. */
	for (i = 0; i < 3; i++)
		do_map_fixed(b + i * 16 * P, 8 * P);
	EXPECT_ERR(ENOENT, _do_unmap(s, s->ioas, b, 2 * 16 * P + 4 * P, &unmapped));
	EXPECT(unmapped == 16 * P);
	do_unmap_err(ENOENT, b, 8 * P);
	do_unmap(b + 2 * 16 * P, 8 * P);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "area_auto_iova": automatic IOVAs are aligned to the length, never 0. */
static int sc_iova_alignment(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	uint64_t iovas[10], iova;
	int ret = -1, i;

	if (setup(s, env, NULL, true))
		goto out;
	for (i = 0; i < 10; i++) {
		uint64_t len = P * (i + 1);

		do_map(s->ioas, 0, len, &iovas[i], 0);
		EXPECT(iovas[i] != 0);
		EXPECT(iovas[i] % auto_align(s, len) == 0);
	}
	for (i = 0; i < 10; i++)
		do_unmap(iovas[i], P * (i + 1));
	/* With a domain the IOVA alignment is the IOMMU page: 4 KiB. */
	do_map_fixed_err(EINVAL, s->base + 1, P);
	do_map_fixed_err(EINVAL, s->base, P + 1);
	iova = s->base;
	EXPECT_ERR(EINVAL, _do_map(s, s->ioas, 8, P, &iova, IOASID_MAP_FIXED_IOVA));
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "iova_ranges": aperture minus reserved regions, narrowing on attach. */
static int sc_reserved_ranges(struct sc_env *env)
{
	struct ioasid_iova_range r[16], one;
	struct sc sc, *s = &sc;
	uint32_t fresh, nr;
	uint64_t align = 0, iova;
	int ret = -1, n, i;

	if (setup(s, env, NULL, true))
		goto out;
	n = ranges(s, s->ioas, r, &align);
	EXPECT(n >= 1);
	EXPECT(align == P);
	/* Too small a buffer: -EMSGSIZE and the count. */
	nr = 0;
	EXPECT_ERR(EMSGSIZE, ioasid_ioas__iova_ranges(s->ctx, s->ioas, NULL, &nr, NULL));
	EXPECT(nr == (uint32_t)n);
	if (n > 1) {
		nr = 1;
		EXPECT_ERR(EMSGSIZE, ioasid_ioas__iova_ranges(s->ctx, s->ioas, &one, &nr, NULL));
		EXPECT(one.start == r[0].start && one.last == r[0].last);
		/* A fixed map inside a reserved hole is -EINVAL (iopt_check_iova()). */
		do_map_fixed_err(EINVAL, r[0].last + 1, P);
		do_map_fixed_err(EINVAL, r[0].last + 1 - P, 2 * P);
	}
	if (r[n - 1].last != UINT64_MAX)
		do_map_fixed_err(EINVAL, r[n - 1].last + 1, P);	/* beyond the aperture */
	/* Automatic IOVAs stay inside the ranges. */
	for (i = 0; i < 8; i++) {
		int k;
		bool inside = false;

		do_map(s->ioas, 0, (i + 1) * P, &iova, 0);
		for (k = 0; k < n; k++)
			inside |= iova >= r[k].start && iova + (i + 1) * P - 1 <= r[k].last;
		EXPECT(inside);
	}
	/* A fresh IOAS has everything, alignment 1; attaching narrows it. */
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &fresh));
	EXPECT(ranges(s, fresh, r, &align) == 1);
	EXPECT(r[0].start == 0 && r[0].last == UINT64_MAX && align == 1);
	do_attach(s->ctx, s->dev, fresh);
	EXPECT(ranges(s, fresh, r, &align) == n);
	EXPECT(align == P);
	EXPECT_OK(ioasid_device__detach(s->ctx, s->dev));
	EXPECT(ranges(s, fresh, r, &align) == 1 && align == 1);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* A mapping made before attach where the device's domain cannot have it: -EADDRINUSE. */
static int sc_attach_conflicts(struct sc_env *env)
{
	struct ioasid_iova_range r[16];
	struct sc sc, *s = &sc;
	uint32_t other;
	int ret = -1, n;

	if (setup(s, env, NULL, true))
		goto out;
	n = ranges(s, s->ioas, r, NULL);
	EXPECT(n >= 1);
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &other));
	EXPECT_OK(ioasid_device__detach(s->ctx, s->dev));
	if (n > 1) {
		EXPECT_OK(_do_map_fixed(s, other, r[0].last + 1, P));	/* a reserved hole */
		do_attach_err(EADDRINUSE, s->ctx, s->dev, other);
		EXPECT_OK(ioasid_ioas__unmap_all(s->ctx, other, NULL));
	}
	if (r[n - 1].last != UINT64_MAX) {
		EXPECT_OK(_do_map_fixed(s, other, r[n - 1].last + 1, P));	/* past the aperture */
		do_attach_err(EADDRINUSE, s->ctx, s->dev, other);
		EXPECT_OK(ioasid_ioas__unmap_all(s->ctx, other, NULL));
	}
	/* Not page aligned: cannot take a 4 KiB IOMMU page size. */
	EXPECT_OK(_do_map_fixed(s, other, s->base + 512, P));
	do_attach_err(EADDRINUSE, s->ctx, s->dev, other);
	EXPECT_OK(ioasid_ioas__unmap_all(s->ctx, other, NULL));
	do_attach(s->ctx, s->dev, other);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "area_auto_iova"/"area_allowed": allowed ranges steer automatic IOVAs only. */
static int sc_allowed_ranges(struct sc_env *env)
{
	struct ioasid_iova_range allow, bad[2], r[16];
	struct sc sc, *s = &sc;
	uint64_t iova;
	int ret = -1, i, n;

	if (setup(s, env, NULL, true))
		goto out;
	allow.start = s->base + 200 * P;
	allow.last = s->base + 600 * P - 1;
	EXPECT_OK(ioasid_ioas__allow_iovas(s->ctx, s->ioas, &allow, 1));
	for (i = 0; i < 10; i++) {
		uint64_t len = (i + 1) * P;

		do_map(s->ioas, 0, len, &iova, 0);
		EXPECT(iova >= allow.start && iova + len - 1 <= allow.last);
		EXPECT(iova % auto_align(s, len) == 0);
	}
	/* Too big for the allowed range. */
	do_map_err(ENOSPC, s->ioas, 0, 512 * P, &iova, 0);
	/* Fixed IOVAs ignore allowed ranges (iopt_check_iova()). */
	do_map_fixed(s->base, P);
	bad[0] = (struct ioasid_iova_range){ s->base + P, s->base + P };
	EXPECT_ERR(EINVAL, ioasid_ioas__allow_iovas(s->ctx, s->ioas, bad, 1));
	bad[0] = (struct ioasid_iova_range){ s->base, s->base + 10 * P };
	bad[1] = (struct ioasid_iova_range){ s->base + 5 * P, s->base + 20 * P };
	EXPECT_ERR(EINVAL, ioasid_ioas__allow_iovas(s->ctx, s->ioas, bad, 2));
	n = ranges(s, s->ioas, r, NULL);
	if (n > 1) {
		bad[0] = (struct ioasid_iova_range){ r[0].last - P, r[0].last + P };
		EXPECT_ERR(EADDRINUSE, ioasid_ioas__allow_iovas(s->ctx, s->ioas, bad, 1));
	}
	EXPECT_OK(ioasid_ioas__allow_iovas(s->ctx, s->ioas, NULL, 0));
	do_map(s->ioas, 0, 512 * P, &iova, 0);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* selftest "copy_area": inside one IOAS and between two; the copy pins nothing new. */
static int sc_copy(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	uint32_t dst;
	uint64_t iova, before;
	int ret = -1;

	if (setup(s, env, NULL, true))
		goto out;
	do_map_fixed(s->base, 2 * P);
	before = pinned(s->ctx);
	EXPECT(before == 2);
	iova = s->base + 4 * P;
	EXPECT_OK(ioasid_ioas__copy(s->ctx, s->ioas, s->ioas, s->base, P, &iova,
				    IOASID_MAP_FIXED_IOVA | IOASID_MAP_WRITE));
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &dst));
	EXPECT_OK(ioasid_ioas__copy(s->ctx, dst, s->ioas, s->base, 2 * P, &iova,
				    IOASID_MAP_READ));
	EXPECT(iova != 0);
	EXPECT(pinned(s->ctx) == before);
	/* Source not (fully) mapped. */
	EXPECT_ERR(ENOENT, ioasid_ioas__copy(s->ctx, dst, s->ioas, s->base + 2 * P, P, &iova,
					     IOASID_MAP_READ));
	EXPECT_ERR(ENOENT, ioasid_ioas__copy(s->ctx, dst, s->ioas, s->base, 3 * P, &iova,
					     IOASID_MAP_READ));
	/* Destination taken. */
	iova = s->base;
	EXPECT_ERR(EEXIST, ioasid_ioas__copy(s->ctx, s->ioas, s->ioas, s->base, P, &iova,
					     IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	EXPECT_ERR(EINVAL, ioasid_ioas__copy(s->ctx, dst, s->ioas, s->base, 0, &iova,
					     IOASID_MAP_READ));
	/* The copy is its own mapping: unmapping the source leaves it. */
	do_unmap(s->base, 2 * P);
	EXPECT_OK(ioasid_ioas__unmap_all(s->ctx, dst, NULL));
	do_unmap(s->base + 4 * P, P);
	EXPECT(pinned(s->ctx) == 0);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* Lengths and addresses at the edges; the pin limit. */
static int sc_limits(struct sc_env *env)
{
	struct ioasid_ctx_opts opts = { .sz = sizeof(opts), .pin_limit_pages = 16 };
	struct sc sc, *s = &sc;
	uint64_t iova, top = UINT64_MAX - P + 1;
	int ret = -1;

	if (setup(s, env, &opts, true))
		goto out;
	do_map_fixed_err(EINVAL, s->base, 0);
	do_map_err(EINVAL, s->ioas, 0, 0, &iova, 0);
	do_unmap_err(EINVAL, s->base, 0);
	do_map_fixed_err(EOVERFLOW, s->base, UINT64_MAX);
	do_map_fixed_err(EOVERFLOW, UINT64_MAX, P);
	do_map_fixed_err(EOVERFLOW, top, 2 * P);
	do_unmap_err(EOVERFLOW, top, 2 * P);
	do_unmap_err(EOVERFLOW, UINT64_MAX, P);
	do_map_err(EOVERFLOW, s->ioas, 0, 1ULL << 63, &iova, 0);
	iova = s->base;
	EXPECT_ERR(EOVERFLOW, ioasid_ioas__map(s->ctx, s->ioas, top, 2 * P, &iova,
					       IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	EXPECT_ERR(EINVAL, ioasid_ioas__map(s->ctx, s->ioas, s->env->buf, P, &iova,
					    IOASID_MAP_FIXED_IOVA));
	EXPECT_ERR(EOPNOTSUPP, ioasid_ioas__map(s->ctx, s->ioas, s->env->buf, P, &iova,
						IOASID_MAP_READ | (1U << 7)));
	/* The pin limit: 16 pages fit, the 17th does not, unmap gives them back. */
	do_map_fixed(s->base, 16 * P);
	EXPECT(pinned(s->ctx) == 16);
	do_map_fixed_err(ENOMEM, s->base + 32 * P, P);
	EXPECT(pinned(s->ctx) == 16);
	do_unmap(s->base, 16 * P);
	EXPECT(pinned(s->ctx) == 0);
	do_map_fixed(s->base + 32 * P, P);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* Strict mode: no attach until every endpoint of the group is claimed by this owner. */
static int sc_attach_before_viable(struct sc_env *env)
{
	struct ioasid_ctx_opts opts = { .sz = sizeof(opts), .strict = true };
	struct sc sc, *s = &sc;
	uint32_t a, b, other;
	int ret = -1;

	if (setup(s, env, &opts, false))
		goto out;
	do_bind(s->ctx, env->pair[0], &a);
	do_attach_err(EPERM, s->ctx, a, s->ioas);
	do_bind(s->ctx, env->pair[1], &b);
	do_attach(s->ctx, a, s->ioas);
	/* One page table per group. */
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &other));
	do_attach_err(EINVAL, s->ctx, b, other);
	do_attach(s->ctx, b, s->ioas);
	/* Unbinding one makes the group not fully claimed again. */
	EXPECT_OK(ioasid_device__unbind(s->ctx, b));
	EXPECT_OK(ioasid_device__detach(s->ctx, a));
	do_attach_err(EPERM, s->ctx, a, s->ioas);
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* A group has one owner (iommu_device_claim_dma_owner(): -EPERM). */
static int sc_second_owner(struct sc_env *env)
{
	struct ioasid_ctx *other = NULL;
	struct sc sc, *s = &sc;
	uint32_t a, b;
	int ret = -1;

	if (setup(s, env, NULL, false))
		goto out;
	EXPECT_OK(ioasid_ctx__new(env->be, NULL, &other));
	do_bind(s->ctx, env->pair[0], &a);
	do_bind_err(EPERM, other, env->pair[1], &b);
	do_bind(other, env->single, &b);
	/* The same device, bound elsewhere: the device is taken before its group is. */
	do_bind_err(EINVAL, s->ctx, env->single, &b);
	/* Closing the owner releases the group. */
	ioasid_ctx__free(s->ctx);
	s->ctx = NULL;
	do_bind(other, env->pair[1], &b);
	do_bind(other, env->pair[0], &a);
	ret = 0;
out:
	ioasid_ctx__free(other);
	teardown(s);
	return ret;
}

/* One bind per device (vfio_df_open(): -EINVAL), in this context or another. */
static int sc_double_bind(struct sc_env *env)
{
	struct ioasid_ctx *other = NULL;
	struct sc sc, *s = &sc;
	uint32_t a, b;
	int ret = -1;

	if (setup(s, env, NULL, true))
		goto out;
	EXPECT_OK(ioasid_ctx__new(env->be, NULL, &other));
	do_bind_err(EINVAL, s->ctx, env->single, &a);
	do_bind_err(EINVAL, other, env->single, &b);
	do_bind_err(ENODEV, s->ctx, "ffff:ff:1f.7", &a);
	EXPECT_OK(ioasid_device__unbind(s->ctx, s->dev));
	do_bind(other, env->single, &b);
	ret = 0;
out:
	ioasid_ctx__free(other);
	teardown(s);
	return ret;
}

/* Destroyed objects are -ENOENT; an attached IOAS cannot be destroyed (-EBUSY). */
static int sc_use_after_destroy(struct sc_env *env)
{
	struct sc sc, *s = &sc;
	uint32_t gone;
	uint64_t iova = 0;
	int ret = -1;

	if (setup(s, env, NULL, true))
		goto out;
	EXPECT_ERR(EBUSY, ioasid_ioas__destroy(s->ctx, s->ioas));
	EXPECT_ERR(ENOENT, ioasid_ioas__destroy(s->ctx, s->dev));	/* a device id */
	EXPECT_ERR(ENOENT, ioasid_device__attach(s->ctx, s->ioas, s->ioas));
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &gone));
	do_map(gone, 0, P, &iova, 0);
	EXPECT_OK(ioasid_ioas__destroy(s->ctx, gone));
	do_map_err(ENOENT, gone, 0, P, &iova, 0);
	EXPECT_ERR(ENOENT, _do_unmap(s, gone, iova, P, NULL));
	EXPECT_ERR(ENOENT, ioasid_ioas__unmap_all(s->ctx, gone, NULL));
	EXPECT_ERR(ENOENT, ioasid_ioas__destroy(s->ctx, gone));
	do_attach_err(ENOENT, s->ctx, s->dev, gone);
	EXPECT_OK(ioasid_device__unbind(s->ctx, s->dev));
	EXPECT_ERR(ENOENT, ioasid_device__detach(s->ctx, s->dev));
	EXPECT_ERR(ENOENT, ioasid_device__unbind(s->ctx, s->dev));
	EXPECT_OK(ioasid_ioas__destroy(s->ctx, s->ioas));
	ret = 0;
out:
	teardown(s);
	return ret;
}

/* Pages pin while the IOAS has a domain; detach and close give everything back. */
static int sc_pin_account(struct sc_env *env)
{
	struct ioasid_account acct = { .sz = sizeof(acct) };
	struct sc sc, *s = &sc;
	uint32_t bare;
	uint64_t iova;
	int ret = -1;

	if (setup(s, env, NULL, true))
		goto out;
	do_map_fixed(s->base, 4 * P);
	EXPECT(pinned(s->ctx) == 4);
	EXPECT_OK(ioasid_ioas__alloc(s->ctx, &bare));
	do_map(bare, 0, 8 * P, &iova, 0);
	EXPECT(pinned(s->ctx) == 4);
	EXPECT_OK(ioasid_device__detach(s->ctx, s->dev));
	EXPECT(pinned(s->ctx) == 0);
	do_attach(s->ctx, s->dev, bare);
	EXPECT(pinned(s->ctx) == 8);
	do_attach(s->ctx, s->dev, s->ioas);	/* replace */
	EXPECT(pinned(s->ctx) == 4);
	EXPECT_OK(ioasid_ctx__account(s->ctx, &acct));
	EXPECT(acct.nr_devices == 1 && acct.nr_groups == 1 && acct.nr_ioas == 2);
	EXPECT(acct.nr_areas == 2 && acct.mapped_bytes == 12 * P);
	ret = 0;
out:
	teardown(s);
	return ret;
}

const struct sc_case sc_cases[] = {
	{ "area_map_unmap", sc_area_map_unmap },
	{ "split_refusal", sc_split_refusal },
	{ "unmap_contained", sc_unmap_contained },
	{ "iova_alignment", sc_iova_alignment },
	{ "reserved_ranges", sc_reserved_ranges },
	{ "attach_conflicts", sc_attach_conflicts },
	{ "allowed_ranges", sc_allowed_ranges },
	{ "copy", sc_copy },
	{ "limits", sc_limits },
	{ "attach_before_viable", sc_attach_before_viable },
	{ "second_owner", sc_second_owner },
	{ "double_bind", sc_double_bind },
	{ "use_after_destroy", sc_use_after_destroy },
	{ "pin_account", sc_pin_account },
};

const unsigned int sc_nr_cases = sizeof(sc_cases) / sizeof(sc_cases[0]);
