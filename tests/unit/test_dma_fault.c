// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The naming of VT-d DMA fault records: reasons, requesters and their groups (the kinds
 * are test_abi_names.c's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "output/dma_fault.h"

#define FIXTURES "tests/fixtures/sysfs/"

static void test_event_kind_from_flags(void **state)
{
	struct ioguard_event e = { .op = IOGUARD_OP_DMA_FAULT };

	assert_int_equal(dma_fault_event_kind(&e), IOGUARD_DMA_FAULT_WRITE);
	e.flags = IOGUARD_EV_FAULT_READ;
	assert_int_equal(dma_fault_event_kind(&e), IOGUARD_DMA_FAULT_READ);
	e.flags = IOGUARD_EV_FAULT_INTR;
	assert_int_equal(dma_fault_event_kind(&e), IOGUARD_DMA_FAULT_INTERRUPT);
}

static void test_reason_as_the_kernel_prints_it(void **state)
{
	char r[DMA_FAULT_REASON_LEN];

	dma_fault_reason_str(0x05, r);
	assert_string_equal(r, "0x05");
	dma_fault_reason_str(0xff, r);
	assert_string_equal(r, "0xff");
}

/* source id = bus << 8 | device << 3 | function, on the IOMMU's PCI segment. */
static void test_device_name_from_source_id(void **state)
{
	char name[IOGUARD_DEV_NAME_LEN];

	dma_fault_device_name(0, 0x18, name, sizeof(name));
	assert_string_equal(name, "0000:00:03.0");
	dma_fault_device_name(0x1a, 0xfffe, name, sizeof(name));
	assert_string_equal(name, "001a:ff:1f.6");
	dma_fault_device_name(0xffff, 0x0101, name, sizeof(name));
	assert_string_equal(name, "ffff:01:00.1");
}

static void test_device_group_from_sysfs(void **state)
{
	assert_int_equal(dma_fault_device_group(FIXTURES "lab-debian-both-vfio", "0000:00:03.0"), 3);
	assert_int_equal(dma_fault_device_group(FIXTURES "q35-host", "0000:00:03.0"), 2);
	assert_int_equal(dma_fault_device_group(FIXTURES "q35-host", "0000:07:00.0"), -ENOENT);
	/* Only a PCI name: never a path out of the devices directory. */
	assert_int_equal(dma_fault_device_group(FIXTURES "q35-host", "../../../etc/x"), -EINVAL);
	assert_int_equal(dma_fault_device_group(FIXTURES "q35-host", "0000:00:03.0/.."), -EINVAL);
	assert_int_equal(dma_fault_device_group(FIXTURES "q35-host", "0000:00:03"), -EINVAL);
}

static void test_event_resolve(void **state)
{
	struct ioguard_event e = {
		.op = IOGUARD_OP_DMA_FAULT, .group = -1, .flags = IOGUARD_EV_HAS_DEVICE,
	};
	struct ioguard_event map = { .op = IOGUARD_OP_MAP, .group = -1,
				     .flags = IOGUARD_EV_HAS_DEVICE };

	strcpy(e.device, "0000:00:03.0");
	dma_fault_event_resolve(&e, FIXTURES "lab-debian-both-vfio");
	assert_true(e.flags & IOGUARD_EV_HAS_GROUP);
	assert_int_equal(e.group, 3);

	strcpy(e.device, "0000:09:00.0");
	e.flags = IOGUARD_EV_HAS_DEVICE;
	e.group = -1;
	dma_fault_event_resolve(&e, FIXTURES "lab-debian-both-vfio");
	assert_false(e.flags & IOGUARD_EV_HAS_GROUP);
	assert_int_equal(e.group, -1);

	strcpy(map.device, "0000:00:03.0");
	dma_fault_event_resolve(&map, FIXTURES "lab-debian-both-vfio");
	assert_false(map.flags & IOGUARD_EV_HAS_GROUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_kind_from_flags),
		cmocka_unit_test(test_reason_as_the_kernel_prints_it),
		cmocka_unit_test(test_device_name_from_source_id),
		cmocka_unit_test(test_device_group_from_sysfs),
		cmocka_unit_test(test_event_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
