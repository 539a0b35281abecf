#!/usr/bin/env bash
# The lab's fleet: two guests booted side by side as two nodes with different IOMMU
# topologies and kernels, each running ioguard's daemon from the OCI image as the
# DaemonSet does (tests/vm/fleet/node.sh), both scraped by one real Prometheus on the
# host that evaluates the shipped alert rules (docs/prometheus/*-rules.yml). PromQL
# across the fleet must find: each node's group viability, the maps each node's
# workload made, the denial on the enforcing node only, and the non-viable-group alert
# firing for the node whose group is in use while not viable, and not for the other.
#
#   tests/vm/fleet.sh OUTPUT
#
#   node-a: Debian's 6.12, topology lab (edu alone in its group), policy enforce
#   node-b: Debian's 6.1, topology shared-edu (edu behind a bridge with an e1000),
#           policy audit with strict viability (a node mid-rollout)
# Prints PASS/FAIL per node and for the fleet's PromQL checks, ends with the counts,
# and writes them to OUTPUT/results/vm-fleet.
set -uo pipefail
output=${1:?usage: fleet.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
output=$(cd "$output" && pwd) || exit 2
nodes=(node-a node-b)
declare -A kernel=([node-a]=debian [node-b]=debian-6.1)
declare -A topology=([node-a]=lab [node-b]=shared-edu)
declare -A port=() lab_pid=()
tmp=$(mktemp -d /tmp/ioguard-fleet.XXXXXX)
logs="$output/lab-logs"
mkdir -p "$logs" "$output/results"

. "$here/host/prometheus.bash"

failure=""
fail() {
	echo "FAIL: $*"
	[ -f "$tmp/prometheus.log" ] && tail -n 20 "$tmp/prometheus.log"
	failure="$*"
	release "failed: $*"
	exit 1
}
# release WORD: what each node waits for before it lets its workload go and ends.
release() {
	local n
	for n in "${nodes[@]}"; do
		mkdir -p "$output/vm/fleet-$n/results/node"
		[ -f "$output/vm/fleet-$n/results/node/scraped" ] ||
			echo "$1" > "$output/vm/fleet-$n/results/node/scraped"
	done
}
finish() {
	local n rc passed=0 failed=0
	# Whatever ended this (a failed check, a signal, an unset variable), the nodes must
	# not wait out their timeouts for a host that is gone.
	release "failed: ${failure:-the host script ended early}"
	for n in "${nodes[@]}"; do
		[ -n "${lab_pid[$n]:-}" ] || continue
		wait "${lab_pid[$n]}"
		rc=$?
		if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
		grep -E '^(PASS|FAIL|SKIP) ' "$logs/fleet-$n.log" || echo "FAIL fleet-$n/node: no result (exit $rc)"
		[ $rc -eq 0 ] || tail -n 60 "$logs/fleet-$n.log" | sed 's/^/    | /'
	done
	if [ -z "$failure" ]; then
		echo "PASS fleet/promql"; passed=$((passed + 1))
	else
		echo "FAIL fleet/promql: $failure"; failed=$((failed + 1))
	fi
	prometheus_stop
	rm -rf "$tmp"
	echo "$passed $failed 0" > "$output/results/vm-fleet"
	echo "$passed passed, $failed failed"
}
trap finish EXIT

# rule_alert_names RULES: the alert names of a rules file as a PromQL regex alternation.
rule_alert_names() { sed -n 's/^ *- alert: *//p' "$1" | paste -sd'|'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for n in "${nodes[@]}"; do port[$n]=$(free_port); done
for n in "${nodes[@]}"; do
	"$repo/scripts/kernel-cache.sh" "${kernel[$n]}" > /dev/null || { failure="cannot prepare the ${kernel[$n]} kernel"; exit 1; }
done

# One job, as a fleet's Prometheus scrapes a DaemonSet; each target's instance label is
# its node, as a Kubernetes service discovery would set it.
prometheus_start <<YAML
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 2s
rule_files:
  - $repo/docs/prometheus/fleet-rules.yml
  - $repo/docs/prometheus/isolation-rules.yml
scrape_configs:
  - job_name: ioguard
    static_configs:
      - targets: ["127.0.0.1:${port[node-a]}"]
        labels: { instance: node-a }
      - targets: ["127.0.0.1:${port[node-b]}"]
        labels: { instance: node-b }
YAML
echo "prometheus $(prometheus --version 2>&1 | head -n 1 | awk '{print $3}') on 127.0.0.1:$prom_port, rules of docs/prometheus"

# A node's results of an earlier run would pass for this one's until run.sh clears them.
for n in "${nodes[@]}"; do rm -rf "$output/vm/fleet-$n/results"; done
for n in "${nodes[@]}"; do
	"$here/run.sh" --output "$output" --kernel "${kernel[$n]}" --fleet --name "fleet-$n" \
		--topology "${topology[$n]}" --mgmt-port "${port[$n]}" node > "$logs/fleet-$n.log" 2>&1 &
	lab_pid[$n]=$!
done

# ready FIELD NODE: a field of what the node's guest did.
ready() { jq -r ".$1" "$output/vm/fleet-$2/results/node/ready"; }
for n in "${nodes[@]}"; do
	until [ -f "$output/vm/fleet-$n/results/node/ready" ]; do
		kill -0 "${lab_pid[$n]}" 2>/dev/null || fail "$n ended before its workload was ready"
		[ -f "$output/vm/fleet-$n/results/node.rc" ] && fail "$n's scenario ended before its workload was ready"
		sleep 1
	done
	echo "$n ready: $(jq -c . "$output/vm/fleet-$n/results/node/ready")"
done

# Wait until Prometheus holds a sample of each node taken after its workload.
maps_q() { echo "sum(ioguard_iommu_op_size_bytes_bucket{instance=\"$1\",op=\"map\",group=\"$(ready group "$1")\",le=\"4096\"})"; }
for n in "${nodes[@]}"; do
	wait_for_query "$(maps_q $n)" "$(ready maps_4k $n)" 60 ||
		fail "$n: $(maps_q $n) is $(query "$(maps_q $n)") after 60 s, its workload made $(ready maps_4k $n)"
done

assert "both nodes up" 'count(up{job="ioguard"} == 1)' "v == 2"
for n in "${nodes[@]}"; do
	g=$(ready group $n)
	assert "$n: 4 KiB maps of group $g equal its workload's" "$(maps_q $n)" "v == $(ready maps_4k $n)"
	assert "$n: group $g is viable under the kernel's rule" \
		"ioguard_group_viable{instance=\"$n\",group=\"$g\",rule=\"kernel\"}" "v == 1"
	assert "$n: no event lost" "sum(ioguard_events_lost_total{instance=\"$n\"}) or vector(0)" "v == 0"
	assert "$n: the policy in force is the node's own file" \
		"count(ioguard_enforcement_policy_info{instance=\"$n\",sha256=\"$(ready policy_sha256 $n)\"} == 1)" "v == 1"
done
assert "node-a: its policy enforces" \
	"count(ioguard_enforcement_policy_info{instance=\"node-a\",mode=\"enforce\"})" "v == 1"
assert "node-b: its policy audits" \
	"count(ioguard_enforcement_policy_info{instance=\"node-b\",mode=\"audit\"})" "v == 1"
assert "node-a: edu's group is viable under the strict rule" \
	"ioguard_group_viable{instance=\"node-a\",group=\"$(ready group node-a)\",rule=\"strict\"}" "v == 1"
assert "node-b: edu's group is not viable under the strict rule" \
	"ioguard_group_viable{instance=\"node-b\",group=\"$(ready group node-b)\",rule=\"strict\"}" "v == 0"
assert "node-a: the map outside the window denied" \
	'sum(ioguard_policy_decisions_total{instance="node-a",decision="deny",reason="iova_window"})' "v >= $(ready denied node-a)"
assert "the fleet: denials on node-a only" \
	'count(sum by (instance) (ioguard_policy_decisions_total{decision="deny"}) > 0)' "v == 1"
assert "node-b: the non-viable group's use audited, not denied" \
	'sum(ioguard_policy_decisions_total{instance="node-b",decision="audit",reason="group_not_viable"})' "v >= 1"

# IoguardNonViableGroupInUse has "for: 1m": pending first, firing a minute later.
alert_q() { echo "count(ALERTS{alertname=\"$1\",alertstate=\"$2\",instance=\"$3\"}) or vector(0)"; }
wait_for_query "$(alert_q IoguardNonViableGroupInUse firing node-b)" 1 150 ||
	fail "IoguardNonViableGroupInUse is not firing for node-b after 150 s: $(query 'count(ALERTS{alertname="IoguardNonViableGroupInUse"}) or vector(0)') series of it"
echo "ok: IoguardNonViableGroupInUse fires for node-b (group $(ready group node-b))"
assert "IoguardNonViableGroupInUse names node-b's group" \
	"count(ALERTS{alertname=\"IoguardNonViableGroupInUse\",alertstate=\"firing\",instance=\"node-b\",group=\"$(ready group node-b)\"})" "v == 1"
assert "IoguardNonViableGroupInUse not for node-a" \
	'count(ALERTS{alertname="IoguardNonViableGroupInUse",instance="node-a"}) or vector(0)' "v == 0"
# Both hold for a limited time after node-b's decision (10 min, 15 min); node-a may have
# been ready long after node-b on a loaded machine: whether they fired at all since.
assert "IoguardNonViableGroupAudited fired for node-b" \
	'max(max_over_time(ALERTS{alertname="IoguardNonViableGroupAudited",alertstate="firing",instance="node-b"}[30m])) or vector(0)' "v == 1"
assert "IoguardNonViableGroupAudited not for node-a" \
	'count(ALERTS{alertname="IoguardNonViableGroupAudited",instance="node-a"}) or vector(0)' "v == 0"
assert "IoguardPolicyMismatch pending: two policies in the fleet" \
	'max(max_over_time(ALERTS{alertname="IoguardPolicyMismatch",alertstate="pending"}[30m])) or vector(0)' "v == 1"
assert "IoguardPolicyAuditOnly pending for node-b only (for: 1h)" \
	'count(ALERTS{alertname="IoguardPolicyAuditOnly",alertstate="pending",instance="node-b"}) + count(ALERTS{alertname="IoguardPolicyAuditOnly"})' "v == 2"
assert "IoguardDown silent" 'count(ALERTS{alertname="IoguardDown"}) or vector(0)' "v == 0"
# Both nodes isolate (the emulated VT-d, DMA domains, IRQ remapping, the BPF LSM on) and
# both have a policy in force: no rule of the isolation group may even be pending.
assert "no isolation alert on either node" \
	"count(ALERTS{alertname=~\"$(rule_alert_names "$repo/docs/prometheus/isolation-rules.yml")\"}) or vector(0)" "v == 0"
# What the DaemonSet's readiness probe asks each node (deploy/kubernetes/base).
for n in "${nodes[@]}"; do
	code=$(curl -s -o "$tmp/readyz-$n" -w '%{http_code}' --max-time 10 "http://127.0.0.1:${port[$n]}/readyz")
	[ "$code" = 200 ] && grep -q "sha256 $(ready policy_sha256 $n) in force" "$tmp/readyz-$n" ||
		fail "$n: /readyz answered $code: $(cat "$tmp/readyz-$n")"
	echo "ok: $n: /readyz $code: $(cat "$tmp/readyz-$n")"
done
# The policy update as the kubelet makes it on node-a (tests/vm/fleet/node.sh).
a_work="$output/vm/fleet-node-a/results/node"
touch "$a_work/swap"
until [ -f "$a_work/swapped" ]; do
	kill -0 "${lab_pid[node-a]}" 2>/dev/null || fail "node-a ended before its policy update"
	[ -f "$output/vm/fleet-node-a/results/node.rc" ] && fail "node-a's scenario ended before its policy update"
	sleep 1
done
new_sha=$(jq -r .policy_sha256 "$a_work/swapped")
wait_for_query "count(ioguard_enforcement_policy_info{instance=\"node-a\",sha256=\"$new_sha\"} == 1)" 1 60 ||
	fail "node-a: the updated policy ($new_sha) is not the one in force after 60 s"
echo "ok: node-a: the ConfigMap-style update is in force: sha256 $new_sha"
assert "node-a: the updated file is not refused" 'ioguard_policy_file_refused{instance="node-a"}' "v == 0"
assert "node-a: the update counted as a reload" \
	'ioguard_policy_reloads_total{instance="node-a",result="ok"}' "v == 1"
wait_for_query "sum(ioguard_policy_decisions_total{instance=\"node-a\",decision=\"deny\",reason=\"iova_window\"})" \
	"$(jq -r .denied "$a_work/swapped")" 60 ||
	fail "node-a: the narrower window's denial was not counted"
assert "node-a: the narrower window denied a map the old one allowed" \
	'sum(ioguard_policy_decisions_total{instance="node-a",decision="deny",reason="iova_window"})' "v == $(jq -r .denied "$a_work/swapped")"
code=$(curl -s -o "$tmp/readyz-swapped" -w '%{http_code}' --max-time 10 "http://127.0.0.1:${port[node-a]}/readyz")
[ "$code" = 200 ] && grep -q "sha256 $new_sha in force" "$tmp/readyz-swapped" ||
	fail "node-a: /readyz after the update answered $code: $(cat "$tmp/readyz-swapped")"
echo "ok: node-a: /readyz names the updated policy"
curl -sf "http://127.0.0.1:$prom_port/api/v1/rules" | jq -r '[.data.groups[].rules[] | select(.health != "ok")] | length' > "$tmp/unhealthy" ||
	fail "cannot read the rules' health"
[ "$(cat "$tmp/unhealthy")" = 0 ] || fail "$(cat "$tmp/unhealthy") rule(s) failed to evaluate"
echo "ok: every shipped rule evaluates"
release ok
