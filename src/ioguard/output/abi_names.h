/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The names of the values of the ABI enums (include/ioguard/), as every output shows
 * them: trace lines and JSON, `ioguard status`, Prometheus label values. One table per
 * enum, so the trace, the status and the metrics cannot name one value two ways.
 *
 * The names are user-visible ABI too: dashboards, alert rules and scripts match on
 * them. docs/metrics.md, docs/trace.md and docs/enforcement.md list them, and
 * tests/unit/test_abi_names.c checks those lists against these tables. Never rename one;
 * a new enum value gets a new name.
 *
 * Every function returns a static string, never NULL: ABI_NAME_UNKNOWN for a value out
 * of range (a newer BPF object, a corrupt record), except abi_mode_name(), which names
 * what the programs do with that value.
 */
#ifndef IOGUARD_ABI_NAMES_H
#define IOGUARD_ABI_NAMES_H

#include <linux/types.h>

#include "ioguard/enforce.h"
#include "ioguard/metrics.h"
#include "ioguard/trace.h"

#define ABI_NAME_UNKNOWN "unknown"

/* enum ioguard_op: "map", "attach_group", ...; IOGUARD_OP_NONE is "none". */
const char *abi_op_name(__u32 op);
/* The op of a name other than "none", or -EINVAL. */
int abi_op_parse(const char *name);

/* enum ioguard_hook: "open", "map_dma", ... */
const char *abi_hook_name(__u32 hook);
/* enum ioguard_decision_kind: "allow", "deny", "audit". */
const char *abi_decision_name(__u32 decision);
/* enum ioguard_reason: "none", "not_tenant", ... */
const char *abi_reason_name(__u32 reason);
/*
 * enum ioguard_mode: "audit" for IOGUARD_MODE_AUDIT, "enforce" for any other value,
 * because bpf/enforce.bpf.c denies unless the slot's mode is IOGUARD_MODE_AUDIT.
 */
const char *abi_mode_name(__u32 mode);
/* enum ioguard_file_kind, as a phrase for messages: "VFIO group files", "/dev/iommu", ... */
const char *abi_file_kind_name(__u32 kind);

/* enum ioguard_result: "ok", "error". */
const char *abi_result_name(__u32 result);
/* enum ioguard_lost_reason: "ringbuf_full", "call_table_full", "fault_table_full". */
const char *abi_lost_reason_name(__u32 reason);
/* enum ioguard_inval_kind: what a VT-d invalidation descriptor invalidates ("iotlb", ...). */
const char *abi_inval_kind_name(__u32 kind);
/* enum ioguard_inval_cause: the driver flush that submitted it ("unmap", ...). */
const char *abi_inval_cause_name(__u32 cause);
/* enum ioguard_dma_fault_kind: "write", "read", "interrupt". */
const char *abi_dma_fault_kind_name(__u32 kind);

#endif /* IOGUARD_ABI_NAMES_H */
