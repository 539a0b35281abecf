// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ioguard run: the daemon. Enforces a policy file (loading the programs, or adopting the
 * pinned ones), counts and streams IOMMU operations, serves /metrics and /readyz (that
 * policy pinned and in force), reloads the policy on SIGHUP and when the file changes,
 * and logs events and decisions as JSON Lines.
 *
 * Threads, and what each touches:
 * - the loop below owns the tracer's ring buffer, the decision source (the pinned
 *   records, served to other ioguard processes on the decision feed), the reloader and
 *   the watch's eventfd. It never looks at the policy path: it reads eventfds and
 *   commits compiled policies, so a file system that stops answering under the policy
 *   file cannot keep it from draining, serving, reporting deadlines and stopping.
 * - libmicrohttpd's thread renders scrapes and answers /readyz. It shares the tracer
 *   (its maps are read, never changed, by a scrape), the reloader's counters and the
 *   daemon's record of the policy it put in force, which the loop changes only under
 *   http_server__lock(); the reload itself runs outside that lock.
 * - a reload's worker (policy_apply.h) reads, checks and compiles the file. It shares
 *   nothing with the loop but its job, under the job's own lock, and never takes the
 *   server lock; the loop commits the result. A stuck one is reported once it misses
 *   its deadline and left behind.
 * - the policy watch's thread (policy_watch.h) does every lookup of the path (stat,
 *   readlink, inotify watches) and makes the watch's eventfd readable when the file may
 *   have changed; the loop then starts a reload, not forced (skipped when the SHA-256
 *   is unchanged). It shares only its own state, under its own lock, never held with
 *   another. On exit the loop waits for it at most POLICY_WATCH_STOP_MS and never joins
 *   one stuck in a lookup: that one is left behind and frees its own state.
 * - the topology watch's thread (topology_watch.h) rereads the IOMMU groups on kernel
 *   uevents and rescans, and queues what changed; the loop takes the queue, logs and
 *   counts each change (the counts under the server lock). The groups the policy names
 *   come from the stamp written when it was put in force (topology_record.h), which
 *   the loop rereads after each load.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "output/abi_names.h"
#include "metrics/collect.h"
#include "decisions/decision_source.h"
#include "prog/enforcer.h"
#include "output/dma_fault.h"
#include "output/event.h"
#include "metrics/http_server.h"
#include "cli.h"
#include "metrics/metrics_service.h"
#include "prog/pins.h"
#include "policy/policy_apply.h"
#include "policy/policy_watch.h"
#include "host/topology_watch.h"
#include "prog/tracer.h"
#include "output/clock.h"
#include "cli.h"
#include "metrics/snapshot.h"

#define TICK_MS 200
/* A change on disk is applied once the file has been quiet this long. */
#define SETTLE_MS 200
#define DEFAULT_INTERVAL_S 15
#define MAX_INTERVAL_S (24 * 3600)
#define MAX_SAMPLE_EVERY 1000000
/* At start, how long to wait for the hello of a feed (a trace holds the records). */
#define FEED_READY_MS 1000

struct daemon {
	/* Settings */
	const char *policy_path;
	const char *listen;
	const char *textfile;
	unsigned long interval_s;
	bool unload_on_exit;
	bool no_events;
	struct tracer_opts topts;
	struct policy_load_opts popts;

	/* State owned by the loop */
	struct policy_reloader reloader;
	struct tracer *tracer;
	struct ring_buffer *rb;
	struct decision_source *decisions;
	struct event_printer *printer;
	struct json_writer *log;
	struct metrics_service *metrics;
	int signal_fd;
	struct policy_watch *watch;
	bool change_pending;
	struct timespec change_seen;
	const char *reload_why;		/* of the reload in flight */
	/* Asked for while one is in flight: started when it is over. */
	bool reload_queued;
	bool queued_force;
	const char *queued_why;

	struct topology_watch *topo_watch;
	struct topology_record stamp;	/* the policy in force's: its named groups */
	bool stamp_valid;		/* stamp is that policy's; false: every group counts */

	/* Read by scrapes and /readyz, under the server lock */
	unsigned long long topology_changes[TOPOLOGY_CHANGE_KIND_COUNT];
	/*
	 * The policy this daemon last put in force (first load, or a reload that
	 * succeeded): /readyz is 200 only while the pinned enforcement has this one. A
	 * copy, not the reloader's: the loop commits a reload without the server lock.
	 */
	uint8_t own_hash[POLICY_HASH_SIZE];
	char own_name[POLICY_NAME_MAX + 1];
	struct collect_ctx collect;
};

static void run_help(void)
{
	char feed[DECISION_FEED_PATH_MAX];

	if (decision_feed_path(feed, sizeof(feed)))
		snprintf(feed, sizeof(feed), "%s/%s", DECISION_FEED_RUN_DIR, DECISION_FEED_SOCKET);
	fprintf(stderr,
		"Usage: %s run --policy FILE [OPTIONS]\n\n"
		"The ioguard daemon (docs/daemon.md). Makes FILE the policy in force (loading the\n"
		"enforcement programs, or swapping the policy of the pinned ones), counts and\n"
		"streams IOMMU operations, serves /metrics, and logs every event, policy\n"
		"decision and IOMMU topology change (a device joining or leaving a group, a\n"
		"driver change in a group FILE names) as one JSON object a line on stdout.\n"
		"SIGHUP, or a change of FILE, reloads the policy atomically; a file that fails\n"
		"to load is reported and the policy in force stays. SIGTERM or SIGINT stop the\n"
		"daemon and leave enforcement pinned.\n\n"
		"GET /readyz answers 200 while the policy the daemon last loaded from FILE is\n"
		"pinned and in force, and 503 with the reason otherwise (nothing pinned, another\n"
		"policy in force, the pins unreadable): a readiness probe.\n\n"
		"The daemon serves the decision records to 'ioguard trace' on the root-only\n"
		"socket %s (directory from $IOGUARD_RUN_DIR).\n\n"
		"Options:\n"
		"  -P, --policy FILE     the policy file (required)\n"
		"  -l, --listen ADDR     serve /metrics and /readyz on ADDR: IPv4:PORT or\n"
		"                        [IPv6]:PORT (default %s unless\n"
		"                        only --textfile is given)\n"
		"  -t, --textfile PATH   also write the metrics to PATH atomically\n"
		"  -i, --interval SEC    rewrite the textfile every SEC seconds (default %d)\n"
		"  -u, --unload-on-exit  remove the enforcement on exit (default: it stays)\n"
		"      --no-events       log policy decisions only, not IOMMU events\n"
		"  -s, --sample N        log 1 of every N map/unmap events (counts stay exact)\n"
		"  -m, --mode MODE       attach mode: auto (default), fentry or tp_btf\n"
		"      --no-owner-check  accept a FILE not owned by root or writable by others\n"
		"  -v, --verbose         show libbpf's messages\n"
		"  -h, --help            this text\n",
		bin_name, feed, HTTP_SERVER_DEFAULT_LISTEN, DEFAULT_INTERVAL_S);
}

/*
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (Type=notify). A
 * missing socket means we do not run under systemd; errors are ignored, as libsystemd's.
 */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

static int64_t realtime_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct ioguard_event e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	dma_fault_event_resolve(&e, "/");
	event_printer__json(d->printer, d->log, &e);
	return 0;
}

static void on_decision(void *ctx, const struct ioguard_decision *dec, const char *tenant)
{
	struct daemon *d = ctx;

	event_printer__decision_json(d->printer, d->log, dec, tenant);
}

/* The daemon's own series: its reloads and the topology changes; under the lock. */
static int add_daemon_metrics(void *ctx, struct metrics_snapshot *s)
{
	struct daemon *d = ctx;
	int k, err;

	err = policy_reloader__add_metrics(&d->reloader, s);
	for (k = 0; k < TOPOLOGY_CHANGE_KIND_COUNT && !err; k++)
		err = metrics_snapshot__add_topology_changes(s, topology_change_kind__str(k),
							     d->topology_changes[k]);
	return err;
}

/* The policy the reloader has in force becomes the one /readyz expects; under the lock. */
static void own_policy_set(struct daemon *d)
{
	memcpy(d->own_hash, d->reloader.hash, sizeof(d->own_hash));
	snprintf(d->own_name, sizeof(d->own_name), "%s", d->reloader.name);
}

/*
 * /readyz, under the server lock: ready exactly when the pinned enforcement has a
 * policy in force (as ioguard_enforcement_active says) and it is the one this daemon
 * loaded last, by SHA-256. The pinned state is read as a scrape reads it, and any
 * error reading it is not ready.
 */
static int check_ready(void *ctx, char *why, size_t len)
{
	struct daemon *d = ctx;
	struct enforcer_status st;
	struct enforcer_in_force f;
	struct errbuf eb = { .note = NULL };
	char own[2 * POLICY_HASH_SIZE + 1];
	int err;

	err = enforcer_status_brief(&st, &eb);
	if (err) {
		snprintf(why, len, "not ready: %s", eb.msg);
		return err;
	}
	enforcer_status__in_force(&st, &f);
	enforcer_status__clear(&st);
	policy_hash_hex(d->own_hash, own);
	if (!f.active && st.pinned && st.slot.loaded && st.missing_hook) {
		snprintf(why, len, "not ready: no policy is in force (%s has no link in the "
			 "enforcement pinned in %s); this daemon loaded policy %s sha256 %s from "
			 "%s, SIGHUP puts it back", st.missing_hook, pins_dir(),
			 d->own_name, own, d->policy_path);
		return 0;
	}
	if (!f.active) {
		snprintf(why, len, "not ready: no policy is in force (%s %s); this daemon "
			 "loaded policy %s sha256 %s from %s, SIGHUP puts it back",
			 st.pinned ? "no active policy in the enforcement pinned in" :
				     "no enforcement is pinned in",
			 pins_dir(), d->own_name, own, d->policy_path);
		return 0;
	}
	if (memcmp(f.hash, d->own_hash, sizeof(d->own_hash))) {
		snprintf(why, len, "not ready: policy %s sha256 %s is in force, not policy %s "
			 "sha256 %s that this daemon loaded from %s; SIGHUP puts it back",
			 f.name, f.sha256, d->own_name, own, d->policy_path);
		return 0;
	}
	snprintf(why, len, "ready: policy %s sha256 %s in force (mode %s)", f.name, f.sha256,
		 abi_mode_name(f.mode));
	return 1;
}

static int write_textfile(struct daemon *d)
{
	struct errbuf eb = CLI_ERRBUF;
	int err;

	err = metrics_service__write_textfile(d->metrics, d->textfile, &eb);
	if (err)
		p_errbuf(&eb);
	return err;
}

/*
 * The groups the policy in force names, from its stamp. Without a stamp of that policy
 * (none, unreadable, or another policy's: a stamp write failed after a swap) the named
 * groups are unknown, so a driver change in any group is reported.
 */
static void load_stamp(struct daemon *d)
{
	char path[4096], hex[2 * POLICY_HASH_SIZE + 1];
	int err;

	d->stamp_valid = false;
	err = topology_stamp_path(path, sizeof(path));
	if (!err)
		err = topology_stamp_read(path, &d->stamp);
	policy_hash_hex(d->reloader.hash, hex);
	if (!err && strcmp(d->stamp.policy_sha256, hex))
		err = -ESTALE;
	if (err) {
		p_warn("the topology policy %s was checked against is not recorded (%s: %s): "
		       "driver changes are reported in every group", d->reloader.name, path,
		       err == -ESTALE ? "the stamp is another policy's" : strerror(-err));
		return;
	}
	d->stamp_valid = true;
}

/* Counts and reports a reload that is over, or has missed its deadline. */
static void end_reload(struct daemon *d, int ret, const char *why)
{
	metrics_service__lock(d->metrics);
	policy_reloader__count(&d->reloader, ret);
	if (!ret)
		own_policy_set(d);
	metrics_service__unlock(d->metrics);
	if (ret == 1)
		p_info("%s: %s is unchanged (same sha256); nothing to do", why, d->policy_path);
	else if (!ret)
		p_info("%s: policy %s from %s is in force", why, d->reloader.name, d->policy_path);
	if (!ret)
		load_stamp(d);
	else if (ret == -ETIMEDOUT)
		p_warn("%s: %s was not reloaded in time (see above); policy %s stays in force",
		       why, d->policy_path, d->reloader.name);
	else
		p_warn("%s: %s was refused (see above); policy %s stays in force", why,
		       d->policy_path, d->reloader.name);
	notify_systemd("READY=1");
}

/*
 * Starts a reload on the reloader's worker. While one is in flight (a read stuck on a
 * hung file system can be in flight for good), later ones are coalesced into one that
 * starts when it is over: a forced one if any of them was.
 */
static void start_reload(struct daemon *d, bool force, const char *why)
{
	int ret;

	if (policy_reloader__busy(&d->reloader)) {
		d->reload_queued = true;
		d->queued_force |= force;
		d->queued_why = why;
		return;
	}
	notify_systemd("RELOADING=1");
	/*
	 * Neither the worker (the file, sysfs, cgroups) nor the commit in check_reload()
	 * (kallsyms, membarrier) takes the server lock: a slow or stuck file system must
	 * not stall scrapes. They read only the counters, which change under the lock;
	 * the kernel side swaps atomically.
	 */
	ret = policy_reloader__start(&d->reloader, force);
	if (ret) {
		p_err("%s: cannot start reloading %s: %s", why, d->policy_path, strerror(-ret));
		end_reload(d, ret, why);
		return;
	}
	d->reload_why = why;
}

/* Commits and reports the reload in flight once its worker is done, or past its deadline. */
static void check_reload(struct daemon *d)
{
	int ret, result = 0;

	if (!policy_reloader__busy(&d->reloader))
		return;
	ret = policy_reloader__finish(&d->reloader, &result);
	if (ret == -EINPROGRESS)
		return;
	/* -ECANCELED: a stuck read returned at last; reported, nothing to count. */
	if (!ret || ret == -ETIMEDOUT)
		end_reload(d, result, d->reload_why);
	if (!policy_reloader__busy(&d->reloader) && d->reload_queued) {
		d->reload_queued = false;
		start_reload(d, d->queued_force, d->queued_why);
		d->queued_force = false;
	}
}

/*
 * Only reads the watch's eventfd: the lookups of the path that tell a change (stat,
 * readlink, inotify_add_watch) run on the watch's thread, so a hung file system under
 * the policy path cannot hold up the loop here either.
 */
static void check_policy_watch(struct daemon *d)
{
	if (!policy_watch__changed(d->watch))
		return;
	d->change_pending = true;
	clock_gettime(CLOCK_MONOTONIC, &d->change_seen);
}

static void log_topology_change(struct daemon *d, const struct topology_change *c)
{
	char line[256], when[40];
	struct timespec now;
	struct tm tm;

	topology_change__describe(c, line, sizeof(line));
	p_warn("topology changed: %s; policy %s was checked against the topology before "
	       "(see '%s status')", line, d->reloader.name, bin_name);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06ldZ",
		 now.tv_nsec / 1000);
	jsonw_start_object(d->log);
	jsonw_string_field(d->log, "time", when);
	jsonw_string_field(d->log, "op", "topology");
	jsonw_string_field(d->log, "kind", topology_change_kind__str(c->kind));
	jsonw_string_field(d->log, "device", c->device);
	jsonw_uint_field(d->log, "group", c->group);
	if (c->kind == TOPOLOGY_DRIVER_CHANGED) {
		jsonw_string_field(d->log, "from", c->from);
		jsonw_string_field(d->log, "to", c->to);
	}
	jsonw_string_field(d->log, "policy", d->reloader.name);
	jsonw_end_object(d->log);
}

/*
 * The changes the watch's thread queued: each logged and counted, driver changes only
 * in the groups the policy in force names.
 */
static void check_topology(struct daemon *d)
{
	struct topology_change *changes;
	char note[256];
	size_t i, n;

	n = topology_watch__take(d->topo_watch, &changes, note, sizeof(note));
	if (note[0])
		p_err("topology watch: %s", note);
	for (i = 0; i < n; i++) {
		const struct topology_change *c = &changes[i];

		if (c->kind == TOPOLOGY_DRIVER_CHANGED && d->stamp_valid &&
		    !topology_record__named(&d->stamp, c->group))
			continue;
		log_topology_change(d, c);
		metrics_service__lock(d->metrics);
		d->topology_changes[c->kind]++;
		metrics_service__unlock(d->metrics);
	}
	free(changes);
}

/* What the options leave out or contradict, the defaults, and the listen address. */
static int check_args(struct daemon *d)
{
	struct errbuf eb = CLI_ERRBUF;

	if (!d->policy_path) {
		p_err("run needs --policy FILE: the policy the daemon enforces; see '%s run "
		      "--help'", bin_name);
		return -EINVAL;
	}
	if (d->interval_s && !d->textfile) {
		p_err("--interval sets how often the textfile is rewritten: it needs --textfile");
		return -EINVAL;
	}
	if (d->no_events && d->topts.sample_every) {
		p_err("--sample thins the logged map events, and --no-events logs none: pick one");
		return -EINVAL;
	}
	if (!d->interval_s)
		d->interval_s = DEFAULT_INTERVAL_S;
	if (!d->listen && !d->textfile)
		d->listen = HTTP_SERVER_DEFAULT_LISTEN;
	if (d->listen && http_listen_parse(d->listen, &(struct sockaddr_storage){ 0 },
					   &(socklen_t){ 0 }, &eb)) {
		p_errbuf(&eb);
		return -EINVAL;
	}
	d->topts.no_events = d->no_events;
	return 0;
}

/*
 * The options into @d. Returns 0, 1 when --help was answered (nothing more to do), or a
 * negative errno after saying why.
 */
static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "unload-on-exit", no_argument, NULL, 'u' },
		{ "no-events", no_argument, NULL, 'E' },
		{ "sample", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "no-owner-check", no_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	int opt;

	while ((opt = getopt_long(argc, argv, ":P:l:t:i:us:m:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'P':
			d->policy_path = optarg;
			break;
		case 'l':
			d->listen = optarg;
			break;
		case 't':
			d->textfile = optarg;
			break;
		case 'i':
			if (parse_uint_arg(optarg, "--interval", 1, MAX_INTERVAL_S, &d->interval_s))
				return -EINVAL;
			break;
		case 'u':
			d->unload_on_exit = true;
			break;
		case 'E':
			d->no_events = true;
			break;
		case 's':
			if (parse_uint_arg(optarg, "--sample", 1, MAX_SAMPLE_EVERY, &v))
				return -EINVAL;
			d->topts.sample_every = v;
			break;
		case 'm':
			if (cli_parse_mode(optarg, &d->topts.mode))
				return -EINVAL;
			break;
		case 'O':
			d->popts.skip_owner_check = true;
			break;
		case 'v':
			d->topts.verbose = true;
			break;
		case 'h':
			run_help();
			return 1;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s'; see '%s run --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	return check_args(d);
}


/*
 * Handles what the signal fd holds; returns true when the daemon must stop. SIGHUPs are
 * coalesced: however many arrived, one reload per loop pass, after the fd is drained,
 * and none when a stop came with them. A storm of them cannot keep the loop from
 * draining the ring buffers or from seeing SIGTERM.
 */
static bool read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;
	bool stop = false, hup = false;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hup = true;
		else
			stop = true;
	}
	if (hup && !stop)
		start_reload(d, true, "SIGHUP");
	return stop;
}

static int main_loop(struct daemon *d)
{
	struct pollfd fds[5 + DECISION_SOURCE_MAX_FDS];
	struct timespec last_write;
	int err = 0, n, nfds;

	fds[0] = (struct pollfd){ .fd = ring_buffer__epoll_fd(d->rb), .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = d->signal_fd, .events = POLLIN };
	/* Readable when the watch's thread saw the file change; reading it is all we do. */
	fds[2] = (struct pollfd){ .fd = policy_watch__fd(d->watch), .events = POLLIN };
	/* Readable when a reload's worker is done; its deadline is checked every tick. */
	fds[3] = (struct pollfd){ .fd = policy_reloader__fd(&d->reloader), .events = POLLIN };
	/* Readable when the topology watch's thread queued changes or a note. */
	fds[4] = (struct pollfd){ .fd = topology_watch__fd(d->topo_watch), .events = POLLIN };
	clock_gettime(CLOCK_MONOTONIC, &last_write);
	for (;;) {
		/* The source's fds change when it takes the records or a feed. */
		nfds = 5 + decision_source__fds(d->decisions, &fds[5]);
		n = poll(fds, nfds, TICK_MS);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			p_err("poll failed: %s", strerror(errno));
			break;
		}
		/* Ring buffers first: records of the last moments before a stop are kept. */
		err = ring_buffer__consume(d->rb);
		if (err < 0) {
			p_err("reading the ring buffers failed: %s", strerror(-err));
			break;
		}
		err = 0;
		decision_source__process(d->decisions);
		fflush(stdout);
		if (fds[1].revents & POLLIN && read_signals(d))
			break;
		if (fds[2].revents & POLLIN)
			check_policy_watch(d);
		if (d->change_pending && elapsed_ms(&d->change_seen) >= SETTLE_MS) {
			d->change_pending = false;
			start_reload(d, false, "file changed");
		}
		check_reload(d);
		if (fds[4].revents & POLLIN)
			check_topology(d);
		/* Takes the records (or a feed) when it has neither; reports changes itself. */
		decision_source__update(d->decisions, 0);
		if (d->textfile && elapsed_ms(&last_write) >= (long)d->interval_s * 1000) {
			clock_gettime(CLOCK_MONOTONIC, &last_write);
			/* A failure was reported; the next interval tries again. */
			write_textfile(d);
		}
	}
	ring_buffer__consume(d->rb);
	decision_source__process(d->decisions);
	fflush(stdout);
	return err;
}

/*
 * Signals are read from a signalfd by the loop, never delivered asynchronously; the
 * caller puts *@old_mask back whatever this returns.
 */
static int open_signals(struct daemon *d, sigset_t *old_mask)
{
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, old_mask);
	/* A closed stdout (the log reader went away) is an error to report, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0) {
		err = -errno;
		p_err("cannot create a signalfd: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* The first load of the policy file; on failure nothing of it is in force. */
static int load_policy(struct daemon *d)
{
	struct policy_apply_opts aopts = { .sz = sizeof(aopts), .load = &d->popts };
	struct errbuf eb = CLI_ERRBUF;
	int err;

	err = policy_reloader__init(&d->reloader, d->policy_path, &aopts, &eb);
	if (err) {
		p_err("cannot set up reloading %s: %s", d->policy_path, strerror(-err));
		return err;
	}
	return policy_reloader__load(&d->reloader);
}

/*
 * The watches of the policy file and of the IOMMU topology, with the policy in force
 * announced between them. A change between the load and the watch is missed until the
 * next one or SIGHUP.
 */
static int start_watches(struct daemon *d)
{
	char msg[512];
	int err;

	err = policy_watch__new(d->policy_path, NULL, &d->watch);
	if (err == -ETIMEDOUT) {
		p_err("cannot watch %s for changes: resolving it did not finish within %d ms (is "
		      "its file system hung? an NFS hard mount or a FUSE server that does not "
		      "answer)", d->policy_path, POLICY_WATCH_SETUP_MS);
		return err;
	} else if (err) {
		p_err("cannot watch %s for changes: %s", d->policy_path, strerror(-err));
		return err;
	}
	if (policy_watch__polling(d->watch))
		p_warn("this kernel has no inotify (CONFIG_INOTIFY_USER): %s is checked for "
		       "changes every %d ms instead", d->policy_path, POLICY_WATCH_INTERVAL_MS);
	/* No server yet, so no lock. */
	own_policy_set(d);
	p_info("policy %s from %s is in force (pins in %s)", d->reloader.name, d->policy_path,
	       pins_dir());
	load_stamp(d);
	err = topology_watch__new(NULL, &d->topo_watch, msg, sizeof(msg));
	if (err) {
		p_err("cannot watch the IOMMU topology: %s", msg);
		return err;
	}
	if (!topology_watch__uevents(d->topo_watch))
		p_warn("%s: the IOMMU groups are reread every %d ms instead", msg,
		       TOPOLOGY_WATCH_RESCAN_MS);
	else
		p_info("watching the IOMMU topology (kernel uevents, and a rescan every %d ms)",
		       TOPOLOGY_WATCH_RESCAN_MS);
	return 0;
}

/* The metrics service (not serving yet), the event printer and the log writer. */
static int open_outputs(struct daemon *d)
{
	struct metrics_service_opts mopts = {
		.sz = sizeof(mopts),
		.collect = &d->collect,
		.add_metrics = add_daemon_metrics,
		.ready = check_ready,
		.ctx = d,
	};
	int err;

	err = metrics_service__new(&mopts, &d->metrics, NULL);
	d->printer = event_printer__new(realtime_offset_ns());
	d->log = jsonw_new(stdout);
	if (err || !d->printer || !d->log) {
		p_err("cannot allocate the daemon's state: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

/* What open_outputs() made; any of it may not be there. */
static void close_outputs(struct daemon *d)
{
	jsonw_destroy(d->log);
	event_printer__free(d->printer);
	metrics_service__free(d->metrics);
}

/* The tracer with its ring buffer, and the decision source (records or a feed). */
static int open_sources(struct daemon *d)
{
	struct errbuf eb = CLI_ERRBUF;
	char description[1024];
	int err;

	cli_libbpf_messages(d->topts.verbose);
	err = tracer__open(&d->topts, &d->tracer, &eb);
	if (err) {
		p_errbuf(&eb);
		return err;
	}
	d->collect.tracer = d->tracer;
	d->rb = ring_buffer__new(tracer__events_fd(d->tracer), on_event, d, NULL);
	if (!d->rb) {
		err = -errno;
		p_err("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}
	d->decisions = decision_source__new(IOGUARD_FEED_ROLE_DAEMON, on_decision, d, &eb);
	if (!d->decisions) {
		p_err("cannot allocate the decision source: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	decision_source__update(d->decisions, FEED_READY_MS);
	tracer__describe(d->tracer, description, sizeof(description));
	p_info("tracing, %s%s", description,
	       d->no_events ? "; events are counted, not logged" : "");
	return 0;
}

/* What open_sources() opened, in reverse; any of it may not be there. */
static void close_sources(struct daemon *d)
{
	ring_buffer__free(d->rb);
	decision_source__free(d->decisions);
	tracer__free(d->tracer);
}

/* The first textfile and the server, as the options ask. */
static int start_exports(struct daemon *d)
{
	struct http_server_opts hopts = { .sz = sizeof(hopts) };
	struct errbuf eb = CLI_ERRBUF;
	int err;

	if (d->textfile) {
		err = write_textfile(d);
		if (err)
			return err;
		p_info("writing %s every %lu s", d->textfile, d->interval_s);
	}
	if (d->listen) {
		hopts.listen = d->listen;
		err = metrics_service__serve(d->metrics, &hopts, &eb);
		if (err) {
			p_errbuf(&eb);
			return err;
		}
		p_info("serving metrics on http://%s/metrics, readiness on http://%s/readyz",
		       metrics_service__address(d->metrics), metrics_service__address(d->metrics));
	}
	return 0;
}

/* After the loop: stops serving before the tracer and the reloader it reads go. */
static void stop_exports(struct daemon *d)
{
	__u64 lost[IOGUARD_LOST_REASON_COUNT];

	notify_systemd("STOPPING=1");
	metrics_service__free(d->metrics);
	d->metrics = NULL;
	tracer__lost(d->tracer, lost);
	if (lost[IOGUARD_LOST_RINGBUF_FULL])
		p_warn("%llu events lost because the ring buffer was full",
		       (unsigned long long)lost[IOGUARD_LOST_RINGBUF_FULL]);
}

/* The enforcement stays pinned, or goes with --unload-on-exit; returns @err or -EIO. */
static int leave_enforcement(const struct daemon *d, int err)
{
	struct errbuf eb = { .note = NULL };

	if (!d->unload_on_exit) {
		p_info("exiting; policy %s stays in force, pinned in %s ('%s unload' removes it)",
		       d->reloader.name, pins_dir(), bin_name);
		return err;
	}
	if (enforcer_unload(&eb)) {
		p_err("--unload-on-exit: %s", eb.msg);
		return err ?: -EIO;
	}
	p_info("enforcement removed (--unload-on-exit)");
	return err;
}

int do_run(int argc, char **argv)
{
	struct daemon d = {
		.topts = { .sz = sizeof(d.topts) },
		.popts = { .sz = sizeof(d.popts) },
		.collect = { .sz = sizeof(d.collect) },
		.signal_fd = -1,
	};
	sigset_t old_mask;
	int err;

	err = parse_args(&d, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = bpf_environment_check();
	if (err)
		return err;
	err = open_signals(&d, &old_mask);
	if (err)
		goto out_sigmask;
	err = load_policy(&d);
	if (err)
		goto out_fds;
	err = start_watches(&d);
	if (err)
		goto out_unload;
	err = open_outputs(&d);
	if (err)
		goto out_outputs;
	err = open_sources(&d);
	if (err)
		goto out_sources;
	err = start_exports(&d);
	if (err)
		goto out_sources;
	notify_systemd("READY=1");
	err = main_loop(&d);
	stop_exports(&d);
out_sources:
	close_sources(&d);
out_outputs:
	close_outputs(&d);
out_unload:
	err = leave_enforcement(&d, err);
out_fds:
	/*
	 * A reload or a watch stuck in the kernel is left behind (the watch after at most
	 * POLICY_WATCH_STOP_MS): neither touches anything of the daemon's any more.
	 */
	policy_reloader__fini(&d.reloader);
	policy_watch__free(d.watch);
	topology_watch__free(d.topo_watch);
	topology_record__fini(&d.stamp);
	close(d.signal_fd);
out_sigmask:
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return err;
}
