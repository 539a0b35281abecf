// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "topology_watch.h"

/* A uevent: "ACTION@DEVPATH", then NUL-separated KEY=VALUE pairs. */
#define UEVENT_BUF 8192
/* The kernel's uevents are multicast to group 1 (lib/kobject_uevent.c). */
#define UEVENT_KERNEL_GROUP 1

struct topology_watch {
	pthread_t thread;
	bool started;
	int notify_fd;			/* eventfd: changes or a note wait */
	int stop_fd;			/* eventfd: the thread must stop */
	int uevent_fd;			/* -1: rescans alone */
	char *root;

	/* The thread's own */
	struct topology_record last;

	/* Under @lock */
	pthread_mutex_t lock;
	struct topology_change *queue;
	size_t n_queued, cap;
	char note[256];
};

int topology_watch__fd(const struct topology_watch *w)
{
	return w->notify_fd;
}

bool topology_watch__uevents(const struct topology_watch *w)
{
	return w->uevent_fd >= 0;
}

static void notify(struct topology_watch *w)
{
	uint64_t one = 1;

	if (write(w->notify_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will look. */
	}
}

static void set_note(struct topology_watch *w, const char *fmt, const char *cause)
{
	pthread_mutex_lock(&w->lock);
	snprintf(w->note, sizeof(w->note), fmt, cause);
	pthread_mutex_unlock(&w->lock);
	notify(w);
}

/* Rereads the groups and queues what changed since the last read. */
static void rescan(struct topology_watch *w)
{
	struct topology_record now = { 0 };
	struct topology_change *changes = NULL, *grown;
	int n, err;

	err = topology_record__read(w->root, &now);
	if (err) {
		set_note(w, "cannot reread the IOMMU groups: %s", strerror(-err));
		return;
	}
	n = topology_record__diff(&w->last, &now, NULL, &changes);
	if (n < 0) {
		topology_record__fini(&now);
		set_note(w, "cannot compare the IOMMU groups: %s", strerror(-n));
		return;
	}
	topology_record__fini(&w->last);
	w->last = now;
	if (!n)
		goto out;
	pthread_mutex_lock(&w->lock);
	if (w->n_queued + (size_t)n > w->cap) {
		grown = realloc(w->queue, (w->n_queued + (size_t)n) * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&w->lock);
			set_note(w, "%s: topology changes were lost", strerror(ENOMEM));
			goto out;
		}
		w->queue = grown;
		w->cap = w->n_queued + (size_t)n;
	}
	memcpy(w->queue + w->n_queued, changes, (size_t)n * sizeof(*changes));
	w->n_queued += (size_t)n;
	pthread_mutex_unlock(&w->lock);
	notify(w);
out:
	free(changes);
}

/* Whether one uevent may change a group: a bus device added, removed, bound or unbound. */
static bool uevent_relevant(const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;
	bool action = false, bus = false;

	while (p < end) {
		size_t n = strnlen(p, (size_t)(end - p));

		if (!strcmp(p, "ACTION=add") || !strcmp(p, "ACTION=remove") ||
		    !strcmp(p, "ACTION=bind") || !strcmp(p, "ACTION=unbind"))
			action = true;
		else if (!strcmp(p, "SUBSYSTEM=pci") || !strcmp(p, "SUBSYSTEM=platform"))
			bus = true;
		p += n + 1;
	}
	return action && bus;
}

/*
 * Drains the socket; true when one of the uevents calls for a rescan. Only the kernel's
 * (sender port 0) count: another process could multicast too, and must not make us
 * believe anything (it could only make us reread sysfs, but still).
 */
static bool read_uevents(struct topology_watch *w)
{
	char buf[UEVENT_BUF + 1];
	struct sockaddr_nl from;
	bool relevant = false;
	struct iovec iov = { .iov_base = buf, .iov_len = UEVENT_BUF };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from),
			      .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		msg.msg_namelen = sizeof(from);
		n = recvmsg(w->uevent_fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* The kernel dropped some: what they said, a rescan finds. */
				relevant = true;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				set_note(w, "reading kernel uevents failed: %s", strerror(errno));
			break;
		}
		if (from.nl_pid != 0)
			continue;
		buf[n] = '\0';
		relevant |= uevent_relevant(buf, (size_t)n);
	}
	return relevant;
}

static void *watch_thread(void *arg)
{
	struct topology_watch *w = arg;
	struct pollfd fds[2] = {
		{ .fd = w->stop_fd, .events = POLLIN },
		{ .fd = w->uevent_fd, .events = POLLIN },
	};
	int n;

	for (;;) {
		n = poll(fds, w->uevent_fd >= 0 ? 2 : 1, TOPOLOGY_WATCH_RESCAN_MS);
		if (n < 0 && errno != EINTR) {
			set_note(w, "the topology watch stopped: poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && fds[0].revents)
			break;
		if (!n || (n > 0 && fds[1].revents && read_uevents(w)))
			rescan(w);
	}
	return NULL;
}

static int open_uevents(char *note, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = UEVENT_KERNEL_GROUP };
	int fd, size = 1 << 20, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0) {
		err = -errno;
		snprintf(note, len, "cannot open a NETLINK_KOBJECT_UEVENT socket: %s",
			 strerror(errno));
		return err;
	}
	/* Bursts (a driver bound to many devices) should not overflow; ENOBUFS is handled. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		snprintf(note, len, "cannot listen to kernel uevents: %s", strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

int topology_watch__new(const char *root, struct topology_watch **out, char *note,
			size_t note_len)
{
	struct topology_watch *w;
	int err;

	*out = NULL;
	note[0] = '\0';
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->notify_fd = w->stop_fd = w->uevent_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->root = root ? strdup(root) : NULL;
	w->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if ((root && !w->root) || w->notify_fd < 0 || w->stop_fd < 0) {
		err = w->notify_fd < 0 || w->stop_fd < 0 ? -errno : -ENOMEM;
		snprintf(note, note_len, "cannot set up the topology watch: %s", strerror(-err));
		goto err_free;
	}
	/* Opened before the first read: a change between the two is seen. */
	w->uevent_fd = open_uevents(note, note_len);
	if (w->uevent_fd < 0)
		w->uevent_fd = -1;	/* rescans alone; @note says why */
	err = topology_record__read(root, &w->last);
	if (err) {
		snprintf(note, note_len, "cannot read the IOMMU groups: %s", strerror(-err));
		goto err_free;
	}
	err = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (err) {
		snprintf(note, note_len, "cannot start the topology watch: %s", strerror(-err));
		goto err_free;
	}
	w->started = true;
	*out = w;
	return 0;
err_free:
	topology_watch__free(w);
	return err;
}

size_t topology_watch__take(struct topology_watch *w, struct topology_change **changes,
			    char *note, size_t note_len)
{
	uint64_t count;
	size_t n;

	if (read(w->notify_fd, &count, sizeof(count)) < 0) {
		/* EAGAIN: nothing new; the queue is read anyway. */
	}
	pthread_mutex_lock(&w->lock);
	*changes = w->queue;
	n = w->n_queued;
	w->queue = NULL;
	w->n_queued = w->cap = 0;
	snprintf(note, note_len, "%s", w->note);
	w->note[0] = '\0';
	pthread_mutex_unlock(&w->lock);
	return n;
}

void topology_watch__free(struct topology_watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (w->started) {
		if (write(w->stop_fd, &one, sizeof(one)) < 0) {
			/* an eventfd write of 1 cannot fail here */
		}
		pthread_join(w->thread, NULL);
	}
	if (w->uevent_fd >= 0)
		close(w->uevent_fd);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	if (w->notify_fd >= 0)
		close(w->notify_fd);
	topology_record__fini(&w->last);
	free(w->queue);
	free(w->root);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
