// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus text exposition, format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), names after
 * https://prometheus.io/docs/practices/naming/: base units (seconds, bytes), _total on
 * counters, cumulative histograms. Every number is printed from integers, never through
 * a double, so bucket bounds, sums and counts are exact and the same on every scrape.
 *
 * Histograms are the bulk of the text (34 lines each), so their lines are written with
 * one capacity check per histogram and hand-rolled integer formatting, not printf.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output/abi_names.h"
#include "output/dma_fault.h"
#include "exposition.h"

/* Longest decimal __u64, without NUL. */
#define U64_DEC_LEN 20

/* ---- number formatting ------------------------------------------------------------ */

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const __u64 pow10[U64_DEC_LEN] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/*
 * Decimal digits of @v: with b its bit length, t = (b * 1233) >> 12 (1233 / 4096 just
 * under log10(2), exact enough for b <= 64) is the digit count or one less, and one
 * comparison with 10^t tells which (the IntegerLog10 of "Bit Twiddling Hacks"). v | 1
 * makes 0 one digit long and changes nothing for other values (10^t is 1 or even).
 */
static unsigned int dec_len(__u64 v)
{
	unsigned int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;

	return t + ((v | 1) >= pow10[t]);
}

/*
 * Writes @v in decimal at @p, from the end, four digits per 64-bit division and the two
 * pairs of each group independently, so the chain of dependent divisions is a quarter
 * of the digit count (this runs once per histogram line); returns the end. @p needs
 * U64_DEC_LEN bytes.
 */
static char *put_u64(char *p, __u64 v)
{
	char *end = p + dec_len(v), *q = end;

	while (v >= 10000) {
		__u64 hi = v / 10000;
		__u32 lo = v - hi * 10000;

		q -= 4;
		memcpy(q, digit_pairs + (lo / 100) * 2, 2);
		memcpy(q + 2, digit_pairs + (lo % 100) * 2, 2);
		v = hi;
	}
	if (v >= 100) {
		q -= 2;
		memcpy(q, digit_pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q - 2, digit_pairs + v * 2, 2);
	else
		q[-1] = '0' + v;
	return end;
}

/*
 * Writes @ns nanoseconds as seconds, exactly: "0", "0.0000015", "12.000000001".
 * @p needs U64_DEC_LEN + 2 bytes.
 */
static char *put_ns_as_seconds(char *p, __u64 ns)
{
	__u64 frac = ns % 1000000000ULL;
	char digits[9];
	int i, n = 9;

	p = put_u64(p, ns / 1000000000ULL);
	if (!frac)
		return p;
	for (i = 8; i >= 0; i--) {
		digits[i] = '0' + frac % 10;
		frac /= 10;
	}
	while (digits[n - 1] == '0')
		n--;
	*p++ = '.';
	memcpy(p, digits, n);
	return p + n;
}

/*
 * The value mant * 10^exp10 as Go's strconv.FormatFloat(v, 'g', -1, 64) prints it when
 * the shortest round-trip digits of v are the digits of @mant, which holds for every
 * bound here (at most 10 significant digits, far below a double's 15).
 */
static void format_go_g(__u64 mant, int exp10, char *out)
{
	char d[U64_DEC_LEN + 1];
	int nd, dp, exp, i;
	char *p = out;

	while (mant && mant % 10 == 0) {
		mant /= 10;
		exp10++;
	}
	nd = put_u64(d, mant) - d;
	dp = nd + exp10;	/* position of the decimal point in the digit string */
	exp = dp - 1;
	if (exp < -4 || exp >= 6) {
		/* %e: d.ddde±XX, at least two exponent digits. */
		*p++ = d[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, d + 1, nd - 1);
			p += nd - 1;
		}
		*p++ = 'e';
		*p++ = exp < 0 ? '-' : '+';
		if (exp < 0)
			exp = -exp;
		if (exp < 10)
			*p++ = '0';
		p = put_u64(p, exp);
	} else if (dp <= 0) {
		/* 0.000ddd */
		*p++ = '0';
		*p++ = '.';
		for (i = dp; i < 0; i++)
			*p++ = '0';
		memcpy(p, d, nd);
		p += nd;
	} else {
		/* ddd[.ddd] or ddd000 */
		for (i = 0; i < dp; i++)
			*p++ = i < nd ? d[i] : '0';
		if (nd > dp) {
			*p++ = '.';
			memcpy(p, d + dp, nd - dp);
			p += nd - dp;
		}
	}
	*p = '\0';
}

__u32 exposition_first_slot(__u32 kind)
{
	return kind == IOGUARD_HIST_LATENCY ? EXPOSITION_FIRST_SLOT_LATENCY :
					      EXPOSITION_FIRST_SLOT_SIZE;
}

const char *exposition_le(__u32 kind, __u32 slot, char *out)
{
	if (slot >= IOGUARD_HIST_SLOTS - 1) {
		strcpy(out, "+Inf");
		return out;
	}
	format_go_g(1ULL << slot, kind == IOGUARD_HIST_LATENCY ? -9 : 0, out);
	return out;
}

/* ---- labels and families ---------------------------------------------------------- */

void exposition_escape(struct buf *b, const char *v)
{
	const char *run = v;

	for (; *v; v++) {
		const char *esc;

		switch (*v) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			continue;
		}
		buf__append(b, run, v - run);
		buf__append(b, esc, 2);
		run = v + 1;
	}
	buf__append(b, run, v - run);
}

/* Longest group label value: "unknown", or an __s32 in decimal with its sign. */
#define GROUP_LABEL_LEN 11

/* Writes the group label value at @p: the id, or "unknown" for IOGUARD_GROUP_UNKNOWN. */
static char *put_group(char *p, __s32 group)
{
	if (group == IOGUARD_GROUP_UNKNOWN) {
		memcpy(p, "unknown", 7);
		return p + 7;
	}
	if (group < 0) {
		*p++ = '-';
		return put_u64(p, -(__s64)group);
	}
	return put_u64(p, group);
}

/* The group label value as a C string in @tmp. */
static const char *group_label(__s32 group, char tmp[GROUP_LABEL_LEN + 1])
{
	*put_group(tmp, group) = '\0';
	return tmp;
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf__printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One label pair, preceded by a comma unless it is the first: name="escaped value". */
static void label(struct buf *b, bool first, const char *name, const char *value)
{
	if (!first)
		buf__append(b, ",", 1);
	buf__puts(b, name);
	buf__append(b, "=\"", 2);
	exposition_escape(b, value);
	buf__append(b, "\"", 1);
}

static void sample_u64(struct buf *b, __u64 v)
{
	char tmp[U64_DEC_LEN + 1];
	char *e = put_u64(tmp, v);

	*e++ = '\n';
	buf__append(b, " ", 1);
	buf__append(b, tmp, e - tmp);
}

static void sample_seconds(struct buf *b, __u64 ns)
{
	char tmp[U64_DEC_LEN + 3];
	char *e = put_ns_as_seconds(tmp, ns);

	*e++ = '\n';
	buf__append(b, " ", 1);
	buf__append(b, tmp, e - tmp);
}

/* "name{" for a sample with labels. */
static void series(struct buf *b, const char *name)
{
	buf__puts(b, name);
	buf__append(b, "{", 1);
}

/*
 * Bucket lines are copied in fixed blocks of COPY_BLOCK bytes, which the compiler turns
 * into a few vector moves, instead of memcpy() calls with a variable length: there are a
 * quarter of a million such pieces in a large scrape, and the calls were the cost. A
 * piece of n bytes therefore reads and writes up to n rounded up to a block: the sources
 * are arrays of whole blocks, and the writer reserves COPY_BLOCK bytes of slack past the
 * last line it writes. What a block writes past a piece is overwritten by the next piece
 * or lies past the end of the text.
 */
#define COPY_BLOCK 32

static inline char *put_blocks(char *p, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += COPY_BLOCK)
		memcpy(p + i, src + i, COPY_BLOCK);
	return p + len;
}

/* Appends a string literal at @p and advances @p. */
#define PUT_LIT(p, lit) do { memcpy(p, lit, sizeof(lit) - 1); (p) += sizeof(lit) - 1; } while (0)

static char *put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/*
 * The op and result label values with their lengths, looked up once per render rather
 * than measured on each of the ten thousand lines that carry them.
 */
struct label_names {
	const char *op[IOGUARD_OP_COUNT + 1];	/* the last: "unknown" for out of range */
	unsigned char op_len[IOGUARD_OP_COUNT + 1];
	const char *result[IOGUARD_RESULT_COUNT];
	unsigned char result_len[IOGUARD_RESULT_COUNT];
};

static void label_names_init(struct label_names *t)
{
	__u32 i;

	for (i = 0; i <= IOGUARD_OP_COUNT; i++) {
		t->op[i] = abi_op_name(i);
		t->op_len[i] = strlen(t->op[i]);
	}
	for (i = 0; i < IOGUARD_RESULT_COUNT; i++) {
		t->result[i] = abi_result_name(i);
		t->result_len[i] = strlen(t->result[i]);
	}
}

/* The snapshot's adders refuse an op out of range; should one get here, it is "unknown". */
static __u32 op_index(__u32 op)
{
	return op < IOGUARD_OP_COUNT ? op : IOGUARD_OP_COUNT;
}

/*
 * The per-slot tails of the _bucket lines of one kind, `0.000131072"} `, one block each
 * (the longest, `1.073741824e+09"} `, is 18 bytes).
 */
struct le_tails {
	char s[IOGUARD_HIST_SLOTS][COPY_BLOCK];
	unsigned char len[IOGUARD_HIST_SLOTS];
};

static void le_tails_init(struct le_tails *t, __u32 kind)
{
	char le[EXPOSITION_LE_LEN];
	__u32 slot;

	memset(t, 0, sizeof(*t));
	for (slot = 0; slot < IOGUARD_HIST_SLOTS; slot++)
		t->len[slot] = snprintf(t->s[slot], sizeof(t->s[slot]), "%s\"} ",
					exposition_le(kind, slot, le));
}

/*
 * The start of every _bucket line of one histogram, `NAME_bucket{group="12",op="map",le="`,
 * in whole blocks; the labels `group="12",op="map"` are also the labels of _sum and _count.
 */
#define HIST_PREFIX_CAP (6 * COPY_BLOCK)

struct hist_prefix {
	char s[HIST_PREFIX_CAP];
	size_t len;
	size_t labels;		/* offset of the labels in @s */
	size_t labels_len;
};

/* 0, or -ENAMETOOLONG when @name and @labels (`group="12",op="map"`) do not fit. */
static int hist_prefix_init(struct hist_prefix *pre, const char *name, size_t name_len,
			    const char *labels, size_t labels_len)
{
	char *p = pre->s;

	/* One block to spare: the labels, inside @s, are also copied in whole blocks. */
	if (name_len + labels_len + sizeof("_bucket{,le=\"") > sizeof(pre->s) - COPY_BLOCK)
		return -ENAMETOOLONG;
	memset(pre->s, 0, sizeof(pre->s));
	p = put_str(p, name, name_len);
	PUT_LIT(p, "_bucket{");
	pre->labels = p - pre->s;
	p = put_str(p, labels, labels_len);
	pre->labels_len = labels_len;
	PUT_LIT(p, ",le=\"");
	pre->len = p - pre->s;
	return 0;
}

/* One _bucket line: the prefix, the le tail of @slot, then @cum. */
static inline char *put_bucket(char *p, const struct hist_prefix *pre,
			       const struct le_tails *le, __u32 slot, __u64 cum)
{
	p = put_blocks(p, pre->s, pre->len);
	memcpy(p, le->s[slot], COPY_BLOCK);
	p += le->len[slot];
	p = put_u64(p, cum);
	*p++ = '\n';
	return p;
}

/*
 * `NAME_sum{labels} ` or `NAME_count{labels} ` (@what: "_sum{" or "_count{"), with the
 * name and the labels taken from the bucket prefix, which starts with the name.
 */
static inline char *put_sum_count_head(char *p, const struct hist_prefix *pre,
				       size_t name_len, const char *what, size_t what_len)
{
	p = put_blocks(p, pre->s, name_len);
	p = put_str(p, what, what_len);
	p = put_blocks(p, pre->s + pre->labels, pre->labels_len);
	PUT_LIT(p, "} ");
	return p;
}

/*
 * One histogram: _bucket lines for the exported window (exposition_first_slot(kind) ..
 * EXPOSITION_LAST_SLOT) and +Inf, then _sum and _count. The buckets are the running sum
 * of the slots, so the first one also counts every slot below the window and +Inf the
 * slots above it. _count is the +Inf bucket (the sum of all slots), not hist.count: the
 * BPF side bumps a slot and the count with separate atomic adds, so a snapshot taken
 * mid-update could otherwise disagree with itself.
 */
static void write_hist(struct buf *b, const char *name, size_t name_len, const char *labels,
		       size_t labels_len, __u32 kind, const struct ioguard_hist *hist,
		       const struct le_tails *le)
{
	__u32 first = exposition_first_slot(kind), slot;
	struct hist_prefix pre;
	size_t line_max;
	__u64 cum = 0;
	char *p;
	int err;

	err = hist_prefix_init(&pre, name, name_len, labels, labels_len);
	if (err) {
		b->err = b->err ?: err;
		return;
	}
	/*
	 * No line is longer than line_max: a bucket line is the prefix, a tail shorter than
	 * a block, a count and a newline; _sum and _count repeat only the name and labels
	 * of the prefix, with at most U64_DEC_LEN + 2 characters of value.
	 */
	line_max = pre.len + COPY_BLOCK + U64_DEC_LEN + 3;
	if (buf__reserve(b, line_max * (EXPOSITION_LAST_SLOT - first + 4) + COPY_BLOCK))
		return;
	p = b->data + b->len;
	for (slot = 0; slot < first; slot++)
		cum += hist->slots[slot];
	for (; slot <= EXPOSITION_LAST_SLOT; slot++) {
		cum += hist->slots[slot];
		p = put_bucket(p, &pre, le, slot, cum);
	}
	for (; slot < IOGUARD_HIST_SLOTS; slot++)
		cum += hist->slots[slot];
	p = put_bucket(p, &pre, le, IOGUARD_HIST_SLOTS - 1, cum);
	p = put_sum_count_head(p, &pre, name_len, "_sum{", 5);
	if (kind == IOGUARD_HIST_LATENCY)
		p = put_ns_as_seconds(p, hist->sum);
	else
		p = put_u64(p, hist->sum);
	*p++ = '\n';
	p = put_sum_count_head(p, &pre, name_len, "_count{", 7);
	p = put_u64(p, cum);
	*p++ = '\n';
	*p = '\0';
	b->len = p - b->data;
}

/* Longest label text of a histogram: group, then at most two labels of short values. */
#define HIST_LABELS_LEN 128

static void write_hists(struct buf *b, const struct metrics_snapshot *s, __u32 kind,
			const char *name, const struct label_names *names)
{
	size_t name_len = strlen(name), i;
	char labels[HIST_LABELS_LEN];
	struct le_tails le;

	le_tails_init(&le, kind);
	for (i = 0; i < s->hists.n && !b->err; i++) {
		const struct metrics_hist_entry *e = &s->hists.v[i];
		__u32 op = op_index(e->op);
		char *p = labels;

		if (e->kind != kind)
			continue;
		PUT_LIT(p, "group=\"");
		p = put_group(p, e->group);
		PUT_LIT(p, "\",op=\"");
		p = put_str(p, names->op[op], names->op_len[op]);
		PUT_LIT(p, "\"");
		write_hist(b, name, name_len, labels, p - labels, kind, &e->hist, &le);
	}
}

static bool op_has_bytes(__u32 op)
{
	return op == IOGUARD_OP_MAP || op == IOGUARD_OP_UNMAP || op == IOGUARD_OP_UNMAP_FAST ||
	       op == IOGUARD_OP_MAP_SG;
}

/*
 * The calls or bytes counters, one line each, written in place: op and result names are
 * this program's own identifiers (abi_names.c), with nothing to escape.
 */
static void write_calls(struct buf *b, const struct metrics_snapshot *s, bool bytes,
			const struct label_names *names)
{
	const char *name = bytes ? "ioguard_iommu_bytes_total" : "ioguard_iommu_calls_total";
	size_t name_len = strlen(name), i;

	for (i = 0; i < s->calls.n; i++) {
		const struct metrics_calls_entry *e = &s->calls.v[i];
		const char *op = names->op[op_index(e->op)];
		size_t op_len = names->op_len[op_index(e->op)];
		const char *result = names->result[e->result];
		size_t result_len = names->result_len[e->result];
		char *p;

		if (bytes && !op_has_bytes(e->op))
			continue;
		if (buf__reserve(b, name_len + op_len + result_len + GROUP_LABEL_LEN +
				    sizeof("{group=\"\",op=\"\",result=\"\"} \n") + U64_DEC_LEN))
			return;
		p = b->data + b->len;
		p = put_str(p, name, name_len);
		PUT_LIT(p, "{group=\"");
		p = put_group(p, e->group);
		PUT_LIT(p, "\",op=\"");
		p = put_str(p, op, op_len);
		PUT_LIT(p, "\",result=\"");
		p = put_str(p, result, result_len);
		PUT_LIT(p, "\"} ");
		p = put_u64(p, bytes ? e->bytes : e->calls);
		*p++ = '\n';
		*p = '\0';
		b->len = p - b->data;
	}
}

/* `group="5",cause="unmap",kind="iotlb"` into @out (HIST_LABELS_LEN); its length. */
static size_t inval_labels(char *out, const struct metrics_inval_entry *e)
{
	char *p = out;

	PUT_LIT(p, "group=\"");
	p = put_group(p, e->group);
	PUT_LIT(p, "\",cause=\"");
	p = put_str(p, abi_inval_cause_name(e->cause), strlen(abi_inval_cause_name(e->cause)));
	PUT_LIT(p, "\",kind=\"");
	p = put_str(p, abi_inval_kind_name(e->kind), strlen(abi_inval_kind_name(e->kind)));
	PUT_LIT(p, "\"");
	return p - out;
}

static void write_invalidations(struct buf *b, const struct metrics_snapshot *s)
{
	static const char duration[] = "ioguard_iotlb_invalidation_duration_seconds";
	char labels[HIST_LABELS_LEN];
	struct le_tails le;
	size_t i, n;

	family(b, "ioguard_iotlb_invalidations_total", "counter",
	       "Invalidation descriptors the IOMMU driver submitted (Intel VT-d queued "
	       "invalidation), by IOMMU group, cause (the driver flush: unmap, map, flush_all, "
	       "or none) and kind (iotlb, dev_tlb, context, ...). Group unknown: no flush of a "
	       "known domain submitted it.");
	for (i = 0; i < s->invals.n; i++) {
		const struct metrics_inval_entry *e = &s->invals.v[i];

		if (!e->descriptors)
			continue;
		n = inval_labels(labels, e);
		buf__puts(b, "ioguard_iotlb_invalidations_total{");
		buf__append(b, labels, n);
		buf__append(b, "}", 1);
		sample_u64(b, e->descriptors);
	}

	family(b, duration, "histogram",
	       "Time to submit invalidations and see them completed (qi_submit_sync(), entry "
	       "to return): one observation per submission of one or more descriptors, "
	       "labelled by its first descriptor. Bucket bounds are powers of two nanoseconds.");
	le_tails_init(&le, IOGUARD_HIST_LATENCY);
	for (i = 0; i < s->invals.n && !b->err; i++) {
		const struct metrics_inval_entry *e = &s->invals.v[i];

		if (!e->latency.count)
			continue;
		n = inval_labels(labels, e);
		write_hist(b, duration, sizeof(duration) - 1, labels, n, IOGUARD_HIST_LATENCY,
			   &e->latency, &le);
	}
}

/* Series of a one-label counter family: name{label="value"} count. */
static void write_labelled_counts(struct buf *b, const char *name, const char *label_name,
				  const struct metrics_labelled_counts *counts)
{
	size_t i;

	for (i = 0; i < counts->n; i++) {
		series(b, name);
		label(b, true, label_name, counts->v[i].label);
		buf__append(b, "}", 1);
		sample_u64(b, counts->v[i].count);
	}
}

/* The families of `ioguard run` (struct metrics_daemon), only when it filled them. */
static void write_daemon_families(struct buf *b, const struct metrics_daemon *d)
{
	if (!d->present)
		return;
	family(b, "ioguard_policy_reloads_total", "counter",
	       "Policy reloads by the ioguard daemon (SIGHUP or a change of the file), by "
	       "result: ok (the new policy is in force), error (refused; the previous policy "
	       "stays in force) or timeout (the file was not read, checked and compiled within "
	       "the deadline; the previous policy stays in force).");
	write_labelled_counts(b, "ioguard_policy_reloads_total", "result", &d->reloads);

	family(b, "ioguard_policy_file_refused", "gauge",
	       "1 while the daemon's policy file is not the policy in force because its last "
	       "reload was refused or timed out; 0 once a reload puts it in force or finds it "
	       "back to the policy in force.");
	buf__puts(b, "ioguard_policy_file_refused");
	sample_u64(b, d->policy_file_refused);

	family(b, "ioguard_topology_changes_total", "counter",
	       "Changes of the IOMMU topology the daemon saw: a device joined or left a group, "
	       "or a device of a group the policy in force names changed driver.");
	write_labelled_counts(b, "ioguard_topology_changes_total", "kind", &d->topology_changes);
}

/* ioguard_build_info: one series, always 1. */
static void write_build_info(struct buf *b, const struct metrics_snapshot *s)
{
	family(b, "ioguard_build_info", "gauge",
	       "Build of the running ioguard; mode is the attach mode of the BPF programs "
	       "(fentry, tp_btf, or none when no program is loaded). Always 1.");
	series(b, "ioguard_build_info");
	label(b, true, "version", s->version[0] ? s->version : "unknown");
	label(b, false, "mode", s->mode[0] ? s->mode : "none");
	buf__append(b, "}", 1);
	sample_u64(b, 1);
}

/* The histograms and counters of the traced IOMMU operations. */
static void write_iommu_ops(struct buf *b, const struct metrics_snapshot *s)
{
	struct label_names names;

	label_names_init(&names);

	family(b, "ioguard_iommu_op_latency_seconds", "histogram",
	       "Time spent in IOMMU attach, ownership and map operations (fentry to fexit), "
	       "by IOMMU group and op. Bucket bounds are powers of two nanoseconds.");
	write_hists(b, s, IOGUARD_HIST_LATENCY, "ioguard_iommu_op_latency_seconds", &names);

	family(b, "ioguard_iommu_op_size_bytes", "histogram",
	       "Size requested by IOMMU map and unmap operations, by IOMMU group and op. "
	       "Bucket bounds are powers of two bytes.");
	write_hists(b, s, IOGUARD_HIST_SIZE, "ioguard_iommu_op_size_bytes", &names);

	family(b, "ioguard_iommu_calls_total", "counter",
	       "IOMMU operations finished, by IOMMU group, op and result (ok or error).");
	write_calls(b, s, false, &names);

	family(b, "ioguard_iommu_bytes_total", "counter",
	       "Bytes requested by IOMMU map and unmap operations, by IOMMU group, op and "
	       "result.");
	write_calls(b, s, true, &names);
}

/* The faults the IOMMU reported: IO page faults and VT-d DMA-remapping faults. */
static void write_faults(struct buf *b, const struct metrics_snapshot *s)
{
	char gtmp[GROUP_LABEL_LEN + 1];
	size_t i;

	family(b, "ioguard_io_page_faults_total", "counter",
	       "IO page faults reported by the IOMMU (iommu:io_page_fault), by device and "
	       "IOMMU group.");
	for (i = 0; i < s->faults.n; i++) {
		const struct metrics_fault_entry *e = &s->faults.v[i];

		series(b, "ioguard_io_page_faults_total");
		label(b, true, "device", e->device);
		label(b, false, "group", group_label(e->group, gtmp));
		buf__append(b, "}", 1);
		sample_u64(b, e->faults);
	}

	family(b, "ioguard_dma_faults_total", "counter",
	       "DMA-remapping faults the IOMMU recorded (VT-d fault records), by requesting "
	       "device, its IOMMU group, kind (read, write or interrupt) and fault reason code.");
	for (i = 0; i < s->dma_faults.n; i++) {
		const struct metrics_dma_fault_entry *e = &s->dma_faults.v[i];
		char reason[DMA_FAULT_REASON_LEN];

		dma_fault_reason_str(e->reason, reason);
		series(b, "ioguard_dma_faults_total");
		label(b, true, "device", e->device);
		label(b, false, "group", group_label(e->group, gtmp));
		label(b, false, "kind", abi_dma_fault_kind_name(e->kind));
		label(b, false, "reason", reason);
		buf__append(b, "}", 1);
		sample_u64(b, e->faults);
	}
}

static void write_decisions(struct buf *b, const struct metrics_snapshot *s)
{
	size_t i;

	family(b, "ioguard_policy_decisions_total", "counter",
	       "Policy decisions taken by the enforcement hooks, by hook, decision, reason and "
	       "tenant.");
	for (i = 0; i < s->decisions.n; i++) {
		const struct metrics_decision_entry *e = &s->decisions.v[i];

		series(b, "ioguard_policy_decisions_total");
		label(b, true, "hook", e->hook);
		label(b, false, "decision", e->decision);
		label(b, false, "reason", e->reason);
		label(b, false, "tenant", e->tenant);
		buf__append(b, "}", 1);
		sample_u64(b, e->count);
	}
}

/* The IOMMU groups of the host: info, device count, viability under both rules. */
static void write_groups(struct buf *b, const struct metrics_snapshot *s)
{
	char gtmp[GROUP_LABEL_LEN + 1];
	size_t i;

	family(b, "ioguard_group_info", "gauge",
	       "IOMMU groups of the host; type is the default domain type (DMA, DMA-FQ, "
	       "identity, ...). Always 1.");
	for (i = 0; i < s->groups.n; i++) {
		const struct metrics_group_entry *e = &s->groups.v[i];

		series(b, "ioguard_group_info");
		label(b, true, "group", group_label(e->group, gtmp));
		label(b, false, "type", e->type[0] ? e->type : "unknown");
		buf__append(b, "}", 1);
		sample_u64(b, 1);
	}

	family(b, "ioguard_group_devices", "gauge", "Devices in the IOMMU group.");
	for (i = 0; i < s->groups.n; i++) {
		series(b, "ioguard_group_devices");
		label(b, true, "group", group_label(s->groups.v[i].group, gtmp));
		buf__append(b, "}", 1);
		sample_u64(b, s->groups.v[i].devices);
	}

	family(b, "ioguard_group_viable", "gauge",
	       "1 when the IOMMU group is viable for user-space DMA under the rule: kernel "
	       "(what VFIO_GROUP_FLAGS_VIABLE reports) or strict (every endpoint bound to VFIO "
	       "and claimed by one owner).");
	for (i = 0; i < s->groups.n; i++) {
		const struct metrics_group_entry *e = &s->groups.v[i];
		const char *g = group_label(e->group, gtmp);

		series(b, "ioguard_group_viable");
		label(b, true, "group", g);
		label(b, false, "rule", "kernel");
		buf__append(b, "}", 1);
		sample_u64(b, e->viable_kernel);
		series(b, "ioguard_group_viable");
		label(b, true, "group", g);
		label(b, false, "rule", "strict");
		buf__append(b, "}", 1);
		sample_u64(b, e->viable_strict);
	}
}

static void write_events_lost(struct buf *b, const struct metrics_snapshot *s)
{
	__u32 r;

	family(b, "ioguard_events_lost_total", "counter",
	       "Trace events lost in the kernel, by reason: ringbuf_full (the ring buffer was "
	       "full), call_table_full (no room to time a call) or fault_table_full (a fault "
	       "of a new device, kind or reason found its table full and was not counted). "
	       "The other families still count these operations; call_table_full loses only "
	       "their latency.");
	for (r = 0; r < IOGUARD_LOST_REASON_COUNT; r++) {
		series(b, "ioguard_events_lost_total");
		label(b, true, "reason", abi_lost_reason_name(r));
		buf__append(b, "}", 1);
		sample_u64(b, s->lost[r]);
	}
}

/* kernel.bpf_stats_enabled and what the kernel counted for each program. */
static void write_bpf_stats(struct buf *b, const struct metrics_snapshot *s)
{
	size_t i;

	family(b, "ioguard_bpf_stats_enabled", "gauge",
	       "1 when kernel.bpf_stats_enabled is on; while it is 0 the kernel does not count "
	       "program runs and the ioguard_bpf_program_* counters stand still.");
	buf__puts(b, "ioguard_bpf_stats_enabled");
	sample_u64(b, s->bpf_stats_enabled);

	family(b, "ioguard_bpf_program_runs_total", "counter",
	       s->bpf_stats_enabled ?
	       "Runs of each ioguard BPF program (kernel bpf_stats)." :
	       "Runs of each ioguard BPF program (kernel bpf_stats). Not counting now: "
	       "kernel.bpf_stats_enabled is 0.");
	for (i = 0; i < s->progs.n; i++) {
		series(b, "ioguard_bpf_program_runs_total");
		label(b, true, "program", s->progs.v[i].name);
		buf__append(b, "}", 1);
		sample_u64(b, s->progs.v[i].run_cnt);
	}

	family(b, "ioguard_bpf_program_run_seconds_total", "counter",
	       s->bpf_stats_enabled ?
	       "Time spent running each ioguard BPF program (kernel bpf_stats)." :
	       "Time spent running each ioguard BPF program (kernel bpf_stats). Not counting "
	       "now: kernel.bpf_stats_enabled is 0.");
	for (i = 0; i < s->progs.n; i++) {
		series(b, "ioguard_bpf_program_run_seconds_total");
		label(b, true, "program", s->progs.v[i].name);
		buf__append(b, "}", 1);
		sample_seconds(b, s->progs.v[i].run_time_ns);
	}
}

int exposition_render(const struct metrics_snapshot *s, struct buf *out)
{
	write_build_info(out, s);
	write_iommu_ops(out, s);
	write_faults(out, s);
	write_invalidations(out, s);
	write_decisions(out, s);
	write_groups(out, s);
	write_events_lost(out, s);
	write_bpf_stats(out, s);
	exposition_render_posture(s, out);
	write_daemon_families(out, &s->daemon);
	return out->err;
}
