#!/bin/bash
# DMA limits: a tenant may have 64 KiB mapped at once, inside [1 MiB, 2 MiB). Mapping
# beyond the budget is denied, below it allowed; unmapping gives the budget back (three
# rounds of 16 pages in one process); a map outside the window is denied. The same policy
# in audit mode lets the map over the limit through and reports it as over the limit.
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"

policy=$(write_policy dma <<'POLICY'
name: lab-dma-limit
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices:
      - id: "1234:11e8"
    max_dma_bytes: 64KiB
    iova_windows:
      - { start: 0x100000, end: 0x1fffff }
POLICY
)
policy_load "$policy"
for b in "${backends[@]}"; do
	w() { "$LAB_TOOLS/vfio_workload" $b "$bdf" "$@"; }
	w --pages 16 > "$work/$b-at-limit.json"
	workload_expect "$b: 16 pages = the limit" "$work/$b-at-limit.json" failed_step=null maps=16
	w --pages 17 > "$work/$b-over.json"
	workload_expect "$b: the 17th page is over the limit" "$work/$b-over.json" \
		maps=16 errno=1
	w --pages 16 --cycles 3 > "$work/$b-cycles.json"
	workload_expect "$b: unmaps give the budget back" "$work/$b-cycles.json" \
		failed_step=null maps=48 unmaps=48
	w --pages 1 --iova 0x300000 > "$work/$b-window.json"
	workload_expect "$b: outside the IOVA window" "$work/$b-window.json" maps=0 errno=1
done
"$IOGUARD" status
for reason in dma_limit iova_window; do
	hook=map_dma
	n=$(( $(decision_count map_dma deny $reason) + $(decision_count ioas_map deny $reason) ))
	[ "$n" -ge ${#backends[@]} ] || fail "expected $reason denials for each backend, counted $n"
	note "$reason denials counted: $n"
done

sed 's/^mode: enforce$/mode: audit/; s/^name: lab-dma-limit$/name: lab-dma-limit-audit/' \
	"$policy" > "$work/audit.yaml"
policy_load "$work/audit.yaml"
# audit_maps PAGES WHAT: each backend maps PAGES pages in one process, and all of them pass.
audit_maps() {
	local b
	for b in "${backends[@]}"; do
		"$LAB_TOOLS/vfio_workload" $b "$bdf" --pages "$1" > "$work/$b-audit-$1.json"
		workload_expect "$b: audit, $2" "$work/$b-audit-$1.json" failed_step=null maps="$1"
	done
}
audited() {
	echo $(( $(decision_count map_dma audit dma_limit) + $(decision_count ioas_map audit dma_limit) ))
}
audit_maps 17 "the 17th page goes through"
n=$(audited)
[ "$n" -ge ${#backends[@]} ] || fail "expected an audited dma_limit per backend, counted $n"
note "audited dma_limit decisions: $n"
# The overrun was charged and its unmap gave it back: the budget is whole again.
audit_maps 16 "16 pages after the overrun"
[ "$(audited)" -eq "$n" ] || fail "16 pages after the audited overrun were over the limit: $(audited) audited, $n before"
restore_driver "$bdf"
