#!/usr/bin/env bash
# The lab: boots a real kernel under QEMU (TCG, q35, emulated Intel IOMMU) with the host's
# root shared read-only over 9p, runs scenarios inside the guest against real VFIO and
# iommufd, and reports each as PASS, FAIL or SKIP with its reason.
#
#   tests/vm/run.sh --kernel debian|debian-6.1|iommufd|iommufd-compat [--output DIR] --all | --demo | SCENARIO...
#   tests/vm/run.sh --kernel K --bench NAME...      benchmarks from tests/vm/bench/
#   tests/vm/run.sh --kernel K --icount --bench NAME...
#                                                   the same with one vCPU whose clock counts
#                                                   instructions (QEMU -icount shift=0: 1 ns
#                                                   = 1 instruction; docs/overhead.md);
#                                                   LAB_BENCH_CONFIGS="none metrics ..."
#                                                   measures only those configurations
#   tests/vm/run.sh --kernel K --selftest NAME...   the harness's own tests
#   tests/vm/run.sh --kernel K --utility NAME...    tools that check nothing, e.g.
#                                                   capture-sysfs (unit-test fixtures)
#   tests/vm/run.sh --kernel K --fleet --name N --topology T --mgmt-port P node
#                                                   one node of tests/vm/fleet.sh (its
#                                                   results in OUTPUT/vm/N, not vm/K)
#
# Topology (documented in docs/lab.md; scenarios discover it, never hard-code it):
#   lab (the default):
#   00:02.0 pci-bridge  -> 01:01.0 e1000, 01:02.0 e1000   one IOMMU group of three
#   00:03.0 edu (1234:11e8, can DMA)                      alone in its group
#   shared-edu (the fleet's second node):
#   00:02.0 pci-bridge  -> 01:01.0 e1000, 01:02.0 edu     edu shares its group
#   00:03.0 e1000                                         alone in its group
#
# Management NIC: virtio-net on QEMU user networking (guest 10.0.2.15/24, set up by
# guest.sh), its own IOMMU group, with the guest's port 9464 forwarded to a free port on
# the host's 127.0.0.1 (MGMT_PORT in the plan). Nothing else is reachable.
#
# Host companions: when tests/vm/host/NAME.sh exists for a scenario NAME, it runs on the
# host once the guest has booted, as `NAME.sh MGMT_PORT RESULTS_DIR`, with its output in
# NAME.host.log; the scenario passes only if the companion exits 0 too. Guest and host
# synchronise through files in RESULTS_DIR/NAME/ (the guest's $work).
#
# Every scenario writes NAME.rc and NAME.log into a results directory shared with the
# guest; the counts go to OUTPUT/results/vm-KERNEL as "passed failed skipped".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
output="$repo/build"
kernel=""
mode=tests
scenario_dir=scenarios
scenarios=()
# A whole --all run takes 20-40 min, longer while another lane shares the CPUs; each
# scenario has its own timeout, so this only catches a guest that stopped answering.
boot_timeout=${LAB_TIMEOUT:-5400}
scenario_timeout=${LAB_SCENARIO_TIMEOUT:-240}
icount=0
name=""
topology=lab
mgmt_port=""

die() { echo "lab: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:-}; shift 2 ;;
	--output) output=$(cd "${2:-}" && pwd) || die "no output directory '${2:-}'"; shift 2 ;;
	--all) mapfile -t scenarios < <(ls "$here/scenarios" | sed -n 's/\.sh$//p' | sort); shift ;;
	--bench) scenario_dir=bench; shift ;;
	--icount) icount=1; shift ;;
	--selftest) scenario_dir=selftest; shift ;;
	--utility) scenario_dir=utilities; shift ;;
	--fleet) scenario_dir=fleet; shift ;;
	--name) name=${2:-}; shift 2 ;;
	--topology) topology=${2:-}; shift 2 ;;
	--mgmt-port) mgmt_port=${2:-}; shift 2 ;;
	--demo) mode=demo; scenarios=(demo); shift ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) scenarios+=("$1"); shift ;;
	esac
done
case "$kernel" in
debian|debian-6.1|iommufd|iommufd-compat) ;;
*) die "--kernel must be debian, debian-6.1, iommufd or iommufd-compat, not '${kernel}'" ;;
esac
case "$topology" in
lab | shared-edu) ;;
*) die "--topology must be lab or shared-edu, not '$topology'" ;;
esac
case "$name" in
"") name=$kernel ;;
*[!a-z0-9-]*) die "--name takes lower-case letters, digits and '-' only, not '$name'" ;;
esac
[ -z "$mgmt_port" ] || { [[ $mgmt_port =~ ^[1-9][0-9]{0,4}$ ]] && [ "$mgmt_port" -le 65535 ]; } ||
	die "--mgmt-port must be a TCP port number (1-65535), not '$mgmt_port'"
[ ${#scenarios[@]} -gt 0 ] || die "no scenario given (use --all, --demo or names)"
for s in "${scenarios[@]}"; do
	[ "$mode" = demo ] || [ -f "$here/$scenario_dir/$s.sh" ] ||
		die "no scenario '$s' in $here/$scenario_dir"
done
[ -x "$output/ioguard" ] || die "$output/ioguard is not built (run make)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run scripts/deps.sh)"

lab="$output/vm/$name"
results="$lab/results"
rm -rf "$results"
mkdir -p "$results" "$output/results"

# --- kernel and initramfs ------------------------------------------------------------
kdir=$("$repo/scripts/kernel-cache.sh" "$kernel") || die "cannot prepare the $kernel kernel"
modules_root=""
if [ -f "$kdir/kernel-release" ]; then
	# A distribution kernel: modular, unpacked with its modules.
	vmlinuz="$kdir/vmlinuz"
	modules_root="$kdir/root"
	kver=$(cat "$kdir/kernel-release")
else
	vmlinuz="$kdir/bzImage"
fi

initrd="$lab/initramfs.cpio.gz"
staging="$lab/initramfs"
rm -rf "$staging"
mkdir -p "$staging/bin" "$staging/modules"
cp /bin/busybox "$staging/bin/busybox"
cp "$here/init" "$staging/init"
chmod +x "$staging/init"
: > "$staging/modules/order"
if [ -n "$modules_root" ]; then
	# The 9p and overlay modules must load before the host root is reachable; busybox
	# insmod cannot read .ko.xz (Debian's 6.12), so they go in decompressed, dependencies first. Debian's
	# 6.1 also has virtio's PCI transport as a module, which nothing depends on by name.
	moddep="$modules_root/lib/modules/$kver/modules.dep"
	builtin="$modules_root/lib/modules/$kver/modules.builtin"
	declare -A seen=()
	add_module() {
		local name=$1 path deps d
		path=$(grep -E "(^|/)${name}\.ko(\.xz)?:" "$moddep" | head -n 1 | cut -d: -f1)
		[ -n "$path" ] || die "module $name not found in $moddep"
		[ -z "${seen[$path]:-}" ] || return 0
		seen[$path]=1
		deps=$(grep -E "^${path}:" "$moddep" | cut -d: -f2)
		for d in $deps; do add_module "$(basename "$d" | sed 's/\.ko\(\.xz\)\?$//')"; done
		case "$path" in
		*.xz) xz -dc "$modules_root/lib/modules/$kver/$path" > "$staging/modules/$(basename "${path%.xz}")" ;;
		*) cp "$modules_root/lib/modules/$kver/$path" "$staging/modules/" ;;
		esac
		basename "${path%.xz}" >> "$staging/modules/order"
	}
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		grep -qE "(^|/)${m}\.ko$" "$builtin" || add_module "$m"
	done
fi
(cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd"

# A free TCP port on the host's loopback for the management NIC's forward, unless the
# caller chose one. Another process could take it before QEMU binds it; QEMU then fails
# to start, loudly.
[ -n "$mgmt_port" ] || mgmt_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
	die "cannot find a free port on 127.0.0.1"

# --- the plan the guest reads --------------------------------------------------------
{
	printf 'REPO=%q\n' "$repo"
	printf 'OUTPUT=%q\n' "$output"
	printf 'KERNEL_FLAVOUR=%q\n' "$kernel"
	printf 'MODULES_ROOT=%q\n' "$modules_root"
	printf 'SCENARIOS=%q\n' "${scenarios[*]}"
	printf 'SCENARIO_TIMEOUT=%q\n' "$scenario_timeout"
	printf 'SCENARIO_DIR=%q\n' "$scenario_dir"
	printf 'MODE=%q\n' "$mode"
	printf 'MGMT_PORT=%q\n' "$mgmt_port"
	printf 'LAB_NODE=%q\n' "$name"
	printf 'BENCH_CONFIGS=%q\n' "${LAB_BENCH_CONFIGS:-}"
} > "$results/plan"

# --- boot ------------------------------------------------------------------------------
# --icount: one vCPU and a guest clock that advances one ns per instruction executed
# (sleep=off: an idle guest's clock jumps to its next timer at once; align=off: never
# slowed to the host's clock), so guest-timed loops count instructions whatever the host's
# load. ioguard_lab.icount=1 on the command line tells the guest (a parameter of a module
# that does not exist, ignored by the kernel).
# Otherwise two vCPUs, the second offline except for the scenarios that race two CPUs
# (guest.sh, "# lab-cpus: 2").
# The devices of --topology, before any device QEMU places itself (the virtfs shares).
case "$topology" in
lab) topology_devices=(-device e1000,bus=br1,addr=1,netdev=n1 -device e1000,bus=br1,addr=2,netdev=n2
	-device edu,addr=3) ;;
shared-edu) topology_devices=(-device e1000,bus=br1,addr=1,netdev=n1 -device edu,bus=br1,addr=2
	-device e1000,addr=3,netdev=n2) ;;
esac
# no_timer_check: under TCG on a loaded host the boot-time IO-APIC timer probe can miss
# its ticks and, with interrupt remapping on, that is a panic.
cmdline="console=ttyS0 intel_iommu=on quiet panic=-1 no_timer_check"
smp=2 icount_append=""
[ $icount -eq 1 ] && smp=1 icount_append=" ioguard_lab.icount=1"
qemu=(qemu-system-x86_64 -M q35 -accel tcg -cpu max -smp $smp -m 2048 -no-reboot
	-kernel "$vmlinuz" -initrd "$initrd"
	-device intel-iommu
	-device pci-bridge,id=br1,chassis_nr=1,addr=2
	-netdev user,id=n1 -netdev user,id=n2 "${topology_devices[@]}"
	-device virtio-net-pci,addr=4,netdev=mgmt
	-netdev "user,id=mgmt,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:$mgmt_port-:9464"
	-nic none
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap"
)
[ $icount -eq 1 ] && qemu+=(-icount shift=0,sleep=off,align=off)
if [ "$mode" = demo ]; then
	# The console is the demo's screen: no option ROM banners, no terminal reset.
	qemu+=(-nographic -global e1000.romfile= -global virtio-net-pci.romfile=)
else
	qemu+=(-display none -monitor none -serial "file:$results/console.log")
fi

echo "lab: $([ "$name" = "$kernel" ] || echo "$name: ")booting the $kernel kernel ($(basename "$(readlink -f "$vmlinuz")")), ${#scenarios[@]} scenario(s)$([ $icount -eq 1 ] && echo ', -icount')" >&2
start=$(date +%s.%N)

boot_guest() {	# sets qemu_rc
	if [ "$mode" = demo ]; then
		timeout --kill-after=10 "$boot_timeout" "$@" < /dev/null
		qemu_rc=$?
		return
	fi
	timeout --kill-after=10 "$boot_timeout" "$@" < /dev/null &
	qemu_pid=$!
	# Host companions start once the guest has reached its root (init writes boot-seconds).
	declare -A companion_pids=()
	companions=()
	for s in "${scenarios[@]}"; do
		[ -f "$here/host/$s.sh" ] && companions+=("$s")
	done
	if [ ${#companions[@]} -gt 0 ]; then
		while kill -0 "$qemu_pid" 2>/dev/null && [ ! -f "$results/boot-seconds" ]; do
			sleep 0.2
		done
		if [ -f "$results/boot-seconds" ]; then
			for s in "${companions[@]}"; do
				bash "$here/host/$s.sh" "$mgmt_port" "$results" > "$results/$s.host.log" 2>&1 &
				companion_pids[$s]=$!
			done
		fi
	fi
	wait "$qemu_pid"
	qemu_rc=$?
	# A companion still running after the guest is gone has nothing left to wait for.
	for s in "${!companion_pids[@]}"; do
		pid=${companion_pids[$s]}
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill "$pid" 2>/dev/null
		wait "$pid"
		echo $? > "$results/$s.host.rc"
	done
}

# A kernel that panics before the guest's init reaches the host root has run none of
# ioguard's code: under TCG on a loaded host a distribution kernel very rarely dies in its
# own initcalls (seen once, in sched_init_debug). That boot is shown and the guest booted
# once more; a second early panic fails every scenario as before. LAB_SELFTEST_EARLY_PANIC
# makes the first boot panic on purpose (PID 1 exits at once), for the harness's self-test.
boot_guest "${qemu[@]}" -append "$cmdline$icount_append${LAB_SELFTEST_EARLY_PANIC:+ rdinit=/bin/busybox}"
if [ "$mode" != demo ] && [ $qemu_rc -ne 124 ] && [ $qemu_rc -ne 137 ] && [ ! -f "$results/boot-seconds" ] &&
	grep -q 'Kernel panic' "$results/console.log" 2>/dev/null; then
	echo "lab: $name: the kernel panicked before the guest reached its scenarios; booting once more. That boot's console:" >&2
	grep -E -m 12 'Kernel panic|BUG:|Oops|RIP:|invalid opcode|general protection|Call Trace' "$results/console.log" | sed 's/^/    # /' >&2
	mv "$results/console.log" "$results/console.early-panic.log"
	boot_guest "${qemu[@]}" -append "$cmdline$icount_append"
fi
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
timed_out=0
[ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ] && timed_out=1

if [ "$mode" = demo ]; then
	[ -f "$results/demo.rc" ] || die "the demo did not finish (guest exit $qemu_rc)"
	exit "$(cat "$results/demo.rc")"
fi

# --- report ----------------------------------------------------------------------------
passed=0 failed=0 skipped=0
[ -f "$results/boot-seconds" ] &&
	echo "lab: $name guest reached its scenarios $(cat "$results/boot-seconds") s after boot; total $(printf '%.1f' "$elapsed") s" >&2
for s in "${scenarios[@]}"; do
	rcfile="$results/$s.rc"
	log="$results/$s.log"
	if [ ! -f "$rcfile" ]; then
		if [ $timed_out -eq 1 ]; then why="guest killed after ${boot_timeout}s timeout"; else why="no result (guest exit $qemu_rc)"; fi
		echo "FAIL $name/$s: $why"
		failed=$((failed + 1))
		[ -f "$log" ] && sed 's/^/    | /' "$log" | tail -n 60
		echo "    console tail:"
		tail -n 30 "$results/console.log" 2>/dev/null | sed 's/^/    # /'
		continue
	fi
	rc=$(cat "$rcfile")
	took=""
	[ -f "$results/$s.seconds" ] && took=" ($(cat "$results/$s.seconds") s)"
	if [ "$rc" = 0 ] && [ -f "$here/host/$s.sh" ] && [ "$(cat "$results/$s.host.rc" 2>/dev/null)" != 0 ]; then
		echo "FAIL $name/$s: the host companion tests/vm/host/$s.sh failed (exit $(cat "$results/$s.host.rc" 2>/dev/null || echo none))"
		failed=$((failed + 1))
		sed 's/^/    | /' "$results/$s.host.log" | tail -n 60
		continue
	fi
	case "$rc" in
	0)
		echo "PASS $name/$s$took"
		# A scenario may pass with parts this kernel cannot run; those must stay visible.
		sed -n 's/^SKIP part: /    skipped part: /p' "$log"
		[ -f "$results/$s.host.log" ] && sed -n 's/^ok: /    host ok: /p' "$results/$s.host.log"
		# Benchmarks report their figures as lines starting with "bench ".
		[ "$scenario_dir" = bench ] && sed -n "s/^bench /  $kernel: /p" "$log"
		passed=$((passed + 1)) ;;
	77)
		echo "SKIP $name/$s$took: $(grep -m1 '^SKIP:' "$log" | sed 's/^SKIP: *//')"
		skipped=$((skipped + 1)) ;;
	*)
		[ "$rc" = 124 ] && rc="$rc (the scenario ran out of time)"
		echo "FAIL $name/$s$took: exit $rc"
		failed=$((failed + 1))
		sed 's/^/    | /' "$log" | tail -n 80 ;;
	esac
done
# Only the scenario suite counts towards make check's total; benchmarks and the
# harness's self-tests report their own way.
[ "$scenario_dir" = scenarios ] && echo "$passed $failed $skipped" > "$output/results/vm-$kernel"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
