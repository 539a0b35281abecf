// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lower bounds for the icount benchmark (tests/vm/bench/overhead-icount.sh): on the same
 * points as tests/vm/bench/empty.bpf.c, the least work that the two jobs measured there
 * need per call, written without ioguard's generality. They answer how far ioguard's
 * programs are from what the job itself costs, as opposed to how they are written.
 *
 * lower-metrics: a latency histogram of every map and unmap, with the fentry's start
 * kept in task storage (iommu_map() may sleep, so a per-CPU start would lose the slow
 * calls), and calls, bytes and a size histogram, in a per-CPU hash keyed by the domain (the
 * cheapest attribution: no domain-to-group step); VT-d submissions timed from a per-CPU
 * start, and descriptors counted by kind. The driver's flushes get empty programs: no
 * attribution of invalidations to a group.
 *
 * lower-enforce: a byte limit and an IOVA window on maps for processes of one uid, with
 * what any enforcer of that rule needs on these points: the map ioctl's argument read
 * from user memory, a task-storage record of the map in flight (for the kernel's copy
 * and for the ioctl's return), one account per mappings' holder in a hash, charged at
 * the decision and given back by the kernel's own unmap count. No tenants, no decision
 * counters, no per-tenant account, no reports. Not correct as an enforcer: only a cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ioguard/enforce.h"
#include "ioguard/hist.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1

/* --- lower-metrics ----------------------------------------------------------------- */

enum lower_op { LOWER_MAP, LOWER_MAP_NOSYNC, LOWER_UNMAP, LOWER_UNMAP_FAST, LOWER_OPS };

struct lower_starts {
	__u64 ns[LOWER_OPS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lower_starts);
} starts SEC(".maps");

struct lower_key {
	__u64 domain;
	__u32 op;
	__u32 pad;
};

struct lower_agg {
	__u64 latency[IOGUARD_HIST_SLOTS];
	__u64 size[IOGUARD_HIST_SLOTS];
	__u64 calls;
	__u64 bytes;
	__u64 latency_sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct lower_key);
	__type(value, struct lower_agg);
} aggs SEC(".maps");

static const struct lower_agg zero_agg;

static __always_inline int call_enter(__u32 op)
{
	struct lower_starts *s;

	s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (s)
		s->ns[op & (LOWER_OPS - 1)] = bpf_ktime_get_ns();
	return 0;
}

/* Per-CPU values, and the trampoline never re-enters a program on a CPU: plain adds. */
static __always_inline int call_exit(__u32 op, void *domain, __u64 size)
{
	struct lower_key key = { .domain = (__u64)domain, .op = op };
	struct lower_starts *s;
	struct lower_agg *a;
	__u64 now = bpf_ktime_get_ns(), *start;

	a = bpf_map_lookup_elem(&aggs, &key);
	if (!a) {
		bpf_map_update_elem(&aggs, &key, &zero_agg, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&aggs, &key);
		if (!a)
			return 0;
	}
	s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL, 0);
	if (s) {
		start = &s->ns[op & (LOWER_OPS - 1)];
		if (*start) {
			a->latency[ioguard_hist_slot(now - *start)]++;
			a->latency_sum += now - *start;
			*start = 0;
		}
	}
	a->calls++;
	a->bytes += size;
	a->size[ioguard_hist_slot(size)]++;
	return 0;
}

SEC("fentry/iommu_map")
int BPF_PROG(lower_fentry_iommu_map) { return call_enter(LOWER_MAP); }
SEC("fexit/iommu_map")
int BPF_PROG(lower_fexit_iommu_map, void *domain, unsigned long iova, phys_addr_t paddr,
	     size_t size)
{
	return call_exit(LOWER_MAP, domain, size);
}
SEC("fentry/iommu_map_nosync")
int BPF_PROG(lower_fentry_iommu_map_nosync) { return call_enter(LOWER_MAP_NOSYNC); }
SEC("fexit/iommu_map_nosync")
int BPF_PROG(lower_fexit_iommu_map_nosync, void *domain, unsigned long iova,
	     phys_addr_t paddr, size_t size)
{
	return call_exit(LOWER_MAP_NOSYNC, domain, size);
}
SEC("fentry/iommu_unmap")
int BPF_PROG(lower_fentry_iommu_unmap) { return call_enter(LOWER_UNMAP); }
SEC("fexit/iommu_unmap")
int BPF_PROG(lower_fexit_iommu_unmap, void *domain, unsigned long iova, size_t size)
{
	return call_exit(LOWER_UNMAP, domain, size);
}
SEC("fentry/iommu_unmap_fast")
int BPF_PROG(lower_fentry_iommu_unmap_fast) { return call_enter(LOWER_UNMAP_FAST); }
SEC("fexit/iommu_unmap_fast")
int BPF_PROG(lower_fexit_iommu_unmap_fast, void *domain, unsigned long iova, size_t size)
{
	return call_exit(LOWER_UNMAP_FAST, domain, size);
}

SEC("fentry/intel_iommu_tlb_sync")
int BPF_PROG(lower_fentry_intel_iommu_tlb_sync) { return 0; }
SEC("fexit/intel_iommu_tlb_sync")
int BPF_PROG(lower_fexit_intel_iommu_tlb_sync) { return 0; }
SEC("fentry/intel_iommu_iotlb_sync_map")
int BPF_PROG(lower_fentry_intel_iommu_iotlb_sync_map) { return 0; }
SEC("fexit/intel_iommu_iotlb_sync_map")
int BPF_PROG(lower_fexit_intel_iommu_iotlb_sync_map) { return 0; }
SEC("fentry/intel_flush_iotlb_all")
int BPF_PROG(lower_fentry_intel_flush_iotlb_all) { return 0; }
SEC("fexit/intel_flush_iotlb_all")
int BPF_PROG(lower_fexit_intel_flush_iotlb_all) { return 0; }

/* Submissions do not nest here (no interrupt-time flush in the workload): one start. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} submit_start SEC(".maps");

struct lower_inval {
	__u64 latency[IOGUARD_HIST_SLOTS];
	__u64 latency_sum;
	__u64 descriptors;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct lower_inval);
} invals SEC(".maps");

static const struct lower_inval zero_inval;

static __always_inline struct lower_inval *inval_of(__u32 kind)
{
	struct lower_inval *v = bpf_map_lookup_elem(&invals, &kind);

	if (v)
		return v;
	bpf_map_update_elem(&invals, &kind, &zero_inval, BPF_NOEXIST);
	return bpf_map_lookup_elem(&invals, &kind);
}

SEC("fentry/qi_submit_sync")
int BPF_PROG(lower_fentry_qi_submit_sync)
{
	__u32 zero = 0;
	__u64 *start = bpf_map_lookup_elem(&submit_start, &zero);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

SEC("fexit/qi_submit_sync")
int BPF_PROG(lower_fexit_qi_submit_sync)
{
	__u32 zero = 0;
	__u64 *start = bpf_map_lookup_elem(&submit_start, &zero), latency;
	struct lower_inval *v;

	if (!start || !*start)
		return 0;
	latency = bpf_ktime_get_ns() - *start;
	*start = 0;
	v = inval_of(0);
	if (!v)
		return 0;
	v->latency[ioguard_hist_slot(latency)]++;
	v->latency_sum += latency;
	return 0;
}

SEC("tp_btf/qi_submit")
int BPF_PROG(lower_tp_btf_qi_submit, void *iommu, __u64 qw0)
{
	struct lower_inval *v = inval_of(qw0 & 0xf);

	if (v)
		__sync_fetch_and_add(&v->descriptors, 1);
	return 0;
}

/* --- lower-enforce ----------------------------------------------------------------- */

const volatile __u32 tenant_uid = 0;
const volatile __u64 max_bytes = 1ULL << 30;
const volatile __u64 window_start = 0x100000;
const volatile __u64 window_last = 0xfffffff;

struct vfio_dma___lower {
	dma_addr_t iova;
	size_t size;
} __attribute__((preserve_access_index));

struct vfio_container___lower {
	void *iommu_data;
} __attribute__((preserve_access_index));

struct in_flight {
	__u64 holder;
	__u64 len;
	__u32 cmd;
	__u32 mapped;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct in_flight);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} accounts SEC(".maps");

static __always_inline struct in_flight *pending_get(__u64 flags)
{
	return bpf_task_storage_get(&pending, bpf_get_current_task_btf(), NULL, flags);
}

static __always_inline __u64 *account_of(__u64 holder)
{
	__u64 zero = 0, *a = bpf_map_lookup_elem(&accounts, &holder);

	if (a)
		return a;
	bpf_map_update_elem(&accounts, &holder, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&accounts, &holder);
}

static __always_inline void refund(__u64 holder, __u64 bytes)
{
	__u64 *a = bpf_map_lookup_elem(&accounts, &holder);

	if (a)
		__sync_fetch_and_sub(a, bytes);
}

SEC("lsm/file_ioctl")
int BPF_PROG(lower_lsm_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	union {
		struct { __u32 argsz, flags; __u64 vaddr, iova, size; } vfio;
		struct { __u32 size, flags, ioas_id, reserved; __u64 user_va, length, iova; } ioas;
	} a;
	struct in_flight *p;
	__u64 holder, iova, len, *acct;

	if (ret)
		return ret;
	if (cmd != IOGUARD_VFIO_IOMMU_MAP_DMA && cmd != IOGUARD_VFIO_IOMMU_UNMAP_DMA &&
	    cmd != IOGUARD_IOMMU_IOAS_MAP && cmd != IOGUARD_IOMMU_IOAS_UNMAP)
		return 0;
	if ((__u32)bpf_get_current_uid_gid() != tenant_uid)
		return -EPERM;
	/*
	 * The mappings' holder: a legacy container's type1 IOMMU, or the iommufd context
	 * (which also serves /dev/vfio/vfio where the kernel has no legacy container).
	 */
	holder = (__u64)file->private_data;
	if ((cmd == IOGUARD_VFIO_IOMMU_MAP_DMA || cmd == IOGUARD_VFIO_IOMMU_UNMAP_DMA) &&
	    bpf_core_field_exists(struct vfio_container___lower, iommu_data))
		holder = (__u64)BPF_CORE_READ((struct vfio_container___lower *)holder, iommu_data);
	p = pending_get(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return -EPERM;
	p->holder = holder;
	p->cmd = cmd;
	p->len = 0;
	p->mapped = 0;
	if (cmd == IOGUARD_VFIO_IOMMU_UNMAP_DMA || cmd == IOGUARD_IOMMU_IOAS_UNMAP)
		return 0;
	if (bpf_probe_read_user(&a, sizeof(a), (void *)arg))
		return -EPERM;
	iova = cmd == IOGUARD_VFIO_IOMMU_MAP_DMA ? a.vfio.iova : a.ioas.iova;
	len = cmd == IOGUARD_VFIO_IOMMU_MAP_DMA ? a.vfio.size : a.ioas.length;
	if (!len || iova < window_start || iova + len - 1 > window_last)
		return -EPERM;
	acct = account_of(holder);
	if (!acct)
		return -EPERM;
	if (__sync_fetch_and_add(acct, len) + len > max_bytes) {
		__sync_fetch_and_sub(acct, len);
		return -EPERM;
	}
	p->len = len;
	return 0;
}

static __always_inline int settle(unsigned int cmd, long ret)
{
	struct in_flight *p = pending_get(0);

	if (!p || p->cmd != cmd)
		return 0;
	if (ret && p->len && !p->mapped)
		refund(p->holder, p->len);
	p->cmd = 0;
	return 0;
}

SEC("fexit/vfio_fops_unl_ioctl")
int BPF_PROG(lower_fexit_vfio_fops_unl_ioctl, struct file *file, unsigned int cmd,
	     unsigned long arg, long ret)
{
	return settle(cmd, ret);
}

SEC("fexit/iommufd_fops_ioctl")
int BPF_PROG(lower_fexit_iommufd_fops_ioctl, struct file *file, unsigned int cmd,
	     unsigned long arg, long ret)
{
	return settle(cmd, ret);
}

/* The kernel's copy of the map: compared with what was judged. */
static __always_inline void kernel_copy(__u64 len)
{
	struct in_flight *p = pending_get(0);

	if (p && p->cmd && p->len && len != p->len)
		p->len = len;
}

SEC("fentry/vfio_pin_pages_remote")
int BPF_PROG(lower_fentry_vfio_pin_pages_remote, struct vfio_dma___lower *dma,
	     unsigned long vaddr, long npage)
{
	if (!dma->size)
		kernel_copy((__u64)npage << 12);
	return 0;
}

/* A map failing part-way in this task is given back whole by settle() instead. */
SEC("fentry/vfio_remove_dma")
int BPF_PROG(lower_fentry_vfio_remove_dma, void *iommu, struct vfio_dma___lower *dma)
{
	struct in_flight *p = pending_get(0);

	if (p && p->cmd && p->len && p->holder == (__u64)iommu)
		return 0;
	refund((__u64)iommu, dma->size);
	return 0;
}

SEC("fentry/iopt_map_pages")
int BPF_PROG(lower_fentry_iopt_map_pages, void *iopt, void *pages_list, unsigned long length)
{
	kernel_copy(length);
	return 0;
}

SEC("fexit/iopt_map_pages")
int BPF_PROG(lower_fexit_iopt_map_pages, void *iopt, void *pages_list, unsigned long length,
	     unsigned long *dst_iova, int iommu_prot, unsigned int flags, int ret)
{
	struct in_flight *p = pending_get(0);

	if (p && p->cmd)
		p->mapped = !ret;
	return 0;
}

SEC("fexit/iopt_unmap_iova")
int BPF_PROG(lower_fexit_iopt_unmap_iova, void *iopt, unsigned long iova,
	     unsigned long length, unsigned long *unmapped)
{
	struct in_flight *p = pending_get(0);
	unsigned long bytes = 0;

	if (p && p->cmd && unmapped && !bpf_probe_read_kernel(&bytes, sizeof(bytes), unmapped))
		refund(p->holder, bytes);
	return 0;
}
