/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * struct metrics_snapshot - one consistent user-space copy of everything ioguard exports
 * as metrics: the BPF aggregates (already summed over CPUs), group facts from libioasid,
 * policy decisions, BPF program statistics and build info, and the `ioguard run`
 * daemon's own counters. The collector (and the daemon) fill it through the adders; the
 * exposition renders it; nothing here knows about BPF maps or Prometheus.
 *
 * Ownership: the snapshot owns its arrays; string fields are copied in. Each array holds
 * one entry per key: the adders do not merge duplicates (the collector reads hash maps,
 * whose keys are unique). metrics_snapshot__sort() puts every array in key order, which
 * is the order the exposition prints, so consecutive scrapes list series identically.
 * Not thread-safe: one writer, and no reader while it writes.
 */
#ifndef IOGUARD_SNAPSHOT_H
#define IOGUARD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "ioguard/metrics.h"
#include "ioguard/trace.h"
#include "host/posture.h"

/* Longest strings, terminating NUL included; longer ones are refused (-ENAMETOOLONG). */
#define METRICS_GROUP_TYPE_LEN 16	/* "DMA", "DMA-FQ", "identity", "blocked" */
#define METRICS_POLICY_STR_LEN 64	/* hook, decision, reason, tenant */
#define METRICS_PROG_NAME_LEN 64	/* libbpf program names are C identifiers */
#define METRICS_BUILD_STR_LEN 32	/* version, mode */
#define METRICS_DAEMON_LABEL_LEN 32	/* "timeout", "driver_changed" */

struct metrics_hist_entry {
	__s32 group;		/* IOMMU group id or IOGUARD_GROUP_UNKNOWN */
	__u32 op;		/* enum ioguard_op */
	__u32 kind;		/* enum ioguard_hist_kind */
	struct ioguard_hist hist;
};

struct metrics_calls_entry {
	__s32 group;
	__u32 op;		/* enum ioguard_op */
	__u32 result;		/* enum ioguard_result */
	__u64 calls;
	__u64 bytes;		/* bytes requested by map and unmap ops */
};

struct metrics_fault_entry {
	char device[IOGUARD_DEV_NAME_LEN];
	__s32 group;
	__u64 faults;
};

/* VT-d DMA-remapping faults of one requester, kind and reason (ioguard_dma_faults_total). */
struct metrics_dma_fault_entry {
	char device[IOGUARD_DEV_NAME_LEN];	/* PCI name of the requester */
	__s32 group;		/* its IOMMU group, IOGUARD_GROUP_UNKNOWN if none */
	__u32 kind;		/* enum ioguard_dma_fault_kind */
	__u32 reason;		/* fault reason code, 0-255 */
	__u64 faults;
};

struct metrics_inval_entry {
	__s32 group;		/* IOMMU group id or IOGUARD_GROUP_UNKNOWN */
	__u32 cause;		/* enum ioguard_inval_cause */
	__u32 kind;		/* enum ioguard_inval_kind */
	__u64 descriptors;	/* descriptors submitted */
	struct ioguard_hist latency;	/* per submission, ns; count 0: none timed */
};

struct metrics_group_entry {
	__s32 group;
	char type[METRICS_GROUP_TYPE_LEN];	/* default domain type; "" when unknown */
	__u32 devices;
	bool viable_kernel;	/* IOASID_RULE_KERNEL */
	bool viable_strict;	/* IOASID_RULE_STRICT */
};

struct metrics_decision_entry {
	char hook[METRICS_POLICY_STR_LEN];
	char decision[METRICS_POLICY_STR_LEN];
	char reason[METRICS_POLICY_STR_LEN];
	char tenant[METRICS_POLICY_STR_LEN];
	__u64 count;
};

struct metrics_prog_entry {
	char name[METRICS_PROG_NAME_LEN];
	__u64 run_cnt;		/* bpf_prog_info.run_cnt */
	__u64 run_time_ns;	/* bpf_prog_info.run_time_ns */
};

/*
 * struct metrics_posture - the host's isolation posture (posture.h) and the enforcement
 * in force, for the ioguard_host_* and ioguard_enforcement_* families.
 * @read:              the host facts were collected; nothing is exported otherwise
 * @enforcement_known: the pinned state was read (not with collect_ctx.no_enforcement)
 * @enforcement_error: reading it failed (negative errno), so whether a policy is in force
 *                     is unknown; 0 when it was read
 * @enforcing:         a policy is active in the pinned enforcement
 * @policy_name:       its name, "" when none
 * @policy_sha256:     the SHA-256 of its file, in hex, "" when none
 * @policy_mode:       its enum ioguard_mode as pinned (audit records what it would deny,
 *                     denies nothing); named by abi_mode_name()
 */
struct metrics_posture {
	bool read;
	struct host_posture host;
	bool enforcement_known;
	int enforcement_error;
	bool enforcing;
	char policy_name[METRICS_POLICY_STR_LEN];
	char policy_sha256[65];
	__u32 policy_mode;
};

/* One growable array of one entry type. */
#define METRICS_ARRAY(type) struct { type *v; size_t n, cap; }

/* One series of a counter family with one label: its value and the count. */
struct metrics_labelled_count {
	char label[METRICS_DAEMON_LABEL_LEN];
	__u64 count;
};

/* The series of one such family (a METRICS_ARRAY with a name, so one adder fills both). */
struct metrics_labelled_counts {
	struct metrics_labelled_count *v;
	size_t n, cap;
};

/*
 * struct metrics_daemon - the families only the `ioguard run` daemon exports, filled by
 * it (metrics_service_opts.add_metrics) after every collection.
 * @present:             the daemon filled them: they are exported, HELP and TYPE
 *                       included; `ioguard metrics` leaves them out
 * @reloads:             ioguard_policy_reloads_total by result, in the order added
 * @policy_file_refused: ioguard_policy_file_refused
 * @topology_changes:    ioguard_topology_changes_total by kind, in the order added
 */
struct metrics_daemon {
	bool present;
	struct metrics_labelled_counts reloads;
	bool policy_file_refused;
	struct metrics_labelled_counts topology_changes;
};

struct metrics_snapshot {
	METRICS_ARRAY(struct metrics_hist_entry) hists;
	METRICS_ARRAY(struct metrics_calls_entry) calls;
	METRICS_ARRAY(struct metrics_fault_entry) faults;
	METRICS_ARRAY(struct metrics_inval_entry) invals;
	METRICS_ARRAY(struct metrics_group_entry) groups;
	METRICS_ARRAY(struct metrics_decision_entry) decisions;
	METRICS_ARRAY(struct metrics_prog_entry) progs;
	METRICS_ARRAY(struct metrics_dma_fault_entry) dma_faults;
	__u64 lost[IOGUARD_LOST_REASON_COUNT];	/* by enum ioguard_lost_reason */
	/*
	 * kernel.bpf_stats_enabled at collection time; while off the kernel does not count,
	 * so run counts and times stand still (and read 0 if it was never on).
	 */
	bool bpf_stats_enabled;
	char version[METRICS_BUILD_STR_LEN];
	char mode[METRICS_BUILD_STR_LEN];	/* "fentry" or "tp_btf"; "" when nothing is loaded */
	struct metrics_posture posture;
	struct metrics_daemon daemon;
};

/* An empty snapshot, or NULL with errno set. */
struct metrics_snapshot *metrics_snapshot__new(void);
/* Accepts NULL. */
void metrics_snapshot__free(struct metrics_snapshot *s);
/* Empties every array and field, keeping the allocations for the next collection. */
void metrics_snapshot__reset(struct metrics_snapshot *s);

/*
 * Adders: 0, -EINVAL (op, kind, result or reason out of range; empty or NULL string),
 * -ENAMETOOLONG (string does not fit) or -ENOMEM. The entry is copied.
 */
int metrics_snapshot__add_hist(struct metrics_snapshot *s, __s32 group, __u32 op,
			       __u32 kind, const struct ioguard_hist *hist);
int metrics_snapshot__add_calls(struct metrics_snapshot *s, __s32 group, __u32 op,
				__u32 result, __u64 calls, __u64 bytes);
int metrics_snapshot__add_fault(struct metrics_snapshot *s, const char *device, __s32 group,
				__u64 faults);
int metrics_snapshot__add_dma_fault(struct metrics_snapshot *s, const char *device,
				    __s32 group, __u32 kind, __u32 reason, __u64 faults);
/* @latency may be NULL: no submission of this key was timed. */
int metrics_snapshot__add_inval(struct metrics_snapshot *s, __s32 group, __u32 cause,
				__u32 kind, __u64 descriptors, const struct ioguard_hist *latency);
/* @type may be NULL or "" when unknown. */
int metrics_snapshot__add_group(struct metrics_snapshot *s, __s32 group, const char *type,
				__u32 devices, bool viable_kernel, bool viable_strict);
int metrics_snapshot__add_decision(struct metrics_snapshot *s, const char *hook,
				   const char *decision, const char *reason,
				   const char *tenant, __u64 count);
int metrics_snapshot__add_prog(struct metrics_snapshot *s, const char *name, __u64 run_cnt,
			       __u64 run_time_ns);
/* Adds @count to the lost counter of @reason (enum ioguard_lost_reason). */
int metrics_snapshot__add_lost(struct metrics_snapshot *s, __u32 reason, __u64 count);
/* @mode may be NULL or "" when no program is loaded. */
int metrics_snapshot__set_build(struct metrics_snapshot *s, const char *version,
				const char *mode);

/*
 * The daemon's families (struct metrics_daemon); each call marks them present. @result
 * and @kind are label values ("ok", "device_joined"): 0, -EINVAL (NULL or empty),
 * -ENAMETOOLONG or -ENOMEM. Series are exported in the order added, never merged.
 */
int metrics_snapshot__add_reloads(struct metrics_snapshot *s, const char *result,
				  __u64 count);
void metrics_snapshot__set_policy_file_refused(struct metrics_snapshot *s, bool refused);
int metrics_snapshot__add_topology_changes(struct metrics_snapshot *s, const char *kind,
					   __u64 count);

/* Sorts every array by its key (group then op..., strings bytewise). */
void metrics_snapshot__sort(struct metrics_snapshot *s);

#endif /* IOGUARD_SNAPSHOT_H */
