// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * compat_attack: VFIO and iommufd ioctls through the kernel's compat path, which 6.12
 * judges with security_file_ioctl_compat() instead of security_file_ioctl().
 *
 * Built twice from this one source so both ways in issue the very same ioctls:
 *   - as a static 32-bit program (tests/vm/tools32 -> lab32/compat_attack): a real
 *     IA-32 process, every syscall is compat;
 *   - for x86-64 (the Makefile's lab/int80_attack) as a program that issues only its
 *     ioctls with `int $0x80`, the way any 64-bit process can reach compat_sys_ioctl on a
 *     kernel with IA32 emulation. Compat pointers are 32 bits wide, so every argument the
 *     kernel dereferences lives in a MAP_32BIT arena.
 *
 *   compat_attack probe                              is the compat path usable here
 *   compat_attack type1 BDF [--iova A] [--pages N]   container + group, N one-page maps
 *   compat_attack bind BDF --uid U                   open cdev and /dev/iommu, drop to U,
 *                                                    VFIO_DEVICE_BIND_IOMMUFD
 *   compat_attack iommufd                            IOMMU_IOAS_ALLOC on /dev/iommu
 *
 * Prints one JSON line (lab_attack.h); exit status 0 only if no step failed.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "../tools/lab_attack.h"

#if defined(__x86_64__)
#define ATTACK_TOOL "int80_attack"
#define ATTACK_ABI "int80"
#define ARENA_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT)
#define I386_NR_IOCTL 54
#define I386_NR_GETPID 20

/* r8-r11 are not part of the i386 convention; the kernel may clobber them. */
static long int80_syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(nr), "b"(a), "c"(b), "d"(c)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static int compat_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	/* The kernel would truncate a pointer above 4 GiB to its low half. */
	if (arg >> 32)
		return -EFAULT;
	return (int)int80_syscall3(I386_NR_IOCTL, fd, (long)(unsigned int)cmd, (long)arg);
}

/*
 * Without IA32 emulation (or with ia32_emulation=0) `int $0x80` raises SIGSEGV, so
 * it is first tried in a child.
 */
static int compat_probe(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(int80_syscall3(I386_NR_GETPID, 0, 0, 0) == getpid() ? 0 : 1);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOSYS;
}
#else
#define ATTACK_TOOL "compat_attack"
#define ATTACK_ABI "ia32"
#define ARENA_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS)

static int compat_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* A 32-bit process that runs at all is on the compat path. */
static int compat_probe(void)
{
	return 0;
}
#endif

struct attack {
	const char *mode;
	const char *bdf;
	uint64_t iova;
	unsigned long pages;
	long uid;
	unsigned long maps, unmaps;
	struct report r;
	char *arena;		/* below 4 GiB, ioctl arguments */
	size_t arena_used;
};

#define ARENA_SIZE (64 * 1024)

static void *arena_alloc(struct attack *a, size_t size)
{
	void *p;

	size = (size + 15) & ~15UL;
	if (a->arena_used + size > ARENA_SIZE)
		return NULL;
	p = a->arena + a->arena_used;
	a->arena_used += size;
	memset(p, 0, size);
	return p;
}

static unsigned long ptr(const void *p)
{
	return (unsigned long)(uintptr_t)p;
}

static int type1_maps(struct attack *a, int container)
{
	struct vfio_iommu_type1_dma_map *map = arena_alloc(a, sizeof(*map));
	struct vfio_iommu_type1_dma_unmap *unmap = arena_alloc(a, sizeof(*unmap));
	size_t len = a->pages * LAB_PAGE;
	unsigned long i;
	int err = 0;
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return report_fail(&a->r, "mmap_buffer", -errno);
	for (i = 0; i < a->pages && !err; i++) {
		*map = (struct vfio_iommu_type1_dma_map){
			.argsz = sizeof(*map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf + i * LAB_PAGE,
			.iova = a->iova + i * LAB_PAGE,
			.size = LAB_PAGE,
		};
		err = report_fail(&a->r, "map_dma",
				  compat_ioctl(container, VFIO_IOMMU_MAP_DMA, ptr(map)));
		if (!err)
			a->maps++;
	}
	/* Unmapped here rather than at close so the report says the kernel allowed it too. */
	for (i = 0; i < a->maps; i++) {
		*unmap = (struct vfio_iommu_type1_dma_unmap){
			.argsz = sizeof(*unmap),
			.iova = a->iova + i * LAB_PAGE,
			.size = LAB_PAGE,
		};
		if (report_fail(&a->r, "unmap_dma",
				compat_ioctl(container, VFIO_IOMMU_UNMAP_DMA, ptr(unmap))))
			break;
		a->unmaps++;
	}
	munmap(buf, len);
	return err;
}

static int run_type1(struct attack *a)
{
	int container = -1, group = -1, device = -1, groupnr, err;
	int *container_arg = arena_alloc(a, sizeof(int));
	char *bdf_arg = arena_alloc(a, strlen(a->bdf) + 1);
	char path[64];

	strcpy(bdf_arg, a->bdf);
	groupnr = lab_device_group(a->bdf);
	if (groupnr < 0)
		return report_fail(&a->r, "find_group", groupnr);
	report_int(&a->r, "group", groupnr);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		err = report_fail(&a->r, "open_container", -errno);
		goto out;
	}
	err = compat_ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (err <= 0) {
		err = report_fail(&a->r, "check_extension", err ? err : -ENOTSUP);
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", groupnr);
	group = open(path, O_RDWR);
	if (group < 0) {
		err = report_fail(&a->r, "open_group", -errno);
		goto out;
	}
	*container_arg = container;
	err = report_fail(&a->r, "set_container",
			  compat_ioctl(group, VFIO_GROUP_SET_CONTAINER, ptr(container_arg)));
	if (err)
		goto out;
	err = report_fail(&a->r, "set_iommu",
			  compat_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	if (err)
		goto out;
	device = compat_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, ptr(bdf_arg));
	if (device < 0) {
		err = report_fail(&a->r, "get_device_fd", device);
		goto out;
	}
	err = type1_maps(a, container);
out:
	if (device >= 0)
		close(device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	return err;
}

static int run_bind(struct attack *a)
{
	struct vfio_device_bind_iommufd *bind = arena_alloc(a, sizeof(*bind));
	int iommufd = -1, device = -1, err;
	char path[PATH_MAX];

	err = report_fail(&a->r, "find_vfio_cdev", lab_cdev_path(a->bdf, path, sizeof(path)));
	if (err)
		return err;
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0) {
		err = report_fail(&a->r, "open_iommufd", -errno);
		goto out;
	}
	device = open(path, O_RDWR);
	if (device < 0) {
		err = report_fail(&a->r, "open_vfio_cdev", -errno);
		goto out;
	}
	/* The fds were opened by the tenant; whoever uses them next is not one. */
	err = report_fail(&a->r, "drop_uid", lab_drop_to_uid((uid_t)a->uid));
	if (err)
		goto out;
	*bind = (struct vfio_device_bind_iommufd){ .argsz = sizeof(*bind), .iommufd = iommufd };
	err = report_fail(&a->r, "bind_iommufd",
			  compat_ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, ptr(bind)));
	if (!err)
		report_int(&a->r, "devid", bind->out_devid);
out:
	if (device >= 0)
		close(device);
	if (iommufd >= 0)
		close(iommufd);
	return err;
}

/* iommufd_fops has no .compat_ioctl: a tenant's compat IOAS_ALLOC is expected to fail. */
static int run_iommufd(struct attack *a)
{
	struct iommu_ioas_alloc *alloc = arena_alloc(a, sizeof(*alloc));
	int iommufd, err;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return report_fail(&a->r, "open_iommufd", -errno);
	alloc->size = sizeof(*alloc);
	err = report_fail(&a->r, "ioas_alloc", compat_ioctl(iommufd, IOMMU_IOAS_ALLOC, ptr(alloc)));
	close(iommufd);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: " ATTACK_TOOL " probe | type1 BDF [--iova A] [--pages N] | "
		"bind BDF --uid U | iommufd\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iova", required_argument, NULL, 'i' },
		{ "pages", required_argument, NULL, 'n' },
		{ "uid", required_argument, NULL, 'u' },
		{ 0 },
	};
	struct attack a = { .iova = 0x100000, .pages = 1, .uid = -1 };
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			a.iova = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			a.pages = strtoul(optarg, NULL, 0);
			break;
		case 'u':
			a.uid = strtol(optarg, NULL, 0);
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
	a.mode = argv[optind];
	a.bdf = optind + 1 < argc ? argv[optind + 1] : "";
	if ((!strcmp(a.mode, "type1") || !strcmp(a.mode, "bind")) && !*a.bdf) {
		usage();
		return 2;
	}
	if (!strcmp(a.mode, "bind") && a.uid < 0) {
		usage();
		return 2;
	}
	report_str(&a.r, "abi", ATTACK_ABI);
	if (*a.bdf)
		report_str(&a.r, "bdf", a.bdf);
	a.arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, ARENA_FLAGS, -1, 0);
	if (a.arena == MAP_FAILED) {
		err = report_fail(&a.r, "mmap_arena", -errno);
		goto out;
	}
	err = report_fail(&a.r, "compat_probe", compat_probe());
	report_bool(&a.r, "compat", !err);
	if (err)
		goto out;
	if (!strcmp(a.mode, "probe"))
		err = 0;
	else if (!strcmp(a.mode, "type1"))
		err = run_type1(&a);
	else if (!strcmp(a.mode, "bind"))
		err = run_bind(&a);
	else if (!strcmp(a.mode, "iommufd"))
		err = run_iommufd(&a);
	else {
		usage();
		return 2;
	}
	report_int(&a.r, "iova", (long long)a.iova);
	report_int(&a.r, "maps", (long long)a.maps);
	report_int(&a.r, "unmaps", (long long)a.unmaps);
out:
	report_print(&a.r, ATTACK_TOOL, a.mode);
	return err ? 1 : 0;
}
