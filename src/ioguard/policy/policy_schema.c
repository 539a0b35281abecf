// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The policy format: every key, its type, its default and its limits, the meaning the
 * parser gives each value, and the checks between keys (overlapping windows, a device or
 * group with two owners). docs/policy.md describes the same format for operators; change
 * the two together (tests/cli/policy_schema_doc.sh compares their keys).
 *
 * The tables of keys (*_keys[]) drive parse_mapping() of policy_parse.c; a v_*() function
 * parses one key's value into the object the mapping fills.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "output/array_size.h"
#include "output/hex.h"
#include "output/pci_address.h"
#include "policy_parse.h"

/* ------------------------------------------------------------------------------------ */
/* Tenants: match                                                                        */

/* A scalar or a non-empty list of scalars, each handed to @one. */
static int scalar_or_list(struct parser *ps, const struct key *k, const char *what,
			  struct policy_tenant *t,
			  int (*one)(struct parser *ps, const char *key, struct policy_tenant *t))
{
	yaml_mark_t list_mark;
	bool empty = true;
	struct qbuf q;
	int err;

	if (ps->ev.type == YAML_SCALAR_EVENT) {
		err = parse_want_scalar(ps, k->name, what);
		return err ? err : one(ps, k->name, t);
	}
	err = parse_want_start(ps, YAML_SEQUENCE_START_EVENT, k->name, what);
	if (err)
		return err;
	list_mark = *parse_cur_mark(ps);
	for (;;) {
		err = parse_next_event(ps);
		if (err)
			return err;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ps->ev.type != YAML_SCALAR_EVENT)
			return fail(ps, parse_cur_mark(ps), "items of '%s' must be scalars, found %s",
				    k->name, parse_found(ps, &q));
		err = parse_want_scalar(ps, k->name, what);
		if (err)
			return err;
		err = one(ps, k->name, t);
		if (err)
			return err;
		empty = false;
	}
	if (empty)
		return fail(ps, &list_mark,
			    "'%s' is an empty list (leave the key out to match any)",
			    k->name);
	return 0;
}

static int one_id(struct parser *ps, const char *key, uint32_t **arr, size_t *n)
{
	uint64_t v;
	int err;

	err = parse_scalar_uint(ps, key, key, UINT32_MAX - 1, &v);
	if (err)
		return err;
	if (PUSH(*arr, *n))
		return parse_oom(ps);
	(*arr)[*n - 1] = v;
	return 0;
}

static int one_uid(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_id(ps, key, &t->uids, &t->n_uids);
}

static int one_gid(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_id(ps, key, &t->gids, &t->n_gids);
}

static int one_path(struct parser *ps, const char *what, char ***arr, size_t *n)
{
	if (PUSH(*arr, *n))
		return parse_oom(ps);
	return parse_scalar_path(ps, what, &(*arr)[*n - 1]);
}

static int one_cgroup(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_path(ps, "cgroup path", &t->cgroups, &t->n_cgroups);
}

static int one_exe(struct parser *ps, const char *key, struct policy_tenant *t)
{
	return one_path(ps, "executable path", &t->exes, &t->n_exes);
}


/* 64 hexadecimal digits, as sha256sum prints them; either case. */
static int one_exe_sha256(struct parser *ps, const char *key, struct policy_tenant *t)
{
	const char *v = parse_cur_scalar(ps);
	uint32_t byte = 0;
	struct qbuf q;
	size_t i;

	if (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64)
		return fail(ps, parse_cur_mark(ps), "bad %s '%s' (expected a SHA-256 digest: 64 "
			    "hexadecimal digits, as sha256sum prints it)", key, parse_quote(&q, v));
	if (PUSH(t->exe_sha256, t->n_exe_sha256))
		return parse_oom(ps);
	for (i = 0; i < 32; i++) {
		hex_parse(v + 2 * i, 2, &byte);
		t->exe_sha256[t->n_exe_sha256 - 1][i] = byte;
	}
	return 0;
}

static int v_uid(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "an integer or a list of integers", obj, one_uid);
}

static int v_gid(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "an integer or a list of integers", obj, one_gid);
}

static int v_cgroup(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a path or a list of paths", obj, one_cgroup);
}

static int v_exe(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a path or a list of paths", obj, one_exe);
}

static int v_exe_sha256(struct parser *ps, void *obj, const struct key *k)
{
	return scalar_or_list(ps, k, "a SHA-256 digest or a list of them", obj, one_exe_sha256);
}

static const struct key match_keys[] = {
	{ "uid", false, v_uid },
	{ "gid", false, v_gid },
	{ "cgroup", false, v_cgroup },
	{ "exe", false, v_exe },
	{ "exe_sha256", false, v_exe_sha256 },
};

static int v_match(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;
	yaml_mark_t mark;
	int err;

	err = parse_want_start(ps, YAML_MAPPING_START_EVENT, k->name,
			 "a mapping with uid, gid, cgroup, exe or exe_sha256");
	if (err)
		return err;
	mark = *parse_cur_mark(ps);
	err = parse_mapping(ps, "match", match_keys, ARRAY_SIZE(match_keys), t);
	if (err)
		return err;
	if (!t->n_uids && !t->n_gids && !t->n_cgroups && !t->n_exes && !t->n_exe_sha256)
		return fail(ps, &mark, "'match' is empty (expected at least one of: uid, gid, "
			    "cgroup, exe, exe_sha256)");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Tenants: devices                                                                      */

/* A PCI address (pci_address.h's grammar), its device and function in range. */
static int dev_bdf(struct parser *ps, struct policy_device *d)
{
	const char *v = parse_cur_scalar(ps);
	struct pci_address a;
	struct qbuf q;
	int err;

	err = pci_address_parse(v, &a);
	if (err == -ERANGE && a.dev > 0x1f)
		return fail(ps, parse_cur_mark(ps),
			    "bad PCI address '%s': device 0x%02x is out of range (0x00 to 0x1f)",
			    parse_quote(&q, v), a.dev);
	if (err == -ERANGE)
		return fail(ps, parse_cur_mark(ps),
			    "bad PCI address '%s': function %x is out of range (0 to 7)",
			    parse_quote(&q, v), a.fn);
	if (err)
		return fail(ps, parse_cur_mark(ps),
			    "bad PCI address '%s' (expected [DOMAIN:]BUS:DEVICE.FUNCTION in hex, "
			    "like 0000:01:00.0)", parse_quote(&q, v));
	/*
	 * The programs compare the kernel's device name in IOGUARD_BDF_LEN (16) bytes, NUL
	 * included: an 8-digit domain's name loses its function there, so two functions
	 * would share one selector.
	 */
	if (a.domain > 0x0fffffff)
		return fail(ps, parse_cur_mark(ps),
			    "PCI address '%s' is not supported: the enforcement programs compare "
			    "device names in 15 characters, which cut the function off a domain of "
			    "8 digits (select the device by group or id)", parse_quote(&q, v));
	d->kind = POLICY_DEV_BDF;
	d->bdf.domain = a.domain;
	d->bdf.bus = a.bus;
	d->bdf.dev = a.dev;
	d->bdf.fn = a.fn;
	return 0;
}

/* VVVV:DDDD, each 4 hex digits or '*'. */
static int dev_id(struct parser *ps, struct policy_device *d)
{
	const char *v = parse_cur_scalar(ps);
	uint32_t ven = POLICY_PCI_ID_ANY, dev = POLICY_PCI_ID_ANY;
	const char *colon = strchr(v, ':');
	struct qbuf q;

	if (!colon ||
	    !(colon - v == 1 ? v[0] == '*' : colon - v == 4 && hex_parse(v, 4, &ven)) ||
	    !(!strcmp(colon + 1, "*") || (strlen(colon + 1) == 4 && hex_parse(colon + 1, 4, &dev))))
		return fail(ps, parse_cur_mark(ps),
			    "bad vendor:device ID '%s' (expected VVVV:DDDD, 4 hex digits or * each, "
			    "like 8086:10d3 or 8086:*)", parse_quote(&q, v));
	d->kind = POLICY_DEV_ID;
	d->id.vendor = ven;
	d->id.device = dev;
	return 0;
}

/* 0xCCSSPP or 0xCCSSPP/0xMMMMMM. */
static int dev_class(struct parser *ps, struct policy_device *d)
{
	const char *v = parse_cur_scalar(ps);
	uint32_t val, mask = 0xffffff;
	size_t n = strlen(v);
	struct qbuf q;

	if ((n != 8 && n != 17) || v[0] != '0' || tolower((unsigned char)v[1]) != 'x' ||
	    !hex_parse(v + 2, 6, &val) ||
	    (n == 17 && (v[8] != '/' || v[9] != '0' || tolower((unsigned char)v[10]) != 'x' ||
			 !hex_parse(v + 11, 6, &mask))))
		return fail(ps, parse_cur_mark(ps),
			    "bad PCI class '%s' (expected 0xCCSSPP with 6 hex digits, optionally "
			    "/0xMMMMMM as a mask, like 0x020000 or 0x020000/0xff0000)", parse_quote(&q, v));
	if (val & ~mask)
		return fail(ps, parse_cur_mark(ps),
			    "PCI class '%s' sets bits outside its mask (0x%06x)", parse_quote(&q,
											      v),
			    val & ~mask);
	d->kind = POLICY_DEV_CLASS;
	d->class.value = val;
	d->class.mask = mask;
	return 0;
}

static int dev_group(struct parser *ps, struct policy_device *d)
{
	uint64_t v;
	int err;

	err = parse_scalar_uint(ps, "group", "IOMMU group", INT32_MAX, &v);
	if (err)
		return err;
	d->kind = POLICY_DEV_GROUP;
	d->group = v;
	return 0;
}

struct selector {
	struct policy_device *d;
	const char *first;	/* the key already seen, if any */
};

static int v_selector(struct parser *ps, void *obj, const struct key *k)
{
	static const char *const what[] = {
		[POLICY_DEV_BDF] = "a PCI address",
		[POLICY_DEV_ID] = "a vendor:device ID",
		[POLICY_DEV_CLASS] = "a PCI class",
		[POLICY_DEV_GROUP] = "an IOMMU group number",
	};
	static int (*const parse[])(struct parser *, struct policy_device *) = {
		dev_bdf, dev_id, dev_class, dev_group,
	};
	struct selector *s = obj;
	size_t kind;
	int err;

	kind = !strcmp(k->name, "bdf") ? POLICY_DEV_BDF : !strcmp(k->name, "id") ? POLICY_DEV_ID :
	       !strcmp(k->name, "class") ? POLICY_DEV_CLASS : POLICY_DEV_GROUP;
	if (s->first)
		return fail(ps, parse_cur_mark(ps),
			    "device selector has both '%s' and '%s' (write one selector per list "
			    "item)", s->first, k->name);
	s->first = k->name;
	err = parse_want_scalar(ps, k->name, what[kind]);
	if (err)
		return err;
	s->d->pos.line = parse_cur_mark(ps)->line + 1;
	s->d->pos.column = parse_cur_mark(ps)->column + 1;
	return parse[kind](ps, s->d);
}

static const struct key selector_keys[] = {
	{ "bdf", false, v_selector },
	{ "id", false, v_selector },
	{ "class", false, v_selector },
	{ "group", false, v_selector },
};

/* One item of 'devices'. */
static int device_selector(struct parser *ps, void *obj)
{
	struct policy_tenant *t = obj;
	yaml_mark_t sel_mark = *parse_cur_mark(ps);
	struct selector s;
	int err;

	if (PUSH(t->devices, t->n_devices))
		return parse_oom(ps);
	s.d = &t->devices[t->n_devices - 1];
	s.first = NULL;
	s.d->pos.line = sel_mark.line + 1;
	s.d->pos.column = sel_mark.column + 1;
	err = parse_mapping(ps, "device selector", selector_keys, ARRAY_SIZE(selector_keys), &s);
	if (err)
		return err;
	if (!s.first)
		return fail(ps, &sel_mark,
			    "empty device selector (expected one of: bdf, id, class, group)");
	return 0;
}

static int v_devices(struct parser *ps, void *obj, const struct key *k)
{
	return parse_seq_of_mappings(ps, k->name, "a list of device selectors",
				     "device selector must be a mapping with one of: bdf, id, "
				     "class, group; ",
				     "'devices' is empty: a tenant owns at least one device",
				     device_selector, obj);
}

/* ------------------------------------------------------------------------------------ */
/* Tenants: DMA limits                                                                   */

static int v_max_dma(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj;

	return parse_scalar_size(ps, k->name, &t->max_dma_bytes);
}

enum { W_START, W_END, W_BASE, W_SIZE };

struct window {
	uint64_t v[4];
	yaml_mark_t mark[4];
	bool seen[4];
};

static int v_window_field(struct parser *ps, void *obj, const struct key *k)
{
	static const char *const names[] = { "start", "end", "base", "size" };
	struct window *w = obj;
	int i, other;

	for (i = 0; strcmp(names[i], k->name); i++)
		;
	other = i < W_BASE ? W_BASE : W_START;
	if (w->seen[other] || w->seen[other + 1])
		return fail(ps, &ps->ev.start_mark,
			    "IOVA window mixes '%s' with '%s' (use start and end, or base and size)",
			    k->name, names[w->seen[other] ? other : other + 1]);
	w->seen[i] = true;
	w->mark[i] = *parse_cur_mark(ps);
	return parse_scalar_size(ps, k->name, &w->v[i]);
}

static const struct key window_keys[] = {
	{ "start", false, v_window_field },
	{ "end", false, v_window_field },
	{ "base", false, v_window_field },
	{ "size", false, v_window_field },
};

static bool pos_before(const struct policy_pos *a, const struct policy_pos *b)
{
	return a->line < b->line || (a->line == b->line && a->column < b->column);
}

static int cmp_window(const void *a, const void *b)
{
	const struct policy_window *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return pos_before(&x->pos, &y->pos) ? -1 : pos_before(&y->pos, &x->pos);
}

/* Sorts the windows and refuses overlaps, naming the pair's later window in the file. */
static int windows_check(struct parser *ps, struct policy_tenant *t)
{
	const struct policy_window *bad = NULL, *other = NULL, *a, *b;
	yaml_mark_t m;
	size_t i;

	qsort(t->windows, t->n_windows, sizeof(*t->windows), cmp_window);
	for (i = 1; i < t->n_windows; i++) {
		a = &t->windows[i - 1];
		b = &t->windows[i];
		if (b->start > a->last)
			continue;
		if (pos_before(&b->pos, &a->pos)) {
			const struct policy_window *x = a;

			a = b;
			b = x;
		}
		if (!bad || pos_before(&b->pos, &bad->pos)) {
			bad = b;
			other = a;
		}
	}
	if (!bad)
		return 0;
	m.line = bad->pos.line - 1;
	m.column = bad->pos.column - 1;
	return fail(ps, &m,
		    "IOVA window 0x%llx-0x%llx overlaps window 0x%llx-0x%llx (line %u, column %u)",
		    (unsigned long long)bad->start, (unsigned long long)bad->last,
		    (unsigned long long)other->start, (unsigned long long)other->last,
		    other->pos.line, other->pos.column);
}

/* One item of 'iova_windows', in either of its two forms. */
static int iova_window(struct parser *ps, void *obj)
{
	struct policy_tenant *t = obj;
	yaml_mark_t wmark = *parse_cur_mark(ps);
	struct policy_window *pw;
	struct window w = { 0 };
	int err;

	err = parse_mapping(ps, "IOVA window", window_keys, ARRAY_SIZE(window_keys), &w);
	if (err)
		return err;
	if (PUSH(t->windows, t->n_windows))
		return parse_oom(ps);
	pw = &t->windows[t->n_windows - 1];
	pw->pos.line = wmark.line + 1;
	pw->pos.column = wmark.column + 1;
	if (w.seen[W_START] && w.seen[W_END]) {
		if (w.v[W_END] < w.v[W_START])
			return fail(ps, &w.mark[W_END],
				    "IOVA window end 0x%llx is below its start 0x%llx",
				    (unsigned long long)w.v[W_END], (unsigned long long)w.v[W_START]);
		pw->start = w.v[W_START];
		pw->last = w.v[W_END];
	} else if (w.seen[W_BASE] && w.seen[W_SIZE]) {
		if (!w.v[W_SIZE])
			return fail(ps, &w.mark[W_SIZE], "IOVA window is empty (size 0)");
		if (w.v[W_SIZE] - 1 > UINT64_MAX - w.v[W_BASE])
			return fail(ps, &w.mark[W_SIZE],
				    "IOVA window 0x%llx + 0x%llx goes past the end of the 64-bit "
				    "IOVA space", (unsigned long long)w.v[W_BASE],
				    (unsigned long long)w.v[W_SIZE]);
		pw->start = w.v[W_BASE];
		pw->last = w.v[W_BASE] + (w.v[W_SIZE] - 1);
	} else {
		return fail(ps, &wmark,
			    "incomplete IOVA window (expected start and end, or base and size)");
	}
	return 0;
}

static int v_windows(struct parser *ps, void *obj, const struct key *k)
{
	int err;

	err = parse_seq_of_mappings(ps, k->name, "a list of windows",
				    "IOVA window must be a mapping with start and end, or base "
				    "and size; ",
				    "'iova_windows' is empty (leave the key out to allow any IOVA)",
				    iova_window, obj);
	return err ? err : windows_check(ps, obj);
}

/* ------------------------------------------------------------------------------------ */
/* Tenants                                                                               */

static int v_tenant_name(struct parser *ps, void *obj, const struct key *k)
{
	struct policy_tenant *t = obj, *o;
	int err;

	err = parse_scalar_name(ps, k->name, &t->name);
	if (err)
		return err;
	for (o = ps->p->tenants; o < t; o++)
		if (!strcmp(o->name, t->name))
			return fail(ps, parse_cur_mark(ps),
				    "duplicate tenant name '%s' (first at line %u, column %u)",
				    t->name, o->pos.line, o->pos.column);
	return 0;
}

static const struct key tenant_keys[] = {
	{ "name", true, v_tenant_name },
	{ "match", true, v_match },
	{ "devices", true, v_devices },
	{ "max_dma_bytes", false, v_max_dma },
	{ "iova_windows", false, v_windows },
};

/* One item of 'tenants'. */
static int tenant(struct parser *ps, void *obj)
{
	struct policy *p = obj;
	struct policy_tenant *t;

	if (PUSH(p->tenants, p->n_tenants))
		return parse_oom(ps);
	t = &p->tenants[p->n_tenants - 1];
	t->max_dma_bytes = POLICY_DMA_UNLIMITED;
	t->pos.line = parse_cur_mark(ps)->line + 1;
	t->pos.column = parse_cur_mark(ps)->column + 1;
	return parse_mapping(ps, "tenant", tenant_keys, ARRAY_SIZE(tenant_keys), t);
}

static int v_tenants(struct parser *ps, void *obj, const struct key *k)
{
	return parse_seq_of_mappings(ps, k->name, "a list of tenants", "tenant must be a mapping, ",
				     NULL, tenant, obj);
}

/* ------------------------------------------------------------------------------------ */
/* The policy                                                                            */

static int v_name(struct parser *ps, void *obj, const struct key *k)
{
	return parse_scalar_name(ps, k->name, &((struct policy *)obj)->name);
}

static int v_mode(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = parse_scalar_enum(ps, k->name, "enforce", "audit", &v);
	if (!err)
		((struct policy *)obj)->mode = v ? POLICY_MODE_AUDIT : POLICY_MODE_ENFORCE;
	return err;
}

static int v_default(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = parse_scalar_enum(ps, k->name, "deny", "allow", &v);
	if (!err)
		((struct policy *)obj)->dflt = v ? POLICY_DEFAULT_ALLOW : POLICY_DEFAULT_DENY;
	return err;
}

static int v_viability(struct parser *ps, void *obj, const struct key *k)
{
	int v = 0, err;

	err = parse_scalar_enum(ps, k->name, "kernel", "strict", &v);
	if (!err)
		((struct policy *)obj)->viability = v ? POLICY_VIABILITY_STRICT : POLICY_VIABILITY_KERNEL;
	return err;
}

static const struct key policy_keys[] = {
	{ "name", true, v_name },
	{ "mode", true, v_mode },
	{ "default", true, v_default },
	{ "viability", false, v_viability },
	{ "tenants", false, v_tenants },
};

/*
 * Ownership that can be decided without the topology: one BDF, or one IOMMU group, named
 * by two selectors. Sorting keeps this O(n log n) on a 1 MiB file of selectors.
 */
struct owner {
	uint64_t key;	/* 1 << 48 | group, or domain << 16 | bus << 8 | devfn */
	const struct policy_tenant *t;
	const struct policy_device *d;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return pos_before(&x->d->pos, &y->d->pos) ? -1 : pos_before(&y->d->pos, &x->d->pos);
}

static int ownership_check(struct parser *ps)
{
	const struct owner *bad = NULL, *first = NULL;
	struct owner *o = NULL;
	const struct policy_device *d;
	const struct policy_tenant *t;
	size_t n = 0, i, j, run = 0;
	char what[48];
	yaml_mark_t m;
	int err = 0;

	/* Indices, not pointer ranges: a policy without tenants has tenants == NULL. */
	for (i = 0; i < ps->p->n_tenants; i++) {
		t = &ps->p->tenants[i];
		for (j = 0; j < t->n_devices; j++) {
			d = &t->devices[j];
			if (d->kind != POLICY_DEV_BDF && d->kind != POLICY_DEV_GROUP)
				continue;
			if (PUSH(o, n)) {
				err = parse_oom(ps);
				goto out_free;
			}
			o[n - 1].t = t;
			o[n - 1].d = d;
			o[n - 1].key = d->kind == POLICY_DEV_GROUP ?
				       (uint64_t)1 << 48 | d->group :
				       (uint64_t)d->bdf.domain << 16 | d->bdf.bus << 8 |
				       d->bdf.dev << 3 | d->bdf.fn;
		}
	}
	if (o)
		qsort(o, n, sizeof(*o), cmp_owner);
	for (i = 1; i < n; i++) {
		if (o[i].key != o[run].key) {
			run = i;
			continue;
		}
		if (!bad || pos_before(&o[i].d->pos, &bad->d->pos)) {
			bad = &o[i];
			first = &o[run];
		}
	}
	if (!bad)
		goto out_free;
	d = bad->d;
	if (d->kind == POLICY_DEV_GROUP)
		snprintf(what, sizeof(what), "IOMMU group %u", d->group);
	else
		snprintf(what, sizeof(what), "device %04x:%02x:%02x.%x", d->bdf.domain,
			 d->bdf.bus, d->bdf.dev, d->bdf.fn);
	m.line = d->pos.line - 1;
	m.column = d->pos.column - 1;
	if (first->t == bad->t)
		err = fail(ps, &m, "%s is listed twice in tenant '%s' (first at line %u, column %u)",
			   what, bad->t->name, first->d->pos.line, first->d->pos.column);
	else
		err = fail(ps, &m,
			   "%s is already owned by tenant '%s' (line %u, column %u); a %s has "
			   "one owner", what, first->t->name, first->d->pos.line,
			   first->d->pos.column, d->kind == POLICY_DEV_GROUP ? "group" : "device");
out_free:
	free(o);
	return err;
}

int parse_stream(struct parser *ps)
{
	yaml_mark_t start = { 0 };
	struct qbuf q;
	int err;

	err = parse_next_event(ps);	/* STREAM_START */
	if (err)
		return err;
	err = parse_next_event(ps);
	if (err)
		return err;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return fail(ps, &start, ps->len ? "policy file has no YAML document (only comments "
				      "or blank lines)" : "policy file is empty");
	err = parse_next_event(ps);	/* the document's root node */
	if (err)
		return err;
	if (ps->ev.type == YAML_SCALAR_EVENT && parse_cur_is_null(ps))
		return fail(ps, parse_cur_mark(ps), "policy document is empty");
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, parse_cur_mark(ps),
			    "policy must be a mapping with keys name, mode, default, viability, "
			    "tenants; found %s", parse_found(ps, &q));
	err = parse_mapping(ps, "policy", policy_keys, ARRAY_SIZE(policy_keys), ps->p);
	if (err)
		return err;
	err = parse_next_event(ps);	/* DOCUMENT_END */
	if (err)
		return err;
	err = parse_next_event(ps);
	if (err)
		return err;
	if (ps->ev.type == YAML_DOCUMENT_START_EVENT)
		return fail(ps, parse_cur_mark(ps),
			    "a second YAML document: a policy file holds exactly one");
	return ownership_check(ps);
}
