// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The (s_dev, i_ino) the kernel gives a file. The oracle is the kernel itself: a lock's
 * line in /proc/self/fdinfo/FD shows MAJOR:MINOR:INODE of file_inode(file)->i_sb->s_dev
 * and ->i_ino, which is what the enforcement programs read from mm->exe_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/file_identity.h"

/* Returns 0 with the kernel's (s_dev, i_ino) of @path, or a negative errno. */
static int _kernel_identity(const char *path, __u32 *dev, __u64 *ino)
{
	unsigned int major, minor;
	unsigned long long i;
	char fdinfo[64], line[512];
	FILE *f;
	int fd, err = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_SH | LOCK_NB)) {
		err = -errno;
		goto out_close;
	}
	snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", fd);
	f = fopen(fdinfo, "re");
	if (!f) {
		err = -errno;
		goto out_close;
	}
	/* "lock:	1: FLOCK  ADVISORY  READ 239 00:1a:496115 0 EOF" */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "lock:", 5) ||
		    sscanf(line, "lock: %*d: %*s %*s %*s %*d %x:%x:%llu", &major, &minor, &i) != 3)
			continue;
		*dev = (major << 20) | minor;
		*ino = i;
		err = 0;
		break;
	}
	fclose(f);
out_close:
	close(fd);
	return err;
}

static void resolve(const char *path, const char *mountinfo, struct file_identity *id)
{
	struct errbuf eb = { .note = NULL };

	if (file_identity__resolve(path, mountinfo, id, &eb))
		fail_msg("%s: %s", path, eb.msg);
}

static void resolve_err(int want, const char *path, const char *mountinfo, const char *msg)
{
	struct errbuf eb = { .note = NULL };
	struct file_identity id;

	assert_int_equal(file_identity__resolve(path, mountinfo, &id, &eb), want);
	if (!strstr(eb.msg, msg))
		fail_msg("%s: message '%s' lacks '%s'", path, eb.msg, msg);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_file_identity-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Whatever the filesystem (ext4, tmpfs, overlayfs, btrfs), what the kernel holds. */
static void test_matches_the_kernel(void **state)
{
	const char *paths[] = { "/bin/sh", "/proc/self/exe", "/etc/passwd", "/dev/null" };
	char *tmp = write_temp("x");
	struct file_identity id;
	__u64 ino;
	__u32 dev;
	size_t i;
	int checked = 0;

	for (i = 0; i <= sizeof(paths) / sizeof(paths[0]); i++) {
		const char *p = i < sizeof(paths) / sizeof(paths[0]) ? paths[i] : tmp;

		if (_kernel_identity(p, &dev, &ino))
			continue;	/* no lock on this filesystem: nothing to compare with */
		resolve(p, NULL, &id);
		if (id.dev != dev || id.ino != ino)
			fail_msg("%s: resolved %u:%u:%llu, the kernel has %u:%u:%llu", p,
				 id.dev >> 20, id.dev & 0xfffff, (unsigned long long)id.ino,
				 dev >> 20, dev & 0xfffff, (unsigned long long)ino);
		checked++;
	}
	unlink(tmp);
	free(tmp);
	if (!checked)
		skip();
}

/*
 * The lab's case: a file of the lower layer of an overlayfs whose layers are two
 * filesystems, without xino. stat() gives the layer's pseudo device, the kernel's inode
 * is the overlay's. Needs a private mount namespace (root, or CAP_SYS_ADMIN).
 */
static void test_overlay_lower_file(void **state)
{
	char root[] = "/tmp/test_file_identity-ovl-XXXXXX", lower[128], upper[128], merged[128];
	char dir[160], file[192], opts[512];
	struct file_identity id;
	struct stat st;
	__u64 ino;
	__u32 dev;
	int fd;

	assert_non_null(mkdtemp(root));
	if (unshare(CLONE_NEWNS) || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL)) {
		rmdir(root);
		print_message("SKIP: no private mount namespace: %s\n", strerror(errno));
		skip();
	}
	snprintf(lower, sizeof(lower), "%s/lower", root);
	snprintf(upper, sizeof(upper), "%s/upper", root);
	snprintf(merged, sizeof(merged), "%s/merged", root);
	assert_int_equal(mkdir(lower, 0755), 0);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(merged, 0755), 0);
	/* Two tmpfs instances: two superblocks, so the overlay is not "samefs". */
	assert_int_equal(mount("tmpfs", lower, "tmpfs", 0, NULL), 0);
	assert_int_equal(mount("tmpfs", upper, "tmpfs", 0, NULL), 0);
	snprintf(dir, sizeof(dir), "%s/u", upper);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/w", upper);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/vmm", lower);
	fd = open(file, O_CREAT | O_WRONLY, 0755);
	assert_true(fd >= 0);
	close(fd);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w,xino=off", lower,
		 upper, upper);
	if (mount("overlay", merged, "overlay", 0, opts)) {
		print_message("SKIP: cannot mount an overlay: %s\n", strerror(errno));
		umount(upper);
		umount(lower);
		rmdir(merged);
		rmdir(upper);
		rmdir(lower);
		rmdir(root);
		skip();
	}
	snprintf(file, sizeof(file), "%s/vmm", merged);
	resolve(file, NULL, &id);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(_kernel_identity(file, &dev, &ino), 0);
	/* The case this module exists for: stat()'s device is not the inode's. */
	assert_int_not_equal(((major(st.st_dev) << 20) | minor(st.st_dev)), dev);
	assert_int_equal(id.dev, dev);
	assert_int_equal(id.ino, ino);
	assert_int_equal(id.ino, st.st_ino);
	umount(merged);
	umount(upper);
	umount(lower);
	rmdir(merged);
	rmdir(upper);
	rmdir(lower);
	rmdir(root);
}

static void test_follows_symlinks_as_exec_does(void **state)
{
	char *target = write_temp("#!/bin/sh\n"), link[64];
	struct file_identity a, b;

	snprintf(link, sizeof(link), "%s.link", target);
	assert_int_equal(symlink(target, link), 0);
	resolve(target, NULL, &a);
	resolve(link, NULL, &b);
	assert_int_equal(a.dev, b.dev);
	assert_int_equal(a.ino, b.ino);
	assert_true(S_ISREG(b.mode));
	unlink(link);
	unlink(target);
	free(target);
}

static const char mountinfo_text[] =
	"22 1 0:21 / / rw,relatime shared:1 - btrfs /dev/vda2 rw,subvol=/@\n"
	"31 22 0:26 / /merged rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
	"4096 31 259:3 /sub /merged/mnt\\040with\\040space rw - ext4 /dev/nvme0n1p3 rw\n";

static void test_mountinfo_sb_dev(void **state)
{
	char *mi = write_temp(mountinfo_text);
	__u32 dev = 0;

	assert_int_equal(mountinfo_sb_dev(mi, 22, &dev), 0);
	assert_int_equal(dev, 21);
	assert_int_equal(mountinfo_sb_dev(mi, 31, &dev), 0);
	assert_int_equal(dev, 26);
	/* The kernel's encoding, not glibc's: major << 20 | minor. */
	assert_int_equal(mountinfo_sb_dev(mi, 4096, &dev), 0);
	assert_int_equal(dev, (259u << 20) | 3);
	assert_int_equal(mountinfo_sb_dev(mi, 2, &dev), -ENODEV);
	assert_int_equal(mountinfo_sb_dev("/nonexistent/mountinfo", 22, &dev), -ENOENT);
	unlink(mi);
	free(mi);
}

static void test_errors_say_what_and_why(void **state)
{
	char *bad = write_temp("22 1 0:21 / / rw - ext4 /dev/vda rw\nnot a mountinfo line\n");
	char *empty = write_temp("");

	resolve_err(-ENOENT, "/no/such/exe", NULL, "cannot open it: No such file or directory");
	resolve_err(-ENOTDIR, "/bin/sh/x", NULL, "cannot open it: Not a directory");
	/* The file exists, its mount is unknown: not ENOENT, which would read "missing". */
	resolve_err(-ENODEV, "/bin/sh", empty, "its mount (id ");
	resolve_err(-ENODEV, "/bin/sh", empty, ") is not in /tmp/test_file_identity-");
	resolve_err(-EINVAL, "/bin/sh", bad, "cannot parse /tmp/test_file_identity-");
	resolve_err(-ENODEV, "/bin/sh", "/nonexistent/mountinfo",
		    "cannot read /nonexistent/mountinfo: No such file or directory");
	unlink(bad);
	unlink(empty);
	free(bad);
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_the_kernel),
		cmocka_unit_test(test_overlay_lower_file),
		cmocka_unit_test(test_follows_symlinks_as_exec_does),
		cmocka_unit_test(test_mountinfo_sb_dev),
		cmocka_unit_test(test_errors_say_what_and_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
