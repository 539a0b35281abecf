/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Streaming JSON writer for machine output. Values are written as they come; the writer
 * tracks nesting to place commas. Top-level values end with a newline, so a stream of
 * objects is JSON Lines.
 * The writer holds back the bytes of a top-level value until it ends (a long one goes
 * out in pieces): write to the FILE directly only between top-level values.
 */
#ifndef IOGUARD_JSON_WRITER_H
#define IOGUARD_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *jsonw_new(FILE *f);
void jsonw_destroy(struct json_writer *w);

void jsonw_start_object(struct json_writer *w);
void jsonw_end_object(struct json_writer *w);
void jsonw_start_array(struct json_writer *w);
void jsonw_end_array(struct json_writer *w);
/* Object member name; the next value call writes its value. */
void jsonw_name(struct json_writer *w, const char *name);

void jsonw_string(struct json_writer *w, const char *value);
/* A value already in JSON (json_quote(), json_u64()), written as it is. */
void jsonw_json(struct json_writer *w, const char *json, size_t len);
void jsonw_uint(struct json_writer *w, uint64_t value);
void jsonw_int(struct json_writer *w, int64_t value);
void jsonw_bool(struct json_writer *w, bool value);
void jsonw_null(struct json_writer *w);

/* Shorthands for a member and its value. */
void jsonw_string_field(struct json_writer *w, const char *name, const char *value);
void jsonw_uint_field(struct json_writer *w, const char *name, uint64_t value);
void jsonw_int_field(struct json_writer *w, const char *name, int64_t value);
void jsonw_bool_field(struct json_writer *w, const char *name, bool value);
void jsonw_null_field(struct json_writer *w, const char *name);

/*
 * Formatters for callers that build a value's JSON text themselves (jsonw_json()). Each
 * returns the length of what it wrote, without a NUL; @dst must hold the size named
 * beside it, which json_u64() may fill past its digits.
 */
#define JSON_QUOTED_MAX(len) (6 * (len) + 2)	/* every byte a \u escape, and quotes */
size_t json_quote(char *dst, const char *s);	/* @s as a JSON string */
#define JSON_U64_MAX 20
size_t json_u64(char *dst, uint64_t v);		/* decimal, as printf's %llu */

#endif /* IOGUARD_JSON_WRITER_H */
