// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * holder_flood: fills ioguard's table of mappings' holders. Every /dev/iommu open is a
 * new iommufd context, so a tenant can make as many holders as it has fds; one 4 KiB
 * IOAS_MAP in each makes ioguard track it. Past the table's size the map must be
 * denied (account_full), not let through uncounted.
 *
 *   holder_flood --count N [--iova A]
 *
 * Prints one JSON line: contexts opened, maps made, and the first failed step.
 */
#include <getopt.h>
#include <sys/resource.h>

#include "lab_attack.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "iova", required_argument, NULL, 'i' },
		{ 0 },
	};
	unsigned long count = 0, opened = 0, mapped = 0, i;
	unsigned long long iova = 0x100000;
	struct report r = {};
	struct rlimit nofile;
	void *page;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			iova = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: holder_flood --count N [--iova A]\n");
			return 2;
		}
	}
	if (!count) {
		fprintf(stderr, "usage: holder_flood --count N [--iova A]\n");
		return 2;
	}
	nofile.rlim_cur = nofile.rlim_max = count + 64;
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		report_fail(&r, "setrlimit", -errno);
	page = mmap(NULL, LAB_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		report_fail(&r, "mmap", -errno);
	else
		memset(page, 0x5a, LAB_PAGE);
	/* Every fd stays open to the end: a closed context would free its holder. */
	for (i = 0; i < count && !r.failed_step; i++) {
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)page,
			.length = LAB_PAGE,
			.iova = iova,
		};
		int fd = open("/dev/iommu", O_RDWR);

		if (fd < 0) {
			report_fail(&r, "open", -errno);
			break;
		}
		opened++;
		if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
			report_fail(&r, "ioas_alloc", -errno);
			break;
		}
		map.ioas_id = alloc.out_ioas_id;
		if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
			report_fail(&r, "ioas_map", -errno);
			break;
		}
		mapped++;
	}
	report_int(&r, "opened", (long long)opened);
	report_int(&r, "mapped", (long long)mapped);
	report_print(&r, "holder_flood", "iommufd");
	return 0;
}
