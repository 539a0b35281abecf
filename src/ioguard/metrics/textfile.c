// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/errbuf.h"
#include "textfile.h"

#define TMP_ATTEMPTS 100

/* Splits @path into its directory (into @dir) and its last component; NULL if too long. */
static const char *split_path(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, size, ".");
		return path;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return NULL;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return slash + 1;
}

/* Why the temporary file could not be created in @dir, in words. */
static int fail_create(int err, struct errbuf *eb, const char *path, const char *dir)
{
	struct stat st;

	switch (-err) {
	case EACCES:
	case EPERM:
	case EROFS:
		return errbuf_set(eb, err, "cannot write %s: directory %s is not writable: %s",
				  path, dir, strerror(-err));
	case ENOENT:
		/* /proc says ENOENT for a file it will not create in a directory that exists. */
		if (stat(dir, &st))
			return errbuf_set(eb, err, "cannot write %s: directory %s does not exist",
					  path, dir);
		break;
	case ENOTDIR:
		if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
			return errbuf_set(eb, err, "cannot write %s: %s is not a directory", path,
					  dir);
		/* A component further up is not a directory. */
		break;
	}
	return errbuf_set(eb, err, "cannot write %s: cannot create a file in directory %s: %s",
			  path, dir, strerror(-err));
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int textfile_write(const char *path, const void *data, size_t len, struct errbuf *eb)
{
	static unsigned int seq;
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	int fd = -1, dfd, err, i;

	base = split_path(path, dir, sizeof(dir));
	if (!base)
		return errbuf_set(eb, -ENAMETOOLONG, "cannot write %s: %s", path,
				  strerror(ENAMETOOLONG));
	if (!*base)
		return errbuf_set(eb, -EISDIR, "cannot write %s: the path names a "
				  "directory, not a file", path);

	for (i = 0; i < TMP_ATTEMPTS; i++) {
		if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%d-%u", dir, base, (int)getpid(),
			     __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED)) >= (int)sizeof(tmp))
			return errbuf_set(eb, -ENAMETOOLONG, "cannot write %s: %s", path,
					  strerror(ENAMETOOLONG));
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return fail_create(-errno, eb, path, dir);

	/* The umask may have taken bits away; node_exporter runs as another user. */
	if (fchmod(fd, 0644)) {
		err = errbuf_set(eb, -errno, "cannot write %s: chmod %s: %s", path, tmp,
				 strerror(errno));
		goto err_unlink;
	}
	err = write_all(fd, data, len);
	if (err) {
		errbuf_set(eb, err, "cannot write %s: writing %s: %s", path, tmp, strerror(-err));
		goto err_unlink;
	}
	if (fsync(fd)) {
		err = errbuf_set(eb, -errno, "cannot write %s: fsync %s: %s", path, tmp,
				 strerror(errno));
		goto err_unlink;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (err) {
		errbuf_set(eb, err, "cannot write %s: closing %s: %s", path, tmp, strerror(-err));
		goto err_unlink;
	}
	if (rename(tmp, path)) {
		err = -errno;
		if (err == -EISDIR || err == -ENOTEMPTY || err == -EEXIST) {
			err = -EISDIR;
			errbuf_set(eb, err, "cannot write %s: it is a directory", path);
		} else {
			errbuf_set(eb, err, "cannot write %s: renaming %s over it: %s", path, tmp,
				   strerror(-err));
		}
		goto err_unlink;
	}
	/* Make the rename itself durable; the new content is in place either way. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;

err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}
