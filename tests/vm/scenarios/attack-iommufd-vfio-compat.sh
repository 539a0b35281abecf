#!/bin/bash
# Attack, bypass class 2 (security review finding 2): DMA through iommufd's VFIO
# compatibility ioctls and command numbers nobody classifies. The edu tenant may map
# only inside [1 MiB, 2 MiB). On /dev/iommu it allocates an IOAS, makes it the VFIO
# compat IOAS (IOMMU_VFIO_IOAS SET) and maps outside the window with
# VFIO_IOMMU_MAP_DMA: EPERM, map_dma iova_window. Unknown ';' numbers on /dev/iommu and
# on the legacy container: EPERM, ioctl unknown_ioctl. On a kernel whose /dev/vfio/vfio
# is iommufd's (iommufd-compat), the plain group+container path outside the window: EPERM.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
policy_load "$(window_policy attack-vfio-compat 0x100000 0x1fffff)"

if [ -e /dev/iommu ]; then
	"$LAB_TOOLS/ioctl_attack" vfio-ioas --pages 1 > "$work/vfio-ioas-control.json"
	attack_expect "/dev/iommu: VFIO_IOMMU_MAP_DMA in the window (control)" \
		"$work/vfio-ioas-control.json" failed_step=null maps=1
	before=$(decision_count map_dma deny iova_window)
	"$LAB_TOOLS/ioctl_attack" vfio-ioas --pages 1 --iova 0x300000 > "$work/vfio-ioas.json"
	attack_expect "/dev/iommu: IOAS_ALLOC + VFIO_IOAS SET + VFIO_IOMMU_MAP_DMA outside the window" \
		"$work/vfio-ioas.json" failed_step=map_dma errno=1 maps=0
	attack_counted "/dev/iommu: VFIO_IOMMU_MAP_DMA outside the window" map_dma iova_window "$before"
	before=$(decision_count ioctl deny unknown_ioctl)
	"$LAB_TOOLS/ioctl_attack" unknown /dev/iommu 0x9f > "$work/unknown-iommufd.json"
	attack_expect "/dev/iommu: unknown command _IO(';', 0x9f)" "$work/unknown-iommufd.json" \
		failed_step=ioctl errno=1
	attack_counted "/dev/iommu: unknown command" ioctl unknown_ioctl "$before"
else
	skip_part "iommufd VFIO compat ioctls and unknown iommufd commands: no /dev/iommu"
fi

if has_type1_container; then
	before=$(decision_count ioctl deny unknown_ioctl)
	"$LAB_TOOLS/ioctl_attack" unknown /dev/vfio/vfio 140 > "$work/unknown-container.json"
	attack_expect "legacy container: unknown command _IO(';', 140)" \
		"$work/unknown-container.json" failed_step=ioctl errno=1
	attack_counted "legacy container: unknown command" ioctl unknown_ioctl "$before"
else
	skip_part "unknown command on the legacy container: /dev/vfio/vfio is not the type1 container here"
fi

# iommufd serves /dev/vfio/vfio when the node exists but type1 is not in the kernel.
if [ -e /dev/iommu ] && [ -e /dev/vfio/vfio ] && ! has_type1_container; then
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 > "$work/compat-container-control.json"
	attack_expect "iommufd as /dev/vfio/vfio: group + container in the window (control)" \
		"$work/compat-container-control.json" failed_step=null maps=1
	before=$(decision_count map_dma deny iova_window)
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x300000 > "$work/compat-container.json"
	attack_expect "iommufd as /dev/vfio/vfio: group + container outside the window" \
		"$work/compat-container.json" failed_step=map_dma errno=1 maps=0
	attack_counted "iommufd as /dev/vfio/vfio: outside the window" map_dma iova_window "$before"
else
	skip_part "group + container through iommufd: /dev/vfio/vfio is not served by iommufd on this kernel"
fi
"$IOGUARD" status
restore_driver "$bdf"
attack_done
