/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Making a policy file the policy in force, shared by `ioguard load` and the daemon:
 * load and validate the file, check it against the device topology (no split IOMMU
 * group), check that enforcement can work, compile, then hand it to
 * the enforcer (first load, or an atomic swap). Any failure leaves the policy in force
 * unchanged; that is the enforcer's guarantee, and policy_apply() never calls it with
 * anything but a fully compiled policy.
 *
 * The reloader adds what the daemon needs on top: the path it watches, whether a change
 * is a real one (same SHA-256: nothing to do), counters of reloads by result, and a
 * deadline. A file on a file system that stops answering (an NFS hard mount, a FUSE
 * server that hangs) blocks its reader in the kernel for as long as it likes, so the
 * reloader never reads on its caller's thread: a worker thread prepares (reads, checks,
 * compiles), the caller commits. One worker at most exists; one that misses the
 * deadline is reported, left to return whenever the kernel lets it, and its result
 * dropped.
 */
#ifndef IOGUARD_POLICY_APPLY_H
#define IOGUARD_POLICY_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "output/errbuf.h"
#include "policy.h"
#include "policy_compile.h"

/*
 * struct policy_apply_ops - the enforcer as policy_apply() uses it; the real one is
 * policy_apply_enforcer (enforcer_probe() and enforcer_load()), tests pass a fake.
 */
struct policy_apply_ops {
	int (*probe)(struct errbuf *eb);
	int (*load)(const struct compiled_policy *cp, bool *swapped, struct errbuf *eb);
};

extern const struct policy_apply_ops policy_apply_enforcer;

/*
 * struct policy_apply_opts - zero fields are defaults.
 * @sz:          sizeof(struct policy_apply_opts)
 * @load:        options of policy__load() (owner check); NULL: defaults
 * @cgroup_root: where cgroup criteria resolve; NULL: /sys/fs/cgroup
 * @sysfs_root:  the topology the policy must keep groups whole on; NULL: the live /sys
 * @ops:         NULL: policy_apply_enforcer
 * @unless_hash: when set and the file's SHA-256 equals it, nothing is applied
 * @read:        reads and validates the file; NULL: policy__load(). Tests pass one
 *               that blocks, as a read on a hung file system does.
 */
struct policy_apply_opts {
	size_t sz;
	const struct policy_load_opts *load;
	const char *cgroup_root;
	const char *sysfs_root;
	const struct policy_apply_ops *ops;
	const uint8_t *unless_hash;
	int (*read)(const char *path, const struct policy_load_opts *opts,
		    struct policy **out, struct policy_error *err);
};

/*
 * policy_apply() - make the policy file @path the policy in force
 * Reports in the words of `ioguard load`: why it failed in @eb, and as notes of @eb, in
 * order, the warnings (unreached selectors, unmatched cgroups or executables, enforcer
 * notes, an unrecorded topology) and the topology check's own error before the one that
 * says the file is not loaded. On success *@out is the policy now in force (free it with
 * policy__free()) and *@swapped says whether it replaced a loaded one atomically.
 *
 * Return: 0; 1 when @unless_hash matched (nothing done, *@out NULL); -EBADMSG for a
 * file with invalid content; another negative errno (the policy in force is unchanged).
 */
int policy_apply(const char *path, const struct policy_apply_opts *opts, struct policy **out,
		 bool *swapped, struct errbuf *eb);

/*
 * policy_apply() in two steps. policy_prepare() does all of it but the enforcer's load:
 * read and validate, topology, probe, compile. It changes no enforcement state and
 * shares nothing with other threads, so it may run on any thread; on 0, *@p and *@cp
 * are set (the caller frees them). policy_commit() hands @cp to the enforcer.
 * Both report as policy_apply() does and return what it returns.
 */
int policy_prepare(const char *path, const struct policy_apply_opts *opts, struct policy **p,
		   struct compiled_policy **cp, struct errbuf *eb);
int policy_commit(const char *path, const struct policy_apply_opts *opts,
		  const struct compiled_policy *cp, bool *swapped, struct errbuf *eb);

enum policy_reload_result {
	POLICY_RELOAD_OK = 0,		/* the new file is in force */
	POLICY_RELOAD_ERROR,		/* refused: the previous policy stays */
	POLICY_RELOAD_TIMEOUT,		/* not prepared within the deadline: the previous stays */
	POLICY_RELOAD_RESULT_COUNT,
};

/*
 * How long reading, checking and compiling a policy may take. A healthy 1 MiB file takes
 * milliseconds; a file system that has not answered for this long is not about to.
 */
#define POLICY_RELOAD_DEADLINE_MS 10000

struct policy_reload_job;

/*
 * struct policy_reloader - the daemon's policy: the file, the hash of what is in force,
 * the reload counters and the reload in flight. Not thread-safe; the daemon's main loop
 * owns it. A scrape reads @reloads only, under the HTTP server lock, which the loop
 * takes around policy_reloader__count() and never around a reload (a slow file system
 * must not stall scrapes). The worker thread never touches the reloader: it shares only
 * its job, under the job's own lock, which is taken with no other lock held.
 *
 * A reload runs over several calls and its result is counted, not returned as an error,
 * so the reloader tells everything through the notes of @notes, errors included
 * (ERRBUF_ERR), on its caller's thread, in the order they happened; it leaves no message
 * for its caller to print.
 */
struct policy_reloader {
	const char *path;
	struct errbuf notes;			/* the caller's notes (a copy); @msg unused */
	struct policy_apply_opts opts;
	unsigned int deadline_ms;		/* POLICY_RELOAD_DEADLINE_MS unless a test sets it */
	int notify_fd;				/* eventfd: readable once the job is done */
	struct policy_reload_job *job;		/* the reload in flight, at most one */
	struct timespec started;		/* of @job, CLOCK_MONOTONIC */
	bool late;				/* @job missed the deadline (reported) */
	bool loaded;
	uint8_t hash[POLICY_HASH_SIZE];		/* of the policy in force, when loaded */
	char name[POLICY_NAME_MAX + 1];
	unsigned long long reloads[POLICY_RELOAD_RESULT_COUNT];
	/*
	 * The last reload of the file was refused or timed out, so the file is not the
	 * policy in force; cleared by a reload that puts it in force or finds it unchanged.
	 * A state, unlike @reloads: a broken ConfigMap stays visible until it is fixed.
	 */
	bool file_refused;
};

/*
 * policy_reloader__init() - set up @r for @path (kept by pointer) and the notes of @eb
 * (copied: @eb may be gone after this returns); @opts and @eb may be NULL. Return: 0
 * or a negative errno (no eventfd); either way policy_reloader__fini() is safe.
 */
int policy_reloader__init(struct policy_reloader *r, const char *path,
			  const struct policy_apply_opts *opts, struct errbuf *eb);

/*
 * policy_reloader__fini() - let go of @r. A worker still stuck in the kernel is left to
 * return on its own; it then frees its job, and touches nothing else.
 */
void policy_reloader__fini(struct policy_reloader *r);

/*
 * policy_reloader__start() - start a reload on a worker thread: after SIGHUP (@force:
 * even when unchanged) or a change seen on disk (skipped when its SHA-256 is the one in
 * force). Return: 0; -EBUSY when a reload is in flight (at most one is: a read stuck on
 * a hung file system must not pile up threads); another negative errno (no thread).
 */
int policy_reloader__start(struct policy_reloader *r, bool force);

/* Whether a reload is in flight (including one that missed its deadline). */
static inline bool policy_reloader__busy(const struct policy_reloader *r)
{
	return r->job;
}

/* The eventfd that becomes readable when the reload in flight is done; for poll(). */
static inline int policy_reloader__fd(const struct policy_reloader *r)
{
	return r->notify_fd;
}

/*
 * policy_reloader__finish() - check on the reload in flight, without blocking; commits
 * it (on the caller's thread) when the worker has prepared it, and hands what the
 * worker reported to the notes of @r's errbuf. Never changes @reloads.
 * Return:
 *   0            the reload is over; *@result is what policy_reloader__reload() returns
 *   -EINPROGRESS it is still running (or still stuck after its deadline was reported)
 *   -ETIMEDOUT   it has just missed the deadline: reported, count it with *@result
 *                (-ETIMEDOUT); the policy in force stays and the worker is left running
 *   -ECANCELED   a reload that missed its deadline returned at last: its result is
 *                dropped (a newer file may be on disk), nothing to count
 *   -ECHILD      no reload in flight
 */
int policy_reloader__finish(struct policy_reloader *r, int *result);

/*
 * policy_reloader__load() - the first load, waiting up to the deadline: not counted as
 * a reload. Return: 0, the error of policy_apply(), or -ETIMEDOUT.
 */
int policy_reloader__load(struct policy_reloader *r);

/*
 * policy_reloader__apply() - __start() and wait for __finish(), up to the deadline.
 * Return: what policy_reloader__reload() returns; never changes @reloads.
 */
int policy_reloader__apply(struct policy_reloader *r, bool force);

/*
 * policy_reloader__reload() - policy_reloader__apply(), then count the result. Return:
 * 0 applied, 1 unchanged (not counted), negative errno refused (counted as timeout for
 * -ETIMEDOUT, whether the deadline or the file system gave up, else as error; the
 * previous policy stays).
 */
int policy_reloader__reload(struct policy_reloader *r, bool force);

/* Counts a result of __apply() or __finish() as __reload() does. */
void policy_reloader__count(struct policy_reloader *r, int ret);

struct metrics_snapshot;

/*
 * policy_reloader__add_metrics() - add the reload counters (one series per result) and
 * the file_refused state to @s, for the ioguard_policy_reloads_total and
 * ioguard_policy_file_refused families. Return: 0 or -ENOMEM.
 */
int policy_reloader__add_metrics(const struct policy_reloader *r, struct metrics_snapshot *s);

const char *policy_reload_result_name(enum policy_reload_result result);

#endif /* IOGUARD_POLICY_APPLY_H */
