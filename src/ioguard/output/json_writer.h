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
/*
 * jsonw_name() for a string literal of plain characters (no '"', '\\' or control byte),
 * written as it is: for records written by the million, where checking every name byte
 * for escapes was a fifth of the cost.
 */
#define jsonw_name_lit(w, lit) jsonw_name_quoted((w), "\"" lit "\":", sizeof(lit) + 2)
void jsonw_name_quoted(struct json_writer *w, const char *quoted, size_t len);

void jsonw_string(struct json_writer *w, const char *value);
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

/* The shorthands for a name that jsonw_name_lit() takes. */
#define jsonw_string_field_lit(w, lit, v) (jsonw_name_lit(w, lit), jsonw_string(w, v))
#define jsonw_uint_field_lit(w, lit, v) (jsonw_name_lit(w, lit), jsonw_uint(w, v))
#define jsonw_int_field_lit(w, lit, v) (jsonw_name_lit(w, lit), jsonw_int(w, v))
#define jsonw_null_field_lit(w, lit) (jsonw_name_lit(w, lit), jsonw_null(w))

#endif /* IOGUARD_JSON_WRITER_H */
