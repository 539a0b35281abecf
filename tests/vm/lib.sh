# Helpers for lab scenarios (sourced). Scenarios discover the topology from sysfs: no BDF,
# group number or device count is assumed.
# Environment from guest.sh: IOGUARD, LAB_TOOLS, LAB_TOOLS32 (static IA-32), LAB_RESULTS, REPO, KERNEL_FLAVOUR.
set -uo pipefail

scenario=$(basename "$0" .sh)
work="$LAB_RESULTS/$scenario"
mkdir -p "$work"
trace_pid=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "-- $*"; }

cleanup_trace() {
	[ -n "$trace_pid" ] && kill -INT "$trace_pid" 2>/dev/null && wait "$trace_pid" 2>/dev/null
	trace_pid=""
}
trap cleanup_trace EXIT

# BDF of the first PCI device with this vendor and device id (hex, no 0x).
find_device_by_id() {
	local dev
	for dev in /sys/bus/pci/devices/*; do
		if [ "$(cat "$dev/vendor")" = "0x$1" ] && [ "$(cat "$dev/device")" = "0x$2" ]; then
			basename "$dev"
			return 0
		fi
	done
	return 1
}

device_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
device_driver() {
	local link="/sys/bus/pci/devices/$1/driver"
	if [ -e "$link" ]; then basename "$(readlink "$link")"; else echo none; fi
}
is_bridge() { case "$(cat "/sys/bus/pci/devices/$1/class")" in 0x0604*) return 0 ;; esac; return 1; }

# Endpoints (non-bridge PCI functions) of an IOMMU group, one BDF a line.
group_endpoints() {
	local d bdf
	for d in /sys/kernel/iommu_groups/"$1"/devices/*; do
		bdf=$(basename "$d")
		[ -e "/sys/bus/pci/devices/$bdf" ] || continue
		is_bridge "$bdf" || echo "$bdf"
	done
}

# First IOMMU group with at least two endpoints that have a host driver bound.
find_multi_device_group() {
	local g n bdf
	for g in $(ls /sys/kernel/iommu_groups | sort -n); do
		n=0
		for bdf in $(group_endpoints "$g"); do
			[ "$(device_driver "$bdf")" != none ] && n=$((n + 1))
		done
		[ $n -ge 2 ] && { echo "$g"; return 0; }
	done
	return 1
}

# bind_driver BDF DRIVER: DRIVER is vfio-pci, a host driver name, or "none" (unbound).
bind_driver() {
	local bdf=$1 want=$2 dev="/sys/bus/pci/devices/$1" override
	override=$want
	[ "$want" = none ] && override="ioguard-lab-none"
	echo "$override" > "$dev/driver_override" || return 1
	[ -e "$dev/driver" ] && echo "$bdf" > "$dev/driver/unbind"
	echo "$bdf" > /sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(device_driver "$bdf")" = "$want" ] ||
		{ echo "bind_driver: $bdf is on $(device_driver "$bdf"), wanted $want"; return 1; }
}

# Back to the driver the kernel would pick by itself.
# dma_backends BDF: the DMA paths this kernel offers for BDF (bound to vfio-pci), one a
# line: type1 (the VFIO container) and iommufd (/dev/iommu and the device's cdev).
dma_backends() {
	[ -e /dev/vfio/vfio ] && echo type1
	[ -e /dev/iommu ] && [ -d "/sys/bus/pci/devices/$1/vfio-dev" ] && echo iommufd
	true
}
restore_driver() {
	local bdf=$1 dev="/sys/bus/pci/devices/$1"
	echo > "$dev/driver_override"
	[ -e "$dev/driver" ] && echo "$bdf" > "$dev/driver/unbind"
	echo "$bdf" > /sys/bus/pci/drivers_probe 2>/dev/null
	true
}

# start_trace FILE [ioguard trace options]: JSON events to FILE, returns once attached.
start_trace() {
	local out=$1 i
	shift
	"$IOGUARD" trace --json "$@" > "$out" 2> "$out.stderr" &
	trace_pid=$!
	for i in $(seq 1 600); do
		grep -q "tracing," "$out.stderr" && { cat "$out.stderr"; return 0; }
		kill -0 "$trace_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out.stderr"
	fail "ioguard trace did not start"
}

stop_trace() {
	# Events of the last ioctl may still sit in the ring buffer: one poll period is enough.
	sleep 0.5
	kill -INT "$trace_pid"
	wait "$trace_pid"
	local rc=$?
	trace_pid=""
	cat "$1.stderr"
	[ $rc -eq 0 ] || fail "ioguard trace exited with $rc"
}

check_events() { python3 "$REPO/tests/vm/check_events.py" "$@"; }

# write_policy NAME: the policy on stdin, root-owned 0644 (load refuses anything else).
write_policy() {
	local path="/tmp/ioguard-policy-$1.yaml"
	cat > "$path"
	chown root:root "$path"
	chmod 0644 "$path"
	echo "$path"
}

# The loader races (concurrent loads, SIGKILLed loads, swaps, the upgrade of a pinned set)
# exercise ioguard's pins and the kernel's BPF link, map and bpffs code, which no lab
# kernel's VFIO or iommufd backend changes: they run once per BPF core version, on
# Debian's 6.12 and 6.1, not again on the built 6.12 kernels (CI has 90 minutes).
skip_unless_debian_kernel() {
	case "$KERNEL_FLAVOUR" in
	debian | debian-6.1) ;;
	*) skip "a loader race: it runs on Debian's 6.12 and 6.1 (one kernel per BPF core version); this kernel's VFIO/iommufd backend does not change what it proves" ;;
	esac
}

# The iommufd-compat kernel is the iommufd kernel's source and configuration plus
# CONFIG_IOMMUFD_VFIO_CONTAINER: a scenario that never opens /dev/vfio/vfio would only
# repeat the iommufd kernel's run there, and CI has 90 minutes for four kernels.
# skip_where_only_the_container_differs [WHY]: WHY says why the container does not matter
# to this scenario (default: it never opens /dev/vfio/vfio).
skip_where_only_the_container_differs() {
	if [ "$KERNEL_FLAVOUR" = iommufd-compat ]; then
		skip "iommufd-compat differs from the iommufd kernel only in serving /dev/vfio/vfio, ${1:-which this scenario does not use}; the iommufd kernel runs it"
	fi
}

# stop_daemon: SIGTERM to the daemon a scenario started as daemon_pid=$!; its exit code.
daemon_pid=""
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid"
	local rc=$?
	daemon_pid=""
	return $rc
}

# unit_setting KEY UNIT: KEY='s value in a systemd unit file (the last one, as systemd reads it).
unit_setting() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

# bounding_set CAP...: setpriv's --bounding-set argument that keeps exactly CAP... (CAP_X names).
bounding_set() {
	local out=-all c
	for c in "$@"; do out+=",+$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done
	echo "$out"
}

# wait_for_line FILE PATTERN PID [SECONDS]: until FILE has a line matching PATTERN; fails
# when process PID exits first or SECONDS (60) pass.
wait_for_line() {
	local file=$1 pattern=$2 pid=$3 tenths=$((${4:-60} * 10)) i
	for ((i = 0; i < tenths; i++)); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$file"; fail "process $pid exited before printing '$pattern'"; }
		sleep 0.1
	done
	cat "$file"
	fail "no '$pattern' in $file within ${4:-60} s"
}

policy_load() {
	"$IOGUARD" load "$1" || fail "ioguard load $1 failed"
}

policy_unload() {
	"$IOGUARD" unload >/dev/null 2>&1
	true
}

# decision_count HOOK DECISION REASON: summed over tenants, from ioguard status --json.
# jq, not python3: under TCG an interpreter start costs seconds, jq's a fraction.
decision_count() {
	"$IOGUARD" status --json | jq --arg hook "$1" --arg decision "$2" --arg reason "$3" \
		'[.decisions[] | select(.hook == $hook and .decision == $decision and
		  .reason == $reason) | .count] | add // 0'
}

# decision_sum DECISION HOOK:REASON...: decision_count summed over several hooks and
# reasons, from one ioguard status --json.
decision_sum() {
	local decision=$1
	shift
	"$IOGUARD" status --json | jq --arg decision "$decision" \
		'[.decisions[] | select(.decision == $decision and
		  ((.hook + ":" + .reason) as $k | $ARGS.positional | index($k)) != null) |
		  .count] | add // 0' --args "$@"
}

# workload_expect NAME RESULT.json FIELD=VALUE...: asserts fields of a vfio_workload
# result, a one-line JSON object of plain values (read here, no interpreter started).
# VALUE is null (also matching an absent field), true, false, an integer, or a string.
workload_expect() {
	local what=$1 file=$2 json cond field want got value
	shift 2
	json=$(< "$file") || fail "$what: no workload result in $file"
	value='(null|true|false|-?[0-9]+|"[^"]*")'
	for cond in "$@"; do
		field=${cond%%=*}
		want=${cond#*=}
		[[ $want =~ ^(null|true|false|-?[0-9]+)$ ]] || want="\"$want\""
		if [[ $json =~ [{,]\"$field\":$value[,}] ]]; then
			got=${BASH_REMATCH[1]}
		else
			got=null
		fi
		if [ "$got" != "$want" ]; then
			echo "$what: $field is $got, expected $want: $json"
			fail "$what: unexpected workload result"
		fi
	done
	echo "ok: $what: $*"
}

# run_in UID CGROUP CMD...: CMD as UID:UID (no supplementary groups) inside the cgroup
# v2 directory /sys/fs/cgroup/CGROUP (created if needed).
run_in() {
	local uid=$1 cg=/sys/fs/cgroup$2
	shift 2
	mkdir -p "$cg"
	bash -c 'echo $$ > "$1/cgroup.procs" && shift 2 && exec setpriv --reuid="$0" --regid="$0" --clear-groups "$@"' \
		"$uid" "$cg" - "$@"
}

# run_as RUID:EUID RGID:EGID GROUPS CGROUP CMD...: like run_in, with real and effective
# ids set apart and supplementary GROUPS (comma-separated, or "none").
run_as() {
	local ids=$1 gids=$2 groups=$3 cg=/sys/fs/cgroup$4 opt=--clear-groups
	shift 4
	[ "$groups" = none ] || opt=--groups=$groups
	mkdir -p "$cg"
	bash -c 'echo $$ > "$1/cgroup.procs" && shift 2 && exec setpriv "$@"' - "$cg" - \
		--ruid="${ids%%:*}" --euid="${ids##*:}" --rgid="${gids%%:*}" --egid="${gids##*:}" \
		"$opt" "$@"
}

# The VFIO and iommufd nodes readable by anyone, so that only the policy decides.
open_up_device_nodes() {
	find /dev/vfio /dev/iommu -type c -exec chmod 0666 {} + 2>/dev/null
	true
}

# window_policy NAME START END: root's edu tenant may map only inside [START, END].
window_policy() {
	write_policy "$1" <<POLICY
name: $1
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    iova_windows: [ { start: $2, end: $3 } ]
POLICY
}

# group_policy NAME MODE GROUP: strict viability, root's tenant owns the whole GROUP.
group_policy() {
	write_policy "$1" <<POLICY
name: $1
mode: $2
default: allow
viability: strict
tenants:
  - name: group-owner
    match: { uid: 0 }
    devices:
      - group: $3
POLICY
}

# Attack scenarios (attack-*.sh) play a hostile tenant. They try every attack and fail at
# the end with the list of those that got through, so one run shows the whole state of
# the enforcement instead of stopping at the first hole. A part this kernel cannot run
# is reported with skip_part (shown under PASS by run.sh); attack_done exits 77 when
# every part was skipped, so nothing passes silently.
attack_failures=()
attack_parts_run=0

skip_part() { echo "SKIP part: $*"; }

# attack_expect WHAT FILE [@FIELD=VALUE] FIELD=VALUE...: checks one JSON line of FILE
# (the one matching the @ selector when the file holds several) and records a failure.
attack_expect() {
	local what=$1 file=$2
	shift 2
	attack_parts_run=$((attack_parts_run + 1))
	python3 - "$file" "$what" "$@" <<'PY' || attack_failures+=("$what")
import json, sys
path, what, conds = sys.argv[1], sys.argv[2], sys.argv[3:]
def parse(v):
    if v == "null": return None
    if v in ("true", "false"): return v == "true"
    return int(v) if v.lstrip("-").isdigit() else v
lines = [json.loads(l) for l in open(path) if l.startswith("{")]
sel = [c[1:].split("=", 1) for c in conds if c.startswith("@")]
lines = [w for w in lines if all(w.get(k) == parse(v) for k, v in sel)]
if len(lines) != 1:
    print(f"FAILED: {what}: expected one result line in {path}, found {len(lines)}")
    sys.exit(1)
w = lines[0]
for cond in (c for c in conds if not c.startswith("@")):
    k, v = cond.split("=", 1)
    if w.get(k) != parse(v):
        print(f"FAILED: {what}: {k} is {w.get(k)!r}, expected {parse(v)!r}: {json.dumps(w)}")
        sys.exit(1)
print(f"ok: {what}: " + ", ".join(c for c in conds if not c.startswith("@")))
PY
}

# attack_counted WHAT HOOK REASON BEFORE: the deny counter of HOOK/REASON is above BEFORE.
attack_counted() {
	local now
	now=$(decision_count "$2" deny "$3")
	if [ "$now" -gt "$4" ]; then
		echo "ok: $1: $2 deny $3 counted ($4 -> $now)"
	else
		echo "FAILED: $1: no $2 deny $3 counted (still $now)"
		attack_failures+=("$1: $2 deny $3 not counted")
	fi
}

attack_done() {
	if [ ${#attack_failures[@]} -gt 0 ]; then
		printf 'not refused: %s\n' "${attack_failures[@]}"
		fail "${#attack_failures[@]} attack check(s) got through"
	fi
	[ "$attack_parts_run" -gt 0 ] || skip "no part of this attack can run on this kernel (see SKIP part lines)"
}

# The legacy type1 container serves /dev/vfio/vfio (not iommufd's emulation of it).
has_type1_container() { [ -e /dev/vfio/vfio ] && [ -d /sys/module/vfio_iommu_type1 ]; }

qemu_pid=""
# qemu_stop: stops a QEMU that vmm left running (a trap on EXIT calls it).
qemu_stop() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
	qemu_pid=""
	true
}

# vmm BDF CMD...: QEMU (CMD, which must exec QEMU in its own process, with QEMU's options
# appended) with BDF passed through, paused before the guest runs
# (-S): realizing vfio-pci opened the group and the container, set it up and mapped the
# 64 MiB of guest RAM. Over QMP: the device is on the guest's bus and QEMU holds the
# group and the container open; then quit. Returns QEMU's exit status when it exits
# before QMP answers (a failed vfio-pci realize), else 0.
vmm() {
	local bdf=$1 sock=/tmp/lab-vmm-qmp.sock i	# not on the 9p results share: no sockets there
	shift
	rm -f "$sock"
	# A copy elsewhere would look for its firmware (-L) and modules next to itself.
	QEMU_MODULE_DIR=/usr/lib/x86_64-linux-gnu/qemu "$@" -L /usr/share/qemu -L /usr/share/seabios -machine q35,accel=tcg -m 64 -nodefaults -display none -S \
		-qmp "unix:$sock,server=on,wait=off" \
		-device "vfio-pci,host=$bdf,id=edu0" -trace vfio_listener_region_add_ram \
		> "$work/qemu.out" 2>&1 &
	qemu_pid=$!
	for i in $(seq 1 1200); do
		[ -S "$sock" ] && break
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! [ -S "$sock" ] || ! kill -0 "$qemu_pid" 2>/dev/null; then
		wait "$qemu_pid"
		i=$?
		qemu_pid=""
		cat "$work/qemu.out"
		return $i
	fi
	python3 - "$sock" "$qemu_pid" "$bdf" <<'PY' 2>> "$work/qemu.out"
import json, os, socket, sys, time
sock, pid, bdf = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rw")
def cmd(name, **args):
    f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
json.loads(f.readline())	# greeting
# Commands run in the main loop, which starts once the machine (and vfio-pci) is realized.
cmd("qmp_capabilities")
devs = [d for b in cmd("query-pci")["return"] for d in b["devices"]]
edu = [d for d in devs if d.get("qdev_id") == "edu0"]
assert edu and edu[0]["id"]["vendor"] == 0x1234 and edu[0]["id"]["device"] == 0x11e8, devs
# Another mount namespace shows its paths from where its root is in ours.
fds = {os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}
group = os.path.basename(os.readlink(f"/sys/bus/pci/devices/{bdf}/iommu_group"))
held = lambda path: any(fd == path or fd.endswith(path) for fd in fds)
assert held("/dev/vfio/vfio") and held(f"/dev/vfio/{group}"), fds
print(f"QEMU pid {pid}: edu on the guest bus at slot {edu[0]['slot']}, "
      f"holding /dev/vfio/vfio and /dev/vfio/{group}")
cmd("quit")
PY
	i=$?
	# A failed check leaves QEMU paused (-S): stop it rather than wait for ever.
	[ "$i" = 0 ] || kill "$qemu_pid" 2>/dev/null
	wait "$qemu_pid"
	qemu_pid=""
	return $i
}

# image_load: loads `make image`'s OCI archive into podman in this guest; its id in
# image_id (not printed: a subshell would lose STORAGE_DRIVER and the exit of fail). podman's storage is a tmpfs of its own (the guest's root is an overlay, which cannot be
# an overlay's upper layer), its locks in /dev/shm.
image_load() {
	local image="$OUTPUT/image/ioguard-oci.tar"
	[ -f "$image" ] || fail "no $image: \`make image\` did not run"
	mkdir -p /var/lib/containers /dev/shm
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs -o size=256m tmpfs /var/lib/containers
	export STORAGE_DRIVER=vfs
	podman load -q -i "$image" > "$work/load.txt" 2>&1 ||
		{ cat "$work/load.txt"; fail "podman load -i $image failed"; }
	image_id=$(sed -n 's/^Loaded image[^:]*: *//p' "$work/load.txt" | tail -n 1)
	[ -n "$image_id" ] || fail "podman load named no image: $(cat "$work/load.txt")"
}

# image_daemon_run ID POLICY_DIR LISTEN: the image's entrypoint as the fleet's DaemonSet
# runs it (deploy/kubernetes/base/daemonset.yaml): the host's PID and network namespaces,
# exactly the systemd unit's capabilities on the default seccomp profile, a read-only
# root with tmpfs /run/ioguard and /tmp, /sys read-only with /sys/fs/bpf shared (its pins
# outlive the container), securityfs, /dev/vfio (and /dev/iommu), POLICY_DIR read-only as
# /etc/ioguard. Container name ioguard, its log in $work/container.log; returns once the
# daemon serves /metrics on LISTEN, with image_daemon_pid its host PID.
image_daemon_pid=""
image_daemon_run() {
	local id=$1 policy_dir=$2 listen=$3 caps c cap_args devices=() d
	# rshared needs a shared source; kubelet's hosts mount /sys/fs/bpf shared (systemd does).
	mount --make-shared /sys/fs/bpf
	caps=$(unit_setting CapabilityBoundingSet "$REPO/docs/systemd/ioguard.service")
	cap_args=(--cap-drop=all)
	for c in $caps; do cap_args+=("--cap-add=$c"); done
	for d in /dev/vfio /dev/iommu; do [ -e "$d" ] && devices+=(-v "$d:$d"); done
	podman run -d --name ioguard --pid=host --network=host "${cap_args[@]}" \
		--ulimit memlock=-1:-1 --stop-timeout 20 \
		--read-only --tmpfs /run/ioguard:mode=0700 --tmpfs /tmp \
		-v /sys:/sys:ro -v /sys/fs/bpf:/sys/fs/bpf:rshared \
		-v /sys/kernel/security:/sys/kernel/security:ro "${devices[@]}" \
		-v "$policy_dir:/etc/ioguard:ro" \
		--log-driver k8s-file --log-opt "path=$work/container.log" \
		"$id" --policy /etc/ioguard/policy.yaml --listen "$listen" \
		> "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "podman run failed"; }
	image_daemon_pid=$(podman inspect ioguard --format '{{.State.Pid}}')
	# A daemon that already exited has PID 0, and kill -0 0 would wait on this shell.
	[ "${image_daemon_pid:-0}" != 0 ] ||
		{ cat "$work/container.log"; fail "the container exited at once"; }
	wait_for_line "$work/container.log" "serving metrics" "$image_daemon_pid" 120
	note "the daemon serves on $listen at $SECONDS s in the container (host PID $image_daemon_pid), capabilities $caps"
}

# find_node_ip: node_ip, the guest's IPv4 address on the management NIC (QEMU forwards
# the host's MGMT_PORT to its port 9464).
find_node_ip() {
	[ -s "$LAB_RESULTS/mgmt-if" ] || skip "no management NIC in this guest (tests/vm/run.sh adds one)"
	node_ip=$(ip -4 -o addr show dev "$(cat "$LAB_RESULTS/mgmt-if")" | awk '{split($4, a, "/"); print a[1]; exit}')
	[ -n "$node_ip" ] || fail "the management NIC $(cat "$LAB_RESULTS/mgmt-if") has no IPv4 address"
}
