#!/bin/bash
# Audit mode: the strict policy that denies SET_CONTAINER on a half-bound group (see
# enforce-strict-type1) lets it through in audit mode and counts the would-deny.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio: this kernel has no VFIO container"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
first=${endpoints[0]}
bind_driver "$first" vfio-pci || fail "cannot bind $first"
for bdf in "${endpoints[@]:1}"; do bind_driver "$bdf" none || fail "cannot unbind $bdf"; done

policy=$(group_policy lab-audit audit "$group")
policy_load "$policy"
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 2 > "$work/audit.json"
workload_expect "audit: the would-deny goes through" "$work/audit.json" failed_step=null maps=2
n=$(decision_count set_container audit group_not_viable)
[ "$n" -ge 1 ] || fail "no set_container/audit/group_not_viable decision counted"
[ "$(decision_count set_container deny group_not_viable)" -eq 0 ] || fail "audit mode denied"
note "would-deny decisions counted: $n"
"$IOGUARD" status
for bdf in "${endpoints[@]}"; do restore_driver "$bdf"; done
