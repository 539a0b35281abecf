/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What `ioguard plan` (cmd_plan.c) shares with `ioguard groups` (cmd_groups.c): reading
 * the topology with the same error, and the "reasons" array both print
 * (docs/groups-json.md defines it once for the two commands).
 */
#ifndef IOGUARD_CMD_GROUPS_H
#define IOGUARD_CMD_GROUPS_H

#include "ioasid/ioasid.h"

/*
 * load_topology() - the topology under @root into *@topo. On failure, prints the cause
 * and returns a negative errno: -EBADMSG for malformed sysfs, which is not a usage error.
 */
int load_topology(const char *root, struct ioasid_topology **topo);

/* json_reasons() - the "reasons" field of @v on json_wtr. */
void json_reasons(const struct ioasid_verdict *v);

#endif /* IOGUARD_CMD_GROUPS_H */
