// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ioguard metrics: serve /metrics, or write the exposition for node_exporter. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "http_server.h"
#include "ioguard.h"
#include "metrics_service.h"
#include "tracer.h"

#define DEFAULT_INTERVAL_S 15
#define MAX_INTERVAL_S (24 * 3600)
#define TICK_MS 200

static volatile sig_atomic_t exiting;

static void metrics_help(void)
{
	fprintf(stderr,
		"Usage: %s metrics [OPTIONS]\n\n"
		"Exports ioguard's metrics in the Prometheus text format (docs/metrics.md).\n"
		"Without --textfile, serves them on http://%s/metrics until stopped.\n\n"
		"Options:\n"
		"  -l, --listen ADDR     serve /metrics on ADDR: IPv4:PORT or [IPv6]:PORT\n"
		"                        (default %s; other addresses are unauthenticated)\n"
		"  -t, --textfile PATH   write the metrics to PATH atomically, for node_exporter's\n"
		"                        textfile collector (PATH should end in .prom)\n"
		"  -1, --once            write one snapshot (to PATH, or to stdout without\n"
		"                        --textfile) and exit\n"
		"  -i, --interval SEC    rewrite the textfile every SEC seconds (default %d)\n"
		"  -m, --mode MODE       attach mode of the counting programs: auto (default),\n"
		"                        fentry or tp_btf\n"
		"      --no-trace        load no BPF program: groups, policy decisions and build\n"
		"                        info only\n"
		"  -v, --verbose         show libbpf's messages\n"
		"  -h, --help            this text\n",
		bin_name, HTTP_SERVER_DEFAULT_LISTEN, HTTP_SERVER_DEFAULT_LISTEN,
		DEFAULT_INTERVAL_S);
}

static void on_signal(int sig)
{
	exiting = 1;
}

static bool is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (http_listen_parse(listen, &ss, &len, NULL))
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

static int write_textfile(struct metrics_service *ms, const char *path)
{
	struct errbuf eb = CLI_ERRBUF;
	int err;

	err = metrics_service__write_textfile(ms, path, &eb);
	if (err)
		p_errbuf(&eb);
	return err;
}

static int print_once(struct metrics_service *ms)
{
	struct buf out = { 0 };
	int err;

	err = metrics_service__render(ms, &out);
	if (err) {
		p_err("cannot collect metrics: %s", strerror(-err));
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
		err = -EIO;
		p_err("cannot write the metrics to stdout: %s", strerror(errno));
	}
out:
	buf__release(&out);
	return err;
}

/* Sleeps up to @ms, waking early when a signal asks to exit. */
static void nap_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int do_metrics(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "no-trace", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct http_server_opts hopts = { .sz = sizeof(hopts) };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *listen = NULL, *textfile = NULL;
	/* Aggregates only: nothing is streamed, every operation is still counted. */
	struct tracer_opts topts = { .sz = sizeof(topts), .no_events = true };
	struct collect_ctx collect = { .sz = sizeof(collect) };
	struct metrics_service_opts mopts = { .sz = sizeof(mopts), .collect = &collect };
	struct metrics_service *ms = NULL;
	struct tracer *tracer = NULL;
	unsigned long interval = 0, waited_ms;
	bool once = false, no_trace = false;
	struct errbuf eb = CLI_ERRBUF;
	int opt, err;

	while ((opt = getopt_long(argc, argv, ":l:t:1i:m:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 't':
			textfile = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'i':
			if (parse_uint_arg(optarg, "--interval", 1, MAX_INTERVAL_S, &interval))
				return -EINVAL;
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
		case 'N':
			no_trace = true;
			break;
		case 'v':
			topts.verbose = true;
			break;
		case 'h':
			metrics_help();
			return 0;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s'; see '%s metrics --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	if (once && listen) {
		p_err("--once writes one snapshot and exits: it cannot be combined with --listen");
		return -EINVAL;
	}
	if (interval && !textfile) {
		p_err("--interval sets how often the textfile is rewritten: it needs --textfile");
		return -EINVAL;
	}
	if (interval && once) {
		p_err("--interval and --once contradict each other: pick one");
		return -EINVAL;
	}
	if (!interval)
		interval = DEFAULT_INTERVAL_S;
	/* Validate the address before collecting anything: a typo fails fast. */
	if (listen && http_listen_parse(listen, &(struct sockaddr_storage){ 0 },
					&(socklen_t){ 0 }, &eb)) {
		p_errbuf(&eb);
		return -EINVAL;
	}

	if (no_trace && topts.mode != TRACER_MODE_AUTO) {
		p_err("--mode chooses how the counting programs attach: it cannot be combined "
		      "with --no-trace");
		return -EINVAL;
	}

	err = metrics_service__new(&mopts, &ms, &eb);
	if (err) {
		p_errbuf(&eb);
		return err;
	}
	if (!no_trace) {
		char description[1024];

		err = bpf_environment_check();
		if (err)
			goto out_snap;
		err = tracer__open(&topts, &tracer, &eb);
		if (err) {
			p_errbuf(&eb);
			goto out_snap;
		}
		tracer__describe(tracer, description, sizeof(description));
		p_info("counting, %s", description);
		collect.tracer = tracer;
	}
	if (once) {
		err = textfile ? write_textfile(ms, textfile) : print_once(ms);
		goto out_snap;
	}
	/* A daemon: the textfile alone, or the server (default) with an optional textfile. */
	if (textfile) {
		err = write_textfile(ms, textfile);
		if (err)
			goto out_snap;
	}
	if (listen || !textfile) {
		hopts.listen = listen ?: HTTP_SERVER_DEFAULT_LISTEN;
		if (!is_loopback(hopts.listen))
			p_warn("%s is not a loopback address: anyone who can reach it can read "
			       "the metrics", hopts.listen);
		err = metrics_service__serve(ms, &hopts, &eb);
		if (err) {
			p_errbuf(&eb);
			goto out_snap;
		}
		p_info("serving metrics on http://%s/metrics; Ctrl-C to stop",
		       metrics_service__address(ms));
	}
	if (textfile)
		p_info("writing %s every %lu s; Ctrl-C to stop", textfile, interval);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = 0;
	waited_ms = 0;
	while (!exiting) {
		nap_ms(TICK_MS);
		waited_ms += TICK_MS;
		if (!textfile || waited_ms < interval * 1000)
			continue;
		waited_ms = 0;
		/* Keep serving through a transient failure (disk full); it was reported. */
		write_textfile(ms, textfile);
	}
out_snap:
	/* The service first: its server may still be collecting from the tracer. */
	metrics_service__free(ms);
	tracer__free(tracer);
	return err;
}
