// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: the /metrics server (src/ioguard/metrics/http_server.c) on the raw bytes of a
 * local client's connection. What ioguard adds to libmicrohttpd (the URL and method
 * decisions, the render under the server lock, the connection list the request-deadline
 * reaper walks, the slots) only runs inside a live server, so the target starts one for
 * the whole run, on 127.0.0.1 with a port the kernel picks, a fixed body to serve and a
 * ready callback that always says not ready (so /readyz is a 503 with a fixed line), and
 * per input:
 *   connects, writes the input, then TAIL (an empty line and a GET /metrics with
 *   Connection: close), half-closes and reads until the server closes; then scrapes
 *   GET /metrics on a fresh connection.
 * TAIL ends a request head the input left open and has the server close after it:
 * libmicrohttpd (0.9.75) keeps a half-closed connection whose head is incomplete (or
 * that sent only empty lines or a NUL) until the request deadline cuts it, at least a
 * second, which made such inputs (most mutants) 1,000 times slower than the rest. What
 * still gets no answer within QUIET_MS is reset and not checked: the unit tests cover
 * the deadline.
 * Aborts when an answer has begun and the server keeps the connection past DEADLINE_S,
 * when an answer is not HTTP (a status line, headers ending in an empty line, a body of
 * the Content-Length given, or none as for HEAD), when a 200 is not the fixture body
 * with the exposition content type, a 503 not the fixture's line, a 404 or 405 not
 * ioguard's, a 405 without Allow,
 * on any 500 (the fixture never fails), and when the scrape after the input is not one
 * 200 with the fixture: the input took a slot or wedged the server. Every connection is
 * the fuzzer's own, so a slot the server leaks shows after DEFAULT_MAX_CONNS (256)
 * inputs. ASan and LSan watch the server's threads as well.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics/http_server.h"
#include "metrics/exposition.h"

/* The server's request deadline, and the time a loaded machine may add to it. */
#define REQUEST_TIMEOUT_S 2
#define DEADLINE_S (REQUEST_TIMEOUT_S + 8)
/* Below run-fuzz.sh's -max_len (8192), so that inputs reach the limit's refusals. */
#define CONN_MEMORY 4096
/* Loopback answers in a millisecond or two; a loaded machine gets a margin. */
#define QUIET_MS 100
/* An answer to any input fits: a few answers of a few hundred bytes per request. */
#define MAX_ANSWER (1 << 20)

#define BODY "# HELP fuzz_up The fuzz target's fixture.\n# TYPE fuzz_up gauge\nfuzz_up 1\n"
#define NOT_READY "not ready: the fuzz target's fixture\n"
#define NOT_FOUND "not found: ioguard serves /metrics and /readyz only\n"
#define NOT_ALLOWED "method not allowed: use GET or HEAD\n"
#define SCRAPE "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
/* Ends a head the input left open, then asks for what closes the connection. */
#define TAIL "\r\n\r\n" SCRAPE

static struct http_server *srv;
static struct sockaddr_in addr;

static int render_fixture(void *ctx, struct buf *out)
{
	(void)ctx;
	buf__puts(out, BODY);
	return 0;
}

static int ready_fixture(void *ctx, char *why, size_t len)
{
	(void)ctx;
	/* Without the newline, which the server adds. */
	snprintf(why, len, "%.*s", (int)strlen(NOT_READY) - 1, NOT_READY);
	return 0;
}

static void __attribute__((noreturn)) die(const char *what, const char *buf, size_t len)
{
	fprintf(stderr, "fuzz_http_server: %s", what);
	if (buf) {
		fputs(" in: ", stderr);
		fwrite(buf, 1, len > 2048 ? 2048 : len, stderr);
	}
	fputc('\n', stderr);
	abort();
}

static void stop_server(void)
{
	http_server__stop(srv);
	srv = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct http_server_opts o = {
		.sz = sizeof(o), .listen = "127.0.0.1:0", .request_timeout_s = REQUEST_TIMEOUT_S,
		.conn_memory = CONN_MEMORY, .ready = ready_fixture,
	};
	struct errbuf eb = { .note = NULL };

	(void)argc;
	(void)argv;
	srv = http_server__start(&o, render_fixture, NULL, &eb);
	if (!srv) {
		fprintf(stderr, "fuzz_http_server: cannot start the server: %s\n", eb.msg);
		exit(1);
	}
	atexit(stop_server);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(http_server__port(srv));
	return 0;
}

static long ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * A connection to the server. libFuzzer's timers interrupt connect(), which then goes on
 * in the background: wait for it.
 */
static int connect_server(void)
{
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("cannot create a socket", NULL, 0);
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	err = errno;
	if (err == EINTR) {
		pfd.fd = fd;
		while (poll(&pfd, 1, DEADLINE_S * 1000) < 0 && errno == EINTR)
			;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
	}
	if (err) {
		fprintf(stderr, "fuzz_http_server: connect: %s\n", strerror(err));
		die("cannot connect to the server", NULL, 0);
	}
	return fd;
}

/*
 * Sends @req, then @tail, on a new connection, half-closes it and reads the answer into
 * @ans up to the server's close. Return: the answer's length, or -1 when nothing came
 * within @quiet_ms (then the connection is reset). Aborts when an answer has begun and
 * the server holds the connection past DEADLINE_S.
 */
static ssize_t exchange(const void *req, size_t len, const char *tail, long quiet_ms,
			char *ans, size_t cap)
{
	struct pollfd pfd = { .events = POLLIN };
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	struct timespec end, quiet;
	size_t got = 0, off = 0;
	ssize_t n;
	long left;
	int fd;

	fd = connect_server();
	clock_gettime(CLOCK_MONOTONIC, &end);
	quiet = end;
	end.tv_sec += DEADLINE_S;
	quiet.tv_sec += quiet_ms / 1000;
	quiet.tv_nsec += quiet_ms % 1000 * 1000000;
	if (quiet.tv_nsec >= 1000000000) {
		quiet.tv_sec++;
		quiet.tv_nsec -= 1000000000;
	}
	/*
	 * The server answers on the first request's headers and may close before it has
	 * read the rest: a reset or a broken pipe ends the writing, not the test.
	 */
	while (off < len + strlen(tail)) {
		if (off < len)
			n = send(fd, (const char *)req + off, len - off, MSG_NOSIGNAL);
		else
			n = send(fd, tail + (off - len), strlen(tail) - (off - len), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	for (;;) {
		left = got ? ms_left(&end) : ms_left(&quiet);
		if (left <= 0 && !got) {
			/* No answer even to TAIL: reset, nothing to check (see the top). */
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
			close(fd);
			return -1;
		}
		if (left <= 0)
			die("the server kept a half-closed connection past the request deadline",
			    req, len);
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			die("poll failed", NULL, 0);
		}
		n = recv(fd, ans + got, cap - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* A reset after the answer: the server closed with unread request bytes. */
		if (n <= 0)
			break;
		got += n;
		if (got == cap)
			die("an answer of more than MAX_ANSWER bytes", req, len);
	}
	/*
	 * Reset rather than close: the half-close makes this end the first to close, which
	 * would keep each connection's port in TIME_WAIT for a minute; at thousands of
	 * connections a second, that nears the ephemeral range.
	 */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
	return got;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && !memcmp(s, prefix, p);
}

/* The value of header @name (case-insensitive) in @hdrs, NUL-terminated into @out. */
static bool header(const char *hdrs, size_t n, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0, j, e;

	while (i < n) {
		e = i;
		while (e + 1 < n && !(hdrs[e] == '\r' && hdrs[e + 1] == '\n'))
			e++;
		if (e - i > nl && hdrs[i + nl] == ':' && !strncasecmp(hdrs + i, name, nl)) {
			j = i + nl + 1;
			while (j < e && hdrs[j] == ' ')
				j++;
			snprintf(out, cap, "%.*s", (int)(e - j), hdrs + j);
			return true;
		}
		i = e + 2;
	}
	return false;
}

/*
 * Checks the answers in @ans one after the other (a pipelined input gets several).
 * Return: how many were 200s with the fixture body.
 */
static unsigned int check_answers(const char *ans, size_t n)
{
	char value[256], *endp;
	unsigned int status, ok = 0;
	const char *hdr_end;
	size_t pos = 0, hlen, clen;
	bool has_len;

	while (pos < n) {
		const char *a = ans + pos;
		size_t left = n - pos;

		if (!(starts(a, left, "HTTP/1.1 ") || starts(a, left, "HTTP/1.0 ")) || left < 13 ||
		    a[9] < '1' || a[9] > '5' || a[10] < '0' || a[10] > '9' || a[11] < '0' ||
		    a[11] > '9' || a[12] != ' ')
			die("an answer without an HTTP status line", a, left);
		status = (a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0');
		hdr_end = memmem(a, left, "\r\n\r\n", 4);
		if (!hdr_end)
			die("an answer whose headers do not end", a, left);
		hlen = hdr_end + 4 - a;
		has_len = header(a, hlen, "Content-Length", value, sizeof(value));
		clen = has_len ? strtoul(value, &endp, 10) : 0;
		if (has_len && (!value[0] || *endp))
			die("an answer with a bad Content-Length", a, left);
		if (status == 500)
			die("a 500 from a render that never fails", a, left);
		if (status == 200) {
			if (!header(a, hlen, "Content-Type", value, sizeof(value)) ||
			    strcmp(value, EXPOSITION_CONTENT_TYPE))
				die("a 200 without the exposition content type", a, left);
			if (!has_len || clen != strlen(BODY))
				die("a 200 whose Content-Length is not the body's", a, left);
		}
		if (status == 405 && (!header(a, hlen, "Allow", value, sizeof(value)) ||
				      strcmp(value, "GET, HEAD")))
			die("a 405 without 'Allow: GET, HEAD'", a, left);
		pos += hlen;
		/* 1xx have no body; HEAD answers have none: the next answer follows. */
		if (status < 200 || pos == n || starts(ans + pos, n - pos, "HTTP/1."))
			continue;
		if (!has_len) {
			/* The body runs to the close. */
			pos = n;
			continue;
		}
		if (n - pos < clen)
			die("an answer shorter than its Content-Length", a, left);
		if ((status == 200 && memcmp(ans + pos, BODY, clen)) ||
		    (status == 503 && (clen != strlen(NOT_READY) ||
				       memcmp(ans + pos, NOT_READY, clen))) ||
		    (status == 404 && (clen != strlen(NOT_FOUND) ||
				       memcmp(ans + pos, NOT_FOUND, clen))) ||
		    (status == 405 && (clen != strlen(NOT_ALLOWED) ||
				       memcmp(ans + pos, NOT_ALLOWED, clen))))
			die("an answer whose body is not what ioguard serves", a, left);
		ok += status == 200;
		pos += clen;
	}
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ans[MAX_ANSWER];
	unsigned long failed;
	ssize_t n;

	n = exchange(data, size, TAIL, QUIET_MS, ans, sizeof(ans));
	if (n >= 0)
		check_answers(ans, n);

	n = exchange(SCRAPE, strlen(SCRAPE), "", DEADLINE_S * 1000, ans, sizeof(ans));
	if (n < 0 || check_answers(ans, n) != 1)
		die("the scrape after the input did not get the body", ans, n < 0 ? 0 : n);
	http_server__scrapes(srv, &failed);
	if (failed)
		die("a failed render", NULL, 0);
	return 0;
}
