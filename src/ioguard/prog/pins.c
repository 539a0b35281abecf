// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "pins.h"

const char *pins_dir(void)
{
	const char *dir = getenv("IOGUARD_PIN_DIR");

	return dir && *dir ? dir : PINS_DEFAULT_DIR;
}

int pins_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", pins_dir(), name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pins_open(const char *name)
{
	char path[4096];

	if (pins_path(path, sizeof(path), name)) {
		errno = ENAMETOOLONG;
		return -ENAMETOOLONG;
	}
	return bpf_obj_get(path);
}

int pins_link_name(char *buf, size_t len, const char *prog_name)
{
	int n = snprintf(buf, len, PINS_LINK_PREFIX "%s", prog_name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *pins_link_program(const char *pin_name)
{
	size_t prefix = strlen(PINS_LINK_PREFIX);

	return strncmp(pin_name, PINS_LINK_PREFIX, prefix) ? NULL : pin_name + prefix;
}

int pins_for_each_link(int (*fn)(void *ctx, const char *prog_name, const char *pin_name),
		       void *ctx)
{
	const char *prog;
	struct dirent *d;
	int ret = 0, saved;
	DIR *dir;

	dir = opendir(pins_dir());
	if (!dir)
		return -errno;
	while (!ret && (d = readdir(dir))) {
		prog = pins_link_program(d->d_name);
		if (prog)
			ret = fn(ctx, prog, d->d_name);
	}
	saved = errno;
	closedir(dir);
	errno = saved;
	return ret;
}
