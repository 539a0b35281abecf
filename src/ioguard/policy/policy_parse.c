// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The policy parser's engine, knowing nothing of the format: the text pre-scan, a cursor
 * over libyaml's event stream, errors with positions, mappings with a fixed set of keys
 * and the scalar types the format uses. policy_schema.c says which keys exist.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "output/array_size.h"
#include "policy_parse.h"

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                */

bool parse_err_usable(const struct policy_error *e)
{
	return e && e->sz >= sizeof(*e);
}

/* Records an error; line 0 means "no position". Returns @code, for `return fail(...)`. */
int __attribute__((format(printf, 6, 7)))
parse_fail_at(struct policy_error *e, const char *path, int code, unsigned int line,
	unsigned int column, const char *fmt, ...)
{
	va_list ap;

	if (!parse_err_usable(e))
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

const char *parse_quote(struct qbuf *q, const char *s)
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

/* parse_quote() between single quotes, for "found 'x'". */
const char *parse_quote_found(struct qbuf *q, const char *s)
{
	struct qbuf in;

	snprintf(q->s, sizeof(q->s), "'%s'", parse_quote(&in, s));
	return q->s;
}

/*
 * Refuses what is not UTF-8 text before libyaml sees it: libyaml reports such problems
 * with a byte offset only, and binary junk deserves a plain word. Lines and columns count
 * characters, as libyaml's marks do.
 */
int parse_scan_text(struct parser *ps)
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
			return fail(ps, &m,
				    "binary data (NUL byte); policy files must be UTF-8 text");
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
		return parse_fail_at(ps->err, ps->path, -ENOMEM, 0, 0, "out of memory");
	if (y->context)
		return fail(ps, &y->problem_mark,
			    "YAML syntax error: %s (%s that starts at line %zu, column %zu)",
			    problem, y->context, y->context_mark.line + 1,
			    y->context_mark.column + 1);
	return fail(ps, &y->problem_mark, "YAML syntax error: %s", problem);
}

/* Replaces the current event with the next one; refuses aliases, anchors and tags. */
int parse_next_event(struct parser *ps)
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
			    parse_quote(&q, (char *)ev->data.alias.anchor));
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
			    parse_quote(&q, (char *)anchor));
	if (tag)
		return fail(ps, &ev->start_mark,
			    "YAML tag '%s': tags are not allowed in policy files",
			    parse_quote(&q, (char *)tag));
	if (ev->type == YAML_SCALAR_EVENT && strlen((char *)ev->data.scalar.value) !=
					     ev->data.scalar.length)
		return fail(ps, &ev->start_mark, "string contains a NUL character");
	return 0;
}

const yaml_mark_t *parse_cur_mark(const struct parser *ps)
{
	return &ps->ev.start_mark;
}

const char *parse_cur_scalar(const struct parser *ps)
{
	return (const char *)ps->ev.data.scalar.value;
}

/* "a mapping", "a list" or the quoted scalar, for "found ..." in messages. */
const char *parse_found(const struct parser *ps, struct qbuf *q)
{
	switch (ps->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return parse_quote_found(q, parse_cur_scalar(ps));
	default:
		return "nothing";
	}
}

bool parse_cur_is_null(const struct parser *ps)
{
	const char *v = parse_cur_scalar(ps);

	return ps->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		!strcmp(v, "NULL"));
}

/* The current event must be a non-null scalar: the value of @key, described by @what. */
int parse_want_scalar(struct parser *ps, const char *key, const char *what)
{
	struct qbuf q;

	if (ps->ev.type != YAML_SCALAR_EVENT)
		return fail(ps, parse_cur_mark(ps), "'%s' must be %s, found %s", key, what,
			    parse_found(ps, &q));
	if (parse_cur_is_null(ps))
		return fail(ps, parse_cur_mark(ps), "'%s' has no value (expected %s)", key, what);
	return 0;
}

int parse_want_start(struct parser *ps, yaml_event_type_t type, const char *key,
		      const char *what)
{
	struct qbuf q;

	if (ps->ev.type == YAML_SCALAR_EVENT && parse_cur_is_null(ps))
		return fail(ps, parse_cur_mark(ps), "'%s' has no value (expected %s)", key, what);
	if (ps->ev.type != type)
		return fail(ps, parse_cur_mark(ps), "'%s' must be %s, found %s", key, what,
			    parse_found(ps, &q));
	return 0;
}

/* @arr with room for element @n: the capacity is implicitly the next power of two of n. */
void *parse_grow(void *arr, size_t n, size_t elem)
{
	if (n & (n - 1))
		return arr;
	return reallocarray(arr, n ? n * 2 : 1, elem);
}

int parse_oom(struct parser *ps)
{
	return parse_fail_at(ps->err, ps->path, -ENOMEM, 0, 0, "out of memory");
}

/* ------------------------------------------------------------------------------------ */
/* Mappings with a fixed set of keys                                                     */


/*
 * Parses a block or flow mapping whose keys come from @keys, each at most once; @what
 * names the mapping in messages. The current event is the MAPPING_START.
 */
int parse_mapping(struct parser *ps, const char *what, const struct key *keys,
			 size_t n_keys, void *obj)
{
	yaml_mark_t seen_at[MAX_KEYS], map_mark = *parse_cur_mark(ps);
	bool seen[MAX_KEYS] = { 0 };
	char expected[128] = "";
	const struct key *k;
	struct qbuf q;
	size_t i;
	int err;

	for (;;) {
		err = parse_next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (ps->ev.type != YAML_SCALAR_EVENT)
			return fail(ps, parse_cur_mark(ps), "key in %s must be a name, found %s",
				    what, parse_found(ps, &q));
		for (i = 0; i < n_keys; i++)
			if (!strcmp(parse_cur_scalar(ps), keys[i].name))
				break;
		if (i == n_keys) {
			for (k = keys; k < keys + n_keys; k++)
				snprintf(expected + strlen(expected),
					 sizeof(expected) - strlen(expected),
					 "%s%s", k == keys ? "" : ", ", k->name);
			return fail(ps, parse_cur_mark(ps),
				    "unknown key '%s' in %s (expected one of: %s)",
				    parse_quote(&q, parse_cur_scalar(ps)), what, expected);
		}
		if (seen[i])
			return fail(ps, parse_cur_mark(ps),
				    "duplicate key '%s' in %s (first at line %zu, column %zu)",
				    keys[i].name, what, seen_at[i].line + 1, seen_at[i].column + 1);
		seen[i] = true;
		seen_at[i] = *parse_cur_mark(ps);
		err = parse_next_event(ps);
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

/*
 * Parses the value of @key: a list (@what, as in "'KEY' must be WHAT") whose items are
 * mappings, each handed to @item with its MAPPING_START as the current event and @obj.
 * An item that is not a mapping is refused with @not_mapping followed by "found ...";
 * an empty list, when @if_empty is set, with @if_empty at the list's position.
 */
int parse_seq_of_mappings(struct parser *ps, const char *key, const char *what,
			  const char *not_mapping, const char *if_empty, item_fn item, void *obj)
{
	yaml_mark_t list_mark;
	struct qbuf q;
	size_t n = 0;
	int err;

	err = parse_want_start(ps, YAML_SEQUENCE_START_EVENT, key, what);
	if (err)
		return err;
	list_mark = *parse_cur_mark(ps);
	for (;;) {
		err = parse_next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, parse_cur_mark(ps), "%sfound %s", not_mapping,
				    parse_found(ps, &q));
		err = item(ps, obj);
		if (err)
			return err;
		n++;
	}
	if (!n && if_empty)
		return fail(ps, &list_mark, "%s", if_empty);
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
int parse_scalar_uint(struct parser *ps, const char *key, const char *what, uint64_t max,
		       uint64_t *out)
{
	const char *unit;
	struct qbuf q;
	int err;

	err = parse_want_scalar(ps, key, "an integer");
	if (err)
		return err;
	switch (parse_u64(parse_cur_scalar(ps), false, out, &unit)) {
	case NUM_OK:
		if (*out <= max)
			return 0;
		/* fall through */
	case NUM_RANGE:
		return fail(ps, parse_cur_mark(ps), "%s '%s' is out of range (0 to %llu)", what,
			    parse_quote(&q, parse_cur_scalar(ps)), (unsigned long long)max);
	default:
		return fail(ps, parse_cur_mark(ps),
			    "bad %s '%s' (expected an integer from 0 to %llu, decimal or 0x hex)",
			    what, parse_quote(&q, parse_cur_scalar(ps)), (unsigned long long)max);
	}
}

/* A byte count or address, with optional binary units. */
int parse_scalar_size(struct parser *ps, const char *key, uint64_t *out)
{
	const char *unit = NULL;
	struct qbuf q, qu;
	int err;

	err = parse_want_scalar(ps, key, "a number of bytes");
	if (err)
		return err;
	switch (parse_u64(parse_cur_scalar(ps), true, out, &unit)) {
	case NUM_OK:
		return 0;
	case NUM_RANGE:
		return fail(ps, parse_cur_mark(ps), "'%s' for '%s' does not fit in 64 bits",
			    parse_quote(&q, parse_cur_scalar(ps)), key);
	case NUM_UNIT:
		return fail(ps, parse_cur_mark(ps),
			    "unknown unit '%s' in '%s' for '%s' (expected KiB, MiB, GiB, TiB, PiB "
			    "or EiB; units are binary)", parse_quote(&qu, unit), parse_quote(&q,
											     parse_cur_scalar(ps)),
			    key);
	default:
		return fail(ps, parse_cur_mark(ps),
			    "bad number '%s' for '%s' (expected an integer, decimal or 0x hex, "
			    "with an optional unit like 64MiB)", parse_quote(&q,
									     parse_cur_scalar(ps)), key);
	}
}

int parse_scalar_enum(struct parser *ps, const char *key, const char *a, const char *b,
		       int *out)
{
	char what[64];
	struct qbuf q;
	int err;

	snprintf(what, sizeof(what), "%s or %s", a, b);
	err = parse_want_scalar(ps, key, what);
	if (err)
		return err;
	if (!strcmp(parse_cur_scalar(ps), a))
		*out = 0;
	else if (!strcmp(parse_cur_scalar(ps), b))
		*out = 1;
	else
		return fail(ps, parse_cur_mark(ps), "bad value '%s' for '%s' (expected %s)",
			    parse_quote(&q, parse_cur_scalar(ps)), key, what);
	return 0;
}

int parse_scalar_name(struct parser *ps, const char *key, char **out)
{
	const char *v;
	struct qbuf q;
	size_t i;
	int err;

	err = parse_want_scalar(ps, key, "a name");
	if (err)
		return err;
	v = parse_cur_scalar(ps);
	for (i = 0; v[i]; i++)
		if (!isalnum((unsigned char)v[i]) &&
		    (!i || (v[i] != '.' && v[i] != '_' && v[i] != '-')))
			return fail(ps, parse_cur_mark(ps),
				    "bad name '%s' (expected letters, digits, '.', '_' and '-', "
				    "starting with a letter or digit)", parse_quote(&q, v));
	if (!i)
		return fail(ps, parse_cur_mark(ps), "'%s' is empty", key);
	if (i > POLICY_NAME_MAX)
		return fail(ps, parse_cur_mark(ps), "name '%s' is longer than %d characters",
			    parse_quote(&q, v), POLICY_NAME_MAX);
	*out = strdup(v);
	return *out ? 0 : parse_oom(ps);
}

/* An absolute, normalised path: no empty, '.' or '..' components, no trailing '/'. */
int parse_scalar_path(struct parser *ps, const char *what, char **out)
{
	const char *v = parse_cur_scalar(ps), *c;
	struct qbuf q;
	size_t n;

	if (v[0] != '/')
		return fail(ps, parse_cur_mark(ps), "bad %s '%s' (expected an absolute path)", what,
			    parse_quote(&q, v));
	if (strlen(v) >= 4096)
		return fail(ps, parse_cur_mark(ps), "%s is longer than 4095 bytes", what);
	for (c = v + 1; strcmp(v, "/"); c += n + 1) {
		n = strcspn(c, "/");
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return fail(ps, parse_cur_mark(ps),
				    "%s '%s' is not normalised (no '.', '..' or empty components, "
				    "no trailing '/')", what, parse_quote(&q, v));
		if (!c[n])
			break;
	}
	*out = strdup(v);
	return *out ? 0 : parse_oom(ps);
}
