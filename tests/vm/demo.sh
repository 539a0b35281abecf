#!/bin/bash
# `make demo`: inside the lab guest, a live `ioguard trace` of real attach, ownership and
# map events while VFIO (type1) and iommufd users drive the DMA-capable device, and the
# refusal of a group that is not viable.
. "$REPO/tests/vm/lib.sh"
trap - EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "kernel $(uname -r); IOMMU groups as the kernel sees them"
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
	for d in /sys/kernel/iommu_groups/"$g"/devices/*; do
		bdf=$(basename "$d")
		printf '  group %-3s %s %s:%s driver %s\n' "$g" "$bdf" \
			"$(cut -c3- "$d/vendor")" "$(cut -c3- "$d/device")" "$(device_driver "$bdf")"
	done
done

bdf=$(find_device_by_id 1234 11e8) || fail "no edu device"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
say "ioguard trace (live), while a VFIO type1 user maps 8 pages on $bdf"
"$IOGUARD" trace &
trace_pid=$!
sleep 3
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 8 --iova 0x100000 > /dev/null
sleep 1
if [ -e /dev/iommu ]; then
	say "the same device through iommufd (VFIO cdev + IOAS), 8 pages"
	"$LAB_TOOLS/vfio_workload" iommufd "$bdf" --pages 8 --iova 0x200000 > /dev/null
	sleep 1
fi
group=$(find_multi_device_group) && {
	mapfile -t endpoints < <(group_endpoints "$group")
	say "group $group is not viable: ${endpoints[0]} on vfio-pci, ${endpoints[1]} on $(device_driver "${endpoints[1]}")"
	bind_driver "${endpoints[0]}" vfio-pci
	"$LAB_TOOLS/vfio_workload" type1 "${endpoints[0]}" --pages 1
	sleep 1
	restore_driver "${endpoints[0]}"
}
kill -INT "$trace_pid"
wait "$trace_pid"
restore_driver "$bdf"
say "demo done"
