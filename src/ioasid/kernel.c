// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the two kernel backends (iommufd.c, vfio.c) read the same way from the running
 * kernel: the cap of automatic IOVA alignment, and a group's domain geometry checked
 * against the reserved regions sysfs lists. Needs no uAPI header: the callers turn the
 * kernel's structures into libioasid's first.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ioasid_private.h"

static int cmp_resv_start(const void *a, const void *b)
{
	const struct ioasid_resv_region *ra = a, *rb = b;

	return ra->start < rb->start ? -1 : ra->start > rb->start;
}

uint64_t kernel_max_alignment(void)
{
	unsigned long long v = 0;
	FILE *f;

	/* mm/huge_memory.c creates the directory only with CONFIG_TRANSPARENT_HUGEPAGE. */
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (!f)
		return IOASID_PAGE_SIZE;
	if (fscanf(f, "%llu", &v) != 1 || !v || (v & (v - 1)))
		v = IOASID_PAGE_SIZE;
	fclose(f);
	return v;
}

static bool range_is(const struct ioasid_iova_range *r, uint32_t nr, uint32_t idx,
		     uint64_t start, uint64_t last)
{
	return idx < nr && r[idx].start == start && r[idx].last == last;
}

int kernel_geometry_from_ranges(const struct ioasid_group *group,
				const struct ioasid_iova_range *ranges, uint32_t nr,
				uint64_t pgsize_bitmap, struct ioasid_geometry *geo)
{
	struct ioasid_resv_region *resv;
	size_t i, nr_resv = 0;
	bool done = false;
	uint32_t n = 0;
	uint64_t cur;
	int err = 0;

	if (!nr || !pgsize_bitmap)
		return -EINVAL;
	geo->aperture_start = ranges[0].start;
	geo->aperture_last = ranges[nr - 1].last;
	geo->pgsize_bitmap = pgsize_bitmap;

	/*
	 * What the model will compute: the aperture minus the group's reserved regions
	 * except direct-relaxable ones (iopt_table_enforce_dev_resv_regions(),
	 * vfio_iommu_resv_exclude()), merged, in order.
	 */
	resv = calloc(group->nr_resv ? group->nr_resv : 1, sizeof(*resv));
	if (!resv)
		return -ENOMEM;
	for (i = 0; i < group->nr_resv; i++)
		if (group->resv[i].type != IOASID_RESV_DIRECT_RELAXABLE)
			resv[nr_resv++] = group->resv[i];
	qsort(resv, nr_resv, sizeof(*resv), cmp_resv_start);
	cur = geo->aperture_start;
	for (i = 0; i < nr_resv && !done; i++) {
		if (resv[i].last < cur)
			continue;
		if (resv[i].start > geo->aperture_last)
			break;
		if (resv[i].start > cur && !range_is(ranges, nr, n++, cur, resv[i].start - 1))
			err = -EPROTO;
		if (resv[i].last >= geo->aperture_last)
			done = true;
		else
			cur = resv[i].last + 1;
	}
	if (!done && !range_is(ranges, nr, n++, cur, geo->aperture_last))
		err = -EPROTO;
	if (n != nr)
		err = -EPROTO;
	free(resv);
	return err;
}
