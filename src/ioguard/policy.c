// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy files: reading (size and owner checks), a text pre-scan, a schema-driven parser
 * over libyaml's event stream, and the static cross-checks. The format is in
 * docs/policy.md; keep the two in step.
 *
 * The parser consumes libyaml events and never builds a document tree: aliases, anchors
 * and tags are refused as soon as they appear, so no alias is ever expanded (no
 * "billion laughs"), and nesting is only ever as deep as the schema. Parsing stops at
 * the first error; the error names the position libyaml gave for the offending event.
 *
 * Convention of the parse_*() functions: on entry the parser's current event is the
 * first event of the node to parse (a scalar or a *_START); on success the current event
 * is the node's last event (the same scalar or the matching *_END).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sha2.h>
#include <yaml.h>

#include "array_size.h"
#include "policy.h"

void policy_hash_hex(const uint8_t hash[POLICY_HASH_SIZE], char hex[2 * POLICY_HASH_SIZE + 1])
{
	int i;

	for (i = 0; i < POLICY_HASH_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
}

void policy__hash_hex(const struct policy *p, char *buf)
{
	policy_hash_hex(p->hash, buf);
}

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                */

struct parser {
	yaml_parser_t yaml;
	yaml_event_t ev;	/* the current event, valid while have_ev */
	bool have_ev;
	const char *path;
	const unsigned char *buf;
	size_t len;
	struct policy *p;
	struct policy_error *err;
};

static bool err_usable(const struct policy_error *e)
{
	return e && e->sz >= sizeof(*e);
}

/* Records an error; line 0 means "no position". Returns @code, for `return fail(...)`. */
static int __attribute__((format(printf, 6, 7)))
fail_at(struct policy_error *e, const char *path, int code, unsigned int line,
	unsigned int column, const char *fmt, ...)
{
	va_list ap;

	if (!err_usable(e))
		return code;
	va_start(ap, fmt);
	vsnprintf(e->cause, sizeof(e->cause), fmt, ap);
	va_end(ap);
	e->err = code;
	e->line = line;
	e->column = line ? column : 0;
	if (line)
		snprintf(e->msg, sizeof(e->msg), "%s:%u:%u: error: %s", path, line, column,
			 e->cause);
	else
		snprintf(e->msg, sizeof(e->msg), "%s: error: %s", path, e->cause);
	return code;
}

#define fail(ps, mark, ...) \
	fail_at((ps)->err, (ps)->path, -EINVAL, (mark)->line + 1, (mark)->column + 1, __VA_ARGS__)

/*
 * A user value made fit for a one-line message: at most 48 bytes, cut at a character
 * boundary, with "..." when cut; control characters shown as '?'. The text is UTF-8
 * (scan_text() made sure), so other bytes pass through.
 */
struct qbuf {
	char s[60];
};

static const char *quote(struct qbuf *q, const char *s)
{
	size_t i;

	for (i = 0; s[i] && (i < 48 || ((unsigned char)s[i] & 0xc0) == 0x80); i++)
		q->s[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i])
		strcpy(q->s + i, "...");
	else
		q->s[i] = '\0';
	return q->s;
}

/* quote() between single quotes, for "found 'x'". */
static const char *quote_found(struct qbuf *q, const char *s)
{
	struct qbuf in;

	snprintf(q->s, sizeof(q->s), "'%s'", quote(&in, s));
	return q->s;
}

/* ------------------------------------------------------------------------------------ */
/* Reading the file                                                                      */

static int read_file(const char *path, const struct policy_load_opts *opts,
		     unsigned char **out, size_t *out_len, struct policy_error *e)
{
	bool check_owner = !(opts && opts->sz > offsetof(struct policy_load_opts,
							 skip_owner_check) &&
			     opts->skip_owner_check);
	unsigned char *buf = NULL, *nbuf;
	size_t len = 0, cap;
	struct stat st;
	ssize_t n;
	int fd, err;

	/*
	 * O_NONBLOCK: a FIFO (or a device) at the path must be refused below, not block the
	 * open (and with it a daemon's loop) until a writer shows up. It does nothing to the
	 * reads of a regular file.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		fail_at(e, path, err, 0, 0, "cannot open: %s", strerror(-err));
		goto out;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		fail_at(e, path, err, 0, 0, "cannot stat: %s", strerror(-err));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = fail_at(e, path, -EISDIR, 0, 0, "is a directory, not a policy file");
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err = fail_at(e, path, -EINVAL, 0, 0,
			      "is a %s, not a regular file: policy files must be regular files",
			      S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ? "socket" :
			      S_ISCHR(st.st_mode) ? "character device" :
			      S_ISBLK(st.st_mode) ? "block device" : "special file");
		goto out_close;
	}
	if (check_owner && st.st_uid != 0) {
		err = fail_at(e, path, -EPERM, 0, 0,
			      "owned by uid %u, not by root: policy files must be owned by root, "
			      "like sudoers", (unsigned int)st.st_uid);
		goto out_close;
	}
	if (check_owner && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = fail_at(e, path, -EPERM, 0, 0,
			      "writable by %s (mode %04o): policy files must be writable by "
			      "root only (chmod go-w)",
			      (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH) ? "group and others" :
			      (st.st_mode & S_IWGRP) ? "group" : "others",
			      (unsigned int)(st.st_mode & 07777));
		goto out_close;
	}
	if (st.st_size > POLICY_MAX_FILE_SIZE) {
		err = fail_at(e, path, -EFBIG, 1, 1,
			      "file is %lld bytes, above the %d-byte (1 MiB) limit for policy "
			      "files", (long long)st.st_size, POLICY_MAX_FILE_SIZE);
		goto out_close;
	}
	/* Read at its size, plus one byte to see a file that grew since the fstat(). */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		err = fail_at(e, path, -ENOMEM, 0, 0, "out of memory");
		goto out_close;
	}
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_MAX_FILE_SIZE)
				break;
			cap = cap * 2 > POLICY_MAX_FILE_SIZE + 1 ? POLICY_MAX_FILE_SIZE + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				err = fail_at(e, path, -ENOMEM, 0, 0, "out of memory");
				goto out_free;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			fail_at(e, path, err, 0, 0, "cannot read: %s", strerror(-err));
			goto out_free;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > POLICY_MAX_FILE_SIZE) {
		err = fail_at(e, path, -EFBIG, 1, 1,
			      "file is larger than the %d-byte (1 MiB) limit for policy files",
			      POLICY_MAX_FILE_SIZE);
		goto out_free;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	err = 0;
out_free:
	free(buf);
out_close:
	close(fd);
out:
	return err;
}

/*
 * Refuses what is not UTF-8 text before libyaml sees it: libyaml reports such problems
 * with a byte offset only, and binary junk deserves a plain word. Lines and columns count
 * characters, as libyaml's marks do.
 */
static int scan_text(struct parser *ps)
{
	const unsigned char *b = ps->buf;
	yaml_mark_t m = { 0 };
	size_t i = 0, n, k;
	uint32_t c;

	if (ps->len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;	/* a UTF-8 byte order mark, which libyaml skips */
	while (i < ps->len) {
		c = b[i];
		if (c == 0)
			return fail(ps, &m, "binary data (NUL byte); policy files must be UTF-8 text");
		if (c < 0x80) {
			n = 1;
		} else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
			n = 2;
			c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
			n = 4;
			c &= 0x07;
		} else {
			goto bad_utf8;
		}
		if (i + n > ps->len)
			goto bad_utf8;
		for (k = 1; k < n; k++) {
			if ((b[i + k] & 0xc0) != 0x80)
				goto bad_utf8;
			c = c << 6 | (b[i + k] & 0x3f);
		}
		if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			goto bad_utf8;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c < 0xa0) ||
		    c == 0xfffe || c == 0xffff)
			return fail(ps, &m, "control character U+%04X; policy files must be text",
				    (unsigned int)c);
		if (c == '\n' || (c == '\r' && (i + 1 == ps->len || b[i + 1] != '\n'))) {
			m.line++;
			m.column = 0;
		} else if (c != '\r') {
			m.column++;
		}
		i += n;
	}
	return 0;
bad_utf8:
	return fail(ps, &m, "invalid UTF-8 (byte 0x%02x); policy files must be UTF-8 text", b[i]);
}

/* ------------------------------------------------------------------------------------ */
/* Events                                                                                */

static int syntax_error(struct parser *ps)
{
	yaml_parser_t *y = &ps->yaml;
	const char *problem = y->problem ? y->problem : "unknown problem";

	if (y->error == YAML_MEMORY_ERROR)
		return fail_at(ps->err, ps->path, -ENOMEM, 0, 0, "out of memory");
	if (y->context)
		return fail(ps, &y->problem_mark,
			    "YAML syntax error: %s (%s that starts at line %zu, column %zu)",
			    problem, y->context, y->context_mark.line + 1,
			    y->context_mark.column + 1);
	return fail(ps, &y->problem_mark, "YAML syntax error: %s", problem);
}

/* Replaces the current event with the next one; refuses aliases, anchors and tags. */
static int next_event(struct parser *ps)
{
	const yaml_event_t *ev = &ps->ev;
	yaml_char_t *anchor = NULL, *tag = NULL;
	struct qbuf q;

	if (ps->have_ev) {
		yaml_event_delete(&ps->ev);
		ps->have_ev = false;
	}
	if (!yaml_parser_parse(&ps->yaml, &ps->ev))
		return syntax_error(ps);
	ps->have_ev = true;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(ps, &ev->start_mark,
			    "YAML alias '*%s': aliases and anchors are not allowed in policy files",
			    quote(&q, (char *)ev->data.alias.anchor));
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return fail(ps, &ev->start_mark,
			    "YAML anchor '&%s': aliases and anchors are not allowed in policy files",
			    quote(&q, (char *)anchor));
	if (tag)
		return fail(ps, &ev->start_mark, "YAML tag '%s': tags are not allowed in policy files",
			    quote(&q, (char *)tag));
	if (ev->type == YAML_SCALAR_EVENT && strlen((char *)ev->data.scalar.value) !=
					     ev->data.scalar.length)
		return fail(ps, &ev->start_mark, "string contains a NUL character");
	return 0;
}

static const yaml_mark_t *cur_mark(const struct parser *ps)
{
	return &ps->ev.start_mark;
}

static const char *cur_scalar(const struct parser *ps)
{
	return (const char *)ps->ev.data.scalar.value;
}

/* "a mapping", "a list" or the quoted scalar, for "found ..." in messages. */
static const char *found(const struct parser *ps, struct qbuf *q)
{
	switch (ps->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return quote_found(q, cur_scalar(ps));
	default:
		return "nothing";
	}
}

static bool cur_is_null(const struct parser *ps)
{
	const char *v = cur_scalar(ps);

	return ps->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		!strcmp(v, "NULL"));
}

/* The current event must be a non-null scalar: the value of @key, described by @what. */
static int want_scalar(struct parser *ps, const char *key, const char *what)
{
	struct qbuf q;

	if (ps->ev.type != YAML_SCALAR_EVENT)
		return fail(ps, cur_mark(ps), "'%s' must be %s, found %s", key, what, found(ps, &q));
	if (cur_is_null(ps))
		return fail(ps, cur_mark(ps), "'%s' has no value (expected %s)", key, what);
	return 0;
}

static int want_start(struct parser *ps, yaml_event_type_t type, const char *key,
		      const char *what)
{
	struct qbuf q;

	if (ps->ev.type == YAML_SCALAR_EVENT && cur_is_null(ps))
		return fail(ps, cur_mark(ps), "'%s' has no value (expected %s)", key, what);
	if (ps->ev.type != type)
		return fail(ps, cur_mark(ps), "'%s' must be %s, found %s", key, what, found(ps, &q));
	return 0;
}

/* @arr with room for element @n: the capacity is implicitly the next power of two of n. */
static void *grow(void *arr, size_t n, size_t elem)
{
	if (n & (n - 1))
		return arr;
	return reallocarray(arr, n ? n * 2 : 1, elem);
}

/* Appends a zeroed element to @arr of @n elements; 0 or -ENOMEM (@arr unchanged). */
#define PUSH(arr, n) ({							\
	void *_a = grow((arr), (n), sizeof(*(arr)));			\
	if (_a) {							\
		(arr) = _a;						\
		memset(&(arr)[(n)], 0, sizeof(*(arr)));			\
		(n)++;							\
	}								\
	_a ? 0 : -ENOMEM;						\
})

static int oom(struct parser *ps)
{
	return fail_at(ps->err, ps->path, -ENOMEM, 0, 0, "out of memory");
}

/* ------------------------------------------------------------------------------------ */
/* Mappings with a fixed set of keys                                                     */

struct key;
typedef int (*value_fn)(struct parser *ps, void *obj, const struct key *k);

struct key {
	const char *name;
	bool required;
	value_fn parse;
};

#define MAX_KEYS 8

/*
 * Parses a block or flow mapping whose keys come from @keys, each at most once; @what
 * names the mapping in messages. The current event is the MAPPING_START.
 */
static int parse_mapping(struct parser *ps, const char *what, const struct key *keys,
			 size_t n_keys, void *obj)
{
	yaml_mark_t seen_at[MAX_KEYS], map_mark = *cur_mark(ps);
	bool seen[MAX_KEYS] = { 0 };
	char expected[128] = "";
	const struct key *k;
	struct qbuf q;
	size_t i;
	int err;

	for (;;) {
		err = next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (ps->ev.type != YAML_SCALAR_EVENT)
			return fail(ps, cur_mark(ps), "key in %s must be a name, found %s",
				    what, found(ps, &q));
		for (i = 0; i < n_keys; i++)
			if (!strcmp(cur_scalar(ps), keys[i].name))
				break;
		if (i == n_keys) {
			for (k = keys; k < keys + n_keys; k++)
				snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
					 "%s%s", k == keys ? "" : ", ", k->name);
			return fail(ps, cur_mark(ps), "unknown key '%s' in %s (expected one of: %s)",
				    quote(&q, cur_scalar(ps)), what, expected);
		}
		if (seen[i])
			return fail(ps, cur_mark(ps),
				    "duplicate key '%s' in %s (first at line %zu, column %zu)",
				    keys[i].name, what, seen_at[i].line + 1, seen_at[i].column + 1);
		seen[i] = true;
		seen_at[i] = *cur_mark(ps);
		err = next_event(ps);
		if (err)
			return err;
		err = keys[i].parse(ps, obj, &keys[i]);
		if (err)
			return err;
	}
	for (i = 0; i < n_keys; i++)
		if (keys[i].required && !seen[i])
			return fail(ps, &map_mark, "missing required key '%s' in %s", keys[i].name,
				    what);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Scalars                                                                               */

enum num_status { NUM_OK, NUM_BAD, NUM_RANGE, NUM_UNIT };

/*
 * Decimal (no leading zeros: YAML 1.1 would read them as octal) or 0x hex, then, when
 * @units, an optional binary unit, optionally after one space. *unit points at an unknown
 * unit for NUM_UNIT.
 */
static enum num_status parse_u64(const char *s, bool units, uint64_t *out, const char **unit)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	const char *p = s;
	uint64_t v = 0, d;
	bool hex = false;
	size_t i;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		p += 2;
	} else if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') {
		return NUM_BAD;
	}
	if (!(hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)))
		return NUM_BAD;
	for (; hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p); p++) {
		d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		if (v > (UINT64_MAX - d) / (hex ? 16 : 10))
			return NUM_RANGE;
		v = v * (hex ? 16 : 10) + d;
	}
	if (*p && units) {
		if (*p == ' ')
			p++;
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(p, names[i]))
				break;
		if (i == ARRAY_SIZE(names)) {
			*unit = p;
			return (*p && isalpha((unsigned char)*p)) ? NUM_UNIT : NUM_BAD;
		}
		if (v > UINT64_MAX >> (10 * (i + 1)))
			return NUM_RANGE;
		v <<= 10 * (i + 1);
		p += strlen(p);
	}
	if (*p)
		return NUM_BAD;
	*out = v;
	return NUM_OK;
}

/* An integer from 0 to @max, without units; @what is "uid", "gid", "IOMMU group". */
static int scalar_uint(struct parser *ps, const char *key, const char *what, uint64_t max,
		       uint64_t *out)
{
	const char *unit;
	struct qbuf q;
	int err;

	err = want_scalar(ps, key, "an integer");
	if (err)
		return err;
	switch (parse_u64(cur_scalar(ps), false, out, &unit)) {
	case NUM_OK:
		if (*out <= max)
			return 0;
		/* fall through */
	case NUM_RANGE:
		return fail(ps, cur_mark(ps), "%s '%s' is out of range (0 to %llu)", what,
			    quote(&q, cur_scalar(ps)), (unsigned long long)max);
	default:
		return fail(ps, cur_mark(ps),
			    "bad %s '%s' (expected an integer from 0 to %llu, decimal or 0x hex)",
			    what, quote(&q, cur_scalar(ps)), (unsigned long long)max);
	}
}

/* A byte count or address, with optional binary units. */
static int scalar_size(struct parser *ps, const char *key, uint64_t *out)
{
	const char *unit = NULL;
	struct qbuf q, qu;
	int err;

	err = want_scalar(ps, key, "a number of bytes");
	if (err)
		return err;
	switch (parse_u64(cur_scalar(ps), true, out, &unit)) {
	case NUM_OK:
		return 0;
	case NUM_RANGE:
		return fail(ps, cur_mark(ps), "'%s' for '%s' does not fit in 64 bits",
			    quote(&q, cur_scalar(ps)), key);
	case NUM_UNIT:
		return fail(ps, cur_mark(ps),
			    "unknown unit '%s' in '%s' for '%s' (expected KiB, MiB, GiB, TiB, PiB "
			    "or EiB; units are binary)", quote(&qu, unit), quote(&q, cur_scalar(ps)),
			    key);
	default:
		return fail(ps, cur_mark(ps),
			    "bad number '%s' for '%s' (expected an integer, decimal or 0x hex, "
			    "with an optional unit like 64MiB)", quote(&q, cur_scalar(ps)), key);
	}
}

static int scalar_enum(struct parser *ps, const char *key, const char *a, const char *b,
		       int *out)
{
	char what[64];
	struct qbuf q;
	int err;

	snprintf(what, sizeof(what), "%s or %s", a, b);
	err = want_scalar(ps, key, what);
	if (err)
		return err;
	if (!strcmp(cur_scalar(ps), a))
		*out = 0;
	else if (!strcmp(cur_scalar(ps), b))
		*out = 1;
	else
		return fail(ps, cur_mark(ps), "bad value '%s' for '%s' (expected %s)",
			    quote(&q, cur_scalar(ps)), key, what);
	return 0;
}

static int scalar_name(struct parser *ps, const char *key, char **out)
{
	const char *v;
	struct qbuf q;
	size_t i;
	int err;

	err = want_scalar(ps, key, "a name");
	if (err)
		return err;
	v = cur_scalar(ps);
	for (i = 0; v[i]; i++)
		if (!isalnum((unsigned char)v[i]) &&
		    (!i || (v[i] != '.' && v[i] != '_' && v[i] != '-')))
			return fail(ps, cur_mark(ps),
				    "bad name '%s' (expected letters, digits, '.', '_' and '-', "
				    "starting with a letter or digit)", quote(&q, v));
	if (!i)
		return fail(ps, cur_mark(ps), "'%s' is empty", key);
	if (i > POLICY_NAME_MAX)
		return fail(ps, cur_mark(ps), "name '%s' is longer than %d characters",
			    quote(&q, v), POLICY_NAME_MAX);
	*out = strdup(v);
	return *out ? 0 : oom(ps);
}

/* An absolute, normalised path: no empty, '.' or '..' components, no trailing '/'. */
static int scalar_path(struct parser *ps, const char *what, char **out)
{
	const char *v = cur_scalar(ps), *c;
	struct qbuf q;
	size_t n;

	if (v[0] != '/')
		return fail(ps, cur_mark(ps), "bad %s '%s' (expected an absolute path)", what,
			    quote(&q, v));
	if (strlen(v) >= 4096)
		return fail(ps, cur_mark(ps), "%s is longer than 4095 bytes", what);
	for (c = v + 1; strcmp(v, "/"); c += n + 1) {
		n = strcspn(c, "/");
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return fail(ps, cur_mark(ps),
				    "%s '%s' is not normalised (no '.', '..' or empty components, "
				    "no trailing '/')", what, quote(&q, v));
		if (!c[n])
			break;
	}
	*out = strdup(v);
	return *out ? 0 : oom(ps);
}

/* ------------------------------------------------------------------------------------ */
/* Tenants: match                                                                        */

/* A scalar or a non-empty list of scalars, each handed to @one. */
static int scalar_or_list(struct parser *ps, const struct key *k, const char *what,
			  struct policy_tenant *t,
			  int (*one)(struct parser *ps, const char *key, struct policy_tenant *t))
{
	yaml_mark_t list_mark;
	bool empty = true;
	struct qbuf q;
	int err;

	if (ps->ev.type == YAML_SCALAR_EVENT) {
		err = want_scalar(ps, k->name, what);
		return err ? err : one(ps, k->name, t);
	}
	err = want_start(ps, YAML_SEQUENCE_START_EVENT, k->name, what);
	if (err)
		return err;
	list_mark = *cur_mark(ps);
	for (;;) {
		err = next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_SCALAR_EVENT)
			return fail(ps, cur_mark(ps), "items of '%s' must be scalars, found %s",
				    k->name, found(ps, &q));
		err = want_scalar(ps, k->name, what);
		if (err)
			return err;
		err = one(ps, k->name, t);
		if (err)
			return err;
		empty = false;
	}
	if (empty)
		return fail(ps, &list_mark, "'%s' is an empty list (leave the key out to match any)",
			    k->name);
	return 0;
}

static int one_id(struct parser *ps, const char *key, uint32_t **arr, size_t *n)
{
	uint64_t v;
	int err;

	err = scalar_uint(ps, key, key, UINT32_MAX - 1, &v);
	if (err)
		return err;
	if (PUSH(*arr, *n))
		return oom(ps);
	(*arr)[*n - 1] = v;
	return 0;
}

static int one_uid(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_id(ps, key, &t->uids, &t->n_uids);
}

static int one_gid(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_id(ps, key, &t->gids, &t->n_gids);
}

static int one_path(struct parser *ps, const char *what, char ***arr, size_t *n)
{
	if (PUSH(*arr, *n))
		return oom(ps);
	return scalar_path(ps, what, &(*arr)[*n - 1]);
}

static int one_cgroup(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_path(ps, "cgroup path", &t->cgroups, &t->n_cgroups);
}

static int one_exe(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_path(ps, "executable path", &t->exes, &t->n_exes);
}

static bool hexn(const char *s, size_t n, uint32_t *out);

/* 64 hexadecimal digits, as sha256sum prints them; either case. */
static int one_exe_sha256(struct parser *ps, const char *key, struct policy_tenant *t)
{
	const char *v = cur_scalar(ps);
	uint32_t byte = 0;
	struct qbuf q;
	size_t i;

	if (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64)
		return fail(ps, cur_mark(ps), "bad %s '%s' (expected a SHA-256 digest: 64 "
			    "hexadecimal digits, as sha256sum prints it)", key, quote(&q, v));
	if (PUSH(t->exe_sha256, t->n_exe_sha256))
		return oom(ps);
	for (i = 0; i < 32; i++) {
		hexn(v + 2 * i, 2, &byte);
		t->exe_sha256[t->n_exe_sha256 - 1][i] = byte;
	}
	return 0;
}

static int v_uid(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "an integer or a list of integers", obj, one_uid);
}

static int v_gid(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "an integer or a list of integers", obj, one_gid);
}

static int v_cgroup(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a path or a list of paths", obj, one_cgroup);
}

static int v_exe(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a path or a list of paths", obj, one_exe);
}

static int v_exe_sha256(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a SHA-256 digest or a list of them", obj, one_exe_sha256);
}

static const struct key match_keys[] = {
	{ "uid", false, v_uid },
	{ "gid", false, v_gid },
	{ "cgroup", false, v_cgroup },
	{ "exe", false, v_exe },
	{ "exe_sha256", false, v_exe_sha256 },
};

static int v_match(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;
	yaml_mark_t mark;
	int err;

	err = want_start(ps, YAML_MAPPING_START_EVENT, k->name,
			 "a mapping with uid, gid, cgroup, exe or exe_sha256");
	if (err)
		return err;
	mark = *cur_mark(ps);
	err = parse_mapping(ps, "match", match_keys, ARRAY_SIZE(match_keys), t);
	if (err)
		return err;
	if (!t->n_uids && !t->n_gids && !t->n_cgroups && !t->n_exes && !t->n_exe_sha256)
		return fail(ps, &mark, "'match' is empty (expected at least one of: uid, gid, "
			    "cgroup, exe, exe_sha256)");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Tenants: devices                                                                      */

static bool hexn(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v << 4 | (isdigit((unsigned char)s[i]) ? s[i] - '0' :
			      tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = v;
	return true;
}

/* [DOMAIN:]BUS:DEVICE.FUNCTION; DOMAIN is 4 to 8 hex digits (VMD domains have 5). */
static int dev_bdf(struct parser *ps, struct policy_device *d)
{
	const char *v = cur_scalar(ps), *bus = v, *colon;
	uint32_t dom = 0, b, dv, fn;
	struct qbuf q;
	size_t dl;

	colon = strchr(v, ':');
	if (colon && strchr(colon + 1, ':')) {
		dl = colon - v;
		if (dl < 4 || dl > 8 || !hexn(v, dl, &dom))
			goto bad;
		bus = colon + 1;
	}
	if (strlen(bus) != 7 || bus[2] != ':' || bus[5] != '.' || !hexn(bus, 2, &b) ||
	    !hexn(bus + 3, 2, &dv) || !hexn(bus + 6, 1, &fn))
		goto bad;
	if (dv > 0x1f)
		return fail(ps, cur_mark(ps),
			    "bad PCI address '%s': device 0x%02x is out of range (0x00 to 0x1f)",
			    quote(&q, v), dv);
	if (fn > 7)
		return fail(ps, cur_mark(ps),
			    "bad PCI address '%s': function %x is out of range (0 to 7)",
			    quote(&q, v), fn);
	/*
	 * The programs compare the kernel's device name in IOGUARD_BDF_LEN (16) bytes, NUL
	 * included: an 8-digit domain's name loses its function there, so two functions
	 * would share one selector.
	 */
	if (dom > 0x0fffffff)
		return fail(ps, cur_mark(ps),
			    "PCI address '%s' is not supported: the enforcement programs compare "
			    "device names in 15 characters, which cut the function off a domain of "
			    "8 digits (select the device by group or id)", quote(&q, v));
	d->kind = POLICY_DEV_BDF;
	d->bdf.domain = dom;
	d->bdf.bus = b;
	d->bdf.dev = dv;
	d->bdf.fn = fn;
	return 0;
bad:
	return fail(ps, cur_mark(ps),
		    "bad PCI address '%s' (expected [DOMAIN:]BUS:DEVICE.FUNCTION in hex, like "
		    "0000:01:00.0)", quote(&q, v));
}

/* VVVV:DDDD, each 4 hex digits or '*'. */
static int dev_id(struct parser *ps, struct policy_device *d)
{
	const char *v = cur_scalar(ps);
	uint32_t ven = POLICY_PCI_ID_ANY, dev = POLICY_PCI_ID_ANY;
	const char *colon = strchr(v, ':');
	struct qbuf q;

	if (!colon ||
	    !(colon - v == 1 ? v[0] == '*' : colon - v == 4 && hexn(v, 4, &ven)) ||
	    !(!strcmp(colon + 1, "*") || (strlen(colon + 1) == 4 && hexn(colon + 1, 4, &dev))))
		return fail(ps, cur_mark(ps),
			    "bad vendor:device ID '%s' (expected VVVV:DDDD, 4 hex digits or * each, "
			    "like 8086:10d3 or 8086:*)", quote(&q, v));
	d->kind = POLICY_DEV_ID;
	d->id.vendor = ven;
	d->id.device = dev;
	return 0;
}

/* 0xCCSSPP or 0xCCSSPP/0xMMMMMM. */
static int dev_class(struct parser *ps, struct policy_device *d)
{
	const char *v = cur_scalar(ps);
	uint32_t val, mask = 0xffffff;
	size_t n = strlen(v);
	struct qbuf q;

	if ((n != 8 && n != 17) || v[0] != '0' || tolower((unsigned char)v[1]) != 'x' ||
	    !hexn(v + 2, 6, &val) ||
	    (n == 17 && (v[8] != '/' || v[9] != '0' || tolower((unsigned char)v[10]) != 'x' ||
			 !hexn(v + 11, 6, &mask))))
		return fail(ps, cur_mark(ps),
			    "bad PCI class '%s' (expected 0xCCSSPP with 6 hex digits, optionally "
			    "/0xMMMMMM as a mask, like 0x020000 or 0x020000/0xff0000)", quote(&q, v));
	if (val & ~mask)
		return fail(ps, cur_mark(ps),
			    "PCI class '%s' sets bits outside its mask (0x%06x)", quote(&q, v),
			    val & ~mask);
	d->kind = POLICY_DEV_CLASS;
	d->class.value = val;
	d->class.mask = mask;
	return 0;
}

static int dev_group(struct parser *ps, struct policy_device *d)
{
	uint64_t v;
	int err;

	err = scalar_uint(ps, "group", "IOMMU group", INT32_MAX, &v);
	if (err)
		return err;
	d->kind = POLICY_DEV_GROUP;
	d->group = v;
	return 0;
}

struct selector {
	struct policy_device *d;
	const char *first;	/* the key already seen, if any */
};

static int v_selector(struct parser *ps, void *obj, const struct key *k)
{
	static const char *const what[] = {
		[POLICY_DEV_BDF] = "a PCI address",
		[POLICY_DEV_ID] = "a vendor:device ID",
		[POLICY_DEV_CLASS] = "a PCI class",
		[POLICY_DEV_GROUP] = "an IOMMU group number",
	};
	static int (*const parse[])(struct parser *, struct policy_device *) = {
		dev_bdf, dev_id, dev_class, dev_group,
	};
	struct selector *s = obj;
	size_t kind;
	int err;

	kind = !strcmp(k->name, "bdf") ? POLICY_DEV_BDF : !strcmp(k->name, "id") ? POLICY_DEV_ID :
	       !strcmp(k->name, "class") ? POLICY_DEV_CLASS : POLICY_DEV_GROUP;
	if (s->first)
		return fail(ps, cur_mark(ps),
			    "device selector has both '%s' and '%s' (write one selector per list "
			    "item)", s->first, k->name);
	s->first = k->name;
	err = want_scalar(ps, k->name, what[kind]);
	if (err)
		return err;
	s->d->pos.line = cur_mark(ps)->line + 1;
	s->d->pos.column = cur_mark(ps)->column + 1;
	return parse[kind](ps, s->d);
}

static const struct key selector_keys[] = {
	{ "bdf", false, v_selector },
	{ "id", false, v_selector },
	{ "class", false, v_selector },
	{ "group", false, v_selector },
};

static int v_devices(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;
	yaml_mark_t list_mark, sel_mark;
	struct selector s;
	struct qbuf q;
	int err;

	err = want_start(ps, YAML_SEQUENCE_START_EVENT, k->name, "a list of device selectors");
	if (err)
		return err;
	list_mark = *cur_mark(ps);
	for (;;) {
		err = next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, cur_mark(ps),
				    "device selector must be a mapping with one of: bdf, id, class, "
				    "group; found %s", found(ps, &q));
		if (PUSH(t->devices, t->n_devices))
			return oom(ps);
		s.d = &t->devices[t->n_devices - 1];
		s.first = NULL;
		s.d->pos.line = cur_mark(ps)->line + 1;
		s.d->pos.column = cur_mark(ps)->column + 1;
		sel_mark = *cur_mark(ps);
		err = parse_mapping(ps, "device selector", selector_keys,
				    ARRAY_SIZE(selector_keys), &s);
		if (err)
			return err;
		if (!s.first)
			return fail(ps, &sel_mark,
				    "empty device selector (expected one of: bdf, id, class, group)");
	}
	if (!t->n_devices)
		return fail(ps, &list_mark, "'devices' is empty: a tenant owns at least one device");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Tenants: DMA limits                                                                   */

static int v_max_dma(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;

	return scalar_size(ps, k->name, &t->max_dma_bytes);
}

enum { W_START, W_END, W_BASE, W_SIZE };

struct window {
	uint64_t v[4];
	yaml_mark_t mark[4];
	bool seen[4];
};

static int v_window_field(struct parser *ps, void *obj, const struct key *k)
{
	static const char *const names[] = { "start", "end", "base", "size" };
	struct window *w = obj;
	int i, other;

	for (i = 0; strcmp(names[i], k->name); i++)
		;
	other = i < W_BASE ? W_BASE : W_START;
	if (w->seen[other] || w->seen[other + 1])
		return fail(ps, &ps->ev.start_mark,
			    "IOVA window mixes '%s' with '%s' (use start and end, or base and size)",
			    k->name, names[w->seen[other] ? other : other + 1]);
	w->seen[i] = true;
	w->mark[i] = *cur_mark(ps);
	return scalar_size(ps, k->name, &w->v[i]);
}

static const struct key window_keys[] = {
	{ "start", false, v_window_field },
	{ "end", false, v_window_field },
	{ "base", false, v_window_field },
	{ "size", false, v_window_field },
};

static bool pos_before(const struct policy_pos *a, const struct policy_pos *b)
{
	return a->line < b->line || (a->line == b->line && a->column < b->column);
}

static int cmp_window(const void *a, const void *b)
{
	const struct policy_window *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return pos_before(&x->pos, &y->pos) ? -1 : pos_before(&y->pos, &x->pos);
}

/* Sorts the windows and refuses overlaps, naming the pair's later window in the file. */
static int windows_check(struct parser *ps, struct policy_tenant *t)
{
	const struct policy_window *bad = NULL, *other = NULL, *a, *b;
	yaml_mark_t m;
	size_t i;

	qsort(t->windows, t->n_windows, sizeof(*t->windows), cmp_window);
	for (i = 1; i < t->n_windows; i++) {
		a = &t->windows[i - 1];
		b = &t->windows[i];
		if (b->start > a->last)
			continue;
		if (pos_before(&b->pos, &a->pos)) {
			const struct policy_window *x = a;

			a = b;
			b = x;
		}
		if (!bad || pos_before(&b->pos, &bad->pos)) {
			bad = b;
			other = a;
		}
	}
	if (!bad)
		return 0;
	m.line = bad->pos.line - 1;
	m.column = bad->pos.column - 1;
	return fail(ps, &m,
		    "IOVA window 0x%llx-0x%llx overlaps window 0x%llx-0x%llx (line %u, column %u)",
		    (unsigned long long)bad->start, (unsigned long long)bad->last,
		    (unsigned long long)other->start, (unsigned long long)other->last,
		    other->pos.line, other->pos.column);
}

static int v_windows(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;
	struct policy_window *pw;
	yaml_mark_t list_mark, wmark;
	struct window w;
	struct qbuf q;
	int err;

	err = want_start(ps, YAML_SEQUENCE_START_EVENT, k->name, "a list of windows");
	if (err)
		return err;
	list_mark = *cur_mark(ps);
	for (;;) {
		err = next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, cur_mark(ps),
				    "IOVA window must be a mapping with start and end, or base and "
				    "size; found %s", found(ps, &q));
		wmark = *cur_mark(ps);
		memset(&w, 0, sizeof(w));
		err = parse_mapping(ps, "IOVA window", window_keys, ARRAY_SIZE(window_keys), &w);
		if (err)
			return err;
		if (PUSH(t->windows, t->n_windows))
			return oom(ps);
		pw = &t->windows[t->n_windows - 1];
		pw->pos.line = wmark.line + 1;
		pw->pos.column = wmark.column + 1;
		if (w.seen[W_START] && w.seen[W_END]) {
			if (w.v[W_END] < w.v[W_START])
				return fail(ps, &w.mark[W_END],
					    "IOVA window end 0x%llx is below its start 0x%llx",
					    (unsigned long long)w.v[W_END],
					    (unsigned long long)w.v[W_START]);
			pw->start = w.v[W_START];
			pw->last = w.v[W_END];
		} else if (w.seen[W_BASE] && w.seen[W_SIZE]) {
			if (!w.v[W_SIZE])
				return fail(ps, &w.mark[W_SIZE], "IOVA window is empty (size 0)");
			if (w.v[W_SIZE] - 1 > UINT64_MAX - w.v[W_BASE])
				return fail(ps, &w.mark[W_SIZE],
					    "IOVA window 0x%llx + 0x%llx goes past the end of the "
					    "64-bit IOVA space", (unsigned long long)w.v[W_BASE],
					    (unsigned long long)w.v[W_SIZE]);
			pw->start = w.v[W_BASE];
			pw->last = w.v[W_BASE] + (w.v[W_SIZE] - 1);
		} else {
			return fail(ps, &wmark,
				    "incomplete IOVA window (expected start and end, or base and "
				    "size)");
		}
	}
	if (!t->n_windows)
		return fail(ps, &list_mark,
			    "'iova_windows' is empty (leave the key out to allow any IOVA)");
	return windows_check(ps, t);
}

/* ------------------------------------------------------------------------------------ */
/* Tenants                                                                               */

static int v_tenant_name(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj, *o;
	int err;

	err = scalar_name(ps, k->name, &t->name);
	if (err)
		return err;
	for (o = ps->p->tenants; o < t; o++)
		if (!strcmp(o->name, t->name))
			return fail(ps, cur_mark(ps),
				    "duplicate tenant name '%s' (first at line %u, column %u)",
				    t->name, o->pos.line, o->pos.column);
	return 0;
}

static const struct key tenant_keys[] = {
	{ "name", true, v_tenant_name },
	{ "match", true, v_match },
	{ "devices", true, v_devices },
	{ "max_dma_bytes", false, v_max_dma },
	{ "iova_windows", false, v_windows },
};

static int v_tenants(struct parser *ps, void *obj, const struct key *k)
{
	struct policy *p = obj;
	struct policy_tenant *t;
	struct qbuf q;
	int err;

	err = want_start(ps, YAML_SEQUENCE_START_EVENT, k->name, "a list of tenants");
	if (err)
		return err;
	for (;;) {
		err = next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, cur_mark(ps), "tenant must be a mapping, found %s",
				    found(ps, &q));
		if (PUSH(p->tenants, p->n_tenants))
			return oom(ps);
		t = &p->tenants[p->n_tenants - 1];
		t->max_dma_bytes = POLICY_DMA_UNLIMITED;
		t->pos.line = cur_mark(ps)->line + 1;
		t->pos.column = cur_mark(ps)->column + 1;
		err = parse_mapping(ps, "tenant", tenant_keys, ARRAY_SIZE(tenant_keys), t);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* The policy                                                                            */

static int v_name(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_name(ps, k->name, &((struct policy *)obj)->name);
}

static int v_mode(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = scalar_enum(ps, k->name, "enforce", "audit", &v);
	if (!err)
		((struct policy *)obj)->mode = v ? POLICY_MODE_AUDIT : POLICY_MODE_ENFORCE;
	return err;
}

static int v_default(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = scalar_enum(ps, k->name, "deny", "allow", &v);
	if (!err)
		((struct policy *)obj)->dflt = v ? POLICY_DEFAULT_ALLOW : POLICY_DEFAULT_DENY;
	return err;
}

static int v_viability(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = scalar_enum(ps, k->name, "kernel", "strict", &v);
	if (!err)
		((struct policy *)obj)->viability = v ? POLICY_VIABILITY_STRICT : POLICY_VIABILITY_KERNEL;
	return err;
}

static const struct key policy_keys[] = {
	{ "name", true, v_name },
	{ "mode", true, v_mode },
	{ "default", true, v_default },
	{ "viability", false, v_viability },
	{ "tenants", false, v_tenants },
};

/*
 * Ownership that can be decided without the topology: one BDF, or one IOMMU group, named
 * by two selectors. Sorting keeps this O(n log n) on a 1 MiB file of selectors.
 */
struct owner {
	uint64_t key;	/* 1 << 48 | group, or domain << 16 | bus << 8 | devfn */
	const struct policy_tenant *t;
	const struct policy_device *d;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return pos_before(&x->d->pos, &y->d->pos) ? -1 : pos_before(&y->d->pos, &x->d->pos);
}

static int ownership_check(struct parser *ps)
{
	const struct owner *bad = NULL, *first = NULL;
	struct owner *o = NULL;
	const struct policy_device *d;
	const struct policy_tenant *t;
	size_t n = 0, i, j, run = 0;
	char what[48];
	yaml_mark_t m;
	int err = 0;

	/* Indices, not pointer ranges: a policy without tenants has tenants == NULL. */
	for (i = 0; i < ps->p->n_tenants; i++) {
		t = &ps->p->tenants[i];
		for (j = 0; j < t->n_devices; j++) {
			d = &t->devices[j];
			if (d->kind != POLICY_DEV_BDF && d->kind != POLICY_DEV_GROUP)
				continue;
			if (PUSH(o, n)) {
				err = oom(ps);
				goto out_free;
			}
			o[n - 1].t = t;
			o[n - 1].d = d;
			o[n - 1].key = d->kind == POLICY_DEV_GROUP ?
				       (uint64_t)1 << 48 | d->group :
				       (uint64_t)d->bdf.domain << 16 | d->bdf.bus << 8 |
				       d->bdf.dev << 3 | d->bdf.fn;
		}
	}
	if (o)
		qsort(o, n, sizeof(*o), cmp_owner);
	for (i = 1; i < n; i++) {
		if (o[i].key != o[run].key) {
			run = i;
			continue;
		}
		if (!bad || pos_before(&o[i].d->pos, &bad->d->pos)) {
			bad = &o[i];
			first = &o[run];
		}
	}
	if (!bad)
		goto out_free;
	d = bad->d;
	if (d->kind == POLICY_DEV_GROUP)
		snprintf(what, sizeof(what), "IOMMU group %u", d->group);
	else
		snprintf(what, sizeof(what), "device %04x:%02x:%02x.%x", d->bdf.domain,
			 d->bdf.bus, d->bdf.dev, d->bdf.fn);
	m.line = d->pos.line - 1;
	m.column = d->pos.column - 1;
	if (first->t == bad->t)
		err = fail(ps, &m, "%s is listed twice in tenant '%s' (first at line %u, column %u)",
			   what, bad->t->name, first->d->pos.line, first->d->pos.column);
	else
		err = fail(ps, &m,
			   "%s is already owned by tenant '%s' (line %u, column %u); a %s has "
			   "one owner", what, first->t->name, first->d->pos.line,
			   first->d->pos.column, d->kind == POLICY_DEV_GROUP ? "group" : "device");
out_free:
	free(o);
	return err;
}

static int parse_stream(struct parser *ps)
{
	yaml_mark_t start = { 0 };
	struct qbuf q;
	int err;

	err = next_event(ps);	/* STREAM_START */
	if (err)
		return err;
	err = next_event(ps);
	if (err)
		return err;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return fail(ps, &start, ps->len ? "policy file has no YAML document (only comments "
				      "or blank lines)" : "policy file is empty");
	err = next_event(ps);	/* the document's root node */
	if (err)
		return err;
	if (ps->ev.type == YAML_SCALAR_EVENT && cur_is_null(ps))
		return fail(ps, cur_mark(ps), "policy document is empty");
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, cur_mark(ps),
			    "policy must be a mapping with keys name, mode, default, viability, "
			    "tenants; found %s", found(ps, &q));
	err = parse_mapping(ps, "policy", policy_keys, ARRAY_SIZE(policy_keys), ps->p);
	if (err)
		return err;
	err = next_event(ps);	/* DOCUMENT_END */
	if (err)
		return err;
	err = next_event(ps);
	if (err)
		return err;
	if (ps->ev.type == YAML_DOCUMENT_START_EVENT)
		return fail(ps, cur_mark(ps),
			    "a second YAML document: a policy file holds exactly one");
	return ownership_check(ps);
}

/* Parses and validates @len bytes at @buf; @path only names them in errors. */
static int load_buffer(const char *path, const unsigned char *buf, size_t len,
		       struct policy **out, struct policy_error *err)
{
	struct parser ps = { .path = path, .err = err, .buf = buf, .len = len };
	SHA2_CTX sha;
	int ret;

	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p)
		return oom(&ps);
	SHA256Init(&sha);
	SHA256Update(&sha, buf, len);
	SHA256Final(ps.p->hash, &sha);
	ret = scan_text(&ps);
	if (ret)
		goto out_free_policy;
	if (!yaml_parser_initialize(&ps.yaml)) {
		ret = oom(&ps);
		goto out_free_policy;
	}
	yaml_parser_set_input_string(&ps.yaml, buf, len);
	ret = parse_stream(&ps);
	if (ps.have_ev)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.yaml);
	if (ret)
		goto out_free_policy;
	*out = ps.p;
	ps.p = NULL;
out_free_policy:
	policy__free(ps.p);
	return ret;
}

static void clear_error(struct policy_error *err)
{
	if (err_usable(err))
		memset((char *)err + sizeof(err->sz), 0, sizeof(*err) - sizeof(err->sz));
}

int policy__load(const char *path, const struct policy_load_opts *opts,
		 struct policy **out, struct policy_error *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret;

	clear_error(err);
	if (!path || !out || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	*out = NULL;
	ret = read_file(path, opts, &buf, &len, err);
	if (ret)
		return ret;
	ret = load_buffer(path, buf, len, out, err);
	free(buf);
	return ret;
}

int policy__load_buffer(const char *name, const void *buf, size_t len,
			struct policy **out, struct policy_error *err)
{
	clear_error(err);
	if (!name || (!buf && len) || !out)
		return -EINVAL;
	*out = NULL;
	if (len > POLICY_MAX_FILE_SIZE)
		return fail_at(err, name, -EFBIG, 1, 1,
			       "%zu bytes, above the %d-byte (1 MiB) limit for policy files",
			       len, POLICY_MAX_FILE_SIZE);
	return load_buffer(name, buf ? buf : "", len, out, err);
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy__free(struct policy *p)
{
	struct policy_tenant *t;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_tenants; i++) {
		t = &p->tenants[i];
		free(t->name);
		free(t->uids);
		free(t->gids);
		free_strv(t->cgroups, t->n_cgroups);
		free_strv(t->exes, t->n_exes);
		free(t->exe_sha256);
		free(t->devices);
		free(t->windows);
	}
	free(p->tenants);
	free(p->name);
	free(p);
}

const char *policy_mode__str(enum policy_mode m)
{
	return m == POLICY_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_default__str(enum policy_default d)
{
	return d == POLICY_DEFAULT_ALLOW ? "allow" : "deny";
}

const char *policy_viability__str(enum policy_viability v)
{
	return v == POLICY_VIABILITY_STRICT ? "strict" : "kernel";
}
