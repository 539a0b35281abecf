// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ioguard_host_* and ioguard_enforcement_* families: the host's isolation posture
 * (posture.h) and the enforcement in force. Every label takes its values from a fixed
 * set (the enums of posture.h), except the policy's name and hash, of which there is one
 * at a time. Families with enum labels list every value, 1 for the current one, so an
 * alert needs no absent().
 */
#include "output/abi_names.h"
#include "exposition.h"

static void posture_family(struct buf *b, const char *name, const char *help)
{
	buf__printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void posture_sample(struct buf *b, const char *name, const char *label,
			   const char *value, unsigned long long v)
{
	buf__puts(b, name);
	if (label) {
		buf__printf(b, "{%s=\"", label);
		exposition_escape(b, value);
		buf__puts(b, "\"}");
	}
	buf__printf(b, " %llu\n", v);
}

static void posture_state_samples(struct buf *b, const char *name, enum posture_state now)
{
	enum posture_state st;

	for (st = 0; st < POSTURE_STATE_COUNT; st++)
		posture_sample(b, name, "state", posture_state__str(st), st == now);
}

static void render_host(struct buf *b, const struct host_posture *h)
{
	enum posture_irq_module m;
	enum posture_domain d;

	posture_family(b, "ioguard_host_iommu_enabled",
		       "1 when the host has an IOMMU that made groups (/sys/class/iommu, "
		       "/sys/kernel/iommu_groups); 0: no device DMA is isolated.");
	posture_sample(b, "ioguard_host_iommu_enabled", NULL, NULL, h->iommu_enabled);

	posture_family(b, "ioguard_host_iommu_groups",
		       "IOMMU groups by default domain type (/sys/kernel/iommu_groups/N/type): "
		       "DMA, DMA-FQ, identity (host-driver DMA untranslated), blocked, "
		       "unmanaged, other, unknown (unreadable).");
	for (d = 0; d < POSTURE_DOMAIN_COUNT; d++)
		posture_sample(b, "ioguard_host_iommu_groups", "domain", posture_domain__str(d),
			       h->domains[d]);

	posture_family(b, "ioguard_host_acs_override",
		       "1 when pcie_acs_override= is on the kernel command line: groups are "
		       "split beyond what the hardware proves isolated.");
	posture_sample(b, "ioguard_host_acs_override", NULL, NULL, h->acs_override);

	posture_family(b, "ioguard_host_vfio_noiommu_mode",
		       "1 when vfio.enable_unsafe_noiommu_mode is on: VFIO hands devices to "
		       "user space without an IOMMU.");
	posture_sample(b, "ioguard_host_vfio_noiommu_mode", NULL, NULL,
		       h->noiommu_mode == POSTURE_ON);

	posture_family(b, "ioguard_host_vfio_noiommu_groups",
		       "VFIO no-IOMMU groups (named vfio-noiommu, /dev/vfio/noiommu-N): their "
		       "devices DMA to all of memory.");
	posture_sample(b, "ioguard_host_vfio_noiommu_groups", NULL, NULL, h->n_noiommu_groups);

	posture_family(b, "ioguard_host_vfio_unsafe_interrupts",
		       "1 when the module's allow_unsafe_interrupts is on: VFIO accepts "
		       "devices without interrupt remapping, so a device can forge MSIs.");
	for (m = 0; m < POSTURE_IRQ_MODULE_COUNT; m++)
		posture_sample(b, "ioguard_host_vfio_unsafe_interrupts", "module",
			       posture_irq_module__str(m), h->unsafe_interrupts[m] == POSTURE_ON);

	posture_family(b, "ioguard_host_irq_remapping",
		       "Interrupt remapping by state (on, off, unknown), from the IR- chips of "
		       "/proc/interrupts; the current state is 1.");
	posture_state_samples(b, "ioguard_host_irq_remapping", h->irq_remapping);

	posture_family(b, "ioguard_host_bpf_lsm",
		       "The BPF LSM by state (on, off, unknown), from "
		       "/sys/kernel/security/lsm; enforcement needs on. The current state is 1.");
	posture_state_samples(b, "ioguard_host_bpf_lsm", h->bpf_lsm);
}

static void render_read_error(struct buf *out, bool failed)
{
	posture_family(out, "ioguard_enforcement_read_error",
		       "1 when the pinned enforcement could not be read ('ioguard status' says "
		       "why): whether a policy is in force is unknown, and the enforcement's "
		       "families are left out.");
	posture_sample(out, "ioguard_enforcement_read_error", NULL, NULL, failed);
}

int exposition_render_posture(const struct metrics_snapshot *s, struct buf *out)
{
	const struct metrics_posture *p = &s->posture;

	if (p->read)
		render_host(out, &p->host);
	if (p->enforcement_error) {
		render_read_error(out, true);
		return out->err;
	}
	if (!p->enforcement_known)
		return out->err;
	render_read_error(out, false);
	posture_family(out, "ioguard_enforcement_active",
		       "1 when a policy is in force in the pinned enforcement.");
	posture_sample(out, "ioguard_enforcement_active", NULL, NULL, p->enforcing);
	posture_family(out, "ioguard_enforcement_policy_info",
		       "The policy in force: its name, its mode (enforce, or audit: nothing "
		       "denied) and the SHA-256 of its file. Always 1; no sample when none is.");
	if (p->enforcing) {
		buf__puts(out, "ioguard_enforcement_policy_info{name=\"");
		exposition_escape(out, p->policy_name);
		buf__printf(out, "\",mode=\"%s\",sha256=\"", abi_mode_name(p->policy_mode));
		exposition_escape(out, p->policy_sha256);
		buf__puts(out, "\"} 1\n");
	}
	return out->err;
}
