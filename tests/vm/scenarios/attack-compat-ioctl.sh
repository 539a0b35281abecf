#!/bin/bash
# Attack, bypass class 1 (security review finding 1): the compat ioctl path. The edu
# tenant may map 64 KiB inside [1 MiB, 2 MiB). As that tenant, a static IA-32 program
# and a 64-bit program using `int $0x80` (same source, same ioctls) map outside the
# window and past the limit through the legacy container; both must get EPERM and the
# map_dma iova_window / dma_limit denials must be counted. With /dev/iommu and device
# cdevs, a non-tenant (uid 65534) holding a cdev the tenant opened binds it to iommufd
# through compat: EPERM, bind_iommufd not_tenant. iommufd has no compat_ioctl: a
# tenant's compat IOMMU_IOAS_ALLOC gets ENOTTY (the control that the path is real).
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes

tools=()
if "$LAB_TOOLS32/compat_attack" probe > "$work/probe32.json" 2>&1; then
	tools+=("$LAB_TOOLS32/compat_attack")
else
	skip_part "IA-32 programs do not run here (no IA32 emulation?): $(head -c 200 "$work/probe32.json")"
fi
if "$LAB_TOOLS/int80_attack" probe > "$work/probe80.json"; then
	tools+=("$LAB_TOOLS/int80_attack")
else
	skip_part "int \$0x80 is not served here (no IA32 emulation): $(cat "$work/probe80.json")"
fi
[ ${#tools[@]} -gt 0 ] || skip "no compat syscall path on this kernel (IA32 emulation off)"

policy=$(write_policy compat <<'POLICY'
name: lab-attack-compat
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
    iova_windows: [ { start: 0x100000, end: 0x1fffff } ]
POLICY
)
policy_load "$policy"

for t in "${tools[@]}"; do
	name=$(basename "$t")
	if ! has_type1_container; then
		skip_part "$name type1: /dev/vfio/vfio is not the legacy type1 container here"
		continue
	fi
	"$t" type1 "$bdf" --pages 16 > "$work/$name-control.json"
	attack_expect "$name: 16 pages in the window (control)" "$work/$name-control.json" \
		failed_step=null maps=16
	before=$(decision_count map_dma deny iova_window)
	"$t" type1 "$bdf" --iova 0x300000 --pages 1 > "$work/$name-window.json"
	attack_expect "$name: map outside the IOVA window" "$work/$name-window.json" \
		failed_step=map_dma errno=1 maps=0
	attack_counted "$name: outside the window" map_dma iova_window "$before"
	before=$(decision_count map_dma deny dma_limit)
	"$t" type1 "$bdf" --pages 17 > "$work/$name-limit.json"
	attack_expect "$name: the 17th page is over max_dma_bytes" "$work/$name-limit.json" \
		failed_step=map_dma errno=1 maps=16
	attack_counted "$name: over the limit" map_dma dma_limit "$before"
done

if [ -e /dev/iommu ] && [ -d "/sys/bus/pci/devices/$bdf/vfio-dev" ]; then
	for t in "${tools[@]}"; do
		name=$(basename "$t")
		"$t" iommufd > "$work/$name-ioas.json"
		attack_expect "$name: iommufd has no compat_ioctl (ENOTTY for the tenant)" \
			"$work/$name-ioas.json" failed_step=ioas_alloc errno=25
		before=$(decision_count bind_iommufd deny not_tenant)
		"$t" bind "$bdf" --uid 65534 > "$work/$name-bind.json"
		attack_expect "$name: uid 65534 binds the tenant's cdev to iommufd" \
			"$work/$name-bind.json" failed_step=bind_iommufd errno=1
		attack_counted "$name: bind by a non-tenant" bind_iommufd not_tenant "$before"
	done
else
	skip_part "VFIO_DEVICE_BIND_IOMMUFD via compat: no /dev/iommu or no VFIO device cdev for $bdf"
fi
"$IOGUARD" status
restore_driver "$bdf"
attack_done
