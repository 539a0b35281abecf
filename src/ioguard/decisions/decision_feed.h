/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The decision feed: the one process that consumes the pinned decision records
 * (decision_reader.h) hands each of them, tenant resolved, to other ioguard processes over a
 * root-only AF_UNIX SOCK_SEQPACKET socket, <run dir>/decisions.sock. Wire format:
 * include/ioguard/feed.h.
 *
 * Only the holder of the decision reader serves: its flock on the pin directory means
 * two live servers never race for the socket, so a socket nobody listens on is a dead
 * server's and may be replaced, and one that answers is never taken over.
 *
 * The server never blocks its caller: records go out with MSG_DONTWAIT, one packet each.
 * A client whose socket is full misses records; they are counted and the client gets one
 * loss record with the count as soon as its socket has room, before any later record.
 * Clients send nothing: one that does, or whose socket fails, is dropped.
 */
#ifndef IOGUARD_DECISION_FEED_H
#define IOGUARD_DECISION_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "decision_reader.h"
#include "output/errbuf.h"
#include "ioguard/feed.h"

#define DECISION_FEED_RUN_DIR		"/run/ioguard"
#define DECISION_FEED_SOCKET		"decisions.sock"
#define DECISION_FEED_MAX_CLIENTS	16
/* Longest socket path, NUL included: sizeof(struct sockaddr_un.sun_path). */
#define DECISION_FEED_PATH_MAX		108

/* Where the socket lives: $IOGUARD_RUN_DIR or DECISION_FEED_RUN_DIR. */
const char *decision_feed_run_dir(void);
/* <run dir>/decisions.sock into @buf; -ENAMETOOLONG if it does not fit a socket address. */
int decision_feed_path(char *buf, size_t len);

struct decision_feed_server;

/*
 * decision_feed_server__new() - serve the feed at @path
 * Creates @path's directory (mode 0700, or tightens an existing one of ours to it) and
 * the socket (mode 0600). A socket left at @path by a dead server is replaced.
 * @role:  announced to clients (enum ioguard_feed_role)
 *
 * Return: 0 and *@out; -EADDRINUSE when a live server answers at @path; -EEXIST when
 * @path is something else than a socket; -EPERM when the directory belongs to another
 * user; another negative errno. @eb says which, in a sentence.
 */
int decision_feed_server__new(const char *path, enum ioguard_feed_role role,
			      struct decision_feed_server **out, struct errbuf *eb);
/*
 * Closes every client, and removes the socket when it is still the one this server
 * created. Accepts NULL.
 */
void decision_feed_server__free(struct decision_feed_server *s);
/* One fd for the caller's poll(): readable when decision_feed_server__process() has work. */
int decision_feed_server__fd(const struct decision_feed_server *s);
/*
 * decision_feed_server__process() - accept and greet (or refuse) new clients, drop those
 * that sent something or hung up, and send loss records to those with room again.
 * Never blocks. Return: 0, or a negative errno when the server itself failed.
 */
int decision_feed_server__process(struct decision_feed_server *s);
/* Sends @d to every client; @tenant as decision_fn gives it. Never blocks. */
void decision_feed_server__publish(struct decision_feed_server *s,
				   const struct ioguard_decision *d, const char *tenant);
/* Clients served now. */
unsigned int decision_feed_server__clients(const struct decision_feed_server *s);
/* Records clients missed because their socket was full, summed over all clients. */
unsigned long long decision_feed_server__missed(const struct decision_feed_server *s);

struct decision_feed_client;

/*
 * decision_feed_client__connect() - connect to the feed at @path, without waiting for
 * the server's answer (decision_feed_client__wait_ready(), or __read() in a loop).
 * @fn, @ctx: called per decision record, as by the decision reader.
 *
 * Return: 0 and *@out; -ENOENT when nothing is at @path, -ECONNREFUSED when nobody
 * listens there, -EACCES when the feed is not ours to read, another negative errno.
 */
int decision_feed_client__connect(const char *path, decision_fn fn, void *ctx,
				  struct decision_feed_client **out, struct errbuf *eb);
void decision_feed_client__free(struct decision_feed_client *c);
/* For the caller's poll(): readable when records wait. */
int decision_feed_client__fd(const struct decision_feed_client *c);
/*
 * decision_feed_client__read() - handle every record waiting, without blocking.
 * Return: 0; -EPIPE when the server closed the feed; -EUSERS (server full), -EACCES
 * (not permitted) or -ECONNREFUSED (a reason this client does not know) when it refused
 * this client; -EPROTO for a record of another version or a malformed one. @eb says
 * which. After an error the client is done: free it.
 */
int decision_feed_client__read(struct decision_feed_client *c, struct errbuf *eb);
/*
 * decision_feed_client__wait_ready() - read until the server's hello, for at most
 * @timeout_ms. Return: 0, -ETIMEDOUT, or an error of decision_feed_client__read().
 */
int decision_feed_client__wait_ready(struct decision_feed_client *c, int timeout_ms,
				     struct errbuf *eb);
/* The server said hello: every record it reads from then on reaches @c or is counted. */
bool decision_feed_client__ready(const struct decision_feed_client *c);
/* enum ioguard_feed_role and pid of the server, once ready. */
unsigned int decision_feed_client__role(const struct decision_feed_client *c);
unsigned int decision_feed_client__server_pid(const struct decision_feed_client *c);
/* Decision records delivered so far, and records the server said this client missed. */
unsigned long long decision_feed_client__count(const struct decision_feed_client *c);
unsigned long long decision_feed_client__lost(const struct decision_feed_client *c);

#endif /* IOGUARD_DECISION_FEED_H */
