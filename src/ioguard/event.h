/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Rendering of struct ioguard_event records as text lines or JSON objects. */
#ifndef IOGUARD_EVENT_H
#define IOGUARD_EVENT_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "ioguard/trace.h"
#include "json_writer.h"

/* Name of an op ("map", "attach_group", ...), "unknown" when out of range. */
const char *event_op_name(__u32 op);
/* The op of a name, or -EINVAL. */
int event_op_parse(const char *name);

/*
 * struct event_printer - state shared by the lines of one stream.
 * Kernel domain addresses are shown as small ids (1, 2, ...) in order of first sight, so
 * output never carries kernel pointers and stays readable.
 */
struct event_printer;

/* @realtime_offset_ns: CLOCK_REALTIME minus CLOCK_MONOTONIC, to date events. */
struct event_printer *event_printer__new(int64_t realtime_offset_ns);
void event_printer__free(struct event_printer *p);

void event_printer__text_header(FILE *out);
void event_printer__text(struct event_printer *p, FILE *out, const struct ioguard_event *e);
void event_printer__json(struct event_printer *p, struct json_writer *w,
			 const struct ioguard_event *e);

#endif /* IOGUARD_EVENT_H */
