#!/bin/bash
# ioguard trace sees an iommufd user of the DMA-capable device through the VFIO cdev: the
# device ownership claim at bind, the attach, 64 single-page IOAS maps at known IOVAs with
# their latency, the unmaps, the detach and the release.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs

[ -e /dev/iommu ] || skip "no /dev/iommu: this kernel is built without CONFIG_IOMMUFD"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
group=$(device_group "$bdf")
note "edu is $bdf in group $group"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
[ -d "/sys/bus/pci/devices/$bdf/vfio-dev" ] ||
	skip "vfio-pci exposes no cdev for $bdf: kernel without CONFIG_VFIO_DEVICE_CDEV"

start_trace "$work/trace.jsonl"
"$LAB_TOOLS/vfio_workload" iommufd "$bdf" --pages 64 --iova 0x200000 > "$work/workload.json"
rc=$?
cat "$work/workload.json"
stop_trace "$work/trace.jsonl"
[ $rc -eq 0 ] || fail "the iommufd workload failed"
check_events "$work/trace.jsonl" --workload "$work/workload.json" --expect iommufd || exit 1
restore_driver "$bdf"
