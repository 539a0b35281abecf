/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a process gets the policy decision records from, for `ioguard run` and
 * `ioguard trace` alike: the pinned ring buffer when no other process consumes it (the
 * source then serves every record on the decision feed, decision_feed.h, to the other
 * ioguard processes), else the feed of the process that consumes it.
 *
 * Once a process holds the ring buffer it keeps it until it exits, or until the pinned
 * ring buffer is replaced (`ioguard unload` then `ioguard load` pin a new one, with a new
 * map id): decision_source__update() notices within a second, reads what the old one
 * still holds and opens the new one (the feed keeps serving). A feed that ends (its
 * server exited) is reported once; the next decision_source__update() takes the ring
 * buffer, or the feed of whoever took it first. Records the ring buffer holds while
 * nobody reads it wait there for the next reader: a handover loses none.
 *
 * Tells through the notes of the caller's errbuf (ERRBUF_INFO, ERRBUF_WARN) where the
 * records come from each time that changes, why they are not available (once, until that
 * changes), and the records a feed said this process missed. It prints nothing.
 */
#ifndef IOGUARD_DECISION_SOURCE_H
#define IOGUARD_DECISION_SOURCE_H

#include <poll.h>
#include <stdbool.h>

#include "decision_feed.h"
#include "decision_reader.h"
#include "output/errbuf.h"

/* At most this many fds for the caller's poll(): the ring buffer and the feed's server. */
#define DECISION_SOURCE_MAX_FDS 2

struct decision_source;

/*
 * decision_source__new() - a source that has no records yet: call __update().
 * @role: what the feed announces when this process serves it
 * @fn:   called per decision record, from decision_source__process()
 * @eb:   whose notes are told, from __update() and __process(); its @note and
 *        @note_ctx are copied (@eb itself may be gone after this returns), may be NULL
 */
struct decision_source *decision_source__new(enum ioguard_feed_role role, decision_fn fn,
					     void *ctx, struct errbuf *eb);
/* Frees the server, the client and the reader. Accepts NULL. */
void decision_source__free(struct decision_source *s);

/*
 * decision_source__update() - when the process has no records, try to get them: the
 * ring buffer, else the feed; when it reads a ring buffer that was replaced, reopen. @wait_ms: how long to wait for a feed's hello, so that
 * records read from the moment this returns reach the caller; 0 lets
 * decision_source__process() take the hello later. Cheap enough for every tick.
 */
void decision_source__update(struct decision_source *s, int wait_ms);

/* Fills @fds with what to poll for the source; returns how many (0 to DECISION_SOURCE_MAX_FDS). */
int decision_source__fds(const struct decision_source *s, struct pollfd *fds);
/*
 * decision_source__process() - after poll() (or its timeout): read the ring buffer and
 * serve the feed's clients, or read the feed. Never blocks.
 */
void decision_source__process(struct decision_source *s);

/* Records have been available to this process at some point. */
bool decision_source__used(const struct decision_source *s);
/* Records this process received from the ring buffer or feeds, and feeds said it missed. */
unsigned long long decision_source__count(const struct decision_source *s);
unsigned long long decision_source__lost(const struct decision_source *s);

#endif /* IOGUARD_DECISION_SOURCE_H */
