/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The layout of a pinned enforcement set: which maps are pinned, their keys and values,
 * and the link names. A pinned `layout` array map holds its version, so that a loader
 * can tell its own set from an older ioguard's (which it replaces without a gap) and
 * from a newer or foreign one (which it refuses, leaving that policy in force).
 */
#ifndef IOGUARD_PINNED_LAYOUT_H
#define IOGUARD_PINNED_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "output/errbuf.h"

/*
 * PINNED_LAYOUT_VERSION - the layout this ioguard pins. Bump it whenever a pinned map
 * is added, removed or renamed, or a pinned map's key, value or type changes (the slot
 * included), and add the previous version to known_layouts[] in pinned_layout.c: a
 * loader writes into a pinned set only when the versions are equal.
 * 1: the set of b9c57cc and before (owner-bound holders), which pinned no marker.
 * 2: 1 plus the `layout` marker, exe_sha256 digests in the policy slot and the
 *    `executed` task storage; holders and accounts as in 1.
 */
#define PINNED_LAYOUT_VERSION 2

/* Pin names of the marker and of the staging directory of an upgrade (bpffs: no dots). */
#define PINNED_LAYOUT_PIN "layout"
#define PINNED_STAGING_DIR "upgrade"
/* An unfinished upgrade's staging directory, set aside while the redo attaches its set. */
#define PINNED_INTERRUPTED_DIR "upgrade_interrupted"

/* What the loader found in the pin directory; judged by pinned_layout__judge(). */
struct pinned_observation {
	bool links;			/* link_ioguard_file_ioctl is pinned */
	bool marker;			/* `layout` is pinned and readable */
	__u32 version;			/* its value */
	bool staging_marker;		/* `upgrade/layout`: an upgrade did not finish */
	__u32 staging_version;
	bool policies;			/* `policies` is a pinned array map */
	__u32 slot_size;		/* its value size */
	bool holders;			/* `holders` is pinned */
};

enum pinned_layout_kind {
	PINNED_NONE = 0,	/* no ioguard programs pinned: a first load */
	PINNED_CURRENT,		/* this layout: swap the policy in place */
	PINNED_OLDER,		/* a layout this ioguard replaces without a gap */
	PINNED_INTERRUPTED,	/* an upgrade to at most this version stopped midway: redo it */
	PINNED_NEWER,		/* refused: a newer ioguard's */
	PINNED_UNKNOWN,		/* refused: not a layout this ioguard knows */
};

/*
 * struct pinned_verdict - what to do with the pinned set.
 * @version: the pinned layout's version (0 when unknown).
 * @same_accounting: the holder and account maps have this ioguard's layout, so their
 *	contents can be carried into a replacement set.
 */
struct pinned_verdict {
	enum pinned_layout_kind kind;
	__u32 version;
	bool same_accounting;
};

/*
 * pinned_layout__judge() - decide from @o alone (no I/O, so it can be tested). Returns
 * 0, or -EPROTO for a NEWER or UNKNOWN set with the one-line reason in @eb (the
 * caller adds that the policy in force stays); @v is filled in both cases.
 */
int pinned_layout__judge(const struct pinned_observation *o, struct pinned_verdict *v,
			 struct errbuf *eb);

#endif /* IOGUARD_PINNED_LAYOUT_H */
