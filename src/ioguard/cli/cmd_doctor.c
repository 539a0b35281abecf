// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioguard doctor [--json] [--no-probe] [--root DIR]
 *
 * What this host offers ioguard: one line per check (OK, INFO, WARN or FAIL), the kernel
 * fact it rests on and the fix, then the features that work. The checks are
 * host_check.c's; this file prints them. Exit status 0 when nothing failed (enforcement
 * can run), 1 when something did, 2 on a usage error (docs/doctor.md).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog/bpf_probe.h"
#include "prog/enforcer.h"
#include "host/host_check.h"
#include "cli.h"
#include "prog/pins.h"

/* Wide enough for "feature.iommufd_vfio_compat" and the per-group names. */
#define NAME_WIDTH 28

static void doctor_usage(void)
{
	fprintf(stderr,
		"Usage: %s doctor [--json] [--no-probe] [--root DIR]\n\n"
		"  Checks what this host offers ioguard: kernel BTF, fentry, the BPF LSM, bpffs,\n"
		"  kallsyms, the IOMMU and its domains, isolation overrides, and which features\n"
		"  work. Each check says OK, INFO, WARN or FAIL, the fact it rests on, and the fix.\n\n"
		"  --json        one JSON document (docs/doctor.md)\n"
		"  --no-probe    load no BPF program: fentry and the BPF LSM are judged from\n"
		"                files only\n"
		"  --root DIR    read /proc, /sys, /boot, /dev and /etc under DIR (a copy of\n"
		"                another host's files); implies --no-probe\n"
		"  -h, --help    this text\n\n"
		"Exit status: 0 nothing failed (enforcement can run), 1 a check failed,\n"
		"2 usage error.\n",
		bin_name);
}

static void print_text(const struct host_report *r)
{
	const struct host_check *c;
	size_t i;

	printf("ioguard doctor: kernel %s, %s\n\n", r->kernel_release[0] ? r->kernel_release :
	       "unknown", r->distribution);
	for (i = 0; i < r->n_checks; i++) {
		c = &r->checks[i];
		printf("%-4s  %-*s  %s\n", host_status__str(c->status), NAME_WIDTH, c->name,
		       c->reason);
		if (c->fix[0])
			printf("%-4s  %-*s  fix: %s\n", "", NAME_WIDTH, "", c->fix);
	}
	printf("\n%zu OK, %zu INFO, %zu WARN, %zu FAIL: %s\n", r->counts[HOST_OK],
	       r->counts[HOST_INFO], r->counts[HOST_WARN], r->counts[HOST_FAIL],
	       host_report__enforcement_ok(r) ? "enforcement can run on this host" :
	       "enforcement cannot run on this host (or would guard no isolation)");
}

static void print_json(const struct host_report *r)
{
	const struct host_check *c;
	size_t i;

	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "kernel", r->kernel_release);
	jsonw_string_field(json_wtr, "distribution", r->distribution);
	jsonw_bool_field(json_wtr, "enforcement_ok", host_report__enforcement_ok(r));
	jsonw_name(json_wtr, "counts");
	jsonw_start_object(json_wtr);
	for (i = 0; i < HOST_STATUS_COUNT; i++)
		jsonw_uint_field(json_wtr, host_status__str(i), r->counts[i]);
	jsonw_end_object(json_wtr);
	jsonw_name(json_wtr, "checks");
	jsonw_start_array(json_wtr);
	for (i = 0; i < r->n_checks; i++) {
		c = &r->checks[i];
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "name", c->name);
		jsonw_string_field(json_wtr, "area", c->area);
		jsonw_string_field(json_wtr, "status", host_status__str(c->status));
		jsonw_string_field(json_wtr, "reason", c->reason);
		if (c->fix[0])
			jsonw_string_field(json_wtr, "fix", c->fix);
		else
			jsonw_null_field(json_wtr, "fix");
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	jsonw_end_object(json_wtr);
}

int do_doctor(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-probe", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct host_check_opts opts = {
		.sz = sizeof(opts),
		.probe_fentry = bpf_probe_fentry,
		.probe_lsm = bpf_probe_lsm,
		.probe_trace = bpf_probe_trace,
		.pin_dir = pins_dir(),
		.unprivileged = geteuid() != 0,
	};
	struct host_report *r = NULL;
	struct stat st;
	int opt, err;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (cli_json_enable())
				return -ENOMEM;
			break;
		case 'n':
			opts.probe_fentry = opts.probe_lsm = NULL;
			opts.probe_trace = NULL;
			break;
		case 'r':
			opts.root = optarg;
			opts.probe_fentry = opts.probe_lsm = NULL;
			opts.probe_trace = NULL;
			break;
		case 'h':
			doctor_usage();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind != argc) {
		p_err("doctor takes no arguments, got '%s'; '%s doctor --help' shows the usage",
		      argv[optind], bin_name);
		return -EINVAL;
	}
	if (opts.root) {
		err = stat(opts.root, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
		if (err) {
			p_err("--root %s: %s", opts.root, strerror(-err));
			return -EINVAL;
		}
	}
	err = host_check_run(&opts, &r);
	if (err) {
		p_err("cannot check this host: %s", strerror(-err));
		return err;
	}
	if (json_output)
		print_json(r);
	else
		print_text(r);
	/* Not -EINVAL: main() maps that to the usage status. */
	err = host_report__enforcement_ok(r) ? 0 : -EOPNOTSUPP;
	host_report__free(r);
	return err;
}
