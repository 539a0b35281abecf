/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DMA-remapping faults of VT-d as bpf/trace.bpf.c records them (IOGUARD_OP_DMA_FAULT
 * events, struct ioguard_dma_fault_key counts): the names of their kinds and reasons,
 * the requester's PCI name and the IOMMU group it is in, which the BPF side cannot
 * resolve and which the trace and the metrics both show.
 */
#ifndef IOGUARD_DMA_FAULT_H
#define IOGUARD_DMA_FAULT_H

#include <stddef.h>
#include <linux/types.h>

#include "ioguard/metrics.h"
#include "ioguard/trace.h"

/* "0x05": the reason code as the kernel's log prints it. */
#define DMA_FAULT_REASON_LEN 8

/* The kind of an IOGUARD_OP_DMA_FAULT event, from its flags. */
enum ioguard_dma_fault_kind dma_fault_event_kind(const struct ioguard_event *e);
void dma_fault_reason_str(__u8 reason, char out[DMA_FAULT_REASON_LEN]);
/* "ssss:bb:dd.f" of a fault record's requester into @out (IOGUARD_DEV_NAME_LEN). */
void dma_fault_device_name(__u16 segment, __u16 source_id, char *out, size_t len);

/*
 * dma_fault_device_group() - the IOMMU group of PCI device @device ("ssss:bb:dd.f"), from
 * the iommu_group link of /sys/bus/pci/devices/@device under @sysfs_root ("/" for the
 * live one). Return: the group id, -ENOENT when the device is gone or in no group,
 * -EINVAL for a name or link that is no PCI device or group, or another negative errno.
 */
int dma_fault_device_group(const char *sysfs_root, const char *device);

/*
 * dma_fault_event_resolve() - for an IOGUARD_OP_DMA_FAULT event without a group, sets
 * its group from sysfs when the device has one; other events are left alone.
 */
void dma_fault_event_resolve(struct ioguard_event *e, const char *sysfs_root);

#endif /* IOGUARD_DMA_FAULT_H */
