#!/bin/bash
# Tenants: the edu device belongs to a tenant matched by uid AND cgroup. That tenant's
# process uses it; a process of another uid, of another cgroup, or root outside every
# tenant, is denied at open; a process of another tenant (which owns the multi-device
# group) passes the open but is denied the edu device itself (not_tenant).
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

[ -e /sys/fs/cgroup/cgroup.procs ] || skip "no cgroup v2 hierarchy at /sys/fs/cgroup"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
mkdir -p /sys/fs/cgroup/tenant-a /sys/fs/cgroup/other
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"

other_group=$(find_multi_device_group) || skip "no second IOMMU group for a second tenant"
policy=$(write_policy tenant <<POLICY
name: lab-tenants
mode: enforce
default: deny
tenants:
  - name: tenant-a
    match:
      uid: 4242
      cgroup: /tenant-a
    devices:
      - id: "1234:11e8"
  - name: tenant-b
    match: { uid: 4244 }
    devices:
      - group: $other_group
POLICY
)
policy_load "$policy"

denied() {	# denied NAME RESULT.json: failed with EPERM at some step
	python3 - "$2" "$1" <<'PY' || fail "$1: expected EPERM"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["errno"] == 1 and w["failed_step"], w
print(f"ok: {sys.argv[2]}: denied with EPERM at {w['failed_step']}")
PY
}

for b in "${backends[@]}"; do
	run_in 4242 /tenant-a "$LAB_TOOLS/vfio_workload" $b "$bdf" --pages 2 > "$work/$b-tenant.json"
	workload_expect "$b: uid 4242 in /tenant-a (the tenant)" "$work/$b-tenant.json" failed_step=null
	run_in 4243 /tenant-a "$LAB_TOOLS/vfio_workload" $b "$bdf" --pages 2 > "$work/$b-uid.json"
	denied "$b: uid 4243 in /tenant-a" "$work/$b-uid.json"
	run_in 4242 /other "$LAB_TOOLS/vfio_workload" $b "$bdf" --pages 2 > "$work/$b-cgroup.json"
	denied "$b: uid 4242 in /other" "$work/$b-cgroup.json"
	run_in 0 /other "$LAB_TOOLS/vfio_workload" $b "$bdf" --pages 2 > "$work/$b-root.json"
	denied "$b: root outside every tenant" "$work/$b-root.json"
	run_in 4244 /other "$LAB_TOOLS/vfio_workload" $b "$bdf" --pages 2 > "$work/$b-other.json"
	denied "$b: tenant-b's process on tenant-a's device" "$work/$b-other.json"
done
[ "$(decision_count set_container deny not_tenant)$(decision_count open deny not_tenant)" != 00 ] ||
	fail "no not_tenant denial counted"
"$IOGUARD" status
restore_driver "$bdf"
