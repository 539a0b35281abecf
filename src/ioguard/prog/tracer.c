// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "output/array_size.h"
#include "output/errbuf.h"
#include "ioguard/metrics.h"
#include "tracer.h"
#include "trace.skel.h"

#define SKIPPED_MAX 512

struct tracer {
	struct trace_bpf *skel;
	enum tracer_mode mode;
	unsigned int attached;
	char skipped[SKIPPED_MAX];	/* hooks absent from this kernel, comma-separated */
	char fallback_reason[192];	/* why fentry was not used, empty if it was */
	char refused[96];		/* the first program the kernel refused, if known */
	bool dma_fault_off;		/* fentry/dmar_fault refused: fentry mode without it */
	char dma_fault_note[192];	/* how DMA-remapping faults are traced, or why not */
	bool refused_invalidation;	/* ... and it is on the invalidation path */
	bool refused_tracepoint;	/* ... and it is a tp_btf program */
	char invalidation_note[192];	/* why the invalidation hooks are off, if they are */
};

/* What load_mode() leaves out of the invalidation path after the kernel refused it. */
enum invalidation_drop {
	INVALIDATION_KEEP = 0,
	INVALIDATION_DROP_HOOKS,	/* the fentry/fexit hooks; the qi_submit tracepoint stays */
	INVALIDATION_DROP_ALL,
};

/*
 * VT-d's fault interrupt handler, whose entry reads the fault records (bpf/trace.bpf.c).
 * Optional within fentry mode: a kernel that refuses it keeps every other fentry hook.
 */
#define DMA_FAULT_HOOK "dmar_fault"

/*
 * libbpf's print function while the tracer probes: a refused program is expected there,
 * and the tracer reports its outcome. Otherwise libbpf prints through what the process
 * installed (the CLI's, which shows debug messages with --verbose).
 */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Silences libbpf for a probe unless @opts asks for its messages; returns what to restore. */
static libbpf_print_fn_t probe_begin(const struct tracer_opts *opts)
{
	return opts->verbose ? NULL : libbpf_set_print(quiet_print);
}

static void probe_end(const struct tracer_opts *opts, libbpf_print_fn_t saved)
{
	if (!opts->verbose)
		libbpf_set_print(saved);
}

const char *tracer__mode_name(enum tracer_mode mode)
{
	switch (mode) {
	case TRACER_MODE_FENTRY: return "fentry";
	case TRACER_MODE_TP_BTF: return "tp_btf";
	default: return "auto";
	}
}

static bool section_has_prefix(const struct bpf_program *prog, const char *prefix)
{
	return !strncmp(bpf_program__section_name(prog), prefix, strlen(prefix));
}

/* Target of "fentry/X", "fexit/X" or "tp_btf/X". */
static const char *section_target(const struct bpf_program *prog)
{
	const char *slash = strchr(bpf_program__section_name(prog), '/');

	return slash ? slash + 1 : "";
}

/*
 * The kernel's BTF: vmlinux, and the BTF of every loaded module, read only when a
 * target is missing from vmlinux (iommufd and VFIO may be modules).
 */
struct kernel_btf {
	struct btf *vmlinux;
	struct btf **modules;
	size_t n_modules;
	bool modules_read;
};

static void kernel_btf_read_modules(struct kernel_btf *k)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;

	k->modules_read = true;
	dir = opendir("/sys/kernel/btf");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		struct btf **grown, *btf;

		if (d->d_name[0] == '.' || !strcmp(d->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", d->d_name);
		btf = btf__parse_split(path, k->vmlinux);
		if (!btf)
			continue;
		grown = realloc(k->modules, (k->n_modules + 1) * sizeof(*grown));
		if (!grown) {
			btf__free(btf);
			break;
		}
		k->modules = grown;
		k->modules[k->n_modules++] = btf;
	}
	closedir(dir);
}

static void kernel_btf_free(struct kernel_btf *k)
{
	size_t i;

	for (i = 0; i < k->n_modules; i++)
		btf__free(k->modules[i]);
	free(k->modules);
	btf__free(k->vmlinux);
}

static bool btf_has(const struct btf *btf, const char *name, __u32 kind)
{
	return btf__find_by_name_kind(btf, name, kind) > 0;
}

__u32 tracer_program_target(const struct bpf_program *prog, char *name, size_t len)
{
	if (section_has_prefix(prog, "tp_btf/")) {
		snprintf(name, len, "btf_trace_%s", section_target(prog));
		return BTF_KIND_TYPEDEF;
	}
	snprintf(name, len, "%s", section_target(prog));
	return BTF_KIND_FUNC;
}

static bool kernel_has_target(struct kernel_btf *k, const struct bpf_program *prog)
{
	char name[128];
	__u32 kind = tracer_program_target(prog, name, sizeof(name));
	size_t i;

	if (btf_has(k->vmlinux, name, kind))
		return true;
	if (!k->modules_read)
		kernel_btf_read_modules(k);
	for (i = 0; i < k->n_modules; i++) {
		if (btf_has(k->modules[i], name, kind))
			return true;
	}
	return false;
}

/*
 * The fentry/fexit hooks of the invalidation path: functions private to the Intel IOMMU
 * driver, so the kernel may refuse them where it accepts the iommu_* hooks. They are
 * optional: when one is refused, fentry mode is loaded again without them (see
 * tracer__open()), rather than the whole trace falling back to tracepoints.
 */
static const char *const invalidation_hooks[] = {
	"qi_submit_sync", "intel_iommu_tlb_sync", "intel_iommu_iotlb_sync_map",
	"intel_flush_iotlb_all",
};

bool tracer_program_is_invalidation(const struct bpf_program *prog)
{
	size_t i;

	if (section_has_prefix(prog, "tp_btf/"))
		return !strcmp(section_target(prog), "qi_submit");
	for (i = 0; i < ARRAY_SIZE(invalidation_hooks); i++) {
		if (!strcmp(section_target(prog), invalidation_hooks[i]))
			return true;
	}
	return false;
}

bool tracer_program_wanted(const struct bpf_program *prog, enum tracer_mode mode)
{
	/*
	 * Page faults and invalidation descriptors have only a tracepoint, so it serves both
	 * modes.
	 */
	if (!strcmp(section_target(prog), "io_page_fault") ||
	    !strcmp(section_target(prog), "qi_submit"))
		return true;
	if (mode == TRACER_MODE_FENTRY)
		return section_has_prefix(prog, "fentry/") || section_has_prefix(prog, "fexit/");
	return section_has_prefix(prog, "tp_btf/");
}

static void note_skipped(struct tracer *t, const char *target)
{
	size_t used = strlen(t->skipped);

	if (strstr(t->skipped, target))
		return;
	snprintf(t->skipped + used, sizeof(t->skipped) - used, "%s%s", used ? ", " : "", target);
}

/*
 * Names the first program the kernel refused to load or attach, so that a fallback says
 * which kernel fact turned fentry off. libbpf loads and attaches in object order and stops
 * at the first failure: that is the first wanted program without an fd or a link.
 */
static void note_refused(struct tracer *t, const char *step)
{
	const struct bpf_object_skeleton *sk = t->skel->skeleton;
	int i;

	for (i = 0; i < sk->prog_cnt; i++) {
		struct bpf_program *prog = *sk->progs[i].prog;
		bool refused = !strcmp(step, "load") ? bpf_program__fd(prog) < 0 :
			       !*sk->progs[i].link;

		if (!bpf_program__autoload(prog) || !refused)
			continue;
		snprintf(t->refused, sizeof(t->refused), "%s of %s",
			 step, bpf_program__section_name(prog));
		t->refused_invalidation = tracer_program_is_invalidation(prog);
		t->refused_tracepoint = section_has_prefix(prog, "tp_btf/");
		return;
	}
}

/* Loads and attaches the programs of @mode, less the invalidation programs @drop names. */
static int load_mode(struct tracer *t, const struct tracer_opts *opts, enum tracer_mode mode,
		     enum invalidation_drop drop, struct kernel_btf *kbtf)
{
	struct bpf_program *prog;
	int err;

	t->skel = trace_bpf__open();
	if (!t->skel) {
		err = -errno;
		goto out;
	}
	t->skel->rodata->target_tgid = opts->target_tgid;
	t->skel->rodata->emit_events = !opts->no_events;
	t->skel->rodata->emit_ops = opts->stream_ops;
	t->skel->rodata->emit_group_set = opts->stream_group;
	t->skel->rodata->emit_group = opts->group;
	t->skel->rodata->map_sample_every = opts->sample_every;
	t->attached = 0;
	t->skipped[0] = '\0';
	t->refused[0] = '\0';
	t->refused_invalidation = false;
	t->refused_tracepoint = false;
	bpf_object__for_each_program(prog, t->skel->obj) {
		bool on = tracer_program_wanted(prog, mode);

		if (on && t->dma_fault_off && !strcmp(section_target(prog), DMA_FAULT_HOOK))
			on = false;
		else if (on && tracer_program_is_invalidation(prog) &&
		    (drop == INVALIDATION_DROP_ALL ||
		     (drop == INVALIDATION_DROP_HOOKS && !section_has_prefix(prog, "tp_btf/"))))
			on = false;
		else if (on && !kernel_has_target(kbtf, prog)) {
			note_skipped(t, section_target(prog));
			on = false;
		}
		bpf_program__set_autoload(prog, on);
		t->attached += on;
	}
	if (!t->attached) {
		err = -ENOENT;
		goto err_destroy;
	}
	err = trace_bpf__load(t->skel);
	if (err) {
		note_refused(t, "load");
		goto err_destroy;
	}
	err = trace_bpf__attach(t->skel);
	if (err) {
		note_refused(t, "attach");
		goto err_destroy;
	}
	t->mode = mode;
	goto out;

err_destroy:
	trace_bpf__destroy(t->skel);
	t->skel = NULL;
out:
	return err;
}

/*
 * load_mode(), and again with less of the invalidation path while the kernel refuses a
 * program of it: that path is optional and must not cost the mode. A refused hook drops
 * the hooks (descriptors are still counted), a refused tracepoint drops everything.
 */
static int load_mode_optional_invalidations(struct tracer *t, const struct tracer_opts *opts,
					    enum tracer_mode mode, struct kernel_btf *kbtf)
{
	enum invalidation_drop drop = INVALIDATION_KEEP;
	libbpf_print_fn_t saved;
	int err;

	err = load_mode(t, opts, mode, drop, kbtf);
	while (err && t->refused_invalidation && drop != INVALIDATION_DROP_ALL) {
		drop = t->refused_tracepoint ? INVALIDATION_DROP_ALL : drop + 1;
		snprintf(t->invalidation_note, sizeof(t->invalidation_note),
			 "invalidation %s refused at %s (%s): %s",
			 t->refused_tracepoint ? "tracepoint" : "hooks", t->refused,
			 strerror(-err), drop == INVALIDATION_DROP_ALL ?
			 "invalidations not counted" :
			 "invalidations counted without latency or group");
		saved = probe_begin(opts);
		err = load_mode(t, opts, mode, drop, kbtf);
		probe_end(opts, saved);
	}
	if (err)
		t->invalidation_note[0] = '\0';
	return err;
}

int tracer__open(const struct tracer_opts *opts, struct tracer **out, struct errbuf *eb)
{
	struct kernel_btf kbtf = { 0 };
	struct tracer *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	kbtf.vmlinux = btf__load_vmlinux_btf();
	if (!kbtf.vmlinux) {
		err = -errno;
		errbuf_set(eb, err, "cannot read the kernel's BTF: %s", strerror(-err));
		goto err_free;
	}

	if (opts->mode != TRACER_MODE_TP_BTF) {
		/* In auto mode fentry is itself a probe: tp_btf follows a refusal. */
		bool probing = opts->mode == TRACER_MODE_AUTO;
		libbpf_print_fn_t saved = probing ? probe_begin(opts) : NULL;

		err = load_mode_optional_invalidations(t, opts, TRACER_MODE_FENTRY, &kbtf);
		if (err && strstr(t->refused, "/" DMA_FAULT_HOOK)) {
			snprintf(t->dma_fault_note, sizeof(t->dma_fault_note),
				 "DMA-remapping faults not traced: the kernel refused %s: %s",
				 t->refused, strerror(-err));
			t->dma_fault_off = true;
			err = load_mode_optional_invalidations(t, opts, TRACER_MODE_FENTRY,
							       &kbtf);
		}
		if (probing)
			probe_end(opts, saved);
		if (!err)
			goto out_btf;
		if (opts->mode == TRACER_MODE_FENTRY) {
			errbuf_set(eb, err, "fentry/fexit programs cannot be loaded or attached: %s",
				   strerror(-err));
			goto err_btf;
		}
		snprintf(t->fallback_reason, sizeof(t->fallback_reason),
			 "fentry/fexit refused%s%s: %s", t->refused[0] ? " at " : "", t->refused,
			 strerror(-err));
	}
	err = load_mode_optional_invalidations(t, opts, TRACER_MODE_TP_BTF, &kbtf);
	if (err) {
		errbuf_set(eb, err, "the iommu tracepoints cannot be attached%s: %s%s",
			   t->fallback_reason[0] ? " either" : "", strerror(-err),
			   err == -ENOENT ? " (this kernel has no iommu tracepoints in its BTF)" : "");
		goto err_btf;
	}
out_btf:
	kernel_btf_free(&kbtf);
	*out = t;
	return 0;

err_btf:
	kernel_btf_free(&kbtf);
err_free:
	free(t);
	return err;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	trace_bpf__destroy(t->skel);
	free(t);
}

enum tracer_mode tracer__mode(const struct tracer *t)
{
	return t->mode;
}

int tracer__events_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.events);
}

void tracer__describe(const struct tracer *t, char *buf, size_t len)
{
	int n;

	if (t->mode == TRACER_MODE_FENTRY)
		n = snprintf(buf, len, "mode fentry: %u programs attached; latency, return values, "
			     "domains and ownership claims available", t->attached);
	else
		n = snprintf(buf, len, "mode tp_btf: %u tracepoints attached; latency, return "
			     "values, domains and ownership claims unavailable in this mode%s%s%s",
			     t->attached, t->fallback_reason[0] ? " (" : "", t->fallback_reason,
			     t->fallback_reason[0] ? ")" : "");
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "; %s", tracer__dma_fault_mode(t));
	if (n >= 0 && (size_t)n < len && t->invalidation_note[0])
		n += snprintf(buf + n, len - n, "; %s", t->invalidation_note);
	if (n >= 0 && (size_t)n < len && t->skipped[0])
		snprintf(buf + n, len - n, "; absent from this kernel: %s", t->skipped);
}

const char *tracer__dma_fault_mode(const struct tracer *t)
{
	if (t->dma_fault_note[0])
		return t->dma_fault_note;
	if (t->mode == TRACER_MODE_FENTRY && tracer__dma_fault_attached(t))
		return "DMA-remapping faults (VT-d): every fault record, read at fentry/"
		       DMA_FAULT_HOOK;
	if (t->mode == TRACER_MODE_FENTRY)
		return "DMA-remapping faults (VT-d): not traced, no " DMA_FAULT_HOOK
		       " in this kernel (no Intel IOMMU driver)";
	return "DMA-remapping faults (VT-d): not traced in this mode (fentry/" DMA_FAULT_HOOK
	       " only)";
}

bool tracer__dma_fault_attached(const struct tracer *t)
{
	return bpf_program__autoload(t->skel->progs.dmar_fault_enter) &&
	       bpf_program__fd(t->skel->progs.dmar_fault_enter) >= 0;
}

void tracer__maps(const struct tracer *t, struct tracer_maps *maps)
{
	maps->aggs_fd = bpf_map__fd(t->skel->maps.aggs);
	maps->faults_fd = bpf_map__fd(t->skel->maps.faults);
	maps->dma_faults_fd = bpf_map__fd(t->skel->maps.dma_faults);
	maps->invals_fd = bpf_map__fd(t->skel->maps.invals);
}

void tracer__lost(const struct tracer *t, __u64 lost[IOGUARD_LOST_REASON_COUNT])
{
	int i;

	for (i = 0; i < IOGUARD_LOST_REASON_COUNT; i++)
		lost[i] = __atomic_load_n(&t->skel->bss->lost[i], __ATOMIC_RELAXED);
}

size_t tracer__programs(const struct tracer *t, struct tracer_prog *out, size_t max)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, t->skel->obj) {
		if (!bpf_program__autoload(prog) || bpf_program__fd(prog) < 0)
			continue;
		if (n < max) {
			out[n].name = bpf_program__name(prog);
			out[n].fd = bpf_program__fd(prog);
		}
		n++;
	}
	return n;
}
