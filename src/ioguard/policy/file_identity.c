// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/errbuf.h"
#include "file_identity.h"

/* The kernel's internal dev_t (MKDEV: major << 20 | minor), as BPF reads s_dev. */
static __u32 kernel_dev(unsigned int major, unsigned int minor)
{
	return (major << 20) | (minor & 0xfffff);
}

int mountinfo_sb_dev(const char *mountinfo, __u64 mnt_id, __u32 *dev)
{
	unsigned long long id, parent;
	unsigned int major, minor;
	size_t cap = 0;
	char *line = NULL;
	FILE *f;
	int err = -ENODEV;

	f = fopen(mountinfo, "re");
	if (!f)
		return -errno;
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
		if (sscanf(line, "%llu %llu %u:%u ", &id, &parent, &major, &minor) != 4) {
			err = -EINVAL;
			goto out_free;
		}
		if (id == mnt_id) {
			*dev = kernel_dev(major, minor);
			err = 0;
			goto out_free;
		}
	}
	if (ferror(f))
		err = errno ? -errno : -EIO;
out_free:
	free(line);
	fclose(f);
	return err;
}

/* Kernels before 5.8 have no STATX_MNT_ID; fdinfo has had mnt_id since 3.15. */
static int fdinfo_mnt_id(int fd, __u64 *mnt_id)
{
	unsigned long long id;
	char path[64], line[256];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mnt_id: %llu", &id) == 1) {
			*mnt_id = id;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int file_identity__resolve(const char *path, const char *mountinfo, struct file_identity *id,
			   struct errbuf *eb)
{
	struct statx stx;
	int fd, ret = 0;

	if (!mountinfo)
		mountinfo = FILE_IDENTITY_MOUNTINFO;
	/* O_PATH needs no permission on the file itself and pins its mount until close. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errbuf_set(eb, -errno, "cannot open it: %s", strerror(errno));
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
		  STATX_TYPE | STATX_INO | STATX_MNT_ID, &stx)) {
		ret = errbuf_set(eb, -errno, "statx: %s", strerror(errno));
		goto out_close;
	}
	id->ino = stx.stx_ino;
	id->mode = stx.stx_mode;
	if (stx.stx_mask & STATX_MNT_ID) {
		id->mnt_id = stx.stx_mnt_id;
	} else {
		ret = fdinfo_mnt_id(fd, &id->mnt_id);
		if (ret) {
			errbuf_set(eb, ret, "no mount id from statx or /proc/self/fdinfo/%d: "
				   "%s", fd, strerror(-ret));
			goto out_close;
		}
	}
	ret = mountinfo_sb_dev(mountinfo, id->mnt_id, &id->dev);
	if (ret == -ENODEV) {
		errbuf_set(eb, ret, "its mount (id %llu) is not in %s",
			   (unsigned long long)id->mnt_id, mountinfo);
	} else if (ret == -EINVAL) {
		errbuf_set(eb, ret, "cannot parse %s", mountinfo);
	} else if (ret) {
		errbuf_set(eb, ret, "cannot read %s: %s", mountinfo, strerror(-ret));
		/* -ENOENT and -ENOTDIR are kept for "no such file at @path". */
		if (ret == -ENOENT || ret == -ENOTDIR)
			ret = -ENODEV;
	}
out_close:
	close(fd);
	return ret;
}
