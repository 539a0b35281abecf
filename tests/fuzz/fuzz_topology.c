// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: the sysfs topology reader (src/ioasid/topology.c) on a tree generated
 * from the input, then the viability rules on every group. The input is NUL-separated
 * chunks: the first lays the tree out, the others are file contents and link targets,
 * taken in order (a default when they run out):
 *   layout[0] % 4 groups; layout[1] % 6 devices; per device two bytes a, b:
 *     BDF 0000:(a & 3):(b >> 3).(b & 7), group (a >> 2 & 3) % (groups + 1), none if equal
 *     to the number of groups; a & 0x10: no vendor file; a & 0x20: a driver link, named
 *     by a chunk; a & 0x40: the group's link to the device is a chunk (absolute, climbing
 *     out of the root, anything); a & 0x80: the device's iommu_group link is a chunk.
 *   group numbers: layout[14 + g], else g.
 *   contents, per group: type, reserved_regions; per device: vendor, device, class.
 * A refusal must carry a message. The tree lives in a directory under $TMPDIR, else
 * /dev/shm, else /tmp, and is removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ioasid/ioasid.h"

static char root[256];

struct input {
	const uint8_t *data;
	size_t size, pos;
};

/* Next chunk as a string (a fresh copy), or @dflt when the input is used up. */
static char *chunk(struct input *in, const char *dflt)
{
	const uint8_t *end;
	size_t n;
	char *s;

	if (in->pos >= in->size)
		return strdup(dflt);
	end = memchr(in->data + in->pos, 0, in->size - in->pos);
	n = end ? (size_t)(end - (in->data + in->pos)) : in->size - in->pos;
	s = strndup((const char *)in->data + in->pos, n);
	in->pos += n + 1;
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		(void)0;
	close(fd);
}

static void link_to(const char *target, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void link_to(const char *target, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (target[0])
		(void)symlink(target, path);
}

static void mkdirf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirf(const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	mkdir(path, 0755);
}

static void remove_root(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat st;
	const char *tmp = getenv("TMPDIR");

	/* A tmpfs: on a disk file system each input costs 25 times as much. */
	if (!tmp)
		tmp = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";

	snprintf(root, sizeof(root), "%s/ioguard-fuzz-topology-XXXXXX", tmp);
	if (!mkdtemp(root)) {
		perror("fuzz_topology: mkdtemp");
		exit(1);
	}
	atexit(remove_root);
	return 0;
}

static void build(struct input *in)
{
	unsigned int groups[4], n_groups, n_dev, i, a, b, g;
	char dir[512], bdf[16], target[512], *s, *t;
	const uint8_t *layout;
	size_t n;

	s = chunk(in, "");
	layout = (const uint8_t *)s;
	n = strlen(s);
	n_groups = n > 0 ? layout[0] % 4 : 1;
	n_dev = n > 1 ? layout[1] % 6 : 1;
	mkdirf("%s/sys", root);
	mkdirf("%s/sys/kernel", root);
	mkdirf("%s/sys/kernel/iommu_groups", root);
	mkdirf("%s/sys/bus", root);
	mkdirf("%s/sys/bus/pci", root);
	mkdirf("%s/sys/bus/pci/devices", root);
	mkdirf("%s/sys/bus/pci/drivers", root);
	mkdirf("%s/sys/devices", root);
	mkdirf("%s/sys/devices/pci0000:00", root);
	for (g = 0; g < n_groups; g++) {
		groups[g] = n > 14 + g ? layout[14 + g] : g;
		snprintf(dir, sizeof(dir), "%s/sys/kernel/iommu_groups/%u", root, groups[g]);
		mkdir(dir, 0755);
		mkdirf("%s/devices", dir);
		t = chunk(in, "DMA-FQ\n");
		put(dir, "type", t);
		free(t);
		t = chunk(in, "0x00000000fee00000 0x00000000feefffff msi\n");
		put(dir, "reserved_regions", t);
		free(t);
	}
	for (i = 0; i < n_dev; i++) {
		a = n > 2 + 2 * i ? layout[2 + 2 * i] : 0;
		b = n > 3 + 2 * i ? layout[3 + 2 * i] : 0x18;
		snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.%x", a & 3, b >> 3, b & 7);
		snprintf(dir, sizeof(dir), "%s/sys/devices/pci0000:00/%s", root, bdf);
		mkdir(dir, 0755);
		snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
		link_to(target, "%s/sys/bus/pci/devices/%s", root, bdf);
		t = chunk(in, "0x8086\n");
		if (!(a & 0x10))
			put(dir, "vendor", t);
		free(t);
		t = chunk(in, "0x10d3\n");
		put(dir, "device", t);
		free(t);
		t = chunk(in, "0x020000\n");
		put(dir, "class", t);
		free(t);
		if (a & 0x20) {
			t = chunk(in, "vfio-pci");
			mkdirf("%s/sys/bus/pci/drivers/%.64s", root, strchr(t, '/') ? "x" : t);
			snprintf(target, sizeof(target), "../../../bus/pci/drivers/%.64s", t);
			link_to(target, "%s/driver", dir);
			free(t);
		}
		g = (a >> 2 & 3) % (n_groups + 1);
		if (g == n_groups)
			continue;
		if (a & 0x40) {
			t = chunk(in, "/sys/devices");
		} else {
			snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", bdf);
			t = strdup(target);
		}
		link_to(t, "%s/sys/kernel/iommu_groups/%u/devices/%s", root, groups[g], bdf);
		free(t);
		if (a & 0x80) {
			t = chunk(in, "../../../kernel/iommu_groups/0");
		} else {
			snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%u", groups[g]);
			t = strdup(target);
		}
		link_to(t, "%s/iommu_group", dir);
		free(t);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };
	struct ioasid_topology *topo = NULL;
	struct ioasid_error e = { { 0 } };
	struct ioasid_verdict *v;
	const struct ioasid_group *g;
	const struct ioasid_device *d;
	size_t i, j;
	int ret;

	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	build(&in);
	ret = ioasid_topology__load(root, &topo, &e);
	if (ret) {
		if (!e.msg[0] || topo) {
			fprintf(stderr, "fuzz_topology: a refusal (%d) without a message\n", ret);
			abort();
		}
		return 0;
	}
	for (i = 0; i < ioasid_topology__nr_groups(topo); i++) {
		g = ioasid_topology__group(topo, i);
		(void)ioasid_group__type(g);
		for (j = 0; j < ioasid_group__nr_resv(g); j++)
			(void)ioasid_resv_type__name(ioasid_group__resv(g, j)->type);
		if (!ioasid_group__check(g, NULL, &v))
			ioasid_verdict__free(v);
	}
	for (i = 0; i < ioasid_topology__nr_devices(topo); i++) {
		d = ioasid_topology__device(topo, i);
		if (!ioasid_topology__find_device(topo, ioasid_device__name(d)))
			abort();
		(void)ioasid_device__class(d);
		(void)ioasid_device__driver(d);
		(void)ioasid_device__group(d);
	}
	ioasid_topology__free(topo);
	return 0;
}
