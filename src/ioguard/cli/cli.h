/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Private header of the ioguard command-line tool: dispatch, output, shared helpers. */
#ifndef IOGUARD_CLI_H
#define IOGUARD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "output/errbuf.h"
#include "output/json_writer.h"
#include "prog/tracer.h"

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

/* Prints @msg at @level as p_err(), p_warn() or p_info() would (ERRBUF_WARN_AT as it is). */
void p_print(enum errbuf_level level, const char *msg);

/*
 * CLI_ERRBUF - a struct errbuf whose notes print at once, as p_print() does; the CLI
 * prints its @msg with p_errbuf() when the call it was passed to fails.
 */
void p_note(void *ctx, enum errbuf_level level, const char *msg);
#define CLI_ERRBUF { .note = p_note }

/* p_errbuf() - p_err() of @eb's message, when the call that failed left one. */
void p_errbuf(const struct errbuf *eb);

/*
 * p_bad_option() - report what getopt rejected and return -EINVAL. @opt is getopt's
 * return value ('?' or ':'); option strings start with ':' so a missing argument is told
 * apart from an unknown option. The message points at the --help of the command as
 * cmd_select() ran it ("policy check"), or at the top level's before any command.
 */
int p_bad_option(int opt, char **argv);
/* --json: the writer on stdout, made once; -ENOMEM, said, if it cannot be made. */
int cli_json_enable(void);
/*
 * cli_libbpf_messages() - libbpf's messages go to stderr as they are: warnings and
 * information, or what LIBBPF_LOG_LEVEL (warn, info, debug) says, and debug messages too
 * when @debug (a command's --verbose). main() calls it once before any command.
 */
void cli_libbpf_messages(bool debug);

/*
 * parse_uint_arg() - @arg as a decimal whole number in [@min, @max] into *@out; on
 * anything else, one error naming the option @what and the range, and -EINVAL.
 */
int parse_uint_arg(const char *arg, const char *what, unsigned long min, unsigned long max,
		   unsigned long *out);

/*
 * cli_parse_mode() - the argument of --mode (auto, fentry or tp_btf) into *@mode; on
 * anything else, one error listing the three, and -EINVAL.
 */
int cli_parse_mode(const char *arg, enum tracer_mode *mode);

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

#endif /* IOGUARD_CLI_H */
