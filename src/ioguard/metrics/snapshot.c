// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/*
 * Room for one more entry in @arr, or NULL. Capacity doubles from 16, so a collection
 * that refills a reset snapshot of the same shape allocates nothing.
 */
#define ARRAY_PUSH(arr) ((__typeof__((arr).v))array_grow((void **)&(arr).v, &(arr).n, \
							 &(arr).cap, sizeof(*(arr).v)))

static void *array_grow(void **v, size_t *n, size_t *cap, size_t elem)
{
	void *p;
	size_t ncap;

	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		if (ncap > SIZE_MAX / elem)
			return NULL;
		p = realloc(*v, ncap * elem);
		if (!p)
			return NULL;
		*v = p;
		*cap = ncap;
	}
	p = (char *)*v + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

/* Copies a required string: -EINVAL when NULL or empty, -ENAMETOOLONG when too long. */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t len;

	if (!src || !*src)
		return -EINVAL;
	len = strnlen(src, size);
	if (len == size)
		return -ENAMETOOLONG;
	memcpy(dst, src, len + 1);
	return 0;
}

/* Copies an optional string: NULL becomes "". */
static int copy_opt_str(char *dst, size_t size, const char *src)
{
	if (!src || !*src) {
		dst[0] = '\0';
		return 0;
	}
	return copy_str(dst, size, src);
}

struct metrics_snapshot *metrics_snapshot__new(void)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		errno = ENOMEM;
	return s;
}

void metrics_snapshot__free(struct metrics_snapshot *s)
{
	if (!s)
		return;
	free(s->hists.v);
	free(s->calls.v);
	free(s->faults.v);
	free(s->invals.v);
	free(s->groups.v);
	free(s->decisions.v);
	free(s->progs.v);
	free(s->dma_faults.v);
	free(s->daemon.reloads.v);
	free(s->daemon.topology_changes.v);
	free(s);
}

void metrics_snapshot__reset(struct metrics_snapshot *s)
{
	s->hists.n = 0;
	s->calls.n = 0;
	s->faults.n = 0;
	s->invals.n = 0;
	s->groups.n = 0;
	s->decisions.n = 0;
	s->progs.n = 0;
	s->dma_faults.n = 0;
	memset(s->lost, 0, sizeof(s->lost));
	s->bpf_stats_enabled = false;
	s->version[0] = '\0';
	s->mode[0] = '\0';
	memset(&s->posture, 0, sizeof(s->posture));
	s->daemon.present = false;
	s->daemon.reloads.n = 0;
	s->daemon.policy_file_refused = false;
	s->daemon.topology_changes.n = 0;
}

int metrics_snapshot__add_hist(struct metrics_snapshot *s, __s32 group, __u32 op,
			       __u32 kind, const struct ioguard_hist *hist)
{
	struct metrics_hist_entry *e;

	if (op >= IOGUARD_OP_COUNT || kind >= IOGUARD_HIST_KIND_COUNT || !hist)
		return -EINVAL;
	e = ARRAY_PUSH(s->hists);
	if (!e)
		return -ENOMEM;
	e->group = group;
	e->op = op;
	e->kind = kind;
	e->hist = *hist;
	return 0;
}

int metrics_snapshot__add_calls(struct metrics_snapshot *s, __s32 group, __u32 op,
				__u32 result, __u64 calls, __u64 bytes)
{
	struct metrics_calls_entry *e;

	if (op >= IOGUARD_OP_COUNT || result >= IOGUARD_RESULT_COUNT)
		return -EINVAL;
	e = ARRAY_PUSH(s->calls);
	if (!e)
		return -ENOMEM;
	e->group = group;
	e->op = op;
	e->result = result;
	e->calls = calls;
	e->bytes = bytes;
	return 0;
}

int metrics_snapshot__add_fault(struct metrics_snapshot *s, const char *device, __s32 group,
				__u64 faults)
{
	struct metrics_fault_entry tmp = { .group = group, .faults = faults };
	struct metrics_fault_entry *e;
	int err;

	err = copy_str(tmp.device, sizeof(tmp.device), device);
	if (err)
		return err;
	e = ARRAY_PUSH(s->faults);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	return 0;
}

int metrics_snapshot__add_dma_fault(struct metrics_snapshot *s, const char *device,
				    __s32 group, __u32 kind, __u32 reason, __u64 faults)
{
	struct metrics_dma_fault_entry tmp = {
		.group = group, .kind = kind, .reason = reason, .faults = faults,
	};
	struct metrics_dma_fault_entry *e;
	int err;

	if (kind >= IOGUARD_DMA_FAULT_KIND_COUNT || reason > 0xff)
		return -EINVAL;
	err = copy_str(tmp.device, sizeof(tmp.device), device);
	if (err)
		return err;
	e = ARRAY_PUSH(s->dma_faults);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	return 0;
}

int metrics_snapshot__add_inval(struct metrics_snapshot *s, __s32 group, __u32 cause,
				__u32 kind, __u64 descriptors, const struct ioguard_hist *latency)
{
	struct metrics_inval_entry *e;

	if (cause >= IOGUARD_INVAL_CAUSE_COUNT || kind >= IOGUARD_INVAL_KIND_COUNT)
		return -EINVAL;
	e = ARRAY_PUSH(s->invals);
	if (!e)
		return -ENOMEM;
	e->group = group;
	e->cause = cause;
	e->kind = kind;
	e->descriptors = descriptors;
	if (latency)
		e->latency = *latency;
	return 0;
}

int metrics_snapshot__add_group(struct metrics_snapshot *s, __s32 group, const char *type,
				__u32 devices, bool viable_kernel, bool viable_strict)
{
	struct metrics_group_entry tmp = {
		.group = group,
		.devices = devices,
		.viable_kernel = viable_kernel,
		.viable_strict = viable_strict,
	};
	struct metrics_group_entry *e;
	int err;

	err = copy_opt_str(tmp.type, sizeof(tmp.type), type);
	if (err)
		return err;
	e = ARRAY_PUSH(s->groups);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	return 0;
}

int metrics_snapshot__add_decision(struct metrics_snapshot *s, const char *hook,
				   const char *decision, const char *reason,
				   const char *tenant, __u64 count)
{
	struct metrics_decision_entry tmp = { .count = count };
	struct metrics_decision_entry *e;
	int err;

	err = copy_str(tmp.hook, sizeof(tmp.hook), hook);
	if (!err)
		err = copy_str(tmp.decision, sizeof(tmp.decision), decision);
	if (!err)
		err = copy_str(tmp.reason, sizeof(tmp.reason), reason);
	if (!err)
		err = copy_str(tmp.tenant, sizeof(tmp.tenant), tenant);
	if (err)
		return err;
	/* Counts of several policies or tenants can share labels; one series sums them. */
	for (size_t i = 0; i < s->decisions.n; i++) {
		e = &s->decisions.v[i];
		if (!strcmp(e->hook, tmp.hook) && !strcmp(e->decision, tmp.decision) &&
		    !strcmp(e->reason, tmp.reason) && !strcmp(e->tenant, tmp.tenant)) {
			e->count += count;
			return 0;
		}
	}
	e = ARRAY_PUSH(s->decisions);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	return 0;
}

int metrics_snapshot__add_prog(struct metrics_snapshot *s, const char *name, __u64 run_cnt,
			       __u64 run_time_ns)
{
	struct metrics_prog_entry tmp = { .run_cnt = run_cnt, .run_time_ns = run_time_ns };
	struct metrics_prog_entry *e;
	int err;

	err = copy_str(tmp.name, sizeof(tmp.name), name);
	if (err)
		return err;
	e = ARRAY_PUSH(s->progs);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	return 0;
}

int metrics_snapshot__add_lost(struct metrics_snapshot *s, __u32 reason, __u64 count)
{
	if (reason >= IOGUARD_LOST_REASON_COUNT)
		return -EINVAL;
	s->lost[reason] += count;
	return 0;
}

int metrics_snapshot__set_build(struct metrics_snapshot *s, const char *version,
				const char *mode)
{
	char v[METRICS_BUILD_STR_LEN], m[METRICS_BUILD_STR_LEN];
	int err;

	err = copy_str(v, sizeof(v), version);
	if (!err)
		err = copy_opt_str(m, sizeof(m), mode);
	if (err)
		return err;
	memcpy(s->version, v, sizeof(v));
	memcpy(s->mode, m, sizeof(m));
	return 0;
}

static int add_labelled_count(struct metrics_daemon *d, struct metrics_labelled_counts *a,
			      const char *label, __u64 count)
{
	struct metrics_labelled_count tmp = { .count = count };
	struct metrics_labelled_count *e;
	int err;

	err = copy_str(tmp.label, sizeof(tmp.label), label);
	if (err)
		return err;
	e = ARRAY_PUSH(*a);
	if (!e)
		return -ENOMEM;
	*e = tmp;
	d->present = true;
	return 0;
}

int metrics_snapshot__add_reloads(struct metrics_snapshot *s, const char *result,
				  __u64 count)
{
	return add_labelled_count(&s->daemon, &s->daemon.reloads, result, count);
}

void metrics_snapshot__set_policy_file_refused(struct metrics_snapshot *s, bool refused)
{
	s->daemon.policy_file_refused = refused;
	s->daemon.present = true;
}

int metrics_snapshot__add_topology_changes(struct metrics_snapshot *s, const char *kind,
					   __u64 count)
{
	return add_labelled_count(&s->daemon, &s->daemon.topology_changes, kind, count);
}

static int cmp_s32(__s32 a, __s32 b)
{
	return a < b ? -1 : a > b;
}

static int cmp_u32(__u32 a, __u32 b)
{
	return a < b ? -1 : a > b;
}

static int hist_cmp(const void *pa, const void *pb)
{
	const struct metrics_hist_entry *a = pa, *b = pb;

	return cmp_s32(a->group, b->group) ?: cmp_u32(a->op, b->op) ?: cmp_u32(a->kind, b->kind);
}

static int calls_cmp(const void *pa, const void *pb)
{
	const struct metrics_calls_entry *a = pa, *b = pb;

	return cmp_s32(a->group, b->group) ?: cmp_u32(a->op, b->op) ?:
	       cmp_u32(a->result, b->result);
}

static int fault_cmp(const void *pa, const void *pb)
{
	const struct metrics_fault_entry *a = pa, *b = pb;

	return strcmp(a->device, b->device) ?: cmp_s32(a->group, b->group);
}

static int dma_fault_cmp(const void *pa, const void *pb)
{
	const struct metrics_dma_fault_entry *a = pa, *b = pb;

	return strcmp(a->device, b->device) ?: cmp_s32(a->group, b->group) ?:
	       cmp_u32(a->kind, b->kind) ?: cmp_u32(a->reason, b->reason);
}

static int inval_cmp(const void *pa, const void *pb)
{
	const struct metrics_inval_entry *a = pa, *b = pb;

	return cmp_s32(a->group, b->group) ?: cmp_u32(a->cause, b->cause) ?:
	       cmp_u32(a->kind, b->kind);
}

static int group_cmp(const void *pa, const void *pb)
{
	const struct metrics_group_entry *a = pa, *b = pb;

	return cmp_s32(a->group, b->group);
}

static int decision_cmp(const void *pa, const void *pb)
{
	const struct metrics_decision_entry *a = pa, *b = pb;

	return strcmp(a->hook, b->hook) ?: strcmp(a->decision, b->decision) ?:
	       strcmp(a->reason, b->reason) ?: strcmp(a->tenant, b->tenant);
}

static int prog_cmp(const void *pa, const void *pb)
{
	const struct metrics_prog_entry *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

#define ARRAY_SORT(arr, cmp) do {						\
	if ((arr).n > 1)							\
		qsort((arr).v, (arr).n, sizeof(*(arr).v), cmp);			\
} while (0)

void metrics_snapshot__sort(struct metrics_snapshot *s)
{
	ARRAY_SORT(s->hists, hist_cmp);
	ARRAY_SORT(s->calls, calls_cmp);
	ARRAY_SORT(s->faults, fault_cmp);
	ARRAY_SORT(s->invals, inval_cmp);
	ARRAY_SORT(s->groups, group_cmp);
	ARRAY_SORT(s->decisions, decision_cmp);
	ARRAY_SORT(s->progs, prog_cmp);
	ARRAY_SORT(s->dma_faults, dma_fault_cmp);
}
