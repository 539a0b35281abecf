#!/bin/bash
# exe_sha256: a tenant matched by the content of its executable, as IMA hashes it at
# exec, wherever the file lives. The case `exe` cannot cover: a binary from a container
# image, on an overlay superblock of its own, run in another mount namespace (a VMM in
# a virt-launcher pod). Against the edu device and real processes:
#  - the workload and QEMU (the VMM: vfio-pci realized, guest RAM mapped), each run from
#    a fresh overlay "image" mounted only in its own mount namespace, are allowed;
#  - the same bytes plus one are refused (no_tenant), and so is a matching process
#    after it executes a file of another digest (the record follows the image);
#  - threads and forked children of a matching process are matched (inherited);
#  - a process that executed before the policy named digests is not (no record).
# On a kernel without IMA, `load` refuses the policy with the reason, and the policy in
# force stays.
# lab-timeout: 900
. "$REPO/tests/vm/lib.sh"
image=/tmp/exe-sha256-image
trap 'qemu_stop; policy_unload; umount -l "$image" 2>/dev/null; true' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"

workload=$LAB_TOOLS/vfio_workload
python=$(readlink -f /usr/bin/python3)
digest() { sha256sum "$1" | cut -d' ' -f1; }
# The first judgement a process of no tenant meets: opening the container or /dev/iommu,
# or the owned device's group or cdev.
DENIALS="open:no_tenant open:not_tenant set_container:not_tenant get_device_fd:not_tenant bind_iommufd:not_tenant"

# The policy in force before: uid 4242 only.
before=$(write_policy exe-sha256-before <<POLICY
name: exe-sha256-before
mode: enforce
default: deny
tenants:
  - name: by-uid
    match:
      uid: 4242
    devices:
      - id: "1234:11e8"
POLICY
)
policy_load "$before"
hash_before=$("$IOGUARD" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"]["sha256"])')

# A process that executed under a policy naming no digest: it has no record.
mkfifo /tmp/exe-sha256-early.fifo
python3 -c '
import os, sys
open(sys.argv[1]).read()
dev = "/dev/iommu" if os.path.exists("/dev/iommu") else "/dev/vfio/vfio"
try:
    os.close(os.open(dev, os.O_RDWR)); print("opened")
except OSError as e:
    print(f"errno {e.errno}")
' /tmp/exe-sha256-early.fifo > "$work/early.out" 2>&1 &
early_pid=$!

policy=$(write_policy exe-sha256 <<POLICY
name: exe-sha256
mode: enforce
default: deny
tenants:
  - name: vmm
    match:
      exe_sha256:
        - $(digest "$workload")
        - $(digest /usr/bin/qemu-system-x86_64)
        - $(digest "$python")
    devices:
      - id: "1234:11e8"
POLICY
)

if ! grep -qw ima_file_hash /proc/kallsyms; then
	out=$("$IOGUARD" load "$policy" 2>&1) && fail "load of an exe_sha256 policy succeeded on a kernel without IMA"
	echo "$out" | grep -q "tenant vmm matches exe_sha256, which needs IMA.*this kernel has no IMA" ||
		fail "refusal does not name the missing feature: $out"
	now=$("$IOGUARD" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"]["sha256"])')
	[ "$now" = "$hash_before" ] || fail "the policy in force changed ($hash_before -> $now)"
	echo "ok: refused without IMA, the previous policy stays in force: $out"
	echo > /tmp/exe-sha256-early.fifo
	wait "$early_pid"
	exit 0
fi
policy_load "$policy"

# The "image": an overlay of its own (lower layer on a tmpfs), mounted in the process's
# mount namespace only, as a container runtime does.
mkdir -p "$image"
mount -t tmpfs tmpfs "$image" || fail "cannot mount a tmpfs at $image"
mkdir -p "$image"/{lower,upper,work,merged}
cp "$workload" "$image/lower/vfio_workload"
cp "$workload" "$image/lower/tampered" && printf '\0' >> "$image/lower/tampered"
cp /usr/bin/qemu-system-x86_64 "$image/lower/qemu-system-x86_64"
mount_image='mount -t overlay image -o "lowerdir=$1/lower,upperdir=$1/upper,workdir=$1/work" "$1/merged"'
in_image() {	# in_image CMD...: CMD (a path under $image/merged) in its own mount namespace
	unshare -m --propagation private sh -c "$mount_image"' || exit 99; shift; exec "$@"' - "$image" "$@"
}
in_image sh -c 'findmnt -no FSTYPE,MAJ:MIN -T "$0"; stat -c "dev %D ino %i" "$0"' "$image/merged/vfio_workload" > "$work/image.txt" ||
	fail "cannot mount the image overlay"
grep -q '^overlay' "$work/image.txt" || fail "the image is not an overlay: $(cat "$work/image.txt")"
note "image file: $(tr '\n' ' ' < "$work/image.txt"); the workload on the root: $(stat -c 'dev %D ino %i' "$workload")"
[ -e "$image/merged/vfio_workload" ] && fail "the image is visible outside its mount namespace"

for b in "${backends[@]}"; do
	w=("$b" "$bdf" --pages 2)
	in_image "$image/merged/vfio_workload" "${w[@]}" > "$work/out.json" 2> "$work/out.stderr"
	workload_expect "$b: the workload from the image (another overlay, another mount ns)" \
		"$work/out.json" failed_step=null

	before_deny=$(decision_sum deny $DENIALS)
	in_image "$image/merged/tampered" "${w[@]}" > "$work/out.json" 2> "$work/out.stderr"
	workload_expect "$b: the workload plus one byte, from the image" "$work/out.json" errno=1
	in_image sh -c 'exec "$@"' - "$image/merged/tampered" "${w[@]}" > "$work/out.json" 2> "$work/out.stderr"
	workload_expect "$b: sh (not a tenant's) executing the tampered copy" "$work/out.json" errno=1
	after_deny=$(decision_sum deny $DENIALS)
	[ "$after_deny" -ge $((before_deny + 2)) ] ||
		fail "$b: the two refusals were not counted ($before_deny, then $after_deny)"
	note "$b: denials counted: $before_deny -> $after_deny"
done

# The record follows the image: python (a tenant's digest) matches, then, having executed
# the tampered workload in place, the same process does not.
in_image python3 -c '
import os, sys
fd = os.open("/dev/iommu" if os.path.exists("/dev/iommu") else "/dev/vfio/vfio", os.O_RDWR)
os.close(fd)
sys.stdout.flush()
os.execv(sys.argv[1], sys.argv[1:])
' "$image/merged/tampered" "${backends[0]}" "$bdf" --pages 1 > "$work/out.json" 2> "$work/out.stderr"
workload_expect "python matched, then executed the tampered copy: refused" "$work/out.json" errno=1

# Threads and forked children run the image their creator executed.
python3 - <<'PY' || fail "a thread or child of a matching process was refused"
import os, threading
dev = "/dev/iommu" if os.path.exists("/dev/iommu") else "/dev/vfio/vfio"
def use():
    os.close(os.open(dev, os.O_RDWR))
errors = []
def thread():
    try:
        use()
    except OSError as e:
        errors.append(e)
t = threading.Thread(target=thread)
t.start(); t.join()
assert not errors, f"thread: {errors}"
pid = os.fork()
if pid == 0:
    try:
        use()
        os._exit(0)
    except OSError:
        os._exit(1)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "forked child refused"
print(f"ok: a thread and a forked child of python opened {dev}")
PY

# Executed before the policy named digests: no record, so not the tenant.
echo > /tmp/exe-sha256-early.fifo
wait "$early_pid"
grep -qx "errno 1" "$work/early.out" ||
	fail "a process that executed before the policy named digests was not refused: $(cat "$work/early.out")"
echo "ok: a python started before the policy named digests is refused (no record of its image)"

# QEMU, the VMM, from the image: vfio-pci realized and guest RAM mapped.
if [ -e /dev/vfio/vfio ] && has_type1_container; then
	vmm "$bdf" unshare -m --propagation private sh -c "$mount_image"' || exit 99; shift; exec "$@"' \
		- "$image" "$image/merged/qemu-system-x86_64" ||
		{ cat "$work/qemu.out"; fail "QEMU from the image did not get past VFIO setup"; }
	grep -q "vfio_dma_map(" "$work/qemu.out" && fail "QEMU: a DMA map failed: $(cat "$work/qemu.out")"
	ram=$(grep -c "vfio_listener_region_add_ram" "$work/qemu.out")
	[ "$ram" -gt 0 ] || fail "QEMU from the image: no guest RAM section mapped"
	echo "ok: QEMU from the image set up VFIO and mapped $ram guest RAM section(s)"
else
	skip_part "QEMU 7.2 in the lab drives only VFIO's type1 container, which this kernel lacks"
fi

"$IOGUARD" status
restore_driver "$bdf"
