// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Relocates every program the loaders would load against the BTF of the kernels at hand
 * (this host's, and the lab kernels' from scripts/kernel-cache.sh btf), offline, so that a
 * kernel's changes fail here rather than in the field. Per kernel and per program whose
 * target exists there (tracer_program_wanted/_target, enforcer_program_target: the
 * loaders' own rule):
 *
 *  (a) a CO-RE relocation that does not resolve against vmlinux and the modules' BTF and
 *      is not a *_exists check: libbpf poisons its instruction, and the verifier rejects
 *      the program if that instruction is reachable. Reachability is computed as the
 *      verifier prunes: constants (the resolved *_exists values included) decide branches;
 *  (b) a ctx slot read beyond the target's arguments (fexit and LSM may read one more:
 *      the return value), "func 'X' doesn't have N-th argument" at load;
 *  (c) an argument the program reads, declared in BPF_PROG() (DWARF of ____name), whose
 *      kernel type is incompatible: pointer against integer, pointers to different
 *      structs, or an integer narrower than the program reads (its upper bytes are
 *      undefined).
 *
 * The CO-RE matching follows libbpf's relo_core.c for the kinds the programs use
 * (candidates by essential name and kind, members by name through anonymous members,
 * field kind compatibility); type compatibility beyond the kind is not compared.
 *
 * The kernels: KERNEL_BTF_LIST (make's kernel-btf step writes it) has lines "NAME DIR",
 * DIR holding vmlinux.btf and modules/<mod>.btf. A lab kernel without a line is SKIPPED,
 * saying why; the host's /sys/kernel/btf is always checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "prog/enforcer.h"
#include "prog/tracer.h"
#include "enforce.skel.h"
#include "trace.skel.h"

#ifndef KERNEL_BTF_LIST
#define KERNEL_BTF_LIST "build/kernel-btf.list"
#endif
#define MAX_MODULES 64
#define MAX_FAILS 4096

/* ---- a kernel's BTF: vmlinux and its modules, with a name index for candidates ---- */

struct name_ent {
	const char *name;	/* essential name */
	size_t len;
	const struct btf *btf;
	__u32 id;
};

struct kernel {
	const char *name;
	char dir[4096];
	struct btf *vmlinux;
	struct btf *mods[MAX_MODULES];
	size_t n_mods;
	struct name_ent *idx;
	size_t n_idx;
};

static size_t essential_len(const char *name)
{
	const char *f = strstr(name, "___");

	return f ? (size_t)(f - name) : strlen(name);
}

static int name_ent_cmp(const void *a, const void *b)
{
	const struct name_ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void index_btf(struct kernel *k, const struct btf *btf, __u32 first)
{
	__u32 id, n = btf__type_cnt(btf);

	k->idx = realloc(k->idx, (k->n_idx + n - first) * sizeof(*k->idx));
	assert_non_null(k->idx);
	for (id = first; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);

		if (!name || !name[0])
			continue;
		k->idx[k->n_idx++] = (struct name_ent){ name, essential_len(name), btf, id };
	}
}

/*
 * Loads @k->dir (or the host's /sys/kernel/btf when @host), without its modules when
 * @no_modules; false if it has no BTF.
 */
static bool kernel_open(struct kernel *k, bool host, bool no_modules)
{
	char path[4096 + 300], mdir[4096 + 16];
	struct dirent *d;
	size_t i;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%s", k->dir, host ? "vmlinux" : "vmlinux.btf");
	snprintf(mdir, sizeof(mdir), host ? "%s" : "%s/modules", k->dir);
	k->vmlinux = btf__parse(path, NULL);
	if (!k->vmlinux)
		return false;
	dir = no_modules ? NULL : opendir(mdir);
	while (dir && (d = readdir(dir)) && k->n_mods < MAX_MODULES) {
		if (d->d_name[0] == '.' || !strcmp(d->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", mdir, d->d_name);
		k->mods[k->n_mods] = btf__parse_split(path, k->vmlinux);
		if (k->mods[k->n_mods])
			k->n_mods++;
	}
	if (dir)
		closedir(dir);
	index_btf(k, k->vmlinux, 1);
	for (i = 0; i < k->n_mods; i++)
		index_btf(k, k->mods[i], btf__type_cnt(k->vmlinux));
	qsort(k->idx, k->n_idx, sizeof(*k->idx), name_ent_cmp);
	return true;
}

static void kernel_close(struct kernel *k)
{
	size_t i;

	for (i = 0; i < k->n_mods; i++)
		btf__free(k->mods[i]);
	btf__free(k->vmlinux);
	free(k->idx);
}

/* The entries named @name (essential name), as a range of k->idx. */
static struct name_ent *kernel_lookup(const struct kernel *k, const char *name, size_t *n)
{
	struct name_ent key = { name, essential_len(name), NULL, 0 }, *lo, *hi;
	size_t a = 0, b = k->n_idx;

	while (a < b) {
		size_t m = (a + b) / 2;

		if (name_ent_cmp(&k->idx[m], &key) < 0)
			a = m + 1;
		else
			b = m;
	}
	lo = hi = k->idx + a;
	while (hi < k->idx + k->n_idx && !name_ent_cmp(hi, &key))
		hi++;
	*n = hi - lo;
	return lo;
}

/* A FUNC (or TYPEDEF) named @name with exactly that name, its BTF and id; NULL if none. */
static const struct btf *kernel_find(const struct kernel *k, const char *name, __u32 kind,
				     __u32 *id)
{
	struct name_ent *e;
	size_t n, i;

	e = kernel_lookup(k, name, &n);
	for (i = 0; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(e[i].btf, e[i].id);

		if (btf_kind(t) == kind && !strcmp(e[i].name, name)) {
			*id = e[i].id;
			return e[i].btf;
		}
	}
	return NULL;
}

/* ---- CO-RE relocations, after libbpf's relo_core.c ---- */

static const struct btf_type *skip_mods(const struct btf *btf, __u32 id, __u32 *res)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (res)
		*res = id;
	return t;
}

static bool kinds_compat(const struct btf_type *a, const struct btf_type *b)
{
	return btf_kind(a) == btf_kind(b) ||
	       ((btf_is_enum(a) || btf_is_enum64(a)) && (btf_is_enum(b) || btf_is_enum64(b)));
}

/* bpf_core_fields_are_compat() */
static bool fields_compat(const struct btf *lb, __u32 lid, const struct btf *tb, __u32 tid)
{
	const struct btf_type *l, *t;

	for (;;) {
		l = skip_mods(lb, lid, &lid);
		t = skip_mods(tb, tid, &tid);
		if (!l || !t)
			return false;
		if (btf_is_composite(l) && btf_is_composite(t))
			return true;
		if (!kinds_compat(l, t))
			return false;
		switch (btf_kind(l)) {
		case BTF_KIND_PTR:
		case BTF_KIND_FLOAT:
			return true;
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: {
			const char *ln = btf__name_by_offset(lb, l->name_off);
			const char *tn = btf__name_by_offset(tb, t->name_off);

			return !ln[0] || !tn[0] ||
			       (essential_len(ln) == essential_len(tn) &&
				!strncmp(ln, tn, essential_len(ln)));
		}
		case BTF_KIND_INT:
			return !btf_int_offset(l) && !btf_int_offset(t);
		case BTF_KIND_ARRAY:
			lid = btf_array(l)->type;
			tid = btf_array(t)->type;
			continue;
		default:
			return false;
		}
	}
}

/* bpf_core_match_member(): the member named @name of @tid, through anonymous members. */
static int match_member(const struct btf *lb, __u32 l_mtype, const char *name,
			const struct btf *tb, __u32 tid, __u32 *next)
{
	const struct btf_type *t = skip_mods(tb, tid, &tid);
	const struct btf_member *m;
	int i;

	if (!t || !btf_is_composite(t))
		return 0;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(tb, m->name_off);

		if (!mn[0]) {
			if (match_member(lb, l_mtype, name, tb, m->type, next))
				return 1;
			continue;
		}
		if (strcmp(mn, name))
			continue;
		if (!fields_compat(lb, l_mtype, tb, m->type))
			return 0;
		*next = m->type;
		return 1;
	}
	return 0;
}

struct access {
	const char *name;	/* member name, NULL for an array index */
	__u32 mtype;		/* local type of the member or element */
	__u32 idx;
};

/* bpf_core_parse_spec(): the named steps of @spec; anonymous members are not steps. */
static int parse_spec(const struct btf *lb, __u32 id, const char *spec, struct access *acc,
		      int max)
{
	const struct btf_type *t = skip_mods(lb, id, &id);
	int n = 0;
	char *end;

	while (*spec && n < max) {
		unsigned long i = strtoul(spec, &end, 10);

		spec = *end == ':' ? end + 1 : end;
		if (n == 0) {
			acc[n++] = (struct access){ NULL, id, i };	/* root: an array index */
			continue;
		}
		if (btf_is_composite(t)) {
			const struct btf_member *m = btf_members(t) + i;
			const char *name = btf__name_by_offset(lb, m->name_off);

			if (name[0])
				acc[n++] = (struct access){ name, m->type, i };
			t = skip_mods(lb, m->type, &id);
		} else if (btf_is_array(t)) {
			acc[n++] = (struct access){ NULL, btf_array(t)->type, i };
			t = skip_mods(lb, btf_array(t)->type, &id);
		} else {
			return -EINVAL;
		}
	}
	return n;
}

static bool field_matches(const struct btf *lb, const struct access *acc, int n,
			  const struct btf *tb, __u32 tid)
{
	int i;

	for (i = 1; i < n; i++) {
		const struct btf_type *t = skip_mods(tb, tid, &tid);

		if (acc[i].name) {
			if (!match_member(lb, acc[i].mtype, acc[i].name, tb, tid, &tid))
				return false;
		} else {
			if (!t || !btf_is_array(t))
				return false;
			if (btf_array(t)->nelems && acc[i].idx >= btf_array(t)->nelems)
				return false;
			tid = btf_array(t)->type;
		}
	}
	return true;
}

static bool enumval_matches(const struct btf *lb, const struct btf_type *lt, __u32 idx,
			    const struct btf *tb, const struct btf_type *t)
{
	const char *want;
	int i;

	if (btf_is_enum64(lt))
		want = btf__name_by_offset(lb, btf_enum64(lt)[idx].name_off);
	else
		want = btf__name_by_offset(lb, btf_enum(lt)[idx].name_off);
	for (i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(tb, btf_is_enum64(t) ?
				btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off);

		if (essential_len(n) == essential_len(want) &&
		    !strncmp(n, want, essential_len(want)))
			return true;
	}
	return false;
}

static bool is_exists_kind(__u32 kind)
{
	return kind == BPF_CORE_FIELD_EXISTS || kind == BPF_CORE_TYPE_EXISTS ||
	       kind == BPF_CORE_ENUMVAL_EXISTS || kind == BPF_CORE_TYPE_MATCHES;
}

/* Whether @r resolves on @k: true if any candidate matches. */
static bool relo_resolves(const struct kernel *k, const struct btf *lb,
			  const struct bpf_core_relo *r)
{
	const struct btf_type *lt = btf__type_by_id(lb, r->type_id);
	const char *lname = btf__name_by_offset(lb, lt->name_off);
	struct access acc[64];
	struct name_ent *c;
	size_t n_c, i;
	int n = 0;

	if (r->kind == BPF_CORE_TYPE_ID_LOCAL)
		return true;
	if (!lname || !lname[0])
		return false;	/* libbpf: an anonymous local type has no candidates */
	if (r->kind <= BPF_CORE_FIELD_RSHIFT_U64) {
		n = parse_spec(lb, r->type_id, btf__name_by_offset(lb, r->access_str_off),
			       acc, 64);
		if (n < 1)
			return false;
	}
	c = kernel_lookup(k, lname, &n_c);
	for (i = 0; i < n_c; i++) {
		const struct btf_type *t = btf__type_by_id(c[i].btf, c[i].id);

		if (!kinds_compat(lt, t))
			continue;
		if (r->kind <= BPF_CORE_FIELD_RSHIFT_U64) {
			if (field_matches(lb, acc, n, c[i].btf, c[i].id))
				return true;
		} else if (r->kind == BPF_CORE_ENUMVAL_EXISTS ||
			   r->kind == BPF_CORE_ENUMVAL_VALUE) {
			__u32 idx = strtoul(btf__name_by_offset(lb, r->access_str_off), NULL, 10);

			if (enumval_matches(lb, lt, idx, c[i].btf, t))
				return true;
		} else {
			return true;
		}
	}
	return false;
}

/* ---- the object: sections, symbols, relocations, CO-RE records ---- */

struct relo {
	__u32 sec, insn;
	size_t sec_name_off, sec_idx;	/* the section's name; the record's index in it */
	bool resolved;
	struct bpf_core_relo r;
};

struct obj {
	const char *name;
	Elf *elf;
	const void *bytes;
	size_t size;
	struct btf *btf;
	struct bpf_object *bobj;
	size_t n_secs, shstrndx;
	struct bpf_insn **insns;	/* per section: its code, NULL for other sections */
	size_t *n_insns;
	GElf_Rel **rels;		/* per code section: its relocations */
	size_t *n_rels;
	Elf_Data *symtab;
	size_t text;			/* index of .text, 0 if none */
	struct relo *relos;
	size_t n_relos;
	Dwarf *dwarf;
	Dwfl *dwfl;
	int memfd;
};

static void obj_read_core_relos(struct obj *o, const void *ext, size_t len)
{
	const struct btf_ext_header {
		__u16 magic;
		__u8 version, flags;
		__u32 hdr_len, func_info_off, func_info_len, line_info_off, line_info_len;
		__u32 core_relo_off, core_relo_len;
	} *h = ext;
	const __u8 *p, *end;
	__u32 rec_size;

	assert_true(len >= sizeof(*h) && h->hdr_len >= sizeof(*h));
	p = (const __u8 *)ext + h->hdr_len + h->core_relo_off;
	end = p + h->core_relo_len;
	if (!h->core_relo_len)
		return;
	rec_size = *(const __u32 *)p;
	p += 4;
	while (p < end) {
		__u32 sec_name_off = ((const __u32 *)p)[0], n = ((const __u32 *)p)[1], i, s;
		const char *sec_name = btf__name_by_offset(o->btf, sec_name_off);
		size_t shstrndx;

		p += 8;
		elf_getshdrstrndx(o->elf, &shstrndx);
		for (s = 1; s < o->n_secs; s++) {
			GElf_Shdr sh;

			gelf_getshdr(elf_getscn(o->elf, s), &sh);
			if (!strcmp(elf_strptr(o->elf, shstrndx, sh.sh_name), sec_name))
				break;
		}
		o->relos = realloc(o->relos, (o->n_relos + n) * sizeof(*o->relos));
		assert_non_null(o->relos);
		for (i = 0; i < n; i++, p += rec_size) {
			struct relo *r = &o->relos[o->n_relos++];

			memcpy(&r->r, p, sizeof(r->r));
			r->sec = s;
			r->insn = r->r.insn_off / sizeof(struct bpf_insn);
			r->sec_idx = i;
			{
				GElf_Shdr sh;

				gelf_getshdr(elf_getscn(o->elf, s), &sh);
				r->sec_name_off = sh.sh_name;
			}
		}
	}
}

static int dwfl_find_elf_none(Dwfl_Module *m, void **ud, const char *name, Dwarf_Addr a,
			      char **file, Elf **elf)
{
	return -1;
}

static void obj_open(struct obj *o, const char *name, const void *bytes, size_t size)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_find_elf_none,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	size_t shstrndx, s;
	Dwarf_Addr bias;
	Dwfl_Module *mod;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->bytes = bytes;
	o->size = size;
	elf_version(EV_CURRENT);
	o->elf = elf_memory((char *)bytes, size);
	assert_non_null(o->elf);
	o->bobj = bpf_object__open_mem(bytes, size, NULL);
	assert_non_null(o->bobj);
	elf_getshdrnum(o->elf, &o->n_secs);
	elf_getshdrstrndx(o->elf, &shstrndx);
	o->shstrndx = shstrndx;
	o->insns = calloc(o->n_secs, sizeof(*o->insns));
	o->n_insns = calloc(o->n_secs, sizeof(*o->n_insns));
	o->rels = calloc(o->n_secs, sizeof(*o->rels));
	o->n_rels = calloc(o->n_secs, sizeof(*o->n_rels));
	for (s = 1; s < o->n_secs; s++) {
		Elf_Scn *scn = elf_getscn(o->elf, s);
		Elf_Data *d = elf_getdata(scn, NULL);
		const char *sn;
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		sn = elf_strptr(o->elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR)) {
			o->insns[s] = d->d_buf;
			o->n_insns[s] = d->d_size / sizeof(struct bpf_insn);
			if (!strcmp(sn, ".text"))
				o->text = s;
		} else if (sh.sh_type == SHT_SYMTAB) {
			o->symtab = d;
		} else if (!strcmp(sn, ".BTF")) {
			o->btf = btf__new(d->d_buf, d->d_size);
		}
	}
	for (s = 1; s < o->n_secs; s++) {
		Elf_Scn *scn = elf_getscn(o->elf, s);
		Elf_Data *d = elf_getdata(scn, NULL);
		GElf_Shdr sh;
		size_t i;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type == SHT_REL && sh.sh_info < o->n_secs && o->insns[sh.sh_info]) {
			o->n_rels[sh.sh_info] = d->d_size / sizeof(GElf_Rel);
			o->rels[sh.sh_info] = calloc(o->n_rels[sh.sh_info], sizeof(GElf_Rel));
			for (i = 0; i < o->n_rels[sh.sh_info]; i++)
				gelf_getrel(d, i, &o->rels[sh.sh_info][i]);
		}
		if (!strcmp(elf_strptr(o->elf, shstrndx, sh.sh_name), ".BTF.ext")) {
			assert_non_null(o->btf);
			obj_read_core_relos(o, d->d_buf, d->d_size);
		}
	}
	assert_non_null(o->btf);

	/* DWARF of a relocatable object needs its relocations applied: libdwfl does. */
	o->memfd = memfd_create(name, 0);
	assert_true(o->memfd >= 0);
	assert_int_equal(write(o->memfd, bytes, size), (ssize_t)size);
	o->dwfl = dwfl_begin(&cb);
	assert_non_null(o->dwfl);
	mod = dwfl_report_offline(o->dwfl, name, name, dup(o->memfd));
	assert_non_null(mod);
	dwfl_report_end(o->dwfl, NULL, NULL);
	o->dwarf = dwfl_module_getdwarf(mod, &bias);
}

static void obj_close(struct obj *o)
{
	size_t s;

	for (s = 0; s < o->n_secs; s++)
		free(o->rels[s]);
	free(o->rels);
	free(o->n_rels);
	free(o->insns);
	free(o->n_insns);
	free(o->relos);
	btf__free(o->btf);
	bpf_object__close(o->bobj);
	if (o->dwfl)
		dwfl_end(o->dwfl);
	close(o->memfd);
	elf_end(o->elf);
}

static bool obj_symbol(const struct obj *o, const char *name, GElf_Sym *out)
{
	size_t i, s, strtab = 0, n = o->symtab->d_size / sizeof(Elf64_Sym);

	for (s = 1; s < o->n_secs; s++) {
		GElf_Shdr sh;

		gelf_getshdr(elf_getscn(o->elf, s), &sh);
		if (sh.sh_type == SHT_SYMTAB)
			strtab = sh.sh_link;
	}
	for (i = 0; i < n; i++) {
		gelf_getsym(o->symtab, i, out);
		if (GELF_ST_TYPE(out->st_info) == STT_FUNC &&
		    !strcmp(elf_strptr(o->elf, strtab, out->st_name), name))
			return true;
	}
	return false;
}

static const GElf_Rel *obj_rel_at(const struct obj *o, size_t sec, size_t insn)
{
	size_t i;

	for (i = 0; i < o->n_rels[sec]; i++) {
		if (o->rels[sec][i].r_offset == insn * sizeof(struct bpf_insn))
			return &o->rels[sec][i];
	}
	return NULL;
}

static const struct relo *obj_relo_at(const struct obj *o, size_t sec, size_t insn)
{
	size_t i;

	for (i = 0; i < o->n_relos; i++) {
		if (o->relos[i].sec == sec && o->relos[i].insn == insn)
			return &o->relos[i];
	}
	return NULL;
}

/* ---- reachability: the verifier's dead-code pruning on known constants ---- */

enum vkind { V_UNINIT, V_UNK, V_CONST, V_CTX, V_FP };

struct val {
	enum vkind kind;
	__s64 v;
};

#define STACK_SLOTS 64
struct state {
	bool seen;
	struct val r[11], stack[STACK_SLOTS];
};

struct walk {
	const struct obj *o;
	struct state **st;	/* per section, per insn */
	size_t *work;		/* pending (sec << 32 | insn) */
	size_t n_work, cap_work;
	__u64 ctx_reads;	/* bit i: ctx slot i read */
	const struct relo *poisoned[64];
	size_t n_poisoned;
};

static struct val join(struct val a, struct val b)
{
	if (a.kind == V_UNINIT)
		return b;
	if (a.kind == b.kind && (a.kind != V_CONST || a.v == b.v))
		return a;
	return (struct val){ V_UNK, 0 };
}

static void push(struct walk *w, size_t sec, size_t insn, const struct state *s)
{
	struct state *d;
	bool changed = false;
	int i;

	if (insn >= w->o->n_insns[sec])
		return;
	d = &w->st[sec][insn];
	if (!d->seen) {
		*d = *s;
		d->seen = changed = true;
	} else {
		for (i = 0; i < 11; i++) {
			struct val j = join(d->r[i], s->r[i]);

			changed |= j.kind != d->r[i].kind || j.v != d->r[i].v;
			d->r[i] = j;
		}
		for (i = 0; i < STACK_SLOTS; i++) {
			struct val j = join(d->stack[i], s->stack[i]);

			changed |= j.kind != d->stack[i].kind || j.v != d->stack[i].v;
			d->stack[i] = j;
		}
	}
	if (!changed)
		return;
	if (w->n_work == w->cap_work) {
		w->cap_work = w->cap_work ? 2 * w->cap_work : 256;
		w->work = realloc(w->work, w->cap_work * sizeof(*w->work));
		assert_non_null(w->work);
	}
	w->work[w->n_work++] = (sec << 32) | insn;
}

static void push_entry(struct walk *w, size_t sec, size_t insn, const struct state *caller)
{
	struct state s = {};
	int i;

	for (i = 0; i < 11; i++)
		s.r[i] = (struct val){ V_UNK, 0 };
	for (i = 0; i < STACK_SLOTS; i++)
		s.stack[i] = (struct val){ V_UNK, 0 };
	if (caller) {
		for (i = 1; i <= 5; i++)
			s.r[i] = caller->r[i];
	} else {
		s.r[1] = (struct val){ V_CTX, 0 };
	}
	s.r[10] = (struct val){ V_FP, 0 };
	push(w, sec, insn, &s);
}

static bool cond(__u8 op, __u64 a, __u64 b, bool is32)
{
	__s64 sa = a, sb = b;

	if (is32) {
		a = (__u32)a, b = (__u32)b;
		sa = (__s32)a, sb = (__s32)b;
	}
	switch (op) {
	case BPF_JEQ: return a == b;
	case BPF_JNE: return a != b;
	case BPF_JGT: return a > b;
	case BPF_JGE: return a >= b;
	case BPF_JLT: return a < b;
	case BPF_JLE: return a <= b;
	case BPF_JSET: return a & b;
	case BPF_JSGT: return sa > sb;
	case BPF_JSGE: return sa >= sb;
	case BPF_JSLT: return sa < sb;
	default: return sa <= sb;	/* BPF_JSLE */
	}
}

/* The value an instruction with CO-RE relocation @r loads, once relocated. */
static struct val relo_value(const struct relo *r)
{
	if (is_exists_kind(r->r.kind))
		return (struct val){ V_CONST, r->resolved };
	return (struct val){ V_UNK, 0 };
}

/* The callee of a pseudo call or of a ld_imm64 of a function, in .text. */
static bool callee(const struct obj *o, size_t sec, size_t i, size_t *csec, size_t *cinsn)
{
	const struct bpf_insn *in = &o->insns[sec][i];
	const GElf_Rel *rel = obj_rel_at(o, sec, i);
	GElf_Sym sym;

	if (!rel) {
		*csec = sec;
		*cinsn = i + in->imm + 1;
		return true;
	}
	gelf_getsym(o->symtab, GELF_R_SYM(rel->r_info), &sym);
	*csec = sym.st_shndx;
	if (*csec >= o->n_secs || !o->insns[*csec])
		return false;
	if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
		*cinsn = (sym.st_value + in->imm) / sizeof(struct bpf_insn);
	else
		*cinsn = sym.st_value / sizeof(struct bpf_insn) + in->imm + 1;
	return true;
}

static void step(struct walk *w, size_t sec, size_t i)
{
	const struct obj *o = w->o;
	const struct bpf_insn *in = &o->insns[sec][i];
	const struct relo *relo = obj_relo_at(o, sec, i);
	struct state s = w->st[sec][i];
	__u8 cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	struct val *dst = &s.r[in->dst_reg & 0xf], src = s.r[in->src_reg & 0xf];
	struct val unk = { V_UNK, 0 };
	size_t cs, ci;

	if (relo && !relo->resolved && !is_exists_kind(relo->r.kind)) {
		if (w->n_poisoned < 64)
			w->poisoned[w->n_poisoned++] = relo;
		return;	/* the verifier stops at the poisoned call */
	}
	switch (cls) {
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			*dst = relo ? relo_value(relo) : unk;
			if (in->src_reg == BPF_PSEUDO_FUNC && callee(o, sec, i, &cs, &ci))
				push_entry(w, cs, ci, &s);
			push(w, sec, i + 2, &s);
			return;
		}
		*dst = unk;
		break;
	case BPF_LDX:
		if (src.kind == V_CTX && in->off >= 0)
			w->ctx_reads |= 1ULL << ((in->off / 8) & 63);
		if (src.kind == V_FP && BPF_SIZE(in->code) == BPF_DW && in->off < 0 &&
		    -in->off / 8 <= STACK_SLOTS && !(in->off % 8))
			*dst = s.stack[-in->off / 8 - 1];
		else
			*dst = unk;
		break;
	case BPF_ST:
	case BPF_STX:
		if (dst->kind == V_FP && in->off < 0 && -in->off / 8 <= STACK_SLOTS) {
			struct val v = cls == BPF_ST ? (struct val){ V_CONST, in->imm } : src;

			if (BPF_SIZE(in->code) != BPF_DW || in->off % 8 ||
			    BPF_MODE(in->code) == BPF_ATOMIC)
				v = unk;
			s.stack[(-in->off - 1) / 8] = v;
		}
		if (cls == BPF_STX && BPF_MODE(in->code) == BPF_ATOMIC && (in->imm & BPF_FETCH))
			s.r[in->imm == BPF_CMPXCHG ? 0 : in->src_reg] = unk;
		break;
	case BPF_ALU:
	case BPF_ALU64: {
		struct val b = BPF_SRC(in->code) == BPF_K ? (struct val){ V_CONST, in->imm } : src;

		if (op == BPF_MOV) {
			*dst = b;
			if (relo)
				*dst = relo_value(relo);
		} else if (dst->kind == V_CONST && b.kind == V_CONST) {
			switch (op) {
			case BPF_ADD: dst->v += b.v; break;
			case BPF_SUB: dst->v -= b.v; break;
			case BPF_AND: dst->v &= b.v; break;
			case BPF_OR: dst->v |= b.v; break;
			case BPF_XOR: dst->v ^= b.v; break;
			case BPF_LSH: dst->v = (__u64)dst->v << (b.v & 63); break;
			case BPF_RSH: dst->v = (__u64)dst->v >> (b.v & 63); break;
			default: *dst = unk;
			}
		} else {
			*dst = unk;
		}
		if (cls == BPF_ALU && dst->kind == V_CONST)
			dst->v = (__u32)dst->v;
		else if (cls == BPF_ALU)
			*dst = unk;
		break;
	}
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT)
			return;
		if (op == BPF_CALL) {
			if (in->src_reg == BPF_PSEUDO_CALL && callee(o, sec, i, &cs, &ci))
				push_entry(w, cs, ci, &s);
			for (int r = 0; r <= 5; r++)
				s.r[r] = unk;
			break;
		}
		if (op == BPF_JA) {
			push(w, sec, i + 1 + in->off, &s);
			return;
		} else {
			struct val b = BPF_SRC(in->code) == BPF_K ?
				       (struct val){ V_CONST, in->imm } : src;

			if (dst->kind == V_CONST && b.kind == V_CONST) {
				bool taken = cond(op, dst->v, b.v, cls == BPF_JMP32);

				push(w, sec, taken ? i + 1 + in->off : i + 1, &s);
				return;
			}
			push(w, sec, i + 1 + in->off, &s);
		}
		break;
	}
	push(w, sec, i + 1, &s);
}

/* Walks @prog from its entry: the ctx slots it reads and the poisoned relos it reaches. */
static void walk_program(struct walk *w, const struct obj *o, size_t sec, size_t entry)
{
	size_t s;

	memset(w, 0, sizeof(*w));
	w->o = o;
	w->st = calloc(o->n_secs, sizeof(*w->st));
	for (s = 0; s < o->n_secs; s++) {
		if (o->insns[s])
			w->st[s] = calloc(o->n_insns[s], sizeof(struct state));
	}
	push_entry(w, sec, entry, NULL);
	while (w->n_work) {
		size_t item = w->work[--w->n_work];

		step(w, item >> 32, item & 0xffffffff);
	}
	for (s = 0; s < o->n_secs; s++)
		free(w->st[s]);
	free(w->st);
	free(w->work);
}

/* ---- argument types: the program's (DWARF of BPF_PROG's ____name) and the kernel's ---- */

enum tclass { T_NONE, T_INT, T_PTR, T_STRUCT };

struct tdesc {
	enum tclass cls;
	unsigned int size;	/* T_INT */
	char name[128];		/* T_PTR to a struct: its essential name; T_STRUCT: by value */
};

static void btf_desc(const struct btf *btf, __u32 id, struct tdesc *d)
{
	const struct btf_type *t = skip_mods(btf, id, NULL);

	memset(d, 0, sizeof(*d));
	if (!t || !id)
		return;
	if (btf_is_ptr(t)) {
		const struct btf_type *p = skip_mods(btf, t->type, NULL);

		d->cls = T_PTR;
		if (p && (btf_is_composite(p) || btf_is_fwd(p))) {
			const char *n = btf__name_by_offset(btf, p->name_off);

			snprintf(d->name, sizeof(d->name), "%.*s", (int)essential_len(n), n);
		}
	} else if (btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t)) {
		d->cls = T_INT;
		d->size = t->size;
	} else if (btf_is_composite(t)) {
		d->cls = T_STRUCT;
	}
}

static void dwarf_desc(Dwarf_Die *param, struct tdesc *d)
{
	Dwarf_Attribute a;
	Dwarf_Die t, p;

	memset(d, 0, sizeof(*d));
	if (!dwarf_attr(param, DW_AT_type, &a) || !dwarf_formref_die(&a, &t) ||
	    dwarf_peel_type(&t, &t))
		return;
	switch (dwarf_tag(&t)) {
	case DW_TAG_pointer_type:
		d->cls = T_PTR;
		if (dwarf_attr(&t, DW_AT_type, &a) && dwarf_formref_die(&a, &p) &&
		    !dwarf_peel_type(&p, &p) &&
		    (dwarf_tag(&p) == DW_TAG_structure_type || dwarf_tag(&p) == DW_TAG_union_type) &&
		    dwarf_diename(&p))
			snprintf(d->name, sizeof(d->name), "%.*s",
				 (int)essential_len(dwarf_diename(&p)), dwarf_diename(&p));
		break;
	case DW_TAG_base_type:
	case DW_TAG_enumeration_type:
		d->cls = T_INT;
		d->size = dwarf_bytesize(&t);
		break;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		d->cls = T_STRUCT;
		break;
	}
}

/* The parameters of BPF_PROG(@prog, ...) after ctx, at most @max, into @out. */
static int prog_params(const struct obj *o, const char *prog, struct tdesc *out, int max)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	char want[160];
	int n = -1;

	snprintf(want, sizeof(want), "____%s", prog);
	while (o->dwarf && n < 0 &&
	       !dwarf_nextcu(o->dwarf, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(o->dwarf, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				Dwarf_Die p;
				int i = 0;

				if (dwarf_tag(&die) != DW_TAG_subprogram || !dwarf_diename(&die) ||
				    strcmp(dwarf_diename(&die), want) || dwarf_child(&die, &p))
					continue;
				n = 0;
				do {
					if (dwarf_tag(&p) != DW_TAG_formal_parameter)
						continue;
					if (i++ && n < max)	/* the first is ctx */
						dwarf_desc(&p, &out[n++]);
				} while (dwarf_siblingof(&p, &p) == 0);
				break;
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	return n;
}

static void tdesc_str(const struct tdesc *d, char *buf, size_t len)
{
	switch (d->cls) {
	case T_INT: snprintf(buf, len, "a %u-byte integer", d->size); break;
	case T_PTR: snprintf(buf, len, d->name[0] ? "struct %s *" : "a pointer", d->name); break;
	case T_STRUCT: snprintf(buf, len, "a struct by value"); break;
	default: snprintf(buf, len, "void");
	}
}

/* Why the program's @p cannot read the kernel's @k, NULL if it can. */
static const char *incompatible(const struct tdesc *p, const struct tdesc *k)
{
	if (p->cls == T_NONE || k->cls == T_NONE)
		return p->cls == k->cls ? NULL : "no value";
	if (p->cls != k->cls)
		return "different kinds";
	if (p->cls == T_PTR && p->name[0] && k->name[0] && strcmp(p->name, k->name))
		return "pointers to different structs";
	if (p->cls == T_INT && p->size > k->size)
		return "the program reads bytes the kernel leaves undefined";
	return NULL;
}

/* ---- the check ---- */

struct report {
	char (*lines)[512];
	size_t n;
};

static void report_add(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->n == MAX_FAILS)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->lines[rep->n++], sizeof(rep->lines[0]), fmt, ap);
	va_end(ap);
}

static const char *relo_kind_name(__u32 kind)
{
	static const char *const names[] = {
		"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
		"local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists",
		"enumval_value", "type_matches",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static bool kernel_has_type(const struct kernel *k, const struct btf_type *lt,
			    const char *name)
{
	struct name_ent *c;
	size_t n, i;

	c = kernel_lookup(k, name, &n);
	for (i = 0; i < n; i++) {
		if (kinds_compat(lt, btf__type_by_id(c[i].btf, c[i].id)))
			return true;
	}
	return false;
}

/* The target's FUNC_PROTO in @k: its BTF and id, the number of arguments in *@nargs. */
static const struct btf *target_proto(const struct kernel *k, const struct bpf_program *prog,
				      const char *target, __u32 kind, __u32 *proto, int *nargs,
				      int *first)
{
	const struct btf *btf;
	const struct btf_type *t;
	__u32 id;

	btf = kernel_find(k, target, kind, &id);
	if (!btf)
		return NULL;
	t = btf__type_by_id(btf, id);
	*first = 0;
	if (kind == BTF_KIND_TYPEDEF) {	/* btf_trace_X: a pointer to (void *__data, args) */
		t = skip_mods(btf, t->type, NULL);
		if (!t || !btf_is_ptr(t))
			return NULL;
		*first = 1;
	}
	t = skip_mods(btf, t->type, proto);
	if (!t || !btf_is_func_proto(t))
		return NULL;
	*nargs = btf_vlen(t) - *first;
	return btf;
}

static void check_program(const struct kernel *k, const struct obj *o,
			  const struct bpf_program *prog, const char *target, __u32 kind,
			  struct report *rep)
{
	const char *pname = bpf_program__name(prog);
	const char *sec = bpf_program__section_name(prog);
	bool ret_slot = !strncmp(sec, "fexit/", 6) || !strncmp(sec, "lsm/", 4);
	struct tdesc pp[16], kd;
	const struct btf *btf;
	const struct btf_param *params;
	struct walk w;
	GElf_Sym sym;
	__u32 proto;
	int nargs, first, n_pp, slot;
	size_t i;

	assert_true(obj_symbol(o, pname, &sym));
	walk_program(&w, o, sym.st_shndx, sym.st_value / sizeof(struct bpf_insn));
	for (i = 0; i < w.n_poisoned; i++) {
		const struct relo *r = w.poisoned[i];
		const struct btf_type *t = btf__type_by_id(o->btf, r->r.type_id);
		const char *tname = btf__name_by_offset(o->btf, t->name_off);
		struct access acc[64];
		char path[256] = "";
		int j, n;

		n = parse_spec(o->btf, r->r.type_id, btf__name_by_offset(o->btf, r->r.access_str_off),
			       acc, 64);
		for (j = 1; j < n; j++) {
			size_t used = strlen(path);

			if (acc[j].name)
				snprintf(path + used, sizeof(path) - used, ".%s", acc[j].name);
			else
				snprintf(path + used, sizeof(path) - used, "[%u]", acc[j].idx);
		}
		report_add(rep, "%s %s (%s): CO-RE %s of %.*s%s does not resolve (%s): "
			   "the poisoned insn %u of %s is reachable", k->name, pname, sec,
			   relo_kind_name(r->r.kind), (int)essential_len(tname), tname, path,
			   kernel_has_type(k, t, tname) ? "no such field" : "no such type",
			   r->insn, r->sec == o->text ? ".text" : "the program's section");
	}
	if (!target)
		return;
	btf = target_proto(k, prog, target, kind, &proto, &nargs, &first);
	if (!btf) {
		report_add(rep, "%s %s (%s): no function prototype for %s", k->name, pname, sec,
		     target);
		return;
	}
	params = btf_params(btf__type_by_id(btf, proto)) + first;
	n_pp = prog_params(o, pname, pp, 16);
	if (getenv("IOGUARD_BTF_COMPAT_DUMP"))
		printf("prog %s %s: %d args, ctx reads %#llx, %d declared\n", pname, target,
		       nargs, (unsigned long long)w.ctx_reads, n_pp);
	for (slot = 0; slot < 64; slot++) {
		const char *why;
		char ps[160], ks[160];

		if (!(w.ctx_reads & (1ULL << slot)))
			continue;
		if (slot > nargs || (slot == nargs && !ret_slot)) {
			report_add(rep, "%s %s (%s): reads ctx[%d], but %s has %d argument%s%s: "
			     "\"func '%s' doesn't have %d-th argument\"", k->name, pname, sec, slot,
			     target, nargs, nargs == 1 ? "" : "s",
			     ret_slot ? " and a return value" : "", target, slot + 1);
			continue;
		}
		if (slot >= n_pp)
			continue;	/* read outside BPF_PROG's declared arguments */
		if (slot == nargs)
			btf_desc(btf, btf__type_by_id(btf, proto)->type, &kd);
		else
			btf_desc(btf, params[slot].type, &kd);
		why = incompatible(&pp[slot], &kd);
		if (getenv("IOGUARD_BTF_COMPAT_DUMP")) {
			tdesc_str(&pp[slot], ps, sizeof(ps));
			tdesc_str(&kd, ks, sizeof(ks));
			printf("  arg %d: program %s, kernel %s\n", slot + 1, ps, ks);
		}
		if (!why)
			continue;
		tdesc_str(&pp[slot], ps, sizeof(ps));
		tdesc_str(&kd, ks, sizeof(ks));
		report_add(rep, "%s %s (%s): argument %d is %s in the program but %s in %s: %s",
		     k->name, pname, sec, slot + 1, ps, ks, target, why);
	}
}

/* Every program of @o that its loader would load on @k. Returns how many were checked. */
static int check_object(const struct kernel *k, struct obj *o, bool tracer,
			struct report *rep)
{
	struct bpf_program *prog;
	char target[160];
	size_t i;
	int n = 0;

	for (i = 0; i < o->n_relos; i++) {
		o->relos[i].resolved = relo_resolves(k, o->btf, &o->relos[i].r);
		/* For comparison with `bpftool -d gen min_core_btf` (libbpf's own matching). */
		if (getenv("IOGUARD_BTF_COMPAT_DUMP"))
			printf("relo %s #%zu %s: %s\n", elf_strptr(o->elf, o->shstrndx,
			       o->relos[i].sec_name_off), o->relos[i].sec_idx,
			       relo_kind_name(o->relos[i].r.kind),
			       o->relos[i].resolved ? "resolved" : "no matching targets");
	}
	bpf_object__for_each_program(prog, o->bobj) {
		const char *t = NULL;
		__u32 kind = BTF_KIND_FUNC, id;

		if (tracer) {
			if (!tracer_program_wanted(prog, TRACER_MODE_FENTRY) &&
			    !tracer_program_wanted(prog, TRACER_MODE_TP_BTF))
				continue;
			kind = tracer_program_target(prog, target, sizeof(target));
			t = target;
			if (!kernel_find(k, t, kind, &id))
				continue;	/* the loader leaves it out */
		} else {
			const char *sec = bpf_program__section_name(prog);

			t = enforcer_program_target(prog);
			if (t && !kernel_find(k, t, BTF_KIND_FUNC, &id))
				continue;
			if (!t && !strncmp(sec, "lsm/", 4)) {
				/* an LSM hook the loader does not test for: it must exist */
				snprintf(target, sizeof(target), "bpf_lsm_%s", sec + 4);
				t = target;
			}
		}
		check_program(k, o, prog, t, kind, rep);
		n++;
	}
	return n;
}

/*
 * Every lab kernel runs VT-d (QEMU's intel-iommu), and its DMA-remapping faults are
 * traced only by the fentry program on the fault interrupt handler: the loader must
 * choose it there (its relocations are checked with the others by check_object()).
 */
static void check_dma_fault_hook(const struct kernel *k, struct obj *o, struct report *rep)
{
	struct bpf_program *prog;
	char target[160];
	__u32 kind, id;

	bpf_object__for_each_program(prog, o->bobj) {
		kind = tracer_program_target(prog, target, sizeof(target));
		if (strcmp(target, "dmar_fault"))
			continue;
		if (!tracer_program_wanted(prog, TRACER_MODE_FENTRY))
			report_add(rep, "%s: the tracer does not choose %s in fentry mode",
				   k->name, bpf_program__section_name(prog));
		else if (!kernel_find(k, target, kind, &id))
			report_add(rep, "%s: no function %s in its BTF: VT-d DMA faults would go "
				   "untraced", k->name, target);
		return;
	}
	report_add(rep, "trace.bpf.o has no program on dmar_fault");
}

struct kernel_case {
	const char *name;	/* as in the list, "host" for /sys/kernel/btf */
	const char *label;	/* in the report */
	bool no_modules;	/* vmlinux only: the boot before vfio.ko is loaded */
};

static bool list_lookup(const char *name, char *dir, size_t len, char *why, size_t why_len)
{
	const char *list = getenv("IOGUARD_KERNEL_BTF_LIST") ?: KERNEL_BTF_LIST;
	char line[4096 + 64], n[64], d[4096];
	bool found = false;
	FILE *f = fopen(list, "r");

	if (!f) {
		snprintf(why, why_len, "no kernel BTF list %s (make kernel-btf writes it)", list);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %4095s", n, d) == 2 && !strcmp(n, name)) {
			snprintf(dir, len, "%s", d);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		snprintf(why, why_len, "%s has no line for the %s kernel: its artifact is not "
			 "cached (scripts/kernel-cache.sh btf %s fetches or builds it)", list,
			 name, name);
	return found;
}

static void test_kernel(void **state)
{
	const struct kernel_case *kc = *state;
	struct report rep = { calloc(MAX_FAILS, sizeof(*rep.lines)), 0 };
	struct kernel k = { .name = kc->label };
	struct obj trace, enforce;
	const void *bytes;
	char why[4096 + 256];
	size_t size, i;
	int n;

	if (!strcmp(kc->name, "host")) {
		snprintf(k.dir, sizeof(k.dir), "/sys/kernel/btf");
		if (!kernel_open(&k, true, false)) {
			free(rep.lines);
			printf("SKIP host: no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off)\n");
			skip();
		}
	} else if (!list_lookup(kc->name, k.dir, sizeof(k.dir), why, sizeof(why)) ||
		   !kernel_open(&k, false, kc->no_modules)) {
		if (k.dir[0])
			snprintf(why, sizeof(why), "no BTF in %s", k.dir);
		free(rep.lines);
		printf("SKIP %s: %s\n", kc->label, why);
		skip();
	}

	bytes = trace_bpf__elf_bytes(&size);
	obj_open(&trace, "trace.bpf.o", bytes, size);
	bytes = enforce_bpf__elf_bytes(&size);
	obj_open(&enforce, "enforce.bpf.o", bytes, size);
	n = check_object(&k, &trace, true, &rep);
	printf("%s (%s, %zu module BTF): trace.bpf.o: %d programs checked\n", k.name, k.dir,
	       k.n_mods, n);
	if (strcmp(kc->name, "host"))
		check_dma_fault_hook(&k, &trace, &rep);
	n = check_object(&k, &enforce, false, &rep);
	printf("%s: enforce.bpf.o: %d programs checked\n", k.name, n);
	for (i = 0; i < rep.n; i++)
		printf("FAIL %s\n", rep.lines[i]);
	obj_close(&trace);
	obj_close(&enforce);
	kernel_close(&k);
	free(rep.lines);
	if (rep.n)
		fail_msg("%zu incompatibilities on the %s kernel (see FAIL lines)", rep.n, kc->label);
}

/*
 * The checker itself, on a made-up kernel whose only function is iommu_map with @nargs
 * arguments (6.1 had 5, 6.3 added gfp): map_exit reads ctx[6], its return value on 6.3+.
 */
static bool map_exit_fails_with(int nargs)
{
	struct report rep = { calloc(MAX_FAILS, sizeof(*rep.lines)), 0 };
	struct kernel k = { .name = "made-up" };
	bool found = false;
	const void *bytes;
	struct obj trace;
	size_t size, i;
	int ul, dom, proto;

	k.vmlinux = btf__new_empty();
	assert_non_null(k.vmlinux);
	ul = btf__add_int(k.vmlinux, "unsigned long", 8, 0);
	dom = btf__add_struct(k.vmlinux, "iommu_domain", 8);
	dom = btf__add_ptr(k.vmlinux, dom);
	proto = btf__add_func_proto(k.vmlinux, btf__add_int(k.vmlinux, "int", 4, BTF_INT_SIGNED));
	for (i = 0; i < (size_t)nargs; i++)
		btf__add_func_param(k.vmlinux, "a", i ? ul : dom);
	btf__add_func(k.vmlinux, "iommu_map", BTF_FUNC_GLOBAL, proto);
	index_btf(&k, k.vmlinux, 1);
	qsort(k.idx, k.n_idx, sizeof(*k.idx), name_ent_cmp);
	bytes = trace_bpf__elf_bytes(&size);
	obj_open(&trace, "trace.bpf.o", bytes, size);
	check_object(&k, &trace, true, &rep);
	for (i = 0; i < rep.n; i++)
		found |= strstr(rep.lines[i], "map_exit (fexit/iommu_map): reads ctx[") != NULL;
	obj_close(&trace);
	kernel_close(&k);
	free(rep.lines);
	return found;
}

/*
 * map_exit names iommu_map()'s first four arguments and reads the return value with
 * bpf_get_func_ret(), so it fits 6.1's five arguments and 6.3's six. A made-up
 * two-argument iommu_map() must be caught: fexit may read one slot past the arguments
 * (the return value), so three would not be.
 */
static void test_checker_counts_arguments(void **state)
{
	assert_true(map_exit_fails_with(2));
	assert_false(map_exit_fails_with(5));
	assert_false(map_exit_fails_with(6));
}

/*
 * The invalidation programs as the loader sees them: the qi_submit tracepoint in both
 * modes (it is all tp_btf mode has), the qi_submit_sync() and flush hooks in fentry mode
 * only, and all of them, and nothing else, optional.
 */
static void test_invalidation_programs_selected(void **state)
{
	static const char *const fentry_only[] = {
		"qi_submit_sync", "intel_iommu_tlb_sync", "intel_iommu_iotlb_sync_map",
		"intel_flush_iotlb_all",
	};
	int seen_tp = 0, seen_fentry = 0;
	struct bpf_program *prog;
	struct bpf_object *obj;
	const void *bytes;
	size_t size, i;

	bytes = trace_bpf__elf_bytes(&size);
	obj = bpf_object__open_mem(bytes, size, NULL);
	assert_non_null(obj);
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		const char *target = strchr(sec, '/') + 1;
		bool hook = false;

		for (i = 0; i < sizeof(fentry_only) / sizeof(fentry_only[0]); i++)
			hook |= !strcmp(target, fentry_only[i]);
		if (!strcmp(sec, "tp_btf/qi_submit")) {
			assert_true(tracer_program_wanted(prog, TRACER_MODE_FENTRY));
			assert_true(tracer_program_wanted(prog, TRACER_MODE_TP_BTF));
			assert_true(tracer_program_is_invalidation(prog));
			seen_tp++;
		} else if (hook) {
			assert_true(tracer_program_wanted(prog, TRACER_MODE_FENTRY));
			assert_false(tracer_program_wanted(prog, TRACER_MODE_TP_BTF));
			assert_true(tracer_program_is_invalidation(prog));
			seen_fentry++;
		} else {
			assert_false(tracer_program_is_invalidation(prog));
		}
	}
	bpf_object__close(obj);
	assert_int_equal(seen_tp, 1);
	/* fentry and fexit of each */
	assert_int_equal(seen_fentry, 2 * (int)(sizeof(fentry_only) / sizeof(fentry_only[0])));
}

/*
 * debian-vmlinux-only: Debian's 6.12 as booted, before vfio.ko and vfio_iommu_type1.ko
 * are loaded (VFIO is modular there), when a boot-time `ioguard run` loads its programs.
 */
static const struct kernel_case kernels[] = {
	{ "host", "host", false },
	{ "debian", "debian", false },
	{ "debian", "debian-vmlinux-only", true },
	{ "debian-6.1", "debian-6.1", false },
	{ "iommufd", "iommufd", false },
	{ "iommufd-compat", "iommufd-compat", false },
};

int main(void)
{
	struct CMUnitTest tests[sizeof(kernels) / sizeof(kernels[0]) + 2] = {
		cmocka_unit_test(test_checker_counts_arguments),
		cmocka_unit_test(test_invalidation_programs_selected),
	};
	size_t i;

	for (i = 2; i < sizeof(kernels) / sizeof(kernels[0]) + 2; i++)
		tests[i] = (struct CMUnitTest){ kernels[i - 2].label, test_kernel, NULL, NULL,
						(void *)&kernels[i - 2] };
	setvbuf(stdout, NULL, _IOLBF, 0);
	return _cmocka_run_group_tests("test_bpf_compat", tests, i, NULL, NULL);
}
