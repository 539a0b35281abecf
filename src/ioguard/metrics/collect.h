/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metrics collector: fills a struct metrics_snapshot from what is running now.
 *
 *  - the BPF aggregates of one loaded tracer (per-CPU hashes, summed over CPUs) and its
 *    lost[] counters;
 *  - the decision counters of the pinned enforcement, with tenant names from the policy
 *    in force (enforcer_status());
 *  - every IOMMU group of the sysfs topology with both viability verdicts (libioasid);
 *  - run count and run time of every ioguard BPF program, the tracer's and the pinned
 *    enforcement's (bpf_prog_info; kernel.bpf_stats_enabled);
 *  - build info: version and the tracer's mode;
 *  - the host's isolation posture (posture.h) and whether a policy is in force.
 *
 * Each part is a function of its own, so the tests can feed one with a fake source.
 * A part whose source is absent (no tracer, nothing pinned) adds nothing; a source that
 * is present but unreadable fails the collection, so the scrape is a 500, never a
 * silently partial exposition.
 */
#ifndef IOGUARD_COLLECT_H
#define IOGUARD_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "prog/enforcer.h"
#include "snapshot.h"
#include "prog/tracer.h"

#define COLLECT_BPF_STATS_PATH "/proc/sys/kernel/bpf_stats_enabled"
/* The tenant label of decisions that name no tenant; never a valid tenant name. */
#define COLLECT_NO_TENANT "(none)"

/*
 * struct collect_ctx - where collect_metrics() reads from. Zero fields are defaults.
 * @sz:             sizeof(struct collect_ctx)
 * @tracer:         a loaded tracer, or NULL (no aggregates; build info mode "")
 * @sysfs_root:     root of the sysfs the groups are read from; NULL: "/"
 * @no_enforcement: do not read the pinned enforcement
 * @bpf_stats_path: NULL: COLLECT_BPF_STATS_PATH
 */
struct collect_ctx {
	size_t sz;
	const struct tracer *tracer;
	const char *sysfs_root;
	bool no_enforcement;
	const char *bpf_stats_path;
};

/* Everything above into @s (reset by the caller). Return: 0 or a negative errno. */
int collect_metrics(const struct collect_ctx *ctx, struct metrics_snapshot *s);

/*
 * collect_aggregates() - the per-CPU aggregation maps (operations, page and DMA
 * faults, invalidations), values summed over the possible CPUs. An fd < 0 skips that map.
 */
int collect_aggregates(struct metrics_snapshot *s, const struct tracer_maps *maps);

/*
 * collect_dma_fault_groups() - the IOMMU group of each DMA fault entry's device, from
 * sysfs under @sysfs_root; IOGUARD_GROUP_UNKNOWN for a device that is gone or in no
 * group (a fault names a requester id, which may match no device any more).
 */
void collect_dma_fault_groups(struct metrics_snapshot *s, const char *sysfs_root);

/* One ioguard_group_* entry per IOMMU group of the topology under @sysfs_root. */
int collect_groups(struct metrics_snapshot *s, const char *sysfs_root);

/*
 * collect_posture() - the host's isolation posture read under @root (NULL: the live
 * system) and, with @st, the enforcement in force. Cannot fail: an unreadable fact is a
 * value (posture.h).
 */
void collect_posture(struct metrics_snapshot *s, const char *root,
		     const struct enforcer_status *st);

/*
 * collect_decisions() - the decision counters of @st, named; the tenant by the active
 * policy's slot, or COLLECT_NO_TENANT.
 */
int collect_decisions(struct metrics_snapshot *s, const struct enforcer_status *st);

/* Run count and time of one program, from bpf_prog_get_info_by_fd(@fd). */
int collect_program(struct metrics_snapshot *s, const char *name, int fd);

/* kernel.bpf_stats_enabled from @path: 0 and *on, or a negative errno. */
int collect_bpf_stats_enabled(const char *path, bool *on);

#endif /* IOGUARD_COLLECT_H */
