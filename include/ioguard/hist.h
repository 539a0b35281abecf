/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The histogram slot of a value, shared by the BPF programs (which count) and the
 * loader (which exports and tests the bounds), so both agree by construction.
 *
 * The one shared header that holds logic: the other ABI headers carry types and
 * constants only. A slot computed twice, once per side, could disagree by one at a
 * power of two, and the exported "le" bounds would then lie; keep the code here.
 */
#ifndef IOGUARD_HIST_H
#define IOGUARD_HIST_H

#include "ioguard/metrics.h"

_Static_assert((IOGUARD_HIST_SLOTS & (IOGUARD_HIST_SLOTS - 1)) == 0,
	       "ioguard_hist_slot() masks by the slot count");

/*
 * floor(log2(v)) for v > 0 by a shift cascade: clang 14's BPF backend cannot lower
 * __builtin_clzll, and the same code on both sides keeps the bounds identical.
 */
static inline __u32 ioguard_log2_floor(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/*
 * ioguard_hist_slot() - slot s = ceil(log2(v)), with v <= 1 in slot 0: slot s holds
 * (2^(s-1), 2^s], so a value of exactly 2^s is in slot s, whose "le" bound is 2^s.
 * Clamped to the last slot, which is exported as +Inf only.
 */
static inline __u32 ioguard_hist_slot(__u64 v)
{
	__u32 slot;

	if (v <= 1)
		return 0;
	slot = ioguard_log2_floor(v - 1) + 1;
	if (slot >= IOGUARD_HIST_SLOTS)
		slot = IOGUARD_HIST_SLOTS - 1;
	/*
	 * A no-op for the arithmetic (the slot count is a power of two), kept from the
	 * optimiser by the empty asm: 6.1's verifier loses the bound of a clamp that the
	 * compiler tests on a copy of the register, and needs one on the register it uses.
	 */
	asm volatile("" : "+r"(slot));
	return slot & (IOGUARD_HIST_SLOTS - 1);
}

#endif /* IOGUARD_HIST_H */
