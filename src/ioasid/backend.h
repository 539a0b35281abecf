/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private interface between libioasid's object model (ctx.c, device.c, ioas.c) and its
 * backends (sim.c today; iommufd and legacy VFIO type1 later).
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
 * @open: set up @be->priv from @opts. Optional.
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
};

extern const struct ioasid_backend_ops ioasid_sim_ops;

#endif /* IOASID_BACKEND_H */
