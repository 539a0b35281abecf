#!/bin/bash
# Runs as PID 1 inside the lab guest, in the host's root (read-only 9p + tmpfs overlay).
# Reads the plan written by tests/vm/run.sh, prepares the kernel (filesystems, modules,
# drivers), runs each scenario with a timeout and records NAME.rc and NAME.log in the
# results share, then powers the guest off.
lab=${1:-/run/ioguard-lab}
# shellcheck source=/dev/null
. "$lab/plan"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LAB_RESULTS=$lab REPO OUTPUT KERNEL_FLAVOUR MODULES_ROOT LAB_NODE BENCH_CONFIGS
export IOGUARD="$OUTPUT/ioguard" LAB_TOOLS="$OUTPUT/lab" LAB_TOOLS32="$OUTPUT/lab32"

# sysrq o powers off from a kernel worker while this shell, PID 1, goes on; the shutdown
# takes the 9p root away first, so an external sleep fails to execute, PID 1 exits and
# the kernel panics ("Attempted to kill init"). Wait with builtins only, on a FIFO
# opened beforehand, so PID 1 outlives the power-off; exit (and panic) only if nothing
# happens for 30 s.
power_off() {
	local fifo=/run/ioguard-power-off.fifo
	sync
	if rm -f "$fifo" && mkfifo "$fifo" && exec 9<> "$fifo"; then
		echo o > /proc/sysrq-trigger
		read -r -t 30 -u 9 _
	else
		echo o > /proc/sysrq-trigger
		sleep 30
	fi
}
trap power_off EXIT

# No tmpfs on /tmp or /run: the overlay is writable already, and the repository (and so
# the build) may live under them, as a CI clone in /tmp does.
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
echo 1 > /proc/sys/kernel/sysrq
# devtmpfs has no /dev/fd; bash process substitution needs it.
ln -sf /proc/self/fd /dev/fd
uname -r > "$lab/kernel-release"

if [ -n "$MODULES_ROOT" ]; then
	# Debian's kernel: VFIO is modular. The host drivers of the lab's devices are loaded
	# the way udev would, from each unbound device's modalias.
	for m in vfio vfio_iommu_type1 vfio-pci; do
		modprobe -d "$MODULES_ROOT" "$m" || echo "guest: modprobe $m failed"
	done
	for dev in /sys/bus/pci/devices/*; do
		[ -e "$dev/driver" ] && continue
		modprobe -d "$MODULES_ROOT" -q "$(cat "$dev/modalias")" 2>/dev/null
	done
fi

# The management NIC (virtio-net, QEMU user networking; see run.sh): 10.0.2.15/24, the
# address QEMU's hostfwd forwards to. Loopback too, which nothing else brings up here.
ip link set lo up
[ -n "$MODULES_ROOT" ] && modprobe -d "$MODULES_ROOT" virtio_net
mgmt_if=""
for i in $(seq 1 50); do
	for n in /sys/class/net/*; do
		[ "$(basename "$(readlink -f "$n/device/driver" 2>/dev/null)")" = virtio_net ] &&
			mgmt_if=$(basename "$n")
	done
	[ -n "$mgmt_if" ] && break
	sleep 0.1
done
if [ -n "$mgmt_if" ]; then
	ip link set "$mgmt_if" up && ip addr add 10.0.2.15/24 dev "$mgmt_if" &&
		echo "$mgmt_if" > "$lab/mgmt-if"
else
	echo "guest: no virtio-net management interface" > /dev/console
fi

# The second vCPU is online only for scenarios that race two CPUs ("# lab-cpus: 2").
# Two lanes of guests with both online, on a two-CPU host, ran everything about a third
# slower than with one (a policy load 32-41 s against 23-36 s; every text patch of a
# trampoline attach waits for the other vCPU's thread to be scheduled); an offline
# vCPU's thread sleeps. Without CPU hotplug both stay online, as before.
second_cpu=/sys/devices/system/cpu/cpu1/online
set_second_cpu() { [ -w "$second_cpu" ] && echo "$1" > "$second_cpu" 2> /dev/null; }
[ "$MODE" = demo ] || set_second_cpu 0

for s in $SCENARIOS; do
	log="$lab/$s.log"
	if [ "$MODE" = demo ]; then
		bash "$REPO/tests/vm/demo.sh" 2>&1 | tee "$log"
		echo "${PIPESTATUS[0]}" > "$lab/$s.rc"
		continue
	fi
	echo "lab: scenario $s" > /dev/console
	# A scenario may ask for more time with a "# lab-timeout: SECONDS" line.
	script="$REPO/tests/vm/${SCENARIO_DIR:-scenarios}/$s.sh"
	limit=$(sed -n 's/^# lab-timeout: *\([0-9][0-9]*\)$/\1/p' "$script")
	cpus=$(sed -n 's/^# lab-cpus: *\([0-9]\)$/\1/p' "$script")
	[ "${cpus:-1}" -ge 2 ] && set_second_cpu 1
	started=$(date +%s)
	timeout --kill-after=5 "${limit:-$SCENARIO_TIMEOUT}" bash "$script" > "$log" 2>&1 < /dev/null
	echo $? > "$lab/$s.rc"
	[ "${cpus:-1}" -ge 2 ] && set_second_cpu 0
	# Guest seconds per scenario, so the CI budget is managed by measurement.
	echo $(($(date +%s) - started)) > "$lab/$s.seconds"
	echo "lab: scenario $s exit $(cat "$lab/$s.rc")" > /dev/console
done
