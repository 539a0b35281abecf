/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What this host offers ioguard, as a list of checks with a verdict, the kernel fact it
 * rests on and the fix (`ioguard doctor`, docs/doctor.md).
 *
 * Facts are read under a root prefix (/proc, /sys, /boot, /dev, /etc, /lib/modules), so
 * unit tests point it at a fake tree; the live probes (loading BPF programs) are
 * functions the caller passes in, or leaves out.
 */
#ifndef IOGUARD_HOST_CHECK_H
#define IOGUARD_HOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "output/errbuf.h"

/*
 * Verdicts, in rising order of gravity. FAIL means enforcement cannot run, or would
 * guard an isolation the kernel does not provide; nothing else does.
 */
enum host_status {
	HOST_OK = 0,
	HOST_INFO,	/* a fact worth knowing; nothing to fix */
	HOST_WARN,	/* works, but less, or less safely, than it could */
	HOST_FAIL,
	HOST_STATUS_COUNT,
};

const char *host_status__str(enum host_status status);

/*
 * struct host_check - one verdict.
 * @area:   "kernel", "mounts", "iommu", "isolation" or "feature"
 * @name:   stable identifier ("bpf_lsm", "module_btf.vfio", "feature.enforce")
 * @reason: the fact and the file it was read from ("bpf is not in
 *          /sys/kernel/security/lsm (lockdown,capability,...)")
 * @fix:    what to do, for this host's distribution; empty when nothing is to be done
 */
struct host_check {
	const char *area;
	char name[40];
	enum host_status status;
	char reason[640];
	char fix[512];
};

/*
 * A live probe: returns 0 when the kernel did it, or a negative errno with the failed
 * step and why in @eb (bpf_probe.h).
 */
typedef int (*host_probe_fn)(struct errbuf *eb);

/*
 * A probe of ioguard's own trace programs: 0 with *@fentry and a description, or a
 * negative errno with the reason, in @desc (bpf_probe_trace()).
 */
typedef int (*host_trace_probe_fn)(bool *fentry, char *desc, size_t len);

/*
 * struct host_check_opts - where to look and what to try. Zero means the default.
 * @sz:           sizeof(struct host_check_opts)
 * @root:         prefix of every path read; NULL or "" is the live system
 * @probe_fentry: loads and attaches an fentry program; NULL: not probed
 * @probe_lsm:    loads and attaches a BPF LSM program; NULL: not probed. Run only
 *                where the BPF LSM is in the active list.
 * @probe_trace:  opens ioguard's tracer and closes it; NULL: trace and metrics are
 *                judged from the fentry probe alone
 * @pin_dir:      where the enforcer pins (its parent must be bpffs); NULL:
 *                /sys/fs/bpf/ioguard
 * @unprivileged: the probes run without root: their EPERM is the caller's, not the
 *                kernel's refusal
 */
struct host_check_opts {
	size_t sz;
	const char *root;
	host_probe_fn probe_fentry;
	host_probe_fn probe_lsm;
	host_trace_probe_fn probe_trace;
	const char *pin_dir;
	bool unprivileged;
};

struct host_report {
	char kernel_release[128];	/* proc/sys/kernel/osrelease */
	char distribution[128];		/* PRETTY_NAME of etc/os-release, or "unknown" */
	struct host_check *checks;
	size_t n_checks;
	size_t counts[HOST_STATUS_COUNT];
};

/*
 * host_check_run() - read the facts under @opts->root, run the probes and judge.
 * Return: 0 and *@out (free with host_report__free()), or -ENOMEM. A file that cannot be
 * read is a verdict, not an error.
 */
int host_check_run(const struct host_check_opts *opts, struct host_report **out);

void host_report__free(struct host_report *r);

/* The check named @name, or NULL. */
const struct host_check *host_report__find(const struct host_report *r, const char *name);

/* No check failed: enforcement can load and the isolation it relies on holds. */
bool host_report__enforcement_ok(const struct host_report *r);

#endif /* IOGUARD_HOST_CHECK_H */
