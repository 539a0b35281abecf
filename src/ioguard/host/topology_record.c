// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decisions/decision_feed.h"
#include "topology_record.h"

#define STAMP_MAGIC "ioguard-policy-topology 1"
#define PATH_LEN 4096

const char *topology_change_kind__str(enum topology_change_kind kind)
{
	static const char *const names[TOPOLOGY_CHANGE_KIND_COUNT] = {
		"device_joined", "device_left", "driver_changed",
	};

	return (unsigned int)kind < TOPOLOGY_CHANGE_KIND_COUNT ? names[kind] : "unknown";
}

void topology_record__fini(struct topology_record *r)
{
	free(r->entries);
	free(r->named);
	memset(r, 0, sizeof(*r));
}

static int add_entry(struct topology_record *r, size_t *cap, unsigned int group,
		     const char *device, const char *driver)
{
	struct topology_entry *grown, *e;

	if (r->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		grown = realloc(r->entries, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->entries = grown;
	}
	e = &r->entries[r->n++];
	e->group = group;
	snprintf(e->device, sizeof(e->device), "%s", device);
	snprintf(e->driver, sizeof(e->driver), "%s", driver);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct topology_entry *x = a, *y = b;

	return strcmp(x->device, y->device);
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static bool parse_uint(const char *s, unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || n > 0x7fffffff)
		return false;
	*v = (unsigned int)n;
	return true;
}

/* The devices of one group, with the basename of their driver link. */
static int read_group(const char *groups, const char *name, struct topology_record *r,
		      size_t *cap)
{
	char path[PATH_LEN], link[PATH_LEN];
	const char *driver;
	unsigned int group;
	struct dirent *d;
	ssize_t n;
	DIR *dir;
	int err = 0;

	if (!parse_uint(name, &group))
		return 0;
	snprintf(path, sizeof(path), "%.3800s/%u/devices", groups, group);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;	/* a group going away */
	while (!err && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%.3800s/%u/devices/%.64s/driver", groups, group,
			 d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		driver = strrchr(link, '/');
		err = add_entry(r, cap, group, d->d_name, driver ? driver + 1 : link);
	}
	closedir(dir);
	return err;
}

int topology_record__read(const char *root, struct topology_record *r)
{
	char groups[PATH_LEN];
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;
	int err = 0;

	topology_record__fini(r);
	snprintf(groups, sizeof(groups), "%.3800s/sys/kernel/iommu_groups", root ? root : "");
	dir = opendir(groups);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (d = readdir(dir)))
		err = read_group(groups, d->d_name, r, &cap);
	closedir(dir);
	if (err) {
		topology_record__fini(r);
		return err;
	}
	if (r->n)
		qsort(r->entries, r->n, sizeof(*r->entries), cmp_entry);
	return 0;
}

bool topology_record__named(const struct topology_record *r, unsigned int group)
{
	return r->n_named &&
	       bsearch(&group, r->named, r->n_named, sizeof(*r->named), cmp_uint);
}

static int push_change(struct topology_change **v, size_t *n, size_t *cap,
		       enum topology_change_kind kind, const struct topology_entry *e,
		       const char *from, const char *to)
{
	struct topology_change *grown, *c;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		grown = realloc(*v, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*v = grown;
	}
	c = &(*v)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->group = e->group;
	snprintf(c->device, sizeof(c->device), "%s", e->device);
	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
	return 0;
}

int topology_record__diff(const struct topology_record *old, const struct topology_record *now,
			  const struct topology_record *named, struct topology_change **out)
{
	struct topology_change *v = NULL;
	size_t i = 0, j = 0, n = 0, cap = 0;
	int err = 0, c;

	/* Both sorted by device: one merge pass. */
	while (!err && (i < old->n || j < now->n)) {
		const struct topology_entry *a = i < old->n ? &old->entries[i] : NULL;
		const struct topology_entry *b = j < now->n ? &now->entries[j] : NULL;

		c = !a ? 1 : !b ? -1 : strcmp(a->device, b->device);
		if (c < 0) {
			err = push_change(&v, &n, &cap, TOPOLOGY_DEVICE_LEFT, a, "", "");
			i++;
		} else if (c > 0) {
			err = push_change(&v, &n, &cap, TOPOLOGY_DEVICE_JOINED, b, "", "");
			j++;
		} else {
			if (a->group != b->group) {
				err = push_change(&v, &n, &cap, TOPOLOGY_DEVICE_LEFT, a, "", "");
				if (!err)
					err = push_change(&v, &n, &cap, TOPOLOGY_DEVICE_JOINED, b,
							  "", "");
			} else if (strcmp(a->driver, b->driver) &&
				   (!named || topology_record__named(named, b->group))) {
				err = push_change(&v, &n, &cap, TOPOLOGY_DRIVER_CHANGED, b,
						  a->driver, b->driver);
			}
			i++;
			j++;
		}
	}
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return (int)n;
}

void topology_change__describe(const struct topology_change *c, char *buf, size_t len)
{
	switch (c->kind) {
	case TOPOLOGY_DEVICE_JOINED:
		snprintf(buf, len, "device %s joined group %u", c->device, c->group);
		break;
	case TOPOLOGY_DEVICE_LEFT:
		snprintf(buf, len, "device %s left group %u", c->device, c->group);
		break;
	default:
		snprintf(buf, len, "driver of %s (group %u): %s -> %s", c->device, c->group,
			 c->from[0] ? c->from : "none", c->to[0] ? c->to : "none");
		break;
	}
}

int topology_stamp_path(char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", decision_feed_run_dir(), TOPOLOGY_STAMP_FILE);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int topology_stamp_write(const char *path, const struct topology_record *r,
			 const char *policy_sha256, const unsigned int *named_groups,
			 size_t n_named)
{
	char tmp[PATH_LEN], dir[PATH_LEN], *slash;
	size_t i;
	FILE *fp;
	int fd, err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		/* The run directory is root's, 0700, as the decision feed makes it. */
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	fp = fdopen(fd, "w");
	if (!fp) {
		err = -errno;
		close(fd);
		goto out_unlink;
	}
	fprintf(fp, "%s\nsha256 %s\nnamed", STAMP_MAGIC, policy_sha256);
	for (i = 0; i < n_named; i++)
		fprintf(fp, " %u", named_groups[i]);
	fputc('\n', fp);
	for (i = 0; i < r->n; i++)
		fprintf(fp, "device %u %s %s\n", r->entries[i].group, r->entries[i].device,
			r->entries[i].driver[0] ? r->entries[i].driver : "-");
	if (fflush(fp) || fsync(fileno(fp)))
		err = -errno;
	if (fclose(fp) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
out_unlink:
	if (err)
		unlink(tmp);
	return err;
}

static int parse_named(struct topology_record *r, char *list)
{
	char *tok, *save;
	unsigned int g, *grown;

	for (tok = strtok_r(list, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!parse_uint(tok, &g))
			return -EBADMSG;
		grown = realloc(r->named, (r->n_named + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->named = grown;
		r->named[r->n_named++] = g;
	}
	if (r->n_named)
		qsort(r->named, r->n_named, sizeof(*r->named), cmp_uint);
	return 0;
}

int topology_stamp_read(const char *path, struct topology_record *r)
{
	char line[512], dev[TOPOLOGY_NAME_LEN], drv[TOPOLOGY_NAME_LEN];
	unsigned int group;
	size_t cap = 0;
	FILE *fp;
	int err = 0;

	topology_record__fini(r);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	if (!fgets(line, sizeof(line), fp) || strncmp(line, STAMP_MAGIC "\n", sizeof(STAMP_MAGIC)) ||
	    !fgets(line, sizeof(line), fp) ||
	    sscanf(line, "sha256 %64[0-9a-f]", r->policy_sha256) != 1 ||
	    !fgets(line, sizeof(line), fp) || strncmp(line, "named", 5)) {
		err = -EBADMSG;
		goto out;
	}
	err = parse_named(r, line + 5);
	while (!err && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "device %u %63s %63s", &group, dev, drv) != 3) {
			err = -EBADMSG;
			break;
		}
		err = add_entry(r, &cap, group, dev, strcmp(drv, "-") ? drv : "");
	}
	if (!err && r->n)
		qsort(r->entries, r->n, sizeof(*r->entries), cmp_entry);
out:
	fclose(fp);
	if (err)
		topology_record__fini(r);
	return err;
}
