#!/bin/bash
# Host companion of tests/vm/scenarios/install-image.sh: once the guest says the
# containerised daemon denied a map, fetches /metrics through QEMU's forward of the
# guest's port 9464 (MGMT_PORT on 127.0.0.1) and checks the denial and the build are
# there, and that promtool accepts the text.
#   install-image.sh MGMT_PORT RESULTS_DIR
set -uo pipefail
port=${1:?usage: install-image.sh MGMT_PORT RESULTS_DIR}
results=${2:?usage: install-image.sh MGMT_PORT RESULTS_DIR}
work="$results/install-image"
fail() {
	echo "FAIL: $*"
	mkdir -p "$work" && echo "failed: $*" > "$work/scraped"
	exit 1
}

# No deadline of its own: run.sh stops this script once the guest is off.
until [ -f "$work/ready" ]; do
	[ -f "$results/install-image.rc" ] && { echo "the guest scenario ended without ready"; exit 1; }
	sleep 0.1
done
denied=$(jq -r .denied "$work/ready") || fail "unreadable $work/ready"
curl -sf "http://127.0.0.1:$port/metrics" > "$work/host.prom" || fail "cannot fetch /metrics through 127.0.0.1:$port"
grep -q '^ioguard_build_info{' "$work/host.prom" || fail "no ioguard_build_info in the scrape"
got=$(awk '/^ioguard_policy_decisions_total\{.*decision="deny".*reason="iova_window"/ {n += $2} END {print n + 0}' "$work/host.prom")
[ "$got" -ge "$denied" ] || fail "the scrape counts $got iova_window denials, the guest made $denied"
promtool check metrics < "$work/host.prom" > "$work/promtool.out" 2>&1 && [ ! -s "$work/promtool.out" ] ||
	fail "promtool check metrics: $(head -n 5 "$work/promtool.out")"
echo "ok: the host scraped $(grep -vc '^#' "$work/host.prom") samples, $got iova_window denial(s), $(grep '^ioguard_build_info{' "$work/host.prom")"
echo ok > "$work/scraped"
