// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sim backend: an in-memory "kernel" for planning on snapshots and for fast tests.
 *
 * The object model has already enforced every rule when an op arrives, so the sim only
 * keeps a raw page table per IOAS (IOVA interval -> user address) and refuses anything
 * inconsistent with it, which catches bugs in the model: a raw map over a mapping is
 * -EEXIST and a raw unmap of something that was not mapped exactly so is -ENOENT. The
 * domain geometry comes from the options (defaults: QEMU's intel-iommu, 39-bit IOVA,
 * 4 KiB/2 MiB/1 GiB pages). opts->fail_nth makes the Nth raw operation fail with
 * -ENOMEM to exercise the callers' error paths.
 */
#include <errno.h>
#include <stdlib.h>

#include "ioasid_private.h"

struct sim {
	struct ioasid_geometry geo;
	unsigned int fail_nth;
	unsigned int nr_ops;
};

/* One raw mapping. */
struct sim_pte {
	uint64_t user_va;
	uint32_t prot;
};

static struct sim *sim_of(struct ioasid_ctx *ctx)
{
	return ctx->be->priv;
}

static int sim_tick(struct sim *sim)
{
	if (sim->fail_nth && ++sim->nr_ops == sim->fail_nth)
		return -ENOMEM;
	return 0;
}

static int sim_open(struct ioasid_backend *be, const struct ioasid_backend_opts *opts)
{
	struct sim *sim;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->geo.aperture_start = opts->aperture_start;
	sim->geo.aperture_last = opts->aperture_last;
	if (!sim->geo.aperture_start && !sim->geo.aperture_last)
		sim->geo.aperture_last = (1ULL << 39) - 1;
	sim->geo.pgsize_bitmap = opts->pgsize_bitmap;
	if (!sim->geo.pgsize_bitmap)
		sim->geo.pgsize_bitmap = (1ULL << 12) | (1ULL << 21) | (1ULL << 30);
	if (sim->geo.aperture_start > sim->geo.aperture_last) {
		free(sim);
		return -EINVAL;
	}
	sim->fail_nth = opts->fail_nth;
	be->priv = sim;
	return 0;
}

static void sim_close(struct ioasid_backend *be)
{
	free(be->priv);
}

static int sim_geometry(struct ioasid_backend *be, const struct ioasid_device *dev,
			struct ioasid_geometry *geo)
{
	*geo = ((struct sim *)be->priv)->geo;
	return 0;
}

static int sim_device_bind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
	return sim_tick(sim_of(ctx));
}

static void sim_device_unbind(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
}

static int sim_ioas_alloc(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	int err = sim_tick(sim_of(ctx));

	if (err)
		return err;
	ioas->priv = iova_tree_new();
	return ioas->priv ? 0 : -ENOMEM;
}

static void sim_ioas_destroy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas)
{
	struct iova_tree *pt = ioas->priv;
	uint64_t s, l;
	void *pte;

	/* The model unmapped everything first; free leftovers all the same. */
	while ((pte = iova_tree_first_overlap(pt, 0, UINT64_MAX, &s, &l))) {
		iova_tree_remove(pt, s);
		free(pte);
	}
	iova_tree_free(pt);
}

static int sim_attach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev,
		      struct ioasid_ioas_obj *ioas)
{
	return sim_tick(sim_of(ctx));
}

static void sim_detach(struct ioasid_ctx *ctx, struct ioasid_dev_obj *dev)
{
}

static int sim_map(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		   uint64_t user_va, uint64_t length, uint32_t prot)
{
	struct sim_pte *pte;
	int err;

	err = sim_tick(sim_of(ctx));
	if (err)
		return err;
	pte = malloc(sizeof(*pte));
	if (!pte)
		return -ENOMEM;
	pte->user_va = user_va;
	pte->prot = prot;
	err = iova_tree_insert(ioas->priv, iova, iova + length - 1, pte);
	if (err)
		free(pte);
	return err;
}

static int sim_unmap(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *ioas, uint64_t iova,
		     uint64_t length)
{
	uint64_t s, l;
	void *pte;

	pte = iova_tree_find(ioas->priv, iova, &s, &l);
	if (!pte || s != iova || l != iova + length - 1)
		return -ENOENT;
	iova_tree_remove(ioas->priv, iova);
	free(pte);
	return 0;
}

/* IOMMU_IOAS_COPY: one raw mapping per source mapping the range crosses. */
static int sim_copy(struct ioasid_ctx *ctx, struct ioasid_ioas_obj *dst, uint64_t dst_iova,
		    struct ioasid_ioas_obj *src, uint64_t src_iova, uint64_t length,
		    uint32_t prot)
{
	uint64_t cur = src_iova, last = src_iova + length - 1, s, l, piece, done = 0;
	const struct sim_pte *spte;
	int err;

	err = sim_tick(sim_of(ctx));
	if (err)
		return err;
	for (;;) {
		spte = iova_tree_find(src->priv, cur, &s, &l);
		if (!spte) {
			err = -ENOENT;
			break;
		}
		piece = (l < last ? l : last) - cur + 1;
		err = sim_map(ctx, dst, dst_iova + done, spte->user_va + (cur - s), piece, prot);
		if (err)
			break;
		done += piece;
		if (l >= last)
			return 0;
		cur = l + 1;
	}
	/* Undo the pieces already mapped. */
	for (cur = 0; cur < done; ) {
		spte = iova_tree_find(dst->priv, dst_iova + cur, &s, &l);
		if (!spte)
			break;
		iova_tree_remove(dst->priv, s);
		free((void *)spte);
		cur += l - s + 1;
	}
	return err;
}

const struct ioasid_backend_ops ioasid_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.geometry = sim_geometry,
	.device_bind = sim_device_bind,
	.device_unbind = sim_device_unbind,
	.ioas_alloc = sim_ioas_alloc,
	.ioas_destroy = sim_ioas_destroy,
	.attach = sim_attach,
	.detach = sim_detach,
	.map = sim_map,
	.unmap = sim_unmap,
	.copy = sim_copy,
};
