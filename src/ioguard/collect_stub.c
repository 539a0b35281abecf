// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Placeholder for the BPF collector: fills the build info only, so `ioguard metrics`
 * serves a valid, nearly empty exposition. The real collector (reading the pinned or
 * loaded maps and summing per-CPU values) replaces this file.
 */
#include "ioguard.h"
#include "snapshot.h"

int metrics_collect(struct metrics_snapshot *s)
{
	return metrics_snapshot__set_build(s, IOGUARD_VERSION, NULL);
}
