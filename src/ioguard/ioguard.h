/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Private header of the ioguard command-line tool: dispatch, output, shared helpers. */
#ifndef IOGUARD_IOGUARD_H
#define IOGUARD_IOGUARD_H

#include <stdbool.h>
#include <stdio.h>

#include "json_writer.h"

/* Exit codes: only main() turns an error into one of these. */
#define EXIT_USAGE 2

/* Options every command sees. */
extern bool json_output;
extern const char *bin_name;
/* Writer on stdout, set while json_output is on. */
extern struct json_writer *json_wtr;

/*
 * struct cmd - one subcommand. @fn receives argv starting at the command's own name (so
 * it can run getopt) and returns 0 or a negative errno; -EINVAL means a usage error.
 */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_select(const struct cmd *cmds, int argc, char **argv, void (*help)(void));

/* Error and info messages; p_err writes {"error": ...} on stdout under --json. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum p_level { P_ERR, P_WARN, P_INFO };

/*
 * p_set_sink() - on the calling thread only, hand p_err(), p_warn() and p_info() to
 * @fn (formatted, one message a call) instead of printing them; NULL prints again. For
 * a worker thread whose messages its caller prints: stderr and the --json writer are
 * the main thread's.
 */
void p_set_sink(void (*fn)(void *ctx, enum p_level level, const char *msg), void *ctx);

/* Prints @msg at @level as p_err(), p_warn() or p_info() would. */
void p_print(enum p_level level, const char *msg);

/*
 * format_error() - for modules that report into a caller's buffer: formats the message
 * into @buf (when @buf and @len are set) and returns @err, a negative errno.
 */
int format_error(int err, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * p_bad_option() - report what getopt rejected and return -EINVAL. @opt is getopt's
 * return value ('?' or ':'); option strings start with ':' so a missing argument is told
 * apart from an unknown option.
 */
int p_bad_option(int opt, char **argv);

/*
 * parse_uint_arg() - @arg as a decimal whole number in [@min, @max] into *@out; on
 * anything else, one error naming the option @what and the range, and -EINVAL.
 */
int parse_uint_arg(const char *arg, const char *what, unsigned long min, unsigned long max,
		   unsigned long *out);

/* Checks shared by every command that loads BPF programs; negative errno on failure. */
int bpf_environment_check(void);

int do_doctor(int argc, char **argv);
int do_trace(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_load(int argc, char **argv);
int do_unload(int argc, char **argv);
int do_status(int argc, char **argv);
int do_groups(int argc, char **argv);
int do_plan(int argc, char **argv);
int do_metrics(int argc, char **argv);
int do_run(int argc, char **argv);

#endif /* IOGUARD_IOGUARD_H */
