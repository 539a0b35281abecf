// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Backends and contexts. A backend is one "kernel" (the sim's in-memory one, or the real
 * one) with the ownership state of every group; a context is one owner in it (one open
 * /dev/iommu). A context addresses its objects by id in a single id space, allocated
 * lowest-free from 1 like iommufd's xa_alloc() on ictx->objects (drivers/iommu/iommufd/
 * main.c), so a destroyed id gives -ENOENT until it is reused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid_private.h"

static const struct ioasid_backend_ops *const backends[] = {
	&ioasid_sim_ops,
	&ioasid_iommufd_ops,
	&ioasid_vfio_ops,
};

int ioasid_backend__open(struct ioasid_topology *topo, const struct ioasid_backend_opts *opts,
			 struct ioasid_backend **out)
{
	const struct ioasid_backend_ops *ops = NULL;
	const char *name = "sim";
	struct ioasid_backend *be;
	size_t i;
	int err;

	if (!topo || !out || (opts && opts->sz < sizeof(size_t)))
		return ioasid_err(-EINVAL);
	if (opts && opts->sz >= offsetof(struct ioasid_backend_opts, aperture_start) && opts->name)
		name = opts->name;
	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			ops = backends[i];
	if (!ops)
		return ioasid_err(-EOPNOTSUPP);

	be = calloc(1, sizeof(*be));
	if (!be)
		return ioasid_err(-ENOMEM);
	be->ops = ops;
	be->topo = topo;
	TAILQ_INIT(&be->ctxs);
	be->opts.sz = sizeof(be->opts);
	if (opts)
		memcpy(&be->opts, opts, opts->sz < sizeof(be->opts) ? opts->sz : sizeof(be->opts));
	be->opts.sz = sizeof(be->opts);
	be->opts.name = ops->name;
	if (be->opts.max_alignment & (be->opts.max_alignment - 1)) {
		err = -EINVAL;
		goto err_free;
	}
	be->groups = calloc(topo->nr_groups ? topo->nr_groups : 1, sizeof(*be->groups));
	if (!be->groups) {
		err = -ENOMEM;
		goto err_free;
	}
	/* A kernel backend sets max_alignment from the running kernel when it is 0. */
	if (ops->open) {
		err = ops->open(be, &be->opts);
		if (err)
			goto err_free;
	}
	/* HPAGE_SIZE on x86-64: the cap of iopt_alloc_iova()'s automatic alignment. */
	if (!be->opts.max_alignment)
		be->opts.max_alignment = 2ULL << 20;
	*out = be;
	return 0;
err_free:
	free(be->groups);
	free(be);
	return ioasid_err(err);
}

void ioasid_backend__close(struct ioasid_backend *be)
{
	struct ioasid_ctx *ctx;

	if (!be)
		return;
	while ((ctx = TAILQ_FIRST(&be->ctxs)))
		ioasid_ctx__free(ctx);
	if (be->ops->close)
		be->ops->close(be);
	free(be->groups);
	free(be);
}

const char *ioasid_backend__name(const struct ioasid_backend *be)
{
	return be->ops->name;
}

int ioasid_ctx__new(struct ioasid_backend *be, const struct ioasid_ctx_opts *opts,
		    struct ioasid_ctx **out)
{
	struct ioasid_ctx *ctx;
	int err;

	if (!be || !out || (opts && opts->sz < sizeof(size_t)))
		return ioasid_err(-EINVAL);
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ioasid_err(-ENOMEM);
	ctx->be = be;
	if (opts)
		memcpy(&ctx->opts, opts, opts->sz < sizeof(ctx->opts) ? opts->sz : sizeof(ctx->opts));
	ctx->opts.sz = sizeof(ctx->opts);
	if (be->ops->ctx_open) {
		err = be->ops->ctx_open(ctx);
		if (err) {
			free(ctx);
			return ioasid_err(err);
		}
	}
	TAILQ_INSERT_TAIL(&be->ctxs, ctx, link);
	*out = ctx;
	return 0;
}

void ioasid_ctx__free(struct ioasid_ctx *ctx)
{
	enum ioasid_free_pass pass;
	size_t i;

	if (!ctx)
		return;
	/* The documented order of enum ioasid_free_pass: devices, then the IOAS they held. */
	for (pass = 0; pass < IOASID_FREE_PASSES; pass++)
		for (i = 1; i < ctx->nr_slots; i++)
			if (ctx->objs[i] && ctx->objs[i]->ops->free_pass == pass)
				ctx->objs[i]->ops->destroy(ctx, ctx->objs[i]);
	if (ctx->be->ops->ctx_close)
		ctx->be->ops->ctx_close(ctx);
	TAILQ_REMOVE(&ctx->be->ctxs, ctx, link);
	free(ctx->objs);
	free(ctx);
}

const struct ioasid_error *ioasid_ctx__last_error(const struct ioasid_ctx *ctx)
{
	return &ctx->err;
}

int ioasid_ctx__account(const struct ioasid_ctx *ctx, struct ioasid_account *acct)
{
	struct ioasid_account a = { .sz = sizeof(a) };
	size_t i, n;

	if (!ctx || !acct || acct->sz < offsetof(struct ioasid_account, pinned_pages))
		return ioasid_err(-EINVAL);
	for (i = 1; i < ctx->nr_slots; i++)
		if (ctx->objs[i])
			ctx->objs[i]->ops->account(ctx->objs[i], &a);
	for (i = 0; i < ctx->be->topo->nr_groups; i++)
		if (ctx->be->groups[i].owner == ctx)
			a.nr_groups++;
	a.pinned_pages = ctx->pinned_pages;
	/* What both this library and the caller know; the copy overwrites acct->sz. */
	n = acct->sz < sizeof(a) ? acct->sz : sizeof(a);
	a.sz = n;
	memcpy(acct, &a, n);
	return 0;
}

void ctx_set_error(struct ioasid_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err.msg, sizeof(ctx->err.msg), fmt, ap);
	va_end(ap);
}

/* Records the message and returns @err (negative) with errno set, for public calls. */
int ctx_fail(struct ioasid_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err.msg, sizeof(ctx->err.msg), fmt, ap);
	va_end(ap);
	return ioasid_err(err);
}

int ctx_obj_add(struct ioasid_ctx *ctx, struct ioasid_obj *obj,
		const struct ioasid_obj_ops *ops)
{
	struct ioasid_obj **objs;
	size_t id, n;

	for (id = 1; id < ctx->nr_slots; id++)
		if (!ctx->objs[id])
			break;
	if (id > INT32_MAX)	/* xa_limit_31b */
		return -ENOSPC;
	if (id >= ctx->nr_slots) {
		n = ctx->nr_slots ? ctx->nr_slots * 2 : 8;
		objs = reallocarray(ctx->objs, n, sizeof(*objs));
		if (!objs)
			return -ENOMEM;
		/* Slot 0 stays unused: 0 is never a valid id. */
		memset(objs + ctx->nr_slots, 0, (n - ctx->nr_slots) * sizeof(*objs));
		ctx->objs = objs;
		ctx->nr_slots = n;
	}
	obj->ops = ops;
	obj->id = id;
	ctx->objs[id] = obj;
	return 0;
}

void ctx_obj_remove(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	if (obj->id < ctx->nr_slots && ctx->objs[obj->id] == obj)
		ctx->objs[obj->id] = NULL;
}

/* iommufd_get_object(): a wrong type is -ENOENT like a missing id. */
struct ioasid_obj *ctx_obj_get(const struct ioasid_ctx *ctx, uint32_t id,
			       enum ioasid_obj_type type)
{
	struct ioasid_obj *o;

	if (!id || id >= ctx->nr_slots)
		return NULL;
	o = ctx->objs[id];
	return o && o->ops->type == type ? o : NULL;
}

/* Pin accounting (incr_user_locked_vm() in drivers/iommu/iommufd/pages.c: -ENOMEM). */
int ctx_pin(struct ioasid_ctx *ctx, uint64_t npages)
{
	uint64_t limit = ctx->opts.pin_limit_pages;

	if (limit && (npages > limit || ctx->pinned_pages > limit - npages))
		return -ENOMEM;
	ctx->pinned_pages += npages;
	return 0;
}

void ctx_unpin(struct ioasid_ctx *ctx, uint64_t npages)
{
	ctx->pinned_pages -= npages;
}

struct ioasid_group_state *ctx_group_state(const struct ioasid_ctx *ctx,
					   const struct ioasid_group *group)
{
	struct ioasid_topology *topo = ctx->be->topo;

	if (group->index >= topo->nr_groups || topo->groups[group->index] != group)
		return NULL;
	return &ctx->be->groups[group->index];
}
