// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * conformance: runs the conformance scenarios of tests/conformance/scenarios.c against one
 * libioasid backend on the machine's real devices (or on a sysfs snapshot with sim).
 *
 *   conformance BACKEND --single BDF [--pair BDF,BDF] [--sysfs DIR] [--only NAME]
 *               [--max-alignment BYTES]
 *   conformance iommufd --single BDF --kernel-iova
 *
 * BACKEND is sim, iommufd or vfio. --single is an endpoint alone in its group on a VFIO
 * driver (the lab's edu), --pair two endpoints of one group on a VFIO driver (the lab's
 * e1000s); without --pair the scenarios that need it are skipped. --max-alignment sets
 * the cap of automatic IOVA alignment (the sim's default is 2 MiB; the kernel backends
 * use the running kernel's, which is what the scenarios expect unless this is given).
 *
 * --kernel-iova compares libioasid's automatic IOVAs with the ones the kernel's own
 * allocator (IOMMU_IOAS_MAP without FIXED_IOVA, iopt_alloc_iova()) picks for the same
 * sequence of maps on --single, and prints "ok kernel_auto_iova" or "not ok ...".
 *
 * Output, one line per scenario:
 *   ok NAME | not ok NAME: REASON | skip NAME: REASON
 * and comment lines that make runs on different backends comparable line by line:
 *   # calls NAME: the result of every libioasid call the scenario made, in order
 *     (0 or the errno name; "*3" repeats it), so equal lines mean equal errnos;
 *   # geometry: the IOVA ranges and alignment of an IOAS with --single attached;
 *   # leak NAME: ... when a scenario left a file descriptor or locked memory behind.
 * Details of a failure follow its line as "#   ..." lines.
 *
 * Exit status: 0 when nothing failed, 1 when a scenario failed, 77 when the backend is
 * not available (every scenario is then reported as skipped with the reason), 2 for
 * usage errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "ioasid/ioasid.h"
#include "../../conformance/scenarios.h"

/* ---- every call of the scenarios is recorded ------------------------------------- */

#define MAX_CALLS 4096

static int calls[MAX_CALLS];
static unsigned int nr_calls;
static bool calls_overflow;

/* sc_on_call of the scenarios. */
static void rec(int ret)
{
	if (nr_calls < MAX_CALLS)
		calls[nr_calls++] = ret;
	else
		calls_overflow = true;
}

/* Scenarios that use env->pair. */
static const char *const pair_cases[] = { "attach_before_viable", "second_owner" };

static bool needs_pair(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pair_cases) / sizeof(pair_cases[0]); i++)
		if (!strcmp(name, pair_cases[i]))
			return true;
	return false;
}

static const char *err_name(int ret)
{
	const char *n;

	if (!ret)
		return "0";
	n = ret < 0 ? strerrorname_np(-ret) : NULL;
	return n ? n : "?";
}

static void print_calls(const char *name)
{
	unsigned int i, run;

	printf("# calls %s:", name);
	for (i = 0; i < nr_calls; i += run) {
		for (run = 1; i + run < nr_calls && calls[i + run] == calls[i]; run++)
			;
		if (run > 1)
			printf(" %s*%u", err_name(calls[i]), run);
		else
			printf(" %s", err_name(calls[i]));
	}
	printf("%s\n", calls_overflow ? " ..." : "");
}

/* What a scenario can leak in the kernel: open fds (an open /dev/iommu or container
 * keeps its pins) and locked memory (type1 accounts its pins in VmLck). */
struct usage {
	long fds;
	long vmlck_kb;
};

static void read_usage(struct usage *u)
{
	char line[256];
	struct dirent *de;
	FILE *f;
	DIR *d;

	u->fds = 0;
	u->vmlck_kb = -1;
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				u->fds++;
		closedir(d);
	}
	f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &u->vmlck_kb) == 1)
			break;
	fclose(f);
}

static int print_geometry(struct ioasid_backend *be, const char *single)
{
	struct ioasid_iova_range r[16];
	struct ioasid_ctx *ctx = NULL;
	uint32_t dev, ioas, nr = 16, i;
	uint64_t align = 0;
	int err;

	err = ioasid_ctx__new(be, NULL, &ctx);
	if (!err)
		err = ioasid_device__bind(ctx, single, &dev);
	if (!err)
		err = ioasid_ioas__alloc(ctx, &ioas);
	if (!err)
		err = ioasid_device__attach(ctx, dev, ioas);
	if (!err)
		err = ioasid_ioas__iova_ranges(ctx, ioas, r, &nr, &align);
	if (err) {
		printf("# geometry: %s: %s\n", err_name(err),
		       ctx ? ioasid_ctx__last_error(ctx)->msg : strerror(-err));
	} else {
		printf("# geometry:");
		for (i = 0; i < nr && i < 16; i++)
			printf(" 0x%llx-0x%llx", (unsigned long long)r[i].start,
			       (unsigned long long)r[i].last);
		printf(" alignment 0x%llx\n", (unsigned long long)align);
	}
	ioasid_ctx__free(ctx);
	return err;
}

/*
 * The scenarios' buffer, aligned to BUF_ALIGN: an automatic IOVA's alignment is capped
 * by the user address's (iopt_alloc_iova()), and the scenarios expect only the length
 * and the 2 MiB cap (HPAGE_SIZE) to matter, as with the sim's fixed address.
 */
#define BUF_ALIGN (2ULL << 20)

static void *map_aligned_buf(void)
{
	size_t len = SC_BUF_SIZE + BUF_ALIGN;
	uintptr_t start, aligned;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	start = (uintptr_t)p;
	aligned = (start + BUF_ALIGN - 1) & ~(uintptr_t)(BUF_ALIGN - 1);
	if (aligned > start)
		munmap(p, aligned - start);
	if (start + len > aligned + SC_BUF_SIZE)
		munmap((char *)aligned + SC_BUF_SIZE, start + len - aligned - SC_BUF_SIZE);
	memset((void *)aligned, 0x5a, SC_BUF_SIZE);
	return (void *)aligned;
}

/* What the kernel backends use (kernel_max_alignment() in src/ioasid/kernel.c). */
static uint64_t running_kernel_max_alignment(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");

	if (!f)
		return 4096;
	if (fscanf(f, "%llu", &v) != 1 || !v)
		v = 4096;
	fclose(f);
	return v;
}

/* The sequence of automatic maps of --kernel-iova: offset into the buffer, length. */
static const struct {
	uint64_t off, len;
} auto_maps[] = {
	{ 0, 1 * SC_PAGE }, { 0, 2 * SC_PAGE }, { 0, 3 * SC_PAGE }, { 0, 4 * SC_PAGE },
	{ 0, 5 * SC_PAGE }, { 0, 8 * SC_PAGE }, { 0, 10 * SC_PAGE }, { 0, 256 * SC_PAGE },
	{ 8192, 16 * SC_PAGE }, { 3 * SC_PAGE, 5 * SC_PAGE }, { 2 << 20, SC_PAGE },
	{ 0, 512 * SC_PAGE }, { 0, SC_PAGE },
};
#define NR_AUTO_MAPS (sizeof(auto_maps) / sizeof(auto_maps[0]))

static int model_auto_iovas(struct ioasid_backend *be, const char *single, uint64_t buf,
			    uint64_t *iovas, char *why, size_t size)
{
	struct ioasid_ctx *ctx = NULL;
	uint32_t dev, ioas;
	size_t i;
	int err;

	err = ioasid_ctx__new(be, NULL, &ctx);
	if (!err)
		err = ioasid_device__bind(ctx, single, &dev);
	if (!err)
		err = ioasid_ioas__alloc(ctx, &ioas);
	if (!err)
		err = ioasid_device__attach(ctx, dev, ioas);
	for (i = 0; i < NR_AUTO_MAPS && !err; i++)
		err = ioasid_ioas__map(ctx, ioas, buf + auto_maps[i].off, auto_maps[i].len,
				       &iovas[i], IOASID_MAP_READ | IOASID_MAP_WRITE);
	if (err)
		snprintf(why, size, "libioasid: %s", ctx ? ioasid_ctx__last_error(ctx)->msg :
			 strerror(-err));
	ioasid_ctx__free(ctx);
	return err;
}

/* The same on raw iommufd, the kernel choosing the IOVAs. */
static int kernel_auto_iovas(const char *single, uint64_t buf, uint64_t *iovas, char *why,
			     size_t size)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	int iommufd = -1, dev = -1, err = 0;
	struct dirent *de;
	const char *step;
	size_t i;
	DIR *d;

	step = "open /dev/iommu";
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		goto fail;
	step = "find the VFIO cdev";
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", single);
	d = opendir(path);
	if (!d)
		goto fail;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			break;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de ? de->d_name : "none");
	closedir(d);
	step = "open the VFIO cdev";
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		goto fail;
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = iommufd };
	step = "VFIO_DEVICE_BIND_IOMMUFD";
	if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		goto fail;
	step = "IOMMU_IOAS_ALLOC";
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		goto fail;
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach),
							.pt_id = alloc.out_ioas_id };
	step = "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
	if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		goto fail;
	for (i = 0; i < NR_AUTO_MAPS; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = alloc.out_ioas_id,
			.user_va = buf + auto_maps[i].off,
			.length = auto_maps[i].len,
		};

		step = "IOMMU_IOAS_MAP";
		if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
			goto fail;
		iovas[i] = map.iova;
	}
	goto out;
fail:
	err = -errno;
	snprintf(why, size, "kernel: %s: %s", step, strerror(errno));
out:
	/* Closing the cdev detaches and unbinds; closing /dev/iommu frees the IOAS. */
	if (dev >= 0)
		close(dev);
	if (iommufd >= 0)
		close(iommufd);
	return err;
}

static int check_kernel_iova(struct ioasid_backend *be, const char *single, uint64_t buf)
{
	uint64_t model[NR_AUTO_MAPS], kernel[NR_AUTO_MAPS];
	char why[320] = "";
	size_t i;

	if (model_auto_iovas(be, single, buf, model, why, sizeof(why)) ||
	    kernel_auto_iovas(single, buf, kernel, why, sizeof(why))) {
		printf("not ok kernel_auto_iova: %s\n", why);
		return 1;
	}
	for (i = 0; i < NR_AUTO_MAPS; i++) {
		if (model[i] != kernel[i]) {
			printf("not ok kernel_auto_iova: map %zu (buffer + 0x%llx, 0x%llx bytes): libioasid chose 0x%llx, the kernel 0x%llx\n",
			       i, (unsigned long long)auto_maps[i].off,
			       (unsigned long long)auto_maps[i].len, (unsigned long long)model[i],
			       (unsigned long long)kernel[i]);
			return 1;
		}
	}
	printf("ok kernel_auto_iova\n# auto-iova:");
	for (i = 0; i < NR_AUTO_MAPS; i++)
		printf(" 0x%llx", (unsigned long long)kernel[i]);
	printf("\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: conformance sim|iommufd|vfio --single BDF [--pair BDF,BDF] "
		"[--sysfs DIR] [--only NAME] [--max-alignment BYTES]\n"
		"       conformance iommufd --single BDF --kernel-iova\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "single", required_argument, NULL, 's' },
		{ "pair", required_argument, NULL, 'p' },
		{ "sysfs", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "max-alignment", required_argument, NULL, 'm' },
		{ "kernel-iova", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *single = NULL, *root = "/", *only = NULL;
	char pair_buf[64] = "", *comma = NULL, *log_buf = NULL;
	struct ioasid_backend_opts opts = { .sz = sizeof(opts) };
	struct ioasid_topology *topo = NULL;
	struct ioasid_backend *be = NULL;
	struct ioasid_error lerr;
	unsigned int i, failed = 0, ran = 0;
	size_t log_len = 0;
	void *buf = MAP_FAILED;
	char reason[320];
	bool kernel_iova = false;
	int opt, err, ret = 0;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			single = optarg;
			break;
		case 'p':
			if (strlen(optarg) >= sizeof(pair_buf) || !(comma = strchr(optarg, ','))) {
				fprintf(stderr, "conformance: --pair wants BDF,BDF, not '%s'\n", optarg);
				return 2;
			}
			strcpy(pair_buf, optarg);
			comma = pair_buf + (comma - optarg);
			*comma = '\0';
			break;
		case 'r':
			root = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'm':
			opts.max_alignment = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			kernel_iova = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !single) {
		usage(stderr);
		return 2;
	}
	opts.name = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = ioasid_topology__load(root, &topo, &lerr);
	if (err) {
		snprintf(reason, sizeof(reason), "cannot load the topology: %s", lerr.msg);
		ret = 1;
		goto out_report;
	}
	if (!ioasid_topology__find_device(topo, single)) {
		snprintf(reason, sizeof(reason), "--single %s: no such device", single);
		ret = 1;
		goto out_report;
	}
	err = ioasid_backend__open(topo, &opts, &be);
	if (err) {
		snprintf(reason, sizeof(reason), "backend %s not available: %s", opts.name,
			 err == -ENODEV ? "the kernel lacks its device node" : strerror(-err));
		ret = 77;
		goto out_report;
	}
	buf = map_aligned_buf();
	if (buf == MAP_FAILED) {
		snprintf(reason, sizeof(reason), "mmap: %s", strerror(errno));
		ret = 1;
		goto out_report;
	}

	if (kernel_iova) {
		ret = strcmp(opts.name, "iommufd") ? 2 : check_kernel_iova(be, single, (uintptr_t)buf);
		if (ret == 2)
			fprintf(stderr, "conformance: --kernel-iova needs the iommufd backend\n");
		goto out;
	}
	if (!opts.max_alignment && strcmp(opts.name, "sim"))
		opts.max_alignment = running_kernel_max_alignment();

	sc_on_call = rec;
	for (i = 0; i < sc_nr_cases; i++) {
		const struct sc_case *c = &sc_cases[i];
		struct sc_env env = {
			.be = be,
			.single = single,
			.pair = { pair_buf, comma ? comma + 1 : NULL },
			.buf = (uintptr_t)buf,
			.buf_size = SC_BUF_SIZE,
			.max_alignment = opts.max_alignment,
		};
		struct usage before, after;
		int r;

		if (only && strcmp(only, c->name))
			continue;
		if (needs_pair(c->name) && !comma) {
			printf("skip %s: no --pair (two endpoints of one group on a VFIO driver)\n",
			       c->name);
			continue;
		}
		env.log = open_memstream(&log_buf, &log_len);
		if (!env.log) {
			printf("not ok %s: open_memstream: %s\n", c->name, strerror(errno));
			failed++;
			continue;
		}
		nr_calls = 0;
		calls_overflow = false;
		read_usage(&before);
		r = c->run(&env);
		read_usage(&after);
		fclose(env.log);
		ran++;
		if (r) {
			char *nl = strchr(log_buf, '\n');

			printf("not ok %s: %.*s\n", c->name, nl ? (int)(nl - log_buf) : (int)log_len,
			       log_buf);
			for (char *line = nl ? nl + 1 : NULL; line && *line; line = nl + 1) {
				nl = strchr(line, '\n');
				printf("#   %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
				if (!nl)
					break;
			}
			failed++;
		} else if (after.fds != before.fds || after.vmlck_kb != before.vmlck_kb) {
			printf("not ok %s: leaked %ld fd(s), %ld kB locked\n", c->name,
			       after.fds - before.fds, after.vmlck_kb - before.vmlck_kb);
			failed++;
		} else {
			printf("ok %s\n", c->name);
		}
		print_calls(c->name);
		free(log_buf);
		log_buf = NULL;
	}
	if (!only && print_geometry(be, single))
		failed++;
	if (!ran && only) {
		fprintf(stderr, "conformance: no scenario named '%s'\n", only);
		ret = 2;
	} else {
		ret = failed ? 1 : 0;
	}
	goto out;

out_report:
	for (i = 0; i < sc_nr_cases; i++)
		if (!only || !strcmp(only, sc_cases[i].name))
			printf("%s %s: %s\n", ret == 77 ? "skip" : "not ok", sc_cases[i].name, reason);
out:
	if (buf != MAP_FAILED)
		munmap(buf, SC_BUF_SIZE);
	ioasid_backend__close(be);
	ioasid_topology__free(topo);
	return ret;
}
