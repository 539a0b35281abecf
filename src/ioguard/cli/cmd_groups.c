// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioguard groups: every IOMMU group with its devices, drivers and both viability
 * verdicts with reasons.
 * JSON schema: docs/groups-json.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/abi_names.h"
#include "cmd_groups.h"
#include "prog/enforcer.h"
#include "ioasid/ioasid.h"
#include "cli.h"
#include "host/posture.h"

static const char *rule_name(enum ioasid_rule rule)
{
	return rule == IOASID_RULE_KERNEL ? "kernel" : "strict";
}

static const char *cause_name(enum ioasid_cause cause)
{
	switch (cause) {
	case IOASID_CAUSE_DMA_API_DRIVER:
		return "dma_api_driver";
	case IOASID_CAUSE_OTHER_OWNER:
		return "other_owner";
	case IOASID_CAUSE_NOT_VFIO:
		return "not_vfio";
	case IOASID_CAUSE_NOT_CLAIMED:
		return "not_claimed";
	}
	return "unknown";
}

static const char *kind_name(enum ioasid_driver_kind kind)
{
	switch (kind) {
	case IOASID_DRIVER_NONE:
		return "none";
	case IOASID_DRIVER_DMA_API:
		return "dma_api";
	case IOASID_DRIVER_DMA_SAFE:
		return "dma_safe";
	case IOASID_DRIVER_VFIO:
		return "vfio";
	}
	return "unknown";
}

static void jsonw_hex_field(struct json_writer *w, const char *name, uint64_t v, int width)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%0*llx", width, (unsigned long long)v);
	jsonw_string_field(w, name, buf);
}

int load_topology(const char *root, struct ioasid_topology **topo)
{
	struct ioasid_error err = { "" };
	int ret;

	ret = ioasid_topology__load(root, topo, &err);
	if (ret)
		p_err("cannot read the IOMMU topology: %s", err.msg[0] ? err.msg : strerror(-ret));
	/* Malformed sysfs is not a usage error (-EINVAL is, for commands). */
	return ret == -EINVAL ? -EBADMSG : ret;
}

void json_reasons(const struct ioasid_verdict *v)
{
	const struct ioasid_reason *r;
	size_t i;

	jsonw_name(json_wtr, "reasons");
	jsonw_start_array(json_wtr);
	for (i = 0; (r = ioasid_verdict__reason(v, i)); i++) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "rule", rule_name(r->rule));
		jsonw_string_field(json_wtr, "cause", cause_name(r->cause));
		jsonw_string_field(json_wtr, "device", ioasid_device__name(r->dev));
		jsonw_string_field(json_wtr, "message", r->msg);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
}

static void json_device(const struct ioasid_device *d, const struct ioasid_verdict *v)
{
	const char *drv = ioasid_device__driver(d);

	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "name", ioasid_device__name(d));
	if (ioasid_device__is_pci(d)) {
		jsonw_hex_field(json_wtr, "vendor", ioasid_device__vendor(d), 4);
		jsonw_hex_field(json_wtr, "device", ioasid_device__device_id(d), 4);
		jsonw_hex_field(json_wtr, "class", ioasid_device__class(d), 6);
	}
	jsonw_bool_field(json_wtr, "bridge", ioasid_device__is_bridge(d));
	if (drv)
		jsonw_string_field(json_wtr, "driver", drv);
	else
		jsonw_null_field(json_wtr, "driver");
	jsonw_string_field(json_wtr, "driver_kind", kind_name(ioasid_driver__kind(drv)));
	if (v) {
		jsonw_bool_field(json_wtr, "kernel_ok", ioasid_verdict__device_ok(v, d, IOASID_RULE_KERNEL));
		jsonw_bool_field(json_wtr, "strict_ok", ioasid_verdict__device_ok(v, d, IOASID_RULE_STRICT));
	}
	jsonw_end_object(json_wtr);
}

static void json_group(const struct ioasid_group *g, const struct ioasid_verdict *v,
		       const char *root)
{
	const struct ioasid_resv_region *r;
	size_t i;

	jsonw_start_object(json_wtr);
	jsonw_uint_field(json_wtr, "id", ioasid_group__id(g));
	jsonw_string_field(json_wtr, "type", ioasid_group__type(g));
	jsonw_string_field(json_wtr, "domain",
			   posture_domain__str(host_posture_group_domain(root, ioasid_group__id(g))));
	jsonw_bool_field(json_wtr, "noiommu", host_posture_group_noiommu(root, ioasid_group__id(g)));
	jsonw_bool_field(json_wtr, "kernel_viable", ioasid_verdict__viable(v, IOASID_RULE_KERNEL));
	jsonw_bool_field(json_wtr, "strict_viable", ioasid_verdict__viable(v, IOASID_RULE_STRICT));
	json_reasons(v);
	jsonw_name(json_wtr, "reserved_regions");
	jsonw_start_array(json_wtr);
	for (i = 0; (r = ioasid_group__resv(g, i)); i++) {
		jsonw_start_object(json_wtr);
		jsonw_hex_field(json_wtr, "start", r->start, 16);
		jsonw_hex_field(json_wtr, "last", r->last, 16);
		jsonw_string_field(json_wtr, "type", ioasid_resv_type__name(r->type));
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
	jsonw_name(json_wtr, "devices");
	jsonw_start_array(json_wtr);
	for (i = 0; i < ioasid_group__nr_devices(g); i++)
		json_device(ioasid_group__device(g, i), v);
	jsonw_end_array(json_wtr);
	jsonw_end_object(json_wtr);
}

static void text_group(const struct ioasid_group *g, const struct ioasid_verdict *v,
		       const char *root)
{
	const struct ioasid_reason *r;
	size_t i;

	printf("group %u (%s%s): kernel rule %s, strict rule %s\n", ioasid_group__id(g),
	       ioasid_group__type(g),
	       host_posture_group_domain(root, ioasid_group__id(g)) == POSTURE_DOMAIN_IDENTITY ?
	       ", host-driver DMA untranslated" :
	       host_posture_group_noiommu(root, ioasid_group__id(g)) ? ", no IOMMU" : "",
	       ioasid_verdict__viable(v, IOASID_RULE_KERNEL) ? "viable" : "NOT viable",
	       ioasid_verdict__viable(v, IOASID_RULE_STRICT) ? "viable" : "NOT viable");
	if (!ioasid_group__nr_devices(g))
		printf("  (no devices)\n");
	for (i = 0; i < ioasid_group__nr_devices(g); i++) {
		const struct ioasid_device *d = ioasid_group__device(g, i);
		const char *drv = ioasid_device__driver(d);

		printf("  %-14s %04x:%04x  class %06x  %-16s %s\n", ioasid_device__name(d),
		       ioasid_device__vendor(d), ioasid_device__device_id(d), ioasid_device__class(d),
		       drv ? drv : "(no driver)", ioasid_device__is_bridge(d) ? "bridge" : "");
	}
	for (i = 0; (r = ioasid_verdict__reason(v, i)); i++) {
		/* Kernel-rule reasons repeat under strict; print them once. */
		if (r->rule == IOASID_RULE_STRICT &&
		    (r->cause == IOASID_CAUSE_DMA_API_DRIVER || r->cause == IOASID_CAUSE_OTHER_OWNER))
			continue;
		printf("  %-6s %s\n", rule_name(r->rule), r->msg);
	}
}

/*
 * The enforcement in force, from the pins: only for the live system (a --sysfs snapshot
 * has no pins). 0 with *@st filled, or a negative errno with the reason in @eb.
 */
static int read_enforcement(const char *root, struct enforcer_status *st, struct errbuf *eb)
{
	if (strcmp(root, "/"))
		return errbuf_set(eb, -EOPNOTSUPP, "not read for a --sysfs snapshot");
	return enforcer_status_brief(st, eb);
}

static void json_posture(const struct host_posture *h, const char *root)
{
	struct enforcer_status st = { 0 };
	struct enforcer_in_force f;
	enum posture_irq_module m;
	enum posture_domain d;
	struct errbuf eb = { .note = NULL };

	jsonw_name(json_wtr, "posture");
	jsonw_start_object(json_wtr);
	jsonw_bool_field(json_wtr, "iommu_enabled", h->iommu_enabled);
	jsonw_uint_field(json_wtr, "iommus", h->n_iommus);
	jsonw_uint_field(json_wtr, "groups", h->n_groups);
	jsonw_name(json_wtr, "domains");
	jsonw_start_object(json_wtr);
	for (d = 0; d < POSTURE_DOMAIN_COUNT; d++)
		jsonw_uint_field(json_wtr, posture_domain__str(d), h->domains[d]);
	jsonw_end_object(json_wtr);
	jsonw_bool_field(json_wtr, "acs_override", h->acs_override);
	if (h->acs_override)
		jsonw_string_field(json_wtr, "acs_override_value", h->acs_override_value);
	else
		jsonw_null_field(json_wtr, "acs_override_value");
	jsonw_string_field(json_wtr, "vfio_noiommu_mode", posture_state__str(h->noiommu_mode));
	jsonw_uint_field(json_wtr, "vfio_noiommu_groups", h->n_noiommu_groups);
	jsonw_name(json_wtr, "unsafe_interrupts");
	jsonw_start_object(json_wtr);
	for (m = 0; m < POSTURE_IRQ_MODULE_COUNT; m++)
		jsonw_string_field(json_wtr, posture_irq_module__str(m),
				   posture_state__str(h->unsafe_interrupts[m]));
	jsonw_end_object(json_wtr);
	jsonw_string_field(json_wtr, "irq_remapping", posture_state__str(h->irq_remapping));
	jsonw_string_field(json_wtr, "bpf_lsm", posture_state__str(h->bpf_lsm));
	jsonw_name(json_wtr, "enforcement");
	jsonw_start_object(json_wtr);
	if (read_enforcement(root, &st, &eb)) {
		jsonw_null_field(json_wtr, "active");
		jsonw_string_field(json_wtr, "error", eb.msg);
	} else {
		enforcer_status__in_force(&st, &f);
		jsonw_bool_field(json_wtr, "active", f.active);
		if (f.active) {
			jsonw_string_field(json_wtr, "policy", f.name);
			jsonw_string_field(json_wtr, "mode", abi_mode_name(f.mode));
			jsonw_string_field(json_wtr, "sha256", f.sha256);
		}
		enforcer_status__clear(&st);
	}
	jsonw_end_object(json_wtr);
	jsonw_end_object(json_wtr);
}

static void text_posture(const struct host_posture *h, const char *root)
{
	struct enforcer_status st = { 0 };
	struct enforcer_in_force f;
	enum posture_domain d;
	struct errbuf eb = { .note = NULL };
	const char *sep = "";

	printf("host: IOMMU %s (%u in /sys/class/iommu, %u groups)\n",
	       h->iommu_enabled ? "on" : "OFF: no device DMA is isolated", h->n_iommus,
	       h->n_groups);
	printf("  default domains   ");
	for (d = 0; d < POSTURE_DOMAIN_COUNT; d++) {
		if (!h->domains[d])
			continue;
		printf("%s%s %u", sep, posture_domain__str(d), h->domains[d]);
		sep = ", ";
	}
	printf("%s%s\n", sep[0] ? "" : "none",
	       h->domains[POSTURE_DOMAIN_IDENTITY] ? " (identity: host-driver DMA untranslated)" :
	       "");
	if (h->acs_override)
		printf("  ACS override      pcie_acs_override=%s: groups are not proven isolated\n",
		       h->acs_override_value);
	else
		printf("  ACS override      no\n");
	printf("  VFIO no-IOMMU     mode %s, %u group%s\n", posture_state__str(h->noiommu_mode),
	       h->n_noiommu_groups, h->n_noiommu_groups == 1 ? "" : "s");
	printf("  unsafe interrupts vfio_iommu_type1 %s, iommufd %s\n",
	       posture_state__str(h->unsafe_interrupts[POSTURE_IRQ_VFIO_TYPE1]),
	       posture_state__str(h->unsafe_interrupts[POSTURE_IRQ_IOMMUFD]));
	printf("  IRQ remapping     %s\n", posture_state__str(h->irq_remapping));
	printf("  BPF LSM           %s\n", posture_state__str(h->bpf_lsm));
	if (read_enforcement(root, &st, &eb)) {
		printf("  enforcement       unknown (%s)\n", eb.msg);
		return;
	}
	enforcer_status__in_force(&st, &f);
	if (f.active) {
		printf("  enforcement       policy %s, mode %s (sha256 %s)\n", f.name,
		       abi_mode_name(f.mode), f.sha256);
	} else {
		printf("  enforcement       none\n");
	}
	enforcer_status__clear(&st);
}

static void groups_usage(void)
{
	fprintf(stderr,
		"Usage: %s [--json] groups [--sysfs DIR]\n"
		"  Lists every IOMMU group with its devices and drivers, and whether it is viable\n"
		"  under the kernel rule (VFIO_GROUP_FLAGS_VIABLE) and the strict rule (every\n"
		"  endpoint on a VFIO driver), with the devices that prevent it.\n"
		"  -s, --sysfs DIR  read a sysfs snapshot under DIR instead of the live system\n"
		"  -j, --json       machine output (docs/groups-json.md)\n"
		"  -h, --help       this text\n", bin_name);
}

/*
 * The options into *@root. Returns 0, 1 when --help was answered (nothing more to do),
 * or a negative errno after saying why.
 */
static int parse_args(int argc, char **argv, const char **root)
{
	static const struct option options[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, ":s:jh", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			*root = optarg;
			break;
		case 'j':
			if (cli_json_enable())
				return -ENOMEM;
			break;
		case 'h':
			groups_usage();
			return 1;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind != argc) {
		groups_usage();
		return -EINVAL;
	}
	return 0;
}

/* Every group with its verdict; stops at the first that cannot be evaluated. */
static int print_groups(const struct ioasid_topology *topo, const char *root)
{
	size_t i;
	int err;

	for (i = 0; i < ioasid_topology__nr_groups(topo); i++) {
		const struct ioasid_group *g = ioasid_topology__group(topo, i);
		struct ioasid_verdict *v;

		err = ioasid_group__check(g, NULL, &v);
		if (err) {
			p_err("group %u: cannot evaluate: %s", ioasid_group__id(g), strerror(-err));
			return err;
		}
		if (json_output)
			json_group(g, v, root);
		else
			text_group(g, v, root);
		ioasid_verdict__free(v);
	}
	return 0;
}

/* Devices outside every IOMMU group: their DMA is not translated. */
static void print_ungrouped(const struct ioasid_topology *topo)
{
	size_t i;

	for (i = 0; i < ioasid_topology__nr_devices(topo); i++) {
		const struct ioasid_device *d = ioasid_topology__device(topo, i);

		if (ioasid_device__group(d))
			continue;
		if (json_output)
			json_device(d, NULL);
		else
			printf("no group: %s (%s): DMA not translated by an IOMMU\n", ioasid_device__name(d),
			       ioasid_device__driver(d) ? ioasid_device__driver(d) : "no driver");
	}
}

int do_groups(int argc, char **argv)
{
	struct ioasid_topology *topo = NULL;
	struct host_posture posture;
	const char *root = "/";
	int err;

	err = parse_args(argc, argv, &root);
	if (err)
		return err == 1 ? 0 : err;
	err = load_topology(root, &topo);
	if (err)
		return err;
	host_posture_read(strcmp(root, "/") ? root : NULL, &posture);
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "sysfs_root", root);
		json_posture(&posture, root);
		jsonw_name(json_wtr, "groups");
		jsonw_start_array(json_wtr);
	} else {
		text_posture(&posture, root);
	}
	err = print_groups(topo, root);
	if (json_output) {
		jsonw_end_array(json_wtr);
		jsonw_name(json_wtr, "ungrouped_devices");
		jsonw_start_array(json_wtr);
	}
	print_ungrouped(topo);
	if (json_output) {
		jsonw_end_array(json_wtr);
		jsonw_end_object(json_wtr);
	} else if (!ioasid_topology__nr_groups(topo)) {
		printf("no IOMMU groups under %s\n", root);
	}
	ioasid_topology__free(topo);
	return err;
}
