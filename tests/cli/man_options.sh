#!/bin/bash
# The man pages against the binary: for the top level and every command, each option the
# command accepts is documented in its page (man/ioguard[-CMD].8.scd, OPTIONS section)
# and each option the page documents is accepted, with the same argument-taking. What a
# command accepts is what `ioguard [CMD] --help` lists, cross-checked against the source
# (the getopt_long tables and option strings, and the options a command compares by hand)
# so that an option --help forgets fails too. Then every page renders with scdoc.
# Options are compared as tokens: "-s" or "--json", with "=" appended when the option
# takes an argument ("-s=", "--sysfs=").
set -u
. "$(dirname "$0")/lib.bash"
repo=$(cd "$(dirname "$0")/../.." && pwd)
src=$repo/src/ioguard/cli
man=$repo/man

# Where each command parses its options: FILE:FUNCTION. "top" is the global options.
declare -A parser=(
	[top]=main.c:main
	[doctor]=cmd_doctor.c:do_doctor
	[trace]=cmd_trace.c:parse_args
	[policy]=cmd_policy.c:do_check
	[load]=cmd_enforce.c:do_load
	[unload]=cmd_enforce.c:do_unload
	[status]=cmd_enforce.c:do_status
	[groups]=cmd_groups.c:parse_args
	[plan]=cmd_plan.c:parse_args
	[metrics]=cmd_metrics.c:parse_args
	[run]=cmd_run.c:parse_args
)

page_of() { [ "$1" = top ] && echo "$man/ioguard.8.scd" || echo "$man/ioguard-$1.8.scd"; }

# The body of FUNCTION in FILE: from its definition line to the closing brace in column 0.
function_body() {
	awk -v fn="$2" '
		!in_fn && $0 ~ "^[a-z].*[ *]" fn "\\(" && $0 !~ /;$/ { in_fn = 1 }
		in_fn { print }
		in_fn && /^}/ { exit }' "$src/$1"
}

# The options the source accepts: struct option entries, the getopt_long option string,
# and strcmp(argv[N], "-x") comparisons of commands that parse by hand.
source_options() {
	local body optstring i c
	body=$(function_body "${parser[$1]%%:*}" "${parser[$1]#*:}")
	sed -nE 's/.*\{ *"([a-z0-9-]+)", *(no|required|optional)_argument.*/--\1 \2/p' <<< "$body" |
		while read -r name kind; do
			[ "$kind" = no ] && echo "$name" || echo "$name="
		done
	optstring=$(sed -nE 's/.*getopt_long\([^"]*"([^"]*)".*/\1/p' <<< "$body")
	optstring=${optstring#[:+]}
	for ((i = 0; i < ${#optstring}; i++)); do
		c=${optstring:i:1}
		[ "$c" = : ] && continue
		[ "${optstring:i+1:1}" = : ] && echo "-$c=" || echo "-$c"
	done
	grep -oE 'strcmp\(argv\[[0-9]+\], "-[^"]+"\)' <<< "$body" | sed -E 's/.*"(-[^"]+)".*/\1/'
} 2>/dev/null

# The options a page documents: the terms of its OPTIONS section ("*-s*, *--sysfs* _DIR_").
man_options() {
	awk '/^# /{ in_opts = ($0 == "# OPTIONS") } in_opts && /^\*-/' "$1" |
	while read -r line; do
		local arg=
		[[ $line =~ \*\ _ ]] && arg==
		grep -oE '\*--?[A-Za-z0-9][a-z0-9-]*\*' <<< "$line" | tr -d '*' | sed "s/\$/$arg/"
	done | sort -u
}

# compare NAME WHAT_A LIST_A WHAT_B LIST_B: every token of A is in B.
compare() {
	local name=$1 what_a=$2 a=$3 what_b=$4 b=$5 missing
	missing=$(comm -23 <(echo "$a" | sed '/^$/d' | sort -u) <(echo "$b" | sed '/^$/d' | sort -u))
	if [ -z "$missing" ]; then
		echo "ok $name"
	else
		echo "not ok $name: $(echo $missing | sed 's/ /, /g') in $what_a, not in $what_b" \
			"$(grep -q = <<< "$missing" && echo '(X= takes an argument)')"
	fi
}

# The commands: --help lists the command table of main.c, and every one has a parser
# entry above, a page, and a line in ioguard(8)'s COMMANDS.
help_cmds=$("$IOGUARD" --help 2>&1 | awk '/^Commands:/{ c = 1; next } c && /^  [a-z]/{ print $1 }' | sort)
table_cmds=$(sed -nE 's/^\s*\{ "([a-z-]+)", do_[a-z_]+, ".*/\1/p' "$src/main.c" | sort)
compare "every command of main.c is in ioguard --help" "main.c's commands[]" "$table_cmds" \
	"ioguard --help" "$help_cmds"
compare "every command of ioguard --help is in main.c" "ioguard --help" "$help_cmds" \
	"main.c's commands[]" "$table_cmds"
top_cmds=$(awk '/^# /{ c = ($0 == "# COMMANDS") } c && /^\*[a-z]/' "$man/ioguard.8.scd" |
	sed -E 's/^\*([a-z-]+).*/\1/' | sort -u)
compare "man/ioguard.8.scd lists every command" "ioguard --help" "$help_cmds" \
	"man/ioguard.8.scd (COMMANDS)" "$top_cmds"
for cmd in $help_cmds; do
	if [ -z "${parser[$cmd]:-}" ]; then
		echo "not ok command $cmd: no entry in this test's parser table (tests/cli/man_options.sh)"
	elif [ ! -f "$(page_of "$cmd")" ]; then
		echo "not ok command $cmd: no man page man/ioguard-$cmd.8.scd"
	fi
done

# Subcommands (a struct cmd table in src/ioguard/cli/cmd_CMD.c, as `policy check`): each is in
# the synopsis of man/ioguard-CMD.8.scd.
for f in "$src"/cmd_*.c; do
	cmd=$(basename "$f" .c)
	cmd=${cmd#cmd_}
	for sub in $(sed -n '/struct cmd [a-z_]*\[\]/,/{ 0 }/p' "$f" | sed -nE 's/^\s*\{ "([a-z-]+)", .*/\1/p'); do
		if grep -q "^\*ioguard\*.*\*$cmd $sub\*" "$man/ioguard-$cmd.8.scd" 2>/dev/null; then
			echo "ok man/ioguard-$cmd.8.scd has ioguard $cmd $sub"
		else
			echo "not ok man/ioguard-$cmd.8.scd: no synopsis of the subcommand ioguard $cmd $sub"
		fi
	done
done

# Every option table of the source is one this test reads.
tables=0 mapped=0
for f in "$src"/*.c; do
	while read -r fn; do
		tables=$((tables + 1))
		if printf '%s\n' "${parser[@]}" | grep -qx "$(basename "$f"):$fn"; then
			mapped=$((mapped + 1))
		else
			echo "not ok $(basename "$f"): $fn() has a struct option table this test does not read"
		fi
	done < <(awk '/^[a-z].*[ *][a-z_]+\(/ && !/;$/ { fn = $0; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn) }
		/struct option [a-z_]+\[\]/ { print fn }' "$f")
done
[ "$tables" -eq "$mapped" ] && echo "ok all $tables struct option tables are read"

for cmd in top $help_cmds; do
	[ -n "${parser[$cmd]:-}" ] || continue
	page=$(page_of "$cmd")
	name=${page#"$repo"/}
	label=$([ "$cmd" = top ] && echo "ioguard --help" || echo "ioguard $cmd --help")
	from_help=$(help_options "$cmd")
	from_source=$(source_options "$cmd")
	if [ -z "$from_source" ]; then
		echo "not ok $cmd: no options found in ${parser[$cmd]} (has the parser moved?)"
		continue
	fi
	compare "$label lists every option of ${parser[$cmd]}" "src/ioguard/cli/${parser[$cmd]%%:*}" \
		"$from_source" "$label" "$from_help"
	compare "$label lists no option ${parser[$cmd]} lacks" "$label" "$from_help" \
		"src/ioguard/cli/${parser[$cmd]%%:*}" "$from_source"
	if [ ! -f "$page" ]; then
		echo "not ok $name: missing"
		continue
	fi
	from_man=$(man_options "$page")
	compare "$name documents every option of $label" "$label" "$from_help" "$name" "$from_man"
	compare "$name documents only options of $label" "$name" "$from_man" "$label" "$from_help"
done

if command -v scdoc >/dev/null; then
	for page in "$man"/*.scd; do
		if err=$(scdoc < "$page" 2>&1 >/dev/null); then
			echo "ok scdoc renders man/$(basename "$page")"
		else
			echo "not ok scdoc renders man/$(basename "$page"): $err"
		fi
	done
else
	echo "SKIP scdoc rendering: scdoc is missing (scripts/deps.sh installs it)"
fi
