// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "abi_names.h"
#include "array_size.h"

static const char *const op_names[IOGUARD_OP_COUNT] = {
	[IOGUARD_OP_NONE] = "none",
	[IOGUARD_OP_ATTACH_DEVICE] = "attach_device",
	[IOGUARD_OP_DETACH_DEVICE] = "detach_device",
	[IOGUARD_OP_ATTACH_GROUP] = "attach_group",
	[IOGUARD_OP_DETACH_GROUP] = "detach_group",
	[IOGUARD_OP_CLAIM_DEVICE] = "claim_device",
	[IOGUARD_OP_RELEASE_DEVICE] = "release_device",
	[IOGUARD_OP_CLAIM_GROUP] = "claim_group",
	[IOGUARD_OP_RELEASE_GROUP] = "release_group",
	[IOGUARD_OP_MAP] = "map",
	[IOGUARD_OP_UNMAP] = "unmap",
	[IOGUARD_OP_UNMAP_FAST] = "unmap_fast",
	[IOGUARD_OP_MAP_SG] = "map_sg",
	[IOGUARD_OP_IO_PAGE_FAULT] = "io_page_fault",
	[IOGUARD_OP_IOMMUFD_BIND] = "iommufd_bind",
	[IOGUARD_OP_IOMMUFD_UNBIND] = "iommufd_unbind",
	[IOGUARD_OP_IOMMUFD_ATTACH] = "iommufd_attach",
	[IOGUARD_OP_IOMMUFD_DETACH] = "iommufd_detach",
	[IOGUARD_OP_MAP_NOSYNC] = "map_nosync",
	[IOGUARD_OP_ATTACH_PASID] = "attach_pasid",
	[IOGUARD_OP_REPLACE_PASID] = "replace_pasid",
	[IOGUARD_OP_DETACH_PASID] = "detach_pasid",
	[IOGUARD_OP_DMA_FAULT] = "dma_fault",
};

static const char *const hook_names[IOGUARD_HOOK_COUNT] = {
	[IOGUARD_HOOK_OPEN] = "open",
	[IOGUARD_HOOK_SET_CONTAINER] = "set_container",
	[IOGUARD_HOOK_GET_DEVICE_FD] = "get_device_fd",
	[IOGUARD_HOOK_BIND_IOMMUFD] = "bind_iommufd",
	[IOGUARD_HOOK_ATTACH_PT] = "attach_pt",
	[IOGUARD_HOOK_MAP_DMA] = "map_dma",
	[IOGUARD_HOOK_IOAS_MAP] = "ioas_map",
	[IOGUARD_HOOK_IOAS_COPY] = "ioas_copy",
	[IOGUARD_HOOK_IOCTL] = "ioctl",
	[IOGUARD_HOOK_DEVICE_IOCTL] = "device_ioctl",
	[IOGUARD_HOOK_DEVICE_MMAP] = "device_mmap",
	[IOGUARD_HOOK_DEVICE_RW] = "device_rw",
	[IOGUARD_HOOK_RECEIVE] = "receive",
	[IOGUARD_HOOK_HWPT_ALLOC] = "hwpt_alloc",
};

static const char *const decision_names[IOGUARD_DECISION_COUNT] = {
	[IOGUARD_DECISION_ALLOW] = "allow",
	[IOGUARD_DECISION_DENY] = "deny",
	[IOGUARD_DECISION_AUDIT] = "audit",
};

static const char *const reason_names[IOGUARD_REASON_COUNT] = {
	[IOGUARD_REASON_NONE] = "none",
	[IOGUARD_REASON_NOT_TENANT] = "not_tenant",
	[IOGUARD_REASON_DEFAULT_DENY] = "default_deny",
	[IOGUARD_REASON_NO_TENANT] = "no_tenant",
	[IOGUARD_REASON_GROUP_NOT_VIABLE] = "group_not_viable",
	[IOGUARD_REASON_GROUP_TOO_LARGE] = "group_too_large",
	[IOGUARD_REASON_DMA_LIMIT] = "dma_limit",
	[IOGUARD_REASON_IOVA_WINDOW] = "iova_window",
	[IOGUARD_REASON_UNIDENTIFIED] = "unidentified",
	[IOGUARD_REASON_BAD_ARGUMENT] = "bad_argument",
	[IOGUARD_REASON_UNKNOWN_IOCTL] = "unknown_ioctl",
	[IOGUARD_REASON_ACCOUNT_FULL] = "account_full",
	[IOGUARD_REASON_SHARED_ACCOUNT] = "shared_account",
	[IOGUARD_REASON_USER_PAGE_TABLE] = "user_page_table",
	[IOGUARD_REASON_ARGUMENT_CHANGED] = "argument_changed",
};

static const char *const file_kind_names[IOGUARD_FILE_KIND_COUNT] = {
	[IOGUARD_FILE_GROUP] = "VFIO group files",
	[IOGUARD_FILE_DEVICE] = "VFIO device files",
	[IOGUARD_FILE_IOMMUFD] = "/dev/iommu",
	[IOGUARD_FILE_CONTAINER] = "/dev/vfio/vfio",
};

static const char *const result_names[IOGUARD_RESULT_COUNT] = {
	[IOGUARD_RESULT_OK] = "ok",
	[IOGUARD_RESULT_ERROR] = "error",
};

static const char *const lost_reason_names[IOGUARD_LOST_REASON_COUNT] = {
	[IOGUARD_LOST_RINGBUF_FULL] = "ringbuf_full",
	[IOGUARD_LOST_CALL_TABLE_FULL] = "call_table_full",
	[IOGUARD_LOST_FAULT_TABLE_FULL] = "fault_table_full",
};

static const char *const inval_kind_names[IOGUARD_INVAL_KIND_COUNT] = {
	[IOGUARD_INVAL_OTHER] = "other",
	[IOGUARD_INVAL_CONTEXT] = "context",
	[IOGUARD_INVAL_IOTLB] = "iotlb",
	[IOGUARD_INVAL_DEV_TLB] = "dev_tlb",
	[IOGUARD_INVAL_IEC] = "interrupt_entry",
	[IOGUARD_INVAL_WAIT] = "wait",
	[IOGUARD_INVAL_PASID_IOTLB] = "pasid_iotlb",
	[IOGUARD_INVAL_PASID_CACHE] = "pasid_cache",
	[IOGUARD_INVAL_PASID_DEV_TLB] = "pasid_dev_tlb",
	[IOGUARD_INVAL_PAGE_RESPONSE] = "page_response",
};

static const char *const inval_cause_names[IOGUARD_INVAL_CAUSE_COUNT] = {
	[IOGUARD_INVAL_CAUSE_NONE] = "none",
	[IOGUARD_INVAL_CAUSE_UNMAP] = "unmap",
	[IOGUARD_INVAL_CAUSE_MAP] = "map",
	[IOGUARD_INVAL_CAUSE_FLUSH_ALL] = "flush_all",
};

static const char *const dma_fault_kind_names[IOGUARD_DMA_FAULT_KIND_COUNT] = {
	[IOGUARD_DMA_FAULT_WRITE] = "write",
	[IOGUARD_DMA_FAULT_READ] = "read",
	[IOGUARD_DMA_FAULT_INTERRUPT] = "interrupt",
};

/* A hole in a table (a value added to the enum and not here) reads as unknown too. */
static const char *name_of(const char *const *names, size_t n, __u32 value)
{
	return value < n && names[value] ? names[value] : ABI_NAME_UNKNOWN;
}

const char *abi_op_name(__u32 op)
{
	return name_of(op_names, ARRAY_SIZE(op_names), op);
}

int abi_op_parse(const char *name)
{
	int op;

	for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++) {
		if (op_names[op] && !strcmp(name, op_names[op]))
			return op;
	}
	return -EINVAL;
}

const char *abi_hook_name(__u32 hook)
{
	return name_of(hook_names, ARRAY_SIZE(hook_names), hook);
}

const char *abi_decision_name(__u32 decision)
{
	return name_of(decision_names, ARRAY_SIZE(decision_names), decision);
}

const char *abi_reason_name(__u32 reason)
{
	return name_of(reason_names, ARRAY_SIZE(reason_names), reason);
}

const char *abi_mode_name(__u32 mode)
{
	return mode == IOGUARD_MODE_AUDIT ? "audit" : "enforce";
}

const char *abi_file_kind_name(__u32 kind)
{
	return name_of(file_kind_names, ARRAY_SIZE(file_kind_names), kind);
}

const char *abi_result_name(__u32 result)
{
	return name_of(result_names, ARRAY_SIZE(result_names), result);
}

const char *abi_lost_reason_name(__u32 reason)
{
	return name_of(lost_reason_names, ARRAY_SIZE(lost_reason_names), reason);
}

const char *abi_inval_kind_name(__u32 kind)
{
	return name_of(inval_kind_names, ARRAY_SIZE(inval_kind_names), kind);
}

const char *abi_inval_cause_name(__u32 cause)
{
	return name_of(inval_cause_names, ARRAY_SIZE(inval_cause_names), cause);
}

const char *abi_dma_fault_kind_name(__u32 kind)
{
	return name_of(dma_fault_kind_names, ARRAY_SIZE(dma_fault_kind_names), kind);
}
