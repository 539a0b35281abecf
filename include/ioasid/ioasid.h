/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libioasid: IOMMU group topology, group viability with reasons, and an IOAS object model
 * (today's iommufd: context, device bind, IOAS, attach, map/unmap/copy, IOVA ranges) over
 * interchangeable backends ("sim" in memory; "iommufd" and "vfio" on a real kernel).
 *
 * Conventions:
 *  - Every call that can fail returns 0 or a negative errno (constructors return the object
 *    through an out parameter). Calls also set errno to the positive value on failure.
 *  - Objects are opaque; free functions accept NULL.
 *  - Structs the caller fills and that may grow start with a size field (@sz, set it to
 *    sizeof(struct)); bytes past the end the library knows must be zero.
 *  - Objects of the object model are addressed by 32-bit ids inside their context, as in
 *    iommufd: ids are allocated lowest-free from 1 and a destroyed id gives -ENOENT.
 *  - Errors of the same misuse are the same errno on every backend; they follow iommufd
 *    (drivers/iommu/iommufd/) and each check cites the kernel function it mirrors.
 *  - Messages: the sysfs loader fills a caller's struct ioasid_error; object-model calls
 *    record theirs in the context (ioasid_ctx__last_error()).
 */
#ifndef IOASID_IOASID_H
#define IOASID_IOASID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ioasid_error - human-readable reason of the last failure
 * @msg: NUL-terminated; says what failed, on what, and why (names the file for sysfs).
 */
struct ioasid_error {
	char msg[256];
};

/* ------------------------------------------------------------------------------------ */
/* Topology                                                                              */
/* ------------------------------------------------------------------------------------ */

struct ioasid_topology;
struct ioasid_group;
struct ioasid_device;

/**
 * enum ioasid_resv_type - type of a reserved IOVA region, as sysfs reserved_regions names it
 * @IOASID_RESV_DIRECT: "direct": identity-mapped region (RMRR and the like).
 * @IOASID_RESV_DIRECT_RELAXABLE: "direct-relaxable": may be ignored when the device is
 *	assigned; iommufd skips it (iopt_table_enforce_dev_resv_regions()).
 * @IOASID_RESV_RESERVED: "reserved": never mappable.
 * @IOASID_RESV_MSI: "msi": hardware or software MSI window.
 */
enum ioasid_resv_type {
	IOASID_RESV_DIRECT,
	IOASID_RESV_DIRECT_RELAXABLE,
	IOASID_RESV_RESERVED,
	IOASID_RESV_MSI,
};

/**
 * struct ioasid_resv_region - one line of a group's reserved_regions file
 * @start: first IOVA of the region.
 * @last: last IOVA of the region (inclusive).
 * @type: region type.
 */
struct ioasid_resv_region {
	uint64_t start;
	uint64_t last;
	enum ioasid_resv_type type;
};

/**
 * ioasid_topology__load() - read IOMMU groups and their devices from sysfs
 * @sysfs_root: directory that contains sys/ ("/" or NULL for the live system, otherwise a
 *	snapshot). Symlinks are resolved inside @sysfs_root and can never leave it.
 * @out: receives the topology on success.
 * @err: optional; on failure receives a message naming the file and the cause.
 *
 * Reads <root>/sys/kernel/iommu_groups/N/{type,reserved_regions,devices/} and, per
 * device, <root>/sys/bus/pci/devices/<BDF>/{vendor,device,class,driver,iommu_group}.
 * PCI devices without an IOMMU group are listed too, with no group.
 *
 * Return: 0; -ENOENT for a missing file or directory, -EINVAL for malformed content,
 * -ENOMEM, or another negative errno from the file system.
 */
int ioasid_topology__load(const char *sysfs_root, struct ioasid_topology **out,
			  struct ioasid_error *err);

/**
 * ioasid_topology__free() - free a topology; accepts NULL
 * @topo: topology to free. Backends opened on it must be closed first.
 */
void ioasid_topology__free(struct ioasid_topology *topo);

/**
 * ioasid_topology__root() - the sysfs root the topology was read from
 * @topo: topology.
 *
 * Return: the root as given to ioasid_topology__load() ("/" for the live system).
 */
const char *ioasid_topology__root(const struct ioasid_topology *topo);

/**
 * ioasid_topology__nr_groups() - number of IOMMU groups
 * @topo: topology.
 *
 * Return: the count; groups are indexed 0..count-1 in increasing group number.
 */
size_t ioasid_topology__nr_groups(const struct ioasid_topology *topo);

/**
 * ioasid_topology__group() - group by index
 * @topo: topology.
 * @idx: index below ioasid_topology__nr_groups().
 *
 * Return: the group, or NULL if @idx is out of range.
 */
const struct ioasid_group *ioasid_topology__group(const struct ioasid_topology *topo, size_t idx);

/**
 * ioasid_topology__find_group() - group by its number (the N of iommu_groups/N)
 * @topo: topology.
 * @id: group number.
 *
 * Return: the group, or NULL if there is none with that number.
 */
const struct ioasid_group *ioasid_topology__find_group(const struct ioasid_topology *topo,
							unsigned int id);

/**
 * ioasid_topology__nr_devices() - number of devices (in a group or not)
 * @topo: topology.
 *
 * Return: the count; devices are indexed in increasing name (BDF) order.
 */
size_t ioasid_topology__nr_devices(const struct ioasid_topology *topo);

/**
 * ioasid_topology__device() - device by index
 * @topo: topology.
 * @idx: index below ioasid_topology__nr_devices().
 *
 * Return: the device, or NULL if @idx is out of range.
 */
const struct ioasid_device *ioasid_topology__device(const struct ioasid_topology *topo,
						     size_t idx);

/**
 * ioasid_topology__find_device() - device by name
 * @topo: topology.
 * @name: sysfs name, e.g. "0000:01:02.0".
 *
 * Return: the device, or NULL if there is none with that name.
 */
const struct ioasid_device *ioasid_topology__find_device(const struct ioasid_topology *topo,
							  const char *name);

/**
 * ioasid_topology__set_driver() - what-if: pretend a device is bound to another driver
 * @topo: topology (an in-memory model; sysfs is not touched).
 * @name: device name.
 * @driver: driver name as sysfs shows it ("vfio-pci"), or NULL for unbound.
 *
 * For planning with the sim backend. Not allowed while a context of a backend on @topo
 * has the device bound.
 *
 * Return: 0, -ENODEV if there is no such device, -EINVAL if @driver is empty or too long,
 * -EBUSY if the device is bound in a context.
 */
int ioasid_topology__set_driver(struct ioasid_topology *topo, const char *name,
				const char *driver);

/**
 * ioasid_group__id() - the group number
 * @group: group.
 *
 * Return: N of /sys/kernel/iommu_groups/N.
 */
unsigned int ioasid_group__id(const struct ioasid_group *group);

/**
 * ioasid_group__type() - default domain type of the group
 * @group: group.
 *
 * Return: the content of the group's type file ("DMA", "DMA-FQ", "identity", "blocked"...).
 */
const char *ioasid_group__type(const struct ioasid_group *group);

/**
 * ioasid_group__nr_devices() - number of devices in the group
 * @group: group.
 *
 * Return: the count (0 for an empty group).
 */
size_t ioasid_group__nr_devices(const struct ioasid_group *group);

/**
 * ioasid_group__device() - device of the group by index, in name order
 * @group: group.
 * @idx: index below ioasid_group__nr_devices().
 *
 * Return: the device, or NULL if @idx is out of range.
 */
const struct ioasid_device *ioasid_group__device(const struct ioasid_group *group, size_t idx);

/**
 * ioasid_group__nr_resv() - number of reserved regions of the group
 * @group: group.
 *
 * Return: the count of lines of reserved_regions.
 */
size_t ioasid_group__nr_resv(const struct ioasid_group *group);

/**
 * ioasid_group__resv() - reserved region by index, in file order
 * @group: group.
 * @idx: index below ioasid_group__nr_resv().
 *
 * Return: the region, or NULL if @idx is out of range.
 */
const struct ioasid_resv_region *ioasid_group__resv(const struct ioasid_group *group, size_t idx);

/**
 * ioasid_resv_type__name() - sysfs name of a reserved region type
 * @type: type.
 *
 * Return: "direct", "direct-relaxable", "reserved", "msi", or "unknown".
 */
const char *ioasid_resv_type__name(enum ioasid_resv_type type);

/**
 * ioasid_device__name() - sysfs name of the device
 * @dev: device.
 *
 * Return: the name, e.g. "0000:01:02.0".
 */
const char *ioasid_device__name(const struct ioasid_device *dev);

/**
 * ioasid_device__is_pci() - whether the device is a PCI device with vendor/device/class
 * @dev: device.
 *
 * Return: true for PCI devices.
 */
bool ioasid_device__is_pci(const struct ioasid_device *dev);

/**
 * ioasid_device__vendor() - PCI vendor id
 * @dev: device.
 *
 * Return: the vendor id, 0 for non-PCI devices.
 */
uint16_t ioasid_device__vendor(const struct ioasid_device *dev);

/**
 * ioasid_device__device_id() - PCI device id
 * @dev: device.
 *
 * Return: the device id, 0 for non-PCI devices.
 */
uint16_t ioasid_device__device_id(const struct ioasid_device *dev);

/**
 * ioasid_device__class() - PCI class code (24 bits: class, subclass, prog-if)
 * @dev: device.
 *
 * Return: the class, 0 for non-PCI devices.
 */
uint32_t ioasid_device__class(const struct ioasid_device *dev);

/**
 * ioasid_device__is_bridge() - whether the device is a PCI-to-PCI bridge
 * @dev: device.
 *
 * Return: true for class 0x0604xx and 0x0609xx (semi-transparent) devices.
 */
bool ioasid_device__is_bridge(const struct ioasid_device *dev);

/**
 * ioasid_device__driver() - bound driver
 * @dev: device.
 *
 * Return: the basename of the driver symlink ("e1000", "vfio-pci"), or NULL if unbound.
 */
const char *ioasid_device__driver(const struct ioasid_device *dev);

/**
 * ioasid_device__group() - IOMMU group of the device
 * @dev: device.
 *
 * Return: the group, or NULL if the device has none (no IOMMU translates its DMA).
 */
const struct ioasid_group *ioasid_device__group(const struct ioasid_device *dev);

/* ------------------------------------------------------------------------------------ */
/* Drivers and viability                                                                 */
/* ------------------------------------------------------------------------------------ */

/**
 * enum ioasid_driver_kind - what a bound driver means for DMA ownership
 * @IOASID_DRIVER_NONE: no driver bound.
 * @IOASID_DRIVER_DMA_API: the driver uses the kernel DMA API (any driver not known to set
 *	driver_managed_dma); it makes the group unusable for user space.
 * @IOASID_DRIVER_DMA_SAFE: driver_managed_dma is set but it is not a VFIO driver
 *	(pci-stub, pcieport).
 * @IOASID_DRIVER_VFIO: a VFIO driver (vfio-pci and its variants, vfio-platform...).
 */
enum ioasid_driver_kind {
	IOASID_DRIVER_NONE,
	IOASID_DRIVER_DMA_API,
	IOASID_DRIVER_DMA_SAFE,
	IOASID_DRIVER_VFIO,
};

/**
 * ioasid_driver__kind() - classify a driver name
 * @driver: driver name as sysfs shows it, or NULL for unbound.
 *
 * Return: the kind; unknown drivers are IOASID_DRIVER_DMA_API, as in the kernel where
 * driver_managed_dma defaults to false.
 */
enum ioasid_driver_kind ioasid_driver__kind(const char *driver);

/**
 * enum ioasid_rule - which viability rule a verdict or reason is about
 * @IOASID_RULE_KERNEL: what VFIO_GROUP_FLAGS_VIABLE means: no device of the group is bound
 *	to a driver that uses the kernel DMA API, and no other owner holds the group.
 * @IOASID_RULE_STRICT: the RFC barrier: every endpoint (non-bridge) device of the group is
 *	bound to a VFIO driver and claimed by the same owner before any device of the group
 *	is attached.
 */
enum ioasid_rule {
	IOASID_RULE_KERNEL,
	IOASID_RULE_STRICT,
};

/**
 * enum ioasid_cause - why a device breaks a rule
 * @IOASID_CAUSE_DMA_API_DRIVER: bound to a driver that uses the kernel DMA API (both rules).
 * @IOASID_CAUSE_OTHER_OWNER: the group is claimed by another owner (both rules).
 * @IOASID_CAUSE_NOT_VFIO: strict: an endpoint that is not bound to a VFIO driver.
 * @IOASID_CAUSE_NOT_CLAIMED: strict: an endpoint the owner has not bound (claimed).
 */
enum ioasid_cause {
	IOASID_CAUSE_DMA_API_DRIVER,
	IOASID_CAUSE_OTHER_OWNER,
	IOASID_CAUSE_NOT_VFIO,
	IOASID_CAUSE_NOT_CLAIMED,
};

/**
 * struct ioasid_reason - one device that breaks one rule
 * @rule: the rule broken.
 * @cause: why.
 * @dev: the device.
 * @msg: sentence for humans, e.g. "0000:01:02.0 is bound to e1000, which uses the kernel
 *	DMA API".
 */
struct ioasid_reason {
	enum ioasid_rule rule;
	enum ioasid_cause cause;
	const struct ioasid_device *dev;
	char msg[160];
};

struct ioasid_verdict;
struct ioasid_ctx;

/**
 * ioasid_group__check() - evaluate both viability rules for a group
 * @group: group of a topology.
 * @owner: optional context that would own the group. With an owner, "claimed" and
 *	"another owner" are evaluated against the backend's ownership state. Without one,
 *	the strict rule only checks what a single owner could achieve (every endpoint on a
 *	VFIO driver) and no other owner is assumed.
 * @out: receives the verdict; free it with ioasid_verdict__free().
 *
 * Return: 0, -EINVAL if @owner's backend is on another topology, or -ENOMEM.
 */
int ioasid_group__check(const struct ioasid_group *group, const struct ioasid_ctx *owner,
			struct ioasid_verdict **out);

/**
 * ioasid_verdict__viable() - whether the group satisfies a rule
 * @v: verdict.
 * @rule: rule.
 *
 * Return: true if no reason of that rule was found.
 */
bool ioasid_verdict__viable(const struct ioasid_verdict *v, enum ioasid_rule rule);

/**
 * ioasid_verdict__nr_reasons() - number of reasons (all rules)
 * @v: verdict.
 *
 * Return: the count.
 */
size_t ioasid_verdict__nr_reasons(const struct ioasid_verdict *v);

/**
 * ioasid_verdict__reason() - reason by index, kernel-rule reasons first, in device order
 * @v: verdict.
 * @idx: index below ioasid_verdict__nr_reasons().
 *
 * Return: the reason, or NULL if @idx is out of range.
 */
const struct ioasid_reason *ioasid_verdict__reason(const struct ioasid_verdict *v, size_t idx);

/**
 * ioasid_verdict__device_ok() - whether one device of the group satisfies a rule
 * @v: verdict.
 * @dev: device of the verdict's group.
 * @rule: rule.
 *
 * Return: true if no reason of @rule names @dev. The group as a whole may still fail.
 */
bool ioasid_verdict__device_ok(const struct ioasid_verdict *v, const struct ioasid_device *dev,
			       enum ioasid_rule rule);

/**
 * ioasid_verdict__free() - free a verdict; accepts NULL
 * @v: verdict.
 */
void ioasid_verdict__free(struct ioasid_verdict *v);

/* ------------------------------------------------------------------------------------ */
/* Backends, contexts and the object model                                               */
/* ------------------------------------------------------------------------------------ */

struct ioasid_backend;

/**
 * struct ioasid_backend_opts - options of ioasid_backend__open()
 * @sz: sizeof(struct ioasid_backend_opts).
 * @name: "sim" (default when NULL), "iommufd" or "vfio".
 * @aperture_start: sim: first IOVA the IOMMU translates (default 0).
 * @aperture_last: sim: last IOVA the IOMMU translates (default 2^39-1, QEMU's intel-iommu).
 * @pgsize_bitmap: sim: IOMMU page sizes (default 4 KiB | 2 MiB | 1 GiB).
 * @max_alignment: largest automatic IOVA alignment, a power of two (iopt_alloc_iova()
 *	caps it at HPAGE_SIZE with CONFIG_TRANSPARENT_HUGEPAGE, at PAGE_SIZE without).
 *	0: 2 MiB for sim; for iommufd and vfio, what the running kernel uses.
 * @fail_nth: sim: make the Nth raw backend operation fail with -ENOMEM (0 = never); for
 *	testing error paths.
 */
struct ioasid_backend_opts {
	size_t sz;
	const char *name;
	uint64_t aperture_start;
	uint64_t aperture_last;
	uint64_t pgsize_bitmap;
	uint64_t max_alignment;
	unsigned int fail_nth;
};

/**
 * ioasid_backend__open() - open a backend over a topology
 * @topo: topology; must outlive the backend. The sim uses its drivers as the kernel state.
 * @opts: optional options.
 * @out: receives the backend.
 *
 * Return: 0, -EOPNOTSUPP for a backend that is not built in, -EINVAL for bad options,
 * -ENOMEM.
 */
int ioasid_backend__open(struct ioasid_topology *topo, const struct ioasid_backend_opts *opts,
			 struct ioasid_backend **out);

/**
 * ioasid_backend__close() - close a backend and every context still open on it; accepts NULL
 * @be: backend.
 */
void ioasid_backend__close(struct ioasid_backend *be);

/**
 * ioasid_backend__name() - backend name
 * @be: backend.
 *
 * Return: "sim", "iommufd" or "vfio".
 */
const char *ioasid_backend__name(const struct ioasid_backend *be);

/**
 * struct ioasid_ctx_opts - options of ioasid_ctx__new()
 * @sz: sizeof(struct ioasid_ctx_opts).
 * @strict: enforce the strict rule: refuse attach until every endpoint of the group is
 *	bound by this context (-EPERM).
 * @pin_limit_pages: most pages this context may pin (RLIMIT_MEMLOCK); 0 means no limit.
 */
struct ioasid_ctx_opts {
	size_t sz;
	bool strict;
	uint64_t pin_limit_pages;
};

/**
 * ioasid_ctx__new() - open a context: one owner, like one open /dev/iommu
 * @be: backend.
 * @opts: optional options.
 * @out: receives the context.
 *
 * Return: 0, -EINVAL for bad options, -ENOMEM, or the backend's error.
 */
int ioasid_ctx__new(struct ioasid_backend *be, const struct ioasid_ctx_opts *opts,
		    struct ioasid_ctx **out);

/**
 * ioasid_ctx__free() - close a context; accepts NULL
 * @ctx: context.
 *
 * Like closing the file: detaches and unbinds every device, destroys every IOAS, unpins
 * everything and releases the ownership of the groups.
 */
void ioasid_ctx__free(struct ioasid_ctx *ctx);

/**
 * ioasid_ctx__last_error() - message of the last failed call on this context
 * @ctx: context.
 *
 * Return: the message; empty if no call failed yet.
 */
const struct ioasid_error *ioasid_ctx__last_error(const struct ioasid_ctx *ctx);

/**
 * struct ioasid_account - what a context holds
 * @sz: sizeof(struct ioasid_account), set by the caller.
 * @nr_devices: bound devices.
 * @nr_groups: groups this context owns (at least one device bound).
 * @nr_ioas: live IOAS.
 * @nr_areas: live mappings in all IOAS.
 * @mapped_bytes: bytes mapped in all IOAS.
 * @pinned_pages: pages pinned: the pages of every mapping in an IOAS that has at least one
 *	device attached, counted once per map call (copies share the source's pages).
 */
struct ioasid_account {
	size_t sz;
	uint64_t nr_devices;
	uint64_t nr_groups;
	uint64_t nr_ioas;
	uint64_t nr_areas;
	uint64_t mapped_bytes;
	uint64_t pinned_pages;
};

/**
 * ioasid_ctx__account() - ownership and pinning account of a context
 * @ctx: context.
 * @acct: filled; @acct->sz must be set.
 *
 * Return: 0 or -EINVAL if @acct->sz is too small.
 */
int ioasid_ctx__account(const struct ioasid_ctx *ctx, struct ioasid_account *acct);

/**
 * ioasid_device__bind() - bind a device to the context, claiming DMA ownership
 * @ctx: context.
 * @name: device name ("0000:00:03.0").
 * @dev_id: receives the device's id in the context.
 *
 * Follows vfio_df_ioctl_bind_iommufd() and iommu_device_claim_dma_owner(): devices of one
 * group can only be claimed by one owner.
 *
 * Return: 0; -ENODEV if there is no such device, it has no IOMMU group or it is not bound
 * to a VFIO driver; -EINVAL if the device is already bound (here or in another context,
 * vfio_df_open()); -EPERM if another owner holds the group or a device of the group is
 * bound to a driver that uses the kernel DMA API.
 */
int ioasid_device__bind(struct ioasid_ctx *ctx, const char *name, uint32_t *dev_id);

/**
 * ioasid_device__unbind() - unbind a device (detaching it first if needed)
 * @ctx: context.
 * @dev_id: device id.
 *
 * Return: 0 or -ENOENT if @dev_id is not a bound device of @ctx.
 */
int ioasid_device__unbind(struct ioasid_ctx *ctx, uint32_t dev_id);

/**
 * ioasid_device__attach() - attach a device to an IOAS (IOMMU page table)
 * @ctx: context.
 * @dev_id: device id.
 * @ioas_id: IOAS id.
 *
 * All devices of a group share one page table: once one device of a group is attached,
 * the others can only attach to the same IOAS. Attaching adds the device's reserved
 * regions and the domain aperture to the IOAS. Attaching an attached device to another
 * IOAS replaces the page table of its whole group (iommufd_device_replace()).
 *
 * Return: 0; -ENOENT for a bad id; -EPERM in strict mode while the group is not fully
 * claimed by @ctx; -EINVAL if another device of the group is attached to a different IOAS
 * (iommufd_hw_pagetable_attach()) or the IOMMU page size exceeds 4 KiB; -EADDRINUSE if a
 * reserved region or the aperture conflicts with an existing mapping or allowed range
 * (iopt_reserve_iova()) or a mapping is not aligned to the IOMMU page size
 * (iopt_check_iova_alignment()); -ENOMEM if pinning exceeds the limit.
 */
int ioasid_device__attach(struct ioasid_ctx *ctx, uint32_t dev_id, uint32_t ioas_id);

/**
 * ioasid_device__detach() - detach a device from its IOAS
 * @ctx: context.
 * @dev_id: device id.
 *
 * Detaching a device that is not attached succeeds, as VFIO_DEVICE_DETACH_IOMMUFD_PT does.
 *
 * Return: 0 or -ENOENT for a bad id.
 */
int ioasid_device__detach(struct ioasid_ctx *ctx, uint32_t dev_id);

/**
 * ioasid_ioas__alloc() - allocate an IOAS
 * @ctx: context.
 * @ioas_id: receives the id.
 *
 * Return: 0 or -ENOMEM.
 */
int ioasid_ioas__alloc(struct ioasid_ctx *ctx, uint32_t *ioas_id);

/**
 * ioasid_ioas__destroy() - destroy an IOAS and everything mapped in it
 * @ctx: context.
 * @ioas_id: IOAS id.
 *
 * Return: 0, -ENOENT for a bad id, -EBUSY while a device is attached
 * (iommufd_object_remove()).
 */
int ioasid_ioas__destroy(struct ioasid_ctx *ctx, uint32_t ioas_id);

#define IOASID_MAP_FIXED_IOVA	(1U << 0)	/* IOMMU_IOAS_MAP_FIXED_IOVA */
#define IOASID_MAP_WRITE	(1U << 1)	/* IOMMU_IOAS_MAP_WRITEABLE */
#define IOASID_MAP_READ		(1U << 2)	/* IOMMU_IOAS_MAP_READABLE */

/**
 * ioasid_ioas__map() - map user memory at a fixed or an automatic IOVA
 * @ctx: context.
 * @ioas_id: IOAS id.
 * @user_va: user virtual address of the memory (the sim never touches it).
 * @length: bytes.
 * @iova: in: the IOVA with IOASID_MAP_FIXED_IOVA; out: the IOVA used.
 * @flags: IOASID_MAP_* (READ and/or WRITE required).
 *
 * Automatic IOVAs follow iopt_alloc_iova(): the lowest free IOVA inside the allowed
 * ranges (all of [PAGE_SIZE, 2^64 - PAGE_SIZE] when none are set) outside reserved
 * regions, aligned to the length rounded up to a power of two, capped at
 * @max_alignment and at the alignment of @user_va. Fixed IOVAs only have to avoid
 * reserved regions and existing mappings (iopt_check_iova()).
 *
 * Return: 0; -EOPNOTSUPP for unknown flags; -EOVERFLOW if @iova or @length is 2^64-1, if
 * @user_va + @length or @iova + @length - 1 overflow; -EINVAL for a zero length, no
 * READ/WRITE flag, a length, IOVA or user address not aligned to the IOMMU page size, a
 * fixed IOVA in a reserved region or outside the aperture; -EEXIST if a fixed range
 * overlaps a mapping; -ENOSPC if no automatic IOVA fits; -ENOENT for a bad id; -ENOMEM if
 * pinning exceeds the limit.
 */
int ioasid_ioas__map(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t user_va,
		     uint64_t length, uint64_t *iova, uint32_t flags);

/**
 * ioasid_ioas__unmap() - unmap every mapping inside a range
 * @ctx: context.
 * @ioas_id: IOAS id.
 * @iova: first IOVA.
 * @length: bytes; @iova 0 with @length UINT64_MAX unmaps everything.
 * @unmapped: optional; receives the bytes unmapped.
 *
 * A range must cover whole mappings; mappings are never split (iopt_unmap_iova_range()).
 * Mappings are removed in IOVA order, so when a later one is only partly covered the
 * earlier ones stay unmapped and the call fails, as in the kernel.
 *
 * Return: 0; -ENOENT if a mapping is only partly covered, if nothing was mapped in the
 * range (not for unmap-all) or for a bad id; -EINVAL for a zero length; -EOVERFLOW if
 * @iova or @length is 2^64-1 or @iova + @length - 1 overflows.
 */
int ioasid_ioas__unmap(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped);

/**
 * ioasid_ioas__unmap_all() - unmap everything; succeeds on an empty IOAS
 * @ctx: context.
 * @ioas_id: IOAS id.
 * @unmapped: optional; receives the bytes unmapped.
 *
 * Return: 0 or -ENOENT for a bad id.
 */
int ioasid_ioas__unmap_all(struct ioasid_ctx *ctx, uint32_t ioas_id, uint64_t *unmapped);

/**
 * ioasid_ioas__copy() - map the memory behind a range of one IOAS into another IOAS
 * @ctx: context.
 * @dst_ioas_id: destination IOAS (may equal @src_ioas_id).
 * @src_ioas_id: source IOAS.
 * @src_iova: first source IOVA.
 * @length: bytes; the source range must be fully and contiguously mapped.
 * @dst_iova: in: the IOVA with IOASID_MAP_FIXED_IOVA; out: the IOVA used.
 * @flags: IOASID_MAP_* as for ioasid_ioas__map().
 *
 * Follows iommufd_ioas_copy(); the copy shares the source's pages (no extra pin).
 *
 * Return: as ioasid_ioas__map(), plus -ENOENT if the source range is not fully mapped and
 * -EPERM when asking for WRITE on memory mapped read-only.
 */
int ioasid_ioas__copy(struct ioasid_ctx *ctx, uint32_t dst_ioas_id, uint32_t src_ioas_id,
		      uint64_t src_iova, uint64_t length, uint64_t *dst_iova, uint32_t flags);

/**
 * struct ioasid_iova_range - closed IOVA interval
 * @start: first IOVA.
 * @last: last IOVA (inclusive).
 */
struct ioasid_iova_range {
	uint64_t start;
	uint64_t last;
};

/**
 * ioasid_ioas__iova_ranges() - IOVA ranges usable for mapping
 * @ctx: context.
 * @ioas_id: IOAS id.
 * @ranges: array of *@nr elements (may be NULL when *@nr is 0).
 * @nr: in: capacity; out: number of ranges.
 * @alignment: optional; receives the IOVA alignment (1 until a device is attached, then
 *	the smallest IOMMU page size).
 *
 * The ranges are [0, 2^64-1] minus the reserved regions of the attached devices and,
 * once a device is attached, minus everything outside the aperture; they narrow as
 * devices attach (iommufd_ioas_iova_ranges()).
 *
 * Return: 0, -EMSGSIZE if *@nr was too small (*@nr says how many are needed and the
 * first ones are filled), -ENOENT for a bad id.
 */
int ioasid_ioas__iova_ranges(struct ioasid_ctx *ctx, uint32_t ioas_id,
			     struct ioasid_iova_range *ranges, uint32_t *nr, uint64_t *alignment);

/**
 * ioasid_ioas__allow_iovas() - restrict automatic IOVA allocation to some ranges
 * @ctx: context.
 * @ioas_id: IOAS id.
 * @ranges: ranges (may be NULL if @nr is 0).
 * @nr: number of ranges; 0 removes the restriction.
 *
 * Return: 0; -EINVAL if a range has start >= last or two ranges overlap
 * (iommufd_ioas_load_iovas()); -EADDRINUSE if a range meets a reserved region
 * (iopt_set_allow_iova()); -ENOENT for a bad id.
 */
int ioasid_ioas__allow_iovas(struct ioasid_ctx *ctx, uint32_t ioas_id,
			     const struct ioasid_iova_range *ranges, uint32_t nr);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_IOASID_H */
