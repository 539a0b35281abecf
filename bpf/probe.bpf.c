// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Empty programs for `ioguard doctor`: whether this kernel loads and attaches an fentry
 * program and a BPF LSM program at all, asked by doing it (src/ioguard/prog/bpf_probe.c).
 * Both attach to security_file_ioctl's path, which every ioctl on a VFIO or iommufd file
 * takes and every kernel ioguard supports has; both do nothing and return 0 (allow), so
 * the moment they are attached changes no decision.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("fentry/security_file_ioctl")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("lsm/file_ioctl")
int BPF_PROG(probe_lsm, struct file *file, unsigned int cmd, unsigned long arg)
{
	return 0;
}
