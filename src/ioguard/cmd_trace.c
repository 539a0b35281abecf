// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ioguard trace: stream IOMMU attach, ownership and map events as they happen. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "event.h"
#include "ioguard.h"
#include "tracer.h"

#define POLL_TIMEOUT_MS 100

static volatile sig_atomic_t exiting;

struct trace_session {
	struct event_printer *printer;
	unsigned long long events;
};

static void trace_help(void)
{
	fprintf(stderr,
		"Usage: %s trace [OPTIONS]\n\n"
		"Streams IOMMU attach, DMA-ownership and map events: one line (or, with\n"
		"--json, one JSON object) per event. Ctrl-C stops; events lost to a full\n"
		"ring buffer are counted and reported on exit.\n\n"
		"Options:\n"
		"  -j, --json           JSON Lines output\n"
		"  -m, --mode MODE      auto (default), fentry or tp_btf\n"
		"  -p, --pid PID        only this process\n"
		"  -d, --duration SEC   stop after SEC seconds\n"
		"  -v, --verbose        show libbpf's messages\n"
		"  -h, --help           this text\n", bin_name);
}

static void on_signal(int sig)
{
	exiting = 1;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct trace_session *s = ctx;
	const struct ioguard_event *e = data;

	if (size < sizeof(*e))
		return 0;
	s->events++;
	if (json_output)
		event_printer__json(s->printer, json_wtr, e);
	else
		event_printer__text(s->printer, stdout, e);
	return 0;
}

static int parse_uint(const char *arg, const char *what, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v > max) {
		p_err("invalid %s '%s': expected a whole number up to %lu", what, arg, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int64_t realtime_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

int do_trace(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tracer_opts topts = { .sz = sizeof(topts) };
	struct trace_session session = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb = NULL;
	struct tracer *tracer = NULL;
	unsigned long duration = 0, pid;
	struct timespec start, now;
	char description[512];
	uint64_t lost;
	int opt, err;

	while ((opt = getopt_long(argc, argv, ":jm:p:d:vh", options, NULL)) != -1) {
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
			if (parse_uint(optarg, "--pid", INT_MAX, &pid))
				return -EINVAL;
			topts.target_tgid = pid;
			break;
		case 'd':
			if (parse_uint(optarg, "--duration", 365UL * 24 * 3600, &duration))
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
	if (json_output && !json_wtr) {
		json_wtr = jsonw_new(stdout);
		if (!json_wtr)
			return -ENOMEM;
	}

	session.printer = event_printer__new(realtime_offset_ns());
	if (!session.printer)
		return -ENOMEM;
	err = tracer__open(&topts, &tracer);
	if (err)
		goto out_printer;
	rb = ring_buffer__new(tracer__events_fd(tracer), handle_event, &session, NULL);
	if (!rb) {
		err = -errno;
		p_err("cannot open the event ring buffer: %s", strerror(-err));
		goto out_tracer;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	tracer__describe(tracer, description, sizeof(description));
	p_info("tracing, %s; Ctrl-C to stop", description);
	if (!json_output)
		event_printer__text_header(stdout);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!exiting) {
		err = ring_buffer__poll(rb, POLL_TIMEOUT_MS);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0) {
			p_err("reading the event ring buffer failed: %s", strerror(-err));
			goto out_rb;
		}
		err = 0;
		fflush(stdout);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration && now.tv_sec - start.tv_sec >= (time_t)duration)
			break;
	}
	/* Drain what arrived before the stop. */
	ring_buffer__consume(rb);
	fflush(stdout);

	lost = tracer__events_lost(tracer);
	if (lost)
		p_warn("%llu events seen, %llu lost because the ring buffer was full",
		       session.events, (unsigned long long)lost);
	else
		p_info("%llu events seen, none lost", session.events);

out_rb:
	ring_buffer__free(rb);
out_tracer:
	tracer__free(tracer);
out_printer:
	event_printer__free(session.printer);
	return err;
}
