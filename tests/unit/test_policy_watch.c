// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/policy/policy_watch.c on a temporary directory, with real inotify and
 * with the polling the watch falls back to without it: every way a policy file gets
 * changed must be noticed (in place, rename over, a symlink's target in another
 * directory, a Kubernetes ConfigMap `..data` swap, repeatedly), and a file next to it
 * that changes must not be. The watch's lookups go through a gate the tests can close,
 * as a hung file system does: the caller's side must never wait for them, a change must
 * still be delivered once they return, and letting go of a stuck watch must return at
 * once and leak nothing (valgrind and ASan check at exit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy_watch.h"

/* How long a change may take to be noticed, and how long "nothing happened" is watched. */
#define NOTICE_MS 5000
#define QUIET_MS 300
/*
 * A caller that blocks on a stuck lookup hangs its test: SIGALRM's default action turns
 * the hang into a failed run (a test takes a second or two, under valgrind too).
 */
#define WATCHDOG_S 60
/* The polling variant's interval: short, to keep the tests quick. */
#define POLL_MS 20

struct variant {
	bool polling;
};

static const struct variant with_inotify = { .polling = false };
static const struct variant polling = { .polling = true };

/*
 * The gate every lookup of the watch passes: closed, a lookup waits in it as one waits in
 * the kernel for an NFS server that is gone, until the test opens it.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool closed;
	unsigned int waiting;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

static void gate_pass(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.waiting++;
	while (gate.closed)
		pthread_cond_wait(&gate.cond, &gate.lock);
	gate.waiting--;
	pthread_mutex_unlock(&gate.lock);
}

static void gate_close(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.closed = true;
	pthread_mutex_unlock(&gate.lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.closed = false;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

static int gated_stat(const char *path, struct stat *st)
{
	gate_pass();
	return stat(path, st);
}

static int gated_lstat(const char *path, struct stat *st)
{
	gate_pass();
	return lstat(path, st);
}

static ssize_t gated_readlink(const char *path, char *buf, size_t len)
{
	gate_pass();
	return readlink(path, buf, len);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Waits until the watch's thread is held in the gate. */
static void wait_stuck(void)
{
	unsigned int waiting = 0;
	int i;

	for (i = 0; i < NOTICE_MS / 10; i++) {
		pthread_mutex_lock(&gate.lock);
		waiting = gate.waiting;
		pthread_mutex_unlock(&gate.lock);
		if (waiting)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the watch never looked the path up after a change");
}

/* The threads of this process, from /proc/self/task. */
static int count_threads(void)
{
	struct dirent *de;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Waits until the process has @n threads again. */
static void wait_threads(int n)
{
	int i;

	for (i = 0; i < NOTICE_MS / 10 && count_threads() != n; i++)
		usleep(10 * 1000);
	assert_int_equal(count_threads(), n);
}

struct fixture {
	char dir[64];
	char path[PATH_MAX];		/* what the daemon was given */
	const struct variant *variant;
	int threads;			/* of the process before the test */
	struct policy_watch_opts opts;
	struct policy_watch *w;
};

static void at(const struct fixture *f, char *out, const char *name)
{
	assert_true(strlen(f->dir) + 1 + strlen(name) < PATH_MAX);
	strcpy(out, f->dir);
	strcat(out, "/");
	strcat(out, name);
}

static void put(const struct fixture *f, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *fp;

	at(f, p, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* An editor's save: a new file renamed over the old name. */
static void replace(const struct fixture *f, const char *name, const char *text)
{
	char tmp_name[PATH_MAX], tmp[PATH_MAX], p[PATH_MAX];

	snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", name);
	put(f, tmp_name, text);
	at(f, tmp, tmp_name);
	at(f, p, name);
	assert_int_equal(rename(tmp, p), 0);
}

static void mk(const struct fixture *f, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void ln(const struct fixture *f, const char *target, const char *name)
{
	char p[PATH_MAX];

	at(f, p, name);
	assert_int_equal(symlink(target, p), 0);
}

static void watch(struct fixture *f, const char *name)
{
	at(f, f->path, name);
	assert_int_equal(policy_watch__new(f->path, &f->opts, &f->w), 0);
	if (!f->variant->polling && policy_watch__polling(f->w))
		skip();
	assert_int_equal(policy_watch__polling(f->w), f->variant->polling);
}

/* Nothing is noticed for QUIET_MS. */
static void expect_quiet(struct fixture *f, const char *what)
{
	struct pollfd pfd = { .fd = policy_watch__fd(f->w), .events = POLLIN };

	if (poll(&pfd, 1, QUIET_MS) != 0 || policy_watch__changed(f->w))
		fail_msg("%s was taken for a change of the policy", what);
}

static void expect_changed(struct fixture *f, const char *what)
{
	struct pollfd pfd = { .fd = policy_watch__fd(f->w), .events = POLLIN };
	int more;

	if (poll(&pfd, 1, NOTICE_MS) != 1 || !policy_watch__changed(f->w))
		fail_msg("%s was not noticed", what);
	/*
	 * The thread may report one change in two steps (a rename's MOVED_FROM and MOVED_TO
	 * read apart); the daemon settles them into one reload. It must end, though.
	 */
	for (more = 0; more < 4 && poll(&pfd, 1, 50) == 1; more++)
		policy_watch__changed(f->w);
	expect_quiet(f, "the same change, reported again,");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->variant = *state;
	f->threads = count_threads();
	alarm(WATCHDOG_S);
	f->opts = (struct policy_watch_opts){
		.sz = sizeof(f->opts),
		.polling = f->variant->polling,
		.interval_ms = POLL_MS,
		.stat = gated_stat,
		.lstat = gated_lstat,
		.readlink = gated_readlink,
	};
	strcpy(f->dir, "/tmp/ioguard-test-watch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gate_open();
	policy_watch__free(f->w);
	/* A joined thread may linger in /proc for a moment after the join. */
	wait_threads(f->threads);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	alarm(0);
	return 0;
}

static void test_in_place_and_rename(void **state)
{
	struct fixture *f = *state;

	put(f, "policy.yaml", "name: a\n");
	watch(f, "policy.yaml");
	expect_quiet(f, "nothing");
	put(f, "policy.yaml", "name: bb\n");
	expect_changed(f, "a write in place");
	replace(f, "policy.yaml", "name: ccc\n");
	expect_changed(f, "a rename over the file");
	/* Another file of the directory is not the policy. */
	put(f, "other.yaml", "name: x\n");
	expect_quiet(f, "a write to another file");
}

/* Finding 14: the path is a symlink to a file in another directory, edited there. */
static void test_symlink_target_in_another_directory(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX];

	mk(f, "etc");
	mk(f, "srv");
	put(f, "srv/real.yaml", "name: a\n");
	at(f, target, "srv/real.yaml");
	ln(f, target, "etc/policy.yaml");
	watch(f, "etc/policy.yaml");
	put(f, "srv/real.yaml", "name: bb\n");
	expect_changed(f, "a write to the symlink's target");
	replace(f, "srv/real.yaml", "name: ccc\n");
	expect_changed(f, "a rename over the symlink's target");
	put(f, "srv/unrelated.yaml", "name: x\n");
	expect_quiet(f, "a write next to the symlink's target");
}

/* A ConfigMap update as the kubelet does it (AtomicWriter). */
static void configmap_update(const struct fixture *f, const char *version, const char *old,
			     const char *text)
{
	char name[PATH_MAX], from[PATH_MAX], to[PATH_MAX];

	mk(f, version);
	snprintf(name, sizeof(name), "%s/policy.yaml", version);
	put(f, name, text);
	ln(f, version, "..data_tmp");
	at(f, from, "..data_tmp");
	at(f, to, "..data");
	assert_int_equal(rename(from, to), 0);
	snprintf(name, sizeof(name), "%s/policy.yaml", old);
	at(f, from, name);
	assert_int_equal(unlink(from), 0);
	at(f, from, old);
	assert_int_equal(rmdir(from), 0);
}

/* Finding 14: dir/policy.yaml -> ..data/policy.yaml, ..data -> ..v1, swapped twice. */
static void test_configmap_data_swap(void **state)
{
	struct fixture *f = *state;

	mk(f, "..v1");
	put(f, "..v1/policy.yaml", "name: a\n");
	ln(f, "..v1", "..data");
	ln(f, "..data/policy.yaml", "policy.yaml");
	watch(f, "policy.yaml");
	configmap_update(f, "..v2", "..v1", "name: bb\n");
	expect_changed(f, "a ConfigMap update");
	/* The watch followed the swap: the next update is seen too. */
	configmap_update(f, "..v3", "..v2", "name: ccc\n");
	expect_changed(f, "a second ConfigMap update");
}

/* A missing file is an error for the loader, not for the watch: it waits for it. */
static void test_file_created_later(void **state)
{
	struct fixture *f = *state;

	watch(f, "policy.yaml");
	put(f, "policy.yaml", "name: a\n");
	expect_changed(f, "the file's creation");
}

/*
 * Issue 10: the watch looks the path up after every event (or every interval), and on a
 * hung file system that lookup does not return. The caller's side must not notice: it
 * never blocks, reports nothing while the thread is stuck, and gets the change, made
 * while it was stuck, once the lookup returns; later changes are seen as before.
 */
static void test_stuck_lookup_never_blocks_the_caller(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	struct timespec t0;
	int i;

	put(f, "policy.yaml", "name: a\n");
	watch(f, "policy.yaml");
	gate_close();
	put(f, "policy.yaml", "name: bb\n");
	wait_stuck();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20; i++) {
		pfd = (struct pollfd){ .fd = policy_watch__fd(f->w), .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 0), 0);
		assert_false(policy_watch__changed(f->w));
		assert_true(policy_watch__polling(f->w) == f->variant->polling);
	}
	replace(f, "policy.yaml", "name: ccc\n");
	assert_false(policy_watch__changed(f->w));
	/* Twenty rounds of what the daemon's loop does, while the lookup hangs. */
	assert_true(ms_since(&t0) < 100);

	gate_open();
	expect_changed(f, "a change made while the watch was stuck");
	put(f, "policy.yaml", "name: dddd\n");
	expect_changed(f, "a change after the watch came unstuck");
}

/*
 * The daemon's SIGTERM: letting go of a watch whose lookup hangs returns within
 * POLICY_WATCH_STOP_MS, leaving the thread behind. When the lookup returns at last, the
 * thread writes nothing to the fd that was the watch's (now another one's) and frees
 * everything it holds (valgrind and LSan check at exit), and exits.
 */
static void test_free_with_stuck_lookup(void **state)
{
	struct fixture *f = *state;
	int threads = f->threads, fd, reuse;
	struct timespec t0;
	eventfd_t n;
	long ms;

	put(f, "policy.yaml", "name: a\n");
	watch(f, "policy.yaml");
	gate_close();
	put(f, "policy.yaml", "name: bb\n");
	wait_stuck();

	fd = policy_watch__fd(f->w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	policy_watch__free(f->w);
	f->w = NULL;
	ms = ms_since(&t0);
	assert_true(ms >= POLICY_WATCH_STOP_MS - 1);
	assert_true(ms < POLICY_WATCH_STOP_MS + 1000);
	assert_int_equal(count_threads(), threads + 1);

	/* The number of the watch's fd, given to someone else. */
	reuse = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(reuse, fd);
	gate_open();
	wait_threads(threads);
	/* The thread saw the change once unstuck, and kept it to itself. */
	assert_int_equal(eventfd_read(reuse, &n), -1);
	assert_int_equal(errno, EAGAIN);
	close(reuse);
}

/* A watch that is not stuck stops at once: its thread is joined, not left behind. */
static void test_free_stops_the_thread(void **state)
{
	struct fixture *f = *state;
	int threads = f->threads;
	struct timespec t0;

	put(f, "policy.yaml", "name: a\n");
	watch(f, "policy.yaml");
	assert_int_equal(count_threads(), threads + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	policy_watch__free(f->w);
	f->w = NULL;
	/*
	 * Bounded, as for a stuck thread; not a speed check (a loaded host, valgrind, may
	 * take longer than the deadline to run the thread to its exit, which is then
	 * detached instead of joined): the thread ends either way.
	 */
	assert_true(ms_since(&t0) < POLICY_WATCH_STOP_MS + 1000);
	wait_threads(threads);
}

/*
 * A daemon started on a hung file system: the first resolution does not return, and
 * policy_watch__new() gives up at its deadline instead of hanging; the thread it leaves
 * behind cleans up after itself.
 */
static void test_new_with_stuck_lookup_times_out(void **state)
{
	struct fixture *f = *state;
	int threads = f->threads;
	struct timespec t0;

	put(f, "policy.yaml", "name: a\n");
	at(f, f->path, "policy.yaml");
	f->opts.setup_ms = 100;
	gate_close();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_watch__new(f->path, &f->opts, &f->w), -ETIMEDOUT);
	assert_true(ms_since(&t0) < 100 + POLICY_WATCH_STOP_MS + 1000);
	assert_null(f->w);
	gate_open();
	wait_threads(threads);
}

/* Nothing to watch: the file's directory does not exist. An error, and no thread left. */
static void test_new_nothing_to_watch(void **state)
{
	struct fixture *f = *state;
	int threads = f->threads;

	at(f, f->path, "no/such/dir/policy.yaml");
	assert_int_equal(policy_watch__new(f->path, &f->opts, &f->w), -ENOENT);
	assert_null(f->w);
	wait_threads(threads);
}

int main(void)
{
#define V(fn, v) { .name = #fn "/" #v, .test_func = fn, .setup_func = setup, \
		   .teardown_func = teardown, .initial_state = (void *)&v }
#define T(fn) V(fn, with_inotify), V(fn, polling)
	const struct CMUnitTest tests[] = {
		T(test_in_place_and_rename),
		T(test_symlink_target_in_another_directory),
		T(test_configmap_data_swap),
		T(test_file_created_later),
		T(test_stuck_lookup_never_blocks_the_caller),
		T(test_free_with_stuck_lookup),
		T(test_free_stops_the_thread),
		T(test_new_with_stuck_lookup_times_out),
		/* Polling has nothing to set up that could fail. */
		V(test_new_nothing_to_watch, with_inotify),
	};
#undef T
#undef V

	return cmocka_run_group_tests(tests, NULL, NULL);
}
