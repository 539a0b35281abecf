// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The what-if of `ioguard plan`; see plan.h. A group is decided by libioasid's verdict
 * for the owner the sim built from the group's first assigned device's tenant, and by
 * whether the plan splits the group between tenants, which no verdict of a single owner
 * can see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/errbuf.h"
#include "plan.h"

struct plan {
	struct plan_tenant *tenants;
	size_t nr_tenants;
	struct plan_group *groups;
	size_t nr_groups;
	struct ioasid_backend *be;	/* the sim, on the caller's topology */
};

struct plan *plan__new(void)
{
	return calloc(1, sizeof(struct plan));
}

static void tenant_clear(struct plan_tenant *t)
{
	size_t i;

	for (i = 0; i < t->nr_devices; i++)
		free(t->devices[i]);
	free(t->devices);
	free(t->name);
}

static void group_clear(struct plan_group *g)
{
	free(g->members);
	free(g->reasons);
	ioasid_verdict__free(g->verdict);
}

void plan__free(struct plan *p)
{
	size_t i;

	if (!p)
		return;
	/* Closing the backend frees every tenant's context. */
	ioasid_backend__close(p->be);
	for (i = 0; i < p->nr_groups; i++)
		group_clear(&p->groups[i]);
	free(p->groups);
	for (i = 0; i < p->nr_tenants; i++)
		tenant_clear(&p->tenants[i]);
	free(p->tenants);
	free(p);
}

/* The tenant named by the @len bytes at @name, added when new; NULL on -ENOMEM. */
static struct plan_tenant *tenant_get(struct plan *p, const char *name, size_t len)
{
	struct plan_tenant *t;
	size_t i;

	for (i = 0; i < p->nr_tenants; i++)
		if (strlen(p->tenants[i].name) == len && !strncmp(p->tenants[i].name, name, len))
			return &p->tenants[i];
	t = reallocarray(p->tenants, p->nr_tenants + 1, sizeof(*t));
	if (!t)
		return NULL;
	p->tenants = t;
	t = &p->tenants[p->nr_tenants];
	memset(t, 0, sizeof(*t));
	t->name = strndup(name, len);
	if (!t->name)
		return NULL;
	p->nr_tenants++;
	return t;
}

static int tenant_add_device(struct plan_tenant *t, const char *name)
{
	char **devices = reallocarray(t->devices, t->nr_devices + 1, sizeof(*devices));

	if (!devices)
		return -ENOMEM;
	t->devices = devices;
	t->devices[t->nr_devices] = strdup(name);
	if (!t->devices[t->nr_devices])
		return -ENOMEM;
	t->nr_devices++;
	return 0;
}

int plan__assign(struct plan *p, const char *spec, struct errbuf *eb)
{
	const char *eq = strchr(spec, '=');
	char *list, *tok, *save = NULL;
	struct plan_tenant *t;
	int ret = 0;

	if (!eq || eq == spec || !eq[1])
		return errbuf_set(eb, -EINVAL, "%s: expected TENANT=BDF[,BDF...]", spec);
	t = tenant_get(p, spec, eq - spec);
	list = t ? strdup(eq + 1) : NULL;
	if (!list)
		goto out_nomem;
	/* Empty items ("a,,b") are skipped, as strtok_r() does. */
	for (tok = strtok_r(list, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = tenant_add_device(t, tok);
	free(list);
	if (ret)
		goto out_nomem;
	return 0;
out_nomem:
	return errbuf_set(eb, -ENOMEM, "%s: %s", spec, strerror(ENOMEM));
}

/* The tenant @dev is assigned to, or NULL. */
static struct plan_tenant *owner_of(const struct plan *p, const char *dev)
{
	size_t i, j;

	for (i = 0; i < p->nr_tenants; i++)
		for (j = 0; j < p->tenants[i].nr_devices; j++)
			if (!strcmp(p->tenants[i].devices[j], dev))
				return &p->tenants[i];
	return NULL;
}

/* How many times @dev is assigned, over every tenant. */
static size_t times_assigned(const struct plan *p, const char *dev)
{
	size_t i, j, n = 0;

	for (i = 0; i < p->nr_tenants; i++)
		for (j = 0; j < p->tenants[i].nr_devices; j++)
			n += !strcmp(p->tenants[i].devices[j], dev);
	return n;
}

static int check_device(const struct plan *p, const struct ioasid_topology *topo,
			const char *name, struct errbuf *eb)
{
	const struct ioasid_device *d = ioasid_topology__find_device(topo, name);

	if (!d)
		return errbuf_set(eb, -ENODEV, "%s: no such device in %s", name,
				  ioasid_topology__root(topo));
	if (!ioasid_device__group(d))
		return errbuf_set(eb, -ENODEV, "%s: the device has no IOMMU group; it cannot "
				  "be assigned safely", name);
	if (times_assigned(p, name) > 1)
		return errbuf_set(eb, -EINVAL, "%s is assigned more than once", name);
	return 0;
}

/* The what-if: every assigned device not on a VFIO driver is taken as bound to vfio-pci. */
static int rebind_to_vfio(const struct plan *p, struct ioasid_topology *topo)
{
	size_t i, j;
	int ret;

	for (i = 0; i < p->nr_tenants; i++)
		for (j = 0; j < p->tenants[i].nr_devices; j++) {
			const char *name = p->tenants[i].devices[j];
			const char *drv = ioasid_device__driver(ioasid_topology__find_device(topo, name));

			if (ioasid_driver__kind(drv) == IOASID_DRIVER_VFIO)
				continue;
			ret = ioasid_topology__set_driver(topo, name, "vfio-pci");
			if (ret)
				return ret;
		}
	return 0;
}

/* One tenant as one owner: binds its devices and attaches them all to one IOAS. */
static void simulate_tenant(struct ioasid_backend *be, struct plan_tenant *t)
{
	uint32_t ioas, *ids;
	size_t i;

	ids = calloc(t->nr_devices, sizeof(*ids));
	t->sim_err = ids ? ioasid_ctx__new(be, NULL, &t->ctx) : -ENOMEM;
	if (t->sim_err)
		goto out_free;
	for (i = 0; i < t->nr_devices && !t->sim_err; i++)
		t->sim_err = ioasid_device__bind(t->ctx, t->devices[i], &ids[i]);
	if (!t->sim_err)
		t->sim_err = ioasid_ioas__alloc(t->ctx, &ioas);
	for (i = 0; i < t->nr_devices && !t->sim_err; i++)
		t->sim_err = ioasid_device__attach(t->ctx, ids[i], ioas);
	if (t->sim_err)
		snprintf(t->sim_msg, sizeof(t->sim_msg), "%s", ioasid_ctx__last_error(t->ctx)->msg);
out_free:
	free(ids);
}

static bool group_touched(const struct plan *p, const struct ioasid_group *g)
{
	size_t i;

	for (i = 0; i < ioasid_group__nr_devices(g); i++)
		if (owner_of(p, ioasid_device__name(ioasid_group__device(g, i))))
			return true;
	return false;
}

/* Fills @pg->members, and @pg->split with the tenant of the first assigned device. */
static int group_members(const struct plan *p, const struct ioasid_group *g,
			 struct plan_group *pg, const struct plan_tenant **first)
{
	size_t i, n = ioasid_group__nr_devices(g);

	pg->members = calloc(n ? n : 1, sizeof(*pg->members));
	if (!pg->members)
		return -ENOMEM;
	*first = NULL;
	for (i = 0; i < n; i++) {
		const struct ioasid_device *d = ioasid_group__device(g, i);
		const struct plan_tenant *t = owner_of(p, ioasid_device__name(d));

		pg->members[i].name = ioasid_device__name(d);
		pg->members[i].tenant = t ? t->name : NULL;
		pg->members[i].bridge = ioasid_device__is_bridge(d);
		if (t && !*first)
			*first = t;
		else if (t && t != *first)
			pg->split = true;
	}
	pg->nr_members = n;
	return 0;
}

/*
 * The advice for one reason. The kernel rule's DMA-API devices must go from the group
 * (or come along); under the strict rule, a device that neither a driver nor another
 * owner holds only needs to join @first. The strict rule repeats the kernel's
 * DMA-API and other-owner reasons: those get their advice once, under the kernel rule.
 */
static enum plan_advice advice_for(const struct plan *p, const struct ioasid_reason *r,
				   const struct plan_tenant *first)
{
	if (r->rule == IOASID_RULE_KERNEL && r->cause == IOASID_CAUSE_DMA_API_DRIVER)
		return PLAN_ADVICE_UNBIND;
	if (r->rule == IOASID_RULE_STRICT && r->cause != IOASID_CAUSE_DMA_API_DRIVER &&
	    r->cause != IOASID_CAUSE_OTHER_OWNER && owner_of(p, ioasid_device__name(r->dev)) != first)
		return PLAN_ADVICE_ASSIGN;
	return PLAN_ADVICE_NONE;
}

static int group_reasons(const struct plan *p, struct plan_group *pg,
			 const struct plan_tenant *first)
{
	size_t i, n = ioasid_verdict__nr_reasons(pg->verdict);

	pg->reasons = calloc(n ? n : 1, sizeof(*pg->reasons));
	if (!pg->reasons)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pg->reasons[i].why = ioasid_verdict__reason(pg->verdict, i);
		pg->reasons[i].advice = advice_for(p, pg->reasons[i].why, first);
	}
	pg->nr_reasons = n;
	return 0;
}

/* The decision for one touched group; an error of the verdict is the group's. */
static int decide_group(const struct plan *p, const struct ioasid_group *g,
			struct plan_group *pg)
{
	const struct plan_tenant *first;
	size_t i;
	int err;

	pg->id = ioasid_group__id(g);
	err = group_members(p, g, pg, &first);
	if (err)
		return err;
	pg->tenant = first ? first->name : NULL;
	pg->err = ioasid_group__check(g, first ? first->ctx : NULL, &pg->verdict);
	if (pg->err)
		return 0;
	pg->kernel_viable = ioasid_verdict__viable(pg->verdict, IOASID_RULE_KERNEL) && !pg->split;
	pg->strict_viable = ioasid_verdict__viable(pg->verdict, IOASID_RULE_STRICT) && !pg->split;
	for (i = 0; i < pg->nr_members; i++)
		pg->members[i].must_move = !pg->members[i].bridge &&
					   (pg->split || !pg->strict_viable);
	return group_reasons(p, pg, first);
}

static int decide_groups(struct plan *p, const struct ioasid_topology *topo)
{
	size_t i, n = ioasid_topology__nr_groups(topo);
	int err;

	p->groups = calloc(n ? n : 1, sizeof(*p->groups));
	if (!p->groups)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct ioasid_group *g = ioasid_topology__group(topo, i);

		if (!group_touched(p, g))
			continue;
		err = decide_group(p, g, &p->groups[p->nr_groups++]);
		if (err)
			return err;
	}
	return 0;
}

int plan__evaluate(struct plan *p, struct ioasid_topology *topo, struct errbuf *eb)
{
	size_t i, j;
	int ret;

	for (i = 0; i < p->nr_tenants; i++)
		for (j = 0; j < p->tenants[i].nr_devices; j++) {
			ret = check_device(p, topo, p->tenants[i].devices[j], eb);
			if (ret)
				return ret;
		}
	ret = rebind_to_vfio(p, topo);
	if (ret)
		return errbuf_set(eb, ret, "cannot rebind the assigned devices to vfio-pci: %s",
				  strerror(-ret));
	ret = ioasid_backend__open(topo, NULL, &p->be);
	if (ret)
		return errbuf_set(eb, ret, "cannot open the sim backend: %s", strerror(-ret));
	for (i = 0; i < p->nr_tenants; i++)
		simulate_tenant(p->be, &p->tenants[i]);
	ret = decide_groups(p, topo);
	if (ret)
		errbuf_set(eb, ret, "cannot decide the groups of the plan: %s", strerror(-ret));
	return ret;
}

size_t plan__nr_tenants(const struct plan *p)
{
	return p->nr_tenants;
}

const struct plan_tenant *plan__tenant(const struct plan *p, size_t idx)
{
	return idx < p->nr_tenants ? &p->tenants[idx] : NULL;
}

size_t plan__nr_groups(const struct plan *p)
{
	return p->nr_groups;
}

const struct plan_group *plan__group(const struct plan *p, size_t idx)
{
	return idx < p->nr_groups ? &p->groups[idx] : NULL;
}

bool plan__viable(const struct plan *p, enum ioasid_rule rule)
{
	size_t i;

	for (i = 0; i < p->nr_tenants; i++)
		if (p->tenants[i].sim_err)
			return false;
	for (i = 0; i < p->nr_groups; i++) {
		if (p->groups[i].err || !p->groups[i].kernel_viable)
			return false;
		if (rule == IOASID_RULE_STRICT && !p->groups[i].strict_viable)
			return false;
	}
	return true;
}
