/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The identity the kernel gives a file: the device of its inode's superblock and its
 * inode number, (i_sb->s_dev, i_ino), as the enforcement programs read them from
 * mm->exe_file->f_inode.
 *
 * stat()'s st_dev is not that device on every filesystem: a non-directory on an
 * overlayfs whose layers are on different filesystems (and whose inode numbers do not
 * fit xino) reports its layer's pseudo device, btrfs reports the subvolume's anonymous
 * device. /proc/self/mountinfo's MAJOR:MINOR is the mount's sb->s_dev, which is the
 * superblock every inode reached through that mount belongs to.
 */
#ifndef IOGUARD_FILE_IDENTITY_H
#define IOGUARD_FILE_IDENTITY_H

#include <linux/types.h>
#include <stddef.h>
#include <sys/types.h>

#include "output/errbuf.h"

#define FILE_IDENTITY_MOUNTINFO "/proc/self/mountinfo"

struct file_identity {
	__u32 dev;	/* i_sb->s_dev, the kernel's encoding: major << 20 | minor */
	__u64 ino;	/* i_ino: st_ino, which overlayfs keeps equal for non-directories */
	__u64 mnt_id;	/* the mount the path resolved through (mountinfo's first field) */
	mode_t mode;	/* st_mode */
};

/*
 * file_identity__resolve() - the kernel identity of the file @path names, following
 * symlinks as execve() does. The mount is looked up in @mountinfo (NULL:
 * FILE_IDENTITY_MOUNTINFO, which must be the caller's own mount namespace) while an
 * O_PATH fd pins it, so the mount id cannot be reused in between.
 * Returns 0, or a negative errno with the cause (without @path) in @eb: the errno of
 * open() (-ENOENT and -ENOTDIR only ever mean that @path names no file; -EACCES, -ELOOP,
 * ...) or
 * statx(), -ENODEV when the mount is not in @mountinfo (another mount namespace's
 * file) or @mountinfo does not exist, -EINVAL for a mountinfo line that cannot be
 * parsed, or the errno of reading @mountinfo.
 */
int file_identity__resolve(const char *path, const char *mountinfo, struct file_identity *id,
			   struct errbuf *eb);

/*
 * mountinfo_sb_dev() - the superblock device (kernel encoding) of mount @mnt_id in the
 * mountinfo file @mountinfo. Returns 0, -ENODEV when no line has that id, -EINVAL for a
 * line that cannot be parsed, or the errno of opening or reading the file.
 */
int mountinfo_sb_dev(const char *mountinfo, __u64 mnt_id, __u32 *dev);

#endif /* IOGUARD_FILE_IDENTITY_H */
