// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Host benchmark of the trace ring buffer drain (issue 5, item 6). Target: ioguard trace
 * drains at least 1 M events/s with zero loss; above what it drains, every loss is counted.
 *
 * tests/bench/bench_ringbuf.bpf.c stands in for trace.bpf.c: on each getppid() of this process it
 * writes a batch of struct ioguard_event records (a map/unmap stream) into a ring buffer
 * of trace.bpf.c's size, counting what it made and what found the ring full. A producer
 * thread, pinned to a CPU of its own when there are two, paces the calls to offer a rate
 * for one step; "max" calls as fast as it can. The main thread, on the other CPU, drains
 * as ioguard trace does: ring_buffer__poll() with its 100 ms timeout, a consume after a
 * timeout (the producer wakes readers in bulk, as trace.bpf.c does: events_wakeup.bpf.h)
 * and a flush of the output after every poll, through one of these callbacks:
 *   decode  copy the record and apply the event_filter of `ioguard trace --pid`
 *   json    the same filter, then event_printer__json() into /dev/null (trace --json)
 *   text    the same filter, then event_printer__text() into /dev/null (trace)
 *   json-locked  json with stdio locking on, as in the threaded daemon (ioguard run);
 *           not run unless asked for
 * Per step: the offered rate; records produced and their rate over the step; consumed;
 * lost; the drained rate, consumed over the time from the first call until the ring is
 * found empty after the last; the consumer thread's CPU time per record, which a busy
 * machine disturbs less than the rates; that CPU time over the drain time; and how often
 * the consumer slept (in epoll_wait, until the producer's wakeup) and was preempted.
 * Losses with the consumer well under 100% busy come from waiting, for a wakeup or for
 * its CPU, not from drain speed. produced == consumed + lost must hold, and every record
 * must pass the filter, or the bench fails: either is a bug, not a slow machine.
 * It prints SKIP with the reason, and exits 0, where the producer cannot load.
 *
 *   bench_ringbuf [--rates R,R,...] [--step-ms MS] [--batch N] [--consumers C,C,...]
 *                 [--verbose]
 *       R is records per second, or "max"; C is decode, json, text or json-locked.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "output/event.h"
#include "ioguard/metrics.h"
#include "bench_ringbuf.skel.h"
#include "trace.skel.h"

#define TARGET_PER_S 1e6
#define POLL_TIMEOUT_MS 100	/* ioguard trace's */
#define DEFAULT_STEP_MS 1000
#define MAX_STEP_MS 10000
#define DEFAULT_BATCH 32
#define MAX_BATCH 4096		/* BENCH_MAX_BATCH of the BPF side */
#define MAX_RATES 16
#define RATE_MAX 0.0		/* offered rate of the unpaced step */
#define WAITING_BUSY 0.8	/* a lossy step's consumer below this was mostly waiting */
#define RINGBUF_HDR_BYTES 8	/* BPF_RINGBUF_HDR_SZ: every record is rounded up to 8 */
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

enum consumer {
	CONSUMER_DECODE,
	CONSUMER_JSON,
	CONSUMER_TEXT,
	CONSUMER_JSON_LOCKED,
	CONSUMER_COUNT,
};

static const char *const consumer_names[CONSUMER_COUNT] = {
	[CONSUMER_DECODE] = "decode",
	[CONSUMER_JSON] = "json",
	[CONSUMER_TEXT] = "text",
	[CONSUMER_JSON_LOCKED] = "json-locked",
};

static bool verbose;

/*
 * What one consumer does with a record. @shown counts the records that passed the
 * filter: the ring holds only this process's records, so every one of them must.
 */
struct drain {
	enum consumer kind;
	struct event_filter filter;
	struct event_printer *printer;
	struct json_writer *json;
	FILE *out;
	__u64 consumed;
	__u64 shown;
	__u64 short_records;
};

/* One step of the producer thread; start_ns and end_ns bracket its calls. */
struct producer {
	double rate;		/* records per second, RATE_MAX for as fast as it can */
	__u32 batch;
	double step_ns;
	int cpu;		/* -1: not pinned */
	double start_ns;
	double end_ns;
	double window_ns;	/* paced: calls x gap, or end - start if longer; else end - start */
	int err;
	atomic_bool done;
};

struct step {
	double offered;
	__u64 produced;
	__u64 consumed;
	__u64 lost;
	double produced_per_s;
	double drained_per_s;
	double drain_s;
	double cpu_ns_per_record;	/* the consumer thread's CPU time, per record */
	double busy;		/* that CPU time over the drain time */
	long sleeps;		/* times the consumer slept until a wakeup or the timeout */
	long preempted;		/* times other work took the consumer's CPU */
};

/* Ownership: skel and rb are bench's; drain is re-aimed at each consumer in turn. */
struct bench {
	struct bench_ringbuf_bpf *skel;
	struct ring_buffer *rb;
	struct drain drain;
	double rates[MAX_RATES];
	int n_rates;
	bool consumers[CONSUMER_COUNT];
	__u32 batch;
	double step_ns;
	int producer_cpu;
	int consumer_cpu;
	__u32 ring_bytes;
};

static double clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int64_t realtime_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static __u64 read_counter(const __u64 *counter)
{
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

/* The first two CPUs this process may run on: the consumer's, then the producer's. */
static void choose_cpus(struct bench *b)
{
	cpu_set_t set;
	int cpu;

	b->consumer_cpu = -1;
	b->producer_cpu = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (b->consumer_cpu < 0) {
			b->consumer_cpu = cpu;
		} else {
			b->producer_cpu = cpu;
			break;
		}
	}
	if (b->producer_cpu < 0)
		b->consumer_cpu = -1;
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *producer_run(void *arg)
{
	struct producer *p = arg;
	double gap_ns, now;
	__u64 calls, k;

	p->err = pin_self(p->cpu);
	if (p->err)
		goto out;
	p->start_ns = now_ns();
	if (p->rate != RATE_MAX) {
		gap_ns = 1e9 * p->batch / p->rate;
		calls = p->step_ns / gap_ns + 0.5;
		for (k = 0; k < calls; k++) {
			/* Spin: a sleep would wake too late to hold a gap of a few microseconds. */
			do
				now = now_ns();
			while (now < p->start_ns + k * gap_ns);
			syscall(SYS_getppid);
		}
		p->end_ns = now_ns();
		p->window_ns = calls * gap_ns;
		if (p->end_ns - p->start_ns > p->window_ns)
			p->window_ns = p->end_ns - p->start_ns;
	} else {
		do {
			syscall(SYS_getppid);
			now = now_ns();
		} while (now - p->start_ns < p->step_ns);
		p->end_ns = now;
		p->window_ns = p->end_ns - p->start_ns;
	}
out:
	atomic_store(&p->done, true);
	return NULL;
}

static int drain_record(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;
	const struct ioguard_event *e = data;
	struct ioguard_event copy;

	d->consumed++;
	if (size < sizeof(*e)) {
		d->short_records++;
		return 0;
	}
	switch (d->kind) {
	case CONSUMER_DECODE:
		memcpy(&copy, data, sizeof(copy));
		d->shown += event_filter__event(&d->filter, &copy);
		break;
	case CONSUMER_JSON:
	case CONSUMER_JSON_LOCKED:
		if (!event_filter__event(&d->filter, e))
			break;
		d->shown++;
		event_printer__json(d->printer, d->json, e);
		break;
	case CONSUMER_TEXT:
		if (!event_filter__event(&d->filter, e))
			break;
		d->shown++;
		event_printer__text(d->printer, d->out, e);
		break;
	default:
		break;
	}
	return 0;
}

static void drain_flush(struct drain *d)
{
	if (d->out)
		fflush(d->out);
}

static void drain_close(struct drain *d)
{
	jsonw_destroy(d->json);
	d->json = NULL;
	if (d->out)
		fclose(d->out);
	d->out = NULL;
	event_printer__free(d->printer);
	d->printer = NULL;
}

static int drain_open(struct drain *d, enum consumer kind)
{
	int err = 0;

	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->filter.pid = getpid();
	if (kind == CONSUMER_DECODE)
		return 0;
	d->out = fopen("/dev/null", "w");
	if (!d->out)
		return -errno;
	/*
	 * ioguard trace is single-threaded, and glibc's stdio takes no locks until a
	 * process starts a thread. The producer thread here would make every stdio call
	 * lock: this stream has one user, the main thread, so it is told to skip them.
	 * json-locked keeps them, as in the daemon, whose HTTP server runs threads.
	 */
	if (kind != CONSUMER_JSON_LOCKED)
		__fsetlocking(d->out, FSETLOCKING_BYCALLER);
	d->printer = event_printer__new(realtime_offset_ns());
	if (!d->printer) {
		err = -ENOMEM;
		goto err_close;
	}
	if (kind == CONSUMER_JSON || kind == CONSUMER_JSON_LOCKED) {
		d->json = jsonw_new(d->out);
		if (!d->json) {
			err = -ENOMEM;
			goto err_close;
		}
	} else {
		event_printer__text_header(d->out);
	}
	return 0;

err_close:
	drain_close(d);
	return err;
}

/* Size of trace.bpf.c's ring buffer, read from its object without loading it. */
static int trace_ring_bytes(__u32 *bytes)
{
	struct trace_bpf *trace = trace_bpf__open();
	int err = 0;

	if (!trace)
		return -errno;
	*bytes = bpf_map__max_entries(trace->maps.events);
	if (!*bytes)
		err = -EINVAL;
	trace_bpf__destroy(trace);
	return err;
}

/* Loads and attaches the producer; every failure is this host's, explained in @why. */
static int bench__load(struct bench *b, char *why, size_t len)
{
	int err;

	if (geteuid()) {
		snprintf(why, len, "not root: loading BPF programs needs CAP_BPF and CAP_PERFMON");
		return -EPERM;
	}
	if (access(KERNEL_BTF, R_OK)) {
		err = -errno;
		snprintf(why, len, "no kernel BTF at %s: %s", KERNEL_BTF, strerror(-err));
		return err;
	}
	b->skel = bench_ringbuf_bpf__open();
	if (!b->skel) {
		err = -errno;
		snprintf(why, len, "cannot open the producer: %s", strerror(-err));
		return err;
	}
	b->skel->rodata->target_tgid = getpid();
	b->skel->rodata->trigger_nr = SYS_getppid;
	err = bpf_map__set_max_entries(b->skel->maps.events, b->ring_bytes);
	if (err) {
		snprintf(why, len, "cannot size the ring buffer to %u bytes: %s", b->ring_bytes,
			 strerror(-err));
		goto err_destroy;
	}
	err = bench_ringbuf_bpf__load(b->skel);
	if (err) {
		snprintf(why, len, "the kernel refused the producer (tp_btf/sys_enter, bpf_loop, "
			 "ringbuf): %s", strerror(-err));
		goto err_destroy;
	}
	err = bench_ringbuf_bpf__attach(b->skel);
	if (err) {
		snprintf(why, len, "cannot attach tp_btf/sys_enter: %s", strerror(-err));
		goto err_destroy;
	}
	return 0;

err_destroy:
	bench_ringbuf_bpf__destroy(b->skel);
	b->skel = NULL;
	return err;
}

static int run_step(struct bench *b, double offered, struct step *s)
{
	struct producer p = {
		.rate = offered,
		.batch = b->batch,
		.step_ns = b->step_ns,
		.cpu = b->producer_cpu,
	};
	struct drain *d = &b->drain;
	__u64 produced0, lost0;
	double last_ns = 0, cpu0_ns, cpu_ns;
	struct rusage ru0, ru1;
	pthread_t thread;
	int n = 0, err;

	memset(s, 0, sizeof(*s));
	s->offered = offered;
	produced0 = read_counter(&b->skel->bss->produced);
	lost0 = read_counter(&b->skel->bss->lost[IOGUARD_LOST_RINGBUF_FULL]);
	d->consumed = 0;
	d->shown = 0;
	d->short_records = 0;
	b->skel->data->batch = b->batch;
	cpu0_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &ru0);

	err = -pthread_create(&thread, NULL, producer_run, &p);
	if (err)
		return err;
	while (!atomic_load(&p.done)) {
		n = ring_buffer__poll(b->rb, POLL_TIMEOUT_MS);
		/* As ioguard trace: the producer wakes readers only in bulk. */
		if (n == 0)
			n = ring_buffer__consume(b->rb);
		if (n == -EINTR)
			continue;
		if (n < 0)
			break;
		if (n > 0)
			last_ns = now_ns();
		drain_flush(d);
	}
	pthread_join(thread, NULL);
	/* Every call has returned: what the ring holds now is all it will get. */
	while (n >= 0 && (n = ring_buffer__consume(b->rb)) > 0)
		last_ns = now_ns();
	drain_flush(d);
	cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0_ns;
	getrusage(RUSAGE_THREAD, &ru1);
	if (n < 0) {
		err = n;
		fprintf(stderr, "bench_ringbuf: reading the ring buffer failed: %s\n",
			strerror(-err));
	} else if (p.err) {
		err = p.err;
		fprintf(stderr, "bench_ringbuf: cannot pin the producer to CPU %d: %s\n",
			p.cpu, strerror(-err));
	}
	if (err)
		return err;

	s->produced = read_counter(&b->skel->bss->produced) - produced0;
	s->lost = read_counter(&b->skel->bss->lost[IOGUARD_LOST_RINGBUF_FULL]) - lost0;
	s->consumed = d->consumed;
	s->produced_per_s = s->produced / (p.window_ns / 1e9);
	s->drain_s = ((last_ns > p.end_ns ? last_ns : p.end_ns) - p.start_ns) / 1e9;
	s->drained_per_s = s->consumed / s->drain_s;
	s->cpu_ns_per_record = cpu_ns / (s->consumed ? s->consumed : 1);
	s->busy = cpu_ns / 1e9 / s->drain_s;
	s->sleeps = ru1.ru_nvcsw - ru0.ru_nvcsw;
	s->preempted = ru1.ru_nivcsw - ru0.ru_nivcsw;
	return 0;
}

static void print_step(const struct drain *d, const struct step *s)
{
	char offered[32];

	if (s->offered == RATE_MAX)
		snprintf(offered, sizeof(offered), "max");
	else
		snprintf(offered, sizeof(offered), "%.0f", s->offered);
	printf("bench_ringbuf consumer=%s offered_per_s=%s produced=%llu produced_per_s=%.0f "
	       "consumed=%llu lost=%llu (%.1f%%) drained_per_s=%.0f drain_s=%.3f "
	       "consumer_cpu_ns_per_record=%.0f consumer_busy=%.0f%% sleeps=%ld preempted=%ld\n",
	       consumer_names[d->kind], offered, (unsigned long long)s->produced,
	       s->produced_per_s, (unsigned long long)s->consumed, (unsigned long long)s->lost,
	       s->produced ? 100.0 * s->lost / s->produced : 0.0, s->drained_per_s, s->drain_s,
	       s->cpu_ns_per_record, 100 * s->busy, s->sleeps, s->preempted);
	fflush(stdout);
}

/* A broken count is a bug in the producer, libbpf or the consumer, never load. */
static int check_step(const struct drain *d, const struct step *s)
{
	if (s->produced != s->consumed + s->lost) {
		fprintf(stderr, "bench_ringbuf: consumer=%s: produced %llu != consumed %llu + "
			"lost %llu\n", consumer_names[d->kind], (unsigned long long)s->produced,
			(unsigned long long)s->consumed, (unsigned long long)s->lost);
		return -EPROTO;
	}
	if (d->short_records || d->shown != d->consumed) {
		fprintf(stderr, "bench_ringbuf: consumer=%s: of %llu records, %llu short and "
			"%llu refused by the --pid filter; all are this process's\n",
			consumer_names[d->kind], (unsigned long long)d->consumed,
			(unsigned long long)d->short_records,
			(unsigned long long)(d->consumed - d->shown));
		return -EPROTO;
	}
	return 0;
}

/*
 * The lossless rate is the highest produced rate below which no step lost a record, so
 * one lucky step above a lossy one does not count. A consumer well under 100% busy in a
 * lossy step was not short of speed but waiting, for a wakeup or for its CPU: that is
 * said, with which of the two it met, not hidden.
 */
static void print_summary(enum consumer kind, const struct step *steps, int n)
{
	double first_loss = -1, lossless = 0, drained = 0, produced = 0;
	const struct step *idlest = NULL;
	const char *verdict;
	int i;

	for (i = 0; i < n; i++) {
		if (!steps[i].lost)
			continue;
		if (first_loss < 0 || steps[i].produced_per_s < first_loss)
			first_loss = steps[i].produced_per_s;
		if (!idlest || steps[i].busy < idlest->busy)
			idlest = &steps[i];
	}
	for (i = 0; i < n; i++) {
		if (!steps[i].lost && steps[i].produced_per_s > lossless &&
		    (first_loss < 0 || steps[i].produced_per_s < first_loss))
			lossless = steps[i].produced_per_s;
		if (steps[i].drained_per_s > drained)
			drained = steps[i].drained_per_s;
		if (steps[i].produced_per_s > produced)
			produced = steps[i].produced_per_s;
	}
	if (lossless >= TARGET_PER_S)
		verdict = "met";
	else if (produced >= TARGET_PER_S)
		verdict = "missed";
	else
		verdict = "not measured: the producer never reached it";
	printf("bench_ringbuf consumer=%s max_lossless_per_s=%.0f max_drained_per_s=%.0f "
	       "max_produced_per_s=%.0f (target >= 1M events/s with zero loss: %s)\n",
	       consumer_names[kind], lossless, drained, produced, verdict);
	if (idlest && idlest->busy < WAITING_BUSY)
		printf("bench_ringbuf consumer=%s note: it lost records while only %.0f%% busy "
		       "(%ld sleeps, %ld preemptions in that step): those losses come from "
		       "waiting for a wakeup or a CPU, not from its drain speed\n",
		       consumer_names[kind], 100 * idlest->busy, idlest->sleeps,
		       idlest->preempted);
	fflush(stdout);
}

static int run_consumer(struct bench *b, enum consumer kind)
{
	struct step steps[MAX_RATES];
	int i, err;

	err = drain_open(&b->drain, kind);
	if (err) {
		fprintf(stderr, "bench_ringbuf: cannot set up the %s consumer: %s\n",
			consumer_names[kind], strerror(-err));
		return err;
	}
	for (i = 0; i < b->n_rates; i++) {
		err = run_step(b, b->rates[i], &steps[i]);
		if (err)
			goto out_close;
		print_step(&b->drain, &steps[i]);
		err = check_step(&b->drain, &steps[i]);
		if (err)
			goto out_close;
	}
	print_summary(kind, steps, b->n_rates);
out_close:
	drain_close(&b->drain);
	return err;
}

static int run(struct bench *b)
{
	enum consumer kind;
	int err;

	err = pin_self(b->consumer_cpu);
	if (err) {
		fprintf(stderr, "bench_ringbuf: cannot pin the consumer to CPU %d: %s\n",
			b->consumer_cpu, strerror(-err));
		return err;
	}
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), drain_record, &b->drain,
				 NULL);
	if (!b->rb) {
		err = -errno;
		fprintf(stderr, "bench_ringbuf: cannot open the ring buffer: %s\n",
			strerror(-err));
		return err;
	}
	if (b->producer_cpu >= 0)
		printf("bench_ringbuf ring_bytes=%u record_bytes=%zu+%d capacity_records=%zu "
		       "batch=%u step_ms=%.0f consumer_cpu=%d producer_cpu=%d\n", b->ring_bytes,
		       sizeof(struct ioguard_event), RINGBUF_HDR_BYTES,
		       b->ring_bytes / (sizeof(struct ioguard_event) + RINGBUF_HDR_BYTES),
		       b->batch, b->step_ns / 1e6, b->consumer_cpu, b->producer_cpu);
	else
		printf("bench_ringbuf ring_bytes=%u record_bytes=%zu+%d capacity_records=%zu "
		       "batch=%u step_ms=%.0f unpinned: one CPU, producer and consumer share it\n",
		       b->ring_bytes, sizeof(struct ioguard_event), RINGBUF_HDR_BYTES,
		       b->ring_bytes / (sizeof(struct ioguard_event) + RINGBUF_HDR_BYTES),
		       b->batch, b->step_ns / 1e6);
	for (kind = 0; kind < CONSUMER_COUNT && !err; kind++) {
		if (b->consumers[kind])
			err = run_consumer(b, kind);
	}
	ring_buffer__free(b->rb);
	b->rb = NULL;
	return err;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *v > max)
		return -EINVAL;
	return 0;
}

static int parse_rates(struct bench *b, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned long long v;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	b->n_rates = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (b->n_rates == MAX_RATES)
			err = -EINVAL;
		else if (!strcmp(tok, "max"))
			b->rates[b->n_rates++] = RATE_MAX;
		else if (!parse_u64(tok, 1000000000ULL, &v) && v)
			b->rates[b->n_rates++] = v;
		else
			err = -EINVAL;
	}
	if (!b->n_rates)
		err = -EINVAL;
	free(copy);
	return err;
}

static int parse_consumers(struct bench *b, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	enum consumer kind;
	int err = 0, n = 0;

	if (!copy)
		return -ENOMEM;
	memset(b->consumers, 0, sizeof(b->consumers));
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		for (kind = 0; kind < CONSUMER_COUNT; kind++) {
			if (!strcmp(tok, consumer_names[kind]))
				break;
		}
		if (kind == CONSUMER_COUNT) {
			err = -EINVAL;
		} else {
			b->consumers[kind] = true;
			n++;
		}
	}
	if (!n)
		err = -EINVAL;
	free(copy);
	return err;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--rates R,R,...] [--step-ms MS] [--batch N] "
		"[--consumers C,C,...] [--verbose]\n"
		"  R: records per second, or max (default 250000,500000,1000000,2000000,max)\n"
		"  C: decode, json, text (default), or json-locked: json with the stdio locking\n"
		"     of a threaded process (ioguard run)\n", prog);
}

int main(int argc, char **argv)
{
	struct bench b = {
		.rates = { 250000, 500000, 1000000, 2000000, RATE_MAX },
		.n_rates = 5,
		.consumers = {
			[CONSUMER_DECODE] = true,
			[CONSUMER_JSON] = true,
			[CONSUMER_TEXT] = true,
		},
		.batch = DEFAULT_BATCH,
		.step_ns = DEFAULT_STEP_MS * 1e6,
	};
	unsigned long long v;
	char why[256];
	int i, err = 0;

	for (i = 1; i < argc && !err; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--verbose")) {
			verbose = true;
			continue;
		}
		if (!val) {
			err = -EINVAL;
		} else if (!strcmp(arg, "--rates")) {
			err = parse_rates(&b, val);
		} else if (!strcmp(arg, "--step-ms")) {
			err = parse_u64(val, MAX_STEP_MS, &v);
			if (!err && !v)
				err = -EINVAL;
			b.step_ns = v * 1e6;
		} else if (!strcmp(arg, "--batch")) {
			err = parse_u64(val, MAX_BATCH, &v);
			if (!err && !v)
				err = -EINVAL;
			b.batch = v;
		} else if (!strcmp(arg, "--consumers")) {
			err = parse_consumers(&b, val);
		} else {
			err = -EINVAL;
		}
		i++;
	}
	if (err) {
		usage(argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	choose_cpus(&b);

	err = trace_ring_bytes(&b.ring_bytes);
	if (err) {
		fprintf(stderr, "bench_ringbuf: cannot read trace.bpf.c's ring buffer size: %s\n",
			strerror(-err));
		return 1;
	}
	if (bench__load(&b, why, sizeof(why))) {
		printf("SKIP bench_ringbuf: %s\n", why);
		return 0;
	}
	err = run(&b);
	bench_ringbuf_bpf__destroy(b.skel);
	return err ? 1 : 0;
}
