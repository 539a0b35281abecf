// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_apply() and the daemon's reloader against a fake enforcer: what reaches the
 * enforcer, what a bad file leaves in force, and the reload counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include "../../src/ioguard/policy_apply.h"

#define SYSFS "tests/fixtures/sysfs/q35-one-vfio"

/* The fake enforcer: what is "in force", and how the next load behaves. */
static struct {
	char in_force[IOGUARD_NAME_LEN];
	__u64 policy_id;
	unsigned int loads;
	int probe_ret;
	int load_ret;
} fake;

static int fake_probe(char *err, size_t len)
{
	if (fake.probe_ret)
		snprintf(err, len, "fake: no BPF LSM");
	return fake.probe_ret;
}

static int fake_load(const struct compiled_policy *cp, bool *swapped, char *notes,
		     size_t notes_len, char *err, size_t err_len)
{
	if (fake.load_ret) {
		snprintf(err, err_len, "fake: refused");
		return fake.load_ret;
	}
	*swapped = fake.loads > 0;
	fake.loads++;
	snprintf(fake.in_force, sizeof(fake.in_force), "%s", cp->slot.name);
	fake.policy_id = cp->slot.policy_id;
	notes[0] = '\0';
	return 0;
}

static const struct policy_apply_ops fake_ops = { .probe = fake_probe, .load = fake_load };

struct fixture {
	char dir[64];
	char path[128];
	struct policy_load_opts load;
	struct policy_apply_opts opts;
};

static const char *good_policy(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "name: %s\n"
		 "mode: enforce\n"
		 "default: allow\n"
		 "tenants:\n"
		 "  - name: lab\n"
		 "    match: { uid: 0 }\n"
		 "    devices:\n"
		 "      - id: \"1234:11e8\"\n", name);
	return buf;
}

static void put(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ioguard-test-apply-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/policy.yaml", f->dir);
	f->load = (struct policy_load_opts){ .sz = sizeof(f->load), .skip_owner_check = true };
	f->opts = (struct policy_apply_opts){
		.sz = sizeof(f->opts),
		.load = &f->load,
		.sysfs_root = SYSFS,
		.ops = &fake_ops,
	};
	memset(&fake, 0, sizeof(fake));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_apply_good_file(void **state)
{
	struct fixture *f = *state;
	struct policy *p = NULL;
	bool swapped = true;

	put(f, good_policy("first"));
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped), 0);
	assert_non_null(p);
	assert_string_equal(p->name, "first");
	assert_false(swapped);
	assert_string_equal(fake.in_force, "first");
	policy__free(p);
}

static void test_apply_bad_file_never_reaches_the_enforcer(void **state)
{
	struct fixture *f = *state;
	struct policy *p = NULL;
	bool swapped;

	put(f, "name: [broken\n");
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped), -EBADMSG);
	assert_null(p);
	assert_int_equal(fake.loads, 0);
}

static void test_apply_enforcer_errors(void **state)
{
	struct fixture *f = *state;
	struct policy *p = NULL;
	bool swapped;

	put(f, good_policy("first"));
	fake.probe_ret = -EOPNOTSUPP;
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped), -EOPNOTSUPP);
	fake.probe_ret = 0;
	fake.load_ret = -EPERM;
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped), -EPERM);
	assert_null(p);
	assert_int_equal(fake.loads, 0);
}

static void test_apply_unless_hash(void **state)
{
	struct fixture *f = *state;
	struct policy *p = NULL, *q = NULL;
	bool swapped;

	put(f, good_policy("first"));
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped), 0);
	f->opts.unless_hash = p->hash;
	assert_int_equal(policy_apply(f->path, &f->opts, &q, &swapped), 1);
	assert_null(q);
	assert_int_equal(fake.loads, 1);
	policy__free(p);
}

static void test_reloader_bad_file_keeps_the_old_policy(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	policy_reloader__init(&r, f->path, &f->opts);
	assert_int_equal(policy_reloader__load(&r), 0);
	assert_string_equal(r.name, "first");
	/* The first load is not a reload. */
	assert_int_equal(r.reloads[POLICY_RELOAD_OK] + r.reloads[POLICY_RELOAD_ERROR], 0);

	put(f, "name: first\nmode: sideways\n");
	assert_int_equal(policy_reloader__reload(&r, false), -EBADMSG);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
	assert_string_equal(fake.in_force, "first");
	assert_string_equal(r.name, "first");
	assert_int_equal(fake.loads, 1);

	put(f, good_policy("second"));
	assert_int_equal(policy_reloader__reload(&r, false), 0);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
	assert_string_equal(fake.in_force, "second");
	assert_string_equal(r.name, "second");
}

static void test_reloader_unchanged_file(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	policy_reloader__init(&r, f->path, &f->opts);
	assert_int_equal(policy_reloader__load(&r), 0);
	/* A change event with the same content: nothing to do, nothing counted. */
	assert_int_equal(policy_reloader__reload(&r, false), 1);
	assert_int_equal(fake.loads, 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 0);
	/* SIGHUP applies it again anyway. */
	assert_int_equal(policy_reloader__reload(&r, true), 0);
	assert_int_equal(fake.loads, 2);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
}

static void test_reloader_missing_file(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	policy_reloader__init(&r, f->path, &f->opts);
	assert_int_equal(policy_reloader__load(&r), 0);
	unlink(f->path);
	assert_int_equal(policy_reloader__reload(&r, true), -ENOENT);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
	assert_string_equal(fake.in_force, "first");
}

static void test_reloader_render(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;
	struct buf b = { 0 };

	policy_reloader__init(&r, f->path, &f->opts);
	r.reloads[POLICY_RELOAD_OK] = 3;
	r.reloads[POLICY_RELOAD_ERROR] = 1;
	policy_reloader__render(&r, &b);
	assert_int_equal(b.err, 0);
	assert_non_null(strstr(b.data, "# TYPE ioguard_policy_reloads_total counter\n"));
	assert_non_null(strstr(b.data, "\nioguard_policy_reloads_total{result=\"ok\"} 3\n"
				       "ioguard_policy_reloads_total{result=\"error\"} 1\n"));
	assert_true(!strncmp(b.data, "# HELP ioguard_policy_reloads_total ", 36));
	buf__release(&b);
}

/*
 * The daemon loads without the server lock and counts under it: __apply() must leave the
 * counters (all a scrape reads) alone, and __count() count what __apply() returned.
 */
static void test_reloader_apply_then_count(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;
	int ret;

	put(f, good_policy("first"));
	policy_reloader__init(&r, f->path, &f->opts);
	assert_int_equal(policy_reloader__load(&r), 0);

	put(f, good_policy("second"));
	ret = policy_reloader__apply(&r, false);
	assert_int_equal(ret, 0);
	assert_string_equal(fake.in_force, "second");
	assert_int_equal(r.reloads[POLICY_RELOAD_OK] + r.reloads[POLICY_RELOAD_ERROR], 0);
	policy_reloader__count(&r, ret);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);

	ret = policy_reloader__apply(&r, false);
	assert_int_equal(ret, 1);
	policy_reloader__count(&r, ret);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);

	put(f, "name: third\nmode: sideways\n");
	ret = policy_reloader__apply(&r, true);
	assert_int_equal(ret, -EBADMSG);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 0);
	policy_reloader__count(&r, ret);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_apply_good_file),
		T(test_apply_bad_file_never_reaches_the_enforcer),
		T(test_apply_enforcer_errors),
		T(test_apply_unless_hash),
		T(test_reloader_bad_file_keeps_the_old_policy),
		T(test_reloader_unchanged_file),
		T(test_reloader_missing_file),
		T(test_reloader_render),
		T(test_reloader_apply_then_count),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
