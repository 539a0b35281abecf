// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http_server.h"
#include "ioguard.h"

#define DEFAULT_TIMEOUT_S 10
#define DEFAULT_MAX_CONNS 16
#define DEFAULT_CONN_MEMORY (16 * 1024)
#define LISTEN_BACKLOG 16
/* "[" + INET6_ADDRSTRLEN + "]:" + port */
#define ADDR_STR_LEN (INET6_ADDRSTRLEN + 10)

struct http_server {
	struct MHD_Daemon *daemon;
	int fd;			/* the listening socket until libmicrohttpd takes it */
	http_render_fn render;
	void *ctx;
	char address[ADDR_STR_LEN];
	unsigned int port;
	/* Serialises renders and lets the owner hold scrapes off; see http_server.h. */
	pthread_mutex_t lock;
	/* Size of the last body, to allocate the next one in one go. Under @lock. */
	size_t last_len;
	unsigned long scrapes, failed;	/* under @lock */
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
		      char *errmsg, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *end, *h;
	unsigned int port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		return format_error(-EINVAL, errmsg, errlen,
			    "empty listen address: expected ADDR:PORT or [ADDR6]:PORT, e.g. %s",
			    HTTP_SERVER_DEFAULT_LISTEN);
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return format_error(-EINVAL, errmsg, errlen,
				    "invalid listen address '%s': missing ']' after the IPv6 "
				    "address", s);
		h = s + 1;
		hlen = end - h;
		if (end[1] != ':')
			return format_error(-EINVAL, errmsg, errlen,
				    "invalid listen address '%s': expected ':PORT' after ']'", s);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return format_error(-EINVAL, errmsg, errlen,
				    "invalid listen address '%s': missing ':PORT' (e.g. %s)", s,
				    HTTP_SERVER_DEFAULT_LISTEN);
		if (memchr(s, ':', colon - s))
			return format_error(-EINVAL, errmsg, errlen,
				    "invalid listen address '%s': an IPv6 address needs brackets, "
				    "as in [::1]:9464", s);
		h = s;
		hlen = colon - s;
	}
	if (parse_port(colon + 1, &port))
		return format_error(-EINVAL, errmsg, errlen,
			    "invalid listen address '%s': port '%s' is not a number from 0 to "
			    "65535", s, colon + 1);
	if (!hlen || hlen >= sizeof(host))
		return format_error(-EINVAL, errmsg, errlen,
			    "invalid listen address '%s': %s", s,
			    hlen ? "the address is too long" : "the address is empty");
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return format_error(-EINVAL, errmsg, errlen,
				    "invalid listen address '%s': '%s' is not a numeric IPv6 "
				    "address", s, host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return format_error(-EINVAL, errmsg, errlen,
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
			 char *errmsg, size_t errlen)
{
	socklen_t len;
	int fd, err, one = 1;

	err = http_listen_parse(listen_addr, ss, &len, errmsg, errlen);
	if (err)
		return err;
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return format_error(-errno, errmsg, errlen, "cannot listen on %s: socket: %s",
			    listen_addr, strerror(errno));
	/* Restart right after a stop: TIME_WAIT connections must not block the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)ss, len)) {
		err = -errno;
		if (err == -EADDRINUSE)
			format_error(err, errmsg, errlen, "cannot listen on %s: %s is in use (%s)",
			     listen_addr, listen_addr, strerror(-err));
		else if (err == -EADDRNOTAVAIL)
			format_error(err, errmsg, errlen, "cannot listen on %s: no local interface has "
			     "this address (%s)", listen_addr, strerror(-err));
		else
			format_error(err, errmsg, errlen, "cannot listen on %s: bind: %s", listen_addr,
			     strerror(-err));
		goto err_close;
	}
	if (listen(fd, LISTEN_BACKLOG)) {
		err = format_error(-errno, errmsg, errlen, "cannot listen on %s: listen: %s",
			   listen_addr, strerror(errno));
		goto err_close;
	}
	len = sizeof(*ss);
	if (getsockname(fd, (struct sockaddr *)ss, &len)) {
		err = format_error(-errno, errmsg, errlen, "cannot listen on %s: getsockname: %s",
			   listen_addr, strerror(errno));
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
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
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *srv = cls;
	bool head = !strcmp(method, MHD_HTTP_METHOD_HEAD);

	/*
	 * Answer on the first call, when the headers are in: nothing here reads a body, and
	 * a response queued before the body makes libmicrohttpd close the connection after
	 * it instead of reading what the client uploads.
	 */
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND,
				    "not found: ioguard serves /metrics only\n", NULL);
	if (!head && strcmp(method, MHD_HTTP_METHOD_GET))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: use GET or HEAD\n", "GET, HEAD");
	return respond_metrics(srv, conn);
}

struct http_server *http_server__start(const struct http_server_opts *opts,
				       http_render_fn render, void *ctx,
				       char *errmsg, size_t errlen)
{
	struct http_server_opts o = { .sz = sizeof(o) };
	struct sockaddr_storage ss;
	struct http_server *srv;
	unsigned int flags;
	int err;

	if (opts) {
		if (opts->sz < sizeof(size_t) || opts->sz > sizeof(o)) {
			errno = EINVAL;
			format_error(-EINVAL, errmsg, errlen, "http_server_opts: unknown size %zu",
			     opts->sz);
			return NULL;
		}
		memcpy(&o, opts, opts->sz);
	}
	if (!render) {
		errno = EINVAL;
		format_error(-EINVAL, errmsg, errlen, "http_server__start: no render callback");
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		errno = ENOMEM;
		format_error(-ENOMEM, errmsg, errlen, "cannot start the metrics server: %s",
		     strerror(ENOMEM));
		return NULL;
	}
	srv->render = render;
	srv->ctx = ctx;
	pthread_mutex_init(&srv->lock, NULL);

	srv->fd = open_listener(o.listen ?: HTTP_SERVER_DEFAULT_LISTEN, &ss, errmsg, errlen);
	if (srv->fd < 0) {
		err = srv->fd;
		goto err_free;
	}
	format_address(&ss, srv->address, sizeof(srv->address), &srv->port);

	/*
	 * Polling thread inside libmicrohttpd, epoll or poll (no select: no FD_SETSIZE
	 * limit); no error log: a garbage request is the client's problem, answered with
	 * 4xx, and must not spam the daemon's stderr.
	 */
	flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(o.timeout_s ?: DEFAULT_TIMEOUT_S),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(o.max_conns ?: DEFAULT_MAX_CONNS),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(o.conn_memory ?: DEFAULT_CONN_MEMORY),
		MHD_OPTION_END);
	if (!srv->daemon) {
		err = -EIO;
		format_error(err, errmsg, errlen, "cannot start the metrics server on %s: "
		     "libmicrohttpd refused to start", srv->address);
		goto err_close;
	}
	/* libmicrohttpd owns the listening socket now and closes it in MHD_stop_daemon(). */
	srv->fd = -1;
	return srv;

err_close:
	close(srv->fd);
err_free:
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
