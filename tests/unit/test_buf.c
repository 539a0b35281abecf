// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output/buf.h"

static void test_appends_build_one_c_string(void **state)
{
	struct buf b = { 0 };

	(void)state;
	buf__puts(&b, "ioguard");
	buf__append(&b, "_build_info{x}", 11);
	buf__printf(&b, " %d\n", 1);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, strlen("ioguard_build_info 1\n"));
	assert_string_equal(b.data, "ioguard_build_info 1\n");
	buf__release(&b);
}

/* Appends past the first allocation keep every byte and the terminating NUL. */
static void test_grows_past_the_first_allocation(void **state)
{
	struct buf b = { 0 };
	char line[100];
	size_t i;

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 1000; i++)
		buf__append(&b, line, sizeof(line));
	buf__printf(&b, "%9000s|", "end");
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 1000 * sizeof(line) + 9001);
	assert_true(b.cap > b.len);
	assert_memory_equal(b.data + 999 * sizeof(line), line, sizeof(line));
	assert_int_equal(b.data[b.len - 1], '|');
	assert_int_equal(b.data[b.len - 2], 'd');
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);
	buf__release(&b);
}

static void test_reset_empties_and_keeps_the_allocation(void **state)
{
	struct buf b = { 0 };
	char *data;
	size_t cap;

	(void)state;
	buf__puts(&b, "first");
	data = b.data;
	cap = b.cap;
	buf__reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	buf__puts(&b, "second");
	assert_string_equal(b.data, "second");
	buf__release(&b);
}

/* A buffer that never allocated can be reset; release accepts NULL and leaves it reusable. */
static void test_reset_and_release_of_empty_buffers(void **state)
{
	struct buf b = { 0 };

	(void)state;
	buf__reset(&b);
	assert_null(b.data);
	buf__release(&b);
	buf__release(NULL);
	buf__puts(&b, "again");
	buf__release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	buf__puts(&b, "and again");
	assert_string_equal(b.data, "and again");
	buf__release(&b);
}

/* After a failed reservation every append is a no-op, so a writer checks once at the end. */
static void test_error_is_sticky_until_reset(void **state)
{
	struct buf b = { 0 };

	(void)state;
	buf__puts(&b, "kept");
	assert_int_equal(buf__reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(b.err, -ENOMEM);
	buf__puts(&b, " lost");
	buf__printf(&b, " %s", "lost too");
	assert_int_equal(buf__reserve(&b, 1), -ENOMEM);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	buf__reset(&b);
	assert_int_equal(b.err, 0);
	buf__puts(&b, "fresh");
	assert_string_equal(b.data, "fresh");
	buf__release(&b);
}

static void test_reserve_makes_room_without_writing(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf__reserve(&b, 10000), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 10001);
	buf__release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends_build_one_c_string),
		cmocka_unit_test(test_grows_past_the_first_allocation),
		cmocka_unit_test(test_reset_empties_and_keeps_the_allocation),
		cmocka_unit_test(test_reset_and_release_of_empty_buffers),
		cmocka_unit_test(test_error_is_sticky_until_reset),
		cmocka_unit_test(test_reserve_makes_room_without_writing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
