// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>

#include "output/array_size.h"
#include "output/errbuf.h"
#include "pinned_layout.h"
#include "ioguard/enforce.h"

/*
 * Layouts older than this one that a load replaces. An older ioguard's programs and
 * maps are never written to (their slot may mean something else); they are only
 * detached once the replacement is attached. @slot_size identifies version 1, which
 * pinned no marker; a set without a marker and with another slot size is unknown.
 */
static const struct known_layout {
	__u32 version;
	__u32 slot_size;
	bool same_accounting;	/* holders, accounts, account_holders as in this version */
} known_layouts[] = {
	{ .version = 1, .slot_size = 9096, .same_accounting = true },
};

static const struct known_layout *find_known(__u32 version)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_layouts); i++) {
		if (known_layouts[i].version == version)
			return &known_layouts[i];
	}
	return NULL;
}

static int refuse_newer(struct pinned_verdict *v, __u32 version, const char *where,
			struct errbuf *eb)
{
	v->kind = PINNED_NEWER;
	v->version = version;
	return errbuf_set(eb, -EPROTO, "the enforcement pinned%s is of layout %u, newer than "
			  "this ioguard's (%u): load with that ioguard or a newer one", where,
			  version, PINNED_LAYOUT_VERSION);
}

int pinned_layout__judge(const struct pinned_observation *o, struct pinned_verdict *v,
			 struct errbuf *eb)
{
	const struct known_layout *k;

	v->kind = PINNED_NONE;
	v->version = 0;
	v->same_accounting = false;
	/*
	 * The marker is moved out of the staging directory last: while it is still there,
	 * the set in place is a mixture of the old one and the new one, every part with a
	 * complete policy; replacing it all again is safe only for a version we know.
	 */
	if (o->staging_marker) {
		if (o->staging_version > PINNED_LAYOUT_VERSION)
			return refuse_newer(v, o->staging_version, " (an unfinished upgrade)", eb);
		v->kind = PINNED_INTERRUPTED;
		v->version = o->staging_version;
		return 0;
	}
	if (!o->links)
		return 0;
	if (o->marker) {
		if (o->version > PINNED_LAYOUT_VERSION)
			return refuse_newer(v, o->version, "", eb);
		if (o->version == PINNED_LAYOUT_VERSION && o->policies &&
		    o->slot_size == sizeof(struct ioguard_policy_slot) && o->holders) {
			v->kind = PINNED_CURRENT;
			v->version = o->version;
			v->same_accounting = true;
			return 0;
		}
		k = o->version < PINNED_LAYOUT_VERSION ? find_known(o->version) : NULL;
		if (k) {
			v->kind = PINNED_OLDER;
			v->version = k->version;
			v->same_accounting = k->same_accounting;
			return 0;
		}
		v->kind = PINNED_UNKNOWN;
		v->version = o->version;
		return errbuf_set(eb, -EPROTO, "the enforcement pinned is marked layout %u, "
				  "which this ioguard (layout %u) does not know%s: to replace "
				  "it, run 'ioguard unload' and load again", o->version,
				  PINNED_LAYOUT_VERSION, o->version == PINNED_LAYOUT_VERSION ?
				  " with these maps (policy slot or holders differ)" : "");
	}
	/* No marker: version 1 if its maps are version 1's. */
	k = find_known(1);
	if (k && o->policies && o->slot_size == k->slot_size && o->holders) {
		v->kind = PINNED_OLDER;
		v->version = 1;
		v->same_accounting = k->same_accounting;
		return 0;
	}
	v->kind = PINNED_UNKNOWN;
	return errbuf_set(eb, -EPROTO, "the enforcement pinned has no layout marker and is not "
			  "one this ioguard knows (policy slot of %u bytes%s, version 1 has %u "
			  "and holders): to replace it, run 'ioguard unload' and load again",
			  o->policies ? o->slot_size : 0, o->holders ? "" : ", no holders",
			  k ? k->slot_size : 0);
}
