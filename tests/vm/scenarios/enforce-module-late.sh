#!/bin/bash
# Modules loaded after the policy. First VFIO itself: with vfio.ko not loaded (a policy
# loaded at boot, before anything asked for VFIO) its structs are in no BTF, and the
# programs must still load; once vfio-pci arrives, its group's ioctls are unidentified
# and denied until the next load, which then lets the tenant map. Then vfio_iommu_type1
# alone: its accounting programs cannot attach and its container ioctls are
# unidentified (denied). Loading the policy again after modprobe must attach them before
# the container is identified: then limits hold, and unmaps give the budget back, which
# only the type1 hooks can do.
. "$REPO/tests/vm/lib.sh"
trap 'policy_unload; modprobe -a -d "$MODULES_ROOT" vfio-pci vfio_iommu_type1 2>/dev/null' EXIT

[ -n "${MODULES_ROOT:-}" ] || skip "VFIO is built into this kernel: no module can load late"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
policy_unload
policy=$(write_policy late <<'POLICY'
name: lab-module-late
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
POLICY
)

restore_driver "$bdf"
if modprobe -r -d "$MODULES_ROOT" vfio_pci vfio_iommu_type1 vfio 2>"$work/rmmod.err" &&
	! grep -qw '^vfio' /proc/modules; then
	"$IOGUARD" load "$policy" > "$work/load-no-vfio.out" 2>&1 ||
		fail "load with vfio.ko not loaded failed: $(cat "$work/load-no-vfio.out")"
	cat "$work/load-no-vfio.out"
	modprobe -a -d "$MODULES_ROOT" vfio-pci vfio_iommu_type1 || fail "modprobe vfio-pci failed"
	bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci after modprobe"
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 > "$work/no-vfio-before.json"
	workload_expect "vfio loaded after the policy: nothing maps" "$work/no-vfio-before.json" maps=0
	n=$(decision_count ioctl deny unidentified)
	[ "$n" -gt 0 ] || fail "the new group's ioctls were not denied as unidentified"
	note "vfio.ko after the policy: $n ioctls denied as unidentified before the reload"
	"$IOGUARD" load "$policy" > "$work/reload.out" 2>&1 || fail "the reload failed: $(cat "$work/reload.out")"
	cat "$work/reload.out"
	grep -q "were loaded before vfio.ko and could not read its files: replaced on the same maps" "$work/reload.out" ||
		fail "the reload did not load the programs again on the same maps"
	# The predecessors go with their pins (their release is asynchronous).
	for i in $(seq 1 100); do
		n=$(bpftool prog show name ioguard_file_ioctl | grep -c '^[0-9]*: lsm')
		[ "$n" = 1 ] && break
		sleep 0.1
	done
	[ "$n" = 1 ] || fail "$n ioguard_file_ioctl programs loaded after the reload, not 1"
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 4 > "$work/no-vfio-after.json"
	workload_expect "after the reload the tenant maps" "$work/no-vfio-after.json" \
		failed_step=null maps=4
	policy_unload
else
	skip_part "vfio.ko cannot be removed here: $(cat "$work/rmmod.err")"
	modprobe -d "$MODULES_ROOT" vfio-pci
	bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
fi

rmmod vfio_iommu_type1 || skip "vfio_iommu_type1 cannot be removed here (in use)"
policy_load "$policy"
"$IOGUARD" status | grep -q type1_remove_dma && fail "type1 programs attached without the module"
modprobe -d "$MODULES_ROOT" vfio_iommu_type1 || fail "modprobe vfio_iommu_type1 failed"
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 > "$work/before.json"
workload_expect "type1 before the reload: nothing maps" "$work/before.json" maps=0
n=$(decision_count ioctl deny unidentified)
[ "$n" -gt 0 ] || fail "the container's ioctls were not denied as unidentified before the reload"
note "before the reload: $n container ioctls denied as unidentified"

policy_load "$policy"
"$IOGUARD" status | tee "$work/status"
for prog in type1_remove_dma type1_release type1_pin_pages container_ioctl_exit; do
	grep -q "$prog" "$work/status" || fail "$prog not attached after the reload"
done
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 16 --cycles 3 > "$work/cycles.json"
workload_expect "after the reload: unmaps give the budget back" "$work/cycles.json" \
	failed_step=null maps=48 unmaps=48
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 17 > "$work/over.json"
workload_expect "after the reload: the 17th page is over the limit" "$work/over.json" \
	maps=16 errno=1
restore_driver "$bdf"
