#!/bin/bash
# libioasid's conformance scenarios (tests/conformance/scenarios.c) on the iommufd backend
# with the lab's real devices: edu alone in its group, and two endpoints of the
# multi-device group. The same scenarios then run on sim over the same live topology;
# both must pass and print the same lines: the same verdict per scenario, the same
# result (0 or errno) for every library call, the same IOVA ranges. Last, libioasid's
# automatic IOVAs are compared with the ones the kernel's own allocator picks.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs
. "$REPO/tests/vm/conformance.sh"

[ -e /dev/iommu ] || skip "no /dev/iommu: this kernel has no IOMMUFD"
conformance_setup || exit
[ -d "/sys/bus/pci/devices/$edu/vfio-dev" ] ||
	skip "no VFIO cdev for $edu: this kernel has no CONFIG_VFIO_DEVICE_CDEV"
conformance_run iommufd

"$LAB_TOOLS/conformance" iommufd --single "$edu" --kernel-iova > "$work/kernel-iova.out" 2>&1
rc=$?
cat "$work/kernel-iova.out"
[ $rc -eq 0 ] || fail "libioasid's automatic IOVAs differ from the kernel's"
# Evidence for docs/libioasid.md: without transparent huge pages the kernel caps the
# alignment at 4 KiB, and a model that assumes HPAGE_SIZE (the sim's default) disagrees.
if [ "$(kernel_max_alignment)" != 2097152 ]; then
	"$LAB_TOOLS/conformance" iommufd --single "$edu" --kernel-iova --max-alignment 2097152 \
		> "$work/kernel-iova-2m.out" 2>&1
	note "assuming a 2 MiB cap on this kernel: $(head -n 1 "$work/kernel-iova-2m.out")"
	grep -q '^not ok' "$work/kernel-iova-2m.out" ||
		fail "the kernel has no transparent huge pages, yet a 2 MiB cap gave its IOVAs"
fi
