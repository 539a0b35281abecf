/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private interface between libioasid's object model (ctx.c, device.c, ioas.c) and its
 * backends: sim.c (in memory), iommufd.c (/dev/iommu and the VFIO cdev) and vfio.c
 * (legacy VFIO container/group with the type1 IOMMU).
 *
 * Division of labour: the object model checks every rule and picks every IOVA before it
 * calls a backend, so the same misuse gives the same errno on every backend. A backend
 * only performs the raw operation on an already validated request (always at a fixed
 * IOVA) and reports raw failures (-ENOMEM, or whatever the kernel says). A backend op that
 * fails must leave its own state unchanged; the object model then leaves its state
 * unchanged too. Ops that undo (unbind, destroy, detach) cannot fail.
 *
 * Each object of the model has a void *priv for the backend (fds, kernel ids...).
 */
#ifndef IOASID_BACKEND_H
#define IOASID_BACKEND_H

#include <stdint.h>

#include "ioasid/ioasid.h"

struct ioasid_backend;
struct ioasid_ctx;
struct ioasid_dev_obj;
struct ioasid_ioas_obj;

/**
 * struct ioasid_geometry - what an IOMMU domain for a device can translate
 * @aperture_start: first IOVA.
 * @aperture_last: last IOVA.
 * @pgsize_bitmap: supported IOMMU page sizes.
 */
struct ioasid_geometry {
	uint64_t aperture_start;
	uint64_t aperture_last;
	uint64_t pgsize_bitmap;
};

/**
 * struct ioasid_backend_ops - raw operations of a backend
 * @name: "sim", "iommufd", "vfio".
 * @open: set up @be->priv from @opts; may set @be->opts.max_alignment when it is 0.
 *	Optional.
 * @close: free @be->priv. Optional.
 * @ctx_open: open the owner (e.g. /dev/iommu); set ctx->priv. Optional.
 * @ctx_close: close it; everything in it is already torn down. Optional.
 * @geometry: domain geometry a device would get on attach.
 * @device_bind: bind (open the cdev, VFIO_DEVICE_BIND_IOMMUFD); set dev->priv.
 * @device_unbind: undo @device_bind; the device is detached.
 * @ioas_alloc: allocate (IOMMU_IOAS_ALLOC); set ioas->priv.
 * @ioas_destroy: destroy an IOAS that is empty and has nothing attached.
 * @attach: attach @dev to @ioas (first device of its group, or a later one).
 * @detach: detach @dev.
 * @map: map [@iova, @iova + @length) to @user_va with IOASID_MAP_READ/WRITE @prot.
 * @unmap: unmap exactly one earlier map or copy at @iova of @length; on failure the
 *	object model stops and keeps the area.
 * @copy: optional; map what @src maps at @src_iova into @dst at @dst_iova. When NULL,
 *	the object model calls @map with the source's user address instead.
 * @allow_iovas: optional; tell the kernel the allowed ranges the object model has
 *	validated (IOMMU_IOAS_ALLOW_IOVAS). The model picks automatic IOVAs itself, so this
 *	only keeps the kernel's view equal to the model's: a refusal there means they differ.
 */
struct ioasid_backend_ops {
	const char *name;
	int (*open)(struct ioasid_backend *be, const struct ioasid_backend_opts *opts);
	void (*close)(struct ioasid_backend *be);
	int (*ctx_open)(struct ioasid_ctx *ctx);
	void (*ctx_close)(struct ioasid_ctx *ctx);
	int (*geometry)(struct ioasid_backend *be, const struct ioasid_device *dev,
			struct ioasid_geometry *geo);
	int (*device_bind)(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev);
	void (*device_unbind)(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev);
	int (*ioas_alloc)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas);
	void (*ioas_destroy)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas);
	int (*attach)(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev,
		      struct ioasid_ioas_obj *ioas);
	void (*detach)(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev);
	int (*map)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		   uint64_t user_va, uint64_t length, uint32_t prot);
	int (*unmap)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		     uint64_t length);
	int (*copy)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *dst, uint64_t dst_iova,
		    struct ioasid_ioas_obj *src, uint64_t src_iova, uint64_t length,
		    uint32_t prot);
	int (*allow_iovas)(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas,
			   const struct ioasid_iova_range *ranges, uint32_t nr);
};

extern const struct ioasid_backend_ops ioasid_sim_ops;
extern const struct ioasid_backend_ops ioasid_iommufd_ops;
extern const struct ioasid_backend_ops ioasid_vfio_ops;

/* kernel.c: shared by the kernel backends (iommufd.c, vfio.c) */

/*
 * kernel_max_alignment() - the cap of iopt_alloc_iova()'s automatic IOVA alignment in
 * the running kernel, HPAGE_SIZE with CONFIG_TRANSPARENT_HUGEPAGE and PAGE_SIZE without
 * (read from /sys/kernel/mm/transparent_hugepage/hpage_pmd_size, which exists exactly
 * then).
 */
uint64_t kernel_max_alignment(void);

/*
 * kernel_geometry_from_ranges() - the domain geometry of a group as the kernel reports it
 * (IOVA ranges of a scratch attach: aperture minus reserved regions), checked against the
 * group's reserved_regions from sysfs, which is what the object model will subtract.
 * Return: 0 with @geo filled, -EPROTO if the kernel's holes are not the ones sysfs
 * predicts (the model would then disagree with the kernel), -EINVAL if @nr is 0.
 */
int kernel_geometry_from_ranges(const struct ioasid_group *group,
				const struct ioasid_iova_range *ranges, uint32_t nr,
				uint64_t pgsize_bitmap, struct ioasid_geometry *geo);

#endif /* IOASID_BACKEND_H */
