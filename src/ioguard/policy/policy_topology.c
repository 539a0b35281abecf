// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "policy_topology.h"
#include "host/topology_record.h"

static bool selector_matches(const struct policy_device *sel, const struct ioasid_device *dev)
{
	const struct ioasid_group *group = ioasid_device__group(dev);
	char bdf[32];

	switch (sel->kind) {
	case POLICY_DEV_BDF:
		snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%d", sel->bdf.domain, sel->bdf.bus,
			 sel->bdf.dev, sel->bdf.fn);
		return !strcmp(bdf, ioasid_device__name(dev));
	case POLICY_DEV_ID:
		if (!ioasid_device__is_pci(dev))
			return false;
		return (sel->id.vendor == POLICY_PCI_ID_ANY ||
			sel->id.vendor == ioasid_device__vendor(dev)) &&
		       (sel->id.device == POLICY_PCI_ID_ANY ||
			sel->id.device == ioasid_device__device_id(dev));
	case POLICY_DEV_CLASS:
		return ioasid_device__is_pci(dev) &&
		       (ioasid_device__class(dev) & sel->class.mask) == sel->class.value;
	case POLICY_DEV_GROUP:
		return group && ioasid_group__id(group) == sel->group;
	}
	return false;
}

int policy_device_owner(const struct policy *p, const struct ioasid_device *dev)
{
	size_t t, s;

	for (t = 0; t < p->n_tenants; t++) {
		for (s = 0; s < p->tenants[t].n_devices; s++) {
			if (selector_matches(&p->tenants[t].devices[s], dev))
				return t;
		}
	}
	return POLICY_NO_OWNER;
}

static const char *owner_name(const struct policy *p, int owner)
{
	return owner == POLICY_NO_OWNER ? "no tenant" : p->tenants[owner].name;
}

/* First endpoint of @group whose owner differs from the group's first endpoint's. */
static int check_group(const struct policy *p, const struct ioasid_group *group,
		       struct errbuf *eb)
{
	const struct ioasid_device *first = NULL;
	int first_owner = POLICY_NO_OWNER;
	size_t i;

	for (i = 0; i < ioasid_group__nr_devices(group); i++) {
		const struct ioasid_device *dev = ioasid_group__device(group, i);
		int owner;

		if (ioasid_device__is_bridge(dev))
			continue;
		owner = policy_device_owner(p, dev);
		if (!first) {
			first = dev;
			first_owner = owner;
			continue;
		}
		if (owner == first_owner)
			continue;
		/* Owned next to unowned is harmless only if nobody may use the unowned one. */
		if ((owner == POLICY_NO_OWNER || first_owner == POLICY_NO_OWNER) &&
		    p->dflt == POLICY_DEFAULT_DENY)
			continue;
		return errbuf_set(eb, -EPERM, "IOMMU group %u is split: %s belongs to %s but %s "
				  "belongs to %s%s; devices of one group can reach each other by "
				  "DMA, so they must have one owner", ioasid_group__id(group),
				  ioasid_device__name(first), owner_name(p, first_owner),
				  ioasid_device__name(dev), owner_name(p, owner),
				  owner == POLICY_NO_OWNER || first_owner == POLICY_NO_OWNER ?
				  " (usable by anyone: default is allow)" : "");
	}
	return 0;
}

/*
 * A device has one owner (docs/policy.md): a device that the selectors of two tenants
 * reach, say a BDF in one and a vendor wildcard in another, is refused rather than
 * silently given to whichever tenant comes first.
 */
static int check_one_owner(const struct policy *p, const struct ioasid_device *dev,
			   struct errbuf *eb)
{
	const struct policy_device *first_sel = NULL;
	size_t t, s;
	int first = POLICY_NO_OWNER;

	for (t = 0; t < p->n_tenants; t++) {
		for (s = 0; s < p->tenants[t].n_devices; s++) {
			const struct policy_device *sel = &p->tenants[t].devices[s];

			if (!selector_matches(sel, dev))
				continue;
			if (first == POLICY_NO_OWNER) {
				first = t;
				first_sel = sel;
				break;
			}
			return errbuf_set(eb, -EPERM, "%u:%u: device %s is reached by tenant %s "
					  "and, at %u:%u, by tenant %s: a device has one owner",
					  first_sel->pos.line, first_sel->pos.column,
					  ioasid_device__name(dev), p->tenants[first].name,
					  sel->pos.line, sel->pos.column, p->tenants[t].name);
		}
	}
	return 0;
}

static bool selector_reaches_any(const struct policy_device *sel,
				 const struct ioasid_topology *topo)
{
	size_t i;

	for (i = 0; i < ioasid_topology__nr_devices(topo); i++) {
		if (selector_matches(sel, ioasid_topology__device(topo, i)))
			return true;
	}
	return false;
}

static void warn_unreached(const struct policy *p, const struct ioasid_topology *topo,
			   struct errbuf *eb)
{
	size_t t, s;

	for (t = 0; t < p->n_tenants; t++) {
		for (s = 0; s < p->tenants[t].n_devices; s++) {
			const struct policy_device *sel = &p->tenants[t].devices[s];

			if (selector_reaches_any(sel, topo))
				continue;
			errbuf_note(eb, ERRBUF_WARN, "%u:%u: the device selector of tenant %s "
				    "matches no device on this system", sel->pos.line,
				    sel->pos.column, p->tenants[t].name);
		}
	}
}

int policy_topology_check(const struct policy *p, const struct ioasid_topology *topo,
			  struct errbuf *eb)
{
	size_t g;
	int ret;

	warn_unreached(p, topo, eb);
	for (g = 0; g < ioasid_topology__nr_devices(topo); g++) {
		ret = check_one_owner(p, ioasid_topology__device(topo, g), eb);
		if (ret)
			return ret;
	}
	for (g = 0; g < ioasid_topology__nr_groups(topo); g++) {
		ret = check_group(p, ioasid_topology__group(topo, g), eb);
		if (ret)
			return ret;
	}
	return 0;
}

/* A "LINE:COLUMN: cause" warning of policy_topology_check() as "FILE:LINE:COLUMN: warning: cause". */
struct file_notes {
	const char *path;
	struct errbuf *eb;
};

static void note_in_file(void *ctx, enum errbuf_level level, const char *msg)
{
	const struct file_notes *fn = ctx;
	const char *cause = strchr(strchr(msg, ':') + 1, ':');

	errbuf_note(fn->eb, ERRBUF_WARN_AT, "%s:%.*s: warning:%s", fn->path, (int)(cause - msg),
		    msg, cause + 1);
}

int policy_topology_report(const char *path, const struct policy *p, const char *sysfs_root,
			   struct errbuf *eb)
{
	struct file_notes notes = { .path = path, .eb = eb };
	struct errbuf why = { .note = note_in_file, .note_ctx = &notes };
	struct ioasid_topology *topo = NULL;
	struct ioasid_error ierr = { 0 };
	char groups[4096];
	struct stat st;
	int ret;

	snprintf(groups, sizeof(groups), "%s/sys/kernel/iommu_groups",
		 sysfs_root ? sysfs_root : "");
	if (stat(groups, &st)) {
		errbuf_note(eb, ERRBUF_WARN, "%s: no IOMMU groups (%s: %s): nothing to check "
			    "group viability against", path, groups, strerror(errno));
		return 0;
	}
	ret = ioasid_topology__load(sysfs_root, &topo, &ierr);
	if (ret)
		return errbuf_set(eb, ret, "%s: cannot read the device topology: %s", path,
				  ierr.msg);
	ret = policy_topology_check(p, topo, &why);
	if (ret)
		errbuf_set(eb, ret, "%s: %s", path, why.msg);
	ioasid_topology__free(topo);
	return ret;
}

/* The groups of @topo holding a device a tenant of @p owns, each once, into *@out. */
static int named_groups(const struct policy *p, const struct ioasid_topology *topo,
			unsigned int **out, size_t *n)
{
	size_t i, j, nr = ioasid_topology__nr_devices(topo);
	unsigned int *v = calloc(nr ? nr : 1, sizeof(*v));

	*n = 0;
	if (!v)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		const struct ioasid_device *dev = ioasid_topology__device(topo, i);
		const struct ioasid_group *g = ioasid_device__group(dev);
		unsigned int id;

		if (!g || policy_device_owner(p, dev) == POLICY_NO_OWNER)
			continue;
		id = ioasid_group__id(g);
		for (j = 0; j < *n && v[j] != id; j++)
			;
		if (j == *n)
			v[(*n)++] = id;
	}
	*out = v;
	return 0;
}

int policy_topology_stamp(const struct policy *p, const char *sysfs_root, struct errbuf *eb)
{
	struct topology_record rec = { 0 }, again = { 0 };
	struct topology_change *changes = NULL;
	struct ioasid_topology *topo = NULL;
	struct ioasid_error ierr = { 0 };
	struct errbuf cause = { .note = NULL };	/* the check's warnings are the load's */
	char path[4096], hex[65];
	unsigned int *named = NULL;
	size_t n_named = 0;
	int ret, n;

	ret = topology_stamp_path(path, sizeof(path));
	if (ret)
		return errbuf_set(eb, ret, "the run directory's path is too long");
	/* Another policy's stamp must not outlive a failure to write this one's. */
	if (unlink(path) && errno != ENOENT) {
		ret = -errno;
		return errbuf_set(eb, ret, "cannot remove the previous stamp %s: %s", path,
				  strerror(-ret));
	}
	ret = topology_record__read(sysfs_root, &rec);
	if (ret)
		return errbuf_set(eb, ret, "cannot read the IOMMU groups: %s", strerror(-ret));
	ret = ioasid_topology__load(sysfs_root, &topo, &ierr);
	if (ret == -ENOENT) {
		ret = 0;	/* no groups: nothing is named */
	} else if (ret) {
		errbuf_set(eb, ret, "cannot read the device topology: %s", ierr.msg);
		goto out;
	} else {
		/*
		 * The load takes seconds; what is stamped must be a topology the policy
		 * passes, not one that changed after the check in front of the load.
		 */
		ret = policy_topology_check(p, topo, &cause);
		if (ret) {
			ret = errbuf_set(eb, -ESTALE, "the topology changed during the load and "
					 "fails the policy's check now (%s)", cause.msg);
			goto out;
		}
		ret = named_groups(p, topo, &named, &n_named);
		if (ret) {
			errbuf_set(eb, ret, "%s", strerror(-ret));
			goto out;
		}
	}
	/* The record, the check and the named groups must come from one topology. */
	ret = topology_record__read(sysfs_root, &again);
	if (ret) {
		errbuf_set(eb, ret, "cannot read the IOMMU groups: %s", strerror(-ret));
		goto out;
	}
	n = topology_record__diff(&rec, &again, NULL, &changes);
	if (n) {
		ret = errbuf_set(eb, n < 0 ? n : -ESTALE, "%s", n < 0 ? strerror(-n) :
				 "the topology changed while it was being recorded");
		goto out;
	}
	policy__hash_hex(p, hex);
	ret = topology_stamp_write(path, &rec, hex, named, n_named);
	if (ret)
		errbuf_set(eb, ret, "cannot write %s: %s", path, strerror(-ret));
out:
	free(changes);
	free(named);
	ioasid_topology__free(topo);
	topology_record__fini(&again);
	topology_record__fini(&rec);
	return ret;
}
