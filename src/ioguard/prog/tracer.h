/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tracer: bpf/trace.bpf.c loaded and attached in the best mode this kernel allows.
 */
#ifndef IOGUARD_TRACER_H
#define IOGUARD_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "output/errbuf.h"
#include "ioguard/metrics.h"

enum tracer_mode {
	TRACER_MODE_AUTO = 0,	/* fentry/fexit, else tracepoints */
	TRACER_MODE_FENTRY,	/* fentry/fexit on iommu_* functions */
	TRACER_MODE_TP_BTF,	/* iommu:* tracepoints */
};

/*
 * struct tracer_opts - what to trace and what to stream. Zero means the default.
 * Every operation of a traced process is counted in the aggregates (hists, calls,
 * faults); @no_events and the stream filters only choose which records reach the ring
 * buffer, in the kernel, before they cost a copy.
 * @sz:           sizeof(struct tracer_opts)
 * @target_tgid:  0 traces every process; otherwise only this one (aggregates too)
 * @no_events:    aggregates only, nothing on the ring buffer (ioguard metrics)
 * @stream_ops:   bit (1 << enum ioguard_op) per op streamed; 0 streams every op
 * @stream_group: stream only operations of IOMMU group @group, when set
 * @sample_every: stream 1 of every N map, map_sg, unmap and unmap_fast records (per
 *                CPU); 0 or 1 streams all. The aggregates stay exact.
 */
struct tracer_opts {
	size_t sz;
	enum tracer_mode mode;
	uint32_t target_tgid;
	bool verbose;		/* libbpf's messages, also while probing */
	bool no_events;
	uint32_t stream_ops;
	bool stream_group;
	int32_t group;
	uint32_t sample_every;
};

struct tracer;

struct bpf_program;

/*
 * The loader's choice of programs, shared with the test that relocates them against other
 * kernels' BTF (tests/unit/test_bpf_compat.c). tracer_program_wanted(): @prog is loaded in
 * @mode when its target exists. tracer_program_target(): the name of that target in the
 * kernel's BTF (vmlinux or a module's) into @name, and its BTF kind: BTF_KIND_FUNC for
 * fentry/fexit, BTF_KIND_TYPEDEF (btf_trace_X) for tp_btf.
 */
bool tracer_program_wanted(const struct bpf_program *prog, enum tracer_mode mode);
/*
 * tracer_program_is_invalidation() - @prog is on the invalidation path (the qi_submit
 * tracepoint or a hook of the Intel driver's flushes). Its fentry/fexit hooks are
 * optional: refused, they are left out and fentry mode is kept for the others.
 */
bool tracer_program_is_invalidation(const struct bpf_program *prog);
__u32 tracer_program_target(const struct bpf_program *prog, char *name, size_t len);

/*
 * tracer__open() - load and attach the trace programs.
 * In TRACER_MODE_AUTO, fentry/fexit is tried first; if the kernel refuses it, the
 * tracepoint set is loaded instead. Hooks whose target this kernel lacks are skipped and
 * listed by tracer__describe(). Checks nothing of the environment (BTF file, root): the
 * commands do that first, with bpf_environment_check(). Returns 0 and sets *@out, or a
 * negative errno with why in @eb.
 */
int tracer__open(const struct tracer_opts *opts, struct tracer **out, struct errbuf *eb);
void tracer__free(struct tracer *t);

enum tracer_mode tracer__mode(const struct tracer *t);
const char *tracer__mode_name(enum tracer_mode mode);
int tracer__events_fd(const struct tracer *t);

/* One human-readable line: mode, hooks attached and skipped, what is unavailable. */
void tracer__describe(const struct tracer *t, char *buf, size_t len);
/*
 * How VT-d DMA-remapping faults are traced (IOGUARD_OP_DMA_FAULT): the hook, or why
 * they are not. tracer__dma_fault_attached(): whether the fault hook is loaded.
 */
const char *tracer__dma_fault_mode(const struct tracer *t);
bool tracer__dma_fault_attached(const struct tracer *t);

/*
 * struct tracer_maps - the aggregation maps of a loaded tracer (include/ioguard/metrics.h):
 * per-CPU hashes of struct ioguard_agg keyed by struct ioguard_agg_key, and of fault
 * counts keyed by struct ioguard_fault_key and struct ioguard_dma_fault_key. The fds
 * belong to the tracer; do not close them. An fd < 0 is a map the collector skips.
 */
struct tracer_maps {
	int aggs_fd;
	int faults_fd;
	int dma_faults_fd;	/* struct ioguard_dma_fault_key -> __u64 */
	int invals_fd;		/* struct ioguard_inval by struct ioguard_inval_key */
};

void tracer__maps(const struct tracer *t, struct tracer_maps *maps);
/* Events lost so far, by enum ioguard_lost_reason (the programs' lost[] counters). */
void tracer__lost(const struct tracer *t, __u64 lost[IOGUARD_LOST_REASON_COUNT]);

/* One loaded program: its libbpf name and fd (owned by the tracer). */
struct tracer_prog {
	const char *name;
	int fd;
};

/*
 * tracer__programs() - the programs loaded in this mode, up to @max of them into @out.
 * Return: how many are loaded (may exceed @max).
 */
size_t tracer__programs(const struct tracer *t, struct tracer_prog *out, size_t max);

#endif /* IOGUARD_TRACER_H */
