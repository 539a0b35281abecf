#!/bin/bash
# Attack, bypass class 4 (security review finding 4b-d): mapping more than
# max_dma_bytes (64 KiB = 16 pages) without a refusal, through the legacy container and,
# for (b)-(d), through an iommufd IOAS with edu attached where the kernel has /dev/iommu.
# Each attack holds 16 pages in the IOMMU and then maps a 17th at a fresh IOVA, which
# must get EPERM and a map_dma (ioas_map) dma_limit denial:
#   (a) the 16 pages "unmapped" with VFIO_DMA_UNMAP_FLAG_VADDR (the IOMMU keeps them);
#   (b) a forked child maps 16 and exits, a second child maps the 17th on the same fd;
#   (c) main maps 16 and pthread_exit()s, another thread maps the 17th.
# (d) Once every fd is closed the mappings are gone, and 16 pages map again (refund).
# (e) A thread flips the map size while main maps: when ioguard records the change
# (argument_changed), the process must have been killed; otherwise noted.
# lab-cpus: 2
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
policy=$(write_policy dma-accounting <<'POLICY'
name: lab-attack-dma-accounting
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
POLICY
)
policy_load "$policy"
a() { "$LAB_TOOLS/dma_accounting" "$1" "$bdf" "${@:2}"; }

# "type1" is whatever serves /dev/vfio/vfio: the legacy container or iommufd's emulation.
if [ ! -e /dev/vfio/vfio ]; then
	skip_part "(a) VFIO_DMA_UNMAP_FLAG_VADDR and (e): no /dev/vfio/vfio"
else
	before=$(decision_count map_dma deny dma_limit)
	a vaddr > "$work/vaddr.json"
	if grep -q '"update_vaddr":false' "$work/vaddr.json"; then
		skip_part "(a) VFIO_DMA_UNMAP_FLAG_VADDR: /dev/vfio/vfio lacks VFIO_UPDATE_VADDR here"
	else
		attack_expect "(a) 16 pages unmapped with VFIO_DMA_UNMAP_FLAG_VADDR, then a 17th" \
			"$work/vaddr.json" failed_step=map_extra errno=1 maps=16
		attack_counted "(a) VADDR unmap refunds nothing" map_dma dma_limit "$before"
	fi
fi

mapfile -t backends < <(dma_backends "$bdf")
[ -e /dev/iommu ] || skip_part "(b)-(d) through iommufd: no /dev/iommu"
for b in "${backends[@]}"; do
	hook=map_dma
	[ "$b" = iommufd ] && hook=ioas_map
	a map --backend "$b" > "$work/$b-control.json"
	attack_expect "$b: 16 pages = the budget (control)" "$work/$b-control.json" \
		failed_step=null maps=16

	before=$(decision_count $hook deny dma_limit)
	a fork --backend "$b" > "$work/$b-fork.json"
	attack_expect "$b (b) a child maps 16 and exits, another maps a 17th on the shared fd" \
		"$work/$b-fork.json" failed_step=map_extra errno=1
	attack_counted "$b (b) exit of a process that shares the fd" $hook dma_limit "$before"

	before=$(decision_count $hook deny dma_limit)
	a thread-exit --backend "$b" > "$work/$b-thread-exit.json"
	attack_expect "$b (c) main maps 16 and pthread_exit()s, a thread maps a 17th" \
		"$work/$b-thread-exit.json" leader_exited=true failed_step=map_extra errno=1 maps=16
	attack_counted "$b (c) pthread_exit of the leader" $hook dma_limit "$before"

	a map --backend "$b" > "$work/$b-refund.json"
	attack_expect "$b (d) every fd closed: 16 pages map again" "$work/$b-refund.json" \
		failed_step=null maps=16
done

reason_count() {	# reason_count REASON: every decision with REASON, any hook or outcome
	"$IOGUARD" status --json | python3 -c '
import json, sys
print(sum(d["count"] for d in json.load(sys.stdin)["decisions"] if d["reason"] == sys.argv[1]))' "$1"
}
# (e) A thread rewrites the size between ioguard's read and the kernel's copy. The map
# cannot be stopped then; it must be recorded (argument_changed, on the map's own hook)
# and its process killed. A run in which the kernel never made an oversized map proves
# nothing either way, and says so.
if [ -e /dev/vfio/vfio ]; then
	before=$(reason_count argument_changed)
	a race --seconds 3 > "$work/race.json"
	rc=$?
	after=$(reason_count argument_changed)
	if [ "$after" -gt "$before" ]; then
		attack_parts_run=$((attack_parts_run + 1))
		if [ "$rc" -eq $((128 + 9)) ]; then
			echo "ok: (e) size rewritten under the map: argument_changed recorded ($before -> $after), process killed"
		else
			echo "FAILED: (e) argument_changed recorded ($before -> $after) but the process exited $rc, not by SIGKILL"
			attack_failures+=("(e) argument_changed without SIGKILL")
		fi
	elif grep -q '"big_maps": *[1-9]' "$work/race.json"; then
		attack_parts_run=$((attack_parts_run + 1))
		echo "FAILED: (e) the kernel made oversized maps and nothing was recorded: $(cat "$work/race.json")"
		attack_failures+=("(e) oversized racing map unrecorded")
	else
		note "(e) the race was not won in 3 s, nothing to judge (exit $rc): $(cat "$work/race.json")"
	fi
fi
# (f) A full holder table: every /dev/iommu is a new holder, so a tenant can open more
# than ioguard tracks. Past its share (1024 holders per tenant, so that one tenant cannot
# fill the table for all) the map must be denied, not go uncounted.
if [ -e /dev/iommu ]; then
	flood=$(write_policy dma-flood <<'POLICY'
name: lab-dma-flood
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 1GiB
POLICY
)
	policy_load "$flood"
	before=$(decision_count ioas_map deny account_full)
	"$LAB_TOOLS/holder_flood" --count 1100 > "$work/flood.json"
	attack_expect "(f) 1100 iommufd contexts with one page each" "$work/flood.json" \
		failed_step=ioas_map errno=1
	python3 - "$work/flood.json" <<'PY' || attack_failures+=("(f) more holders than the table")
import json, sys
w = json.load(open(sys.argv[1]))
print(f"(f) contexts opened {w['opened']}, maps made {w['mapped']}")
assert 0 < w["mapped"] <= 1024, w
PY
	attack_counted "(f) holder table full" ioas_map account_full "$before"
else
	skip_part "(f) holder table full: no /dev/iommu"
fi
"$IOGUARD" status
restore_driver "$bdf"
attack_done
