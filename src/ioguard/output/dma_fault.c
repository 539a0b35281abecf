// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dma_fault.h"

enum ioguard_dma_fault_kind dma_fault_event_kind(const struct ioguard_event *e)
{
	if (e->flags & IOGUARD_EV_FAULT_INTR)
		return IOGUARD_DMA_FAULT_INTERRUPT;
	if (e->flags & IOGUARD_EV_FAULT_READ)
		return IOGUARD_DMA_FAULT_READ;
	return IOGUARD_DMA_FAULT_WRITE;
}

void dma_fault_reason_str(__u8 reason, char out[DMA_FAULT_REASON_LEN])
{
	snprintf(out, DMA_FAULT_REASON_LEN, "0x%02x", reason);
}

void dma_fault_device_name(__u16 segment, __u16 source_id, char *out, size_t len)
{
	snprintf(out, len, "%04x:%02x:%02x.%x", segment, source_id >> 8,
		 (source_id >> 3) & 0x1f, source_id & 0x7);
}

/* A PCI name as sysfs spells it: no path separators, no "..", so it names one entry. */
static bool pci_name_valid(const char *device)
{
	unsigned int seg, bus, dev, fn;
	char tail;

	return strlen(device) == 12 && strspn(device, "0123456789abcdef:.") == 12 &&
	       sscanf(device, "%4x:%2x:%2x.%1x%c", &seg, &bus, &dev, &fn, &tail) == 4;
}

int dma_fault_device_group(const char *sysfs_root, const char *device)
{
	char path[PATH_MAX], target[PATH_MAX], *base, *end;
	ssize_t n;
	long group;

	if (!pci_name_valid(device))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/iommu_group",
		     strcmp(sysfs_root, "/") ? sysfs_root : "", device) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	errno = 0;
	group = strtol(base, &end, 10);
	if (errno || end == base || *end || group < 0 || group > INT_MAX)
		return -EINVAL;
	return group;
}

void dma_fault_event_resolve(struct ioguard_event *e, const char *sysfs_root)
{
	char device[IOGUARD_DEV_NAME_LEN + 1];
	int group;

	if (e->op != IOGUARD_OP_DMA_FAULT || (e->flags & IOGUARD_EV_HAS_GROUP) ||
	    !(e->flags & IOGUARD_EV_HAS_DEVICE))
		return;
	snprintf(device, sizeof(device), "%.*s", IOGUARD_DEV_NAME_LEN, e->device);
	group = dma_fault_device_group(sysfs_root, device);
	if (group < 0)
		return;
	e->group = group;
	e->flags |= IOGUARD_EV_HAS_GROUP;
}
