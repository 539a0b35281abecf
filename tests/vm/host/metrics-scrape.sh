#!/bin/bash
# Host companion of tests/vm/scenarios/metrics-scrape.sh: runs a real Prometheus on
# 127.0.0.1 that scrapes the guest's `ioguard run` through QEMU's forward (MGMT_PORT),
# then asserts with PromQL over the HTTP API what the guest did, and checks the scraped
# text with promtool. Prints "ok: ..." per assertion (run.sh shows them).
#   metrics-scrape.sh MGMT_PORT RESULTS_DIR
set -uo pipefail
port=${1:?usage: metrics-scrape.sh MGMT_PORT RESULTS_DIR}
results=${2:?usage: metrics-scrape.sh MGMT_PORT RESULTS_DIR}
work="$results/metrics-scrape"
tmp=$(mktemp -d /tmp/ioguard-prometheus.XXXXXX)

. "$(dirname "$0")/prometheus.bash"

finish() {
	prometheus_stop
	rm -rf "$tmp"
}
trap finish EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$tmp/prometheus.log" ] && tail -n 20 "$tmp/prometheus.log"
	mkdir -p "$work" && echo "failed: $*" > "$work/scraped"
	exit 1
}

prometheus_start <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ioguard
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
echo "prometheus $(prometheus --version 2>&1 | head -n 1 | awk '{print $3}') on 127.0.0.1:$prom_port scrapes 127.0.0.1:$port every 1 s"

# The guest may run other scenarios first (--all), for as long as they take; it gives up
# on this one after its own timeout (NAME.rc appears), and run.sh stops this script once
# the guest is off. So no deadline of its own here: one would only guess the others' time.
until [ -f "$work/ready" ]; do
	[ -f "$results/metrics-scrape.rc" ] && { echo "the guest scenario ended without ready"; exit 1; }
	sleep 0.1
done
cat "$work/ready"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/ready" "$1"; }
group=$(field group) maps=$(field maps_4k) denied=$(field denied)
reload_errors=$(field reload_errors) reload_ok=$(field reload_ok)

# The 4 KiB maps: le="4096" is the lowest exported size bucket (docs/metrics.md), so it
# holds every map of at most 4 KiB, and intel-iommu maps nothing smaller. Not _count:
# type1's 8 KiB superpage probe is a map of this group too (docs/lab.md).
maps_q="sum(ioguard_iommu_op_size_bytes_bucket{op=\"map\",group=\"$group\",le=\"4096\"})"
errors_q='ioguard_policy_reloads_total{result="error"}'
ok_q='ioguard_policy_reloads_total{result="ok"}'
# Wait until Prometheus holds a sample taken after the guest's last step.
for i in $(seq 1 60); do
	[ "$(query "$maps_q")" = "$maps" ] && [ "$(query "$errors_q")" = "$reload_errors" ] &&
		[ "$(query "$ok_q")" = "$reload_ok" ] && break
	sleep 1
done

assert "up" 'up{job="ioguard"}' "v == 1"
assert "4 KiB maps of group $group equal the workloads' $maps" "$maps_q" "v == $maps"
assert "map calls of group $group" "sum(ioguard_iommu_calls_total{op=\"map\",group=\"$group\",result=\"ok\"})" "v >= $maps"
assert "median map latency is finite and positive" \
	"histogram_quantile(0.5, sum by (le) (ioguard_iommu_op_latency_seconds_bucket{op=\"map\",group=\"$group\"}))" \
	"math.isfinite(v) and v > 0"
assert "p99 map latency is finite and positive" \
	"histogram_quantile(0.99, sum by (le) (ioguard_iommu_op_latency_seconds_bucket{op=\"map\"}))" \
	"math.isfinite(v) and v > 0"
assert "denials of the map outside the window" \
	'sum(ioguard_policy_decisions_total{decision="deny",reason="iova_window",tenant="lab"})' "v >= $denied"
assert "the broken policy file counted as a failed reload" "$errors_q" "v == $reload_errors"
assert "the SIGHUP reload counted as ok" "$ok_q" "v == $reload_ok"
assert "the policy file is not refused any more" 'ioguard_policy_file_refused' "v == 0"
assert "edu's group is viable (kernel rule)" "ioguard_group_viable{group=\"$group\",rule=\"kernel\"}" "v == 1"
assert "fentry mode" 'ioguard_build_info{mode="fentry"}' "v == 1"
assert "bpf_stats on" 'ioguard_bpf_stats_enabled' "v == 1"
assert "BPF programs ran" 'sum(ioguard_bpf_program_runs_total)' "v > 0"
assert "no event lost" 'sum(ioguard_events_lost_total)' "v == 0"

curl -sf "http://127.0.0.1:$port/metrics" > "$work/scraped.prom" || fail "cannot fetch /metrics through 127.0.0.1:$port"
promtool check metrics < "$work/scraped.prom" > "$tmp/promtool.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/promtool.out" ] ||
	fail "promtool check metrics (exit $rc): $(head -n 20 "$tmp/promtool.out")"
echo "ok: promtool check metrics: no problems in $(grep -vc '^#' "$work/scraped.prom") samples"
echo "ok" > "$work/scraped"
