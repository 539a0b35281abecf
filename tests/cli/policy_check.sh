#!/usr/bin/env bash
# ioguard policy check refuses what the enforcement programs cannot hold, as load does.
. "$(dirname "$0")/lib.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# uids 0..N-1 in one tenant
many() {
	printf 'name: many\nmode: enforce\ndefault: deny\ntenants:\n'
	printf '  - name: t\n    devices: [ { group: 1 } ]\n    match:\n      uid: [%s]\n' \
		"$(seq -s ', ' 0 $(($1 - 1)))"
}
many 2048 > "$tmp/at-limit.yaml"
many 2049 > "$tmp/over-limit.yaml"

check_one_line "match criteria over half the match table are refused" 1 \
	"over-limit.yaml: error: 2049 match criteria (uid, gid, cgroup and exe values together); a policy holds at most 2048" \
	"$IOGUARD" policy check --no-owner-check --sysfs tests/fixtures/sysfs/q35-one-vfio "$tmp/over-limit.yaml"
check "match criteria at the limit pass" 0 "" \
	"$IOGUARD" policy check --no-owner-check --sysfs tests/fixtures/sysfs/q35-one-vfio "$tmp/at-limit.yaml"
