// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/policy/policy.c: the good policy files load with the right values, every
 * file of the bad catalogue (tests/policies/bad) fails with exactly the message its
 * EXPECTED line gives, and the cases that are not committed as files (binary junk, files
 * over the size limit, deep nesting, CRLF, owner and mode) are generated in a temporary
 * directory. Run from the repository root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy.h"

#define GOOD_DIR "tests/policies/good"
#define BAD_DIR "tests/policies/bad"
#define EXAMPLES_DIR "policies"

static const struct policy_load_opts no_owner = {
	.sz = sizeof(no_owner),
	.skip_owner_check = true,
};

/* Temporary directory of the generated cases, made by the group setup. */
static char tmpdir[] = "/tmp/test_policy.XXXXXX";

/* ------------------------------------------------------------------------------------ */
/* Helpers: _load() returns the code, load() asserts success, load_err() a failure.      */

static int _load(const char *path, const struct policy_load_opts *opts, struct policy **p,
		 struct policy_error *e)
{
	int err = policy__load(path, opts, p, e);

	if (err)
		assert_null(*p);
	else
		assert_non_null(*p);
	return err;
}

static struct policy *load(const char *path)
{
	struct policy_error e = POLICY_ERROR_INIT;
	struct policy *p = NULL;
	int err;

	err = _load(path, &no_owner, &p, &e);
	if (err)
		fail_msg("%s did not load: %s", path, e.msg);
	return p;
}

/* Expects failure with @code and, unless NULL, exactly the message @msg. */
static void load_err_opts(const char *path, const struct policy_load_opts *opts, int code,
			  const char *msg)
{
	struct policy_error e = POLICY_ERROR_INIT;
	struct policy *p = NULL;
	int err;

	err = _load(path, opts, &p, &e);
	if (!err) {
		policy__free(p);
		fail_msg("%s loaded; expected: %s", path, msg ? msg : "an error");
	}
	assert_int_equal(err, code);
	assert_int_equal(e.err, code);
	if (msg && strcmp(e.msg, msg))
		fail_msg("%s:\n  expected: %s\n  got:      %s", path, msg, e.msg);
	/* Every message is one line. */
	assert_null(strchr(e.msg, '\n'));
}

static void load_err(const char *path, int code, const char *msg)
{
	load_err_opts(path, &no_owner, code, msg);
}

/* Writes @len bytes to TMPDIR/@name with @mode and returns the path (static buffer). */
static const char *write_tmp(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static const char *write_tmp_str(const char *name, const char *s)
{
	return write_tmp(name, s, strlen(s), 0644);
}

/* TMPDIR/@name followed by ":" + @rest, the expected message for a generated file. */
static const char *tmp_msg(const char *name, const char *rest)
{
	static char msg[4096 + 512];

	snprintf(msg, sizeof(msg), "%s/%s:%s", tmpdir, name, rest);
	return msg;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int group_setup(void **state)
{
	struct stat st;

	if (stat(BAD_DIR "/EXPECTED", &st)) {
		fprintf(stderr, "test_policy: %s not found: run from the repository root\n",
			BAD_DIR "/EXPECTED");
		return -1;
	}
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "test_policy: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

/* ------------------------------------------------------------------------------------ */
/* Good files                                                                            */

static void load_dir(const char *dir, int min_files)
{
	char path[4096];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!has_suffix(de->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		policy__free(load(path));
		n++;
	}
	closedir(d);
	assert_true(n >= min_files);
}

static void test_good_files_load(void **state)
{
	load_dir(GOOD_DIR, 4);
}

static void test_examples_load(void **state)
{
	load_dir(EXAMPLES_DIR, 3);
}

static void test_minimal(void **state)
{
	struct policy *p = load(GOOD_DIR "/minimal.yaml");

	assert_string_equal(p->name, "minimal");
	assert_int_equal(p->mode, POLICY_MODE_AUDIT);
	assert_int_equal(p->dflt, POLICY_DEFAULT_ALLOW);
	assert_int_equal(p->viability, POLICY_VIABILITY_KERNEL);	/* the default */
	assert_int_equal(p->n_tenants, 0);
	assert_null(p->tenants);
	policy__free(p);
}

static void assert_pos(const struct policy_pos *pos, unsigned int line, unsigned int column)
{
	assert_int_equal(pos->line, line);
	assert_int_equal(pos->column, column);
}

static void test_full(void **state)
{
	struct policy *p = load(GOOD_DIR "/full.yaml");
	const struct policy_tenant *t;
	const struct policy_device *d;

	assert_string_equal(p->name, "full-1.0");
	assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
	assert_int_equal(p->dflt, POLICY_DEFAULT_DENY);
	assert_int_equal(p->viability, POLICY_VIABILITY_STRICT);
	assert_int_equal(p->n_tenants, 2);

	t = &p->tenants[0];
	assert_string_equal(t->name, "vm");
	assert_pos(&t->pos, 7, 5);
	assert_int_equal(t->n_uids, 2);
	assert_int_equal(t->uids[0], 107);
	assert_int_equal(t->uids[1], 1000);
	assert_int_equal(t->n_gids, 1);
	assert_int_equal(t->gids[0], 107);
	assert_int_equal(t->n_cgroups, 1);
	assert_string_equal(t->cgroups[0], "/machine.slice/machine-qemu.scope");
	assert_int_equal(t->n_exes, 2);
	assert_string_equal(t->exes[0], "/usr/bin/qemu-system-x86_64");
	assert_string_equal(t->exes[1], "/usr/libexec/qemu-kvm");
	assert_int_equal(t->n_devices, 3);
	d = &t->devices[0];
	assert_int_equal(d->kind, POLICY_DEV_BDF);
	assert_int_equal(d->bdf.domain, 0);
	assert_int_equal(d->bdf.bus, 1);
	assert_int_equal(d->bdf.dev, 2);
	assert_int_equal(d->bdf.fn, 0);
	assert_pos(&d->pos, 16, 14);
	d = &t->devices[1];
	assert_int_equal(d->kind, POLICY_DEV_BDF);
	assert_int_equal(d->bdf.domain, 0);
	assert_int_equal(d->bdf.bus, 0x3b);
	assert_int_equal(d->bdf.dev, 0);
	assert_int_equal(d->bdf.fn, 1);
	d = &t->devices[2];
	assert_int_equal(d->kind, POLICY_DEV_GROUP);
	assert_int_equal(d->group, 12);
	assert_int_equal(t->max_dma_bytes, 1ULL << 30);
	/* Sorted by start: the second window of the file comes first. */
	assert_int_equal(t->n_windows, 2);
	assert_int_equal(t->windows[0].start, 0);
	assert_int_equal(t->windows[0].last, 0xfedfffff);
	assert_pos(&t->windows[0].pos, 23, 9);
	assert_int_equal(t->windows[1].start, 0x100000000ULL);
	assert_int_equal(t->windows[1].last, 0x100000000ULL + (4ULL << 30) - 1);

	t = &p->tenants[1];
	assert_string_equal(t->name, "dpdk_2");
	assert_int_equal(t->n_uids, 0);
	assert_int_equal(t->n_gids, 0);
	assert_int_equal(t->n_exes, 0);
	assert_int_equal(t->n_cgroups, 1);
	assert_string_equal(t->cgroups[0], "/system.slice/dpdk.service");
	assert_int_equal(t->n_exe_sha256, 2);
	assert_int_equal(t->exe_sha256[0][0], 0x01);
	assert_int_equal(t->exe_sha256[0][15], 0xef);	/* upper case accepted */
	assert_int_equal(t->exe_sha256[0][31], 0xef);
	assert_int_equal(t->exe_sha256[1][30], 0x00);
	assert_int_equal(t->exe_sha256[1][31], 0x01);
	assert_int_equal(t->n_devices, 4);
	d = &t->devices[0];
	assert_int_equal(d->kind, POLICY_DEV_ID);
	assert_int_equal(d->id.vendor, 0x8086);
	assert_int_equal(d->id.device, POLICY_PCI_ID_ANY);
	d = &t->devices[1];
	assert_int_equal(d->kind, POLICY_DEV_ID);
	assert_int_equal(d->id.vendor, 0x1234);
	assert_int_equal(d->id.device, 0x11e8);
	d = &t->devices[2];
	assert_int_equal(d->kind, POLICY_DEV_CLASS);
	assert_int_equal(d->class.value, 0x020000);
	assert_int_equal(d->class.mask, 0xffffff);
	d = &t->devices[3];
	assert_int_equal(d->kind, POLICY_DEV_CLASS);
	assert_int_equal(d->class.value, 0x0c0300);
	assert_int_equal(d->class.mask, 0xffff00);
	assert_int_equal(t->max_dma_bytes, 64ULL << 20);
	assert_int_equal(t->n_windows, 0);
	assert_null(t->windows);
	policy__free(p);
}

static void test_flow(void **state)
{
	struct policy *p = load(GOOD_DIR "/flow.yaml");

	assert_string_equal(p->name, "flow");
	assert_int_equal(p->n_tenants, 2);
	assert_int_equal(p->tenants[0].devices[0].bdf.bus, 0);
	assert_int_equal(p->tenants[0].devices[0].bdf.dev, 0x1f);
	assert_int_equal(p->tenants[0].devices[0].bdf.fn, 7);
	assert_int_equal(p->tenants[0].windows[0].start, 0x1000);
	assert_int_equal(p->tenants[0].windows[0].last, 0x1000);
	assert_int_equal(p->tenants[0].max_dma_bytes, POLICY_DMA_UNLIMITED);
	assert_int_equal(p->tenants[1].n_gids, 2);
	assert_int_equal(p->tenants[1].gids[1], 3);
	assert_int_equal(p->tenants[1].devices[0].group, 0);
	assert_int_equal(p->tenants[1].max_dma_bytes, 0);
	policy__free(p);
}

static void test_edge(void **state)
{
	struct policy *p = load(GOOD_DIR "/edge.yaml");
	const struct policy_tenant *t = &p->tenants[0];

	assert_string_equal(p->name, "edge");
	assert_string_equal(t->name, "0-all");
	assert_int_equal(t->uids[0], 4294967294u);
	assert_string_equal(t->cgroups[0], "/");
	assert_int_equal(t->devices[0].bdf.domain, 0x10000);
	assert_int_equal(t->devices[0].bdf.bus, 0xe3);
	assert_int_equal(t->devices[0].bdf.dev, 0x1f);
	assert_int_equal(t->devices[0].bdf.fn, 7);
	assert_int_equal(t->devices[1].id.vendor, POLICY_PCI_ID_ANY);
	assert_int_equal(t->devices[1].id.device, POLICY_PCI_ID_ANY);
	assert_int_equal(t->devices[2].id.vendor, POLICY_PCI_ID_ANY);
	assert_int_equal(t->devices[2].id.device, 0x10d3);
	assert_int_equal(t->devices[3].class.mask, 0);
	assert_int_equal(t->devices[4].group, INT32_MAX);
	assert_int_equal(t->max_dma_bytes, UINT64_MAX);
	assert_int_equal(t->windows[0].start, 0);
	assert_int_equal(t->windows[0].last, UINT64_MAX);
	t = &p->tenants[1];
	assert_string_equal(t->exes[0], "/a");
	assert_int_equal(t->devices[0].bdf.domain, 0xffff);
	assert_int_equal(t->max_dma_bytes, 15ULL << 60);
	assert_int_equal(t->windows[0].start, 0xfffffffffffff000ULL);
	assert_int_equal(t->windows[0].last, UINT64_MAX);
	policy__free(p);
}

/* The hash is SHA-256 of the file bytes: what `sha256sum FILE` prints. */
static void test_hash(void **state)
{
	const char *path = write_tmp_str("hashed.yaml", "name: hashed\nmode: audit\ndefault: allow\n");
	struct policy *p = load(path);
	char hex[2 * POLICY_HASH_SIZE + 1];

	policy__hash_hex(p, hex);
	assert_string_equal(hex, "6d260136b94d381e330fa33149eed9abd213d5f96c1feba8712dcf5b0db20be1");
	policy__free(p);

	/* Lengths around the padding boundaries (55, 56, 64 bytes) and several blocks,
	 * against sha256sum. */
	static const size_t lens[] = { 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70000 };
	char *buf, cmd[4200], want[80];
	size_t i, n, fixed = strlen("name: h\nmode: audit\ndefault: allow\n#");
	FILE *f;

	buf = malloc(70000);
	assert_non_null(buf);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = lens[i];
		memcpy(buf, "name: h\nmode: audit\ndefault: allow\n#", fixed);
		memset(buf + fixed, 'x', n - fixed - 1);
		buf[n - 1] = '\n';
		path = write_tmp("hashlen.yaml", buf, n, 0644);
		p = load(path);
		policy__hash_hex(p, hex);
		policy__free(p);
		snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
		f = popen(cmd, "r");
		assert_non_null(f);
		assert_non_null(fgets(want, sizeof(want), f));
		pclose(f);
		want[64] = '\0';
		assert_string_equal(hex, want);
	}
	free(buf);
}

/* ------------------------------------------------------------------------------------ */
/* The bad catalogue                                                                     */

static void test_bad_catalogue(void **state)
{
	char line[2048], path[4096], msg[4096 + 2048], *tab, *nl;
	char seen[256][128];
	size_t n_seen = 0, i;
	struct dirent *de;
	FILE *f;
	DIR *d;

	f = fopen(BAD_DIR "/EXPECTED", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (!tab)
			fail_msg("EXPECTED: no tab in '%s'", line);
		*tab = '\0';
		snprintf(path, sizeof(path), "%s/%s", BAD_DIR, line);
		snprintf(msg, sizeof(msg), "%s:%s", path, tab + 1);
		load_err(path, -EINVAL, msg);
		assert_true(n_seen < 256 && strlen(line) < sizeof(seen[0]));
		strcpy(seen[n_seen++], line);
	}
	fclose(f);
	assert_true(n_seen >= 35);

	/* Every bad file has its expectation. */
	d = opendir(BAD_DIR);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!has_suffix(de->d_name, ".yaml"))
			continue;
		for (i = 0; i < n_seen; i++)
			if (!strcmp(seen[i], de->d_name))
				break;
		if (i == n_seen)
			fail_msg("%s/%s has no line in EXPECTED", BAD_DIR, de->d_name);
	}
	closedir(d);
}

/* ------------------------------------------------------------------------------------ */
/* Generated cases                                                                       */

static const char base[] = "name: gen\nmode: enforce\ndefault: deny\n";

static void test_binary_junk(void **state)
{
	static const unsigned char elf[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0 };
	unsigned char junk[65536];
	struct policy_error e = POLICY_ERROR_INIT;
	struct policy *p = NULL;
	const char *path;
	uint32_t x = 12345;
	char want[4096];
	size_t i;

	path = write_tmp("elf.yaml", elf, sizeof(elf), 0644);
	load_err(path, -EINVAL, tmp_msg("elf.yaml",
		 "1:1: error: control character U+007F; policy files must be text"));

	path = write_tmp("nul.yaml", "name: x\0y\n", 10, 0644);
	load_err(path, -EINVAL, tmp_msg("nul.yaml",
		 "1:8: error: binary data (NUL byte); policy files must be UTF-8 text"));

	path = write_tmp("latin1.yaml", "name: caf\xe9\n", 10, 0644);
	load_err(path, -EINVAL, tmp_msg("latin1.yaml",
		 "1:10: error: invalid UTF-8 (byte 0xe9); policy files must be UTF-8 text"));

	path = write_tmp_str("bell.yaml", "name: a\nmode: \x07\n");
	load_err(path, -EINVAL, tmp_msg("bell.yaml",
		 "2:7: error: control character U+0007; policy files must be text"));

	/* Columns count characters, not bytes, like libyaml's marks. */
	path = write_tmp_str("utf8-bell.yaml", "# \xc3\xa9\xe2\x82\xac\x07\n");
	load_err(path, -EINVAL, tmp_msg("utf8-bell.yaml",
		 "1:5: error: control character U+0007; policy files must be text"));
	path = write_tmp_str("utf8.yaml", "name: \xc3\xa9t\xc3\xa9\nmode: enforce\n");
	load_err(path, -EINVAL, tmp_msg("utf8.yaml",
		 "1:7: error: bad name '\xc3\xa9t\xc3\xa9' (expected letters, digits, '.', '_' and '-', "
		 "starting with a letter or digit)"));

	/* Random bytes: refused with a positioned message, whatever the bytes are. */
	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = x >> 16;
	}
	path = write_tmp("random.yaml", junk, sizeof(junk), 0644);
	assert_int_equal(_load(path, &no_owner, &p, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s:", path);
	assert_memory_equal(e.msg, want, strlen(want));
	assert_true(e.line >= 1 && e.column >= 1);
	assert_non_null(strstr(e.msg, ": error: "));
}

static void test_size_limit(void **state)
{
	size_t len = POLICY_MAX_FILE_SIZE;
	const char *path;
	char *buf;

	/* Exactly at the limit: loads. A comment pads the file. */
	buf = malloc(len + 1);
	assert_non_null(buf);
	memcpy(buf, base, strlen(base));
	memset(buf + strlen(base), ' ', len - strlen(base));
	buf[strlen(base)] = '#';
	buf[len - 1] = '\n';
	path = write_tmp("limit.yaml", buf, len, 0644);
	policy__free(load(path));

	/* One byte more: refused before parsing. */
	buf[len - 1] = ' ';
	buf[len] = '\n';
	path = write_tmp("huge.yaml", buf, len + 1, 0644);
	load_err(path, -EFBIG, tmp_msg("huge.yaml",
		 "1:1: error: file is 1048577 bytes, above the 1048576-byte (1 MiB) limit "
		 "for policy files"));
	free(buf);
}

/* A big alias bomb, and deep nesting: refused at once, nothing expanded or recursed. */
static void test_bombs(void **state)
{
	char *buf, *s;
	const char *path;
	size_t i, depth = 200000;

	buf = malloc(4 * depth + 256);
	assert_non_null(buf);

	s = buf + sprintf(buf, "%stenants:\n  - name: t\n    match:\n      uid: &l0 [0, 0]\n", base);
	for (i = 1; i < 40; i++)
		s += sprintf(s, "      x%zu: &l%zu [*l%zu, *l%zu, *l%zu, *l%zu]\n", i, i, i - 1, i - 1,
			     i - 1, i - 1);
	path = write_tmp_str("bomb.yaml", buf);
	load_err(path, -EINVAL, tmp_msg("bomb.yaml",
		 "7:12: error: YAML anchor '&l0': aliases and anchors are not allowed in "
		 "policy files"));

	/* An alias whose anchor was never defined is refused the same way. */
	path = write_tmp_str("alias.yaml", "name: *x\n");
	load_err(path, -EINVAL, tmp_msg("alias.yaml",
		 "1:7: error: YAML alias '*x': aliases and anchors are not allowed in policy "
		 "files"));

	s = buf + sprintf(buf, "%stenants: ", base);
	for (i = 0; i < depth; i++)
		*s++ = '[';
	for (i = 0; i < depth; i++)
		*s++ = ']';
	strcpy(s, "\n");
	path = write_tmp_str("deep.yaml", buf);
	load_err(path, -EINVAL, tmp_msg("deep.yaml",
		 "4:11: error: tenant must be a mapping, found a list"));
	free(buf);
}

static void test_crlf_bom(void **state)
{
	struct policy *p;
	const char *path;

	path = write_tmp_str("crlf.yaml", "name: crlf\r\nmode: audit\r\ndefault: deny\r\n"
			     "tenants:\r\n  - name: t\r\n    match: { uid: 5 }\r\n"
			     "    devices: [ { group: 3 } ]\r\n");
	p = load(path);
	assert_string_equal(p->name, "crlf");
	assert_int_equal(p->tenants[0].devices[0].group, 3);
	policy__free(p);

	path = write_tmp_str("crlf-bad.yaml", "name: crlf\r\nmode: audit\r\ndefault: nope\r\n");
	load_err(path, -EINVAL, tmp_msg("crlf-bad.yaml",
		 "3:10: error: bad value 'nope' for 'default' (expected deny or allow)"));

	path = write_tmp_str("bom.yaml", "\xef\xbb\xbfname: bom\nmode: audit\ndefault: deny\n");
	p = load(path);
	assert_string_equal(p->name, "bom");
	policy__free(p);
}

static void test_file_errors(void **state)
{
	char msg[4096 + 128];

	load_err(BAD_DIR "/does-not-exist.yaml", -ENOENT,
		 BAD_DIR "/does-not-exist.yaml: error: cannot open: No such file or directory");
	snprintf(msg, sizeof(msg), "%s: error: is a directory, not a policy file", tmpdir);
	load_err(tmpdir, -EISDIR, msg);
}

/*
 * A FIFO at the policy path is refused at once, naming the file, instead of blocking the
 * open until a writer comes (which wedged the daemon's loop). The alarm turns a
 * regression into a failure rather than a hang.
 */
static void test_fifo_is_refused(void **state)
{
	char path[PATH_MAX], msg[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/fifo.yaml", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	snprintf(msg, sizeof(msg), "%s: error: is a FIFO, not a regular file: policy files "
		 "must be regular files", path);
	load_err(path, -EINVAL, msg);
	alarm(0);
	unlink(path);
}

/* ------------------------------------------------------------------------------------ */
/* Owner and mode, like sudoers                                                          */

static void load_opts_ok(const char *path, const struct policy_load_opts *opts)
{
	struct policy_error e = POLICY_ERROR_INIT;
	struct policy *p = NULL;

	if (_load(path, opts, &p, &e))
		fail_msg("%s did not load: %s", path, e.msg);
	policy__free(p);
}

static void test_owner_check(void **state)
{
	const struct policy_load_opts check = { .sz = sizeof(check) };
	const char *path;
	char msg[4096 + 256];

	/* Policies in the source tree need --no-owner-check; so does this one as non-root. */
	path = write_tmp("mode0666.yaml", base, strlen(base), 0666);
	if (geteuid() == 0) {
		load_err_opts(path, &check, -EPERM, tmp_msg("mode0666.yaml",
			      " error: writable by group and others (mode 0666): policy files "
			      "must be writable by root only (chmod go-w)"));
		load_err_opts(path, NULL, -EPERM, NULL);	/* NULL opts: the check is on */
		path = write_tmp("mode0664.yaml", base, strlen(base), 0664);
		load_err_opts(path, &check, -EPERM, tmp_msg("mode0664.yaml",
			      " error: writable by group (mode 0664): policy files must be "
			      "writable by root only (chmod go-w)"));
		path = write_tmp("mode0602.yaml", base, strlen(base), 0602);
		load_err_opts(path, &check, -EPERM, tmp_msg("mode0602.yaml",
			      " error: writable by others (mode 0602): policy files must be "
			      "writable by root only (chmod go-w)"));
		path = write_tmp("mode0644.yaml", base, strlen(base), 0644);
		load_opts_ok(path, &check);
		path = write_tmp("mode0400.yaml", base, strlen(base), 0400);
		load_opts_ok(path, NULL);
		assert_int_equal(chown(path, 1000, 1000), 0);
		load_err_opts(path, &check, -EPERM, tmp_msg("mode0400.yaml",
			      " error: owned by uid 1000, not by root: policy files must be owned "
			      "by root, like sudoers"));
		policy__free(load(path));	/* skipped on request */
	} else {
		snprintf(msg, sizeof(msg), " error: owned by uid %u, not by root: policy files "
			 "must be owned by root, like sudoers", (unsigned int)geteuid());
		path = write_tmp("mine.yaml", base, strlen(base), 0644);
		load_err_opts(path, &check, -EPERM, tmp_msg("mine.yaml", msg));
		policy__free(load(path));
	}
	/* The owner check comes before the content. */
	if (geteuid() == 0) {
		path = write_tmp("bad0666.yaml", "junk: 1\n", 8, 0666);
		load_err_opts(path, &check, -EPERM, NULL);
		load_err(path, -EINVAL, tmp_msg("bad0666.yaml",
			 "1:1: error: unknown key 'junk' in policy (expected one of: name, mode, "
			 "default, viability, tenants)"));
	}
}

/* ------------------------------------------------------------------------------------ */
/* API corners                                                                           */

static void test_api(void **state)
{
	struct policy_error small = { .sz = 0 };
	struct policy *p = (struct policy *)1;

	policy__free(NULL);
	/* An error struct too small for this version is left alone, the code still comes. */
	assert_int_equal(policy__load(BAD_DIR "/001-empty.yaml", &no_owner, &p, &small),
			 -EINVAL);
	assert_null(p);
	assert_int_equal(small.line, 0);
	assert_int_equal(small.msg[0], '\0');
	/* No error struct at all. */
	assert_int_equal(policy__load(BAD_DIR "/030-bad-mode.yaml", &no_owner, &p, NULL),
			 -EINVAL);
	assert_int_equal(policy__load(NULL, NULL, &p, NULL), -EINVAL);
	assert_string_equal(policy_mode__str(POLICY_MODE_AUDIT), "audit");
	assert_string_equal(policy_default__str(POLICY_DEFAULT_DENY), "deny");
	assert_string_equal(policy_viability__str(POLICY_VIABILITY_STRICT), "strict");
}

/* The text entry point parses as the file one does, and names the buffer in errors. */
static void test_load_buffer(void **state)
{
	static const char text[] = "name: buf\nmode: audit\ndefault: allow\n";
	struct policy_error e = POLICY_ERROR_INIT;
	struct policy *p = NULL, *f;

	assert_int_equal(policy__load_buffer("<buf>", text, strlen(text), &p, &e), 0);
	assert_non_null(p);
	assert_string_equal(p->name, "buf");
	assert_int_equal(p->n_tenants, 0);
	f = load(GOOD_DIR "/minimal.yaml");
	assert_int_equal(f->mode, p->mode);
	policy__free(f);
	policy__free(p);

	/* An empty buffer (NULL, 0) is an empty file, with a message. */
	p = (struct policy *)1;
	assert_int_equal(policy__load_buffer("<buf>", NULL, 0, &p, &e), -EINVAL);
	assert_null(p);
	assert_string_equal(e.msg, "<buf>:1:1: error: policy file is empty");

	/* A refused enum leaves no policy, whichever key it is in. */
	assert_int_equal(policy__load_buffer("<buf>", "name: x\nmode: on\ndefault: deny\n", 30,
					     &p, &e), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(e.msg, "bad value 'on' for 'mode'"));
	assert_int_equal(policy__load_buffer("<buf>", "x", POLICY_MAX_FILE_SIZE + 1, &p, &e),
			 -EFBIG);
	assert_int_equal(policy__load_buffer(NULL, text, 1, &p, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_files_load),
		cmocka_unit_test(test_load_buffer),
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_bad_catalogue),
		cmocka_unit_test(test_binary_junk),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_fifo_is_refused),
		cmocka_unit_test(test_owner_check),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
