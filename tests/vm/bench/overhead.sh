#!/bin/bash
# Overhead benchmark, in the lab, one boot, configurations alternated round by round:
#   none     nothing attached
#   metrics  ioguard tracing with in-kernel histograms only (ioguard metrics)
#   trace    ioguard tracing with every event streamed (ioguard trace --json)
#   bpftrace bpftrace with the same probes and hist(), what a user would run instead
#   policy   an enforcing ioguard policy (LSM on every map ioctl), nothing traced
#   floor    bpftrace with empty programs on the same fentry/fexit points: what any
#            fentry-based tool pays before doing anything (trampolines, program entry)
# Workload: 4 KiB map+unmap pairs through legacy VFIO (and iommufd where present) on the
# DMA-capable device. Prints the median rate of each configuration and its ratio to
# `none`. The rates are taken with kernel.bpf_stats_enabled off, as in production (on,
# every program run pays two clock reads more); one more run per configuration with it on
# gives the per-program BPF cost.
# lab-timeout: 1500
. "$REPO/tests/vm/lib.sh"
trap 'cleanup_trace; stop_config; policy_unload' EXIT

ROUNDS=${BENCH_ROUNDS:-7}
PAGES=256
CYCLES=${BENCH_CYCLES:-16}
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"
configs=(none metrics trace bpftrace policy floor)
command -v bpftrace > /dev/null || configs=(none metrics trace policy)

policy=$(write_policy bench <<'POLICY'
name: bench
mode: enforce
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 1GiB
    iova_windows: [ { start: 0x100000, end: 0xfffffff } ]
POLICY
)
# kfunc probes on the functions ioguard's fentry programs use, with a latency hist().
bt_script='
kfunc:iommu_map { @start[tid] = nsecs; }
kretfunc:iommu_map /@start[tid]/ { @map_ns = hist(nsecs - @start[tid]); @map_bytes = hist(args->size); delete(@start[tid]); }
kfunc:iommu_unmap { @ustart[tid] = nsecs; }
kretfunc:iommu_unmap /@ustart[tid]/ { @unmap_ns = hist(nsecs - @ustart[tid]); delete(@ustart[tid]); }
kfunc:iommu_unmap_fast { @fstart[tid] = nsecs; }
kretfunc:iommu_unmap_fast /@fstart[tid]/ { @unmap_fast_ns = hist(nsecs - @fstart[tid]); delete(@fstart[tid]); }
'
bt_floor='
kfunc:iommu_map { } kretfunc:iommu_map { }
kfunc:iommu_unmap { } kretfunc:iommu_unmap { }
kfunc:iommu_unmap_fast { } kretfunc:iommu_unmap_fast { }
'
config_pid=""
start_config() {
	case "$1" in
	none) ;;
	metrics)
		"$IOGUARD" metrics --listen 127.0.0.1:9465 > "$work/metrics.out" 2>&1 &
		config_pid=$!
		wait_for_text "$work/metrics.out" "serving metrics" ;;
	trace)
		"$IOGUARD" trace --json > /dev/null 2> "$work/trace.err" &
		config_pid=$!
		wait_for_text "$work/trace.err" "tracing," ;;
	bpftrace)
		bpftrace -e "$bt_script" > "$work/bpftrace.out" 2>&1 &
		config_pid=$!
		wait_for_text "$work/bpftrace.out" "Attaching" ;;
	floor)
		bpftrace -e "$bt_floor" > "$work/floor.out" 2>&1 &
		config_pid=$!
		wait_for_text "$work/floor.out" "Attaching" ;;
	policy)
		"$IOGUARD" load "$policy" > /dev/null || fail "cannot load the bench policy" ;;
	esac
}
stop_config() {
	[ -n "$config_pid" ] && kill -INT "$config_pid" 2>/dev/null && wait "$config_pid" 2>/dev/null
	config_pid=""
	"$IOGUARD" unload > /dev/null 2>&1
	true
}
wait_for_text() {
	local i
	for i in $(seq 1 600); do
		grep -q "$2" "$1" 2>/dev/null && { sleep 0.5; return 0; }
		sleep 0.1
	done
	cat "$1"
	fail "'$2' never appeared in $1"
}

# run_workload CFG: one map+unmap run per backend, its rate appended to $work/rates.
run_workload() {
	local b
	for b in "${backends[@]}"; do
		"$LAB_TOOLS/vfio_workload" $b "$bdf" --pages $PAGES --cycles $CYCLES \
			--iova 0x100000 > "$work/run.json" || fail "$1/$b: the workload failed"
		python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))
print(sys.argv[2], sys.argv[3], w["maps"] / (w["elapsed_ns"] / 1e9))' \
			"$work/run.json" "$1" "$b" >> "$2"
	done
}

echo "bench clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" \
	"cpus $(nproc) pairs_per_run $((PAGES * CYCLES))"
echo 0 > /proc/sys/kernel/bpf_stats_enabled
: > "$work/rates"
for round in $(seq 1 "$ROUNDS"); do
	for cfg in "${configs[@]}"; do
		start_config "$cfg"
		run_workload "$cfg" "$work/rates"
		stop_config
	done
done
# The BPF cost per program, measured apart from the rates above.
for cfg in metrics trace policy; do
	start_config "$cfg"
	echo 1 > /proc/sys/kernel/bpf_stats_enabled
	run_workload "$cfg" "$work/rates-stats"
	bpftool prog show --json > "$work/progs-$cfg.json"
	echo 0 > /proc/sys/kernel/bpf_stats_enabled
	stop_config
done

python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
rates = {}
for line in open(f"{work}/rates"):
    cfg, backend, rate = line.split()
    rates.setdefault((backend, cfg), []).append(float(rate))
for backend in sorted({b for b, _ in rates}):
    base = statistics.median(rates[(backend, "none")])
    print(f"bench {backend}: map+unmap pairs/s (median of {len(rates[(backend, 'none')])} rounds)")
    for (b, cfg), r in sorted(rates.items()):
        if b != backend:
            continue
        m = statistics.median(r)
        print(f"bench {backend} {cfg:9s} {m:10.0f}/s  ratio {m / base:.3f}")
    med = {cfg: statistics.median(r) / base for (b, cfg), r in rates.items() if b == backend}
    for cfg, target in (("metrics", 0.97), ("policy", 0.98)):
        if cfg in med:
            print(f"bench {backend} target {cfg}/none >= {target}: {med[cfg]:.3f} "
                  f"({'met' if med[cfg] >= target else 'missed'})")
    if "bpftrace" in med:
        for cfg in ("metrics", "trace"):
            if cfg in med:
                print(f"bench {backend} overhead {cfg} {1 - med[cfg]:.1%} vs bpftrace "
                      f"{1 - med['bpftrace']:.1%}: "
                      f"{'below' if med[cfg] > med['bpftrace'] else 'NOT below'}")
    if "floor" in med:
        print(f"bench {backend} floor: empty fentry/fexit programs alone cost "
              f"{1 - med['floor']:.1%}")
for kind in ("metrics", "trace", "policy"):
    try:
        progs = json.load(open(f"{work}/progs-{kind}.json"))
    except (OSError, ValueError):
        continue
    for p in progs:
        if p.get("run_cnt"):
            print(f"bench bpf_stats {kind}: {p.get('name', '?'):28s} runs {p['run_cnt']:9d}  "
                  f"{p['run_time_ns'] / p['run_cnt']:8.0f} ns/run")
PY
restore_driver "$bdf"
