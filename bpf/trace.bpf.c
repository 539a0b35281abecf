// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Trace of the kernel's IOMMU attach, ownership-claim and map paths.
 *
 * Two sets of programs, chosen by the loader before load:
 *  - fentry/fexit on the exported iommu_* functions: every field, with latency and
 *    return value;
 *  - tp_btf on the iommu:* tracepoints, for kernels that refuse fentry: attach, map and
 *    unmap without latency, return value or domain, and no ownership claims (they have
 *    no tracepoint).
 * Every record goes through one ring buffer; a record that finds it full is counted in
 * events_lost, never dropped silently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ioguard/trace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 0 traces every process; otherwise only this tgid. */
const volatile __u32 target_tgid = 0;

__u64 events_lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct call_key {
	__u32 tid;
	__u32 op;
};

/* fentry timestamp of a call in flight, until its fexit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct call_key);
	__type(value, __u64);
} call_start SEC(".maps");

/*
 * The group a domain was last attached to, so that maps on that domain name their group.
 * A domain shared by several groups (iommufd) names the most recent one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __s32);
} domain_group SEC(".maps");

static __always_inline bool traced(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline int call_enter(__u32 op)
{
	struct call_key key = { .tid = (__u32)bpf_get_current_pid_tgid(), .op = op };
	__u64 now = bpf_ktime_get_ns();

	if (!traced())
		return 0;
	bpf_map_update_elem(&call_start, &key, &now, BPF_ANY);
	return 0;
}

/* Reserves and fills the common part of a record; NULL when not traced or full. */
static __always_inline struct ioguard_event *event_begin(__u32 op)
{
	struct ioguard_event *e;
	__u64 pid_tgid;

	if (!traced())
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_lost, 1);
		return NULL;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cpu = bpf_get_smp_processor_id();
	e->op = op;
	e->group = -1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* Latency from the matching fentry, if it was seen. */
static __always_inline void event_latency(struct ioguard_event *e)
{
	struct call_key key = { .tid = e->tid, .op = e->op };
	__u64 *start = bpf_map_lookup_elem(&call_start, &key);

	if (!start)
		return;
	e->latency_ns = e->ts_ns - *start;
	e->flags |= IOGUARD_EV_HAS_LATENCY;
	bpf_map_delete_elem(&call_start, &key);
}

static __always_inline void event_domain(struct ioguard_event *e, struct iommu_domain *domain)
{
	__s32 *group;

	e->domain = (__u64)domain;
	e->flags |= IOGUARD_EV_HAS_DOMAIN;
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		return;
	group = bpf_map_lookup_elem(&domain_group, &e->domain);
	if (group) {
		e->group = *group;
		e->flags |= IOGUARD_EV_HAS_GROUP;
	}
}

static __always_inline void event_group(struct ioguard_event *e, struct iommu_group *group)
{
	if (!group)
		return;
	e->group = BPF_CORE_READ(group, id);
	e->flags |= IOGUARD_EV_HAS_GROUP;
}

static __always_inline void event_device(struct ioguard_event *e, struct device *dev)
{
	const char *name;

	if (!dev)
		return;
	name = BPF_CORE_READ(dev, kobj.name);
	if (name && bpf_probe_read_kernel_str(e->device, sizeof(e->device), name) > 0)
		e->flags |= IOGUARD_EV_HAS_DEVICE;
	event_group(e, BPF_CORE_READ(dev, iommu_group));
}

static __always_inline void event_ret(struct ioguard_event *e, long ret)
{
	e->ret = ret;
	e->flags |= IOGUARD_EV_HAS_RET;
}

static __always_inline void remember_domain_group(struct iommu_domain *domain, __s32 group)
{
	__u64 key = (__u64)domain;

	bpf_map_update_elem(&domain_group, &key, &group, BPF_ANY);
}

static __always_inline void forget_domain_group(struct iommu_domain *domain)
{
	__u64 key = (__u64)domain;

	bpf_map_delete_elem(&domain_group, &key);
}

/* --- fentry/fexit mode --------------------------------------------------------------- */

SEC("fentry/iommu_attach_device")
int BPF_PROG(attach_device_enter)
{
	return call_enter(IOGUARD_OP_ATTACH_DEVICE);
}

SEC("fexit/iommu_attach_device")
int BPF_PROG(attach_device_exit, struct iommu_domain *domain, struct device *dev, int ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_ATTACH_DEVICE);

	if (!e)
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_domain(e, domain);
	event_ret(e, ret);
	if (!ret && (e->flags & IOGUARD_EV_HAS_GROUP))
		remember_domain_group(domain, e->group);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_detach_device")
int BPF_PROG(detach_device_enter)
{
	return call_enter(IOGUARD_OP_DETACH_DEVICE);
}

SEC("fexit/iommu_detach_device")
int BPF_PROG(detach_device_exit, struct iommu_domain *domain, struct device *dev)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_DETACH_DEVICE);

	if (!e)
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_domain(e, domain);
	bpf_ringbuf_submit(e, 0);
	forget_domain_group(domain);
	return 0;
}

SEC("fentry/iommu_attach_group")
int BPF_PROG(attach_group_enter)
{
	return call_enter(IOGUARD_OP_ATTACH_GROUP);
}

static __always_inline int attach_group_done(struct iommu_domain *domain,
					     struct iommu_group *group, int ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_ATTACH_GROUP);

	if (!e)
		return 0;
	event_latency(e);
	event_group(e, group);
	event_domain(e, domain);
	event_ret(e, ret);
	if (!ret && (e->flags & IOGUARD_EV_HAS_GROUP))
		remember_domain_group(domain, e->group);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fexit/iommu_attach_group")
int BPF_PROG(attach_group_exit, struct iommu_domain *domain, struct iommu_group *group, int ret)
{
	return attach_group_done(domain, group, ret);
}

/*
 * iommufd attaches through the handle variants, added in v6.11 with its IO page fault
 * support; older kernels lack them and these hooks are skipped.
 */
SEC("fentry/iommu_attach_group_handle")
int BPF_PROG(attach_group_handle_enter)
{
	return call_enter(IOGUARD_OP_ATTACH_GROUP);
}

SEC("fexit/iommu_attach_group_handle")
int BPF_PROG(attach_group_handle_exit, struct iommu_domain *domain, struct iommu_group *group,
	     struct iommu_attach_handle *handle, int ret)
{
	return attach_group_done(domain, group, ret);
}

SEC("fentry/iommu_replace_group_handle")
int BPF_PROG(replace_group_handle_enter)
{
	return call_enter(IOGUARD_OP_ATTACH_GROUP);
}

SEC("fexit/iommu_replace_group_handle")
int BPF_PROG(replace_group_handle_exit, struct iommu_group *group,
	     struct iommu_domain *new_domain, struct iommu_attach_handle *handle, int ret)
{
	return attach_group_done(new_domain, group, ret);
}

SEC("fentry/iommu_detach_group")
int BPF_PROG(detach_group_enter)
{
	return call_enter(IOGUARD_OP_DETACH_GROUP);
}

static __always_inline int detach_group_done(struct iommu_domain *domain,
					     struct iommu_group *group)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_DETACH_GROUP);

	if (!e)
		return 0;
	event_latency(e);
	event_group(e, group);
	event_domain(e, domain);
	bpf_ringbuf_submit(e, 0);
	forget_domain_group(domain);
	return 0;
}

SEC("fexit/iommu_detach_group")
int BPF_PROG(detach_group_exit, struct iommu_domain *domain, struct iommu_group *group)
{
	return detach_group_done(domain, group);
}

SEC("fentry/iommu_detach_group_handle")
int BPF_PROG(detach_group_handle_enter)
{
	return call_enter(IOGUARD_OP_DETACH_GROUP);
}

SEC("fexit/iommu_detach_group_handle")
int BPF_PROG(detach_group_handle_exit, struct iommu_domain *domain, struct iommu_group *group)
{
	return detach_group_done(domain, group);
}

SEC("fentry/iommu_device_claim_dma_owner")
int BPF_PROG(claim_device_enter)
{
	return call_enter(IOGUARD_OP_CLAIM_DEVICE);
}

SEC("fexit/iommu_device_claim_dma_owner")
int BPF_PROG(claim_device_exit, struct device *dev, void *owner, int ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_CLAIM_DEVICE);

	if (!e)
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_device_release_dma_owner")
int BPF_PROG(release_device_enter)
{
	return call_enter(IOGUARD_OP_RELEASE_DEVICE);
}

SEC("fexit/iommu_device_release_dma_owner")
int BPF_PROG(release_device_exit, struct device *dev)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_RELEASE_DEVICE);

	if (!e)
		return 0;
	event_latency(e);
	event_device(e, dev);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_group_claim_dma_owner")
int BPF_PROG(claim_group_enter)
{
	return call_enter(IOGUARD_OP_CLAIM_GROUP);
}

SEC("fexit/iommu_group_claim_dma_owner")
int BPF_PROG(claim_group_exit, struct iommu_group *group, void *owner, int ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_CLAIM_GROUP);

	if (!e)
		return 0;
	event_latency(e);
	event_group(e, group);
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_group_release_dma_owner")
int BPF_PROG(release_group_enter)
{
	return call_enter(IOGUARD_OP_RELEASE_GROUP);
}

SEC("fexit/iommu_group_release_dma_owner")
int BPF_PROG(release_group_exit, struct iommu_group *group)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_RELEASE_GROUP);

	if (!e)
		return 0;
	event_latency(e);
	event_group(e, group);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_map")
int BPF_PROG(map_enter)
{
	return call_enter(IOGUARD_OP_MAP);
}

SEC("fexit/iommu_map")
int BPF_PROG(map_exit, struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr,
	     size_t size, int prot, gfp_t gfp, int ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_MAP);

	if (!e)
		return 0;
	event_latency(e);
	event_domain(e, domain);
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_map_sg")
int BPF_PROG(map_sg_enter)
{
	return call_enter(IOGUARD_OP_MAP_SG);
}

SEC("fexit/iommu_map_sg")
int BPF_PROG(map_sg_exit, struct iommu_domain *domain, unsigned long iova,
	     struct scatterlist *sg, unsigned int nents, int prot, gfp_t gfp, ssize_t ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_MAP_SG);

	if (!e)
		return 0;
	event_latency(e);
	event_domain(e, domain);
	e->iova = iova;
	e->flags |= IOGUARD_EV_HAS_IOVA;
	if (ret > 0) {
		e->size = ret;
		e->flags |= IOGUARD_EV_HAS_SIZE;
	}
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_unmap")
int BPF_PROG(unmap_enter)
{
	return call_enter(IOGUARD_OP_UNMAP);
}

SEC("fexit/iommu_unmap")
int BPF_PROG(unmap_exit, struct iommu_domain *domain, unsigned long iova, size_t size,
	     size_t ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_UNMAP);

	if (!e)
		return 0;
	event_latency(e);
	event_domain(e, domain);
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/iommu_unmap_fast")
int BPF_PROG(unmap_fast_enter)
{
	return call_enter(IOGUARD_OP_UNMAP_FAST);
}

SEC("fexit/iommu_unmap_fast")
int BPF_PROG(unmap_fast_exit, struct iommu_domain *domain, unsigned long iova, size_t size,
	     struct iommu_iotlb_gather *gather, size_t ret)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_UNMAP_FAST);

	if (!e)
		return 0;
	event_latency(e);
	event_domain(e, domain);
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	event_ret(e, ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* --- tp_btf mode: the iommu:* tracepoints ---------------------------------------------- */

SEC("tp_btf/attach_device_to_domain")
int BPF_PROG(tp_attach_device, struct device *dev)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_ATTACH_GROUP);

	if (!e)
		return 0;
	event_device(e, dev);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/map")
int BPF_PROG(tp_map, unsigned long iova, phys_addr_t paddr, size_t size)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_MAP);

	if (!e)
		return 0;
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/unmap")
int BPF_PROG(tp_unmap, unsigned long iova, size_t size, size_t unmapped_size)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_UNMAP);

	if (!e)
		return 0;
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	event_ret(e, unmapped_size);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Page faults have only a tracepoint; it is attached in both modes. */
SEC("tp_btf/io_page_fault")
int BPF_PROG(tp_io_page_fault, struct device *dev, unsigned long iova, int flags)
{
	struct ioguard_event *e = event_begin(IOGUARD_OP_IO_PAGE_FAULT);

	if (!e)
		return 0;
	event_device(e, dev);
	e->iova = iova;
	e->flags |= IOGUARD_EV_HAS_IOVA;
	event_ret(e, flags);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
