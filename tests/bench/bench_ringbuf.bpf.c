// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Producer of tests/bench/bench_ringbuf.c: a stand-in for trace.bpf.c's map path that
 * user space can drive at a chosen rate. Each @trigger_nr system call made by
 * @target_tgid emits @batch struct ioguard_event records, a map/unmap stream as a VMM
 * mapping guest memory page by page would make, into a ring buffer of trace.bpf.c's size
 * (the loader copies its max_entries), with bpf_ringbuf_output() and the lost[] counting
 * of trace.bpf.c.
 *
 * Invariant, once the triggering calls have returned:
 *   produced == records committed to the ring + lost[IOGUARD_LOST_RINGBUF_FULL]
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ioguard/trace.h"
#include "ioguard/metrics.h"
#include "events_wakeup.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Larger batches would be lost whole whatever the consumer: the ring holds ~8 k records. */
#define BENCH_MAX_BATCH 4096
#define BENCH_PAGE 4096ULL
#define BENCH_IOVA_BASE (1ULL << 32)
#define BENCH_DOMAINS 4
/* Where a kernel iommu_domain could live; the consumer only ever shows it as an id. */
#define BENCH_DOMAIN_BASE 0xffff888104a3c000ULL
#define BENCH_FIRST_GROUP 7

const volatile __u32 target_tgid = 0;
const volatile long trigger_nr = -1;

/* Records per triggering call. Not const: user space changes it between steps. */
__u32 batch = 1;

/* Records made, whether the ring took them or not; only ever grows. */
__u64 produced = 0;
/* Indexed by enum ioguard_lost_reason, as in trace.bpf.c. */
__u64 lost[IOGUARD_LOST_REASON_COUNT] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* replaced by trace.bpf.c's before load */
} events SEC(".maps");

struct emit_ctx {
	struct ioguard_event e;	/* fields common to the batch */
	__u64 first_seq;
};

/* Record @i of the batch: page (seq / 2) of a domain, mapped (even seq) then unmapped. */
static long emit_one(__u32 i, void *data)
{
	struct emit_ctx *c = data;
	struct ioguard_event *e = &c->e;
	__u64 seq = c->first_seq + i;
	__u64 page = seq >> 1;
	__u32 dom = (page >> 10) % BENCH_DOMAINS;

	e->ts_ns = bpf_ktime_get_ns();
	e->latency_ns = 250 + (seq * 7919) % 4000;
	e->domain = BENCH_DOMAIN_BASE + dom * 0x1000;
	e->group = BENCH_FIRST_GROUP + dom;
	e->iova = BENCH_IOVA_BASE + page * BENCH_PAGE;
	e->size = BENCH_PAGE;
	if (seq & 1) {
		e->op = IOGUARD_OP_UNMAP;
		e->ret = BENCH_PAGE;
	} else {
		e->op = IOGUARD_OP_MAP;
		e->ret = 0;
	}
	if (bpf_ringbuf_output(&events, e, sizeof(*e), events_wakeup_flags(&events, sizeof(*e))))
		__sync_fetch_and_add(&lost[IOGUARD_LOST_RINGBUF_FULL], 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct emit_ctx c;
	__u32 n = batch;
	long done;

	if (id != trigger_nr || (pid_tgid >> 32) != target_tgid)
		return 0;
	if (n > BENCH_MAX_BATCH)
		n = BENCH_MAX_BATCH;
	__builtin_memset(&c, 0, sizeof(c));
	c.e.pid = pid_tgid >> 32;
	c.e.tid = (__u32)pid_tgid;
	c.e.cpu = bpf_get_smp_processor_id();
	c.e.flags = IOGUARD_EV_HAS_LATENCY | IOGUARD_EV_HAS_RET | IOGUARD_EV_HAS_DOMAIN |
		    IOGUARD_EV_HAS_GROUP | IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE;
	bpf_get_current_comm(c.e.comm, sizeof(c.e.comm));
	/* One producer thread: the plain read gives distinct sequence numbers. */
	c.first_seq = produced;
	done = bpf_loop(n, emit_one, &c, 0);
	if (done > 0)
		__sync_fetch_and_add(&produced, done);
	return 0;
}
