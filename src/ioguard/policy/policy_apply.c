// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "prog/enforcer.h"
#include "output/errbuf.h"
#include "output/buf.h"
#include "output/clock.h"
#include "policy_apply.h"
#include "policy_topology.h"
#include "metrics/snapshot.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

const struct policy_apply_ops policy_apply_enforcer = {
	.probe = enforcer_probe,
	.load = enforcer_load,
};

/*
 * A reload handed to a worker thread. The job owns copies of everything the worker
 * reads, since a worker stuck in the kernel may outlive the reloader and its caller.
 * Everything below @lock is under it; whoever sees the other side gone frees the job.
 */
struct policy_reload_job {
	char *path;
	char *cgroup_root;
	char *sysfs_root;
	struct policy_load_opts load;
	struct policy_apply_opts opts;
	uint8_t unless_hash[POLICY_HASH_SIZE];
	struct errbuf eb;			/* the worker's; its notes go to @msgs */
	struct buf msgs;			/* the worker's notes: level byte, text, NUL */

	pthread_mutex_t lock;
	const char *stage;			/* what prepare() is doing, for the report */
	bool done;				/* the worker finished: @ret, @p, @cp are set */
	bool orphaned;				/* the reloader let go: the worker frees the job */
	int notify_fd;				/* the reloader's; valid while !@orphaned */
	int ret;
	struct policy *p;
	struct compiled_policy *cp;
};

static void set_stage(struct policy_reload_job *job, const char *stage)
{
	if (!job)
		return;
	pthread_mutex_lock(&job->lock);
	job->stage = stage;
	pthread_mutex_unlock(&job->lock);
}

/*
 * @job, when set, learns each step in turn: a worker past its deadline is reported by it.
 * @eb is not NULL: a failed topology check's own error is read back from it.
 */
static int prepare(const char *path, const struct policy_apply_opts *opts, struct policy **out,
		   struct compiled_policy **out_cp, struct policy_reload_job *job,
		   struct errbuf *eb)
{
	const struct policy_apply_ops *ops = opts && opts->ops ? opts->ops : &policy_apply_enforcer;
	const char *cgroup_root = opts && opts->cgroup_root ? opts->cgroup_root : CGROUP_ROOT;
	struct policy_error perr = POLICY_ERROR_INIT;
	struct compiled_policy *cp = NULL;
	struct errbuf why = { .note = NULL };
	struct policy *p = NULL;
	int ret;

	*out = NULL;
	*out_cp = NULL;
	set_stage(job, "reading the file");
	ret = (opts && opts->read ? opts->read : policy__load)(path, opts ? opts->load : NULL,
							       &p, &perr);
	if (ret)
		return errbuf_set(eb, ret == -EINVAL ? -EBADMSG : ret,
				  "%s; the policy in force is unchanged", perr.msg);
	if (opts && opts->unless_hash && !memcmp(opts->unless_hash, p->hash, sizeof(p->hash))) {
		ret = 1;
		goto out_free;
	}
	set_stage(job, "checking the device topology");
	eb->msg[0] = '\0';
	ret = policy_topology_report(path, p, opts ? opts->sysfs_root : NULL, eb);
	if (ret) {
		if (eb->msg[0])
			errbuf_note(eb, ERRBUF_ERR, "%s", eb->msg);
		errbuf_set(eb, ret, "%s is not loaded; the policy in force is unchanged", path);
		goto out_free;
	}
	set_stage(job, "probing the kernel");
	ret = ops->probe(&why);
	if (ret) {
		errbuf_set(eb, ret, "enforcement cannot work on this kernel: %s", why.msg);
		goto out_free;
	}
	set_stage(job, "compiling (cgroups, executables)");
	ret = policy_compile(p, cgroup_root, &cp, &why);
	if (ret) {
		errbuf_set(eb, ret, "%s: %s; the policy in force is unchanged", path, why.msg);
		goto out_free;
	}
	if (cp->warnings[0])
		errbuf_note(eb, ERRBUF_WARN, "%s: %s (those values match no process)", path,
			    cp->warnings);
	*out = p;
	*out_cp = cp;
	return 0;
out_free:
	policy__free(p);
	return ret;
}

int policy_prepare(const char *path, const struct policy_apply_opts *opts, struct policy **p,
		   struct compiled_policy **cp, struct errbuf *eb)
{
	struct errbuf dropped = { .note = NULL };

	return prepare(path, opts, p, cp, NULL, eb ? eb : &dropped);
}

int policy_commit(const char *path, const struct policy_apply_opts *opts,
		  const struct compiled_policy *cp, bool *swapped, struct errbuf *eb)
{
	const struct policy_apply_ops *ops = opts && opts->ops ? opts->ops : &policy_apply_enforcer;
	struct errbuf why;
	int ret;

	/* The enforcer's notes go straight to @eb's; its error is worded here. */
	errbuf_keep_notes(&why, eb);
	ret = ops->load(cp, swapped, &why);
	if (ret)
		return errbuf_set(eb, ret, "%s: %s; the policy in force is unchanged", path,
				  why.msg);
	return 0;
}

/*
 * Records the topology @p was checked against, for `ioguard status` and the daemon's
 * topology watch (topology_record.h). Only beside the real enforcement: other ops
 * (tests) put nothing in force. A failure leaves the policy in force, unstamped: said,
 * not fatal.
 */
static void stamp_topology(const char *path, const struct policy_apply_opts *opts,
			   const struct policy *p, struct errbuf *eb)
{
	struct errbuf why = { .note = NULL };
	int ret;

	if (opts && opts->ops && opts->ops != &policy_apply_enforcer)
		return;
	ret = policy_topology_stamp(p, opts ? opts->sysfs_root : NULL, &why);
	if (ret == -ESTALE)
		errbuf_note(eb, ERRBUF_WARN, "%s is in force, but %s: no topology is recorded for "
			    "it; load it again to check it on the topology as it is now", path,
			    why.msg);
	else if (ret)
		errbuf_note(eb, ERRBUF_WARN, "%s: the topology it was checked against is not "
			    "recorded (%s): 'ioguard status' cannot tell whether it still holds",
			    path, why.msg);
}

int policy_apply(const char *path, const struct policy_apply_opts *opts, struct policy **out,
		 bool *swapped, struct errbuf *eb)
{
	struct compiled_policy *cp = NULL;
	struct policy *p = NULL;
	int ret;

	*out = NULL;
	ret = policy_prepare(path, opts, &p, &cp, eb);
	if (!ret)
		ret = policy_commit(path, opts, cp, swapped, eb);
	if (!ret) {
		stamp_topology(path, opts, p, eb);
		*out = p;
		p = NULL;
	}
	compiled_policy__free(cp);
	policy__free(p);
	return ret;
}

static void job_free(struct policy_reload_job *job)
{
	if (!job)
		return;
	compiled_policy__free(job->cp);
	policy__free(job->p);
	pthread_mutex_destroy(&job->lock);
	buf__release(&job->msgs);
	free(job->path);
	free(job->cgroup_root);
	free(job->sysfs_root);
	free(job);
}

/* Only the worker appends, and only the reloader's thread reads, once the job is done. */
static void job_note(void *ctx, enum errbuf_level level, const char *msg)
{
	struct policy_reload_job *job = ctx;
	char c = level;

	buf__append(&job->msgs, &c, 1);
	buf__append(&job->msgs, msg, strlen(msg) + 1);
}

/*
 * Hands what the worker said to the reloader's notes, on the reloader's thread: the
 * caller's printing (stderr, --json) is its own thread's.
 */
static void job_replay_notes(const struct policy_reload_job *job, struct errbuf *eb)
{
	size_t off = 0;

	if (job->msgs.err)
		return;
	while (off + 1 < job->msgs.len) {
		errbuf_note(eb, (enum errbuf_level)job->msgs.data[off], "%s",
			    job->msgs.data + off + 1);
		off += 2 + strlen(job->msgs.data + off + 1);
	}
}

static void *reload_worker(void *arg)
{
	struct policy_reload_job *job = arg;
	struct compiled_policy *cp = NULL;
	struct policy *p = NULL;
	bool orphaned;
	int ret;

	ret = prepare(job->path, &job->opts, &p, &cp, job, &job->eb);
	if (ret < 0 && job->eb.msg[0])
		job_note(job, ERRBUF_ERR, job->eb.msg);
	pthread_mutex_lock(&job->lock);
	job->ret = ret;
	job->p = p;
	job->cp = cp;
	job->done = true;
	orphaned = job->orphaned;
	if (!orphaned)
		eventfd_write(job->notify_fd, 1);
	pthread_mutex_unlock(&job->lock);
	if (orphaned)
		job_free(job);
	return NULL;
}

static struct policy_reload_job *job_new(const struct policy_reloader *r, bool force)
{
	struct policy_reload_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	pthread_mutex_init(&job->lock, NULL);
	job->eb.note = job_note;
	job->eb.note_ctx = job;
	job->stage = "starting";
	job->notify_fd = r->notify_fd;
	job->opts = r->opts;
	job->path = strdup(r->path);
	if (r->opts.load)
		job->load = *r->opts.load;
	job->opts.load = r->opts.load ? &job->load : NULL;
	if (r->opts.cgroup_root)
		job->opts.cgroup_root = job->cgroup_root = strdup(r->opts.cgroup_root);
	if (r->opts.sysfs_root)
		job->opts.sysfs_root = job->sysfs_root = strdup(r->opts.sysfs_root);
	if (!job->path || (r->opts.cgroup_root && !job->cgroup_root) ||
	    (r->opts.sysfs_root && !job->sysfs_root)) {
		job_free(job);
		return NULL;
	}
	if (!force && r->loaded) {
		memcpy(job->unless_hash, r->hash, sizeof(job->unless_hash));
		job->opts.unless_hash = job->unless_hash;
	}
	return job;
}

int policy_reloader__init(struct policy_reloader *r, const char *path,
			  const struct policy_apply_opts *opts, struct errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	errbuf_keep_notes(&r->notes, eb);
	if (opts)
		r->opts = *opts;
	r->opts.sz = sizeof(r->opts);
	r->opts.unless_hash = NULL;
	r->deadline_ms = POLICY_RELOAD_DEADLINE_MS;
	r->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return r->notify_fd < 0 ? -errno : 0;
}

void policy_reloader__fini(struct policy_reloader *r)
{
	struct policy_reload_job *job = r->job;
	bool done = false;

	if (job) {
		pthread_mutex_lock(&job->lock);
		job->orphaned = true;
		done = job->done;
		pthread_mutex_unlock(&job->lock);
		if (done)
			job_free(job);
		r->job = NULL;
	}
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	r->notify_fd = -1;
}

int policy_reloader__start(struct policy_reloader *r, bool force)
{
	struct policy_reload_job *job;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int ret;

	if (r->job)
		return -EBUSY;
	if (r->notify_fd < 0)
		return -EBADF;
	job = job_new(r, force);
	if (!job)
		return -ENOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the main loop's: the worker starts with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&thread, &attr, reload_worker, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret) {
		job_free(job);
		return ret;
	}
	r->job = job;
	r->late = false;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	return 0;
}

/*
 * Makes what the worker prepared the policy in force; on the caller's thread. The worker's
 * error is among its notes already; a commit's is told as a note too.
 */
static int reloader_commit(struct policy_reloader *r, struct policy_reload_job *job)
{
	struct errbuf eb;
	bool swapped;
	int ret;

	if (job->ret)
		return job->ret;
	errbuf_keep_notes(&eb, &r->notes);
	ret = policy_commit(r->path, &r->opts, job->cp, &swapped, &eb);
	if (ret) {
		if (eb.msg[0])
			errbuf_note(&r->notes, ERRBUF_ERR, "%s", eb.msg);
		return ret;
	}
	stamp_topology(r->path, &r->opts, job->p, &r->notes);
	memcpy(r->hash, job->p->hash, sizeof(r->hash));
	snprintf(r->name, sizeof(r->name), "%s", job->p->name);
	r->loaded = true;
	return 0;
}

int policy_reloader__finish(struct policy_reloader *r, int *result)
{
	struct policy_reload_job *job = r->job;
	const char *stage;
	eventfd_t ignored;
	bool done;
	long ms;
	int ret;

	if (!job)
		return -ECHILD;
	pthread_mutex_lock(&job->lock);
	done = job->done;
	stage = job->stage;
	pthread_mutex_unlock(&job->lock);
	if (!done) {
		ms = elapsed_ms(&r->started);
		if (r->late || ms < (long)r->deadline_ms)
			return -EINPROGRESS;
		r->late = true;
		errbuf_note(&r->notes, ERRBUF_ERR, "%s: %s did not finish within %u ms (is its file "
			    "system hung? an NFS hard mount or a FUSE server that does not answer); "
			    "the policy in force is unchanged, and no other reload starts until "
			    "that one returns", r->path, stage, r->deadline_ms);
		*result = -ETIMEDOUT;
		return -ETIMEDOUT;
	}
	/* The worker is gone from the job: it wrote the fd last, under the lock. */
	eventfd_read(r->notify_fd, &ignored);
	r->job = NULL;
	job_replay_notes(job, &r->notes);
	if (r->late) {
		errbuf_note(&r->notes, ERRBUF_WARN, "%s: the reload that missed its deadline returned "
			    "after %ld ms; its result is dropped", r->path, elapsed_ms(&r->started));
		ret = -ECANCELED;
	} else {
		*result = reloader_commit(r, job);
		ret = 0;
	}
	job_free(job);
	return ret;
}

int policy_reloader__apply(struct policy_reloader *r, bool force)
{
	struct pollfd pfd = { .fd = r->notify_fd, .events = POLLIN };
	long left;
	int ret, result = 0;

	ret = policy_reloader__start(r, force);
	if (ret)
		return ret;
	for (;;) {
		ret = policy_reloader__finish(r, &result);
		if (ret != -EINPROGRESS)
			break;
		left = (long)r->deadline_ms - elapsed_ms(&r->started);
		poll(&pfd, 1, left > 0 ? (int)left : 0);
	}
	return ret ? ret : result;
}

int policy_reloader__load(struct policy_reloader *r)
{
	return policy_reloader__apply(r, true);
}

void policy_reloader__count(struct policy_reloader *r, int ret)
{
	r->file_refused = ret < 0;
	if (ret == 1)
		return;
	r->reloads[!ret ? POLICY_RELOAD_OK : ret == -ETIMEDOUT ? POLICY_RELOAD_TIMEOUT :
		   POLICY_RELOAD_ERROR]++;
}

int policy_reloader__reload(struct policy_reloader *r, bool force)
{
	int ret = policy_reloader__apply(r, force);

	policy_reloader__count(r, ret);
	return ret;
}

const char *policy_reload_result_name(enum policy_reload_result result)
{
	switch (result) {
	case POLICY_RELOAD_OK: return "ok";
	case POLICY_RELOAD_ERROR: return "error";
	case POLICY_RELOAD_TIMEOUT: return "timeout";
	default: return "unknown";
	}
}

int policy_reloader__add_metrics(const struct policy_reloader *r, struct metrics_snapshot *s)
{
	int i, err = 0;

	for (i = 0; i < POLICY_RELOAD_RESULT_COUNT && !err; i++)
		err = metrics_snapshot__add_reloads(s, policy_reload_result_name(i), r->reloads[i]);
	metrics_snapshot__set_policy_file_refused(s, r->file_refused);
	return err;
}
