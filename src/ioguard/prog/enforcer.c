// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "output/abi_names.h"
#include "output/array_size.h"
#include "enforcer.h"
#include "enforce.skel.h"
#include "output/errbuf.h"
#include "output/hex.h"
#include "pinned_layout.h"
#include "pins.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define LSM_LIST_PATH "/sys/kernel/security/lsm"
#define KALLSYMS_PATH "/proc/kallsyms"
#define KALLSYMS_READ_SIZE (1 << 20)

/*
 * Maps shared between loads; every other object is recreated by a first load. A change
 * to this list, or to any of these maps' types, keys or values, is a new layout: bump
 * PINNED_LAYOUT_VERSION (pinned_layout.h) with it.
 */
static const char *const pinned_maps[] = {
	"active", "policies", "matches", "kernel_info", "decisions", "decision_counts",
	"holders", "accounts", "account_holders", "pending", "executed",
};

/*
 * Kernel symbols the load depends on beyond the ioctl handlers. The compat hook is
 * required wherever the kernel has compat syscalls: without it every 32-bit ioctl would
 * pass unjudged. It came with v6.8 and was backported to the 6.1 and 6.6 stable series.
 */
#define LSM_COMPAT_HOOK "bpf_lsm_file_ioctl_compat"
#define COMPAT_SYSCALL_SUFFIX "compat_sys_ioctl"
/* What bpf_ima_file_hash() calls; absent (a stub) in a kernel without CONFIG_IMA. */
#define IMA_FILE_HASH "ima_file_hash"

/* The ioctl handler that identifies each file kind, by enum ioguard_file_kind. */
static const char *const ioctl_handlers[IOGUARD_FILE_KIND_COUNT] = {
	[IOGUARD_FILE_GROUP] = "vfio_group_fops_unl_ioctl",
	[IOGUARD_FILE_DEVICE] = "vfio_device_fops_unl_ioctl",
	[IOGUARD_FILE_IOMMUFD] = "iommufd_fops_ioctl",
	[IOGUARD_FILE_CONTAINER] = "vfio_fops_unl_ioctl",
};

int enforcer_probe(struct errbuf *eb)
{
	char lsms[512] = "", parent[4096], *tok, *save;
	struct statfs fs;
	FILE *f;

	snprintf(parent, sizeof(parent), "%s", pins_dir());
	tok = strrchr(parent, '/');
	if (parent[0] != '/' || !tok || tok == parent || !tok[1])
		return errbuf_set(eb, -EINVAL, "the pin directory '%s' (IOGUARD_PIN_DIR) must "
				  "be an absolute path below a bpffs mount, such as "
				  "/sys/fs/bpf/ioguard", pins_dir());
	*tok = '\0';
	if (statfs(parent, &fs) || fs.f_type != BPF_FS_MAGIC)
		return errbuf_set(eb, -ENOENT, "bpffs is not mounted at %s, so enforcement "
				  "could not outlive the loader: mount -t bpf bpf %s", parent,
				  parent);
	f = fopen(LSM_LIST_PATH, "r");
	if (!f)
		return errbuf_set(eb, -ENOENT, "cannot read %s (%s), so the active LSMs are "
				  "unknown: mount securityfs with 'mount -t securityfs "
				  "securityfs /sys/kernel/security'", LSM_LIST_PATH,
				  strerror(errno));
	if (!fgets(lsms, sizeof(lsms), f))
		lsms[0] = '\0';
	fclose(f);
	lsms[strcspn(lsms, "\n")] = '\0';
	{
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", lsms);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "bpf"))
				return 0;
		}
	}
	return errbuf_set(eb, -EOPNOTSUPP, "the BPF LSM is not active (active LSMs: %s): boot "
			  "with lsm=%s%sbpf on the kernel command line (needs "
			  "CONFIG_BPF_LSM=y)", lsms[0] ? lsms : "none", lsms,
			  lsms[0] ? "," : "");
}

/*
 * Kernel functions the fentry/fexit programs attach to, and the compat LSM hook: each is
 * looked up in kallsyms so that a program whose function is absent (module not loaded,
 * older kernel) is not loaded instead of failing the whole load.
 */
static const char *const kernel_functions[] = {
	"vfio_fops_unl_ioctl", "iommufd_fops_ioctl", "vfio_remove_dma",
	"vfio_iommu_type1_release", "iopt_unmap_iova", "iopt_unmap_all",
	"iommufd_fops_release", "vfio_pin_pages_remote", "iopt_map_pages", "iommufd_hwpt_alloc",
	"iommufd_vfio_compat_ioas_create",
	LSM_COMPAT_HOOK, IMA_FILE_HASH,
};
#define N_KERNEL_FUNCTIONS ARRAY_SIZE(kernel_functions)

struct kernel_probe {
	struct ioguard_kernel_info info;
	bool compat_syscalls;			/* a *compat_sys_ioctl entry exists */
	bool present[N_KERNEL_FUNCTIONS];
};

static bool kernel_has(const struct kernel_probe *kp, const char *fn)
{
	size_t i;

	for (i = 0; i < N_KERNEL_FUNCTIONS; i++) {
		if (!strcmp(fn, kernel_functions[i]))
			return kp->present[i];
	}
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * One "ADDRESS TYPE NAME[\t[MODULE]]" line of kallsyms, split in place: the name ends
 * at the first blank. False for any other shape. Not sscanf(): a modular kernel lists
 * 100-200 thousand symbols, of which a load keeps a handful, and under emulation
 * scanning each with sscanf() cost seconds a load.
 */
static bool kallsyms_split(char *line, char **name, char *type)
{
	char *sp = strchr(line, ' ');

	if (!sp || sp == line || !sp[1] || sp[2] != ' ')
		return false;
	*type = sp[1];
	*name = sp + 3;
	(*name)[strcspn(*name, " \t\n")] = '\0';
	return **name != '\0';
}

/*
 * Addresses of the ioctl handlers and the functions above, from @kallsyms (the kernel's
 * /proc/kallsyms, or a fake one in a unit test). -EPERM when a handler's address reads
 * as zero: addresses are hidden from this reader.
 */
static int scan_kallsyms(const char *kallsyms, struct kernel_probe *kp, struct errbuf *eb)
{
	struct ioguard_kernel_info *k = &kp->info;
	char line[512], *name, type, *kallsyms_buf;
	unsigned long long addr;
	bool any_zero = false;
	size_t j;
	FILE *f;
	int i;

	f = fopen(kallsyms, "r");
	if (!f)
		return errbuf_set(eb, -errno, "cannot read %s: %s", kallsyms, strerror(errno));
	/* kallsyms is generated per read: few large reads cost far less than many small. */
	kallsyms_buf = malloc(KALLSYMS_READ_SIZE);
	if (kallsyms_buf)
		setvbuf(f, kallsyms_buf, _IOFBF, KALLSYMS_READ_SIZE);
	while (fgets(line, sizeof(line), f)) {
		if (!kallsyms_split(line, &name, &type) || (type != 't' && type != 'T'))
			continue;
		if (ends_with(name, COMPAT_SYSCALL_SUFFIX))
			kp->compat_syscalls = true;
		for (j = 0; j < N_KERNEL_FUNCTIONS; j++) {
			if (!strcmp(name, kernel_functions[j]))
				kp->present[j] = true;
		}
		for (i = 0; i < IOGUARD_FILE_KIND_COUNT; i++) {
			if (strcmp(name, ioctl_handlers[i]))
				continue;
			addr = strtoull(line, NULL, 16);
			if (!addr)
				any_zero = true;
			k->ioctl_handler[i] = addr;
		}
	}
	fclose(f);
	free(kallsyms_buf);
	if (any_zero)
		return errbuf_set(eb, -EPERM, "kernel addresses are hidden in /proc/kallsyms: "
				  "run as root with CAP_SYSLOG (a systemd unit needs it in its "
				  "capability set) and kernel.kptr_restrict at most 1");
	return 0;
}

/*
 * Clears the handler address of each file kind the programs could not judge whole, so
 * that its files stay unidentified, and denied. True when vfio.ko has no BTF.
 */
static bool forget_unjudgeable_handlers(struct kernel_probe *kp)
{
	struct ioguard_kernel_info *k = &kp->info;

	/*
	 * The container's handler is vfio's, its maps are type1's: without type1's functions
	 * (module not loaded yet) its maps could be neither given back nor compared with the
	 * kernel's copy, so the container stays unidentified, and denied, until a load after
	 * the module's.
	 */
	if (!kernel_has(kp, "vfio_remove_dma") || !kernel_has(kp, "vfio_pin_pages_remote"))
		k->ioctl_handler[IOGUARD_FILE_CONTAINER] = 0;
	/*
	 * A group joins an iommufd (SET_CONTAINER on its emulated /dev/vfio/vfio) through
	 * iommufd_vfio_compat_ioas_create(), where the fd the kernel found is compared with
	 * the one judged. iommufd has had it since its first release; a kernel without it
	 * leaves iommufd files unidentified, and denied, rather than that check unmade.
	 */
	if (!kernel_has(kp, "iommufd_vfio_compat_ioas_create"))
		k->ioctl_handler[IOGUARD_FILE_IOMMUFD] = 0;
	/*
	 * Group and device files are judged through vfio's structs, which the programs can
	 * read only if vfio.ko brought its BTF (CONFIG_DEBUG_INFO_BTF_MODULES); built in,
	 * they are in vmlinux's. A loaded module without it leaves them unidentified, and
	 * denied, rather than identified and read through structs compiled out.
	 */
	if (!access("/sys/module/vfio/initstate", F_OK) && access("/sys/kernel/btf/vfio", F_OK)) {
		k->ioctl_handler[IOGUARD_FILE_GROUP] = 0;
		k->ioctl_handler[IOGUARD_FILE_DEVICE] = 0;
		return true;
	}
	return false;
}

static void read_device_numbers(struct ioguard_kernel_info *k)
{
	struct stat st;

	if (!stat("/dev/iommu", &st) && S_ISCHR(st.st_mode))
		k->iommufd_rdev = (major(st.st_rdev) << 20) | minor(st.st_rdev);
	if (!stat("/dev/vfio/vfio", &st) && S_ISCHR(st.st_mode))
		k->container_rdev = (major(st.st_rdev) << 20) | minor(st.st_rdev);
}

/* Says in @notes which file kinds go unidentified, and so denied, and why. */
static void describe_unidentified(const struct ioguard_kernel_info *k, bool no_vfio_btf,
				  char *notes, size_t notes_len)
{
	size_t used;
	int i;

	notes[0] = '\0';
	for (i = 0; i < IOGUARD_FILE_KIND_COUNT; i++) {
		if (k->ioctl_handler[i])
			continue;
		if (no_vfio_btf && (i == IOGUARD_FILE_GROUP || i == IOGUARD_FILE_DEVICE))
			continue;	/* in the kernel, but unreadable: said below */
		/* With CONFIG_IOMMUFD_VFIO_CONTAINER, /dev/vfio/vfio is an iommufd file. */
		if (i == IOGUARD_FILE_CONTAINER && k->container_rdev &&
		    k->ioctl_handler[IOGUARD_FILE_IOMMUFD])
			continue;
		used = strlen(notes);
		snprintf(notes + used, notes_len - used, "%s%s", used ? ", " : "",
			 abi_file_kind_name(i));
	}
	if (notes[0]) {
		used = strlen(notes);
		snprintf(notes + used, notes_len - used, ": not in this kernel now; if their "
			 "module loads later, their VFIO/iommufd ioctls are denied until the policy "
			 "is loaded again");
	}
	if (no_vfio_btf) {
		used = strlen(notes);
		snprintf(notes + used, notes_len - used, "%svfio.ko is loaded without BTF "
			 "(/sys/kernel/btf/vfio; CONFIG_DEBUG_INFO_BTF_MODULES): VFIO group and "
			 "device files cannot be read, so every VFIO ioctl is denied",
			 used ? "; " : "");
	}
}

/*
 * What the load needs to know of the kernel, from @kallsyms and the devices; @notes
 * (always set) says what the programs will not be able to judge.
 */
static int resolve_kernel_at(const char *kallsyms, struct kernel_probe *kp, char *notes,
			     size_t notes_len, struct errbuf *eb)
{
	bool no_vfio_btf;
	int ret;

	memset(kp, 0, sizeof(*kp));
	ret = scan_kallsyms(kallsyms, kp, eb);
	if (ret)
		return ret;
	if (kp->compat_syscalls && !kernel_has(kp, LSM_COMPAT_HOOK))
		return errbuf_set(eb, -EOPNOTSUPP, "this kernel runs 32-bit system calls but "
				  "has no file_ioctl_compat LSM hook, so 32-bit VFIO ioctls "
				  "would go unjudged: use a kernel with the hook (6.8+, "
				  "6.6.13+, 6.1.74+) or one built without IA32_EMULATION");
	no_vfio_btf = forget_unjudgeable_handlers(kp);
	read_device_numbers(&kp->info);
	describe_unidentified(&kp->info, no_vfio_btf, notes, notes_len);
	return 0;
}

static int resolve_kernel(struct kernel_probe *kp, char *notes, size_t notes_len,
			  struct errbuf *eb)
{
	return resolve_kernel_at(KALLSYMS_PATH, kp, notes, notes_len, eb);
}

int enforcer_check_kallsyms(const char *kallsyms, struct errbuf *eb)
{
	struct kernel_probe kp;
	char notes[256];

	return resolve_kernel_at(kallsyms, &kp, notes, sizeof(notes), eb);
}

/* Waits until no program can still be running with what it read before this call. */
static void wait_for_readers(void)
{
	/* MEMBARRIER_CMD_GLOBAL is a synchronize_rcu(), and BPF programs run under RCU. */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(100 * 1000);
}

bool enforcer_slot_fits(int policies_fd)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);

	return !bpf_obj_get_info_by_fd(policies_fd, &info, &info_len) &&
	       info.value_size <= sizeof(struct ioguard_policy_slot);
}

/* Deletes every match key of generation @gen. */
static void clear_generation(int matches_fd, __u32 gen)
{
	struct ioguard_match_key key, next, *prev = NULL;
	struct ioguard_match_key *doomed = NULL;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(matches_fd, prev, &next)) {
		if (next.gen == gen) {
			if (n == cap) {
				struct ioguard_match_key *d;

				cap = cap ? cap * 2 : 64;
				d = realloc(doomed, cap * sizeof(*d));
				if (!d)
					break;
				doomed = d;
			}
			doomed[n++] = next;
		}
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(matches_fd, &doomed[i]);
	free(doomed);
}

/* Writes @cp into generation @gen of the pinned maps; not yet active. */
static int write_generation(int policies_fd, int matches_fd, const struct compiled_policy *cp,
			    __u32 gen, struct errbuf *eb)
{
	__u8 one = 1;
	size_t i;

	clear_generation(matches_fd, gen);
	for (i = 0; i < cp->n_matches; i++) {
		struct ioguard_match_key key = cp->matches[i];

		key.gen = gen;
		if (bpf_map_update_elem(matches_fd, &key, &one, BPF_ANY))
			return errbuf_set(eb, -errno, "cannot write the policy's match table: "
					  "%s", strerror(errno));
	}
	if (bpf_map_update_elem(policies_fd, &gen, &cp->slot, BPF_ANY))
		return errbuf_set(eb, -errno, "cannot write the policy slot: %s",
				  strerror(errno));
	return 0;
}

const char *enforcer_program_target(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	if (!strncmp(sec, "fexit/", 6))
		return sec + 6;
	if (!strncmp(sec, "fentry/", 7))
		return sec + 7;
	if (!strcmp(sec, "lsm/file_ioctl_compat"))
		return LSM_COMPAT_HOOK;
	return NULL;
}

/* Programs whose kernel function or hook is absent are not loaded (see kernel_functions). */
static void choose_programs(struct enforce_bpf *skel, const struct kernel_probe *kp)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *target = enforcer_program_target(prog);

		if (target && !kernel_has(kp, target))
			bpf_program__set_autoload(prog, false);
	}
}

/*
 * Opens and loads the programs this kernel has targets for, and writes its addresses.
 * NULL with *@ret and the reason in @eb on failure.
 */
static struct enforce_bpf *load_programs(const struct kernel_probe *kp, int *ret,
					 struct errbuf *eb)
{
	struct enforce_bpf *skel = enforce_bpf__open();
	__u32 zero = 0;

	if (!skel) {
		*ret = errbuf_set(eb, -errno, "cannot open the enforcement programs: %s",
				  strerror(errno));
		return NULL;
	}
	choose_programs(skel, kp);
	skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	*ret = enforce_bpf__load(skel);
	if (*ret) {
		errbuf_set(eb, *ret, "the kernel refused the enforcement programs: %s (run "
			   "with --verbose for the verifier log)", strerror(-*ret));
		goto err_destroy;
	}
	if (bpf_map__update_elem(skel->maps.kernel_info, &zero, sizeof(zero), &kp->info,
				 sizeof(kp->info), BPF_ANY)) {
		*ret = errbuf_set(eb, -errno, "cannot write the kernel addresses: %s",
				  strerror(errno));
		goto err_destroy;
	}
	return skel;
err_destroy:
	enforce_bpf__destroy(skel);
	return NULL;
}

/*
 * Attaches every loaded program: @links and @names (the programs') get *@n_links
 * entries, also on failure, so that the caller destroys what was attached.
 */
static int attach_programs(struct enforce_bpf *skel, struct bpf_link **links,
			   const char **names, size_t *n_links, struct errbuf *eb)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (*n_links == ENFORCER_MAX_LINKS) {
			return errbuf_set(eb, -E2BIG, "more programs than ENFORCER_MAX_LINKS "
					  "(%d)", ENFORCER_MAX_LINKS);
		}
		links[*n_links] = bpf_program__attach(prog);
		if (!links[*n_links]) {
			return errbuf_set(eb, -errno, "cannot attach %s (%s): %s",
					  bpf_program__name(prog),
					  bpf_program__section_name(prog), strerror(errno));
		}
		names[(*n_links)++] = bpf_program__name(prog);
	}
	return 0;
}

static bool link_pinned(const char *prog_name)
{
	char name[256], path[4096];

	return !pins_link_name(name, sizeof(name), prog_name) &&
	       !pins_path(path, sizeof(path), name) && !access(path, F_OK);
}

/*
 * The LSM programs judge files through vfio's structs (enforce.bpf.c, device_file_dev());
 * the fentry/fexit ones hook type1 and iommufd and do not read them.
 */
static bool reads_vfio(const struct bpf_program *prog)
{
	return !strncmp(bpf_program__section_name(prog), "lsm", 3);
}

static void remove_staging(void);
static int pin_staged(int fd, const char *name, struct errbuf *eb);
static int move_staged(const char *name, struct errbuf *eb);

/*
 * Leaves autoloaded only the programs attach_missing_programs() is to attach: those
 * without a pinned link, and with @all those that read vfio's structs. Returns how many.
 */
static size_t choose_missing_programs(struct enforce_bpf *skel, bool all)
{
	struct bpf_program *prog;
	size_t missing = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if ((!all || !reads_vfio(prog)) && link_pinned(bpf_program__name(prog)))
			bpf_program__set_autoload(prog, false);
		else
			missing++;
	}
	return missing;
}

/* Points each of @skel's shared maps at its pinned namesake before the load. */
static int reuse_pinned_maps(struct enforce_bpf *skel, struct errbuf *eb)
{
	size_t i;
	int ret, fd;

	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, pinned_maps[i]);

		fd = pins_open(pinned_maps[i]);
		ret = fd < 0 ? -errno : (map ? bpf_map__reuse_fd(map, fd) : -ENOENT);
		if (fd >= 0)
			close(fd);
		if (ret)
			return errbuf_set(eb, ret, "cannot reuse the pinned map %s: %s",
					  pinned_maps[i], strerror(-ret));
	}
	return 0;
}

/*
 * Pins the @n_links new @links of attach_missing_programs(): with @all, staged and then
 * renamed over the predecessor's pin (see there), else pinned where no pin is.
 */
static int pin_missing_links(struct bpf_link **links, const char **link_names,
			     size_t n_links, bool all, struct errbuf *eb)
{
	char path[4096], name[80];
	size_t i;
	int ret;

	if (all) {
		remove_staging();
		pins_path(path, sizeof(path), PINNED_STAGING_DIR);
		if (mkdir(path, 0700))
			return errbuf_set(eb, -errno, "cannot create %s: %s", path,
					  strerror(errno));
	}
	for (i = 0; i < n_links; i++) {
		pins_link_name(name, sizeof(name), link_names[i]);
		if (all) {
			ret = pin_staged(bpf_link__fd(links[i]), name, eb);
			if (!ret)
				ret = move_staged(name, eb);
			if (ret)
				return ret;
			continue;
		}
		pins_path(path, sizeof(path), name);
		ret = bpf_link__pin(links[i], path);
		/* Pinned ones stay attached: harmless, they only make the accounts exact. */
		if (ret)
			return errbuf_set(eb, ret, "cannot pin link %s: %s", path,
					  strerror(-ret));
	}
	if (all) {
		pins_path(path, sizeof(path), PINNED_STAGING_DIR);
		rmdir(path);
	}
	return 0;
}

/*
 * A module loaded after the first load (vfio_iommu_type1, iommufd) brings functions
 * whose programs could not be attached then. A swap attaches them to the pinned maps
 * before it publishes the module's handler addresses, so that no file of the module is
 * identified, and its maps allowed, while its accounting hooks are missing.
 *
 * With @all (programs loaded before vfio.ko, see loaded_before_vfio()), the programs
 * that read vfio's structs are loaded again on the same pinned maps, so nothing the maps
 * hold is lost (accounts, exec digests, pending operations, counters), and attached next
 * to their predecessors, which go when each new link's pin is renamed over the old one:
 * a rename replaces a name in one step, so every hook is held by the old or the new
 * program, never by neither. Only those: two copies of an accounting program on one map
 * would give back an unmap twice while both are attached.
 */
static int attach_missing_programs(const struct kernel_probe *kp, bool all, struct errbuf *eb)
{
	struct bpf_link *links[ENFORCER_MAX_LINKS] = {};
	const char *link_names[ENFORCER_MAX_LINKS];
	struct enforce_bpf *skel;
	struct bpf_program *prog;
	size_t i, n_links = 0;
	int ret = 0;

	skel = enforce_bpf__open();
	if (!skel)
		return errbuf_set(eb, -errno, "cannot open the enforcement programs: %s",
				  strerror(errno));
	choose_programs(skel, kp);
	if (!choose_missing_programs(skel, all))
		goto out_destroy;
	ret = reuse_pinned_maps(skel, eb);
	if (ret)
		goto out_destroy;
	skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	ret = enforce_bpf__load(skel);
	if (ret) {
		errbuf_set(eb, ret, "the kernel refused the programs of a newly loaded module: "
			   "%s", strerror(-ret));
		goto out_destroy;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog) || n_links == ENFORCER_MAX_LINKS)
			continue;
		links[n_links] = bpf_program__attach(prog);
		if (!links[n_links]) {
			ret = errbuf_set(eb, -errno, "cannot attach %s: %s",
					 bpf_program__name(prog), strerror(errno));
			goto out_detach;
		}
		link_names[n_links++] = bpf_program__name(prog);
	}
	ret = pin_missing_links(links, link_names, n_links, all, eb);
out_detach:
	for (i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
out_destroy:
	enforce_bpf__destroy(skel);
	return ret;
}

/* Reads the version in the `layout` marker at @path; 0 or a negative errno. */
static int read_marker(const char *path, __u32 *version)
{
	__u32 zero = 0;
	int fd, ret = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, version))
		ret = -errno;
	close(fd);
	return ret;
}

/* What is pinned, for pinned_layout__judge(); nothing here is written. */
static void observe_pinned(struct pinned_observation *o)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[4096];
	int fd;

	memset(o, 0, sizeof(*o));
	pins_path(path, sizeof(path), PINS_LINK_PREFIX "ioguard_file_ioctl");
	o->links = !access(path, F_OK);
	pins_path(path, sizeof(path), PINNED_LAYOUT_PIN);
	o->marker = !read_marker(path, &o->version);
	pins_path(path, sizeof(path), PINNED_STAGING_DIR "/" PINNED_LAYOUT_PIN);
	o->staging_marker = !read_marker(path, &o->staging_version);
	pins_path(path, sizeof(path), "holders");
	o->holders = !access(path, F_OK);
	fd = pins_open("policies");
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &info_len) &&
	    info.type == BPF_MAP_TYPE_ARRAY) {
		o->policies = true;
		o->slot_size = info.value_size;
	}
	if (fd >= 0)
		close(fd);
}

/*
 * The `layout` marker: a one-entry array holding PINNED_LAYOUT_VERSION, made by the
 * loader rather than the BPF object because no program reads it. Returns its fd.
 */
static int create_marker(struct errbuf *eb)
{
	__u32 zero = 0, version = PINNED_LAYOUT_VERSION;
	int fd, ret;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ioguard_layout", sizeof(zero),
			    sizeof(version), 1, NULL);
	if (fd < 0)
		return errbuf_set(eb, -errno, "cannot create the layout marker: %s",
				  strerror(errno));
	if (bpf_map_update_elem(fd, &zero, &version, BPF_ANY)) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot write the layout marker: %s", strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

static int swap_policy(const struct compiled_policy *cp, const struct kernel_probe *kp,
		       bool reload_programs, struct errbuf *eb)
{
	const struct ioguard_kernel_info *k = &kp->info;
	int active_fd, policies_fd, matches_fd, kinfo_fd, ret;
	struct ioguard_policy_slot *empty = NULL;
	__u32 zero = 0, gen = 0, next;

	active_fd = pins_open("active");
	policies_fd = pins_open("policies");
	matches_fd = pins_open("matches");
	kinfo_fd = pins_open("kernel_info");
	if (active_fd < 0 || policies_fd < 0 || matches_fd < 0 || kinfo_fd < 0) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot open the pinned maps in %s: %s", pins_dir(),
			   strerror(errno));
		goto out_close;
	}
	/* Before the new handler addresses identify their files, their hooks must run. */
	ret = attach_missing_programs(kp, reload_programs, eb);
	if (ret)
		goto out_close;
	if (bpf_map_lookup_elem(active_fd, &zero, &gen)) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot read the active generation: %s", strerror(errno));
		goto out_close;
	}
	next = !(gen & 1);
	ret = write_generation(policies_fd, matches_fd, cp, next, eb);
	if (ret)
		goto out_close;
	/* Module addresses may have changed since the last load; one update, no mixing. */
	if (bpf_map_update_elem(kinfo_fd, &zero, k, BPF_ANY)) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot update the kernel addresses: %s", strerror(errno));
		goto out_close;
	}
	/* The commit point: one 4-byte update makes the new generation the policy. */
	if (bpf_map_update_elem(active_fd, &zero, &next, BPF_ANY)) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot switch to the new policy: %s", strerror(errno));
		goto out_close;
	}
	wait_for_readers();
	/*
	 * Nothing reads the old generation any more: retire it, unless it is active again
	 * (only another loader could have flipped back, which the lock prevents; an empty
	 * active slot would allow everything, so this is checked, not assumed).
	 */
	gen &= 1;
	if (!bpf_map_lookup_elem(active_fd, &zero, &next) && (next & 1) != gen) {
		empty = calloc(1, sizeof(*empty));
		if (empty)
			bpf_map_update_elem(policies_fd, &gen, empty, BPF_ANY);
		clear_generation(matches_fd, gen);
	}
	free(empty);
	ret = 0;
out_close:
	if (active_fd >= 0)
		close(active_fd);
	if (policies_fd >= 0)
		close(policies_fd);
	if (matches_fd >= 0)
		close(matches_fd);
	if (kinfo_fd >= 0)
		close(kinfo_fd);
	return ret;
}

/*
 * Maps that an older layout this ioguard replaces pinned and this one no longer does, so
 * that a replacement removes them too. NULL-terminated; none so far.
 */
static const char *const retired_maps[] = { NULL };

static bool is_our_pin(const char *name)
{
	size_t i;

	if (pins_link_program(name) || !strcmp(name, PINNED_LAYOUT_PIN))
		return true;
	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		if (!strcmp(name, pinned_maps[i]))
			return true;
	}
	for (i = 0; retired_maps[i]; i++) {
		if (!strcmp(name, retired_maps[i]))
			return true;
	}
	return false;
}

/* Unlinks ioguard's pins in @path, and only those: the directory may be shared. */
static void remove_pins_in(const char *path)
{
	char pin[4096];
	struct dirent *d;
	DIR *dir = opendir(path);

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!is_our_pin(d->d_name))
			continue;
		snprintf(pin, sizeof(pin), "%s/%s", path, d->d_name);
		unlink(pin);
	}
	closedir(dir);
}

/* The pins of staging directory @name; their links detach with them. */
static void remove_staged_dir(const char *name)
{
	char path[4096];

	pins_path(path, sizeof(path), name);
	remove_pins_in(path);
	rmdir(path);
}

static void remove_staging(void)
{
	remove_staged_dir(PINNED_STAGING_DIR);
}

/*
 * Sets an unfinished upgrade's staging directory aside, its links still attached: some
 * hooks are held only by them until the redo's set is attached. 0, or a negative errno.
 */
static int set_interrupted_aside(struct errbuf *eb)
{
	char from[4096], to[4096];

	pins_path(from, sizeof(from), PINNED_STAGING_DIR);
	pins_path(to, sizeof(to), PINNED_INTERRUPTED_DIR);
	remove_staged_dir(PINNED_INTERRUPTED_DIR);	/* a redo of a redo that stopped */
	if (rename(from, to) && errno != ENOENT)
		return errbuf_set(eb, -errno, "cannot set the unfinished upgrade %s aside: %s",
				  from, strerror(errno));
	return 0;
}

/* Puts an unfinished upgrade set aside back, when the redo failed before its first move. */
static void restore_interrupted(void)
{
	char from[4096], to[4096];

	pins_path(from, sizeof(from), PINNED_INTERRUPTED_DIR);
	pins_path(to, sizeof(to), PINNED_STAGING_DIR);
	rename(from, to);
}

static void remove_pins(void)
{
	remove_staging();
	remove_staged_dir(PINNED_INTERRUPTED_DIR);
	remove_pins_in(pins_dir());
}

/*
 * The pin directory, created if needed and checked, and its load lock: load, reload and
 * unload hold it from reading the pinned state to their last write, so two of them never
 * interleave (two swaps once retired each other's generation, leaving no policy). The
 * lock is a subdirectory: the directory itself is flock()ed by the one decision reader.
 * The directory must be owned by this (root) user and writable by nobody else: whoever
 * can write it can unlink the link pins, and with them the enforcement. An unload may
 * remove both while another waits: the waiter then starts again on the new ones.
 * Returns the locked subdirectory's fd, or a negative errno with the reason in @eb.
 */
#define LOAD_LOCK "load_lock"	/* bpffs refuses names with a dot */

static int pin_dir_lock(bool create, struct errbuf *eb)
{
	const char *dir = pins_dir();
	struct stat dir_st, lock_st, now;
	int dir_fd, fd, tries, ret;

	for (tries = 0; tries < 100; tries++) {
		if (create && mkdir(dir, 0700) && errno != EEXIST)
			return errbuf_set(eb, -errno, "cannot create %s: %s", dir,
					  strerror(errno));
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir_fd < 0) {
			if (errno == ENOENT && create)
				continue;
			return errbuf_set(eb, -errno, "cannot open %s: %s", dir,
					  strerror(errno));
		}
		if (fstat(dir_fd, &dir_st) || dir_st.st_uid != geteuid() ||
		    (dir_st.st_mode & (S_IWGRP | S_IWOTH))) {
			errbuf_set(eb, -EPERM, "%s is owned by uid %u with mode %04o: it must "
				   "belong to uid %u and be writable by nobody else, or its "
				   "pins could be removed; remove it and load again", dir,
				   dir_st.st_uid, dir_st.st_mode & 07777, geteuid());
			close(dir_fd);
			return -EPERM;
		}
		if (mkdirat(dir_fd, LOAD_LOCK, 0700) && errno != EEXIST) {
			ret = errbuf_set(eb, -errno, "cannot create %s/%s: %s", dir, LOAD_LOCK,
					 strerror(errno));
			close(dir_fd);
			return ret;
		}
		fd = openat(dir_fd, LOAD_LOCK, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			close(dir_fd);
			continue;
		}
		if (flock(fd, LOCK_EX)) {
			ret = errbuf_set(eb, -errno, "cannot lock %s/%s: %s", dir, LOAD_LOCK,
					 strerror(errno));
			close(fd);
			close(dir_fd);
			return ret;
		}
		/* Still the directory and the lock at those names, not ones an unload removed? */
		if (!fstat(fd, &lock_st) && !stat(dir, &now) && now.st_dev == dir_st.st_dev &&
		    now.st_ino == dir_st.st_ino &&
		    !fstatat(dir_fd, LOAD_LOCK, &now, AT_SYMLINK_NOFOLLOW) &&
		    now.st_ino == lock_st.st_ino) {
			close(dir_fd);
			return fd;
		}
		close(fd);
		close(dir_fd);
		if (!create)
			return errbuf_set(eb, -ENOENT, "nothing is loaded (%s was removed)",
					  dir);
	}
	return errbuf_set(eb, -EBUSY, "%s keeps being removed and recreated by others", dir);
}

static int first_load(const struct compiled_policy *cp, const struct kernel_probe *kp,
		      struct errbuf *eb)
{
	struct bpf_link *links[ENFORCER_MAX_LINKS] = {};
	const char *link_names[ENFORCER_MAX_LINKS];
	size_t i, n_links = 0;
	struct enforce_bpf *skel;
	struct bpf_map *map;
	char path[4096];
	int ret, marker_fd;

	/* Leftovers of an interrupted load: maps without programs enforce nothing. */
	remove_pins();
	marker_fd = create_marker(eb);
	if (marker_fd < 0)
		return marker_fd;
	skel = load_programs(kp, &ret, eb);
	if (!skel) {
		close(marker_fd);
		return ret;
	}
	ret = attach_programs(skel, links, link_names, &n_links, eb);
	if (ret)
		goto out_detach;
	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		map = bpf_object__find_map_by_name(skel->obj, pinned_maps[i]);
		pins_path(path, sizeof(path), pinned_maps[i]);
		ret = map ? bpf_map__pin(map, path) : -ENOENT;
		if (ret) {
			errbuf_set(eb, ret, "cannot pin map %s at %s: %s", pinned_maps[i], path,
				   strerror(-ret));
			goto out_unpin;
		}
	}
	pins_path(path, sizeof(path), PINNED_LAYOUT_PIN);
	if (bpf_obj_pin(marker_fd, path)) {
		ret = -errno;
		errbuf_set(eb, ret, "cannot pin the layout marker at %s: %s", path,
			   strerror(errno));
		goto out_unpin;
	}
	for (i = 0; i < n_links; i++) {
		char name[80];

		pins_link_name(name, sizeof(name), link_names[i]);
		pins_path(path, sizeof(path), name);
		ret = bpf_link__pin(links[i], path);
		if (ret) {
			errbuf_set(eb, ret, "cannot pin link %s: %s", path, strerror(-ret));
			goto out_unpin;
		}
	}
	/*
	 * Everything is attached and pinned with an empty slot, which allows everything:
	 * the state before the load. Writing the slot below is what makes the policy.
	 */
	ret = write_generation(bpf_map__fd(skel->maps.policies), bpf_map__fd(skel->maps.matches),
			       cp, 0, eb);
	if (ret)
		goto out_unpin;
	goto out_detach;

out_unpin:
	remove_pins();
out_detach:
	/* A pinned link stays attached through its pin; the others detach here. */
	for (i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	enforce_bpf__destroy(skel);
	close(marker_fd);
	return ret;
}

/*
 * The hash algorithm IMA uses on this kernel: ima_hash= on the command line, else the
 * kernel's build default from its config file. Empty when neither can be read.
 */
static void ima_hash_algo(char *algo, size_t len)
{
	char line[4096], path[300], val[64], *p, *save;
	struct utsname u;
	FILE *f;

	algo[0] = '\0';
	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			for (p = strtok_r(line, " \n", &save); p; p = strtok_r(NULL, " \n", &save)) {
				if (!strncmp(p, "ima_hash=", 9))
					snprintf(algo, len, "%s", p + 9);
			}
		}
		fclose(f);
		if (algo[0])
			return;
	}
	if (uname(&u))
		return;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CONFIG_IMA_DEFAULT_HASH=\"%63[^\"]\"", val) == 1) {
			snprintf(algo, len, "%s", val);
			break;
		}
	}
	fclose(f);
}

/*
 * exe_sha256 is compared with the SHA-256 IMA computes when a process executes a file:
 * a kernel without IMA, or whose IMA hashes with another algorithm, would never match
 * it. Such a policy is refused, not loaded with tenants that no process can be.
 */
static int check_policy_features(const struct compiled_policy *cp,
				 const struct kernel_probe *kp, struct errbuf *eb)
{
	const char *tenant;
	char algo[64];

	if (!cp->slot.n_exe_digests)
		return 0;
	tenant = cp->slot.tenants[cp->slot.exe_digests[0].tenant].name;
	if (!kernel_has(kp, IMA_FILE_HASH)) {
		return errbuf_set(eb, -EOPNOTSUPP, "tenant %s matches exe_sha256, which needs "
				  "IMA to hash executables at exec, and this kernel has no IMA "
				  "(CONFIG_IMA; %s is not in /proc/kallsyms)", tenant,
				  IMA_FILE_HASH);
	}
	ima_hash_algo(algo, sizeof(algo));
	if (algo[0] && strcmp(algo, "sha256")) {
		return errbuf_set(eb, -EOPNOTSUPP, "tenant %s matches exe_sha256, but this "
				  "kernel's IMA hashes with %s: boot with ima_hash=sha256",
				  tenant, algo);
	}
	return 0;
}

/*
 * Ids of the programs behind the pinned links. A link's id disappears as soon as its
 * last reference goes, but the detach runs later, in the link's deferred release, which
 * then drops its program: a program id that is gone means a detached program.
 */
struct prog_ids {
	__u32 *ids;
	size_t n, max;
};

static int add_prog_id(void *ctx, const char *prog_name, const char *pin_name)
{
	struct bpf_link_info info = {};
	__u32 info_len = sizeof(info);
	struct prog_ids *p = ctx;
	int fd;

	if (p->n >= p->max)
		return 1;
	fd = pins_open(pin_name);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		p->ids[p->n++] = info.prog_id;
	close(fd);
	return 0;
}

static size_t pinned_prog_ids(__u32 *ids, size_t max)
{
	struct prog_ids p = { .ids = ids, .max = max };

	pins_for_each_link(add_prog_id, &p);
	return p.n;
}

/* Waits up to 5 s for each program in @ids to be released; -EBUSY names one that is not. */
static int wait_programs_gone(const __u32 *ids, size_t n, struct errbuf *eb)
{
	size_t i;
	int tries;

	for (i = 0; i < n; i++) {
		for (tries = 0; tries < 500; tries++) {
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			if (fd < 0)
				break;
			close(fd);
			usleep(10 * 1000);
		}
		if (tries == 500) {
			return errbuf_set(eb, -EBUSY, "program %u is still loaded 5 s after "
					  "its pin was removed: another process holds it "
					  "(bpftool prog show id %u)", ids[i], ids[i]);
		}
	}
	return 0;
}

/* Maps whose contents a replacement carries over when their layouts are the same. */
static const char *const accounting_maps[] = { "holders", "accounts", "account_holders" };

/*
 * Copies every entry of the pinned hash map @name into @to_fd. Runs once the new
 * programs are attached: from then on both sets count every map and unmap, so the old
 * map holds the whole count. An update that lands in the new map between one entry's
 * read and its write is overwritten: what is lost is bounded by the maps and unmaps in
 * flight at that instant.
 */
static int carry_over(const char *name, int to_fd)
{
	struct bpf_map_info from_info = {}, to_info = {};
	__u32 from_len = sizeof(from_info), to_len = sizeof(to_info);
	char *keys = NULL, *value = NULL, *key, *prev = NULL;
	int from_fd, ret = 0;

	from_fd = pins_open(name);
	if (from_fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(from_fd, &from_info, &from_len) ||
	    bpf_obj_get_info_by_fd(to_fd, &to_info, &to_len)) {
		ret = -errno;
		goto out_close;
	}
	if (from_info.type != BPF_MAP_TYPE_HASH || to_info.type != BPF_MAP_TYPE_HASH ||
	    from_info.key_size != to_info.key_size ||
	    from_info.value_size != to_info.value_size) {
		ret = -EPROTO;
		goto out_close;
	}
	keys = calloc(2, from_info.key_size);
	value = calloc(1, from_info.value_size);
	if (!keys || !value) {
		ret = -ENOMEM;
		goto out_free;
	}
	key = keys;
	while (!bpf_map_get_next_key(from_fd, prev, key)) {
		/* An entry deleted under us (a holder released) is simply not carried. */
		if (!bpf_map_lookup_elem(from_fd, key, value) &&
		    bpf_map_update_elem(to_fd, key, value, BPF_ANY)) {
			ret = -errno;
			break;
		}
		prev = key;
		key = key == keys ? keys + from_info.key_size : keys;
	}
out_free:
	free(keys);
	free(value);
out_close:
	close(from_fd);
	return ret;
}

/* Deletes every entry of hash map @fd (what a partial carry_over() wrote). */
static void clear_map(int fd)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char key[64];

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len) || info.key_size > sizeof(key))
		return;
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			break;
}

/* Pins @fd (a map or link) as @name in the staging directory. */
static int pin_staged(int fd, const char *name, struct errbuf *eb)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/%s", pins_dir(), PINNED_STAGING_DIR, name);
	if (bpf_obj_pin(fd, path))
		return errbuf_set(eb, -errno, "cannot pin %s: %s", path, strerror(errno));
	return 0;
}

/* Moves the staged pin @name over its namesake in the pin directory, in one step. */
static int move_staged(const char *name, struct errbuf *eb)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/%s/%s", pins_dir(), PINNED_STAGING_DIR, name);
	pins_path(to, sizeof(to), name);
	if (rename(from, to))
		return errbuf_set(eb, -errno, "the replacement stopped at moving %s to %s "
				  "(%s): the old and the new programs both stay in force; load "
				  "again to finish it", from, to, strerror(errno));
	return 0;
}

/* Names of ioguard's pins in the pin directory now, the marker aside. */
static size_t list_pins(char (*names)[64], size_t max)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dir = opendir(pins_dir());

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < max) {
		if (is_our_pin(d->d_name) && strcmp(d->d_name, PINNED_LAYOUT_PIN) &&
		    strlen(d->d_name) < sizeof(names[0]))
			snprintf(names[n++], sizeof(names[0]), "%s", d->d_name);
	}
	closedir(dir);
	return n;
}

#define MAX_OUR_PINS (ENFORCER_MAX_LINKS + 32)

/*
 * Step 1 of replace_set() starts in a staging directory of its own. A redo keeps the
 * unfinished set attached until its own set is: until then some hooks are held by its
 * links alone, and removing them first would split an LSM program from its fentry/fexit
 * companions (separate pending and accounting maps). 0, or a negative errno with the
 * unfinished set back in place.
 */
static int create_staging(const struct pinned_verdict *v, struct errbuf *eb)
{
	char path[4096];
	int ret;

	if (v->kind == PINNED_INTERRUPTED) {
		ret = set_interrupted_aside(eb);
		if (ret)
			return ret;
	} else {
		remove_staging();
	}
	pins_path(path, sizeof(path), PINNED_STAGING_DIR);
	if (mkdir(path, 0700)) {
		ret = errbuf_set(eb, -errno, "cannot create %s: %s", path, strerror(errno));
		if (v->kind == PINNED_INTERRUPTED)
			restore_interrupted();
		return ret;
	}
	return 0;
}

/*
 * Step 3 of replace_set(): true when the accounts were carried over. A partial copy is
 * dropped whole: fresh maps count from now, as documented.
 */
static bool carry_accounts(struct enforce_bpf *skel, const struct pinned_verdict *v)
{
	bool carried = v->same_accounting;
	struct bpf_map *map;
	size_t i;

	for (i = 0; carried && i < ARRAY_SIZE(accounting_maps); i++) {
		map = bpf_object__find_map_by_name(skel->obj, accounting_maps[i]);
		if (!map || carry_over(accounting_maps[i], bpf_map__fd(map)))
			carried = false;
	}
	if (!carried && v->same_accounting) {
		for (i = 0; i < ARRAY_SIZE(accounting_maps); i++) {
			map = bpf_object__find_map_by_name(skel->obj, accounting_maps[i]);
			if (map)
				clear_map(bpf_map__fd(map));
		}
	}
	return carried;
}

/*
 * The first half of replace_set()'s step 4: the new set's maps, links and marker pinned
 * in the staging directory. @new_pins gets the names of the links (the first @n_links)
 * and of the maps, *@n_new in all; the marker is not among them.
 */
static int pin_new_set(struct enforce_bpf *skel, struct bpf_link **links,
		       const char **link_names, size_t n_links, int marker_fd,
		       char (*new_pins)[64], size_t *n_new, struct errbuf *eb)
{
	struct bpf_map *map;
	size_t i;
	int ret;

	*n_new = 0;
	for (i = 0; i < n_links; i++)
		pins_link_name(new_pins[(*n_new)++], sizeof(new_pins[0]), link_names[i]);
	for (i = 0; i < ARRAY_SIZE(pinned_maps); i++) {
		map = bpf_object__find_map_by_name(skel->obj, pinned_maps[i]);
		if (!map)
			return errbuf_set(eb, -ENOENT, "no map %s in the programs",
					  pinned_maps[i]);
		ret = pin_staged(bpf_map__fd(map), pinned_maps[i], eb);
		if (ret)
			return ret;
		snprintf(new_pins[(*n_new)++], sizeof(new_pins[0]), "%s", pinned_maps[i]);
	}
	for (i = 0; i < n_links; i++) {
		ret = pin_staged(bpf_link__fd(links[i]), new_pins[i], eb);
		if (ret)
			return ret;
	}
	return pin_staged(marker_fd, PINNED_LAYOUT_PIN, eb);
}

/*
 * The second half of replace_set()'s step 4: each staged pin of @new_pins (links first)
 * renamed over its namesake, the old pins without a new namesake unlinked, the marker
 * moved last and the staging directory removed.
 */
static int move_new_set(char (*new_pins)[64], size_t n_new, struct errbuf *eb)
{
	char old_pins[MAX_OUR_PINS][64], path[4096];
	size_t i, j, n_old;
	int ret;

	n_old = list_pins(old_pins, MAX_OUR_PINS);
	for (i = 0; i < n_new; i++) {
		ret = move_staged(new_pins[i], eb);
		if (ret)
			return ret;
	}
	for (i = 0; i < n_old; i++) {
		for (j = 0; j < n_new && strcmp(old_pins[i], new_pins[j]); j++)
			;
		if (j == n_new) {
			pins_path(path, sizeof(path), old_pins[i]);
			unlink(path);
		}
	}
	ret = move_staged(PINNED_LAYOUT_PIN, eb);
	if (ret)
		return ret;
	pins_path(path, sizeof(path), PINNED_STAGING_DIR);
	rmdir(path);
	return 0;
}

/* Step 5 of replace_set(): says what was replaced, and waits for the old programs. */
static void note_replacement(const struct pinned_verdict *v, bool carried, const __u32 *ids,
			     size_t n_ids, char *notes, size_t notes_len)
{
	struct errbuf held = { .note = NULL };
	size_t used = strlen(notes);

	snprintf(notes + used, notes_len - used, "%sreplaced the programs of %s %u without a "
		 "gap; %s", used ? "; " : "", v->kind == PINNED_INTERRUPTED ?
		 "an unfinished replacement to layout" : "pinned layout", v->version,
		 carried ? "DMA accounts carried over" : "DMA accounts start from now");
	/* The new set is in force either way; an old program someone else holds is noted. */
	if (wait_programs_gone(ids, n_ids, &held)) {
		used = strlen(notes);
		snprintf(notes + used, notes_len - used, "; %s", held.msg);
	}
}

/*
 * Replaces a pinned set of an older layout, or the mixture an unfinished replacement
 * left, with this ioguard's, leaving no moment without enforcement:
 *
 * 1. a new set with fresh maps is loaded and @cp written into it, active, before any
 *    of its programs can run;
 * 2. its programs are attached next to the old ones. Invariant from here on: both sets
 *    judge every operation, and the first LSM program that denies ends the hook (the
 *    trampoline skips the programs after it and the operation itself): nothing is
 *    allowed that either policy denies, whichever runs first;
 * 3. the accounts are carried over when their maps have the same layout;
 * 4. the new set is pinned in <pin dir>/upgrade, then each pin is renamed over its old
 *    namesake: a rename replaces a name in one step, so a link name always holds the
 *    old or the new link, never none. Old pins with no new namesake are unlinked; the
 *    marker moves last and the staging directory goes;
 * 5. the old links' pins were their last references: the old programs detach.
 * A failure before 4 unpins the staging directory and leaves the old set as it was; a
 * failure during 4 leaves both sets attached and the marker staged, which the next
 * load recognises (PINNED_INTERRUPTED) and replaces again. The caller holds the lock.
 */
static int replace_set(const struct compiled_policy *cp, const struct kernel_probe *kp,
		       const struct pinned_verdict *v, char *notes, size_t notes_len,
		       struct errbuf *eb)
{
	struct bpf_link *links[ENFORCER_MAX_LINKS] = {};
	const char *link_names[ENFORCER_MAX_LINKS];
	size_t i, n_links = 0, n_new = 0, n_ids;
	char new_pins[MAX_OUR_PINS][64];
	__u32 ids[ENFORCER_MAX_LINKS];
	bool carried, moving = false;
	struct enforce_bpf *skel;
	int ret, marker_fd;

	ret = create_staging(v, eb);
	if (ret)
		return ret;
	marker_fd = create_marker(eb);
	if (marker_fd < 0) {
		ret = marker_fd;
		goto out_unstage;
	}
	skel = load_programs(kp, &ret, eb);
	if (!skel)
		goto out_close;
	/* Generation 0 is active in a fresh `active`: the policy is in force at attach. */
	ret = write_generation(bpf_map__fd(skel->maps.policies), bpf_map__fd(skel->maps.matches),
			       cp, 0, eb);
	if (ret)
		goto out_destroy;
	ret = attach_programs(skel, links, link_names, &n_links, eb);
	if (ret)
		goto out_detach;
	carried = carry_accounts(skel, v);
	ret = pin_new_set(skel, links, link_names, n_links, marker_fd, new_pins, &n_new, eb);
	if (ret)
		goto out_detach;

	/* From here on nothing is undone: each step leaves a set at least as strict. */
	moving = true;
	/* The new set is attached: the unfinished one's links may go now. */
	remove_staged_dir(PINNED_INTERRUPTED_DIR);
	n_ids = pinned_prog_ids(ids, ENFORCER_MAX_LINKS);
	ret = move_new_set(new_pins, n_new, eb);
	if (ret)
		goto out_detach;
	note_replacement(v, carried, ids, n_ids, notes, notes_len);
out_detach:
	/* A pinned link stays attached through its pin; the others detach here. */
	for (i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
out_destroy:
	enforce_bpf__destroy(skel);
out_close:
	close(marker_fd);
out_unstage:
	/* Before the first move the old set is whole: the staged one goes, links and all. */
	if (ret && !moving) {
		remove_staging();
		if (v->kind == PINNED_INTERRUPTED)
			restore_interrupted();
	}
	return ret;
}

/*
 * True when the pinned programs were loaded while vfio.ko was not (its handlers were not
 * in kallsyms, so nothing named a group or device file) and it is loaded now. Its structs
 * were then in no BTF, and the programs' reads of them were compiled out (see
 * device_file_dev() in enforce.bpf.c): only new programs can judge its files.
 */
static bool loaded_before_vfio(const struct kernel_probe *kp)
{
	struct ioguard_kernel_info pinned;
	__u32 zero = 0;
	bool before;
	int fd;

	fd = pins_open("kernel_info");
	if (fd < 0)
		return false;
	before = !bpf_map_lookup_elem(fd, &zero, &pinned) &&
		 !pinned.ioctl_handler[IOGUARD_FILE_GROUP] &&
		 !pinned.ioctl_handler[IOGUARD_FILE_DEVICE] &&
		 (kp->info.ioctl_handler[IOGUARD_FILE_GROUP] ||
		  kp->info.ioctl_handler[IOGUARD_FILE_DEVICE]);
	close(fd);
	return before;
}

int enforcer_load(const struct compiled_policy *cp, bool *swapped, struct errbuf *eb)
{
	struct pinned_observation seen;
	struct pinned_verdict verdict;
	struct kernel_probe kp;
	char notes[1024];
	bool before_vfio;
	int ret, lock_fd;

	ret = resolve_kernel(&kp, notes, sizeof(notes), eb);
	if (ret)
		return ret;
	ret = check_policy_features(cp, &kp, eb);
	if (ret)
		return ret;
	lock_fd = pin_dir_lock(true, eb);
	if (lock_fd < 0)
		return lock_fd;
	observe_pinned(&seen);
	ret = pinned_layout__judge(&seen, &verdict, eb);
	if (ret)
		goto out_unlock;
	*swapped = verdict.kind != PINNED_NONE;
	switch (verdict.kind) {
	case PINNED_NONE:
		ret = first_load(cp, &kp, eb);
		break;
	case PINNED_CURRENT:
		before_vfio = loaded_before_vfio(&kp);
		ret = swap_policy(cp, &kp, before_vfio, eb);
		if (!ret && before_vfio) {
			size_t used = strlen(notes);

			snprintf(notes + used, sizeof(notes) - used, "%sthe programs were "
				 "loaded before vfio.ko and could not read its files: replaced on "
				 "the same maps, without a gap", used ? "; " : "");
		}
		break;
	default:
		ret = replace_set(cp, &kp, &verdict, notes, sizeof(notes), eb);
		break;
	}
	/* One line, as `ioguard load` has always printed them (the lab greps it). */
	if (!ret && notes[0])
		errbuf_note(eb, ERRBUF_WARN, "%s", notes);
out_unlock:
	close(lock_fd);
	return ret;
}

int enforcer_unload(struct errbuf *eb)
{
	__u32 ids[ENFORCER_MAX_LINKS];
	char path[4096];
	int lock_fd;
	size_t n;

	if (access(pins_dir(), F_OK))
		return errbuf_set(eb, -ENOENT, "nothing is loaded (%s does not exist)",
				  pins_dir());
	lock_fd = pin_dir_lock(false, eb);
	if (lock_fd < 0)
		return lock_fd;
	n = pinned_prog_ids(ids, ENFORCER_MAX_LINKS);
	remove_pins();
	pins_path(path, sizeof(path), LOAD_LOCK);
	rmdir(path);
	/* A directory others share keeps their entries: then only ours go. */
	if (rmdir(pins_dir()) && errno != ENOTEMPTY && errno != EEXIST) {
		errbuf_set(eb, -EBUSY, "cannot remove %s: %s", pins_dir(), strerror(errno));
		close(lock_fd);
		return -EBUSY;
	}
	close(lock_fd);
	/*
	 * The kernel releases a link whose last reference was a pin from a workqueue, so
	 * the programs may still run for a moment after the unlink: wait until every
	 * program is gone, so that "unloaded" means nothing is enforced any more.
	 */
	return wait_programs_gone(ids, n, eb);
}

static void read_counters(struct enforcer_status *st)
{
	struct ioguard_decision_key key, prev_key, *prev = NULL;
	int fd = pins_open("decision_counts"), ncpu = libbpf_num_possible_cpus(), i;
	unsigned long long *values = NULL;

	if (fd < 0 || ncpu <= 0)
		goto out;
	values = calloc(ncpu, sizeof(*values));
	if (!values)
		goto out;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct enforcer_counter *c;
		unsigned long long sum = 0;

		prev_key = key;
		prev = &prev_key;
		if (bpf_map_lookup_elem(fd, &key, values))
			continue;
		for (i = 0; i < ncpu; i++)
			sum += values[i];
		c = realloc(st->counters, (st->n_counters + 1) * sizeof(*c));
		if (!c)
			break;
		st->counters = c;
		c[st->n_counters].key = key;
		c[st->n_counters].count = sum;
		st->n_counters++;
	}
out:
	free(values);
	if (fd >= 0)
		close(fd);
}

/*
 * How a pinned link is attached, as the kernel reports it ("lsm_mac", "trace_fexit"),
 * and the id of its program (0 if unknown).
 */
static void link_mode(const char *pin, char *buf, size_t len, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 info_len = sizeof(info);
	const char *mode = NULL;
	int fd = pins_open(pin);

	*prog_id = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		*prog_id = info.prog_id;
		if (info.type == BPF_LINK_TYPE_TRACING)
			mode = libbpf_bpf_attach_type_str(info.tracing.attach_type);
	}
	snprintf(buf, len, "%s", mode ? mode : "unknown");
	if (fd >= 0)
		close(fd);
}

const char *enforcer_missing_hook(const struct enforcer_status *st)
{
	/* file_ioctl_compat is absent on kernels without its hook; the rest never are. */
	static const char *const required[] = {
		"ioguard_file_open", "ioguard_file_ioctl", "ioguard_mmap_file",
		"ioguard_file_permission", "ioguard_file_receive",
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(required); i++) {
		for (j = 0; j < st->n_links; j++)
			if (!strcmp(st->links[j], required[i]) && st->prog_ids[j])
				break;
		if (j == st->n_links)
			return required[i];
	}
	return NULL;
}

/* Links past ENFORCER_MAX_LINKS are left out of the status. */
static int add_status_link(void *ctx, const char *prog_name, const char *pin_name)
{
	struct enforcer_status *st = ctx;

	if (st->n_links >= ENFORCER_MAX_LINKS)
		return 0;
	link_mode(pin_name, st->link_modes[st->n_links], sizeof(st->link_modes[0]),
		  &st->prog_ids[st->n_links]);
	snprintf(st->links[st->n_links++], sizeof(st->links[0]), "%s", prog_name);
	return 0;
}

static int read_status(struct enforcer_status *st, bool counters, struct errbuf *eb)
{
	char path[4096];
	__u32 zero = 0, gen;
	int fd, ret;

	memset(st, 0, sizeof(*st));
	ret = pins_for_each_link(add_status_link, st);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return errbuf_set(eb, ret, "cannot read the pin directory %s: %s", pins_dir(),
				  strerror(-ret));
	st->pinned = true;
	st->missing_hook = enforcer_missing_hook(st);
	pins_path(path, sizeof(path), PINNED_LAYOUT_PIN);
	if (read_marker(path, &st->layout))
		st->layout = 0;

	/*
	 * A map that is not pinned (ENOENT: a load or an unload half done) means no policy
	 * is active; one that is pinned and cannot be read is an error, never "none".
	 */
	fd = pins_open("active");
	if (fd < 0 && errno != ENOENT)
		return errbuf_set(eb, -errno, "cannot open the pinned map %s/active: %s",
				  pins_dir(), strerror(errno));
	if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &gen)) {
		ret = errbuf_set(eb, -errno, "cannot read the pinned map %s/active: %s",
				 pins_dir(), strerror(errno));
		close(fd);
		return ret;
	}
	if (fd >= 0) {
		int pfd = pins_open("policies");

		close(fd);
		if (pfd < 0 && errno != ENOENT)
			return errbuf_set(eb, -errno, "cannot open the pinned map %s/policies: "
					  "%s", pins_dir(), strerror(errno));
		st->gen = gen & 1;
		if (pfd >= 0 && enforcer_slot_fits(pfd) &&
		    !bpf_map_lookup_elem(pfd, &st->gen, &st->slot))
			st->policy_active = st->slot.loaded && !st->missing_hook;
		if (pfd >= 0)
			close(pfd);
	}
	fd = pins_open("kernel_info");
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &st->kernel);
		close(fd);
	}
	if (counters)
		read_counters(st);
	return 0;
}

int enforcer_status(struct enforcer_status *st, struct errbuf *eb)
{
	return read_status(st, true, eb);
}

int enforcer_status_brief(struct enforcer_status *st, struct errbuf *eb)
{
	return read_status(st, false, eb);
}

const char *enforcer_counter_tenant(const struct enforcer_status *st,
				    const struct enforcer_counter *c)
{
	if (c->key.tenant < 0)
		return NULL;
	if (!st->policy_active || c->key.policy_id != st->slot.policy_id)
		return "(earlier policy)";
	if ((__u32)c->key.tenant >= st->slot.n_tenants ||
	    (__u32)c->key.tenant >= IOGUARD_MAX_TENANTS)
		return NULL;
	return st->slot.tenants[c->key.tenant].name;
}

void enforcer_status__in_force(const struct enforcer_status *st, struct enforcer_in_force *f)
{
	memset(f, 0, sizeof(*f));
	f->active = st->pinned && st->policy_active;
	if (!f->active)
		return;
	snprintf(f->name, sizeof(f->name), "%.*s", (int)sizeof(st->slot.name), st->slot.name);
	memcpy(f->hash, st->slot.hash, sizeof(f->hash));
	hex_encode(f->hash, sizeof(f->hash), f->sha256);
	f->mode = st->slot.mode;
}

void enforcer_status__clear(struct enforcer_status *st)
{
	free(st->counters);
	st->counters = NULL;
	st->n_counters = 0;
}
