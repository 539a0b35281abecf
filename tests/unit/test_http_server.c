// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/metrics/http_server.c over real loopback sockets: scrapes, /readyz (ready,
 * not ready, an error, no callback), 404/405, HEAD, garbage and oversized requests, idle
 * clients, render failures, scrapes racing a "policy swap", port in use and listen
 * address parsing. Loopback only.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "metrics/http_server.h"

#define RECV_TIMEOUT_S 10
#define BODY "# HELP test_up test\n# TYPE test_up gauge\ntest_up 1\n"

/* What the render callback serves; the swap test flips a and b under the server lock. */
struct fixture {
	struct http_server *srv;
	unsigned int port;
	int fail_with;		/* render returns this when non-zero */
	unsigned long a, b;
	unsigned long renders;
	/* What the ready callback answers: its return and its line. */
	int ready_ret;
	const char *ready_why;
	unsigned long readies;
};

static int ready_fixture(void *ctx, char *why, size_t len)
{
	struct fixture *f = ctx;

	f->readies++;
	snprintf(why, len, "%s", f->ready_why ? f->ready_why : "");
	return f->ready_ret;
}

static int render_fixture(void *ctx, struct buf *out)
{
	struct fixture *f = ctx;

	f->renders++;
	if (f->fail_with)
		return f->fail_with;
	buf__puts(out, BODY);
	buf__printf(out, "test_a %lu\ntest_b %lu\n", f->a, f->b);
	return 0;
}

static int start_with(void **state, const struct http_server_opts *opts)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct errbuf eb = { .note = NULL };

	assert_non_null(f);
	f->srv = http_server__start(opts, render_fixture, f, &eb);
	if (!f->srv)
		fail_msg("cannot start the server: %s", eb.msg);
	f->port = http_server__port(f->srv);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	struct http_server_opts o = {
		.sz = sizeof(o), .listen = "127.0.0.1:0", .timeout_s = 2, .ready = ready_fixture,
	};

	return start_with(state, &o);
}

/* No ready callback: the metrics-only server. */
static int setup_no_ready(void **state)
{
	struct http_server_opts o = { .sz = sizeof(o), .listen = "127.0.0.1:0", .timeout_s = 2 };

	return start_with(state, &o);
}

/* Defaults but the address: the slowloris fixture. */
static int setup_default(void **state)
{
	struct http_server_opts o = { .sz = sizeof(o), .listen = "127.0.0.1:0" };

	return start_with(state, &o);
}

/* Two connections, a long idle timeout and a 1 s request deadline. */
static int setup_deadline(void **state)
{
	struct http_server_opts o = {
		.sz = sizeof(o), .listen = "127.0.0.1:0", .timeout_s = 30, .max_conns = 2,
		.request_timeout_s = 1,
	};

	return start_with(state, &o);
}

/* Short idle timeout and two connections: the slow-client fixture. */
static int setup_tight(void **state)
{
	struct http_server_opts o = {
		.sz = sizeof(o), .listen = "127.0.0.1:0", .timeout_s = 1, .max_conns = 2,
	};

	return start_with(state, &o);
}

/* Two connections from one address, of 8. */
static int setup_per_ip(void **state)
{
	struct http_server_opts o = {
		.sz = sizeof(o), .listen = "127.0.0.1:0", .timeout_s = 30, .max_conns = 8,
		.max_conns_per_ip = 2,
	};

	return start_with(state, &o);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server__stop(f->srv);
	free(f);
	return 0;
}

/* ---- client ----------------------------------------------------------------------- */

static int connect_port(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail_msg("connect to 127.0.0.1:%u: %s", port, strerror(errno));
	return fd;
}

/* Reads until EOF (or timeout/reset) into a malloc'd NUL-terminated string. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	ssize_t r;

	assert_non_null(p);
	for (;;) {
		if (n + 1 == cap) {
			cap *= 2;
			p = realloc(p, cap);
			assert_non_null(p);
		}
		r = recv(fd, p + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += r;
	}
	p[n] = '\0';
	*len = n;
	return p;
}

/*
 * _http() sends @req raw and returns the status code of the answer, 0 when the server
 * closed without one; the whole response goes to *@resp when asked for.
 */
static int _http(unsigned int port, const char *req, size_t len, char **resp)
{
	int fd = connect_port(port), status = 0;
	size_t got;
	char *r;

	/* The server may close before taking everything (too big): that is an answer. */
	send(fd, req, len, MSG_NOSIGNAL);
	r = read_all(fd, &got);
	close(fd);
	if (got >= 12 && !strncmp(r, "HTTP/1.", 7))
		status = atoi(r + 9);
	if (resp)
		*resp = r;
	else
		free(r);
	return status;
}

static int _request(unsigned int port, const char *method, const char *path, char **resp)
{
	char req[512];
	int n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Connection: close\r\n\r\n", method, path);
	return _http(port, req, n, resp);
}

/* Asserts a 200 scrape of /metrics and returns the body (malloc'd, inside @resp). */
static const char *scrape(unsigned int port, char **resp)
{
	char *body;

	assert_int_equal(_request(port, "GET", "/metrics", resp), 200);
	body = strstr(*resp, "\r\n\r\n");
	assert_non_null(body);
	return body + 4;
}

static void request_err(unsigned int port, int status, const char *method, const char *path)
{
	assert_int_equal(_request(port, method, path, NULL), status);
}

static void still_serves(unsigned int port)
{
	char *resp;

	assert_non_null(strstr(scrape(port, &resp), "test_up 1\n"));
	free(resp);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_scrape(void **state)
{
	struct fixture *f = *state;
	char *resp;
	const char *body = scrape(f->port, &resp);

	assert_string_equal(body, BODY "test_a 0\ntest_b 0\n");
	assert_non_null(strcasestr(resp, "\r\nContent-Type: text/plain; version=0.0.4; "
					 "charset=utf-8\r\n"));
	free(resp);
	assert_int_equal(http_server__scrapes(f->srv, NULL), 1);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	char *resp, want[64];

	assert_int_equal(_request(f->port, "HEAD", "/metrics", &resp), 200);
	snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n",
		 strlen(BODY "test_a 0\ntest_b 0\n"));
	assert_non_null(strcasestr(resp, want));
	/* Headers only. */
	assert_string_equal(strstr(resp, "\r\n\r\n"), "\r\n\r\n");
	free(resp);
}

static void test_other_paths_404(void **state)
{
	struct fixture *f = *state;
	char *resp;

	request_err(f->port, 404, "GET", "/");
	request_err(f->port, 404, "GET", "/metrics/");
	request_err(f->port, 404, "GET", "/metricsx");
	request_err(f->port, 404, "GET", "/../etc/passwd");
	request_err(f->port, 404, "GET", "/readyz/");
	request_err(f->port, 404, "GET", "/ready");
	assert_int_equal(_request(f->port, "GET", "/favicon.ico", &resp), 404);
	assert_non_null(strstr(resp, "serves /metrics and /readyz only"));
	free(resp);
	/* A query string is not part of the path. */
	still_serves(f->port);
	assert_int_equal(_request(f->port, "GET", "/metrics?x=1", NULL), 200);
}

static void test_other_methods_405(void **state)
{
	struct fixture *f = *state;
	static const char post[] =
		"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		"Content-Length: 5\r\n\r\nhello";
	char *resp;

	assert_int_equal(_http(f->port, post, sizeof(post) - 1, &resp), 405);
	assert_non_null(strcasestr(resp, "\r\nAllow: GET, HEAD\r\n"));
	free(resp);
	request_err(f->port, 405, "PUT", "/metrics");
	request_err(f->port, 405, "DELETE", "/metrics");
	assert_int_equal(f->renders, 0);
	still_serves(f->port);
}

/* ---- /readyz ---------------------------------------------------------------------- */

/* The status of GET /readyz; its body (inside *@resp, malloc'd) in *@body. */
static int readyz(unsigned int port, char **resp, const char **body)
{
	int status = _request(port, "GET", "/readyz", resp);
	char *b = strstr(*resp, "\r\n\r\n");

	assert_non_null(b);
	*body = b + 4;
	return status;
}

static void test_readyz_ready(void **state)
{
	struct fixture *f = *state;
	const char *body;
	char *resp;

	f->ready_ret = 1;
	f->ready_why = "ready: policy lab sha256 0123abcd in force (mode enforce)";
	assert_int_equal(readyz(f->port, &resp, &body), 200);
	assert_string_equal(body, "ready: policy lab sha256 0123abcd in force (mode enforce)\n");
	assert_non_null(strcasestr(resp, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strcasestr(resp, "\r\nCache-Control: no-store\r\n"));
	free(resp);
	/* A probe asks the callback, never renders the metrics page. */
	assert_int_equal(f->readies, 1);
	assert_int_equal(f->renders, 0);
	/* A query string is not part of the path. */
	assert_int_equal(_request(f->port, "GET", "/readyz?verbose", NULL), 200);
}

static void test_readyz_not_ready_is_503(void **state)
{
	struct fixture *f = *state;
	const char *body;
	char *resp;

	f->ready_ret = 0;
	f->ready_why = "not ready: no ioguard enforcement is pinned in /sys/fs/bpf/ioguard";
	assert_int_equal(readyz(f->port, &resp, &body), 503);
	assert_string_equal(body, "not ready: no ioguard enforcement is pinned in "
			    "/sys/fs/bpf/ioguard\n");
	free(resp);
	/* Ready again as soon as the callback says so: nothing is cached. */
	f->ready_ret = 1;
	f->ready_why = "ready: again";
	assert_int_equal(readyz(f->port, &resp, &body), 200);
	assert_string_equal(body, "ready: again\n");
	free(resp);
	assert_int_equal(f->renders, 0);
	still_serves(f->port);
}

static void test_readyz_error_is_503(void **state)
{
	struct fixture *f = *state;
	const char *body;
	char *resp;

	f->ready_ret = -EACCES;
	f->ready_why = "not ready: cannot read the pinned enforcement in /sys/fs/bpf/ioguard: "
		       "Permission denied";
	assert_int_equal(readyz(f->port, &resp, &body), 503);
	assert_string_equal(body, "not ready: cannot read the pinned enforcement in "
			    "/sys/fs/bpf/ioguard: Permission denied\n");
	free(resp);
	/* A callback that says nothing: the server names the error. */
	f->ready_ret = -EIO;
	f->ready_why = NULL;
	assert_int_equal(readyz(f->port, &resp, &body), 503);
	assert_string_equal(body, "not ready: cannot tell: Input/output error\n");
	free(resp);
	still_serves(f->port);
}

static void test_readyz_head(void **state)
{
	struct fixture *f = *state;
	char *resp;

	f->ready_ret = 1;
	f->ready_why = "ready: yes";
	assert_int_equal(_request(f->port, "HEAD", "/readyz", &resp), 200);
	assert_non_null(strcasestr(resp, "\r\nContent-Length: 11\r\n"));
	assert_string_equal(strstr(resp, "\r\n\r\n"), "\r\n\r\n");
	free(resp);
	f->ready_ret = 0;
	f->ready_why = "not ready: no";
	assert_int_equal(_request(f->port, "HEAD", "/readyz", &resp), 503);
	assert_string_equal(strstr(resp, "\r\n\r\n"), "\r\n\r\n");
	free(resp);
	assert_int_equal(f->renders, 0);
}

static void test_readyz_other_methods_405(void **state)
{
	struct fixture *f = *state;
	static const char post[] =
		"POST /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		"Content-Length: 5\r\n\r\nhello";
	char *resp;

	f->ready_ret = 1;
	assert_int_equal(_http(f->port, post, sizeof(post) - 1, &resp), 405);
	assert_non_null(strcasestr(resp, "\r\nAllow: GET, HEAD\r\n"));
	free(resp);
	request_err(f->port, 405, "PUT", "/readyz");
	request_err(f->port, 405, "OPTIONS", "/readyz");
	assert_int_equal(f->readies, 0);
}

/* The metrics-only server: serving is being ready. */
static void test_readyz_without_callback(void **state)
{
	struct fixture *f = *state;
	const char *body;
	char *resp;

	assert_int_equal(readyz(f->port, &resp, &body), 200);
	assert_string_equal(body, "ready: serving /metrics\n");
	free(resp);
	assert_int_equal(f->renders, 0);
}

static void test_garbage_request(void **state)
{
	struct fixture *f = *state;
	/*
	 * Not here: HTTP/1.1 without Host, which libmicrohttpd's tolerant default (as its
	 * documentation advises for production) serves.
	 */
	static const char *const garbage[] = {
		"\x01\x02\x03 garbage \xff\r\n\r\n",
		"GET\r\n\r\n",
		"GET /metrics HTTP/9.9\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n",
		"\r\n\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		int status = _http(f->port, garbage[i], strlen(garbage[i]), NULL);

		/* 4xx/5xx, or a plain close: never a 200 for garbage, never a hang. */
		if (status != 0 && (status < 400 || status > 505))
			fail_msg("garbage request %zu answered %d", i, status);
		still_serves(f->port);
	}
	assert_int_equal(http_server__scrapes(f->srv, NULL), i);
}

static void test_oversized_request(void **state)
{
	struct fixture *f = *state;
	size_t big = 256 * 1024, n;
	char *req = malloc(big + 256), *resp;
	int status;

	assert_non_null(req);
	/* A 256 KiB header, far above the 16 KiB connection memory. */
	n = sprintf(req, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
	memset(req + n, 'a', big);
	n += big;
	n += sprintf(req + n, "\r\n\r\n");
	status = _http(f->port, req, n, &resp);
	if (status != 0 && (status < 400 || status > 499))
		fail_msg("oversized request answered %d", status);
	free(resp);
	/* And a 64 KiB URL. */
	n = sprintf(req, "GET /");
	memset(req + n, 'm', 64 * 1024);
	n += 64 * 1024;
	n += sprintf(req + n, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	status = _http(f->port, req, n, NULL);
	if (status != 0 && (status < 400 || status > 499))
		fail_msg("oversized URL answered %d", status);
	free(req);
	still_serves(f->port);
}

/* A client that connects and sends half a request neither blocks others nor lingers. */
static void test_slow_clients(void **state)
{
	struct fixture *f = *state;
	int idle[2], i;
	size_t len;
	char *rest;

	for (i = 0; i < 2; i++) {
		idle[i] = connect_port(f->port);
		send(idle[i], "GET /metr", 9, MSG_NOSIGNAL);
	}
	/*
	 * Both connection slots are taken: the next scrape gets through once the idle
	 * timeout (1 s) frees one, well within the client's receive timeout.
	 */
	still_serves(f->port);
	for (i = 0; i < 2; i++) {
		/* The server closed the idle connection: EOF without a 200. */
		rest = read_all(idle[i], &len);
		assert_null(strstr(rest, " 200 "));
		free(rest);
		close(idle[i]);
	}
	still_serves(f->port);
}

/* ---- slowloris ---------------------------------------------------------------------- */

#define TRICKLERS_MAX 32

/* Clients that send one header byte per @every_ms and never finish their request. */
struct tricklers {
	int fd[TRICKLERS_MAX];
	int n;
	unsigned int every_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
};

static void *trickle(void *arg)
{
	struct tricklers *t = arg;
	struct timespec pause = {
		.tv_sec = t->every_ms / 1000, .tv_nsec = (t->every_ms % 1000) * 1000000L,
	};
	bool stop = false;
	int i;

	while (!stop) {
		for (i = 0; i < t->n; i++)
			send(t->fd[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&t->lock);
		stop = t->stop;
		pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

static void tricklers_start(struct tricklers *t, unsigned int port, int n, unsigned int every_ms)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nX-Slow: ";
	int i;

	assert_true(n <= TRICKLERS_MAX);
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->every_ms = every_ms;
	pthread_mutex_init(&t->lock, NULL);
	for (i = 0; i < n; i++) {
		t->fd[i] = connect_port(port);
		send(t->fd[i], head, sizeof(head) - 1, MSG_NOSIGNAL);
	}
	assert_int_equal(pthread_create(&t->thread, NULL, trickle, t), 0);
}

static void tricklers_stop(struct tricklers *t)
{
	int i;

	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	for (i = 0; i < t->n; i++)
		close(t->fd[i]);
	pthread_mutex_destroy(&t->lock);
}

/* The status of a scrape that must be answered within @secs: 0 when it was not. */
static int scrape_within(unsigned int port, int secs, double *took)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: close\r\n\r\n";
	struct timeval tv = { .tv_sec = secs };
	struct timespec t0, t1;
	int fd, status = 0;
	size_t got;
	char *r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = connect_port(port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
	r = read_all(fd, &got);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (got >= 12 && !strncmp(r, "HTTP/1.", 7))
		status = atoi(r + 9);
	free(r);
	*took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return status;
}

/*
 * Finding 9: more slow clients than the old limit of 16, each sending a header byte every
 * second (well inside the idle timeout), and /metrics still answers at once.
 */
static void test_slowloris_default_limits(void **state)
{
	struct fixture *f = *state;
	struct tricklers t;
	double took;
	int status;

	tricklers_start(&t, f->port, 24, 1000);
	/* Let the server accept them all before the scrape queues behind them. */
	usleep(300 * 1000);
	status = scrape_within(f->port, 3, &took);
	tricklers_stop(&t);
	if (status != 200)
		fail_msg("scrape during 24 slow clients: status %d after %.1f s", status, took);
}

/*
 * Every slot taken by a trickler that never goes idle: the whole-request deadline (1 s
 * here) frees them, so the scrape gets in within a couple of seconds, not never.
 */
static void test_request_deadline_frees_slots(void **state)
{
	struct fixture *f = *state;
	struct tricklers t;
	double took;
	int status;

	tricklers_start(&t, f->port, 2, 200);
	usleep(100 * 1000);
	status = scrape_within(f->port, 4, &took);
	tricklers_stop(&t);
	if (status != 200)
		fail_msg("scrape with both slots trickled: status %d after %.1f s", status, took);
	assert_true(http_server__cut(f->srv) >= 1);
}

/*
 * One address holds its share of the slots and no more: its third connection is closed
 * unanswered while others may still connect; a slot it gives back is its own again.
 */
static void test_per_ip_limit(void **state)
{
	struct fixture *f = *state;
	int idle[2], i;

	for (i = 0; i < 2; i++)
		idle[i] = connect_port(f->port);
	/* Let the server accept both before the third arrives. */
	usleep(200 * 1000);
	assert_int_equal(_request(f->port, "GET", "/metrics", NULL), 0);
	close(idle[0]);
	usleep(200 * 1000);
	assert_int_equal(_request(f->port, "GET", "/metrics", NULL), 200);
	close(idle[1]);
}

static void test_render_failure_is_500(void **state)
{
	struct fixture *f = *state;
	unsigned long failed;
	char *resp;

	f->fail_with = -EIO;
	assert_int_equal(_request(f->port, "GET", "/metrics", &resp), 500);
	assert_non_null(strstr(resp, "cannot collect metrics: Input/output error"));
	free(resp);
	f->fail_with = 0;
	still_serves(f->port);
	assert_int_equal(http_server__scrapes(f->srv, &failed), 1);
	assert_int_equal(failed, 1);
}

struct swapper {
	struct fixture *f;
	volatile int stop;
};

/* A "policy swap": changes a and b, with time between, under the server lock. */
static void *swap_loop(void *arg)
{
	struct swapper *sw = arg;
	struct timespec gap = { .tv_nsec = 200000 };

	while (!sw->stop) {
		http_server__lock(sw->f->srv);
		sw->f->a++;
		nanosleep(&gap, NULL);
		sw->f->b++;
		http_server__unlock(sw->f->srv);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

static void test_scrape_during_swap_is_consistent(void **state)
{
	struct fixture *f = *state;
	struct swapper sw = { .f = f };
	unsigned long a, b, last = 0;
	pthread_t t;
	char *resp;
	int i;

	assert_int_equal(pthread_create(&t, NULL, swap_loop, &sw), 0);
	/*
	 * Under valgrind on a busy machine the swapper may not run before 50 quick scrapes
	 * are done; scrape until it has swapped at least once, so the test is about scrapes
	 * during swaps and not about the scheduler.
	 */
	for (i = 0; i < 50 || (!last && i < 5000); i++) {
		const char *body = scrape(f->port, &resp);

		assert_int_equal(sscanf(strstr(body, "test_a "), "test_a %lu\ntest_b %lu", &a, &b),
				 2);
		assert_int_equal(a, b);
		assert_true(a >= last);
		last = a;
		free(resp);
	}
	sw.stop = 1;
	pthread_join(t, NULL);
	assert_true(last > 0);
}

static void test_port_in_use(void **state)
{
	struct fixture *f = *state;
	struct http_server_opts o = { .sz = sizeof(o) };
	char listen[64], want[192];
	struct errbuf eb = { .note = NULL };

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", f->port);
	o.listen = listen;
	assert_null(http_server__start(&o, render_fixture, f, &eb));
	assert_int_equal(errno, EADDRINUSE);
	snprintf(want, sizeof(want), "cannot listen on %s: %s is in use", listen, listen);
	if (!strstr(eb.msg, want))
		fail_msg("message '%s' lacks '%s'", eb.msg, want);
	still_serves(f->port);
}

static void test_address_of_port_0(void **state)
{
	struct fixture *f = *state;
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1:%u", f->port);
	assert_string_equal(http_server__address(f->srv), want);
}

/* _parse() returns the code; parse_ok() asserts success; parse_err() a given message. */
static int _parse(const char *s, struct errbuf *eb, struct sockaddr_storage *ss)
{
	socklen_t sl;

	return http_listen_parse(s, ss, &sl, eb);
}

static void parse_ok(const char *s, int family, unsigned int port)
{
	struct sockaddr_storage ss;
	struct errbuf eb = { .note = NULL };

	if (_parse(s, &eb, &ss))
		fail_msg("'%s' refused: %s", s, eb.msg);
	assert_int_equal(ss.ss_family, family);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), port);
}

static void parse_err(const char *s, const char *why)
{
	struct sockaddr_storage ss;
	struct errbuf eb = { .note = NULL };

	assert_int_equal(_parse(s, &eb, &ss), -EINVAL);
	if (!strstr(eb.msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", s, eb.msg, why);
}

static void test_listen_parse(void **state)
{
	parse_ok("127.0.0.1:9464", AF_INET, 9464);
	parse_ok("0.0.0.0:0", AF_INET, 0);
	parse_ok("[::1]:9464", AF_INET6, 9464);
	parse_ok("[::]:65535", AF_INET6, 65535);

	parse_err("", "empty listen address");
	parse_err("127.0.0.1", "missing ':PORT'");
	parse_err("127.0.0.1:", "port '' is not a number");
	parse_err("127.0.0.1:65536", "port '65536' is not a number from 0 to 65535");
	parse_err("127.0.0.1:-1", "port '-1'");
	parse_err("127.0.0.1:80x", "port '80x'");
	parse_err("127.0.0.1:0009464", "port '0009464'");
	parse_err(":9464", "the address is empty");
	parse_err("localhost:9464", "'localhost' is not a numeric IPv4 address");
	parse_err("1.2.3.4.5:80", "'1.2.3.4.5' is not a numeric IPv4 address");
	parse_err("::1:9464", "an IPv6 address needs brackets");
	parse_err("[::1]", "expected ':PORT' after ']'");
	parse_err("[::1]9464", "expected ':PORT' after ']'");
	parse_err("[::1:9464", "missing ']'");
	parse_err("[127.0.0.1]:80", "'127.0.0.1' is not a numeric IPv6 address");
	parse_err("[]:80", "the address is empty");
}

static void test_bad_listen_fails_start(void **state)
{
	struct http_server_opts o = { .sz = sizeof(o), .listen = "127.0.0.1:http" };
	struct errbuf eb = { .note = NULL };

	assert_null(http_server__start(&o, render_fixture, NULL, &eb));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(eb.msg, "invalid listen address '127.0.0.1:http'"));
	/* An address no interface has: 127.0.0.1 is loopback, 192.0.2.1 is TEST-NET-1. */
	o.listen = "192.0.2.1:0";
	assert_null(http_server__start(&o, render_fixture, NULL, &eb));
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_non_null(strstr(eb.msg, "cannot listen on 192.0.2.1:0: no local interface has "
				    "this address"));
	o.sz = 3;
	assert_null(http_server__start(&o, render_fixture, NULL, &eb));
	assert_int_equal(errno, EINVAL);
	http_server__stop(NULL);
}

static void test_ipv6_loopback(void **state)
{
	struct http_server_opts o = { .sz = sizeof(o), .listen = "[::1]:0" };
	struct fixture f = { 0 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char buf[256];
	struct errbuf eb = { .note = NULL };
	ssize_t n;
	int fd;

	f.srv = http_server__start(&o, render_fixture, &f, &eb);
	if (!f.srv) {
		printf("SKIP IPv6 loopback: %s\n", eb.msg);
		skip();
	}
	assert_int_equal(strncmp(http_server__address(f.srv), "[::1]:", 6), 0);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sin6.sin6_port = htons(http_server__port(f.srv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	n = snprintf(buf, sizeof(buf), "GET /metrics HTTP/1.1\r\nHost: [::1]\r\n"
		     "Connection: close\r\n\r\n");
	assert_int_equal(send(fd, buf, n, 0), n);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
	assert_true(n > 12);
	buf[n] = '\0';
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
	close(fd);
	http_server__stop(f.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scrape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_paths_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_not_ready_is_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_error_is_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_other_methods_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_without_callback, setup_no_ready,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_clients, setup_tight, teardown),
		cmocka_unit_test_setup_teardown(test_slowloris_default_limits, setup_default,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_deadline_frees_slots, setup_deadline,
						teardown),
		cmocka_unit_test_setup_teardown(test_per_ip_limit, setup_per_ip, teardown),
		cmocka_unit_test_setup_teardown(test_render_failure_is_500, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scrape_during_swap_is_consistent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_of_port_0, setup, teardown),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_bad_listen_fails_start),
		cmocka_unit_test(test_ipv6_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
