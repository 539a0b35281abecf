/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI shared by bpf/trace.bpf.c and the ioguard loader: one record per IOMMU operation,
 * sent through a BPF ring buffer. Fixed-width types only; no pointers, no logic.
 */
#ifndef IOGUARD_TRACE_H
#define IOGUARD_TRACE_H

#define IOGUARD_COMM_LEN 16
#define IOGUARD_DEV_NAME_LEN 32

/*
 * enum ioguard_op - the kernel operation an event reports. The order is ABI: it indexes
 * per-op tables on both sides. IOGUARD_OP_COUNT must stay last.
 */
enum ioguard_op {
	IOGUARD_OP_NONE = 0,
	IOGUARD_OP_ATTACH_DEVICE,	/* iommu_attach_device() */
	IOGUARD_OP_DETACH_DEVICE,	/* iommu_detach_device() */
	IOGUARD_OP_ATTACH_GROUP,	/* iommu_attach_group(), tp attach_device_to_domain */
	IOGUARD_OP_DETACH_GROUP,	/* iommu_detach_group() */
	IOGUARD_OP_CLAIM_DEVICE,	/* iommu_device_claim_dma_owner() */
	IOGUARD_OP_RELEASE_DEVICE,	/* iommu_device_release_dma_owner() */
	IOGUARD_OP_CLAIM_GROUP,		/* iommu_group_claim_dma_owner() */
	IOGUARD_OP_RELEASE_GROUP,	/* iommu_group_release_dma_owner() */
	IOGUARD_OP_MAP,			/* iommu_map(), tp map */
	IOGUARD_OP_UNMAP,		/* iommu_unmap(), tp unmap */
	IOGUARD_OP_UNMAP_FAST,		/* iommu_unmap_fast() */
	IOGUARD_OP_MAP_SG,		/* iommu_map_sg() */
	IOGUARD_OP_IO_PAGE_FAULT,	/* tp io_page_fault */
	IOGUARD_OP_IOMMUFD_BIND,	/* iommufd_device_bind() */
	IOGUARD_OP_IOMMUFD_UNBIND,	/* iommufd_device_unbind() */
	IOGUARD_OP_IOMMUFD_ATTACH,	/* iommufd_device_attach() */
	IOGUARD_OP_IOMMUFD_DETACH,	/* iommufd_device_detach() */
	IOGUARD_OP_MAP_NOSYNC,		/* iommu_map_nosync() called directly (v6.16+) */
	IOGUARD_OP_ATTACH_PASID,	/* iommu_attach_device_pasid() */
	IOGUARD_OP_REPLACE_PASID,	/* iommu_replace_device_pasid() */
	IOGUARD_OP_DETACH_PASID,	/* iommu_detach_device_pasid() */
	IOGUARD_OP_DMA_FAULT,		/* a VT-d fault record, read in dmar_fault() */
	IOGUARD_OP_COUNT,
};

/* Map-type ops, the ones --sample thins out of the stream. */
#define IOGUARD_OP_MAP_MASK ((1U << IOGUARD_OP_MAP) | (1U << IOGUARD_OP_UNMAP) | \
			     (1U << IOGUARD_OP_UNMAP_FAST) | (1U << IOGUARD_OP_MAP_SG) | \
			     (1U << IOGUARD_OP_MAP_NOSYNC))

/* Which fields of struct ioguard_event hold a value. */
#define IOGUARD_EV_HAS_LATENCY	(1U << 0)
#define IOGUARD_EV_HAS_RET	(1U << 1)
#define IOGUARD_EV_HAS_DOMAIN	(1U << 2)
#define IOGUARD_EV_HAS_GROUP	(1U << 3)
#define IOGUARD_EV_HAS_DEVICE	(1U << 4)
#define IOGUARD_EV_HAS_IOVA	(1U << 5)
#define IOGUARD_EV_HAS_SIZE	(1U << 6)
#define IOGUARD_EV_HAS_PASID	(1U << 7)
/*
 * The kind of an IOGUARD_OP_DMA_FAULT record: a read request, or an interrupt request
 * (interrupt-remapping fault); neither flag: a write request.
 */
#define IOGUARD_EV_FAULT_READ	(1U << 8)
#define IOGUARD_EV_FAULT_INTR	(1U << 9)

/*
 * struct ioguard_event - one traced operation.
 * @ts_ns:	bpf_ktime_get_ns() at the end of the operation (CLOCK_MONOTONIC)
 * @latency_ns:	time spent in the function (fentry to fexit); valid with HAS_LATENCY
 * @domain:	kernel address of the iommu_domain, an identity only, never dereferenced
 * @iova:	first IOVA of a map/unmap, faulting address of a page fault or of a DMA
 *		fault (page-aligned, as the fault record holds it); for an interrupt-
 *		remapping fault, the interrupt index
 * @size:	bytes requested (map, unmap)
 * @ret:	return value: 0 or -errno; bytes unmapped for unmap; the fault reason
 *		code of a DMA fault
 * @group:	IOMMU group id; valid with HAS_GROUP
 * @device:	device name, the PCI BDF for PCI devices; valid with HAS_DEVICE
 * @pasid:	the PASID of a PASID attach, replace or detach, or of a DMA fault;
 *		valid with HAS_PASID
 */
struct ioguard_event {
	__u64 ts_ns;
	__u64 latency_ns;
	__u64 domain;
	__u64 iova;
	__u64 size;
	__s64 ret;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u32 op;
	__u32 flags;
	__s32 group;
	char comm[IOGUARD_COMM_LEN];
	char device[IOGUARD_DEV_NAME_LEN];
	__u32 pasid;
	__u32 reserved;
};

#endif /* IOGUARD_TRACE_H */
