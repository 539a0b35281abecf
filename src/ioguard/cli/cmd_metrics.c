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

#include "metrics/collect.h"
#include "metrics/http_server.h"
#include "cli.h"
#include "metrics/metrics_service.h"
#include "prog/tracer.h"
#include "output/buf.h"
#include "cli.h"

#define DEFAULT_INTERVAL_S 15
#define MAX_INTERVAL_S (24 * 3600)
#define TICK_MS 200

static volatile sig_atomic_t exiting;

struct metrics_cmd {
	/* Settings */
	const char *listen;
	const char *textfile;
	unsigned long interval_s;
	bool once;
	bool no_trace;
	struct tracer_opts topts;

	/* State: the service's collector reads the tracer through @collect. */
	struct collect_ctx collect;
	struct metrics_service *ms;
	struct tracer *tracer;
};

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

/* The options that contradict each other, and the listen address, before any work. */
static int check_args(struct metrics_cmd *m)
{
	struct errbuf eb = CLI_ERRBUF;

	if (m->once && m->listen) {
		p_err("--once writes one snapshot and exits: it cannot be combined with --listen");
		return -EINVAL;
	}
	if (m->interval_s && !m->textfile) {
		p_err("--interval sets how often the textfile is rewritten: it needs --textfile");
		return -EINVAL;
	}
	if (m->interval_s && m->once) {
		p_err("--interval and --once contradict each other: pick one");
		return -EINVAL;
	}
	if (!m->interval_s)
		m->interval_s = DEFAULT_INTERVAL_S;
	/* Validate the address before collecting anything: a typo fails fast. */
	if (m->listen && http_listen_parse(m->listen, &(struct sockaddr_storage){ 0 },
					   &(socklen_t){ 0 }, &eb)) {
		p_errbuf(&eb);
		return -EINVAL;
	}
	if (m->no_trace && m->topts.mode != TRACER_MODE_AUTO) {
		p_err("--mode chooses how the counting programs attach: it cannot be combined "
		      "with --no-trace");
		return -EINVAL;
	}
	return 0;
}

/*
 * The options into @m. Returns 0, 1 when --help was answered (nothing more to do), or a
 * negative errno after saying why.
 */
static int parse_args(struct metrics_cmd *m, int argc, char **argv)
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
	int opt;

	while ((opt = getopt_long(argc, argv, ":l:t:1i:m:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			m->listen = optarg;
			break;
		case 't':
			m->textfile = optarg;
			break;
		case '1':
			m->once = true;
			break;
		case 'i':
			if (parse_uint_arg(optarg, "--interval", 1, MAX_INTERVAL_S, &m->interval_s))
				return -EINVAL;
			break;
		case 'm':
			if (cli_parse_mode(optarg, &m->topts.mode))
				return -EINVAL;
			break;
		case 'N':
			m->no_trace = true;
			break;
		case 'v':
			m->topts.verbose = true;
			break;
		case 'h':
			metrics_help();
			return 1;
		default:
			return p_bad_option(opt, argv);
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s'; see '%s metrics --help'", argv[optind], bin_name);
		return -EINVAL;
	}
	return check_args(m);
}

/* The counting programs, read by the service's collector from now on. */
static int open_tracer(struct metrics_cmd *m)
{
	struct errbuf eb = CLI_ERRBUF;
	char description[1024];
	int err;

	err = bpf_environment_check();
	if (err)
		return err;
	cli_libbpf_messages(m->topts.verbose);
	err = tracer__open(&m->topts, &m->tracer, &eb);
	if (err) {
		p_errbuf(&eb);
		return err;
	}
	tracer__describe(m->tracer, description, sizeof(description));
	p_info("counting, %s", description);
	m->collect.tracer = m->tracer;
	return 0;
}

/* A daemon: the textfile alone, or the server (default) with an optional textfile. */
static int start_exports(struct metrics_cmd *m)
{
	struct http_server_opts hopts = { .sz = sizeof(hopts) };
	struct errbuf eb = CLI_ERRBUF;
	int err;

	if (m->textfile) {
		err = write_textfile(m->ms, m->textfile);
		if (err)
			return err;
	}
	if (m->listen || !m->textfile) {
		hopts.listen = m->listen ?: HTTP_SERVER_DEFAULT_LISTEN;
		if (!is_loopback(hopts.listen))
			p_warn("%s is not a loopback address: anyone who can reach it can read "
			       "the metrics", hopts.listen);
		err = metrics_service__serve(m->ms, &hopts, &eb);
		if (err) {
			p_errbuf(&eb);
			return err;
		}
		p_info("serving metrics on http://%s/metrics; Ctrl-C to stop",
		       metrics_service__address(m->ms));
	}
	if (m->textfile)
		p_info("writing %s every %lu s; Ctrl-C to stop", m->textfile, m->interval_s);
	return 0;
}

/* Until a signal: the server answers on its own thread; the textfile is rewritten here. */
static void export_loop(struct metrics_cmd *m)
{
	unsigned long waited_ms = 0;

	while (!exiting) {
		nap_ms(TICK_MS);
		waited_ms += TICK_MS;
		if (!m->textfile || waited_ms < m->interval_s * 1000)
			continue;
		waited_ms = 0;
		/* Keep serving through a transient failure (disk full); it was reported. */
		write_textfile(m->ms, m->textfile);
	}
}

int do_metrics(int argc, char **argv)
{
	struct metrics_cmd m = {
		/* Aggregates only: nothing is streamed, every operation is still counted. */
		.topts = { .sz = sizeof(m.topts), .no_events = true },
		.collect = { .sz = sizeof(m.collect) },
	};
	struct metrics_service_opts mopts = { .sz = sizeof(mopts), .collect = &m.collect };
	struct sigaction sa = { .sa_handler = on_signal };
	struct errbuf eb = CLI_ERRBUF;
	int err;

	err = parse_args(&m, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = metrics_service__new(&mopts, &m.ms, &eb);
	if (err) {
		p_errbuf(&eb);
		return err;
	}
	if (!m.no_trace) {
		err = open_tracer(&m);
		if (err)
			goto out_service;
	}
	if (m.once) {
		err = m.textfile ? write_textfile(m.ms, m.textfile) : print_once(m.ms);
		goto out_service;
	}
	err = start_exports(&m);
	if (err)
		goto out_service;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	export_loop(&m);
out_service:
	/* The service first: its server may still be collecting from the tracer. */
	metrics_service__free(m.ms);
	tracer__free(m.tracer);
	return err;
}
