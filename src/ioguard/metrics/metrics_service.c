// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "metrics_service.h"
#include "snapshot.h"
#include "textfile.h"

struct metrics_service {
	struct metrics_service_opts opts;
	struct metrics_snapshot *snap;
	struct http_server *srv;
};

int metrics_service__new(const struct metrics_service_opts *opts, struct metrics_service **out,
			 struct errbuf *eb)
{
	struct metrics_service *ms;

	if (!opts || opts->sz < offsetof(struct metrics_service_opts, ctx) + sizeof(opts->ctx) ||
	    !opts->collect)
		return errbuf_set(eb, -EINVAL, "metrics_service_opts: unknown size or no collect");
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return errbuf_set(eb, -ENOMEM, "cannot allocate the metrics snapshot: %s",
				  strerror(ENOMEM));
	ms->opts = *opts;
	ms->snap = metrics_snapshot__new();
	if (!ms->snap) {
		free(ms);
		return errbuf_set(eb, -ENOMEM, "cannot allocate the metrics snapshot: %s",
				  strerror(ENOMEM));
	}
	*out = ms;
	return 0;
}

void metrics_service__free(struct metrics_service *ms)
{
	if (!ms)
		return;
	http_server__stop(ms->srv);
	metrics_snapshot__free(ms->snap);
	free(ms);
}

int metrics_service__render(struct metrics_service *ms, struct buf *out)
{
	int err;

	metrics_snapshot__reset(ms->snap);
	err = collect_metrics(ms->opts.collect, ms->snap);
	if (!err && ms->opts.add_metrics)
		err = ms->opts.add_metrics(ms->opts.ctx, ms->snap);
	if (err)
		return err;
	metrics_snapshot__sort(ms->snap);
	return exposition_render(ms->snap, out);
}

int metrics_service__write_textfile(struct metrics_service *ms, const char *path,
				    struct errbuf *eb)
{
	struct buf out = { 0 };
	int err;

	metrics_service__lock(ms);
	err = metrics_service__render(ms, &out);
	metrics_service__unlock(ms);
	if (err)
		errbuf_set(eb, err, "cannot collect metrics for %s: %s", path, strerror(-err));
	else
		err = textfile_write(path, out.data, out.len, eb);
	buf__release(&out);
	return err;
}

/* The server's callbacks get the service; the caller's get its own @ctx. */
static int render(void *ctx, struct buf *out)
{
	return metrics_service__render(ctx, out);
}

static int ready(void *ctx, char *why, size_t len)
{
	struct metrics_service *ms = ctx;

	return ms->opts.ready(ms->opts.ctx, why, len);
}

int metrics_service__serve(struct metrics_service *ms, const struct http_server_opts *opts,
			   struct errbuf *eb)
{
	struct http_server_opts o = { .sz = sizeof(o) };

	if (ms->srv)
		return errbuf_set(eb, -EBUSY, "the metrics server already runs on %s",
				  http_server__address(ms->srv));
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	o.ready = ms->opts.ready ? ready : NULL;
	ms->srv = http_server__start(&o, render, ms, eb);
	return ms->srv ? 0 : -errno;
}

const char *metrics_service__address(const struct metrics_service *ms)
{
	return ms->srv ? http_server__address(ms->srv) : NULL;
}

void metrics_service__lock(struct metrics_service *ms)
{
	if (ms && ms->srv)
		http_server__lock(ms->srv);
}

void metrics_service__unlock(struct metrics_service *ms)
{
	if (ms && ms->srv)
		http_server__unlock(ms->srv);
}
