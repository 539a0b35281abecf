// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "output/json_writer.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer *w;
};

static int capture_setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	c->w = jsonw_new(c->f);
	assert_non_null(c->w);
	*state = c;
	return 0;
}

static int capture_teardown(void **state)
{
	struct capture *c = *state;

	jsonw_destroy(c->w);
	fclose(c->f);
	free(c->buf);
	free(c);
	return 0;
}

static const char *captured(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void test_nested_values_get_commas(void **state)
{
	struct capture *c = *state;

	jsonw_start_object(c->w);
	jsonw_uint_field(c->w, "a", 1);
	jsonw_name(c->w, "list");
	jsonw_start_array(c->w);
	jsonw_int(c->w, -2);
	jsonw_bool(c->w, true);
	jsonw_null(c->w);
	jsonw_start_object(c->w);
	jsonw_end_object(c->w);
	jsonw_end_array(c->w);
	jsonw_string_field(c->w, "s", "x");
	jsonw_end_object(c->w);
	assert_string_equal(captured(c), "{\"a\":1,\"list\":[-2,true,null,{}],\"s\":\"x\"}\n");
}

static void test_strings_are_escaped(void **state)
{
	struct capture *c = *state;

	jsonw_string(c->w, "q\"b\\n\nt\t\x01");
	assert_string_equal(captured(c), "\"q\\\"b\\\\n\\nt\\t\\u0001\"\n");
}

static void test_top_level_values_are_lines(void **state)
{
	struct capture *c = *state;

	jsonw_start_object(c->w);
	jsonw_uint_field(c->w, "n", 1);
	jsonw_end_object(c->w);
	jsonw_start_object(c->w);
	jsonw_uint_field(c->w, "n", UINT64_MAX);
	jsonw_end_object(c->w);
	assert_string_equal(captured(c), "{\"n\":1}\n{\"n\":18446744073709551615}\n");
}

/* Control bytes as \u escapes, bytes from 0x7f up as they are. */
static void test_control_and_high_bytes(void **state)
{
	struct capture *c = *state;

	jsonw_string(c->w, "\x1f\x7f\xc3\xa9\r");
	assert_string_equal(captured(c), "\"\\u001f\x7f\xc3\xa9\\r\"\n");
}

/* The writer holds a value back until it ends; the stream is the caller's between values. */
static void test_direct_writes_between_values_keep_their_place(void **state)
{
	struct capture *c = *state;

	jsonw_uint(c->w, 1);
	fputs("# between\n", c->f);
	jsonw_start_array(c->w);
	jsonw_int(c->w, INT64_MIN);
	jsonw_end_array(c->w);
	assert_string_equal(captured(c), "1\n# between\n[-9223372036854775808]\n");
}

/* A value longer than the writer's staging buffer goes out whole and in order. */
static void test_long_values_are_written_whole(void **state)
{
	struct capture *c = *state;
	size_t n = 10000, i;
	char *s = malloc(n + 1), *want = malloc(2 * n + 16), *p;

	assert_non_null(s);
	assert_non_null(want);
	for (i = 0; i < n; i++)
		s[i] = i % 100 == 99 ? '"' : 'a' + i % 26;
	s[n] = '\0';
	p = want;
	p += sprintf(p, "[\"");
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '\\';
		*p++ = s[i];
	}
	sprintf(p, "\",7]\n");

	jsonw_start_array(c->w);
	jsonw_string(c->w, s);
	jsonw_uint(c->w, 7);
	jsonw_end_array(c->w);
	assert_string_equal(captured(c), want);
	free(want);
	free(s);
}

/* Every digit count, as printf's %llu and %lld write them. */
static void test_numbers_match_printf(void **state)
{
	struct capture *c = *state;
	char want[64 * 48], *p = want;
	uint64_t v = 1;
	int i;

	jsonw_start_array(c->w);
	p += sprintf(p, "[");
	for (i = 0; i < 20; i++, v *= 10) {
		jsonw_uint(c->w, v - 1);
		jsonw_uint(c->w, v);
		jsonw_int(c->w, -(int64_t)(v / 3));
		p += sprintf(p, "%s%llu,%llu,%lld", i ? "," : "", (unsigned long long)(v - 1),
			     (unsigned long long)v, -(long long)(v / 3));
	}
	jsonw_uint(c->w, UINT64_MAX);
	jsonw_end_array(c->w);
	sprintf(p, ",18446744073709551615]\n");
	assert_string_equal(captured(c), want);
}

/*
 * Strings are quoted straight into the staging buffer, which is handed over first when
 * the string might not fit; values built elsewhere (jsonw_json()) are copied in as they
 * are: the output is the same wherever in the buffer a value lands.
 */
static void test_values_across_the_buffer_end(void **state)
{
	struct capture *c = *state;
	char want[64000], *p = want;
	int i;

	jsonw_start_array(c->w);
	p += sprintf(p, "[");
	for (i = 0; i < 1000; i++) {
		jsonw_start_object(c->w);
		jsonw_name(c->w, "plain_name");
		jsonw_string(c->w, i % 7 ? "value" : "va\"lue");
		jsonw_name(c->w, "n");
		jsonw_json(c->w, "123456789012", 12);
		jsonw_end_object(c->w);
		p += sprintf(p, "%s{\"plain_name\":\"%s\",\"n\":%llu}", i ? "," : "",
			     i % 7 ? "value" : "va\\\"lue", 123456789012ULL);
	}
	jsonw_end_array(c->w);
	sprintf(p, "]\n");
	assert_string_equal(captured(c), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nested_values_get_commas, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_strings_are_escaped, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_top_level_values_are_lines, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_control_and_high_bytes, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_direct_writes_between_values_keep_their_place,
						capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(test_long_values_are_written_whole, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_numbers_match_printf, capture_setup,
						capture_teardown),
		cmocka_unit_test_setup_teardown(test_values_across_the_buffer_end, capture_setup,
						capture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
