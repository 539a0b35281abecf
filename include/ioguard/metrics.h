/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI of the in-kernel aggregation shared by bpf/trace.bpf.c and the ioguard loader:
 * log2 histograms and counters kept in per-CPU hash maps, summed over CPUs by the reader.
 * Fixed-width types only; no pointers, no logic.
 */
#ifndef IOGUARD_METRICS_H
#define IOGUARD_METRICS_H

#include "ioguard/trace.h"	/* IOGUARD_DEV_NAME_LEN */

/*
 * Histogram slots. A value v lands in slot s = ceil(log2(v)) (v <= 1 in slot 0), so slot
 * s counts values in (2^(s-1), 2^s] and its exported upper bound ("le") is exactly 2^s
 * units. Values above 2^(IOGUARD_HIST_SLOTS - 2) are clamped into the last slot, which is
 * exported only as le="+Inf".
 * Latency is in nanoseconds (2^30 ns ~ 1.07 s is the last finite bound); sizes in bytes
 * (2^30 bytes = 1 GiB).
 */
#define IOGUARD_HIST_SLOTS 32

/* The group of an operation whose domain was never seen attached. */
#define IOGUARD_GROUP_UNKNOWN (-1)

enum ioguard_hist_kind {
	IOGUARD_HIST_LATENCY = 0,	/* nanoseconds */
	IOGUARD_HIST_SIZE,		/* bytes */
	IOGUARD_HIST_KIND_COUNT,
};

enum ioguard_result {
	IOGUARD_RESULT_OK = 0,
	IOGUARD_RESULT_ERROR,
	IOGUARD_RESULT_COUNT,
};

struct ioguard_hist {
	__u64 slots[IOGUARD_HIST_SLOTS];
	__u64 count;
	__u64 sum;	/* in the kind's unit */
};

/* Key of the aggregate map: one entry per (group, op). */
struct ioguard_agg_key {
	__s32 group;
	__u32 op;	/* enum ioguard_op */
};

/*
 * Everything counted about one op on one group, in one value so that an operation costs
 * one map lookup: a histogram per enum ioguard_hist_kind (one whose count is 0 was never
 * filled: the op has no latency or no size), and calls and bytes per enum ioguard_result
 * (bytes: map/unmap bytes requested; 0 for other ops).
 */
struct ioguard_agg {
	struct ioguard_hist hist[IOGUARD_HIST_KIND_COUNT];
	__u64 calls[IOGUARD_RESULT_COUNT];
	__u64 bytes[IOGUARD_RESULT_COUNT];
};

/* Key of the IO page fault counter. */
struct ioguard_fault_key {
	char device[IOGUARD_DEV_NAME_LEN];	/* the PCI BDF for PCI devices */
	__s32 group;
	__u32 pad;		/* zero */
};

/*
 * Invalidations the IOMMU driver submits to the hardware, counted per descriptor (VT-d
 * queued invalidation: the intel_iommu:qi_submit tracepoint) and timed per submission
 * (qi_submit_sync(), a batch of descriptors and the wait for their completion).
 *
 * enum ioguard_inval_kind - what a descriptor invalidates. The values 1..9 are the VT-d
 * descriptor types (qw0 bits 3:0, VT-d spec 6.5.2); every other type is OTHER.
 */
enum ioguard_inval_kind {
	IOGUARD_INVAL_OTHER = 0,
	IOGUARD_INVAL_CONTEXT,		/* 0x1 context-cache */
	IOGUARD_INVAL_IOTLB,		/* 0x2 IOTLB */
	IOGUARD_INVAL_DEV_TLB,		/* 0x3 device-TLB (ATS) */
	IOGUARD_INVAL_IEC,		/* 0x4 interrupt entry cache */
	IOGUARD_INVAL_WAIT,		/* 0x5 invalidation wait */
	IOGUARD_INVAL_PASID_IOTLB,	/* 0x6 PASID-based IOTLB */
	IOGUARD_INVAL_PASID_CACHE,	/* 0x7 PASID cache */
	IOGUARD_INVAL_PASID_DEV_TLB,	/* 0x8 PASID-based device-TLB */
	IOGUARD_INVAL_PAGE_RESPONSE,	/* 0x9 page group response */
	IOGUARD_INVAL_KIND_COUNT,
};

/*
 * enum ioguard_inval_cause - the driver flush an invalidation was submitted from, which
 * names the domain and so the group. NONE: outside those flushes (attach and detach,
 * interrupt remapping, PASID setup, or a kernel whose flush functions are not hooked);
 * such invalidations have group IOGUARD_GROUP_UNKNOWN.
 */
enum ioguard_inval_cause {
	IOGUARD_INVAL_CAUSE_NONE = 0,
	IOGUARD_INVAL_CAUSE_UNMAP,	/* iotlb_sync: after an unmap */
	IOGUARD_INVAL_CAUSE_MAP,	/* iotlb_sync_map: after a map (caching mode) */
	IOGUARD_INVAL_CAUSE_FLUSH_ALL,	/* flush_iotlb_all: the DMA API's deferred flush */
	IOGUARD_INVAL_CAUSE_COUNT,
};

/* Key of the invalidation map: one entry per (group, cause, kind). */
struct ioguard_inval_key {
	__s32 group;
	__u32 cause;	/* enum ioguard_inval_cause */
	__u32 kind;	/* enum ioguard_inval_kind */
};

/*
 * Invalidations of one key: @descriptors submitted, and the latency of the submissions
 * whose first descriptor is of this kind (nanoseconds; @latency.count submissions). A
 * submission batches one or more descriptors, so @latency.count <= what was submitted.
 */
struct ioguard_inval {
	__u64 descriptors;
	struct ioguard_hist latency;
};

enum ioguard_lost_reason {
	IOGUARD_LOST_RINGBUF_FULL = 0,	/* bpf_ringbuf_reserve() failed */
	IOGUARD_LOST_CALL_TABLE_FULL,	/* no room to remember a call's start time */
	IOGUARD_LOST_FAULT_TABLE_FULL,	/* a fault's key could not be added: not counted */
	IOGUARD_LOST_REASON_COUNT,
};

/*
 * enum ioguard_dma_fault_kind - the request a VT-d fault record reports. Interrupt-
 * remapping faults (reasons 0x20-0x2f) come through the same fault records.
 */
enum ioguard_dma_fault_kind {
	IOGUARD_DMA_FAULT_WRITE = 0,
	IOGUARD_DMA_FAULT_READ,
	IOGUARD_DMA_FAULT_INTERRUPT,
	IOGUARD_DMA_FAULT_KIND_COUNT,
};

/*
 * Key of the DMA fault counter: one entry per requester, kind and reason. The requester
 * is the fault record's source id (PCI bus << 8 | devfn) on the PCI segment of the IOMMU
 * that recorded it; its name and IOMMU group are resolved by the reader.
 */
struct ioguard_dma_fault_key {
	__u16 segment;
	__u16 source_id;
	__u8 kind;	/* enum ioguard_dma_fault_kind */
	__u8 reason;	/* the fault reason code of the record */
	__u16 pad;	/* zero */
};

#endif /* IOGUARD_METRICS_H */
