#!/bin/bash
# The pin directory belongs to root and nobody else can write it: on a bpffs mounted
# 1777 (the kernel's default) an unprivileged user who creates it first could later
# unlink the link pins and so end enforcement. Such a directory, or a group- or
# world-writable one, is refused with the reason; unload touches only ioguard's pins.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs
trap 'policy_unload; rm -rf "$pins"' EXIT

pins=/sys/fs/bpf/ioguard-pin-dir-test
export IOGUARD_PIN_DIR=$pins
policy=$(write_policy pin-dir <<'POLICY'
name: pin-dir
mode: enforce
default: allow
tenants:
  - name: root
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
POLICY
)
[ "$(stat -c %a /sys/fs/bpf)" = 1777 ] || chmod 1777 /sys/fs/bpf

setpriv --reuid=65534 --regid=65534 --clear-groups mkdir -m 0777 "$pins" ||
	fail "an unprivileged user could not create $pins (the attack needs bpffs at 1777)"
if "$IOGUARD" load "$policy" > "$work/foreign.out" 2>&1; then
	fail "load pinned into a directory uid 65534 owns: $(cat "$work/foreign.out")"
fi
grep -q "owned by uid 65534" "$work/foreign.out" || fail "no reason given: $(cat "$work/foreign.out")"
note "refused: $(cat "$work/foreign.out")"
rmdir "$pins"

mkdir -m 0777 "$pins"
if "$IOGUARD" load "$policy" > "$work/writable.out" 2>&1; then
	fail "load pinned into a world-writable directory: $(cat "$work/writable.out")"
fi
note "refused: $(cat "$work/writable.out")"
rmdir "$pins"

policy_load "$policy"
[ "$(stat -c '%u %a' "$pins")" = "0 700" ] || fail "pin directory is $(stat -c '%u %a' "$pins")"
# A link pin removed (by root's rm, or an unload cut short) detaches its hook: the
# ioctls it judged go unjudged, and nothing may still call the policy in force.
"$IOGUARD" status --json | jq -e '.enforcing and .missing_hook == null' > /dev/null ||
	fail "the fresh load is not in force: $("$IOGUARD" status)"
rm "$pins/link_ioguard_file_ioctl" || fail "no link_ioguard_file_ioctl pin in $pins"
"$IOGUARD" status --json > "$work/unlinked.json" || fail "status failed with a link pin gone"
jq -e '(.enforcing | not) and .missing_hook == "ioguard_file_ioctl"' "$work/unlinked.json" > /dev/null ||
	fail "with file_ioctl's link gone, status says: $(cat "$work/unlinked.json")"
"$IOGUARD" metrics --once --no-trace > "$work/unlinked.prom" || fail "metrics failed with a link pin gone"
grep -qx 'ioguard_enforcement_active 0' "$work/unlinked.prom" ||
	fail "ioguard_enforcement_active with a link gone: $(grep '^ioguard_enforcement' "$work/unlinked.prom")"
grep -q '^ioguard_enforcement_policy_info' "$work/unlinked.prom" &&
	fail "a policy is reported in force with file_ioctl's link gone"
echo "ok: with link_ioguard_file_ioctl removed, status names it and nothing says the policy is in force"
policy_load "$policy"
"$IOGUARD" status --json | jq -e '.enforcing and .missing_hook == null' > /dev/null ||
	fail "load did not attach the missing hook again: $("$IOGUARD" status)"
echo "ok: load attached it again"
# A directory shared with something else keeps the other's entries on unload.
mkdir "$pins/other"
"$IOGUARD" unload || fail "unload failed"
[ -d "$pins/other" ] || fail "unload removed an entry that is not ioguard's"
ls "$pins" | grep -v '^other$' && fail "unload left pins behind"
rmdir "$pins/other" "$pins"

IOGUARD_PIN_DIR=relative-dir "$IOGUARD" load "$policy" > "$work/relative.out" 2>&1 &&
	fail "a relative IOGUARD_PIN_DIR was accepted"
rc=$(IOGUARD_PIN_DIR=relative-dir "$IOGUARD" load "$policy" > /dev/null 2>&1; echo $?)
[ "$rc" -lt 128 ] || fail "a relative IOGUARD_PIN_DIR crashed ioguard (exit $rc)"
grep -q "absolute path" "$work/relative.out" || fail "no reason: $(cat "$work/relative.out")"
note "relative pin directory refused: $(cat "$work/relative.out")"
