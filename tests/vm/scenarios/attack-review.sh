#!/bin/bash
# The ways around the DMA accounting that the review of the new enforcement found, each
# tried as a hostile tenant would (review_attack):
#  efault  an IOAS_MAP argument on a read-only page: the kernel maps, then fails to copy
#          the IOVA back (EFAULT); the map must stay charged, so one more page is over;
#  flags   a thread flips type1 MAP_DMA between a vaddr renewal (judged: no charge) and a
#          plain map: a won race must be recorded and killed, never two full maps;
#  fixed   a thread flips IOAS_MAP's FIXED_IOVA: a map the kernel placed itself must be
#          recorded and killed, never land outside the window;
#  attach  mappings made by a process of no tenant, then the device's tenant attaches
#          its device to them: refused (shared_account).
# lab-cpus: 2
. "$REPO/tests/vm/lib.sh"
trap 'policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
policy=$(write_policy review <<'POLICY'
name: lab-review
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
    iova_windows: [ { start: 0x100000, end: 0x1fffff } ]
POLICY
)
policy_load "$policy"
r() { "$LAB_TOOLS/review_attack" "$@"; }
reason_count() {
	"$IOGUARD" status --json | python3 -c '
import json, sys
print(sum(d["count"] for d in json.load(sys.stdin)["decisions"] if d["reason"] == sys.argv[1]))' "$1"
}
# race NAME FIELD CMD...: a racing attack is either killed with its record, or ends
# with FIELD no greater than its allowance (given as FIELD=MAX).
race() {
	local name=$1 cond=$2 before after rc
	shift 2
	before=$(reason_count argument_changed)
	"$@" > "$work/$name.json"
	rc=$?
	after=$(reason_count argument_changed)
	if [ "$rc" -eq $((128 + 9)) ]; then
		attack_parts_run=$((attack_parts_run + 1))
		if [ "$after" -gt "$before" ]; then
			echo "ok: $name: the race was won, recorded (argument_changed $before -> $after) and killed"
		else
			echo "FAILED: $name: killed without an argument_changed record"
			attack_failures+=("$name")
		fi
	else
		attack_expect "$name: the race never got past the rules" "$work/$name.json" \
			failed_step=null
		python3 - "$work/$name.json" "$cond" <<'PY' || attack_failures+=("$name: $cond")
import json, sys
w = json.load(open(sys.argv[1]))
field, most = sys.argv[2].split("=")
print(f"{field}: {w[field]} in {w['attempts']} attempts (at most {most})")
assert w[field] <= int(most)
PY
	fi
}

if [ -e /dev/iommu ]; then
	before=$(decision_count ioas_map deny dma_limit)
	r efault --pages 16 > "$work/efault.json"
	attack_expect "efault: 16 pages with a read-only argument, then a 17th" "$work/efault.json" \
		readonly_map_errno=14 extra_map_errno=1
	attack_counted "efault: the EFAULT map stayed charged" ioas_map dma_limit "$before"
	race fixed outside_window=0 r fixed --seconds 5
else
	skip_part "efault, fixed: no /dev/iommu"
fi
if has_type1_container; then
	race flags full_maps=1 r flags "$bdf" --pages 16 --seconds 5
else
	skip_part "flags: /dev/vfio/vfio is not the legacy type1 container here"
fi

if [ -e /dev/iommu ] && [ -d "/sys/bus/pci/devices/$bdf/vfio-dev" ]; then
	open_up_device_nodes
	attach=$(write_policy review-attach <<'POLICY'
name: lab-review-attach
mode: enforce
default: allow
tenants:
  - name: edu
    match: { uid: 4242 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 64KiB
    iova_windows: [ { start: 0x100000, end: 0x1fffff } ]
POLICY
)
	policy_load "$attach"
	before=$(decision_count attach_pt deny shared_account)
	r attach "$bdf" --uid 4242 > "$work/attach.json"
	attack_expect "attach: a tenant's device attached to mappings made outside its rules" \
		"$work/attach.json" untenanted_map_errno=0 failed_step=attach_pt errno=1
	attack_counted "attach: refused" attach_pt shared_account "$before"
else
	skip_part "attach: no /dev/iommu or no VFIO device cdev"
fi
"$IOGUARD" status
restore_driver "$bdf"
attack_done
