#!/bin/bash
# Strict viability on iommufd: devices are bound one by one, so the barrier sits at
# attach. With one endpoint of the multi-device group bound to an iommufd, attaching it
# is denied with EPERM (the kernel alone would allow it); with every endpoint bound to
# the same iommufd, the attach is allowed.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs
trap 'cleanup_trace; policy_unload' EXIT

[ -e /dev/iommu ] || skip "no /dev/iommu: this kernel is built without CONFIG_IOMMUFD"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
[ ${#endpoints[@]} -eq 2 ] || skip "group $group has ${#endpoints[@]} endpoints; this scenario binds two"
first=${endpoints[0]} second=${endpoints[1]}
note "group $group: endpoints ${endpoints[*]}"
for bdf in "${endpoints[@]}"; do bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf"; done
[ -d "/sys/bus/pci/devices/$first/vfio-dev" ] ||
	skip "vfio-pci exposes no cdev: kernel without CONFIG_VFIO_DEVICE_CDEV"

"$LAB_TOOLS/vfio_workload" iommufd "$first" --pages 2 > "$work/kernel.json"
workload_expect "no policy: the kernel attaches a half-bound group" "$work/kernel.json" \
	failed_step=null

policy=$(group_policy lab-strict-iommufd enforce "$group")
policy_load "$policy"
"$LAB_TOOLS/vfio_workload" iommufd "$first" --pages 2 > "$work/half.json"
workload_expect "strict, only $first bound" "$work/half.json" failed_step=attach_pt errno=1
[ "$(decision_count attach_pt deny group_not_viable)" -ge 1 ] ||
	fail "no attach_pt/deny/group_not_viable decision counted"

"$LAB_TOOLS/vfio_workload" iommufd "$first" --bind-also "$second" --pages 2 > "$work/full.json"
workload_expect "strict, both bound to one iommufd" "$work/full.json" failed_step=null maps=2
"$IOGUARD" status
for bdf in "${endpoints[@]}"; do restore_driver "$bdf"; done
