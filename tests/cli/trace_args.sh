#!/bin/bash
# Argument errors of `ioguard trace` and the global options: exit code 2 and a one-line
# cause, before any BPF is loaded. Prints TAP-style "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"

check "unknown command" 2 "unknown command 'frobnicate'" "$IOGUARD" frobnicate
check "unknown global flag" 2 "Usage:" "$IOGUARD" --frob
check "no command" 2 "Usage:" "$IOGUARD"
check "trace unknown flag" 2 "unknown option '--bogus'" "$IOGUARD" trace --bogus
check "trace bad mode" 2 "invalid --mode 'kprobe'" "$IOGUARD" trace --mode kprobe
check "trace bad pid" 2 "invalid --pid 'abc'" "$IOGUARD" trace --pid abc
check "trace negative duration" 2 "invalid --duration '-1'" "$IOGUARD" trace --duration -1
check "trace stray argument" 2 "unexpected argument 'extra'" "$IOGUARD" trace extra
if "$IOGUARD" --version | grep -q '^ioguard [0-9]'; then echo "ok version"; else echo "not ok version"; fi
check "trace missing argument" 2 "option '--pid' needs an argument" "$IOGUARD" trace --pid
check "trace zero pid" 2 "invalid --pid '0'" "$IOGUARD" trace --pid 0
check "trace bad group" 2 "invalid --group 'x'" "$IOGUARD" trace --group x
check "trace negative group" 2 "invalid --group '-3'" "$IOGUARD" trace --group -3
check "trace bad device" 2 "invalid --device 'eth0'" "$IOGUARD" trace --device eth0
check "trace device out of range" 2 "invalid --device '00:20.0'" "$IOGUARD" trace --device 00:20.0
check "trace unknown op" 2 "unknown op 'mapp'" "$IOGUARD" trace --op map,mapp
check "trace empty op list" 2 "invalid --op ','" "$IOGUARD" trace --op ,
check "trace sample zero" 2 "invalid --sample '0'" "$IOGUARD" trace --sample 0
check "trace sample too large" 2 "invalid --sample '1000001'" "$IOGUARD" trace --sample 1000001
check "trace sample not a number" 2 "invalid --sample '1e3'" "$IOGUARD" trace --sample 1e3
check "metrics bad mode" 2 "invalid --mode 'x'" "$IOGUARD" metrics --mode x
check "metrics mode with no-trace" 2 "cannot be combined with --no-trace" "$IOGUARD" metrics --no-trace --mode tp_btf
if IOGUARD_RUN_DIR=/tmp/ioguard-cli-run "$IOGUARD" trace --help 2>&1 |
	grep -qF 'socket /tmp/ioguard-cli-run/decisions.sock'; then
	echo "ok trace help names the decision feed socket"
else
	echo "not ok trace help names the decision feed socket"
fi
