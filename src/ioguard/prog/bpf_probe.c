// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_probe.h"
#include "probe.skel.h"
#include "tracer.h"

/* A probe's failure is its answer: libbpf's own messages would only repeat it. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Loads only @prog's program of the probe object and attaches it; detaches on return. */
static int probe_one(bool fentry, struct errbuf *eb)
{
	libbpf_print_fn_t old_print = libbpf_set_print(quiet);
	struct bpf_program *keep, *drop;
	struct probe_bpf *skel;
	struct bpf_link *link;
	int ret;

	skel = probe_bpf__open();
	if (!skel) {
		ret = errbuf_set(eb, -errno, "open: %s", strerror(errno));
		goto out_print;
	}
	keep = fentry ? skel->progs.probe_fentry : skel->progs.probe_lsm;
	drop = fentry ? skel->progs.probe_lsm : skel->progs.probe_fentry;
	bpf_program__set_autoload(drop, false);
	ret = probe_bpf__load(skel);
	if (ret) {
		errbuf_set(eb, ret, "load: %s", strerror(-ret));
		goto out_destroy;
	}
	link = bpf_program__attach(keep);
	if (!link) {
		ret = errbuf_set(eb, -errno, "attach: %s", strerror(errno));
		goto out_destroy;
	}
	bpf_link__destroy(link);
	ret = 0;
out_destroy:
	probe_bpf__destroy(skel);
out_print:
	libbpf_set_print(old_print);
	return ret;
}

int bpf_probe_fentry(struct errbuf *eb)
{
	return probe_one(true, eb);
}

int bpf_probe_lsm(struct errbuf *eb)
{
	return probe_one(false, eb);
}

#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"

int bpf_probe_environment(struct errbuf *eb)
{
	if (access(KERNEL_BTF_PATH, R_OK))
		return errbuf_set(eb, -ENOENT, "kernel BTF not found at %s: this kernel was built "
				  "without CONFIG_DEBUG_INFO_BTF=y, which ioguard needs for CO-RE",
				  KERNEL_BTF_PATH);
	if (geteuid() != 0)
		return errbuf_set(eb, -EPERM, "loading BPF programs needs root (CAP_BPF, "
				  "CAP_PERFMON and CAP_SYS_ADMIN): run ioguard as root");
	return 0;
}

int bpf_probe_trace(bool *fentry, char *desc, size_t len)
{
	struct tracer_opts opts = {
		.sz = sizeof(opts),
		.mode = TRACER_MODE_AUTO,
		.no_events = true,
	};
	struct errbuf eb = { .note = NULL };
	struct tracer *t;
	int ret;

	desc[0] = '\0';
	*fentry = false;
	ret = bpf_probe_environment(&eb);
	if (!ret)
		ret = tracer__open(&opts, &t, &eb);
	if (ret) {
		snprintf(desc, len, "%s", eb.msg);
		return ret;
	}
	*fentry = tracer__mode(t) == TRACER_MODE_FENTRY;
	tracer__describe(t, desc, len);
	tracer__free(t);
	return 0;
}
