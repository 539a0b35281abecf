#!/bin/bash
# `ioguard doctor`: usage errors exit 2 with one line; on the fake hosts of
# tests/fixtures/host the exit status says whether enforcement can run (0 none failed,
# 1 some check failed), and --json is one document with the same verdicts, after the
# command or before it. Prints "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
hosts="$(cd "$(dirname "$0")/../fixtures/host" && pwd)"

check_one_line "doctor with an unknown option" 2 "unknown option '--bogus'" "$IOGUARD" doctor --bogus
check_one_line "doctor with an argument" 2 "doctor takes no arguments" "$IOGUARD" doctor now
check_one_line "doctor --root on a missing directory" 2 "--root /nonexistent-root" \
	"$IOGUARD" doctor --root /nonexistent-root

# expect_exit NAME WANT_RC CMD...: the status only; stdout and stderr are not judged.
expect_exit() {
	local name=$1 want=$2 rc
	shift 2
	"$@" > /dev/null 2>&1
	rc=$?
	if [ $rc -eq "$want" ]; then echo "ok $name"; else echo "not ok $name: exit $rc, want $want"; fi
}
expect_exit "doctor on a host where enforcement can run" 0 "$IOGUARD" doctor --root "$hosts/lsm-ok"
expect_exit "doctor on a host without the BPF LSM" 1 "$IOGUARD" doctor --root "$hosts/no-bpf-lsm"
expect_exit "doctor on a host with pcie_acs_override" 1 "$IOGUARD" doctor --root "$hosts/acs-override"
expect_exit "doctor on a host with identity domains (a warning)" 0 \
	"$IOGUARD" doctor --root "$hosts/identity-domain"

# json_has NAME JSON_OPTION_PLACE: the document parses and says bpf_lsm FAIL with the fix.
json_has() {
	local name=$1 out
	shift
	out=$("$@" 2>/dev/null)
	if python3 -c '
import json, sys
doc = json.loads(sys.stdin.read())
c = {c["name"]: c for c in doc["checks"]}["bpf_lsm"]
assert doc["enforcement_ok"] is False and c["status"] == "FAIL", c
assert "lsm=lockdown,capability,landlock,yama,apparmor,bpf" in c["fix"], c["fix"]
assert doc["counts"]["FAIL"] == sum(x["status"] == "FAIL" for x in doc["checks"])
' <<< "$out"; then
		echo "ok $name"
	else
		echo "not ok $name: $out"
	fi
}
json_has "doctor --json" "$IOGUARD" doctor --json --root "$hosts/no-bpf-lsm"
json_has "--json doctor" "$IOGUARD" --json doctor --root "$hosts/no-bpf-lsm"

# Text: one line per check and fix, then the summary line last.
last=$("$IOGUARD" doctor --root "$hosts/lsm-ok" | tail -n 1)
if grep -Eq '^[0-9]+ OK, [0-9]+ INFO, 0 WARN, 0 FAIL: enforcement can run' <<< "$last"; then
	echo "ok doctor's summary line"
else
	echo "not ok doctor's summary line: $last"
fi
