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

#include "decision_source.h"
#include "dma_fault.h"
#include "event.h"
#include "ioguard.h"
#include "tracer.h"

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
	struct event_printer *printer;
	struct event_filter filter;
	unsigned long long events;
	unsigned long long decisions;
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
	s->events++;
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
	s->decisions++;
	if (json_output)
		event_printer__decision_json(s->printer, json_wtr, d, tenant);
	else
		event_printer__decision_text(s->printer, stdout, d, tenant);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
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

int do_trace(int argc, char **argv)
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
	struct tracer_opts topts = { .sz = sizeof(topts) };
	struct trace_session session = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd fds[1 + DECISION_SOURCE_MAX_FDS];
	struct decision_source *decisions = NULL;
	struct ring_buffer *rb = NULL;
	struct tracer *tracer = NULL;
	struct errbuf eb = CLI_ERRBUF;
	unsigned long duration = 0, v;
	struct timespec start, last_retry;
	char description[1024], why[512];
	__u64 lost[IOGUARD_LOST_REASON_COUNT];
	unsigned long long feed_lost;
	int opt, err, nfds;

	while ((opt = getopt_long(argc, argv, ":jm:p:g:D:o:s:d:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				topts.mode = TRACER_MODE_AUTO;
			else if (!strcmp(optarg, "fentry"))
				topts.mode = TRACER_MODE_FENTRY;
			else if (!strcmp(optarg, "tp_btf"))
				topts.mode = TRACER_MODE_TP_BTF;
			else {
				p_err("invalid --mode '%s': expected auto, fentry or tp_btf", optarg);
				return -EINVAL;
			}
			break;
		case 'p':
			if (parse_uint_arg(optarg, "--pid", 1, INT_MAX, &v))
				return -EINVAL;
			topts.target_tgid = v;
			session.filter.pid = v;
			break;
		case 'g':
			if (parse_uint_arg(optarg, "--group", 0, INT_MAX, &v))
				return -EINVAL;
			topts.stream_group = true;
			topts.group = v;
			session.filter.group_set = true;
			session.filter.group = v;
			break;
		case 'D':
			if (event_filter__parse_device(&session.filter, optarg)) {
				p_err("invalid --device '%s': expected a PCI address such as "
				      "0000:00:03.0 or 00:03.0", optarg);
				return -EINVAL;
			}
			break;
		case 'o':
			if (event_filter__parse_ops(&session.filter, optarg, why, sizeof(why))) {
				p_err("invalid --op '%s': %s; see '%s trace --help' for the names",
				      optarg, why, bin_name);
				return -EINVAL;
			}
			/* Ops outside the list never reach the ring buffer. */
			topts.stream_ops = session.filter.ops;
			topts.no_events = !session.filter.ops;
			break;
		case 's':
			if (parse_uint_arg(optarg, "--sample", 1, MAX_SAMPLE_EVERY, &v))
				return -EINVAL;
			topts.sample_every = v;
			break;
		case 'd':
			if (parse_uint_arg(optarg, "--duration", 0, 365UL * 24 * 3600, &duration))
				return -EINVAL;
			break;
		case 'v':
			topts.verbose = true;
			break;
		case 'h':
			trace_help();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s'; see '%s trace --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	if (json_output && cli_json_enable())
		return -ENOMEM;
	if (session.filter.device[0]) {
		session.filter.device_group_set =
			!device_group(session.filter.device, &session.filter.device_group);
		if (!session.filter.device_group_set)
			p_warn("--device %s: the device has no IOMMU group here; only records "
			       "naming it are shown", session.filter.device);
	}

	session.printer = event_printer__new(realtime_offset_ns());
	if (!session.printer)
		return -ENOMEM;
	err = bpf_environment_check();
	if (err)
		goto out_printer;
	err = tracer__open(&topts, &tracer, &eb);
	if (err) {
		p_errbuf(&eb);
		goto out_printer;
	}
	rb = ring_buffer__new(tracer__events_fd(tracer), handle_event, &session, NULL);
	if (!rb) {
		err = -errno;
		p_err("cannot open the event ring buffer: %s", strerror(-err));
		goto out_tracer;
	}
	if (!session.filter.decisions_off) {
		decisions = decision_source__new(IOGUARD_FEED_ROLE_TRACE, handle_decision,
						 &session, &eb);
		if (!decisions) {
			err = -ENOMEM;
			p_err("cannot allocate the decision source: %s", strerror(ENOMEM));
			goto out_rb;
		}
		decision_source__update(decisions, FEED_READY_MS);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	tracer__describe(tracer, description, sizeof(description));
	p_info("tracing, %s; Ctrl-C to stop", description);
	if (topts.sample_every > 1)
		p_info("showing 1 of every %u map/unmap records; counts and histograms stay exact",
		       topts.sample_every);
	if (!json_output)
		event_printer__text_header(stdout);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	last_retry = start;
	while (!exiting) {
		fds[0] = (struct pollfd){ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN };
		nfds = 1 + (decisions ? decision_source__fds(decisions, &fds[1]) : 0);
		if (poll(fds, nfds, POLL_TIMEOUT_MS) < 0 && errno != EINTR) {
			err = -errno;
			p_err("poll failed: %s", strerror(errno));
			goto out_rb;
		}
		/* After timeouts too: the programs wake readers only in bulk. */
		err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			p_err("reading the event ring buffer failed: %s", strerror(-err));
			goto out_rb;
		}
		err = 0;
		if (decisions) {
			decision_source__process(decisions);
			if (elapsed_ms(&last_retry) >= DECISIONS_RETRY_MS) {
				clock_gettime(CLOCK_MONOTONIC, &last_retry);
				decision_source__update(decisions, 0);
			}
		}
		fflush(stdout);
		if (duration && elapsed_ms(&start) >= (long)duration * 1000)
			break;
	}
	/* Drain what arrived before the stop, from the ring buffers and the feed. */
	ring_buffer__consume(rb);
	if (decisions)
		decision_source__process(decisions);
	fflush(stdout);

	tracer__lost(tracer, lost);
	if (lost[IOGUARD_LOST_RINGBUF_FULL])
		p_warn("%llu events seen, %llu lost because the ring buffer was full",
		       session.events, (unsigned long long)lost[IOGUARD_LOST_RINGBUF_FULL]);
	else
		p_info("%llu events seen, none lost", session.events);
	if (decisions && decision_source__used(decisions)) {
		feed_lost = decision_source__lost(decisions);
		if (feed_lost)
			p_warn("%llu policy decisions seen, %llu lost because this trace did not "
			       "read the decision feed in time", session.decisions, feed_lost);
		else
			p_info("%llu policy decisions seen", session.decisions);
	}

out_rb:
	ring_buffer__free(rb);
	decision_source__free(decisions);
out_tracer:
	tracer__free(tracer);
out_printer:
	event_printer__free(session.printer);
	return err;
}
