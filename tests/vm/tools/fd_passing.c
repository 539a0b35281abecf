// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fd_passing: a tenant's VFIO device fd in the hands of a process that is not a tenant
 * (security review finding 8). The tenant opens the device (type1: container, group,
 * VFIO_GROUP_GET_DEVICE_FD; iommufd: the cdev bound to /dev/iommu and attached to an
 * IOAS) and the fd travels:
 *
 *   fd_passing scm BACKEND BDF --uid U      SCM_RIGHTS over a socketpair to a child that
 *                                           dropped to uid U; the child reports whether
 *                                           an fd arrived and tries VFIO_DEVICE_GET_INFO
 *   fd_passing hold BACKEND BDF             prints its pid and the fd, then waits for a
 *                                           signal (a victim for getfd)
 *   fd_passing getfd PID FD                 pidfd_getfd() of PID's FD, then GET_INFO
 *   fd_passing inherit BACKEND BDF --uid U  the tenant uses the fd (GET_INFO, mmap of
 *                                           BAR0, pread of config space: the control),
 *                                           then a child drops to U and execs "use"
 *   fd_passing use FD BAR0_OFFSET CONFIG_OFFSET
 *                                           the same three uses of an inherited fd
 *
 * BACKEND is type1 or iommufd. Each process prints one JSON line (lab_attack.h) with a
 * "role"; an operation's outcome is OP_errno, 0 for success.
 */
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lab_attack.h"

/* The fds are owned here and closed by device_close() in main, whichever step failed. */
struct attack {
	const char *mode;
	const char *backend;
	const char *bdf;
	long uid;
	struct lab_type1 t;	/* type1: device == t.device */
	int iommufd;
	int device;		/* -1 when not open */
	struct report r;
};

static int iommufd_device_open(struct attack *a)
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
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(a->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return report_fail(&a->r, "attach_pt", -errno);
	return 0;
}

/* The tenant's device fd in a->device; everything it needs stays open with it. */
static int device_open(struct attack *a)
{
	int err;

	if (!strcmp(a->backend, "type1")) {
		err = lab_type1_open(&a->t, a->bdf, &a->r);
		if (!err)
			a->device = a->t.device;
		return err;
	}
	if (!strcmp(a->backend, "iommufd"))
		return iommufd_device_open(a);
	return report_fail(&a->r, "backend", -EINVAL);
}

static void device_close(struct attack *a)
{
	if (a->t.device >= 0)
		lab_type1_close(&a->t);
	else if (a->device >= 0)
		close(a->device);
	if (a->iommufd >= 0)
		close(a->iommufd);
	a->device = a->iommufd = -1;
}

static int get_info(int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return ioctl(fd, VFIO_DEVICE_GET_INFO, &info) ? -errno : 0;
}

static int region_offset(int fd, __u32 index, __u64 *offset)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*offset = info.offset;
	return 0;
}

/* The three uses a non-tenant must be refused; each recorded as OP_errno. */
static int use_device(struct report *r, int fd, __u64 bar0, __u64 config)
{
	int err, first = 0;
	__u32 id = 0;
	void *p;

	err = get_info(fd);
	report_errno(r, "get_info_errno", err);
	first = first ?: err;
	p = mmap(NULL, LAB_PAGE, PROT_READ, MAP_SHARED, fd, (off_t)bar0);
	err = p == MAP_FAILED ? -errno : 0;
	if (!err)
		munmap(p, LAB_PAGE);
	report_errno(r, "mmap_errno", err);
	first = first ?: err;
	err = pread(fd, &id, sizeof(id), (off_t)config) == (ssize_t)sizeof(id) ? 0 :
	      (errno ? -errno : -EIO);
	report_errno(r, "pread_errno", err);
	if (!err)
		report_int(r, "config_id", id);
	return first ?: err;
}

static int receive_fd(struct attack *a, int sock)
{
	char data, control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int fd = -1, err;

	report_str(&a->r, "role", "receiver");
	err = report_fail(&a->r, "drop_uid", lab_drop_to_uid((uid_t)a->uid));
	if (err)
		return err;
	n = recvmsg(sock, &msg, 0);
	if (n < 0)
		return report_fail(&a->r, "recvmsg", -errno);
	report_int(&a->r, "recv_bytes", n);
	report_bool(&a->r, "ctrunc", msg.msg_flags & MSG_CTRUNC);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	report_bool(&a->r, "fd_received", fd >= 0);
	if (fd < 0)
		return 0;
	err = get_info(fd);
	report_errno(&a->r, "get_info_errno", err);
	close(fd);
	return report_fail(&a->r, "get_info", err);
}

static int run_scm(struct attack *a)
{
	char data = 'v', control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	int sv[2], status, err;
	pid_t pid;

	report_str(&a->r, "role", "tenant");
	err = device_open(a);
	if (err)
		return err;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return report_fail(&a->r, "socketpair", -errno);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		err = report_fail(&a->r, "fork", -errno);
		goto out;
	}
	if (pid == 0) {
		struct attack child = { .mode = a->mode, .uid = a->uid };

		/* Only the fd in the message may reach the receiver, not the inherited ones. */
		device_close(a);
		close(sv[0]);
		err = receive_fd(&child, sv[1]);
		report_print(&child.r, "fd_passing", child.mode);
		_exit(err ? 1 : 0);
	}
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &a->device, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) != 1)
		err = report_fail(&a->r, "sendmsg", -errno);
	if (waitpid(pid, &status, 0) < 0 && !err)
		err = report_fail(&a->r, "waitpid", -errno);
out:
	close(sv[0]);
	close(sv[1]);
	return err;
}

static int run_hold(struct attack *a)
{
	int err;

	report_str(&a->r, "role", "holder");
	err = device_open(a);
	if (err)
		return err;
	report_int(&a->r, "device_fd", a->device);
	report_print(&a->r, "fd_passing", a->mode);
	for (;;)
		pause();
}

static int run_getfd(struct attack *a, pid_t pid, int target)
{
	int pidfd, fd, err;

	report_str(&a->r, "role", "thief");
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return report_fail(&a->r, "pidfd_open", -errno);
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
	err = fd < 0 ? -errno : 0;
	report_errno(&a->r, "getfd_errno", err);
	if (!err) {
		err = get_info(fd);
		report_errno(&a->r, "get_info_errno", err);
		close(fd);
		err = report_fail(&a->r, "get_info", err);
	} else {
		report_fail(&a->r, "pidfd_getfd", err);
	}
	close(pidfd);
	return err;
}

static int run_inherit(struct attack *a)
{
	char fd_arg[16], bar_arg[32], cfg_arg[32];
	__u64 bar0, config;
	int status, err;
	pid_t pid;

	report_str(&a->r, "role", "tenant");
	err = device_open(a);
	if (err)
		return err;
	err = report_fail(&a->r, "region_info_bar0",
			  region_offset(a->device, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	if (!err)
		err = report_fail(&a->r, "region_info_config",
				  region_offset(a->device, VFIO_PCI_CONFIG_REGION_INDEX, &config));
	if (err)
		return err;
	report_fail(&a->r, "tenant_use", use_device(&a->r, a->device, bar0, config));
	snprintf(fd_arg, sizeof(fd_arg), "%d", a->device);
	snprintf(bar_arg, sizeof(bar_arg), "%llu", (unsigned long long)bar0);
	snprintf(cfg_arg, sizeof(cfg_arg), "%llu", (unsigned long long)config);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return report_fail(&a->r, "fork", -errno);
	if (pid == 0) {
		char *argv[] = { "fd_passing", "use", fd_arg, bar_arg, cfg_arg, NULL };
		struct report r = { 0 };

		/* VFIO_GROUP_GET_DEVICE_FD returns an O_CLOEXEC fd; an attacker simply clears it. */
		report_str(&r, "role", "user");
		if (fcntl(a->device, F_SETFD, 0))
			report_fail(&r, "clear_cloexec", -errno);
		else if (!report_fail(&r, "drop_uid", lab_drop_to_uid((uid_t)a->uid))) {
			execv("/proc/self/exe", argv);
			report_fail(&r, "exec", -errno);
		}
		report_print(&r, "fd_passing", "use");
		_exit(1);
	}
	if (waitpid(pid, &status, 0) < 0)
		return report_fail(&a->r, "waitpid", -errno);
	return a->r.failed_step ? -a->r.failed_errno : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fd_passing scm|inherit BACKEND BDF --uid U | hold BACKEND BDF | "
		"getfd PID FD | use FD BAR0_OFFSET CONFIG_OFFSET\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ 0 },
	};
	struct attack a = { .uid = -1, .iommufd = -1, .device = -1,
			    .t = { .container = -1, .group = -1, .device = -1 } };
	int opt, nargs, err;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'u':
			a.uid = strtol(optarg, NULL, 0);
			break;
		default:
			usage();
			return 2;
		}
	}
	nargs = argc - optind;
	if (nargs < 1) {
		usage();
		return 2;
	}
	a.mode = argv[optind];
	if ((!strcmp(a.mode, "scm") || !strcmp(a.mode, "inherit")) && nargs == 3 && a.uid >= 0) {
		a.backend = argv[optind + 1];
		a.bdf = argv[optind + 2];
		report_str(&a.r, "backend", a.backend);
		err = !strcmp(a.mode, "scm") ? run_scm(&a) : run_inherit(&a);
	} else if (!strcmp(a.mode, "hold") && nargs == 3) {
		a.backend = argv[optind + 1];
		a.bdf = argv[optind + 2];
		report_str(&a.r, "backend", a.backend);
		err = run_hold(&a);
	} else if (!strcmp(a.mode, "getfd") && nargs == 3) {
		err = run_getfd(&a, (pid_t)strtol(argv[optind + 1], NULL, 0),
				(int)strtol(argv[optind + 2], NULL, 0));
	} else if (!strcmp(a.mode, "use") && nargs == 4) {
		report_str(&a.r, "role", "user");
		err = report_fail(&a.r, "use", use_device(&a.r, (int)strtol(argv[optind + 1], NULL, 0),
							  strtoull(argv[optind + 2], NULL, 0),
							  strtoull(argv[optind + 3], NULL, 0)));
	} else {
		usage();
		return 2;
	}
	device_close(&a);
	report_print(&a.r, "fd_passing", a.mode);
	return err ? 1 : 0;
}
