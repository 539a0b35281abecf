// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/sys/tree.h>

#include "abi_names.h"
#include "dma_fault.h"
#include "event.h"
#include "pci_address.h"

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

/*
 * stamp is "YYYY-MM-DDTHH:MM:SS." for second stamp_sec, when stamp_len is not 0: the
 * records of one second share it, and gmtime_r() and a formatted print per record cost
 * more than the rest of a JSON record.
 */
struct event_printer {
	int64_t realtime_offset_ns;
	struct domain_ids domains;
	unsigned int next_domain_id;
	time_t stamp_sec;
	size_t stamp_len;
	char stamp[48];
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

/*
 * CLOCK_REALTIME of a record's CLOCK_MONOTONIC stamp. The sum wraps instead of
 * overflowing: a stamp comes from a record, and a record's bytes are not trusted.
 */
static int64_t realtime_ns(const struct event_printer *p, __u64 ts_ns)
{
	return (int64_t)(ts_ns + (uint64_t)p->realtime_offset_ns);
}

static void wall_time(const struct event_printer *p, const struct ioguard_event *e,
		      struct tm *tm, long *usec)
{
	int64_t ns = realtime_ns(p, e->ts_ns);
	time_t sec = ns / 1000000000;

	*usec = (ns % 1000000000) / 1000;
	gmtime_r(&sec, tm);
}

#define JSON_TIME_LEN 80

/* RFC 3339 UTC with microseconds, as "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ" prints it. */
static void json_time(struct event_printer *p, __u64 ts_ns, char out[JSON_TIME_LEN])
{
	int64_t ns = realtime_ns(p, ts_ns);
	time_t sec = ns / 1000000000;
	long usec = (ns % 1000000000) / 1000;
	struct tm tm;
	char *tail;
	int i, n;

	if (usec >= 0 && (!p->stamp_len || sec != p->stamp_sec)) {
		gmtime_r(&sec, &tm);
		n = snprintf(p->stamp, sizeof(p->stamp), "%04d-%02d-%02dT%02d:%02d:%02d.",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
		p->stamp_len = n > 0 && (size_t)n < sizeof(p->stamp) ? n : 0;
		p->stamp_sec = sec;
	}
	/* Before 1970, which no kernel clock reads, or a stamp too long to keep: the slow way. */
	if (usec < 0 || !p->stamp_len) {
		gmtime_r(&sec, &tm);
		snprintf(out, JSON_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, usec);
	} else {
		memcpy(out, p->stamp, p->stamp_len);
		tail = out + p->stamp_len;
		for (i = 5; i >= 0; i--, usec /= 10)
			tail[i] = '0' + usec % 10;
		tail[6] = 'Z';
		tail[7] = '\0';
	}
}

/* A record's string field: up to its NUL or @max bytes, as the kernel may fill it. */
static void copy_field(char *dst, const char *src, size_t max)
{
	size_t n = strnlen(src, max);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Length of the well-formed UTF-8 sequence at @s (at most @n bytes), 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

/*
 * A string field the traced process controls (comm), made safe for a terminal and for
 * JSON: up to its NUL or @max bytes; C0 and C1 control characters, DEL and bytes that
 * are not UTF-8 become "\xHH", and a backslash becomes "\\", so the result is valid
 * UTF-8, prints no escape sequence, and reads back unambiguously. Text and JSON show the
 * same string. @dst holds ESCAPED_LEN(@max) bytes.
 */
#define ESCAPED_LEN(max) (4 * (max) + 1)

static void escape_field(char *dst, const char *src, size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strnlen(src, max), i = 0, len;
	char *d = dst;

	while (i < n) {
		/* Printable ASCII, nearly every byte, is copied before any UTF-8 decoding. */
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			*d++ = s[i++];
			continue;
		}
		len = utf8_seq_len(s + i, n - i);
		if (len == 1 && s[i] == '\\') {
			*d++ = '\\';
			*d++ = '\\';
			i++;
		} else if (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
			/* U+0080-U+009F: C1 controls, CSI (U+009B) among them. */
			d += sprintf(d, "\\x%02x\\x%02x", s[i], s[i + 1]);
			i += 2;
		} else if (len > 1) {
			memcpy(d, s + i, len);
			d += len;
			i += len;
		} else {
			d += sprintf(d, "\\x%02x", s[i]);
			i++;
		}
	}
	*d = '\0';
}

void event_printer__text_header(FILE *out)
{
	fprintf(out, "%-15s %-3s %-7s %-15s %-14s %-12s %5s %6s %-18s %10s %10s %s\n",
		"TIME(UTC)", "CPU", "PID", "COMM", "OP", "DEVICE", "GROUP", "DOMAIN", "IOVA",
		"SIZE", "LAT(us)", "RET");
}

/* The last column of a DMA fault: "write reason 0x05", "read reason 0x06 pasid 1". */
static void dma_fault_text(const struct ioguard_event *e, char *out, size_t len)
{
	char reason[DMA_FAULT_REASON_LEN];
	int n;

	dma_fault_reason_str((__u8)e->ret, reason);
	n = snprintf(out, len, "%s reason %s", abi_dma_fault_kind_name(dma_fault_event_kind(e)),
		     reason);
	if (n >= 0 && (size_t)n < len && (e->flags & IOGUARD_EV_HAS_PASID))
		snprintf(out + n, len - n, " pasid %u", e->pasid);
}

void event_printer__text(struct event_printer *p, FILE *out, const struct ioguard_event *e)
{
	char group[16] = "-", domain[16] = "-", iova[24] = "-", size[24] = "-";
	char lat[24] = "-", ret[48] = "-";
	char comm[ESCAPED_LEN(IOGUARD_COMM_LEN)], device[ESCAPED_LEN(IOGUARD_DEV_NAME_LEN)];
	struct tm tm;
	long usec;

	/* The kernel NUL-terminates both, but never trust a record's bounds. */
	escape_field(comm, e->comm, IOGUARD_COMM_LEN);
	if (e->flags & IOGUARD_EV_HAS_DEVICE)
		escape_field(device, e->device, IOGUARD_DEV_NAME_LEN);
	else
		strcpy(device, "-");
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		snprintf(group, sizeof(group), "%d", e->group);
	if (e->flags & IOGUARD_EV_HAS_DOMAIN)
		snprintf(domain, sizeof(domain), "d%u", domain_id(p, e->domain));
	if (e->flags & IOGUARD_EV_HAS_IOVA)
		snprintf(iova, sizeof(iova), "0x%" PRIx64, (uint64_t)e->iova);
	else if (e->flags & IOGUARD_EV_HAS_PASID)	/* PASID ops have no IOVA */
		snprintf(iova, sizeof(iova), "pasid:%u", e->pasid);
	if (e->flags & IOGUARD_EV_HAS_SIZE)
		snprintf(size, sizeof(size), "%" PRIu64, (uint64_t)e->size);
	if (e->flags & IOGUARD_EV_HAS_LATENCY)
		snprintf(lat, sizeof(lat), "%.3f", e->latency_ns / 1000.0);
	if (e->op == IOGUARD_OP_DMA_FAULT)
		dma_fault_text(e, ret, sizeof(ret));
	else if (e->flags & IOGUARD_EV_HAS_RET)
		snprintf(ret, sizeof(ret), "%" PRId64, (int64_t)e->ret);
	wall_time(p, e, &tm, &usec);
	fprintf(out, "%02d:%02d:%02d.%06ld %-3u %-7u %-15s %-14s %-12s %5s %6s %-18s %10s %10s %s\n",
		tm.tm_hour, tm.tm_min, tm.tm_sec, usec, e->cpu, e->pid, comm,
		abi_op_name(e->op), device, group, domain, iova, size, lat, ret);
}

/*
 * A trace record's JSON object, built in one buffer and handed to the writer as one value:
 * records come up to a million a second, and the writer's bookkeeping per member (commas,
 * nesting, a bounds check per piece) cost more than the bytes. The buffer holds the
 * longest record: every string at its longest, every byte of it escaped.
 */
#define RECORD_NAME_MAX 32	/* longer than any of abi_names' names (test_abi_names) */
#define JSON_RECORD_MAX								\
	(256 + JSON_QUOTED_MAX(JSON_TIME_LEN) + JSON_QUOTED_MAX(ESCAPED_LEN(IOGUARD_COMM_LEN)) + \
	 JSON_QUOTED_MAX(ESCAPED_LEN(IOGUARD_DEV_NAME_LEN)) +				\
	 2 * JSON_QUOTED_MAX(RECORD_NAME_MAX) + JSON_QUOTED_MAX(DMA_FAULT_REASON_LEN) +	\
	 9 * (JSON_U64_MAX + 1))

struct json_record {
	char *end;
	char buf[JSON_RECORD_MAX];
};

/* A member's name (a literal) with its separator: ',' but before the first member. */
#define record_name(r, lit) record_bytes((r), ",\"" lit "\":", sizeof(lit) + 3)
#define record_first_name(r, lit) record_bytes((r), "{\"" lit "\":", sizeof(lit) + 3)

static inline void record_bytes(struct json_record *r, const char *s, size_t n)
{
	memcpy(r->end, s, n);
	r->end += n;
}

static inline void record_u64(struct json_record *r, uint64_t v)
{
	r->end += json_u64(r->end, v);
}

static inline void record_i64(struct json_record *r, int64_t v)
{
	if (v < 0) {
		*r->end++ = '-';
		record_u64(r, -(uint64_t)v);
	} else {
		record_u64(r, v);
	}
}

static inline void record_string(struct json_record *r, const char *s)
{
	r->end += json_quote(r->end, s);
}

static inline void record_null(struct json_record *r)
{
	record_bytes(r, "null", 4);
}

void event_printer__json(struct event_printer *p, struct json_writer *w,
			 const struct ioguard_event *e)
{
	char comm[ESCAPED_LEN(IOGUARD_COMM_LEN)], device[ESCAPED_LEN(IOGUARD_DEV_NAME_LEN)];
	char time[JSON_TIME_LEN];
	struct json_record r;

	r.end = r.buf;
	escape_field(comm, e->comm, IOGUARD_COMM_LEN);
	json_time(p, e->ts_ns, time);

	record_first_name(&r, "time");
	record_string(&r, time);
	record_name(&r, "ts_ns");
	record_u64(&r, e->ts_ns);
	record_name(&r, "cpu");
	record_u64(&r, e->cpu);
	record_name(&r, "pid");
	record_u64(&r, e->pid);
	record_name(&r, "tid");
	record_u64(&r, e->tid);
	record_name(&r, "comm");
	record_string(&r, comm);
	record_name(&r, "op");
	record_string(&r, abi_op_name(e->op));
	record_name(&r, "device");
	if (e->flags & IOGUARD_EV_HAS_DEVICE) {
		escape_field(device, e->device, IOGUARD_DEV_NAME_LEN);
		record_string(&r, device);
	} else {
		record_null(&r);
	}
	record_name(&r, "group");
	if (e->flags & IOGUARD_EV_HAS_GROUP)
		record_i64(&r, e->group);
	else
		record_null(&r);
	record_name(&r, "domain");
	if (e->flags & IOGUARD_EV_HAS_DOMAIN)
		record_u64(&r, domain_id(p, e->domain));
	else
		record_null(&r);
	record_name(&r, "iova");
	if (e->flags & IOGUARD_EV_HAS_IOVA)
		record_u64(&r, e->iova);
	else
		record_null(&r);
	record_name(&r, "size");
	if (e->flags & IOGUARD_EV_HAS_SIZE)
		record_u64(&r, e->size);
	else
		record_null(&r);
	record_name(&r, "latency_ns");
	if (e->flags & IOGUARD_EV_HAS_LATENCY)
		record_u64(&r, e->latency_ns);
	else
		record_null(&r);
	record_name(&r, "ret");
	if (e->flags & IOGUARD_EV_HAS_RET)
		record_i64(&r, e->ret);
	else
		record_null(&r);
	/* Only PASID ops carry one; other records keep their established keys. */
	if (e->flags & IOGUARD_EV_HAS_PASID) {
		record_name(&r, "pasid");
		record_u64(&r, e->pasid);
	}
	if (e->op == IOGUARD_OP_DMA_FAULT) {
		char reason[DMA_FAULT_REASON_LEN];

		dma_fault_reason_str((__u8)e->ret, reason);
		record_name(&r, "kind");
		record_string(&r, abi_dma_fault_kind_name(dma_fault_event_kind(e)));
		record_name(&r, "reason");
		record_string(&r, reason);
	}
	*r.end++ = '}';
	jsonw_json(w, r.buf, r.end - r.buf);
}

static void decision_strings(const struct ioguard_decision *d, char *comm, char *device,
			     char *group)
{
	escape_field(comm, d->comm, IOGUARD_COMM_LEN);
	escape_field(device, d->device, IOGUARD_DEV_NAME_LEN);
	if (d->group >= 0)
		snprintf(group, 16, "%d", d->group);
	else
		snprintf(group, 16, "-");
}

void event_printer__decision_text(struct event_printer *p, FILE *out,
				  const struct ioguard_decision *d, const char *tenant)
{
	char comm[ESCAPED_LEN(IOGUARD_COMM_LEN)], device[ESCAPED_LEN(IOGUARD_DEV_NAME_LEN)];
	char group[16];
	struct ioguard_event when = { .ts_ns = d->ts_ns };
	struct tm tm;
	long usec;

	decision_strings(d, comm, device, group);
	wall_time(p, &when, &tm, &usec);
	fprintf(out, "%02d:%02d:%02d.%06ld %-3s %-7u %-15s %-14s %-12s %5s %s %s %s "
		"tenant=%s uid=%u\n", tm.tm_hour, tm.tm_min, tm.tm_sec, usec, "-", d->pid, comm,
		EVENT_OP_DECISION, device[0] ? device : "-", group,
		abi_hook_name(d->hook), abi_decision_name(d->decision),
		abi_reason_name(d->reason), tenant ?: "-", d->uid);
}

void event_printer__decision_json(struct event_printer *p, struct json_writer *w,
				  const struct ioguard_decision *d, const char *tenant)
{
	char comm[ESCAPED_LEN(IOGUARD_COMM_LEN)], device[ESCAPED_LEN(IOGUARD_DEV_NAME_LEN)];
	char group[16];
	char time[JSON_TIME_LEN], policy[24];

	decision_strings(d, comm, device, group);
	json_time(p, d->ts_ns, time);
	snprintf(policy, sizeof(policy), "%016" PRIx64, (uint64_t)d->policy_id);

	/* The keys of an event first, null where a decision has no such value. */
	jsonw_start_object(w);
	jsonw_string_field(w, "time", time);
	jsonw_uint_field(w, "ts_ns", d->ts_ns);
	jsonw_null_field(w, "cpu");
	jsonw_uint_field(w, "pid", d->pid);
	jsonw_null_field(w, "tid");
	jsonw_string_field(w, "comm", comm);
	jsonw_string_field(w, "op", EVENT_OP_DECISION);
	if (device[0])
		jsonw_string_field(w, "device", device);
	else
		jsonw_null_field(w, "device");
	if (d->group >= 0)
		jsonw_int_field(w, "group", d->group);
	else
		jsonw_null_field(w, "group");
	jsonw_null_field(w, "domain");
	jsonw_null_field(w, "iova");
	jsonw_null_field(w, "size");
	jsonw_null_field(w, "latency_ns");
	jsonw_null_field(w, "ret");
	jsonw_string_field(w, "hook", abi_hook_name(d->hook));
	jsonw_string_field(w, "decision", abi_decision_name(d->decision));
	jsonw_string_field(w, "reason", abi_reason_name(d->reason));
	if (tenant)
		jsonw_string_field(w, "tenant", tenant);
	else
		jsonw_null_field(w, "tenant");
	jsonw_uint_field(w, "uid", d->uid);
	jsonw_uint_field(w, "value", d->value);
	jsonw_string_field(w, "policy_id", policy);
	jsonw_end_object(w);
}

int event_filter__parse_ops(struct event_filter *f, const char *list, struct errbuf *eb)
{
	char *copy, *tok, *save;
	bool decisions = false;
	__u32 ops = 0;
	int op, ret = 0;

	copy = strdup(list);
	if (!copy)
		return errbuf_set(eb, -ENOMEM, "%s", strerror(ENOMEM));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, EVENT_OP_DECISION)) {
			decisions = true;
			continue;
		}
		op = abi_op_parse(tok);
		if (op < 0) {
			ret = errbuf_set(eb, -EINVAL, "unknown op '%s'", tok);
			goto out;
		}
		ops |= 1U << op;
	}
	if (!ops && !decisions) {
		ret = errbuf_set(eb, -EINVAL, "no op named");
		goto out;
	}
	f->ops = ops;
	f->ops_set = true;
	f->decisions_off = !decisions;
out:
	free(copy);
	return ret;
}

int event_filter__parse_device(struct event_filter *f, const char *bdf)
{
	struct pci_address a;

	if (pci_address_parse(bdf, &a) || pci_address_name(&a, f->device, sizeof(f->device)))
		return -EINVAL;
	return 0;
}

static bool filter_place(const struct event_filter *f, const char *device, bool has_group,
			 __s32 group)
{
	if (f->group_set && (!has_group || group != f->group))
		return false;
	if (!f->device[0])
		return true;
	if (device)
		return !strcmp(device, f->device);
	return f->device_group_set && has_group && group == f->device_group;
}

bool event_filter__event(const struct event_filter *f, const struct ioguard_event *e)
{
	char device[IOGUARD_DEV_NAME_LEN + 1];

	if (f->pid && e->pid != f->pid)
		return false;
	if (f->ops_set && (e->op >= 32 || !(f->ops & (1U << e->op))))
		return false;
	copy_field(device, e->device, IOGUARD_DEV_NAME_LEN);
	return filter_place(f, (e->flags & IOGUARD_EV_HAS_DEVICE) ? device : NULL,
			    e->flags & IOGUARD_EV_HAS_GROUP, e->group);
}

bool event_filter__decision(const struct event_filter *f, const struct ioguard_decision *d)
{
	char device[IOGUARD_DEV_NAME_LEN + 1];

	if (f->decisions_off)
		return false;
	if (f->pid && d->pid != f->pid)
		return false;
	copy_field(device, d->device, IOGUARD_DEV_NAME_LEN);
	return filter_place(f, device[0] ? device : NULL, d->group >= 0, d->group);
}
