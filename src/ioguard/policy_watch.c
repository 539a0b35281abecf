// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
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

struct policy_watch {
	const char *path;
	int fd;				/* inotify, or -1: the watch polls */
	int wd[MAX_DIRS];
	int nwd;
	int final_wd;			/* the final file's directory, or -1 */
	char final_name[NAME_MAX + 1];
	struct stat last;		/* the file's identity through the symlinks */
	struct resolution *res;		/* scratch space: too big for the stack */
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
static int resolve(const char *path, struct resolution *res)
{
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
		if (lstat(cand, &st) || !S_ISLNK(st.st_mode)) {
			memcpy(cur, cand, strlen(cand) + 1);
			continue;
		}
		if (++hops > MAX_HOPS)
			return -ELOOP;
		if (add_dir(res, cur[0] ? cur : "/") < 0)
			return -ELOOP;
		n = readlink(cand, link, sizeof(link) - 1);
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
static void rewatch(struct policy_watch *w)
{
	struct resolution *res = w->res;
	int wd[MAX_DIRS], n = 0, i, j, nw;

	w->final_wd = -1;
	if (resolve(w->path, res))
		return;
	for (i = 0; i < res->ndirs; i++) {
		nw = inotify_add_watch(w->fd, res->dirs[i], WATCH_MASK);
		/* A directory gone in a swap: its parent's event resolves again. */
		if (nw < 0)
			continue;
		if (i == res->final_dir) {
			w->final_wd = nw;
			snprintf(w->final_name, sizeof(w->final_name), "%s", res->final_name);
		}
		for (j = 0; j < n && wd[j] != nw; j++)
			;
		if (j == n)
			wd[n++] = nw;
	}
	for (i = 0; i < w->nwd; i++) {
		for (j = 0; j < n && wd[j] != w->wd[i]; j++)
			;
		/* Gone already (IN_IGNORED) when its directory was removed: EINVAL, harmless. */
		if (j == n)
			inotify_rm_watch(w->fd, w->wd[i]);
	}
	memcpy(w->wd, wd, n * sizeof(wd[0]));
	w->nwd = n;
}

/* The file's identity now differs from the last one seen; remembers the new one. */
static bool identity_changed(struct policy_watch *w)
{
	struct stat st;
	bool changed;

	if (stat(w->path, &st))
		memset(&st, 0, sizeof(st));
	changed = st.st_dev != w->last.st_dev || st.st_ino != w->last.st_ino ||
		  st.st_size != w->last.st_size ||
		  st.st_mtim.tv_sec != w->last.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != w->last.st_mtim.tv_nsec;
	w->last = st;
	return changed;
}

int policy_watch__new(const char *path, struct policy_watch **out)
{
	struct policy_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->path = path;
	w->final_wd = -1;
	identity_changed(w);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		err = -errno;
		if (err == -ENOSYS)
			goto out_ok;
		goto err_free;
	}
	w->res = malloc(sizeof(*w->res));
	if (!w->res) {
		err = -ENOMEM;
		goto err_close;
	}
	rewatch(w);
	if (!w->nwd) {
		err = -ENOENT;
		goto err_close;
	}
out_ok:
	*out = w;
	return 0;

err_close:
	close(w->fd);
err_free:
	free(w->res);
	free(w);
	return err;
}

void policy_watch__free(struct policy_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->res);
	free(w);
}

int policy_watch__fd(const struct policy_watch *w)
{
	return w->fd;
}

bool policy_watch__polling(const struct policy_watch *w)
{
	return w->fd < 0;
}

bool policy_watch__changed(struct policy_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool any = false, named = false;
	ssize_t n;
	char *p;

	if (w->fd < 0)
		return identity_changed(w);
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			any = true;
			/* Events were dropped: one of them may have been ours. */
			if (ev->mask & IN_Q_OVERFLOW)
				named = true;
			else if (ev->wd == w->final_wd && ev->len &&
				 !strcmp(ev->name, w->final_name))
				named = true;
		}
	}
	if (!any)
		return false;
	/* Any event may have moved a symlink on the way: follow it, then compare. */
	rewatch(w);
	return identity_changed(w) || named;
}
