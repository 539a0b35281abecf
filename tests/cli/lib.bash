# Helpers of the command-line tests (sourced; not a test itself, hence not *.sh).
# Each check prints "ok NAME" or "not ok NAME: why", the lines scripts/run-unit.sh counts.
: "${IOGUARD:?IOGUARD must point at the ioguard binary}"

# _check LINES NAME WANT_RC WANT_SUBSTRING CMD...: LINES is "any" or "one".
_check() {
	local lines=$1 name=$2 want_rc=$3 want=$4 out rc
	shift 4
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq "$want_rc" ] && grep -qF -- "$want" <<< "$out" &&
	   { [ "$lines" = any ] || [ "$(wc -l <<< "$out")" -eq 1 ]; }; then
		echo "ok $name"
	else
		echo "not ok $name: exit $rc (want $want_rc), stderr: $out"
	fi
}

# check NAME WANT_RC WANT_STDERR_SUBSTRING CMD...
check() { _check any "$@"; }
# check_one_line NAME WANT_RC WANT_STDERR_SUBSTRING CMD...: and stderr is one line
check_one_line() { _check one "$@"; }

# help_text CMD: `ioguard CMD --help` ("top": `ioguard --help`), stderr included.
help_text() {
	if [ "$1" = top ]; then "$IOGUARD" --help 2>&1; else "$IOGUARD" "$1" --help 2>&1; fi
}

# help_options CMD: the options of its --help, one token a line: "-s" or "--json", with
# "=" appended when the option takes an argument ("-s=", "--sysfs="). Options are the
# lines indented by at most 8 spaces that start with "-X, --long" or "--long" (deeper
# lines continue a description). An argument is one space and an upper-case word after
# the option; the description is two or more spaces away.
help_options() {
	help_text "$1" | sed -nE 's/^ {1,8}((-[A-Za-z0-9]), )?(--[a-z][a-z0-9-]*)( [A-Z[][^ ]*)?( {2,}.*)?$/\2 \3 \4/p' |
	while read -r a b c; do
		local short= long arg=
		if [ -n "$b" ] && [ "${a#--}" = "$a" ]; then short=$a long=$b arg=$c; else long=$a arg=$b; fi
		[ -n "$arg" ] && arg==
		[ -n "$short" ] && echo "$short$arg"
		echo "$long$arg"
	done | sort -u
}

# result NAME STATUS [WHY]: "ok NAME" when STATUS is 0, else "not ok NAME: WHY"; counted
# for finish, which prints the "N passed, N failed" line and exits 1 on a failure.
passed=0 failed=0
result() {
	if [ "$2" = 0 ]; then echo "ok $1"; passed=$((passed + 1))
	else echo "not ok $1: $3"; failed=$((failed + 1)); fi
}
finish() { echo "$passed passed, $failed failed"; exit $((failed > 0)); }
