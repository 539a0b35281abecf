// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group viability, two rules, each verdict with the devices that break it and why.
 *
 * Kernel rule: VFIO_GROUP_GET_STATUS sets VFIO_GROUP_FLAGS_VIABLE when
 * !iommu_group_dma_owner_claimed() (vfio_group_ioctl_get_status(), drivers/vfio/group.c),
 * i.e. group->owner_cnt == 0. owner_cnt is raised by every driver probe without
 * driver_managed_dma (iommu_device_use_default_domain(), called from pci_dma_configure()
 * in drivers/pci/pci-driver.c) and by an owner's claim (iommu_device_claim_dma_owner(),
 * drivers/iommu/iommu.c, which fails with -EPERM for any other owner). So: no device of
 * the group on a kernel-DMA-API driver and no other owner.
 *
 * Strict rule (the barrier asked for in the /dev/ioasid RFC v2 thread): every endpoint
 * (non-bridge) device of the group is bound to a VFIO driver and claimed by the same owner
 * before any device of the group is attached. Bridges only have to satisfy the kernel rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid_private.h"

/*
 * Drivers that set .driver_managed_dma = true, by the name sysfs shows (the driver's
 * .name; KBUILD_MODNAME is the module name with '-' turned into '_', see name-fix in
 * scripts/Makefile.lib). Taken from Linux 6.12 (linux-source-6.12 6.12.117,
 * `grep -rn "driver_managed_dma = true"`), file of each entry given. Every other driver
 * uses the kernel DMA API: the field defaults to false.
 */
static const struct {
	const char *name;
	bool vfio;
	const char *source;
} dma_safe_drivers[] = {
	{ "vfio-pci",		  true,  "drivers/vfio/pci/vfio_pci.c" },
	{ "mlx5_vfio_pci",	  true,  "drivers/vfio/pci/mlx5/main.c (mlx5-vfio-pci.ko)" },
	{ "hisi_acc_vfio_pci",	  true,  "drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c (hisi-acc-vfio-pci.ko)" },
	{ "pds_vfio_pci",	  true,  "drivers/vfio/pci/pds/pci_drv.c (pds-vfio-pci.ko)" },
	{ "virtio_vfio_pci",	  true,  "drivers/vfio/pci/virtio/main.c (virtio-vfio-pci.ko)" },
	{ "nvgrace_gpu_vfio_pci", true,  "drivers/vfio/pci/nvgrace-gpu/main.c (nvgrace-gpu-vfio-pci.ko)" },
	{ "qat_vfio_pci",	  true,  "drivers/vfio/pci/qat/main.c" },
	{ "vfio-platform",	  true,  "drivers/vfio/platform/vfio_platform.c" },
	{ "vfio-amba",		  true,  "drivers/vfio/platform/vfio_amba.c" },
	{ "vfio-fsl-mc",	  true,  "drivers/vfio/fsl-mc/vfio_fsl_mc.c" },
	{ "vfio-cdx",		  true,  "drivers/vfio/cdx/main.c" },
	{ "pci-stub",		  false, "drivers/pci/pci-stub.c" },
	{ "pcieport",		  false, "drivers/pci/pcie/portdrv.c" },
	{ "fsl-pci",		  false, "arch/powerpc/sysdev/fsl_pci.c" },
};

enum ioasid_driver_kind ioasid_driver__kind(const char *driver)
{
	size_t i;

	if (!driver)
		return IOASID_DRIVER_NONE;
	for (i = 0; i < ARRAY_SIZE(dma_safe_drivers); i++)
		if (!strcmp(driver, dma_safe_drivers[i].name))
			return dma_safe_drivers[i].vfio ? IOASID_DRIVER_VFIO : IOASID_DRIVER_DMA_SAFE;
	return IOASID_DRIVER_DMA_API;
}

struct ioasid_verdict {
	const struct ioasid_group *group;
	bool viable[2];
	struct ioasid_reason *reasons;
	size_t nr_reasons;
};

static int add_reason(struct ioasid_verdict *v, enum ioasid_rule rule, enum ioasid_cause cause,
		      const struct ioasid_device *dev, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int add_reason(struct ioasid_verdict *v, enum ioasid_rule rule, enum ioasid_cause cause,
		      const struct ioasid_device *dev, const char *fmt, ...)
{
	struct ioasid_reason *r;
	va_list ap;

	r = reallocarray(v->reasons, v->nr_reasons + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	v->reasons = r;
	r += v->nr_reasons++;
	r->rule = rule;
	r->cause = cause;
	r->dev = dev;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	v->viable[rule] = false;
	return 0;
}

static int check_kernel(struct ioasid_verdict *v, const struct ioasid_group_state *gs,
			const struct ioasid_ctx *owner)
{
	const struct ioasid_group *g = v->group;
	size_t i;
	int err;

	for (i = 0; i < g->nr_devs; i++) {
		const struct ioasid_device *d = g->devs[i];

		if (ioasid_driver__kind(ioasid_device__driver(d)) != IOASID_DRIVER_DMA_API)
			continue;
		err = add_reason(v, IOASID_RULE_KERNEL, IOASID_CAUSE_DMA_API_DRIVER, d,
				 "%s is bound to %s, which uses the kernel DMA API", d->name, d->driver);
		if (err)
			return err;
	}
	if (gs && gs->owner && gs->owner != owner) {
		for (i = 0; i < g->nr_devs; i++) {
			const struct ioasid_device *d = g->devs[i];

			if (!d->bound)
				continue;
			err = add_reason(v, IOASID_RULE_KERNEL, IOASID_CAUSE_OTHER_OWNER, d,
					 "%s is claimed by another owner", d->name);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool claimed_by(const struct ioasid_ctx *owner, const struct ioasid_device *d)
{
	size_t i;

	for (i = 1; i < owner->nr_slots; i++) {
		const struct ioasid_obj *o = owner->objs[i];

		if (o && o->ops->type == IOASID_OBJ_DEVICE &&
		    ((const struct ioasid_dev_obj *)o)->dev == d)
			return true;
	}
	return false;
}

static int check_strict(struct ioasid_verdict *v, const struct ioasid_group_state *gs,
			const struct ioasid_ctx *owner)
{
	const struct ioasid_group *g = v->group;
	const char *drv;
	size_t i;
	int err = 0;

	/* Problems of the kernel rule break the strict rule too. */
	for (i = 0; i < v->nr_reasons && !err; i++) {
		struct ioasid_reason r = v->reasons[i];

		if (r.rule == IOASID_RULE_KERNEL)
			err = add_reason(v, IOASID_RULE_STRICT, r.cause, r.dev, "%s", r.msg);
	}
	for (i = 0; i < g->nr_devs && !err; i++) {
		const struct ioasid_device *d = g->devs[i];

		if (ioasid_device__is_bridge(d))
			continue;
		drv = ioasid_device__driver(d);
		switch (ioasid_driver__kind(drv)) {
		case IOASID_DRIVER_DMA_API:
			break;	/* already reported */
		case IOASID_DRIVER_NONE:
			err = add_reason(v, IOASID_RULE_STRICT, IOASID_CAUSE_NOT_VFIO, d,
					 "%s is an endpoint bound to no driver, not to a VFIO driver",
					 d->name);
			break;
		case IOASID_DRIVER_DMA_SAFE:
			err = add_reason(v, IOASID_RULE_STRICT, IOASID_CAUSE_NOT_VFIO, d,
					 "%s is an endpoint bound to %s, not to a VFIO driver",
					 d->name, drv);
			break;
		case IOASID_DRIVER_VFIO:
			if (owner && !(gs && gs->owner && gs->owner != owner) && !claimed_by(owner, d))
				err = add_reason(v, IOASID_RULE_STRICT, IOASID_CAUSE_NOT_CLAIMED, d,
						 "%s is not claimed by this owner", d->name);
			break;
		}
	}
	return err;
}

int ioasid_group__check(const struct ioasid_group *group, const struct ioasid_ctx *owner,
			struct ioasid_verdict **out)
{
	const struct ioasid_group_state *gs = NULL;
	struct ioasid_verdict *v;
	int err;

	if (!group || !out)
		return ioasid_err(-EINVAL);
	if (owner) {
		gs = ctx_group_state(owner, group);
		if (!gs)
			return ioasid_err(-EINVAL);
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return ioasid_err(-ENOMEM);
	v->group = group;
	v->viable[IOASID_RULE_KERNEL] = true;
	v->viable[IOASID_RULE_STRICT] = true;
	err = check_kernel(v, gs, owner);
	if (!err)
		err = check_strict(v, gs, owner);
	if (err) {
		ioasid_verdict__free(v);
		return ioasid_err(err);
	}
	*out = v;
	return 0;
}

bool ioasid_verdict__viable(const struct ioasid_verdict *v, enum ioasid_rule rule)
{
	return rule <= IOASID_RULE_STRICT && v->viable[rule];
}

size_t ioasid_verdict__nr_reasons(const struct ioasid_verdict *v)
{
	return v->nr_reasons;
}

const struct ioasid_reason *ioasid_verdict__reason(const struct ioasid_verdict *v, size_t idx)
{
	return idx < v->nr_reasons ? &v->reasons[idx] : NULL;
}

bool ioasid_verdict__device_ok(const struct ioasid_verdict *v, const struct ioasid_device *dev,
			       enum ioasid_rule rule)
{
	size_t i;

	for (i = 0; i < v->nr_reasons; i++)
		if (v->reasons[i].rule == rule && v->reasons[i].dev == dev)
			return false;
	return true;
}

void ioasid_verdict__free(struct ioasid_verdict *v)
{
	if (!v)
		return;
	free(v->reasons);
	free(v);
}
