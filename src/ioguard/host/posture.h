/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host's isolation posture: whether the IOMMU isolates at all, and what weakens it.
 * One reader of the kernel's facts (sysfs, procfs) shared by `ioguard doctor`,
 * `ioguard groups` and the metrics, so the three never disagree on a host.
 *
 * Every value is reduced to a small fixed set (a flag, a count, or one of the names of
 * an enum below), so the metrics built on it have bounded labels whatever a kernel
 * writes in its files. Facts are read under a root prefix, so tests point it at a tree
 * under tests/fixtures/host.
 */
#ifndef IOGUARD_POSTURE_H
#define IOGUARD_POSTURE_H

#include <stdbool.h>
#include <stddef.h>

#define POSTURE_CMDLINE "/proc/cmdline"
#define POSTURE_LSM_LIST "/sys/kernel/security/lsm"
#define POSTURE_INTERRUPTS "/proc/interrupts"
#define POSTURE_NOIOMMU_PARAM "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
/* The name VFIO gives the fake groups it makes in no-IOMMU mode (drivers/vfio/group.c). */
#define POSTURE_NOIOMMU_GROUP_NAME "vfio-noiommu"

/*
 * Default domain types of /sys/kernel/iommu_groups/N/type (iommu_group_show_type()),
 * in the kernel's spelling. Anything else, "unknown" included, is OTHER; a file that
 * cannot be read is UNREADABLE. IDENTITY means the group's devices DMA untranslated to
 * all of memory whenever their host driver, not VFIO, holds them.
 */
enum posture_domain {
	POSTURE_DOMAIN_DMA = 0,
	POSTURE_DOMAIN_DMA_FQ,
	POSTURE_DOMAIN_IDENTITY,
	POSTURE_DOMAIN_BLOCKED,
	POSTURE_DOMAIN_UNMANAGED,
	POSTURE_DOMAIN_OTHER,
	POSTURE_DOMAIN_UNREADABLE,
	POSTURE_DOMAIN_COUNT,
};

/* The domain of a type file's text (newline already stripped). */
enum posture_domain posture_domain_of(const char *type);
/* "DMA", "DMA-FQ", "identity", "blocked", "unmanaged", "other", "unknown". */
const char *posture_domain__str(enum posture_domain d);

/* A fact the host may not let us read: on, off, or not known. */
enum posture_state {
	POSTURE_OFF = 0,
	POSTURE_ON,
	POSTURE_UNKNOWN,
	POSTURE_STATE_COUNT,
};

/* "off", "on", "unknown". */
const char *posture_state__str(enum posture_state s);

/* Modules whose allow_unsafe_interrupts parameter lets VFIO run without IRQ remapping. */
enum posture_irq_module {
	POSTURE_IRQ_VFIO_TYPE1 = 0,	/* vfio_iommu_type1 */
	POSTURE_IRQ_IOMMUFD,		/* iommufd */
	POSTURE_IRQ_MODULE_COUNT,
};

/* The module's name, as /sys/module spells it. */
const char *posture_irq_module__str(enum posture_irq_module m);

/*
 * struct host_posture - what the kernel says about isolation on this host.
 * @n_iommus:          entries of /sys/class/iommu
 * @n_groups:          entries of /sys/kernel/iommu_groups
 * @iommu_enabled:     an IOMMU is there and has made groups (either count non-zero)
 * @domains:           groups by enum posture_domain
 * @acs_override:      pcie_acs_override= on the command line (the out-of-tree ACS
 *                     override patch of Proxmox, Arch's linux-vfio...): groups the kernel
 *                     could not prove isolated are split anyway
 * @acs_override_value: its value ("downstream,multifunction"), "" when absent
 * @noiommu_mode:      vfio.enable_unsafe_noiommu_mode: the module parameter, else the
 *                     command line when vfio is not loaded (OFF when neither says Y)
 * @n_noiommu_groups:  groups VFIO made without an IOMMU: groups named
 *                     POSTURE_NOIOMMU_GROUP_NAME, and /dev/vfio/noiommu-N
 * @unsafe_interrupts: allow_unsafe_interrupts of each module: the parameter, else the
 *                     command line's MODULE.allow_unsafe_interrupts= (OFF when unset)
 * @irq_remapping:     ON when an interrupt chip of /proc/interrupts is remapped (its
 *                     name starts "IR-": IR-IO-APIC, IR-PCI-MSI..., which x86 names so
 *                     only when the IOMMU remaps it); OFF when IO-APIC or PCI-MSI chips
 *                     are listed and none is; UNKNOWN otherwise
 * @bpf_lsm:           "bpf" in /sys/kernel/security/lsm; UNKNOWN when unreadable
 */
struct host_posture {
	unsigned int n_iommus;
	unsigned int n_groups;
	bool iommu_enabled;
	unsigned int domains[POSTURE_DOMAIN_COUNT];
	bool acs_override;
	char acs_override_value[128];
	enum posture_state noiommu_mode;
	unsigned int n_noiommu_groups;
	enum posture_state unsafe_interrupts[POSTURE_IRQ_MODULE_COUNT];
	enum posture_state irq_remapping;
	enum posture_state bpf_lsm;
};

/*
 * host_posture_read() - fill @p from the files under @root (NULL or "": the live
 * system). A file that cannot be read is a value (UNKNOWN, OFF or 0, as documented
 * above), never an error: there is nothing to fail.
 */
void host_posture_read(const char *root, struct host_posture *p);

/*
 * host_posture_group_domain() - the default domain of group @group under @root.
 */
enum posture_domain host_posture_group_domain(const char *root, unsigned int group);

/* Group @group under @root is one VFIO made without an IOMMU (its name file says so). */
bool host_posture_group_noiommu(const char *root, unsigned int group);

/*
 * posture_cmdline_param() - the value of @name= in the command line @cmdline (the last
 * one wins, as the kernel's parser), copied to @buf; NULL when absent or bare (no '=').
 */
const char *posture_cmdline_param(const char *cmdline, const char *name, char *buf,
				  size_t len);

/* A Y/N or 1/0 parameter value that means on ("Y", "y", "1"). */
bool posture_param_on(const char *v);

#endif /* IOGUARD_POSTURE_H */
