#!/bin/bash
# Topology drift under a running daemon. A policy names the multi-device group (its
# tenant owns the whole group); `ioguard run` enforces it and watches the topology. Then
# real changes: one endpoint is rebound from its host driver to vfio-pci (a driver
# change in a group the policy names), and another is removed from the bus and found
# again by a rescan (it leaves its group and joins it again). For each, the daemon must
# log a topology line and count it in ioguard_topology_changes_total{kind}, and
# `ioguard status` must say the policy was checked against a topology that no longer
# holds, naming the change. Once both endpoints are back as they were, the recorded
# topology holds again.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs

group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
mapfile -t endpoints < <(group_endpoints "$group")
first=${endpoints[0]}
second=${endpoints[1]}
host_driver=$(device_driver "$first")
note "group $group: endpoints ${endpoints[*]}; $first is on $host_driver"
trap 'for b in "${endpoints[@]}"; do restore_driver "$b"; done; stop_daemon; policy_unload' EXIT

# wait_for FILE TEXT [TENTHS]: until FILE holds TEXT (fixed string).
wait_for() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$daemon_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# status_topology: STATE and the changes of `ioguard status --json`, one line.
status_topology() {
	"$IOGUARD" status --json | python3 -c '
import json, sys
t = json.load(sys.stdin)["policy"]["topology"]
def one(c):
    return ":".join([c["kind"], c["device"], str(c["group"]), c.get("from", ""), c.get("to", "")])
print(t["state"], " ".join(one(c) for c in t["changes"]))'
}

policy=$(group_policy drift enforce "$group")
# tp_btf: fewer programs to attach than fentry, and this scenario needs no latency.
"$IOGUARD" run --policy "$policy" --textfile "$work/metrics.prom" --interval 1 --mode tp_btf \
	> "$work/daemon.jsonl" 2> "$work/daemon.stderr" &
daemon_pid=$!
wait_for "$work/daemon.stderr" "watching the IOMMU topology" 600 ||
	{ cat "$work/daemon.stderr"; fail "ioguard run did not start watching the topology"; }
wait_for "$work/daemon.stderr" "tracing," 600 || { cat "$work/daemon.stderr"; fail "ioguard run did not start"; }
st=$(status_topology)
[ "$st" = "holds " ] || fail "before any change, status says '$st', not that the topology holds"
echo "ok: status: the topology the policy was checked against holds (daemon up at ${SECONDS} s)"

# 1. A driver change in the group the policy names. bind_driver unbinds, then binds: the
# daemon may see one change (e1000 -> vfio-pci) or two (e1000 -> none -> vfio-pci).
bind_driver "$first" vfio-pci || fail "cannot bind $first to vfio-pci"
want="driver_changed:$first:$group:$host_driver:vfio-pci"
wait_for "$work/daemon.jsonl" '"kind":"driver_changed","device":"'"$first"'","group":'"$group"',"from":"' 100 &&
	wait_for "$work/daemon.jsonl" '"to":"vfio-pci","policy":"drift"}' 100 ||
	{ cat "$work/daemon.stderr"; fail "the daemon logged no driver change of $first to vfio-pci"; }
grep -qE "topology changed: driver of $first \(group $group\): [a-z0-9-]+ -> vfio-pci" "$work/daemon.stderr" ||
	fail "the daemon's log does not say that $first changed driver to vfio-pci"
logged=$(grep -c '"op":"topology","kind":"driver_changed"' "$work/daemon.jsonl")
grep -F "topology changed:" "$work/daemon.stderr" | sed 's/^/   | /'
wait_for "$work/metrics.prom" "ioguard_topology_changes_total{kind=\"driver_changed\"} $logged" 50 ||
	fail "ioguard_topology_changes_total{kind=\"driver_changed\"} is not $logged (the changes logged): $(grep topology_changes "$work/metrics.prom")"
echo "ok: the daemon logged $logged driver change(s) of $first and counted as many"
st=$(status_topology)
[ "$st" = "stale $want" ] || fail "status says '$st', not 'stale $want'"
"$IOGUARD" status | grep -qF "STALE: the policy was checked against a topology that no longer holds" ||
	fail "ioguard status (text) does not say the topology no longer holds"
echo "ok: status: stale: $want (${SECONDS} s)"

# 2. A device leaves its group and joins it again (removed, then found by a rescan).
echo 1 > "/sys/bus/pci/devices/$second/remove" || fail "cannot remove $second"
wait_for "$work/daemon.jsonl" '"kind":"device_left","device":"'"$second"'"' 100 ||
	fail "the daemon logged no device_left of $second"
echo "ok: the daemon logged $second leaving group $group"
echo 1 > /sys/bus/pci/rescan || fail "cannot rescan the PCI bus"
[ -e "/sys/bus/pci/devices/$second" ] || fail "$second did not come back on a rescan"
wait_for "$work/daemon.jsonl" '"kind":"device_joined","device":"'"$second"'"' 100 ||
	fail "the daemon logged no device_joined of $second"
echo "ok: the daemon logged $second joining group $(device_group "$second")"
wait_for "$work/metrics.prom" 'ioguard_topology_changes_total{kind="device_joined"} 1' 50 &&
	grep -qF 'ioguard_topology_changes_total{kind="device_left"} 1' "$work/metrics.prom" ||
	fail "joined and left are not counted once each: $(grep topology_changes "$work/metrics.prom")"
echo "ok: ioguard_topology_changes_total device_left 1, device_joined 1 (${SECONDS} s)"
st=$(status_topology)
case "$st" in stale*"driver_changed:$first:"*) ;; *) fail "status says '$st'" ;; esac

# 3. Restored: the topology the policy was checked against holds again, no reload needed.
restore_driver "$first"
[ "$(device_driver "$first")" = "$host_driver" ] || fail "$first is not back on $host_driver"
[ "$(device_driver "$second")" = "$host_driver" ] || fail "$second is not back on $host_driver"
st=$(status_topology)
[ "$st" = "holds " ] || fail "restored, status says '$st', not that the topology holds"
echo "ok: restored, the topology holds again"
stop_daemon || fail "ioguard run exited with an error"
grep -v '^{' "$work/daemon.stderr" | grep -i "topology watch" && fail "the topology watch reported a failure"
echo "ok: the daemon stopped cleanly (scenario took ${SECONDS} s)"
