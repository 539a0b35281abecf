// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy files: reading (size, type and owner checks), hashing, and the public calls
 * that run the parser (policy_parse.c) over the format (policy_schema.c). The format is
 * in docs/policy.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sha2.h>
#include <yaml.h>

#include "ioguard/enforce.h"
#include "output/hex.h"
#include "policy_parse.h"

_Static_assert(POLICY_HASH_SIZE == IOGUARD_SHA256_LEN,
	       "the pinned slot's hash is the policy file's SHA-256");

void policy_hash_hex(const uint8_t hash[POLICY_HASH_SIZE], char hex[2 * POLICY_HASH_SIZE + 1])
{
	hex_encode(hash, POLICY_HASH_SIZE, hex);
}

void policy__hash_hex(const struct policy *p, char *buf)
{
	policy_hash_hex(p->hash, buf);
}

/* ------------------------------------------------------------------------------------ */
/* Reading the file                                                                      */

/*
 * Opens @path for reading and refuses what is not a policy file: not a regular file, not
 * owned by root or writable by others (unless @check_owner is false), above the size
 * limit. Returns the fd with its stat in @st, or a negative errno with @e filled.
 */
static int open_checked(const char *path, bool check_owner, struct stat *st,
			struct policy_error *e)
{
	int fd, err;

	/*
	 * O_NONBLOCK: a FIFO (or a device) at the path must be refused below, not block the
	 * open (and with it a daemon's loop) until a writer shows up. It does nothing to the
	 * reads of a regular file.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		return parse_fail_at(e, path, err, 0, 0, "cannot open: %s", strerror(-err));
	}
	if (fstat(fd, st)) {
		err = -errno;
		parse_fail_at(e, path, err, 0, 0, "cannot stat: %s", strerror(-err));
		goto out_close;
	}
	if (S_ISDIR(st->st_mode)) {
		err = parse_fail_at(e, path, -EISDIR, 0, 0, "is a directory, not a policy file");
		goto out_close;
	}
	if (!S_ISREG(st->st_mode)) {
		err = parse_fail_at(e, path, -EINVAL, 0, 0,
			      "is a %s, not a regular file: policy files must be regular files",
			      S_ISFIFO(st->st_mode) ? "FIFO" : S_ISSOCK(st->st_mode) ? "socket" :
			      S_ISCHR(st->st_mode) ? "character device" :
			      S_ISBLK(st->st_mode) ? "block device" : "special file");
		goto out_close;
	}
	if (check_owner && st->st_uid != 0) {
		err = parse_fail_at(e, path, -EPERM, 0, 0,
			      "owned by uid %u, not by root: policy files must be owned by root, "
			      "like sudoers", (unsigned int)st->st_uid);
		goto out_close;
	}
	if (check_owner && (st->st_mode & (S_IWGRP | S_IWOTH))) {
		err = parse_fail_at(e, path, -EPERM, 0, 0,
			      "writable by %s (mode %04o): policy files must be writable by "
			      "root only (chmod go-w)",
			      (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
			      (st->st_mode & S_IWGRP) ? "group" : "others",
			      (unsigned int)(st->st_mode & 07777));
		goto out_close;
	}
	if (st->st_size > POLICY_MAX_FILE_SIZE) {
		err = parse_fail_at(e, path, -EFBIG, 1, 1,
			      "file is %lld bytes, above the %d-byte (1 MiB) limit for policy "
			      "files", (long long)st->st_size, POLICY_MAX_FILE_SIZE);
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
	return err;
}

static int read_file(const char *path, const struct policy_load_opts *opts,
		     unsigned char **out, size_t *out_len, struct policy_error *e)
{
	bool check_owner = !(opts && opts->sz > offsetof(struct policy_load_opts,
							 skip_owner_check) &&
			     opts->skip_owner_check);
	unsigned char *buf = NULL, *nbuf;
	size_t len = 0, cap;
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open_checked(path, check_owner, &st, e);
	if (fd < 0)
		return fd;
	/* Read at its size, plus one byte to see a file that grew since the fstat(). */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		err = parse_fail_at(e, path, -ENOMEM, 0, 0, "out of memory");
		goto out_close;
	}
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_MAX_FILE_SIZE)
				break;
			cap = cap * 2 > POLICY_MAX_FILE_SIZE + 1 ? POLICY_MAX_FILE_SIZE + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				err = parse_fail_at(e, path, -ENOMEM, 0, 0, "out of memory");
				goto out_free;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			parse_fail_at(e, path, err, 0, 0, "cannot read: %s", strerror(-err));
			goto out_free;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > POLICY_MAX_FILE_SIZE) {
		err = parse_fail_at(e, path, -EFBIG, 1, 1,
			      "file is larger than the %d-byte (1 MiB) limit for policy files",
			      POLICY_MAX_FILE_SIZE);
		goto out_free;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	err = 0;
out_free:
	free(buf);
out_close:
	close(fd);
	return err;
}

/* Parses and validates @len bytes at @buf; @path only names them in errors. */
static int load_buffer(const char *path, const unsigned char *buf, size_t len,
		       struct policy **out, struct policy_error *err)
{
	struct parser ps = { .path = path, .err = err, .buf = buf, .len = len };
	SHA2_CTX sha;
	int ret;

	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p)
		return parse_oom(&ps);
	SHA256Init(&sha);
	SHA256Update(&sha, buf, len);
	SHA256Final(ps.p->hash, &sha);
	ret = parse_scan_text(&ps);
	if (ret)
		goto out_free_policy;
	if (!yaml_parser_initialize(&ps.yaml)) {
		ret = parse_oom(&ps);
		goto out_free_policy;
	}
	yaml_parser_set_input_string(&ps.yaml, buf, len);
	ret = parse_stream(&ps);
	if (ps.have_ev)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.yaml);
	if (ret)
		goto out_free_policy;
	*out = ps.p;
	ps.p = NULL;
out_free_policy:
	policy__free(ps.p);
	return ret;
}

static void clear_error(struct policy_error *err)
{
	if (parse_err_usable(err))
		memset((char *)err + sizeof(err->sz), 0, sizeof(*err) - sizeof(err->sz));
}

int policy__load(const char *path, const struct policy_load_opts *opts,
		 struct policy **out, struct policy_error *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret;

	clear_error(err);
	if (!path || !out || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	*out = NULL;
	ret = read_file(path, opts, &buf, &len, err);
	if (ret)
		return ret;
	ret = load_buffer(path, buf, len, out, err);
	free(buf);
	return ret;
}

int policy__load_buffer(const char *name, const void *buf, size_t len,
			struct policy **out, struct policy_error *err)
{
	clear_error(err);
	if (!name || (!buf && len) || !out)
		return -EINVAL;
	*out = NULL;
	if (len > POLICY_MAX_FILE_SIZE)
		return parse_fail_at(err, name, -EFBIG, 1, 1,
			       "%zu bytes, above the %d-byte (1 MiB) limit for policy files",
			       len, POLICY_MAX_FILE_SIZE);
	return load_buffer(name, buf ? buf : "", len, out, err);
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy__free(struct policy *p)
{
	struct policy_tenant *t;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_tenants; i++) {
		t = &p->tenants[i];
		free(t->name);
		free(t->uids);
		free(t->gids);
		free_strv(t->cgroups, t->n_cgroups);
		free_strv(t->exes, t->n_exes);
		free(t->exe_sha256);
		free(t->devices);
		free(t->windows);
	}
	free(p->tenants);
	free(p->name);
	free(p);
}

const char *policy_mode__str(enum policy_mode m)
{
	return m == POLICY_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_default__str(enum policy_default d)
{
	return d == POLICY_DEFAULT_ALLOW ? "allow" : "deny";
}

const char *policy_viability__str(enum policy_viability v)
{
	return v == POLICY_VIABILITY_STRICT ? "strict" : "kernel";
}
