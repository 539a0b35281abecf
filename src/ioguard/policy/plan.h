/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * plan: the what-if of `ioguard plan`. Devices are assigned to tenants; the plan assumes
 * them rebound to vfio-pci, lets libioasid's sim backend bind each tenant's devices and
 * attach them to one IOAS as one owner, and decides for every IOMMU group it touches
 * whether the assignment is viable under the kernel and the strict rule, and what must
 * change when it is not. It prints nothing: cmd_plan.c renders the result.
 *
 * Errors are a negative errno with the cause in the caller's struct errbuf.
 *
 * Ownership: the plan owns its tenants, groups and the sim backend. The topology given to
 * plan__evaluate() is the caller's; the plan rebinds drivers in it and its backend points
 * at it, so free the plan first, then the topology. Every pointer a plan__*() accessor
 * returns (names, reasons) stays valid until plan__free().
 */
#ifndef IOGUARD_PLAN_H
#define IOGUARD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "output/errbuf.h"
#include "ioasid/ioasid.h"

struct plan;

/* What the plan asks of the operator about one reason of a group's verdict. */
enum plan_advice {
	PLAN_ADVICE_NONE,	/* nothing beyond the reason itself */
	/* Kernel rule, a device on a kernel-DMA-API driver: unbind it, or assign it too. */
	PLAN_ADVICE_UNBIND,
	/* Strict rule, a device the group's tenant does not hold: assign it too. */
	PLAN_ADVICE_ASSIGN,
};

/* One device of a touched group, in the group's (name) order. */
struct plan_member {
	const char *name;
	const char *tenant;	/* NULL: assigned to nobody */
	bool bridge;
	/* An endpoint that must move with the others: the group is split or not strict-viable. */
	bool must_move;
};

struct plan_reason {
	const struct ioasid_reason *why;	/* rule, cause, device, message */
	enum plan_advice advice;
};

/* One IOMMU group holding at least one assigned device, in group id order. */
struct plan_group {
	unsigned int id;
	/* Negative errno: the verdict could not be computed; the group is not viable and
	 * nothing below @id is set. */
	int err;
	bool split;		/* its devices are assigned to more than one tenant */
	bool kernel_viable;	/* kernel rule, and not split */
	bool strict_viable;	/* strict rule, and not split */
	/* Tenant of the group's first assigned device: the owner the sim checked the
	 * group against, and the one the advice names. */
	const char *tenant;
	struct plan_member *members;
	size_t nr_members;
	struct plan_reason *reasons;
	size_t nr_reasons;
	struct ioasid_verdict *verdict;		/* owned; @reasons point into it */
};

struct plan_tenant {
	char *name;
	char **devices;		/* in the order given */
	size_t nr_devices;
	/* The sim's first failure binding or attaching them: negative errno, or 0. */
	int sim_err;
	char sim_msg[256];	/* libioasid's message for @sim_err */
	struct ioasid_ctx *ctx;	/* the tenant as one owner in the sim */
};

/* plan__new() - an empty plan, or NULL when out of memory. */
struct plan *plan__new(void);

/* plan__free() - frees @p and its sim backend; NULL is fine. */
void plan__free(struct plan *p);

/*
 * plan__assign() - add TENANT=BDF[,BDF...] from @spec: the devices go to TENANT, created
 * on first use (the same tenant may be given more than once). Returns 0, -EINVAL for a
 * spec without a tenant or devices ("SPEC: expected TENANT=BDF[,BDF...]" in @eb), or
 * -ENOMEM. Devices are checked against the topology by plan__evaluate().
 */
int plan__assign(struct plan *p, const char *spec, struct errbuf *eb);

/*
 * plan__evaluate() - run the plan on @topo. Checks every assigned device first, in the
 * order given: -ENODEV for one @topo does not hold or one without an IOMMU group (it
 * cannot be assigned safely), -EINVAL for one assigned twice. Then rebinds the assigned
 * devices of @topo to vfio-pci, opens the sim backend on it, binds and attaches each
 * tenant's devices and computes the verdict of every touched group. A sim failure is the
 * tenant's (@sim_err), not the call's. Returns 0 or a negative errno with @eb set.
 */
int plan__evaluate(struct plan *p, struct ioasid_topology *topo, struct errbuf *eb);

size_t plan__nr_tenants(const struct plan *p);
const struct plan_tenant *plan__tenant(const struct plan *p, size_t idx);

/* After plan__evaluate(): the touched groups. */
size_t plan__nr_groups(const struct plan *p);
const struct plan_group *plan__group(const struct plan *p, size_t idx);

/*
 * plan__viable() - under the kernel rule: every touched group kernel-viable and every
 * tenant bound and attached in the sim. Under the strict rule: that, and every touched
 * group strict-viable.
 */
bool plan__viable(const struct plan *p, enum ioasid_rule rule);

#endif /* IOGUARD_PLAN_H */
