#!/bin/bash
# Where iommufd serves /dev/vfio/vfio: a tenant's child races VFIO_GROUP_SET_CONTAINER
# against a thread that swaps the fd its argument names between two iommufd contexts,
# while its parent keeps the same fds. A won race (ioguard judged one context, the kernel
# attached the group to the other) is recorded as argument_changed and the child killed;
# the group stays attached through the parent's fds. The parent, dropped to a process of
# no tenant, then maps through both contexts under default allow: every map is refused
# (the context the kernel used is poisoned, the judged one bound to the group's owner).
# lab-timeout: 300
# lab-cpus: 2
. "$REPO/tests/vm/lib.sh"
trap 'policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
[ -e /dev/vfio/vfio ] && ! has_type1_container ||
	skip "/dev/vfio/vfio is not served by iommufd on this kernel (CONFIG_IOMMUFD_VFIO_CONTAINER)"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
open_up_device_nodes
policy=$(write_policy set-container-race <<POLICY
name: set-container-race
mode: enforce
default: allow
tenants:
  - name: vm
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
POLICY
)
policy_load "$policy"
group=/dev/vfio/$(device_group "$bdf")
won=0
for round in 1 2 3 4 5 6; do
	before=$(decision_count set_container deny argument_changed)
	"$LAB_TOOLS/set_container_race" "$group" 5 > "$work/race.json" || fail "the race tool failed: $(cat "$work/race.json")"
	cat "$work/race.json"
	python3 - "$work/race.json" <<'PY' || fail "round $round: a process of no tenant mapped into a context the group joined"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["failed_step"] is None, r
# No map may go through: one context is the owner's (not_tenant), the other poisoned.
assert r["map_c1"] != 0 and r["map_c2"] != 0, r
PY
	if grep -q '"killed":true' "$work/race.json"; then
		[ "$(decision_count set_container deny argument_changed)" -gt "$before" ] ||
			[ "$(decision_count set_container audit argument_changed)" -gt "$before" ] ||
			fail "round $round: the child was killed but no argument_changed was recorded"
		won=$((won + 1))
		grep -q '"container_set":true' "$work/race.json" &&
			echo "ok: round $round: race won, the group stays attached, every map refused"
	fi
done
"$IOGUARD" status
note "races won: $won of 6 rounds of 5 s"
[ "$won" -gt 0 ] || skip "the race was not won in 6 rounds of 5 s: nothing to check beyond the refused maps"
restore_driver "$bdf"
