// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The iommufd backend: /dev/iommu and the VFIO device cdev (/dev/vfio/devices/vfioN), the
 * kernel interface the object model is modelled on (Linux 6.12 uAPI, linux/iommufd.h and
 * the cdev ioctls of linux/vfio.h).
 *
 *   context   one open /dev/iommu (struct iommufd_ctx: the DMA owner cookie)
 *   bind      open the cdev, VFIO_DEVICE_BIND_IOMMUFD (iommufd_device_bind() claims DMA
 *             ownership of the group: -EPERM for another owner or a kernel driver)
 *   unbind    close the cdev
 *   IOAS      IOMMU_IOAS_ALLOC / IOMMU_DESTROY; the kernel's id is kept in ioas->priv
 *   attach    VFIO_DEVICE_ATTACH_IOMMUFD_PT / VFIO_DEVICE_DETACH_IOMMUFD_PT
 *   map       IOMMU_IOAS_MAP, always with IOMMU_IOAS_MAP_FIXED_IOVA: the object model
 *             has picked the IOVA, so automatic IOVAs are the same on every backend
 *   unmap     IOMMU_IOAS_UNMAP of exactly one area
 *   copy      IOMMU_IOAS_COPY at a fixed destination IOVA
 *   allowed   IOMMU_IOAS_ALLOW_IOVAS, after the model validated the ranges
 *
 * The domain geometry (aperture, IOMMU page size) is not in sysfs: the first bind of a
 * device of a group attaches it to a scratch IOAS, reads IOMMU_IOAS_IOVA_RANGES (the
 * ranges and out_iova_alignment), detaches and destroys it, and keeps the
 * result for the group (every device of a group shares one domain,
 * iommufd_hw_pagetable_attach()). The holes found must be the group's reserved regions
 * from sysfs, or bind fails with -EPROTO: otherwise the model's IOVA ranges would not be
 * the kernel's.
 *
 * Automatic IOVAs are capped like the running kernel's iopt_alloc_iova(): HPAGE_SIZE
 * with transparent huge pages, PAGE_SIZE without (kernel_max_alignment() in kernel.c).
 *
 * Only the live system: the topology must have been loaded from "/".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "ioasid_private.h"

/* Per group of the topology (indexed by group->index). */
struct ifd_group {
	bool probed;
	struct ioasid_geometry geo;
};

struct ifd_backend {
	struct ifd_group *groups;
};

struct ifd_ctx {
	int fd;				/* /dev/iommu */
};

struct ifd_dev {
	int fd;				/* /dev/vfio/devices/vfioN */
	uint32_t devid;			/* out_devid of the bind */
};

struct ifd_ioas {
	uint32_t id;			/* the kernel's IOAS id */
};

static int ifd_fd(struct ioasid_ctx *ctx)
{
	return ((struct ifd_ctx *)ctx->priv)->fd;
}

static uint32_t ifd_ioas_id(const struct ioasid_ioas_obj *ioas)
{
	return ((const struct ifd_ioas *)ioas->priv)->id;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int ifd_open(struct ioasid_backend *be, const struct ioasid_backend_opts *opts)
{
	struct ifd_backend *b;

	if (strcmp(ioasid_topology__root(be->topo), "/"))
		return -EINVAL;
	/* No /dev/iommu: the kernel has no IOMMUFD (CONFIG_IOMMUFD). */
	if (access("/dev/iommu", R_OK | W_OK))
		return errno == ENOENT ? -ENODEV : -errno;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->groups = calloc(be->topo->nr_groups ? be->topo->nr_groups : 1, sizeof(*b->groups));
	if (!b->groups) {
		free(b);
		return -ENOMEM;
	}
	be->priv = b;
	if (!be->opts.max_alignment)
		be->opts.max_alignment = kernel_max_alignment();
	return 0;
}

static void ifd_close(struct ioasid_backend *be)
{
	struct ifd_backend *b = be->priv;

	free(b->groups);
	free(b);
}

static int ifd_ctx_open(struct ioasid_ctx *ctx)
{
	struct ifd_ctx *c = malloc(sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		err = -errno;
		free(c);
		return err;
	}
	ctx->priv = c;
	return 0;
}

static void ifd_ctx_close(struct ioasid_ctx *ctx)
{
	struct ifd_ctx *c = ctx->priv;

	close(c->fd);
	free(c);
}

static int ifd_geometry(struct ioasid_backend *be, const struct ioasid_device *dev,
			struct ioasid_geometry *geo)
{
	struct ifd_backend *b = be->priv;
	const struct ifd_group *g;

	if (!dev->group)
		return -ENODEV;
	g = &b->groups[dev->group->index];
	if (!g->probed)
		return -ENODATA;	/* the device was not bound through this backend */
	*geo = g->geo;
	return 0;
}

/*
 * The cdev of a device bound to a VFIO driver: the one entry vfioN of
 * /sys/bus/pci/devices/<name>/vfio-dev/ (drivers/vfio/device_cdev.c names it).
 */
static int open_cdev(const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	int fd = -ENODEV;
	DIR *d;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", name);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) || !de->d_name[4])
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = errno == ENOENT ? -ENODEV : -errno;
		break;
	}
	closedir(d);
	return fd;
}

static int ioas_alloc_raw(int iommufd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int err;

	err = xioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd);
	if (!err)
		*id = cmd.out_ioas_id;
	return err;
}

static void destroy_raw(int iommufd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	ioctl(iommufd, IOMMU_DESTROY, &cmd);
}

static int attach_raw(int devfd, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt cmd = { .argsz = sizeof(cmd), .pt_id = pt_id };

	return xioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
}

static void detach_raw(int devfd)
{
	struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };

	ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
}

/* IOMMU_IOAS_IOVA_RANGES into a malloc'ed array. */
static int iova_ranges_raw(int iommufd, uint32_t ioas_id, struct ioasid_iova_range **out,
			   uint32_t *nr, uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges cmd = { .size = sizeof(cmd), .ioas_id = ioas_id };
	struct iommu_iova_range *r = NULL;
	struct ioasid_iova_range *res;
	uint32_t i;
	int err;

	err = xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (err != -EMSGSIZE && err)
		return err;
	if (err) {
		r = calloc(cmd.num_iovas, sizeof(*r));
		if (!r)
			return -ENOMEM;
		cmd.allowed_iovas = (uintptr_t)r;
		err = xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd);
		if (err)
			goto out;
	}
	res = calloc(cmd.num_iovas ? cmd.num_iovas : 1, sizeof(*res));
	if (!res) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cmd.num_iovas; i++)
		res[i] = (struct ioasid_iova_range){ r[i].start, r[i].last };
	*out = res;
	*nr = cmd.num_iovas;
	*alignment = cmd.out_iova_alignment;
out:
	free(r);
	return err;
}

/* Attach to a scratch IOAS and read what the domain allows (see the file comment). */
static int probe_geometry(int iommufd, int devfd, const struct ioasid_group *group,
			  struct ioasid_geometry *geo)
{
	struct ioasid_iova_range *r = NULL;
	uint64_t alignment = 0;
	uint32_t id, nr = 0;
	int err;

	err = ioas_alloc_raw(iommufd, &id);
	if (err)
		return err;
	err = attach_raw(devfd, id);
	if (err)
		goto out_destroy;
	err = iova_ranges_raw(iommufd, id, &r, &nr, &alignment);
	detach_raw(devfd);
	if (err)
		goto out_destroy;
	err = kernel_geometry_from_ranges(group, r, nr, alignment, geo);
	free(r);
out_destroy:
	destroy_raw(iommufd, id);
	return err;
}

static int ifd_device_bind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = ifd_fd(ctx) };
	struct ifd_backend *b = ctx->be->priv;
	struct ifd_group *g = &b->groups[dev->dev->group->index];
	struct ifd_dev *d;
	int err;

	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = open_cdev(dev->dev->name);
	if (d->fd < 0) {
		err = d->fd;
		goto err_free;
	}
	err = xioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (err)
		goto err_close;
	d->devid = bind.out_devid;
	/*
	 * The first device of a group to be bound: nothing of the group can be attached yet
	 * (binding claimed the group for this context just now).
	 */
	if (!g->probed) {
		err = probe_geometry(ifd_fd(ctx), d->fd, dev->dev->group, &g->geo);
		if (err)
			goto err_close;
		g->probed = true;
	}
	dev->priv = d;
	return 0;
err_close:
	close(d->fd);	/* the release of the cdev unbinds (vfio_df_unbind_iommufd()) */
err_free:
	free(d);
	return err;
}

static void ifd_device_unbind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	struct ifd_dev *d = dev->priv;

	close(d->fd);
	free(d);
	dev->priv = NULL;
}

static int ifd_ioas_alloc(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	struct ifd_ioas *i = malloc(sizeof(*i));
	int err;

	if (!i)
		return -ENOMEM;
	err = ioas_alloc_raw(ifd_fd(ctx), &i->id);
	if (err) {
		free(i);
		return err;
	}
	ioas->priv = i;
	return 0;
}

static void ifd_ioas_destroy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	destroy_raw(ifd_fd(ctx), ifd_ioas_id(ioas));
	free(ioas->priv);
	ioas->priv = NULL;
}

static int ifd_attach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev,
		      struct ioasid_ioas_obj *ioas)
{
	return attach_raw(((struct ifd_dev *)dev->priv)->fd, ifd_ioas_id(ioas));
}

static void ifd_detach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	detach_raw(((struct ifd_dev *)dev->priv)->fd);
}

static uint32_t ifd_prot(uint32_t prot)
{
	return (prot & IOASID_MAP_READ ? IOMMU_IOAS_MAP_READABLE : 0) |
	       (prot & IOASID_MAP_WRITE ? IOMMU_IOAS_MAP_WRITEABLE : 0);
}

static int ifd_map(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		   uint64_t user_va, uint64_t length, uint32_t prot)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | ifd_prot(prot),
		.ioas_id = ifd_ioas_id(ioas),
		.user_va = user_va,
		.length = length,
		.iova = iova,
	};

	return xioctl(ifd_fd(ctx), IOMMU_IOAS_MAP, &cmd);
}

static int ifd_unmap(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		     uint64_t length)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ifd_ioas_id(ioas),
		.iova = iova,
		.length = length,
	};
	int err;

	err = xioctl(ifd_fd(ctx), IOMMU_IOAS_UNMAP, &cmd);
	/* The model only unmaps whole areas it made: any other amount means it diverged. */
	if (!err && cmd.length != length)
		err = -EPROTO;
	return err;
}

static int ifd_copy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *dst, uint64_t dst_iova,
		    struct ioasid_ioas_obj *src, uint64_t src_iova, uint64_t length,
		    uint32_t prot)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | ifd_prot(prot),
		.dst_ioas_id = ifd_ioas_id(dst),
		.src_ioas_id = ifd_ioas_id(src),
		.length = length,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return xioctl(ifd_fd(ctx), IOMMU_IOAS_COPY, &cmd);
}

static int ifd_allow_iovas(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas,
			   const struct ioasid_iova_range *ranges, uint32_t nr)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ifd_ioas_id(ioas),
		.num_iovas = nr,
	};
	struct iommu_iova_range *r = NULL;
	uint32_t i;
	int err;

	if (nr) {
		r = calloc(nr, sizeof(*r));
		if (!r)
			return -ENOMEM;
		for (i = 0; i < nr; i++)
			r[i] = (struct iommu_iova_range){ .start = ranges[i].start,
							  .last = ranges[i].last };
		cmd.allowed_iovas = (uintptr_t)r;
	}
	err = xioctl(ifd_fd(ctx), IOMMU_IOAS_ALLOW_IOVAS, &cmd);
	free(r);
	return err;
}

const struct ioasid_backend_ops ioasid_iommufd_ops = {
	.name = "iommufd",
	.open = ifd_open,
	.close = ifd_close,
	.ctx_open = ifd_ctx_open,
	.ctx_close = ifd_ctx_close,
	.geometry = ifd_geometry,
	.device_bind = ifd_device_bind,
	.device_unbind = ifd_device_unbind,
	.ioas_alloc = ifd_ioas_alloc,
	.ioas_destroy = ifd_ioas_destroy,
	.attach = ifd_attach,
	.detach = ifd_detach,
	.map = ifd_map,
	.unmap = ifd_unmap,
	.copy = ifd_copy,
	.allow_iovas = ifd_allow_iovas,
};
