// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpf_probe.h"
#include "ioguard.h"
#include "probe.skel.h"
#include "tracer.h"

/* A probe's failure is its answer: libbpf's own messages would only repeat it. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Loads only @prog's program of the probe object and attaches it; detaches on return. */
static int probe_one(bool fentry, char *err, size_t len)
{
	libbpf_print_fn_t old_print = libbpf_set_print(quiet);
	struct bpf_program *keep, *drop;
	struct probe_bpf *skel;
	struct bpf_link *link;
	int ret;

	skel = probe_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, len, "open: %s", strerror(-ret));
		goto out_print;
	}
	keep = fentry ? skel->progs.probe_fentry : skel->progs.probe_lsm;
	drop = fentry ? skel->progs.probe_lsm : skel->progs.probe_fentry;
	bpf_program__set_autoload(drop, false);
	ret = probe_bpf__load(skel);
	if (ret) {
		snprintf(err, len, "load: %s", strerror(-ret));
		goto out_destroy;
	}
	link = bpf_program__attach(keep);
	if (!link) {
		ret = -errno;
		snprintf(err, len, "attach: %s", strerror(-ret));
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

int bpf_probe_fentry(char *err, size_t len)
{
	return probe_one(true, err, len);
}

int bpf_probe_lsm(char *err, size_t len)
{
	return probe_one(false, err, len);
}

struct last_message {
	char *buf;
	size_t len;
};

/* The tracer reports through p_err(); its last word is the reason it failed. */
static void keep_last(void *ctx, enum errbuf_level level, const char *msg)
{
	struct last_message *m = ctx;

	snprintf(m->buf, m->len, "%s", msg);
}

int bpf_probe_trace(bool *fentry, char *desc, size_t len)
{
	struct tracer_opts opts = {
		.sz = sizeof(opts),
		.mode = TRACER_MODE_AUTO,
		.no_events = true,
	};
	struct last_message m = { desc, len };
	struct tracer *t;
	int ret;

	desc[0] = '\0';
	*fentry = false;
	p_set_sink(keep_last, &m);
	ret = tracer__open(&opts, &t);
	p_set_sink(NULL, NULL);
	if (ret)
		return ret;
	*fentry = tracer__mode(t) == TRACER_MODE_FENTRY;
	tracer__describe(t, desc, len);
	tracer__free(t);
	return 0;
}
