// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posture.h"

#define PATH_LEN 4096

static const char *const domain_names[POSTURE_DOMAIN_COUNT] = {
	[POSTURE_DOMAIN_DMA] = "DMA",
	[POSTURE_DOMAIN_DMA_FQ] = "DMA-FQ",
	[POSTURE_DOMAIN_IDENTITY] = "identity",
	[POSTURE_DOMAIN_BLOCKED] = "blocked",
	[POSTURE_DOMAIN_UNMANAGED] = "unmanaged",
	[POSTURE_DOMAIN_OTHER] = "other",
	[POSTURE_DOMAIN_UNREADABLE] = "unknown",
};

static const char *const irq_module_names[POSTURE_IRQ_MODULE_COUNT] = {
	[POSTURE_IRQ_VFIO_TYPE1] = "vfio_iommu_type1",
	[POSTURE_IRQ_IOMMUFD] = "iommufd",
};

enum posture_domain posture_domain_of(const char *type)
{
	enum posture_domain d;

	/* The kernel's spellings only: "unknown" (no default domain) and garbage are OTHER. */
	for (d = 0; d < POSTURE_DOMAIN_OTHER; d++) {
		if (!strcmp(type, domain_names[d]))
			return d;
	}
	return POSTURE_DOMAIN_OTHER;
}

const char *posture_domain__str(enum posture_domain d)
{
	return (unsigned int)d < POSTURE_DOMAIN_COUNT ? domain_names[d] : "unknown";
}

const char *posture_state__str(enum posture_state s)
{
	static const char *const names[POSTURE_STATE_COUNT] = { "off", "on", "unknown" };

	return (unsigned int)s < POSTURE_STATE_COUNT ? names[s] : "unknown";
}

const char *posture_irq_module__str(enum posture_irq_module m)
{
	return (unsigned int)m < POSTURE_IRQ_MODULE_COUNT ? irq_module_names[m] : "?";
}

const char *posture_cmdline_param(const char *cmdline, const char *name, char *buf,
				  size_t len)
{
	size_t n = strlen(name), vlen = 0;
	const char *p = cmdline, *found = NULL;

	while (*p) {
		size_t tok = strcspn(p, " \t\n");

		if (tok > n && !strncmp(p, name, n) && p[n] == '=') {
			found = p + n + 1;
			vlen = tok - n - 1;
		}
		p += tok;
		p += strspn(p, " \t\n");
	}
	if (!found)
		return NULL;
	snprintf(buf, len, "%.*s", (int)vlen, found);
	return buf;
}

bool posture_param_on(const char *v)
{
	/* As the kernel's kstrtobool() reads a bool parameter: y, 1, on. */
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1' ||
	       ((v[0] == 'o' || v[0] == 'O') && (v[1] == 'n' || v[1] == 'N'));
}

/* @name alone, without "=": the kernel sets a bool parameter given so to true. */
static bool cmdline_has_bare(const char *cmdline, const char *name)
{
	size_t n = strlen(name);
	const char *p = cmdline;

	while (*p) {
		size_t tok = strcspn(p, " \t\n");

		if (tok == n && !strncmp(p, name, n))
			return true;
		p += tok;
		p += strspn(p, " \t\n");
	}
	return false;
}

/* First line of @live under @root, newline stripped. Returns 0 or -errno. */
static int read_line(const char *root, const char *live, char *buf, size_t len)
{
	char path[PATH_LEN];
	FILE *fp;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s%s", root, live);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	if (!fgets(buf, (int)len, fp))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
	return 0;
}

enum posture_domain host_posture_group_domain(const char *root, unsigned int group)
{
	char live[96], type[64];

	snprintf(live, sizeof(live), "/sys/kernel/iommu_groups/%u/type", group);
	if (read_line(root ?: "", live, type, sizeof(type)))
		return POSTURE_DOMAIN_UNREADABLE;
	return posture_domain_of(type);
}

bool host_posture_group_noiommu(const char *root, unsigned int group)
{
	char live[96], name[64];

	snprintf(live, sizeof(live), "/sys/kernel/iommu_groups/%u/name", group);
	return !read_line(root ?: "", live, name, sizeof(name)) &&
	       !strcmp(name, POSTURE_NOIOMMU_GROUP_NAME);
}

/* Whether @list, comma-separated, has @item. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	while (*list) {
		size_t tok = strcspn(list, ",");

		if (tok == n && !strncmp(list, item, n))
			return true;
		list += tok;
		list += strspn(list, ",");
	}
	return false;
}

static unsigned int parse_group_id(const char *name, bool *ok)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(name, &end, 10);
	*ok = name[0] >= '0' && name[0] <= '9' && !*end && !errno && v <= 0x7fffffff;
	return (unsigned int)v;
}

/*
 * The groups, their domains, and the no-IOMMU groups of sysfs; then the /dev/vfio
 * nodes of no-IOMMU groups sysfs did not list (a group is counted once). Returns the
 * no-IOMMU groups sysfs listed.
 */
static unsigned int read_groups(const char *root, struct host_posture *p)
{
	char path[PATH_LEN];
	unsigned int *noiommu = NULL, *grown, n_noiommu = 0, id, i, in_sysfs;
	struct dirent *d;
	bool ok, seen;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", root);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		p->n_groups++;
		id = parse_group_id(d->d_name, &ok);
		p->domains[ok ? host_posture_group_domain(root, id) : POSTURE_DOMAIN_OTHER]++;
		if (!ok || !host_posture_group_noiommu(root, id))
			continue;
		grown = realloc(noiommu, (n_noiommu + 1) * sizeof(*noiommu));
		/* Out of memory: counted, just not remembered for the /dev/vfio pass. */
		if (grown) {
			noiommu = grown;
			noiommu[n_noiommu] = id;
		}
		n_noiommu += !!grown;
		p->n_noiommu_groups++;
	}
	if (dir)
		closedir(dir);
	in_sysfs = p->n_noiommu_groups;

	snprintf(path, sizeof(path), "%s/dev/vfio", root);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "noiommu-", 8))
			continue;
		id = parse_group_id(d->d_name + 8, &ok);
		if (!ok)
			continue;
		for (seen = false, i = 0; i < n_noiommu && !seen; i++)
			seen = noiommu[i] == id;
		p->n_noiommu_groups += !seen;
	}
	if (dir)
		closedir(dir);
	free(noiommu);
	return in_sysfs;
}

static unsigned int count_entries(const char *root, const char *live)
{
	char path[PATH_LEN];
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s%s", root, live);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/*
 * A Y/N module parameter: the parameter file when the module is there (unknown if it
 * is there and cannot be read), else what the command line would set when it loads:
 * "module.param=Y", "=1", "=on", or the name alone, with '-' for '_' as the kernel
 * allows. Options in modprobe.d are not seen.
 */
static enum posture_state module_param(const char *root, const char *cmdline,
				       const char *module, const char *param)
{
	char live[256], value[32], name[128];
	int spelling, ret;
	size_t i;

	snprintf(live, sizeof(live), "/sys/module/%s/parameters/%s", module, param);
	ret = read_line(root, live, value, sizeof(value));
	if (!ret)
		return posture_param_on(value) ? POSTURE_ON : POSTURE_OFF;
	if (ret != -ENOENT)
		return POSTURE_UNKNOWN;
	for (spelling = 0; spelling < 2; spelling++) {
		snprintf(name, sizeof(name), "%s.%s", module, param);
		for (i = strlen(module) + 1; spelling && name[i]; i++)
			name[i] = name[i] == '_' ? '-' : name[i];
		if (cmdline_has_bare(cmdline, name) ||
		    (posture_cmdline_param(cmdline, name, value, sizeof(value)) &&
		     posture_param_on(value)))
			return POSTURE_ON;
	}
	return POSTURE_OFF;
}

/*
 * The chip column of /proc/interrupts: x86 prefixes "IR-" to the IO-APIC and PCI-MSI
 * chips whose parent domain is an interrupt remapping one (intel_irq_remapping.c,
 * amd_iommu's irq domain), so their presence is the fact that remapping is in use.
 */
static enum posture_state read_irq_remapping(const char *root)
{
	char path[PATH_LEN], line[8192], *tok, *save;
	bool remappable = false, remapped = false;
	FILE *fp;

	snprintf(path, sizeof(path), "%s%s", root, POSTURE_INTERRUPTS);
	fp = fopen(path, "r");
	if (!fp)
		return POSTURE_UNKNOWN;
	while (!remapped && fgets(line, sizeof(line), fp)) {
		for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strncmp(tok, "IR-", 3)) {
				remapped = true;
				break;
			}
			if (!strncmp(tok, "IO-APIC", 7) || !strncmp(tok, "PCI-MSI", 7))
				remappable = true;
		}
	}
	fclose(fp);
	if (remapped)
		return POSTURE_ON;
	return remappable ? POSTURE_OFF : POSTURE_UNKNOWN;
}

void host_posture_read(const char *root, struct host_posture *p)
{
	char cmdline[4096], lsm[512];
	enum posture_irq_module m;
	unsigned int sysfs_noiommu;

	root = root ?: "";
	memset(p, 0, sizeof(*p));
	read_line(root, POSTURE_CMDLINE, cmdline, sizeof(cmdline));

	p->n_iommus = count_entries(root, "/sys/class/iommu");
	sysfs_noiommu = read_groups(root, p);
	/* VFIO's no-IOMMU groups are groups without an IOMMU: they prove none. */
	p->iommu_enabled = p->n_iommus || p->n_groups > sysfs_noiommu;

	p->acs_override = posture_cmdline_param(cmdline, "pcie_acs_override",
						p->acs_override_value,
						sizeof(p->acs_override_value));
	if (!p->acs_override)
		p->acs_override_value[0] = '\0';
	p->noiommu_mode = module_param(root, cmdline, "vfio", "enable_unsafe_noiommu_mode");
	for (m = 0; m < POSTURE_IRQ_MODULE_COUNT; m++)
		p->unsafe_interrupts[m] = module_param(root, cmdline, irq_module_names[m],
						       "allow_unsafe_interrupts");
	p->irq_remapping = read_irq_remapping(root);
	if (read_line(root, POSTURE_LSM_LIST, lsm, sizeof(lsm)))
		p->bpf_lsm = POSTURE_UNKNOWN;
	else
		p->bpf_lsm = list_has(lsm, "bpf") ? POSTURE_ON : POSTURE_OFF;
}
