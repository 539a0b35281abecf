// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Empty programs on the points ioguard's programs use on the map and unmap path, for the
 * icount benchmark's floors (tests/vm/bench/overhead-icount.sh): what any fentry/fexit or
 * BPF LSM tool pays there before it does anything (trampoline, program entry and exit).
 * The benchmark loads only the programs whose functions this kernel has
 * (tests/vm/tools/bpf_attach). The LSM program allows everything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ioguard trace and metrics: bpf/trace.bpf.c's map-path points. */
SEC("fentry/iommu_map")
int BPF_PROG(fentry_iommu_map) { return 0; }
SEC("fexit/iommu_map")
int BPF_PROG(fexit_iommu_map) { return 0; }
SEC("fentry/iommu_map_nosync")
int BPF_PROG(fentry_iommu_map_nosync) { return 0; }
SEC("fexit/iommu_map_nosync")
int BPF_PROG(fexit_iommu_map_nosync) { return 0; }
SEC("fentry/iommu_unmap")
int BPF_PROG(fentry_iommu_unmap) { return 0; }
SEC("fexit/iommu_unmap")
int BPF_PROG(fexit_iommu_unmap) { return 0; }
SEC("fentry/iommu_unmap_fast")
int BPF_PROG(fentry_iommu_unmap_fast) { return 0; }
SEC("fexit/iommu_unmap_fast")
int BPF_PROG(fexit_iommu_unmap_fast) { return 0; }

/*
 * ioguard trace and metrics: the VT-d invalidation points (bpf/trace.bpf.c), which the
 * map and unmap ioctls reach through the domain's flushes where the IOMMU caches
 * not-present entries (QEMU's intel-iommu, and any VT-d with caching mode).
 */
SEC("fentry/intel_iommu_tlb_sync")
int BPF_PROG(fentry_intel_iommu_tlb_sync) { return 0; }
SEC("fexit/intel_iommu_tlb_sync")
int BPF_PROG(fexit_intel_iommu_tlb_sync) { return 0; }
SEC("fentry/intel_iommu_iotlb_sync_map")
int BPF_PROG(fentry_intel_iommu_iotlb_sync_map) { return 0; }
SEC("fexit/intel_iommu_iotlb_sync_map")
int BPF_PROG(fexit_intel_iommu_iotlb_sync_map) { return 0; }
SEC("fentry/intel_flush_iotlb_all")
int BPF_PROG(fentry_intel_flush_iotlb_all) { return 0; }
SEC("fexit/intel_flush_iotlb_all")
int BPF_PROG(fexit_intel_flush_iotlb_all) { return 0; }
SEC("fentry/qi_submit_sync")
int BPF_PROG(fentry_qi_submit_sync) { return 0; }
SEC("fexit/qi_submit_sync")
int BPF_PROG(fexit_qi_submit_sync) { return 0; }
SEC("tp_btf/qi_submit")
int BPF_PROG(tp_btf_qi_submit) { return 0; }

/*
 * An enforcing policy: the ioctl decision, the fexits that settle its accounts, and the
 * points where it compares the kernel's copy of a map and gives back what was unmapped
 * (bpf/enforce.bpf.c).
 */
SEC("lsm/file_ioctl")
int BPF_PROG(lsm_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg)
{
	return 0;
}
SEC("fexit/vfio_fops_unl_ioctl")
int BPF_PROG(fexit_vfio_fops_unl_ioctl) { return 0; }
SEC("fexit/iommufd_fops_ioctl")
int BPF_PROG(fexit_iommufd_fops_ioctl) { return 0; }
SEC("fentry/vfio_pin_pages_remote")
int BPF_PROG(fentry_vfio_pin_pages_remote) { return 0; }
SEC("fentry/vfio_remove_dma")
int BPF_PROG(fentry_vfio_remove_dma) { return 0; }
SEC("fentry/iopt_map_pages")
int BPF_PROG(fentry_iopt_map_pages) { return 0; }
SEC("fexit/iopt_map_pages")
int BPF_PROG(fexit_iopt_map_pages) { return 0; }
SEC("fexit/iopt_unmap_iova")
int BPF_PROG(fexit_iopt_unmap_iova) { return 0; }
