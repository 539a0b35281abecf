#!/usr/bin/env bash
# Runs the lab's scenarios on several kernels, LAB_LANES (default 2) guests at a time.
# Each guest is TCG and keeps about one host CPU busy, so two lanes on a two-CPU machine
# take about half the time of one after the other. Each kernel's report is printed whole
# once it finishes, so reports never interleave.
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

status=0
running=()
report() {
	local k=$1 pid=$2
	wait "$pid" || status=1
	echo "== lab, $k kernel"
	cat "$logs/$k.log"
}
for k in "$@"; do
	while [ ${#running[@]} -ge "$lanes" ]; do
		# The oldest lane is reported first, so the output follows the kernel order.
		report "${running[0]%%:*}" "${running[0]#*:}"
		running=("${running[@]:1}")
	done
	"$here/../tests/vm/run.sh" --output "$output" --kernel "$k" --all > "$logs/$k.log" 2>&1 &
	running+=("$k:$!")
done
for r in "${running[@]}"; do
	report "${r%%:*}" "${r#*:}"
done
exit $status
