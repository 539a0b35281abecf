// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/output/pci_address.c: the one grammar of a PCI address, what it
 * refuses and why, and the kernel's name of what it reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "output/pci_address.h"

static void expect_name(const char *text, const char *name)
{
	struct pci_address a;
	char buf[32];

	if (pci_address_parse(text, &a))
		fail_msg("'%s' was refused", text);
	assert_int_equal(pci_address_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, name);
}

static void test_accepted_forms(void **state)
{
	expect_name("0000:00:03.0", "0000:00:03.0");
	expect_name("00:03.0", "0000:00:03.0");
	expect_name("0001:3B:1f.7", "0001:3b:1f.7");
	/* VMD domains have five digits; eight is the most the kernel prints. */
	expect_name("10000:e1:00.0", "10000:e1:00.0");
	expect_name("0fffffff:ff:1f.7", "fffffff:ff:1f.7");
}

static void test_other_shapes_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "eth0", "00:03", "00:03.", "00:03.0x", "0:3.0", "00:3.0", "000:00:03.0",
		"123456789:00:03.0", "-1:03.0", "0000:00:03:0", "0000:00:03.00", " 00:03.0",
		"00:03.0 ", "00:0g.0", "0000::00:03.0",
	};
	struct pci_address a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pci_address_parse(bad[i], &a) != -EINVAL)
			fail_msg("'%s' was not refused as text of another shape", bad[i]);
}

/* In the grammar but not on a PCI bus: said apart, so a message can name the part. */
static void test_out_of_range(void **state)
{
	struct pci_address a;

	assert_int_equal(pci_address_parse("00:20.0", &a), -ERANGE);
	assert_int_equal(a.dev, 0x20);
	assert_int_equal(pci_address_parse("00:03.8", &a), -ERANGE);
	assert_int_equal(a.dev, 3);
	assert_int_equal(a.fn, 8);
}

static void test_name_that_does_not_fit(void **state)
{
	struct pci_address a = { .domain = 0xffffffff, .bus = 0xff, .dev = 0x1f, .fn = 7 };
	char buf[16];

	/* "ffffffff:ff:1f.7" is 16 characters: the kernel's records hold 15 and a NUL. */
	assert_int_equal(pci_address_name(&a, buf, sizeof(buf)), -ENAMETOOLONG);
	a.domain = 0;
	assert_int_equal(pci_address_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0000:ff:1f.7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_other_shapes_are_refused),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_name_that_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
