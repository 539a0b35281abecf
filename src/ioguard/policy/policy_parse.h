/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private header of the policy loader, shared by its three files:
 *   policy.c        the public calls: read the file (size, type and owner checks), hash
 *                   it, run the parse, free the result;
 *   policy_parse.c  the engine: the text pre-scan, the libyaml event cursor, errors with
 *                   positions, mappings with a fixed set of keys, scalars;
 *   policy_schema.c the format: every key, its type, default and limits, and the
 *                   cross-checks between keys. It must say what docs/policy.md says.
 *
 * Ownership: a struct parser lives on load_buffer()'s stack for one parse. It owns the
 * libyaml parser and its current event (@ev, while @have_ev); it borrows the text
 * (@buf, @len), its name (@path) and the caller's struct policy_error (@err, may be NULL
 * or too small: then nothing is written). It fills @p, which load_buffer() hands to the
 * caller on success and frees with policy__free() on failure, so a validator that fails
 * half-way leaves what it added for that free.
 *
 * Invariants:
 *  - Parsing stops at the first error: each function returns 0 or the negative errno
 *    that fail()/parse_fail_at() recorded in @err, and no caller records a second one.
 *  - The event cursor: on entry to a value's parser the current event is the node's
 *    first event (a scalar or a *_START); on success it is the node's last (the same
 *    scalar or the matching *_END).
 *  - parse_next_event() refuses aliases, anchors and tags, so no alias is ever expanded and
 *    nesting is only as deep as the schema's tables.
 *  - Arrays grown with PUSH() have a capacity of the next power of two of their count.
 */
#ifndef IOGUARD_POLICY_PARSE_H
#define IOGUARD_POLICY_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "policy.h"

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

/* A content error at @mark (a libyaml mark: 0-based); returns -EINVAL. */
#define fail(ps, mark, ...) \
	parse_fail_at((ps)->err, (ps)->path, -EINVAL, (mark)->line + 1, (mark)->column + 1, \
		      __VA_ARGS__)

/*
 * A user value made fit for a one-line message: at most 48 bytes, cut at a character
 * boundary, with "..." when cut; control characters shown as '?'. The text is UTF-8
 * (parse_scan_text() made sure), so other bytes pass through.
 */
struct qbuf {
	char s[60];
};

/* Appends a zeroed element to @arr of @n elements; 0 or -ENOMEM (@arr unchanged). */
#define PUSH(arr, n) ({							\
	void *_a = parse_grow((arr), (n), sizeof(*(arr)));			\
	if (_a) {							\
		(arr) = _a;						\
		memset(&(arr)[(n)], 0, sizeof(*(arr)));			\
		(n)++;							\
	}								\
	_a ? 0 : -ENOMEM;						\
})

/* One key of a mapping: its name, whether it must appear, and its value's parser. */
struct key;
typedef int (*value_fn)(struct parser *ps, void *obj, const struct key *k);

struct key {
	const char *name;
	bool required;
	value_fn parse;
};

/* Parses one item of a list of mappings into @obj; the current event is its MAPPING_START. */
typedef int (*item_fn)(struct parser *ps, void *obj);

/* The most keys one mapping of the schema has (parse_mapping() tracks them on its stack). */
#define MAX_KEYS 8

/* policy_parse.c: errors */
bool parse_err_usable(const struct policy_error *e);
int parse_fail_at(struct policy_error *e, const char *path, int code, unsigned int line,
	    unsigned int column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int parse_oom(struct parser *ps);
const char *parse_quote(struct qbuf *q, const char *s);
const char *parse_quote_found(struct qbuf *q, const char *s);

/* policy_parse.c: the text and the event cursor */
int parse_scan_text(struct parser *ps);
int parse_next_event(struct parser *ps);
const yaml_mark_t *parse_cur_mark(const struct parser *ps);
const char *parse_cur_scalar(const struct parser *ps);
const char *parse_found(const struct parser *ps, struct qbuf *q);
bool parse_cur_is_null(const struct parser *ps);
int parse_want_scalar(struct parser *ps, const char *key, const char *what);
int parse_want_start(struct parser *ps, yaml_event_type_t type, const char *key, const char *what);
void *parse_grow(void *arr, size_t n, size_t elem);

/* policy_parse.c: mappings and scalars */
int parse_mapping(struct parser *ps, const char *what, const struct key *keys, size_t n_keys,
		  void *obj);
int parse_seq_of_mappings(struct parser *ps, const char *key, const char *what,
			  const char *not_mapping, const char *if_empty, item_fn item, void *obj);
int parse_scalar_uint(struct parser *ps, const char *key, const char *what, uint64_t max,
		uint64_t *out);
int parse_scalar_size(struct parser *ps, const char *key, uint64_t *out);
int parse_scalar_enum(struct parser *ps, const char *key, const char *a, const char *b, int *out);
int parse_scalar_name(struct parser *ps, const char *key, char **out);
int parse_scalar_path(struct parser *ps, const char *what, char **out);

/* policy_schema.c */
int parse_stream(struct parser *ps);

#endif /* IOGUARD_POLICY_PARSE_H */
