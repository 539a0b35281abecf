// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output/array_size.h"
#include "output/clock.h"
#include "decision_feed.h"
#include "output/errbuf.h"

#define SUN_PATH_LEN sizeof(((struct sockaddr_un *)0)->sun_path)
/* Connections waiting for accept(): the maximum of clients and a few to refuse. */
#define LISTEN_BACKLOG (DECISION_FEED_MAX_CLIENTS + 8)
/*
 * Send buffer asked for per client, so a burst waits for a client that reads every poll
 * period instead of costing it records. The kernel caps it at net.core.wmem_max (and
 * doubles it); best effort.
 */
#define CLIENT_SNDBUF (1 << 20)
/* epoll data of the listening socket; a client's is (generation << 32 | slot). */
#define LISTENER_KEY UINT64_MAX

_Static_assert(SUN_PATH_LEN == DECISION_FEED_PATH_MAX, "DECISION_FEED_PATH_MAX is sun_path");
_Static_assert(sizeof(struct ioguard_feed_header) == 8, "feed header is 8 bytes");
_Static_assert(sizeof(struct ioguard_feed_decision) <= IOGUARD_FEED_MAX_RECORD &&
	       sizeof(struct ioguard_feed_refused) <= IOGUARD_FEED_MAX_RECORD &&
	       sizeof(struct ioguard_feed_hello) <= IOGUARD_FEED_MAX_RECORD,
	       "every record fits IOGUARD_FEED_MAX_RECORD");

const char *decision_feed_run_dir(void)
{
	const char *dir = getenv("IOGUARD_RUN_DIR");

	return dir && *dir ? dir : DECISION_FEED_RUN_DIR;
}

int decision_feed_path(char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", decision_feed_run_dir(), DECISION_FEED_SOCKET);

	return n < 0 || (size_t)n >= len || (size_t)n >= SUN_PATH_LEN ? -ENAMETOOLONG : 0;
}

static void feed_header(struct ioguard_feed_header *h, size_t size, enum ioguard_feed_type type)
{
	h->size = size;
	h->version = IOGUARD_FEED_VERSION;
	h->type = type;
}

/* One record, or nothing: SOCK_SEQPACKET queues a packet whole or refuses it. */
static int send_record(int fd, const void *rec, size_t size)
{
	ssize_t n;

	do {
		n = send(fd, rec, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == size ? 0 : -EMSGSIZE;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	return 0;
}

/* ---- server ------------------------------------------------------------------------ */

/*
 * A slot of the server. @gen changes each time the slot is taken, so an epoll event
 * queued for a dropped client never reaches the client that took its slot.
 */
struct feed_client {
	int fd;				/* -1: free slot */
	__u32 gen;
	unsigned long long owed;	/* records missed and not yet told */
	bool want_out;			/* EPOLLOUT is armed: a loss record waits for room */
};

struct decision_feed_server {
	char path[SUN_PATH_LEN];
	enum ioguard_feed_role role;
	uid_t uid;
	int epoll_fd;
	int listen_fd;
	/* The socket this server bound: only that one is removed on the way out. */
	dev_t dev;
	ino_t ino;
	unsigned int n_clients;
	unsigned long long missed;
	struct feed_client clients[DECISION_FEED_MAX_CLIENTS];
};

/* The directory of the socket: ours, a directory, mode 0700. */
static int prepare_run_dir(const char *path, struct errbuf *eb)
{
	char dir[SUN_PATH_LEN];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash || slash == path)
		return errbuf_set(eb, -EINVAL, "the decision feed socket %s needs a "
				  "directory of its own", path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errbuf_set(eb, -errno, "cannot create %s for the decision feed: %s", dir,
				  strerror(errno));
	if (lstat(dir, &st))
		return errbuf_set(eb, -errno, "cannot inspect %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(eb, -ENOTDIR, "%s is not a directory: not serving the "
				  "decision feed in it", dir);
	if (st.st_uid != geteuid())
		return errbuf_set(eb, -EPERM, "%s belongs to uid %u, not to this process "
				  "(uid %u): not serving the decision feed in it", dir,
				  (unsigned int)st.st_uid, (unsigned int)geteuid());
	/* An umask may have taken bits from mkdir(), an older directory may have more. */
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700))
		return errbuf_set(eb, -errno, "cannot make %s mode 0700: %s", dir, strerror(errno));
	return 0;
}

/*
 * A socket at @path is a dead server's when connecting to it is refused: then it goes.
 * One that accepts (or whose backlog is full) is alive and stays.
 */
static int clear_stale_socket(const char *path, struct errbuf *eb)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : errbuf_set(eb, -errno, "cannot inspect %s: %s", path,
							strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return errbuf_set(eb, -EEXIST, "%s exists and is not a socket: not "
				  "replacing it with the decision feed", path);
	err = unix_address(path, &sa);
	if (err)
		return errbuf_set(eb, err, "%s is too long for a socket address", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errbuf_set(eb, -errno, "cannot create a socket: %s", strerror(errno));
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	switch (err) {
	case 0:
	case -EAGAIN:
		return errbuf_set(eb, -EADDRINUSE, "another process serves the decision feed at %s",
				  path);
	case -ECONNREFUSED:
		if (unlink(path) && errno != ENOENT)
			return errbuf_set(eb, -errno, "cannot remove the stale socket %s: %s", path,
					  strerror(errno));
		return 0;
	case -ENOENT:
		return 0;
	default:
		return errbuf_set(eb, err, "cannot tell whether %s is in use (%s): "
				  "remove it if no ioguard process serves it", path,
				  strerror(-err));
	}
}

int decision_feed_server__new(const char *path, enum ioguard_feed_role role,
			      struct decision_feed_server **out, struct errbuf *eb)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTENER_KEY };
	struct decision_feed_server *s;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_umask;
	unsigned int i;
	int err;

	err = unix_address(path, &sa);
	if (err)
		return errbuf_set(eb, err, "%s is too long for a socket address", path);
	s = calloc(1, sizeof(*s));
	if (!s)
		return errbuf_set(eb, -ENOMEM, "cannot allocate the decision feed: %s",
				  strerror(ENOMEM));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->role = role;
	s->uid = geteuid();
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;

	err = prepare_run_dir(path, eb);
	if (err)
		goto err_free;
	err = clear_stale_socket(path, eb);
	if (err)
		goto err_free;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		err = errbuf_set(eb, -errno, "cannot create an epoll instance: %s",
				 strerror(errno));
		goto err_free;
	}
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		err = errbuf_set(eb, -errno, "cannot create a socket: %s", strerror(errno));
		goto err_close_epoll;
	}
	/*
	 * The socket is born 0600: no moment where another user could connect. The umask is
	 * the process's; no other ioguard thread creates files (libmicrohttpd's only serves).
	 */
	old_umask = umask(0177);
	err = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (err) {
		errbuf_set(eb, err, "cannot bind the decision feed to %s: %s", path,
			   strerror(-err));
		goto err_close_listen;
	}
	if (stat(path, &st)) {
		err = errbuf_set(eb, -errno, "cannot inspect %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->listen_fd, LISTEN_BACKLOG) ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev)) {
		err = errbuf_set(eb, -errno, "cannot listen on %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	*out = s;
	return 0;

err_unlink:
	unlink(path);
err_close_listen:
	close(s->listen_fd);
err_close_epoll:
	close(s->epoll_fd);
err_free:
	free(s);
	return err;
}

static void drop_client(struct decision_feed_server *s, struct feed_client *c)
{
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->owed = 0;
	c->want_out = false;
	s->n_clients--;
}

void decision_feed_server__free(struct decision_feed_server *s)
{
	struct stat st;
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++) {
		if (s->clients[i].fd >= 0)
			drop_client(s, &s->clients[i]);
	}
	/*
	 * Unlinked while still listening: as long as we listen, nobody takes the path for
	 * stale, so what is there is ours or a successor's that must stay.
	 */
	if (!stat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	close(s->listen_fd);
	close(s->epoll_fd);
	free(s);
}

int decision_feed_server__fd(const struct decision_feed_server *s)
{
	return s->epoll_fd;
}

unsigned int decision_feed_server__clients(const struct decision_feed_server *s)
{
	return s->n_clients;
}

unsigned long long decision_feed_server__missed(const struct decision_feed_server *s)
{
	return s->missed;
}

static __u64 client_key(const struct decision_feed_server *s, const struct feed_client *c)
{
	return (__u64)c->gen << 32 | (__u64)(c - s->clients);
}

/* Asks for EPOLLOUT only while a loss record waits: a writable socket is the rule. */
static void want_room(struct decision_feed_server *s, struct feed_client *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
		.data.u64 = client_key(s, c),
	};

	if (c->want_out == on)
		return;
	if (!epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev))
		c->want_out = on;
}

/* Tells @c what it missed. Return: 0 (nothing owed any more), -EAGAIN, or the client's error. */
static int send_owed(struct decision_feed_server *s, struct feed_client *c)
{
	struct ioguard_feed_lost rec = { .records = c->owed };
	int err;

	/* Nothing owed, nothing to wait for: a level-triggered EPOLLOUT would spin. */
	if (!c->owed) {
		want_room(s, c, false);
		return 0;
	}
	feed_header(&rec.hdr, sizeof(rec), IOGUARD_FEED_LOST);
	err = send_record(c->fd, &rec, sizeof(rec));
	if (!err) {
		c->owed = 0;
		want_room(s, c, false);
	} else if (err == -EAGAIN) {
		want_room(s, c, true);
	}
	return err;
}

/* A full socket (or a transient shortage) costs the client this record; it is told. */
static bool is_full(int err)
{
	return err == -EAGAIN || err == -ENOBUFS || err == -ENOMEM;
}

void decision_feed_server__publish(struct decision_feed_server *s,
				   const struct ioguard_decision *d, const char *tenant)
{
	struct ioguard_feed_decision rec = { .decision = *d };
	struct feed_client *c;
	unsigned int i;
	int err;

	if (!s->n_clients)
		return;
	feed_header(&rec.hdr, sizeof(rec), IOGUARD_FEED_DECISION);
	if (tenant)
		strncpy(rec.tenant, tenant, sizeof(rec.tenant) - 1);
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++) {
		c = &s->clients[i];
		if (c->fd < 0)
			continue;
		/* The loss record goes before any later record, where the gap is. */
		err = send_owed(s, c);
		if (!err)
			err = send_record(c->fd, &rec, sizeof(rec));
		if (is_full(err)) {
			c->owed++;
			s->missed++;
			want_room(s, c, true);
		} else if (err) {
			drop_client(s, c);
		}
	}
}

static void refuse(int fd, enum ioguard_feed_refusal reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(int fd, enum ioguard_feed_refusal reason, const char *fmt, ...)
{
	struct ioguard_feed_refused rec = { .reason = reason };
	va_list ap;

	feed_header(&rec.hdr, sizeof(rec), IOGUARD_FEED_REFUSED);
	va_start(ap, fmt);
	vsnprintf(rec.message, sizeof(rec.message), fmt, ap);
	va_end(ap);
	/* Best effort: the client learns why, or only that it was closed. */
	send_record(fd, &rec, sizeof(rec));
	close(fd);
}

static void greet(struct decision_feed_server *s, int fd)
{
	struct ioguard_feed_hello hello = {
		.role = s->role, .pid = getpid(), .max_clients = DECISION_FEED_MAX_CLIENTS,
	};
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct feed_client *c = NULL;
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	unsigned int i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len)) {
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != s->uid) {
		refuse(fd, IOGUARD_FEED_REFUSED_PERMISSION, "the decision feed is root-only; "
		       "uid %u may not read it", (unsigned int)cred.uid);
		return;
	}
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS && !c; i++) {
		if (s->clients[i].fd < 0)
			c = &s->clients[i];
	}
	if (!c) {
		refuse(fd, IOGUARD_FEED_REFUSED_FULL, "the decision feed serves at most %d "
		       "clients at once, and has that many", DECISION_FEED_MAX_CLIENTS);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ CLIENT_SNDBUF }, sizeof(int));
	feed_header(&hello.hdr, sizeof(hello), IOGUARD_FEED_HELLO);
	c->gen++;
	ev.data.u64 = client_key(s, c);
	if (send_record(fd, &hello, sizeof(hello)) ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->owed = 0;
	c->want_out = false;
	s->n_clients++;
}

static int accept_clients(struct decision_feed_server *s)
{
	int fd;

	for (;;) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			greet(s, fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
			continue;
		case EAGAIN:
			return 0;
		default:
			/* Out of fds or memory: the connection waits in the backlog. */
			return -errno;
		}
	}
}

int decision_feed_server__process(struct decision_feed_server *s)
{
	struct epoll_event evs[DECISION_FEED_MAX_CLIENTS + 1];
	struct feed_client *c;
	__u32 slot, gen;
	int n, i, err = 0;

	do {
		n = epoll_wait(s->epoll_fd, evs, ARRAY_SIZE(evs), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == LISTENER_KEY) {
			err = accept_clients(s);
			continue;
		}
		slot = evs[i].data.u64 & 0xffffffff;
		gen = evs[i].data.u64 >> 32;
		if (slot >= DECISION_FEED_MAX_CLIENTS)
			continue;
		c = &s->clients[slot];
		if (c->fd < 0 || c->gen != gen)
			continue;
		/* Clients send nothing: data, a hang-up or an error all end the client. */
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			drop_client(s, c);
			continue;
		}
		if (evs[i].events & EPOLLOUT) {
			err = send_owed(s, c);
			if (err && err != -EAGAIN)
				drop_client(s, c);
			err = 0;
		}
	}
	/* Running out of fds is not the feed's failure: the clients it has are still served. */
	return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM ? 0 : err;
}

/* ---- client ------------------------------------------------------------------------ */

struct decision_feed_client {
	decision_fn fn;
	void *ctx;
	int fd;
	bool ready;
	__u32 role;
	__u32 server_pid;
	unsigned long long count;
	unsigned long long lost;
	char path[SUN_PATH_LEN];
};

int decision_feed_client__connect(const char *path, decision_fn fn, void *ctx,
				  struct decision_feed_client **out, struct errbuf *eb)
{
	struct decision_feed_client *c;
	struct sockaddr_un sa;
	int err;

	err = unix_address(path, &sa);
	if (err)
		return errbuf_set(eb, err, "%s is too long for a socket address", path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return errbuf_set(eb, -ENOMEM, "cannot allocate a feed client: %s",
				  strerror(ENOMEM));
	c->fn = fn;
	c->ctx = ctx;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = errbuf_set(eb, -errno, "cannot create a socket: %s", strerror(errno));
		goto err_free;
	}
	if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		*out = c;
		return 0;
	}
	err = -errno;
	switch (err) {
	case -ENOENT:
		errbuf_set(eb, err, "no decision feed at %s", path);
		break;
	case -ECONNREFUSED:
		errbuf_set(eb, err, "nothing serves the decision feed at %s (a socket "
			   "left by a process that is gone)", path);
		break;
	case -EACCES:
	case -EPERM:
		err = -EACCES;
		errbuf_set(eb, err, "the decision feed at %s is root-only: %s", path,
			   strerror(EACCES));
		break;
	case -EAGAIN:
		errbuf_set(eb, err, "the decision feed at %s has too many connections waiting",
			   path);
		break;
	default:
		errbuf_set(eb, err, "cannot connect to the decision feed at %s: %s", path,
			   strerror(-err));
	}
	close(c->fd);
err_free:
	free(c);
	return err;
}

void decision_feed_client__free(struct decision_feed_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int decision_feed_client__fd(const struct decision_feed_client *c)
{
	return c->fd;
}

bool decision_feed_client__ready(const struct decision_feed_client *c)
{
	return c->ready;
}

unsigned int decision_feed_client__role(const struct decision_feed_client *c)
{
	return c->role;
}

unsigned int decision_feed_client__server_pid(const struct decision_feed_client *c)
{
	return c->server_pid;
}

unsigned long long decision_feed_client__count(const struct decision_feed_client *c)
{
	return c->count;
}

unsigned long long decision_feed_client__lost(const struct decision_feed_client *c)
{
	return c->lost;
}

union feed_buffer {
	struct ioguard_feed_header hdr;
	struct ioguard_feed_hello hello;
	struct ioguard_feed_decision decision;
	struct ioguard_feed_lost lost;
	struct ioguard_feed_refused refused;
	char bytes[IOGUARD_FEED_MAX_RECORD];
};

static int short_record(struct decision_feed_client *c, size_t n, const char *what,
			struct errbuf *eb)
{
	return errbuf_set(eb, -EPROTO, "the decision feed at %s sent a %s record of "
			  "%zu bytes, too short", c->path, what, n);
}

static int handle_record(struct decision_feed_client *c, const union feed_buffer *b, size_t n,
			 struct errbuf *eb)
{
	struct ioguard_decision d;
	char tenant[IOGUARD_NAME_LEN];

	if (n < sizeof(b->hdr))
		return short_record(c, n, "header-less", eb);
	if (b->hdr.version != IOGUARD_FEED_VERSION)
		return errbuf_set(eb, -EPROTO, "the decision feed at %s speaks version "
				  "%u of the feed, this ioguard version %u: run the same "
				  "ioguard on both sides", c->path, b->hdr.version,
				  IOGUARD_FEED_VERSION);
	if (b->hdr.size != n)
		return errbuf_set(eb, -EPROTO, "the decision feed at %s sent a record "
				  "that says %u bytes in a packet of %zu", c->path, b->hdr.size, n);
	switch (b->hdr.type) {
	case IOGUARD_FEED_HELLO:
		if (n < sizeof(b->hello))
			return short_record(c, n, "hello", eb);
		c->ready = true;
		c->role = b->hello.role;
		c->server_pid = b->hello.pid;
		return 0;
	case IOGUARD_FEED_DECISION:
		if (n < sizeof(b->decision))
			return short_record(c, n, "decision", eb);
		memcpy(&d, &b->decision.decision, sizeof(d));
		memcpy(tenant, b->decision.tenant, sizeof(tenant));
		d.comm[sizeof(d.comm) - 1] = '\0';
		d.device[sizeof(d.device) - 1] = '\0';
		tenant[sizeof(tenant) - 1] = '\0';
		c->count++;
		c->fn(c->ctx, &d, tenant[0] ? tenant : NULL);
		return 0;
	case IOGUARD_FEED_LOST:
		if (n < sizeof(b->lost))
			return short_record(c, n, "loss", eb);
		c->lost += b->lost.records;
		return 0;
	case IOGUARD_FEED_REFUSED: {
		char message[IOGUARD_FEED_MESSAGE_LEN];
		int err;

		if (n < sizeof(b->refused))
			return short_record(c, n, "refusal", eb);
		snprintf(message, sizeof(message), "%.*s", (int)sizeof(message) - 1,
			 b->refused.message);
		err = b->refused.reason == IOGUARD_FEED_REFUSED_FULL ? -EUSERS :
		      b->refused.reason == IOGUARD_FEED_REFUSED_PERMISSION ? -EACCES :
		      -ECONNREFUSED;
		return errbuf_set(eb, err, "the decision feed at %s refused this process: %s",
				  c->path, message);
	}
	default:
		/* A type of a later ioguard of the same version: not for us. */
		return 0;
	}
}

/* Reads what waits; with @until_ready, stops right after the hello. */
static int read_records(struct decision_feed_client *c, bool until_ready,
			struct errbuf *eb)
{
	union feed_buffer b;
	struct iovec iov = { .iov_base = &b, .iov_len = sizeof(b) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int err;

	while (!(until_ready && c->ready)) {
		msg.msg_flags = 0;
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return errbuf_set(eb, -errno, "reading the decision feed at %s failed: %s",
					  c->path, strerror(errno));
		}
		/* The server never sends an empty record: 0 is the end of the stream. */
		if (n == 0)
			return errbuf_set(eb, -EPIPE, "the server closed the decision feed at %s",
					  c->path);
		if (msg.msg_flags & MSG_TRUNC)
			return errbuf_set(eb, -EPROTO, "the decision feed at %s sent a "
					  "record of more than %d bytes", c->path,
					  IOGUARD_FEED_MAX_RECORD);
		err = handle_record(c, &b, n, eb);
		if (err)
			return err;
	}
	return 0;
}

int decision_feed_client__read(struct decision_feed_client *c, struct errbuf *eb)
{
	return read_records(c, false, eb);
}

int decision_feed_client__wait_ready(struct decision_feed_client *c, int timeout_ms,
				     struct errbuf *eb)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct timespec start;
	long left;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		err = read_records(c, true, eb);
		if (err || c->ready)
			return err;
		left = timeout_ms - elapsed_ms(&start);
		if (left <= 0)
			return errbuf_set(eb, -ETIMEDOUT, "the decision feed at %s did not "
					  "answer within %d ms", c->path, timeout_ms);
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return errbuf_set(eb, -errno, "waiting for the decision feed at "
					  "%s failed: %s", c->path, strerror(errno));
	}
}
