#!/bin/bash
# Strict viability on legacy VFIO: with one endpoint of the multi-device group on
# vfio-pci and the other unbound, the kernel allows VFIO_GROUP_SET_CONTAINER (the group
# is viable by its rule) but the strict policy denies it with EPERM; with both endpoints
# on vfio-pci it is allowed. Unload restores the kernel's behaviour.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio: this kernel has no VFIO container"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
first=${endpoints[0]}
note "group $group: endpoints ${endpoints[*]}"
bind_driver "$first" vfio-pci || fail "cannot bind $first"
for bdf in "${endpoints[@]:1}"; do bind_driver "$bdf" none || fail "cannot unbind $bdf"; done

"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 2 > "$work/kernel.json"
workload_expect "no policy: the kernel allows it" "$work/kernel.json" failed_step=null

policy=$(group_policy lab-strict enforce "$group")
policy_load "$policy"
"$IOGUARD" status
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 2 > "$work/strict-half.json"
workload_expect "strict, one endpoint unbound" "$work/strict-half.json" \
	failed_step=set_container errno=1
[ "$(decision_count set_container deny group_not_viable)" -ge 1 ] ||
	fail "no set_container/deny/group_not_viable decision counted"

for bdf in "${endpoints[@]:1}"; do bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf"; done
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 2 > "$work/strict-full.json"
workload_expect "strict, every endpoint on vfio-pci" "$work/strict-full.json" failed_step=null

for bdf in "${endpoints[@]:1}"; do bind_driver "$bdf" none; done
"$IOGUARD" unload || fail "unload failed"
[ ! -e /sys/fs/bpf/ioguard ] || fail "pins remain after unload"
"$LAB_TOOLS/vfio_workload" type1 "$first" --pages 2 > "$work/unloaded.json"
workload_expect "after unload" "$work/unloaded.json" failed_step=null
for bdf in "${endpoints[@]}"; do restore_driver "$bdf"; done
