/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The /metrics and /readyz HTTP endpoints, on libmicrohttpd.
 *
 * Threading: libmicrohttpd runs one internal polling thread (epoll or poll) that accepts,
 * reads and writes every connection, and calls the request handler. A GET or HEAD of
 * /metrics calls the caller's render callback in that thread with the server lock held,
 * so renders never overlap; a caller that changes what render reads (a policy swap, a
 * reload) takes the same lock with http_server__lock() and a scrape then sees the state
 * before or after the change, never half of it. The rendered text is handed to
 * libmicrohttpd, which sends it without blocking: a slow client holds its connection
 * (until the request deadline below), not the lock nor the thread.
 *
 * Robustness: the listening socket is created here (clear bind errors), then given to
 * libmicrohttpd with a generous connection limit, an idle timeout and a per-connection
 * memory limit that bounds the request line and headers (larger requests get 4xx and a
 * close). A reaper thread enforces a whole-request deadline that libmicrohttpd lacks: a
 * connection that has not had its answer within the request timeout of connecting (or
 * of its previous answer) is shut down, so clients trickling a header byte now and then
 * (slowloris) cannot hold the slots. One address may hold a quarter of the slots: on a
 * node's address, where every pod can connect, no one pod locks the scraper out.
 * Only GET and HEAD of /metrics and /readyz are served; other paths get 404, other
 * methods 405. /readyz asks the caller's ready callback, under the same lock, for one
 * line: 200 when it says ready, 503 otherwise. It never renders /metrics, so a probe
 * every few seconds costs what the callback costs. The server knows nothing of what
 * "ready" means; without a callback, serving is being ready.
 */
#ifndef IOGUARD_HTTP_SERVER_H
#define IOGUARD_HTTP_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "output/errbuf.h"
#include "output/buf.h"

#define HTTP_SERVER_DEFAULT_LISTEN "127.0.0.1:9464"

/*
 * Fills @out (empty, already reset) with the response body. Return 0, or a negative
 * errno that turns the scrape into a 500.
 */
typedef int (*http_render_fn)(void *ctx, struct buf *out);

/*
 * Whether the process is ready, with the reason in one line (no newline) in @why:
 * 1 ready (200), 0 not ready (503), or a negative errno when readiness could not be
 * told, which is not ready either (503; @why says what could not be read, or, left
 * empty, the errno is named).
 */
typedef int (*http_ready_fn)(void *ctx, char *why, size_t len);

/*
 * struct http_server_opts - settings; zero means the default.
 * @sz:          sizeof(struct http_server_opts)
 * @listen:      "ADDR:PORT" or "[ADDR6]:PORT"; HTTP_SERVER_DEFAULT_LISTEN
 * @timeout_s:   idle connection timeout in seconds; 10
 * @max_conns:   simultaneous connections; 256
 * @max_conns_per_ip: simultaneous connections from one address; 64
 * @conn_memory: per-connection memory for the request line and headers, in bytes; 16 KiB
 * @request_timeout_s: a request must be in and answered within this many seconds of the
 *               connection (or of its previous answer), however busy the client keeps
 *               it; 5
 * @ready:       answers /readyz, called with the @ctx of http_server__start() under the
 *               server lock; NULL: /readyz is 200 "ready: serving /metrics" while the
 *               server runs
 */
struct http_server_opts {
	size_t sz;
	const char *listen;
	unsigned int timeout_s;
	unsigned int max_conns;
	size_t conn_memory;
	unsigned int request_timeout_s;
	http_ready_fn ready;
	unsigned int max_conns_per_ip;
};

struct http_server;

/**
 * http_listen_parse() - parse a listen address
 * @s:      "127.0.0.1:9464", "[::1]:9464"; numeric addresses only, port 0-65535 (0 asks
 *          the kernel for a free port).
 * @ss:     the address.
 * @len:    its length.
 * @eb:     why @s was refused; may be NULL.
 *
 * Return: 0 or -EINVAL.
 */
int http_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      struct errbuf *eb);

/**
 * http_server__start() - listen and serve /metrics and /readyz from a background thread
 * @opts:   settings, or NULL for the defaults.
 * @render: called per scrape, under the server lock.
 * @ctx:    passed to @render and to @opts->ready.
 * @eb:     on failure, what failed on what and why; may be NULL.
 *
 * Return: the server, or NULL with errno set (EINVAL for a bad address, EADDRINUSE...).
 */
struct http_server *http_server__start(const struct http_server_opts *opts,
				       http_render_fn render, void *ctx, struct errbuf *eb);

/* Stops serving, closes every connection and frees @srv. Accepts NULL. */
void http_server__stop(struct http_server *srv);

/* The bound address, "127.0.0.1:9464" or "[::1]:40123" (the real port when 0 was asked). */
const char *http_server__address(const struct http_server *srv);
/* The bound port. */
unsigned int http_server__port(const struct http_server *srv);

/*
 * Hold off scrapes and readiness checks while the caller changes what render or ready
 * reads. Lock order: the server lock is taken before any lock that render or ready
 * takes. Do not call from render or ready.
 */
void http_server__lock(struct http_server *srv);
void http_server__unlock(struct http_server *srv);

/* Connections shut down for missing the request deadline, for tests and logs. */
unsigned long http_server__cut(struct http_server *srv);

/* Scrapes served (2xx) and failed (render error), for tests and logs. */
unsigned long http_server__scrapes(struct http_server *srv, unsigned long *failed);

#endif /* IOGUARD_HTTP_SERVER_H */
