#!/usr/bin/env bash
# ioguard plan's output, text and JSON, stdout and stderr and exit status, on the sysfs
# fixtures: the decisions and every message as operators and scripts read them. The
# expected output is plan_output.expected; after an intended change of the output,
#   IOGUARD=build/ioguard tests/cli/plan_output.sh --write
# rewrites it (review its diff).
. "$(dirname "$0")/lib.bash"
cd "$(dirname "$0")/../.." || exit 1
expected=tests/cli/plan_output.expected
fx=tests/fixtures/sysfs

# Each case: a fixture, then the arguments after `plan --sysfs FIXTURE`.
cases=(
	"q35-host -a vm1=0000:00:03.0"
	"q35-host -a vm1=0000:01:01.0"
	"q35-host -a vm1=0000:01:01.0,0000:01:02.0"
	"q35-host -a vm1=0000:01:01.0 -a vm1=0000:01:02.0"
	"q35-host -a vm1=0000:01:01.0 -a vm2=0000:01:02.0"
	"q35-host -a vm1=0000:00:1f.2"
	"q35-host -a vm1=0000:00:03.0 -a vm2=0000:00:1f.0,0000:00:1f.2,0000:00:1f.3"
	"q35-one-vfio -a vm1=0000:01:01.0 -a vm2=0000:00:03.0"
	"q35-one-unbound -a vm1=0000:01:01.0"
	"q35-both-vfio -a vm1=0000:01:01.0,0000:01:02.0 -a vm2=0000:00:03.0"
	"q35-both-vfio -a vm1=0000:01:01.0 -a vm2=0000:01:02.0"
	"lab-iommufd-one-vfio -a lab=0000:00:03.0"
	"q35-host -a vm1=0000:09:00.0"
	"q35-host -a vm1=0000:00:03.0 -a vm2=0000:00:03.0"
	"q35-host -a vm1=0000:00:03.0,0000:00:03.0"
	"q35-host -a =0000:00:03.0"
	"q35-host -a vm1="
	"q35-host -a vm1"
	"q35-host"
	"q35-host -a vm1=0000:00:03.0 extra"
	"odd-garbage-class -a vm1=0000:00:03.0"
	"no-such-fixture -a vm1=0000:00:03.0"
)

# run_case JSON FIXTURE ARGS...: the output block of one case.
run_case() {
	local json=$1 fixture=$2 out rc
	shift 2
	out=$("$IOGUARD" $json plan --sysfs "$fx/$fixture" "$@" 2>&1)
	rc=$?
	printf '### %s plan --sysfs %s %s\n%s\nexit %s\n' "${json:--}" "$fixture" "$*" "$out" "$rc"
}

all_cases() {
	local c json
	for json in "" --json; do
		for c in "${cases[@]}"; do
			# shellcheck disable=SC2086
			run_case "$json" $c
		done
	done
}

if [ "${1:-}" = --write ]; then
	all_cases > "$expected"
	exit 0
fi

actual=$(all_cases)
# Compare case by case, so a failure names the case.
mapfile -t heads < <(grep '^### ' "$expected")
for head in "${heads[@]}"; do
	want=$(awk -v h="$head" '$0 == h {on = 1; print; next} /^### / {on = 0} on' "$expected")
	got=$(awk -v h="$head" '$0 == h {on = 1; print; next} /^### / {on = 0} on' <<< "$actual")
	if [ "$want" = "$got" ]; then
		result "${head#\#\#\# }" 0
	else
		result "${head#\#\#\# }" 1 "$(diff <(echo "$want") <(echo "$got") | head -20)"
	fi
done
[ "$(grep -c '^### ' <<< "$actual")" = "${#heads[@]}" ] ||
	result "every case has an expected output" 1 "$expected is out of date"
finish
