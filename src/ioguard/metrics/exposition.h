/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition (format 0.0.4) of a struct metrics_snapshot, written into a
 * struct buf (buf.h). docs/metrics.md lists every family.
 */
#ifndef IOGUARD_EXPOSITION_H
#define IOGUARD_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "output/buf.h"
#include "snapshot.h"

/* The Content-Type of what exposition_render() writes. */
#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * exposition_render() - append the exposition of @s to @out
 * @s:   the snapshot, printed in array order (call metrics_snapshot__sort() first for a
 *       stable series order).
 * @out: the buffer; what it held before is kept.
 *
 * Every family gets HELP and TYPE lines, even when it has no sample; the daemon's
 * families (struct metrics_daemon) come last and only when @s->daemon.present.
 * Return: 0 or -ENOMEM (@out then holds a partial text that must not be served).
 */
int exposition_render(const struct metrics_snapshot *s, struct buf *out);

/*
 * exposition_render_posture() - append the ioguard_host_* and ioguard_enforcement_*
 * families of @s->posture (exposition_posture.c); exposition_render() calls it after
 * the IOMMU's families, before the daemon's own.
 * Return: 0 or -ENOMEM.
 */
int exposition_render_posture(const struct metrics_snapshot *s, struct buf *out);

/*
 * The exported window of bucket bounds. The BPF side counts all IOGUARD_HIST_SLOTS slots;
 * a histogram of @kind is exported as the buckets le = 2^s units for
 * s = exposition_first_slot(kind) .. EXPOSITION_LAST_SLOT, then le="+Inf". Because the
 * buckets are cumulative this loses no count: the first bucket also holds every slot
 * below it, and the slots above EXPOSITION_LAST_SLOT (only the clamped one) are in +Inf.
 * Every exported "le" is still a true slot bound, and the window never depends on the
 * data, so the set of series stays the same from scrape to scrape. docs/metrics.md
 * explains the choice of bounds.
 */
#define EXPOSITION_FIRST_SLOT_LATENCY 6		/* 2^6 ns = 64 ns */
#define EXPOSITION_FIRST_SLOT_SIZE 12		/* 2^12 bytes = 4 KiB */
#define EXPOSITION_LAST_SLOT (IOGUARD_HIST_SLOTS - 2)	/* 2^30: the last finite bound */

/* The first exported slot of @kind (enum ioguard_hist_kind). */
__u32 exposition_first_slot(__u32 kind);

/*
 * exposition_le() - the "le" label value of histogram slot @slot
 * @kind: enum ioguard_hist_kind; latency bounds are in seconds, sizes in bytes.
 * @slot: 0 .. IOGUARD_HIST_SLOTS - 1; the last slot is "+Inf".
 * @out:  at least EXPOSITION_LE_LEN bytes.
 *
 * The bound of slot s is 2^s nanoseconds or bytes, printed exactly, the way Go's
 * strconv.FormatFloat(v, 'g', -1, 64) prints it (so as client_golang would):
 * "1e-09", "5.12e-07", "0.000131072", "1.073741824"; "4096", "1.048576e+06".
 * Slots below the exported window have a bound too; the exposition does not print them.
 * Return: @out.
 */
#define EXPOSITION_LE_LEN 24
const char *exposition_le(__u32 kind, __u32 slot, char *out);

/* Appends @v with '\\', '"' and newline escaped as the format requires. */
void exposition_escape(struct buf *b, const char *v);

#endif /* IOGUARD_EXPOSITION_H */
