/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When a ring buffer of trace records wakes its reader: when the records waiting cross
 * EVENTS_WAKEUP_BYTES, not for every record. A wakeup is an irq_work and a context
 * switch, which costs the traced process more than the record itself. Only the record
 * that crosses the threshold wakes: a reader that lags further behind is awake already
 * (it finds data at once when it polls again), and waking it for every record would
 * throttle the producer instead. Below the threshold a record waits for the reader's
 * next timed consume, so every reader of such a ring must consume on a timer as well as
 * on wakeups (ioguard trace every 100 ms, the daemon every 200 ms).
 */
#ifndef IOGUARD_EVENTS_WAKEUP_BPF_H
#define IOGUARD_EVENTS_WAKEUP_BPF_H

#define EVENTS_WAKEUP_BYTES (64 * 1024)
#define EVENTS_RINGBUF_HDR_BYTES 8	/* BPF_RINGBUF_HDR_SZ */

/*
 * The flags for bpf_ringbuf_output() of a @record_bytes record into @ringbuf, whose
 * records are all of that size: the waiting bytes cross the threshold with exactly one
 * of them.
 */
static __always_inline __u64 events_wakeup_flags(void *ringbuf, __u64 record_bytes)
{
	__u64 waiting = bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA);
	__u64 slot = ((record_bytes + 7) & ~7ULL) + EVENTS_RINGBUF_HDR_BYTES;

	return waiting >= EVENTS_WAKEUP_BYTES - slot && waiting < EVENTS_WAKEUP_BYTES ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#endif /* IOGUARD_EVENTS_WAKEUP_BPF_H */
