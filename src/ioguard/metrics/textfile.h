/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Atomic replacement of a file, for node_exporter's textfile collector: the collector may
 * read the file at any moment, so it must only ever see the old text or the new one.
 */
#ifndef IOGUARD_TEXTFILE_H
#define IOGUARD_TEXTFILE_H

#include <stddef.h>

#include "output/errbuf.h"

/**
 * textfile_write() - replace @path with @len bytes of @data, atomically
 * @path:   the file; its directory must exist.
 * @data:   the new content.
 * @len:    its length.
 * @eb:     on failure, what failed on what and why ("cannot write /x/y.prom: directory /x
 *          is not writable: Permission denied"); may be NULL.
 *
 * Writes a temporary file ".NAME.tmp-PID-N" in the same directory (created with
 * O_CREAT|O_EXCL, mode 0644 whatever the umask; node_exporter ignores names not ending
 * in .prom), fsyncs it, renames it over @path and fsyncs the directory. On any failure
 * the temporary file is removed and @path is left as it was.
 *
 * Return: 0 or a negative errno.
 */
int textfile_write(const char *path, const void *data, size_t len, struct errbuf *eb);

#endif /* IOGUARD_TEXTFILE_H */
