/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metrics exposition of `ioguard metrics` and `ioguard run`, written once: a snapshot
 * reused by every scrape and textfile write, filled by collect_metrics() and then by the
 * caller (the daemon's reloads and topology changes), sorted and rendered by
 * exposition_render(). It serves the exposition on /metrics, writes it as a
 * node_exporter textfile, or both.
 *
 * Locking: the snapshot is rendered under the HTTP server's lock when a server runs (the
 * server takes it around a scrape, metrics_service__write_textfile() takes it itself), so
 * a textfile write never races a scrape. The caller takes the same lock with
 * metrics_service__lock() around changes of what @add_metrics or @ready read. Without a
 * server there is no other thread and the lock is nothing.
 */
#ifndef IOGUARD_METRICS_SERVICE_H
#define IOGUARD_METRICS_SERVICE_H

#include <stddef.h>

#include "output/buf.h"
#include "collect.h"
#include "output/errbuf.h"
#include "http_server.h"
#include "snapshot.h"

/*
 * struct metrics_service_opts - what to collect and what to add; zero fields are defaults.
 * @sz:           sizeof(struct metrics_service_opts)
 * @collect:      what collect_metrics() reads; kept by pointer, so the caller may set
 *                its tracer once that is open, before the first render
 * @add_metrics:  adds the caller's series to the snapshot after collect_metrics(), under
 *                the lock (metrics_snapshot__add_reloads(), ...); a negative errno fails
 *                the render. NULL adds nothing
 * @ready:        answers /readyz (http_server_opts); NULL: ready while serving
 * @ctx:          passed to @add_metrics and @ready
 */
struct metrics_service_opts {
	size_t sz;
	const struct collect_ctx *collect;
	int (*add_metrics)(void *ctx, struct metrics_snapshot *s);
	http_ready_fn ready;
	void *ctx;
};

struct metrics_service;

/* metrics_service__new() - Return: 0 and *@out, or a negative errno with why in @eb. */
int metrics_service__new(const struct metrics_service_opts *opts, struct metrics_service **out,
			 struct errbuf *eb);
/* Stops the server, if one runs, and frees @ms. Accepts NULL. */
void metrics_service__free(struct metrics_service *ms);

/*
 * metrics_service__render() - collect and render one exposition into @out. The caller
 * serialises: with a server running, only under metrics_service__lock().
 * Return: 0 or a negative errno (collecting failed, or @out ran out of memory).
 */
int metrics_service__render(struct metrics_service *ms, struct buf *out);

/*
 * metrics_service__write_textfile() - render under the lock and replace @path with the
 * exposition (textfile_write()). Return: 0 or a negative errno with why in @eb.
 */
int metrics_service__write_textfile(struct metrics_service *ms, const char *path,
				    struct errbuf *eb);

/*
 * metrics_service__serve() - start serving /metrics (and /readyz) as @opts says; its
 * @ready is the service's. Return: 0 or a negative errno with why in @eb (-EBUSY when a
 * server already runs).
 */
int metrics_service__serve(struct metrics_service *ms, const struct http_server_opts *opts,
			   struct errbuf *eb);
/* The address the server listens on ("127.0.0.1:9464"), or NULL when none runs. */
const char *metrics_service__address(const struct metrics_service *ms);

/* The server's lock; nothing without a server. Both accept NULL. */
void metrics_service__lock(struct metrics_service *ms);
void metrics_service__unlock(struct metrics_service *ms);

#endif /* IOGUARD_METRICS_SERVICE_H */
