# Shared by the conformance-* scenarios (sourced after lib.sh).

# Sets $edu and $pair and binds edu and every endpoint of the multi-device group to
# vfio-pci; the drivers are restored on exit.
conformance_setup() {
	local bdf
	edu=$(find_device_by_id 1234 11e8) || skip "no edu device (1234:11e8)"
	group=$(find_multi_device_group) || skip "no IOMMU group with two endpoints on host drivers"
	mapfile -t endpoints < <(group_endpoints "$group")
	pair="${endpoints[0]},${endpoints[1]}"
	note "single: $edu (group $(device_group "$edu")); pair: $pair (group $group, endpoints ${endpoints[*]})"
	trap 'for bdf in "$edu" "${endpoints[@]}"; do restore_driver "$bdf"; done; cleanup_trace' EXIT
	for bdf in "$edu" "${endpoints[@]}"; do
		bind_driver "$bdf" vfio-pci || fail "cannot bind $bdf to vfio-pci"
	done
}

kernel_max_alignment() {
	cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null || echo 4096
}

# conformance_run BACKEND: the backend, then sim, then the backend under valgrind; every
# run must pass and print the same lines.
conformance_run() {
	local be=$1 rc args=(--single "$edu" --pair "$pair")
	"$LAB_TOOLS/conformance" "$be" "${args[@]}" > "$work/$be.out" 2> "$work/$be.err"
	rc=$?
	cat "$work/$be.out" "$work/$be.err"
	[ $rc -eq 77 ] && skip "$(sed -n 's/^skip [^:]*: //p' "$work/$be.out" | head -n 1)"
	[ $rc -eq 0 ] || fail "conformance on $be: exit $rc, $(grep -c '^not ok' "$work/$be.out") scenario(s) failed"
	grep -q '^not ok' "$work/$be.out" && fail "conformance on $be printed 'not ok'"

	# The sim with the running kernel's cap of automatic IOVA alignment (HPAGE_SIZE with
	# transparent huge pages, 4 KiB without), which the kernel backends detect.
	"$LAB_TOOLS/conformance" sim "${args[@]}" --max-alignment "$(kernel_max_alignment)" \
		> "$work/sim.out" 2> "$work/sim.err"
	rc=$?
	[ $rc -eq 0 ] || { cat "$work/sim.out" "$work/sim.err"; fail "conformance on sim: exit $rc"; }
	# Failure details ("#   ") may differ; nothing else may.
	if ! diff -u <(grep -v '^#   ' "$work/sim.out") <(grep -v '^#   ' "$work/$be.out") > "$work/sim-vs-$be.diff"; then
		cat "$work/sim-vs-$be.diff"
		fail "sim and $be differ"
	fi
	echo "ok: sim and $be: $(grep -c '^ok ' "$work/$be.out") scenarios, identical verdicts, errnos and IOVA ranges"

	if command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			"$LAB_TOOLS/conformance" "$be" "${args[@]}" > "$work/$be-valgrind.out" 2> "$work/$be-valgrind.err"
		rc=$?
		# Not noise: anything but valgrind's notes on the ioctls and openat2 it does not know.
		grep -v '^--[0-9]*--\|^==[0-9]*== Warning: noted but unhandled ioctl\|^==[0-9]*==    \(This could cause\|See README_MISSING\)' \
			"$work/$be-valgrind.err" | sed 's/^/valgrind: /'
		[ $rc -eq 0 ] || fail "conformance on $be under valgrind: exit $rc"
		diff -u "$work/$be.out" "$work/$be-valgrind.out" || fail "$be under valgrind printed something else"
		echo "ok: $be under valgrind: no error, no leak, same output"
	else
		note "valgrind not installed: memcheck run skipped"
	fi
}
