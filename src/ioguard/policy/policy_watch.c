// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads and ownership. The caller's side (struct policy_watch) owns the notify eventfd
 * and reads it only. The watch thread owns everything that looks at the path (struct
 * watcher: the inotify fd, the watches, the last identity). They share the fields of
 * struct watcher under @lock, which is never held across a lookup, a wait or another
 * lock; the thread writes the notify fd only under it and only while !@stop, so the
 * caller may close that fd as soon as it has set @stop. Whoever of the two is last to
 * let go of the watcher frees it: the caller after joining a thread that has exited, or
 * the thread itself when the caller left it behind stuck in a lookup (@orphaned).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy_watch.h"

/* Symlinks followed before giving up, as the kernel's MAXSYMLINKS. */
#define MAX_HOPS 40
/* A directory per symlink followed, and the final file's. */
#define MAX_DIRS (MAX_HOPS + 1)
/*
 * In every watched directory: a file written in place, a rename over a name (editors,
 * `ln -sf`, the ConfigMap `..data` swap), a name created or removed (`ln -s` after `rm`).
 */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
		    IN_ONLYDIR)

/* The directories a resolution of the path went through, and where it ended. */
struct resolution {
	char dirs[MAX_DIRS][PATH_MAX];
	int ndirs;
	int final_dir;			/* index in @dirs */
	char final_name[NAME_MAX + 1];
};

struct watcher {
	/* Set before the thread starts, then read-only. */
	char *path;
	unsigned int interval_ms;
	int (*stat)(const char *path, struct stat *st);
	int (*lstat)(const char *path, struct stat *st);
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
	int wake_fd;			/* eventfd: the caller asks the thread to stop */

	/* The thread's alone, once it runs. */
	int fd;				/* inotify, or -1: the thread polls */
	int wd[MAX_DIRS];
	int nwd;
	int final_wd;			/* the final file's directory, or -1 */
	char final_name[NAME_MAX + 1];
	struct stat last;		/* the file's identity through the symlinks */
	struct resolution *res;		/* scratch space: too big for the stack */

	/* Under @lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* signalled when @ready or @exited becomes true */
	bool ready;			/* the first resolution is over, with @setup_err */
	int setup_err;
	bool stop;			/* the caller let go: @notify_fd may be closed */
	bool exited;			/* the thread touches nothing of the watcher any more */
	bool orphaned;			/* the caller left first: the thread frees the watcher */
	int notify_fd;			/* the caller's eventfd */
};

struct policy_watch {
	struct watcher *t;
	pthread_t thread;
	int notify_fd;			/* eventfd, closed by policy_watch__free() */
	bool polling;
};

static int add_dir(struct resolution *res, const char *dir)
{
	int i;

	for (i = 0; i < res->ndirs; i++)
		if (!strcmp(res->dirs[i], dir))
			return i;
	if (res->ndirs == MAX_DIRS)
		return -1;
	snprintf(res->dirs[res->ndirs], PATH_MAX, "%s", dir);
	return res->ndirs++;
}

/*
 * Resolves @path one component at a time, as the kernel would, recording the directory
 * of every symlink followed and the final directory and name. A missing component is
 * kept as it is: the path may be in the middle of a swap, and the next event resolves
 * it again. @cur never ends in '/': the root is "".
 */
static int resolve(const struct watcher *t, struct resolution *res)
{
	const char *path = t->path;
	char cur[PATH_MAX], rest[PATH_MAX], link[PATH_MAX], cand[PATH_MAX + NAME_MAX + 2];
	char tmp[2 * PATH_MAX + 2];
	const char *comp, *slash;
	bool dot, dotdot;
	struct stat st;
	size_t len;
	int hops = 0;
	ssize_t n;

	res->ndirs = 0;
	res->final_dir = -1;
	cur[0] = '\0';
	if (path[0] != '/' && !getcwd(cur, sizeof(cur)))
		return -errno;
	if (!strcmp(cur, "/"))
		cur[0] = '\0';
	snprintf(rest, sizeof(rest), "%s", path);
	for (;;) {
		comp = rest + strspn(rest, "/");
		len = strcspn(comp, "/");
		if (!len)
			break;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		dot = len == 1 && comp[0] == '.';
		dotdot = len == 2 && comp[0] == '.' && comp[1] == '.';
		snprintf(cand, sizeof(cand), "%s/%.*s", cur, (int)len, comp);
		memmove(rest, comp + len, strlen(comp + len) + 1);
		if (dot)
			continue;
		if (dotdot) {
			*(strrchr(cur, '/') ?: cur) = '\0';
			continue;
		}
		if (strlen(cand) >= sizeof(cur))
			return -ENAMETOOLONG;
		if (t->lstat(cand, &st) || !S_ISLNK(st.st_mode)) {
			memcpy(cur, cand, strlen(cand) + 1);
			continue;
		}
		if (++hops > MAX_HOPS)
			return -ELOOP;
		if (add_dir(res, cur[0] ? cur : "/") < 0)
			return -ELOOP;
		n = t->readlink(cand, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = '\0';
		snprintf(tmp, sizeof(tmp), "%s%s", link, rest);
		if (strlen(tmp) >= sizeof(rest))
			return -ENAMETOOLONG;
		snprintf(rest, sizeof(rest), "%s", tmp);
		if (link[0] == '/')
			cur[0] = '\0';
	}
	slash = strrchr(cur, '/');
	if (!slash)
		return -EINVAL;
	snprintf(res->final_name, sizeof(res->final_name), "%s", slash + 1);
	cur[slash - cur] = '\0';
	res->final_dir = add_dir(res, cur[0] ? cur : "/");
	return res->final_dir < 0 ? -ELOOP : 0;
}

/* Moves the watches to the directories of the path's resolution now. */
static void rewatch(struct watcher *t)
{
	struct resolution *res = t->res;
	int wd[MAX_DIRS], n = 0, i, j, nw;

	t->final_wd = -1;
	if (resolve(t, res))
		return;
	for (i = 0; i < res->ndirs; i++) {
		nw = inotify_add_watch(t->fd, res->dirs[i], WATCH_MASK);
		/* A directory gone in a swap: its parent's event resolves again. */
		if (nw < 0)
			continue;
		if (i == res->final_dir) {
			t->final_wd = nw;
			snprintf(t->final_name, sizeof(t->final_name), "%s", res->final_name);
		}
		for (j = 0; j < n && wd[j] != nw; j++)
			;
		if (j == n)
			wd[n++] = nw;
	}
	for (i = 0; i < t->nwd; i++) {
		for (j = 0; j < n && wd[j] != t->wd[i]; j++)
			;
		/* Gone already (IN_IGNORED) when its directory was removed: EINVAL, harmless. */
		if (j == n)
			inotify_rm_watch(t->fd, t->wd[i]);
	}
	memcpy(t->wd, wd, n * sizeof(wd[0]));
	t->nwd = n;
}

/* The file's identity now differs from the last one seen; remembers the new one. */
static bool identity_changed(struct watcher *t)
{
	struct stat st;
	bool changed;

	if (t->stat(t->path, &st))
		memset(&st, 0, sizeof(st));
	changed = st.st_dev != t->last.st_dev || st.st_ino != t->last.st_ino ||
		  st.st_size != t->last.st_size ||
		  st.st_mtim.tv_sec != t->last.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != t->last.st_mtim.tv_nsec;
	t->last = st;
	return changed;
}

/* Reads the inotify events queued (never blocks); whether the file may have changed. */
static bool events_changed(struct watcher *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool any = false, named = false;
	ssize_t n;
	char *p;

	while ((n = read(t->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			any = true;
			/* Events were dropped: one of them may have been ours. */
			if (ev->mask & IN_Q_OVERFLOW)
				named = true;
			else if (ev->wd == t->final_wd && ev->len &&
				 !strcmp(ev->name, t->final_name))
				named = true;
		}
	}
	if (!any)
		return false;
	/* Any event may have moved a symlink on the way: follow it, then compare. */
	rewatch(t);
	return identity_changed(t) || named;
}

static bool stopping(struct watcher *t)
{
	bool stop;

	pthread_mutex_lock(&t->lock);
	stop = t->stop;
	pthread_mutex_unlock(&t->lock);
	return stop;
}

/*
 * Waits for inotify events (or the interval, when polling) and for the caller's stop.
 * Every lookup of the path happens here, with no lock held, so a lookup stuck on a hung
 * file system holds up this thread only.
 */
static void watch_loop(struct watcher *t)
{
	struct pollfd fds[2] = {
		{ .fd = t->wake_fd, .events = POLLIN },
		{ .fd = t->fd, .events = POLLIN },
	};
	bool changed;

	for (;;) {
		/*
		 * Fails only for want of memory (no EINTR: every signal is blocked here), which
		 * passes; a round too many costs lookups, not a missed change.
		 */
		if (t->fd >= 0)
			poll(fds, 2, -1);
		else
			poll(fds, 1, (int)t->interval_ms);
		if (stopping(t))
			return;
		changed = t->fd >= 0 ? events_changed(t) : identity_changed(t);
		if (!changed)
			continue;
		pthread_mutex_lock(&t->lock);
		if (!t->stop)
			eventfd_write(t->notify_fd, 1);
		pthread_mutex_unlock(&t->lock);
	}
}

static void watcher_free(struct watcher *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->res);
	free(t->path);
	free(t);
}

static void *watch_thread(void *arg)
{
	struct watcher *t = arg;
	bool orphaned;
	int err = 0;

	identity_changed(t);
	if (t->fd >= 0) {
		rewatch(t);
		if (!t->nwd)
			err = -ENOENT;
	}
	pthread_mutex_lock(&t->lock);
	t->setup_err = err;
	t->ready = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (!err)
		watch_loop(t);
	pthread_mutex_lock(&t->lock);
	t->exited = true;
	orphaned = t->orphaned;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (orphaned)
		watcher_free(t);
	return NULL;
}

static int sys_stat(const char *path, struct stat *st)
{
	return stat(path, st);
}

static int sys_lstat(const char *path, struct stat *st)
{
	return lstat(path, st);
}

static ssize_t sys_readlink(const char *path, char *buf, size_t len)
{
	return readlink(path, buf, len);
}

static struct watcher *watcher_new(const char *path, const struct policy_watch_opts *opts,
				   int *err)
{
	struct watcher *t = calloc(1, sizeof(*t));
	pthread_condattr_t attr;

	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->fd = -1;
	t->wake_fd = -1;
	t->final_wd = -1;
	pthread_mutex_init(&t->lock, NULL);
	/* Deadlines are on CLOCK_MONOTONIC: a clock step must not shorten or stretch them. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &attr);
	pthread_condattr_destroy(&attr);
	t->interval_ms = opts->interval_ms ?: POLICY_WATCH_INTERVAL_MS;
	t->stat = opts->stat ?: sys_stat;
	t->lstat = opts->lstat ?: sys_lstat;
	t->readlink = opts->readlink ?: sys_readlink;
	t->path = strdup(path);
	if (!t->path) {
		*err = -ENOMEM;
		goto err_free;
	}
	t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->wake_fd < 0) {
		*err = -errno;
		goto err_free;
	}
	if (!opts->polling) {
		t->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (t->fd < 0 && errno != ENOSYS) {
			*err = -errno;
			goto err_free;
		}
	}
	if (t->fd >= 0) {
		t->res = malloc(sizeof(*t->res));
		if (!t->res) {
			*err = -ENOMEM;
			goto err_free;
		}
	}
	return t;

err_free:
	watcher_free(t);
	return NULL;
}

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int policy_watch__new(const char *path, const struct policy_watch_opts *opts,
		      struct policy_watch **out)
{
	struct policy_watch_opts o = { 0 };
	struct policy_watch *w;
	struct timespec deadline;
	sigset_t all, old;
	int err = 0;

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->notify_fd < 0) {
		err = -errno;
		goto err_free;
	}
	w->t = watcher_new(path, &o, &err);
	if (!w->t)
		goto err_close;
	w->t->notify_fd = w->notify_fd;
	w->polling = w->t->fd < 0;
	/* Signals are the daemon's loop's (a signalfd): the thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&w->thread, NULL, watch_thread, w->t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto err_watcher;

	deadline_after(&deadline, o.setup_ms ?: POLICY_WATCH_SETUP_MS);
	pthread_mutex_lock(&w->t->lock);
	while (!w->t->ready && !pthread_cond_timedwait(&w->t->cond, &w->t->lock, &deadline))
		;
	err = w->t->ready ? w->t->setup_err : -ETIMEDOUT;
	pthread_mutex_unlock(&w->t->lock);
	if (err) {
		/* Stops the thread, or leaves it behind in its lookup. */
		policy_watch__free(w);
		return err;
	}
	*out = w;
	return 0;

err_watcher:
	watcher_free(w->t);
err_close:
	close(w->notify_fd);
err_free:
	free(w);
	return err;
}

void policy_watch__free(struct policy_watch *w)
{
	struct watcher *t;
	struct timespec deadline;
	bool exited;

	if (!w)
		return;
	t = w->t;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	/* From here on the thread never writes the notify fd. */
	close(w->notify_fd);
	eventfd_write(t->wake_fd, 1);

	/*
	 * A thread in poll() stops at once. One in a lookup that does not return is never
	 * waited for beyond the deadline: it is detached and frees the watcher itself.
	 */
	deadline_after(&deadline, POLICY_WATCH_STOP_MS);
	pthread_mutex_lock(&t->lock);
	while (!t->exited && !pthread_cond_timedwait(&t->cond, &t->lock, &deadline))
		;
	exited = t->exited;
	if (!exited)
		t->orphaned = true;
	pthread_mutex_unlock(&t->lock);
	if (exited) {
		/* It only returns from here: the join is immediate. */
		pthread_join(w->thread, NULL);
		watcher_free(t);
	} else {
		pthread_detach(w->thread);
	}
	free(w);
}

int policy_watch__fd(const struct policy_watch *w)
{
	return w->notify_fd;
}

bool policy_watch__polling(const struct policy_watch *w)
{
	return w->polling;
}

bool policy_watch__changed(struct policy_watch *w)
{
	eventfd_t n;

	return !eventfd_read(w->notify_fd, &n) && n;
}
