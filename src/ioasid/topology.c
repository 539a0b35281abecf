// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * IOMMU groups and their devices, read from sysfs or from a snapshot of it.
 *
 * Every path is opened relative to the root with openat2(RESOLVE_IN_ROOT): absolute and
 * relative symlinks of a snapshot (../../../../devices/pci0000:00/0000:00:03.0) resolve
 * inside the snapshot and ".." stops at its root, so a snapshot can never make the loader
 * read outside it. Symlinks whose target only matters by name (driver, iommu_group) are
 * read with readlinkat() and never followed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bsd/string.h>

#include "ioasid_private.h"

#define ATTR_MAX (64 * 1024)

struct loader {
	const char *root;
	int rootfd;
	struct ioasid_topology *topo;
	struct ioasid_error *err;
};

static int lerr(struct loader *l, int err, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records "<root>/<rel>: <cause>" and returns @err (negative). */
static int lerr(struct loader *l, int err, const char *rel, const char *fmt, ...)
{
	char cause[160];
	va_list ap;

	if (!l->err)
		return err;
	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	snprintf(l->err->msg, sizeof(l->err->msg), "%s%s%s: %s", l->root,
		 l->root[strlen(l->root) - 1] == '/' ? "" : "/", rel, cause);
	return err;
}

/*
 * RESOLVE_IN_ROOT in user space, for kernels before 5.6 and for valgrind (which does not
 * know openat2): walks @rel one component at a time from the root, reading symlinks with
 * readlinkat() and splicing their targets in; an absolute target restarts at the root and
 * ".." never climbs above it. Snapshots are not modified while loading, so the walk and
 * the final open (which follows nothing) see the same tree.
 */
static int open_in_root_slow(struct loader *l, const char *rel, int flags)
{
	char todo[PATH_MAX], done[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
	unsigned int links = 0;
	size_t dlen = 0;
	struct stat st;
	char *comp, *rest;
	ssize_t n;
	int fd;

	if (strlcpy(todo, rel, sizeof(todo)) >= sizeof(todo))
		return -ENAMETOOLONG;
	done[0] = '\0';
	rest = todo;
	while (rest && *rest) {
		comp = strsep(&rest, "/");
		if (!*comp || !strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(done, '/');

			dlen = slash ? (size_t)(slash - done) : 0;
			done[dlen] = '\0';
			continue;
		}
		if (dlen + 1 + strlen(comp) >= sizeof(done))
			return -ENAMETOOLONG;
		dlen += sprintf(done + dlen, "%s%s", dlen ? "/" : "", comp);
		if (fstatat(l->rootfd, done, &st, AT_SYMLINK_NOFOLLOW))
			return -errno;
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > 40)
			return -ELOOP;
		n = readlinkat(l->rootfd, done, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		/* Drop the link itself, then continue with target + the rest. */
		comp = strrchr(done, '/');
		dlen = comp ? (size_t)(comp - done) : 0;
		done[dlen] = '\0';
		if (target[0] == '/')
			dlen = done[0] = '\0';
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s%s", target, rest ? "/" : "",
				     rest ? rest : "") >= sizeof(tmp))
			return -ENAMETOOLONG;
		memcpy(todo, tmp, sizeof(todo));
		rest = todo;
	}
	fd = openat(l->rootfd, dlen ? done : ".", flags | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

static int open_in_root(struct loader *l, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	fd = syscall(SYS_openat2, l->rootfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return open_in_root_slow(l, rel, flags);
	return fd < 0 ? -errno : fd;
}

/* Reads a whole attribute file into a NUL-terminated buffer the caller frees. */
static int read_attr(struct loader *l, const char *rel, char **out)
{
	size_t len = 0;
	char *buf;
	ssize_t n;
	int fd, err;

	fd = open_in_root(l, rel, O_RDONLY);
	if (fd < 0)
		return lerr(l, fd, rel, "%s", strerror(-fd));
	buf = malloc(ATTR_MAX + 1);
	if (!buf) {
		err = lerr(l, -ENOMEM, rel, "%s", strerror(ENOMEM));
		goto out_close;
	}
	while ((n = read(fd, buf + len, ATTR_MAX - len)) > 0) {
		len += n;
		if (len == ATTR_MAX)
			break;
	}
	if (n < 0) {
		err = lerr(l, -errno, rel, "%s", strerror(errno));
		goto out_free;
	}
	if (len == ATTR_MAX) {
		err = lerr(l, -EINVAL, rel, "file is larger than %d bytes", ATTR_MAX);
		goto out_free;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		err = lerr(l, -EINVAL, rel, "malformed content: binary data");
		goto out_free;
	}
	*out = buf;
	err = 0;
	goto out_close;
out_free:
	free(buf);
out_close:
	close(fd);
	return err;
}

/* Strips one trailing newline and quotes at most 40 bytes of @s for a message. */
static const char *quote(const char *s, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; s[i] && o + 5 < size && i < 40; i++) {
		unsigned char c = s[i];

		if (c == '\n' && !s[i + 1])
			break;
		if (isprint(c))
			buf[o++] = c;
		else
			o += snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

static int read_hex(struct loader *l, const char *rel, uint64_t max, uint64_t *val)
{
	char *buf = NULL, *end, q[64];
	unsigned long long v;
	int err;

	err = read_attr(l, rel, &buf);
	if (err)
		return err;
	errno = 0;
	v = strtoull(buf, &end, 16);
	if (!isxdigit((unsigned char)buf[0]) || errno || end == buf ||
	    (*end && strcmp(end, "\n")) || v > max) {
		err = lerr(l, -EINVAL, rel, "malformed content '%s' (expected a hex number up to 0x%" PRIx64 ")",
			   quote(buf, q, sizeof(q)), max);
		goto out;
	}
	*val = v;
out:
	free(buf);
	return err;
}

/*
 * Basename of a symlink's target, never followed. Return: 1 with the name, 0 if the link
 * does not exist, negative errno otherwise.
 */
static int read_link_name(struct loader *l, const char *rel_dir, const char *link,
			  char *name, size_t size)
{
	char target[PATH_MAX], rel[PATH_MAX];
	const char *base;
	ssize_t n;
	int dfd, err;

	snprintf(rel, sizeof(rel), "%s/%s", rel_dir, link);
	dfd = open_in_root(l, rel_dir, O_PATH | O_DIRECTORY);
	if (dfd < 0)
		return lerr(l, dfd, rel_dir, "%s", strerror(-dfd));
	n = readlinkat(dfd, link, target, sizeof(target) - 1);
	if (n < 0) {
		err = errno == ENOENT ? 0 : lerr(l, -errno, rel, "%s", strerror(errno));
		goto out;
	}
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) >= size) {
		err = lerr(l, -EINVAL, rel, "malformed symlink target '%s'", target);
		goto out;
	}
	strlcpy(name, base, size);
	err = 1;
out:
	close(dfd);
	return err;
}

static bool looks_like_bdf(const char *name)
{
	unsigned int dom, bus, dev, fn;
	int n = 0;

	return sscanf(name, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 &&
	       n == 12 && !name[n];
}

static int devs_append(struct ioasid_topology *topo, struct ioasid_device *dev)
{
	struct ioasid_device **devs;

	devs = reallocarray(topo->devs, topo->nr_devs + 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	topo->devs = devs;
	topo->devs[topo->nr_devs++] = dev;
	return 0;
}

/* Reads one PCI device from sys/bus/pci/devices/<name>. */
static int load_pci_device(struct loader *l, const char *name)
{
	char dir[128], rel[PATH_MAX], grp[32], *end;
	struct ioasid_device *dev;
	uint64_t v;
	int err;

	if (strlen(name) >= IOASID_NAME_MAX)
		return lerr(l, -EINVAL, "sys/bus/pci/devices", "device name '%.40s...' is too long", name);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	strlcpy(dev->name, name, sizeof(dev->name));
	dev->is_pci = true;
	snprintf(dir, sizeof(dir), "sys/bus/pci/devices/%s", name);

	snprintf(rel, sizeof(rel), "%s/vendor", dir);
	err = read_hex(l, rel, 0xffff, &v);
	if (err)
		goto err_free;
	dev->vendor = v;
	snprintf(rel, sizeof(rel), "%s/device", dir);
	err = read_hex(l, rel, 0xffff, &v);
	if (err)
		goto err_free;
	dev->device_id = v;
	snprintf(rel, sizeof(rel), "%s/class", dir);
	err = read_hex(l, rel, 0xffffff, &v);
	if (err)
		goto err_free;
	dev->class = v;

	err = read_link_name(l, dir, "driver", dev->driver, sizeof(dev->driver));
	if (err < 0)
		goto err_free;
	dev->has_driver = err == 1;

	dev->group_link = -1;
	err = read_link_name(l, dir, "iommu_group", grp, sizeof(grp));
	if (err < 0)
		goto err_free;
	if (err == 1) {
		errno = 0;
		v = strtoul(grp, &end, 10);
		if (!isdigit((unsigned char)grp[0]) || *end || errno || v > INT_MAX) {
			snprintf(rel, sizeof(rel), "%s/iommu_group", dir);
			err = lerr(l, -EINVAL, rel, "symlink to '%s', not to a group number", grp);
			goto err_free;
		}
		dev->group_link = v;
	}
	err = devs_append(l->topo, dev);
	if (err)
		goto err_free;
	return 0;
err_free:
	free(dev);
	return err;
}

/* A non-PCI device only known from its group: just its driver. */
static int load_other_device(struct loader *l, const char *group_dir, const char *name,
			     struct ioasid_device **out)
{
	struct ioasid_device *dev;
	char dir[PATH_MAX];
	int err;

	if (strlen(name) >= IOASID_NAME_MAX)
		return lerr(l, -EINVAL, group_dir, "device name '%.40s...' is too long", name);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	strlcpy(dev->name, name, sizeof(dev->name));
	snprintf(dir, sizeof(dir), "%s/devices/%s", group_dir, name);
	err = read_link_name(l, dir, "driver", dev->driver, sizeof(dev->driver));
	if (err < 0)
		goto err_free;
	dev->has_driver = err == 1;
	err = devs_append(l->topo, dev);
	if (err)
		goto err_free;
	*out = dev;
	return 0;
err_free:
	free(dev);
	return err;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct ioasid_device *const *da = a, *const *db = b;

	return strcmp((*da)->name, (*db)->name);
}

static int cmp_group(const void *a, const void *b)
{
	const struct ioasid_group *const *ga = a, *const *gb = b;

	return (*ga)->id < (*gb)->id ? -1 : (*ga)->id > (*gb)->id;
}

static struct ioasid_device *find_dev(struct ioasid_device **devs, size_t nr, const char *name)
{
	struct ioasid_device key, *kp = &key, **found;

	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strlcpy(key.name, name, sizeof(key.name));
	found = nr ? bsearch(&kp, devs, nr, sizeof(*devs), cmp_dev) : NULL;
	return found ? *found : NULL;
}

/* Lists a directory's entries other than . and ..; @names is a NULL-terminated array. */
static int list_dir(struct loader *l, const char *rel, char ***names, size_t *nr)
{
	char **v = NULL, **nv;
	struct dirent *de;
	size_t n = 0;
	int fd, err = 0;
	DIR *d;

	fd = open_in_root(l, rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return lerr(l, fd, rel, "%s", strerror(-fd));
	d = fdopendir(fd);
	if (!d) {
		err = lerr(l, -errno, rel, "%s", strerror(errno));
		close(fd);
		return err;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nv = reallocarray(v, n + 2, sizeof(*v));
		if (!nv) {
			err = -ENOMEM;
			goto err_free;
		}
		v = nv;
		v[n] = strdup(de->d_name);
		if (!v[n]) {
			err = -ENOMEM;
			goto err_free;
		}
		v[++n] = NULL;
	}
	if (errno) {
		err = lerr(l, -errno, rel, "%s", strerror(errno));
		goto err_free;
	}
	closedir(d);
	*names = v;
	*nr = n;
	return 0;
err_free:
	while (n)
		free(v[--n]);
	free(v);
	closedir(d);
	return err;
}

static void free_names(char **names)
{
	char **p;

	for (p = names; p && *p; p++)
		free(*p);
	free(names);
}

static int parse_resv_type(const char *s, enum ioasid_resv_type *type)
{
	static const struct {
		const char *name;
		enum ioasid_resv_type type;
	} types[] = {
		/* iommu_group_resv_type_string[] in drivers/iommu/iommu.c */
		{ "direct", IOASID_RESV_DIRECT },
		{ "direct-relaxable", IOASID_RESV_DIRECT_RELAXABLE },
		{ "reserved", IOASID_RESV_RESERVED },
		{ "msi", IOASID_RESV_MSI },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (!strcmp(s, types[i].name)) {
			*type = types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

/* Lines as iommu_group_show_resv_regions() prints them: "0x%016llx 0x%016llx %s\n". */
static int load_resv(struct loader *l, const char *rel, struct ioasid_group *g)
{
	char *buf = NULL, *line, *save = NULL, type[32], q[64];
	unsigned long long start, last;
	struct ioasid_resv_region *r;
	unsigned int lineno = 0;
	int n, err;

	err = read_attr(l, rel, &buf);
	if (err)
		return err;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		n = 0;
		if (sscanf(line, "0x%llx 0x%llx %31s%n", &start, &last, type, &n) != 3 ||
		    line[n] || start > last || parse_resv_type(type, &(enum ioasid_resv_type){ 0 })) {
			err = lerr(l, -EINVAL, rel, "line %u: malformed region '%s'", lineno,
				   quote(line, q, sizeof(q)));
			goto out;
		}
		r = reallocarray(g->resv, g->nr_resv + 1, sizeof(*r));
		if (!r) {
			err = -ENOMEM;
			goto out;
		}
		g->resv = r;
		r += g->nr_resv++;
		r->start = start;
		r->last = last;
		parse_resv_type(type, &r->type);
	}
out:
	free(buf);
	return err;
}

static int load_type(struct loader *l, const char *rel, struct ioasid_group *g)
{
	char *buf = NULL, q[64];
	size_t len, i;
	int err;

	err = read_attr(l, rel, &buf);
	if (err)
		return err;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)buf[i]) && buf[i] != '-' && buf[i] != '_')
			break;
	if (!len || i < len || len >= sizeof(g->type)) {
		err = lerr(l, -EINVAL, rel, "malformed domain type '%s'", quote(buf, q, sizeof(q)));
		goto out;
	}
	strlcpy(g->type, buf, sizeof(g->type));
out:
	free(buf);
	return err;
}

static int load_group(struct loader *l, unsigned int id, size_t nr_pci)
{
	char dir[64], rel[PATH_MAX], **names = NULL;
	struct ioasid_group *g, **groups;
	struct ioasid_device *dev;
	size_t nr = 0, i;
	int err;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = id;
	groups = reallocarray(l->topo->groups, l->topo->nr_groups + 1, sizeof(*groups));
	if (!groups) {
		free(g);
		return -ENOMEM;
	}
	l->topo->groups = groups;
	groups[l->topo->nr_groups++] = g;

	snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%u", id);
	snprintf(rel, sizeof(rel), "%s/type", dir);
	err = load_type(l, rel, g);
	if (err)
		return err;
	snprintf(rel, sizeof(rel), "%s/reserved_regions", dir);
	err = load_resv(l, rel, g);
	if (err)
		return err;
	snprintf(rel, sizeof(rel), "%s/devices", dir);
	err = list_dir(l, rel, &names, &nr);
	if (err)
		return err;
	g->devs = calloc(nr ? nr : 1, sizeof(*g->devs));
	if (!g->devs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		dev = find_dev(l->topo->devs, nr_pci, names[i]);
		if (!dev && looks_like_bdf(names[i])) {
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", names[i]);
			err = lerr(l, -ENOENT, rel, "%s (listed in group %u)", strerror(ENOENT), id);
			goto out;
		}
		if (!dev) {
			err = load_other_device(l, dir, names[i], &dev);
			if (err)
				goto out;
		} else if (dev->group_link != (int)id) {
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group", names[i]);
			if (dev->group_link < 0)
				err = lerr(l, -ENOENT, rel, "%s (device listed in group %u)",
					   strerror(ENOENT), id);
			else
				err = lerr(l, -EINVAL, rel, "points to group %d but the device is listed in group %u",
					   dev->group_link, id);
			goto out;
		}
		if (dev->group) {
			err = lerr(l, -EINVAL, rel, "device %s is listed in groups %u and %u",
				   dev->name, dev->group->id, id);
			goto out;
		}
		dev->group = g;
		g->devs[g->nr_devs++] = dev;
	}
	qsort(g->devs, g->nr_devs, sizeof(*g->devs), cmp_dev);
out:
	free_names(names);
	return err;
}

static bool all_digits(const char *s)
{
	if (!*s || strlen(s) > 9)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int load(struct loader *l)
{
	char **names = NULL, rel[PATH_MAX];
	struct ioasid_topology *topo = l->topo;
	size_t nr = 0, nr_pci, i;
	int err;

	/* Every PCI device, with the group its iommu_group link names (-1: none). */
	err = list_dir(l, "sys/bus/pci/devices", &names, &nr);
	if (err == -ENOENT) {
		nr = 0;
		err = 0;
	}
	if (err)
		return err;
	for (i = 0; i < nr; i++) {
		err = load_pci_device(l, names[i]);
		if (err)
			goto out;
	}
	nr_pci = topo->nr_devs;
	if (nr_pci)
		qsort(topo->devs, nr_pci, sizeof(*topo->devs), cmp_dev);
	free_names(names);
	names = NULL;

	err = list_dir(l, "sys/kernel/iommu_groups", &names, &nr);
	if (err)
		goto out;
	for (i = 0; i < nr; i++) {
		if (!all_digits(names[i])) {
			err = lerr(l, -EINVAL, "sys/kernel/iommu_groups",
				   "unexpected entry '%.40s' (not a group number)", names[i]);
			goto out;
		}
		err = load_group(l, strtoul(names[i], NULL, 10), nr_pci);
		if (err)
			goto out;
	}
	for (i = 0; i < nr_pci; i++) {
		if (topo->devs[i]->group_link >= 0 && !topo->devs[i]->group) {
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group",
				 topo->devs[i]->name);
			err = lerr(l, -EINVAL, rel, "points to group %d, which does not list the device",
				   topo->devs[i]->group_link);
			goto out;
		}
	}
	if (topo->nr_groups)
		qsort(topo->groups, topo->nr_groups, sizeof(*topo->groups), cmp_group);
	for (i = 0; i < topo->nr_groups; i++)
		topo->groups[i]->index = i;
	if (topo->nr_devs)
		qsort(topo->devs, topo->nr_devs, sizeof(*topo->devs), cmp_dev);
	for (i = 0; i < topo->nr_devs; i++)
		topo->devs[i]->index = i;
out:
	free_names(names);
	return err;
}

int ioasid_topology__load(const char *sysfs_root, struct ioasid_topology **out,
			  struct ioasid_error *err)
{
	struct ioasid_topology *topo;
	struct loader l = { .err = err };
	int ret;

	if (err)
		err->msg[0] = '\0';
	if (!sysfs_root || !*sysfs_root)
		sysfs_root = "/";
	if (!out)
		return ioasid_err(-EINVAL);
	topo = calloc(1, sizeof(*topo));
	if (!topo)
		return ioasid_err(-ENOMEM);
	topo->root = strdup(sysfs_root);
	if (!topo->root) {
		ret = -ENOMEM;
		goto err_free;
	}
	l.root = topo->root;
	l.topo = topo;
	l.rootfd = open(sysfs_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l.rootfd < 0) {
		ret = -errno;
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: %s", sysfs_root, strerror(-ret));
		goto err_free;
	}
	ret = load(&l);
	close(l.rootfd);
	if (ret) {
		if (ret == -ENOMEM && err && !err->msg[0])
			snprintf(err->msg, sizeof(err->msg), "%s: %s", sysfs_root, strerror(ENOMEM));
		goto err_free;
	}
	*out = topo;
	return 0;
err_free:
	ioasid_topology__free(topo);
	return ioasid_err(ret);
}

void ioasid_topology__free(struct ioasid_topology *topo)
{
	size_t i;

	if (!topo)
		return;
	for (i = 0; i < topo->nr_groups; i++) {
		free(topo->groups[i]->devs);
		free(topo->groups[i]->resv);
		free(topo->groups[i]);
	}
	for (i = 0; i < topo->nr_devs; i++)
		free(topo->devs[i]);
	free(topo->groups);
	free(topo->devs);
	free(topo->root);
	free(topo);
}

const char *ioasid_topology__root(const struct ioasid_topology *topo)
{
	return topo->root;
}

size_t ioasid_topology__nr_groups(const struct ioasid_topology *topo)
{
	return topo->nr_groups;
}

const struct ioasid_group *ioasid_topology__group(const struct ioasid_topology *topo, size_t idx)
{
	return idx < topo->nr_groups ? topo->groups[idx] : NULL;
}

const struct ioasid_group *ioasid_topology__find_group(const struct ioasid_topology *topo,
							unsigned int id)
{
	struct ioasid_group key = { .id = id }, *kp = &key, **found;

	found = topo->nr_groups ?
		bsearch(&kp, topo->groups, topo->nr_groups, sizeof(*topo->groups), cmp_group) : NULL;
	return found ? *found : NULL;
}

size_t ioasid_topology__nr_devices(const struct ioasid_topology *topo)
{
	return topo->nr_devs;
}

const struct ioasid_device *ioasid_topology__device(const struct ioasid_topology *topo,
						     size_t idx)
{
	return idx < topo->nr_devs ? topo->devs[idx] : NULL;
}

const struct ioasid_device *ioasid_topology__find_device(const struct ioasid_topology *topo,
							  const char *name)
{
	return name ? find_dev(topo->devs, topo->nr_devs, name) : NULL;
}

int ioasid_topology__set_driver(struct ioasid_topology *topo, const char *name,
				const char *driver)
{
	struct ioasid_device *dev;

	dev = name ? find_dev(topo->devs, topo->nr_devs, name) : NULL;
	if (!dev)
		return ioasid_err(-ENODEV);
	if (driver && (!*driver || strlen(driver) >= sizeof(dev->driver) || strchr(driver, '/')))
		return ioasid_err(-EINVAL);
	if (dev->bound)
		return ioasid_err(-EBUSY);
	dev->has_driver = driver != NULL;
	strlcpy(dev->driver, driver ? driver : "", sizeof(dev->driver));
	return 0;
}

unsigned int ioasid_group__id(const struct ioasid_group *group)
{
	return group->id;
}

const char *ioasid_group__type(const struct ioasid_group *group)
{
	return group->type;
}

size_t ioasid_group__nr_devices(const struct ioasid_group *group)
{
	return group->nr_devs;
}

const struct ioasid_device *ioasid_group__device(const struct ioasid_group *group, size_t idx)
{
	return idx < group->nr_devs ? group->devs[idx] : NULL;
}

size_t ioasid_group__nr_resv(const struct ioasid_group *group)
{
	return group->nr_resv;
}

const struct ioasid_resv_region *ioasid_group__resv(const struct ioasid_group *group, size_t idx)
{
	return idx < group->nr_resv ? &group->resv[idx] : NULL;
}

const char *ioasid_resv_type__name(enum ioasid_resv_type type)
{
	switch (type) {
	case IOASID_RESV_DIRECT:
		return "direct";
	case IOASID_RESV_DIRECT_RELAXABLE:
		return "direct-relaxable";
	case IOASID_RESV_RESERVED:
		return "reserved";
	case IOASID_RESV_MSI:
		return "msi";
	}
	return "unknown";
}

const char *ioasid_device__name(const struct ioasid_device *dev)
{
	return dev->name;
}

bool ioasid_device__is_pci(const struct ioasid_device *dev)
{
	return dev->is_pci;
}

uint16_t ioasid_device__vendor(const struct ioasid_device *dev)
{
	return dev->vendor;
}

uint16_t ioasid_device__device_id(const struct ioasid_device *dev)
{
	return dev->device_id;
}

uint32_t ioasid_device__class(const struct ioasid_device *dev)
{
	return dev->class;
}

bool ioasid_device__is_bridge(const struct ioasid_device *dev)
{
	/* PCI_CLASS_BRIDGE_PCI (0x0604) and semi-transparent PCI-to-PCI bridges (0x0609). */
	return dev->is_pci && ((dev->class >> 8) == 0x0604 || (dev->class >> 8) == 0x0609);
}

const char *ioasid_device__driver(const struct ioasid_device *dev)
{
	return dev->has_driver ? dev->driver : NULL;
}

const struct ioasid_group *ioasid_device__group(const struct ioasid_device *dev)
{
	return dev->group;
}
