// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/output/hex.c: encoding is lowercase, two digits a byte, always
 * NUL-ended; parsing takes exactly the digits asked for, in either case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "output/hex.h"

static void test_every_byte_value(void **state)
{
	uint8_t bytes[256];
	char hex[2 * sizeof(bytes) + 1], want[3];
	size_t i;

	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	memset(hex, 'X', sizeof(hex));
	hex_encode(bytes, sizeof(bytes), hex);
	assert_int_equal(strlen(hex), 2 * sizeof(bytes));
	for (i = 0; i < sizeof(bytes); i++) {
		snprintf(want, sizeof(want), "%02x", (unsigned int)i);
		assert_memory_equal(hex + 2 * i, want, 2);
	}
}

/* The SHA-256 of the empty file, as `sha256sum` prints it. */
static void test_sha256_as_sha256sum_prints_it(void **state)
{
	static const uint8_t empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8,
		0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};
	char hex[65];

	hex_encode(empty, sizeof(empty), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Nothing to encode still leaves a string: callers print the buffer as it is. */
static void test_no_bytes_is_the_empty_string(void **state)
{
	char hex[1] = { 'X' };

	hex_encode(NULL, 0, hex);
	assert_string_equal(hex, "");
}

static void test_parse_exact_digits(void **state)
{
	uint32_t v = 0;

	assert_true(hex_parse("1f", 2, &v));
	assert_int_equal(v, 0x1f);
	assert_true(hex_parse("aBcD", 4, &v));
	assert_int_equal(v, 0xabcd);
	/* Only the first @n characters are read: the caller checks what follows. */
	assert_true(hex_parse("12:", 2, &v));
	assert_int_equal(v, 0x12);
	assert_true(hex_parse("ffffffff", 8, &v));
	assert_int_equal(v, 0xffffffff);
}

static void test_parse_refuses_a_non_digit(void **state)
{
	uint32_t v = 7;

	assert_false(hex_parse("1g", 2, &v));
	assert_false(hex_parse("x1", 2, &v));
	assert_false(hex_parse("1", 2, &v));	/* the NUL is not a digit */
	assert_false(hex_parse("-1", 2, &v));
	assert_false(hex_parse(" 1", 2, &v));
	assert_int_equal(v, 7);			/* untouched on refusal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_value),
		cmocka_unit_test(test_sha256_as_sha256sum_prints_it),
		cmocka_unit_test(test_no_bytes_is_the_empty_string),
		cmocka_unit_test(test_parse_exact_digits),
		cmocka_unit_test(test_parse_refuses_a_non_digit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
