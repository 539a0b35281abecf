#!/bin/bash
# Real DMA-remapping faults on VT-d: the edu device, on vfio-pci, round-trips a buffer
# through a mapped IOVA (data checked), then DMA-writes to IOVAs that are not mapped.
# Ground truth is the kernel's own log ("DMAR: [DMA Write NO_PASID] Request device ...
# fault addr ..."); `ioguard metrics` must count every fault for edu's device and group,
# kind write, the logged reason, and `ioguard trace` must record each with its address.
# The kernel logs faults under a printk ratelimit (about three per 5 s); ioguard reads
# the fault records themselves, so it counts those the log leaves out: the figures show it.
. "$REPO/tests/vm/lib.sh"

bad_per_backend=4
port=9465

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
[ -d /sys/class/iommu ] && ls /sys/class/iommu | grep -q '^dmar' ||
	skip "no Intel IOMMU (dmar) in this guest: the fault hook is VT-d's"
group=$(device_group "$bdf")
[ "$(group_endpoints "$group" | wc -l)" -eq 1 ] || fail "the edu device shares group $group"
note "edu is $bdf in group $group"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither /dev/vfio/vfio nor /dev/iommu with a VFIO cdev"

metrics_pid=""
stop_metrics() {
	[ -n "$metrics_pid" ] && kill "$metrics_pid" 2>/dev/null && wait "$metrics_pid" 2>/dev/null
	metrics_pid=""
	cleanup_trace
}
trap stop_metrics EXIT
# Both load their programs at once, interleaved: loading is most of this scenario's time.
"$IOGUARD" metrics --listen "127.0.0.1:$port" > /dev/null 2> "$work/metrics.stderr" &
metrics_pid=$!
start_trace "$work/trace.jsonl" --op dma_fault
grep -q "every fault record, read at fentry/dmar_fault" "$work/trace.jsonl.stderr" ||
	fail "ioguard trace does not hook the VT-d fault handler"
for i in $(seq 1 600); do
	grep -q "serving metrics" "$work/metrics.stderr" && break
	kill -0 "$metrics_pid" 2>/dev/null || { cat "$work/metrics.stderr"; fail "ioguard metrics exited"; }
	sleep 0.1
done
cat "$work/metrics.stderr"
grep -q "serving metrics" "$work/metrics.stderr" || fail "ioguard metrics did not start serving"

dmesg > "$work/dmesg.before"
expected=0
iova=0x100000
bad=0x200000
: > "$work/workloads.jsonl"
for b in "${backends[@]}"; do
	"$LAB_TOOLS/dma_fault" "$b" "$bdf" --iova $iova --bad-iova $bad --bad $bad_per_backend \
		> "$work/$b.json"
	rc=$?
	cat "$work/$b.json"
	[ $rc -eq 0 ] || fail "the $b DMA run failed"
	cat "$work/$b.json" >> "$work/workloads.jsonl"
	expected=$((expected + bad_per_backend))
	bad=$(printf '0x%x' $((bad + 0x100000)))
done

# The counter is the readiness signal: wait until it holds every fault, or 10 s.
scrape() { curl -s -o "$work/metrics.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics"; }
counted() {
	awk -v dev="$bdf" '$1 ~ /^ioguard_dma_faults_total\{/ && index($1, "device=\"" dev "\"") \
		{ n += $2 } END { print n + 0 }' "$work/metrics.prom"
}
for i in $(seq 1 100); do
	[ "$(scrape)" = 200 ] || fail "/metrics answered HTTP $(scrape)"
	[ "$(counted)" -ge $expected ] && break
	sleep 0.1
done
grep '^ioguard_dma_faults_total' "$work/metrics.prom"
dmesg > "$work/dmesg.after"
stop_trace "$work/trace.jsonl"
stop_metrics

python3 - "$work" "$bdf" "$group" "$expected" <<'EOF' || exit 1
import json, re, sys

work, bdf, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
failed = []

def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failed.append(what)

runs = [json.loads(l) for l in open(f"{work}/workloads.jsonl")]
bad = set()
for r in runs:
    check(r["round_trip_ok"], f"{r['backend']}: edu round-tripped 2 KiB through IOVA {r['iova']:#x}")
    bad |= {r["bad_iova"] + i * 4096 for i in range(r["bad_transfers"])}

# Ground truth: the DMAR lines this scenario added to the kernel log.
before = open(f"{work}/dmesg.before").read().splitlines()
after = open(f"{work}/dmesg.after").read().splitlines()
new = after[len(before):] if after[:len(before)] == before else after
pat = re.compile(r"DMAR: \[DMA (Read|Write)[^\]]*\] Request device \[([0-9a-f:.]+)\] "
                 r"fault addr (0x[0-9a-f]+) \[fault reason (0x[0-9a-f]+)\]")
short = bdf[5:] if bdf.startswith("0000:") else bdf
logged = [m.groups() for m in map(pat.search, new) if m]
logged_ours = [l for l in logged if l[1] == short]
check(len(logged_ours) >= 1, f"the kernel logged {len(logged_ours)} DMAR fault(s) of {short}")
check(all(l[0] == "Write" and int(l[2], 16) in bad for l in logged_ours),
      "every logged fault is a DMA write at one of the unmapped IOVAs")
reasons = {l[3] for l in logged_ours}
suppressed = sum(int(m.group(1)) for m in
                 map(re.compile(r"dmar_fault: (\d+) callbacks suppressed").search, new) if m)

# ioguard's metrics: every fault, on edu's device and group, kind write.
series = []
for line in open(f"{work}/metrics.prom"):
    if line.startswith("ioguard_dma_faults_total{"):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        series.append((labels, int(float(line.rsplit(" ", 1)[1]))))
ours = [(l, v) for l, v in series if l["device"] == bdf]
counted = sum(v for _, v in ours)
check(counted == expected, f"ioguard_dma_faults_total for {bdf}: {counted} (expected {expected})")
check(all(l["group"] == group and l["kind"] == "write" for l, _ in ours),
      f"every series names group {group} and kind write: {[l for l, _ in ours]}")
check(reasons <= {l["reason"] for l, _ in ours},
      f"the logged reason(s) {sorted(reasons)} are the counted ones")

# ioguard trace: one record per fault with its address.
recs = [json.loads(l) for l in open(f"{work}/trace.jsonl")]
faults = [r for r in recs if r["op"] == "dma_fault" and r["device"] == bdf]
check(sorted(r["iova"] for r in faults) == sorted(bad),
      f"the trace holds {len(faults)} dma_fault records at exactly the {len(bad)} unmapped IOVAs")
check(all(r["group"] == int(group) and r["kind"] == "write" and r["reason"] in
          {l["reason"] for l, _ in ours} for r in faults),
      "each record names the group, kind write and a counted reason")

print(f"figures: {expected} faulting transfers; the kernel logged {len(logged_ours)} "
      f"({suppressed} dmar_fault callbacks suppressed by its ratelimit); ioguard counted "
      f"{counted} and traced {len(faults)}")
sys.exit(1 if failed else 0)
EOF
restore_driver "$bdf"
