#!/bin/bash
# Limits come from the tenant that owns the device, not from the first tenant the
# mapping process matches (the review's finding 7a). Root matches two tenants: "ops",
# listed first, has no limit and owns the other group; "vm" owns the edu device with a
# 64 KiB limit and a window. Maps through edu's container or iommufd follow vm's rules.
. "$REPO/tests/vm/lib.sh"
trap 'policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
other=$(find_multi_device_group) || other=""
policy=$(write_policy owner-limits <<POLICY
name: owner-limits
mode: enforce
default: deny
tenants:
  - name: ops
    match: { uid: 0 }
    devices: [ { group: ${other:-4095} } ]
  - name: vm
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
    iova_windows: [ { start: 0x100000, end: 0x1fffff } ]
POLICY
)
policy_load "$policy"
for b in "${backends[@]}"; do
	# Where iommufd serves /dev/vfio/vfio, SET_CONTAINER binds the context to the owner.
	[ "$b" = type1 ] && ! has_type1_container && note "type1 through iommufd's /dev/vfio/vfio"
	w() { "$LAB_TOOLS/vfio_workload" $b "$bdf" "$@"; }
	w --pages 16 > "$work/$b-limit.json"
	workload_expect "$b: 16 pages, vm's limit" "$work/$b-limit.json" failed_step=null maps=16
	w --pages 17 > "$work/$b-over.json"
	workload_expect "$b: the 17th page is over vm's limit although ops has none" \
		"$work/$b-over.json" maps=16 errno=1
	w --pages 1 --iova 0x300000 > "$work/$b-window.json"
	workload_expect "$b: outside vm's window although ops has none" "$work/$b-window.json" \
		maps=0 errno=1
done
"$IOGUARD" status
n=$(( $(decision_count map_dma deny dma_limit) + $(decision_count ioas_map deny dma_limit) ))
[ "$n" -ge 1 ] || fail "expected dma_limit denials, counted $n"
"$IOGUARD" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
bad = [d for d in s["decisions"] if d["hook"] in ("map_dma", "ioas_map") and d.get("tenant") == "ops"]
assert not bad, f"maps judged as ops: {bad}"
print("ok: every map was judged as vm, the owner of the device")
' || fail "a map was judged by the first matching tenant"
restore_driver "$bdf"
