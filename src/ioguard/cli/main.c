// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ioguard_version.h"

static const struct cmd commands[] = {
	{ "doctor", do_doctor, "what this host offers ioguard: checks, reasons and fixes" },
	{ "trace", do_trace, "stream IOMMU attach, ownership and map events" },
	{ "policy", do_policy, "validate policy files" },
	{ "load", do_load, "load a policy and enforce it (atomic swap when one is loaded)" },
	{ "unload", do_unload, "stop enforcing and remove the pins" },
	{ "status", do_status, "what is loaded, in which mode, and decision counters" },
	{ "groups", do_groups, "IOMMU groups, devices, drivers and both viability verdicts" },
	{ "plan", do_plan, "what-if: is assigning devices to tenants group-viable (sim)" },
	{ "metrics", do_metrics, "serve or write Prometheus metrics" },
	{ "run", do_run, "the daemon: enforce a policy, serve metrics, log events" },
	{ 0 },
};

static void usage(void)
{
	const struct cmd *c;

	fprintf(stderr,
		"Usage: %s [--json] COMMAND [ARGS]\n"
		"       %s --version\n\n"
		"Options:\n"
		"  -j, --json     machine output (JSON) for the commands that have it\n"
		"  -V, --version  print the version and exit\n"
		"  -h, --help     this text\n\n"
		"Commands:\n", bin_name, bin_name);
	for (c = commands; c->name; c++)
		fprintf(stderr, "  %-10s %s\n", c->name, c->summary);
	fprintf(stderr, "\n'%s COMMAND --help' shows a command's options.\n", bin_name);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int opt, err;

	cli_libbpf_messages(false);
	/* Global options stop at the command name; the command parses the rest. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:jhV", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage();
			return EXIT_SUCCESS;
		case 'V':
			/* The commit is empty when built outside git (a tarball). */
			if (IOGUARD_COMMIT[0])
				printf("ioguard %s (git %s)\n", IOGUARD_VERSION, IOGUARD_COMMIT);
			else
				printf("ioguard %s\n", IOGUARD_VERSION);
			return EXIT_SUCCESS;
		default:
			p_bad_option(opt, argv);
			usage();
			return EXIT_USAGE;
		}
	}
	if (json_output && cli_json_enable())
		return EXIT_FAILURE;
	err = cmd_select(commands, argc - optind, argv + optind, usage);
	jsonw_destroy(json_wtr);
	if (err == -EINVAL)
		return EXIT_USAGE;
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
