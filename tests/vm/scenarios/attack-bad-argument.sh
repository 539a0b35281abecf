#!/bin/bash
# Attack, bypass class 3 (security review finding 4a): a map argument ioguard cannot
# read. The edu tenant has a 64 KiB budget and no IOVA window (with a window, a failed
# read already fails the window check). Its map of 128 KiB is handed to the kernel in a
# never-touched MAP_SHARED page of a shmem file filled with write(): the kernel copies
# it in, BPF cannot, and such a map must be refused with EPERM, counted as
# map_dma / ioas_map bad_argument, never judged (and charged) as 0 bytes.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
policy=$(write_policy bad-argument <<'POLICY'
name: lab-attack-bad-argument
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
POLICY
)
policy_load "$policy"

if has_type1_container; then
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 17 > "$work/type1-control.json"
	attack_expect "type1: readable arguments, the 17th page is refused (control)" \
		"$work/type1-control.json" maps=16 errno=1
	before=$(decision_count map_dma deny bad_argument)
	"$LAB_TOOLS/bad_argument" type1 "$bdf" --pages 32 > "$work/type1.json"
	attack_expect "type1: 128 KiB MAP_DMA with an unreadable argument" "$work/type1.json" \
		failed_step=map_dma errno=1 maps=0
	attack_counted "type1: unreadable MAP_DMA argument" map_dma bad_argument "$before"
else
	skip_part "type1 MAP_DMA: /dev/vfio/vfio is not the legacy type1 container here"
fi
if [ -e /dev/iommu ]; then
	before=$(decision_count ioas_map deny bad_argument)
	"$LAB_TOOLS/bad_argument" iommufd --pages 32 > "$work/iommufd.json"
	attack_expect "iommufd: 128 KiB IOAS_MAP with an unreadable argument" "$work/iommufd.json" \
		failed_step=ioas_map errno=1 maps=0
	attack_counted "iommufd: unreadable IOAS_MAP argument" ioas_map bad_argument "$before"
else
	skip_part "iommufd IOAS_MAP: no /dev/iommu"
fi
"$IOGUARD" status
restore_driver "$bdf"
attack_done
