/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A policy against the device topology: who owns each device, and whether the
 * ownership keeps every IOMMU group whole.
 */
#ifndef IOGUARD_POLICY_TOPOLOGY_H
#define IOGUARD_POLICY_TOPOLOGY_H

#include <stddef.h>

#include "output/errbuf.h"
#include "ioasid/ioasid.h"
#include "policy.h"

#define POLICY_NO_OWNER (-1)

/*
 * policy_device_owner() - index of the tenant owning @dev, or POLICY_NO_OWNER. The first
 * selector that matches, in tenant order then selector order, decides: the order in
 * which the enforcement programs scan the compiled selectors.
 */
int policy_device_owner(const struct policy *p, const struct ioasid_device *dev);

/*
 * policy_topology_check() - is @p group-viable on @topo?
 * A group whose endpoints belong to different tenants, or to a tenant and to nobody
 * while the default is allow, would let two parties share one isolation unit: -EPERM,
 * with the group, the devices and the tenants in @eb. Each selector that reaches no
 * device (a BDF or group that does not exist) is an ERRBUF_WARN note of @eb,
 * "LINE:COLUMN: cause", made before the error. Bridges are not endpoints.
 */
int policy_topology_check(const struct policy *p, const struct ioasid_topology *topo,
			  struct errbuf *eb);

/*
 * policy_topology_report() - policy_topology_check() on the topology at @sysfs_root
 * (NULL: the live /sys), with each warning a "FILE:LINE:COLUMN: warning: ..." note
 * (ERRBUF_WARN_AT) of @eb and the error naming @path in @eb. A system without IOMMU
 * groups has nothing to split; that is said (a warning note), not hidden. Returns 0,
 * -EPERM for a split group, or the topology loader's error.
 */
int policy_topology_report(const char *path, const struct policy *p, const char *sysfs_root,
			   struct errbuf *eb);

/*
 * policy_topology_stamp() - record the topology under @sysfs_root (NULL: the live /sys)
 * as the one @p was checked against, with the groups it names (those holding a device
 * a tenant owns), in the stamp of topology_record.h. Called once @p is in force: the
 * previous stamp is removed first, and the topology is checked again and read twice,
 * so that what is stamped is one topology @p passes. Returns 0, -ESTALE when the
 * topology changed during the load or while it was read, or another negative errno,
 * with the cause in @eb (which names no policy file; the check's warnings are dropped).
 */
int policy_topology_stamp(const struct policy *p, const char *sysfs_root, struct errbuf *eb);

#endif /* IOGUARD_POLICY_TOPOLOGY_H */
