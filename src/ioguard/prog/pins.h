/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pin directory of the enforcement: where it is, what its pins are called, and
 * opening them by name. Every module that reads or writes pins (the enforcer, the
 * decision reader, the metrics collector) goes through here.
 *
 * Names are an ABI between ioguard versions (pinned_layout.h): a map is pinned under its
 * own name, the link of a program as PINS_LINK_PREFIX + the program's name, and the
 * programs are known to status and metrics only through those link pins.
 */
#ifndef IOGUARD_PINS_H
#define IOGUARD_PINS_H

#include <stddef.h>

#define PINS_DEFAULT_DIR "/sys/fs/bpf/ioguard"
#define PINS_LINK_PREFIX "link_"

/* $IOGUARD_PIN_DIR when set and not empty, else PINS_DEFAULT_DIR. Read at every call. */
const char *pins_dir(void);

/* "<pins_dir()>/@name" into @buf. Return: 0, or -ENAMETOOLONG (@buf holds a prefix). */
int pins_path(char *buf, size_t len, const char *name);

/*
 * pins_open() - bpf_obj_get() of pin @name (a map, a link, or "dir/name"). Return: an fd
 * the caller closes, or a negative errno with errno set, as bpf_obj_get() does.
 */
int pins_open(const char *name);

/* The pin name of @prog_name's link into @buf. Return: 0, or -ENAMETOOLONG. */
int pins_link_name(char *buf, size_t len, const char *prog_name);

/* The program a link pin is named after, or NULL when @pin_name is not a link pin. */
const char *pins_link_program(const char *pin_name);

/*
 * pins_for_each_link() - calls @fn for each link pin in the pin directory, in directory
 * order, with the program's name and the pin's name (for pins_open()). Stops at the
 * first @fn that returns non-zero and returns that value.
 * Return: 0 once every link was seen, @fn's value, or a negative errno when the pin
 * directory cannot be read (-ENOENT: nothing is pinned) with errno set.
 */
int pins_for_each_link(int (*fn)(void *ctx, const char *prog_name, const char *pin_name),
		       void *ctx);

#endif /* IOGUARD_PINS_H */
