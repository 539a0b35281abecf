#!/bin/bash
# A newer ioguard replaces an older one's pinned programs with no moment unenforced.
# The older ioguard is b9c57cc's, built from git history (make lab-old): layout 1, no
# marker. While a tenant hammers VFIO_IOMMU_MAP_DMA outside both policies' windows
# (an unenforced instant would let one map through), this ioguard's `load` replaces the
# set: every map tried during the replacement is denied; afterwards the new programs
# (other ids, layout 2) and the new policy are in force, the old pins, programs and
# staging directory are gone, and a map only the new policy allows succeeds. Then a set
# marked with a layout newer than this ioguard's is refused in one line and its policy
# stays in force. Loaders killed at random points of an upgrade leave every map denied
# and the next load completes it.
# lab-timeout: 900
. "$REPO/tests/vm/lib.sh"
skip_unless_debian_kernel
trap 'kill $hammer 2>/dev/null; policy_unload' EXIT
hammer=""
pins=/sys/fs/bpf/ioguard
old="$OUTPUT/old/b9c57cc/ioguard"

[ -x "$old" ] || skip "no older ioguard at $old (make lab-old builds it from git history)"
command -v bpftool > /dev/null || skip "bpftool is needed to mark a set with a newer layout"
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
[ -e /dev/vfio/vfio ] || skip "no /dev/vfio/vfio here (the hammer maps through the VFIO container API, served by type1 or by iommufd)"
# Both deny 0x300000; only the new one allows 0x200000.
a=$(window_policy upgrade-old 0x100000 0x1fffff)
b=$(window_policy upgrade-new 0x100000 0x2fffff)
policy_unload

if ! "$old" load "$a" > "$work/old-load.out" 2>&1; then
	# b9c57cc's programs need v6.6's vfio_device_file and read iommu_map's 6.3 return
	# slot: on an older kernel there is no older set to replace. Anything else fails.
	grep -q "failed to resolve CO-RE relocation.*vfio_device_file" "$work/old-load.out" &&
		skip "the older ioguard (b9c57cc) cannot enforce on this kernel (no struct vfio_device_file before 6.6), so there is no older set to replace"
	fail "the older ioguard's load failed: $(cat "$work/old-load.out")"
fi
"$IOGUARD" status --json > "$work/before.json" || fail "status failed on the older set"
python3 - "$work/before.json" <<'PY' || fail "the older set is not what the scenario needs"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["layout"] == 0 and s["enforcing"] and s["policy"]["name"] == "upgrade-old", s
print(f"older set: layout {s['layout']} (no marker), {len(s['programs'])} programs")
PY
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x200000 > "$work/probe-before.json"
workload_expect "the older policy denies 0x200000" "$work/probe-before.json" errno=1

# The hammer and the loaders share vCPU 0: under TCG, attaching a trampoline to
# bpf_lsm_file_ioctl while the other vCPU ran it back to back oopsed the guest (int3 at
# the call site being patched; docs/lab.md). On one vCPU the hammer runs whenever the
# loader sleeps or is preempted, at any point between two of its steps; the 200 us
# pause makes it wake, and preempt the loader, thousands of times per replacement.
cpu0="taskset -c 0"	# a simple command, so that $! is the program itself
$cpu0 "$LAB_TOOLS/vfio_workload" type1 "$bdf" --iova 0x300000 --hammer 600 --gap-us 200 \
	--log "$work/hammer.log" > "$work/hammer.json" &
hammer=$!
for i in $(seq 1 100); do [ -s "$work/hammer.log" ] && break; sleep 0.1; done
[ -s "$work/hammer.log" ] || fail "the hammer did not start: $(cat "$work/hammer.json")"
sleep 1
t0=$(python3 -c 'import time; print(time.monotonic_ns())')
$cpu0 "$IOGUARD" load "$b" > "$work/upgrade.out" 2>&1
rc=$?
t1=$(python3 -c 'import time; print(time.monotonic_ns())')
cat "$work/upgrade.out"
[ $rc -eq 0 ] || fail "the upgrade failed (exit $rc)"
grep -q "replaced the programs of pinned layout 1 without a gap" "$work/upgrade.out" ||
	fail "load did not say it replaced layout 1"
sleep 1
kill -TERM $hammer 2>/dev/null
wait $hammer
hammer=""
python3 - "$work/hammer.log" "$t0" "$t1" <<'PY' || fail "a map outside both windows succeeded around the upgrade"
import sys
t0, t1 = int(sys.argv[2]), int(sys.argv[3])
maps = [tuple(int(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
during = [m for m in maps if m[1] >= t0 and m[0] <= t1]
allowed = [m for m in maps if m[2] == 0]
other = [m for m in maps if m[2] not in (0, 1)]
print(f"upgrade took {(t1 - t0) / 1e6:.0f} ms; maps tried: {len(maps)}, during the "
      f"upgrade: {len(during)}, allowed: {len(allowed)}, other errors: {len(other)}")
assert len(during) >= 20, "too few maps during the upgrade to judge it"
assert not allowed and not other
PY

"$IOGUARD" status --json > "$work/after.json" || fail "status failed after the upgrade"
python3 - "$work/before.json" "$work/after.json" <<'PY' || fail "the new set is not the one in force"
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
assert after["layout"] == 2, after["layout"]
assert after["enforcing"] and after["policy"]["name"] == "upgrade-new", after
old_ids = {p["id"] for p in before["programs"]}
new_ids = {p["id"] for p in after["programs"]}
assert not old_ids & new_ids, f"programs kept their ids: {old_ids & new_ids}"
names = {p["name"] for p in before["programs"]} - {p["name"] for p in after["programs"]}
assert not names, f"programs of the older set without a successor: {names}"
print(f"new set: layout {after['layout']}, {len(new_ids)} programs, none of the "
      f"{len(old_ids)} older ids left in the pins")
open(sys.argv[2] + ".old-ids", "w").write(" ".join(map(str, sorted(old_ids))))
PY
for id in $(cat "$work/after.json.old-ids"); do
	bpftool prog show id "$id" > /dev/null 2>&1 && fail "program $id of the older set is still loaded"
done
note "the older set's programs are all released"
[ -e "$pins/upgrade" ] && fail "the staging directory $pins/upgrade is left behind"
unknown=$(ls "$pins" | grep -Ev '^(link_.*|active|policies|matches|kernel_info|decisions|decision_counts|holders|accounts|account_holders|pending|executed|layout|load_lock)$')
[ -z "$unknown" ] || fail "unexpected entries in $pins: $unknown"
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x200000 > "$work/probe-after.json"
workload_expect "only the new policy judges: 0x200000 maps" "$work/probe-after.json" failed_step=null maps=1
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x300000 > "$work/probe-out.json"
workload_expect "the new policy denies 0x300000" "$work/probe-out.json" errno=1

# Upgrades killed at random points (SIGKILL) while the hammer runs: every map is still
# denied, and the next load finishes the replacement (or redoes it) and leaves one set.
start_hammer() {
	$cpu0 "$LAB_TOOLS/vfio_workload" type1 "$bdf" --iova 0x300000 --hammer 600 --gap-us 200 \
		--log "$1" > "$1.json" &
	hammer=$!
	for i in $(seq 1 100); do [ -s "$1" ] && break; sleep 0.1; done
	[ -s "$1" ] || fail "the hammer did not start: $(cat "$1.json")"
}
# Odd rounds kill at a random time of the whole load, drawn over the time the upgrade
# above took (mostly while the kernel verifies the programs); even ones as soon as the new set's marker is staged, when the renames
# start (a kill 1 ms later found them all done).
upgrade_ms=$(( (t1 - t0) / 1000000 ))
[ $upgrade_ms -gt 400 ] || upgrade_ms=400
kill_states=()
for round in $(seq 1 2); do
	"$IOGUARD" unload > /dev/null || fail "unload before kill round $round failed"
	"$old" load "$a" > /dev/null 2>&1 || fail "the older ioguard's load failed in round $round"
	start_hammer "$work/kill-hammer.$round"
	# Uniform over the first upgrade's measured time; $RANDOM, not a python3 start.
	delay_ms=$(( 200 + RANDOM * (upgrade_ms - 200) / 32767 ))
	delay=$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))
	$cpu0 "$IOGUARD" load "$b" > /dev/null 2>&1 & loader=$!
	if [ $((round % 2)) -eq 0 ]; then
		# Builtins only, so that the kill follows the staged marker by microseconds.
		while [ ! -e "$pins/upgrade/layout" ] && kill -0 $loader 2>/dev/null; do :; done
		delay="the staged marker +0"
	else
		sleep "$delay"
	fi
	kill -KILL $loader 2>/dev/null && killed=killed || killed=finished
	wait $loader 2>/dev/null
	state="layout $("$IOGUARD" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["layout"])')"
	[ -d "$pins/upgrade" ] && state="$state, $(ls "$pins/upgrade" | wc -l) staged pins left"
	$cpu0 "$IOGUARD" load "$b" > "$work/kill-recover.$round" 2>&1 ||
		fail "round $round: the load after the kill failed: $(cat "$work/kill-recover.$round")"
	kill -TERM $hammer 2>/dev/null
	wait $hammer
	hammer=""
	"$IOGUARD" status --json > "$work/kill-status.$round"
	python3 - "$work/kill-status.$round" "$work/kill-hammer.$round" <<'PY' || fail "kill round $round"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["layout"] == 2 and s["enforcing"] and s["policy"]["name"] == "upgrade-new", s
maps = [line.split() for line in open(sys.argv[2]) if line.strip()]
bad = [m for m in maps if m[2] != "1"]
print(f"maps {len(maps)}, not denied {len(bad)}", end="; ")
assert len(maps) >= 20 and not bad
PY
	[ -e "$pins/upgrade" ] && fail "round $round: the staging directory is left behind"
	note "round $round: loader $killed at ${delay} s ($state); the next load finished it"
	kill_states+=("$killed: $state")
done

printf '%s\n' "${kill_states[@]}" | sort | uniq -c | sed 's/^/-- kill outcomes: /'

# A set of a layout newer than this ioguard's: refused, its policy stays in force.
bpftool map update pinned "$pins/layout" key 0 0 0 0 value 99 0 0 0 ||
	fail "cannot mark the pinned set as layout 99"
if "$IOGUARD" load "$a" > "$work/newer.out" 2>&1; then
	fail "load wrote into a set of a newer layout: $(cat "$work/newer.out")"
fi
cat "$work/newer.out"
grep -q "layout 99, newer than this ioguard's (2)" "$work/newer.out" || fail "no reason given"
grep -q "the policy in force is unchanged" "$work/newer.out" || fail "the refusal does not say the policy stays"
[ "$(wc -l < "$work/newer.out")" -eq 1 ] || fail "the refusal is not one line"
"$IOGUARD" status --json > "$work/newer.json" || fail "status failed on the newer set"
python3 - "$work/newer.json" <<'PY' || fail "the newer set's policy did not stay in force"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["layout"] == 99 and s["enforcing"] and s["policy"]["name"] == "upgrade-new", s
PY
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x200000 > "$work/probe-newer-in.json"
workload_expect "after the refusal: 0x200000 still maps" "$work/probe-newer-in.json" failed_step=null
"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova 0x300000 > "$work/probe-newer-out.json"
workload_expect "after the refusal: 0x300000 still denied" "$work/probe-newer-out.json" errno=1
note "a newer layout was refused and its policy stayed in force"
restore_driver "$bdf"
