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
 * reloader then finds unchanged.
 *
 * Without inotify (CONFIG_INOTIFY_USER=n), policy_watch__changed() compares that
 * identity each time it is called.
 */
#ifndef IOGUARD_POLICY_WATCH_H
#define IOGUARD_POLICY_WATCH_H

#include <stdbool.h>

struct policy_watch;

/*
 * policy_watch__new() - watch @path (kept by pointer).
 * Return: 0, or a negative errno (inotify could not be set up; ENOSYS never: then the
 * watch polls and policy_watch__polling() says so).
 */
int policy_watch__new(const char *path, struct policy_watch **out);
/* Accepts NULL. */
void policy_watch__free(struct policy_watch *w);

/* The fd to poll for POLLIN, or -1 when the watch polls (call __changed() every tick). */
int policy_watch__fd(const struct policy_watch *w);
bool policy_watch__polling(const struct policy_watch *w);

/*
 * policy_watch__changed() - read what happened since the last call (never blocks) and
 * say whether the file may have changed.
 */
bool policy_watch__changed(struct policy_watch *w);

#endif /* IOGUARD_POLICY_WATCH_H */
