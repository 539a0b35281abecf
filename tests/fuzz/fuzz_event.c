// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: the trace record renderer (src/ioguard/output/event.c). The input fills an
 * event record and a decision record, every field included (comm and device with any
 * bytes, unterminated); each is rendered as text and as JSON. A text line must hold no
 * control character but its final newline and be valid UTF-8 without C1 controls (review
 * #15: a traced process chooses its comm); a JSON line must be valid UTF-8 with no raw
 * control character.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/event.h"

/* 2026-11-23T19:00:00Z as CLOCK_REALTIME - CLOCK_MONOTONIC, as in the unit tests. */
#define EPOCH_NS (1795460400LL * 1000000000LL)

static void __attribute__((noreturn)) die(const char *what, const char *buf, size_t len)
{
	fprintf(stderr, "fuzz_event: %s in: ", what);
	fwrite(buf, 1, len, stderr);
	fputc('\n', stderr);
	abort();
}

/* Well-formed UTF-8 (RFC 3629); *c1 set when a C1 control (U+0080-U+009F) occurs. */
static bool utf8_ok(const unsigned char *s, size_t n, bool *c1)
{
	size_t i = 0, len, k;
	uint32_t cp;

	*c1 = false;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp >= 0x80 && cp <= 0x9f)
			*c1 = true;
		i += len;
	}
	return true;
}

static void check_line(const char *kind, const char *buf, size_t len, bool text)
{
	const unsigned char *s = (const unsigned char *)buf;
	bool c1;
	size_t i;

	if (!len || buf[len - 1] != '\n')
		die("output is not one line", buf, len);
	for (i = 0; i + 1 < len; i++) {
		if (s[i] < 0x20 || (text && s[i] == 0x7f))
			die(kind, buf, len);
	}
	if (!utf8_ok(s, len, &c1))
		die("output is not UTF-8", buf, len);
	if (text && c1)
		die("a C1 control character in text output", buf, len);
}

typedef void (*render_fn)(struct event_printer *p, FILE *f, struct json_writer *w,
			  const void *rec);

static void ev_text(struct event_printer *p, FILE *f, struct json_writer *w, const void *r)
{
	event_printer__text(p, f, r);
}

static void ev_json(struct event_printer *p, FILE *f, struct json_writer *w, const void *r)
{
	event_printer__json(p, w, r);
}

static void dec_text(struct event_printer *p, FILE *f, struct json_writer *w, const void *r)
{
	event_printer__decision_text(p, f, r, "lab");
}

static void dec_json(struct event_printer *p, FILE *f, struct json_writer *w, const void *r)
{
	event_printer__decision_json(p, w, r, NULL);
}

static void render(struct event_printer *p, render_fn fn, const void *rec, bool text)
{
	struct json_writer *w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	w = text ? NULL : jsonw_new(f);
	fn(p, f, w, rec);
	jsonw_destroy(w);
	fclose(f);
	check_line(text ? "a control character in text output" :
			  "a raw control character in JSON output", buf, len, text);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ioguard_decision d = { 0 };
	struct ioguard_event e = { 0 };
	struct event_printer *p;

	memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
	if (size > sizeof(e))
		memcpy(&d, data + sizeof(e), size - sizeof(e) < sizeof(d) ?
					     size - sizeof(e) : sizeof(d));
	else
		memcpy(&d, data, size < sizeof(d) ? size : sizeof(d));
	p = event_printer__new(EPOCH_NS);
	if (!p)
		return 0;
	render(p, ev_text, &e, true);
	render(p, ev_json, &e, false);
	render(p, dec_text, &d, true);
	render(p, dec_json, &d, false);
	event_printer__free(p);
	return 0;
}
