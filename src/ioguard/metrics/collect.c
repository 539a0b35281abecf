// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "output/abi_names.h"
#include "collect.h"
#include "output/dma_fault.h"
#include "ioasid/ioasid.h"
#include "ioguard_version.h"
#include "prog/pins.h"

#define MAX_TRACER_PROGS 64

/* Per-CPU values are laid out 8-byte aligned, one per possible CPU. */
static size_t percpu_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;
}

/*
 * Walks a per-CPU hash map, calling @fn with each key and its per-CPU values. Keys that
 * disappear between get_next_key and lookup (a concurrent delete) are skipped.
 */
static int walk_percpu(int fd, size_t key_size, size_t value_size,
		       int (*fn)(struct metrics_snapshot *s, const void *key,
				 const void *values, int ncpu),
		       struct metrics_snapshot *s)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	void *key = NULL, *next = NULL, *values = NULL;
	bool first = true;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	key = calloc(1, key_size);
	next = calloc(1, key_size);
	values = calloc(ncpu, percpu_stride(value_size));
	if (!key || !next || !values) {
		err = -ENOMEM;
		goto out_free;
	}
	for (;;) {
		if (bpf_map_get_next_key(fd, first ? NULL : key, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		first = false;
		memcpy(key, next, key_size);
		if (bpf_map_lookup_elem(fd, key, values)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			break;
		}
		err = fn(s, key, values, ncpu);
		if (err)
			break;
	}
out_free:
	free(values);
	free(next);
	free(key);
	return err;
}

/* One (group, op) aggregate: its filled histograms and its calls by result. */
static int add_agg(struct metrics_snapshot *s, const void *k, const void *values, int ncpu)
{
	const struct ioguard_agg_key *key = k;
	size_t stride = percpu_stride(sizeof(struct ioguard_agg));
	struct ioguard_agg sum = { 0 };
	__u32 kind, result;
	int cpu, i, err = 0;

	/* Ops this build does not know (a newer BPF object) are left out. */
	if (key->op >= IOGUARD_OP_COUNT)
		return 0;
	for (cpu = 0; cpu < ncpu; cpu++) {
		const struct ioguard_agg *a = (const void *)((const char *)values + cpu * stride);

		for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT; kind++) {
			for (i = 0; i < IOGUARD_HIST_SLOTS; i++)
				sum.hist[kind].slots[i] += a->hist[kind].slots[i];
			sum.hist[kind].count += a->hist[kind].count;
			sum.hist[kind].sum += a->hist[kind].sum;
		}
		for (result = 0; result < IOGUARD_RESULT_COUNT; result++) {
			sum.calls[result] += a->calls[result];
			sum.bytes[result] += a->bytes[result];
		}
	}
	for (kind = 0; kind < IOGUARD_HIST_KIND_COUNT && !err; kind++) {
		if (sum.hist[kind].count)
			err = metrics_snapshot__add_hist(s, key->group, key->op, kind,
							 &sum.hist[kind]);
	}
	for (result = 0; result < IOGUARD_RESULT_COUNT && !err; result++) {
		if (sum.calls[result])
			err = metrics_snapshot__add_calls(s, key->group, key->op, result,
							  sum.calls[result], sum.bytes[result]);
	}
	return err;
}

static int add_fault(struct metrics_snapshot *s, const void *k, const void *values, int ncpu)
{
	const struct ioguard_fault_key *key = k;
	char device[sizeof(key->device) + 1];
	__u64 faults = 0;
	int cpu;

	for (cpu = 0; cpu < ncpu; cpu++)
		faults += *(const __u64 *)((const char *)values + cpu * percpu_stride(8));
	snprintf(device, sizeof(device), "%.*s", (int)sizeof(key->device), key->device);
	return metrics_snapshot__add_fault(s, device[0] ? device : "unknown", key->group, faults);
}

/*
 * The group is resolved afterwards, from sysfs: see collect_dma_fault_groups(). A kind
 * this build does not know (a newer BPF object) is left out, not an error that would
 * end the walk and lose the keys after it.
 */
static int add_dma_fault(struct metrics_snapshot *s, const void *k, const void *values,
			 int ncpu)
{
	const struct ioguard_dma_fault_key *key = k;
	char device[IOGUARD_DEV_NAME_LEN];
	__u64 faults = 0;
	int cpu;

	if (key->kind >= IOGUARD_DMA_FAULT_KIND_COUNT)
		return 0;
	for (cpu = 0; cpu < ncpu; cpu++)
		faults += *(const __u64 *)((const char *)values + cpu * percpu_stride(8));
	dma_fault_device_name(key->segment, key->source_id, device, sizeof(device));
	return metrics_snapshot__add_dma_fault(s, device, IOGUARD_GROUP_UNKNOWN, key->kind,
					       key->reason, faults);
}

/* One (group, cause, kind) of invalidations; keys this build does not know are left out. */
static int add_inval(struct metrics_snapshot *s, const void *k, const void *values, int ncpu)
{
	const struct ioguard_inval_key *key = k;
	size_t stride = percpu_stride(sizeof(struct ioguard_inval));
	struct ioguard_inval sum = { 0 };
	int cpu, i;

	if (key->cause >= IOGUARD_INVAL_CAUSE_COUNT || key->kind >= IOGUARD_INVAL_KIND_COUNT)
		return 0;
	for (cpu = 0; cpu < ncpu; cpu++) {
		const struct ioguard_inval *v = (const void *)((const char *)values + cpu * stride);

		sum.descriptors += v->descriptors;
		for (i = 0; i < IOGUARD_HIST_SLOTS; i++)
			sum.latency.slots[i] += v->latency.slots[i];
		sum.latency.count += v->latency.count;
		sum.latency.sum += v->latency.sum;
	}
	return metrics_snapshot__add_inval(s, key->group, key->cause, key->kind,
					   sum.descriptors, &sum.latency);
}

int collect_aggregates(struct metrics_snapshot *s, const struct tracer_maps *maps)
{
	int err = 0;

	if (maps->aggs_fd >= 0)
		err = walk_percpu(maps->aggs_fd, sizeof(struct ioguard_agg_key),
				  sizeof(struct ioguard_agg), add_agg, s);
	if (!err && maps->faults_fd >= 0)
		err = walk_percpu(maps->faults_fd, sizeof(struct ioguard_fault_key),
				  sizeof(__u64), add_fault, s);
	if (!err && maps->dma_faults_fd >= 0)
		err = walk_percpu(maps->dma_faults_fd, sizeof(struct ioguard_dma_fault_key),
				  sizeof(__u64), add_dma_fault, s);
	if (!err && maps->invals_fd >= 0)
		err = walk_percpu(maps->invals_fd, sizeof(struct ioguard_inval_key),
				  sizeof(struct ioguard_inval), add_inval, s);
	return err;
}

void collect_dma_fault_groups(struct metrics_snapshot *s, const char *sysfs_root)
{
	size_t i;
	int group;

	for (i = 0; i < s->dma_faults.n; i++) {
		group = dma_fault_device_group(sysfs_root, s->dma_faults.v[i].device);
		s->dma_faults.v[i].group = group >= 0 ? group : IOGUARD_GROUP_UNKNOWN;
	}
}

int collect_groups(struct metrics_snapshot *s, const char *sysfs_root)
{
	struct ioasid_topology *topo = NULL;
	struct ioasid_error ierr;
	const char *type;
	size_t i, n;
	int err;

	err = ioasid_topology__load(sysfs_root, &topo, &ierr);
	/* A machine without IOMMU groups (no IOMMU) has no groups to report. */
	if (err == -ENOENT) {
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	n = ioasid_topology__nr_groups(topo);
	for (i = 0; i < n && !err; i++) {
		const struct ioasid_group *g = ioasid_topology__group(topo, i);
		struct ioasid_verdict *v = NULL;

		err = ioasid_group__check(g, NULL, &v);
		if (err)
			break;
		/* The kernel's spelling of a known type, else "other": a bounded label. */
		type = ioasid_group__type(g);
		if (type && type[0])
			type = posture_domain__str(posture_domain_of(type));
		err = metrics_snapshot__add_group(s, ioasid_group__id(g), type,
						  ioasid_group__nr_devices(g),
						  ioasid_verdict__viable(v, IOASID_RULE_KERNEL),
						  ioasid_verdict__viable(v, IOASID_RULE_STRICT));
		ioasid_verdict__free(v);
	}
out:
	ioasid_topology__free(topo);
	return err;
}

void collect_posture(struct metrics_snapshot *s, const char *root,
		     const struct enforcer_status *st)
{
	struct metrics_posture *p = &s->posture;
	struct enforcer_in_force f;

	host_posture_read(root, &p->host);
	p->read = true;
	if (!st)
		return;
	p->enforcement_known = true;
	enforcer_status__in_force(st, &f);
	p->enforcing = f.active;
	if (!p->enforcing)
		return;
	snprintf(p->policy_name, sizeof(p->policy_name), "%.*s",
		 (int)sizeof(p->policy_name) - 1, f.name);
	snprintf(p->policy_sha256, sizeof(p->policy_sha256), "%s", f.sha256);
	p->policy_mode = f.mode;
}

int collect_decisions(struct metrics_snapshot *s, const struct enforcer_status *st)
{
	size_t i;
	int err = 0;

	for (i = 0; i < st->n_counters && !err; i++) {
		const struct enforcer_counter *c = &st->counters[i];
		const char *tenant = enforcer_counter_tenant(st, c);

		if (!tenant || !tenant[0])
			tenant = COLLECT_NO_TENANT;
		err = metrics_snapshot__add_decision(s, abi_hook_name(c->key.hook),
						     abi_decision_name(c->key.decision),
						     abi_reason_name(c->key.reason), tenant,
						     c->count);
	}
	return err;
}

int collect_program(struct metrics_snapshot *s, const char *name, int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return metrics_snapshot__add_prog(s, name, info.run_cnt, info.run_time_ns);
}

int collect_bpf_stats_enabled(const char *path, bool *on)
{
	FILE *f = fopen(path, "r");
	int v = 0, err = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%d", &v) != 1)
		err = -EINVAL;
	fclose(f);
	*on = v != 0;
	return err;
}

struct pinned_programs {
	struct metrics_snapshot *s;
	int err;
};

static int add_pinned_program(void *ctx, const char *prog_name, const char *pin_name)
{
	struct bpf_link_info info = { 0 };
	struct pinned_programs *pp = ctx;
	__u32 len = sizeof(info);
	int link_fd, prog_fd;

	link_fd = pins_open(pin_name);
	if (link_fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(link_fd, &info, &len)) {
		prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
		/* A program detaching right now is simply not reported. */
		if (prog_fd >= 0) {
			pp->err = collect_program(pp->s, prog_name, prog_fd);
			close(prog_fd);
		}
	}
	close(link_fd);
	return pp->err;
}

/*
 * The programs behind the pinned enforcement links, named after the link pins. No pin
 * directory, or an unreadable one, is no program rather than an error.
 */
static int collect_pinned_programs(struct metrics_snapshot *s)
{
	struct pinned_programs pp = { .s = s };

	pins_for_each_link(add_pinned_program, &pp);
	return pp.err;
}

static int collect_tracer(struct metrics_snapshot *s, const struct tracer *t)
{
	struct tracer_prog progs[MAX_TRACER_PROGS];
	__u64 lost[IOGUARD_LOST_REASON_COUNT];
	struct tracer_maps maps;
	size_t n, i;
	int err, r;

	tracer__maps(t, &maps);
	err = collect_aggregates(s, &maps);
	if (err)
		return err;
	tracer__lost(t, lost);
	for (r = 0; r < IOGUARD_LOST_REASON_COUNT; r++)
		metrics_snapshot__add_lost(s, r, lost[r]);
	n = tracer__programs(t, progs, MAX_TRACER_PROGS);
	for (i = 0; i < n && i < MAX_TRACER_PROGS && !err; i++)
		err = collect_program(s, progs[i].name, progs[i].fd);
	return err;
}

int collect_metrics(const struct collect_ctx *ctx, struct metrics_snapshot *s)
{
	struct errbuf why = { .note = NULL };
	struct enforcer_status st;
	bool stats_on = false;
	int err;

	err = metrics_snapshot__set_build(s, IOGUARD_VERSION,
					  ctx->tracer ? tracer__mode_name(tracer__mode(ctx->tracer))
						      : NULL);
	if (err)
		return err;
	/* Off when the file cannot be read (no procfs): the counters then stand still. */
	collect_bpf_stats_enabled(ctx->bpf_stats_path ?: COLLECT_BPF_STATS_PATH, &stats_on);
	s->bpf_stats_enabled = stats_on;

	if (ctx->tracer) {
		err = collect_tracer(s, ctx->tracer);
		if (err)
			return err;
		collect_dma_fault_groups(s, ctx->sysfs_root ?: "/");
	}
	err = collect_groups(s, ctx->sysfs_root ?: "/");
	if (err)
		return err;
	if (ctx->no_enforcement) {
		collect_posture(s, ctx->sysfs_root, NULL);
		return 0;
	}
	/*
	 * Pins that cannot be read leave the rest of the page true: it is served with
	 * ioguard_enforcement_read_error instead of the enforcement's families, neither
	 * "active" nor "inactive", and not a 500 that would hide the host's posture too.
	 */
	err = enforcer_status(&st, &why);
	if (err) {
		collect_posture(s, ctx->sysfs_root, NULL);
		s->posture.enforcement_error = err;
		return 0;
	}
	collect_posture(s, ctx->sysfs_root, &st);
	err = collect_decisions(s, &st);
	enforcer_status__clear(&st);
	if (!err && st.pinned)
		err = collect_pinned_programs(s);
	return err;
}
