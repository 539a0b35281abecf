// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Enforcement of a group-viable device policy on VFIO and iommufd, as BPF LSM programs.
 *
 * Files are identified by their f_op->unlocked_ioctl handler (or, at open, by the cdev's
 * ops or the misc device number), never by path, so a renamed or re-created device node
 * is still recognised. Every use of a file is judged for the process using it, whoever
 * opened it, on the native and the compat (32-bit) ioctl paths alike:
 *  - open of a group, device cdev, /dev/iommu or /dev/vfio/vfio, and receiving one by
 *    SCM_RIGHTS or pidfd_getfd: tenant and default;
 *  - VFIO_GROUP_SET_CONTAINER: tenant of every endpoint of the group; strict: every
 *    endpoint bound to a VFIO driver;
 *  - VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_BIND_IOMMUFD, every other device ioctl, mmap
 *    and read/write of a device file: tenant of the device;
 *  - VFIO_DEVICE_ATTACH_IOMMUFD_PT: tenant; strict: the group's DMA owner is this
 *    device's iommufd and it has claimed every endpoint (live kernel state, not a copy);
 *  - VFIO_IOMMU_MAP_DMA (on a container or, through iommufd's VFIO compatibility, on an
 *    iommufd), IOMMU_IOAS_MAP(_FILE), IOMMU_IOAS_COPY: the process's tenant, its IOVA
 *    windows and the tenant's byte limit, charged to the mappings' holder;
 *  - user-owned page tables (nested HWPT, vIOMMU objects): only for tenants without
 *    windows or limit;
 *  - any other ';' ioctl: allowed if classified harmless, else denied (fail closed).
 * With no policy loaded in the active slot, everything is allowed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ioguard/enforce.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
#define S_IFMT 00170000
#define S_IFCHR 0020000
#define PCI_CLASS_BRIDGE_PCI 0x0604
#define PCI_CLASS_BRIDGE_PCI_SEMI 0x0609	/* semi-transparent PCI-to-PCI */
#define IOMMU_IOAS_MAP_FIXED_IOVA 1
#define HASH_ALGO_SHA256 4	/* enum hash_algo, uAPI linux/hash_info.h */

/* The user's argument structs, as in linux/vfio.h and linux/iommufd.h (uAPI, fixed). */
struct vfio_dma_map_arg {
	__u32 argsz;
	__u32 flags;
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

struct vfio_dma_unmap_arg {
	__u32 argsz;
	__u32 flags;
	__u64 iova;
	__u64 size;
};

struct ioas_map_arg {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 reserved;
	__u64 user_va;
	__u64 length;
	__u64 iova;
};

struct ioas_map_file_arg {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__u64 start;
	__u64 length;
	__u64 iova;
};

struct ioas_copy_arg {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__u64 length;
	__u64 dst_iova;
	__u64 src_iova;
};

struct ioas_unmap_arg {
	__u32 size;
	__u32 ioas_id;
	__u64 iova;
	__u64 length;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IOGUARD_GENERATIONS);
	__type(key, __u32);
	__type(value, struct ioguard_policy_slot);
} policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ioguard_match_key);
	__type(value, __u8);
} matches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ioguard_kernel_info);
} kernel_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} decisions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct ioguard_decision_key);
	__type(value, __u64);
} decision_counts SEC(".maps");

/*
 * DMA accounting. Mappings belong to their holder (a type1 container's IOMMU, an iommufd
 * context), not to the process that made them: they outlive it when the fd is shared or
 * inherited. Each holder is charged to one tenant account; an account is the sum over its
 * holders, so every process of a tenant draws on one budget. Bytes are reserved at the
 * decision, kept when the map succeeds, and given back only from the kernel's own count
 * of what it removed (never from user memory) or when the holder releases its mappings.
 * Lock-free: accounts move by atomic adds, and a reservation that overshoots the limit
 * is taken back before the denial, so concurrent maps can never pass the limit together.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOGUARD_MAX_HOLDERS);
	__type(key, __u64);			/* kernel address of the holder */
	__type(value, struct ioguard_holder);
} holders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOGUARD_MAX_ACCOUNTS);
	__type(key, __u64);			/* ioguard_tenant.account_id */
	__type(value, __u64);			/* bytes mapped */
} accounts SEC(".maps");

/*
 * Holders per account (0: processes of no tenant), so that no one tenant can fill the
 * holder table and deny every other tenant's maps.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOGUARD_MAX_ACCOUNTS + 1);
	__type(key, __u64);
	__type(value, __u64);
} account_holders SEC(".maps");

/*
 * A map or unmap being judged, from the LSM hook to the ioctl's return. Task-local: the
 * hook, the kernel's work and the handler's fexit run in the same task, with no lock and
 * no hash on every map. @cmd ties them: a record whose ioctl never reached its handler
 * (another LSM refused it) is never settled by a later, different ioctl.
 */
struct pending_dma {
	__u64 holder;		/* map: where the reservation was charged; unmap: the holder */
	__u64 account_id;	/* map: the account reserved from; 0 if none */
	__u64 bytes;		/* map: bytes reserved */
	__u64 iova;		/* map: as judged */
	__u64 len;		/* map: as judged */
	__u32 cmd;		/* the ioctl judged; 0 when nothing is pending */
	__u32 hook;
	__u8 unmap;		/* 1 for an unmap */
	__u8 fixed;		/* map: the caller chose the IOVA */
	__u8 checked;		/* map: the kernel's copy was compared already */
	__u8 renew;		/* map: judged a type1 vaddr renewal, which maps nothing new */
	__u8 mapped;		/* map: the kernel's own map function succeeded */
	__u8 restricted;	/* the tenant has windows or a limit (hwpt_alloc) */
};

/* The kernel's page size, set by the loader: type1 counts what it pins in pages. */
const volatile __u32 page_shift = 12;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_dma);
} pending SEC(".maps");

/* The current task's pending record, created on first use; NULL if none can be had. */
static __always_inline struct pending_dma *pending_get(__u64 flags)
{
	return bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL, flags);
}

__u64 events_lost = 0;

struct decision {
	const struct ioguard_policy_slot *policy;
	__u32 gen;
	__u32 hook;
	__u32 reason;
	__s32 group;
	__s32 tenant;
	__u32 digest_tenants;	/* bit per tenant one of whose exe_sha256 the task runs */
	__u64 value;
	char device[32];
};

static __always_inline const struct ioguard_policy_slot *policy_get(__u32 *gen)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&active, &zero);
	const struct ioguard_policy_slot *p;

	if (!g)
		return NULL;
	*gen = *g & 1;
	p = bpf_map_lookup_elem(&policies, gen);
	return p && p->loaded ? p : NULL;
}

/*
 * What the task is executing, as IMA hashed it at the exec that started the image
 * (exe_sha256). Set at every exec, copied to every task the task creates (threads,
 * forks), so it follows the image and nothing else: a later exec replaces it. Written
 * only by its own task, or by the parent before the child runs.
 */
struct executed {
	__u64 inode;		/* the executed file's inode; exe_file replaced: no match */
	__s32 algo;		/* enum hash_algo of @digest, or the hash's negative errno */
	__u32 reserved;
	__u8 digest[IOGUARD_SHA256_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct executed);
} executed SEC(".maps");

static __always_inline bool policy_names_digests(const struct ioguard_policy_slot *p)
{
	return p && p->n_exe_digests;
}

struct digest_search {
	const struct ioguard_policy_slot *policy;
	__u64 digest[IOGUARD_SHA256_LEN / 8];
	__u32 tenants;
};

static long digest_matches(__u32 i, struct digest_search *s)
{
	const struct ioguard_exe_digest *e;
	const __u64 *v;

	if (i >= IOGUARD_MAX_EXE_DIGESTS || i >= s->policy->n_exe_digests)
		return 1;
	barrier_var(i);
	e = &s->policy->exe_digests[i & (IOGUARD_MAX_EXE_DIGESTS - 1)];
	v = (const __u64 *)e->sha256;
	if (e->tenant < IOGUARD_MAX_TENANTS && v[0] == s->digest[0] && v[1] == s->digest[1] &&
	    v[2] == s->digest[2] && v[3] == s->digest[3])
		s->tenants |= 1U << e->tenant;
	return 0;
}

/*
 * The tenants one of whose exe_sha256 is the SHA-256 IMA computed when the current task's
 * image was executed; found once per decision, so that the per-tenant match is one bit.
 * Fails closed: no record (executed before a policy named digests, or the record could
 * not be stored), a hash IMA could not give, another algorithm, or an executable
 * replaced since (PR_SET_MM_EXE_FILE) match no tenant. Not inlined: the search's frame
 * stays off the deepest call chain, whose combined stack the verifier caps at 512 bytes.
 */
static __noinline __u32 executed_digest_tenants(const struct ioguard_policy_slot *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct digest_search s = { .policy = p };
	struct executed *x;

	if (!policy_names_digests(p))
		return 0;
	x = bpf_task_storage_get(&executed, task, NULL, 0);
	if (!x || x->algo != HASH_ALGO_SHA256 ||
	    x->inode != (__u64)BPF_CORE_READ(task, mm, exe_file, f_inode))
		return 0;
	__builtin_memcpy(s.digest, x->digest, sizeof(s.digest));
	bpf_loop(IOGUARD_MAX_EXE_DIGESTS, digest_matches, &s, 0);
	return s.tenants;
}

/*
 * Every criterion in @kinds of @tenant (generation @gen) matches the current process.
 * Global, so the verifier checks it once instead of once per tenant of every decision's
 * tenant loop (the program's budget). Scalars only: a global function sees no map values.
 */
__noinline int tenant_criteria_match(__u32 gen, __u32 tenant, __u32 kinds, __u32 digest_tenants)
{
	/* One key, rewritten per lookup: this frame adds to the deepest call chain's stack. */
	struct ioguard_match_key key = { .gen = gen, .tenant = tenant };
	__u64 uid_gid = bpf_get_current_uid_gid();
	int level;

	if (tenant >= IOGUARD_MAX_TENANTS)
		return 0;
	if ((kinds & (1U << IOGUARD_MATCH_EXE_SHA256)) && !(digest_tenants & (1U << tenant)))
		return 0;
	if (kinds & (1U << IOGUARD_MATCH_UID)) {
		key.kind = IOGUARD_MATCH_UID;
		key.value = (__u32)uid_gid;
		if (!bpf_map_lookup_elem(&matches, &key))
			return 0;
	}
	if (kinds & (1U << IOGUARD_MATCH_GID)) {
		key.kind = IOGUARD_MATCH_GID;
		key.value = uid_gid >> 32;
		if (!bpf_map_lookup_elem(&matches, &key))
			return 0;
	}
	if (kinds & (1U << IOGUARD_MATCH_EXE)) {
		/* BTF loads, not probe reads: no stack for the reads (a NULL link reads 0). */
		struct inode *exe = bpf_get_current_task_btf()->mm->exe_file->f_inode;

		if (!exe)
			return 0;
		key.kind = IOGUARD_MATCH_EXE;
		key.aux = exe->i_sb->s_dev;
		key.value = exe->i_ino;
		if (!bpf_map_lookup_elem(&matches, &key))
			return 0;
		key.aux = 0;
	}
	if (!(kinds & (1U << IOGUARD_MATCH_CGROUP)))
		return 1;
	key.kind = IOGUARD_MATCH_CGROUP;
	for (level = 0; level < 16; level++) {
		key.value = bpf_get_current_ancestor_cgroup_id(level);
		if (!key.value)
			break;
		if (bpf_map_lookup_elem(&matches, &key))
			return 1;
	}
	return 0;
}

/* Every criterion the tenant has matches the current process. */
static __always_inline bool process_matches(const struct decision *d, __u32 tenant)
{
	const struct ioguard_tenant *t;

	if (tenant >= IOGUARD_MAX_TENANTS)
		return false;
	barrier_var(tenant);
	t = &d->policy->tenants[tenant & (IOGUARD_MAX_TENANTS - 1)];
	return tenant_criteria_match(d->gen, tenant, t->match_kinds, d->digest_tenants);
}

struct tenant_search {
	const struct decision *d;
	__s32 found;
};

static long tenant_search_step(__u32 i, struct tenant_search *s)
{
	if (i >= IOGUARD_MAX_TENANTS || i >= s->d->policy->n_tenants)
		return 1;
	if (!process_matches(s->d, i))
		return 0;
	s->found = i;
	return 1;
}

/*
 * First tenant the current process matches, or IOGUARD_NO_TENANT. A bpf_loop(), not a
 * bounded loop: the verifier checks the step once, not once per tenant at every caller.
 */
static __always_inline __s32 process_tenant(const struct decision *d)
{
	struct tenant_search s = { .d = d, .found = IOGUARD_NO_TENANT };

	bpf_loop(IOGUARD_MAX_TENANTS, tenant_search_step, &s, 0);
	return s.found;
}

/* What the selectors compare, read once per device. */
struct device_props {
	const struct ioguard_policy_slot *policy;
	__u64 name[IOGUARD_BDF_LEN / 8];
	__u32 id;		/* vendor << 16 | device */
	__u32 class;
	__s32 group;
	bool pci;
	bool bridge;
	__s32 owner;
};

static long selector_matches(__u32 i, struct device_props *p)
{
	const struct ioguard_selector *s;
	const __u64 *bdf;

	if (i >= IOGUARD_MAX_SELECTORS || i >= p->policy->n_selectors)
		return 1;
	/*
	 * clang drops a bound it has proven, but the verifier tracks registers, not C:
	 * the barrier keeps the mask (sizes are powers of two) on the register used.
	 */
	barrier_var(i);
	s = &p->policy->selectors[i & (IOGUARD_MAX_SELECTORS - 1)];
	switch (s->kind) {
	case IOGUARD_SEL_BDF:
		bdf = (const __u64 *)s->bdf;
		if (bdf[0] != p->name[0] || bdf[1] != p->name[1])
			return 0;
		break;
	case IOGUARD_SEL_ID:
		if (!p->pci || (p->id & s->mask) != s->value)
			return 0;
		break;
	case IOGUARD_SEL_CLASS:
		if (!p->pci || (p->class & s->mask) != s->value)
			return 0;
		break;
	case IOGUARD_SEL_GROUP:
		if (p->group < 0 || (__u32)p->group != s->value)
			return 0;
		break;
	default:
		return 0;
	}
	p->owner = s->tenant;
	return 1;
}

static __always_inline void device_props_read(struct device_props *p, struct device *dev)
{
	const char *name = BPF_CORE_READ(dev, kobj.name);
	const char *bus = BPF_CORE_READ(dev, bus, name);
	char bus_name[4] = {};

	bpf_probe_read_kernel_str(p->name, sizeof(p->name), name);
	p->group = BPF_CORE_READ(dev, iommu_group, id);
	if (!BPF_CORE_READ(dev, iommu_group))
		p->group = -1;
	bpf_probe_read_kernel_str(bus_name, sizeof(bus_name), bus);
	p->pci = bus_name[0] == 'p' && bus_name[1] == 'c' && bus_name[2] == 'i' && !bus_name[3];
	if (p->pci) {
		struct pci_dev *pdev = (void *)dev - bpf_core_field_offset(struct pci_dev, dev);

		p->id = (__u32)BPF_CORE_READ(pdev, vendor) << 16 | BPF_CORE_READ(pdev, device);
		p->class = BPF_CORE_READ(pdev, class) & 0xffffff;
		/* The same two classes as the loader's topology (src/ioasid/topology.c). */
		p->bridge = (p->class >> 8) == PCI_CLASS_BRIDGE_PCI ||
			    (p->class >> 8) == PCI_CLASS_BRIDGE_PCI_SEMI;
	}
}

static __always_inline void copy_name(struct decision *d, const struct device_props *p)
{
	__builtin_memcpy(d->device, p->name, sizeof(p->name));
}

/* Tenant and default rules for one device; 0 or a reason. */
static __always_inline __u32 decide_device(struct decision *d, struct device *dev)
{
	struct device_props p = { .policy = d->policy, .owner = IOGUARD_NO_TENANT };

	device_props_read(&p, dev);
	copy_name(d, &p);
	d->group = p.group;
	bpf_loop(IOGUARD_MAX_SELECTORS, selector_matches, &p, 0);
	d->tenant = p.owner;
	if (p.owner == IOGUARD_NO_TENANT)
		return d->policy->default_allow ? 0 : IOGUARD_REASON_DEFAULT_DENY;
	return process_matches(d, p.owner) ? 0 : IOGUARD_REASON_NOT_TENANT;
}

/* A driver whose name contains "vfio": vfio-pci and its variant drivers. */
static __always_inline bool driver_is_vfio(struct device *dev)
{
	const char *name = BPF_CORE_READ(dev, driver, name);
	char buf[32] = {};
	int i;

	if (!name || bpf_probe_read_kernel_str(buf, sizeof(buf), name) <= 0)
		return false;
	for (i = 0; i < (int)sizeof(buf) - 4; i++) {
		if (buf[i] == 'v' && buf[i + 1] == 'f' && buf[i + 2] == 'i' && buf[i + 3] == 'o')
			return true;
	}
	return false;
}

struct group_walk {
	struct decision *d;
	struct list_head *head;
	struct list_head *pos;
	__u32 endpoints;
	__u32 not_vfio;		/* endpoints not bound to a VFIO driver */
	__u32 reason;
	bool done;
};

/* One device of the group's list per call; see group_walk(). */
static long group_walk_step(__u32 i, struct group_walk *w)
{
	struct device_props p = { .policy = w->d->policy, .owner = IOGUARD_NO_TENANT };
	struct list_head *pos = w->pos;
	struct group_device *gd;
	struct device *dev;
	__u32 reason;

	if (!pos || pos == w->head) {
		w->done = true;
		return 1;
	}
	gd = (void *)pos - bpf_core_field_offset(struct group_device, list);
	dev = BPF_CORE_READ(gd, dev);
	w->pos = BPF_CORE_READ(pos, next);
	if (!dev)
		return 0;
	device_props_read(&p, dev);
	if (p.bridge)
		return 0;
	w->endpoints++;
	if (!driver_is_vfio(dev))
		w->not_vfio++;
	if (w->reason)
		return 0;
	reason = decide_device(w->d, dev);
	if (reason)
		w->reason = reason;
	return 0;
}

/*
 * Walks the group's device list (group->devices of struct group_device), applying the
 * tenant rule to every endpoint, counting endpoints and those not on a VFIO driver. The
 * list is read without group->mutex: a device added or removed during the walk may be
 * missed, as with any snapshot; a walk that does not end is reported as too large.
 */
static __always_inline void group_walk(struct group_walk *w, struct iommu_group *group)
{
	w->head = (void *)group + bpf_core_field_offset(struct iommu_group, devices);
	w->pos = BPF_CORE_READ(group, devices.next);
	bpf_loop(IOGUARD_MAX_GROUP_DEVICES + 1, group_walk_step, w, 0);
	if (!w->done && !w->reason)
		w->reason = IOGUARD_REASON_GROUP_TOO_LARGE;
}

static __always_inline void count_decision(const struct decision *d, __u32 decision)
{
	struct ioguard_decision_key key = {
		.policy_id = d->policy->policy_id, .hook = d->hook, .decision = decision,
		.reason = d->reason, .tenant = d->tenant,
	};
	__u64 *n = bpf_map_lookup_elem(&decision_counts, &key), one = 1;

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&decision_counts, &key, &one, BPF_NOEXIST);
}

/* Counts the decision, reports a denial, and returns what the LSM hook returns. */
static __always_inline int finish(struct decision *d)
{
	struct ioguard_decision *e;
	__u32 decision;

	if (!d->reason) {
		count_decision(d, IOGUARD_DECISION_ALLOW);
		return 0;
	}
	decision = d->policy->mode == IOGUARD_MODE_AUDIT ? IOGUARD_DECISION_AUDIT
							 : IOGUARD_DECISION_DENY;
	count_decision(d, decision);
	e = bpf_ringbuf_reserve(&decisions, sizeof(*e), 0);
	if (e) {
		e->ts_ns = bpf_ktime_get_ns();
		e->policy_id = d->policy->policy_id;
		e->value = d->value;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->uid = (__u32)bpf_get_current_uid_gid();
		e->hook = d->hook;
		e->decision = decision;
		e->reason = d->reason;
		e->group = d->group;
		e->tenant = d->tenant;
		e->gen = d->gen;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		__builtin_memcpy(e->device, d->device, sizeof(e->device));
		bpf_ringbuf_submit(e, 0);
	} else {
		__sync_fetch_and_add(&events_lost, 1);
	}
	return decision == IOGUARD_DECISION_DENY ? -EPERM : 0;
}

static __always_inline bool decision_begin(struct decision *d, __u32 hook)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->policy = policy_get(&d->gen);
	if (policy_names_digests(d->policy))
		d->digest_tenants = executed_digest_tenants(d->policy);
	d->hook = hook;
	d->group = -1;
	d->tenant = IOGUARD_NO_TENANT;
	return d->policy != NULL;
}

/* Takes up to @n from *@v without going below 0; returns what was taken. */
static __always_inline __u64 sub_clamped(__u64 *v, __u64 n)
{
	__u64 old, take;
	int i;

	for (i = 0; i < 16; i++) {
		old = *(volatile __u64 *)v;
		take = n < old ? n : old;
		if (!take || __sync_val_compare_and_swap(v, old, old - take) == old)
			return take;
	}
	return 0;
}

/*
 * The record of @holder, created bound to @account_id if it has none; NULL when the
 * table or the account's share of it is full.
 */
static __always_inline struct ioguard_holder *holder_get(__u64 holder, __u64 account_id)
{
	struct ioguard_holder fresh = { .account_id = account_id }, *h;
	__u64 zero = 0, *n;

	h = bpf_map_lookup_elem(&holders, &holder);
	if (h)
		return h;
	n = bpf_map_lookup_elem(&account_holders, &account_id);
	if (!n) {
		bpf_map_update_elem(&account_holders, &account_id, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&account_holders, &account_id);
		if (!n)
			return NULL;
	}
	if (__sync_fetch_and_add(n, 1) >= IOGUARD_MAX_HOLDERS_PER_ACCOUNT) {
		__sync_fetch_and_sub(n, 1);
		return NULL;
	}
	if (bpf_map_update_elem(&holders, &holder, &fresh, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&holders, &holder)) {
		__sync_fetch_and_sub(n, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&holders, &holder);
}

/*
 * Binds @holder to IOGUARD_POISON_ACCOUNT, which no tenant and no tenantless process
 * matches, so that every later map into it is denied (shared_account). A holder bound to
 * an account already is moved, its charge left where it is (fail closed).
 */
static __always_inline void holder_poison(__u64 holder)
{
	struct ioguard_holder *h = holder_get(holder, IOGUARD_POISON_ACCOUNT);
	__u64 poison = IOGUARD_POISON_ACCOUNT, zero = 0, *n;

	if (!h || h->account_id == IOGUARD_POISON_ACCOUNT)
		return;
	n = bpf_map_lookup_elem(&account_holders, &h->account_id);
	if (n)
		sub_clamped(n, 1);
	h->account_id = IOGUARD_POISON_ACCOUNT;
	bpf_map_update_elem(&account_holders, &poison, &zero, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&account_holders, &poison);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Gives back up to @bytes of @holder's charge, to the holder and to its account. */
static __always_inline void holder_refund(__u64 holder, __u64 bytes)
{
	struct ioguard_holder *h;
	__u64 *acct, taken;

	if (!holder || !bytes)
		return;
	h = bpf_map_lookup_elem(&holders, &holder);
	if (!h)
		return;
	taken = sub_clamped(&h->bytes, bytes);
	acct = bpf_map_lookup_elem(&accounts, &h->account_id);
	if (acct)
		sub_clamped(acct, taken);
}

/* A holder's mappings are gone: its whole charge goes back, and the holder is forgotten. */
static __always_inline void holder_release(__u64 holder)
{
	struct ioguard_holder *h = bpf_map_lookup_elem(&holders, &holder);

	__u64 *n;

	if (!h)
		return;
	holder_refund(holder, ~0ULL);
	n = bpf_map_lookup_elem(&account_holders, &h->account_id);
	if (!bpf_map_delete_elem(&holders, &holder) && n)
		sub_clamped(n, 1);
}

/*
 * Reserves @len bytes of @account_id against @max (@force: charge past it, as audit mode
 * does for a map it lets through). 0, DMA_LIMIT, or ACCOUNT_FULL when no account fits.
 */
static __always_inline __u32 account_reserve(__u64 account_id, __u64 len, __u64 max, bool force)
{
	__u64 zero = 0, *acct, old;

	acct = bpf_map_lookup_elem(&accounts, &account_id);
	if (!acct) {
		bpf_map_update_elem(&accounts, &account_id, &zero, BPF_NOEXIST);
		acct = bpf_map_lookup_elem(&accounts, &account_id);
		if (!acct)
			return IOGUARD_REASON_ACCOUNT_FULL;
	}
	old = __sync_fetch_and_add(acct, len);
	if (!force && (old + len < old || old + len > max)) {
		__sync_fetch_and_sub(acct, len);
		return IOGUARD_REASON_DMA_LIMIT;
	}
	return 0;
}

/* Charges @len to @holder, binding it to @account_id on first use; 0 or a reason. */
static __always_inline __u32 holder_charge(__u64 holder, __u64 account_id, __u64 len)
{
	struct ioguard_holder *h = holder_get(holder, account_id);

	if (!h)
		return IOGUARD_REASON_ACCOUNT_FULL;
	if (h->account_id != account_id)
		return IOGUARD_REASON_SHARED_ACCOUNT;
	__sync_fetch_and_add(&h->bytes, len);
	return 0;
}

/*
 * Binds @holder to the tenant account @account_id if it has none: later maps into it are
 * judged by that tenant. SHARED_ACCOUNT if it is bound to another tenant already.
 */
static __always_inline __u32 holder_bind(__u64 holder, __u64 account_id)
{
	struct ioguard_holder *h = holder_get(holder, account_id);

	if (!h)
		return IOGUARD_REASON_ACCOUNT_FULL;
	return h->account_id == account_id ? 0 : IOGUARD_REASON_SHARED_ACCOUNT;
}

/*
 * Binds an iommufd context that a device or group of @d->tenant joins to that tenant:
 * from then on its maps are judged by the owner's rules. Not inlined: its frame stays
 * off the deepest call chain (decision, group walk, tenant criteria), whose combined
 * stack the verifier caps at 512 bytes.
 */
static __noinline __u32 bind_to_owner(const struct decision *d, __u64 iommufd)
{
	__s32 tenant = d->tenant;

	if (!iommufd || tenant < 0 || tenant >= IOGUARD_MAX_TENANTS)
		return 0;
	barrier_var(tenant);
	return holder_bind(iommufd,
			   d->policy->tenants[tenant & (IOGUARD_MAX_TENANTS - 1)].account_id);
}

static __always_inline int file_kind_of(const struct ioguard_kernel_info *k, struct file *file);

/*
 * VFIO_GROUP_SET_CONTAINER with an iommufd (/dev/vfio/vfio served by iommufd, or
 * /dev/iommu itself): the context named by the fd argument, as the fd table holds it now;
 * 0 for anything else. The kernel looks the fd up again: fentry on
 * iommufd_vfio_compat_ioas_create() compares what it found (pending_set_container()).
 */
static __always_inline __u64 set_container_iommufd(const struct ioguard_kernel_info *k,
						   unsigned long arg)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	int fd;

	if (bpf_probe_read_user(&fd, sizeof(fd), (void *)arg) || fd < 0 ||
	    (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f ||
	    file_kind_of(k, f) != IOGUARD_FILE_IOMMUFD)
		return 0;
	return (__u64)BPF_CORE_READ(f, private_data);
}

/*
 * What a judged SET_CONTAINER expects the kernel to attach the group to. False when it
 * cannot be recorded: the fentry could not compare, so the ioctl is denied.
 */
static __always_inline bool pending_set_container(__u64 iommufd)
{
	struct pending_dma *p = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!p)
		return false;
	__builtin_memset(p, 0, sizeof(*p));
	p->holder = iommufd;
	p->cmd = IOGUARD_VFIO_GROUP_SET_CONTAINER;
	p->hook = IOGUARD_HOOK_SET_CONTAINER;
	p->checked = 1;		/* not a map: kernel_copy() leaves it alone */
	return true;
}

static __noinline int decide_group_file(__u32 hook, struct iommu_group *group, __u64 iommufd)
{
	bool recorded = hook != IOGUARD_HOOK_SET_CONTAINER || pending_set_container(iommufd);
	struct decision d;
	struct group_walk w = {};

	if (!decision_begin(&d, hook))
		return 0;
	/* No group behind a file identified as a group's: nothing to judge it by. */
	if (!group) {
		d.reason = IOGUARD_REASON_UNIDENTIFIED;
		return finish(&d);
	}
	w.d = &d;
	group_walk(&w, group);
	d.reason = w.reason;
	if (!d.reason && !recorded)
		d.reason = IOGUARD_REASON_ACCOUNT_FULL;
	if (!d.reason && hook == IOGUARD_HOOK_SET_CONTAINER && d.policy->strict &&
	    w.not_vfio)
		d.reason = IOGUARD_REASON_GROUP_NOT_VIABLE;
	/* A group attached to an iommufd, like a device's first attach, binds the context. */
	if (!d.reason)
		d.reason = bind_to_owner(&d, iommufd);
	d.group = BPF_CORE_READ(group, id);
	return finish(&d);
}

static __noinline int decide_device_file(__u32 hook, struct device *dev, void *iommufd)
{
	struct decision d;
	struct iommu_group *group;

	if (!decision_begin(&d, hook))
		return 0;
	if (!dev) {
		d.reason = IOGUARD_REASON_UNIDENTIFIED;
		return finish(&d);
	}
	d.reason = decide_device(&d, dev);
	if (!d.reason && hook == IOGUARD_HOOK_ATTACH_PT && d.policy->strict) {
		struct group_walk w = { .d = &d };

		/*
		 * The group's owner cookie is the iommufd context after the first device
		 * bind, and owner_cnt counts the devices that context has claimed; the
		 * group is complete when it has claimed every endpoint.
		 */
		group = BPF_CORE_READ(dev, iommu_group);
		group_walk(&w, group);
		if (w.reason)
			d.reason = w.reason;
		else if (!iommufd || BPF_CORE_READ(group, owner) != iommufd ||
			 BPF_CORE_READ(group, owner_cnt) < w.endpoints)
			d.reason = IOGUARD_REASON_GROUP_NOT_VIABLE;
	}
	/* From its first attach, an iommufd context maps for this device's owner only. */
	if (!d.reason && hook == IOGUARD_HOOK_ATTACH_PT)
		d.reason = bind_to_owner(&d, (__u64)iommufd);
	return finish(&d);
}

static __noinline int decide_process_file(__u32 hook)
{
	struct decision d;

	if (!decision_begin(&d, hook))
		return 0;
	d.tenant = process_tenant(&d);
	if (d.tenant == IOGUARD_NO_TENANT && !d.policy->default_allow)
		d.reason = IOGUARD_REASON_NO_TENANT;
	return finish(&d);
}

static __always_inline bool in_windows(const struct ioguard_tenant *t, __u64 iova, __u64 len)
{
	__u64 last = iova + len - 1;
	__u32 i;

	if (!t->n_windows)
		return true;
	if (!len || last < iova)
		return false;
	for (i = 0; i < IOGUARD_MAX_WINDOWS; i++) {
		if (i >= t->n_windows)
			break;
		const struct ioguard_window *win;

		barrier_var(i);
		win = &t->windows[i & (IOGUARD_MAX_WINDOWS - 1)];
		if (iova >= win->start && last <= win->last)
			return true;
	}
	return false;
}

/* Forgets what the current task had pending, so no later return can settle it. */
static __always_inline void pending_clear(void)
{
	struct pending_dma *p = pending_get(0);

	if (p)
		p->cmd = 0;
}

/*
 * decide_map(), decide_fixed() and decide_user_page_table() are global functions: the
 * verifier checks each once per program, not once per call site (file_ioctl calls them
 * from up to eight). It knows nothing of what a global function returns, so a hook hands
 * their result on through verdict(), which keeps it in the LSM's range: 0, or -EPERM.
 */
static __always_inline int verdict(int ret)
{
	/* clang sees the bodies and would drop the clamp that the verifier needs. */
	barrier_var(ret);
	if (ret < 0)
		return -EPERM;
	return 0;
}

/*
 * A map of @len bytes at @iova into the mappings of @holder (@fixed: the caller chose the
 * IOVA; @charge: the map can add a mapping, unlike a type1 vaddr update). The tenant is
 * the current process's, whoever opened the fd. The argument was read from user memory
 * before the kernel copies it: a racing thread can change it in between (see
 * docs/enforcement.md, "Residual windows"); what the kernel removes is given back from
 * the kernel's own numbers, so such a race cannot grow the budget.
 */
struct map_request {
	__u64 iova;
	__u64 len;
	__u64 holder;
	__u64 container;	/* a legacy container's struct vfio_container, else 0 */
	__u32 hook;
	__u32 cmd;
	bool fixed;
	bool charge;
};

/* Records an allowed map for its return and for the kernel's copy; false if impossible. */
static __always_inline bool pending_map(const struct map_request *r, __u64 account, __u64 bytes)
{
	struct pending_dma *pend = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!pend)
		return false;
	pend->holder = r->holder;
	pend->account_id = account;
	pend->bytes = bytes;
	pend->iova = r->iova;
	pend->len = r->len;
	pend->cmd = r->cmd;
	pend->hook = r->hook;
	pend->unmap = 0;
	pend->fixed = r->fixed;
	pend->checked = 0;
	pend->renew = !r->charge;
	pend->mapped = 0;
	pend->restricted = 0;
	return true;
}

/* Owner of the devices behind a map is not known (iommufd before any attach). */
#define OWNER_UNKNOWN (-2)

struct account_search {
	const struct ioguard_policy_slot *policy;
	__u64 account_id;
	__s32 found;
};

static long account_search_step(__u32 i, struct account_search *s)
{
	if (i >= IOGUARD_MAX_TENANTS || i >= s->policy->n_tenants)
		return 1;
	barrier_var(i);
	if (s->policy->tenants[i & (IOGUARD_MAX_TENANTS - 1)].account_id != s->account_id)
		return 0;
	s->found = i;
	return 1;
}

/* The tenant of the active policy whose account is @account_id, or OWNER_UNKNOWN. */
static __always_inline __s32 tenant_by_account(const struct ioguard_policy_slot *policy,
					       __u64 account_id)
{
	struct account_search s = {
		.policy = policy, .account_id = account_id, .found = OWNER_UNKNOWN,
	};

	bpf_loop(IOGUARD_MAX_TENANTS, account_search_step, &s, 0);
	return s.found;
}

/*
 * The tenant that owns the devices a map reaches: the one its holder @h was bound to (at
 * the first attach of an iommufd device, or the first map), else for a legacy container
 * the owner of its first group's endpoints. Limits and windows are that tenant's, not
 * those of whichever tenant the mapping process happens to match first.
 */
static __always_inline __s32 map_owner(struct decision *d, const struct map_request *r,
				       const struct ioguard_holder *h)
{
	struct iommu_group *group;
	struct group_walk w = { .d = d };

	if (h)
		return tenant_by_account(d->policy, h->account_id);
	if (!r->container)
		return OWNER_UNKNOWN;
	group = vfio_container_first_group((void *)r->container);
	if (!group)
		return OWNER_UNKNOWN;
	/* The walk leaves the owner (and the device) of the endpoints it judged in @d. */
	group_walk(&w, group);
	return d->tenant;
}

/*
 * judge_map()'s answer for an allowed map whose pending record it wrote (decided and
 * counted): every other answer leaves no record of this ioctl, and decide_map() clears
 * what an earlier one left, so that no later return or kernel copy can take it for this
 * map's. A denial after the record was written cannot happen; were it to, the record is
 * cleared and the charge stays (fail closed).
 */
#define MAP_PENDING 1

/* The decision of decide_map(): 0, -EPERM, or MAP_PENDING. */
static __always_inline int judge_map(const struct map_request *r)
{
	const struct ioguard_tenant *t;
	struct ioguard_holder *h = NULL;
	__u64 len, holder;
	struct decision d;
	__u32 over_limit = 0;
	bool limited;
	__s32 owner;

	len = r->len;
	holder = r->holder;
	if (!decision_begin(&d, r->hook))
		return 0;
	d.value = r->iova;
	/*
	 * Read once for the owner and the shared-account check (a key on the stack: v6.1
	 * takes no map key from a global function's argument). Charging and binding look
	 * the holder up again: a container's last group can leave meanwhile (type1 then
	 * forgets the holder), and a charge must land in the record a refund will find.
	 */
	if (holder)
		h = bpf_map_lookup_elem(&holders, &holder);
	owner = map_owner(&d, r, h);
	if (owner == OWNER_UNKNOWN) {
		d.tenant = process_tenant(&d);
		if (d.tenant == IOGUARD_NO_TENANT) {
			if (!d.policy->default_allow)
				d.reason = IOGUARD_REASON_NO_TENANT;
			/*
			 * Bound to "no tenant" from here: a tenant's device attached later
			 * would reach mappings no rule judged, so that attach is refused.
			 */
			else if (holder)
				d.reason = holder_bind(holder, 0);
			return finish(&d);
		}
	} else {
		d.tenant = owner;
		if (owner == IOGUARD_NO_TENANT) {
			/* Devices no tenant owns: governed by the default alone. */
			if (!d.policy->default_allow)
				d.reason = IOGUARD_REASON_DEFAULT_DENY;
			return finish(&d);
		}
		if (!process_matches(&d, owner)) {
			d.reason = IOGUARD_REASON_NOT_TENANT;
			return finish(&d);
		}
	}
	if (d.tenant < 0 || d.tenant >= IOGUARD_MAX_TENANTS)
		return finish(&d);
	barrier_var(d.tenant);
	t = &d.policy->tenants[d.tenant & (IOGUARD_MAX_TENANTS - 1)];
	if (t->n_windows && (!r->fixed || !in_windows(t, r->iova, len))) {
		d.reason = IOGUARD_REASON_IOVA_WINDOW;
		return finish(&d);
	}
	limited = t->max_dma_bytes != ~0ULL;
	/* A holder bound to one tenant takes maps for that tenant only. */
	if (h && h->account_id != t->account_id) {
		d.reason = IOGUARD_REASON_SHARED_ACCOUNT;
		return finish(&d);
	}
	if (!limited || !r->charge) {
		if (holder)
			d.reason = holder_bind(holder, t->account_id);
		/* Still compared with the kernel's copy: a renewal may be rewritten to a map. */
		if (d.reason || (!t->n_windows && !limited))
			return finish(&d);
		if (!pending_map(r, limited ? t->account_id : 0, 0)) {
			d.reason = IOGUARD_REASON_ACCOUNT_FULL;
			return finish(&d);
		}
		return finish(&d) ? -EPERM : MAP_PENDING;
	}
	if (!holder) {
		/* No IOMMU behind the container yet: nothing to charge, so nothing may map. */
		d.reason = IOGUARD_REASON_BAD_ARGUMENT;
		return finish(&d);
	}
	d.reason = account_reserve(t->account_id, len, t->max_dma_bytes, false);
	if (d.reason == IOGUARD_REASON_DMA_LIMIT) {
		d.value = len;
		if (d.policy->mode != IOGUARD_MODE_AUDIT)
			return finish(&d);
		/*
		 * Audit lets the map through: charge it, so later maps are judged truly, and
		 * report it as over the limit once it is charged.
		 */
		account_reserve(t->account_id, len, 0, true);
		over_limit = IOGUARD_REASON_DMA_LIMIT;
	} else if (d.reason) {
		return finish(&d);
	}
	d.reason = holder_charge(holder, t->account_id, len);
	if (d.reason) {
		__u64 *acct = bpf_map_lookup_elem(&accounts, &t->account_id);

		if (acct)
			sub_clamped(acct, len);
		return finish(&d);
	}
	if (!pending_map(r, t->account_id, len)) {
		holder_refund(holder, len);
		d.reason = IOGUARD_REASON_ACCOUNT_FULL;
		return finish(&d);
	}
	/* Only audit sets over_limit, and finish() allows what audit reports. */
	d.reason = over_limit;
	return finish(&d) ? -EPERM : MAP_PENDING;
}

/*
 * A map of @r's, judged. Only an allowed map leaves a pending record (written by
 * judge_map() with the task-storage get it needs anyway); any other answer clears one
 * that an earlier ioctl may have left, after the decision rather than before it, which
 * saves a second get on the maps that write one: nothing in judge_map() reads it.
 */
__noinline int decide_map(const struct map_request *r)
{
	int ret;

	if (!r)
		return -EPERM;	/* a global function's pointer may be NULL to the verifier */
	ret = judge_map(r);
	if (ret == MAP_PENDING)
		return 0;
	pending_clear();
	return ret;
}

/* A decision whose reason is known before any rule: an unreadable argument, an unknown ioctl. */
__noinline int decide_fixed(__u32 hook, __u32 reason, __u64 value)
{
	struct decision d;

	pending_clear();
	if (!decision_begin(&d, hook))
		return 0;
	d.tenant = process_tenant(&d);
	d.reason = reason;
	d.value = value;
	return finish(&d);
}

/*
 * Nested or user-owned translation (IOMMU_HWPT_ALLOC with a driver page table, vIOMMU
 * objects): the device then uses addresses the tenant's own page tables translate, which
 * no IOVA window or byte limit sees. Only a tenant with neither may have one.
 */
__noinline int decide_user_page_table(__u32 cmd)
{
	const struct ioguard_tenant *t;
	struct decision d;

	if (!decision_begin(&d, IOGUARD_HOOK_HWPT_ALLOC))
		return 0;
	d.value = cmd;
	d.tenant = process_tenant(&d);
	if (d.tenant == IOGUARD_NO_TENANT) {
		if (!d.policy->default_allow)
			d.reason = IOGUARD_REASON_NO_TENANT;
		return finish(&d);
	}
	if (d.tenant >= IOGUARD_MAX_TENANTS)
		return finish(&d);
	barrier_var(d.tenant);
	t = &d.policy->tenants[d.tenant & (IOGUARD_MAX_TENANTS - 1)];
	if (t->n_windows || t->max_dma_bytes != ~0ULL)
		d.reason = IOGUARD_REASON_USER_PAGE_TABLE;
	return finish(&d);
}

/*
 * A plain paging HWPT: allowed like any iommufd ioctl, but a restricted tenant's is
 * compared with the kernel's copy (see iommufd_hwpt_alloc_entry).
 */
static __noinline int decide_paging_hwpt(void)
{
	const struct ioguard_tenant *t;
	struct pending_dma *pend;
	struct decision d;

	pending_clear();
	if (!decision_begin(&d, IOGUARD_HOOK_IOCTL))
		return 0;
	d.tenant = process_tenant(&d);
	if (d.tenant == IOGUARD_NO_TENANT) {
		if (!d.policy->default_allow)
			d.reason = IOGUARD_REASON_NO_TENANT;
		return finish(&d);
	}
	if (d.tenant >= IOGUARD_MAX_TENANTS)
		return finish(&d);
	barrier_var(d.tenant);
	t = &d.policy->tenants[d.tenant & (IOGUARD_MAX_TENANTS - 1)];
	if (!t->n_windows && t->max_dma_bytes == ~0ULL)
		return finish(&d);
	pend = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pend) {
		d.reason = IOGUARD_REASON_ACCOUNT_FULL;
		return finish(&d);
	}
	__builtin_memset(pend, 0, sizeof(*pend));
	pend->cmd = IOGUARD_IOMMU_HWPT_ALLOC;
	pend->hook = IOGUARD_HOOK_HWPT_ALLOC;
	pend->restricted = 1;
	return finish(&d);
}

/* An unmap of @holder's mappings: the kernel's own count of bytes removed is given back. */
static __always_inline void note_unmap(__u32 cmd, __u64 holder)
{
	struct pending_dma *pend = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!pend)
		return;
	pend->holder = holder;
	pend->account_id = 0;
	pend->bytes = 0;
	pend->cmd = cmd;
	pend->unmap = 1;
	pend->checked = 1;
}

static __always_inline int file_kind(const struct ioguard_kernel_info *k, __u64 handler)
{
	int i;

	if (!handler)
		return -1;
	for (i = 0; i < IOGUARD_FILE_KIND_COUNT; i++) {
		if (k->ioctl_handler[i] == handler)
			return i;
	}
	return -1;
}

static __always_inline const struct ioguard_kernel_info *kinfo(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kernel_info, &zero);
}

static __always_inline int file_kind_of(const struct ioguard_kernel_info *k, struct file *file)
{
	return file_kind(k, (__u64)BPF_CORE_READ(file, f_op, unlocked_ioctl));
}

/*
 * file_kind_of() for a file the verifier knows as a kernel pointer (a hook's argument):
 * plain loads, which fault to 0 like a failed read, instead of a probe-read helper call
 * per field. A file found any other way (a fd table entry) goes through file_kind_of().
 */
static __always_inline int hook_file_kind(const struct ioguard_kernel_info *k, struct file *file)
{
	return file_kind(k, (__u64)file->f_op->unlocked_ioctl);
}

/*
 * Where vfio.ko is not loaded when the programs are, its structs are in no BTF and their
 * reads must be dead code for the verifier, or a boot-time load before the module would
 * be refused. No file can then be identified as VFIO's (the handlers were not in
 * kallsyms), so these paths are never taken at run time: a later module's files stay
 * unidentified, and denied, until the policy is loaded again (see loaded_before_vfio()
 * in enforcer.c).
 *
 * The device behind a VFIO device file. Before v6.6 the file's private_data is the
 * vfio_device itself; v6.6 put a vfio_device_file between them, and gave vfio_device its
 * cdev_opened bit. A vfio_device with that bit but no vfio_device_file type in sight
 * is a BTF that cannot be trusted to say which: NULL, and the caller denies.
 */
static __always_inline struct device *device_file_dev(struct file *file)
{
	struct vfio_device_file___ioguard *df = BPF_CORE_READ(file, private_data);
	struct vfio_device___ioguard *vdev;

	if (!bpf_core_type_exists(struct vfio_device___ioguard))
		return NULL;	/* vfio.ko was not loaded: see above */
	if (bpf_core_type_exists(struct vfio_device_file___ioguard))
		return BPF_CORE_READ(df, device, dev);
	if (bpf_core_field_exists(struct vfio_device___ioguard, cdev_opened))
		return NULL;
	vdev = (struct vfio_device___ioguard *)df;
	return BPF_CORE_READ(vdev, dev);
}

static __always_inline struct iommu_group *group_file_group(struct file *file)
{
	struct vfio_group___ioguard *g = BPF_CORE_READ(file, private_data);

	if (!bpf_core_type_exists(struct vfio_group___ioguard))
		return NULL;	/* vfio.ko was not loaded: see above */
	return BPF_CORE_READ(g, iommu_group);
}

SEC("lsm/file_open")
int BPF_PROG(ioguard_file_open, struct file *file, int ret)
{
	const struct ioguard_kernel_info *k;
	struct inode *inode;
	struct cdev *cdev;
	__u32 rdev;
	int kind;

	if (ret)
		return ret;
	inode = BPF_CORE_READ(file, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFCHR)
		return 0;
	k = kinfo();
	if (!k)
		return 0;
	rdev = BPF_CORE_READ(inode, i_rdev);
	if (rdev && (rdev == k->iommufd_rdev || rdev == k->container_rdev))
		return decide_process_file(IOGUARD_HOOK_OPEN);
	/*
	 * i_cdev is set by the first open of the node (chrdev_open runs after this hook),
	 * so a node's very first open is not judged here. Every use of the file is judged
	 * on its own (ioctl, mmap, read/write), so an unjudged open reaches nothing.
	 */
	cdev = BPF_CORE_READ(inode, i_cdev);
	if (!cdev)
		return 0;
	kind = file_kind(k, (__u64)BPF_CORE_READ(cdev, ops, unlocked_ioctl));
	if (kind == IOGUARD_FILE_GROUP && bpf_core_type_exists(struct vfio_group___ioguard)) {
		struct vfio_group___ioguard *g =
			(void *)cdev - bpf_core_field_offset(struct vfio_group___ioguard, cdev);

		return decide_group_file(IOGUARD_HOOK_OPEN, BPF_CORE_READ(g, iommu_group), 0);
	}
	if (kind == IOGUARD_FILE_DEVICE) {
		struct device *dev = vfio_cdev_device(cdev);

		return dev ? decide_device_file(IOGUARD_HOOK_OPEN, dev, NULL) : 0;
	}
	return 0;
}

static __always_inline int judge_group_ioctl(const struct ioguard_kernel_info *k,
					     struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case IOGUARD_VFIO_GROUP_SET_CONTAINER:
		return decide_group_file(IOGUARD_HOOK_SET_CONTAINER, group_file_group(file),
					 set_container_iommufd(k, arg));
	case IOGUARD_VFIO_GROUP_GET_DEVICE_FD:
		return decide_group_file(IOGUARD_HOOK_GET_DEVICE_FD, group_file_group(file), 0);
	case IOGUARD_IOCTL(100 + 3):	/* VFIO_GROUP_GET_STATUS */
	case IOGUARD_IOCTL(100 + 5):	/* VFIO_GROUP_UNSET_CONTAINER */
		return 0;
	}
	return verdict(decide_fixed(IOGUARD_HOOK_IOCTL, IOGUARD_REASON_UNKNOWN_IOCTL, cmd));
}

/* Every ioctl on a device file is a use of the device, judged for whoever holds the fd. */
static __always_inline int judge_device_ioctl(struct file *file, unsigned int cmd)
{
	struct device *dev = device_file_dev(file);

	if (cmd == IOGUARD_VFIO_DEVICE_BIND_IOMMUFD)
		return decide_device_file(IOGUARD_HOOK_BIND_IOMMUFD, dev, NULL);
	if (cmd == IOGUARD_VFIO_DEVICE_ATTACH_IOMMUFD_PT)
		return decide_device_file(IOGUARD_HOOK_ATTACH_PT, dev,
					  vfio_file_iommufd(BPF_CORE_READ(file, private_data)));
	return decide_device_file(IOGUARD_HOOK_DEVICE_IOCTL, dev, NULL);
}

/* The ioctls of a mappings' holder that create no DMA-capable state. */
static __always_inline bool holder_ioctl_harmless(int kind, unsigned int nr)
{
	switch (nr) {
	case 100:	/* VFIO_GET_API_VERSION */
	case 101:	/* VFIO_CHECK_EXTENSION */
	case 102:	/* VFIO_SET_IOMMU */
	case 112:	/* VFIO_IOMMU_GET_INFO */
		return true;
	case 117:	/* VFIO_IOMMU_DIRTY_PAGES (type1; on ppc64 the SPAPR ioctls differ) */
		return kind == IOGUARD_FILE_CONTAINER;
	}
	if (kind != IOGUARD_FILE_IOMMUFD)
		return false;
	switch (nr) {
	case 0x80:	/* IOMMU_DESTROY */
	case 0x81:	/* IOMMU_IOAS_ALLOC */
	case 0x82:	/* IOMMU_IOAS_ALLOW_IOVAS */
	case 0x84:	/* IOMMU_IOAS_IOVA_RANGES */
	case 0x87:	/* IOMMU_OPTION */
	case 0x88:	/* IOMMU_VFIO_IOAS: picks the IOAS the VFIO ioctls map into */
	case 0x8a:	/* IOMMU_GET_HW_INFO */
	case 0x8b:	/* IOMMU_HWPT_SET_DIRTY_TRACKING */
	case 0x8c:	/* IOMMU_HWPT_GET_DIRTY_BITMAP */
	case 0x8d:	/* IOMMU_HWPT_INVALIDATE */
	case 0x8e:	/* IOMMU_FAULT_QUEUE_ALLOC */
	case 0x92:	/* IOMMU_IOAS_CHANGE_PROCESS: moves the pinned-page charge only */
	case 0x93:	/* IOMMU_VEVENTQ_ALLOC */
		return true;
	}
	return false;
}

/*
 * An ioctl on a mappings' holder: a legacy container (@holder = its type1 IOMMU) or an
 * iommufd context, whose VFIO compatibility ioctls (below 0x80) map like type1's. A
 * command not classified here is denied: a newer kernel's map-capable ioctl must not
 * pass because ioguard does not know it.
 */
static __always_inline int judge_holder_ioctl(int kind, unsigned int cmd, unsigned long arg,
					      __u64 holder, __u64 container)
{
	union {
		struct vfio_dma_map_arg vfio;
		struct ioas_map_arg map;
		struct ioas_map_file_arg map_file;
		struct ioas_copy_arg copy;
		__u32 hwpt_alloc[8];
	} a;
	struct map_request req = {
		.holder = holder, .container = container, .cmd = cmd, .charge = true,
	};
	bool iommufd = kind == IOGUARD_FILE_IOMMUFD;
	__u32 hook;

	if (cmd == IOGUARD_VFIO_IOMMU_UNMAP_DMA || (iommufd && cmd == IOGUARD_IOMMU_IOAS_UNMAP)) {
		note_unmap(cmd, holder);
		return 0;
	}
	if (cmd == IOGUARD_VFIO_IOMMU_MAP_DMA) {
		if (bpf_probe_read_user(&a.vfio, sizeof(a.vfio), (void *)arg))
			return verdict(decide_fixed(IOGUARD_HOOK_MAP_DMA, IOGUARD_REASON_BAD_ARGUMENT, arg));
		req.hook = IOGUARD_HOOK_MAP_DMA;
		req.iova = a.vfio.iova;
		req.len = a.vfio.size;
		req.fixed = true;
		/*
		 * VFIO_DMA_MAP_FLAG_VADDR renews the vaddr of a type1 mapping that is counted
		 * already. iommufd's compatibility layer has no such map: a "renewal" there
		 * can only be an argument rewritten under the LSM, so it is refused.
		 */
		req.charge = !(a.vfio.flags & (1 << 2));
		if (iommufd && !req.charge)
			return verdict(decide_fixed(IOGUARD_HOOK_MAP_DMA, IOGUARD_REASON_BAD_ARGUMENT,
					    a.vfio.flags));
		return verdict(decide_map(&req));
	}
	if (!iommufd)
		goto other;
	switch (cmd) {
	case IOGUARD_IOMMU_IOAS_MAP:
		hook = IOGUARD_HOOK_IOAS_MAP;
		if (bpf_probe_read_user(&a.map, sizeof(a.map), (void *)arg))
			break;
		req.hook = hook;
		req.iova = a.map.iova;
		req.len = a.map.length;
		req.fixed = a.map.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		return verdict(decide_map(&req));
	case IOGUARD_IOMMU_IOAS_MAP_FILE:
		hook = IOGUARD_HOOK_IOAS_MAP;
		if (bpf_probe_read_user(&a.map_file, sizeof(a.map_file), (void *)arg))
			break;
		req.hook = hook;
		req.iova = a.map_file.iova;
		req.len = a.map_file.length;
		req.fixed = a.map_file.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		return verdict(decide_map(&req));
	case IOGUARD_IOMMU_IOAS_COPY:
		hook = IOGUARD_HOOK_IOAS_COPY;
		if (bpf_probe_read_user(&a.copy, sizeof(a.copy), (void *)arg))
			break;
		req.hook = hook;
		req.iova = a.copy.dst_iova;
		req.len = a.copy.length;
		req.fixed = a.copy.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		return verdict(decide_map(&req));
	case IOGUARD_IOMMU_HWPT_ALLOC:
		hook = IOGUARD_HOOK_HWPT_ALLOC;
		if (bpf_probe_read_user(&a.hwpt_alloc, sizeof(a.hwpt_alloc), (void *)arg))
			break;
		/* data_type (IOMMU_HWPT_DATA_NONE = 0): a kernel-owned paging domain of an IOAS. */
		if (!a.hwpt_alloc[6])
			return decide_paging_hwpt();
		return verdict(decide_user_page_table(cmd));
	case IOGUARD_IOMMU_VIOMMU_ALLOC:
	case IOGUARD_IOMMU_VDEVICE_ALLOC:
	case IOGUARD_IOMMU_HW_QUEUE_ALLOC:
		return verdict(decide_user_page_table(cmd));
	default:
		goto other;
	}
	/* The kernel can fault the argument in; ioguard cannot, and never judges a guess. */
	return verdict(decide_fixed(hook, IOGUARD_REASON_BAD_ARGUMENT, arg));
other:
	if (holder_ioctl_harmless(kind, cmd & 0xff))
		return decide_process_file(IOGUARD_HOOK_IOCTL);
	return verdict(decide_fixed(IOGUARD_HOOK_IOCTL, IOGUARD_REASON_UNKNOWN_IOCTL, cmd));
}

/* The native and the compat ioctl paths reach the same handlers, and are judged alike. */
static __always_inline int judge_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	const struct ioguard_kernel_info *k;
	void *priv;

	if (((cmd >> 8) & 0xff) != IOGUARD_IOCTL_TYPE)
		return 0;
	k = kinfo();
	if (!k)
		return 0;
	switch (hook_file_kind(k, file)) {
	case IOGUARD_FILE_GROUP:
		return judge_group_ioctl(k, file, cmd, arg);
	case IOGUARD_FILE_DEVICE:
		return judge_device_ioctl(file, cmd);
	case IOGUARD_FILE_CONTAINER:
		priv = file->private_data;
		return judge_holder_ioctl(IOGUARD_FILE_CONTAINER, cmd, arg,
					  (__u64)vfio_container_iommu(priv), (__u64)priv);
	case IOGUARD_FILE_IOMMUFD:
		priv = file->private_data;
		return judge_holder_ioctl(IOGUARD_FILE_IOMMUFD, cmd, arg, (__u64)priv, 0);
	}
	/* A ';' ioctl on an unidentified file: VFIO or iommufd ioguard cannot see into. */
	return verdict(decide_fixed(IOGUARD_HOOK_IOCTL, IOGUARD_REASON_UNIDENTIFIED, cmd));
}

SEC("lsm/file_ioctl")
int BPF_PROG(ioguard_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	if (ret)
		return ret;
	return judge_ioctl(file, cmd, arg);
}

/*
 * A 32-bit process, or a 64-bit one using int $0x80. The VFIO files' compat_ioctl
 * (compat_ptr_ioctl) calls the native handler with the same command; a file without
 * compat_ioctl (iommufd) answers ENOTTY before any handler runs.
 */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(ioguard_file_ioctl_compat, struct file *file, unsigned int cmd,
	     unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (!BPF_CORE_READ(file, f_op, compat_ioctl))
		return 0;
	return judge_ioctl(file, cmd, arg);
}

/* A mapped BAR is the device itself: judged for the process mapping it. */
SEC("lsm/mmap_file")
int BPF_PROG(ioguard_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	const struct ioguard_kernel_info *k;

	if (ret || !file)
		return ret;
	k = kinfo();
	if (!k || hook_file_kind(k, file) != IOGUARD_FILE_DEVICE)
		return 0;
	return decide_device_file(IOGUARD_HOOK_DEVICE_MMAP, device_file_dev(file), NULL);
}

/* read/write/pread/pwrite (and io_uring's, splice's) of config space and BARs. */
SEC("lsm/file_permission")
int BPF_PROG(ioguard_file_permission, struct file *file, int mask, int ret)
{
	const struct ioguard_kernel_info *k;

	if (ret)
		return ret;
	k = kinfo();
	if (!k || !k->ioctl_handler[IOGUARD_FILE_DEVICE] ||
	    hook_file_kind(k, file) != IOGUARD_FILE_DEVICE)
		return 0;
	return decide_device_file(IOGUARD_HOOK_DEVICE_RW, device_file_dev(file), NULL);
}

/* An fd arriving by SCM_RIGHTS or pidfd_getfd: refused where its use would be. */
SEC("lsm/file_receive")
int BPF_PROG(ioguard_file_receive, struct file *file, int ret)
{
	const struct ioguard_kernel_info *k;

	if (ret)
		return ret;
	k = kinfo();
	if (!k)
		return 0;
	switch (hook_file_kind(k, file)) {
	case IOGUARD_FILE_GROUP:
		return decide_group_file(IOGUARD_HOOK_RECEIVE, group_file_group(file), 0);
	case IOGUARD_FILE_DEVICE:
		return decide_device_file(IOGUARD_HOOK_RECEIVE, device_file_dev(file), NULL);
	case IOGUARD_FILE_CONTAINER:
	case IOGUARD_FILE_IOMMUFD:
		return decide_process_file(IOGUARD_HOOK_RECEIVE);
	}
	return 0;
}

/*
 * Records what the new image is, for exe_sha256. Runs after the exec's point of no
 * return, when mm->exe_file is the file hashed (for a script, its interpreter). The
 * previous image's record never survives an exec: it is replaced, or deleted when the
 * policy in force names no digest (hashing every exec costs a read of the file, so it is
 * only paid while a policy needs it). Sleepable: IMA reads the file.
 */
SEC("lsm.s/bprm_committed_creds")
int BPF_PROG(ioguard_bprm_committed_creds, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct executed *x;
	__u32 gen;

	if (!policy_names_digests(policy_get(&gen))) {
		bpf_task_storage_delete(&executed, task);
		return 0;
	}
	x = bpf_task_storage_get(&executed, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!x)
		return 0;	/* no record: matches no exe_sha256 */
	x->algo = -EPERM;
	x->inode = (__u64)bprm->file->f_inode;
	x->algo = bpf_ima_file_hash(bprm->file, x->digest, sizeof(x->digest));
	return 0;
}

/* A new task runs its creator's image until it executes another: it inherits the record. */
SEC("lsm/task_alloc")
int BPF_PROG(ioguard_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	struct executed *parent, *child;

	parent = bpf_task_storage_get(&executed, bpf_get_current_task_btf(), NULL, 0);
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&executed, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (child)
		*child = *parent;
	return 0;
}

/* Settles a judged map when its ioctl returns: a failed map gives its reservation back. */
static __always_inline int settle(unsigned int cmd, long ret)
{
	struct pending_dma *p = pending_get(0);

	if (!p || !p->cmd)
		return 0;
	/*
	 * A failed ioctl may still have mapped: iommufd maps, then copies the result out,
	 * and a read-only argument page fails only that copy. What iopt_map_pages()
	 * reported decides, where it ran; type1 writes nothing back after mapping.
	 */
	if (p->cmd == cmd && !p->unmap && ret && p->bytes && !p->mapped)
		holder_refund(p->holder, p->bytes);
	p->cmd = 0;
	return 0;
}

SEC("fexit/vfio_fops_unl_ioctl")
int BPF_PROG(container_ioctl_exit, struct file *file, unsigned int cmd, unsigned long arg,
	     long ret)
{
	return settle(cmd, ret);
}

SEC("fexit/iommufd_fops_ioctl")
int BPF_PROG(iommufd_ioctl_exit, struct file *file, unsigned int cmd, unsigned long arg,
	     long ret)
{
	return settle(cmd, ret);
}

/*
 * type1 removes a mapping: on unmap (not on VFIO_DMA_UNMAP_FLAG_VADDR, which keeps it),
 * when the container's last group leaves, and when a map fails part-way. The size is
 * the kernel's own; a map failing in this task is given back whole by settle() instead.
 */
SEC("fentry/vfio_remove_dma")
int BPF_PROG(type1_remove_dma, void *iommu, struct vfio_dma___ioguard *dma)
{
	struct pending_dma *p = pending_get(0);

	if (p && p->cmd && !p->unmap && p->holder == (__u64)iommu)
		return 0;
	holder_refund((__u64)iommu, dma->size);
	return 0;
}

SEC("fentry/vfio_iommu_type1_release")
int BPF_PROG(type1_release, void *iommu)
{
	holder_release((__u64)iommu);
	return 0;
}

/* iommufd's unmaps (IOAS_UNMAP and the VFIO compat one) report what they removed. */
static __always_inline int iommufd_unmapped(unsigned long *unmapped)
{
	struct pending_dma *p = pending_get(0);
	unsigned long bytes = 0;

	if (!p || !p->cmd || !p->unmap || !unmapped)
		return 0;
	if (!bpf_probe_read_kernel(&bytes, sizeof(bytes), unmapped))
		holder_refund(p->holder, bytes);
	return 0;
}

SEC("fexit/iopt_unmap_iova")
int BPF_PROG(iommufd_unmap_iova, void *iopt, unsigned long iova, unsigned long length,
	     unsigned long *unmapped, int ret)
{
	return iommufd_unmapped(unmapped);
}

SEC("fexit/iopt_unmap_all")
int BPF_PROG(iommufd_unmap_all, void *iopt, unsigned long *unmapped, int ret)
{
	return iommufd_unmapped(unmapped);
}

/* The last reference to an iommufd context: every object, so every mapping, goes. */
SEC("fentry/iommufd_fops_release")
int BPF_PROG(iommufd_release, struct inode *inode, struct file *file)
{
	holder_release((__u64)BPF_CORE_READ(file, private_data));
	return 0;
}

/*
 * The kernel's own copy of a judged map, compared with what was judged from user memory.
 * A difference means another thread rewrote the argument in between: the map cannot be
 * stopped any more, so it is recorded, charged at the kernel's size, and in enforce mode
 * the process is killed, which takes the mapping with it unless the fd lives elsewhere.
 */
static __always_inline void kernel_copy(__u64 iova, __u64 len, bool fixed)
{
	struct pending_dma *p = pending_get(0);
	struct decision d;

	if (!p || !p->cmd || p->unmap || p->checked)
		return;
	p->checked = 1;
	if (!p->renew && len == p->len && fixed == p->fixed && (!fixed || iova == p->iova))
		return;
	if (p->account_id && (p->renew || len > p->len)) {
		__u64 more = p->renew ? len : len - p->len;

		account_reserve(p->account_id, more, 0, true);
		holder_charge(p->holder, p->account_id, more);
		p->bytes += more;
	}
	if (!decision_begin(&d, p->hook))
		return;
	d.tenant = process_tenant(&d);
	d.reason = IOGUARD_REASON_ARGUMENT_CHANGED;
	d.value = len;
	if (finish(&d))
		bpf_send_signal(9 /* SIGKILL */);
}

/*
 * The kernel attaches a group to the iommufd it found by the fd: the one judged, or the
 * fd was swapped in between by another thread (argument_changed, as for a map). The
 * context found instead is poisoned: the kill ends only this process, and another that
 * shares the fds keeps the group attached, so no map into that context is ever allowed,
 * for a tenant or, under default allow, a process of none.
 */
SEC("fentry/iommufd_vfio_compat_ioas_create")
int BPF_PROG(iommufd_compat_set_container, struct iommufd_ctx *ictx)
{
	struct pending_dma *p = pending_get(0);
	struct decision d;
	__u64 judged;

	if (!p || p->cmd != IOGUARD_VFIO_GROUP_SET_CONTAINER)
		return 0;
	judged = p->holder;
	p->cmd = 0;
	if (judged == (__u64)ictx || !decision_begin(&d, IOGUARD_HOOK_SET_CONTAINER))
		return 0;
	d.tenant = process_tenant(&d);
	d.reason = IOGUARD_REASON_ARGUMENT_CHANGED;
	holder_poison((__u64)ictx);
	if (finish(&d))
		bpf_send_signal(9 /* SIGKILL */);
	return 0;
}

/* type1 pins a new mapping from its start: the first call sees the kernel's iova and size. */
SEC("fentry/vfio_pin_pages_remote")
int BPF_PROG(type1_pin_pages, struct vfio_dma___ioguard *dma, unsigned long vaddr, long npage)
{
	/* @dma is the function's argument, known to the verifier: plain loads. */
	if (dma->size)
		return 0;
	kernel_copy(dma->iova, (__u64)npage << page_shift, true);
	return 0;
}

/* IOPT_ALLOC_IOVA in iopt_map_pages()'s flags: the kernel picks the IOVA. */
#define IOPT_ALLOC_IOVA 1

/*
 * Every iommufd map lands here with the kernel's copy: IOAS_MAP, the VFIO compatibility
 * map and (6.13+) MAP_FILE through iopt_map_user_pages()/iopt_map_file_pages(), and
 * IOAS_COPY directly. *dst_iova is the caller's IOVA when fixed, an output otherwise.
 */
SEC("fentry/iopt_map_pages")
int BPF_PROG(iommufd_map_pages, void *iopt, void *pages_list, unsigned long length,
	     unsigned long *dst_iova, int iommu_prot, unsigned int flags)
{
	unsigned long at = 0;

	bpf_probe_read_kernel(&at, sizeof(at), dst_iova);
	kernel_copy(at, length, !(flags & IOPT_ALLOC_IOVA));
	return 0;
}

SEC("fexit/iopt_map_pages")
int BPF_PROG(iommufd_map_pages_exit, void *iopt, void *pages_list, unsigned long length,
	     unsigned long *dst_iova, int iommu_prot, unsigned int flags, int ret)
{
	struct pending_dma *p = pending_get(0);

	if (p && p->cmd && !p->unmap)
		p->mapped = !ret;
	return 0;
}

/*
 * The kernel's copy of IOMMU_HWPT_ALLOC: a data type rewritten after the LSM read it as
 * a plain paging domain would give a restricted tenant a user page table.
 */
SEC("fentry/iommufd_hwpt_alloc")
int BPF_PROG(iommufd_hwpt_alloc_entry, struct iommufd_ucmd___ioguard *ucmd)
{
	struct pending_dma *p = pending_get(0);
	__u32 words[8] = {};
	struct decision d;

	if (!p || p->cmd != IOGUARD_IOMMU_HWPT_ALLOC || !p->restricted || p->checked)
		return 0;
	p->checked = 1;
	if (bpf_probe_read_kernel(words, sizeof(words), BPF_CORE_READ(ucmd, cmd)) || !words[6])
		return 0;
	if (!decision_begin(&d, IOGUARD_HOOK_HWPT_ALLOC))
		return 0;
	d.tenant = process_tenant(&d);
	d.reason = IOGUARD_REASON_ARGUMENT_CHANGED;
	d.value = words[6];
	if (finish(&d))
		bpf_send_signal(9 /* SIGKILL */);
	return 0;
}
