/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Noticing that the daemon's policy file changed, whatever way it was changed: written
 * in place, replaced by a rename (editors, config managers, `ln -sf`), a symlink's
 * target edited in another directory, or a Kubernetes ConfigMap update, where
 * `dir/policy.yaml -> ..data/policy.yaml`, `..data -> ..2026_12_02_...` and an update
 * renames a new `..data_tmp` symlink over `..data`.
 *
 * With inotify, the path is resolved one component at a time and every directory that
 * holds a symlink on the way, and the directory of the final file, is watched (never
 * the file: a rename replaces its inode). After any event the path is resolved again,
 * the watches follow the new resolution, and the file counts as changed when an event
 * named it in its directory or its identity (device, inode, size, mtime, through the
 * symlinks) differs. A false alarm costs one read and hash of the file, which the
 * reloader then finds unchanged. Without inotify (CONFIG_INOTIFY_USER=n) the identity is
 * compared every POLICY_WATCH_INTERVAL_MS instead.
 *
 * Every one of those steps looks up the path (lstat, readlink, stat, inotify_add_watch),
 * and on a file system that stops answering (an NFS hard mount, a hung FUSE server) a
 * lookup blocks in the kernel for as long as the server stays away. So all of them run
 * on the watch's own thread, and the caller's side of the watch never touches the path:
 * it only reads an eventfd that the thread makes readable when the file may have
 * changed. A stuck thread delays the notice of a change, never its caller.
 */
#ifndef IOGUARD_POLICY_WATCH_H
#define IOGUARD_POLICY_WATCH_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* How often the identity is compared without inotify. */
#define POLICY_WATCH_INTERVAL_MS 200
/* How long policy_watch__new() waits for the first resolution of the path. */
#define POLICY_WATCH_SETUP_MS 10000
/*
 * How long policy_watch__free() waits for the thread to stop. A thread that is not
 * stuck in a lookup stops at once; a stuck one is left behind after this.
 */
#define POLICY_WATCH_STOP_MS 100

struct policy_watch;

/*
 * struct policy_watch_opts - zero fields are defaults.
 * @sz:          sizeof(struct policy_watch_opts)
 * @polling:     compare the identity every @interval_ms even where inotify works, as
 *               the watch does on a kernel without it
 * @interval_ms: 0: POLICY_WATCH_INTERVAL_MS
 * @setup_ms:    0: POLICY_WATCH_SETUP_MS
 * @stat, @lstat, @readlink: how the thread looks the path up; NULL: the system calls.
 *               Tests pass ones that block, as a lookup on a hung file system does.
 */
struct policy_watch_opts {
	size_t sz;
	bool polling;
	unsigned int interval_ms;
	unsigned int setup_ms;
	int (*stat)(const char *path, struct stat *st);
	int (*lstat)(const char *path, struct stat *st);
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
};

/*
 * policy_watch__new() - watch @path (copied) on a new thread; @opts may be NULL. Waits
 * for the thread's first resolution of the path, up to @opts->setup_ms: a change after
 * a successful return is noticed.
 * Return: 0, or a negative errno: -ETIMEDOUT when the first resolution did not finish
 * in time (the thread is left behind, as by policy_watch__free()), -ENOENT when no
 * directory on the way could be watched, another one when inotify or the thread could
 * not be set up. Never -ENOSYS: without inotify the watch polls, and
 * policy_watch__polling() says so.
 */
int policy_watch__new(const char *path, const struct policy_watch_opts *opts,
		      struct policy_watch **out);

/*
 * policy_watch__free() - stop watching; accepts NULL. Waits up to POLICY_WATCH_STOP_MS
 * for the thread; a thread stuck in a lookup is left behind, and frees what it holds
 * (the inotify fd, its copy of the path) whenever the kernel lets the lookup return.
 * It never writes to the fd of policy_watch__fd() again: that is closed on return.
 */
void policy_watch__free(struct policy_watch *w);

/* An eventfd, readable when the file may have changed; for poll(). */
int policy_watch__fd(const struct policy_watch *w);
/* Whether the watch compares the identity every interval instead of using inotify. */
bool policy_watch__polling(const struct policy_watch *w);

/*
 * policy_watch__changed() - whether the file may have changed since the last call.
 * Reads the fd only: never blocks, never looks at the path.
 */
bool policy_watch__changed(struct policy_watch *w);

#endif /* IOGUARD_POLICY_WATCH_H */
