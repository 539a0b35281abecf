#!/usr/bin/env bash
# Runs every libFuzzer target in OUTPUT/fuzz/bin for SECONDS each (--smoke: SECONDS in
# total, shared among the targets) on its corpus in OUTPUT/fuzz/corpus/TARGET, seeded from
# the files below; crash, leak and timeout inputs go to OUTPUT/fuzz/artifacts/TARGET/.
# Prints executions per target; writes "passed failed skipped" (one per target) to
# OUTPUT/results/fuzz.
#   run-fuzz.sh OUTPUT SECONDS [--smoke]
set -uo pipefail
output=${1:?usage: run-fuzz.sh OUTPUT SECONDS [--smoke]}
seconds=${2:?usage: run-fuzz.sh OUTPUT SECONDS [--smoke]}
smoke=${3:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
mkdir -p "$output/results" "$output/fuzz/logs"

# Seed directories of each target (read only; new units go to the corpus): its own
# tests/fuzz/seeds/TARGET, which holds the regression inputs of what fuzzing found, and
# the policy examples for the parser. A dictionary is tests/fuzz/TARGET.dict.
seeds_of() {
	case $1 in
	fuzz_policy) echo tests/policies/good tests/policies/bad policies ;;
	*) ;;
	esac
	if [ -d "tests/fuzz/seeds/$1" ]; then
		echo "tests/fuzz/seeds/$1"
	fi
}

bins=()
for bin in "$output"/fuzz/bin/fuzz_*; do
	[ -x "$bin" ] && bins+=("$bin")
done
if [ ${#bins[@]} -eq 0 ]; then
	echo "fuzz: no target in $output/fuzz/bin" >&2
	echo "0 1 0" > "$output/results/fuzz"
	exit 1
fi
per=$seconds
[ "$smoke" = --smoke ] && per=$(( seconds / ${#bins[@]} > 0 ? seconds / ${#bins[@]} : 1 ))

passed=0 failed=0
for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	corpus="$output/fuzz/corpus/$name"
	artifacts="$output/fuzz/artifacts/$name"
	log="$output/fuzz/logs/$name.log"
	mkdir -p "$corpus" "$artifacts"
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	# shellcheck disable=SC2046
	nice -n 19 "$bin" -max_total_time="$per" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
		"$corpus" $(seeds_of "$name") > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	units=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ${execs:-0} executions in ${per} s, corpus $units units, no crash"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz $name: exit $rc after ${execs:-?} executions; artefacts in $artifacts"
		grep -m1 -E 'ERROR: |runtime error|fuzz_[a-z_]+: ' "$log" | sed 's/^/    | /'
		ls "$artifacts" | sed 's/^/    | /' | tail -n 3
		failed=$((failed + 1))
	fi
done
echo "$passed $failed 0" > "$output/results/fuzz"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
