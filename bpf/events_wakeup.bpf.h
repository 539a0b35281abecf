/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When a ring buffer of trace records wakes its reader: once EVENTS_WAKEUP_BYTES wait,
 * not for every record. A wakeup is an irq_work and a context switch, which costs the
 * traced process more than the record itself. Below the threshold a record waits for
 * the reader's next timed consume, so every reader of such a ring must consume on a
 * timer as well as on wakeups (ioguard trace every 100 ms, the daemon every 200 ms).
 */
#ifndef IOGUARD_EVENTS_WAKEUP_BPF_H
#define IOGUARD_EVENTS_WAKEUP_BPF_H

#define EVENTS_WAKEUP_BYTES (64 * 1024)

/* The flags for bpf_ringbuf_output() of one record into @ringbuf. */
static __always_inline __u64 events_wakeup_flags(void *ringbuf)
{
	return bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA) >= EVENTS_WAKEUP_BYTES ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#endif /* IOGUARD_EVENTS_WAKEUP_BPF_H */
