#!/bin/bash
# Missing privileges and environment: one line that says what is missing, exit 1, and
# nothing loaded. Runs on the host (root), so it uses an unprivileged uid and a pin
# directory outside bpffs to reach each check. Prints "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
policy=$(mktemp /tmp/ioguard-env-XXXXXX.yaml)
trap 'rm -f "$policy"' EXIT
printf 'name: env\nmode: enforce\ndefault: allow\n' > "$policy"
chmod 0644 "$policy"

if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	check_one_line "trace as an unprivileged user" 1 "needs root" \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$IOGUARD" trace
	check_one_line "load as an unprivileged user" 1 "needs root" \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$IOGUARD" load "$policy"
else
	echo "SKIP: unprivileged checks need root and setpriv"
fi
check_one_line "load with pins outside bpffs" 1 "bpffs is not mounted at /tmp" \
	env IOGUARD_PIN_DIR=/tmp/ioguard-not-bpffs "$IOGUARD" load "$policy"
check_one_line "unload with nothing loaded" 1 "nothing is loaded" \
	env IOGUARD_PIN_DIR=/tmp/ioguard-not-bpffs "$IOGUARD" unload
if [ "$(env IOGUARD_PIN_DIR=/tmp/ioguard-not-bpffs "$IOGUARD" status)" = \
     "not loaded: no ioguard policy is enforced" ]; then
	echo "ok status with nothing loaded"
else
	echo "not ok status with nothing loaded"
fi
