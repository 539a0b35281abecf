#!/usr/bin/env bash
# Runs the unit tests: every cmocka binary under valgrind (leaks and invalid accesses fail
# it) and again in its ASan/UBSan build, then the command-line tests in tests/cli/.
# Writes "passed failed skipped" to OUTPUT/results/unit and prints the same counts.
#   run-unit.sh OUTPUT [--valgrind-one]
# --valgrind-one: only the first binary under valgrind, the others run as they are
# (scripts/check-fresh.sh: proves valgrind works on a fresh machine; the memcheck of
# every binary is make check's, on the same code).
set -uo pipefail
output=${1:?usage: run-unit.sh OUTPUT [--valgrind-one]}
valgrind_one=0
[ "${2:-}" = --valgrind-one ] && valgrind_one=1
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
mkdir -p "$output/results" "$output/unit-logs"
passed=0 failed=0 skipped=0

count_cmocka() {
	local log=$1 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	echo "$p $f"
}

for bin in "$output"/tests/test_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	log="$output/unit-logs/$name.log"
	under=valgrind
	if [ $valgrind_one = 1 ] && [ -n "${valgrind_done:-}" ]; then
		under=native
		"$bin" > "$log" 2>&1
		rc=$?
	else
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 "$bin" > "$log" 2>&1
		rc=$?
		valgrind_done=1
	fi
	if [ $rc -eq 77 ]; then
		echo "SKIP $name: $(grep -m1 'SKIP' "$log")"
		skipped=$((skipped + 1))
		continue
	fi
	read -r p f < <(count_cmocka "$log")
	# A cmocka case that cannot run here prints "SKIP <case>: <reason>" and skip()s.
	grep '^SKIP ' "$log" | sed "s/^SKIP /SKIP $name: /"
	skipped=$((skipped + $(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')))
	if [ $rc -eq 99 ]; then
		echo "FAIL $name: valgrind found errors"
		f=$((f + 1))
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit $rc"
		f=$((f + 1))
	fi
	[ "$f" -gt 0 ] && sed 's/^/    | /' "$log" | tail -n 40
	echo "unit $name: $p passed, $f failed ($under)"
	passed=$((passed + p)) failed=$((failed + f))

	san="$output/tests-san/$name"
	if [ -x "$san" ]; then
		"$san" > "$log.san" 2>&1
		rc=$?
		# A test that failed above fails here too: only a sanitizer's report adds to it.
		if [ $rc -ne 0 ] && [ $rc -ne 77 ] && { [ "$f" -eq 0 ] ||
			grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log.san"; }; then
			echo "FAIL $name: the ASan/UBSan build failed (exit $rc)"
			sed 's/^/    | /' "$log.san" | tail -n 40
			failed=$((failed + 1))
		fi
	fi
done

for t in tests/cli/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log="$output/unit-logs/cli-$name.log"
	IOGUARD="$output/ioguard" bash "$t" > "$log" 2>&1
	rc=$?
	# Exit 77: the whole test cannot run here; its SKIP line says why.
	if [ $rc -eq 77 ]; then
		echo "SKIP cli $name: $(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:\{0,1\} *//')"
		skipped=$((skipped + 1))
		continue
	fi
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	# A check that cannot run here prints "SKIP ...: reason".
	grep '^SKIP' "$log" | sed "s/^SKIP:\{0,1\} */SKIP cli $name: /"
	skipped=$((skipped + $(grep -c '^SKIP' "$log")))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -gt 0 ] && sed 's/^/    | /' "$log" | tail -n 40
	echo "cli $name: $p passed, $f failed"
	passed=$((passed + p)) failed=$((failed + f))
done

echo "$passed $failed $skipped" > "$output/results/unit"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
