// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/metrics/metrics_service.c without BPF: the exposition of a fixture
 * topology with the caller's series added to it, the textfile it writes (and why it
 * cannot), and the server it starts: one at a time, /metrics and /readyz answered
 * with the caller's context, the lock a no-op without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/metrics_service.h"

#define FIXTURES "tests/fixtures/sysfs/"
/* What the caller adds, as the exposition prints it: the last line. */
#define EXTRA_SERIES "ioguard_topology_changes_total{kind=\"device_joined\"} 7\n"

struct fixture {
	char dir[64];
	struct collect_ctx collect;
	struct metrics_service *ms;
	unsigned int extra_calls;
	int extra_err;		/* what add_metrics() returns */
	unsigned int ready_calls;
};

static int add_metrics(void *ctx, struct metrics_snapshot *s)
{
	struct fixture *f = ctx;

	f->extra_calls++;
	if (f->extra_err)
		return f->extra_err;
	return metrics_snapshot__add_topology_changes(s, "device_joined", 7);
}

static int ready(void *ctx, char *why, size_t len)
{
	struct fixture *f = ctx;

	f->ready_calls++;
	snprintf(why, len, "ready: the test's own context");
	return 1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct metrics_service_opts opts = {
		.sz = sizeof(opts), .collect = &f->collect, .add_metrics = add_metrics,
		.ready = ready, .ctx = f,
	};

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ioguard-test-metrics-service-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->collect = (struct collect_ctx){
		.sz = sizeof(f->collect),
		.sysfs_root = FIXTURES "q35-host",
		.no_enforcement = true,
		.bpf_stats_path = "/nonexistent",
	};
	if (metrics_service__new(&opts, &f->ms, NULL))
		return -1;
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_service__free(f->ms);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void test_new_needs_what_to_collect(void **state)
{
	struct metrics_service_opts opts = { .sz = sizeof(opts) };
	struct errbuf eb = { .note = NULL };
	struct metrics_service *ms = NULL;

	assert_int_equal(metrics_service__new(&opts, &ms, &eb), -EINVAL);
	assert_null(ms);
	assert_non_null(strstr(eb.msg, "metrics_service_opts"));
	assert_int_equal(metrics_service__new(NULL, &ms, &eb), -EINVAL);
	metrics_service__free(NULL);
}

/* The caller's series are in the exposition, whose daemon families come last. */
static void test_render_adds_the_callers_series(void **state)
{
	struct fixture *f = *state;
	struct buf out = { 0 };
	size_t n = strlen(EXTRA_SERIES);

	assert_int_equal(metrics_service__render(f->ms, &out), 0);
	assert_int_equal(f->extra_calls, 1);
	assert_non_null(strstr(out.data, "ioguard_build_info"));
	assert_true(out.len > n);
	assert_memory_equal(out.data + out.len - n, EXTRA_SERIES, n);
	/* The snapshot is reused: a second render says the same, not twice as much. */
	buf__reset(&out);
	assert_int_equal(metrics_service__render(f->ms, &out), 0);
	assert_int_equal(f->extra_calls, 2);
	assert_null(strstr(strstr(out.data, EXTRA_SERIES) + 1, EXTRA_SERIES));
	buf__release(&out);
}

/* A caller that cannot add its series fails the render: no exposition without them. */
static void test_render_fails_with_the_callers_error(void **state)
{
	struct fixture *f = *state;
	struct buf out = { 0 };

	f->extra_err = -ENOMEM;
	assert_int_equal(metrics_service__render(f->ms, &out), -ENOMEM);
	assert_int_equal(out.len, 0);
	f->extra_err = 0;
	assert_int_equal(metrics_service__render(f->ms, &out), 0);
	assert_non_null(strstr(out.data, EXTRA_SERIES));
	buf__release(&out);
}

static void test_write_textfile(void **state)
{
	struct fixture *f = *state;
	struct errbuf eb = { .note = NULL };
	char path[128], text[64] = "";
	FILE *file;

	snprintf(path, sizeof(path), "%s/ioguard.prom", f->dir);
	assert_int_equal(metrics_service__write_textfile(f->ms, path, &eb), 0);
	file = fopen(path, "r");
	assert_non_null(file);
	assert_non_null(fgets(text, sizeof(text), file));
	fclose(file);
	assert_int_equal(strncmp(text, "# HELP ", 7), 0);

	snprintf(path, sizeof(path), "%s/missing/ioguard.prom", f->dir);
	assert_int_equal(metrics_service__write_textfile(f->ms, path, &eb), -ENOENT);
	assert_non_null(strstr(eb.msg, "/missing does not exist"));
}

/* GET @what from the service's server; the whole response into @buf. */
static void get(const struct fixture *f, const char *what, char *buf, size_t len)
{
	const char *addr = metrics_service__address(f->ms);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[128];
	size_t got = 0;
	ssize_t n;
	int fd;

	assert_non_null(addr);
	sa.sin_port = htons(atoi(strrchr(addr, ':') + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", what);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got + 1 < len && (n = read(fd, buf + got, len - got - 1)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
}

static void test_serve(void **state)
{
	struct fixture *f = *state;
	struct http_server_opts opts = { .sz = sizeof(opts), .listen = "127.0.0.1:0" };
	struct errbuf eb = { .note = NULL };
	static char response[1 << 16];

	/* Without a server, there is no address and the lock is nothing. */
	assert_null(metrics_service__address(f->ms));
	metrics_service__lock(f->ms);
	metrics_service__unlock(f->ms);
	metrics_service__lock(NULL);
	metrics_service__unlock(NULL);

	assert_int_equal(metrics_service__serve(f->ms, &opts, &eb), 0);
	assert_int_equal(metrics_service__serve(f->ms, &opts, &eb), -EBUSY);
	assert_non_null(strstr(eb.msg, "already runs on 127.0.0.1:"));

	get(f, "/metrics", response, sizeof(response));
	assert_non_null(strstr(response, "200 OK"));
	assert_non_null(strstr(response, EXTRA_SERIES));
	get(f, "/readyz", response, sizeof(response));
	assert_non_null(strstr(response, "ready: the test's own context"));
	assert_int_equal(f->ready_calls, 1);

	/* A textfile write takes the server's lock itself, and works while serving. */
	snprintf(response, sizeof(response), "%s/while-serving.prom", f->dir);
	assert_int_equal(metrics_service__write_textfile(f->ms, response, &eb), 0);
}

static void test_bad_listen_address(void **state)
{
	struct fixture *f = *state;
	struct http_server_opts opts = { .sz = sizeof(opts), .listen = "127.0.0.1:http" };
	struct errbuf eb = { .note = NULL };

	assert_int_equal(metrics_service__serve(f->ms, &opts, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "invalid listen address '127.0.0.1:http'"));
	assert_null(metrics_service__address(f->ms));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_needs_what_to_collect),
		cmocka_unit_test_setup_teardown(test_render_adds_the_callers_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_fails_with_the_callers_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_textfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_listen_address, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
