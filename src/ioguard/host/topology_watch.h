/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The daemon's watch on the IOMMU topology: a thread that rereads the groups
 * (topology_record.h) when the kernel announces a device added, removed, bound or
 * unbound (a NETLINK_KOBJECT_UEVENT of the pci or platform bus), and every
 * TOPOLOGY_WATCH_RESCAN_MS in any case, so an event the socket dropped (ENOBUFS) is
 * late, not lost. Changes from one read to the next are queued and the watch's eventfd
 * made readable; the daemon's loop takes them without ever touching sysfs itself.
 *
 * The thread shares only the queue and the notes, under the watch's own lock, never held
 * with another.
 */
#ifndef IOGUARD_TOPOLOGY_WATCH_H
#define IOGUARD_TOPOLOGY_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "topology_record.h"

#define TOPOLOGY_WATCH_RESCAN_MS 10000

struct topology_watch;

/*
 * topology_watch__new() - read the groups under @root (NULL: the live /sys) and start
 * watching. Without a uevent socket (a kernel without CONFIG_NET, a seccomp filter) the
 * watch runs on rescans alone: topology_watch__uevents() says so, and @note says why.
 * Returns 0 and *@out, or a negative errno with the cause in @note.
 */
int topology_watch__new(const char *root, struct topology_watch **out, char *note,
			size_t note_len);

/* Readable when changes or a note wait; topology_watch__take() empties it. */
int topology_watch__fd(const struct topology_watch *w);

/* The kernel's uevents drive the watch (else rescans alone). */
bool topology_watch__uevents(const struct topology_watch *w);

/*
 * topology_watch__take() - the changes queued since the last call, oldest first, into
 * *@changes (free(); NULL when none), and a note of a failure the thread met (a rescan
 * that could not read sysfs, dropped uevents), "" when none. Returns the number of
 * changes.
 */
size_t topology_watch__take(struct topology_watch *w, struct topology_change **changes,
			    char *note, size_t note_len);

/* Stops the thread and frees the watch. Accepts NULL. */
void topology_watch__free(struct topology_watch *w);

#endif /* IOGUARD_TOPOLOGY_WATCH_H */
