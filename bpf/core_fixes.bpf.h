/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every kernel difference the BPF programs meet, in one place: local flavours of VFIO's
 * private structs (relocated by CO-RE against the vfio module's or vmlinux's BTF) and
 * the fields that exist only with some configurations.
 */
#ifndef IOGUARD_CORE_FIXES_BPF_H
#define IOGUARD_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* drivers/vfio/vfio.h; the fields read are the same from v6.1 on. */
struct vfio_group___ioguard {
	struct cdev cdev;
	struct iommu_group *iommu_group;
	struct list_head container_next;	/* with CONFIG_VFIO_CONTAINER */
} __attribute__((preserve_access_index));

/*
 * include/linux/vfio.h. The cdev exists only with CONFIG_VFIO_DEVICE_CDEV (v6.6+, off in
 * Debian 12's 6.12): without it there are no /dev/vfio/devices nodes to identify.
 */
struct vfio_device___ioguard {
	struct device *dev;
	struct cdev cdev;
	unsigned char cdev_opened:1;	/* v6.6+, whatever the config: see device_file_dev() */
} __attribute__((preserve_access_index));

/*
 * drivers/vfio/vfio.h (v6.6+, with the VFIO device cdev series); iommufd is set by
 * VFIO_DEVICE_BIND_IOMMUFD. Test bpf_core_type_exists() before reading it: before v6.6
 * there is no such struct and a device file's private_data is the vfio_device.
 */
struct vfio_device_file___ioguard {
	struct vfio_device___ioguard *device;
	void *iommufd;
} __attribute__((preserve_access_index));

/* The device of a VFIO device cdev, or NULL where the kernel has no device cdevs. */
static __always_inline struct device *vfio_cdev_device(struct cdev *cdev)
{
	struct vfio_device___ioguard *vdev;

	if (!bpf_core_field_exists(struct vfio_device___ioguard, cdev))
		return NULL;
	vdev = (void *)cdev - bpf_core_field_offset(struct vfio_device___ioguard, cdev);
	return BPF_CORE_READ(vdev, dev);
}

/*
 * The iommufd a VFIO device file is bound to; NULL before binding, without cdevs, and
 * before v6.6, where private_data is not a vfio_device_file.
 */
static __always_inline void *vfio_file_iommufd(struct vfio_device_file___ioguard *df)
{
	if (!bpf_core_type_exists(struct vfio_device_file___ioguard) ||
	    !bpf_core_field_exists(struct vfio_device_file___ioguard, iommufd))
		return NULL;
	return BPF_CORE_READ(df, iommufd);
}

/*
 * drivers/vfio/container.c: the type1 IOMMU that holds a legacy container's mappings.
 * Absent with CONFIG_VFIO_CONTAINER=n (then /dev/vfio/vfio, if any, is iommufd's).
 */
struct vfio_container___ioguard {
	struct list_head group_list;
	void *iommu_data;
} __attribute__((preserve_access_index));

/* The IOMMU group of the first VFIO group in a legacy container; NULL if none. */
static __always_inline struct iommu_group *vfio_container_first_group(void *container)
{
	struct vfio_container___ioguard *c = container;
	struct vfio_group___ioguard *g;
	struct list_head *first;

	if (!bpf_core_field_exists(struct vfio_container___ioguard, group_list) ||
	    !bpf_core_field_exists(struct vfio_group___ioguard, container_next))
		return NULL;
	first = BPF_CORE_READ(c, group_list.next);
	if (!first || first == (void *)c + bpf_core_field_offset(struct vfio_container___ioguard,
								 group_list))
		return NULL;
	g = (void *)first - bpf_core_field_offset(struct vfio_group___ioguard, container_next);
	return BPF_CORE_READ(g, iommu_group);
}

/* The holder of a legacy container's mappings, or NULL before VFIO_SET_IOMMU. */
static __always_inline void *vfio_container_iommu(void *container)
{
	if (!bpf_core_field_exists(struct vfio_container___ioguard, iommu_data))
		return NULL;
	return BPF_CORE_READ((struct vfio_container___ioguard *)container, iommu_data);
}

/* drivers/vfio/vfio_iommu_type1.c: one mapping; @size grows as its pages are pinned. */
struct vfio_dma___ioguard {
	dma_addr_t iova;
	size_t size;
} __attribute__((preserve_access_index));

/*
 * drivers/iommu/iommufd/iommufd_private.h: private, so absent from vmlinux.h and present
 * in the kernel's BTF only with CONFIG_IOMMUFD (vmlinux when built in, the iommufd
 * module's BTF otherwise; libbpf relocates against either). Stable since v6.2.
 */
struct iommufd_group___ioguard {
	struct iommu_group *group;
} __attribute__((preserve_access_index));

/* The kernel's copy of an iommufd command's argument is at @cmd. */
struct iommufd_ucmd___ioguard {
	void *cmd;
} __attribute__((preserve_access_index));

struct iommufd_device___ioguard {
	struct iommufd_group___ioguard *igroup;
	struct device *dev;
} __attribute__((preserve_access_index));

/*
 * The hooks on iommufd_device_*() read their arguments with bpf_get_func_arg() and the
 * return value with bpf_get_func_ret() instead of naming them: the PASID attach work
 * (v6.15) inserted a pasid argument into iommufd_device_attach(), which moves the
 * return value; the iommufd_device stays argument 0.
 */
static __always_inline struct device *iommufd_idev_device(struct iommufd_device___ioguard *idev)
{
	return idev ? BPF_CORE_READ(idev, dev) : NULL;
}

/*
 * drivers/iommu/intel/iommu.h (include/linux/intel-iommu.h before v6.0): the registers,
 * capabilities and PCI segment of one VT-d unit, the same fields from v6.1 to v6.12.
 * Local: the struct is private to the Intel driver and absent from hosts without it.
 */
struct intel_iommu___ioguard {
	void *reg;		/* the unit's MMIO registers */
	__u64 cap;		/* DMAR_CAP_REG */
	__u16 segment;		/* PCI segment of the devices behind it */
	unsigned char name[13];	/* "dmar0" */
} __attribute__((preserve_access_index));

/*
 * drivers/iommu/intel/iommu.h: one VT-d queued-invalidation descriptor, private to the
 * Intel driver; qw0 bits 3:0 are its type. The same since v5.x.
 */
struct qi_desc___ioguard {
	__u64 qw0;
} __attribute__((preserve_access_index));

#endif /* IOGUARD_CORE_FIXES_BPF_H */
