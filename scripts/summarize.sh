#!/usr/bin/env bash
# Adds up the suites' "passed failed skipped" files and prints the closing line. A suite
# that was expected but left no file (it could not run at all) counts as one failure.
#   summarize.sh RESULTS_DIR [EXPECTED_SUITE...]
set -uo pipefail
dir=${1:?usage: summarize.sh RESULTS_DIR [SUITE...]}
shift
passed=0 failed=0 skipped=0
for suite in "$@"; do
	[ -f "$dir/$suite" ] || { echo "FAIL suite $suite left no result"; failed=$((failed + 1)); }
done
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	read -r p x s < "$f"
	echo "suite $(basename "$f"): $p passed, $x failed, $s skipped"
	passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + s))
done
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran"
	failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
