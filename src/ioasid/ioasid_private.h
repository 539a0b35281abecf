/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private header of libioasid: the objects behind the opaque types of ioasid/ioasid.h.
 *
 * Ownership: a topology owns its groups and devices. A backend points at a topology that
 * must outlive it and keeps the kernel-wide state: per group the owning context and the
 * IOAS its page table is, per device the binding. A context owns its objects (devices and
 * IOAS by id); an IOAS owns its areas; an area holds a reference on its pages, which a
 * copy shares.
 *
 * Invariants kept by ioas.c:
 *  - ioas->used holds every area and the union of the reserved entries, disjoint;
 *    ioas->resv_spans holds that union alone. Areas never meet a reserved span and
 *    allowed ranges never meet one (iopt_check_iova(), iopt_reserve_iova()).
 *  - An IOAS has a domain while at least one device is attached (ioas->nr_attached > 0);
 *    then every area's pages are pinned, counted once per pages in ctx->pinned_pages.
 *
 * Nothing is thread-safe: a context and its backend are used from one thread.
 */
#ifndef IOASID_PRIVATE_H
#define IOASID_PRIVATE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "ioasid/ioasid.h"

/* Elements of an array (not a pointer: that would divide a pointer's size). */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#include "backend.h"
#include "iova_tree.h"

/* The model's CPU page size (x86-64): iommufd's PAGE_SIZE. */
#define IOASID_PAGE_SIZE 4096ULL

#define IOASID_NAME_MAX 64

struct ioasid_device {
	char name[IOASID_NAME_MAX];
	bool is_pci;
	uint16_t vendor;
	uint16_t device_id;
	uint32_t class;
	bool has_driver;
	char driver[IOASID_NAME_MAX];
	struct ioasid_group *group;
	size_t index;			/* in topology->devs */
	int group_link;			/* loader: group its iommu_group link names, -1 */
	unsigned int bound;		/* contexts that have it bound (0 or 1) */
};

struct ioasid_group {
	unsigned int id;
	char type[32];
	struct ioasid_device **devs;	/* sorted by name; not owned */
	size_t nr_devs;
	struct ioasid_resv_region *resv;
	size_t nr_resv;
	size_t index;			/* in topology->groups */
};

struct ioasid_topology {
	char *root;
	struct ioasid_device **devs;	/* sorted by name; owned */
	size_t nr_devs;
	struct ioasid_group **groups;	/* sorted by id; owned */
	size_t nr_groups;
};

/* Kernel-wide ownership state of one group (struct iommu_group's owner and owner_cnt). */
struct ioasid_group_state {
	struct ioasid_ctx *owner;
	unsigned int owner_cnt;		/* devices bound by @owner */
	struct ioasid_ioas_obj *ioas;	/* page table of the group (igroup->hwpt) */
	unsigned int nr_attached;	/* devices of the group attached to @ioas */
};

struct ioasid_backend {
	const struct ioasid_backend_ops *ops;
	struct ioasid_topology *topo;
	struct ioasid_backend_opts opts;	/* with defaults filled in */
	struct ioasid_group_state *groups;	/* indexed by group->index */
	TAILQ_HEAD(, ioasid_ctx) ctxs;
	void *priv;
};

enum ioasid_obj_type {
	IOASID_OBJ_DEVICE = 1,
	IOASID_OBJ_IOAS,
};

/* Common head of every object a context addresses by id. */
struct ioasid_obj {
	const struct ioasid_obj_ops *ops;	/* of its type; set by ctx_obj_add() */
	uint32_t id;
};

struct ioasid_ctx {
	struct ioasid_backend *be;
	struct ioasid_ctx_opts opts;
	struct ioasid_obj **objs;	/* indexed by id; slot 0 unused */
	size_t nr_slots;
	struct ioasid_error err;
	uint64_t pinned_pages;
	void *priv;
	TAILQ_ENTRY(ioasid_ctx) link;
};

struct ioasid_dev_obj {
	struct ioasid_obj obj;
	struct ioasid_ctx *ctx;
	struct ioasid_device *dev;
	struct ioasid_ioas_obj *ioas;	/* attached to, or NULL */
	void *priv;
};

/* User memory behind one map call (struct iopt_pages); shared by copies. */
struct ioasid_pages {
	uint64_t uptr;			/* page aligned */
	uint64_t npages;
	bool writable;
	unsigned int refs;		/* areas pointing here */
	unsigned int pin_users;		/* of those, areas in an IOAS with a domain */
};

/* One mapping (struct iopt_area). */
struct ioasid_area {
	uint64_t iova;
	uint64_t length;
	struct ioasid_pages *pages;
	uint64_t start_byte;		/* offset of the first byte from pages->uptr */
	uint32_t prot;
};

/* One reserved interval with its owner (a device, or the IOAS's domain aperture). */
struct ioasid_resv_entry {
	uint64_t start;
	uint64_t last;
	const void *owner;
};

struct ioasid_ioas_obj {
	struct ioasid_obj obj;
	struct ioasid_ctx *ctx;
	struct iova_tree *used;
	struct iova_tree *resv_spans;
	struct ioasid_resv_entry *resv;
	size_t nr_resv;
	struct ioasid_iova_range *allowed;	/* sorted, disjoint */
	size_t nr_allowed;
	uint64_t iova_alignment;
	unsigned int nr_attached;		/* devices; > 0 means a domain exists */
	struct ioasid_geometry geo;		/* of the domain, while nr_attached > 0 */
	uint64_t nr_areas;
	uint64_t mapped_bytes;
	void *priv;
};

/* ctx.c */

/*
 * The passes of ioasid_ctx__free(), in the order they run; each destroys its objects in
 * id order. Destroying a device detaches it from its IOAS, and an IOAS is destroyed only
 * once nothing is attached to it (iommufd_object_remove() refuses an IOAS a device still
 * holds), so devices go in the first pass and IOAS in the second.
 */
enum ioasid_free_pass {
	IOASID_FREE_ATTACHED,	/* objects attached to others: devices */
	IOASID_FREE_UNATTACHED,	/* objects only others attach to: IOAS */
	IOASID_FREE_PASSES,
};

/*
 * struct ioasid_obj_ops - what a context knows of one type of object, the role of
 * iommufd_object_ops in drivers/iommu/iommufd/main.c. Each object file (device.c, ioas.c)
 * defines the ops of its type and hands them to ctx_obj_add() with every object, so that
 * ctx.c names no object file: the object files depend on ctx.c, never the reverse.
 * @type: what ctx_obj_get() checks.
 * @free_pass: when ioasid_ctx__free() destroys objects of this type.
 * @destroy: frees @obj and removes it from @ctx, whatever it is attached to.
 * @account: adds @obj to @a (ioasid_ctx__account()).
 */
struct ioasid_obj_ops {
	enum ioasid_obj_type type;
	enum ioasid_free_pass free_pass;
	void (*destroy)(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
	void (*account)(const struct ioasid_obj *obj, struct ioasid_account *a);
};

void ctx_set_error(struct ioasid_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ctx_fail(struct ioasid_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ctx_obj_add(struct ioasid_ctx *ctx, struct ioasid_obj *obj,
		const struct ioasid_obj_ops *ops);
void ctx_obj_remove(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
struct ioasid_obj *ctx_obj_get(const struct ioasid_ctx *ctx, uint32_t id,
			       enum ioasid_obj_type type);
int ctx_pin(struct ioasid_ctx *ctx, uint64_t npages);
void ctx_unpin(struct ioasid_ctx *ctx, uint64_t npages);
struct ioasid_group_state *ctx_group_state(const struct ioasid_ctx *ctx,
					   const struct ioasid_group *group);

/* ioas.c */
struct ioasid_ioas_obj *ioas_get(struct ioasid_ctx *ctx, uint32_t id);
int ioas_resv_add(struct ioasid_ioas_obj *ioas, uint64_t start, uint64_t last,
		  const void *owner);
void ioas_resv_remove(struct ioasid_ioas_obj *ioas, const void *owner);
int ioas_domain_add(struct ioasid_ioas_obj *ioas, const struct ioasid_geometry *geo);
void ioas_domain_remove(struct ioasid_ioas_obj *ioas);

/* Sets errno and returns the negative errno (libbpf_err() style) for public calls. */
static inline int ioasid_err(int ret)
{
	if (ret < 0)
		errno = -ret;
	return ret;
}

#endif /* IOASID_PRIVATE_H */
