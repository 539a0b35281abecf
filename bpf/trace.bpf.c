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
 * The iommufd_device_*() hooks are fentry-only and optional (CONFIG_IOMMUFD).
 * Every operation is counted in the aggregates; the stream settings (ops, group,
 * sampling) only choose which records go to the ring buffer. A record that finds it
 * full is counted in lost[], never dropped silently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ioguard/trace.h"
#include "ioguard/metrics.h"
#include "ioguard/hist.h"
#include "core_fixes.bpf.h"
#include "events_wakeup.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 0 traces every process; otherwise only this tgid. */
const volatile __u32 target_tgid = 0;
/* Stream one record per operation to the ring buffer; off keeps only the aggregates. */
const volatile bool emit_events = true;
/* Ops streamed: bit (1 << enum ioguard_op) each; 0 streams every op. */
const volatile __u32 emit_ops = 0;
/* Stream only operations of this IOMMU group, when emit_group_set. */
const volatile bool emit_group_set = false;
const volatile __s32 emit_group = 0;
/* Stream 1 of every N map-type records (IOGUARD_OP_MAP_MASK), per CPU; 0 or 1: all. */
const volatile __u32 map_sample_every = 1;

/* Indexed by enum ioguard_lost_reason. */
__u64 lost[IOGUARD_LOST_REASON_COUNT] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * fentry timestamps of one task's calls in flight, by op, until their fexit. Task-local
 * storage: no lock and no hash on the map path, and freed with the task. The array is a
 * power of two so that a masked op indexes it without a bounds check the verifier
 * cannot follow.
 */
#define CALL_START_SLOTS 32
_Static_assert(IOGUARD_OP_COUNT <= CALL_START_SLOTS, "call_starts too small");

struct call_starts {
	__u64 ns[CALL_START_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_starts);
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

/*
 * Bumped after every change to domain_group, so that a cached answer can tell it is
 * stale. Starts at 1: a cache slot with generation 0 was never filled.
 */
__u64 domain_group_gen = 1;

/*
 * This CPU's last domain_group answer for each program on the map path, which asks
 * about the same domain call after call: a hit costs no hash. A slot belongs to one
 * program (a map-family op is recorded by one program per mode; the invalidation
 * programs have their own), and the trampoline never runs a program twice at once on a
 * CPU (a nested run is skipped), so a slot is never read half written. Other ops, which
 * several programs share, always ask the table.
 */
#define DOMAIN_GROUP_SLOTS 64	/* a power of two: a masked index needs no bounds check */

enum domain_group_slot_of {
	/* Slots 0 to CALL_START_SLOTS - 1: the map-family ops, by op. */
	DOMAIN_GROUP_SLOT_QI_SUBMIT = CALL_START_SLOTS,
	DOMAIN_GROUP_SLOT_QI_SUBMIT_SYNC,
	DOMAIN_GROUP_SLOT_NONE = DOMAIN_GROUP_SLOTS,
};
_Static_assert(DOMAIN_GROUP_SLOT_QI_SUBMIT_SYNC < DOMAIN_GROUP_SLOTS, "domain_group_slots too small");

struct domain_group_slot {
	__u64 domain;
	__u64 gen;
	__s32 group;
	__u32 found;
};

struct domain_group_slots {
	struct domain_group_slot slot[DOMAIN_GROUP_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct domain_group_slots);
} domain_group_cache SEC(".maps");

/*
 * Aggregates. Per-CPU and allocated on demand: memory follows the (group, op) pairs that
 * occur, times the CPU count, instead of max_entries times the CPU count.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct ioguard_agg_key);
	__type(value, struct ioguard_agg);
} aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct ioguard_fault_key);
	__type(value, __u64);
} faults SEC(".maps");

/*
 * A fault's key could not be inserted: another CPU inserted it first (this CPU's slot of
 * it is then there to count in), or the table is full. A full table loses the count,
 * and says so in lost[] instead of silently: a device faulting with many kinds and
 * reasons must not hide the next device's faults.
 */
static __always_inline void fault_insert_failed(void *map, const void *key)
{
	__u64 *count = bpf_map_lookup_elem(map, key);

	if (count)
		__sync_fetch_and_add(count, 1);
	else
		__sync_fetch_and_add(&lost[IOGUARD_LOST_FAULT_TABLE_FULL], 1);
}

/* Map-type records seen by this CPU, for map_sample_every. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_seq SEC(".maps");

static const struct ioguard_agg zero_agg;

/* @op is one of the map family (IOGUARD_OP_MAP_MASK): one program writes each. */
static __always_inline bool op_is_map(__u32 op)
{
	return op < 32 && (IOGUARD_OP_MAP_MASK & (1U << op));
}

static __always_inline bool traced(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline int call_enter(__u32 op)
{
	struct call_starts *starts;

	if (!traced())
		return 0;
	starts = bpf_task_storage_get(&call_start, bpf_get_current_task_btf(), NULL,
				      BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!starts) {
		__sync_fetch_and_add(&lost[IOGUARD_LOST_CALL_TABLE_FULL], 1);
		return 0;
	}
	starts->ns[op & (CALL_START_SLOTS - 1)] = bpf_ktime_get_ns();
	return 0;
}

/*
 * Starts a record on the caller's stack; false when this process is not traced. The
 * process and thread are filled in only if the record is streamed (event_submit).
 */
static __always_inline bool event_begin(struct ioguard_event *e, __u32 op)
{
	if (!traced())
		return false;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->op = op;
	e->group = IOGUARD_GROUP_UNKNOWN;
	return true;
}

/* Latency from the matching fentry, if it was seen. */
static __always_inline void event_latency(struct ioguard_event *e)
{
	struct call_starts *starts;
	__u64 *start;

	starts = bpf_task_storage_get(&call_start, bpf_get_current_task_btf(), NULL, 0);
	if (!starts)
		return;
	start = &starts->ns[e->op & (CALL_START_SLOTS - 1)];
	if (!*start)
		return;
	e->latency_ns = e->ts_ns - *start;
	e->flags |= IOGUARD_EV_HAS_LATENCY;
	*start = 0;
}

/*
 * The group @domain was last attached to, through this CPU's slot @which
 * (DOMAIN_GROUP_SLOT_NONE: the table only). The generation is read before the table,
 * so an attach racing with this call at worst leaves a slot the next call finds stale.
 * That relies on x86's ordering (loads are not reordered with loads, and the writer's
 * locked add follows its update), the only architecture ioguard is built for.
 */
static __always_inline bool domain_group_of(__u64 domain, __u32 which, __s32 *group)
{
	__u64 gen = *(volatile __u64 *)&domain_group_gen;
	struct domain_group_slots *slots = NULL;
	struct domain_group_slot *slot;
	__u32 zero = 0;
	__s32 *found;

	if (which < DOMAIN_GROUP_SLOTS)
		slots = bpf_map_lookup_elem(&domain_group_cache, &zero);
	if (!slots) {
		found = bpf_map_lookup_elem(&domain_group, &domain);
		if (found)
			*group = *found;
		return found;
	}
	slot = &slots->slot[which & (DOMAIN_GROUP_SLOTS - 1)];
	if (slot->gen != gen || slot->domain != domain) {
		found = bpf_map_lookup_elem(&domain_group, &domain);
		slot->group = found ? *found : IOGUARD_GROUP_UNKNOWN;
		slot->found = found != NULL;
		slot->domain = domain;
		slot->gen = gen;
	}
	*group = slot->group;
	return slot->found;
}

static __always_inline void event_domain(struct ioguard_event *e, struct iommu_domain *domain)
{
	__u32 which;

	e->domain = (__u64)domain;
	e->flags |= IOGUARD_EV_HAS_DOMAIN;
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		return;
	which = op_is_map(e->op) ? e->op : DOMAIN_GROUP_SLOT_NONE;
	if (domain_group_of(e->domain, which, &e->group))
		e->flags |= IOGUARD_EV_HAS_GROUP;
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

static __always_inline void event_range(struct ioguard_event *e, __u64 iova, __u64 size)
{
	e->iova = iova;
	e->size = size;
	e->flags |= IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
}

/* Unmaps return the bytes unmapped, other calls 0 or -errno; void calls have no ret. */
static __always_inline __u32 event_result(const struct ioguard_event *e)
{
	if (!(e->flags & IOGUARD_EV_HAS_RET))
		return IOGUARD_RESULT_OK;
	if (e->op == IOGUARD_OP_UNMAP || e->op == IOGUARD_OP_UNMAP_FAST)
		return e->ret > 0 ? IOGUARD_RESULT_OK : IOGUARD_RESULT_ERROR;
	if (e->op == IOGUARD_OP_MAP_SG)
		return e->ret >= 0 ? IOGUARD_RESULT_OK : IOGUARD_RESULT_ERROR;
	return e->ret == 0 ? IOGUARD_RESULT_OK : IOGUARD_RESULT_ERROR;
}

/*
 * Adds to a per-CPU aggregate of @op. A map-family op is written by exactly one program
 * (per mode), and neither the trampoline nor the tracepoint runner re-enters a program
 * on a CPU where it is still running (the nested run is skipped and counted as a
 * recursion miss), so a plain add cannot race there. Ops that several programs share
 * (the attach and detach variants) take the atomic add.
 */
#define AGG_ADD(op, field, v)							\
	do {									\
		if (op_is_map(op))						\
			(field) += (v);						\
		else								\
			__sync_fetch_and_add(&(field), (v));			\
	} while (0)

static __always_inline void hist_add(struct ioguard_hist *h, __u32 op, __u64 value)
{
	AGG_ADD(op, h->slots[ioguard_hist_slot(value)], 1);
	AGG_ADD(op, h->count, 1);
	AGG_ADD(op, h->sum, value);
}

/* Counts a finished operation in its (group, op) aggregate. */
static __always_inline void agg_account(const struct ioguard_event *e)
{
	struct ioguard_agg_key key = { .group = e->group, .op = e->op };
	struct ioguard_agg *a = bpf_map_lookup_elem(&aggs, &key);
	__u32 result = event_result(e) & (IOGUARD_RESULT_COUNT - 1);

	if (!a) {
		bpf_map_update_elem(&aggs, &key, &zero_agg, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&aggs, &key);
		if (!a)
			return;
	}
	if (e->flags & IOGUARD_EV_HAS_LATENCY)
		hist_add(&a->hist[IOGUARD_HIST_LATENCY], e->op, e->latency_ns);
	AGG_ADD(e->op, a->calls[result], 1);
	if (e->flags & IOGUARD_EV_HAS_SIZE) {
		hist_add(&a->hist[IOGUARD_HIST_SIZE], e->op, e->size);
		AGG_ADD(e->op, a->bytes[result], e->size);
	}
}

/* Whether the stream settings keep this record; the aggregates count it regardless. */
static __always_inline bool streamed(const struct ioguard_event *e)
{
	__u32 zero = 0;
	__u64 *seq;

	if (!emit_events)
		return false;
	if (emit_ops && (e->op >= 32 || !(emit_ops & (1U << e->op))))
		return false;
	if (emit_group_set && e->group != emit_group)
		return false;
	if (map_sample_every > 1 && op_is_map(e->op)) {
		seq = bpf_map_lookup_elem(&sample_seq, &zero);
		if (!seq)
			return true;
		/* Per-CPU and with migration disabled: a plain increment is exact. */
		return (*seq)++ % map_sample_every == 0;
	}
	return true;
}

/* Accounts a finished operation in the aggregates and streams it if asked to. */
static __always_inline void event_submit(struct ioguard_event *e)
{
	__u64 pid_tgid;

	agg_account(e);

	if (!streamed(e))
		return;
	pid_tgid = bpf_get_current_pid_tgid();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_ringbuf_output(&events, e, sizeof(*e), events_wakeup_flags(&events, sizeof(*e))))
		__sync_fetch_and_add(&lost[IOGUARD_LOST_RINGBUF_FULL], 1);
}

static __always_inline void remember_domain_group(struct iommu_domain *domain, __s32 group)
{
	__u64 key = (__u64)domain;

	bpf_map_update_elem(&domain_group, &key, &group, BPF_ANY);
	__sync_fetch_and_add(&domain_group_gen, 1);
}

static __always_inline void forget_domain_group(struct iommu_domain *domain)
{
	__u64 key = (__u64)domain;

	bpf_map_delete_elem(&domain_group, &key);
	__sync_fetch_and_add(&domain_group_gen, 1);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_ATTACH_DEVICE))
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_domain(e, domain);
	event_ret(e, ret);
	if (!ret && (e->flags & IOGUARD_EV_HAS_GROUP))
		remember_domain_group(domain, e->group);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_DETACH_DEVICE))
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_domain(e, domain);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_ATTACH_GROUP))
		return 0;
	event_latency(e);
	event_group(e, group);
	event_domain(e, domain);
	event_ret(e, ret);
	if (!ret && (e->flags & IOGUARD_EV_HAS_GROUP))
		remember_domain_group(domain, e->group);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_DETACH_GROUP))
		return 0;
	event_latency(e);
	event_group(e, group);
	event_domain(e, domain);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_CLAIM_DEVICE))
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_ret(e, ret);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_RELEASE_DEVICE))
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_CLAIM_GROUP))
		return 0;
	event_latency(e);
	event_group(e, group);
	event_ret(e, ret);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_RELEASE_GROUP))
		return 0;
	event_latency(e);
	event_group(e, group);
	event_submit(e);
	return 0;
}

SEC("fentry/iommu_map")
int BPF_PROG(map_enter)
{
	return call_enter(IOGUARD_OP_MAP);
}

/*
 * iommu_map() and iommu_map_sg() gained a gfp argument in v6.3, which moved the return
 * value's slot: it is read with bpf_get_func_ret(), and only the arguments both
 * prototypes share are named, so one program serves 6.1 and later.
 */
SEC("fexit/iommu_map")
int BPF_PROG(map_exit, struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr,
	     size_t size)
{
	struct ioguard_event ev, *e = &ev;
	__u64 ret = 0;

	if (!event_begin(e, IOGUARD_OP_MAP))
		return 0;
	bpf_get_func_ret(ctx, &ret);
	event_latency(e);
	event_domain(e, domain);
	event_range(e, iova, size);
	event_ret(e, (int)ret);
	event_submit(e);
	return 0;
}

SEC("fentry/iommu_map_sg")
int BPF_PROG(map_sg_enter)
{
	return call_enter(IOGUARD_OP_MAP_SG);
}

SEC("fexit/iommu_map_sg")
int BPF_PROG(map_sg_exit, struct iommu_domain *domain, unsigned long iova)
{
	struct ioguard_event ev, *e = &ev;
	__u64 ret_slot = 0;
	ssize_t ret;

	if (!event_begin(e, IOGUARD_OP_MAP_SG))
		return 0;
	bpf_get_func_ret(ctx, &ret_slot);
	ret = (ssize_t)ret_slot;
	event_latency(e);
	event_domain(e, domain);
	e->iova = iova;
	e->flags |= IOGUARD_EV_HAS_IOVA;
	if (ret > 0) {
		e->size = ret;
		e->flags |= IOGUARD_EV_HAS_SIZE;
	}
	event_ret(e, ret);
	event_submit(e);
	return 0;
}

/*
 * v6.16's two-step DMA API maps with iommu_map_nosync() and syncs later; iommu_map() and
 * iommu_map_sg() now call it too. A call made inside one of those (their start time is
 * set for this task) is their record already: only direct callers are recorded here.
 */
static __always_inline bool inside_traced_map(void)
{
	struct call_starts *starts;

	starts = bpf_task_storage_get(&call_start, bpf_get_current_task_btf(), NULL, 0);
	return starts && (starts->ns[IOGUARD_OP_MAP] || starts->ns[IOGUARD_OP_MAP_SG]);
}

SEC("fentry/iommu_map_nosync")
int BPF_PROG(map_nosync_enter)
{
	if (inside_traced_map())
		return 0;
	return call_enter(IOGUARD_OP_MAP_NOSYNC);
}

SEC("fexit/iommu_map_nosync")
int BPF_PROG(map_nosync_exit, struct iommu_domain *domain, unsigned long iova,
	     phys_addr_t paddr, size_t size)
{
	struct ioguard_event ev, *e = &ev;
	__u64 ret = 0;

	if (inside_traced_map() || !event_begin(e, IOGUARD_OP_MAP_NOSYNC))
		return 0;
	bpf_get_func_ret(ctx, &ret);
	event_latency(e);
	event_domain(e, domain);
	event_range(e, iova, size);
	event_ret(e, (int)ret);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_UNMAP))
		return 0;
	event_latency(e);
	event_domain(e, domain);
	event_range(e, iova, size);
	event_ret(e, ret);
	event_submit(e);
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
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_UNMAP_FAST))
		return 0;
	event_latency(e);
	event_domain(e, domain);
	event_range(e, iova, size);
	event_ret(e, ret);
	event_submit(e);
	return 0;
}

/*
 * PASID attach (v6.2+ for iommu_attach_device_pasid(), with a handle argument from
 * v6.11; iommu_replace_device_pasid() from v6.15): a domain for one PASID of a device,
 * which SVA and iommufd's PASID support use. Arguments 0-2 are the same in every
 * version; the return value is read with bpf_get_func_ret().
 */
static __always_inline int pasid_done(void *ctx, __u32 op, struct iommu_domain *domain,
				      struct device *dev, __u32 pasid, bool has_ret)
{
	struct ioguard_event ev, *e = &ev;
	__u64 ret = 0;

	if (!event_begin(e, op))
		return 0;
	event_latency(e);
	event_device(e, dev);
	event_domain(e, domain);
	e->pasid = pasid;
	e->flags |= IOGUARD_EV_HAS_PASID;
	if (has_ret) {
		bpf_get_func_ret(ctx, &ret);
		event_ret(e, (int)ret);
	}
	event_submit(e);
	return 0;
}

SEC("fentry/iommu_attach_device_pasid")
int BPF_PROG(attach_pasid_enter)
{
	return call_enter(IOGUARD_OP_ATTACH_PASID);
}

SEC("fexit/iommu_attach_device_pasid")
int BPF_PROG(attach_pasid_exit, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	return pasid_done(ctx, IOGUARD_OP_ATTACH_PASID, domain, dev, pasid, true);
}

SEC("fentry/iommu_replace_device_pasid")
int BPF_PROG(replace_pasid_enter)
{
	return call_enter(IOGUARD_OP_REPLACE_PASID);
}

SEC("fexit/iommu_replace_device_pasid")
int BPF_PROG(replace_pasid_exit, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	return pasid_done(ctx, IOGUARD_OP_REPLACE_PASID, domain, dev, pasid, true);
}

SEC("fentry/iommu_detach_device_pasid")
int BPF_PROG(detach_pasid_enter)
{
	return call_enter(IOGUARD_OP_DETACH_PASID);
}

SEC("fexit/iommu_detach_device_pasid")
int BPF_PROG(detach_pasid_exit, struct iommu_domain *domain, struct device *dev, __u32 pasid)
{
	return pasid_done(ctx, IOGUARD_OP_DETACH_PASID, domain, dev, pasid, false);
}

/*
 * iommufd's device API (CONFIG_IOMMUFD, v6.2+): bind claims the device's DMA ownership
 * for an iommufd context, attach connects it to an IOAS or HW page table. The core
 * iommu_* hooks above see the same work underneath; these name the iommufd step.
 * Arguments and return values go through bpf_get_func_arg/ret(): see core_fixes.bpf.h.
 */
static __always_inline void event_idev(struct ioguard_event *e,
				       struct iommufd_device___ioguard *idev)
{
	struct iommufd_group___ioguard *igroup;

	if (!idev)
		return;
	event_device(e, iommufd_idev_device(idev));
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		return;
	igroup = BPF_CORE_READ(idev, igroup);
	if (igroup)
		event_group(e, BPF_CORE_READ(igroup, group));
}

SEC("fentry/iommufd_device_bind")
int BPF_PROG(iommufd_bind_enter)
{
	return call_enter(IOGUARD_OP_IOMMUFD_BIND);
}

SEC("fexit/iommufd_device_bind")
int BPF_PROG(iommufd_bind_exit)
{
	struct ioguard_event ev, *e = &ev;
	__u64 dev = 0, ret = 0;

	if (!event_begin(e, IOGUARD_OP_IOMMUFD_BIND))
		return 0;
	event_latency(e);
	bpf_get_func_arg(ctx, 1, &dev);
	bpf_get_func_ret(ctx, &ret);
	event_device(e, (struct device *)dev);
	/* An ERR_PTR() is the errno; a valid iommufd_device is success. */
	event_ret(e, ret >= (__u64)-4095 ? (long)ret : 0);
	event_submit(e);
	return 0;
}

/*
 * Unbind frees the iommufd_device: the record is made at entry, while it can still be
 * read, and has no latency.
 */
SEC("fentry/iommufd_device_unbind")
int BPF_PROG(iommufd_unbind_enter)
{
	struct ioguard_event ev, *e = &ev;
	__u64 idev = 0;

	if (!event_begin(e, IOGUARD_OP_IOMMUFD_UNBIND))
		return 0;
	bpf_get_func_arg(ctx, 0, &idev);
	event_idev(e, (struct iommufd_device___ioguard *)idev);
	event_submit(e);
	return 0;
}

SEC("fentry/iommufd_device_attach")
int BPF_PROG(iommufd_attach_enter)
{
	return call_enter(IOGUARD_OP_IOMMUFD_ATTACH);
}

SEC("fexit/iommufd_device_attach")
int BPF_PROG(iommufd_attach_exit)
{
	struct ioguard_event ev, *e = &ev;
	__u64 idev = 0, ret = 0, pasid = 0;

	if (!event_begin(e, IOGUARD_OP_IOMMUFD_ATTACH))
		return 0;
	event_latency(e);
	bpf_get_func_arg(ctx, 0, &idev);
	bpf_get_func_ret(ctx, &ret);
	event_idev(e, (struct iommufd_device___ioguard *)idev);
	event_ret(e, (int)ret);
	/* v6.15+: (idev, pasid, pt_id); IOMMU_NO_PASID is a whole-device attach. */
	if (bpf_get_func_arg_cnt(ctx) == 3 && !bpf_get_func_arg(ctx, 1, &pasid) && pasid) {
		e->pasid = pasid;
		e->flags |= IOGUARD_EV_HAS_PASID;
	}
	event_submit(e);
	return 0;
}

SEC("fentry/iommufd_device_detach")
int BPF_PROG(iommufd_detach_enter)
{
	return call_enter(IOGUARD_OP_IOMMUFD_DETACH);
}

SEC("fexit/iommufd_device_detach")
int BPF_PROG(iommufd_detach_exit)
{
	struct ioguard_event ev, *e = &ev;
	__u64 idev = 0;

	if (!event_begin(e, IOGUARD_OP_IOMMUFD_DETACH))
		return 0;
	event_latency(e);
	bpf_get_func_arg(ctx, 0, &idev);
	event_idev(e, (struct iommufd_device___ioguard *)idev);
	event_submit(e);
	return 0;
}

/* --- tp_btf mode: the iommu:* tracepoints ---------------------------------------------- */

SEC("tp_btf/attach_device_to_domain")
int BPF_PROG(tp_attach_device, struct device *dev)
{
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_ATTACH_GROUP))
		return 0;
	event_device(e, dev);
	event_submit(e);
	return 0;
}

SEC("tp_btf/map")
int BPF_PROG(tp_map, unsigned long iova, phys_addr_t paddr, size_t size)
{
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_MAP))
		return 0;
	event_range(e, iova, size);
	event_submit(e);
	return 0;
}

SEC("tp_btf/unmap")
int BPF_PROG(tp_unmap, unsigned long iova, size_t size, size_t unmapped_size)
{
	struct ioguard_event ev, *e = &ev;

	if (!event_begin(e, IOGUARD_OP_UNMAP))
		return 0;
	event_range(e, iova, size);
	event_ret(e, unmapped_size);
	event_submit(e);
	return 0;
}

/* Page faults have only a tracepoint; it is attached in both modes. */
SEC("tp_btf/io_page_fault")
int BPF_PROG(tp_io_page_fault, struct device *dev, unsigned long iova, int flags)
{
	struct ioguard_event ev, *e = &ev;
	struct ioguard_fault_key key = {};
	__u64 *count, one = 1;

	if (!event_begin(e, IOGUARD_OP_IO_PAGE_FAULT))
		return 0;
	event_device(e, dev);
	e->iova = iova;
	e->flags |= IOGUARD_EV_HAS_IOVA;
	event_ret(e, flags);

	__builtin_memcpy(key.device, e->device, sizeof(key.device));
	key.group = e->group;
	count = bpf_map_lookup_elem(&faults, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else if (bpf_map_update_elem(&faults, &key, &one, BPF_NOEXIST))
		fault_insert_failed(&faults, &key);
	event_submit(e);
	return 0;
}

/* --- DMA-remapping faults (Intel VT-d) -------------------------------------------------- */

/*
 * VT-d reports a DMA-remapping (and interrupt-remapping) fault by writing a fault record
 * into the unit's fault recording registers and raising its fault interrupt, whose
 * handler is dmar_fault(irq, iommu). The handler logs the records through
 * dmar_fault_do_one(), but only while a printk ratelimit allows (10 calls per 5 s,
 * shared with its "DRHD: handling fault status" line: about three faults per 5 s), and
 * clears the others unread; dmar_fault_do_one() is also inlined in Debian's kernels, so
 * it is in no BTF. dmar_fault() is always a real function (request_irq() takes its
 * address): at its entry the records it is about to handle are still in the registers,
 * and this program reads every one of them, ratelimit or not. Reading them has no side
 * effect (a record is cleared by writing its F bit, which only the handler does).
 * Records the hardware adds while the handler runs are handled in the same interrupt and
 * are not seen here; in a storm the count is a lower bound, as the hardware's own is
 * once its records overflow.
 *
 * Register layout: the VT-d specification, 11.4.9 (DMAR_FSTS_REG) and 11.4.14
 * (fault recording registers), as drivers/iommu/intel/iommu.h names them.
 */
#define DMAR_FSTS_REG		0x34
#define DMA_FSTS_PPF		(1U << 1)	/* primary pending fault */
#define DMA_FSTS_FRI(s)		(((s) >> 8) & 0xff)	/* first record to handle */
#define CAP_NUM_FAULT_REGS(c)	((((c) >> 40) & 0xff) + 1)
#define CAP_FAULT_REG_OFFSET(c)	((((c) >> 24) & 0x3ff) * 16)
#define FRCD_LEN		16
#define FRCD_F			(1U << 31)	/* in the high dword: record valid */
#define FRCD_TYPE_READ		(1U << 30)	/* in the high dword: 1 read, 0 write */
#define FRCD_PASID(hi)		(((hi) >> 8) & 0xfffff)
#define FRCD_PASID_PRESENT	(1U << 31)	/* in the third dword */
#define FRCD_PAGE_MASK		(~0xfffULL)
#define FAULT_REASON_INTR_FIRST	0x20	/* 0x20-0x2f: interrupt-remapping faults */
#define FAULT_REASON_INTR_LAST	0x2f
#define FAULT_RECORDS_MAX	256	/* CAP_NUM_FAULT_REGS() is at most 256 */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);	/* preallocated: updated in hard interrupt context */
	__type(key, struct ioguard_dma_fault_key);
	__type(value, __u64);
} dma_faults SEC(".maps");

/* MMIO of the IOMMU, read the way the handler reads it: 32 or 64 bits at a time. */
static __always_inline __u32 mmio_read32(const void *addr)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

static __always_inline __u64 mmio_read64(const void *addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

static __always_inline char hex_digit(__u32 v)
{
	v &= 0xf;
	return v < 10 ? '0' + v : 'a' + v - 10;
}

/* "ssss:bb:dd.f", the PCI name sysfs gives the requester. */
static __always_inline void pci_name(char *out, __u16 segment, __u16 source_id)
{
	out[0] = hex_digit(segment >> 12);
	out[1] = hex_digit(segment >> 8);
	out[2] = hex_digit(segment >> 4);
	out[3] = hex_digit(segment);
	out[4] = ':';
	out[5] = hex_digit(source_id >> 12);
	out[6] = hex_digit(source_id >> 8);
	out[7] = ':';
	out[8] = hex_digit((source_id >> 7) & 0x1);
	out[9] = hex_digit((source_id >> 3) & 0xf);
	out[10] = '.';
	out[11] = hex_digit(source_id & 0x7);
	out[12] = '\0';
}

struct fault_walk {
	const void *records;	/* first fault recording register */
	__u32 index;		/* the record to read next */
	__u32 count;		/* CAP_NUM_FAULT_REGS() */
	__u16 segment;
	const unsigned char *iommu_name;
};

static __always_inline void dma_fault_count(const struct ioguard_dma_fault_key *key)
{
	__u64 *count, one = 1;

	count = bpf_map_lookup_elem(&dma_faults, key);
	if (count)
		*count += 1;	/* per-CPU, and the fault interrupt does not nest */
	else if (bpf_map_update_elem(&dma_faults, key, &one, BPF_NOEXIST))
		fault_insert_failed(&dma_faults, key);
}

/* One fault record; stops the walk at the first record that is not valid. */
static long dma_fault_record(__u32 i, struct fault_walk *w)
{
	const void *rec = w->records + (__u64)w->index * FRCD_LEN;
	struct ioguard_dma_fault_key key = { .segment = w->segment };
	struct ioguard_event ev, *e = &ev;
	__u32 hi, id;
	__u64 addr;

	hi = mmio_read32(rec + 12);
	if (!(hi & FRCD_F))
		return 1;
	id = mmio_read32(rec + 8);
	addr = mmio_read64(rec);

	key.source_id = id & 0xffff;
	key.reason = hi & 0xff;
	if (key.reason >= FAULT_REASON_INTR_FIRST && key.reason <= FAULT_REASON_INTR_LAST)
		key.kind = IOGUARD_DMA_FAULT_INTERRUPT;
	else if (hi & FRCD_TYPE_READ)
		key.kind = IOGUARD_DMA_FAULT_READ;
	else
		key.kind = IOGUARD_DMA_FAULT_WRITE;
	dma_fault_count(&key);

	/* Faults belong to a device, not to the interrupted task: no pid, comm the IOMMU. */
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->op = IOGUARD_OP_DMA_FAULT;
	e->group = IOGUARD_GROUP_UNKNOWN;
	pci_name(e->device, key.segment, key.source_id);
	e->flags |= IOGUARD_EV_HAS_DEVICE;
	if (key.kind == IOGUARD_DMA_FAULT_INTERRUPT) {
		e->iova = addr >> 48;
		e->flags |= IOGUARD_EV_FAULT_INTR;
	} else {
		e->iova = addr & FRCD_PAGE_MASK;
		if (key.kind == IOGUARD_DMA_FAULT_READ)
			e->flags |= IOGUARD_EV_FAULT_READ;
	}
	e->flags |= IOGUARD_EV_HAS_IOVA;
	event_ret(e, key.reason);
	if (id & FRCD_PASID_PRESENT) {
		e->pasid = FRCD_PASID(hi);
		e->flags |= IOGUARD_EV_HAS_PASID;
	}
	/* The group is resolved by the reader, which applies --group itself. */
	if (emit_events && !(emit_ops && !(emit_ops & (1U << IOGUARD_OP_DMA_FAULT)))) {
		e->cpu = bpf_get_smp_processor_id();
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), w->iommu_name);
		if (bpf_ringbuf_output(&events, e, sizeof(*e),
				       events_wakeup_flags(&events, sizeof(*e))))
			__sync_fetch_and_add(&lost[IOGUARD_LOST_RINGBUF_FULL], 1);
	}

	w->index = w->index + 1 >= w->count ? 0 : w->index + 1;
	return 0;
}

SEC("fentry/dmar_fault")
int BPF_PROG(dmar_fault_enter, int irq, void *dev_id)
{
	struct intel_iommu___ioguard *iommu = dev_id;
	struct fault_walk w = {};
	const void *reg;
	__u32 status;
	__u64 cap;

	reg = BPF_CORE_READ(iommu, reg);
	if (!reg)
		return 0;
	status = mmio_read32(reg + DMAR_FSTS_REG);
	if (!(status & DMA_FSTS_PPF))
		return 0;
	cap = BPF_CORE_READ(iommu, cap);
	w.records = reg + CAP_FAULT_REG_OFFSET(cap);
	w.count = CAP_NUM_FAULT_REGS(cap);
	w.index = DMA_FSTS_FRI(status);
	if (w.index >= w.count)
		w.index = 0;
	w.segment = BPF_CORE_READ(iommu, segment);
	w.iommu_name = (const unsigned char *)__builtin_preserve_access_index(&iommu->name);
	bpf_loop(w.count, dma_fault_record, &w, 0);
	return 0;
}

/* --- IOTLB and device-TLB invalidations (Intel VT-d queued invalidation) ----------------- */

/*
 * The driver flushes that name a domain, on this CPU, innermost last: a flush can be
 * interrupted by another (the deferred-flush timer runs in softirq on whatever task was
 * running), and interrupts nest last in, first out, so the top of the stack is the flush
 * that submitted a descriptor. A flush spins on the queue and never sleeps, but on a
 * preemptible kernel its task can be switched out before it takes the queue's lock, and
 * move: so a scope is taken only by its own task (its address and start time), and only
 * if that task was not switched out since the scope was pushed (its context-switch count
 * is the same), as the starts of qi_submit_sync() are (inval_start). A scope left behind
 * by a task that moved is never taken; a push that finds the stack full empties it first
 * (not counted as lost: on a preemptible kernel that is ordinary, and only costs the
 * group of the descriptors of flushes in progress). A slot is claimed for no task while
 * it is written, so that a flush an interrupt runs meanwhile, which pushes and pops over
 * it, cannot leave it half its own. Per CPU rather than per task: it costs an array slot
 * instead of a task-storage get at each of the flush's fentry, fexit and descriptors.
 * Descriptors outside any scope have no group.
 */
#define FLUSH_SCOPE_DEPTH 4

struct flush_scopes {
	__u64 domain[FLUSH_SCOPE_DEPTH];
	__u64 task[FLUSH_SCOPE_DEPTH];		/* 0 while the slot is written */
	__u64 started[FLUSH_SCOPE_DEPTH];	/* the task's start_time: an address is reused */
	__u64 switches[FLUSH_SCOPE_DEPTH];
	__u32 cause[FLUSH_SCOPE_DEPTH];
	__u32 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flush_scopes);
} flush_scope SEC(".maps");

/* How often @task was switched out, voluntarily or not. */
static __always_inline __u64 task_switches(struct task_struct *task)
{
	return task->nvcsw + task->nivcsw;
}

/* The scope at the top of this CPU's stack, if the current task may take it. */
static __always_inline __s32 flush_scope_top(const struct flush_scopes *s,
					     struct task_struct *task)
{
	__u32 d;

	if (!s->depth || s->depth > FLUSH_SCOPE_DEPTH)
		return -1;
	d = (s->depth - 1) & (FLUSH_SCOPE_DEPTH - 1);
	if (s->task[d] != (__u64)task || s->started[d] != task->start_time ||
	    s->switches[d] != task_switches(task))
		return -1;
	return d;
}

/*
 * Starts of the qi_submit_sync() calls in flight on this CPU, innermost last. The call
 * never sleeps, and it spins with interrupts off except before its queue lock, after it,
 * and while it waits for free slots or restarts after a time-out; another call nests in
 * it only through an interrupt in those moments (and returns first), and on a
 * preemptible kernel the task may be switched out there and change CPU. So a start is
 * taken only if the task has not been switched out since it was written (its context
 * switch count is the same): starts on this CPU that pass are strictly nested, and a
 * start left behind by a task that moved is never taken, by any task. A call whose start
 * is not found (switched out, or its fentry skipped) has no latency, as a map whose
 * fentry was skipped has none: its descriptors are still counted, and the latency
 * histogram's count falls short of the submissions. Only starts dropped for room (a full
 * stack is emptied) count in lost[IOGUARD_LOST_CALL_TABLE_FULL]: an alert on every
 * preempted submission would be noise.
 *
 * A start is marked busy before the depth that claims it is raised and free once it is
 * written: the tracepoint program of a call nested in an interrupt that arrived while
 * this fentry program ran (its own fentry was skipped) leaves a busy start alone. An exit
 * reads its start before lowering the depth.
 */
#define INVAL_START_DEPTH 4

enum inval_start_key {
	INVAL_KEY_NONE,		/* written; the tracepoint program may set the key */
	INVAL_KEY_BUSY,		/* being written by the fentry program */
	INVAL_KEY_SET,
};

struct inval_starts {
	__u64 desc[INVAL_START_DEPTH];
	__u64 task[INVAL_START_DEPTH];
	__u64 switches[INVAL_START_DEPTH];
	__u64 ns[INVAL_START_DEPTH];
	/* The key of the call's first descriptor, from tp_qi_submit (has_key INVAL_KEY_SET). */
	struct ioguard_inval_key key[INVAL_START_DEPTH];
	__u8 has_key[INVAL_START_DEPTH];
	__u32 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inval_starts);
} inval_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct ioguard_inval_key);
	__type(value, struct ioguard_inval);
} invals SEC(".maps");

static const struct ioguard_inval zero_inval;

static __always_inline int flush_enter(struct iommu_domain *domain, __u32 cause)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct flush_scopes *s;
	__u32 zero = 0, d;

	s = bpf_map_lookup_elem(&flush_scope, &zero);
	if (!s)
		return 0;
	d = s->depth;
	if (d >= FLUSH_SCOPE_DEPTH)
		d = 0;
	d &= FLUSH_SCOPE_DEPTH - 1;
	s->task[d] = 0;
	barrier();
	s->depth = d + 1;
	barrier();
	s->domain[d] = (__u64)domain;
	s->cause[d] = cause;
	s->started[d] = task->start_time;
	s->switches[d] = task_switches(task);
	barrier();
	s->task[d] = (__u64)task;
	return 0;
}

/*
 * Pops the scope of @domain, if it is this task's and at the top. A flush whose fentry
 * program did not run (the trampoline skips a program that is already running on this
 * CPU) pushed nothing, and a task that moved pops on another CPU: only a top that names
 * @domain and this task is popped, so the stack never loses another flush's scope.
 */
static __always_inline int flush_exit(struct iommu_domain *domain)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct flush_scopes *s;
	__u32 zero = 0, d;

	s = bpf_map_lookup_elem(&flush_scope, &zero);
	if (!s || !s->depth || s->depth > FLUSH_SCOPE_DEPTH)
		return 0;
	d = (s->depth - 1) & (FLUSH_SCOPE_DEPTH - 1);
	if (s->domain[d] == (__u64)domain && s->task[d] == (__u64)task)
		s->depth = d;
	return 0;
}

/*
 * The key of a descriptor of VT-d type @type: its group (through domain_group slot
 * @which) and cause from the innermost flush on this CPU, if this task may take it
 * (flush_scope_top()). Only address-translation kinds come from those flushes; any
 * other kind seen inside one was submitted by an interrupt and has no group.
 */
static __always_inline void inval_key(struct ioguard_inval_key *key, __u64 type, __u32 which)
{
	struct flush_scopes *s;
	__u32 zero = 0;
	__u64 domain;
	__s32 d;

	key->group = IOGUARD_GROUP_UNKNOWN;
	key->cause = IOGUARD_INVAL_CAUSE_NONE;
	key->kind = type < IOGUARD_INVAL_KIND_COUNT ? type : IOGUARD_INVAL_OTHER;
	if (key->kind != IOGUARD_INVAL_IOTLB && key->kind != IOGUARD_INVAL_DEV_TLB &&
	    key->kind != IOGUARD_INVAL_PASID_IOTLB && key->kind != IOGUARD_INVAL_PASID_DEV_TLB)
		return;
	s = bpf_map_lookup_elem(&flush_scope, &zero);
	if (!s)
		return;
	d = flush_scope_top(s, bpf_get_current_task_btf());
	if (d < 0)
		return;
	d &= FLUSH_SCOPE_DEPTH - 1;
	key->cause = s->cause[d];
	domain = s->domain[d];
	domain_group_of(domain, which, &key->group);
}

static __always_inline struct ioguard_inval *inval_entry(const struct ioguard_inval_key *key)
{
	struct ioguard_inval *v = bpf_map_lookup_elem(&invals, key);

	if (v)
		return v;
	bpf_map_update_elem(&invals, key, &zero_inval, BPF_NOEXIST);
	return bpf_map_lookup_elem(&invals, key);
}

/*
 * The Intel driver's flushes that take a domain: iotlb_sync (after unmaps),
 * iotlb_sync_map (after maps, in caching mode) and flush_iotlb_all. Static functions
 * reached through the domain's ops, present in the BTF of v6.1 and v6.12; the loader
 * skips them where they are not. Only argument 0 is named: iotlb_sync_map returns int
 * from v6.8 (void before), and its return value is not read.
 */
SEC("fentry/intel_iommu_tlb_sync")
int BPF_PROG(intel_tlb_sync_enter, struct iommu_domain *domain)
{
	return flush_enter(domain, IOGUARD_INVAL_CAUSE_UNMAP);
}

SEC("fexit/intel_iommu_tlb_sync")
int BPF_PROG(intel_tlb_sync_exit, struct iommu_domain *domain)
{
	return flush_exit(domain);
}

SEC("fentry/intel_iommu_iotlb_sync_map")
int BPF_PROG(intel_sync_map_enter, struct iommu_domain *domain)
{
	return flush_enter(domain, IOGUARD_INVAL_CAUSE_MAP);
}

SEC("fexit/intel_iommu_iotlb_sync_map")
int BPF_PROG(intel_sync_map_exit, struct iommu_domain *domain)
{
	return flush_exit(domain);
}

SEC("fentry/intel_flush_iotlb_all")
int BPF_PROG(intel_flush_all_enter, struct iommu_domain *domain)
{
	return flush_enter(domain, IOGUARD_INVAL_CAUSE_FLUSH_ALL);
}

SEC("fexit/intel_flush_iotlb_all")
int BPF_PROG(intel_flush_all_exit, struct iommu_domain *domain)
{
	return flush_exit(domain);
}

/*
 * One descriptor handed to the invalidation queue (every type but the wait descriptor
 * qi_submit_sync() appends itself). The tracepoint serves both modes.
 */
SEC("tp_btf/qi_submit")
int BPF_PROG(tp_qi_submit, void *iommu, __u64 qw0)
{
	struct ioguard_inval_key key;
	struct inval_starts *starts;
	struct ioguard_inval *v;
	__u32 zero = 0, top;

	if (!traced())
		return 0;
	inval_key(&key, qw0 & 0xf, DOMAIN_GROUP_SLOT_QI_SUBMIT);
	v = inval_entry(&key);
	if (v)
		__sync_fetch_and_add(&v->descriptors, 1);
	/*
	 * The tracepoint fires inside qi_submit_sync() with interrupts off, so the innermost
	 * start of this task on this CPU is that call's, or busy (inval_start): its first
	 * descriptor's key, for its latency at the fexit.
	 */
	starts = bpf_map_lookup_elem(&inval_start, &zero);
	if (!starts || !starts->depth || starts->depth > INVAL_START_DEPTH)
		return 0;
	top = (starts->depth - 1) & (INVAL_START_DEPTH - 1);
	if (starts->has_key[top] == INVAL_KEY_NONE &&
	    starts->task[top] == (__u64)bpf_get_current_task_btf()) {
		starts->key[top] = key;
		starts->has_key[top] = INVAL_KEY_SET;
	}
	return 0;
}

/* qi_submit_sync(iommu, desc, count, options): the time to submit and see completed. */
SEC("fentry/qi_submit_sync")
int BPF_PROG(qi_submit_sync_enter, void *iommu, struct qi_desc___ioguard *desc)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inval_starts *starts;
	__u32 zero = 0, d;

	if (!traced())
		return 0;
	starts = bpf_map_lookup_elem(&inval_start, &zero);
	if (!starts)
		return 0;
	d = starts->depth;
	if (d >= INVAL_START_DEPTH) {
		__sync_fetch_and_add(&lost[IOGUARD_LOST_CALL_TABLE_FULL], INVAL_START_DEPTH);
		d = 0;
	}
	d &= INVAL_START_DEPTH - 1;
	starts->has_key[d] = INVAL_KEY_BUSY;
	barrier();
	starts->depth = d + 1;
	barrier();
	starts->desc[d] = (__u64)desc;
	starts->task[d] = (__u64)task;
	starts->switches[d] = task_switches(task);
	starts->ns[d] = bpf_ktime_get_ns();
	barrier();
	starts->has_key[d] = INVAL_KEY_NONE;
	return 0;
}

SEC("fexit/qi_submit_sync")
int BPF_PROG(qi_submit_sync_exit, void *iommu, struct qi_desc___ioguard *desc,
	     unsigned int count)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ioguard_inval_key ikey = {};
	struct inval_starts *starts;
	__u32 zero = 0, d, i, at;
	bool found = false, has_key = false;
	struct ioguard_inval *v;
	struct ioguard_hist *h;
	__u64 start = 0, latency;

	if (!traced())
		return 0;
	starts = bpf_map_lookup_elem(&inval_start, &zero);
	if (!starts)
		return 0;
	d = starts->depth;
	for (i = 0; i < INVAL_START_DEPTH && i < d; i++) {
		at = (d - 1 - i) & (INVAL_START_DEPTH - 1);	/* innermost first */
		if (starts->desc[at] != (__u64)desc || starts->task[at] != (__u64)task)
			continue;
		found = starts->switches[at] == task_switches(task);
		start = starts->ns[at];
		has_key = starts->has_key[at] == INVAL_KEY_SET;
		if (has_key)
			ikey = starts->key[at];
		barrier();
		starts->depth = d - 1 - i;
		break;
	}
	/* A call without descriptors only waits; the kernel's own latency ignores it too. */
	if (!count || !desc)
		return 0;
	if (!found)
		return 0;
	latency = bpf_ktime_get_ns() - start;
	/* A kernel without the tracepoint, or a call the tracepoint program missed. */
	if (!has_key)
		inval_key(&ikey, BPF_CORE_READ(desc, qw0) & 0xf, DOMAIN_GROUP_SLOT_QI_SUBMIT_SYNC);
	v = inval_entry(&ikey);
	if (!v)
		return 0;
	h = &v->latency;
	__sync_fetch_and_add(&h->slots[ioguard_hist_slot(latency)], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, latency);
	return 0;
}
