#!/bin/bash
# SIGKILL of the loader at any point of a load: afterwards either the old or the new
# policy is fully in force, status says which, and the kernel's answers match it. Both
# for swaps (A <-> B) and for a first load (nothing -> A): 12 and 6 kills per kernel, on
# four kernels in CI's 90 minutes. The kill points are drawn uniformly over the time a
# whole load takes on this guest, measured first, so kills land both before and after
# the point where the new policy becomes whole.
# lab-timeout: 900
. "$REPO/tests/vm/lib.sh"
skip_unless_debian_kernel
trap 'cleanup_trace; policy_unload' EXIT

bdf=$(find_device_by_id 1234 11e8) || skip "no edu (1234:11e8) device in this guest"
bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
a=$(window_policy kill-a 0x100000 0x1fffff)
b=$(window_policy kill-b 0x200000 0x2fffff)
hash_a=$(sha256sum "$a" | cut -d' ' -f1)
hash_b=$(sha256sum "$b" | cut -d' ' -f1)
# No interpreter per call: under TCG a python3 start costs seconds, four per kill.
in_force() {	# the sha256 of the policy in force, or "none"
	local hash
	hash=$("$IOGUARD" status | sed -n 's/^sha256: *//p')
	echo "${hash:-none}"
}
maps_at() {	# 0 if a one-page map at IOVA $1 is allowed
	local errno
	"$LAB_TOOLS/vfio_workload" type1 "$bdf" --pages 1 --iova "$1" > "$work/probe.json"
	errno=$(sed -n 's/.*"errno":\(-\{0,1\}[0-9][0-9]*\).*/\1/p' "$work/probe.json")
	[ -n "$errno" ] || fail "the probe at $1 printed no errno: $(cat "$work/probe.json")"
	[ "$errno" = 0 ]
}
load_ms() {	# load_ms FILE: loads FILE whole and sets $ms to the wall time it took
	local t0=$(date +%s%N)
	"$IOGUARD" load "$1" > "$work/timed-load.out" 2>&1 ||
		fail "loading $1 to time it failed: $(cat "$work/timed-load.out")"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
kill_load_at_random() {	# kill_load_at_random FILE MAX_MS
	local pid ms=$((RANDOM * 32768 + RANDOM))
	ms=$((ms % ($2 + 1)))
	"$IOGUARD" load "$1" > /dev/null 2>&1 &
	pid=$!
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
}

policy_load "$a"
load_ms "$b"
swap_ms=$((ms + ms / 4))
note "a whole swap took $ms ms here; kills are drawn from 0 to $swap_ms ms"
old=0 new=0
for i in $(seq 1 12); do
	if [ "$(in_force)" = "$hash_a" ]; then target=$b; else target=$a; fi
	before=$(in_force)
	kill_load_at_random "$target" "$swap_ms"
	now=$(in_force)
	case "$now" in
	"$hash_a") maps_at 0x100000 || fail "swap $i: status says A but A's IOVA is denied" ;;
	"$hash_b") maps_at 0x100000 && fail "swap $i: status says B but A's IOVA is allowed" ;;
	*) fail "swap $i: after SIGKILL the policy in force is '$now', neither A nor B" ;;
	esac
	if [ "$now" = "$before" ]; then old=$((old + 1)); else new=$((new + 1)); fi
done
note "swaps killed: 12; old policy kept $old times, new policy complete $new times"

"$IOGUARD" unload > /dev/null 2>&1
load_ms "$a"
first_ms=$((ms + ms / 4))
note "a whole first load took $ms ms here; kills are drawn from 0 to $first_ms ms"
none=0 loaded=0
for i in $(seq 1 6); do
	"$IOGUARD" unload > /dev/null 2>&1
	kill_load_at_random "$a" "$first_ms"
	now=$(in_force)
	case "$now" in
	none) maps_at 0x300000 || fail "first load $i: no policy in force but 0x300000 is denied"
	      none=$((none + 1)) ;;
	"$hash_a") maps_at 0x300000 && fail "first load $i: A in force but 0x300000 is allowed"
	      loaded=$((loaded + 1)) ;;
	*) fail "first load $i: after SIGKILL the policy in force is '$now'" ;;
	esac
done
note "first loads killed: 6; nothing in force $none times, A complete $loaded times"
restore_driver "$bdf"
