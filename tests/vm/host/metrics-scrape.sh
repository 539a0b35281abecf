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
prom_pid=""

finish() {
	[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$tmp/prometheus.log" ] && tail -n 20 "$tmp/prometheus.log"
	mkdir -p "$work" && echo "failed: $*" > "$work/scraped"
	exit 1
}

command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	fail "prometheus and promtool are missing (Debian package 'prometheus'; scripts/deps.sh)"
prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ioguard
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn \
	> "$tmp/prometheus.log" 2>&1 &
prom_pid=$!
for i in $(seq 1 300); do
	curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
	sleep 0.1
done
curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null || fail "prometheus did not become ready"
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

# query EXPR: the value of an instant query (one series), "none" when empty.
query() {
	python3 - "$prom_port" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(url, timeout=5))
if r["status"] != "success":
    sys.exit(f"query failed: {r}")
res = r["data"]["result"]
print(res[0]["value"][1] if res else "none")
PY
}

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

# assert NAME EXPR PYTHON-CONDITION-ON-v
assert() {
	local v
	v=$(query "$2") || fail "$1: query failed: $2"
	if python3 -c "import math,sys; v = float('nan') if sys.argv[1] == 'none' else float(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$v"; then
		echo "ok: $1: $2 = $v"
	else
		fail "$1: $2 = $v, wanted $3"
	fi
}
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
