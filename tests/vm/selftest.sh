#!/usr/bin/env bash
# Tests of the lab harness itself: a hung scenario and a hung guest are stopped and
# reported, never waited on forever; a kernel that panics before the guest reaches its
# scenarios is shown and booted once more. Writes "passed failed skipped" to
# OUTPUT/results/vm-harness.
set -uo pipefail
output=${1:?usage: selftest.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$output/results"
passed=0 failed=0

expect() {	# expect NAME LOG PATTERN
	if grep -qE -- "$3" "$2"; then
		echo "ok $1"
		passed=$((passed + 1))
	else
		echo "not ok $1: no line matching '$3' in:"
		sed 's/^/    | /' "$2" | tail -n 20
		failed=$((failed + 1))
	fi
}

log=$(mktemp)
LAB_SELFTEST_EARLY_PANIC=1 "$here/run.sh" --output "$output" --kernel iommufd --selftest scenario-hangs passes > "$log" 2>&1
expect "an early kernel panic is shown and the guest booted again" "$log" '^lab: iommufd: the kernel panicked before the guest reached its scenarios; booting once more'
expect "the panicked boot's console is shown" "$log" 'Kernel panic'
expect "a hung scenario is stopped and fails" "$log" '^FAIL iommufd/scenario-hangs \([0-9]+ s\): exit 124 \(the scenario ran out of time\)'
expect "the next scenario still runs" "$log" '^PASS iommufd/passes'
expect "the run fails" "$log" '^1 passed, 1 failed'

start=$(date +%s)
LAB_TIMEOUT=30 "$here/run.sh" --output "$output" --kernel iommufd --selftest guest-hangs > "$log" 2>&1
took=$(( $(date +%s) - start ))
expect "a hung guest is killed and reported" "$log" '^FAIL iommufd/guest-hangs: guest killed after 30s timeout'
if [ $took -lt 120 ]; then
	echo "ok the hung guest was not waited on (${took}s)"
	passed=$((passed + 1))
else
	echo "not ok the hung guest took ${took}s"
	failed=$((failed + 1))
fi
rm -f "$log"
echo "$passed $failed 0" > "$output/results/vm-harness"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
