/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tracer: bpf/trace.bpf.c loaded and attached in the best mode this kernel allows.
 */
#ifndef IOGUARD_TRACER_H
#define IOGUARD_TRACER_H

#include <stdbool.h>
#include <stdint.h>

enum tracer_mode {
	TRACER_MODE_AUTO = 0,	/* fentry/fexit, else tracepoints */
	TRACER_MODE_FENTRY,	/* fentry/fexit on iommu_* functions */
	TRACER_MODE_TP_BTF,	/* iommu:* tracepoints */
};

struct tracer_opts {
	size_t sz;		/* sizeof(struct tracer_opts) */
	enum tracer_mode mode;
	uint32_t target_tgid;	/* 0: every process */
	bool verbose;		/* libbpf's messages, also while probing */
};

struct tracer;

/*
 * tracer__open() - load and attach the trace programs.
 * In TRACER_MODE_AUTO, fentry/fexit is tried first; if the kernel refuses it, the
 * tracepoint set is loaded instead. Hooks whose target this kernel lacks are skipped and
 * listed by tracer__describe(). Returns 0 and sets *out, or a negative errno after
 * printing why.
 */
int tracer__open(const struct tracer_opts *opts, struct tracer **out);
void tracer__free(struct tracer *t);

enum tracer_mode tracer__mode(const struct tracer *t);
const char *tracer__mode_name(enum tracer_mode mode);
int tracer__events_fd(const struct tracer *t);
uint64_t tracer__events_lost(const struct tracer *t);
unsigned int tracer__hooks_attached(const struct tracer *t);

/* One human-readable line: mode, hooks attached and skipped, what is unavailable. */
void tracer__describe(const struct tracer *t, char *buf, size_t len);

#endif /* IOGUARD_TRACER_H */
