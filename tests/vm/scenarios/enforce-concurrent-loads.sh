#!/bin/bash
# Concurrent loaders never leave the policy slot empty: while a tenant hammers
# VFIO_IOMMU_MAP_DMA outside its IOVA window (which both policies deny), 6 pairs of
# `ioguard load` run at the same time. An empty active slot allows everything, so a
# single map that succeeds is a fail-open. Then loads race unloads: at the end, either
# one complete policy is in force or nothing is pinned, and status agrees with the kernel.
# lab-timeout: 600
. "$REPO/tests/vm/lib.sh"
skip_unless_debian_kernel
trap 'kill $hammer 2>/dev/null; policy_unload' EXIT
hammer=""

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
[ -e /dev/vfio/vfio ] || skip "no VFIO container in this kernel"
a=$(window_policy concurrent-a 0x100000 0x1fffff)
b=$(window_policy concurrent-b 0x100000 0x1fffff)
policy_load "$a"

"$LAB_TOOLS/vfio_workload" type1 "$bdf" --iova 0x300000 --hammer 400 --log "$work/hammer.log" \
	> "$work/hammer.json" &
hammer=$!
for i in $(seq 1 100); do [ -s "$work/hammer.log" ] && break; sleep 0.1; done
[ -s "$work/hammer.log" ] || fail "the hammer did not start: $(cat "$work/hammer.json")"

failed_loads=0
for i in $(seq 1 6); do
	"$IOGUARD" load "$a" > "$work/load-a.$i" 2>&1 & pa=$!
	"$IOGUARD" load "$b" > "$work/load-b.$i" 2>&1 & pb=$!
	wait $pa || failed_loads=$((failed_loads + 1))
	wait $pb || failed_loads=$((failed_loads + 1))
	"$IOGUARD" status --json > "$work/status.$i" || fail "status failed after pair $i"
done
# One interpreter for all six states: under TCG each python3 start costs seconds.
python3 - "$work"/status.* <<'PY' || fail "after a pair of loads no complete policy was in force"
import json, sys
for path in sys.argv[1:]:
    s = json.load(open(path))
    name = (s.get("policy") or {}).get("name")
    assert name in ("concurrent-a", "concurrent-b") and s["enforcing"], (path, s)
print(f"{len(sys.argv) - 1} states after concurrent pairs: each a whole policy")
PY
[ $failed_loads -eq 0 ] || fail "$failed_loads concurrent loads failed (see $work/load-*)"
kill -TERM $hammer 2>/dev/null
wait $hammer
hammer=""
python3 - "$work/hammer.log" <<'PY' || fail "a map outside the window succeeded while loads raced"
import sys
maps = [line.split() for line in open(sys.argv[1]) if line.strip()]
allowed = [m for m in maps if m[2] == "0"]
other = [m for m in maps if m[2] not in ("0", "1")]
print(f"maps tried while 12 loads raced: {len(maps)}, allowed: {len(allowed)}, other errors: {len(other)}")
assert len(maps) >= 100, "too few maps to judge"
assert not allowed and not other
PY
note "every map was denied while loads raced"

# Loads racing unloads: whatever the interleaving, the end state is whole.
for i in $(seq 1 3); do
	"$IOGUARD" load "$a" > /dev/null 2>&1 & pa=$!
	"$IOGUARD" unload > /dev/null 2>&1 & pu=$!
	"$IOGUARD" load "$b" > /dev/null 2>&1 & pb=$!
	wait $pa $pu $pb
	"$IOGUARD" status --json > "$work/mixed.$i" || fail "status failed after mixed round $i"
done
python3 - "$work"/mixed.* <<'PY' || fail "a mixed round left a half state"
import json, sys
for path in sys.argv[1:]:
    s = json.load(open(path))
    name = (s.get("policy") or {}).get("name")
    whole = name in ("concurrent-a", "concurrent-b") and s["enforcing"]
    assert whole or (not s["programs"] and s["policy"] is None), (path, s)
PY
note "3 rounds of load, unload and load at once each ended whole"
restore_driver "$bdf"
