/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the lab's attacker programs (tests/vm/tools/ and the 32-bit ones in
 * tests/vm/tools32/): a one-line JSON report, sysfs lookups of a device's group and VFIO
 * cdev, and dropping to another uid. Header-only so that the 32-bit programs, which are
 * built without libioasid, can use it too.
 *
 * Every helper returns a negative errno on failure. A report records the FIRST failed
 * step only: later steps usually fail as a consequence and would hide the cause.
 */
#ifndef IOGUARD_LAB_ATTACK_H
#define IOGUARD_LAB_ATTACK_H

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAB_PAGE 4096UL

struct report {
	char buf[4096];
	size_t len;
	const char *failed_step;
	int failed_errno;
};

static void report_raw(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_raw(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
}

/* Values written here never need escaping: step names, BDFs, strerror() texts. */
static inline void report_str(struct report *r, const char *key, const char *value)
{
	report_raw(r, ",\"%s\":\"%s\"", key, value);
}

static inline void report_int(struct report *r, const char *key, long long value)
{
	report_raw(r, ",\"%s\":%lld", key, value);
}

static inline void report_bool(struct report *r, const char *key, bool value)
{
	report_raw(r, ",\"%s\":%s", key, value ? "true" : "false");
}

/* An errno as a number, 0 for success: for steps whose failure is the expected result. */
static inline void report_errno(struct report *r, const char *key, int err)
{
	report_int(r, key, err < 0 ? -err : err);
}

/* Records step as the failure if it is the first one; returns err for chaining. */
static inline int report_fail(struct report *r, const char *step, int err)
{
	if (!r->failed_step && err < 0) {
		r->failed_step = step;
		r->failed_errno = -err;
	}
	return err;
}

static inline void report_print(const struct report *r, const char *tool, const char *mode)
{
	printf("{\"tool\":\"%s\",\"mode\":\"%s\",\"pid\":%d,\"uid\":%d%.*s", tool, mode,
	       (int)getpid(), (int)getuid(), (int)r->len, r->buf);
	if (r->failed_step)
		printf(",\"failed_step\":\"%s\",\"errno\":%d,\"error\":\"%s\"}\n", r->failed_step,
		       r->failed_errno, strerror(r->failed_errno));
	else
		printf(",\"failed_step\":null,\"errno\":0}\n");
	fflush(stdout);
}

/* The IOMMU group number of a PCI device, from its sysfs iommu_group link. */
static inline int lab_device_group(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *slash;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	return atoi(slash ? slash + 1 : target);
}

/* Writes /dev/vfio/devices/vfioN of a device bound to a VFIO driver into path. */
static inline int lab_cdev_path(const char *bdf, char *path, size_t size)
{
	char dirpath[PATH_MAX];
	struct dirent *d;
	int err = -ENODEV;
	DIR *dir;

	snprintf(dirpath, sizeof(dirpath), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(dirpath);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "vfio", 4))
			continue;
		snprintf(path, size, "/dev/vfio/devices/%s", d->d_name);
		err = 0;
		break;
	}
	closedir(dir);
	return err;
}

/* Drops every id (real, effective, saved, groups) to uid:uid for good. */
static inline int lab_drop_to_uid(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

#endif /* IOGUARD_LAB_ATTACK_H */
