#!/bin/bash
# Attack, bypass class 5 (security review finding 8): a tenant's VFIO device fd used by
# a process that is not a tenant. The edu tenant is root in the cgroup /lab-tenant. It
# opens the device (type1, and the iommufd cdev where the kernel has one) and the fd
# travels:
#   (a) SCM_RIGHTS to a child that dropped to uid 65534: no fd arrives (MSG_CTRUNC),
#       receive not_tenant;
#   (b) pidfd_getfd() by root in another cgroup: EPERM, receive not_tenant;
#   (c) fork, setuid(65534), exec: VFIO_DEVICE_GET_INFO, mmap of BAR0 and pread of
#       config space all get EPERM (device_ioctl, device_mmap, device_rw not_tenant),
#       while the tenant itself does all three (the control).
. "$REPO/tests/vm/lib.sh"
# The holder must be gone before restore_driver: unbinding waits for every device fd.
holder="" holder_pid=""
stop_holder() {
	[ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
	[ -n "$holder" ] && wait "$holder" 2>/dev/null
	holder="" holder_pid=""
}
trap 'cleanup_trace; stop_holder; policy_unload' EXIT

[ -e /sys/fs/cgroup/cgroup.procs ] || skip "no cgroup v2 hierarchy at /sys/fs/cgroup"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
[ -e /dev/iommu ] || skip_part "iommufd device cdev: no /dev/iommu in this kernel"

policy=$(write_policy fd-passing <<'POLICY'
name: lab-attack-fd-passing
mode: enforce
default: deny
tenants:
  - name: edu
    match:
      uid: 0
      cgroup: /lab-tenant
    devices: [ { id: "1234:11e8" } ]
POLICY
)
mkdir -p /sys/fs/cgroup/lab-tenant /sys/fs/cgroup/lab-other
policy_load "$policy"
tool="$LAB_TOOLS/fd_passing"

for b in "${backends[@]}"; do
	before=$(decision_count receive deny not_tenant)
	run_in 0 /lab-tenant "$tool" scm "$b" "$bdf" --uid 65534 > "$work/$b-scm.json"
	attack_expect "$b (a) the tenant sends its device fd (control)" "$work/$b-scm.json" \
		@role=tenant failed_step=null
	attack_expect "$b (a) SCM_RIGHTS to uid 65534: no fd arrives" "$work/$b-scm.json" \
		@role=receiver fd_received=false ctrunc=true
	attack_counted "$b (a) SCM_RIGHTS to a non-tenant" receive not_tenant "$before"

	# $! is the subshell running run_in; the holder reports its own pid.
	run_in 0 /lab-tenant "$tool" hold "$b" "$bdf" > "$work/$b-hold.json" &
	holder=$!
	for _ in $(seq 1 300); do
		grep -q '"role":"holder"' "$work/$b-hold.json" && break
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.1
	done
	pid="" fd=""
	read -r pid fd < <(python3 -c '
import json, sys
w = json.loads(open(sys.argv[1]).readline())
print(w["pid"], w.get("device_fd", -1))' "$work/$b-hold.json" 2>/dev/null)
	holder_pid=${pid:-}
	if [ -n "${fd:-}" ] && [ "$fd" -ge 0 ]; then
		before=$(decision_count receive deny not_tenant)
		run_in 0 /lab-other "$tool" getfd "$pid" "$fd" > "$work/$b-getfd.json"
		attack_expect "$b (b) pidfd_getfd of the tenant's device fd by root in /lab-other" \
			"$work/$b-getfd.json" failed_step=pidfd_getfd errno=1
		attack_counted "$b (b) pidfd_getfd by a non-tenant" receive not_tenant "$before"
	else
		attack_failures+=("$b (b) the holder did not start: $(cat "$work/$b-hold.json")")
	fi
	stop_holder

	declare -A before_use=()
	for h in device_ioctl device_mmap device_rw; do
		before_use[$h]=$(decision_count $h deny not_tenant)
	done
	run_in 0 /lab-tenant "$tool" inherit "$b" "$bdf" --uid 65534 > "$work/$b-inherit.json"
	attack_expect "$b (c) the tenant: GET_INFO, mmap BAR0, pread config (control)" \
		"$work/$b-inherit.json" @role=tenant failed_step=null get_info_errno=0 \
		mmap_errno=0 pread_errno=0
	attack_expect "$b (c) fork + setuid(65534) + exec: GET_INFO, mmap BAR0, pread config" \
		"$work/$b-inherit.json" @role=user get_info_errno=1 mmap_errno=1 pread_errno=1
	for h in device_ioctl device_mmap device_rw; do
		attack_counted "$b (c) inherited fd" $h not_tenant "${before_use[$h]}"
	done
done
"$IOGUARD" status
restore_driver "$bdf"
attack_done
