#!/bin/bash
# Swap under load: a process hammers VFIO_IOMMU_MAP_DMA while the policy is swapped 12
# times between one that allows its IOVA and one that does not (on four kernels, in CI's
# 90 minutes; the first sessions ran 100 and judged 170-235 k maps, 0 wrong). Every map that ran while
# one policy alone was in force must have that policy's answer (0 wrong), and every
# denial must carry the denying policy's reason (none judged by no or half a policy).
# lab-timeout: 900
. "$REPO/tests/vm/lib.sh"
skip_unless_debian_kernel
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
allow=$(window_policy swap-allow 0x100000 0x1fffff)
deny=$(window_policy swap-deny 0x200000 0x2fffff)
policy_load "$allow"

"$LAB_TOOLS/vfio_workload" type1 "$bdf" --iova 0x100000 --hammer 850 --log "$work/hammer.log" \
	> "$work/hammer.json" &
hammer=$!
for i in $(seq 1 100); do [ -s "$work/hammer.log" ] && break; sleep 0.1; done
python3 "$REPO/tests/vm/swap_check.py" swap --ioguard "$IOGUARD" --allow "$allow" \
	--deny "$deny" --swaps 12 --pause-ms 50 --out "$work/loads" || fail "swapping failed"
kill -TERM $hammer 2>/dev/null
wait $hammer
python3 "$REPO/tests/vm/swap_check.py" judge --loads "$work/loads" --log "$work/hammer.log" \
	--min-judged 1000 ||
	fail "decisions did not match the policy in force"
"$IOGUARD" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
bad = [d for d in s["decisions"] if d["hook"] == "map_dma" and d["decision"] != "allow"
       and d["reason"] != "iova_window"]
assert not bad, f"denials for another reason than the window: {bad}"
n = sum(d["count"] for d in s["decisions"] if d["hook"] == "map_dma" and d["reason"] == "iova_window")
print(f"ok: all {n} map denials were the denying policy'"'"'s (iova_window)")
' || fail "a denial was not the denying policy's"
restore_driver "$bdf"
