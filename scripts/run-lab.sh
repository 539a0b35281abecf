#!/usr/bin/env bash
# Runs the lab's scenarios on several kernels, LAB_LANES (default 2) guests at a time.
# Each guest is TCG and keeps about one host CPU busy, so two lanes on a two-CPU machine
# take less time than one after the other. Each kernel's report is printed whole once it
# finishes, so reports never interleave. Give the longest kernels first.
#   run-lab.sh OUTPUT KERNEL...
set -uo pipefail
output=${1:?usage: run-lab.sh OUTPUT KERNEL...}
shift
lanes=${LAB_LANES:-2}
case "$lanes" in
[1-9]|[1-9][0-9]) ;;
*) echo "run-lab: LAB_LANES must be a number from 1 to 99, not '$lanes'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
logs="$output/lab-logs"
mkdir -p "$logs"

# Every kernel is prepared first, one at a time: a cold cache builds kernels with all
# CPUs, and a lane must not time out waiting for another lane's build.
for k in "$@"; do
	"$here/kernel-cache.sh" "$k" > /dev/null || { echo "run-lab: cannot prepare the $k kernel" >&2; exit 1; }
done

# A lane takes the next kernel as soon as it is free, so one long kernel does not hold
# the other lane idle; each report is printed whole when its kernel finishes.
status=0
declare -A lane_kernel=()
report_one() {
	local pid k rc
	wait -n -p pid "${!lane_kernel[@]}"
	rc=$?
	k=${lane_kernel[$pid]}
	unset "lane_kernel[$pid]"
	[ $rc -eq 0 ] || status=1
	echo "== lab, $k kernel"
	cat "$logs/$k.log"
}
for k in "$@"; do
	[ ${#lane_kernel[@]} -lt "$lanes" ] || report_one
	"$here/../tests/vm/run.sh" --output "$output" --kernel "$k" --all > "$logs/$k.log" 2>&1 &
	lane_kernel[$!]=$k
done
while [ ${#lane_kernel[@]} -gt 0 ]; do
	report_one
done
exit $status
