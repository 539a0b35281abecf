// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy_apply() and the daemon's reloader against a fake enforcer: what reaches the
 * enforcer, what a bad file leaves in force, the reload counters, and the deadline of a
 * reload whose read never returns (a FIFO nobody writes, read through a blocking reader
 * that stands for one on a hung file system).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include "policy/policy_apply.h"
#include "metrics/exposition.h"
#include "metrics/snapshot.h"

#define SYSFS "tests/fixtures/sysfs/q35-one-vfio"

/* The fake enforcer: what is "in force", and how the next load behaves. */
static struct {
	char in_force[IOGUARD_NAME_LEN];
	__u64 policy_id;
	unsigned int loads;
	int probe_ret;
	int load_ret;
} fake;

static int fake_probe(struct errbuf *eb)
{
	if (fake.probe_ret)
		return errbuf_set(eb, fake.probe_ret, "fake: no BPF LSM");
	return 0;
}

static int fake_load(const struct compiled_policy *cp, bool *swapped, struct errbuf *eb)
{
	if (fake.load_ret)
		return errbuf_set(eb, fake.load_ret, "fake: refused");
	*swapped = fake.loads > 0;
	fake.loads++;
	snprintf(fake.in_force, sizeof(fake.in_force), "%s", cp->slot.name);
	fake.policy_id = cp->slot.policy_id;
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
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped, NULL), 0);
	assert_non_null(p);
	assert_string_equal(p->name, "first");
	assert_false(swapped);
	assert_string_equal(fake.in_force, "first");
	policy__free(p);
}

static void test_apply_bad_file_never_reaches_the_enforcer(void **state)
{
	struct fixture *f = *state;
	struct errbuf eb = { .note = NULL };
	struct policy *p = NULL;
	bool swapped;

	put(f, "name: [broken\n");
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped, &eb), -EBADMSG);
	assert_non_null(strstr(eb.msg, f->path));
	assert_non_null(strstr(eb.msg, "; the policy in force is unchanged"));
	assert_null(p);
	assert_int_equal(fake.loads, 0);
}

static void test_apply_enforcer_errors(void **state)
{
	struct fixture *f = *state;
	struct errbuf eb = { .note = NULL };
	struct policy *p = NULL;
	bool swapped;

	put(f, good_policy("first"));
	fake.probe_ret = -EOPNOTSUPP;
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped, NULL), -EOPNOTSUPP);
	fake.probe_ret = 0;
	fake.load_ret = -EPERM;
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped, &eb), -EPERM);
	assert_int_equal(strncmp(eb.msg, f->path, strlen(f->path)), 0);
	assert_non_null(strstr(eb.msg, "; the policy in force is unchanged"));
	assert_null(p);
	assert_int_equal(fake.loads, 0);
}

static void test_apply_unless_hash(void **state)
{
	struct fixture *f = *state;
	struct policy *p = NULL, *q = NULL;
	bool swapped;

	put(f, good_policy("first"));
	assert_int_equal(policy_apply(f->path, &f->opts, &p, &swapped, NULL), 0);
	f->opts.unless_hash = p->hash;
	assert_int_equal(policy_apply(f->path, &f->opts, &q, &swapped, NULL), 1);
	assert_null(q);
	assert_int_equal(fake.loads, 1);
	policy__free(p);
}

static void test_reloader_bad_file_keeps_the_old_policy(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
	assert_int_equal(policy_reloader__load(&r), 0);
	assert_string_equal(r.name, "first");
	/* The first load is not a reload. */
	assert_int_equal(r.reloads[POLICY_RELOAD_OK] + r.reloads[POLICY_RELOAD_ERROR], 0);

	put(f, "name: first\nmode: sideways\n");
	assert_false(r.file_refused);
	assert_int_equal(policy_reloader__reload(&r, false), -EBADMSG);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
	assert_string_equal(fake.in_force, "first");
	assert_string_equal(r.name, "first");
	assert_int_equal(fake.loads, 1);
	/* Refused stays a state until the file is fixed, however many SIGHUPs fail. */
	assert_true(r.file_refused);
	assert_int_equal(policy_reloader__reload(&r, true), -EBADMSG);
	assert_true(r.file_refused);

	put(f, good_policy("second"));
	assert_int_equal(policy_reloader__reload(&r, false), 0);
	assert_false(r.file_refused);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
	assert_string_equal(fake.in_force, "second");
	assert_string_equal(r.name, "second");
	policy_reloader__fini(&r);
}

static void test_reloader_unchanged_file(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
	assert_int_equal(policy_reloader__load(&r), 0);
	/* A change event with the same content: nothing to do, nothing counted. */
	assert_int_equal(policy_reloader__reload(&r, false), 1);
	assert_int_equal(fake.loads, 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 0);
	/* SIGHUP applies it again anyway. */
	assert_int_equal(policy_reloader__reload(&r, true), 0);
	assert_int_equal(fake.loads, 2);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
	policy_reloader__fini(&r);
}

static void test_reloader_missing_file(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	put(f, good_policy("first"));
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
	assert_int_equal(policy_reloader__load(&r), 0);
	unlink(f->path);
	assert_int_equal(policy_reloader__reload(&r, true), -ENOENT);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
	assert_string_equal(fake.in_force, "first");
	assert_true(r.file_refused);
	/* The file back as it was: unchanged, so it is the policy in force again. */
	put(f, good_policy("first"));
	assert_int_equal(policy_reloader__reload(&r, false), 1);
	assert_false(r.file_refused);
	policy_reloader__fini(&r);
}

/* The counters reach the snapshot in result order; the exposition prints them there. */
static void test_reloader_add_metrics(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot *s = metrics_snapshot__new();
	struct policy_reloader r;
	struct buf b = { 0 };

	assert_non_null(s);
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
	r.reloads[POLICY_RELOAD_OK] = 3;
	r.reloads[POLICY_RELOAD_ERROR] = 1;
	r.reloads[POLICY_RELOAD_TIMEOUT] = 2;
	assert_int_equal(policy_reloader__add_metrics(&r, s), 0);
	assert_true(s->daemon.present);
	assert_int_equal(s->daemon.reloads.n, POLICY_RELOAD_RESULT_COUNT);
	assert_string_equal(s->daemon.reloads.v[POLICY_RELOAD_TIMEOUT].label, "timeout");
	assert_int_equal(exposition_render(s, &b), 0);
	assert_non_null(strstr(b.data, "# TYPE ioguard_policy_reloads_total counter\n"));
	assert_non_null(strstr(b.data, "\nioguard_policy_reloads_total{result=\"ok\"} 3\n"
				       "ioguard_policy_reloads_total{result=\"error\"} 1\n"
				       "ioguard_policy_reloads_total{result=\"timeout\"} 2\n"));
	assert_non_null(strstr(b.data, "# TYPE ioguard_policy_file_refused gauge\n"
				       "ioguard_policy_file_refused 0\n"));
	r.file_refused = true;
	metrics_snapshot__reset(s);
	buf__reset(&b);
	assert_int_equal(policy_reloader__add_metrics(&r, s), 0);
	assert_int_equal(s->daemon.reloads.n, POLICY_RELOAD_RESULT_COUNT);
	assert_int_equal(exposition_render(s, &b), 0);
	assert_non_null(strstr(b.data, "\nioguard_policy_file_refused 1\n"));
	assert_non_null(strstr(b.data, "\n# HELP ioguard_policy_reloads_total Policy reloads "));
	buf__release(&b);
	metrics_snapshot__free(s);
	policy_reloader__fini(&r);
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
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
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
	policy_reloader__fini(&r);
}

/*
 * A reader as naive as the one the review found: a blocking open and reads to the end.
 * On the FIFO the tests put at the path it blocks in open() until the test writes, as a
 * read on an NFS hard mount or a hung FUSE server blocks until the server answers.
 */
static unsigned int reads_returned;

static int blocking_read(const char *path, const struct policy_load_opts *opts,
			 struct policy **out, struct policy_error *err)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	close(fd);
	ret = policy__load_buffer(path, buf, len, out, err);
out:
	__atomic_add_fetch(&reads_returned, 1, __ATOMIC_RELEASE);
	return ret;
}

#define DEADLINE_MS 200
/*
 * The stuck read never returns until the test releases it, so any finite bound proves
 * the deadline; a generous one keeps the test true under valgrind on a loaded machine.
 */
#define SLACK_MS 20000

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The path becomes a FIFO that nobody writes: every read of it blocks. */
static void make_fifo(struct fixture *f)
{
	unlink(f->path);
	assert_int_equal(mkfifo(f->path, 0600), 0);
}

/* Lets the blocked reader go: writes @text into the FIFO and closes it. */
static void release_fifo(struct fixture *f, const char *text)
{
	int fd = open(f->path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void reloader_init_stuck(struct fixture *f, struct policy_reloader *r)
{
	f->opts.read = blocking_read;
	assert_int_equal(policy_reloader__init(r, f->path, &f->opts, NULL), 0);
	r->deadline_ms = DEADLINE_MS;
	reads_returned = 0;
}

/*
 * The load of a regular file that must succeed: under valgrind on a loaded machine it can
 * take longer than DEADLINE_MS, so it gets SLACK_MS; the deadline is back for what follows.
 */
static void load_in_time(struct policy_reloader *r)
{
	r->deadline_ms = SLACK_MS;
	assert_int_equal(policy_reloader__load(r), 0);
	r->deadline_ms = DEADLINE_MS;
}

static void wait_done(struct policy_reloader *r)
{
	struct pollfd pfd = { .fd = policy_reloader__fd(r), .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 10000), 1);
}

/*
 * The review's finding: a read that never returns must not hold up its caller. The reload
 * misses the deadline, is reported and counted as a timeout, and the policy in force
 * stays; while the read is stuck the reloader neither blocks nor starts a second
 * reader; when it returns at last its result is dropped; and the next reload works.
 */
static void test_reloader_stuck_read_misses_the_deadline(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;
	struct timespec t0;
	int result = 0;
	long ms;

	put(f, good_policy("first"));
	reloader_init_stuck(f, &r);
	load_in_time(&r);
	assert_string_equal(fake.in_force, "first");

	make_fifo(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_reloader__reload(&r, true), -ETIMEDOUT);
	ms = ms_since(&t0);
	assert_true(ms >= DEADLINE_MS);
	assert_true(ms < DEADLINE_MS + SLACK_MS);
	assert_int_equal(r.reloads[POLICY_RELOAD_TIMEOUT], 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 0);
	assert_string_equal(fake.in_force, "first");
	assert_string_equal(r.name, "first");
	assert_int_equal(__atomic_load_n(&reads_returned, __ATOMIC_ACQUIRE), 1);

	/* Still stuck: the daemon's loop asks without blocking, and gets no second thread. */
	assert_true(policy_reloader__busy(&r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_reloader__finish(&r, &result), -EINPROGRESS);
	assert_int_equal(policy_reloader__start(&r, true), -EBUSY);
	assert_true(ms_since(&t0) < 2000);	/* a wait for the worker would never end */

	/* It returns at last: the late result, a valid policy, is dropped, not applied. */
	release_fifo(f, good_policy("late"));
	wait_done(&r);
	assert_int_equal(policy_reloader__finish(&r, &result), -ECANCELED);
	assert_false(policy_reloader__busy(&r));
	assert_string_equal(fake.in_force, "first");
	assert_int_equal(fake.loads, 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK] + r.reloads[POLICY_RELOAD_ERROR], 0);

	unlink(f->path);
	put(f, good_policy("second"));
	r.deadline_ms = SLACK_MS;	/* must succeed: not a test of the deadline */
	assert_int_equal(policy_reloader__reload(&r, false), 0);
	assert_string_equal(fake.in_force, "second");
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
	policy_reloader__fini(&r);
}

/* The daemon's loop: start, then check on each tick; the deadline is reported once. */
static void test_reloader_async_deadline(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;
	int ret, result = 0, timeouts = 0;
	struct timespec t0;

	put(f, good_policy("first"));
	reloader_init_stuck(f, &r);
	load_in_time(&r);
	make_fifo(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_reloader__start(&r, false), 0);
	/* Past the deadline, and on until the timeout was seen (a loaded machine is late). */
	while (ms_since(&t0) < 3 * DEADLINE_MS || (!timeouts && ms_since(&t0) < SLACK_MS)) {
		ret = policy_reloader__finish(&r, &result);
		if (ret == -ETIMEDOUT) {
			timeouts++;
			assert_int_equal(result, -ETIMEDOUT);
			assert_true(ms_since(&t0) >= DEADLINE_MS);
		} else {
			assert_int_equal(ret, -EINPROGRESS);
		}
		usleep(20 * 1000);
	}
	assert_int_equal(timeouts, 1);
	release_fifo(f, "name: [broken\n");
	wait_done(&r);
	assert_int_equal(policy_reloader__finish(&r, &result), -ECANCELED);
	assert_int_equal(policy_reloader__finish(&r, &result), -ECHILD);
	assert_string_equal(fake.in_force, "first");
	policy_reloader__fini(&r);
}

/*
 * The first load has the deadline too (a daemon started on a hung file system exits
 * instead of hanging), and letting go of a reloader whose worker is stuck neither
 * blocks nor leaks: the worker frees its job when it returns (valgrind and ASan check).
 */
static void test_reloader_fini_with_stuck_worker(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;
	int i;

	make_fifo(f);
	reloader_init_stuck(f, &r);
	assert_int_equal(policy_reloader__load(&r), -ETIMEDOUT);
	assert_false(r.loaded);
	assert_int_equal(fake.loads, 0);
	policy_reloader__fini(&r);

	/* Content it refuses, so that past the read it shares nothing with later tests. */
	release_fifo(f, "name: [broken\n");
	for (i = 0; i < 500 && !__atomic_load_n(&reads_returned, __ATOMIC_ACQUIRE); i++)
		usleep(10 * 1000);
	assert_int_equal(__atomic_load_n(&reads_returned, __ATOMIC_ACQUIRE), 1);
	/* Time for its report and its free, which LSan and valgrind watch at exit. */
	usleep(200 * 1000);
	assert_int_equal(fake.loads, 0);
}

/* A read that itself gives up with ETIMEDOUT (a soft NFS mount) is a timeout too. */
static void test_reloader_count_timeout(void **state)
{
	struct fixture *f = *state;
	struct policy_reloader r;

	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, NULL), 0);
	policy_reloader__count(&r, -ETIMEDOUT);
	policy_reloader__count(&r, -EIO);
	policy_reloader__count(&r, 1);
	policy_reloader__count(&r, 0);
	assert_int_equal(r.reloads[POLICY_RELOAD_TIMEOUT], 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_ERROR], 1);
	assert_int_equal(r.reloads[POLICY_RELOAD_OK], 1);
	policy_reloader__fini(&r);
}

/* What a reloader told through its errbuf: "LEVEL:text" lines, and on which thread. */
struct notes {
	char text[4096];
	size_t len;
	pthread_t thread;
	bool other_thread;
};

static void keep_note(void *ctx, enum errbuf_level level, const char *msg)
{
	struct notes *n = ctx;

	n->other_thread |= !pthread_equal(pthread_self(), n->thread);
	n->len += snprintf(n->text + n->len, sizeof(n->text) - n->len, "%d:%s\n", level, msg);
	assert_true(n->len < sizeof(n->text));
}

/*
 * The worker prints nothing and tells its caller nothing on its own thread (stderr and
 * --json belong to the loop): what it reports reaches the reloader's errbuf through
 * __finish(), on the caller's thread, errors as ERRBUF_ERR notes.
 */
static void test_reloader_worker_notes_reach_the_caller(void **state)
{
	struct fixture *f = *state;
	struct notes notes = { .len = 0, .thread = pthread_self() };
	struct errbuf eb = { .note = keep_note, .note_ctx = &notes };
	struct policy_reloader r;
	char want[256];

	put(f, good_policy("first"));
	assert_int_equal(policy_reloader__init(&r, f->path, &f->opts, &eb), 0);
	/* The daemon's errbuf lives on the stack of its set-up: the reloader keeps a copy. */
	memset(&eb, 0, sizeof(eb));
	assert_int_equal(policy_reloader__load(&r), 0);
	put(f, "name: first\nmode: sideways\n");
	notes.len = 0;
	assert_int_equal(policy_reloader__reload(&r, false), -EBADMSG);
	snprintf(want, sizeof(want), "%d:%s:", ERRBUF_ERR, f->path);
	assert_int_equal(strncmp(notes.text, want, strlen(want)), 0);
	assert_non_null(strstr(notes.text, "bad value 'sideways' for 'mode'"));
	assert_non_null(strstr(notes.text, "the policy in force is unchanged\n"));
	assert_false(notes.other_thread);
	policy_reloader__fini(&r);
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
		T(test_reloader_add_metrics),
		T(test_reloader_apply_then_count),
		T(test_reloader_stuck_read_misses_the_deadline),
		T(test_reloader_async_deadline),
		T(test_reloader_fini_with_stuck_worker),
		T(test_reloader_count_timeout),
		T(test_reloader_worker_notes_reach_the_caller),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
