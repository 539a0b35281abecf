#!/bin/bash
# Invalidations, counted against the unmaps that cause them. `ioguard metrics` serves
# /metrics while vfio_workload maps N single pages of the edu device's group and unmaps
# them one by one, through the legacy type1 container where it exists and through
# iommufd where /dev/iommu and the device's cdev exist. Between a scrape before and one
# after each workload, for the edu's group G:
#
#   unmaps    the workload's unmap ioctls (its JSON)
#   calls     ioguard_iommu_calls_total{group=G, op=unmap|unmap_fast, result=ok}
#   timed     ioguard_iommu_op_latency_seconds_count{group=G, op=unmap|unmap_fast}
#   inv       ioguard_iotlb_invalidations_total{group=G, cause=unmap, kind=iotlb|pasid_iotlb}
#   inv_timed ioguard_iotlb_invalidation_duration_seconds_count{group=G, cause=unmap, same kinds}
#
# "Agree" means, and each is checked exactly:
#   calls - unmaps       each one-page unmap ioctl is one core unmap call on the group's
#                        only domain (type1: iommu_unmap_fast; iommufd: iommu_unmap), so
#                        0 through iommufd; type1 adds its own at attach, probing for
#                        fine-grained superpages by mapping two pages and unmapping them
#                        one by one (vfio_test_domain_fgsp(): 2, or 1 when the first
#                        unmap takes both), so 1 or 2 through type1;
#   timed == calls       every unmap call is in the latency histogram;
#   inv == calls         the driver's iotlb_sync after each unmap submits one IOTLB
#                        descriptor for it, attributed to G. In general it is >= 1 per
#                        sync (one per IOMMU and per ATS device-TLB, more above the batch
#                        size); it is exactly one here: one VT-d unit, page-selective
#                        invalidation, and edu has no ATS (so no dev_tlb either);
#   inv_timed == inv     each of those submissions holds one descriptor (in general a
#                        submission batches several: inv_timed <= inv);
#   no unmap-caused invalidation lands in group "unknown", and their latency sum is > 0.
# Figures (the counts, and the unmap and invalidation latency sums) go to the log.
. "$REPO/tests/vm/lib.sh"

pages=32 iova=0x300000 port=9471
metrics_pid=""
stop_metrics() {
	[ -n "$metrics_pid" ] || return 0
	kill -INT "$metrics_pid" 2>/dev/null
	wait "$metrics_pid" 2>/dev/null
	metrics_pid=""
}
trap 'stop_metrics' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
group=$(device_group "$bdf")
[ "$(group_endpoints "$group" | wc -l)" -eq 1 ] || fail "the edu device shares group $group"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
backends=()
has_type1_container && backends+=(type1)
[ -e /dev/iommu ] && [ -d "/sys/bus/pci/devices/$bdf/vfio-dev" ] && backends+=(iommufd)
[ ${#backends[@]} -gt 0 ] ||
	skip "neither the legacy type1 container nor iommufd with a VFIO cdev is available"
note "edu is $bdf in group $group; backends: ${backends[*]}"

"$IOGUARD" metrics --listen "127.0.0.1:$port" > "$work/metrics.stdout" 2> "$work/metrics.stderr" &
metrics_pid=$!
for i in $(seq 1 600); do
	grep -q "serving metrics" "$work/metrics.stderr" && break
	kill -0 "$metrics_pid" 2>/dev/null || break
	sleep 0.1
done
cat "$work/metrics.stderr"
grep -q "serving metrics" "$work/metrics.stderr" || fail "ioguard metrics did not start serving"
note "ioguard metrics serving after ${SECONDS} s"
grep -q "mode fentry" "$work/metrics.stderr" ||
	fail "ioguard metrics is not in fentry mode: no invalidation latency or group to check"
grep -q "invalidation \(hooks\|tracepoint\) refused" "$work/metrics.stderr" &&
	fail "the kernel refused the invalidation hooks (see above)"
grep -q "absent from this kernel:.*\(qi_submit\|intel_iommu_tlb_sync\)" "$work/metrics.stderr" &&
	fail "this kernel lacks the VT-d invalidation hooks this lab's IOMMU needs"

scrape() {
	curl -sf -o "$1" "http://127.0.0.1:$port/metrics" || fail "cannot scrape /metrics"
}

for b in "${backends[@]}"; do
	scrape "$work/$b.before.prom"
	"$LAB_TOOLS/vfio_workload" "$b" "$bdf" --pages $pages --iova $iova > "$work/$b.json"
	workload_expect "$b: $pages maps and unmaps" "$work/$b.json" failed_step=null \
		maps=$pages unmaps=$pages
	scrape "$work/$b.after.prom"
	python3 - "$work/$b.before.prom" "$work/$b.after.prom" "$work/$b.json" "$group" "$b" <<'PY' ||
import json, re, sys

line = re.compile(r'^([a-z_]+)\{(.*)\} (\S+)$')
label = re.compile(r'(\w+)="([^"]*)"')

def series(path):
    out = {}
    for l in open(path):
        m = line.match(l.strip())
        if m:
            key = (m.group(1), tuple(sorted(label.findall(m.group(2)))))
            out[key] = float(m.group(3))
    return out

before, after = series(sys.argv[1]), series(sys.argv[2])
w = json.load(open(sys.argv[3]))
group, backend = sys.argv[4], sys.argv[5]

def delta(name, **want):
    total = 0.0
    for (n, labels), v in after.items():
        d = dict(labels)
        if n != name or any(d.get(k) not in (vs if isinstance(vs, tuple) else (vs,))
                            for k, vs in want.items()):
            continue
        total += v - before.get((n, labels), 0.0)
    return total

unmap_ops = ("unmap", "unmap_fast")
iotlb = ("iotlb", "pasid_iotlb")
unmaps = w["unmaps"]
calls = delta("ioguard_iommu_calls_total", group=group, op=unmap_ops, result="ok")
timed = delta("ioguard_iommu_op_latency_seconds_count", group=group, op=unmap_ops)
unmap_sum = delta("ioguard_iommu_op_latency_seconds_sum", group=group, op=unmap_ops)
inv = delta("ioguard_iotlb_invalidations_total", group=group, cause="unmap", kind=iotlb)
inv_timed = delta("ioguard_iotlb_invalidation_duration_seconds_count", group=group,
                  cause="unmap", kind=iotlb)
inv_sum = delta("ioguard_iotlb_invalidation_duration_seconds_sum", group=group,
                cause="unmap", kind=iotlb)
unattributed = delta("ioguard_iotlb_invalidations_total", group="unknown", cause="unmap")
by_kind = {}
for (n, labels), v in after.items():
    d = dict(labels)
    if n == "ioguard_iotlb_invalidations_total" and d["group"] in (group, "unknown"):
        k = f'{d["group"]}/{d["cause"]}/{d["kind"]}'
        if v - before.get((n, labels), 0.0):
            by_kind[k] = int(v - before.get((n, labels), 0.0))
print(f"{backend}: group {group}: {unmaps} unmap ioctls, {calls:.0f} unmap calls "
      f"({timed:.0f} timed, {unmap_sum * 1e6:.1f} us), {inv:.0f} IOTLB invalidations after "
      f"unmaps ({inv_timed:.0f} timed, {inv_sum * 1e6:.1f} us); all invalidations "
      f"(group/cause/kind): {by_kind}")
errors = []
extra = (1, 2) if backend == "type1" else (0,)
if calls - unmaps not in extra:
    errors.append(f"{calls:.0f} unmap calls counted for {unmaps} unmap ioctls "
                  f"(the kernel's own unmaps through {backend}: {extra})")
if timed != calls:
    errors.append(f"the unmap latency histogram holds {timed:.0f} of {calls:.0f} calls")
if inv != calls:
    errors.append(f"{inv:.0f} IOTLB invalidations after unmaps for {calls:.0f} unmap calls")
if inv_timed != inv:
    errors.append(f"the invalidation histogram holds {inv_timed:.0f} of {inv:.0f}")
if unattributed:
    errors.append(f"{unattributed:.0f} invalidations after unmaps have no group")
if inv and inv_sum <= 0:
    errors.append("the invalidation latency sum is 0")
for e in errors:
    print(f"{backend}: {e}")
sys.exit(1 if errors else 0)
PY
		fail "$b: the invalidations do not agree with the unmaps"
	echo "ok: $b: invalidations agree with the unmaps of group $group"
done

stop_metrics
restore_driver "$bdf"
note "guest time: ${SECONDS} s"
