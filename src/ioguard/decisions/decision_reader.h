/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The consumer of the enforcement programs' decision records: the pinned `decisions`
 * ring buffer under pins_dir(), with each record's tenant resolved to its name
 * through the pinned policy slots.
 *
 * One consumer at a time: a BPF ring buffer has one consumer position, and two readers
 * would split (or repeat) the records between them. The reader therefore holds an
 * exclusive flock(2) on the pin directory while it consumes; a second reader (an
 * `ioguard trace` next to the daemon) gets -EBUSY and reads the holder's decision feed
 * instead (decision_source.h).
 */
#ifndef IOGUARD_DECISION_READER_H
#define IOGUARD_DECISION_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "output/errbuf.h"
#include "ioguard/enforce.h"

/* @tenant: the tenant's name, or NULL when the record names none (or its policy is gone). */
typedef void (*decision_fn)(void *ctx, const struct ioguard_decision *d, const char *tenant);

struct decision_reader;

/*
 * decision_reader__open() - start consuming the pinned decision records
 * @fn:     called per record, from decision_reader__consume().
 * @ctx:    passed to @fn.
 * @out:    the reader, which owns its ring buffer mapping.
 * @eb:     when no reader was opened, why (nothing pinned, another consumer).
 *
 * Return: 0; -ENOENT when enforcement is not pinned; -EBUSY when another process holds
 * the records; another negative errno. @eb says which, in a sentence.
 */
int decision_reader__open(decision_fn fn, void *ctx, struct decision_reader **out,
			  struct errbuf *eb);
/* Frees the ring and releases the lock, so another reader can take over. Accepts NULL. */
void decision_reader__free(struct decision_reader *r);

/* decision_reader__fd() - an fd for poll(): readable when records wait. Owned by @r. */
int decision_reader__fd(const struct decision_reader *r);
/*
 * decision_reader__consume() - hand every record waiting to @fn, without blocking.
 * Return: how many, or a negative errno.
 */
int decision_reader__consume(struct decision_reader *r);

/*
 * decision_reader__replaced() - the pinned `decisions` map is no longer the one @r reads:
 * it was unpinned (`ioguard unload`), or another one was pinned in its place (then
 * `ioguard load`). Compares map ids; a failure other than a missing pin says false.
 */
bool decision_reader__replaced(const struct decision_reader *r);

/*
 * decision_tenant_name() - the name of tenant @tenant of the policy @policy_id that was
 * in generation @gen, from the slot @slot (as read from the pinned `policies` map), or
 * NULL when the record names no tenant, the slot holds another policy now, or the name
 * is empty or has no NUL within its IOGUARD_NAME_LEN bytes.
 */
const char *decision_tenant_name(const struct ioguard_policy_slot *slot, __u64 policy_id,
				 __s32 tenant);

#endif /* IOGUARD_DECISION_READER_H */
