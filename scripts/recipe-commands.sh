#!/usr/bin/env bash
# Lists the commands the build, the tests and the lab call: every word (or absolute
# path) in command
# position in the Makefile's recipes (and its tool variables' defaults), scripts/,
# .ci/run and the shell scripts of tests/ (the lab guest's included: it runs in this
# machine's root), one "WORD FILE:LINE" line per word (its first use), sorted.
# Shell keywords, builtins and the scripts' own functions are left out; so are words
# no PATH lookup would find, like assignments. Python heredocs are skipped.
# Used by scripts/check-fresh.sh to find commands that resolve here but not in a fresh
# root after scripts/deps.sh.
#   recipe-commands.sh
set -euo pipefail
cd "$(dirname "$0")/.."

shopt -s nullglob
files=(scripts/*.sh .ci/run tests/vm/*.sh tests/vm/init tests/vm/*/*.sh tests/cli/*.sh tests/cli/lib.bash)

# The scripts' own functions ("name() {").
funcs=" $(cat "${files[@]}" | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)()[[:space:]]*{\{0,1\}.*$/\1/p' | sort -u | tr '\n' ' ') "

# Each line is cut at ; & | ( $( and `; in each piece, after the words that run the next
# one (then do else ! exec env xargs nice [-n N] timeout [OPTS] ARG command -v), the first
# word is a command unless an assignment (x= x+= x[), a function definition or a call
# (x(, inline Python) follows it. ${...} expansions are never commands.
{
	for f in "${files[@]}"; do
		awk -v f="$f" '
			/<<.?PY.?/ { print f ":" NR ":" $0; skip = 1; next }
			skip && /^PY$/ { skip = 0; next }
			!skip { print f ":" NR ":" $0 }' "$f"
	done
	awk '/^\t/ { print "Makefile:" NR ":" $0 }' Makefile
	# Tool variables: CLANG ?= clang and the like.
	awk '/^[A-Z_]+ \?= [a-z][a-z0-9.+-]*$/ { print "Makefile:" NR ":" $3 }' Makefile
} | sed -E 's/\$\{[^}]*\}/V/g; s/([A-Za-z0-9_])\(/\1=(/g' | awk '
	function found(w) { if (!(w in seen)) { seen[w] = where; print w, where } }
	{
		i = index($0, ":"); f = substr($0, 1, i - 1); rest = substr($0, i + 1)
		i = index(rest, ":"); where = f ":" substr(rest, 1, i - 1); text = substr(rest, i + 1)
		if (text ~ /^[ \t]*#/) next
		gsub(/\$\(Q\)|\$\(call [^)]*\)/, "", text)
		gsub(/\$\(/, ";", text)
		gsub(/[;&|(){`]/, ";", text)
		n = split(text, piece, ";")
		for (k = 1; k <= n; k++) {
			p = piece[k]
			for (;;) {
				sub(/^[ \t]+/, "", p)
				if (sub(/^(then|do|else|!|exec)([ \t]|$)/, "", p)) continue
				if (sub(/^env([ \t]|$)/, "", p)) { found("env"); continue }
				if (sub(/^xargs([ \t]|$)/, "", p)) { found("xargs"); continue }
				if (sub(/^nice([ \t]+-n[ \t]*-?[0-9]+)?([ \t]|$)/, "", p)) { found("nice"); continue }
				if (sub(/^timeout([ \t]+-[-a-z=0-9]+)*[ \t]+[^ \t]+([ \t]|$)/, "", p)) { found("timeout"); continue }
				if (sub(/^command[ \t]+-v([ \t]|$)/, "", p)) continue
				break
			}
			if (match(p, /^\/[A-Za-z0-9_.\/+-]*[A-Za-z0-9]/)) { found(substr(p, 1, RLENGTH)); continue }
			if (!match(p, /^[A-Za-z_][A-Za-z0-9_.+-]*/)) continue
			w = substr(p, 1, RLENGTH)
			if (substr(p, RLENGTH + 1, 1) ~ /[=+[(]/) continue
			found(w)
		}
	}' | while read -r word where; do
	case "$funcs" in *" $word "*) continue ;; esac
	case "$(type -t "$word" 2>/dev/null)" in builtin|keyword) continue ;; esac
	echo "$word $where"
done | sort -k1,1 -u
