// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests of src/ioguard/decisions/decision_feed.c: server and clients in one process, on a socket in
 * a temporary directory. Records arrive whole with their tenant, every client gets every
 * record, a client that never reads costs the server nothing but a count and later gets
 * a loss record, the 17th client and other users are refused, a stale socket is replaced
 * and a live one kept, modes are 0700/0600, and records of another version, malformed
 * records or garbage from a client are refused without harm.
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
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "decisions/decision_feed.h"

/* A test that blocks instead of counting a loss fails by this alarm, not by hanging. */
#define TEST_ALARM_S 60
#define MAX_SEEN 8192
#define NOBODY 65534

struct seen {
	struct ioguard_decision d;
	char tenant[IOGUARD_NAME_LEN];
	bool has_tenant;
	unsigned long long lost_before;	/* the client's loss count when this arrived */
};

/* What one client received. */
struct recorder {
	struct decision_feed_client *client;
	unsigned int n;
	struct seen seen[MAX_SEEN];
};

struct fixture {
	char dir[64];
	char run_dir[96];
	char path[128];
	struct decision_feed_server *server;
};

static void record(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct recorder *r = ctx;
	struct seen *s;

	assert_true(r->n < MAX_SEEN);
	s = &r->seen[r->n++];
	s->d = *d;
	s->has_tenant = tenant != NULL;
	if (tenant)
		snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
	s->lost_before = r->client ? decision_feed_client__lost(r->client) : 0;
}

static struct ioguard_decision decision(unsigned int i)
{
	struct ioguard_decision d = {
		.ts_ns = 1000000000ULL + i,
		.policy_id = 0x08cfd28a335e6a27ULL,
		.value = 0x40000000ULL + i,
		.pid = 100 + i,
		.uid = 4242,
		.hook = IOGUARD_HOOK_MAP_DMA,
		.decision = IOGUARD_DECISION_DENY,
		.reason = IOGUARD_REASON_IOVA_WINDOW,
		.group = 7,
		.tenant = 1,
		.gen = i & 1,
	};

	snprintf(d.comm, sizeof(d.comm), "vfio_workload");
	snprintf(d.device, sizeof(d.device), "0000:00:03.0");
	return d;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ioguard-test-feed-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->run_dir, sizeof(f->run_dir), "%s/run", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->run_dir, DECISION_FEED_SOCKET);
	alarm(TEST_ALARM_S);
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

	alarm(0);
	decision_feed_server__free(f->server);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers: _x() returns the code, x() asserts success, x_err() expects a failure -- */

static int _start_server(struct fixture *f, struct errbuf *eb)
{
	return decision_feed_server__new(f->path, IOGUARD_FEED_ROLE_DAEMON, &f->server, eb);
}

static void start_server(struct fixture *f)
{
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	int err = _start_server(f, &eb);

	if (err)
		fail_msg("cannot serve the feed at %s: %s (%d)", f->path, why, err);
}

static void start_server_err(struct fixture *f, int want, const char *want_why)
{
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	assert_int_equal(_start_server(f, &eb), want);
	assert_null(f->server);
	if (!strstr(why, want_why))
		fail_msg("why is '%s', expected it to say '%s'", why, want_why);
}

static void process(struct fixture *f)
{
	assert_int_equal(decision_feed_server__process(f->server), 0);
}

/* Connected and greeted: from now on the client gets every record. */
static struct recorder *connect_client(struct fixture *f)
{
	struct recorder *r = calloc(1, sizeof(*r));
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	assert_non_null(r);
	if (decision_feed_client__connect(f->path, record, r, &r->client, &eb))
		fail_msg("connect: %s", why);
	process(f);
	if (decision_feed_client__wait_ready(r->client, 2000, &eb))
		fail_msg("no hello: %s", why);
	assert_true(decision_feed_client__ready(r->client));
	return r;
}

static void free_client(struct recorder *r)
{
	decision_feed_client__free(r->client);
	free(r);
}

static void read_client(struct recorder *r)
{
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	if (decision_feed_client__read(r->client, &eb))
		fail_msg("read: %s", why);
}

static void read_client_err(struct recorder *r, int want, const char *want_why)
{
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	assert_int_equal(decision_feed_client__read(r->client, &eb), want);
	if (!strstr(why, want_why))
		fail_msg("why is '%s', expected it to say '%s'", why, want_why);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

/* A listening socket at @path that is not a feed server: the test plays the server. */
static int raw_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void make_run_dir(struct fixture *f, mode_t mode)
{
	assert_int_equal(mkdir(f->run_dir, mode), 0);
	assert_int_equal(chmod(f->run_dir, mode), 0);
}

/* A socket file nobody listens on: what a killed server leaves. */
static void make_stale_socket(struct fixture *f)
{
	int fd = raw_listen(f->path);

	close(fd);
}

static void header(struct ioguard_feed_header *h, size_t size, unsigned int version,
		   unsigned int type)
{
	h->size = size;
	h->version = version;
	h->type = type;
}

static void send_hello(int fd, unsigned int version)
{
	struct ioguard_feed_hello hello = { .role = IOGUARD_FEED_ROLE_DAEMON, .pid = 1 };

	header(&hello.hdr, sizeof(hello), version, IOGUARD_FEED_HELLO);
	assert_int_equal(send(fd, &hello, sizeof(hello), 0), sizeof(hello));
}

/* The peer closed @fd: its records, perhaps a reset, then the end of the stream. */
static bool ended(int fd)
{
	char buf[IOGUARD_FEED_MAX_RECORD];
	ssize_t n;
	int i;

	for (i = 0; i < 8; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return true;
		if (n < 0 && errno != ECONNRESET)
			return false;
	}
	return false;
}

static bool same_decision(const struct ioguard_decision *a, const struct ioguard_decision *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- records ----------------------------------------------------------------------- */

static void test_records_arrive_whole_with_tenant(void **state)
{
	struct fixture *f = *state;
	char long_name[IOGUARD_NAME_LEN];
	struct ioguard_decision d[3] = { decision(0), decision(1), decision(2) };
	struct recorder *r;

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	d[1].tenant = IOGUARD_NO_TENANT;
	d[1].device[0] = '\0';
	d[1].group = -1;
	start_server(f);
	r = connect_client(f);
	assert_int_equal(decision_feed_client__role(r->client), IOGUARD_FEED_ROLE_DAEMON);
	assert_int_equal(decision_feed_client__server_pid(r->client), getpid());
	decision_feed_server__publish(f->server, &d[0], "lab");
	decision_feed_server__publish(f->server, &d[1], NULL);
	decision_feed_server__publish(f->server, &d[2], long_name);
	read_client(r);

	assert_int_equal(r->n, 3);
	assert_true(same_decision(&r->seen[0].d, &d[0]));
	assert_true(r->seen[0].has_tenant);
	assert_string_equal(r->seen[0].tenant, "lab");
	assert_true(same_decision(&r->seen[1].d, &d[1]));
	assert_false(r->seen[1].has_tenant);
	assert_true(same_decision(&r->seen[2].d, &d[2]));
	assert_string_equal(r->seen[2].tenant, long_name);
	assert_int_equal(decision_feed_client__count(r->client), 3);
	assert_int_equal(decision_feed_client__lost(r->client), 0);
	free_client(r);
}

static void test_every_client_gets_every_record(void **state)
{
	struct fixture *f = *state;
	struct recorder *r[4];
	struct ioguard_decision d;
	unsigned int i, c;

	start_server(f);
	for (c = 0; c < 4; c++)
		r[c] = connect_client(f);
	assert_int_equal(decision_feed_server__clients(f->server), 4);
	for (i = 0; i < 50; i++) {
		d = decision(i);
		decision_feed_server__publish(f->server, &d, "lab");
	}
	for (c = 0; c < 4; c++) {
		read_client(r[c]);
		assert_int_equal(r[c]->n, 50);
		for (i = 0; i < 50; i++)
			assert_int_equal(r[c]->seen[i].d.pid, 100 + i);
		free_client(r[c]);
	}
	assert_int_equal(decision_feed_server__missed(f->server), 0);
}

/* Records published before a client's hello are not its own: it starts at the hello. */
static void test_client_starts_at_its_hello(void **state)
{
	struct fixture *f = *state;
	struct ioguard_decision d = decision(1);
	struct recorder *early, *late;

	start_server(f);
	early = connect_client(f);
	decision_feed_server__publish(f->server, &d, NULL);
	late = connect_client(f);
	d = decision(2);
	decision_feed_server__publish(f->server, &d, NULL);
	read_client(early);
	read_client(late);
	assert_int_equal(early->n, 2);
	assert_int_equal(late->n, 1);
	assert_int_equal(late->seen[0].d.pid, 102);
	free_client(early);
	free_client(late);
}

/*
 * A client that never reads: the server keeps publishing without blocking (the alarm
 * would end the test), counts what the client missed, and tells it once it has room,
 * before the next record. A reading client next to it misses nothing.
 */
static void test_slow_client_gets_a_loss_record(void **state)
{
	struct fixture *f = *state;
	const unsigned int total = 5000;
	struct recorder *slow, *fast;
	struct ioguard_decision d;
	unsigned long long missed;
	unsigned int i;

	start_server(f);
	slow = connect_client(f);
	fast = connect_client(f);
	for (i = 0; i < total; i++) {
		d = decision(i);
		decision_feed_server__publish(f->server, &d, "lab");
		if (i % 16 == 15)
			read_client(fast);
	}
	read_client(fast);
	assert_int_equal(fast->n, total);
	assert_int_equal(decision_feed_client__lost(fast->client), 0);

	missed = decision_feed_server__missed(f->server);
	assert_true(missed > 0);
	assert_true(missed < total);
	assert_int_equal(decision_feed_server__clients(f->server), 2);

	/* The slow client drains; the server sees room and sends the loss record. */
	read_client(slow);
	assert_int_equal(slow->n + missed, total);
	assert_int_equal(decision_feed_client__lost(slow->client), 0);
	process(f);
	read_client(slow);
	assert_int_equal(decision_feed_client__lost(slow->client), missed);

	/* The records it did get are the first ones, in order, without holes. */
	for (i = 0; i < slow->n; i++)
		assert_int_equal(slow->seen[i].d.pid, 100 + i);
	d = decision(total);
	decision_feed_server__publish(f->server, &d, "lab");
	read_client(slow);
	assert_int_equal(slow->seen[slow->n - 1].d.pid, 100 + total);
	assert_int_equal(decision_feed_server__missed(f->server), missed);
	free_client(slow);
	free_client(fast);
}

/* Without a process() in between, the loss record goes out first with the next record. */
static void test_loss_record_precedes_the_next_record(void **state)
{
	struct fixture *f = *state;
	struct recorder *slow;
	struct ioguard_decision d;
	unsigned long long missed;
	unsigned int i, before;

	start_server(f);
	slow = connect_client(f);
	for (i = 0; !decision_feed_server__missed(f->server); i++) {
		assert_true(i < 100000);
		d = decision(i);
		decision_feed_server__publish(f->server, &d, NULL);
	}
	d = decision(i);
	decision_feed_server__publish(f->server, &d, NULL);
	missed = decision_feed_server__missed(f->server);
	assert_int_equal(missed, 2);
	read_client(slow);
	before = slow->n;
	d = decision(777777);
	decision_feed_server__publish(f->server, &d, NULL);
	read_client(slow);
	assert_int_equal(slow->n, before + 1);
	assert_int_equal(slow->seen[before].d.pid, 100 + 777777);
	assert_int_equal(slow->seen[before].lost_before, missed);
	free_client(slow);
}

/* ---- clients the server refuses or drops ------------------------------------------ */

static void test_seventeenth_client_is_refused(void **state)
{
	struct fixture *f = *state;
	struct recorder *r[DECISION_FEED_MAX_CLIENTS];
	struct decision_feed_client *extra;
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	unsigned int i;

	start_server(f);
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++)
		r[i] = connect_client(f);
	assert_int_equal(decision_feed_client__connect(f->path, record, NULL, &extra, &eb), 0);
	process(f);
	assert_int_equal(decision_feed_client__wait_ready(extra, 2000, &eb), -EUSERS);
	if (!strstr(why, "serves at most 16 clients"))
		fail_msg("the 17th client was told '%s'", why);
	decision_feed_client__free(extra);

	/* One leaves: its slot is free for the next. */
	free_client(r[3]);
	process(f);
	assert_int_equal(decision_feed_server__clients(f->server), DECISION_FEED_MAX_CLIENTS - 1);
	r[3] = connect_client(f);
	assert_int_equal(decision_feed_server__clients(f->server), DECISION_FEED_MAX_CLIENTS);
	for (i = 0; i < DECISION_FEED_MAX_CLIENTS; i++)
		free_client(r[i]);
}

/*
 * Clients send nothing: a huge packet, a byte, or a hang-up ends that client; the
 * server and its other clients carry on.
 */
static void test_garbage_from_clients_drops_them(void **state)
{
	struct fixture *f = *state;
	static char big[65536];
	struct ioguard_decision d = decision(5);
	struct recorder *good;
	int huge, tiny, gone;

	start_server(f);
	good = connect_client(f);
	huge = raw_connect(f->path);
	tiny = raw_connect(f->path);
	gone = raw_connect(f->path);
	process(f);
	assert_int_equal(decision_feed_server__clients(f->server), 4);
	memset(big, 0xa5, sizeof(big));
	assert_int_equal(send(huge, big, sizeof(big), 0), sizeof(big));
	assert_int_equal(send(tiny, "x", 1, 0), 1);
	close(gone);
	process(f);
	assert_int_equal(decision_feed_server__clients(f->server), 1);
	decision_feed_server__publish(f->server, &d, "lab");
	read_client(good);
	assert_int_equal(good->n, 1);
	/*
	 * The dropped ones see their hello, then the end: a reset for the one whose data the
	 * server never read, as the kernel reports a close with unread data.
	 */
	assert_true(ended(huge));
	assert_true(ended(tiny));
	close(huge);
	close(tiny);
	free_client(good);
}

static void test_other_users_are_refused(void **state)
{
	struct fixture *f = *state;
	struct decision_feed_client *c;
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	int status, i;
	pid_t pid;

	if (geteuid() != 0) {
		printf("SKIP: needs root, to connect as another uid\n");
		skip();
	}
	start_server(f);
	/* Open the way the modes close, so that only SO_PEERCRED stands in between. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->run_dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		if (decision_feed_client__connect(f->path, record, NULL, &c, &eb))
			_exit(3);
		if (decision_feed_client__wait_ready(c, 5000, &eb) != -EACCES ||
		    !strstr(why, "root-only"))
			_exit(4);
		_exit(0);
	}
	for (i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		process(f);
		usleep(10000);
	}
	assert_true(i < 500);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(decision_feed_server__clients(f->server), 0);
}

/* ---- the socket and its directory ------------------------------------------------- */

static void test_modes_are_root_only(void **state)
{
	struct fixture *f = *state;
	mode_t old = umask(0);
	struct stat st;

	start_server(f);
	/* The server took its 0177 back off: the umask is the one it found. */
	assert_int_equal(umask(old), 0);
	assert_int_equal(lstat(f->run_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_open_directory_is_tightened(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	make_run_dir(f, 0755);
	start_server(f);
	assert_int_equal(lstat(f->run_dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_directory_of_another_user_is_refused(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		printf("SKIP: needs root, to give the directory away\n");
		skip();
	}
	make_run_dir(f, 0700);
	assert_int_equal(chown(f->run_dir, NOBODY, NOBODY), 0);
	start_server_err(f, -EPERM, "belongs to uid 65534");
}

static void test_stale_socket_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct ioguard_decision d = decision(9);
	struct decision_feed_client *c;
	struct recorder *r;
	struct errbuf eb = { .note = NULL };

	make_run_dir(f, 0700);
	make_stale_socket(f);
	assert_int_equal(decision_feed_client__connect(f->path, record, NULL, &c, &eb),
			 -ECONNREFUSED);
	start_server(f);
	r = connect_client(f);
	decision_feed_server__publish(f->server, &d, NULL);
	read_client(r);
	assert_int_equal(r->n, 1);
	free_client(r);
}

static void test_live_socket_is_not_stolen(void **state)
{
	struct fixture *f = *state;
	struct decision_feed_server *second = NULL;
	struct ioguard_decision d = decision(3);
	struct stat before, after;
	struct recorder *r;
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	start_server(f);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(decision_feed_server__new(f->path, IOGUARD_FEED_ROLE_TRACE, &second,
						   &eb), -EADDRINUSE);
	assert_null(second);
	assert_non_null(strstr(why, "another process serves"));
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	/* The probe's connection is dropped by the first server; it still serves. */
	process(f);
	assert_int_equal(decision_feed_server__clients(f->server), 0);
	r = connect_client(f);
	decision_feed_server__publish(f->server, &d, NULL);
	read_client(r);
	assert_int_equal(r->n, 1);
	free_client(r);
}

static void test_something_else_at_the_path_is_kept(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	int fd;

	make_run_dir(f, 0700);
	fd = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	start_server_err(f, -EEXIST, "is not a socket");
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_free_removes_the_socket_and_ends_clients(void **state)
{
	struct fixture *f = *state;
	struct recorder *r;

	start_server(f);
	r = connect_client(f);
	decision_feed_server__free(f->server);
	f->server = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	read_client_err(r, -EPIPE, "closed the decision feed");
	free_client(r);
}

/* A successor's socket at the path (ours was removed by hand) survives our exit. */
static void test_free_keeps_a_successors_socket(void **state)
{
	struct fixture *f = *state;
	int successor;

	start_server(f);
	assert_int_equal(unlink(f->path), 0);
	successor = raw_listen(f->path);
	decision_feed_server__free(f->server);
	f->server = NULL;
	assert_int_equal(access(f->path, F_OK), 0);
	close(successor);
}

static void test_connect_errors(void **state)
{
	struct fixture *f = *state;
	struct decision_feed_client *c = NULL;
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;

	assert_int_equal(decision_feed_client__connect(f->path, record, NULL, &c, &eb), -ENOENT);
	assert_non_null(strstr(why, "no decision feed at"));
	assert_null(c);
}

static void test_path_from_environment(void **state)
{
	char path[DECISION_FEED_PATH_MAX], lng[200];

	unsetenv("IOGUARD_RUN_DIR");
	assert_int_equal(decision_feed_path(path, sizeof(path)), 0);
	assert_string_equal(path, "/run/ioguard/decisions.sock");
	setenv("IOGUARD_RUN_DIR", "/tmp/elsewhere", 1);
	assert_int_equal(decision_feed_path(path, sizeof(path)), 0);
	assert_string_equal(path, "/tmp/elsewhere/decisions.sock");
	memset(lng, 'a', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	setenv("IOGUARD_RUN_DIR", lng, 1);
	assert_int_equal(decision_feed_path(path, sizeof(path)), -ENAMETOOLONG);
	unsetenv("IOGUARD_RUN_DIR");
}

/* ---- what a client refuses ---------------------------------------------------------- */

/* The test plays a server that speaks @version; the client must refuse it. */
static void test_other_version_is_refused(void **state)
{
	struct fixture *f = *state;
	struct decision_feed_client *c;
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	int lfd, sfd;

	make_run_dir(f, 0700);
	lfd = raw_listen(f->path);
	assert_int_equal(decision_feed_client__connect(f->path, record, NULL, &c, &eb), 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	send_hello(sfd, IOGUARD_FEED_VERSION + 1);
	assert_int_equal(decision_feed_client__wait_ready(c, 2000, &eb), -EPROTO);
	if (!strstr(why, "speaks version 2"))
		fail_msg("why is '%s'", why);
	assert_false(decision_feed_client__ready(c));
	decision_feed_client__free(c);
	close(sfd);
	close(lfd);
}

struct bad_record {
	const char *name;
	size_t size;		/* bytes sent */
	__u32 says;		/* the header's size */
	__u16 type;
	int want;
	const char *want_why;
};

static void test_malformed_records_are_refused(void **state)
{
	static const struct bad_record cases[] = {
		{ "size mismatch", sizeof(struct ioguard_feed_decision), 12,
		  IOGUARD_FEED_DECISION, -EPROTO, "says 12 bytes" },
		{ "short decision", 20, 20, IOGUARD_FEED_DECISION, -EPROTO, "decision record of 20" },
		{ "short loss", 12, 12, IOGUARD_FEED_LOST, -EPROTO, "loss record of 12" },
		{ "no header", 4, 4, IOGUARD_FEED_DECISION, -EPROTO, "header-less" },
		{ "too big", 2000, 2000, IOGUARD_FEED_DECISION, -EPROTO, "more than 1024" },
		{ "unknown type", 64, 64, 99, 0, "" },
		{ "longer decision", sizeof(struct ioguard_feed_decision) + 16,
		  sizeof(struct ioguard_feed_decision) + 16, IOGUARD_FEED_DECISION, 0, "" },
	};
	struct fixture *f = *state;
	static char buf[4096];
	struct recorder r = { 0 };
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	size_t i;
	int lfd, sfd;

	make_run_dir(f, 0700);
	lfd = raw_listen(f->path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_record *t = &cases[i];

		memset(&r, 0, sizeof(r));
		assert_int_equal(decision_feed_client__connect(f->path, record, &r, &r.client,
							       &eb), 0);
		sfd = accept(lfd, NULL, NULL);
		assert_true(sfd >= 0);
		send_hello(sfd, IOGUARD_FEED_VERSION);
		memset(buf, 0, sizeof(buf));
		header((struct ioguard_feed_header *)buf, t->says, IOGUARD_FEED_VERSION, t->type);
		assert_int_equal(send(sfd, buf, t->size, 0), t->size);
		eb.msg[0] = '\0';
		if (decision_feed_client__read(r.client, &eb) != t->want ||
		    !strstr(why, t->want_why))
			fail_msg("%s: read said '%s', expected %d '%s'", t->name, why, t->want,
				 t->want_why);
		assert_int_equal(r.n, t->want == 0 && t->type == IOGUARD_FEED_DECISION);
		decision_feed_client__free(r.client);
		close(sfd);
	}
	close(lfd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_records_arrive_whole_with_tenant),
		T(test_every_client_gets_every_record),
		T(test_client_starts_at_its_hello),
		T(test_slow_client_gets_a_loss_record),
		T(test_loss_record_precedes_the_next_record),
		T(test_seventeenth_client_is_refused),
		T(test_garbage_from_clients_drops_them),
		T(test_other_users_are_refused),
		T(test_modes_are_root_only),
		T(test_open_directory_is_tightened),
		T(test_directory_of_another_user_is_refused),
		T(test_stale_socket_is_replaced),
		T(test_live_socket_is_not_stolen),
		T(test_something_else_at_the_path_is_kept),
		T(test_free_removes_the_socket_and_ends_clients),
		T(test_free_keeps_a_successors_socket),
		T(test_connect_errors),
		T(test_path_from_environment),
		T(test_other_version_is_refused),
		T(test_malformed_records_are_refused),
	};
#undef T

	/* A dropped client must never kill the server with SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
