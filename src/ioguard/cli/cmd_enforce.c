// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ioguard load, unload and status: the enforcement lifecycle. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/abi_names.h"
#include "prog/enforcer.h"
#include "cli.h"
#include "prog/pins.h"
#include "policy/policy.h"
#include "policy/policy_apply.h"
#include "host/topology_record.h"

static void load_help(void)
{
	fprintf(stderr,
		"Usage: %s load [OPTIONS] FILE\n\n"
		"Checks the policy FILE and makes it the policy in force. The first load attaches\n"
		"the BPF LSM programs and pins them under %s (IOGUARD_PIN_DIR), so enforcement\n"
		"continues after ioguard exits; a later load swaps the policy in one step. A\n"
		"policy that fails to load leaves the previous one fully in force.\n\n"
		"Options:\n"
		"  --no-owner-check     accept a FILE not owned by root or writable by others\n"
		"  -h, --help           this text\n", bin_name, PINS_DEFAULT_DIR);
}

int do_load(int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-owner-check", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_load_opts popts = { .sz = sizeof(popts) };
	struct policy_apply_opts aopts = { .sz = sizeof(aopts), .load = &popts };
	char hash[2 * POLICY_HASH_SIZE + 1];
	struct errbuf eb = CLI_ERRBUF;
	struct policy *p = NULL;
	bool swapped;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'O':
			popts.skip_owner_check = true;
			break;
		case 'h':
			load_help();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (argc - optind != 1) {
		p_err("load takes one policy file; see '%s load --help'", bin_name);
		return -EINVAL;
	}
	ret = bpf_environment_check();
	if (ret)
		return ret;
	ret = policy_apply(argv[optind], &aopts, &p, &swapped, &eb);
	if (ret) {
		p_errbuf(&eb);
		return ret;
	}
	policy__hash_hex(p, hash);
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "policy", p->name);
		jsonw_string_field(json_wtr, "sha256", hash);
		jsonw_string_field(json_wtr, "mode", policy_mode__str(p->mode));
		jsonw_bool_field(json_wtr, "swapped", swapped);
		jsonw_string_field(json_wtr, "pin_dir", pins_dir());
		jsonw_end_object(json_wtr);
	} else {
		printf("policy %s (sha256 %.16s, %s, default %s, viability %s) is in force; %s\n",
		       p->name, hash, policy_mode__str(p->mode), policy_default__str(p->dflt),
		       policy_viability__str(p->viability),
		       swapped ? "swapped atomically" : "programs attached and pinned");
	}
	policy__free(p);
	return 0;
}

static void unload_help(void)
{
	fprintf(stderr, "Usage: %s unload\n\nDetaches the enforcement programs and removes "
		"every pin: VFIO and iommufd are unrestricted again.\n\n"
		"Options:\n"
		"  -h, --help  this text\n", bin_name);
}

int do_unload(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct errbuf eb = CLI_ERRBUF;
	char stamp[4096];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			unload_help();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unload takes no arguments");
		return -EINVAL;
	}
	ret = bpf_environment_check();
	if (ret)
		return ret;
	ret = enforcer_unload(&eb);
	if (ret) {
		p_errbuf(&eb);
		return ret;
	}
	/* The stamp describes the policy just removed; a missing one is no error. */
	if (!topology_stamp_path(stamp, sizeof(stamp)))
		unlink(stamp);
	if (!json_output)
		printf("unloaded: no ioguard policy is enforced\n");
	return 0;
}

static void format_time(__u64 ns, char *buf, size_t len)
{
	time_t sec = ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Whether the topology the policy in force was checked against still holds: the stamp
 * written when it was put in force (topology_record.h) against sysfs now.
 */
enum topology_verdict { TOPOLOGY_HOLDS, TOPOLOGY_STALE, TOPOLOGY_NOT_RECORDED };

struct topology_check {
	enum topology_verdict verdict;
	char reason[640];		/* TOPOLOGY_NOT_RECORDED: why */
	struct topology_change *changes;
	int n_changes;
	size_t n_devices;
	size_t n_named;
};

static void check_topology(const struct enforcer_status *st, struct topology_check *tc)
{
	struct topology_record stamp = { 0 }, now = { 0 };
	char path[256], hash[65];
	int ret;

	memset(tc, 0, sizeof(*tc));
	tc->verdict = TOPOLOGY_NOT_RECORDED;
	policy_hash_hex(st->slot.hash, hash);
	ret = topology_stamp_path(path, sizeof(path));
	if (!ret)
		ret = topology_stamp_read(path, &stamp);
	if (ret == -ENOENT) {
		snprintf(tc->reason, sizeof(tc->reason), "no %s (put in force by an older "
			 "ioguard, or the run directory was cleared)", path);
		goto out;
	} else if (ret) {
		snprintf(tc->reason, sizeof(tc->reason), "cannot read %s: %s", path,
			 strerror(-ret));
		goto out;
	}
	if (strcmp(stamp.policy_sha256, hash)) {
		snprintf(tc->reason, sizeof(tc->reason), "%s is of another policy (sha256 %.16s...)",
			 path, stamp.policy_sha256);
		goto out;
	}
	ret = topology_record__read(NULL, &now);
	if (ret) {
		snprintf(tc->reason, sizeof(tc->reason), "cannot read /sys/kernel/iommu_groups: %s",
			 strerror(-ret));
		goto out;
	}
	tc->n_devices = stamp.n;
	tc->n_named = stamp.n_named;
	tc->n_changes = topology_record__diff(&stamp, &now, &stamp, &tc->changes);
	if (tc->n_changes < 0) {
		snprintf(tc->reason, sizeof(tc->reason), "%s", strerror(-tc->n_changes));
		tc->n_changes = 0;
		goto out;
	}
	tc->verdict = tc->n_changes ? TOPOLOGY_STALE : TOPOLOGY_HOLDS;
out:
	topology_record__fini(&now);
	topology_record__fini(&stamp);
}

static void topology_json(const struct topology_check *tc)
{
	int i;

	jsonw_name(json_wtr, "topology");
	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "state", tc->verdict == TOPOLOGY_HOLDS ? "holds" :
			   tc->verdict == TOPOLOGY_STALE ? "stale" : "not_recorded");
	if (tc->verdict == TOPOLOGY_NOT_RECORDED)
		jsonw_string_field(json_wtr, "reason", tc->reason);
	jsonw_name(json_wtr, "changes");
	jsonw_start_array(json_wtr);
	for (i = 0; i < tc->n_changes; i++) {
		const struct topology_change *c = &tc->changes[i];

		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "kind", topology_change_kind__str(c->kind));
		jsonw_uint_field(json_wtr, "group", c->group);
		jsonw_string_field(json_wtr, "device", c->device);
		if (c->kind == TOPOLOGY_DRIVER_CHANGED) {
			jsonw_string_field(json_wtr, "from", c->from);
			jsonw_string_field(json_wtr, "to", c->to);
		}
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	jsonw_end_object(json_wtr);
}

static void topology_text(const struct topology_check *tc)
{
	char line[256];
	int i;

	if (tc->verdict == TOPOLOGY_NOT_RECORDED) {
		printf("topology:  unknown: %s\n", tc->reason);
		return;
	}
	if (tc->verdict == TOPOLOGY_HOLDS) {
		printf("topology:  holds (%zu grouped devices as checked at load; %zu group%s "
		       "named by the policy)\n", tc->n_devices, tc->n_named,
		       tc->n_named == 1 ? "" : "s");
		return;
	}
	printf("topology:  STALE: the policy was checked against a topology that no longer "
	       "holds (reload it to check again):\n");
	for (i = 0; i < tc->n_changes; i++) {
		topology_change__describe(&tc->changes[i], line, sizeof(line));
		printf("  %s\n", line);
	}
}

static void status_json(const struct enforcer_status *st)
{
	struct topology_check tc;
	char when[32], hash[65];
	const char *tenant;
	size_t i;

	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "pin_dir", pins_dir());
	jsonw_uint_field(json_wtr, "layout", st->layout);
	jsonw_bool_field(json_wtr, "enforcing", st->policy_active);
	if (st->missing_hook)
		jsonw_string_field(json_wtr, "missing_hook", st->missing_hook);
	else
		jsonw_null_field(json_wtr, "missing_hook");
	jsonw_name(json_wtr, "programs");
	jsonw_start_array(json_wtr);
	for (i = 0; i < st->n_links; i++) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "name", st->links[i]);
		jsonw_string_field(json_wtr, "attach", st->link_modes[i]);
		jsonw_uint_field(json_wtr, "id", st->prog_ids[i]);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	if (st->policy_active) {
		format_time(st->slot.load_time_ns, when, sizeof(when));
		policy_hash_hex(st->slot.hash, hash);
		jsonw_name(json_wtr, "policy");
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "name", st->slot.name);
		jsonw_string_field(json_wtr, "sha256", hash);
		jsonw_string_field(json_wtr, "mode",
				   abi_mode_name(st->slot.mode));
		jsonw_string_field(json_wtr, "default", st->slot.default_allow ? "allow" : "deny");
		jsonw_string_field(json_wtr, "viability", st->slot.strict ? "strict" : "kernel");
		jsonw_string_field(json_wtr, "loaded_at", when);
		jsonw_uint_field(json_wtr, "generation", st->gen);
		jsonw_uint_field(json_wtr, "tenants", st->slot.n_tenants);
		check_topology(st, &tc);
		topology_json(&tc);
		free(tc.changes);
		jsonw_end_object(json_wtr);
	} else {
		jsonw_null_field(json_wtr, "policy");
	}
	jsonw_name(json_wtr, "decisions");
	jsonw_start_array(json_wtr);
	for (i = 0; i < st->n_counters; i++) {
		const struct enforcer_counter *c = &st->counters[i];

		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "hook", abi_hook_name(c->key.hook));
		jsonw_string_field(json_wtr, "decision", abi_decision_name(c->key.decision));
		jsonw_string_field(json_wtr, "reason", abi_reason_name(c->key.reason));
		tenant = enforcer_counter_tenant(st, c);
		if (tenant)
			jsonw_string_field(json_wtr, "tenant", tenant);
		else
			jsonw_null_field(json_wtr, "tenant");
		jsonw_uint_field(json_wtr, "count", c->count);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	jsonw_end_object(json_wtr);
}

static void status_text(const struct enforcer_status *st)
{
	struct topology_check tc;
	char when[32], hash[65];
	size_t i;

	if (!st->pinned) {
		printf("not loaded: no ioguard policy is enforced\n");
		return;
	}
	if (st->layout)
		printf("pins:      %s (layout %u)\n", pins_dir(), st->layout);
	else
		printf("pins:      %s (no layout marker)\n", pins_dir());
	printf("programs:  ");
	for (i = 0; i < st->n_links; i++)
		printf("%s%s (%s)", i ? ", " : "", st->links[i], st->link_modes[i]);
	printf("%s\n", st->n_links ? "" : "none attached");
	if (!st->policy_active) {
		if (st->slot.loaded && st->missing_hook)
			printf("policy:    none in force: %s has no link (a load or an unload cut "
			       "short?); 'ioguard load' attaches it again\n", st->missing_hook);
		else
			printf("policy:    none in force (everything is allowed)\n");
		return;
	}
	format_time(st->slot.load_time_ns, when, sizeof(when));
	policy_hash_hex(st->slot.hash, hash);
	printf("policy:    %s\n", st->slot.name);
	printf("sha256:    %s\n", hash);
	printf("mode:      %s, default %s, viability %s, %u tenants\n",
	       abi_mode_name(st->slot.mode),
	       st->slot.default_allow ? "allow" : "deny", st->slot.strict ? "strict" : "kernel",
	       st->slot.n_tenants);
	printf("loaded at: %s (generation %u)\n", when, st->gen);
	check_topology(st, &tc);
	topology_text(&tc);
	free(tc.changes);
	printf("decisions:\n");
	for (i = 0; i < st->n_counters; i++) {
		const struct enforcer_counter *c = &st->counters[i];
		const char *tenant = enforcer_counter_tenant(st, c);

		printf("  %-14s %-6s %-18s %-16s %llu\n", abi_hook_name(c->key.hook),
		       abi_decision_name(c->key.decision),
		       abi_reason_name(c->key.reason), tenant ? tenant : "-", c->count);
	}
}

static void status_help(void)
{
	fprintf(stderr, "Usage: %s status [--json]\n\nWhat is loaded: policy, hash, mode, "
		"load time, attached programs, decision counters.\n\n"
		"Options:\n"
		"  -j, --json  machine output\n"
		"  -h, --help  this text\n", bin_name);
}

int do_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct errbuf eb = CLI_ERRBUF;
	struct enforcer_status st;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":jh", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (cli_json_enable())
				return -ENOMEM;
			break;
		case 'h':
			status_help();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unknown argument '%s'; see '%s status --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	ret = enforcer_status(&st, &eb);
	if (ret) {
		p_errbuf(&eb);
		return ret;
	}
	if (json_output)
		status_json(&st);
	else
		status_text(&st);
	enforcer_status__clear(&st);
	return 0;
}
