#!/bin/bash
# Argument errors of `ioguard run`, the daemon: exit code 2 and a one-line cause, before
# any BPF program or policy is loaded. Prints TAP-style "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"

check "run without policy" 2 "run needs --policy FILE" "$IOGUARD" run
check "run unknown flag" 2 "unknown option '--bogus'" "$IOGUARD" run --policy p --bogus
check "run missing policy argument" 2 "option '--policy' needs an argument" "$IOGUARD" run --policy
check "run stray argument" 2 "unexpected argument 'extra'" "$IOGUARD" run --policy p extra
check "run bad listen" 2 "invalid listen address '1.2.3'" "$IOGUARD" run --policy p --listen 1.2.3
check "run bad listen v6" 2 "needs brackets" "$IOGUARD" run --policy p --listen ::1:9464
check "run bad port" 2 "invalid listen address" "$IOGUARD" run --policy p --listen 127.0.0.1:99999
check "run interval without textfile" 2 "it needs --textfile" "$IOGUARD" run --policy p --interval 5
check "run bad interval" 2 "invalid --interval '0'" "$IOGUARD" run --policy p --textfile /tmp/x.prom --interval 0
check "run bad sample" 2 "invalid --sample 'x'" "$IOGUARD" run --policy p --sample x
check "run sample without events" 2 "pick one" "$IOGUARD" run --policy p --no-events --sample 10
check "run bad mode" 2 "invalid --mode 'kprobe'" "$IOGUARD" run --policy p --mode kprobe
if "$IOGUARD" run --help 2>&1 | grep -q -- '--unload-on-exit'; then echo "ok run help"; else echo "not ok run help"; fi
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	# Past the arguments, a missing policy file fails before anything is loaded.
	check "run missing policy file" 1 "cannot open: No such file or directory; the policy in force is unchanged" \
		"$IOGUARD" run --policy /nonexistent/ioguard.yaml
fi
if IOGUARD_RUN_DIR=/tmp/ioguard-cli-run "$IOGUARD" run --help 2>&1 |
	grep -qF 'socket /tmp/ioguard-cli-run/decisions.sock'; then
	echo "ok run help names the decision feed socket"
else
	echo "not ok run help names the decision feed socket"
fi
