// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfio_workload: drives real VFIO and iommufd from inside the lab guest, so scenarios can
 * compare what ioguard reports with what was done.
 *
 *   vfio_workload status  BDF                        group viability (VFIO_GROUP_GET_STATUS)
 *   vfio_workload type1   BDF [--pages N] [--iova A] legacy container, TYPE1v2 maps
 *   vfio_workload iommufd BDF [--pages N] [--iova A] VFIO cdev bound to /dev/iommu, IOAS maps
 *
 * --cycles N repeats the map-all/unmap-all round N times in one process; --bind-also BDF
 * (iommufd) binds another device to the same iommufd before BDF is attached.
 * --phase-times adds "map_ns" and "unmap_ns" to the JSON: CLOCK_MONOTONIC time spent in the
 * map loops and in the unmap loops alone, summed over the cycles (the overhead benchmarks
 * divide them by the counts; under the lab's --icount they are instruction counts).
 * --hammer SEC --log FILE (type1) maps and unmaps one page at A for SEC seconds and logs
 * each map as "START_NS END_NS ERRNO" (CLOCK_MONOTONIC), to judge decisions against
 * the policy in force at the time; --gap-us U sleeps U microseconds between maps.
 * --hold FILE: after the rounds, says "holding" on stderr and keeps the group or device
 * (and so its DMA ownership) until FILE exists: a tenant that stays, for what watches it.
 *
 * Each run prints one JSON object: what was done, or which step failed with which errno.
 * Maps are one page each at IOVA A + i * 4096, then unmapped one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define PAGE_SIZE_4K 4096UL

struct workload {
	const char *backend;
	const char *bdf;
	int group;
	unsigned long pages;
	uint64_t iova;
	unsigned long cycles;
	const char *bind_also;
	unsigned long hammer_seconds;
	unsigned long gap_us;		/* between hammer maps */
	const char *log_path;
	const char *hold_path;
	unsigned long maps;
	unsigned long unmaps;
	unsigned long long elapsed_ns;	/* of the map/unmap rounds only */
	bool phase_times;
	unsigned long long map_ns;	/* of the map loops alone */
	unsigned long long unmap_ns;	/* of the unmap loops alone */
	const char *failed_step;
	int failed_errno;
	int viable;		/* -1 unknown */
	int container_set;	/* -1 unknown */
};

static int fail(struct workload *w, const char *step)
{
	int err = errno;

	w->failed_step = step;
	w->failed_errno = err;
	return -err;
}

static int device_group(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	return atoi(slash ? slash + 1 : target);
}

static int open_group(struct workload *w)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", w->group);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return fail(w, "open_group");
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status)) {
		close(fd);
		return fail(w, "group_get_status");
	}
	w->viable = !!(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	w->container_set = !!(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	return fd;
}

static int run_status(struct workload *w)
{
	int fd = open_group(w);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static unsigned long long now_ns(void);

static void hold_until(const char *path)
{
	if (!path)
		return;
	fprintf(stderr, "holding until %s exists\n", path);
	while (access(path, F_OK))
		usleep(100000);
}

/* Maps every page at its IOVA, then unmaps them one by one. */
static int type1_round(struct workload *w, int container, void *buf)
{
	unsigned long long t0 = now_ns();
	unsigned long i;

	for (i = 0; i < w->pages; i++) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf + i * PAGE_SIZE_4K,
			.iova = w->iova + i * PAGE_SIZE_4K,
			.size = PAGE_SIZE_4K,
		};

		if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
			return fail(w, "map_dma");
		w->maps++;
	}
	w->map_ns += now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < w->pages; i++) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = w->iova + i * PAGE_SIZE_4K,
			.size = PAGE_SIZE_4K,
		};

		if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
			return fail(w, "unmap_dma");
		w->unmaps++;
	}
	w->unmap_ns += now_ns() - t0;
	return 0;
}

static int iommufd_round(struct workload *w, int iommufd, __u32 ioas_id, void *buf)
{
	unsigned long long t0 = now_ns();
	unsigned long i;

	for (i = 0; i < w->pages; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas_id,
			.user_va = (uintptr_t)buf + i * PAGE_SIZE_4K,
			.length = PAGE_SIZE_4K,
			.iova = w->iova + i * PAGE_SIZE_4K,
		};

		if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
			return fail(w, "ioas_map");
		w->maps++;
	}
	w->map_ns += now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < w->pages; i++) {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap),
			.ioas_id = ioas_id,
			.iova = w->iova + i * PAGE_SIZE_4K,
			.length = PAGE_SIZE_4K,
		};

		if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
			return fail(w, "ioas_unmap");
		w->unmaps++;
	}
	w->unmap_ns += now_ns() - t0;
	return 0;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static volatile sig_atomic_t stop_hammer;

static void on_term(int sig)
{
	stop_hammer = 1;
}

/* Map/unmap one page until the time is up or SIGTERM, logging every map's outcome. */
static int type1_hammer(struct workload *w, int container, void *buf)
{
	unsigned long long end = now_ns() + w->hammer_seconds * 1000000000ULL, t0, t1;
	FILE *log = fopen(w->log_path, "w");
	int err = 0;

	if (!log)
		return fail(w, "open_log");
	signal(SIGTERM, on_term);
	while ((t0 = now_ns()) < end && !stop_hammer) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf,
			.iova = w->iova,
			.size = PAGE_SIZE_4K,
		};
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = w->iova,
			.size = PAGE_SIZE_4K,
		};
		int rc = ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? errno : 0;

		t1 = now_ns();
		fprintf(log, "%llu %llu %d\n", t0, t1, rc);
		if (!rc) {
			w->maps++;
			if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
				err = fail(w, "unmap_dma");
				break;
			}
			w->unmaps++;
		}
		if (w->gap_us)
			usleep(w->gap_us);
	}
	fclose(log);
	return err;
}

static int run_type1(struct workload *w)
{
	size_t len = w->pages * PAGE_SIZE_4K;
	int container = -1, group = -1, device = -1, err = 0;
	unsigned long i;
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail(w, "mmap");
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		err = fail(w, "open_container");
		goto out;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		errno = ENOTSUP;
		err = fail(w, "check_extension");
		goto out;
	}
	group = open_group(w);
	if (group < 0) {
		err = group;
		goto out;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) {
		err = fail(w, "set_container");
		goto out;
	}
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		err = fail(w, "set_iommu");
		goto out;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, w->bdf);
	if (device < 0) {
		err = fail(w, "get_device_fd");
		goto out;
	}
	if (w->hammer_seconds)
		err = type1_hammer(w, container, buf);
	w->elapsed_ns = now_ns();
	for (i = 0; i < w->cycles && !err && !w->hammer_seconds; i++)
		err = type1_round(w, container, buf);
	w->elapsed_ns = now_ns() - w->elapsed_ns;
	if (!err)
		hold_until(w->hold_path);
out:
	if (device >= 0)
		close(device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	munmap(buf, len);
	return err;
}

/* /dev/vfio/devices/vfioN of a device bound to a VFIO driver, from sysfs. */
static int open_vfio_cdev(struct workload *w, const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int fd = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return fail(w, "find_vfio_cdev");
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->d_name);
		fd = open(path, O_RDWR);
		if (fd < 0)
			fd = fail(w, "open_vfio_cdev");
		break;
	}
	closedir(dir);
	if (!d) {
		errno = ENODEV;
		return fail(w, "find_vfio_cdev");
	}
	return fd;
}

static int run_iommufd(struct workload *w)
{
	size_t len = w->pages * PAGE_SIZE_4K;
	int iommufd = -1, device = -1, other = -1, err = 0;
	bool attached = false;
	unsigned long i;
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail(w, "mmap");
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0) {
		err = fail(w, "open_iommufd");
		goto out;
	}
	device = open_vfio_cdev(w, w->bdf);
	if (device < 0) {
		err = device;
		goto out;
	}
	if (w->bind_also) {
		struct vfio_device_bind_iommufd bind_other = {
			.argsz = sizeof(bind_other),
			.iommufd = iommufd,
		};

		other = open_vfio_cdev(w, w->bind_also);
		if (other < 0) {
			err = other;
			goto out;
		}
		if (ioctl(other, VFIO_DEVICE_BIND_IOMMUFD, &bind_other)) {
			err = fail(w, "bind_iommufd_also");
			goto out;
		}
	}
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		err = fail(w, "bind_iommufd");
		goto out;
	}
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		err = fail(w, "ioas_alloc");
		goto out;
	}
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = alloc.out_ioas_id,
	};
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		err = fail(w, "attach_pt");
		goto out;
	}
	attached = true;
	w->elapsed_ns = now_ns();
	for (i = 0; i < w->cycles && !err; i++)
		err = iommufd_round(w, iommufd, alloc.out_ioas_id, buf);
	w->elapsed_ns = now_ns() - w->elapsed_ns;
	if (!err)
		hold_until(w->hold_path);
out:
	if (attached) {
		struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };

		if (ioctl(device, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach) && !err)
			err = fail(w, "detach_pt");
	}
	if (other >= 0)
		close(other);
	if (device >= 0)
		close(device);
	if (iommufd >= 0)
		close(iommufd);
	munmap(buf, len);
	return err;
}

static void print_result(const struct workload *w)
{
	printf("{\"backend\":\"%s\",\"bdf\":\"%s\",\"group\":%d,\"pid\":%d,\"pages\":%lu,"
	       "\"iova\":%llu,\"page_size\":%lu,\"maps\":%lu,\"unmaps\":%lu,"
	       "\"elapsed_ns\":%llu",
	       w->backend, w->bdf, w->group, getpid(), w->pages, (unsigned long long)w->iova,
	       PAGE_SIZE_4K, w->maps, w->unmaps, w->elapsed_ns);
	if (w->phase_times)
		printf(",\"map_ns\":%llu,\"unmap_ns\":%llu", w->map_ns, w->unmap_ns);
	if (w->viable >= 0)
		printf(",\"viable\":%s,\"container_set\":%s", w->viable ? "true" : "false",
		       w->container_set ? "true" : "false");
	if (w->failed_step)
		printf(",\"failed_step\":\"%s\",\"errno\":%d,\"error\":\"%s\"}\n", w->failed_step,
		       w->failed_errno, strerror(w->failed_errno));
	else
		printf(",\"failed_step\":null,\"errno\":0}\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: vfio_workload status|type1|iommufd BDF [--pages N] [--iova A] "
		"[--cycles N] [--bind-also BDF] [--hammer SEC --log FILE [--gap-us U]] "
		"[--phase-times] [--hold FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "iova", required_argument, NULL, 'i' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "bind-also", required_argument, NULL, 'b' },
		{ "hammer", required_argument, NULL, 'H' },
		{ "log", required_argument, NULL, 'l' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "phase-times", no_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'h' },
		{ 0 },
	};
	struct workload w = {
		.pages = 64, .iova = 0x100000, .cycles = 1, .viable = -1, .container_set = -1,
	};
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			w.pages = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			w.iova = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			w.cycles = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			w.bind_also = optarg;
			break;
		case 'H':
			w.hammer_seconds = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			w.log_path = optarg;
			break;
		case 'g':
			w.gap_us = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			w.phase_times = true;
			break;
		case 'h':
			w.hold_path = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !w.pages || w.iova % PAGE_SIZE_4K ||
	    (w.hammer_seconds && !w.log_path)) {
		usage();
		return 2;
	}
	w.backend = argv[optind];
	w.bdf = argv[optind + 1];
	w.group = device_group(w.bdf);
	if (w.group < 0) {
		fprintf(stderr, "vfio_workload: %s has no IOMMU group: %s\n", w.bdf,
			strerror(-w.group));
		return 1;
	}
	if (!strcmp(w.backend, "status"))
		err = run_status(&w);
	else if (!strcmp(w.backend, "type1"))
		err = run_type1(&w);
	else if (!strcmp(w.backend, "iommufd"))
		err = run_iommufd(&w);
	else {
		usage();
		return 2;
	}
	print_result(&w);
	return err ? 1 : 0;
}
