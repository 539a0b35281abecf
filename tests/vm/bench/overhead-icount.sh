#!/bin/bash
# Instruction-count overhead benchmark: what each configuration adds to one map and one
# unmap ioctl, counted in guest instructions. Run it under `tests/vm/run.sh --icount`: one
# vCPU whose CLOCK_MONOTONIC advances 1 ns per instruction executed, so the figures do not
# depend on the host's load (docs/overhead.md: method and limits). Without --icount the
# same figures are TCG wall-clock nanoseconds and are labelled so.
#
# Configurations, one after another in one boot, each attached once for RUNS runs:
#   none           nothing attached
#   empty-fentry   empty fentry/fexit programs on the map-path functions (iommu_map,
#                  iommu_map_nosync, iommu_unmap, iommu_unmap_fast; those this kernel
#                  has): bpftrace's floor
#   empty-trace    empty-fentry plus empty programs on the VT-d invalidation points
#                  trace and metrics also use (the driver's flushes, qi_submit_sync, the
#                  qi_submit tracepoint): their floor
#   empty-lsm      an empty BPF LSM file_ioctl program
#   empty-enforce  empty-lsm plus empty programs on the other points an enforcing policy
#                  uses on a map or unmap: the ioctl handlers' fexits, where it settles
#                  its accounts (vfio_fops_unl_ioctl, iommufd_fops_ioctl), and where it
#                  compares the kernel's copy and gives back what was unmapped
#                  (vfio_pin_pages_remote, vfio_remove_dma; iopt_map_pages, iopt_unmap_iova)
#   lower-metrics  on empty-trace's points, the least work per call that metrics' job
#                  needs (tests/vm/bench/lower.bpf.c): its lower bound
#   lower-enforce  on empty-enforce's points, the least work a byte limit and an IOVA
#                  window need: enforce's lower bound
#   metrics        ioguard metrics (in-kernel histograms, nothing streamed)
#   trace          ioguard trace --json streaming every record to a consumer (/dev/null)
#   bpftrace       bpftrace hist() of latency and size on the same points
#   enforce        an enforcing policy: two tenants, byte limits, IOVA windows
#   audit          the same policy in audit mode
# Workload: vfio_workload --phase-times, PAGES 4 KiB maps then unmaps, CYCLES times, per
# backend (type1; iommufd where /dev/iommu exists); the map and unmap loops are timed
# apart inside the process. Prints the median per operation of RUNS runs, what each
# configuration adds over none, and that as a multiple of the empty programs' addition.
# Under icount the host's load cannot move the figures, so configurations are not
# alternated round by round as the wall-clock bench must: attaching (verifier, bpftrace's
# compiler) is most of the run's time. Per-program cost: one more run with
# kernel.bpf_stats_enabled=1, and bpftool's run_time_ns / run_cnt (instructions under
# --icount) per program.
# lab-timeout: 3000
. "$REPO/tests/vm/lib.sh"
trap 'stop_config; policy_unload' EXIT

RUNS=${BENCH_RUNS:-3}
PAGES=256
CYCLES=4
if grep -qw ioguard_lab.icount=1 /proc/cmdline; then
	unit="instructions (guest clock under -icount shift=0)"
else
	unit="ns (TCG wall clock, not instructions: run with tests/vm/run.sh --icount)"
fi
empty_obj="$OUTPUT/lab-bpf/empty.bpf.o"
lower_obj="$OUTPUT/lab-bpf/lower.bpf.o"
for obj in "$empty_obj" "$lower_obj"; do
	[ -f "$obj" ] || fail "$obj is missing (make bench builds it)"
done
bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
mapfile -t backends < <(dma_backends "$bdf")
[ ${#backends[@]} -gt 0 ] || skip "neither the VFIO container nor iommufd is available"

# has_function F: F is a kernel function here (vmlinux or a loaded module).
has_function() { awk -v f="$1" '$3 == f { found = 1; exit } END { exit !found }' /proc/kallsyms; }
fentry_progs=() inval_progs=() settle_progs=()
for f in iommu_map iommu_map_nosync iommu_unmap iommu_unmap_fast; do
	has_function "$f" && fentry_progs+=("fentry_$f" "fexit_$f")
done
for f in intel_iommu_tlb_sync intel_iommu_iotlb_sync_map intel_flush_iotlb_all qi_submit_sync; do
	has_function "$f" && inval_progs+=("fentry_$f" "fexit_$f")
done
# The qi_submit tracepoint's BPF entry point exists where the tracepoint does.
has_function __bpf_trace_qi_submit && inval_progs+=(tp_btf_qi_submit)
for f in vfio_fops_unl_ioctl iommufd_fops_ioctl iopt_map_pages iopt_unmap_iova; do
	has_function "$f" && settle_progs+=("fexit_$f")
done
for f in vfio_pin_pages_remote vfio_remove_dma iopt_map_pages; do
	has_function "$f" && settle_progs+=("fentry_$f")
done
[ ${#fentry_progs[@]} -gt 0 ] || fail "none of iommu_map, iommu_unmap, iommu_unmap_fast in /proc/kallsyms"

configs=(none empty-fentry empty-trace empty-lsm empty-enforce lower-metrics lower-enforce metrics trace
	bpftrace enforce audit)
if ! command -v bpftrace > /dev/null; then
	mapfile -t configs < <(printf '%s\n' "${configs[@]}" | grep -vx bpftrace)
fi
# LAB_BENCH_CONFIGS on the host (run.sh passes it as BENCH_CONFIGS) measures a subset, e.g.
# "none empty-fentry metrics" while working on one configuration.
if [ -n "${BENCH_CONFIGS:-}" ]; then
	for c in $BENCH_CONFIGS; do
		[[ " ${configs[*]} " == *" $c "* ]] || fail "LAB_BENCH_CONFIGS: no configuration '$c' (${configs[*]})"
	done
	read -ra configs <<< "$BENCH_CONFIGS"
fi

policy_text() {
	cat <<POLICY
name: bench-$1
mode: $1
default: deny
tenants:
  - name: edu
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
    max_dma_bytes: 1GiB
    iova_windows: [ { start: 0x100000, end: 0xfffffff } ]
  - name: other
    match: { uid: 1000 }
    devices: [ { id: "8086:100e" } ]
    max_dma_bytes: 64MiB
    iova_windows: [ { start: 0x10000000, end: 0x1fffffff } ]
POLICY
}
enforce_policy=$(policy_text enforce | write_policy bench-enforce)
audit_policy=$(policy_text audit | write_policy bench-audit)
bt_script='
kfunc:iommu_map { @start[tid] = nsecs; }
kretfunc:iommu_map /@start[tid]/ { @map_ns = hist(nsecs - @start[tid]); @map_bytes = hist(args->size); delete(@start[tid]); }
kfunc:iommu_unmap { @ustart[tid] = nsecs; }
kretfunc:iommu_unmap /@ustart[tid]/ { @unmap_ns = hist(nsecs - @ustart[tid]); delete(@ustart[tid]); }
kfunc:iommu_unmap_fast { @fstart[tid] = nsecs; }
kretfunc:iommu_unmap_fast /@fstart[tid]/ { @unmap_fast_ns = hist(nsecs - @fstart[tid]); delete(@fstart[tid]); }
'

# tracing_links: how many fentry/fexit/LSM links are attached now.
tracing_links() { bpftool link show 2>/dev/null | grep -c ': tracing '; }

# wait_ready PID FILE TEXT: TEXT appears in FILE while PID lives.
wait_ready() {
	local i
	for i in $(seq 1 1200); do
		grep -q "$3" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	cat "$2"
	fail "'$3' never appeared in $2"
}

config_pid=""
start_config() {
	local links0 i
	case "$1" in
	none) ;;
	empty-*|lower-*)
		local progs=() obj=$empty_obj
		case "$1" in
		empty-fentry) progs=("${fentry_progs[@]}") ;;
		empty-trace|lower-metrics) progs=("${fentry_progs[@]}" "${inval_progs[@]}") ;;
		empty-lsm) progs=(lsm_file_ioctl) ;;
		empty-enforce|lower-enforce) progs=(lsm_file_ioctl "${settle_progs[@]}") ;;
		esac
		if [[ $1 == lower-* ]]; then
			obj=$lower_obj
			progs=("${progs[@]/#/lower_}")
		fi
		"$LAB_TOOLS/bpf_attach" "$obj" "${progs[@]}" > "$work/$1.out" 2>&1 &
		config_pid=$!
		wait_ready "$config_pid" "$work/$1.out" "attached" ;;
	metrics)
		"$IOGUARD" metrics --listen 127.0.0.1:9465 > "$work/metrics.out" 2>&1 &
		config_pid=$!
		wait_ready "$config_pid" "$work/metrics.out" "serving metrics" ;;
	trace)
		"$IOGUARD" trace --json > /dev/null 2> "$work/trace.err" &
		config_pid=$!
		wait_ready "$config_pid" "$work/trace.err" "tracing," ;;
	bpftrace)
		# bpftrace says "Attaching" before it attaches: ready once its six links exist.
		links0=$(tracing_links)
		bpftrace -e "$bt_script" > "$work/bpftrace.out" 2>&1 &
		config_pid=$!
		for i in $(seq 1 1200); do
			[ "$(tracing_links)" -ge $((links0 + 6)) ] && break
			kill -0 "$config_pid" 2>/dev/null || { cat "$work/bpftrace.out"; fail "bpftrace exited"; }
			sleep 0.1
		done
		[ "$(tracing_links)" -ge $((links0 + 6)) ] || fail "bpftrace never attached its six probes" ;;
	enforce) "$IOGUARD" load "$enforce_policy" > /dev/null || fail "cannot load $enforce_policy" ;;
	audit) "$IOGUARD" load "$audit_policy" > /dev/null || fail "cannot load $audit_policy" ;;
	esac
}
stop_config() {
	[ -n "$config_pid" ] && kill -INT "$config_pid" 2>/dev/null && wait "$config_pid" 2>/dev/null
	config_pid=""
	"$IOGUARD" unload > /dev/null 2>&1
	true
}

# run_workload CFG FILE: one run per backend, "CFG BACKEND map_per_op unmap_per_op" to FILE.
run_workload() {
	local b out
	for b in "${backends[@]}"; do
		out=$("$LAB_TOOLS/vfio_workload" $b "$bdf" --pages $PAGES --cycles $CYCLES \
			--iova 0x100000 --phase-times) || fail "$1/$b: the workload failed: $out"
		echo "$out" | sed -n 's/.*"maps":\([0-9]*\),"unmaps":\([0-9]*\),.*"map_ns":\([0-9]*\),"unmap_ns":\([0-9]*\).*/\1 \2 \3 \4/p' |
			awk -v c="$1" -v b="$b" 'NF == 4 && $1 && $2 { printf "%s %s %.1f %.1f\n", c, b, $3 / $1, $4 / $2; ok = 1 }
				END { exit !ok }' >> "$2" || fail "$1/$b: no phase times in: $out"
	done
}

echo "bench icount unit: $unit; cpus $(nproc); maps and unmaps per run $((PAGES * CYCLES))," \
	"$RUNS runs; backends ${backends[*]}"
echo "bench icount empty-fentry programs: ${fentry_progs[*]}"
echo "bench icount empty-trace programs: empty-fentry's ${inval_progs[*]}"
echo "bench icount empty-enforce programs: lsm_file_ioctl ${settle_progs[*]}"
echo 0 > /proc/sys/kernel/bpf_stats_enabled
: > "$work/ops"
for cfg in "${configs[@]}"; do
	start_config "$cfg"
	for run in $(seq 1 "$RUNS"); do
		run_workload "$cfg" "$work/ops"
	done
	if [ "$cfg" != none ]; then
		echo 1 > /proc/sys/kernel/bpf_stats_enabled
		run_workload "$cfg" "$work/ops-stats"
		bpftool prog show --json > "$work/progs-$cfg.json"
		echo 0 > /proc/sys/kernel/bpf_stats_enabled
	fi
	stop_config
done

python3 - "$work" "$unit" <<'PY'
import json, statistics, sys
work, unit = sys.argv[1], sys.argv[2]
per = {}
for line in open(f"{work}/ops"):
    cfg, backend, m, u = line.split()
    per.setdefault((backend, cfg), []).append((float(m), float(u)))
floors = {"metrics": "empty-trace", "trace": "empty-trace", "bpftrace": "empty-fentry",
          "enforce": "empty-enforce", "audit": "empty-enforce",
          "lower-metrics": "empty-trace", "lower-enforce": "empty-enforce"}
# What each configuration's job needs at least (tests/vm/bench/lower.bpf.c).
lower = {"metrics": "lower-metrics", "trace": "lower-metrics", "enforce": "lower-enforce",
         "audit": "lower-enforce"}
cfgs = ("none", "empty-fentry", "empty-trace", "empty-lsm", "empty-enforce", "lower-metrics",
        "lower-enforce", "metrics", "trace", "bpftrace", "enforce", "audit")
targets = {"metrics": 1.5, "enforce": 1.5, "trace": 3.0}
print(f"bench icount table: per operation, median of runs; unit: {unit}")
print("bench | path | op | configuration | per op | added | x empty programs | spread |")
print("bench | --- | --- | --- | ---: | ---: | ---: | ---: |")
# pair: a map and an unmap together, for costs that land in either loop (trace's consumer
# drains the records when it is scheduled, in the map loop or the unmap loop).
def value(v, i):
    return v[0] + v[1] if i == 2 else v[i]
for backend in sorted({b for b, _ in per}):
    for i, op in enumerate(("map", "unmap", "pair")):
        med = {c: statistics.median(value(v, i) for v in r)
               for (b, c), r in per.items() if b == backend}
        spread = {c: (max(value(v, i) for v in r) - min(value(v, i) for v in r)) / med[c]
                  for (b, c), r in per.items() if b == backend}
        base = med.get("none")
        if base is None:
            continue
        for cfg in cfgs:
            if cfg not in med:
                continue
            added = med[cfg] - base
            floor = floors.get(cfg)
            mult = ""
            if floor in med and med[floor] - base > 0:
                mult = f"{added / (med[floor] - base):.1f}x {floor}"
            print(f"bench | {backend} | {op} | {cfg} | {med[cfg]:.0f} | {added:+.0f} | {mult} | "
                  f"{spread[cfg]:.1%} |")
        for cfg, target in targets.items():
            floor = floors[cfg]
            if cfg in med and floor in med and med[floor] - base > 0:
                m = (med[cfg] - base) / (med[floor] - base)
                print(f"bench icount target {backend} {op} {cfg} added <= {target}x {floor}: "
                      f"{m:.1f}x ({'met' if m <= target else 'missed'})")
        for cfg, bound in lower.items():
            if cfg in med and bound in med and med[bound] - base > 0:
                print(f"bench icount lower bound {backend} {op} {cfg}: {bound} adds "
                      f"{med[bound] - base:+.0f}, {cfg} {med[cfg] - base:+.0f} "
                      f"({(med[cfg] - base) / (med[bound] - base):.1f}x)")
for cfg in cfgs[1:]:
    try:
        progs = json.load(open(f"{work}/progs-{cfg}.json"))
    except (OSError, ValueError):
        continue
    for p in sorted(progs, key=lambda p: -p.get("run_time_ns", 0)):
        if p.get("run_cnt"):
            print(f"bench bpf_stats {cfg}: {p.get('name', '?'):28s} runs {p['run_cnt']:7d}  "
                  f"{p['run_time_ns'] / p['run_cnt']:8.0f} per run ({unit.split(' (')[0]})")
PY
restore_driver "$bdf"
