// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dma_fault: makes QEMU's edu device (1234:11e8) do real DMA through VFIO, so the lab can
 * compare the DMA-remapping faults the IOMMU records with what ioguard counts.
 *
 *   dma_fault type1|iommufd BDF --iova A --bad-iova B [--bad N]
 *
 * Maps one page of a buffer at IOVA A (type1: the VFIO container; iommufd: the device's
 * cdev bound to /dev/iommu and attached to an IOAS), then drives edu's DMA engine through
 * BAR0: the buffer's page into edu's internal buffer and back to the second half of the
 * same page, and checks that the bytes made the round trip. Then N transfers (default 1)
 * from edu to IOVA B, B + 4096, ... which are not mapped: each one is a DMA write fault.
 *
 * edu (QEMU hw/misc/edu.c): BAR0 registers 0x80 source, 0x88 destination, 0x90 count,
 * 0x98 command (bit 0 start, bit 1 direction edu-to-RAM, bit 2 interrupt); its buffer is
 * at device address 0x40000 (4 KiB), and it masks DMA addresses to 28 bits, so IOVAs
 * stay below 256 MiB. A transfer runs from a timer (100 ms of virtual time); the command
 * register's start bit clears when it is done, faulted or not.
 *
 * Prints one JSON object: what was done, or which step failed with which errno.
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
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "lab_attack.h"

#define PAGE_4K		4096UL
#define EDU_SRC		0x80
#define EDU_DST		0x88
#define EDU_COUNT	0x90
#define EDU_CMD		0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUFFER	0x40000UL
#define EDU_DMA_MASK	((1UL << 28) - 1)
/* A transfer takes 100 ms of the guest's virtual clock; TCG may stretch it. */
#define TRANSFER_TIMEOUT_MS 10000

struct run {
	const char *backend;
	const char *bdf;
	uint64_t iova;
	uint64_t bad_iova;
	unsigned long bad;
	int device;
	uint64_t bar0;		/* offset of BAR0 in the device fd */
	uint64_t config;	/* offset of the config space in the device fd */
	unsigned long transfers;
	unsigned long bad_done;
	bool round_trip_ok;
	const char *failed_step;
	int failed_errno;
};

static int fail(struct run *r, const char *step, int err)
{
	r->failed_step = step;
	r->failed_errno = err;
	return -err;
}

static int region_offset(struct run *r, __u32 index, uint64_t *offset)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(r->device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return fail(r, "get_region_info", errno);
	*offset = info.offset;
	return 0;
}

static int edu_write(struct run *r, unsigned int reg, __u32 val)
{
	if (pwrite(r->device, &val, sizeof(val), r->bar0 + reg) != sizeof(val))
		return fail(r, "bar0_write", errno ?: EIO);
	return 0;
}

static int edu_read(struct run *r, unsigned int reg, __u32 *val)
{
	if (pread(r->device, val, sizeof(*val), r->bar0 + reg) != sizeof(*val))
		return fail(r, "bar0_read", errno ?: EIO);
	return 0;
}

/* DMA needs bus mastering, which vfio-pci leaves off until the user sets it. */
static int enable_bus_master(struct run *r)
{
	__u16 cmd;

	if (pread(r->device, &cmd, sizeof(cmd), r->config + PCI_COMMAND) != sizeof(cmd))
		return fail(r, "config_read", errno ?: EIO);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(r->device, &cmd, sizeof(cmd), r->config + PCI_COMMAND) != sizeof(cmd))
		return fail(r, "config_write", errno ?: EIO);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One transfer of @count bytes; returns once edu clears its start bit. */
static int edu_transfer(struct run *r, uint64_t src, uint64_t dst, __u32 count, bool to_ram)
{
	long deadline = now_ms() + TRANSFER_TIMEOUT_MS;
	__u32 cmd = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
	int err;

	err = edu_write(r, EDU_SRC, src) ?: edu_write(r, EDU_DST, dst) ?:
	      edu_write(r, EDU_COUNT, count) ?: edu_write(r, EDU_CMD, cmd);
	if (err)
		return err;
	r->transfers++;
	do {
		usleep(1000);
		err = edu_read(r, EDU_CMD, &cmd);
		if (err)
			return err;
		if (!(cmd & EDU_CMD_START))
			return 0;
	} while (now_ms() < deadline);
	return fail(r, "transfer_timeout", ETIMEDOUT);
}

/*
 * The good round trip: the page's first half into edu's buffer, then edu's buffer back
 * into the page's second half, through the mapped IOVA both ways.
 */
static int round_trip(struct run *r, unsigned char *page)
{
	size_t half = PAGE_4K / 2, i;
	int err;

	for (i = 0; i < half; i++) {
		page[i] = (unsigned char)(i * 7 + 1);
		page[half + i] = 0;
	}
	err = edu_transfer(r, r->iova, EDU_BUFFER, half, false) ?:
	      edu_transfer(r, EDU_BUFFER, r->iova + half, half, true);
	if (err)
		return err;
	r->round_trip_ok = !memcmp(page, page + half, half);
	return r->round_trip_ok ? 0 : fail(r, "round_trip_data", EIO);
}

static int faults(struct run *r)
{
	unsigned long i;
	int err = 0;

	for (i = 0; i < r->bad && !err; i++) {
		err = edu_transfer(r, EDU_BUFFER, r->bad_iova + i * PAGE_4K, 8, true);
		if (!err)
			r->bad_done++;
	}
	return err;
}

static int drive(struct run *r, unsigned char *page)
{
	return region_offset(r, VFIO_PCI_BAR0_REGION_INDEX, &r->bar0) ?:
	       region_offset(r, VFIO_PCI_CONFIG_REGION_INDEX, &r->config) ?:
	       enable_bus_master(r) ?: round_trip(r, page) ?: faults(r);
}

static int run_type1(struct run *r, unsigned char *page)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)page, .iova = r->iova, .size = PAGE_4K,
	};
	int container = -1, group = -1, gid, err = 0;
	char path[64];

	gid = lab_device_group(r->bdf);
	if (gid < 0)
		return fail(r, "device_group", -gid);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		err = fail(r, "open_container", errno);
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", gid);
	group = open(path, O_RDWR);
	if (group < 0) {
		err = fail(r, "open_group", errno);
		goto out;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) {
		err = fail(r, "set_container", errno);
		goto out;
	}
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		err = fail(r, "set_iommu", errno);
		goto out;
	}
	r->device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, r->bdf);
	if (r->device < 0) {
		err = fail(r, "get_device_fd", errno);
		goto out;
	}
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map)) {
		err = fail(r, "map_dma", errno);
		goto out;
	}
	err = drive(r, page);
out:
	if (r->device >= 0)
		close(r->device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	return err;
}

/* /dev/vfio/devices/vfioN of a device bound to vfio-pci, from sysfs. */
static int open_vfio_cdev(struct run *r)
{
	char path[PATH_MAX];
	int err, fd;

	err = lab_cdev_path(r->bdf, path, sizeof(path));
	if (err)
		return fail(r, "find_vfio_cdev", -err);
	fd = open(path, O_RDWR);
	return fd < 0 ? fail(r, "open_vfio_cdev", errno) : fd;
}

static int run_iommufd(struct run *r, unsigned char *page)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)page, .length = PAGE_4K, .iova = r->iova,
	};
	int iommufd, err = 0;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return fail(r, "open_iommufd", errno);
	r->device = open_vfio_cdev(r);
	if (r->device < 0) {
		err = r->device;
		goto out;
	}
	bind.iommufd = iommufd;
	if (ioctl(r->device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		err = fail(r, "bind_iommufd", errno);
		goto out;
	}
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		err = fail(r, "ioas_alloc", errno);
		goto out;
	}
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(r->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		err = fail(r, "attach_pt", errno);
		goto out;
	}
	map.ioas_id = alloc.out_ioas_id;
	if (ioctl(iommufd, IOMMU_IOAS_MAP, &map)) {
		err = fail(r, "ioas_map", errno);
		goto out;
	}
	err = drive(r, page);
out:
	if (r->device >= 0)
		close(r->device);
	close(iommufd);
	return err;
}

static void print_result(const struct run *r)
{
	printf("{\"backend\":\"%s\",\"device\":\"%s\",\"iova\":%llu,\"bad_iova\":%llu,"
	       "\"transfers\":%lu,\"round_trip_ok\":%s,\"bad_transfers\":%lu",
	       r->backend, r->bdf, (unsigned long long)r->iova,
	       (unsigned long long)r->bad_iova, r->transfers,
	       r->round_trip_ok ? "true" : "false", r->bad_done);
	if (r->failed_step)
		printf(",\"failed\":\"%s\",\"errno\":%d,\"error\":\"%s\"", r->failed_step,
		       r->failed_errno, strerror(r->failed_errno));
	printf("}\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: dma_fault type1|iommufd BDF --iova A --bad-iova B [--bad N]\n");
	exit(2);
}

static uint64_t parse_iova(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	/* Page-aligned and inside edu's 28-bit DMA mask, or edu would clamp it. */
	if (errno || *end || v % PAGE_4K || v + 16 * PAGE_4K > EDU_DMA_MASK)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iova", required_argument, NULL, 'i' },
		{ "bad-iova", required_argument, NULL, 'b' },
		{ "bad", required_argument, NULL, 'n' },
		{ 0 },
	};
	struct run r = { .device = -1, .bad = 1 };
	unsigned char *page;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': r.iova = parse_iova(optarg); break;
		case 'b': r.bad_iova = parse_iova(optarg); break;
		case 'n': r.bad = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || !r.iova || !r.bad_iova || r.bad < 1 || r.bad > 16 ||
	    (r.bad_iova < r.iova + PAGE_4K && r.bad_iova + r.bad * PAGE_4K > r.iova))
		usage();
	r.backend = argv[optind];
	r.bdf = argv[optind + 1];
	page = mmap(NULL, PAGE_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		err = fail(&r, "mmap", errno);
	else if (!strcmp(r.backend, "type1"))
		err = run_type1(&r, page);
	else if (!strcmp(r.backend, "iommufd"))
		err = run_iommufd(&r, page);
	else
		usage();
	print_result(&r);
	return err ? 1 : 0;
}
