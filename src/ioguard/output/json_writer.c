// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

#define JSONW_MAX_DEPTH 64
#define JSONW_BUF_SIZE 4096

/*
 * Output is staged in buf and handed to the stream with one fwrite() when a top-level
 * value ends, or in pieces of up to JSONW_BUF_SIZE while a value is longer: a document
 * is dozens of writer calls, and a stdio call per byte or number cost more than ioguard
 * trace could afford at a million records a second. buf is empty between
 * top-level values. The writer never flushes the stream, except in jsonw_destroy():
 * streaming callers flush per batch.
 * Invariant: first[depth] is true until the first value or name at that nesting level
 * is written; after a name, the next value is its value and takes no comma.
 */
struct json_writer {
	FILE *out;
	unsigned int depth;
	bool after_name;
	bool first[JSONW_MAX_DEPTH];
	size_t len;	/* bytes of buf not yet handed to out */
	char buf[JSONW_BUF_SIZE];
};

struct json_writer *jsonw_new(FILE *f)
{
	struct json_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = f;
	w->first[0] = true;
	return w;
}

static void hand_over(struct json_writer *w)
{
	if (w->len)
		fwrite(w->buf, 1, w->len, w->out);
	w->len = 0;
}

void jsonw_destroy(struct json_writer *w)
{
	if (!w)
		return;
	hand_over(w);
	fflush(w->out);
	free(w);
}

static inline void put(struct json_writer *w, const char *s, size_t n)
{
	if (n > sizeof(w->buf) - w->len) {
		hand_over(w);
		if (n > sizeof(w->buf)) {
			fwrite(s, 1, n, w->out);
			return;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void put_char(struct json_writer *w, char c)
{
	if (w->len == sizeof(w->buf))
		hand_over(w);
	w->buf[w->len++] = c;
}

size_t json_u64(char *dst, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	/* Digits end at the middle: one copy of fixed size moves them, with bytes to spare. */
	char scratch[2 * JSON_U64_MAX], *end = scratch + JSON_U64_MAX, *p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = '0' + v;
	}
	memcpy(dst, p, JSON_U64_MAX);
	return end - p;
}

static void put_u64(struct json_writer *w, uint64_t v)
{
	char digits[JSON_U64_MAX];

	if (sizeof(w->buf) - w->len >= JSON_U64_MAX)
		w->len += json_u64(w->buf + w->len, v);
	else
		put(w, digits, json_u64(digits, v));
}

static void value_prefix(struct json_writer *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->depth && !w->first[w->depth])
		put_char(w, ',');
	w->first[w->depth] = false;
}

static void value_suffix(struct json_writer *w)
{
	if (!w->depth) {
		put_char(w, '\n');
		w->first[0] = true;
		hand_over(w);
	}
}

/* The bytes a JSON string cannot hold as they are, and NUL, which ends a C string. */
static const bool json_special[256] = {
	[0x00 ... 0x1f] = true, ['"'] = true, ['\\'] = true,
};

/* The escape of a byte json_special[] names (but NUL) at @out; returns its length. */
static size_t escape_byte(char out[6], unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	switch (c) {
	case '"': out[1] = '"'; return 2;
	case '\\': out[1] = '\\'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\r': out[1] = 'r'; return 2;
	case '\t': out[1] = 't'; return 2;
	}
	memcpy(out + 1, "u00", 3);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 0xf];
	return 6;
}

size_t json_quote(char *dst, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *d = dst;

	*d++ = '"';
	for (;; p++) {
		if (!json_special[*p]) {
			*d++ = *p;
			continue;
		}
		if (!*p)
			break;
		d += escape_byte(d, *p);
	}
	*d++ = '"';
	return d - dst;
}

/* A string too long to quote in the staging buffer goes out in runs between escapes. */
static void write_escaped_long(struct json_writer *w, const char *s)
{
	const char *run = s;
	char escape[6];

	put_char(w, '"');
	for (; *s; s++) {
		if (!json_special[(unsigned char)*s])
			continue;
		put(w, run, s - run);
		put(w, escape, escape_byte(escape, (unsigned char)*s));
		run = s + 1;
	}
	put(w, run, s - run);
	put_char(w, '"');
}

static void write_escaped(struct json_writer *w, const char *s)
{
	size_t most = JSON_QUOTED_MAX(strlen(s));

	if (most > sizeof(w->buf) - w->len) {
		hand_over(w);
		if (most > sizeof(w->buf)) {
			write_escaped_long(w, s);
			return;
		}
	}
	w->len += json_quote(w->buf + w->len, s);
}

static void open_container(struct json_writer *w, char c)
{
	value_prefix(w);
	put_char(w, c);
	if (w->depth + 1 < JSONW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_container(struct json_writer *w, char c)
{
	put_char(w, c);
	if (w->depth)
		w->depth--;
	value_suffix(w);
}

void jsonw_start_object(struct json_writer *w) { open_container(w, '{'); }
void jsonw_end_object(struct json_writer *w) { close_container(w, '}'); }
void jsonw_start_array(struct json_writer *w) { open_container(w, '['); }
void jsonw_end_array(struct json_writer *w) { close_container(w, ']'); }

void jsonw_name(struct json_writer *w, const char *name)
{
	value_prefix(w);
	write_escaped(w, name);
	put_char(w, ':');
	w->after_name = true;
}

void jsonw_json(struct json_writer *w, const char *json, size_t len)
{
	value_prefix(w);
	put(w, json, len);
	value_suffix(w);
}

void jsonw_string(struct json_writer *w, const char *value)
{
	value_prefix(w);
	write_escaped(w, value);
	value_suffix(w);
}

void jsonw_uint(struct json_writer *w, uint64_t value)
{
	value_prefix(w);
	put_u64(w, value);
	value_suffix(w);
}

void jsonw_int(struct json_writer *w, int64_t value)
{
	value_prefix(w);
	if (value < 0) {
		put_char(w, '-');
		put_u64(w, -(uint64_t)value);
	} else {
		put_u64(w, value);
	}
	value_suffix(w);
}

void jsonw_bool(struct json_writer *w, bool value)
{
	value_prefix(w);
	if (value)
		put(w, "true", 4);
	else
		put(w, "false", 5);
	value_suffix(w);
}

void jsonw_null(struct json_writer *w)
{
	value_prefix(w);
	put(w, "null", 4);
	value_suffix(w);
}

void jsonw_string_field(struct json_writer *w, const char *name, const char *value)
{
	jsonw_name(w, name);
	jsonw_string(w, value);
}

void jsonw_uint_field(struct json_writer *w, const char *name, uint64_t value)
{
	jsonw_name(w, name);
	jsonw_uint(w, value);
}

void jsonw_int_field(struct json_writer *w, const char *name, int64_t value)
{
	jsonw_name(w, name);
	jsonw_int(w, value);
}

void jsonw_bool_field(struct json_writer *w, const char *name, bool value)
{
	jsonw_name(w, name);
	jsonw_bool(w, value);
}

void jsonw_null_field(struct json_writer *w, const char *name)
{
	jsonw_name(w, name);
	jsonw_null(w);
}
