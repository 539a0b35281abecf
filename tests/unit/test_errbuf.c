// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/output/errbuf.c: errbuf_set() formats and returns the errno it is given,
 * truncates to ERRBUF_MSG_MAX, and drops the message for a NULL errbuf; notes reach the
 * sink in order with their level, and are dropped without one; errbuf_keep_notes()
 * copies the sink, never the message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output/errbuf.h"

#define MAX_NOTES 4

/* A note sink that keeps what it was handed. */
struct notes {
	unsigned int n;
	enum errbuf_level level[MAX_NOTES];
	char msg[MAX_NOTES][ERRBUF_MSG_MAX];
};

static void keep_note(void *ctx, enum errbuf_level level, const char *msg)
{
	struct notes *notes = ctx;

	assert_true(notes->n < MAX_NOTES);
	notes->level[notes->n] = level;
	snprintf(notes->msg[notes->n], sizeof(notes->msg[0]), "%s", msg);
	notes->n++;
}

static void test_set_formats_and_returns_err(void **state)
{
	struct errbuf eb = { .msg = "old" };

	assert_int_equal(errbuf_set(&eb, -ENOENT, "open %s: %s", "/etc/ioguard/policy.yaml",
				    strerror(ENOENT)), -ENOENT);
	assert_string_equal(eb.msg, "open /etc/ioguard/policy.yaml: No such file or directory");
	/* Not only negative errnos: the value is handed back as it is. */
	assert_int_equal(errbuf_set(&eb, 0, "%d", 7), 0);
	assert_string_equal(eb.msg, "7");
}

static void test_set_truncates(void **state)
{
	struct errbuf *eb = calloc(1, sizeof(*eb));
	char *long_word = malloc(2 * ERRBUF_MSG_MAX);

	assert_non_null(eb);
	assert_non_null(long_word);
	memset(long_word, 'x', 2 * ERRBUF_MSG_MAX - 1);
	long_word[2 * ERRBUF_MSG_MAX - 1] = '\0';
	assert_int_equal(errbuf_set(eb, -E2BIG, "%s", long_word), -E2BIG);
	assert_int_equal(strlen(eb->msg), ERRBUF_MSG_MAX - 1);
	assert_int_equal(eb->msg[ERRBUF_MSG_MAX - 2], 'x');
	free(long_word);
	free(eb);
}

static void test_set_without_errbuf(void **state)
{
	assert_int_equal(errbuf_set(NULL, -EINVAL, "dropped %s", "message"), -EINVAL);
}

static void test_notes_in_order_with_level(void **state)
{
	struct notes notes = { 0 };
	struct errbuf eb = { .note = keep_note, .note_ctx = &notes };

	errbuf_note(&eb, ERRBUF_WARN, "policy %s: world-writable", "p.yaml");
	errbuf_note(&eb, ERRBUF_INFO, "%u records", 3u);
	errbuf_note(&eb, ERRBUF_WARN_AT, "p.yaml:%d:%d: warning: %s", 4, 7, "unused tenant");
	assert_int_equal(notes.n, 3);
	assert_int_equal(notes.level[0], ERRBUF_WARN);
	assert_string_equal(notes.msg[0], "policy p.yaml: world-writable");
	assert_int_equal(notes.level[1], ERRBUF_INFO);
	assert_string_equal(notes.msg[1], "3 records");
	assert_int_equal(notes.level[2], ERRBUF_WARN_AT);
	assert_string_equal(notes.msg[2], "p.yaml:4:7: warning: unused tenant");
	/* A note is no error: the message stays as it was. */
	assert_string_equal(eb.msg, "");
}

static void test_notes_dropped_without_sink(void **state)
{
	struct errbuf eb = { .msg = "kept" };

	errbuf_note(&eb, ERRBUF_ERR, "nobody %s", "listens");
	errbuf_note(NULL, ERRBUF_ERR, "nobody %s", "listens");
	assert_string_equal(eb.msg, "kept");
}

static void test_keep_notes_copies_sink_not_message(void **state)
{
	struct notes notes = { 0 };
	struct errbuf caller = { .msg = "the caller's error", .note = keep_note,
				 .note_ctx = &notes };
	struct errbuf kept = { .msg = "stale" };

	errbuf_keep_notes(&kept, &caller);
	assert_string_equal(kept.msg, "");
	assert_ptr_equal(kept.note, keep_note);
	assert_ptr_equal(kept.note_ctx, &notes);
	errbuf_note(&kept, ERRBUF_INFO, "reloaded");
	assert_int_equal(notes.n, 1);
	assert_string_equal(notes.msg[0], "reloaded");

	strcpy(kept.msg, "stale");
	errbuf_keep_notes(&kept, NULL);
	assert_string_equal(kept.msg, "");
	assert_null(kept.note);
	assert_null(kept.note_ctx);
	errbuf_note(&kept, ERRBUF_INFO, "dropped");
	assert_int_equal(notes.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_formats_and_returns_err),
		cmocka_unit_test(test_set_truncates),
		cmocka_unit_test(test_set_without_errbuf),
		cmocka_unit_test(test_notes_in_order_with_level),
		cmocka_unit_test(test_notes_dropped_without_sink),
		cmocka_unit_test(test_keep_notes_copies_sink_not_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
