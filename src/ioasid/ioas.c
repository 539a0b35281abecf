// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * IOAS objects: IOVA allocation, map, unmap, copy, reserved and allowed ranges, and the
 * pinning that comes with a domain. The rules and their errnos are iommufd's; each check
 * names the kernel function it mirrors, all in drivers/iommu/iommufd/ (Linux 6.12):
 * ioas.c (ioctl entry points), io_pagetable.c (iopt_*), pages.c (iopt_alloc_pages()).
 *
 * ULONG_MAX of the kernel is UINT64_MAX here (64-bit hosts only).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid_private.h"

/* Data of the reserved spans in ioas->used and ioas->resv_spans (iova_tree data != NULL). */
static char resv_tag;
#define RESV_SPAN ((void *)&resv_tag)

static void ioas_destroy(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
static void ioas_account(const struct ioasid_obj *obj, struct ioasid_account *a);

static const struct ioasid_obj_ops ioas_obj_ops = {
	.type = IOASID_OBJ_IOAS,
	.free_pass = IOASID_FREE_UNATTACHED,
	.destroy = ioas_destroy,
	.account = ioas_account,
};

struct ioasid_ioas_obj *ioas_get(struct ioasid_ctx *ctx, uint32_t id)
{
	return (struct ioasid_ioas_obj *)ctx_obj_get(ctx, id, IOASID_OBJ_IOAS);
}

static bool has_domain(const struct ioasid_ioas_obj *ioas)
{
	return ioas->geo.pgsize_bitmap != 0;
}

static uint64_t roundup_pow_of_two(uint64_t x)
{
	return x <= 1 ? 1 : 1ULL << (64 - __builtin_clzll(x - 1));
}

/* First area (not reserved span) meeting [start, last], or NULL. */
static struct ioasid_area *area_first(const struct ioasid_ioas_obj *ioas, uint64_t start,
				      uint64_t last)
{
	uint64_t s, l;
	void *data;

	for (data = iova_tree_first_overlap(ioas->used, start, last, &s, &l); data && s <= last;
	     data = iova_tree_next(ioas->used, s, &s, &l))
		if (data != RESV_SPAN)
			return data;
	return NULL;
}

static bool allowed_meets(const struct ioasid_ioas_obj *ioas, uint64_t start, uint64_t last)
{
	size_t i;

	for (i = 0; i < ioas->nr_allowed; i++)
		if (ioas->allowed[i].start <= last && start <= ioas->allowed[i].last)
			return true;
	return false;
}

static bool resv_meets(const struct ioasid_ioas_obj *ioas, uint64_t start, uint64_t last)
{
	uint64_t s, l;

	return iova_tree_first_overlap(ioas->resv_spans, start, last, &s, &l) != NULL;
}

static int cmp_resv(const void *a, const void *b)
{
	const struct ioasid_resv_entry *ra = a, *rb = b;

	return ra->start < rb->start ? -1 : ra->start > rb->start;
}

/* Recomputes the union of the reserved entries into both trees. */
static int resv_rebuild(struct ioasid_ioas_obj *ioas)
{
	struct ioasid_resv_entry *sorted = NULL;
	uint64_t s, l, start, last;
	size_t i;
	int err = 0;

	while (iova_tree_first_overlap(ioas->resv_spans, 0, UINT64_MAX, &s, &l)) {
		iova_tree_remove(ioas->resv_spans, s);
		iova_tree_remove(ioas->used, s);
	}
	if (!ioas->nr_resv)
		return 0;
	sorted = malloc(ioas->nr_resv * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, ioas->resv, ioas->nr_resv * sizeof(*sorted));
	qsort(sorted, ioas->nr_resv, sizeof(*sorted), cmp_resv);
	for (i = 0; i < ioas->nr_resv && !err; ) {
		start = sorted[i].start;
		last = sorted[i].last;
		/* Overlapping and touching entries make one span (no hole between them). */
		for (i++; i < ioas->nr_resv && last != UINT64_MAX && sorted[i].start <= last + 1; i++)
			if (sorted[i].last > last)
				last = sorted[i].last;
		err = iova_tree_insert(ioas->resv_spans, start, last, RESV_SPAN);
		if (!err)
			err = iova_tree_insert(ioas->used, start, last, RESV_SPAN);
	}
	free(sorted);
	return err;
}

/* iopt_reserve_iova(): a reserved range may meet neither a mapping nor an allowed range. */
int ioas_resv_add(struct ioasid_ioas_obj *ioas, uint64_t start, uint64_t last, const void *owner)
{
	struct ioasid_resv_entry *r;
	int err;

	if (area_first(ioas, start, last) || allowed_meets(ioas, start, last))
		return -EADDRINUSE;
	r = reallocarray(ioas->resv, ioas->nr_resv + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ioas->resv = r;
	r[ioas->nr_resv++] = (struct ioasid_resv_entry){ start, last, owner };
	err = resv_rebuild(ioas);
	if (err) {
		ioas->nr_resv--;
		resv_rebuild(ioas);
	}
	return err;
}

void ioas_resv_remove(struct ioasid_ioas_obj *ioas, const void *owner)
{
	size_t i, o = 0;

	for (i = 0; i < ioas->nr_resv; i++)
		if (ioas->resv[i].owner != owner)
			ioas->resv[o++] = ioas->resv[i];
	if (o == ioas->nr_resv)
		return;
	ioas->nr_resv = o;
	/* Only removes spans and re-adds smaller ones: cannot run out of tree nodes. */
	resv_rebuild(ioas);
}

static void pages_put(struct ioasid_pages *p)
{
	if (!--p->refs)
		free(p);
}

static int area_pin(struct ioasid_ctx *ctx, struct ioasid_area *a)
{
	int err;

	if (a->pages->pin_users++)
		return 0;
	err = ctx_pin(ctx, a->pages->npages);
	if (err)
		a->pages->pin_users--;
	return err;
}

static void area_unpin(struct ioasid_ctx *ctx, struct ioasid_area *a)
{
	if (!--a->pages->pin_users)
		ctx_unpin(ctx, a->pages->npages);
}

#define for_each_area(ioas, a, s, l)							\
	for (void *_d = iova_tree_first_overlap((ioas)->used, 0, UINT64_MAX, &(s), &(l));	\
	     _d; _d = iova_tree_next((ioas)->used, (s), &(s), &(l)))			\
		if (_d == RESV_SPAN || !((a) = _d)) {} else

/* iopt_check_iova_alignment(): every area conforms to a larger alignment. */
static bool areas_aligned(const struct ioasid_ioas_obj *ioas, uint64_t align)
{
	struct ioasid_area *a;
	uint64_t s, l;

	for_each_area(ioas, a, s, l)
		if ((a->iova | a->length | (a->start_byte % IOASID_PAGE_SIZE)) & (align - 1))
			return false;
	return true;
}

/* iopt_table_add_domain() then iopt_fill_domain() (which pins). */
int ioas_domain_add(struct ioasid_ioas_obj *ioas, const struct ioasid_geometry *geo)
{
	struct ioasid_ctx *ctx = ioas->ctx;
	struct ioasid_area *a, *failed = NULL;
	uint64_t align, s, l;
	int err = 0;

	if (!geo->pgsize_bitmap)
		return -EINVAL;
	align = 1ULL << __builtin_ctzll(geo->pgsize_bitmap);
	if (align < ioas->iova_alignment)
		align = ioas->iova_alignment;
	if (align > IOASID_PAGE_SIZE)
		return -EINVAL;
	if (align != ioas->iova_alignment && !areas_aligned(ioas, align))
		return -EADDRINUSE;
	if (geo->aperture_start != 0)
		err = ioas_resv_add(ioas, 0, geo->aperture_start - 1, ioas);
	if (!err && geo->aperture_last != UINT64_MAX)
		err = ioas_resv_add(ioas, geo->aperture_last + 1, UINT64_MAX, ioas);
	if (err)
		goto err_resv;
	for_each_area(ioas, a, s, l) {
		err = area_pin(ctx, a);
		if (err) {
			failed = a;
			break;
		}
	}
	if (err) {
		for_each_area(ioas, a, s, l) {
			if (a == failed)
				break;
			area_unpin(ctx, a);
		}
		goto err_resv;
	}
	ioas->iova_alignment = align;
	ioas->geo = *geo;
	return 0;
err_resv:
	ioas_resv_remove(ioas, ioas);
	return err;
}

/* iopt_table_remove_domain(): unpin, drop the aperture, alignment back to 1. */
void ioas_domain_remove(struct ioasid_ioas_obj *ioas)
{
	struct ioasid_area *a;
	uint64_t s, l;

	for_each_area(ioas, a, s, l)
		area_unpin(ioas->ctx, a);
	ioas_resv_remove(ioas, ioas);
	memset(&ioas->geo, 0, sizeof(ioas->geo));
	ioas->iova_alignment = 1;
}

int ioasid_ioas__alloc(struct ioasid_ctx *ctx, uint32_t *ioas_id)
{
	struct ioasid_ioas_obj *ioas;
	int err = -ENOMEM;

	if (!ctx || !ioas_id)
		return ioasid_err(-EINVAL);
	ioas = calloc(1, sizeof(*ioas));
	if (!ioas)
		goto err_msg;
	ioas->ctx = ctx;
	ioas->iova_alignment = 1;	/* iopt_init_table() */
	ioas->used = iova_tree_new();
	ioas->resv_spans = iova_tree_new();
	if (!ioas->used || !ioas->resv_spans)
		goto err_free;
	err = ctx_obj_add(ctx, &ioas->obj, &ioas_obj_ops);
	if (err)
		goto err_free;
	err = ctx->be->ops->ioas_alloc(ctx, ioas);
	if (err)
		goto err_remove;
	*ioas_id = ioas->obj.id;
	return 0;
err_remove:
	ctx_obj_remove(ctx, &ioas->obj);
err_free:
	iova_tree_free(ioas->used);
	iova_tree_free(ioas->resv_spans);
	free(ioas);
err_msg:
	return ctx_fail(ctx, err, "IOAS alloc: %s", strerror(-err));
}

static void area_free(struct ioasid_ioas_obj *ioas, struct ioasid_area *a)
{
	iova_tree_remove(ioas->used, a->iova);
	if (has_domain(ioas))
		area_unpin(ioas->ctx, a);
	ioas->nr_areas--;
	ioas->mapped_bytes -= a->length;
	pages_put(a->pages);
	free(a);
}

/*
 * iopt_unmap_iova_range(): areas in [start, last] go in IOVA order; one only partly
 * inside is -ENOENT, and those before it stay unmapped.
 */
static int unmap_range(struct ioasid_ioas_obj *ioas, uint64_t start, uint64_t last,
		       uint64_t *unmapped)
{
	struct ioasid_ctx *ctx = ioas->ctx;
	uint64_t done = 0, area_last;
	struct ioasid_area *a;
	int err = 0;

	while ((a = area_first(ioas, start, last))) {
		area_last = a->iova + a->length - 1;
		if (a->iova < start || area_last > last) {
			err = -ENOENT;
			break;
		}
		err = ctx->be->ops->unmap(ctx, ioas, a->iova, a->length);
		if (err)
			break;
		done += a->length;
		area_free(ioas, a);
		if (area_last >= last)
			break;
		start = area_last + 1;
	}
	if (unmapped)
		*unmapped = done;
	return err;
}

static void ioas_obj_destroy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	struct ioasid_area *a;
	uint64_t s, l;

	/* iommufd_ioas_destroy(): iopt_unmap_all(); a failing raw unmap cannot stop it. */
	for_each_area(ioas, a, s, l) {
		ctx->be->ops->unmap(ctx, ioas, a->iova, a->length);
		area_free(ioas, a);
	}
	ctx->be->ops->ioas_destroy(ctx, ioas);
	ctx_obj_remove(ctx, &ioas->obj);
	iova_tree_free(ioas->used);
	iova_tree_free(ioas->resv_spans);
	free(ioas->resv);
	free(ioas->allowed);
	free(ioas);
}

static void ioas_destroy(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	ioas_obj_destroy(ctx, (struct ioasid_ioas_obj *)obj);
}

static void ioas_account(const struct ioasid_obj *obj, struct ioasid_account *a)
{
	const struct ioasid_ioas_obj *ioas = (const struct ioasid_ioas_obj *)obj;

	a->nr_ioas++;
	a->nr_areas += ioas->nr_areas;
	a->mapped_bytes += ioas->mapped_bytes;
}

int ioasid_ioas__destroy(struct ioasid_ctx *ctx, uint32_t ioas_id)
{
	struct ioasid_ioas_obj *ioas;

	if (!ctx)
		return ioasid_err(-EINVAL);
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "IOAS destroy: no IOAS with id %u", ioas_id);
	/* iommufd_object_remove(): refcount_dec_if_one() fails while hwpts hold users. */
	if (ioas->nr_attached)
		return ctx_fail(ctx, -EBUSY, "IOAS destroy %u: %u device(s) attached", ioas_id,
				ioas->nr_attached);
	ioas_obj_destroy(ctx, ioas);
	return 0;
}

/* Try one hole [start, last] as __alloc_iova_check_range() does. */
static bool fit_hole(uint64_t start, uint64_t last, uint64_t length, uint64_t align,
		     uint64_t page_offset, uint64_t *iova)
{
	uint64_t aligned;

	if (__builtin_add_overflow(start, align - 1, &aligned))
		return false;
	aligned &= ~(align - 1);
	aligned |= page_offset;
	if (aligned >= last || last - aligned < length - 1)
		return false;
	*iova = aligned;
	return true;
}

/* Linear walk of the holes in [lo, hi]; only for user addresses that are not page aligned. */
static int alloc_linear(const struct ioasid_ioas_obj *ioas, uint64_t lo, uint64_t hi,
			uint64_t length, uint64_t align, uint64_t page_offset, uint64_t *iova)
{
	uint64_t cur = lo, s, l;
	void *data;

	for (data = iova_tree_first_overlap(ioas->used, lo, hi, &s, &l); data && s <= hi;
	     data = iova_tree_next(ioas->used, s, &s, &l)) {
		if (s > cur && fit_hole(cur, s - 1, length, align, page_offset, iova))
			return 0;
		if (l >= hi)
			return -ENOSPC;
		if (l + 1 > cur)
			cur = l + 1;
	}
	return fit_hole(cur, hi, length, align, page_offset, iova) ? 0 : -ENOSPC;
}

/*
 * iopt_alloc_iova(): lowest IOVA in the allowed spans (or [PAGE_SIZE, ULONG_MAX -
 * PAGE_SIZE]) outside reserved spans and areas, aligned to the length rounded up to a
 * power of two, capped by the alignment of uptr and by HPAGE_SIZE; never 0.
 */
static int alloc_iova(const struct ioasid_ioas_obj *ioas, uint64_t uptr, uint64_t length,
		      uint64_t max_alignment, uint64_t *iova)
{
	const uint64_t lo_all = IOASID_PAGE_SIZE, hi_all = UINT64_MAX - IOASID_PAGE_SIZE;
	uint64_t page_offset = uptr % IOASID_PAGE_SIZE, align, lo, hi;
	size_t i, n;
	int err;

	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (uptr && align > (1ULL << __builtin_ctzll(uptr)))
		align = 1ULL << __builtin_ctzll(uptr);
	if (align >= max_alignment)
		align = max_alignment;
	if (align < ioas->iova_alignment)
		return -EINVAL;

	n = ioas->nr_allowed ? ioas->nr_allowed : 1;
	for (i = 0; i < n; i++) {
		lo = ioas->nr_allowed ? ioas->allowed[i].start : lo_all;
		hi = ioas->nr_allowed ? ioas->allowed[i].last : hi_all;
		if (lo < lo_all)
			lo = lo_all;
		if (hi > hi_all)
			hi = hi_all;
		if (lo > hi)
			continue;
		if (page_offset)
			err = alloc_linear(ioas, lo, hi, length, align, page_offset, iova);
		else
			err = iova_tree_alloc(ioas->used, lo, hi, length, align, iova);
		if (err != -ENOSPC)
			return err;
	}
	return -ENOSPC;
}

/* iopt_check_iova(): fixed IOVA; only reserved spans and areas matter, not allowed ranges. */
static int check_iova(const struct ioasid_ioas_obj *ioas, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (ioas->iova_alignment - 1))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (resv_meets(ioas, iova, last))
		return -EINVAL;
	if (area_first(ioas, iova, last))
		return -EEXIST;
	return 0;
}

/* One contiguous piece of user memory to map (struct iopt_pages_list). */
struct piece {
	struct ioasid_pages *pages;
	uint64_t start_byte;
	uint64_t length;
	struct ioasid_area *area;
};

static uint64_t piece_uva(const struct piece *p)
{
	return p->pages->uptr + p->start_byte;
}

/*
 * iopt_alloc_area_pages()'s checks: the length, the IOVA (@iova when fixed, else one
 * allocated into @iova), and each piece's write permission and alignment.
 */
static int place_pieces(struct ioasid_ioas_obj *ioas, const struct piece *pieces, size_t n,
			uint64_t length, uint64_t *iova, uint32_t flags)
{
	struct ioasid_ctx *ctx = ioas->ctx;
	uint64_t dst;
	size_t i;
	int err;

	if ((length & (ioas->iova_alignment - 1)) || !length)
		return -EINVAL;
	if (flags & IOASID_MAP_FIXED_IOVA)
		err = check_iova(ioas, *iova, length);
	else
		err = alloc_iova(ioas, piece_uva(&pieces[0]), length, ctx->be->opts.max_alignment,
				 &dst);
	if (err)
		return err;
	if (!(flags & IOASID_MAP_FIXED_IOVA))
		*iova = dst;
	for (i = 0; i < n; i++) {
		if ((flags & IOASID_MAP_WRITE) && !pieces[i].pages->writable)
			return -EPERM;
		if ((pieces[i].start_byte % IOASID_PAGE_SIZE) & (ioas->iova_alignment - 1))
			return -EINVAL;
	}
	return 0;
}

/*
 * The backend's own operation on the placed pieces: one copy from @copy_src where the
 * backend has it, else a map per piece, the ones done unmapped again when one fails.
 */
static int map_raw(struct ioasid_ioas_obj *ioas, const struct piece *pieces, size_t n,
		   uint64_t dst, uint64_t length, uint32_t prot,
		   struct ioasid_ioas_obj *copy_src, uint64_t copy_src_iova)
{
	struct ioasid_ctx *ctx = ioas->ctx;
	size_t i;
	int err;

	if (copy_src && ctx->be->ops->copy)
		return ctx->be->ops->copy(ctx, ioas, dst, copy_src, copy_src_iova, length, prot);
	for (i = 0; i < n; i++) {
		err = ctx->be->ops->map(ctx, ioas, pieces[i].area->iova, piece_uva(&pieces[i]),
					pieces[i].length, prot);
		if (err) {
			while (i--)
				ctx->be->ops->unmap(ctx, ioas, pieces[i].area->iova,
						    pieces[i].length);
			return err;
		}
	}
	return 0;
}

/*
 * iopt_map_pages(): iopt_alloc_area_pages() (checks, IOVA), iopt_insert_area() per piece,
 * then pins when a domain exists (iopt_fill_domains_pages()), then the raw operation.
 * On failure nothing is left behind. Takes a reference on each piece's pages.
 */
static int map_pieces(struct ioasid_ioas_obj *ioas, struct piece *pieces, size_t n,
		      uint64_t length, uint64_t *iova, uint32_t flags,
		      struct ioasid_ioas_obj *copy_src, uint64_t copy_src_iova)
{
	struct ioasid_ctx *ctx = ioas->ctx;
	uint32_t prot = flags & (IOASID_MAP_READ | IOASID_MAP_WRITE);
	uint64_t at, dst;
	size_t i, pinned = 0, inserted = 0;
	int err;

	err = place_pieces(ioas, pieces, n, length, iova, flags);
	if (err)
		return err;
	dst = *iova;
	for (i = 0; i < n; i++) {
		pieces[i].area = calloc(1, sizeof(*pieces[i].area));
		if (!pieces[i].area) {
			err = -ENOMEM;
			goto err_free;
		}
	}
	for (at = dst, i = 0; i < n; at += pieces[i].length, i++) {
		struct ioasid_area *a = pieces[i].area;

		a->iova = at;
		a->length = pieces[i].length;
		a->pages = pieces[i].pages;
		a->start_byte = pieces[i].start_byte;
		a->prot = prot;
		err = iova_tree_insert(ioas->used, a->iova, a->iova + a->length - 1, a);
		if (err)
			goto err_remove;
		a->pages->refs++;
		inserted++;
	}
	if (has_domain(ioas)) {
		for (i = 0; i < n; i++, pinned++) {
			err = area_pin(ctx, pieces[i].area);
			if (err)
				goto err_remove;
		}
	}
	err = map_raw(ioas, pieces, n, dst, length, prot, copy_src, copy_src_iova);
	if (err)
		goto err_remove;
	ioas->nr_areas += n;
	ioas->mapped_bytes += length;
	return 0;

err_remove:
	for (i = 0; i < pinned; i++)
		area_unpin(ctx, pieces[i].area);
	for (i = 0; i < inserted; i++) {
		iova_tree_remove(ioas->used, pieces[i].area->iova);
		pieces[i].pages->refs--;
	}
err_free:
	for (i = 0; i < n; i++) {
		free(pieces[i].area);
		pieces[i].area = NULL;
	}
	return err;
}

#define MAP_FLAGS (IOASID_MAP_FIXED_IOVA | IOASID_MAP_WRITE | IOASID_MAP_READ)

static const char *map_cause(int err)
{
	switch (err) {
	case -EEXIST:
		return "the range overlaps an existing mapping";
	case -ENOSPC:
		return "no free IOVA range of that size and alignment";
	case -ENOMEM:
		return "pinning would exceed the limit, or out of memory";
	default:
		return strerror(-err);
	}
}

int ioasid_ioas__map(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t user_va,
		     uint64_t length, uint64_t *iova, uint32_t flags)
{
	struct ioasid_ioas_obj *ioas;
	struct ioasid_pages *pages;
	struct piece piece;
	uint64_t end;
	int err;

	if (!ctx || !iova)
		return ioasid_err(-EINVAL);
	/* iommufd_ioas_map() */
	if (flags & ~MAP_FLAGS)
		return ctx_fail(ctx, -EOPNOTSUPP, "map: unknown flags 0x%x", flags & ~MAP_FLAGS);
	if (((flags & IOASID_MAP_FIXED_IOVA) && *iova >= UINT64_MAX) || length >= UINT64_MAX)
		return ctx_fail(ctx, -EOVERFLOW, "map: IOVA or length out of range");
	if (!(flags & (IOASID_MAP_READ | IOASID_MAP_WRITE)))
		return ctx_fail(ctx, -EINVAL, "map: neither READ nor WRITE requested");
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "map: no IOAS with id %u", ioas_id);
	/* iopt_alloc_pages() */
	if (length == 0 || length > UINT64_MAX - IOASID_PAGE_SIZE)
		return ctx_fail(ctx, -EINVAL, "map: length %llu is %s", (unsigned long long)length,
				length ? "too large" : "zero");
	if (__builtin_add_overflow(user_va, length, &end))
		return ctx_fail(ctx, -EOVERFLOW, "map: user address + length overflows");
	pages = calloc(1, sizeof(*pages));
	if (!pages)
		return ctx_fail(ctx, -ENOMEM, "map: %s", strerror(ENOMEM));
	pages->uptr = user_va & ~(IOASID_PAGE_SIZE - 1);
	pages->npages = (length + (user_va - pages->uptr) + IOASID_PAGE_SIZE - 1) / IOASID_PAGE_SIZE;
	pages->writable = flags & IOASID_MAP_WRITE;
	piece = (struct piece){ .pages = pages, .start_byte = user_va - pages->uptr, .length = length };

	err = map_pieces(ioas, &piece, 1, length, iova, flags, NULL, 0);
	if (!pages->refs)
		free(pages);
	if (err)
		return ctx_fail(ctx, err, "map IOAS %u: %s", ioas_id, map_cause(err));
	return 0;
}

int ioasid_ioas__unmap(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped)
{
	struct ioasid_ioas_obj *ioas;
	uint64_t last, done = 0;
	int err;

	if (unmapped)
		*unmapped = 0;
	if (!ctx)
		return ioasid_err(-EINVAL);
	/* iommufd_ioas_unmap() */
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "unmap: no IOAS with id %u", ioas_id);
	if (iova == 0 && length == UINT64_MAX)
		return ioasid_ioas__unmap_all(ctx, ioas_id, unmapped);
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return ctx_fail(ctx, -EOVERFLOW, "unmap: IOVA or length out of range");
	/* iopt_unmap_iova() */
	if (!length)
		return ctx_fail(ctx, -EINVAL, "unmap: zero length");
	if (__builtin_add_overflow(iova, length - 1, &last))
		return ctx_fail(ctx, -EOVERFLOW, "unmap: IOVA + length overflows");
	err = unmap_range(ioas, iova, last, &done);
	if (unmapped)
		*unmapped = done;
	if (err == -ENOENT)
		return ctx_fail(ctx, err,
				"unmap IOAS %u 0x%llx-0x%llx: a mapping is only partly covered; mappings are never split",
				ioas_id, (unsigned long long)iova, (unsigned long long)last);
	if (err)
		return ctx_fail(ctx, err, "unmap IOAS %u: %s", ioas_id, strerror(-err));
	if (!done)
		return ctx_fail(ctx, -ENOENT, "unmap IOAS %u 0x%llx-0x%llx: nothing is mapped there",
				ioas_id, (unsigned long long)iova, (unsigned long long)last);
	return 0;
}

int ioasid_ioas__unmap_all(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t *unmapped)
{
	struct ioasid_ioas_obj *ioas;
	int err;

	if (unmapped)
		*unmapped = 0;
	if (!ctx)
		return ioasid_err(-EINVAL);
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "unmap: no IOAS with id %u", ioas_id);
	/* iopt_unmap_all(): succeeds on an empty IOAS */
	err = unmap_range(ioas, 0, UINT64_MAX, unmapped);
	if (err)
		return ctx_fail(ctx, err, "unmap all IOAS %u: %s", ioas_id, strerror(-err));
	return 0;
}

/* iopt_get_pages(): the source range must be covered by areas that follow each other. */
static int get_pieces(struct ioasid_ioas_obj *src, uint64_t iova, uint64_t length,
		      struct piece **out, size_t *nr)
{
	struct piece *pieces = NULL, *np;
	uint64_t last, cur = iova, s, l;
	struct ioasid_area *a;
	size_t n = 0;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	for (;;) {
		a = iova_tree_find(src->used, cur, &s, &l);
		if (!a || (void *)a == RESV_SPAN || (n && s != cur)) {
			free(pieces);
			return -ENOENT;
		}
		np = reallocarray(pieces, n + 1, sizeof(*np));
		if (!np) {
			free(pieces);
			return -ENOMEM;
		}
		pieces = np;
		pieces[n++] = (struct piece){
			.pages = a->pages,
			.start_byte = a->start_byte + (cur - a->iova),
			.length = (l < last ? l : last) - cur + 1,
		};
		if (l >= last)
			break;
		cur = l + 1;
	}
	*out = pieces;
	*nr = n;
	return 0;
}

int ioasid_ioas__copy(struct ioasid_ctx *ctx, uint32_t dst_ioas_id, uint32_t src_ioas_id,
		      uint64_t src_iova, uint64_t length, uint64_t *dst_iova, uint32_t flags)
{
	struct ioasid_ioas_obj *src, *dst;
	struct piece *pieces = NULL;
	size_t nr = 0;
	int err;

	if (!ctx || !dst_iova)
		return ioasid_err(-EINVAL);
	/* iommufd_ioas_copy() */
	if (flags & ~MAP_FLAGS)
		return ctx_fail(ctx, -EOPNOTSUPP, "copy: unknown flags 0x%x", flags & ~MAP_FLAGS);
	if (length >= UINT64_MAX || src_iova >= UINT64_MAX ||
	    ((flags & IOASID_MAP_FIXED_IOVA) && *dst_iova >= UINT64_MAX))
		return ctx_fail(ctx, -EOVERFLOW, "copy: IOVA or length out of range");
	if (!(flags & (IOASID_MAP_READ | IOASID_MAP_WRITE)))
		return ctx_fail(ctx, -EINVAL, "copy: neither READ nor WRITE requested");
	src = ioas_get(ctx, src_ioas_id);
	if (!src)
		return ctx_fail(ctx, -ENOENT, "copy: no IOAS with id %u", src_ioas_id);
	err = get_pieces(src, src_iova, length, &pieces, &nr);
	if (err)
		return ctx_fail(ctx, err, "copy from IOAS %u at 0x%llx: %s", src_ioas_id,
				(unsigned long long)src_iova,
				err == -ENOENT ? "the range is not fully mapped" : strerror(-err));
	dst = ioas_get(ctx, dst_ioas_id);
	if (!dst) {
		free(pieces);
		return ctx_fail(ctx, -ENOENT, "copy: no IOAS with id %u", dst_ioas_id);
	}
	err = map_pieces(dst, pieces, nr, length, dst_iova, flags, src, src_iova);
	free(pieces);
	if (err)
		return ctx_fail(ctx, err, "copy into IOAS %u: %s", dst_ioas_id, map_cause(err));
	return 0;
}

int ioasid_ioas__iova_ranges(struct ioasid_ctx *ctx, uint32_t ioas_id,
			     struct ioasid_iova_range *ranges, uint32_t *nr, uint64_t *alignment)
{
	struct ioasid_ioas_obj *ioas;
	uint64_t cur = 0, s, l;
	uint32_t n = 0;
	bool end = false;
	void *data;

	if (!ctx || !nr || (*nr && !ranges))
		return ioasid_err(-EINVAL);
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "IOVA ranges: no IOAS with id %u", ioas_id);
	/* iommufd_ioas_iova_ranges(): the holes between reserved spans */
	for (data = iova_tree_first_overlap(ioas->resv_spans, 0, UINT64_MAX, &s, &l); data;
	     data = iova_tree_next(ioas->resv_spans, s, &s, &l)) {
		if (s > cur) {
			if (n < *nr)
				ranges[n] = (struct ioasid_iova_range){ cur, s - 1 };
			n++;
		}
		if (l == UINT64_MAX) {
			end = true;
			break;
		}
		cur = l + 1;
	}
	if (!end) {
		if (n < *nr)
			ranges[n] = (struct ioasid_iova_range){ cur, UINT64_MAX };
		n++;
	}
	if (alignment)
		*alignment = ioas->iova_alignment;
	if (n > *nr) {
		*nr = n;
		return ctx_fail(ctx, -EMSGSIZE, "IOVA ranges: %u ranges, room for fewer", n);
	}
	*nr = n;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct ioasid_iova_range *ra = a, *rb = b;

	return ra->start < rb->start ? -1 : ra->start > rb->start;
}

int ioasid_ioas__allow_iovas(struct ioasid_ctx *ctx, uint32_t ioas_id,
			     const struct ioasid_iova_range *ranges, uint32_t nr)
{
	struct ioasid_iova_range *copy = NULL;
	struct ioasid_ioas_obj *ioas;
	uint32_t i;

	if (!ctx || (nr && !ranges))
		return ioasid_err(-EINVAL);
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "allow IOVAs: no IOAS with id %u", ioas_id);
	if (nr) {
		copy = malloc(nr * sizeof(*copy));
		if (!copy)
			return ctx_fail(ctx, -ENOMEM, "allow IOVAs: %s", strerror(ENOMEM));
		memcpy(copy, ranges, nr * sizeof(*copy));
	}
	/* iommufd_ioas_load_iovas(): start < last, no overlap between the ranges */
	for (i = 0; i < nr; i++) {
		if (copy[i].start >= copy[i].last) {
			free(copy);
			return ctx_fail(ctx, -EINVAL, "allow IOVAs: range %u has start >= last", i);
		}
	}
	if (nr)
		qsort(copy, nr, sizeof(*copy), cmp_range);
	for (i = 1; i < nr; i++) {
		if (copy[i].start <= copy[i - 1].last) {
			free(copy);
			return ctx_fail(ctx, -EINVAL, "allow IOVAs: ranges overlap");
		}
	}
	/* iopt_set_allow_iova(): no allowed range may meet a reserved one */
	for (i = 0; i < nr; i++) {
		if (resv_meets(ioas, copy[i].start, copy[i].last)) {
			ctx_set_error(ctx, "allow IOVAs: 0x%llx-0x%llx meets a reserved region",
				      (unsigned long long)copy[i].start,
				      (unsigned long long)copy[i].last);
			free(copy);
			return ioasid_err(-EADDRINUSE);
		}
	}
	if (ctx->be->ops->allow_iovas) {
		int err = ctx->be->ops->allow_iovas(ctx, ioas, copy, nr);

		if (err) {
			free(copy);
			return ctx_fail(ctx, err, "allow IOVAs: %s", strerror(-err));
		}
	}
	free(ioas->allowed);
	ioas->allowed = copy;
	ioas->nr_allowed = nr;
	return 0;
}
