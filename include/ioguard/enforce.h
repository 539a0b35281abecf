/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ABI of the enforcement programs (bpf/enforce.bpf.c) and the loader: the compiled policy
 * in its two generation slots, the decision records and counters.
 * Fixed-width types only; no pointers, no logic.
 *
 * Atomic swap: the programs read `active` once per decision and take every setting from
 * that generation's slot, so one decision never mixes two policies. The loader writes
 * the inactive slot completely, then flips `active` with one 4-byte map update.
 */
#ifndef IOGUARD_ENFORCE_H
#define IOGUARD_ENFORCE_H

#include "ioguard/trace.h"	/* IOGUARD_COMM_LEN, IOGUARD_DEV_NAME_LEN */

#define IOGUARD_GENERATIONS	2
#define IOGUARD_MAX_TENANTS	32
#define IOGUARD_MAX_SELECTORS	64
#define IOGUARD_MAX_WINDOWS	8
/* Devices of one IOMMU group a decision walks; larger groups are denied (reason). */
#define IOGUARD_MAX_GROUP_DEVICES 32
#define IOGUARD_NAME_LEN	64
/* "dddd:bb:dd.f" NUL-padded; domains of 8 digits do not fit and are refused by the parser. */
#define IOGUARD_BDF_LEN		16
#define IOGUARD_NO_TENANT	(-1)
/* Mappings' holders and tenant accounts tracked at once; past that, maps are denied. */
#define IOGUARD_MAX_HOLDERS	16384
#define IOGUARD_MAX_ACCOUNTS	1024
/*
 * The account of a holder no process may map into: a context the kernel attached a group
 * to while the fd argument was being swapped. No tenant's account_id takes this value.
 */
#define IOGUARD_POISON_ACCOUNT	(~0ULL)
/* A tenant's (or all tenantless processes') share of the holder table. */
#define IOGUARD_MAX_HOLDERS_PER_ACCOUNT 1024
/* SHA-256 digests of executables (exe_sha256) a policy names, all tenants together. */
#define IOGUARD_MAX_EXE_DIGESTS	64
#define IOGUARD_SHA256_LEN	32

/* All VFIO and iommufd ioctls are _IO(';', nr): no size or direction bits. */
#define IOGUARD_IOCTL_TYPE	';'
#define IOGUARD_IOCTL(nr)	((IOGUARD_IOCTL_TYPE << 8) | (nr))
#define IOGUARD_VFIO_GROUP_SET_CONTAINER	IOGUARD_IOCTL(100 + 4)
#define IOGUARD_VFIO_GROUP_GET_DEVICE_FD	IOGUARD_IOCTL(100 + 6)
#define IOGUARD_VFIO_IOMMU_MAP_DMA		IOGUARD_IOCTL(100 + 13)
#define IOGUARD_VFIO_IOMMU_UNMAP_DMA		IOGUARD_IOCTL(100 + 14)
#define IOGUARD_VFIO_DEVICE_BIND_IOMMUFD	IOGUARD_IOCTL(100 + 18)
#define IOGUARD_VFIO_DEVICE_ATTACH_IOMMUFD_PT	IOGUARD_IOCTL(100 + 19)
#define IOGUARD_IOMMU_IOAS_COPY			IOGUARD_IOCTL(0x83)
#define IOGUARD_IOMMU_IOAS_MAP			IOGUARD_IOCTL(0x85)
#define IOGUARD_IOMMU_IOAS_UNMAP		IOGUARD_IOCTL(0x86)
#define IOGUARD_IOMMU_HWPT_ALLOC		IOGUARD_IOCTL(0x89)
/* IOMMU_IOAS_MAP_FILE, v6.13+: same accounting as IOAS_MAP. */
#define IOGUARD_IOMMU_IOAS_MAP_FILE		IOGUARD_IOCTL(0x8f)
/* v6.13+ (VIOMMU, VDEVICE) and v6.17+ (HW_QUEUE): objects behind a user page table. */
#define IOGUARD_IOMMU_VIOMMU_ALLOC		IOGUARD_IOCTL(0x90)
#define IOGUARD_IOMMU_VDEVICE_ALLOC		IOGUARD_IOCTL(0x91)
#define IOGUARD_IOMMU_HW_QUEUE_ALLOC		IOGUARD_IOCTL(0x94)
/* VFIO_DMA_UNMAP_FLAG_VADDR: only the vaddr is invalidated, the IOMMU mapping stays. */
#define IOGUARD_VFIO_DMA_UNMAP_FLAG_VADDR	(1 << 2)

/* The VFIO/iommufd file kinds, told apart by their unlocked_ioctl handler. */
enum ioguard_file_kind {
	IOGUARD_FILE_GROUP = 0,		/* /dev/vfio/N: vfio_group_fops_unl_ioctl */
	IOGUARD_FILE_DEVICE,		/* device fd or /dev/vfio/devices/vfioN */
	IOGUARD_FILE_IOMMUFD,		/* /dev/iommu: iommufd_fops_ioctl */
	IOGUARD_FILE_CONTAINER,		/* /dev/vfio/vfio: vfio_fops_unl_ioctl */
	IOGUARD_FILE_KIND_COUNT,
};

enum ioguard_hook {
	IOGUARD_HOOK_OPEN = 0,
	IOGUARD_HOOK_SET_CONTAINER,
	IOGUARD_HOOK_GET_DEVICE_FD,
	IOGUARD_HOOK_BIND_IOMMUFD,
	IOGUARD_HOOK_ATTACH_PT,
	IOGUARD_HOOK_MAP_DMA,
	IOGUARD_HOOK_IOAS_MAP,
	IOGUARD_HOOK_IOAS_COPY,
	IOGUARD_HOOK_IOCTL,		/* any other ';' ioctl on a container, iommufd or unknown file */
	IOGUARD_HOOK_DEVICE_IOCTL,	/* any other ioctl on a VFIO device file */
	IOGUARD_HOOK_DEVICE_MMAP,	/* mmap of a VFIO device file (BARs) */
	IOGUARD_HOOK_DEVICE_RW,		/* read/write of a VFIO device file (config space, BARs) */
	IOGUARD_HOOK_RECEIVE,		/* a VFIO or iommufd file received (SCM_RIGHTS, pidfd_getfd) */
	IOGUARD_HOOK_HWPT_ALLOC,	/* user-owned page tables: nested HWPT, vIOMMU objects */
	IOGUARD_HOOK_COUNT,
};

enum ioguard_decision_kind {
	IOGUARD_DECISION_ALLOW = 0,
	IOGUARD_DECISION_DENY,
	IOGUARD_DECISION_AUDIT,		/* would deny; audit mode let it through */
	IOGUARD_DECISION_COUNT,
};

enum ioguard_reason {
	IOGUARD_REASON_NONE = 0,
	IOGUARD_REASON_NOT_TENANT,	/* the device's owner does not match the process */
	IOGUARD_REASON_DEFAULT_DENY,	/* no tenant owns the device, default deny */
	IOGUARD_REASON_NO_TENANT,	/* the process matches no tenant, default deny */
	IOGUARD_REASON_GROUP_NOT_VIABLE, /* strict: an endpoint is not claimed/bound */
	IOGUARD_REASON_GROUP_TOO_LARGE,	/* more than IOGUARD_MAX_GROUP_DEVICES */
	IOGUARD_REASON_DMA_LIMIT,	/* max_dma_bytes would be exceeded */
	IOGUARD_REASON_IOVA_WINDOW,	/* outside the tenant's windows, or automatic IOVA */
	IOGUARD_REASON_UNIDENTIFIED,	/* a ';' ioctl on a file ioguard cannot identify */
	IOGUARD_REASON_BAD_ARGUMENT,	/* the ioctl argument could not be read */
	IOGUARD_REASON_UNKNOWN_IOCTL,	/* a ';' ioctl ioguard does not classify, on a known file */
	IOGUARD_REASON_ACCOUNT_FULL,	/* a DMA accounting table is full: fail closed */
	IOGUARD_REASON_SHARED_ACCOUNT,	/* the mappings' holder is charged to another tenant */
	IOGUARD_REASON_USER_PAGE_TABLE,	/* nested translation escapes the windows and the limit */
	IOGUARD_REASON_ARGUMENT_CHANGED, /* the kernel's copy of a map differs from the judged one */
	IOGUARD_REASON_COUNT,
};

enum ioguard_match_kind {
	IOGUARD_MATCH_UID = 0,
	IOGUARD_MATCH_GID,
	IOGUARD_MATCH_CGROUP,		/* cgroup v2 id, the process's or an ancestor's */
	IOGUARD_MATCH_EXE,		/* (s_dev, i_ino) of the executable */
	IOGUARD_MATCH_EXE_SHA256,	/* the executable's content: the slot's exe_digests */
	IOGUARD_MATCH_KIND_COUNT,
};

enum ioguard_selector_kind {
	IOGUARD_SEL_BDF = 0,
	IOGUARD_SEL_ID,
	IOGUARD_SEL_CLASS,
	IOGUARD_SEL_GROUP,
};

/*
 * struct ioguard_selector - one device selector of a tenant.
 * BDF: @bdf, the canonical lowercase device name. ID: (vendor << 16 | device) & @mask
 * == @value. CLASS: class & @mask == @value. GROUP: IOMMU group id == @value.
 */
struct ioguard_selector {
	__u32 kind;
	__u32 tenant;
	__u32 value;
	__u32 mask;
	char bdf[IOGUARD_BDF_LEN];
};

struct ioguard_window {
	__u64 start;
	__u64 last;	/* inclusive */
};

/*
 * struct ioguard_tenant - a tenant as the programs see it.
 * @match_kinds: bit (1 << enum ioguard_match_kind) per criterion the tenant has; the
 *	values are keys of the `matches` map. Every criterion present must match.
 * @account_id: key of the tenant's byte account (a hash of its name), so that an
 *	account survives swaps to a policy that keeps the tenant; never 0.
 * @max_dma_bytes: bytes the tenant's processes may have mapped at once, all together;
 *	~0 for no limit (then nothing is accounted).
 */
struct ioguard_tenant {
	char name[IOGUARD_NAME_LEN];
	__u32 match_kinds;
	__u32 n_windows;
	__u64 max_dma_bytes;
	__u64 account_id;
	struct ioguard_window windows[IOGUARD_MAX_WINDOWS];
};

/*
 * struct ioguard_holder - the DMA a mappings' holder (a VFIO type1 container's IOMMU, an
 * iommufd context) has mapped for the one tenant account it is charged to.
 */
/*
 * struct ioguard_exe_digest - one exe_sha256 value of a tenant: the SHA-256 of an
 * executable's content, compared with what IMA hashed when the process executed it.
 */
struct ioguard_exe_digest {
	__u32 tenant;
	__u32 reserved;
	__u8 sha256[IOGUARD_SHA256_LEN];
};

struct ioguard_holder {
	__u64 account_id;
	__u64 bytes;
};

enum ioguard_mode {
	IOGUARD_MODE_ENFORCE = 0,
	IOGUARD_MODE_AUDIT,
};

/*
 * struct ioguard_policy_slot - value of the `policies` array, one per generation.
 * @loaded: 0 while the slot holds no complete policy.
 */
struct ioguard_policy_slot {
	__u32 loaded;
	__u32 mode;		/* enum ioguard_mode */
	__u32 default_allow;
	__u32 strict;		/* viability: strict (1) or kernel (0) */
	__u32 n_tenants;
	__u32 n_selectors;
	__u64 load_time_ns;	/* CLOCK_REALTIME */
	__u64 policy_id;	/* first 8 bytes of the file's SHA-256 */
	char name[IOGUARD_NAME_LEN];
	__u8 hash[IOGUARD_SHA256_LEN];	/* of the policy file */
	struct ioguard_selector selectors[IOGUARD_MAX_SELECTORS];
	struct ioguard_tenant tenants[IOGUARD_MAX_TENANTS];
	/* Layout 2 (src/ioguard/prog/pinned_layout.h): after layout 1's fields, which keep their place. */
	__u32 n_exe_digests;
	__u32 reserved;
	struct ioguard_exe_digest exe_digests[IOGUARD_MAX_EXE_DIGESTS];
};

/* Key of the `matches` set: a value of a tenant's criterion in one generation. */
struct ioguard_match_key {
	__u32 gen;
	__u32 tenant;
	__u32 kind;	/* enum ioguard_match_kind */
	__u32 aux;	/* EXE: the executable's s_dev; 0 otherwise */
	__u64 value;	/* uid, gid, cgroup id, or EXE: i_ino */
};

/*
 * struct ioguard_kernel_info - what the loader resolved about this kernel: the ioctl
 * handlers that identify each file kind (0 when the module is not loaded: such files are
 * then unidentified and denied), and the device numbers of the misc devices.
 */
struct ioguard_kernel_info {
	__u64 ioctl_handler[IOGUARD_FILE_KIND_COUNT];
	__u32 iommufd_rdev;	/* new_encode_dev() of /dev/iommu, 0 if absent */
	__u32 container_rdev;	/* of /dev/vfio/vfio, 0 if absent */
};

/*
 * Key of the decision counters. @policy_id ties @tenant (an index into that policy's
 * tenants) to the policy that decided, so counts survive swaps without taking the next
 * policy's tenant names.
 */
struct ioguard_decision_key {
	__u64 policy_id;
	__u32 hook;
	__u32 decision;
	__u32 reason;
	__s32 tenant;
};

/* One decision that denied or would have denied, on the `decisions` ring buffer. */
struct ioguard_decision {
	__u64 ts_ns;
	__u64 policy_id;
	__u64 value;		/* bytes or IOVA the reason is about, else 0 */
	__u32 pid;
	__u32 uid;
	__u32 hook;
	__u32 decision;
	__u32 reason;
	__s32 group;
	__s32 tenant;
	__u32 gen;
	char comm[IOGUARD_COMM_LEN];
	char device[IOGUARD_DEV_NAME_LEN];
};

#endif /* IOGUARD_ENFORCE_H */
