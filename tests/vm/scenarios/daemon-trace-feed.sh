#!/bin/bash
# The decision feed. `ioguard run` enforces a policy that keeps the edu device's tenant in
# an IOVA window and holds the decision records; `ioguard trace --json` started next to it
# must show them from the daemon's feed (/run/ioguard/decisions.sock, root-only). Maps
# outside the window are denied N times (type1, and iommufd with /dev/iommu): the
# daemon's log and the trace each hold all N decisions, the same ones, as many as the
# kernel counted (ioguard status --json, before and after). Then the daemon stops: the
# trace says the feed stopped, keeps tracing IOMMU events and takes the records over; a
# second trace then reads the first trace's feed, and so does a daemon started again,
# until the trace exits and the daemon takes the records over.
# Two daemons and three traces load their programs one after the other: 160 s on the
# 6.12 kernels, over 240 s on 6.1 beside another guest.
# lab-timeout: 480
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs "which does not change the decision feed"
second_pid=""
stop_second() {
	[ -n "$second_pid" ] || return 0
	kill -INT "$second_pid" 2>/dev/null
	wait "$second_pid"
	local rc=$?
	second_pid=""
	return $rc
}
trap 'stop_second; cleanup_trace; stop_daemon; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
note "edu is $bdf; backends: ${backends[*]}"

feed=/run/ioguard/decisions.sock
pin_dir=/sys/fs/bpf/ioguard
iova=0x100000 outside=0x40000000 per_backend=4
policy=$(write_policy feed <<POLICY
name: lab-feed
mode: enforce
default: allow
tenants:
  - name: lab
    match: { uid: 0 }
    devices:
      - id: "1234:11e8"
    iova_windows:
      - start: $iova
        end: $(printf '0x%x' $((iova + 16 * 4096 - 1)))
POLICY
)

# Denials and audit would-denials the kernel counted: each one is a decision record.
denials() {
	"$IOGUARD" status --json | python3 -c '
import json, sys
print(sum(d["count"] for d in json.load(sys.stdin)["decisions"] if d["decision"] != "allow"))'
}
# wait_for FILE TEXT [TENTHS]: until FILE holds TEXT (fixed string).
wait_for() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
decision_lines() { grep -c '"op":"decision"' "$1"; }
# wait_decisions FILE N: until FILE holds N decision lines (records cross a poll or two).
wait_decisions() {
	local i
	for i in $(seq 1 100); do
		[ "$(decision_lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
deny() {	# deny BACKEND NAME: one map outside the window, denied
	"$LAB_TOOLS/vfio_workload" "$1" "$bdf" --pages 1 --iova $outside > "$work/$2.json"
	workload_expect "$2: a map outside the window is denied" "$work/$2.json" errno=1
}

# --textfile only: nothing listens, so no port is shared with other scenarios.
"$IOGUARD" run --policy "$policy" --textfile "$work/metrics.prom" \
	> "$work/daemon.jsonl" 2> "$work/daemon.stderr" &
daemon_pid=$!
wait_for "$work/daemon.stderr" "tracing," 600 ||
	{ cat "$work/daemon.stderr"; fail "ioguard run did not start"; }
cat "$work/daemon.stderr"
grep -qF "serving policy decisions to other ioguard processes at $feed" "$work/daemon.stderr" ||
	fail "the daemon does not serve the decision feed at $feed"
[ "$(stat -c '%a %U %F' "$(dirname "$feed")")" = "700 root directory" ] ||
	fail "$(dirname "$feed") is $(stat -c '%a %U %F' "$(dirname "$feed")"), not 700 root"
[ "$(stat -c '%a %U %F' "$feed")" = "600 root socket" ] ||
	fail "$feed is $(stat -c '%a %U %F' "$feed"), not a 600 root socket"
echo "ok: the daemon serves the feed at $feed (socket 0600, directory 0700)"

start_trace "$work/trace.jsonl"
grep -qF "policy decisions from the ioguard daemon's feed at $feed" "$work/trace.jsonl.stderr" ||
	fail "the trace does not say its decisions come from the daemon's feed"
echo "ok: the trace says its decisions come from the daemon's feed"

before=$(denials)
n=0
for b in "${backends[@]}"; do
	for i in $(seq 1 $per_backend); do
		deny "$b" "$b-deny-$i"
		n=$((n + 1))
	done
done
counted=$(( $(denials) - before ))
note "$n denials provoked, the kernel counted $counted"
[ "$counted" -eq "$n" ] || fail "the kernel counted $counted decisions for $n denials"
wait_decisions "$work/daemon.jsonl" $n || fail "the daemon logged $(decision_lines "$work/daemon.jsonl") of $n decisions"
wait_decisions "$work/trace.jsonl" $n || fail "the trace showed $(decision_lines "$work/trace.jsonl") of $n decisions"
python3 - "$work/daemon.jsonl" "$work/trace.jsonl" "$counted" <<'PY' || fail "the daemon's log and the trace differ"
import json, sys
def decisions(path):
    out = []
    for e in map(json.loads, open(path)):
        if e["op"] == "decision":
            e.pop("time")	# each process dates records with its own clock offset
            out.append(json.dumps(e, sort_keys=True))
    return out
d, t, counted = decisions(sys.argv[1]), decisions(sys.argv[2]), int(sys.argv[3])
assert len(d) == counted, f"the daemon logged {len(d)} decisions, the kernel counted {counted}"
assert len(t) == counted, f"the trace showed {len(t)} decisions, the kernel counted {counted}"
assert d == t, "not the same records:\n" + "\n".join(sorted(set(d) ^ set(t)))
assert all(json.loads(r)["tenant"] == "lab" and json.loads(r)["reason"] == "iova_window"
           for r in t), "a record without the tenant resolved, or with another reason"
print(f"ok: the daemon's log and the trace hold the same {counted} decisions "
      "(tenant lab, iova_window), as many as the kernel counted")
PY
! grep -q "lost because" "$work/trace.jsonl.stderr" || fail "the trace lost decisions on the feed"

# The daemon stops: the trace says so, keeps tracing, and takes the records over.
stop_daemon || fail "ioguard run did not exit cleanly on SIGTERM"
wait_for "$work/trace.jsonl.stderr" "the ioguard daemon's feed stopped" ||
	{ cat "$work/trace.jsonl.stderr"; fail "the trace did not report the end of the daemon's feed"; }
echo "ok: the trace reported that the daemon's feed stopped"
wait_for "$work/trace.jsonl.stderr" "policy decisions from $pin_dir/decisions" 50 ||
	{ cat "$work/trace.jsonl.stderr"; fail "the trace did not take the decision records over"; }
kill -0 "$trace_pid" || fail "the trace exited with the daemon"
"$LAB_TOOLS/vfio_workload" "${backends[0]}" "$bdf" --pages 2 --iova $iova > "$work/after.json"
workload_expect "maps inside the window after the daemon stopped" "$work/after.json" failed_step=null
deny "${backends[0]}" after-deny
n=$((n + 1))
wait_decisions "$work/trace.jsonl" $n || fail "the trace did not show the denial after taking the records"
wait_for "$work/trace.jsonl.stderr" "serving policy decisions to other ioguard processes at $feed" 10 ||
	fail "the trace that took the records does not serve them"

# A second trace reads the first one's feed.
"$IOGUARD" trace --json --op decision > "$work/second.jsonl" 2> "$work/second.jsonl.stderr" &
second_pid=$!
wait_for "$work/second.jsonl.stderr" "tracing," 600 || fail "the second trace did not start"
cat "$work/second.jsonl.stderr"
grep -qF "policy decisions from the feed of ioguard trace (pid $trace_pid) at $feed" \
	"$work/second.jsonl.stderr" || fail "the second trace does not read the first trace's feed"
deny "${backends[0]}" second-deny
n=$((n + 1))
wait_decisions "$work/trace.jsonl" $n || fail "the first trace missed the last denial"
wait_decisions "$work/second.jsonl" 1 || fail "the second trace did not get the denial from the feed"
stop_second || fail "the second trace did not exit cleanly"

# A daemon started while the trace holds the records logs them from the trace's feed,
# and takes them over when the trace exits.
"$IOGUARD" run --policy "$policy" --textfile "$work/metrics.prom" \
	> "$work/daemon2.jsonl" 2> "$work/daemon2.stderr" &
daemon_pid=$!
wait_for "$work/daemon2.stderr" "tracing," 600 ||
	{ cat "$work/daemon2.stderr"; fail "the second ioguard run did not start"; }
cat "$work/daemon2.stderr"
grep -qF "policy decisions from the feed of ioguard trace (pid $trace_pid) at $feed" \
	"$work/daemon2.stderr" || fail "the daemon does not log from the trace's feed"
deny "${backends[0]}" daemon2-deny
n=$((n + 1))
wait_decisions "$work/trace.jsonl" $n || fail "the trace missed the denial logged by the new daemon"
wait_decisions "$work/daemon2.jsonl" 1 || fail "the new daemon did not log the denial from the feed"
stop_trace "$work/trace.jsonl"
python3 - "$work/trace.jsonl" "$work/after.json" <<'PY' || fail "the trace did not keep tracing IOMMU events"
import json, sys
w = json.load(open(sys.argv[2]))
maps = [e for e in map(json.loads, open(sys.argv[1])) if e["op"] == "map" and e["pid"] == w["pid"]]
assert len(maps) >= w["pages"], f"{len(maps)} maps of pid {w['pid']} in the trace"
print(f"ok: after the daemon stopped the trace still saw the {len(maps)} maps of pid {w['pid']}")
PY
grep -qF "$n policy decisions seen" "$work/trace.jsonl.stderr" ||
	fail "the trace's summary does not count the $n decisions"
echo "ok: $n decisions in the trace across the handovers"

wait_for "$work/daemon2.stderr" "policy decisions from $pin_dir/decisions" 50 ||
	{ cat "$work/daemon2.stderr"; fail "the new daemon did not take the records over from the trace"; }
deny "${backends[0]}" daemon2-deny-own
wait_decisions "$work/daemon2.jsonl" 2 || fail "the new daemon did not log the denial it read itself"
stop_daemon || fail "the second ioguard run did not exit cleanly on SIGTERM"
cat "$work/daemon2.stderr"
[ ! -e "$feed" ] || fail "$feed is left behind after every server exited"
echo "ok: the new daemon logged from the trace's feed, then took the records over; the socket is gone with its last server"
restore_driver "$bdf"
