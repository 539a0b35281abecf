// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: the decision feed protocol (include/ioguard/feed.h), as its reader in
 * src/ioguard/decisions/decision_feed.c gets it from another process, and the tenant lookup of
 * src/ioguard/decisions/decision_reader.c on a policy slot as the pinned map gives it.
 *
 * The reader only reads sockets, so the target plays the server: a SOCK_SEQPACKET
 * listener of its own (in a directory under $TMPDIR, else /dev/shm, else /tmp, removed
 * at exit) that decision_feed_client__connect() connects to. The input is
 *   flags, then packets: ctl, len (2 bytes, little-endian), len bytes (fewer when the
 *   input ends first), at most MAX_PACKETS of them;
 *   flags & 1: the server hangs up after its packets; flags & 2, & 4: see tenant_check().
 *   ctl & 1: the packet's header gets its true size and the current version, so that
 *   mutants reach the record types.
 * Packets go out whole (SOCK_SEQPACKET), then decision_feed_client__read() handles what
 * waits. A reference decoder written from feed.h says what the reader must do with the
 * same packets: refuse (-EPROTO) one longer than IOGUARD_FEED_MAX_RECORD, shorter than
 * the header or its type's struct, of another version or whose size is not the packet's;
 * take an empty packet for the end (-EPIPE); end on a refusal record with the errno of
 * its reason and its message in the error; skip unknown types; ignore bytes past a known
 * struct. Return code, hello (role, pid), loss count and the decision records delivered
 * (bytes and tenant, in order) must match it, and every error must say why. A record
 * taken from bytes past the packet would differ from the decoder's.
 *
 * Round trip: each decision the reader delivers is published again by a real feed
 * server (decision_feed_server__publish(), the writer) to a second, long-lived client,
 * which must get the same record and tenant; once per input, the writer also gets a
 * tenant string made of the input (any length) and must deliver it cut to
 * IOGUARD_NAME_LEN - 1 bytes. Delivered strings (comm, device, tenant) are always
 * NUL-terminated within their fields.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "decisions/decision_feed.h"
#include "decisions/decision_reader.h"

#define MAX_PACKETS 32
#define MAX_PACKET 4096

/* A decision record as a client must deliver it. */
struct delivery {
	struct ioguard_decision d;
	bool has_tenant;
	char tenant[IOGUARD_NAME_LEN];
};

/* What a client got, and what it must get next. */
struct sink {
	const char *who;
	struct delivery want[MAX_PACKETS + 1];
	unsigned int n_want, n_got;
	struct delivery last;	/* the last record delivered */
};

static char dir[256], raw_path[DECISION_FEED_PATH_MAX], feed_path[DECISION_FEED_PATH_MAX];
static int raw_listener = -1;
static struct decision_feed_server *server;
static struct decision_feed_client *rt_client;
static struct sink rt_sink = { .who = "the round-trip client" };

static void __attribute__((noreturn)) die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_decision_feed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static bool terminated(const char *s, size_t len)
{
	return memchr(s, 0, len) != NULL;
}

static void on_decision(void *ctx, const struct ioguard_decision *d, const char *tenant)
{
	struct sink *s = ctx;
	const struct delivery *w;

	if (!terminated(d->comm, sizeof(d->comm)) || !terminated(d->device, sizeof(d->device)))
		die("%s got a comm or device without its NUL", s->who);
	if (tenant && (!tenant[0] || !terminated(tenant, IOGUARD_NAME_LEN)))
		die("%s got an empty tenant, or one longer than IOGUARD_NAME_LEN - 1", s->who);
	if (s->n_got >= s->n_want)
		die("%s got a decision record the protocol does not deliver", s->who);
	w = &s->want[s->n_got++];
	if (memcmp(&w->d, d, sizeof(*d)))
		die("%s got decision record %u with other bytes than were sent", s->who,
		    s->n_got);
	if (w->has_tenant != !!tenant || (tenant && strcmp(w->tenant, tenant)))
		die("%s got decision record %u with tenant '%s', not '%s'", s->who, s->n_got,
		    tenant ?: "(none)", w->has_tenant ? w->tenant : "(none)");
	s->last.d = *d;
	s->last.has_tenant = tenant;
	snprintf(s->last.tenant, sizeof(s->last.tenant), "%s", tenant ?: "");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void cleanup(void)
{
	decision_feed_client__free(rt_client);
	decision_feed_server__free(server);
	if (raw_listener >= 0)
		close(raw_listener);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	struct stat st;
	int i, err;

	(void)argc;
	(void)argv;
	if (!tmp)
		tmp = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/ioguard-fuzz-feed-XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp %s: %s", dir, strerror(errno));
	atexit(cleanup);
	if ((size_t)snprintf(raw_path, sizeof(raw_path), "%s/raw.sock", dir) >= sizeof(raw_path) ||
	    (size_t)snprintf(feed_path, sizeof(feed_path), "%s/run/%s", dir,
			     DECISION_FEED_SOCKET) >= sizeof(feed_path))
		die("%s is too long for a socket address: set TMPDIR", dir);

	raw_listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, raw_path, strlen(raw_path));
	if (raw_listener < 0 || bind(raw_listener, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(raw_listener, 4))
		die("cannot listen on %s: %s", raw_path, strerror(errno));

	err = decision_feed_server__new(feed_path, IOGUARD_FEED_ROLE_TRACE, &server, &eb);
	if (err)
		die("cannot serve the feed: %s", why);
	err = decision_feed_client__connect(feed_path, on_decision, &rt_sink, &rt_client, &eb);
	if (err)
		die("cannot connect to the feed: %s", why);
	for (i = 0; i < 100 && !decision_feed_client__ready(rt_client); i++) {
		if (decision_feed_server__process(server))
			die("the feed server failed");
		err = decision_feed_client__wait_ready(rt_client, 10, &eb);
		if (err && err != -ETIMEDOUT)
			die("the round-trip client: %s", why);
	}
	if (decision_feed_server__clients(server) != 1 || !decision_feed_client__ready(rt_client))
		die("the round-trip client got no hello");
	return 0;
}

struct packet {
	const uint8_t *data;
	uint8_t fixed[MAX_PACKET];	/* the packet with its header set (ctl & 1) */
	size_t len;
};

/* What the reader must end with, and what it must have seen on the way. */
struct expect {
	int err;
	const char *message;		/* in the error, for a refusal record */
	char message_buf[IOGUARD_FEED_MESSAGE_LEN];
	bool ready;
	__u32 role, pid;
	unsigned long long lost;
};

/* The reference decoder: feed.h's rules, one packet at a time. false: reading ends. */
static bool decode(const uint8_t *p, size_t n, struct expect *e, struct sink *s)
{
	struct ioguard_feed_header h;
	struct delivery *w;
	__u32 reason;

	if (n == 0) {
		e->err = -EPIPE;
		return false;
	}
	e->err = -EPROTO;
	if (n > IOGUARD_FEED_MAX_RECORD || n < sizeof(h))
		return false;
	memcpy(&h, p, sizeof(h));
	if (h.version != IOGUARD_FEED_VERSION || h.size != n)
		return false;
	switch (h.type) {
	case IOGUARD_FEED_HELLO:
		if (n < sizeof(struct ioguard_feed_hello))
			return false;
		e->ready = true;
		memcpy(&e->role, p + offsetof(struct ioguard_feed_hello, role), 4);
		memcpy(&e->pid, p + offsetof(struct ioguard_feed_hello, pid), 4);
		break;
	case IOGUARD_FEED_DECISION:
		if (n < sizeof(struct ioguard_feed_decision))
			return false;
		w = &s->want[s->n_want++];
		memcpy(&w->d, p + offsetof(struct ioguard_feed_decision, decision), sizeof(w->d));
		w->d.comm[sizeof(w->d.comm) - 1] = '\0';
		w->d.device[sizeof(w->d.device) - 1] = '\0';
		memcpy(w->tenant, p + offsetof(struct ioguard_feed_decision, tenant),
		       sizeof(w->tenant));
		w->tenant[sizeof(w->tenant) - 1] = '\0';
		w->has_tenant = w->tenant[0];
		break;
	case IOGUARD_FEED_LOST: {
		__u64 records;

		if (n < sizeof(struct ioguard_feed_lost))
			return false;
		memcpy(&records, p + offsetof(struct ioguard_feed_lost, records), 8);
		e->lost += records;
		break;
	}
	case IOGUARD_FEED_REFUSED:
		if (n < sizeof(struct ioguard_feed_refused))
			return false;
		memcpy(&reason, p + offsetof(struct ioguard_feed_refused, reason), 4);
		e->err = reason == IOGUARD_FEED_REFUSED_FULL ? -EUSERS :
			 reason == IOGUARD_FEED_REFUSED_PERMISSION ? -EACCES : -ECONNREFUSED;
		memcpy(e->message_buf, p + offsetof(struct ioguard_feed_refused, message),
		       sizeof(e->message_buf));
		e->message_buf[sizeof(e->message_buf) - 1] = '\0';
		e->message = e->message_buf;
		return false;
	default:
		break;
	}
	e->err = 0;
	return true;
}

/*
 * decision_tenant_name() on a slot made from the record as it came (the tenant field
 * unterminated if the packet says so) in every tenant entry: the name must be the
 * entry's, NUL-terminated in it, and only when the slot is loaded with that policy and
 * the index is in range. flags & 2: the slot is loaded; flags & 4: it holds another
 * policy.
 */
static void tenant_check(const uint8_t *p, uint8_t flags)
{
	static struct ioguard_policy_slot slot;
	struct ioguard_decision d;
	const char *name;
	bool in_range;
	unsigned int i;

	memcpy(&d, p + offsetof(struct ioguard_feed_decision, decision), sizeof(d));
	memset(&slot, 0, sizeof(slot));
	slot.loaded = !!(flags & 2);
	slot.policy_id = d.policy_id ^ !!(flags & 4);
	slot.n_tenants = d.uid;
	for (i = 0; i < IOGUARD_MAX_TENANTS; i++)
		memcpy(slot.tenants[i].name, p + offsetof(struct ioguard_feed_decision, tenant),
		       IOGUARD_NAME_LEN);
	name = decision_tenant_name(&slot, d.policy_id, d.tenant);
	in_range = d.tenant >= 0 && (__u32)d.tenant < slot.n_tenants &&
		   d.tenant < IOGUARD_MAX_TENANTS;
	if (!name) {
		if (slot.loaded && !(flags & 4) && in_range && slot.tenants[0].name[0] &&
		    terminated(slot.tenants[0].name, IOGUARD_NAME_LEN))
			die("no name for tenant %d of a loaded slot that has it", d.tenant);
		return;
	}
	if (!slot.loaded || (flags & 4) || !in_range || name != slot.tenants[d.tenant].name)
		die("a name for tenant %d where the slot has none", d.tenant);
	if (!name[0] || !terminated(name, IOGUARD_NAME_LEN))
		die("tenant %d's name is empty or runs past its %d bytes", d.tenant,
		    IOGUARD_NAME_LEN);
}

/* Publishes @d with @tenant to the round-trip client, which must get @want. */
static void round_trip(const struct ioguard_decision *d, const char *tenant,
		       const struct delivery *want)
{
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	int err;

	rt_sink.n_want = rt_sink.n_got = 0;
	rt_sink.want[rt_sink.n_want++] = *want;
	decision_feed_server__publish(server, d, tenant);
	err = decision_feed_client__read(rt_client, &eb);
	if (err)
		die("the round-trip client failed: %s", why);
	if (rt_sink.n_got != 1 || decision_feed_server__missed(server))
		die("the writer's record did not reach the round-trip client");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet packets[MAX_PACKETS];
	static struct sink sink = { .who = "the client" };
	struct decision_feed_client *c = NULL;
	struct expect e = { 0 };
	struct ioguard_feed_header h;
	struct ioguard_decision d;
	struct delivery want;
	size_t pos = 1, n_packets = 0, sent, i;
	char tenant[2 * IOGUARD_NAME_LEN];
	struct errbuf eb = { .note = NULL };
	const char *why = eb.msg;
	uint8_t flags, ctl;
	int peer, err;

	if (!size)
		return 0;
	flags = data[0];
	while (pos + 3 <= size && n_packets < MAX_PACKETS) {
		struct packet *p = &packets[n_packets++];

		ctl = data[pos];
		p->len = data[pos + 1] | data[pos + 2] << 8;
		pos += 3;
		if (p->len > size - pos)
			p->len = size - pos;
		if (p->len > MAX_PACKET)
			p->len = MAX_PACKET;
		p->data = data + pos;
		pos += p->len;
		if ((ctl & 1) && p->len >= sizeof(h)) {
			memcpy(p->fixed, p->data, p->len);
			memcpy(&h, p->fixed, sizeof(h));
			h.size = p->len;
			h.version = IOGUARD_FEED_VERSION;
			memcpy(p->fixed, &h, sizeof(h));
			p->data = p->fixed;
		}
	}

	err = decision_feed_client__connect(raw_path, on_decision, &sink, &c, &eb);
	if (err)
		die("cannot connect to %s: %s", raw_path, why);
	peer = accept4(raw_listener, NULL, NULL, SOCK_CLOEXEC);
	if (peer < 0)
		die("accept: %s", strerror(errno));
	setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	for (sent = 0; sent < n_packets; sent++) {
		if (send(peer, packets[sent].data, packets[sent].len,
			 MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)packets[sent].len)
			break;
	}
	if (flags & 1) {
		close(peer);
		peer = -1;
	}

	sink.n_want = sink.n_got = 0;
	for (i = 0; i < sent && decode(packets[i].data, packets[i].len, &e, &sink); i++)
		;
	if (i == sent && peer < 0)
		e.err = -EPIPE;

	eb.msg[0] = '\0';
	err = decision_feed_client__read(c, &eb);
	if (err != e.err)
		die("the reader returned %d (%s) where the protocol says %d", err, why, e.err);
	if (err && !why[0])
		die("an error %d without a reason", err);
	if (e.message && !strstr(why, e.message))
		die("the refusal '%s' lost the server's message '%s'", why, e.message);
	if (sink.n_got != sink.n_want)
		die("the reader delivered %u decision records where the protocol says %u",
		    sink.n_got, sink.n_want);
	if (decision_feed_client__ready(c) != e.ready ||
	    (e.ready && (decision_feed_client__role(c) != e.role ||
			 decision_feed_client__server_pid(c) != e.pid)))
		die("the hello was not taken as sent");
	if (decision_feed_client__lost(c) != e.lost ||
	    decision_feed_client__count(c) != sink.n_want)
		die("loss or decision counts differ from what was sent");
	decision_feed_client__free(c);
	if (peer >= 0)
		close(peer);

	/* What the reader took from the wire goes out again through the writer. */
	for (i = 0; i < sink.n_want; i++)
		round_trip(&sink.want[i].d, sink.want[i].has_tenant ? sink.want[i].tenant : NULL,
			   &sink.want[i]);
	for (i = 0; i < sent; i++) {
		if (packets[i].len >= sizeof(struct ioguard_feed_decision))
			tenant_check(packets[i].data, flags);
	}

	/*
	 * The input as a record with unterminated strings, and as a tenant of any length:
	 * the writer cuts the tenant to its field, an empty one is none.
	 */
	memset(&d, 0, sizeof(d));
	memcpy(&d, data, size < sizeof(d) ? size : sizeof(d));
	snprintf(tenant, sizeof(tenant), "%.*s", (int)(size - 1), (const char *)data + 1);
	memset(&want, 0, sizeof(want));
	want.d = d;
	want.d.comm[sizeof(want.d.comm) - 1] = '\0';
	want.d.device[sizeof(want.d.device) - 1] = '\0';
	snprintf(want.tenant, sizeof(want.tenant), "%s", tenant);
	want.has_tenant = tenant[0];
	round_trip(&d, tenant, &want);
	return 0;
}
