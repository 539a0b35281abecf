// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "output/array_size.h"
#include "prog/bpf_probe.h"
#include "cli.h"

bool json_output;
const char *bin_name = "ioguard";
struct json_writer *json_wtr;

void p_print(enum errbuf_level level, const char *msg)
{
	static const char *const prefix[] = {
		[ERRBUF_ERR] = "error: ", [ERRBUF_WARN] = "warning: ", [ERRBUF_INFO] = "",
	};

	if (level == ERRBUF_WARN_AT) {
		fprintf(stderr, "%s\n", msg);
	} else if (level == ERRBUF_ERR && json_output && json_wtr) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "error", msg);
		jsonw_end_object(json_wtr);
	} else {
		fprintf(stderr, "%s: %s%s\n", bin_name, prefix[level], msg);
	}
}

/* The most detailed level of libbpf's messages that is printed. */
static enum libbpf_print_level libbpf_shown = LIBBPF_INFO;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > libbpf_shown)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cli_libbpf_messages(bool debug)
{
	/* As libbpf's own printer: LIBBPF_LOG_LEVEL=warn|info|debug, info by default. */
	const char *env = getenv("LIBBPF_LOG_LEVEL");

	libbpf_shown = LIBBPF_INFO;
	if (env && !strcasecmp(env, "warn"))
		libbpf_shown = LIBBPF_WARN;
	else if (env && !strcasecmp(env, "debug"))
		libbpf_shown = LIBBPF_DEBUG;
	if (debug)
		libbpf_shown = LIBBPF_DEBUG;
	libbpf_set_print(print_libbpf);
}

int cli_json_enable(void)
{
	if (!json_wtr) {
		json_wtr = jsonw_new(stdout);
		if (!json_wtr) {
			p_err("cannot allocate the JSON writer: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
	}
	json_output = true;
	return 0;
}

/* Messages are one line; a path or a policy error with its position fits in this. */
static void vmessage(enum errbuf_level level, const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	p_print(level, buf);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ERRBUF_ERR, fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ERRBUF_WARN, fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(ERRBUF_INFO, fmt, ap);
	va_end(ap);
}

/* The words of the command being run, as "policy check": what its --help is asked of. */
static char cmd_words[64];

int cmd_select(const struct cmd *cmds, int argc, char **argv, void (*help)(void))
{
	const struct cmd *c;
	size_t n;

	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "-h")) {
		help();
		return argc < 1 ? -EINVAL : 0;
	}
	for (c = cmds; c->name; c++) {
		if (!strcmp(argv[0], c->name)) {
			/*
			 * Full getopt re-initialisation for the command's own options; commands
			 * report bad options themselves through p_bad_option().
			 */
			optind = 0;
			opterr = 0;
			n = strlen(cmd_words);
			snprintf(cmd_words + n, sizeof(cmd_words) - n, "%s%s", n ? " " : "",
				 c->name);
			return c->fn(argc, argv);
		}
	}
	p_err("unknown command '%s'; '%s help' lists the commands", argv[0], bin_name);
	return -EINVAL;
}

void p_note(void *ctx, enum errbuf_level level, const char *msg)
{
	p_print(level, msg);
}

void p_errbuf(const struct errbuf *eb)
{
	if (eb->msg[0])
		p_err("%s", eb->msg);
}

int p_bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1], *sep = cmd_words[0] ? " " : "";

	if (opt == ':')
		p_err("option '%s' needs an argument; see '%s%s%s --help'", arg, bin_name, sep,
		      cmd_words);
	else
		p_err("unknown option '%s'; see '%s%s%s --help'", arg, bin_name, sep, cmd_words);
	return -EINVAL;
}

int parse_uint_arg(const char *arg, const char *what, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		p_err("invalid %s '%s': expected a whole number from %lu to %lu", what, arg, min,
		      max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cli_parse_mode(const char *arg, enum tracer_mode *mode)
{
	static const struct {
		const char *name;
		enum tracer_mode mode;
	} modes[] = {
		{ "auto", TRACER_MODE_AUTO },
		{ "fentry", TRACER_MODE_FENTRY },
		{ "tp_btf", TRACER_MODE_TP_BTF },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (!strcmp(arg, modes[i].name)) {
			*mode = modes[i].mode;
			return 0;
		}
	}
	p_err("invalid --mode '%s': expected auto, fentry or tp_btf", arg);
	return -EINVAL;
}

int bpf_environment_check(void)
{
	struct errbuf eb = CLI_ERRBUF;
	int err;

	err = bpf_probe_environment(&eb);
	if (err)
		p_errbuf(&eb);
	return err;
}
