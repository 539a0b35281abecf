// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "output/array_size.h"
#include "prog/enforcer.h"
#include "host_check.h"
#include "prog/pins.h"
#include "posture.h"

#define LSM_LIST POSTURE_LSM_LIST
#define KALLSYMS "/proc/kallsyms"
#define CMDLINE POSTURE_CMDLINE
#define NOIOMMU_PARAM POSTURE_NOIOMMU_PARAM
#define CONFIG_MAX (4 << 20)

/* Modules whose functions ioguard hooks; their BTF is what fentry needs to reach them. */
static const char *const hooked_modules[] = {
	"vfio", "vfio_iommu_type1", "vfio_pci", "iommufd",
};
static const char *const module_configs[] = {
	"CONFIG_VFIO", "CONFIG_VFIO_IOMMU_TYPE1", "CONFIG_VFIO_PCI", "CONFIG_IOMMUFD",
};

enum module_state { MODULE_ABSENT, MODULE_LOADED, MODULE_BUILTIN };

/* Everything read from the (possibly fake) root, once, before any verdict. */
struct host_facts {
	const char *root;
	const char *pin_parent;		/* bpffs mount the enforcer pins under */
	char cmdline[4096];
	bool debian;			/* ID or ID_LIKE of etc/os-release is debian */
	bool unprivileged;		/* the probes ran without root */
	char *config;			/* the kernel's .config text, NULL if unreadable */
	char config_src[320];		/* where it came from, as a live path */
	char lsm[512];			/* active LSMs, empty when unreadable */
	int lsm_err;			/* 0 or -errno reading LSM_LIST */
	bool bpffs, securityfs, tracefs;
	char tracefs_at[64];
	int kallsyms_err;		/* 0 or -errno opening KALLSYMS */
	bool addresses_visible;		/* a symbol with a non-zero address */
	bool compat_syscalls, compat_hook, ima_file_hash, legacy_container;
	char kptr_restrict[16];
	unsigned int n_iommus;
	struct host_posture posture;	/* the facts `groups` and the metrics show */
	enum module_state modules[ARRAY_SIZE(hooked_modules)];
};

/* The report while it is built; a check that could not be added fails the whole run. */
struct report_build {
	struct host_report report;
	bool oom;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* The verdicts enforcement depends on, for the feature summary. */
struct verdicts {
	enum host_status btf, fentry, lsm, bpffs, kallsyms, ia32;
};

const char *host_status__str(enum host_status status)
{
	static const char *const names[HOST_STATUS_COUNT] = { "OK", "INFO", "WARN", "FAIL" };

	return status < HOST_STATUS_COUNT ? names[status] : "?";
}

static void path_of(const struct host_facts *f, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void path_of(const struct host_facts *f, char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(f->root);
	va_list ap;

	snprintf(buf, len, "%s", f->root);
	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static bool exists(const struct host_facts *f, const char *live_path)
{
	char path[4096];

	path_of(f, path, sizeof(path), "%s", live_path);
	return !access(path, F_OK);
}

/* First line of @live_path under the root, without its newline. Returns 0 or -errno. */
static int read_line(const struct host_facts *f, const char *live_path, char *buf, size_t len)
{
	char path[4096];
	FILE *fp;
	int ret = 0;

	buf[0] = '\0';
	path_of(f, path, sizeof(path), "%s", live_path);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	if (!fgets(buf, len, fp))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
	return ret;
}

/* Entries of a directory, dot entries aside; 0 when it cannot be read. */
static unsigned int count_entries(const struct host_facts *f, const char *live_path)
{
	char path[4096];
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	path_of(f, path, sizeof(path), "%s", live_path);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* The value of boot parameter @name= in /proc/cmdline (the last one wins), or NULL. */
static const char *cmdline_param(const struct host_facts *f, const char *name, char *buf,
				 size_t len)
{
	return posture_cmdline_param(f->cmdline, name, buf, len);
}

/* "y", "m", a string's quoted text, "n" for "is not set", or NULL when not in it. */
static const char *config_value(const struct host_facts *f, const char *sym, char *buf,
				size_t len)
{
	char want[128];
	const char *p, *line;
	size_t n;

	if (!f->config)
		return NULL;
	n = (size_t)snprintf(want, sizeof(want), "%s=", sym);
	for (line = f->config; line && *line; line = p ? p + 1 : NULL) {
		p = strchr(line, '\n');
		if (!strncmp(line, want, n)) {
			const char *v = line + n;
			size_t vlen = p ? (size_t)(p - v) : strlen(v);

			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			snprintf(buf, len, "%.*s", (int)vlen, v);
			return buf;
		}
		if (!strncmp(line, "# ", 2) && !strncmp(line + 2, want, n - 1) &&
		    !strncmp(line + 2 + n - 1, " is not set", 11)) {
			snprintf(buf, len, "n");
			return buf;
		}
	}
	return NULL;
}

static bool config_is(const struct host_facts *f, const char *sym, const char *value)
{
	char buf[256];
	const char *v = config_value(f, sym, buf, sizeof(buf));

	return v && !strcmp(v, value);
}

/* The whole of @path (gzip or plain) into a NUL-terminated buffer, or NULL. */
static char *slurp(const char *path)
{
	size_t used = 0, size = 1 << 16;
	char *buf = malloc(size), *grown;
	gzFile gz;
	int n;

	if (!buf)
		return NULL;
	gz = gzopen(path, "rb");	/* reads plain files as they are */
	if (!gz) {
		free(buf);
		return NULL;
	}
	while ((n = gzread(gz, buf + used, (unsigned int)(size - used - 1))) > 0) {
		used += (size_t)n;
		if (size - used > 1)
			continue;
		if (size >= CONFIG_MAX)
			break;
		grown = realloc(buf, size * 2);
		if (!grown)
			break;
		buf = grown;
		size *= 2;
	}
	gzclose(gz);
	if (n < 0 || !used) {
		free(buf);
		return NULL;
	}
	buf[used] = '\0';
	return buf;
}

/* The kernel's config: /boot/config-RELEASE as Debian installs it, else /proc/config.gz. */
static void read_config(struct host_facts *f, const char *release)
{
	char path[4096], live[300];

	snprintf(live, sizeof(live), "/boot/config-%s", release);
	path_of(f, path, sizeof(path), "%s", live);
	f->config = release[0] ? slurp(path) : NULL;
	if (f->config) {
		snprintf(f->config_src, sizeof(f->config_src), "%s", live);
		return;
	}
	path_of(f, path, sizeof(path), "/proc/config.gz");
	f->config = slurp(path);
	snprintf(f->config_src, sizeof(f->config_src), "%s",
		 f->config ? "/proc/config.gz" : "");
}

static void read_os_release(struct host_facts *f, struct host_report *r)
{
	char path[4096], line[256], id[64] = "", like[128] = "";
	FILE *fp;

	snprintf(r->distribution, sizeof(r->distribution), "unknown");
	path_of(f, path, sizeof(path), "/etc/os-release");
	fp = fopen(path, "r");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "ID=", 3))
			snprintf(id, sizeof(id), "%.63s", line + 3);
		else if (!strncmp(line, "ID_LIKE=", 8))
			snprintf(like, sizeof(like), "%.127s", line + 8);
		else if (sscanf(line, "PRETTY_NAME=\"%127[^\"]\"", r->distribution) == 1)
			continue;
	}
	fclose(fp);
	f->debian = !strcmp(id, "debian") || strstr(like, "debian");
}

/* bpffs, securityfs and tracefs from /proc/self/mountinfo: "... MOUNTPOINT ... - TYPE ...". */
static void read_mounts(struct host_facts *f)
{
	char path[4096], line[4096], point[1024], type[64];
	const char *sep;
	FILE *fp;

	path_of(f, path, sizeof(path), "/proc/self/mountinfo");
	fp = fopen(path, "r");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1)
			continue;
		if (!strcmp(type, "bpf") && !strcmp(point, f->pin_parent))
			f->bpffs = true;
		else if (!strcmp(type, "securityfs") && !strcmp(point, "/sys/kernel/security"))
			f->securityfs = true;
		else if (!strcmp(type, "tracefs") && (!strcmp(point, "/sys/kernel/tracing") ||
						       !strcmp(point, "/sys/kernel/debug/tracing"))) {
			f->tracefs = true;
			snprintf(f->tracefs_at, sizeof(f->tracefs_at), "%.63s", point);
		}
	}
	fclose(fp);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * One pass over kallsyms for the symbols whose presence decides a feature. Names are
 * listed even where kptr_restrict hides the addresses, so presence is known either way.
 */
static void read_kallsyms(struct host_facts *f)
{
	char path[4096], line[512], name[256], type;
	unsigned long long addr;
	FILE *fp;

	path_of(f, path, sizeof(path), KALLSYMS);
	fp = fopen(path, "r");
	if (!fp) {
		f->kallsyms_err = -errno;
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (addr)
			f->addresses_visible = true;
		if (type != 't' && type != 'T')
			continue;
		if (ends_with(name, "compat_sys_ioctl"))
			f->compat_syscalls = true;
		else if (!strcmp(name, "bpf_lsm_file_ioctl_compat"))
			f->compat_hook = true;
		else if (!strcmp(name, "ima_file_hash"))
			f->ima_file_hash = true;
		else if (!strcmp(name, "vfio_fops_unl_ioctl"))
			f->legacy_container = true;
	}
	fclose(fp);
}

static enum module_state module_state(const struct host_facts *f, const char *module,
				      const char *release)
{
	char live[512], path[4096], line[512], want[80];
	enum module_state state = MODULE_ABSENT;
	FILE *fp;

	snprintf(live, sizeof(live), "/sys/module/%s/initstate", module);
	if (exists(f, live))
		return MODULE_LOADED;
	/* A built-in module has a /sys/module entry only when it has parameters. */
	snprintf(live, sizeof(live), "/sys/module/%s", module);
	if (exists(f, live))
		return MODULE_BUILTIN;
	path_of(f, path, sizeof(path), "/lib/modules/%s/modules.builtin", release);
	fp = fopen(path, "r");
	if (!fp)
		return MODULE_ABSENT;
	snprintf(want, sizeof(want), "/%s.ko", module);
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (ends_with(line, want)) {
			state = MODULE_BUILTIN;
			break;
		}
	}
	fclose(fp);
	return state;
}

/* Appends a check; the report's counts are made at the end. NULL on ENOMEM. */
static struct host_check *add(struct host_report *r, const char *area, const char *name,
			      enum host_status status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static struct host_check *add(struct host_report *r, const char *area, const char *name,
			      enum host_status status, const char *fmt, ...)
{
	struct host_check *grown, *c;
	va_list ap;

	grown = realloc(r->checks, (r->n_checks + 1) * sizeof(*grown));
	if (!grown) {
		container_of(r, struct report_build, report)->oom = true;
		return NULL;
	}
	r->checks = grown;
	c = &r->checks[r->n_checks++];
	memset(c, 0, sizeof(*c));
	c->area = area;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return c;
}

static void set_fix(struct host_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_fix(struct host_check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c)
		return;
	va_start(ap, fmt);
	vsnprintf(c->fix, sizeof(c->fix), fmt, ap);
	va_end(ap);
}

/* How to change the kernel command line on this distribution. */
static const char *boot_param_howto(const struct host_facts *f)
{
	return f->debian ? "in GRUB_CMDLINE_LINUX of /etc/default/grub, then run update-grub "
			   "and reboot" :
			   "on the kernel command line in the boot loader's configuration, "
			   "and reboot";
}

static enum host_status status_of(const struct host_check *c)
{
	return c ? c->status : HOST_FAIL;
}

static enum host_status check_btf(struct host_report *r, const struct host_facts *f)
{
	bool vmlinux = exists(f, "/sys/kernel/btf/vmlinux");
	char live[300];
	size_t i;

	if (vmlinux)
		add(r, "kernel", "kernel_btf", HOST_OK, "/sys/kernel/btf/vmlinux exists: the "
		    "kernel's types for CO-RE and for attaching by BTF id");
	else
		set_fix(add(r, "kernel", "kernel_btf", HOST_FAIL, "/sys/kernel/btf/vmlinux is "
			    "missing: no program of ioguard can load without kernel BTF"),
			"%s", f->debian ? "boot Debian's stock kernel (linux-image-amd64, built "
			"with CONFIG_DEBUG_INFO_BTF=y)" : "use a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y");
	for (i = 0; i < ARRAY_SIZE(hooked_modules); i++) {
		const char *m = hooked_modules[i];
		char name[40];

		snprintf(name, sizeof(name), "module_btf.%s", m);
		snprintf(live, sizeof(live), "/sys/kernel/btf/%s", m);
		switch (f->modules[i]) {
		case MODULE_BUILTIN:
			add(r, "kernel", name, HOST_OK, "%s is built in: its types are in "
			    "/sys/kernel/btf/vmlinux", m);
			break;
		case MODULE_LOADED:
			if (exists(f, live))
				add(r, "kernel", name, HOST_OK, "%s is loaded and %s exists", m, live);
			else
				set_fix(add(r, "kernel", name, HOST_WARN, "%s is loaded but %s is "
					    "missing: ioguard's hooks in %s are skipped", m, live, m),
					"use a kernel built with CONFIG_DEBUG_INFO_BTF_MODULES=y");
			break;
		default:
			/* A readable config without the symbol: its dependencies are unmet. */
			if (f->config && !config_is(f, module_configs[i], "y") &&
			    !config_is(f, module_configs[i], "m")) {
				add(r, "kernel", name, HOST_INFO, "%s is not in this kernel (%s is "
				    "not set in %s)", m, module_configs[i], f->config_src);
				break;
			}
			set_fix(add(r, "kernel", name, HOST_INFO, "%s is not loaded (no "
				    "/sys/module/%s): its hooks are skipped until it is, and a "
				    "policy loaded before it denies its files", m, m),
				"modprobe %s before 'ioguard load', if this host uses it", m);
			break;
		}
	}
	return vmlinux ? HOST_OK : HOST_FAIL;
}

static struct host_check *check_fentry(struct host_report *r, const struct host_facts *f,
				       host_probe_fn probe)
{
	struct errbuf eb = { .note = NULL };
	struct host_check *c;
	char cfg[64];
	int ret;

	if (!probe)
		return add(r, "kernel", "fentry", HOST_INFO, "not probed (no BPF program was "
			   "loaded): whether this kernel attaches fentry/fexit is unknown");
	ret = probe(&eb);
	if (!ret)
		return add(r, "kernel", "fentry", HOST_OK, "an fentry program on "
			   "security_file_ioctl loaded and attached");
	c = add(r, "kernel", "fentry", HOST_FAIL, "the kernel refused an fentry program on "
		"security_file_ioctl: %s (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=%s in %s)", eb.msg,
		config_value(f, "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS", cfg, sizeof(cfg)) ?: "?",
		f->config_src[0] ? f->config_src : "an unreadable config");
	if (ret == -EPERM && f->unprivileged)
		set_fix(c, "run ioguard doctor as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)");
	else if (ret == -EPERM)
		set_fix(c, "the kernel refuses BPF tracing programs even to root: look for "
			"lockdown=confidentiality (/sys/kernel/security/lockdown), a sandbox or "
			"hypervisor policy, or boot %s", f->debian ? "Debian's stock kernel "
			"(linux-image-amd64)" : "a distribution kernel");
	else
		set_fix(c, "%s", f->debian ? "boot Debian's stock kernel (linux-image-amd64), "
			"which attaches fentry; a hypervisor or a custom kernel may refuse it" :
			"use a kernel with CONFIG_FUNCTION_TRACER=y and "
			"CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y that allows BPF trampolines");
	return c;
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p) {
		size_t tok = strcspn(p, ",");

		if (tok == n && !strncmp(p, item, n))
			return true;
		p += tok;
		p += strspn(p, ",");
	}
	return false;
}

static struct host_check *check_bpf_lsm(struct host_report *r, const struct host_facts *f,
					host_probe_fn probe)
{
	char cfg[64], lsm_default[512], param[512];
	struct errbuf eb = { .note = NULL };
	const char *bpf_lsm, *base;
	struct host_check *c;
	int ret;

	bpf_lsm = config_value(f, "CONFIG_BPF_LSM", cfg, sizeof(cfg));
	if (!bpf_lsm)
		add(r, "kernel", "config_bpf_lsm", HOST_INFO, "the kernel's config is not "
		    "readable (no /boot/config-%s, no /proc/config.gz): CONFIG_BPF_LSM unknown",
		    r->kernel_release);
	else if (!strcmp(bpf_lsm, "y"))
		add(r, "kernel", "config_bpf_lsm", HOST_OK, "CONFIG_BPF_LSM=y in %s",
		    f->config_src);
	else
		set_fix(add(r, "kernel", "config_bpf_lsm", HOST_FAIL, "CONFIG_BPF_LSM is not "
			    "set in %s: this kernel has no BPF LSM to enforce with",
			    f->config_src),
			"%s", f->debian ? "boot Debian's stock kernel (linux-image-amd64, built "
			"with CONFIG_BPF_LSM=y)" : "use a kernel built with CONFIG_BPF_LSM=y");

	if (f->lsm_err) {
		/*
		 * Without securityfs the active list is unknown; what the kernel would
		 * have chosen is lsm= on the command line, else its CONFIG_LSM.
		 */
		base = cmdline_param(f, "lsm", param, sizeof(param));
		if (!base)
			base = config_value(f, "CONFIG_LSM", lsm_default, sizeof(lsm_default));
		c = add(r, "kernel", "bpf_lsm", HOST_FAIL, "cannot read %s (%s): the active LSMs "
			"are unknown%s%s%s", LSM_LIST, strerror(-f->lsm_err),
			base ? "; by the boot configuration they would be " : "", base ? base : "",
			base ? (list_has(base, "bpf") ? " (bpf among them)" : " (no bpf)") : "");
		set_fix(c, "mount -t securityfs securityfs /sys/kernel/security, then run "
			"ioguard doctor again");
		return c;
	}
	if (!list_has(f->lsm, "bpf")) {
		c = add(r, "kernel", "bpf_lsm", HOST_FAIL, "bpf is not in %s (%s): the BPF LSM "
			"is not active, so enforcement programs would never run", LSM_LIST,
			f->lsm[0] ? f->lsm : "empty");
		set_fix(c, "add lsm=%s%sbpf %s", f->lsm, f->lsm[0] ? "," : "",
			boot_param_howto(f));
		return c;
	}
	if (!probe)
		return add(r, "kernel", "bpf_lsm", HOST_OK, "bpf is in %s (%s); not probed",
			   LSM_LIST, f->lsm);
	ret = probe(&eb);
	if (!ret)
		return add(r, "kernel", "bpf_lsm", HOST_OK, "bpf is in %s (%s), and a BPF LSM "
			   "program on file_ioctl loaded and attached", LSM_LIST, f->lsm);
	c = add(r, "kernel", "bpf_lsm", HOST_FAIL, "bpf is in %s (%s), but the kernel "
		"refused a BPF LSM program on file_ioctl: %s", LSM_LIST, f->lsm, eb.msg);
	set_fix(c, "%s", ret == -EPERM && f->unprivileged ? "run ioguard doctor as root" :
		"see the kernel log (dmesg) for the BPF LSM's refusal");
	return c;
}

/* Returns the bpffs verdict, the one enforcement depends on. */
static enum host_status check_mounts(struct host_report *r, const struct host_facts *f)
{
	if (f->bpffs)
		add(r, "mounts", "bpffs", HOST_OK, "bpf filesystem at %s "
		    "(/proc/self/mountinfo): the enforcer's pins outlive the loader",
		    f->pin_parent);
	else
		set_fix(add(r, "mounts", "bpffs", HOST_FAIL, "no bpf filesystem at %s in "
			    "/proc/self/mountinfo: enforcement could not outlive the loader",
			    f->pin_parent),
			"mount -t bpf bpf %s (systemd mounts it at boot on Debian 12)",
			f->pin_parent);
	if (f->securityfs)
		add(r, "mounts", "securityfs", HOST_OK, "securityfs at /sys/kernel/security "
		    "(/proc/self/mountinfo)");
	else
		set_fix(add(r, "mounts", "securityfs", HOST_FAIL, "no securityfs at "
			    "/sys/kernel/security in /proc/self/mountinfo: the active LSM list "
			    "(%s) cannot be read", LSM_LIST),
			"mount -t securityfs securityfs /sys/kernel/security");
	if (f->tracefs)
		add(r, "mounts", "tracefs", HOST_OK, "tracefs at %s (/proc/self/mountinfo)",
		    f->tracefs_at);
	else
		set_fix(add(r, "mounts", "tracefs", HOST_INFO, "no tracefs at /sys/kernel/tracing "
			    "in /proc/self/mountinfo: ioguard attaches by BTF and does not need it; "
			    "bpftool, perf and the iommu:* event list do"),
			"mount -t tracefs tracefs /sys/kernel/tracing");
	return f->bpffs ? HOST_OK : HOST_FAIL;
}

static struct host_check *check_kallsyms(struct host_report *r, const struct host_facts *f)
{
	struct host_check *c;

	if (f->kallsyms_err) {
		c = add(r, "kernel", "kallsyms", HOST_FAIL, "cannot read %s (%s): the enforcer "
			"identifies VFIO and iommufd files by their ioctl handlers' addresses",
			KALLSYMS, strerror(-f->kallsyms_err));
		set_fix(c, "run as root on a kernel with CONFIG_KALLSYMS=y");
		return c;
	}
	if (f->addresses_visible)
		return add(r, "kernel", "kallsyms", HOST_OK, "%s shows addresses "
			   "(kernel.kptr_restrict = %s)", KALLSYMS,
			   f->kptr_restrict[0] ? f->kptr_restrict : "?");
	c = add(r, "kernel", "kallsyms", HOST_FAIL, "every address in %s is 0 "
		"(kernel.kptr_restrict = %s in /proc/sys/kernel/kptr_restrict): the enforcer "
		"identifies VFIO and iommufd files by their ioctl handlers' addresses", KALLSYMS,
		f->kptr_restrict[0] ? f->kptr_restrict : "?");
	if (!strcmp(f->kptr_restrict, "2"))
		set_fix(c, "sysctl -w kernel.kptr_restrict=1 (persist it in "
			"/etc/sysctl.d/90-ioguard.conf), and run as root with CAP_SYSLOG");
	else
		set_fix(c, "run as root with CAP_SYSLOG (a systemd unit needs it in its "
			"capability set)");
	return c;
}

/*
 * 32-bit processes reach VFIO and iommufd through compat_sys_ioctl, which the file_ioctl
 * LSM hook does not see; ioguard judges that path through file_ioctl_compat, and the
 * enforcer refuses a kernel that has the path without the hook (enforcer.c).
 */
static struct host_check *check_ia32(struct host_report *r, const struct host_facts *f)
{
	struct errbuf eb = { .note = NULL };
	char cfg[16], param[32];
	const char *ia32 = config_value(f, "CONFIG_IA32_EMULATION", cfg, sizeof(cfg));
	const char *boot = cmdline_param(f, "ia32_emulation", param, sizeof(param));
	char path[4096];
	struct host_check *c;
	int ret;

	if (f->kallsyms_err == 0) {
		path_of(f, path, sizeof(path), KALLSYMS);
		ret = enforcer_check_kallsyms(path, &eb);
		if (ret == -EOPNOTSUPP) {
			c = add(r, "kernel", "ia32_emulation", HOST_FAIL, "%s (*compat_sys_ioctl "
				"without bpf_lsm_file_ioctl_compat in %s)", eb.msg, KALLSYMS);
			set_fix(c, "%s", f->debian ? "upgrade to Debian 12's current kernel "
				"(6.1.74 or later has the hook)" : "a kernel with the "
				"file_ioctl_compat LSM hook (6.8+, 6.6.13+, 6.1.74+)");
			return c;
		}
	}
	if ((ia32 && !strcmp(ia32, "n")) || (!ia32 && !f->kallsyms_err && !f->compat_syscalls))
		return add(r, "kernel", "ia32_emulation", HOST_OK, "no IA32 emulation (%s): no "
			   "32-bit ioctl path to VFIO or iommufd", ia32 ? "CONFIG_IA32_EMULATION is "
			   "not set" : "no *compat_sys_ioctl in /proc/kallsyms");
	if (boot && (!strcmp(boot, "0") || !strcmp(boot, "false") || !strcmp(boot, "n")))
		return add(r, "kernel", "ia32_emulation", HOST_OK, "IA32 emulation is off "
			   "(ia32_emulation=%s in %s): no 32-bit ioctl path", boot, CMDLINE);
	if (!boot && config_is(f, "CONFIG_IA32_EMULATION_DEFAULT_DISABLED", "y"))
		return add(r, "kernel", "ia32_emulation", HOST_OK, "IA32 emulation is off "
			   "(CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y, no ia32_emulation= in %s)",
			   CMDLINE);
	return add(r, "kernel", "ia32_emulation", HOST_INFO, "32-bit processes can reach "
		   "VFIO and iommufd through compat_sys_ioctl (%s%s%s); ioguard judges that "
		   "path through the file_ioctl_compat LSM hook%s",
		   ia32 ? "CONFIG_IA32_EMULATION=y" : "*compat_sys_ioctl in /proc/kallsyms",
		   boot ? ", ia32_emulation=" : "", boot ? boot : "",
		   f->compat_hook ? " (bpf_lsm_file_ioctl_compat in /proc/kallsyms)" : "");
}

/* identity: the device's DMA is untranslated, to all of memory. */
static bool untranslated(const char *type)
{
	return posture_domain_of(type) == POSTURE_DOMAIN_IDENTITY;
}

/* Bound to vfio-pci or to nothing: handed, or free to be handed, to user space. */
static bool user_space_candidate(const struct host_facts *f, const char *bdf, char *driver,
				 size_t len)
{
	char path[4096], link[4096];
	const char *base;
	ssize_t n;

	path_of(f, path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(driver, len, "no driver");
		return true;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(driver, len, "%.*s", (int)len - 1, base ? base + 1 : link);
	return !strcmp(driver, "vfio-pci") || !strncmp(driver, "vfio_pci", 8);
}

static void check_group(struct host_report *r, const struct host_facts *f, const char *group)
{
	char live[300], path[4096], type[32], devices[512] = "", driver[64];
	bool exposed = false;
	struct host_check *c;
	struct dirent *d;
	size_t used;
	DIR *dir;

	snprintf(live, sizeof(live), "/sys/kernel/iommu_groups/%s/type", group);
	if (read_line(f, live, type, sizeof(type)) || !untranslated(type))
		return;
	path_of(f, path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", group);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (user_space_candidate(f, d->d_name, driver, sizeof(driver)))
			exposed = true;
		used = strlen(devices);
		snprintf(devices + used, sizeof(devices) - used, "%s%s on %s", used ? ", " : "",
			 d->d_name, driver);
	}
	if (dir)
		closedir(dir);
	if (!exposed)
		return;
	snprintf(live, sizeof(live), "iommu_group.%s", group);
	c = add(r, "iommu", live, HOST_WARN, "group %s's default domain is identity "
		"(/sys/kernel/iommu_groups/%s/type): its devices DMA untranslated to all memory "
		"whenever VFIO does not hold them; %s", group, group, devices);
	set_fix(c, "with the group's devices unbound, echo DMA > "
		"/sys/kernel/iommu_groups/%s/type; or drop iommu=pt %s", group,
		boot_param_howto(f));
}

static void check_iommu(struct host_report *r, const struct host_facts *f)
{
	char intel[32], amd[32], generic[32], note[160] = "", path[4096];
	const char *on_intel = cmdline_param(f, "intel_iommu", intel, sizeof(intel));
	const char *on_amd = cmdline_param(f, "amd_iommu", amd, sizeof(amd));
	const char *mode = cmdline_param(f, "iommu", generic, sizeof(generic));
	const unsigned int *counts = f->posture.domains;
	size_t n_groups = f->posture.n_groups, other;
	struct host_check *c;
	struct dirent *d;
	DIR *dir;

	snprintf(note, sizeof(note), "%s%s%s%s%s%s", on_intel ? " intel_iommu=" : "",
		 on_intel ?: "", on_amd ? " amd_iommu=" : "", on_amd ?: "",
		 mode ? " iommu=" : "", mode ?: "");
	path_of(f, path, sizeof(path), "/sys/kernel/iommu_groups");
	if (!f->posture.iommu_enabled) {
		c = add(r, "iommu", "iommu", HOST_FAIL, "no IOMMU: /sys/class/iommu and "
			"/sys/kernel/iommu_groups are empty (%s:%s): no device can be isolated, "
			"there is nothing for ioguard to guard", CMDLINE, note[0] ? note : " no "
			"intel_iommu=, amd_iommu= or iommu=");
		set_fix(c, "enable VT-d (Intel) or AMD-Vi (AMD) in the firmware setup; on Intel "
			"add intel_iommu=on %s", boot_param_howto(f));
		return;
	}
	add(r, "iommu", "iommu", HOST_OK, "%u IOMMU%s in /sys/class/iommu, %zu groups in "
		"/sys/kernel/iommu_groups (%s:%s)", f->n_iommus, f->n_iommus == 1 ? "" : "s",
		n_groups, CMDLINE, note[0] ? note : " no intel_iommu=, amd_iommu= or iommu=");
	if (!n_groups)
		return;
	other = n_groups - counts[POSTURE_DOMAIN_DMA] - counts[POSTURE_DOMAIN_DMA_FQ] -
		counts[POSTURE_DOMAIN_IDENTITY];
	if (!counts[POSTURE_DOMAIN_IDENTITY] && !other) {
		add(r, "iommu", "iommu_domains", HOST_OK, "every group translates DMA "
		    "(/sys/kernel/iommu_groups/*/type: DMA %u, DMA-FQ %u)", counts[POSTURE_DOMAIN_DMA],
		    counts[POSTURE_DOMAIN_DMA_FQ]);
	} else {
		add(r, "iommu", "iommu_domains", counts[POSTURE_DOMAIN_IDENTITY] ? HOST_INFO : HOST_OK,
		    "default domains (/sys/kernel/iommu_groups/*/type): DMA %u, DMA-FQ %u, "
		    "identity %u, other %zu%s", counts[POSTURE_DOMAIN_DMA], counts[POSTURE_DOMAIN_DMA_FQ],
		    counts[POSTURE_DOMAIN_IDENTITY], other,
		    mode && !strcmp(mode, "pt") ? " (iommu=pt makes host-owned groups identity)" :
		    "");
		dir = opendir(path);
		while (dir && (d = readdir(dir))) {
			if (d->d_name[0] != '.')
				check_group(r, f, d->d_name);
		}
		if (dir)
			closedir(dir);
	}
}

/* The checks whose FAIL makes group viability, and so every verdict of ioguard, void. */
static void check_isolation(struct host_report *r, const struct host_facts *f)
{
	char acs[256], noiommu[16], boot[16];
	struct host_check *c;
	int ret;

	if (cmdline_param(f, "pcie_acs_override", acs, sizeof(acs))) {
		c = add(r, "isolation", "acs_override", HOST_FAIL, "pcie_acs_override=%s in %s: "
			"the kernel splits IOMMU groups it cannot prove isolated, so devices of "
			"'separate' groups may still reach each other by peer-to-peer DMA and group "
			"viability proves nothing", acs, CMDLINE);
		set_fix(c, "remove pcie_acs_override= %s; pass whole groups to a tenant instead",
			f->debian ? "from GRUB_CMDLINE_LINUX of /etc/default/grub, run update-grub "
			"and reboot" : "from the kernel command line and reboot");
	} else {
		add(r, "isolation", "acs_override", HOST_OK, "no pcie_acs_override= in %s: IOMMU "
		    "groups are as the kernel proved them", CMDLINE);
	}

	ret = read_line(f, NOIOMMU_PARAM, noiommu, sizeof(noiommu));
	if (!ret && (noiommu[0] == 'Y' || noiommu[0] == '1')) {
		c = add(r, "isolation", "noiommu", HOST_FAIL, "%s = %s: VFIO hands devices to "
			"user space without an IOMMU, so their DMA reaches all of memory and no "
			"group isolates anything", NOIOMMU_PARAM, noiommu);
		set_fix(c, "echo N > %s (with no noiommu group open), and drop "
			"vfio.enable_unsafe_noiommu_mode from the kernel command line and "
			"/etc/modprobe.d", NOIOMMU_PARAM);
	} else if (ret && cmdline_param(f, "vfio.enable_unsafe_noiommu_mode", boot, sizeof(boot)) &&
		   (boot[0] == 'Y' || boot[0] == 'y' || boot[0] == '1')) {
		c = add(r, "isolation", "noiommu", HOST_WARN, "vfio.enable_unsafe_noiommu_mode=%s "
			"in %s: once vfio loads it hands devices to user space without an IOMMU",
			boot, CMDLINE);
		set_fix(c, "remove vfio.enable_unsafe_noiommu_mode= %s", boot_param_howto(f));
	} else if (ret) {
		add(r, "isolation", "noiommu", HOST_OK, "no %s (%s)", NOIOMMU_PARAM,
		    f->modules[0] == MODULE_ABSENT ? "vfio not loaded" :
		    "vfio built without CONFIG_VFIO_NOIOMMU");
	} else {
		add(r, "isolation", "noiommu", HOST_OK, "%s = %s", NOIOMMU_PARAM, noiommu);
	}
}

/*
 * VFIO refuses a device without interrupt remapping unless allow_unsafe_interrupts is
 * set; with it, a device can forge MSIs to any vector (vfio_iommu_type1.c, iommufd's
 * iommufd_allow_unsafe_interrupts). Only the combination of both lets that happen.
 */
static void check_interrupts(struct host_report *r, const struct host_facts *f)
{
	const struct host_posture *p = &f->posture;
	bool type1 = p->unsafe_interrupts[POSTURE_IRQ_VFIO_TYPE1] == POSTURE_ON;
	bool iommufd = p->unsafe_interrupts[POSTURE_IRQ_IOMMUFD] == POSTURE_ON;
	const char *remap = p->irq_remapping == POSTURE_ON ? "IR- chips in /proc/interrupts" :
			    p->irq_remapping == POSTURE_OFF ? "no IR- chip in /proc/interrupts" :
			    "/proc/interrupts shows no IO-APIC or PCI-MSI chip";
	struct host_check *c;

	if (!type1 && !iommufd) {
		add(r, "isolation", "interrupts", HOST_OK, "allow_unsafe_interrupts is off for "
		    "vfio_iommu_type1 and iommufd: VFIO assigns devices only with interrupt "
		    "remapping (IRQ remapping %s: %s)", posture_state__str(p->irq_remapping),
		    remap);
		return;
	}
	c = add(r, "isolation", "interrupts", p->irq_remapping == POSTURE_ON ? HOST_INFO : HOST_WARN,
		"allow_unsafe_interrupts is on for%s%s%s (/sys/module/*/parameters or %s), and "
		"IRQ remapping is %s (%s)%s", type1 ? " vfio_iommu_type1" : "",
		type1 && iommufd ? " and" : "", iommufd ? " iommufd" : "", CMDLINE,
		posture_state__str(p->irq_remapping), remap,
		p->irq_remapping == POSTURE_ON ? "" : ": an assigned device can forge MSIs "
		"to any interrupt vector of the host");
	set_fix(c, "drop allow_unsafe_interrupts from the kernel command line and "
		"/etc/modprobe.d, where the platform has interrupt remapping");
}

/* IMA's hash: ima_hash= on the command line, else CONFIG_IMA_DEFAULT_HASH (as enforcer.c). */
static void check_exe_sha256(struct host_report *r, const struct host_facts *f)
{
	char param[64], cfg[64], src[400];
	const char *algo = cmdline_param(f, "ima_hash", param, sizeof(param));
	struct host_check *c;

	if (algo)
		snprintf(src, sizeof(src), "ima_hash= in %s", CMDLINE);
	else if ((algo = config_value(f, "CONFIG_IMA_DEFAULT_HASH", cfg, sizeof(cfg))))
		snprintf(src, sizeof(src), "CONFIG_IMA_DEFAULT_HASH in %s", f->config_src);
	if (f->kallsyms_err) {
		add(r, "feature", "feature.exe_sha256", HOST_WARN, "unknown: %s is unreadable, so "
		    "whether IMA (ima_file_hash) is there is unknown", KALLSYMS);
	} else if (!f->ima_file_hash) {
		c = add(r, "feature", "feature.exe_sha256", HOST_WARN, "unavailable: no "
			"ima_file_hash in %s (a kernel without CONFIG_IMA); a policy with "
			"exe_sha256 is refused", KALLSYMS);
		set_fix(c, "use a kernel with CONFIG_IMA=y (Debian's stock kernel has it)");
	} else if (algo && strcmp(algo, "sha256")) {
		c = add(r, "feature", "feature.exe_sha256", HOST_WARN, "unavailable: IMA hashes "
			"with %s (%s); a policy with exe_sha256 is refused", algo, src);
		set_fix(c, "add ima_hash=sha256 %s", boot_param_howto(f));
	} else {
		add(r, "feature", "feature.exe_sha256", HOST_OK, "ima_file_hash in %s, IMA hashes "
		    "with %s%s%s%s", KALLSYMS, algo ? algo : "its default (unknown: no ima_hash=, "
		    "config unreadable)", algo ? " (" : "", algo ? src : "", algo ? ")" : "");
	}
}

/*
 * trace and metrics run the same programs. With @probe, what ioguard's tracer really
 * loads; a kernel that attaches fentry can still refuse ioguard's fentry programs (its
 * verifier), and then the tracer falls back as it would for `ioguard trace`.
 */
static void check_trace(struct host_report *r, const struct verdicts *v,
			host_trace_probe_fn probe)
{
	char desc[512] = "";
	bool fentry = false;
	int ret;

	if (v->btf == HOST_FAIL) {
		add(r, "feature", "feature.trace", HOST_FAIL, "unavailable: no kernel BTF");
		add(r, "feature", "feature.metrics", HOST_FAIL, "unavailable: no kernel BTF");
		return;
	}
	if (probe) {
		ret = probe(&fentry, desc, sizeof(desc));
		if (ret) {
			add(r, "feature", "feature.trace", HOST_FAIL, "ioguard's tracer does not "
			    "load: %s", desc[0] ? desc : strerror(-ret));
			add(r, "feature", "feature.metrics", HOST_FAIL, "unavailable: it needs the "
			    "tracer");
		} else if (fentry) {
			add(r, "feature", "feature.trace", HOST_OK, "ioguard's tracer loaded, %s",
			    desc);
			add(r, "feature", "feature.metrics", HOST_OK, "from the fentry/fexit "
			    "programs: latency histograms, failures by errno");
		} else {
			add(r, "feature", "feature.trace", HOST_WARN, "ioguard's tracer loaded, %s%s",
			    desc, v->fentry == HOST_OK ? "; this kernel attaches fentry (above), "
			    "so ioguard's own fentry programs were refused: 'ioguard trace --mode "
			    "fentry --verbose' shows the verifier's reason" : "");
			add(r, "feature", "feature.metrics", HOST_WARN, "from the tp_btf fallback: "
			    "counts only, no latency histograms or failures");
		}
		return;
	}
	if (v->fentry == HOST_OK) {
		add(r, "feature", "feature.trace", HOST_OK, "fentry/fexit mode (the kernel attaches "
		    "fentry; ioguard's tracer not loaded): latency, return values, domains and "
		    "ownership claims");
		add(r, "feature", "feature.metrics", HOST_OK, "from the fentry/fexit programs: "
		    "latency histograms, failures by errno");
	} else if (v->fentry == HOST_FAIL) {
		add(r, "feature", "feature.trace", HOST_WARN, "tp_btf fallback (fentry refused): "
		    "attach, map and unmap from the iommu:* tracepoints, without latency, return "
		    "values, domains or ownership claims");
		add(r, "feature", "feature.metrics", HOST_WARN, "from the tp_btf fallback: "
		    "counts only, no latency histograms or failures");
	} else {
		add(r, "feature", "feature.trace", HOST_INFO, "fentry/fexit, or the tp_btf "
		    "fallback if the kernel refuses fentry (not probed)");
		add(r, "feature", "feature.metrics", HOST_INFO, "as trace (not probed)");
	}
}

/* Whether enforcement can run here, from the verdicts of the checks it needs. */
static void check_enforce(struct host_report *r, const struct verdicts *v)
{
	const enum host_status needs[] = {
		v->btf, v->fentry, v->lsm, v->bpffs, v->kallsyms, v->ia32,
	};
	static const char *const need_names[] = {
		"kernel_btf", "fentry", "bpf_lsm", "bpffs", "kallsyms", "ia32_emulation",
	};
	char missing[256] = "";
	size_t i, used;

	for (i = 0; i < ARRAY_SIZE(needs); i++) {
		if (needs[i] != HOST_FAIL)
			continue;
		used = strlen(missing);
		snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "",
			 need_names[i]);
	}
	/*
	 * Facts only: doctor never loads the enforcer's programs (a load pins them), so
	 * whether this kernel's verifier takes them is for 'ioguard load' to say.
	 */
	if (missing[0])
		add(r, "feature", "feature.enforce", HOST_FAIL, "cannot run: %s failed (above)",
		    missing);
	else if (v->fentry == HOST_INFO)
		add(r, "feature", "feature.enforce", HOST_INFO, "the kernel has what enforcement "
		    "needs if it attaches fentry (not probed): BPF LSM active, bpffs mounted, "
		    "kallsyms readable");
	else
		add(r, "feature", "feature.enforce", HOST_OK, "the kernel has what enforcement "
		    "needs: BPF LSM active, fentry attaches, bpffs mounted, kallsyms readable "
		    "('ioguard load' verifies the programs themselves)");
}

/* Which ways this host hands devices to user space: iommufd, VFIO's container, both. */
static void check_backends(struct host_report *r, const struct host_facts *f)
{
	bool iommufd = exists(f, "/dev/iommu"), container = exists(f, "/dev/vfio/vfio");
	bool compat_config = config_is(f, "CONFIG_IOMMUFD_VFIO_CONTAINER", "y");
	/* Only iommufd serves a /dev/vfio/vfio whose VFIO container code is absent. */
	bool compat_seen = container && !f->kallsyms_err && !f->legacy_container;
	bool compat_container = compat_config || compat_seen;
	struct host_check *c;

	if (iommufd)
		add(r, "feature", "feature.iommufd", HOST_OK, "/dev/iommu exists");
	else
		set_fix(add(r, "feature", "feature.iommufd", HOST_INFO, "no /dev/iommu (%s%s%s)",
			    config_is(f, "CONFIG_IOMMUFD", "m") ? "CONFIG_IOMMUFD=m, not loaded" :
			    config_is(f, "CONFIG_IOMMUFD", "n") ? "CONFIG_IOMMUFD is not set" :
			    config_is(f, "CONFIG_IOMMUFD", "y") ? "CONFIG_IOMMUFD=y" :
			    "kernel config unreadable", f->config ? " in " : "", f->config_src),
			"%s", config_is(f, "CONFIG_IOMMUFD", "m") ? "modprobe iommufd, if this host "
			"uses it" : "");
	if (container && (f->legacy_container || (!compat_container &&
						  f->modules[1] != MODULE_ABSENT)))
		add(r, "feature", "feature.vfio_type1", HOST_OK, "/dev/vfio/vfio exists and is "
		    "VFIO's own container (vfio_fops_unl_ioctl in %s, vfio_iommu_type1 %s)",
		    KALLSYMS, f->modules[1] == MODULE_ABSENT ? "not loaded" : "present");
	else if (container)
		add(r, "feature", "feature.vfio_type1", HOST_INFO, "/dev/vfio/vfio exists, served "
		    "by iommufd's emulation (no vfio_fops_unl_ioctl in %s)", KALLSYMS);
	else
		add(r, "feature", "feature.vfio_type1", HOST_INFO, "no /dev/vfio/vfio: no legacy "
		    "VFIO container (vfio not loaded, or CONFIG_VFIO_CONTAINER not set)");
	if (compat_config)
		add(r, "feature", "feature.iommufd_vfio_compat", HOST_OK, "CONFIG_IOMMUFD_VFIO_"
		    "CONTAINER=y in %s: /dev/vfio/vfio is iommufd's, guarded as an iommufd file",
		    f->config_src);
	else if (compat_seen)
		add(r, "feature", "feature.iommufd_vfio_compat", HOST_OK, "/dev/vfio/vfio exists "
		    "and VFIO's own container (vfio_fops_unl_ioctl) is not in %s: iommufd serves "
		    "it (CONFIG_IOMMUFD_VFIO_CONTAINER), guarded as an iommufd file", KALLSYMS);
	else
		add(r, "feature", "feature.iommufd_vfio_compat", HOST_INFO, "CONFIG_IOMMUFD_VFIO_"
		    "CONTAINER is %s%s", f->config ? "not set in " : "unknown (config unreadable)",
		    f->config_src);
	if (!iommufd && !container) {
		c = add(r, "feature", "feature.user_space_dma", HOST_WARN, "neither /dev/iommu nor "
			"/dev/vfio/vfio exists: nothing hands devices to user space yet");
		if (!config_is(f, "CONFIG_VFIO", "n"))
			set_fix(c, "modprobe vfio-pci (and iommufd), if this host assigns devices");
	}
}

static void check_features(struct host_report *r, const struct host_facts *f,
			   const struct verdicts *v, host_trace_probe_fn probe_trace)
{
	check_trace(r, v, probe_trace);
	check_enforce(r, v);
	check_exe_sha256(r, f);
	check_backends(r, f);
}

static void read_facts(struct host_facts *f, struct host_report *r)
{
	size_t i;

	read_line(f, "/proc/sys/kernel/osrelease", r->kernel_release, sizeof(r->kernel_release));
	read_line(f, CMDLINE, f->cmdline, sizeof(f->cmdline));
	read_line(f, "/proc/sys/kernel/kptr_restrict", f->kptr_restrict, sizeof(f->kptr_restrict));
	f->lsm_err = read_line(f, LSM_LIST, f->lsm, sizeof(f->lsm));
	read_os_release(f, r);
	read_config(f, r->kernel_release);
	read_mounts(f);
	read_kallsyms(f);
	f->n_iommus = count_entries(f, "/sys/class/iommu");
	host_posture_read(f->root, &f->posture);
	for (i = 0; i < ARRAY_SIZE(hooked_modules); i++)
		f->modules[i] = module_state(f, hooked_modules[i], r->kernel_release);
}

int host_check_run(const struct host_check_opts *opts, struct host_report **out)
{
	struct host_facts f = { .root = "" };
	char pin_parent[4096], *slash;
	struct report_build *b;
	struct verdicts v;
	size_t i;
	int err = 0;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (opts && opts->root)
		f.root = opts->root;
	snprintf(pin_parent, sizeof(pin_parent), "%s",
		 opts && opts->pin_dir ? opts->pin_dir : PINS_DEFAULT_DIR);
	slash = strrchr(pin_parent, '/');
	if (slash && slash != pin_parent)
		*slash = '\0';
	f.pin_parent = pin_parent;
	f.unprivileged = opts && opts->unprivileged;
	read_facts(&f, &b->report);

	/* Statuses are read at once: a later add() may move the list. */
	v.btf = check_btf(&b->report, &f);
	v.fentry = status_of(check_fentry(&b->report, &f, opts ? opts->probe_fentry : NULL));
	v.lsm = status_of(check_bpf_lsm(&b->report, &f, opts ? opts->probe_lsm : NULL));
	v.bpffs = check_mounts(&b->report, &f);
	v.kallsyms = status_of(check_kallsyms(&b->report, &f));
	v.ia32 = status_of(check_ia32(&b->report, &f));
	check_iommu(&b->report, &f);
	check_isolation(&b->report, &f);
	check_interrupts(&b->report, &f);
	check_features(&b->report, &f, &v, opts ? opts->probe_trace : NULL);
	free(f.config);
	if (b->oom) {
		err = -ENOMEM;
		host_report__free(&b->report);
		return err;
	}
	for (i = 0; i < b->report.n_checks; i++)
		b->report.counts[b->report.checks[i].status]++;
	*out = &b->report;
	return 0;
}

void host_report__free(struct host_report *r)
{
	if (!r)
		return;
	free(r->checks);
	free(container_of(r, struct report_build, report));
}

const struct host_check *host_report__find(const struct host_report *r, const char *name)
{
	size_t i;

	for (i = 0; r && i < r->n_checks; i++) {
		if (!strcmp(r->checks[i].name, name))
			return &r->checks[i];
	}
	return NULL;
}

bool host_report__enforcement_ok(const struct host_report *r)
{
	return r && !r->counts[HOST_FAIL];
}
