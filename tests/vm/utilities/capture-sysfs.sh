#!/bin/bash
# Captures the guest's sysfs for libioasid's topology loader (only the files it reads,
# symlinks as they are) into $work/STATE, for two states of the multi-device group:
#   one-vfio   edu and the group's first endpoint on vfio-pci, the others on their host
#              driver (the group is not viable)
#   both-vfio  edu and every endpoint of the group on vfio-pci (viable)
# Copy them to tests/fixtures/sysfs/lab-KERNEL-STATE. It only captures and checks
# nothing, so it is a utility (run.sh --utility capture-sysfs), not a scenario.
. "$REPO/tests/vm/lib.sh"

edu=$(find_device_by_id 1234 11e8) || skip "no edu device (1234:11e8)"
group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
trap 'for b in "$edu" "${endpoints[@]}"; do restore_driver "$b"; done; cleanup_trace' EXIT

capture() {
	rm -rf "${work:?}/$1"
	python3 - /sys "$work/$1" <<'PY' || fail "capture of $1 failed"
# Mirrors what src/ioasid/topology.c reads: sys/bus/pci/devices/* (links), per device
# vendor, device, class and the driver and iommu_group links; sys/kernel/iommu_groups/N/
# type, reserved_regions and devices/* (links). Link targets are kept verbatim.
import os, sys
src, dst = sys.argv[1], sys.argv[2]

def rel(p):
    return os.path.relpath(p, os.path.dirname(src))   # "sys/..."

def put_link(path, target):
    out = os.path.join(dst, rel(path))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    os.symlink(target, out)

def put_file(path):
    out = os.path.join(dst, rel(path))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(path, "rb") as f, open(out, "wb") as o:
        o.write(f.read())

pci = f"{src}/bus/pci/devices"
for name in sorted(os.listdir(pci)):
    link = f"{pci}/{name}"
    put_link(link, os.readlink(link))
    real = os.path.realpath(link)
    for attr in ("vendor", "device", "class"):
        put_file(f"{real}/{attr}")
    for l in ("driver", "iommu_group"):
        if os.path.islink(f"{real}/{l}"):
            put_link(f"{real}/{l}", os.readlink(f"{real}/{l}"))
groups = f"{src}/kernel/iommu_groups"
os.makedirs(os.path.join(dst, rel(groups)), exist_ok=True)
for g in sorted(os.listdir(groups), key=int):
    put_file(f"{groups}/{g}/type")
    put_file(f"{groups}/{g}/reserved_regions")
    os.makedirs(os.path.join(dst, rel(f"{groups}/{g}/devices")), exist_ok=True)
    for d in sorted(os.listdir(f"{groups}/{g}/devices")):
        put_link(f"{groups}/{g}/devices/{d}", os.readlink(f"{groups}/{g}/devices/{d}"))
PY
	"$IOGUARD" groups --sysfs "$work/$1" > "$work/$1.groups.txt" 2>&1 ||
		fail "ioguard groups cannot read the capture $1: $(cat "$work/$1.groups.txt")"
	note "$1: $(find "$work/$1" -type f | wc -l) files, $(find "$work/$1" -type l | wc -l) links"
}

bind_driver "$edu" vfio-pci || fail "cannot bind $edu to vfio-pci"
bind_driver "${endpoints[0]}" vfio-pci || fail "cannot bind ${endpoints[0]} to vfio-pci"
capture one-vfio
for bdf in "${endpoints[@]:1}"; do
	bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
done
capture both-vfio
echo "captured into $work: copy to tests/fixtures/sysfs/lab-$KERNEL_FLAVOUR-{one,both}-vfio"
