#!/bin/bash
# ioguard trace sees a legacy VFIO (container + TYPE1v2) user of the DMA-capable device:
# the group claim and attach, 64 single-page maps at known IOVAs with their latency, the
# unmaps, the detach and the release.
. "$REPO/tests/vm/lib.sh"

[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio: this kernel has no VFIO container"
# Where iommufd serves /dev/vfio/vfio, ownership is claimed per device through iommufd,
# not as the group claim this scenario expects: not rewritten for that kernel yet.
has_type1_container ||
	skip "expects the legacy type1 container's group claim; iommufd's emulated /dev/vfio/vfio claims per device (not rewritten for this kernel yet)"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
group=$(device_group "$bdf")
[ "$(group_endpoints "$group" | wc -l)" -eq 1 ] || fail "the edu device shares group $group"
note "edu is $bdf in group $group"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"

start_trace "$work/trace.jsonl"
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 64 --iova 0x100000 > "$work/workload.json"
rc=$?
cat "$work/workload.json"
stop_trace "$work/trace.jsonl"
[ $rc -eq 0 ] || fail "the type1 workload failed"
check_events "$work/trace.jsonl" --workload "$work/workload.json" --expect type1 || exit 1
restore_driver "$bdf"
