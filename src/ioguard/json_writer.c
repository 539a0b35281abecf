// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "json_writer.h"

#define JSONW_MAX_DEPTH 64

/*
 * The writer never flushes on its own: streaming callers flush per batch.
 * Invariant: first[depth] is true until the first value or name at that nesting level
 * is written; after a name, the next value is its value and takes no comma.
 */
struct json_writer {
	FILE *out;
	unsigned int depth;
	bool after_name;
	bool first[JSONW_MAX_DEPTH];
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

void jsonw_destroy(struct json_writer *w)
{
	if (!w)
		return;
	fflush(w->out);
	free(w);
}

static void value_prefix(struct json_writer *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (w->depth && !w->first[w->depth])
		fputc(',', w->out);
	w->first[w->depth] = false;
}

static void value_suffix(struct json_writer *w)
{
	if (!w->depth) {
		fputc('\n', w->out);
		w->first[0] = true;
	}
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (c < 0x20)
				fprintf(out, "\\u%04x", c);
			else
				fputc(c, out);
		}
	}
	fputc('"', out);
}

static void open_container(struct json_writer *w, char c)
{
	value_prefix(w);
	fputc(c, w->out);
	if (w->depth + 1 < JSONW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_container(struct json_writer *w, char c)
{
	fputc(c, w->out);
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
	write_escaped(w->out, name);
	fputc(':', w->out);
	w->after_name = true;
}

void jsonw_string(struct json_writer *w, const char *value)
{
	value_prefix(w);
	write_escaped(w->out, value);
	value_suffix(w);
}

void jsonw_uint(struct json_writer *w, uint64_t value)
{
	value_prefix(w);
	fprintf(w->out, "%llu", (unsigned long long)value);
	value_suffix(w);
}

void jsonw_int(struct json_writer *w, int64_t value)
{
	value_prefix(w);
	fprintf(w->out, "%lld", (long long)value);
	value_suffix(w);
}

void jsonw_float(struct json_writer *w, double value)
{
	value_prefix(w);
	fprintf(w->out, "%.9g", value);
	value_suffix(w);
}

void jsonw_bool(struct json_writer *w, bool value)
{
	value_prefix(w);
	fputs(value ? "true" : "false", w->out);
	value_suffix(w);
}

void jsonw_null(struct json_writer *w)
{
	value_prefix(w);
	fputs("null", w->out);
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
