#!/bin/bash
# `make demo`: ioguard's main job on a real kernel, inside the lab guest, in four short
# sections: the IOMMU groups and their verdicts; a live trace of VFIO type1 and iommufd
# attach/map/unmap; a policy that lets a tenant map and refuses another process, with the
# decision record; a /metrics scrape. Each section shows its result or stops the demo
# with one line naming the section and what failed (exit 1: `make demo` fails).
#
# Every wait is for a signal, bounded: ioguard trace's "tracing," line (programs
# attached), ioguard metrics' "serving metrics" line (listening), the trace's "policy
# decisions from" line (reading the decision records), and each workload's last event
# in the trace (release_group or release_device: its events are all out).
. "$REPO/tests/vm/lib.sh"

listen=127.0.0.1:9464
section=""
metrics_pid=""
bound=()
trace_out="$work/trace.txt"
metrics_err="$work/metrics.stderr"

say() { section=$*; printf '\n\033[1m== %s\033[0m\n' "$*"; }
broken() { printf '\n\033[1;31mdemo FAILED in "%s": %s\033[0m\n' "$section" "$*"; exit 1; }

cleanup() {
	cleanup_trace
	[ -n "$metrics_pid" ] && kill "$metrics_pid" 2>/dev/null && wait "$metrics_pid" 2>/dev/null
	"$IOGUARD" unload > /dev/null 2>&1
	for b in "${bound[@]}"; do restore_driver "$b"; done
}
trap cleanup EXIT

# wait_for FILE ERE SECONDS PID: until a line of FILE matches; fails after SECONDS, or
# as soon as PID (the process that writes FILE) has exited without writing it.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	grep -qE "$2" "$1" 2>/dev/null
}

# bind BDF: onto vfio-pci, given back to its own driver at the end.
bind() {
	bind_driver "$1" vfio-pci > /dev/null || broken "cannot bind $1 to vfio-pci"
	bound+=("$1")
}

# workload_events PID OP: waits for PID's OP event (its last) in the trace, then shows
# PID's events, each run of one op cut to its first two lines.
workload_events() {
	wait_for "$trace_out" "^[^ ]+ +[^ ]+ +$1 +[^ ]+ +$2 " 15 "$trace_pid" ||
		broken "ioguard trace did not show the $2 of pid $1; its stderr: $(tr '\n' ' ' < "$trace_out.stderr")"
	awk -v pid="$1" '
		function flush() { if (skipped) printf "%-40s ... %d more %s\n", "", skipped, last; skipped = 0 }
		/^TIME/ && !header++ { print; next }
		$3 != pid { next }
		$5 == last && ++run > 2 { skipped++; next }
		$5 != last { flush(); last = $5; run = 1 }
		{ print }
		END { flush() }' "$trace_out"
}

json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$1" "$2"; }

# mapped WHAT RESULT.json: the vfio_workload run mapped its 8 pages, or the demo stops.
mapped() {
	[ "$(json_field "$2" failed_step)" = None ] && [ "$(json_field "$2" maps)" = 8 ] ||
		broken "$1 did not map its 8 pages: $(cat "$2")"
}

# workload_line NAME RESULT.json: one line saying what a vfio_workload run did.
workload_line() {
	python3 - "$1" "$2" <<'PY'
import json, sys
w = json.load(open(sys.argv[2]))
if w["failed_step"]:
    print(f"  {sys.argv[1]}: refused at {w['failed_step']}: {w['error']}")
else:
    print(f"  {sys.argv[1]}: {w['maps']} maps and {w['unmaps']} unmaps through {w['backend']}")
PY
}

bdf=$(find_device_by_id 1234 11e8) || broken "no edu (1234:11e8) device in this guest"
group=$(find_multi_device_group) || group=""

# --- 1 ---------------------------------------------------------------------------------
say "1. ioguard groups: is each IOMMU group safe to hand out? (kernel $(uname -r))"
bind "$bdf"
shown=$(device_group "$bdf")
if [ -n "$group" ]; then
	# One endpoint of the multi-device group on vfio-pci, the other still on its host
	# driver: the group is not viable, and ioguard says which device prevents it.
	mapfile -t endpoints < <(group_endpoints "$group")
	bind "${endpoints[0]}"
	shown="$shown $group"
fi
echo "\$ ioguard groups   (the lab's two groups; the chipset's and virtio's left out)"
"$IOGUARD" groups > "$work/groups.txt" || broken "ioguard groups failed: $(cat "$work/groups.txt")"
awk -v show=" $shown " '/^group / { keep = index(show, " " $2 " ") > 0 } keep' "$work/groups.txt"
[ -n "$group" ] && restore_driver "${endpoints[0]}"

# --- 2 ---------------------------------------------------------------------------------
say "2. ioguard trace: live attach, map and unmap of real VFIO users"
# ioguard metrics counts from now on, for section 4's latency histogram.
"$IOGUARD" metrics --listen "$listen" > /dev/null 2> "$metrics_err" &
metrics_pid=$!
"$IOGUARD" trace > "$trace_out" 2> "$trace_out.stderr" &
trace_pid=$!
wait_for "$trace_out.stderr" "tracing," 120 "$trace_pid" ||
	broken "ioguard trace did not attach: $(cat "$trace_out.stderr")"
sed 's/^/  /' "$trace_out.stderr"
wait_for "$metrics_err" "serving metrics on" 120 "$metrics_pid" ||
	broken "ioguard metrics did not start: $(cat "$metrics_err")"
echo "-- VFIO type1 (container + TYPE1v2 maps): 8 pages of $bdf at 0x100000"
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 8 --iova 0x100000 > "$work/type1.json"
workload_line "vfio_workload" "$work/type1.json"
mapped "the type1 user" "$work/type1.json"
workload_events "$(json_field "$work/type1.json" pid)" release_group
if [ -e /dev/iommu ]; then
	echo "-- iommufd (VFIO cdev bound to /dev/iommu, IOAS maps): 8 pages of $bdf at 0x200000"
	"$LAB_TOOLS/vfio_workload" iommufd "$bdf" --pages 8 --iova 0x200000 > "$work/iommufd.json"
	workload_line "vfio_workload" "$work/iommufd.json"
	mapped "the iommufd user" "$work/iommufd.json"
	workload_events "$(json_field "$work/iommufd.json" pid)" release_device
else
	echo "-- iommufd: this kernel has no /dev/iommu (built without CONFIG_IOMMUFD): type1 only"
fi

# --- 3 ---------------------------------------------------------------------------------
say "3. ioguard load: tenant uid 4242 owns $bdf; uid 4243 is refused"
open_up_device_nodes	# so that only the policy decides, not the nodes' modes
policy=$(write_policy demo <<POLICY
name: demo
mode: enforce
default: deny
tenants:
  - name: tenant-a
    match: { uid: 4242 }
    devices:
      - id: "1234:11e8"
POLICY
)
sed 's/^/  | /' "$policy"
echo "\$ ioguard load $policy"
"$IOGUARD" load "$policy" 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || broken "ioguard load failed (above)"
wait_for "$trace_out.stderr" "policy decisions from" 15 "$trace_pid" ||
	broken "ioguard trace did not pick up the decision records: $(cat "$trace_out.stderr")"
setpriv --reuid=4242 --regid=4242 --clear-groups \
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 8 --iova 0x300000 > "$work/tenant.json"
workload_line "uid 4242 (tenant-a)" "$work/tenant.json"
setpriv --reuid=4243 --regid=4243 --clear-groups \
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 8 --iova 0x300000 > "$work/other.json"
workload_line "uid 4243 (no tenant)" "$work/other.json"
mapped "the tenant (uid 4242)" "$work/tenant.json"
[ "$(json_field "$work/other.json" errno)" = 1 ] ||
	broken "uid 4243 was not refused with EPERM: $(cat "$work/other.json")"
other=$(json_field "$work/other.json" pid)
wait_for "$trace_out" "^[^ ]+ +[^ ]+ +$other +[^ ]+ +decision " 15 "$trace_pid" ||
	broken "ioguard trace showed no decision record for pid $other"
echo "-- the decision record, as ioguard trace prints it:"
grep -E "^[^ ]+ +[^ ]+ +$other +[^ ]+ +decision " "$trace_out" | sed 's/^/  /'

# --- 4 ---------------------------------------------------------------------------------
say "4. /metrics: map latency and policy decisions (ioguard metrics on $listen)"
busybox wget -q -O "$work/metrics.txt" "http://$listen/metrics" ||
	broken "busybox wget http://$listen/metrics failed"
echo "\$ busybox wget -q -O - http://$listen/metrics   (excerpt)"
# The map latency histogram of the edu device's group, only the buckets where the count
# grows, and every decision counter.
edu_group=$(device_group "$bdf")
awk -v g="group=\"$edu_group\"" '
	/^# (HELP|TYPE) ioguard_(iommu_op_latency_seconds|policy_decisions_total) / { print; next }
	/^ioguard_iommu_op_latency_seconds_bucket/ && index($0, g) && /op="map"/ {
		if ($2 != prev || /le="\+Inf"/) print; prev = $2; next }
	/^ioguard_iommu_op_latency_seconds_(sum|count)/ && index($0, g) && /op="map"/ { print }
	/^ioguard_policy_decisions_total/ { print }' "$work/metrics.txt" | sed 's/^/  /'
grep -q '^ioguard_iommu_op_latency_seconds_count{.*op="map"' "$work/metrics.txt" ||
	broken "no map latency histogram in the scrape"
grep -q '^ioguard_policy_decisions_total{.*decision="deny"' "$work/metrics.txt" ||
	broken "no deny decision counted in the scrape"

# --- end -------------------------------------------------------------------------------
trap - EXIT
cleanup
say "done: policy unloaded, devices back on their drivers; the guest powers off"
