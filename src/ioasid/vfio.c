// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The vfio backend: the legacy VFIO container/group interface with the type1 IOMMU
 * (VFIO_TYPE1v2_IOMMU), drivers/vfio/{group,container}.c and vfio_iommu_type1.c.
 *
 * Legacy VFIO has no device-level ownership and no IOAS object, so the object model is
 * mapped onto it like this:
 *
 *   context   nothing in the kernel (the owner is this process)
 *   bind      the first device of a group opens /dev/vfio/<group> (one open per group,
 *             vfio_group_fops_open(): -EBUSY for a second opener) and checks
 *             VFIO_GROUP_GET_STATUS: not VIABLE is -EPERM, the errno SET_CONTAINER would
 *             give (vfio_container_attach_group() -> iommu_group_claim_dma_owner()), and
 *             the one iommufd's bind gives. Later devices of the group share that fd.
 *   IOAS      a container (/dev/vfio/vfio) plus a shadow of its mappings
 *   attach    the first attached device of a group puts the whole group in the container
 *             (VFIO_GROUP_SET_CONTAINER); the first group of a container also sets the
 *             IOMMU (VFIO_SET_IOMMU) and replays the shadow, since a container without
 *             IOMMU has no page table. Later devices of the group: nothing to do.
 *   detach    the last attached device of a group takes the group out
 *             (VFIO_GROUP_UNSET_CONTAINER); the last group of a container drops its IOMMU
 *             and with it every kernel mapping (vfio_group_detach_container()); the
 *             shadow keeps them for the next attach, as an IOAS keeps its areas.
 *   map/unmap VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA at the model's IOVA while the
 *             container has an IOMMU; only the shadow otherwise
 *   copy      none in type1: the model maps the source's user memory again
 *   geometry  the first bind of a group probes it in a scratch container: SET_CONTAINER,
 *             SET_IOMMU, VFIO_IOMMU_GET_INFO (iova_pgsizes and the capability
 *             VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE), UNSET_CONTAINER
 *
 * Differences that cannot be hidden (docs/libioasid.md has the full table):
 *  - Attach is per group in the kernel: once one device of a group is attached, the
 *    group's other devices are translated by the same container too, attached in the
 *    model or not.
 *  - Maps made before the first attach are only checked by the kernel at attach.
 *  - Pins are per mapping in type1 (a copy pins its pages again); the model's account
 *    counts them once, like iommufd.
 *
 * Only the live system: the topology must have been loaded from "/".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "ioasid_private.h"

struct vfio_container;

/* Per group of the topology (indexed by group->index). */
struct vfio_grp {
	int fd;				/* /dev/vfio/<id>, -1 when closed */
	unsigned int nr_bound;		/* devices bound: the fd is open while > 0 */
	unsigned int nr_attached;	/* devices attached: in @container while > 0 */
	struct vfio_container *container;
	bool probed;
	struct ioasid_geometry geo;
};

struct vfio_be {
	struct vfio_grp *groups;
};

/* One shadow mapping. */
struct vfio_map {
	uint64_t user_va;
	uint32_t prot;
};

struct vfio_container {
	int fd;				/* /dev/vfio/vfio */
	unsigned int nr_groups;
	bool has_iommu;			/* VFIO_SET_IOMMU done and a group still in it */
	struct iova_tree *shadow;	/* IOVA interval -> struct vfio_map */
};

static struct vfio_grp *grp_of(struct ioasid_backend *be, const struct ioasid_device *dev)
{
	return &((struct vfio_be *)be->priv)->groups[dev->group->index];
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* A new container; -ENODEV without legacy VFIO, -EOPNOTSUPP without type1v2. */
static int container_open(void)
{
	int fd, ret;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	ret = ioctl(fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		close(fd);
		return -EOPNOTSUPP;
	}
	ret = ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (ret <= 0) {
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

static int vfio_be_open(struct ioasid_backend *be, const struct ioasid_backend_opts *opts)
{
	struct vfio_be *b;
	size_t i;
	int fd;

	if (strcmp(ioasid_topology__root(be->topo), "/"))
		return -EINVAL;
	fd = container_open();
	if (fd < 0)
		return fd;
	close(fd);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->groups = calloc(be->topo->nr_groups ? be->topo->nr_groups : 1, sizeof(*b->groups));
	if (!b->groups) {
		free(b);
		return -ENOMEM;
	}
	for (i = 0; i < be->topo->nr_groups; i++)
		b->groups[i].fd = -1;
	be->priv = b;
	/* Type1 allocates no IOVA; the model's automatic ones follow this kernel's iommufd. */
	if (!be->opts.max_alignment)
		be->opts.max_alignment = kernel_max_alignment();
	return 0;
}

static void vfio_be_close(struct ioasid_backend *be)
{
	struct vfio_be *b = be->priv;

	free(b->groups);
	free(b);
}

static int vfio_geometry(struct ioasid_backend *be, const struct ioasid_device *dev,
			 struct ioasid_geometry *geo)
{
	const struct vfio_grp *g;

	if (!dev->group)
		return -ENODEV;
	g = grp_of(be, dev);
	if (!g->probed)
		return -ENODATA;
	*geo = g->geo;
	return 0;
}

/*
 * VFIO_IOMMU_GET_INFO with its capability chain: the IOVA ranges of the container
 * (aperture minus the non-relaxable reserved regions, vfio_iommu_resv_exclude()).
 */
static int get_info(int container, const struct ioasid_group *group, struct ioasid_geometry *geo)
{
	struct vfio_iommu_type1_info *info;
	const struct vfio_iommu_type1_info_cap_iova_range *cap = NULL;
	struct ioasid_iova_range *r = NULL;
	uint32_t argsz = sizeof(*info), off, i;
	void *buf;
	int err;

	info = calloc(1, argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = argsz;
	err = xioctl(container, VFIO_IOMMU_GET_INFO, info);
	if (err)
		goto out;
	if (info->argsz > argsz) {
		argsz = info->argsz;
		buf = realloc(info, argsz);
		if (!buf) {
			err = -ENOMEM;
			goto out;
		}
		info = buf;
		memset(info, 0, argsz);
		info->argsz = argsz;
		err = xioctl(container, VFIO_IOMMU_GET_INFO, info);
		if (err)
			goto out;
	}
	if (!(info->flags & VFIO_IOMMU_INFO_PGSIZES) || !(info->flags & VFIO_IOMMU_INFO_CAPS)) {
		err = -EOPNOTSUPP;
		goto out;
	}
	/* Walk the chain; every offset must stay inside what the kernel wrote. */
	for (off = info->cap_offset, i = 0; off && i < 64; i++) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)info + off);

		if (off < sizeof(*info) || off > argsz - sizeof(*h)) {
			err = -EPROTO;
			goto out;
		}
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			cap = (const void *)h;
			break;
		}
		off = h->next;
	}
	if (!cap || off > argsz - sizeof(*cap) ||
	    cap->nr_iovas > (argsz - off - sizeof(*cap)) / sizeof(cap->iova_ranges[0])) {
		err = cap ? -EPROTO : -EOPNOTSUPP;
		goto out;
	}
	r = calloc(cap->nr_iovas ? cap->nr_iovas : 1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cap->nr_iovas; i++)
		r[i] = (struct ioasid_iova_range){ cap->iova_ranges[i].start,
						   cap->iova_ranges[i].end };
	err = kernel_geometry_from_ranges(group, r, cap->nr_iovas, info->iova_pgsizes, geo);
out:
	free(r);
	free(info);
	return err;
}

static int probe_geometry(int groupfd, const struct ioasid_group *group,
			  struct ioasid_geometry *geo)
{
	int container, err;

	container = container_open();
	if (container < 0)
		return container;
	err = xioctl(groupfd, VFIO_GROUP_SET_CONTAINER, &container);
	if (err)
		goto out_close;
	err = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
	if (!err)
		err = get_info(container, group, geo);
	ioctl(groupfd, VFIO_GROUP_UNSET_CONTAINER);
out_close:
	close(container);
	return err;
}

static int vfio_device_bind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_grp *g = grp_of(ctx->be, dev->dev);
	const struct ioasid_group *group = dev->dev->group;
	char path[64];
	int fd, err;

	if (g->nr_bound) {
		g->nr_bound++;
		return 0;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%u", group->id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	err = xioctl(fd, VFIO_GROUP_GET_STATUS, &status);
	if (err)
		goto err_close;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err = -EPERM;
		goto err_close;
	}
	if (!g->probed) {
		err = probe_geometry(fd, group, &g->geo);
		if (err)
			goto err_close;
		g->probed = true;
	}
	g->fd = fd;
	g->nr_bound = 1;
	return 0;
err_close:
	close(fd);
	return err;
}

static void vfio_device_unbind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	struct vfio_grp *g = grp_of(ctx->be, dev->dev);

	if (--g->nr_bound)
		return;
	close(g->fd);
	g->fd = -1;
}

static int vfio_ioas_alloc(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	struct vfio_container *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->shadow = iova_tree_new();
	if (!c->shadow) {
		err = -ENOMEM;
		goto err_free;
	}
	c->fd = container_open();
	if (c->fd < 0) {
		err = c->fd;
		goto err_free;
	}
	ioas->priv = c;
	return 0;
err_free:
	iova_tree_free(c->shadow);
	free(c);
	return err;
}

static void shadow_clear(struct vfio_container *c)
{
	uint64_t s, l;
	void *m;

	while ((m = iova_tree_first_overlap(c->shadow, 0, UINT64_MAX, &s, &l))) {
		iova_tree_remove(c->shadow, s);
		free(m);
	}
}

static void vfio_ioas_destroy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	struct vfio_container *c = ioas->priv;

	shadow_clear(c);
	iova_tree_free(c->shadow);
	close(c->fd);
	free(c);
	ioas->priv = NULL;
}

static int map_raw(struct vfio_container *c, uint64_t iova, uint64_t user_va, uint64_t length,
		   uint32_t prot)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = (prot & IOASID_MAP_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 (prot & IOASID_MAP_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = user_va,
		.iova = iova,
		.size = length,
	};

	return xioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int unmap_raw(struct vfio_container *c, uint64_t iova, uint64_t length)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = length,
	};
	int err;

	err = xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
	/* type1v2 answers 0 bytes for a range with nothing in it: the model diverged. */
	if (!err && unmap.size != length)
		err = -EPROTO;
	return err;
}

/* Puts the shadow into the container's new IOMMU; all or nothing. */
static int replay(struct vfio_container *c)
{
	uint64_t s, l, fs, fl;
	struct vfio_map *m, *failed = NULL;
	int err = 0;

	for (m = iova_tree_first_overlap(c->shadow, 0, UINT64_MAX, &s, &l); m;
	     m = iova_tree_next(c->shadow, s, &s, &l)) {
		err = map_raw(c, s, m->user_va, l - s + 1, m->prot);
		if (err) {
			failed = m;
			break;
		}
	}
	if (!err)
		return 0;
	for (m = iova_tree_first_overlap(c->shadow, 0, UINT64_MAX, &fs, &fl); m && m != failed;
	     m = iova_tree_next(c->shadow, fs, &fs, &fl))
		unmap_raw(c, fs, fl - fs + 1);
	return err;
}

static int vfio_attach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev,
		       struct ioasid_ioas_obj *ioas)
{
	struct vfio_grp *g = grp_of(ctx->be, dev->dev);
	struct vfio_container *c = ioas->priv;
	int err;

	if (g->nr_attached) {
		/* The object model allows one IOAS per group (iommufd_hw_pagetable_attach()). */
		if (g->container != c)
			return -EINVAL;
		g->nr_attached++;
		return 0;
	}
	err = xioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd);
	if (err)
		return err;
	if (!c->has_iommu) {
		err = ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
		if (!err)
			err = replay(c);
		if (err) {
			/* The last group out: the container drops the IOMMU again. */
			ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
			return err;
		}
		c->has_iommu = true;
	}
	c->nr_groups++;
	g->container = c;
	g->nr_attached = 1;
	return 0;
}

static void vfio_detach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	struct vfio_grp *g = grp_of(ctx->be, dev->dev);
	struct vfio_container *c = g->container;

	if (--g->nr_attached)
		return;
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	g->container = NULL;
	if (!--c->nr_groups)
		c->has_iommu = false;
}

static int vfio_map(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		    uint64_t user_va, uint64_t length, uint32_t prot)
{
	struct vfio_container *c = ioas->priv;
	struct vfio_map *m;
	int err;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->user_va = user_va;
	m->prot = prot;
	err = iova_tree_insert(c->shadow, iova, iova + length - 1, m);
	if (err)
		goto err_free;
	if (c->has_iommu) {
		err = map_raw(c, iova, user_va, length, prot);
		if (err)
			goto err_remove;
	}
	return 0;
err_remove:
	iova_tree_remove(c->shadow, iova);
err_free:
	free(m);
	return err;
}

static int vfio_unmap(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		      uint64_t length)
{
	struct vfio_container *c = ioas->priv;
	uint64_t s, l;
	void *m;
	int err;

	m = iova_tree_find(c->shadow, iova, &s, &l);
	if (!m || s != iova || l != iova + length - 1)
		return -ENOENT;
	if (c->has_iommu) {
		err = unmap_raw(c, iova, length);
		if (err)
			return err;
	}
	iova_tree_remove(c->shadow, iova);
	free(m);
	return 0;
}

const struct ioasid_backend_ops ioasid_vfio_ops = {
	.name = "vfio",
	.open = vfio_be_open,
	.close = vfio_be_close,
	.geometry = vfio_geometry,
	.device_bind = vfio_device_bind,
	.device_unbind = vfio_device_unbind,
	.ioas_alloc = vfio_ioas_alloc,
	.ioas_destroy = vfio_ioas_destroy,
	.attach = vfio_attach,
	.detach = vfio_detach,
	.map = vfio_map,
	.unmap = vfio_unmap,
};
