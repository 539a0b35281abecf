// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/decisions/decision_source.c without BPF: the pin directory is a plain
 * temporary directory whose flock the test holds, as the daemon would, so the source
 * finds the records taken and turns to the decision feed, which the test serves. What
 * the source tells through its errbuf's notes is kept and checked: where records come
 * from, the end of a feed (once), losses, and why there are none (once). One test pins real maps on
 * a bpffs it mounts (root; it SKIPs otherwise) to replace the records under the source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "decisions/decision_source.h"

#define TEST_ALARM_S 60

struct fixture {
	char dir[64];
	char pins[96];
	char run_dir[80];
	char path[DECISION_FEED_PATH_MAX];
	int lock_fd;			/* the pin directory, flock()ed: "the daemon" */
	bool bpffs_mounted;		/* the pin directory is a bpffs of the test's own */
	int bpffs_errno;
	struct decision_source *source;
	struct decision_feed_server *server;
	unsigned int n;			/* records the source delivered */
	__u32 last_pid;
	char log[16384];		/* what the source told, one "LEVEL: note" line each */
	size_t log_len;
};

static void on_decision(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct fixture *f = ctx;

	f->n++;
	f->last_pid = d->pid;
}

static void keep_note(void *ctx, enum errbuf_level level, const char *msg)
{
	static const char *const name[] = {
		[ERRBUF_ERR] = "error", [ERRBUF_WARN] = "warning", [ERRBUF_INFO] = "info",
		[ERRBUF_WARN_AT] = "warning",
	};
	struct fixture *f = ctx;
	int n;

	n = snprintf(f->log + f->log_len, sizeof(f->log) - f->log_len, "%s: %s\n",
		     name[level], msg);
	assert_true(n > 0 && (size_t)n < sizeof(f->log) - f->log_len);
	fputs(f->log + f->log_len, stderr);
	f->log_len += n;
}

static void update(struct fixture *f, int wait_ms)
{
	decision_source__update(f->source, wait_ms);
}

static void process_source(struct fixture *f)
{
	decision_source__process(f->source);
}

static unsigned int said(const struct fixture *f, const char *what)
{
	const char *p = f->log;
	unsigned int n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	return n;
}

static void expect_said(const struct fixture *f, const char *what, unsigned int times)
{
	if (said(f, what) != times)
		fail_msg("'%s' said %u times, expected %u; the source said:\n%s", what,
			 said(f, what), times, f->log);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/*
 * As the CLI does: the errbuf is on the stack of a function that returns long before the
 * source's last note (a source that kept the pointer crashed `ioguard trace` once the
 * daemon's feed ended). Its note is cleared before the return, so that notes reaching
 * @log prove the source kept them itself.
 */
static struct decision_source *new_source(enum ioguard_feed_role role, struct fixture *f)
{
	struct errbuf eb = { .note = keep_note, .note_ctx = f };
	struct decision_source *s = decision_source__new(role, on_decision, f, &eb);

	assert_non_null(s);
	memset(&eb, 0, sizeof(eb));
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ioguard-test-source-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->pins, sizeof(f->pins), "%s/pins", f->dir);
	snprintf(f->run_dir, sizeof(f->run_dir), "%s/run", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->run_dir, DECISION_FEED_SOCKET);
	assert_int_equal(mkdir(f->pins, 0700), 0);
	f->lock_fd = open(f->pins, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->lock_fd >= 0);
	assert_int_equal(flock(f->lock_fd, LOCK_EX | LOCK_NB), 0);
	setenv("IOGUARD_PIN_DIR", f->pins, 1);
	setenv("IOGUARD_RUN_DIR", f->run_dir, 1);
	f->source = new_source(IOGUARD_FEED_ROLE_TRACE, f);
	alarm(TEST_ALARM_S);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	alarm(0);
	decision_source__free(f->source);
	decision_feed_server__free(f->server);
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	unsetenv("IOGUARD_PIN_DIR");
	unsetenv("IOGUARD_RUN_DIR");
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void serve(struct fixture *f, enum ioguard_feed_role role)
{
	struct errbuf eb = { .note = NULL };

	if (decision_feed_server__new(f->path, role, &f->server, &eb))
		fail_msg("cannot serve the feed: %s", eb.msg);
}

static void stop_serving(struct fixture *f)
{
	decision_feed_server__free(f->server);
	f->server = NULL;
}

static void process_server(struct fixture *f)
{
	assert_int_equal(decision_feed_server__process(f->server), 0);
}

static void publish(struct fixture *f, unsigned int pid)
{
	struct ioguard_decision d = { .pid = pid, .tenant = IOGUARD_NO_TENANT, .group = -1 };

	decision_feed_server__publish(f->server, &d, NULL);
}

static int poll_fds(const struct fixture *f)
{
	struct pollfd fds[DECISION_SOURCE_MAX_FDS];

	return decision_source__fds(f->source, fds);
}

/* The source connected, the server greeted it, the source said so. */
static void attach(struct fixture *f)
{
	update(f, 0);
	assert_int_equal(poll_fds(f), 1);
	process_server(f);
	process_source(f);
}

static void test_nothing_pinned_says_nothing(void **state)
{
	struct fixture *f = *state;
	char none[128];

	snprintf(none, sizeof(none), "%s/none", f->dir);
	setenv("IOGUARD_PIN_DIR", none, 1);
	update(f, 0);
	assert_int_equal(poll_fds(f), 0);
	assert_false(decision_source__used(f->source));
	assert_int_equal(f->log_len, 0);
}

static void test_taken_records_come_from_the_daemons_feed(void **state)
{
	struct fixture *f = *state;
	char want[256];

	serve(f, IOGUARD_FEED_ROLE_DAEMON);
	attach(f);
	snprintf(want, sizeof(want), "policy decisions from the ioguard daemon's feed at %s",
		 f->path);
	expect_said(f, want, 1);
	assert_true(decision_source__used(f->source));
	publish(f, 11);
	publish(f, 12);
	publish(f, 13);
	process_source(f);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->last_pid, 13);
	assert_int_equal(decision_source__count(f->source), 3);
	assert_int_equal(decision_source__lost(f->source), 0);
}

/* The start of a trace waits for the hello: nothing read after it is missed. */
static void test_start_waits_for_the_hello(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	/* A listener that never answers stands for a stuck server. */
	assert_int_equal(mkdir(f->run_dir, 0700), 0);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	update(f, 200);
	expect_said(f, "did not answer within 200 ms", 1);
	assert_int_equal(poll_fds(f), 0);
	close(lfd);
}

static void test_end_of_the_feed_is_said_once_then_retried(void **state)
{
	struct fixture *f = *state;
	char want[256];

	serve(f, IOGUARD_FEED_ROLE_DAEMON);
	attach(f);
	publish(f, 1);
	stop_serving(f);
	process_source(f);
	assert_int_equal(f->n, 1);
	expect_said(f, "the ioguard daemon's feed stopped: the server closed the decision feed at", 1);
	assert_int_equal(poll_fds(f), 0);

	/* Retries while nothing serves stay quiet: the end was said. */
	update(f, 0);
	update(f, 0);
	expect_said(f, "not available", 0);

	/* A trace now holds the records and serves them. */
	serve(f, IOGUARD_FEED_ROLE_TRACE);
	attach(f);
	snprintf(want, sizeof(want), "policy decisions from the feed of ioguard trace (pid %d)",
		 getpid());
	expect_said(f, want, 1);
	publish(f, 2);
	process_source(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->last_pid, 2);
}

static void test_no_feed_says_why_once(void **state)
{
	struct fixture *f = *state;

	update(f, 0);
	update(f, 0);
	expect_said(f, "policy decisions are not available for now: another process", 1);
	expect_said(f, "no decision feed at", 1);
	assert_false(decision_source__used(f->source));
}

static void test_losses_are_reported(void **state)
{
	struct fixture *f = *state;
	unsigned long long missed;
	unsigned int i;

	serve(f, IOGUARD_FEED_ROLE_DAEMON);
	attach(f);
	for (i = 0; !decision_feed_server__missed(f->server); i++) {
		assert_true(i < 100000);
		publish(f, i);
	}
	publish(f, i++);
	missed = decision_feed_server__missed(f->server);
	process_source(f);
	process_server(f);
	process_source(f);
	assert_int_equal(decision_source__lost(f->source), missed);
	assert_int_equal(f->n + missed, i);
	expect_said(f, "were lost because this process did not read them in time", 1);
}

static void test_full_feed_is_explained(void **state)
{
	struct fixture *f = *state;
	struct decision_feed_client *c[DECISION_FEED_MAX_CLIENTS];
	struct errbuf eb = { .note = NULL };
	unsigned int i;

	serve(f, IOGUARD_FEED_ROLE_DAEMON);
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++)
		assert_int_equal(decision_feed_client__connect(f->path, on_decision, f, &c[i],
							       &eb), 0);
	process_server(f);
	attach(f);
	expect_said(f, "not available for now: the decision feed at", 1);
	expect_said(f, "serves at most 16 clients", 1);
	assert_int_equal(poll_fds(f), 0);
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++)
		decision_feed_client__free(c[i]);
}

/* ---- a real pinned ring buffer, on a bpffs of the test's own ------------------------ */

static int setup_bpffs(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ioguard-test-source-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->pins, sizeof(f->pins), "%s/pins", f->dir);
	snprintf(f->run_dir, sizeof(f->run_dir), "%s/run", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->run_dir, DECISION_FEED_SOCKET);
	assert_int_equal(mkdir(f->pins, 0700), 0);
	f->lock_fd = -1;
	if (mount("bpf", f->pins, "bpf", 0, NULL))
		f->bpffs_errno = errno;
	else
		f->bpffs_mounted = true;
	setenv("IOGUARD_PIN_DIR", f->pins, 1);
	setenv("IOGUARD_RUN_DIR", f->run_dir, 1);
	f->source = new_source(IOGUARD_FEED_ROLE_DAEMON, f);
	alarm(TEST_ALARM_S);
	*state = f;
	return 0;
}

static int teardown_bpffs(void **state)
{
	struct fixture *f = *state;

	/* The source first: it holds the maps and a lock in the mount. */
	decision_source__free(f->source);
	f->source = NULL;
	if (f->bpffs_mounted)
		umount2(f->pins, MNT_DETACH);
	return teardown(state);
}

/* What `ioguard load` pins: a `decisions` ring buffer and a `policies` map; returns its id. */
static __u32 pin_maps(struct fixture *f)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[160];
	int rb_fd, pol_fd;

	/* No names: libbpf would probe for name support with a load valgrind flags. */
	rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 4096, NULL);
	pol_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 2, NULL);
	if (rb_fd < 0 || pol_fd < 0)
		fail_msg("cannot create the maps: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/decisions", f->pins);
	assert_int_equal(bpf_obj_pin(rb_fd, path), 0);
	snprintf(path, sizeof(path), "%s/policies", f->pins);
	assert_int_equal(bpf_obj_pin(pol_fd, path), 0);
	assert_int_equal(bpf_obj_get_info_by_fd(rb_fd, &info, &len), 0);
	close(rb_fd);
	close(pol_fd);
	return info.id;
}

/* What `ioguard unload` does to them. */
static void unpin_maps(struct fixture *f)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/decisions", f->pins);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/policies", f->pins);
	assert_int_equal(unlink(path), 0);
}

/*
 * Finding 13: after `ioguard unload` and `ioguard load` the pinned ring buffer is a new
 * map; the source must notice (the map id differs) and read the new one, whether the
 * unload and the load fall in one check interval or in two.
 */
static void test_replaced_records_are_reopened(void **state)
{
	struct fixture *f = *state;
	char from[160];

	if (!f->bpffs_mounted) {
		fprintf(stderr, "SKIP: cannot mount a bpffs at %s: %s\n", f->pins,
			strerror(f->bpffs_errno));
		skip();
	}
	snprintf(from, sizeof(from), "policy decisions from %s/decisions", f->pins);
	pin_maps(f);
	update(f, 0);
	expect_said(f, from, 1);
	/* The ring buffer and the feed's server. */
	assert_int_equal(poll_fds(f), 2);

	/* unload, a check, then load */
	unpin_maps(f);
	usleep(1100 * 1000);
	update(f, 0);
	expect_said(f, "were unpinned or replaced (ioguard unload, then load)", 1);
	assert_int_equal(poll_fds(f), 0);
	pin_maps(f);
	update(f, 0);
	expect_said(f, from, 2);
	assert_int_equal(poll_fds(f), 2);

	/* unload and load between two checks: only the map id tells */
	unpin_maps(f);
	pin_maps(f);
	usleep(1100 * 1000);
	update(f, 0);
	expect_said(f, "were unpinned or replaced (ioguard unload, then load)", 2);
	expect_said(f, from, 3);
	assert_int_equal(poll_fds(f), 2);
	process_source(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_nothing_pinned_says_nothing),
		T(test_taken_records_come_from_the_daemons_feed),
		T(test_start_waits_for_the_hello),
		T(test_end_of_the_feed_is_said_once_then_retried),
		T(test_no_feed_says_why_once),
		T(test_losses_are_reported),
		T(test_full_feed_is_explained),
		cmocka_unit_test_setup_teardown(test_replaced_records_are_reopened, setup_bpffs,
						teardown_bpffs),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
