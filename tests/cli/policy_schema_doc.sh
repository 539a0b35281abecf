#!/usr/bin/env bash
# docs/policy.md and src/ioguard/policy/policy_schema.c describe one format: every table of keys
# in the schema (*_keys[]) has its section in the document, with the same keys in the
# same order and, where the document has a "required" column, the same answer.
. "$(dirname "$0")/lib.bash"

schema=src/ioguard/policy/policy_schema.c doc=docs/policy.md

# keys_of TABLE: "KEY yes|no" a line, from `static const struct key TABLE[] = { ... };`.
keys_of() {
	sed -n "/^static const struct key $1\[\] = {/,/^};/p" "$schema" |
	sed -nE 's/^\s*\{ "([a-z_0-9]+)", (true|false), [a-z_0-9]+ \},?$/\1 \2/p' |
	sed 's/ true$/ yes/; s/ false$/ no/'
}

# section HEADING: the lines of the document's "### HEADING" up to the next heading.
section() {
	awk -v h="### $1" '$0 == h { on = 1; next } on && /^#/ { exit } on' "$doc"
}

# table_of HEADING: "KEY yes|no|-" a line, from the section's table of keys.
table_of() {
	section "$1" | sed -nE 's/^\| `([a-z_0-9]+)` \| ([^|]*) \|.*/\1 \2/p' |
	while read -r key second; do
		case $second in yes|no) echo "$key $second" ;; *) echo "$key -" ;; esac
	done
}

# compare TABLE HEADING: the schema's keys against the section's table.
compare() {
	local want got
	want=$(keys_of "$1")
	got=$(table_of "$2")
	[ -n "$want" ]
	result "$schema has the table $1" $? "no 'static const struct key $1[]' with keys"
	# A table without a "required" column says nothing about it: compare the keys only.
	if ! grep -qv ' -$' <<< "$got"; then
		want=$(sed 's/ .*//' <<< "$want") got=$(sed 's/ .*//' <<< "$got")
	fi
	[ "$want" = "$got" ]
	result "$1 matches the table of '### $2' in $doc" $? \
		"schema: $(tr '\n' ' ' <<< "$want")/ document: $(tr '\n' ' ' <<< "$got")"
}

compare policy_keys "Policy (the document's top-level mapping)"
compare tenant_keys 'Tenant (an item of `tenants`)'
compare match_keys '`match`'
compare selector_keys 'Device selector (an item of `devices`)'

# The window's keys are prose ("Either `start` and `end` ... or `base` and `size`").
text=$(section 'IOVA window (an item of `iova_windows`)')
missing=
for key in $(keys_of window_keys | sed 's/ .*//'); do
	grep -qF "\`$key\`" <<< "$text" || missing="$missing $key"
done
[ -n "$(keys_of window_keys)" ] && [ -z "$missing" ]
result "window_keys are the keys named in '### IOVA window' of $doc" $? \
	"not in the document:${missing:- (no window_keys in $schema)}"

# Every table is checked: a new *_keys[] needs its line above.
tables=$(sed -nE 's/^static const struct key ([a-z_]+_keys)\[\] = \{$/\1/p' "$schema" | sort | tr '\n' ' ')
[ "$tables" = "match_keys policy_keys selector_keys tenant_keys window_keys " ]
result "every table of keys in $schema is compared with $doc" $? "tables: $tables"

finish
