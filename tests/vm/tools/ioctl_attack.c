// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioctl_attack: ioctls that reach DMA or driver code without being among the commands
 * ioguard classifies (security review finding 2).
 *
 *   ioctl_attack vfio-ioas [--iova A] [--pages N]
 *       /dev/iommu: IOMMU_IOAS_ALLOC, IOMMU_VFIO_IOAS SET, then N one-page
 *       VFIO_IOMMU_MAP_DMA through iommufd's VFIO compatibility layer, unmapped again
 *   ioctl_attack unknown PATH NR
 *       _IO(';', NR) on PATH: a command number nobody classifies
 *
 * Prints one JSON line (lab_attack.h); exit status 0 only if no step failed.
 */
#include <getopt.h>

#include "lab_attack.h"

struct attack {
	uint64_t iova;
	unsigned long pages;
	unsigned long maps, unmaps;
	struct report r;
};

static int run_vfio_ioas(struct attack *a)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_vfio_ioas vfio_ioas = { .size = sizeof(vfio_ioas), .op = IOMMU_VFIO_IOAS_SET };
	size_t len = a->pages * LAB_PAGE;
	int iommufd, err = 0;
	unsigned long i;
	void *buf;

	buf = lab_buffer(len);
	if (!buf)
		return report_fail(&a->r, "mmap_buffer", -errno);
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0) {
		err = report_fail(&a->r, "open_iommufd", -errno);
		goto out_unmap;
	}
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		err = report_fail(&a->r, "ioas_alloc", -errno);
		goto out_close;
	}
	vfio_ioas.ioas_id = alloc.out_ioas_id;
	if (ioctl(iommufd, IOMMU_VFIO_IOAS, &vfio_ioas)) {
		err = report_fail(&a->r, "vfio_ioas_set", -errno);
		goto out_close;
	}
	for (i = 0; i < a->pages && !err; i++) {
		err = report_fail(&a->r, "map_dma",
				  lab_type1_map(iommufd, (char *)buf + i * LAB_PAGE,
						a->iova + i * LAB_PAGE, LAB_PAGE));
		if (!err)
			a->maps++;
	}
	for (i = 0; i < a->maps; i++) {
		if (report_fail(&a->r, "unmap_dma",
				lab_type1_unmap(iommufd, a->iova + i * LAB_PAGE, LAB_PAGE, 0)))
			break;
		a->unmaps++;
	}
out_close:
	close(iommufd);
out_unmap:
	munmap(buf, len);
	return err;
}

static int run_unknown(struct attack *a, const char *path, unsigned int nr)
{
	/*
	 * A readable argument with a plausible size field: iommufd reads the size before it
	 * dispatches, so a NULL argument would stop at EFAULT short of the handler.
	 */
	__u32 arg[64] = { sizeof(arg) };
	int fd, err = 0;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return report_fail(&a->r, "open", -errno);
	report_int(&a->r, "cmd", _IO(';', nr));
	if (ioctl(fd, _IO(';', nr), arg))
		err = report_fail(&a->r, "ioctl", -errno);
	close(fd);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: ioctl_attack vfio-ioas [--iova A] [--pages N] | unknown PATH NR\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iova", required_argument, NULL, 'i' },
		{ "pages", required_argument, NULL, 'n' },
		{ 0 },
	};
	struct attack a = { .iova = 0x100000, .pages = 1 };
	const char *mode;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			a.iova = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			a.pages = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
	mode = argv[optind];
	if (!strcmp(mode, "vfio-ioas") && optind + 1 == argc) {
		report_int(&a.r, "iova", (long long)a.iova);
		err = run_vfio_ioas(&a);
		report_int(&a.r, "maps", (long long)a.maps);
		report_int(&a.r, "unmaps", (long long)a.unmaps);
	} else if (!strcmp(mode, "unknown") && optind + 3 == argc) {
		report_str(&a.r, "path", argv[optind + 1]);
		err = run_unknown(&a, argv[optind + 1], strtoul(argv[optind + 2], NULL, 0));
	} else {
		usage();
		return 2;
	}
	report_print(&a.r, "ioctl_attack", mode);
	return err ? 1 : 0;
}
