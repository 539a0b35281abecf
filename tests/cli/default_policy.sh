#!/usr/bin/env bash
# policies/default.yaml, the package's /etc/ioguard/policy.yaml, is a valid policy that
# enforces nothing: audit mode, devices no tenant owns allowed, no tenants, only the
# kernel's own viability rule.
. "$(dirname "$0")/lib.bash"

policy=policies/default.yaml
for sysfs in tests/fixtures/sysfs/q35-one-vfio tests/fixtures/sysfs/q35-host; do
	out=$("$IOGUARD" policy check --no-owner-check --sysfs "$sysfs" "$policy" 2>&1)
	result "policy check of $policy on $(basename "$sysfs")" $? "$out"
done
out=$("$IOGUARD" --json policy check --no-owner-check \
	--sysfs tests/fixtures/sysfs/q35-one-vfio "$policy" 2>&1)
for field in '"ok":true' '"mode":"audit"' '"default":"allow"' '"viability":"kernel"' \
	'"tenants":0'; do
	grep -qF "$field" <<< "$out"
	result "$policy has $field" $? "$out"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
