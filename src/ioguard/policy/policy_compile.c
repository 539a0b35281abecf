// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "file_identity.h"
#include "policy_compile.h"

static void warn(struct compiled_policy *c, const char *fmt, const char *what,
		 const char *tenant)
{
	size_t used = strlen(c->warnings);

	snprintf(c->warnings + used, sizeof(c->warnings) - used, "%s", used ? "; " : "");
	used = strlen(c->warnings);
	snprintf(c->warnings + used, sizeof(c->warnings) - used, fmt, what, tenant);
}

static int add_match(struct compiled_policy *c, size_t *cap, __u32 tenant, __u32 kind,
		     __u32 aux, __u64 value)
{
	struct ioguard_match_key *k;

	if (c->n_matches == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;

		k = realloc(c->matches, ncap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		c->matches = k;
		*cap = ncap;
	}
	k = &c->matches[c->n_matches++];
	memset(k, 0, sizeof(*k));
	k->tenant = tenant;
	k->kind = kind;
	k->aux = aux;
	k->value = value;
	return 0;
}

static int compile_selector(struct ioguard_selector *s, const struct policy_device *d,
			    __u32 tenant)
{
	memset(s, 0, sizeof(*s));
	s->tenant = tenant;
	switch (d->kind) {
	case POLICY_DEV_BDF:
		s->kind = IOGUARD_SEL_BDF;
		/* The kernel's PCI device name: "%04x:%02x:%02x.%d". */
		snprintf(s->bdf, sizeof(s->bdf), "%04x:%02x:%02x.%d", d->bdf.domain, d->bdf.bus,
			 d->bdf.dev, d->bdf.fn);
		break;
	case POLICY_DEV_ID:
		s->kind = IOGUARD_SEL_ID;
		s->mask = (d->id.vendor == POLICY_PCI_ID_ANY ? 0 : 0xffff0000u) |
			  (d->id.device == POLICY_PCI_ID_ANY ? 0 : 0x0000ffffu);
		s->value = (((d->id.vendor & 0xffff) << 16) | (d->id.device & 0xffff)) & s->mask;
		break;
	case POLICY_DEV_CLASS:
		s->kind = IOGUARD_SEL_CLASS;
		s->value = d->class.value;
		s->mask = d->class.mask;
		break;
	case POLICY_DEV_GROUP:
		s->kind = IOGUARD_SEL_GROUP;
		s->value = d->group;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/*
 * The key of a tenant's byte account: FNV-1a of its name, so that a swap to a policy
 * that keeps the tenant keeps its account. 0 is reserved for "no account", and
 * IOGUARD_POISON_ACCOUNT for holders no one may map into.
 */
static __u64 tenant_account_id(const char *name)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return h && h != IOGUARD_POISON_ACCOUNT ? h : 1;
}

static int compile_tenant(struct compiled_policy *c, size_t *cap, const char *cgroup_root,
			  const struct policy_tenant *t, __u32 idx, struct errbuf *eb)
{
	struct ioguard_tenant *bt = &c->slot.tenants[idx];
	struct file_identity fid;
	struct errbuf why = { .note = NULL };
	char path[4096];
	struct stat st;
	size_t i;
	int err = 0;

	snprintf(bt->name, sizeof(bt->name), "%s", t->name);
	bt->max_dma_bytes = t->max_dma_bytes;
	bt->account_id = tenant_account_id(t->name);
	bt->n_windows = t->n_windows;
	for (i = 0; i < t->n_windows; i++) {
		bt->windows[i].start = t->windows[i].start;
		bt->windows[i].last = t->windows[i].last;
	}
	if (t->n_uids)
		bt->match_kinds |= 1U << IOGUARD_MATCH_UID;
	for (i = 0; i < t->n_uids && !err; i++)
		err = add_match(c, cap, idx, IOGUARD_MATCH_UID, 0, t->uids[i]);
	if (t->n_gids)
		bt->match_kinds |= 1U << IOGUARD_MATCH_GID;
	for (i = 0; i < t->n_gids && !err; i++)
		err = add_match(c, cap, idx, IOGUARD_MATCH_GID, 0, t->gids[i]);
	if (t->n_cgroups)
		bt->match_kinds |= 1U << IOGUARD_MATCH_CGROUP;
	for (i = 0; i < t->n_cgroups && !err; i++) {
		/* On cgroup v2 a cgroup's id is its directory's inode number. */
		snprintf(path, sizeof(path), "%s%s", cgroup_root,
			 strcmp(t->cgroups[i], "/") ? t->cgroups[i] : "");
		if (stat(path, &st)) {
			warn(c, "cgroup %s of tenant %s does not exist", t->cgroups[i], t->name);
			continue;
		}
		err = add_match(c, cap, idx, IOGUARD_MATCH_CGROUP, 0, st.st_ino);
	}
	if (t->n_exes)
		bt->match_kinds |= 1U << IOGUARD_MATCH_EXE;
	for (i = 0; i < t->n_exes && !err; i++) {
		/*
		 * The (s_dev, i_ino) the kernel gives the executed file, not stat()'s st_dev:
		 * see file_identity.h. A missing file matches no process, as a missing cgroup
		 * does; any other failure to resolve refuses the policy.
		 */
		err = file_identity__resolve(t->exes[i], NULL, &fid, &why);
		if (err == -ENOENT || err == -ENOTDIR) {
			warn(c, "executable %s of tenant %s does not exist", t->exes[i], t->name);
			err = 0;
			continue;
		}
		if (err)
			return errbuf_set(eb, err, "cannot resolve executable %s of tenant %s: %s",
					  t->exes[i], t->name, why.msg);
		if (!S_ISREG(fid.mode)) {
			warn(c, "executable %s of tenant %s is not a regular file", t->exes[i],
			     t->name);
			continue;
		}
		err = add_match(c, cap, idx, IOGUARD_MATCH_EXE, fid.dev, fid.ino);
	}
	if (t->n_exe_sha256)
		bt->match_kinds |= 1U << IOGUARD_MATCH_EXE_SHA256;
	for (i = 0; i < t->n_exe_sha256; i++) {
		struct ioguard_exe_digest *e = &c->slot.exe_digests[c->slot.n_exe_digests++];

		e->tenant = idx;
		memcpy(e->sha256, t->exe_sha256[i], sizeof(e->sha256));
	}
	if (err)
		errbuf_set(eb, err, "cannot compile the policy: %s", strerror(-err));
	return err;
}

int policy_compile_check_limits(const struct policy *p, struct errbuf *eb)
{
	size_t i, n_sel = 0, n_crit = 0, n_digests = 0;

	if (p->n_tenants > IOGUARD_MAX_TENANTS)
		return errbuf_set(eb, -E2BIG, "%zu tenants; the enforcement programs hold at "
				  "most %d", p->n_tenants, IOGUARD_MAX_TENANTS);
	for (i = 0; i < p->n_tenants; i++) {
		n_sel += p->tenants[i].n_devices;
		/* Counted as written: a value that resolves to nothing still counts. */
		n_crit += p->tenants[i].n_uids + p->tenants[i].n_gids +
			  p->tenants[i].n_cgroups + p->tenants[i].n_exes;
		n_digests += p->tenants[i].n_exe_sha256;
		if (p->tenants[i].n_windows > IOGUARD_MAX_WINDOWS)
			return errbuf_set(eb, -E2BIG, "tenant %s has %zu IOVA windows; at most %d",
					  p->tenants[i].name, p->tenants[i].n_windows,
					  IOGUARD_MAX_WINDOWS);
	}
	if (n_sel > IOGUARD_MAX_SELECTORS)
		return errbuf_set(eb, -E2BIG, "%zu device selectors; the enforcement programs "
				  "hold at most %d", n_sel, IOGUARD_MAX_SELECTORS);
	if (n_digests > IOGUARD_MAX_EXE_DIGESTS)
		return errbuf_set(eb, -E2BIG, "%zu exe_sha256 digests; the enforcement programs "
				  "hold at most %d, all tenants together", n_digests,
				  IOGUARD_MAX_EXE_DIGESTS);
	if (n_crit > POLICY_MAX_MATCHES)
		return errbuf_set(eb, -E2BIG, "%zu match criteria (uid, gid, cgroup and exe "
				  "values together); a policy holds at most %d, half of the "
				  "enforcement programs' %d-entry match table, which the loaded "
				  "policy and the next one share", n_crit, POLICY_MAX_MATCHES,
				  POLICY_MATCHES_MAP_ENTRIES);
	return 0;
}

int policy_compile(const struct policy *p, const char *cgroup_root,
		   struct compiled_policy **out, struct errbuf *eb)
{
	struct compiled_policy *c;
	struct timespec now;
	size_t i, j, cap = 0, n_sel = 0;
	int err;

	err = policy_compile_check_limits(p, eb);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return errbuf_set(eb, -ENOMEM, "cannot compile the policy: %s", strerror(ENOMEM));
	c->slot.mode = p->mode == POLICY_MODE_AUDIT ? IOGUARD_MODE_AUDIT : IOGUARD_MODE_ENFORCE;
	c->slot.default_allow = p->dflt == POLICY_DEFAULT_ALLOW;
	c->slot.strict = p->viability == POLICY_VIABILITY_STRICT;
	c->slot.n_tenants = p->n_tenants;
	clock_gettime(CLOCK_REALTIME, &now);
	c->slot.load_time_ns = now.tv_sec * 1000000000ULL + now.tv_nsec;
	memcpy(c->slot.hash, p->hash, sizeof(c->slot.hash));
	memcpy(&c->slot.policy_id, p->hash, sizeof(c->slot.policy_id));
	snprintf(c->slot.name, sizeof(c->slot.name), "%s", p->name);

	n_sel = 0;
	for (i = 0; i < p->n_tenants && !err; i++) {
		const struct policy_tenant *t = &p->tenants[i];

		for (j = 0; j < t->n_devices && !err; j++)
			err = compile_selector(&c->slot.selectors[n_sel++], &t->devices[j], i);
		if (err)
			errbuf_set(eb, err, "cannot compile the policy: %s", strerror(-err));
		else
			err = compile_tenant(c, &cap, cgroup_root, t, i, eb);
	}
	c->slot.n_selectors = n_sel;
	if (err) {
		compiled_policy__free(c);
		return err;
	}
	/* Marked loaded here; the slot only counts once it is written and made active. */
	c->slot.loaded = 1;
	*out = c;
	return 0;
}

void compiled_policy__free(struct compiled_policy *c)
{
	if (!c)
		return;
	free(c->matches);
	free(c);
}
