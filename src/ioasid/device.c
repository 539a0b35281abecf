// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Device objects: bind (claiming DMA ownership of the group), attach and detach.
 *
 * Ownership follows iommu_device_claim_dma_owner() (drivers/iommu/iommu.c): a group has
 * at most one owner; owner_cnt counts the devices it claimed. Devices on a kernel-DMA-API
 * driver hold the group too (iommu_device_use_default_domain()), so binding in such a
 * group fails with -EPERM like a second owner does.
 *
 * Attach follows iommufd_hw_pagetable_attach() (drivers/iommu/iommufd/device.c): the
 * first device of a group attaches the group; the others must name the same IOAS; every
 * device adds its reserved regions to the IOAS (iommufd_device_attach_reserved_iova()),
 * then, for the first device on an IOAS, the domain is added (iopt_table_add_domain()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid_private.h"

static void device_destroy(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
static void device_account(const struct ioasid_obj *obj, struct ioasid_account *a);

static const struct ioasid_obj_ops device_obj_ops = {
	.type = IOASID_OBJ_DEVICE,
	.free_pass = IOASID_FREE_ATTACHED,
	.destroy = device_destroy,
	.account = device_account,
};

static struct ioasid_dev_obj *dev_get(struct ioasid_ctx *ctx, uint32_t id)
{
	return (struct ioasid_dev_obj *)ctx_obj_get(ctx, id, IOASID_OBJ_DEVICE);
}

int ioasid_device__bind(struct ioasid_ctx *ctx, const char *name, uint32_t *dev_id)
{
	struct ioasid_group_state *gs;
	struct ioasid_device *dev;
	struct ioasid_dev_obj *d;
	size_t i;
	int err;

	if (!ctx || !name || !dev_id)
		return ioasid_err(-EINVAL);
	dev = (struct ioasid_device *)ioasid_topology__find_device(ctx->be->topo, name);
	if (!dev)
		return ctx_fail(ctx, -ENODEV, "bind %s: no such device", name);
	if (!dev->group)
		return ctx_fail(ctx, -ENODEV, "bind %s: the device has no IOMMU group", name);
	if (ioasid_driver__kind(ioasid_device__driver(dev)) != IOASID_DRIVER_VFIO)
		return ctx_fail(ctx, -ENODEV, "bind %s: not bound to a VFIO driver (driver: %s)",
				name, dev->has_driver ? dev->driver : "none");
	/* vfio_df_open(): "Only the group path allows the device to be opened multiple times" */
	if (dev->bound)
		return ctx_fail(ctx, -EINVAL, "bind %s: the device is already bound", name);
	for (i = 0; i < dev->group->nr_devs; i++) {
		const struct ioasid_device *o = dev->group->devs[i];

		if (ioasid_driver__kind(ioasid_device__driver(o)) == IOASID_DRIVER_DMA_API)
			return ctx_fail(ctx, -EPERM,
					"bind %s: group %u is not viable: %s is bound to %s, which uses the kernel DMA API",
					name, dev->group->id, o->name, o->driver);
	}
	gs = ctx_group_state(ctx, dev->group);
	if (gs->owner && gs->owner != ctx)
		return ctx_fail(ctx, -EPERM, "bind %s: group %u is claimed by another owner",
				name, dev->group->id);

	d = calloc(1, sizeof(*d));
	if (!d)
		return ctx_fail(ctx, -ENOMEM, "bind %s: %s", name, strerror(ENOMEM));
	d->ctx = ctx;
	d->dev = dev;
	err = ctx_obj_add(ctx, &d->obj, &device_obj_ops);
	if (err)
		goto err_free;
	err = ctx->be->ops->device_bind(ctx, d);
	if (err)
		goto err_remove;
	gs->owner = ctx;
	gs->owner_cnt++;
	dev->bound++;
	*dev_id = d->obj.id;
	return 0;
err_remove:
	ctx_obj_remove(ctx, &d->obj);
err_free:
	free(d);
	return ctx_fail(ctx, err, "bind %s: %s", name, strerror(-err));
}

static void detach_one(struct ioasid_ctx *ctx, struct ioasid_dev_obj *d)
{
	struct ioasid_group_state *gs = ctx_group_state(ctx, d->dev->group);
	struct ioasid_ioas_obj *ioas = d->ioas;

	if (!ioas)
		return;
	ctx->be->ops->detach(ctx, d);
	ioas_resv_remove(ioas, d);
	d->ioas = NULL;
	if (!--ioas->nr_attached)
		ioas_domain_remove(ioas);
	if (!--gs->nr_attached)
		gs->ioas = NULL;
}

static int attach_one(struct ioasid_ctx *ctx, struct ioasid_dev_obj *d,
		      struct ioasid_ioas_obj *ioas)
{
	struct ioasid_group_state *gs = ctx_group_state(ctx, d->dev->group);
	const struct ioasid_group *g = d->dev->group;
	struct ioasid_geometry geo;
	bool new_domain = false;
	size_t i;
	int err;

	if (gs->ioas && gs->ioas != ioas)
		return ctx_fail(ctx, -EINVAL,
				"attach %s: group %u is attached to IOAS %u; a group shares one page table",
				d->dev->name, g->id, gs->ioas->obj.id);
	err = ctx->be->ops->geometry(ctx->be, d->dev, &geo);
	if (err)
		return ctx_fail(ctx, err, "attach %s: cannot get the domain geometry: %s",
				d->dev->name, strerror(-err));
	/* iopt_table_enforce_dev_resv_regions() skips IOMMU_RESV_DIRECT_RELAXABLE. */
	for (i = 0; i < g->nr_resv; i++) {
		const struct ioasid_resv_region *r = &g->resv[i];

		if (r->type == IOASID_RESV_DIRECT_RELAXABLE)
			continue;
		err = ioas_resv_add(ioas, r->start, r->last, d);
		if (err) {
			ioas_resv_remove(ioas, d);
			return ctx_fail(ctx, err,
					"attach %s: reserved region 0x%llx-0x%llx (%s) meets a mapping or an allowed range of IOAS %u",
					d->dev->name, (unsigned long long)r->start,
					(unsigned long long)r->last, ioasid_resv_type__name(r->type),
					ioas->obj.id);
		}
	}
	if (!ioas->nr_attached) {
		err = ioas_domain_add(ioas, &geo);
		if (err) {
			ioas_resv_remove(ioas, d);
			return ctx_fail(ctx, err, "attach %s: cannot add the domain to IOAS %u: %s",
					d->dev->name, ioas->obj.id,
					err == -EADDRINUSE ? "a mapping lies outside the aperture or is misaligned" :
					strerror(-err));
		}
		new_domain = true;
	} else if (memcmp(&geo, &ioas->geo, sizeof(geo))) {
		ioas_resv_remove(ioas, d);
		return ctx_fail(ctx, -EINVAL,
				"attach %s: its IOMMU geometry differs from the domain of IOAS %u",
				d->dev->name, ioas->obj.id);
	}
	err = ctx->be->ops->attach(ctx, d, ioas);
	if (err) {
		if (new_domain)
			ioas_domain_remove(ioas);
		ioas_resv_remove(ioas, d);
		return ctx_fail(ctx, err, "attach %s: %s", d->dev->name, strerror(-err));
	}
	ioas->nr_attached++;
	d->ioas = ioas;
	gs->ioas = ioas;
	gs->nr_attached++;
	return 0;
}

/* The strict rule: the whole group is claimed by @ctx (see viability.c). */
static int check_strict(struct ioasid_ctx *ctx, struct ioasid_dev_obj *d)
{
	const struct ioasid_reason *r;
	struct ioasid_verdict *v;
	int err;

	err = ioasid_group__check(d->dev->group, ctx, &v);
	if (err)
		return ctx_fail(ctx, err, "attach %s: %s", d->dev->name, strerror(-err));
	if (!ioasid_verdict__viable(v, IOASID_RULE_STRICT)) {
		size_t i;

		for (i = 0; (r = ioasid_verdict__reason(v, i)); i++)
			if (r->rule == IOASID_RULE_STRICT)
				break;
		err = ctx_fail(ctx, -EPERM, "attach %s: strict: group %u is not fully claimed: %s",
			       d->dev->name, d->dev->group->id, r ? r->msg : "?");
	}
	ioasid_verdict__free(v);
	return err;
}

/* iommufd_device_do_replace(): the whole group moves to the new IOAS. */
static int replace(struct ioasid_ctx *ctx, struct ioasid_dev_obj *d, struct ioasid_ioas_obj *to)
{
	struct ioasid_ioas_obj *from = d->ioas;
	struct ioasid_dev_obj **moved;
	size_t i, n = 0;
	int err = 0;

	moved = calloc(ctx->nr_slots, sizeof(*moved));
	if (!moved)
		return ctx_fail(ctx, -ENOMEM, "attach %s: %s", d->dev->name, strerror(ENOMEM));
	for (i = 1; i < ctx->nr_slots; i++) {
		struct ioasid_dev_obj *o = dev_get(ctx, i);

		if (o && o->dev->group == d->dev->group && o->ioas == from)
			moved[n++] = o;
	}
	for (i = 0; i < n; i++)
		detach_one(ctx, moved[i]);
	for (i = 0; i < n; i++) {
		err = attach_one(ctx, moved[i], to);
		if (err)
			break;
	}
	if (err) {
		struct ioasid_error msg = ctx->err;

		while (i--)
			detach_one(ctx, moved[i]);
		/* Back where they were: the old state was valid and its pins were released. */
		for (i = 0; i < n; i++)
			attach_one(ctx, moved[i], from);
		ctx->err = msg;
	}
	free(moved);
	return err;
}

int ioasid_device__attach(struct ioasid_ctx *ctx, uint32_t dev_id, uint32_t ioas_id)
{
	struct ioasid_ioas_obj *ioas;
	struct ioasid_dev_obj *d;
	int err;

	if (!ctx)
		return ioasid_err(-EINVAL);
	d = dev_get(ctx, dev_id);
	if (!d)
		return ctx_fail(ctx, -ENOENT, "attach: no device with id %u", dev_id);
	ioas = ioas_get(ctx, ioas_id);
	if (!ioas)
		return ctx_fail(ctx, -ENOENT, "attach %s: no IOAS with id %u", d->dev->name, ioas_id);
	if (ctx->opts.strict) {
		err = check_strict(ctx, d);
		if (err)
			return err;
	}
	if (d->ioas == ioas)
		return 0;
	if (d->ioas)
		return ioasid_err(replace(ctx, d, ioas));
	return ioasid_err(attach_one(ctx, d, ioas));
}

int ioasid_device__detach(struct ioasid_ctx *ctx, uint32_t dev_id)
{
	struct ioasid_dev_obj *d;

	if (!ctx)
		return ioasid_err(-EINVAL);
	d = dev_get(ctx, dev_id);
	if (!d)
		return ctx_fail(ctx, -ENOENT, "detach: no device with id %u", dev_id);
	detach_one(ctx, d);
	return 0;
}

static void device_obj_destroy(struct ioasid_ctx *ctx, struct ioasid_dev_obj *d)
{
	struct ioasid_group_state *gs = ctx_group_state(ctx, d->dev->group);

	detach_one(ctx, d);
	ctx->be->ops->device_unbind(ctx, d);
	if (!--gs->owner_cnt)
		gs->owner = NULL;
	d->dev->bound--;
	ctx_obj_remove(ctx, &d->obj);
	free(d);
}

static void device_destroy(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	device_obj_destroy(ctx, (struct ioasid_dev_obj *)obj);
}

static void device_account(const struct ioasid_obj *obj, struct ioasid_account *a)
{
	a->nr_devices++;
}

int ioasid_device__unbind(struct ioasid_ctx *ctx, uint32_t dev_id)
{
	struct ioasid_dev_obj *d;

	if (!ctx)
		return ioasid_err(-EINVAL);
	d = dev_get(ctx, dev_id);
	if (!d)
		return ctx_fail(ctx, -ENOENT, "unbind: no device with id %u", dev_id);
	device_obj_destroy(ctx, d);
	return 0;
}
