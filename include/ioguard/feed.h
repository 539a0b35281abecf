/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Wire format of the decision feed (src/ioguard/decisions/decision_feed.c): the records the process
 * that consumes the pinned `decisions` ring buffer hands to other ioguard processes over
 * an AF_UNIX SOCK_SEQPACKET socket. One record per packet; fixed-width types only, no
 * pointers, no logic.
 *
 * Compatibility: every record starts with struct ioguard_feed_header, whose @size is the
 * size of the whole packet. A reader refuses a @version other than its own (a change of
 * meaning bumps it), refuses a record shorter than its type's struct, ignores bytes past
 * the struct it knows (a record may grow at its end within a version) and skips types it
 * does not know. Reserved fields are zero.
 */
#ifndef IOGUARD_FEED_H
#define IOGUARD_FEED_H

#include <linux/types.h>

#include "ioguard/enforce.h"

#define IOGUARD_FEED_VERSION	1
/* No record is larger; a reader's buffer is this big and a longer packet is an error. */
#define IOGUARD_FEED_MAX_RECORD	1024
#define IOGUARD_FEED_MESSAGE_LEN 128

enum ioguard_feed_type {
	IOGUARD_FEED_HELLO = 1,		/* first record of an accepted connection */
	IOGUARD_FEED_DECISION,		/* one decision record, tenant resolved */
	IOGUARD_FEED_LOST,		/* records this client missed: its socket was full */
	IOGUARD_FEED_REFUSED,		/* last record of a refused connection */
};

/* Who serves the feed: the daemon, or an `ioguard trace` that holds the records. */
enum ioguard_feed_role {
	IOGUARD_FEED_ROLE_DAEMON = 1,
	IOGUARD_FEED_ROLE_TRACE,
};

enum ioguard_feed_refusal {
	IOGUARD_FEED_REFUSED_PERMISSION = 1,	/* peer uid neither 0 nor the server's */
	IOGUARD_FEED_REFUSED_FULL,		/* the server has its maximum of clients */
};

/*
 * struct ioguard_feed_header - start of every record.
 * @size:    bytes of the whole record, this header included
 * @version: IOGUARD_FEED_VERSION
 * @type:    enum ioguard_feed_type
 */
struct ioguard_feed_header {
	__u32 size;
	__u16 version;
	__u16 type;
};

/*
 * struct ioguard_feed_hello - the server accepted the connection. The client receives
 * every decision record the server reads from now on, or a loss record for those it
 * missed.
 * @role:        enum ioguard_feed_role
 * @pid:         the server's process id
 * @max_clients: how many clients the server serves at once
 */
struct ioguard_feed_hello {
	struct ioguard_feed_header hdr;
	__u32 role;
	__u32 pid;
	__u32 max_clients;
	__u32 reserved;
};

/*
 * struct ioguard_feed_decision - one record of the `decisions` ring buffer.
 * @decision: as the enforcement programs wrote it
 * @tenant:   the tenant's name as the server resolved it, NUL-padded; empty when the
 *            record names no tenant or its policy was gone
 */
struct ioguard_feed_decision {
	struct ioguard_feed_header hdr;
	struct ioguard_decision decision;
	char tenant[IOGUARD_NAME_LEN];
};

/*
 * struct ioguard_feed_lost - sent before the next record once the client's socket has
 * room again.
 * @records: decision records this client missed since its previous loss record
 */
struct ioguard_feed_lost {
	struct ioguard_feed_header hdr;
	__u64 records;
};

/*
 * struct ioguard_feed_refused - why the server closes this connection right away.
 * @reason:  enum ioguard_feed_refusal
 * @message: the same in words, NUL-terminated
 */
struct ioguard_feed_refused {
	struct ioguard_feed_header hdr;
	__u32 reason;
	__u32 reserved;
	char message[IOGUARD_FEED_MESSAGE_LEN];
};

#endif /* IOGUARD_FEED_H */
