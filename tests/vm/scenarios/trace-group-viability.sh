#!/bin/bash
# The multi-device group: with one endpoint on vfio-pci and another still on its host
# driver, VFIO reports the group not viable and refuses SET_CONTAINER; the trace shows the
# refused ownership claim. With every endpoint on vfio-pci the group is viable and the
# same workload succeeds.
. "$REPO/tests/vm/lib.sh"
# Its expectations are the legacy type1 container's. Where iommufd serves /dev/vfio/vfio
# the kernel answers differently (a non-viable group is refused at GET_DEVICE_FD, not at
# SET_CONTAINER; ownership is claimed through iommufd): not rewritten for it yet.
[ -e /dev/vfio/vfio ] && ! has_type1_container &&
	skip "expects the legacy type1 container; on iommufd's emulated /dev/vfio/vfio the kernel refuses at another step (not rewritten for this kernel yet)"

[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio: this kernel has no VFIO container"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
first=${endpoints[0]}
note "group $group: endpoints ${endpoints[*]}; drivers: $(for b in "${endpoints[@]}"; do printf '%s ' "$(device_driver "$b")"; done)"

bind_driver "$first" vfio-pci || fail "cannot bind $first to vfio-pci"
start_trace "$work/trace-refused.jsonl"
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 4 > "$work/refused.json"
rc=$?
cat "$work/refused.json"
stop_trace "$work/trace-refused.jsonl"
[ $rc -ne 0 ] || fail "VFIO allowed a group with a device on a host driver"
python3 - "$work/refused.json" <<'PY' || fail "unexpected refusal"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["viable"] is False, f"GET_STATUS said viable: {w}"
assert w["failed_step"] == "set_container" and w["errno"] == 1, f"expected EPERM at set_container: {w}"
print("ok: VFIO_GROUP_GET_STATUS not viable; SET_CONTAINER refused with EPERM")
PY
check_events "$work/trace-refused.jsonl" --workload "$work/refused.json" --expect claim-refused || exit 1

for bdf in "${endpoints[@]:1}"; do
	bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
done
start_trace "$work/trace-viable.jsonl"
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 4 > "$work/viable.json"
rc=$?
cat "$work/viable.json"
stop_trace "$work/trace-viable.jsonl"
[ $rc -eq 0 ] || fail "the group is still refused with every endpoint on vfio-pci"
check_events "$work/trace-viable.jsonl" --workload "$work/viable.json" --expect type1 || exit 1

for bdf in "${endpoints[@]}"; do restore_driver "$bdf"; done
