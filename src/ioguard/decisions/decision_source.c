// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision_source.h"
#include "prog/enforcer.h"
#include "output/errbuf.h"
#include "prog/pins.h"

/* How often a reader checks that the pinned records are still the ones it reads. */
#define REPLACED_CHECK_MS 1000

/*
 * Invariant: at most one of @reader and @client is set; @server only with @reader, but
 * it stays across a reopen of the reader.
 */
struct decision_source {
	enum ioguard_feed_role role;
	decision_fn fn;
	void *ctx;
	struct errbuf notes;		/* the caller's notes; @msg unused */
	struct decision_reader *reader;
	struct decision_feed_server *server;
	struct decision_feed_client *client;
	char feed_path[DECISION_FEED_PATH_MAX];
	bool used;
	/* Why records are unavailable was said: say nothing more until the source changes. */
	bool quiet;
	/* The client's hello was reported: its end is news, not a failure to connect. */
	bool announced;
	unsigned long long count;
	unsigned long long lost;
	unsigned long long client_lost_seen;
	struct timespec replaced_checked;
};

static void on_record(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct decision_source *s = ctx;

	/* Every record goes to the feed's clients, whatever this process then shows. */
	if (s->server)
		decision_feed_server__publish(s->server, d, tenant);
	s->count++;
	s->fn(s->ctx, d, tenant);
}

struct decision_source *decision_source__new(enum ioguard_feed_role role, decision_fn fn,
					     void *ctx, struct errbuf *eb)
{
	struct decision_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->role = role;
	s->fn = fn;
	s->ctx = ctx;
	errbuf_keep_notes(&s->notes, eb);
	if (decision_feed_path(s->feed_path, sizeof(s->feed_path)))
		s->feed_path[0] = '\0';
	return s;
}

void decision_source__free(struct decision_source *s)
{
	if (!s)
		return;
	/* The feed first: its clients see it end, then the records are free for them. */
	decision_feed_server__free(s->server);
	decision_feed_client__free(s->client);
	decision_reader__free(s->reader);
	free(s);
}

static void fail_once(struct decision_source *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_once(struct decision_source *s, const char *fmt, ...)
{
	char why[ERRBUF_MSG_MAX];
	va_list ap;

	if (s->quiet)
		return;
	s->quiet = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions are not available for now: %s", why);
}

static const char *describe_feed(const struct decision_source *s, char *buf, size_t len)
{
	unsigned int pid = decision_feed_client__server_pid(s->client);

	switch (decision_feed_client__role(s->client)) {
	case IOGUARD_FEED_ROLE_DAEMON:
		snprintf(buf, len, "the ioguard daemon's feed");
		break;
	case IOGUARD_FEED_ROLE_TRACE:
		snprintf(buf, len, "the feed of ioguard trace (pid %u)", pid);
		break;
	default:
		snprintf(buf, len, "the feed of process %u", pid);
	}
	return buf;
}

static void announce_client(struct decision_source *s)
{
	char who[128];

	s->announced = true;
	s->used = true;
	s->quiet = false;
	errbuf_note(&s->notes, ERRBUF_INFO, "policy decisions from %s at %s",
		    describe_feed(s, who, sizeof(who)), s->feed_path);
}

static void report_lost(struct decision_source *s)
{
	unsigned long long lost = decision_feed_client__lost(s->client);
	char who[128];

	if (lost == s->client_lost_seen)
		return;
	s->lost += lost - s->client_lost_seen;
	errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions: %llu records of %s were lost because "
		    "this process did not read them in time (%llu in all)",
		    lost - s->client_lost_seen, describe_feed(s, who, sizeof(who)), s->lost);
	s->client_lost_seen = lost;
}

static void end_client(struct decision_source *s, const char *why)
{
	char who[128];

	if (s->announced) {
		errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions: %s stopped: %s; they resume as "
			    "soon as this process can read them again",
			    describe_feed(s, who, sizeof(who)), why);
		s->quiet = true;
	} else {
		fail_once(s, "%s", why);
	}
	decision_feed_client__free(s->client);
	s->client = NULL;
}

static void serve(struct decision_source *s)
{
	struct errbuf server_eb = { .note = NULL };
	int err;

	if (!s->feed_path[0]) {
		errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions are not served to other ioguard "
			    "processes: the feed path under %s is too long for a socket",
			    decision_feed_run_dir());
		return;
	}
	err = decision_feed_server__new(s->feed_path, s->role, &s->server, &server_eb);
	if (err)
		errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions are not served to other ioguard "
			    "processes: %s", server_eb.msg);
	else
		errbuf_note(&s->notes, ERRBUF_INFO, "serving policy decisions to other ioguard "
			    "processes at %s", s->feed_path);
}

static void drop_server(struct decision_source *s)
{
	decision_feed_server__free(s->server);
	s->server = NULL;
}

/*
 * After `ioguard unload` and `load` the pinned `decisions` map is a new one, and the
 * old one (kept alive by this reader) never gets another record: read what it still
 * holds, then drop it, so that the caller opens the new one. The feed keeps serving.
 */
static void drop_replaced_reader(struct decision_source *s)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - s->replaced_checked.tv_sec) * 1000 +
	     (now.tv_nsec - s->replaced_checked.tv_nsec) / 1000000;
	if (ms < REPLACED_CHECK_MS)
		return;
	s->replaced_checked = now;
	if (!decision_reader__replaced(s->reader))
		return;
	decision_reader__consume(s->reader);
	decision_reader__free(s->reader);
	s->reader = NULL;
	errbuf_note(&s->notes, ERRBUF_INFO, "policy decisions: the records pinned at %s/decisions were "
		    "unpinned or replaced (ioguard unload, then load): reading the ones pinned "
		    "now", pins_dir());
}

void decision_source__update(struct decision_source *s, int wait_ms)
{
	struct errbuf reader_eb = { .note = NULL }, feed_eb = { .note = NULL };
	const char *why = reader_eb.msg, *why_feed = feed_eb.msg;
	int err;

	if (s->reader)
		drop_replaced_reader(s);
	if (s->reader || s->client)
		return;
	err = decision_reader__open(on_record, s, &s->reader, &reader_eb);
	if (!err) {
		s->used = true;
		s->quiet = false;
		clock_gettime(CLOCK_MONOTONIC, &s->replaced_checked);
		errbuf_note(&s->notes, ERRBUF_INFO, "policy decisions from %s/decisions", pins_dir());
		if (!s->server)
			serve(s);
		return;
	}
	/* Serving needs the records: a server left by a dropped reader goes. */
	if (s->server) {
		errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions are no longer served at %s: %s",
			    s->feed_path, why);
		drop_server(s);
	}
	if (err != -EBUSY) {
		/* Nothing pinned: no enforcement, so no decisions to miss. */
		if (err != -ENOENT)
			fail_once(s, "%s", why);
		return;
	}
	if (!s->feed_path[0]) {
		fail_once(s, "%s; the feed path under %s is too long for a socket", why,
			  decision_feed_run_dir());
		return;
	}
	err = decision_feed_client__connect(s->feed_path, on_record, s, &s->client, &feed_eb);
	if (err) {
		fail_once(s, "%s; %s", why, why_feed);
		return;
	}
	s->announced = false;
	s->client_lost_seen = 0;
	if (!wait_ms)
		return;
	err = decision_feed_client__wait_ready(s->client, wait_ms, &feed_eb);
	if (err)
		end_client(s, why_feed);
	else
		announce_client(s);
}

int decision_source__fds(const struct decision_source *s, struct pollfd *fds)
{
	int n = 0;

	if (s->reader)
		fds[n++] = (struct pollfd){ .fd = decision_reader__fd(s->reader),
					    .events = POLLIN };
	if (s->server)
		fds[n++] = (struct pollfd){ .fd = decision_feed_server__fd(s->server),
					    .events = POLLIN };
	if (n)
		return n;
	if (s->client) {
		fds[0] = (struct pollfd){ .fd = decision_feed_client__fd(s->client),
					  .events = POLLIN };
		return 1;
	}
	return 0;
}

void decision_source__process(struct decision_source *s)
{
	struct errbuf feed_eb = { .note = NULL };
	int err;

	if (s->reader) {
		/* After timeouts too: the programs wake readers only in bulk. */
		err = decision_reader__consume(s->reader);
		if (err < 0 && err != -EINTR)
			errbuf_note(&s->notes, ERRBUF_WARN, "reading the decision ring buffer "
				    "%s/decisions failed: %s", pins_dir(), strerror(-err));
	}
	if (s->server) {
		err = decision_feed_server__process(s->server);
		if (err) {
			errbuf_note(&s->notes, ERRBUF_WARN, "policy decisions are no longer served at "
				    "%s: %s", s->feed_path, strerror(-err));
			drop_server(s);
		}
	}
	if (s->client) {
		err = decision_feed_client__read(s->client, &feed_eb);
		if (!s->announced && decision_feed_client__ready(s->client))
			announce_client(s);
		report_lost(s);
		if (err)
			end_client(s, feed_eb.msg);
	}
}

bool decision_source__used(const struct decision_source *s)
{
	return s->used;
}

unsigned long long decision_source__count(const struct decision_source *s)
{
	return s->count;
}

unsigned long long decision_source__lost(const struct decision_source *s)
{
	return s->lost;
}
