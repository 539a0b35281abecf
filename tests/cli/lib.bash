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
