/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The enforcer: bpf/enforce.bpf.c loaded, attached and pinned under a bpffs directory
 * (pins.h: /sys/fs/bpf/ioguard, or $IOGUARD_PIN_DIR) so that enforcement outlives the loader,
 * and the policy swap that replaces what it enforces in one step.
 */
#ifndef IOGUARD_ENFORCER_H
#define IOGUARD_ENFORCER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "output/errbuf.h"
#include "ioguard/enforce.h"
#include "compiled_policy.h"

#define ENFORCER_MAX_LINKS 24

/*
 * enforcer_probe() - can enforcement work on this kernel? Checks bpffs, that the BPF
 * LSM is in the active LSM list, and that kernel addresses are readable. Returns 0 or
 * a negative errno with the reason and the fix in @eb.
 */
int enforcer_probe(struct errbuf *eb);

struct bpf_program;

/*
 * The kernel function @prog attaches to and without which the loader does not load it
 * (fentry/fexit targets, bpf_lsm_file_ioctl_compat), or NULL for a program every kernel
 * with the BPF LSM has a hook for. Shared with tests/unit/test_bpf_compat.c.
 */
const char *enforcer_program_target(const struct bpf_program *prog);

/*
 * enforcer_check_kallsyms() - the checks enforcer_load() makes on /proc/kallsyms before
 * it loads anything, run on @kallsyms (a file in kallsyms' format; unit tests feed a
 * fake kernel through it). Returns 0 when a load could go on, or a negative errno with
 * a one-line reason in @eb: -EPERM when the ioctl handlers' addresses are hidden,
 * -EOPNOTSUPP when the kernel has compat syscalls but no file_ioctl_compat LSM hook.
 */
int enforcer_check_kallsyms(const char *kallsyms, struct errbuf *eb);

/*
 * enforcer_load() - make @cp the policy in force. With programs already pinned, writes
 * the inactive generation and flips to it in one map update (*swapped = true);
 * otherwise loads, attaches and pins the programs with no policy active (everything
 * allowed, as before the load) and then makes @cp active. Until that last update the
 * previous state stays fully in force, whatever happens to the loader.
 * What the loader learned on a load that succeeds (files it cannot identify, a set it
 * replaced) goes to @eb as one ERRBUF_WARN note.
 */
int enforcer_load(const struct compiled_policy *cp, bool *swapped, struct errbuf *eb);

/* Removes every pin; the programs detach when nothing else holds them. */
int enforcer_unload(struct errbuf *eb);

struct enforcer_counter {
	struct ioguard_decision_key key;
	unsigned long long count;
};

/* What `ioguard status` shows. */
struct enforcer_status {
	bool pinned;				/* the pin directory exists */
	unsigned int n_links;
	char links[ENFORCER_MAX_LINKS][64];	/* attached programs, by name */
	char link_modes[ENFORCER_MAX_LINKS][32];	/* how: lsm_mac, trace_fexit, ... */
	__u32 prog_ids[ENFORCER_MAX_LINKS];	/* the kernel's id of each program */
	__u32 layout;				/* the pinned layout version; 0 unmarked */
	bool policy_active;
	const char *missing_hook;		/* a required LSM program with no link */
	unsigned int gen;
	struct ioguard_policy_slot slot;	/* the active slot, when policy_active */
	struct ioguard_kernel_info kernel;
	struct enforcer_counter *counters;
	size_t n_counters;
};

/*
 * enforcer_status() - read what is pinned. Nothing pinned (no pin directory) is a
 * status, not an error. Return: 0, or a negative errno with what could not be read in
 * @eb: the pin directory, or the `active` or `policies` map while pinned; a caller
 * must then not take the enforcement for absent, nor for in force.
 */
int enforcer_status(struct enforcer_status *st, struct errbuf *eb);

/*
 * enforcer_status_brief() - enforcer_status() without the decision counters (up to
 * thousands of per-CPU lookups): for what needs only whether and which policy is in
 * force, such as a readiness probe every few seconds.
 */
int enforcer_status_brief(struct enforcer_status *st, struct errbuf *eb);

/*
 * enforcer_missing_hook() - the first LSM program that every pinned enforcement attaches
 * (since the first pinned layout) and @st has no live link of, or NULL. A policy is in
 * force only with all of them: an unload or a load cut short, or a link pin removed by
 * hand, leaves a path into VFIO or iommufd unjudged.
 */
const char *enforcer_missing_hook(const struct enforcer_status *st);

/*
 * struct enforcer_in_force - the policy in force in the pinned enforcement: the one
 * definition that ioguard_enforcement_active, ioguard_enforcement_policy_info and the
 * daemon's /readyz share.
 * @active: pinned, attached and a policy slot loaded; the fields below are "" or zero
 *          otherwise
 * @name:   the policy's name
 * @hash:   the SHA-256 of its file
 * @sha256: @hash in lowercase hex
 * @mode:   its enum ioguard_mode as pinned; anything but IOGUARD_MODE_AUDIT enforces
 */
struct enforcer_in_force {
	bool active;
	char name[IOGUARD_NAME_LEN + 1];
	__u8 hash[IOGUARD_SHA256_LEN];
	char sha256[2 * IOGUARD_SHA256_LEN + 1];
	__u32 mode;
};

void enforcer_status__in_force(const struct enforcer_status *st, struct enforcer_in_force *f);

/*
 * enforcer_counter_tenant() - the tenant a counter's decisions were about: its name in
 * the active policy, "(earlier policy)" for counts a previous policy made, or NULL when
 * no tenant was involved.
 */
const char *enforcer_counter_tenant(const struct enforcer_status *st,
				    const struct enforcer_counter *c);
void enforcer_status__clear(struct enforcer_status *st);

/*
 * enforcer_slot_fits() - the pinned `policies` map behind @policies_fd has a value no
 * larger than this ioguard's slot: a lookup copies the map's value size, so a newer
 * layout's larger slot must not be read into ours.
 */
bool enforcer_slot_fits(int policies_fd);

#endif /* IOGUARD_ENFORCER_H */
