/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a policy's group-viability check relied on: which device is in which IOMMU group,
 * and on which driver. Recorded when a policy is put in force (the "stamp", a file of
 * the run directory beside the decision feed's socket) and compared with sysfs by
 * `ioguard status` and by the daemon's topology watch, so a group that changed under a
 * loaded policy is said, not assumed away.
 *
 * A change is of one of three kinds: a device joined a group, left one, or changed
 * driver. Driver changes matter only in the groups the policy names (those with a device
 * a tenant owns): elsewhere they are the host's own business.
 */
#ifndef IOGUARD_TOPOLOGY_RECORD_H
#define IOGUARD_TOPOLOGY_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define TOPOLOGY_STAMP_FILE "policy-topology"
#define TOPOLOGY_NAME_LEN 64		/* sysfs device names: "0000:01:00.0" */

enum topology_change_kind {
	TOPOLOGY_DEVICE_JOINED = 0,
	TOPOLOGY_DEVICE_LEFT,
	TOPOLOGY_DRIVER_CHANGED,
	TOPOLOGY_CHANGE_KIND_COUNT,
};

/* "device_joined", "device_left", "driver_changed": the metrics' kind label. */
const char *topology_change_kind__str(enum topology_change_kind kind);

/* One device of one group; @driver "" when none is bound. */
struct topology_entry {
	unsigned int group;
	char device[TOPOLOGY_NAME_LEN];
	char driver[TOPOLOGY_NAME_LEN];
};

/*
 * struct topology_record - every grouped device, sorted by device name, and the groups
 * a policy names (sorted), when the record is a stamp.
 */
struct topology_record {
	struct topology_entry *entries;
	size_t n;
	unsigned int *named;
	size_t n_named;
	char policy_sha256[65];		/* of the stamp; "" for a live read */
};

struct topology_change {
	enum topology_change_kind kind;
	unsigned int group;
	char device[TOPOLOGY_NAME_LEN];
	char from[TOPOLOGY_NAME_LEN];	/* driver_changed: old driver, "" for none */
	char to[TOPOLOGY_NAME_LEN];	/* driver_changed: new driver, "" for none */
};

/*
 * topology_record__read() - the groups under @root (NULL: the live /sys) into @r (freed
 * first). A host without /sys/kernel/iommu_groups has an empty record. Returns 0,
 * -ENOMEM, or the -errno of a groups directory that exists but cannot be read.
 */
int topology_record__read(const char *root, struct topology_record *r);

void topology_record__fini(struct topology_record *r);

bool topology_record__named(const struct topology_record *r, unsigned int group);

/*
 * topology_record__diff() - the changes from @old to @now, driver changes only in the
 * groups @named names (@named NULL: every group), in device order, into *@out (free()).
 * A device that moved to another group left one and joined the other.
 * Returns the number of changes, or -ENOMEM.
 */
int topology_record__diff(const struct topology_record *old, const struct topology_record *now,
			  const struct topology_record *named, struct topology_change **out);

/* "device 0000:01:00.0 left group 5", "driver of 0000:01:00.0 (group 5): e1000 -> vfio-pci" */
void topology_change__describe(const struct topology_change *c, char *buf, size_t len);

/* Where the stamp lives: $IOGUARD_RUN_DIR or /run/ioguard, then TOPOLOGY_STAMP_FILE. */
int topology_stamp_path(char *buf, size_t len);

/*
 * topology_stamp_write() - record @r with @named_groups as the topology the policy
 * whose file has SHA-256 @policy_sha256 (hex) was checked against: written to a
 * temporary file and renamed over @path, so a reader sees one stamp or the other.
 * Returns 0 or a negative errno.
 */
int topology_stamp_write(const char *path, const struct topology_record *r,
			 const char *policy_sha256, const unsigned int *named_groups,
			 size_t n_named);

/*
 * topology_stamp_read() - the stamp at @path into @r. Returns 0, -ENOENT when there is
 * none, -EBADMSG when it is not one, or another negative errno.
 */
int topology_stamp_read(const char *path, struct topology_record *r);

#endif /* IOGUARD_TOPOLOGY_RECORD_H */
