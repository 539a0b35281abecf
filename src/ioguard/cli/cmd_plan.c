// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioguard plan: what-if assignment of devices to tenants, checked with the sim backend
 * (plan.c decides; this file parses the arguments and prints).
 * JSON schema: docs/groups-json.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_groups.h"
#include "cli.h"
#include "policy/plan.h"

static void plan_usage(void)
{
	fprintf(stderr,
		"Usage: %s [--json] plan [--sysfs DIR] --assign TENANT=BDF[,BDF...] [--assign ...]\n"
		"  What-if: would assigning these devices to these tenants be group-viable?\n"
		"  Assigned devices are assumed rebound to vfio-pci; the sim backend then binds\n"
		"  and attaches them, one owner per tenant. Says which devices must move together\n"
		"  or be unbound. Exit status 1 when the plan is not viable.\n"
		"  -a, --assign TENANT=BDF[,BDF...]\n"
		"                   give these PCI devices to TENANT (repeat for more tenants)\n"
		"  -s, --sysfs DIR  read a sysfs snapshot under DIR instead of the live system\n"
		"  -j, --json       machine output\n"
		"  -h, --help       this text\n", bin_name);
}

/*
 * The options into @p and *@root. Returns 0, 1 when --help was answered (nothing more
 * to do), or a negative errno after saying why.
 */
static int parse_args(int argc, char **argv, struct plan *p, const char **root)
{
	static const struct option options[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "assign", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct errbuf eb = CLI_ERRBUF;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":s:a:jh", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			*root = optarg;
			break;
		case 'a':
			ret = plan__assign(p, optarg, &eb);
			if (ret) {
				p_err("--assign %s", eb.msg);
				return ret;
			}
			break;
		case 'j':
			if (cli_json_enable())
				return -ENOMEM;
			break;
		case 'h':
			plan_usage();
			return 1;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind != argc || !plan__nr_tenants(p)) {
		plan_usage();
		return -EINVAL;
	}
	return 0;
}

static void json_group(const struct plan_group *g)
{
	size_t i;

	jsonw_start_object(json_wtr);
	jsonw_uint_field(json_wtr, "id", g->id);
	jsonw_bool_field(json_wtr, "kernel_viable", g->kernel_viable);
	jsonw_bool_field(json_wtr, "strict_viable", g->strict_viable);
	jsonw_name(json_wtr, "devices");
	jsonw_start_array(json_wtr);
	for (i = 0; i < g->nr_members; i++) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "name", g->members[i].name);
		if (g->members[i].tenant)
			jsonw_string_field(json_wtr, "tenant", g->members[i].tenant);
		else
			jsonw_null_field(json_wtr, "tenant");
		jsonw_bool_field(json_wtr, "bridge", g->members[i].bridge);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	jsonw_name(json_wtr, "must_move_together");
	jsonw_start_array(json_wtr);
	for (i = 0; i < g->nr_members; i++)
		if (g->members[i].must_move)
			jsonw_string(json_wtr, g->members[i].name);
	jsonw_end_array(json_wtr);
	jsonw_name(json_wtr, "must_unbind");
	jsonw_start_array(json_wtr);
	for (i = 0; i < g->nr_reasons; i++)
		if (g->reasons[i].advice == PLAN_ADVICE_UNBIND)
			jsonw_string(json_wtr, ioasid_device__name(g->reasons[i].why->dev));
	jsonw_end_array(json_wtr);
	json_reasons(g->verdict);
	jsonw_end_object(json_wtr);
}

static void text_group(const struct plan_group *g)
{
	const char *tenant = g->tenant ? g->tenant : "the same tenant";
	size_t i;

	printf("group %u: kernel rule %s, strict rule %s\n", g->id,
	       g->kernel_viable ? "viable" : "NOT viable", g->strict_viable ? "viable" : "NOT viable");
	if (g->split) {
		printf("  devices of this group are assigned to several tenants; they must move together:");
		for (i = 0; i < g->nr_members; i++)
			if (g->members[i].must_move)
				printf(" %s(%s)", g->members[i].name,
				       g->members[i].tenant ? g->members[i].tenant : "-");
		printf("\n");
	}
	for (i = 0; i < g->nr_reasons; i++) {
		const struct plan_reason *r = &g->reasons[i];

		if (r->advice == PLAN_ADVICE_UNBIND)
			printf("  kernel %s: unbind it, or assign it to %s too\n", r->why->msg, tenant);
		else if (r->advice == PLAN_ADVICE_ASSIGN)
			printf("  strict %s: assign it to %s too\n", r->why->msg, tenant);
	}
}

static void json_tenant(const struct plan_tenant *t)
{
	size_t i;

	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "name", t->name);
	jsonw_name(json_wtr, "devices");
	jsonw_start_array(json_wtr);
	for (i = 0; i < t->nr_devices; i++)
		jsonw_string(json_wtr, t->devices[i]);
	jsonw_end_array(json_wtr);
	jsonw_bool_field(json_wtr, "sim_ok", !t->sim_err);
	if (t->sim_err) {
		jsonw_int_field(json_wtr, "sim_errno", -t->sim_err);
		jsonw_string_field(json_wtr, "sim_error", t->sim_msg);
	}
	jsonw_end_object(json_wtr);
}

static void text_tenant(const struct plan_tenant *t)
{
	if (t->sim_err)
		printf("sim: tenant %s: %s (%s)\n", t->name, t->sim_msg, strerror(-t->sim_err));
	else
		printf("sim: tenant %s: bound and attached %zu device(s)\n", t->name, t->nr_devices);
}

static void print_plan(const struct plan *p, const char *root)
{
	bool viable = plan__viable(p, IOASID_RULE_KERNEL);
	bool strict = plan__viable(p, IOASID_RULE_STRICT);
	size_t i;

	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "sysfs_root", root);
		jsonw_name(json_wtr, "groups");
		jsonw_start_array(json_wtr);
	}
	for (i = 0; i < plan__nr_groups(p); i++) {
		const struct plan_group *g = plan__group(p, i);

		if (g->err)
			p_err("group %u: cannot evaluate", g->id);
		else if (json_output)
			json_group(g);
		else
			text_group(g);
	}
	if (json_output) {
		jsonw_end_array(json_wtr);
		jsonw_name(json_wtr, "tenants");
		jsonw_start_array(json_wtr);
	}
	for (i = 0; i < plan__nr_tenants(p); i++) {
		if (json_output)
			json_tenant(plan__tenant(p, i));
		else
			text_tenant(plan__tenant(p, i));
	}
	if (json_output) {
		jsonw_end_array(json_wtr);
		jsonw_bool_field(json_wtr, "viable", viable);
		jsonw_bool_field(json_wtr, "strict_viable", strict);
		jsonw_end_object(json_wtr);
	} else {
		printf("plan: %s%s\n", viable ? "group-viable" : "NOT group-viable",
		       viable && !strict ? " (kernel rule only; not under the strict rule)" : "");
	}
}

int do_plan(int argc, char **argv)
{
	struct ioasid_topology *topo = NULL;
	const char *root = "/";
	struct errbuf eb = CLI_ERRBUF;
	struct plan *p;
	int ret;

	p = plan__new();
	if (!p)
		return -ENOMEM;
	ret = parse_args(argc, argv, p, &root);
	if (ret)
		goto out_free_plan;
	ret = load_topology(root, &topo);
	if (ret)
		goto out_free_plan;
	ret = plan__evaluate(p, topo, &eb);
	if (ret) {
		p_errbuf(&eb);
		goto out_free_plan;
	}
	print_plan(p, root);
	ret = plan__viable(p, IOASID_RULE_KERNEL) ? 0 : -EPERM;
out_free_plan:
	/* The plan's sim backend points at @topo: the plan goes first. */
	plan__free(p);
	ioasid_topology__free(topo);
	return ret == 1 ? 0 : ret;
}
