// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "enforcer.h"
#include "ioguard.h"
#include "policy_apply.h"
#include "policy_topology.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

const struct policy_apply_ops policy_apply_enforcer = {
	.probe = enforcer_probe,
	.load = enforcer_load,
};

int policy_prepare(const char *path, const struct policy_apply_opts *opts, struct policy **out,
		   struct compiled_policy **out_cp)
{
	const struct policy_apply_ops *ops = opts && opts->ops ? opts->ops : &policy_apply_enforcer;
	const char *cgroup_root = opts && opts->cgroup_root ? opts->cgroup_root : CGROUP_ROOT;
	struct policy_error perr = POLICY_ERROR_INIT;
	struct compiled_policy *cp = NULL;
	struct policy *p = NULL;
	char err[1024] = "";
	int ret;

	*out = NULL;
	*out_cp = NULL;
	ret = policy__load(path, opts ? opts->load : NULL, &p, &perr);
	if (ret) {
		p_err("%s; the policy in force is unchanged", perr.msg);
		return ret == -EINVAL ? -EBADMSG : ret;
	}
	if (opts && opts->unless_hash && !memcmp(opts->unless_hash, p->hash, sizeof(p->hash))) {
		ret = 1;
		goto out_free;
	}
	ret = policy_topology_report(path, p, opts ? opts->sysfs_root : NULL);
	if (ret) {
		p_err("%s is not loaded; the policy in force is unchanged", path);
		goto out_free;
	}
	ret = ops->probe(err, sizeof(err));
	if (ret) {
		p_err("enforcement cannot work on this kernel: %s", err);
		goto out_free;
	}
	ret = policy_compile(p, cgroup_root, &cp, err, sizeof(err));
	if (ret) {
		p_err("%s: %s; the policy in force is unchanged", path, err);
		goto out_free;
	}
	if (cp->warnings[0])
		p_warn("%s: %s (those values match no process)", path, cp->warnings);
	*out = p;
	*out_cp = cp;
	return 0;
out_free:
	policy__free(p);
	return ret;
}

int policy_commit(const char *path, const struct policy_apply_opts *opts,
		  const struct compiled_policy *cp, bool *swapped)
{
	const struct policy_apply_ops *ops = opts && opts->ops ? opts->ops : &policy_apply_enforcer;
	char err[1024] = "", notes[1024] = "";
	int ret;

	ret = ops->load(cp, swapped, notes, sizeof(notes), err, sizeof(err));
	if (ret) {
		p_err("%s: %s; the policy in force is unchanged", path, err);
		return ret;
	}
	if (notes[0])
		p_warn("%s", notes);
	return 0;
}

int policy_apply(const char *path, const struct policy_apply_opts *opts, struct policy **out,
		 bool *swapped)
{
	struct compiled_policy *cp = NULL;
	struct policy *p = NULL;
	int ret;

	*out = NULL;
	ret = policy_prepare(path, opts, &p, &cp);
	if (!ret)
		ret = policy_commit(path, opts, cp, swapped);
	if (!ret) {
		*out = p;
		p = NULL;
	}
	compiled_policy__free(cp);
	policy__free(p);
	return ret;
}

void policy_reloader__init(struct policy_reloader *r, const char *path,
			   const struct policy_apply_opts *opts)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	if (opts)
		r->opts = *opts;
	r->opts.sz = sizeof(r->opts);
	r->opts.unless_hash = NULL;
}

static int reloader_apply(struct policy_reloader *r, bool force)
{
	struct policy_apply_opts opts = r->opts;
	struct policy *p = NULL;
	bool swapped;
	int ret;

	opts.unless_hash = !force && r->loaded ? r->hash : NULL;
	ret = policy_apply(r->path, &opts, &p, &swapped);
	if (ret)
		return ret;
	memcpy(r->hash, p->hash, sizeof(r->hash));
	snprintf(r->name, sizeof(r->name), "%s", p->name);
	r->loaded = true;
	policy__free(p);
	return 0;
}

int policy_reloader__load(struct policy_reloader *r)
{
	return reloader_apply(r, true);
}

int policy_reloader__apply(struct policy_reloader *r, bool force)
{
	return reloader_apply(r, force);
}

void policy_reloader__count(struct policy_reloader *r, int ret)
{
	if (ret == 1)
		return;
	r->reloads[ret ? POLICY_RELOAD_ERROR : POLICY_RELOAD_OK]++;
}

int policy_reloader__reload(struct policy_reloader *r, bool force)
{
	int ret = policy_reloader__apply(r, force);

	policy_reloader__count(r, ret);
	return ret;
}

const char *policy_reload_result_name(enum policy_reload_result result)
{
	switch (result) {
	case POLICY_RELOAD_OK: return "ok";
	case POLICY_RELOAD_ERROR: return "error";
	default: return "unknown";
	}
}

void policy_reloader__render(const struct policy_reloader *r, struct buf *out)
{
	int i;

	buf__puts(out, "# HELP ioguard_policy_reloads_total Policy reloads by the ioguard daemon "
		  "(SIGHUP or a change of the file), by result: ok (the new policy is in force) "
		  "or error (refused; the previous policy stays in force).\n"
		  "# TYPE ioguard_policy_reloads_total counter\n");
	for (i = 0; i < POLICY_RELOAD_RESULT_COUNT; i++)
		buf__printf(out, "ioguard_policy_reloads_total{result=\"%s\"} %llu\n",
			    policy_reload_result_name(i), r->reloads[i]);
}
