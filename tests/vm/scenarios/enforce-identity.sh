#!/bin/bash
# Identity: every match key (uid, gid, cgroup, exe) against a real process and the edu
# device. One tenant matched by all four keys: the process that has them all uses the
# device; changing any single one (real uid, primary gid, cgroup, executable) is denied
# and counted. Real ids count, not effective ones or supplementary groups.
# Then exe alone, with binaries on the lab's overlay root (lower layer: 9p; its stat()
# st_dev is not the overlay's s_dev): QEMU itself as the VMM (vfio-pci, guest RAM mapped
# through the container) passes, a copy of QEMU at another path is refused; the named
# file run from another mount namespace, or through a bind mount at another path, still
# matches; a bind mount of a copy over the named path does not.
# lab-timeout: 900
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs "which does not change how a process is matched to a tenant"
trap 'cleanup_trace; qemu_stop; policy_unload' EXIT

[ -e /sys/fs/cgroup/cgroup.procs ] || skip "no cgroup v2 hierarchy at /sys/fs/cgroup"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
# Cgroups resolve to ids at load: they exist first.
mkdir -p /sys/fs/cgroup/identity-a/vm1 /sys/fs/cgroup/identity-b /sys/fs/cgroup/identity-ab
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
note "root: $(findmnt -no FSTYPE,MAJ:MIN /) ; backends: ${backends[*]}"

workload=$LAB_TOOLS/vfio_workload
copy=/tmp/identity-vfio_workload		# the same bytes, another inode
cp "$workload" "$copy" && chmod 0755 "$copy" || fail "cannot copy $workload"
for f in "$workload" "$copy" /usr/bin/qemu-system-x86_64; do
	note "$f: stat $(python3 -c 'import os, sys; s = os.stat(sys.argv[1]); print(f"st_dev={os.major(s.st_dev)}:{os.minor(s.st_dev)} st_ino={s.st_ino}")' "$f"), mount $(findmnt -no MAJ:MIN,FSTYPE -T "$f")"
done

# Denials the workload can meet first: the container or /dev/iommu opened by a process of
# no tenant (no_tenant), or the owned device's group or cdev (not_tenant; judged at the
# first ioctl instead when the node was never opened since boot).
DENIALS="open:no_tenant open:not_tenant set_container:not_tenant get_device_fd:not_tenant bind_iommufd:not_tenant"

allowed() {	# allowed NAME BACKEND CMD...: the workload ran all its steps
	local name=$1 b=$2
	shift 2
	"$@" > "$work/out.json" 2> "$work/out.stderr"
	workload_expect "$b: $name" "$work/out.json" failed_step=null
}

denied() {	# denied NAME BACKEND CMD...: EPERM at some step, and a denial counted
	local name=$1 b=$2 before after no_tenant
	shift 2
	before=$(decision_sum deny $DENIALS)
	no_tenant=$(decision_count open deny no_tenant)
	"$@" > "$work/out.json" 2> "$work/out.stderr"
	python3 - "$work/out.json" "$b: $name" <<'PY' || fail "$b: $name: expected EPERM"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["errno"] == 1 and w["failed_step"], w
print(f"ok: {sys.argv[2]}: denied with EPERM at {w['failed_step']}")
PY
	after=$(decision_sum deny $DENIALS)
	[ "$after" -gt "$before" ] || fail "$b: $name: no denial counted ($before, then $after)"
	# type1 opens the container first: a process of no tenant is refused right there.
	if [ "$b" = type1 ]; then
		[ "$(decision_count open deny no_tenant)" -gt "$no_tenant" ] ||
			fail "$b: $name: open deny no_tenant not counted"
		note "open deny no_tenant: $no_tenant -> $(decision_count open deny no_tenant)"
	fi
}

# --- 1. every key at once: uid AND gid AND cgroup AND exe ---------------------------
policy=$(write_policy identity-all <<POLICY
name: identity-all
mode: enforce
default: deny
tenants:
  - name: vmm
    match:
      uid: 4242
      gid: 4250
      cgroup: /identity-a
      exe: $workload
    devices:
      - id: "1234:11e8"
POLICY
)
policy_load "$policy"

for b in "${backends[@]}"; do
	w=("$b" "$bdf" --pages 2)
	allowed "every key matches (cgroup below /identity-a)" $b \
		run_as 4242:4242 4250:4250 none /identity-a/vm1 "$workload" "${w[@]}"
	denied "real uid 4243 (effective 4242)" $b \
		run_as 4243:4242 4250:4250 none /identity-a/vm1 "$workload" "${w[@]}"
	allowed "real uid 4242 (effective 4243): the real uid counts" $b \
		run_as 4242:4243 4250:4250 none /identity-a/vm1 "$workload" "${w[@]}"
	denied "gid 4251 with 4250 only as a supplementary group" $b \
		run_as 4242:4242 4251:4251 4250 /identity-a/vm1 "$workload" "${w[@]}"
	denied "real gid 4251 (effective 4250)" $b \
		run_as 4242:4242 4251:4250 none /identity-a/vm1 "$workload" "${w[@]}"
	denied "cgroup /identity-b" $b \
		run_as 4242:4242 4250:4250 none /identity-b "$workload" "${w[@]}"
	denied "cgroup /identity-ab (a prefix of the name, not a child)" $b \
		run_as 4242:4242 4250:4250 none /identity-ab "$workload" "${w[@]}"
	denied "exe: a copy of the workload at $copy" $b \
		run_as 4242:4242 4250:4250 none /identity-a/vm1 "$copy" "${w[@]}"
done

# --- 2. exe alone: QEMU as the VMM, mount namespaces, bind mounts --------------------
qemu=/usr/bin/qemu-system-x86_64
qemu_copy=/tmp/identity-qemu-system-x86_64
cp "$qemu" "$qemu_copy" || fail "cannot copy $qemu"

policy=$(write_policy identity-exe <<POLICY
name: identity-exe
mode: enforce
default: deny
tenants:
  - name: vmm
    match:
      exe: [$qemu, $workload]
    devices:
      - id: "1234:11e8"
POLICY
)
policy_load "$policy"

if ! "$qemu" -device help 2>&1 | grep -q '"vfio-pci"'; then
	fail "$qemu has no vfio-pci device"
elif [ -e /dev/vfio/vfio ]; then
	maps=$(decision_sum allow map_dma:none ioas_map:none)
	vmm "$bdf" "$qemu" || { cat "$work/qemu.out"; fail "QEMU at $qemu (the tenant's exe) did not get past VFIO setup"; }
	# QEMU traces each RAM section before its VFIO_IOMMU_MAP_DMA; a failed map would
	# have failed vfio-pci's realize ("vfio_dma_map(...) = ERR").
	grep -q "vfio_dma_map(" "$work/qemu.out" && fail "QEMU: a DMA map failed: $(cat "$work/qemu.out")"
	ram=$(grep -c "vfio_listener_region_add_ram" "$work/qemu.out")
	[ "$ram" -gt 0 ] || fail "QEMU at $qemu: no guest RAM section mapped: $(cat "$work/qemu.out")"
	echo "ok: QEMU at $qemu set up VFIO and mapped $ram guest RAM section(s):" \
		$(sed -n 's/.*vfio_listener_region_add_ram region_add \[ram\] \(0x[0-9a-f]* - 0x[0-9a-f]*\).*/\1/p' "$work/qemu.out")
	after=$(decision_sum allow map_dma:none ioas_map:none)
	if [ "$after" -gt "$maps" ]; then
		note "maps allowed by ioguard: $maps -> $after"
	else
		# iommufd's /dev/vfio/vfio: ioguard judges VFIO_IOMMU_MAP_DMA only on the VFIO
		# container's file (bpf/enforce.bpf.c), so these maps were never judged.
		note "WARNING: QEMU's maps were not judged by ioguard ($maps -> $after allowed maps):" \
			"/dev/vfio/vfio here is $( [ -d /sys/module/vfio_iommu_type1 ] && echo "VFIO's container" || echo "iommufd's compat container")"
	fi
	# QEMU opens the group first: the owned device's group, refused to a process of
	# another tenant (not_tenant); the group was opened since boot, so it is judged there.
	before=$(decision_count open deny not_tenant)
	if vmm "$bdf" "$qemu_copy"; then fail "the copy of QEMU at $qemu_copy got past VFIO setup"; fi
	grep -qi "vfio" "$work/qemu.out" && grep -q "Operation not permitted" "$work/qemu.out" ||
		fail "the copy of QEMU failed, but not with a VFIO EPERM: $(cat "$work/qemu.out")"
	after=$(decision_count open deny not_tenant)
	[ "$after" -gt "$before" ] || fail "the copy of QEMU: open deny not_tenant not counted"
	echo "ok: the copy of QEMU at $qemu_copy is refused (open deny not_tenant: $before -> $after):" \
		"$(grep -i vfio "$work/qemu.out" | head -n 1)"
else
	note "no /dev/vfio/vfio (QEMU $("$qemu" --version | head -n 1 | awk '{print $4}') uses only the container): QEMU part skipped"
fi

mkdir -p /tmp/identity-elsewhere
: > /tmp/identity-elsewhere/vfio_workload
for b in "${backends[@]}"; do
	w=("$b" "$bdf" --pages 2)
	allowed "exe in another mount namespace (unshare -m)" $b \
		run_in 0 /identity-b unshare -m "$workload" "${w[@]}"
	allowed "exe bind-mounted at another path, run from there" $b \
		run_in 0 /identity-b unshare -m --propagation private sh -c \
		'mount --bind "$1" /tmp/identity-elsewhere/vfio_workload && shift && exec /tmp/identity-elsewhere/vfio_workload "$@"' \
		- "$workload" "${w[@]}"
	denied "a copy bind-mounted over the exe's path" $b \
		run_in 0 /identity-b unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$0" "$@"' \
		"$workload" "$copy" "$workload" "${w[@]}"
done

"$IOGUARD" status
rm -f "$copy" "$qemu_copy"
restore_driver "$bdf"
