#!/bin/bash
# Every command parses its options in one style: an unknown option and a missing
# argument end in one line naming the option and the command's --help, exit status 2;
# --mode is one parser for trace, metrics and run; a stray argument of unload and status
# keeps its own message. Nothing here gets past the arguments. Prints "ok"/"not ok"
# lines and a "N passed, N failed" summary.
set -u
. "$(dirname "$0")/lib.bash"

# expect NAME WANT_RC WANT_STDERR_SUBSTRING CMD...: and stderr is one line.
expect() {
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq "$want_rc" ] && grep -qF -- "$want" <<< "$out" && [ "$(wc -l <<< "$out")" -eq 1 ]; then
		result "$name" 0
	else
		result "$name" 1 "exit $rc (want $want_rc), stderr: $out"
	fi
}

for cmd in doctor trace load unload status groups plan metrics run "policy check"; do
	# shellcheck disable=SC2086 # "policy check" is two words
	expect "$cmd: an unknown option" 2 "unknown option '--bogus'; see 'ioguard $cmd --help'" \
		"$IOGUARD" $cmd --bogus
done

# A missing argument, as the last word of the command line: COMMAND WORDS|OPTION.
while IFS='|' read -r words option; do
	# shellcheck disable=SC2086
	expect "$words: $option without its argument" 2 \
		"option '$option' needs an argument; see 'ioguard $words --help'" \
		"$IOGUARD" $words "$option"
done <<'CASES'
doctor|--root
trace|--mode
metrics|--listen
run|--listen
groups|--sysfs
plan|--sysfs
plan|-a
policy check|--sysfs
CASES

for cmd in trace metrics "run --policy p"; do
	# shellcheck disable=SC2086
	expect "${cmd%% *}: an unknown --mode" 2 \
		"invalid --mode 'kprobe': expected auto, fentry or tp_btf" "$IOGUARD" $cmd --mode kprobe
done

expect "status: a stray argument" 2 "unknown argument 'now'; see 'ioguard status --help'" \
	"$IOGUARD" status now
expect "unload: a stray argument" 2 "unload takes no arguments" "$IOGUARD" unload now

# The global options: the same line, then the usage.
out=$("$IOGUARD" --bogus 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 2 ] && [ "$(head -n 1 <<< "$out")" = \
	"ioguard: error: unknown option '--bogus'; see 'ioguard --help'" ] &&
   grep -q '^Usage:' <<< "$out"; then
	result "top level: an unknown option, then the usage" 0
else
	result "top level: an unknown option, then the usage" 1 "exit $rc, stderr: $out"
fi
finish
