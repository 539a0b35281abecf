// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "output/errbuf.h"
#include "exposition.h"
#include "http_server.h"

#define DEFAULT_TIMEOUT_S 10
/*
 * Generous: a slot is cheap (one fd and DEFAULT_CONN_MEMORY). Per address, a quarter of
 * them: on a node's address (the DaemonSet's --listen) every pod can connect, and no one
 * address may hold every slot; on loopback, where the scraper shares the address with
 * every local process, a quarter is still more than slow clients keep busy before the
 * request deadline cuts them.
 */
#define DEFAULT_MAX_CONNS 256
#define DEFAULT_MAX_CONNS_PER_IP 64
/* Whole-request deadline: Prometheus' default scrape timeout is 10 s. */
#define DEFAULT_REQUEST_TIMEOUT_S 5
#define REAPER_TICK_MS 200
#define DEFAULT_CONN_MEMORY (16 * 1024)
#define LISTEN_BACKLOG 16
/* "[" + INET6_ADDRSTRLEN + "]:" + port */
#define ADDR_STR_LEN (INET6_ADDRSTRLEN + 10)
/* A readiness answer is one line: the policy's name, its hash, or an error and a path. */
#define READY_LINE_LEN 1024
#define TEXT_PLAIN "text/plain; charset=utf-8"

/*
 * A connection MHD has open, from MHD_CONNECTION_NOTIFY_STARTED to _CLOSED. @since is
 * when it connected or its last answer went out: a request must arrive and be answered
 * within the request timeout of it.
 */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	struct timespec since;
	bool cut;		/* shut down by the reaper; MHD closes it */
};

struct http_server {
	struct MHD_Daemon *daemon;
	int fd;			/* the listening socket until libmicrohttpd takes it */
	http_render_fn render;
	http_ready_fn ready;	/* NULL: serving is being ready */
	void *ctx;
	char address[ADDR_STR_LEN];
	unsigned int port;
	/* Serialises renders and lets the owner hold scrapes off; see http_server.h. */
	pthread_mutex_t lock;
	/* Size of the last body, to allocate the next one in one go. Under @lock. */
	size_t last_len;
	unsigned long scrapes, failed;	/* under @lock */

	/*
	 * The reaper: MHD only has an idle timeout, which a client sending a byte every few
	 * seconds never reaches. The reaper shuts down (never closes: MHD owns the fd) every
	 * connection past its deadline. @conns_lock guards @conns, @stopping and @cut; MHD
	 * calls the CLOSED notification before it closes the fd, and under @conns_lock, so
	 * the reaper never touches an fd number that was reused. Never taken with @lock.
	 */
	pthread_mutex_t conns_lock;
	pthread_cond_t stop_cond;
	pthread_t reaper;
	bool reaper_started, stopping;
	struct http_conn conns;		/* list head */
	unsigned int request_timeout_s;
	unsigned long cut;
};

static int parse_port(const char *s, unsigned int *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

int http_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		      struct errbuf *eb)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *end, *h;
	unsigned int port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		return errbuf_set(eb, -EINVAL,
				  "empty listen address: expected ADDR:PORT or [ADDR6]:PORT, e.g. %s",
				  HTTP_SERVER_DEFAULT_LISTEN);
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': missing ']' after the IPv6 "
					  "address", s);
		h = s + 1;
		hlen = end - h;
		if (end[1] != ':')
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': expected ':PORT' after ']'",
					  s);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': missing ':PORT' (e.g. %s)",
					  s, HTTP_SERVER_DEFAULT_LISTEN);
		if (memchr(s, ':', colon - s))
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': an IPv6 address needs brackets, "
					  "as in [::1]:9464", s);
		h = s;
		hlen = colon - s;
	}
	if (parse_port(colon + 1, &port))
		return errbuf_set(eb, -EINVAL,
				  "invalid listen address '%s': port '%s' is not a number from 0 to "
				  "65535", s, colon + 1);
	if (!hlen || hlen >= sizeof(host))
		return errbuf_set(eb, -EINVAL, "invalid listen address '%s': %s", s,
				  hlen ? "the address is too long" : "the address is empty");
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': '%s' is not a numeric IPv6 "
					  "address", s, host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return errbuf_set(eb, -EINVAL,
					  "invalid listen address '%s': '%s' is not a numeric IPv4 "
					  "address (host names are not resolved)", s, host);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return 0;
}

static void format_address(const struct sockaddr_storage *ss, char *out, size_t size,
			   unsigned int *port)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		*port = ntohs(sin6->sin6_port);
		snprintf(out, size, "[%s]:%u", host, *port);
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		*port = ntohs(sin->sin_port);
		snprintf(out, size, "%s:%u", host, *port);
	}
}

/* A bound, listening socket for @listen, or a negative errno with the reason. */
static int open_listener(const char *listen_addr, struct sockaddr_storage *ss,
			 struct errbuf *eb)
{
	socklen_t len;
	int fd, err, one = 1;

	err = http_listen_parse(listen_addr, ss, &len, eb);
	if (err)
		return err;
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errbuf_set(eb, -errno, "cannot listen on %s: socket: %s", listen_addr,
				  strerror(errno));
	/* Restart right after a stop: TIME_WAIT connections must not block the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)ss, len)) {
		err = -errno;
		if (err == -EADDRINUSE)
			errbuf_set(eb, err, "cannot listen on %s: %s is in use (%s)", listen_addr,
				   listen_addr, strerror(-err));
		else if (err == -EADDRNOTAVAIL)
			errbuf_set(eb, err, "cannot listen on %s: no local interface has "
				   "this address (%s)", listen_addr, strerror(-err));
		else
			errbuf_set(eb, err, "cannot listen on %s: bind: %s", listen_addr,
				   strerror(-err));
		goto err_close;
	}
	if (listen(fd, LISTEN_BACKLOG)) {
		err = errbuf_set(eb, -errno, "cannot listen on %s: listen: %s", listen_addr,
				 strerror(errno));
		goto err_close;
	}
	len = sizeof(*ss);
	if (getsockname(fd, (struct sockaddr *)ss, &len)) {
		err = errbuf_set(eb, -errno, "cannot listen on %s: getsockname: %s", listen_addr,
				 strerror(errno));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return err;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status,
				    const char *text, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_metrics(struct http_server *srv, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	struct buf body = { 0 };
	enum MHD_Result ret;
	int err;

	pthread_mutex_lock(&srv->lock);
	buf__reserve(&body, srv->last_len);
	err = body.err ?: srv->render(srv->ctx, &body);
	if (!err)
		err = body.err;
	if (err) {
		srv->failed++;
	} else {
		srv->scrapes++;
		srv->last_len = body.len;
	}
	pthread_mutex_unlock(&srv->lock);

	if (err) {
		char msg[160];

		buf__release(&body);
		snprintf(msg, sizeof(msg), "cannot collect metrics: %s\n", strerror(-err));
		resp = MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
		ret = MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	/* libmicrohttpd frees the body once sent (MUST_FREE uses free()). */
	resp = MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		buf__release(&body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, EXPOSITION_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * 200 when the ready callback says so, 503 otherwise: not ready, and not knowing
 * whether it is (an error) is not ready either.
 */
static enum MHD_Result respond_ready(struct http_server *srv, struct MHD_Connection *conn)
{
	char why[READY_LINE_LEN] = "", body[READY_LINE_LEN + 64];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int ready = 1;

	if (srv->ready) {
		pthread_mutex_lock(&srv->lock);
		ready = srv->ready(srv->ctx, why, sizeof(why));
		pthread_mutex_unlock(&srv->lock);
	} else {
		snprintf(why, sizeof(why), "ready: serving /metrics");
	}
	if (ready < 0 && !why[0])
		snprintf(body, sizeof(body), "not ready: cannot tell: %s\n", strerror(-ready));
	else
		snprintf(body, sizeof(body), "%s\n", why);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
	/* A probe must see the state now, never a cached answer. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, ready > 0 ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				 resp);
	MHD_destroy_response(resp);
	return ret;
}

static long ms_since(const struct timespec *t, const struct timespec *now)
{
	return (now->tv_sec - t->tv_sec) * 1000 + (now->tv_nsec - t->tv_nsec) / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *info;
	struct http_conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		/* Out of memory, or no fd: the connection still has MHD's idle timeout. */
		if (!c || !info) {
			free(c);
			*socket_context = NULL;
			return;
		}
		c->fd = info->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		pthread_mutex_lock(&srv->conns_lock);
		c->next = srv->conns.next;
		c->prev = &srv->conns;
		c->next->prev = c;
		srv->conns.next = c;
		pthread_mutex_unlock(&srv->conns_lock);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	pthread_mutex_unlock(&srv->conns_lock);
	free(c);
	*socket_context = NULL;
}

/* An answer went out: a kept-alive connection gets a new deadline for its next request. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *info;
	struct http_conn *c;

	(void)con_cls;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = info ? info->socket_context : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&srv->conns_lock);
}

static void *reaper_main(void *arg)
{
	struct http_server *srv = arg;
	long deadline_ms = srv->request_timeout_s * 1000L;
	struct timespec now, wake;
	struct http_conn *c;

	pthread_mutex_lock(&srv->conns_lock);
	while (!srv->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (c = srv->conns.next; c != &srv->conns; c = c->next) {
			if (c->cut || ms_since(&c->since, &now) < deadline_ms)
				continue;
			/* MHD sees the end of the stream and closes the connection itself. */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			srv->cut++;
		}
		wake = now;
		wake.tv_nsec += REAPER_TICK_MS * 1000000L;
		if (wake.tv_nsec >= 1000000000L) {
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->stop_cond, &srv->conns_lock, &wake);
	}
	pthread_mutex_unlock(&srv->conns_lock);
	return NULL;
}

static void stop_reaper(struct http_server *srv)
{
	if (!srv->reaper_started)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->stop_cond);
	pthread_mutex_unlock(&srv->conns_lock);
	pthread_join(srv->reaper, NULL);
	srv->reaper_started = false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *srv = cls;
	bool head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool metrics = !strcmp(url, "/metrics");

	/*
	 * Answer on the first call, when the headers are in: nothing here reads a body, and
	 * a response queued before the body makes libmicrohttpd close the connection after
	 * it instead of reading what the client uploads.
	 */
	if (!metrics && strcmp(url, "/readyz"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND,
				    "not found: ioguard serves /metrics and /readyz only\n", NULL);
	if (!head && strcmp(method, MHD_HTTP_METHOD_GET))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: use GET or HEAD\n", "GET, HEAD");
	return metrics ? respond_metrics(srv, conn) : respond_ready(srv, conn);
}

/* @srv with its locks and options set, before it has a socket. */
static struct http_server *server_new(const struct http_server_opts *o, http_render_fn render,
				      void *ctx)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	pthread_condattr_t cattr;

	if (!srv)
		return NULL;
	srv->render = render;
	srv->ready = o->ready;
	srv->ctx = ctx;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->conns_lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->stop_cond, &cattr);
	pthread_condattr_destroy(&cattr);
	srv->conns.next = srv->conns.prev = &srv->conns;
	srv->request_timeout_s = o->request_timeout_s ?: DEFAULT_REQUEST_TIMEOUT_S;
	return srv;
}

/*
 * libmicrohttpd on @srv's listening socket, with its own polling thread, epoll or poll
 * (no select: no FD_SETSIZE limit); no error log: a garbage request is the client's
 * problem, answered with 4xx, and must not spam the daemon's stderr.
 */
static struct MHD_Daemon *start_mhd(struct http_server *srv, const struct http_server_opts *o,
				    sa_family_t family)
{
	unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(o->timeout_s ?: DEFAULT_TIMEOUT_S),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(o->max_conns ?: DEFAULT_MAX_CONNS),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)(o->max_conns_per_ip ?: DEFAULT_MAX_CONNS_PER_IP),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(o->conn_memory ?: DEFAULT_CONN_MEMORY),
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
}

struct http_server *http_server__start(const struct http_server_opts *opts,
				       http_render_fn render, void *ctx,
				       struct errbuf *eb)
{
	struct http_server_opts o = { .sz = sizeof(o) };
	struct sockaddr_storage ss;
	struct http_server *srv;
	int err;

	if (opts) {
		if (opts->sz < sizeof(size_t) || opts->sz > sizeof(o)) {
			errno = EINVAL;
			errbuf_set(eb, -EINVAL, "http_server_opts: unknown size %zu", opts->sz);
			return NULL;
		}
		memcpy(&o, opts, opts->sz);
	}
	if (!render) {
		errno = EINVAL;
		errbuf_set(eb, -EINVAL, "http_server__start: no render callback");
		return NULL;
	}
	srv = server_new(&o, render, ctx);
	if (!srv) {
		errno = ENOMEM;
		errbuf_set(eb, -ENOMEM, "cannot start the metrics server: %s", strerror(ENOMEM));
		return NULL;
	}
	srv->fd = open_listener(o.listen ?: HTTP_SERVER_DEFAULT_LISTEN, &ss, eb);
	if (srv->fd < 0) {
		err = srv->fd;
		goto err_free;
	}
	format_address(&ss, srv->address, sizeof(srv->address), &srv->port);
	srv->daemon = start_mhd(srv, &o, ss.ss_family);
	if (!srv->daemon) {
		err = -EIO;
		errbuf_set(eb, err, "cannot start the metrics server on %s: "
			   "libmicrohttpd refused to start", srv->address);
		goto err_close;
	}
	/* libmicrohttpd owns the listening socket now and closes it in MHD_stop_daemon(). */
	srv->fd = -1;
	err = -pthread_create(&srv->reaper, NULL, reaper_main, srv);
	if (err) {
		errbuf_set(eb, err, "cannot start the metrics server on %s: "
			   "cannot start its request-deadline thread: %s", srv->address,
			   strerror(-err));
		goto err_stop;
	}
	srv->reaper_started = true;
	return srv;

err_stop:
	MHD_stop_daemon(srv->daemon);
	goto err_free;
err_close:
	close(srv->fd);
err_free:
	pthread_cond_destroy(&srv->stop_cond);
	pthread_mutex_destroy(&srv->conns_lock);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	errno = -err;
	return NULL;
}

void http_server__stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* Closes every connection and the listening socket, then joins the thread. */
	MHD_stop_daemon(srv->daemon);
	/* After MHD: every connection has been notified closed, the list is empty. */
	stop_reaper(srv);
	pthread_cond_destroy(&srv->stop_cond);
	pthread_mutex_destroy(&srv->conns_lock);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

const char *http_server__address(const struct http_server *srv)
{
	return srv->address;
}

unsigned int http_server__port(const struct http_server *srv)
{
	return srv->port;
}

void http_server__lock(struct http_server *srv)
{
	pthread_mutex_lock(&srv->lock);
}

void http_server__unlock(struct http_server *srv)
{
	pthread_mutex_unlock(&srv->lock);
}

unsigned long http_server__cut(struct http_server *srv)
{
	unsigned long n;

	pthread_mutex_lock(&srv->conns_lock);
	n = srv->cut;
	pthread_mutex_unlock(&srv->conns_lock);
	return n;
}

unsigned long http_server__scrapes(struct http_server *srv, unsigned long *failed)
{
	unsigned long n;

	pthread_mutex_lock(&srv->lock);
	n = srv->scrapes;
	if (failed)
		*failed = srv->failed;
	pthread_mutex_unlock(&srv->lock);
	return n;
}
