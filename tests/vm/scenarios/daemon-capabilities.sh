#!/bin/bash
# The shipped systemd unit works as shipped: with exactly its capability bounding set
# (read from docs/systemd/ioguard.service), root can load and unload a policy. Without
# CAP_SYSLOG, /proc/kallsyms hides addresses (perf_event_paranoid > 1) and the load
# fails with a message that names CAP_SYSLOG, leaving nothing half-loaded.
. "$REPO/tests/vm/lib.sh"
skip_where_only_the_container_differs
trap 'policy_unload' EXIT

unit="$REPO/docs/systemd/ioguard.service"
caps=$(unit_setting CapabilityBoundingSet "$unit")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in $unit"
policy=$(write_policy caps <<'POLICY'
name: caps
mode: enforce
default: allow
tenants:
  - name: root
    match: { uid: 0 }
    devices: [ { id: "1234:11e8" } ]
POLICY
)
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
note "unit capabilities: $caps; perf_event_paranoid $paranoid, kptr_restrict $(cat /proc/sys/kernel/kptr_restrict)"
# shellcheck disable=SC2086
setpriv --bounding-set "$(bounding_set $caps)" "$IOGUARD" load "$policy" > "$work/unit.out" 2>&1 ||
	fail "load with the unit's capabilities failed: $(cat "$work/unit.out")"
"$IOGUARD" status --json | grep -q '"enforcing":true' || fail "not enforcing after the load"
# shellcheck disable=SC2086
setpriv --bounding-set "$(bounding_set $caps)" "$IOGUARD" unload > /dev/null 2>&1 ||
	fail "unload with the unit's capabilities failed"
note "load and unload work with exactly the unit's capabilities"

[ "$paranoid" -gt 1 ] || { echo 2 > /proc/sys/kernel/perf_event_paranoid; }
without=$(echo "$caps" | tr ' ' '\n' | grep -v '^CAP_SYSLOG$' | tr '\n' ' ')
# shellcheck disable=SC2086
if setpriv --bounding-set "$(bounding_set $without)" "$IOGUARD" load "$policy" > "$work/nosyslog.out" 2>&1; then
	fail "load without CAP_SYSLOG succeeded; the test proves nothing here"
fi
grep -q "CAP_SYSLOG" "$work/nosyslog.out" || fail "the refusal does not name CAP_SYSLOG: $(cat "$work/nosyslog.out")"
"$IOGUARD" status --json | grep -q '"programs":\[\]' || fail "a refused load left programs pinned"
note "without CAP_SYSLOG: $(cat "$work/nosyslog.out")"
echo "$paranoid" > /proc/sys/kernel/perf_event_paranoid
