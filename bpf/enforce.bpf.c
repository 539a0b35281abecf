// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Enforcement of a group-viable device policy on VFIO and iommufd, as BPF LSM programs.
 *
 * Files are identified by their f_op->unlocked_ioctl handler (or, at open, by the cdev's
 * ops or the misc device number), never by path, so a renamed or re-created device node
 * is still recognised. Decisions:
 *  - open of a group, device cdev, /dev/iommu or /dev/vfio/vfio: tenant and default;
 *  - VFIO_GROUP_SET_CONTAINER: tenant of every endpoint of the group; strict: every
 *    endpoint bound to a VFIO driver;
 *  - VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_BIND_IOMMUFD: tenant of the device;
 *  - VFIO_DEVICE_ATTACH_IOMMUFD_PT: tenant; strict: the group's DMA owner is this
 *    device's iommufd and it has claimed every endpoint (live kernel state, not a copy);
 *  - VFIO_IOMMU_MAP_DMA, IOMMU_IOAS_MAP(_FILE), IOMMU_IOAS_COPY: the process's tenant,
 *    its IOVA windows and its per-process byte limit;
 *  - any other ';' ioctl on a file that cannot be identified: denied (fail closed).
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
#define IOMMU_IOAS_MAP_FIXED_IOVA 1

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

/* Bytes each process has mapped through VFIO or iommufd since the policy was loaded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} mapped_bytes SEC(".maps");

/*
 * A map or unmap allowed by the LSM, settled when its ioctl returns. Task-local: the
 * ioctl's LSM hook and its fexit run in the same task, and the storage needs no lock
 * and no hash on every map. @cmd ties the two: a record whose ioctl never reached its
 * handler (another LSM refused it) is never settled by a later, different ioctl.
 */
struct pending_dma {
	__u64 bytes;		/* map: bytes to add on success */
	__u64 unmap_arg;	/* unmap: user address of the argument, read back on return */
	__u32 tgid;
	__u32 cmd;		/* the ioctl judged; 0 when nothing is pending */
	__u32 is_unmap_iommufd;
	__u32 is_unmap_vfio;
};

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

static __always_inline bool match_has(__u32 gen, __u32 tenant, __u32 kind, __u32 aux,
				      __u64 value)
{
	struct ioguard_match_key key = {
		.gen = gen, .tenant = tenant, .kind = kind, .aux = aux, .value = value,
	};

	return bpf_map_lookup_elem(&matches, &key) != NULL;
}

/* Every criterion the tenant has matches the current process. */
static __always_inline bool process_matches(const struct decision *d, __u32 tenant)
{
	const struct ioguard_tenant *t;
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 kinds;

	if (tenant >= IOGUARD_MAX_TENANTS)
		return false;
	barrier_var(tenant);
	t = &d->policy->tenants[tenant & (IOGUARD_MAX_TENANTS - 1)];
	kinds = t->match_kinds;
	if ((kinds & (1U << IOGUARD_MATCH_UID)) &&
	    !match_has(d->gen, tenant, IOGUARD_MATCH_UID, 0, (__u32)uid_gid))
		return false;
	if ((kinds & (1U << IOGUARD_MATCH_GID)) &&
	    !match_has(d->gen, tenant, IOGUARD_MATCH_GID, 0, uid_gid >> 32))
		return false;
	if (kinds & (1U << IOGUARD_MATCH_CGROUP)) {
		bool found = false;
		int level;

		for (level = 0; level < 16; level++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(level);

			if (!id)
				break;
			if (match_has(d->gen, tenant, IOGUARD_MATCH_CGROUP, 0, id)) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	if (kinds & (1U << IOGUARD_MATCH_EXE)) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct inode *exe = BPF_CORE_READ(task, mm, exe_file, f_inode);
		__u32 dev = BPF_CORE_READ(exe, i_sb, s_dev);

		if (!exe || !match_has(d->gen, tenant, IOGUARD_MATCH_EXE, dev,
				       BPF_CORE_READ(exe, i_ino)))
			return false;
	}
	return true;
}

/* First tenant the current process matches, or IOGUARD_NO_TENANT. */
static __always_inline __s32 process_tenant(const struct decision *d)
{
	__u32 i;

	for (i = 0; i < IOGUARD_MAX_TENANTS; i++) {
		if (i >= d->policy->n_tenants)
			break;
		if (process_matches(d, i))
			return i;
	}
	return IOGUARD_NO_TENANT;
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
		p->bridge = (p->class >> 8) == PCI_CLASS_BRIDGE_PCI;
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
	d->hook = hook;
	d->group = -1;
	d->tenant = IOGUARD_NO_TENANT;
	return d->policy != NULL;
}

static __noinline int decide_group_file(__u32 hook, struct iommu_group *group)
{
	struct decision d;
	struct group_walk w = {};

	if (!decision_begin(&d, hook))
		return 0;
	w.d = &d;
	group_walk(&w, group);
	d.reason = w.reason;
	if (!d.reason && hook == IOGUARD_HOOK_SET_CONTAINER && d.policy->strict &&
	    w.not_vfio)
		d.reason = IOGUARD_REASON_GROUP_NOT_VIABLE;
	d.group = BPF_CORE_READ(group, id);
	return finish(&d);
}

static __noinline int decide_device_file(__u32 hook, struct device *dev, void *iommufd)
{
	struct decision d;
	struct iommu_group *group;

	if (!decision_begin(&d, hook))
		return 0;
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

/*
 * A map of @len bytes at @iova (@fixed: the caller chose the IOVA). The argument is
 * read before the kernel copies it, so a racing thread could change it in between: the
 * byte account is therefore settled from the kernel's own result in the ioctl's fexit,
 * and the check here is the gate for callers that do not race.
 */
static __noinline int decide_map(__u32 hook, __u32 cmd, __u64 iova, __u64 len, bool fixed)
{
	struct decision d;
	const struct ioguard_tenant *t;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *mapped, already;
	struct pending_dma *pend;

	if (!decision_begin(&d, hook))
		return 0;
	d.value = iova;
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
	if (t->n_windows && (!fixed || !in_windows(t, iova, len))) {
		d.reason = IOGUARD_REASON_IOVA_WINDOW;
		return finish(&d);
	}
	mapped = bpf_map_lookup_elem(&mapped_bytes, &tgid);
	already = mapped ? *mapped : 0;
	if (already + len < already || already + len > t->max_dma_bytes) {
		d.reason = IOGUARD_REASON_DMA_LIMIT;
		d.value = len;
		return finish(&d);
	}
	pend = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (pend) {
		pend->bytes = len;
		pend->unmap_arg = 0;
		pend->tgid = tgid;
		pend->cmd = cmd;
		pend->is_unmap_iommufd = pend->is_unmap_vfio = 0;
	}
	return finish(&d);
}

static __always_inline void note_unmap(__u32 cmd, __u64 arg, bool iommufd)
{
	struct pending_dma *pend = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!pend)
		return;
	pend->bytes = 0;
	pend->unmap_arg = arg;
	pend->tgid = bpf_get_current_pid_tgid() >> 32;
	pend->cmd = cmd;
	pend->is_unmap_iommufd = iommufd;
	pend->is_unmap_vfio = !iommufd;
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
	 * so a node's very first open is not judged here; its first ioctl is, and no ioctl
	 * of a group or device file can reach DMA without passing one.
	 */
	cdev = BPF_CORE_READ(inode, i_cdev);
	if (!cdev)
		return 0;
	kind = file_kind(k, (__u64)BPF_CORE_READ(cdev, ops, unlocked_ioctl));
	if (kind == IOGUARD_FILE_GROUP) {
		struct vfio_group___ioguard *g =
			(void *)cdev - bpf_core_field_offset(struct vfio_group___ioguard, cdev);

		return decide_group_file(IOGUARD_HOOK_OPEN, BPF_CORE_READ(g, iommu_group));
	}
	if (kind == IOGUARD_FILE_DEVICE) {
		struct device *dev = vfio_cdev_device(cdev);

		return dev ? decide_device_file(IOGUARD_HOOK_OPEN, dev, NULL) : 0;
	}
	return 0;
}

SEC("lsm/file_ioctl")
int BPF_PROG(ioguard_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	const struct ioguard_kernel_info *k;
	__u32 hook;
	void *priv;
	int kind;

	if (ret)
		return ret;
	if (((cmd >> 8) & 0xff) != IOGUARD_IOCTL_TYPE)
		return 0;
	k = kinfo();
	if (!k)
		return 0;
	kind = file_kind(k, (__u64)BPF_CORE_READ(file, f_op, unlocked_ioctl));
	priv = BPF_CORE_READ(file, private_data);

	if (kind == IOGUARD_FILE_GROUP) {
		struct iommu_group *group =
			BPF_CORE_READ((struct vfio_group___ioguard *)priv, iommu_group);

		if (cmd == IOGUARD_VFIO_GROUP_SET_CONTAINER)
			hook = IOGUARD_HOOK_SET_CONTAINER;
		else if (cmd == IOGUARD_VFIO_GROUP_GET_DEVICE_FD)
			hook = IOGUARD_HOOK_GET_DEVICE_FD;
		else
			return 0;
		return decide_group_file(hook, group);
	}
	if (kind == IOGUARD_FILE_DEVICE) {
		struct vfio_device_file___ioguard *df = priv;
		void *iommufd = NULL;

		if (cmd == IOGUARD_VFIO_DEVICE_BIND_IOMMUFD) {
			hook = IOGUARD_HOOK_BIND_IOMMUFD;
		} else if (cmd == IOGUARD_VFIO_DEVICE_ATTACH_IOMMUFD_PT) {
			hook = IOGUARD_HOOK_ATTACH_PT;
			iommufd = vfio_file_iommufd(df);
		} else {
			return 0;
		}
		return decide_device_file(hook, BPF_CORE_READ(df, device, dev), iommufd);
	}
	if (kind == IOGUARD_FILE_CONTAINER || kind == IOGUARD_FILE_IOMMUFD) {
		union {
			struct vfio_dma_map_arg vfio;
			struct ioas_map_arg map;
			struct ioas_map_file_arg map_file;
			struct ioas_copy_arg copy;
		} a;
		__u64 iova = 0, len = 0;
		bool fixed = false;
		long rd;

		if (cmd == IOGUARD_VFIO_IOMMU_UNMAP_DMA && kind == IOGUARD_FILE_CONTAINER) {
			note_unmap(cmd, arg, false);
			return 0;
		}
		if (cmd == IOGUARD_IOMMU_IOAS_UNMAP && kind == IOGUARD_FILE_IOMMUFD) {
			note_unmap(cmd, arg, true);
			return 0;
		}
		if (cmd == IOGUARD_VFIO_IOMMU_MAP_DMA && kind == IOGUARD_FILE_CONTAINER) {
			hook = IOGUARD_HOOK_MAP_DMA;
			rd = bpf_probe_read_user(&a.vfio, sizeof(a.vfio), (void *)arg);
			iova = a.vfio.iova;
			len = a.vfio.size;
			fixed = true;
		} else if (cmd == IOGUARD_IOMMU_IOAS_MAP && kind == IOGUARD_FILE_IOMMUFD) {
			hook = IOGUARD_HOOK_IOAS_MAP;
			rd = bpf_probe_read_user(&a.map, sizeof(a.map), (void *)arg);
			iova = a.map.iova;
			len = a.map.length;
			fixed = a.map.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		} else if (cmd == IOGUARD_IOMMU_IOAS_MAP_FILE && kind == IOGUARD_FILE_IOMMUFD) {
			hook = IOGUARD_HOOK_IOAS_MAP;
			rd = bpf_probe_read_user(&a.map_file, sizeof(a.map_file), (void *)arg);
			iova = a.map_file.iova;
			len = a.map_file.length;
			fixed = a.map_file.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		} else if (cmd == IOGUARD_IOMMU_IOAS_COPY && kind == IOGUARD_FILE_IOMMUFD) {
			hook = IOGUARD_HOOK_IOAS_COPY;
			rd = bpf_probe_read_user(&a.copy, sizeof(a.copy), (void *)arg);
			iova = a.copy.dst_iova;
			len = a.copy.length;
			fixed = a.copy.flags & IOMMU_IOAS_MAP_FIXED_IOVA;
		} else {
			return 0;
		}
		/* An unreadable argument fails in the kernel too; judge it as a zero map. */
		if (rd)
			iova = len = 0;
		return decide_map(hook, cmd, iova, len, fixed);
	}
	/* A ';' ioctl on an unidentified file: VFIO or iommufd ioguard cannot see into. */
	{
		struct decision d;

		if (!decision_begin(&d, IOGUARD_HOOK_IOCTL))
			return 0;
		d.reason = IOGUARD_REASON_UNIDENTIFIED;
		d.value = cmd;
		return finish(&d);
	}
}

/* Settles the byte account of an allowed map or unmap from the ioctl's result. */
static __always_inline int settle(unsigned int cmd, long ret)
{
	struct pending_dma *p = pending_get(0);
	__u64 *mapped, unmapped = 0;

	if (!p || !p->cmd)
		return 0;
	if (p->cmd != cmd) {
		p->cmd = 0;
		return 0;
	}
	p->cmd = 0;
	mapped = bpf_map_lookup_elem(&mapped_bytes, &p->tgid);
	if (!ret && p->bytes) {
		if (mapped)
			__sync_fetch_and_add(mapped, p->bytes);
		else
			bpf_map_update_elem(&mapped_bytes, &p->tgid, &p->bytes, BPF_NOEXIST);
	} else if (!ret && mapped && (p->is_unmap_vfio || p->is_unmap_iommufd)) {
		/* Both unmap ioctls write the bytes unmapped back into the argument. */
		if (p->is_unmap_vfio) {
			struct vfio_dma_unmap_arg u;

			if (!bpf_probe_read_user(&u, sizeof(u), (void *)p->unmap_arg))
				unmapped = u.size;
		} else {
			struct ioas_unmap_arg u;

			if (!bpf_probe_read_user(&u, sizeof(u), (void *)p->unmap_arg))
				unmapped = u.length;
		}
		*mapped = unmapped > *mapped ? 0 : *mapped - unmapped;
	}
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

/* A process's mappings end with it (its fds close); so does its account. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (BPF_CORE_READ(task, pid) == tgid)
		bpf_map_delete_elem(&mapped_bytes, &tgid);
	return 0;
}
