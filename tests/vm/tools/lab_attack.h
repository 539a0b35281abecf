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
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

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

struct lab_type1 {
	int container, group, device;	/* -1 when not open */
};

static inline void lab_type1_close(struct lab_type1 *t)
{
	if (t->device >= 0)
		close(t->device);
	if (t->group >= 0)
		close(t->group);
	if (t->container >= 0)
		close(t->container);
	t->device = t->group = t->container = -1;
}

/*
 * A legacy VFIO user of bdf with native ioctls: container, group, TYPE1v2, device fd.
 * On failure everything opened is closed again and the step is in the report.
 */
static inline int lab_type1_open(struct lab_type1 *t, const char *bdf, struct report *r)
{
	char path[64];
	int groupnr, err = 0;

	t->container = t->group = t->device = -1;
	groupnr = lab_device_group(bdf);
	if (groupnr < 0)
		return report_fail(r, "find_group", groupnr);
	t->container = open("/dev/vfio/vfio", O_RDWR);
	if (t->container < 0) {
		err = report_fail(r, "open_container", -errno);
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", groupnr);
	t->group = open(path, O_RDWR);
	if (t->group < 0) {
		err = report_fail(r, "open_group", -errno);
		goto out;
	}
	if (ioctl(t->group, VFIO_GROUP_SET_CONTAINER, &t->container)) {
		err = report_fail(r, "set_container", -errno);
		goto out;
	}
	if (ioctl(t->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		err = report_fail(r, "set_iommu", -errno);
		goto out;
	}
	t->device = ioctl(t->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (t->device < 0)
		err = report_fail(r, "get_device_fd", -errno);
out:
	if (err)
		lab_type1_close(t);
	return err;
}

static inline int lab_type1_map(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static inline int lab_type1_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

/* Anonymous memory for DMA, or NULL. */
static inline void *lab_buffer(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif /* IOGUARD_LAB_ATTACK_H */
