// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ioguard trace: stream IOMMU attach, ownership and map events as they happen. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "decisions/decision_source.h"
#include "output/dma_fault.h"
#include "output/event.h"
#include "cli.h"
#include "prog/tracer.h"
#include "output/clock.h"
#include "cli.h"

#define POLL_TIMEOUT_MS 100
#define MAX_SAMPLE_EVERY 1000000
/* Without decision records, how often to try again (the daemon's feed may come back). */
#define DECISIONS_RETRY_MS 1000
/*
 * How long the start waits for a feed's hello: the feed sends a client only what it
 * reads after the hello, so "tracing" is said once nothing can be missed.
 */
#define FEED_READY_MS 3000

static volatile sig_atomic_t exiting;

struct trace_session {
	/* Settings */
	struct tracer_opts topts;
	unsigned long duration_s;	/* 0: until a signal */
	bool json;

	/* State */
	struct event_filter filter;
	struct event_printer *printer;
	struct tracer *tracer;
	struct ring_buffer *rb;
	struct decision_source *decisions;	/* NULL when --op leaves out decisions */
	unsigned long long n_events;
	unsigned long long n_decisions;
};

static void trace_help(void)
{
	char feed[DECISION_FEED_PATH_MAX];

	if (decision_feed_path(feed, sizeof(feed)))
		snprintf(feed, sizeof(feed), "%s/%s", DECISION_FEED_RUN_DIR, DECISION_FEED_SOCKET);
	fprintf(stderr,
		"Usage: %s trace [OPTIONS]\n\n"
		"Streams IOMMU attach, DMA-ownership and map events, and the decisions of the\n"
		"enforcement programs when they are loaded: one line (or, with --json, one JSON\n"
		"object) per record. Ctrl-C stops; events lost to a full ring buffer are\n"
		"counted and reported on exit.\n\n"
		"One process at a time reads the decision records and serves them to the\n"
		"others on the root-only socket %s\n"
		"($IOGUARD_RUN_DIR): while the daemon runs, the trace shows the decisions from\n"
		"there.\n\n"
		"Options:\n"
		"  -j, --json           JSON Lines output\n"
		"  -m, --mode MODE      auto (default), fentry or tp_btf\n"
		"  -p, --pid PID        only this process\n"
		"  -g, --group N        only operations of IOMMU group N\n"
		"  -D, --device BDF     only records naming this PCI device, and the maps of its\n"
		"                       IOMMU group\n"
		"  -o, --op NAME[,...]  only these ops: attach_device, detach_device,\n"
		"                       attach_group, detach_group, claim_device, release_device,\n"
		"                       claim_group, release_group, map, unmap, unmap_fast, map_sg,\n"
		"                       io_page_fault, iommufd_bind, iommufd_unbind, iommufd_attach,\n"
		"                       iommufd_detach, dma_fault, decision\n"
		"  -s, --sample N       show 1 of every N map/unmap records (counts stay exact)\n"
		"  -d, --duration SEC   stop after SEC seconds\n"
		"  -v, --verbose        show libbpf's messages\n"
		"  -h, --help           this text\n", bin_name, feed);
}

static void on_signal(int sig)
{
	exiting = 1;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct trace_session *s = ctx;
	struct ioguard_event ev, *e = &ev;

	if (size < sizeof(*e))
		return 0;
	memcpy(e, data, sizeof(*e));
	dma_fault_event_resolve(e, "/");
	if (!event_filter__event(&s->filter, e))
		return 0;
	s->n_events++;
	if (json_output)
		event_printer__json(s->printer, json_wtr, e);
	else
		event_printer__text(s->printer, stdout, e);
	return 0;
}

static void handle_decision(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct trace_session *s = ctx;

	if (!event_filter__decision(&s->filter, d))
		return;
	s->n_decisions++;
	if (json_output)
		event_printer__decision_json(s->printer, json_wtr, d, tenant);
	else
		event_printer__decision_text(s->printer, stdout, d, tenant);
}

static int64_t realtime_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

/* The IOMMU group of a PCI device from sysfs; -ENOENT when it has none. */
static int device_group(const char *bdf, __s32 *group)
{
	char path[PATH_MAX], target[PATH_MAX], *slash;
	ssize_t n;
	long g;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	g = strtol(slash ? slash + 1 : target, NULL, 10);
	if (g < 0 || g > INT_MAX)
		return -ENOENT;
	*group = g;
	return 0;
}

static int parse_device(struct trace_session *s, const char *arg)
{
	if (event_filter__parse_device(&s->filter, arg)) {
		p_err("invalid --device '%s': expected a PCI address such as 0000:00:03.0 or "
		      "00:03.0", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_ops(struct trace_session *s, const char *arg)
{
	struct errbuf why = { .note = NULL };

	if (event_filter__parse_ops(&s->filter, arg, &why)) {
		p_err("invalid --op '%s': %s; see '%s trace --help' for the names", arg, why.msg,
		      bin_name);
		return -EINVAL;
	}
	/* Ops outside the list never reach the ring buffer. */
	s->topts.stream_ops = s->filter.ops;
	s->topts.no_events = !s->filter.ops;
	return 0;
}

/*
 * The options into @s. Returns 0, 1 when --help was answered (nothing more to do), or a
 * negative errno after saying why.
 */
static int parse_args(struct trace_session *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ "pid", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "device", required_argument, NULL, 'D' },
		{ "op", required_argument, NULL, 'o' },
		{ "sample", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	int opt;

	while ((opt = getopt_long(argc, argv, ":jm:p:g:D:o:s:d:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			s->json = true;
			break;
		case 'm':
			if (cli_parse_mode(optarg, &s->topts.mode))
				return -EINVAL;
			break;
		case 'p':
			if (parse_uint_arg(optarg, "--pid", 1, INT_MAX, &v))
				return -EINVAL;
			s->topts.target_tgid = v;
			s->filter.pid = v;
			break;
		case 'g':
			if (parse_uint_arg(optarg, "--group", 0, INT_MAX, &v))
				return -EINVAL;
			s->topts.stream_group = true;
			s->topts.group = v;
			s->filter.group_set = true;
			s->filter.group = v;
			break;
		case 'D':
			if (parse_device(s, optarg))
				return -EINVAL;
			break;
		case 'o':
			if (parse_ops(s, optarg))
				return -EINVAL;
			break;
		case 's':
			if (parse_uint_arg(optarg, "--sample", 1, MAX_SAMPLE_EVERY, &v))
				return -EINVAL;
			s->topts.sample_every = v;
			break;
		case 'd':
			if (parse_uint_arg(optarg, "--duration", 0, 365UL * 24 * 3600,
					   &s->duration_s))
				return -EINVAL;
			break;
		case 'v':
			s->topts.verbose = true;
			break;
		case 'h':
			trace_help();
			return 1;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s'; see '%s trace --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	return 0;
}

/* --device: its IOMMU group's maps are shown too, when it has one here. */
static void resolve_device_group(struct event_filter *f)
{
	if (!f->device[0])
		return;
	f->device_group_set = !device_group(f->device, &f->device_group);
	if (!f->device_group_set)
		p_warn("--device %s: the device has no IOMMU group here; only records naming it "
		       "are shown", f->device);
}

/* The tracer, its ring buffer and (unless --op leaves them out) the decision source. */
static int open_sources(struct trace_session *s)
{
	struct errbuf eb = CLI_ERRBUF;
	int err;

	cli_libbpf_messages(s->topts.verbose);
	err = tracer__open(&s->topts, &s->tracer, &eb);
	if (err) {
		p_errbuf(&eb);
		return err;
	}
	s->rb = ring_buffer__new(tracer__events_fd(s->tracer), handle_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		p_err("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}
	if (s->filter.decisions_off)
		return 0;
	s->decisions = decision_source__new(IOGUARD_FEED_ROLE_TRACE, handle_decision, s, &eb);
	if (!s->decisions) {
		p_err("cannot allocate the decision source: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	decision_source__update(s->decisions, FEED_READY_MS);
	return 0;
}

/* What open_sources() opened, in reverse; any of it may not be there. */
static void close_sources(struct trace_session *s)
{
	ring_buffer__free(s->rb);
	decision_source__free(s->decisions);
	tracer__free(s->tracer);
}

static void print_start(const struct trace_session *s)
{
	char description[1024];

	tracer__describe(s->tracer, description, sizeof(description));
	p_info("tracing, %s; Ctrl-C to stop", description);
	if (s->topts.sample_every > 1)
		p_info("showing 1 of every %u map/unmap records; counts and histograms stay exact",
		       s->topts.sample_every);
	if (!json_output)
		event_printer__text_header(stdout);
	fflush(stdout);
}

/* Until a signal or --duration; then what arrived before the stop is drained too. */
static int trace_loop(struct trace_session *s)
{
	struct pollfd fds[1 + DECISION_SOURCE_MAX_FDS];
	struct timespec start, last_retry;
	int err = 0, nfds;

	clock_gettime(CLOCK_MONOTONIC, &start);
	last_retry = start;
	while (!exiting) {
		fds[0] = (struct pollfd){ .fd = ring_buffer__epoll_fd(s->rb), .events = POLLIN };
		nfds = 1 + (s->decisions ? decision_source__fds(s->decisions, &fds[1]) : 0);
		if (poll(fds, nfds, POLL_TIMEOUT_MS) < 0 && errno != EINTR) {
			err = -errno;
			p_err("poll failed: %s", strerror(errno));
			return err;
		}
		/* After timeouts too: the programs wake readers only in bulk. */
		err = ring_buffer__consume(s->rb);
		if (err < 0 && err != -EINTR) {
			p_err("reading the event ring buffer failed: %s", strerror(-err));
			return err;
		}
		err = 0;
		if (s->decisions) {
			decision_source__process(s->decisions);
			if (elapsed_ms(&last_retry) >= DECISIONS_RETRY_MS) {
				clock_gettime(CLOCK_MONOTONIC, &last_retry);
				decision_source__update(s->decisions, 0);
			}
		}
		fflush(stdout);
		if (s->duration_s && elapsed_ms(&start) >= (long)s->duration_s * 1000)
			break;
	}
	ring_buffer__consume(s->rb);
	if (s->decisions)
		decision_source__process(s->decisions);
	fflush(stdout);
	return 0;
}

/* What was seen, and what was lost on the way: events and decisions. */
static void print_counts(const struct trace_session *s)
{
	__u64 lost[IOGUARD_LOST_REASON_COUNT];
	unsigned long long feed_lost;

	tracer__lost(s->tracer, lost);
	if (lost[IOGUARD_LOST_RINGBUF_FULL])
		p_warn("%llu events seen, %llu lost because the ring buffer was full",
		       s->n_events, (unsigned long long)lost[IOGUARD_LOST_RINGBUF_FULL]);
	else
		p_info("%llu events seen, none lost", s->n_events);
	if (!s->decisions || !decision_source__used(s->decisions))
		return;
	feed_lost = decision_source__lost(s->decisions);
	if (feed_lost)
		p_warn("%llu policy decisions seen, %llu lost because this trace did not read "
		       "the decision feed in time", s->n_decisions, feed_lost);
	else
		p_info("%llu policy decisions seen", s->n_decisions);
}

int do_trace(int argc, char **argv)
{
	struct trace_session s = { .topts = { .sz = sizeof(s.topts) } };
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	err = parse_args(&s, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	if (s.json && cli_json_enable())
		return -ENOMEM;
	resolve_device_group(&s.filter);
	s.printer = event_printer__new(realtime_offset_ns());
	if (!s.printer)
		return -ENOMEM;
	err = bpf_environment_check();
	if (err)
		goto out_printer;
	err = open_sources(&s);
	if (err)
		goto out_sources;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	print_start(&s);
	err = trace_loop(&s);
	if (!err)
		print_counts(&s);
out_sources:
	close_sources(&s);
out_printer:
	event_printer__free(s.printer);
	return err;
}
