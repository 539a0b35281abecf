// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/sys/tree.h>

#include "event.h"

static const char *const op_names[IOGUARD_OP_COUNT] = {
	[IOGUARD_OP_NONE] = "none",
	[IOGUARD_OP_ATTACH_DEVICE] = "attach_device",
	[IOGUARD_OP_DETACH_DEVICE] = "detach_device",
	[IOGUARD_OP_ATTACH_GROUP] = "attach_group",
	[IOGUARD_OP_DETACH_GROUP] = "detach_group",
	[IOGUARD_OP_CLAIM_DEVICE] = "claim_device",
	[IOGUARD_OP_RELEASE_DEVICE] = "release_device",
	[IOGUARD_OP_CLAIM_GROUP] = "claim_group",
	[IOGUARD_OP_RELEASE_GROUP] = "release_group",
	[IOGUARD_OP_MAP] = "map",
	[IOGUARD_OP_UNMAP] = "unmap",
	[IOGUARD_OP_UNMAP_FAST] = "unmap_fast",
	[IOGUARD_OP_MAP_SG] = "map_sg",
	[IOGUARD_OP_IO_PAGE_FAULT] = "io_page_fault",
};

const char *event_op_name(__u32 op)
{
	return op < IOGUARD_OP_COUNT && op_names[op] ? op_names[op] : "unknown";
}

int event_op_parse(const char *name)
{
	int op;

	for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++) {
		if (!strcmp(name, op_names[op]))
			return op;
	}
	return -EINVAL;
}

struct domain_id {
	RB_ENTRY(domain_id) node;
	__u64 kaddr;
	unsigned int id;
};

static int domain_id_cmp(const struct domain_id *a, const struct domain_id *b)
{
	return a->kaddr < b->kaddr ? -1 : a->kaddr > b->kaddr;
}

RB_HEAD(domain_ids, domain_id);
/* libbsd's RB_GENERATE_STATIC needs __unused, which libbsd leaves undefined on Linux. */
RB_GENERATE_INTERNAL(domain_ids, domain_id, node, domain_id_cmp, __attribute__((unused)) static)

struct event_printer {
	int64_t realtime_offset_ns;
	struct domain_ids domains;
	unsigned int next_domain_id;
};

struct event_printer *event_printer__new(int64_t realtime_offset_ns)
{
	struct event_printer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->realtime_offset_ns = realtime_offset_ns;
	RB_INIT(&p->domains);
	p->next_domain_id = 1;
	return p;
}

void event_printer__free(struct event_printer *p)
{
	struct domain_id *d, *next;

	if (!p)
		return;
	RB_FOREACH_SAFE(d, domain_ids, &p->domains, next) {
		RB_REMOVE(domain_ids, &p->domains, d);
		free(d);
	}
	free(p);
}

/* Small id of a domain; 0 if memory ran out (shown as unknown, never wrong). */
static unsigned int domain_id(struct event_printer *p, __u64 kaddr)
{
	struct domain_id key = { .kaddr = kaddr }, *d;

	d = RB_FIND(domain_ids, &p->domains, &key);
	if (d)
		return d->id;
	d = calloc(1, sizeof(*d));
	if (!d)
		return 0;
	d->kaddr = kaddr;
	d->id = p->next_domain_id++;
	RB_INSERT(domain_ids, &p->domains, d);
	return d->id;
}

static void wall_time(const struct event_printer *p, const struct ioguard_event *e,
		      struct tm *tm, long *usec)
{
	int64_t ns = (int64_t)e->ts_ns + p->realtime_offset_ns;
	time_t sec = ns / 1000000000;

	*usec = (ns % 1000000000) / 1000;
	gmtime_r(&sec, tm);
}

void event_printer__text_header(FILE *out)
{
	fprintf(out, "%-15s %-3s %-7s %-15s %-14s %-12s %5s %6s %-18s %10s %10s %s\n",
		"TIME(UTC)", "CPU", "PID", "COMM", "OP", "DEVICE", "GROUP", "DOMAIN", "IOVA",
		"SIZE", "LAT(us)", "RET");
}

void event_printer__text(struct event_printer *p, FILE *out, const struct ioguard_event *e)
{
	char group[16] = "-", domain[16] = "-", iova[24] = "-", size[24] = "-";
	char lat[24] = "-", ret[24] = "-";
	char comm[IOGUARD_COMM_LEN + 1], device[IOGUARD_DEV_NAME_LEN + 1];
	struct tm tm;
	long usec;

	/* The kernel NUL-terminates both, but never trust a record's bounds. */
	snprintf(comm, sizeof(comm), "%.*s", IOGUARD_COMM_LEN, e->comm);
	snprintf(device, sizeof(device), "%.*s", IOGUARD_DEV_NAME_LEN,
		 (e->flags & IOGUARD_EV_HAS_DEVICE) ? e->device : "-");
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		snprintf(group, sizeof(group), "%d", e->group);
	if (e->flags & IOGUARD_EV_HAS_DOMAIN)
		snprintf(domain, sizeof(domain), "d%u", domain_id(p, e->domain));
	if (e->flags & IOGUARD_EV_HAS_IOVA)
		snprintf(iova, sizeof(iova), "0x%" PRIx64, (uint64_t)e->iova);
	if (e->flags & IOGUARD_EV_HAS_SIZE)
		snprintf(size, sizeof(size), "%" PRIu64, (uint64_t)e->size);
	if (e->flags & IOGUARD_EV_HAS_LATENCY)
		snprintf(lat, sizeof(lat), "%.3f", e->latency_ns / 1000.0);
	if (e->flags & IOGUARD_EV_HAS_RET)
		snprintf(ret, sizeof(ret), "%" PRId64, (int64_t)e->ret);
	wall_time(p, e, &tm, &usec);
	fprintf(out, "%02d:%02d:%02d.%06ld %-3u %-7u %-15s %-14s %-12s %5s %6s %-18s %10s %10s %s\n",
		tm.tm_hour, tm.tm_min, tm.tm_sec, usec, e->cpu, e->pid, comm,
		event_op_name(e->op), device, group, domain, iova, size, lat, ret);
}

void event_printer__json(struct event_printer *p, struct json_writer *w,
			 const struct ioguard_event *e)
{
	char comm[IOGUARD_COMM_LEN + 1], device[IOGUARD_DEV_NAME_LEN + 1], time[80];
	struct tm tm;
	long usec;

	snprintf(comm, sizeof(comm), "%.*s", IOGUARD_COMM_LEN, e->comm);
	wall_time(p, e, &tm, &usec);
	snprintf(time, sizeof(time), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);

	jsonw_start_object(w);
	jsonw_string_field(w, "time", time);
	jsonw_uint_field(w, "ts_ns", e->ts_ns);
	jsonw_uint_field(w, "cpu", e->cpu);
	jsonw_uint_field(w, "pid", e->pid);
	jsonw_uint_field(w, "tid", e->tid);
	jsonw_string_field(w, "comm", comm);
	jsonw_string_field(w, "op", event_op_name(e->op));
	if (e->flags & IOGUARD_EV_HAS_DEVICE) {
		snprintf(device, sizeof(device), "%.*s", IOGUARD_DEV_NAME_LEN, e->device);
		jsonw_string_field(w, "device", device);
	} else {
		jsonw_null_field(w, "device");
	}
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		jsonw_int_field(w, "group", e->group);
	else
		jsonw_null_field(w, "group");
	if (e->flags & IOGUARD_EV_HAS_DOMAIN)
		jsonw_uint_field(w, "domain", domain_id(p, e->domain));
	else
		jsonw_null_field(w, "domain");
	if (e->flags & IOGUARD_EV_HAS_IOVA)
		jsonw_uint_field(w, "iova", e->iova);
	else
		jsonw_null_field(w, "iova");
	if (e->flags & IOGUARD_EV_HAS_SIZE)
		jsonw_uint_field(w, "size", e->size);
	else
		jsonw_null_field(w, "size");
	if (e->flags & IOGUARD_EV_HAS_LATENCY)
		jsonw_uint_field(w, "latency_ns", e->latency_ns);
	else
		jsonw_null_field(w, "latency_ns");
	if (e->flags & IOGUARD_EV_HAS_RET)
		jsonw_int_field(w, "ret", e->ret);
	else
		jsonw_null_field(w, "ret");
	jsonw_end_object(w);
}
