// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "../../src/ioguard/event.h"

/* 2026-11-23T19:00:00Z, as the realtime offset of a monotonic clock starting at 0. */
#define EPOCH_NS (1795460400LL * 1000000000LL)

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer *w;
	struct event_printer *p;
};

static int capture_setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->f = open_memstream(&c->buf, &c->len);
	c->w = jsonw_new(c->f);
	c->p = event_printer__new(EPOCH_NS);
	assert_non_null(c->p);
	*state = c;
	return 0;
}

static int capture_teardown(void **state)
{
	struct capture *c = *state;

	event_printer__free(c->p);
	jsonw_destroy(c->w);
	fclose(c->f);
	free(c->buf);
	free(c);
	return 0;
}

static struct ioguard_event map_event(__u64 domain, __u64 iova)
{
	struct ioguard_event e = {
		.ts_ns = 1500000,
		.latency_ns = 2500,
		.domain = domain,
		.iova = iova,
		.size = 4096,
		.ret = 0,
		.pid = 42,
		.tid = 43,
		.cpu = 1,
		.op = IOGUARD_OP_MAP,
		.group = 7,
		.flags = IOGUARD_EV_HAS_LATENCY | IOGUARD_EV_HAS_RET | IOGUARD_EV_HAS_DOMAIN |
			 IOGUARD_EV_HAS_GROUP | IOGUARD_EV_HAS_IOVA | IOGUARD_EV_HAS_SIZE,
	};

	strcpy(e.comm, "qemu");
	return e;
}

static void test_op_names_round_trip(void **state)
{
	int op;

	for (op = IOGUARD_OP_NONE + 1; op < IOGUARD_OP_COUNT; op++)
		assert_int_equal(event_op_parse(event_op_name(op)), op);
	assert_string_equal(event_op_name(IOGUARD_OP_COUNT), "unknown");
	assert_int_equal(event_op_parse("bogus"), -EINVAL);
}

static void test_json_map_event(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0xffff888012340000ULL, 0x100000);

	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_string_equal(c->buf,
		"{\"time\":\"2026-11-23T19:00:00.001500Z\",\"ts_ns\":1500000,\"cpu\":1,"
		"\"pid\":42,\"tid\":43,\"comm\":\"qemu\",\"op\":\"map\",\"device\":null,"
		"\"group\":7,\"domain\":1,\"iova\":1048576,\"size\":4096,\"latency_ns\":2500,"
		"\"ret\":0}\n");
}

static void test_json_unknown_fields_are_null(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = { .op = IOGUARD_OP_ATTACH_GROUP, .pid = 1, .group = -1 };

	strcpy(e.device, "0000:00:03.0");
	e.flags = IOGUARD_EV_HAS_DEVICE;
	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"device\":\"0000:00:03.0\",\"group\":null,"
				       "\"domain\":null,\"iova\":null,\"size\":null,"
				       "\"latency_ns\":null,\"ret\":null}"));
}

static void test_domains_get_ids_in_order_of_first_sight(void **state)
{
	struct capture *c = *state;
	struct ioguard_event a = map_event(0xffff888000001000ULL, 0);
	struct ioguard_event b = map_event(0xffff888000000000ULL, 0);

	event_printer__text(c->p, c->f, &a);
	event_printer__text(c->p, c->f, &b);
	event_printer__text(c->p, c->f, &a);
	fflush(c->f);
	{
		char *first = strstr(c->buf, " d1 "), *second = strstr(c->buf, " d2 ");

		assert_non_null(first);
		assert_non_null(second);
		assert_true(first < second);
		assert_non_null(strstr(second + 1, " d1 "));
	}
	assert_null(strstr(c->buf, "ffff888"));
}

static void test_text_line_fields(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0x200000);

	event_printer__text(c->p, c->f, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "19:00:00.001500 1   42      qemu"));
	assert_non_null(strstr(c->buf, " map "));
	assert_non_null(strstr(c->buf, " 0x200000 "));
	assert_non_null(strstr(c->buf, " 2.500 0\n"));
}

static void test_text_unterminated_comm_is_bounded(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0);

	memset(e.comm, 'A', sizeof(e.comm));
	memset(e.device, 'B', sizeof(e.device));
	e.flags |= IOGUARD_EV_HAS_DEVICE;
	event_printer__text(c->p, c->f, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "AAAAAAAAAAAAAAAA "));
	assert_null(strstr(c->buf, "AAAAAAAAAAAAAAAAA"));
	assert_null(strstr(c->buf, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, capture_setup, capture_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_names_round_trip),
		T(test_json_map_event),
		T(test_json_unknown_fields_are_null),
		T(test_domains_get_ids_in_order_of_first_sight),
		T(test_text_line_fields),
		T(test_text_unterminated_comm_is_bounded),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
