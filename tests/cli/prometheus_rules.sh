#!/bin/bash
# The alert rules of docs/prometheus/ (one per "no isolation" condition and drift):
# promtool accepts them, their unit tests (series in, alerts out) pass, and every
# ioguard family they use is documented in docs/metrics.md or docs/daemon.md.
# Prints "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
docs="$(cd "$(dirname "$0")/../../docs" && pwd)"
rules="$docs/prometheus/isolation-rules.yml"

if ! command -v promtool > /dev/null; then
	echo "SKIP: no promtool (Debian's prometheus package, installed by scripts/deps.sh)"
	exit 77
fi
out=$(promtool check rules "$rules" 2>&1) && echo "ok promtool check rules" ||
	echo "not ok promtool check rules: $out"
out=$(cd "$docs/prometheus" && promtool test rules isolation-rules.test.yml 2>&1) &&
	echo "ok promtool test rules" || echo "not ok promtool test rules: $out"
for family in $(grep -o 'ioguard_[a-z_]*' "$rules" | sort -u); do
	if grep -qF "\`$family\`" "$docs/metrics.md" "$docs/daemon.md"; then
		echo "ok $family is documented"
	else
		echo "not ok $family is used by an alert but documented in neither metrics.md nor daemon.md"
	fi
done
