#!/bin/bash
# The alert rules of docs/prometheus/ (isolation-rules.yml: one per "no isolation"
# condition and drift; fleet-rules.yml: the fleet's): promtool accepts each file, its
# unit tests (NAME.test.yml: series in, alerts out) pass, every alert has a test, and
# every ioguard family they use is documented in docs/metrics.md or docs/daemon.md.
# Prints "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
docs="$(cd "$(dirname "$0")/../../docs" && pwd)"

if ! command -v promtool > /dev/null; then
	echo "SKIP: no promtool (Debian's prometheus package, installed by scripts/deps.sh)"
	exit 77
fi
for rules in "$docs"/prometheus/*-rules.yml; do
	name=$(basename "$rules" .yml)
	tests="$docs/prometheus/$name.test.yml"
	out=$(promtool check rules "$rules" 2>&1) && echo "ok promtool check rules $name" ||
		echo "not ok promtool check rules $name: $out"
	if [ ! -f "$tests" ]; then
		echo "not ok $name has no unit tests ($tests)"
		continue
	fi
	out=$(cd "$docs/prometheus" && promtool test rules "$name.test.yml" 2>&1) &&
		echo "ok promtool test rules $name" || echo "not ok promtool test rules $name: $out"
	for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$rules"); do
		if grep -q "alertname: *$alert\$" "$tests"; then
			echo "ok $alert has a unit test"
		else
			echo "not ok $alert has no alert_rule_test in $(basename "$tests")"
		fi
	done
	for family in $(grep -o 'ioguard_[a-z_]*' "$rules" | sort -u); do
		if grep -qF "\`$family\`" "$docs/metrics.md" "$docs/daemon.md"; then
			echo "ok $family is documented"
		else
			echo "not ok $family is used by an alert but documented in neither metrics.md nor daemon.md"
		fi
	done
done
