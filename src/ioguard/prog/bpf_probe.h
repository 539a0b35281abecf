/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Live probes of what this kernel lets BPF do, by loading and attaching the empty
 * programs of bpf/probe.bpf.c and detaching them at once.
 */
#ifndef IOGUARD_BPF_PROBE_H
#define IOGUARD_BPF_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "output/errbuf.h"

/*
 * bpf_probe_fentry() - load and attach an fentry program on security_file_ioctl.
 * Return: 0 when both worked, or the negative errno of the step that failed, with that
 * step and libbpf's reason in @eb ("attach: Operation not supported").
 */
int bpf_probe_fentry(struct errbuf *eb);

/*
 * bpf_probe_lsm() - load and attach a BPF LSM program on file_ioctl (it allows
 * everything). Return: as bpf_probe_fentry().
 */
int bpf_probe_lsm(struct errbuf *eb);

/*
 * bpf_probe_environment() - what every loader of BPF programs needs before it starts:
 * the kernel's BTF file (CO-RE) and root. Return: 0, -ENOENT or -EPERM with why in @eb.
 */
int bpf_probe_environment(struct errbuf *eb);

/*
 * bpf_probe_trace() - open ioguard's tracer as `ioguard trace` would (auto mode, no
 * events) and close it again: whether ioguard's own trace programs load here, which is
 * more than whether the kernel attaches fentry at all (a verifier may refuse them).
 * Return: 0 with *@fentry set and the tracer's one-line description in @desc, or the
 * negative errno of bpf_probe_environment() or of the tracer, with its message in @desc.
 * Prints nothing.
 */
int bpf_probe_trace(bool *fentry, char *desc, size_t len);

#endif /* IOGUARD_BPF_PROBE_H */
