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

#include "output/abi_names.h"
#include "output/event.h"

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

static void test_json_unterminated_fields_are_bounded(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0);

	memset(e.comm, 'A', sizeof(e.comm));
	memset(e.device, 'B', sizeof(e.device));
	e.flags |= IOGUARD_EV_HAS_DEVICE;
	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"comm\":\"AAAAAAAAAAAAAAAA\","));
	assert_non_null(strstr(c->buf, "\"device\":\"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\","));
}

/* Records of one second share the formatted date; each record still gets its own. */
static void test_json_time_follows_every_record(void **state)
{
	static const struct {
		__u64 ts_ns;
		const char *time;
	} cases[] = {
		{ 999999999, "{\"time\":\"2026-11-23T19:00:00.999999Z\"" },
		{ 1000000000, "{\"time\":\"2026-11-23T19:00:01.000000Z\"" },
		{ 1000000999, "{\"time\":\"2026-11-23T19:00:01.000000Z\"" },
		{ 1000001000, "{\"time\":\"2026-11-23T19:00:01.000001Z\"" },
		{ 17999999999000, "{\"time\":\"2026-11-23T23:59:59.999999Z\"" },
		{ 18000000000000, "{\"time\":\"2026-11-24T00:00:00.000000Z\"" },
		{ 1000000000, "{\"time\":\"2026-11-23T19:00:01.000000Z\"" },
	};
	struct capture *c = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ioguard_event e = map_event(0x1000, 0);

		e.ts_ns = cases[i].ts_ns;
		event_printer__json(c->p, c->w, &e);
		fflush(c->f);
		/* Each record overwrites the last from the start of the buffer. */
		assert_memory_equal(c->buf, cases[i].time, strlen(cases[i].time));
		fseek(c->f, 0, SEEK_SET);
	}
}


static struct ioguard_decision denial(void)
{
	struct ioguard_decision d = {
		.ts_ns = 1500000,
		.policy_id = 0x0123456789abcdefULL,
		.value = 0x40000000,
		.pid = 77,
		.uid = 0,
		.hook = IOGUARD_HOOK_MAP_DMA,
		.decision = IOGUARD_DECISION_DENY,
		.reason = IOGUARD_REASON_IOVA_WINDOW,
		.group = 3,
		.tenant = 0,
	};

	strcpy(d.comm, "vfio_workload");
	strcpy(d.device, "0000:00:03.0");
	return d;
}

static void test_json_decision(void **state)
{
	struct capture *c = *state;
	struct ioguard_decision d = denial();

	event_printer__decision_json(c->p, c->w, &d, "lab");
	fflush(c->f);
	assert_string_equal(c->buf,
		"{\"time\":\"2026-11-23T19:00:00.001500Z\",\"ts_ns\":1500000,\"cpu\":null,"
		"\"pid\":77,\"tid\":null,\"comm\":\"vfio_workload\",\"op\":\"decision\","
		"\"device\":\"0000:00:03.0\",\"group\":3,\"domain\":null,\"iova\":null,"
		"\"size\":null,\"latency_ns\":null,\"ret\":null,\"hook\":\"map_dma\","
		"\"decision\":\"deny\",\"reason\":\"iova_window\",\"tenant\":\"lab\",\"uid\":0,"
		"\"value\":1073741824,\"policy_id\":\"0123456789abcdef\"}\n");
}

static void test_decision_without_tenant_or_device(void **state)
{
	struct capture *c = *state;
	struct ioguard_decision d = denial();

	d.device[0] = '\0';
	d.group = -1;
	d.tenant = -1;
	event_printer__decision_json(c->p, c->w, &d, NULL);
	event_printer__decision_text(c->p, c->f, &d, NULL);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"device\":null,\"group\":null,"));
	assert_non_null(strstr(c->buf, "\"tenant\":null,"));
	assert_non_null(strstr(c->buf, " decision       -                "
				       "- map_dma deny iova_window tenant=- uid=0\n"));
}

static void test_text_decision(void **state)
{
	struct capture *c = *state;
	struct ioguard_decision d = denial();

	memset(d.comm, 'C', sizeof(d.comm));
	event_printer__decision_text(c->p, c->f, &d, "lab");
	fflush(c->f);
	/* An unterminated comm is bounded by its array. */
	assert_non_null(strstr(c->buf, "19:00:00.001500 -   77      CCCCCCCCCCCCCCCC "));
	assert_null(strstr(c->buf, "CCCCCCCCCCCCCCCCC"));
	assert_non_null(strstr(c->buf, " decision       0000:00:03.0     3 map_dma deny "
				       "iova_window tenant=lab uid=0\n"));
}

/* A comm the traced process chose: no terminal escape reaches the text output (#15). */
static void test_text_comm_control_characters_are_escaped(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0);
	struct ioguard_decision d = denial();
	size_t i;

	memcpy(e.comm, "\x1b[2K\rqemu-ok\x1b[8", 16);
	memcpy(d.comm, "a\\b\x7f\xc2\x9b" "1m\xff", 10);
	event_printer__text(c->p, c->f, &e);
	event_printer__decision_text(c->p, c->f, &d, "lab");
	fflush(c->f);
	for (i = 0; i < c->len; i++)
		assert_true(c->buf[i] == '\n' || ((unsigned char)c->buf[i] >= 0x20 &&
						  c->buf[i] != 0x7f));
	assert_non_null(strstr(c->buf, " \\x1b[2K\\x0dqemu-ok\\x1b[8 "));
	assert_non_null(strstr(c->buf, " a\\\\b\\x7f\\xc2\\x9b1m\\xff "));
}

/* JSON output stays valid UTF-8 whatever bytes comm holds; valid UTF-8 passes as is. */
static void test_json_comm_invalid_utf8_is_escaped(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0);

	memcpy(e.comm, "q\xe9mu\xc3\xa9\xed\xa0\x80\xf0\x9f\x98\x80\x1b", 15);
	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"comm\":\"q\\\\xe9mu\xc3\xa9\\\\xed\\\\xa0\\\\x80"
				       "\xf0\x9f\x98\x80\\\\x1b\","));
}

/* A stamp near the top of the range wraps with the clock offset; no signed overflow. */
static void test_stamp_at_the_end_of_the_range(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0);
	struct ioguard_decision d = denial();

	e.ts_ns = INT64_MAX;
	d.ts_ns = UINT64_MAX;
	event_printer__text(c->p, c->f, &e);
	event_printer__json(c->p, c->w, &e);
	event_printer__decision_text(c->p, c->f, &d, NULL);
	event_printer__decision_json(c->p, c->w, &d, NULL);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"ts_ns\":9223372036854775807,"));
	assert_non_null(strstr(c->buf, "\"ts_ns\":18446744073709551615,"));
}

static void test_new_iommufd_ops_have_names(void **state)
{
	assert_string_equal(abi_op_name(IOGUARD_OP_IOMMUFD_BIND), "iommufd_bind");
	assert_string_equal(abi_op_name(IOGUARD_OP_IOMMUFD_UNBIND), "iommufd_unbind");
	assert_string_equal(abi_op_name(IOGUARD_OP_IOMMUFD_ATTACH), "iommufd_attach");
	assert_string_equal(abi_op_name(IOGUARD_OP_IOMMUFD_DETACH), "iommufd_detach");
	/* The stream's op mask is a __u32. */
	assert_true(IOGUARD_OP_COUNT <= 32);
}

/* ---- filters ---------------------------------------------------------------------- */

static void test_pasid_ops_have_names_and_render_their_pasid(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = { .op = IOGUARD_OP_ATTACH_PASID, .pid = 1, .group = -1 };

	assert_string_equal(abi_op_name(IOGUARD_OP_MAP_NOSYNC), "map_nosync");
	assert_string_equal(abi_op_name(IOGUARD_OP_REPLACE_PASID), "replace_pasid");
	assert_int_equal(abi_op_parse("detach_pasid"), IOGUARD_OP_DETACH_PASID);
	e.pasid = 5;
	e.flags = IOGUARD_EV_HAS_PASID;
	event_printer__json(c->p, c->w, &e);
	event_printer__text(c->p, c->f, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"op\":\"attach_pasid\""));
	assert_non_null(strstr(c->buf, "\"ret\":null,\"pasid\":5}"));
	assert_non_null(strstr(c->buf, " pasid:5 "));
}

/* Records of other ops keep exactly their keys: no pasid key appears. */
static void test_json_without_pasid_has_no_pasid_key(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = map_event(0x1000, 0x200000);

	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_null(strstr(c->buf, "pasid"));
}

/* A DMA fault record as trace.bpf.c makes it: no pid, the IOMMU's name as comm. */
static struct ioguard_event dma_fault_event(__u32 kind_flags, __u8 reason)
{
	struct ioguard_event e = {
		.ts_ns = 1500000,
		.iova = 0x200000,
		.ret = reason,
		.cpu = 1,
		.op = IOGUARD_OP_DMA_FAULT,
		.group = 3,
		.flags = IOGUARD_EV_HAS_DEVICE | IOGUARD_EV_HAS_GROUP | IOGUARD_EV_HAS_IOVA |
			 IOGUARD_EV_HAS_RET | kind_flags,
	};

	strcpy(e.comm, "dmar0");
	strcpy(e.device, "0000:00:03.0");
	return e;
}

static void test_json_dma_fault(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = dma_fault_event(0, 0x05);

	assert_int_equal(abi_op_parse("dma_fault"), IOGUARD_OP_DMA_FAULT);
	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_string_equal(c->buf,
		"{\"time\":\"2026-11-23T19:00:00.001500Z\",\"ts_ns\":1500000,\"cpu\":1,"
		"\"pid\":0,\"tid\":0,\"comm\":\"dmar0\",\"op\":\"dma_fault\","
		"\"device\":\"0000:00:03.0\",\"group\":3,\"domain\":null,\"iova\":2097152,"
		"\"size\":null,\"latency_ns\":null,\"ret\":5,\"kind\":\"write\","
		"\"reason\":\"0x05\"}\n");
}

static void test_json_dma_fault_read_with_pasid(void **state)
{
	struct capture *c = *state;
	struct ioguard_event e = dma_fault_event(IOGUARD_EV_FAULT_READ | IOGUARD_EV_HAS_PASID,
						 0x06);

	e.pasid = 0x11;
	event_printer__json(c->p, c->w, &e);
	fflush(c->f);
	assert_non_null(strstr(c->buf, "\"ret\":6,\"pasid\":17,\"kind\":\"read\","
				       "\"reason\":\"0x06\"}"));
}

static void test_text_dma_fault(void **state)
{
	struct capture *c = *state;
	struct ioguard_event w = dma_fault_event(0, 0x05);
	struct ioguard_event r = dma_fault_event(IOGUARD_EV_FAULT_READ | IOGUARD_EV_HAS_PASID,
						 0x06);
	struct ioguard_event i = dma_fault_event(IOGUARD_EV_FAULT_INTR, 0x25);

	r.pasid = 1;
	i.iova = 12;
	event_printer__text(c->p, c->f, &w);
	event_printer__text(c->p, c->f, &r);
	event_printer__text(c->p, c->f, &i);
	fflush(c->f);
	assert_non_null(strstr(c->buf, " dmar0 "));
	assert_non_null(strstr(c->buf, " dma_fault "));
	assert_non_null(strstr(c->buf, " 0000:00:03.0     3      - 0x200000 "));
	assert_non_null(strstr(c->buf, " - write reason 0x05\n"));
	assert_non_null(strstr(c->buf, " - read reason 0x06 pasid 1\n"));
	assert_non_null(strstr(c->buf, " 0xc "));
	assert_non_null(strstr(c->buf, " - interrupt reason 0x25\n"));
}

/* A fault names a device, not a process: a --pid filter leaves it out. */
static void test_filter_dma_fault(void **state)
{
	struct ioguard_event e = dma_fault_event(0, 0x05);
	struct event_filter f = { 0 };
	struct errbuf eb = { .note = NULL };

	assert_true(event_filter__event(&f, &e));
	assert_int_equal(event_filter__parse_device(&f, "00:03.0"), 0);
	assert_true(event_filter__event(&f, &e));
	f.group_set = true;
	f.group = 3;
	assert_true(event_filter__event(&f, &e));
	f.group = 4;
	assert_false(event_filter__event(&f, &e));
	f.group_set = false;
	assert_int_equal(event_filter__parse_ops(&f, "map", &eb), 0);
	assert_false(event_filter__event(&f, &e));
	assert_int_equal(event_filter__parse_ops(&f, "dma_fault", &eb), 0);
	assert_true(event_filter__event(&f, &e));
	f.pid = 42;
	assert_false(event_filter__event(&f, &e));
}

static void test_filter_parse_ops(void **state)
{
	struct event_filter f = { 0 };
	struct errbuf eb = { .note = NULL };

	assert_int_equal(event_filter__parse_ops(&f, "map,unmap_fast", &eb), 0);
	assert_true(f.ops_set);
	assert_int_equal(f.ops, (1U << IOGUARD_OP_MAP) | (1U << IOGUARD_OP_UNMAP_FAST));
	assert_true(f.decisions_off);
	assert_int_equal(event_filter__parse_ops(&f, "decision", &eb), 0);
	assert_int_equal(f.ops, 0);
	assert_false(f.decisions_off);
	assert_int_equal(event_filter__parse_ops(&f, "map,bogus", &eb), -EINVAL);
	assert_string_equal(eb.msg, "unknown op 'bogus'");
	assert_int_equal(event_filter__parse_ops(&f, ",", &eb), -EINVAL);
	assert_string_equal(eb.msg, "no op named");
	assert_int_equal(event_filter__parse_ops(&f, "none", &eb), -EINVAL);
}

static void test_filter_parse_device(void **state)
{
	struct event_filter f = { 0 };

	assert_int_equal(event_filter__parse_device(&f, "00:03.0"), 0);
	assert_string_equal(f.device, "0000:00:03.0");
	assert_int_equal(event_filter__parse_device(&f, "0001:3B:1f.7"), 0);
	assert_string_equal(f.device, "0001:3b:1f.7");
	assert_int_equal(event_filter__parse_device(&f, "00:20.0"), -EINVAL);	/* device > 0x1f */
	assert_int_equal(event_filter__parse_device(&f, "00:03.8"), -EINVAL);
	assert_int_equal(event_filter__parse_device(&f, "00:03.0x"), -EINVAL);
	assert_int_equal(event_filter__parse_device(&f, "eth0"), -EINVAL);
	assert_int_equal(event_filter__parse_device(&f, "-1:03.0"), -EINVAL);
}

static void test_filter_events(void **state)
{
	struct ioguard_event map = map_event(0x1000, 0x100000), attach = { 0 };
	struct event_filter f = { 0 };
	struct errbuf eb = { .note = NULL };

	attach.op = IOGUARD_OP_ATTACH_GROUP;
	attach.pid = 42;
	attach.group = 7;
	strcpy(attach.device, "0000:00:03.0");
	attach.flags = IOGUARD_EV_HAS_GROUP | IOGUARD_EV_HAS_DEVICE;

	assert_true(event_filter__event(&f, &map));
	f.pid = 41;
	assert_false(event_filter__event(&f, &map));
	f.pid = 42;
	assert_true(event_filter__event(&f, &map));

	assert_int_equal(event_filter__parse_ops(&f, "attach_group", &eb), 0);
	assert_false(event_filter__event(&f, &map));
	assert_true(event_filter__event(&f, &attach));
	f.ops_set = false;

	f.group_set = true;
	f.group = 8;
	assert_false(event_filter__event(&f, &map));
	f.group = 7;
	assert_true(event_filter__event(&f, &map));
	map.flags &= ~IOGUARD_EV_HAS_GROUP;	/* a map of a domain never seen attached */
	assert_false(event_filter__event(&f, &map));
	map.flags |= IOGUARD_EV_HAS_GROUP;
	f.group_set = false;

	/* --device: records naming it, and the maps of its group. */
	assert_int_equal(event_filter__parse_device(&f, "00:03.0"), 0);
	assert_true(event_filter__event(&f, &attach));
	assert_false(event_filter__event(&f, &map));
	f.device_group_set = true;
	f.device_group = 7;
	assert_true(event_filter__event(&f, &map));
	strcpy(attach.device, "0000:00:04.0");
	assert_false(event_filter__event(&f, &attach));
}

static void test_filter_decisions(void **state)
{
	struct ioguard_decision d = denial();
	struct event_filter f = { 0 };
	struct errbuf eb = { .note = NULL };

	assert_true(event_filter__decision(&f, &d));
	assert_int_equal(event_filter__parse_ops(&f, "map", &eb), 0);
	assert_false(event_filter__decision(&f, &d));
	assert_int_equal(event_filter__parse_ops(&f, "map,decision", &eb), 0);
	assert_true(event_filter__decision(&f, &d));
	f.pid = 78;
	assert_false(event_filter__decision(&f, &d));
	f.pid = 77;
	f.group_set = true;
	f.group = 3;
	assert_true(event_filter__decision(&f, &d));
	f.group = 4;
	assert_false(event_filter__decision(&f, &d));
	f.group_set = false;
	assert_int_equal(event_filter__parse_device(&f, "0000:00:03.0"), 0);
	assert_true(event_filter__decision(&f, &d));
	assert_int_equal(event_filter__parse_device(&f, "0000:00:02.0"), 0);
	assert_false(event_filter__decision(&f, &d));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, capture_setup, capture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_json_map_event),
		T(test_json_unknown_fields_are_null),
		T(test_domains_get_ids_in_order_of_first_sight),
		T(test_text_line_fields),
		T(test_text_unterminated_comm_is_bounded),
		T(test_json_unterminated_fields_are_bounded),
		T(test_json_time_follows_every_record),
		T(test_json_decision),
		T(test_decision_without_tenant_or_device),
		T(test_text_decision),
		T(test_text_comm_control_characters_are_escaped),
		T(test_json_comm_invalid_utf8_is_escaped),
		T(test_stamp_at_the_end_of_the_range),
		cmocka_unit_test(test_new_iommufd_ops_have_names),
		T(test_pasid_ops_have_names_and_render_their_pasid),
		T(test_json_without_pasid_has_no_pasid_key),
		T(test_json_dma_fault),
		T(test_json_dma_fault_read_with_pasid),
		T(test_text_dma_fault),
		cmocka_unit_test(test_filter_dma_fault),
		cmocka_unit_test(test_filter_parse_ops),
		cmocka_unit_test(test_filter_parse_device),
		cmocka_unit_test(test_filter_events),
		cmocka_unit_test(test_filter_decisions),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
