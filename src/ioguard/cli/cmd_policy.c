// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioguard policy check FILE [--sysfs DIR] [--no-owner-check]
 *
 * Parses and validates a policy file (src/ioguard/policy/policy.c) and prints one line:
 * "FILE: ok (policy NAME, N tenants, mode M)", or the first error as
 * "FILE:LINE:COLUMN: error: CAUSE" on stderr, the form compilers use, so editors and
 * CI logs can jump to it. Exit status 0 only for a policy that loads.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_topology.h"

static void policy_usage(void)
{
	fprintf(stderr,
		"Usage: %1$s policy check FILE [--sysfs DIR] [--no-owner-check]\n"
		"       %1$s policy help\n\n"
		"  check              parse and validate a policy file (docs/policy.md)\n"
		"  --sysfs DIR        check against the topology of a sysfs snapshot rooted at DIR\n"
		"                     instead of the live /sys\n"
		"  --no-owner-check   do not require FILE to be owned by root and not writable by\n"
		"                     group or others (for policy files in a source tree)\n"
		"  -h, --help         this text\n",
		bin_name);
}

static void print_error(const char *path, const struct policy_error *perr)
{
	if (!json_output) {
		/* Not p_err(): the compiler form has no "ioguard: " in front. */
		fprintf(stderr, "%s\n", perr->msg);
		return;
	}
	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "file", path);
	jsonw_bool_field(json_wtr, "ok", false);
	if (perr->line) {
		jsonw_uint_field(json_wtr, "line", perr->line);
		jsonw_uint_field(json_wtr, "column", perr->column);
	}
	jsonw_string_field(json_wtr, "error", perr->cause);
	jsonw_end_object(json_wtr);
}

static void print_ok(const char *path, const struct policy *p, bool topology_checked)
{
	char hash[2 * POLICY_HASH_SIZE + 1];

	if (!json_output) {
		printf("%s: ok (policy %s, %zu tenant%s, mode %s)\n", path, p->name, p->n_tenants,
		       p->n_tenants == 1 ? "" : "s", policy_mode__str(p->mode));
		return;
	}
	policy__hash_hex(p, hash);
	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "file", path);
	jsonw_bool_field(json_wtr, "ok", true);
	jsonw_string_field(json_wtr, "policy", p->name);
	jsonw_uint_field(json_wtr, "tenants", p->n_tenants);
	jsonw_string_field(json_wtr, "mode", policy_mode__str(p->mode));
	jsonw_string_field(json_wtr, "default", policy_default__str(p->dflt));
	jsonw_string_field(json_wtr, "viability", policy_viability__str(p->viability));
	jsonw_string_field(json_wtr, "sha256", hash);
	jsonw_bool_field(json_wtr, "topology_checked", topology_checked);
	jsonw_end_object(json_wtr);
}

/* --sysfs DIR: a directory, said before any policy is read. */
static int check_sysfs_root(const char *root)
{
	struct stat st;
	int err;

	err = stat(root, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (err)
		p_err("--sysfs %s: %s", root, strerror(-err));
	return err;
}

static int do_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "no-owner-check", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_load_opts opts = { .sz = sizeof(opts) };
	struct policy_error perr = POLICY_ERROR_INIT;
	struct errbuf eb = CLI_ERRBUF;
	const char *sysfs_root = NULL, *path;
	struct policy *p = NULL;
	int opt, err;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			sysfs_root = optarg;
			break;
		case 'O':
			opts.skip_owner_check = true;
			break;
		case 'h':
			policy_usage();
			err = 0;
			goto out;
		default:
			err = p_bad_option(opt, argv);
			goto out;
		}
	}
	if (argc - optind != 1) {
		p_err("policy check needs exactly one FILE; '%s policy help' shows the usage",
		      bin_name);
		err = -EINVAL;
		goto out;
	}
	path = argv[optind];
	if (sysfs_root) {
		err = check_sysfs_root(sysfs_root);
		if (err)
			goto out;
	}

	err = policy__load(path, &opts, &p, &perr);
	if (err) {
		if (err == -EPERM && !opts.skip_owner_check && !json_output)
			fprintf(stderr, "%s (--no-owner-check skips this for 'check')\n", perr.msg);
		else
			print_error(path, &perr);
		/* A bad file is not a usage error: main() maps -EINVAL to exit status 2. */
		if (err == -EINVAL)
			err = -EBADMSG;
		goto out_free;
	}
	/* What the enforcement programs cannot hold, `load` refuses: say so here first. */
	if (policy_compile_check_limits(p, &eb)) {
		snprintf(perr.cause, sizeof(perr.cause), "%.*s", (int)sizeof(perr.cause) - 1, eb.msg);
		perr.line = perr.column = 0;
		snprintf(perr.msg, sizeof(perr.msg), "%s: error: %s", path, perr.cause);
		print_error(path, &perr);
		err = -EBADMSG;
		goto out_free;
	}
	err = policy_topology_report(path, p, sysfs_root, &eb);
	if (err) {
		p_errbuf(&eb);
		goto out_free;
	}
	print_ok(path, p, true);
out_free:
	policy__free(p);
out:
	return err;
}

int do_policy(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "check", do_check, "parse and validate a policy file" },
		{ 0 },
	};

	/* cmd_select() answers "help" itself. */
	return cmd_select(cmds, argc - 1, argv + 1, policy_usage);
}
